//! `mail_mailboxes`: per IMAP mailbox, the poller's position (`uidvalidity`, `last_uid`) and
//! its lease, so one instance polls a mailbox at a time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_mailboxes")]
pub struct Model {
    /// `host:port/folder` with the user, never the password.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub uidvalidity: i64,
    /// The highest UID imported (or quarantined) so far.
    pub last_uid: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
