//! The event feed (`GET /api/events`): what a WebSocket client of the caller would receive,
//! read back from the durable log for clients that poll instead.
//!
//! The caller's rooms are those a fresh connection joins (its role's rooms, see
//! [`super::session::role_rooms`]); the rules that decide what a resume replays
//! ([`super::access::may_receive`]) decide what the feed lists, so the feed never shows more
//! than a socket: customers only their tickets' public events, agents nothing about a ticket
//! that is someone else's now (except the assignment that took it), and nobody the internal
//! entries of the log. Each event is the WebSocket frame itself (customers' copies without SLA
//! internals). Positions older than the log keeps ([`crate::services::events::RETENTION`])
//! answer `reset`, as a resume answers `resync`. Every event committed before the request is
//! listed (PostgreSQL: the request places committed events first).

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query};
use shared::{Role, feed::EventFeedDto};

use super::{access, hub::event_text_for, session::role_rooms};
use crate::{
    auth::AuthUser,
    entity::{Event, EventRoom, event},
    error::ApiError,
    services::events,
};

/// Up to `limit` events after `after_seq` that `user` may see, with where to continue.
pub async fn read(
    db: &sea_orm::DatabaseConnection,
    user: &AuthUser,
    after_seq: i64,
    limit: u64,
) -> Result<EventFeedDto, ApiError> {
    // Everything committed before this request gets its place first (PostgreSQL places
    // events just after commit; cheap when there is nothing to place), so a client that
    // wrote and then reads the feed finds its own change.
    events::place(db).await?;
    let oldest = Event::find()
        .select_only()
        .column_as(event::Column::Seq.min(), "min")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let last = events::committed_position(db).await?;
    let reset = |reason: &str| EventFeedDto {
        events: Vec::new(),
        next_after_seq: last,
        has_more: false,
        reset: true,
        reason: Some(reason.to_owned()),
    };
    if after_seq > 0
        && let Some(oldest) = oldest
        && after_seq < oldest - 1
    {
        return Ok(reset("beyond the retention window"));
    }
    if after_seq > last {
        return Ok(reset("beyond the end of the stream"));
    }
    let my_rooms: HashSet<String> = role_rooms(user).into_iter().collect();
    let mut query = Event::find()
        .filter(event::Column::Seq.gt(after_seq))
        .filter(event::Column::EventType.ne(events::ACCESS_REVOKED))
        .filter(
            event::Column::Id.in_subquery(
                Query::select()
                    .column(event::room::Column::EventId)
                    .from(EventRoom)
                    .and_where(event::room::Column::Room.is_in(my_rooms.iter().cloned()))
                    .to_owned(),
            ),
        )
        .order_by_asc(event::Column::Seq)
        .limit(limit + 1);
    if !user.role.is_staff() {
        query = query.filter(event::Column::StaffOnly.eq(false));
    }
    let mut rows = query.all(db).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after_seq = rows.last().map_or(after_seq, event::Model::position);
    let owners = match user.role {
        Role::Agent => access::current_assignees(db, &rows).await?,
        _ => HashMap::new(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for e in &rows {
        if e.staff_only && !user.role.is_staff() {
            continue;
        }
        if !access::may_receive(e, user.role, user.id, &my_rooms, &owners) {
            continue;
        }
        let Some(text) = event_text_for(e, user.role.is_staff()) else {
            log::error!("event {} has an unreadable payload", e.id);
            continue;
        };
        let frame = serde_json::from_str(&text)
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("re-reading an event: {err}")))?;
        out.push(frame);
    }
    Ok(EventFeedDto {
        events: out,
        next_after_seq,
        has_more,
        reset: false,
        reason: None,
    })
}
