//! Jail configuration from the browser: every jail of the configuration with its state
//! (running, stopped, inactive), each editable setting's effective value and the file it comes
//! from, and persisted edits applied safely. An edit is validated ([`JailEdit`]), written into a
//! copy of the configuration directory and tested there with `fail2ban-client -t` (a refusal
//! leaves the real directory untouched), then written into BanGUI's own `jail.d/<jail>.local`
//! (atomic, previous content backed up: [`ConfigWriter`]) and applied: `reload <jail>` for a
//! running jail, a full reload to activate one, `stop` to deactivate one. If the jail does not
//! end up as wanted, or fail2ban stops answering, the previous file is restored, fail2ban is
//! reloaded and the rollback is recorded as a pending recovery until an admin dismisses it. A
//! background watch keeps checking fail2ban for `apply_watch` after each change. Edits of one
//! jail run one at a time (a per-jail lock). Effective values come from `fail2ban-client -d`;
//! files are read only for provenance and for jails `-d` does not list. It never sees HTTP types.
//!
//! Over 500 lines on purpose: listing and applying share one model (effective value, source
//! file, BanGUI's own file) and the per-jail lock; the test in a copy (`candidate.rs`) and the
//! rollback and recoveries (`recovery.rs`) are already their own files.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::db::config_recoveries::{self, NewRecovery};
use crate::domain::jail_config::{JailEdit, JailKey};
use crate::domain::{DomainError, JailName};
use crate::fail2ban::config_dump::{ConfigDump, ConfigTest};
use crate::fail2ban::config_files::{
    ConfigFileError, ConfigPath, ConfigWriter, MARKER, WriteReceipt,
};
use crate::fail2ban::jail_files::JailFiles;
use crate::fail2ban::{Fail2banClient, Fail2banError};

mod candidate;
mod recovery;

/// Where a jail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JailState {
    /// fail2ban runs it.
    Running,
    /// The configuration enables it, but fail2ban does not run it.
    Stopped,
    /// The configuration does not enable it (`enabled = false`).
    Inactive,
}

/// One setting of a jail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettingView {
    pub key: String,
    /// The effective value (from `fail2ban-client -d` when `resolved`, else the file's text):
    /// a string, number, boolean, list of strings or null.
    pub value: Value,
    /// The file the value comes from; `null` for fail2ban's built-in default.
    pub source: Option<String>,
    /// The value is inherited from the `[DEFAULT]` section of `source`.
    pub from_default: bool,
    /// The value was resolved by fail2ban (the jail is enabled); otherwise it is the raw text
    /// of the file (interpolations such as `%(action_)s` unresolved).
    pub resolved: bool,
    /// BanGUI's own file sets it.
    pub set_by_bangui: bool,
}

/// One jail of the configuration.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JailConfigView {
    pub name: String,
    pub state: JailState,
    pub enabled: bool,
    pub settings: Vec<SettingView>,
    /// BanGUI's file for this jail (`jail.d/<jail>.local`), whether or not it exists yet.
    pub bangui_file: String,
    /// `true` when that file exists and was written by someone else: BanGUI will not edit it.
    pub foreign_file: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JailConfigList {
    pub items: Vec<JailConfigView>,
    pub fail2ban_running: bool,
    /// What fail2ban reported while reading its configuration.
    pub problems: Vec<String>,
}

/// The outcome of a persisted change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplyReport {
    pub jail: String,
    /// The file on disk changed (and stayed changed unless `recovered`).
    pub changed: bool,
    /// The jail runs after the change.
    pub active: bool,
    pub fail2ban_running: bool,
    /// Warnings of fail2ban's configuration test.
    pub validation_warnings: Vec<String>,
    /// The change was undone automatically.
    pub recovered: bool,
    pub message: String,
    /// Unified diff of BanGUI's file (before → after).
    pub diff: String,
    pub file: String,
}

/// What an edit would do, without doing it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditPreview {
    pub jail: String,
    pub file: String,
    pub diff: String,
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// A rollback waiting to be acknowledged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingRecovery {
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub jail: String,
    pub file: String,
    pub backup: Option<String>,
    pub message: String,
    pub fail2ban_running: bool,
    pub jail_running: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum JailConfigError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("no jail {0:?} in fail2ban's configuration")]
    UnknownJail(String),
    #[error("fail2ban's configuration test refused the change: {message}")]
    Rejected {
        message: String,
        errors: Vec<String>,
        warnings: Vec<String>,
    },
    #[error(transparent)]
    File(#[from] ConfigFileError),
    #[error(transparent)]
    Fail2ban(#[from] Fail2banError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("preparing the configuration test failed: {0}")]
    Scratch(String),
    #[error("no pending recovery {0}")]
    RecoveryNotFound(i64),
}

type Locks = Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

#[derive(Clone)]
pub struct JailConfigService {
    fail2ban: Fail2banClient,
    writer: ConfigWriter,
    pool: SqlitePool,
    scratch: PathBuf,
    log_dirs: Arc<Vec<PathBuf>>,
    watch: Duration,
    locks: Locks,
}

impl JailConfigService {
    /// `scratch` is a directory of BanGUI's own for the test copies.
    pub fn new(
        fail2ban: Fail2banClient,
        writer: ConfigWriter,
        pool: SqlitePool,
        scratch: PathBuf,
        log_dirs: Vec<PathBuf>,
        watch: Duration,
    ) -> Self {
        Self {
            fail2ban,
            writer,
            pool,
            scratch,
            log_dirs: Arc::new(log_dirs),
            watch,
            locks: Locks::default(),
        }
    }

    fn config_dir(&self) -> &Path {
        self.writer.root()
    }

    async fn lock(&self, jail: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(map.entry(jail.to_string()).or_default())
        };
        m.lock_owned().await
    }

    async fn read_files(&self) -> Result<JailFiles, JailConfigError> {
        let dir = self.config_dir().to_path_buf();
        tokio::task::spawn_blocking(move || JailFiles::read(&dir))
            .await
            .map_err(|e| JailConfigError::Scratch(e.to_string()))
    }

    /// Running jails, or `None` when fail2ban does not answer.
    async fn running(&self) -> Option<Vec<String>> {
        self.fail2ban.jails().await.ok()
    }

    /// Every jail of the configuration (and any running jail no file names).
    pub async fn list(&self) -> Result<JailConfigList, JailConfigError> {
        let (files, dump, running) = tokio::join!(
            self.read_files(),
            self.fail2ban.dump_config(self.config_dir()),
            self.running()
        );
        let files = files?;
        let dump = dump?;
        let fail2ban_running = running.is_some();
        let running = running.unwrap_or_default();
        let mut names: Vec<String> = files.jails().to_vec();
        for j in dump.jails.keys().chain(running.iter()) {
            if !names.contains(j) {
                names.push(j.clone());
            }
        }
        let mut items = Vec::with_capacity(names.len());
        for name in names {
            items.push(self.view(&name, &files, &dump, &running).await);
        }
        Ok(JailConfigList {
            items,
            fail2ban_running,
            problems: dump.problems,
        })
    }

    /// One jail of the configuration.
    pub async fn get(&self, name: &str) -> Result<JailConfigView, JailConfigError> {
        let jail = JailName::parse(name)?;
        let (files, dump, running) = tokio::join!(
            self.read_files(),
            self.fail2ban.dump_config(self.config_dir()),
            self.running()
        );
        let (files, dump) = (files?, dump?);
        let running = running.unwrap_or_default();
        if !files.has_jail(jail.as_str())
            && !dump.jails.contains_key(jail.as_str())
            && !running.iter().any(|r| r == jail.as_str())
        {
            return Err(JailConfigError::UnknownJail(jail.to_string()));
        }
        Ok(self.view(jail.as_str(), &files, &dump, &running).await)
    }

    async fn view(
        &self,
        name: &str,
        files: &JailFiles,
        dump: &ConfigDump,
        running: &[String],
    ) -> JailConfigView {
        let dumped = dump.jails.get(name);
        let state = if running.iter().any(|r| r == name) {
            JailState::Running
        } else if dumped.is_some_and(|d| d.starts) || files.enabled(name) {
            JailState::Stopped
        } else {
            JailState::Inactive
        };
        let rel = jail_file(name);
        let (own_keys, foreign) = match rel.as_ref().map(|r| self.writer.read(r)) {
            Some(Ok(Some(f))) if f.owned => (
                JailFiles::from_text(Path::new(""), &f.text).keys(name),
                false,
            ),
            Some(Ok(Some(_))) => (BTreeMap::new(), true),
            _ => (BTreeMap::new(), false),
        };
        let mut settings = Vec::new();
        for key in JailKey::ALL {
            let k = key.name();
            let source = files.source(name, k);
            let from_dump = dumped.and_then(|d| match key {
                JailKey::Backend => Some(Value::String(d.backend.clone())),
                JailKey::Logpath => Some(json!(d.logpaths)),
                JailKey::Ignoreip => Some(json!(d.ignoreip)),
                JailKey::Action => Some(json!(d.actions)),
                JailKey::Enabled => Some(Value::Bool(d.starts)),
                _ => d.settings.get(k).cloned(),
            });
            let resolved = from_dump.is_some();
            let value = from_dump
                .or_else(|| source.map(|(s, _)| Value::String(s.value.clone())))
                .unwrap_or(Value::Null);
            settings.push(SettingView {
                key: k.to_string(),
                value,
                source: source.map(|(s, _)| s.file.display().to_string()),
                from_default: source.is_some_and(|(_, d)| d),
                resolved,
                set_by_bangui: own_keys.contains_key(k),
            });
        }
        JailConfigView {
            name: name.to_string(),
            state,
            enabled: state != JailState::Inactive,
            settings,
            bangui_file: rel
                .map(|r| self.config_dir().join(r.relative()).display().to_string())
                .unwrap_or_default(),
            foreign_file: foreign,
        }
    }

    /// Checks the jail exists and computes BanGUI's file before and after `edit`.
    async fn plan(
        &self,
        jail: &JailName,
        edit: &JailEdit,
    ) -> Result<(ConfigPath, Option<String>, Option<String>), JailConfigError> {
        let files = self.read_files().await?;
        if !files.has_jail(jail.as_str()) {
            return Err(JailConfigError::UnknownJail(jail.to_string()));
        }
        for path in edit.logpaths() {
            self.check_log_path(path)?;
        }
        let rel = jail_file(jail.as_str()).ok_or_else(|| {
            DomainError::new(
                "jail",
                jail.as_str(),
                "BanGUI cannot name a file after this jail (it starts with `.`)",
            )
        })?;
        let before = match self.writer.read(&rel)? {
            Some(f) if !f.owned => {
                return Err(
                    ConfigFileError::NotOwned(self.config_dir().join(rel.relative())).into(),
                );
            }
            Some(f) => Some(f.text),
            None => None,
        };
        let mut keys = before
            .as_deref()
            .map(|t| JailFiles::from_text(Path::new(""), t).keys(jail.as_str()))
            .unwrap_or_default();
        for (k, v) in &edit.set {
            keys.insert(k.name().to_string(), v.clone());
        }
        for k in &edit.unset {
            keys.remove(k.name());
        }
        let after = (!keys.is_empty()).then(|| render_file(jail.as_str(), &keys));
        Ok((rel, before, after))
    }

    /// A log path must resolve (links followed) into one of the allowed directories.
    fn check_log_path(&self, path: &str) -> Result<(), DomainError> {
        let allowed = || {
            self.log_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let real = Path::new(path)
            .canonicalize()
            .map_err(|e| DomainError::new("logpath", path, format!("cannot be resolved: {e}")))?;
        let inside = self.log_dirs.iter().any(|d| {
            d.canonicalize()
                .is_ok_and(|real_dir| real.starts_with(&real_dir))
        });
        if !inside {
            return Err(DomainError::new(
                "logpath",
                path,
                format!(
                    "resolves to {} which is outside the allowed log directories ({})",
                    real.display(),
                    allowed()
                ),
            ));
        }
        if !real.is_file() {
            return Err(DomainError::new("logpath", path, "not a regular file"));
        }
        Ok(())
    }

    /// What `edit` would write, with fail2ban's verdict; nothing changes.
    pub async fn preview(
        &self,
        name: &str,
        edit: &JailEdit,
    ) -> Result<EditPreview, JailConfigError> {
        let jail = JailName::parse(name)?;
        let (rel, before, after) = self.plan(&jail, edit).await?;
        let test = self.test_candidate(&rel, after.as_deref()).await?;
        Ok(EditPreview {
            jail: jail.to_string(),
            file: self.config_dir().join(rel.relative()).display().to_string(),
            diff: diff(&rel, before.as_deref(), after.as_deref()),
            valid: test.ok,
            errors: test.errors,
            warnings: test.warnings,
        })
    }

    /// Tests, persists and applies `edit`; see the module documentation.
    pub async fn apply(&self, name: &str, edit: &JailEdit) -> Result<ApplyReport, JailConfigError> {
        let jail = JailName::parse(name)?;
        let _guard = self.lock(jail.as_str()).await;
        let (rel, before, after) = self.plan(&jail, edit).await?;
        let file = self.config_dir().join(rel.relative()).display().to_string();
        let diff = diff(&rel, before.as_deref(), after.as_deref());
        let was_running = self
            .running()
            .await
            .is_some_and(|r| r.iter().any(|j| j == jail.as_str()));
        if before == after {
            return Ok(ApplyReport {
                jail: jail.to_string(),
                changed: false,
                active: was_running,
                fail2ban_running: self.fail2ban.ping().await.is_ok(),
                validation_warnings: Vec::new(),
                recovered: false,
                message: "nothing to change".into(),
                diff,
                file,
            });
        }
        let test = self.test_candidate(&rel, after.as_deref()).await?;
        if !test.ok {
            return Err(JailConfigError::Rejected {
                message: test.message(),
                errors: test.errors,
                warnings: test.warnings,
            });
        }
        let receipt = match &after {
            Some(text) => self.writer.write(&rel, text)?,
            None => self.writer.remove(&rel)?,
        };
        let wants = edit.set.get(&JailKey::Enabled).map(|v| v == "true");
        let should_run = match wants {
            Some(on) => on,
            None => was_running,
        };
        let applied = match (was_running, should_run) {
            (true, true) => self.fail2ban.reload(Some(&jail)).await,
            (false, true) => self.fail2ban.reload(None).await,
            (true, false) => self.fail2ban.stop_jail(&jail).await,
            (false, false) => Ok(()),
        };
        let (alive, runs) = self.probe(&jail).await;
        let ok = applied.is_ok() && alive && runs == should_run;
        if ok {
            if self.watch > Duration::ZERO && (was_running || should_run) {
                self.spawn_watch(jail.clone(), receipt);
            }
            let message = match (was_running, should_run) {
                (true, true) => "saved and reloaded the jail",
                (false, true) => "saved; the jail was started",
                (true, false) => "saved; the jail was stopped",
                (false, false) => {
                    "saved; the jail does not run, so the change applies when it is started"
                }
            };
            return Ok(ApplyReport {
                jail: jail.to_string(),
                changed: true,
                active: runs,
                fail2ban_running: alive,
                validation_warnings: test.warnings,
                recovered: false,
                message: message.into(),
                diff,
                file,
            });
        }
        let cause = match applied {
            Err(e) => e.to_string(),
            Ok(()) if !alive => "fail2ban stopped answering".into(),
            Ok(()) if should_run => "the jail did not start".into(),
            Ok(()) => "the jail is still running".into(),
        };
        let (alive, runs) = self.roll_back(&jail, &receipt, &cause).await?;
        Ok(ApplyReport {
            jail: jail.to_string(),
            changed: false,
            active: runs,
            fail2ban_running: alive,
            validation_warnings: test.warnings,
            recovered: true,
            message: format!(
                "{cause}; the previous configuration was restored and fail2ban reloaded"
            ),
            diff,
            file,
        })
    }
}

/// BanGUI's file for `jail`.
fn jail_file(jail: &str) -> Option<ConfigPath> {
    ConfigPath::new("jail.d", &format!("{jail}.local")).ok()
}

/// BanGUI's file: the marker, a note on how to undo it, one section.
fn render_file(jail: &str, keys: &BTreeMap<String, String>) -> String {
    let mut out = format!(
        "{MARKER} (jail settings changed in its web interface).\n\
         # Delete this file and reload fail2ban to drop them. If you edit it by hand, remove the\n\
         # first line: BanGUI then leaves the file alone.\n[{jail}]\n"
    );
    for (k, v) in keys {
        let mut lines = v.lines();
        out.push_str(&format!("{k} = {}\n", lines.next().unwrap_or_default()));
        for more in lines {
            out.push_str(&format!("    {more}\n"));
        }
    }
    out
}

pub fn diff(rel: &ConfigPath, before: Option<&str>, after: Option<&str>) -> String {
    let name = rel.relative();
    similar::TextDiff::from_lines(before.unwrap_or_default(), after.unwrap_or_default())
        .unified_diff()
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bangui_files_read_back_as_they_were_written() {
        let mut keys = BTreeMap::new();
        keys.insert("bantime".to_string(), "1h".to_string());
        keys.insert("logpath".to_string(), "/var/log/a\n/var/log/b".to_string());
        let text = render_file("sshd", &keys);
        assert!(text.starts_with(MARKER));
        assert_eq!(
            JailFiles::from_text(Path::new(""), &text).keys("sshd"),
            keys
        );
    }
}
