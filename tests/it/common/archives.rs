//! Archives as TheRock's CI makes them (a manifest first, then the stage trees), compressed as
//! it compresses them, and hand-made ones with names the `tar` crate refuses.

use std::io::Write;

#[path = "../../support/tar.rs"]
mod tar_writer;
use tar_writer::TarWriter;

pub enum Member<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

/// `artifact_manifest.txt` listing `manifest`, then `members`, as TheRock's CI writes them.
pub fn tar_bytes(manifest: &[&str], members: &[Member]) -> Vec<u8> {
    use tar::EntryType::{Directory, Link, Regular, Symlink};
    let mut b = TarWriter::new(Vec::new());
    let text = manifest.iter().map(|l| format!("{l}\n")).collect::<String>();
    b.entry(Regular, "artifact_manifest.txt", 0o644, text.as_bytes(), None).unwrap();
    for m in members {
        match m {
            Member::File(p, data, mode) => b.entry(Regular, p, *mode, data, None),
            Member::Dir(p) => b.entry(Directory, p, 0o755, b"", None),
            Member::Symlink(p, target) => b.entry(Symlink, p, 0o777, b"", Some(target)),
            Member::Hardlink(p, target) => b.entry(Link, p, 0o644, b"", Some(target)),
        }
        .unwrap();
    }
    b.finish().unwrap()
}

pub fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A small but real artifact: `{name}_{component}_{target}` with one file under its stage dir.
pub fn simple_artifact(name: &str, target: &str, content: &str) -> Vec<u8> {
    let line = format!("{name}/stage");
    let file = format!("{line}/share/{name}/{target}.txt");
    zst(&tar_bytes(&[&line], &[Member::File(&file, content.as_bytes(), 0o644)]))
}

/// A tar of (name, typeflag, data, link target or ""), each of mode 0755, names as given, so
/// names the `tar` crate's builder would refuse get through.
pub fn raw_tar(entries: &[(&str, u8, &str, &str)]) -> Vec<u8> {
    let mut b = TarWriter::new(Vec::new());
    for (name, kind, data, link) in entries {
        let link = Some(*link).filter(|l| !l.is_empty());
        b.entry(tar::EntryType::new(*kind), name, 0o755, data.as_bytes(), link).unwrap();
    }
    b.finish().unwrap()
}

pub fn noise(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for b in v.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    v
}
