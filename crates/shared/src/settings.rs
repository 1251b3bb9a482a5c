//! Admin settings: SLA policies and queue behaviour.

use serde::{Deserialize, Serialize};

use crate::sla::SlaPolicies;

/// `GET /api/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsDto {
    pub sla_policies: SlaPolicies,
    /// Seconds between assignment runs (it also runs at once when a ticket arrives or an agent
    /// becomes available).
    pub assignment_interval_secs: u32,
    /// Seconds between SLA monitor runs.
    pub sla_check_interval_secs: u32,
    /// When an agent goes offline, their open tickets go back to the queue.
    pub release_on_offline: bool,
    /// How admins hear of SLA breaches by email: one mail per breach, or a digest.
    pub sla_breach_mail: SlaBreachMail,
    /// With `digest`: the period in hours one digest covers (1..=168, default 24).
    pub sla_digest_hours: u32,
}

/// How admins hear of SLA breaches by email (the assigned agent always gets one mail per
/// breach of their ticket).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaBreachMail {
    /// A mail to every admin at each breach.
    #[default]
    PerBreach,
    /// One mail per admin and period listing the period's breaches (none if there were none).
    Digest,
}

/// Longest digest period: one week.
pub const MAX_DIGEST_HOURS: u32 = 7 * 24;

/// `PUT /api/settings`: any subset of the settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSettingsRequest {
    pub sla_policies: Option<SlaPolicies>,
    pub assignment_interval_secs: Option<u32>,
    pub sla_check_interval_secs: Option<u32>,
    pub release_on_offline: Option<bool>,
    pub sla_breach_mail: Option<SlaBreachMail>,
    pub sla_digest_hours: Option<u32>,
}

/// Longest allowed SLA target: one year.
pub const MAX_TARGET_MINUTES: u32 = 365 * 24 * 60;
/// Job intervals: 1 second to 1 hour.
pub const MAX_INTERVAL_SECS: u32 = 3600;

impl UpdateSettingsRequest {
    /// Every problem as (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(h) = self.sla_digest_hours
            && !(1..=MAX_DIGEST_HOURS).contains(&h)
        {
            out.push((
                "sla_digest_hours".to_owned(),
                format!("must be between 1 and {MAX_DIGEST_HOURS} hours"),
            ));
        }
        if let Some(p) = &self.sla_policies {
            for (name, t) in [
                ("low", p.low),
                ("medium", p.medium),
                ("high", p.high),
                ("urgent", p.urgent),
            ] {
                for (what, minutes) in [
                    ("response_minutes", t.response_minutes),
                    ("resolution_minutes", t.resolution_minutes),
                ] {
                    if minutes == 0 || minutes > MAX_TARGET_MINUTES {
                        out.push((
                            format!("sla_policies.{name}.{what}"),
                            format!("must be between 1 and {MAX_TARGET_MINUTES} minutes"),
                        ));
                    }
                }
                if t.response_minutes > t.resolution_minutes {
                    out.push((
                        format!("sla_policies.{name}"),
                        "the response target cannot be later than the resolution target".into(),
                    ));
                }
            }
        }
        for (field, value) in [
            ("assignment_interval_secs", self.assignment_interval_secs),
            ("sla_check_interval_secs", self.sla_check_interval_secs),
        ] {
            if let Some(v) = value
                && (v == 0 || v > MAX_INTERVAL_SECS)
            {
                out.push((
                    field.to_owned(),
                    format!("must be between 1 and {MAX_INTERVAL_SECS} seconds"),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::SlaTarget;

    #[test]
    fn zero_negative_and_inverted_targets_are_problems() {
        let policies = SlaPolicies {
            high: SlaTarget {
                response_minutes: 0,
                resolution_minutes: 60,
            },
            low: SlaTarget {
                response_minutes: 120,
                resolution_minutes: 60,
            },
            ..SlaPolicies::default()
        };
        let req = UpdateSettingsRequest {
            sla_policies: Some(policies),
            assignment_interval_secs: Some(0),
            ..Default::default()
        };
        let fields: Vec<String> = req.problems().into_iter().map(|(f, _)| f).collect();
        assert!(fields.contains(&"sla_policies.high.response_minutes".to_owned()));
        assert!(fields.contains(&"sla_policies.low".to_owned()));
        assert!(fields.contains(&"assignment_interval_secs".to_owned()));
        assert!(UpdateSettingsRequest::default().problems().is_empty());
    }
}
