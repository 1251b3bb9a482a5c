//! What the event stream itself says about who may receive what: a ticket changing hands and a
//! user's access being revoked. The hub (live delivery) and the replay of missed events read the
//! same entries with these functions, so both cut a user off at the same point of the stream.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use shared::Role;
use uuid::Uuid;

use crate::{
    entity::{Ticket, event, ticket},
    services::events::{ACCESS_REVOKED, AccessRevoked},
};

/// An entry of the log that changes what some session may receive from then on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A ticket got a new assignee (`None`: back in the queue).
    Assigned { ticket: Uuid, agent: Option<Uuid> },
    /// A user's tokens were revoked: their sessions end here.
    Revoked(AccessRevoked),
}

/// The change `e` makes, if any.
pub fn change_of(e: &event::Model) -> Option<Change> {
    match e.event_type.as_str() {
        "ticket-assigned" => {
            let data = &e.payload["data"];
            let ticket = data["ticket"]["id"].as_str()?.parse().ok()?;
            let agent = data["agent_id"].as_str().and_then(|a| a.parse().ok());
            Some(Change::Assigned { ticket, agent })
        }
        ACCESS_REVOKED => serde_json::from_value(e.payload["data"].clone())
            .ok()
            .map(Change::Revoked),
        _ => None,
    }
}

/// The ticket an event is about, if it is about one.
pub fn ticket_of(e: &event::Model) -> Option<Uuid> {
    let data = &e.payload["data"];
    data["ticket"]["id"]
        .as_str()
        .or_else(|| data["message"]["ticket_id"].as_str())
        .and_then(|id| id.parse().ok())
}

/// Whether a user of `role` stops seeing a ticket once it is assigned to `assignee`: agents see
/// only unassigned tickets and their own; admins see all; a customer's ticket stays theirs.
pub fn loses_ticket(role: Role, user: Uuid, assignee: Option<Uuid>) -> bool {
    role == Role::Agent && assignee.is_some_and(|a| a != user)
}

/// Whether a stored event reaches a user of `role` whose rooms are `my_rooms`, when read back
/// (a resume, the REST event feed): one of its rooms is theirs, and, for an agent, its ticket
/// is not someone else's now (`owners`: current assignees), unless it is the assignment that
/// tells them the ticket moved on.
pub fn may_receive(
    e: &event::Model,
    role: Role,
    user: Uuid,
    my_rooms: &HashSet<String>,
    owners: &HashMap<Uuid, Option<Uuid>>,
) -> bool {
    let rooms: Vec<String> = serde_json::from_value(e.rooms.clone()).unwrap_or_default();
    if !rooms.iter().any(|r| my_rooms.contains(r)) {
        return false;
    }
    if role != Role::Agent {
        return true;
    }
    let Some(ticket) = ticket_of(e) else {
        return true;
    };
    let owner = owners.get(&ticket).copied().flatten();
    if !loses_ticket(Role::Agent, user, owner) {
        return true;
    }
    e.event_type == "ticket-assigned"
}

/// The current assignee of every ticket the events are about.
pub async fn current_assignees(
    db: &sea_orm::DatabaseConnection,
    events: &[event::Model],
) -> Result<HashMap<Uuid, Option<Uuid>>, sea_orm::DbErr> {
    let ids: HashSet<Uuid> = events.iter().filter_map(ticket_of).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<Uuid>)> = Ticket::find()
        .select_only()
        .column(ticket::Column::Id)
        .column(ticket::Column::AssignedAgentId)
        .filter(ticket::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Entry types a replay reads even before the client's `after_seq`, to bring the session's
/// rooms from the hub's position up to date.
pub const CHANGE_TYPES: [&str; 2] = ["ticket-assigned", ACCESS_REVOKED];

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::services::events::Revocation;

    fn entry(event_type: &str, payload: serde_json::Value) -> event::Model {
        event::Model {
            id: 1,
            seq: Some(1),
            event_type: event_type.to_owned(),
            rooms: serde_json::json!([]),
            payload,
            created_at: Utc::now(),
            staff_only: false,
        }
    }

    #[test]
    fn reads_assignments_and_revocations() {
        let ticket = Uuid::new_v4();
        let agent = Uuid::new_v4();
        let e = entry(
            "ticket-assigned",
            serde_json::json!({"event": "ticket-assigned", "data": {
                "ticket": {"id": ticket}, "agent_id": agent, "previous_agent_id": null}}),
        );
        assert_eq!(
            change_of(&e),
            Some(Change::Assigned {
                ticket,
                agent: Some(agent)
            })
        );
        assert_eq!(ticket_of(&e), Some(ticket));
        let user_id = Uuid::new_v4();
        let e = entry(
            ACCESS_REVOKED,
            serde_json::json!({"event": ACCESS_REVOKED, "data": {
                "user_id": user_id, "reason": "deactivated"}}),
        );
        assert_eq!(
            change_of(&e),
            Some(Change::Revoked(AccessRevoked {
                user_id,
                reason: Revocation::Deactivated
            }))
        );
        let message = entry(
            "new-message",
            serde_json::json!({"event": "new-message", "data": {"message": {"ticket_id": ticket}}}),
        );
        assert_eq!(change_of(&message), None);
        assert_eq!(ticket_of(&message), Some(ticket));
    }

    #[test]
    fn only_agents_lose_tickets_to_someone_else() {
        let me = Uuid::new_v4();
        let other = Some(Uuid::new_v4());
        assert!(loses_ticket(Role::Agent, me, other));
        assert!(!loses_ticket(Role::Agent, me, Some(me)));
        assert!(!loses_ticket(Role::Agent, me, None));
        assert!(!loses_ticket(Role::Admin, me, other));
        assert!(!loses_ticket(Role::Customer, me, other));
    }
}
