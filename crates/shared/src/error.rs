//! Machine-readable error codes and the error body every failed request answers with.
//!
//! The SPA and third-party clients match on [`ErrorCode`], never on the English message.

use serde::{Deserialize, Serialize};

/// Stable, snake_case error codes. Adding a code is backwards compatible; renaming one is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed in a way no more specific code describes.
    BadRequest,
    /// 400: the body is not valid JSON, or has unknown fields or wrong types.
    InvalidJson,
    /// 400: a query-string parameter is missing, unknown or of the wrong type.
    InvalidQuery,
    /// 401: no bearer token was sent.
    Unauthorized,
    /// 401: the token is malformed, forged or revoked.
    InvalidToken,
    /// 401: the token's expiry is in the past.
    TokenExpired,
    /// 401: the API token was revoked by its owner or an admin.
    TokenRevoked,
    /// 401: email and password do not match an account (the same for both cases).
    InvalidCredentials,
    /// 401/403: the account has been deactivated by an administrator.
    AccountDisabled,
    /// WebSocket: the account's tokens were revoked while connected (deactivation, a role or
    /// password change, signing out everywhere); the socket closes with 1008. Reconnect with
    /// the current token: if it was revoked too, the connection is refused like a REST call.
    AccessRevoked,
    /// 403: authenticated, but this role may not do this.
    Forbidden,
    /// 403: the API token lacks the scope this route needs; `details.scope` names it.
    InsufficientScope,
    /// 403: this route takes only a login session (managing API tokens, one's own profile and
    /// password), never an API token.
    SessionRequired,
    /// 404: the resource does not exist or the caller may not see it.
    NotFound,
    /// 404: no route matches the path.
    RouteNotFound,
    /// 409: the change conflicts with the current state.
    Conflict,
    /// 409: another account already uses this email address.
    EmailTaken,
    /// 409: the ticket cannot move from its current status to the requested one;
    /// `details` has `from`, `to` and `allowed`.
    InvalidTransition,
    /// 409: the ticket is closed; nothing can be added to it.
    TicketClosed,
    /// 409: the ticket needs an assigned agent for this (e.g. to become `open`).
    NotAssigned,
    /// 409: someone else took or was assigned the ticket first.
    AlreadyAssigned,
    /// 409: the agent already has as many open tickets as their capacity allows.
    OverCapacity,
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// 415: the body's content type is not accepted here.
    UnsupportedMediaType,
    /// 422: well-formed input that breaks a rule; `details` names the fields.
    ValidationFailed,
    /// 422: the email address is not valid.
    InvalidEmail,
    /// 422: the password does not meet the password rules.
    WeakPassword,
    /// 422: an attachment id is unknown, not the caller's, or already attached elsewhere.
    InvalidAttachment,
    /// 422: a journey definition has problems; `details.problems` lists every one.
    InvalidJourney,
    /// 422: answers the journey would not produce; `details` has `reason` and `node_id`.
    InvalidAnswers,
    /// 422: a business-hours calendar is malformed (bad time zone, bad or overlapping
    /// intervals, bad holidays); `details.fields` names each problem.
    InvalidCalendar,
    /// 422: a business-hours calendar has no working time at all, so no deadline could ever
    /// fall inside it.
    NoWorkingTime,
    /// 409: the calendar is still used by an SLA policy or an override rule.
    CalendarInUse,
    /// 409: the ticket was merged into another (`details.merged_into` names it): it cannot be
    /// merged again or reopened, and only those who may see the target can reply through it.
    TicketMerged,
    /// 409: the two tickets belong to different customers; only an admin can merge them, with
    /// `confirm_cross_customer: true`.
    CrossCustomerMerge,
    /// 409: the two tickets are linked already (remove the link to change its relation).
    AlreadyLinked,
    /// 400: an unsubscribe link's token is malformed or its signature does not match.
    InvalidUnsubscribeToken,
    /// 400: a ticket tag is empty, too long or holds a character tags cannot have, or a
    /// ticket would carry too many tags (see `shared::tags`); `details.tag` names it.
    InvalidTag,
    /// 400: a satisfaction survey link's token is malformed or its signature does not match.
    InvalidSurveyToken,
    /// 409: satisfaction surveys are switched off (admin setting).
    SurveysDisabled,
    /// 409: there is no survey to answer: the ticket is not resolved, or the link is about a
    /// resolution that was reopened since.
    SurveyNotOpen,
    /// 409: the survey's window (7 days after the resolution) is over; the rating stands.
    SurveyClosed,
    /// 400: a user's `time_zone` is not an IANA time zone name (such as `Europe/Berlin`).
    InvalidTimeZone,
    /// 400: an `Idempotency-Key` header is empty, longer than 255 characters or holds a
    /// character other than printable ASCII.
    InvalidIdempotencyKey,
    /// 422: this `Idempotency-Key` was used before with a different request (another body or
    /// another route); use a new key for a new request.
    IdempotencyKeyReused,
    /// 409: the first request with this `Idempotency-Key` is still running; retry shortly
    /// (with the same key) to get its response.
    IdempotencyInProgress,
    /// 400: an `after` cursor is not one this list handed out (malformed or altered), or
    /// belongs to another sort order.
    InvalidCursor,
    /// 422: a webhook URL's host is (or resolves to) a loopback, private, link-local, CGNAT,
    /// multicast, unspecified or unique-local address, and private targets are not allowed.
    WebhookUrlRefused,
    /// 429: too many requests; retry later.
    RateLimited,
    /// 500: something failed on the server; nothing internal is disclosed.
    InternalError,
    /// 503: a dependency (the database) is unavailable.
    ServiceUnavailable,
}

impl ErrorCode {
    /// The HTTP status this code is normally sent with.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            BadRequest
            | InvalidJson
            | InvalidQuery
            | InvalidUnsubscribeToken
            | InvalidTag
            | InvalidSurveyToken
            | InvalidTimeZone
            | InvalidIdempotencyKey
            | InvalidCursor => 400,
            Unauthorized | InvalidToken | TokenExpired | TokenRevoked | InvalidCredentials
            | AccountDisabled | AccessRevoked => 401,
            Forbidden | InsufficientScope | SessionRequired => 403,
            NotFound | RouteNotFound => 404,
            Conflict
            | EmailTaken
            | InvalidTransition
            | TicketClosed
            | NotAssigned
            | AlreadyAssigned
            | OverCapacity
            | CalendarInUse
            | TicketMerged
            | CrossCustomerMerge
            | AlreadyLinked
            | SurveysDisabled
            | SurveyNotOpen
            | SurveyClosed
            | IdempotencyInProgress => 409,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            ValidationFailed | InvalidEmail | WeakPassword | InvalidAttachment | InvalidJourney
            | InvalidAnswers | InvalidCalendar | NoWorkingTime | IdempotencyKeyReused
            | WebhookUrlRefused => 422,
            RateLimited => 429,
            InternalError => 500,
            ServiceUnavailable => 503,
        }
    }

    /// The snake_case wire name, e.g. `"email_taken"`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            BadRequest => "bad_request",
            InvalidJson => "invalid_json",
            InvalidQuery => "invalid_query",
            Unauthorized => "unauthorized",
            InvalidToken => "invalid_token",
            TokenExpired => "token_expired",
            TokenRevoked => "token_revoked",
            InvalidCredentials => "invalid_credentials",
            AccountDisabled => "account_disabled",
            AccessRevoked => "access_revoked",
            Forbidden => "forbidden",
            InsufficientScope => "insufficient_scope",
            SessionRequired => "session_required",
            NotFound => "not_found",
            RouteNotFound => "route_not_found",
            Conflict => "conflict",
            EmailTaken => "email_taken",
            InvalidTransition => "invalid_transition",
            TicketClosed => "ticket_closed",
            NotAssigned => "not_assigned",
            AlreadyAssigned => "already_assigned",
            OverCapacity => "over_capacity",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            ValidationFailed => "validation_failed",
            InvalidEmail => "invalid_email",
            WeakPassword => "weak_password",
            InvalidAttachment => "invalid_attachment",
            InvalidJourney => "invalid_journey",
            InvalidAnswers => "invalid_answers",
            InvalidCalendar => "invalid_calendar",
            NoWorkingTime => "no_working_time",
            CalendarInUse => "calendar_in_use",
            TicketMerged => "ticket_merged",
            CrossCustomerMerge => "cross_customer_merge",
            AlreadyLinked => "already_linked",
            InvalidUnsubscribeToken => "invalid_unsubscribe_token",
            InvalidTag => "invalid_tag",
            InvalidSurveyToken => "invalid_survey_token",
            SurveysDisabled => "surveys_disabled",
            SurveyNotOpen => "survey_not_open",
            SurveyClosed => "survey_closed",
            InvalidTimeZone => "invalid_time_zone",
            InvalidIdempotencyKey => "invalid_idempotency_key",
            IdempotencyKeyReused => "idempotency_key_reused",
            IdempotencyInProgress => "idempotency_in_progress",
            InvalidCursor => "invalid_cursor",
            WebhookUrlRefused => "webhook_url_refused",
            RateLimited => "rate_limited",
            InternalError => "internal_error",
            ServiceUnavailable => "service_unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"success": false, "error": "human message", "code": "snake_case_code", "details": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A message for humans; may change between versions.
    pub error: String,
    /// The stable machine-readable code.
    pub code: ErrorCode,
    /// Structured context, e.g. `{"fields": {"email": "..."}}` for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
    /// The request's `X-Request-Id`, to quote when reporting a problem: the server's log lines
    /// for the request carry the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, error: impl Into<String>) -> Self {
        Self {
            success: false,
            error: error.into(),
            code,
            details: None,
            request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in [
            ErrorCode::EmailTaken,
            ErrorCode::InvalidJson,
            ErrorCode::PayloadTooLarge,
            ErrorCode::ServiceUnavailable,
        ] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn body_round_trips() {
        let body = ErrorBody::new(ErrorCode::WeakPassword, "too short");
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(json["success"], false);
        assert_eq!(json["code"], "weak_password");
        assert!(json.get("details").is_none());
        let back: ErrorBody = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, body);
    }
}
