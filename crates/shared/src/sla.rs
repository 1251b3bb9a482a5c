//! SLA status math, identical in the server (filters, monitor) and the SPA (live timers).
//!
//! A running clock has a start and a due instant. With less than half of the window left it
//! is `warning`, with less than a fifth `critical`, past due `breached`. Windows are measured
//! in business time ([`crate::calendar::Hours`]): around the clock that is wall-clock time;
//! with a calendar only its working hours count, so the instants of [`clock`] are where the
//! shares of business time are used up.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::{CalendarSpec, Hours};

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

/// An SLA policy: one target per priority, counted on a business-hours calendar or around
/// the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaPolicies {
    pub low: SlaTarget,
    pub medium: SlaTarget,
    pub high: SlaTarget,
    pub urgent: SlaTarget,
    /// The calendar whose working hours count (`/api/sla/calendars`); `null` runs 24/7.
    #[serde(default)]
    pub calendar_id: Option<Uuid>,
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
            calendar_id: None,
        }
    }
}

/// What selects an override policy instead of the default one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SlaMatch {
    /// Tickets created with this category (exact match).
    Category { category: String },
    /// Tickets a journey created through this end node (any version of the journey).
    JourneyOutcome { journey_id: Uuid, node_id: String },
}

/// A named policy that replaces the default one for matching tickets. Rules are tried in
/// order; journey outcomes before categories, the first match wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaOverride {
    /// Unique, 1–100 characters; recorded on the tickets it applies to. `default` is taken.
    pub name: String,
    pub when: SlaMatch,
    pub policy: SlaPolicies,
}

/// Name recorded on tickets that run on the default policy.
pub const DEFAULT_POLICY: &str = "default";

/// The policy for a ticket: the first override whose journey outcome matches, else the first
/// whose category matches, else the default. Returns the policy's name and targets.
pub fn select_policy<'a>(
    default: &'a SlaPolicies,
    overrides: &'a [SlaOverride],
    category: Option<&str>,
    outcome: Option<(Uuid, &str)>,
) -> (&'a str, &'a SlaPolicies) {
    let by_outcome = overrides.iter().find(|o| match (&o.when, outcome) {
        (
            SlaMatch::JourneyOutcome {
                journey_id,
                node_id,
            },
            Some((j, n)),
        ) => *journey_id == j && node_id == n,
        _ => false,
    });
    let by_category = || {
        overrides.iter().find(|o| match (&o.when, category) {
            (SlaMatch::Category { category: c }, Some(cat)) => c == cat,
            _ => false,
        })
    };
    match by_outcome.or_else(by_category) {
        Some(o) => (o.name.as_str(), &o.policy),
        None => (DEFAULT_POLICY, default),
    }
}

/// Share of the window used at which the `sla-warning` event goes out, by default.
pub const DEFAULT_WARNING_PERCENT: u8 = 80;

/// The terms a ticket's SLA runs on, recorded when it is created (and when an admin asks to
/// recompute): later edits of the policy or its calendar do not move its deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTerms {
    /// `default` or the name of the override.
    pub policy: String,
    /// The policy's targets (all priorities, so a priority change stays on the same terms).
    pub targets: SlaPolicies,
    /// The calendar as it was; `None` runs 24/7.
    pub calendar: Option<CalendarSpec>,
    /// Share of the window after which `sla-warning` goes out.
    pub warning_percent: u8,
    /// The journey outcome that created the ticket, kept so a recompute selects the policy
    /// the same way.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// The priority the deadlines are set for: the ticket's priority at creation, or the one
    /// staff set by hand later. An escalation raises the ticket's priority but not this one,
    /// so the deadlines a ticket started with do not move on their own. `None` for terms
    /// recorded before this field existed.
    #[serde(default)]
    pub priority: Option<crate::Priority>,
}

/// A journey's end node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub journey_id: Uuid,
    pub node_id: String,
}

/// The instants of one running clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockInstants {
    pub due: DateTime<Utc>,
    /// Half the window used: `warning`.
    pub warning_at: DateTime<Utc>,
    /// Four fifths used: `critical`.
    pub critical_at: DateTime<Utc>,
    /// The configured share used: the `sla-warning` event.
    pub alert_at: DateTime<Utc>,
}

/// The clock of a target that started at `created`, after `paused` of business time spent
/// paused, on `hours`. Around the clock this is exactly the wall-clock arithmetic of
/// [`thresholds`]; with a calendar each instant is where that share of business time is used.
pub fn clock(
    hours: &Hours,
    created: DateTime<Utc>,
    paused: Duration,
    target: Duration,
    alert_percent: u8,
) -> ClockInstants {
    let share = |percent: i64| Duration::milliseconds(target.num_milliseconds() * percent / 100);
    let alert = share(i64::from(alert_percent.min(100)));
    match hours {
        Hours::Always => {
            let start = created + paused;
            let due = start + target;
            let (warning_at, critical_at) = thresholds(start, due);
            ClockInstants {
                due,
                warning_at,
                critical_at,
                alert_at: start + alert,
            }
        }
        Hours::Calendar(_) => {
            let at = |used: Duration| hours.add(created, paused + used);
            ClockInstants {
                due: at(target),
                warning_at: at(share(((1.0 - WARNING_FRACTION) * 100.0) as i64)),
                critical_at: at(share(((1.0 - CRITICAL_FRACTION) * 100.0) as i64)),
                alert_at: at(alert),
            }
        }
    }
}

/// The status at `now` from the stored instants of a clock (what the server filters on and
/// the SPA shows): the same answer as [`status`] for a 24/7 clock, and the business-time
/// answer for a calendar.
pub fn status_at(
    now: DateTime<Utc>,
    warning_at: DateTime<Utc>,
    critical_at: DateTime<Utc>,
    due: DateTime<Utc>,
) -> SlaStatus {
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

/// Share of the window left below which a clock is `warning`.
pub const WARNING_FRACTION: f64 = 0.5;
/// Share of the window left below which a clock is `critical`.
pub const CRITICAL_FRACTION: f64 = 0.2;

/// The status of a clock that started at `start` and is due at `due`, seen at `now`.
pub fn status(now: DateTime<Utc>, start: DateTime<Utc>, due: DateTime<Utc>) -> SlaStatus {
    let (warning_at, critical_at) = thresholds(start, due);
    status_at(now, warning_at, critical_at, due)
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
    fn a_24_7_clock_is_the_wall_clock_arithmetic() {
        for (paused, target) in [(0, 60), (17, 240), (3, 1)] {
            let c = clock(
                &Hours::Always,
                at(10),
                Duration::minutes(paused),
                Duration::minutes(target),
                80,
            );
            let start = at(10 + paused);
            assert_eq!(c.due, start + Duration::minutes(target));
            assert_eq!((c.warning_at, c.critical_at), thresholds(start, c.due));
            assert_eq!(
                c.alert_at,
                start + Duration::milliseconds(target * 60_000 * 80 / 100)
            );
        }
    }

    #[test]
    fn a_calendar_clock_counts_business_time() {
        use crate::calendar::{CalendarSpec, IntervalSpec, WeekSpec};
        let spec = CalendarSpec {
            time_zone: "UTC".into(),
            week: WeekSpec::weekdays(&[IntervalSpec::new("09:00", "17:00")]),
            holidays: vec![],
        };
        let cal = spec
            .parse(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"))
            .expect("valid");
        let hours = Hours::Calendar(cal);
        // Friday 2026-12-04 16:00 UTC, 10 business hours, one already spent paused.
        let created = "2026-12-04T16:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("instant");
        let c = clock(&hours, created, Duration::hours(1), Duration::hours(10), 80);
        let t = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        // Friday 1 h + Monday 8 h + Tuesday 2 h = 11 h including the paused hour.
        assert_eq!(c.due, t("2026-12-08T11:00:00Z"));
        assert_eq!(c.warning_at, t("2026-12-07T14:00:00Z"));
        assert_eq!(c.critical_at, t("2026-12-07T17:00:00Z"));
        assert_eq!(c.alert_at, c.critical_at);
        assert_eq!(
            status_at(
                t("2026-12-05T12:00:00Z"),
                c.warning_at,
                c.critical_at,
                c.due
            ),
            SlaStatus::Ok
        );
    }

    #[test]
    fn overrides_by_outcome_then_category() {
        let default = SlaPolicies::default();
        let fast = SlaPolicies {
            urgent: SlaTarget {
                response_minutes: 5,
                resolution_minutes: 10,
            },
            ..SlaPolicies::default()
        };
        let j = Uuid::new_v4();
        let overrides = vec![
            SlaOverride {
                name: "Billing".into(),
                when: SlaMatch::Category {
                    category: "billing".into(),
                },
                policy: fast,
            },
            SlaOverride {
                name: "Outage".into(),
                when: SlaMatch::JourneyOutcome {
                    journey_id: j,
                    node_id: "down".into(),
                },
                policy: fast,
            },
        ];
        assert_eq!(select_policy(&default, &overrides, None, None).0, "default");
        assert_eq!(
            select_policy(&default, &overrides, Some("billing"), None).0,
            "Billing"
        );
        assert_eq!(
            select_policy(&default, &overrides, Some("billing"), Some((j, "down"))).0,
            "Outage"
        );
        assert_eq!(
            select_policy(&default, &overrides, Some("other"), Some((j, "up"))).0,
            "default"
        );
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(at(0), at(125)), "2 h 5 min left");
        assert_eq!(describe(at(12), at(0)), "breached 12 min ago");
        assert_eq!(describe(at(0), at(0) + Duration::seconds(40)), "40 s left");
        assert_eq!(describe(at(0), at(60 * 24 * 2 + 60)), "2 d 1 h left");
    }
}
