//! The audit trail: every state-changing call records who did what to which target and how it
//! ended. Writing the record never changes the outcome of the call: a failure to write is
//! logged, not returned.

use serde_json::Value;
use sqlx::SqlitePool;

use crate::db::{self, audit};

/// Who acted, as the audit log shows it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub auth: Option<&'static str>,
    pub client_ip: Option<String>,
}

#[derive(Clone)]
pub struct AuditService {
    db: SqlitePool,
}

impl AuditService {
    pub fn new(db: SqlitePool) -> Self {
        Self { db }
    }

    /// Records one action; `result` is `"ok"` or an error code.
    pub async fn record(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        result: &str,
        details: Option<&Value>,
    ) {
        let details = details.map(Value::to_string);
        let entry = audit::NewAudit {
            at: db::now_epoch(),
            actor: &actor.name,
            auth: actor.auth,
            client_ip: actor.client_ip.as_deref(),
            action,
            target,
            result,
            details: details.as_deref(),
        };
        if let Err(e) = audit::insert(&self.db, &entry).await {
            tracing::error!(error = %e, action, "could not write the audit record");
        }
    }

    pub async fn page(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<audit::AuditRow>, i64), sqlx::Error> {
        audit::page(&self.db, limit, offset).await
    }
}
