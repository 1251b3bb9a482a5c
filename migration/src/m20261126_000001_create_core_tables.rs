//! Core tables: users, agents, journeys (+ versions), tickets, messages, attachments, settings
//! and the durable event log.
//!
//! Timestamps carry no database default: the application always writes them in UTC so that
//! SQLite (text) and PostgreSQL (timestamptz) store the same instants.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string_len(Users::Name, 100))
                    .col(string_len(Users::PasswordHash, 100))
                    .col(string_len(Users::Role, 16))
                    .col(boolean(Users::Active).default(true))
                    // Bumped on password change or deactivation; tokens carrying an older
                    // value stop working at once.
                    .col(integer(Users::TokenVersion).default(0))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(manager, Users::Table, "idx_users_role", &[Users::Role]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(uuid(Agents::UserId).primary_key())
                    .col(string_len(Agents::Status, 16).default("offline"))
                    .col(time_null(Agents::ShiftStart))
                    .col(time_null(Agents::ShiftEnd))
                    .col(string_len(Agents::TimeZone, 64).default("UTC"))
                    // Bit 0 = Monday … bit 6 = Sunday; 31 = Monday to Friday.
                    .col(small_integer(Agents::WorkingDays).default(31))
                    .col(integer(Agents::Capacity).default(5))
                    .col(boolean(Agents::Active).default(true))
                    .col(timestamp_with_time_zone(Agents::StatusChangedAt))
                    .col(timestamp_with_time_zone_null(Agents::LastAssignedAt))
                    .col(integer(Agents::OpenTickets).default(0))
                    .col(integer(Agents::TicketsResolved).default(0))
                    .col(big_integer(Agents::FirstResponseTotalSecs).default(0))
                    .col(integer(Agents::FirstResponseCount).default(0))
                    .col(big_integer(Agents::ResolutionTotalSecs).default(0))
                    .col(integer(Agents::ResolutionCount).default(0))
                    .col(integer(Agents::SlaMetCount).default(0))
                    .col(integer(Agents::SlaBreachedCount).default(0))
                    .col(timestamp_with_time_zone(Agents::CreatedAt))
                    .col(timestamp_with_time_zone(Agents::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agents_user")
                            .from(Agents::Table, Agents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Agents::Table,
            "idx_agents_status",
            &[Agents::Status],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Journeys::Table)
                    .col(uuid(Journeys::Id).primary_key())
                    .col(string_len_uniq(Journeys::Slug, 100))
                    .col(string_len(Journeys::Name, 200))
                    .col(text(Journeys::Description))
                    .col(string_len(Journeys::Icon, 64))
                    .col(integer(Journeys::CurrentVersion).default(1))
                    .col(boolean(Journeys::Active).default(false))
                    .col(boolean(Journeys::Archived).default(false))
                    .col(uuid_null(Journeys::CreatedBy))
                    .col(timestamp_with_time_zone(Journeys::CreatedAt))
                    .col(timestamp_with_time_zone(Journeys::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_journeys_created_by")
                            .from(Journeys::Table, Journeys::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JourneyVersions::Table)
                    .col(uuid(JourneyVersions::JourneyId))
                    .col(integer(JourneyVersions::Version))
                    .col(json_binary(JourneyVersions::Definition))
                    .col(uuid_null(JourneyVersions::CreatedBy))
                    .col(timestamp_with_time_zone(JourneyVersions::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(JourneyVersions::JourneyId)
                            .col(JourneyVersions::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_journey_versions_journey")
                            .from(JourneyVersions::Table, JourneyVersions::JourneyId)
                            .to(Journeys::Table, Journeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_journey_versions_created_by")
                            .from(JourneyVersions::Table, JourneyVersions::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(uuid(Tickets::Id).primary_key())
                    // The short human number shown as `#1042`.
                    .col(big_integer_uniq(Tickets::Number))
                    .col(string_len(Tickets::Subject, 200))
                    .col(text(Tickets::Description))
                    .col(string_len(Tickets::Status, 16))
                    // 0 = low … 3 = urgent, so the queue can order by it directly.
                    .col(small_integer(Tickets::Priority))
                    .col(string_len_null(Tickets::Category, 100))
                    .col(uuid(Tickets::CustomerId))
                    .col(uuid_null(Tickets::AssignedAgentId))
                    .col(timestamp_with_time_zone_null(Tickets::AssignedAt))
                    .col(uuid_null(Tickets::JourneyId))
                    .col(integer_null(Tickets::JourneyVersion))
                    .col(json_binary_null(Tickets::Answers))
                    .col(json_binary_null(Tickets::Transcript))
                    .col(timestamp_with_time_zone_null(Tickets::ResponseDueAt))
                    .col(timestamp_with_time_zone_null(Tickets::ResolutionDueAt))
                    .col(timestamp_with_time_zone_null(Tickets::FirstResponseAt))
                    .col(timestamp_with_time_zone_null(Tickets::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Tickets::ClosedAt))
                    // Set while the ticket is `pending`: the SLA clock does not run then.
                    .col(timestamp_with_time_zone_null(Tickets::SlaPausedAt))
                    .col(big_integer(Tickets::SlaPausedSecs).default(0))
                    .col(boolean(Tickets::ResponseBreached).default(false))
                    .col(boolean(Tickets::ResolutionBreached).default(false))
                    .col(boolean(Tickets::Escalated).default(false))
                    .col(timestamp_with_time_zone_null(Tickets::EscalatedAt))
                    .col(integer(Tickets::EscalationLevel).default(0))
                    .col(timestamp_with_time_zone(Tickets::CreatedAt))
                    .col(timestamp_with_time_zone(Tickets::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tickets_customer")
                            .from(Tickets::Table, Tickets::CustomerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tickets_agent")
                            .from(Tickets::Table, Tickets::AssignedAgentId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tickets_journey")
                            .from(Tickets::Table, Tickets::JourneyId)
                            .to(Journeys::Table, Journeys::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Tickets::Table,
            "idx_tickets_status",
            &[Tickets::Status],
        )
        .await?;
        index(
            manager,
            Tickets::Table,
            "idx_tickets_assigned_agent",
            &[Tickets::AssignedAgentId, Tickets::Status],
        )
        .await?;
        index(
            manager,
            Tickets::Table,
            "idx_tickets_customer",
            &[Tickets::CustomerId, Tickets::CreatedAt],
        )
        .await?;
        index(
            manager,
            Tickets::Table,
            "idx_tickets_created_at",
            &[Tickets::CreatedAt],
        )
        .await?;
        index(
            manager,
            Tickets::Table,
            "idx_tickets_priority",
            &[Tickets::Priority],
        )
        .await?;
        // The queue: unassigned tickets by priority DESC, created_at ASC.
        index(
            manager,
            Tickets::Table,
            "idx_tickets_queue",
            &[Tickets::Status, Tickets::Priority, Tickets::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketMessages::Table)
                    .col(uuid(TicketMessages::Id).primary_key())
                    .col(uuid(TicketMessages::TicketId))
                    .col(uuid(TicketMessages::AuthorId))
                    .col(text(TicketMessages::Body))
                    // Internal notes are never shown to customers.
                    .col(boolean(TicketMessages::Internal).default(false))
                    .col(timestamp_with_time_zone(TicketMessages::CreatedAt))
                    .col(timestamp_with_time_zone(TicketMessages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ticket_messages_ticket")
                            .from(TicketMessages::Table, TicketMessages::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ticket_messages_author")
                            .from(TicketMessages::Table, TicketMessages::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            TicketMessages::Table,
            "idx_ticket_messages_ticket",
            &[TicketMessages::TicketId, TicketMessages::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(uuid(Attachments::Id).primary_key())
                    .col(uuid_null(Attachments::TicketId))
                    .col(uuid_null(Attachments::MessageId))
                    .col(uuid(Attachments::UploaderId))
                    .col(string_len(Attachments::OriginalName, 255))
                    // Generated on upload; the client-supplied name never touches the disk.
                    .col(string_len_uniq(Attachments::StoredName, 100))
                    .col(string_len(Attachments::ContentType, 64))
                    .col(big_integer(Attachments::SizeBytes))
                    .col(timestamp_with_time_zone(Attachments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attachments_ticket")
                            .from(Attachments::Table, Attachments::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attachments_message")
                            .from(Attachments::Table, Attachments::MessageId)
                            .to(TicketMessages::Table, TicketMessages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attachments_uploader")
                            .from(Attachments::Table, Attachments::UploaderId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Attachments::Table,
            "idx_attachments_ticket",
            &[Attachments::TicketId],
        )
        .await?;
        index(
            manager,
            Attachments::Table,
            "idx_attachments_message",
            &[Attachments::MessageId],
        )
        .await?;

        // Key/value JSON settings: queue options, SLA policy per priority, round-robin position.
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(string_len(Settings::Key, 64).primary_key())
                    .col(json_binary(Settings::Value))
                    .col(timestamp_with_time_zone(Settings::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        // The durable event log behind realtime delivery and resume.
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(big_pk_auto(Events::Seq))
                    .col(string_len(Events::EventType, 64))
                    .col(json_binary(Events::Rooms))
                    .col(json_binary(Events::Payload))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Events::Table,
            "idx_events_created_at",
            &[Events::CreatedAt],
        )
        .await?;
        // One row per (room, event) so a resuming client's replay is an index range scan.
        manager
            .create_table(
                Table::create()
                    .table(EventRooms::Table)
                    .col(string_len(EventRooms::Room, 100))
                    .col(big_integer(EventRooms::Seq))
                    .primary_key(Index::create().col(EventRooms::Room).col(EventRooms::Seq))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_event_rooms_event")
                            .from(EventRooms::Table, EventRooms::Seq)
                            .to(Events::Table, Events::Seq)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EventRooms::Table.into_iden(),
            Events::Table.into_iden(),
            Settings::Table.into_iden(),
            Attachments::Table.into_iden(),
            TicketMessages::Table.into_iden(),
            Tickets::Table.into_iden(),
            JourneyVersions::Table.into_iden(),
            Journeys::Table.into_iden(),
            Agents::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index<T, C>(
    manager: &SchemaManager<'_>,
    table: T,
    name: &str,
    cols: &[C],
) -> Result<(), DbErr>
where
    T: IntoIden + Clone + 'static,
    C: IntoIden + Clone + 'static,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col.clone());
    }
    manager.create_index(stmt.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Role,
    Active,
    TokenVersion,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    UserId,
    Status,
    ShiftStart,
    ShiftEnd,
    TimeZone,
    WorkingDays,
    Capacity,
    Active,
    StatusChangedAt,
    LastAssignedAt,
    OpenTickets,
    TicketsResolved,
    FirstResponseTotalSecs,
    FirstResponseCount,
    ResolutionTotalSecs,
    ResolutionCount,
    SlaMetCount,
    SlaBreachedCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Journeys {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Icon,
    CurrentVersion,
    Active,
    Archived,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum JourneyVersions {
    Table,
    JourneyId,
    Version,
    Definition,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
    Number,
    Subject,
    Description,
    Status,
    Priority,
    Category,
    CustomerId,
    AssignedAgentId,
    AssignedAt,
    JourneyId,
    JourneyVersion,
    Answers,
    Transcript,
    ResponseDueAt,
    ResolutionDueAt,
    FirstResponseAt,
    ResolvedAt,
    ClosedAt,
    SlaPausedAt,
    SlaPausedSecs,
    ResponseBreached,
    ResolutionBreached,
    Escalated,
    EscalatedAt,
    EscalationLevel,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketMessages {
    Table,
    Id,
    TicketId,
    AuthorId,
    Body,
    Internal,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Attachments {
    Table,
    Id,
    TicketId,
    MessageId,
    UploaderId,
    OriginalName,
    StoredName,
    ContentType,
    SizeBytes,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    Seq,
    EventType,
    Rooms,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EventRooms {
    Table,
    Room,
    Seq,
}
