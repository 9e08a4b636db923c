//! How each kind of setting value is read: serde `deserialize_with` functions used by the
//! derived [`Settings`](super::Settings) structs. A value arrives as TOML (string, number, bool
//! or array) or as environment text; every function first reads it as [`Text`] and then checks
//! it. A refusal carries the value as given and what is allowed, which the loader joins with the
//! key the `config` crate reports into [`ConfigError::Invalid`](super::ConfigError::Invalid).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::LogFormat;

/// Separates the value from what is allowed inside a refusal's message; see [`refusal`].
pub(super) const FIELD_SEPARATOR: char = '\u{1f}';

/// A refusal: "`value` is not allowed; `allowed` is". The loader splits it again.
fn refusal<E: de::Error>(value: &str, allowed: &str) -> E {
    E::custom(format!("{value}{FIELD_SEPARATOR}{allowed}"))
}

/// One value as text: scalars as written, arrays joined with commas, surrounding space trimmed.
struct Text(String);

impl<'de> de::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean or list")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.trim().to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                let mut items = Vec::new();
                while let Some(Text(item)) = seq.next_element::<Text>()? {
                    items.push(item);
                }
                Ok(Text(items.join(",")))
            }
        }
        d.deserialize_any(V)
    }
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    <Text as de::Deserialize>::deserialize(d).map(|t| t.0)
}

fn uint<'de, D: Deserializer<'de>>(d: D, min: u64, max: u64) -> Result<u64, D::Error> {
    let v = text(d)?;
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(refusal(&v, &format!("an integer from {min} to {max}"))),
    }
}

/// An integer in `MIN..=MAX`.
pub fn integer<'de, D: Deserializer<'de>, const MIN: u64, const MAX: u64, T: TryFrom<u64>>(
    d: D,
) -> Result<T, D::Error> {
    let n = uint(d, MIN, MAX)?;
    T::try_from(n).map_err(|_| refusal(&n.to_string(), &format!("an integer from {MIN} to {MAX}")))
}

/// Whole seconds in `MIN..=MAX`.
pub fn seconds<'de, D: Deserializer<'de>, const MIN: u64, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    uint(d, MIN, MAX).map(Duration::from_secs)
}

/// Milliseconds in `MIN..=MAX`.
pub fn millis<'de, D: Deserializer<'de>, const MIN: u64, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    uint(d, MIN, MAX).map(Duration::from_millis)
}

/// Minutes in `MIN..=MAX`.
pub fn minutes<'de, D: Deserializer<'de>, const MIN: u64, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    uint(d, MIN, MAX).map(|m| Duration::from_secs(60 * m))
}

pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = text(d)?;
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(refusal(&v, "true or false")),
    }
}

pub fn host<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = text(d)?;
    let ok = v.parse::<IpAddr>().is_ok()
        || (!v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if ok {
        Ok(v)
    } else {
        Err(refusal(
            &v,
            "an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0",
        ))
    }
}

pub fn path<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    let v = text(d)?;
    if v.is_empty() || v.contains('\0') {
        return Err(refusal(&v, "a non-empty file system path"));
    }
    Ok(PathBuf::from(v))
}

/// A path short enough for a Unix socket address.
pub fn socket_path<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    let p = path(d)?;
    if p.as_os_str().len() >= 108 {
        return Err(refusal(
            &p.display().to_string(),
            "a Unix socket path shorter than 108 bytes",
        ));
    }
    Ok(p)
}

/// A path, or nothing when empty.
pub fn optional_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let v = text(d)?;
    Ok((!v.is_empty()).then(|| PathBuf::from(v)))
}

pub fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = text(d)?.trim_end_matches('/').to_string();
    match reqwest::Url::parse(&v) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(v),
        _ => Err(refusal(&v, "an http:// or https:// URL")),
    }
}

pub fn cron<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = text(d)?;
    if v.split_whitespace().count() != 6 {
        return Err(refusal(
            &v,
            "a 6-field cron expression (sec min hour day month weekday), e.g. `0 30 3 * * *`",
        ));
    }
    Ok(v)
}

/// A secret of at least 32 characters, or nothing when empty. A refusal shows only its length.
pub fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    let v = text(d)?;
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() < 32 {
        return Err(refusal(
            &format!("<{} characters hidden>", v.len()),
            "at least 32 characters, or empty to generate one",
        ));
    }
    Ok(Some(SecretString::from(v)))
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

pub fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let v = text(d)?;
    list(&v)
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    refusal(
                        &v,
                        "a comma-separated list of IP addresses or CIDR networks",
                    )
                })
        })
        .collect()
}

pub fn absolute_paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    let v = text(d)?;
    list(&v)
        .map(|item| {
            let p = PathBuf::from(item);
            if p.is_absolute() && !item.split('/').any(|c| c == "..") {
                Ok(p)
            } else {
                Err(refusal(
                    &v,
                    "a comma-separated list of absolute directories",
                ))
            }
        })
        .collect()
}

pub fn origins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = text(d)?;
    list(&v)
        .map(|item| match reqwest::Url::parse(item) {
            Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.path() == "/" => {
                Ok(item.trim_end_matches('/').to_string())
            }
            _ => Err(refusal(
                &v,
                "a comma-separated list of origins such as https://bangui.example.org",
            )),
        })
        .collect()
}

pub fn log_level<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = text(d)?;
    if v.is_empty() || tracing_subscriber::EnvFilter::try_new(&v).is_err() {
        return Err(refusal(
            &v,
            "trace, debug, info, warn, error or a tracing filter directive",
        ));
    }
    Ok(v)
}

pub fn log_format<'de, D: Deserializer<'de>>(d: D) -> Result<LogFormat, D::Error> {
    let v = text(d)?;
    match v.to_ascii_lowercase().as_str() {
        "auto" => Ok(LogFormat::Auto),
        "json" => Ok(LogFormat::Json),
        "pretty" | "text" => Ok(LogFormat::Pretty),
        _ => Err(refusal(&v, "auto, json or pretty")),
    }
}
