//! One archive's byte stream through hash, optional copy, decoder and tar, on a blocking
//! thread. The decoder choice is shared with `compare --deep`.

use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::extract::{self, ExtractError, Layout};
use crate::domain::artifacts::Compression;
use crate::domain::digest;

/// The largest zstd window accepted (128 MiB; TheRock writes level 3, with a few MiB).
const ZSTD_WINDOW_LOG_MAX: u32 = 27;
/// The most memory an xz decoder may use (TheRock's xz presets need at most 65 MiB).
const XZ_MEMLIMIT: u64 = 256 << 20;

/// A decompressing reader for an archive stream, with the decoder's memory bounded (a crafted
/// header cannot ask for gigabytes of window or dictionary).
pub fn decoder<'a, R: Read + 'a>(reader: R, compression: Compression) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::Zst => {
            let mut d = zstd::stream::read::Decoder::new(reader)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(d)
        }
        Compression::Xz => {
            let stream = liblzma::stream::Stream::new_stream_decoder(XZ_MEMLIMIT, liblzma::stream::CONCATENATED).map_err(io::Error::other)?;
            Box::new(liblzma::read::XzDecoder::new_stream(reader, stream))
        }
        // Deflate's window is a fixed 32 KiB: no header can ask for more. What it inflates to
        // is bounded by `Bounded`, as for the others. Concatenated members decode as one stream.
        Compression::Gz => Box::new(flate2::read::MultiGzDecoder::new(reader)),
    })
}

/// Fails once more than `left` bytes were read: bounds everything a decoder produces (file
/// contents, tar headers and metadata records, whatever follows the tar's end), so a small
/// crafted archive cannot make the tar reader buffer or write without end.
struct Bounded<R> {
    inner: R,
    left: u64,
    tripped: bool,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            self.tripped = true;
            return Err(io::Error::other("the archive decompresses to more than its limit"));
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// A reader that fails once the fetch is cancelled (another archive failed), so every worker
/// stops promptly and cleans up after itself before the staging tree is removed.
pub struct Cancellable<R> {
    pub inner: R,
    pub cancel: Arc<AtomicBool>,
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if crate::interrupt::cancelled() {
            return Err(io::Error::other(format!("interrupted by {}", crate::interrupt::signal_name())));
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("cancelled: another archive failed"));
        }
        self.inner.read(buf)
    }
}

/// Where a copy of the archive goes while it streams past.
pub struct Sink {
    pub file: std::fs::File,
    /// Where the copy goes (for messages).
    pub path: std::path::PathBuf,
    /// A cache copy may fail (a full or read-only cache disk) without failing the fetch: the
    /// copy is dropped and the stream goes on. A copy that is the output itself may not.
    pub optional: bool,
}

/// Hashes everything read, and copies it to `sink` if any.
struct Tee<R> {
    inner: R,
    hasher: Sha256,
    sink: Option<(io::BufWriter<std::fs::File>, PathBuf, bool)>,
    sink_failed: Option<io::Error>,
    n: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if let Some((s, path, optional)) = &mut self.sink {
            if let Err(e) = s.write_all(&buf[..n]) {
                if !*optional {
                    return Err(io::Error::new(e.kind(), SinkError { path: path.clone(), source: e }));
                }
                self.sink = None;
                self.sink_failed = Some(e);
            }
        }
        self.n += n as u64;
        Ok(n)
    }
}

/// A failure to write the archive's copy, told apart from a failure to read the archive: it
/// travels inside the `io::Error` the stream's readers see, and is taken out again at the end.
#[derive(Debug, thiserror::Error)]
#[error("could not write {}", path.display())]
pub struct SinkError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl SinkError {
    /// The copy's failure inside `e`, if that is what `e` is.
    fn within(e: io::Error) -> Result<SinkError, io::Error> {
        if !e.get_ref().is_some_and(|i| i.is::<SinkError>()) {
            return Err(e);
        }
        let kind = e.kind();
        match e.into_inner().map(|i| i.downcast::<SinkError>()) {
            Some(Ok(s)) => Ok(*s),
            Some(Err(other)) => Err(io::Error::new(kind, other)),
            None => Err(io::Error::from(kind)),
        }
    }
}

fn drain<R: Read>(mut r: R) -> io::Result<R> {
    io::copy(&mut r, &mut io::sink())?;
    Ok(r)
}

/// What one pass over an archive stream produced.
pub struct Consumed {
    pub sha: digest::Sha256,
    /// Archive bytes read.
    pub n: u64,
    pub manifest: Vec<String>,
    /// Bytes of regular files written by the extraction.
    pub extracted: u64,
    pub symlinks: Vec<Vec<String>>,
    /// Why the optional copy was dropped, if it was.
    pub sink_failed: Option<io::Error>,
}

/// Where and how to extract.
pub struct Target<'a> {
    pub root: &'a Path,
    pub layout: Layout,
    /// Bytes of file contents the archive may extract to.
    pub max_bytes: u64,
}

/// Reads an archive stream to its end: hashes it, copies it to `sink` when given, and extracts
/// it into `target` when given. The whole stream is read even after the tar end marker, so the
/// digest covers every byte.
pub fn consume<R: Read>(reader: R, sink: Option<Sink>, compression: Compression, target: Option<Target<'_>>, archive: &str) -> Result<Consumed, ExtractError> {
    // A failure to write the copy surfaces as a read error of the stream: name the copy.
    let rd = |e: io::Error| match SinkError::within(e) {
        Ok(s) => ExtractError::Write { archive: archive.into(), path: s.path, source: s.source },
        Err(e) => ExtractError::Read { archive: archive.into(), source: e },
    };
    let sink = sink.map(|s| (io::BufWriter::with_capacity(256 << 10, s.file), s.path, s.optional));
    let mut tee = Tee { inner: reader, hasher: Sha256::new(), sink, sink_failed: None, n: 0 };
    let (mut manifest, mut extracted, mut symlinks) = (Vec::new(), 0, Vec::new());
    if let Some(t) = target {
        // Headers and padding on top of the files' bytes: 1/8 more, and 64 MiB.
        let limit = t.max_bytes.saturating_add(t.max_bytes / 8).saturating_add(64 << 20);
        let mut dec = Bounded { inner: decoder(&mut tee, compression).map_err(rd)?, left: limit, tripped: false };
        let too_large = |d: &Bounded<_>, e: ExtractError| if d.tripped { ExtractError::TooLarge { archive: archive.into(), limit: t.max_bytes } } else { e };
        let x = extract::extract(&mut dec, t.root, t.layout, archive, t.max_bytes).map_err(|e| too_large(&dec, e))?;
        (manifest, extracted, symlinks) = (x.manifest, x.bytes, x.symlinks);
        // Past the tar end marker: the rest of the compressed stream must still decode.
        if let Err(e) = drain(&mut dec) {
            return Err(too_large(&dec, ExtractError::Corrupt { archive: archive.into(), compression, source: e }));
        }
    }
    drain(&mut tee).map_err(rd)?;
    let Tee { hasher, sink, mut sink_failed, n, .. } = tee;
    // No fsync: forcing the cache file to disk also forces ext4 to write back every extracted
    // file of the same transaction (it tripled the cold fetch time in the benchmark). A blob
    // torn by a power loss is caught anyway: cached blobs are re-hashed against their name.
    if let Some((mut s, path, optional)) = sink {
        if let Err(e) = s.flush() {
            if !optional {
                return Err(ExtractError::Write { archive: archive.into(), path, source: e });
            }
            sink_failed = Some(e);
        }
    }
    Ok(Consumed { sha: digest::Sha256::from_bytes(&hasher.finalize().into()), n, manifest, extracted, symlinks, sink_failed })
}
