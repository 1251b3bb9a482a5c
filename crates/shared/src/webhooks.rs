//! Webhooks: the wire types of `/api/webhooks` (endpoints, deliveries and their attempts) and
//! the catalogue of event types an endpoint can subscribe to.
//!
//! Every delivery's body is a [`WebhookPayload`]: `{id, type, created_at, seq, data}`. The
//! stable dotted types (`ticket.created`, …) are the integration contract; the WebSocket event
//! names (`ticket-updated`, …) may be subscribed to as well and then arrive under that name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest endpoint URL, in bytes.
pub const MAX_URL_LEN: usize = 2000;
/// Longest description, in chars.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// The type of the test event sent by `POST /api/webhooks/{id}/test`.
pub const PING: &str = "ping";
/// Subscribes to every event type.
pub const ALL: &str = "*";

/// The stable event types, with what each means. A log event that has a stable type is
/// delivered under it; the others under their WebSocket name.
pub const STABLE_EVENTS: &[(&str, &str)] = &[
    (
        "ticket.created",
        "a ticket was opened (WebSocket `new-ticket`)",
    ),
    (
        "ticket.updated",
        "a ticket changed: status, priority, subject, tags, … (`ticket-updated`)",
    ),
    (
        "ticket.status_changed",
        "a ticket's status changed (sent besides `ticket.updated`, with `previous_status`)",
    ),
    (
        "ticket.assigned",
        "a ticket was assigned, reassigned or released (`ticket-assigned`)",
    ),
    (
        "message.created",
        "a message was added to a ticket, internal notes included (`new-message`)",
    ),
    (
        "ticket.sla_breached",
        "an SLA target was missed (`sla-breach`)",
    ),
    (
        "ticket.sla_warning",
        "a share of an SLA window is used up (`sla-warning`)",
    ),
    (
        "ticket.merged",
        "a ticket was merged into another (`ticket-merged`)",
    ),
    (
        "ticket.linked",
        "a link between tickets was added (`ticket-linked`)",
    ),
    (
        "ticket.unlinked",
        "a link between tickets was removed (`ticket-unlinked`)",
    ),
    (
        "ticket.rated",
        "a customer rated a resolution (`csat-rated`)",
    ),
    (
        "queue.updated",
        "the queue's length changed (`queue-updated`)",
    ),
    (
        "agent.status_changed",
        "an agent's status changed (`agent-status-changed`)",
    ),
    (
        "webhook.disabled",
        "another webhook endpoint failed for too long and was switched off (`webhook-disabled`)",
    ),
];

/// The WebSocket event names that may be subscribed to as they are.
pub const WS_EVENTS: &[&str] = &[
    "new-ticket",
    "ticket-updated",
    "ticket-assigned",
    "queue-updated",
    "sla-breach",
    "sla-warning",
    "agent-status-changed",
    "new-message",
    "ticket-merged",
    "ticket-linked",
    "ticket-unlinked",
    "csat-rated",
    "webhook-disabled",
];

/// The stable type of a WebSocket event name, if it has one.
pub fn stable_name(ws_name: &str) -> Option<&'static str> {
    Some(match ws_name {
        "new-ticket" => "ticket.created",
        "ticket-updated" => "ticket.updated",
        "ticket-assigned" => "ticket.assigned",
        "new-message" => "message.created",
        "sla-breach" => "ticket.sla_breached",
        "sla-warning" => "ticket.sla_warning",
        "ticket-merged" => "ticket.merged",
        "ticket-linked" => "ticket.linked",
        "ticket-unlinked" => "ticket.unlinked",
        "csat-rated" => "ticket.rated",
        "queue-updated" => "queue.updated",
        "agent-status-changed" => "agent.status_changed",
        "webhook-disabled" => "webhook.disabled",
        _ => return None,
    })
}

/// Whether `name` is something an endpoint may subscribe to.
pub fn is_known_event(name: &str) -> bool {
    name == ALL
        || name == PING
        || STABLE_EVENTS.iter().any(|(n, _)| *n == name)
        || WS_EVENTS.contains(&name)
}

/// The body of every delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookPayload {
    /// The delivery's id: the same on every retry and redelivery (also `Helpdesk-Delivery`).
    pub id: Uuid,
    /// The event type, e.g. `ticket.created` (also `Helpdesk-Event`).
    #[serde(rename = "type")]
    pub kind: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// The event's place in the event log (the WebSocket stream's `seq`); 0 for `ping`.
    pub seq: i64,
    /// The event's data: the same object the WebSocket event carries (a ticket, a message, …).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// A registered endpoint (the secret is shown only on creation and rotation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDto {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Since when every attempt has failed (none succeeded since).
    pub failing_since: Option<DateTime<Utc>>,
    /// When the endpoint was switched off automatically, and why.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new endpoint or a rotated secret: the endpoint and its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookWithSecret {
    pub webhook: WebhookDto,
    /// The HMAC-SHA256 key of `Helpdesk-Signature`; keep it, it is not shown again.
    pub secret: String,
}

/// `POST /api/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An `http://` or `https://` URL.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Event types (see `GET /api/webhooks/events`); `*` for all.
    pub events: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// `PATCH /api/webhooks/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    /// Enabling an endpoint that was switched off clears its failure record.
    pub enabled: Option<bool>,
}

/// One event type of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEventType {
    pub name: String,
    pub description: String,
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// An attempt is under way.
    Delivering,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: out of attempts, or the endpoint was disabled.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivering => "delivering",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => DeliveryStatus::Pending,
            "delivering" => DeliveryStatus::Delivering,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => return None,
        })
    }
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttemptDto {
    pub number: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// The HTTP status, absent when no response came (refused, timed out, …).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// The first 1 KiB of the response body.
    pub response_excerpt: Option<String>,
}

/// One event for one endpoint, with its attempts (newest last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryDto {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub seq: i64,
    pub ticket_id: Option<Uuid>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The body sent.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    pub attempt_log: Vec<DeliveryAttemptDto>,
}

/// `GET /api/webhooks/{id}/deliveries` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct DeliveryListQuery {
    pub status: Option<DeliveryStatus>,
    /// 1-based page number (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// The webhook settings (`GET`/`PUT /api/webhooks/settings`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookSettingsDto {
    /// Allow endpoints on loopback, private, link-local, CGNAT and unique-local addresses
    /// (off by default: a server-side request forgery guard).
    pub allow_private_targets: bool,
}
