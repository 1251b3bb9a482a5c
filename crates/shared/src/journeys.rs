//! Journeys over the API: the stored, versioned journey and the requests that manage it.
//! The document model and evaluator live in [`crate::journey`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::journey::{Answers, JourneyDefinition};

/// A journey as listed for the portal and the admin pages, with its current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JourneyDto {
    pub id: Uuid,
    /// URL-friendly unique name, e.g. `order-problem`.
    pub slug: String,
    pub name: String,
    pub description: String,
    /// A short icon name or emoji for the portal card.
    pub icon: String,
    /// The current version; editing an active journey creates a new one.
    pub version: i32,
    pub active: bool,
    pub archived: bool,
    /// The current version's document.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub definition: JourneyDefinition,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/journeys` (create) and `PUT /api/journeys/{id}` (edit).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JourneyRequest {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub icon: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub definition: serde_json::Value,
}

/// `POST /api/journeys/{id}/submit`: the customer's answers, keyed by question node id.
/// Image answers are lists of attachment ids uploaded by the customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmitJourneyRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Answers,
}

/// `GET /api/journeys` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct JourneyListQuery {
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
    /// Admins only: include archived journeys.
    pub archived: Option<bool>,
}
