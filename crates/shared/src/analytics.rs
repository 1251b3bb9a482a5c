//! Analytics over a date range: volumes, breakdowns, response and resolution times, SLA
//! compliance, backlog per day and a per-agent table.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::agents::AgentStatus;

/// `GET /api/analytics/overview` parameters. Defaults: `to` now, `from` midnight UTC 30 days
/// before the day of `to` (30 whole days and today so far).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Start of the range (inclusive, RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive, RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// A count for one value of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountBy {
    /// The value (a status, priority, category or journey name; `none` when unset).
    pub key: String,
    pub count: u64,
}

/// Average, median and 90th percentile of a duration, in seconds, over `count` tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DurationStats {
    pub count: u64,
    pub avg_secs: Option<f64>,
    /// Median (nearest rank).
    pub p50_secs: Option<f64>,
    pub p90_secs: Option<f64>,
}

/// Share of decided SLA targets that were met, in percent (`None` when nothing was decided).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaCompliance {
    pub response_percent: Option<f64>,
    pub resolution_percent: Option<f64>,
}

/// One UTC day of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayPoint {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub created: u64,
    pub resolved: u64,
    /// Tickets still open at the end of the day.
    pub backlog: u64,
    /// Resolution SLA compliance of the tickets resolved that day.
    pub resolution_sla_percent: Option<f64>,
}

/// One row of the per-agent table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRow {
    pub agent_id: Uuid,
    pub name: String,
    pub status: AgentStatus,
    /// Tickets created in the range and assigned to the agent.
    pub assigned: u64,
    /// Tickets resolved in the range while assigned to the agent.
    pub resolved: u64,
    pub avg_first_response_secs: Option<f64>,
    pub avg_resolution_secs: Option<f64>,
    pub sla_compliance_percent: Option<f64>,
}

/// `GET /api/analytics/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyticsOverview {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Created in the range.
    pub created: u64,
    /// Resolved in the range.
    pub resolved: u64,
    /// Open (not resolved or closed) at the end of the range.
    pub open: u64,
    /// Created in the range and escalated.
    pub escalated: u64,
    /// Breakdowns of the tickets created in the range.
    pub by_status: Vec<CountBy>,
    pub by_priority: Vec<CountBy>,
    pub by_category: Vec<CountBy>,
    pub by_journey: Vec<CountBy>,
    /// From creation to the first public staff reply (tickets created in the range).
    pub first_response: DurationStats,
    /// From creation to resolution, paused time excluded (tickets resolved in the range).
    pub resolution: DurationStats,
    pub sla: SlaCompliance,
    pub per_day: Vec<DayPoint>,
    pub agents: Vec<AgentRow>,
}

/// SLA compliance and durations of one policy or calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaGroup {
    /// The policy name (`default` or an override's), or the calendar id (`always` for 24/7).
    pub key: String,
    /// What to show: the policy name, the calendar's name, or `24/7`.
    pub name: String,
    /// Tickets created in the range on these terms.
    pub tickets: u64,
    pub sla: SlaCompliance,
    /// Creation to first public staff reply, wall-clock time.
    pub first_response: DurationStats,
    /// The same in business time (working hours of the ticket's calendar, pauses excluded).
    pub first_response_business: DurationStats,
    /// Creation to resolution, wall-clock time with paused time excluded.
    pub resolution: DurationStats,
    /// The same in business time.
    pub resolution_business: DurationStats,
}

/// `GET /api/analytics/sla`: tickets created in the range, grouped by the policy and by the
/// calendar they ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaBreakdown {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by_policy: Vec<SlaGroup>,
    pub by_calendar: Vec<SlaGroup>,
}

/// Average, median and 90th percentile (nearest rank) of `values`.
pub fn duration_stats(values: &mut [f64]) -> DurationStats {
    if values.is_empty() {
        return DurationStats {
            count: 0,
            avg_secs: None,
            p50_secs: None,
            p90_secs: None,
        };
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    DurationStats {
        count: n as u64,
        avg_secs: Some(values.iter().sum::<f64>() / n as f64),
        p50_secs: nearest_rank(values, 0.5),
        p90_secs: nearest_rank(values, 0.9),
    }
}

/// The nearest-rank quantile `q` (0 < q <= 1) of `sorted` (ascending): the smallest value with
/// at least `q` of the values at or below it, always one that occurs. `None` when empty.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
    sorted.get(rank - 1).copied()
}

/// `part` of `whole` in percent, or `None` for an empty whole.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_uses_the_nearest_rank() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = duration_stats(&mut v);
        assert_eq!(s.count, 10);
        assert_eq!(s.avg_secs, Some(5.5));
        assert_eq!(s.p50_secs, Some(5.0));
        assert_eq!(s.p90_secs, Some(9.0));
        let mut one = [42.0];
        assert_eq!(duration_stats(&mut one).p90_secs, Some(42.0));
        assert_eq!(duration_stats(&mut []).avg_secs, None);
        assert_eq!(percent(1, 4), Some(25.0));
        assert_eq!(percent(0, 0), None);
    }
}
