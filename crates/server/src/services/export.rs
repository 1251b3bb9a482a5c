//! CSV export of the ticket list: the same filters and visibility as `GET /api/tickets`,
//! streamed in chunks of rows (keyset over the ticket number), never built in memory. The
//! caller's rights are checked again before each chunk, so losing access stops the stream.
//! Customers get the SLA columns (deadlines, breaches, escalation) and `tags` empty: internal
//! state. Tags are space-separated (a tag never holds a space). The last columns carry the
//! satisfaction rating of the ticket's latest rated resolution (score 1–5 and comment; empty
//! when not rated).

use futures_util::{Stream, stream};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use shared::{Priority, TicketStatus, tickets::TicketListQuery};

use crate::{
    auth::AuthUser,
    entity::{Ticket, ticket},
    error::ApiError,
    services::{access, csat, tags, tickets},
};

/// Rows fetched per database round trip.
const CHUNK: u64 = 500;

pub const HEADER: &str = "number,id,subject,status,priority,category,customer,assigned_agent,\
created_at,first_response_at,resolved_at,closed_at,response_due_at,resolution_due_at,\
response_breached,resolution_breached,escalated,tags,csat_score,csat_comment\r\n";

/// One CSV field: quoted when needed, and defused when a spreadsheet would read it as a
/// formula.
pub fn field(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

struct State {
    db: DatabaseConnection,
    /// Who asked; checked again before every chunk.
    actor: AuthUser,
    cond: Condition,
    after: i64,
    started: bool,
    done: bool,
}

/// The CSV document as a stream of chunks. Validation errors surface before streaming.
pub fn stream_csv(
    db: DatabaseConnection,
    actor: &AuthUser,
    query: &TicketListQuery,
) -> Result<impl Stream<Item = Result<String, ApiError>> + 'static, ApiError> {
    let cond = tickets::condition(actor, query, db.get_database_backend())?;
    let state = State {
        db,
        actor: actor.clone(),
        cond,
        after: i64::MIN,
        started: false,
        done: false,
    };
    Ok(stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        if !st.started {
            st.started = true;
            return Some((Ok(HEADER.to_owned()), st));
        }
        match chunk(&st).await {
            Ok((text, next)) => {
                match next {
                    Some(last) => st.after = last,
                    None => st.done = true,
                }
                (!text.is_empty()).then_some((Ok(text), st))
            }
            Err(e) => {
                st.done = true;
                Some((Err(e), st))
            }
        }
    }))
}

/// The next chunk of rows and the last number in it (`None` when nothing is left).
async fn chunk(st: &State) -> Result<(String, Option<i64>), ApiError> {
    // A deactivation, demotion or revocation while streaming ends the export there.
    access::still_authorized(&st.db, &st.actor).await?;
    let rows = Ticket::find()
        .filter(st.cond.clone())
        .filter(ticket::Column::Number.gt(st.after))
        .order_by_asc(ticket::Column::Number)
        .limit(CHUNK)
        .all(&st.db)
        .await?;
    let Some(last) = rows.last().map(|t| t.number) else {
        return Ok((String::new(), None));
    };
    let people = tickets::people(
        &st.db,
        rows.iter()
            .flat_map(|t| [Some(t.customer_id), t.assigned_agent_id])
            .flatten(),
    )
    .await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|t| t.id).collect();
    let ratings = csat::latest_for(&st.db, &ids).await?;
    let name = |id: Option<uuid::Uuid>| {
        id.and_then(|id| people.get(&id).map(|p| p.name.clone()))
            .unwrap_or_default()
    };
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    // Customers never see internal SLA state: their rows leave those columns empty.
    let staff = st.actor.role.is_staff();
    let internal = |v: String| if staff { v } else { String::new() };
    let mut tag_sets = if staff {
        let ids: Vec<uuid::Uuid> = rows.iter().map(|t| t.id).collect();
        tags::tags_of(&st.db, &ids).await?
    } else {
        Default::default()
    };
    let mut out = String::with_capacity(rows.len() * 256);
    for t in &rows {
        let cells = [
            t.number.to_string(),
            t.id.to_string(),
            field(&t.subject),
            TicketStatus::from(t.status).to_string(),
            Priority::from_rank(t.priority_rank)
                .unwrap_or(Priority::Medium)
                .to_string(),
            field(t.category.as_deref().unwrap_or("")),
            field(&name(Some(t.customer_id))),
            field(&name(t.assigned_agent_id)),
            t.created_at.to_rfc3339(),
            time(t.first_response_at),
            time(t.resolved_at),
            time(t.closed_at),
            internal(time(t.response_due_at)),
            internal(time(t.resolution_due_at)),
            internal(t.response_breached.to_string()),
            internal(t.resolution_breached.to_string()),
            internal(t.escalated.to_string()),
            field(&tag_sets.remove(&t.id).unwrap_or_default().join(" ")),
            ratings
                .get(&t.id)
                .map(|r| r.score.to_string())
                .unwrap_or_default(),
            field(
                ratings
                    .get(&t.id)
                    .and_then(|r| r.comment.as_deref())
                    .unwrap_or(""),
            ),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    // A short chunk is the last one; the next call would find nothing anyway.
    let more = rows.len() as u64 == CHUNK;
    Ok((out, more.then_some(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("@sum"), "'@sum");
    }
}
