//! Full-text search over tickets and their conversation (`services::search`).
//!
//! - `tickets.answers_text`: the journey's answers as plain text (the `display` of every
//!   transcript entry, space-separated), written with the ticket, so both databases index it
//!   like any other text column.
//! - PostgreSQL: a stored generated `tickets.search_vector` (subject weighted `A`,
//!   description `B`, answers `C`) with a GIN index, and a GIN expression index on
//!   `to_tsvector('simple', ticket_messages.body)`. The text search configuration is always
//!   named (`'simple'::regconfig`): an expression without it depends on the session's
//!   `default_text_search_config`, is not immutable, and no index could serve it.
//! - SQLite: FTS5 tables kept in step by triggers: `ticket_search` reads its text from
//!   `tickets` (external content, keyed by the ticket number, which never changes);
//!   `message_search` is contentless, keyed by `message_search_keys.key`, a stable integer per
//!   message (a table's implicit rowid may change on `VACUUM`, which backups run).

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_UP: &[&str] = &[
    "ALTER TABLE tickets ADD COLUMN answers_text TEXT",
    "UPDATE tickets SET answers_text = \
       (SELECT string_agg(e->>'display', ' ') FROM jsonb_array_elements(transcript) e) \
     WHERE jsonb_typeof(transcript) = 'array'",
    "ALTER TABLE tickets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (\
       setweight(to_tsvector('simple'::regconfig, subject), 'A') || \
       setweight(to_tsvector('simple'::regconfig, description), 'B') || \
       setweight(to_tsvector('simple'::regconfig, coalesce(answers_text, '')), 'C')) STORED",
    "CREATE INDEX idx_tickets_search ON tickets USING GIN (search_vector)",
    "CREATE INDEX idx_ticket_messages_search ON ticket_messages \
       USING GIN (to_tsvector('simple'::regconfig, body))",
];

const PG_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_ticket_messages_search",
    "DROP INDEX IF EXISTS idx_tickets_search",
    "ALTER TABLE tickets DROP COLUMN IF EXISTS search_vector",
    "ALTER TABLE tickets DROP COLUMN IF EXISTS answers_text",
];

const SQLITE_UP: &[&str] = &[
    "ALTER TABLE tickets ADD COLUMN answers_text TEXT",
    "UPDATE tickets SET answers_text = \
       (SELECT group_concat(json_extract(value, '$.display'), ' ') FROM json_each(tickets.transcript)) \
     WHERE json_valid(transcript) AND json_type(transcript) = 'array'",
    "CREATE VIRTUAL TABLE ticket_search USING fts5(\
       subject, description, answers_text, \
       content = 'tickets', content_rowid = 'number', \
       tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO ticket_search(ticket_search) VALUES ('rebuild')",
    "CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN \
       INSERT INTO ticket_search(rowid, subject, description, answers_text) \
       VALUES (new.number, new.subject, new.description, new.answers_text); \
     END",
    // Every update writes every column (`reset_all`): re-index only when the text changed.
    "CREATE TRIGGER tickets_search_update AFTER UPDATE ON tickets \
     WHEN old.number IS NOT new.number OR old.subject IS NOT new.subject \
       OR old.description IS NOT new.description OR old.answers_text IS NOT new.answers_text \
     BEGIN \
       INSERT INTO ticket_search(ticket_search, rowid, subject, description, answers_text) \
       VALUES ('delete', old.number, old.subject, old.description, old.answers_text); \
       INSERT INTO ticket_search(rowid, subject, description, answers_text) \
       VALUES (new.number, new.subject, new.description, new.answers_text); \
     END",
    "CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN \
       INSERT INTO ticket_search(ticket_search, rowid, subject, description, answers_text) \
       VALUES ('delete', old.number, old.subject, old.description, old.answers_text); \
     END",
    "CREATE TABLE message_search_keys (\
       key INTEGER PRIMARY KEY, \
       message_id NOT NULL UNIQUE REFERENCES ticket_messages (id) ON DELETE CASCADE)",
    "CREATE VIRTUAL TABLE message_search USING fts5(\
       body, content = '', contentless_delete = 1, \
       tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO message_search_keys (message_id) SELECT id FROM ticket_messages",
    "INSERT INTO message_search (rowid, body) \
       SELECT k.key, m.body FROM message_search_keys k JOIN ticket_messages m ON m.id = k.message_id",
    "CREATE TRIGGER ticket_messages_search_insert AFTER INSERT ON ticket_messages BEGIN \
       INSERT INTO message_search_keys (message_id) VALUES (new.id); \
       INSERT INTO message_search (rowid, body) \
         SELECT key, new.body FROM message_search_keys WHERE message_id = new.id; \
     END",
    "CREATE TRIGGER ticket_messages_search_update AFTER UPDATE ON ticket_messages \
     WHEN old.body IS NOT new.body BEGIN \
       DELETE FROM message_search \
         WHERE rowid = (SELECT key FROM message_search_keys WHERE message_id = old.id); \
       INSERT INTO message_search (rowid, body) \
         SELECT key, new.body FROM message_search_keys WHERE message_id = old.id; \
     END",
    "CREATE TRIGGER ticket_messages_search_delete BEFORE DELETE ON ticket_messages BEGIN \
       DELETE FROM message_search \
         WHERE rowid = (SELECT key FROM message_search_keys WHERE message_id = old.id); \
       DELETE FROM message_search_keys WHERE message_id = old.id; \
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS ticket_messages_search_delete",
    "DROP TRIGGER IF EXISTS ticket_messages_search_update",
    "DROP TRIGGER IF EXISTS ticket_messages_search_insert",
    "DROP TABLE IF EXISTS message_search",
    "DROP TABLE IF EXISTS message_search_keys",
    "DROP TRIGGER IF EXISTS tickets_search_delete",
    "DROP TRIGGER IF EXISTS tickets_search_update",
    "DROP TRIGGER IF EXISTS tickets_search_insert",
    "DROP TABLE IF EXISTS ticket_search",
    "ALTER TABLE tickets DROP COLUMN answers_text",
];

async fn run(manager: &SchemaManager<'_>, pg: &[&str], sqlite: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements = match manager.get_database_backend() {
        DatabaseBackend::Postgres => pg,
        DatabaseBackend::Sqlite => sqlite,
        other => {
            return Err(DbErr::Migration(format!(
                "full-text search is not available on {other:?}"
            )));
        }
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, PG_UP, SQLITE_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, PG_DOWN, SQLITE_DOWN).await
    }
}
