//! `mail_inbound`: every mail received (IMAP, the ingest endpoint, the `mail-ingest` command),
//! with its raw copy and what became of it. The unique dedupe key makes import exactly-once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_inbound")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `mid:{sha256(Message-ID)}`, or `raw:{sha256(raw)}` for a mail without one.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub message_id: Option<String>,
    /// `imap`, `http` or `cli`.
    pub source: String,
    /// The From address, lower-cased.
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// The mail exactly as received.
    pub raw: Vec<u8>,
    pub raw_size: i64,
    /// An [`shared::mail::InboundStatus`] name.
    pub status: String,
    /// `new_ticket`, `reply` or `note` for processed mail.
    pub action: Option<String>,
    /// Why it was not processed (or how it was threaded).
    pub reason: Option<String>,
    pub ticket_id: Option<Uuid>,
    /// The ticket message it became.
    pub message_row_id: Option<Uuid>,
    /// The whole text body as received, quotes included.
    pub full_text: Option<String>,
    /// The HTML body after sanitising, quotes included.
    pub safe_html: Option<String>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
