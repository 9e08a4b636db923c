//! The SQL of history searches over the archive (`GET /api/v1/history`, its export, the lift
//! detector and the top-offender lists), and the writes that record lifted bans.
//!
//! Every search is one index-ordered read that stops after the page: the most selective
//! filter picks the index the read walks (`history_ip_time` for an IP or network,
//! `history_lifted_time` / `history_end` + `history_permanent` for a state, `history_asn_time`,
//! `history_country_time`, `history_jail_time`, else `history_time`); the other filters are
//! checked on the rows met. Pages continue with a keyset cursor on `(timeofban, id)`; page
//! numbers (OFFSET) exist for the UI's page jump. Counting is capped so that no request walks a
//! whole window.
//!
//! Over 500 lines on purpose: it is one query builder (index choice, filters, keyset,
//! capped counts, packed export chunks); every statement shares `push_select`.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::domain::Origin;
use crate::domain::history_query::{
    BanState, Cursor, HistoryFilter, HistoryQuery, IpFilter, Order,
};

use super::history::{HistoryRow, SEARCH_COLUMNS as COLUMNS};
use super::rollup::origin_text;

/// Most rows one statement of a network search reads before filtering them exactly.
const NET_CHUNK: u32 = 1_000;

/// Rows of a network above which its page walks the time index instead of the IP index: a
/// network this busy fills a page quickly in time order, while reading it by IP sorts the
/// entries of all its rows (index entries only: the IP index carries time, id, host and jail).
const DENSE_NETWORK: i64 = 20_000;

/// Which index drives the read (`dense`: the IP filter is a network with many rows).
fn driving_index(f: &HistoryFilter, dense: bool) -> &'static str {
    if f.ip.is_some() && !dense {
        "history_ip_time"
    } else if f.state == Some(BanState::Lifted) {
        "history_lifted_time"
    } else if f.asn.is_some() {
        "history_asn_time"
    } else if f.country.is_some() {
        "history_country_time"
    } else if f.jail.is_some() {
        "history_jail_time"
    } else {
        "history_time"
    }
}

/// Whether the rows need the exact network check after the read (IPv6 networks).
fn needs_post_filter(f: &HistoryFilter) -> bool {
    matches!(f.ip, Some(IpFilter::Net(ipnet::IpNet::V6(_))))
}

/// `SELECT <what> FROM history INDEXED BY … WHERE <filters> [AND keyset]`.
fn push_select(
    qb: &mut QueryBuilder<Sqlite>,
    f: &HistoryFilter,
    now: i64,
    cursor: Option<(Cursor, Order)>,
    dense: bool,
) {
    let active_driven = f.state == Some(BanState::Active) && (f.ip.is_none() || dense);
    if active_driven {
        // Only bans whose end is in the future or that are permanent: two small index reads.
        qb.push(" FROM history WHERE id IN (SELECT id FROM history INDEXED BY history_end WHERE timeofban + bantime > ");
        qb.push_bind(now);
        qb.push(" UNION ALL SELECT id FROM history INDEXED BY history_permanent WHERE bantime < 0 AND lifted_at IS NULL)");
    } else {
        qb.push(" FROM history INDEXED BY ");
        qb.push(driving_index(f, dense));
        qb.push(" WHERE 1");
    }
    if let Some(IpFilter::Addr(a)) = &f.ip {
        // Equality keeps the IP index's (ip, timeofban) order: no sort.
        qb.push(" AND ip = ");
        qb.push_bind(a.to_string());
    } else if let Some(ip) = &f.ip {
        qb.push(" AND (");
        for (i, (lo, hi)) in ip.text_ranges().into_iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("(ip >= ");
            qb.push_bind(lo);
            qb.push(" AND ip < ");
            qb.push_bind(hi);
            qb.push(")");
        }
        qb.push(")");
    }
    if let Some(t) = f.from {
        qb.push(" AND timeofban >= ");
        qb.push_bind(t);
    }
    if let Some(t) = f.to {
        qb.push(" AND timeofban < ");
        qb.push_bind(t);
    }
    if let Some(j) = &f.jail {
        qb.push(" AND jail = ");
        qb.push_bind(j.as_str());
    }
    if let Some(c) = &f.country {
        qb.push(" AND country_code = ");
        qb.push_bind(c.as_str());
    }
    if let Some(a) = f.asn {
        qb.push(" AND asn = ");
        qb.push_bind(i64::from(a));
    }
    if f.origin != Origin::All {
        qb.push(" AND origin = ");
        qb.push_bind(origin_text(f.origin));
    }
    if let Some(h) = &f.host {
        qb.push(" AND host = ");
        qb.push_bind(h.as_str());
    }
    match f.state {
        None => {}
        Some(BanState::Lifted) => {
            qb.push(" AND lifted_at IS NOT NULL");
        }
        Some(BanState::Active) => {
            qb.push(" AND lifted_at IS NULL AND (bantime < 0 OR timeofban + bantime > ");
            qb.push_bind(now);
            qb.push(")");
        }
        Some(BanState::Expired) => {
            qb.push(" AND lifted_at IS NULL AND bantime >= 0 AND timeofban + bantime <= ");
            qb.push_bind(now);
        }
    }
    if let Some((c, order)) = cursor {
        let (cmp, strict) = match order {
            Order::Newest => (" AND timeofban <= ", " OR id < "),
            Order::Oldest => (" AND timeofban >= ", " OR id > "),
        };
        qb.push(cmp);
        qb.push_bind(c.timeofban);
        qb.push(match order {
            Order::Newest => " AND (timeofban < ",
            Order::Oldest => " AND (timeofban > ",
        });
        qb.push_bind(c.timeofban);
        qb.push(strict);
        qb.push_bind(c.id);
        qb.push(")");
    }
}

fn order_by(order: Order) -> &'static str {
    match order {
        Order::Newest => " ORDER BY timeofban DESC, id DESC",
        Order::Oldest => " ORDER BY timeofban ASC, id ASC",
    }
}

/// Whether the IP filter is a network with more than [`DENSE_NETWORK`] archived rows (one
/// bounded count on the IP index).
async fn dense_network(
    pool: &SqlitePool,
    f: &HistoryFilter,
    threshold: i64,
) -> Result<bool, sqlx::Error> {
    if !matches!(f.ip, Some(IpFilter::Net(_))) {
        return Ok(false);
    }
    let only_ip = HistoryFilter {
        ip: f.ip,
        ..HistoryFilter::default()
    };
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1");
    push_select(&mut qb, &only_ip, 0, None, false);
    qb.push(" LIMIT ");
    qb.push_bind(threshold.saturating_add(1));
    qb.push(")");
    let (n,): (i64,) = qb.build_query_as().fetch_one(pool).await?;
    Ok(n > threshold)
}

/// One page read from the archive: which rows (filter, order, after which cursor, how many,
/// skipping how many) and how (`now` for the state filters, `dense` for a busy network's plan).
#[derive(Clone, Copy)]
struct PageRead<'a> {
    filter: &'a HistoryFilter,
    order: Order,
    cursor: Option<Cursor>,
    limit: u32,
    offset: u64,
    now: i64,
    dense: bool,
}

async fn read(pool: &SqlitePool, page: PageRead<'_>) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT ");
    qb.push(COLUMNS);
    push_page_ids(&mut qb, page);
    qb.push(order_by(page.order));
    qb.build_query_as().fetch_all(pool).await
}

/// ` FROM history WHERE id IN (<the page's ids>)`. Two phases: the inner read walks the
/// driving index, tests the filters on its entries (the indexes carry the filtered columns,
/// migration 0010) and stops after `limit` rows (skipping `offset`), so only the page's rows
/// are read from the table.
fn push_page_ids(qb: &mut QueryBuilder<Sqlite>, page: PageRead<'_>) {
    qb.push(" FROM history WHERE id IN (SELECT id");
    push_select(
        qb,
        page.filter,
        page.now,
        page.cursor.map(|c| (c, page.order)),
        page.dense,
    );
    qb.push(order_by(page.order));
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(page.limit));
    if page.offset > 0 {
        qb.push(" OFFSET ");
        qb.push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
    }
    qb.push(")");
}

/// One page of a search: at most `q.limit` rows in `q.order`, after `q.cursor` (or skipping
/// `q.offset` rows). IPv6 networks are read in chunks and checked exactly.
pub async fn search(
    pool: &SqlitePool,
    q: &HistoryQuery,
    now: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    search_with(pool, q, now, DENSE_NETWORK).await
}

/// [`search`] with the row count above which a network is read in time order (tests use a
/// small one to cover both plans).
pub async fn search_with(
    pool: &SqlitePool,
    q: &HistoryQuery,
    now: i64,
    dense_threshold: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let page = PageRead {
        filter: &q.filter,
        order: q.order,
        cursor: q.cursor,
        limit: q.limit,
        offset: if q.cursor.is_some() { 0 } else { q.offset },
        now,
        dense: dense_network(pool, &q.filter, dense_threshold).await?,
    };
    if !needs_post_filter(&q.filter) {
        return read(pool, page).await;
    }
    let Some(ip) = q.filter.ip else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut skip = page.offset;
    let mut cursor = q.cursor;
    loop {
        let chunk = PageRead {
            cursor,
            limit: NET_CHUNK,
            offset: 0,
            ..page
        };
        let raw = read(pool, chunk).await?;
        let full = raw.len() == NET_CHUNK as usize;
        cursor = raw.last().map(|r| Cursor {
            timeofban: r.timeofban,
            id: r.id,
        });
        for r in raw {
            if !ip.contains(&r.ip) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            out.push(r);
            if out.len() >= q.limit as usize {
                return Ok(out);
            }
        }
        if !full {
            return Ok(out);
        }
    }
}

/// A [`HistoryRow`] as [`read_packed`] receives it: its [`SEARCH_COLUMNS`] in order.
type PackedRow = (
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// [`read`] for bulk walks: SQLite packs the chunk's rows into one JSON array (one value
/// handed over by sqlx's worker thread instead of one per row, which cost a thread wake-up per
/// row and most of the export's time), decoded here.
async fn read_packed(
    pool: &SqlitePool,
    page: PageRead<'_>,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT json_group_array(json_array(");
    qb.push(COLUMNS);
    qb.push(")");
    qb.push(order_by(page.order));
    qb.push(")");
    push_page_ids(&mut qb, page);
    let (packed,): (String,) = qb.build_query_as().fetch_one(pool).await?;
    let rows: Vec<PackedRow> =
        serde_json::from_str(&packed).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryRow {
            id: r.0,
            host: r.1,
            jail: r.2,
            ip: r.3,
            timeofban: r.4,
            bantime: r.5,
            bancount: r.6,
            failures: r.7,
            origin: r.8,
            country_code: r.9,
            asn: r.10,
            geo_source: None,
            geo_build: None,
            lifted_at: r.11,
            lifted_by: r.12,
        })
        .collect())
}

/// Every row of a search in its order (after `q.cursor` if set; paging is ignored), handed
/// to `sink` in batches of at most `batch` rows; stops early when `sink` answers false. For
/// the export: each batch is one short keyset read ([`read_packed`]), so no statement stays
/// open for the whole walk, and memory is one batch.
pub async fn for_each_batch<F, Fut>(
    pool: &SqlitePool,
    q: &HistoryQuery,
    now: i64,
    batch: usize,
    mut sink: F,
) -> Result<(), sqlx::Error>
where
    F: FnMut(Vec<HistoryRow>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let f = &q.filter;
    let exact = if needs_post_filter(f) { f.ip } else { None };
    let limit = u32::try_from(batch.max(1)).unwrap_or(u32::MAX);
    let mut page = PageRead {
        filter: f,
        order: q.order,
        cursor: q.cursor,
        limit,
        offset: 0,
        now,
        dense: dense_network(pool, f, DENSE_NETWORK).await?,
    };
    loop {
        let mut rows = read_packed(pool, page).await?;
        let full = rows.len() >= limit as usize;
        page.cursor = rows.last().map(|r| Cursor {
            timeofban: r.timeofban,
            id: r.id,
        });
        if let Some(ip) = exact {
            rows.retain(|r| ip.contains(&r.ip));
        }
        if !rows.is_empty() && !sink(rows).await {
            return Ok(());
        }
        if !full {
            return Ok(());
        }
    }
}

/// How many rows match, counting at most `cap` (`(n, exact)`; `exact` is false when there are
/// more than `cap`).
pub async fn count_capped(
    pool: &SqlitePool,
    f: &HistoryFilter,
    now: i64,
    cap: u32,
) -> Result<(u64, bool), sqlx::Error> {
    if needs_post_filter(f) {
        // IPv6 networks: the text ranges are a superset; count the exact matches.
        let q = HistoryQuery {
            filter: f.clone(),
            order: Order::Newest,
            cursor: None,
            offset: 0,
            limit: cap.saturating_add(1),
        };
        let n = search(pool, &q, now).await?.len() as u64;
        return Ok((n.min(u64::from(cap)), n <= u64::from(cap)));
    }
    // Counting needs no order: the IP index (if any) is always the bounded read.
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1");
    push_select(&mut qb, f, now, None, false);
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(cap) + 1);
    qb.push(")");
    let (n,): (i64,) = qb.build_query_as().fetch_one(pool).await?;
    let n = n.max(0) as u64;
    Ok((n.min(u64::from(cap)), n <= u64::from(cap)))
}

/// Bans of `host` still active at `now + grace` and not lifted: `(id, jail, ip, timeofban)`,
/// oldest first. Read from `history_end` and `history_permanent` only.
pub async fn still_active(
    pool: &SqlitePool,
    host: &str,
    now: i64,
    grace: i64,
) -> Result<Vec<(i64, String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, jail, ip, timeofban FROM history WHERE id IN (\
           SELECT id FROM history INDEXED BY history_end WHERE timeofban + bantime > ?2 \
           UNION ALL SELECT id FROM history INDEXED BY history_permanent \
             WHERE bantime < 0 AND lifted_at IS NULL) \
         AND host = ?1 AND lifted_at IS NULL ORDER BY timeofban, id",
    )
    .bind(host)
    .bind(now.saturating_add(grace))
    .fetch_all(pool)
    .await
}

/// Per jail, the archive's still-active bans of `host` (the same rows as [`still_active`]):
/// `(jail, rows, distinct addresses)`. What a cheap comparison with fail2ban's per-jail ban
/// count needs, without loading the rows.
pub async fn still_active_counts(
    pool: &SqlitePool,
    host: &str,
    now: i64,
    grace: i64,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT jail, COUNT(*), COUNT(DISTINCT ip) FROM history WHERE id IN (\
           SELECT id FROM history INDEXED BY history_end WHERE timeofban + bantime > ?2 \
           UNION ALL SELECT id FROM history INDEXED BY history_permanent \
             WHERE bantime < 0 AND lifted_at IS NULL) \
         AND host = ?1 AND lifted_at IS NULL GROUP BY jail",
    )
    .bind(host)
    .bind(now.saturating_add(grace))
    .fetch_all(pool)
    .await
}

/// Records a lift on the given rows unless they are already lifted; returns rows changed.
pub async fn mark_lifted(
    pool: &SqlitePool,
    ids: &[i64],
    at: i64,
    by: &str,
) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for chunk in ids.chunks(500) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("UPDATE history SET lifted_at = ");
        qb.push_bind(at);
        qb.push(", lifted_by = ");
        qb.push_bind(by);
        qb.push(" WHERE lifted_at IS NULL AND id IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        changed += qb.build().execute(pool).await?.rows_affected();
    }
    Ok(changed)
}

/// Records an unban made through BanGUI: every still-active ban of `ip` (all IPs when `None`)
/// in the given jails (all jails when empty) of `host` is lifted at `at`.
pub async fn lift_active(
    pool: &SqlitePool,
    host: &str,
    ip: Option<&str>,
    jails: &[String],
    at: i64,
    by: &str,
) -> Result<u64, sqlx::Error> {
    let rows = match ip {
        Some(ip) => sqlx::query_as::<_, (i64, String, i64, i64)>(
            "SELECT id, jail, timeofban, bantime FROM history INDEXED BY history_ip_time \
                 WHERE ip = ?1 AND host = ?2 AND lifted_at IS NULL",
        )
        .bind(ip)
        .bind(host)
        .fetch_all(pool)
        .await?
        .into_iter()
        .filter(|(_, _, t, b)| *b < 0 || t.saturating_add(*b) > at)
        .map(|(id, jail, _, _)| (id, jail))
        .collect::<Vec<_>>(),
        None => still_active(pool, host, at, 0)
            .await?
            .into_iter()
            .map(|(id, jail, _, _)| (id, jail))
            .collect(),
    };
    let ids: Vec<i64> = rows
        .into_iter()
        .filter(|(_, jail)| jails.is_empty() || jails.contains(jail))
        .map(|(id, _)| id)
        .collect();
    mark_lifted(pool, &ids, at, by).await
}

/// Every archived ban since `since`, one IP after the other (rows of one IP together, oldest
/// first), streamed: read along `history_ip_time`, so SQLite neither groups nor sorts and
/// nothing of the window is held in memory. For the top-offender lists, off the request path.
pub fn bans_by_ip_since(
    pool: &SqlitePool,
    since: i64,
) -> futures_util::stream::BoxStream<'_, Result<IpBan, sqlx::Error>> {
    sqlx::query_as(
        "SELECT ip, jail, origin, country_code, asn, timeofban \
         FROM history INDEXED BY history_ip_time WHERE timeofban >= ?1 ORDER BY ip, timeofban",
    )
    .bind(since)
    .fetch(pool)
}

/// One row of [`bans_by_ip_since`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IpBan {
    pub ip: String,
    pub jail: String,
    pub origin: String,
    pub country_code: Option<String>,
    pub asn: Option<i64>,
    pub timeofban: i64,
}
