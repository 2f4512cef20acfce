//! Which runs supply which artifact group: a group's hit in one run listing, and the rule that
//! combines the runs of one commit (newest first) into one answer per requested group.

use std::sync::Arc;

use super::artifacts::{ArtifactName, RunListing};
use super::buckets::{Repo, RunLocation};
use super::families::ArtifactGroup;
use super::rejection::{Gap, Rejection, RunRejection};
use super::run::Run;

/// A group found in one run.
#[derive(Debug, Clone)]
pub struct Hit {
    pub group: ArtifactGroup,
    pub repo: Repo,
    pub run: Run,
    pub location: RunLocation,
    pub listing: Arc<RunListing>,
    /// The group's archives (generic and target-specific), sorted by filename.
    pub archives: Vec<(ArtifactName, u64)>,
    /// The `--require-artifact` patterns, and those no archive of the group matched.
    pub required: Vec<String>,
    pub missing: Vec<String>,
    /// For a super-repo run: the TheRock commit it built against, when its manifest says.
    pub therock_commit: Option<String>,
}

impl Hit {
    /// The group's hit in a run listing, if the listing holds at least one target-specific
    /// archive of it (a generic-only listing proves nothing about a GPU group).
    pub fn in_listing(
        group: &ArtifactGroup,
        repo: &Repo,
        run: &Run,
        location: &RunLocation,
        listing: &Arc<RunListing>,
        required: &[(String, regex::Regex)],
    ) -> Option<Hit> {
        if !listing.has_group(group) {
            return None;
        }
        let archives: Vec<(ArtifactName, u64)> = listing.for_group(group).into_iter().cloned().collect();
        let missing = required.iter().filter(|(_, re)| !archives.iter().any(|(a, _)| re.is_match(&a.filename))).map(|(s, _)| s.clone()).collect();
        Some(Hit {
            group: group.clone(),
            repo: repo.clone(),
            run: run.clone(),
            location: location.clone(),
            listing: listing.clone(),
            archives,
            required: required.iter().map(|(s, _)| s.clone()).collect(),
            missing,
            therock_commit: None,
        })
    }

    /// Every required pattern matched.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// One requested group: its complete hit, or the best partial one (required patterns missing).
#[derive(Debug, Clone)]
pub struct Slot {
    pub group: ArtifactGroup,
    pub hit: Option<Hit>,
    pub partial: Option<Hit>,
}

/// What was found for one commit (or nothing, with the reason in `note`).
#[derive(Debug, Clone)]
pub struct Found {
    pub repo: Repo,
    pub workflow: String,
    /// The commit whose artifacts these are (None: nothing resolved, e.g. `latest` found none).
    pub commit: Option<String>,
    pub slots: Vec<Slot>,
    /// Why nothing was found, for the human message.
    pub note: Option<String>,
}

impl Found {
    pub fn found(&self) -> bool {
        !self.slots.is_empty() && self.slots.iter().all(|s| s.hit.is_some())
    }
    /// What the runs of `commit` supplied.
    pub fn at(repo: Repo, workflow: String, commit: String, slots: Vec<Slot>) -> Found {
        Found { repo, workflow, commit: Some(commit), slots, note: None }
    }
    /// Nothing found for `groups`, for the reason `note`.
    pub fn none(repo: Repo, workflow: String, commit: Option<String>, groups: &[ArtifactGroup], note: Option<String>) -> Found {
        Found { repo, workflow, commit, slots: empty_slots(groups), note }
    }
    /// The hit (or partial hit) of each group, in the order requested.
    pub fn results(&self) -> impl Iterator<Item = &Hit> {
        self.slots.iter().filter_map(|s| s.hit.as_ref().or(s.partial.as_ref()))
    }
    pub fn missing_groups(&self) -> Vec<&str> {
        self.slots.iter().filter(|s| s.hit.is_none()).map(|s| s.group.name.as_str()).collect()
    }
}

impl Slot {
    /// Why the group has no hit although a run held it: the run lacked another group (the
    /// single-run rule: only then is a complete hit left as `partial`), or archives matching
    /// the `--require-artifact` patterns.
    pub fn rejected(&self) -> Option<String> {
        let p = self.partial.as_ref().filter(|_| self.hit.is_none())?;
        Some(if p.complete() {
            format!("--require-single-run: run {} does not hold every requested group", p.run.id)
        } else {
            format!("--require-artifact: no archive of run {} matches {}", p.run.id, p.missing.join(", "))
        })
    }
}

impl Found {
    /// With `--require-single-run`, when the groups were found but never all in one run: one
    /// sentence naming which run has which group ("no single run of abc1234 holds both A and B:
    /// run 20 has A, run 120 has B; drop --require-single-run to combine them").
    pub fn single_run_gap(&self) -> Option<String> {
        if self.found() || !self.slots.iter().any(|s| s.hit.is_none() && s.partial.as_ref().is_some_and(Hit::complete)) {
            return None;
        }
        let names: Vec<&str> = self.slots.iter().map(|s| s.group.name.as_str()).collect();
        let groups = match names.as_slice() {
            [a, b] => format!("both {a} and {b}"),
            _ => format!("all of {}", names.join(", ")),
        };
        let has: Vec<String> = self
            .slots
            .iter()
            .map(|s| match s.hit.as_ref().or(s.partial.as_ref()) {
                Some(h) if h.complete() => format!("run {} has {}", h.run.id, s.group.name),
                Some(h) => format!("run {} has {} without {}", h.run.id, s.group.name, h.missing.join(", ")),
                None => format!("no run has {}", s.group.name),
            })
            .collect();
        let of = self.commit.as_deref().map(|c| format!(" of {}", super::run::short_sha(c))).unwrap_or_default();
        Some(format!("no single run{of} holds {groups}: {}; drop --require-single-run to combine them", has.join(", ")))
    }
}

/// What one run holds for the groups a lookup missed, in words: its state and what it uploaded
/// ("run 29 is still in_progress and holds only generic archives so far", "run 23 was
/// cancelled and uploaded nothing", "run 5 (completed, success) holds gfx1151 but no
/// archive of gfx94X-dcgpu").
pub fn run_holds(run: &Run, listing: &RunListing, missing: &[&ArtifactGroup]) -> String {
    let names: Vec<&str> = missing.iter().map(|g| g.name.as_str()).collect();
    let state = match (run.is_completed(), &run.conclusion) {
        (false, _) => format!("is still {}", run.status.name().unwrap_or("running")),
        (true, Some(c)) if c.name() == "success" => "succeeded".to_string(),
        (true, Some(c)) if c.name() == "cancelled" => "was cancelled".to_string(),
        (true, Some(c)) => format!("ended {}", c.name()),
        (true, None) => "completed".to_string(),
    };
    let so_far = if run.is_completed() { "" } else { " so far" };
    let mut targets: Vec<&str> = listing.archives.iter().filter(|(a, _)| !a.is_generic()).map(|(a, _)| a.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    let holds = if listing.archives.is_empty() {
        format!("uploaded nothing{so_far}")
    } else if targets.is_empty() {
        format!("holds only generic archives{so_far}")
    } else {
        format!("holds {}{so_far} but no archive of {}", targets.join(", "), names.join(", "))
    };
    format!("run {} {state} and {holds}", run.id)
}

pub fn empty_slots(groups: &[ArtifactGroup]) -> Vec<Slot> {
    groups.iter().map(|g| Slot { group: g.clone(), hit: None, partial: None }).collect()
}

/// Combines the runs of one commit, offered newest first, into one slot per group.
///
/// Accumulating (the default): a group takes its hit from the newest run that has it complete,
/// so a group found in a newer run is never replaced by an older one, and runs stop being
/// asked about once every group has a hit. Single run (`--require-single-run`): every group
/// must come from the same run; the newest run that has them all wins.
pub struct Selection {
    slots: Vec<Slot>,
    single_run: bool,
    done: bool,
}

impl Selection {
    pub fn new(groups: &[ArtifactGroup], single_run: bool) -> Self {
        Selection { slots: empty_slots(groups), single_run, done: groups.is_empty() }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The groups worth looking up in the next run (indices into the requested groups).
    pub fn wanted(&self) -> Vec<(usize, &ArtifactGroup)> {
        if self.done {
            return Vec::new();
        }
        self.slots.iter().enumerate().filter(|(_, s)| self.single_run || s.hit.is_none()).map(|(i, s)| (i, &s.group)).collect()
    }

    /// Offers the next (older) run's hits for the groups `wanted()` named; returns true when
    /// every group has its hit.
    pub fn offer(&mut self, hits: Vec<(usize, Option<Hit>)>) -> bool {
        if self.done {
            return true;
        }
        if self.single_run {
            let mut these = empty_slots(&self.slots.iter().map(|s| s.group.clone()).collect::<Vec<_>>());
            for (i, h) in hits {
                if let Some(h) = h {
                    if h.complete() {
                        these[i].hit = Some(h);
                    } else {
                        these[i].partial = Some(h);
                    }
                }
            }
            if these.iter().all(|s| s.hit.is_some()) {
                self.slots = these;
                self.done = true;
                return true;
            }
            for (s, t) in self.slots.iter_mut().zip(these) {
                if s.partial.is_none() {
                    s.partial = t.hit.or(t.partial);
                }
            }
            return false;
        }
        for (i, h) in hits {
            let s = &mut self.slots[i];
            match h {
                Some(h) if s.hit.is_none() && h.complete() => s.hit = Some(h),
                Some(h) if s.hit.is_none() && s.partial.is_none() => s.partial = Some(h),
                _ => {}
            }
        }
        self.done = self.slots.iter().all(|s| s.hit.is_some());
        self.done
    }

    pub fn into_slots(self) -> Vec<Slot> {
        self.slots
    }
}

/// The `{name}_{component}_{family}` archives a group missing from `listings` lacked: every
/// target-specific `{name}_{component}` the listings hold (for other targets), sorted, once each.
pub fn lacked(group: &ArtifactGroup, listings: &[&RunListing]) -> Vec<String> {
    let pairs: std::collections::BTreeSet<(&str, &str)> = listings
        .iter()
        .flat_map(|l| l.archives.iter())
        .filter(|(a, _)| !a.is_generic() && !group.matches_target(&a.target))
        .map(|(a, _)| (a.name.as_str(), a.component.as_str()))
        .collect();
    let have: std::collections::BTreeSet<(&str, &str)> =
        listings.iter().flat_map(|l| l.for_group(group)).filter(|(a, _)| !a.is_generic()).map(|(a, _)| (a.name.as_str(), a.component.as_str())).collect();
    pairs.difference(&have).map(|(n, c)| format!("{n}_{c}_{}", group.family)).collect()
}

/// Why a commit whose candidate `runs` were listed is still not a baseline; `notes` are the
/// runs set aside on the way.
pub fn missing_reason(slots: &[Slot], runs: &[&Run], notes: Vec<RunRejection>, listings: &[&RunListing]) -> Rejection {
    let gaps = slots
        .iter()
        .filter(|s| s.hit.is_none())
        .map(|s| match &s.partial {
            Some(p) => Gap::LacksRequired { group: s.group.name.clone(), patterns: p.missing.clone() },
            None => Gap::Missing { group: s.group.name.clone(), lacks: lacked(&s.group, listings) },
        })
        .collect();
    Rejection::Groups { gaps, runs: runs.iter().map(|r| r.id).collect(), notes }
}

#[cfg(test)]
mod tests {
    use super::super::artifacts::ListedObject;
    use super::super::buckets::Platform;
    use super::*;

    fn listing(names: &[&str]) -> Arc<RunListing> {
        let objs: Vec<ListedObject> = names.iter().map(|n| ListedObject { filename: n.to_string(), size: 1, etag: None }).collect();
        Arc::new(RunListing::from_objects(&objs))
    }

    fn hits(sel: &Selection, run_id: u64, l: &Arc<RunListing>, required: &[(String, regex::Regex)]) -> Vec<(usize, Option<Hit>)> {
        let repo = Repo::parse("ROCm/TheRock").unwrap();
        let run = Run { id: run_id, head_sha: "c".into(), ..Run::default() };
        let loc = RunLocation { bucket: "b".into(), external_repo: String::new(), run_id, platform: Platform::Linux };
        sel.wanted().into_iter().map(|(i, g)| (i, Hit::in_listing(g, &repo, &run, &loc, l, required))).collect()
    }

    fn groups(names: &[&str]) -> Vec<ArtifactGroup> {
        names.iter().map(|n| ArtifactGroup::parse(n).unwrap()).collect()
    }

    fn run_ids(slots: &[Slot]) -> Vec<Option<u64>> {
        slots.iter().map(|s| s.hit.as_ref().map(|h| h.run.id)).collect()
    }

    #[test]
    fn accumulating_keeps_the_newest_runs_hit_and_asks_older_runs_only_for_what_is_missing() {
        let g = groups(&["gfx94X-dcgpu", "gfx110X-all"]);
        let newer = listing(&["blas_lib_gfx942.tar.zst"]);
        let older = listing(&["blas_lib_gfx942.tar.zst", "blas_lib_gfx1100.tar.zst"]);
        let mut sel = Selection::new(&g, false);
        let h = hits(&sel, 2, &newer, &[]);
        assert!(!sel.offer(h));
        assert_eq!(sel.wanted().len(), 1, "only the missing group is looked up in the older run");
        let h = hits(&sel, 1, &older, &[]);
        assert!(sel.offer(h));
        assert_eq!(run_ids(&sel.into_slots()), vec![Some(2), Some(1)]);
    }

    #[test]
    fn run_holds_says_the_runs_state_and_what_it_uploaded() {
        use super::super::status::{Conclusion, RunStatus};
        let g = groups(&["gfx94X-dcgpu"]);
        let missing: Vec<&ArtifactGroup> = g.iter().collect();
        let running = Run { id: 29, status: RunStatus::parse(Some("in_progress")), ..Run::default() };
        let generic = listing(&["base_lib_generic.tar.zst"]);
        assert_eq!(run_holds(&running, &generic, &missing), "run 29 is still in_progress and holds only generic archives so far");
        let cancelled = Run { id: 23, status: RunStatus::parse(Some("completed")), conclusion: Conclusion::parse(Some("cancelled")), ..Run::default() };
        assert_eq!(run_holds(&cancelled, &RunListing::default(), &missing), "run 23 was cancelled and uploaded nothing");
        let done = Run { id: 5, status: RunStatus::parse(Some("completed")), conclusion: Conclusion::parse(Some("success")), ..Run::default() };
        let other = listing(&["base_lib_generic.tar.zst", "blas_lib_gfx1151.tar.zst", "fft_lib_gfx1151.tar.zst"]);
        assert_eq!(run_holds(&done, &other, &missing), "run 5 succeeded and holds gfx1151 but no archive of gfx94X-dcgpu");
    }

    #[test]
    fn single_run_gap_names_the_run_of_each_group_and_marks_the_records_rejected() {
        let g = groups(&["gfx94X-dcgpu", "gfx110X-all"]);
        let mut sel = Selection::new(&g, true);
        let h = hits(&sel, 120, &listing(&["blas_lib_gfx1100.tar.zst"]), &[]);
        sel.offer(h);
        let h = hits(&sel, 20, &listing(&["blas_lib_gfx942.tar.zst"]), &[]);
        sel.offer(h);
        let f = Found::at(Repo::parse("ROCm/TheRock").unwrap(), "w".into(), "0123456789abcdef".into(), sel.into_slots());
        assert_eq!(
            f.single_run_gap().as_deref(),
            Some("no single run of 0123456789ab holds both gfx94X-dcgpu and gfx110X-all: run 20 has gfx94X-dcgpu, run 120 has gfx110X-all; drop --require-single-run to combine them")
        );
        assert!(f.slots.iter().all(|s| s.rejected().is_some_and(|r| r.starts_with("--require-single-run"))));
        let mut acc = Selection::new(&g, false);
        let h = hits(&acc, 120, &listing(&["blas_lib_gfx1100.tar.zst"]), &[]);
        acc.offer(h);
        let f = Found::at(Repo::parse("ROCm/TheRock").unwrap(), "w".into(), "c".into(), acc.into_slots());
        assert_eq!(f.single_run_gap(), None, "accumulating: a missing group is not a single-run gap");
    }

    #[test]
    fn single_run_demands_every_group_from_one_run() {
        let g = groups(&["gfx94X-dcgpu", "gfx110X-all"]);
        let newer = listing(&["blas_lib_gfx942.tar.zst"]);
        let older = listing(&["blas_lib_gfx1100.tar.zst"]);
        let mut sel = Selection::new(&g, true);
        let h = hits(&sel, 2, &newer, &[]);
        assert!(!sel.offer(h));
        let h = hits(&sel, 1, &older, &[]);
        assert!(!sel.offer(h), "two runs each holding one group do not make one run holding both");
        let slots = sel.into_slots();
        assert_eq!(run_ids(&slots), vec![None, None]);
        assert_eq!(slots[0].partial.as_ref().map(|h| h.run.id), Some(2), "the best partial answer is kept for the report");
        let both = listing(&["blas_lib_gfx942.tar.zst", "blas_lib_gfx1100.tar.zst"]);
        let mut sel = Selection::new(&g, true);
        let h = hits(&sel, 3, &both, &[]);
        assert!(sel.offer(h));
        assert_eq!(run_ids(&sel.into_slots()), vec![Some(3), Some(3)]);
    }

    #[test]
    fn a_hit_missing_a_required_pattern_is_only_partial_and_a_complete_older_hit_wins() {
        let g = groups(&["gfx94X-dcgpu"]);
        let req = vec![("^rocprim_".to_string(), regex::Regex::new("^rocprim_").unwrap())];
        let newer = listing(&["blas_lib_gfx942.tar.zst"]);
        let older = listing(&["blas_lib_gfx942.tar.zst", "rocprim_lib_generic.tar.zst"]);
        let mut sel = Selection::new(&g, false);
        let h = hits(&sel, 2, &newer, &req);
        assert!(!sel.offer(h));
        let h = hits(&sel, 1, &older, &req);
        assert!(sel.offer(h));
        let slots = sel.into_slots();
        assert_eq!(run_ids(&slots), vec![Some(1)]);
        assert_eq!(slots[0].partial.as_ref().unwrap().missing, vec!["^rocprim_"]);
    }

    #[test]
    fn a_generic_only_listing_is_no_hit_and_the_missing_reason_names_the_group() {
        let g = groups(&["gfx94X-dcgpu"]);
        let mut sel = Selection::new(&g, false);
        let h = hits(&sel, 7, &listing(&["base_lib_generic.tar.zst"]), &[]);
        assert!(!sel.offer(h));
        let slots = sel.into_slots();
        let run = Run { id: 7, ..Run::default() };
        let why = missing_reason(&slots, &[&run], Vec::new(), &[&listing(&["base_lib_generic.tar.zst"])]);
        assert_eq!(why, Rejection::Groups { gaps: vec![Gap::Missing { group: "gfx94X-dcgpu".into(), lacks: vec![] }], runs: vec![7], notes: vec![] });
        assert_eq!(why.to_string(), "group gfx94X-dcgpu missing in run(s) 7");
    }

    #[test]
    fn a_missing_group_lacked_every_target_specific_archive_the_runs_hold_for_other_targets() {
        let g = groups(&["gfx94X-dcgpu", "gfx125X-dcgpu"]);
        let newer = listing(&["base_lib_generic.tar.zst", "blas_lib_gfx942.tar.zst", "blas_test_gfx942.tar.zst"]);
        let older = listing(&["fft_lib_gfx950.tar.zst", "blas_lib_gfx94X-dcgpu.tar.zst"]);
        let mut sel = Selection::new(&g, false);
        let h = hits(&sel, 2, &newer, &[]);
        sel.offer(h);
        let h = hits(&sel, 1, &older, &[]);
        sel.offer(h);
        let slots = sel.into_slots();
        let runs = [Run { id: 2, ..Run::default() }, Run { id: 1, ..Run::default() }];
        let why = missing_reason(&slots, &[&runs[0], &runs[1]], Vec::new(), &[&newer, &older]);
        let lacks = vec!["blas_lib_gfx125X-dcgpu".to_string(), "blas_test_gfx125X-dcgpu".into(), "fft_lib_gfx125X-dcgpu".into()];
        assert_eq!(why.missing(), vec![("gfx125X-dcgpu", lacks.as_slice())], "generic archives are no pair; each pair once");
        assert!(
            why.to_string().starts_with("group gfx125X-dcgpu missing (lacks blas_lib_gfx125X-dcgpu, blas_test_gfx125X-dcgpu, fft_lib_gfx125X-dcgpu)"),
            "{why}"
        );
        // A pair the group does hold is not lacked: gfx94X holds blas_lib, so only fft_lib is lacked.
        assert_eq!(lacked(&g[0], &[&newer, &older]), vec!["fft_lib_gfx94X-dcgpu"]);
    }
}
