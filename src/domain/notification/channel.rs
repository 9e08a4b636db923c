//! Channel configuration: where messages go. Each kind has its public settings (URLs, room,
//! chat, SMTP server) and its secrets (signing key, tokens, password, a chat webhook's URL,
//! which is itself a credential). Secrets are write-only: the API accepts them and reports only
//! whether each is set. Every base URL is configurable, so a self-hosted server (or a test's
//! local receiver) can stand in for the public one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::DomainError;

/// Longest URL, address or identifier accepted.
const MAX_TEXT: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Webhook,
    Ntfy,
    Chat,
    Matrix,
    Telegram,
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Ntfy => "ntfy",
            Self::Chat => "chat",
            Self::Matrix => "matrix",
            Self::Telegram => "telegram",
            Self::Email => "email",
        }
    }

    /// The secrets this kind knows, and whether each is required.
    pub fn secrets(self) -> &'static [(&'static str, bool)] {
        match self {
            Self::Webhook => &[("signing_secret", true)],
            Self::Ntfy => &[("access_token", false)],
            Self::Chat => &[("webhook_url", true)],
            Self::Matrix => &[("access_token", true)],
            Self::Telegram => &[("bot_token", true)],
            Self::Email => &[("password", false)],
        }
    }
}

/// Which dialect of incoming webhook a chat channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatFlavor {
    /// Slack and Mattermost: `{"text": ...}`.
    Slack,
    Mattermost,
    /// Discord: `{"content": ...}`.
    Discord,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    Starttls,
    /// TLS from the first byte, usually port 465.
    Tls,
    /// No encryption: only for a relay on the same host or a test receiver.
    Plain,
}

/// The public part of a channel's configuration, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelConfig {
    /// JSON POSTed to `url`, signed with HMAC-SHA256 over `timestamp.body`.
    Webhook {
        #[schema(schema_with = super::schema::url)]
        url: String,
    },
    /// A message to `base_url/topic` (e.g. `https://ntfy.sh`).
    Ntfy {
        #[schema(schema_with = super::schema::url)]
        base_url: String,
        #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
        topic: String,
    },
    /// A Slack, Mattermost or Discord incoming webhook; its URL is the secret `webhook_url`.
    Chat { flavor: ChatFlavor },
    /// An `m.notice` to a room through the client-server API.
    Matrix {
        #[schema(schema_with = super::schema::url)]
        homeserver: String,
        #[schema(schema_with = super::schema::room)]
        room_id: String,
    },
    /// `sendMessage` of the Telegram Bot API (`api_base` defaults to the public one).
    Telegram {
        #[serde(default = "telegram_api")]
        #[schema(schema_with = super::schema::url)]
        api_base: String,
        #[schema(schema_with = super::schema::token)]
        chat_id: String,
    },
    /// An e-mail through an SMTP server.
    Email {
        #[schema(schema_with = super::schema::host)]
        host: String,
        #[schema(minimum = 1, maximum = 65535)]
        port: u16,
        security: SmtpSecurity,
        #[serde(default)]
        #[schema(schema_with = super::schema::optional_user)]
        username: Option<String>,
        #[schema(schema_with = super::schema::email)]
        from: String,
        #[schema(schema_with = super::schema::email_list)]
        to: Vec<String>,
    },
}

fn telegram_api() -> String {
    "https://api.telegram.org".to_string()
}

use super::schema::check;

/// Checks `text` against [`super::schema::URL_PATTERN`]; returns it without a trailing slash.
pub fn http_url(field: &'static str, text: &str) -> Result<String, DomainError> {
    if text.len() > MAX_TEXT || !check::url(text) {
        return Err(DomainError::new(
            field,
            text,
            "expected an http:// or https:// URL: host of letters, digits, '.' and '-', optional port, printable path, at most 2048 characters",
        ));
    }
    Ok(text.trim_end_matches('/').to_string())
}

fn exact(
    field: &'static str,
    text: &str,
    ok: impl Fn(&str) -> bool,
    what: &str,
) -> Result<String, DomainError> {
    if ok(text) {
        Ok(text.to_string())
    } else {
        Err(DomainError::new(field, text, format!("expected {what}")))
    }
}

impl ChannelConfig {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Webhook { .. } => ChannelKind::Webhook,
            Self::Ntfy { .. } => ChannelKind::Ntfy,
            Self::Chat { .. } => ChannelKind::Chat,
            Self::Matrix { .. } => ChannelKind::Matrix,
            Self::Telegram { .. } => ChannelKind::Telegram,
            Self::Email { .. } => ChannelKind::Email,
        }
    }

    /// Checks every field; returns the configuration in canonical form.
    pub fn validated(self) -> Result<Self, DomainError> {
        Ok(match self {
            Self::Webhook { url } => Self::Webhook {
                url: http_url("config.url", &url)?,
            },
            Self::Ntfy { base_url, topic } => Self::Ntfy {
                base_url: http_url("config.base_url", &base_url)?,
                topic: exact(
                    "config.topic",
                    &topic,
                    |t| {
                        (1..=64).contains(&t.len())
                            && t.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                    },
                    "1 to 64 letters, digits, _ or -",
                )?,
            },
            Self::Chat { flavor } => Self::Chat { flavor },
            Self::Matrix {
                homeserver,
                room_id,
            } => Self::Matrix {
                homeserver: http_url("config.homeserver", &homeserver)?,
                room_id: exact(
                    "config.room_id",
                    &room_id,
                    check::room,
                    "a room id such as !abc:example.org (printable ASCII, at most 255)",
                )?,
            },
            Self::Telegram { api_base, chat_id } => Self::Telegram {
                api_base: http_url("config.api_base", &api_base)?,
                chat_id: exact(
                    "config.chat_id",
                    &chat_id,
                    |t| check::printable(t, 1, 64),
                    "1 to 64 printable ASCII characters",
                )?,
            },
            Self::Email {
                host,
                port,
                security,
                username,
                from,
                to,
            } => {
                if port == 0 {
                    return Err(DomainError::new("config.port", "0", "expected 1 to 65535"));
                }
                if to.is_empty() || to.len() > 20 {
                    return Err(DomainError::new(
                        "config.to",
                        &to.len().to_string(),
                        "expected 1 to 20 recipients",
                    ));
                }
                let mailbox =
                    |field, text: &str| exact(field, text, check::email, "an e-mail address");
                Self::Email {
                    host: exact("config.host", &host, check::host, "a host name")?,
                    port,
                    security,
                    username: match username.as_deref() {
                        None | Some("") => None,
                        Some(u) => Some(exact(
                            "config.username",
                            u,
                            |t| check::printable(t, 1, 255),
                            "printable ASCII, at most 255",
                        )?),
                    },
                    from: mailbox("config.from", &from)?,
                    to: to
                        .iter()
                        .map(|t| mailbox("config.to", t))
                        .collect::<Result<_, _>>()?,
                }
            }
        })
    }
}

/// A channel's stored secrets by name. `Debug` shows names only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// A change to one secret: a new value, or `None` to clear it.
pub type SecretUpdate = BTreeMap<String, Option<String>>;

impl Secrets {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Applies `update` for a channel of `kind`: absent names are kept, `None` clears, names
    /// that are not secrets of this kind are ignored. A required secret may stay unset (the
    /// channel is then shown with it unset and its deliveries fail naming it).
    pub fn updated(&self, kind: ChannelKind, update: &SecretUpdate) -> Result<Self, DomainError> {
        // Every given value must be well-formed, even one this kind ignores.
        if let Some((name, _)) = update
            .iter()
            .find(|(_, v)| v.as_deref().is_some_and(|v| !check::secret(v)))
        {
            return Err(DomainError::new(
                "secrets",
                name,
                "expected 1 to 2048 characters without control characters",
            ));
        }
        let known = kind.secrets();
        let mut out = BTreeMap::new();
        for (name, _) in known {
            if let Some(value) = self.0.get(*name) {
                out.insert((*name).to_string(), value.clone());
            }
            match update.get(*name) {
                None => {}
                Some(None) => {
                    out.remove(*name);
                }
                Some(Some(v)) => {
                    out.insert((*name).to_string(), v.clone());
                }
            }
        }
        Ok(Self(out))
    }

    /// Which secrets of `kind` are set, for display.
    pub fn presence(&self, kind: ChannelKind) -> BTreeMap<String, bool> {
        kind.secrets()
            .iter()
            .map(|(name, _)| ((*name).to_string(), self.0.contains_key(*name)))
            .collect()
    }
}

/// A stored channel with everything needed to send to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    pub config: ChannelConfig,
    pub secrets: Secrets,
    pub rules: super::rules::Rules,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A channel's name: 1 to 100 characters without control characters, not starting or ending
/// with a blank (the pattern of the API's schema).
pub fn channel_name(text: &str) -> Result<String, DomainError> {
    let edges_ok = text.chars().next().is_some_and(|c| !c.is_whitespace())
        && text.chars().last().is_some_and(|c| !c.is_whitespace());
    if !edges_ok || text.chars().count() > 100 || text.chars().any(char::is_control) {
        return Err(DomainError::new(
            "name",
            text,
            "expected 1 to 100 characters without control characters, not starting or ending with a blank",
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host_and_lose_their_trailing_slash() {
        assert_eq!(
            http_url("u", "https://ntfy.sh/").unwrap(),
            "https://ntfy.sh"
        );
        assert!(http_url("u", "file:///etc/passwd").is_err());
        assert!(http_url("u", "not a url").is_err());
    }

    #[test]
    fn secrets_are_kept_set_or_cleared_and_other_kinds_names_ignored() {
        let kind = ChannelKind::Webhook;
        let set = Secrets::default()
            .updated(
                kind,
                &SecretUpdate::from([
                    ("signing_secret".into(), Some("k".into())),
                    ("password".into(), Some("x".into())),
                ]),
            )
            .unwrap();
        assert_eq!(set.0.len(), 1, "password is not a webhook secret");
        let kept = set.updated(kind, &SecretUpdate::new()).unwrap();
        assert_eq!(kept.get("signing_secret"), Some("k"));
        let cleared = set
            .updated(kind, &SecretUpdate::from([("signing_secret".into(), None)]))
            .unwrap();
        assert_eq!(cleared.presence(kind).get("signing_secret"), Some(&false));
        assert!(
            set.updated(
                kind,
                &SecretUpdate::from([("signing_secret".into(), Some("a\nb".into()))])
            )
            .is_err()
        );
        assert_eq!(
            format!("{set:?}"),
            "[\"signing_secret\"]",
            "Debug hides values"
        );
    }

    #[test]
    fn email_configuration_checks_addresses() {
        let config = ChannelConfig::Email {
            host: "localhost".into(),
            port: 2525,
            security: SmtpSecurity::Plain,
            username: Some(String::new()),
            from: "bangui@example.org".into(),
            to: vec!["ops@example.org".into()],
        };
        assert!(matches!(
            config.clone().validated().unwrap(),
            ChannelConfig::Email { username: None, .. }
        ));
        let ChannelConfig::Email {
            host,
            port,
            security,
            from,
            ..
        } = config
        else {
            unreachable!()
        };
        let bad = ChannelConfig::Email {
            host,
            port,
            security,
            username: None,
            from,
            to: vec!["not-an-address".into()],
        };
        assert_eq!(bad.validated().unwrap_err().field, "config.to");
    }
}
