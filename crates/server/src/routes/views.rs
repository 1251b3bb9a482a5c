//! `/api/views`: saved ticket-list views and their counts. Staff only: shared views are
//! managed by admins, personal ones by their owner (another user's personal view is a 404).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use shared::{
    Envelope, ErrorBody,
    views::{UpdateViewRequest, ViewCountDto, ViewDto, ViewRequest},
};
use uuid::Uuid;

use crate::{
    auth::{AgentUser, JsonBody},
    error::ApiError,
    services::views,
    state::AppState,
};

/// The shared views and your own: shared first, each kind in its order.
#[utoipa::path(
    tag = "views",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Views you may use", body = Envelope<Vec<ViewDto>>),
        (status = 403, description = "Customers have no views", body = ErrorBody),
    )
)]
#[get("/views")]
pub async fn list(
    state: web::Data<AppState>,
    staff: AgentUser,
) -> Result<web::Json<Envelope<Vec<ViewDto>>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        views::list(&state.db, &staff.0).await?,
    )))
}

/// How many tickets each of your views holds for you, in the order of `GET /api/views`.
/// Exact up to 1000; beyond that the count is 1000 with `capped: true`.
#[utoipa::path(
    tag = "views",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One count per view", body = Envelope<Vec<ViewCountDto>>),
        (status = 403, description = "Customers have no views", body = ErrorBody),
    )
)]
#[get("/views/counts")]
pub async fn counts(
    state: web::Data<AppState>,
    staff: AgentUser,
) -> Result<web::Json<Envelope<Vec<ViewCountDto>>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        views::counts(&state.db, &staff.0).await?,
    )))
}

/// Save a personal view, or (admins, `"shared": true`) a shared one. The filters are checked
/// as `GET /api/tickets` checks its parameters.
#[utoipa::path(
    tag = "views",
    security(("bearer" = [])),
    request_body = ViewRequest,
    responses(
        (status = 201, description = "Created", body = Envelope<ViewDto>),
        (status = 400, description = "`invalid_query`: a filter the ticket list would refuse, `page`/`per_page`, or filters that are not an object", body = ErrorBody),
        (status = 403, description = "A customer, or an agent asking for a shared view", body = ErrorBody),
        (status = 409, description = "`conflict`: already 50 views of that kind", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `name`", body = ErrorBody),
    )
)]
#[post("/views")]
pub async fn create(
    state: web::Data<AppState>,
    staff: AgentUser,
    body: JsonBody<ViewRequest>,
) -> Result<HttpResponse, ApiError> {
    let dto = views::create(&state.db, &staff.0, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(Envelope::ok(dto)))
}

/// Rename a view or replace its filters: your own, or (admins) a shared one.
#[utoipa::path(
    tag = "views",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "View id")),
    request_body = UpdateViewRequest,
    responses(
        (status = 200, description = "Saved", body = Envelope<ViewDto>),
        (status = 400, description = "`invalid_query`: a filter the ticket list would refuse", body = ErrorBody),
        (status = 403, description = "A shared view and you are not an admin", body = ErrorBody),
        (status = 404, description = "No such view, or another user's", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `name`", body = ErrorBody),
    )
)]
#[patch("/views/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateViewRequest>,
) -> Result<web::Json<Envelope<ViewDto>>, ApiError> {
    // A refusal comes before anything is said about the body; a view the caller cannot see
    // answers like any unknown id, after the body's own errors.
    let v = match views::editable(&state.db, &staff.0, id.into_inner()).await {
        Err(forbidden @ ApiError::Forbidden(_)) => return Err(forbidden),
        other => other,
    };
    let req = body.into_inner()?;
    let v = v?;
    Ok(web::Json(Envelope::ok(
        views::update(&state.db, &staff.0, v, req).await?,
    )))
}

/// Delete a view: your own, or (admins) a shared one.
#[utoipa::path(
    tag = "views",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "View id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "A shared view and you are not an admin", body = ErrorBody),
        (status = 404, description = "No such view, or another user's", body = ErrorBody),
    )
)]
#[delete("/views/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    views::delete(&state.db, &staff.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
