//! Typed access to the `settings` table. Missing keys fall back to defaults, so a fresh
//! database works without any setup.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::{Serialize, de::DeserializeOwned};
use shared::sla::{DEFAULT_WARNING_PERCENT, SlaOverride, SlaPolicies};

use crate::{
    entity::{Setting, setting},
    error::ApiError,
};

pub const SLA_POLICIES: &str = "sla_policies";
pub const SLA_OVERRIDES: &str = "sla_overrides";
pub const SLA_WARNING_PERCENT: &str = "sla_warning_percent";
pub const QUEUE: &str = "queue";
pub const ROUND_ROBIN: &str = "round_robin";
pub const MAIL_ADMIN: &str = "mail_admin";
pub const CSAT: &str = "csat";

/// Customer satisfaction surveys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CsatSettings {
    /// Customers are asked to rate resolved tickets (on by default).
    pub enabled: bool,
}

impl CsatSettings {
    pub const DEFAULT: CsatSettings = CsatSettings { enabled: true };
}

pub async fn csat<C: ConnectionTrait>(db: &C) -> Result<CsatSettings, ApiError> {
    Ok(get(db, CSAT).await?.unwrap_or(CsatSettings::DEFAULT))
}

/// How admins get SLA-breach mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MailAdminSettings {
    pub sla_breach_mail: shared::settings::SlaBreachMail,
    /// The digest's period in hours.
    pub digest_hours: u32,
}

impl MailAdminSettings {
    pub const DEFAULT: MailAdminSettings = MailAdminSettings {
        sla_breach_mail: shared::settings::SlaBreachMail::PerBreach,
        digest_hours: 24,
    };
}

pub async fn mail_admin<C: ConnectionTrait>(db: &C) -> Result<MailAdminSettings, ApiError> {
    Ok(get(db, MAIL_ADMIN)
        .await?
        .unwrap_or(MailAdminSettings::DEFAULT))
}

/// How the queue and the background jobs behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct QueueSettings {
    /// Seconds between assignment runs (besides the immediate triggers).
    pub assignment_interval_secs: u32,
    /// Seconds between SLA monitor runs.
    pub sla_check_interval_secs: u32,
    /// When an agent goes offline, their open tickets go back to the queue.
    pub release_on_offline: bool,
}

impl QueueSettings {
    pub const DEFAULT: QueueSettings = QueueSettings {
        assignment_interval_secs: 10,
        sla_check_interval_secs: 60,
        release_on_offline: true,
    };
}

/// Where the round-robin rotation stopped: the agent who got the last ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RoundRobin {
    pub last_agent_id: Option<uuid::Uuid>,
}

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

/// Policies that replace the default one for a category or journey outcome.
pub async fn sla_overrides<C: ConnectionTrait>(db: &C) -> Result<Vec<SlaOverride>, ApiError> {
    Ok(get(db, SLA_OVERRIDES).await?.unwrap_or_default())
}

/// Share of an SLA window after which `sla-warning` goes out.
pub async fn sla_warning_percent<C: ConnectionTrait>(db: &C) -> Result<u8, ApiError> {
    Ok(get(db, SLA_WARNING_PERCENT)
        .await?
        .unwrap_or(DEFAULT_WARNING_PERCENT))
}

pub async fn queue<C: ConnectionTrait>(db: &C) -> Result<QueueSettings, ApiError> {
    Ok(get(db, QUEUE).await?.unwrap_or(QueueSettings::DEFAULT))
}

pub const WEBHOOKS: &str = "webhooks";

/// Webhook targets allowed (see `services::webhooks::ssrf`).
pub async fn webhooks<C: ConnectionTrait>(
    db: &C,
) -> Result<shared::webhooks::WebhookSettingsDto, ApiError> {
    Ok(get(db, WEBHOOKS).await?.unwrap_or_default())
}
