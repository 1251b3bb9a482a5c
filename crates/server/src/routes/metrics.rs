//! `GET /metrics`: Prometheus text format for admins (a scraper uses an admin's token, or an
//! API token later). Outside `/api` because it is not part of the JSON API; documented in
//! docs/operations.md.

use actix_web::{HttpResponse, web};

use crate::{auth::AdminUser, error::ApiError, state::AppState};

pub async fn scrape(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
