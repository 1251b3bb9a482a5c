//! `/api/analytics`: numbers for admins (agents see their own).

use actix_web::{get, web};
use shared::{
    Envelope, ErrorBody,
    analytics::{AnalyticsOverview, AnalyticsQuery, SlaBreakdown},
    csat::CsatAnalytics,
};

use crate::{
    auth::{AdminUser, AgentUser},
    error::ApiError,
    services::analytics,
    state::AppState,
};

/// Volumes, breakdowns, response and resolution times (average and p90), SLA compliance,
/// backlog per day and the per-agent table for a date range (default: the last 30 days; at
/// most 366 days). Agents get the same numbers over their own tickets only.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "The overview", body = Envelope<AnalyticsOverview>),
        (status = 400, description = "`invalid_query` (bad dates, from ≥ to, range too long)", body = ErrorBody),
        (status = 403, description = "Customers have no analytics", body = ErrorBody),
    )
)]
#[get("/analytics/overview")]
pub async fn overview(
    state: web::Data<AppState>,
    user: AgentUser,
    query: web::Query<AnalyticsQuery>,
) -> Result<web::Json<Envelope<AnalyticsOverview>>, ApiError> {
    let overview =
        analytics::overview(&state.db, &user.0, &query.into_inner(), state.clock.now()).await?;
    Ok(web::Json(Envelope::ok(overview)))
}

/// SLA compliance per policy and per calendar for the tickets created in a range (default:
/// the last 30 days; at most 366 days), with first-response and resolution times both in
/// wall-clock and in business time.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "The breakdown", body = Envelope<SlaBreakdown>),
        (status = 400, description = "`invalid_query` (bad dates, from ≥ to, range too long)", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/analytics/sla")]
pub async fn sla(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AnalyticsQuery>,
) -> Result<web::Json<Envelope<SlaBreakdown>>, ApiError> {
    let (from, to) = analytics::range(&query.into_inner(), state.clock.now())?;
    let breakdown = analytics::sla::breakdown(&state.db, from, to).await?;
    Ok(web::Json(Envelope::ok(breakdown)))
}

/// Customer satisfaction for the resolutions in a range (default: the last 30 days; at most
/// 366 days): overall, per agent (the ticket's agent when the rating was given), per category
/// and per UTC day. The CSAT score is the share of ratings of 4 or 5.
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "The breakdown", body = Envelope<CsatAnalytics>),
        (status = 400, description = "`invalid_query` (bad dates, from ≥ to, range too long)", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/analytics/csat")]
pub async fn csat(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AnalyticsQuery>,
) -> Result<web::Json<Envelope<CsatAnalytics>>, ApiError> {
    let (from, to) = analytics::range(&query.into_inner(), state.clock.now())?;
    let breakdown = analytics::csat::breakdown(&state.db, from, to).await?;
    Ok(web::Json(Envelope::ok(breakdown)))
}
