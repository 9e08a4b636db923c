//! Value types parsed at the edge. Untrusted text becomes one of these (or a [`DomainError`])
//! before any service sees it, so services cannot receive garbage. Nothing here imports the
//! rest of the application.

pub mod auth;

/// Input that does not make a valid domain value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid {field}: {value:?}: {reason}")]
pub struct DomainError {
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl DomainError {
    pub fn new(field: &'static str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field,
            value: value.into(),
            reason: reason.into(),
        }
    }
}
