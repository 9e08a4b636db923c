//! The typed fail2ban API the dashboard needs, on top of [`Fail2banClient::call`]: jails and
//! their status, bans and unbans, jail and server settings. Every IP and jail argument is a
//! validated domain value, so nothing unchecked reaches the socket. Commands an older fail2ban
//! (0.11 … 1.1) lacks degrade to an equivalent or to [`Fail2banError::Unsupported`]. This module
//! must not know about HTTP or databases.

use std::net::IpAddr;
use std::path::PathBuf;

use super::client::{Fail2banClient, Fail2banError};
use super::protocol::PyValue;
use super::types::{
    self, ActiveBan, JailCounters, JailSettings, JailStatus, ServerSettingUpdate, ServerSettings,
    shape,
};
use crate::domain::{BanIp, IgnoreTarget, JailName};

fn protocol(what: &str, value: &PyValue) -> Fail2banError {
    Fail2banError::Protocol(shape(what, value))
}

fn int(what: &str, value: PyValue) -> Result<i64, Fail2banError> {
    value.as_i64().ok_or_else(|| protocol(what, &value))
}

fn text(what: &str, value: PyValue) -> Result<String, Fail2banError> {
    match value {
        PyValue::Str(s) => Ok(s),
        other => other
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| protocol(what, &other)),
    }
}

fn strings(what: &str, value: PyValue) -> Result<Vec<String>, Fail2banError> {
    types::strings(&value).ok_or_else(|| protocol(what, &value))
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

impl Fail2banClient {
    async fn unsupported(&self, command: &str) -> Fail2banError {
        Fail2banError::Unsupported {
            command: command.to_string(),
            version: self.version().await.unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// Whether the server is at least `min` (unknown versions are assumed recent).
    async fn at_least(&self, min: (u32, u32, u32)) -> Result<bool, Fail2banError> {
        let v = self.version().await?;
        Ok(types::version_tuple(&v) >= min)
    }

    /// Names of the running jails.
    pub async fn jails(&self) -> Result<Vec<String>, Fail2banError> {
        let v = self.call(&["status"]).await?;
        types::parse_jail_list(&v).ok_or_else(|| protocol("status", &v))
    }

    /// `Ok` if `jail` is running, else [`Fail2banError::UnknownJail`].
    pub async fn ensure_jail(&self, jail: &JailName) -> Result<(), Fail2banError> {
        if self.jails().await?.iter().any(|j| j == jail.as_str()) {
            Ok(())
        } else {
            Err(Fail2banError::UnknownJail(jail.to_string()))
        }
    }

    /// `status JAIL`: counters, files and the banned addresses.
    pub async fn jail_status(&self, jail: &JailName) -> Result<JailStatus, Fail2banError> {
        let v = self.call(&["status", jail.as_str()]).await?;
        let (status, bad) = types::parse_jail_status(&v).ok_or_else(|| protocol("status", &v))?;
        if !bad.is_empty() {
            tracing::warn!(jail = %jail, entries = ?bad, "fail2ban lists bans that are not IP addresses");
        }
        Ok(status)
    }

    /// `status JAIL short`: the counters only (no banned list is transferred).
    pub async fn jail_counters(&self, jail: &JailName) -> Result<JailCounters, Fail2banError> {
        let v = self.call(&["status", jail.as_str(), "short"]).await?;
        types::parse_jail_status(&v)
            .map(|(s, _)| s.counters)
            .ok_or_else(|| protocol("status short", &v))
    }

    /// Active bans of `jail` with start and end (`get JAIL banip --with-time`, fail2ban ≥ 0.11.1).
    pub async fn active_bans(&self, jail: &JailName) -> Result<Vec<ActiveBan>, Fail2banError> {
        if !self.at_least((0, 11, 1)).await? {
            return Err(self.unsupported("get JAIL banip --with-time").await);
        }
        let v = self
            .call(&["get", jail.as_str(), "banip", "--with-time"])
            .await?;
        let lines = strings("banip --with-time", v)?;
        let mut out = Vec::with_capacity(lines.len());
        for line in &lines {
            match types::parse_with_time(jail.as_str(), line) {
                Some(ban) => out.push(ban),
                None => tracing::warn!(jail = %jail, line, "unreadable ban line from fail2ban"),
            }
        }
        Ok(out)
    }

    /// Every jail's banned addresses (networks left out; see [`Self::banned_all_entries`]).
    pub async fn banned_all(&self) -> Result<Vec<(String, Vec<IpAddr>)>, Fail2banError> {
        Ok(self
            .banned_all_entries()
            .await?
            .into_iter()
            .map(|(jail, entries)| {
                let ips = entries
                    .iter()
                    .filter_map(|e| e.trim().parse::<IpAddr>().ok())
                    .map(|ip| ip.to_canonical())
                    .collect();
                (jail, ips)
            })
            .collect())
    }

    /// Every jail's banned entries as fail2ban lists them, networks included (`banned`; on
    /// fail2ban < 0.11.2, which lacks it, each jail's `status`, which lists addresses only).
    pub async fn banned_all_entries(&self) -> Result<Vec<(String, Vec<String>)>, Fail2banError> {
        match self.call(&["banned"]).await {
            Ok(v) => types::parse_banned_all_entries(&v).ok_or_else(|| protocol("banned", &v)),
            Err(e) if e.is_invalid_command() => {
                let mut out = Vec::new();
                for jail in self.jails().await? {
                    let name = JailName::parse(&jail)?;
                    let banned = self.jail_status(&name).await?.banned;
                    out.push((jail, banned.iter().map(IpAddr::to_string).collect()));
                }
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }

    /// The jails that currently ban `ip`.
    pub async fn jails_banning(&self, ip: BanIp) -> Result<Vec<String>, Fail2banError> {
        let text = ip.to_string();
        match self.call(&["banned", &text]).await {
            Ok(v) => {
                let first = v
                    .as_list()
                    .and_then(|l| l.first())
                    .ok_or_else(|| protocol("banned IP", &v))?;
                strings("banned IP", first.clone())
            }
            Err(e) if e.is_invalid_command() => Ok(self
                .banned_all()
                .await?
                .into_iter()
                .filter(|(_, ips)| ips.contains(&ip.ip()))
                .map(|(jail, _)| jail)
                .collect()),
            Err(e) => Err(e),
        }
    }

    /// Bans `ip` in `jail`; `true` if it was not banned there before.
    pub async fn ban(&self, jail: &JailName, ip: BanIp) -> Result<bool, Fail2banError> {
        let v = self
            .call(&["set", jail.as_str(), "banip", &ip.to_string()])
            .await?;
        Ok(int("banip", v)? > 0)
    }

    /// Unbans `ip` in `jail`; `true` if it was banned there.
    pub async fn unban(&self, jail: &JailName, ip: BanIp) -> Result<bool, Fail2banError> {
        let v = self
            .call(&["set", jail.as_str(), "unbanip", &ip.to_string()])
            .await?;
        Ok(int("unbanip", v)? > 0)
    }

    /// Unbans `ip` in every jail that bans it; returns those jails.
    pub async fn unban_everywhere(&self, ip: BanIp) -> Result<Vec<String>, Fail2banError> {
        let mut removed = Vec::new();
        for jail in self.jails_banning(ip).await? {
            let name = JailName::parse(&jail)?;
            match self.unban(&name, ip).await {
                Ok(true) => removed.push(jail),
                Ok(false) | Err(Fail2banError::UnknownJail(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// `unban --all`: lifts every ban of every jail; returns how many were lifted.
    pub async fn unban_all(&self) -> Result<u64, Fail2banError> {
        match self.call(&["unban", "--all"]).await {
            Ok(v) => Ok(int("unban --all", v)?.max(0) as u64),
            Err(e) if e.is_invalid_command() => Err(self.unsupported("unban --all").await),
            Err(e) => Err(e),
        }
    }

    /// Lifts every ban of one jail (its banned list, unbanned in batches); returns how many.
    pub async fn unban_all_in(&self, jail: &JailName) -> Result<u64, Fail2banError> {
        let banned = strings("banip", self.call(&["get", jail.as_str(), "banip"]).await?)?;
        let mut count = 0u64;
        for chunk in banned.chunks(500) {
            let mut words = vec!["set", jail.as_str(), "unbanip"];
            words.extend(chunk.iter().map(String::as_str));
            count += int("unbanip", self.call(&words).await?)?.max(0) as u64;
        }
        Ok(count)
    }

    async fn get(&self, jail: &JailName, key: &str) -> Result<PyValue, Fail2banError> {
        self.call(&["get", jail.as_str(), key]).await
    }

    /// A jail setting that an older server may not know: `None` then.
    async fn get_optional(
        &self,
        jail: &JailName,
        key: &str,
    ) -> Result<Option<PyValue>, Fail2banError> {
        match self.get(jail, key).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_invalid_command() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The settings of a running jail.
    pub async fn jail_settings(&self, jail: &JailName) -> Result<JailSettings, Fail2banError> {
        Ok(JailSettings {
            bantime: int("bantime", self.get(jail, "bantime").await?)?,
            findtime: int("findtime", self.get(jail, "findtime").await?)?,
            maxretry: int("maxretry", self.get(jail, "maxretry").await?)?,
            maxmatches: self
                .get_optional(jail, "maxmatches")
                .await?
                .and_then(|v| v.as_i64()),
            logpath: strings("logpath", self.get(jail, "logpath").await?)?,
            ignoreip: self.ignore_list(jail).await?,
            ignoreself: {
                let v = self.get(jail, "ignoreself").await?;
                v.as_bool().ok_or_else(|| protocol("ignoreself", &v))?
            },
            failregex: strings("failregex", self.get(jail, "failregex").await?)?,
            ignoreregex: strings("ignoreregex", self.get(jail, "ignoreregex").await?)?,
            datepattern: self
                .get_optional(jail, "datepattern")
                .await?
                .and_then(|v| types::parse_datepattern(&v)),
            actions: strings("actions", self.get(jail, "actions").await?)?,
            backend: self
                .get_optional(jail, "backend")
                .await?
                .and_then(|v| v.as_str().map(str::to_string)),
            idle: self
                .get_optional(jail, "idle")
                .await?
                .and_then(|v| v.as_bool()),
        })
    }

    /// A jail's ignore list (addresses, networks and whatever else fail2ban was given).
    pub async fn ignore_list(&self, jail: &JailName) -> Result<Vec<String>, Fail2banError> {
        strings("ignoreip", self.get(jail, "ignoreip").await?)
    }

    /// Adds an address or network to a jail's ignore list.
    pub async fn add_ignore(
        &self,
        jail: &JailName,
        target: &IgnoreTarget,
    ) -> Result<(), Fail2banError> {
        self.call(&["set", jail.as_str(), "addignoreip", &target.to_string()])
            .await
            .map(drop)
    }

    /// Removes an entry from a jail's ignore list, named as fail2ban lists it (the caller takes
    /// it from [`Self::ignore_list`]; it goes to the socket as one argument, never to a shell).
    pub async fn remove_ignore(&self, jail: &JailName, entry: &str) -> Result<(), Fail2banError> {
        self.call(&["set", jail.as_str(), "delignoreip", entry])
            .await
            .map(drop)
    }

    /// Whether the jail ignores the host's own addresses.
    pub async fn set_ignoreself(&self, jail: &JailName, on: bool) -> Result<(), Fail2banError> {
        let value = if on { "true" } else { "false" };
        self.call(&["set", jail.as_str(), "ignoreself", value])
            .await
            .map(drop)
    }

    /// Puts a jail to sleep (it keeps its bans but stops acting on new failures) or wakes it.
    pub async fn set_idle(&self, jail: &JailName, on: bool) -> Result<(), Fail2banError> {
        self.call(&["set", jail.as_str(), "idle", on_off(on)])
            .await
            .map(drop)
    }

    /// Starts a configured jail. `fail2ban-client start JAIL` only restarts a jail the server
    /// still knows; a stopped jail is brought back by a full `reload` (which starts every
    /// enabled jail of the configuration). `UnknownJail` if it is still not running after that.
    pub async fn start_jail(&self, jail: &JailName) -> Result<(), Fail2banError> {
        match self.run_client(&["start", jail.as_str()]).await {
            Ok(_) => Ok(()),
            Err(Fail2banError::Server { message, .. })
                if message.contains("does not exist") || message.contains("NOK") =>
            {
                self.run_client(&["reload"]).await?;
                self.ensure_jail(jail).await
            }
            Err(e) => Err(e),
        }
    }

    /// Whether fail2ban's configuration enables `jail` (read with `fail2ban-client -d`, which
    /// parses the configuration files and changes nothing on the server).
    pub async fn is_configured_jail(&self, jail: &JailName) -> Result<bool, Fail2banError> {
        let dump = self.run_client(&["-d"]).await?;
        let wanted = format!("['add', '{}',", jail.as_str());
        Ok(dump.lines().any(|l| l.trim_start().starts_with(&wanted)))
    }

    /// Reloads the configuration of one running jail or of the whole server (through
    /// `fail2ban-client`, which reads the configuration files).
    pub async fn reload(&self, jail: Option<&JailName>) -> Result<(), Fail2banError> {
        match jail {
            Some(j) => match self.run_client(&["reload", j.as_str()]).await {
                Ok(_) => Ok(()),
                Err(Fail2banError::Server { message, .. })
                    if message.contains("does not exist") =>
                {
                    Err(Fail2banError::UnknownJail(j.to_string()))
                }
                Err(e) => Err(e),
            },
            None => self.run_client(&["reload"]).await.map(drop),
        }
    }

    /// Stops a running jail (its bans are lifted by its actions).
    pub async fn stop_jail(&self, jail: &JailName) -> Result<(), Fail2banError> {
        self.call(&["stop", jail.as_str()]).await.map(drop)
    }

    /// Server-wide settings.
    pub async fn server_settings(&self) -> Result<ServerSettings, Fail2banError> {
        let get = |key: &'static str| async move { self.call(&["get", key]).await };
        Ok(ServerSettings {
            loglevel: text("loglevel", get("loglevel").await?)?,
            logtarget: text("logtarget", get("logtarget").await?)?,
            dbfile: {
                let v = get("dbfile").await?;
                if v.is_none() {
                    None
                } else {
                    Some(text("dbfile", v)?)
                }
            },
            dbpurgeage: int("dbpurgeage", get("dbpurgeage").await?)?,
            dbmaxmatches: int("dbmaxmatches", get("dbmaxmatches").await?)?,
            syslogsocket: match get("syslogsocket").await {
                Ok(v) => text("syslogsocket", v)?,
                Err(e) if e.is_invalid_command() => String::new(),
                Err(e) => return Err(e),
            },
        })
    }

    /// Changes one server setting after validating its value.
    pub async fn set_server_setting(
        &self,
        update: ServerSettingUpdate,
    ) -> Result<(), Fail2banError> {
        let (key, value) = update.validate()?;
        self.call(&["set", key, &value]).await.map(drop)
    }

    /// Reopens the log file (after rotation); returns fail2ban's answer.
    pub async fn flush_logs(&self) -> Result<String, Fail2banError> {
        text("flushlogs", self.call(&["flushlogs"]).await?)
    }

    /// fail2ban's database file; `None` when the database is disabled.
    pub async fn dbfile(&self) -> Result<Option<PathBuf>, Fail2banError> {
        let v = self.call(&["get", "dbfile"]).await?;
        if v.is_none() {
            return Ok(None);
        }
        Ok(Some(PathBuf::from(text("dbfile", v)?)))
    }
}
