//! `/api/journeys`: guided intake flows. Admins manage them; customers walk the active ones
//! and submit their answers to open a ticket.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use shared::{
    Envelope, ErrorBody,
    journeys::{JourneyDto, JourneyListQuery, JourneyRequest, SubmitJourneyRequest},
    tickets::TicketDto,
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, AuthUser, CustomerUser, JsonBody},
    error::ApiError,
    services::{
        self,
        journeys::{self, StateChange},
    },
    state::AppState,
};

/// Journeys you may use: the active ones (admins: all but archived, or with `archived=true`
/// those too).
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(JourneyListQuery),
    responses(
        (status = 200, description = "Journeys by name, each with its current version", body = Envelope<Vec<JourneyDto>>),
    )
)]
#[get("/journeys")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<JourneyListQuery>,
) -> Result<web::Json<Envelope<Vec<JourneyDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) = journeys::list(&state.db, &user, &query, paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// Create a journey (inactive until activated). Every problem of the definition is reported.
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    request_body = JourneyRequest,
    responses(
        (status = 201, description = "Created as version 1", body = Envelope<JourneyDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Slug taken (`conflict`)", body = ErrorBody),
        (status = 422, description = "`invalid_journey` with `details.problems` [{node_id, code, message}], or `validation_failed`", body = ErrorBody),
    )
)]
#[post("/journeys")]
pub async fn create(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: JsonBody<JourneyRequest>,
) -> Result<HttpResponse, ApiError> {
    let dto = journeys::create(
        &state.db,
        Some(admin.0.id),
        body.into_inner()?,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(Envelope::ok(dto)))
}

/// One journey with its current definition (customers: active ones only).
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id")),
    responses(
        (status = 200, description = "The journey", body = Envelope<JourneyDto>),
        (status = 404, description = "No such journey, or not active", body = ErrorBody),
    )
)]
#[get("/journeys/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<JourneyDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        journeys::get(&state.db, &user, id.into_inner()).await?,
    )))
}

/// Edit a journey. A changed definition becomes a new version; tickets keep the version they
/// were created from.
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id")),
    request_body = JourneyRequest,
    responses(
        (status = 200, description = "Saved; `version` tells whether a new one was made", body = Envelope<JourneyDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such journey", body = ErrorBody),
        (status = 409, description = "Slug taken", body = ErrorBody),
        (status = 422, description = "`invalid_journey` or `validation_failed`", body = ErrorBody),
    )
)]
#[put("/journeys/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<JourneyRequest>,
) -> Result<web::Json<Envelope<JourneyDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        journeys::update(
            &state.db,
            Some(admin.0.id),
            id.into_inner(),
            body.into_inner()?,
            state.clock.now(),
        )
        .await?,
    )))
}

/// The journey as a file to move it to another installation: its slug, name, description,
/// icon and current definition, exactly the body `POST /api/journeys` (and
/// `helpdesk journeys import`) accepts.
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id")),
    responses(
        (status = 200, description = "The journey document, as an attachment `{slug}.journey.json`", body = JourneyRequest),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such journey", body = ErrorBody),
    )
)]
#[get("/journeys/{id}/export")]
pub async fn export(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let doc = journeys::export(&state.db, id.into_inner()).await?;
    // Slugs are `[a-z0-9-]`, so the file name needs no quoting beyond the quotes.
    let disposition = format!("attachment; filename=\"{}.journey.json\"", doc.slug);
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Disposition", disposition))
        .json(doc))
}

async fn change(
    state: &AppState,
    id: Uuid,
    change: StateChange,
) -> Result<web::Json<Envelope<JourneyDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        journeys::change_state(&state.db, id, change, state.clock.now()).await?,
    )))
}

/// Offer the journey to customers.
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id")),
    responses(
        (status = 200, description = "Active", body = Envelope<JourneyDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such journey", body = ErrorBody),
        (status = 409, description = "Archived journeys cannot be activated", body = ErrorBody),
    )
)]
#[post("/journeys/{id}/activate")]
pub async fn activate(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<JourneyDto>>, ApiError> {
    change(&state, id.into_inner(), StateChange::Activate).await
}

/// Stop offering the journey (existing tickets are unaffected).
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id")),
    responses(
        (status = 200, description = "Inactive", body = Envelope<JourneyDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such journey", body = ErrorBody),
    )
)]
#[post("/journeys/{id}/deactivate")]
pub async fn deactivate(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<JourneyDto>>, ApiError> {
    change(&state, id.into_inner(), StateChange::Deactivate).await
}

/// Archive the journey: inactive and hidden from the default list.
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id")),
    responses(
        (status = 200, description = "Archived", body = Envelope<JourneyDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such journey", body = ErrorBody),
    )
)]
#[post("/journeys/{id}/archive")]
pub async fn archive(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<JourneyDto>>, ApiError> {
    change(&state, id.into_inner(), StateChange::Archive).await
}

/// Submit a customer's answers: the server walks them again with the same evaluator and
/// opens a ticket with the outcome's category, priority, subject and transcript.
#[utoipa::path(
    tag = "journeys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Journey id"), crate::idempotent::KeyHeader),
    request_body = SubmitJourneyRequest,
    responses(
        (status = 201, description = "The new ticket (or, with `Idempotency-Replayed: true`, the response of the first request with this `Idempotency-Key`)", body = Envelope<TicketDto>),
        (status = 400, description = "`invalid_idempotency_key`", body = ErrorBody),
        (status = 403, description = "Only customers submit journeys", body = ErrorBody),
        (status = 404, description = "No such active journey", body = ErrorBody),
        (status = 409, description = "`idempotency_in_progress`: the first request with this key is still running", body = ErrorBody),
        (status = 422, description = "`invalid_answers` (details: reason, node_id), `invalid_attachment` or `idempotency_key_reused`", body = ErrorBody),
    )
)]
#[post("/journeys/{id}/submit")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    customer: CustomerUser,
    id: web::Path<Uuid>,
    body: JsonBody<SubmitJourneyRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = customer.0;
    let body = body.into_inner()?;
    crate::idempotent::run(&state, &req, user.id, &body, async {
        let (_, dto) = journeys::submit(
            &state.db,
            &state.mail,
            &user,
            id.into_inner(),
            body.answers.clone(),
            &state.journey_versions,
        )
        .await?;
        state.realtime.poke();
        state.jobs.trigger_mail();
        state.jobs.trigger_assignment();
        // Customers get their copy without SLA internals.
        let dto = if user.role.is_staff() {
            dto
        } else {
            shared::tickets::TicketDto::for_customer(dto)
        };
        Ok(HttpResponse::Created().json(Envelope::ok(dto)))
    })
    .await
}
