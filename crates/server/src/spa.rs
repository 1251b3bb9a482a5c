//! Serving the built SPA: real files from `STATIC_DIR`, and `index.html` for client-side
//! routes. `/api/*` and `/ws` never fall back to the SPA; they get a JSON 404 instead.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::{HttpRequest, HttpResponse, http::Method, web};

use crate::error::ApiError;

/// Where the SPA lives, shared with the fallback handler.
#[derive(Clone)]
pub struct StaticDir(pub PathBuf);

fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/ws" || path.starts_with("/ws/")
}

/// The app's default service: SPA fallback for page navigations, JSON 404 for everything else.
pub async fn fallback(
    req: HttpRequest,
    dir: web::Data<StaticDir>,
) -> Result<HttpResponse, ApiError> {
    let path = req.path().to_owned();
    let is_page = matches!(*req.method(), Method::GET | Method::HEAD) && !is_api_path(&path);
    // A path with a file extension is a missing asset, not a client route.
    let looks_like_file = Path::new(&path).extension().is_some();
    if is_page && !looks_like_file {
        let index = dir.0.join("index.html");
        if let Ok(file) = NamedFile::open_async(&index).await {
            return Ok(file
                .use_etag(false)
                .use_last_modified(false)
                .into_response(&req));
        }
        return Ok(HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("The web app has not been built. Run `make run` (or `make frontend`)."));
    }
    Err(ApiError::RouteNotFound(format!(
        "{} {}",
        req.method(),
        path
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_never_fall_back() {
        assert!(is_api_path("/api"));
        assert!(is_api_path("/api/nope"));
        assert!(is_api_path("/ws"));
        assert!(!is_api_path("/apix"));
        assert!(!is_api_path("/agent"));
    }
}
