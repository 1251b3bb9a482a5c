//! Customer satisfaction ratings (`csat_ratings`): one row per resolution of a ticket that its
//! customer rated, 1–5 with an optional comment. The agent and category are recorded as they
//! were when the rating was given, so analytics do not move when the ticket is reassigned or
//! recategorised later.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CsatRatings::Table)
                    .col(uuid(CsatRatings::Id).primary_key())
                    .col(uuid(CsatRatings::TicketId))
                    // The `tickets.resolved_at` of the resolution rated.
                    .col(timestamp_with_time_zone(CsatRatings::ResolvedAt))
                    .col(uuid(CsatRatings::CustomerId))
                    .col(uuid_null(CsatRatings::AgentId))
                    .col(string_len_null(CsatRatings::Category, 100))
                    .col(small_integer(CsatRatings::Score))
                    .col(text_null(CsatRatings::Comment))
                    // `portal` or `link`: where the rating was last given.
                    .col(string_len(CsatRatings::Via, 16))
                    .col(timestamp_with_time_zone(CsatRatings::CreatedAt))
                    .col(timestamp_with_time_zone(CsatRatings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CsatRatings::Table, CsatRatings::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_csat_ratings_ticket_resolution")
                    .table(CsatRatings::Table)
                    .col(CsatRatings::TicketId)
                    .col(CsatRatings::ResolvedAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_csat_ratings_resolved_at")
                    .table(CsatRatings::Table)
                    .col(CsatRatings::ResolvedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CsatRatings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CsatRatings {
    Table,
    Id,
    TicketId,
    ResolvedAt,
    CustomerId,
    AgentId,
    Category,
    Score,
    Comment,
    Via,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}
