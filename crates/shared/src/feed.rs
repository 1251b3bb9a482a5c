//! `GET /api/events`: the live event stream as a pollable feed, for integrators that cannot
//! hold a WebSocket. The events are the WebSocket's frames, unchanged.

use serde::{Deserialize, Serialize};

/// `?after_seq=&limit=`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct EventFeedQuery {
    /// Events after this position of the stream (the `seq` of the last event you have, or
    /// the previous answer's `next_after_seq`); 0 or absent: from the oldest event kept.
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 9007199254740991.0))]
    pub after_seq: Option<i64>,
    /// Most events in one answer (default 100, at most 1000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000))]
    pub limit: Option<u64>,
}

impl EventFeedQuery {
    pub const DEFAULT_LIMIT: u64 = 100;
    pub const MAX_LIMIT: u64 = 1000;
    /// The largest `after_seq` (2^53 − 1, exact in every JSON implementation).
    pub const MAX_AFTER_SEQ: i64 = 9_007_199_254_740_991;
}

/// One answer of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventFeedDto {
    /// The events you may see, in `seq` order, each exactly as a WebSocket client gets it:
    /// `{"type": "event", "seq", "at", "event", "data"}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub events: Vec<serde_json::Value>,
    /// Send this as `after_seq` next time (it can be past the last event listed: events you
    /// may not see are skipped).
    pub next_after_seq: i64,
    /// `true` when more events are already waiting: ask again at once.
    pub has_more: bool,
    /// `true` when `after_seq` cannot be continued: the events after it were pruned (older
    /// than the retention), or it is beyond the stream's end. `events` is empty; reload what
    /// you show over REST and continue from `next_after_seq`, the stream's current end.
    pub reset: bool,
    /// Why `reset` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
