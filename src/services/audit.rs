//! The audit trail: every state-changing call records who did what to which target and how it
//! ended. Actions on fail2ban write their record first ([`AuditService::begin`], result
//! `pending`) and do not run when that write fails, so no change goes unrecorded; the outcome is
//! filled in afterwards ([`AuditService::finish`]). Other calls record after the fact
//! ([`AuditService::record`]), where a failure to write is logged, not returned.

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

/// The result of a record whose action has not ended yet.
pub const PENDING: &str = "pending";

/// A record written by [`AuditService::begin`], waiting for its result.
#[derive(Debug)]
#[must_use = "finish the audit record with the action's result"]
pub struct AuditIntent {
    id: i64,
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

    /// Records the intent to act (result `pending`); the caller must not act on an error.
    pub async fn begin(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        details: Option<&Value>,
    ) -> Result<AuditIntent, sqlx::Error> {
        let details = details.map(Value::to_string);
        let entry = audit::NewAudit {
            at: db::now_epoch(),
            actor: &actor.name,
            auth: actor.auth,
            client_ip: actor.client_ip.as_deref(),
            action,
            target,
            result: PENDING,
            details: details.as_deref(),
        };
        let id = audit::insert(&self.db, &entry).await?;
        Ok(AuditIntent { id })
    }

    /// Records how an action begun with [`Self::begin`] ended; a failure to write is logged
    /// (the record then keeps `pending`, which still shows that the action was attempted).
    pub async fn finish(&self, intent: AuditIntent, result: &str) {
        if let Err(e) = audit::set_result(&self.db, intent.id, result).await {
            tracing::error!(error = %e, id = intent.id, result, "could not write the audit result");
        }
    }

    /// Like [`Self::finish`], replacing the record's details with what the action did (a
    /// configuration change's before/after diff is known only once it ran).
    pub async fn finish_with_details(&self, intent: AuditIntent, result: &str, details: &Value) {
        let text = details.to_string();
        if let Err(e) = audit::set_result_details(&self.db, intent.id, result, &text).await {
            tracing::error!(error = %e, id = intent.id, result, "could not write the audit result");
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
