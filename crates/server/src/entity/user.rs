//! `users`: every account, whatever its role.

use sea_orm::entity::prelude::*;
use shared::{Role, users::UserDto};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: UserRole,
    pub active: bool,
    /// Bumped on password change and deactivation; tokens carry it and must match.
    pub token_version: i32,
    pub last_login_at: Option<DateTimeUtc>,
    /// When mail to this address last bounced; set, it stops all mail to the address.
    pub email_bouncing_at: Option<DateTimeUtc>,
    /// The IANA zone the user reads times in; `None` when not known.
    pub time_zone: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::agent::Entity")]
    Agent,
}

impl Related<super::agent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// The `role` column; mirrors [`shared::Role`], which cannot depend on sea-orm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UserRole {
    #[sea_orm(string_value = "customer")]
    Customer,
    #[sea_orm(string_value = "agent")]
    Agent,
    #[sea_orm(string_value = "admin")]
    Admin,
}

impl From<UserRole> for Role {
    fn from(r: UserRole) -> Self {
        match r {
            UserRole::Customer => Role::Customer,
            UserRole::Agent => Role::Agent,
            UserRole::Admin => Role::Admin,
        }
    }
}

impl From<Role> for UserRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Customer => UserRole::Customer,
            Role::Agent => UserRole::Agent,
            Role::Admin => UserRole::Admin,
        }
    }
}

impl From<Model> for UserDto {
    fn from(m: Model) -> Self {
        UserDto {
            id: m.id,
            email: m.email,
            name: m.name,
            role: m.role.into(),
            active: m.active,
            created_at: m.created_at,
            last_login_at: m.last_login_at,
            time_zone: m.time_zone,
        }
    }
}
