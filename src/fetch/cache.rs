//! The content-addressed archive cache: `blobs/sha256/{digest}` hold verified archives,
//! `refs/{hash of bucket, key, ETag, size}` name the digest of a listed object, `tmp/` holds
//! downloads in progress. A blob appears under its name only once complete and verified.

use sha2::Digest;
use std::io;
use std::path::{Path, PathBuf};

use super::error::FetchError;
use super::lock::{self, remove_orphaned_partials, OwnedTemp};
use crate::domain::digest::Sha256;

pub struct Cache {
    pub root: PathBuf,
}

/// What names one listed object in the cache's references: a changed ETag or size is another
/// object.
#[derive(Debug, Clone, Copy)]
pub struct CacheKey<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub etag: Option<&'a str>,
    pub size: u64,
}

impl Cache {
    pub fn new(root: PathBuf) -> Self {
        Cache { root }
    }

    /// The cache at `root`, if it can be written (a full or read-only disk cannot) and no one
    /// else can write it (see `private_dir`); downloads an earlier run left behind when it was
    /// killed are removed.
    pub fn open(root: PathBuf) -> std::io::Result<Self> {
        let made = private_dir(&root);
        // A cache that cannot be written is said to be so first (whoever owns it).
        let probe = root.join(format!(".probe-{}-{}", std::process::id(), fastrand::u64(..)));
        let res = std::fs::write(&probe, [0u8; 4096]);
        let _ = std::fs::remove_file(&probe);
        res?;
        made?;
        for d in ["tmp", "refs", "blobs", "blobs/sha256"] {
            own_subdir(&root.join(d))?;
        }
        let tmp = root.join("tmp");
        remove_orphaned_partials(&tmp);
        Ok(Cache { root })
    }

    fn blobs(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    pub fn blob(&self, sha: &Sha256) -> PathBuf {
        self.blobs().join(sha.as_str())
    }

    /// Where the digest of this exact object (bucket, key, ETag, size) is recorded.
    pub fn reference(&self, k: CacheKey<'_>) -> Option<PathBuf> {
        let etag = k.etag?;
        let mut h = sha2::Sha256::new();
        h.update(format!("{}/{}@{}:{}", k.bucket, k.key, etag, k.size));
        Some(self.root.join("refs").join(hex::encode(h.finalize())))
    }

    /// The cached blob for `k` and its digest: by the expected digest, or by the object's
    /// reference when there is no digest to go by.
    pub fn lookup(&self, k: CacheKey<'_>, expected: Option<&Sha256>) -> Option<(PathBuf, Sha256)> {
        let by_ref = || read_ref(&self.reference(k)?).map(|(d, _)| d);
        let digest = expected.cloned().or_else(by_ref)?;
        let blob = self.blob(&digest);
        trusted_file(&blob).then_some((blob, digest))
    }

    /// A fresh temporary file for a download in progress, locked while this process lives.
    pub fn tmp(&self) -> Result<(OwnedTemp, std::fs::File), FetchError> {
        let d = self.root.join("tmp");
        std::fs::create_dir_all(&d).map_err(|e| FetchError::io(format!("cannot create the cache directory {}", d.display()), e))?;
        let p = d.join(format!("{}-{}.partial", std::process::id(), fastrand::u64(..)));
        OwnedTemp::create(p.clone()).map_err(|e| FetchError::io(format!("cannot write the cache file {}", p.display()), e))
    }

    /// Whether the blob still has the digest it is named by (a torn write, a flipped bit or
    /// bytes appended after a crash do not). Reads the whole blob: call off the runtime.
    pub fn blob_intact(blob: &Path) -> bool {
        let Some(name) = blob.file_name().and_then(|n| n.to_str()).and_then(Sha256::parse) else { return false };
        let Ok(mut f) = std::fs::File::open(blob) else { return false };
        let mut h = sha2::Sha256::new();
        std::io::copy(&mut f, &mut h).is_ok() && Sha256::from_bytes(&h.finalize().into()) == name
    }

    /// The digest of this exact object (bucket, key, ETag, size), when an earlier fetch
    /// verified it against its sidecar and the blob is still here: a warm fetch then asks S3 for
    /// neither the sidecar nor the archive. (A changed ETag is another reference.)
    pub fn verified_digest(&self, k: CacheKey<'_>) -> Option<Sha256> {
        let (digest, verified) = read_ref(&self.reference(k)?)?;
        (verified && trusted_file(&self.blob(&digest))).then_some(digest)
    }

    /// Moves a download into place under its digest and records the object's reference (with
    /// `verified` when its sidecar vouched for it).
    pub fn publish(&self, tmp: &Path, sha: &Sha256, k: CacheKey<'_>, verified: bool) -> Result<PathBuf, FetchError> {
        let b = self.blob(sha);
        let dir = self.blobs();
        std::fs::create_dir_all(&dir).map_err(|e| FetchError::io(format!("cannot create the cache directory {}", dir.display()), e))?;
        if let Err(e) = std::fs::rename(tmp, &b) {
            // Windows will not replace a blob another fetch has open; the blob is named by its
            // content, so one that is already there and intact is this download.
            if !(trusted_file(&b) && Self::blob_intact(&b)) {
                return Err(FetchError::io(format!("cannot move {} into the cache as {}", tmp.display(), b.display()), e));
            }
            let _ = std::fs::remove_file(tmp);
        }
        if let Some(r) = self.reference(k) {
            if let Some(parent) = r.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let rt = r.with_extension(format!("{}.tmp", fastrand::u64(..)));
            let mut line = if verified { format!("{sha} verified\n") } else { format!("{sha}\n") };
            // The archive's name, for `cache prune` to say what it removes (older readers stop
            // at the first line's second word).
            if let Some(name) = archive_name(k.key) {
                line.push_str(&format!("name {name}\n"));
            }
            if std::fs::write(&rt, line).is_ok() {
                let _ = std::fs::rename(&rt, &r);
            }
        }
        Ok(b)
    }

    /// Bytes held in blobs.
    pub fn size(&self) -> u64 {
        self.entries().iter().map(|e| e.size).sum()
    }
}

/// A blob in use by this process: a shared lock a prune never removes it under, held until the
/// fetch ends (and the blob's modification time set, which is what "last used" means here:
/// access times are unreliable on `noatime` mounts).
pub struct InUse {
    _lock: std::fs::File,
}

impl InUse {
    /// Opens and locks `blob`; `None` when it is gone, or being removed right now.
    pub fn take(blob: &Path) -> Option<(InUse, std::fs::File)> {
        let f = std::fs::File::open(blob).ok()?;
        f.try_lock_shared().ok()?;
        // A prune may have removed the file between the open and the lock: then the lock is on
        // a file no longer under that name.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let (held, named) = (f.metadata().ok()?, std::fs::metadata(blob).ok()?);
            if (held.dev(), held.ino()) != (named.dev(), named.ino()) {
                return None;
            }
        }
        let _ = f.set_modified(std::time::SystemTime::now());
        let reader = f.try_clone().ok()?;
        Some((InUse { _lock: f }, reader))
    }

    /// Keeps a freshly published blob's temporary-file lock, turned shared.
    pub fn keep(lock: std::fs::File, blob: &Path) -> InUse {
        let _ = lock.lock_shared();
        let _ = std::fs::File::open(blob).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        InUse { _lock: lock }
    }
}

/// One blob of the cache.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub digest: String,
    pub size: u64,
    /// Unix seconds of its last use.
    pub used: i64,
    /// The archive filenames its references name (none for references older than the name).
    pub names: Vec<String>,
}

/// What the cache holds.
#[derive(Debug, Clone)]
pub struct Stats {
    pub dir: PathBuf,
    pub size: u64,
    pub entries: usize,
    pub oldest_use: Option<i64>,
    pub newest_use: Option<i64>,
    /// Downloads in progress (or left by a killed fetch).
    pub partials: usize,
}

/// What a prune removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default)]
pub struct Pruned {
    pub removed: Vec<Entry>,
    /// Blobs that would have gone but another fetch is using.
    pub in_use: Vec<Entry>,
    pub size_before: u64,
    pub size_after: u64,
    pub dry_run: bool,
}

fn unix(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Which entries go: older than `max_age` seconds, then the least recently used until the rest
/// fits in `max_size`. Pure: `entries` and `now` in, the victims out (oldest use first).
pub fn choose_victims(mut entries: Vec<Entry>, max_size: Option<u64>, max_age: Option<u64>, now: i64) -> Vec<Entry> {
    entries.sort_by(|a, b| a.used.cmp(&b.used).then(a.digest.cmp(&b.digest)));
    let mut total: u64 = entries.iter().map(|e| e.size).sum();
    let mut out = Vec::new();
    for e in entries {
        let too_old = max_age.is_some_and(|a| now - e.used > a as i64);
        let too_big = max_size.is_some_and(|m| total > m);
        if too_old || too_big {
            total -= e.size;
            out.push(e);
        }
    }
    out
}

impl Cache {
    /// `root/sub` when it is a real directory (never a symlink: maintenance must not follow one
    /// into a directory that is not the cache's).
    fn real_dir(&self, sub: &str) -> Option<PathBuf> {
        let d = self.root.join(sub);
        std::fs::symlink_metadata(&d).is_ok_and(|m| m.is_dir()).then_some(d)
    }

    /// The blobs: files named by a digest, in a real `blobs/sha256` under a real `blobs`.
    fn entries(&self) -> Vec<Entry> {
        let Some(dir) = self.real_dir("blobs").and(self.real_dir("blobs/sha256")) else { return Vec::new() };
        let Ok(rd) = std::fs::read_dir(&dir) else { return Vec::new() };
        rd.flatten()
            .filter(|e| Sha256::parse(&e.file_name().to_string_lossy()).is_some())
            .filter_map(|e| {
                let m = e.metadata().ok().filter(|m| m.is_file())?; // a DirEntry's metadata never follows a link
                Some(Entry {
                    digest: e.file_name().to_string_lossy().into_owned(),
                    size: m.len(),
                    used: m.modified().map(unix).unwrap_or(0),
                    names: Vec::new(),
                })
            })
            .collect()
    }

    pub fn stats(&self) -> Stats {
        let entries = self.entries();
        let partials = std::fs::read_dir(self.root.join("tmp"))
            .map(|rd| rd.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "partial")).count())
            .unwrap_or(0);
        Stats {
            dir: self.root.clone(),
            size: entries.iter().map(|e| e.size).sum(),
            entries: entries.len(),
            oldest_use: entries.iter().map(|e| e.used).min(),
            newest_use: entries.iter().map(|e| e.used).max(),
            partials,
        }
    }

    /// Removes the least recently used blobs (and those unused for `max_age` seconds) until the
    /// cache fits in `max_size`; never one another fetch holds (the lock a fetch takes on every
    /// blob it uses). Safe while fetches run.
    pub fn prune(&self, max_size: Option<u64>, max_age: Option<u64>, dry_run: bool) -> Pruned {
        let entries = self.entries();
        let mut p = Pruned { size_before: entries.iter().map(|e| e.size).sum(), dry_run, ..Pruned::default() };
        let now = unix(std::time::SystemTime::now());
        let victims = choose_victims(entries, max_size, max_age, now);
        let names = if victims.is_empty() { Default::default() } else { self.names_by_digest() };
        for mut e in victims {
            e.names = names.get(&e.digest).map(|n| n.iter().cloned().collect()).unwrap_or_default();
            let blob = self.blobs().join(&e.digest);
            let free = std::fs::File::open(&blob).is_ok_and(|f| f.try_lock().is_ok() && (dry_run || std::fs::remove_file(&blob).is_ok()));
            if free {
                p.removed.push(e);
            } else {
                p.in_use.push(e);
            }
        }
        if !dry_run {
            self.remove_dangling_refs();
            if let Some(tmp) = self.real_dir("tmp") {
                lock::remove_orphaned_partials(&tmp);
            }
        }
        p.size_after = p.size_before - p.removed.iter().map(|e| e.size).sum::<u64>();
        p
    }

    /// Empties the cache (but for blobs in use), leaving it ready for the next fetch.
    pub fn clear(&self) -> Pruned {
        let p = self.prune(Some(0), None, false);
        for d in ["tmp", "refs", "blobs", "blobs/sha256"] {
            let _ = own_subdir(&self.root.join(d));
        }
        p
    }

    /// The archive names the references give each digest (only references the cache names and
    /// the user owns, as every reference read).
    fn names_by_digest(&self) -> std::collections::HashMap<String, std::collections::BTreeSet<String>> {
        let mut out: std::collections::HashMap<String, std::collections::BTreeSet<String>> = Default::default();
        let Some(refs) = self.real_dir("refs") else { return out };
        for e in std::fs::read_dir(refs).into_iter().flatten().flatten() {
            if Sha256::parse(&e.file_name().to_string_lossy()).is_none() {
                continue;
            }
            if let Some((d, _, Some(name))) = read_ref_named(&e.path()) {
                out.entry(d.as_str().to_string()).or_default().insert(name);
            }
        }
        out
    }

    /// References whose blob is gone (only names the cache gives: a digest, or a reference
    /// being written).
    fn remove_dangling_refs(&self) {
        let Some(refs) = self.real_dir("refs") else { return };
        let Ok(rd) = std::fs::read_dir(refs) else { return };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if Sha256::parse(name.split('.').next().unwrap_or_default()).is_none() {
                continue;
            }
            if !read_ref(&e.path()).is_some_and(|(d, _)| self.blob(&d).is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A reference file: the digest it names (only a well-formed one: the text is not ours to
/// trust as a path) and whether a sidecar vouched for it.
fn read_ref(path: &Path) -> Option<(Sha256, bool)> {
    read_ref_named(path).map(|(d, v, _)| (d, v))
}

/// `read_ref`, with the archive name a reference written since names were recorded gives.
fn read_ref_named(path: &Path) -> Option<(Sha256, bool, Option<String>)> {
    if !trusted_file(path) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let mut it = lines.next()?.split_whitespace();
    let digest = it.next().and_then(Sha256::parse)?;
    let verified = it.next() == Some("verified");
    let name = lines.find_map(|l| l.strip_prefix("name ")).and_then(archive_name);
    Some((digest, verified, name))
}

/// The filename of an S3 key, when it is one a terminal can show as it is (an archive's names
/// are letters, digits and `._+-`; a key a fork's run controls may hold anything).
fn archive_name(key: &str) -> Option<String> {
    let name = key.rsplit('/').next()?;
    let plain = !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    plain.then(|| name.to_string())
}

/// A refusal to use a cache directory someone else could write (not a failure to write it).
#[derive(Debug)]
pub struct Untrusted(pub String);

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Untrusted {}

fn untrusted(why: String) -> io::Error {
    io::Error::other(Untrusted(why))
}

/// The effective user id (0 where there is none).
#[cfg(unix)]
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether only the current user can change what `m` describes: it is theirs and neither its
/// group nor others may write it.
pub(super) fn owned(m: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        m.uid() == euid() && m.mode() & 0o022 == 0
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        true
    }
}

/// A regular file (not a symlink) only the current user can change.
pub(super) fn trusted_file(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() && owned(&m))
}

/// Creates `dir` (0700, with any missing parents) and checks nobody but the current user can
/// change it: a directory (the root may be a symlink the user made) of theirs that neither its
/// group nor others may write. `Err` (an `Untrusted`) when it is not.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)?;
    let m = std::fs::metadata(dir)?;
    if !owned(&m) {
        return Err(untrusted(format!("{} belongs to another user, or others may write it", dir.display())));
    }
    Ok(())
}

/// `p` a real directory of the current user's (created 0700 when missing); a symlink there is
/// refused, never followed.
fn own_subdir(p: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            #[cfg_attr(not(unix), allow(unused_mut))]
            let mut b = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            match b.create(p) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
                _ => own_subdir(p),
            }
        }
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_symlink() => Err(untrusted(format!("{} is a symlink (the cache never follows one)", p.display()))),
        Ok(m) if !m.is_dir() => Err(untrusted(format!("{} is not a directory", p.display()))),
        Ok(m) if !owned(&m) => Err(untrusted(format!("{} belongs to another user, or others may write it", p.display()))),
        Ok(_) => Ok(()),
    }
}

/// `p` a regular file (not a symlink) of the current user's that no one else may read or
/// write (a secret); `Err` (an `Untrusted`) when it is not.
pub fn private_file(p: &Path) -> io::Result<()> {
    let m = std::fs::symlink_metadata(p)?;
    #[cfg(unix)]
    let shared = std::os::unix::fs::MetadataExt::mode(&m) & 0o077 != 0;
    #[cfg(not(unix))]
    let shared = false;
    if !m.is_file() || !owned(&m) || shared {
        return Err(untrusted(format!("{} is not a private file of this user's", p.display())));
    }
    Ok(())
}

/// Whether an error opening a cache is a refusal to trust it.
pub fn is_untrusted(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|r| r.is::<Untrusted>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(d: &str, size: u64, used: i64) -> Entry {
        Entry { digest: d.into(), size, used, names: Vec::new() }
    }

    #[test]
    fn a_reference_names_its_archive_only_when_the_name_is_plain() {
        assert_eq!(archive_name("2401-linux/blas_lib_gfx942.tar.zst").as_deref(), Some("blas_lib_gfx942.tar.zst"));
        assert_eq!(archive_name("v2/therock-dist-linux-gfx94X-dcgpu-7.0.0rc1+x.tar.gz").as_deref(), Some("therock-dist-linux-gfx94X-dcgpu-7.0.0rc1+x.tar.gz"));
        for bad in ["1-linux/evil\n::warning::x_lib_gfx942.tar.zst", "1-linux/a b.tar.zst", "1-linux/", "1-linux/\u{1b}[31m.tar.zst"] {
            assert_eq!(archive_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pruning_removes_the_least_recently_used_first_until_the_rest_fits() {
        let all = vec![e("new", 10, 300), e("old", 10, 100), e("mid", 10, 200)];
        let v: Vec<String> = choose_victims(all.clone(), Some(15), None, 400).into_iter().map(|e| e.digest).collect();
        assert_eq!(v, vec!["old", "mid"]);
        let v: Vec<String> = choose_victims(all.clone(), Some(30), None, 400).into_iter().map(|e| e.digest).collect();
        assert!(v.is_empty(), "it fits");
        let v: Vec<String> = choose_victims(all, None, Some(150), 400).into_iter().map(|e| e.digest).collect();
        assert_eq!(v, vec!["old", "mid"], "unused for more than the age");
    }
}
