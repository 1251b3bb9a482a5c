//! The database's own ceilings, measured in the same run as the scenarios: how many 1-row
//! `INSERT`s and primary-key `SELECT`s per second the benchmark database takes from the same
//! number of clients, with nothing of the server in between. The HTTP scenarios are reported
//! as a share of these (a creation is at least one insert, a ticket read at least one primary
//! key lookup), so a run on a busy or slow machine still says how close the server gets.
//!
//! Each client holds its own connection of one pool, no ping before checkout (as the server),
//! and runs one statement per request, auto-committed. The inserts go into a scratch table that
//! is dropped afterwards; the selects read the seeded `tickets` by id.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement, Value};
use uuid::Uuid;

use crate::{
    load::{self, Bounds},
    scenarios::Row,
};

/// The scratch table of the insert loop.
const SCRATCH: &str = "bench_ceiling_insert";

/// What the two loops measured, in requests per second.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ceilings {
    pub insert: f64,
    pub select: f64,
}

/// Runs both loops against `database_url` and returns their rows and rates.
/// `insert` and `select` bound the two loops (their client counts are the creation and the
/// read scenarios' own).
pub async fn measure(
    database_url: &str,
    insert: Bounds,
    select: Bounds,
    ticket_ids: Vec<Uuid>,
) -> anyhow::Result<(Vec<Row>, Ceilings)> {
    let clients = insert.concurrency.max(select.concurrency).max(1) as u32;
    let mut options = ConnectOptions::new(database_url.to_owned());
    options
        .max_connections(clients)
        .min_connections(clients)
        .test_before_acquire(false)
        .sqlx_logging(false);
    let db = Arc::new(
        Database::connect(options)
            .await
            .context("connecting for the ceilings")?,
    );
    let backend = db.get_database_backend();
    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {SCRATCH}"))
        .await?;
    db.execute_unprepared(&format!(
        "CREATE TABLE {SCRATCH} (id {}, payload TEXT NOT NULL, created_at TEXT NOT NULL)",
        match backend {
            sea_orm::DatabaseBackend::Postgres => "BIGSERIAL PRIMARY KEY",
            _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
        }
    ))
    .await?;

    let insert_sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            format!("INSERT INTO {SCRATCH} (payload, created_at) VALUES ($1, $2)")
        }
        _ => format!("INSERT INTO {SCRATCH} (payload, created_at) VALUES (?, ?)"),
    };
    let inserts = {
        let db = db.clone();
        load::run(insert, move |w, i| {
            let (db, sql) = (db.clone(), insert_sql.clone());
            async move {
                let values: Vec<Value> = vec![
                    format!("client {w} row {i}").into(),
                    chrono::Utc::now().to_rfc3339().into(),
                ];
                db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await?;
                Ok(())
            }
        })
        .await
    };
    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {SCRATCH}"))
        .await?;

    anyhow::ensure!(!ticket_ids.is_empty(), "no tickets to read for the ceiling");
    let select_sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "SELECT * FROM tickets WHERE id = $1",
        _ => "SELECT * FROM tickets WHERE id = ?",
    };
    let ids = Arc::new(ticket_ids);
    let selects = {
        let db = db.clone();
        let ids = ids.clone();
        load::run(select, move |_, i| {
            let (db, ids) = (db.clone(), ids.clone());
            async move {
                let id = ids[i % ids.len()];
                let row = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        select_sql,
                        [id.into()],
                    ))
                    .await?;
                anyhow::ensure!(row.is_some(), "ticket {id} not found");
                Ok(())
            }
        })
        .await
    };
    if let Ok(db) = Arc::try_unwrap(db) {
        let _ = db.close().await;
    }

    let load = |b: &Bounds| {
        format!(
            "{} connections, ≤ {} statements, ≤ {} s",
            b.concurrency,
            b.requests,
            b.time_limit.as_secs()
        )
    };
    let ceilings = Ceilings {
        insert: inserts.rate(),
        select: selects.rate(),
    };
    let rows = vec![
        Row::from_outcome(
            "ceiling: 1-row INSERT",
            load(&insert),
            &inserts,
            "straight to the database, auto-committed, no server in between".to_owned(),
        ),
        Row::from_outcome(
            "ceiling: primary-key SELECT",
            load(&select),
            &selects,
            format!("`{select_sql}` over {} seeded tickets", ids.len()),
        ),
    ];
    Ok((rows, ceilings))
}

/// Which ceiling a scenario is held against, by its row's name.
fn ceiling_of(scenario: &str, c: &Ceilings) -> Option<(&'static str, f64)> {
    if scenario.starts_with("ticket creation") {
        Some(("INSERT", c.insert))
    } else if scenario == "ticket detail" || scenario.starts_with("admin ticket list") {
        Some(("SELECT", c.select))
    } else {
        None
    }
}

/// Adds each scenario's share of its ceiling to its notes.
pub fn annotate(rows: &mut [Row], ceilings: &Ceilings) {
    for row in rows {
        let Some((name, ceiling)) = ceiling_of(&row.scenario, ceilings) else {
            continue;
        };
        let Some(rate) = row.per_second else {
            continue;
        };
        if ceiling <= 0.0 {
            continue;
        }
        let share = format!(
            "**{:.1} % of the {name} ceiling** ({rate:.0} / {ceiling:.0} per s)",
            rate / ceiling * 100.0
        );
        row.notes = if row.notes.is_empty() {
            share
        } else {
            format!("{share}; {}", row.notes)
        };
    }
}

/// Time limit of each ceiling loop when the scenarios' own is longer: the ceilings need
/// seconds, not minutes.
pub const TIME_LIMIT: Duration = Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scenario: &str, per_second: Option<f64>) -> Row {
        Row {
            scenario: scenario.to_owned(),
            per_second,
            notes: "n".to_owned(),
            ..Row::default()
        }
    }

    #[test]
    fn scenarios_get_their_share_of_the_right_ceiling() {
        let mut rows = vec![
            row("ticket creation (journey submit)", Some(500.0)),
            row("ticket detail", Some(2500.0)),
            row("agent queue page", Some(900.0)),
            row("ticket creation (`POST /api/tickets`)", None),
        ];
        annotate(
            &mut rows,
            &Ceilings {
                insert: 10_000.0,
                select: 5_000.0,
            },
        );
        assert!(rows[0].notes.starts_with("**5.0 % of the INSERT ceiling**"));
        assert!(
            rows[1]
                .notes
                .starts_with("**50.0 % of the SELECT ceiling**")
        );
        assert_eq!(rows[2].notes, "n");
        assert_eq!(rows[3].notes, "n");
    }
}
