//! The webhook tables: `webhook_endpoints` ([`endpoint`]), the delivery queue
//! `webhook_deliveries` ([`delivery`]) and the attempt log `webhook_attempts` ([`attempt`]).
//! The service that uses them is `services::webhooks`.

pub mod endpoint {
    //! `webhook_endpoints`: where an admin wants events posted, with its signing secret and
    //! its cursor into the event log.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(column_type = "Text")]
        pub url: String,
        pub description: Option<String>,
        /// The HMAC-SHA256 key of the signatures (`whsec_…`).
        pub secret: String,
        /// A JSON array of the event types wanted.
        pub events: Json,
        pub enabled: bool,
        /// The `seq` of the last log event the dispatcher considered for this endpoint.
        pub cursor_seq: i64,
        /// Since when every attempt has failed; `None` while healthy.
        pub failing_since: Option<DateTimeUtc>,
        pub disabled_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text", nullable)]
        pub disabled_reason: Option<String>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    //! `webhook_deliveries`: one event for one endpoint, with its retry state and lease.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub endpoint_id: Uuid,
        /// The log event's `seq` (0 for a test ping).
        pub seq: i64,
        pub event_type: String,
        /// Deliveries of one ticket to one endpoint go out in `seq` order.
        pub ticket_id: Option<Uuid>,
        /// The exact JSON body, the same on every attempt.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// `pending`, `delivering`, `delivered` or `failed`.
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub locked_by: Option<String>,
        pub locked_until: Option<DateTimeUtc>,
        pub last_status_code: Option<i32>,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        pub delivered_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attempt {
    //! `webhook_attempts`: one HTTP attempt of a delivery.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub delivery_id: Uuid,
        /// 1 for the first attempt.
        pub number: i32,
        pub started_at: DateTimeUtc,
        pub duration_ms: i32,
        pub status_code: Option<i32>,
        #[sea_orm(column_type = "Text", nullable)]
        pub error: Option<String>,
        /// At most 1 KiB of the response body.
        #[sea_orm(column_type = "Text", nullable)]
        pub response_excerpt: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
