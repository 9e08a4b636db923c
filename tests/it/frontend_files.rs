//! The web dashboard's files as a browser meets them, against the real application serving a
//! temporary `dist` directory: hashed assets cached for a year, `index.html` revalidated on
//! every visit, conditional and range requests, the client-side routes falling back to
//! `index.html`, and unknown API paths still answering in the error contract.

use std::path::Path;

use crate::support::app::TestApp;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RANGE,
};

const INDEX: &str = "<!doctype html><title>BanGUI test build</title><div id=\"root\"></div>";
const SCRIPT: &str = "console.log('hashed asset of the test build');\n";

/// A `dist` directory as `vite build` lays it out.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dist");
    std::fs::create_dir(dir.path().join("assets")).expect("assets dir");
    std::fs::write(dir.path().join("index.html"), INDEX).expect("index.html");
    std::fs::write(dir.path().join("assets/index-AbC123.js"), SCRIPT).expect("script");
    std::fs::write(dir.path().join("favicon.svg"), "<svg/>").expect("favicon");
    dir
}

async fn app_serving(dir: &Path) -> TestApp {
    TestApp::builder()
        .env("BANGUI_STATIC_DIR", dir.display().to_string())
        .spawn()
        .await
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    res.headers()
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("response has no {name} header: {:?}", res.headers()))
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_carry_validators() {
    let dist = dist();
    let app = app_serving(dist.path()).await;

    let res = app.get("/assets/index-AbC123.js").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&res, CONTENT_TYPE).contains("javascript"));
    assert_eq!(header(&res, ACCEPT_RANGES), "bytes");
    assert!(!header(&res, ETAG).is_empty());
    assert!(!header(&res, LAST_MODIFIED).is_empty());
    assert_eq!(res.text().await.expect("body"), SCRIPT);
    app.stop().await;
}

#[tokio::test]
async fn a_matching_etag_or_an_unchanged_date_answers_304_without_a_body() {
    let dist = dist();
    let app = app_serving(dist.path()).await;
    let first = app.get("/assets/index-AbC123.js").await;
    let etag = header(&first, ETAG).to_owned();
    let modified = header(&first, LAST_MODIFIED).to_owned();

    let by_etag = app
        .http
        .get(app.url("/assets/index-AbC123.js"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(by_etag.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        header(&by_etag, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(by_etag.text().await.expect("body"), "");

    let by_date = app
        .http
        .get(app.url("/"))
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .expect("request");
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);

    let stale = app
        .http
        .get(app.url("/assets/index-AbC123.js"))
        .header(IF_NONE_MATCH, "\"some-other-version\"")
        .send()
        .await
        .expect("request");
    assert_eq!(stale.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_range_request_gets_just_those_bytes() {
    let dist = dist();
    let app = app_serving(dist.path()).await;
    let res = app
        .http
        .get(app.url("/assets/index-AbC123.js"))
        .header(RANGE, "bytes=0-10")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&res, CONTENT_RANGE),
        format!("bytes 0-10/{}", SCRIPT.len())
    );
    assert_eq!(res.text().await.expect("body"), &SCRIPT[..11]);

    let beyond = app
        .http
        .get(app.url("/assets/index-AbC123.js"))
        .header(RANGE, "bytes=5000-6000")
        .send()
        .await
        .expect("request");
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    app.stop().await;
}

#[tokio::test]
async fn index_html_and_the_apps_routes_are_revalidated_on_every_visit() {
    let dist = dist();
    let app = app_serving(dist.path()).await;
    for path in [
        "/",
        "/index.html",
        "/map",
        "/jails/sshd",
        "/jails/nginx.http-auth",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache", "{path}");
        assert!(
            header(&res, CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert!(!header(&res, ETAG).is_empty(), "{path}");
        assert_eq!(res.text().await.expect("body"), INDEX, "{path}");
    }
    let icon = app.get("/favicon.svg").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(header(&icon, CACHE_CONTROL), "no-cache");
    assert!(header(&icon, CONTENT_TYPE).starts_with("image/svg+xml"));
    app.stop().await;
}

#[tokio::test]
async fn a_missing_asset_is_a_404_not_the_app() {
    let dist = dist();
    let app = app_serving(dist.path()).await;
    let res = app.get("/assets/index-Gone99.js").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().get(CACHE_CONTROL).is_none());
    assert_ne!(res.text().await.expect("body"), INDEX);
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_answer_in_the_error_contract_not_with_the_app() {
    let dist = dist();
    let app = app_serving(dist.path()).await;
    app.setup_admin().await;
    for path in [
        "/api/v1/no-such-route",
        "/api/no-such-version/x",
        "/api/v1/assets/x.js",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error_code"], "route_not_found", "{path}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(path)),
            "{body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn head_is_answered_and_writes_are_refused_outside_the_api() {
    let dist = dist();
    let app = app_serving(dist.path()).await;
    let head = app
        .http
        .head(app.url("/assets/index-AbC123.js"))
        .send()
        .await
        .expect("request");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, CONTENT_LENGTH), SCRIPT.len().to_string());
    assert_eq!(head.text().await.expect("body"), "");

    let post = app
        .http
        .post(app.url("/map"))
        .send()
        .await
        .expect("request");
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&post, reqwest::header::ALLOW), "GET, HEAD");
    app.stop().await;
}

#[tokio::test]
async fn files_outside_the_dist_directory_are_never_served() {
    let outer = tempfile::tempdir().expect("temp dir");
    std::fs::write(outer.path().join("secret.txt"), "not for the web").expect("secret");
    let dist = outer.path().join("dist");
    std::fs::create_dir(&dist).expect("dist");
    std::fs::write(dist.join("index.html"), INDEX).expect("index");
    let app = app_serving(&dist).await;
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
    ] {
        let res = app.get(path).await;
        let body = res.text().await.expect("body");
        assert!(!body.contains("not for the web"), "{path} leaked the file");
    }
    app.stop().await;
}

#[tokio::test]
async fn without_a_build_the_root_explains_how_to_make_one() {
    let empty = tempfile::tempdir().expect("temp dir");
    let app = app_serving(empty.path()).await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, CONTENT_TYPE).starts_with("text/html"));
    let body = res.text().await.expect("body");
    assert!(
        body.contains("not built") && body.contains("npm --prefix frontend"),
        "{body}"
    );
    app.stop().await;
}
