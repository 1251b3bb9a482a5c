//! The ticket lifecycle: creation (with its human number and SLA deadlines), status workflow,
//! priority and category changes, history, listing, and conversion into DTOs.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use shared::{
    ErrorCode, Paging, Priority, Role, TicketStatus,
    sla::{self, SlaPolicies},
    tickets::{
        AttachmentDto, CreateTicketRequest, EtaDto, EtaKind, HistoryEntryDto, PersonDto, SlaDto,
        SortOrder, TicketDto, TicketListQuery, TicketSort, UpdateTicketRequest,
        allowed_transitions,
    },
    ws::Event,
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{
        Agent, Attachment, Ticket, TicketHistory, TicketMessage, User, agent, attachment, ticket,
        ticket_history, ticket_message, user,
    },
    error::ApiError,
    services::{
        access, assignment, begin_write, cursor, events,
        mail::{self, Mailer, Notice},
        next_ticket_number,
        search::{self, Search},
        search_text, settings, sla as sla_terms, tags,
    },
};

pub const SUBJECT_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 20_000;
pub const CATEGORY_MAX_CHARS: usize = 100;

/// Where a ticket came from when a journey produced it.
#[derive(Debug, Clone)]
pub struct JourneyOrigin {
    pub journey_id: Uuid,
    pub version: i32,
    pub answers: serde_json::Value,
    pub transcript: serde_json::Value,
    /// The end node the answers led to (selects an outcome's SLA policy).
    pub outcome: Option<String>,
}

/// A validated ticket to create.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub category: Option<String>,
    pub customer_id: Uuid,
    pub journey: Option<JourneyOrigin>,
    pub attachment_ids: Vec<Uuid>,
    /// Tags in stored form (`services::tags::parse_set`), e.g. from a journey end node.
    pub tags: Vec<String>,
}

fn bounded_text(
    errors: &mut Vec<(&'static str, ErrorCode, String)>,
    field: &'static str,
    raw: &str,
    max: usize,
) -> String {
    let text = raw.trim();
    if text.is_empty() {
        errors.push((
            field,
            ErrorCode::ValidationFailed,
            format!("{field} is required"),
        ));
    } else if text.chars().count() > max {
        errors.push((
            field,
            ErrorCode::ValidationFailed,
            format!("{field} must be at most {max} characters"),
        ));
    }
    text.to_owned()
}

/// A category: trimmed, at most 100 characters; empty means none.
pub fn parse_category(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) if c.chars().count() > CATEGORY_MAX_CHARS || c.chars().any(char::is_control) => {
            Err(ApiError::field(
                ErrorCode::ValidationFailed,
                "category",
                format!("category must be at most {CATEGORY_MAX_CHARS} printable characters"),
            ))
        }
        Some(c) => Ok(Some(c.to_owned())),
    }
}

impl NewTicket {
    /// Validates a direct `POST /api/tickets`. Customers open tickets for themselves; staff
    /// must name the customer.
    pub fn parse(actor: &AuthUser, req: CreateTicketRequest) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let subject = bounded_text(&mut errors, "subject", &req.subject, SUBJECT_MAX_CHARS);
        let description = bounded_text(
            &mut errors,
            "description",
            &req.description,
            DESCRIPTION_MAX_CHARS,
        );
        let category = match parse_category(req.category.as_deref()) {
            Ok(c) => c,
            Err(_) => {
                errors.push((
                    "category",
                    ErrorCode::ValidationFailed,
                    format!("category must be at most {CATEGORY_MAX_CHARS} printable characters"),
                ));
                None
            }
        };
        let customer_id = match (actor.role, req.customer_id) {
            (Role::Customer, None) => Some(actor.id),
            (Role::Customer, Some(_)) => {
                errors.push((
                    "customer_id",
                    ErrorCode::ValidationFailed,
                    "customers open tickets for themselves only".to_owned(),
                ));
                None
            }
            (_, Some(id)) => Some(id),
            (_, None) => {
                errors.push((
                    "customer_id",
                    ErrorCode::ValidationFailed,
                    "staff must name the customer the ticket is for".to_owned(),
                ));
                None
            }
        };
        if let Some(err) = ApiError::from_fields(errors) {
            return Err(err);
        }
        Ok(Self {
            subject,
            description,
            priority: req.priority.unwrap_or(Priority::Medium),
            category,
            customer_id: customer_id.unwrap_or(actor.id),
            journey: None,
            attachment_ids: req.attachment_ids,
            tags: Vec::new(),
        })
    }
}

/// Sets both deadlines from the creation time, the targets of the ticket's recorded terms
/// for the priority its SLA runs on (`sla::sla_priority`: not raised by escalations;
/// `fallback` targets for tickets from before terms were recorded) and the business time
/// spent paused, on the ticket's calendar.
pub fn set_deadlines(t: &mut ticket::Model, fallback: &SlaPolicies) {
    let (targets, percent) = sla_terms::targets_of(t, fallback);
    let hours = sla_terms::hours_of(sla_terms::stored_terms(t).as_ref());
    let target = targets.target(sla_terms::sla_priority(t));
    let paused = Duration::seconds(t.sla_paused_business_secs);
    let minutes = |m: u32| Duration::minutes(i64::from(m));
    let due = |m: u32| sla::clock(&hours, t.created_at, paused, minutes(m), percent).due;
    t.response_due_at = Some(due(target.response_minutes));
    t.resolution_due_at = Some(due(target.resolution_minutes));
    refresh_clock(t);
}

/// Recomputes the running clock (`sla_due_at`, its warning/critical/alert instants) and the
/// customer's ETA from status, deadlines and the ticket's calendar.
///
/// The ETA is the running deadline; once that deadline was missed (and escalated) it is the
/// deadline plus the target of the ticket's current, raised priority — what the team now
/// aims for.
pub fn refresh_clock(t: &mut ticket::Model) {
    use shared::ws::SlaTargetKind;
    let running = match t.status {
        ticket::Status::Pending | ticket::Status::Resolved | ticket::Status::Closed => None,
        ticket::Status::New | ticket::Status::Open if t.first_response_at.is_none() => {
            t.response_due_at.map(|d| (d, SlaTargetKind::Response))
        }
        _ => t.resolution_due_at.map(|d| (d, SlaTargetKind::Resolution)),
    };
    let Some((due, kind)) = running else {
        t.sla_due_at = None;
        t.sla_warning_at = None;
        t.sla_critical_at = None;
        t.sla_alert_at = None;
        t.sla_eta_at = None;
        return;
    };
    let terms = sla_terms::stored_terms(t);
    let hours = sla_terms::hours_of(terms.as_ref());
    let percent = terms
        .as_ref()
        .map_or(sla::DEFAULT_WARNING_PERCENT, |x| x.warning_percent);
    let paused = Duration::seconds(t.sla_paused_business_secs);
    // The window is the business time from the clock's start (creation plus time paused) to
    // the deadline: exactly the target unless the deadline was set on other terms.
    let window = match hours {
        shared::calendar::Hours::Always => due - (t.created_at + paused),
        shared::calendar::Hours::Calendar(_) => hours.between(t.created_at, due) - paused,
    }
    .max(Duration::zero());
    let c = sla::clock(&hours, t.created_at, paused, window, percent);
    t.sla_due_at = Some(due);
    t.sla_warning_at = Some(c.warning_at);
    t.sla_critical_at = Some(c.critical_at);
    t.sla_alert_at = Some(c.alert_at);
    let breached = match kind {
        SlaTargetKind::Response => t.response_breached,
        SlaTargetKind::Resolution => t.resolution_breached,
    };
    t.sla_eta_at = Some(match (&terms, breached) {
        (Some(terms), true) => {
            let target = terms.targets.target(t.priority());
            let minutes = match kind {
                SlaTargetKind::Response => target.response_minutes,
                SlaTargetKind::Resolution => target.resolution_minutes,
            };
            hours.add(due, Duration::minutes(i64::from(minutes)))
        }
        _ => due,
    });
}

/// Business seconds from creation to `at`, time spent paused excluded.
fn business_secs(t: &ticket::Model, at: DateTime<Utc>) -> i64 {
    let hours = sla_terms::hours_of(sla_terms::stored_terms(t).as_ref());
    std::cmp::max(
        hours.between(t.created_at, at).num_seconds() - t.sla_paused_business_secs,
        0,
    )
}

/// One history row; `actor` is `None` for system changes.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    ticket_id: Uuid,
    actor: Option<Uuid>,
    field: &str,
    from: Option<String>,
    to: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    ticket_history::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(ticket_id),
        actor_id: Set(actor),
        field: Set(field.to_owned()),
        from_value: Set(from),
        to_value: Set(to),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Attaches the caller's own unlinked uploads to a ticket (and message). Any id that is not
/// such an upload fails the whole operation with 422 `invalid_attachment`.
pub async fn link_attachments<C: ConnectionTrait>(
    db: &C,
    uploader: Uuid,
    ids: &[Uuid],
    ticket_id: Uuid,
    message_id: Option<Uuid>,
) -> Result<(), ApiError> {
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    if unique.is_empty() {
        return Ok(());
    }
    if unique.len() > 20 {
        return Err(ApiError::field(
            ErrorCode::InvalidAttachment,
            "attachment_ids",
            "at most 20 attachments at once",
        ));
    }
    let result = Attachment::update_many()
        .col_expr(attachment::Column::TicketId, Expr::value(ticket_id))
        .col_expr(attachment::Column::MessageId, Expr::value(message_id))
        .filter(attachment::Column::Id.is_in(unique.iter().copied()))
        .filter(attachment::Column::UploaderId.eq(uploader))
        .filter(attachment::Column::TicketId.is_null())
        .filter(attachment::Column::MessageId.is_null())
        .exec(db)
        .await?;
    if result.rows_affected != unique.len() as u64 {
        return Err(ApiError::field(
            ErrorCode::InvalidAttachment,
            "attachment_ids",
            "every attachment must be your own upload that is not attached yet",
        ));
    }
    Ok(())
}

/// Creates a ticket with its number, SLA deadlines, history and attachments, atomically.
/// Returns the row and its DTO, built from what the creation already knows (the same for
/// every viewer: a new ticket has no messages yet).
pub async fn create(
    db: &DatabaseConnection,
    mailer: &Mailer,
    actor: &AuthUser,
    new: NewTicket,
) -> Result<(ticket::Model, TicketDto), ApiError> {
    let txn = begin_write(db).await?;
    let (t, dto) = create_in(&txn, mailer, actor, new, Utc::now()).await?;
    txn.commit().await?;
    Ok((t, dto))
}

/// [`create`] in the caller's transaction (the mail ingest opens tickets this way, in the
/// transaction that stores the mail). Returns the ticket and its (staff) DTO, built from what
/// is known without reading it back.
pub async fn create_in<C: ConnectionTrait>(
    txn: &C,
    mailer: &Mailer,
    actor: &AuthUser,
    mut new: NewTicket,
    now: DateTime<Utc>,
) -> Result<(ticket::Model, TicketDto), ApiError> {
    let new_tags = std::mem::take(&mut new.tags);
    let customer = if actor.role.is_staff() || new.customer_id != actor.id {
        match User::find_by_id(new.customer_id).one(txn).await? {
            Some(c) if c.role == user::UserRole::Customer && c.active => PersonDto {
                id: c.id,
                name: c.name,
                role: Role::Customer,
            },
            _ => {
                return Err(ApiError::field(
                    ErrorCode::ValidationFailed,
                    "customer_id",
                    "no active customer with this id",
                ));
            }
        }
    } else {
        PersonDto {
            id: actor.id,
            name: actor.user.name.clone(),
            role: actor.role,
        }
    };
    let policies = settings::sla_policies(txn).await?;
    let outcome = new
        .journey
        .as_ref()
        .and_then(|j| j.outcome.as_deref().map(|node| (j.journey_id, node)));
    let (terms, calendar_id) =
        sla_terms::current_terms(txn, new.category.as_deref(), outcome).await?;
    let number = next_ticket_number(txn).await?;
    let mut t = ticket::Model {
        id: Uuid::new_v4(),
        number,
        subject: new.subject,
        description: new.description,
        status: ticket::Status::New,
        priority_rank: new.priority.rank(),
        category: new.category,
        customer_id: new.customer_id,
        assigned_agent_id: None,
        assigned_at: None,
        journey_id: new.journey.as_ref().map(|j| j.journey_id),
        journey_version: new.journey.as_ref().map(|j| j.version),
        answers: new.journey.as_ref().map(|j| j.answers.clone()),
        answers_text: new
            .journey
            .as_ref()
            .and_then(|j| search::answers_text(&j.transcript)),
        transcript: new.journey.map(|j| j.transcript),
        response_due_at: None,
        resolution_due_at: None,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        sla_paused_at: None,
        sla_paused_secs: 0,
        response_breached: false,
        resolution_breached: false,
        escalated: false,
        escalated_at: None,
        escalation_level: 0,
        created_at: now,
        updated_at: now,
        sla_due_at: None,
        sla_warning_at: None,
        sla_critical_at: None,
        sla_policy: None,
        sla_calendar_id: None,
        sla_terms: None,
        sla_paused_business_secs: 0,
        sla_alert_at: None,
        response_warned: false,
        resolution_warned: false,
        sla_eta_at: None,
        response_business_secs: None,
        resolution_business_secs: None,
    };
    sla_terms::record_terms(&mut t, &terms, calendar_id)?;
    set_deadlines(&mut t, &policies);
    let t = ticket::ActiveModel::from(t).reset_all().insert(txn).await?;
    record(
        txn,
        t.id,
        Some(actor.id),
        "created",
        None,
        Some(TicketStatus::New.to_string()),
        now,
    )
    .await?;
    link_attachments(txn, actor.id, &new.attachment_ids, t.id, None).await?;
    // Tags at creation come from the journey's end node: a change by the system.
    if !new_tags.is_empty() {
        tags::write_set(txn, t.id, None, &new_tags, now).await?;
    }
    let files = if new.attachment_ids.is_empty() {
        Vec::new()
    } else {
        attachments_by(
            txn,
            Condition::all()
                .add(attachment::Column::TicketId.eq(t.id))
                .add(attachment::Column::MessageId.is_null()),
            |a| a.ticket_id,
        )
        .await?
        .remove(&t.id)
        .unwrap_or_default()
    };
    let people = HashMap::from([(customer.id, customer)]);
    let mut dto = build_dto(t.clone(), &people, 0, files, now);
    dto.tags = Some(new_tags);
    // For the `queue-updated` event; the partial queue index makes this count cheap.
    let queue_length = assignment::queue_length(txn).await?;
    events::emit_many(
        txn,
        vec![
            (
                Event::NewTicket {
                    ticket: Box::new(dto.clone()),
                },
                events::ticket_rooms(&t),
                false,
            ),
            assignment::queue_updated(queue_length),
        ],
        now,
    )
    .await?;
    mail::notify(txn, mailer, Notice::TicketOpened(&t), Some(actor.id), now).await?;
    Ok((t, dto))
}

/// A change to record in the history: (field, from, to).
pub type Change = (&'static str, Option<String>, Option<String>);

/// Moves a ticket to `to`, applying timestamps and the SLA pause. Returns the history rows to
/// record (field, from, to). Pure: callers persist.
pub fn apply_status(
    t: &mut ticket::Model,
    actor: &AuthUser,
    to: TicketStatus,
    now: DateTime<Utc>,
) -> Result<Vec<Change>, ApiError> {
    let from: TicketStatus = t.status.into();
    let mut changes = Vec::new();
    if from == to {
        return Ok(changes);
    }
    let allowed = allowed_transitions(from, actor.role.is_staff());
    if !allowed.contains(&to) {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::Transition {
            from,
            to,
            allowed: names.into_iter().map(str::to_owned).collect(),
        });
    }
    if from == TicketStatus::New && to == TicketStatus::Open && t.assigned_agent_id.is_none() {
        // An agent opening a queued ticket takes it; anyone else must assign it first.
        if actor.role != Role::Agent {
            return Err(ApiError::Conflict(
                ErrorCode::NotAssigned,
                "assign the ticket to an agent before opening it".to_owned(),
            ));
        }
        t.assigned_agent_id = Some(actor.id);
        t.assigned_at = Some(now);
        changes.push(("assignee", None, Some(actor.id.to_string())));
    }
    set_status(t, to, now);
    changes.push(("status", Some(from.to_string()), Some(to.to_string())));
    Ok(changes)
}

/// The mechanics of a status change, after whoever asked for it was allowed to: the status,
/// its timestamps, and the SLA pause (which starts on entering `pending` and ends on leaving
/// it). Returns true when a pause ended: the caller must then move the deadlines by the paused
/// time (`set_deadlines`).
pub fn set_status(t: &mut ticket::Model, to: TicketStatus, now: DateTime<Utc>) -> bool {
    let from: TicketStatus = t.status.into();
    let mut pause_ended = false;
    if to != TicketStatus::Pending
        && let Some(paused_at) = t.sla_paused_at.take()
    {
        t.sla_paused_secs += std::cmp::max((now - paused_at).num_seconds(), 0);
        // The pause keeps working in business time: only working hours spent waiting count.
        let hours = sla_terms::hours_of(sla_terms::stored_terms(t).as_ref());
        t.sla_paused_business_secs += hours.between(paused_at, now).num_seconds();
        pause_ended = true;
    }
    if to == TicketStatus::Pending && from != TicketStatus::Pending {
        t.sla_paused_at = Some(now);
    }
    match to {
        TicketStatus::Resolved => {
            t.resolved_at = Some(now);
            t.resolution_business_secs = Some(business_secs(t, now));
        }
        TicketStatus::Closed => t.closed_at = Some(now),
        TicketStatus::Open if from == TicketStatus::Resolved => {
            t.resolved_at = None;
            t.resolution_business_secs = None;
        }
        _ => {}
    }
    t.status = to.into();
    pause_ended
}

/// `PATCH /api/tickets/{id}`: status for everyone who may see it (within the workflow of
/// their role), priority and category for staff.
pub async fn update(
    db: &DatabaseConnection,
    mailer: &Mailer,
    actor: &AuthUser,
    id: Uuid,
    req: UpdateTicketRequest,
) -> Result<ticket::Model, ApiError> {
    if !actor.role.is_staff() && (req.priority.is_some() || req.category.is_some()) {
        return Err(ApiError::Forbidden(
            "only agents and admins change priority or category".to_owned(),
        ));
    }
    let category = match req.category.as_deref() {
        Some(raw) => Some(parse_category(Some(raw))?),
        None => None,
    };
    let txn = begin_write(db).await?;
    let mut t = access::visible_ticket(&txn, actor, id, true).await?;
    if req
        .status
        .is_some_and(|s| s != TicketStatus::from(t.status))
    {
        super::merge::refuse_if_merged(&txn, &t).await?;
    }
    let now = Utc::now();
    let before_status = t.status;
    let mut changes: Vec<Change> = Vec::new();

    if let Some(to) = req.status {
        changes.extend(apply_status(&mut t, actor, to, now)?);
    }
    let policies = settings::sla_policies(&txn).await?;
    if let Some(priority) = req.priority.filter(|p| *p != t.priority()) {
        changes.push((
            "priority",
            Some(t.priority().to_string()),
            Some(priority.to_string()),
        ));
        sla_terms::set_priority(&mut t, priority)?;
        let before = (t.response_due_at, t.resolution_due_at);
        set_deadlines(&mut t, &policies);
        if before != (t.response_due_at, t.resolution_due_at) {
            changes.push((
                "sla",
                before.1.map(|d| d.to_rfc3339()),
                t.resolution_due_at.map(|d| d.to_rfc3339()),
            ));
        }
    }
    if let Some(category) = category.filter(|c| *c != t.category) {
        changes.push(("category", t.category.clone(), category.clone()));
        t.category = category;
    }
    if changes.is_empty() {
        txn.commit().await?;
        return Ok(t);
    }
    // Leaving `pending` moved the deadlines by the paused time.
    if changes.iter().any(|c| c.0 == "status") {
        let before = t.resolution_due_at;
        set_deadlines(&mut t, &policies);
        if before != t.resolution_due_at && !changes.iter().any(|c| c.0 == "sla") {
            changes.push((
                "sla",
                before.map(|d| d.to_rfc3339()),
                t.resolution_due_at.map(|d| d.to_rfc3339()),
            ));
        }
    }
    t.updated_at = now;
    let previous_status = before_status;
    let t = ticket::ActiveModel::from(t)
        .reset_all()
        .update(&txn)
        .await?;
    if previous_status != t.status && t.status == ticket::Status::Resolved {
        credit_resolution(&txn, &t, now).await?;
    }
    let assigned_now = changes.iter().any(|c| c.0 == "assignee");
    for (field, from, to) in changes {
        record(&txn, t.id, Some(actor.id), field, from, to, now).await?;
    }
    let dto = to_dto(&txn, false, t.clone()).await?;
    if assigned_now {
        assignment::emit_assigned(&txn, &t, dto, None, now).await?;
        mail::notify(&txn, mailer, Notice::Assigned(&t), Some(actor.id), now).await?;
        assignment::emit_queue_length(&txn, now).await?;
    } else {
        events::ticket_updated(&txn, &t, dto, now).await?;
    }
    if previous_status != t.status && t.status == ticket::Status::Resolved {
        mail::notify(&txn, mailer, Notice::Resolved(&t), Some(actor.id), now).await?;
    }
    txn.commit().await?;
    Ok(t)
}

/// Adds a resolution to the assigned agent's running metrics, once per ticket: a ticket
/// counts at its first resolution (for the agent it was assigned to then, with that
/// resolution's time and SLA result); resolving it again after a reopen adds nothing. Call it
/// before the history row of this resolution is recorded.
async fn credit_resolution<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(agent_id) = t.assigned_agent_id else {
        return Ok(());
    };
    let resolved_before = TicketHistory::find()
        .filter(ticket_history::Column::TicketId.eq(t.id))
        .filter(ticket_history::Column::Field.eq("status"))
        .filter(ticket_history::Column::ToValue.eq(TicketStatus::Resolved.as_str()))
        .count(db)
        .await?
        > 0;
    if resolved_before {
        return Ok(());
    }
    let secs = std::cmp::max((now - t.created_at).num_seconds() - t.sla_paused_secs, 0);
    let met = !t.response_breached
        && !t.resolution_breached
        && t.resolution_due_at.is_none_or(|due| now <= due);
    let met_col = if met {
        agent::Column::SlaMetCount
    } else {
        agent::Column::SlaBreachedCount
    };
    Agent::update_many()
        .col_expr(
            agent::Column::TicketsResolved,
            Expr::col(agent::Column::TicketsResolved).add(1),
        )
        .col_expr(
            agent::Column::ResolutionTotalSecs,
            Expr::col(agent::Column::ResolutionTotalSecs).add(secs),
        )
        .col_expr(
            agent::Column::ResolutionCount,
            Expr::col(agent::Column::ResolutionCount).add(1),
        )
        .col_expr(met_col, Expr::col(met_col).add(1))
        .filter(agent::Column::UserId.eq(agent_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds a first response to the metrics of the agent who made it (the assignee, or the
/// replying agent for a queued ticket).
pub async fn credit_first_response<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    replier: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let agent_id = t.assigned_agent_id.unwrap_or(replier);
    let secs = std::cmp::max((now - t.created_at).num_seconds() - t.sla_paused_secs, 0);
    Agent::update_many()
        .col_expr(
            agent::Column::FirstResponseTotalSecs,
            Expr::col(agent::Column::FirstResponseTotalSecs).add(secs),
        )
        .col_expr(
            agent::Column::FirstResponseCount,
            Expr::col(agent::Column::FirstResponseCount).add(1),
        )
        .filter(agent::Column::UserId.eq(agent_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A comma-separated list of values, each once (however often the client repeats it, the SQL
/// `IN` list stays as short as the enum).
fn parse_list<T: std::str::FromStr<Err = String> + PartialEq>(
    raw: &str,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let value = item
            .parse::<T>()
            .map_err(|e| ApiError::BadRequest(ErrorCode::InvalidQuery, e))?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}

/// One page of the tickets the caller may see, filtered and sorted, and the total count.
pub async fn list(
    db: &DatabaseConnection,
    actor: &AuthUser,
    query: &TicketListQuery,
    paging: Paging,
) -> Result<(Vec<ticket::Model>, u64, bool), ApiError> {
    let select = filtered(actor, query, db.get_database_backend())?;
    super::fetch_page_capped(db, select, paging).await
}

/// One page of the ticket list.
pub struct TicketPage {
    pub rows: Vec<ticket::Model>,
    /// Pages by number: the (capped) count and whether it was capped; `None` after a cursor.
    pub count: Option<(u64, bool)>,
    /// Whether tickets follow this page.
    pub has_more: bool,
    /// The cursor of the page's last ticket, when the order has cursors and more follow.
    pub next: Option<String>,
}

/// The sort and direction of a list query (defaults: `relevance` when `searching`, else
/// `created_at`; descending, but `sla_due` ascending).
fn sort_of(query: &TicketListQuery, searching: bool) -> (TicketSort, sea_orm::Order) {
    let default_sort = if searching {
        TicketSort::Relevance
    } else {
        TicketSort::CreatedAt
    };
    let sort = query.sort.unwrap_or(default_sort);
    let order = match (query.order, sort) {
        (Some(SortOrder::Asc), _) | (None, TicketSort::SlaDue) => sea_orm::Order::Asc,
        _ => sea_orm::Order::Desc,
    };
    (sort, order)
}

/// The cursor list name of an order, if it has cursors: creation time and number, whose keys
/// never change (an update moves a ticket in the other orders, which cursors cannot follow).
fn cursor_list(sort: TicketSort, order: &sea_orm::Order) -> Option<String> {
    let sort = match sort {
        TicketSort::CreatedAt => "created_at",
        TicketSort::Number => "number",
        _ => return None,
    };
    let order = if *order == sea_orm::Order::Asc {
        "asc"
    } else {
        "desc"
    };
    Some(format!("tickets:{sort}:{order}"))
}

/// A page of [`list`]: by page number, or after `query.after`'s cursor (keyset: the tickets
/// strictly after that one in the order, so tickets created meanwhile shift nothing).
pub async fn list_page(
    db: &DatabaseConnection,
    actor: &AuthUser,
    query: &TicketListQuery,
    paging: Paging,
    codec: &cursor::Codec,
) -> Result<TicketPage, ApiError> {
    let searching = search_of(actor, query, db.get_database_backend())?.is_some();
    let (sort, order) = sort_of(query, searching);
    let list_name = cursor_list(sort, &order);
    let encode = |t: &ticket::Model, list: &str| {
        codec.encode(&cursor::Position {
            list: list.to_owned(),
            at: (sort == TicketSort::CreatedAt).then_some(t.created_at),
            number: Some(t.number),
            id: None,
        })
    };
    let Some(after) = query.after.as_deref() else {
        let (rows, count, capped) = list(db, actor, query, paging).await?;
        let has_more = capped || paging.offset() + (rows.len() as u64) < count;
        let next = match (&list_name, rows.last()) {
            (Some(list), Some(last)) if has_more => Some(encode(last, list)),
            _ => None,
        };
        return Ok(TicketPage {
            rows,
            count: Some((count, capped)),
            has_more,
            next,
        });
    };
    if query.page.is_some() {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            "use either page or after, not both".to_owned(),
        ));
    }
    let Some(list_name) = list_name else {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            "after works with sort=created_at (the default) or sort=number".to_owned(),
        ));
    };
    let position = codec.decode(after, &list_name)?;
    let number = position.number.ok_or_else(cursor::invalid)?;
    let asc = order == sea_orm::Order::Asc;
    let past_number = if asc {
        ticket::Column::Number.gt(number)
    } else {
        ticket::Column::Number.lt(number)
    };
    let keyset = match sort {
        TicketSort::CreatedAt => {
            let at = position.at.ok_or_else(cursor::invalid)?;
            let past_at = if asc {
                ticket::Column::CreatedAt.gt(at)
            } else {
                ticket::Column::CreatedAt.lt(at)
            };
            Condition::any().add(past_at).add(
                Condition::all()
                    .add(ticket::Column::CreatedAt.eq(at))
                    .add(past_number),
            )
        }
        _ => Condition::all().add(past_number),
    };
    let mut rows = filtered(actor, query, db.get_database_backend())?
        .filter(keyset)
        .limit(paging.per_page + 1)
        .all(db)
        .await?;
    let has_more = rows.len() as u64 > paging.per_page;
    rows.truncate(usize::try_from(paging.per_page).unwrap_or(usize::MAX));
    let next = match rows.last() {
        Some(last) if has_more => Some(encode(last, &list_name)),
        _ => None,
    };
    Ok(TicketPage {
        rows,
        count: None,
        has_more,
        next,
    })
}

/// The full-text search of `query.q` for this caller, if any (400 `invalid_query` when `q`
/// is not a search: too long, control characters, no word to look for).
pub fn search_of(
    actor: &AuthUser,
    query: &TicketListQuery,
    backend: DatabaseBackend,
) -> Result<Option<Search>, ApiError> {
    match search_text(query.q.as_deref())? {
        Some(q) => Ok(Some(Search::new(
            search::Query::parse(q.as_str())?,
            backend,
            actor,
        ))),
        None => Ok(None),
    }
}

/// The tickets the caller may see with the list filters and sort order applied. With `q` the
/// default order is `relevance` (`services::search`).
pub fn filtered(
    actor: &AuthUser,
    query: &TicketListQuery,
    backend: DatabaseBackend,
) -> Result<sea_orm::Select<Ticket>, ApiError> {
    let search = search_of(actor, query, backend)?;
    let cond = filters(actor, query)?;
    let (sort, order) = sort_of(query, search.is_some());
    let mut select = Ticket::find().filter(cond);
    if sort != TicketSort::Relevance
        && let Some(search) = &search
    {
        select = select.filter(search.condition());
    }
    select = match sort {
        TicketSort::CreatedAt => select.order_by(ticket::Column::CreatedAt, order.clone()),
        TicketSort::UpdatedAt => select.order_by(ticket::Column::UpdatedAt, order.clone()),
        TicketSort::Priority => select
            .order_by(ticket::Column::PriorityRank, order.clone())
            .order_by_asc(ticket::Column::CreatedAt),
        TicketSort::Number => select.order_by(ticket::Column::Number, order.clone()),
        // Tickets without a running clock go last either way.
        TicketSort::SlaDue => select
            .order_by_asc(Expr::col(ticket::Column::SlaDueAt).is_null())
            .order_by(ticket::Column::SlaDueAt, order.clone()),
        TicketSort::Relevance => match &search {
            Some(search) => search.ranked(select, order.clone()),
            None => {
                return Err(ApiError::BadRequest(
                    ErrorCode::InvalidQuery,
                    "sort=relevance needs a search (q)".to_owned(),
                ));
            }
        },
    };
    // The number is unique: a total, stable order across pages.
    Ok(select.order_by(ticket::Column::Number, order))
}

/// The filters of `query`, its search included (and what the caller may see), as one
/// condition.
pub fn condition(
    actor: &AuthUser,
    query: &TicketListQuery,
    backend: DatabaseBackend,
) -> Result<Condition, ApiError> {
    let mut cond = filters(actor, query)?;
    if let Some(search) = search_of(actor, query, backend)? {
        cond = cond.add(search.condition());
    }
    Ok(cond)
}

/// The filters of `query` but its search (and what the caller may see) as one condition.
fn filters(actor: &AuthUser, query: &TicketListQuery) -> Result<Condition, ApiError> {
    // Visibility is one clause of an AND: for agents it is itself an OR.
    let mut cond = Condition::all().add(access::visible_condition(actor));
    if let Some(raw) = &query.status {
        let statuses: Vec<ticket::Status> = parse_list::<TicketStatus>(raw)?
            .into_iter()
            .map(Into::into)
            .collect();
        cond = cond.add(ticket::Column::Status.is_in(statuses));
    }
    if let Some(raw) = &query.priority {
        let ranks: Vec<i16> = parse_list::<Priority>(raw)?
            .into_iter()
            .map(Priority::rank)
            .collect();
        cond = cond.add(ticket::Column::PriorityRank.is_in(ranks));
    }
    match query.assigned_agent_id.as_deref().map(str::trim) {
        None => {}
        Some("none") => cond = cond.add(ticket::Column::AssignedAgentId.is_null()),
        // Whoever asks: what saved views such as "My open" store.
        Some("me") => cond = cond.add(ticket::Column::AssignedAgentId.eq(actor.id)),
        Some(raw) => {
            let id: Uuid = raw.parse().map_err(|_| {
                ApiError::BadRequest(
                    ErrorCode::InvalidQuery,
                    "assigned_agent_id must be a user id, `me` or `none`".to_owned(),
                )
            })?;
            cond = cond.add(ticket::Column::AssignedAgentId.eq(id));
        }
    }
    if let Some(id) = query.customer_id {
        cond = cond.add(ticket::Column::CustomerId.eq(id));
    }
    if let Some(raw) = query.category.as_deref() {
        // Stored categories never exceed the bound, nor hold control characters (which
        // PostgreSQL would refuse in a parameter), so such a filter is a mistake.
        if raw.chars().count() > CATEGORY_MAX_CHARS || raw.chars().any(char::is_control) {
            return Err(ApiError::BadRequest(
                ErrorCode::InvalidQuery,
                format!("category must be at most {CATEGORY_MAX_CHARS} printable characters"),
            ));
        }
        let category = raw.trim();
        if !category.is_empty() {
            cond = cond.add(ticket::Column::Category.eq(category));
        }
    }
    if let Some(escalated) = query.escalated {
        cond = cond.add(ticket::Column::Escalated.eq(escalated));
    }
    if let Some(from) = query.created_from {
        cond = cond.add(ticket::Column::CreatedAt.gte(from));
    }
    if let Some(to) = query.created_to {
        cond = cond.add(ticket::Column::CreatedAt.lt(to));
    }
    if let Some(state) = query.sla {
        let now = Utc::now();
        use shared::sla::SlaStatus::*;
        cond = cond.add(ticket::Column::SlaDueAt.is_not_null());
        cond = match state {
            Breached => cond.add(ticket::Column::SlaDueAt.lt(now)),
            Critical => cond
                .add(ticket::Column::SlaCriticalAt.lte(now))
                .add(ticket::Column::SlaDueAt.gte(now)),
            Warning => cond
                .add(ticket::Column::SlaWarningAt.lte(now))
                .add(ticket::Column::SlaCriticalAt.gt(now)),
            Ok => cond.add(ticket::Column::SlaWarningAt.gt(now)),
        };
    }
    if let Some(soon) = query.breaching_soon {
        if !actor.role.is_staff() {
            return Err(ApiError::BadRequest(
                ErrorCode::InvalidQuery,
                "breaching_soon is a staff filter".to_owned(),
            ));
        }
        let now = Utc::now();
        let running = Condition::all()
            .add(ticket::Column::SlaDueAt.gte(now))
            .add(ticket::Column::SlaAlertAt.lte(now));
        cond = cond.add(if soon { running } else { running.not() });
    }
    if let Some(tagged) =
        tags::list_condition(actor, query.tags.as_deref(), query.any_tags.as_deref())?
    {
        cond = cond.add(tagged);
    }
    Ok(cond)
}

/// Turns rows into DTOs with a fixed number of queries, whatever the number of tickets.
///
/// `staff_view` counts internal notes in `message_count`; events and customers get the public
/// count.
pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    staff_view: bool,
    tickets: Vec<ticket::Model>,
) -> Result<Vec<TicketDto>, ApiError> {
    if tickets.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let people = people(
        db,
        tickets
            .iter()
            .flat_map(|t| [Some(t.customer_id), t.assigned_agent_id])
            .flatten(),
    )
    .await?;

    let mut counts_query = TicketMessage::find()
        .select_only()
        .column(ticket_message::Column::TicketId)
        .column_as(Expr::col(ticket_message::Column::Id).count(), "n")
        .filter(ticket_message::Column::TicketId.is_in(ids.clone()))
        .group_by(ticket_message::Column::TicketId);
    if !staff_view {
        counts_query = counts_query.filter(ticket_message::Column::Internal.eq(false));
    }
    let counts: HashMap<Uuid, i64> = counts_query
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    let mut tag_sets = tags::tags_of(db, &ids).await?;
    let mut attachments = attachments_by(
        db,
        Condition::all()
            .add(attachment::Column::TicketId.is_in(ids.clone()))
            .add(attachment::Column::MessageId.is_null()),
        |a| a.ticket_id,
    )
    .await?;

    // Only closed tickets can have been merged.
    let mut merged = super::merge::targets_of(
        db,
        tickets
            .iter()
            .filter(|t| t.status == ticket::Status::Closed)
            .map(|t| t.id),
    )
    .await?;
    let mut ratings = crate::services::csat::latest_for(db, &ids).await?;
    let mut origins = super::mail::inbound::ticket_origins(db, &ids).await?;

    let now = Utc::now();
    Ok(tickets
        .into_iter()
        .map(|t| {
            let count = u64::try_from(counts.get(&t.id).copied().unwrap_or(0)).unwrap_or(0);
            let files = attachments.remove(&t.id).unwrap_or_default();
            let merged_into = merged.remove(&t.id);
            let mut dto = TicketDto {
                merged_into,
                ..build_dto(t, &people, count, files, now)
            };
            dto.tags = Some(tag_sets.remove(&dto.id).unwrap_or_default());
            dto.csat = ratings.remove(&dto.id);
            dto.email = origins.remove(&dto.id);
            dto
        })
        .collect())
}

/// DTOs as `actor` may see them: customers get [`TicketDto::for_customer`].
pub async fn to_dtos_for<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    tickets: Vec<ticket::Model>,
) -> Result<Vec<TicketDto>, ApiError> {
    let staff = actor.role.is_staff();
    let dtos = to_dtos(db, staff, tickets).await?;
    Ok(if staff {
        dtos
    } else {
        dtos.into_iter().map(TicketDto::for_customer).collect()
    })
}

/// One DTO as `actor` may see it.
pub async fn to_dto_for<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    ticket: ticket::Model,
) -> Result<TicketDto, ApiError> {
    to_dtos_for(db, actor, vec![ticket])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("ticket DTO missing")))
}

/// A ticket's DTO from what is already known about it: the people it names, the messages the
/// caller may see and its own attachments. No query: creation builds its answer with it.
pub fn build_dto(
    t: ticket::Model,
    people: &HashMap<Uuid, PersonDto>,
    message_count: u64,
    attachments: Vec<AttachmentDto>,
    now: DateTime<Utc>,
) -> TicketDto {
    let person = |id: Uuid| person_or_deleted(people, id);
    let sla_status = match (t.sla_due_at, t.sla_warning_at, t.sla_critical_at) {
        (Some(due), Some(warning), Some(critical)) => {
            Some(sla::status_at(now, warning, critical, due))
        }
        (Some(due), _, _) => Some(sla::status(
            now,
            t.created_at + Duration::seconds(t.sla_paused_secs),
            due,
        )),
        _ => None,
    };
    TicketDto {
        id: t.id,
        number: t.number,
        status: t.status.into(),
        priority: t.priority(),
        customer: person(t.customer_id),
        assigned_agent: t.assigned_agent_id.map(person),
        assigned_at: t.assigned_at,
        journey_id: t.journey_id,
        journey_version: t.journey_version,
        sla: SlaDto {
            response_due_at: t.response_due_at,
            resolution_due_at: t.resolution_due_at,
            first_response_at: t.first_response_at,
            due_at: t.sla_due_at,
            started_at: t
                .sla_due_at
                .map(|_| t.created_at + Duration::seconds(t.sla_paused_secs)),
            status: sla_status,
            paused: t.status == ticket::Status::Pending,
            response_breached: t.response_breached,
            resolution_breached: t.resolution_breached,
            warning_at: t.sla_warning_at,
            critical_at: t.sla_critical_at,
            policy: Some(
                t.sla_policy
                    .clone()
                    .unwrap_or_else(|| sla::DEFAULT_POLICY.to_owned()),
            ),
            calendar_id: t.sla_calendar_id,
            eta: t.sla_eta_at.map(|at| EtaDto {
                at,
                kind: if t.first_response_at.is_none() {
                    EtaKind::Reply
                } else {
                    EtaKind::Resolution
                },
            }),
        },
        escalated: t.escalated,
        escalation_level: t.escalation_level,
        message_count,
        attachments,
        created_at: t.created_at,
        updated_at: t.updated_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        subject: t.subject,
        description: t.description,
        category: t.category,
        transcript: t.transcript,
        merged_into: None,
        tags: Some(Vec::new()),
        csat: None,
        email: None,
    }
}

/// One ticket's DTO as `to_dtos` builds it.
pub async fn to_dto<C: ConnectionTrait>(
    db: &C,
    staff_view: bool,
    ticket: ticket::Model,
) -> Result<TicketDto, ApiError> {
    to_dtos(db, staff_view, vec![ticket])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("ticket DTO missing")))
}

/// The person with `id`, or a placeholder for an account that no longer exists.
pub fn person_or_deleted(people: &HashMap<Uuid, PersonDto>, id: Uuid) -> PersonDto {
    people.get(&id).cloned().unwrap_or_else(|| PersonDto {
        id,
        name: "(deleted user)".to_owned(),
        role: Role::Customer,
    })
}

/// Attachments matching `cond`, oldest first, grouped by `key` (their ticket or message).
pub async fn attachments_by<C: ConnectionTrait>(
    db: &C,
    cond: Condition,
    key: impl Fn(&attachment::Model) -> Option<Uuid>,
) -> Result<HashMap<Uuid, Vec<AttachmentDto>>, ApiError> {
    let mut grouped: HashMap<Uuid, Vec<AttachmentDto>> = HashMap::new();
    for a in Attachment::find()
        .filter(cond)
        .order_by_asc(attachment::Column::CreatedAt)
        .all(db)
        .await?
    {
        if let Some(k) = key(&a) {
            grouped.entry(k).or_default().push(a.into());
        }
    }
    Ok(grouped)
}

/// Names and roles of the given users, by id.
pub async fn people<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, PersonDto>, ApiError> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(User::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| {
            (
                u.id,
                PersonDto {
                    id: u.id,
                    name: u.name,
                    role: u.role.into(),
                },
            )
        })
        .collect())
}

/// The recorded changes of a ticket the caller may see, oldest first.
pub async fn history(
    db: &DatabaseConnection,
    actor: &AuthUser,
    id: Uuid,
    paging: Paging,
) -> Result<(Vec<HistoryEntryDto>, u64), ApiError> {
    access::visible_ticket(db, actor, id, false).await?;
    let mut select = TicketHistory::find().filter(ticket_history::Column::TicketId.eq(id));
    if !actor.role.is_staff() {
        // Tags are internal: customers never see them, here neither.
        select = select.filter(ticket_history::Column::Field.ne("tag"));
    }
    let select = select
        .order_by_asc(ticket_history::Column::CreatedAt)
        .order_by_asc(ticket_history::Column::Id);
    let (rows, count) = super::fetch_page(db, select, paging).await?;
    let person_of = |value: &Option<String>, field: &str| {
        (field == "assignee")
            .then(|| value.as_deref().and_then(|v| v.parse::<Uuid>().ok()))
            .flatten()
    };
    let people = people(
        db,
        rows.iter().flat_map(|r| {
            [
                r.actor_id,
                person_of(&r.from_value, &r.field),
                person_of(&r.to_value, &r.field),
            ]
            .into_iter()
            .flatten()
        }),
    )
    .await?;
    Ok((
        rows.into_iter()
            .map(|r| HistoryEntryDto {
                id: r.id,
                from_person: person_of(&r.from_value, &r.field)
                    .and_then(|p| people.get(&p).cloned()),
                to_person: person_of(&r.to_value, &r.field).and_then(|p| people.get(&p).cloned()),
                field: r.field,
                from: r.from_value,
                to: r.to_value,
                actor: r.actor_id.and_then(|a| people.get(&a).cloned()),
                created_at: r.created_at,
            })
            .collect(),
        count,
    ))
}

/// Marks the first public staff reply: fulfils the response SLA.
pub fn mark_first_response(t: &mut ticket::Model, at: DateTime<Utc>) -> bool {
    if t.first_response_at.is_some() {
        return false;
    }
    t.first_response_at = Some(at);
    t.response_business_secs = Some(business_secs(t, at));
    refresh_clock(t);
    true
}

/// Saves a modified ticket row.
pub async fn save<C: ConnectionTrait>(db: &C, t: ticket::Model) -> Result<ticket::Model, ApiError> {
    Ok(ticket::ActiveModel::from(t).reset_all().update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_lists_hold_each_value_once() {
        let repeated = "new,open,".repeat(5_000);
        let statuses = parse_list::<TicketStatus>(&repeated).expect("valid statuses");
        assert_eq!(statuses, [TicketStatus::New, TicketStatus::Open]);
        assert!(parse_list::<Priority>("high, ,urgent,").is_ok());
        assert!(parse_list::<Priority>("high,extreme").is_err());
    }
}
