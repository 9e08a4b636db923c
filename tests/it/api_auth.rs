//! Setup, login, sessions, roles, API tokens, CSRF, the login throttle and the audit log, over
//! HTTP against the real application and a real SQLite file.

use crate::support::app::{ADMIN_PASSWORD, ADMIN_USER, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn until_setup_every_protected_route_answers_setup_required_and_setup_works_once() {
    let app = TestApp::builder().spawn().await;
    let (status, body) = app.get_json("/api/v1/auth/session").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (503, Some("setup_required")),
        "{body}"
    );
    assert_eq!(
        app.get_json("/api/v1/health").await.0,
        200,
        "health stays public"
    );
    assert_eq!(app.get_json("/api/v1/setup").await.1["completed"], false);

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/setup",
            json!({"username": "admin", "password": "short"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("weak_password")),
        "{body}"
    );

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/setup",
            json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["role"], "admin");
    assert_eq!(app.get_json("/api/v1/setup").await.1["completed"], true);

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/setup",
            json!({"username": "second", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("already_setup"))
    );
    app.stop().await;
}

#[tokio::test]
async fn login_sets_an_http_only_session_cookie_and_logout_ends_it() {
    let app = TestApp::builder().spawn().await;
    app.create_admin().await;
    assert_eq!(app.get_json("/api/v1/auth/session").await.0, 401);

    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 200);
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        cookie.starts_with("bangui_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let (status, body) = app.get_json("/api/v1/auth/session").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["username"].as_str(),
            body["role"].as_str(),
            body["auth"].as_str()
        ),
        (Some("admin"), Some("admin"), Some("session"))
    );

    assert_eq!(
        app.request(Method::POST, "/api/v1/auth/logout")
            .send()
            .await
            .expect("sent")
            .status()
            .as_u16(),
        204
    );
    assert_eq!(app.get_json("/api/v1/auth/session").await.0, 401);

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            json!({"username": ADMIN_USER, "password": "nope-nope-1"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    app.stop().await;
}

#[tokio::test]
async fn cookie_writes_without_the_csrf_header_are_refused_and_bearer_writes_are_exempt() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let res = app
        .http
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 403);
    let body: Value = res.json().await.unwrap_or_default();
    assert_eq!(body["error_code"], "csrf_required");

    let (status, created) = app
        .send_json(Method::POST, "/api/v1/tokens", json!({"name": "ci"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap_or_default().to_string();
    assert!(token.starts_with("bgt_"));

    let res = app
        .anonymous()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({"name": "made-by-token"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.status().as_u16(),
        201,
        "bearer requests need no CSRF header"
    );
    app.stop().await;
}

#[tokio::test]
async fn roles_limit_what_users_and_their_tokens_may_do() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            json!({"username": "olga", "password": "operator-Pass-1", "role": "operator"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            json!({"username": "olga", "password": "operator-Pass-1", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 409, "user names are unique");

    let operator = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let res = operator
        .post(app.url("/api/v1/auth/login"))
        .header("X-BanGUI-Request", "1")
        .json(&json!({"username": "olga", "password": "operator-Pass-1"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 200);
    let res = operator
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 403, "operators do not manage users");

    let res = operator
        .post(app.url("/api/v1/tokens"))
        .header("X-BanGUI-Request", "1")
        .json(&json!({"name": "too-strong", "role": "admin"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.status().as_u16(),
        403,
        "a token never exceeds its owner's role"
    );

    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "ro", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201);
    let viewer_token = created["token"].as_str().unwrap_or_default().to_string();
    let res = app
        .anonymous()
        .get(app.url("/api/v1/users"))
        .bearer_auth(&viewer_token)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.status().as_u16(),
        403,
        "an admin's viewer token acts as a viewer"
    );
    let res = app
        .anonymous()
        .get(app.url("/api/v1/auth/session"))
        .bearer_auth(&viewer_token)
        .send()
        .await
        .expect("sent");
    let body: Value = res.json().await.unwrap_or_default();
    assert_eq!(
        (body["role"].as_str(), body["auth"].as_str()),
        (Some("viewer"), Some("token"))
    );

    let id = created["id"].as_i64().unwrap_or_default();
    let res = app
        .request(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 204);
    let res = app
        .anonymous()
        .get(app.url("/api/v1/auth/session"))
        .bearer_auth(&viewer_token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 401, "a revoked token is refused");

    let (status, body) = app.get_json("/api/v1/users").await;
    assert_eq!(status, 200);
    let created = body["items"][0]["created_at"].as_str().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
        "a user's creation time is RFC 3339 UTC like every time in the API: {created}"
    );
    let admin_id = body["items"][0]["id"].as_i64().unwrap_or_default();
    let (status, body) = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{admin_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("last_admin"))
    );
    app.stop().await;
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_with_retry_after() {
    let app = TestApp::builder().spawn().await;
    app.create_admin().await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let res = app
            .request(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": ADMIN_USER, "password": "Wrong-password-9"}))
            .send()
            .await
            .expect("sent");
        statuses.push(res.status().as_u16());
        if let Some(v) = res.headers().get("retry-after") {
            retry_after = v.to_str().ok().map(str::to_string);
        }
    }
    assert_eq!(statuses, vec![401, 401, 401, 429, 429]);
    assert!(retry_after.is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(
        status, 429,
        "even the right password waits until the block ends"
    );
    app.stop().await;
}

/// Sends a login from the test's address and returns the status.
async fn login_status(app: &TestApp, username: &str, password: &str) -> u16 {
    app.anonymous()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn logging_in_to_ones_own_account_does_not_forgive_failures_against_another() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            json!({"username": "mallory", "password": "mallory-Pass-1", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        for _ in 0..3 {
            statuses.push(login_status(&app, ADMIN_USER, "Wrong-password-9").await);
        }
        assert_eq!(login_status(&app, "mallory", "mallory-Pass-1").await, 200);
    }
    assert!(
        statuses.contains(&429),
        "3 wrong admin passwords + 1 own login, repeated, must meet a 429: {statuses:?}"
    );
    app.stop().await;
}

/// A user of `app` logged in with their own cookie client; returns the client and one API
/// token it created.
async fn user_with_token(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (reqwest::Client, String, i64) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let res = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 200, "login as {username}");
    let res = client
        .post(app.url("/api/v1/tokens"))
        .header("X-BanGUI-Request", "1")
        .json(&json!({"name": "script"}))
        .send()
        .await
        .expect("sent");
    let body: Value = res.json().await.unwrap_or_default();
    let token = body["token"].as_str().unwrap_or_default().to_string();
    (client, token, body["id"].as_i64().unwrap_or_default())
}

async fn bearer_status(app: &TestApp, token: &str) -> u16 {
    app.anonymous()
        .get(app.url("/api/v1/auth/session"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

async fn session_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_password_reset_or_role_change_ends_sessions_and_revokes_tokens_with_an_audit_row() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (_, olga) = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            json!({"username": "olga", "password": "operator-Pass-1", "role": "operator"}),
        )
        .await;
    let olga_id = olga["id"].as_i64().unwrap_or_default();

    let (client, token, _) = user_with_token(&app, "olga", "operator-Pass-1").await;
    assert_eq!(bearer_status(&app, &token).await, 200);
    let (status, _) = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{olga_id}"),
            json!({"password": "new-Operator-Pass-2"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        bearer_status(&app, &token).await,
        401,
        "token revoked by the reset"
    );
    assert_eq!(
        session_status(&app, &client).await,
        401,
        "session ended by the reset"
    );

    let (client, token, _) = user_with_token(&app, "olga", "new-Operator-Pass-2").await;
    let (status, _) = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{olga_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        bearer_status(&app, &token).await,
        401,
        "token revoked by the role change"
    );
    assert_eq!(session_status(&app, &client).await, 401);

    let (_, audit) = app.get_json("/api/v1/audit").await;
    let revocations: Vec<&Value> = audit["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["action"] == "user.tokens_revoked")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(revocations.len(), 2, "{audit}");
    assert_eq!(revocations[0]["target"], format!("user {olga_id}"));
    app.stop().await;
}

#[tokio::test]
async fn admins_list_every_users_tokens_and_revoke_any_of_them() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    app.send_json(
        Method::POST,
        "/api/v1/users",
        json!({"username": "vera", "password": "viewer-Pass-1", "role": "viewer"}),
    )
    .await;
    let (vera, token, token_id) = user_with_token(&app, "vera", "viewer-Pass-1").await;

    let res = vera
        .get(app.url("/api/v1/tokens/all"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 403, "only admins see every token");
    let res = vera
        .delete(app.url(&format!("/api/v1/tokens/all/{token_id}")))
        .header("X-BanGUI-Request", "1")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.status().as_u16(),
        403,
        "only admins revoke others' tokens"
    );

    let (status, body) = app.get_json("/api/v1/tokens/all").await;
    assert_eq!(status, 200, "{body}");
    let listed = body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["id"] == token_id).cloned())
        .unwrap_or(Value::Null);
    assert_eq!(
        (listed["username"].as_str(), listed["name"].as_str()),
        (Some("vera"), Some("script")),
        "{body}"
    );
    assert!(listed.get("token").is_none(), "the secret is never listed");

    let res = app
        .request(Method::DELETE, &format!("/api/v1/tokens/all/{token_id}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(bearer_status(&app, &token).await, 401);
    let res = app
        .request(Method::DELETE, &format!("/api/v1/tokens/all/{token_id}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 404);

    let (_, audit) = app.get_json("/api/v1/audit").await;
    let revoked = audit["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["action"] == "token.revoke" && i["result"] == "ok")
                .cloned()
        })
        .unwrap_or(Value::Null);
    assert_eq!(revoked["actor"], "admin", "{audit}");
    assert!(
        revoked["target"]
            .as_str()
            .is_some_and(|t| t.contains(&format!("token {token_id}"))),
        "{revoked}"
    );
    app.stop().await;
}

#[tokio::test]
async fn setup_after_setup_is_throttled_and_its_refusals_are_not_audited() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let res = app
            .anonymous()
            .post(app.url("/api/v1/setup"))
            .json(&json!({"username": "intruder", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("sent");
        statuses.push(res.status().as_u16());
        if let Some(v) = res.headers().get("retry-after") {
            retry_after = v.to_str().ok().map(str::to_string);
        }
    }
    assert_eq!(statuses, vec![409, 409, 429, 429, 429, 429]);
    assert!(retry_after.is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));
    let (_, audit) = app.get_json("/api/v1/audit").await;
    let setups: Vec<&Value> = audit["items"]
        .as_array()
        .map(|items| items.iter().filter(|i| i["action"] == "setup").collect())
        .unwrap_or_default();
    assert_eq!(
        setups.len(),
        1,
        "only the real setup is audited: {setups:?}"
    );
    assert_eq!(setups[0]["result"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn token_names_with_control_characters_are_refused_in_the_error_contract() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    for name in ["ci\nforged line", "bell\u{7}", "tab\tname", "\u{1b}[31mred"] {
        let (status, body) = app
            .send_json(Method::POST, "/api/v1/tokens", json!({ "name": name }))
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (400, Some("validation_error")),
            "{name:?}: {body}"
        );
        assert!(
            body["message"].is_string() && body.get("details").is_some(),
            "{body}"
        );
    }
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "ci – déploiement"}),
        )
        .await;
    assert_eq!(status, 201, "printable non-ASCII names stay allowed");
    app.stop().await;
}

#[tokio::test]
async fn an_api_token_never_passes_as_a_session_cookie_even_when_freshly_validated() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (_, created) = app
        .send_json(Method::POST, "/api/v1/tokens", json!({"name": "script"}))
        .await;
    let token = created["token"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        bearer_status(&app, &token).await,
        200,
        "the token works as a bearer"
    );
    let res = app
        .anonymous()
        .get(app.url("/api/v1/auth/session"))
        .header("cookie", format!("bangui_session={token}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 401, "a token is not a session");
    app.stop().await;
}

#[tokio::test]
async fn state_changes_and_logins_are_in_the_audit_log() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    app.send_json(
        Method::POST,
        "/api/v1/users",
        json!({"username": "vera", "password": "viewer-Pass-1", "role": "viewer"}),
    )
    .await;
    app.send_json(
        Method::PUT,
        "/api/v1/settings/map",
        json!({"thresholds": [5, 1, 9]}),
    )
    .await;
    let (status, body) = app.get_json("/api/v1/audit").await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().cloned().unwrap_or_default();
    let find = |action: &str| {
        items
            .iter()
            .find(|i| i["action"] == action)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(find("setup")["result"], "ok");
    assert_eq!(find("login")["actor"], "admin");
    let created = find("user.create");
    assert_eq!(
        (created["actor"].as_str(), created["result"].as_str()),
        (Some("admin"), Some("ok"))
    );
    assert!(
        created["target"]
            .as_str()
            .is_some_and(|t| t.contains("vera"))
    );
    assert_eq!(find("settings.map")["result"], "validation_error");
    assert!(created["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    app.stop().await;
}
