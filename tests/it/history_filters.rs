//! Every history filter, alone and combined, returns exactly the rows a plain reference query
//! returns: a real SQLite archive is filled with random bans (IPv4 and IPv6, several jails,
//! hosts, countries, ASNs, permanent and lifted bans), and for random combinations of time
//! range, jail, IP or CIDR, country, ASN, origin, host and state, in both orders, walking the
//! pages with the keyset cursor, jumping with page numbers and counting give the rows of an
//! unindexed `SELECT … ORDER BY` filtered row by row.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::SqlitePool;

use bangui::db::{self, history, history_ip, history_query as hq};
use bangui::domain::history_query::{
    BanState, Cursor, HistoryFilter, HistoryQuery, IpFilter, Order,
};
use bangui::domain::{GeoSource, Origin};

const JAILS: [&str; 3] = ["sshd", "nginx-http-auth", "blocklist-import"];
const COUNTRIES: [Option<&str>; 4] = [Some("DE"), Some("FR"), Some("US"), None];
const ASNS: [Option<u32>; 3] = [Some(64496), Some(64511), None];
const HOSTS: [&str; 2] = ["local", "edge"];

fn random_ip(rng: &mut StdRng) -> String {
    match rng.random_range(0..4) {
        0 => format!(
            "10.{}.{}.{}",
            rng.random_range(0..20),
            rng.random_range(0..3),
            rng.random_range(0..4)
        ),
        1 => format!("198.51.100.{}", rng.random_range(0..256)),
        2 => format!(
            "2001:db8:{:x}::{:x}",
            rng.random_range(0..3),
            rng.random_range(0..5)
        ),
        _ => format!(
            "2001:0:{:x}::{:x}",
            rng.random_range(0..3),
            rng.random_range(0..5)
        ),
    }
}

fn random_rows(rng: &mut StdRng, n: usize, now: i64) -> Vec<history::NewHistory> {
    (0..n)
        .map(|_| {
            let jail = JAILS[rng.random_range(0..JAILS.len())];
            let country = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
            history::NewHistory {
                host: HOSTS[rng.random_range(0..HOSTS.len())].into(),
                jail: jail.into(),
                ip: random_ip(rng).parse::<IpAddr>().expect("ip").to_string(),
                // A few seconds apart only, so that many rows share a second (cursor ties).
                timeofban: now - rng.random_range(0..20 * 86_400) / 600 * 600,
                bantime: match rng.random_range(0..10) {
                    0 => -1,
                    1..=3 => 30 * 86_400,
                    _ => 600,
                },
                bancount: 1,
                failures: Some(3),
                matches: None,
                origin: Origin::of_jail(jail),
                geo: history::RowGeo {
                    country_code: country.map(str::to_string),
                    asn: ASNS[rng.random_range(0..ASNS.len())],
                    source: country.map(|_| GeoSource::Mmdb),
                    build: country.map(|_| 1),
                },
            }
        })
        .collect()
}

fn random_filter(rng: &mut StdRng, now: i64) -> HistoryFilter {
    let mut f = HistoryFilter::default();
    let mut pick = || rng.random_bool(0.35);
    let want = [
        pick(),
        pick(),
        pick(),
        pick(),
        pick(),
        pick(),
        pick(),
        pick(),
        pick(),
    ];
    if want[0] {
        f.from = Some(now - rng.random_range(0..20) * 86_400);
    }
    if want[1] {
        f.to = Some(now - rng.random_range(0..10) * 86_400 + 1);
    }
    if want[2] {
        f.jail = Some(JAILS[rng.random_range(0..JAILS.len())].to_string());
    }
    if want[3] {
        let text = match rng.random_range(0..7) {
            0 => "10.0.0.0/8".to_string(),
            1 => format!("10.{}.0.0/14", rng.random_range(0..5) * 4),
            2 => format!("10.{}.1.0/24", rng.random_range(0..20)),
            3 => random_ip(rng),
            4 => "2001:db8::/32".to_string(),
            5 => format!("2001:db8:{}::/48", rng.random_range(0..3)),
            _ => "2001:0::/32".to_string(),
        };
        f.ip = Some(IpFilter::parse(&text).expect("filter"));
    }
    if want[4] {
        f.country = COUNTRIES[rng.random_range(0..3)].map(str::to_string);
    }
    if want[5] {
        f.asn = ASNS[rng.random_range(0..2)];
    }
    if want[6] {
        f.origin = [Origin::Selfblock, Origin::Blocklist][rng.random_range(0..2)];
    }
    if want[7] {
        f.host = Some(HOSTS[rng.random_range(0..2)].to_string());
    }
    if want[8] {
        f.state =
            Some([BanState::Active, BanState::Expired, BanState::Lifted][rng.random_range(0..3)]);
    }
    f
}

type Ref = (
    i64,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
    String,
    Option<i64>,
);

/// The reference: every row, unindexed, in the order asked, filtered one by one.
async fn reference(pool: &SqlitePool, f: &HistoryFilter, order: Order, now: i64) -> Vec<i64> {
    let sql = match order {
        Order::Newest => {
            "SELECT id, host, jail, timeofban, bantime, ip, country_code, asn, origin, lifted_at FROM history NOT INDEXED ORDER BY timeofban DESC, id DESC"
        }
        Order::Oldest => {
            "SELECT id, host, jail, timeofban, bantime, ip, country_code, asn, origin, lifted_at FROM history NOT INDEXED ORDER BY timeofban ASC, id ASC"
        }
    };
    let rows: Vec<Ref> = sqlx::query_as(sql)
        .fetch_all(pool)
        .await
        .expect("reference");
    rows.into_iter()
        .filter(|(_, host, jail, t, bantime, ip, cc, asn, origin, lifted)| {
            let addr: IpAddr = ip.parse().expect("stored ip");
            f.from.is_none_or(|x| *t >= x)
                && f.to.is_none_or(|x| *t < x)
                && f.jail.as_ref().is_none_or(|j| j == jail)
                && f.ip.is_none_or(|i| match i {
                    IpFilter::Addr(a) => a == addr,
                    IpFilter::Net(n) => IpNet::contains(&n, &addr),
                })
                && f.country.as_ref().is_none_or(|c| Some(c) == cc.as_ref())
                && f.asn.is_none_or(|a| Some(i64::from(a)) == *asn)
                && (f.origin == Origin::All || f.origin.as_str() == origin)
                && f.host.as_ref().is_none_or(|h| h == host)
                && f.state
                    .is_none_or(|s| BanState::of(*t, *bantime, *lifted, now) == s)
        })
        .map(|r| r.0)
        .collect()
}

async fn walk(
    pool: &SqlitePool,
    f: &HistoryFilter,
    order: Order,
    now: i64,
    size: u32,
    dense: i64,
) -> Vec<i64> {
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let q = HistoryQuery {
            filter: f.clone(),
            order,
            cursor,
            offset: 0,
            limit: size,
        };
        let rows = hq::search_with(pool, &q, now, dense).await.expect("search");
        assert!(rows.len() <= size as usize);
        let full = rows.len() == size as usize;
        cursor = rows.last().map(|r| Cursor {
            timeofban: r.timeofban,
            id: r.id,
        });
        out.extend(rows.iter().map(|r| r.id));
        if !full {
            return out;
        }
    }
}

/// An archive of 3,000 random bans (seeded): its temp dir, pool, the generator (to go on
/// drawing filters), the rows and the time they were made relative to.
async fn random_archive(
    seed: u64,
) -> (
    tempfile::TempDir,
    SqlitePool,
    StdRng,
    Vec<history::NewHistory>,
    i64,
) {
    let (dir, pool) = crate::support::archive::temp_database().await;
    let now = db::now_epoch();
    let mut rng = StdRng::seed_from_u64(seed);
    let rows = random_rows(&mut rng, 3_000, now);
    history::insert_batch(&pool, &rows, now)
        .await
        .expect("insert");
    (dir, pool, rng, rows, now)
}

#[tokio::test]
async fn every_filter_combination_agrees_with_a_reference_query() {
    let (_dir, pool, mut rng, _, now) = random_archive(13).await;
    // Lift a random tenth of the rows.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM history WHERE abs(random()) % 10 = 0")
        .fetch_all(&pool)
        .await
        .expect("ids");
    hq::mark_lifted(&pool, &ids, now - 5, "bangui:test")
        .await
        .expect("lift");

    let mut nonempty = 0;
    for round in 0..200 {
        let f = random_filter(&mut rng, now);
        let order = if round % 2 == 0 {
            Order::Newest
        } else {
            Order::Oldest
        };
        let expected = reference(&pool, &f, order, now).await;
        let size = [1, 7, 100][round % 3];
        // Networks are read by IP (sorted) or, when busy, in time order: cover both plans.
        let dense = if round % 4 < 2 { 50 } else { i64::MAX };
        let walked = walk(&pool, &f, order, now, size, dense).await;
        assert_eq!(walked, expected, "keyset walk of {f:?} {order:?}");
        // The export's walk (packed chunks) yields the same rows, whole, in the same order.
        let q = HistoryQuery {
            filter: f.clone(),
            order,
            cursor: None,
            offset: 0,
            limit: 100,
        };
        let mut exported: Vec<history::HistoryRow> = Vec::new();
        hq::for_each_batch(&pool, &q, now, [1, 7, 100][(round + 1) % 3], |rows| {
            exported.extend(rows);
            async { true }
        })
        .await
        .expect("export walk");
        assert_eq!(
            exported.iter().map(|r| r.id).collect::<Vec<_>>(),
            expected,
            "export of {f:?} {order:?}"
        );
        // Field by field, the packed rows equal the rows a search reads.
        let q = HistoryQuery {
            limit: 100_000,
            ..q
        };
        let searched = hq::search_with(&pool, &q, now, dense)
            .await
            .expect("search");
        assert_eq!(exported, searched, "exported rows of {f:?}");
        let (n, exact) = hq::count_capped(&pool, &f, now, 100_000)
            .await
            .expect("count");
        assert_eq!((n, exact), (expected.len() as u64, true), "count of {f:?}");
        let (capped, capped_exact) = hq::count_capped(&pool, &f, now, 5).await.expect("count");
        assert_eq!(capped, (expected.len() as u64).min(5));
        assert_eq!(capped_exact, expected.len() <= 5);
        // Page 3 of 7 with page numbers.
        let q = HistoryQuery {
            filter: f.clone(),
            order,
            cursor: None,
            offset: 14,
            limit: 7,
        };
        let page: Vec<i64> = hq::search_with(&pool, &q, now, dense)
            .await
            .expect("page")
            .iter()
            .map(|r| r.id)
            .collect();
        let want: Vec<i64> = expected.iter().skip(14).take(7).copied().collect();
        assert_eq!(page, want, "page 3 of {f:?}");
        if !expected.is_empty() {
            nonempty += 1;
        }
    }
    assert!(
        nonempty > 100,
        "the random filters matched rows ({nonempty})"
    );
}

#[tokio::test]
async fn an_ips_ban_times_per_host_and_jail_are_exactly_its_archived_rows() {
    let (_dir, pool, _, rows, _) = random_archive(29).await;
    // ip → (host, jail) → times; the archive keeps one row per (host, jail, ip, timeofban),
    // and so does the reference.
    type Groups<'a> = BTreeMap<(&'a str, &'a str), Vec<i64>>;
    let mut expected: BTreeMap<&str, Groups> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for r in rows
        .iter()
        .filter(|r| seen.insert((&r.host, &r.jail, &r.ip, r.timeofban)))
    {
        expected
            .entry(r.ip.as_str())
            .or_default()
            .entry((r.host.as_str(), r.jail.as_str()))
            .or_default()
            .push(r.timeofban);
    }
    assert!(expected.len() > 50, "many IPs, over several jails and days");
    for (ip, groups) in expected {
        let read = history_ip::ban_times(&pool, ip).await.expect("times");
        let read: Vec<_> = read
            .into_iter()
            .map(|mut g| {
                g.times.sort_unstable();
                ((g.host, g.jail), g.times)
            })
            .collect();
        let groups: Vec<_> = groups
            .into_iter()
            .map(|((host, jail), mut times)| {
                times.sort_unstable();
                ((host.to_owned(), jail.to_owned()), times)
            })
            .collect();
        assert_eq!(read, groups, "ban times of {ip}");
    }
    assert!(
        history_ip::ban_times(&pool, "192.0.2.99")
            .await
            .expect("times")
            .is_empty()
    );
}
