//! Serving the built SPA: real files from `STATIC_DIR`, and `index.html` for client-side
//! routes. `/api/*` and `/ws` never fall back to the SPA; they get a JSON 404 instead.
//!
//! How browsers should keep what they get:
//! - Assets whose name carries a content hash (`helpdesk-frontend-<hash>_bg.wasm`,
//!   `style-<hash>.css`, …; `scripts/build-spa` names them) never change under that name, so
//!   they are sent with `Cache-Control: public, max-age=31536000, immutable`.
//! - `index.html`, which names the current assets, is revalidated on every load
//!   (`Cache-Control: no-cache` with an ETag), so a new release is picked up at once.
//! - Other files (none today) may be cached for an hour.
//!
//! Compression is done once, at build time: `scripts/build-spa` writes `name.br` and `name.gz`
//! beside each text or wasm asset, and the one the browser accepts (`Accept-Encoding`, brotli
//! preferred) is sent with `Content-Encoding` and `Vary: Accept-Encoding`. A client that
//! accepts neither gets the plain file.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::{
    HttpRequest, HttpResponse,
    http::{
        Method,
        header::{self, AcceptEncoding, ContentEncoding, Encoding, Header},
    },
    web,
};

use crate::error::ApiError;

/// Where the SPA lives, shared with the handler.
#[derive(Clone)]
pub struct StaticDir(pub PathBuf);

/// For assets whose name changes with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `index.html`: always ask whether it changed.
const REVALIDATE: &str = "no-cache";
/// For unhashed files.
const SHORT: &str = "public, max-age=3600";

fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/ws" || path.starts_with("/ws/")
}

/// The app's default service: files of the built SPA, the SPA itself for page navigations,
/// and a JSON 404 for everything else.
pub async fn serve(req: HttpRequest, dir: web::Data<StaticDir>) -> Result<HttpResponse, ApiError> {
    let path = req.path().to_owned();
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    if readable && !is_api_path(&path) {
        if let Some(relative) = asset_path(&path) {
            let file = dir.0.join(&relative);
            if file.is_file() {
                return asset(&req, &file, &relative).await;
            }
        }
        // A path that names a file is a missing asset, not a client route.
        if !names_a_file(&path) {
            return index(&req, &dir.0).await;
        }
    }
    Err(ApiError::RouteNotFound(format!(
        "{} {}",
        req.method(),
        path
    )))
}

/// The file a request path names inside the SPA folder: plain segments only (letters, digits,
/// `.`, `_`, `-`, not starting with a dot), so nothing outside the folder or hidden can be
/// reached. `/` and unusual paths name no file.
fn asset_path(path: &str) -> Option<PathBuf> {
    let relative = path.strip_prefix('/')?;
    if relative.is_empty() {
        return None;
    }
    let mut out = PathBuf::new();
    for segment in relative.split('/') {
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !plain {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

/// Whether the last segment ends like a file name (`.js`, `.wasm`, `.png`, `.woff2`: a dot and
/// one to eight letters or digits). Client routes may hold dots too — a signed survey link is
/// `/survey/<id>.<time>.<mac>` — but never such a short ending.
fn names_a_file(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()))
}

async fn index(req: &HttpRequest, dir: &Path) -> Result<HttpResponse, ApiError> {
    let index = dir.join("index.html");
    match NamedFile::open_async(&index).await {
        Ok(file) => {
            let mut response = file
                .use_last_modified(false)
                .disable_content_disposition()
                .into_response(req);
            set_cache(&mut response, REVALIDATE);
            Ok(response)
        }
        Err(_) => Ok(HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("The web app has not been built. Run `make run` (or `make frontend`).")),
    }
}

async fn asset(req: &HttpRequest, file: &Path, relative: &Path) -> Result<HttpResponse, ApiError> {
    let name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name == "index.html" {
        return index(req, file.parent().unwrap_or(file)).await;
    }
    let content_type = actix_files::file_extension_to_mime(
        file.extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default(),
    );
    let precompressed = |suffix: &str| {
        let mut candidate = file.as_os_str().to_owned();
        candidate.push(suffix);
        PathBuf::from(candidate)
    };
    // Which representations exist on disk; identity always does.
    let brotli = precompressed(".br");
    let gzip = precompressed(".gz");
    let mut supported = vec![Encoding::identity()];
    if brotli.is_file() {
        supported.push(Encoding::brotli());
    }
    if gzip.is_file() {
        supported.push(Encoding::gzip());
    }
    let compressible = supported.len() > 1;
    let chosen = AcceptEncoding::parse(req)
        .ok()
        .and_then(|accepted| accepted.negotiate(supported.iter()))
        .unwrap_or_else(Encoding::identity);
    let (path, encoding) = if chosen == Encoding::brotli() {
        (brotli, Some(ContentEncoding::Brotli))
    } else if chosen == Encoding::gzip() {
        (gzip, Some(ContentEncoding::Gzip))
    } else {
        (file.to_path_buf(), None)
    };
    let opened = NamedFile::open_async(&path)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading {}: {e}", path.display())))?;
    let mut named = opened
        .set_content_type(content_type)
        .disable_content_disposition();
    if let Some(encoding) = encoding {
        named = named.set_content_encoding(encoding);
    }
    let mut response = named.into_response(req);
    set_cache(
        &mut response,
        if is_hashed(name) { IMMUTABLE } else { SHORT },
    );
    if compressible {
        response.headers_mut().insert(
            header::VARY,
            header::HeaderValue::from_static("accept-encoding"),
        );
    }
    Ok(response)
}

fn set_cache(response: &mut HttpResponse, value: &'static str) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(value),
    );
}

/// Whether a file name carries a content hash as `scripts/build-spa` writes it: a run of 16
/// hex digits after the last `-` of the stem (`style-0123456789abcdef.css`,
/// `helpdesk-frontend-0123456789abcdef_bg.wasm`).
fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    let Some((_, tail)) = stem.rsplit_once('-') else {
        return false;
    };
    let hash = tail.strip_suffix("_bg").unwrap_or(tail);
    hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
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

    #[test]
    fn only_plain_paths_name_files() {
        assert_eq!(asset_path("/style.css"), Some(PathBuf::from("style.css")));
        assert_eq!(asset_path("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(asset_path("/"), None);
        assert_eq!(asset_path("/../etc/passwd"), None);
        assert_eq!(asset_path("/a/../../b"), None);
        assert_eq!(asset_path("/.env"), None);
        assert_eq!(asset_path("/a//b"), None);
        assert_eq!(asset_path("/a%2fb"), None);
        assert_eq!(asset_path("/a\\b"), None);
    }

    #[test]
    fn file_names_are_told_from_client_routes() {
        assert!(names_a_file("/missing.js"));
        assert!(names_a_file("/fonts/a.woff2"));
        assert!(names_a_file("/favicon.ico"));
        assert!(!names_a_file("/agent"));
        assert!(!names_a_file("/portal/tickets/123"));
        assert!(!names_a_file(
            "/survey/f1d9df04f2df41d9bb9cb8f04e93865a.1796313324094735.WjAZwQ2nnUL1AE-VxoxbJITO0urbe8EDSyfoJEZOZIA"
        ));
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("style-edfa1425443eee10.css"));
        assert!(is_hashed("helpdesk-frontend-f5ce19b8fd287a2e_bg.wasm"));
        assert!(is_hashed("helpdesk-frontend-f5ce19b8fd287a2e.js"));
        assert!(is_hashed("favicon-f5ce19b8fd287a2e.svg"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("style.css"));
        assert!(!is_hashed("robots-txt.txt"));
        assert!(!is_hashed("style-edfa1425443eee1g.css"));
    }
}
