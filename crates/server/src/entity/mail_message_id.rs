//! `mail_message_ids`: Message-IDs of mail we sent and received, each with its ticket, so a
//! reply's In-Reply-To/References finds its thread.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_message_ids")]
pub struct Model {
    /// `<…@…>` as it appears in the header.
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_id: String,
    pub ticket_id: Uuid,
    /// `customer` or `staff`: who received (or wrote) the mail with this id.
    pub audience: String,
    /// `out` (we sent it) or `in` (we received it).
    pub direction: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
