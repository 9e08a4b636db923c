//! The application's own SQLite database: one sqlx pool (WAL, busy timeout, foreign keys) and
//! the embedded, numbered migrations from `migrations/`. Repositories for each table group live
//! in the sibling files; they take the pool and domain types and return domain types.
//!
//! The database holds password hashes, token digests and the audit log, so its file is created
//! owner-only (0600) before SQLite opens it, and an existing file with wider permissions is
//! narrowed. SQLite gives the `-wal` and `-shm` files the permissions of the main file.

pub mod geo_cache;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the database directory {dir}: {source}")]
    Directory { dir: String, source: std::io::Error },
    #[error("cannot make the database {path} private (mode 0600): {source}")]
    Permissions {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot apply migrations to {path}: {source}")]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// See `row_buffer_size` in [`connect`].
const ROW_BUFFER: usize = 1_024;

/// Opens (creating if needed) the database and applies pending migrations.
pub async fn connect(path: &Path, busy_timeout: Duration) -> Result<SqlitePool, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Directory {
            dir: dir.display().to_string(),
            source,
        })?;
    }
    let shown = path.display().to_string();
    make_private(path).map_err(|source| DbError::Permissions {
        path: shown.clone(),
        source,
    })?;
    let options = SqliteConnectOptions::from_str("sqlite://")
        .map_err(|source| DbError::Open {
            path: shown.clone(),
            source,
        })?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(busy_timeout)
        .foreign_keys(true)
        // 8 MiB of page cache per connection (allocated as used; SQLite's default is 2 MiB): the
        // hot parts of the archive's indexes stay in memory while the first sync writes.
        .pragma("cache_size", "-8192")
        .pragma("temp_store", "memory")
        // Rows a statement's worker thread may run ahead of its reader (sqlx's default is 50):
        // streaming reads such as the history export hand over a million rows one by one, and
        // a deeper buffer lets the worker keep going instead of parking on every few rows.
        .row_buffer_size(ROW_BUFFER);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(1)
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open {
            path: shown.clone(),
            source,
        })?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|source| DbError::Migrate {
            path: shown,
            source,
        })?;
    Ok(pool)
}

/// Creates the database file with mode 0600 if it is missing, and narrows the main file and its
/// `-wal`/`-shm` companions to 0600 if they exist with wider permissions.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for file in files {
        match std::fs::metadata(&file) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A cheap liveness probe of the pool.
pub async fn ping(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}

/// Current time in epoch seconds, the unit of every time column.
pub fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

pub mod api_tokens;
pub mod audit;
pub mod blocklists;
pub mod config_recoveries;
pub mod history;
pub mod history_events;
pub mod history_ip;
pub mod history_query;
pub mod notifications;
pub mod rollup;
pub mod sessions;
pub mod settings;
pub mod users;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn the_database_and_its_wal_and_shm_files_are_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bangui.db");
        let pool = connect(&path, Duration::from_secs(1))
            .await
            .expect("connect");
        users::count(&pool).await.expect("read");
        let wal = dir.path().join("bangui.db-wal");
        let shm = dir.path().join("bangui.db-shm");
        assert!(
            wal.exists() && shm.exists(),
            "WAL mode keeps -wal and -shm open"
        );
        for file in [&path, &wal, &shm] {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
        pool.close().await;
    }

    #[tokio::test]
    async fn an_existing_world_readable_database_is_narrowed_to_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        std::fs::write(&path, b"").expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let pool = connect(&path, Duration::from_secs(1))
            .await
            .expect("connect");
        assert_eq!(mode(&path), 0o600);
        pool.close().await;
    }
}
