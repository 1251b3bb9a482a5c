//! Seeding the benchmark database: a fresh database, the server's own `migrate` and `seed`
//! (demo users and journeys), then bulk inserts of bench agents, customers, tickets and
//! messages. Accounts go through sea-orm with the server's entities; tickets and messages go
//! through `COPY` on PostgreSQL ([`pg`]) and multi-row inserts on SQLite ([`sqlite`]).

pub mod generate;
mod pg;
mod sqlite;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use server::{
    entity::{Agent, Journey, User, agent, journey, user},
    services::settings,
};
use shared::journey::{JourneyDefinition, ValidJourney};
use uuid::Uuid;

use crate::app::ServerConfig;
use generate::{AgentTally, JourneyRef, People, Plan, Rng, time_ordered_id};

/// Password of every bench agent and customer (one bcrypt hash shared by all of them).
pub const BENCH_PASSWORD: &str = "Bench-pass-2026";

/// The `i`-th bench customer's email (0-based).
pub fn customer_email(i: usize) -> String {
    format!("bench-customer-{i}@helpdesk.local")
}

/// The `i`-th bench agent's email (0-based).
pub fn agent_email(i: usize) -> String {
    format!("bench-agent-{i}@helpdesk.local")
}

/// The database to seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `postgres://…/helpdesk_bench`, created on the server at this base URL.
    Postgres { base_url: String },
    /// A file, replaced on every run.
    Sqlite { path: std::path::PathBuf },
}

pub const PG_DATABASE: &str = "helpdesk_bench";

impl Target {
    pub fn database_url(&self) -> String {
        match self {
            Target::Postgres { base_url } => {
                format!("{}/{PG_DATABASE}", base_url.trim_end_matches('/'))
            }
            Target::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Target::Postgres { .. } => "PostgreSQL",
            Target::Sqlite { .. } => "SQLite",
        }
    }
}

/// How much to seed.
#[derive(Debug, Clone)]
pub struct Size {
    pub tickets: u64,
    pub messages_per_ticket: u32,
    pub customers: usize,
    pub agents: usize,
}

/// What seeding made, for the scenarios and the report.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub database_url: String,
    /// Bench agents' user ids, in email order.
    pub agent_ids: Vec<Uuid>,
    pub customers: usize,
    pub tickets: u64,
    pub messages: u64,
    /// Agents' capacity as seeded.
    pub agent_capacity: i32,
    /// Seeded tickets per status, e.g. `[("closed", 738000), …]`.
    pub by_status: Vec<(String, i64)>,
    /// Steps and their durations.
    pub timings: Vec<(&'static str, Duration)>,
}

impl Seeded {
    pub fn total_time(&self) -> Duration {
        self.timings.iter().map(|(_, d)| *d).sum()
    }
}

const AGENT_CAPACITY: i32 = 20;
/// Tickets generated, encoded and written as one unit.
const CHUNK: u64 = 10_000;
/// Rows per multi-row `INSERT` (PostgreSQL allows 65,535 parameters, SQLite 32,766).
const INSERT_BATCH: usize = 500;

/// Creates the database afresh and fills it.
pub async fn run(target: &Target, size: &Size, server: &ServerConfig) -> anyhow::Result<Seeded> {
    let mut timings = Vec::new();
    let step = Instant::now();
    recreate(target).await?;
    server.run_once("migrate").await?;
    server.run_once("seed").await?;
    timings.push(("fresh database, migrate, demo seed", step.elapsed()));

    let db = Database::connect(target.database_url())
        .await
        .context("connecting to the bench database")?;

    let step = Instant::now();
    let now = Utc::now();
    let hash = bcrypt::hash(BENCH_PASSWORD, server.bcrypt_cost)?;
    let people = insert_people(&db, size, &hash, now).await?;
    timings.push(("bench agents and customers", step.elapsed()));

    let plan = Plan {
        tickets: size.tickets,
        messages_per_ticket: size.messages_per_ticket,
        first_number: first_ticket_number(&db).await?,
        now,
        policies: settings::sla_policies(&db)
            .await
            .map_err(|e| anyhow::anyhow!("reading SLA policies: {e}"))?,
        order_problem: journey_ref(&db, "order-problem").await?,
        account_billing: journey_ref(&db, "account-billing").await?,
        people: people.clone(),
    };

    let step = Instant::now();
    let (messages, tallies) = match target {
        Target::Postgres { .. } => pg::insert_tickets(&db, &plan).await?,
        Target::Sqlite { .. } => sqlite::insert_tickets(&db, &plan).await?,
    };
    timings.push(("tickets and messages", step.elapsed()));

    // The triggers logged every seeded day; fold them into the daily rollups with the server's
    // own job function, as a server that had lived with this data would have long ago.
    let step = Instant::now();
    server::services::analytics::rollup::catch_up(&db)
        .await
        .context("analytics rollups")?;
    timings.push(("analytics rollups", step.elapsed()));

    let step = Instant::now();
    finish(&db, &plan, &tallies).await?;
    if let Target::Postgres { .. } = target {
        // Freshly copied tables have no statistics and no visibility map yet; a database
        // that has lived with this data would have been vacuumed and analysed long ago.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    timings.push(("counters, agent metrics, VACUUM/ANALYZE", step.elapsed()));
    let by_status = status_counts(&db).await?;
    db.close().await?;

    Ok(Seeded {
        database_url: target.database_url(),
        agent_ids: people.agents,
        customers: size.customers,
        tickets: size.tickets,
        messages,
        agent_capacity: AGENT_CAPACITY,
        by_status,
        timings,
    })
}

/// Tickets per status, most first.
async fn status_counts(db: &DatabaseConnection) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT status, COUNT(*) AS n FROM tickets GROUP BY status ORDER BY n DESC",
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String>("", "status")?,
                r.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

/// Drops and creates `helpdesk_bench` (PostgreSQL) or removes the SQLite file.
async fn recreate(target: &Target) -> anyhow::Result<()> {
    match target {
        Target::Postgres { base_url } => {
            let admin = Database::connect(format!("{}/postgres", base_url.trim_end_matches('/')))
                .await
                .context("connecting to PostgreSQL")?;
            admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"
                ))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {PG_DATABASE}"))
                .await?;
            admin.close().await?;
        }
        Target::Sqlite { path } => {
            for suffix in ["", "-wal", "-shm"] {
                let file = format!("{}{suffix}", path.display());
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("removing {file}")),
                }
            }
        }
    }
    Ok(())
}

/// Bench agents (offline, no shift) and customers, all with the same password hash.
async fn insert_people(
    db: &DatabaseConnection,
    size: &Size,
    hash: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<People> {
    let mut rng = Rng::new(7);
    let account = |id: Uuid, email: String, name: String, role: user::UserRole| user::ActiveModel {
        id: Set(id),
        email: Set(email),
        name: Set(name),
        password_hash: Set(hash.to_owned()),
        role: Set(role),
        active: Set(true),
        token_version: Set(0),
        last_login_at: Set(None),
        email_bouncing_at: Set(None),
        time_zone: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let agents: Vec<Uuid> = (0..size.agents)
        .map(|_| time_ordered_id(now, &mut rng))
        .collect();
    let customers: Vec<Uuid> = (0..size.customers)
        .map(|_| time_ordered_id(now, &mut rng))
        .collect();
    let users: Vec<user::ActiveModel> = agents
        .iter()
        .enumerate()
        .map(|(i, id)| {
            account(
                *id,
                agent_email(i),
                format!("Bench Agent {i}"),
                user::UserRole::Agent,
            )
        })
        .chain(customers.iter().enumerate().map(|(i, id)| {
            account(
                *id,
                customer_email(i),
                format!("Bench Customer {i}"),
                user::UserRole::Customer,
            )
        }))
        .collect();
    for batch in users.chunks(INSERT_BATCH) {
        User::insert_many(batch.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    let profiles: Vec<agent::ActiveModel> = agents
        .iter()
        .map(|id| {
            let mut p = agent::Model::new_profile(*id, now);
            p.capacity = Set(AGENT_CAPACITY);
            p
        })
        .collect();
    for batch in profiles.chunks(INSERT_BATCH) {
        Agent::insert_many(batch.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(People { customers, agents })
}

/// The next ticket number the server would hand out: above the counter (SQLite, and the
/// starting point) and above every number in use (PostgreSQL numbers from a sequence).
async fn first_ticket_number(db: &DatabaseConnection) -> anyhow::Result<i64> {
    let value = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await?
                .context("the ticket_number counter is missing")?;
            anyhow::Ok(row.try_get::<i64>("", "value")?)
        }
    };
    let counter = value("SELECT value FROM counters WHERE name = 'ticket_number'").await?;
    let used = value("SELECT COALESCE(MAX(number), 0) AS value FROM tickets").await?;
    Ok(counter.max(used) + 1)
}

async fn journey_ref(db: &DatabaseConnection, slug: &str) -> anyhow::Result<JourneyRef> {
    let j = Journey::find()
        .filter(journey::Column::Slug.eq(slug))
        .one(db)
        .await?
        .with_context(|| format!("demo journey `{slug}` missing after `helpdesk seed`"))?;
    let version = journey::version::Entity::find_by_id((j.id, j.current_version))
        .one(db)
        .await?
        .with_context(|| format!("journey `{slug}` has no version {}", j.current_version))?;
    let def: JourneyDefinition = serde_json::from_value(version.definition)?;
    let journey = ValidJourney::new(def)
        .map_err(|p| anyhow::anyhow!("journey `{slug}` is not valid: {p:?}"))?;
    Ok(JourneyRef {
        id: j.id,
        version: j.current_version,
        journey,
    })
}

/// Moves the ticket counter past the inserted numbers and writes the agents' running metrics.
async fn finish(
    db: &DatabaseConnection,
    plan: &Plan,
    tallies: &[AgentTally],
) -> anyhow::Result<()> {
    let last = plan.first_number + plan.tickets as i64 - 1;
    server::services::skip_ticket_numbers_through(db, last)
        .await
        .map_err(|e| anyhow::anyhow!("moving the ticket numbers on: {e}"))?;
    for (id, t) in plan.people.agents.iter().zip(tallies) {
        let Some(profile) = Agent::find_by_id(*id).one(db).await? else {
            bail!("agent profile {id} vanished");
        };
        let mut a: agent::ActiveModel = profile.into();
        a.open_tickets = Set(t.open);
        a.tickets_resolved = Set(t.resolved);
        a.first_response_total_secs = Set(t.first_response_total_secs);
        a.first_response_count = Set(t.first_response_count);
        a.resolution_total_secs = Set(t.resolution_total_secs);
        a.resolution_count = Set(t.resolution_count);
        a.sla_met_count = Set(t.sla_met);
        a.sla_breached_count = Set(t.sla_breached);
        a.update(db).await?;
    }
    Ok(())
}

/// Index ranges of the chunks of `tickets`.
fn chunks(tickets: u64) -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..tickets.div_ceil(CHUNK)).map(move |k| k * CHUNK..((k + 1) * CHUNK).min(tickets))
}

/// Reports seeding progress on stderr about every tenth of the way.
struct Progress {
    total: u64,
    done: std::sync::atomic::AtomicU64,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress {
            total,
            done: 0.into(),
            started: Instant::now(),
        }
    }

    fn tick(&self, tickets: u64) {
        use std::sync::atomic::Ordering;
        let before = self.done.fetch_add(tickets, Ordering::Relaxed);
        let after = before + tickets;
        let step = (self.total / 10).max(1);
        if before / step != after / step || after == self.total {
            eprintln!(
                "  {after} / {} tickets written ({:.0} s)",
                self.total,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// Adds a chunk's tallies into the totals.
fn add_tallies(totals: &mut [AgentTally], part: &[AgentTally]) {
    for (t, p) in totals.iter_mut().zip(part) {
        t.add(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use server::{entity::ticket, services::seed::DEMO_JOURNEYS};
    use shared::sla::SlaPolicies;

    fn demo(slug: &str) -> JourneyRef {
        let (_, _, _, _, json) = DEMO_JOURNEYS
            .iter()
            .find(|j| j.0 == slug)
            .expect("demo journey");
        let def: JourneyDefinition = serde_json::from_str(json).expect("json");
        JourneyRef {
            id: Uuid::new_v4(),
            version: 1,
            journey: ValidJourney::new(def).expect("valid"),
        }
    }

    fn plan(tickets: u64) -> Plan {
        let mut rng = Rng::new(1);
        let now = Utc::now();
        Plan {
            tickets,
            messages_per_ticket: 5,
            first_number: 1001,
            now,
            policies: SlaPolicies::default(),
            order_problem: demo("order-problem"),
            account_billing: demo("account-billing"),
            people: People {
                customers: (0..100).map(|_| time_ordered_id(now, &mut rng)).collect(),
                agents: (0..5).map(|_| time_ordered_id(now, &mut rng)).collect(),
            },
        }
    }

    #[test]
    fn chunks_cover_every_ticket_once() {
        let ranges: Vec<_> = chunks(25_001).collect();
        assert_eq!(ranges.first(), Some(&(0..10_000)));
        assert_eq!(ranges.last(), Some(&(20_000..25_001)));
        assert_eq!(ranges.iter().map(|r| r.end - r.start).sum::<u64>(), 25_001);
        assert_eq!(chunks(0).count(), 0);
    }

    #[test]
    fn generated_tickets_are_consistent() {
        let p = plan(5_000);
        let mut journeys = 0;
        let mut by_status = std::collections::HashMap::new();
        let mut escalated = 0;
        for i in 0..p.tickets {
            let g = p.ticket(i);
            let t = &g.ticket;
            *by_status.entry(format!("{:?}", t.status)).or_insert(0) += 1;
            journeys += usize::from(t.journey_id.is_some());
            escalated += usize::from(t.escalated);
            assert_eq!(t.number, 1001 + i as i64);
            assert!(t.created_at <= p.now && t.updated_at <= p.now, "{t:?}");
            assert!(t.response_due_at.is_some() && t.resolution_due_at.is_some());
            assert_eq!(g.messages.len(), 5);
            assert!(g.messages.iter().all(|m| m.created_at >= t.created_at
                && m.created_at <= p.now
                && m.ticket_id == t.id));
            assert_eq!(g.messages[0].author_id, t.customer_id);
            match t.status {
                ticket::Status::New => {
                    assert!(t.assigned_agent_id.is_none() && t.first_response_at.is_none());
                    assert!(t.sla_due_at.is_some());
                }
                ticket::Status::Open => {
                    assert!(t.assigned_agent_id.is_some() && t.resolved_at.is_none());
                    assert!(t.sla_due_at.is_some());
                }
                ticket::Status::Pending => {
                    assert!(t.sla_paused_at.is_some() && t.first_response_at.is_some());
                    assert!(t.sla_due_at.is_none());
                }
                ticket::Status::Resolved | ticket::Status::Closed => {
                    let fr = t.first_response_at.expect("answered");
                    let done = t.resolved_at.expect("resolved");
                    assert!(t.created_at <= fr && fr < done);
                    assert_eq!(
                        t.closed_at.is_some(),
                        t.status == ticket::Status::Closed,
                        "{t:?}"
                    );
                    assert!(t.sla_due_at.is_none());
                    // The first agent message is the first response.
                    assert_eq!(g.messages[1].created_at, fr);
                    assert_eq!(Some(g.messages[1].author_id), t.assigned_agent_id);
                }
            }
            if t.escalated {
                assert!(t.response_breached || t.resolution_breached);
                assert!(t.escalated_at.is_some());
            }
        }
        // Most tickets come from journeys, most are done, some breached; a few are open.
        assert!(journeys > 3_000, "{journeys}");
        let done = by_status.get("Closed").copied().unwrap_or(0)
            + by_status.get("Resolved").copied().unwrap_or(0);
        assert!(done > 4_500, "{by_status:?}");
        assert!(
            by_status.get("Open").copied().unwrap_or(0) > 10,
            "{by_status:?}"
        );
        assert!(escalated > 100 && escalated < 2_500, "{escalated}");
    }

    #[test]
    fn generation_is_repeatable() {
        let p = plan(100);
        let a = p.ticket(42);
        let b = p.ticket(42);
        assert_eq!(a.ticket, b.ticket);
        assert_eq!(a.messages, b.messages);
    }
}
