//! `.sha256sum` sidecars: the digest an archive must have.

use super::error::FetchError;
use super::plan::Planned;
use crate::domain::digest::Sha256;
use crate::s3::S3;

/// The first token of a sidecar: a SHA-256 in hex, either case (CRLF and `digest  filename`
/// tolerated).
pub fn parse(text: &[u8]) -> Option<Sha256> {
    let s = String::from_utf8_lossy(text);
    Sha256::parse_any_case(s.split_whitespace().next()?.trim_start_matches('\u{feff}'))
}

/// The digest `p` must have: `None` when there is nothing to check against (a warning says so).
pub async fn expected(s3: &S3, p: &Planned) -> Result<Option<Sha256>, FetchError> {
    let Some(k) = &p.sidecar_key else {
        crate::say!("warning: {} has no .sha256sum sidecar; it cannot be verified", p.name.filename);
        return Ok(None);
    };
    // A sidecar is a digest and perhaps a file name: 4 KiB is plenty.
    let body = match s3.get_small(&p.bucket, k, 4096).await {
        Err(crate::s3::S3Error::TooLarge { .. }) => return Err(FetchError::BadSidecar { archive: p.name.filename.clone() }),
        other => other?,
    };
    match body {
        None => {
            crate::say!("warning: the sidecar of {} disappeared; it cannot be verified", p.name.filename);
            Ok(None)
        }
        Some(b) => parse(&b).map(Some).ok_or_else(|| FetchError::BadSidecar { archive: p.name.filename.clone() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_tolerate_crlf_upper_case_and_a_filename() {
        let h = "a".repeat(64);
        assert_eq!(parse(format!("{h}\n").as_bytes()).unwrap().as_str(), h);
        assert_eq!(parse(format!("{}\r\n", h.to_uppercase()).as_bytes()).unwrap().as_str(), h);
        assert_eq!(parse(format!("{h}  blas_lib_gfx942.tar.zst\n").as_bytes()).unwrap().as_str(), h);
        assert!(parse(b"nonsense\n").is_none());
        assert!(parse(b"").is_none());
    }
}
