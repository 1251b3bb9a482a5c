//! Feeding the delivery queue from the event log. For each enabled endpoint, one transaction
//! reads the placed events after the endpoint's cursor (in `seq` order), inserts a delivery
//! for each event the endpoint wants and moves the cursor past what it read. The endpoint's
//! row is locked for the transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, where another
//! instance busy with the same endpoint is skipped; SQLite has one writer at a time), so a
//! crash loses nothing (the cursor moves only with the deliveries) and several instances never
//! queue an event twice.
//!
//! Which events: those sent to the `admins` room (webhooks are an admin integration, so
//! internal notes and staff-only events are included; the log's internal entries, such as
//! the end of a user's sessions, are not). Each goes out under its stable type
//! (`ticket.created`, …) when the endpoint lists it or `*`, and under its WebSocket name when
//! the endpoint lists that. A `ticket-updated` that changed the ticket's status also makes a
//! `ticket.status_changed` (with `previous_status`, from the ticket's previous event in the
//! log; none when that has been pruned).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
    sea_query::{LockBehavior, LockType},
};
use shared::webhooks::{ALL, stable_name};
use uuid::Uuid;

use crate::{
    entity::{Event, WebhookDelivery, WebhookEndpoint, event, webhook::endpoint},
    error::ApiError,
    services::begin_write,
};

/// Log events read per transaction.
const BATCH: u64 = 500;

/// The stable type of a status change.
const STATUS_CHANGED: &str = "ticket.status_changed";

/// What a dispatcher run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    /// Enabled endpoints (none: nothing can be due either).
    pub endpoints: usize,
    /// Deliveries queued.
    pub queued: usize,
}

/// Runs the dispatcher over every enabled endpoint until each has caught up.
pub async fn run(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Dispatched, ApiError> {
    let ids: Vec<Uuid> = WebhookEndpoint::find()
        .select_only()
        .column(endpoint::Column::Id)
        .filter(endpoint::Column::Enabled.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    let mut queued = 0;
    let endpoints = ids.len();
    for id in ids {
        loop {
            let (n, more) = one(db, id, now).await?;
            queued += n;
            if !more {
                break;
            }
        }
    }
    Ok(Dispatched { endpoints, queued })
}

/// A statement with `$n` placeholders, written `?n` for SQLite.
pub(crate) fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// One batch for one endpoint: (deliveries queued, whether more events may be waiting).
async fn one(
    db: &DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(usize, bool), ApiError> {
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    let mut select = WebhookEndpoint::find_by_id(id).filter(endpoint::Column::Enabled.eq(true));
    if backend == DatabaseBackend::Postgres {
        select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let Some(ep) = select.one(&txn).await? else {
        // Gone, disabled, or another instance is dispatching it right now.
        return Ok((0, false));
    };
    let events = Event::find()
        .filter(event::Column::Seq.gt(ep.cursor_seq))
        .order_by_asc(event::Column::Seq)
        .limit(BATCH)
        .all(&txn)
        .await?;
    let Some(last) = events.last().and_then(|e| e.seq) else {
        return Ok((0, false));
    };
    let more = events.len() as u64 == BATCH;
    let wanted = super::events_of(&ep);
    let wants = |name: &str| wanted.iter().any(|w| w == name);
    let mut rows = Vec::new();
    let mut previous: HashMap<(Uuid, i64), Option<String>> = HashMap::new();
    for e in &events {
        let Some(seq) = e.seq else { continue };
        let for_admins = e
            .rooms
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x == shared::ws::rooms::ADMINS));
        if !for_admins {
            continue;
        }
        let ws = e.event_type.as_str();
        let data = e.payload.get("data").cloned().unwrap_or_default();
        let ticket = ticket_of(&data);
        let stable = stable_name(ws);
        let mut kinds: Vec<&str> = Vec::new();
        if let Some(stable) = stable
            && (wants(ALL) || wants(stable))
        {
            kinds.push(stable);
        }
        if wants(ws) {
            kinds.push(ws);
        }
        for kind in kinds {
            rows.push(super::new_delivery(
                ep.id,
                seq,
                kind,
                ticket,
                e.created_at,
                data.clone(),
                now,
            ));
        }
        if ws == "ticket-updated"
            && (wants(ALL) || wants(STATUS_CHANGED))
            && let Some(ticket_id) = ticket
        {
            let status = data
                .get("ticket")
                .and_then(|t| t.get("status"))
                .and_then(|s| s.as_str())
                .map(str::to_owned);
            let before = match previous.get(&(ticket_id, seq)) {
                Some(p) => p.clone(),
                None => {
                    let p = previous_status(&txn, ticket_id, seq).await?;
                    previous.insert((ticket_id, seq), p.clone());
                    p
                }
            };
            if let (Some(before), Some(now_status)) = (before, status)
                && before != now_status
            {
                let mut changed = data.clone();
                if let Some(obj) = changed.as_object_mut() {
                    obj.insert("previous_status".to_owned(), before.into());
                }
                rows.push(super::new_delivery(
                    ep.id,
                    seq,
                    STATUS_CHANGED,
                    ticket,
                    e.created_at,
                    changed,
                    now,
                ));
            }
        }
    }
    let queued = rows.len();
    for chunk in rows.chunks(200) {
        WebhookDelivery::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.execute_raw(stmt(
        backend,
        "UPDATE webhook_endpoints SET cursor_seq = $1 WHERE id = $2",
        vec![last.into(), ep.id.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok((queued, more))
}

/// The ticket an event is about, for ordering: `data.ticket.id`, `data.ticket_id`,
/// `data.message.ticket_id` or (a merge) `data.source.id`.
fn ticket_of(data: &serde_json::Value) -> Option<Uuid> {
    let pick = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    pick(data.get("ticket").and_then(|t| t.get("id")))
        .or_else(|| pick(data.get("ticket_id")))
        .or_else(|| pick(data.get("message").and_then(|m| m.get("ticket_id"))))
        .or_else(|| pick(data.get("source").and_then(|s| s.get("id"))))
}

/// The ticket's status in its latest event before `seq` that carries the ticket.
async fn previous_status<C: ConnectionTrait>(
    db: &C,
    ticket: Uuid,
    seq: i64,
) -> Result<Option<String>, ApiError> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT e.payload AS payload FROM events e \
             JOIN event_rooms r ON r.event_id = e.id \
             WHERE r.room = $1 AND e.seq < $2 \
               AND e.event_type IN ('new-ticket', 'ticket-updated', 'ticket-assigned') \
             ORDER BY e.seq DESC LIMIT 1",
            vec![shared::ws::rooms::ticket(ticket).into(), seq.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let payload: serde_json::Value = row.try_get("", "payload")?;
    Ok(payload
        .get("data")
        .and_then(|d| d.get("ticket"))
        .and_then(|t| t.get("status"))
        .and_then(|s| s.as_str())
        .map(str::to_owned))
}
