//! The one error type of the HTTP edge. Every failure a handler can meet becomes an [`ApiError`]
//! that renders as `{"error_code", "message", "details"}` with a fitting status; nothing else
//! reaches a client. Lower layers keep their own error enums and convert here, so a route never
//! decides a status code by string matching.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

/// An error as the API reports it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error_code: &'a str,
    message: &'a str,
    details: &'a Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            message,
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(retry_after);
        e
    }

    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, code, message)
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            builder.insert_header(("Retry-After", secs.to_string()));
        }
        builder.json(Body {
            error_code: self.code,
            message: &self.message,
            details: &self.details,
        })
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        Self::unavailable(
            "database_error",
            "the application database failed; see the server log",
        )
    }
}

impl From<crate::services::auth::AuthError> for ApiError {
    fn from(e: crate::services::auth::AuthError) -> Self {
        use crate::services::auth::AuthError as A;
        match e {
            A::AlreadySetUp => {
                Self::conflict("already_setup", "setup is already complete; log in instead")
            }
            A::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                e.to_string(),
            ),
            A::RateLimited(secs) | A::SetupRateLimited(secs) => {
                Self::too_many_requests(e.to_string(), secs)
            }
            A::Invalid(d) => d.into(),
            A::UsernameTaken(_) => Self::conflict("username_taken", e.to_string()),
            A::NotFound(_) => Self::not_found("not_found", e.to_string()),
            A::Forbidden(m) => Self::forbidden("forbidden", m),
            A::LastAdmin => Self::conflict("last_admin", e.to_string()),
            A::Database(db) => db.into(),
            A::Hashing(m) => {
                tracing::error!(error = %m, "password hashing failed");
                Self::internal("password hashing failed; see the server log")
            }
        }
    }
}

/// Turns actix's extractor failures (bad JSON, bad query, bad path) into the JSON contract.
pub mod extractors {
    use super::ApiError;
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
    use actix_web::{HttpRequest, web};
    use serde_json::json;

    fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
        let api = match &err {
            JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::unprocessable(format!(
                "the JSON body does not have the expected fields: {e}"
            )),
            JsonPayloadError::ContentType => ApiError::new(
                actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the JSON body is too large",
                )
            }
            other => ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {other}"),
            ),
        };
        api.with_details(json!({"reason": err.to_string()})).into()
    }

    fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
        ApiError::bad_request("invalid_query", format!("invalid query string: {err}")).into()
    }

    fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
        ApiError::bad_request("invalid_path", format!("invalid path parameter: {err}")).into()
    }

    pub fn json_config() -> web::JsonConfig {
        web::JsonConfig::default()
            .limit(256 * 1024)
            .error_handler(json_error)
    }

    pub fn query_config() -> web::QueryConfig {
        web::QueryConfig::default().error_handler(query_error)
    }

    pub fn path_config() -> web::PathConfig {
        web::PathConfig::default().error_handler(path_error)
    }
}

impl From<crate::domain::DomainError> for ApiError {
    fn from(e: crate::domain::DomainError) -> Self {
        let code = match e.field {
            "ip" => "invalid_ip",
            "ignoreip" => "invalid_ignoreip",
            "jail" => "invalid_jail",
            "range" => "invalid_range",
            "origin" => "invalid_origin",
            "page" | "page_size" => "invalid_page",
            "password" => "weak_password",
            _ => "validation_error",
        };
        Self::bad_request(code, e.to_string()).with_details(serde_json::json!({
            "field": e.field,
            "value": e.value,
            "reason": e.reason,
        }))
    }
}

impl From<crate::fail2ban::Fail2banError> for ApiError {
    fn from(e: crate::fail2ban::Fail2banError) -> Self {
        use crate::fail2ban::Fail2banError as E;
        use serde_json::json;
        let message = e.to_string();
        match e {
            E::Offline { socket, reason } => Self::bad_gateway("fail2ban_unavailable", message)
                .with_details(json!({"socket": socket, "reason": reason})),
            E::PermissionDenied { socket, user } => {
                Self::bad_gateway("fail2ban_permission_denied", message)
                    .with_details(json!({"socket": socket, "user": user}))
            }
            E::Timeout {
                socket,
                command,
                seconds,
            } => Self::new(StatusCode::GATEWAY_TIMEOUT, "fail2ban_timeout", message)
                .with_details(json!({"socket": socket, "command": command, "seconds": seconds})),
            E::Protocol(_) => Self::bad_gateway("fail2ban_protocol_error", message),
            E::UnknownJail(jail) => {
                Self::not_found("jail_not_found", message).with_details(json!({"jail": jail}))
            }
            E::Rejected(_) => Self::bad_request("fail2ban_rejected", message),
            E::Server { class, .. } => {
                Self::conflict("fail2ban_error", message).with_details(json!({"class": class}))
            }
            E::Unsupported { command, version } => {
                Self::new(StatusCode::NOT_IMPLEMENTED, "fail2ban_unsupported", message)
                    .with_details(json!({"command": command, "version": version}))
            }
            E::Invalid(domain) => domain.into(),
        }
    }
}

impl From<crate::services::jails::JailError> for ApiError {
    fn from(e: crate::services::jails::JailError) -> Self {
        use crate::services::jails::JailError as J;
        match e {
            J::Fail2ban(f) => f.into(),
            J::IgnoreEntryNotFound {
                ref jail,
                ref entry,
            } => {
                let details = serde_json::json!({"jail": jail, "entry": entry});
                Self::not_found("ignoreip_not_found", e.to_string()).with_details(details)
            }
        }
    }
}

impl From<crate::services::map_settings::MapSettingsError> for ApiError {
    fn from(e: crate::services::map_settings::MapSettingsError) -> Self {
        use crate::services::map_settings::MapSettingsError as M;
        match e {
            M::Invalid(d) => d.into(),
            M::Database(db) => db.into(),
        }
    }
}

impl From<crate::fail2ban::Fail2banDbError> for ApiError {
    fn from(e: crate::fail2ban::Fail2banDbError) -> Self {
        tracing::warn!(error = %e, "fail2ban database unavailable");
        Self::unavailable("fail2ban_db_unavailable", e.to_string())
    }
}

impl From<crate::services::regex_tester::RegexTesterError> for ApiError {
    fn from(e: crate::services::regex_tester::RegexTesterError) -> Self {
        use crate::fail2ban::regex_tool::RegexToolError as T;
        use crate::services::regex_tester::RegexTesterError as R;
        let message = e.to_string();
        match e {
            R::Invalid(d) => d.into(),
            R::FilterNotFound(name) => Self::not_found("filter_not_found", message)
                .with_details(serde_json::json!({ "filter": name })),
            R::LogPathForbidden { path, .. } => Self::forbidden("log_path_forbidden", message)
                .with_details(serde_json::json!({ "log_path": path })),
            R::LogUnreadable { .. } => Self::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "log_unreadable",
                message,
            ),
            R::Busy => {
                let mut e = Self::unavailable("regex_tester_busy", message);
                e.retry_after = Some(5);
                e
            }
            R::Tool(T::Refused(text)) => Self::bad_request("regex_invalid", message)
                .with_details(serde_json::json!({ "fail2ban_regex": text })),
            R::Tool(T::Timeout { seconds }) => Self::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "regex_timeout",
                message,
            )
            .with_details(serde_json::json!({ "timeout_seconds": seconds })),
            R::Tool(T::OutputTooLarge { limit }) => Self::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "regex_output_too_large",
                message,
            )
            .with_details(serde_json::json!({ "limit_bytes": limit })),
            R::Tool(T::Spawn { .. }) => Self::unavailable("regex_tool_unavailable", message),
            R::Tool(T::Unreadable { .. }) => Self::bad_gateway("regex_tool_failed", message),
            R::TempFile(_) => Self::internal(message),
        }
    }
}

impl From<crate::services::jail_config::JailConfigError> for ApiError {
    fn from(e: crate::services::jail_config::JailConfigError) -> Self {
        use crate::fail2ban::config_files::ConfigFileError as F;
        use crate::services::jail_config::JailConfigError as J;
        use serde_json::json;
        let message = e.to_string();
        match e {
            J::Invalid(d) => d.into(),
            J::UnknownJail(jail) => {
                Self::not_found("jail_not_found", message).with_details(json!({"jail": jail}))
            }
            J::Rejected {
                errors, warnings, ..
            } => Self::bad_request("config_rejected", message)
                .with_details(json!({"errors": errors, "warnings": warnings})),
            J::File(F::NotOwned(path)) => Self::conflict("config_file_not_owned", message)
                .with_details(json!({"file": path.display().to_string()})),
            J::File(F::NotAllowed(..)) => Self::bad_request("config_file_not_allowed", message),
            J::File(F::TooLarge) => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "config_file_too_large",
                message,
            ),
            J::File(F::Io { .. }) | J::Scratch(_) => {
                tracing::error!(error = %message, "jail configuration file I/O failed");
                Self::internal(message)
            }
            J::Fail2ban(f) => f.into(),
            J::Database(db) => db.into(),
            J::RecoveryNotFound(_) => Self::not_found("recovery_not_found", message),
        }
    }
}

impl From<crate::services::fail2ban_log::LogError> for ApiError {
    fn from(e: crate::services::fail2ban_log::LogError) -> Self {
        use crate::services::fail2ban_log::LogError as L;
        let message = e.to_string();
        match e {
            // The server's state, not the request, is at fault: 409.
            L::NotAFile(_) => Self::conflict("log_not_a_file", message),
            L::NotAllowed { .. } => Self::conflict("log_not_allowed", message),
            L::Invalid(d) => d.into(),
            L::Fail2ban(f) => f.into(),
            L::Io { .. } => Self::bad_gateway("log_unreadable", message),
        }
    }
}

impl From<crate::services::notifications::NotificationError> for ApiError {
    fn from(e: crate::services::notifications::NotificationError) -> Self {
        use crate::services::notifications::NotificationError as N;
        match e {
            N::Invalid(d) => d.into(),
            N::NotFound(_) => Self::not_found("channel_not_found", e.to_string()),
            N::Duplicate(_) => Self::conflict("channel_exists", e.to_string()),
            N::TooMany => Self::conflict("too_many_channels", e.to_string()),
            N::Database(db) => db.into(),
            N::Store(_) | N::Setup(_) => {
                tracing::error!(error = %e, "notification store error");
                Self::unavailable(
                    "notifications_unavailable",
                    "the notification channels could not be read; see the server log",
                )
            }
        }
    }
}

impl From<crate::services::filters_actions::FilterActionError> for ApiError {
    fn from(e: crate::services::filters_actions::FilterActionError) -> Self {
        use crate::services::filters_actions::FilterActionError as F;
        let message = e.to_string();
        match e {
            F::Invalid(d) => d.into(),
            F::NotFound { .. } => Self::not_found("config_file_not_found", message),
            F::Exists { .. } => Self::conflict("config_file_exists", message),
            F::NotDeletable { .. } => Self::conflict("config_file_not_owned", message),
            F::InUse { jails, .. } => Self::conflict("config_file_in_use", message)
                .with_details(serde_json::json!({ "jails": jails })),
            F::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "config_file_too_large",
                message,
            ),
            F::Config(c) => c.into(),
            F::File(f) => crate::services::jail_config::JailConfigError::File(f).into(),
            F::Fail2ban(f) => f.into(),
            F::Io { .. } => {
                tracing::error!(error = %message, "filter/action file I/O failed");
                Self::internal(message)
            }
        }
    }
}

impl From<crate::services::blocklists::BlocklistError> for ApiError {
    fn from(e: crate::services::blocklists::BlocklistError) -> Self {
        use crate::services::blocklists::BlocklistError as B;
        match e {
            B::NotFound(_) => Self::not_found("blocklist_not_found", e.to_string()),
            B::DuplicateUrl(_) => Self::conflict("duplicate_url", e.to_string()),
            B::Busy(_) => Self::conflict("import_running", e.to_string()),
            B::Fetch(f) => {
                let code = f.code();
                let mut text = f.to_string();
                let mut source = std::error::Error::source(&f);
                while let Some(cause) = source {
                    text.push_str(": ");
                    text.push_str(&cause.to_string());
                    source = cause.source();
                }
                Self::bad_gateway(code, text)
            }
            B::Fail2ban(f) => f.into(),
            B::Db(d) => d.into(),
            B::Join(j) => Self::internal(format!("parsing the list failed: {j}")),
        }
    }
}
