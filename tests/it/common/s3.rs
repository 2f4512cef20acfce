//! The S3 stand-in: s3s-fs in process on 127.0.0.1, with the two things real S3 does that
//! s3s-fs does not (ETags in listings, `If-Match` on GET), and a log of every request.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct S3Server {
    pub endpoint: String,
    pub root: tempfile::TempDir,
    pub log: Arc<Mutex<Vec<String>>>,
    _thread: std::thread::JoinHandle<()>,
}

/// s3s-fs leaves `ETag` out of ListObjectsV2 results; real S3 always sends it (the quoted MD5
/// of a single-part upload), and the cache keys its references by it. This wrapper adds it and
/// hands every other call to s3s-fs unchanged.
struct EtagFs {
    fs: s3s_fs::FileSystem,
    root: PathBuf,
}

/// A key as S3 writes it under `encoding-type=url`: unreserved characters and `/` as they are,
/// a space as `+`, every other byte `%XX`.
fn aws_url_encode(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[async_trait::async_trait]
impl s3s::S3 for EtagFs {
    async fn list_objects_v2(&self, req: s3s::S3Request<s3s::dto::ListObjectsV2Input>) -> s3s::S3Result<s3s::S3Response<s3s::dto::ListObjectsV2Output>> {
        let bucket = req.input.bucket.clone();
        let encode = req.input.encoding_type.as_ref().is_some_and(|e| e.as_str().eq_ignore_ascii_case("url"));
        let mut resp = self.fs.list_objects_v2(req).await?;
        for o in resp.output.contents.iter_mut().flatten() {
            if let Some(k) = &o.key {
                if let Ok(data) = std::fs::read(self.root.join(&bucket).join(k)) {
                    use md5::Digest;
                    o.e_tag = Some(s3s::dto::ETag::Strong(hex_lower(&md5::Md5::digest(&data))));
                }
            }
        }
        // `encoding-type=url` as AWS answers it (s3s-fs echoes the type but sends keys raw): keys
        // and prefixes URL-encoded, a space as `+`.
        if encode {
            for o in resp.output.contents.iter_mut().flatten() {
                o.key = o.key.as_deref().map(aws_url_encode);
            }
            for p in resp.output.common_prefixes.iter_mut().flatten() {
                p.prefix = p.prefix.as_deref().map(aws_url_encode);
            }
        }
        Ok(resp)
    }
    /// With `If-Match` honoured as S3 does (s3s-fs ignores it on GET): 412 when the object's
    /// ETag differs.
    async fn get_object(&self, req: s3s::S3Request<s3s::dto::GetObjectInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::GetObjectOutput>> {
        if let Some(s3s::dto::ETagCondition::ETag(want)) = &req.input.if_match {
            let path = self.root.join(&req.input.bucket).join(&req.input.key);
            if let Ok(data) = std::fs::read(&path) {
                use md5::Digest;
                let have = s3s::dto::ETag::Strong(hex_lower(&md5::Md5::digest(&data)));
                if !have.strong_cmp(want) {
                    return Err(s3s::s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold"));
                }
            }
        }
        self.fs.get_object(req).await
    }
    async fn head_object(&self, req: s3s::S3Request<s3s::dto::HeadObjectInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::HeadObjectOutput>> {
        self.fs.head_object(req).await
    }
    async fn head_bucket(&self, req: s3s::S3Request<s3s::dto::HeadBucketInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }
    async fn list_objects(&self, req: s3s::S3Request<s3s::dto::ListObjectsInput>) -> s3s::S3Result<s3s::S3Response<s3s::dto::ListObjectsOutput>> {
        self.fs.list_objects(req).await
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl S3Server {
    pub fn start() -> Self {
        Self::start_with_auth(None)
    }

    /// With `auth`, the server accepts only requests signed with that key pair (so anonymous
    /// requests are denied, as from a private bucket).
    pub fn start_with_auth(auth: Option<(&str, &str)>) -> Self {
        let root = tempfile::tempdir().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = root.path().to_path_buf();
        let log2 = log.clone();
        let auth = auth.map(|(a, b)| (a.to_string(), b.to_string()));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let fs = EtagFs { fs: s3s_fs::FileSystem::new(&dir).unwrap(), root: dir.clone() };
                let mut b = s3s::service::S3ServiceBuilder::new(fs);
                if let Some((ak, sk)) = auth {
                    b.set_auth(s3s::auth::SimpleAuth::from_single(ak, sk));
                }
                let service = b.build();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((socket, _)) = listener.accept().await else { continue };
                    let svc = service.clone();
                    let log = log2.clone();
                    let logged = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let range = req.headers().get("range").and_then(|v| v.to_str().ok()).map(|r| format!(" range={r}")).unwrap_or_default();
                        log.lock().unwrap().push(format!("{} {}{}", req.method(), req.uri(), range));
                        let svc = svc.clone();
                        async move { hyper::service::Service::call(&svc, req).await }
                    });
                    tokio::spawn(async move {
                        let b = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                        let _ = b.serve_connection(hyper_util::rt::TokioIo::new(socket), logged).await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        S3Server { endpoint: format!("http://{addr}"), root, log, _thread: thread }
    }

    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        let p = self.root.path().join(bucket).join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    pub fn bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).unwrap();
    }

    /// Puts an archive and (unless `sidecar` is false) its `.sha256sum`.
    pub fn put_artifact(&self, bucket: &str, prefix: &str, filename: &str, data: &[u8], sidecar: bool) {
        self.put(bucket, &format!("{prefix}{filename}"), data);
        if sidecar {
            self.put(bucket, &format!("{prefix}{filename}.sha256sum"), format!("{}\n", sha256_hex(data)).as_bytes());
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
