//! Refuses JSON bodies whose text holds a NUL character (`\u0000`) with a 400 `invalid_json`,
//! before any handler runs.
//!
//! NUL is valid JSON, but PostgreSQL stores neither text nor `jsonb` containing it: without
//! this guard every such string (a ticket subject, a message, a journey definition, an
//! answer) reached the database and came back as a 500. No field of the API has a use for
//! it, so one check for every JSON body replaces a check in every parser. Bodies of other
//! content types pass untouched (the JSON extractor answers 415 for them, uploads are
//! multipart).

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web::{Bytes, BytesMut},
};
use futures_util::StreamExt;
use shared::ErrorCode;

use crate::{error::ApiError, startup::JSON_LIMIT_BYTES};

/// Middleware for the `/api` scope (`actix_web::middleware::from_fn(refuse_nul_in_json)`).
pub async fn refuse_nul_in_json(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if is_json(&req) {
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::BadRequest(ErrorCode::BadRequest, format!("unreadable body: {e}"))
            })?;
            if body.len() + chunk.len() > JSON_LIMIT_BYTES {
                return Err(ApiError::PayloadTooLarge(JSON_LIMIT_BYTES).into());
            }
            body.extend_from_slice(&chunk);
        }
        if has_nul_escape(&body) {
            return Err(ApiError::BadRequest(
                ErrorCode::InvalidJson,
                "text in the body must not contain NUL characters (\\u0000)".to_owned(),
            )
            .into());
        }
        req.set_payload(Payload::from(Bytes::from(body)));
    }
    next.call(req).await
}

/// The content types the JSON extractor accepts: `application/json` and `…+json`.
fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

/// Whether the JSON text escapes a NUL (`\u0000`). A raw NUL byte is
/// not valid JSON at all and is left to the parser; an escaped backslash followed by `u0000`
/// is the text `\u0000`, which is fine.
fn has_nul_escape(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            // Skip the escaped character, so `\\` never starts another escape.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn finds_escaped_nul_only() {
        assert!(has_nul_escape(br#"{"subject": "a\u0000b"}"#));
        assert!(has_nul_escape(br#"{"nested": {"list": ["\u0000"]}}"#));
        assert!(has_nul_escape(br#"{"x": "\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"x": "\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"x": "\u0001 \u00e9 \n"}"#));
        assert!(!has_nul_escape(br#"{"x": "\u000"}"#));
        assert!(!has_nul_escape(b"\\"));
    }
}
