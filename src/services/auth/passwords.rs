//! Password hashing with argon2id on the blocking pool, and verification that takes as long
//! for an unknown user as for a real one.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2 failed")]
    Argon2(#[source] argon2::password_hash::Error),
    #[error("the hashing task did not finish")]
    Task(#[from] tokio::task::JoinError),
}

/// The PHC string of a fresh argon2id hash of `password`.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(PasswordError::Argon2)
    })
    .await?
}

/// Verifies against the stored hash; with no user, verifies against a fixed dummy hash so that
/// the answer takes as long as for a real user (no user enumeration by timing).
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, PasswordError> {
    Ok(tokio::task::spawn_blocking(move || {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$YmFuZ3VpZHVtbXlzYWx0$0ZlJ6lN2FmYb2s1CkVJq7mP0yJ8y4lq2Qq0c8eYw6Xg";
        let real = stored.is_some();
        let text = stored.unwrap_or_else(|| DUMMY.to_string());
        let ok = PasswordHash::new(&text)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        real && ok
    })
    .await?)
}
