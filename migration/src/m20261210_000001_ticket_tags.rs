//! Ticket tags: one row per (ticket, tag). The primary key serves a ticket's tags; the
//! `(tag, ticket_id)` index serves the list filters (tag → tickets) and the per-tag counts
//! without touching `tickets`, at any number of tickets.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketTags::Table)
                    .col(uuid(TicketTags::TicketId))
                    // Normalised (`shared::tags::normalize`): at most 40 characters.
                    .col(string_len(TicketTags::Tag, 40))
                    .col(timestamp_with_time_zone(TicketTags::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TicketTags::TicketId)
                            .col(TicketTags::Tag),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketTags::Table, TicketTags::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_tags_tag_ticket")
                    .table(TicketTags::Table)
                    .col(TicketTags::Tag)
                    .col(TicketTags::TicketId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TicketTags::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TicketTags {
    Table,
    TicketId,
    Tag,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}
