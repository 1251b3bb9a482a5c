//! Daily rollups: storing a day's tallies in `analytics_daily` and recomputing the days that
//! ticket writes touched.
//!
//! Triggers on `tickets` append every UTC day a write touched (old and new values) to
//! `analytics_changes`. [`refresh`] reads a batch of that log, recomputes those days from
//! `tickets`, and deletes exactly the log rows it read: a row that was not yet committed when
//! the batch was read stays behind for the next run, so no write is ever lost between a read
//! and a delete. Until a day's log rows are gone, readers compute that day live.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    tally::{self, Breakdown, Tallies, Tally},
    whole_day,
};
use crate::{
    entity::{AnalyticsChange, AnalyticsDaily, analytics::change, analytics::daily},
    services::begin_write,
};

/// Log rows read per [`refresh`] call.
pub const BATCH: u64 = 20_000;

fn encode_secs(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn decode_secs(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn uncount(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl From<daily::Model> for Tally {
    fn from(m: daily::Model) -> Self {
        Tally {
            created: uncount(m.created),
            escalated: uncount(m.escalated),
            // A row this version cannot read counts as empty rather than failing the overview;
            // the next write to that day rewrites it.
            breakdown: serde_json::from_str::<Breakdown>(&m.breakdown).unwrap_or_default(),
            response_met: uncount(m.response_met),
            response_decided: uncount(m.response_decided),
            first_response: decode_secs(&m.first_response_secs),
            resolved: uncount(m.resolved),
            resolution_met: uncount(m.resolution_met),
            resolution_decided: uncount(m.resolution_decided),
            resolution: decode_secs(&m.resolution_secs),
            done: uncount(m.done),
        }
    }
}

fn to_row(day: NaiveDate, agent_key: Uuid, t: &Tally) -> daily::ActiveModel {
    daily::ActiveModel {
        day: Set(day),
        agent_key: Set(agent_key),
        created: Set(count(t.created)),
        escalated: Set(count(t.escalated)),
        response_met: Set(count(t.response_met)),
        response_decided: Set(count(t.response_decided)),
        resolved: Set(count(t.resolved)),
        resolution_met: Set(count(t.resolution_met)),
        resolution_decided: Set(count(t.resolution_decided)),
        done: Set(count(t.done)),
        breakdown: Set(serde_json::to_string(&t.breakdown).unwrap_or_else(|_| "{}".to_owned())),
        first_response_secs: Set(encode_secs(&t.first_response)),
        resolution_secs: Set(encode_secs(&t.resolution)),
    }
}

/// The days with log rows not yet folded into their rollups.
pub async fn pending_days<C: ConnectionTrait>(db: &C) -> Result<BTreeSet<NaiveDate>, DbErr> {
    Ok(AnalyticsChange::find()
        .select_only()
        .column(change::Column::Day)
        .distinct()
        .into_tuple::<NaiveDate>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Stored tallies for `days` (all agents, or one), by day.
pub async fn load<C: ConnectionTrait>(
    db: &C,
    first: NaiveDate,
    last: NaiveDate,
    agent: Option<Uuid>,
) -> Result<HashMap<NaiveDate, Tallies>, DbErr> {
    let mut cond = Condition::all()
        .add(daily::Column::Day.gte(first))
        .add(daily::Column::Day.lte(last));
    if let Some(agent) = agent {
        cond = cond.add(daily::Column::AgentKey.eq(agent));
    }
    let mut out: HashMap<NaiveDate, Tallies> = HashMap::new();
    for row in AnalyticsDaily::find().filter(cond).all(db).await? {
        out.entry(row.day)
            .or_default()
            .insert(row.agent_key, row.into());
    }
    Ok(out)
}

/// `(day, created − done)` of the stored days before `before` (all agents, or one).
pub async fn net_opened_before<C: ConnectionTrait>(
    db: &C,
    before: NaiveDate,
    agent: Option<Uuid>,
) -> Result<Vec<(NaiveDate, i64)>, DbErr> {
    let mut cond = Condition::all().add(daily::Column::Day.lt(before));
    if let Some(agent) = agent {
        cond = cond.add(daily::Column::AgentKey.eq(agent));
    }
    let rows: Vec<(NaiveDate, i64, i64)> = AnalyticsDaily::find()
        .select_only()
        .column(daily::Column::Day)
        // PostgreSQL sums bigints as numeric.
        .column_as(Expr::cust("CAST(SUM(created) AS BIGINT)"), "created")
        .column_as(Expr::cust("CAST(SUM(done) AS BIGINT)"), "done")
        .filter(cond)
        .group_by(daily::Column::Day)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(d, c, n)| (d, c - n)).collect())
}

/// Folds one batch of the change log into the rollups; returns how many log rows it consumed
/// (call again while that equals [`BATCH`]).
pub async fn refresh(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let batch: Vec<(i64, NaiveDate)> = AnalyticsChange::find()
        .select_only()
        .columns([change::Column::Id, change::Column::Day])
        .order_by_asc(change::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if batch.is_empty() {
        return Ok(0);
    }
    let days: BTreeSet<NaiveDate> = batch.iter().map(|(_, d)| *d).collect();
    for day in days {
        let txn = begin_write(db).await?;
        AnalyticsDaily::delete_many()
            .filter(daily::Column::Day.eq(day))
            .exec(&txn)
            .await?;
        let tallies = tally::live(&txn, &Condition::all(), &[whole_day(day)])
            .await?
            .pop()
            .unwrap_or_default();
        if !tallies.is_empty() {
            AnalyticsDaily::insert_many(tallies.iter().map(|(key, t)| to_row(day, *key, t)))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    // Exactly the rows read: consecutive ids become one range delete, and an id inside a range
    // was necessarily read.
    let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
    for (lo, hi) in id_runs(&ids) {
        AnalyticsChange::delete_many()
            .filter(change::Column::Id.between(lo, hi))
            .exec(db)
            .await?;
    }
    Ok(batch.len() as u64)
}

/// Folds the whole change log, batch after batch, until a batch comes back short; returns the
/// log rows consumed. For imports and tests; the job runs [`refresh`] itself so that it can
/// stop between batches.
pub async fn catch_up(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let mut total = 0;
    loop {
        let n = refresh(db).await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

/// Sorted ids as inclusive runs of consecutive values.
fn id_runs(ids: &[i64]) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &id in ids {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == id => *hi = id,
            _ => runs.push((id, id)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_survive_the_blob() {
        let v = vec![0, 1, 3600, u32::MAX];
        assert_eq!(decode_secs(&encode_secs(&v)), v);
        assert!(decode_secs(&[1, 2, 3]).is_empty());
    }

    #[test]
    fn ids_group_into_consecutive_runs() {
        assert_eq!(id_runs(&[1, 2, 3, 5, 7, 8]), [(1, 3), (5, 5), (7, 8)]);
        assert!(id_runs(&[]).is_empty());
    }
}
