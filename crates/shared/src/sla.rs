//! SLA status math, identical in the server (filters, monitor) and the SPA (live timers).
//!
//! A running clock has a start and a due instant. With less than half of the window left it
//! is `warning`, with less than a fifth `critical`, past due `breached`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How close a running SLA clock is to its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    Ok,
    Warning,
    Critical,
    Breached,
}

impl SlaStatus {
    pub const ALL: [SlaStatus; 4] = [
        SlaStatus::Ok,
        SlaStatus::Warning,
        SlaStatus::Critical,
        SlaStatus::Breached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::Ok => "ok",
            SlaStatus::Warning => "warning",
            SlaStatus::Critical => "critical",
            SlaStatus::Breached => "breached",
        }
    }
}

impl std::str::FromStr for SlaStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown SLA state `{s}`"))
    }
}

/// Response and resolution targets for one priority, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub response_minutes: u32,
    pub resolution_minutes: u32,
}

/// The SLA policy: one target per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaPolicies {
    pub low: SlaTarget,
    pub medium: SlaTarget,
    pub high: SlaTarget,
    pub urgent: SlaTarget,
}

impl SlaPolicies {
    pub fn target(&self, priority: crate::Priority) -> SlaTarget {
        match priority {
            crate::Priority::Low => self.low,
            crate::Priority::Medium => self.medium,
            crate::Priority::High => self.high,
            crate::Priority::Urgent => self.urgent,
        }
    }
}

impl Default for SlaPolicies {
    /// Response / resolution: urgent 1 h / 4 h, high 4 h / 24 h, medium 8 h / 48 h,
    /// low 24 h / 72 h.
    fn default() -> Self {
        let t = |response_hours: u32, resolution_hours: u32| SlaTarget {
            response_minutes: response_hours * 60,
            resolution_minutes: resolution_hours * 60,
        };
        Self {
            low: t(24, 72),
            medium: t(8, 48),
            high: t(4, 24),
            urgent: t(1, 4),
        }
    }
}

/// Share of the window left below which a clock is `warning`.
pub const WARNING_FRACTION: f64 = 0.5;
/// Share of the window left below which a clock is `critical`.
pub const CRITICAL_FRACTION: f64 = 0.2;

/// The status of a clock that started at `start` and is due at `due`, seen at `now`.
pub fn status(now: DateTime<Utc>, start: DateTime<Utc>, due: DateTime<Utc>) -> SlaStatus {
    let (warning_at, critical_at) = thresholds(start, due);
    if now > due {
        SlaStatus::Breached
    } else if now >= critical_at {
        SlaStatus::Critical
    } else if now >= warning_at {
        SlaStatus::Warning
    } else {
        SlaStatus::Ok
    }
}

/// The instants at which a clock turns `warning` and `critical`. Stored next to the deadline so
/// the database can filter tickets by SLA state with plain comparisons.
pub fn thresholds(start: DateTime<Utc>, due: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let window = (due - start).num_milliseconds().max(0) as f64;
    let at_fraction_left = |fraction: f64| due - Duration::milliseconds((window * fraction) as i64);
    (
        at_fraction_left(WARNING_FRACTION),
        at_fraction_left(CRITICAL_FRACTION),
    )
}

/// "in 2 h 5 min", "in 40 s", "12 min ago" — the label of a timer.
pub fn describe(now: DateTime<Utc>, due: DateTime<Utc>) -> String {
    let secs = (due - now).num_seconds();
    let span = human_span(secs.unsigned_abs());
    if secs < 0 {
        format!("breached {span} ago")
    } else {
        format!("{span} left")
    }
}

fn human_span(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min"),
        (0, _, 0) => format!("{h} h"),
        (0, _, _) => format!("{h} h {m} min"),
        (_, 0, _) => format!("{d} d"),
        _ => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(mins: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(mins)
    }

    #[test]
    fn status_follows_the_fractions_left() {
        // A 100-minute window starting at 0.
        let (start, due) = (at(0), at(100));
        assert_eq!(status(at(0), start, due), SlaStatus::Ok);
        assert_eq!(status(at(49), start, due), SlaStatus::Ok);
        assert_eq!(status(at(50), start, due), SlaStatus::Warning);
        assert_eq!(status(at(79), start, due), SlaStatus::Warning);
        assert_eq!(status(at(80), start, due), SlaStatus::Critical);
        assert_eq!(status(at(100), start, due), SlaStatus::Critical);
        assert_eq!(status(at(101), start, due), SlaStatus::Breached);
        assert_eq!(thresholds(start, due), (at(50), at(80)));
    }

    #[test]
    fn degenerate_windows_do_not_panic() {
        assert_eq!(status(at(5), at(10), at(0)), SlaStatus::Breached);
        assert_eq!(status(at(0), at(0), at(0)), SlaStatus::Critical);
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(at(0), at(125)), "2 h 5 min left");
        assert_eq!(describe(at(12), at(0)), "breached 12 min ago");
        assert_eq!(describe(at(0), at(0) + Duration::seconds(40)), "40 s left");
        assert_eq!(describe(at(0), at(60 * 24 * 2 + 60)), "2 d 1 h left");
    }
}
