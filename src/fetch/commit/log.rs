//! The journal on disk: one signed line per step, written and fsynced before the step is taken.
//!
//! The output directory is not the tool's (a pull request's checkout can ship anything in it),
//! so a journal found there is believed only when every line carries an HMAC made with a key
//! kept outside the output, in the user's own cache directory (`journal.key`, 0600, refused
//! when someone else could read or replace it). The first line names the output and a random
//! nonce, and each line's MAC covers the nonce and its number: lines cannot be forged, moved
//! between journals, or reordered.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Step;

pub const LOG: &str = "journal.jsonl";
const KEY: &str = "journal.key";

/// The secret that signs journals, read from (or created in) the user's cache directory.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl Key {
    /// The key in `dir` (created there, 0600, when missing); `Err` saying why when it cannot be
    /// trusted (not the user's, readable or writable by others) or written.
    pub fn load(dir: &Path) -> io::Result<Key> {
        super::super::cache::private_dir(dir)?;
        let path = dir.join(KEY);
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| io::Error::other(e.to_string()))?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(&path) {
            Ok(mut f) => {
                f.write_all(hex::encode(fresh).as_bytes())?;
                f.sync_all()?;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        super::super::cache::private_file(&path)?;
        let text = std::fs::read_to_string(&path)?;
        let key = hex::decode(text.trim()).ok().filter(|k| k.len() == 32).ok_or_else(|| io::Error::other(format!("{} is not a key", path.display())))?;
        Ok(Key(key))
    }

    /// A MAC of `parts` (for the output's record of what wrote it, beside the journal's own).
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        self.mac(parts)
    }

    fn mac(&self, parts: &[&[u8]]) -> String {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for p in parts {
            m.update(&(p.len() as u64).to_le_bytes());
            m.update(p);
        }
        hex::encode(m.finalize().into_bytes())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    out: PathBuf,
    nonce: String,
}

/// The journal being written.
pub struct Writer {
    pub path: PathBuf,
    file: std::fs::File,
    key: Key,
    nonce: String,
    seq: u64,
}

impl Writer {
    /// A fresh journal in `staging` for a commit into `out`.
    pub fn create(staging: &Path, out: &Path, key: Key) -> io::Result<Writer> {
        let path = staging.join(LOG);
        let file = std::fs::OpenOptions::new().create_new(true).append(true).open(&path)?;
        let mut n = [0u8; 16];
        getrandom::fill(&mut n).map_err(|e| io::Error::other(e.to_string()))?;
        let mut w = Writer { path, file, key, nonce: hex::encode(n), seq: 0 };
        let header = serde_json::to_string(&Header { out: out.to_path_buf(), nonce: w.nonce.clone() })?;
        let mac = w.key.mac(&[b"header", header.as_bytes()]);
        writeln!(w.file, "{mac} {header}")?;
        w.file.sync_data()?;
        sync_dir(staging);
        Ok(w)
    }

    /// Appends `steps` and makes them durable before any of them is taken.
    pub fn append(&mut self, steps: &[Step]) -> io::Result<()> {
        let mut text = String::new();
        for s in steps {
            self.seq += 1;
            let json = serde_json::to_string(s)?;
            let mac = self.key.mac(&[self.nonce.as_bytes(), &self.seq.to_le_bytes(), json.as_bytes()]);
            text.push_str(&format!("{mac} {json}\n"));
        }
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()
    }
}

/// Why a journal found in the output is not believed.
#[derive(Debug)]
pub enum Refused {
    Unreadable(io::Error),
    NoKey(io::Error),
    NotOurs,
    OtherOutput(PathBuf),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Unreadable(e) => write!(f, "it cannot be read ({e})"),
            Refused::NoKey(e) => write!(f, "the key that signs journals cannot be read ({e})"),
            Refused::NotOurs => write!(f, "it was not written by this tool (its signature does not match the key in the cache directory)"),
            Refused::OtherOutput(p) => write!(f, "it was written for another output directory ({})", p.display()),
        }
    }
}

/// The steps of the journal at `path`, if this tool wrote it (signed with `key`) for a commit into
/// `out`. A torn last line (the write a kill interrupted) ends the journal; the step it would have
/// announced was not taken.
pub fn read(path: &Path, out: &Path, key: Result<&Key, &io::Error>) -> Result<Vec<Step>, Refused> {
    let text = std::fs::read(path).map_err(Refused::Unreadable)?;
    let key = key.map_err(|e| Refused::NoKey(io::Error::new(e.kind(), e.to_string())))?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.split_inclusive('\n');
    let split = |l: &str| l.strip_suffix('\n').and_then(|l| l.split_once(' ')).map(|(m, j)| (m.to_string(), j.to_string()));
    let (mac, header) = lines.next().and_then(split).ok_or(Refused::NotOurs)?;
    if key.mac(&[b"header", header.as_bytes()]) != mac {
        return Err(Refused::NotOurs);
    }
    let header: Header = serde_json::from_str(&header).map_err(|_| Refused::NotOurs)?;
    if header.out != out {
        return Err(Refused::OtherOutput(header.out));
    }
    let mut steps = Vec::new();
    for (i, line) in lines.enumerate() {
        let Some((mac, json)) = split(line) else { break };
        let seq = i as u64 + 1;
        if key.mac(&[header.nonce.as_bytes(), &seq.to_le_bytes(), json.as_bytes()]) != mac {
            break;
        }
        match serde_json::from_str(&json) {
            Ok(s) => steps.push(s),
            Err(_) => break,
        }
    }
    Ok(steps)
}

/// Makes the entries of `dirs` (renames into and out of them) durable; best effort. (One
/// fsync each: a `syncfs` would also wait for every other writer's data on the file system.)
pub fn sync_dirs<'a>(dirs: impl Iterator<Item = &'a PathBuf>) {
    dirs.for_each(|d| sync_dir(d));
}

/// Makes a directory's entries (renames into and out of it) durable; best effort.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
