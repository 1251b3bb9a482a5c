//! Merging and linking tickets: `ticket_merges` (a merged ticket and the ticket it was merged
//! into), `ticket_merged_messages` (which messages came over by a merge, and from where) and
//! `ticket_links` (related tickets, one row per direction with the relation as seen from that
//! side).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketMerges::Table)
                    .col(uuid(TicketMerges::SourceId).primary_key())
                    .col(uuid(TicketMerges::TargetId))
                    .col(uuid_null(TicketMerges::MergedBy))
                    // An admin merged tickets of two different customers on purpose.
                    .col(boolean(TicketMerges::CrossCustomer).default(false))
                    .col(timestamp_with_time_zone(TicketMerges::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketMerges::Table, TicketMerges::SourceId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketMerges::Table, TicketMerges::TargetId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_merges_target")
                    .table(TicketMerges::Table)
                    .col(TicketMerges::TargetId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TicketMergedMessages::Table)
                    .col(uuid(TicketMergedMessages::MessageId).primary_key())
                    .col(uuid(TicketMergedMessages::SourceId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketMergedMessages::Table, TicketMergedMessages::MessageId)
                            .to(TicketMessages::Table, TicketMessages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketMergedMessages::Table, TicketMergedMessages::SourceId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TicketLinks::Table)
                    .col(uuid(TicketLinks::TicketId))
                    .col(uuid(TicketLinks::OtherId))
                    .col(string_len(TicketLinks::Relation, 32))
                    .col(uuid_null(TicketLinks::CreatedBy))
                    .col(timestamp_with_time_zone(TicketLinks::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TicketLinks::TicketId)
                            .col(TicketLinks::OtherId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketLinks::Table, TicketLinks::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketLinks::Table, TicketLinks::OtherId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TicketLinks::Table.into_iden(),
            TicketMergedMessages::Table.into_iden(),
            TicketMerges::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TicketMerges {
    Table,
    SourceId,
    TargetId,
    MergedBy,
    CrossCustomer,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketMergedMessages {
    Table,
    MessageId,
    SourceId,
}

#[derive(DeriveIden)]
enum TicketLinks {
    Table,
    TicketId,
    OtherId,
    Relation,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TicketMessages {
    Table,
    Id,
}
