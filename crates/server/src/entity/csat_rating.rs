//! `csat_ratings`: a customer's rating of one resolution of their ticket (unique per ticket
//! and `resolved_at`), with the agent and category as they were when it was given.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "csat_ratings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// The `tickets.resolved_at` of the resolution rated.
    pub resolved_at: DateTimeUtc,
    pub customer_id: Uuid,
    /// The ticket's agent when the rating was given.
    pub agent_id: Option<Uuid>,
    /// The ticket's category when the rating was given.
    pub category: Option<String>,
    /// 1 (very unhappy) … 5 (very happy).
    pub score: i16,
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    /// `portal` or `link`: where the rating was last given.
    pub via: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
