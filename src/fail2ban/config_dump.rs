//! fail2ban's own reading of its configuration: `fail2ban-client -d` (the commands the client
//! would send to start every enabled jail, read into [`ConfigDump`]) and `fail2ban-client -t`
//! (its configuration test, read into [`ConfigTest`]). Both run as argument vectors with the
//! client's timeout against a given configuration directory; nothing here interprets fail2ban's
//! INI files itself, and nothing here changes the server.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::client::{Fail2banClient, Fail2banError};
use super::pyliteral::{self, Literal};

/// One enabled jail as `-d` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DumpedJail {
    pub backend: String,
    /// `set JAIL KEY VALUE` settings with a single value (`bantime`, `maxretry`, `usedns`, …).
    pub settings: BTreeMap<String, Value>,
    pub logpaths: Vec<String>,
    pub ignoreip: Vec<String>,
    pub actions: Vec<String>,
    pub failregex_count: usize,
    /// `start JAIL` is in the dump: the client would start it.
    pub starts: bool,
}

/// The parsed configuration of every enabled jail, plus what fail2ban logged while reading.
#[derive(Debug, Clone, Default)]
pub struct ConfigDump {
    pub jails: BTreeMap<String, DumpedJail>,
    /// Server-level `set KEY VALUE` lines (`loglevel`, `logtarget`, `dbpurgeage`, …).
    pub server: BTreeMap<String, Value>,
    /// ERROR/WARNING lines the client printed (jails it skipped, filters it could not read).
    pub problems: Vec<String>,
}

/// The outcome of `fail2ban-client -t`.
#[derive(Debug, Clone)]
pub struct ConfigTest {
    pub ok: bool,
    /// fail2ban's ERROR lines (without timestamps), or its whole output when it printed none.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl ConfigTest {
    pub fn message(&self) -> String {
        if self.errors.is_empty() {
            "fail2ban's configuration test failed".into()
        } else {
            self.errors.join("\n")
        }
    }
}

/// Keeps the message of a fail2ban log line (`2026-… fail2ban.x [pid]: ERROR   text`).
fn log_message(line: &str) -> (Option<&'static str>, String) {
    for level in ["ERROR", "WARNING", "CRITICAL"] {
        if let Some(pos) = line.find(&format!("]: {level}")) {
            let text = line.get(pos + 3 + level.len()..).unwrap_or_default().trim();
            let level = if level == "WARNING" {
                "WARNING"
            } else {
                "ERROR"
            };
            return (Some(level), text.to_string());
        }
    }
    (None, line.trim().to_string())
}

/// Reads the dump's lines; lines that are not commands are ignored.
pub fn parse_dump(stdout: &str, stderr: &str) -> ConfigDump {
    let mut dump = ConfigDump::default();
    for line in stdout.lines() {
        let Ok(Literal::List(words)) = pyliteral::parse(line.trim()) else {
            continue;
        };
        let text = |i: usize| words.get(i).and_then(Literal::as_str);
        match (text(0), words.len()) {
            (Some("add"), _) => {
                if let Some(jail) = text(1) {
                    let entry = dump.jails.entry(jail.to_string()).or_default();
                    entry.backend = text(2).unwrap_or("auto").to_string();
                }
            }
            (Some("start"), 2) => {
                if let Some(jail) = text(1) {
                    dump.jails.entry(jail.to_string()).or_default().starts = true;
                }
            }
            (Some("set"), 3) => {
                if let (Some(key), Some(value)) = (text(1), words.get(2)) {
                    dump.server.insert(key.to_string(), value.to_json());
                }
            }
            (Some("set" | "multi-set"), n) if n >= 3 => {
                let (Some(jail), Some(key)) = (text(1), text(2)) else {
                    continue;
                };
                let Some(entry) = dump.jails.get_mut(jail) else {
                    continue;
                };
                let args: Vec<&Literal> = words.iter().skip(3).collect();
                let strings = || -> Vec<String> {
                    args.iter()
                        .flat_map(|a| match a {
                            Literal::List(items) => items.clone(),
                            other => vec![(*other).clone()],
                        })
                        .filter_map(|a| a.as_str().map(str::to_string))
                        .collect()
                };
                match key {
                    "addlogpath" => {
                        if let Some(path) = args.first().and_then(|a| a.as_str()) {
                            entry.logpaths.push(path.to_string());
                        }
                    }
                    "addignoreip" => entry.ignoreip.extend(strings()),
                    "addaction" => {
                        if let Some(name) = args.first().and_then(|a| a.as_str()) {
                            entry.actions.push(name.to_string());
                        }
                    }
                    "addfailregex" => entry.failregex_count += strings().len(),
                    "action" | "addignoreregex" | "addjournalmatch" | "prefregex" => {}
                    _ if key.starts_with("add") || key.starts_with("del") => {}
                    _ => {
                        if let [single] = args.as_slice() {
                            entry.settings.insert(key.to_string(), single.to_json());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for line in stderr.lines().chain(stdout.lines()) {
        if let (Some(_), text) = log_message(line) {
            dump.problems.push(text);
        }
    }
    dump
}

/// Reads a `-t` run's output.
pub fn parse_test(success: bool, stdout: &str, stderr: &str) -> ConfigTest {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for line in stderr.lines().chain(stdout.lines()) {
        match log_message(line) {
            (Some("WARNING"), text) => warnings.push(text),
            (Some(_), text) if !text.starts_with("ERROR: test configuration failed") => {
                errors.push(text)
            }
            _ => {}
        }
    }
    if !success && errors.is_empty() {
        let all = format!("{stdout}\n{stderr}");
        let text = all.trim();
        errors.push(text.chars().take(2000).collect());
    }
    ConfigTest {
        ok: success,
        errors,
        warnings,
    }
}

impl Fail2banClient {
    /// `fail2ban-client -c DIR -d`: what fail2ban reads from the configuration in `dir`.
    pub async fn dump_config(&self, dir: &Path) -> Result<ConfigDump, Fail2banError> {
        let out = self.run_tool(dir, &["-d"]).await?;
        if !out.success && out.stdout.trim().is_empty() {
            return Err(Fail2banError::Server {
                class: "fail2ban-client -d".into(),
                message: parse_test(false, &out.stdout, &out.stderr).message(),
            });
        }
        Ok(parse_dump(&out.stdout, &out.stderr))
    }

    /// `fail2ban-client -c DIR -t`: fail2ban's own test of the configuration in `dir`.
    pub async fn test_config(&self, dir: &Path) -> Result<ConfigTest, Fail2banError> {
        let out = self.run_tool(dir, &["-t"]).await?;
        Ok(parse_test(out.success, &out.stdout, &out.stderr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_gives_each_jail_its_settings_paths_and_start() {
        let out = "['set', 'loglevel', 'INFO']\n['add', 'sshd', 'polling']\n\
            ['set', 'sshd', 'maxretry', 3]\n['set', 'sshd', 'bantime', '600']\n\
            ['set', 'sshd', 'bantime.increment', True]\n\
            ['set', 'sshd', 'addignoreip', '10.0.0.0/8', '192.0.2.1']\n\
            ['set', 'sshd', 'addlogpath', '/var/log/auth.log', 'head']\n\
            ['multi-set', 'sshd', 'addfailregex', ['a', 'b']]\n\
            ['set', 'sshd', 'addaction', 'dummy']\n['start', 'sshd']\n";
        let err = "2026-11-29 12:27:38,730 fail2ban.jailreader [1]: ERROR   Unable to read the filter 'x'\n";
        let dump = parse_dump(out, err);
        let sshd = &dump.jails["sshd"];
        assert_eq!(sshd.backend, "polling");
        assert_eq!(sshd.settings["maxretry"], 3);
        assert_eq!(sshd.settings["bantime"], "600");
        assert_eq!(sshd.settings["bantime.increment"], true);
        assert_eq!(sshd.ignoreip, ["10.0.0.0/8", "192.0.2.1"]);
        assert_eq!(sshd.logpaths, ["/var/log/auth.log"]);
        assert_eq!(sshd.actions, ["dummy"]);
        assert_eq!(sshd.failregex_count, 2);
        assert!(sshd.starts);
        assert_eq!(dump.server["loglevel"], "INFO");
        assert_eq!(dump.problems, ["Unable to read the filter 'x'"]);
    }

    #[test]
    fn a_failed_test_keeps_fail2bans_error_lines() {
        let err = "2026-11-29 12:27:44,153 fail2ban [6828]: ERROR   Failed during configuration: Have not found any log file for x jail\n\
                   2026-11-29 12:27:44,154 fail2ban [6828]: ERROR   ERROR: test configuration failed\n";
        let t = parse_test(false, "", err);
        assert!(!t.ok);
        assert_eq!(
            t.errors,
            ["Failed during configuration: Have not found any log file for x jail"]
        );
    }
}
