//! `/api/v1/history…`: the searchable ban history (paged, or streamed as CSV / NDJSON), one IP's
//! whole story, and `/api/v1/dashboard/top-ips`. Parameters are parsed into
//! `domain::history_query` types first; a bad one is a 400 naming it.

use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::history_query::{Cursor, HistoryFilter, HistoryQuery, Order, RawHistoryParams};
use crate::domain::{BanIp, DomainError, Origin, Page, TimeRange};
use crate::error::ApiError;
use crate::services::history_query::{
    EXPORT_CHUNK, ExportFormat, HistoryError, HistoryItem, HistoryPage, IpHistory, Source,
    TIMELINE_DEFAULT, TIMELINE_MAX, now_epoch,
};
use crate::services::top_offenders::TopIps;
use crate::state::AppState;

use super::guard::Viewer;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(search)
        .service(export)
        .service(ip_history)
        .service(top_ips);
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Invalid(d) => d.into(),
            HistoryError::Database(db) => db.into(),
            HistoryError::Fail2banDb(f) => f.into(),
            HistoryError::Fail2ban(f) => f.into(),
            HistoryError::NoFail2banDatabase => {
                ApiError::unavailable("fail2ban_db_unavailable", e.to_string())
            }
        }
    }
}

/// Filters, order and paging of a history search, as they arrive.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryParams {
    /// 24h, 7d, 30d or 365d back from now; or use from/to. Default: everything.
    #[param(pattern = r"^\s*(24h|7d|30d|365d)?\s*$")]
    pub range: Option<String>,
    /// Bans at or after: RFC 3339, a date (YYYY-MM-DD, UTC) or epoch seconds.
    pub from: Option<String>,
    /// Bans before: RFC 3339, a date or epoch seconds.
    pub to: Option<String>,
    pub jail: Option<String>,
    /// One address, or a CIDR network of at least /8 (IPv4) or /32 (IPv6).
    pub ip: Option<String>,
    /// ISO country code.
    #[param(pattern = r"^\s*([A-Za-z]{2})?\s*$")]
    pub country: Option<String>,
    /// AS number (64496 or AS64496).
    pub asn: Option<String>,
    /// all (default), selfblock or blocklist.
    #[param(pattern = r"^\s*(all|selfblock|blocklist)?\s*$")]
    pub origin: Option<String>,
    /// The fail2ban host the ban came from (`local`).
    pub host: Option<String>,
    /// active, expired or lifted.
    #[param(pattern = r"^\s*(active|expired|lifted)?\s*$")]
    pub state: Option<String>,
    /// newest (default) or oldest.
    #[param(pattern = r"^\s*(newest|oldest|desc|asc)?\s*$")]
    pub order: Option<String>,
    /// `next_cursor` of the previous page: continue after it (page numbers are ignored).
    pub cursor: Option<String>,
    /// 1-based page (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page (default 100, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    /// archive (default) or fail2ban (fail2ban's own database; time, jail, IP, origin and
    /// active/expired state only).
    pub source: Option<String>,
}

impl HistoryParams {
    fn parse(&self) -> Result<(HistoryQuery, Source, Page), DomainError> {
        let raw = RawHistoryParams {
            range: self.range.as_deref(),
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            jail: self.jail.as_deref(),
            ip: self.ip.as_deref(),
            country: self.country.as_deref(),
            asn: self.asn.as_deref(),
            origin: self.origin.as_deref(),
            host: self.host.as_deref(),
            state: self.state.as_deref(),
        };
        let filter = HistoryFilter::parse(&raw, now_epoch())?;
        let page = Page::new(self.page, self.page_size)?;
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let order = nonempty(&self.order)
            .map(|o| Order::parse(&o))
            .transpose()?
            .unwrap_or_default();
        let cursor = nonempty(&self.cursor)
            .map(|c| Cursor::parse(&c))
            .transpose()?;
        let source = nonempty(&self.source)
            .map(|s| Source::parse(&s))
            .transpose()?
            .unwrap_or_default();
        Ok((
            HistoryQuery {
                filter,
                order,
                cursor,
                offset: page.offset(),
                limit: page.limit(),
            },
            source,
            page,
        ))
    }
}

/// Every archived ban (or fail2ban's own rows), filtered, newest or oldest first, one page.
/// Continue with `cursor` (keyset) or jump with `page`.
#[utoipa::path(tag = "history", params(HistoryParams),
    responses((status = 200, body = HistoryPage),
        (status = 400, description = "a parameter is invalid; details.field names it"),
        (status = 401), (status = 503, description = "a database is unavailable")))]
#[get("/history")]
pub async fn search(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<HistoryParams>,
) -> Result<web::Json<HistoryPage>, ApiError> {
    let (query, source, page) = q.parse()?;
    Ok(web::Json(
        state.history_query.page(&query, source, page.page).await?,
    ))
}

/// The export's format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportParams {
    /// csv (default) or ndjson.
    pub format: Option<String>,
}

/// Every row of a history search (same parameters as /history; paging is ignored), streamed as
/// CSV or NDJSON in the order asked, with bounded memory whatever the size.
#[utoipa::path(tag = "history", params(HistoryParams, ExportParams),
    responses((status = 200, description = "text/csv or application/x-ndjson; the rows of /history", content_type = "text/csv"),
        (status = 400, description = "a parameter is invalid; details.field names it"), (status = 401)))]
#[get("/history/export")]
pub async fn export(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<HistoryParams>,
    f: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let (mut query, source, _) = q.parse()?;
    let csv = match f.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => true,
        Some("ndjson") => false,
        Some(other) => {
            return Err(DomainError::new("format", other, "expected csv or ndjson").into());
        }
    };
    query.limit = EXPORT_CHUNK;
    query.offset = 0;
    let (content_type, name) = if csv {
        ("text/csv; charset=utf-8", "history.csv")
    } else {
        ("application/x-ndjson", "history.ndjson")
    };
    let attachment = (
        "Content-Disposition",
        format!("attachment; filename=\"{name}\""),
    );
    if source == Source::Archive {
        let format = if csv {
            ExportFormat::Csv
        } else {
            ExportFormat::Ndjson
        };
        let mut rx = state.history_query.export_archive(query, format);
        // The first batch is awaited before answering, so that a failing read is an error
        // status rather than a cut-off body.
        let first = match rx.recv().await {
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(bytes)) => Some(web::Bytes::from(bytes)),
            None => None,
        };
        let rest = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|m| (m.map(web::Bytes::from), rx))
        });
        let stream = futures_util::stream::iter(first.map(Ok::<_, HistoryError>)).chain(rest);
        return Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(attachment)
            .streaming(stream));
    }
    // fail2ban's database: keyset chunks. The first chunk is read before answering, so that a
    // bad request is still a 400.
    let service = Arc::clone(&state.history_query);
    let (items, next) = service.chunk(&query, source).await?;
    let first = web::Bytes::from(render(&items, csv, true));
    query.cursor = next;
    let rest = futures_util::stream::unfold(next.map(|_| query), move |st| {
        let service = Arc::clone(&service);
        async move {
            let mut query = st?;
            match service.chunk(&query, source).await {
                Ok((items, next)) => {
                    let body = render(&items, csv, false);
                    query.cursor = next;
                    Some((Ok(web::Bytes::from(body)), next.map(|_| query)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "history export stopped");
                    Some((Err(e), None))
                }
            }
        }
    });
    let stream =
        futures_util::stream::once(async move { Ok::<_, HistoryError>(first) }).chain(rest);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(attachment)
        .streaming(stream))
}

fn render(items: &[HistoryItem], csv: bool, first: bool) -> String {
    let mut out = String::with_capacity(items.len() * 256 + 256);
    if csv && first {
        out.push_str(HistoryItem::CSV_HEADER);
    }
    for item in items {
        if csv {
            item.csv_line(&mut out);
        } else {
            out.push_str(&serde_json::to_string(item).unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

/// One IP's story: every archived ban with its matched log lines, first and last seen, totals
/// per jail, the jails banning it now and the ignore lists covering it (live), geolocation and
/// ASN. An IP never banned has an empty timeline.
#[utoipa::path(tag = "history",
    params(crate::routes::geo::IpPath, IpHistoryParams),
    responses((status = 200, body = IpHistory), (status = 400, description = "not an IP address, or limit out of range"),
        (status = 401)))]
#[get("/history/{ip}")]
pub async fn ip_history(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<IpHistoryParams>,
) -> Result<web::Json<IpHistory>, ApiError> {
    let ip = BanIp::parse(&path.into_inner())?;
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => TIMELINE_DEFAULT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=TIMELINE_MAX).contains(n))
            .ok_or_else(|| {
                DomainError::new("limit", text, format!("expected 1 to {TIMELINE_MAX}"))
            })?,
    };
    Ok(web::Json(state.history_query.ip(ip, limit).await?))
}

/// How many bans an IP's timeline lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct IpHistoryParams {
    /// Newest bans listed (default 100, at most 500); `timeline_truncated` says whether there
    /// are more (`/history?ip=` pages through all of them).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// Range, origin and list length of the top-offender lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TopParams {
    /// 24h (default), 7d, 30d or 365d.
    #[param(pattern = r"^\s*(24h|7d|30d|365d)\s*$")]
    pub range: Option<String>,
    /// all (default), selfblock or blocklist.
    #[param(pattern = r"^\s*(all|selfblock|blocklist)\s*$")]
    pub origin: Option<String>,
    /// Entries per list (default 10, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The most banned IPs (count, jails, country, last seen) and ASNs of a range, from lists the
/// `history_top` job recomputes in the background (`computed_at` says when).
#[utoipa::path(tag = "dashboard", params(TopParams),
    responses((status = 200, body = TopIps), (status = 400), (status = 401)))]
#[get("/dashboard/top-ips")]
pub async fn top_ips(
    _: Viewer,
    state: web::Data<AppState>,
    q: web::Query<TopParams>,
) -> Result<web::Json<TopIps>, ApiError> {
    let range = q
        .range
        .as_deref()
        .map(TimeRange::parse)
        .transpose()?
        .unwrap_or(TimeRange::Day);
    let origin = q
        .origin
        .as_deref()
        .map(Origin::parse)
        .transpose()?
        .unwrap_or(Origin::All);
    let limit = match q.limit {
        None => 10,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(DomainError::new("limit", &n.to_string(), "must be 1..=100").into());
        }
    };
    Ok(web::Json(state.top_offenders.top(range, origin, limit)))
}
