//! Single-instance guard: exactly one process owns a database. At start the process takes an
//! exclusive OS lock (`flock`) on `<database>.lock` and writes its PID into it; the kernel drops
//! the lock when the process ends, however it ends, so a crash never leaves a stale lock behind.
//! A second process against the same database fails at once and is told which PID holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held for the life of the process; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another BanGUI process (PID {pid}) already owns the database {database}; \
         only one process may run per database (lock file {lock})"
    )]
    Held {
        pid: String,
        database: String,
        lock: String,
    },
    #[error("cannot create the lock file {lock}: {source}")]
    Io {
        lock: String,
        source: std::io::Error,
    },
}

impl InstanceLock {
    /// The lock file that guards `database`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock or reports who holds it. Never blocks.
    pub fn acquire(database: &Path) -> Result<Self, LockError> {
        let path = Self::path_for(database);
        let io = |source| LockError::Io {
            lock: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::Held {
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.into()
                    },
                    database: database.display().to_string(),
                    lock: path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Releases the lock explicitly (graceful shutdown); dropping does the same.
    pub fn release(self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_names_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("bangui.db");
        let first = InstanceLock::acquire(&db).expect("first lock");
        let err = InstanceLock::acquire(&db)
            .expect_err("second lock must fail")
            .to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        first.release();
        InstanceLock::acquire(&db).expect("free again after release");
    }
}
