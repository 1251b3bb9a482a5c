//! Writing events: each change that others should see live appends an event to the durable log
//! in the same transaction as the change itself.
//!
//! `seq` comes from the `event_seq` counter row, whose lock is held until commit, so events
//! become visible strictly in `seq` order. On PostgreSQL a `NOTIFY helpdesk_events` (delivered
//! at commit) tells every server instance to read the log; in-process, the realtime hub is
//! poked after commit and also polls as a safety net.
//!
//! Besides the events clients receive, the log carries [`ACCESS_REVOKED`] entries: the point
//! of the stream from which a user's live sessions must end.

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
    let payload = serde_json::to_value(event)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising event: {e}")))?;
    append(db, event.name(), payload, rooms, staff_only, now).await
}

/// Writes one row of the log (and its room rows) and announces it on PostgreSQL.
async fn append<C: ConnectionTrait>(
    db: &C,
    event_type: &str,
    payload: serde_json::Value,
    rooms: Vec<String>,
    staff_only: bool,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let seq = next_counter(db, "event_seq").await?;
    let mut rooms = rooms;
    rooms.sort();
    rooms.dedup();
    event::ActiveModel {
        seq: Set(seq),
        event_type: Set(event_type.to_owned()),
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

/// The newest `seq` in the log. Every event up to it is committed and readable, because `seq`
/// is taken under a lock held until commit; so a check made after reading it is at least as new
/// as that point of the stream.
pub async fn committed_position<C: ConnectionTrait>(db: &C) -> Result<i64, ApiError> {
    use sea_orm::{ColumnTrait, QuerySelect};
    let max = crate::entity::Event::find()
        .select_only()
        .column_as(event::Column::Seq.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Type of the log entry that ends a user's live sessions. It is stored in the user's
/// internal room ([`rooms::user`]) and never sent to a client: every server instance's hub
/// reads it in order and closes that user's sockets at that point of the stream.
pub const ACCESS_REVOKED: &str = "access-revoked";

/// Why a user's existing tokens and live sessions stopped being valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// An admin deactivated the account.
    Deactivated,
    /// An admin changed the account's role.
    RoleChanged,
    /// The password was changed (by its owner or on the command line).
    PasswordChanged,
    /// The user signed out everywhere.
    SignedOutEverywhere,
}

impl Revocation {
    /// Short enough for a WebSocket close reason (at most 123 bytes).
    pub fn message(self) -> &'static str {
        match self {
            Revocation::Deactivated => "this account has been deactivated",
            Revocation::RoleChanged => "the account's role changed; sign in again",
            Revocation::PasswordChanged => "the password changed; sign in again",
            Revocation::SignedOutEverywhere => "signed out everywhere; sign in again",
        }
    }
}

/// The stored form of an [`ACCESS_REVOKED`] entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessRevoked {
    pub user_id: Uuid,
    pub reason: Revocation,
}

/// Records, in the caller's transaction (the one that bumps the token version, deactivates or
/// demotes), that `user_id`'s live sessions must end.
pub async fn revoke_access<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    reason: Revocation,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let payload = serde_json::json!({
        "event": ACCESS_REVOKED,
        "data": AccessRevoked { user_id, reason },
    });
    append(
        db,
        ACCESS_REVOKED,
        payload,
        vec![rooms::user(user_id)],
        false,
        now,
    )
    .await
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
