//! Demo data for `helpdesk seed` and `make run`. Idempotent: running it again changes nothing.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use shared::Role;

use crate::{
    entity::{User, user},
    error::ApiError,
    services::users::{self, NewAccount},
};

/// A demo login, printed by `make run` and listed in the README.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    pub email: &'static str,
    pub password: &'static str,
    pub name: &'static str,
    pub role: Role,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        email: "admin@helpdesk.local",
        password: "Admin123!",
        name: "Ada Admin",
        role: Role::Admin,
    },
    DemoUser {
        email: "agent1@helpdesk.local",
        password: "Agent123!",
        name: "Alex Agent",
        role: Role::Agent,
    },
    DemoUser {
        email: "agent2@helpdesk.local",
        password: "Agent123!",
        name: "Blake Agent",
        role: Role::Agent,
    },
    DemoUser {
        email: "agent3@helpdesk.local",
        password: "Agent123!",
        name: "Casey Agent",
        role: Role::Agent,
    },
    DemoUser {
        email: "customer1@helpdesk.local",
        password: "Customer123!",
        name: "Dana Customer",
        role: Role::Customer,
    },
    DemoUser {
        email: "customer2@helpdesk.local",
        password: "Customer123!",
        name: "Eli Customer",
        role: Role::Customer,
    },
    DemoUser {
        email: "customer3@helpdesk.local",
        password: "Customer123!",
        name: "Frankie Customer",
        role: Role::Customer,
    },
];

/// What a seed run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub created: Vec<&'static str>,
    pub existing: Vec<&'static str>,
}

/// Creates every missing demo user; existing accounts (by email) are left untouched.
pub async fn run(db: &DatabaseConnection, bcrypt_cost: u32) -> Result<SeedReport, ApiError> {
    let mut report = SeedReport::default();
    for demo in DEMO_USERS {
        let exists = User::find()
            .filter(user::Column::Email.eq(demo.email))
            .one(db)
            .await?
            .is_some();
        if exists {
            report.existing.push(demo.email);
            continue;
        }
        let account = NewAccount::parse(demo.email, demo.password, demo.name, demo.role)?;
        users::create_account(db, bcrypt_cost, account).await?;
        report.created.push(demo.email);
    }
    Ok(report)
}
