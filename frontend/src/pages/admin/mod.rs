//! The admin dashboard: `/admin` (overview), `/admin/analytics` (numbers over a date range),
//! `/admin/tickets` (every ticket, filters,
//! reassignment), `/admin/agents` (status, shifts, capacity, metrics, new agents),
//! `/admin/journeys` (list, and the builder at `/admin/journeys/new` and
//! `/admin/journeys/:id`), `/admin/mail` (the outbox: delivery status, resend; received mail:
//! outcome, reprocess), `/admin/webhooks` (endpoints, their delivery log, redelivery and test
//! events), `/admin/settings` (SLA policies and queue behaviour) and `/admin/calendars`
//! (business-hours calendars the policies count on).
//!
//! Every page is wrapped in `RequireRole` for admins and talks to the server only through
//! `crate::api`. Helpers shared by the admin forms (server field errors) live here.

mod agents;
mod analytics;
mod builder;
mod calendars;
mod csat;
mod home;
mod inbound;
mod journeys;
mod mail;
mod settings;
mod tickets;
mod webhooks;

use std::collections::BTreeMap;

use leptos::prelude::*;

pub use agents::AgentsPage;
pub use analytics::AnalyticsPage;
pub use builder::JourneyBuilderPage;
pub use calendars::CalendarsPage;
pub use home::AdminDashboard;
pub use journeys::JourneysPage;
pub use mail::MailPage;
pub use settings::SettingsPage;
pub use tickets::AdminTicketsPage;
pub(crate) use tickets::AssignSelect;
pub use webhooks::WebhooksPage;

/// Messages by field key (`details.fields` of a 422, plus the form's own checks).
pub(crate) type FieldErrors = RwSignal<BTreeMap<String, String>>;

/// The message for `key` under its input, rendered only while there is one.
/// `[data-field-error=<key>]`.
pub(crate) fn field_error(
    errors: FieldErrors,
    key: impl Into<String>,
    id: String,
) -> impl IntoView {
    let key: String = key.into();
    move || {
        errors.with(|e| e.get(&key).cloned()).map(|msg| {
            view! {
                <p class="field-error" id=id.clone() data-field-error=key.clone() role="alert">{msg}</p>
            }
        })
    }
}

/// Whether `key` has a message (for `aria-invalid` and the red border).
pub(crate) fn has_error(errors: FieldErrors, key: &str) -> bool {
    errors.with(|e| e.contains_key(key))
}

/// Forgets the message of `key` (the user is editing that input).
pub(crate) fn clear_error(errors: FieldErrors, key: &str) {
    if errors.with_untracked(|e| e.contains_key(key)) {
        errors.update(|e| {
            e.remove(key);
        });
    }
}
