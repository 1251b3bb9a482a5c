//! Merging and linking tickets: the requests, the relation between two linked tickets (and
//! its inverse, as the other side names it), and the references a merged ticket and a merged
//! message carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::TicketStatus;

/// A short reference to another ticket: its id and its human number (`#1042`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketRefDto {
    pub id: Uuid,
    pub number: i64,
}

/// Names another ticket, by id or by number (exactly one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TicketTarget {
    #[serde(default)]
    pub target_id: Option<Uuid>,
    #[serde(default)]
    pub target_number: Option<i64>,
}

/// `POST /api/tickets/{id}/merge`: merge this ticket (the source) into the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The ticket that takes over the conversation, by id…
    #[serde(default)]
    pub target_id: Option<Uuid>,
    /// …or by number.
    #[serde(default)]
    pub target_number: Option<i64>,
    /// Admins only: merge although the two tickets belong to different customers. The
    /// target's customer then sees the source's public messages. Default `false`.
    #[serde(default)]
    pub confirm_cross_customer: bool,
}

impl MergeRequest {
    pub fn target(&self) -> TicketTarget {
        TicketTarget {
            target_id: self.target_id,
            target_number: self.target_number,
        }
    }
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeResultDto {
    /// The merged ticket, now closed.
    pub source: TicketRefDto,
    /// The ticket that holds the conversation now.
    pub target: TicketRefDto,
    /// Messages that moved (the source's description counts as one).
    pub moved_messages: u64,
    pub moved_attachments: u64,
    pub cross_customer: bool,
}

/// How a ticket relates to a linked one, as seen from the ticket. Each relation has an
/// inverse that the other ticket shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketRelation {
    /// Related (the same on both sides).
    Related,
    /// This ticket duplicates the other one.
    DuplicateOf,
    /// The other ticket duplicates this one (inverse of `duplicate_of`).
    DuplicatedBy,
    /// This ticket was caused by the other one.
    CausedBy,
    /// This ticket caused the other one (inverse of `caused_by`).
    Causes,
}

impl TicketRelation {
    pub const ALL: [TicketRelation; 5] = [
        TicketRelation::Related,
        TicketRelation::DuplicateOf,
        TicketRelation::DuplicatedBy,
        TicketRelation::CausedBy,
        TicketRelation::Causes,
    ];

    /// The relation as the other ticket sees it.
    pub fn inverse(self) -> Self {
        use TicketRelation::*;
        match self {
            Related => Related,
            DuplicateOf => DuplicatedBy,
            DuplicatedBy => DuplicateOf,
            CausedBy => Causes,
            Causes => CausedBy,
        }
    }

    /// The snake_case wire name, as stored.
    pub fn as_str(self) -> &'static str {
        use TicketRelation::*;
        match self {
            Related => "related",
            DuplicateOf => "duplicate_of",
            DuplicatedBy => "duplicated_by",
            CausedBy => "caused_by",
            Causes => "causes",
        }
    }

    /// Words for the ticket page: "(this ticket is) duplicate of #12".
    pub fn label(self) -> &'static str {
        use TicketRelation::*;
        match self {
            Related => "related to",
            DuplicateOf => "duplicate of",
            DuplicatedBy => "duplicated by",
            CausedBy => "caused by",
            Causes => "the cause of",
        }
    }
}

impl std::str::FromStr for TicketRelation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown relation `{s}`"))
    }
}

/// `POST /api/tickets/{id}/links`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateLinkRequest {
    /// The ticket to link, by id…
    #[serde(default)]
    pub target_id: Option<Uuid>,
    /// …or by number.
    #[serde(default)]
    pub target_number: Option<i64>,
    /// As seen from this ticket; the other one shows the inverse.
    pub relation: TicketRelation,
}

impl CreateLinkRequest {
    pub fn target(&self) -> TicketTarget {
        TicketTarget {
            target_id: self.target_id,
            target_number: self.target_number,
        }
    }
}

/// One link of a ticket (staff only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketLinkDto {
    /// The linked ticket.
    pub ticket: TicketRefDto,
    /// How this ticket relates to it.
    pub relation: TicketRelation,
    /// The linked ticket's subject and status; `null` for an agent who may not see it.
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_relation_has_an_inverse_that_leads_back() {
        for r in TicketRelation::ALL {
            assert_eq!(r.inverse().inverse(), r);
            assert_eq!(r.as_str().parse::<TicketRelation>(), Ok(r));
            assert_eq!(
                serde_json::to_value(r).ok(),
                Some(serde_json::json!(r.as_str()))
            );
        }
        assert_eq!(
            TicketRelation::DuplicateOf.inverse(),
            TicketRelation::DuplicatedBy
        );
        assert_eq!(TicketRelation::CausedBy.inverse(), TicketRelation::Causes);
        assert_eq!(TicketRelation::Related.inverse(), TicketRelation::Related);
    }
}
