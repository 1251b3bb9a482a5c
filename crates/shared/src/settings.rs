//! Admin settings: SLA policies and queue behaviour.

use serde::{Deserialize, Serialize};

use crate::sla::{DEFAULT_POLICY, SlaMatch, SlaOverride, SlaPolicies};

/// `GET /api/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsDto {
    /// The default policy (targets per priority and its calendar).
    pub sla_policies: SlaPolicies,
    /// Policies that replace the default for a category or a journey outcome.
    pub sla_overrides: Vec<SlaOverride>,
    /// Share of an SLA window (percent, 1–99) after which `sla-warning` goes out.
    pub sla_warning_percent: u8,
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
    /// Customers are asked to rate resolved tickets (portal and the "resolved" mail's link).
    /// Off: no prompt, no link, and rating is refused with `surveys_disabled`.
    #[serde(default = "default_true")]
    pub csat_enabled: bool,
}

fn default_true() -> bool {
    true
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
    /// Replaces the whole list of overrides.
    pub sla_overrides: Option<Vec<SlaOverride>>,
    pub sla_warning_percent: Option<u8>,
    pub assignment_interval_secs: Option<u32>,
    pub sla_check_interval_secs: Option<u32>,
    pub release_on_offline: Option<bool>,
    pub sla_breach_mail: Option<SlaBreachMail>,
    pub sla_digest_hours: Option<u32>,
    pub csat_enabled: Option<bool>,
}

/// Longest allowed SLA target: one year.
pub const MAX_TARGET_MINUTES: u32 = 365 * 24 * 60;
/// Most override rules.
pub const MAX_OVERRIDES: usize = 50;
/// Longest override name and category, in characters.
pub const OVERRIDE_NAME_MAX_CHARS: usize = 100;
/// Job intervals: 1 second to 1 hour.
pub const MAX_INTERVAL_SECS: u32 = 3600;

impl UpdateSettingsRequest {
    /// Every problem as (field, message). Whether the calendars named exist is the server's
    /// to check.
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
            policy_problems(&mut out, "sla_policies", p);
        }
        if let Some(list) = &self.sla_overrides {
            if list.len() > MAX_OVERRIDES {
                out.push((
                    "sla_overrides".to_owned(),
                    format!("at most {MAX_OVERRIDES} overrides"),
                ));
            }
            let mut names: Vec<&str> = Vec::new();
            for (i, o) in list.iter().enumerate() {
                let field = format!("sla_overrides[{i}]");
                let name = o.name.trim();
                if name.is_empty()
                    || name.chars().count() > OVERRIDE_NAME_MAX_CHARS
                    || name.chars().any(char::is_control)
                {
                    out.push((
                        format!("{field}.name"),
                        format!("1 to {OVERRIDE_NAME_MAX_CHARS} printable characters"),
                    ));
                } else if name == DEFAULT_POLICY || names.contains(&name) {
                    out.push((
                        format!("{field}.name"),
                        "names must be unique and not `default`".to_owned(),
                    ));
                }
                names.push(name);
                let text = match &o.when {
                    SlaMatch::Category { category } => category,
                    SlaMatch::JourneyOutcome { node_id, .. } => node_id,
                };
                if text.trim().is_empty()
                    || text.chars().count() > OVERRIDE_NAME_MAX_CHARS
                    || text.chars().any(char::is_control)
                {
                    out.push((
                        format!("{field}.when"),
                        format!(
                            "the category or node id must be 1 to {OVERRIDE_NAME_MAX_CHARS} printable characters"
                        ),
                    ));
                }
                policy_problems(&mut out, &format!("{field}.policy"), &o.policy);
            }
        }
        if let Some(p) = self.sla_warning_percent
            && !(1..=99).contains(&p)
        {
            out.push((
                "sla_warning_percent".to_owned(),
                "must be between 1 and 99".to_owned(),
            ));
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

/// The targets of one policy: each 1 minute to a year, response not after resolution.
fn policy_problems(out: &mut Vec<(String, String)>, prefix: &str, p: &SlaPolicies) {
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
                    format!("{prefix}.{name}.{what}"),
                    format!("must be between 1 and {MAX_TARGET_MINUTES} minutes"),
                ));
            }
        }
        if t.response_minutes > t.resolution_minutes {
            out.push((
                format!("{prefix}.{name}"),
                "the response target cannot be later than the resolution target".into(),
            ));
        }
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
