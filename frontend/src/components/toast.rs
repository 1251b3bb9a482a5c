//! Toasts: short, self-dismissing notices in a corner ("Ticket #1042 assigned to you").
//!
//! [`Toasts`] is provided by the app root; anything can push one. [`ToastHost`] renders them in
//! a polite live region so screen readers announce them. [`LiveToasts`] turns live events into
//! toasts for the signed-in user (agents: assignments and new tickets; customers: replies and
//! status changes of their requests; admins: SLA breaches).

use std::collections::{BTreeMap, VecDeque};

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use shared::Role;
use shared::ws::{Event, SlaTargetKind};
use uuid::Uuid;

use crate::components::icons::{Icon, IconName};
use crate::format::{status_label, ticket_number};
use crate::session::use_session;
use crate::ws::use_live;

/// How long a toast stays, in milliseconds.
const TOAST_MS: u32 = 7_000;
const ERROR_TOAST_MS: u32 = 12_000;
/// Most toasts on screen at once; older ones make room.
const MAX_TOASTS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Success,
    Error,
}

impl ToastKind {
    fn as_str(self) -> &'static str {
        match self {
            ToastKind::Info => "info",
            ToastKind::Success => "success",
            ToastKind::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
    /// An in-app link to what the toast is about.
    href: Option<String>,
}

/// The toast queue shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
    /// Keys of things the user just did themself (e.g. `taken:<ticket id>`), so the live event
    /// echoing it does not toast a second time.
    handled: StoredValue<VecDeque<String>>,
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

impl Toasts {
    pub fn provide() -> Self {
        let toasts = Toasts {
            items: RwSignal::new(Vec::new()),
            next: StoredValue::new(1),
            handled: StoredValue::new(VecDeque::new()),
        };
        provide_context(toasts);
        toasts
    }

    pub fn info(&self, text: impl Into<String>, href: Option<String>) {
        self.push(ToastKind::Info, text.into(), href);
    }

    pub fn success(&self, text: impl Into<String>, href: Option<String>) {
        self.push(ToastKind::Success, text.into(), href);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text.into(), None);
    }

    pub fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }

    /// Remembers that the user's own action already told them about `key`.
    pub fn mark_handled(&self, key: String) {
        self.handled.update_value(|keys| {
            keys.push_back(key);
            if keys.len() > 32 {
                keys.pop_front();
            }
        });
    }

    /// True (once) if [`Toasts::mark_handled`] was called for `key`.
    pub fn take_handled(&self, key: &str) -> bool {
        self.handled
            .try_update_value(|keys| match keys.iter().position(|k| k == key) {
                Some(i) => {
                    keys.remove(i);
                    true
                }
                None => false,
            })
            .unwrap_or(false)
    }

    fn push(&self, kind: ToastKind, text: String, href: Option<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast {
                id,
                kind,
                text,
                href,
            });
            let excess = items.len().saturating_sub(MAX_TOASTS);
            items.drain(..excess);
        });
        let items = self.items;
        let ms = if kind == ToastKind::Error {
            ERROR_TOAST_MS
        } else {
            TOAST_MS
        };
        spawn_local(async move {
            TimeoutFuture::new(ms).await;
            items.try_update(|items| items.retain(|t| t.id != id));
        });
    }
}

/// The corner where toasts appear.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div
                    class=format!("toast toast-{}", toast.kind.as_str())
                    data-testid="toast"
                    data-kind=toast.kind.as_str()
                >
                    <Icon name=match toast.kind {
                        ToastKind::Error => IconName::Alert,
                        ToastKind::Success => IconName::Check,
                        ToastKind::Info => IconName::Inbox,
                    }/>
                    <p class="toast-text">{toast.text.clone()}</p>
                    {toast
                        .href
                        .clone()
                        .map(|href| {
                            view! {
                                <A href=href attr:class="toast-link">
                                    "Open"
                                </A>
                            }
                        })}
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss notification"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        <Icon name=IconName::Close/>
                    </button>
                </div>
            </For>
        </div>
    }
}

/// Turns live events into toasts for whoever is signed in. Renders nothing.
#[component]
pub fn LiveToasts() -> impl IntoView {
    let live = use_live();
    let session = use_session();
    let toasts = use_toasts();
    // Last status seen per ticket, so customers hear about status changes only.
    let statuses = StoredValue::new(BTreeMap::<Uuid, shared::TicketStatus>::new());

    live.on_event(move |msg| {
        let Some(me) = session.user_untracked() else {
            return;
        };
        let base = match me.role {
            Role::Customer => "/portal/tickets",
            Role::Agent => "/agent/tickets",
            Role::Admin => "/admin/tickets",
        };
        let link = |id: Uuid| Some(format!("{base}/{id}"));
        match (&msg.event, me.role) {
            (
                Event::TicketAssigned {
                    ticket,
                    agent_id: Some(agent),
                    previous_agent_id,
                },
                Role::Agent,
            ) if *agent == me.id
                && *previous_agent_id != Some(me.id)
                && !toasts.take_handled(&format!("taken:{}", ticket.id)) =>
            {
                toasts.info(
                    format!("Ticket {} assigned to you", ticket_number(ticket.number)),
                    link(ticket.id),
                );
            }
            (
                Event::TicketAssigned {
                    ticket,
                    agent_id,
                    previous_agent_id: Some(previous),
                },
                Role::Agent,
            ) if *previous == me.id && *agent_id != Some(me.id) => {
                toasts.info(
                    format!(
                        "Ticket {} is no longer assigned to you",
                        ticket_number(ticket.number)
                    ),
                    None,
                );
            }
            (Event::NewTicket { ticket }, Role::Agent) => {
                toasts.info(
                    format!(
                        "New ticket {} in the queue: {}",
                        ticket_number(ticket.number),
                        ticket.subject
                    ),
                    link(ticket.id),
                );
            }
            (Event::TicketAssigned { ticket, .. }, Role::Customer)
                if !live.follows_ticket(ticket.id) =>
            {
                if let Some(agent) = &ticket.assigned_agent {
                    toasts.info(
                        format!(
                            "{} is now handling your request {}",
                            agent.name,
                            ticket_number(ticket.number)
                        ),
                        link(ticket.id),
                    );
                }
            }
            (Event::TicketUpdated { ticket }, Role::Customer) => {
                let before = statuses.try_update_value(|s| s.insert(ticket.id, ticket.status));
                // Unknown before: worth telling only when the customer has something to do.
                let changed = match before.flatten() {
                    Some(b) => b != ticket.status,
                    None => matches!(
                        ticket.status,
                        shared::TicketStatus::Pending | shared::TicketStatus::Resolved
                    ),
                };
                if changed && !live.follows_ticket(ticket.id) {
                    toasts.info(
                        format!(
                            "Your request {} is now {}",
                            ticket_number(ticket.number),
                            status_label(ticket.status).to_lowercase()
                        ),
                        link(ticket.id),
                    );
                }
            }
            (Event::NewMessage { message }, _)
                if message.author.id != me.id
                    && !message.internal
                    && !live.follows_ticket(message.ticket_id) =>
            {
                toasts.info(
                    format!("New reply from {}", message.author.name),
                    link(message.ticket_id),
                );
            }
            (
                Event::CsatRated {
                    ticket_id,
                    ticket_number: number,
                    rating,
                },
                Role::Admin | Role::Agent,
            ) if !live.follows_ticket(*ticket_id) => {
                toasts.info(
                    format!(
                        "Ticket {} was rated {} of 5 by its customer",
                        ticket_number(*number),
                        rating.score
                    ),
                    link(*ticket_id),
                );
            }
            (Event::SlaBreach { ticket, target }, Role::Admin | Role::Agent) => {
                let which = match target {
                    SlaTargetKind::Response => "response",
                    SlaTargetKind::Resolution => "resolution",
                };
                toasts.error(format!(
                    "Ticket {} breached its {which} SLA",
                    ticket_number(ticket.number)
                ));
            }
            (
                Event::SlaWarning {
                    ticket,
                    target,
                    percent,
                },
                Role::Admin | Role::Agent,
            ) => {
                let which = match target {
                    SlaTargetKind::Response => "response",
                    SlaTargetKind::Resolution => "resolution",
                };
                toasts.info(
                    format!(
                        "Ticket {} has used {percent}% of its {which} SLA: breaching soon",
                        ticket_number(ticket.number)
                    ),
                    link(ticket.id),
                );
            }
            (Event::WebhookDisabled { url, .. }, Role::Admin) => {
                toasts.error(format!(
                    "The webhook to {url} kept failing and was switched off (see Webhooks)"
                ));
            }
            _ => {}
        }
        // Remember statuses from every ticket event for the comparison above.
        let ticket = match &msg.event {
            Event::NewTicket { ticket }
            | Event::TicketUpdated { ticket }
            | Event::TicketAssigned { ticket, .. }
            | Event::SlaBreach { ticket, .. }
            | Event::SlaWarning { ticket, .. } => Some(ticket),
            _ => None,
        };
        if let Some(t) = ticket {
            statuses.update_value(|s| {
                s.insert(t.id, t.status);
            });
        }
    });
}
