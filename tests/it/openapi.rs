//! The OpenAPI document is complete and the routes are secure by default: the document's
//! operations are exactly the ones actix routes (each documented method and path reaches its own
//! handler, no other method on a documented path reaches one), every non-public operation
//! answers 401 without credentials, and a viewer gets 403 on every write except managing their
//! own tokens.

use std::collections::BTreeSet;

use crate::support::app::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

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

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Where actix routes `METHOD path` in the application's own route table, without state: the
/// pattern of the resource that took the request, or `None` when no handler did.
/// (A macro because the test service's request type lives in a crate this one does not name.)
macro_rules! actix_route {
    ($app:expr, $method:expr, $path:expr) => {{
        let req = actix_web::test::TestRequest::default()
            .method(actix_web::http::Method::from_bytes($method.as_bytes()).expect("method"))
            .uri($path)
            .to_request();
        let res = actix_web::test::call_service($app, req).await;
        // Without state no handler can answer 404 or 405 itself: those come from the API's
        // fallback (`route_not_found`, `method_not_allowed`) or actix's own default.
        match res.status().as_u16() {
            404 | 405 => None,
            _ => res.request().match_pattern(),
        }
    }};
}

#[actix_web::test]
async fn the_document_lists_exactly_the_routes_actix_serves() {
    // The real route table (bangui::routes::configure), with no state: handlers that need it
    // fail, but actix has chosen the route by then, which is all this test looks at.
    let app =
        actix_web::test::init_service(actix_web::App::new().configure(bangui::routes::configure))
            .await;
    let doc = serde_json::to_value(bangui::routes::openapi::document()).expect("document");
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    assert!(documented.len() >= 40, "{documented:?}");
    let templates: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for template in templates {
        for method in METHODS {
            let key = (method.to_string(), template.clone());
            let routed: Option<String> = actix_route!(&app, method, &concrete(template));
            if documented.contains(&key) {
                assert_eq!(
                    routed.as_deref(),
                    Some(template.as_str()),
                    "documented {method} {template} must reach its own actix route"
                );
            } else if let Some(other) = routed {
                // Another documented route may take the URL (GET /jails/reload-all is the jail
                // named "reload-all"), but never an undocumented one.
                assert!(
                    documented.contains(&(method.to_string(), other.clone())),
                    "{method} {template} reached the undocumented route {other}"
                );
            }
        }
    }
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

#[tokio::test]
async fn paged_lists_refuse_out_of_range_pages_with_the_same_rule() {
    let app = TestApp::builder().spawn().await;
    app.setup_admin().await;
    for list in ["/api/v1/audit", "/api/v1/dashboard/bans"] {
        for query in ["page=0", "page_size=0", "page_size=501"] {
            let (status, body) = app.get_json(&format!("{list}?{query}")).await;
            assert_eq!(status, 400, "{list}?{query}: {body}");
            assert_eq!(body["error_code"], "invalid_page", "{list}?{query}: {body}");
        }
        let (status, body) = app.get_json(&format!("{list}?page=2&page_size=500")).await;
        assert_eq!(status, 200, "{list}: {body}");
        assert_eq!(body["page_size"], 500, "{list}: {body}");
    }
    app.stop().await;
}
