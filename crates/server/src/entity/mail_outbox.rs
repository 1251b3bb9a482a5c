//! `mail_outbox`: one outgoing mail per cause, recipient and kind, queued in the transaction of
//! the change that caused it and delivered by the mail worker.

use sea_orm::entity::prelude::*;
use shared::mail::{MailKind, OutboxEntryDto, OutboxStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `{cause}:{recipient}:{kind}`, unique.
    pub dedupe_key: String,
    /// A [`MailKind`] name.
    pub kind: String,
    pub ticket_id: Option<Uuid>,
    /// The recipient's account (every mail goes to a user).
    pub user_id: Option<Uuid>,
    /// The address it goes to (as it was when queued).
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// `<…@domain>`, stable across retries and resends.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Space-separated Message-IDs for `References`.
    pub thread_references: Option<String>,
    pub reply_to: Option<String>,
    /// Further headers: a JSON object of name to value.
    pub headers: Json,
    /// An [`OutboxStatus`] name.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// The worker holding the lease while `sending`.
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub smtp_reply: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn kind(&self) -> Option<MailKind> {
        self.kind.parse().ok()
    }

    pub fn status(&self) -> Option<OutboxStatus> {
        self.status.parse().ok()
    }
}

impl From<Model> for OutboxEntryDto {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            // Only this crate writes the column; an unknown name would be a bug, shown as the
            // least alarming kind rather than failing the whole list.
            kind: m.kind().unwrap_or(MailKind::AgentReply),
            ticket_id: m.ticket_id,
            status: m.status().unwrap_or(OutboxStatus::Pending),
            recipient: m.recipient,
            subject: m.subject,
            message_id: m.message_id,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            smtp_reply: m.smtp_reply,
            sent_at: m.sent_at,
            created_at: m.created_at,
        }
    }
}
