//! `agents`: the working profile of a user with the agent role (status, shift, capacity,
//! running metrics). The row is keyed by the user's id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub status: AgentStatus,
    /// Local shift start in `time_zone`; `None` with `shift_end` means no shift restriction.
    pub shift_start: Option<chrono::NaiveTime>,
    pub shift_end: Option<chrono::NaiveTime>,
    /// IANA time zone name of the shift, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Bit 0 = Monday … bit 6 = Sunday.
    pub working_days: i16,
    /// Maximum number of open tickets assigned at once.
    pub capacity: i32,
    pub active: bool,
    pub status_changed_at: DateTimeUtc,
    pub last_assigned_at: Option<DateTimeUtc>,
    pub open_tickets: i32,
    pub tickets_resolved: i32,
    pub first_response_total_secs: i64,
    pub first_response_count: i32,
    pub resolution_total_secs: i64,
    pub resolution_count: i32,
    pub sla_met_count: i32,
    pub sla_breached_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Whether an agent takes new tickets right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AgentStatus {
    #[sea_orm(string_value = "available")]
    Available,
    #[sea_orm(string_value = "busy")]
    Busy,
    #[sea_orm(string_value = "away")]
    Away,
    #[sea_orm(string_value = "offline")]
    Offline,
}

impl Model {
    /// A fresh profile for a new agent: offline, no shift restriction, default capacity.
    pub fn new_profile(user_id: Uuid, now: DateTimeUtc) -> ActiveModel {
        use sea_orm::ActiveValue::Set;
        ActiveModel {
            user_id: Set(user_id),
            status: Set(AgentStatus::Offline),
            shift_start: Set(None),
            shift_end: Set(None),
            time_zone: Set("UTC".to_owned()),
            working_days: Set(0b111_1111),
            capacity: Set(5),
            active: Set(true),
            status_changed_at: Set(now),
            last_assigned_at: Set(None),
            open_tickets: Set(0),
            tickets_resolved: Set(0),
            first_response_total_secs: Set(0),
            first_response_count: Set(0),
            resolution_total_secs: Set(0),
            resolution_count: Set(0),
            sla_met_count: Set(0),
            sla_breached_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}
