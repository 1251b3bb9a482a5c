//! Idempotency keys: the bookkeeping behind the `Idempotency-Key` header of write requests
//! (see [`crate::idempotent`] for the HTTP side).
//!
//! The first request with a key inserts its row — (user, key) is the primary key, so of any
//! number of concurrent requests exactly one insert wins and that request runs; the others
//! find the row. A row holds the fingerprint of the request (method, path, parsed body) and,
//! once the request finished, its status and body to replay. A row whose request is still
//! running has no status; if that stays so for [`ABANDONED_AFTER`] (the server died while
//! running it) a retry takes the key over and runs. Keys live [`TTL`]: an older row counts as
//! absent and the background jobs delete it ([`prune`]).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr,
    sea_query::Expr,
};
use sha2::{Digest, Sha256};
use shared::ErrorCode;
use uuid::Uuid;

use crate::{
    entity::{IdempotencyKey as Keys, idempotency_key},
    error::ApiError,
};

/// How long a key is remembered.
pub const TTL: Duration = Duration::hours(24);
/// How long a request may hold a key without finishing before a retry may take it over.
pub const ABANDONED_AFTER: Duration = Duration::minutes(5);
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A valid `Idempotency-Key`: 1 to 255 printable ASCII characters (space included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} characters long"
            ));
        }
        if !raw.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err("Idempotency-Key must hold printable ASCII characters only".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The fingerprint of a request: SHA-256 (hex) of method, path and the body as parsed (so
/// spacing and the order of fields do not matter; JSON objects serialise with sorted keys).
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(path.as_bytes());
    hash.update([0]);
    hash.update(body.to_string().as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a request with a key is to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Run: this request holds the key; record the outcome with [`complete`] or [`release`].
    Run,
    /// The same request finished before: answer with its response.
    Replay { status: u16, body: String },
    /// The same request is running right now (elsewhere).
    InProgress,
}

/// Claims `key` for the request with fingerprint `hash`, or says why not. A key used before
/// by a different request is a 422 `idempotency_key_reused`.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    key: &IdempotencyKey,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim, ApiError> {
    // A few rounds: the row found may expire or vanish between two statements.
    for _ in 0..3 {
        let row = idempotency_key::ActiveModel {
            user_id: Set(user_id),
            key: Set(key.0.clone()),
            request_hash: Set(hash.to_owned()),
            status: Set(None),
            response_body: Set(None),
            created_at: Set(now),
        };
        match Keys::insert(row).exec_without_returning(db).await {
            Ok(_) => return Ok(Claim::Run),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(existing) = Keys::find_by_id((user_id, key.0.clone())).one(db).await? else {
            continue;
        };
        if existing.created_at <= now - TTL {
            Keys::delete_many()
                .filter(idempotency_key::Column::UserId.eq(user_id))
                .filter(idempotency_key::Column::Key.eq(key.0.clone()))
                .filter(idempotency_key::Column::CreatedAt.eq(existing.created_at))
                .exec(db)
                .await?;
            continue;
        }
        if existing.request_hash != hash {
            return Err(ApiError::Detailed {
                code: ErrorCode::IdempotencyKeyReused,
                message: "this Idempotency-Key was used for a different request; use a new key"
                    .to_owned(),
                details: serde_json::json!({ "key": key.0 }),
            });
        }
        if let (Some(status), Some(body)) = (existing.status, existing.response_body) {
            return Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            });
        }
        if existing.created_at <= now - ABANDONED_AFTER {
            let taken = Keys::update_many()
                .col_expr(idempotency_key::Column::CreatedAt, Expr::value(now))
                .filter(idempotency_key::Column::UserId.eq(user_id))
                .filter(idempotency_key::Column::Key.eq(key.0.clone()))
                .filter(idempotency_key::Column::Status.is_null())
                .filter(idempotency_key::Column::CreatedAt.eq(existing.created_at))
                .exec(db)
                .await?;
            if taken.rows_affected == 1 {
                return Ok(Claim::Run);
            }
            continue;
        }
        return Ok(Claim::InProgress);
    }
    Ok(Claim::InProgress)
}

/// Records the response of the request that holds `key`, for replays.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    key: &IdempotencyKey,
    status: u16,
    body: String,
) -> Result<(), ApiError> {
    Keys::update_many()
        .col_expr(
            idempotency_key::Column::Status,
            Expr::value(i16::try_from(status).unwrap_or(500)),
        )
        .col_expr(idempotency_key::Column::ResponseBody, Expr::value(body))
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .filter(idempotency_key::Column::Key.eq(key.0.clone()))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives `key` up after a failure on the server's side (nothing to replay: a retry runs).
pub async fn release<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    key: &IdempotencyKey,
) -> Result<(), ApiError> {
    Keys::delete_many()
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .filter(idempotency_key::Column::Key.eq(key.0.clone()))
        .filter(idempotency_key::Column::Status.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes keys created before `before` (the jobs pass now − [`TTL`]).
pub async fn prune<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, ApiError> {
    Ok(Keys::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("order-42 retry #1").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "tab\there", "ünïcode", "new\nline"] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn fingerprints_ignore_field_order_but_not_content() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"subject":"a","description":"b"}"#).unwrap_or_default();
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "description": "b", "subject": "a" }"#).unwrap_or_default();
        let c = serde_json::json!({"subject": "a", "description": "c"});
        assert_eq!(
            fingerprint("POST", "/api/tickets", &a),
            fingerprint("POST", "/api/tickets", &b)
        );
        assert_ne!(
            fingerprint("POST", "/api/tickets", &a),
            fingerprint("POST", "/api/tickets", &c)
        );
        assert_ne!(
            fingerprint("POST", "/api/tickets", &a),
            fingerprint("POST", "/api/journeys/x/submit", &a)
        );
    }
}
