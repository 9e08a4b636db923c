//! `GET /api/v1/events/stream`: the event bus as server-sent events, for any signed-in caller,
//! filtered by role. Each event is `id: N`, `event: <type>` and `data: <Event JSON>`; a
//! `reset` event means "events were missed, reload everything"; a comment line every 15 s
//! keeps proxies from closing an idle stream. A reconnecting `EventSource` sends
//! `Last-Event-ID` and gets what it missed (a fresh one may pass `last_event_id` instead).
//!
//! Behind a reverse proxy the stream must not be buffered or compressed: the response carries
//! `X-Accel-Buffering: no` (nginx honours it per response), `Cache-Control: no-cache` and
//! `Content-Encoding: identity`, which also keeps the compression middleware off it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::DomainError;
use crate::domain::event::Event;
use crate::error::ApiError;
use crate::services::live_stream::{StreamItem, TooManyStreams};
use crate::state::AppState;

use super::guard::Viewer;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stream);
}

/// How long a client waits before reconnecting after the stream ends (milliseconds).
const RETRY_MS: u32 = 3_000;

impl From<TooManyStreams> for ApiError {
    fn from(e: TooManyStreams) -> Self {
        ApiError::unavailable("too_many_streams", e.to_string())
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StreamParams {
    /// Resume after this event id (what `Last-Event-ID` carries; the header wins).
    #[param(minimum = 0)]
    pub last_event_id: Option<u64>,
}

fn parse_last_id(req: &HttpRequest, query: &StreamParams) -> Result<Option<u64>, ApiError> {
    match req.headers().get("Last-Event-ID") {
        Some(value) => {
            let text = value.to_str().unwrap_or_default().trim();
            if text.is_empty() {
                return Ok(query.last_event_id);
            }
            text.parse::<u64>().map(Some).map_err(|_| {
                DomainError::new(
                    "Last-Event-ID",
                    text,
                    "expected an event id (a whole number)",
                )
                .into()
            })
        }
        None => Ok(query.last_event_id),
    }
}

/// The SSE framing of one item.
fn frame(item: &StreamItem) -> web::Bytes {
    match item {
        StreamItem::Event(event) => web::Bytes::from(event_frame(event)),
        StreamItem::Reset => web::Bytes::from_static(b"event: reset\ndata: {}\n\n"),
        StreamItem::Heartbeat => web::Bytes::from_static(b": heartbeat\n\n"),
    }
}

fn event_frame(event: &Event) -> String {
    // serde_json never writes a raw newline, so the JSON is one `data:` line.
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.id,
        event.event_type().as_str()
    )
}

/// Live events (bans, unbans, jail and fail2ban status changes, failures) as server-sent
/// events, filtered by the caller's role. Resumes after `Last-Event-ID`; starts with a `reset`
/// event when events after it are no longer held. Each `data:` is an `Event`.
#[utoipa::path(tag = "events",
    params(StreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id received (sent by EventSource when it reconnects)")),
    responses(
        (status = 200, description = "text/event-stream of `Event`s (`id:`, `event:` = type, `data:` = JSON)",
            content_type = "text/event-stream", body = Event),
        (status = 400, description = "Last-Event-ID or last_event_id is not an event id"),
        (status = 401),
        (status = 503, description = "too many open streams")))]
#[get("/events/stream")]
pub async fn stream(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<StreamParams>,
) -> Result<HttpResponse, ApiError> {
    let last_id = parse_last_id(&req, &query)?;
    let items = state.live_streams.open(caller.identity.role, last_id)?;
    let opening = format!("retry: {RETRY_MS}\n: connected\n\n");
    let body = futures_util::stream::once(async move { web::Bytes::from(opening) })
        .chain(items.map(|item| frame(&item)))
        .map(Ok::<_, std::convert::Infallible>);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(body))
}
