//! `/api/webhooks`: admins register endpoints that receive signed events, read each one's
//! delivery log, redeliver, send a test `ping`, and choose whether private targets are
//! allowed. Admins only. The delivery machinery is `services::webhooks`.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use shared::{
    Envelope, ErrorBody,
    webhooks::{
        CreateWebhookRequest, DeliveryDto, DeliveryListQuery, UpdateWebhookRequest, WebhookDto,
        WebhookEventType, WebhookSettingsDto, WebhookWithSecret,
    },
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, JsonBody},
    error::ApiError,
    services::{self, webhooks},
    state::AppState,
};

/// Every registered endpoint (secrets are never listed).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints, oldest first", body = Envelope<Vec<WebhookDto>>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<Envelope<Vec<WebhookDto>>>, ApiError> {
    Ok(web::Json(Envelope::ok(webhooks::list(&state.db).await?)))
}

/// Register an endpoint. The answer carries its signing secret, shown this once. It receives
/// the events that happen from now on.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Registered; keep the secret", body = Envelope<WebhookWithSecret>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `url` (not http(s)), `events` or `description`; `webhook_url_refused`: the host is or resolves to an internal address", body = ErrorBody),
    )
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner()?;
    let created = webhooks::create(&state.db, admin.0.id, req, state.clock.now()).await?;
    log::info!(
        "admin {} registered webhook {} for {}",
        admin.0.id,
        created.webhook.id,
        created.webhook.url
    );
    Ok(HttpResponse::Created().json(Envelope::ok(created)))
}

/// The event types an endpoint may subscribe to.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stable types, WebSocket names, and `*`", body = Envelope<Vec<WebhookEventType>>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/webhooks/events")]
pub async fn event_types(_admin: AdminUser) -> web::Json<Envelope<Vec<WebhookEventType>>> {
    web::Json(Envelope::ok(webhooks::event_types()))
}

/// Whether endpoints may target private addresses.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook settings", body = Envelope<WebhookSettingsDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/webhooks/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<Envelope<WebhookSettingsDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        webhooks::get_settings(&state.db).await?,
    )))
}

/// Allow (or forbid again) endpoints on loopback, private, link-local, CGNAT and unique-local
/// addresses. Off by default.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = WebhookSettingsDto,
    responses(
        (status = 200, description = "Saved", body = Envelope<WebhookSettingsDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[put("/webhooks/settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: JsonBody<WebhookSettingsDto>,
) -> Result<web::Json<Envelope<WebhookSettingsDto>>, ApiError> {
    let value = body.into_inner()?;
    let saved = webhooks::put_settings(&state.db, value).await?;
    log::info!(
        "admin {} set webhook private targets allowed = {}",
        admin.0.id,
        saved.allow_private_targets
    );
    Ok(web::Json(Envelope::ok(saved)))
}

/// One endpoint.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint", body = Envelope<WebhookDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<WebhookDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        webhooks::get(&state.db, id.into_inner()).await?,
    )))
}

/// Change an endpoint's URL, description, events or enabled flag (absent fields stay).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "Saved", body = Envelope<WebhookDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 422, description = "`validation_failed` or `webhook_url_refused`, as on create", body = ErrorBody),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateWebhookRequest>,
) -> Result<web::Json<Envelope<WebhookDto>>, ApiError> {
    let req = body.into_inner()?;
    Ok(web::Json(Envelope::ok(
        webhooks::update(&state.db, id.into_inner(), req, state.clock.now()).await?,
    )))
}

/// Delete an endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&state.db, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret, shown this once; the old one stops signing at once.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = Envelope<WebhookWithSecret>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<WebhookWithSecret>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        webhooks::rotate_secret(&state.db, id.into_inner(), state.clock.now()).await?,
    )))
}

/// Queue a `ping` event for the endpoint; watch its delivery log for the outcome.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Queued (`pending`)", body = Envelope<DeliveryDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 409, description = "The endpoint is disabled (`conflict`)", body = ErrorBody),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let d = webhooks::test(&state.db, id.into_inner(), state.clock.now()).await?;
    state.jobs.trigger_webhooks();
    Ok(HttpResponse::Ok().json(Envelope::ok(d)))
}

/// The endpoint's deliveries, newest first, each with its attempts (status code, duration,
/// error, the first 1 KiB of the response).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Webhook id"), DeliveryListQuery),
    responses(
        (status = 200, description = "A page of deliveries (none for an id that names no webhook)", body = Envelope<Vec<DeliveryDto>>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
    query: web::Query<DeliveryListQuery>,
) -> Result<web::Json<Envelope<Vec<DeliveryDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) =
        webhooks::deliveries(&state.db, id.into_inner(), query.status, paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// Send a delivered or failed delivery again, with the same id and body.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Webhook id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "Queued again (`pending`)", body = Envelope<DeliveryDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook or delivery", body = ErrorBody),
        (status = 409, description = "Still pending or being delivered (`conflict`)", body = ErrorBody),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let d = webhooks::redeliver(&state.db, id, delivery_id, state.clock.now()).await?;
    state.jobs.trigger_webhooks();
    Ok(HttpResponse::Ok().json(Envelope::ok(d)))
}
