//! The one error type of the HTTP API.
//!
//! Every failure a handler or extractor can produce becomes an [`ApiError`], which renders the
//! design's envelope `{"success": false, "error", "code", "details"}`. Database and unexpected
//! errors are logged in full and answered with a 500 that discloses nothing internal.

use std::collections::BTreeMap;

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::{JsonPayloadError, PathError, QueryPayloadError},
    http::StatusCode,
};
use sea_orm::{DbErr, SqlErr};
use shared::{ErrorBody, ErrorCode};

/// Per-field validation messages, rendered as `details.fields`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed request (`bad_request`, `invalid_json`, `invalid_query`).
    #[error("{1}")]
    BadRequest(ErrorCode, String),
    /// 401: missing, invalid, expired or revoked credentials.
    #[error("{1}")]
    Unauthorized(ErrorCode, String),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the named resource does not exist or is not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404: no route matches.
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// 409: conflicts with the current state (`conflict`, `email_taken`, …).
    #[error("{1}")]
    Conflict(ErrorCode, String),
    /// 409 `invalid_transition`: the ticket cannot go from `from` to `to`.
    #[error("a ticket cannot go from {from} to {to}")]
    Transition {
        from: shared::TicketStatus,
        to: shared::TicketStatus,
        allowed: Vec<String>,
    },
    /// 413: the body exceeds the limit (in bytes).
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 415: the content type is not accepted.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: input breaks a rule; `fields` says which and why.
    #[error("{message}")]
    Validation {
        code: ErrorCode,
        message: String,
        fields: FieldErrors,
    },
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    /// A 4xx with its code's status and structured `details` (e.g. every problem of a
    /// journey definition).
    #[error("{message}")]
    Detailed {
        code: ErrorCode,
        message: String,
        details: serde_json::Value,
    },
    /// 503: the database is unreachable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a database error; logged, never shown. (A database that cannot be reached is a
    /// 503 [`ApiError::Unavailable`] instead: see `From<DbErr>`.)
    #[error(transparent)]
    Database(DbErr),
    /// 500: anything else unexpected; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    /// A request body the extractor refused ([`crate::auth::JsonBody`]), reported only once
    /// the caller is known to be allowed: the wrapped error is rendered as it is.
    #[error("{0}")]
    Rejected(actix_web::Error),
}

impl From<DbErr> for ApiError {
    /// A database that cannot be reached (down, restarting, the pool exhausted) is a 503 the
    /// client may retry; any other database error is a 500.
    fn from(e: DbErr) -> Self {
        if unreachable(&e) {
            ApiError::Unavailable(format!("database unreachable: {e}"))
        } else {
            ApiError::Database(e)
        }
    }
}

/// Whether a database error means "could not talk to the database" rather than "the
/// statement failed": connection and pool errors, I/O errors, and PostgreSQL's connection
/// exception (08) and operator intervention (57P: shutting down, starting up) classes.
fn unreachable(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    match &**sqlx {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(code, _)
            | ApiError::Unauthorized(code, _)
            | ApiError::Conflict(code, _) => *code,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::Transition { .. } => ErrorCode::InvalidTransition,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::RouteNotFound(_) => ErrorCode::RouteNotFound,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::Validation { code, .. } => *code,
            ApiError::RateLimited(_) => ErrorCode::RateLimited,
            ApiError::Detailed { code, .. } => *code,
            ApiError::Unavailable(_) => ErrorCode::ServiceUnavailable,
            ApiError::Database(_) | ApiError::Internal(_) => ErrorCode::InternalError,
            ApiError::Rejected(e) => e
                .as_error::<ApiError>()
                .map_or(ErrorCode::BadRequest, ApiError::code),
        }
    }

    /// A 422 for one field, with the field-specific code (`invalid_email`, `weak_password`, …).
    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), message.clone());
        ApiError::Validation {
            code,
            message,
            fields,
        }
    }

    /// A 422 from collected field errors: the specific code when exactly one field failed with
    /// one, otherwise `validation_failed`.
    pub fn from_fields(mut errors: Vec<(&str, ErrorCode, String)>) -> Option<Self> {
        match errors.len() {
            0 => None,
            1 => errors
                .pop()
                .map(|(field, code, message)| Self::field(code, field, message)),
            n => Some(ApiError::Validation {
                code: ErrorCode::ValidationFailed,
                message: format!("{n} fields are invalid"),
                fields: errors
                    .into_iter()
                    .map(|(f, _, m)| (f.to_owned(), m))
                    .collect(),
            }),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(ErrorCode::Unauthorized, message.into())
    }

    pub fn forbidden() -> Self {
        ApiError::Forbidden("you are not allowed to do this".to_owned())
    }

    /// Turns a unique-constraint violation into a 409 with `code`; anything else stays a
    /// database error.
    pub fn on_unique_violation(err: DbErr, code: ErrorCode, message: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                ApiError::Conflict(code, message.to_owned())
            }
            _ => ApiError::Database(err),
        }
    }

    /// The JSON error body (also the content of a WebSocket `error` frame).
    pub(crate) fn body(&self) -> ErrorBody {
        if let ApiError::Rejected(e) = self
            && let Some(inner) = e.as_error::<ApiError>()
        {
            return inner.body();
        }
        let mut body = ErrorBody::new(self.code(), self.to_string());
        body.request_id = crate::request_id::current();
        match self {
            ApiError::Validation { fields, .. } => {
                body.details = Some(serde_json::json!({ "fields": fields }));
            }
            ApiError::Transition { from, to, allowed } => {
                body.details =
                    Some(serde_json::json!({ "from": from, "to": to, "allowed": allowed }));
            }
            ApiError::Detailed { details, .. } => {
                body.details = Some(details.clone());
            }
            ApiError::RateLimited(secs) => {
                body.details = Some(serde_json::json!({ "retry_after_secs": secs }));
            }
            ApiError::PayloadTooLarge(limit) => {
                body.details = Some(serde_json::json!({ "limit_bytes": limit }));
            }
            ApiError::Database(_) | ApiError::Internal(_) => {
                body.error = "internal server error".to_owned();
            }
            ApiError::Unavailable(_) => {
                body.error = "service unavailable".to_owned();
            }
            _ => {}
        }
        body
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        if let ApiError::Rejected(e) = self {
            return e.as_response_error().status_code();
        }
        if let ApiError::Validation { .. } = self {
            // A field-level problem is always a 422, whatever its specific code.
            return StatusCode::UNPROCESSABLE_ENTITY;
        }
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Database(e) => log::error!("database error: {e}"),
            ApiError::Internal(e) => log::error!("internal error: {e:#}"),
            ApiError::Unavailable(e) => log::warn!("unavailable: {e}"),
            _ => {}
        }
        let mut resp = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited(secs) = self {
            resp.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        if let ApiError::Unavailable(_) = self {
            resp.insert_header((actix_web::http::header::RETRY_AFTER, "5"));
        }
        resp.json(self.body())
    }
}

/// Error handler for `web::JsonConfig`: bad JSON is the client's fault, never a 500.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::PayloadTooLarge(limit),
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "expected a JSON body with Content-Type: application/json".to_owned(),
        ),
        JsonPayloadError::Deserialize(e) => {
            ApiError::BadRequest(ErrorCode::InvalidJson, format!("invalid JSON body: {e}"))
        }
        other => ApiError::BadRequest(ErrorCode::BadRequest, format!("unreadable body: {other}")),
    };
    api.into()
}

/// Error handler for `web::QueryConfig`.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(
        ErrorCode::InvalidQuery,
        format!("invalid query string: {err}"),
    )
    .into()
}

/// Error handler for `web::PathConfig`: a malformed id in the path.
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(ErrorCode::BadRequest, format!("invalid path: {err}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn render(err: ApiError) -> (u16, serde_json::Value) {
        let resp = err.error_response();
        let status = resp.status().as_u16();
        let bytes = to_bytes(resp.into_body()).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[actix_web::test]
    async fn internal_errors_disclose_nothing() {
        let (status, body) = render(ApiError::Database(DbErr::Custom(
            "relation users does not exist at 10.0.0.3".into(),
        )))
        .await;
        assert_eq!(status, 500);
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["error"], "internal server error");
        assert_eq!(body["success"], false);
    }

    #[actix_web::test]
    async fn validation_lists_fields() {
        let err = ApiError::from_fields(vec![
            ("email", ErrorCode::InvalidEmail, "bad".into()),
            ("password", ErrorCode::WeakPassword, "short".into()),
        ])
        .expect("two errors");
        let (status, body) = render(err).await;
        assert_eq!(status, 422);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["details"]["fields"]["password"], "short");

        let single = ApiError::from_fields(vec![("email", ErrorCode::InvalidEmail, "bad".into())])
            .expect("one error");
        assert_eq!(single.code(), ErrorCode::InvalidEmail);
        assert!(ApiError::from_fields(vec![]).is_none());
    }
}
