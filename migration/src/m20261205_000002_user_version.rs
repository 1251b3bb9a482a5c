//! The `user_version` counter: bumped, in the same transaction, by every change to an account
//! that a signed-in request depends on (role, active flag, token version, password, name,
//! email) and by every deletion of one.
//!
//! Servers keep the accounts of signed-in users in memory and compare this one number with the
//! database on each request: a change made through any instance therefore takes effect on the
//! very next request everywhere. Sign-ins (`last_login_at`) do not bump it. Triggers keep it
//! right whichever code path changes a user.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns whose change bumps the counter.
const WATCHED: [&str; 6] = [
    "role",
    "active",
    "token_version",
    "password_hash",
    "name",
    "email",
];

const BUMP: &str = "UPDATE counters SET value = value + 1 WHERE name = 'user_version'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("INSERT INTO counters (name, value) VALUES ('user_version', 0)")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let changed = WATCHED
                .iter()
                .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
                .collect::<Vec<_>>()
                .join(" OR ");
            db.execute_unprepared(&format!(
                "CREATE FUNCTION helpdesk_bump_user_version() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER users_bump_version_on_update AFTER UPDATE ON users \
                 FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION helpdesk_bump_user_version()"
            ))
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER users_bump_version_on_delete AFTER DELETE ON users \
                 FOR EACH ROW EXECUTE FUNCTION helpdesk_bump_user_version()",
            )
            .await?;
        } else {
            let changed = WATCHED
                .iter()
                .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
                .collect::<Vec<_>>()
                .join(" OR ");
            db.execute_unprepared(&format!(
                "CREATE TRIGGER users_bump_version_on_update AFTER UPDATE ON users \
                 FOR EACH ROW WHEN {changed} BEGIN {BUMP}; END"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER users_bump_version_on_delete AFTER DELETE ON users \
                 FOR EACH ROW BEGIN {BUMP}; END"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("DROP TRIGGER users_bump_version_on_update ON users")
                .await?;
            db.execute_unprepared("DROP TRIGGER users_bump_version_on_delete ON users")
                .await?;
            db.execute_unprepared("DROP FUNCTION helpdesk_bump_user_version()")
                .await?;
        } else {
            db.execute_unprepared("DROP TRIGGER users_bump_version_on_update")
                .await?;
            db.execute_unprepared("DROP TRIGGER users_bump_version_on_delete")
                .await?;
        }
        db.execute_unprepared("DELETE FROM counters WHERE name = 'user_version'")
            .await?;
        Ok(())
    }
}
