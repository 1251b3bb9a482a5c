//! Which ticket a received mail belongs to. First match wins:
//! 1. our signed reply address (`MAIL_REPLY_ADDRESS`) among the recipients, HMAC checked;
//! 2. In-Reply-To, then References right to left: our own Message-IDs (the ticket's root id
//!    names the ticket; every other id we sent or received is in `mail_message_ids`). A match
//!    through a mail we *received* counts only when the sender takes part in that ticket, so
//!    a stranger replying to someone else's thread cannot join it;
//! 3. the `[#1042]` subject tag, only when the sender takes part in that ticket (it is easy
//!    to guess);
//! 4. otherwise: no thread, which makes a new ticket.
//!
//! A thread that leads to a merged ticket continues in the ticket it was merged into, when
//! the sender takes part there.
//!
//! [`candidates`] is pure (unit-tested over the fixtures); [`decide`] looks them up.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::parse::Parsed;
use crate::{
    entity::{MailMessageId, Ticket, ticket, user},
    error::ApiError,
    services::{mail::Signer, merge},
};

/// A hint in the mail at the ticket it belongs to, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// A recipient is our reply address for this ticket number (signature checked).
    ReplyAddress(i64),
    /// A referenced id is our root Message-ID of this ticket.
    RootId(Uuid),
    /// A referenced id, to look up in `mail_message_ids`.
    Reference(String),
    /// `[#N]` in the subject.
    SubjectTag(i64),
}

/// Who received the mail a reply refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Customer,
    Staff,
}

/// How a mail was threaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub ticket: ticket::Model,
    pub via: &'static str,
    /// Known when the mail answers a specific mail of ours (or one we received).
    pub audience: Option<Audience>,
}

/// What threading needs to know about us.
pub struct Keys<'a> {
    pub signer: &'a Signer,
    pub reply_pattern: Option<&'a str>,
    pub message_id_domain: &'a str,
}

/// The ticket number in the first `[#N]` of `subject`.
pub fn subject_tag(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(i) = rest.find("[#") {
        let after = &rest[i + 2..];
        if let Some(end) = after.find(']') {
            let digits = &after[..end];
            if !digits.is_empty()
                && digits.len() <= 12
                && digits.chars().all(|c| c.is_ascii_digit())
                && let Ok(n) = digits.parse::<i64>()
            {
                return Some(n);
            }
        }
        rest = after;
    }
    None
}

/// `<ticket.{uuid}@{domain}>` → the ticket id.
fn root_ticket(id: &str, domain: &str) -> Option<Uuid> {
    let inner = id.strip_prefix('<')?.strip_suffix('>')?;
    let (local, host) = inner.rsplit_once('@')?;
    if !host.eq_ignore_ascii_case(domain) {
        return None;
    }
    Uuid::try_parse(local.strip_prefix("ticket.")?).ok()
}

/// The hints in `mail`, most specific first.
pub fn candidates(mail: &Parsed, keys: &Keys<'_>) -> Vec<Candidate> {
    let mut out = Vec::new();
    if let Some(pattern) = keys.reply_pattern {
        for address in &mail.recipients {
            if let Some(n) = keys.signer.verify_reply_address(pattern, address) {
                out.push(Candidate::ReplyAddress(n));
            }
        }
    }
    for id in &mail.references {
        match root_ticket(id, keys.message_id_domain) {
            Some(t) => out.push(Candidate::RootId(t)),
            None => out.push(Candidate::Reference(id.clone())),
        }
    }
    if let Some(n) = subject_tag(&mail.subject) {
        out.push(Candidate::SubjectTag(n));
    }
    out
}

/// Whether `sender` takes part in `t`: its customer, or staff.
pub fn participant(t: &ticket::Model, sender: Option<&user::Model>) -> bool {
    sender
        .is_some_and(|u| u.active && (u.id == t.customer_id || u.role != user::UserRole::Customer))
}

/// The first candidate that names a ticket this sender may thread into.
pub async fn decide<C: ConnectionTrait>(
    db: &C,
    candidates: &[Candidate],
    sender: Option<&user::Model>,
) -> Result<Option<Thread>, ApiError> {
    for candidate in candidates {
        let found = match candidate {
            Candidate::ReplyAddress(n) => {
                by_number(db, *n).await?.map(|t| (t, "reply address", None))
            }
            Candidate::RootId(id) => Ticket::find_by_id(*id)
                .one(db)
                .await?
                .map(|t| (t, "our Message-ID", None)),
            Candidate::Reference(id) => {
                let Some(row) = MailMessageId::find_by_id(id.clone()).one(db).await? else {
                    continue;
                };
                let audience = match row.audience.as_str() {
                    "customer" => Audience::Customer,
                    _ => Audience::Staff,
                };
                match Ticket::find_by_id(row.ticket_id).one(db).await? {
                    Some(t) if row.direction == "out" => {
                        Some((t, "our Message-ID", Some(audience)))
                    }
                    Some(t) if participant(&t, sender) => {
                        Some((t, "a Message-ID we received", Some(audience)))
                    }
                    _ => None,
                }
            }
            Candidate::SubjectTag(n) => match by_number(db, *n).await? {
                Some(t) if participant(&t, sender) => Some((t, "subject tag", None)),
                _ => None,
            },
        };
        if let Some((ticket, via, audience)) = found {
            // A merged ticket's thread continues in the ticket it was merged into, for those
            // who take part there; anyone else meets a closed ticket (and gets a new one).
            let ticket = if ticket.status == ticket::Status::Closed {
                match merge::merged_into(db, ticket.id).await? {
                    Some(target) if participant(&target, sender) => target,
                    _ => ticket,
                }
            } else {
                ticket
            };
            return Ok(Some(Thread {
                ticket,
                via,
                audience,
            }));
        }
    }
    Ok(None)
}

async fn by_number<C: ConnectionTrait>(db: &C, n: i64) -> Result<Option<ticket::Model>, ApiError> {
    Ok(Ticket::find()
        .filter(ticket::Column::Number.eq(n))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tags_are_found_and_junk_ignored() {
        assert_eq!(subject_tag("Re: [#1042] Printer"), Some(1042));
        assert_eq!(subject_tag("[#] [#x1] [#77]"), Some(77));
        assert_eq!(subject_tag("#1042"), None);
        assert_eq!(subject_tag("[#99999999999999999999]"), None);
    }

    #[test]
    fn root_ids_name_a_ticket_only_on_our_domain() {
        let id = Uuid::new_v4();
        let ours = format!("<ticket.{}@help.test>", id.simple());
        assert_eq!(root_ticket(&ours, "help.test"), Some(id));
        assert_eq!(root_ticket(&ours, "other.test"), None);
        assert_eq!(root_ticket("<ticket.nope@help.test>", "help.test"), None);
    }
}
