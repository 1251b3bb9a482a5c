//! Daily analytics rollups and the change log that keeps them honest.
//!
//! `analytics_daily` holds, per UTC day and assigned agent, what the tickets created, resolved
//! and finished that day add up to. Triggers on `tickets` append the UTC days a write touched
//! (before and after the change) to `analytics_changes`; the rollup job recomputes those days
//! and deletes exactly the log rows it read, and until then readers compute those days live.
//! Triggers rather than application code so that every write path, bulk updates included, is
//! seen, with the old values as well as the new.

use sea_orm_migration::{
    prelude::*,
    schema::{big_integer, blob, date, text, uuid},
    sea_orm::DatabaseBackend,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The ticket columns an analytics figure depends on; other updates do not touch the log.
const ANALYTIC_COLUMNS: [&str; 15] = [
    "status",
    "priority",
    "category",
    "journey_id",
    "assigned_agent_id",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
    "escalated",
    "sla_paused_secs",
];

/// The timestamp columns whose UTC day a ticket is counted under.
const DAY_COLUMNS: [&str; 3] = ["created_at", "resolved_at", "closed_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AnalyticsDaily::Table)
                    .col(date(AnalyticsDaily::Day))
                    // The assigned agent, or the nil UUID for unassigned tickets.
                    .col(uuid(AnalyticsDaily::AgentKey))
                    .col(big_integer(AnalyticsDaily::Created))
                    .col(big_integer(AnalyticsDaily::Escalated))
                    .col(big_integer(AnalyticsDaily::ResponseMet))
                    .col(big_integer(AnalyticsDaily::ResponseDecided))
                    .col(big_integer(AnalyticsDaily::Resolved))
                    .col(big_integer(AnalyticsDaily::ResolutionMet))
                    .col(big_integer(AnalyticsDaily::ResolutionDecided))
                    .col(big_integer(AnalyticsDaily::Done))
                    .col(text(AnalyticsDaily::Breakdown))
                    .col(blob(AnalyticsDaily::FirstResponseSecs))
                    .col(blob(AnalyticsDaily::ResolutionSecs))
                    .primary_key(
                        Index::create()
                            .col(AnalyticsDaily::Day)
                            .col(AnalyticsDaily::AgentKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnalyticsChanges::Table)
                    .col(
                        ColumnDef::new(AnalyticsChanges::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(date(AnalyticsChanges::Day))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_analytics_changes_day")
                    .table(AnalyticsChanges::Table)
                    .col(AnalyticsChanges::Day)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_triggers(),
            DatabaseBackend::Sqlite => sqlite_triggers(),
            other => {
                return Err(DbErr::Migration(format!(
                    "analytics triggers are not written for {other:?}"
                )));
            }
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        // Existing tickets: every day they count under starts out pending.
        let day = |col: &str| day_expr(manager.get_database_backend(), col);
        let existing = DAY_COLUMNS
            .iter()
            .map(|c| format!("SELECT {} AS d FROM tickets", day(c)))
            .collect::<Vec<_>>()
            .join(" UNION ");
        db.execute_unprepared(&format!(
            "INSERT INTO analytics_changes (day) \
             SELECT d FROM ({existing}) AS days WHERE d IS NOT NULL ORDER BY d"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS analytics_tickets_write ON tickets; \
                     DROP TRIGGER IF EXISTS analytics_tickets_update ON tickets; \
                     DROP FUNCTION IF EXISTS analytics_touch_days();",
                )
                .await?;
            }
            _ => {
                for name in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS analytics_tickets_{name}"
                    ))
                    .await?;
                }
            }
        }
        manager
            .drop_table(Table::drop().table(AnalyticsChanges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AnalyticsDaily::Table).to_owned())
            .await
    }
}

/// The UTC calendar day of a timestamp column, as the backend stores dates.
fn day_expr(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("({column} AT TIME ZONE 'UTC')::date"),
        // Timestamps are stored as RFC 3339 text in UTC (`2026-11-26T10:00:00+00:00`).
        _ => format!("substr({column}, 1, 10)"),
    }
}

/// `SELECT <day of rec.col> AS d UNION …` over the day columns of each record.
fn days_of(backend: DatabaseBackend, records: &[&str]) -> String {
    records
        .iter()
        .flat_map(|rec| {
            DAY_COLUMNS.iter().map(move |col| {
                format!("SELECT {} AS d", day_expr(backend, &format!("{rec}.{col}")))
            })
        })
        .collect::<Vec<_>>()
        .join(" UNION ")
}

fn log_days(backend: DatabaseBackend, records: &[&str]) -> String {
    format!(
        "INSERT INTO analytics_changes (day) SELECT d FROM ({}) AS days WHERE d IS NOT NULL",
        days_of(backend, records)
    )
}

fn postgres_triggers() -> Vec<String> {
    let pg = DatabaseBackend::Postgres;
    let changed = ANALYTIC_COLUMNS
        .iter()
        .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    vec![
        format!(
            "CREATE FUNCTION analytics_touch_days() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF TG_OP = 'INSERT' THEN {new};
               ELSIF TG_OP = 'DELETE' THEN {old};
               ELSE {both};
               END IF;
               RETURN NULL;
             END $$",
            new = log_days(pg, &["NEW"]),
            old = log_days(pg, &["OLD"]),
            both = log_days(pg, &["OLD", "NEW"]),
        ),
        "CREATE TRIGGER analytics_tickets_write AFTER INSERT OR DELETE ON tickets \
         FOR EACH ROW EXECUTE FUNCTION analytics_touch_days()"
            .to_owned(),
        format!(
            "CREATE TRIGGER analytics_tickets_update AFTER UPDATE ON tickets \
             FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION analytics_touch_days()"
        ),
    ]
}

fn sqlite_triggers() -> Vec<String> {
    let lite = DatabaseBackend::Sqlite;
    let changed = ANALYTIC_COLUMNS
        .iter()
        .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    vec![
        format!(
            "CREATE TRIGGER analytics_tickets_insert AFTER INSERT ON tickets BEGIN {}; END",
            log_days(lite, &["NEW"])
        ),
        format!(
            "CREATE TRIGGER analytics_tickets_delete AFTER DELETE ON tickets BEGIN {}; END",
            log_days(lite, &["OLD"])
        ),
        format!(
            "CREATE TRIGGER analytics_tickets_update AFTER UPDATE ON tickets WHEN {changed} \
             BEGIN {}; END",
            log_days(lite, &["OLD", "NEW"])
        ),
    ]
}

#[derive(DeriveIden)]
enum AnalyticsDaily {
    Table,
    Day,
    AgentKey,
    Created,
    Escalated,
    ResponseMet,
    ResponseDecided,
    Resolved,
    ResolutionMet,
    ResolutionDecided,
    Done,
    Breakdown,
    FirstResponseSecs,
    ResolutionSecs,
}

#[derive(DeriveIden)]
enum AnalyticsChanges {
    Table,
    Id,
    Day,
}
