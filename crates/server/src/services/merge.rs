//! Merging a duplicate ticket (the source) into another (the target).
//!
//! The source's messages move into the target's conversation, each marked with the ticket it
//! came from (`ticket_merged_messages`); its description becomes a message of its customer's,
//! dated when the source was opened; its attachments move with their messages, so whoever may
//! see a message of the target may download its files. The source is closed (it leaves the
//! queue, its SLA clock stops, its agent's capacity is freed) and points at the target
//! (`ticket_merges`). A merged ticket cannot be merged again or reopened; a reply to it lands
//! in the target for anyone who may see the target.
//!
//! Visibility follows the target: its customer sees the public messages that came over,
//! never the internal notes. Tickets of two different customers are merged only by an admin
//! who confirms it (`confirm_cross_customer`), since the target's customer then reads what
//! the other customer wrote.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use shared::{
    ErrorCode, Role, TicketStatus,
    links::{MergeRequest, MergeResultDto, TicketRefDto, TicketTarget},
    ws::Event,
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{
        Attachment, Ticket, TicketMerge, TicketMergedMessage, TicketMessage, attachment, ticket,
        ticket_merge, ticket_message,
    },
    error::ApiError,
    services::{access, assignment, begin_write, events, tickets},
};

/// The ticket a request names by id or by number, if the caller may see it (404 otherwise).
/// Exactly one of the two must be given (422 `validation_failed` on `target_id`).
pub async fn find_target<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    target: TicketTarget,
) -> Result<ticket::Model, ApiError> {
    let found = match (target.target_id, target.target_number) {
        (Some(id), None) => Ticket::find_by_id(id).one(db).await?,
        (None, Some(number)) => {
            Ticket::find()
                .filter(ticket::Column::Number.eq(number))
                .one(db)
                .await?
        }
        _ => {
            return Err(ApiError::field(
                ErrorCode::ValidationFailed,
                "target_id",
                "name the other ticket by `target_id` or by `target_number` (one of them)",
            ));
        }
    };
    match found {
        Some(t) if access::can_see(actor, &t) => Ok(t),
        _ => Err(ApiError::NotFound("ticket")),
    }
}

fn reference(t: &ticket::Model) -> TicketRefDto {
    TicketRefDto {
        id: t.id,
        number: t.number,
    }
}

/// The 409 `ticket_merged` for a ticket merged into `target`.
fn merged_error(message: String, target: TicketRefDto) -> ApiError {
    ApiError::Detailed {
        code: ErrorCode::TicketMerged,
        message,
        details: serde_json::json!({ "merged_into": target }),
    }
}

/// Where `source_id` was merged into, if it was.
pub async fn merged_into<C: ConnectionTrait>(
    db: &C,
    source_id: Uuid,
) -> Result<Option<ticket::Model>, ApiError> {
    let Some(row) = TicketMerge::find_by_id(source_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Ticket::find_by_id(row.target_id).one(db).await?)
}

/// Refuses (409 `ticket_merged`) a status change of a merged ticket: it stays closed.
pub async fn refuse_if_merged<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
) -> Result<(), ApiError> {
    if t.status != ticket::Status::Closed {
        return Ok(());
    }
    match merged_into(db, t.id).await? {
        Some(target) => Err(merged_error(
            format!(
                "ticket #{} was merged into #{}; continue there",
                t.number, target.number
            ),
            reference(&target),
        )),
        None => Ok(()),
    }
}

/// The ticket a reply to `t` goes to: `t` itself, or, when `t` was merged, its target
/// (locked) if the caller may see it; otherwise 409 `ticket_merged`.
pub async fn reply_target<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    t: ticket::Model,
) -> Result<ticket::Model, ApiError> {
    if t.status != ticket::Status::Closed {
        return Ok(t);
    }
    let Some(target) = merged_into(db, t.id).await? else {
        return Ok(t);
    };
    if access::can_see(actor, &target) {
        return access::visible_ticket(db, actor, target.id, true).await;
    }
    Err(merged_error(
        format!(
            "ticket #{} was merged into another ticket; open a new ticket",
            t.number
        ),
        reference(&target),
    ))
}

/// `POST /api/tickets/{id}/merge`: merges `source_id` into the ticket the request names.
pub async fn merge(
    db: &DatabaseConnection,
    actor: &AuthUser,
    source_id: Uuid,
    req: MergeRequest,
) -> Result<MergeResultDto, ApiError> {
    let txn = begin_write(db).await?;
    // Both rows locked, in id order so two merges of the same pair cannot deadlock.
    let target_id = find_target(&txn, actor, req.target()).await?.id;
    if target_id == source_id {
        // Only after checking the source exists and may be seen.
        access::visible_ticket(&txn, actor, source_id, false).await?;
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "target_id",
            "a ticket cannot be merged into itself",
        ));
    }
    let (first, second) = if source_id < target_id {
        (source_id, target_id)
    } else {
        (target_id, source_id)
    };
    let a = access::visible_ticket(&txn, actor, first, true).await?;
    let b = access::visible_ticket(&txn, actor, second, true).await?;
    let (mut source, mut target) = if a.id == source_id { (a, b) } else { (b, a) };

    if let Some(into) = merged_into(&txn, source.id).await? {
        return Err(merged_error(
            format!(
                "ticket #{} was merged into #{} already",
                source.number, into.number
            ),
            reference(&into),
        ));
    }
    if let Some(into) = merged_into(&txn, target.id).await? {
        return Err(merged_error(
            format!(
                "ticket #{} was merged into #{}; merge into that one",
                target.number, into.number
            ),
            reference(&into),
        ));
    }
    if target.status == ticket::Status::Closed {
        return Err(ApiError::Conflict(
            ErrorCode::TicketClosed,
            format!(
                "ticket #{} is closed; merge into an open ticket",
                target.number
            ),
        ));
    }
    let cross_customer = source.customer_id != target.customer_id;
    if cross_customer {
        let message = if actor.role != Role::Admin {
            "the tickets belong to different customers; only an admin can merge them"
        } else if !req.confirm_cross_customer {
            "the tickets belong to different customers: the target's customer would read the \
             other's public messages; send `confirm_cross_customer: true` to merge anyway"
        } else {
            ""
        };
        if !message.is_empty() {
            return Err(ApiError::Detailed {
                code: ErrorCode::CrossCustomerMerge,
                message: message.to_owned(),
                details: serde_json::json!({
                    "source_customer_id": source.customer_id,
                    "target_customer_id": target.customer_id,
                    "admin_may_confirm": true,
                }),
            });
        }
    }

    let now = Utc::now();
    // The source's description opens its part of the conversation, as its customer wrote it.
    let opening = ticket_message::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(target.id),
        author_id: Set(source.customer_id),
        body: Set(format!("{}\n\n{}", source.subject, source.description)),
        internal: Set(false),
        created_at: Set(source.created_at),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;

    // Mark what comes over; messages that came into the source by an earlier merge keep
    // the ticket they first came from.
    let moving: Vec<Uuid> = TicketMessage::find()
        .select_only()
        .column(ticket_message::Column::Id)
        .filter(ticket_message::Column::TicketId.eq(source.id))
        .into_tuple()
        .all(&txn)
        .await?;
    let already: HashSet<Uuid> = if moving.is_empty() {
        HashSet::new()
    } else {
        TicketMergedMessage::find()
            .select_only()
            .column(ticket_merge::message::Column::MessageId)
            .filter(ticket_merge::message::Column::MessageId.is_in(moving.iter().copied()))
            .into_tuple::<Uuid>()
            .all(&txn)
            .await?
            .into_iter()
            .collect()
    };
    let marks: Vec<ticket_merge::message::ActiveModel> = moving
        .iter()
        .copied()
        .filter(|id| !already.contains(id))
        .chain([opening.id])
        .map(|message_id| ticket_merge::message::ActiveModel {
            message_id: Set(message_id),
            source_id: Set(source.id),
        })
        .collect();
    for chunk in marks.chunks(500) {
        TicketMergedMessage::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    TicketMessage::update_many()
        .col_expr(ticket_message::Column::TicketId, Expr::value(target.id))
        .filter(ticket_message::Column::TicketId.eq(source.id))
        .exec(&txn)
        .await?;
    // Files of the ticket itself belong to its description, now a message.
    Attachment::update_many()
        .col_expr(attachment::Column::MessageId, Expr::value(opening.id))
        .filter(attachment::Column::TicketId.eq(source.id))
        .filter(attachment::Column::MessageId.is_null())
        .exec(&txn)
        .await?;
    let moved_attachments = Attachment::update_many()
        .col_expr(attachment::Column::TicketId, Expr::value(target.id))
        .filter(attachment::Column::TicketId.eq(source.id))
        .exec(&txn)
        .await?
        .rows_affected;
    // Tickets merged into the source earlier now point at the target: one hop, always.
    TicketMerge::update_many()
        .col_expr(ticket_merge::Column::TargetId, Expr::value(target.id))
        .filter(ticket_merge::Column::TargetId.eq(source.id))
        .exec(&txn)
        .await?;
    ticket_merge::ActiveModel {
        source_id: Set(source.id),
        target_id: Set(target.id),
        merged_by: Set(Some(actor.id)),
        cross_customer: Set(cross_customer),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;

    // The source leaves the queue and its agent's load; its clock stops.
    let was_queued = source.status == ticket::Status::New;
    let from: TicketStatus = source.status.into();
    if source.status != ticket::Status::Closed {
        tickets::set_status(&mut source, TicketStatus::Closed, now);
        tickets::refresh_clock(&mut source);
        tickets::record(
            &txn,
            source.id,
            Some(actor.id),
            "status",
            Some(from.to_string()),
            Some(TicketStatus::Closed.to_string()),
            now,
        )
        .await?;
    }
    source.updated_at = now;
    let source = tickets::save(&txn, source).await?;
    target.updated_at = now;
    let target = tickets::save(&txn, target).await?;
    tickets::record(
        &txn,
        source.id,
        Some(actor.id),
        "merged_into",
        None,
        Some(format!("#{}", target.number)),
        now,
    )
    .await?;
    tickets::record(
        &txn,
        target.id,
        Some(actor.id),
        "merged_from",
        None,
        Some(format!("#{}", source.number)),
        now,
    )
    .await?;

    let mut dtos = tickets::to_dtos(&txn, false, vec![source.clone(), target.clone()]).await?;
    let target_dto = dtos.pop();
    let source_dto = dtos.pop();
    let mut rooms = events::ticket_rooms(&source);
    rooms.extend(events::ticket_rooms(&target));
    let mut out = vec![(
        Event::TicketMerged {
            source: reference(&source),
            target: reference(&target),
        },
        rooms,
        false,
    )];
    for (dto, t) in [(source_dto, &source), (target_dto, &target)] {
        if let Some(dto) = dto {
            out.push((
                Event::TicketUpdated {
                    ticket: Box::new(dto),
                },
                events::ticket_rooms(t),
                false,
            ));
        }
    }
    if was_queued {
        out.push(assignment::queue_updated(
            assignment::queue_length(&txn).await?,
        ));
    }
    events::emit_many(&txn, out, now).await?;
    txn.commit().await?;

    Ok(MergeResultDto {
        source: reference(&source),
        target: reference(&target),
        moved_messages: u64::try_from(moving.len()).unwrap_or(0) + 1,
        moved_attachments,
        cross_customer,
    })
}

/// For each of `ids` that was merged: the ticket it was merged into.
pub async fn targets_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, TicketRefDto>, ApiError> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = TicketMerge::find()
        .filter(ticket_merge::Column::SourceId.is_in(ids))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let numbers = numbers(db, rows.iter().map(|r| r.target_id)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            numbers.get(&r.target_id).map(|&number| {
                (
                    r.source_id,
                    TicketRefDto {
                        id: r.target_id,
                        number,
                    },
                )
            })
        })
        .collect())
}

/// For each of `message_ids` that came over by a merge: the ticket it came from.
pub async fn origins_of<C: ConnectionTrait>(
    db: &C,
    message_ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, TicketRefDto>, ApiError> {
    let ids: Vec<Uuid> = message_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = TicketMergedMessage::find()
        .filter(ticket_merge::message::Column::MessageId.is_in(ids))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let numbers = numbers(db, rows.iter().map(|r| r.source_id)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            numbers.get(&r.source_id).map(|&number| {
                (
                    r.message_id,
                    TicketRefDto {
                        id: r.source_id,
                        number,
                    },
                )
            })
        })
        .collect())
}

/// Ticket numbers by id.
async fn numbers<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, i64>, ApiError> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    Ok(Ticket::find()
        .select_only()
        .column(ticket::Column::Id)
        .column(ticket::Column::Number)
        .filter(ticket::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
