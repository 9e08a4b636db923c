//! Benchmark data generator: writes synthetic ban history into a SQLite file with fail2ban's own
//! schema (fail2ban 1.0.2, DB version 4), so a real `fail2ban-server` can run on it and BanGUI's
//! `history_sync` job can archive it. It owns nothing else: it never talks to fail2ban or to
//! BanGUI, never writes `bips` (that table drives ban restoration when fail2ban starts) and never
//! changes the file's persistent journal mode (fail2ban expects a rollback journal).
//!
//! ```text
//! cargo run --release --example seed_fail2ban_db -- --db PATH [--rows 1000000] [--ips 200000]
//!     [--days 365] [--seed 42]
//! ```
//!
//! * The file may be new or an existing fail2ban database (stop fail2ban first): missing tables
//!   and indexes are created with fail2ban's exact DDL, `fail2banDb` gets version 4 if empty and
//!   the three jails of `scripts/private-fail2ban` are registered.
//! * `--ips` distinct addresses are drawn inside the networks of the demo GeoIP database
//!   (`tests/it/support/mmdb.rs` `demo_countries()`), weighted by country, so every one geolocates.
//!   Every address is banned at least once; the remaining rows go to a heavy-tailed few.
//! * Jails: `sshd` 70 %, `blocklist-import` 22 %, `bangui-app` 8 %, each with the `data` JSON
//!   fail2ban writes for such a ban, stored as a BLOB the way fail2ban stores it.
//! * `timeofban` spans the last `--days` days minus a six-hour margin (so a `range=365d` query made
//!   within six hours still sees every row), denser towards now; `(jail, ip, timeofban)` is unique
//!   per row, as BanGUI's archive requires.
//! * The benchmark range 198.18.0.0/15 (RFC 2544) is never drawn: `scripts/bench-api` bans live
//!   addresses from it.
//! * Deterministic for a given `--seed`; one transaction, one prepared multi-row INSERT.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/support/mmdb.rs"]
mod mmdb;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};

/// fail2ban 1.0.2's schema (`sqlite3 f2b.sqlite3 .schema`), made idempotent.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS fail2banDb(version INTEGER)",
    "CREATE TABLE IF NOT EXISTS jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1)",
    "CREATE INDEX IF NOT EXISTS jails_name ON jails(name)",
    "CREATE TABLE IF NOT EXISTS logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0, FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),UNIQUE(jail, path, firstlinemd5))",
    "CREATE INDEX IF NOT EXISTS logs_path ON logs(path)",
    "CREATE INDEX IF NOT EXISTS logs_jail_path ON logs(jail, path)",
    "CREATE TABLE IF NOT EXISTS bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) )",
    "CREATE TABLE IF NOT EXISTS bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name) )",
    "CREATE INDEX IF NOT EXISTS bips_timeofban ON bips(timeofban)",
    "CREATE INDEX IF NOT EXISTS bips_ip ON bips(ip)",
];

/// The `bans` indexes, created after the bulk insert (cheaper than maintaining them row by row
/// in a new file; a no-op on an existing fail2ban file, which already has them).
const BANS_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS bans_jail_timeofban_ip ON bans(jail, timeofban)",
    "CREATE INDEX IF NOT EXISTS bans_jail_ip ON bans(jail, ip)",
    "CREATE INDEX IF NOT EXISTS bans_ip ON bans(ip)",
];

const JAILS: [&str; 3] = ["sshd", "bangui-app", "blocklist-import"];

/// Rows per INSERT statement: 6 parameters each, far below SQLite's 32,766-variable limit.
const ROWS_PER_STATEMENT: usize = 500;

/// The youngest end of the window is "now"; the oldest is `days` days ago plus this margin.
const WINDOW_MARGIN_SECS: i64 = 6 * 3600;

#[derive(Debug, Clone)]
struct Options {
    db: PathBuf,
    rows: usize,
    ips: usize,
    days: i64,
    seed: u64,
}

fn usage() -> String {
    "usage: seed_fail2ban_db --db PATH [--rows 1000000] [--ips 200000] [--days 365] [--seed 42]"
        .to_string()
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut db = None;
    let mut opts = Options {
        db: PathBuf::new(),
        rows: 1_000_000,
        ips: 200_000,
        days: 365,
        seed: 42,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--db" => db = Some(PathBuf::from(value)),
            "--rows" => opts.rows = num(&value)? as usize,
            "--ips" => opts.ips = num(&value)? as usize,
            "--days" => opts.days = num(&value)? as i64,
            "--seed" => opts.seed = num(&value)?,
            _ => return Err(format!("unknown argument {flag}\n{}", usage())),
        }
    }
    opts.db = db.ok_or_else(usage)?;
    if opts.ips == 0 || opts.rows < opts.ips {
        return Err("need 0 < --ips <= --rows".into());
    }
    if opts.days < 1 {
        return Err("--days must be at least 1".into());
    }
    Ok(opts)
}

/// Relative share of attack traffic per country (a rough picture of real SSH brute forcing).
fn country_weight(iso: &str) -> u32 {
    match iso {
        "CN" => 24,
        "US" => 14,
        "RU" => 10,
        "IN" => 7,
        "VN" => 6,
        "BR" => 6,
        "KR" => 5,
        "DE" | "NL" => 4,
        "FR" | "GB" | "UA" | "ID" => 3,
        _ => 2,
    }
}

/// A network of the demo GeoIP database to draw addresses from.
struct Pool {
    net: ipnet::IpNet,
    weight: u32,
}

fn pools() -> Vec<Pool> {
    mmdb::demo_countries()
        .into_iter()
        .filter_map(|c| {
            let net = ipnet::IpNet::from_str(&c.network).ok()?;
            // Small networks (the /24 documentation ranges, the IPv6 /48s) get a small share so
            // they are not exhausted and IPv6 stays a minority, as in real logs.
            let weight = match net {
                ipnet::IpNet::V4(n) if n.prefix_len() > 16 => 1,
                ipnet::IpNet::V6(_) => 2,
                _ => country_weight(&c.iso) * 10,
            };
            Some(Pool { net, weight })
        })
        .collect()
}

/// 198.18.0.0/15, reserved for benchmarks: the live bans of `scripts/bench-api` come from here.
fn is_benchmark_range(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.octets()[0] == 198 && (v4.octets()[1] & 0xfe) == 18)
}

fn random_host(rng: &mut StdRng, net: &ipnet::IpNet) -> IpAddr {
    match net {
        ipnet::IpNet::V4(n) => {
            let host_bits = 32 - u32::from(n.prefix_len());
            let base = u32::from(n.network());
            let span = if host_bits >= 32 {
                u32::MAX
            } else {
                (1u32 << host_bits) - 1
            };
            // Avoid the network and broadcast addresses.
            let offset = if span > 2 {
                rng.random_range(1..span)
            } else {
                0
            };
            IpAddr::V4(Ipv4Addr::from(base | offset))
        }
        ipnet::IpNet::V6(n) => {
            let host_bits = 128 - u32::from(n.prefix_len());
            let base = u128::from(n.network());
            let mask = if host_bits >= 128 {
                u128::MAX
            } else {
                (1u128 << host_bits) - 1
            };
            // Mostly low interface identifiers (::1 .. ::ffff) like real servers, some random.
            let offset = if rng.random_bool(0.5) {
                rng.random_range(1..=0xffffu128)
            } else {
                rng.random::<u128>() & mask
            };
            IpAddr::V6(Ipv6Addr::from(base | (offset & mask)))
        }
    }
}

/// Draws `count` distinct addresses inside the demo networks.
fn draw_ips(rng: &mut StdRng, count: usize) -> Result<Vec<String>, String> {
    let pools = pools();
    let total: u32 = pools.iter().map(|p| p.weight).sum();
    if pools.is_empty() || total == 0 {
        return Err("the demo GeoIP world has no networks".into());
    }
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    let mut attempts: usize = 0;
    while out.len() < count {
        attempts += 1;
        if attempts > count.saturating_mul(20) + 1000 {
            return Err(format!("could not draw {count} distinct addresses"));
        }
        let mut pick = rng.random_range(0..total);
        let pool = pools
            .iter()
            .find(|p| {
                if pick < p.weight {
                    true
                } else {
                    pick -= p.weight;
                    false
                }
            })
            .ok_or("weighted pick out of range")?;
        let ip = random_host(rng, &pool.net);
        if is_benchmark_range(&ip) || !seen.insert(ip) {
            continue;
        }
        out.push(ip.to_string());
    }
    Ok(out)
}

/// One row of fail2ban's `bans` table.
#[derive(Debug, Clone, PartialEq)]
struct BanRow {
    jail: &'static str,
    ip: String,
    timeofban: i64,
    bantime: i64,
    bancount: i64,
    data: Vec<u8>,
}

const USERS: [&str; 8] = [
    "root", "admin", "ubuntu", "test", "oracle", "postgres", "git", "user",
];

/// The `data` dict fail2ban stores for a ban, serialised the way fail2ban does
/// (`json.dumps(...).encode('utf-8')`).
fn ban_data(rng: &mut StdRng, jail: &str, ip: &str, timeofban: i64) -> Vec<u8> {
    let when = chrono::DateTime::from_timestamp(timeofban, 0).unwrap_or_default();
    let ip_key = if ip.contains(':') { "ip6" } else { "ip4" };
    let value = match jail {
        "sshd" => {
            let failures = rng.random_range(3..=6usize);
            let user = USERS[rng.random_range(0..USERS.len())];
            let date = when.format("%b %d %H:%M:%S").to_string();
            let pid = rng.random_range(1000..60000u32);
            let port = rng.random_range(1024..65535u32);
            let rest = |i: usize| {
                format!(
                    " bastion sshd[{}]: Failed password for invalid user {user} from {ip} port {} ssh2",
                    pid + i as u32,
                    port.wrapping_add(i as u32 * 7)
                )
            };
            let mut matches = vec![serde_json::json!(["", date, rest(0)])];
            for i in 1..failures.min(10) {
                matches.push(serde_json::json!(format!("{date}{}", rest(i))));
            }
            serde_json::json!({
                "matches": matches,
                "failures": failures,
                "mlfid": format!(" bastion sshd[{pid}]: "),
                "cond_inv": "invalid user ",
                "user": user,
                ip_key: ip,
                "users": format!("['{user}']"),
            })
        }
        "bangui-app" => {
            let failures = rng.random_range(2..=4usize);
            let user = USERS[rng.random_range(0..USERS.len())];
            let date = when.format("%Y-%m-%d %H:%M:%S").to_string();
            let rest = format!(" LOGIN FAILED user={user} ip={ip}");
            let mut matches = vec![serde_json::json!(["", date, rest])];
            for _ in 1..failures {
                matches.push(serde_json::json!(format!("{date}{rest}")));
            }
            serde_json::json!({ "matches": matches, "failures": failures, ip_key: ip })
        }
        // Manual `set blocklist-import banip` (what a blocklist import does).
        _ => serde_json::json!({ "matches": [], "failures": 0 }),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Generates the rows one batch at a time, so a million rows never sit in memory at once.
struct RowGen {
    rng: StdRng,
    ips: Vec<String>,
    rows: usize,
    produced: usize,
    now: i64,
    span: i64,
    /// `(ip index, jail index, timeofban)` packed, to keep the triple unique.
    used: HashSet<u64>,
}

impl RowGen {
    fn new(opts: &Options, now: i64) -> Result<Self, String> {
        let mut rng = StdRng::seed_from_u64(opts.seed);
        let ips = draw_ips(&mut rng, opts.ips)?;
        let span = (opts.days * 86_400 - WINDOW_MARGIN_SECS).max(3600);
        Ok(Self {
            rng,
            ips,
            rows: opts.rows,
            produced: 0,
            now,
            span,
            used: HashSet::with_capacity(opts.rows),
        })
    }

    fn next_row(&mut self) -> Option<BanRow> {
        if self.produced >= self.rows {
            return None;
        }
        let n = self.ips.len();
        // Every address once, then a heavy tail: a few hosts come back again and again.
        let ip_idx = if self.produced < n {
            self.produced
        } else {
            let u: f64 = self.rng.random();
            ((u * u * u * n as f64) as usize).min(n - 1)
        };
        let roll = self.rng.random_range(0..100u32);
        let jail_idx = match roll {
            0..70 => 0,  // sshd
            70..78 => 1, // bangui-app
            _ => 2,      // blocklist-import
        };
        let jail = JAILS[jail_idx];
        let (bantime, bancount) = match jail_idx {
            0 if self.rng.random_bool(0.05) => {
                let c = self.rng.random_range(2..=4i64);
                (600 << (c - 1), c)
            }
            0 => (600, 1),
            1 => (3600, 1),
            _ => (86_400, 1),
        };
        // Denser towards now (attack volume grows); unique (ip, jail, timeofban).
        let timeofban = loop {
            let u: f64 = self.rng.random();
            let age = (u.powf(1.5) * self.span as f64) as i64;
            let t = self.now - age;
            let key =
                ((ip_idx as u64) << 40) | ((jail_idx as u64) << 36) | (t as u64 & 0xf_ffff_ffff);
            if self.used.insert(key) {
                break t;
            }
        };
        let ip = self.ips.get(ip_idx)?.clone();
        let data = ban_data(&mut self.rng, jail, &ip, timeofban);
        self.produced += 1;
        Some(BanRow {
            jail,
            ip,
            timeofban,
            bantime,
            bancount,
            data,
        })
    }

    fn next_batch(&mut self, size: usize) -> Vec<BanRow> {
        std::iter::from_fn(|| self.next_row()).take(size).collect()
    }
}

fn insert_sql(rows: usize) -> String {
    let mut sql =
        String::from("INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?)");
    }
    sql
}

/// What was written, for the summary line.
#[derive(Debug)]
struct Summary {
    rows: usize,
    ips: usize,
    oldest: i64,
    newest: i64,
}

async fn seed(opts: &Options, now: i64) -> Result<Summary, Box<dyn std::error::Error>> {
    let connect = SqliteConnectOptions::new()
        .filename(&opts.db)
        .create_if_missing(true)
        // Per-connection journal in memory and no fsync while seeding; the file's persistent
        // mode stays `delete`, as fail2ban expects.
        .journal_mode(SqliteJournalMode::Memory)
        .synchronous(SqliteSynchronous::Off)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = SqliteConnection::connect_with(&connect).await?;
    let mut tx = conn.begin().await?;
    for ddl in SCHEMA {
        sqlx::query(*ddl).execute(&mut *tx).await?;
    }
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fail2banDb")
        .fetch_one(&mut *tx)
        .await?;
    if versions == 0 {
        sqlx::query("INSERT INTO fail2banDb(version) VALUES (4)")
            .execute(&mut *tx)
            .await?;
    }
    for jail in JAILS {
        sqlx::query("INSERT OR IGNORE INTO jails(name, enabled) VALUES (?, 1)")
            .bind(jail)
            .execute(&mut *tx)
            .await?;
    }

    let mut rows = RowGen::new(opts, now)?;
    // The SQL text is generated here from a fixed template (placeholders only, no data).
    let full: std::sync::Arc<str> = insert_sql(ROWS_PER_STATEMENT).into();
    let (mut written, mut oldest, mut newest) = (0usize, i64::MAX, i64::MIN);
    loop {
        let batch = rows.next_batch(ROWS_PER_STATEMENT);
        if batch.is_empty() {
            break;
        }
        let sql: std::sync::Arc<str> = if batch.len() == ROWS_PER_STATEMENT {
            full.clone()
        } else {
            insert_sql(batch.len()).into()
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in &batch {
            oldest = oldest.min(r.timeofban);
            newest = newest.max(r.timeofban);
            q = q
                .bind(r.jail)
                .bind(r.ip.clone())
                .bind(r.timeofban)
                .bind(r.bantime)
                .bind(r.bancount)
                .bind(r.data.clone());
        }
        q.execute(&mut *tx).await?;
        written += batch.len();
    }
    for ddl in BANS_INDEXES {
        sqlx::query(*ddl).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(Summary {
        rows: written,
        ips: rows.ips.len(),
        oldest,
        newest,
    })
}

fn run(opts: &Options) -> Result<Summary, Box<dyn std::error::Error>> {
    let now = chrono::Utc::now().timestamp();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(seed(opts, now))
}

fn main() {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    match run(&opts) {
        Ok(s) => println!(
            "seeded {} bans over {} distinct IPs into {} (timeofban {}..{}) in {:.1} s",
            s.rows,
            s.ips,
            opts.db.display(),
            s.oldest,
            s.newest,
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("seed_fail2ban_db: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
#[allow(dead_code)]
#[path = "../tests/it/support/fail2ban.rs"]
mod fail2ban;

#[cfg(test)]
mod tests {
    use super::*;

    fn small(db: PathBuf) -> Options {
        Options {
            db,
            rows: 3_000,
            ips: 500,
            days: 365,
            seed: 7,
        }
    }

    async fn query_i64(db: &std::path::Path, sql: &'static str) -> i64 {
        let opts = SqliteConnectOptions::new().filename(db).read_only(true);
        let mut conn = SqliteConnection::connect_with(&opts).await.expect("open");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql)
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn a_new_file_gets_exactly_the_requested_rows_over_the_requested_distinct_ips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("f2b.sqlite3");
        let summary = run(&small(db.clone())).expect("seed");
        assert_eq!(summary.rows, 3_000);
        block_on(async {
            assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM bans").await, 3_000);
            assert_eq!(
                query_i64(&db, "SELECT COUNT(DISTINCT ip) FROM bans").await,
                500
            );
            assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM bips").await, 0);
            assert_eq!(query_i64(&db, "SELECT version FROM fail2banDb").await, 4);
            assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM jails").await, 3);
        });
    }

    #[test]
    fn data_is_a_json_blob_like_fail2ban_writes_and_jail_ip_time_is_unique() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("f2b.sqlite3");
        run(&small(db.clone())).expect("seed");
        block_on(async {
            assert_eq!(
                query_i64(
                    &db,
                    "SELECT COUNT(*) FROM bans WHERE typeof(data) <> 'blob'"
                )
                .await,
                0
            );
            assert_eq!(
                query_i64(
                    &db,
                    "SELECT COUNT(*) FROM bans WHERE json_valid(CAST(data AS TEXT)) = 0"
                )
                .await,
                0
            );
            assert_eq!(
                query_i64(
                    &db,
                    "SELECT COUNT(*) FROM (SELECT DISTINCT jail, ip, timeofban FROM bans)"
                )
                .await,
                3_000
            );
            let sshd_share = query_i64(
                &db,
                "SELECT COUNT(*) * 100 / 3000 FROM bans WHERE jail = 'sshd'",
            )
            .await;
            assert!((60..=80).contains(&sshd_share), "sshd share {sshd_share} %");
            assert_eq!(
                query_i64(
                    &db,
                    "SELECT COUNT(*) FROM bans WHERE jail = 'sshd' AND json_extract(CAST(data AS TEXT), '$.failures') < 3"
                )
                .await,
                0
            );
        });
    }

    #[test]
    fn every_ban_lies_inside_the_requested_window_and_not_in_the_future() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("f2b.sqlite3");
        let before = chrono::Utc::now().timestamp();
        let s = run(&small(db)).expect("seed");
        let after = chrono::Utc::now().timestamp();
        assert!(s.newest <= after);
        assert!(s.oldest > before - 365 * 86_400 + WINDOW_MARGIN_SECS - 5);
    }

    #[test]
    fn every_address_geolocates_in_the_demo_mmdb_and_none_is_in_the_benchmark_range() {
        let bytes = mmdb::country_bytes(&mmdb::demo_countries(), 1_700_000_000);
        let reader = maxminddb::Reader::from_source(bytes).expect("mmdb");
        let mut rng = StdRng::seed_from_u64(1);
        let ips = draw_ips(&mut rng, 5_000).expect("draw");
        assert_eq!(ips.iter().collect::<HashSet<_>>().len(), 5_000);
        for ip in &ips {
            let addr: IpAddr = ip.parse().expect("ip");
            assert!(!is_benchmark_range(&addr), "{ip}");
            let found = reader.lookup(addr).expect("lookup").has_data();
            assert!(found, "{ip} is outside the demo networks");
        }
    }

    #[test]
    fn the_same_seed_produces_the_same_rows() {
        let opts = small(PathBuf::new());
        let mut a = RowGen::new(&opts, 1_800_000_000).expect("gen");
        let mut b = RowGen::new(&opts, 1_800_000_000).expect("gen");
        assert_eq!(a.next_batch(200), b.next_batch(200));
    }

    #[test]
    fn a_real_fail2ban_starts_on_a_seeded_file_and_records_new_bans_in_it() {
        let mut server = fail2ban::Fail2banServer::start();
        server.stop();
        let db = server.database();
        run(&small(db.clone())).expect("seed the stopped server's database");
        server.restart();
        assert!(
            server.banned("sshd").is_empty(),
            "history must not be restored as active bans"
        );
        server.client(&["set", "sshd", "banip", "198.18.0.1"]);
        assert_eq!(server.banned("sshd"), vec!["198.18.0.1".to_string()]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut count = 0;
        while Instant::now() < deadline {
            count = block_on(query_i64(&db, "SELECT COUNT(*) FROM bans"));
            if count == 3_001 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(count, 3_001, "the live ban must land in the seeded file");
        assert_eq!(block_on(query_i64(&db, "SELECT COUNT(*) FROM jails")), 3);
    }
}
