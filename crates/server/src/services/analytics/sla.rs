//! SLA analytics by terms: compliance and durations of the tickets created in a range,
//! grouped by the policy and by the calendar each ran on, with both wall-clock and
//! business-time durations. Read live from `tickets` (one indexed range scan of a handful of
//! columns); the daily rollups stay per-day totals.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use shared::analytics::{SlaBreakdown, SlaCompliance, SlaGroup, duration_stats, percent};
use uuid::Uuid;

use crate::{
    entity::{SlaCalendar, Ticket, ticket},
    error::ApiError,
};

#[derive(Debug, Clone, FromQueryResult)]
struct Row {
    sla_policy: Option<String>,
    sla_calendar_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
    resolution_due_at: Option<DateTime<Utc>>,
    response_breached: bool,
    resolution_breached: bool,
    sla_paused_secs: i64,
    response_business_secs: Option<i64>,
    resolution_business_secs: Option<i64>,
}

/// What one group collects.
#[derive(Debug, Default)]
struct Acc {
    tickets: u64,
    response_met: u64,
    response_decided: u64,
    resolution_met: u64,
    resolution_decided: u64,
    first_response: Vec<f64>,
    first_response_business: Vec<f64>,
    resolution: Vec<f64>,
    resolution_business: Vec<f64>,
}

impl Acc {
    fn add(&mut self, r: &Row) {
        self.tickets += 1;
        // The same "decided" and "met" rules as the overview (`tally`).
        match (r.first_response_at, r.response_due_at) {
            (Some(f), Some(due)) => {
                self.response_decided += 1;
                self.response_met += u64::from(!r.response_breached && f <= due);
            }
            (None, _) if r.response_breached => self.response_decided += 1,
            _ => {}
        }
        if let Some(resolved) = r.resolved_at {
            self.resolution_decided += 1;
            self.resolution_met += u64::from(
                !r.resolution_breached && r.resolution_due_at.is_none_or(|d| resolved <= d),
            );
            self.resolution.push(
                (((resolved - r.created_at).num_seconds() - r.sla_paused_secs).max(0)) as f64,
            );
        }
        if let Some(f) = r.first_response_at {
            self.first_response
                .push((f - r.created_at).num_seconds().max(0) as f64);
        }
        if let Some(s) = r.response_business_secs {
            self.first_response_business.push(s.max(0) as f64);
        }
        if let Some(s) = r.resolution_business_secs {
            self.resolution_business.push(s.max(0) as f64);
        }
    }

    fn finish(mut self, key: String, name: String) -> SlaGroup {
        SlaGroup {
            key,
            name,
            tickets: self.tickets,
            sla: SlaCompliance {
                response_percent: percent(self.response_met, self.response_decided),
                resolution_percent: percent(self.resolution_met, self.resolution_decided),
            },
            first_response: duration_stats(&mut self.first_response),
            first_response_business: duration_stats(&mut self.first_response_business),
            resolution: duration_stats(&mut self.resolution),
            resolution_business: duration_stats(&mut self.resolution_business),
        }
    }
}

/// Key of tickets that ran 24/7.
pub const ALWAYS: &str = "always";

/// The breakdown of tickets created in `[from, to)`.
pub async fn breakdown<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<SlaBreakdown, ApiError> {
    let rows = Ticket::find()
        .select_only()
        .columns([
            ticket::Column::SlaPolicy,
            ticket::Column::SlaCalendarId,
            ticket::Column::CreatedAt,
            ticket::Column::FirstResponseAt,
            ticket::Column::ResolvedAt,
            ticket::Column::ResponseDueAt,
            ticket::Column::ResolutionDueAt,
            ticket::Column::ResponseBreached,
            ticket::Column::ResolutionBreached,
            ticket::Column::SlaPausedSecs,
            ticket::Column::ResponseBusinessSecs,
            ticket::Column::ResolutionBusinessSecs,
        ])
        .filter(ticket::Column::CreatedAt.gte(from))
        .filter(ticket::Column::CreatedAt.lt(to))
        .into_model::<Row>()
        .all(db)
        .await?;
    let mut by_policy: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_calendar: BTreeMap<Option<Uuid>, Acc> = BTreeMap::new();
    for r in &rows {
        let policy = r
            .sla_policy
            .clone()
            .unwrap_or_else(|| shared::sla::DEFAULT_POLICY.to_owned());
        by_policy.entry(policy).or_default().add(r);
        by_calendar.entry(r.sla_calendar_id).or_default().add(r);
    }
    let ids: Vec<Uuid> = by_calendar.keys().flatten().copied().collect();
    let names: HashMap<Uuid, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        SlaCalendar::find()
            .filter(crate::entity::sla_calendar::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect()
    };
    Ok(SlaBreakdown {
        from,
        to,
        by_policy: by_policy
            .into_iter()
            .map(|(name, acc)| acc.finish(name.clone(), name))
            .collect(),
        by_calendar: by_calendar
            .into_iter()
            .map(|(id, acc)| match id {
                None => acc.finish(ALWAYS.to_owned(), "24/7".to_owned()),
                Some(id) => acc.finish(
                    id.to_string(),
                    names
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| "(deleted calendar)".to_owned()),
                ),
            })
            .collect(),
    })
}
