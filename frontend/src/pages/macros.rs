//! `/macros`: canned responses. Agents keep their own and see the shared ones; admins manage
//! the shared ones (and may keep their own). The editor checks placeholders with the same
//! function as the server (`shared::macros::parse`) while you type, and lists the known ones.

use leptos::prelude::*;
use shared::macros::{self, MacroActions, MacroDto, MacroRequest, PLACEHOLDERS};
use shared::{Priority, Role, TicketStatus};
use uuid::Uuid;

use crate::api;
use crate::components::{ErrorPanel, FormAlert, Loading, RequireRole, set_title, use_toasts};
use crate::format::{priority_label, status_label};
use crate::session::use_session;

#[component]
pub fn MacrosPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Agent, Role::Admin]>
            <Macros/>
        </RequireRole>
    }
}

/// "Sets status Resolved, priority High; adds tags billing", or nothing.
pub fn actions_summary(actions: &MacroActions) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(s) = actions.status {
        parts.push(format!("status {}", status_label(s)));
    }
    if let Some(p) = actions.priority {
        parts.push(format!("priority {}", priority_label(p)));
    }
    let sets = (!parts.is_empty()).then(|| format!("Sets {}", parts.join(", ")));
    let adds = (!actions.add_tags.is_empty())
        .then(|| format!("adds tags {}", actions.add_tags.join(", ")));
    match (sets, adds) {
        (Some(s), Some(a)) => Some(format!("{s}; {a}")),
        (Some(s), None) => Some(s),
        (None, Some(a)) => Some(format!("A{}", &a[1..])),
        (None, None) => None,
    }
}

#[component]
fn Macros() -> impl IntoView {
    set_title("Macros");
    let session = use_session();
    let toasts = use_toasts();
    let is_admin = move || session.user().is_some_and(|u| u.role == Role::Admin);
    let me = move || session.user().map(|u| u.id);
    let list = LocalResource::new(move || api::list_macros(session));

    // The form: a new macro (`editing` None) or an edit.
    let editing = RwSignal::new(None::<Uuid>);
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let status = RwSignal::new(None::<TicketStatus>);
    let priority = RwSignal::new(None::<Priority>);
    // Tags to add, comma-separated as typed (the server normalises them).
    let add_tags = RwSignal::new(String::new());
    let shared_flag = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let body_problem =
        Memo::new(move |_| body.with(|b| macros::parse(b).err().map(|e| e.to_string())));

    let reset = move || {
        editing.set(None);
        title.set(String::new());
        body.set(String::new());
        status.set(None);
        priority.set(None);
        add_tags.set(String::new());
        shared_flag.set(false);
        error.set(None);
    };
    let edit = move |m: MacroDto| {
        editing.set(Some(m.id));
        title.set(m.title);
        body.set(m.body);
        status.set(m.actions.status);
        priority.set(m.actions.priority);
        add_tags.set(m.actions.add_tags.join(", "));
        shared_flag.set(m.shared);
        error.set(None);
    };

    let save = Action::new_local(move |(): &()| {
        let req = MacroRequest {
            title: title.get_untracked().trim().to_owned(),
            body: body.get_untracked().trim().to_owned(),
            actions: MacroActions {
                status: status.get_untracked(),
                priority: priority.get_untracked(),
                add_tags: add_tags
                    .get_untracked()
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            shared: shared_flag.get_untracked(),
        };
        let id = editing.get_untracked();
        async move {
            let result = match id {
                Some(id) => api::update_macro(session, id, &req).await,
                None => api::create_macro(session, &req).await,
            };
            match result {
                Ok(saved) => {
                    toasts.success(format!("Saved “{}”", saved.title), None);
                    reset();
                    list.refetch();
                }
                Err(err) => error.set(Some(err.message())),
            }
            saving.set(false);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if title.with_untracked(|t| t.trim().is_empty())
            || body.with_untracked(|b| b.trim().is_empty())
        {
            error.set(Some("A macro needs a title and a body.".into()));
            return;
        }
        if let Some(problem) = body_problem.get_untracked() {
            error.set(Some(problem));
            return;
        }
        saving.set(true);
        save.dispatch(());
    };
    let remove = Action::new_local(move |m: &MacroDto| {
        let (id, name) = (m.id, m.title.clone());
        async move {
            match api::delete_macro(session, id).await {
                Ok(()) => {
                    toasts.success(format!("Deleted “{name}”"), None);
                    if editing.get_untracked() == Some(id) {
                        reset();
                    }
                    list.refetch();
                }
                Err(err) => toasts.error(err.message()),
            }
        }
    });
    let can_edit = move |m: &MacroDto| {
        if m.shared {
            is_admin()
        } else {
            m.owner.as_ref().map(|o| o.id) == me()
        }
    };

    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Macros"</h1>
                <p class="muted">
                    "Canned responses for the reply box: pick one with the Macros button or Alt+M, check the text, send. Shared macros are managed by admins."
                </p>
            </header>
            <div class="macros-layout">
                <div class="card">
                    <h2>"Your macros"</h2>
                    {move || match list.get() {
                        None => view! { <Loading label="Loading macros…"/> }.into_any(),
                        Some(Err(err)) => view! {
                            <ErrorPanel message=err.message() on_retry=Callback::new(move |()| list.refetch())/>
                        }
                        .into_any(),
                        Some(Ok(items)) if items.is_empty() => view! {
                            <p class="muted" data-testid="macros-empty">"No macros yet."</p>
                        }
                        .into_any(),
                        Some(Ok(items)) => view! {
                            <ul class="macro-list" data-testid="macro-list">
                                {items
                                    .into_iter()
                                    .map(|m| {
                                        let editable = can_edit(&m);
                                        let (for_edit, for_delete) = (m.clone(), m.clone());
                                        view! {
                                            <li class="macro-item" data-testid="macro-item">
                                                <div class="macro-head">
                                                    <strong>{m.title.clone()}</strong>
                                                    <span class="badge">{if m.shared { "Shared" } else { "Personal" }}</span>
                                                    <span class="muted">{format!("used {} times", m.usage_count)}</span>
                                                </div>
                                                <p class="macro-body">{m.body.clone()}</p>
                                                {actions_summary(&m.actions).map(|s| view! { <p class="muted">{s}</p> })}
                                                {editable.then(|| view! {
                                                    <div class="actions">
                                                        <button type="button" class="btn btn-small" on:click=move |_| edit(for_edit.clone())>"Edit"</button>
                                                        <button type="button" class="btn btn-small btn-danger" on:click=move |_| { remove.dispatch(for_delete.clone()); }>"Delete"</button>
                                                    </div>
                                                })}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }}
                </div>
                <form class="card form" novalidate on:submit=submit data-testid="macro-form">
                    <h2>{move || if editing.get().is_some() { "Edit macro" } else { "New macro" }}</h2>
                    <FormAlert message=error/>
                    <div class="field">
                        <label for="macro-title">"Title"</label>
                        <input id="macro-title" type="text" maxlength="200"
                            prop:value=move || title.get()
                            on:input=move |ev| title.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="macro-body">"Reply"</label>
                        <textarea id="macro-body" rows="6"
                            aria-describedby="macro-placeholders"
                            prop:value=move || body.get()
                            on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                        {move || body_problem.get().map(|p| view! { <p class="field-error" data-testid="macro-body-error">{p}</p> })}
                        <p class="field-hint" id="macro-placeholders">
                            "Placeholders: "
                            {PLACEHOLDERS
                                .iter()
                                .map(|(name, what)| view! { <code title=*what>{format!("{{{{{name}}}}}")}</code>" " })
                                .collect_view()}
                        </p>
                    </div>
                    <div class="field">
                        <label for="macro-status">"Then set status"</label>
                        <select id="macro-status" on:change=move |ev| status.set(event_target_value(&ev).parse().ok())>
                            <option value="" selected=move || status.get().is_none()>"Leave as it is"</option>
                            {TicketStatus::ALL
                                .into_iter()
                                .map(|s| view! { <option value=s.as_str() selected=move || status.get() == Some(s)>{status_label(s)}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="macro-priority">"Then set priority"</label>
                        <select id="macro-priority" on:change=move |ev| priority.set(event_target_value(&ev).parse().ok())>
                            <option value="" selected=move || priority.get().is_none()>"Leave as it is"</option>
                            {Priority::ALL
                                .into_iter()
                                .map(|p| view! { <option value=p.as_str() selected=move || priority.get() == Some(p)>{priority_label(p)}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="macro-add-tags">"Then add tags"</label>
                        <input id="macro-add-tags" type="text" autocomplete="off"
                            placeholder="e.g. follow-up, billing"
                            prop:value=move || add_tags.get()
                            on:input=move |ev| add_tags.set(event_target_value(&ev))/>
                    </div>
                    {move || (is_admin() && editing.get().is_none()).then(|| view! {
                        <label class="checkbox">
                            <input id="macro-shared" type="checkbox"
                                prop:checked=move || shared_flag.get()
                                on:change=move |ev| shared_flag.set(event_target_checked(&ev))/>
                            " Shared with all agents"
                        </label>
                    })}
                    <div class="actions">
                        <button id="macro-save" type="submit" class="btn btn-primary" disabled=move || saving.get()>
                            {move || if saving.get() { "Saving…" } else { "Save macro" }}
                        </button>
                        {move || editing.get().is_some().then(|| view! {
                            <button type="button" class="btn" on:click=move |_| reset()>"Cancel"</button>
                        })}
                    </div>
                </form>
            </div>
        </section>
    }
}
