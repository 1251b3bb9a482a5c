//! Managing API tokens: creating one (the secret is returned once and stored only as its
//! hash), listing them (one's own; admins everyone's) and revoking one. Checking a token on a
//! request is `auth::api_token`.
//!
//! Admins create tokens for integrations, agents personal ones; customers none. Only admins
//! may put the `admin` scope on a token. A token never grants more than its owner's role at
//! the time of each request, whatever its scopes.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};
use shared::{
    ErrorCode, Paging, Role,
    tokens::{self, CreateTokenRequest, CreatedToken, TokenDto},
};
use uuid::Uuid;

use crate::{
    auth::{AuthUser, api_token},
    entity::{ApiToken, api_token as row},
    error::ApiError,
    services::{fetch_page, tickets},
};

async fn to_dtos(
    db: &DatabaseConnection,
    rows: Vec<row::Model>,
) -> Result<Vec<TokenDto>, ApiError> {
    let owners = tickets::people(db, rows.iter().map(|t| t.owner_id)).await?;
    Ok(rows
        .into_iter()
        .map(|t| TokenDto {
            scopes: api_token::scopes_of(&t),
            owner: tickets::person_or_deleted(&owners, t.owner_id),
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            created_at: t.created_at,
        })
        .collect())
}

/// Creates a token owned by `actor` (staff only; the route admits no one else).
pub async fn create(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &AuthUser,
    req: CreateTokenRequest,
) -> Result<CreatedToken, ApiError> {
    let mut errors = Vec::new();
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > tokens::MAX_NAME_CHARS {
        errors.push((
            "name",
            ErrorCode::ValidationFailed,
            format!("1 to {} characters", tokens::MAX_NAME_CHARS),
        ));
    }
    let scopes: BTreeSet<_> = req.scopes.iter().copied().collect();
    if scopes.is_empty() {
        errors.push((
            "scopes",
            ErrorCode::ValidationFailed,
            "at least one scope".to_owned(),
        ));
    } else if actor.role != Role::Admin && scopes.iter().any(|s| s.admins_only()) {
        errors.push((
            "scopes",
            ErrorCode::ValidationFailed,
            "only admins may grant `admin`".to_owned(),
        ));
    }
    if req.expires_at.is_some_and(|at| at <= now) {
        errors.push((
            "expires_at",
            ErrorCode::ValidationFailed,
            "must be in the future".to_owned(),
        ));
    }
    if let Some(err) = ApiError::from_fields(errors) {
        return Err(err);
    }
    let active = ApiToken::find()
        .filter(row::Column::OwnerId.eq(actor.id))
        .filter(row::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(row::Column::ExpiresAt.is_null())
                .add(row::Column::ExpiresAt.gt(now)),
        )
        .count(db)
        .await?;
    if active >= tokens::MAX_ACTIVE_PER_OWNER {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            format!(
                "you already have {} active tokens; revoke one first",
                tokens::MAX_ACTIVE_PER_OWNER
            ),
        ));
    }
    let (secret, hash, prefix) = api_token::mint()?;
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let saved = row::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(actor.id),
        name: Set(name.to_owned()),
        scopes: Set(serde_json::json!(names)),
        token_hash: Set(hash),
        prefix: Set(prefix),
        expires_at: Set(req.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let token = to_dtos(db, vec![saved])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("token DTO missing")))?;
    Ok(CreatedToken { token, secret })
}

/// The caller's tokens, or (admins, `all`) everyone's; newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &AuthUser,
    all: bool,
    paging: Paging,
) -> Result<(Vec<TokenDto>, u64), ApiError> {
    if all && actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins list everyone's tokens".to_owned(),
        ));
    }
    let mut select = ApiToken::find();
    if !all {
        select = select.filter(row::Column::OwnerId.eq(actor.id));
    }
    let select = select
        .order_by_desc(row::Column::CreatedAt)
        .order_by_asc(row::Column::Id);
    let (rows, count) = fetch_page(db, select, paging).await?;
    Ok((to_dtos(db, rows).await?, count))
}

/// Revokes a token of the caller's, or (admins) anyone's; revoking twice keeps the first
/// time. Someone else's token is not found.
pub async fn revoke(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &AuthUser,
    id: Uuid,
) -> Result<(), ApiError> {
    let token = ApiToken::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.owner_id == actor.id || actor.role == Role::Admin)
        .ok_or(ApiError::NotFound("token"))?;
    if token.revoked_at.is_none() {
        let mut active = token.into_active_model();
        active.revoked_at = Set(Some(now));
        active.update(db).await?;
    }
    Ok(())
}
