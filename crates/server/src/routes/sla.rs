//! `/api/sla/*`: business-hours calendars (admins) and the explicit recompute that moves open
//! tickets onto the SLA terms now in force. Policies themselves are settings
//! (`/api/settings`).

use actix_web::{HttpResponse, delete, get, post, put, web};
use shared::{
    Envelope, ErrorBody,
    calendar::{CalendarDto, CalendarRequest, RecomputeRequest, RecomputeResult},
    envelope::PageQuery,
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, JsonBody},
    error::ApiError,
    services::{self, sla},
    state::AppState,
};

/// The calendars, by name.
#[utoipa::path(
    tag = "sla",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of calendars", body = Envelope<Vec<CalendarDto>>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/sla/calendars")]
pub async fn list_calendars(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Envelope<Vec<CalendarDto>>>, ApiError> {
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) = sla::list(&state.db, paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// Create a calendar: weekly intervals of local time (an end at or before the start runs past
/// midnight), an IANA time zone, holidays (dates or ranges, optionally yearly).
#[utoipa::path(
    tag = "sla",
    security(("bearer" = [])),
    request_body = CalendarRequest,
    responses(
        (status = 201, description = "Created", body = Envelope<CalendarDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`conflict`: the name is taken, or 100 calendars exist", body = ErrorBody),
        (status = 422, description = "`invalid_calendar` (details.fields names each problem: zone, intervals, overlaps, holidays, name) or `no_working_time`", body = ErrorBody),
    )
)]
#[post("/sla/calendars")]
pub async fn create_calendar(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: JsonBody<CalendarRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner()?;
    let dto = sla::create(&state.db, &req, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(Envelope::ok(dto)))
}

/// One calendar.
#[utoipa::path(
    tag = "sla",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    responses(
        (status = 200, description = "The calendar", body = Envelope<CalendarDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such calendar", body = ErrorBody),
    )
)]
#[get("/sla/calendars/{id}")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<CalendarDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        sla::get(&state.db, id.into_inner()).await?,
    )))
}

/// Replace a calendar. Tickets already running on it keep the deadlines they have (they
/// recorded the calendar as it was); `POST /api/sla/recompute` moves them.
#[utoipa::path(
    tag = "sla",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    request_body = CalendarRequest,
    responses(
        (status = 200, description = "Replaced", body = Envelope<CalendarDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such calendar", body = ErrorBody),
        (status = 409, description = "`conflict`: the name is taken", body = ErrorBody),
        (status = 422, description = "`invalid_calendar` or `no_working_time`", body = ErrorBody),
    )
)]
#[put("/sla/calendars/{id}")]
pub async fn update_calendar(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<CalendarRequest>,
) -> Result<web::Json<Envelope<CalendarDto>>, ApiError> {
    let req = body.into_inner()?;
    let dto = sla::update(&state.db, id.into_inner(), &req, state.clock.now()).await?;
    Ok(web::Json(Envelope::ok(dto)))
}

/// Delete a calendar that no policy uses.
#[utoipa::path(
    tag = "sla",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Calendar id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such calendar", body = ErrorBody),
        (status = 409, description = "`calendar_in_use` (details.policies names the policies)", body = ErrorBody),
    )
)]
#[delete("/sla/calendars/{id}")]
pub async fn delete_calendar(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    sla::delete(&state.db, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Recompute the deadlines of open tickets (new, open, pending) on the policies and calendars
/// now in force, from their creation and keeping the time they spent paused. Without this,
/// editing a policy or calendar never moves an existing ticket's deadlines.
#[utoipa::path(
    tag = "sla",
    security(("bearer" = [])),
    request_body = RecomputeRequest,
    responses(
        (status = 200, description = "How many tickets were recomputed and moved", body = Envelope<RecomputeResult>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a policy name longer than 100 characters or with control characters", body = ErrorBody),
    )
)]
#[post("/sla/recompute")]
pub async fn recompute(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: JsonBody<RecomputeRequest>,
) -> Result<web::Json<Envelope<RecomputeResult>>, ApiError> {
    let req = body.into_inner()?;
    let result = sla::recompute(&state.db, &req, state.clock.now()).await?;
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(result)))
}
