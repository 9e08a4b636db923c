//! Downloading a blocklist without letting its URL reach inside the network (SSRF guard).
//!
//! * Only `http` and `https`. Proxies from the environment are not used, so the address the
//!   guard checks is the address the connection goes to.
//! * Names are resolved by a [`HostResolver`] wrapped in a `reqwest` DNS resolver that drops
//!   every internal address (loopback, private, link-local, unique-local, shared, unspecified,
//!   multicast, reserved, documentation); a name that resolves to nothing else is refused
//!   before anything connects. Addresses written in the URL itself are checked the same way
//!   before the request. Because the check happens on the resolved addresses handed to the
//!   connector, a name that answers differently on a second lookup (DNS rebinding) gains
//!   nothing.
//! * Redirects are followed by hand, at most [`MAX_REDIRECTS`], each hop checked again.
//! * A source an administrator marked `allow_internal` may reach internal addresses, but only
//!   for the host written in its URL; a redirect to any other host is checked as usual.
//! * The body is read in chunks and the download stops as soon as it exceeds the size limit;
//!   the whole fetch (all hops and the body) has one deadline.
//! * `If-None-Match` / `If-Modified-Since` from the last imported body: `304` is reported as
//!   [`Fetched::NotModified`].
//!
//! The resolver is injectable so tests can make a name resolve to `10.0.0.1` without touching
//! `/etc/hosts`. `reqwest` (already used for ip-api) with its `rustls` feature is the client.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use url::{Host, Url};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Resolves a host name to addresses (the system resolver in production, a fixed map in tests).
pub trait HostResolver: Send + Sync {
    fn resolve(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (`getaddrinfo` through tokio).
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    fn resolve(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A fixed table of names (anything else does not resolve). For tests and air-gapped setups.
#[derive(Default, Clone)]
pub struct StaticResolver(pub HashMap<String, Vec<IpAddr>>);

impl HostResolver for StaticResolver {
    fn resolve(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let found = self.0.get(&host.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host} is not known"))
            })
        })
    }
}

/// Why an address may not be fetched from, or `None` when it is public.
pub fn internal_reason(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if v4.is_unspecified() || o[0] == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || o[0] >= 240 {
                Some("multicast or reserved")
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some("shared address space (carrier-grade NAT)")
            } else if v4.is_documentation() || (o[0] == 198 && (o[1] & 0xfe) == 18) {
                Some("documentation or benchmarking")
            } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
                Some("IETF protocol assignments")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if v6.is_unicast_link_local() {
                Some("link-local")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("unique local")
            } else if (s[0] & 0xffc0) == 0xfec0 {
                Some("site-local")
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("documentation")
            } else if s[0] == 0x0064 && s[1] == 0xff9b {
                Some("NAT64 (embeds an IPv4 address)")
            } else if s[0] == 0x2002 {
                Some("6to4 (embeds an IPv4 address)")
            } else {
                None
            }
        }
    }
}

/// Why a fetch failed. `code` is what the run log and the API show as `error_code`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("only http and https URLs can be fetched, not `{0}`")]
    Scheme(String),
    #[error(
        "{host} is {why} ({ip}); only public addresses may be fetched unless an admin allows internal addresses for this source"
    )]
    Internal {
        host: String,
        ip: IpAddr,
        why: &'static str,
    },
    #[error(
        "{host} resolves only to internal addresses ({ips}); only public addresses may be fetched unless an admin allows internal addresses for this source"
    )]
    InternalName { host: String, ips: String },
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("more than {MAX_REDIRECTS} redirects (last: {0})")]
    TooManyRedirects(String),
    #[error("redirect without a usable Location from {0}")]
    BadRedirect(String),
    #[error("the server answered {status} for {url}")]
    Status { status: u16, url: String },
    #[error("the list is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot fetch {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

impl FetchError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Scheme(_) => "bad_scheme",
            Self::Internal { .. } | Self::InternalName { .. } => "internal_address",
            Self::Resolve { .. } => "resolve_failed",
            Self::TooManyRedirects(_) => "too_many_redirects",
            Self::BadRedirect(_) => "bad_redirect",
            Self::Status { .. } => "http_status",
            Self::TooLarge { .. } => "too_large",
            Self::Timeout(_) => "timeout",
            Self::Http { .. } => "fetch_failed",
        }
    }
}

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: Url,
    pub allow_internal: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What came back.
#[derive(Debug)]
pub enum Fetched {
    NotModified {
        status: u16,
    },
    Body {
        status: u16,
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Limits of one fetch.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    pub max_bytes: u64,
    pub timeout: Duration,
}

/// The downloader. Cheap to clone; builds a client per fetch (imports are rare) so the
/// guard knows which host the source allows.
#[derive(Clone)]
pub struct Fetcher {
    resolver: Arc<dyn HostResolver>,
    limits: FetchLimits,
}

/// `reqwest`'s resolver: asks the [`HostResolver`] and keeps only public addresses (all of
/// them for the allowed host).
struct GuardedResolver {
    inner: Arc<dyn HostResolver>,
    allowed_host: Option<String>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allowed = self.allowed_host.as_deref() == Some(host.as_str());
        let lookup = self.inner.resolve(host.clone());
        Box::pin(async move {
            let ips = lookup.await.map_err(|source| {
                Box::new(FetchError::Resolve {
                    host: host.clone(),
                    source,
                }) as Box<dyn std::error::Error + Send + Sync>
            })?;
            let keep: Vec<SocketAddr> = ips
                .iter()
                .filter(|ip| allowed || internal_reason(**ip).is_none())
                .map(|ip| SocketAddr::new(*ip, 0))
                .collect();
            if keep.is_empty() {
                let ips = ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Box::new(FetchError::InternalName { host, ips })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(keep.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The guard's own error inside a `reqwest` error, if that is what stopped the request.
fn guard_error(e: &reqwest::Error) -> Option<FetchError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(f) = err.downcast_ref::<FetchError>() {
            return Some(match f {
                FetchError::InternalName { host, ips } => FetchError::InternalName {
                    host: host.clone(),
                    ips: ips.clone(),
                },
                FetchError::Resolve { host, source } => FetchError::Resolve {
                    host: host.clone(),
                    source: std::io::Error::new(source.kind(), source.to_string()),
                },
                _ => return None,
            });
        }
        source = err.source();
    }
    None
}

fn host_key(url: &Url) -> Option<String> {
    url.host_str().map(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    })
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Fetcher {
    /// Also installs rustls' process-wide crypto provider (ring, as `startup` does) if none is
    /// yet: reqwest is built with `rustls-no-provider` and panics when it builds a client
    /// without one, which a fetcher built outside the application (tests, examples) would do.
    pub fn new(resolver: Arc<dyn HostResolver>, limits: FetchLimits) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self { resolver, limits }
    }

    pub fn limits(&self) -> FetchLimits {
        self.limits
    }

    /// Downloads `req.url` within the limits, or says why not.
    pub async fn fetch(&self, req: &FetchRequest) -> Result<Fetched, FetchError> {
        let timeout = self.limits.timeout;
        tokio::time::timeout(timeout, self.fetch_inner(req))
            .await
            .map_err(|_| FetchError::Timeout(timeout))?
    }

    async fn fetch_inner(&self, req: &FetchRequest) -> Result<Fetched, FetchError> {
        let allowed_host = if req.allow_internal {
            host_key(&req.url)
        } else {
            None
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                inner: Arc::clone(&self.resolver),
                allowed_host: allowed_host.clone(),
            }))
            .connect_timeout(self.limits.timeout)
            .user_agent(concat!(
                "BanGUI/",
                env!("CARGO_PKG_VERSION"),
                " (blocklist import)"
            ))
            .build()
            .map_err(|source| FetchError::Http {
                url: req.url.to_string(),
                source,
            })?;
        let mut url = req.url.clone();
        let mut hops = 0;
        loop {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(FetchError::Scheme(url.scheme().to_string()));
            }
            let literal = match url.host() {
                Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(ip) = literal
                && allowed_host != host_key(&url)
                && let Some(why) = internal_reason(ip)
            {
                return Err(FetchError::Internal {
                    host: url.host_str().unwrap_or_default().to_string(),
                    ip,
                    why,
                });
            }
            let mut request = client.get(url.clone());
            if let Some(etag) = req
                .etag
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = req
                .last_modified
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
            let mut response = request.send().await.map_err(|source| {
                guard_error(&source).unwrap_or(FetchError::Http {
                    url: url.to_string(),
                    source,
                })
            })?;
            let status = response.status();
            if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
                hops += 1;
                let next = header(response.headers(), reqwest::header::LOCATION)
                    .and_then(|l| url.join(&l).ok())
                    .ok_or_else(|| FetchError::BadRedirect(url.to_string()))?;
                if hops > MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects(next.to_string()));
                }
                url = next;
                continue;
            }
            if status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified {
                    status: status.as_u16(),
                });
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    status: status.as_u16(),
                    url: url.to_string(),
                });
            }
            let limit = self.limits.max_bytes;
            if response.content_length().is_some_and(|n| n > limit) {
                return Err(FetchError::TooLarge { limit });
            }
            let etag = header(response.headers(), ETAG);
            let last_modified = header(response.headers(), LAST_MODIFIED);
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|source| FetchError::Http {
                url: url.to_string(),
                source,
            })? {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(FetchError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched::Body {
                status: status.as_u16(),
                body,
                etag,
                last_modified,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised_and_public_ones_pass() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::",
            "64:ff9b::a00:1",
        ] {
            assert!(internal_reason(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "185.220.101.7"] {
            assert!(internal_reason(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }
}
