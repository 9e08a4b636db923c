//! The history archive: copies fail2ban's `bans` rows into BanGUI's own `history` table,
//! incrementally per jail, so history outlives fail2ban's purge and the dashboard's heavy
//! aggregates never hold a lock on fail2ban's database. Each read of fail2ban's file is one
//! short, indexed, LIMITed statement.

use std::path::PathBuf;

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::SqlitePool;
use tokio::sync::Mutex;

use crate::db::{self, history};
use crate::domain::query::BLOCKLIST_JAIL;
use crate::fail2ban::Fail2banClient;
use crate::fail2ban::database::{BanRecord, Fail2banDb};

/// Rows read from fail2ban's database per statement.
const CHUNK: u32 = 2_000;

pub struct HistorySync {
    db: SqlitePool,
    fail2ban: Fail2banClient,
    configured: Option<PathBuf>,
    retention_days: u32,
    reader: Mutex<Option<(PathBuf, Fail2banDb)>>,
    /// Bumped whenever the archive changes, so cached aggregates know they are stale.
    generation: AtomicU64,
}

impl HistorySync {
    pub fn new(
        db: SqlitePool,
        fail2ban: Fail2banClient,
        configured: Option<PathBuf>,
        retention_days: u32,
    ) -> Self {
        Self {
            db,
            fail2ban,
            configured,
            retention_days,
            reader: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// Changes whenever rows were added to or removed from the archive.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Where fail2ban's database is: the configured path, else what the server reports.
    async fn database_path(&self) -> Result<PathBuf, String> {
        if let Some(p) = &self.configured {
            return Ok(p.clone());
        }
        match self.fail2ban.dbfile().await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(
                "fail2ban runs without a database (dbfile is None); there is no history to archive"
                    .into(),
            ),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Copies every new row; returns how many were added to the archive.
    pub async fn sync_once(&self) -> Result<u64, String> {
        let path = self.database_path().await?;
        let mut guard = self.reader.lock().await;
        let reopen = guard.as_ref().is_none_or(|(p, _)| *p != path);
        if reopen {
            let reader = Fail2banDb::open(&path).await.map_err(|e| e.to_string())?;
            *guard = Some((path, reader));
        }
        let Some((_, reader)) = guard.as_ref() else {
            return Err("fail2ban database not open".into());
        };
        let jails = reader.jail_names().await.map_err(|e| e.to_string())?;
        let mut added = 0;
        for jail in jails {
            added += self.sync_jail(reader, &jail).await?;
        }
        let cutoff = db::now_epoch() - i64::from(self.retention_days) * 86_400;
        let purged = history::purge_older_than(&self.db, cutoff)
            .await
            .map_err(|e| e.to_string())?;
        if purged > 0 {
            tracing::info!(
                purged,
                retention_days = self.retention_days,
                "old history deleted"
            );
        }
        Ok(added)
    }

    async fn sync_jail(&self, reader: &Fail2banDb, jail: &str) -> Result<u64, String> {
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(timeofban) FROM history WHERE jail = ?")
                .bind(jail)
                .fetch_one(&self.db)
                .await
                .map_err(|e| e.to_string())?;
        // Re-read the newest second: fail2ban may have added rows of that second after the last run.
        let mut cursor = newest.unwrap_or(0);
        let mut skip = 0u32;
        let mut added = 0;
        loop {
            let rows = reader
                .rows_in_jail_after(jail, cursor, CHUNK, skip)
                .await
                .map_err(|e| e.to_string())?;
            let n = rows.len();
            let last = rows.last().map(|r| r.timeofban);
            let batch: Vec<history::NewHistory> = rows.into_iter().map(to_history).collect();
            added += history::insert_batch(&self.db, &batch, db::now_epoch())
                .await
                .map_err(|e| e.to_string())?;
            if n < CHUNK as usize {
                break;
            }
            match last {
                Some(t) if t == cursor => skip += CHUNK,
                Some(t) => {
                    cursor = t;
                    skip = 0;
                }
                None => break,
            }
        }
        Ok(added)
    }
}

fn to_history(r: BanRecord) -> history::NewHistory {
    let origin = if r.jail == BLOCKLIST_JAIL {
        "blocklist"
    } else {
        "selfblock"
    };
    history::NewHistory {
        matches: (!r.matches.is_empty())
            .then(|| serde_json::to_string(&r.matches).unwrap_or_default()),
        failures: r.failures.map(|f| f as i64),
        origin,
        jail: r.jail,
        ip: r.ip,
        timeofban: r.timeofban,
        bantime: r.bantime,
        bancount: r.bancount,
    }
}
