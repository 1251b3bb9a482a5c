//! The email channel's outbound half: the transactional outbox `mail_outbox` (one row per
//! cause, recipient and kind, written in the same transaction as the change that causes it)
//! and `notification_prefs` (a user's switches; no row means on).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(uuid(MailOutbox::Id).primary_key())
                    // `{cause}:{recipient}:{kind}`: the same change never queues a mail twice.
                    .col(string_len(MailOutbox::DedupeKey, 255).unique_key())
                    .col(string_len(MailOutbox::Kind, 32))
                    .col(uuid_null(MailOutbox::TicketId))
                    .col(uuid_null(MailOutbox::UserId))
                    .col(string_len(MailOutbox::Recipient, 320))
                    .col(string_len(MailOutbox::Subject, 998))
                    .col(text(MailOutbox::BodyText))
                    .col(text(MailOutbox::BodyHtml))
                    // Made at enqueue time and kept across retries and resends.
                    .col(string_len(MailOutbox::MessageId, 255))
                    .col(string_len_null(MailOutbox::InReplyTo, 255))
                    .col(text_null(MailOutbox::ThreadReferences))
                    .col(string_len_null(MailOutbox::ReplyTo, 320))
                    // Further headers as a JSON object of name to value.
                    .col(json(MailOutbox::Headers))
                    .col(string_len(MailOutbox::Status, 16))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(string_len_null(MailOutbox::LockedBy, 128))
                    .col(timestamp_with_time_zone_null(MailOutbox::LockedUntil))
                    .col(text_null(MailOutbox::LastError))
                    .col(text_null(MailOutbox::SmtpReply))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // The worker's claim: due rows by next attempt.
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::Status)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_created")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationPrefs::Table)
                    .col(uuid(NotificationPrefs::UserId))
                    .col(string_len(NotificationPrefs::Kind, 32))
                    .col(boolean(NotificationPrefs::Enabled))
                    .col(timestamp_with_time_zone(NotificationPrefs::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(NotificationPrefs::UserId)
                            .col(NotificationPrefs::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_prefs_user")
                            .from(NotificationPrefs::Table, NotificationPrefs::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NotificationPrefs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    DedupeKey,
    Kind,
    TicketId,
    UserId,
    Recipient,
    Subject,
    BodyText,
    BodyHtml,
    MessageId,
    InReplyTo,
    ThreadReferences,
    ReplyTo,
    Headers,
    Status,
    Attempts,
    NextAttemptAt,
    LockedBy,
    LockedUntil,
    LastError,
    SmtpReply,
    SentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationPrefs {
    Table,
    UserId,
    Kind,
    Enabled,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
