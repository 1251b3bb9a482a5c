//! `/admin/tickets`: every ticket, with every filter of `GET /api/tickets` (status and priority
//! sets, assigned agent or unassigned, customer, category, escalated, created between two
//! days, SLA state, text or `#number`), sorting, paging, live SLA timers, and reassignment
//! (or unassignment) right from the list. The views sidebar applies a saved view's filters to
//! the panel, and saves the panel's filters as a new view.
//!
//! The filters live in signals and are mirrored into the page's address (with
//! `history.replaceState`, so the router does not re-render), so a reload or the back button
//! from a ticket keeps them. Live ticket events patch rows in place at once and reload the
//! page of results shortly after (membership and order may have changed).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use shared::agents::AgentDto;
use shared::sla::SlaStatus;
use shared::tickets::{SortOrder, TicketDto, TicketListQuery, TicketSort};
use shared::views::ViewDto;
use shared::ws::Event;
use shared::{Priority, Role, TicketStatus};
use uuid::Uuid;

use crate::api::{self, ApiError, Assignee, Page, TicketQuery};
use crate::components::icons::{Icon, IconName};
use crate::components::{
    EmptyState, ErrorPanel, Loading, PriorityBadge, RequireRole, SlaBadge, StatusBadge, TagChips,
    TagFilter, ViewsSidebar, replace_in, row_key, set_title, use_clock, use_toasts,
};
use crate::format::{self, ago, priority_label, status_label, ticket_number};
use crate::session::use_session;
use crate::ws::{debounce, use_live};

#[component]
pub fn AdminTicketsPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <TicketsAdmin/>
        </RequireRole>
    }
}

const SORTS: [(TicketSort, &str, &str); 5] = [
    (TicketSort::CreatedAt, "created_at", "Created"),
    (TicketSort::UpdatedAt, "updated_at", "Last update"),
    (TicketSort::Priority, "priority", "Priority"),
    (TicketSort::Number, "number", "Number"),
    (TicketSort::SlaDue, "sla_due", "SLA deadline"),
];

const PER_PAGE: [u64; 3] = [25, 50, 100];

fn sla_label(s: SlaStatus) -> &'static str {
    match s {
        SlaStatus::Ok => "On track",
        SlaStatus::Warning => "Warning (under 50 % left)",
        SlaStatus::Critical => "Critical (under 20 % left)",
        SlaStatus::Breached => "Breached",
    }
}

/// Every filter as the inputs hold it.
#[derive(Debug, Clone, Copy)]
struct Filters {
    status: RwSignal<Vec<TicketStatus>>,
    priority: RwSignal<Vec<Priority>>,
    /// `""` anyone, `"none"` unassigned, or an agent id.
    agent: RwSignal<String>,
    /// The chosen customer: id and what to show for it.
    customer: RwSignal<Option<(Uuid, String)>>,
    category: RwSignal<String>,
    /// Tags the tickets must all carry, comma-separated as typed.
    tags: RwSignal<String>,
    /// `""`, `"true"` or `"false"`.
    escalated: RwSignal<String>,
    /// `YYYY-MM-DD` days (local), inclusive.
    from: RwSignal<String>,
    to: RwSignal<String>,
    sla: RwSignal<Option<SlaStatus>>,
    /// Only running clocks past their warning share ("breaching soon").
    breaching_soon: RwSignal<bool>,
    /// The search text as typed, and as applied (after a pause in typing).
    q_typed: RwSignal<String>,
    q: RwSignal<String>,
    sort: RwSignal<TicketSort>,
    order: RwSignal<SortOrder>,
    page: RwSignal<u64>,
    per_page: RwSignal<u64>,
}

impl Filters {
    /// Reads the filters from the page address (`?status=new,open&sort=priority…`).
    fn from_address(query: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| query.get(k).unwrap_or_default();
        let list = |k: &str| -> Vec<String> {
            get(k)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let day = |k: &str| {
            get(k)
                .get(..10)
                .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let agent = get("assigned_agent_id");
        let agent = if agent == "none" || agent == "me" || agent.parse::<Uuid>().is_ok() {
            agent
        } else {
            String::new()
        };
        let customer = get("customer_id")
            .parse::<Uuid>()
            .ok()
            .map(|id| (id, "a customer".to_owned()));
        let q = get("q");
        Self {
            status: RwSignal::new(
                list("status")
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .collect(),
            ),
            priority: RwSignal::new(
                list("priority")
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .collect(),
            ),
            agent: RwSignal::new(agent),
            customer: RwSignal::new(customer),
            category: RwSignal::new(get("category")),
            tags: RwSignal::new(get("tags")),
            escalated: RwSignal::new(match get("escalated").as_str() {
                v @ ("true" | "false") => v.to_owned(),
                _ => String::new(),
            }),
            from: RwSignal::new(day("from")),
            to: RwSignal::new(day("to")),
            sla: RwSignal::new(get("sla").parse().ok()),
            breaching_soon: RwSignal::new(get("breaching_soon") == "true"),
            q_typed: RwSignal::new(q.clone()),
            q: RwSignal::new(q),
            sort: RwSignal::new(
                SORTS
                    .iter()
                    .find(|(_, v, _)| *v == get("sort"))
                    .map_or(TicketSort::CreatedAt, |(s, _, _)| *s),
            ),
            order: RwSignal::new(if get("order") == "asc" {
                SortOrder::Asc
            } else {
                SortOrder::Desc
            }),
            page: RwSignal::new(get("page").parse().ok().filter(|p| *p >= 1).unwrap_or(1)),
            per_page: RwSignal::new(
                get("per_page")
                    .parse()
                    .ok()
                    .filter(|n| PER_PAGE.contains(n))
                    .unwrap_or(25),
            ),
        }
    }

    /// The API query (tracked).
    fn query(&self) -> TicketQuery {
        let agent = self.agent.get();
        TicketQuery {
            status: self.status.get(),
            priority: self.priority.get(),
            assignee: match agent.as_str() {
                "" => None,
                "none" => Some(Assignee::Nobody),
                "me" => Some(Assignee::Me),
                id => id.parse().ok().map(Assignee::Agent),
            },
            customer_id: self.customer.with(|c| c.as_ref().map(|(id, _)| *id)),
            category: Some(self.category.get()).filter(|c| !c.trim().is_empty()),
            tags: Some(self.tags.get()).filter(|t| !t.trim().is_empty()),
            escalated: match self.escalated.get().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            created_from: format::local_day_start(&self.from.get(), false),
            created_to: format::local_day_start(&self.to.get(), true),
            sla: self.sla.get(),
            breaching_soon: self.breaching_soon.get().then_some(true),
            q: Some(self.q.get()).filter(|q| !q.trim().is_empty()),
            sort: Some(self.sort.get()),
            order: Some(self.order.get()),
            page: Some(self.page.get()),
            per_page: Some(self.per_page.get()),
        }
    }

    /// The page address for the current filters (days as typed, not as instants).
    fn address(&self) -> String {
        let query = self.query();
        let mut params: Vec<(&str, String)> = query
            .params()
            .into_iter()
            .filter(|(k, _)| !matches!(*k, "created_from" | "created_to"))
            .collect();
        for (key, day) in [("from", self.from.get()), ("to", self.to.get())] {
            if !day.is_empty() {
                params.push((key, day));
            }
        }
        let search = params
            .iter()
            .map(|(k, v)| format!("{k}={}", String::from(js_sys_encode(v))))
            .collect::<Vec<_>>()
            .join("&");
        if search.is_empty() {
            "/admin/tickets".to_owned()
        } else {
            format!("/admin/tickets?{search}")
        }
    }

    /// Sets every filter to a saved view's (what the panel cannot show, such as "any of these
    /// tags", is left out), on the first page.
    fn apply_view(&self, view: &TicketListQuery) {
        let list = |raw: &Option<String>| -> Vec<String> {
            raw.as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        self.status.set(
            list(&view.status)
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
        );
        self.priority.set(
            list(&view.priority)
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
        );
        self.agent
            .set(view.assigned_agent_id.clone().unwrap_or_default());
        self.customer
            .set(view.customer_id.map(|id| (id, "a customer".to_owned())));
        self.category.set(view.category.clone().unwrap_or_default());
        self.tags.set(view.tags.clone().unwrap_or_default());
        self.escalated
            .set(view.escalated.map(|e| e.to_string()).unwrap_or_default());
        // The local day of an instant, as the day inputs hold it.
        let day = |at: chrono::DateTime<chrono::Utc>| {
            let local = web_sys::js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
                at.timestamp_millis() as f64,
            ));
            format!(
                "{:04}-{:02}-{:02}",
                local.get_full_year(),
                local.get_month() + 1,
                local.get_date()
            )
        };
        self.from
            .set(view.created_from.map(day).unwrap_or_default());
        // `created_to` is the start of the day after the last one.
        self.to.set(
            view.created_to
                .map(|to| day(to - chrono::Duration::days(1)))
                .unwrap_or_default(),
        );
        self.sla.set(view.sla);
        self.breaching_soon.set(view.breaching_soon == Some(true));
        let q = view.q.clone().unwrap_or_default();
        self.q_typed.set(q.clone());
        self.q.set(q);
        self.sort.set(
            view.sort
                .filter(|s| SORTS.iter().any(|(known, _, _)| known == s))
                .unwrap_or(TicketSort::CreatedAt),
        );
        self.order.set(view.order.unwrap_or(match view.sort {
            Some(TicketSort::SlaDue) => SortOrder::Asc,
            _ => SortOrder::Desc,
        }));
        self.first_page();
    }

    /// Back to the first page (any filter changed).
    fn first_page(&self) {
        self.page.set(1);
    }

    fn clear(&self) {
        self.status.set(Vec::new());
        self.priority.set(Vec::new());
        self.agent.set(String::new());
        self.customer.set(None);
        self.category.set(String::new());
        self.tags.set(String::new());
        self.escalated.set(String::new());
        self.from.set(String::new());
        self.to.set(String::new());
        self.sla.set(None);
        self.breaching_soon.set(false);
        self.q_typed.set(String::new());
        self.q.set(String::new());
        self.first_page();
    }

    /// How many filters narrow the list (tracked).
    fn active_count(&self) -> usize {
        [
            self.status.with(|s| !s.is_empty()),
            self.priority.with(|p| !p.is_empty()),
            self.agent.with(|a| !a.is_empty()),
            self.customer.with(Option::is_some),
            self.category.with(|c| !c.trim().is_empty()),
            self.tags.with(|t| !t.trim().is_empty()),
            self.escalated.with(|e| !e.is_empty()),
            self.from.with(|d| !d.is_empty()),
            self.to.with(|d| !d.is_empty()),
            self.sla.with(Option::is_some),
            self.breaching_soon.get(),
            self.q.with(|q| !q.trim().is_empty()),
        ]
        .into_iter()
        .filter(|on| *on)
        .count()
    }
}

fn js_sys_encode(v: &str) -> web_sys::js_sys::JsString {
    web_sys::js_sys::encode_uri_component(v)
}

type Tickets = LocalResource<Result<Page<TicketDto>, ApiError>>;

#[component]
fn TicketsAdmin() -> impl IntoView {
    set_title("Tickets");
    let session = use_session();
    let live = use_live();
    let filters = Filters::from_address(&use_query_map().get_untracked());

    // A customer id from the address: look up the name to show.
    if let Some((id, _)) = filters.customer.get_untracked() {
        spawn_local(async move {
            if let Ok(user) = api::get_user(session, id).await {
                filters.customer.update(|c| {
                    if let Some((cid, label)) = c
                        && *cid == id
                    {
                        *label = format!("{} ({})", user.name, user.email);
                    }
                });
            }
        });
    }

    let query = Memo::new(move |_| filters.query());
    let loading = RwSignal::new(false);
    let tickets: Tickets = LocalResource::new(move || {
        live.reloads();
        let query = query.get();
        async move {
            loading.set(true);
            let result = api::list_tickets(session, &query).await;
            loading.set(false);
            result
        }
    });
    let agents = LocalResource::new(move || {
        live.reloads();
        api::list_agents(session)
    });
    let agent_list = Memo::new(move |_| agents.get().and_then(Result::ok).unwrap_or_default());

    // Mirror the filters into the address bar without a navigation.
    Effect::new(move |_| {
        let address = filters.address();
        if let Ok(history) = window().history() {
            let _ =
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&address));
        }
    });

    let refetch = debounce(600, move || tickets.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::NewTicket { ticket }
        | Event::TicketUpdated { ticket }
        | Event::TicketAssigned { ticket, .. }
        | Event::SlaBreach { ticket, .. } => {
            tickets.update(|v| {
                if let Some(Ok(page)) = v {
                    replace_in(&mut page.items, ticket);
                }
            });
            refetch();
        }
        _ => {}
    });

    let rows = move || {
        tickets
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };

    let selected = RwSignal::new(None::<Uuid>);
    let on_select = Callback::new(move |v: ViewDto| {
        filters.apply_view(&v.filters);
        selected.set(Some(v.id));
    });
    let current = Signal::derive(move || api::view_filters(&query.get()));

    view! {
        <section class="page page-wide">
            <header class="page-header">
                <h1 data-testid="page-title">"Tickets"</h1>
                <p class="muted">"Every ticket. Filter, sort, open one, or hand it to another agent."</p>
            </header>
            <div class="with-sidebar">
            <ViewsSidebar selected=selected on_select=on_select current=current/>
            <div class="with-sidebar-main">
            <FilterPanel filters=filters agents=agent_list/>
            <section class="card section" aria-labelledby="results-title">
                <div class="results-head">
                    <h2 id="results-title">
                        "Results"
                        {move || tickets.get().and_then(Result::ok).map(|p| view! {
                            <span class="count" data-testid="ticket-count">{p.count}</span>
                        })}
                    </h2>
                    <SortControls filters=filters/>
                </div>
                {move || match tickets.get() {
                    None => view! { <Loading label="Loading tickets…"/> }.into_any(),
                    Some(Err(err)) => view! {
                        <ErrorPanel message=err.message() on_retry=Callback::new(move |()| tickets.refetch())/>
                    }
                    .into_any(),
                    Some(Ok(page)) if page.items.is_empty() => {
                        let hint = if filters.active_count() > 0 {
                            "Try removing a filter."
                        } else {
                            "Tickets appear here as customers open them."
                        };
                        view! { <EmptyState title="No tickets match these filters." hint=hint/> }
                            .into_any()
                    }
                    Some(Ok(_)) => view! {
                        <ul
                            class="ticket-list admin-ticket-list"
                            data-testid="admin-tickets"
                            aria-busy=move || if loading.get() { "true" } else { "false" }
                        >
                            <For each=rows key=row_key let:ticket>
                                <AdminTicketRow ticket=ticket agents=agent_list tickets=tickets/>
                            </For>
                        </ul>
                    }
                    .into_any(),
                }}
                <Pagination filters=filters tickets=tickets/>
            </section>
            </div>
            </div>
        </section>
    }
}

/// A multi-select as a row of checkbox chips: `input[name=<name>][value=<value>]`.
#[component]
fn ChipSet<T>(
    legend: &'static str,
    name: &'static str,
    all: Vec<(T, &'static str, &'static str)>,
    selected: RwSignal<Vec<T>>,
    on_change: Callback<()>,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <fieldset class="chips">
            <legend>{legend}</legend>
            {all
                .into_iter()
                .map(|(item, value, label)| {
                    view! {
                        <label class="chip">
                            <input
                                type="checkbox"
                                name=name
                                value=value
                                prop:checked=move || selected.with(|s| s.contains(&item))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|s| {
                                        s.retain(|x| *x != item);
                                        if on {
                                            s.push(item);
                                        }
                                    });
                                    on_change.run(());
                                }
                            />
                            <span>{label}</span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
fn FilterPanel(filters: Filters, agents: Memo<Vec<AgentDto>>) -> impl IntoView {
    let changed = Callback::new(move |()| filters.first_page());
    let apply_q = debounce(350, move || {
        filters.q.set(filters.q_typed.get_untracked());
        filters.first_page();
    });
    let statuses = TicketStatus::ALL
        .into_iter()
        .map(|s| (s, s.as_str(), status_label(s)))
        .collect::<Vec<_>>();
    let priorities = Priority::ALL
        .into_iter()
        .rev()
        .map(|p| (p, p.as_str(), priority_label(p)))
        .collect::<Vec<_>>();
    let count = move || filters.active_count();

    view! {
        <form
            class="card section filters"
            role="search"
            aria-labelledby="filters-title"
            novalidate
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                filters.q.set(filters.q_typed.get_untracked());
                filters.first_page();
            }
        >
            <div class="filters-head">
                <h2 id="filters-title">
                    "Filters"
                    {move || (count() > 0).then(|| view! { <span class="count" data-testid="filter-count">{count()}</span> })}
                </h2>
                <button
                    type="button"
                    id="filters-clear"
                    class="btn btn-ghost btn-small"
                    disabled=move || count() == 0
                    on:click=move |_| filters.clear()
                >
                    "Clear all"
                </button>
            </div>
            <div class="field filter-q">
                <label for="filter-q">"Search"</label>
                <input
                    type="search"
                    id="filter-q"
                    placeholder="Subject text or #number"
                    autocomplete="off"
                    prop:value=move || filters.q_typed.get()
                    on:input=move |ev| {
                        filters.q_typed.set(event_target_value(&ev));
                        apply_q();
                    }
                />
            </div>
            <div class="filters-grid">
                <ChipSet legend="Status" name="status" all=statuses selected=filters.status on_change=changed/>
                <ChipSet legend="Priority" name="priority" all=priorities selected=filters.priority on_change=changed/>
            </div>
            <div class="filters-grid">
                <div class="field">
                    <label for="filter-agent">"Assigned agent"</label>
                    <select
                        id="filter-agent"
                        on:change=move |ev| {
                            filters.agent.set(event_target_value(&ev));
                            filters.first_page();
                        }
                    >
                        <option value="" prop:selected=move || filters.agent.with(String::is_empty)>"Anyone"</option>
                        <option value="none" prop:selected=move || filters.agent.with(|a| a == "none")>"Unassigned"</option>
                        <option value="me" prop:selected=move || filters.agent.with(|a| a == "me")>"Assigned to me"</option>
                        {move || agents.get().into_iter().map(|a| {
                            let value = a.id.to_string();
                            let selected = {
                                let value = value.clone();
                                move || filters.agent.with(|x| *x == value)
                            };
                            view! { <option value=value prop:selected=selected>{a.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <CustomerPicker filters=filters/>
                <div class="field">
                    <label for="filter-category">"Category"</label>
                    <input
                        type="text"
                        id="filter-category"
                        placeholder="e.g. orders/damaged"
                        autocomplete="off"
                        prop:value=move || filters.category.get()
                        on:change=move |ev| {
                            filters.category.set(event_target_value(&ev));
                            filters.first_page();
                        }
                    />
                </div>
                <TagFilter
                    id="filter-tags"
                    value=filters.tags
                    on_change=Callback::new(move |_| filters.first_page())
                />
                <div class="field">
                    <label for="filter-sla">"SLA"</label>
                    <select
                        id="filter-sla"
                        on:change=move |ev| {
                            filters.sla.set(event_target_value(&ev).parse().ok());
                            filters.first_page();
                        }
                    >
                        <option value="" prop:selected=move || filters.sla.with(Option::is_none)>"Any"</option>
                        {SlaStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() prop:selected=move || filters.sla.get() == Some(s)>{sla_label(s)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <label class="check">
                    <input
                        type="checkbox"
                        id="filter-breaching-soon"
                        prop:checked=move || filters.breaching_soon.get()
                        on:change=move |ev| {
                            filters.breaching_soon.set(event_target_checked(&ev));
                            filters.first_page();
                        }
                    />
                    <span>"Breaching soon"</span>
                </label>
                <div class="field">
                    <label for="filter-escalated">"Escalated"</label>
                    <select
                        id="filter-escalated"
                        on:change=move |ev| {
                            filters.escalated.set(event_target_value(&ev));
                            filters.first_page();
                        }
                    >
                        <option value="" prop:selected=move || filters.escalated.with(String::is_empty)>"Either"</option>
                        <option value="true" prop:selected=move || filters.escalated.with(|e| e == "true")>"Escalated only"</option>
                        <option value="false" prop:selected=move || filters.escalated.with(|e| e == "false")>"Not escalated"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="filter-from">"Created from"</label>
                    <input
                        type="date"
                        id="filter-from"
                        prop:value=move || filters.from.get()
                        on:change=move |ev| {
                            filters.from.set(event_target_value(&ev));
                            filters.first_page();
                        }
                    />
                </div>
                <div class="field">
                    <label for="filter-to">"Created until"</label>
                    <input
                        type="date"
                        id="filter-to"
                        prop:value=move || filters.to.get()
                        on:change=move |ev| {
                            filters.to.set(event_target_value(&ev));
                            filters.first_page();
                        }
                    />
                </div>
            </div>
        </form>
    }
}

/// Finds a customer by name or email (`GET /api/users?role=customer&q=`) and filters by them.
#[component]
fn CustomerPicker(filters: Filters) -> impl IntoView {
    let session = use_session();
    let typed = RwSignal::new(String::new());
    let term = RwSignal::new(String::new());
    let search = debounce(250, move || term.set(typed.get_untracked()));
    let matches = LocalResource::new(move || {
        let q = term.get();
        async move {
            if q.trim().is_empty() {
                Ok(Vec::new())
            } else {
                api::search_users(session, Role::Customer, &q)
                    .await
                    .map(|p| p.items)
            }
        }
    });
    let choose = move |id: Uuid, label: String| {
        filters.customer.set(Some((id, label)));
        typed.set(String::new());
        term.set(String::new());
        filters.first_page();
    };
    let suggestions = move || {
        let q = term.get();
        if q.trim().is_empty() {
            return None;
        }
        Some(match matches.get() {
            None => view! { <p class="muted suggestions-note">"Searching…"</p> }.into_any(),
            Some(Err(err)) => view! { <p class="field-error">{err.message()}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => {
                view! { <p class="muted suggestions-note">"No customer matches."</p> }.into_any()
            }
            Some(Ok(list)) => view! {
                <ul class="suggestions" id="customer-suggestions" aria-label="Matching customers">
                    {list.into_iter().map(|u| {
                        let label = format!("{} ({})", u.name, u.email);
                        let shown = label.clone();
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="suggestion"
                                    data-testid="customer-option"
                                    data-user-id=u.id.to_string()
                                    on:click=move |_| choose(u.id, label.clone())
                                >
                                    {shown}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any(),
        })
    };
    view! {
        <div class="field customer-picker">
            <label for="filter-customer">"Customer"</label>
            {move || match filters.customer.get() {
                Some((_, label)) => view! {
                    <span class="picked-filter" data-testid="customer-filter">
                        <span>{label.clone()}</span>
                        <button
                            type="button"
                            class="btn btn-ghost btn-small"
                            aria-label=format!("Stop filtering by {label}")
                            on:click=move |_| {
                                filters.customer.set(None);
                                filters.first_page();
                            }
                        >
                            <Icon name=IconName::Close/>
                        </button>
                    </span>
                }
                .into_any(),
                None => {
                    let search = search.clone();
                    view! {
                    <input
                        type="search"
                        id="filter-customer"
                        placeholder="Name or email"
                        autocomplete="off"
                        aria-controls="customer-suggestions"
                        prop:value=move || typed.get()
                        on:input=move |ev| {
                            typed.set(event_target_value(&ev));
                            search();
                        }
                    />
                    {suggestions}
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

#[component]
fn SortControls(filters: Filters) -> impl IntoView {
    view! {
        <div class="sort-controls">
            <div class="field field-inline">
                <label for="ticket-sort">"Sort by"</label>
                <select
                    id="ticket-sort"
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        if let Some((s, _, _)) = SORTS.iter().find(|(_, v, _)| *v == value) {
                            filters.sort.set(*s);
                            filters.first_page();
                        }
                    }
                >
                    {SORTS.iter().map(|(s, value, label)| {
                        let s = *s;
                        view! { <option value=*value prop:selected=move || filters.sort.get() == s>{*label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field field-inline">
                <label for="ticket-order">"Order"</label>
                <select
                    id="ticket-order"
                    on:change=move |ev| {
                        filters.order.set(if event_target_value(&ev) == "asc" { SortOrder::Asc } else { SortOrder::Desc });
                        filters.first_page();
                    }
                >
                    <option value="desc" prop:selected=move || filters.order.get() == SortOrder::Desc>"Descending"</option>
                    <option value="asc" prop:selected=move || filters.order.get() == SortOrder::Asc>"Ascending"</option>
                </select>
            </div>
        </div>
    }
}

#[component]
fn Pagination(filters: Filters, tickets: Tickets) -> impl IntoView {
    let totals = move || {
        tickets
            .get()
            .and_then(Result::ok)
            .map(|p| (p.page, p.pages, p.count))
    };
    let pages = move || totals().map_or(1, |(_, pages, _)| pages.max(1));
    let page = filters.page;
    view! {
        <nav class="pagination" aria-label="Pages">
            <button
                type="button"
                id="page-prev"
                class="btn btn-secondary btn-small"
                disabled=move || page.get() <= 1
                on:click=move |_| filters.page.update(|p| *p = p.saturating_sub(1).max(1))
            >
                <Icon name=IconName::Back/>
                "Previous"
            </button>
            <span class="muted" data-testid="page-info" aria-live="polite">
                {move || format!(
                    "Page {} of {} · {}",
                    page.get(),
                    pages(),
                    format::plural(totals().map_or(0, |(_, _, c)| c as usize), "ticket", "tickets")
                )}
            </span>
            <button
                type="button"
                id="page-next"
                class="btn btn-secondary btn-small"
                disabled=move || { page.get() >= pages() }
                on:click=move |_| filters.page.update(|p| *p += 1)
            >
                "Next"
            </button>
            <div class="field field-inline">
                <label for="per-page">"Per page"</label>
                <select
                    id="per-page"
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<u64>() {
                            filters.per_page.set(n);
                            filters.first_page();
                        }
                    }
                >
                    {PER_PAGE.into_iter().map(|n| view! {
                        <option value=n.to_string() prop:selected=move || filters.per_page.get() == n>{n}</option>
                    }).collect_view()}
                </select>
            </div>
        </nav>
    }
}

/// The agent picker of a ticket (list row or ticket page): "Unassigned" plus the active
/// agents (and the current one, even if inactive). Calls the API itself and reports the
/// updated ticket; on failure the select goes back to the real assignee.
#[component]
pub fn AssignSelect(
    ticket: TicketDto,
    #[prop(into)] agents: Signal<Vec<AgentDto>>,
    /// The select's `id` (its label is `label`, visually hidden unless `show_label`).
    id: String,
    label: String,
    #[prop(optional)] show_label: bool,
    #[prop(optional)] testid: Option<&'static str>,
    on_assigned: Callback<TicketDto>,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let select = NodeRef::<leptos::html::Select>::new();
    let ticket_id = ticket.id;
    let number = ticket.number;
    let current = ticket.assigned_agent.as_ref().map(|a| a.id);
    let current_name = ticket.assigned_agent.as_ref().map(|a| a.name.clone());
    let current_value = current.map(|id| id.to_string()).unwrap_or_default();
    let active = ticket.status.is_active();

    let assign = Action::new_local(move |agent: &Option<Uuid>| {
        let agent = *agent;
        let reset = current_value.clone();
        async move {
            match api::assign_ticket(session, ticket_id, agent).await {
                Ok(t) => {
                    let text = match &t.assigned_agent {
                        Some(a) => {
                            format!("Ticket {} assigned to {}.", ticket_number(number), a.name)
                        }
                        None => format!("Ticket {} is back in the queue.", ticket_number(number)),
                    };
                    toasts.success(text, None);
                    on_assigned.run(t);
                }
                Err(err) => {
                    toasts.error(format!(
                        "Ticket {} was not reassigned: {}",
                        ticket_number(number),
                        err.message()
                    ));
                    if let Some(el) = select.get_untracked() {
                        el.set_value(&reset);
                    }
                }
            }
        }
    });
    let options = move || {
        let mut list: Vec<(Uuid, String, bool)> = agents
            .get()
            .into_iter()
            .filter(|a| a.active || Some(a.id) == current)
            .map(|a| {
                let note = if a.active {
                    crate::format::agent_status_label(a.status).to_lowercase()
                } else {
                    "inactive".to_owned()
                };
                (a.id, format!("{} ({note})", a.name), Some(a.id) == current)
            })
            .collect();
        if let (Some(id), Some(name)) = (current, current_name.clone())
            && !list.iter().any(|(x, _, _)| *x == id)
        {
            list.push((id, name, true));
        }
        list.into_iter()
            .map(|(id, label, selected)| {
                view! { <option value=id.to_string() prop:selected=selected>{label}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="assign-field" class:field=show_label>
            <label for=id.clone() class:visually-hidden=!show_label>{label}</label>
            <select
                id=id
                node_ref=select
                data-testid=testid
                disabled=move || !active || assign.pending().get()
                aria-busy=move || if assign.pending().get() { "true" } else { "false" }
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    assign.dispatch(value.parse::<Uuid>().ok());
                }
            >
                <option value="" prop:selected=current.is_none()>"Unassigned (queue)"</option>
                {options}
            </select>
        </div>
    }
}

#[component]
fn AdminTicketRow(
    ticket: TicketDto,
    agents: Memo<Vec<AgentDto>>,
    tickets: Tickets,
) -> impl IntoView {
    let clock = use_clock();
    let id = ticket.id;
    let created = ticket.created_at;
    let updated = ticket.updated_at;
    let agent_id = ticket
        .assigned_agent
        .as_ref()
        .map(|a| a.id.to_string())
        .unwrap_or_default();
    view! {
        <li
            class="admin-ticket-row"
            data-testid="ticket-row"
            data-ticket-id=id.to_string()
            data-number=ticket.number.to_string()
            data-status=ticket.status.as_str()
            data-agent-id=agent_id
        >
            <a class="admin-ticket-link" href=format!("/admin/tickets/{id}")>
                <span class="ticket-head">
                    <span class="ticket-number">{ticket_number(ticket.number)}</span>
                    <span class="ticket-subject">{ticket.subject.clone()}</span>
                </span>
                <span class="ticket-meta">
                    <StatusBadge status=ticket.status/>
                    <PriorityBadge priority=ticket.priority/>
                    <SlaBadge sla=ticket.sla.clone() status=ticket.status created_at=created/>
                    {ticket.escalated.then(|| view! {
                        <span class="escalated" title="Escalated after an SLA breach">
                            <Icon name=IconName::Alert/> "Escalated"
                        </span>
                    })}
                    {ticket.category.clone().map(|c| view! { <span class="tag" data-testid="ticket-category">{c}</span> })}
                    <TagChips tags=ticket.tags.clone().unwrap_or_default()/>
                    <span class="muted">{ticket.customer.name.clone()}</span>
                    <span class="muted" title=format::local_time(created)>
                        "Opened " {move || ago(clock.now(), created)}
                    </span>
                    <span class="muted" title=format::local_time(updated)>
                        "· updated " {move || ago(clock.now(), updated)}
                    </span>
                </span>
            </a>
            <AssignSelect
                ticket=ticket.clone()
                agents=agents
                id=format!("assign-{id}")
                label=format!("Agent for ticket {}", ticket_number(ticket.number))
                testid="assign-select"
                on_assigned=Callback::new(move |t: TicketDto| {
                    tickets.update(|v| {
                        if let Some(Ok(page)) = v {
                            replace_in(&mut page.items, &t);
                        }
                    });
                })
            />
        </li>
    }
}
