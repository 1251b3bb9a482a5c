//! `/agent`: the agent's dashboard.
//!
//! The status switch (`select#agent-status`) shows the status the server confirmed — from
//! `GET /api/agents/me`, the `PUT` answer, or an `agent-status-changed` event — never just
//! what was picked. "My tickets" lists the agent's open and pending tickets by SLA urgency
//! with live timers; "Queue" lists unassigned tickets by priority with a "Take" button. Both
//! follow live events (new tickets, assignments, updates) without a reload. The views sidebar
//! lists the saved views with live counts; picking one shows its tickets above both lists.

use leptos::prelude::*;
use shared::agents::{AgentDto, AgentStatus};
use shared::tickets::{SortOrder, TicketDto, TicketSort};
use shared::views::ViewDto;
use shared::ws::Event;
use shared::{ErrorCode, Role, TicketStatus};
use uuid::Uuid;

use crate::api::{self, Assignee, Page, TicketQuery};
use crate::components::{
    EmptyState, ErrorPanel, LoadState, Loading, PriorityBadge, RequireRole, RowFor, SlaBadge,
    TagChips, TagFilter, TicketRow, ViewsSidebar, load_state, replace_in, row_key, set_title,
    urgency_key, use_clock, use_toasts,
};
use crate::format::{agent_status_label, ago, ticket_number};
use crate::session::use_session;
use crate::ws::{debounce, use_live};

#[component]
pub fn AgentDashboard() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Agent]>
            <Dashboard/>
        </RequireRole>
    }
}

type TicketPage = LocalResource<Result<Page<TicketDto>, api::ApiError>>;

#[component]
fn Dashboard() -> impl IntoView {
    set_title("Agent dashboard");
    let session = use_session();
    let live = use_live();
    let me = session.user_untracked().map(|u| u.id).unwrap_or_default();
    let name = move || session.user().map(|u| u.name).unwrap_or_default();

    // Both lists show only tickets carrying all these tags (comma-separated).
    let tag_filter = RwSignal::new(String::new());
    let tags = move || Some(tag_filter.get()).filter(|t| !t.trim().is_empty());
    let queue: TicketPage = LocalResource::new(move || {
        live.reloads();
        let query = TicketQuery {
            tags: tags(),
            status: vec![TicketStatus::New],
            assignee: Some(Assignee::Nobody),
            sort: Some(TicketSort::Priority),
            order: Some(SortOrder::Desc),
            per_page: Some(100),
            ..Default::default()
        };
        async move { api::list_tickets(session, &query).await }
    });
    let mine: TicketPage = LocalResource::new(move || {
        live.reloads();
        let query = TicketQuery {
            tags: tags(),
            status: vec![TicketStatus::Open, TicketStatus::Pending],
            assignee: Some(Assignee::Agent(me)),
            sort: Some(TicketSort::SlaDue),
            per_page: Some(100),
            ..Default::default()
        };
        async move { api::list_tickets(session, &query).await }
    });

    let refetch_queue = debounce(250, move || queue.refetch());
    let refetch_mine = debounce(250, move || mine.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::NewTicket { .. } | Event::QueueUpdated { .. } => refetch_queue(),
        Event::TicketAssigned {
            ticket,
            agent_id,
            previous_agent_id,
        } => {
            // Gone from the queue at once; the refetch confirms the order.
            if agent_id.is_some() {
                queue.update(|v| {
                    if let Some(Ok(page)) = v {
                        page.items.retain(|t| t.id != ticket.id);
                    }
                });
            }
            refetch_queue();
            if *agent_id == Some(me) || *previous_agent_id == Some(me) {
                refetch_mine();
            }
        }
        Event::TicketUpdated { ticket } | Event::SlaBreach { ticket, .. } => {
            let mut in_mine = false;
            mine.update(|v| {
                if let Some(Ok(page)) = v {
                    in_mine = replace_in(&mut page.items, ticket);
                }
            });
            let still_mine = ticket.assigned_agent.as_ref().is_some_and(|a| a.id == me)
                && matches!(ticket.status, TicketStatus::Open | TicketStatus::Pending);
            if in_mine != still_mine {
                refetch_mine();
            }
            let mut in_queue = false;
            queue.update(|v| {
                if let Some(Ok(page)) = v {
                    in_queue = replace_in(&mut page.items, ticket);
                }
            });
            let queued = ticket.assigned_agent.is_none() && ticket.status == TicketStatus::New;
            if in_queue || queued {
                refetch_queue();
            }
        }
        _ => {}
    });

    // The saved view picked in the sidebar, whose tickets show above both lists.
    let selected = RwSignal::new(None::<Uuid>);
    let chosen = RwSignal::new(None::<ViewDto>);
    Effect::new(move |_| {
        if selected.get().is_none() {
            chosen.set(None);
        }
    });
    let view_params = move || {
        chosen.get().map(|v| {
            let mut params = api::view_params(&v.filters);
            if let Some(tags) = tags() {
                params.retain(|(k, _)| k != "tags");
                params.push(("tags".to_owned(), tags));
            }
            params
        })
    };
    let in_view = LocalResource::new(move || {
        live.reloads();
        let params = view_params();
        async move {
            match params {
                None => Ok(None),
                Some(mut params) => {
                    params.push(("per_page".to_owned(), "100".to_owned()));
                    api::list_tickets_with(session, &params).await.map(Some)
                }
            }
        }
    });
    let refetch_view = debounce(400, move || {
        if chosen.with_untracked(Option::is_some) {
            in_view.refetch();
        }
    });
    live.on_event(move |msg| {
        if matches!(
            msg.event,
            Event::NewTicket { .. }
                | Event::TicketUpdated { .. }
                | Event::TicketAssigned { .. }
                | Event::QueueUpdated { .. }
                | Event::SlaBreach { .. }
        ) {
            refetch_view();
        }
    });
    // "Save view" stores the picked view's filters (or none) with the tag filter.
    let current = Signal::derive(move || {
        let mut filters = chosen
            .get()
            .map(|v| api::view_params(&v.filters))
            .unwrap_or_default();
        if let Some(tags) = tags() {
            filters.retain(|(k, _)| k != "tags");
            filters.push(("tags".to_owned(), tags));
        }
        api::filters_from_params(filters)
    });
    let on_select = Callback::new(move |v: ViewDto| {
        if selected.get_untracked() == Some(v.id) {
            selected.set(None);
        } else {
            selected.set(Some(v.id));
            chosen.set(Some(v));
        }
    });

    view! {
        <section class="page page-wide">
            <header class="page-header page-header-row">
                <div>
                    <h1 data-testid="page-title">"Agent dashboard"</h1>
                    <p class="greeting" data-testid="greeting">"Welcome, " {name} "."</p>
                </div>
                <StatusSwitch me=me/>
            </header>
            <div class="with-sidebar">
                <ViewsSidebar selected=selected on_select=on_select current=current/>
                <div class="with-sidebar-main">
                    <div class="dashboard-filters">
                        <TagFilter id="agent-tag-filter" value=tag_filter/>
                    </div>
                    {move || chosen.get().map(|v| view! {
                        <ViewTickets name=v.name.clone() tickets=in_view on_close=Callback::new(move |()| selected.set(None))/>
                    })}
                    <div class="dashboard-grid">
                        <MyTickets mine=mine/>
                        <Queue queue=queue mine=mine/>
                    </div>
                </div>
            </div>
        </section>
    }
}

/// The tickets of the saved view picked in the sidebar.
#[component]
fn ViewTickets(
    name: String,
    tickets: LocalResource<Result<Option<Page<TicketDto>>, api::ApiError>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let rows = move || {
        tickets
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let count = move || {
        tickets
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|p| p.count)
    };
    view! {
        <section class="card section view-tickets" aria-labelledby="view-tickets-title" data-testid="view-tickets">
            <div class="results-head">
                <h2 id="view-tickets-title">
                    {name}
                    {move || count().map(|n| view! { <span class="count">{n}</span> })}
                </h2>
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| on_close.run(())>
                    "Close view"
                </button>
            </div>
            {move || match tickets.get() {
                None => view! { <Loading label="Loading the view…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| tickets.refetch())/>
                }
                .into_any(),
                Some(Ok(page)) if page.as_ref().is_none_or(|p| p.items.is_empty()) => view! {
                    <EmptyState title="No tickets in this view." hint="Tickets appear here as they match its filters."/>
                }
                .into_any(),
                Some(Ok(_)) => view! {
                    <ul class="ticket-list" data-testid="view-ticket-list">
                        <For each=rows key=row_key let:ticket>
                            <TicketRow
                                href=format!("/agent/tickets/{}", ticket.id)
                                ticket=ticket
                                audience=RowFor::Staff
                            />
                        </For>
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// The agent's availability, as confirmed by the server.
#[component]
fn StatusSwitch(me: Uuid) -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let profile = LocalResource::new(move || {
        live.reloads();
        api::my_agent(session)
    });
    let confirmed = RwSignal::new(None::<AgentStatus>);
    let agent = RwSignal::new(None::<AgentDto>);
    let error = RwSignal::new(None::<String>);
    let select = NodeRef::<leptos::html::Select>::new();

    Effect::new(move |_| match profile.get() {
        Some(Ok(a)) => {
            confirmed.set(Some(a.status));
            agent.set(Some(a));
            error.set(None);
        }
        Some(Err(err)) => error.set(Some(format!(
            "Your status could not be loaded: {}",
            err.message()
        ))),
        None => {}
    });
    live.on_event(move |msg| {
        if let Event::AgentStatusChanged {
            agent_id, status, ..
        } = &msg.event
            && *agent_id == me
        {
            confirmed.set(Some(*status));
        }
    });

    // Puts the select back on the confirmed status (after a refused change).
    let show_confirmed = move || {
        if let (Some(el), Some(status)) = (select.get_untracked(), confirmed.get_untracked()) {
            el.set_value(status.as_str());
        }
    };
    let change = Action::new_local(move |status: &AgentStatus| {
        let status = *status;
        async move {
            match api::set_my_status(session, status).await {
                Ok(a) => {
                    confirmed.set(Some(a.status));
                    agent.set(Some(a));
                    error.set(None);
                }
                Err(err) => {
                    error.set(Some(format!(
                        "Your status was not changed: {}",
                        err.message()
                    )));
                }
            }
            show_confirmed();
        }
    });
    let pending = change.pending();
    let current = move || confirmed.get().map(|s| s.as_str()).unwrap_or("unknown");
    let label = move || {
        if pending.get() {
            "Updating…"
        } else {
            confirmed.get().map_or("Unknown", agent_status_label)
        }
    };
    let shift_note = move || {
        agent.get().and_then(|a| {
            (!a.on_shift).then(|| {
                view! {
                    <p class="field-hint">"You are outside your shift, so no tickets are assigned to you automatically."</p>
                }
            })
        })
    };

    view! {
        <div class="status-switch card" data-testid="agent-status">
            <div class="status-switch-row">
                <label for="agent-status">"Your status"</label>
                <span
                    class=move || format!("agent-status agent-status-{}", current())
                    data-testid="agent-status-current"
                    data-status=current
                    aria-live="polite"
                >
                    <span class="agent-dot" aria-hidden="true"></span>
                    {label}
                </span>
            </div>
            <select
                id="agent-status"
                node_ref=select
                prop:value=current
                disabled=move || pending.get() || confirmed.with(Option::is_none)
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    if let Some(status) = AgentStatus::ALL.into_iter().find(|s| s.as_str() == value) {
                        change.dispatch(status);
                    }
                }
            >
                {move || confirmed.with(Option::is_none).then(|| view! { <option value="unknown">"Unknown"</option> })}
                {AgentStatus::ALL
                    .into_iter()
                    .map(|s| view! { <option value=s.as_str()>{agent_status_label(s)}</option> })
                    .collect_view()}
            </select>
            {move || error.get().map(|msg| view! {
                <div class="field-error" role="alert">
                    {msg}
                    " "
                    <button type="button" class="btn btn-ghost btn-small" on:click=move |_| profile.refetch()>
                        "Try again"
                    </button>
                </div>
            })}
            {shift_note}
        </div>
    }
}

#[component]
fn MyTickets(mine: TicketPage) -> impl IntoView {
    let state = load_state(mine, |p: &Page<TicketDto>| p.items.is_empty());
    let rows = move || {
        let mut items = mine
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default();
        items.sort_by_key(urgency_key);
        items
    };
    let count = move || mine.get().and_then(Result::ok).map(|p| p.items.len());
    view! {
        <section class="card section" aria-labelledby="mine-title">
            <h2 id="mine-title">
                "My tickets"
                {move || count().map(|n| view! { <span class="count">{n}</span> })}
            </h2>
            {move || match state.get() {
                LoadState::Loading => view! { <Loading label="Loading your tickets…"/> }.into_any(),
                LoadState::Failed(msg) => view! {
                    <ErrorPanel message=msg on_retry=Callback::new(move |()| mine.refetch())/>
                }
                .into_any(),
                LoadState::Empty => view! {
                    <EmptyState
                        title="No open tickets assigned to you."
                        hint="Take one from the queue, or set yourself available to get assignments."
                    />
                }
                .into_any(),
                LoadState::Ready => view! {
                    <ul class="ticket-list" data-testid="my-tickets">
                        <For each=rows key=row_key let:ticket>
                            <TicketRow
                                href=format!("/agent/tickets/{}", ticket.id)
                                ticket=ticket
                                audience=RowFor::Staff
                            />
                        </For>
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn Queue(queue: TicketPage, mine: TicketPage) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let taking = RwSignal::new(None::<Uuid>);

    let take = Action::new_local(move |ticket: &(Uuid, i64)| {
        let (id, number) = *ticket;
        async move {
            taking.set(Some(id));
            // The `ticket-assigned` event may arrive before the answer: it must not toast too.
            let key = format!("taken:{id}");
            toasts.mark_handled(key.clone());
            match api::take_ticket(session, id).await {
                Ok(t) => {
                    toasts.success(
                        format!("Ticket {} is now yours", ticket_number(t.number)),
                        Some(format!("/agent/tickets/{}", t.id)),
                    );
                    queue.update(|v| {
                        if let Some(Ok(page)) = v {
                            page.items.retain(|x| x.id != t.id);
                        }
                    });
                    mine.refetch();
                }
                Err(err) => {
                    toasts.take_handled(&key);
                    if err.code() == Some(ErrorCode::AlreadyAssigned) {
                        toasts.error(format!(
                            "Ticket {} was taken by someone else first.",
                            ticket_number(number)
                        ));
                    } else {
                        toasts.error(format!(
                            "Could not take ticket {}: {}",
                            ticket_number(number),
                            err.message()
                        ));
                    }
                }
            }
            queue.refetch();
            taking.set(None);
        }
    });

    let state = load_state(queue, |p: &Page<TicketDto>| p.items.is_empty());
    let rows = move || {
        queue
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let count = move || queue.get().and_then(Result::ok).map(|p| p.count);
    view! {
        <section class="card section" aria-labelledby="queue-title">
            <h2 id="queue-title">
                "Queue"
                {move || count().map(|n| view! { <span class="count" data-testid="queue-count">{n}</span> })}
            </h2>
            {move || match state.get() {
                LoadState::Loading => view! { <Loading label="Loading the queue…"/> }.into_any(),
                LoadState::Failed(msg) => view! {
                    <ErrorPanel message=msg on_retry=Callback::new(move |()| queue.refetch())/>
                }
                .into_any(),
                LoadState::Empty => view! {
                    <EmptyState
                        title="The queue is empty."
                        hint="New tickets appear here as they arrive."
                    />
                }
                .into_any(),
                LoadState::Ready => view! {
                    <ul class="ticket-list" data-testid="queue">
                        <For each=rows key=row_key let:ticket>
                            <QueueRow
                                ticket=ticket
                                taking=taking
                                on_take=Callback::new(move |t: (Uuid, i64)| {
                                    if taking.get_untracked().is_none() {
                                        take.dispatch(t);
                                    }
                                })
                            />
                        </For>
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn QueueRow(
    ticket: TicketDto,
    taking: RwSignal<Option<Uuid>>,
    on_take: Callback<(Uuid, i64)>,
) -> impl IntoView {
    let clock = use_clock();
    let (id, number, created) = (ticket.id, ticket.number, ticket.created_at);
    let this_one = move || taking.get() == Some(id);
    view! {
        <li
            class="queue-row"
            data-testid="queue-row"
            data-ticket-id=id.to_string()
            data-number=number.to_string()
        >
            <a class="queue-link" href=format!("/agent/tickets/{id}")>
                <span class="ticket-head">
                    <span class="ticket-number">{ticket_number(number)}</span>
                    <span class="ticket-subject">{ticket.subject.clone()}</span>
                </span>
                <span class="ticket-meta">
                    <PriorityBadge priority=ticket.priority/>
                    <SlaBadge sla=ticket.sla.clone() status=ticket.status created_at=created/>
                    <TagChips tags=ticket.tags.clone().unwrap_or_default()/>
                    <span class="muted">{ticket.customer.name.clone()}</span>
                    <span class="muted">"Opened " {move || ago(clock.now(), created)}</span>
                </span>
            </a>
            <button
                type="button"
                class="btn btn-primary btn-small"
                data-testid="take"
                aria-label=format!("Take ticket {}", ticket_number(number))
                disabled=move || taking.get().is_some()
                aria-busy=move || if this_one() { "true" } else { "false" }
                on:click=move |_| on_take.run((id, number))
            >
                {move || if this_one() { "Taking…" } else { "Take" }}
            </button>
        </li>
    }
}
