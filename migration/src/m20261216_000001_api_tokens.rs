//! `api_tokens`: long-lived bearer tokens of admins (integrations) and agents (personal use),
//! limited by scopes. Only the SHA-256 hash of a token is stored, unique, so every request
//! finds its token with one indexed lookup; revocation and expiry are read there each time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(uuid(ApiTokens::Id).primary_key())
                    .col(uuid(ApiTokens::OwnerId))
                    .col(string_len(ApiTokens::Name, 100))
                    // The scope names as a JSON array of strings.
                    .col(json(ApiTokens::Scopes))
                    // Hex SHA-256 of the whole token.
                    .col(string_len(ApiTokens::TokenHash, 64).unique_key())
                    // The first characters of the token, to recognise it in lists.
                    .col(string_len(ApiTokens::Prefix, 16))
                    .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_tokens_owner_created")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::OwnerId)
                    .col(ApiTokens::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    OwnerId,
    Name,
    Scopes,
    TokenHash,
    Prefix,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
