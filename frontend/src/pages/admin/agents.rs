//! `/admin/agents`: every agent with a live status dot (`agent-status-changed` events), shift,
//! capacity, active flag and metrics; a form to add an agent; an inline editor for shift,
//! capacity and the active flag; and a status switch per agent.
//!
//! The list is loaded over REST and patched by events: status changes in place, ticket events
//! (which move the open counts and metrics) by a debounced reload. Each card follows its agent
//! by id, so a live update never closes an editor that is open.

use std::collections::BTreeMap;

use chrono::NaiveTime;
use leptos::prelude::*;
use shared::agents::{AgentDto, AgentStatus, CreateAgentRequest, Shift, Weekday};
use shared::validate::{DisplayName, Email, Password};
use shared::ws::Event;
use shared::{ErrorCode, Role};
use uuid::Uuid;

use super::{FieldErrors, clear_error, field_error, has_error};
use crate::api::{self, AgentChanges, ApiError};
use crate::components::{
    EmptyState, ErrorPanel, FieldState, FormAlert, Loading, RequireRole, TextField, set_title,
    use_toasts,
};
use crate::format::{self, agent_status_label, weekday_label};
use crate::session::use_session;
use crate::ws::{debounce, use_live};

#[component]
pub fn AgentsPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Agents/>
        </RequireRole>
    }
}

type AgentList = LocalResource<Result<Vec<AgentDto>, ApiError>>;

/// Puts a changed agent into the loaded list (or appends a new one).
fn upsert(list: AgentList, agent: AgentDto) {
    list.update(|v| {
        if let Some(Ok(agents)) = v {
            match agents.iter_mut().find(|a| a.id == agent.id) {
                Some(slot) => *slot = agent,
                None => {
                    agents.push(agent);
                    agents.sort_by_key(|a| a.name.to_lowercase());
                }
            }
        }
    });
}

#[component]
fn Agents() -> impl IntoView {
    set_title("Agents");
    let session = use_session();
    let live = use_live();
    let agents: AgentList = LocalResource::new(move || {
        live.reloads();
        api::list_agents(session)
    });

    let reload = debounce(1_500, move || agents.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::AgentStatusChanged {
            agent_id, status, ..
        } => {
            let (id, status, at) = (*agent_id, *status, msg.at);
            agents.update(|v| {
                if let Some(Ok(list)) = v
                    && let Some(a) = list.iter_mut().find(|a| a.id == id)
                {
                    a.status = status;
                    a.status_changed_at = at;
                }
            });
        }
        // Assignments, resolutions and closures move the open counts and the metrics.
        Event::TicketAssigned { .. } | Event::TicketUpdated { .. } => reload(),
        _ => {}
    });

    let rows = Memo::new(move |_| agents.get().and_then(Result::ok).unwrap_or_default());
    let ids = move || rows.with(|r| r.iter().map(|a| a.id).collect::<Vec<_>>());
    let show_form = RwSignal::new(false);
    let count = move || rows.with(Vec::len);

    view! {
        <section class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1 data-testid="page-title">"Agents"</h1>
                    <p class="muted">"Who takes tickets, when, and how many at once."</p>
                </div>
                <button
                    type="button"
                    id="new-agent-toggle"
                    class="btn btn-primary"
                    aria-expanded=move || if show_form.get() { "true" } else { "false" }
                    aria-controls="new-agent"
                    on:click=move |_| show_form.update(|s| *s = !*s)
                >
                    {move || if show_form.get() { "Close the form" } else { "Add an agent" }}
                </button>
            </header>
            <Show when=move || show_form.get()>
                <NewAgentForm
                    on_created=Callback::new(move |a: AgentDto| {
                        upsert(agents, a);
                        show_form.set(false);
                    })
                    on_cancel=Callback::new(move |()| show_form.set(false))
                />
            </Show>
            {move || match agents.get() {
                None => view! { <Loading label="Loading agents…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| agents.refetch())/>
                }
                .into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <EmptyState title="There are no agents yet." hint="Add one with the button above."/>
                }
                .into_any(),
                Some(Ok(_)) => view! {
                    <p class="muted list-count" data-testid="agent-count">
                        {move || format::plural(count(), "agent", "agents")}
                    </p>
                    <ul class="agent-grid" data-testid="agents">
                        <For each=ids key=|id| *id let:id>
                            <AgentCard id=id rows=rows agents=agents/>
                        </For>
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// One agent; follows the agent with `id` in `rows`.
#[component]
fn AgentCard(id: Uuid, rows: Memo<Vec<AgentDto>>, agents: AgentList) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let agent = Memo::new(move |_| rows.with(|r| r.iter().find(|a| a.id == id).cloned()));
    let editing = RwSignal::new(false);
    let read = move |f: fn(&AgentDto) -> String| {
        move || agent.with(|a| a.as_ref().map(f).unwrap_or_default())
    };
    let status = move || agent.with(|a| a.as_ref().map(|a| a.status));
    let status_untracked = move || agent.with_untracked(|a| a.as_ref().map(|a| a.status));
    let status_str = move || status().map_or("unknown", AgentStatus::as_str);
    let name = read(|a| a.name.clone());
    let select = NodeRef::<leptos::html::Select>::new();

    let set_status = Action::new_local(move |s: &AgentStatus| {
        let s = *s;
        async move {
            match api::set_agent_status(session, id, s).await {
                Ok(a) => upsert(agents, a),
                Err(err) => {
                    toasts.error(format!("The status was not changed: {}", err.message()));
                    // Put the select back on the confirmed status.
                    if let (Some(el), Some(s)) = (select.get_untracked(), status_untracked()) {
                        el.set_value(s.as_str());
                    }
                }
            }
        }
    });

    let shift_text = move || {
        agent.with(|a| match a.as_ref().and_then(|a| a.shift.as_ref()) {
            Some(s) => format::shift(s),
            None => "No shift: available around the clock".to_owned(),
        })
    };
    let on_shift = move || agent.with(|a| a.as_ref().is_some_and(|a| a.on_shift));
    let has_shift = move || agent.with(|a| a.as_ref().is_some_and(|a| a.shift.is_some()));
    let active = move || agent.with(|a| a.as_ref().is_some_and(|a| a.active));
    let metric = move |f: fn(&AgentDto) -> Option<f64>, show: fn(f64) -> String| {
        move || {
            agent
                .with(|a| a.as_ref().and_then(f))
                .map_or_else(|| "—".to_owned(), show)
        }
    };
    let load = move || {
        agent.with(|a| {
            a.as_ref()
                .map(|a| format!("{} of {}", a.metrics.open_tickets, a.capacity))
                .unwrap_or_default()
        })
    };

    view! {
        <li
            class="card agent-card"
            class:agent-inactive=move || !active()
            data-testid="agent-row"
            data-agent-id=id.to_string()
            data-email=read(|a| a.email.clone())
            data-active=move || active().to_string()
        >
            <header class="agent-card-head">
                <div class="agent-who">
                    <h2 class="agent-name">{name}</h2>
                    <p class="muted agent-email">{read(|a| a.email.clone())}</p>
                </div>
                <span
                    class=move || format!("agent-status agent-status-{}", status_str())
                    data-testid="agent-status-dot"
                    data-status=status_str
                    aria-live="polite"
                >
                    <span class="agent-dot" aria-hidden="true"></span>
                    {move || status().map_or("Unknown", agent_status_label)}
                </span>
            </header>
            <div class="field agent-status-field">
                <label for=format!("agent-{id}-status")>"Status"</label>
                <select
                    id=format!("agent-{id}-status")
                    node_ref=select
                    data-testid="agent-status-select"
                    disabled=move || set_status.pending().get()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        if let Some(s) = AgentStatus::ALL.into_iter().find(|s| s.as_str() == value) {
                            set_status.dispatch(s);
                        }
                    }
                >
                    {AgentStatus::ALL
                        .into_iter()
                        .map(|s| view! {
                            <option value=s.as_str() prop:selected=move || status() == Some(s)>
                                {agent_status_label(s)}
                            </option>
                        })
                        .collect_view()}
                </select>
            </div>
            <dl class="agent-facts">
                <div>
                    <dt>"Shift"</dt>
                    <dd data-testid="agent-shift">
                        {shift_text}
                        {move || has_shift().then(|| if on_shift() {
                            view! { <span class="tag tag-success">"on shift now"</span> }.into_any()
                        } else {
                            view! { <span class="tag">"off shift now"</span> }.into_any()
                        })}
                    </dd>
                </div>
                <div>
                    <dt>"Open tickets / capacity"</dt>
                    <dd data-testid="agent-capacity">{load}</dd>
                </div>
                <div>
                    <dt>"Assignments"</dt>
                    <dd data-testid="agent-active">
                        {move || if active() { "Active" } else { "Inactive: gets no tickets" }}
                    </dd>
                </div>
            </dl>
            <dl class="agent-metrics" aria-label="Performance">
                <div>
                    <dt>"Resolved"</dt>
                    <dd data-metric="resolved">{read(|a| a.metrics.tickets_resolved.to_string())}</dd>
                </div>
                <div>
                    <dt>"Avg first response"</dt>
                    <dd data-metric="first-response">
                        {metric(|a| a.metrics.avg_first_response_secs, format::duration_secs)}
                    </dd>
                </div>
                <div>
                    <dt>"Avg resolution"</dt>
                    <dd data-metric="resolution">
                        {metric(|a| a.metrics.avg_resolution_secs, format::duration_secs)}
                    </dd>
                </div>
                <div>
                    <dt>"SLA met"</dt>
                    <dd data-metric="sla">
                        {metric(|a| a.metrics.sla_compliance_percent, |p| format!("{p:.0} %"))}
                    </dd>
                </div>
            </dl>
            <Show
                when=move || editing.get()
                fallback=move || view! {
                    <div class="actions">
                        <button
                            type="button"
                            class="btn btn-secondary btn-small"
                            data-action="edit"
                            on:click=move |_| editing.set(true)
                        >
                            "Edit shift, capacity and access"
                        </button>
                    </div>
                }
            >
                {move || agent.get_untracked().map(|a| view! {
                    <AgentEditor
                        agent=a
                        on_done=Callback::new(move |saved: Option<AgentDto>| {
                            if let Some(a) = saved {
                                upsert(agents, a);
                            }
                            editing.set(false);
                        })
                    />
                })}
            </Show>
        </li>
    }
}

/// The shift inputs of a form (new agent, or editing one).
#[derive(Debug, Clone, Copy)]
struct ShiftForm {
    enabled: RwSignal<bool>,
    start: RwSignal<String>,
    end: RwSignal<String>,
    time_zone: RwSignal<String>,
    days: RwSignal<Vec<Weekday>>,
}

impl ShiftForm {
    fn new(shift: Option<&Shift>) -> Self {
        let (start, end, zone, days) = match shift {
            Some(s) => (
                s.start.format("%H:%M").to_string(),
                s.end.format("%H:%M").to_string(),
                s.time_zone.clone(),
                s.days.clone(),
            ),
            None => (
                "09:00".to_owned(),
                "17:00".to_owned(),
                format::browser_time_zone(),
                Weekday::ALL[..5].to_vec(),
            ),
        };
        Self {
            enabled: RwSignal::new(shift.is_some()),
            start: RwSignal::new(start),
            end: RwSignal::new(end),
            time_zone: RwSignal::new(zone),
            days: RwSignal::new(days),
        }
    }

    /// The shift to send, or the local errors by field key. The time zone and the days are
    /// checked by the server, whose messages are shown.
    fn value(&self) -> Result<Option<Shift>, BTreeMap<String, String>> {
        if !self.enabled.get_untracked() {
            return Ok(None);
        }
        let time = |raw: String| {
            NaiveTime::parse_from_str(raw.trim(), "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(raw.trim(), "%H:%M:%S"))
                .ok()
        };
        let mut errors = BTreeMap::new();
        let start = time(self.start.get_untracked());
        let end = time(self.end.get_untracked());
        if start.is_none() {
            errors.insert("shift.start".to_owned(), "Enter a start time.".to_owned());
        }
        if end.is_none() {
            errors.insert("shift.end".to_owned(), "Enter an end time.".to_owned());
        }
        match (start, end) {
            (Some(start), Some(end)) => {
                let mut days = self.days.get_untracked();
                days.sort_by_key(|d| *d as u8);
                Ok(Some(Shift {
                    start,
                    end,
                    time_zone: self.time_zone.get_untracked().trim().to_owned(),
                    days,
                }))
            }
            _ => Err(errors),
        }
    }
}

/// Start, end, time zone and working days; `prefix` makes the ids unique on the page.
#[component]
fn ShiftFields(form: ShiftForm, prefix: String, errors: FieldErrors) -> impl IntoView {
    let id = {
        let prefix = prefix.clone();
        move |what: &str| format!("{prefix}-shift-{what}")
    };
    let zones_id = id("zones");
    let zones = StoredValue::new(format::time_zones());
    let enabled = form.enabled;
    let (start_id, end_id, zone_id) = (id("start"), id("end"), id("zone"));
    let days_error_id = id("days-error");
    view! {
        <fieldset class="shift-fields">
            <legend>"Shift"</legend>
            <label class="check">
                <input
                    type="checkbox"
                    id=id("enabled")
                    data-field="shift-enabled"
                    prop:checked=move || enabled.get()
                    on:change=move |ev| enabled.set(event_target_checked(&ev))
                />
                <span>"Works a shift (otherwise available around the clock)"</span>
            </label>
            <Show when=move || enabled.get()>
                <div class="shift-grid">
                    <div class="field" class:field-invalid=move || has_error(errors, "shift.start")>
                        <label for=start_id.clone()>"Starts"</label>
                        <input
                            type="time"
                            id=start_id.clone()
                            data-field="shift-start"
                            prop:value=move || form.start.get()
                            on:input=move |ev| {
                                form.start.set(event_target_value(&ev));
                                clear_error(errors, "shift.start");
                            }
                        />
                        {field_error(errors, "shift.start", format!("{start_id}-error"))}
                    </div>
                    <div class="field" class:field-invalid=move || has_error(errors, "shift.end")>
                        <label for=end_id.clone()>"Ends"</label>
                        <input
                            type="time"
                            id=end_id.clone()
                            data-field="shift-end"
                            prop:value=move || form.end.get()
                            on:input=move |ev| {
                                form.end.set(event_target_value(&ev));
                                clear_error(errors, "shift.end");
                            }
                        />
                        {field_error(errors, "shift.end", format!("{end_id}-error"))}
                    </div>
                    <div class="field shift-zone" class:field-invalid=move || has_error(errors, "shift.time_zone")>
                        <label for=zone_id.clone()>"Time zone"</label>
                        <input
                            type="text"
                            id=zone_id.clone()
                            data-field="shift-time-zone"
                            list=zones_id.clone()
                            autocomplete="off"
                            spellcheck="false"
                            prop:value=move || form.time_zone.get()
                            on:input=move |ev| {
                                form.time_zone.set(event_target_value(&ev));
                                clear_error(errors, "shift.time_zone");
                            }
                        />
                        <datalist id=zones_id.clone()>
                            {zones.with_value(|z| z.iter().map(|z| view! { <option value=z.clone()></option> }).collect_view())}
                        </datalist>
                        {field_error(errors, "shift.time_zone", format!("{zone_id}-error"))}
                    </div>
                </div>
                <fieldset class="days" aria-describedby=days_error_id.clone()>
                    <legend>"Working days"</legend>
                    {Weekday::ALL
                        .into_iter()
                        .map(|day| {
                            let checked = move || form.days.with(|d| d.contains(&day));
                            view! {
                                <label class="chip">
                                    <input
                                        type="checkbox"
                                        name=format!("{prefix}-day")
                                        value=format!("{day:?}").to_lowercase()
                                        prop:checked=checked
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            form.days.update(|d| {
                                                d.retain(|x| *x != day);
                                                if on {
                                                    d.push(day);
                                                }
                                            });
                                            clear_error(errors, "shift.days");
                                        }
                                    />
                                    <span>{weekday_label(day)}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                {field_error(errors, "shift.days", days_error_id.clone())}
            </Show>
        </fieldset>
    }
}

/// Capacity as typed; `Err` with a message when it is not a whole number.
fn parse_capacity(raw: &str) -> Result<Option<u32>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<u32>()
        .map(Some)
        .map_err(|_| "Enter a whole number of tickets.".to_owned())
}

/// A number input bound to `value`, with the message of `key`.
#[component]
fn CapacityField(
    id: String,
    value: RwSignal<String>,
    errors: FieldErrors,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field capacity-field" class:field-invalid=move || has_error(errors, "capacity")>
            <label for=id.clone()>"Capacity"</label>
            <input
                type="number"
                id=id.clone()
                data-field="capacity"
                min="1"
                max="1000"
                inputmode="numeric"
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    clear_error(errors, "capacity");
                }
            />
            {hint.map(|h| view! { <p class="field-hint">{h}</p> })}
            {field_error(errors, "capacity", error_id.clone())}
        </div>
    }
}

/// Shows a refused save: field messages under their inputs, anything else in `alert`.
fn show_refusal(
    err: &ApiError,
    errors: FieldErrors,
    fields: &[(&str, FieldState)],
    alert: RwSignal<Option<String>>,
) {
    let mut by_field = err.field_errors();
    for (key, field) in fields {
        if let Some(msg) = by_field.remove(*key) {
            field.server_error.set(Some(msg));
        }
    }
    if err.code() == Some(ErrorCode::EmailTaken)
        && let Some((_, email)) = fields.iter().find(|(k, _)| *k == "email")
    {
        email.server_error.set(Some(err.message()));
        alert.set(None);
        return;
    }
    let per_field = !err.field_errors().is_empty();
    errors.update(|e| e.extend(by_field));
    alert.set(Some(if per_field {
        "Please correct the highlighted fields.".to_owned()
    } else {
        err.message()
    }));
}

#[component]
fn NewAgentForm(on_created: Callback<AgentDto>, on_cancel: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let name = FieldState::new("", |v| DisplayName::parse(v).map(|_| ()));
    let email = FieldState::new("", |v| Email::parse(v).map(|_| ()));
    let password = FieldState::new("", |v| Password::parse(v).map(|_| ()));
    let capacity = RwSignal::new("5".to_owned());
    let shift = ShiftForm::new(None);
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let alert = RwSignal::new(None::<String>);

    let create = Action::new_local(move |req: &CreateAgentRequest| {
        let req = req.clone();
        async move {
            match api::create_agent(session, &req).await {
                Ok(agent) => {
                    toasts.success(format!("{} can now sign in as an agent.", agent.name), None);
                    on_created.run(agent);
                }
                Err(err) => show_refusal(
                    &err,
                    errors,
                    &[("name", name), ("email", email), ("password", password)],
                    alert,
                ),
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        alert.set(None);
        errors.set(BTreeMap::new());
        let mut invalid = false;
        for field in [name, email, password] {
            invalid |= field.check().is_some();
        }
        let capacity = match parse_capacity(&capacity.get_untracked()) {
            Ok(c) => c,
            Err(msg) => {
                errors.update(|e| {
                    e.insert("capacity".into(), msg);
                });
                invalid = true;
                None
            }
        };
        let shift = match shift.value() {
            Ok(s) => s,
            Err(local) => {
                errors.update(|e| e.extend(local));
                invalid = true;
                None
            }
        };
        if invalid {
            alert.set(Some("Please correct the highlighted fields.".to_owned()));
            return;
        }
        create.dispatch(CreateAgentRequest {
            email: email.get().trim().to_owned(),
            password: password.get(),
            name: name.get().trim().to_owned(),
            shift,
            capacity,
        });
    };
    let busy = create.pending();

    view! {
        <section class="card section" id="new-agent" aria-labelledby="new-agent-title">
            <form class="form" novalidate on:submit=submit data-testid="new-agent-form">
                <h2 id="new-agent-title">"New agent"</h2>
                <FormAlert message=alert/>
                <div class="grid-3">
                    <TextField id="agent-name" label="Name" field=name autocomplete="off"/>
                    <TextField id="agent-email" label="Email" field=email kind="email" autocomplete="off"/>
                    <TextField
                        id="agent-password"
                        label="Initial password"
                        field=password
                        kind="password"
                        autocomplete="new-password"
                        hint="At least 8 characters with a letter and a digit."
                    />
                </div>
                <CapacityField
                    id="agent-capacity".to_owned()
                    value=capacity
                    errors=errors
                    hint="The most open tickets this agent gets at once (1–1000)."
                />
                <ShiftFields form=shift prefix="new-agent".to_owned() errors=errors/>
                <div class="actions">
                    <button type="submit" id="agent-create" class="btn btn-primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create agent" }}
                    </button>
                    <button type="button" class="btn btn-secondary" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                </div>
            </form>
        </section>
    }
}

/// Edits one agent's shift, capacity and active flag; sends only what changed.
#[component]
fn AgentEditor(agent: AgentDto, on_done: Callback<Option<AgentDto>>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let id = agent.id;
    let original = StoredValue::new(agent.clone());
    let shift = ShiftForm::new(agent.shift.as_ref());
    let capacity = RwSignal::new(agent.capacity.to_string());
    let active = RwSignal::new(agent.active);
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let alert = RwSignal::new(None::<String>);

    let save = Action::new_local(move |changes: &AgentChanges| {
        let changes = changes.clone();
        async move {
            match api::update_agent(session, id, &changes).await {
                Ok(a) => {
                    toasts.success(format!("Saved {}.", a.name), None);
                    on_done.run(Some(a));
                }
                Err(err) => show_refusal(&err, errors, &[], alert),
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        alert.set(None);
        errors.set(BTreeMap::new());
        let before = original.get_value();
        let mut changes = AgentChanges::default();
        match parse_capacity(&capacity.get_untracked()) {
            Ok(Some(c)) if c != before.capacity => changes.capacity = Some(c),
            Ok(Some(_)) => {}
            Ok(None) => {
                errors.update(|e| {
                    e.insert("capacity".into(), "Enter the capacity.".into());
                });
            }
            Err(msg) => errors.update(|e| {
                e.insert("capacity".into(), msg);
            }),
        }
        match shift.value() {
            Ok(s) if s != before.shift => changes.shift = Some(s),
            Ok(_) => {}
            Err(local) => errors.update(|e| e.extend(local)),
        }
        if active.get_untracked() != before.active {
            changes.active = Some(active.get_untracked());
        }
        if !errors.with_untracked(BTreeMap::is_empty) {
            alert.set(Some("Please correct the highlighted fields.".to_owned()));
            return;
        }
        if changes.is_empty() {
            on_done.run(None);
            return;
        }
        save.dispatch(changes);
    };
    let busy = save.pending();
    let prefix = format!("agent-{id}");
    // Keyboard users land in the editor they opened.
    let first_input = format!("{prefix}-capacity");
    Effect::new(move |_| {
        if let Some(el) = document().get_element_by_id(&first_input)
            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
        {
            let _ = el.focus();
        }
    });

    view! {
        <form class="form agent-editor" novalidate on:submit=submit data-testid="agent-editor">
            <h3 class="visually-hidden">{format!("Edit {}", agent.name)}</h3>
            <FormAlert message=alert/>
            <CapacityField id=format!("{prefix}-capacity") value=capacity errors=errors/>
            <label class="check">
                <input
                    type="checkbox"
                    id=format!("{prefix}-active")
                    data-field="active"
                    prop:checked=move || active.get()
                    on:change=move |ev| active.set(event_target_checked(&ev))
                />
                <span>"Active: gets tickets from the queue"</span>
            </label>
            <ShiftFields form=shift prefix=prefix.clone() errors=errors/>
            <div class="actions">
                <button type="submit" class="btn btn-primary btn-small" data-action="save" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="btn btn-secondary btn-small" data-action="cancel" on:click=move |_| on_done.run(None)>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
