//! Serves the built web dashboard from `http.static_dir` (by default `frontend/dist`): files
//! as they are, `index.html` for every other path so client-side routes work, long-lived cache
//! headers on Vite's hashed `assets/` and `no-cache` on the HTML. The files are read from disk
//! rather than embedded so that `cargo build` never needs npm.

use std::path::{Component, Path, PathBuf};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;

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

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let root = &state.settings.http.static_dir;
    let path = req.path();
    if let Some(file) = resolve(root, path).filter(|p| p.is_file())
        && let Ok(bytes) = tokio::fs::read(&file).await
    {
        let immutable = path.starts_with("/assets/");
        let cache = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type(&file)))
            .insert_header((header::CACHE_CONTROL, cache))
            .body(bytes);
    }
    if path.starts_with("/assets/") {
        return HttpResponse::NotFound().finish();
    }
    match tokio::fs::read(root.join("index.html")).await {
        Ok(bytes) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(bytes),
        Err(_) => HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(format!(
            "<!doctype html><title>BanGUI</title><p>The web dashboard is not built (looked in {}). \
             Run <code>npm --prefix frontend ci && npm --prefix frontend run build</code>, or use the API \
             under <a href=\"/api/v1/health\">/api/v1</a>.</p>",
            root.display()
        )),
    }
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
