//! Bisection over the commits that have CI artifacts, as `git bisect run` reads a test's exit
//! code. Pure: which candidate to test next, and what the results so far prove.

use std::collections::BTreeSet;

/// What a test run said about a commit (`git bisect run`'s reading of its exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Good,
    Bad,
    Skip,
    /// 128 or more: stop the bisection.
    Abort,
}

impl Verdict {
    /// 0 good, 125 skip, 1-127 (but 125) bad, 128 or more (or killed) abort.
    pub fn from_exit(code: Option<i32>) -> Verdict {
        match code {
            Some(0) => Verdict::Good,
            Some(125) => Verdict::Skip,
            Some(c) if (1..=127).contains(&c) => Verdict::Bad,
            _ => Verdict::Abort,
        }
    }
}

/// Candidates `0..n`, oldest first, between a known good commit (before index 0) and a known bad
/// one: candidate `n - 1` when `bad_is_last` (the given bad commit has artifacts and is not
/// tested again), else one past the end.
#[derive(Debug, Clone)]
pub struct Bisection {
    n: usize,
    /// The newest candidate known good (`None`: only the given good commit).
    good: Option<usize>,
    /// The oldest candidate known bad (`n`: only the given bad commit).
    bad: usize,
    skipped: BTreeSet<usize>,
}

impl Bisection {
    pub fn new(n: usize, bad_is_last: bool) -> Self {
        let bad = if bad_is_last && n > 0 { n - 1 } else { n };
        Bisection { n, good: None, bad, skipped: BTreeSet::new() }
    }

    /// The untested candidates strictly between the newest good and the oldest bad.
    fn open(&self) -> Vec<usize> {
        let lo = self.good.map_or(0, |g| g + 1);
        (lo..self.bad).filter(|i| !self.skipped.contains(i)).collect()
    }

    /// The candidate to test next (the middle of what is left), or `None` when the answer is known.
    pub fn next(&self) -> Option<usize> {
        let open = self.open();
        open.get(open.len() / 2).copied()
    }

    /// At most how many more tests are needed: ceil(log2(open + 1)).
    pub fn tests_left(&self) -> usize {
        let open = self.open().len();
        (usize::BITS - open.leading_zeros()) as usize
    }

    pub fn record(&mut self, i: usize, v: Verdict) {
        match v {
            Verdict::Good => self.good = Some(self.good.map_or(i, |g| g.max(i))),
            Verdict::Bad => self.bad = self.bad.min(i),
            Verdict::Skip | Verdict::Abort => {
                self.skipped.insert(i);
            }
        }
    }

    /// The newest candidate known good (`None`: the given good commit) and the oldest known bad
    /// (`None`: the given bad commit, which has no artifacts).
    pub fn answer(&self) -> (Option<usize>, Option<usize>) {
        (self.good, (self.bad < self.n).then_some(self.bad))
    }

    /// Candidates between the answer's ends that were skipped (the first bad commit may be one).
    pub fn skipped_between(&self) -> Vec<usize> {
        let lo = self.good.map_or(0, |g| g + 1);
        self.skipped.iter().copied().filter(|i| *i >= lo && *i < self.bad).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a bisection over `n` candidates where candidates from `first_bad` on fail and those
    /// in `skip` cannot be tested; returns the answer and the number of tests.
    fn run(n: usize, first_bad: usize, skip: &[usize]) -> ((Option<usize>, Option<usize>), usize) {
        let mut b = Bisection::new(n, true);
        let mut tests = 0;
        while let Some(i) = b.next() {
            tests += 1;
            let v = if skip.contains(&i) {
                Verdict::Skip
            } else if i >= first_bad {
                Verdict::Bad
            } else {
                Verdict::Good
            };
            b.record(i, v);
        }
        (b.answer(), tests)
    }

    #[test]
    fn it_finds_the_first_bad_candidate_in_at_most_log2_tests() {
        for n in 1..40 {
            for first_bad in 0..n {
                let ((good, bad), tests) = run(n, first_bad, &[]);
                assert_eq!(bad, Some(first_bad), "n {n} first bad {first_bad}");
                assert_eq!(good, first_bad.checked_sub(1));
                let bound = (usize::BITS - n.leading_zeros()) as usize;
                assert!(tests <= bound, "n {n}: {tests} tests > {bound}");
            }
        }
    }

    #[test]
    fn skipped_candidates_are_worked_around_and_reported_when_they_hide_the_answer() {
        let ((good, bad), _) = run(10, 5, &[2, 3]);
        assert_eq!((good, bad), (Some(4), Some(5)));
        let mut b = Bisection::new(10, true);
        while let Some(i) = b.next() {
            b.record(
                i,
                if i == 4 {
                    Verdict::Skip
                } else if i >= 5 {
                    Verdict::Bad
                } else {
                    Verdict::Good
                },
            );
        }
        assert_eq!(b.answer(), (Some(3), Some(5)));
        assert_eq!(b.skipped_between(), vec![4], "the first bad commit may be the skipped one");
    }

    #[test]
    fn exit_codes_read_as_git_bisect_run_reads_them() {
        assert_eq!(Verdict::from_exit(Some(0)), Verdict::Good);
        assert_eq!(Verdict::from_exit(Some(1)), Verdict::Bad);
        assert_eq!(Verdict::from_exit(Some(127)), Verdict::Bad);
        assert_eq!(Verdict::from_exit(Some(125)), Verdict::Skip);
        assert_eq!(Verdict::from_exit(Some(128)), Verdict::Abort);
        assert_eq!(Verdict::from_exit(None), Verdict::Abort, "killed by a signal");
    }

    #[test]
    fn a_bad_end_without_artifacts_is_the_answer_when_every_candidate_is_good() {
        let mut b = Bisection::new(3, false);
        while let Some(i) = b.next() {
            b.record(i, Verdict::Good);
        }
        assert_eq!(b.answer(), (Some(2), None));
    }
}
