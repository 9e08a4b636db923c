//! The table of every setting: its dotted key, its flat environment name, its default and what
//! it means. It is the single source of the defaults, of both environment forms
//! (`BANGUI_PORT` and `BANGUI_HTTP__PORT`), of `.env.example` and of MAINTENANCE.md's table.

/// One documented setting.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// Dotted key used in the TOML file (`http.port`) and the nested env form (`BANGUI_HTTP__PORT`).
    pub key: &'static str,
    /// Flat environment variable (`BANGUI_PORT`), kept compatible with the Python original.
    pub env: &'static str,
    /// Default as text; empty means "unset".
    pub default: &'static str,
    /// One line for operators.
    pub help: &'static str,
}

/// Every setting the application reads. Order is the order of `.env.example`.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "http.host",
        env: "BANGUI_HOST",
        default: "127.0.0.1",
        help: "Address the HTTP server binds to.",
    },
    SettingSpec {
        key: "http.port",
        env: "BANGUI_PORT",
        default: "8000",
        help: "TCP port of the HTTP server (0 picks a free port).",
    },
    SettingSpec {
        key: "http.threads",
        env: "BANGUI_THREADS",
        default: "0",
        help: "HTTP worker threads inside the one process; 0 means one per CPU core.",
    },
    SettingSpec {
        key: "http.workers",
        env: "BANGUI_WORKERS",
        default: "1",
        help: "Number of processes. Must be 1: one process owns the database; concurrency comes from threads.",
    },
    SettingSpec {
        key: "http.static_dir",
        env: "BANGUI_STATIC_DIR",
        default: "frontend/dist",
        help: "Directory holding the built web dashboard; served at /.",
    },
    SettingSpec {
        key: "http.shutdown_timeout_seconds",
        env: "BANGUI_SHUTDOWN_TIMEOUT_SECONDS",
        default: "8",
        help: "Seconds in-flight requests get to finish after SIGTERM/SIGINT.",
    },
    SettingSpec {
        key: "database.path",
        env: "BANGUI_DATABASE_PATH",
        default: "./data/bangui.db",
        help: "The application's own SQLite database; its directory also holds the lock file and the generated session secret.",
    },
    SettingSpec {
        key: "database.busy_timeout_ms",
        env: "BANGUI_DATABASE_BUSY_TIMEOUT_MS",
        default: "5000",
        help: "How long a write waits for a lock on the own database.",
    },
    SettingSpec {
        key: "fail2ban.socket",
        env: "BANGUI_FAIL2BAN_SOCKET",
        default: "/var/run/fail2ban/fail2ban.sock",
        help: "fail2ban's Unix control socket (root-only by default).",
    },
    SettingSpec {
        key: "fail2ban.config_dir",
        env: "BANGUI_FAIL2BAN_CONFIG_DIR",
        default: "/etc/fail2ban",
        help: "fail2ban's configuration directory, passed to fail2ban-client for reloads.",
    },
    SettingSpec {
        key: "fail2ban.log_dirs",
        env: "BANGUI_FAIL2BAN_LOG_DIRS",
        default: "/var/log",
        help: "Comma-separated directories a jail's logpath and the fail2ban log viewer may read from (checked after resolving links).",
    },
    SettingSpec {
        key: "fail2ban.apply_watch_seconds",
        env: "BANGUI_FAIL2BAN_APPLY_WATCH_SECONDS",
        default: "60",
        help: "After a jail change, how long BanGUI watches fail2ban and restores the previous file if it dies (0: no watch).",
    },
    SettingSpec {
        key: "fail2ban.database_path",
        env: "BANGUI_FAIL2BAN_DATABASE_PATH",
        default: "",
        help: "fail2ban's SQLite database; empty means ask the server (`get dbfile`).",
    },
    SettingSpec {
        key: "fail2ban.client_path",
        env: "BANGUI_FAIL2BAN_CLIENT_PATH",
        default: "fail2ban-client",
        help: "The fail2ban-client program used for reloads.",
    },
    SettingSpec {
        key: "fail2ban.command_timeout_seconds",
        env: "BANGUI_FAIL2BAN_COMMAND_TIMEOUT_SECONDS",
        default: "10",
        help: "Timeout of one socket command (fail2ban runs commands one at a time).",
    },
    SettingSpec {
        key: "fail2ban.max_concurrency",
        env: "BANGUI_FAIL2BAN_MAX_CONCURRENCY",
        default: "8",
        help: "Socket commands in flight at once.",
    },
    SettingSpec {
        key: "fail2ban.max_reply_bytes",
        env: "BANGUI_FAIL2BAN_MAX_REPLY_BYTES",
        default: "67108864",
        help: "Largest reply accepted from the socket, in bytes.",
    },
    SettingSpec {
        key: "fail2ban.regex_path",
        env: "BANGUI_FAIL2BAN_REGEX_PATH",
        default: "fail2ban-regex",
        help: "The fail2ban-regex program the regex tester runs.",
    },
    SettingSpec {
        key: "fail2ban.regex_timeout_seconds",
        env: "BANGUI_FAIL2BAN_REGEX_TIMEOUT_SECONDS",
        default: "10",
        help: "How long one regex test may run before its process group is killed (answers 422).",
    },
    SettingSpec {
        key: "geoip.db_path",
        env: "BANGUI_GEOIP_DB_PATH",
        default: "",
        help: "GeoLite2-Country/GeoIP2-Country MMDB file; empty disables local lookups (health degraded).",
    },
    SettingSpec {
        key: "geoip.asn_db_path",
        env: "BANGUI_GEOIP_ASN_DB_PATH",
        default: "",
        help: "Optional GeoLite2-ASN MMDB file for ASN and organisation.",
    },
    SettingSpec {
        key: "geoip.allow_http_fallback",
        env: "BANGUI_GEOIP_ALLOW_HTTP_FALLBACK",
        default: "false",
        help: "Ask ip-api.com over plain HTTP for IPs the MMDB cannot resolve (IPs leave the host).",
    },
    SettingSpec {
        key: "geoip.ipapi_base_url",
        env: "BANGUI_GEOIP_IPAPI_BASE_URL",
        default: "http://ip-api.com",
        help: "Base URL of the ip-api.com fallback.",
    },
    SettingSpec {
        key: "geoip.cache_max_entries",
        env: "BANGUI_GEOIP_CACHE_MAX_ENTRIES",
        default: "1000000",
        help: "Upper bound of the in-memory geolocation cache.",
    },
    SettingSpec {
        key: "geoip.retention_days",
        env: "BANGUI_GEOIP_RETENTION_DAYS",
        default: "90",
        help: "geo_cache rows not seen for this many days are deleted by the cleanup job.",
    },
    SettingSpec {
        key: "geoip.watch_debounce_ms",
        env: "BANGUI_GEOIP_WATCH_DEBOUNCE_MS",
        default: "2000",
        help: "Quiet time after a change to the MMDB file before it is reloaded.",
    },
    SettingSpec {
        key: "geoip.flush_interval_seconds",
        env: "BANGUI_GEOIP_FLUSH_INTERVAL_SECONDS",
        default: "60",
        help: "How often new geolocation results are written to the database.",
    },
    SettingSpec {
        key: "geoip.re_resolve_interval_seconds",
        env: "BANGUI_GEOIP_RE_RESOLVE_INTERVAL_SECONDS",
        default: "600",
        help: "How often unresolved or outdated geo_cache rows are retried.",
    },
    SettingSpec {
        key: "geoip.cleanup_cron",
        env: "BANGUI_GEOIP_CLEANUP_CRON",
        default: "0 30 3 * * *",
        help: "When the geo_cache retention cleanup runs (6-field cron, UTC).",
    },
    SettingSpec {
        key: "history.sync_interval_seconds",
        env: "BANGUI_HISTORY_SYNC_INTERVAL_SECONDS",
        default: "2",
        help: "How often new rows of fail2ban's database are copied into BanGUI's history archive (and published as ban events).",
    },
    SettingSpec {
        key: "history.retention_days",
        env: "BANGUI_HISTORY_RETENTION_DAYS",
        default: "400",
        help: "Archived bans older than this many days are deleted.",
    },
    SettingSpec {
        key: "notifications.queue_capacity",
        env: "BANGUI_NOTIFICATIONS_QUEUE_CAPACITY",
        default: "1000",
        help: "Notification messages waiting for delivery at most; when full, the oldest digest is dropped (counted in bangui_notifications_dropped_total).",
    },
    SettingSpec {
        key: "notifications.max_attempts",
        env: "BANGUI_NOTIFICATIONS_MAX_ATTEMPTS",
        default: "6",
        help: "Delivery attempts per notification message before it is dead-lettered.",
    },
    SettingSpec {
        key: "notifications.retry_base_milliseconds",
        env: "BANGUI_NOTIFICATIONS_RETRY_BASE_MILLISECONDS",
        default: "2000",
        help: "First retry delay of a failed notification; it doubles per attempt (at most 10 minutes) with random jitter.",
    },
    SettingSpec {
        key: "notifications.timeout_seconds",
        env: "BANGUI_NOTIFICATIONS_TIMEOUT_SECONDS",
        default: "10",
        help: "Time limit of one notification delivery attempt (HTTP request or SMTP dialogue).",
    },
    SettingSpec {
        key: "session.secret",
        env: "BANGUI_SESSION_SECRET",
        default: "",
        help: "Secret for session tokens (>= 32 chars); empty means generate once and keep it in the data directory.",
    },
    SettingSpec {
        key: "session.duration_minutes",
        env: "BANGUI_SESSION_DURATION_MINUTES",
        default: "480",
        help: "Lifetime of a login session.",
    },
    SettingSpec {
        key: "session.cookie_secure",
        env: "BANGUI_SESSION_COOKIE_SECURE",
        default: "false",
        help: "Mark the session cookie Secure (set true behind HTTPS).",
    },
    SettingSpec {
        key: "security.trusted_proxies",
        env: "BANGUI_TRUSTED_PROXIES",
        default: "",
        help: "Comma-separated IPs/CIDRs whose X-Forwarded-For header is believed.",
    },
    SettingSpec {
        key: "security.cors_allowed_origins",
        env: "BANGUI_CORS_ALLOWED_ORIGINS",
        default: "",
        help: "Comma-separated origins allowed to call the API from a browser; empty means same origin only.",
    },
    SettingSpec {
        key: "log.level",
        env: "BANGUI_LOG_LEVEL",
        default: "info",
        help: "trace, debug, info, warn or error (or a tracing filter such as `bangui=debug,info`).",
    },
    SettingSpec {
        key: "log.format",
        env: "BANGUI_LOG_FORMAT",
        default: "auto",
        help: "auto (JSON unless stdout is a terminal), json or pretty.",
    },
];

/// Variables that are read although they are not settings of their own.
pub const META_ENV: &[&str] = &["BANGUI_CONFIG", "WEB_CONCURRENCY"];

/// `http.port` → `BANGUI_HTTP__PORT`.
pub fn nested_env(key: &str) -> String {
    format!("BANGUI_{}", key.replace('.', "__").to_uppercase())
}

/// The entry of a dotted key, if the table has one.
pub fn spec(key: &str) -> Option<&'static SettingSpec> {
    SETTINGS.iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_outside_the_table_has_no_entry_rather_than_the_first_one() {
        assert_eq!(spec("http.port").map(|s| s.env), Some("BANGUI_PORT"));
        assert!(spec("http.prot").is_none());
    }

    #[test]
    fn keys_and_environment_names_are_unique() {
        let mut names: Vec<String> = SETTINGS
            .iter()
            .flat_map(|s| [s.key.to_string(), s.env.to_string(), nested_env(s.key)])
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
