//! `/api/tickets/{id}/merge`: merge a duplicate ticket into another (staff).

use actix_web::{HttpResponse, post, web};
use shared::{
    Envelope, ErrorBody,
    links::{MergeRequest, MergeResultDto},
};
use uuid::Uuid;

use crate::{
    auth::{AgentUser, JsonBody},
    error::ApiError,
    services,
    state::AppState,
};

/// Merge this ticket (the source) into another (`target_id` or `target_number`). The source's
/// messages and attachments move into the target's conversation, marked with `merged_from`;
/// its description becomes a message of its customer's. The source is closed with
/// `merged_into` set and cannot be reopened or merged again; replies to it land in the
/// target. Both tickets must be visible to you. Tickets of different customers: admins only,
/// with `confirm_cross_customer: true`.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket to merge (the source)")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Merged", body = Envelope<MergeResultDto>),
        (status = 403, description = "Customers cannot merge tickets", body = ErrorBody),
        (status = 404, description = "No such ticket (source or target) you may see", body = ErrorBody),
        (status = 409, description = "`ticket_merged` (either ticket was merged already; `details.merged_into`), `ticket_closed` (the target is closed), `cross_customer_merge` (different customers: an agent, or an admin without `confirm_cross_customer`)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: neither or both of `target_id` and `target_number`, or the ticket itself", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/merge")]
pub async fn merge(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
    body: JsonBody<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner()?;
    let result = services::merge::merge(&state.db, &staff.0, id.into_inner(), req).await?;
    state.realtime.poke();
    // The source left the queue or its agent's load.
    state.jobs.trigger_assignment();
    Ok(HttpResponse::Ok().json(Envelope::ok(result)))
}
