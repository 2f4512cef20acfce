//! One archive's byte stream through hash, optional copy, decoder and tar, on a blocking
//! thread. The decoder choice is shared with `compare --deep`.

use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::extract::{self, ExtractError, Layout};
use crate::domain::artifacts::Compression;

/// A decompressing reader for an archive stream.
pub fn decoder<'a, R: Read + 'a>(reader: R, compression: Compression) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::Zst => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
    })
}

/// A reader that fails once the fetch is cancelled (another archive failed), so every worker
/// stops promptly and cleans up after itself before the staging tree is removed.
pub struct Cancellable<R> {
    pub inner: R,
    pub cancel: Arc<AtomicBool>,
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("cancelled: another archive failed"));
        }
        self.inner.read(buf)
    }
}

/// Hashes everything read, and copies it to `sink` (the cache's temporary file) if any.
struct Tee<R> {
    inner: R,
    hasher: Sha256,
    sink: Option<io::BufWriter<std::fs::File>>,
    n: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if let Some(s) = &mut self.sink {
            s.write_all(&buf[..n])?;
        }
        self.n += n as u64;
        Ok(n)
    }
}

fn drain<R: Read>(mut r: R) -> io::Result<R> {
    io::copy(&mut r, &mut io::sink())?;
    Ok(r)
}

/// What one pass over an archive stream produced.
pub struct Consumed {
    pub sha: String,
    /// Archive bytes read.
    pub n: u64,
    pub manifest: Vec<String>,
    /// Bytes of regular files written by the extraction.
    pub extracted: u64,
}

/// Reads an archive stream to its end: hashes it, copies it to `sink` when given, and extracts
/// it into `staged` when given. The whole stream is read even after the tar end marker, so the
/// digest covers every byte.
pub fn consume<R: Read>(
    reader: R,
    sink: Option<std::fs::File>,
    compression: Compression,
    staged: Option<(&Path, Layout)>,
    archive: &str,
) -> Result<Consumed, ExtractError> {
    let rd = |e: io::Error| ExtractError::Read { archive: archive.into(), err: e.to_string() };
    let mut tee = Tee { inner: reader, hasher: Sha256::new(), sink: sink.map(|f| io::BufWriter::with_capacity(1 << 20, f)), n: 0 };
    let (mut manifest, mut extracted) = (Vec::new(), 0);
    if let Some((root, layout)) = staged {
        let mut dec = decoder(&mut tee, compression).map_err(rd)?;
        let x = extract::extract(&mut dec, root, layout, archive)?;
        (manifest, extracted) = (x.manifest, x.bytes);
        // Past the tar end marker: the rest of the compressed stream must still decode.
        drain(&mut dec).map_err(|e| ExtractError::Read { archive: archive.into(), err: format!("corrupt {compression} stream: {e}") })?;
    }
    drain(&mut tee).map_err(rd)?;
    let Tee { hasher, sink, n, .. } = tee;
    // No fsync: forcing the cache file to disk also forces ext4 to write back every extracted
    // file of the same transaction (it tripled the cold fetch time in the benchmark). A blob
    // torn by a power loss is caught anyway: cached blobs are re-hashed against their name.
    if let Some(mut s) = sink {
        s.flush().map_err(rd)?;
    }
    Ok(Consumed { sha: hex::encode(hasher.finalize()), n, manifest, extracted })
}
