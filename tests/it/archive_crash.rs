//! An archive sync killed with SIGKILL at any point resumes without duplicates or gaps, and
//! the hour cells never disagree with the archive after the restart. The `bangui` binary runs
//! against a fail2ban database file (fail2ban's own schema) holding enough rows that the first
//! sync takes a while; it is killed several times mid-sync and finally left to finish. A burst
//! of more bans in one second than one read of fail2ban's file takes is archived whole.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

const ROWS: usize = 120_000;
const JAILS: [&str; 3] = ["sshd", "nginx-http-auth", "blocklist-import"];

/// Writes `rows` bans in fail2ban's schema, `per_second` of them sharing each second (chunk
/// borders inside a second are the sync's hardest case).
async fn fail2ban_database(path: &Path, rows: usize, per_second: usize) {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&opts)
        .await
        .expect("create fail2ban db");
    for ddl in [
        "CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1)",
        "CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) )",
        "CREATE INDEX bans_jail_timeofban_ip ON bans(jail, timeofban)",
    ] {
        sqlx::query(ddl).execute(&mut conn).await.expect("ddl");
    }
    for jail in JAILS {
        sqlx::query("INSERT INTO jails(name) VALUES (?)")
            .bind(jail)
            .execute(&mut conn)
            .await
            .expect("jail");
    }
    let now = 1_900_000_000 - 3 * 86_400;
    let mut tx = conn.begin().await.expect("tx");
    for chunk_start in (0..rows).step_by(500) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) ",
        );
        qb.push_values(chunk_start..(chunk_start + 500).min(rows), |mut b, i| {
            b.push_bind(JAILS[i % 3])
                .push_bind(format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256))
                .push_bind(now + (i / per_second) as i64)
                .push_bind(600)
                .push_bind(1)
                .push_bind(r#"{"matches": ["line"], "failures": 3}"#.as_bytes());
        });
        qb.build().execute(&mut *tx).await.expect("rows");
    }
    tx.commit().await.expect("commit");
}

fn bangui(dir: &Path, f2b_db: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bangui"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BANGUI_DATABASE_PATH", dir.join("bangui.db"))
        .env("BANGUI_FAIL2BAN_SOCKET", dir.join("absent.sock"))
        .env("BANGUI_FAIL2BAN_DATABASE_PATH", f2b_db)
        .env("BANGUI_HISTORY_SYNC_INTERVAL_SECONDS", "1")
        // The rows are from 2030; keep them all.
        .env("BANGUI_HISTORY_RETENTION_DAYS", "36500")
        .env("BANGUI_PORT", "0")
        .env("BANGUI_LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn bangui")
}

/// (archived rows, distinct (jail, ip, timeofban), sum of cells); zeros before the tables exist.
async fn archive_counts(db: &Path) -> (i64, i64, i64) {
    if !db.exists() {
        return (0, 0, 0);
    }
    let opts = SqliteConnectOptions::new().filename(db).read_only(true);
    let Ok(mut conn) = SqliteConnection::connect_with(&opts).await else {
        return (0, 0, 0);
    };
    let counts = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM history), \
         (SELECT COUNT(*) FROM (SELECT DISTINCT jail, ip, timeofban FROM history)), \
         (SELECT COALESCE(SUM(bans), 0) FROM history_rollup)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or((0, 0, 0));
    let _ = conn.close().await;
    counts
}

#[tokio::test]
async fn a_sync_killed_mid_way_resumes_without_duplicates_or_gaps_and_rollups_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f2b_db = dir.path().join("fail2ban.sqlite3");
    // 20 bans per second: chunk borders fall inside a second.
    fail2ban_database(&f2b_db, ROWS, 20).await;
    let db = dir.path().join("bangui.db");

    let mut kills = 0;
    let mut mid_sync_kills = 0;
    let mut last = 0;
    while kills < 3 {
        let mut child = bangui(dir.path(), &f2b_db);
        // Kill as soon as this run has archived something new, mid-sync.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (rows, _, _) = archive_counts(&db).await;
            if rows > last || Instant::now() > deadline {
                last = rows;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        kills += 1;
        if last as usize >= ROWS {
            break;
        }
        mid_sync_kills += 1;
        let (rows, distinct, cells) = archive_counts(&db).await;
        assert_eq!(rows, distinct, "no duplicate after kill {kills}");
        assert_eq!(rows, cells, "cells count every row after kill {kills}");
    }
    assert!(
        mid_sync_kills > 0,
        "at least one kill landed before the sync finished"
    );

    let mut child = bangui(dir.path(), &f2b_db);
    let deadline = Instant::now() + Duration::from_secs(120);
    let final_counts = loop {
        let counts = archive_counts(&db).await;
        if counts.0 as usize >= ROWS || Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    child.kill().expect("stop");
    child.wait().expect("reaped");
    assert_eq!(
        final_counts,
        (ROWS as i64, ROWS as i64, ROWS as i64),
        "every row archived exactly once, every row counted"
    );
}

#[tokio::test]
async fn a_burst_of_more_bans_in_one_second_than_one_read_takes_is_archived_whole() {
    // A blocklist import bans thousands of addresses in one second of one jail; one read of
    // fail2ban's file takes 5,000 rows of one jail. Three seconds of 16,000 bans each, spread
    // over three jails: 5,333 per jail and second.
    const BURST: usize = 16_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let f2b_db = dir.path().join("fail2ban.sqlite3");
    fail2ban_database(&f2b_db, BURST * 3, BURST).await;
    let db = dir.path().join("bangui.db");
    let mut child = bangui(dir.path(), &f2b_db);
    let deadline = Instant::now() + Duration::from_secs(120);
    let counts = loop {
        let counts = archive_counts(&db).await;
        if counts.0 as usize >= BURST * 3 || Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // A later run re-reads the newest second; nothing may come twice.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let again = archive_counts(&db).await;
    child.kill().expect("stop");
    child.wait().expect("reaped");
    let n = (BURST * 3) as i64;
    assert_eq!(
        counts,
        (n, n, n),
        "every row of the three bursts archived once"
    );
    assert_eq!(again, counts, "later runs add nothing");
}
