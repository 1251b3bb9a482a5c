//! Ticket history (who changed what, when), named counters (the human ticket number) and the
//! columns that make the SLA state of a ticket filterable in SQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketHistory::Table)
                    .col(uuid(TicketHistory::Id).primary_key())
                    .col(uuid(TicketHistory::TicketId))
                    // Null for changes made by the system (assignment loop, SLA monitor).
                    .col(uuid_null(TicketHistory::ActorId))
                    .col(string_len(TicketHistory::Field, 32))
                    .col(string_len_null(TicketHistory::FromValue, 255))
                    .col(string_len_null(TicketHistory::ToValue, 255))
                    .col(timestamp_with_time_zone(TicketHistory::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ticket_history_ticket")
                            .from(TicketHistory::Table, TicketHistory::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ticket_history_actor")
                            .from(TicketHistory::Table, TicketHistory::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_history_ticket")
                    .table(TicketHistory::Table)
                    .col(TicketHistory::TicketId)
                    .col(TicketHistory::CreatedAt)
                    .to_owned(),
            )
            .await?;

        // Counters incremented with UPDATE … RETURNING inside the caller's transaction.
        manager
            .create_table(
                Table::create()
                    .table(Counters::Table)
                    .col(string_len(Counters::Name, 64).primary_key())
                    .col(big_integer(Counters::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Counters::Table)
                    .columns([Counters::Name, Counters::Value])
                    .values_panic(["ticket_number".into(), 1000i64.into()])
                    .to_owned(),
            )
            .await?;

        // The deadline that currently runs (response until the first reply, then resolution)
        // and the instants at which it turns warning (50% left) and critical (20% left).
        // Null while the clock is paused or the ticket is done.
        for col in [
            Tickets::SlaDueAt,
            Tickets::SlaWarningAt,
            Tickets::SlaCriticalAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tickets::Table)
                        .add_column(timestamp_with_time_zone_null(col))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_tickets_sla_due")
                    .table(Tickets::Table)
                    .col(Tickets::SlaDueAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tickets_sla_due")
                    .table(Tickets::Table)
                    .to_owned(),
            )
            .await?;
        for col in [
            Tickets::SlaDueAt,
            Tickets::SlaWarningAt,
            Tickets::SlaCriticalAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tickets::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Counters::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TicketHistory::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TicketHistory {
    Table,
    Id,
    TicketId,
    ActorId,
    Field,
    FromValue,
    ToValue,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Counters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    SlaDueAt,
    SlaWarningAt,
    SlaCriticalAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
