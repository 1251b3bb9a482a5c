//! Business operations on a database connection. No HTTP types here: handlers, jobs, the CLI
//! and tests all call these same functions.

pub mod access;
pub mod agents;
pub mod analytics;
pub mod api_tokens;
pub mod assignment;
pub mod attachments;
pub mod backup;
pub mod csat;
pub mod cursor;
pub mod events;
pub mod export;
pub mod idempotency;
pub mod journeys;
pub mod links;
pub mod macros;
pub mod mail;
pub mod merge;
pub mod messages;
pub mod search;
pub mod seed;
pub mod settings;
pub mod sla;
pub mod sla_monitor;
pub mod tags;
pub mod tickets;
pub mod users;
pub mod views;
pub mod webhooks;

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use shared::{ErrorCode, Paging, envelope::PageQuery, validate::SearchText};

use crate::error::ApiError;

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing when a read lock would
/// have to be upgraded; on PostgreSQL it is a plain transaction.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Takes the next value of a named counter inside the caller's transaction.
pub async fn next_counter<C: ConnectionTrait>(db: &C, name: &str) -> Result<i64, ApiError> {
    add_to_counter(db, name, 1).await
}

/// Takes the next `n` values of a named counter inside the caller's transaction; returns the
/// last of them.
pub async fn add_to_counter<C: ConnectionTrait>(
    db: &C,
    name: &str,
    n: i64,
) -> Result<i64, ApiError> {
    let stmt = Query::update()
        .table(Alias::new("counters"))
        .value(Alias::new("value"), Expr::col(Alias::new("value")).add(n))
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .returning_col(Alias::new("value"))
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&stmt))
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("counter `{name}` is missing")))?;
    Ok(row.try_get::<i64>("", "value")?)
}

/// The next ticket number. PostgreSQL takes it from a sequence, which holds no lock until the
/// creating transaction commits, so tickets are created concurrently; SQLite has one writer
/// anyway and uses the `ticket_number` counter.
pub async fn next_ticket_number<C: ConnectionTrait>(db: &C) -> Result<i64, ApiError> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return next_counter(db, TICKET_NUMBER).await;
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT nextval('ticket_number_seq') AS n",
        ))
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("nextval returned no row")))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Makes the numbers handed out from now on larger than `last` (after an import of tickets
/// with their own numbers).
pub async fn skip_ticket_numbers_through<C: ConnectionTrait>(
    db: &C,
    last: i64,
) -> Result<(), ApiError> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => format!(
            "SELECT setval('ticket_number_seq', GREATEST({last}, \
             (SELECT last_value FROM ticket_number_seq)))"
        ),
        _ => format!(
            "UPDATE counters SET value = {last} WHERE name = '{TICKET_NUMBER}' AND value < {last}"
        ),
    };
    db.execute_unprepared(&sql).await?;
    Ok(())
}

const TICKET_NUMBER: &str = "ticket_number";

/// One page of `select` and the total number of rows it matches.
pub async fn fetch_page<E, C>(
    db: &C,
    select: sea_orm::Select<E>,
    paging: Paging,
) -> Result<(Vec<E::Model>, u64), ApiError>
where
    E: sea_orm::EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let count = select.clone().count(db).await?;
    let items = select
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    Ok((items, count))
}

/// How many matches past the start of the requested page a capped list counts.
pub const COUNT_CAP: u64 = 10_000;

/// One page of `select` and the number of rows it matches, counted only up to
/// [`COUNT_CAP`] past the page's start: `(rows, count, capped)`, `capped` when there are
/// more. Counting a million matches on every page would cost more than the page itself.
pub async fn fetch_page_capped<E, C>(
    db: &C,
    select: sea_orm::Select<E>,
    paging: Paging,
) -> Result<(Vec<E::Model>, u64, bool), ApiError>
where
    E: sea_orm::EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    use sea_orm::{QuerySelect, QueryTrait};
    let limit = paging.offset().saturating_add(COUNT_CAP);
    let items = select
        .clone()
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    let counted =
        if (items.len() as u64) < paging.per_page && (paging.offset() == 0 || !items.is_empty()) {
            // A short page is the last one: the total is known without counting.
            paging.offset() + items.len() as u64
        } else {
            let mut matches = select
                .select_only()
                .column_as(Expr::val(1), "one")
                .into_query();
            matches.clear_order_by().limit(limit + 1);
            let stmt = Query::select()
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
                .from_subquery(matches, Alias::new("capped"))
                .to_owned();
            let row = db
                .query_one_raw(db.get_database_backend().build(&stmt))
                .await?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("COUNT returned no row")))?;
            u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0)
        };
    Ok((items, Ord::min(counted, limit), counted > limit))
}

/// Validates `?page=&per_page=` into [`Paging`], or a 400 `invalid_query`.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<Paging, ApiError> {
    Paging::try_from(PageQuery { page, per_page })
        .map_err(|m| ApiError::BadRequest(ErrorCode::InvalidQuery, m.to_owned()))
}

/// Validates a list's `?q=` into [`SearchText`] (`None` when blank), or a 400 `invalid_query`.
pub fn search_text(q: Option<&str>) -> Result<Option<SearchText>, ApiError> {
    match q {
        None => Ok(None),
        Some(raw) => {
            SearchText::parse(raw).map_err(|m| ApiError::BadRequest(ErrorCode::InvalidQuery, m))
        }
    }
}

/// Escapes `%`, `_` and `\` so user input is matched literally inside a LIKE pattern.
pub fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
