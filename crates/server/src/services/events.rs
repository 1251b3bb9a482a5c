//! Writing events: each change that others should see live appends an event to the durable log
//! in the same transaction as the change itself.
//!
//! `seq` comes from the `event_seq` counter row, whose lock is held until commit, so events
//! become visible strictly in `seq` order. On PostgreSQL a `NOTIFY helpdesk_events` (delivered
//! at commit) tells every server instance to read the log; in-process, the realtime hub is
//! poked after commit and also polls as a safety net.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseBackend, EntityTrait, Statement,
};
use shared::{
    tickets::TicketDto,
    ws::{Event, rooms},
};
use uuid::Uuid;

use crate::{
    entity::{EventRoom, event, ticket},
    error::ApiError,
    services::next_counter,
};

/// The PostgreSQL channel that announces new events.
pub const NOTIFY_CHANNEL: &str = "helpdesk_events";

/// Appends `event` for `rooms`; returns its `seq`.
pub async fn emit<C: ConnectionTrait>(
    db: &C,
    event: &Event,
    rooms: Vec<String>,
    staff_only: bool,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let seq = next_counter(db, "event_seq").await?;
    let payload = serde_json::to_value(event)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising event: {e}")))?;
    let mut rooms = rooms;
    rooms.sort();
    rooms.dedup();
    event::ActiveModel {
        seq: Set(seq),
        event_type: Set(event.name().to_owned()),
        rooms: Set(serde_json::json!(rooms)),
        payload: Set(payload),
        created_at: Set(now),
        staff_only: Set(staff_only),
    }
    .insert(db)
    .await?;
    if !rooms.is_empty() {
        EventRoom::insert_many(rooms.into_iter().map(|room| event::room::ActiveModel {
            room: Set(room),
            seq: Set(seq),
        }))
        .exec(db)
        .await?;
    }
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [NOTIFY_CHANNEL.into(), seq.to_string().into()],
        ))
        .await?;
    }
    Ok(seq)
}

/// How long events stay replayable; a client that was away longer must resync.
pub const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// Deletes events older than `before` (their room rows go with them).
pub async fn prune<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, ApiError> {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Query};
    let old = Query::select()
        .column(event::Column::Seq)
        .from(crate::entity::Event)
        .and_where(event::Column::CreatedAt.lt(before))
        .to_owned();
    EventRoom::delete_many()
        .filter(event::room::Column::Seq.in_subquery(old))
        .exec(db)
        .await?;
    Ok(crate::entity::Event::delete_many()
        .filter(event::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Everyone who follows a ticket: admins, its customer, its room, and its agent (or, while it
/// is unassigned, every agent, since the queue is theirs).
pub fn ticket_rooms(t: &ticket::Model) -> Vec<String> {
    let mut r = vec![
        rooms::ADMINS.to_owned(),
        rooms::customer(t.customer_id),
        rooms::ticket(t.id),
    ];
    match t.assigned_agent_id {
        Some(agent) => r.push(rooms::agent(agent)),
        None => r.push(rooms::AGENTS.to_owned()),
    }
    r
}

/// Staff rooms of a ticket (no customer), for staff-only events.
pub fn staff_rooms(t: &ticket::Model, extra_agent: Option<Uuid>) -> Vec<String> {
    let mut r = vec![rooms::ADMINS.to_owned(), rooms::ticket(t.id)];
    if let Some(agent) = t.assigned_agent_id.or(extra_agent) {
        r.push(rooms::agent(agent));
    }
    r
}

/// `ticket-updated` for everyone following the ticket.
pub async fn ticket_updated<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    dto: TicketDto,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    emit(
        db,
        &Event::TicketUpdated {
            ticket: Box::new(dto),
        },
        ticket_rooms(t),
        false,
        now,
    )
    .await
}
