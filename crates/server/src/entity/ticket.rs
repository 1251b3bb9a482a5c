//! `tickets`: one customer request, its workflow state and SLA clocks.

use sea_orm::entity::prelude::*;
use shared::{Priority, TicketStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The short human number (`#1042`), from the `ticket_number` counter.
    #[sea_orm(unique)]
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: Status,
    /// 0 = low … 3 = urgent (see [`Model::priority`]).
    #[sea_orm(column_name = "priority")]
    pub priority_rank: i16,
    pub category: Option<String>,
    pub customer_id: Uuid,
    pub assigned_agent_id: Option<Uuid>,
    pub assigned_at: Option<DateTimeUtc>,
    pub journey_id: Option<Uuid>,
    pub journey_version: Option<i32>,
    pub answers: Option<Json>,
    pub transcript: Option<Json>,
    /// The journey's answers as plain text (each transcript entry's `display`, space-separated),
    /// for full-text search (`services::search`).
    pub answers_text: Option<String>,
    pub response_due_at: Option<DateTimeUtc>,
    pub resolution_due_at: Option<DateTimeUtc>,
    pub first_response_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// When the current pause began (status `pending`).
    pub sla_paused_at: Option<DateTimeUtc>,
    /// Total seconds spent paused so far.
    pub sla_paused_secs: i64,
    pub response_breached: bool,
    pub resolution_breached: bool,
    pub escalated: bool,
    pub escalated_at: Option<DateTimeUtc>,
    pub escalation_level: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The running deadline and its warning/critical instants (null when no clock runs).
    pub sla_due_at: Option<DateTimeUtc>,
    pub sla_warning_at: Option<DateTimeUtc>,
    pub sla_critical_at: Option<DateTimeUtc>,
    /// The policy the ticket runs on: `default` or an override's name (null: before
    /// calendars existed, the default policy then in force).
    pub sla_policy: Option<String>,
    /// The calendar the ticket runs on; null runs 24/7.
    pub sla_calendar_id: Option<Uuid>,
    /// `shared::sla::SlaTerms`: the policy's targets and calendar as they were when the ticket
    /// was created (or recomputed), so later edits do not move its deadlines.
    pub sla_terms: Option<Json>,
    /// Business time spent paused so far, in seconds (`sla_paused_secs` is wall-clock time).
    pub sla_paused_business_secs: i64,
    /// When the running clock reaches the warning share (`sla-warning`).
    pub sla_alert_at: Option<DateTimeUtc>,
    /// The response / resolution clock's warning went out (once per clock).
    pub response_warned: bool,
    pub resolution_warned: bool,
    /// What the customer is told to expect ("we aim to reply by …").
    pub sla_eta_at: Option<DateTimeUtc>,
    /// Business seconds from creation to the first response / the resolution, paused time
    /// excluded.
    pub response_business_secs: Option<i64>,
    pub resolution_business_secs: Option<i64>,
}

impl Model {
    pub fn priority(&self) -> Priority {
        Priority::from_rank(self.priority_rank).unwrap_or(Priority::Medium)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::ticket_message::Entity")]
    Messages,
}

impl Related<super::ticket_message::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Messages.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// The `status` column; mirrors [`TicketStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    #[sea_orm(string_value = "new")]
    New,
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "resolved")]
    Resolved,
    #[sea_orm(string_value = "closed")]
    Closed,
}

impl From<Status> for TicketStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::New => TicketStatus::New,
            Status::Open => TicketStatus::Open,
            Status::Pending => TicketStatus::Pending,
            Status::Resolved => TicketStatus::Resolved,
            Status::Closed => TicketStatus::Closed,
        }
    }
}

impl From<TicketStatus> for Status {
    fn from(s: TicketStatus) -> Self {
        match s {
            TicketStatus::New => Status::New,
            TicketStatus::Open => Status::Open,
            TicketStatus::Pending => Status::Pending,
            TicketStatus::Resolved => Status::Resolved,
            TicketStatus::Closed => Status::Closed,
        }
    }
}
