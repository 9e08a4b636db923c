//! Configuration: built-in defaults, then an optional TOML file, then `BANGUI_*` environment
//! variables (nested keys with `__`, plus the flat names of the Python original), with a `.env`
//! file read first if present.
//!
//! Every setting is declared exactly once in [`SETTINGS`]: its dotted key, its flat environment
//! name, its default and what it means. The `config` crate only does the layering; this module
//! parses each value into a typed [`Settings`] and rejects bad input with a [`ConfigError`] that
//! names the key, the value given and what is allowed. The same table feeds `.env.example` and
//! the drift test that keeps the documentation honest.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

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
        default: "5",
        help: "How often new rows of fail2ban's database are copied into BanGUI's history archive.",
    },
    SettingSpec {
        key: "history.retention_days",
        env: "BANGUI_HISTORY_RETENTION_DAYS",
        default: "400",
        help: "Archived bans older than this many days are deleted.",
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

/// A setting that could not be accepted. Starting stops with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid setting `{key}` (env {env}): got {value:?}; allowed: {allowed}")]
    Invalid {
        key: String,
        env: String,
        value: String,
        allowed: String,
    },
    #[error("unknown setting `{key}` in {source_name}; known keys: see .env.example")]
    Unknown { key: String, source_name: String },
    #[error("cannot read configuration: {0}")]
    Source(String),
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    pub threads: usize,
    pub static_dir: PathBuf,
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub path: PathBuf,
    pub busy_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Fail2banSettings {
    pub socket: PathBuf,
    pub config_dir: PathBuf,
    pub database_path: Option<PathBuf>,
    pub client_path: PathBuf,
    pub command_timeout: Duration,
    pub max_concurrency: usize,
    pub max_reply_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct GeoipSettings {
    pub db_path: Option<PathBuf>,
    pub asn_db_path: Option<PathBuf>,
    pub allow_http_fallback: bool,
    pub ipapi_base_url: String,
    pub cache_max_entries: usize,
    pub retention_days: u32,
    pub watch_debounce: Duration,
    pub flush_interval: Duration,
    pub re_resolve_interval: Duration,
    pub cleanup_cron: String,
}

#[derive(Debug, Clone)]
pub struct HistorySettings {
    pub sync_interval: Duration,
    pub retention_days: u32,
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `None` until [`Settings::ensure_session_secret`] filled it in.
    pub secret: Option<String>,
    pub duration: Duration,
    pub cookie_secure: bool,
}

#[derive(Debug, Clone)]
pub struct SecuritySettings {
    pub trusted_proxies: Vec<IpNet>,
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

/// The validated configuration of one process.
#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub fail2ban: Fail2banSettings,
    pub geoip: GeoipSettings,
    pub history: HistorySettings,
    pub session: SessionSettings,
    pub security: SecuritySettings,
    pub log: LogSettings,
    /// Non-fatal remarks found while loading (logged once telemetry is up).
    pub warnings: Vec<String>,
}

/// Where the layered values come from; tests pass their own environment.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
}

impl Sources {
    /// The real process: `.env` (if present) is merged under the real environment, and the
    /// file comes from `--config PATH` or `BANGUI_CONFIG`.
    pub fn from_process(args: &[String]) -> Result<Self, ConfigError> {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        if let Ok(iter) = dotenvy::from_path_iter(".env") {
            for item in iter {
                let (k, v) = item.map_err(|e| ConfigError::Source(format!(".env: {e}")))?;
                env.insert(k, v);
            }
        }
        env.extend(std::env::vars());
        let mut file = env
            .get("BANGUI_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--config" {
                let path = it.next().ok_or_else(|| ConfigError::Invalid {
                    key: "--config".into(),
                    env: "BANGUI_CONFIG".into(),
                    value: String::new(),
                    allowed: "a path to a TOML file".into(),
                })?;
                file = Some(PathBuf::from(path));
            } else if let Some(path) = arg.strip_prefix("--config=") {
                file = Some(PathBuf::from(path));
            }
        }
        Ok(Self { file, env })
    }
}

impl Settings {
    /// Loads the configuration of the running process.
    pub fn load(args: &[String]) -> Result<Self, ConfigError> {
        Self::from_sources(&Sources::from_process(args)?)
    }

    /// Layers defaults, file and environment and parses the result.
    pub fn from_sources(sources: &Sources) -> Result<Self, ConfigError> {
        let raw = layered_values(sources)?;
        let mut warnings = Vec::new();
        for key in sources.env.keys() {
            if key.starts_with("BANGUI_")
                && !META_ENV.contains(&key.as_str())
                && !SETTINGS
                    .iter()
                    .any(|s| s.env == key || nested_env(s.key) == *key)
            {
                warnings.push(format!("ignoring unknown environment variable {key}"));
            }
        }
        let p = Parser { raw: &raw };
        let workers = p.uint("http.workers", 1, u64::MAX)?;
        let web_concurrency = sources
            .env
            .get("WEB_CONCURRENCY")
            .map(|v| v.trim().to_string());
        if workers > 1 {
            return Err(single_process_error(
                "http.workers",
                "BANGUI_WORKERS",
                &workers.to_string(),
            ));
        }
        if let Some(v) = web_concurrency.filter(|v| !v.is_empty())
            && v.parse::<u64>().map_or(true, |n| n > 1)
        {
            return Err(single_process_error(
                "WEB_CONCURRENCY",
                "WEB_CONCURRENCY",
                &v,
            ));
        }
        let settings = Settings {
            http: HttpSettings {
                host: p.host("http.host")?,
                port: p.uint("http.port", 0, u16::MAX as u64)? as u16,
                threads: p.uint("http.threads", 0, 1024)? as usize,
                static_dir: p.path("http.static_dir")?,
                shutdown_timeout: Duration::from_secs(p.uint(
                    "http.shutdown_timeout_seconds",
                    0,
                    9,
                )?),
            },
            database: DatabaseSettings {
                path: p.path("database.path")?,
                busy_timeout: Duration::from_millis(p.uint(
                    "database.busy_timeout_ms",
                    0,
                    600_000,
                )?),
            },
            fail2ban: Fail2banSettings {
                socket: p.socket_path("fail2ban.socket")?,
                config_dir: p.path("fail2ban.config_dir")?,
                database_path: p.optional_path("fail2ban.database_path"),
                client_path: p.path("fail2ban.client_path")?,
                command_timeout: Duration::from_secs(p.uint(
                    "fail2ban.command_timeout_seconds",
                    1,
                    600,
                )?),
                max_concurrency: p.uint("fail2ban.max_concurrency", 1, 256)? as usize,
                max_reply_bytes: p.uint("fail2ban.max_reply_bytes", 1024, 1 << 31)? as usize,
            },
            geoip: GeoipSettings {
                db_path: p.optional_path("geoip.db_path"),
                asn_db_path: p.optional_path("geoip.asn_db_path"),
                allow_http_fallback: p.boolean("geoip.allow_http_fallback")?,
                ipapi_base_url: p.http_url("geoip.ipapi_base_url")?,
                cache_max_entries: p.uint("geoip.cache_max_entries", 1_000, 100_000_000)? as usize,
                retention_days: p.uint("geoip.retention_days", 1, 36_500)? as u32,
                watch_debounce: Duration::from_millis(p.uint(
                    "geoip.watch_debounce_ms",
                    0,
                    600_000,
                )?),
                flush_interval: Duration::from_secs(p.uint(
                    "geoip.flush_interval_seconds",
                    1,
                    86_400,
                )?),
                re_resolve_interval: Duration::from_secs(p.uint(
                    "geoip.re_resolve_interval_seconds",
                    1,
                    604_800,
                )?),
                cleanup_cron: p.cron("geoip.cleanup_cron")?,
            },
            history: HistorySettings {
                sync_interval: Duration::from_secs(p.uint(
                    "history.sync_interval_seconds",
                    1,
                    86_400,
                )?),
                retention_days: p.uint("history.retention_days", 1, 36_500)? as u32,
            },
            session: SessionSettings {
                secret: p.secret("session.secret")?,
                duration: Duration::from_secs(60 * p.uint("session.duration_minutes", 1, 525_600)?),
                cookie_secure: p.boolean("session.cookie_secure")?,
            },
            security: SecuritySettings {
                trusted_proxies: p.networks("security.trusted_proxies")?,
                cors_allowed_origins: p.origins("security.cors_allowed_origins")?,
            },
            log: LogSettings {
                level: p.log_level("log.level")?,
                format: p.log_format("log.format")?,
            },
            warnings,
        };
        Ok(settings)
    }

    /// Directory holding the database, its lock file and the generated session secret.
    pub fn data_dir(&self) -> PathBuf {
        match self.database.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Fills in a missing session secret: generated once, kept in `<data dir>/session_secret`
    /// (mode 0600) and reused on later starts, so the first start needs no setup.
    pub fn ensure_session_secret(&mut self) -> std::io::Result<()> {
        if self.session.secret.is_some() {
            return Ok(());
        }
        let path = self.data_dir().join("session_secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim().to_string();
            if existing.len() >= 32 {
                self.session.secret = Some(existing);
                return Ok(());
            }
        }
        std::fs::create_dir_all(self.data_dir())?;
        let secret = hex::encode(rand::random::<[u8; 32]>());
        write_private_file(&path, secret.as_bytes())?;
        self.session.secret = Some(secret);
        Ok(())
    }
}

fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn single_process_error(key: &str, env: &str, value: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        env: env.into(),
        value: value.into(),
        allowed: "1 (or unset). BanGUI runs as exactly one process because that process owns its \
                  database, cache and scheduled jobs; concurrency comes from the HTTP threads inside \
                  it (BANGUI_THREADS)"
            .into(),
    }
}

/// `http.port` → `BANGUI_HTTP__PORT`.
pub fn nested_env(key: &str) -> String {
    format!("BANGUI_{}", key.replace('.', "__").to_uppercase())
}

fn spec(key: &str) -> &'static SettingSpec {
    SETTINGS
        .iter()
        .find(|s| s.key == key)
        .unwrap_or(&SETTINGS[0])
}

/// Builds the layered map `key → text` with the `config` crate: defaults, file, then env.
fn layered_values(sources: &Sources) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut builder = config::Config::builder();
    for s in SETTINGS {
        builder = builder
            .set_default(s.key, s.default)
            .map_err(|e| ConfigError::Source(e.to_string()))?;
    }
    if let Some(file) = &sources.file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ConfigError::Source(format!("{}: {e}", file.display())))?;
        let file_cfg = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .build()
            .map_err(|e| ConfigError::Source(format!("{}: {e}", file.display())))?;
        let table: BTreeMap<String, config::Value> = file_cfg
            .try_deserialize()
            .map_err(|e| ConfigError::Source(format!("{}: {e}", file.display())))?;
        let mut keys = Vec::new();
        flatten_keys("", &table, &mut keys);
        for key in keys {
            if !SETTINGS.iter().any(|s| s.key == key) {
                return Err(ConfigError::Unknown {
                    key,
                    source_name: file.display().to_string(),
                });
            }
        }
        builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
    }
    let env_map: std::collections::HashMap<String, String> = sources
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        config::Environment::with_prefix("BANGUI")
            .prefix_separator("_")
            .separator("__")
            .source(Some(env_map)),
    );
    // The flat names of the Python original win over the nested form.
    for s in SETTINGS {
        if let Some(v) = sources.env.get(s.env) {
            builder = builder
                .set_override(s.key, v.as_str())
                .map_err(|e| ConfigError::Source(e.to_string()))?;
        }
    }
    let cfg = builder
        .build()
        .map_err(|e| ConfigError::Source(e.to_string()))?;
    let mut out = BTreeMap::new();
    for s in SETTINGS {
        let text = match cfg.get::<config::Value>(s.key) {
            Ok(v) => value_text(v),
            Err(_) => s.default.to_string(),
        };
        out.insert(s.key.to_string(), text);
    }
    Ok(out)
}

fn flatten_keys(prefix: &str, table: &BTreeMap<String, config::Value>, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v.clone().into_table() {
            Ok(inner) => flatten_keys(&key, &inner.into_iter().collect(), out),
            Err(_) => out.push(key),
        }
    }
}

fn value_text(v: config::Value) -> String {
    match v.clone().into_array() {
        Ok(items) => items
            .into_iter()
            .map(value_text)
            .collect::<Vec<_>>()
            .join(","),
        Err(_) => v.into_string().unwrap_or_default(),
    }
}

struct Parser<'a> {
    raw: &'a BTreeMap<String, String>,
}

impl Parser<'_> {
    fn text(&self, key: &str) -> String {
        self.raw
            .get(key)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    fn invalid(&self, key: &str, allowed: &str) -> ConfigError {
        ConfigError::Invalid {
            key: key.into(),
            env: spec(key).env.into(),
            value: self.text(key),
            allowed: allowed.into(),
        }
    }

    fn uint(&self, key: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
        let allowed = format!("an integer from {min} to {max}");
        let n: u64 = self
            .text(key)
            .parse()
            .map_err(|_| self.invalid(key, &allowed))?;
        if n < min || n > max {
            return Err(self.invalid(key, &allowed));
        }
        Ok(n)
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self.text(key).to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(self.invalid(key, "true or false")),
        }
    }

    fn host(&self, key: &str) -> Result<String, ConfigError> {
        let v = self.text(key);
        let ok = v.parse::<IpAddr>().is_ok()
            || (!v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        if ok {
            Ok(v)
        } else {
            Err(self.invalid(key, "an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0"))
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf, ConfigError> {
        let v = self.text(key);
        if v.is_empty() || v.contains('\0') {
            return Err(self.invalid(key, "a non-empty file system path"));
        }
        Ok(PathBuf::from(v))
    }

    fn socket_path(&self, key: &str) -> Result<PathBuf, ConfigError> {
        let p = self.path(key)?;
        if p.as_os_str().len() >= 108 {
            return Err(self.invalid(key, "a Unix socket path shorter than 108 bytes"));
        }
        Ok(p)
    }

    fn optional_path(&self, key: &str) -> Option<PathBuf> {
        let v = self.text(key);
        (!v.is_empty()).then(|| PathBuf::from(v))
    }

    fn http_url(&self, key: &str) -> Result<String, ConfigError> {
        let v = self.text(key).trim_end_matches('/').to_string();
        match reqwest::Url::parse(&v) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(v),
            _ => Err(self.invalid(key, "an http:// or https:// URL")),
        }
    }

    fn cron(&self, key: &str) -> Result<String, ConfigError> {
        let v = self.text(key);
        if v.split_whitespace().count() != 6 {
            return Err(self.invalid(
                key,
                "a 6-field cron expression (sec min hour day month weekday), e.g. `0 30 3 * * *`",
            ));
        }
        Ok(v)
    }

    fn secret(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let v = self.text(key);
        if v.is_empty() {
            return Ok(None);
        }
        if v.len() < 32 {
            return Err(ConfigError::Invalid {
                key: key.into(),
                env: spec(key).env.into(),
                value: format!("<{} characters hidden>", v.len()),
                allowed: "at least 32 characters, or empty to generate one".into(),
            });
        }
        Ok(Some(v))
    }

    fn networks(&self, key: &str) -> Result<Vec<IpNet>, ConfigError> {
        list(&self.text(key))
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        self.invalid(
                            key,
                            "a comma-separated list of IP addresses or CIDR networks",
                        )
                    })
            })
            .collect()
    }

    fn origins(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        list(&self.text(key))
            .map(|item| match reqwest::Url::parse(item) {
                Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.path() == "/" => {
                    Ok(item.trim_end_matches('/').to_string())
                }
                _ => Err(self.invalid(
                    key,
                    "a comma-separated list of origins such as https://bangui.example.org",
                )),
            })
            .collect()
    }

    fn log_level(&self, key: &str) -> Result<String, ConfigError> {
        let v = self.text(key);
        if tracing_subscriber::EnvFilter::try_new(&v).is_err() || v.is_empty() {
            return Err(self.invalid(
                key,
                "trace, debug, info, warn, error or a tracing filter directive",
            ));
        }
        Ok(v)
    }

    fn log_format(&self, key: &str) -> Result<LogFormat, ConfigError> {
        match self.text(key).to_ascii_lowercase().as_str() {
            "auto" => Ok(LogFormat::Auto),
            "json" => Ok(LogFormat::Json),
            "pretty" | "text" => Ok(LogFormat::Pretty),
            _ => Err(self.invalid(key, "auto, json or pretty")),
        }
    }
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Sources {
        Sources {
            file: None,
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let s = Settings::from_sources(&Sources::default()).expect("defaults are valid");
        assert_eq!(s.http.host, "127.0.0.1");
        assert_eq!(s.http.port, 8000);
        assert_eq!(s.database.path, PathBuf::from("./data/bangui.db"));
        assert_eq!(
            s.fail2ban.socket,
            PathBuf::from("/var/run/fail2ban/fail2ban.sock")
        );
        assert!(!s.geoip.allow_http_fallback);
        assert!(s.geoip.db_path.is_none());
        assert_eq!(s.geoip.retention_days, 90);
    }

    #[test]
    fn flat_python_names_and_nested_names_both_work() {
        let s = Settings::from_sources(&env(&[
            ("BANGUI_PORT", "9001"),
            ("BANGUI_GEOIP__RETENTION_DAYS", "30"),
            ("BANGUI_GEOIP_ALLOW_HTTP_FALLBACK", "true"),
            ("BANGUI_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        ]))
        .expect("valid");
        assert_eq!(s.http.port, 9001);
        assert_eq!(s.geoip.retention_days, 30);
        assert!(s.geoip.allow_http_fallback);
        assert_eq!(s.security.trusted_proxies.len(), 2);
    }

    #[test]
    fn a_bad_value_names_key_value_and_what_is_allowed() {
        let err = Settings::from_sources(&env(&[("BANGUI_PORT", "eighty")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("http.port") && err.contains("BANGUI_PORT"),
            "{err}"
        );
        assert!(
            err.contains("eighty") && err.contains("0 to 65535"),
            "{err}"
        );
    }

    #[test]
    fn more_than_one_worker_is_refused_with_an_explanation() {
        for (k, v) in [("BANGUI_WORKERS", "4"), ("WEB_CONCURRENCY", "2")] {
            let err = Settings::from_sources(&env(&[(k, v)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("threads"), "{err}");
        }
        assert!(Settings::from_sources(&env(&[("WEB_CONCURRENCY", "1")])).is_ok());
    }

    #[test]
    fn toml_file_layers_under_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bangui.toml");
        std::fs::write(
            &file,
            "[http]\nport = 7000\nhost = \"0.0.0.0\"\n[log]\nlevel = \"debug\"\n",
        )
        .expect("write");
        let mut sources = env(&[("BANGUI_PORT", "7100")]);
        sources.file = Some(file);
        let s = Settings::from_sources(&sources).expect("valid");
        assert_eq!(s.http.port, 7100);
        assert_eq!(s.http.host, "0.0.0.0");
        assert_eq!(s.log.level, "debug");
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bangui.toml");
        std::fs::write(&file, "[http]\nprot = 7000\n").expect("write");
        let sources = Sources {
            file: Some(file),
            env: BTreeMap::new(),
        };
        let err = Settings::from_sources(&sources).unwrap_err().to_string();
        assert!(err.contains("http.prot"), "{err}");
    }

    #[test]
    fn a_short_secret_is_rejected_without_echoing_it() {
        let err = Settings::from_sources(&env(&[("BANGUI_SESSION_SECRET", "hunter2")]))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("32"), "{err}");
    }

    #[test]
    fn a_missing_secret_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("bangui.db");
        let mut s = Settings::from_sources(&env(&[(
            "BANGUI_DATABASE_PATH",
            db.to_str().unwrap_or_default(),
        )]))
        .expect("valid");
        s.ensure_session_secret().expect("generated");
        let first = s.session.secret.clone();
        let mut again = Settings::from_sources(&env(&[(
            "BANGUI_DATABASE_PATH",
            db.to_str().unwrap_or_default(),
        )]))
        .expect("valid");
        again.ensure_session_secret().expect("read back");
        assert_eq!(first, again.session.secret);
        assert!(first.is_some_and(|s| s.len() == 64));
    }
}
