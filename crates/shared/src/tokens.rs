//! API tokens: long-lived credentials for integrations (created by admins) and personal
//! scripts (agents), each limited to a set of [`Scope`]s.
//!
//! A token is the string [`PREFIX`] followed by 32 random bytes in unpadded base64url. It is
//! sent like a login token (`Authorization: Bearer hdk_…`); anything else after `Bearer` is a
//! login JWT. The server keeps only its SHA-256 hash; the secret is shown once, in the answer
//! to `POST /api/tokens`. The scope names and their wording live here so the account page
//! offers exactly what the server accepts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tickets::PersonDto;

/// How every API token starts.
pub const PREFIX: &str = "hdk_";
/// Longest token name, in chars.
pub const MAX_NAME_CHARS: usize = 100;
/// Tokens one user may hold that are neither revoked nor expired.
pub const MAX_ACTIVE_PER_OWNER: u64 = 50;

/// What a token may do. A scope only narrows: the owner's current role still decides what
/// the owner may do at all (an agent's token never reaches admin routes, whatever its scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scope {
    /// Read tickets, their messages, history, tags, links, attachments, macros and agents.
    #[serde(rename = "tickets:read")]
    TicketsRead,
    /// Create and change tickets (status, priority, assignment, tags, links, merges, macros).
    #[serde(rename = "tickets:write")]
    TicketsWrite,
    /// Post messages and attachments on tickets (and apply macros, which post one).
    #[serde(rename = "messages:write")]
    MessagesWrite,
    /// Read journeys and export them.
    #[serde(rename = "journeys:read")]
    JourneysRead,
    /// Create, edit, activate, deactivate and archive journeys.
    #[serde(rename = "journeys:write")]
    JourneysWrite,
    /// Read analytics.
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
    /// Administration: users, agents, settings, SLA calendars, mail, metrics.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::TicketsRead,
        Scope::TicketsWrite,
        Scope::MessagesWrite,
        Scope::JourneysRead,
        Scope::JourneysWrite,
        Scope::AnalyticsRead,
        Scope::Admin,
    ];

    /// The wire name, e.g. `"tickets:read"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::TicketsRead => "tickets:read",
            Scope::TicketsWrite => "tickets:write",
            Scope::MessagesWrite => "messages:write",
            Scope::JourneysRead => "journeys:read",
            Scope::JourneysWrite => "journeys:write",
            Scope::AnalyticsRead => "analytics:read",
            Scope::Admin => "admin",
        }
    }

    /// The scope called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// What it allows, for people choosing scopes.
    pub fn description(self) -> &'static str {
        match self {
            Scope::TicketsRead => {
                "read tickets, messages, history, tags, links, attachments, macros and agents"
            }
            Scope::TicketsWrite => "create and change tickets, tags, links, merges and macros",
            Scope::MessagesWrite => "post messages and attachments, apply macros",
            Scope::JourneysRead => "read and export journeys",
            Scope::JourneysWrite => "create, edit, activate and archive journeys",
            Scope::AnalyticsRead => "read analytics",
            Scope::Admin => "administration: users, agents, settings, SLA, mail, metrics",
        }
    }

    /// Whether only admins may put it on a token.
    pub fn admins_only(self) -> bool {
        self == Scope::Admin
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenDto {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The first characters of the token (e.g. `hdk_Ab12Cd34`), to recognise it by.
    pub prefix: String,
    /// Whose rights it acts with.
    pub owner: PersonDto,
    /// After this instant it is refused (`token_expired`); `None`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last request made with it, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token is refused (`token_revoked`).
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What it is for, 1 to 100 characters.
    pub name: String,
    /// At least one; `admin` only for admins.
    pub scopes: Vec<Scope>,
    /// When it stops working (in the future); default never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The answer to `POST /api/tokens`: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: TokenDto,
    /// The token itself (`hdk_…`), to send as `Authorization: Bearer <secret>`. It is stored
    /// hashed and cannot be shown again.
    pub secret: String,
}

/// `GET /api/tokens` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct TokenListQuery {
    /// Admins: every user's tokens, not only their own.
    pub all: Option<bool>,
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_serialize_as_their_names() {
        for scope in Scope::ALL {
            let json = serde_json::to_string(&scope).expect("serializes");
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("tickets:delete"), None);
    }
}
