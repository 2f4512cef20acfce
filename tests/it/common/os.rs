//! The Unix file calls some tests make, so that the suite builds for Windows too
//! (scripts/windows-check.sh runs it under Wine): std's on Unix; on Windows, stand-ins for the
//! tests that only need them to build or that are ignored there with the reason.

#[cfg(unix)]
pub use std::os::unix::fs::{chown, symlink, MetadataExt, PermissionsExt};
#[cfg(windows)]
pub use win::*;

#[cfg(windows)]
mod win {
    use std::io;
    use std::path::Path;

    /// A directory or a file link, as the target is.
    pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
        let (t, l) = (target.as_ref(), link.as_ref());
        let resolved = l.parent().map(|p| p.join(t)).unwrap_or_else(|| t.to_path_buf());
        if resolved.is_dir() {
            std::os::windows::fs::symlink_dir(t, l)
        } else {
            std::os::windows::fs::symlink_file(t, l)
        }
    }

    /// Windows has no owners to change; the tests that need it run as root, never under Wine.
    pub fn chown(_: impl AsRef<Path>, _: Option<u32>, _: Option<u32>) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "no chown on Windows"))
    }

    /// Unix modes as far as Windows has them: read-only or not.
    pub trait PermissionsExt {
        fn mode(&self) -> u32;
        fn from_mode(mode: u32) -> Self;
    }

    impl PermissionsExt for std::fs::Permissions {
        fn mode(&self) -> u32 {
            if self.readonly() {
                0o444
            } else {
                0o644
            }
        }

        fn from_mode(mode: u32) -> Self {
            let mut p = std::fs::metadata(std::env::temp_dir()).unwrap().permissions();
            p.set_readonly(mode & 0o200 == 0);
            p
        }
    }

    pub trait MetadataExt {
        fn uid(&self) -> u32;
    }

    impl MetadataExt for std::fs::Metadata {
        fn uid(&self) -> u32 {
            0
        }
    }
}

/// A real path as the tool prints it (on Windows `C:\x`, not the verbatim `\\?\C:\x`).
pub fn canonical(p: &std::path::Path) -> std::path::PathBuf {
    let real = std::fs::canonicalize(p).unwrap();
    match real.to_str().and_then(|s| s.strip_prefix(r"\\?\")) {
        Some(rest) if !rest.starts_with("UNC") => rest.into(),
        _ => real,
    }
}
