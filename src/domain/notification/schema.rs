//! The OpenAPI schemas of the notification inputs, each the exact rule the domain checks (the
//! checks in `channel.rs` and `rules.rs` are written by hand to match these patterns, so that
//! what the document allows is accepted and what it forbids is refused).

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::domain::JailName;

/// An http(s) URL: host of letters, digits, `.` and `-`, an optional port, a printable path.
pub const URL_PATTERN: &str = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$";
/// An e-mail address (the dot-atom subset).
pub const EMAIL_PATTERN: &str =
    r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$";
/// A host name or IPv4 address.
pub const HOST_PATTERN: &str = r"^[A-Za-z0-9.-]{1,255}$";
/// Printable ASCII without blanks.
pub const TOKEN_PATTERN: &str = r"^[!-~]{1,64}$";
/// A Matrix room id or alias.
pub const ROOM_PATTERN: &str = r"^[!#][!-~]*:[!-~]*$";
/// An ISO 3166-1 alpha-2 code, any case.
pub const COUNTRY_PATTERN: &str = r"^[A-Za-z]{2}$";
/// A secret's value: 1 to 2048 characters without control characters.
pub const SECRET_PATTERN: &str = r"^[^\x00-\x1f\x7f]{1,2048}$";

fn text(pattern: &str, max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(Some(max))
}

pub fn url() -> RefOr<Schema> {
    text(URL_PATTERN, 2048).build().into()
}

pub fn email() -> RefOr<Schema> {
    text(EMAIL_PATTERN, 320).build().into()
}

pub fn email_list() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(text(EMAIL_PATTERN, 320))
        .min_items(Some(1))
        .max_items(Some(20))
        .build()
        .into()
}

pub fn host() -> RefOr<Schema> {
    text(HOST_PATTERN, 255).build().into()
}

pub fn token() -> RefOr<Schema> {
    text(TOKEN_PATTERN, 64).build().into()
}

pub fn optional_user() -> RefOr<Schema> {
    text(r"^[!-~]{0,255}$", 255)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
        .into()
}

pub fn room() -> RefOr<Schema> {
    text(ROOM_PATTERN, 255).build().into()
}

pub fn jail_list() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(text(JailName::PATTERN, JailName::MAX_LEN))
        .max_items(Some(256))
        .build()
        .into()
}

pub fn country_list() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(text(COUNTRY_PATTERN, 2))
        .max_items(Some(256))
        .build()
        .into()
}

/// A secret: a new value, or null to clear it.
pub fn secret() -> RefOr<Schema> {
    text(SECRET_PATTERN, 2048)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "New value, or null to clear; absent keeps the stored value.",
        ))
        .build()
        .into()
}

/// Hand-written matchers for the patterns above.
pub mod check {
    fn host_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '.' || c == '-'
    }

    /// [`super::URL_PATTERN`].
    pub fn url(text: &str) -> bool {
        let Some(rest) = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
        else {
            return false;
        };
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        !host.is_empty()
            && host.chars().all(host_char)
            && port
                .is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            && path.chars().all(|c| ('!'..='~').contains(&c))
    }

    /// [`super::EMAIL_PATTERN`].
    pub fn email(text: &str) -> bool {
        let Some((local, domain)) = text.split_once('@') else {
            return false;
        };
        (1..=64).contains(&local.len())
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
            && domain.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    }

    /// [`super::HOST_PATTERN`].
    pub fn host(text: &str) -> bool {
        (1..=255).contains(&text.len()) && text.chars().all(host_char)
    }

    /// Printable ASCII without blanks, `min..=max` long.
    pub fn printable(text: &str, min: usize, max: usize) -> bool {
        (min..=max).contains(&text.len()) && text.chars().all(|c| ('!'..='~').contains(&c))
    }

    /// [`super::ROOM_PATTERN`].
    pub fn room(text: &str) -> bool {
        text.len() <= 255
            && (text.starts_with('!') || text.starts_with('#'))
            && text.contains(':')
            && printable(text, 1, 255)
    }

    /// [`super::SECRET_PATTERN`].
    pub fn secret(text: &str) -> bool {
        (1..=2048).contains(&text.chars().count())
            && !text.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}')
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_matchers_agree_with_their_patterns_on_edge_cases() {
        assert!(check::url("http://127.0.0.1:40123/hook?x=1"));
        assert!(check::url("https://ntfy.sh"));
        assert!(!check::url("https://ntfy.sh "));
        assert!(!check::url("ftp://example.org"));
        assert!(!check::url("http://:80/"));
        assert!(!check::url("http://h:123456"));
        assert!(check::email("ops@example.org"));
        assert!(!check::email("ops@example..org"));
        assert!(!check::email("ops"));
        assert!(check::room("!abc:example.org"));
        assert!(!check::room("abc:example.org"));
        assert!(check::secret("a b"));
        assert!(!check::secret("a\nb"));
        assert!(!check::secret(""));
    }
}
