//! The jail settings BanGUI may persist and the rules their values follow, checked before
//! anything is written: durations as fail2ban reads them (`600`, `10m`, `1h30m`, `1w`; `-1`
//! for a permanent bantime), counts that are positive integers, booleans, addresses and
//! networks for `ignoreip`, absolute log paths without `..` or wildcards, plain names for
//! filters, actions and backends. A value becomes the exact INI text to write; a bad one is a
//! [`DomainError`] naming the key. Whether a log path lies in an allowed directory needs the
//! file system and is checked by the service.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{DomainError, IgnoreTarget};

/// An editable key, as fail2ban spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JailKey {
    Enabled,
    Bantime,
    Findtime,
    Maxretry,
    BantimeIncrement,
    BantimeFactor,
    BantimeMultipliers,
    BantimeMaxtime,
    BantimeRndtime,
    BantimeOveralljails,
    Ignoreip,
    Ignoreself,
    Logpath,
    Filter,
    Action,
    Banaction,
    Backend,
    Usedns,
}

impl JailKey {
    pub const ALL: [JailKey; 18] = [
        JailKey::Enabled,
        JailKey::Bantime,
        JailKey::Findtime,
        JailKey::Maxretry,
        JailKey::BantimeIncrement,
        JailKey::BantimeFactor,
        JailKey::BantimeMultipliers,
        JailKey::BantimeMaxtime,
        JailKey::BantimeRndtime,
        JailKey::BantimeOveralljails,
        JailKey::Ignoreip,
        JailKey::Ignoreself,
        JailKey::Logpath,
        JailKey::Filter,
        JailKey::Action,
        JailKey::Banaction,
        JailKey::Backend,
        JailKey::Usedns,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JailKey::Enabled => "enabled",
            JailKey::Bantime => "bantime",
            JailKey::Findtime => "findtime",
            JailKey::Maxretry => "maxretry",
            JailKey::BantimeIncrement => "bantime.increment",
            JailKey::BantimeFactor => "bantime.factor",
            JailKey::BantimeMultipliers => "bantime.multipliers",
            JailKey::BantimeMaxtime => "bantime.maxtime",
            JailKey::BantimeRndtime => "bantime.rndtime",
            JailKey::BantimeOveralljails => "bantime.overalljails",
            JailKey::Ignoreip => "ignoreip",
            JailKey::Ignoreself => "ignoreself",
            JailKey::Logpath => "logpath",
            JailKey::Filter => "filter",
            JailKey::Action => "action",
            JailKey::Banaction => "banaction",
            JailKey::Backend => "backend",
            JailKey::Usedns => "usedns",
        }
    }

    pub fn parse(name: &str) -> Option<JailKey> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One validated change: keys to write (INI text) and keys to drop from BanGUI's file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JailEdit {
    pub set: BTreeMap<JailKey, String>,
    pub unset: Vec<JailKey>,
}

impl JailEdit {
    /// Reads `{"key": value, …}`; `null` removes BanGUI's override of that key. Unknown keys
    /// and bad values are refused naming the key.
    pub fn parse(settings: &serde_json::Map<String, Value>) -> Result<Self, DomainError> {
        let mut edit = JailEdit::default();
        if settings.is_empty() {
            return Err(DomainError::new(
                "settings",
                "{}",
                "name at least one setting to change",
            ));
        }
        for (name, value) in settings {
            let key = JailKey::parse(name).ok_or_else(|| {
                DomainError::new(
                    "settings",
                    name,
                    format!(
                        "not an editable key; editable keys: {}",
                        JailKey::ALL.map(JailKey::name).join(", ")
                    ),
                )
            })?;
            if value.is_null() {
                if key == JailKey::Enabled {
                    return Err(DomainError::new(
                        key.name(),
                        "null",
                        "use true or false (or the activate/deactivate operations)",
                    ));
                }
                edit.unset.push(key);
            } else {
                edit.set.insert(key, render(key, value)?);
            }
        }
        Ok(edit)
    }

    /// The log paths this edit writes (the service checks them against the allow-list).
    pub fn logpaths(&self) -> Vec<&str> {
        self.set
            .get(&JailKey::Logpath)
            .map(|v| v.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default()
    }
}

fn bad(key: JailKey, value: &Value, reason: impl Into<String>) -> DomainError {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    DomainError::new(key.name(), &shown, reason)
}

/// The INI text for `value`.
fn render(key: JailKey, value: &Value) -> Result<String, DomainError> {
    use JailKey as K;
    match key {
        K::Enabled | K::BantimeIncrement | K::BantimeOveralljails | K::Ignoreself => {
            boolean(value).ok_or_else(|| bad(key, value, "expected true or false"))
        }
        K::Bantime | K::Findtime | K::BantimeMaxtime | K::BantimeRndtime => {
            let text = scalar(value).ok_or_else(|| bad(key, value, "expected a duration"))?;
            if key == K::Bantime && text == "-1" {
                return Ok(text);
            }
            if is_duration(&text) {
                Ok(text)
            } else {
                Err(bad(
                    key,
                    value,
                    "expected a duration such as 600, 10m, 1h30m, 2d or 1w (units s, m, h, d, w, mo, y)",
                ))
            }
        }
        K::Maxretry => {
            let text = scalar(value).ok_or_else(|| bad(key, value, "expected an integer"))?;
            match text.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => Ok(n.to_string()),
                _ => Err(bad(key, value, "expected an integer from 1 to 1000000")),
            }
        }
        K::BantimeFactor => {
            let text = scalar(value).ok_or_else(|| bad(key, value, "expected a number"))?;
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 && f <= 1_000_000.0 => Ok(text),
                _ => Err(bad(key, value, "expected a positive number")),
            }
        }
        K::BantimeMultipliers => {
            let text = scalar(value).ok_or_else(|| bad(key, value, "expected numbers"))?;
            let ok = !text.trim().is_empty()
                && text
                    .split_whitespace()
                    .all(|w| w.parse::<u64>().is_ok_and(|n| n <= 1_000_000));
            if ok {
                Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
            } else {
                Err(bad(
                    key,
                    value,
                    "expected whole numbers separated by spaces (e.g. 1 2 4 8 16)",
                ))
            }
        }
        K::Ignoreip => {
            let items = list(value).ok_or_else(|| bad(key, value, "expected a list"))?;
            let mut out = Vec::new();
            for item in items {
                let target = IgnoreTarget::parse(&item).map_err(|e| {
                    DomainError::new(
                        key.name(),
                        &item,
                        format!("not an address or network: {}", e.reason),
                    )
                })?;
                out.push(target.to_string());
            }
            Ok(out.join(" "))
        }
        K::Logpath => {
            let items = list(value).ok_or_else(|| bad(key, value, "expected a list of paths"))?;
            if items.is_empty() {
                return Err(bad(key, value, "a jail needs at least one log path"));
            }
            for item in &items {
                check_log_path(item)
                    .map_err(|reason| DomainError::new(key.name(), item, reason.to_string()))?;
            }
            Ok(items.join("\n"))
        }
        K::Filter | K::Banaction => {
            let text = scalar(value).ok_or_else(|| bad(key, value, "expected a name"))?;
            if is_reference(&text) {
                Ok(text)
            } else {
                Err(bad(
                    key,
                    value,
                    "expected a name from filter.d/action.d, optionally with [options] (letters, digits, . _ -)",
                ))
            }
        }
        K::Action => {
            let items = list(value).ok_or_else(|| bad(key, value, "expected action names"))?;
            if items.is_empty() {
                return Err(bad(key, value, "name at least one action"));
            }
            for item in &items {
                if !is_reference(item) && !is_interpolation(item) {
                    return Err(DomainError::new(
                        key.name(),
                        item,
                        "expected an action name, optionally with [options], or %(action_)s-style references",
                    ));
                }
            }
            Ok(items.join("\n"))
        }
        K::Backend => {
            let text = scalar(value).ok_or_else(|| bad(key, value, "expected a backend"))?;
            match text.as_str() {
                "auto" | "polling" | "pyinotify" | "gamin" | "systemd" => Ok(text),
                _ => Err(bad(
                    key,
                    value,
                    "expected auto, polling, pyinotify, gamin or systemd",
                )),
            }
        }
        K::Usedns => {
            let text =
                scalar(value).ok_or_else(|| bad(key, value, "expected yes, warn, no or raw"))?;
            match text.as_str() {
                "yes" | "warn" | "no" | "raw" => Ok(text),
                _ => Err(bad(key, value, "expected yes, warn, no or raw")),
            }
        }
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some("true".into()),
            "false" | "no" | "off" | "0" => Some("false".into()),
            _ => None,
        },
        _ => None,
    }
}

/// A list of strings, or one string of items separated by whitespace.
fn list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(|s| s.trim().to_string()))
            .filter(|i| i.as_ref().is_none_or(|s| !s.is_empty()))
            .collect(),
        Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        _ => None,
    }
}

const UNITS: [&str; 18] = [
    "years", "year", "yy", "y", "months", "month", "mo", "weeks", "week", "ww", "w", "days", "day",
    "dd", "d", "hours", "hour", "hh",
];
const SMALL_UNITS: [&str; 12] = [
    "h", "minutes", "minute", "min", "mm", "m", "seconds", "second", "sec", "ss", "s", "",
];

/// fail2ban's duration syntax: one or more `NUMBER[UNIT]` groups (`600`, `1h30m`, `1.5d`).
pub fn is_duration(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() || t.len() > 64 {
        return false;
    }
    let mut rest = t.as_str();
    while !rest.is_empty() {
        rest = rest.trim_start();
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = rest.get(..digits).unwrap_or_default();
        if number.is_empty() || number.parse::<f64>().is_err() {
            return false;
        }
        rest = rest.get(digits..).unwrap_or_default().trim_start();
        let unit = UNITS
            .iter()
            .chain(SMALL_UNITS.iter())
            .filter(|u| !u.is_empty())
            .find(|u| {
                rest.starts_with(**u)
                    && !rest
                        .get(u.len()..)
                        .and_then(|r| r.chars().next())
                        .is_some_and(|c| c.is_ascii_alphabetic())
            });
        match unit {
            Some(u) => rest = rest.get(u.len()..).unwrap_or_default(),
            None if rest.is_empty() => {}
            None => return false,
        }
    }
    true
}

/// `name` or `name[key=value, …]` with no line breaks, `;` or `#` (INI comments).
fn is_reference(text: &str) -> bool {
    let (name, options) = match text.find('[') {
        Some(pos) => (text.get(..pos).unwrap_or_default(), text.get(pos..)),
        None => (text, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with('.');
    let options_ok = options.is_none_or(|o| {
        o.ends_with(']') && o.len() <= 1024 && !o.contains(['\n', '\r', ';', '#', '\0'])
    });
    name_ok && options_ok
}

/// `%(name)s`, the way fail2ban's stock configuration composes actions.
fn is_interpolation(text: &str) -> bool {
    text.strip_prefix("%(")
        .and_then(|t| t.strip_suffix(")s"))
        .is_some_and(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        })
}

/// Why a log path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogPathError {
    #[error("expected an absolute path")]
    NotAbsolute,
    #[error("control characters are not allowed")]
    ControlCharacters,
    #[error("`..` and `.` are not allowed")]
    DotParts,
    #[error("wildcards, spaces, `;`, `#` and `%` are not allowed")]
    Wildcards,
}

/// The shape of a log path: absolute, no `..` or `.` parts, no wildcards or control characters.
pub fn check_log_path(path: &str) -> Result<(), LogPathError> {
    if !path.starts_with('/') {
        return Err(LogPathError::NotAbsolute);
    }
    if path.len() > 4096 || path.chars().any(|c| c.is_control()) {
        return Err(LogPathError::ControlCharacters);
    }
    if path.split('/').any(|p| p == ".." || p == ".") {
        return Err(LogPathError::DotParts);
    }
    if path.contains(['*', '?', '[', ']', ';', '#', '%', ' ']) {
        return Err(LogPathError::Wildcards);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(v: Value) -> Result<JailEdit, DomainError> {
        JailEdit::parse(v.as_object().unwrap())
    }

    #[test]
    fn durations_follow_fail2bans_syntax() {
        for ok in [
            "600", "10m", "1h30m", "2d", "1w", "1.5h", "1 hour", "3mo", "1y",
        ] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "1x", "-5", "h", "10 minutesx", "1h-", "abc"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn good_values_become_ini_text() {
        let e = edit(json!({
            "bantime": "1h", "maxretry": 5, "ignoreip": ["10.0.0.0/8", "192.0.2.1"],
            "logpath": ["/var/log/a.log", "/var/log/b.log"], "enabled": true,
            "action": ["dummy[target=\"/tmp/x\"]", "%(action_)s"], "findtime": null,
            "bantime.multipliers": "1 2  4", "usedns": "no"
        }))
        .unwrap();
        assert_eq!(e.set[&JailKey::Bantime], "1h");
        assert_eq!(e.set[&JailKey::Maxretry], "5");
        assert_eq!(e.set[&JailKey::Ignoreip], "10.0.0.0/8 192.0.2.1");
        assert_eq!(e.set[&JailKey::Logpath], "/var/log/a.log\n/var/log/b.log");
        assert_eq!(e.set[&JailKey::Enabled], "true");
        assert_eq!(e.set[&JailKey::BantimeMultipliers], "1 2 4");
        assert_eq!(e.unset, [JailKey::Findtime]);
        assert_eq!(e.logpaths(), ["/var/log/a.log", "/var/log/b.log"]);
        assert_eq!(
            edit(json!({"bantime": -1})).unwrap().set[&JailKey::Bantime],
            "-1"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        for (body, field) in [
            (json!({"bantime": "1x"}), "bantime"),
            (json!({"maxretry": -3}), "maxretry"),
            (json!({"maxretry": "3.5"}), "maxretry"),
            (json!({"findtime": -1}), "findtime"),
            (json!({"failregex": "x"}), "settings"),
            (json!({"logpath": ["/var/log/../../etc/shadow"]}), "logpath"),
            (json!({"logpath": ["relative.log"]}), "logpath"),
            (json!({"logpath": ["/var/log/*.log"]}), "logpath"),
            (json!({"ignoreip": ["not-an-ip"]}), "ignoreip"),
            (json!({"filter": "sshd\nenabled = true"}), "filter"),
            (json!({"filter": "../x"}), "filter"),
            (json!({"backend": "shell"}), "backend"),
            (json!({"enabled": "maybe"}), "enabled"),
            (json!({"enabled": null}), "enabled"),
            (json!({}), "settings"),
        ] {
            let err = edit(body.clone()).unwrap_err();
            assert_eq!(err.field, field, "{body}");
        }
    }
}
