//! API tokens as credentials: minting a secret, hashing it, and checking one sent as
//! `Authorization: Bearer hdk_…` on every request.
//!
//! A check is one lookup by the token's SHA-256 hash (a unique index), then the owner from the
//! user cache (which reads the database's `user_version` each time). Revocation, expiry, the
//! owner's deactivation and role changes therefore take effect on the very next request, on
//! every instance, with no cache of tokens to invalidate. `last_used_at` is written at most
//! once a minute per token. Managing tokens (create, list, revoke) is in
//! `services::api_tokens`; which scope a route needs is in [`super::scopes`].

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, sea_query::Expr};
use sha2::{Digest, Sha256};
use shared::{
    ErrorCode,
    tokens::{PREFIX, Scope},
};

use super::{extract::AuthUser, scopes::Need};
use crate::{
    entity::{ApiToken, api_token},
    error::ApiError,
    state::AppState,
};

/// Random bytes in a token.
const SECRET_BYTES: usize = 32;
/// Characters of the token kept for display (`hdk_` and 8 more).
const DISPLAY_CHARS: usize = PREFIX.len() + 8;
/// The longest a token can be: anything longer is not one of ours (and is not hashed).
const MAX_TOKEN_CHARS: usize = 128;
/// `last_used_at` is rewritten only when older than this.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A fresh token: (the secret to show once, its hash, its display prefix).
pub fn mint() -> Result<(String, String, String), ApiError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness for a token: {e}")))?;
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let prefix = secret.chars().take(DISPLAY_CHARS).collect();
    let hashed = hash(&secret);
    Ok((secret, hashed, prefix))
}

/// The stored form of a token: its SHA-256 in lower-case hex.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a bearer credential is an API token rather than a login JWT.
pub fn is_api_token(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// The scopes stored on a token (names this version does not know are dropped).
pub fn scopes_of(row: &api_token::Model) -> Vec<Scope> {
    let names: Vec<String> = serde_json::from_value(row.scopes.clone()).unwrap_or_default();
    names.iter().filter_map(|n| Scope::parse(n)).collect()
}

fn invalid() -> ApiError {
    ApiError::Unauthorized(ErrorCode::InvalidToken, "the token is invalid".into())
}

/// Checks an API token for a route that needs `need` (`None`: a route the scope table does not
/// know, refused like a session-only one) and loads its owner as the request's user.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    need: Option<Need>,
) -> Result<AuthUser, ApiError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(invalid());
    }
    let row = ApiToken::find()
        .filter(api_token::Column::TokenHash.eq(hash(token)))
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let now = state.clock.now();
    if row.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(
            ErrorCode::TokenRevoked,
            "this API token has been revoked".into(),
        ));
    }
    if row.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::Unauthorized(
            ErrorCode::TokenExpired,
            "this API token has expired".into(),
        ));
    }
    let owner = state
        .users
        .get(&state.db, row.owner_id)
        .await?
        .ok_or_else(invalid)?;
    if !owner.active {
        return Err(ApiError::Unauthorized(
            ErrorCode::AccountDisabled,
            "the account this token belongs to has been deactivated".into(),
        ));
    }
    match need {
        Some(Need::Scope(scope)) => {
            if !scopes_of(&row).contains(&scope) {
                return Err(ApiError::Detailed {
                    code: ErrorCode::InsufficientScope,
                    message: format!("this API token lacks the scope `{scope}`"),
                    details: serde_json::json!({ "scope": scope }),
                });
            }
        }
        Some(Need::Session) | Some(Need::Nothing) | None => {
            return Err(ApiError::Detailed {
                code: ErrorCode::SessionRequired,
                message: "API tokens cannot call this; sign in".into(),
                details: serde_json::json!({}),
            });
        }
    }
    touch(state, &row, now).await?;
    Ok(AuthUser {
        id: owner.id,
        role: owner.role.into(),
        user: owner,
    })
}

/// Records the use, at most once per [`TOUCH_EVERY`]: the condition repeats the check in the
/// statement, so instances racing on the same token write once.
async fn touch(
    state: &AppState,
    row: &api_token::Model,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let stale = now - TOUCH_EVERY;
    if row.last_used_at.is_some_and(|at| at > stale) {
        return Ok(());
    }
    ApiToken::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(row.id))
        .filter(
            Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lte(stale)),
        )
        .exec(&state.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_long_random_and_hashed() {
        let (a, hash_a, prefix_a) = mint().unwrap_or_default();
        let (b, ..) = mint().unwrap_or_default();
        assert!(is_api_token(&a));
        assert_ne!(a, b);
        // 32 bytes in unpadded base64url.
        assert_eq!(a.len(), PREFIX.len() + 43);
        assert!(
            a[PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(hash_a, hash(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(a.starts_with(&prefix_a));
        assert_eq!(prefix_a.len(), DISPLAY_CHARS);
        assert!(!is_api_token("eyJhbGciOiJIUzI1NiJ9.x.y"));
    }
}
