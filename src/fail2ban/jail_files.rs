//! Where each jail setting is written: reads `jail.conf`, `jail.d/*.conf`, `jail.local` and
//! `jail.d/*.local` in the order fail2ban's reader does and records, per section and key, the
//! raw text and the file it came from. This is for provenance and for finding jails that are
//! not enabled (fail2ban's `-d` dump only lists enabled jails); the effective values of enabled
//! jails come from `fail2ban-client -d` ([`super::config_dump`]), never from here. Only the INI
//! shape fail2ban uses is read: `[section]`, `key = value` or `key: value`, indented
//! continuation lines, whole-line `#`/`;` comments and inline ` ;` comments; interpolation and
//! `[INCLUDES]` are not resolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One key as a file writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSetting {
    pub value: String,
    pub file: PathBuf,
}

/// Sections that hold no jail.
const NOT_JAILS: [&str; 3] = ["DEFAULT", "INCLUDES", "Init"];

/// Files larger than this are not read (fail2ban's own files are a few tens of KiB).
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Every jail section of the jail configuration, with the last value of each key.
#[derive(Debug, Clone, Default)]
pub struct JailFiles {
    /// Files in reading order.
    pub files: Vec<PathBuf>,
    /// `section → key → last setting`; keys lowercased as configparser does.
    sections: BTreeMap<String, BTreeMap<String, RawSetting>>,
    /// Jail sections in order of first appearance.
    order: Vec<String>,
}

impl JailFiles {
    /// Reads the files under `config_dir` (missing ones are skipped; unreadable ones too, as
    /// fail2ban reports those itself).
    pub fn read(config_dir: &Path) -> Self {
        let mut me = Self::default();
        for file in reading_order(config_dir) {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            me.add(&file, &text);
            me.files.push(file);
        }
        me
    }

    fn add(&mut self, file: &Path, text: &str) {
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                last_key = None;
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // A continuation line appends to the last key.
                if let (Some(s), Some(k)) = (&section, &last_key)
                    && let Some(setting) = self.sections.get_mut(s).and_then(|m| m.get_mut(k))
                {
                    setting.value.push('\n');
                    setting.value.push_str(strip_inline_comment(trimmed));
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                let name = name.trim().to_string();
                if !self.sections.contains_key(&name) {
                    self.sections.insert(name.clone(), BTreeMap::new());
                    if !NOT_JAILS.contains(&name.as_str()) {
                        self.order.push(name.clone());
                    }
                }
                section = Some(name);
                last_key = None;
                continue;
            }
            let Some(pos) = trimmed.find(['=', ':']) else {
                continue;
            };
            let (Some(s), Some(key), Some(value)) =
                (&section, trimmed.get(..pos), trimmed.get(pos + 1..))
            else {
                continue;
            };
            let key = key.trim().to_lowercase();
            let value = strip_inline_comment(value.trim()).to_string();
            if let Some(map) = self.sections.get_mut(s) {
                map.insert(
                    key.clone(),
                    RawSetting {
                        value,
                        file: file.to_path_buf(),
                    },
                );
            }
            last_key = Some(key);
        }
    }

    /// Reads one file's text (BanGUI's own files, read back before an edit).
    pub fn from_text(file: &Path, text: &str) -> Self {
        let mut me = Self::default();
        me.add(file, text);
        me.files.push(file.to_path_buf());
        me
    }

    /// The keys of one section with their raw values, sorted by key.
    pub fn keys(&self, section: &str) -> BTreeMap<String, String> {
        self.sections
            .get(section)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Jail sections in the order they first appear.
    pub fn jails(&self) -> &[String] {
        &self.order
    }

    pub fn has_jail(&self, jail: &str) -> bool {
        self.order.iter().any(|j| j == jail)
    }

    /// Where `key` of `jail` is set: the jail's own section first, then `[DEFAULT]`. The flag
    /// says whether it came from `[DEFAULT]`.
    pub fn source(&self, jail: &str, key: &str) -> Option<(&RawSetting, bool)> {
        if let Some(s) = self.sections.get(jail).and_then(|m| m.get(key)) {
            return Some((s, false));
        }
        self.sections
            .get("DEFAULT")
            .and_then(|m| m.get(key))
            .map(|s| (s, true))
    }

    /// Whether the files enable `jail` (`enabled = true`, possibly inherited from `[DEFAULT]`).
    pub fn enabled(&self, jail: &str) -> bool {
        self.source(jail, "enabled")
            .is_some_and(|(s, _)| is_true(&s.value))
    }
}

/// fail2ban's boolean spellings.
pub fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "on" | "1"
    )
}

fn strip_inline_comment(value: &str) -> &str {
    // configparser only treats `;` as an inline comment after whitespace.
    match value.find(" ;").or_else(|| value.find("\t;")) {
        Some(pos) => value.get(..pos).unwrap_or(value).trim_end(),
        None => value,
    }
}

/// The jail configuration files in fail2ban's reading order.
pub fn reading_order(config_dir: &Path) -> Vec<PathBuf> {
    let sorted = |ext: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(config_dir.join("jail.d"))
            .map(|it| {
                it.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.ends_with(ext) && !n.starts_with('.'))
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut out = vec![config_dir.join("jail.conf")];
    out.extend(sorted(".conf"));
    out.push(config_dir.join("jail.local"));
    out.extend(sorted(".local"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_file_in_fail2bans_order_wins_and_default_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("jail.d")).unwrap();
        std::fs::write(
            d.join("jail.conf"),
            "[INCLUDES]\nbefore = paths.conf\n[DEFAULT]\nbantime = 10m\nmaxretry = 5 ; inline\n\
             # comment\n[sshd]\nport = ssh\nlogpath = /a\n   /b\n[apache]\nenabled = false\n",
        )
        .unwrap();
        std::fs::write(
            d.join("jail.local"),
            "[sshd]\nenabled = true\nbantime: 1h\n",
        )
        .unwrap();
        std::fs::write(d.join("jail.d/sshd.local"), "[sshd]\nbantime = 2h\n").unwrap();
        std::fs::write(d.join("jail.d/a.conf"), "[sshd]\nbantime = 1m\n").unwrap();
        let f = JailFiles::read(d);
        assert_eq!(f.jails(), ["sshd", "apache"]);
        let (s, default) = f.source("sshd", "bantime").unwrap();
        assert_eq!((s.value.as_str(), default), ("2h", false));
        assert_eq!(s.file, d.join("jail.d/sshd.local"));
        let (s, default) = f.source("sshd", "maxretry").unwrap();
        assert_eq!((s.value.as_str(), default), ("5", true));
        assert_eq!(f.source("sshd", "logpath").unwrap().0.value, "/a\n/b");
        assert!(f.enabled("sshd"));
        assert!(!f.enabled("apache"));
    }
}
