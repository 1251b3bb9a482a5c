//! `/api/tickets`: tickets, their conversation and their history.

use actix_web::{HttpRequest, HttpResponse, get, http::header, patch, post, web};
use shared::{
    Envelope, ErrorBody,
    envelope::PageQuery,
    tickets::{
        AssignRequest, CreateMessageRequest, CreateTicketRequest, HistoryEntryDto, MessageDto,
        MessageListQuery, TicketDto, TicketListQuery, TicketSummaryDto, UpdateTicketRequest,
    },
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, AgentUser, AuthUser, JsonBody},
    error::ApiError,
    list_cache::Stamp,
    services::{
        self, assignment, messages,
        tickets::{self, NewTicket},
    },
    state::AppState,
};

/// Tickets the caller may see: customers their own, agents the queue and their assigned
/// tickets, admins all.
///
/// The total (`count`) is exact up to 10,000 matches past the start of the page; beyond that
/// it says 10,000 more and `count_capped` is `true`. Staff asking for unassigned tickets
/// (`assigned_agent_id=none`, the queue) all get one shared page, with an `ETag`: send it back
/// in `If-None-Match` and an unchanged page is a `304`.
///
/// Besides page numbers, the list pages by cursor: every page says `has_more`, and (sorted by
/// `created_at` or `number`) carries `next`, a relative link to the following page
/// (`…&after=<cursor>`). Cursor pages never skip or repeat a ticket while tickets are
/// created, and carry no `count`.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(TicketListQuery),
    responses(
        (status = 200, description = "One page of tickets (without description and transcript: see `GET /api/tickets/{id}`)", body = Envelope<Vec<TicketSummaryDto>>),
        (status = 400, description = "`invalid_cursor`: `after` is not a cursor of this list and order", body = ErrorBody),
        (status = 304, description = "Not modified: the queue page is still the one whose `ETag` was sent in `If-None-Match`"),
    )
)]
#[get("/tickets")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<TicketListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let shared_view =
        user.role.is_staff() && query.assigned_agent_id.as_deref().map(str::trim) == Some("none");
    if !shared_view {
        let body = list_page(&state, &user, &query, paging, req.query_string()).await?;
        return Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(body));
    }
    // Taken before anything is read: a change after it changes the stamp.
    let stamp = Stamp {
        position: state.realtime.last_seq(),
        local_writes: state.realtime.local_writes(),
        user_version: state.users.version(),
        second: chrono::Utc::now().timestamp(),
    };
    let key = req.query_string().to_owned();
    let etag = stamp.etag(&key);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let body = match state.lists.get(&key, stamp) {
        Some(body) => body,
        None => {
            let body = list_page(&state, &user, &query, paging, req.query_string()).await?;
            state.lists.put(key, stamp, body.clone());
            body
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body))
}

/// One rendered page of `GET /api/tickets`: by page number, or after a cursor.
async fn list_page(
    state: &AppState,
    user: &AuthUser,
    query: &TicketListQuery,
    paging: shared::Paging,
    query_string: &str,
) -> Result<web::Bytes, ApiError> {
    let codec = services::cursor::Codec::new(&state.settings.jwt_secret)?;
    let page = tickets::list_page(&state.db, user, query, paging, &codec).await?;
    let mut hits = match tickets::search_of(user, query, state.db.get_database_backend())? {
        Some(search) => search.hits(&state.db, &page.rows).await?,
        None => Default::default(),
    };
    let dtos = tickets::to_dtos_for(&state.db, user, page.rows).await?;
    let rows: Vec<TicketSummaryDto> = dtos
        .into_iter()
        .map(|dto| {
            let mut row = TicketSummaryDto::from(dto);
            row.search = hits.remove(&row.id);
            row
        })
        .collect();
    let next = page
        .next
        .map(|c| services::cursor::next_link("/api/tickets", query_string, &c));
    let envelope = match page.count {
        Some((count, capped)) => {
            Envelope::page_counted(rows, paging, count, capped).with_next(page.has_more, next)
        }
        None => Envelope::after_cursor(rows, page.has_more, next),
    };
    serde_json::to_vec(&envelope)
        .map(web::Bytes::from)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding a ticket page: {e}")))
}

/// Open a ticket. Customers open their own; agents and admins open one for a customer
/// (`customer_id`).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(crate::idempotent::KeyHeader),
    request_body = CreateTicketRequest,
    responses(
        (status = 201, description = "Created (or, with `Idempotency-Replayed: true`, the response of the first request with this `Idempotency-Key`)", body = Envelope<TicketDto>),
        (status = 400, description = "`invalid_idempotency_key`", body = ErrorBody),
        (status = 409, description = "`idempotency_in_progress`: the first request with this key is still running", body = ErrorBody),
        (status = 422, description = "`validation_failed`, `invalid_attachment` or `idempotency_key_reused`", body = ErrorBody),
    )
)]
#[post("/tickets")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<CreateTicketRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let fingerprint = body.clone();
    crate::idempotent::run(&state, &req, user.id, &fingerprint, async {
        let new = NewTicket::parse(&user, body)?;
        let (_, dto) = tickets::create(&state.db, &state.mail, &user, new).await?;
        state.realtime.poke();
        state.jobs.trigger_mail();
        state.jobs.trigger_assignment();
        // Customers get their copy without SLA internals.
        let dto = if user.role.is_staff() {
            dto
        } else {
            shared::tickets::TicketDto::for_customer(dto)
        };
        Ok(HttpResponse::Created().json(Envelope::ok(dto)))
    })
    .await
}

/// One ticket (404 also when it exists but is not visible to the caller).
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = Envelope<TicketDto>),
        (status = 404, description = "No such ticket, or not yours", body = ErrorBody),
    )
)]
#[get("/tickets/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<TicketDto>>, ApiError> {
    let ticket = services::access::visible_ticket(&state.db, &user, id.into_inner(), false).await?;
    Ok(web::Json(Envelope::ok(
        tickets::to_dto_for(&state.db, &user, ticket).await?,
    )))
}

/// Change status (within the caller's workflow), priority or category (staff).
///
/// Staff: `new → open` (an agent opening a queued ticket takes it), `open → pending | resolved`,
/// `pending → open | resolved`, `resolved → open | closed`. Customers: close at any time,
/// reopen a resolved ticket.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = UpdateTicketRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<TicketDto>),
        (status = 403, description = "Customers cannot change priority or category", body = ErrorBody),
        (status = 404, description = "No such ticket, or not yours", body = ErrorBody),
        (status = 409, description = "`invalid_transition` (details: from, to, allowed) or `not_assigned`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[patch("/tickets/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateTicketRequest>,
) -> Result<web::Json<Envelope<TicketDto>>, ApiError> {
    let (id, req) = (id.into_inner(), body.into_inner()?);
    let ticket = tickets::update(&state.db, &state.mail, &user, id, req).await?;
    state.realtime.poke();
    state.jobs.trigger_mail();
    if !shared::TicketStatus::from(ticket.status).is_active() {
        // A resolved or closed ticket frees capacity for queued ones.
        state.jobs.trigger_assignment();
    }
    Ok(web::Json(Envelope::ok(
        tickets::to_dto_for(&state.db, &user, ticket).await?,
    )))
}

/// Every recorded change of the ticket: status, priority, category, assignee, SLA.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id"), PageQuery),
    responses(
        (status = 200, description = "History, oldest first", body = Envelope<Vec<HistoryEntryDto>>),
        (status = 404, description = "No such ticket, or not yours", body = ErrorBody),
    )
)]
#[get("/tickets/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Envelope<Vec<HistoryEntryDto>>>, ApiError> {
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) = tickets::history(&state.db, &user, id.into_inner(), paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// The conversation, oldest first. Customers never see internal notes.
///
/// Pages by number (`page`), or after a cursor (`after`, from the `next` link of the previous
/// page): messages added meanwhile come at the end, so a cursor never skips or repeats one.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id"), MessageListQuery),
    responses(
        (status = 200, description = "One page of messages", body = Envelope<Vec<MessageDto>>),
        (status = 400, description = "`invalid_cursor`: `after` is not a cursor of this list", body = ErrorBody),
        (status = 404, description = "No such ticket, or not yours", body = ErrorBody),
    )
)]
#[get("/tickets/{id}/messages")]
pub async fn list_messages(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<MessageListQuery>,
) -> Result<web::Json<Envelope<Vec<MessageDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let codec = services::cursor::Codec::new(&state.settings.jwt_secret)?;
    let after = match query.after.as_deref() {
        None => None,
        Some(_) if query.page.is_some() => {
            return Err(ApiError::BadRequest(
                shared::ErrorCode::InvalidQuery,
                "use either page or after, not both".to_owned(),
            ));
        }
        Some(cursor) => Some(codec.decode(cursor, messages::LIST)?),
    };
    let id = id.into_inner();
    let page = messages::list(&state.db, &user, id, paging, after.as_ref()).await?;
    let next = match page.last {
        Some(last) if page.has_more => Some(services::cursor::next_link(
            &format!("/api/tickets/{id}/messages"),
            req.query_string(),
            &codec.encode(&last),
        )),
        _ => None,
    };
    Ok(web::Json(match page.count {
        Some(count) => Envelope::page(page.items, paging, count).with_next(page.has_more, next),
        None => Envelope::after_cursor(page.items, page.has_more, next),
    }))
}

/// Reply publicly, or (staff) add an internal note. The first public staff reply meets the
/// response SLA; a customer reply reopens a pending or resolved ticket.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id"), crate::idempotent::KeyHeader),
    request_body = CreateMessageRequest,
    responses(
        (status = 201, description = "Added (or, with `Idempotency-Replayed: true`, the response of the first request with this `Idempotency-Key`)", body = Envelope<MessageDto>),
        (status = 400, description = "`invalid_idempotency_key`", body = ErrorBody),
        (status = 403, description = "Customers cannot write internal notes", body = ErrorBody),
        (status = 404, description = "No such ticket, or not yours", body = ErrorBody),
        (status = 409, description = "`ticket_closed` or `idempotency_in_progress`", body = ErrorBody),
        (status = 422, description = "`validation_failed`, `invalid_attachment` or `idempotency_key_reused`", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/messages")]
pub async fn create_message(
    http: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: JsonBody<CreateMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, req) = (id.into_inner(), body.into_inner()?);
    let fingerprint = req.clone();
    crate::idempotent::run(&state, &http, user.id, &fingerprint, async {
        let message = messages::create(&state.db, &state.mail, &user, id, req).await?;
        state.realtime.poke();
        state.jobs.trigger_mail();
        Ok(HttpResponse::Created().json(Envelope::ok(message)))
    })
    .await
}

/// Take an unassigned ticket from the queue (agents). When two agents race, exactly one wins.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "Yours now (status `open`)", body = Envelope<TicketDto>),
        (status = 403, description = "Not an agent (admins assign instead)", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "`already_assigned`, `over_capacity`, or `invalid_transition` (not new)", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/take")]
pub async fn take(
    state: web::Data<AppState>,
    user: AgentUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<TicketDto>>, ApiError> {
    let user = user.0;
    let ticket = assignment::take(
        &state.db,
        &state.mail,
        user.id,
        user.role,
        id.into_inner(),
        state.clock.now(),
    )
    .await?;
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(
        tickets::to_dto(&state.db, true, ticket).await?,
    )))
}

/// Assign a ticket to any active agent, or unassign it with `{"agent_id": null}` (admins).
/// Manual assignment ignores shifts and capacity.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "Assigned", body = Envelope<TicketDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The ticket is resolved or closed (`conflict`)", body = ErrorBody),
        (status = 422, description = "No active agent with that id", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/assign")]
pub async fn assign(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<AssignRequest>,
) -> Result<web::Json<Envelope<TicketDto>>, ApiError> {
    let ticket = assignment::assign(
        &state.db,
        &state.mail,
        admin.0.id,
        id.into_inner(),
        body.into_inner()?.agent_id,
        state.clock.now(),
    )
    .await?;
    state.realtime.poke();
    state.jobs.trigger_mail();
    if ticket.assigned_agent_id.is_none() {
        state.jobs.trigger_assignment();
    }
    Ok(web::Json(Envelope::ok(
        tickets::to_dto(&state.db, true, ticket).await?,
    )))
}

/// The ticket list as CSV (same filters and visibility as `GET /api/tickets`; `page`,
/// `per_page`, `sort` and `order` are ignored: rows come by ticket number). Streamed.
#[utoipa::path(
    tag = "tickets",
    security(("bearer" = [])),
    params(TicketListQuery),
    responses(
        (status = 200, description = "CSV, one row per ticket", content_type = "text/csv"),
    )
)]
#[get("/tickets/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<TicketListQuery>,
) -> Result<HttpResponse, ApiError> {
    use futures_util::StreamExt;
    let query = query.into_inner();
    // Ignored, but checked like everywhere else: every problem is a 400 before any byte.
    services::paging(query.page, query.per_page)?;
    let stream = services::export::stream_csv(state.db.clone(), &user, &query)?;
    let body = stream.map(|chunk| {
        chunk.map(actix_web::web::Bytes::from).map_err(|e| {
            log::error!("CSV export failed midway: {e}");
            actix_web::error::ErrorInternalServerError("export failed")
        })
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"tickets.csv\"",
        ))
        .streaming(body))
}
