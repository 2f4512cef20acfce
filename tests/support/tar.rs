//! The one tar writer of the unit tests (`src/fetch/extract_tests.rs`, `src/fuzzing_tests.rs`),
//! the integration tests (`tests/it/common/archives.rs`) and the bench (`benches/fetch.rs`), each
//! of which includes this file with `#[path = ...] mod`: it is test support, not part of the library.
//!
//! It writes every name as given, bytes into the header, so it also writes what the `tar`
//! crate's builder refuses (`..`, absolute paths, backslashes): the extraction's hostile-member
//! tests need exactly those. Names and link targets past 100 bytes get a GNU long-name record
//! first, as GNU tar and the `tar` crate write them.

use std::io::{self, Write};

/// A tar stream written into `W`, member by member; `finish` ends it.
pub struct TarWriter<W: Write> {
    out: W,
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W) -> Self {
        TarWriter { out }
    }

    /// One member: `data` is a regular file's content (empty for the other kinds), `link` a
    /// symbolic or hard link's target.
    pub fn entry(&mut self, kind: tar::EntryType, name: &str, mode: u32, data: &[u8], link: Option<&str>) -> io::Result<()> {
        if name.len() > 100 {
            self.long(tar::EntryType::GNULongName, name)?;
        }
        if let Some(l) = link.filter(|l| l.len() > 100) {
            self.long(tar::EntryType::GNULongLink, l)?;
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        let gnu = h.as_gnu_mut().expect("a GNU header");
        copy_truncated(&mut gnu.name, name);
        if let Some(l) = link {
            copy_truncated(&mut gnu.linkname, l);
        }
        h.set_cksum();
        self.out.write_all(h.as_bytes())?;
        self.data(data)
    }

    /// Ends the stream (two zero blocks) and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 1024])?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// A GNU `././@LongLink` record carrying a name or link target too long for the header.
    fn long(&mut self, kind: tar::EntryType, text: &str) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(text.len() as u64 + 1);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        copy_truncated(&mut h.as_gnu_mut().expect("a GNU header").name, "././@LongLink");
        h.set_cksum();
        self.out.write_all(h.as_bytes())?;
        let mut with_nul = text.as_bytes().to_vec();
        with_nul.push(0);
        self.data(&with_nul)
    }

    /// `data`, padded to the next 512-byte block.
    fn data(&mut self, data: &[u8]) -> io::Result<()> {
        self.out.write_all(data)?;
        let pad = data.len().div_ceil(512) * 512 - data.len();
        self.out.write_all(&[0u8; 512][..pad])
    }
}

/// As much of `text` as the field holds (the rest went into a long-name record).
fn copy_truncated(field: &mut [u8], text: &str) {
    let n = text.len().min(field.len());
    field[..n].copy_from_slice(&text.as_bytes()[..n]);
}
