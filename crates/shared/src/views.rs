//! Saved views: a named ticket-list view (the filters, sort and search text of
//! `GET /api/tickets`), personal to its owner or shared by an admin with all staff, and the
//! number of tickets each one holds for the caller.
//!
//! A view's `filters` are the fields of [`TicketListQuery`] without the paging, in their JSON
//! form (`{"status": "new,open", "assigned_agent_id": "me"}`); the SPA applies a view by
//! sending them as the list's query parameters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tickets::{PersonDto, TicketListQuery};

/// Longest view name, in chars.
pub const MAX_NAME_CHARS: usize = 100;
/// Most personal views one user may keep, and most shared views there may be.
pub const MAX_VIEWS: u64 = 50;
/// A view's count stops here (`capped` says there are more): counting a million matches on
/// every refresh would cost more than the dashboard it serves.
pub const COUNT_CAP: u64 = 1_000;

/// A saved view as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ViewDto {
    pub id: Uuid,
    pub name: String,
    /// The list's filters, sort and search text (`GET /api/tickets` parameters without `page`
    /// and `per_page`); `assigned_agent_id: "me"` means whoever opens the view.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[serde(serialize_with = "set_fields_only")]
    pub filters: TicketListQuery,
    /// Seen by all agents and admins (managed by admins), or personal.
    pub shared: bool,
    /// The owner of a personal view.
    pub owner: Option<PersonDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Writes only the filters that are set, as a view stores them.
fn set_fields_only<S: serde::Serializer>(q: &TicketListQuery, s: S) -> Result<S::Ok, S::Error> {
    let mut value = serde_json::to_value(q).map_err(serde::ser::Error::custom)?;
    if let Some(fields) = value.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    value.serialize(s)
}

/// `POST /api/views`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ViewRequest {
    pub name: String,
    /// `GET /api/tickets` parameters without `page` and `per_page`, as a JSON object (strings
    /// as in the query, `escalated`/`breaching_soon` booleans). Checked like a list request:
    /// a filter the list would refuse is a 400 `invalid_query` here.
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub filters: serde_json::Value,
    /// Shared with all staff (admins only); default personal. Fixed once created.
    #[serde(default)]
    pub shared: bool,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// `PATCH /api/views/{id}`: what is given changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateViewRequest {
    pub name: Option<String>,
    /// Replaces all the filters.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filters: Option<serde_json::Value>,
}

/// `GET /api/views/counts`: how many tickets a view holds for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ViewCountDto {
    pub view_id: Uuid,
    /// Exact up to [`COUNT_CAP`]; at the cap when `capped`.
    pub count: u64,
    /// More than [`COUNT_CAP`] tickets match.
    pub capped: bool,
}
