//! An index on `mail_inbound(ticket_id, action)`: a ticket's DTO carries the mail that opened
//! it (`TicketDto.email`), looked up by ticket for every page of tickets.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_mail_inbound_ticket";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(MailInbound::Table)
                    .col(MailInbound::TicketId)
                    .col(MailInbound::Action)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(MailInbound::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MailInbound {
    Table,
    TicketId,
    Action,
}
