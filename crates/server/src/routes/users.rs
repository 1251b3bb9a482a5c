//! `/api/users`: account management for admins.

use actix_web::{HttpResponse, get, patch, post, web};
use shared::{
    Envelope, ErrorBody,
    users::{CreateUserRequest, UpdateUserRequest, UserDto, UserListQuery},
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, JsonBody},
    error::ApiError,
    services::{
        self,
        users::{self as user_service, NewAccount},
    },
    state::AppState,
};

/// List accounts, oldest first, with filters.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "One page of users", body = Envelope<Vec<UserDto>>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<UserListQuery>,
) -> Result<web::Json<Envelope<Vec<UserDto>>>, ApiError> {
    let query = query.into_inner();
    let paging = services::paging(query.page, query.per_page)?;
    let (items, count) = user_service::list(&state.db, &query, paging).await?;
    Ok(web::Json(Envelope::page(
        items.into_iter().map(UserDto::from).collect(),
        paging,
        count,
    )))
}

/// Create an account of any role (agents also get an agent profile).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = Envelope<UserDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_email`, `weak_password` or `validation_failed`", body = ErrorBody),
    )
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner()?;
    let account = NewAccount::parse(&req.email, &req.password, &req.name, req.role)?;
    let user = user_service::create_account(&state.db, state.settings.bcrypt_cost, account).await?;
    log::info!("admin {} created {} user {}", admin.0.id, req.role, user.id);
    Ok(HttpResponse::Created().json(Envelope::ok(UserDto::from(user))))
}

/// One account.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = Envelope<UserDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<UserDto>>, ApiError> {
    let user = user_service::get(&state.db, id.into_inner()).await?;
    Ok(web::Json(Envelope::ok(user.into())))
}

/// Change an account's name, role or active flag. Deactivating signs the user out everywhere.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<UserDto>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "An admin cannot deactivate or demote themselves (`conflict`)", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<web::Json<Envelope<UserDto>>, ApiError> {
    let user =
        user_service::update_by_admin(&state.db, admin.0.id, id.into_inner(), body.into_inner()?)
            .await?;
    // A deactivation or role change closes the user's sockets.
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(user.into())))
}
