//! The event sequence counter and the `staff_only` flag of events.
//!
//! The counter: Events take their `seq` from this row inside the writing
//! transaction; the row lock makes commit order equal `seq` order, so a reader that has seen
//! `seq` N never later finds an event below N appear.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Internal notes go to ticket rooms that customers may be in; this flag keeps them
        // (live and on resume) for agents and admins.
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(
                        ColumnDef::new(Events::StaffOnly)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Counters::Table)
                    .columns([Counters::Name, Counters::Value])
                    .values_panic(["event_seq".into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Counters::Table)
                    .and_where(Expr::col(Counters::Name).eq("event_seq"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::StaffOnly)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Counters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    StaffOnly,
}
