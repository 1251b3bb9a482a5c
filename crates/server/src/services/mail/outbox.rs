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
/// Rows claimed at once.
pub const BATCH: u64 = 20;

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

/// An update of a row `worker` still holds; false if the lease was lost meanwhile.
async fn finish(
    db: &DatabaseConnection,
    id: Uuid,
    worker: &str,
    set: Vec<(mail_outbox::Column, sea_orm::Value)>,
) -> Result<bool, ApiError> {
    let mut update = MailOutbox::update_many()
        .col_expr(
            mail_outbox::Column::LockedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            mail_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    for (col, value) in set {
        update = update.col_expr(col, Expr::value(value));
    }
    let done = update
        .filter(mail_outbox::Column::Id.eq(id))
        .filter(mail_outbox::Column::LockedBy.eq(worker))
        .filter(mail_outbox::Column::Status.eq(OutboxStatus::Sending.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The SMTP server accepted the mail.
pub async fn mark_sent(
    db: &DatabaseConnection,
    id: Uuid,
    worker: &str,
    reply: String,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use mail_outbox::Column as C;
    finish(
        db,
        id,
        worker,
        vec![
            (C::Status, OutboxStatus::Sent.as_str().into()),
            (C::SmtpReply, Some(reply).into()),
            (C::SentAt, Some(now).into()),
        ],
    )
    .await
}

/// The mail will never go out: a permanent refusal, an unbuildable message, or out of tries.
pub async fn mark_failed(
    db: &DatabaseConnection,
    id: Uuid,
    worker: &str,
    error: String,
    smtp_reply: Option<String>,
) -> Result<bool, ApiError> {
    use mail_outbox::Column as C;
    finish(
        db,
        id,
        worker,
        vec![
            (C::Status, OutboxStatus::Failed.as_str().into()),
            (C::LastError, Some(error).into()),
            (C::SmtpReply, smtp_reply.into()),
        ],
    )
    .await
}

/// A temporary failure: try again at `at`.
pub async fn mark_retry(
    db: &DatabaseConnection,
    id: Uuid,
    worker: &str,
    error: String,
    smtp_reply: Option<String>,
    at: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use mail_outbox::Column as C;
    finish(
        db,
        id,
        worker,
        vec![
            (C::Status, OutboxStatus::Pending.as_str().into()),
            (C::LastError, Some(error).into()),
            (C::SmtpReply, smtp_reply.into()),
            (C::NextAttemptAt, at.into()),
        ],
    )
    .await
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
