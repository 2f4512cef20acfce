use super::*;

fn run(id: u64, file: &str, created: &str) -> Run {
    Run {
        id,
        path: Some(format!(".github/workflows/{file}")),
        created_at: Some(created.into()),
        head_branch: Some("develop".into()),
        head_sha: "c".repeat(40),
        ..Run::default()
    }
}

fn commit(sha: &str, at: &str) -> Commit {
    Commit { sha: sha.into(), date: crate::domain::time::parse_rfc3339(at), ..Commit::default() }
}

#[test]
fn the_workflow_files_per_repository_kind() {
    assert_eq!(workflow_files(&Repo::parse("ROCm/TheRock").unwrap()), &["multi_arch_ci.yml"]);
    assert_eq!(workflow_files(&Repo::parse("ROCm/rocm-systems").unwrap()), &[MULTI_ARCH, LEGACY]);
    assert_eq!(workflow_files(&Repo::parse("ROCm/rocm-libraries").unwrap()), &["therock-multi-arch-ci.yml", "therock-ci.yml"]);
}

#[test]
fn the_multi_arch_runs_come_first_then_the_legacy_ones_newest_first_within_each() {
    let runs = [
        run(1, LEGACY, "2026-09-01T12:00:00Z"),
        run(2, MULTI_ARCH, "2026-09-01T08:00:00Z"),
        run(3, "therock-multi-arch-ci-nightly.yml", "2026-09-01T13:00:00Z"),
        run(4, MULTI_ARCH, "2026-09-01T09:00:00Z"),
        run(5, LEGACY, "2026-09-01T10:00:00Z"),
        Run { path: Some(".github/workflows/therock-ci.yml@refs/heads/develop".into()), ..run(6, LEGACY, "2026-09-01T11:00:00Z") },
    ];
    let ids = |v: Vec<&Run>| v.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(candidate_order(&runs, &[MULTI_ARCH, LEGACY], None)), [4, 2, 1, 6, 5], "other workflows (the nightly variant) are dropped");
    assert_eq!(ids(candidate_order(&runs, &[MULTI_ARCH, LEGACY], Some(LEGACY))), [1, 6, 5], "--workflow names exactly one workflow");
    assert_eq!(ids(candidate_order(&runs, &[MULTI_ARCH, LEGACY], Some(".github/workflows/therock-multi-arch-ci-nightly.yml"))), [3]);
}

#[test]
fn the_time_basis_says_which_commit_and_when() {
    let pr = TimeBasis::MergeBase { sha: "a".repeat(40), at: "2026-09-01T10:00:00Z".into() };
    assert!(pr.what().contains("merge base aaaaaaaaaaaa"), "{}", pr.what());
    assert_eq!(pr.timestamp(), "2026-09-01T10:00:00Z");
    let push = TimeBasis::Commit { sha: "b".into(), at: "2026-09-03T00:00:00Z".into() };
    assert_eq!(push.timestamp(), "2026-09-03T00:00:00Z");
}

#[test]
fn the_newest_therock_commit_at_or_before_the_time() {
    let main = [commit("c3", "2026-09-01T12:00:00Z"), commit("c2", "2026-09-01T10:00:00Z"), commit("c1", "2026-09-01T08:00:00Z")];
    let at = |t: &str| newest_at_or_before(&main, t).map(|c| c.sha.as_str());
    assert_eq!(at("2026-09-01T11:00:00Z"), Some("c2"));
    assert_eq!(at("2026-09-01T10:00:00Z"), Some("c2"), "at counts");
    assert_eq!(at("2026-09-01T14:00:00+02:00"), Some("c3"), "offsets are honoured");
    assert_eq!(at("2026-09-01T07:00:00Z"), None);
    assert_eq!(at("yesterday"), None);
}

#[test]
fn a_rocm_systems_release_branch_builds_against_therocks_namesake_in_the_legacy_ci_only() {
    let sys = Repo::parse("ROCm/rocm-systems").unwrap();
    let lib = Repo::parse("ROCm/rocm-libraries").unwrap();
    let rel = Some("release/therock-7.10");
    assert_eq!(therock_ref_for(&sys, LEGACY, rel), TheRockRef::ReleaseBranch("release/therock-7.10".into()));
    assert_eq!(therock_ref_for(&sys, MULTI_ARCH, rel), TheRockRef::FilePin);
    assert_eq!(therock_ref_for(&lib, LEGACY, rel), TheRockRef::FilePin);
    assert_eq!(therock_ref_for(&sys, LEGACY, Some("develop")), TheRockRef::FilePin);
    assert_eq!(therock_ref_for(&sys, LEGACY, Some("release/therock-")), TheRockRef::FilePin);
    assert_eq!(therock_ref_for(&sys, LEGACY, None), TheRockRef::FilePin);
}

#[test]
fn the_super_repo_branch_comes_from_the_pr_then_the_flag_then_the_checkout_then_the_runs() {
    let r = run(1, LEGACY, "2026-09-01T00:00:00Z");
    let runs = [&r];
    assert_eq!(super_branch(Some("release/therock-7.10"), Some("x"), Some("y"), &runs), Some(("release/therock-7.10".into(), BranchFrom::PullRequestBase)));
    assert_eq!(super_branch(None, Some("x"), Some("y"), &runs), Some(("x".into(), BranchFrom::BaseBranchFlag)));
    assert_eq!(super_branch(None, None, Some("y"), &runs), Some(("y".into(), BranchFrom::LocalCheckout)));
    assert_eq!(super_branch(None, Some(" "), None, &runs), Some(("develop".into(), BranchFrom::RunHeadBranch)));
    assert_eq!(super_branch(None, None, None, &[]), None);
}

#[test]
fn the_bots_baseline_hint_is_judged_against_the_pin() {
    let pin = "a".repeat(40);
    assert_eq!(judge_hint(7, Ok(&pin.to_uppercase()), &pin), HintVerdict::Matches { run_id: 7 });
    let v = judge_hint(7, Ok(&"b".repeat(40)), &pin);
    assert_eq!(v, HintVerdict::Differs { run_id: 7, run_commit: "b".repeat(40) });
    assert_eq!(v.as_str(), "differs");
    assert_eq!(judge_hint(7, Err("run 7 does not exist".into()), &pin).as_str(), "unknown");
}

#[test]
fn the_pin_read_is_the_one_of_the_workflow_named_or_of_the_run_that_answers_first() {
    assert_eq!(pin_chain(Some("therock-ci.yml"), Some(MULTI_ARCH)), Some(PinChain::Legacy), "--workflow names it");
    assert_eq!(pin_chain(Some(".github/workflows/therock-multi-arch-ci-nightly.yml"), None), Some(PinChain::MultiArch));
    assert_eq!(pin_chain(Some("other.yml"), None), Some(PinChain::AnyFile));
    assert_eq!(pin_chain(None, Some(MULTI_ARCH)), Some(PinChain::MultiArch));
    assert_eq!(pin_chain(None, Some(LEGACY)), Some(PinChain::Legacy));
    assert_eq!(pin_chain(None, None), None, "no run says: the caller looks for the file");
    assert!(is_multi_arch("therock-multi-arch-ci-asan.yml") && !is_multi_arch("therock-ci.yml") && !is_multi_arch("therock-multi-arch-ci-x.txt"));
    assert_eq!(PinChain::MultiArch.workflow(), Some(MULTI_ARCH));
    assert_eq!(PinChain::AnyFile.workflow(), None);
}
