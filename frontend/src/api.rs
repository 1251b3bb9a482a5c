//! Typed client for the Helpdesk REST API: one function per endpoint, each returning
//! `Result<T, ApiError>`.
//!
//! Success bodies are `shared::Envelope<T>` and are unwrapped to `T`; error bodies are decoded
//! into `shared::ErrorBody` so pages match on [`ErrorCode`], never on English text. Calls that
//! need a bearer token take the [`Session`] (the only owner of the token); when the server says
//! that token is no longer good, the session is ended here, once, for every caller.
//! Nothing in this module touches the DOM or the router.

use std::collections::BTreeMap;

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use shared::users::{AuthResponse, LoginRequest, RegisterRequest, UpdateMeRequest, UserDto};
use shared::{Envelope, ErrorBody, ErrorCode};

use crate::session::{SESSION_EXPIRED, Session};

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with its JSON error body.
    Server { status: u16, body: ErrorBody },
    /// No answer at all: offline, server down, or the request could not be sent.
    Network(String),
    /// An answer arrived but is not what this client understands (e.g. an HTML error page
    /// from a proxy, or a body that does not match the shared types).
    Unexpected { status: u16, detail: String },
    /// An authenticated call was attempted without a session.
    SignedOut,
}

impl ApiError {
    /// The machine-readable code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Server { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// True when the token used for the call can never work again, so the session must end.
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            ApiError::Server { status: 401, body } if matches!(
                body.code,
                ErrorCode::TokenExpired
                    | ErrorCode::InvalidToken
                    | ErrorCode::AccountDisabled
                    | ErrorCode::Unauthorized
            )
        )
    }

    /// Per-field messages from `details.fields` of a validation error, keyed by field name.
    pub fn field_errors(&self) -> BTreeMap<String, String> {
        let ApiError::Server { body, .. } = self else {
            return BTreeMap::new();
        };
        body.details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_object())
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|msg| (k.clone(), sentence(msg))))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A sentence to show the user. Known codes get wording of our own; for the rest the
    /// server's message is shown, because it names the specific problem.
    pub fn message(&self) -> String {
        match self {
            ApiError::Server { body, .. } => match body.code {
                ErrorCode::InvalidCredentials => "Email or password is incorrect.".into(),
                ErrorCode::EmailTaken => "An account with this email already exists.".into(),
                ErrorCode::AccountDisabled => {
                    "This account has been disabled. Please contact an administrator.".into()
                }
                ErrorCode::TokenExpired | ErrorCode::InvalidToken | ErrorCode::Unauthorized => {
                    SESSION_EXPIRED.into()
                }
                ErrorCode::Forbidden => "You do not have permission to do that.".into(),
                ErrorCode::RateLimited => {
                    "Too many attempts. Please wait a moment and try again.".into()
                }
                ErrorCode::InternalError | ErrorCode::ServiceUnavailable => {
                    "The server could not complete the request. Please try again in a moment."
                        .into()
                }
                ErrorCode::ValidationFailed if !self.field_errors().is_empty() => {
                    "Please correct the highlighted fields.".into()
                }
                _ => sentence(&body.error),
            },
            ApiError::Network(_) => {
                "Cannot reach the Helpdesk server. Check your connection and try again.".into()
            }
            ApiError::Unexpected { status, detail } => {
                format!(
                    "The server sent an answer this page cannot read (HTTP {status}: {detail})."
                )
            }
            ApiError::SignedOut => "Please sign in first.".into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Turns a parser or server message such as "email is required" into "Email is required.".
pub fn sentence(msg: &str) -> String {
    let msg = msg.trim();
    let mut chars = msg.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// `POST /api/auth/register`: creates a customer account and signs it in.
pub async fn register(req: &RegisterRequest) -> Result<AuthResponse, ApiError> {
    send(Request::post("/api/auth/register").json(req)).await
}

/// `POST /api/auth/login`.
pub async fn login(req: &LoginRequest) -> Result<AuthResponse, ApiError> {
    send(Request::post("/api/auth/login").json(req)).await
}

/// `GET /api/auth/me`: who the session's token belongs to.
pub async fn me(session: Session) -> Result<UserDto, ApiError> {
    authed(session, |bearer| {
        Request::get("/api/auth/me")
            .header("Authorization", bearer)
            .build()
    })
    .await
}

/// `PUT /api/auth/me`: changes the signed-in user's name and/or password.
///
/// A password change revokes the account's tokens, so the server may answer with a fresh
/// token (`AuthResponse`) instead of the bare user; the session then switches to that token.
pub async fn update_me(session: Session, req: &UpdateMeRequest) -> Result<UserDto, ApiError> {
    let auth: AuthResponse = authed(session, |bearer| {
        Request::put("/api/auth/me")
            .header("Authorization", bearer)
            .json(req)
    })
    .await?;
    // A password change revokes older tokens; the answer carries the replacement.
    session.replace_token(auth.token);
    Ok(auth.user)
}

// ---------------------------------------------------------------------------------------------
// Plumbing

/// Sends an authenticated request built by `build` (given the `Bearer …` header value) and ends
/// the session if the server rejects the token.
async fn authed<T: DeserializeOwned>(
    session: Session,
    build: impl FnOnce(&str) -> Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    let Some(token) = session.token() else {
        return Err(ApiError::SignedOut);
    };
    let result = send(build(&format!("Bearer {token}"))).await;
    if let Err(err) = &result
        && err.ends_session()
    {
        session.expire(&token, err);
    }
    result
}

async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    // Building only fails if the body cannot be serialised, which is a bug, but still a
    // readable error rather than a panic.
    let request = request.map_err(|e| ApiError::Network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(response).await
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        serde_json::from_str::<Envelope<T>>(&text)
            .map(|envelope| envelope.data)
            .map_err(|e| ApiError::Unexpected {
                status,
                detail: e.to_string(),
            })
    } else {
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(ApiError::Server { status, body }),
            Err(_) => {
                let reason = response.status_text();
                Err(ApiError::Unexpected {
                    status,
                    detail: if reason.is_empty() {
                        "no error details".into()
                    } else {
                        reason
                    },
                })
            }
        }
    }
}
