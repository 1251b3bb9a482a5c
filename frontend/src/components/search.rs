//! Ticket search in the SPA: the staff search box of the navbar (`/` focuses it; results
//! update as you type, arrow keys move, Enter opens, Escape closes; "All results" leads to
//! `/search?q=`), the snippet of a hit, and a result row shared by the results page and the
//! customer's "My requests".
//!
//! A snippet is plain text in pieces, the matching words marked: they are rendered as text
//! nodes inside `<mark>`, never as HTML. Typing waits for a pause of 250 ms before it asks;
//! a newer search cancels the request of an older one, and an answer that arrives for an
//! older search is dropped.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shared::Role;
use shared::tickets::{SearchField, SearchHit, TicketSummaryDto};
use wasm_bindgen::JsCast;

use crate::api;
use crate::components::tickets::{PriorityBadge, StatusBadge};
use crate::format::ticket_number;
use crate::session::use_session;
use crate::ws::debounce;

/// How many matches the navbar's dropdown shows.
const DROPDOWN_RESULTS: u64 = 8;

fn field_label(field: SearchField) -> &'static str {
    match field {
        SearchField::Number => "Number",
        SearchField::Customer => "Customer",
        SearchField::Subject => "Subject",
        SearchField::Description => "Description",
        SearchField::Answers => "Answers",
        SearchField::Message => "Message",
    }
}

/// Where a ticket matched: the part's name and its excerpt, matching words in `<mark>`.
#[component]
pub fn Snippet(hit: SearchHit) -> impl IntoView {
    view! {
        <span class="snippet" data-testid="snippet" data-field=format!("{:?}", hit.field).to_lowercase()>
            <span class="snippet-field">{field_label(hit.field)} ": "</span>
            {hit
                .snippet
                .into_iter()
                .map(|part| {
                    if part.hit {
                        view! { <mark>{part.text}</mark> }.into_any()
                    } else {
                        view! { <span>{part.text}</span> }.into_any()
                    }
                })
                .collect_view()}
        </span>
    }
}

/// The page of a ticket for the signed-in user's role.
pub fn ticket_href(role: Option<Role>, id: uuid::Uuid) -> String {
    match role {
        Some(Role::Admin) => format!("/admin/tickets/{id}"),
        Some(Role::Customer) => format!("/portal/tickets/{id}"),
        _ => format!("/agent/tickets/{id}"),
    }
}

/// One search result in a list: `[data-testid=search-row]`.
#[component]
pub fn SearchRow(ticket: TicketSummaryDto, href: String) -> impl IntoView {
    view! {
        <li class="ticket-item">
            <a
                class="ticket-row search-row"
                href=href
                data-testid="search-row"
                data-ticket-id=ticket.id.to_string()
                data-number=ticket.number.to_string()
            >
                <span class="ticket-head">
                    <span class="ticket-number">{ticket_number(ticket.number)}</span>
                    <span class="ticket-subject">{ticket.subject.clone()}</span>
                </span>
                <span class="ticket-meta">
                    <StatusBadge status=ticket.status/>
                    <PriorityBadge priority=ticket.priority/>
                    <span class="muted">{ticket.customer.name.clone()}</span>
                </span>
                {ticket.search.clone().map(|hit| view! { <Snippet hit=hit/> })}
            </a>
        </li>
    }
}

/// What the dropdown shows.
#[derive(Debug, Clone)]
enum Found {
    Searching,
    Results(Vec<TicketSummaryDto>),
    Failed(String),
}

/// The navbar's search box (staff only).
#[component]
pub fn NavSearch() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let input = NodeRef::<leptos::html::Input>::new();
    let typed = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Found>);
    let open = RwSignal::new(false);
    // The highlighted entry: a result, or (one past them) "All results".
    let active = RwSignal::new(None::<usize>);
    let generation = StoredValue::new(0_u64);
    let in_flight = StoredValue::new_local(None::<web_sys::AbortController>);

    let cancel = move || {
        generation.update_value(|g| *g += 1);
        in_flight.update_value(|c| {
            if let Some(c) = c.take() {
                c.abort();
            }
        });
    };
    let search = debounce(250, move || {
        let q = typed.get_untracked().trim().to_owned();
        if q.is_empty() {
            return;
        }
        cancel();
        let mine = generation.get_value();
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(web_sys::AbortController::signal);
        in_flight.set_value(controller);
        found.set(Some(Found::Searching));
        spawn_local(async move {
            let result = api::search_tickets(session, &q, DROPDOWN_RESULTS, signal.as_ref()).await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            in_flight.set_value(None);
            found.set(Some(match result {
                Ok(page) => Found::Results(page.items),
                Err(err) => Found::Failed(err.message()),
            }));
            active.set(None);
        });
    });

    // `/` anywhere but in a field focuses the box.
    let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.is_content_editable()
            });
        if typing {
            return;
        }
        if let Some(el) = input.get_untracked() {
            ev.prevent_default();
            let _ = el.focus();
        }
    });
    on_cleanup(move || shortcut.remove());

    let results = move || match found.get() {
        Some(Found::Results(items)) => items,
        _ => Vec::new(),
    };
    let all_href = move || {
        format!(
            "/search?q={}",
            String::from(web_sys::js_sys::encode_uri_component(typed.get().trim()))
        )
    };
    let role = move || session.user().map(|u| u.role);
    let close = move || {
        open.set(false);
        active.set(None);
    };

    let on_key = {
        let navigate = navigate.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let entries = results().len() + 1;
            match ev.key().as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    open.set(true);
                    active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % entries)));
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    open.set(true);
                    active.update(|a| {
                        *a = Some(a.map_or(entries - 1, |i| (i + entries - 1) % entries));
                    });
                }
                "Enter" => {
                    ev.prevent_default();
                    if typed.get_untracked().trim().is_empty() {
                        return;
                    }
                    let items = results();
                    let href = match active.get_untracked() {
                        Some(i) if i < items.len() => {
                            ticket_href(session.user_untracked().map(|u| u.role), items[i].id)
                        }
                        _ => all_href(),
                    };
                    close();
                    if let Some(el) = input.get_untracked() {
                        let _ = el.blur();
                    }
                    navigate(&href, NavigateOptions::default());
                }
                "Escape" => {
                    close();
                    if let Some(el) = input.get_untracked() {
                        let _ = el.blur();
                    }
                }
                _ => {}
            }
        }
    };

    let dropdown = move || {
        (open.get() && !typed.with(|t| t.trim().is_empty())).then(|| {
            let body = match found.get() {
                None | Some(Found::Searching) => {
                    view! { <p class="search-status" role="status">"Searching…"</p> }.into_any()
                }
                Some(Found::Failed(msg)) => {
                    view! { <p class="search-status field-error" role="alert">{msg}</p> }.into_any()
                }
                Some(Found::Results(items)) if items.is_empty() => view! {
                    <p class="search-status" role="status" data-testid="search-empty">"No tickets match."</p>
                }
                .into_any(),
                Some(Found::Results(items)) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let href = ticket_href(role(), t.id);
                        view! {
                            <a
                                id=format!("nav-search-option-{i}")
                                class="search-result"
                                class:active=move || active.get() == Some(i)
                                role="option"
                                aria-selected=move || if active.get() == Some(i) { "true" } else { "false" }
                                href=href
                                data-testid="search-result"
                                data-ticket-id=t.id.to_string()
                                on:click=move |_| close()
                            >
                                <span class="ticket-head">
                                    <span class="ticket-number">{ticket_number(t.number)}</span>
                                    <span class="ticket-subject">{t.subject.clone()}</span>
                                </span>
                                {t.search.clone().map(|hit| view! { <Snippet hit=hit/> })}
                            </a>
                        }
                    })
                    .collect_view()
                    .into_any(),
            };
            let all_index = move || results().len();
            view! {
                // Keeps the focus in the box while a result is clicked.
                <div
                    id="nav-search-results"
                    class="search-dropdown"
                    role="listbox"
                    data-testid="search-dropdown"
                    on:mousedown=|ev| ev.prevent_default()
                >
                    {body}
                    <a
                        id="nav-search-all"
                        class="search-all"
                        class:active=move || active.get() == Some(all_index())
                        role="option"
                        href=all_href
                        data-testid="search-all"
                        on:click=move |_| close()
                    >
                        "All results"
                    </a>
                </div>
            }
        })
    };
    let active_id = move || {
        active.get().map(|i| {
            if i < results().len() {
                format!("nav-search-option-{i}")
            } else {
                "nav-search-all".to_owned()
            }
        })
    };

    view! {
        <div class="nav-search" role="search">
            <label class="visually-hidden" for="nav-search">"Search tickets"</label>
            <input
                type="search"
                id="nav-search"
                node_ref=input
                data-testid="nav-search"
                placeholder="Search tickets ( / )"
                autocomplete="off"
                role="combobox"
                aria-controls="nav-search-results"
                aria-autocomplete="list"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-activedescendant=active_id
                prop:value=move || typed.get()
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    let blank = value.trim().is_empty();
                    typed.set(value);
                    active.set(None);
                    open.set(true);
                    if blank {
                        cancel();
                        found.set(None);
                    } else {
                        search();
                    }
                }
                on:focus=move |_| open.set(true)
                on:blur=move |_| close()
                on:keydown=on_key
            />
            {dropdown}
        </div>
    }
}
