//! `/api/settings`: SLA policies, queue behaviour, how admins get SLA-breach mail and whether
//! customers are asked for satisfaction ratings (admins).

use actix_web::{get, put, web};
use shared::{
    Envelope, ErrorBody, ErrorCode,
    settings::{SettingsDto, UpdateSettingsRequest},
};

use crate::{
    auth::{AdminUser, JsonBody},
    error::ApiError,
    services::{begin_write, settings, sla},
    state::AppState,
};

async fn current<C: sea_orm::ConnectionTrait>(db: &C) -> Result<SettingsDto, ApiError> {
    let queue = settings::queue(db).await?;
    let mail = settings::mail_admin(db).await?;
    Ok(SettingsDto {
        sla_breach_mail: mail.sla_breach_mail,
        sla_digest_hours: mail.digest_hours,
        sla_policies: settings::sla_policies(db).await?,
        sla_overrides: settings::sla_overrides(db).await?,
        sla_warning_percent: settings::sla_warning_percent(db).await?,
        assignment_interval_secs: queue.assignment_interval_secs,
        sla_check_interval_secs: queue.sla_check_interval_secs,
        release_on_offline: queue.release_on_offline,
        csat_enabled: settings::csat(db).await?.enabled,
    })
}

/// The current settings.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Settings", body = Envelope<SettingsDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/settings")]
pub async fn get(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<Envelope<SettingsDto>>, ApiError> {
    Ok(web::Json(Envelope::ok(current(&state.db).await?)))
}

/// Change any subset of the settings. New SLA policies, overrides, calendars and the warning
/// share apply to tickets created from now on; existing tickets keep the terms they recorded
/// (also when re-prioritised) until `POST /api/sla/recompute`.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    request_body = UpdateSettingsRequest,
    responses(
        (status = 200, description = "The settings now in force", body = Envelope<SettingsDto>),
        (status = 400, description = "`invalid_json`, also for negative numbers", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "`validation_failed`: zero or too large targets or intervals, response after resolution, an unknown calendar, override names empty or repeated, a warning share outside 1–99", body = ErrorBody),
    )
)]
#[put("/settings")]
pub async fn update(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: JsonBody<UpdateSettingsRequest>,
) -> Result<web::Json<Envelope<SettingsDto>>, ApiError> {
    let req = body.into_inner()?;
    let problems = req.problems();
    if !problems.is_empty() {
        return Err(ApiError::Validation {
            code: ErrorCode::ValidationFailed,
            message: format!("{} settings are invalid", problems.len()),
            fields: problems.into_iter().collect(),
        });
    }
    let txn = begin_write(&state.db).await?;
    let mut named = Vec::new();
    if let Some(id) = req.sla_policies.and_then(|p| p.calendar_id) {
        named.push(("sla_policies.calendar_id".to_owned(), id));
    }
    for (i, o) in req.sla_overrides.iter().flatten().enumerate() {
        if let Some(id) = o.policy.calendar_id {
            named.push((format!("sla_overrides[{i}].policy.calendar_id"), id));
        }
    }
    sla::check_calendars_exist(&txn, named).await?;
    if let Some(policies) = req.sla_policies {
        settings::put(&txn, settings::SLA_POLICIES, &policies).await?;
    }
    if let Some(overrides) = &req.sla_overrides {
        let trimmed: Vec<_> = overrides
            .iter()
            .cloned()
            .map(|mut o| {
                o.name = o.name.trim().to_owned();
                o
            })
            .collect();
        settings::put(&txn, settings::SLA_OVERRIDES, &trimmed).await?;
    }
    if let Some(percent) = req.sla_warning_percent {
        settings::put(&txn, settings::SLA_WARNING_PERCENT, &percent).await?;
    }
    let mut queue = settings::queue(&txn).await?;
    if let Some(v) = req.assignment_interval_secs {
        queue.assignment_interval_secs = v;
    }
    if let Some(v) = req.sla_check_interval_secs {
        queue.sla_check_interval_secs = v;
    }
    if let Some(v) = req.release_on_offline {
        queue.release_on_offline = v;
    }
    settings::put(&txn, settings::QUEUE, &queue).await?;
    if req.sla_breach_mail.is_some() || req.sla_digest_hours.is_some() {
        let mut mail = settings::mail_admin(&txn).await?;
        if let Some(v) = req.sla_breach_mail {
            mail.sla_breach_mail = v;
        }
        if let Some(v) = req.sla_digest_hours {
            mail.digest_hours = v;
        }
        settings::put(&txn, settings::MAIL_ADMIN, &mail).await?;
    }
    if let Some(enabled) = req.csat_enabled {
        settings::put(&txn, settings::CSAT, &settings::CsatSettings { enabled }).await?;
    }
    let dto = current(&txn).await?;
    txn.commit().await?;
    Ok(web::Json(Envelope::ok(dto)))
}
