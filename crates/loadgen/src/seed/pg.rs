//! Tickets and messages into PostgreSQL with `COPY … FROM STDIN` (text format), one chunk of
//! tickets and then its messages per statement, two chunks in flight at once.

use std::{fmt::Write as _, sync::Arc};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use server::entity::{ticket, ticket_message};
use shared::TicketStatus;
use uuid::Uuid;

use super::{
    Progress, add_tallies, chunks,
    generate::{AgentTally, Plan},
};

/// Chunks written concurrently (each holds one connection and one PostgreSQL backend).
const WORKERS: usize = 2;

const TICKET_COLUMNS: &str = "id, number, subject, description, status, priority, category, \
    customer_id, assigned_agent_id, assigned_at, journey_id, journey_version, answers, \
    transcript, answers_text, response_due_at, resolution_due_at, first_response_at, resolved_at, \
    closed_at, sla_paused_at, sla_paused_secs, response_breached, resolution_breached, \
    escalated, escalated_at, escalation_level, created_at, updated_at, sla_due_at, \
    sla_warning_at, sla_critical_at";

const MESSAGE_COLUMNS: &str = "id, ticket_id, author_id, body, internal, created_at, updated_at";

/// The full-text indexes: dropped while `COPY` loads and built once afterwards, which is
/// much faster than maintaining a GIN index row by row.
const DEFERRED_INDEXES: &[&str] = &["idx_tickets_search", "idx_ticket_messages_search"];

/// Drops the deferred indexes; returns their definitions as the migrations made them.
async fn drop_deferred_indexes(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let names = DEFERRED_INDEXES
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ({names})"),
        ))
        .await?;
    let mut definitions = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "indexname")?;
        definitions.push(row.try_get::<String>("", "indexdef")?);
        db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
    }
    Ok(definitions)
}

/// Writes every ticket of the plan; returns the number of messages and the agents' tallies.
pub async fn insert_tickets(
    db: &DatabaseConnection,
    plan: &Plan,
) -> anyhow::Result<(u64, Vec<AgentTally>)> {
    let deferred = drop_deferred_indexes(db).await?;
    let copied = copy_tickets(db, plan).await?;
    eprintln!("building the full-text indexes…");
    for definition in deferred {
        db.execute_unprepared(&definition)
            .await
            .with_context(|| format!("rebuilding: {definition}"))?;
    }
    Ok(copied)
}

async fn copy_tickets(
    db: &DatabaseConnection,
    plan: &Plan,
) -> anyhow::Result<(u64, Vec<AgentTally>)> {
    let pool = db.get_postgres_connection_pool().clone();
    let plan = Arc::new(plan.clone());
    let ranges: Vec<_> = chunks(plan.tickets).collect();
    let progress = Arc::new(Progress::new(plan.tickets));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let mine: Vec<_> = ranges.iter().skip(w).step_by(WORKERS).cloned().collect();
        let pool = pool.clone();
        let plan = plan.clone();
        let progress = progress.clone();
        tasks.spawn(async move {
            let mut messages = 0u64;
            let mut tallies = vec![AgentTally::default(); plan.people.agents.len()];
            for range in mine {
                let p = plan.clone();
                let encoded = tokio::task::spawn_blocking(move || encode(&p, range)).await?;
                let mut conn = pool.acquire().await?;
                let mut copy = conn
                    .copy_in_raw(&format!("COPY tickets ({TICKET_COLUMNS}) FROM STDIN"))
                    .await?;
                copy.send(encoded.tickets.as_bytes()).await?;
                copy.finish().await.context("COPY tickets")?;
                let mut copy = conn
                    .copy_in_raw(&format!(
                        "COPY ticket_messages ({MESSAGE_COLUMNS}) FROM STDIN"
                    ))
                    .await?;
                copy.send(encoded.messages.as_bytes()).await?;
                copy.finish().await.context("COPY ticket_messages")?;
                messages += encoded.message_count;
                add_tallies(&mut tallies, &encoded.tallies);
                progress.tick(encoded.tickets_in_chunk);
            }
            anyhow::Ok((messages, tallies))
        });
    }
    let mut messages = 0;
    let mut tallies = vec![AgentTally::default(); plan.people.agents.len()];
    while let Some(done) = tasks.join_next().await {
        let (m, t) = done??;
        messages += m;
        add_tallies(&mut tallies, &t);
    }
    Ok((messages, tallies))
}

/// One chunk in `COPY` text format.
struct Encoded {
    tickets_in_chunk: u64,
    tickets: String,
    messages: String,
    message_count: u64,
    tallies: Vec<AgentTally>,
}

fn encode(plan: &Plan, range: std::ops::Range<u64>) -> Encoded {
    let n = (range.end - range.start) as usize;
    let mut out = Encoded {
        tickets_in_chunk: n as u64,
        tickets: String::with_capacity(n * 1500),
        messages: String::with_capacity(n * plan.messages_per_ticket as usize * 200),
        message_count: 0,
        tallies: vec![AgentTally::default(); plan.people.agents.len()],
    };
    for i in range {
        let g = plan.ticket(i);
        ticket_row(&mut out.tickets, &g.ticket);
        for m in &g.messages {
            message_row(&mut out.messages, m);
        }
        out.message_count += g.messages.len() as u64;
        if let Some((agent, tally)) = g.agent {
            out.tallies[agent].add(&tally);
        }
    }
    out
}

/// A row builder for the text format: tab-separated, `\N` for NULL, one line per row.
struct Row<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Row<'a> {
    fn new(out: &'a mut String) -> Self {
        Row { out, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
    }

    fn null(&mut self) -> &mut Self {
        self.sep();
        self.out.push_str("\\N");
        self
    }

    fn raw(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }

    fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        escape_into(self.out, v);
        self
    }

    fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn uuid(&mut self, v: Option<Uuid>) -> &mut Self {
        match v {
            Some(v) => self.raw(v.hyphenated()),
            None => self.null(),
        }
    }

    fn time(&mut self, v: Option<DateTime<Utc>>) -> &mut Self {
        match v {
            // timestamptz input; microseconds are what PostgreSQL keeps.
            Some(v) => self.raw(v.format("%Y-%m-%d %H:%M:%S%.6f+00")),
            None => self.null(),
        }
    }

    fn bool(&mut self, v: bool) -> &mut Self {
        self.raw(if v { 't' } else { 'f' })
    }

    fn json(&mut self, v: Option<&serde_json::Value>) -> &mut Self {
        match v {
            Some(v) => {
                let s = v.to_string();
                self.text(&s)
            }
            None => self.null(),
        }
    }

    fn end(&mut self) {
        self.out.push('\n');
    }
}

/// Backslash, tab, newline and carriage return are the characters the text format escapes.
fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn ticket_row(out: &mut String, t: &ticket::Model) {
    let status: TicketStatus = t.status.into();
    Row::new(out)
        .uuid(Some(t.id))
        .raw(t.number)
        .text(&t.subject)
        .text(&t.description)
        .raw(status.as_str())
        .raw(t.priority_rank)
        .opt_text(t.category.as_deref())
        .uuid(Some(t.customer_id))
        .uuid(t.assigned_agent_id)
        .time(t.assigned_at)
        .uuid(t.journey_id)
        .raw(
            t.journey_version
                .map_or("\\N".to_owned(), |v| v.to_string()),
        )
        .json(t.answers.as_ref())
        .json(t.transcript.as_ref())
        .opt_text(t.answers_text.as_deref())
        .time(t.response_due_at)
        .time(t.resolution_due_at)
        .time(t.first_response_at)
        .time(t.resolved_at)
        .time(t.closed_at)
        .time(t.sla_paused_at)
        .raw(t.sla_paused_secs)
        .bool(t.response_breached)
        .bool(t.resolution_breached)
        .bool(t.escalated)
        .time(t.escalated_at)
        .raw(t.escalation_level)
        .time(Some(t.created_at))
        .time(Some(t.updated_at))
        .time(t.sla_due_at)
        .time(t.sla_warning_at)
        .time(t.sla_critical_at)
        .end();
}

fn message_row(out: &mut String, m: &ticket_message::Model) {
    Row::new(out)
        .uuid(Some(m.id))
        .uuid(Some(m.ticket_id))
        .uuid(Some(m.author_id))
        .text(&m.body)
        .bool(m.internal)
        .time(Some(m.created_at))
        .time(Some(m.updated_at))
        .end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_escapes_and_nulls() {
        let mut s = String::new();
        Row::new(&mut s)
            .text("a\tb\\c\nd\re")
            .null()
            .bool(true)
            .time(DateTime::<Utc>::from_timestamp(1_700_000_000, 1_500))
            .end();
        assert_eq!(
            s,
            "a\\tb\\\\c\\nd\\re\t\\N\tt\t2023-11-14 22:13:20.000001+00\n"
        );
    }
}
