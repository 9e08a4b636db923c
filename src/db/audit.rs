//! Repository of the `audit_log` table: who did what to which target, with what result.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    /// Epoch seconds; rendered as RFC 3339 by the route.
    pub at: i64,
    pub actor: String,
    pub auth: Option<String>,
    pub client_ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    pub details: Option<String>,
}

pub struct NewAudit<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub auth: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub result: &'a str,
    pub details: Option<&'a str>,
}

/// Inserts a record and returns its id.
pub async fn insert(pool: &SqlitePool, a: &NewAudit<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, auth, client_ip, action, target, result, details) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(a.at)
    .bind(a.actor)
    .bind(a.auth)
    .bind(a.client_ip)
    .bind(a.action)
    .bind(a.target)
    .bind(a.result)
    .bind(a.details)
    .execute(pool)
    .await
    .map(|r| r.last_insert_rowid())
}

/// Sets the result of a record written before its action ran.
pub async fn set_result(pool: &SqlitePool, id: i64, result: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_log SET result = ? WHERE id = ?")
        .bind(result)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Sets the result and the details of a record written before its action ran.
pub async fn set_result_details(
    pool: &SqlitePool,
    id: i64,
    result: &str,
    details: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_log SET result = ?, details = ? WHERE id = ?")
        .bind(result)
        .bind(details)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn page(
    pool: &SqlitePool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT id, at, actor, auth, client_ip, action, target, result, details FROM audit_log \
         ORDER BY id DESC LIMIT ? OFFSET ?",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}
