//! Events written without a global lock: a log row id taken when the event is written, and its
//! place in the stream (`seq`) given after commit.
//!
//! Until now every writing transaction took the `event_seq` counter row for its events' `seq`
//! and held that lock through its commit, so all writers ran one at a time. Now:
//!
//! - `events.seq` is renamed `id`: the log row's key, from the table's own sequence (no lock;
//!   a rolled-back write leaves a gap). `event_rooms.seq` becomes `event_id`.
//! - a new nullable `events.seq` is the position in the stream clients see. It is empty when
//!   the event is written; on PostgreSQL `helpdesk_place_events(n)` places committed events,
//!   oldest row id first, after the highest `seq` so far. One placement runs at a time (an
//!   advisory lock), it sees everything committed before it started, and its numbers become
//!   visible together when it commits, so what any reader sees of `seq` is a gap-free prefix
//!   that never changes afterwards. It ends with a `NOTIFY helpdesk_events` that wakes every
//!   server instance.
//! - SQLite has one writer at a time anyway: there an event takes its `seq` from the counter
//!   row inside the writing transaction, as before.
//!
//! Existing events keep their numbers (`seq` = the old `seq`).

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Places committed events on PostgreSQL; returns how many it placed.
const PLACE_FUNCTION: &str = r#"
CREATE FUNCTION helpdesk_place_events(batch integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  base bigint;
  placed bigint;
BEGIN
  -- Nothing to do is the common case: answer it without locking anything.
  IF NOT EXISTS (SELECT 1 FROM events WHERE seq IS NULL) THEN
    RETURN 0;
  END IF;
  -- One placement at a time. Each statement below takes a fresh snapshot (READ COMMITTED),
  -- so it sees every placement committed before this one got the lock.
  PERFORM pg_advisory_xact_lock(79460290609155);
  SELECT value INTO base FROM counters WHERE name = 'event_seq';
  WITH unplaced AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n
    FROM (SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT batch) AS oldest
  )
  UPDATE events SET seq = base + unplaced.n FROM unplaced WHERE events.id = unplaced.id;
  GET DIAGNOSTICS placed = ROW_COUNT;
  IF placed > 0 THEN
    UPDATE counters SET value = base + placed WHERE name = 'event_seq';
    PERFORM pg_notify('helpdesk_events', (base + placed)::text);
  END IF;
  RETURN placed;
END
$$"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE events RENAME COLUMN seq TO id")
            .await?;
        db.execute_unprepared("ALTER TABLE event_rooms RENAME COLUMN seq TO event_id")
            .await?;
        db.execute_unprepared("ALTER TABLE events ADD COLUMN seq BIGINT NULL")
            .await?;
        db.execute_unprepared("UPDATE events SET seq = id").await?;
        db.execute_unprepared("CREATE UNIQUE INDEX idx_events_seq ON events (seq)")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            // The id sequence was never used while `seq` was set by hand: start it after the
            // ids (and numbers) already taken.
            db.execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('events', 'id'), GREATEST( \
                   (SELECT COALESCE(MAX(id), 0) FROM events), \
                   (SELECT value FROM counters WHERE name = 'event_seq'), 1))",
            )
            .await?;
            db.execute_unprepared(
                "CREATE INDEX idx_events_unplaced ON events (id) WHERE seq IS NULL",
            )
            .await?;
            db.execute_unprepared(PLACE_FUNCTION).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("SELECT helpdesk_place_events(2147483647)")
                .await?;
            db.execute_unprepared("DROP FUNCTION helpdesk_place_events(integer)")
                .await?;
            db.execute_unprepared("DROP INDEX idx_events_unplaced")
                .await?;
        }
        // Back to one number per event, its place in the stream: the room rows are set aside
        // while the events are renumbered.
        db.execute_unprepared(
            "CREATE TEMPORARY TABLE event_rooms_down AS SELECT event_rooms.room, events.seq \
             FROM event_rooms JOIN events ON events.id = event_rooms.event_id",
        )
        .await?;
        db.execute_unprepared("DELETE FROM event_rooms").await?;
        db.execute_unprepared("UPDATE events SET id = -seq").await?;
        db.execute_unprepared("UPDATE events SET id = seq").await?;
        db.execute_unprepared("DROP INDEX idx_events_seq").await?;
        db.execute_unprepared("ALTER TABLE events DROP COLUMN seq")
            .await?;
        db.execute_unprepared("ALTER TABLE event_rooms RENAME COLUMN event_id TO seq")
            .await?;
        db.execute_unprepared("ALTER TABLE events RENAME COLUMN id TO seq")
            .await?;
        db.execute_unprepared(
            "INSERT INTO event_rooms (room, seq) SELECT room, seq FROM event_rooms_down",
        )
        .await?;
        db.execute_unprepared("DROP TABLE event_rooms_down").await?;
        Ok(())
    }
}
