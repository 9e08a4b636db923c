//! A BanGUI database of its own (migrated, in a temp dir) for tests that work on the archive
//! directly, without the application.

use sqlx::SqlitePool;

/// The database and the temp dir holding it (deleted when dropped).
pub async fn temp_database() -> (tempfile::TempDir, SqlitePool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let pool = bangui::db::connect(
        &dir.path().join("bangui.db"),
        std::time::Duration::from_secs(5),
    )
    .await
    .expect("database");
    (dir, pool)
}
