//! `/api/events`: the event stream as a feed to poll (see [`crate::realtime::feed`]).

use actix_web::{get, web};
use shared::{
    Envelope, ErrorCode,
    feed::{EventFeedDto, EventFeedQuery},
};

use crate::{auth::AuthUser, error::ApiError, realtime::feed, state::AppState};

/// The events a WebSocket client of yours would receive, after `after_seq`, in `seq` order:
/// each item is the WebSocket frame itself. Continue with `next_after_seq` (ask again at once
/// while `has_more`). Events are kept 7 days: an older position answers `reset: true`
/// (reload over REST, then continue from `next_after_seq`).
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(EventFeedQuery),
    responses(
        (status = 200, description = "Events and where to continue", body = Envelope<EventFeedDto>),
    )
)]
#[get("/events")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<EventFeedQuery>,
) -> Result<web::Json<Envelope<EventFeedDto>>, ApiError> {
    let query = query.into_inner();
    let after_seq = query.after_seq.unwrap_or(0);
    if !(0..=EventFeedQuery::MAX_AFTER_SEQ).contains(&after_seq) {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            format!(
                "after_seq must be between 0 and {}",
                EventFeedQuery::MAX_AFTER_SEQ
            ),
        ));
    }
    let limit = query.limit.unwrap_or(EventFeedQuery::DEFAULT_LIMIT);
    if limit == 0 || limit > EventFeedQuery::MAX_LIMIT {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            format!("limit must be between 1 and {}", EventFeedQuery::MAX_LIMIT),
        ));
    }
    Ok(web::Json(Envelope::ok(
        feed::read(&state.db, &user, after_seq, limit).await?,
    )))
}
