//! The facade on stable: every committed seed passes through its target's function, the tar seeds
//! are built here with the one tar writer, and the checks of the extraction target catch what
//! they exist to catch.
use super::*;

// `fetch/extract_tests.rs` includes the writer too; one copy for the whole crate's tests would
// touch that file, which another branch is changing.
#[allow(clippy::duplicate_mod)]
#[path = "../tests/support/tar.rs"]
mod tar_writer;
use tar::EntryType as T;
use tar_writer::TarWriter;

/// A target's name and its function.
type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] =
    &[("artifact_name", artifact_name), ("listing", listing), ("pins", pins), ("github", github), ("extract_archive", extract_archive), ("topology", topology)];

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target)
}

#[test]
fn every_committed_seed_passes_its_target() {
    for (target, run) in TARGETS {
        let seeds: Vec<_> = fs::read_dir(corpus(target)).unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}")).map(|e| e.unwrap().path()).collect();
        assert!(seeds.len() >= 3, "fuzz/corpus/{target} holds a few seeds");
        for s in seeds {
            run(&fs::read(&s).unwrap());
        }
    }
}

const M: &[u8] = b"compiler/amd-llvm/stage\n";
const S: &str = "compiler/amd-llvm/stage";

type Member<'a> = (&'a str, T, u32, &'a [u8], Option<&'a str>);

/// A tar seed: the layout byte, then the members (the manifest first unless a seed says not).
fn tar_seed(layout: u8, members: &[Member<'_>]) -> Vec<u8> {
    let mut w = TarWriter::new(vec![layout]);
    for (name, kind, mode, data, link) in members {
        w.entry(*kind, name, *mode, data, *link).unwrap();
    }
    w.finish().unwrap()
}

/// The extraction seeds: a real archive's shapes and the hostile members the judge refuses.
fn tar_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let man: Member = ("artifact_manifest.txt", T::Regular, 0o644, M, None);
    let p = |rest: &str| format!("{S}/{rest}");
    let (bin, lib, sub) = (p("bin"), p("lib/libx.so.1"), p("lib/sub"));
    let (link, via, long) = (p("lib/libx.so"), p("lib/up/etc"), p(&"d/".repeat(60)));
    vec![
        (
            "real",
            tar_seed(
                0,
                &[
                    man,
                    (&bin, T::Directory, 0o755, b"", None),
                    (&lib, T::Regular, 0o755, b"ELF", None),
                    (&link, T::Symlink, 0o777, b"", Some("libx.so.1")),
                    (&sub, T::Link, 0o644, b"", Some(&lib)),
                ],
            ),
        ),
        ("full_layout", tar_seed(1, &[man, (&lib, T::Regular, 0o644, b"x", None), (&long, T::Directory, 0o755, b"", None)])),
        ("with_manifest", tar_seed(2, &[man, (&bin, T::Directory, 0o500, b"", None), (&p("bin/tool"), T::Regular, 0o755, b"#!", None)])),
        ("dotdot", tar_seed(0, &[man, (&p("../../../../../x"), T::Regular, 0o644, b"x", None)])),
        ("absolute", tar_seed(1, &[man, ("/tmp/therock-fuzz-absolute", T::Regular, 0o644, b"x", None)])),
        ("through_link", tar_seed(0, &[man, (&p("lib/up"), T::Symlink, 0o777, b"", Some("../../../../..")), (&via, T::Regular, 0o644, b"x", None)])),
        ("link_changed_later", tar_seed(0, &[man, (&p("a"), T::Symlink, 0o777, b"", Some("b/x")), (&p("b"), T::Symlink, 0o777, b"", Some("../../../.."))])),
        ("hardlink_outside", tar_seed(0, &[man, (&p("h"), T::Link, 0o644, b"", Some("/etc/passwd"))])),
        ("bad_manifest", tar_seed(0, &[("artifact_manifest.txt", T::Regular, 0o644, b"../up\n", None)])),
        ("no_manifest", tar_seed(0, &[(&lib, T::Regular, 0o644, b"x", None)])),
    ]
}

#[test]
fn the_tar_seeds_pass_and_are_the_committed_ones() {
    let write = std::env::var_os("THEROCK_WRITE_FUZZ_SEEDS").is_some();
    for (name, bytes) in tar_seeds() {
        let taken = extract_judged(&bytes);
        assert_eq!(taken, Some(["real", "full_layout", "with_manifest"].contains(&name)), "seed {name}: taken or refused as meant");
        let at = corpus("extract_archive").join(name);
        if write {
            fs::write(&at, &bytes).unwrap();
        }
        assert_eq!(fs::read(&at).ok().as_ref(), Some(&bytes), "{} is stale: THEROCK_WRITE_FUZZ_SEEDS=1 cargo test --lib fuzzing", at.display());
    }
}

#[test]
#[should_panic(expected = "written outside the output directory")]
fn a_write_beside_the_output_directory_is_caught() {
    let s = Scratch::new();
    fs::write(s.out.parent().unwrap().join("escaped"), b"x").unwrap();
    s.assert_nothing_outside();
}

#[cfg(unix)]
#[test]
#[should_panic(expected = "leads to")]
fn a_symlink_leading_out_of_the_output_directory_is_caught() {
    let s = Scratch::new();
    fs::create_dir_all(s.out.join("lib")).unwrap();
    std::os::unix::fs::symlink("../..", s.out.join("lib/up")).unwrap();
    s.assert_links_inside();
}

#[test]
fn a_dangling_link_is_inside_only_while_its_dots_stay_under_the_root() {
    let root = Path::new("/r");
    assert!(lexically_inside(root, Path::new("/r/a/l"), Path::new("../x/y")));
    assert!(!lexically_inside(root, Path::new("/r/a/l"), Path::new("../../x")));
    assert!(!lexically_inside(root, Path::new("/r/l"), Path::new("/x")));
}
