//! Analytics: one pass over the tickets that matter for a date range, aggregated in Rust.
//!
//! Three narrow, index-backed reads: tickets created in the range (`created_at` index), tickets
//! resolved in the range (`resolved_at` index), and tickets that were still open at some point
//! of the range (for the daily backlog). Everything else is computed from those rows, so the
//! same code gives the same numbers on SQLite and PostgreSQL.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use shared::{
    ErrorCode, Priority, Role, TicketStatus,
    analytics::{
        AgentRow, AnalyticsOverview, AnalyticsQuery, CountBy, DayPoint, SlaCompliance,
        duration_stats, percent,
    },
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Journey, Ticket, journey, ticket},
    error::ApiError,
    services::agents,
};

/// Longest range one overview may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

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

impl Row {
    /// When the ticket stopped being open (resolved, or closed without resolution).
    fn done_at(&self) -> Option<DateTime<Utc>> {
        match (self.resolved_at, self.closed_at) {
            (Some(r), Some(c)) => Some(r.min(c)),
            (r, c) => r.or(c),
        }
    }

    fn open_at(&self, at: DateTime<Utc>) -> bool {
        self.created_at < at && self.done_at().is_none_or(|d| d >= at)
    }

    fn first_response_secs(&self) -> Option<f64> {
        self.first_response_at
            .map(|f| (f - self.created_at).num_seconds().max(0) as f64)
    }

    /// Creation to resolution, time waiting on the customer excluded.
    fn resolution_secs(&self) -> Option<f64> {
        self.resolved_at
            .map(|r| ((r - self.created_at).num_seconds() - self.sla_paused_secs).max(0) as f64)
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

async fn rows<C: ConnectionTrait>(db: &C, cond: Condition) -> Result<Vec<Row>, ApiError> {
    Ok(Ticket::find()
        .select_only()
        .columns(COLUMNS)
        .filter(cond)
        .into_model::<Row>()
        .all(db)
        .await?)
}

/// The validated range: defaults to the last 30 days; at most a year; `from < to`.
pub fn range(
    query: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = query.to.unwrap_or(now);
    let from = query.from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            "`from` must be before `to`".to_owned(),
        ));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            format!("a range covers at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok((from, to))
}

fn breakdown(counts: BTreeMap<String, u64>) -> Vec<CountBy> {
    let mut out: Vec<CountBy> = counts
        .into_iter()
        .map(|(key, count)| CountBy { key, count })
        .collect();
    // Largest first; ties by name for a stable order.
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out
}

/// The overview for admins (everything) or an agent (their own tickets and row only).
pub async fn overview<C: ConnectionTrait>(
    db: &C,
    viewer: &AuthUser,
    query: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<AnalyticsOverview, ApiError> {
    let (from, to) = range(query, now)?;
    let scope = match viewer.role {
        Role::Admin => Condition::all(),
        Role::Agent => Condition::all().add(ticket::Column::AssignedAgentId.eq(viewer.id)),
        Role::Customer => return Err(ApiError::forbidden()),
    };

    let created = rows(
        db,
        scope
            .clone()
            .add(ticket::Column::CreatedAt.gte(from))
            .add(ticket::Column::CreatedAt.lt(to)),
    )
    .await?;
    let resolved = rows(
        db,
        scope
            .clone()
            .add(ticket::Column::ResolvedAt.gte(from))
            .add(ticket::Column::ResolvedAt.lt(to)),
    )
    .await?;
    // Everything that was open at some moment of the range, for the backlog.
    let open_during = rows(
        db,
        scope.clone().add(ticket::Column::CreatedAt.lt(to)).add(
            Condition::any()
                .add(ticket::Column::Status.is_in([
                    ticket::Status::New,
                    ticket::Status::Open,
                    ticket::Status::Pending,
                ]))
                .add(ticket::Column::ResolvedAt.gte(from))
                .add(ticket::Column::ClosedAt.gte(from)),
        ),
    )
    .await?;

    // Breakdowns of what was created.
    let mut by_status = BTreeMap::new();
    let mut by_priority = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    let mut by_journey_id: BTreeMap<Option<Uuid>, u64> = BTreeMap::new();
    for r in &created {
        *by_status
            .entry(TicketStatus::from(r.status).to_string())
            .or_insert(0) += 1;
        let priority = Priority::from_rank(r.priority).unwrap_or(Priority::Medium);
        *by_priority.entry(priority.to_string()).or_insert(0) += 1;
        *by_category
            .entry(r.category.clone().unwrap_or_else(|| "none".to_owned()))
            .or_insert(0) += 1;
        *by_journey_id.entry(r.journey_id).or_insert(0) += 1;
    }
    let journey_names: HashMap<Uuid, String> = {
        let ids: Vec<Uuid> = by_journey_id.keys().flatten().copied().collect();
        if ids.is_empty() {
            HashMap::new()
        } else {
            Journey::find()
                .filter(journey::Column::Id.is_in(ids))
                .all(db)
                .await?
                .into_iter()
                .map(|j| (j.id, j.name))
                .collect()
        }
    };
    let by_journey = breakdown(
        by_journey_id
            .into_iter()
            .map(|(id, n)| {
                let name = match id {
                    Some(id) => journey_names
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| id.to_string()),
                    None => "none".to_owned(),
                };
                (name, n)
            })
            .fold(BTreeMap::new(), |mut m, (k, n)| {
                *m.entry(k).or_insert(0) += n;
                m
            }),
    );

    let mut first_response: Vec<f64> = created
        .iter()
        .filter_map(Row::first_response_secs)
        .collect();
    let mut resolution: Vec<f64> = resolved.iter().filter_map(Row::resolution_secs).collect();
    let response_decided: Vec<bool> = created.iter().filter_map(Row::response_met).collect();
    let resolution_decided: Vec<bool> = resolved.iter().filter_map(Row::resolution_met).collect();
    let count_true = |v: &[bool]| v.iter().filter(|m| **m).count() as u64;

    // Per UTC day.
    let mut per_day = Vec::new();
    let first_day = from.date_naive();
    let last_day = (to - Duration::nanoseconds(1)).date_naive();
    let mut day = first_day;
    while day <= last_day {
        let start = day_start(day).max(from);
        let end = day_start(day + Duration::days(1)).min(to);
        let in_day = |t: DateTime<Utc>| t >= start && t < end;
        let day_resolved: Vec<&Row> = resolved
            .iter()
            .filter(|r| r.resolved_at.is_some_and(in_day))
            .collect();
        let met: Vec<bool> = day_resolved
            .iter()
            .filter_map(|r| r.resolution_met())
            .collect();
        per_day.push(DayPoint {
            date: day,
            created: created.iter().filter(|r| in_day(r.created_at)).count() as u64,
            resolved: day_resolved.len() as u64,
            backlog: open_during.iter().filter(|r| r.open_at(end)).count() as u64,
            resolution_sla_percent: percent(count_true(&met), met.len() as u64),
        });
        day += Duration::days(1);
    }

    // Per agent.
    let mut agent_list = agents::list(db, now).await?;
    if viewer.role == Role::Agent {
        agent_list.retain(|a| a.id == viewer.id);
    }
    let agents = agent_list
        .into_iter()
        .map(|a| {
            let mine = |r: &&Row| r.assigned_agent_id == Some(a.id);
            let mut responses: Vec<f64> = created
                .iter()
                .filter(mine)
                .filter_map(Row::first_response_secs)
                .collect();
            let mut resolutions: Vec<f64> = resolved
                .iter()
                .filter(mine)
                .filter_map(Row::resolution_secs)
                .collect();
            let met: Vec<bool> = resolved
                .iter()
                .filter(mine)
                .filter_map(Row::resolution_met)
                .collect();
            AgentRow {
                agent_id: a.id,
                name: a.name,
                status: a.status,
                assigned: created.iter().filter(mine).count() as u64,
                resolved: resolved.iter().filter(mine).count() as u64,
                avg_first_response_secs: duration_stats(&mut responses).avg_secs,
                avg_resolution_secs: duration_stats(&mut resolutions).avg_secs,
                sla_compliance_percent: percent(count_true(&met), met.len() as u64),
            }
        })
        .collect();

    Ok(AnalyticsOverview {
        from,
        to,
        created: created.len() as u64,
        resolved: resolved.len() as u64,
        open: open_during.iter().filter(|r| r.open_at(to)).count() as u64,
        escalated: created.iter().filter(|r| r.escalated).count() as u64,
        by_status: breakdown(by_status),
        by_priority: breakdown(by_priority),
        by_category: breakdown(by_category),
        by_journey,
        first_response: duration_stats(&mut first_response),
        resolution: duration_stats(&mut resolution),
        sla: SlaCompliance {
            response_percent: percent(count_true(&response_decided), response_decided.len() as u64),
            resolution_percent: percent(
                count_true(&resolution_decided),
                resolution_decided.len() as u64,
            ),
        },
        per_day,
        agents,
    })
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
