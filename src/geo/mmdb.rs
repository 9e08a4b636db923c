//! The local MaxMind database, opened once and memory-mapped, held behind an atomic pointer so
//! a replacement never leaves a lookup without a reader.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use maxminddb::{Mmap, Reader};
use serde::Serialize;

/// Whether a database is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MmdbState {
    Loaded,
    Absent,
    Error,
}

/// What health and stats report about the database.
#[derive(Debug, Clone, Serialize)]
pub struct MmdbStatus {
    pub state: MmdbState,
    pub path: Option<String>,
    pub database_type: Option<String>,
    pub build_epoch: Option<u64>,
    pub error: Option<String>,
}

/// A loaded database and where it came from.
pub struct LoadedMmdb {
    pub reader: Reader<Mmap>,
    pub path: PathBuf,
}

/// The swappable slot.
pub struct MmdbSlot {
    path: Option<PathBuf>,
    current: ArcSwapOption<LoadedMmdb>,
    last_error: ArcSwapOption<String>,
}

impl MmdbSlot {
    /// Opens `path` if given; a missing or broken file is reported, not fatal.
    pub fn open(path: Option<&Path>) -> Self {
        let slot = Self {
            path: path.map(Path::to_path_buf),
            current: ArcSwapOption::empty(),
            last_error: ArcSwapOption::empty(),
        };
        if let Some(p) = path {
            match open_reader(p) {
                Ok(loaded) => slot.current.store(Some(Arc::new(loaded))),
                Err(e) => slot.last_error.store(Some(Arc::new(e))),
            }
        }
        slot
    }

    pub fn current(&self) -> Option<Arc<LoadedMmdb>> {
        self.current.load_full()
    }

    pub fn status(&self) -> MmdbStatus {
        match self.current() {
            Some(db) => MmdbStatus {
                state: MmdbState::Loaded,
                path: Some(db.path.display().to_string()),
                database_type: Some(db.reader.metadata().database_type.clone()),
                build_epoch: Some(db.reader.metadata().build_epoch),
                error: None,
            },
            None => {
                let error = self.last_error.load_full().map(|e| e.as_ref().clone());
                MmdbStatus {
                    state: if error.is_some() {
                        MmdbState::Error
                    } else {
                        MmdbState::Absent
                    },
                    path: self.path.as_ref().map(|p| p.display().to_string()),
                    database_type: None,
                    build_epoch: None,
                    error,
                }
            }
        }
    }
}

fn open_reader(path: &Path) -> Result<LoadedMmdb, String> {
    // SAFETY: the file is memory-mapped read-only; updaters replace it by rename, which leaves
    // the mapped inode intact.
    let reader =
        unsafe { Reader::open_mmap(path) }.map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(LoadedMmdb {
        reader,
        path: path.to_path_buf(),
    })
}
