//! Business-hours SLAs: the `sla_calendars` table, and on `tickets` the terms each ticket runs
//! on (policy name, calendar, a snapshot of both), business time spent paused, the warning
//! instant with its once-per-clock flags, the customer's ETA, and the business-time
//! durations of the first response and the resolution for analytics.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SlaCalendars::Table)
                    .col(uuid(SlaCalendars::Id).primary_key())
                    .col(string_len(SlaCalendars::Name, 100).unique_key())
                    // The `CalendarSpec` JSON: zone, weekly intervals, holidays.
                    .col(json(SlaCalendars::Spec))
                    .col(timestamp_with_time_zone(SlaCalendars::CreatedAt))
                    .col(timestamp_with_time_zone(SlaCalendars::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        let columns = [
            ColumnDef::new(Tickets::SlaPolicy)
                .string_len(100)
                .null()
                .to_owned(),
            ColumnDef::new(Tickets::SlaCalendarId)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(Tickets::SlaTerms).json().null().to_owned(),
            ColumnDef::new(Tickets::SlaPausedBusinessSecs)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Tickets::SlaAlertAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Tickets::ResponseWarned)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Tickets::ResolutionWarned)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Tickets::SlaEtaAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Tickets::ResponseBusinessSecs)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Tickets::ResolutionBusinessSecs)
                .big_integer()
                .null()
                .to_owned(),
        ];
        for mut col in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tickets::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        // Tickets paused before now ran 24/7: their business pause is their wall-clock pause.
        manager
            .get_connection()
            .execute_unprepared("UPDATE tickets SET sla_paused_business_secs = sla_paused_secs")
            .await?;
        // The monitor's warning scan.
        manager
            .create_index(
                Index::create()
                    .name("idx_tickets_sla_alert")
                    .table(Tickets::Table)
                    .col(Tickets::SlaAlertAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tickets_sla_alert")
                    .table(Tickets::Table)
                    .to_owned(),
            )
            .await?;
        for col in [
            Tickets::SlaPolicy,
            Tickets::SlaCalendarId,
            Tickets::SlaTerms,
            Tickets::SlaPausedBusinessSecs,
            Tickets::SlaAlertAt,
            Tickets::ResponseWarned,
            Tickets::ResolutionWarned,
            Tickets::SlaEtaAt,
            Tickets::ResponseBusinessSecs,
            Tickets::ResolutionBusinessSecs,
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
            .drop_table(Table::drop().table(SlaCalendars::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SlaCalendars {
    Table,
    Id,
    Name,
    Spec,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    SlaPolicy,
    SlaCalendarId,
    SlaTerms,
    SlaPausedBusinessSecs,
    SlaAlertAt,
    ResponseWarned,
    ResolutionWarned,
    SlaEtaAt,
    ResponseBusinessSecs,
    ResolutionBusinessSecs,
}
