//! The reads of one IP's story (`GET /api/v1/history/{ip}`): its newest bans with their matched
//! log lines, its ban times per (host, jail) for the totals and the per-day chart, and the
//! newest stored geolocation. Each is one range of an `ip`-first index
//! (`history_ip_time`, `history_ip_jail`).

use sqlx::SqlitePool;

use super::history::{HistoryRow, SEARCH_COLUMNS as COLUMNS};

/// One ban of an IP's timeline: a search row and its matched log lines (JSON array).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    #[sqlx(flatten)]
    pub row: HistoryRow,
    pub matches: Option<String>,
}

/// An IP's bans, newest first, at most `limit`, with their matched lines.
pub async fn timeline(
    pool: &SqlitePool,
    ip: &str,
    limit: u32,
) -> Result<Vec<TimelineRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, matches FROM history INDEXED BY history_ip_time WHERE ip = ?1 \
         ORDER BY timeofban DESC, id DESC LIMIT ?2"
    )))
    .bind(ip)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
}

/// Every archived ban time of one IP, per (host, jail), in `(host, jail)` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JailBanTimes {
    pub host: String,
    pub jail: String,
    /// `timeofban` of each archived ban (index order: oldest first).
    pub times: Vec<i64>,
}

/// An IP's ban times per (host, jail): one scan of `history_ip_jail` (ip, host, jail, time),
/// where they are already grouped, packed by SQLite into one text per group. The IP page's
/// totals, first and last seen and per-day counts all come from it. Packing is the cheapest
/// way to get them: on the busiest IP of the 1M-row benchmark (13,452 bans) the grouped
/// `group_concat` took 3.7 ms against 4.2 ms for `COUNT`, `MIN` and `MAX` per jail plus
/// 4.8 ms for a per-day `GROUP BY`, which needs a temporary b-tree (docs/perf.md).
pub async fn ban_times(pool: &SqlitePool, ip: &str) -> Result<Vec<JailBanTimes>, sqlx::Error> {
    let groups: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT host, jail, group_concat(timeofban) \
         FROM history INDEXED BY history_ip_jail WHERE ip = ?1 GROUP BY host, jail \
         ORDER BY host, jail",
    )
    .bind(ip)
    .fetch_all(pool)
    .await?;
    groups
        .into_iter()
        .map(|(host, jail, packed)| {
            let times = packed
                .split(',')
                .map(str::parse::<i64>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok(JailBanTimes { host, jail, times })
        })
        .collect()
}

/// The newest row of an IP that carries a country or an ASN: `(country, asn)`.
pub async fn geo(
    pool: &SqlitePool,
    ip: &str,
) -> Result<Option<(Option<String>, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT country_code, asn FROM history INDEXED BY history_ip_time WHERE ip = ?1 \
         AND (country_code IS NOT NULL OR asn IS NOT NULL) ORDER BY timeofban DESC LIMIT 1",
    )
    .bind(ip)
    .fetch_optional(pool)
    .await
}
