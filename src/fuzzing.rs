//! The fuzz targets' one door into the library (`fuzz/fuzz_targets/*.rs` call these, nothing
//! else): each function feeds arbitrary bytes to the code that reads outsiders' text, exactly as
//! the tool calls it, and panics when a promise of that code breaks. Returning is a pass; a parser
//! that refuses the input is a pass too. The seed corpora under `fuzz/corpus/` also run through
//! these functions in the unit tests below, so the facade is built and exercised on stable.
//!
//! S3 listings are XML the AWS SDK decodes; what the tool reads of them is the keys, below.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::artifacts::{prebuilt_stage, ArtifactName, ListedObject, RunListing};
use crate::domain::families::{is_target_syntax, ArtifactGroup};
use crate::domain::manifest::Manifest;
use crate::domain::topology::Topology;
use crate::domain::{pins, pins_multiarch, sha, stage_impact, time};
use crate::fetch::extract::{extract, Layout};
use crate::sources::github::{decode_any, next_link};

/// An archive filename (`{name}_{component}_{target}.tar.{zst|xz}`), a manifest line's stage and
/// a family or target name.
pub fn artifact_name(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Some(a) = ArtifactName::parse(&s) {
        let ext = if s.ends_with(".tar.zst") { "zst" } else { "xz" };
        assert_eq!(format!("{}.tar.{ext}", a.stem()), s, "a parsed name is its fields again");
        for field in [&a.name, &a.component, &a.target] {
            assert!(!field.is_empty() && !field.contains(['_', '/', '.', '\n', ' ']), "field {field:?} of {s:?}");
        }
        assert_eq!(ArtifactName::parse(&a.filename).as_ref(), Some(&a));
    }
    let stage = prebuilt_stage(&s);
    assert!(s.starts_with(stage), "the stage of {s:?} is a prefix of it");
    if let Ok(group) = ArtifactGroup::parse(&s) {
        let _ = group.matches_target(&s);
    }
    let _ = is_target_syntax(&s);
}

/// A run prefix's keys (one `name<TAB>size<TAB>etag` a line, as S3 lists them) and the run's
/// `therock_manifest.json`.
pub fn listing(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let objects: Vec<ListedObject> = text
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            let filename = f.next().unwrap_or("").to_string();
            let size = f.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            ListedObject { filename, size, etag: f.next().map(String::from) }
        })
        .collect();
    let l = RunListing::from_objects(&objects);
    assert!(l.archives.windows(2).all(|w| w[0].0.filename < w[1].0.filename), "sorted, one per name");
    assert!(l.archives.windows(2).all(|w| w[0].0.stem() != w[1].0.stem()), "one archive per stem");
    assert!(l.archives.iter().all(|(a, _)| objects.iter().any(|o| o.filename == a.filename)), "only listed names");
    assert_eq!(l.for_group(&ArtifactGroup::all()).len(), l.archives.len());
    assert!(l.sidecars.keys().all(|k| ArtifactName::parse(k).is_some()));
    if let Some(m) = Manifest::parse(data) {
        assert!(m.the_rock_commit.is_none_or(|c| c.as_str().len() == 40));
    }
}

fn full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The pin readers: `therock_ref.json`, the ci-env action, the workflows and wrappers (single and
/// multi-arch), an override expression. The first line names the file read (a `PIN_SOURCES`
/// path or any other); the rest is its text.
pub fn pins(data: &[u8]) {
    let all = String::from_utf8_lossy(data);
    let (path, text) = all.split_once('\n').unwrap_or((".github/workflows/therock-ci.yml", &all));
    for read in
        [pins::parse_source(path, text), pins::parse_ref_json(text), pins::parse_wrapper(text), pins::parse_ci_env(text), pins::parse_checkout_step(text)]
    {
        if let Ok(pins::PinRead::Pin { sha, .. }) = read {
            assert!(full_sha(sha.as_str()), "a pin is a full SHA: {sha:?}");
            let _ = pins::pin_line(text, sha.as_str());
        }
    }
    if let Some(sha) = pins::override_default(text) {
        assert!(full_sha(sha.as_str()));
    }
    let _ = (sha::is_sha_like(text), sha::is_hex_commitish(text), sha::CommitSha::parse(text));
    let multi = [
        pins_multiarch::read_multi_arch_workflow(path, text),
        pins_multiarch::read_systems_multi_arch(Some(text), &[(path, Some(text)), (path, None)]),
        pins_multiarch::read_systems_multi_arch(None, &[(path, Some(text))]),
    ];
    for r in multi {
        match r.read {
            pins_multiarch::SuperPin::Pin { sha, at } => {
                assert!(full_sha(&sha), "a multi-arch pin is a full SHA: {sha:?}");
                assert!(at.line >= 1 && at.line <= text.lines().count().max(1), "line {} of {} lines", at.line, text.lines().count());
            }
            pins_multiarch::SuperPin::AtRunTime { at, .. } => assert!(at.line >= 1),
            pins_multiarch::SuperPin::NoPin(_) | pins_multiarch::SuperPin::Invalid(_) => {}
        }
    }
    if let pins_multiarch::SuperPin::Pin { sha, .. } = pins_multiarch::read_ref_json(text) {
        assert!(full_sha(&sha));
    }
}

/// GitHub's JSON bodies (runs pages, a run, commit lists, a commit, jobs pages) into the
/// domain's runs, commits and jobs; a `Link` header; a timestamp.
pub fn github(data: &[u8]) {
    let (runs, commits, _jobs) = decode_any(data);
    assert!(runs.windows(2).all(|w| (&w[0].created_at, w[0].id) >= (&w[1].created_at, w[1].id)), "newest first");
    for c in &commits {
        assert!(c.subject.as_deref().is_none_or(|s| !s.contains('\n')), "a subject is one line");
    }
    let text = String::from_utf8_lossy(data);
    if let Some(next) = next_link(&text) {
        assert!(text.contains(&format!("<{next}>")), "the next link is one of the header's");
    }
    let _ = time::parse_rfc3339(&text);
}

/// A tar stream through the archive member judge and its tree model into a fresh directory. The
/// first byte picks the layout (flatten, full, full with the manifest); the rest is the stream.
/// Never may anything be written outside the directory, and an archive taken leaves only
/// symlinks that lead inside it.
pub fn extract_archive(data: &[u8]) {
    let _ = extract_judged(data);
}

/// Whether the archive was taken (`None`: no layout byte).
fn extract_judged(data: &[u8]) -> Option<bool> {
    let (&pick, stream) = data.split_first()?;
    let layout = [Layout::Flatten, Layout::Full, Layout::FullWithManifest][usize::from(pick % 3)];
    let scratch = Scratch::new();
    let taken = extract(stream, &scratch.out, layout, "fuzz.tar", 1 << 20);
    scratch.assert_nothing_outside();
    if taken.is_ok() {
        scratch.assert_links_inside();
    }
    Some(taken.is_ok())
}

/// `<tmp>/therock-fuzz-<pid>-<n>/a/b/c/out`: an escape of up to four `..` lands in a directory that
/// is walked afterwards, and anything but the `a/b/c/out` chain there is a write outside.
struct Scratch {
    top: PathBuf,
    out: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let top = std::env::temp_dir().join(format!("therock-fuzz-{}-{n}", std::process::id()));
        let out = top.join("a/b/c/out");
        if top.exists() {
            make_writable(&top);
            fs::remove_dir_all(&top).expect("the scratch directory can be cleared");
        }
        fs::create_dir_all(out.parent().expect("out has a parent")).expect("the scratch directory can be made");
        Scratch { top, out }
    }

    fn assert_nothing_outside(&self) {
        let mut dir = self.top.clone();
        for keep in ["a", "b", "c", "out"] {
            let names: Vec<_> = fs::read_dir(&dir).expect("readable").map(|e| e.expect("entry").file_name()).collect();
            assert!(names.iter().all(|n| n == keep), "written outside the output directory, in {}: {names:?}", dir.display());
            dir.push(keep);
        }
    }

    fn assert_links_inside(&self) {
        let root = fs::canonicalize(&self.out).expect("the output directory exists");
        for (link, target) in symlinks_under(&self.out) {
            match fs::canonicalize(&link) {
                Ok(to) => assert!(to.starts_with(&root), "{} -> {} leads to {}", link.display(), target.display(), to.display()),
                Err(_) => assert!(lexically_inside(&self.out, &link, &target), "{} -> {} leads outside", link.display(), target.display()),
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        make_writable(&self.top);
        let _ = fs::remove_dir_all(&self.top);
    }
}

/// A dangling link's target, taken as written from the link's directory, stays under `root`.
fn lexically_inside(root: &Path, link: &Path, target: &Path) -> bool {
    let Ok(rel) = link.parent().unwrap_or(root).strip_prefix(root) else { return false };
    let mut depth = rel.components().count();
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

fn symlinks_under(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => out.push((p.clone(), fs::read_link(&p).unwrap_or_default())),
            Ok(m) if m.is_dir() => out.extend(symlinks_under(&p)),
            _ => {}
        }
    }
    out
}

/// Archives may make directories read-only; the owner gets rwx back so the tree can be removed.
fn make_writable(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            make_writable(&e.path());
        }
    }
}

#[cfg(test)]
#[path = "fuzzing_tests.rs"]
mod tests;

/// `BUILD_TOPOLOGY.toml` (issue 23): the first line is a changed input, the rest the file's text.
/// A topology taken has no stage outside its own list in any answer: every stage's inbound and
/// produced artifacts are artifacts of the file, and the impact of the input splits the stages
/// into rebuild and copy exactly once each.
pub fn topology(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (input, file) = text.split_once('\n').unwrap_or(("", &text));
    let Ok(topo) = Topology::parse(file) else { return };
    let stages: Vec<String> = topo.stage_names().into_iter().map(str::to_string).collect();
    for stage in &stages {
        for a in topo.produced(stage).iter().chain(topo.inbound(stage).iter()) {
            assert!(topo.artifact(a).is_some(), "stage {stage} names artifact {a}, which the file does not define");
        }
    }
    for platform in [None, Some("linux"), Some("windows")] {
        let impact = stage_impact::analyze(&topo, &[input.to_string()], platform);
        let mut all: Vec<&String> = impact.rebuild_stages.iter().chain(&impact.copy_stages).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), impact.rebuild_stages.len() + impact.copy_stages.len(), "a stage is both rebuilt and copied");
        assert!(all.iter().all(|s| stages.contains(s)), "an impact names a stage the file does not have");
    }
}
