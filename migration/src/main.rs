//! `helpdesk-migrate`: apply or inspect migrations without starting the server.
//!
//! Usage: `helpdesk-migrate [up|down|status|fresh]` with `DATABASE_URL` set.
//! (`helpdesk migrate` does the same `up` from the main binary.)

use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::Database;

#[tokio::main]
async fn main() {
    let command = std::env::args().nth(1).unwrap_or_else(|| "up".to_owned());
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://data/helpdesk.db?mode=rwc".to_owned());
    let result = async {
        let db = Database::connect(&url).await?;
        match command.as_str() {
            "up" => Migrator::up(&db, None).await,
            "down" => Migrator::down(&db, Some(1)).await,
            "status" => Migrator::status(&db).await,
            "fresh" => Migrator::fresh(&db).await,
            other => Err(sea_orm_migration::DbErr::Custom(format!(
                "unknown command `{other}` (expected up, down, status or fresh)"
            ))),
        }
    }
    .await;
    if let Err(e) = result {
        eprintln!("migration failed: {e}");
        std::process::exit(1);
    }
}
