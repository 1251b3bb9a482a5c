//! Who gets which ticket: the round-robin assignment run, taking a ticket from the queue,
//! admin (re)assignment, and releasing an offline agent's tickets.
//!
//! One [`run`] serves the timer, the immediate triggers and the tests. It drains the whole
//! queue in batches that commit one by one: unassigned tickets by priority (highest first)
//! then age, each to the next agent in the rotation who is `available`, active, inside their
//! shift and under capacity. The rotation position is stored in the database, so a restart continues where it
//! stopped. On PostgreSQL each batch holds a transaction-scoped advisory lock (one instance
//! assigns at a time) and claims rows with `FOR UPDATE SKIP LOCKED`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{CaseStatement, Expr, LockBehavior, LockType},
};
use shared::{
    ErrorCode, Role,
    tickets::TicketDto,
    ws::{Event, rooms},
};
use uuid::Uuid;

use crate::{
    entity::{Agent, Ticket, TicketHistory, User, agent, ticket, ticket_history, user},
    error::ApiError,
    services::{
        agents::{on_shift, open_counts},
        begin_write, events,
        mail::{self, Mailer, Notice},
        settings::{self, RoundRobin},
        tickets,
    },
};

/// Advisory lock keys (any constants unique to this application).
const ASSIGNMENT_LOCK: i64 = 0x4845_4c50_0001;
pub const SLA_MONITOR_LOCK: i64 = 0x4845_4c50_0002;

/// Takes a transaction-scoped advisory lock on PostgreSQL; `false` if another instance holds
/// it. SQLite runs a single process, so it always gets it.
pub async fn try_job_lock<C: ConnectionTrait>(db: &C, key: i64) -> Result<bool, ApiError> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(true);
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [key.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false))
}

/// What a run assigned, in order: (ticket, agent).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub assigned: Vec<(Uuid, Uuid)>,
    /// Another instance was running; this run did nothing.
    pub skipped: bool,
}

/// Tickets assigned per transaction. A batch is planned in memory and written in a handful of
/// statements (the tickets, their history, their events), so it takes milliseconds; each
/// batch commits on its own, so the rows it locks are held for one batch, not for the whole
/// queue: agents changing status wait for at most one batch.
pub const BATCH: u64 = 500;

/// Drains the queue over the agents who can take tickets now.
pub async fn run(
    db: &DatabaseConnection,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<Report, ApiError> {
    let mut report = Report::default();
    loop {
        let batch = run_batch(db, mailer, now).await?;
        report.skipped |= batch.skipped;
        let more = batch.assigned.len() == BATCH as usize;
        report.assigned.extend(batch.assigned);
        if !more || report.skipped {
            return Ok(report);
        }
    }
}

/// The agents who can take tickets now and how many each can still take, in rotation order
/// (by id).
async fn candidates<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, ApiError> {
    let available: Vec<agent::Model> = Agent::find()
        .find_also_related(User)
        .filter(agent::Column::Status.eq(agent::AgentStatus::Available))
        .filter(agent::Column::Active.eq(true))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.eq(user::UserRole::Agent))
        .all(db)
        .await?
        .into_iter()
        .map(|(a, _)| a)
        .filter(|a| on_shift(a, now))
        .collect();
    // Counting everyone's open tickets is the expensive part; skip it when nobody is there.
    if available.is_empty() {
        return Ok(Vec::new());
    }
    let open = open_counts(db).await?;
    let mut out: Vec<(Uuid, i64)> = available
        .into_iter()
        .map(|a| {
            let room = i64::from(a.capacity) - open.get(&a.user_id).copied().unwrap_or(0);
            (a.user_id, room)
        })
        .filter(|(_, room)| *room > 0)
        .collect();
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

/// Assigns up to [`BATCH`] tickets from the head of the queue in one transaction.
async fn run_batch(
    db: &DatabaseConnection,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<Report, ApiError> {
    let txn = begin_write(db).await?;
    if !try_job_lock(&txn, ASSIGNMENT_LOCK).await? {
        return Ok(Report {
            skipped: true,
            ..Report::default()
        });
    }
    let mut candidates = candidates(&txn, now).await?;
    let mut report = Report::default();
    if candidates.is_empty() {
        txn.commit().await?;
        return Ok(report);
    }
    // The rotation continues after the last agent served.
    let position: RoundRobin = settings::get(&txn, settings::ROUND_ROBIN)
        .await?
        .unwrap_or_default();
    let mut next = match position.last_agent_id {
        Some(last) => candidates
            .iter()
            .position(|(id, _)| *id > last)
            .unwrap_or(0),
        None => 0,
    };

    let mut query = Ticket::find()
        .filter(ticket::Column::Status.eq(ticket::Status::New))
        .filter(ticket::Column::AssignedAgentId.is_null())
        .order_by_desc(ticket::Column::PriorityRank)
        .order_by_asc(ticket::Column::CreatedAt)
        .order_by_asc(ticket::Column::Number)
        .limit(BATCH);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let queue = query.all(&txn).await?;
    // The plan, in memory: who gets which ticket.
    let mut changed = Vec::with_capacity(queue.len());
    for mut t in queue {
        // The next agent in the rotation with room left.
        let Some(offset) =
            (0..candidates.len()).find(|i| candidates[(next + i) % candidates.len()].1 > 0)
        else {
            break;
        };
        let slot = (next + offset) % candidates.len();
        let agent_id = candidates[slot].0;
        candidates[slot].1 -= 1;
        next = (slot + 1) % candidates.len();

        t.assigned_agent_id = Some(agent_id);
        t.assigned_at = Some(now);
        t.status = ticket::Status::Open;
        t.updated_at = now;
        // `new` and `open` run the same SLA clock, so this changes nothing that is stored.
        tickets::refresh_clock(&mut t);
        report.assigned.push((t.id, agent_id));
        changed.push(t);
    }
    if changed.is_empty() {
        txn.commit().await?;
        return Ok(report);
    }
    // Then a few statements for the whole batch: the tickets, their history, their events.
    let mut assignee = CaseStatement::new();
    for (id, agent) in &report.assigned {
        assignee = assignee.case(ticket::Column::Id.eq(*id), Expr::val(*agent));
    }
    Ticket::update_many()
        .col_expr(ticket::Column::AssignedAgentId, assignee.into())
        .col_expr(ticket::Column::AssignedAt, Expr::val(now))
        .col_expr(ticket::Column::Status, Expr::val(ticket::Status::Open))
        .col_expr(ticket::Column::UpdatedAt, Expr::val(now))
        .filter(ticket::Column::Id.is_in(report.assigned.iter().map(|(id, _)| *id)))
        .exec(&txn)
        .await?;
    let open = Some(shared::TicketStatus::from(ticket::Status::Open).to_string());
    let new = Some(shared::TicketStatus::from(ticket::Status::New).to_string());
    let history = report.assigned.iter().flat_map(|(id, agent)| {
        [
            ("assignee", None, Some(agent.to_string())),
            ("status", new.clone(), open.clone()),
        ]
        .map(|(field, from, to)| ticket_history::ActiveModel {
            id: Set(Uuid::new_v4()),
            ticket_id: Set(*id),
            actor_id: Set(None),
            field: Set(field.to_owned()),
            from_value: Set(from),
            to_value: Set(to),
            created_at: Set(now),
        })
    });
    TicketHistory::insert_many(history).exec(&txn).await?;
    let dtos = tickets::to_dtos(&txn, false, changed.clone()).await?;
    let mut assigned_events = Vec::with_capacity(changed.len());
    for (t, dto) in changed.iter().zip(dtos) {
        assigned_events.push(assigned_event(t, dto, None));
        mail::notify(&txn, mailer, Notice::Assigned(t), None, now).await?;
    }
    assigned_events.push(queue_updated(queue_length(&txn).await?));
    events::emit_many(&txn, assigned_events, now).await?;
    if let Some((_, agent)) = report.assigned.last() {
        settings::put(
            &txn,
            settings::ROUND_ROBIN,
            &RoundRobin {
                last_agent_id: Some(*agent),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// Records an assignment change and the status change it caused, in the history.
async fn record_assignment<C: ConnectionTrait>(
    db: &C,
    ticket_id: Uuid,
    actor: Option<Uuid>,
    agents: (Option<Uuid>, Option<Uuid>),
    statuses: (ticket::Status, ticket::Status),
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let id = |a: Option<Uuid>| a.map(|a| a.to_string());
    tickets::record(
        db,
        ticket_id,
        actor,
        "assignee",
        id(agents.0),
        id(agents.1),
        now,
    )
    .await?;
    if statuses.0 != statuses.1 {
        let name = |s: ticket::Status| Some(shared::TicketStatus::from(s).to_string());
        tickets::record(
            db,
            ticket_id,
            actor,
            "status",
            name(statuses.0),
            name(statuses.1),
            now,
        )
        .await?;
    }
    Ok(())
}

/// `ticket-assigned` to everyone following the ticket and to the previous agent.
pub(crate) async fn emit_assigned<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    dto: TicketDto,
    previous: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let (event, rooms, staff_only) = assigned_event(t, dto, previous);
    events::emit(db, &event, rooms, staff_only, now).await?;
    Ok(())
}

/// The `ticket-assigned` event of `t` with its rooms (and whether it is staff-only).
fn assigned_event(
    t: &ticket::Model,
    dto: TicketDto,
    previous: Option<Uuid>,
) -> (Event, Vec<String>, bool) {
    let mut rooms = events::ticket_rooms(t);
    if let Some(previous) = previous {
        rooms.push(rooms::agent(previous));
    }
    (
        Event::TicketAssigned {
            ticket: Box::new(dto),
            agent_id: t.assigned_agent_id,
            previous_agent_id: previous,
        },
        rooms,
        false,
    )
}

/// Number of tickets waiting in the queue.
pub async fn queue_length<C: ConnectionTrait>(db: &C) -> Result<u64, ApiError> {
    Ok(Ticket::find()
        .filter(ticket::Column::Status.eq(ticket::Status::New))
        .filter(ticket::Column::AssignedAgentId.is_null())
        .count(db)
        .await?)
}

/// `queue-updated` for staff.
pub async fn emit_queue_length<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    emit_queue_updated(db, queue_length(db).await?, now).await
}

/// `queue-updated` with a length the caller counted.
pub async fn emit_queue_updated<C: ConnectionTrait>(
    db: &C,
    queue_length: u64,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let (event, rooms, staff_only) = queue_updated(queue_length);
    events::emit(db, &event, rooms, staff_only, now).await?;
    Ok(())
}

/// The `queue-updated` event for staff with its rooms, for [`events::emit_many`].
pub fn queue_updated(queue_length: u64) -> (Event, Vec<String>, bool) {
    (
        Event::QueueUpdated { queue_length },
        vec![rooms::ADMINS.to_owned(), rooms::AGENTS.to_owned()],
        false,
    )
}

/// An agent takes an unassigned ticket. Two agents racing for one ticket: exactly one wins,
/// the other gets 409 `already_assigned`.
pub async fn take(
    db: &DatabaseConnection,
    mailer: &Mailer,
    agent_id: Uuid,
    role: Role,
    ticket_id: Uuid,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    if role != Role::Agent {
        return Err(ApiError::Forbidden(
            "only agents take tickets; admins assign them".to_owned(),
        ));
    }
    let txn = begin_write(db).await?;
    let profile = Agent::find_by_id(agent_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("agent"))?;
    if !profile.active {
        return Err(ApiError::Forbidden(
            "inactive agents cannot take tickets".to_owned(),
        ));
    }
    let refuse = |t: &ticket::Model| match t.assigned_agent_id {
        // Another agent's ticket is not even visible to this one: say no more than that.
        Some(other) if other != agent_id => ApiError::Conflict(
            ErrorCode::AlreadyAssigned,
            "another agent took this ticket first".to_owned(),
        ),
        Some(_) => ApiError::Conflict(
            ErrorCode::AlreadyAssigned,
            "this ticket is already yours".to_owned(),
        ),
        None => ApiError::Conflict(
            ErrorCode::InvalidTransition,
            format!(
                "only new tickets can be taken; this one is {}",
                shared::TicketStatus::from(t.status)
            ),
        ),
    };
    let current = Ticket::find_by_id(ticket_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    if current.assigned_agent_id.is_some() || current.status != ticket::Status::New {
        return Err(refuse(&current));
    }
    let open = open_counts(&txn)
        .await?
        .get(&agent_id)
        .copied()
        .unwrap_or(0);
    if open >= i64::from(profile.capacity) {
        return Err(ApiError::Conflict(
            ErrorCode::OverCapacity,
            format!(
                "you already have {open} open tickets (capacity {})",
                profile.capacity
            ),
        ));
    }
    // One conditional UPDATE decides the race on both databases.
    let claimed = Ticket::update_many()
        .col_expr(ticket::Column::AssignedAgentId, Expr::value(Some(agent_id)))
        .col_expr(ticket::Column::AssignedAt, Expr::value(Some(now)))
        .col_expr(ticket::Column::Status, Expr::value(ticket::Status::Open))
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(ticket_id))
        .filter(ticket::Column::AssignedAgentId.is_null())
        .filter(ticket::Column::Status.eq(ticket::Status::New))
        .exec(&txn)
        .await?;
    let t = Ticket::find_by_id(ticket_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    if claimed.rows_affected == 0 {
        return Err(refuse(&t));
    }
    let mut t = t;
    tickets::refresh_clock(&mut t);
    let t = tickets::save(&txn, t).await?;
    record_assignment(
        &txn,
        t.id,
        Some(agent_id),
        (None, Some(agent_id)),
        (ticket::Status::New, ticket::Status::Open),
        now,
    )
    .await?;
    let dto = tickets::to_dto(&txn, false, t.clone()).await?;
    emit_assigned(&txn, &t, dto, None, now).await?;
    mail::notify(&txn, mailer, Notice::Assigned(&t), Some(agent_id), now).await?;
    emit_queue_length(&txn, now).await?;
    txn.commit().await?;
    Ok(t)
}

/// An admin assigns a ticket to any active agent (ignoring shift and capacity), or unassigns
/// it (`None`), which puts it back in the queue.
pub async fn assign(
    db: &DatabaseConnection,
    mailer: &Mailer,
    admin_id: Uuid,
    ticket_id: Uuid,
    agent_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let txn = begin_write(db).await?;
    let mut t = Ticket::find_by_id(ticket_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    if !shared::TicketStatus::from(t.status).is_active() {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            "only new, open or pending tickets can be (re)assigned".to_owned(),
        ));
    }
    if let Some(agent_id) = agent_id {
        let ok = Agent::find_by_id(agent_id)
            .find_also_related(User)
            .one(&txn)
            .await?
            .is_some_and(|(a, u)| {
                a.active && u.is_some_and(|u| u.active && u.role == user::UserRole::Agent)
            });
        if !ok {
            return Err(ApiError::field(
                ErrorCode::ValidationFailed,
                "agent_id",
                "no active agent with this id",
            ));
        }
    }
    let previous = t.assigned_agent_id;
    if previous == agent_id {
        txn.commit().await?;
        return Ok(t);
    }
    let from_status = t.status;
    t.assigned_agent_id = agent_id;
    t.assigned_at = agent_id.map(|_| now);
    let to_status = match (agent_id, t.status) {
        (None, _) => ticket::Status::New,
        (Some(_), ticket::Status::New) => ticket::Status::Open,
        (Some(_), status) => status,
    };
    if to_status != from_status && tickets::set_status(&mut t, to_status.into(), now) {
        let policies = settings::sla_policies(&txn).await?;
        tickets::set_deadlines(&mut t, &policies);
    }
    t.updated_at = now;
    tickets::refresh_clock(&mut t);
    let t = tickets::save(&txn, t).await?;
    record_assignment(
        &txn,
        t.id,
        Some(admin_id),
        (previous, agent_id),
        (from_status, t.status),
        now,
    )
    .await?;
    let dto = tickets::to_dto(&txn, false, t.clone()).await?;
    emit_assigned(&txn, &t, dto, previous, now).await?;
    mail::notify(&txn, mailer, Notice::Assigned(&t), Some(admin_id), now).await?;
    emit_queue_length(&txn, now).await?;
    txn.commit().await?;
    Ok(t)
}

/// Puts an agent's `open` tickets back in the queue (inside the caller's transaction).
pub async fn release_agent<C: ConnectionTrait>(
    db: &C,
    actor: Uuid,
    agent_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let open = Ticket::find()
        .filter(ticket::Column::AssignedAgentId.eq(agent_id))
        .filter(ticket::Column::Status.eq(ticket::Status::Open))
        .all(db)
        .await?;
    let n = open.len();
    for mut t in open {
        t.assigned_agent_id = None;
        t.assigned_at = None;
        t.status = ticket::Status::New;
        t.updated_at = now;
        tickets::refresh_clock(&mut t);
        let t = tickets::save(db, t).await?;
        record_assignment(
            db,
            t.id,
            Some(actor),
            (Some(agent_id), None),
            (ticket::Status::Open, ticket::Status::New),
            now,
        )
        .await?;
        let dto = tickets::to_dto(db, false, t.clone()).await?;
        emit_assigned(db, &t, dto, Some(agent_id), now).await?;
    }
    if n > 0 {
        emit_queue_length(db, now).await?;
    }
    Ok(n)
}
