//! `users.time_zone`: the IANA zone a user reads times in (the customer's ETA in mail), or
//! NULL when they have not said.
//!
//! Signed-in accounts are cached in memory and refreshed when `user_version` moves, so the
//! update trigger of `m20261205_000002_user_version` is rebuilt to watch this column too.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns whose change bumps the counter, before and after this migration.
const WATCHED_BEFORE: &[&str] = &[
    "role",
    "active",
    "token_version",
    "password_hash",
    "name",
    "email",
];

const BUMP: &str = "UPDATE counters SET value = value + 1 WHERE name = 'user_version'";

async fn rebuild_update_trigger(
    manager: &SchemaManager<'_>,
    watched: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DatabaseBackend::Postgres {
        let changed = watched
            .iter()
            .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        db.execute_unprepared("DROP TRIGGER users_bump_version_on_update ON users")
            .await?;
        db.execute_unprepared(&format!(
            "CREATE TRIGGER users_bump_version_on_update AFTER UPDATE ON users \
             FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION helpdesk_bump_user_version()"
        ))
        .await?;
    } else {
        let changed = watched
            .iter()
            .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        db.execute_unprepared("DROP TRIGGER users_bump_version_on_update")
            .await?;
        db.execute_unprepared(&format!(
            "CREATE TRIGGER users_bump_version_on_update AFTER UPDATE ON users \
             FOR EACH ROW WHEN {changed} BEGIN {BUMP}; END"
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len_null(Users::TimeZone, 64))
                    .to_owned(),
            )
            .await?;
        let mut watched = WATCHED_BEFORE.to_vec();
        watched.push("time_zone");
        rebuild_update_trigger(manager, &watched).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild_update_trigger(manager, WATCHED_BEFORE).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::TimeZone)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    TimeZone,
}
