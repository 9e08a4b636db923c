//! Repository of the `users` table: accounts with an argon2id hash and a role.

use sqlx::SqlitePool;

use crate::domain::auth::Role;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

impl UserRow {
    /// The stored role; an unknown value (impossible through the CHECK constraint) reads as viewer.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }
}

macro_rules! user_columns {
    () => {
        "id, username, password_hash, role, created_at"
    };
}

pub async fn count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
}

pub async fn count_admins(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
        .fetch_one(pool)
        .await
}

/// Inserts a user; `Ok(None)` when the name is taken.
pub async fn insert(
    pool: &SqlitePool,
    username: &str,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    let res = sqlx::query(
        "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT(username) DO NOTHING",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?;
    if res.rows_affected() == 0 {
        return Ok(None);
    }
    by_id(pool, res.last_insert_rowid()).await
}

/// Creates the first admin only while no user exists, atomically; `Ok(None)` when setup was
/// already done (by this or a concurrent request).
pub async fn insert_first_admin(
    pool: &SqlitePool,
    username: &str,
    password_hash: &str,
    now: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    let res = sqlx::query(
        "INSERT INTO users (username, password_hash, role, created_at, updated_at) \
         SELECT ?, ?, 'admin', ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)",
    )
    .bind(username)
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?;
    if res.rows_affected() == 0 {
        return Ok(None);
    }
    by_id(pool, res.last_insert_rowid()).await
}

pub async fn by_id(pool: &SqlitePool, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn by_username(
    pool: &SqlitePool,
    username: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE username = ?"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users ORDER BY id"
    ))
    .fetch_all(pool)
    .await
}

pub async fn set_role(
    pool: &SqlitePool,
    id: i64,
    role: Role,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let res = sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn set_password(
    pool: &SqlitePool,
    id: i64,
    hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let res = sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn delete(pool: &SqlitePool, id: i64) -> Result<bool, sqlx::Error> {
    let res = sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(res.rows_affected() == 1)
}
