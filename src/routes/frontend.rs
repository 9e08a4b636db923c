//! Serves the built web dashboard from `http.static_dir` (by default `frontend/dist`) through
//! actix-files' [`NamedFile`]: files stream from disk with their MIME type, `ETag` and
//! `Last-Modified`, conditional requests answer `304`, and `Range` requests `206`. Vite's hashed
//! files under `/assets/` are cached for a year as immutable (a new build gives them new names);
//! everything else, `index.html` above all, is `no-cache` so a new build is picked up at once.
//! Any other path that is not a file gets `index.html`, so the app's client-side routes survive
//! a reload, except under `/assets/` (a missing asset is a plain 404) and under `/api/`, which
//! never reaches this handler (`routes::configure` answers unknown API paths in the error
//! contract). The files are read from disk rather than embedded so that `cargo build` never
//! needs npm.

use std::path::{Component, Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;

/// `Cache-Control` of Vite's content-hashed files under `/assets/`.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: the browser revalidates (cheaply, with the ETag).
pub const NO_CACHE: &str = "no-cache";

/// Maps a request path to a file below `root`, refusing anything that could escape it.
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let rel = request_path.trim_start_matches('/');
    let mut out = root.to_path_buf();
    for comp in Path::new(rel).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The default service of the application: a dashboard file, `index.html` for a client-side
/// route, or a page saying the dashboard is not built.
pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let root = &state.settings.http.static_dir;
    let path = req.path();
    let hashed = path.starts_with("/assets/");
    if let Some(file) = resolve(root, path)
        && is_file(&file).await
    {
        return send(&req, &file, if hashed { IMMUTABLE } else { NO_CACHE }).await;
    }
    if hashed {
        return HttpResponse::NotFound().finish();
    }
    let index = root.join("index.html");
    if is_file(&index).await {
        return send(&req, &index, NO_CACHE).await;
    }
    not_built(root)
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path)
        .await
        .is_ok_and(|meta| meta.is_file())
}

/// One file with actix-files' conditional, range and type handling plus our cache policy.
async fn send(req: &HttpRequest, file: &Path, cache_control: &'static str) -> HttpResponse {
    match NamedFile::open_async(file).await {
        Ok(named) => {
            let mut res = named
                .disable_content_disposition()
                .prefer_utf8(true)
                .into_response(req);
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache_control),
            );
            res
        }
        Err(error) => {
            tracing::warn!(file = %file.display(), %error, "dashboard file could not be opened");
            HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn not_built(root: &Path) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, NO_CACHE))
        .body(format!(
            "<!doctype html><title>BanGUI</title><p>The web dashboard is not built (looked in {}). \
             Run <code>npm --prefix frontend ci && npm --prefix frontend run build</code>, or use the API \
             under <a href=\"/api/v1/health\">/api/v1</a>.</p>",
            root.display()
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_static_root() {
        let root = Path::new("/srv/dist");
        assert_eq!(
            resolve(root, "/assets/app.js"),
            Some(PathBuf::from("/srv/dist/assets/app.js"))
        );
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/a/../../b"), None);
    }
}
