//! On PostgreSQL, ticket numbers come from a sequence instead of the `counters` row.
//!
//! A counter row is locked from the moment a ticket takes its number until the creating
//! transaction commits, so concurrent ticket creation ran one at a time. A sequence hands out
//! numbers without a lock (a rolled-back creation leaves a gap, which a ticket number may
//! have). SQLite has one writer anyway and keeps the counter.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("CREATE SEQUENCE ticket_number_seq AS BIGINT")
            .await?;
        // Continue after the larger of the counter and the numbers already used.
        db.execute_unprepared(
            "SELECT setval('ticket_number_seq', GREATEST( \
               (SELECT value FROM counters WHERE name = 'ticket_number'), \
               (SELECT COALESCE(MAX(number), 0) FROM tickets), 1))",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE counters SET value = (SELECT last_value FROM ticket_number_seq) \
             WHERE name = 'ticket_number'",
        )
        .await?;
        db.execute_unprepared("DROP SEQUENCE ticket_number_seq")
            .await?;
        Ok(())
    }
}
