//! TCP proxies between the binary and a server, doing something to the bytes: throttle, cut,
//! hold back, delay (the tests' `Tap`s).

use std::sync::{Arc, Mutex};

/// What a test proxy does to the bytes it passes on one connection (one value per connection;
/// state shared between connections lives behind the factory's `Arc`s).
#[async_trait::async_trait]
pub trait Tap: Send + Sync + 'static {
    /// Before a chunk of the request goes on to the server.
    async fn up(&self, _chunk: &[u8]) {}
    /// Before a chunk of the answer goes on to the client: how much of it passes.
    async fn down(&self, _chunk: &[u8]) -> Pass {
        Pass::All
    }
}

/// How much of an answer's chunk a proxy passes.
pub enum Pass {
    All,
    /// The first `n` bytes, then the connection is dropped mid-answer.
    ThenClose(usize),
}

/// A TCP proxy to `upstream` (`http://host:port`) passing every connection's bytes through a
/// fresh `tap()`; returns its `http://` address.
pub async fn tcp_proxy<T: Tap>(upstream: &str, tap: impl Fn() -> T + Send + Sync + 'static) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let up = upstream.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let (up, tap) = (up.clone(), tap());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&up).await else { return };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let c2s = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n @ 1..) = cr.read(&mut buf).await {
                        tap.up(&buf[..n]).await;
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    std::future::pending::<()>().await
                };
                let s2c = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n @ 1..) = sr.read(&mut buf).await {
                        let keep = match tap.down(&buf[..n]).await {
                            Pass::All => n,
                            Pass::ThenClose(k) => {
                                let _ = cw.write_all(&buf[..k]).await;
                                break;
                            }
                        };
                        if cw.write_all(&buf[..keep]).await.is_err() {
                            break;
                        }
                    }
                };
                tokio::select! { _ = c2s => {}, _ = s2c => {} }
            });
        }
    });
    format!("http://{addr}")
}

/// A TCP proxy to `upstream` (`http://host:port`) capping the total downstream rate at
/// `bytes_per_sec`, shared by all connections; returns its `http://` address.
pub async fn throttle_proxy(upstream: String, bytes_per_sec: u64) -> String {
    use std::time::{Duration, Instant};
    struct Throttle {
        bucket: Arc<Mutex<(Instant, f64)>>,
        rate: f64,
    }
    #[async_trait::async_trait]
    impl Tap for Throttle {
        async fn down(&self, chunk: &[u8]) -> Pass {
            let wait = {
                let mut b = self.bucket.lock().unwrap();
                let now = Instant::now();
                let refill = now.duration_since(b.0).as_secs_f64() * self.rate;
                b.1 = (b.1 + refill).min(self.rate / 10.0) - chunk.len() as f64;
                b.0 = now;
                Duration::from_secs_f64((-b.1 / self.rate).max(0.0))
            };
            tokio::time::sleep(wait).await;
            Pass::All
        }
    }
    let bucket = Arc::new(Mutex::new((Instant::now(), 0f64)));
    tcp_proxy(&upstream, move || Throttle { bucket: bucket.clone(), rate: bytes_per_sec as f64 }).await
}
