//! Small ticket pieces shared by the portal and the dashboard: status and priority badges,
//! list rows, and helpers to keep a loaded list in step with live events.

use leptos::prelude::*;
use shared::tickets::TicketDto;
use shared::{Priority, TicketStatus};

use crate::components::sla::{SlaBadge, use_clock};
use crate::components::tags::TagChips;
use crate::format::{ago, priority_label, status_label, ticket_number};

/// A ticket's status. `testid` marks the one a page is about (`ticket-status`).
#[component]
pub fn StatusBadge(
    status: TicketStatus,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <span
            class=format!("status status-{}", status.as_str())
            data-status=status.as_str()
            data-testid=testid
        >
            {status_label(status)}
        </span>
    }
}

#[component]
pub fn PriorityBadge(priority: Priority) -> impl IntoView {
    view! {
        <span
            class=format!("priority priority-{}", priority.as_str())
            data-priority=priority.as_str()
            title=format!("{} priority", priority_label(priority))
        >
            {priority_label(priority)}
        </span>
    }
}

/// Who a row mentions besides the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFor {
    /// The customer sees who handles it.
    Customer,
    /// Staff see whose it is.
    Staff,
}

/// One ticket in a list, linking to its page: `[data-testid=ticket-row]`.
#[component]
pub fn TicketRow(ticket: TicketDto, href: String, audience: RowFor) -> impl IntoView {
    let clock = use_clock();
    let updated = ticket.updated_at;
    let who = match audience {
        RowFor::Customer => match &ticket.assigned_agent {
            Some(agent) => format!("Handled by {}", agent.name),
            None if ticket.status.is_active() => "Waiting for an agent".to_owned(),
            None => String::new(),
        },
        RowFor::Staff => ticket.customer.name.clone(),
    };
    view! {
        <li class="ticket-item">
            <a
                class="ticket-row"
                href=href
                data-testid="ticket-row"
                data-ticket-id=ticket.id.to_string()
                data-number=ticket.number.to_string()
                data-status=ticket.status.as_str()
            >
                <span class="ticket-head">
                    <span class="ticket-number">{ticket_number(ticket.number)}</span>
                    <span class="ticket-subject">{ticket.subject.clone()}</span>
                </span>
                <span class="ticket-meta">
                    <StatusBadge status=ticket.status/>
                    <PriorityBadge priority=ticket.priority/>
                    <SlaBadge sla=ticket.sla.clone() status=ticket.status created_at=ticket.created_at/>
                    <TagChips tags=ticket.tags.clone().unwrap_or_default()/>
                    <span class="muted ticket-who">{who}</span>
                    <span class="muted ticket-updated">
                        "Updated " {move || ago(clock.now(), updated)}
                    </span>
                </span>
            </a>
        </li>
    }
}

/// Replaces `ticket` in `list` if it is there. Returns whether it was.
pub fn replace_in(list: &mut [TicketDto], ticket: &TicketDto) -> bool {
    match list.iter_mut().find(|t| t.id == ticket.id) {
        Some(slot) => {
            *slot = ticket.clone();
            true
        }
        None => false,
    }
}

/// The `<For>` key of a row: a changed ticket renders again, an unchanged one does not.
/// (Some fields, such as the SLA flags set by the monitor, may change without `updated_at`.)
pub fn row_key(t: &TicketDto) -> String {
    format!(
        "{}:{}:{}:{}:{}:{}:{}:{:?}:{}:{:?}",
        t.id,
        t.updated_at.timestamp_millis(),
        t.status.as_str(),
        t.priority.as_str(),
        t.escalation_level,
        t.sla.response_breached,
        t.sla.resolution_breached,
        t.sla.due_at,
        t.assigned_agent
            .as_ref()
            .map(|a| a.id.to_string())
            .unwrap_or_default(),
        t.tags,
    )
}
