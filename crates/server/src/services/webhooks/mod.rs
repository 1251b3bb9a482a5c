//! Webhooks: admins register HTTP endpoints that receive signed JSON for the events they
//! choose. This module holds the endpoints' CRUD, the delivery log, redelivery and test pings;
//! [`dispatch`] feeds the durable delivery queue from the event log, [`deliver`] is the worker
//! that posts, retries and records attempts, [`ssrf`] guards the targets and [`sign`] makes
//! the `Helpdesk-Signature` header. See docs/integrations.md ("Webhooks").
//!
//! Webhooks are an admin integration: an endpoint sees what the `admins` room sees, internal
//! notes and staff-only events included.

pub mod deliver;
pub mod dispatch;
pub mod sign;
pub mod ssrf;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use shared::{
    ErrorCode, Paging,
    webhooks::{
        CreateWebhookRequest, DeliveryAttemptDto, DeliveryDto, DeliveryStatus,
        MAX_DESCRIPTION_CHARS, PING, STABLE_EVENTS, UpdateWebhookRequest, WS_EVENTS, WebhookDto,
        WebhookEventType, WebhookPayload, WebhookSettingsDto, WebhookWithSecret, is_known_event,
    },
};
use uuid::Uuid;

use crate::{
    entity::{
        WebhookAttempt, WebhookDelivery, WebhookEndpoint,
        webhook::{attempt, delivery, endpoint},
    },
    error::ApiError,
    services::{begin_write, events, fetch_page, settings},
};

/// Most event types one endpoint may list.
const MAX_EVENTS: usize = 64;

/// The catalogue of event types, stable ones first.
pub fn event_types() -> Vec<WebhookEventType> {
    let mut all: Vec<WebhookEventType> = STABLE_EVENTS
        .iter()
        .map(|(name, description)| WebhookEventType {
            name: (*name).to_owned(),
            description: (*description).to_owned(),
        })
        .collect();
    all.extend(WS_EVENTS.iter().map(|name| WebhookEventType {
        name: (*name).to_owned(),
        description: format!(
            "the WebSocket event `{name}` under its own name{}",
            shared::webhooks::stable_name(name)
                .map(|s| format!(" (stable form: `{s}`)"))
                .unwrap_or_default()
        ),
    }));
    all.push(WebhookEventType {
        name: shared::webhooks::ALL.to_owned(),
        description: "every event, under its stable type".to_owned(),
    });
    all
}

fn to_dto(m: &endpoint::Model) -> WebhookDto {
    WebhookDto {
        id: m.id,
        url: m.url.clone(),
        description: m.description.clone(),
        events: events_of(m),
        enabled: m.enabled,
        failing_since: m.failing_since,
        disabled_at: m.disabled_at,
        disabled_reason: m.disabled_reason.clone(),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The event types an endpoint wants.
pub fn events_of(m: &endpoint::Model) -> Vec<String> {
    serde_json::from_value(m.events.clone()).unwrap_or_default()
}

/// Checks a URL for registration: syntax (422 `validation_failed` on `url`) and target
/// (422 `webhook_url_refused`).
async fn check_url(db: &DatabaseConnection, raw: &str) -> Result<String, ApiError> {
    let url = ssrf::parse(raw)
        .map_err(|e| ApiError::field(ErrorCode::ValidationFailed, "url", e.to_string()))?;
    let allow = settings::webhooks(db).await?.allow_private_targets;
    match ssrf::resolve(&url, allow).await {
        Ok(_) => Ok(url.to_string()),
        Err(e @ (ssrf::Refusal::Forbidden(_) | ssrf::Refusal::Unresolvable(_))) => Err(
            ApiError::field(ErrorCode::WebhookUrlRefused, "url", e.to_string()),
        ),
        Err(e) => Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "url",
            e.to_string(),
        )),
    }
}

fn check_events(events: &[String]) -> Result<Vec<String>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "events",
            "choose at least one event type (or `*`)",
        ));
    }
    if events.len() > MAX_EVENTS {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "events",
            format!("at most {MAX_EVENTS} event types"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        let e = e.trim();
        if !is_known_event(e) {
            return Err(ApiError::field(
                ErrorCode::ValidationFailed,
                "events",
                format!(
                    "unknown event type `{}` (see GET /api/webhooks/events)",
                    e.chars().take(64).collect::<String>()
                ),
            ));
        }
        if !out.iter().any(|x| x == e) {
            out.push(e.to_owned());
        }
    }
    Ok(out)
}

fn check_description(d: Option<String>) -> Result<Option<String>, ApiError> {
    let d = d.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if let Some(d) = &d
        && (d.chars().count() > MAX_DESCRIPTION_CHARS || d.chars().any(char::is_control))
    {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "description",
            format!("at most {MAX_DESCRIPTION_CHARS} characters, no control characters"),
        ));
    }
    Ok(d)
}

/// Every endpoint, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<WebhookDto>, ApiError> {
    Ok(WebhookEndpoint::find()
        .order_by_asc(endpoint::Column::CreatedAt)
        .order_by_asc(endpoint::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(to_dto)
        .collect())
}

async fn find(db: &DatabaseConnection, id: Uuid) -> Result<endpoint::Model, ApiError> {
    WebhookEndpoint::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("webhook"))
}

pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<WebhookDto, ApiError> {
    Ok(to_dto(&find(db, id).await?))
}

/// Registers an endpoint. It receives events from now on (not the log's past).
pub async fn create(
    db: &DatabaseConnection,
    actor: Uuid,
    req: CreateWebhookRequest,
    now: DateTime<Utc>,
) -> Result<WebhookWithSecret, ApiError> {
    let events = check_events(&req.events)?;
    let description = check_description(req.description)?;
    let url = check_url(db, &req.url).await?;
    let secret = sign::new_secret();
    let txn = begin_write(db).await?;
    let cursor = events::committed_position(&txn).await?;
    let row = endpoint::ActiveModel {
        id: Set(Uuid::new_v4()),
        url: Set(url),
        description: Set(description),
        secret: Set(secret.clone()),
        events: Set(serde_json::json!(events)),
        enabled: Set(req.enabled.unwrap_or(true)),
        cursor_seq: Set(cursor),
        failing_since: Set(None),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        created_by: Set(actor),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(WebhookWithSecret {
        webhook: to_dto(&row),
        secret,
    })
}

/// Changes an endpoint. Enabling one that was off clears its failure record and starts it at
/// the log's current position (events of the time it was off are not sent); deliveries
/// queued before it went off resume.
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    req: UpdateWebhookRequest,
    now: DateTime<Utc>,
) -> Result<WebhookDto, ApiError> {
    let events = req.events.as_deref().map(check_events).transpose()?;
    let description = match req.description {
        Some(d) => Some(check_description(Some(d))?),
        None => None,
    };
    let url = match &req.url {
        Some(u) => Some(check_url(db, u).await?),
        None => None,
    };
    let txn = begin_write(db).await?;
    let row = WebhookEndpoint::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    let was_enabled = row.enabled;
    let mut active: endpoint::ActiveModel = row.into();
    if let Some(url) = url {
        active.url = Set(url);
    }
    if let Some(d) = description {
        active.description = Set(d);
    }
    if let Some(events) = events {
        active.events = Set(serde_json::json!(events));
    }
    if let Some(enabled) = req.enabled {
        active.enabled = Set(enabled);
        if enabled && !was_enabled {
            active.failing_since = Set(None);
            active.disabled_at = Set(None);
            active.disabled_reason = Set(None);
            active.cursor_seq = Set(events::committed_position(&txn).await?);
        }
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(to_dto(&row))
}

/// Deletes an endpoint with its deliveries and their attempts.
pub async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    find_in(&txn, id).await?;
    let deliveries = sea_orm::sea_query::Query::select()
        .column(delivery::Column::Id)
        .from(WebhookDelivery)
        .and_where(delivery::Column::EndpointId.eq(id))
        .to_owned();
    WebhookAttempt::delete_many()
        .filter(attempt::Column::DeliveryId.in_subquery(deliveries))
        .exec(&txn)
        .await?;
    WebhookDelivery::delete_many()
        .filter(delivery::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    WebhookEndpoint::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

async fn find_in<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<endpoint::Model, ApiError> {
    WebhookEndpoint::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("webhook"))
}

/// A new secret; the old one stops signing at once.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<WebhookWithSecret, ApiError> {
    let txn = begin_write(db).await?;
    let row = find_in(&txn, id).await?;
    let secret = sign::new_secret();
    let mut active: endpoint::ActiveModel = row.into();
    active.secret = Set(secret.clone());
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(WebhookWithSecret {
        webhook: to_dto(&row),
        secret,
    })
}

/// The JSON body of a delivery.
pub fn body(
    id: Uuid,
    kind: &str,
    created_at: DateTime<Utc>,
    seq: i64,
    data: serde_json::Value,
) -> String {
    serde_json::to_string(&WebhookPayload {
        id,
        kind: kind.to_owned(),
        created_at,
        seq,
        data,
    })
    .unwrap_or_else(|_| "{}".to_owned())
}

/// A new pending delivery (not yet inserted).
pub fn new_delivery(
    endpoint_id: Uuid,
    seq: i64,
    kind: &str,
    ticket_id: Option<Uuid>,
    event_at: DateTime<Utc>,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> delivery::ActiveModel {
    let id = Uuid::new_v4();
    delivery::ActiveModel {
        id: Set(id),
        endpoint_id: Set(endpoint_id),
        seq: Set(seq),
        event_type: Set(kind.to_owned()),
        ticket_id: Set(ticket_id),
        body: Set(body(id, kind, event_at, seq, data)),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_by: Set(None),
        locked_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
    }
}

/// Queues a `ping` for the endpoint (it goes out like any delivery, signed, with retries).
pub async fn test(
    db: &DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<DeliveryDto, ApiError> {
    let txn = begin_write(db).await?;
    let ep = find_in(&txn, id).await?;
    if !ep.enabled {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            "the endpoint is disabled; enable it first".to_owned(),
        ));
    }
    let row = new_delivery(
        id,
        0,
        PING,
        None,
        now,
        serde_json::json!({"webhook_id": id, "message": "a test event from Helpdesk"}),
        now,
    )
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(delivery_dto(row, Vec::new()))
}

fn delivery_dto(d: delivery::Model, attempts: Vec<attempt::Model>) -> DeliveryDto {
    let status = DeliveryStatus::parse(&d.status).unwrap_or(DeliveryStatus::Pending);
    DeliveryDto {
        id: d.id,
        webhook_id: d.endpoint_id,
        event_type: d.event_type,
        seq: d.seq,
        ticket_id: d.ticket_id,
        status,
        attempts: d.attempts,
        next_attempt_at: (status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        delivered_at: d.delivered_at,
        created_at: d.created_at,
        payload: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
        attempt_log: attempts
            .into_iter()
            .map(|a| DeliveryAttemptDto {
                number: a.number,
                started_at: a.started_at,
                duration_ms: a.duration_ms,
                status_code: a.status_code,
                error: a.error,
                response_excerpt: a.response_excerpt,
            })
            .collect(),
    }
}

/// The endpoint's deliveries, newest first, each with its attempts (an id that names no
/// endpoint simply has none).
pub async fn deliveries(
    db: &DatabaseConnection,
    id: Uuid,
    status: Option<DeliveryStatus>,
    paging: Paging,
) -> Result<(Vec<DeliveryDto>, u64), ApiError> {
    let mut select = WebhookDelivery::find()
        .filter(delivery::Column::EndpointId.eq(id))
        .order_by_desc(delivery::Column::CreatedAt)
        .order_by_desc(delivery::Column::Seq)
        .order_by_asc(delivery::Column::Id);
    if let Some(status) = status {
        select = select.filter(delivery::Column::Status.eq(status.as_str()));
    }
    let (rows, count) = fetch_page(db, select, paging).await?;
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut attempts = WebhookAttempt::find()
        .filter(attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(attempt::Column::Number)
        .all(db)
        .await?;
    let items = rows
        .into_iter()
        .map(|d| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                attempts.drain(..).partition(|a| a.delivery_id == d.id);
            attempts = rest;
            delivery_dto(d, mine)
        })
        .collect();
    Ok((items, count))
}

/// Sends a delivery again, with the same id and body: a delivered or failed one is queued
/// anew (its attempt log is kept). A pending or delivering one is a 409.
pub async fn redeliver(
    db: &DatabaseConnection,
    id: Uuid,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> Result<DeliveryDto, ApiError> {
    let txn = begin_write(db).await?;
    let d = WebhookDelivery::find_by_id(delivery_id)
        .filter(delivery::Column::EndpointId.eq(id))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    match DeliveryStatus::parse(&d.status) {
        Some(DeliveryStatus::Delivered | DeliveryStatus::Failed) => {}
        _ => {
            return Err(ApiError::Conflict(
                ErrorCode::Conflict,
                format!("the delivery is {} already", d.status),
            ));
        }
    }
    let mut active: delivery::ActiveModel = d.into();
    active.status = Set(DeliveryStatus::Pending.as_str().to_owned());
    active.attempts = Set(0);
    active.next_attempt_at = Set(now);
    active.locked_by = Set(None);
    active.locked_until = Set(None);
    active.delivered_at = Set(None);
    let row = active.update(&txn).await?;
    let attempts = WebhookAttempt::find()
        .filter(attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(attempt::Column::Number)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(delivery_dto(row, attempts))
}

pub async fn get_settings(db: &DatabaseConnection) -> Result<WebhookSettingsDto, ApiError> {
    settings::webhooks(db).await
}

pub async fn put_settings(
    db: &DatabaseConnection,
    value: WebhookSettingsDto,
) -> Result<WebhookSettingsDto, ApiError> {
    settings::put(db, settings::WEBHOOKS, &value).await?;
    Ok(value)
}
