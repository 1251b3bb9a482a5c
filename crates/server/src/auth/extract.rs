//! Request extractors: `AuthUser` (any signed-in user), `AgentUser` (agents and admins),
//! `AdminUser` and `CustomerUser`. Each checks the bearer token, then the account as it is
//! now (from [`super::cache`], which checks the database's `user_version` on every request),
//! so a deactivated user, a changed password or a demotion takes effect on the very next
//! request, on every server instance.
//!
//! The bearer credential is a login JWT or an API token (`hdk_…`, see [`super::api_token`]).
//! An API token is also held to the scope its route needs: the extractor looks the matched
//! route pattern up in [`super::scopes`], so no handler can forget it.
//!
//! Also [`JsonBody`]: a JSON body whose errors wait until the handler runs. Actix extracts a
//! handler's arguments concurrently, so with a plain `web::Json` a malformed body could be
//! answered (400) before the caller was found not to be allowed (401/403): who may call a
//! route must be decided before anything about the body is said.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use shared::{ErrorCode, Role};
use uuid::Uuid;

use super::{api_token, scopes};
use crate::{entity::user, error::ApiError, state::AppState};

/// Any authenticated, active user.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
    /// The account as loaded for this request.
    pub user: user::Model,
}

/// An authenticated agent or admin (staff who work tickets).
#[derive(Debug, Clone)]
pub struct AgentUser(pub AuthUser);

/// An authenticated admin.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

/// An authenticated customer (journeys are walked by customers; staff open tickets directly).
#[derive(Debug, Clone)]
pub struct CustomerUser(pub AuthUser);

/// The token from `Authorization: Bearer <token>`.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("sign in first: missing Authorization header"))?;
    let value = value.to_str().map_err(|_| {
        ApiError::Unauthorized(
            ErrorCode::InvalidToken,
            "malformed Authorization header".into(),
        )
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::Unauthorized(
            ErrorCode::InvalidToken,
            "expected `Authorization: Bearer <token>`".into(),
        )),
    }
}

/// Verifies a bearer credential and loads its user; shared by HTTP extractors and the
/// WebSocket handshake. `need` is what the route asks of an API token (from
/// [`scopes::need`]); a login JWT is not limited by it.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    need: Option<scopes::Need>,
) -> Result<AuthUser, ApiError> {
    if api_token::is_api_token(token) {
        return api_token::authenticate(state, token, need).await;
    }
    let claims = state.jwt.verify(token)?;
    let user = state
        .users
        .get(&state.db, claims.sub)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized(ErrorCode::InvalidToken, "the token is invalid".into())
        })?;
    if !user.active {
        return Err(ApiError::Unauthorized(
            ErrorCode::AccountDisabled,
            "this account has been deactivated".into(),
        ));
    }
    if user.token_version != claims.ver {
        return Err(ApiError::Unauthorized(
            ErrorCode::InvalidToken,
            "the token has been revoked; sign in again".into(),
        ));
    }
    Ok(AuthUser {
        id: user.id,
        role: user.role.into(),
        user,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        let need = req
            .match_pattern()
            .and_then(|pattern| scopes::need(req.method(), &pattern));
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not registered")))?;
            authenticate(&state, &token?, need).await
        })
    }
}

type UserFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Authenticates like [`AuthUser`], then admits only the roles `allowed` accepts (403 for the
/// others).
fn restricted<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    allowed: fn(Role) -> bool,
    wrap: fn(AuthUser) -> T,
) -> UserFuture<T> {
    let user = AuthUser::from_request(req, payload);
    Box::pin(async move {
        let user = user.await?;
        if allowed(user.role) {
            Ok(wrap(user))
        } else {
            Err(ApiError::forbidden())
        }
    })
}

impl FromRequest for AgentUser {
    type Error = ApiError;
    type Future = UserFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        restricted(req, payload, Role::is_staff, AgentUser)
    }
}

impl FromRequest for CustomerUser {
    type Error = ApiError;
    type Future = UserFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        restricted(req, payload, |role| role == Role::Customer, CustomerUser)
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = UserFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        restricted(req, payload, |role| role == Role::Admin, AdminUser)
    }
}

/// A JSON request body, parsed like `web::Json` (same limits, content type and error codes),
/// whose error is reported by [`JsonBody::into_inner`] inside the handler, that is, only
/// after the user extractors have admitted the caller.
pub struct JsonBody<T>(Result<T, actix_web::Error>);

impl<T> JsonBody<T> {
    /// The body, or the 400/413/415 it earned.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0.map_err(ApiError::Rejected)
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<T>::from_request(req, payload);
        Box::pin(async move { Ok(JsonBody(body.await.map(web::Json::into_inner))) })
    }
}
