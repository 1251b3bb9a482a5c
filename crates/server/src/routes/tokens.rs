//! `/api/tokens`: API tokens for integrations (admins) and personal scripts (agents). Every
//! route here takes a login session only (see `auth::scopes::Need::Session`): a token cannot
//! mint, list or revoke tokens.

use actix_web::{HttpResponse, delete, get, post, web};
use shared::{
    Envelope, ErrorBody,
    tokens::{CreateTokenRequest, CreatedToken, TokenDto, TokenListQuery},
};
use uuid::Uuid;

use crate::{
    auth::{AgentUser, JsonBody},
    error::ApiError,
    services::{self, api_tokens},
    state::AppState,
};

/// Your API tokens, newest first (revoked and expired ones too); admins with `all=true`:
/// everyone's. Never the secrets.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(TokenListQuery),
    responses(
        (status = 200, description = "Tokens", body = Envelope<Vec<TokenDto>>),
        (status = 403, description = "`forbidden`: a customer, or `all=true` and not an admin", body = ErrorBody),
    )
)]
#[get("/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    staff: AgentUser,
    query: web::Query<TokenListQuery>,
) -> Result<web::Json<Envelope<Vec<TokenDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) =
        api_tokens::list(&state.db, &staff.0, query.all.unwrap_or(false), paging).await?;
    Ok(web::Json(Envelope::page(items, paging, count)))
}

/// Create an API token owned by you, acting with your rights limited to `scopes`. The answer
/// holds the secret (`hdk_…`): it is shown this once and stored only hashed.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = Envelope<CreatedToken>),
        (status = 403, description = "`forbidden`: customers have no API tokens", body = ErrorBody),
        (status = 409, description = "`conflict`: you already have the most active tokens one may hold", body = ErrorBody),
        (status = 422, description = "`validation_failed` on `name` (1 to 100 characters), `scopes` (none, or `admin` and you are not an admin) or `expires_at` (not in the future)", body = ErrorBody),
    )
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    staff: AgentUser,
    body: JsonBody<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let created =
        api_tokens::create(&state.db, state.clock.now(), &staff.0, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(Envelope::ok(created)))
}

/// Revoke a token: yours, or (admins) anyone's. The next request with it is refused
/// (`token_revoked`), on every server instance.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked (or revoked already)"),
        (status = 403, description = "`forbidden`: customers have no API tokens", body = ErrorBody),
        (status = 404, description = "No such token, or someone else's", body = ErrorBody),
    )
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    staff: AgentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    api_tokens::revoke(&state.db, state.clock.now(), &staff.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
