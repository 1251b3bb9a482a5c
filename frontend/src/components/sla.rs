//! SLA timers that tick every second, with the same status math as the server.
//!
//! One [`Clock`] (a signal updated every second) is provided by the app root and shared by
//! every timer, so a page with fifty rows still runs one interval. [`SlaBadge`] shows the
//! running clock of a ticket: "2 h 5 min left" / "breached 12 min ago", coloured by
//! `shared::sla::status`; "paused" while the ticket waits on the customer; nothing once the
//! ticket is resolved or closed.

use chrono::{DateTime, Utc};
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use shared::TicketStatus;
use shared::sla;
use shared::tickets::{SlaDto, TicketDto};

use crate::components::icons::{Icon, IconName};
use crate::format;

/// The current time, updated every second (tracked).
#[derive(Debug, Clone, Copy)]
pub struct Clock(RwSignal<DateTime<Utc>>);

impl Clock {
    /// Provides the clock and starts its one interval for the life of the page.
    pub fn provide() -> Self {
        let now = RwSignal::new(format::now());
        Interval::new(1_000, move || now.set(format::now())).forget();
        let clock = Clock(now);
        provide_context(clock);
        clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.get()
    }
}

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}

/// What a timer shows at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaView {
    /// `ok`, `warning`, `critical`, `breached` or `paused` (the `data-status` attribute).
    pub state: &'static str,
    /// "2 h 5 min left", "breached 12 min ago" or "paused".
    pub text: String,
    /// "First response" or "Resolution".
    pub clock: &'static str,
}

/// The timer of a ticket at `now`; `None` when no clock runs (resolved, closed, or no
/// deadline).
pub fn sla_view(
    sla: &SlaDto,
    status: TicketStatus,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<SlaView> {
    if !status.is_active() {
        return None;
    }
    let clock = if sla.first_response_at.is_none() && sla.due_at == sla.response_due_at {
        "First response"
    } else {
        "Resolution"
    };
    if sla.paused {
        return Some(SlaView {
            state: "paused",
            text: "paused".to_owned(),
            clock,
        });
    }
    let due = sla.due_at?;
    // The server reports where the window's shares of business time are used up; older
    // servers only its start (creation plus time spent paused).
    let state = match (sla.warning_at, sla.critical_at) {
        (Some(warning), Some(critical)) => sla::status_at(now, warning, critical, due),
        _ => sla::status(now, sla.started_at.unwrap_or(created_at), due),
    };
    Some(SlaView {
        state: state.as_str(),
        text: sla::describe(now, due),
        clock,
    })
}

/// What the customer is told to expect, in their own time zone: "We aim to reply by Tue 8 Dec,
/// 10:00 (your time)". While the ticket waits on them, that it does.
#[component]
pub fn EtaNote(sla: SlaDto, status: TicketStatus) -> impl IntoView {
    let clock = use_clock();
    let text = move || {
        if !status.is_active() {
            return None;
        }
        if sla.paused {
            return Some(
                "We are waiting for your reply; the clock starts again when you answer.".to_owned(),
            );
        }
        let eta = sla.eta?;
        let what = match eta.kind {
            shared::tickets::EtaKind::Reply => "reply",
            shared::tickets::EtaKind::Resolution => "resolve your request",
        };
        Some(if eta.at > clock.now() {
            format!(
                "We aim to {what} by {} (your time).",
                format::eta_time(eta.at)
            )
        } else {
            format!(
                "We aimed to {what} by {} (your time) and are on it.",
                format::eta_time(eta.at)
            )
        })
    };
    move || {
        text().map(|t| {
            view! {
                <p class="eta-note" data-testid="ticket-eta">
                    <Icon name=IconName::Clock/>
                    " "
                    {t}
                </p>
            }
        })
    }
}

/// Orders tickets by SLA urgency: running clocks by deadline, then paused ones, then the rest.
pub fn urgency_key(t: &TicketDto) -> (u8, i64, i64) {
    match (t.sla.paused, t.sla.due_at) {
        (false, Some(due)) => (0, due.timestamp(), t.number),
        (true, _) => (1, 0, t.number),
        (false, None) => (2, 0, t.number),
    }
}

/// A live SLA timer. Renders nothing when no clock runs.
#[component]
pub fn SlaBadge(
    sla: SlaDto,
    status: TicketStatus,
    created_at: DateTime<Utc>,
    /// Prefix the text with the clock's name ("First response: 2 h left").
    #[prop(optional)]
    long: bool,
) -> impl IntoView {
    let clock = use_clock();
    let view_now = Memo::new(move |_| sla_view(&sla, status, created_at, clock.now()));
    // Only appearing or disappearing rebuilds the element; the text updates in place.
    let shown = Memo::new(move |_| view_now.with(Option::is_some));
    move || {
        shown.get().then(|| {
            let state = move || view_now.with(|v| v.as_ref().map_or("ok", |v| v.state));
            let text = move || view_now.with(|v| v.as_ref().map(|v| v.text.clone()));
            let name = move || view_now.with(|v| v.as_ref().map_or("", |v| v.clock));
            let label = move || format!("{} SLA: {}", name(), text().unwrap_or_default());
            view! {
                <span
                    class=move || format!("sla sla-{}", state())
                    data-testid="sla-badge"
                    data-status=state
                    title=label
                    aria-label=label
                >
                    <Icon name=IconName::Clock/>
                    {long.then(|| view! { <span class="sla-clock">{name} ": "</span> })}
                    <span class="sla-text">{text}</span>
                </span>
            }
        })
    }
}
