//! `/api/health`: liveness plus a database round trip, for load balancers and `make run`.

use actix_web::{get, web};
use sea_orm::ConnectionTrait;
use shared::{Envelope, ErrorBody, users::HealthDto};

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
    Ok(web::Json(Envelope::ok(HealthDto {
        status: "ok".to_owned(),
        database: state.settings.database_kind().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })))
}
