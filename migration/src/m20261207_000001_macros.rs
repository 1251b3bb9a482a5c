//! Canned responses (`macros`): shared ones (no owner, managed by admins) and personal ones of
//! an agent or admin, with the ticket changes they apply and how often they were used.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Macros::Table)
                    .col(uuid(Macros::Id).primary_key())
                    // NULL: shared with all staff.
                    .col(uuid_null(Macros::OwnerId))
                    .col(string_len(Macros::Title, 200))
                    .col(text(Macros::Body))
                    // `MacroActions` as JSON.
                    .col(json(Macros::Actions))
                    .col(big_integer(Macros::UsageCount).default(0))
                    .col(uuid_null(Macros::CreatedBy))
                    .col(timestamp_with_time_zone(Macros::CreatedAt))
                    .col(timestamp_with_time_zone(Macros::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Macros::Table, Macros::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_macros_owner_title")
                    .table(Macros::Table)
                    .col(Macros::OwnerId)
                    .col(Macros::Title)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Macros::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Macros {
    Table,
    Id,
    OwnerId,
    Title,
    Body,
    Actions,
    UsageCount,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
