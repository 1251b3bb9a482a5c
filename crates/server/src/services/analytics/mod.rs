//! Analytics: the overview for a date range, from daily rollups plus live edges.
//!
//! A range is cut into UTC-day windows. Whole days whose rollup is current come from
//! `analytics_daily` (one indexed read for the range); the partial first and last day, and days
//! that ticket writes have touched since their rollup was computed, are tallied live from
//! `tickets` with the same code that builds rollups ([`tally`]). So the answer is exact at any
//! moment, on SQLite and PostgreSQL alike, and costs a few thousand rows at most however many
//! tickets the database holds. [`rollup`] keeps the stored days current (see the job).

pub mod csat;
pub mod rollup;
pub mod sla;
pub mod tally;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use shared::{
    ErrorCode, Role,
    analytics::{
        AgentRow, AnalyticsOverview, AnalyticsQuery, CountBy, DayPoint, SlaCompliance,
        duration_stats, percent,
    },
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Journey, journey, ticket},
    error::ApiError,
    services::agents,
};
use tally::{Tallies, Tally, Window};

/// Longest range one overview may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The validated range: by default the last 30 days (from midnight UTC) and today so far; at
/// most a year; `from < to`.
pub fn range(
    query: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = query.to.unwrap_or(now);
    // By default the 30 whole UTC days before the day of `to`, and that day up to `to`: whole
    // days come straight from the rollups.
    let from = query
        .from
        .unwrap_or_else(|| day_start(to.date_naive() - Duration::days(30)));
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

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn whole_day(day: NaiveDate) -> Window {
    (day_start(day), day_start(day + Duration::days(1)))
}

/// Tallies of windows sorted by start; consecutive ones are read together.
async fn live_tallies<C: ConnectionTrait>(
    db: &C,
    scope: &Condition,
    windows: &[Window],
) -> Result<Vec<Tallies>, ApiError> {
    let mut out = Vec::with_capacity(windows.len());
    let mut run_start = 0;
    for i in 1..=windows.len() {
        let run_ends = i == windows.len() || windows[i - 1].1 != windows[i].0;
        if run_ends {
            out.extend(tally::live(db, scope, &windows[run_start..i]).await?);
            run_start = i;
        }
    }
    Ok(out)
}

/// Tickets in scope that were open at `from` (created before it, not yet resolved or closed).
async fn open_at<C: ConnectionTrait>(
    db: &C,
    scope: &Condition,
    agent: Option<Uuid>,
    pending: &BTreeSet<NaiveDate>,
    from: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let day = from.date_naive();
    let stored: i64 = rollup::net_opened_before(db, day, agent)
        .await?
        .into_iter()
        .filter(|(d, _)| !pending.contains(d))
        .map(|(_, net)| net)
        .sum();
    let mut windows: Vec<Window> = pending.range(..day).map(|d| whole_day(*d)).collect();
    if from > day_start(day) {
        windows.push((day_start(day), from));
    }
    let live: i64 = live_tallies(db, scope, &windows)
        .await?
        .iter()
        .flat_map(|t| t.values())
        .map(net_opened)
        .sum();
    Ok(stored + live)
}

fn net_opened(t: &Tally) -> i64 {
    i64::try_from(t.created).unwrap_or(i64::MAX) - i64::try_from(t.done).unwrap_or(i64::MAX)
}

/// The overview for admins (everything) or an agent (their own tickets and row only).
pub async fn overview<C: ConnectionTrait>(
    db: &C,
    viewer: &AuthUser,
    query: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<AnalyticsOverview, ApiError> {
    let (from, to) = range(query, now)?;
    let agent = match viewer.role {
        Role::Admin => None,
        Role::Agent => Some(viewer.id),
        Role::Customer => return Err(ApiError::forbidden()),
    };
    let scope = match agent {
        None => Condition::all(),
        Some(id) => Condition::all().add(ticket::Column::AssignedAgentId.eq(id)),
    };
    let pending = rollup::pending_days(db).await?;

    // The range as UTC-day windows; the first and last may be partial.
    let first_day = from.date_naive();
    let last_day = (to - Duration::nanoseconds(1)).date_naive();
    let mut days: Vec<(NaiveDate, Window)> = Vec::new();
    let mut day = first_day;
    while day <= last_day {
        let (start, end) = whole_day(day);
        days.push((day, (start.max(from), end.min(to))));
        day += Duration::days(1);
    }
    let is_stored =
        |(day, window): &(NaiveDate, Window)| *window == whole_day(*day) && !pending.contains(day);
    let live_windows: Vec<Window> = days
        .iter()
        .filter(|d| !is_stored(d))
        .map(|(_, w)| *w)
        .collect();
    // Independent reads, concurrently on a pool.
    let (stored, live, opened_before, roster) = tokio::try_join!(
        async { Ok::<_, ApiError>(rollup::load(db, first_day, last_day, agent).await?) },
        live_tallies(db, &scope, &live_windows),
        open_at(db, &scope, agent, &pending, from),
        agents::roster(db),
    )?;
    let mut stored = stored;
    let mut live = live.into_iter();
    let per_day: Vec<(NaiveDate, Tallies)> = days
        .iter()
        .map(|d| {
            let tallies = if is_stored(d) {
                stored.remove(&d.0).unwrap_or_default()
            } else {
                live.next().unwrap_or_default()
            };
            (d.0, tallies)
        })
        .collect();

    let mut backlog = opened_before;
    let mut points = Vec::with_capacity(per_day.len());
    for (date, tallies) in &per_day {
        let day = tally::total(tallies.values());
        backlog += net_opened(&day);
        points.push(DayPoint {
            date: *date,
            created: day.created,
            resolved: day.resolved,
            backlog: u64::try_from(backlog).unwrap_or(0),
            resolution_sla_percent: percent(day.resolution_met, day.resolution_decided),
        });
    }

    let mut by_agent: HashMap<Uuid, Tally> = HashMap::new();
    for (_, tallies) in &per_day {
        for (key, t) in tallies {
            by_agent.entry(*key).or_default().merge(t);
        }
    }
    let mut all = tally::total(by_agent.values());

    let agents = roster
        .into_iter()
        .filter(|(id, _, _)| agent.is_none_or(|me| me == *id))
        .map(|(id, name, status)| {
            let t = by_agent.remove(&id).unwrap_or_default();
            AgentRow {
                agent_id: id,
                name,
                status,
                assigned: t.created,
                resolved: t.resolved,
                avg_first_response_secs: mean(&t.first_response),
                avg_resolution_secs: mean(&t.resolution),
                sla_compliance_percent: percent(t.resolution_met, t.resolution_decided),
            }
        })
        .collect();

    let by_journey = journey_names(db, std::mem::take(&mut all.breakdown.journey)).await?;
    Ok(AnalyticsOverview {
        from,
        to,
        created: all.created,
        resolved: all.resolved,
        open: points.last().map_or(0, |p| p.backlog),
        escalated: all.escalated,
        by_status: breakdown(std::mem::take(&mut all.breakdown.status)),
        by_priority: breakdown(std::mem::take(&mut all.breakdown.priority)),
        by_category: breakdown(std::mem::take(&mut all.breakdown.category)),
        by_journey: breakdown(by_journey),
        first_response: stats(&all.first_response),
        resolution: stats(&all.resolution),
        sla: SlaCompliance {
            response_percent: percent(all.response_met, all.response_decided),
            resolution_percent: percent(all.resolution_met, all.resolution_decided),
        },
        per_day: points,
        agents,
    })
}

fn mean(secs: &[u32]) -> Option<f64> {
    let sum: u64 = secs.iter().map(|s| u64::from(*s)).sum();
    (!secs.is_empty()).then(|| sum as f64 / secs.len() as f64)
}

fn stats(secs: &[u32]) -> shared::analytics::DurationStats {
    let mut values: Vec<f64> = secs.iter().map(|s| f64::from(*s)).collect();
    duration_stats(&mut values)
}

/// Journey counts keyed by id, re-keyed by the journey's name (ids of deleted journeys stay).
async fn journey_names<C: ConnectionTrait>(
    db: &C,
    by_id: BTreeMap<String, u64>,
) -> Result<BTreeMap<String, u64>, ApiError> {
    let ids: Vec<Uuid> = by_id.keys().filter_map(|k| k.parse().ok()).collect();
    let names: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        Journey::find()
            .filter(journey::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|j| (j.id.to_string(), j.name))
            .collect()
    };
    let mut out = BTreeMap::new();
    for (key, n) in by_id {
        let name = names.get(&key).cloned().unwrap_or(key);
        *out.entry(name).or_insert(0) += n;
    }
    Ok(out)
}
