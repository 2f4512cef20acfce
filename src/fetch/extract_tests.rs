//! The extraction's tests: layouts, modes, and a table of hostile members.
use super::*;

#[path = "../../tests/support/tar.rs"]
mod tar_writer;
use tar_writer::TarWriter;

/// A tar of `entries` (path, kind, data, link target), each of mode 0755, names as given.
fn tarball(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut b = TarWriter::new(Vec::new());
    for (path, t, data, link) in entries {
        b.entry(*t, path, 0o755, data, *link).unwrap();
    }
    b.finish().unwrap()
}

const M: &str = "compiler/amd-llvm/stage\n";

#[cfg(unix)]
#[test]
fn directory_modes_are_never_the_archives() {
    use std::os::unix::fs::PermissionsExt;
    let mut b = TarWriter::new(Vec::new());
    let entries: [(&str, tar::EntryType, &[u8], u32); 4] = [
        ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), 0o644),
        ("compiler/amd-llvm/stage/share", tar::EntryType::Directory, b"", 0o550),
        ("compiler/amd-llvm/stage/share/doc.txt", tar::EntryType::Regular, b"doc", 0o644),
        ("compiler/amd-llvm/stage/lib", tar::EntryType::Directory, b"", 0o700),
    ];
    for (path, t, data, mode) in entries {
        b.entry(t, path, mode, data, None).unwrap();
    }
    let tb = b.finish().unwrap();
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("f");
    extract(&tb[..], &f, Layout::Flatten, "a.tar", u64::MAX).unwrap();
    let mode = |p: &str| fs::metadata(f.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(fs::read(f.join("share/doc.txt")).unwrap(), b"doc");
    // Issue 21: 0755 less the umask, whatever the archive says (0550 and 0700 here).
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let umask = status.lines().find_map(|l| l.strip_prefix("Umask:")).map(|v| u32::from_str_radix(v.trim(), 8).unwrap()).unwrap();
    assert_eq!(mode("share"), 0o755 & !umask);
    assert_eq!(mode("lib"), 0o755 & !umask);
}

#[test]
fn flatten_and_full_layouts() {
    let tb = tarball(&[
        ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
        ("compiler/amd-llvm/stage/bin", tar::EntryType::Directory, b"", None),
        ("compiler/amd-llvm/stage/bin/clang", tar::EntryType::Regular, b"ELF", None),
        ("compiler/amd-llvm/stage/bin/clang++", tar::EntryType::Symlink, b"", Some("clang")),
        ("compiler/amd-llvm/stage/bin/cc", tar::EntryType::Link, b"", Some("compiler/amd-llvm/stage/bin/clang")),
    ]);
    let d = tempfile::tempdir().unwrap();
    let r = extract(&tb[..], &d.path().join("f"), Layout::Flatten, "a.tar", u64::MAX).unwrap();
    assert_eq!(r.manifest, vec!["compiler/amd-llvm/stage"]);
    assert_eq!(fs::read(d.path().join("f/bin/clang")).unwrap(), b"ELF");
    if cfg!(windows) {
        assert_eq!(fs::read(d.path().join("f/bin/clang++")).unwrap(), b"ELF", "a copy of its target on Windows");
    } else {
        assert_eq!(fs::read_link(d.path().join("f/bin/clang++")).unwrap(), Path::new("clang"));
    }
    assert_eq!(fs::read(d.path().join("f/bin/cc")).unwrap(), b"ELF");
    extract(&tb[..], &d.path().join("full"), Layout::Full, "a.tar", u64::MAX).unwrap();
    assert!(d.path().join("full/compiler/amd-llvm/stage/bin/clang").is_file());
}

/// A member: path, type, contents, link target.
type Entry<'a> = (&'a str, tar::EntryType, &'a [u8], Option<&'a str>);

#[test]
fn hostile_members_are_refused() {
    let cases: Vec<Vec<Entry>> = vec![
        vec![("compiler/amd-llvm/stage/x", tar::EntryType::Regular, b"x", None)],
        vec![("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), ("/etc/passwd", tar::EntryType::Regular, b"x", None)],
        vec![
            ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
            ("compiler/amd-llvm/stage/../../../x", tar::EntryType::Regular, b"x", None),
        ],
        vec![("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), ("other/x", tar::EntryType::Regular, b"x", None)],
        vec![
            ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
            ("compiler/amd-llvm/stage/l", tar::EntryType::Symlink, b"", Some("../../../../etc")),
        ],
        vec![("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), ("compiler/amd-llvm/stage/l", tar::EntryType::Symlink, b"", Some("/etc"))],
        vec![
            ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
            ("compiler/amd-llvm/stage/l", tar::EntryType::Symlink, b"", Some("sub")),
            ("compiler/amd-llvm/stage/l/x", tar::EntryType::Regular, b"x", None),
        ],
        vec![
            ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
            ("compiler/amd-llvm/stage/h", tar::EntryType::Link, b"", Some("/etc/passwd")),
        ],
        vec![("artifact_manifest.txt", tar::EntryType::Regular, b"../escape\n", None)],
    ];
    for (i, c) in cases.iter().enumerate() {
        let d = tempfile::tempdir().unwrap();
        let tb = tarball(c);
        let err = extract(&tb[..], &d.path().join("o"), Layout::Flatten, "evil.tar.zst", u64::MAX);
        assert!(err.is_err(), "case {i} was accepted");
        assert!(err.unwrap_err().to_string().contains("evil.tar.zst"));
        assert!(!d.path().join("x").exists() && !d.path().join("escape").exists());
    }
}

#[test]
fn a_hard_link_that_carries_a_symlink_to_a_shallower_place_is_refused() {
    // The review's crafted archive: A is a file, then a symlink that stays inside from
    // where it stands; the hard link B copies it two levels up, where it leads out; the
    // last member would be written through it.
    let deep = "p/stage/a/b/c/d/e/f/g/h/i/j/A";
    let up = "../../../../../../../../../../tmp/victim";
    let tb = tarball(&[
        ("artifact_manifest.txt", tar::EntryType::Regular, b"p/stage\n", None),
        (deep, tar::EntryType::Regular, b"x", None),
        (deep, tar::EntryType::Symlink, b"", Some(up)),
        ("p/stage/B", tar::EntryType::Link, b"", Some(deep)),
        ("p/stage/B/important.conf", tar::EntryType::Regular, b"pwned", None),
    ]);
    for layout in [Layout::Flatten, Layout::Full] {
        let d = tempfile::tempdir().unwrap();
        let e = extract(&tb[..], &d.path().join("o"), layout, "evil.tar.zst", u64::MAX).unwrap_err().to_string();
        assert!(e.contains("evil.tar.zst") && e.contains("p/stage/B"), "{e}");
    }
}

#[test]
fn a_symlink_chain_leading_out_is_refused_even_when_each_link_looks_inside() {
    let tb = tarball(&[
        ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
        ("compiler/amd-llvm/stage/x/y/up", tar::EntryType::Symlink, b"", Some("../..")),
        ("compiler/amd-llvm/stage/x/y/esc", tar::EntryType::Symlink, b"", Some("up/../../etc")),
    ]);
    let d = tempfile::tempdir().unwrap();
    let e = extract(&tb[..], &d.path().join("o"), Layout::Flatten, "evil.tar.zst", u64::MAX).unwrap_err().to_string();
    assert!(e.contains("esc") && e.contains("outside"), "{e}");
}

#[test]
fn a_later_link_that_redirects_an_earlier_one_is_caught_at_the_end() {
    // `q/l -> ../d/../x` is inside while d is (taken for) a directory; then `d -> .`
    // makes it lead above the root.
    let d = tempfile::tempdir().unwrap();
    let tb = tarball(&[
        ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
        ("compiler/amd-llvm/stage/q/l", tar::EntryType::Symlink, b"", Some("../d/../x")),
        ("compiler/amd-llvm/stage/d", tar::EntryType::Symlink, b"", Some(".")),
    ]);
    let e = extract(&tb[..], &d.path().join("flat"), Layout::Flatten, "evil.tar.zst", u64::MAX).unwrap_err().to_string();
    assert!(e.contains("q/l") && e.contains("outside"), "{e}");
}

#[test]
fn reserved_names_and_monster_paths_are_refused() {
    // A member that would land in another archive's staging tree when merged.
    let staged = tarball(&[
        ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
        ("compiler/amd-llvm/stage/.therock-artifacts-staging-1/1/x", tar::EntryType::Regular, b"x", None),
    ]);
    // A path of 300 components (GNU long name).
    let long = format!("compiler/amd-llvm/stage/{}x", "a/".repeat(300));
    let monster = tarball(&[("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), (&long, tar::EntryType::Regular, b"x", None)]);
    // The output's record of what wrote it, in any case.
    let records: Vec<Vec<u8>> = [".therock-artifacts.json", ".THEROCK-ARTIFACTS.JSON"]
        .iter()
        .map(|n| {
            let p = format!("compiler/amd-llvm/stage/{n}");
            tarball(&[("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None), (&p, tar::EntryType::Regular, b"{}", None)])
        })
        .collect();
    for (i, tb) in [staged, monster].iter().chain(&records).enumerate() {
        let d = tempfile::tempdir().unwrap();
        let e = extract(&tb[..], &d.path().join("o"), Layout::Flatten, "evil.tar.zst", u64::MAX);
        assert!(matches!(e, Err(ExtractError::Unsafe { .. })), "case {i}: {e:?}");
    }
}

#[test]
fn extraction_stops_past_the_byte_limit() {
    let big = vec![0u8; 10_000];
    let tb = tarball(&[
        ("artifact_manifest.txt", tar::EntryType::Regular, M.as_bytes(), None),
        ("compiler/amd-llvm/stage/zeros", tar::EntryType::Regular, &big, None),
    ]);
    let d = tempfile::tempdir().unwrap();
    let e = extract(&tb[..], &d.path().join("o"), Layout::Flatten, "bomb.tar.zst", 9_999).unwrap_err();
    assert!(matches!(e, ExtractError::TooLarge { .. }), "{e}");
    assert!(!d.path().join("o/zeros").exists(), "refused before writing");
}
