//! Who is calling, and may they: the extractors that every non-public handler takes. A caller
//! proves itself with the `bangui_session` cookie or an `Authorization: Bearer` token; cookie
//! callers must send `X-BanGUI-Request: 1` on state-changing methods (CSRF); [`Viewer`],
//! [`Operator`] and [`Admin`] check the role. Credentials are checked once per request by the
//! [`authenticate_request`] middleware, before any body is read, so that a caller without the
//! right is refused with 401/403 whatever the body holds. Also the setup gate (503 `setup_required` until the
//! first admin exists) and the trusted-proxy-aware client address.

use std::net::IpAddr;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::{Ready, ready};
use ipnet::IpNet;

use crate::domain::auth::Role;
use crate::error::ApiError;
use crate::services::audit::Actor;
use crate::services::auth::Identity;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "bangui_session";
pub const CSRF_HEADER: &str = "x-bangui-request";

/// The client's address: the peer, or the right-most untrusted X-Forwarded-For entry when the
/// peer is a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_canonical())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return peer;
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    forwarded
        .split(',')
        .rev()
        .filter_map(|s| s.trim().parse::<IpAddr>().ok().map(|ip| ip.to_canonical()))
        .find(|ip| !trusted.iter().any(|n| n.contains(ip)))
        .unwrap_or(peer)
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

/// The token of the session cookie, if any.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn has_credentials(req: &HttpRequest) -> bool {
    req.headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
        || session_token(req).is_some()
}

/// What the middleware found; read synchronously by the extractors.
#[derive(Clone)]
struct AuthOutcome(Result<Caller, ApiError>);

/// Resolves the caller's credentials (if any) before routing and stores the outcome.
pub async fn authenticate_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.path().starts_with("/api/") && has_credentials(req.request()) {
        let outcome = authenticate(req.request().clone()).await;
        req.extensions_mut().insert(AuthOutcome(outcome));
    }
    next.call(req).await
}

fn caller_of(req: &HttpRequest) -> Result<Caller, ApiError> {
    match req.extensions().get::<AuthOutcome>() {
        Some(AuthOutcome(outcome)) => outcome.clone(),
        None => Err(ApiError::unauthorized(
            "log in, or send an API token as Authorization: Bearer <token>",
        )),
    }
}

async fn authenticate(req: HttpRequest) -> Result<Caller, ApiError> {
    let state = state(&req)?;
    let ip = client_ip(&req, &state.settings.security.trusted_proxies);
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_string);
    let identity = if let Some(token) = bearer {
        state
            .auth
            .tokens
            .authenticate(&token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the API token is unknown, revoked or expired"))?
    } else if let Some(token) = session_token(&req) {
        let id = state
            .auth
            .sessions
            .authenticate(&token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the session has expired; log in again"))?;
        let csrf_ok = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) == Some("1");
        if is_state_changing(req.method()) && !csrf_ok {
            return Err(ApiError::forbidden(
                "csrf_required",
                "state-changing requests made with the session cookie must send the header X-BanGUI-Request: 1",
            ));
        }
        id
    } else {
        return Err(ApiError::unauthorized(
            "log in, or send an API token as Authorization: Bearer <token>",
        ));
    };
    Ok(Caller {
        identity,
        client_ip: ip,
    })
}

/// Any authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    pub client_ip: IpAddr,
}

impl Caller {
    /// The caller as the audit log records it.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.identity.username.clone(),
            auth: Some(self.identity.auth.as_str()),
            client_ip: Some(self.client_ip.to_string()),
        }
    }

    fn require(self, role: Role) -> Result<Self, ApiError> {
        if self.identity.role >= role {
            Ok(self)
        } else {
            Err(ApiError::forbidden(
                "forbidden",
                format!(
                    "this needs the {} role; you are {}",
                    role.as_str(),
                    self.identity.role.as_str()
                ),
            ))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller_of(req))
    }
}

macro_rules! role_guard {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(caller_of(req).and_then(|c| c.require($role)).map($name))
            }
        }
    };
}

role_guard!(
    Viewer,
    Role::Viewer,
    "A caller with at least the viewer role (any user)."
);
role_guard!(
    Operator,
    Role::Operator,
    "A caller with at least the operator role."
);
role_guard!(Admin, Role::Admin, "A caller with the admin role.");

/// Paths that answer before setup is complete.
fn open_before_setup(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1") else {
        return true;
    };
    rest == "/setup" || rest.starts_with("/health") || rest == "/openapi.json"
}

/// Until the first admin exists, every other `/api/v1` route answers 503 `setup_required`.
pub async fn setup_gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !open_before_setup(req.path())
        && let Some(state) = req.app_data::<web::Data<AppState>>()
    {
        let done = state.auth.setup.is_done().await.map_err(ApiError::from)?;
        if !done {
            let err = ApiError::unavailable(
                "setup_required",
                "BanGUI is not set up yet: create the first admin with POST /api/v1/setup",
            );
            return Ok(req.error_response(err).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let direct = TestRequest::default()
            .peer_addr("192.0.2.9:5000".parse().expect("addr"))
            .insert_header(("X-Forwarded-For", "198.51.100.1"))
            .to_http_request();
        assert_eq!(
            client_ip(&direct, &trusted),
            "192.0.2.9".parse::<IpAddr>().expect("ip")
        );
        let proxied = TestRequest::default()
            .peer_addr("10.1.2.3:5000".parse().expect("addr"))
            .insert_header(("X-Forwarded-For", "203.0.113.50, 198.51.100.1, 10.9.9.9"))
            .to_http_request();
        assert_eq!(
            client_ip(&proxied, &trusted),
            "198.51.100.1".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn health_setup_and_the_spa_stay_open_before_setup() {
        assert!(open_before_setup("/api/v1/health/live"));
        assert!(open_before_setup("/api/v1/setup"));
        assert!(open_before_setup("/jails"));
        assert!(!open_before_setup("/api/v1/jails"));
        assert!(!open_before_setup("/api/v1/auth/login"));
    }
}
