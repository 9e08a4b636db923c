//! Filters (`filter.d`) and actions (`action.d`) of fail2ban's configuration directory: the
//! list with the jails that use each and whether a `.local` override exists; one file parsed
//! (`[INCLUDES]`, `[Definition]`, `[Init]`) and raw; and writes of BanGUI's own
//! `NAME.local` only (create from scratch or as a copy, edit as an override or in the raw
//! editor, delete what BanGUI created). Writes go through the jail configuration's machinery:
//! the candidate is tested with `fail2ban-client -t` in a copy of the directory
//! ([`JailConfigService::test_candidate`]), written by [`ConfigWriter`] (atomic, previous content
//! backed up, `.local` only, never a file BanGUI did not write), then every running jail that
//! uses the filter or action is reloaded; if one of them does not come back, the previous file
//! is restored and fail2ban reloaded. Edits run one at a time. The INI reading is the jail
//! files' reader ([`JailFiles::from_text`]); effective values stay fail2ban's business. It
//! never sees HTTP types.
//!
//! Over 500 lines on purpose: filters and actions are one job handled by one code path
//! (list, read, create, write with test and rollback), parameterised by the kind; two files
//! would repeat it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ConfigName, DomainError, JailName};
use crate::fail2ban::config_files::{
    ConfigFileError, ConfigPath, ConfigWriter, MARKER, MAX_BYTES, WriteReceipt,
};
use crate::fail2ban::jail_files::JailFiles;
use crate::fail2ban::{Fail2banClient, Fail2banError};
use crate::services::jail_config::{JailConfigError, JailConfigService, diff};

/// Which directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfigKind {
    Filter,
    Action,
}

impl ConfigKind {
    pub fn dir(self) -> &'static str {
        match self {
            ConfigKind::Filter => "filter.d",
            ConfigKind::Action => "action.d",
        }
    }

    fn field(self) -> &'static str {
        match self {
            ConfigKind::Filter => "filter",
            ConfigKind::Action => "action",
        }
    }
}

/// One filter or action in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigFileSummary {
    pub name: String,
    pub has_conf: bool,
    pub has_local: bool,
    /// The `.local` file was written by BanGUI (it may edit and delete it).
    pub bangui_owned: bool,
    /// Jails of the configuration that use it.
    pub jails: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigFileList {
    pub kind: ConfigKind,
    pub items: Vec<ConfigFileSummary>,
}

/// One filter or action, parsed and raw (`.local` values over `.conf` values).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigFileDetail {
    pub kind: ConfigKind,
    #[serde(flatten)]
    pub summary: ConfigFileSummary,
    /// `[INCLUDES]` `before`/`after`.
    pub includes: BTreeMap<String, String>,
    /// `[Definition]`: failregex, ignoreregex, prefregex, datepattern, … for a filter;
    /// actionstart, actionban, actionunban, … for an action. Multi-line values keep their lines.
    pub definition: BTreeMap<String, String>,
    /// `[Init]` values.
    pub init: BTreeMap<String, String>,
    pub conf_path: String,
    pub local_path: String,
    /// The `.conf` file's text.
    pub conf_text: Option<String>,
    /// The `.local` file's text.
    pub local_text: Option<String>,
}

/// The outcome of a write.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigWriteReport {
    pub kind: ConfigKind,
    pub name: String,
    pub file: String,
    pub changed: bool,
    /// Running jails reloaded after the change.
    pub reloaded_jails: Vec<String>,
    /// The change was undone because a jail did not come back.
    pub recovered: bool,
    pub message: String,
    /// Unified diff of the `.local` file.
    pub diff: String,
    /// Warnings of fail2ban's configuration test.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FilterActionError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("no {kind} {name:?} in {dir}")]
    NotFound {
        kind: &'static str,
        name: String,
        dir: &'static str,
    },
    #[error("{kind} {name:?} exists already")]
    Exists { kind: &'static str, name: String },
    #[error(
        "{name}.local was not created by BanGUI ({detail}); BanGUI deletes only the files it created"
    )]
    NotDeletable { name: String, detail: &'static str },
    #[error("{kind} {name:?} is used by the jails {jails:?}; change those jails first")]
    InUse {
        kind: &'static str,
        name: String,
        jails: Vec<String>,
    },
    #[error("the file is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error(transparent)]
    Config(#[from] JailConfigError),
    #[error(transparent)]
    File(#[from] ConfigFileError),
    #[error(transparent)]
    Fail2ban(#[from] Fail2banError),
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct FilterActionService {
    writer: ConfigWriter,
    fail2ban: Fail2banClient,
    jail_config: JailConfigService,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl FilterActionService {
    pub fn new(
        writer: ConfigWriter,
        fail2ban: Fail2banClient,
        jail_config: JailConfigService,
    ) -> Self {
        Self {
            writer,
            fail2ban,
            jail_config,
            lock: Arc::default(),
        }
    }

    fn root(&self) -> PathBuf {
        self.writer.root().to_path_buf()
    }

    /// Every filter or action with the jails using it.
    pub async fn list(&self, kind: ConfigKind) -> Result<ConfigFileList, FilterActionError> {
        let usage = self.usage(kind).await;
        let root = self.root();
        let items = blocking(move || {
            let dir = root.join(kind.dir());
            let mut names: BTreeMap<String, (bool, bool)> = BTreeMap::new();
            let entries = std::fs::read_dir(&dir).map_err(|source| FilterActionError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            for entry in entries.flatten() {
                let file = entry.file_name().to_string_lossy().into_owned();
                for (ext, conf) in [(".conf", true), (".local", false)] {
                    if let Some(stem) = file.strip_suffix(ext)
                        && ConfigName::parse("name", stem).is_ok()
                    {
                        let e = names.entry(stem.to_string()).or_default();
                        if conf { e.0 = true } else { e.1 = true }
                    }
                }
            }
            Ok(names
                .into_iter()
                .map(|(name, (has_conf, has_local))| ConfigFileSummary {
                    bangui_owned: has_local && owned(&dir.join(format!("{name}.local"))),
                    jails: usage.get(&name).cloned().unwrap_or_default(),
                    name,
                    has_conf,
                    has_local,
                })
                .collect())
        })
        .await?;
        Ok(ConfigFileList { kind, items })
    }

    /// One filter or action, parsed and raw.
    pub async fn get(
        &self,
        kind: ConfigKind,
        name: &str,
    ) -> Result<ConfigFileDetail, FilterActionError> {
        let name = ConfigName::parse(kind.field(), name)?;
        let usage = self.usage(kind).await;
        let root = self.root();
        blocking(move || {
            let dir = root.join(kind.dir());
            let conf_path = dir.join(format!("{name}.conf"));
            let local_path = dir.join(format!("{name}.local"));
            let conf_text = read_small(&conf_path)?;
            let local_text = read_small(&local_path)?;
            if conf_text.is_none() && local_text.is_none() {
                return Err(FilterActionError::NotFound {
                    kind: kind.field(),
                    name: name.to_string(),
                    dir: kind.dir(),
                });
            }
            let mut sections: [BTreeMap<String, String>; 3] = Default::default();
            for (path, text) in [(&conf_path, &conf_text), (&local_path, &local_text)] {
                if let Some(text) = text {
                    let parsed = JailFiles::from_text(path, text);
                    for (i, s) in ["INCLUDES", "Definition", "Init"].iter().enumerate() {
                        sections[i].extend(parsed.keys(s));
                    }
                }
            }
            let [includes, definition, init] = sections;
            Ok(ConfigFileDetail {
                kind,
                summary: ConfigFileSummary {
                    name: name.to_string(),
                    has_conf: conf_text.is_some(),
                    has_local: local_text.is_some(),
                    bangui_owned: local_text.as_deref().is_some_and(|t| t.starts_with(MARKER)),
                    jails: usage.get(name.as_str()).cloned().unwrap_or_default(),
                },
                includes,
                definition,
                init,
                conf_path: conf_path.display().to_string(),
                local_path: local_path.display().to_string(),
                conf_text,
                local_text,
            })
        })
        .await
    }

    /// Creates `NAME.local` from `content`, or as a copy of `copy_from` (its `.conf`, else its
    /// `.local`). Refused when the name exists.
    pub async fn create(
        &self,
        kind: ConfigKind,
        name: &str,
        content: Option<&str>,
        copy_from: Option<&str>,
    ) -> Result<ConfigWriteReport, FilterActionError> {
        let name = ConfigName::parse(kind.field(), name)?;
        let existing = self.get(kind, name.as_str()).await;
        if existing.is_ok() {
            return Err(FilterActionError::Exists {
                kind: kind.field(),
                name: name.to_string(),
            });
        }
        // A copy source takes precedence over content.
        let text = match (content, copy_from) {
            (Some(c), None) => c.to_string(),
            (_, Some(src)) => {
                let src = self.get(kind, src).await?;
                let text = src.conf_text.or(src.local_text).unwrap_or_default();
                strip_marker(&text).to_string()
            }
            _ => {
                return Err(
                    DomainError::new("content", "", "give either content or copy_from").into(),
                );
            }
        };
        self.write(kind, &name, Some(with_marker(kind, &text)))
            .await
    }

    /// Replaces `NAME.local` (an override of a packaged file, or BanGUI's own file) with
    /// `content`.
    pub async fn update(
        &self,
        kind: ConfigKind,
        name: &str,
        content: &str,
    ) -> Result<ConfigWriteReport, FilterActionError> {
        let name = ConfigName::parse(kind.field(), name)?;
        self.get(kind, name.as_str()).await?;
        self.write(kind, &name, Some(with_marker(kind, content)))
            .await
    }

    /// Deletes BanGUI's `NAME.local`; refused while a jail uses a filter or action that would
    /// then not exist.
    pub async fn delete(
        &self,
        kind: ConfigKind,
        name: &str,
    ) -> Result<ConfigWriteReport, FilterActionError> {
        let detail = self.get(kind, name).await?;
        let s = &detail.summary;
        if !s.has_local || !s.bangui_owned {
            return Err(FilterActionError::NotDeletable {
                name: s.name.clone(),
                detail: if s.has_local {
                    "its first line is not BanGUI's marker"
                } else {
                    "there is no .local file"
                },
            });
        }
        if !s.has_conf && !s.jails.is_empty() {
            return Err(FilterActionError::InUse {
                kind: kind.field(),
                name: s.name.clone(),
                jails: s.jails.clone(),
            });
        }
        let name = ConfigName::parse(kind.field(), name)?;
        self.write(kind, &name, None).await
    }

    /// Test in a copy, write, reload the running jails that use it, undo if one does not
    /// come back.
    async fn write(
        &self,
        kind: ConfigKind,
        name: &ConfigName,
        after: Option<String>,
    ) -> Result<ConfigWriteReport, FilterActionError> {
        if after.as_ref().is_some_and(|a| a.len() > MAX_BYTES) {
            return Err(FilterActionError::TooLarge);
        }
        let _guard = self.lock.lock().await;
        let rel = ConfigPath::new(kind.dir(), &format!("{name}.local"))?;
        let before = match self.writer.read(&rel)? {
            Some(f) if !f.owned => {
                return Err(
                    ConfigFileError::NotOwned(self.writer.root().join(rel.relative())).into(),
                );
            }
            other => other.map(|f| f.text),
        };
        let file = self
            .writer
            .root()
            .join(rel.relative())
            .display()
            .to_string();
        let diff = diff(&rel, before.as_deref(), after.as_deref());
        let mut report = ConfigWriteReport {
            kind,
            name: name.to_string(),
            file,
            changed: false,
            reloaded_jails: Vec::new(),
            recovered: false,
            message: "nothing to change".into(),
            diff,
            warnings: Vec::new(),
        };
        if before == after {
            return Ok(report);
        }
        let test = self
            .jail_config
            .test_candidate(&rel, after.as_deref())
            .await?;
        if !test.ok {
            return Err(JailConfigError::Rejected {
                message: test.message(),
                errors: test.errors,
                warnings: test.warnings,
            }
            .into());
        }
        report.warnings = test.warnings;
        let receipt = match &after {
            Some(text) => self.writer.write(&rel, text)?,
            None => self.writer.remove(&rel)?,
        };
        let users = self
            .usage(kind)
            .await
            .remove(name.as_str())
            .unwrap_or_default();
        let running = self.fail2ban.jails().await.unwrap_or_default();
        let affected: Vec<String> = users
            .into_iter()
            .filter(|j| running.iter().any(|r| r == j))
            .collect();
        let mut failure = None;
        for jail in &affected {
            let Ok(j) = JailName::parse(jail) else {
                continue;
            };
            if let Err(e) = self.fail2ban.reload(Some(&j)).await {
                failure = Some(format!("reloading {jail} failed: {e}"));
                break;
            }
        }
        if failure.is_none() {
            let now = self.fail2ban.jails().await;
            failure = match now {
                Err(e) => Some(format!("fail2ban stopped answering: {e}")),
                Ok(list) => affected
                    .iter()
                    .find(|j| !list.contains(j))
                    .map(|j| format!("the jail {j} did not come back")),
            };
        }
        report.reloaded_jails = affected;
        match failure {
            None => {
                report.changed = true;
                report.message = if report.reloaded_jails.is_empty() {
                    "saved; no running jail uses it".into()
                } else {
                    "saved and reloaded the jails that use it".into()
                };
            }
            Some(cause) => {
                self.roll_back(&receipt).await;
                report.recovered = true;
                report.message =
                    format!("{cause}; the previous file was restored and fail2ban reloaded");
            }
        }
        Ok(report)
    }

    async fn roll_back(&self, receipt: &WriteReceipt) {
        match self.writer.restore(receipt) {
            Ok(true) => {
                if let Err(e) = self.fail2ban.reload(None).await {
                    tracing::warn!(error = %e, "reload after restoring a filter/action failed");
                }
            }
            Ok(false) => {
                tracing::warn!(file = %receipt.path.display(), "file changed since; not restored")
            }
            Err(e) => tracing::error!(error = %e, "restoring a filter/action file failed"),
        }
    }

    /// `name → jails` from the jail files (filters: each jail's `filter`, `%(__name__)s` read as
    /// the jail's name; actions: each enabled jail's actions in `fail2ban-client -d`).
    async fn usage(&self, kind: ConfigKind) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        match kind {
            ConfigKind::Filter => {
                let root = self.root();
                let files = tokio::task::spawn_blocking(move || JailFiles::read(&root))
                    .await
                    .unwrap_or_default();
                for jail in files.jails() {
                    if let Some((setting, _)) = files.source(jail, "filter") {
                        let name = filter_name(&setting.value, jail);
                        out.entry(name).or_default().push(jail.clone());
                    }
                }
            }
            ConfigKind::Action => {
                if let Ok(dump) = self.fail2ban.dump_config(self.writer.root()).await {
                    for (jail, d) in dump.jails {
                        for action in d.actions {
                            out.entry(action).or_default().push(jail.clone());
                        }
                    }
                }
            }
        }
        out
    }
}

/// The filter a jail's `filter` value names: `%(__name__)s` is the jail, options in `[…]` and
/// anything after the first word are dropped.
fn filter_name(value: &str, jail: &str) -> String {
    let v = value.replace("%(__name__)s", jail);
    let v = v.split('[').next().unwrap_or_default();
    v.split_whitespace().next().unwrap_or_default().to_string()
}

fn owned(path: &Path) -> bool {
    read_small(path)
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with(MARKER))
}

fn read_small(path: &Path) -> Result<Option<String>, FilterActionError> {
    let io = |source| FilterActionError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
        Ok(m) if m.len() > MAX_BYTES as u64 => return Err(FilterActionError::TooLarge),
        Ok(_) => {}
    }
    let bytes = std::fs::read(path).map_err(io)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn strip_marker(text: &str) -> &str {
    if text.starts_with(MARKER) {
        text.split_once('\n').map_or("", |(_, rest)| rest)
    } else {
        text
    }
}

/// `content` with BanGUI's marker line first (added once).
fn with_marker(kind: ConfigKind, content: &str) -> String {
    let body = strip_marker(content);
    let mut out = format!(
        "{MARKER} ({} edited in its web interface; remove this line to keep BanGUI away).\n",
        kind.field()
    );
    out.push_str(body);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FilterActionError> + Send + 'static,
) -> Result<T, FilterActionError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FilterActionError::Io {
            path: String::new(),
            source: std::io::Error::other(e.to_string()),
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jails_filter_value_names_the_filter() {
        assert_eq!(filter_name("%(__name__)s[mode=%(mode)s]", "sshd"), "sshd");
        assert_eq!(filter_name("bangui-app", "x"), "bangui-app");
        assert_eq!(filter_name(" apache-auth ", "x"), "apache-auth");
    }

    #[test]
    fn the_marker_is_written_once() {
        let once = with_marker(ConfigKind::Filter, "[Definition]\nfailregex = x");
        assert!(once.starts_with(MARKER));
        assert_eq!(with_marker(ConfigKind::Filter, &once), once);
        assert!(once.ends_with("failregex = x\n"));
    }
}
