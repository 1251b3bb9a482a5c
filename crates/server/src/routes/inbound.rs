//! Received email: the ingest endpoint an MTA or a mail provider's webhook posts raw mail to
//! (`POST /api/inbound/email`, authorised by `MAIL_INGEST_TOKEN`), and the admins' list of
//! received mail with reprocess.

use actix_web::{HttpRequest, get, http::header, post, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use shared::{
    Envelope, ErrorBody, ErrorCode,
    mail::{InboundEntryDto, InboundListQuery, IngestOutcome},
};
use uuid::Uuid;

use crate::{
    auth::AdminUser,
    error::ApiError,
    services::{
        self,
        mail::inbound::{self, Inbox, Source},
    },
    state::AppState,
};

/// Whether `given` is `expected`, in time that does not depend on where they differ.
fn same_token(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The caller must present `Authorization: Bearer {MAIL_INGEST_TOKEN}`: none is a 401, a
/// wrong one (or an ingest that is not configured) a 403.
fn authorise(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(
            ErrorCode::Unauthorized,
            "send the ingest token as `Authorization: Bearer …`".to_owned(),
        ));
    };
    let given = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    match &state.settings.mail.inbound.ingest_token {
        Some(expected) if same_token(given, expected) => Ok(()),
        Some(_) => Err(ApiError::Forbidden(
            "the ingest token is not valid".to_owned(),
        )),
        None => Err(ApiError::Forbidden(
            "mail ingest is not configured (MAIL_INGEST_TOKEN is unset)".to_owned(),
        )),
    }
}

fn inbox(state: &AppState) -> Result<Inbox, ApiError> {
    Ok(Inbox::new(
        state.db.clone(),
        state.mail.clone(),
        state.settings.clone(),
    )?)
}

/// Hand one raw RFC 822 message to the ingest: it becomes a ticket, a reply, an internal
/// note, or is recorded as an auto-reply, bounce, rejection or quarantine. A message received
/// before is not imported again (`duplicate: true`).
#[utoipa::path(
    tag = "mail",
    security(("ingest_token" = [])),
    request_body(content = String, content_type = "message/rfc822", description = "The raw message, at most MAIL_MAX_BYTES"),
    responses(
        (status = 200, description = "What became of the mail", body = Envelope<IngestOutcome>),
        (status = 401, description = "No ingest token (`unauthorized`)", body = ErrorBody),
        (status = 403, description = "A wrong ingest token, or ingest is not configured (`forbidden`)", body = ErrorBody),
        (status = 413, description = "Larger than MAIL_MAX_BYTES (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not message/rfc822, application/octet-stream or text/plain (`unsupported_media_type`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable; send it again later (`service_unavailable`)", body = ErrorBody),
    )
)]
#[post("/inbound/email")]
pub async fn ingest_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<web::Json<Envelope<IngestOutcome>>, ApiError> {
    authorise(&req, &state)?;
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if !["message/rfc822", "application/octet-stream", "text/plain"].contains(&essence) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the raw mail as message/rfc822, not {essence}"
            )));
        }
    }
    let max = state.settings.mail.inbound.max_bytes;
    let mut raw = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::BadRequest(ErrorCode::BadRequest, format!("reading the body: {e}"))
        })?;
        if raw.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(max));
        }
        raw.extend_from_slice(&chunk);
    }
    if raw.is_empty() {
        return Err(ApiError::BadRequest(
            ErrorCode::BadRequest,
            "the body is empty; send the raw mail".to_owned(),
        ));
    }
    let inbox = inbox(&state)?;
    let outcome = inbound::ingest(&inbox, &raw, Source::Http)
        .await
        .map_err(|e| ApiError::Unavailable(e.0))?;
    state.realtime.poke();
    state.jobs.trigger_mail();
    Ok(web::Json(Envelope::ok(outcome)))
}

/// Received mail, newest first, with what became of each (admins).
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    params(InboundListQuery),
    responses(
        (status = 200, description = "One page of received mail", body = Envelope<Vec<InboundEntryDto>>),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/mail/inbound")]
pub async fn list_inbound(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<InboundListQuery>,
) -> Result<web::Json<Envelope<Vec<InboundEntryDto>>>, ApiError> {
    let paging = services::paging(query.page, query.per_page)?;
    let (rows, count) = inbound::list(&state.db, query.status, paging).await?;
    Ok(web::Json(Envelope::page(rows, paging, count)))
}

/// Run a quarantined, rejected or rate-limited mail through the ingest again (admins).
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Received mail id")),
    responses(
        (status = 200, description = "What became of the mail this time", body = Envelope<IngestOutcome>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such mail", body = ErrorBody),
        (status = 409, description = "Already processed, or an auto-reply, bounce or our own mail (`conflict`)", body = ErrorBody),
    )
)]
#[post("/mail/inbound/{id}/reprocess")]
pub async fn reprocess(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<IngestOutcome>>, ApiError> {
    let inbox = inbox(&state)?;
    let outcome = inbound::reprocess(&inbox, id.into_inner()).await?;
    log::info!(
        "admin {} reprocessed inbound mail {}: {}",
        admin.0.id,
        outcome.inbound_id,
        outcome.status
    );
    state.realtime.poke();
    state.jobs.trigger_mail();
    Ok(web::Json(Envelope::ok(outcome)))
}
