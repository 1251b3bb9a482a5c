//! `/api/macros`: canned responses, and `/api/tickets/{id}/macros/{macro_id}/…` to use one.
//! Staff only: shared macros are managed by admins, personal ones by their owner.

use actix_web::{HttpResponse, delete, get, post, put, web};
use shared::{
    Envelope, ErrorBody,
    macros::{
        AppliedMacro, ApplyMacroRequest, MacroDto, MacroListQuery, MacroPreview, MacroRequest,
    },
};
use uuid::Uuid;

use crate::{
    auth::{AgentUser, JsonBody},
    error::ApiError,
    services::{self, macros},
    state::AppState,
};

/// Shared macros and your own, most used first, then by title.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    params(MacroListQuery),
    responses(
        (status = 200, description = "Macros you may use", body = Envelope<Vec<MacroDto>>),
        (status = 403, description = "Customers have no macros", body = ErrorBody),
    )
)]
#[get("/macros")]
pub async fn list(
    state: web::Data<AppState>,
    staff: AgentUser,
    query: web::Query<MacroListQuery>,
) -> Result<web::Json<Envelope<Vec<MacroDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) = macros::list(&state.db, &staff.0, &query, paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// Create a personal macro, or (admins, `"shared": true`) a shared one. An unknown
/// placeholder is a 422 on `body`.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    request_body = MacroRequest,
    responses(
        (status = 201, description = "Created", body = Envelope<MacroDto>),
        (status = 403, description = "A customer, or an agent asking for a shared macro", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `title` or `body` (length, unknown or unclosed placeholder)", body = ErrorBody),
    )
)]
#[post("/macros")]
pub async fn create(
    state: web::Data<AppState>,
    staff: AgentUser,
    body: JsonBody<MacroRequest>,
) -> Result<HttpResponse, ApiError> {
    let dto = macros::create(&state.db, &staff.0, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(Envelope::ok(dto)))
}

/// One macro you may use.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Macro id")),
    responses(
        (status = 200, description = "The macro", body = Envelope<MacroDto>),
        (status = 403, description = "Customers have no macros", body = ErrorBody),
        (status = 404, description = "No such macro, or another agent's", body = ErrorBody),
    )
)]
#[get("/macros/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<MacroDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        macros::get(&state.db, &staff.0, id.into_inner()).await?,
    )))
}

/// Edit a macro: your own, or (admins) a shared one. `shared` must stay as it is.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Macro id")),
    request_body = MacroRequest,
    responses(
        (status = 200, description = "Saved", body = Envelope<MacroDto>),
        (status = 403, description = "A shared macro and you are not an admin", body = ErrorBody),
        (status = 404, description = "No such macro, or another agent's", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `title`, `body` or `shared`", body = ErrorBody),
    )
)]
#[put("/macros/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
    body: JsonBody<MacroRequest>,
) -> Result<web::Json<Envelope<MacroDto>>, ApiError> {
    // A refusal comes before anything is said about the body; a macro the caller cannot see
    // answers like any unknown id, after the body's own errors.
    let m = match macros::editable(&state.db, &staff.0, id.into_inner()).await {
        Err(forbidden @ ApiError::Forbidden(_)) => return Err(forbidden),
        other => other,
    };
    let req = body.into_inner()?;
    let m = m?;
    Ok(web::Json(Envelope::ok(
        macros::update(&state.db, m, req).await?,
    )))
}

/// Delete a macro: your own, or (admins) a shared one.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Macro id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "A shared macro and you are not an admin", body = ErrorBody),
        (status = 404, description = "No such macro, or another agent's", body = ErrorBody),
    )
)]
#[delete("/macros/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    macros::delete(&state.db, &staff.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The macro's reply with this ticket's values filled in, and the changes it would make.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Ticket id"),
        ("macro_id" = Uuid, Path, description = "Macro id"),
    ),
    responses(
        (status = 200, description = "What applying would send and change", body = Envelope<MacroPreview>),
        (status = 403, description = "Customers have no macros", body = ErrorBody),
        (status = 404, description = "No such ticket or macro you may see", body = ErrorBody),
    )
)]
#[get("/tickets/{id}/macros/{macro_id}/preview")]
pub async fn preview(
    state: web::Data<AppState>,
    staff: AgentUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Envelope<MacroPreview>>, ApiError> {
    let (ticket_id, macro_id) = path.into_inner();
    Ok(web::Json(Envelope::ok(
        macros::preview(&state.db, &staff.0, ticket_id, macro_id).await?,
    )))
}

/// Post the macro's reply (`body` as edited after the preview, default the filled-in macro;
/// `internal` for a note) and apply its changes, like a reply and an edit made by hand.
#[utoipa::path(
    tag = "macros",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Ticket id"),
        ("macro_id" = Uuid, Path, description = "Macro id"),
    ),
    request_body = ApplyMacroRequest,
    responses(
        (status = 201, description = "The message posted and the ticket after the changes", body = Envelope<AppliedMacro>),
        (status = 403, description = "Customers have no macros", body = ErrorBody),
        (status = 404, description = "No such ticket or macro you may see", body = ErrorBody),
        (status = 409, description = "`invalid_transition` (nothing was sent, unless the message says so), `ticket_closed`, `not_assigned`", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `body`", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/macros/{macro_id}/apply")]
pub async fn apply(
    state: web::Data<AppState>,
    staff: AgentUser,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<ApplyMacroRequest>,
) -> Result<HttpResponse, ApiError> {
    let (ticket_id, macro_id) = path.into_inner();
    let req = body.into_inner()?;
    let result = macros::apply(&state.db, &state.mail, &staff.0, ticket_id, macro_id, req).await;
    // Even a failed change may follow a posted reply: wake the stream and the mail either way.
    state.realtime.poke();
    state.jobs.trigger_mail();
    let applied = result?;
    if !applied.ticket.status.is_active() {
        // A resolved or closed ticket frees capacity for queued ones.
        state.jobs.trigger_assignment();
    }
    Ok(HttpResponse::Created().json(Envelope::ok(applied)))
}
