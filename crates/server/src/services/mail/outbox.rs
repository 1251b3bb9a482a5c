//! The `mail_outbox` table: queuing a mail in the caller's transaction, the worker's claim
//! (a lease: `locked_by`/`locked_until`; on PostgreSQL with `FOR UPDATE SKIP LOCKED`), the
//! outcomes of an attempt, and the admin's list and resend.
//!
//! Only the holder of a row's lease records its outcome, so two workers never both mark one
//! row; a worker that died mid-send loses its lease when `locked_until` passes and the row is
//! claimed again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, TryInsertResult,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query},
};
use shared::{
    ErrorCode, Paging,
    mail::{MailKind, OutboxStatus},
};
use uuid::Uuid;

use crate::{
    entity::{MailOutbox, mail_outbox},
    error::ApiError,
    services::{begin_write, fetch_page},
};

/// How long a claim holds a row. Longer than any SMTP conversation (lettre's timeout is 60 s).
pub const LEASE: Duration = Duration::minutes(5);
/// Rows claimed at once (and at most recorded at once).
pub const BATCH: u64 = 100;

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub dedupe_key: String,
    pub kind: MailKind,
    pub ticket_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub reply_to: Option<String>,
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// `Pending`, or `Suppressed` for a mail that must not go out (kept for the record).
    pub status: OutboxStatus,
    pub last_error: Option<String>,
}

/// Queues `mail` unless a mail with its dedupe key exists; true if it was queued.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    mail: NewMail,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let row = mail_outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        dedupe_key: Set(mail.dedupe_key),
        kind: Set(mail.kind.as_str().to_owned()),
        ticket_id: Set(mail.ticket_id),
        user_id: Set(mail.user_id),
        recipient: Set(mail.recipient),
        subject: Set(mail.subject),
        body_text: Set(mail.body_text),
        body_html: Set(mail.body_html),
        message_id: Set(mail.message_id),
        in_reply_to: Set(mail.in_reply_to),
        thread_references: Set(mail.references),
        reply_to: Set(mail.reply_to),
        headers: Set(serde_json::Value::Object(mail.headers)),
        status: Set(mail.status.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(mail.last_error),
        smtp_reply: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
    };
    let inserted = MailOutbox::insert(row)
        .on_conflict_do_nothing_on([mail_outbox::Column::DedupeKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// Claims up to [`BATCH`] due rows for `worker` and counts the attempt. A row is due when it
/// is `pending` and its next attempt has come, or `sending` with a lapsed lease.
pub async fn claim(
    db: &DatabaseConnection,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<Vec<mail_outbox::Model>, ApiError> {
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    let mut due = Query::select();
    due.column(mail_outbox::Column::Id)
        .from(MailOutbox)
        .cond_where(
            Condition::any()
                .add(
                    Condition::all()
                        .add(mail_outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
                        .add(mail_outbox::Column::NextAttemptAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(mail_outbox::Column::Status.eq(OutboxStatus::Sending.as_str()))
                        .add(mail_outbox::Column::LockedUntil.lt(now)),
                ),
        )
        .order_by(mail_outbox::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(BATCH);
    if backend == DatabaseBackend::Postgres {
        // Rows another instance is claiming right now are skipped, not waited for.
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let claim = Query::update()
        .table(MailOutbox)
        .value(mail_outbox::Column::Status, OutboxStatus::Sending.as_str())
        .value(mail_outbox::Column::LockedBy, worker)
        .value(mail_outbox::Column::LockedUntil, now + LEASE)
        .value(
            mail_outbox::Column::Attempts,
            Expr::col(mail_outbox::Column::Attempts).add(1),
        )
        .and_where(Expr::col(mail_outbox::Column::Id).in_subquery(due))
        .returning_all()
        .to_owned();
    let rows = txn.query_all_raw(backend.build(&claim)).await?;
    let claimed = rows
        .iter()
        .map(|r| mail_outbox::Model::from_query_result(r, ""))
        .collect::<Result<Vec<_>, _>>()?;
    txn.commit().await?;
    Ok(claimed)
}

/// What became of one claimed row.
#[derive(Debug, Clone)]
pub enum End {
    /// The SMTP server accepted the mail.
    Sent { reply: String, at: DateTime<Utc> },
    /// The mail will never go out: a permanent refusal, an unbuildable message, or out of
    /// tries.
    Failed {
        error: String,
        reply: Option<String>,
    },
    /// A temporary failure: try again at `at`.
    Retry {
        error: String,
        reply: Option<String>,
        at: DateTime<Utc>,
    },
}

/// One row's outcome, to record.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: Uuid,
    pub end: End,
}

/// `CASE WHEN id = … THEN … ELSE col END` over `rows`: one value per row in one statement.
fn per_row(
    rows: &[(Uuid, sea_orm::Value)],
    col: mail_outbox::Column,
) -> sea_orm::sea_query::SimpleExpr {
    let mut case = sea_orm::sea_query::CaseStatement::new();
    for (id, value) in rows {
        case = case.case(
            Expr::col(mail_outbox::Column::Id).eq(*id),
            Expr::value(value.clone()),
        );
    }
    case.finally(Expr::col(col)).into()
}

/// Records the outcomes of a worker's attempts in one transaction, one statement per kind of
/// outcome. Only rows `worker` still holds are changed (the others passed to another worker
/// when their lease ran out); returns how many were.
pub async fn record(
    db: &DatabaseConnection,
    worker: &str,
    attempts: &[Attempt],
) -> Result<usize, ApiError> {
    use mail_outbox::Column as C;
    if attempts.is_empty() {
        return Ok(0);
    }
    let (mut sent, mut failed, mut retry) = (Vec::new(), Vec::new(), Vec::new());
    for a in attempts {
        match &a.end {
            End::Sent { .. } => sent.push(a),
            End::Failed { .. } => failed.push(a),
            End::Retry { .. } => retry.push(a),
        }
    }
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    let mut recorded = 0;
    for (status, group) in [
        (OutboxStatus::Sent, sent),
        (OutboxStatus::Failed, failed),
        (OutboxStatus::Pending, retry),
    ] {
        if group.is_empty() {
            continue;
        }
        let mut reply = Vec::new();
        let mut error = Vec::new();
        let mut time = Vec::new();
        for a in &group {
            match &a.end {
                End::Sent { reply: r, at } => {
                    reply.push((a.id, Some(r.clone()).into()));
                    time.push((a.id, Some(*at).into()));
                }
                End::Failed { error: e, reply: r } => {
                    reply.push((a.id, r.clone().into()));
                    error.push((a.id, Some(e.clone()).into()));
                }
                End::Retry {
                    error: e,
                    reply: r,
                    at,
                } => {
                    reply.push((a.id, r.clone().into()));
                    error.push((a.id, Some(e.clone()).into()));
                    time.push((a.id, (*at).into()));
                }
            }
        }
        let mut update = Query::update();
        update
            .table(MailOutbox)
            .value(C::Status, status.as_str())
            .value(C::LockedBy, Option::<String>::None)
            .value(C::LockedUntil, Option::<DateTime<Utc>>::None)
            .value(C::SmtpReply, per_row(&reply, C::SmtpReply));
        match status {
            OutboxStatus::Sent => {
                update.value(C::SentAt, per_row(&time, C::SentAt));
            }
            OutboxStatus::Failed => {
                update.value(C::LastError, per_row(&error, C::LastError));
            }
            _ => {
                update
                    .value(C::LastError, per_row(&error, C::LastError))
                    .value(C::NextAttemptAt, per_row(&time, C::NextAttemptAt));
            }
        }
        update
            .and_where(Expr::col(C::Id).is_in(group.iter().map(|a| a.id)))
            .and_where(Expr::col(C::LockedBy).eq(worker))
            .and_where(Expr::col(C::Status).eq(OutboxStatus::Sending.as_str()));
        let done = txn.execute_raw(backend.build(&update)).await?;
        recorded += done.rows_affected() as usize;
    }
    txn.commit().await?;
    Ok(recorded)
}

/// Newest first, optionally of one status.
pub async fn list(
    db: &DatabaseConnection,
    status: Option<OutboxStatus>,
    paging: Paging,
) -> Result<(Vec<mail_outbox::Model>, u64), ApiError> {
    let mut select = MailOutbox::find()
        .order_by_desc(mail_outbox::Column::CreatedAt)
        .order_by_asc(mail_outbox::Column::Id);
    if let Some(status) = status {
        select = select.filter(mail_outbox::Column::Status.eq(status.as_str()));
    }
    fetch_page(db, select, paging).await
}

/// Queues a sent or failed mail again, with the same Message-ID and content.
pub async fn resend(
    db: &DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<mail_outbox::Model, ApiError> {
    let txn = begin_write(db).await?;
    let row = MailOutbox::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("mail"))?;
    match row.status() {
        Some(OutboxStatus::Sent | OutboxStatus::Failed) => {}
        _ => {
            return Err(ApiError::Conflict(
                ErrorCode::Conflict,
                format!(
                    "only sent or failed mail can be sent again; this one is {}",
                    row.status
                ),
            ));
        }
    }
    let mut active: mail_outbox::ActiveModel = row.into();
    active.status = Set(OutboxStatus::Pending.as_str().to_owned());
    active.attempts = Set(0);
    active.next_attempt_at = Set(now);
    active.last_error = Set(None);
    active.locked_by = Set(None);
    active.locked_until = Set(None);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}
