//! Tickets: priorities, statuses, the allowed status transitions, and the ticket, message,
//! attachment and history DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Role, sla::SlaStatus};

/// How urgent a ticket is. Ordered: `Low < Medium < High < Urgent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// The stored rank: 0 = low … 3 = urgent.
    pub fn rank(self) -> i16 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_rank(rank: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(rank).ok()?).copied()
    }

    /// One step up (escalation); urgent stays urgent.
    pub fn raised(self) -> Self {
        Self::from_rank(self.rank() + 1).unwrap_or(Priority::Urgent)
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown priority `{s}` (expected low, medium, high or urgent)"))
    }
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Waiting in the queue, nobody assigned.
    New,
    /// Assigned to an agent and being worked on.
    Open,
    /// Waiting on the customer; the SLA clock is paused.
    Pending,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// Statuses in which the ticket still needs work.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::Open | TicketStatus::Pending
        )
    }
}

impl std::fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TicketStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}`"))
    }
}

/// Who may move a ticket from one status to another.
///
/// Staff follow the workflow `new → open → pending → resolved → closed` (with `pending ⇄ open`
/// and reopening `resolved → open`). Customers may close their own ticket at any point and
/// reopen a resolved one.
pub fn allowed_transitions(from: TicketStatus, staff: bool) -> &'static [TicketStatus] {
    use TicketStatus::*;
    if staff {
        match from {
            New => &[Open],
            Open => &[Pending, Resolved],
            Pending => &[Open, Resolved],
            Resolved => &[Open, Closed],
            Closed => &[],
        }
    } else {
        match from {
            New | Open | Pending => &[Closed],
            Resolved => &[Open, Closed],
            Closed => &[],
        }
    }
}

/// A person as shown next to a ticket or message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonDto {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}

/// The SLA clocks of a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaDto {
    /// First public staff reply due by.
    pub response_due_at: Option<DateTime<Utc>>,
    /// Resolution due by.
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    /// The deadline that currently runs; `None` while paused (pending) or done.
    pub due_at: Option<DateTime<Utc>>,
    /// Start of the running clock's window (creation plus time spent paused): with `due_at`
    /// it gives the share of time left for `sla::status`.
    pub started_at: Option<DateTime<Utc>>,
    /// The current clock's state; `None` when no clock runs.
    pub status: Option<SlaStatus>,
    /// True while the ticket is `pending` (waiting on the customer).
    pub paused: bool,
    pub response_breached: bool,
    pub resolution_breached: bool,
    /// When the running clock turns `warning` and `critical` (business time on the ticket's
    /// calendar): with `due_at` they give the status through `sla::status_at`.
    #[serde(default)]
    pub warning_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub critical_at: Option<DateTime<Utc>>,
    /// The policy the ticket runs on (`default` or an override's name).
    #[serde(default)]
    pub policy: Option<String>,
    /// The calendar the ticket runs on; `None` runs 24/7.
    #[serde(default)]
    pub calendar_id: Option<Uuid>,
    /// What the customer is told: "we aim to reply by …". The only SLA field customers see
    /// besides `paused`; `None` while paused or once resolved.
    #[serde(default)]
    pub eta: Option<EtaDto>,
}

/// What the next step the customer waits for is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EtaKind {
    /// The first reply from the team.
    Reply,
    /// A resolution.
    Resolution,
}

/// The time the team aims to answer (or resolve) by, from the ticket's policy and calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EtaDto {
    pub at: DateTime<Utc>,
    pub kind: EtaKind,
}

impl SlaDto {
    /// What a customer may see: whether the ticket waits on them and the ETA; no internal
    /// deadline, state, breach, policy or calendar.
    pub fn for_customer(&self) -> SlaDto {
        SlaDto {
            response_due_at: None,
            resolution_due_at: None,
            first_response_at: self.first_response_at,
            due_at: None,
            started_at: None,
            status: None,
            paused: self.paused,
            response_breached: false,
            resolution_breached: false,
            warning_at: None,
            critical_at: None,
            policy: None,
            calendar_id: None,
            eta: self.eta,
        }
    }
}

impl TicketDto {
    /// The ticket as its customer sees it: SLA internals, escalation and tags removed.
    pub fn for_customer(mut self) -> TicketDto {
        self.sla = self.sla.for_customer();
        self.escalated = false;
        self.escalation_level = 0;
        self.tags = None;
        self
    }
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketDto {
    pub id: Uuid,
    /// Short human number, shown as `#1042`.
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: Option<String>,
    pub customer: PersonDto,
    pub assigned_agent: Option<PersonDto>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub journey_id: Option<Uuid>,
    pub journey_version: Option<i32>,
    /// The journey's question/answer transcript, in order.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub transcript: Option<serde_json::Value>,
    pub sla: SlaDto,
    pub escalated: bool,
    pub escalation_level: i32,
    /// Messages visible to the caller (customers do not count internal notes).
    pub message_count: u64,
    pub attachments: Vec<AttachmentDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Set once the ticket was merged into another: the ticket that holds its conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<crate::links::TicketRefDto>,
    /// Staff only (absent for customers): the ticket's tags, normalised and sorted
    /// (`shared::tags`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// The customer's satisfaction rating of the ticket's latest rated resolution (shown to
    /// staff, and to the customer who gave it).
    #[serde(default)]
    pub csat: Option<crate::csat::CsatRatingDto>,
    /// Set when the ticket was opened by email: the mail as received, whose new text is the
    /// description (shown to staff and to the ticket's customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<crate::mail::EmailOriginDto>,
}

/// A ticket as lists return it (`GET /api/tickets`): everything a row shows, without the
/// description and the journey transcript, which only the ticket itself
/// (`GET /api/tickets/{id}`) carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketSummaryDto {
    pub id: Uuid,
    /// Short human number, shown as `#1042`.
    pub number: i64,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: Option<String>,
    pub customer: PersonDto,
    pub assigned_agent: Option<PersonDto>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub journey_id: Option<Uuid>,
    pub journey_version: Option<i32>,
    pub sla: SlaDto,
    pub escalated: bool,
    pub escalation_level: i32,
    /// Messages visible to the caller (customers do not count internal notes).
    pub message_count: u64,
    pub attachments: Vec<AttachmentDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Set once the ticket was merged into another: the ticket that holds its conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<crate::links::TicketRefDto>,
    /// Staff only (absent for customers): the ticket's tags, normalised and sorted
    /// (`shared::tags`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// With `q`: where the ticket matched, with the matching words marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchHit>,
}

/// Where a ticket matched a search (`q`), as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// The best-matching part of the ticket.
    pub field: SearchField,
    /// Set when `field` is `message`: the message that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Uuid>,
    /// An excerpt of that part in pieces, the matching words marked `hit`; plain text, to be
    /// shown escaped (it is never HTML).
    pub snippet: Vec<SnippetPart>,
}

/// What part of a ticket a search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    /// The ticket number (`#1042` or a bare number).
    Number,
    /// The customer's email address.
    Customer,
    Subject,
    Description,
    /// The journey's answers.
    Answers,
    /// A message of the conversation the caller may see.
    Message,
}

/// One piece of a [`SearchHit`] snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnippetPart {
    pub text: String,
    /// A word that matched the query.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

impl From<TicketDto> for TicketSummaryDto {
    fn from(t: TicketDto) -> Self {
        Self {
            id: t.id,
            number: t.number,
            subject: t.subject,
            status: t.status,
            priority: t.priority,
            category: t.category,
            customer: t.customer,
            assigned_agent: t.assigned_agent,
            assigned_at: t.assigned_at,
            journey_id: t.journey_id,
            journey_version: t.journey_version,
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
            search: None,
        }
    }
}

/// `POST /api/tickets`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    pub subject: String,
    pub description: String,
    /// Default `medium`.
    pub priority: Option<Priority>,
    pub category: Option<String>,
    /// Required when staff open a ticket on behalf of a customer; not allowed for customers.
    pub customer_id: Option<Uuid>,
    /// Images uploaded beforehand by the caller (`POST /api/upload`).
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// `PATCH /api/tickets/{id}`: status (customers: close or reopen), priority and category
/// (staff only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketRequest {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    /// A new category; an empty string clears it.
    pub category: Option<String>,
}

/// How a ticket list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketSort {
    CreatedAt,
    UpdatedAt,
    Priority,
    Number,
    /// By the running SLA deadline, most urgent first when ascending.
    SlaDue,
    /// Best match first; only with `q` (the default sort when `q` is set).
    Relevance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// `GET /api/tickets` filters, sorting and pagination.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct TicketListQuery {
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
    /// Comma-separated statuses, e.g. `new,open`.
    pub status: Option<String>,
    /// Comma-separated priorities, e.g. `high,urgent`.
    pub priority: Option<String>,
    /// An agent's user id, `me` for the caller's own, or `none` for unassigned tickets.
    pub assigned_agent_id: Option<String>,
    pub customer_id: Option<Uuid>,
    /// Exactly this category (at most 100 characters, no control characters).
    #[cfg_attr(feature = "openapi", param(max_length = 100))]
    pub category: Option<String>,
    pub escalated: Option<bool>,
    /// Created at or after this instant (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// State of the running SLA clock: `ok`, `warning`, `critical` or `breached`.
    pub sla: Option<SlaStatus>,
    /// Staff: `true` for tickets whose running clock passed the warning share
    /// (`sla_warning_percent`) and is not breached yet — "breaching soon".
    pub breaching_soon: Option<bool>,
    /// Full-text search of the subject, description, journey answers and the conversation
    /// the caller may see: words (case-insensitive, the last also as a prefix), `"phrases"`,
    /// `-excluded`, `a OR b`; `#1042` or a bare number finds that ticket, an email address
    /// that customer's tickets. Sorts by `relevance` unless `sort` says otherwise; each item
    /// then carries `search`. At most 200 characters, no control characters; a query with no
    /// word to look for is a 400 `invalid_query`. See docs/api.md, "Search".
    // The bound is `validate::SearchText::MAX_CHARS`.
    #[cfg_attr(feature = "openapi", param(max_length = 200))]
    pub q: Option<String>,
    /// Staff: comma-separated tags the ticket must all carry (at most 20; normalised like
    /// any tag, so `Billing` finds `billing`). Customers get 400 `invalid_query`.
    pub tags: Option<String>,
    /// Staff: comma-separated tags of which the ticket must carry at least one (at most 20).
    /// With `tags`, both must hold.
    pub any_tags: Option<String>,
    /// Default `relevance` with `q`, else `created_at`.
    pub sort: Option<TicketSort>,
    /// Default `desc` (`asc` for `sla_due`).
    pub order: Option<SortOrder>,
    /// Continue after a cursor: the `after` of a previous page's `next` link (with the same
    /// filters and order; not together with `page`; for `sort=created_at` or `number`). The
    /// CSV export ignores it.
    #[cfg_attr(feature = "openapi", param(max_length = 512))]
    pub after: Option<String>,
}

/// `GET /api/tickets/{id}/messages`: pages by number or after a cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct MessageListQuery {
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
    /// Continue after a cursor: the `after` of a previous page's `next` link (not together
    /// with `page`).
    #[cfg_attr(feature = "openapi", param(max_length = 512))]
    pub after: Option<String>,
}

/// One message of a ticket's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageDto {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub author: PersonDto,
    pub body: String,
    /// Internal notes are visible to agents and admins only.
    pub internal: bool,
    pub attachments: Vec<AttachmentDto>,
    pub created_at: DateTime<Utc>,
    /// Set when the message came by email: the original as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<crate::mail::EmailOriginDto>,
    /// Set when the message came over from another ticket merged into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<crate::links::TicketRefDto>,
}

/// `POST /api/tickets/{id}/messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    pub body: String,
    /// An internal note (agents and admins only). Default `false`.
    #[serde(default)]
    pub internal: bool,
    /// Images uploaded beforehand by the caller.
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// An uploaded image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentDto {
    pub id: Uuid,
    pub ticket_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub uploader_id: Uuid,
    /// The client's file name, sanitised (never used on disk).
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Where to download it (needs the bearer token).
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/tickets/{id}/assign` (admins): assign to an agent, or unassign with `null`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub agent_id: Option<Uuid>,
}

/// One recorded change of a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntryDto {
    pub id: Uuid,
    /// `status`, `priority`, `category`, `assignee`, `sla`, `escalation`, `created`, or `tag`
    /// (a tag added: `to` is the tag; removed: `from` is the tag).
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// For `assignee` changes: the agents behind `from` and `to`.
    pub from_person: Option<PersonDto>,
    pub to_person: Option<PersonDto>,
    /// `None` for changes made by the system.
    pub actor: Option<PersonDto>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_rank_round_trips_and_orders() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
        assert!(Priority::Urgent > Priority::Low);
        assert_eq!(Priority::High.raised(), Priority::Urgent);
        assert_eq!(Priority::Urgent.raised(), Priority::Urgent);
        assert_eq!(Priority::from_rank(4), None);
        assert_eq!(Priority::from_rank(-1), None);
    }

    #[test]
    fn workflow_transitions() {
        use TicketStatus::*;
        assert_eq!(allowed_transitions(New, true), &[Open]);
        assert!(allowed_transitions(Resolved, true).contains(&Open));
        assert!(allowed_transitions(Closed, true).is_empty());
        assert!(allowed_transitions(Closed, false).is_empty());
        // Customers can always close, never move work forward themselves.
        for from in [New, Open, Pending, Resolved] {
            assert!(allowed_transitions(from, false).contains(&Closed));
            assert!(!allowed_transitions(from, false).contains(&Pending));
        }
    }
}
