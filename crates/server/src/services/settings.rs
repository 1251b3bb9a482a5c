//! Typed access to the `settings` table. Missing keys fall back to defaults, so a fresh
//! database works without any setup.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::{Serialize, de::DeserializeOwned};
use shared::sla::SlaPolicies;

use crate::{
    entity::{Setting, setting},
    error::ApiError,
};

pub const SLA_POLICIES: &str = "sla_policies";

/// Reads a setting, or `None` when it was never written. A stored value that no longer parses
/// is logged and treated as missing rather than breaking every request.
pub async fn get<C: ConnectionTrait, T: DeserializeOwned>(
    db: &C,
    key: &str,
) -> Result<Option<T>, ApiError> {
    let Some(row) = Setting::find_by_id(key.to_owned()).one(db).await? else {
        return Ok(None);
    };
    match serde_json::from_value(row.value) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            log::error!("setting `{key}` is unreadable, using the default: {e}");
            Ok(None)
        }
    }
}

/// Writes (inserts or replaces) a setting.
pub async fn put<C: ConnectionTrait, T: Serialize>(
    db: &C,
    key: &str,
    value: &T,
) -> Result<(), ApiError> {
    let value = serde_json::to_value(value)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising setting {key}: {e}")))?;
    Setting::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn sla_policies<C: ConnectionTrait>(db: &C) -> Result<SlaPolicies, ApiError> {
    Ok(get(db, SLA_POLICIES).await?.unwrap_or_default())
}
