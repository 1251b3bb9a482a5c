//! `ticket_merges`: a ticket merged into another (the source is closed and points at the
//! target), and `ticket_merged_messages`: the messages that came over with a merge.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_merges")]
pub struct Model {
    /// The merged (closed) ticket.
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: Uuid,
    /// Where its conversation lives now.
    pub target_id: Uuid,
    pub merged_by: Option<Uuid>,
    /// An admin merged tickets of two different customers on purpose.
    pub cross_customer: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// `ticket_merged_messages`: a message that a merge moved into another ticket, and the
/// ticket it came from.
pub mod message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ticket_merged_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: Uuid,
        pub source_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
