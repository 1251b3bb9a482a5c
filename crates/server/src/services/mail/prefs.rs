//! Per-user notification switches (`notification_prefs`; no row means on) and the one-click
//! unsubscribe that turns one off without signing in.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use shared::{
    ErrorCode, Role,
    mail::{MailKind, NotificationPreference, NotificationPreferences, UpdateNotificationsRequest},
};
use uuid::Uuid;

use crate::{
    entity::{NotificationPref, User, notification_pref},
    error::ApiError,
    services::{begin_write, mail::Signer},
};

/// Whether `user` wants mail of `kind`.
pub async fn enabled<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    kind: MailKind,
) -> Result<bool, ApiError> {
    Ok(
        NotificationPref::find_by_id((user, kind.as_str().to_owned()))
            .one(db)
            .await?
            .is_none_or(|p| p.enabled),
    )
}

/// The switches of a user of `role`.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    role: Role,
) -> Result<NotificationPreferences, ApiError> {
    let stored = NotificationPref::find()
        .filter(notification_pref::Column::UserId.eq(user))
        .all(db)
        .await?;
    let preferences = MailKind::preferences_for(role)
        .iter()
        .map(|&kind| NotificationPreference {
            kind,
            enabled: stored
                .iter()
                .find(|p| p.kind == kind.as_str())
                .is_none_or(|p| p.enabled),
            description: kind.describe().to_owned(),
        })
        .collect();
    Ok(NotificationPreferences { preferences })
}

async fn set<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    kind: MailKind,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    NotificationPref::insert(notification_pref::ActiveModel {
        user_id: Set(user),
        kind: Set(kind.as_str().to_owned()),
        enabled: Set(enabled),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            notification_pref::Column::UserId,
            notification_pref::Column::Kind,
        ])
        .update_columns([
            notification_pref::Column::Enabled,
            notification_pref::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Applies `req` for a user of `role`; a kind their role does not receive is a 422.
pub async fn update(
    db: &DatabaseConnection,
    user: Uuid,
    role: Role,
    req: &UpdateNotificationsRequest,
    now: DateTime<Utc>,
) -> Result<NotificationPreferences, ApiError> {
    let changes = req.changes();
    let allowed = MailKind::preferences_for(role);
    let mut fields = crate::error::FieldErrors::new();
    for (kind, _) in &changes {
        if !allowed.contains(kind) {
            fields.insert(
                kind.as_str().to_owned(),
                format!("{role} accounts do not receive this kind of mail"),
            );
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation {
            code: ErrorCode::ValidationFailed,
            message: "some switches do not apply to this account".to_owned(),
            fields,
        });
    }
    let txn = begin_write(db).await?;
    for (kind, enabled) in changes {
        set(&txn, user, kind, enabled, now).await?;
    }
    let prefs = get(&txn, user, role).await?;
    txn.commit().await?;
    Ok(prefs)
}

/// One-click unsubscribe: turns off the kind the signed `token` names for its user.
pub async fn unsubscribe(
    db: &DatabaseConnection,
    signer: &Signer,
    token: &str,
    now: DateTime<Utc>,
) -> Result<MailKind, ApiError> {
    let invalid = || {
        ApiError::BadRequest(
            ErrorCode::InvalidUnsubscribeToken,
            "this unsubscribe link is not valid".to_owned(),
        )
    };
    let (user, kind) = signer.verify_unsubscribe(token).ok_or_else(invalid)?;
    let txn = begin_write(db).await?;
    // A signed token of a deleted account is as useless as a forged one.
    if User::find_by_id(user).one(&txn).await?.is_none() || !kind.automated() {
        return Err(invalid());
    }
    set(&txn, user, kind, false, now).await?;
    txn.commit().await?;
    Ok(kind)
}
