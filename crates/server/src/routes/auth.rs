//! `/api/auth`: self-registration, sign-in and one's own profile.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::Utc;
use sea_orm::EntityTrait;
use shared::{
    Envelope, ErrorBody, ErrorCode, Role,
    users::{AuthResponse, LoginRequest, RegisterRequest, UpdateMeRequest, UserDto},
};

use crate::{
    auth::{AuthUser, JsonBody},
    entity::{User, user},
    error::ApiError,
    services::users::{self, NewAccount},
    state::AppState,
};

fn token_response(state: &AppState, user: user::Model) -> Result<AuthResponse, ApiError> {
    let (token, expires_at) =
        state
            .jwt
            .issue(user.id, user.role.into(), user.token_version, Utc::now())?;
    Ok(AuthResponse {
        token,
        expires_at,
        user: user.into(),
    })
}

/// Register a customer account and sign in.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; signed in", body = Envelope<AuthResponse>),
        (status = 409, description = "Email already registered (`email_taken`)", body = ErrorBody),
        (status = 422, description = "`invalid_email`, `weak_password` or `validation_failed`", body = ErrorBody),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    body: JsonBody<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner()?;
    let account = NewAccount::parse(&req.email, &req.password, &req.name, Role::Customer)?;
    let user = users::create_account(&state.db, state.settings.bcrypt_cost, account).await?;
    log::info!("registered customer {}", user.id);
    Ok(HttpResponse::Created().json(Envelope::ok(token_response(&state, user)?)))
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Envelope<AuthResponse>),
        (status = 401, description = "`invalid_credentials` (same for unknown email and wrong password) or `account_disabled`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed attempts for this email from this client; see `Retry-After`", body = ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    http: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<LoginRequest>,
) -> Result<web::Json<Envelope<AuthResponse>>, ApiError> {
    let req = body.into_inner()?;
    // The socket's address, not a forwarded header a client could forge.
    let ip = http.peer_addr().map(|a| a.ip());
    state
        .login_throttle
        .check(ip, &req.email)
        .map_err(ApiError::RateLimited)?;
    let result = users::authenticate(
        &state.db,
        state.settings.bcrypt_cost,
        &req.email,
        &req.password,
    )
    .await;
    let user = match result {
        Ok(user) => {
            state.login_throttle.record_success(ip, &req.email);
            user
        }
        Err(e) => {
            if e.code() == ErrorCode::InvalidCredentials {
                state.login_throttle.record_failure(ip, &req.email);
            }
            return Err(e);
        }
    };
    Ok(web::Json(Envelope::ok(token_response(&state, user)?)))
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The current user", body = Envelope<UserDto>),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired` or `account_disabled`", body = ErrorBody),
    )
)]
#[get("/auth/me")]
pub async fn me(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<Envelope<UserDto>>, ApiError> {
    // Read afresh: the signed-in account may come from the cache, which does not follow
    // `last_login_at`.
    let current = User::find_by_id(user.id)
        .one(&state.db)
        .await?
        .unwrap_or(user.user);
    Ok(web::Json(Envelope::ok(current.into())))
}

/// Change one's own name, password and/or time zone.
///
/// Changing the password requires `current_password` and signs out every other session; the
/// response carries a fresh token in that case. `time_zone` is an IANA name (`""` clears it).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated; a new token for the changed account", body = Envelope<AuthResponse>),
        (status = 400, description = "`invalid_time_zone`: `time_zone` is not an IANA time zone name", body = ErrorBody),
        (status = 422, description = "`weak_password`, `validation_failed`, or `invalid_credentials` for a wrong current password", body = ErrorBody),
    )
)]
#[put("/auth/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<UpdateMeRequest>,
) -> Result<web::Json<Envelope<AuthResponse>>, ApiError> {
    let updated = users::update_profile(
        &state.db,
        state.settings.bcrypt_cost,
        user.user,
        body.into_inner()?,
    )
    .await?;
    state.realtime.poke();
    Ok(web::Json(Envelope::ok(token_response(&state, updated)?)))
}

/// Sign out everywhere: revokes every token of the signed-in user, this one included, and
/// closes their open WebSocket connections on every server instance (close code 1008).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out everywhere; sign in again for a new token"),
        (status = 401, description = "`unauthorized`, `invalid_token`, `token_expired` or `account_disabled`", body = ErrorBody),
    )
)]
#[post("/auth/logout-everywhere")]
pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let updated = users::sign_out_everywhere(&state.db, user.user).await?;
    state.realtime.poke();
    log::info!("user {} signed out everywhere", updated.id);
    Ok(HttpResponse::NoContent().finish())
}
