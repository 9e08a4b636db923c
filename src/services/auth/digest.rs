//! The keyed digest of session and API tokens (HMAC-SHA256 with the session secret), the only
//! form in which they are stored, so that a copy of the database lets nobody log in.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Digests credentials with the session secret as key.
pub struct CredentialDigest {
    key: SecretSlice<u8>,
}

impl CredentialDigest {
    pub fn new(secret: &SecretString) -> Self {
        Self {
            key: secret.expose_secret().as_bytes().to_vec().into(),
        }
    }

    /// Hex HMAC-SHA256 of `token`.
    pub fn of(&self, token: &str) -> String {
        let key = self.key.expose_secret();
        let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
            // HMAC accepts keys of any length; this branch exists only to avoid a panic path.
            use sha2::Digest;
            return hex::encode(Sha256::digest([key, token.as_bytes()].concat()));
        };
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_depend_on_the_secret_and_the_token() {
        let a = CredentialDigest::new(&SecretString::from("a".repeat(32)));
        let b = CredentialDigest::new(&SecretString::from("b".repeat(32)));
        assert_eq!(a.of("t"), a.of("t"));
        assert_ne!(a.of("t"), a.of("u"));
        assert_ne!(a.of("t"), b.of("t"));
        assert_eq!(a.of("t").len(), 64);
    }
}
