//! Indexes that serve the ticket lists' default orders, so a page is an index range scan
//! instead of a sort of every matching ticket.
//!
//! - The queue (`status = 'new'`, unassigned), as the agent dashboard and the assignment run
//!   read it: priority first (highest first), then oldest first, then the number. A partial
//!   index: it holds only the waiting tickets, so it stays small however many tickets exist,
//!   and counting the queue reads only it.
//! - Every list's tiebreak is the ticket number in the same direction as the sort, so each
//!   sort column gets the number appended: newest first (the default), recently updated first.
//!
//! `idx_tickets_status`, `idx_tickets_priority` and `idx_tickets_created_at` go: the indexes
//! here and `idx_tickets_queue` serve what they served, and every index costs each ticket
//! write.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 6] = [
    "CREATE INDEX idx_tickets_waiting ON tickets (priority DESC, created_at ASC, number DESC) \
     WHERE status = 'new' AND assigned_agent_id IS NULL",
    "CREATE INDEX idx_tickets_created_number ON tickets (created_at, number)",
    "CREATE INDEX idx_tickets_updated_number ON tickets (updated_at, number)",
    "DROP INDEX idx_tickets_status",
    "DROP INDEX idx_tickets_priority",
    "DROP INDEX idx_tickets_created_at",
];

const DOWN: [&str; 6] = [
    "CREATE INDEX idx_tickets_created_at ON tickets (created_at)",
    "CREATE INDEX idx_tickets_priority ON tickets (priority)",
    "CREATE INDEX idx_tickets_status ON tickets (status)",
    "DROP INDEX idx_tickets_updated_number",
    "DROP INDEX idx_tickets_created_number",
    "DROP INDEX idx_tickets_waiting",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for sql in UP {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for sql in DOWN {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
