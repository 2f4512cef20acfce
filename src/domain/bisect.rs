//! Bisection over the commits that have CI artifacts, as `git bisect run` reads a test's exit
//! code. Pure: which candidate to test next, and what the results so far prove.

use std::collections::BTreeSet;

/// What a test run said about a commit (`git bisect run`'s reading of its exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// One round of a parallel bisection: at most `ways` open candidates that split what is
    /// open into `ways + 1` parts of near-equal size (all of it when no more are open); empty
    /// when the answer is known. With K ways N candidates take about log_{K+1}(N) rounds.
    pub fn round(&self, ways: usize) -> Vec<usize> {
        let open = self.open();
        let (n, k) = (open.len(), ways.max(1));
        if n <= k {
            return open;
        }
        let mut picks: Vec<usize> = (1..=k).map(|j| open[(j * (n + 1) / (k + 1)).saturating_sub(1).min(n - 1)]).collect();
        picks.dedup();
        picks
    }

    /// Records a round's verdicts at once: the bad ones first, then the good ones older than
    /// the oldest bad (a good verdict newer than a bad one contradicts it and is dropped, as is
    /// a verdict on a commit outside what was open). Returns the dropped candidates.
    pub fn record_round(&mut self, verdicts: &[(usize, Verdict)]) -> Vec<usize> {
        let mut dropped = Vec::new();
        for (i, v) in verdicts.iter().filter(|(_, v)| *v == Verdict::Bad) {
            self.record(*i, *v);
        }
        for (i, v) in verdicts.iter().filter(|(_, v)| *v != Verdict::Bad) {
            if *i < self.bad {
                self.record(*i, *v);
            } else {
                dropped.push(*i);
            }
        }
        dropped
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

    /// Runs a parallel bisection with `ways` per round; the answer and the number of rounds.
    fn rounds(n: usize, first_bad: usize, skip: &[usize], ways: usize) -> ((Option<usize>, Option<usize>), Vec<usize>, usize) {
        let mut b = Bisection::new(n, true);
        let mut rounds = 0;
        loop {
            let picks = b.round(ways);
            if picks.is_empty() {
                return (b.answer(), b.skipped_between(), rounds);
            }
            assert!(picks.len() <= ways);
            rounds += 1;
            let v: Vec<(usize, Verdict)> = picks
                .iter()
                .map(|&i| {
                    (
                        i,
                        if skip.contains(&i) {
                            Verdict::Skip
                        } else if i >= first_bad {
                            Verdict::Bad
                        } else {
                            Verdict::Good
                        },
                    )
                })
                .collect();
            b.record_round(&v);
        }
    }

    #[test]
    fn a_round_of_k_splits_the_open_range_into_k_plus_one_parts() {
        let b = Bisection::new(19, true);
        assert_eq!(b.round(3), vec![3, 8, 13], "18 open candidates (the bad end is known): parts of 3, 4, 4, 4");
        assert_eq!(Bisection::new(3, true).round(3), vec![0, 1], "fewer open than ways: test them all");
        assert!(Bisection::new(1, true).round(3).is_empty(), "only the known bad end: nothing to test");
    }

    #[test]
    fn k_ways_reach_the_sequential_answer_in_log_k_plus_1_rounds() {
        for ways in 1..=5usize {
            for n in 1..50usize {
                let bound = {
                    let (mut r, mut cover) = (0, 1usize);
                    while cover < n {
                        cover *= ways + 1;
                        r += 1;
                    }
                    r
                };
                for first_bad in 0..n {
                    let (answer, _, r) = rounds(n, first_bad, &[], ways);
                    assert_eq!(answer, run(n, first_bad, &[]).0, "n {n} ways {ways} first bad {first_bad}");
                    assert!(r <= bound, "n {n} ways {ways}: {r} rounds > {bound}");
                }
            }
        }
    }

    #[test]
    fn three_ways_over_twenty_commits_take_three_rounds_with_a_skipped_commit() {
        // 20 candidates; 7 says skip (as a commit without artifacts would, were it tested).
        for first_bad in 0..20 {
            let (answer, skipped, r) = rounds(20, first_bad, &[7], 3);
            let (seq, _) = run(20, first_bad, &[7]);
            assert_eq!(answer, seq, "first bad {first_bad}");
            assert!(r <= 3, "ceil(log4 20) = 3 rounds, took {r} (first bad {first_bad})");
            if first_bad == 8 {
                assert_eq!(skipped, vec![7], "the skipped commit may hide the answer, and is named");
            }
        }
    }

    #[test]
    fn a_good_verdict_newer_than_a_bad_one_is_dropped() {
        let mut b = Bisection::new(10, true);
        assert_eq!(b.record_round(&[(6, Verdict::Good), (3, Verdict::Bad), (1, Verdict::Good)]), vec![6]);
        assert_eq!(b.answer().0, Some(1));
        assert_eq!(b.round(3), vec![2]);
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
