//! Turning a queued mail (an outbox row) into a MIME message with lettre's builder:
//! multipart/alternative text + HTML, threading headers and the extra headers the row carries.

use lettre::{
    Message,
    message::{
        Mailbox, MultiPart,
        header::{HeaderName, HeaderValue},
    },
};

use crate::entity::mail_outbox;

/// Why a row cannot become a message (permanent: retrying will not help).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid recipient address `{0}`")]
    Recipient(String),
    #[error("invalid Reply-To address `{0}`")]
    ReplyTo(String),
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
}

/// The message for `row`, sent from `from`.
pub fn build(row: &mail_outbox::Model, from: &Mailbox) -> Result<Message, BuildError> {
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|_| BuildError::Recipient(row.recipient.clone()))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()));
    if let Some(reply_to) = &row.reply_to {
        let mbox: Mailbox = reply_to
            .parse()
            .map_err(|_| BuildError::ReplyTo(reply_to.clone()))?;
        builder = builder.reply_to(mbox);
    }
    if let Some(id) = &row.in_reply_to {
        builder = builder.in_reply_to(id.clone());
    }
    if let Some(refs) = &row.thread_references {
        builder = builder.references(refs.clone());
    }
    if let Some(extra) = row.headers.as_object() {
        for (name, value) in extra {
            let Some(value) = value.as_str() else {
                continue;
            };
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|_| BuildError::HeaderName(name.clone()))?;
            builder = builder.raw_header(HeaderValue::new(name, value.to_owned()));
        }
    }
    Ok(builder.multipart(MultiPart::alternative_plain_html(
        row.body_text.clone(),
        row.body_html.clone(),
    ))?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn row() -> mail_outbox::Model {
        mail_outbox::Model {
            id: Uuid::new_v4(),
            dedupe_key: "k".into(),
            kind: "ticket_resolved".into(),
            ticket_id: None,
            user_id: None,
            recipient: "Eve Example <eve@example.com>".into(),
            subject: "[#1042] Resolved: Grüße".into(),
            body_text: "plain body".into(),
            body_html: "<p>html body</p>".into(),
            message_id: "<m.1@help.test>".into(),
            in_reply_to: Some("<ticket.1@help.test>".into()),
            thread_references: Some("<ticket.1@help.test>".into()),
            reply_to: Some("support+1042-abcdefabcdef@help.test".into()),
            headers: serde_json::json!({
                "Auto-Submitted": "auto-generated",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: Utc::now(),
            locked_by: None,
            locked_until: None,
            last_error: None,
            smtp_reply: None,
            sent_at: None,
            created_at: Utc::now(),
        }
    }

    fn from() -> Mailbox {
        "Helpdesk <helpdesk@help.test>".parse().unwrap()
    }

    #[test]
    fn builds_a_threaded_multipart_message() {
        let raw = String::from_utf8(build(&row(), &from()).unwrap().formatted()).unwrap();
        for needle in [
            "Message-ID: <m.1@help.test>",
            "In-Reply-To: <ticket.1@help.test>",
            "References: <ticket.1@help.test>",
            "Reply-To: support+1042-abcdefabcdef@help.test",
            "Auto-Submitted: auto-generated",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "plain body",
            "<p>html body</p>",
        ] {
            assert!(raw.contains(needle), "{needle} missing in\n{raw}");
        }
        // The non-ASCII subject is encoded, not sent raw.
        assert!(!raw.contains("Grüße"));
    }

    #[test]
    fn bad_addresses_are_reported_not_panicked() {
        let mut r = row();
        r.recipient = "not an address".into();
        assert!(matches!(build(&r, &from()), Err(BuildError::Recipient(_))));
        let mut r = row();
        r.headers = serde_json::json!({"Bad Name": "x"});
        assert!(matches!(build(&r, &from()), Err(BuildError::HeaderName(_))));
    }
}
