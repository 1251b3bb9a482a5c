//! The single entry point from ticket changes to mail: [`notify`] runs in the caller's
//! transaction, right where the change emits its events, and queues one outbox row per
//! recipient (see docs/email.md for who gets what).
//!
//! Rules applied here and nowhere else:
//! - the actor is never mailed about their own action (the acknowledgement of a new ticket is
//!   the one exception: it confirms to the customer what they just did);
//! - internal notes never produce mail;
//! - automated kinds respect the recipient's preferences; inactive accounts get nothing;
//! - an address lettre cannot parse, or one that bounced (`users.email_bouncing_at`), is
//!   recorded as `suppressed`, never sent;
//! - acknowledgements to one address are capped per hour (`MAIL_ACKS_PER_HOUR`), so a robot
//!   that opens tickets cannot make us mail a stranger without end;
//! - every queued mail's Message-ID is signed and names its ticket and audience
//!   ([`super::Signer::message_id`]), so a reply to it threads even without a stored row, and
//!   a reply by staff to a staff-only notification becomes an internal note. The id is also
//!   recorded in `mail_message_ids`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use shared::{
    Role,
    mail::{MailKind, OutboxStatus},
    validate::TimeZoneName,
    ws::SlaTargetKind,
};
use uuid::Uuid;

use crate::{
    entity::{
        MailMessageId, MailOutbox, User, mail_message_id, mail_outbox, ticket, ticket_message, user,
    },
    error::ApiError,
    services::mail::{
        MailContext, Mailer,
        compose::{self, Content, TicketInfo},
        outbox::{self, NewMail},
        prefs,
        sign::Audience,
    },
};

/// A change that may be worth a mail.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// A ticket was opened (journey or `POST /api/tickets`).
    TicketOpened(&'a ticket::Model),
    /// A message was added: public staff replies reach the customer, customer replies the
    /// assigned agent, internal notes nobody.
    Message {
        ticket: &'a ticket::Model,
        message: &'a ticket_message::Model,
        author: &'a user::Model,
    },
    /// The ticket became `resolved`.
    Resolved(&'a ticket::Model),
    /// The ticket was assigned to its current agent.
    Assigned(&'a ticket::Model),
    /// An SLA target of the ticket was breached (and escalated).
    SlaBreached {
        ticket: &'a ticket::Model,
        target: SlaTargetKind,
    },
    /// A running SLA clock used its warning share (once per clock).
    SlaWarning {
        ticket: &'a ticket::Model,
        target: SlaTargetKind,
        percent: u8,
    },
}

/// Queues the mail `notice` calls for; returns how many rows were queued. `actor` is the user
/// who made the change (`None` for the system: assignment loop, SLA monitor).
pub async fn notify<C: ConnectionTrait>(
    db: &C,
    mailer: &Mailer,
    notice: Notice<'_>,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let Some(ctx) = mailer.context() else {
        return Ok(0);
    };
    let mut queued = 0;
    for (recipient, content, cause) in recipients(db, ctx, notice).await? {
        if Some(recipient.id) == actor && content.kind() != MailKind::TicketOpened {
            continue;
        }
        if !recipient.active {
            continue;
        }
        let kind = content.kind();
        if kind.automated() && !prefs::enabled(db, recipient.id, kind).await? {
            continue;
        }
        if kind == MailKind::TicketOpened
            && acks_in_last_hour(db, recipient.id, now).await?
                >= u64::from(ctx.settings.inbound.acks_per_hour)
        {
            log::info!(
                "acknowledgement to user {} skipped: hourly limit",
                recipient.id
            );
            continue;
        }
        let t = notice_ticket(notice);
        let mut mail = render(ctx, t, &recipient, &content, &cause);
        if recipient.email_bouncing_at.is_some() && mail.status == OutboxStatus::Pending {
            mail.status = OutboxStatus::Suppressed;
            mail.last_error = Some("the address bounced; mail to it is stopped".to_owned());
        }
        let audience = if recipient.role == user::UserRole::Customer {
            "customer"
        } else {
            "staff"
        };
        let message_id = mail.message_id.clone();
        if outbox::enqueue(db, mail, now).await? {
            queued += 1;
            record_message_id(db, &message_id, t.id, audience, "out", now).await?;
        }
    }
    Ok(queued)
}

/// The customer's ETA for `reader` (see [`in_zone`]).
fn eta_text(t: &ticket::Model, reader: &user::Model) -> Option<String> {
    t.sla_eta_at.map(|at| in_zone(t, reader, at))
}

/// An instant as `reader` reads it: "Tue 8 Dec 10:00 (your time)" in the zone stored on their
/// account; without one, "Tue 8 Dec 10:00 (Europe/Berlin time)" in the zone of the ticket's
/// calendar, named (UTC for a policy that runs around the clock), never a bare time that
/// pretends to be theirs.
fn in_zone(t: &ticket::Model, reader: &user::Model, at: DateTime<Utc>) -> String {
    const FORMAT: &str = "%a %-d %b %H:%M";
    if let Some(tz) = reader
        .time_zone
        .as_deref()
        .and_then(|z| TimeZoneName::parse(z).ok())
    {
        return format!("{} (your time)", at.with_timezone(&tz.tz()).format(FORMAT));
    }
    let hours = crate::services::sla::hours_of(crate::services::sla::stored_terms(t).as_ref());
    let tz = hours.time_zone();
    format!(
        "{} ({} time)",
        at.with_timezone(&tz).format(FORMAT),
        tz.name()
    )
}

/// Acknowledgements queued for `user` within the hour before `now`.
async fn acks_in_last_hour<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, ApiError> {
    Ok(MailOutbox::find()
        .filter(mail_outbox::Column::UserId.eq(user))
        .filter(mail_outbox::Column::Kind.eq(MailKind::TicketOpened.as_str()))
        .filter(mail_outbox::Column::CreatedAt.gt(now - chrono::Duration::hours(1)))
        .count(db)
        .await?)
}

/// Remembers that the mail `message_id` belongs to `ticket_id` and went to (or came from)
/// `audience` (`customer` or `staff`). The first record of an id wins.
pub async fn record_message_id<C: ConnectionTrait>(
    db: &C,
    message_id: &str,
    ticket_id: Uuid,
    audience: &str,
    direction: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if message_id.len() > 255 {
        return Ok(());
    }
    let row = mail_message_id::ActiveModel {
        message_id: Set(message_id.to_owned()),
        ticket_id: Set(ticket_id),
        audience: Set(audience.to_owned()),
        direction: Set(direction.to_owned()),
        created_at: Set(now),
    };
    MailMessageId::insert(row)
        .on_conflict_do_nothing_on([mail_message_id::Column::MessageId])
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn notice_ticket<'a>(notice: Notice<'a>) -> &'a ticket::Model {
    match notice {
        Notice::TicketOpened(t) | Notice::Resolved(t) | Notice::Assigned(t) => t,
        Notice::Message { ticket, .. }
        | Notice::SlaBreached { ticket, .. }
        | Notice::SlaWarning { ticket, .. } => ticket,
    }
}

/// Who gets what: (recipient, content, cause of the mail for its dedupe key).
async fn recipients<'a, C: ConnectionTrait>(
    db: &C,
    ctx: &MailContext,
    notice: Notice<'a>,
) -> Result<Vec<(user::Model, Content<'a>, String)>, ApiError> {
    let mut out = Vec::new();
    match notice {
        Notice::TicketOpened(t) => {
            if let Some(customer) = User::find_by_id(t.customer_id).one(db).await? {
                let content = Content::Opened {
                    eta: eta_text(t, &customer),
                };
                out.push((customer, content, format!("opened:{}", t.id)));
            }
        }
        Notice::Message {
            ticket: t,
            message,
            author,
        } => {
            if message.internal {
                return Ok(out);
            }
            let cause = format!("message:{}", message.id);
            let staff = matches!(author.role, user::UserRole::Agent | user::UserRole::Admin);
            if staff {
                if let Some(customer) = User::find_by_id(t.customer_id).one(db).await? {
                    let content = Content::AgentReply {
                        author: &author.name,
                        body: &message.body,
                    };
                    out.push((customer, content, cause));
                }
            } else if let Some(agent_id) = t.assigned_agent_id
                && let Some(agent) = User::find_by_id(agent_id).one(db).await?
            {
                let content = Content::CustomerReplied {
                    author: &author.name,
                    body: &message.body,
                };
                out.push((agent, content, cause));
            }
        }
        Notice::Resolved(t) => {
            if let Some(customer) = User::find_by_id(t.customer_id).one(db).await? {
                let at = t.resolved_at.map(|d| d.timestamp_micros()).unwrap_or(0);
                // The satisfaction survey of this resolution, unless surveys are off.
                let survey = match t.resolved_at {
                    Some(resolved_at) if crate::services::settings::csat(db).await?.enabled => {
                        Some(crate::services::csat::survey_url(ctx, t.id, resolved_at))
                    }
                    _ => None,
                };
                out.push((
                    customer,
                    Content::Resolved { survey },
                    format!("resolved:{}:{at}", t.id),
                ));
            }
        }
        Notice::Assigned(t) => {
            if let Some(agent_id) = t.assigned_agent_id
                && let Some(agent) = User::find_by_id(agent_id).one(db).await?
            {
                let at = t.assigned_at.map(|d| d.timestamp_micros()).unwrap_or(0);
                let cause = format!("assigned:{}:{agent_id}:{at}", t.id);
                out.push((agent, Content::Assigned, cause));
            }
        }
        Notice::SlaBreached { ticket: t, target } => {
            let target_name = target_name(target);
            let cause = format!("sla:{}:{target_name}", t.id);
            let priority = t.priority().as_str();
            // With the digest setting, admins hear of breaches in the digest instead.
            let per_breach = crate::services::settings::mail_admin(db)
                .await?
                .sla_breach_mail
                == shared::settings::SlaBreachMail::PerBreach;
            for person in sla_people(db, t, per_breach).await? {
                let content = Content::SlaBreached {
                    target: target_name,
                    priority,
                };
                out.push((person, content, cause.clone()));
            }
        }
        Notice::SlaWarning {
            ticket: t,
            target,
            percent,
        } => {
            let target_name = target_name(target);
            let cause = format!("sla-warning:{}:{target_name}", t.id);
            for person in sla_people(db, t, true).await? {
                let due = t
                    .sla_due_at
                    .map(|due| in_zone(t, &person, due))
                    .unwrap_or_default();
                let content = Content::SlaWarning {
                    target: target_name,
                    percent,
                    due,
                };
                out.push((person, content, cause.clone()));
            }
        }
    }
    Ok(out)
}

fn target_name(target: SlaTargetKind) -> &'static str {
    match target {
        SlaTargetKind::Response => "response",
        SlaTargetKind::Resolution => "resolution",
    }
}

/// Who hears about a ticket's SLA: every active admin and the assigned agent.
async fn sla_people<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    admins: bool,
) -> Result<Vec<user::Model>, ApiError> {
    let mut people = if admins {
        User::find()
            .filter(user::Column::Role.eq(user::UserRole::Admin))
            .filter(user::Column::Active.eq(true))
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    if let Some(agent_id) = t.assigned_agent_id
        && let Some(agent) = User::find_by_id(agent_id).one(db).await?
    {
        people.push(agent);
    }
    Ok(people)
}

/// The ticket's root Message-ID, which every mail about it references.
pub fn root_message_id(ctx: &MailContext, ticket_id: Uuid) -> String {
    ctx.signer
        .root_message_id(&ctx.settings.message_id_domain, ticket_id)
}

fn ticket_link(ctx: &MailContext, role: Role, ticket_id: Uuid) -> String {
    let area = match role {
        Role::Customer => "portal",
        Role::Agent => "agent",
        Role::Admin => "admin",
    };
    format!("{}/{area}/tickets/{ticket_id}", ctx.public_url)
}

/// The one-click unsubscribe link of `kind` mail to `user`.
pub fn unsubscribe_url(ctx: &MailContext, user: Uuid, kind: MailKind) -> String {
    format!(
        "{}/api/mail/unsubscribe?token={}",
        ctx.public_url,
        ctx.signer.unsubscribe_token(user, kind)
    )
}

fn render(
    ctx: &MailContext,
    t: &ticket::Model,
    recipient: &user::Model,
    content: &Content<'_>,
    cause: &str,
) -> NewMail {
    let kind = content.kind();
    let role: Role = recipient.role.into();
    let info = TicketInfo {
        number: t.number,
        subject: &t.subject,
        link: ticket_link(ctx, role, t.id),
    };
    let unsubscribe = kind
        .automated()
        .then(|| unsubscribe_url(ctx, recipient.id, kind));
    let composed = compose::compose(&info, content, &recipient.name, unsubscribe.as_deref());

    let root = root_message_id(ctx, t.id);
    let (message_id, in_reply_to, references) = if kind == MailKind::TicketOpened {
        (root, None, None)
    } else {
        let audience = if recipient.role == user::UserRole::Customer {
            Audience::Customer
        } else {
            Audience::Staff
        };
        let id = ctx.signer.message_id(
            &ctx.settings.message_id_domain,
            &kind.as_str().replace('_', "-"),
            t.id,
            Some(audience),
            &Uuid::new_v4().simple().to_string(),
        );
        (id, Some(root.clone()), Some(root))
    };

    let mut headers = serde_json::Map::new();
    headers.insert("X-Helpdesk-Ticket".into(), t.number.to_string().into());
    // Mail that comes back with this header is ours and is dropped (loop protection).
    headers.insert(
        "X-Loop".into(),
        ctx.settings.message_id_domain.clone().into(),
    );
    if let Some(url) = &unsubscribe {
        // An acknowledgement answers the customer's own mail (RFC 3834 `auto-replied`).
        let auto = if kind == MailKind::TicketOpened {
            "auto-replied"
        } else {
            "auto-generated"
        };
        for (name, value) in [
            ("Auto-Submitted", auto.to_owned()),
            ("X-Auto-Response-Suppress", "All".to_owned()),
            ("Precedence", "bulk".to_owned()),
            ("List-Unsubscribe", format!("<{url}>")),
            (
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ),
        ] {
            headers.insert(name.into(), value.into());
        }
    }

    let address = recipient.email.trim();
    let (status, to, last_error) = match address.parse::<lettre::Address>() {
        Ok(addr) => (
            OutboxStatus::Pending,
            lettre::message::Mailbox::new(Some(recipient.name.clone()), addr).to_string(),
            None,
        ),
        Err(_) => (
            OutboxStatus::Suppressed,
            address.to_owned(),
            Some("the recipient's address is not deliverable".to_owned()),
        ),
    };
    NewMail {
        dedupe_key: format!("{cause}:{}:{}", recipient.id, kind.as_str()),
        kind,
        ticket_id: Some(t.id),
        user_id: Some(recipient.id),
        recipient: to,
        subject: composed.subject,
        body_text: composed.text,
        body_html: composed.html,
        message_id,
        in_reply_to,
        references,
        reply_to: ctx
            .settings
            .reply_address
            .as_deref()
            .map(|pattern| ctx.signer.reply_address(pattern, t.number)),
        headers,
        status,
        last_error,
    }
}
