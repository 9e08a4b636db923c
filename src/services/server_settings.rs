//! fail2ban's server-wide settings as admins change them: log level, log target, database
//! purge age and max matches, and flushing the logs. fail2ban runs as root, so a log target is
//! only STDOUT, STDERR, SYSLOG, SYSTEMD-JOURNAL or a file directly inside the directory fail2ban
//! logs to now (no `..`, no symlink that leads elsewhere): an admin of the dashboard must not be
//! able to make fail2ban create or append to files anywhere else. It never sees HTTP types.

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::domain::DomainError;
use crate::fail2ban::{Fail2banClient, Fail2banError, ServerSettingUpdate};

/// fail2ban's server settings as this service reads them.
pub use crate::fail2ban::ServerSettings;

/// Log targets that are not files.
pub const SPECIAL_LOG_TARGETS: [&str; 4] = ["STDOUT", "STDERR", "SYSLOG", "SYSTEMD-JOURNAL"];

/// The directory a log file goes to when fail2ban logs to no file now (its packaged default).
const DEFAULT_LOG_DIR: &str = "/var/log";

/// The changes of one request; `None` leaves a setting as it is.
#[derive(Debug, Default, Clone)]
pub struct ServerSettingsChange {
    pub loglevel: Option<String>,
    pub logtarget: Option<String>,
    pub dbpurgeage: Option<i64>,
    pub dbmaxmatches: Option<i64>,
}

#[derive(Clone)]
pub struct ServerSettingsService {
    fail2ban: Fail2banClient,
}

impl ServerSettingsService {
    pub fn new(fail2ban: Fail2banClient) -> Self {
        Self { fail2ban }
    }

    pub async fn current(&self) -> Result<ServerSettings, Fail2banError> {
        self.fail2ban.server_settings().await
    }

    /// Validates `change` against the current settings and returns the updates to send and the
    /// audit details (`{setting: {old, new}}` for each changed setting). Nothing is changed.
    pub async fn plan(
        &self,
        change: &ServerSettingsChange,
    ) -> Result<(Vec<ServerSettingUpdate>, Value), Fail2banError> {
        let before = self.current().await?;
        let mut updates = Vec::new();
        let mut details = Map::new();
        if let Some(v) = &change.loglevel {
            let update = ServerSettingUpdate::LogLevel(v.clone());
            let (_, new) = update.validate()?;
            details.insert(
                "loglevel".into(),
                json!({"old": before.loglevel, "new": new}),
            );
            updates.push(update);
        }
        if let Some(v) = &change.logtarget {
            let new = allowed_log_target(v, &before.logtarget)?;
            details.insert(
                "logtarget".into(),
                json!({"old": before.logtarget, "new": new}),
            );
            updates.push(ServerSettingUpdate::LogTarget(new));
        }
        if let Some(v) = change.dbpurgeage {
            let update = ServerSettingUpdate::DbPurgeAge(v);
            update.validate()?;
            details.insert(
                "dbpurgeage".into(),
                json!({"old": before.dbpurgeage, "new": v}),
            );
            updates.push(update);
        }
        if let Some(v) = change.dbmaxmatches {
            let update = ServerSettingUpdate::DbMaxMatches(v);
            update.validate()?;
            details.insert(
                "dbmaxmatches".into(),
                json!({"old": before.dbmaxmatches, "new": v}),
            );
            updates.push(update);
        }
        Ok((updates, Value::Object(details)))
    }

    /// Sends planned updates in order and answers with all settings afterwards.
    pub async fn apply(
        &self,
        updates: Vec<ServerSettingUpdate>,
    ) -> Result<ServerSettings, Fail2banError> {
        for update in updates {
            self.fail2ban.set_server_setting(update).await?;
        }
        self.current().await
    }

    /// Reopens fail2ban's log file; returns fail2ban's answer.
    pub async fn flush_logs(&self) -> Result<String, Fail2banError> {
        self.fail2ban.flush_logs().await
    }
}

fn refuse(value: &str, reason: impl Into<String>) -> DomainError {
    DomainError::new("logtarget", value, reason)
}

/// The log target to send for `requested`, or why it is refused. `current` is fail2ban's log
/// target now; a file must lie directly in its directory.
pub fn allowed_log_target(requested: &str, current: &str) -> Result<String, DomainError> {
    let t = requested.trim();
    let upper = t.to_ascii_uppercase();
    if SPECIAL_LOG_TARGETS.contains(&upper.as_str()) {
        return Ok(upper);
    }
    let dir = log_dir(current);
    let allowed = format!(
        "expected {} or a file directly in {}",
        SPECIAL_LOG_TARGETS.join(", "),
        dir.display()
    );
    let path = Path::new(t);
    if !path.is_absolute() || t.contains('\0') {
        return Err(refuse(requested, allowed));
    }
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(refuse(requested, format!("`..` is not allowed; {allowed}")));
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(refuse(requested, allowed));
    };
    let name_ok = name.to_str().is_some_and(|n| {
        !n.starts_with('.')
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    if !name_ok {
        return Err(refuse(
            requested,
            "the file name may hold letters, digits, `.`, `_` and `-` and must not start with `.`",
        ));
    }
    // Compare real directories, so that a symlinked directory cannot lead elsewhere.
    let same_dir = match (parent.canonicalize(), dir.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_dir {
        return Err(refuse(requested, allowed));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => Err(refuse(
            requested,
            format!("it exists and is not a regular file (a symlink or a directory); {allowed}"),
        )),
        _ => Ok(t.to_string()),
    }
}

/// The directory fail2ban logs into now.
fn log_dir(current: &str) -> PathBuf {
    let current = Path::new(current.trim());
    match current.parent() {
        Some(dir) if current.is_absolute() && dir != Path::new("") => dir.to_path_buf(),
        _ => PathBuf::from(DEFAULT_LOG_DIR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_targets_pass_in_any_case_and_files_only_inside_the_current_log_directory() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        let current = logs.join("fail2ban.log").display().to_string();
        assert_eq!(allowed_log_target("syslog", &current).unwrap(), "SYSLOG");
        assert_eq!(
            allowed_log_target("SYSTEMD-JOURNAL", &current).unwrap(),
            "SYSTEMD-JOURNAL"
        );
        let other = logs.join("other.log").display().to_string();
        assert_eq!(allowed_log_target(&other, &current).unwrap(), other);

        std::os::unix::fs::symlink("/etc/passwd", logs.join("link.log")).unwrap();
        std::os::unix::fs::symlink(dir.path(), logs.join("up")).unwrap();
        for bad in [
            "/etc/cron.d/evil".to_string(),
            "relative.log".to_string(),
            format!("{}/../escape.log", logs.display()),
            format!("{}/link.log", logs.display()),
            format!("{}/up/escape.log", logs.display()),
            format!("{}/.hidden", logs.display()),
            format!("{}/sub dir.log", logs.display()),
            logs.display().to_string(),
        ] {
            let err = allowed_log_target(&bad, &current).unwrap_err();
            assert_eq!(err.field, "logtarget", "{bad}");
        }
    }
}
