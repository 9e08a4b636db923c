//! Configuration: built-in defaults, then an optional TOML file, then `BANGUI_*` environment
//! variables (the flat names of the Python original such as `BANGUI_PORT`, and the nested form
//! `BANGUI_HTTP__PORT`), with a `.env` file read first if present.
//!
//! Every setting is declared exactly once in [`SETTINGS`] (`table.rs`): its dotted key, its flat
//! environment name, its default and what it means. The `config` crate layers the sources (the
//! TOML file is parsed once, by it) and deserializes them into the serde-derived [`Settings`];
//! each field says how its value is checked (`values.rs`). Keys that are not in the table are
//! refused, and a refused value stops the start (exit code 2) with a [`ConfigError`] naming the
//! key, its environment name, the value given and what is allowed. Secrets are held as
//! [`SecretString`], so they never appear in `Debug` output. The same table feeds
//! `.env.example` and MAINTENANCE.md's table, which tests/settings_docs.rs keeps from drifting.

mod table;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use table::{META_ENV, SETTINGS, SettingSpec, nested_env};

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
    #[error("cannot read {origin}")]
    Source {
        origin: String,
        #[source]
        source: config::ConfigError,
    },
    #[error("cannot read .env")]
    DotEnv(#[source] dotenvy::Error),
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    #[serde(deserialize_with = "values::host")]
    pub host: String,
    #[serde(deserialize_with = "values::integer::<_, 0, 65535, u16>")]
    pub port: u16,
    #[serde(deserialize_with = "values::integer::<_, 0, 1024, usize>")]
    pub threads: usize,
    /// Must be 1; checked after loading with WEB_CONCURRENCY.
    #[serde(deserialize_with = "values::integer::<_, 1, { u64::MAX }, u64>")]
    pub workers: u64,
    #[serde(deserialize_with = "values::path")]
    pub static_dir: PathBuf,
    #[serde(
        rename = "shutdown_timeout_seconds",
        deserialize_with = "values::seconds::<_, 0, 9>"
    )]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    #[serde(deserialize_with = "values::path")]
    pub path: PathBuf,
    #[serde(
        rename = "busy_timeout_ms",
        deserialize_with = "values::millis::<_, 0, 600_000>"
    )]
    pub busy_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fail2banSettings {
    #[serde(deserialize_with = "values::socket_path")]
    pub socket: PathBuf,
    #[serde(deserialize_with = "values::path")]
    pub config_dir: PathBuf,
    #[serde(deserialize_with = "values::optional_path")]
    pub database_path: Option<PathBuf>,
    #[serde(deserialize_with = "values::absolute_paths")]
    pub log_dirs: Vec<PathBuf>,
    #[serde(
        rename = "apply_watch_seconds",
        deserialize_with = "values::seconds::<_, 0, 3600>"
    )]
    pub apply_watch: Duration,
    #[serde(deserialize_with = "values::path")]
    pub client_path: PathBuf,
    #[serde(
        rename = "command_timeout_seconds",
        deserialize_with = "values::seconds::<_, 1, 600>"
    )]
    pub command_timeout: Duration,
    #[serde(deserialize_with = "values::integer::<_, 1, 256, usize>")]
    pub max_concurrency: usize,
    #[serde(deserialize_with = "values::integer::<_, 1024, { 1 << 31 }, usize>")]
    pub max_reply_bytes: usize,
    #[serde(deserialize_with = "values::path")]
    pub regex_path: PathBuf,
    #[serde(
        rename = "regex_timeout_seconds",
        deserialize_with = "values::seconds::<_, 1, 300>"
    )]
    pub regex_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoipSettings {
    #[serde(deserialize_with = "values::optional_path")]
    pub db_path: Option<PathBuf>,
    #[serde(deserialize_with = "values::optional_path")]
    pub asn_db_path: Option<PathBuf>,
    #[serde(deserialize_with = "values::boolean")]
    pub allow_http_fallback: bool,
    #[serde(deserialize_with = "values::http_url")]
    pub ipapi_base_url: String,
    #[serde(deserialize_with = "values::integer::<_, 1_000, 100_000_000, usize>")]
    pub cache_max_entries: usize,
    #[serde(deserialize_with = "values::integer::<_, 1, 36_500, u32>")]
    pub retention_days: u32,
    #[serde(
        rename = "watch_debounce_ms",
        deserialize_with = "values::millis::<_, 0, 600_000>"
    )]
    pub watch_debounce: Duration,
    #[serde(
        rename = "flush_interval_seconds",
        deserialize_with = "values::seconds::<_, 1, 86_400>"
    )]
    pub flush_interval: Duration,
    #[serde(
        rename = "re_resolve_interval_seconds",
        deserialize_with = "values::seconds::<_, 1, 604_800>"
    )]
    pub re_resolve_interval: Duration,
    #[serde(deserialize_with = "values::cron")]
    pub cleanup_cron: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySettings {
    #[serde(
        rename = "sync_interval_seconds",
        deserialize_with = "values::seconds::<_, 1, 86_400>"
    )]
    pub sync_interval: Duration,
    #[serde(deserialize_with = "values::integer::<_, 1, 36_500, u32>")]
    pub retention_days: u32,
}

/// Delivery of notifications (channels and rules live in the database).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    #[serde(deserialize_with = "values::integer::<_, 10, 1_000_000, usize>")]
    pub queue_capacity: usize,
    #[serde(deserialize_with = "values::integer::<_, 1, 100, u32>")]
    pub max_attempts: u32,
    #[serde(
        rename = "retry_base_milliseconds",
        deserialize_with = "values::millis::<_, 10, 600_000>"
    )]
    pub retry_base: Duration,
    #[serde(
        rename = "timeout_seconds",
        deserialize_with = "values::seconds::<_, 1, 300>"
    )]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// `None` until [`Settings::ensure_session_secret`] filled it in. Never shown by `Debug`.
    #[serde(deserialize_with = "values::secret")]
    pub secret: Option<SecretString>,
    #[serde(
        rename = "duration_minutes",
        deserialize_with = "values::minutes::<_, 1, 525_600>"
    )]
    pub duration: Duration,
    #[serde(deserialize_with = "values::boolean")]
    pub cookie_secure: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    #[serde(deserialize_with = "values::networks")]
    pub trusted_proxies: Vec<IpNet>,
    #[serde(deserialize_with = "values::origins")]
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    #[serde(deserialize_with = "values::log_level")]
    pub level: String,
    #[serde(deserialize_with = "values::log_format")]
    pub format: LogFormat,
}

/// The validated configuration of one process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub fail2ban: Fail2banSettings,
    pub geoip: GeoipSettings,
    pub history: HistorySettings,
    pub notifications: NotificationSettings,
    pub session: SessionSettings,
    pub security: SecuritySettings,
    pub log: LogSettings,
    /// Non-fatal remarks found while loading (logged once telemetry is up).
    #[serde(skip)]
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
                let (k, v) = item.map_err(ConfigError::DotEnv)?;
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

    /// Where a key's value came from, for messages about unknown keys.
    fn origin(&self) -> String {
        self.file.as_ref().map_or_else(
            || "the environment".to_string(),
            |f| f.display().to_string(),
        )
    }
}

impl Settings {
    /// Loads the configuration of the running process.
    pub fn load(args: &[String]) -> Result<Self, ConfigError> {
        Self::from_sources(&Sources::from_process(args)?)
    }

    /// Layers defaults, file and environment and deserializes the result.
    pub fn from_sources(sources: &Sources) -> Result<Self, ConfigError> {
        let layered = layer(sources)?;
        let mut settings: Settings = layered.try_deserialize().map_err(|e| refused(e, sources))?;
        if settings.http.workers > 1 {
            return Err(single_process_error(
                "http.workers",
                "BANGUI_WORKERS",
                &settings.http.workers.to_string(),
            ));
        }
        if let Some(v) = sources
            .env
            .get("WEB_CONCURRENCY")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            && v.parse::<u64>().map_or(true, |n| n > 1)
        {
            return Err(single_process_error(
                "WEB_CONCURRENCY",
                "WEB_CONCURRENCY",
                v,
            ));
        }
        settings.warnings = sources
            .env
            .keys()
            .filter(|key| {
                key.starts_with("BANGUI_")
                    && !META_ENV.contains(&key.as_str())
                    && !SETTINGS
                        .iter()
                        .any(|s| s.env == key.as_str() || nested_env(s.key) == **key)
            })
            .map(|key| format!("ignoring unknown environment variable {key}"))
            .collect();
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
                self.session.secret = Some(SecretString::from(existing));
                return Ok(());
            }
        }
        std::fs::create_dir_all(self.data_dir())?;
        let secret = SecretString::from(hex::encode(rand::random::<[u8; 32]>()));
        write_private_file(&path, secret.expose_secret().as_bytes())?;
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

/// Defaults from the table, then the file (parsed once, by the `config` crate), then the
/// environment: the nested form, then the flat name, which wins. Only names from the table are
/// read from the environment; others are reported as warnings by the caller.
fn layer(sources: &Sources) -> Result<config::Config, ConfigError> {
    let origin = |source| ConfigError::Source {
        origin: sources.origin(),
        source,
    };
    let mut builder = config::Config::builder();
    for s in SETTINGS {
        builder = builder.set_default(s.key, s.default).map_err(origin)?;
    }
    if let Some(file) = &sources.file {
        builder =
            builder.add_source(config::File::from(file.as_path()).format(config::FileFormat::Toml));
    }
    for s in SETTINGS {
        for name in [nested_env(s.key), s.env.to_string()] {
            if let Some(v) = sources.env.get(&name) {
                builder = builder.set_override(s.key, v.as_str()).map_err(origin)?;
            }
        }
    }
    builder.build().map_err(origin)
}

/// Turns the `config` crate's refusal into our message: a value refused by `values.rs` carries
/// the value and what is allowed; serde's "unknown field" becomes [`ConfigError::Unknown`].
fn refused(error: config::ConfigError, sources: &Sources) -> ConfigError {
    let (key, inner) = match &error {
        config::ConfigError::At { key, error, .. } => (key.clone(), error.to_string()),
        other => (None, other.to_string()),
    };
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let key = match key {
            Some(section) => format!("{section}.{field}"),
            None => field.to_string(),
        };
        return ConfigError::Unknown {
            key,
            source_name: sources.origin(),
        };
    }
    if let (Some(key), Some((value, allowed))) = (&key, inner.split_once(values::FIELD_SEPARATOR)) {
        return ConfigError::Invalid {
            env: table::spec(key).map_or_else(|| nested_env(key), |s| s.env.to_string()),
            key: key.clone(),
            value: value.to_string(),
            allowed: allowed.to_string(),
        };
    }
    ConfigError::Source {
        origin: sources.origin(),
        source: error,
    }
}

#[cfg(test)]
mod tests;
