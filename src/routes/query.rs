//! Query-string parameters shared by the list endpoints, parsed into domain types at the edge.

use serde::Deserialize;

use crate::domain::{Origin, Page, TimeRange};
use crate::error::ApiError;

/// `range`, `origin`, `page`, `page_size` as they arrive.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct WindowQuery {
    /// 24h (default), 7d, 30d or 365d.
    #[param(pattern = r"^\s*(24h|7d|30d|365d)\s*$")]
    pub range: Option<String>,
    /// all (default), selfblock or blocklist (the `blocklist-import` jail).
    #[param(pattern = r"^\s*(all|selfblock|blocklist)\s*$")]
    pub origin: Option<String>,
    /// 1-based page (default 1); 400 when out of range.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Rows per page (default 100, 1 to 500); 400 when out of range.
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    /// ISO country code: only bans of IPs located there.
    #[param(pattern = r"^\s*([A-Za-z]{2})?\s*$")]
    pub country: Option<String>,
}

/// The validated parameters of an aggregate (not paged) window.
pub struct AggregateWindow {
    pub range: TimeRange,
    pub origin: Origin,
    pub country: Option<String>,
}

impl WindowQuery {
    /// Range, origin and country of an aggregate; paging parameters are refused when out of
    /// range although aggregates are not paged, as on every window endpoint.
    pub fn aggregate(&self) -> Result<AggregateWindow, ApiError> {
        self.page()?;
        Ok(AggregateWindow {
            range: self.range()?,
            origin: self.origin()?,
            country: self.country()?,
        })
    }

    pub fn range(&self) -> Result<TimeRange, ApiError> {
        Ok(self
            .range
            .as_deref()
            .map(TimeRange::parse)
            .transpose()?
            .unwrap_or(TimeRange::Day))
    }

    pub fn origin(&self) -> Result<Origin, ApiError> {
        Ok(self
            .origin
            .as_deref()
            .map(Origin::parse)
            .transpose()?
            .unwrap_or(Origin::All))
    }

    pub fn page(&self) -> Result<Page, ApiError> {
        Ok(Page::new(self.page, self.page_size)?)
    }

    /// Upper-cased two-letter code, or a 400.
    pub fn country(&self) -> Result<Option<String>, ApiError> {
        match self
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => Ok(None),
            Some(c) if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
                Ok(Some(c.to_ascii_uppercase()))
            }
            Some(c) => Err(ApiError::bad_request(
                "invalid_country",
                format!("{c:?} is not a two-letter ISO country code"),
            )),
        }
    }
}
