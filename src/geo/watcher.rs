//! Watches the directories of the configured MMDB files (`notify`; updaters replace a file by
//! rename) and reloads the [`GeoCache`] after a quiet period (`geoip.watch_debounce_ms`), so a
//! file still being written is not opened. Watcher errors are logged and never crash anything;
//! [`MmdbWatcher::stop`] ends it during graceful shutdown. It does not validate files itself:
//! [`GeoCache::reload`] does.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::GeoCache;

/// A running watcher; dropping it without [`Self::stop`] also ends it (the task sees the
/// stop channel close).
pub struct MmdbWatcher {
    _watcher: Option<RecommendedWatcher>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MmdbWatcher {
    /// Starts watching the directories of the cache's configured files. With no configured
    /// file, or when the OS watcher cannot be created, it logs and watches nothing.
    pub fn start(cache: Arc<GeoCache>, debounce: Duration) -> Self {
        let files = cache.watched_paths();
        let names: HashSet<OsString> = files
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
            .collect();
        let dirs: HashSet<PathBuf> = files
            .iter()
            .map(|p| match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            })
            .collect();
        let idle = Self {
            _watcher: None,
            stop: None,
            task: None,
        };
        if files.is_empty() {
            return idle;
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let handler = move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                let relevant = !matches!(event.kind, EventKind::Access(_))
                    && event.paths.iter().any(|p| {
                        p.file_name()
                            .is_some_and(|n| names.contains(&n.to_os_string()))
                    });
                if relevant {
                    let _ = tx.send(());
                }
            }
            Err(e) => tracing::warn!(error = %e, "GeoIP file watcher error"),
        };
        let mut watcher = match notify::recommended_watcher(handler) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the GeoIP file watcher; reload with SIGHUP or POST /api/v1/geo/reload");
                return idle;
            }
        };
        for dir in &dirs {
            if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
                tracing::error!(dir = %dir.display(), error = %e, "cannot watch the GeoIP database directory");
            }
        }
        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    got = rx.recv() => {
                        if got.is_none() {
                            break;
                        }
                    }
                }
                // Debounce: wait until no event arrived for `debounce`.
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => return,
                        got = tokio::time::timeout(debounce, rx.recv()) => match got {
                            Ok(Some(())) => continue,
                            Ok(None) => return,
                            Err(_) => break,
                        },
                    }
                }
                let cache = Arc::clone(&cache);
                // Opening and validating maps the file; keep it off the async workers.
                let outcome = tokio::task::spawn_blocking(move || cache.reload()).await;
                if let Err(e) = outcome {
                    tracing::error!(error = %e, "GeoIP reload task failed");
                }
            }
        });
        Self {
            _watcher: Some(watcher),
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// Stops watching and waits for the debounce task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self._watcher = None;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
