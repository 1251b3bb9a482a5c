//! The email channel's inbound half: every received mail with its raw copy and outcome
//! (`mail_inbound`, unique by a dedupe key so a mail fetched twice is imported once), the
//! Message-IDs that thread replies to tickets (`mail_message_ids`), the IMAP poller's position
//! and lease per mailbox (`mail_mailboxes`), and `users.email_bouncing_at`, which stops mail
//! to an address that bounced.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailInbound::Table)
                    .col(uuid(MailInbound::Id).primary_key())
                    // `mid:{sha256(Message-ID)}` or `raw:{sha256(raw)}`.
                    .col(string_len(MailInbound::DedupeKey, 80).unique_key())
                    .col(string_len_null(MailInbound::MessageId, 998))
                    // imap | http | cli
                    .col(string_len(MailInbound::Source, 16))
                    .col(string_len_null(MailInbound::Sender, 320))
                    .col(text_null(MailInbound::Subject))
                    .col(blob(MailInbound::Raw))
                    .col(big_integer(MailInbound::RawSize))
                    // processed | autoreply | bounce | own | rejected | rate_limited | quarantined
                    .col(string_len(MailInbound::Status, 16))
                    // new_ticket | reply | note, for processed mail
                    .col(string_len_null(MailInbound::Action, 16))
                    .col(text_null(MailInbound::Reason))
                    .col(uuid_null(MailInbound::TicketId))
                    .col(uuid_null(MailInbound::MessageRowId))
                    // The whole text as received, and the sanitised HTML, for "show original".
                    .col(text_null(MailInbound::FullText))
                    .col(text_null(MailInbound::SafeHtml))
                    .col(integer(MailInbound::Attempts).default(1))
                    .col(timestamp_with_time_zone(MailInbound::CreatedAt))
                    .col(timestamp_with_time_zone(MailInbound::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_mail_inbound_status",
                vec![MailInbound::Status, MailInbound::CreatedAt],
            ),
            (
                "idx_mail_inbound_sender",
                vec![MailInbound::Sender, MailInbound::CreatedAt],
            ),
            (
                "idx_mail_inbound_message_row",
                vec![MailInbound::MessageRowId],
            ),
            ("idx_mail_inbound_created", vec![MailInbound::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(MailInbound::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MailMessageIds::Table)
                    .col(string_len(MailMessageIds::MessageId, 255).primary_key())
                    .col(uuid(MailMessageIds::TicketId))
                    // customer | staff: who the mail with this id went to (or came from).
                    .col(string_len(MailMessageIds::Audience, 16))
                    // out | in
                    .col(string_len(MailMessageIds::Direction, 8))
                    .col(timestamp_with_time_zone(MailMessageIds::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailMailboxes::Table)
                    .col(string_len(MailMailboxes::Name, 255).primary_key())
                    .col(big_integer(MailMailboxes::Uidvalidity).default(0))
                    .col(big_integer(MailMailboxes::LastUid).default(0))
                    .col(string_len_null(MailMailboxes::LockedBy, 128))
                    .col(timestamp_with_time_zone_null(MailMailboxes::LockedUntil))
                    .col(timestamp_with_time_zone(MailMailboxes::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::EmailBouncingAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::EmailBouncingAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MailMailboxes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MailMessageIds::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MailInbound::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MailInbound {
    Table,
    Id,
    DedupeKey,
    MessageId,
    Source,
    Sender,
    Subject,
    Raw,
    RawSize,
    Status,
    Action,
    Reason,
    TicketId,
    MessageRowId,
    FullText,
    SafeHtml,
    Attempts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailMessageIds {
    Table,
    MessageId,
    TicketId,
    Audience,
    Direction,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailMailboxes {
    Table,
    Name,
    Uidvalidity,
    LastUid,
    LockedBy,
    LockedUntil,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    EmailBouncingAt,
}
