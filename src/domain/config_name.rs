//! Names of fail2ban filter and action files (`filter.d/NAME.conf`, `action.d/NAME.conf`) as
//! BanGUI accepts them from outside: 1..=64 characters of `[A-Za-z0-9._-]`, not starting with a
//! dot, never `..` (so no `/`, no NUL, no way out of the directory). Only the syntax is checked.

use std::fmt;

use super::DomainError;

/// A syntactically valid filter or action name (the file stem).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigName(String);

impl ConfigName {
    pub const MAX_LEN: usize = 64;
    /// [`ConfigName::parse`]'s rule as a lookaround-free pattern (for the OpenAPI document,
    /// with `maxLength` [`ConfigName::MAX_LEN`]).
    pub const PATTERN: &str = r"^[A-Za-z0-9_-](\.?[A-Za-z0-9_-])*\.?$";

    /// Parses `text` as the name of a filter or action; `field` names the parameter in errors.
    pub fn parse(field: &'static str, text: &str) -> Result<ConfigName, DomainError> {
        if text.is_empty() {
            return Err(DomainError::new(field, text, "a name is required"));
        }
        if text.len() > Self::MAX_LEN {
            return Err(DomainError::new(
                field,
                text,
                format!("at most {} characters", Self::MAX_LEN),
            ));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(DomainError::new(
                field,
                text,
                "only letters, digits, '.', '_' and '-' are allowed (no '/', no NUL)",
            ));
        }
        if text.starts_with('.') || text.contains("..") {
            return Err(DomainError::new(
                field,
                text,
                "must not start with '.' or contain '..'",
            ));
        }
        Ok(ConfigName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConfigName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_of_the_package_are_accepted() {
        for n in [
            "sshd",
            "nginx-http-auth",
            "3proxy",
            "apache-auth",
            "a.b_c-d",
        ] {
            assert!(ConfigName::parse("filter", n).is_ok(), "{n}");
        }
    }

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        let long = "a".repeat(65);
        for n in [
            "",
            "..",
            "a/b",
            "../x",
            "a\0b",
            ".hidden",
            "a..b",
            "x y",
            long.as_str(),
        ] {
            assert!(ConfigName::parse("filter", n).is_err(), "{n:?}");
        }
        assert!(ConfigName::parse("filter", &"a".repeat(64)).is_ok());
    }
}
