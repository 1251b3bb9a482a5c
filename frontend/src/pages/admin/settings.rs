//! `/admin/settings`: the SLA policy (first response and resolution targets per priority, in
//! minutes) and queue behaviour (assignment interval, SLA check interval, release on offline).
//!
//! The form only checks that numbers are whole numbers; every rule (ranges, a response target
//! no later than the resolution target) is the server's, and its messages from
//! `details.fields` (`sla_policies.high.response_minutes`, `sla_policies.high`,
//! `assignment_interval_secs`, …) appear next to the inputs they name.

use std::collections::BTreeMap;

use leptos::prelude::*;
use shared::settings::{SettingsDto, SlaBreachMail, UpdateSettingsRequest};
use shared::sla::{SlaPolicies, SlaTarget};
use shared::{Priority, Role};

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
                        "Settings saved. New SLA targets apply to tickets opened or re-prioritised from now on."
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
                                || matches!(
                                    k,
                                    "assignment_interval_secs"
                                        | "sla_check_interval_secs"
                                        | "release_on_offline"
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
            assignment_interval_secs: assignment_secs.ok(),
            sla_check_interval_secs: sla_secs.ok(),
            release_on_offline: Some(release.get_untracked()),
            sla_breach_mail: Some(if digest.get_untracked() {
                SlaBreachMail::Digest
            } else {
                SlaBreachMail::PerBreach
            }),
            sla_digest_hours: digest_hours.get_untracked().trim().parse().ok(),
        });
    };
    let busy = save.pending();

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
