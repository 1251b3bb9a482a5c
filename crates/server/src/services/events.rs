//! Writing events: each change that others should see live appends an event to the durable log
//! in the same transaction as the change itself.
//!
//! Writers never wait for each other. On PostgreSQL an event is written with only its log row
//! id (from a sequence) and no place in the stream yet; after commit, [`place`] numbers every
//! committed, unplaced event with the next `seq` values, one placement at a time, and ends with
//! a `NOTIFY helpdesk_events` that wakes every server instance. So `seq` is gap-free, final
//! once given, and every reader sees a prefix of the same order; an event committed late simply
//! gets a later `seq`. Placement runs from the realtime hub of the instance that wrote (poked
//! after commit) and from every hub's poll, so an event is placed even if the writer's process
//! dies right after its commit. On SQLite (one writer at a time) an event takes its `seq` from
//! the `event_seq` counter inside the writing transaction, which is commit order already.
//!
//! Besides the events clients receive, the log carries [`ACCESS_REVOKED`] entries: the point
//! of the stream from which a user's live sessions must end.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseBackend, EntityTrait, Statement};
use shared::{
    tickets::TicketDto,
    ws::{Event, rooms},
};
use uuid::Uuid;

use crate::{
    entity::{EventRoom, event, ticket},
    error::ApiError,
    services::{add_to_counter, next_counter},
};

/// The PostgreSQL channel that announces newly placed events.
pub const NOTIFY_CHANNEL: &str = "helpdesk_events";

/// Events placed per [`place`] statement.
const PLACE_BATCH: i32 = 5000;

/// Appends `event` for `rooms`; returns its log row id (not its `seq`, which may come later).
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

/// Writes one row of the log and its room rows; returns the row's id. On PostgreSQL that is
/// one statement and the event has no `seq` yet ([`place`] gives it one after commit).
async fn append<C: ConnectionTrait>(
    db: &C,
    event_type: &str,
    payload: serde_json::Value,
    rooms: Vec<String>,
    staff_only: bool,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let mut rooms = rooms;
    rooms.sort();
    rooms.dedup();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "WITH e AS (INSERT INTO events (event_type, rooms, payload, created_at, staff_only) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id), \
                 r AS (INSERT INTO event_rooms (room, event_id) \
                   SELECT room, e.id FROM e, jsonb_array_elements_text($2) AS room) \
                 SELECT id FROM e",
                [
                    event_type.into(),
                    serde_json::json!(rooms).into(),
                    payload.into(),
                    now.into(),
                    staff_only.into(),
                ],
            ))
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("event insert returned no row")))?;
        return Ok(row.try_get::<i64>("", "id")?);
    }
    let seq = next_counter(db, "event_seq").await?;
    append_sqlite(
        db,
        seq,
        vec![(event_type.to_owned(), payload, rooms, staff_only)],
        now,
    )
    .await?;
    Ok(seq)
}

/// SQLite: writes events numbered `first..` (log row id = `seq`: one writer at a time, so
/// the counter's order is commit order) and their room rows.
async fn append_sqlite<C: ConnectionTrait>(
    db: &C,
    first: i64,
    entries: Vec<(String, serde_json::Value, Vec<String>, bool)>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut room_rows = Vec::new();
    let mut rows = Vec::with_capacity(entries.len());
    for (seq, (event_type, payload, rooms, staff_only)) in (first..).zip(entries) {
        room_rows.extend(rooms.iter().map(|room| event::room::ActiveModel {
            room: Set(room.clone()),
            event_id: Set(seq),
        }));
        rows.push(event::ActiveModel {
            id: Set(seq),
            seq: Set(Some(seq)),
            event_type: Set(event_type),
            rooms: Set(serde_json::json!(rooms)),
            payload: Set(payload),
            created_at: Set(now),
            staff_only: Set(staff_only),
        });
    }
    if rows.is_empty() {
        return Ok(());
    }
    crate::entity::Event::insert_many(rows).exec(db).await?;
    for chunk in room_rows.chunks(500) {
        EventRoom::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(())
}

/// Appends several events at once, in this order (one statement on PostgreSQL): for writers
/// that emit many, such as an assignment batch.
pub async fn emit_many<C: ConnectionTrait>(
    db: &C,
    events: Vec<(Event, Vec<String>, bool)>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut entries = Vec::with_capacity(events.len());
    for (event, mut rooms, staff_only) in events {
        rooms.sort();
        rooms.dedup();
        let payload = serde_json::to_value(&event)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising event: {e}")))?;
        entries.push((event.name().to_owned(), payload, rooms, staff_only));
    }
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        let last = add_to_counter(db, "event_seq", n).await?;
        return append_sqlite(db, last - n + 1, entries, now).await;
    }
    let mut sql = String::from(
        "WITH e AS (INSERT INTO events (event_type, rooms, payload, created_at, staff_only) VALUES ",
    );
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(entries.len() * 5);
    for (i, (event_type, payload, rooms, staff_only)) in entries.into_iter().enumerate() {
        let b = i * 5;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5
        ));
        values.extend([
            event_type.into(),
            serde_json::json!(rooms).into(),
            payload.into(),
            now.into(),
            staff_only.into(),
        ]);
    }
    sql.push_str(
        " RETURNING id, rooms) INSERT INTO event_rooms (room, event_id) \
         SELECT room, e.id FROM e, jsonb_array_elements_text(e.rooms) AS room",
    );
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// Gives every committed event that has no place in the stream yet the next `seq` values
/// (PostgreSQL; on SQLite events are placed when written). Returns how many it placed. Safe
/// to call from any number of instances at once: placements run one after the other.
pub async fn place(db: &sea_orm::DatabaseConnection) -> Result<u64, ApiError> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(0);
    }
    let mut total = 0u64;
    loop {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT helpdesk_place_events($1) AS placed",
                [PLACE_BATCH.into()],
            ))
            .await?;
        let placed = row
            .map(|r| r.try_get::<i64>("", "placed"))
            .transpose()?
            .unwrap_or(0);
        total += u64::try_from(placed).unwrap_or(0);
        if placed < i64::from(PLACE_BATCH) {
            return Ok(total);
        }
    }
}

/// Wakes every server instance's hub to place and deliver events committed by a process that
/// has no hub of its own (the command line). A no-op on SQLite, where the server polls.
pub async fn announce<C: ConnectionTrait>(db: &C) -> Result<(), ApiError> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, '0')",
            [NOTIFY_CHANNEL.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The newest `seq` in the log. Every event up to it is committed, placed and readable, and
/// any event placed later gets a larger `seq`; so a check made after reading it is at least as
/// new as that point of the stream.
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

/// Deletes placed events older than `before` (their room rows go with them).
pub async fn prune<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, ApiError> {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Query};
    let old = Query::select()
        .column(event::Column::Id)
        .from(crate::entity::Event)
        .and_where(event::Column::CreatedAt.lt(before))
        .and_where(event::Column::Seq.is_not_null())
        .to_owned();
    EventRoom::delete_many()
        .filter(event::room::Column::EventId.in_subquery(old))
        .exec(db)
        .await?;
    Ok(crate::entity::Event::delete_many()
        .filter(event::Column::CreatedAt.lt(before))
        .filter(event::Column::Seq.is_not_null())
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
