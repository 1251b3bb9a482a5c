//! CSAT analytics: the ratings of the resolutions in a range (by `resolved_at`), overall, per
//! agent (the ticket's agent when the rating was given), per category and per UTC day.
//!
//! Ratings are few next to tickets (at most one per resolution), so the range's ratings are
//! read with four columns each and summed up here, the same way on SQLite and PostgreSQL.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use shared::csat::{CsatAgentRow, CsatAnalytics, CsatCategoryRow, CsatDayPoint, CsatStats};
use uuid::Uuid;

use crate::{
    entity::{CsatRating, csat_rating},
    error::ApiError,
    services::tickets,
};

/// One rating as analytics read it: resolution instant, score, agent, category.
type RatingRow = (DateTime<Utc>, i16, Option<Uuid>, Option<String>);

/// The CSAT of the resolutions in `[from, to)`.
pub async fn breakdown<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<CsatAnalytics, ApiError> {
    let rows: Vec<RatingRow> = CsatRating::find()
        .select_only()
        .column(csat_rating::Column::ResolvedAt)
        .column(csat_rating::Column::Score)
        .column(csat_rating::Column::AgentId)
        .column(csat_rating::Column::Category)
        .filter(csat_rating::Column::ResolvedAt.gte(from))
        .filter(csat_rating::Column::ResolvedAt.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    let score = |s: i16| u8::try_from(s).unwrap_or(0);

    let mut by_agent: HashMap<Option<Uuid>, Vec<u8>> = HashMap::new();
    let mut by_category: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut by_day: BTreeMap<NaiveDate, Vec<u8>> = BTreeMap::new();
    for (at, s, agent, category) in &rows {
        by_agent.entry(*agent).or_default().push(score(*s));
        let key = category.clone().unwrap_or_else(|| "none".to_owned());
        by_category.entry(key).or_default().push(score(*s));
        by_day.entry(at.date_naive()).or_default().push(score(*s));
    }

    let people = tickets::people(db, by_agent.keys().flatten().copied()).await?;
    let mut per_agent: Vec<CsatAgentRow> = by_agent
        .into_iter()
        .map(|(agent_id, scores)| CsatAgentRow {
            agent_id,
            name: match agent_id {
                Some(id) => people
                    .get(&id)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| "(deleted)".to_owned()),
                None => "(unassigned)".to_owned(),
            },
            stats: CsatStats::of(scores),
        })
        .collect();
    per_agent.sort_by(|a, b| {
        b.stats
            .count
            .cmp(&a.stats.count)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.agent_id.cmp(&b.agent_id))
    });
    let mut per_category: Vec<CsatCategoryRow> = by_category
        .into_iter()
        .map(|(category, scores)| CsatCategoryRow {
            category,
            stats: CsatStats::of(scores),
        })
        .collect();
    per_category.sort_by(|a, b| {
        b.stats
            .count
            .cmp(&a.stats.count)
            .then_with(|| a.category.cmp(&b.category))
    });

    let mut per_day = Vec::new();
    let mut day = from.date_naive();
    let last = (to - Duration::microseconds(1)).date_naive();
    while day <= last {
        let scores = by_day.remove(&day).unwrap_or_default();
        per_day.push(CsatDayPoint {
            date: day,
            stats: CsatStats::of(scores),
        });
        day += Duration::days(1);
    }

    Ok(CsatAnalytics {
        from,
        to,
        overall: CsatStats::of(rows.iter().map(|r| score(r.1))),
        per_agent,
        per_category,
        per_day,
    })
}
