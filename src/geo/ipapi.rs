//! The optional ip-api.com fallback over plain HTTP: the single (`/json/{ip}`) and batch
//! (`/batch`, at most 100 IPs) endpoints, a local limiter for the free tier (45 single and
//! 15 batch requests a minute), HTTP 429 and `X-Rl`/`X-Ttl` back-off, `status: fail` and
//! timeouts. It only turns IPs into [`GeoInfo`]; caching, single-flight and the decision
//! whether the fallback may be used at all belong to the cache.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::domain::{GeoInfo, GeoSource};

/// Largest batch the endpoint accepts.
pub const MAX_BATCH: usize = 100;
const FIELDS: &str = "status,message,country,countryCode,continentCode,as,org,query";
const WINDOW: Duration = Duration::from_secs(60);

/// Why the fallback gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum IpApiError {
    #[error("ip-api rate limit reached locally; retry in {0:?}")]
    RateLimited(Duration),
    #[error("ip-api answered HTTP {0}")]
    Status(u16),
    #[error("ip-api request failed: {0}")]
    Http(String),
}

/// A sliding one-minute window of request start times plus a server-imposed pause.
struct Limiter {
    per_minute: usize,
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Limiter {
    fn new(per_minute: usize) -> Self {
        Self {
            per_minute,
            sent: VecDeque::with_capacity(per_minute),
            paused_until: None,
        }
    }

    fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(until) = self.paused_until {
            if until > now {
                return Err(until - now);
            }
            self.paused_until = None;
        }
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.per_minute {
            let oldest = self.sent.front().copied().unwrap_or(now);
            return Err(WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        self.sent.push_back(now);
        Ok(())
    }

    fn pause(&mut self, now: Instant, secs: u64) {
        self.paused_until = Some(now + Duration::from_secs(secs.clamp(1, 120)));
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    status: Option<String>,
    country: Option<String>,
    country_code: Option<String>,
    continent_code: Option<String>,
    #[serde(rename = "as")]
    as_: Option<String>,
    org: Option<String>,
    query: Option<String>,
}

impl Answer {
    fn into_info(self) -> Option<(Option<IpAddr>, GeoInfo)> {
        if self.status.as_deref() != Some("success") {
            return None;
        }
        let country_code = self.country_code.filter(|c| !c.is_empty())?;
        let asn = self.as_.as_deref().and_then(parse_asn);
        let query = self.query.as_deref().and_then(|q| q.parse::<IpAddr>().ok());
        Some((
            query.map(|q| q.to_canonical()),
            GeoInfo {
                country_code: Some(country_code),
                country_name: self.country.filter(|c| !c.is_empty()),
                geoname_id: None,
                continent: self.continent_code.filter(|c| !c.is_empty()),
                asn,
                org: self.org.filter(|o| !o.is_empty()),
                network: None,
                source: GeoSource::Ipapi,
                db_version: None,
            },
        ))
    }
}

/// `"AS15169 Google LLC"` → 15169.
fn parse_asn(s: &str) -> Option<u32> {
    s.strip_prefix("AS")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The ip-api.com client.
pub struct IpApiClient {
    http: reqwest::Client,
    base_url: String,
    single: Mutex<Limiter>,
    batch: Mutex<Limiter>,
}

impl IpApiClient {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            single: Mutex::new(Limiter::new(45)),
            batch: Mutex::new(Limiter::new(15)),
        }
    }

    fn acquire(limiter: &Mutex<Limiter>) -> Result<(), IpApiError> {
        let mut guard = limiter.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .try_acquire(Instant::now())
            .map_err(IpApiError::RateLimited)
    }

    /// Reads the free tier's `X-Rl` (requests left) and `X-Ttl` (seconds to reset) headers and
    /// pauses the limiter when nothing is left or the server said 429.
    fn observe(limiter: &Mutex<Limiter>, res: &reqwest::Response) {
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let ttl = header("x-ttl").or_else(|| header("retry-after"));
        let exhausted = header("x-rl") == Some(0) || res.status().as_u16() == 429;
        if exhausted {
            let mut guard = limiter.lock().unwrap_or_else(|p| p.into_inner());
            guard.pause(Instant::now(), ttl.unwrap_or(60));
        }
    }

    /// One IP over the single endpoint. `Ok(None)`: ip-api answered `status: fail`.
    pub async fn lookup(&self, ip: IpAddr) -> Result<Option<GeoInfo>, IpApiError> {
        Self::acquire(&self.single)?;
        let url = format!("{}/json/{ip}?fields={FIELDS}", self.base_url);
        let res = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| IpApiError::Http(e.to_string()))?;
        Self::observe(&self.single, &res);
        if !res.status().is_success() {
            return Err(IpApiError::Status(res.status().as_u16()));
        }
        let answer: Answer = res
            .json()
            .await
            .map_err(|e| IpApiError::Http(e.to_string()))?;
        Ok(answer.into_info().map(|(_, info)| info))
    }

    /// Up to [`MAX_BATCH`] IPs in one request (larger slices are cut). IPs ip-api could not
    /// resolve are absent from the map.
    pub async fn lookup_batch(
        &self,
        ips: &[IpAddr],
    ) -> Result<HashMap<IpAddr, GeoInfo>, IpApiError> {
        let ips = ips.get(..MAX_BATCH.min(ips.len())).unwrap_or(ips);
        if ips.is_empty() {
            return Ok(HashMap::new());
        }
        Self::acquire(&self.batch)?;
        let body: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
        let url = format!("{}/batch?fields={FIELDS}", self.base_url);
        let res = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| IpApiError::Http(e.to_string()))?;
        Self::observe(&self.batch, &res);
        if !res.status().is_success() {
            return Err(IpApiError::Status(res.status().as_u16()));
        }
        let answers: Vec<Answer> = res
            .json()
            .await
            .map_err(|e| IpApiError::Http(e.to_string()))?;
        let mut out = HashMap::with_capacity(answers.len());
        for (i, answer) in answers.into_iter().enumerate() {
            if let Some((query, info)) = answer.into_info()
                && let Some(ip) = query.or_else(|| ips.get(i).copied())
            {
                out.insert(ip, info);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_the_free_tier_budget_per_minute_and_no_more() {
        let mut l = Limiter::new(15);
        let t0 = Instant::now();
        for _ in 0..15 {
            assert!(l.try_acquire(t0).is_ok());
        }
        assert!(l.try_acquire(t0).is_err());
        assert!(l.try_acquire(t0 + WINDOW).is_ok());
    }

    #[test]
    fn a_server_pause_blocks_until_it_ends() {
        let mut l = Limiter::new(45);
        let t0 = Instant::now();
        l.pause(t0, 30);
        assert!(l.try_acquire(t0 + Duration::from_secs(29)).is_err());
        assert!(l.try_acquire(t0 + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn the_asn_is_parsed_from_the_as_field() {
        assert_eq!(parse_asn("AS15169 Google LLC"), Some(15169));
        assert_eq!(parse_asn("Google"), None);
    }
}
