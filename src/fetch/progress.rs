//! Byte counters shared by the workers, and the progress display on stderr (a bar on a
//! terminal, a line every 10 s in CI logs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// On a terminal a bar; elsewhere (CI logs) a line at once and one every 10 s: `progress:
    /// 98.3 KiB of 150.9 KiB (65 %), 9.8 KiB/s, 3/44 archives, 0 B from cache`.
    pub fn start(counters: Arc<Counters>, total: u64, count: usize) -> Progress {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop2 = stop.clone();
        let tty = crate::log::draws(std::io::IsTerminal::is_terminal(&std::io::stderr()));
        let mut last = (Instant::now(), 0u64);
        if !tty {
            crate::say!("{}", ci_line(&counters, total, count, 0.0));
        }
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
                crate::log::drawing(&b);
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
                    None => {
                        let secs = last.0.elapsed().as_secs_f64();
                        let rate = if secs > 0.0 { dl.saturating_sub(last.1) as f64 / secs } else { 0.0 };
                        last = (Instant::now(), dl);
                        crate::say!("{}", ci_line(&counters, total, count, rate));
                    }
                }
            }
            if bar.is_some() {
                crate::log::done_drawing();
            }
        });
        Progress { task, stop }
    }

    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

/// A CI log's progress line: bytes in (downloaded or from the cache) of the total, the percent,
/// the download rate since the last line, the archives done.
fn ci_line(c: &Counters, total: u64, count: usize, rate: f64) -> String {
    let (dl, cached) = (c.downloaded(), c.cached());
    let have = (dl + cached).min(total);
    let pct = (have * 100).checked_div(total).unwrap_or(100);
    format!(
        "progress: {} of {} ({pct} %), {}/s, {}/{count} archives, {} from cache",
        human_bytes(have),
        human_bytes(total),
        human_bytes(rate as u64),
        c.done(),
        human_bytes(cached)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ci_line_says_total_percent_and_rate() {
        let c = Counters::default();
        assert_eq!(ci_line(&c, 154_563, 44, 0.0), "progress: 0 B of 150.9 KiB (0 %), 0 B/s, 0/44 archives, 0 B from cache");
        c.add_downloaded(100_000);
        c.add_from_cache(700);
        c.archive_done(5);
        let line = ci_line(&c, 154_563, 44, 10_035.0);
        assert!(line.starts_with("progress: 98.3 KiB of 150.9 KiB (65 %), 9.8 KiB/s, 1/44 archives, 700 B from cache"), "{line}");
        assert!(ci_line(&c, 0, 0, 0.0).contains("(100 %)"), "nothing to fetch is all of it");
    }
}
