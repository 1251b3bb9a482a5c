//! The `Idempotency-Key` header on write requests that create something (`POST /api/tickets`,
//! `POST /api/journeys/{id}/submit`, `POST /api/tickets/{id}/messages`): a retry with the
//! same key and the same request by the same user gets the first response again (with
//! `Idempotency-Replayed: true`) instead of creating a second ticket or message.
//!
//! A retry that arrives while the first request still runs waits for it (up to
//! [`WAIT_FOR_FIRST`]) and replays its response; if it is still running then, the answer is
//! 409 `idempotency_in_progress`. A server error (5xx) is not remembered: the key is given up
//! and a retry runs again. The bookkeeping lives in [`crate::services::idempotency`].

use std::{future::Future, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    body::MessageBody,
    http::{
        StatusCode,
        header::{self, HeaderName},
    },
};
use shared::ErrorCode;
use uuid::Uuid;

use crate::{
    error::ApiError,
    services::idempotency::{self, Claim, IdempotencyKey},
    state::AppState,
};

/// The request header.
pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set (`true`) on a replayed response.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");
/// How long a retry waits for the first request with its key to finish.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// How often a waiting retry looks again.
const POLL: Duration = Duration::from_millis(50);
/// Largest response body remembered (bigger ones are answered but not replayable).
const MAX_REMEMBERED: usize = 1024 * 1024;

/// The request's `Idempotency-Key`, if it sent one (400 `invalid_idempotency_key` when it is
/// malformed).
pub fn key_of(req: &HttpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = req.headers().get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |m: String| ApiError::BadRequest(ErrorCode::InvalidIdempotencyKey, m);
    if values.next().is_some() {
        return Err(invalid("send one Idempotency-Key header".to_owned()));
    }
    let raw = value
        .to_str()
        .map_err(|_| invalid("Idempotency-Key must be printable ASCII".to_owned()))?;
    IdempotencyKey::parse(raw).map(Some).map_err(invalid)
}

/// Runs `work` once per key: with no `Idempotency-Key` it simply runs; with one, it runs only
/// if this is the first request with the key, and otherwise the first one's response is
/// replayed. `request` is the parsed body (its fingerprint, with method and path, tells a
/// retry from a different request).
pub async fn run(
    state: &AppState,
    req: &HttpRequest,
    user_id: Uuid,
    request: &impl serde::Serialize,
    work: impl Future<Output = Result<HttpResponse, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    let Some(key) = key_of(req)? else {
        return work.await;
    };
    let body = serde_json::to_value(request)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("fingerprinting a request: {e}")))?;
    let hash = idempotency::fingerprint(req.method().as_str(), req.path(), &body);
    let started = std::time::Instant::now();
    loop {
        match idempotency::claim(&state.db, user_id, &key, &hash, state.clock.now()).await? {
            Claim::Run => break,
            Claim::Replay { status, body } => return Ok(replay(status, body)),
            Claim::InProgress if started.elapsed() < WAIT_FOR_FIRST => {
                tokio::time::sleep(POLL).await;
            }
            Claim::InProgress => {
                return Err(ApiError::Conflict(
                    ErrorCode::IdempotencyInProgress,
                    "the first request with this Idempotency-Key is still running; retry shortly"
                        .to_owned(),
                ));
            }
        }
    }
    let response = match work.await {
        Ok(response) => response,
        Err(e) => e.error_response(),
    };
    let status = response.status();
    if status.is_server_error() {
        if let Err(e) = idempotency::release(&state.db, user_id, &key).await {
            log::error!("cannot give up an idempotency key after a failure: {e}");
        }
        return Ok(response);
    }
    let (head, body) = response.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => actix_web::body::to_bytes_limited(body, MAX_REMEMBERED)
            .await
            .map_err(|_| {
                ApiError::Internal(anyhow::anyhow!("a response is too large to remember"))
            })?
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("reading a response failed")))?,
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if let Err(e) = idempotency::complete(&state.db, user_id, &key, status.as_u16(), text).await {
        // The work is done; a retry finds the key running and, once abandoned, runs again.
        log::error!("cannot record the response of an idempotent request: {e}");
    }
    Ok(head.set_body(bytes).map_into_boxed_body())
}

fn replay(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((REPLAYED, "true"))
        .body(body)
}

/// The `Idempotency-Key` header in the OpenAPI document.
#[derive(utoipa::IntoParams, serde::Deserialize)]
#[into_params(parameter_in = Header)]
pub struct KeyHeader {
    /// Makes the request safe to retry: 1–255 printable ASCII characters, unique per request
    /// (e.g. a UUID). A retry with the same key and body within 24 hours gets the first
    /// response again, marked `Idempotency-Replayed: true`.
    #[serde(rename = "Idempotency-Key")]
    #[param(min_length = 1, max_length = 255)]
    pub idempotency_key: Option<String>,
}
