//! A workflow run's (or job's) status and conclusion, as GitHub names them, mapped once where
//! GitHub's JSON is read. Names the tool has no rule for keep their text in `Other`.

use std::fmt;

/// Where a run or job is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RunStatus {
    Completed,
    InProgress,
    Queued,
    /// `requested`, `waiting`, `pending`, or a name GitHub adds later.
    Other(String),
    /// GitHub gave none.
    #[default]
    Unknown,
}

/// How a completed run or job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conclusion {
    Success,
    Failure,
    Cancelled,
    /// Not run: a build job skipped on purpose (TheRock's Quartz notifications off release runs,
    /// a stage reused from a baseline) still vouches for its run's archives.
    Skipped,
    /// `timed_out`, `neutral`, `action_required`, `stale`, ...
    Other(String),
}

impl RunStatus {
    pub fn parse(s: Option<&str>) -> RunStatus {
        match s {
            None => RunStatus::Unknown,
            Some("completed") => RunStatus::Completed,
            Some("in_progress") => RunStatus::InProgress,
            Some("queued") => RunStatus::Queued,
            Some(o) => RunStatus::Other(o.to_string()),
        }
    }

    /// GitHub's name (`None` when GitHub gave none).
    pub fn name(&self) -> Option<&str> {
        Some(match self {
            RunStatus::Completed => "completed",
            RunStatus::InProgress => "in_progress",
            RunStatus::Queued => "queued",
            RunStatus::Other(s) => s,
            RunStatus::Unknown => return None,
        })
    }

    pub fn is_completed(&self) -> bool {
        *self == RunStatus::Completed
    }
}

impl Conclusion {
    pub fn parse(s: Option<&str>) -> Option<Conclusion> {
        Some(match s? {
            "success" => Conclusion::Success,
            "failure" => Conclusion::Failure,
            "cancelled" => Conclusion::Cancelled,
            "skipped" => Conclusion::Skipped,
            o => Conclusion::Other(o.to_string()),
        })
    }

    /// GitHub's name.
    pub fn name(&self) -> &str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
            Conclusion::Other(s) => s,
        }
    }
}

impl fmt::Display for Conclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Conclusion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_kept() {
        for n in ["completed", "in_progress", "queued", "waiting"] {
            assert_eq!(RunStatus::parse(Some(n)).name(), Some(n));
        }
        assert_eq!(RunStatus::parse(None), RunStatus::Unknown);
        for n in ["success", "failure", "cancelled", "timed_out"] {
            assert_eq!(Conclusion::parse(Some(n)).unwrap().name(), n);
        }
        assert_eq!(Conclusion::parse(Some("timed_out")), Some(Conclusion::Other("timed_out".into())));
    }
}
