//! Typed client for the Helpdesk REST API: one function per endpoint, each returning
//! `Result<T, ApiError>`.
//!
//! Success bodies are `shared::Envelope<T>` and are unwrapped to `T`; error bodies are decoded
//! into `shared::ErrorBody` so pages match on [`ErrorCode`], never on English text. Calls that
//! need a bearer token take the [`Session`] (the only owner of the token); when the server says
//! that token is no longer good, the session is ended here, once, for every caller.
//! Nothing in this module touches the DOM or the router.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use gloo_net::http::{Request, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::agents::{AgentDto, AgentStatus, CreateAgentRequest, Shift, StatusRequest};
use shared::calendar::{CalendarDto, CalendarRequest, RecomputeRequest, RecomputeResult};
use shared::csat::{CsatAnalytics, CsatRequest, CsatSurveyDto};
use shared::journey::Problem;
use shared::journeys::{JourneyDto, JourneyRequest, SubmitJourneyRequest};
use shared::macros::{AppliedMacro, ApplyMacroRequest, MacroDto, MacroPreview, MacroRequest};
use shared::mail::{
    InboundEntryDto, InboundStatus, IngestOutcome, NotificationPreferences, OutboxEntryDto,
    OutboxStatus, UpdateNotificationsRequest,
};
use shared::settings::{SettingsDto, UpdateSettingsRequest};
use shared::sla::SlaStatus;
use shared::tags::{SetTagsRequest, TagCountDto};
use shared::tickets::{
    AssignRequest, AttachmentDto, CreateMessageRequest, HistoryEntryDto, MessageDto, SortOrder,
    TicketDto, TicketListQuery, TicketSort, TicketSummaryDto, UpdateTicketRequest,
};
use shared::tokens::{CreateTokenRequest, CreatedToken, TokenDto};
use shared::users::{AuthResponse, LoginRequest, RegisterRequest, UpdateMeRequest, UserDto};
use shared::views::{ViewCountDto, ViewDto, ViewRequest};
use shared::webhooks::{
    CreateWebhookRequest, DeliveryDto, UpdateWebhookRequest, WebhookDto, WebhookEventType,
    WebhookSettingsDto, WebhookWithSecret,
};
use shared::{Envelope, ErrorBody, ErrorCode, Priority, Role, TicketStatus};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys;

use crate::session::{SESSION_EXPIRED, Session};

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with its JSON error body.
    Server { status: u16, body: ErrorBody },
    /// No answer at all: offline, server down, or the request could not be sent.
    Network(String),
    /// An answer arrived but is not what this client understands (e.g. an HTML error page
    /// from a proxy, or a body that does not match the shared types).
    Unexpected { status: u16, detail: String },
    /// The server sent an error body whose `code` this build of the SPA does not know yet
    /// (the code list in `shared` only grows), so it is kept as text.
    UnknownCode {
        status: u16,
        code: String,
        message: String,
        details: Option<serde_json::Value>,
    },
    /// An authenticated call was attempted without a session.
    SignedOut,
}

impl ApiError {
    /// The machine-readable code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Server { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The structured `details` of the error body, if any.
    pub fn details(&self) -> Option<&serde_json::Value> {
        match self {
            ApiError::Server { body, .. } => body.details.as_ref(),
            ApiError::UnknownCode { details, .. } => details.as_ref(),
            _ => None,
        }
    }

    /// True when the token used for the call can never work again, so the session must end.
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            ApiError::Server { status: 401, body } if matches!(
                body.code,
                ErrorCode::TokenExpired
                    | ErrorCode::InvalidToken
                    | ErrorCode::AccountDisabled
                    | ErrorCode::Unauthorized
            )
        )
    }

    /// The journey problems of a 422 `invalid_journey` (`details.problems`); empty otherwise.
    pub fn journey_problems(&self) -> Vec<Problem> {
        self.details()
            .and_then(|d| d.get("problems"))
            .and_then(|p| serde_json::from_value::<Vec<Problem>>(p.clone()).ok())
            .unwrap_or_default()
    }

    /// Per-field messages from `details.fields` of a validation error, keyed by field name.
    pub fn field_errors(&self) -> BTreeMap<String, String> {
        self.details()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_object())
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|msg| (k.clone(), sentence(msg))))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A sentence to show the user. Known codes get wording of our own; for the rest the
    /// server's message is shown, because it names the specific problem.
    pub fn message(&self) -> String {
        match self {
            ApiError::Server { body, .. } => match body.code {
                ErrorCode::InvalidCredentials => "Email or password is incorrect.".into(),
                ErrorCode::EmailTaken => "An account with this email already exists.".into(),
                ErrorCode::AccountDisabled => {
                    "This account has been disabled. Please contact an administrator.".into()
                }
                ErrorCode::TokenExpired | ErrorCode::InvalidToken | ErrorCode::Unauthorized => {
                    SESSION_EXPIRED.into()
                }
                ErrorCode::Forbidden => "You do not have permission to do that.".into(),
                ErrorCode::RateLimited => {
                    "Too many attempts. Please wait a moment and try again.".into()
                }
                ErrorCode::InternalError | ErrorCode::ServiceUnavailable => {
                    "The server could not complete the request. Please try again in a moment."
                        .into()
                }
                ErrorCode::ValidationFailed if !self.field_errors().is_empty() => {
                    "Please correct the highlighted fields.".into()
                }
                ErrorCode::InvalidTransition => {
                    "The ticket has changed meanwhile; that status change is no longer possible."
                        .into()
                }
                ErrorCode::TicketClosed => {
                    "This ticket is closed; nothing can be added to it.".into()
                }
                ErrorCode::AlreadyAssigned => "Another agent has already taken this ticket.".into(),
                ErrorCode::OverCapacity => {
                    "You already have as many open tickets as you can take.".into()
                }
                ErrorCode::PayloadTooLarge => "An image is larger than 5 MB.".into(),
                ErrorCode::UnsupportedMediaType => {
                    "Only PNG, JPEG, GIF and WebP images can be uploaded.".into()
                }
                _ => sentence(&body.error),
            },
            ApiError::UnknownCode { code, message, .. } => match code.as_str() {
                "already_assigned" => "Another agent has already taken this ticket.".into(),
                "over_capacity" => "You already have as many open tickets as you can take.".into(),
                _ => sentence(message),
            },
            ApiError::Network(_) => {
                "Cannot reach the Helpdesk server. Check your connection and try again.".into()
            }
            ApiError::Unexpected { status, detail } => {
                format!(
                    "The server sent an answer this page cannot read (HTTP {status}: {detail})."
                )
            }
            ApiError::SignedOut => "Please sign in first.".into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Turns a parser or server message such as "email is required" into "Email is required.".
pub fn sentence(msg: &str) -> String {
    let msg = msg.trim();
    let mut chars = msg.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// `POST /api/auth/register`: creates a customer account and signs it in.
pub async fn register(req: &RegisterRequest) -> Result<AuthResponse, ApiError> {
    send(Request::post("/api/auth/register").json(req)).await
}

/// `POST /api/auth/login`.
pub async fn login(req: &LoginRequest) -> Result<AuthResponse, ApiError> {
    send(Request::post("/api/auth/login").json(req)).await
}

/// `GET /api/auth/me`: who the session's token belongs to.
pub async fn me(session: Session) -> Result<UserDto, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/auth/me")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/auth/me`: changes the signed-in user's name and/or password.
///
/// A password change revokes the account's tokens, so the server may answer with a fresh
/// token (`AuthResponse`) instead of the bare user; the session then switches to that token.
pub async fn update_me(session: Session, req: &UpdateMeRequest) -> Result<UserDto, ApiError> {
    let auth: AuthResponse = authed(session, |bearer| {
        Request::put("/api/auth/me")
            .header("Authorization", bearer)
            .json(req)
    })
    .await?;
    // A password change revokes older tokens; the answer carries the replacement.
    session.replace_token(auth.token);
    Ok(auth.user)
}

/// `PUT /api/auth/me` with only `time_zone` (an IANA name, `""` clears it). The token stays
/// valid through such a change, so the session keeps its own.
pub async fn set_time_zone(session: Session, time_zone: &str) -> Result<UserDto, ApiError> {
    let req = UpdateMeRequest {
        time_zone: Some(time_zone.to_owned()),
        ..Default::default()
    };
    let auth: AuthResponse = authed(session, |bearer| {
        Request::put("/api/auth/me")
            .header("Authorization", bearer)
            .json(&req)
    })
    .await?;
    Ok(auth.user)
}

/// `POST /api/auth/logout-everywhere`: revokes every token of the signed-in user (this one
/// too) and closes their live connections everywhere; the session then ends here as well.
pub async fn sign_out_everywhere(session: Session) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::post("/api/auth/logout-everywhere")
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    session.sign_out();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tickets

/// One page of a list, with the totals from the envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items across all pages.
    pub count: u64,
    pub page: u64,
    pub pages: u64,
}

/// Whose tickets `GET /api/tickets` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    /// Only unassigned tickets (`assigned_agent_id=none`).
    Nobody,
    /// Only tickets assigned to this agent.
    Agent(Uuid),
    /// Only the caller's own (`assigned_agent_id=me`).
    Me,
}

/// Filters of `GET /api/tickets`; empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketQuery {
    pub status: Vec<TicketStatus>,
    pub priority: Vec<Priority>,
    pub assignee: Option<Assignee>,
    pub customer_id: Option<Uuid>,
    /// Exact category, e.g. `orders/damaged`.
    pub category: Option<String>,
    /// Staff: comma-separated tags the tickets must all carry.
    pub tags: Option<String>,
    pub escalated: Option<bool>,
    /// Created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_to: Option<DateTime<Utc>>,
    pub sla: Option<SlaStatus>,
    /// Running clocks past their warning share (staff).
    pub breaching_soon: Option<bool>,
    /// Subject text or `#number`.
    pub q: Option<String>,
    pub sort: Option<TicketSort>,
    pub order: Option<SortOrder>,
    pub page: Option<u64>,
    /// At most 100.
    pub per_page: Option<u64>,
}

impl TicketQuery {
    /// The query parameters, in a stable order (also used for the page's own address).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let join = |items: Vec<&str>| items.join(",");
        let mut out = Vec::new();
        if !self.status.is_empty() {
            out.push((
                "status",
                join(self.status.iter().map(|s| s.as_str()).collect()),
            ));
        }
        if !self.priority.is_empty() {
            out.push((
                "priority",
                join(self.priority.iter().map(|p| p.as_str()).collect()),
            ));
        }
        match self.assignee {
            Some(Assignee::Nobody) => out.push(("assigned_agent_id", "none".to_owned())),
            Some(Assignee::Agent(id)) => out.push(("assigned_agent_id", id.to_string())),
            Some(Assignee::Me) => out.push(("assigned_agent_id", "me".to_owned())),
            None => {}
        }
        if let Some(id) = self.customer_id {
            out.push(("customer_id", id.to_string()));
        }
        if let Some(category) = self.category.as_deref().map(str::trim)
            && !category.is_empty()
        {
            out.push(("category", category.to_owned()));
        }
        if let Some(tags) = self.tags.as_deref().map(str::trim)
            && !tags.is_empty()
        {
            out.push(("tags", tags.to_owned()));
        }
        if let Some(escalated) = self.escalated {
            out.push(("escalated", escalated.to_string()));
        }
        let instant = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
        if let Some(from) = self.created_from {
            out.push(("created_from", instant(from)));
        }
        if let Some(to) = self.created_to {
            out.push(("created_to", instant(to)));
        }
        if let Some(sla) = self.sla {
            out.push(("sla", sla.as_str().to_owned()));
        }
        if let Some(soon) = self.breaching_soon {
            out.push(("breaching_soon", soon.to_string()));
        }
        if let Some(q) = self.q.as_deref().map(str::trim)
            && !q.is_empty()
        {
            out.push(("q", q.to_owned()));
        }
        if let Some(sort) = self.sort {
            let name = match sort {
                TicketSort::CreatedAt => "created_at",
                TicketSort::UpdatedAt => "updated_at",
                TicketSort::Priority => "priority",
                TicketSort::Number => "number",
                TicketSort::SlaDue => "sla_due",
                TicketSort::Relevance => "relevance",
            };
            out.push(("sort", name.to_owned()));
        }
        if let Some(order) = self.order {
            let name = match order {
                SortOrder::Asc => "asc",
                SortOrder::Desc => "desc",
            };
            out.push(("order", name.to_owned()));
        }
        if let Some(page) = self.page {
            out.push(("page", page.to_string()));
        }
        if let Some(per_page) = self.per_page {
            out.push(("per_page", per_page.to_string()));
        }
        out
    }
}

/// `GET /api/tickets`: customers get their own tickets, agents the unassigned ones and
/// their own, admins all.
///
/// List rows carry no description or transcript (the ticket page loads those); they come back
/// as [`TicketDto`]s with an empty description, so rows and live events share one type.
pub async fn list_tickets(
    session: Session,
    query: &TicketQuery,
) -> Result<Page<TicketDto>, ApiError> {
    let params = query.params();
    let page: Page<TicketSummaryDto> = authed_page(session, |bearer| {
        Request::get("/api/tickets")
            .query(params.iter().map(|(k, v)| (*k, v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(Page {
        items: page.items.into_iter().map(row_ticket).collect(),
        count: page.count,
        page: page.page,
        pages: page.pages,
    })
}

/// `GET /api/tickets` with parameters as given (a saved view's), rows as [`list_tickets`] gives
/// them.
pub async fn list_tickets_with(
    session: Session,
    params: &[(String, String)],
) -> Result<Page<TicketDto>, ApiError> {
    let page: Page<TicketSummaryDto> = authed_page(session, |bearer| {
        Request::get("/api/tickets")
            .query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(Page {
        items: page.items.into_iter().map(row_ticket).collect(),
        count: page.count,
        page: page.page,
        pages: page.pages,
    })
}

/// `GET /api/tickets?q=`: the best matches first (the default order with `q`), each row with
/// where it matched (`search`). `abort` cancels the request when a newer search supersedes
/// it.
pub async fn search_tickets(
    session: Session,
    q: &str,
    per_page: u64,
    abort: Option<&web_sys::AbortSignal>,
) -> Result<Page<TicketSummaryDto>, ApiError> {
    let per_page = per_page.to_string();
    authed_page(session, |bearer| {
        Request::get("/api/tickets")
            .query([("q", q), ("per_page", per_page.as_str())])
            .header("Authorization", bearer)
            .abort_signal(abort)
            .build()
    })
    .await
}

/// A saved view's filters as `GET /api/tickets` parameters (booleans as `true`/`false`).
pub fn view_params(filters: &TicketListQuery) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(filters) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

/// A list query as a saved view's filters: its parameters without the paging.
pub fn view_filters(query: &TicketQuery) -> serde_json::Value {
    filters_from_params(
        query
            .params()
            .into_iter()
            .filter(|(k, _)| !matches!(*k, "page" | "per_page"))
            .map(|(k, v)| (k.to_owned(), v)),
    )
}

/// List parameters as a saved view's filters (the inverse of [`view_params`]).
pub fn filters_from_params(
    params: impl IntoIterator<Item = (String, String)>,
) -> serde_json::Value {
    let fields = params
        .into_iter()
        .map(|(k, v)| {
            let value = match (k.as_str(), v.as_str()) {
                ("escalated" | "breaching_soon", "true") => serde_json::Value::Bool(true),
                ("escalated" | "breaching_soon", "false") => serde_json::Value::Bool(false),
                _ => serde_json::Value::String(v),
            };
            (k, value)
        })
        .collect();
    serde_json::Value::Object(fields)
}

/// A list row as a [`TicketDto`] without description and transcript.
fn row_ticket(t: TicketSummaryDto) -> TicketDto {
    TicketDto {
        id: t.id,
        number: t.number,
        subject: t.subject,
        description: String::new(),
        status: t.status,
        priority: t.priority,
        category: t.category,
        customer: t.customer,
        assigned_agent: t.assigned_agent,
        assigned_at: t.assigned_at,
        journey_id: t.journey_id,
        journey_version: t.journey_version,
        transcript: None,
        sla: t.sla,
        escalated: t.escalated,
        escalation_level: t.escalation_level,
        message_count: t.message_count,
        attachments: t.attachments,
        created_at: t.created_at,
        updated_at: t.updated_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        merged_into: t.merged_into,
        tags: t.tags,
        csat: None,
        email: None,
    }
}

/// `GET /api/tickets/{id}`.
pub async fn get_ticket(session: Session, id: Uuid) -> Result<TicketDto, ApiError> {
    authed(session, |bearer| {
        Request::get(&format!("/api/tickets/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PATCH /api/tickets/{id}`: status (409 `invalid_transition`), priority, category.
pub async fn update_ticket(
    session: Session,
    id: Uuid,
    req: &UpdateTicketRequest,
) -> Result<TicketDto, ApiError> {
    authed(session, |bearer| {
        Request::patch(&format!("/api/tickets/{id}"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `PUT /api/tickets/{id}/tags` (staff): the ticket's complete set of tags (400 `invalid_tag`).
pub async fn set_tags(
    session: Session,
    id: Uuid,
    tags: Vec<String>,
) -> Result<TicketDto, ApiError> {
    let req = SetTagsRequest { tags };
    authed(session, |bearer| {
        Request::put(&format!("/api/tickets/{id}/tags"))
            .header("Authorization", bearer)
            .json(&req)
    })
    .await
}

/// `GET /api/tags?q=` (staff): known tags starting with `prefix`, most used first (up to 20).
pub async fn known_tags(session: Session, prefix: &str) -> Result<Vec<TagCountDto>, ApiError> {
    let prefix = prefix.trim().to_owned();
    authed(session, |bearer| {
        Request::get("/api/tags")
            .query([("q", prefix.as_str()), ("per_page", "20")])
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/tickets/{id}/take`: an agent assigns an unassigned ticket to themself
/// (409 `already_assigned` when someone was faster, 409 `over_capacity`).
pub async fn take_ticket(session: Session, id: Uuid) -> Result<TicketDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/tickets/{id}/take"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/tickets/{id}/assign` (admins): `Some(agent)` (re)assigns, `None` returns the
/// ticket to the queue.
pub async fn assign_ticket(
    session: Session,
    id: Uuid,
    agent_id: Option<Uuid>,
) -> Result<TicketDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/tickets/{id}/assign"))
            .header("Authorization", bearer)
            .json(&AssignRequest { agent_id })
    })
    .await
}

/// `POST /api/tickets/{id}/merge` (staff): merge this ticket into `target` (a ticket number).
pub async fn merge_ticket(
    session: Session,
    id: Uuid,
    target_number: i64,
    confirm_cross_customer: bool,
) -> Result<shared::links::MergeResultDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/tickets/{id}/merge"))
            .header("Authorization", bearer)
            .json(&shared::links::MergeRequest {
                target_id: None,
                target_number: Some(target_number),
                confirm_cross_customer,
            })
    })
    .await
}

/// `GET /api/tickets/{id}/links` (staff).
pub async fn list_links(
    session: Session,
    id: Uuid,
) -> Result<Vec<shared::links::TicketLinkDto>, ApiError> {
    authed(session, |bearer| {
        Request::get(&format!("/api/tickets/{id}/links"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/tickets/{id}/links` (staff): link the ticket with this number.
pub async fn create_link(
    session: Session,
    id: Uuid,
    target_number: i64,
    relation: shared::links::TicketRelation,
) -> Result<shared::links::TicketLinkDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/tickets/{id}/links"))
            .header("Authorization", bearer)
            .json(&shared::links::CreateLinkRequest {
                target_id: None,
                target_number: Some(target_number),
                relation,
            })
    })
    .await
}

/// `DELETE /api/tickets/{id}/links/{other}` (staff).
pub async fn delete_link(session: Session, id: Uuid, other: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/tickets/{id}/links/{other}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

/// `GET /api/tickets/{id}/history`, one page (oldest first).
pub async fn ticket_history(
    session: Session,
    id: Uuid,
    page: u64,
) -> Result<Page<HistoryEntryDto>, ApiError> {
    authed_page(session, |bearer| {
        Request::get(&format!("/api/tickets/{id}/history"))
            .query([("page", page.to_string()), ("per_page", "100".to_owned())])
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/tickets/{id}/messages`, one page (oldest first).
pub async fn list_messages(
    session: Session,
    id: Uuid,
    page: u64,
) -> Result<Page<MessageDto>, ApiError> {
    authed_page(session, |bearer| {
        Request::get(&format!("/api/tickets/{id}/messages"))
            .query([("page", page.to_string()), ("per_page", "100".to_owned())])
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// The most pages [`all_pages`] follows (100 items each).
const MAX_PAGES: u64 = 20;

/// Every page of a paged list, fetched one after the other (at most [`MAX_PAGES`]).
pub async fn all_pages<T, F, Fut>(fetch: F) -> Result<Vec<T>, ApiError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<Page<T>, ApiError>>,
{
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let batch = fetch(page).await?;
        out.extend(batch.items);
        if page >= batch.pages || page >= MAX_PAGES {
            return Ok(out);
        }
        page += 1;
    }
}

/// `POST /api/tickets/{id}/messages`: a reply, or an internal note (staff only).
pub async fn post_message(
    session: Session,
    id: Uuid,
    req: &CreateMessageRequest,
) -> Result<MessageDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/tickets/{id}/messages"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Saved views

/// `GET /api/views`: the shared views, then the caller's own.
pub async fn list_views(session: Session) -> Result<Vec<ViewDto>, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/views")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/views/counts`: each view's ticket count for the caller (capped).
pub async fn view_counts(session: Session) -> Result<Vec<ViewCountDto>, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/views/counts")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/views` (400 `invalid_query` for a filter the list refuses).
pub async fn create_view(session: Session, req: &ViewRequest) -> Result<ViewDto, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/views")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `DELETE /api/views/{id}`.
pub async fn delete_view(session: Session, id: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/views/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Macros (canned responses)

/// `GET /api/macros`: the shared macros and the caller's own (up to 100), most used first.
pub async fn list_macros(session: Session) -> Result<Vec<MacroDto>, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/macros")
            .query([("per_page", "100")])
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/macros` (422 `validation_failed` on `title` / `body`).
pub async fn create_macro(session: Session, req: &MacroRequest) -> Result<MacroDto, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/macros")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `PUT /api/macros/{id}`.
pub async fn update_macro(
    session: Session,
    id: Uuid,
    req: &MacroRequest,
) -> Result<MacroDto, ApiError> {
    authed(session, |bearer| {
        Request::put(&format!("/api/macros/{id}"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `DELETE /api/macros/{id}`.
pub async fn delete_macro(session: Session, id: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/macros/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

/// `GET /api/tokens`: the caller's API tokens, or (admins, `all`) everyone's, newest first.
pub async fn list_tokens(
    session: Session,
    all: bool,
    page: u64,
) -> Result<Page<TokenDto>, ApiError> {
    let page = page.to_string();
    authed_page(session, |bearer| {
        let mut query = vec![("page", page.as_str()), ("per_page", "50")];
        if all {
            query.push(("all", "true"));
        }
        Request::get("/api/tokens")
            .query(query)
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/tokens` (422 `validation_failed` on `name`, `scopes` or `expires_at`): the
/// answer holds the secret, shown this once.
pub async fn create_token(
    session: Session,
    req: &CreateTokenRequest,
) -> Result<CreatedToken, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/tokens")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `DELETE /api/tokens/{id}`: revoke.
pub async fn revoke_token(session: Session, id: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/tokens/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

/// `GET /api/tickets/{id}/macros/{macro_id}/preview`: the filled-in reply and the changes.
pub async fn preview_macro(
    session: Session,
    ticket: Uuid,
    id: Uuid,
) -> Result<MacroPreview, ApiError> {
    authed(session, |bearer| {
        Request::get(&format!("/api/tickets/{ticket}/macros/{id}/preview"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/tickets/{id}/macros/{macro_id}/apply`: the reply (as edited) plus the changes.
pub async fn apply_macro(
    session: Session,
    ticket: Uuid,
    id: Uuid,
    req: &ApplyMacroRequest,
) -> Result<AppliedMacro, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/tickets/{ticket}/macros/{id}/apply"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Attachments

/// `POST /api/upload`: sends images as multipart field `files` (and `ticket_id` when given),
/// reporting upload progress (0.0–1.0) to `on_progress` as it goes.
///
/// Uses `XMLHttpRequest` because `fetch` cannot report upload progress.
pub async fn upload_images(
    session: Session,
    files: &[web_sys::File],
    ticket_id: Option<Uuid>,
    on_progress: impl Fn(f64) + 'static,
) -> Result<Vec<AttachmentDto>, ApiError> {
    let Some(token) = session.token() else {
        return Err(ApiError::SignedOut);
    };
    let result = upload_with_xhr(&token, files, ticket_id, on_progress).await;
    if let Err(err) = &result
        && err.ends_session()
    {
        session.expire(&token, err);
    }
    result
}

async fn upload_with_xhr(
    token: &str,
    files: &[web_sys::File],
    ticket_id: Option<Uuid>,
    on_progress: impl Fn(f64) + 'static,
) -> Result<Vec<AttachmentDto>, ApiError> {
    let js_err = |what: &str| ApiError::Network(format!("could not {what}"));
    let form = web_sys::FormData::new().map_err(|_| js_err("prepare the upload"))?;
    for file in files {
        form.append_with_blob_and_filename("files", file, &file.name())
            .map_err(|_| js_err("read a file"))?;
    }
    if let Some(id) = ticket_id {
        form.append_with_str("ticket_id", &id.to_string())
            .map_err(|_| js_err("prepare the upload"))?;
    }
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| js_err("start the upload"))?;
    xhr.open("POST", "/api/upload")
        .map_err(|_| js_err("start the upload"))?;
    xhr.set_request_header("Authorization", &format!("Bearer {token}"))
        .map_err(|_| js_err("start the upload"))?;

    // Kept alive until the request has finished; dropped (and detached) at the end.
    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                on_progress((ev.loaded() / ev.total()).clamp(0.0, 1.0));
            }
        });
    let upload = xhr.upload().map_err(|_| js_err("start the upload"))?;
    upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));

    let done = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
        xhr.set_ontimeout(Some(&reject));
    });
    xhr.send_with_opt_form_data(Some(&form))
        .map_err(|_| js_err("send the upload"))?;
    let finished = JsFuture::from(done).await;
    upload.set_onprogress(None);
    drop(progress);
    if finished.is_err() {
        return Err(ApiError::Network("the upload was interrupted".into()));
    }
    let status = xhr.status().unwrap_or(0);
    if status == 0 {
        return Err(ApiError::Network(
            "the upload did not reach the server".into(),
        ));
    }
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    let status_text = xhr.status_text().unwrap_or_default();
    decode_text(status, &status_text, &text).map(|envelope: Envelope<_>| envelope.data)
}

/// `GET /api/attachments/{id}` (or the `url` of an [`AttachmentDto`]) with the bearer token,
/// turned into a `blob:` URL an `<img>` can show. The caller revokes it with
/// [`revoke_blob_url`] when the image leaves the page.
pub async fn attachment_blob_url(session: Session, url: &str) -> Result<String, ApiError> {
    let Some(token) = session.token() else {
        return Err(ApiError::SignedOut);
    };
    let request = Request::get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .build()
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        let err = match decode::<serde_json::Value>(response).await {
            Err(err) => err,
            Ok(_) => ApiError::Unexpected {
                status: 0,
                detail: "no image".into(),
            },
        };
        if err.ends_session() {
            session.expire(&token, &err);
        }
        return Err(err);
    }
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let bytes = response
        .binary()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| ApiError::Network("could not read the image".into()))?;
    web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| ApiError::Network("could not show the image".into()))
}

/// Frees a URL made by [`attachment_blob_url`] or [`local_preview_url`].
pub fn revoke_blob_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// A `blob:` URL showing a local file before (or without) uploading it.
pub fn local_preview_url(file: &web_sys::File) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(file).ok()
}

/// `DELETE /api/attachments/{id}` (the uploader or an admin).
pub async fn delete_attachment(session: Session, id: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/attachments/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Journeys

/// `GET /api/journeys`: the journeys the caller may start (active ones for customers).
pub async fn list_journeys(session: Session) -> Result<Vec<JourneyDto>, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/journeys")
            .query([("per_page", "100")])
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/journeys` for admins, one page: inactive journeys too, and archived ones when
/// `archived` is set.
pub async fn admin_journeys(
    session: Session,
    archived: bool,
    page: u64,
) -> Result<Page<JourneyDto>, ApiError> {
    let mut params = vec![("page", page.to_string()), ("per_page", "100".to_owned())];
    if archived {
        params.push(("archived", "true".to_owned()));
    }
    authed_page(session, |bearer| {
        Request::get("/api/journeys")
            .query(params.iter().map(|(k, v)| (*k, v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/journeys`: a new, inactive journey (422 `invalid_journey` with
/// `details.problems`, 409 when the slug is taken).
pub async fn create_journey(
    session: Session,
    req: &JourneyRequest,
) -> Result<JourneyDto, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/journeys")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `PUT /api/journeys/{id}`: a changed definition becomes a new version.
pub async fn update_journey(
    session: Session,
    id: Uuid,
    req: &JourneyRequest,
) -> Result<JourneyDto, ApiError> {
    authed(session, |bearer| {
        Request::put(&format!("/api/journeys/{id}"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// What an admin does to a journey's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JourneyAction {
    Activate,
    Deactivate,
    Archive,
}

impl JourneyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            JourneyAction::Activate => "activate",
            JourneyAction::Deactivate => "deactivate",
            JourneyAction::Archive => "archive",
        }
    }
}

/// `POST /api/journeys/{id}/activate|deactivate|archive`.
pub async fn change_journey(
    session: Session,
    id: Uuid,
    action: JourneyAction,
) -> Result<JourneyDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/journeys/{id}/{}", action.as_str()))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/journeys/{id}`.
pub async fn get_journey(session: Session, id: Uuid) -> Result<JourneyDto, ApiError> {
    authed(session, |bearer| {
        Request::get(&format!("/api/journeys/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/journeys/{id}/submit`: opens a ticket from the answers (422 `invalid_answers`
/// with `details {node_id, reason}` when the server's evaluator disagrees).
pub async fn submit_journey(
    session: Session,
    id: Uuid,
    req: &SubmitJourneyRequest,
) -> Result<TicketDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/journeys/{id}/submit"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Agents

/// `GET /api/agents/me`: the signed-in agent's profile and confirmed status.
pub async fn my_agent(session: Session) -> Result<AgentDto, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/agents/me")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/agents/me/status`.
pub async fn set_my_status(session: Session, status: AgentStatus) -> Result<AgentDto, ApiError> {
    authed(session, |bearer| {
        Request::put("/api/agents/me/status")
            .header("Authorization", bearer)
            .json(&StatusRequest { status })
    })
    .await
}

/// `GET /api/agents`, one page (by name).
pub async fn agents_page(session: Session, page: u64) -> Result<Page<AgentDto>, ApiError> {
    authed_page(session, |bearer| {
        Request::get("/api/agents")
            .query([("page", page.to_string()), ("per_page", "100".to_owned())])
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// Every agent (agents and admins).
pub async fn list_agents(session: Session) -> Result<Vec<AgentDto>, ApiError> {
    all_pages(|page| agents_page(session, page)).await
}

/// `POST /api/agents` (admins): 422 with `details.fields` (`email`, `password`, `name`,
/// `capacity`, `shift.time_zone`, `shift.days`), 409 `email_taken`.
pub async fn create_agent(
    session: Session,
    req: &CreateAgentRequest,
) -> Result<AgentDto, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/agents")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// The changes of `PATCH /api/agents/{id}`; `None` fields are left out of the body, so the
/// server keeps them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentChanges {
    /// `Some(None)` removes the shift.
    pub shift: Option<Option<Shift>>,
    pub capacity: Option<u32>,
    pub active: Option<bool>,
}

impl AgentChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The JSON body. Built by hand because `UpdateAgentRequest` serialises an absent shift as
    /// `null`, which the server reads as "remove the shift".
    fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        if let Some(shift) = &self.shift {
            body.insert(
                "shift".into(),
                serde_json::to_value(shift).unwrap_or(serde_json::Value::Null),
            );
        }
        if let Some(capacity) = self.capacity {
            body.insert("capacity".into(), capacity.into());
        }
        if let Some(active) = self.active {
            body.insert("active".into(), active.into());
        }
        serde_json::Value::Object(body)
    }
}

/// `PATCH /api/agents/{id}` (admins).
pub async fn update_agent(
    session: Session,
    id: Uuid,
    changes: &AgentChanges,
) -> Result<AgentDto, ApiError> {
    let body = changes.body();
    authed(session, |bearer| {
        Request::patch(&format!("/api/agents/{id}"))
            .header("Authorization", bearer)
            .json(&body)
    })
    .await
}

/// `PUT /api/agents/{id}/status` (admins).
pub async fn set_agent_status(
    session: Session,
    id: Uuid,
    status: AgentStatus,
) -> Result<AgentDto, ApiError> {
    authed(session, |bearer| {
        Request::put(&format!("/api/agents/{id}/status"))
            .header("Authorization", bearer)
            .json(&StatusRequest { status })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Settings and users (admins)

/// `GET /api/settings`.
pub async fn get_settings(session: Session) -> Result<SettingsDto, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/settings")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/settings`: 422 `validation_failed` with `details.fields` keyed like
/// `sla_policies.high.response_minutes`.
pub async fn update_settings(
    session: Session,
    req: &UpdateSettingsRequest,
) -> Result<SettingsDto, ApiError> {
    authed(session, |bearer| {
        Request::put("/api/settings")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// SLA calendars (admins)

/// `GET /api/sla/calendars`: every calendar (at most 100 exist), by name.
pub async fn list_calendars(session: Session) -> Result<Vec<CalendarDto>, ApiError> {
    let page: Page<CalendarDto> = authed_page(session, |bearer| {
        Request::get("/api/sla/calendars?per_page=100")
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(page.items)
}

/// `POST /api/sla/calendars`: 422 `invalid_calendar` (`details.fields` like
/// `week.mon[0].end`) or `no_working_time`; 409 when the name is taken.
pub async fn create_calendar(
    session: Session,
    req: &CalendarRequest,
) -> Result<CalendarDto, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/sla/calendars")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `PUT /api/sla/calendars/{id}`.
pub async fn update_calendar(
    session: Session,
    id: Uuid,
    req: &CalendarRequest,
) -> Result<CalendarDto, ApiError> {
    authed(session, |bearer| {
        Request::put(&format!("/api/sla/calendars/{id}"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `DELETE /api/sla/calendars/{id}`: 409 `calendar_in_use` while a policy uses it.
pub async fn delete_calendar(session: Session, id: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/sla/calendars/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

/// `POST /api/sla/recompute`: move open tickets onto the terms now in force.
pub async fn recompute_sla(
    session: Session,
    req: &RecomputeRequest,
) -> Result<RecomputeResult, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/sla/recompute")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Mail

/// `GET /api/auth/me/notifications`: the signed-in user's email switches.
pub async fn my_notifications(session: Session) -> Result<NotificationPreferences, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/auth/me/notifications")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/auth/me/notifications`: turns the given kinds on or off.
pub async fn update_notifications(
    session: Session,
    req: &UpdateNotificationsRequest,
) -> Result<NotificationPreferences, ApiError> {
    authed(session, |bearer| {
        Request::put("/api/auth/me/notifications")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `GET /api/mail/outbox` (admins): one page of recent mail, newest first.
pub async fn outbox_page(
    session: Session,
    status: Option<OutboxStatus>,
    page: u64,
) -> Result<Page<OutboxEntryDto>, ApiError> {
    let mut query = vec![("page", page.to_string()), ("per_page", "25".to_owned())];
    if let Some(status) = status {
        query.push(("status", status.as_str().to_owned()));
    }
    authed_page(session, |bearer| {
        Request::get("/api/mail/outbox")
            .query(query)
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/mail/outbox/{id}/resend` (admins): queues a sent or failed mail again.
pub async fn resend_mail(session: Session, id: Uuid) -> Result<OutboxEntryDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/mail/outbox/{id}/resend"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

// Webhooks (admins)

/// `GET /api/webhooks`: every endpoint.
pub async fn list_webhooks(session: Session) -> Result<Vec<WebhookDto>, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/webhooks")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/webhooks/events`: the event types an endpoint may subscribe to.
pub async fn webhook_event_types(session: Session) -> Result<Vec<WebhookEventType>, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/webhooks/events")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/webhooks` (422 `validation_failed`, `webhook_url_refused` on `url`): the new
/// endpoint and its secret, shown once.
pub async fn create_webhook(
    session: Session,
    req: &CreateWebhookRequest,
) -> Result<WebhookWithSecret, ApiError> {
    authed(session, |bearer| {
        Request::post("/api/webhooks")
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `PATCH /api/webhooks/{id}`: URL, events, enabled.
pub async fn update_webhook(
    session: Session,
    id: Uuid,
    req: &UpdateWebhookRequest,
) -> Result<WebhookDto, ApiError> {
    authed(session, |bearer| {
        Request::patch(&format!("/api/webhooks/{id}"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `DELETE /api/webhooks/{id}`.
pub async fn delete_webhook(session: Session, id: Uuid) -> Result<(), ApiError> {
    let _: serde_json::Value = authed_lenient(session, |bearer| {
        Request::delete(&format!("/api/webhooks/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    Ok(())
}

/// `POST /api/webhooks/{id}/rotate-secret`: the new secret, shown once.
pub async fn rotate_webhook_secret(
    session: Session,
    id: Uuid,
) -> Result<WebhookWithSecret, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/webhooks/{id}/rotate-secret"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/webhooks/{id}/test`: queues a `ping`.
pub async fn test_webhook(session: Session, id: Uuid) -> Result<DeliveryDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/webhooks/{id}/test"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/webhooks/{id}/deliveries`: one page of the delivery log, newest first.
pub async fn webhook_deliveries(
    session: Session,
    id: Uuid,
    page: u64,
) -> Result<Page<DeliveryDto>, ApiError> {
    let query = [("page", page.to_string()), ("per_page", "25".to_owned())];
    authed_page(session, |bearer| {
        Request::get(&format!("/api/webhooks/{id}/deliveries"))
            .query(query)
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver_webhook(
    session: Session,
    id: Uuid,
    delivery: Uuid,
) -> Result<DeliveryDto, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!(
            "/api/webhooks/{id}/deliveries/{delivery}/redeliver"
        ))
        .header("Authorization", bearer)
        .build()
    })
    .await
}

/// `GET /api/webhooks/settings`.
pub async fn webhook_settings(session: Session) -> Result<WebhookSettingsDto, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/webhooks/settings")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/webhooks/settings`.
pub async fn put_webhook_settings(
    session: Session,
    value: &WebhookSettingsDto,
) -> Result<WebhookSettingsDto, ApiError> {
    authed(session, |bearer| {
        Request::put("/api/webhooks/settings")
            .header("Authorization", bearer)
            .json(value)
    })
    .await
}

/// `GET /api/mail/inbound` (admins): received mail, newest first, optionally of one status.
pub async fn inbound_page(
    session: Session,
    status: Option<InboundStatus>,
    page: u64,
) -> Result<Page<InboundEntryDto>, ApiError> {
    let mut query = vec![("page", page.to_string()), ("per_page", "25".to_owned())];
    if let Some(status) = status {
        query.push(("status", status.as_str().to_owned()));
    }
    authed_page(session, |bearer| {
        Request::get("/api/mail/inbound")
            .query(query)
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `POST /api/mail/inbound/{id}/reprocess` (admins): runs a held-back mail through the ingest
/// again.
pub async fn reprocess_mail(session: Session, id: Uuid) -> Result<IngestOutcome, ApiError> {
    authed(session, |bearer| {
        Request::post(&format!("/api/mail/inbound/{id}/reprocess"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/users?role=…&q=…`: the first matches (admins).
pub async fn search_users(
    session: Session,
    role: Role,
    q: &str,
) -> Result<Page<UserDto>, ApiError> {
    let params = [
        ("role", role.as_str().to_owned()),
        ("q", q.trim().to_owned()),
        ("per_page", "10".to_owned()),
    ];
    authed_page(session, |bearer| {
        Request::get("/api/users")
            .query(params.iter().map(|(k, v)| (*k, v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `GET /api/users/{id}` (admins).
pub async fn get_user(session: Session, id: Uuid) -> Result<UserDto, ApiError> {
    authed(session, |bearer| {
        Request::get(&format!("/api/users/{id}"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Customer satisfaction

/// `GET /api/tickets/{id}/csat`: the survey of the ticket's current resolution.
pub async fn get_csat(session: Session, id: Uuid) -> Result<CsatSurveyDto, ApiError> {
    authed(session, |bearer| {
        Request::get(&format!("/api/tickets/{id}/csat"))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/tickets/{id}/csat`: the customer rates (or re-rates) the current resolution
/// (409 `survey_closed` after 7 days, `surveys_disabled` when switched off).
pub async fn rate_ticket(
    session: Session,
    id: Uuid,
    req: &CsatRequest,
) -> Result<CsatSurveyDto, ApiError> {
    authed(session, |bearer| {
        Request::put(&format!("/api/tickets/{id}/csat"))
            .header("Authorization", bearer)
            .json(req)
    })
    .await
}

/// `GET /api/csat?token=…`: the survey a signed link is about (no session needed).
pub async fn get_survey_by_link(token: &str) -> Result<CsatSurveyDto, ApiError> {
    send(Request::get("/api/csat").query([("token", token)]).build()).await
}

/// `PUT /api/csat?token=…`: rate by a signed link (no session needed).
pub async fn rate_by_link(token: &str, req: &CsatRequest) -> Result<CsatSurveyDto, ApiError> {
    send(
        Request::put("/api/csat")
            .query([("token", token)])
            .json(req),
    )
    .await
}

/// `GET /api/analytics/csat?from=…&to=…`.
pub async fn csat_analytics(
    session: Session,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<CsatAnalytics, ApiError> {
    let params = [
        ("from", from.to_rfc3339_opts(SecondsFormat::Millis, true)),
        ("to", to.to_rfc3339_opts(SecondsFormat::Millis, true)),
    ];
    authed(session, |bearer| {
        Request::get("/api/analytics/csat")
            .query(params.iter().map(|(k, v)| (*k, v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Plumbing

/// Sends an authenticated request built by `build` (given the `Bearer …` header value) and ends
/// the session if the server rejects the token.
async fn authed<T: DeserializeOwned>(
    session: Session,
    build: impl FnOnce(&str) -> Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    authed_envelope(session, build)
        .await
        .map(|envelope| envelope.data)
}

/// [`authed`] for list endpoints: keeps the paging totals.
async fn authed_page<T: DeserializeOwned>(
    session: Session,
    build: impl FnOnce(&str) -> Result<Request, gloo_net::Error>,
) -> Result<Page<T>, ApiError> {
    let envelope: Envelope<Vec<T>> = authed_envelope(session, build).await?;
    let count = envelope.count.unwrap_or(envelope.data.len() as u64);
    Ok(Page {
        count,
        page: envelope.page.unwrap_or(1),
        pages: envelope.pages.unwrap_or(1),
        items: envelope.data,
    })
}

/// [`authed`] for endpoints that may answer without a body (e.g. `204 No Content`).
async fn authed_lenient(
    session: Session,
    build: impl FnOnce(&str) -> Result<Request, gloo_net::Error>,
) -> Result<serde_json::Value, ApiError> {
    match authed_envelope::<serde_json::Value>(session, build).await {
        Ok(envelope) => Ok(envelope.data),
        Err(ApiError::Unexpected { status, .. }) if (200..300).contains(&status) => {
            Ok(serde_json::Value::Null)
        }
        Err(err) => Err(err),
    }
}

async fn authed_envelope<T: DeserializeOwned>(
    session: Session,
    build: impl FnOnce(&str) -> Result<Request, gloo_net::Error>,
) -> Result<Envelope<T>, ApiError> {
    let Some(token) = session.token() else {
        return Err(ApiError::SignedOut);
    };
    let result = send_envelope(build(&format!("Bearer {token}"))).await;
    if let Err(err) = &result
        && err.ends_session()
    {
        session.expire(&token, err);
    }
    result
}

async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    send_envelope(request).await.map(|envelope| envelope.data)
}

async fn send_envelope<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<Envelope<T>, ApiError> {
    // Building only fails if the body cannot be serialised, which is a bug, but still a
    // readable error rather than a panic.
    let request = request.map_err(|e| ApiError::Network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(response).await
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<Envelope<T>, ApiError> {
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode_text(response.status(), &response.status_text(), &text)
}

/// An error body whose `code` may be newer than this build's `ErrorCode`.
#[derive(Deserialize)]
struct LooseErrorBody {
    error: String,
    code: String,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

/// Turns a status and body text into the envelope or the matching [`ApiError`].
fn decode_text<T: DeserializeOwned>(
    status: u16,
    status_text: &str,
    text: &str,
) -> Result<Envelope<T>, ApiError> {
    if (200..300).contains(&status) {
        return serde_json::from_str::<Envelope<T>>(text).map_err(|e| ApiError::Unexpected {
            status,
            detail: e.to_string(),
        });
    }
    if let Ok(body) = serde_json::from_str::<ErrorBody>(text) {
        return Err(ApiError::Server { status, body });
    }
    if let Ok(loose) = serde_json::from_str::<LooseErrorBody>(text) {
        return Err(ApiError::UnknownCode {
            status,
            code: loose.code,
            message: loose.error,
            details: loose.details,
        });
    }
    Err(ApiError::Unexpected {
        status,
        detail: if status_text.is_empty() {
            "no error details".into()
        } else {
            status_text.to_owned()
        },
    })
}
