//! Users, roles and passwords as values: a [`Role`] ladder (viewer < operator < admin), a
//! checked [`Username`] and the password policy. Hashing and storage live elsewhere.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// What a user (or a token) may do. Ordered: a higher role can do everything a lower one can.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything that is not administration.
    Viewer,
    /// Also bans and unbans, starts, stops and reloads jails, edits ignore lists.
    Operator,
    /// Also manages users, reads the audit log and changes server settings.
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Self::Viewer),
            "operator" => Ok(Self::Operator),
            "admin" => Ok(Self::Admin),
            _ => Err(DomainError::new(
                "role",
                text,
                "allowed: viewer, operator, admin",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }
}

/// A login name: 3 to 64 characters of letters, digits and `. _ - @`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        let ok_chars = t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if !(3..=64).contains(&t.len()) || !ok_chars {
            return Err(DomainError::new(
                "username",
                text,
                "use 3 to 64 characters: letters, digits, '.', '_', '-' or '@'",
            ));
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The "two kinds of characters" rule of [`NewPassword`] as an unanchored pattern (for the
/// OpenAPI document): somewhere two neighbouring characters are of different kinds, which is
/// the case exactly when not every character is of the same kind.
pub const PASSWORD_KINDS_PATTERN: &str =
    r"[a-z][^a-z]|[^a-z][a-z]|[A-Z][^A-Z]|[^A-Z][A-Z]|[0-9][^0-9]|[^0-9][0-9]";

/// A password that meets the policy: at least 10 characters (at most 1024), not only one kind
/// of character (the kinds are ASCII lower case, ASCII upper case, ASCII digits and everything
/// else), and not the user name.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(text: &str, username: &Username) -> Result<Self, DomainError> {
        let hidden = format!("<{} characters>", text.chars().count());
        let len = text.chars().count();
        if !(10..=1024).contains(&len) {
            return Err(DomainError::new(
                "password",
                &hidden,
                "use 10 to 1024 characters",
            ));
        }
        let classes = [
            text.chars().any(|c| c.is_ascii_lowercase()),
            text.chars().any(|c| c.is_ascii_uppercase()),
            text.chars().any(|c| c.is_ascii_digit()),
            text.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        if classes.iter().filter(|b| **b).count() < 2 {
            return Err(DomainError::new(
                "password",
                &hidden,
                "mix at least two kinds of characters (lower case, upper case, digits, symbols)",
            ));
        }
        if text.eq_ignore_ascii_case(username.as_str()) {
            return Err(DomainError::new(
                "password",
                &hidden,
                "must differ from the user name",
            ));
        }
        Ok(Self(text.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_form_a_ladder() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert_eq!(Role::parse("Operator").ok(), Some(Role::Operator));
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn usernames_are_short_and_plain() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("ops@example.org").is_ok());
        assert!(Username::parse("al").is_err());
        assert!(Username::parse("alice smith").is_err());
        assert!(Username::parse("<script>").is_err());
    }

    #[test]
    fn the_password_policy_rejects_weak_passwords_without_echoing_them() {
        let user = Username::parse("alice").expect("valid");
        for weak in ["short1A", "alllowercaseletters", "1234567890123"] {
            let err = NewPassword::parse(weak, &user)
                .err()
                .expect("weak password rejected");
            assert!(!err.to_string().contains(weak), "{err}");
        }
        assert!(NewPassword::parse("correct horse battery", &user).is_ok());
        assert!(
            NewPassword::parse("Alice12345", &Username::parse("alice12345").expect("valid"))
                .is_err()
        );
    }

    /// The kinds are ASCII-defined, as the document's pattern states them: letters outside
    /// ASCII are "anything else", so ten of them are one kind and one ASCII letter makes two.
    #[test]
    fn character_kinds_are_ascii_lower_upper_digit_and_anything_else() {
        let user = Username::parse("alice").expect("valid");
        assert!(NewPassword::parse("ÄÖÜäöüßÄÖÜ", &user).is_err());
        assert!(NewPassword::parse("ÄÖÜäöüßÄÖa", &user).is_ok());
        assert!(NewPassword::parse("中中中中中中中中中a", &user).is_ok());
        assert!(NewPassword::parse("!!!!!!!!!!", &user).is_err());
    }
}
