//! Health checks for load balancers, orchestrators and `make run`:
//!
//! - `/api/health`: a database round trip (unchanged contract);
//! - `/api/health/live`: the process is up and serving (no dependency is touched);
//! - `/api/health/ready`: the database answers, every migration is applied, and the background
//!   jobs run where this instance is configured to run them; 503 with the failing checks
//!   otherwise, so a balancer sends no traffic to an instance that cannot serve it.

use actix_web::{get, web};
use migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;
use shared::{
    Envelope, ErrorBody, ErrorCode,
    users::{HealthDto, ReadinessDto},
};

use crate::{error::ApiError, state::AppState};

/// Reports `ok` when the database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Healthy", body = Envelope<HealthDto>),
        (status = 503, description = "Database unreachable (`service_unavailable`)", body = ErrorBody),
    )
)]
#[get("/health")]
pub async fn health(
    state: web::Data<AppState>,
) -> Result<web::Json<Envelope<HealthDto>>, ApiError> {
    state
        .db
        .execute_unprepared("SELECT 1")
        .await
        .map_err(|e| ApiError::Unavailable(format!("database check failed: {e}")))?;
    Ok(web::Json(Envelope::ok(ok(&state))))
}

/// `ok`, with the database kind and the version.
fn ok(state: &AppState) -> HealthDto {
    HealthDto {
        status: "ok".to_owned(),
        database: state.settings.database_kind().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Liveness: answers as long as the process serves requests.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The process is up", body = Envelope<HealthDto>),
    )
)]
#[get("/health/live")]
pub async fn live(state: web::Data<AppState>) -> web::Json<Envelope<HealthDto>> {
    web::Json(Envelope::ok(ok(&state)))
}

/// Readiness: the database answers, migrations are applied, jobs run where enabled.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready for traffic", body = Envelope<ReadinessDto>),
        (status = 503, description = "Not ready (`service_unavailable`); `details` is the `ReadinessDto` with the failing checks", body = ErrorBody),
    )
)]
#[get("/health/ready")]
pub async fn ready(
    state: web::Data<AppState>,
) -> Result<web::Json<Envelope<ReadinessDto>>, ApiError> {
    let database = match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => "ok".to_owned(),
        Err(e) => {
            log::warn!("readiness: database check failed: {e}");
            "unreachable".to_owned()
        }
    };
    let migrations = if database == "ok" {
        match Migrator::get_pending_migrations(&state.db).await {
            Ok(pending) if pending.is_empty() => "ok".to_owned(),
            Ok(pending) => format!("{} pending", pending.len()),
            Err(e) => {
                log::warn!("readiness: cannot read the migration table: {e}");
                "unknown".to_owned()
            }
        }
    } else {
        "unknown".to_owned()
    };
    let jobs = match (state.settings.background_jobs, state.jobs.running()) {
        (false, _) => "disabled",
        (true, true) => "running",
        (true, false) => "stopped",
    }
    .to_owned();
    let ok = database == "ok" && migrations == "ok" && jobs != "stopped";
    let report = ReadinessDto {
        status: if ok { "ok" } else { "unavailable" }.to_owned(),
        database,
        migrations,
        jobs,
    };
    if ok {
        return Ok(web::Json(Envelope::ok(report)));
    }
    Err(ApiError::Detailed {
        code: ErrorCode::ServiceUnavailable,
        message: "this instance is not ready".to_owned(),
        details: serde_json::to_value(&report).unwrap_or_default(),
    })
}
