//! `/api/agents`: agent profiles, live status and metrics.

use actix_web::{HttpResponse, get, patch, post, put, web};
use shared::{
    Envelope, ErrorBody, Paging, Role,
    agents::{AgentDto, CreateAgentRequest, StatusRequest, UpdateAgentRequest},
    envelope::PageQuery,
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, AgentUser, JsonBody},
    error::ApiError,
    services::{self, agents},
    state::AppState,
};

/// Every agent with live status, shift and metrics (agents and admins).
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Agents by name", body = Envelope<Vec<AgentDto>>),
        (status = 403, description = "Customers cannot list agents", body = ErrorBody),
    )
)]
#[get("/agents")]
pub async fn list(
    state: web::Data<AppState>,
    _staff: AgentUser,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Envelope<Vec<AgentDto>>>, ApiError> {
    let paging = services::paging(query.page, query.per_page)?;
    let all = agents::list(&state.db, state.clock.now()).await?;
    let count = all.len() as u64;
    let page = page_of(all, paging);
    Ok(web::Json(Envelope::page(page, paging, count)))
}

fn page_of<T>(items: Vec<T>, paging: Paging) -> Vec<T> {
    items
        .into_iter()
        .skip(usize::try_from(paging.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(paging.per_page).unwrap_or(usize::MAX))
        .collect()
}

/// Create an agent account with its profile (admins).
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    request_body = CreateAgentRequest,
    responses(
        (status = 201, description = "Created", body = Envelope<AgentDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_email`, `weak_password`, `validation_failed` (shift, capacity)", body = ErrorBody),
    )
)]
#[post("/agents")]
pub async fn create(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: JsonBody<CreateAgentRequest>,
) -> Result<HttpResponse, ApiError> {
    let dto = agents::create(
        &state.db,
        state.settings.bcrypt_cost,
        body.into_inner()?,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(Envelope::ok(dto)))
}

fn me_only(user: &AgentUser) -> Result<Uuid, ApiError> {
    if user.0.role == Role::Agent {
        Ok(user.0.id)
    } else {
        Err(ApiError::Forbidden(
            "only agents have an agent profile".to_owned(),
        ))
    }
}

/// The signed-in agent's own profile.
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your profile", body = Envelope<AgentDto>),
        (status = 403, description = "Not an agent", body = ErrorBody),
    )
)]
#[get("/agents/me")]
pub async fn me(
    state: web::Data<AppState>,
    user: AgentUser,
) -> Result<web::Json<Envelope<AgentDto>>, ApiError> {
    let id = me_only(&user)?;
    Ok(web::Json(Envelope::ok(
        agents::get(&state.db, id, state.clock.now()).await?,
    )))
}

/// Set your own status. `available` starts assignments at once; `offline` may return your
/// open tickets to the queue (setting `release_on_offline`).
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "The confirmed status", body = Envelope<AgentDto>),
        (status = 400, description = "`invalid_json`, also for an unknown status", body = ErrorBody),
        (status = 403, description = "Not an agent", body = ErrorBody),
    )
)]
#[put("/agents/me/status")]
pub async fn my_status(
    state: web::Data<AppState>,
    user: AgentUser,
    body: JsonBody<StatusRequest>,
) -> Result<web::Json<Envelope<AgentDto>>, ApiError> {
    let id = me_only(&user)?;
    Ok(web::Json(Envelope::ok(
        state
            .set_agent_status(id, id, body.into_inner()?.status)
            .await?,
    )))
}

/// One agent (agents and admins).
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The agent's user id")),
    responses(
        (status = 200, description = "The agent", body = Envelope<AgentDto>),
        (status = 403, description = "Customers cannot see agents", body = ErrorBody),
        (status = 404, description = "No such agent", body = ErrorBody),
    )
)]
#[get("/agents/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _staff: AgentUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<AgentDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        agents::get(&state.db, id.into_inner(), state.clock.now()).await?,
    )))
}

/// Edit an agent's shift (`null` removes it), capacity, active flag or name (admins).
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The agent's user id")),
    request_body = UpdateAgentRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<AgentDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such agent", body = ErrorBody),
        (status = 422, description = "`validation_failed` (time zone, days, capacity, name)", body = ErrorBody),
    )
)]
#[patch("/agents/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateAgentRequest>,
) -> Result<web::Json<Envelope<AgentDto>>, ApiError> {
    let dto = agents::update(
        &state.db,
        id.into_inner(),
        body.into_inner()?,
        state.clock.now(),
    )
    .await?;
    // A new shift or more capacity may let queued tickets through.
    state.jobs.trigger_assignment();
    Ok(web::Json(Envelope::ok(dto)))
}

/// Set any agent's status (admins).
#[utoipa::path(
    tag = "agents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The agent's user id")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "The confirmed status", body = Envelope<AgentDto>),
        (status = 400, description = "`invalid_json`, also for an unknown status", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such agent", body = ErrorBody),
    )
)]
#[put("/agents/{id}/status")]
pub async fn set_status(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<StatusRequest>,
) -> Result<web::Json<Envelope<AgentDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        state
            .set_agent_status(admin.0.id, id.into_inner(), body.into_inner()?.status)
            .await?,
    )))
}
