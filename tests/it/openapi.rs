//! The OpenAPI document is complete and the routes are secure by default: every handler in
//! src/routes is in the document (and nothing else is), every non-public operation answers 401
//! without credentials, and a viewer gets 403 on every write except managing their own tokens.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use crate::support::app::TestApp;

/// (METHOD, full path) of every actix route macro in src/routes.
fn registered_routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/routes") {
        let path = entry.expect("entry").path();
        // /metrics is the one route outside /api/v1.
        let prefix = if path.ends_with("metrics.rs") {
            ""
        } else {
            "/api/v1"
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let path = rest.split('"').next().unwrap_or_default();
                    out.insert((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    out
}

async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    doc
}

/// (METHOD, path, public?) of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            let public = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            out.push((method.to_uppercase(), path.clone(), public));
        }
    }
    out
}

fn concrete(path: &str) -> String {
    path.replace("{name}", "sshd")
        .replace("{id}", "1")
        .replace("{ip}", "192.0.2.1")
}

/// Status of `METHOD path` (parameters filled in) with an empty JSON body, sent by a fresh
/// client without cookies; `auth` adds the credentials under test.
async fn status_of(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> u16 {
    let m = Method::from_bytes(method.as_bytes()).expect("method");
    let request = app
        .anonymous()
        .request(m, app.url(&concrete(path)))
        .json(&json!({}));
    auth(request).send().await.expect("sent").status().as_u16()
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let app = TestApp::builder().spawn().await;
    let doc = document(&app).await;
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let registered = registered_routes();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented operations without a handler: {extra:?}"
    );
    assert!(
        registered.len() >= 15,
        "the scan found the handlers: {registered:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_non_public_operation_requires_credentials() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let doc = document(&app).await;
    let mut checked = 0;
    for (method, path, public) in operations(&doc) {
        if public {
            continue;
        }
        let status = status_of(&app, &method, &path, |r| r.header("X-BanGUI-Request", "1")).await;
        assert_eq!(status, 401, "{method} {path} must require credentials");
        checked += 1;
    }
    assert!(checked >= 10, "checked {checked} operations");
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_cannot_change_anything_but_their_own_tokens() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    let (status, viewer) = app
        .send_json(
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "viewer", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201);
    let token = viewer["token"].as_str().unwrap_or_default().to_string();
    let allowed_for_viewers = [
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/{id}"),
    ];
    let doc = document(&app).await;
    let mut checked = 0;
    for (method, path, public) in operations(&doc) {
        if public
            || method == "GET"
            || allowed_for_viewers.contains(&(method.as_str(), path.as_str()))
        {
            continue;
        }
        let status = status_of(&app, &method, &path, |r| r.bearer_auth(&token)).await;
        assert_eq!(status, 403, "{method} {path} must be refused for a viewer");
        checked += 1;
    }
    assert!(checked >= 4, "checked {checked} writes");
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_bodies_answer_in_the_error_contract() {
    let app = TestApp::builder().spawn().await;
    let res = app
        .request(Method::POST, "/api/v1/setup")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap_or_default();
    assert_eq!(body["error_code"], "malformed_json");
    let (status, body) = app
        .send_json(Method::POST, "/api/v1/setup", json!({"user": "x"}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (422, Some("validation_error")),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_swagger_ui_is_served_from_the_binary() {
    let app = TestApp::builder().spawn().await;
    let res = app.get("/api/docs/").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.text().await.unwrap_or_default().contains("swagger"),
        "Swagger UI page"
    );
    app.stop().await;
}
