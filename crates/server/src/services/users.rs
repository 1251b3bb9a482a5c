//! Accounts: creating them (self-registration and by admins), signing in, profile changes and
//! admin management. Passwords are hashed here; emails are normalised here.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use shared::{
    ErrorCode, Paging, Role,
    users::{UpdateMeRequest, UpdateUserRequest, UserListQuery},
    validate::{DisplayName, Email, Password, TimeZoneName},
};
use uuid::Uuid;

use crate::{
    auth::password,
    entity::{Agent, User, agent, user},
    error::ApiError,
};

use super::{
    events::{self, Revocation},
    like_pattern, search_text,
};

/// A validated request to create an account.
#[derive(Debug)]
pub struct NewAccount {
    pub email: Email,
    pub password: Password,
    pub name: DisplayName,
    pub role: Role,
}

impl NewAccount {
    /// Parses raw input, reporting every invalid field at once.
    pub fn parse(email: &str, password: &str, name: &str, role: Role) -> Result<Self, ApiError> {
        let email = Email::parse(email);
        let password = Password::parse(password);
        let name = DisplayName::parse(name);
        match (email, password, name) {
            (Ok(email), Ok(password), Ok(name)) => Ok(Self {
                email,
                password,
                name,
                role,
            }),
            (email, password, name) => {
                let mut errors = Vec::new();
                if let Err(m) = email {
                    errors.push(("email", ErrorCode::InvalidEmail, m));
                }
                if let Err(m) = password {
                    errors.push(("password", ErrorCode::WeakPassword, m));
                }
                if let Err(m) = name {
                    errors.push(("name", ErrorCode::ValidationFailed, m));
                }
                Err(ApiError::from_fields(errors).unwrap_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("invalid account without errors"))
                }))
            }
        }
    }
}

const EMAIL_TAKEN: &str = "an account with this email already exists";

/// Creates an account (and an agent profile for agents). A taken email is a 409 `email_taken`,
/// also when two requests race for it.
pub async fn create_account(
    db: &DatabaseConnection,
    bcrypt_cost: u32,
    account: NewAccount,
) -> Result<user::Model, ApiError> {
    let hash = password::hash(account.password.expose().to_owned(), bcrypt_cost).await?;
    let now = Utc::now();
    let txn = crate::services::begin_write(db).await?;
    let user = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(account.email.into_inner()),
        name: Set(account.name.into_inner()),
        password_hash: Set(hash),
        role: Set(account.role.into()),
        active: Set(true),
        token_version: Set(0),
        last_login_at: Set(None),
        email_bouncing_at: Set(None),
        time_zone: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| ApiError::on_unique_violation(e, ErrorCode::EmailTaken, EMAIL_TAKEN))?;
    if account.role == Role::Agent {
        ensure_agent_profile(&txn, user.id).await?;
    }
    txn.commit().await?;
    Ok(user)
}

/// Gives a user an agent profile if they do not have one yet.
pub async fn ensure_agent_profile<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<(), ApiError> {
    if Agent::find_by_id(user_id).one(db).await?.is_none() {
        agent::Model::new_profile(user_id, Utc::now())
            .insert(db)
            .await?;
    }
    Ok(())
}

/// Signs a user in. Unknown email and wrong password give the same error after the same work.
pub async fn authenticate(
    db: &DatabaseConnection,
    bcrypt_cost: u32,
    email: &str,
    password_attempt: &str,
) -> Result<user::Model, ApiError> {
    let invalid = || {
        ApiError::Unauthorized(
            ErrorCode::InvalidCredentials,
            "email or password is incorrect".to_owned(),
        )
    };
    let found = match Email::parse(email) {
        Ok(email) => {
            User::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let Some(found) = found else {
        password::verify_dummy(password_attempt.to_owned(), bcrypt_cost).await?;
        return Err(invalid());
    };
    if !password::verify(password_attempt.to_owned(), found.password_hash.clone()).await? {
        return Err(invalid());
    }
    if !found.active {
        return Err(ApiError::Unauthorized(
            ErrorCode::AccountDisabled,
            "this account has been deactivated".to_owned(),
        ));
    }
    let mut active = found.into_active_model();
    active.last_login_at = Set(Some(Utc::now()));
    Ok(active.update(db).await?)
}

/// Changes one's own name and/or password. A new password needs the current one and revokes
/// every token issued before.
pub async fn update_profile(
    db: &DatabaseConnection,
    bcrypt_cost: u32,
    current: user::Model,
    req: UpdateMeRequest,
) -> Result<user::Model, ApiError> {
    let mut errors = Vec::new();
    let name = match req.name.as_deref().map(DisplayName::parse) {
        Some(Ok(n)) => Some(n),
        Some(Err(m)) => {
            errors.push(("name", ErrorCode::ValidationFailed, m));
            None
        }
        None => None,
    };
    let new_password = match req.new_password.as_deref().map(Password::parse) {
        Some(Ok(p)) => Some(p),
        Some(Err(m)) => {
            errors.push(("new_password", ErrorCode::WeakPassword, m));
            None
        }
        None => None,
    };
    if new_password.is_some() && req.current_password.is_none() {
        errors.push((
            "current_password",
            ErrorCode::ValidationFailed,
            "current password is required to set a new one".to_owned(),
        ));
    }
    // `""` clears the zone; anything else must name one.
    let time_zone = match req.time_zone.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(raw) => match TimeZoneName::parse(raw) {
            Ok(tz) => Some(Some(tz.as_str().to_owned())),
            Err(m) if errors.is_empty() => {
                return Err(ApiError::Detailed {
                    code: ErrorCode::InvalidTimeZone,
                    message: m.clone(),
                    details: serde_json::json!({ "fields": { "time_zone": m } }),
                });
            }
            Err(m) => {
                errors.push(("time_zone", ErrorCode::InvalidTimeZone, m));
                None
            }
        },
    };
    if let Some(err) = ApiError::from_fields(errors) {
        return Err(err);
    }

    let mut active = current.clone().into_active_model();
    if let Some(name) = name {
        active.name = Set(name.into_inner());
    }
    if let Some(time_zone) = time_zone {
        active.time_zone = Set(time_zone);
    }
    let mut revoked = false;
    if let (Some(new_password), Some(current_password)) = (new_password, req.current_password) {
        if !password::verify(current_password, current.password_hash.clone()).await? {
            return Err(ApiError::field(
                ErrorCode::InvalidCredentials,
                "current_password",
                "current password is incorrect",
            ));
        }
        active.password_hash =
            Set(password::hash(new_password.expose().to_owned(), bcrypt_cost).await?);
        active.token_version = Set(current.token_version + 1);
        revoked = true;
    }
    let now = Utc::now();
    active.updated_at = Set(now);
    let txn = crate::services::begin_write(db).await?;
    let updated = active.update(&txn).await?;
    if revoked {
        events::revoke_access(&txn, updated.id, Revocation::PasswordChanged, now).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Revokes every token of `current` and ends their live sessions on every instance ("sign out
/// everywhere"). The caller's own token stops working too.
pub async fn sign_out_everywhere(
    db: &DatabaseConnection,
    current: user::Model,
) -> Result<user::Model, ApiError> {
    let now = Utc::now();
    let txn = crate::services::begin_write(db).await?;
    let version = current.token_version + 1;
    let mut active = current.into_active_model();
    active.token_version = Set(version);
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    events::revoke_access(&txn, updated.id, Revocation::SignedOutEverywhere, now).await?;
    txn.commit().await?;
    Ok(updated)
}

pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<user::Model, ApiError> {
    User::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// One page of users matching the filters, oldest first (stable), and the total count.
pub async fn list(
    db: &DatabaseConnection,
    query: &UserListQuery,
    paging: Paging,
) -> Result<(Vec<user::Model>, u64), ApiError> {
    let mut cond = Condition::all();
    if let Some(role) = query.role {
        cond = cond.add(user::Column::Role.eq(user::UserRole::from(role)));
    }
    if let Some(active) = query.active {
        cond = cond.add(user::Column::Active.eq(active));
    }
    if let Some(q) = search_text(query.q.as_deref())? {
        let pattern = like_pattern(&q.as_str().to_lowercase());
        cond = cond.add(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(user::Column::Email)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(user::Column::Name)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    let select = User::find()
        .filter(cond)
        .order_by_asc(user::Column::CreatedAt)
        .order_by_asc(user::Column::Id);
    super::fetch_page(db, select, paging).await
}

/// An admin changes another account's name, role or active flag. Deactivation and role
/// changes revoke the account's tokens. Admins cannot demote or deactivate themselves, so
/// there is always at least one active admin.
pub async fn update_by_admin(
    db: &DatabaseConnection,
    actor: Uuid,
    id: Uuid,
    req: UpdateUserRequest,
) -> Result<user::Model, ApiError> {
    let name = match req.name.as_deref().map(DisplayName::parse) {
        Some(Ok(n)) => Some(n),
        Some(Err(m)) => return Err(ApiError::field(ErrorCode::ValidationFailed, "name", m)),
        None => None,
    };
    let txn = crate::services::begin_write(db).await?;
    let current = User::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let current_role: Role = current.role.into();
    if actor == id && (req.active == Some(false) || req.role.is_some_and(|r| r != current_role)) {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            "you cannot deactivate or demote your own account".to_owned(),
        ));
    }
    let mut revoke = false;
    let mut active = current.clone().into_active_model();
    if let Some(name) = name {
        active.name = Set(name.into_inner());
    }
    if let Some(role) = req.role.filter(|r| *r != current_role) {
        active.role = Set(role.into());
        revoke = true;
        if role == Role::Agent {
            ensure_agent_profile(&txn, id).await?;
        }
    }
    if let Some(flag) = req.active.filter(|a| *a != current.active) {
        active.active = Set(flag);
        revoke |= !flag;
    }
    let now = Utc::now();
    active.updated_at = Set(now);
    if revoke {
        active.token_version = Set(current.token_version + 1);
    }
    let updated = active.update(&txn).await?;
    if revoke {
        let reason = if updated.active {
            Revocation::RoleChanged
        } else {
            Revocation::Deactivated
        };
        events::revoke_access(&txn, id, reason, now).await?;
    }
    txn.commit().await?;
    Ok(updated)
}
