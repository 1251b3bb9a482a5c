//! Business operations on a database connection. No HTTP types here: handlers, jobs, the CLI
//! and tests all call these same functions.

pub mod access;
pub mod agents;
pub mod analytics;
pub mod assignment;
pub mod attachments;
pub mod events;
pub mod export;
pub mod journeys;
pub mod messages;
pub mod seed;
pub mod settings;
pub mod sla_monitor;
pub mod tickets;
pub mod users;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use shared::{ErrorCode, Paging, envelope::PageQuery};

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
    let stmt = Query::update()
        .table(Alias::new("counters"))
        .value(Alias::new("value"), Expr::col(Alias::new("value")).add(1))
        .and_where(Expr::col(Alias::new("name")).eq(name))
        .returning_col(Alias::new("value"))
        .to_owned();
    let row = db
        .query_one_raw(db.get_database_backend().build(&stmt))
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("counter `{name}` is missing")))?;
    Ok(row.try_get::<i64>("", "value")?)
}

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

/// Validates `?page=&per_page=` into [`Paging`], or a 400 `invalid_query`.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<Paging, ApiError> {
    Paging::try_from(PageQuery { page, per_page })
        .map_err(|m| ApiError::BadRequest(ErrorCode::InvalidQuery, m.to_owned()))
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
