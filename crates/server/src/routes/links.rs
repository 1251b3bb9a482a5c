//! `/api/tickets/{id}/links`: links between related tickets (staff only).

use actix_web::{HttpResponse, delete, get, post, web};
use shared::{
    Envelope, ErrorBody,
    links::{CreateLinkRequest, TicketLinkDto},
};
use uuid::Uuid;

use crate::{
    auth::{AgentUser, JsonBody},
    error::ApiError,
    services::links,
    state::AppState,
};

/// The ticket's links, oldest first, each with the relation as seen from this ticket. The
/// linked ticket's subject and status are `null` when you may not see it.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The links", body = Envelope<Vec<TicketLinkDto>>),
        (status = 403, description = "Customers never see links", body = ErrorBody),
        (status = 404, description = "No such ticket you may see", body = ErrorBody),
    )
)]
#[get("/tickets/{id}/links")]
pub async fn list(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<Vec<TicketLinkDto>>>, ApiError> {
    let items = links::list(&state.db, &staff.0, id.into_inner()).await?;
    let n = items.len() as u64;
    Ok(web::Json(Envelope::page(
        items,
        shared::Paging {
            page: 1,
            per_page: links::MAX_LINKS as u64,
        },
        n,
    )))
}

/// Link another ticket (`target_id` or `target_number`, which you must be able to see) with a
/// relation as seen from this ticket: `related`, `duplicate_of`, `duplicated_by`, `caused_by`
/// or `causes`. The other ticket shows the inverse.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = CreateLinkRequest,
    responses(
        (status = 201, description = "Linked", body = Envelope<TicketLinkDto>),
        (status = 403, description = "Customers cannot link tickets", body = ErrorBody),
        (status = 404, description = "No such ticket (either) you may see", body = ErrorBody),
        (status = 409, description = "`already_linked` (`details.relation`), `conflict` (100 links on a ticket)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: neither or both of `target_id` and `target_number`, or the ticket itself", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/links")]
pub async fn create(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
    body: JsonBody<CreateLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner()?;
    let link = links::create(&state.db, &staff.0, id.into_inner(), req).await?;
    state.realtime.poke();
    Ok(HttpResponse::Created().json(Envelope::ok(link)))
}

/// Remove the link between this ticket and `other` (on both sides).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Ticket id"),
        ("other" = Uuid, Path, description = "The linked ticket's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Customers cannot change links", body = ErrorBody),
        (status = 404, description = "No such ticket you may see, or no such link", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `other` is the ticket itself", body = ErrorBody),
    )
)]
#[delete("/tickets/{id}/links/{other}")]
pub async fn remove(
    state: web::Data<AppState>,
    staff: AgentUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, other) = path.into_inner();
    links::remove(&state.db, &staff.0, id, other).await?;
    state.realtime.poke();
    Ok(HttpResponse::NoContent().finish())
}
