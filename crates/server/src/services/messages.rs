//! The conversation of a ticket: public replies and internal notes.
//!
//! The first public reply by staff fulfils the response SLA; a customer's reply brings a
//! `pending` or `resolved` ticket back to `open`. Internal notes never reach customers, not even
//! as a count.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use shared::{
    ErrorCode, Paging, TicketStatus,
    mail::EmailOriginDto,
    tickets::{CreateMessageRequest, MessageDto, PersonDto},
    ws::Event,
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Attachment, TicketMessage, attachment, ticket, ticket_message},
    error::ApiError,
    services::{
        access, cursor, events,
        mail::{self, Mailer, Notice},
        merge, settings, tickets,
    },
};

pub const BODY_MAX_CHARS: usize = 10_000;

/// Adds a message to a ticket the caller may see.
pub async fn create(
    db: &DatabaseConnection,
    mailer: &Mailer,
    actor: &AuthUser,
    ticket_id: Uuid,
    req: CreateMessageRequest,
) -> Result<MessageDto, ApiError> {
    if req.internal && !actor.role.is_staff() {
        return Err(ApiError::Forbidden(
            "only agents and admins write internal notes".to_owned(),
        ));
    }
    let body = req.body.trim();
    if body.is_empty() || body.chars().count() > BODY_MAX_CHARS {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "body",
            format!("a message needs 1 to {BODY_MAX_CHARS} characters"),
        ));
    }

    let txn = crate::services::begin_write(db).await?;
    let t = access::visible_ticket(&txn, actor, ticket_id, true).await?;
    // A reply to a merged ticket goes to the ticket it was merged into.
    let t = merge::reply_target(&txn, actor, t).await?;
    let added = add(
        &txn,
        mailer,
        actor,
        t,
        NewMessage {
            body,
            internal: req.internal,
            attachment_ids: &req.attachment_ids,
            email: None,
        },
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(added.dto)
}

/// A message to add: its text, whether it is an internal note, uploads to attach, and (for a
/// message that came by email) the original as received.
pub struct NewMessage<'a> {
    pub body: &'a str,
    pub internal: bool,
    pub attachment_ids: &'a [Uuid],
    pub email: Option<EmailOriginDto>,
}

/// A message that was added, with the ticket as it is now.
pub struct Added {
    pub dto: MessageDto,
    pub message: ticket_message::Model,
    pub ticket: ticket::Model,
}

/// Adds a message to `t` in the caller's transaction: history, SLA, reopening, events and
/// mail, the same for the web app, the API and mail received. The caller has checked that
/// `actor` may see `t` and that the body is valid.
pub async fn add<C: ConnectionTrait>(
    txn: &C,
    mailer: &Mailer,
    actor: &AuthUser,
    mut t: ticket::Model,
    new: NewMessage<'_>,
    now: DateTime<Utc>,
) -> Result<Added, ApiError> {
    if t.status == ticket::Status::Closed {
        return Err(ApiError::Conflict(
            ErrorCode::TicketClosed,
            "this ticket is closed; open a new one".to_owned(),
        ));
    }
    let internal = new.internal;
    let message = ticket_message::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(t.id),
        author_id: Set(actor.id),
        body: Set(new.body.to_owned()),
        internal: Set(internal),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    let message_row = message.clone();
    tickets::link_attachments(txn, actor.id, new.attachment_ids, t.id, Some(message.id)).await?;

    let mut changes = Vec::new();
    if actor.role.is_staff() && !internal && tickets::mark_first_response(&mut t, now) {
        changes.push(("first_response", None, Some(now.to_rfc3339())));
        tickets::credit_first_response(txn, &t, actor.id, now).await?;
    }
    if !actor.role.is_staff()
        && matches!(t.status, ticket::Status::Pending | ticket::Status::Resolved)
    {
        // The customer answered: the ball is back with the agent. As a staff transition,
        // since the customer's own workflow only allows closing.
        let from: TicketStatus = t.status.into();
        tickets::set_status(&mut t, TicketStatus::Open, now);
        let policies = settings::sla_policies(txn).await?;
        tickets::set_deadlines(&mut t, &policies);
        changes.push(("status", Some(from.to_string()), Some("open".to_owned())));
    }
    t.updated_at = now;
    let t = tickets::save(txn, t).await?;
    for (field, from, to) in changes {
        tickets::record(txn, t.id, Some(actor.id), field, from, to, now).await?;
    }
    let attachments = if new.attachment_ids.is_empty() {
        Vec::new()
    } else {
        Attachment::find()
            .filter(attachment::Column::MessageId.eq(message.id))
            .order_by_asc(attachment::Column::CreatedAt)
            .all(txn)
            .await?
    };
    let dto = MessageDto {
        id: message.id,
        ticket_id: message.ticket_id,
        author: PersonDto {
            id: actor.id,
            name: actor.user.name.clone(),
            role: actor.role,
        },
        body: message.body,
        internal: message.internal,
        attachments: attachments.into_iter().map(Into::into).collect(),
        created_at: message.created_at,
        email: new.email,
        merged_from: None,
    };
    // Internal notes only reach staff: their rooms exclude the customer's, and the
    // `staff_only` flag keeps them from customers who joined the ticket room.
    let rooms = if internal {
        events::staff_rooms(&t, None)
    } else {
        events::ticket_rooms(&t)
    };
    let ticket_dto = tickets::to_dto(txn, false, t.clone()).await?;
    events::emit_many(
        txn,
        vec![
            (
                Event::NewMessage {
                    message: Box::new(dto.clone()),
                },
                rooms,
                internal,
            ),
            (
                Event::TicketUpdated {
                    ticket: Box::new(ticket_dto),
                },
                events::ticket_rooms(&t),
                false,
            ),
        ],
        now,
    )
    .await?;
    let notice = Notice::Message {
        ticket: &t,
        message: &message_row,
        author: &actor.user,
    };
    mail::notify(txn, mailer, notice, Some(actor.id), now).await?;
    Ok(Added {
        dto,
        message: message_row,
        ticket: t,
    })
}

/// One page of a ticket's conversation in order; customers never see internal notes.
pub async fn list(
    db: &DatabaseConnection,
    actor: &AuthUser,
    ticket_id: Uuid,
    paging: Paging,
    after: Option<&cursor::Position>,
) -> Result<MessagePage, ApiError> {
    access::visible_ticket(db, actor, ticket_id, false).await?;
    let mut select = TicketMessage::find()
        .filter(ticket_message::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_message::Column::CreatedAt)
        .order_by_asc(ticket_message::Column::Id);
    if !actor.role.is_staff() {
        select = select.filter(ticket_message::Column::Internal.eq(false));
    }
    let (rows, count, has_more) = match after {
        Some(position) => {
            let (Some(at), Some(id)) = (position.at, position.id) else {
                return Err(cursor::invalid());
            };
            // Strictly after (created_at, id) in the list's order.
            select = select.filter(
                Condition::any()
                    .add(ticket_message::Column::CreatedAt.gt(at))
                    .add(
                        Condition::all()
                            .add(ticket_message::Column::CreatedAt.eq(at))
                            .add(ticket_message::Column::Id.gt(id)),
                    ),
            );
            let mut rows = select.limit(paging.per_page + 1).all(db).await?;
            let has_more = rows.len() as u64 > paging.per_page;
            rows.truncate(usize::try_from(paging.per_page).unwrap_or(usize::MAX));
            (rows, None, has_more)
        }
        None => {
            let (rows, count) = super::fetch_page(db, select, paging).await?;
            let has_more = paging.offset() + (rows.len() as u64) < count;
            (rows, Some(count), has_more)
        }
    };
    let last = rows.last().map(|m| cursor::Position {
        list: LIST.to_owned(),
        at: Some(m.created_at),
        number: None,
        id: Some(m.id),
    });
    let people = tickets::people(db, rows.iter().map(|m| m.author_id)).await?;
    let mut attachments = if rows.is_empty() {
        HashMap::new()
    } else {
        tickets::attachments_by(
            db,
            Condition::all().add(attachment::Column::MessageId.is_in(rows.iter().map(|m| m.id))),
            |a| a.message_id,
        )
        .await?
    };
    let mut origins = if rows.is_empty() {
        HashMap::new()
    } else {
        mail::inbound::origins(db, rows.iter().map(|m| m.id)).await?
    };
    let mut merged_from = merge::origins_of(db, rows.iter().map(|m| m.id)).await?;
    let items = rows
        .into_iter()
        .map(|m| MessageDto {
            email: origins.remove(&m.id),
            merged_from: merged_from.remove(&m.id),
            author: tickets::person_or_deleted(&people, m.author_id),
            attachments: attachments.remove(&m.id).unwrap_or_default(),
            id: m.id,
            ticket_id: m.ticket_id,
            body: m.body,
            internal: m.internal,
            created_at: m.created_at,
        })
        .collect();
    Ok(MessagePage {
        items,
        count,
        has_more,
        last,
    })
}

/// The name of the message list in its cursors (one order: oldest first).
pub const LIST: &str = "messages:created_at:asc";

/// One page of a conversation.
pub struct MessagePage {
    pub items: Vec<MessageDto>,
    /// The total, for pages by number (`None` after a cursor).
    pub count: Option<u64>,
    /// Whether messages follow this page.
    pub has_more: bool,
    /// The key of the page's last message, for the `next` cursor.
    pub last: Option<cursor::Position>,
}
