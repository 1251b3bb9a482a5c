//! Demo data for `helpdesk seed` and `make run`. Idempotent: running it again changes nothing.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use shared::Role;

use chrono::Utc;
use shared::journeys::JourneyRequest;

use crate::{
    entity::{Journey, User, journey, user},
    error::ApiError,
    services::{
        journeys::{self, StateChange},
        users::{self, NewAccount},
    },
};

/// A demo journey: (slug, name, description, icon, definition).
pub const DEMO_JOURNEYS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "order-problem",
        "Order problem",
        "Damaged, missing or late items from an order.",
        "📦",
        include_str!("seed_data/order-problem.json"),
    ),
    (
        "account-billing",
        "Account & billing",
        "Signing in, charges, invoices and receipts.",
        "💳",
        include_str!("seed_data/account-billing.json"),
    ),
];

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
    let admin = User::find()
        .filter(user::Column::Email.eq(DEMO_USERS[0].email))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("demo admin missing")))?;
    for (slug, name, description, icon, definition) in DEMO_JOURNEYS {
        let exists = Journey::find()
            .filter(journey::Column::Slug.eq(*slug))
            .one(db)
            .await?
            .is_some();
        if exists {
            report.existing.push(slug);
            continue;
        }
        let definition = serde_json::from_str(definition)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("demo journey {slug}: {e}")))?;
        let created = journeys::create(
            db,
            Some(admin.id),
            JourneyRequest {
                slug: (*slug).to_owned(),
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                icon: (*icon).to_owned(),
                definition,
            },
            Utc::now(),
        )
        .await?;
        journeys::change_state(db, created.id, StateChange::Activate, Utc::now()).await?;
        report.created.push(slug);
    }
    Ok(report)
}
