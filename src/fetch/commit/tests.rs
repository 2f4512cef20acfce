use super::*;
use std::fs;

fn journal(d: &Path, key: bool) -> (Journal, PathBuf, PathBuf) {
    let (out, staging) = (d.join("o"), d.join("o/.therock-artifacts-staging-1"));
    fs::create_dir_all(&out).unwrap();
    let key = key.then(|| Key::load(&d.join("keys")).unwrap());
    (Journal::new(&staging, &out, key).unwrap(), out, staging)
}

#[test]
#[cfg(unix)] // makes symlinks
fn merge_replaces_and_moves_subtrees_and_never_follows_a_destination_symlink() {
    let d = tempfile::tempdir().unwrap();
    let (mut j, o, staging) = journal(d.path(), false);
    let s = d.path().join("s");
    fs::create_dir_all(s.join("a/b")).unwrap();
    fs::write(s.join("a/b/f"), "new").unwrap();
    fs::write(s.join("top"), "t").unwrap();
    fs::create_dir_all(o.join("a")).unwrap();
    fs::write(o.join("a/keep"), "k").unwrap();
    fs::create_dir_all(o.join("real")).unwrap();
    std::os::unix::fs::symlink(o.join("real"), o.join("top")).unwrap();
    j.merge(&s, &o).unwrap();
    j.finish().unwrap();
    assert_eq!(fs::read_to_string(o.join("a/b/f")).unwrap(), "new");
    assert_eq!(fs::read_to_string(o.join("a/keep")).unwrap(), "k");
    assert!(fs::symlink_metadata(o.join("top")).unwrap().is_file(), "a symlink in the destination is replaced, not followed");
    assert_eq!(fs::read_dir(staging.join("replaced")).unwrap().count(), 0);
}

#[test]
#[cfg_attr(windows, ignore = "mem::forget keeps the log file open, which Windows will not delete; a real kill closes it")]
fn a_commit_killed_half_way_is_undone_from_its_signed_log() {
    let d = tempfile::tempdir().unwrap();
    let (mut j, o, staging) = journal(d.path(), true);
    let s = staging.join("0");
    fs::create_dir_all(&s).unwrap();
    fs::write(s.join("f"), "new").unwrap();
    fs::write(o.join("f"), "old").unwrap();
    j.merge(&s, &o).unwrap();
    std::mem::forget(j); // killed: neither finished nor rolled back
    assert_eq!(fs::read_to_string(o.join("f")).unwrap(), "new");
    let key = Key::load(&d.path().join("keys"));
    recover_staging(&o, &staging, key.as_ref());
    assert_eq!(fs::read_to_string(o.join("f")).unwrap(), "old");
    assert!(!staging.exists());
}

#[test]
fn every_prefix_of_a_commit_undoes_to_the_old_tree_even_when_the_undo_is_run_twice() {
    // A kill can land after any step: take the first k steps of a plan, then undo (twice).
    for k in 0..=8 {
        let d = tempfile::tempdir().unwrap();
        let (mut j, o, _) = journal(d.path(), false);
        let s = d.path().join("s");
        fs::create_dir_all(s.join("a")).unwrap();
        fs::write(s.join("a/f"), "new").unwrap();
        fs::write(s.join("g"), "new").unwrap();
        fs::write(s.join("h"), "new").unwrap();
        fs::create_dir_all(o.join("a")).unwrap();
        fs::write(o.join("a/f"), "old").unwrap();
        fs::write(o.join("h"), "old").unwrap();
        let mut plan = Vec::new();
        j.plan_merge(&s, &o, &mut plan).unwrap();
        let mut touched = BTreeSet::new();
        for step in plan.iter().take(k) {
            take(step, &mut touched).unwrap();
        }
        undo(&plan);
        undo(&plan);
        assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "old", "after {k} steps");
        assert_eq!(fs::read_to_string(o.join("h")).unwrap(), "old", "after {k} steps");
        assert!(!o.join("g").exists(), "after {k} steps");
    }
}

#[test]
fn a_journal_signed_with_another_key_or_naming_paths_outside_is_ignored() {
    let d = tempfile::tempdir().unwrap();
    let (mut j, o, staging) = journal(d.path(), true);
    let victim = d.path().join("victim");
    fs::write(&victim, "mine").unwrap();
    let s = d.path().join("s");
    fs::create_dir_all(&s).unwrap();
    fs::write(s.join("f"), "new").unwrap();
    j.merge(&s, &o).unwrap();
    std::mem::forget(j);
    let other = Key::load(&d.path().join("other-keys"));
    recover_staging(&o, &staging, other.as_ref());
    assert_eq!(fs::read_to_string(o.join("f")).unwrap(), "new", "not undone: not our journal");
    assert!(valid(&Step::Created(o.join("x")), &o, &staging));
    assert!(!valid(&Step::Created(victim.clone()), &o, &staging));
    assert!(!valid(&Step::Place { src: Source::Empty, dst: o.join("../victim"), tmp: o.join(".therock-artifacts-new-1") }, &o, &staging));
    assert!(!valid(&Step::SetAside { to: o.join("f"), from: d.path().join("x"), alt: o.join(".therock-artifacts-old-1") }, &o, &staging));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "mine");
}

#[test]
fn a_rollback_puts_the_output_back_as_it_was() {
    let d = tempfile::tempdir().unwrap();
    let (mut j, o, _) = journal(d.path(), true);
    let s = d.path().join("s");
    fs::create_dir_all(s.join("a")).unwrap();
    fs::write(s.join("a/f"), "new").unwrap();
    fs::write(s.join("g"), "new").unwrap();
    fs::create_dir_all(o.join("a")).unwrap();
    fs::write(o.join("a/f"), "old").unwrap();
    j.merge(&s, &o).unwrap();
    assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "new");
    j.rollback();
    assert_eq!(fs::read_to_string(o.join("a/f")).unwrap(), "old");
    assert!(!o.join("g").exists());
}

#[test]
#[cfg(unix)] // makes symlinks
fn removing_an_earlier_fetch_sets_aside_only_its_files_and_the_directories_left_empty() {
    let d = tempfile::tempdir().unwrap();
    let (mut j, o, _) = journal(d.path(), false);
    for f in ["lib/a.so", "lib/sub/b.so", "share/x.txt"] {
        fs::create_dir_all(o.join(f).parent().unwrap()).unwrap();
        fs::write(o.join(f), "theirs").unwrap();
    }
    fs::write(o.join("share/mine.txt"), "mine").unwrap();
    // A record cannot reach through a symlink, above the output, or into the tool's own names.
    let outside = d.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("victim"), "v").unwrap();
    std::os::unix::fs::symlink(&outside, o.join("link")).unwrap();
    let files: Vec<String> =
        ["lib/a.so", "lib/sub/b.so", "share/x.txt", "link/victim", "../outside/victim", "/etc/passwd", ".therock-artifacts.lock", "gone.txt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let dirs: Vec<String> = ["lib", "lib/sub", "share", "link"].iter().map(|s| s.to_string()).collect();
    let n = j.remove(&o, &files, &dirs).unwrap();
    j.finish().unwrap();
    assert_eq!(n, 3);
    assert!(!o.join("lib").exists(), "emptied, deepest first");
    assert_eq!(fs::read_to_string(o.join("share/mine.txt")).unwrap(), "mine", "a directory holding a user's file stays");
    assert!(!o.join("share/x.txt").exists());
    assert_eq!(fs::read_to_string(outside.join("victim")).unwrap(), "v");
    assert!(fs::symlink_metadata(o.join("link")).unwrap().file_type().is_symlink(), "a symlink is no directory to empty");
}

#[test]
fn a_removal_that_fails_later_in_the_commit_is_put_back() {
    let d = tempfile::tempdir().unwrap();
    let (mut j, o, _) = journal(d.path(), false);
    fs::create_dir_all(o.join("lib")).unwrap();
    fs::write(o.join("lib/a.so"), "theirs").unwrap();
    j.remove(&o, &["lib/a.so".to_string()], &["lib".to_string()]).unwrap();
    assert!(!o.join("lib").exists());
    j.rollback();
    assert_eq!(fs::read_to_string(o.join("lib/a.so")).unwrap(), "theirs");
}
