//! `events` and `event_rooms`: the durable log behind realtime delivery and resume.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Monotonic; taken from the `event_seq` counter in the writing transaction.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub event_type: String,
    /// The rooms it was sent to (JSON array of names).
    pub rooms: Json,
    /// `shared::ws::Event` as JSON (`{"event": ..., "data": ...}`).
    pub payload: Json,
    pub created_at: DateTimeUtc,
    /// Only agents and admins may receive it (internal notes).
    pub staff_only: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod room {
    //! `event_rooms`: one row per (room, event) for indexed replay.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "event_rooms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub room: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
