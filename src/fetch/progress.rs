//! Byte counters shared by the workers, and the progress display on stderr (a bar on a
//! terminal, a line every 10 s in CI logs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::domain::units::human_bytes;

#[derive(Default)]
pub struct Counters {
    downloaded: AtomicU64,
    from_cache: AtomicU64,
    archives_done: AtomicU64,
    extracted: AtomicU64,
}

impl Counters {
    pub fn add_downloaded(&self, n: u64) {
        self.downloaded.fetch_add(n, Ordering::Relaxed);
    }
    pub fn add_from_cache(&self, n: u64) {
        self.from_cache.fetch_add(n, Ordering::Relaxed);
    }
    pub fn archive_done(&self, extracted: u64) {
        self.archives_done.fetch_add(1, Ordering::Relaxed);
        self.extracted.fetch_add(extracted, Ordering::Relaxed);
    }
    pub fn downloaded(&self) -> u64 {
        self.downloaded.load(Ordering::Relaxed)
    }
    pub fn cached(&self) -> u64 {
        self.from_cache.load(Ordering::Relaxed)
    }
    pub fn extracted(&self) -> u64 {
        self.extracted.load(Ordering::Relaxed)
    }
    fn done(&self) -> u64 {
        self.archives_done.load(Ordering::Relaxed)
    }
}

/// The progress display; `stop` ends it and clears the bar.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    stop: Arc<tokio::sync::Notify>,
}

impl Progress {
    pub fn start(counters: Arc<Counters>, total: u64, count: usize) -> Progress {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop2 = stop.clone();
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let task = tokio::spawn(async move {
            let bar = tty.then(|| {
                let b = indicatif::ProgressBar::new(total);
                b.set_style(
                    // Sizes through the one byte formatter the summaries use (not indicatif's own).
                    indicatif::ProgressStyle::with_template("{bar:30} {done}/{total} {rate} {msg}")
                        .map(|st| {
                            st.with_key("done", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                                let _ = w.write_str(&human_bytes(s.pos()));
                            })
                            .with_key("total", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                                let _ = w.write_str(&human_bytes(s.len().unwrap_or(0)));
                            })
                            .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                                let _ = write!(w, "{}/s", human_bytes(s.per_sec() as u64));
                            })
                        })
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
            let every = if tty { Duration::from_millis(200) } else { Duration::from_secs(10) };
            loop {
                tokio::select! {
                    _ = stop2.notified() => break,
                    _ = tokio::time::sleep(every) => {}
                }
                let (dl, cached, done) = (counters.downloaded(), counters.cached(), counters.done());
                match &bar {
                    Some(b) => {
                        b.set_position((dl + cached).min(total));
                        b.set_message(format!("{done}/{count} archives"));
                    }
                    None => crate::say!("progress: {done}/{count} archives, {} downloaded, {} from cache", human_bytes(dl), human_bytes(cached)),
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        Progress { task, stop }
    }

    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}
