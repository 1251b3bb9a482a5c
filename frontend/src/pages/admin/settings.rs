//! `/admin/settings`: the SLA policy (first response and resolution targets per priority, in
//! minutes, and the business-hours calendar they count on), the share of a window after which
//! staff are warned, override policies for a category or a journey outcome, and queue
//! behaviour (assignment interval, SLA check interval, release on offline) and whether
//! customers are asked for satisfaction ratings. Override rules pick their category, journey
//! and outcome (end node) from dropdowns filled from the journeys.
//!
//! The form only checks that numbers are whole numbers; every rule (ranges, a response target
//! no later than the resolution target) is the server's, and its messages from
//! `details.fields` (`sla_policies.high.response_minutes`, `sla_policies.high`,
//! `assignment_interval_secs`, …) appear next to the inputs they name.

use std::collections::BTreeMap;

use leptos::prelude::*;
use shared::calendar::{CalendarDto, RecomputeRequest};
use shared::journey::Node;
use shared::journeys::JourneyDto;
use shared::settings::{SettingsDto, SlaBreachMail, UpdateSettingsRequest};
use shared::sla::{SlaMatch, SlaOverride, SlaPolicies, SlaTarget};
use shared::{Priority, Role};
use uuid::Uuid;

use super::{FieldErrors, clear_error, field_error, has_error};
use crate::api;
use crate::components::{ErrorPanel, FormAlert, Loading, RequireRole, set_title, use_toasts};
use crate::format::{self, priority_label};
use crate::session::use_session;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Settings/>
        </RequireRole>
    }
}

#[component]
fn Settings() -> impl IntoView {
    set_title("Settings");
    let session = use_session();
    let settings = LocalResource::new(move || api::get_settings(session));
    view! {
        <section class="page page-narrow">
            <header class="page-header">
                <h1 data-testid="page-title">"Settings"</h1>
                <p class="muted">"Service targets and how the queue hands out tickets."</p>
            </header>
            {move || match settings.get() {
                None => view! { <Loading label="Loading settings…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| settings.refetch())/>
                }
                .into_any(),
                Some(Ok(s)) => view! { <SettingsForm initial=s/> }.into_any(),
            }}
        </section>
    }
}

/// The two inputs of one priority.
#[derive(Debug, Clone, Copy)]
struct TargetInputs {
    priority: Priority,
    response: RwSignal<String>,
    resolution: RwSignal<String>,
}

fn target_of(p: &SlaPolicies, priority: Priority) -> SlaTarget {
    p.target(priority)
}

/// The error key of a target field, as the server names it.
fn key(priority: Priority, what: &str) -> String {
    format!("sla_policies.{}.{what}", priority.as_str())
}

/// A whole number as typed, or the message for it.
fn whole(raw: &str, unit: &str) -> Result<u32, String> {
    raw.trim()
        .parse::<u32>()
        .map_err(|_| format!("Enter a whole number of {unit}."))
}

#[component]
fn SettingsForm(initial: SettingsDto) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let saved = RwSignal::new(initial.clone());
    let targets: Vec<TargetInputs> = Priority::ALL
        .into_iter()
        .rev()
        .map(|p| {
            let t = target_of(&initial.sla_policies, p);
            TargetInputs {
                priority: p,
                response: RwSignal::new(t.response_minutes.to_string()),
                resolution: RwSignal::new(t.resolution_minutes.to_string()),
            }
        })
        .collect();
    let targets = StoredValue::new(targets);
    let assignment = RwSignal::new(initial.assignment_interval_secs.to_string());
    let sla_check = RwSignal::new(initial.sla_check_interval_secs.to_string());
    let release = RwSignal::new(initial.release_on_offline);
    let csat = RwSignal::new(initial.csat_enabled);
    let calendar = RwSignal::new(initial.sla_policies.calendar_id);
    let warning_percent = RwSignal::new(initial.sla_warning_percent.to_string());
    let overrides = RwSignal::new(
        initial
            .sla_overrides
            .iter()
            .map(OverrideInputs::from_override)
            .collect::<Vec<_>>(),
    );
    let calendars = LocalResource::new(move || api::list_calendars(session));
    let calendar_list =
        Signal::derive(move || calendars.get().and_then(Result::ok).unwrap_or_default());
    // Override rules pick journeys, their end nodes and categories from these (archived
    // journeys too: a rule may still name one).
    let journeys = LocalResource::new(move || api::admin_journeys(session, true, 1));
    let journey_list = Signal::derive(move || {
        journeys
            .get()
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    });
    let digest = RwSignal::new(initial.sla_breach_mail == SlaBreachMail::Digest);
    let digest_hours = RwSignal::new(initial.sla_digest_hours.to_string());
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let alert = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);

    let fill = move |s: &SettingsDto| {
        targets.with_value(|ts| {
            for t in ts {
                let target = target_of(&s.sla_policies, t.priority);
                t.response.set(target.response_minutes.to_string());
                t.resolution.set(target.resolution_minutes.to_string());
            }
        });
        assignment.set(s.assignment_interval_secs.to_string());
        sla_check.set(s.sla_check_interval_secs.to_string());
        release.set(s.release_on_offline);
        csat.set(s.csat_enabled);
        calendar.set(s.sla_policies.calendar_id);
        warning_percent.set(s.sla_warning_percent.to_string());
        overrides.set(
            s.sla_overrides
                .iter()
                .map(OverrideInputs::from_override)
                .collect(),
        );
        digest.set(s.sla_breach_mail == SlaBreachMail::Digest);
        digest_hours.set(s.sla_digest_hours.to_string());
    };

    let save = Action::new_local(move |req: &UpdateSettingsRequest| {
        let req = req.clone();
        async move {
            match api::update_settings(session, &req).await {
                Ok(s) => {
                    fill(&s);
                    saved.set(s);
                    done.set(Some(
                        "Settings saved. New SLA terms apply to tickets opened from now on; open tickets keep theirs until you recompute."
                            .to_owned(),
                    ));
                    toasts.success("Settings saved.", None);
                }
                Err(err) => {
                    let fields = err.field_errors();
                    if fields.is_empty() {
                        alert.set(Some(err.message()));
                    } else {
                        // Messages for inputs on this page go under them; any other named
                        // field is listed in the alert.
                        let known = |k: &str| {
                            k.starts_with("sla_policies.")
                                || k.starts_with("sla_overrides")
                                || matches!(
                                    k,
                                    "assignment_interval_secs"
                                        | "sla_check_interval_secs"
                                        | "release_on_offline"
                                        | "sla_warning_percent"
                                )
                        };
                        let others: Vec<String> = fields
                            .iter()
                            .filter(|(k, _)| !known(k))
                            .map(|(k, m)| format!("{k}: {m}"))
                            .collect();
                        errors.set(fields);
                        alert.set(Some(if others.is_empty() {
                            "The settings were not saved. Please correct the highlighted values."
                                .to_owned()
                        } else {
                            format!("The settings were not saved: {}", others.join(" "))
                        }));
                    }
                }
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        alert.set(None);
        done.set(None);
        let mut local = BTreeMap::new();
        let mut policies = SlaPolicies::default();
        targets.with_value(|ts| {
            for t in ts {
                let response = whole(&t.response.get_untracked(), "minutes");
                let resolution = whole(&t.resolution.get_untracked(), "minutes");
                if let Err(m) = &response {
                    local.insert(key(t.priority, "response_minutes"), m.clone());
                }
                if let Err(m) = &resolution {
                    local.insert(key(t.priority, "resolution_minutes"), m.clone());
                }
                let target = SlaTarget {
                    response_minutes: response.unwrap_or(0),
                    resolution_minutes: resolution.unwrap_or(0),
                };
                match t.priority {
                    Priority::Low => policies.low = target,
                    Priority::Medium => policies.medium = target,
                    Priority::High => policies.high = target,
                    Priority::Urgent => policies.urgent = target,
                }
            }
        });
        policies.calendar_id = calendar.get_untracked();
        let percent = warning_percent.get_untracked().trim().parse::<u8>();
        if percent.is_err() {
            local.insert(
                "sla_warning_percent".to_owned(),
                "Enter a whole number of percent.".to_owned(),
            );
        }
        let mut rules = Vec::new();
        for (i, o) in overrides.get_untracked().iter().enumerate() {
            match o.to_override() {
                Ok(rule) => rules.push(rule),
                Err(m) => {
                    local.insert(format!("sla_overrides[{i}]"), m);
                }
            }
        }
        let assignment_secs = whole(&assignment.get_untracked(), "seconds");
        let sla_secs = whole(&sla_check.get_untracked(), "seconds");
        if let Err(m) = &assignment_secs {
            local.insert("assignment_interval_secs".to_owned(), m.clone());
        }
        if let Err(m) = &sla_secs {
            local.insert("sla_check_interval_secs".to_owned(), m.clone());
        }
        errors.set(local);
        if !errors.with_untracked(BTreeMap::is_empty) {
            alert.set(Some("Please correct the highlighted values.".to_owned()));
            return;
        }
        save.dispatch(UpdateSettingsRequest {
            sla_policies: Some(policies),
            sla_overrides: Some(rules),
            sla_warning_percent: percent.ok(),
            assignment_interval_secs: assignment_secs.ok(),
            sla_check_interval_secs: sla_secs.ok(),
            release_on_offline: Some(release.get_untracked()),
            sla_breach_mail: Some(if digest.get_untracked() {
                SlaBreachMail::Digest
            } else {
                SlaBreachMail::PerBreach
            }),
            sla_digest_hours: digest_hours.get_untracked().trim().parse().ok(),
            csat_enabled: Some(csat.get_untracked()),
        });
    };
    let busy = save.pending();
    let recompute = Action::new_local(move |_: &()| async move {
        match api::recompute_sla(session, &RecomputeRequest::default()).await {
            Ok(r) => toasts.success(
                format!(
                    "Recomputed {} open tickets; {} got new deadlines.",
                    r.recomputed, r.moved
                ),
                None,
            ),
            Err(err) => toasts.error(err.message()),
        }
    });

    let rows = targets.with_value(|ts| {
        ts.iter()
            .map(|t| view! { <TargetRow inputs=*t errors=errors/> })
            .collect_view()
    });

    view! {
        <form class="form settings-form" novalidate on:submit=submit data-testid="settings-form">
            <FormAlert message=alert/>
            {move || done.get().map(|msg| view! {
                <div class="alert alert-success" role="status" data-testid="settings-saved">{msg}</div>
            })}
            <section class="card" aria-labelledby="sla-title">
                <h2 id="sla-title">"SLA targets"</h2>
                <p class="muted">
                    "How long agents have, in minutes, for the first response and for the resolution of a ticket of each priority. The clock pauses while a ticket waits on the customer."
                </p>
                <div class="sla-table" role="table" aria-labelledby="sla-title">
                    <div class="sla-row sla-head" role="row">
                        <span role="columnheader">"Priority"</span>
                        <span role="columnheader">"First response (minutes)"</span>
                        <span role="columnheader">"Resolution (minutes)"</span>
                    </div>
                    {rows}
                </div>
                <div class="grid-2">
                    <div class="field">
                        <label for="sla-calendar">"Counted on"</label>
                        <CalendarSelect id="sla-calendar".to_owned() value=calendar calendars=calendar_list/>
                        <p class="field-hint">"Only the calendar's working hours count; manage calendars on the Calendars page."</p>
                        {field_error(errors, "sla_policies.calendar_id", "sla-calendar-error".to_owned())}
                    </div>
                    <NumberField
                        id="sla-warning-percent"
                        label="Warn staff at (% of the window used)"
                        hint="The assigned agent and admins get a warning, once per clock."
                        value=warning_percent
                        key="sla_warning_percent"
                        errors=errors
                    />
                </div>
            </section>
            <section class="card" aria-labelledby="overrides-title" data-testid="sla-overrides">
                <h2 id="overrides-title">"Override policies"</h2>
                <p class="muted">
                    "A ticket from a matching journey outcome, or else with a matching category, runs on the override instead (first match wins). Tickets already open keep the terms they started with."
                </p>
                <For
                    each=move || overrides.get()
                    key=|o| o.key
                    children=move |o: OverrideInputs| {
                        let index = move || overrides.with(|l| l.iter().position(|x| x.key == o.key).unwrap_or(0));
                        view! { <OverrideRow inputs=o index=Signal::derive(index) calendars=calendar_list journeys=journey_list errors=errors on_remove=Callback::new(move |()| overrides.update(|l| l.retain(|x| x.key != o.key)))/> }
                    }
                />
                <button type="button" class="btn btn-secondary" id="override-add"
                    on:click=move |_| overrides.update(|l| l.push(OverrideInputs::from_override(&SlaOverride {
                        name: String::new(),
                        when: SlaMatch::Category { category: String::new() },
                        policy: SlaPolicies::default(),
                    })))>"Add override"</button>
                <p class="muted">
                    "Editing policies or calendars never moves the deadlines of open tickets. To move them onto the terms now in force: "
                    <button type="button" class="btn btn-secondary btn-small" id="sla-recompute"
                        disabled=move || recompute.pending().get()
                        on:click=move |_| { recompute.dispatch(()); }>"Recompute open tickets"</button>
                </p>
            </section>
            <section class="card" aria-labelledby="queue-title">
                <h2 id="queue-title">"Queue"</h2>
                <div class="grid-2">
                    <NumberField
                        id="assignment-interval"
                        label="Assignment run every (seconds)"
                        hint="Tickets are also assigned at once when they arrive or an agent becomes available."
                        value=assignment
                        key="assignment_interval_secs"
                        errors=errors
                    />
                    <NumberField
                        id="sla-check-interval"
                        label="SLA check every (seconds)"
                        hint="How often breached deadlines are looked for and escalated."
                        value=sla_check
                        key="sla_check_interval_secs"
                        errors=errors
                    />
                </div>
                <label class="check">
                    <input
                        type="checkbox"
                        id="release-on-offline"
                        prop:checked=move || release.get()
                        on:change=move |ev| release.set(event_target_checked(&ev))
                    />
                    <span>"When an agent goes offline, return their open tickets to the queue"</span>
                </label>
                {field_error(errors, "release_on_offline", "release-on-offline-error".to_owned())}
                <label class="check">
                    <input
                        type="checkbox"
                        id="sla-digest"
                        prop:checked=move || digest.get()
                        on:change=move |ev| digest.set(event_target_checked(&ev))
                    />
                    <span>"Mail admins a digest of SLA breaches instead of one mail per breach"</span>
                </label>
                <NumberField
                    id="sla-digest-hours"
                    label="Digest period (hours)"
                    hint="One digest per admin for each period that had breaches (1 to 168)."
                    value=digest_hours
                    key="sla_digest_hours"
                    errors=errors
                />
                <label class="check">
                    <input
                        type="checkbox"
                        id="csat-enabled"
                        prop:checked=move || csat.get()
                        on:change=move |ev| csat.set(event_target_checked(&ev))
                    />
                    <span>"Ask customers to rate resolved tickets (in the portal and by a link in the resolved mail)"</span>
                </label>
            </section>
            <div class="actions">
                <button type="submit" id="settings-save" class="btn btn-primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { "Save settings" }}
                </button>
                <button
                    type="button"
                    id="settings-reset"
                    class="btn btn-secondary"
                    disabled=move || busy.get()
                    on:click=move |_| {
                        saved.with_untracked(|s| fill(s));
                        errors.set(BTreeMap::new());
                        alert.set(None);
                        done.set(None);
                    }
                >
                    "Undo changes"
                </button>
            </div>
        </form>
    }
}

/// A calendar picker: "Around the clock" or one of the calendars.
#[component]
fn CalendarSelect(
    id: String,
    value: RwSignal<Option<Uuid>>,
    calendars: Signal<Vec<CalendarDto>>,
) -> impl IntoView {
    view! {
        <select id=id on:change=move |ev| value.set(event_target_value(&ev).parse().ok())>
            <option value="" selected=move || value.get().is_none()>"Around the clock (24/7)"</option>
            {move || calendars.get().into_iter().map(|c| {
                let cid = c.id;
                view! { <option value=cid.to_string() selected=move || value.get() == Some(cid)>{c.name.clone()}</option> }
            }).collect_view()}
        </select>
    }
}

/// Keys for override rows.
fn next_override_key() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The inputs of one override rule.
#[derive(Debug, Clone, Copy)]
struct OverrideInputs {
    key: u64,
    name: RwSignal<String>,
    /// `category` or `journey_outcome`.
    kind: RwSignal<String>,
    /// The category, or the journey id.
    value: RwSignal<String>,
    /// The end node id (journey outcomes).
    node: RwSignal<String>,
    calendar: RwSignal<Option<Uuid>>,
    /// Response / resolution minutes per priority, low … urgent.
    targets: [(RwSignal<String>, RwSignal<String>); 4],
}

impl OverrideInputs {
    fn from_override(o: &SlaOverride) -> Self {
        let (kind, value, node) = match &o.when {
            SlaMatch::Category { category } => ("category", category.clone(), String::new()),
            SlaMatch::JourneyOutcome {
                journey_id,
                node_id,
            } => ("journey_outcome", journey_id.to_string(), node_id.clone()),
        };
        let t = |p: Priority| {
            let t = o.policy.target(p);
            (
                RwSignal::new(t.response_minutes.to_string()),
                RwSignal::new(t.resolution_minutes.to_string()),
            )
        };
        Self {
            key: next_override_key(),
            name: RwSignal::new(o.name.clone()),
            kind: RwSignal::new(kind.to_owned()),
            value: RwSignal::new(value),
            node: RwSignal::new(node),
            calendar: RwSignal::new(o.policy.calendar_id),
            targets: [
                t(Priority::Low),
                t(Priority::Medium),
                t(Priority::High),
                t(Priority::Urgent),
            ],
        }
    }

    fn to_override(self) -> Result<SlaOverride, String> {
        let when = if self.kind.get_untracked() == "journey_outcome" {
            SlaMatch::JourneyOutcome {
                journey_id: self
                    .value
                    .get_untracked()
                    .trim()
                    .parse()
                    .map_err(|_| "Choose a journey.".to_owned())?,
                node_id: self.node.get_untracked().trim().to_owned(),
            }
        } else {
            SlaMatch::Category {
                category: self.value.get_untracked().trim().to_owned(),
            }
        };
        let mut t = [SlaTarget {
            response_minutes: 0,
            resolution_minutes: 0,
        }; 4];
        for (i, (r, s)) in self.targets.iter().enumerate() {
            t[i] = SlaTarget {
                response_minutes: whole(&r.get_untracked(), "minutes")?,
                resolution_minutes: whole(&s.get_untracked(), "minutes")?,
            };
        }
        Ok(SlaOverride {
            name: self.name.get_untracked().trim().to_owned(),
            when,
            policy: SlaPolicies {
                low: t[0],
                medium: t[1],
                high: t[2],
                urgent: t[3],
                calendar_id: self.calendar.get_untracked(),
            },
        })
    }
}

/// Every category the journeys' end nodes give tickets, sorted, each once.
fn known_categories(journeys: &[JourneyDto]) -> Vec<String> {
    let mut out: Vec<String> = journeys
        .iter()
        .flat_map(|j| j.definition.nodes.values())
        .filter_map(|n| match n {
            Node::End(end) => Some(end.category.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The end nodes (outcomes) of a journey: (node id, "node id: category, priority").
fn outcomes(journey: &JourneyDto) -> Vec<(String, String)> {
    journey
        .definition
        .nodes
        .iter()
        .filter_map(|(id, n)| match n {
            Node::End(end) => Some((
                id.clone(),
                format!("{id}: {} ({})", end.category, priority_label(end.priority)),
            )),
            _ => None,
        })
        .collect()
}

/// `options` as `<option>`s, with `current` kept (marked) when it is set but not among them,
/// so opening the page never silently changes a saved rule.
fn options_keeping(
    options: Vec<(String, String)>,
    current: String,
    placeholder: &'static str,
) -> impl IntoView {
    let missing = !current.is_empty() && !options.iter().any(|(v, _)| *v == current);
    let selected = current.clone();
    view! {
        <option value="" selected=current.is_empty() disabled=true>{placeholder}</option>
        {missing.then(|| view! {
            <option value=current.clone() selected=true>{format!("{current} (no longer offered)")}</option>
        })}
        {options.into_iter().map(|(v, label)| {
            let on = v == selected;
            view! { <option value=v selected=on>{label}</option> }
        }).collect_view()}
    }
}

/// One override rule: name, what it matches, its calendar and targets.
#[component]
fn OverrideRow(
    inputs: OverrideInputs,
    index: Signal<usize>,
    calendars: Signal<Vec<CalendarDto>>,
    journeys: Signal<Vec<JourneyDto>>,
    errors: FieldErrors,
    on_remove: Callback<()>,
) -> impl IntoView {
    let o = inputs;
    let k = o.key;
    let problems = move || {
        let prefix = format!("sla_overrides[{}]", index.get());
        errors.with(|e| {
            e.iter()
                .filter(|(key, _)| key.starts_with(&prefix))
                .map(|(key, m)| format!("{}: {m}", key.trim_start_matches(&prefix)))
                .collect::<Vec<_>>()
        })
    };
    let targets = [Priority::Low, Priority::Medium, Priority::High, Priority::Urgent]
        .into_iter()
        .zip(o.targets)
        .map(|(p, (r, s))| {
            view! {
                <span class="override-target" data-priority=p.as_str()>
                    <span class=format!("priority priority-{}", p.as_str())>{priority_label(p)}</span>
                    <input type="number" min="1" class="override-response" aria-label=format!("{} first response (minutes)", priority_label(p))
                        prop:value=move || r.get() on:input=move |ev| r.set(event_target_value(&ev))/>
                    <input type="number" min="1" class="override-resolution" aria-label=format!("{} resolution (minutes)", priority_label(p))
                        prop:value=move || s.get() on:input=move |ev| s.set(event_target_value(&ev))/>
                </span>
            }
        })
        .collect_view();
    view! {
        <div class="override-row card-inset" data-override=move || o.name.get()>
            <div class="grid-2">
                <div class="field">
                    <label for=format!("override-{k}-name")>"Name"</label>
                    <input id=format!("override-{k}-name") type="text" class="override-name" maxlength="100"
                        prop:value=move || o.name.get() on:input=move |ev| o.name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for=format!("override-{k}-kind")>"Applies to"</label>
                    <select id=format!("override-{k}-kind") class="override-kind" on:change=move |ev| {
                        // A category is no journey id and vice versa: start the choice over.
                        o.kind.set(event_target_value(&ev));
                        o.value.set(String::new());
                        o.node.set(String::new());
                    }>
                        <option value="category" selected=move || o.kind.get() == "category">"Tickets with the category"</option>
                        <option value="journey_outcome" selected=move || o.kind.get() == "journey_outcome">"Tickets from a journey outcome"</option>
                    </select>
                </div>
                <div class="field">
                    <label for=format!("override-{k}-value")>
                        {move || if o.kind.get() == "category" { "Category" } else { "Journey" }}
                    </label>
                    <select id=format!("override-{k}-value") class="override-value"
                        on:change=move |ev| {
                            o.value.set(event_target_value(&ev));
                            if o.kind.get_untracked() == "journey_outcome" {
                                o.node.set(String::new());
                            }
                        }>
                        {move || {
                            let list = journeys.get();
                            if o.kind.get() == "category" {
                                let cats = known_categories(&list).into_iter().map(|c| (c.clone(), c)).collect();
                                options_keeping(cats, o.value.get(), "Choose a category").into_any()
                            } else {
                                let js = list.iter().map(|j| (j.id.to_string(), j.name.clone())).collect();
                                options_keeping(js, o.value.get(), "Choose a journey").into_any()
                            }
                        }}
                    </select>
                </div>
                {move || (o.kind.get() == "journey_outcome").then(|| view! {
                    <div class="field">
                        <label for=format!("override-{k}-node")>"Outcome (end node)"</label>
                        <select id=format!("override-{k}-node") class="override-node"
                            on:change=move |ev| o.node.set(event_target_value(&ev))>
                            {move || {
                                let chosen = o.value.get();
                                let ends = journeys
                                    .get()
                                    .iter()
                                    .find(|j| j.id.to_string() == chosen)
                                    .map(outcomes)
                                    .unwrap_or_default();
                                options_keeping(ends, o.node.get(), "Choose an outcome")
                            }}
                        </select>
                    </div>
                })}
                <div class="field">
                    <label for=format!("override-{k}-calendar")>"Counted on"</label>
                    <CalendarSelect id=format!("override-{k}-calendar") value=o.calendar calendars=calendars/>
                </div>
            </div>
            <div class="override-targets">
                <p class="field-hint">"First response and resolution, in minutes:"</p>
                {targets}
            </div>
            {move || {
                let p = problems();
                (!p.is_empty()).then(|| view! {
                    <ul class="field-errors">{p.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                })
            }}
            <button type="button" class="btn btn-small override-remove" on:click=move |_| on_remove.run(())>"Remove override"</button>
        </div>
    }
}

/// One priority's two targets, with their messages and a readable duration.
#[component]
fn TargetRow(inputs: TargetInputs, errors: FieldErrors) -> impl IntoView {
    let p = inputs.priority;
    let row_key = format!("sla_policies.{}", p.as_str());
    let row_error_id = format!("sla-{}-error", p.as_str());
    view! {
        <div class="sla-row" role="row" data-priority=p.as_str()>
            <span class="sla-priority" role="rowheader">
                <span class=format!("priority priority-{}", p.as_str())>{priority_label(p)}</span>
            </span>
            <MinutesInput inputs=inputs what="response" errors=errors/>
            <MinutesInput inputs=inputs what="resolution" errors=errors/>
            <div class="sla-row-error">{field_error(errors, row_key, row_error_id)}</div>
        </div>
    }
}

#[component]
fn MinutesInput(inputs: TargetInputs, what: &'static str, errors: FieldErrors) -> impl IntoView {
    let p = inputs.priority;
    let value = if what == "response" {
        inputs.response
    } else {
        inputs.resolution
    };
    let key = key(p, &format!("{what}_minutes"));
    let row_key = format!("sla_policies.{}", p.as_str());
    let id = format!("sla-{}-{what}", p.as_str());
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let label = format!(
        "{} priority, {}",
        priority_label(p),
        if what == "response" {
            "first response"
        } else {
            "resolution"
        }
    );
    let invalid = {
        let key = key.clone();
        move || has_error(errors, &key)
    };
    let invalid_class = invalid.clone();
    let readable = move || {
        value
            .with(|v| v.trim().parse::<u32>().ok())
            .filter(|m| *m > 0)
            .map(format::minutes)
            .unwrap_or_default()
    };
    view! {
        <div class="field" role="cell" class:field-invalid=invalid_class>
            <label for=id.clone() class="visually-hidden">{label}</label>
            <input
                type="number"
                id=id.clone()
                min="1"
                inputmode="numeric"
                aria-invalid=move || if invalid() { "true" } else { "false" }
                aria-describedby=format!("{hint_id} {error_id}")
                prop:value=move || value.get()
                on:input={
                    let key = key.clone();
                    move |ev| {
                        value.set(event_target_value(&ev));
                        clear_error(errors, &key);
                        clear_error(errors, &row_key);
                    }
                }
            />
            <p class="field-hint" id=hint_id.clone()>{readable}</p>
            {field_error(errors, key.clone(), error_id.clone())}
        </div>
    }
}

#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    key: &'static str,
    errors: FieldErrors,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:field-invalid=move || has_error(errors, key)>
            <label for=id>{label}</label>
            <input
                type="number"
                id=id
                min="1"
                max="3600"
                inputmode="numeric"
                aria-invalid=move || if has_error(errors, key) { "true" } else { "false" }
                aria-describedby=format!("{hint_id} {error_id}")
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    clear_error(errors, key);
                }
            />
            <p class="field-hint" id=hint_id.clone()>{hint}</p>
            {field_error(errors, key, error_id.clone())}
        </div>
    }
}
