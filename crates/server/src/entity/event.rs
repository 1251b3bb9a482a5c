//! `events` and `event_rooms`: the durable log behind realtime delivery and resume.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// The log row's key, from the table's sequence when the event is written (no lock; gaps
    /// where a write rolled back). Internal: clients never see it.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event's place in the stream, gap-free and final once set: given after commit by
    /// [`crate::services::events::place`] on PostgreSQL, inside the writing transaction on
    /// SQLite. `None` until then; readers only ever see placed events.
    pub seq: Option<i64>,
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

impl Model {
    /// The place in the stream (0 for an event not placed yet, which no reader selects).
    pub fn position(&self) -> i64 {
        self.seq.unwrap_or(0)
    }
}

pub mod room {
    //! `event_rooms`: one row per (room, event) for indexed replay.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "event_rooms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub room: String,
        /// `events.id`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
