//! Customer satisfaction surveys: `/api/tickets/{id}/csat` for signed-in users (the ticket's
//! customer rates; everyone who may see the ticket reads), and `/api/csat?token=` for the
//! signed link of the "resolved" mail, which works without signing in.

use actix_web::{get, put, web};
use shared::{
    Envelope, ErrorBody, ErrorCode,
    csat::{CsatRequest, CsatSurveyDto, CsatTokenQuery, ValidRating},
};
use uuid::Uuid;

use crate::{
    auth::{AuthUser, CustomerUser, JsonBody},
    error::ApiError,
    services::{
        csat::{self, Rater},
        mail::Signer,
    },
    state::AppState,
};

/// The key survey links are checked with: the mailer's, or (mail switched off since) the
/// configured secret, so links already sent keep working.
fn signer(state: &AppState) -> Result<Signer, ApiError> {
    match state.mail.context() {
        Some(ctx) => Ok(ctx.signer.clone()),
        None => Ok(Signer::new(&state.settings.mail.secret)?),
    }
}

/// The rating as the rules allow it, or a 422 naming each bad field.
fn parse(body: JsonBody<CsatRequest>) -> Result<ValidRating, ApiError> {
    ValidRating::try_from(body.into_inner()?).map_err(|problems| ApiError::Validation {
        code: ErrorCode::ValidationFailed,
        message: format!("{} fields are invalid", problems.len()),
        fields: problems.into_iter().collect(),
    })
}

/// The survey of the ticket's current resolution: whether it is open, until when, and the
/// rating given.
#[utoipa::path(
    tag = "csat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The survey", body = Envelope<CsatSurveyDto>),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
#[get("/tickets/{id}/csat")]
pub async fn get_for_ticket(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<CsatSurveyDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        csat::survey_for_ticket(&state.db, &user, id.into_inner(), state.clock.now()).await?,
    )))
}

/// Rate the ticket's current resolution, or change the rating, within 7 days of the
/// resolution. Only the ticket's customer; staff cannot rate on a customer's behalf.
#[utoipa::path(
    tag = "csat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = CsatRequest,
    responses(
        (status = 200, description = "The survey with the rating", body = Envelope<CsatSurveyDto>),
        (status = 403, description = "Staff cannot rate", body = ErrorBody),
        (status = 404, description = "No such ticket of yours", body = ErrorBody),
        (status = 409, description = "`surveys_disabled`, `survey_not_open` (not resolved), `survey_closed` (window over; details.closes_at)", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `score` (1–5) or `comment` (at most 1000 characters)", body = ErrorBody),
    )
)]
#[put("/tickets/{id}/csat")]
pub async fn rate_ticket(
    state: web::Data<AppState>,
    customer: CustomerUser,
    id: web::Path<Uuid>,
    body: JsonBody<CsatRequest>,
) -> Result<web::Json<Envelope<CsatSurveyDto>>, ApiError> {
    csat::ensure_enabled(&state.db).await?;
    let rating = parse(body)?;
    let rater = Rater::Customer {
        actor: &customer.0,
        ticket_id: id.into_inner(),
    };
    let survey = csat::rate(&state.db, rater, rating, state.clock.now()).await?;
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(survey)))
}

/// The survey a signed link is about, without signing in.
#[utoipa::path(
    tag = "csat",
    params(CsatTokenQuery),
    responses(
        (status = 200, description = "The survey", body = Envelope<CsatSurveyDto>),
        (status = 400, description = "`invalid_survey_token` (forged, altered or malformed), or `invalid_query`", body = ErrorBody),
        (status = 409, description = "`survey_not_open`: the ticket was reopened since the link was sent", body = ErrorBody),
    )
)]
#[get("/csat")]
pub async fn get_by_link(
    state: web::Data<AppState>,
    query: web::Query<CsatTokenQuery>,
) -> Result<web::Json<Envelope<CsatSurveyDto>>, ApiError> {
    let signer = signer(&state)?;
    Ok(web::Json(Envelope::ok(
        csat::survey_for_token(&state.db, &signer, &query.token, state.clock.now()).await?,
    )))
}

/// Rate by the signed link of the "resolved" mail, without signing in; the same rules as
/// rating in the portal. The link is valid for the resolution it was sent for only. The body
/// is judged first (there is no caller to refuse), then the token.
#[utoipa::path(
    tag = "csat",
    params(CsatTokenQuery),
    request_body = CsatRequest,
    responses(
        (status = 200, description = "The survey with the rating", body = Envelope<CsatSurveyDto>),
        (status = 400, description = "`invalid_survey_token` (forged, altered or malformed), or `invalid_query`", body = ErrorBody),
        (status = 409, description = "`surveys_disabled`, `survey_not_open` (reopened since), `survey_closed` (the link expired with the window; details.closes_at)", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `score` (1–5) or `comment` (at most 1000 characters)", body = ErrorBody),
    )
)]
#[put("/csat")]
pub async fn rate_by_link(
    state: web::Data<AppState>,
    query: Result<web::Query<CsatTokenQuery>, actix_web::Error>,
    body: JsonBody<CsatRequest>,
) -> Result<web::Json<Envelope<CsatSurveyDto>>, ApiError> {
    let rating = parse(body)?;
    let query = query.map_err(ApiError::Rejected)?;
    let signer = signer(&state)?;
    csat::verify_token(&signer, &query.token)?;
    csat::ensure_enabled(&state.db).await?;
    let rater = Rater::Link {
        signer: &signer,
        token: &query.token,
    };
    let survey = csat::rate(&state.db, rater, rating, state.clock.now()).await?;
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(survey)))
}
