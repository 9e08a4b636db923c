//! The ip-api.com fallback of the geo cache, single-flight: an IP already being asked for by
//! one caller is waited on by the others, never asked twice at once. Only used when
//! `geoip.allow_http_fallback` is on, and only for public IPs the MMDB did not know.
//!
//! Invariants:
//! - Every IP given to [`SingleFlight::resolve`] is in its answer (`None`: not found, or the
//!   request failed; failures are logged and counted, never returned as errors).
//! - The leader hands each answer to `record` (the memory tier) **before** it publishes the
//!   answers and removes its registrations, so a caller that misses the registration finds the
//!   answer in memory (the `peek` re-check after registering).
//! - A registration is removed even when the leader's future is dropped mid-request
//!   ([`InflightGuard`]); its waiters then see the channel close and get `None`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry as MapEntry;
use tokio::sync::watch;

use crate::domain::GeoInfo;
use crate::geo::ipapi::{IpApiClient, MAX_BATCH};
use crate::metrics::Metrics;

/// How long an ip-api answer is served from memory.
pub const IPAPI_TTL: Duration = Duration::from_secs(300);
/// Timeout of one ip-api request.
pub const IPAPI_TIMEOUT: Duration = Duration::from_secs(5);

type Shared = Arc<HashMap<IpAddr, Option<Arc<GeoInfo>>>>;

pub struct SingleFlight {
    client: IpApiClient,
    inflight: DashMap<IpAddr, watch::Receiver<Option<Shared>>>,
}

impl SingleFlight {
    pub fn new(base_url: &str) -> Self {
        Self {
            client: IpApiClient::new(base_url, IPAPI_TIMEOUT),
            inflight: DashMap::new(),
        }
    }

    /// Asks ip-api for `ips` (in batches of [`MAX_BATCH`], or the single endpoint for one),
    /// waiting on IPs someone else is already asking for. `peek` reads the memory tier;
    /// `record` stores each of this caller's answers there (see the module invariants).
    pub async fn resolve(
        &self,
        ips: &[IpAddr],
        metrics: &Metrics,
        peek: impl Fn(IpAddr) -> Option<Option<Arc<GeoInfo>>>,
        record: impl Fn(IpAddr, Option<&Arc<GeoInfo>>),
    ) -> HashMap<IpAddr, Option<Arc<GeoInfo>>> {
        let mut result: HashMap<IpAddr, Option<Arc<GeoInfo>>> = HashMap::new();
        let (tx, rx) = watch::channel::<Option<Shared>>(None);
        let mut mine = Vec::new();
        let mut waits: Vec<(IpAddr, watch::Receiver<Option<Shared>>)> = Vec::new();
        for ip in ips {
            match self.inflight.entry(*ip) {
                MapEntry::Occupied(e) => waits.push((*ip, e.get().clone())),
                MapEntry::Vacant(v) => {
                    v.insert(rx.clone());
                    mine.push(*ip);
                }
            }
        }
        let guard = InflightGuard {
            map: &self.inflight,
            ips: mine.clone(),
            rx: rx.clone(),
        };
        // Another leader may have finished between the memory probe and registration.
        mine.retain(|ip| match peek(*ip) {
            Some(info) => {
                result.insert(*ip, info);
                false
            }
            None => true,
        });
        let mut answers: HashMap<IpAddr, Option<Arc<GeoInfo>>> = HashMap::new();
        for chunk in mine.chunks(MAX_BATCH) {
            let outcome = if let [one] = chunk {
                self.client.lookup(*one).await.map(|o| {
                    o.map(|info| HashMap::from([(*one, info)]))
                        .unwrap_or_default()
                })
            } else {
                self.client.lookup_batch(chunk).await
            };
            match outcome {
                Ok(mut found) => {
                    for ip in chunk {
                        let info = found.remove(ip).map(Arc::new);
                        if info.is_some() {
                            metrics.geo_lookups.ipapi_hit.inc();
                        } else {
                            metrics.geo_lookups.ipapi_miss.inc();
                        }
                        record(*ip, info.as_ref());
                        answers.insert(*ip, info);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, ips = chunk.len(), "ip-api fallback failed");
                    for ip in chunk {
                        metrics.geo_lookups.ipapi_error.inc();
                        record(*ip, None);
                        answers.insert(*ip, None);
                    }
                }
            }
        }
        let answers = Arc::new(answers);
        let _ = tx.send(Some(Arc::clone(&answers)));
        drop(guard);
        for (ip, info) in answers.iter() {
            result.insert(*ip, info.clone());
        }
        for (ip, mut waiting) in waits {
            let shared = waiting
                .wait_for(|v| v.is_some())
                .await
                .ok()
                .and_then(|v| v.clone());
            let info = shared.and_then(|m| m.get(&ip).cloned().flatten());
            result.insert(ip, info);
        }
        result
    }
}

/// Removes the single-flight registrations of a leader even if its future is dropped.
struct InflightGuard<'a> {
    map: &'a DashMap<IpAddr, watch::Receiver<Option<Shared>>>,
    ips: Vec<IpAddr>,
    rx: watch::Receiver<Option<Shared>>,
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        for ip in &self.ips {
            self.map.remove_if(ip, |_, rx| rx.same_channel(&self.rx));
        }
    }
}
