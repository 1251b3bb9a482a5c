//! Links between related tickets (staff only; customers never see them).
//!
//! A link joins two tickets in both directions: each side has its own row with the relation
//! as seen from it (`duplicate_of` here, `duplicated_by` there), so listing a ticket's links
//! reads one side only. Adding and removing a link records history and sends a staff-only
//! event on both tickets. A ticket's link list names every linked ticket by number; its
//! subject and status only when the caller may see that ticket.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use shared::{
    ErrorCode,
    links::{CreateLinkRequest, TicketLinkDto, TicketRefDto, TicketRelation},
    ws::{Event, rooms},
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Ticket, TicketLink, ticket, ticket_link},
    error::ApiError,
    services::{access, begin_write, events, merge, tickets},
};

/// At most this many links per ticket.
pub const MAX_LINKS: usize = 100;

/// Staff rooms of a ticket, the queue's agents included while it is unassigned.
fn staff_rooms(t: &ticket::Model) -> Vec<String> {
    let mut r = events::staff_rooms(t, None);
    if t.assigned_agent_id.is_none() {
        r.push(rooms::AGENTS.to_owned());
    }
    r
}

fn link_dto(
    actor: &AuthUser,
    other: &ticket::Model,
    relation: TicketRelation,
    created_at: DateTime<Utc>,
) -> TicketLinkDto {
    let visible = access::can_see(actor, other);
    TicketLinkDto {
        ticket: TicketRefDto {
            id: other.id,
            number: other.number,
        },
        relation,
        subject: visible.then(|| other.subject.clone()),
        status: visible.then(|| other.status.into()),
        created_at,
    }
}

fn relation_of(row: &ticket_link::Model) -> TicketRelation {
    row.relation.parse().unwrap_or(TicketRelation::Related)
}

/// The links of a ticket the caller may see, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &AuthUser,
    ticket_id: Uuid,
) -> Result<Vec<TicketLinkDto>, ApiError> {
    access::visible_ticket(db, actor, ticket_id, false).await?;
    let rows = TicketLink::find()
        .filter(ticket_link::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_link::Column::CreatedAt)
        .order_by_asc(ticket_link::Column::OtherId)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let others: std::collections::HashMap<Uuid, ticket::Model> = Ticket::find()
        .filter(ticket::Column::Id.is_in(rows.iter().map(|r| r.other_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|r| {
            others
                .get(&r.other_id)
                .map(|other| link_dto(actor, other, relation_of(r), r.created_at))
        })
        .collect())
}

/// Links the ticket to the one the request names (both must be visible to the caller).
pub async fn create(
    db: &DatabaseConnection,
    actor: &AuthUser,
    ticket_id: Uuid,
    req: CreateLinkRequest,
) -> Result<TicketLinkDto, ApiError> {
    let txn = begin_write(db).await?;
    let t = access::visible_ticket(&txn, actor, ticket_id, true).await?;
    let other = merge::find_target(&txn, actor, req.target()).await?;
    if other.id == t.id {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "target_id",
            "a ticket cannot be linked to itself",
        ));
    }
    if let Some(existing) = TicketLink::find_by_id((t.id, other.id)).one(&txn).await? {
        return Err(ApiError::Detailed {
            code: ErrorCode::AlreadyLinked,
            message: format!(
                "#{} and #{} are linked already ({}); remove the link to change it",
                t.number, other.number, existing.relation
            ),
            details: serde_json::json!({ "relation": existing.relation }),
        });
    }
    let count = TicketLink::find()
        .filter(ticket_link::Column::TicketId.is_in([t.id, other.id]))
        .all(&txn)
        .await?;
    if [t.id, other.id]
        .iter()
        .any(|id| count.iter().filter(|r| r.ticket_id == *id).count() >= MAX_LINKS)
    {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            format!("a ticket has at most {MAX_LINKS} links"),
        ));
    }
    let now = Utc::now();
    let relation = req.relation;
    for (from, to, rel) in [(&t, &other, relation), (&other, &t, relation.inverse())] {
        ticket_link::ActiveModel {
            ticket_id: Set(from.id),
            other_id: Set(to.id),
            relation: Set(rel.as_str().to_owned()),
            created_by: Set(Some(actor.id)),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        tickets::record(
            &txn,
            from.id,
            Some(actor.id),
            "link",
            None,
            Some(format!("{} #{}", rel.as_str(), to.number)),
            now,
        )
        .await?;
    }
    // An event reaches several viewers at once, so it names the other ticket by number and
    // relation only; `GET /api/tickets/{id}/links` adds subject and status for those who may
    // see it.
    let event_link = |other: &ticket::Model, rel: TicketRelation| TicketLinkDto {
        ticket: TicketRefDto {
            id: other.id,
            number: other.number,
        },
        relation: rel,
        subject: None,
        status: None,
        created_at: now,
    };
    events::emit_many(
        &txn,
        vec![
            (
                Event::TicketLinked {
                    ticket_id: t.id,
                    link: Box::new(event_link(&other, relation)),
                },
                staff_rooms(&t),
                true,
            ),
            (
                Event::TicketLinked {
                    ticket_id: other.id,
                    link: Box::new(event_link(&t, relation.inverse())),
                },
                staff_rooms(&other),
                true,
            ),
        ],
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(link_dto(actor, &other, relation, now))
}

/// Removes the link between the ticket and `other_id` (both directions).
pub async fn remove(
    db: &DatabaseConnection,
    actor: &AuthUser,
    ticket_id: Uuid,
    other_id: Uuid,
) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    let t = access::visible_ticket(&txn, actor, ticket_id, true).await?;
    if other_id == ticket_id {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "other",
            "a ticket is never linked to itself",
        ));
    }
    let Some(row) = TicketLink::find_by_id((t.id, other_id)).one(&txn).await? else {
        return Err(ApiError::NotFound("link"));
    };
    let Some(other) = Ticket::find_by_id(other_id).one(&txn).await? else {
        return Err(ApiError::NotFound("link"));
    };
    let relation = relation_of(&row);
    TicketLink::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(ticket_link::Column::TicketId.eq(t.id))
                        .add(ticket_link::Column::OtherId.eq(other.id)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(ticket_link::Column::TicketId.eq(other.id))
                        .add(ticket_link::Column::OtherId.eq(t.id)),
                ),
        )
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for (from, to, rel) in [(&t, &other, relation), (&other, &t, relation.inverse())] {
        tickets::record(
            &txn,
            from.id,
            Some(actor.id),
            "link",
            Some(format!("{} #{}", rel.as_str(), to.number)),
            None,
            now,
        )
        .await?;
    }
    let reference = |x: &ticket::Model| TicketRefDto {
        id: x.id,
        number: x.number,
    };
    events::emit_many(
        &txn,
        vec![
            (
                Event::TicketUnlinked {
                    ticket_id: t.id,
                    other: reference(&other),
                },
                staff_rooms(&t),
                true,
            ),
            (
                Event::TicketUnlinked {
                    ticket_id: other.id,
                    other: reference(&t),
                },
                staff_rooms(&other),
                true,
            ),
        ],
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
