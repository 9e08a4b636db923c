//! Jail names as BanGUI accepts them from outside: 1..=64 characters of `[A-Za-z0-9._@-]`.
//! Only the syntax is checked here; whether the jail runs is the fail2ban client's business.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A syntactically valid jail name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JailName(String);

impl JailName {
    pub const MAX_LEN: usize = 64;
    /// [`JailName::parse`]'s rule as a pattern without lookaround (for the OpenAPI document):
    /// 1 to 64 of `A-Za-z0-9._@-`, but not `.` or `..`.
    pub const PATTERN: &str = r"^([A-Za-z0-9_@-][A-Za-z0-9._@-]{0,63}|\.[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,62}|\.\.[A-Za-z0-9._@-]{1,62})$";

    pub fn parse(text: &str) -> Result<JailName, DomainError> {
        if text.is_empty() {
            return Err(DomainError::new("jail", text, "a jail name is required"));
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(DomainError::new(
                "jail",
                text,
                format!("at most {} characters", Self::MAX_LEN),
            ));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
        {
            return Err(DomainError::new(
                "jail",
                text,
                "only letters, digits, '.', '_', '@' and '-' are allowed",
            ));
        }
        if text == "." || text == ".." {
            return Err(DomainError::new("jail", text, "not a jail name"));
        }
        Ok(JailName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JailName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for JailName {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JailName::parse(s)
    }
}

impl TryFrom<String> for JailName {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        JailName::parse(&s)
    }
}

impl From<JailName> for String {
    fn from(j: JailName) -> String {
        j.0
    }
}

impl AsRef<str> for JailName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_jail_names_are_accepted() {
        for ok in [
            "manual-Jail",
            "nginx-http-auth",
            "blocklist-import",
            "sshd",
            "a.b_c@d",
        ] {
            assert_eq!(JailName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn paths_spaces_empty_and_overlong_names_are_rejected() {
        let long = "x".repeat(65);
        for bad in ["../x", "a b", "", "..", "a/b", "ä", long.as_str()] {
            assert_eq!(JailName::parse(bad).unwrap_err().field, "jail", "{bad}");
        }
        assert!(JailName::parse(&"x".repeat(64)).is_ok());
    }
}
