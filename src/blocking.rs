//! Blocking work (file system walks, whole-file hashes, tree removals) run off the async
//! runtime's threads, so a slow disk never stalls the downloads sharing a thread with it.

/// Runs `f` on the runtime's blocking pool and waits for it; a panic in `f` comes back as the
/// `JoinError` (callers turn it into their own error with `?`). Call from within the runtime.
pub async fn blocking<T, F>(f: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await
}
