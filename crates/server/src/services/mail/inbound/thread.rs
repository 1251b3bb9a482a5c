//! Which ticket a received mail belongs to. First match wins:
//! 1. our signed reply address (`MAIL_REPLY_ADDRESS`) among the recipients, HMAC checked;
//! 2. In-Reply-To, then References right to left: our own Message-IDs carry an HMAC naming
//!    their ticket and audience ([`Signer::message_id`]) and thread with no stored row; an id
//!    in our domain whose signature does not verify is forged and ignored. Every other id is
//!    looked up in `mail_message_ids` (the ids we received, and the ids we sent, in case a
//!    relay rewrote one). A match through a mail we *received* counts only when the sender
//!    takes part in that ticket, so a stranger replying to someone else's thread cannot join
//!    it;
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
    services::{
        mail::{Signer, sign},
        merge,
    },
};

pub use sign::Audience;

/// A hint in the mail at the ticket it belongs to, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// A recipient is our reply address for this ticket number (signature checked).
    ReplyAddress(i64),
    /// A referenced id is one of our signed Message-IDs (signature checked).
    Own {
        ticket_id: Uuid,
        audience: Option<Audience>,
    },
    /// A referenced id, to look up in `mail_message_ids`.
    Reference(String),
    /// `[#N]` in the subject.
    SubjectTag(i64),
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
        if let Some(own) = keys.signer.verify_message_id(keys.message_id_domain, id) {
            out.push(Candidate::Own {
                ticket_id: own.ticket_id,
                audience: own.audience,
            });
        } else if !sign::in_domain(id, keys.message_id_domain) {
            out.push(Candidate::Reference(id.clone()));
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
            Candidate::Own {
                ticket_id,
                audience,
            } => Ticket::find_by_id(*ticket_id)
                .one(db)
                .await?
                .map(|t| (t, "our signed Message-ID", *audience)),
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
    #[allow(clippy::unwrap_used)]
    fn signed_ids_are_candidates_and_forged_ones_in_our_domain_are_dropped() {
        let signer = Signer::new("secret").unwrap();
        let keys = Keys {
            signer: &signer,
            reply_pattern: None,
            message_id_domain: "help.test",
        };
        let ticket = Uuid::new_v4();
        let signed = signer.message_id(
            "help.test",
            "agent-reply",
            ticket,
            Some(Audience::Customer),
            "u1",
        );
        let forged = format!("<ticket.{}@help.test>", ticket.simple());
        let foreign = "<abc@client.example>".to_owned();
        let mail = Parsed {
            references: vec![forged, signed, foreign.clone()],
            ..Parsed::default()
        };
        assert_eq!(
            candidates(&mail, &keys),
            vec![
                Candidate::Own {
                    ticket_id: ticket,
                    audience: Some(Audience::Customer)
                },
                Candidate::Reference(foreign),
            ]
        );
    }
}
