//! Request ids: every HTTP request gets an id, taken from the client's `X-Request-Id` when it
//! is a sensible token, generated otherwise. It is sent back in the `X-Request-Id` response
//! header, put into error bodies (`request_id`) and into every log line written while the
//! request is handled, so a user's error report leads to the server's log lines.
//!
//! The id lives in a task-local for the duration of the request's future: handlers, services
//! and the error renderer read it with [`current`] without passing it around.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};

/// The request and response header.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longest client-supplied id kept; longer (or odd) ones are replaced by a generated one.
pub const MAX_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A client's id is kept when it is 1..=128 visible ASCII characters from a safe set, so it
/// can go into logs and headers as it is.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

/// Middleware for the whole app: assigns the id and writes the access log line, inside the
/// id's scope. The line has the path without its query: `/ws?token=…` must never put a token
/// in the logs.
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    let line = format!(
        "{} \"{} {}\"",
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "-".to_owned()),
        req.method(),
        req.path()
    );
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let value = HeaderValue::from_str(&id).ok();
    REQUEST_ID
        .scope(id, async move {
            let result = next.call(req).await;
            let status = match &result {
                Ok(res) => res.status(),
                Err(e) => e.as_response_error().status_code(),
            };
            log::info!(
                target: "helpdesk_server::access",
                "{line} {} {:.1}ms",
                status.as_u16(),
                started.elapsed().as_secs_f64() * 1000.0
            );
            match result {
                Ok(mut res) => {
                    if let Some(value) = value {
                        res.headers_mut().insert(HEADER, value);
                    }
                    Ok(res)
                }
                // An error that escaped the handlers (a middleware's): rendered here, inside
                // the scope, so its body carries the id too.
                Err(e) => {
                    let mut rendered = e.error_response();
                    if let Some(value) = value {
                        rendered.headers_mut().insert(HEADER, value);
                    }
                    Err(InternalError::from_response(e.to_string(), rendered).into())
                }
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_safe() {
        assert!(acceptable("abc-123_x.y:z"));
        assert!(acceptable(&"a".repeat(MAX_LEN)));
        assert!(!acceptable(&"a".repeat(MAX_LEN + 1)));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable("quote\""));
    }

    #[tokio::test]
    async fn current_is_scoped_to_the_request() {
        assert_eq!(current(), None);
        let inside = REQUEST_ID
            .scope("r-1".to_owned(), async { current() })
            .await;
        assert_eq!(inside.as_deref(), Some("r-1"));
        assert_eq!(current(), None);
    }
}
