//! The customer portal.
//!
//! `/portal`: start a request by picking one of the active journeys, and follow "my requests"
//! (status and SLA badge per row, updated live; a search box finds a request by any word of it
//! or its conversation, showing where it matched). `/portal/new/:id`: walk the journey with the
//! shared [`JourneyForm`] and submit it; the new ticket's page opens on success.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::journey::{Answers, JourneyDefinition};
use shared::journeys::{JourneyDto, SubmitJourneyRequest};
use shared::tickets::{SortOrder, TicketDto, TicketSort};
use shared::ws::Event;
use shared::{ErrorCode, Role};
use uuid::Uuid;

use crate::api::{self, ApiError, Page, TicketQuery};
use crate::components::icons::{Icon, IconName, JourneyIcon};
use crate::components::{
    EmptyState, ErrorPanel, JourneyForm, LoadState, Loading, RequireRole, RowFor, SearchRow,
    TicketRow, load_state, replace_in, row_key, set_title, use_toasts,
};
use crate::format::ticket_number;
use crate::session::use_session;
use crate::ws::{debounce, use_live};

#[component]
pub fn CustomerPortal() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Customer]>
            <PortalHome/>
        </RequireRole>
    }
}

#[component]
pub fn NewRequestPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Customer]>
            <NewRequest/>
        </RequireRole>
    }
}

#[component]
fn PortalHome() -> impl IntoView {
    set_title("Customer portal");
    let session = use_session();
    let name = move || session.user().map(|u| u.name).unwrap_or_default();
    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Customer portal"</h1>
                <p class="greeting" data-testid="greeting">"Welcome, " {name} "."</p>
            </header>
            <JourneyPicker/>
            <MyRequests/>
        </section>
    }
}

/// The cards of the journeys a customer can start.
#[component]
fn JourneyPicker() -> impl IntoView {
    let session = use_session();
    let journeys = LocalResource::new(move || api::list_journeys(session));
    let startable = move |list: &Vec<JourneyDto>| -> Vec<JourneyDto> {
        list.iter()
            .filter(|j| j.active && !j.archived)
            .cloned()
            .collect()
    };
    let state = load_state(journeys, move |list| startable(list).is_empty());
    let cards = move || {
        journeys
            .get()
            .and_then(Result::ok)
            .map(|list| startable(&list))
            .unwrap_or_default()
    };
    view! {
        <section class="section" aria-labelledby="start-title">
            <h2 id="start-title">"How can we help?"</h2>
            <p class="muted">"Pick a topic and answer a few questions; we open a request for you."</p>
            {move || match state.get() {
                LoadState::Loading => view! { <Loading label="Loading topics…"/> }.into_any(),
                LoadState::Failed(msg) => view! {
                    <ErrorPanel message=msg on_retry=Callback::new(move |()| journeys.refetch())/>
                }
                .into_any(),
                LoadState::Empty => view! {
                    <EmptyState
                        title="No request topics are available right now."
                        hint="Please check back later."
                    />
                }
                .into_any(),
                LoadState::Ready => view! {
                    <ul class="journey-grid">
                        <For each=cards key=|j| (j.id, j.version) let:journey>
                            <li>
                                <a
                                    class="journey-card"
                                    href=format!("/portal/new/{}", journey.id)
                                    data-testid="journey-card"
                                    data-slug=journey.slug.clone()
                                >
                                    <span class="journey-icon">
                                        <JourneyIcon icon=journey.icon.clone()/>
                                    </span>
                                    <span class="journey-text">
                                        <span class="journey-name">{journey.name.clone()}</span>
                                        <span class="journey-description">
                                            {journey.description.clone()}
                                        </span>
                                    </span>
                                </a>
                            </li>
                        </For>
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// The customer's tickets, most recently updated first, kept current by live events.
#[component]
fn MyRequests() -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let query = TicketQuery {
        sort: Some(TicketSort::UpdatedAt),
        order: Some(SortOrder::Desc),
        per_page: Some(100),
        ..Default::default()
    };
    let tickets = LocalResource::new(move || {
        live.reloads();
        let query = query.clone();
        async move { api::list_tickets(session, &query).await }
    });
    let refetch = debounce(300, move || tickets.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::NewTicket { ticket }
        | Event::TicketUpdated { ticket }
        | Event::TicketAssigned { ticket, .. }
        | Event::SlaBreach { ticket, .. } => {
            let mut found = false;
            tickets.update(|value| {
                if let Some(Ok(page)) = value {
                    found = replace_in(&mut page.items, ticket);
                    page.items.sort_by_key(|t| std::cmp::Reverse(t.updated_at));
                }
            });
            if !found {
                refetch();
            }
        }
        Event::NewMessage { .. } => refetch(),
        _ => {}
    });
    let state = load_state(tickets, |page: &Page<TicketDto>| page.items.is_empty());
    let rows = move || {
        tickets
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };

    // The search box: as typed, and as searched (after a pause in typing).
    let typed = RwSignal::new(String::new());
    let searched = RwSignal::new(String::new());
    let apply = debounce(250, move || {
        searched.set(typed.get_untracked().trim().to_owned())
    });
    let found = LocalResource::new(move || {
        live.reloads();
        let q = searched.get();
        async move {
            if q.is_empty() {
                return Ok(None);
            }
            api::search_tickets(session, &q, 50, None).await.map(Some)
        }
    });
    let search_view = move || {
        match found.get() {
        None => Some(view! { <Loading label="Searching your requests…"/> }.into_any()),
        Some(Ok(None)) => None,
        Some(Err(err)) => Some(
            view! { <ErrorPanel message=err.message() on_retry=Callback::new(move |()| found.refetch())/> }
                .into_any(),
        ),
        Some(Ok(Some(page))) if page.items.is_empty() => Some(
            view! { <EmptyState title="None of your requests match." hint="Try other words."/> }
                .into_any(),
        ),
        Some(Ok(Some(page))) => Some(
            view! {
                <ul class="ticket-list" data-testid="request-search-results">
                    {page.items.into_iter().map(|t| {
                        let href = format!("/portal/tickets/{}", t.id);
                        view! { <SearchRow ticket=t href=href/> }
                    }).collect_view()}
                </ul>
            }
            .into_any(),
        ),
    }
    };
    view! {
        <section class="section card" aria-labelledby="mine-title">
            <div class="results-head">
                <h2 id="mine-title">"My requests"</h2>
                <div class="field request-search" role="search">
                    <label class="visually-hidden" for="request-search">"Search my requests"</label>
                    <input
                        type="search"
                        id="request-search"
                        placeholder="Search my requests"
                        autocomplete="off"
                        prop:value=move || typed.get()
                        on:input=move |ev| {
                            typed.set(event_target_value(&ev));
                            apply();
                        }
                    />
                </div>
            </div>
            {move || if searched.with(String::is_empty) { None } else { search_view() }}
            {move || searched.with(String::is_empty).then(|| match state.get() {
                LoadState::Loading => view! { <Loading label="Loading your requests…"/> }.into_any(),
                LoadState::Failed(msg) => view! {
                    <ErrorPanel message=msg on_retry=Callback::new(move |()| tickets.refetch())/>
                }
                .into_any(),
                LoadState::Empty => view! {
                    <EmptyState
                        title="You have no requests yet."
                        hint="Choose a topic above to open one."
                    />
                }
                .into_any(),
                LoadState::Ready => view! {
                    <ul class="ticket-list" data-testid="my-tickets">
                        <For each=rows key=row_key let:ticket>
                            <TicketRow
                                href=format!("/portal/tickets/{}", ticket.id)
                                ticket=ticket
                                audience=RowFor::Customer
                            />
                        </For>
                    </ul>
                }
                .into_any(),
            })}
        </section>
    }
}

/// `/portal/new/:id`: one journey, walked and submitted.
#[component]
fn NewRequest() -> impl IntoView {
    set_title("New request");
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    });
    // Not reloaded on live resyncs: that would restart the form under the customer's hands.
    let journey = LocalResource::new(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::get_journey(session, id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <section class="page page-narrow">
            <a class="back-link" href="/portal">
                <Icon name=IconName::Back/>
                "All topics"
            </a>
            {move || match journey.get() {
                None => view! { <Loading label="Loading the questions…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel
                        message=err.message()
                        on_retry=Callback::new(move |()| journey.refetch())
                    />
                }
                .into_any(),
                Some(Ok(None)) => view! {
                    <ErrorPanel message="This request topic does not exist."/>
                }
                .into_any(),
                Some(Ok(Some(j))) => view! { <JourneyRun journey=j/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn JourneyRun(journey: JourneyDto) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let journey_id = journey.id;
    let definition = journey.definition.clone();

    let submit = Action::new_local(move |answers: &Answers| {
        let req = SubmitJourneyRequest {
            answers: answers.clone(),
        };
        let navigate = navigate.clone();
        let definition = definition.clone();
        async move {
            match api::submit_journey(session, journey_id, &req).await {
                Ok(ticket) => {
                    error.set(None);
                    toasts.success(
                        format!("Request {} opened", ticket_number(ticket.number)),
                        None,
                    );
                    navigate(
                        &format!("/portal/tickets/{}", ticket.id),
                        NavigateOptions::default(),
                    );
                }
                Err(err) => error.set(Some(submit_error(&err, &definition))),
            }
        }
    });
    let busy = submit.pending();
    let on_submit = Callback::new(move |answers: Answers| {
        error.set(None);
        submit.dispatch(answers);
    });
    let navigate_back = use_navigate();
    let on_cancel = Callback::new(move |()| navigate_back("/portal", NavigateOptions::default()));

    view! {
        <header class="page-header journey-header">
            <span class="journey-icon journey-icon-large">
                <JourneyIcon icon=journey.icon.clone()/>
            </span>
            <div>
                <h1 data-testid="journey-name">{journey.name.clone()}</h1>
                <p class="muted">{journey.description.clone()}</p>
            </div>
        </header>
        <div class="card">
            <JourneyForm
                definition=journey.definition
                on_submit=on_submit
                busy=busy
                error=error
                on_cancel=on_cancel
            />
        </div>
    }
}

/// Words for a refused submission; `invalid_answers` names the question.
fn submit_error(err: &ApiError, definition: &JourneyDefinition) -> String {
    if err.code() == Some(ErrorCode::InvalidAnswers) {
        let details = err.details();
        let node = details
            .and_then(|d| d.get("node_id"))
            .and_then(|v| v.as_str());
        let reason = details
            .and_then(|d| d.get("reason"))
            .and_then(|v| v.as_str())
            .unwrap_or("it is not valid");
        if let Some(q) = node.and_then(|n| definition.question(n)) {
            return format!(
                "The answer to “{}” was not accepted ({}). Please go back and change it.",
                q.title(),
                reason.replace('_', " ")
            );
        }
    }
    err.message()
}
