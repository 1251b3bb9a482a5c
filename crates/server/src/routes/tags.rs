//! Ticket tags: `PUT /api/tickets/{id}/tags` (staff who may see the ticket), `GET /api/tags`
//! (staff: the known tags with their counts, for autocomplete) and `GET /api/analytics/tags`
//! (admins). The rules for a tag live in `shared::tags`.

use actix_web::{get, put, web};
use shared::{
    Envelope, ErrorBody,
    analytics::AnalyticsQuery,
    tags::{SetTagsRequest, TagAnalyticsDto, TagCountDto, TagListQuery},
    tickets::TicketDto,
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, AgentUser, JsonBody},
    error::ApiError,
    services::{self, tags, tickets},
    state::AppState,
};

/// Replace the ticket's tags with the given set (staff who may see the ticket). Each tag is
/// normalised (trimmed, lower-case, inner spaces as `-`); at most 40 characters of letters,
/// digits and `-_./`, at most 20 per ticket. Each tag added or removed is a `tag` history
/// entry; a change sends `ticket-updated`.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = SetTagsRequest,
    responses(
        (status = 200, description = "The ticket with its new tags", body = Envelope<TicketDto>),
        (status = 400, description = "`invalid_tag` (`details.tag` names it; also too many tags)", body = ErrorBody),
        (status = 403, description = "Customers cannot tag tickets", body = ErrorBody),
        (status = 404, description = "No such ticket, or not one you may see", body = ErrorBody),
    )
)]
#[put("/tickets/{id}/tags")]
pub async fn set(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
    body: JsonBody<SetTagsRequest>,
) -> Result<web::Json<Envelope<TicketDto>>, ApiError> {
    let (id, req) = (id.into_inner(), body.into_inner()?);
    let ticket = tags::set(&state.db, &staff.0, id, req).await?;
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(
        tickets::to_dto(&state.db, true, ticket).await?,
    )))
}

/// Known tags with the number of tickets carrying each (all tickets, whoever may see them),
/// most used first, then by name; `q` keeps the tags starting with it.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(TagListQuery),
    responses(
        (status = 200, description = "Tags and their counts", body = Envelope<Vec<TagCountDto>>),
        (status = 403, description = "Customers see no tags", body = ErrorBody),
    )
)]
#[get("/tags")]
pub async fn list(
    state: web::Data<AppState>,
    _staff: AgentUser,
    query: web::Query<TagListQuery>,
) -> Result<web::Json<Envelope<Vec<TagCountDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) = tags::list(&state.db, &query, paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// Tags of the tickets created in a range (default: the last 30 days; at most 366 days): how
/// many tickets, how many carry a tag, and the count per tag (the 100 most used).
#[utoipa::path(
    tag = "analytics",
    security(("bearer" = [])),
    params(AnalyticsQuery),
    responses(
        (status = 200, description = "Tag counts", body = Envelope<TagAnalyticsDto>),
        (status = 400, description = "`invalid_query` (bad dates, from ≥ to, range too long)", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/analytics/tags")]
pub async fn analytics(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AnalyticsQuery>,
) -> Result<web::Json<Envelope<TagAnalyticsDto>>, ApiError> {
    let counts = tags::counts_in_range(&state.db, &query.into_inner(), state.clock.now()).await?;
    Ok(web::Json(Envelope::ok(counts)))
}
