//! `analytics_daily` (per UTC day and agent rollups) and `analytics_changes` (the days that
//! ticket writes touched since their rollup was last computed). See `services::analytics`.

pub mod daily {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "analytics_daily")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        /// The assigned agent, or the nil UUID for unassigned tickets.
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_key: Uuid,
        pub created: i64,
        pub escalated: i64,
        pub response_met: i64,
        pub response_decided: i64,
        pub resolved: i64,
        pub resolution_met: i64,
        pub resolution_decided: i64,
        pub done: i64,
        /// JSON: counts by status, priority, category and journey of the tickets created.
        pub breakdown: String,
        /// Little-endian `u32` seconds, one per ticket.
        pub first_response_secs: Vec<u8>,
        pub resolution_secs: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod change {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "analytics_changes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub day: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
