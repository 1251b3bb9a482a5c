//! What a set of tickets adds up to, for one assigned agent: the unit that rollups store and
//! that the overview sums. Computed live from `tickets` rows here, so that stored and live
//! numbers come from the same code.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use shared::{Priority, TicketStatus};
use uuid::Uuid;

use crate::entity::{Ticket, ticket};

/// Tallies by agent key: the assigned agent, or the nil UUID for unassigned tickets.
pub type Tallies = HashMap<Uuid, Tally>;

/// Counts of the tickets created in a period, by status, priority, category and journey id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    #[serde(default)]
    pub status: BTreeMap<String, u64>,
    #[serde(default)]
    pub priority: BTreeMap<String, u64>,
    #[serde(default)]
    pub category: BTreeMap<String, u64>,
    /// Journey id, or `none`.
    #[serde(default)]
    pub journey: BTreeMap<String, u64>,
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_insert(0) += n;
    }
}

impl Breakdown {
    fn merge(&mut self, other: &Breakdown) {
        add_counts(&mut self.status, &other.status);
        add_counts(&mut self.priority, &other.priority);
        add_counts(&mut self.category, &other.category);
        add_counts(&mut self.journey, &other.journey);
    }
}

/// Facts about the tickets created, resolved and finished (resolved or closed) in a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Created in the period.
    pub created: u64,
    pub escalated: u64,
    pub breakdown: Breakdown,
    pub response_met: u64,
    pub response_decided: u64,
    /// Seconds to the first response of those created (answered ones only).
    pub first_response: Vec<u32>,
    /// Resolved in the period.
    pub resolved: u64,
    pub resolution_met: u64,
    pub resolution_decided: u64,
    /// Seconds to resolution of those resolved, paused time excluded.
    pub resolution: Vec<u32>,
    /// Stopped being open (resolved or closed, whichever came first) in the period.
    pub done: u64,
}

impl Tally {
    pub fn merge(&mut self, other: &Tally) {
        self.created += other.created;
        self.escalated += other.escalated;
        self.breakdown.merge(&other.breakdown);
        self.response_met += other.response_met;
        self.response_decided += other.response_decided;
        self.first_response.extend_from_slice(&other.first_response);
        self.resolved += other.resolved;
        self.resolution_met += other.resolution_met;
        self.resolution_decided += other.resolution_decided;
        self.resolution.extend_from_slice(&other.resolution);
        self.done += other.done;
    }

    fn add_created(&mut self, r: &Row) {
        self.created += 1;
        if r.escalated {
            self.escalated += 1;
        }
        let b = &mut self.breakdown;
        *b.status
            .entry(TicketStatus::from(r.status).to_string())
            .or_insert(0) += 1;
        let priority = Priority::from_rank(r.priority).unwrap_or(Priority::Medium);
        *b.priority.entry(priority.to_string()).or_insert(0) += 1;
        *b.category
            .entry(r.category.clone().unwrap_or_else(|| NONE.to_owned()))
            .or_insert(0) += 1;
        *b.journey
            .entry(
                r.journey_id
                    .map_or_else(|| NONE.to_owned(), |id| id.to_string()),
            )
            .or_insert(0) += 1;
        if let Some(met) = r.response_met() {
            self.response_decided += 1;
            self.response_met += u64::from(met);
        }
        if let Some(secs) = r.first_response_secs() {
            self.first_response.push(secs);
        }
    }

    fn add_resolved(&mut self, r: &Row) {
        self.resolved += 1;
        if let Some(met) = r.resolution_met() {
            self.resolution_decided += 1;
            self.resolution_met += u64::from(met);
        }
        if let Some(secs) = r.resolution_secs() {
            self.resolution.push(secs);
        }
    }
}

/// The key of breakdown values that are not set.
pub const NONE: &str = "none";

#[derive(Debug, Clone, FromQueryResult)]
struct Row {
    status: ticket::Status,
    priority: i16,
    category: Option<String>,
    journey_id: Option<Uuid>,
    assigned_agent_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    response_breached: bool,
    resolution_breached: bool,
    escalated: bool,
    sla_paused_secs: i64,
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>, minus: i64) -> u32 {
    u32::try_from(((to - from).num_seconds() - minus).max(0)).unwrap_or(u32::MAX)
}

impl Row {
    fn agent_key(&self) -> Uuid {
        self.assigned_agent_id.unwrap_or(Uuid::nil())
    }

    /// When the ticket stopped being open (resolved, or closed without resolution).
    fn done_at(&self) -> Option<DateTime<Utc>> {
        match (self.resolved_at, self.closed_at) {
            (Some(r), Some(c)) => Some(r.min(c)),
            (r, c) => r.or(c),
        }
    }

    fn first_response_secs(&self) -> Option<u32> {
        self.first_response_at.map(|f| secs(self.created_at, f, 0))
    }

    /// Creation to resolution, time waiting on the customer excluded.
    fn resolution_secs(&self) -> Option<u32> {
        self.resolved_at
            .map(|r| secs(self.created_at, r, self.sla_paused_secs))
    }

    /// `Some(met)` once the response target is decided.
    fn response_met(&self) -> Option<bool> {
        match (self.first_response_at, self.response_due_at) {
            (Some(f), Some(due)) => Some(!self.response_breached && f <= due),
            (None, _) if self.response_breached => Some(false),
            _ => None,
        }
    }

    /// `Some(met)` for a resolved ticket.
    fn resolution_met(&self) -> Option<bool> {
        let resolved = self.resolved_at?;
        Some(!self.resolution_breached && self.resolution_due_at.is_none_or(|d| resolved <= d))
    }
}

const COLUMNS: [ticket::Column; 15] = [
    ticket::Column::Status,
    ticket::Column::PriorityRank,
    ticket::Column::Category,
    ticket::Column::JourneyId,
    ticket::Column::AssignedAgentId,
    ticket::Column::CreatedAt,
    ticket::Column::FirstResponseAt,
    ticket::Column::ResolvedAt,
    ticket::Column::ClosedAt,
    ticket::Column::ResponseDueAt,
    ticket::Column::ResolutionDueAt,
    ticket::Column::ResponseBreached,
    ticket::Column::ResolutionBreached,
    ticket::Column::Escalated,
    ticket::Column::SlaPausedSecs,
];

async fn rows<C: ConnectionTrait>(db: &C, cond: Condition) -> Result<Vec<Row>, DbErr> {
    Ticket::find()
        .select_only()
        .columns(COLUMNS)
        .filter(cond)
        .into_model::<Row>()
        .all(db)
        .await
}

/// A half-open period `[start, end)`.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

/// Tallies of the tickets in `scope` for each of `windows`, which must be consecutive (each
/// starts where the previous one ends). Two range reads cover all of them.
pub async fn live<C: ConnectionTrait>(
    db: &C,
    scope: &Condition,
    windows: &[Window],
) -> Result<Vec<Tallies>, DbErr> {
    let mut out = vec![Tallies::new(); windows.len()];
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok(out);
    };
    let (start, end) = (first.0, last.1);
    // The window holding `t`, if any.
    let slot = |t: DateTime<Utc>| {
        if t < start || t >= end {
            return None;
        }
        Some(windows.partition_point(|w| w.1 <= t))
    };

    let created = rows(
        db,
        scope
            .clone()
            .add(ticket::Column::CreatedAt.gte(start))
            .add(ticket::Column::CreatedAt.lt(end)),
    )
    .await?;
    for r in &created {
        if let Some(i) = slot(r.created_at) {
            out[i].entry(r.agent_key()).or_default().add_created(r);
        }
    }

    let finished = rows(
        db,
        scope.clone().add(
            Condition::any()
                .add(
                    Condition::all()
                        .add(ticket::Column::ResolvedAt.gte(start))
                        .add(ticket::Column::ResolvedAt.lt(end)),
                )
                .add(
                    Condition::all()
                        .add(ticket::Column::ClosedAt.gte(start))
                        .add(ticket::Column::ClosedAt.lt(end)),
                ),
        ),
    )
    .await?;
    for r in &finished {
        if let Some(i) = r.resolved_at.and_then(slot) {
            out[i].entry(r.agent_key()).or_default().add_resolved(r);
        }
        if let Some(i) = r.done_at().and_then(slot) {
            out[i].entry(r.agent_key()).or_default().done += 1;
        }
    }
    Ok(out)
}

/// Everything in `tallies`, summed.
pub fn total<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Tally {
    tallies.into_iter().fold(Tally::default(), |mut sum, t| {
        sum.merge(t);
        sum
    })
}
