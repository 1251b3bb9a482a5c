//! Agents: availability status, shifts, capacity and the agent DTOs.

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whether an agent takes new tickets right now. Only `available` agents get assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Available,
    Busy,
    Away,
    Offline,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 4] = [
        AgentStatus::Available,
        AgentStatus::Busy,
        AgentStatus::Away,
        AgentStatus::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Available => "available",
            AgentStatus::Busy => "busy",
            AgentStatus::Away => "away",
            AgentStatus::Offline => "offline",
        }
    }
}

impl std::fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent's working hours: local times in an IANA time zone on the given weekdays.
/// `start == end` means around the clock; `end < start` crosses midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Shift {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "09:00"))]
    pub start: NaiveTime,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "17:00"))]
    pub end: NaiveTime,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Working days, `mon` … `sun`.
    pub days: Vec<Weekday>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// Bit of this day in the stored mask (bit 0 = Monday).
    pub fn bit(self) -> i16 {
        1 << (self as i16)
    }

    pub fn from_mask(mask: i16) -> Vec<Weekday> {
        Self::ALL
            .into_iter()
            .filter(|d| mask & d.bit() != 0)
            .collect()
    }

    pub fn to_mask(days: &[Weekday]) -> i16 {
        days.iter().fold(0, |m, d| m | d.bit())
    }
}

/// Running performance numbers of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentMetrics {
    pub open_tickets: u64,
    /// Tickets resolved, each once: at its first resolution, for the agent assigned to it
    /// then. Reopening a ticket and resolving it again adds nothing.
    pub tickets_resolved: u64,
    /// Average seconds from ticket creation to the agent's first public reply.
    pub avg_first_response_secs: Option<f64>,
    /// Average seconds from creation to (first) resolution, time spent pending excluded.
    pub avg_resolution_secs: Option<f64>,
    /// Share of resolved tickets that met both SLA targets at their first resolution, 0–100.
    pub sla_compliance_percent: Option<f64>,
}

/// An agent as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentDto {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub status: AgentStatus,
    pub status_changed_at: DateTime<Utc>,
    /// `None`: no shift restriction.
    pub shift: Option<Shift>,
    /// Most open tickets at once.
    pub capacity: u32,
    /// Inactive agents get no assignments (signing in is governed by the account).
    pub active: bool,
    /// Inside the shift right now (always true without a shift).
    pub on_shift: bool,
    pub metrics: AgentMetrics,
}

/// `PUT /api/agents/me/status` (and `/api/agents/{id}/status` for admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub status: AgentStatus,
}

/// `POST /api/agents`: an admin creates an agent account with its profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    pub shift: Option<Shift>,
    /// Default 5.
    pub capacity: Option<u32>,
}

/// `PATCH /api/agents/{id}`: shift (`null` removes it), capacity, active flag.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Shift>))]
    pub shift: Option<Option<Shift>>,
    pub capacity: Option<u32>,
    pub active: Option<bool>,
    pub name: Option<String>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_masks_round_trip() {
        let days = vec![Weekday::Mon, Weekday::Wed, Weekday::Sun];
        let mask = Weekday::to_mask(&days);
        assert_eq!(mask, 1 | 4 | 64);
        assert_eq!(Weekday::from_mask(mask), days);
        assert_eq!(Weekday::from_mask(31).len(), 5);
    }

    #[test]
    fn shift_null_and_absent_differ() {
        let absent: UpdateAgentRequest = serde_json::from_str("{}").expect("parses");
        assert_eq!(absent.shift, None);
        let cleared: UpdateAgentRequest =
            serde_json::from_str(r#"{"shift": null}"#).expect("parses");
        assert_eq!(cleared.shift, Some(None));
        // And back: an untouched shift is left out, a removed one is an explicit null.
        let untouched = serde_json::to_value(UpdateAgentRequest::default()).expect("json");
        assert!(untouched.get("shift").is_none());
        let removed = serde_json::to_value(cleared).expect("json");
        assert_eq!(removed["shift"], serde_json::Value::Null);
        assert!(removed.as_object().is_some_and(|o| o.contains_key("shift")));
    }
}
