//! Tickets: priorities, statuses and the allowed status transitions.

use serde::{Deserialize, Serialize};

/// How urgent a ticket is. Ordered: `Low < Medium < High < Urgent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// The stored rank: 0 = low … 3 = urgent.
    pub fn rank(self) -> i16 {
        match self {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_rank(rank: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(rank).ok()?).copied()
    }

    /// One step up (escalation); urgent stays urgent.
    pub fn raised(self) -> Self {
        Self::from_rank(self.rank() + 1).unwrap_or(Priority::Urgent)
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown priority `{s}` (expected low, medium, high or urgent)"))
    }
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Waiting in the queue, nobody assigned.
    New,
    /// Assigned to an agent and being worked on.
    Open,
    /// Waiting on the customer; the SLA clock is paused.
    Pending,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// Statuses in which the ticket still needs work.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::Open | TicketStatus::Pending
        )
    }
}

impl std::fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TicketStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_rank_round_trips_and_orders() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
        assert!(Priority::Urgent > Priority::Low);
        assert_eq!(Priority::High.raised(), Priority::Urgent);
        assert_eq!(Priority::Urgent.raised(), Priority::Urgent);
        assert_eq!(Priority::from_rank(4), None);
        assert_eq!(Priority::from_rank(-1), None);
    }
}
