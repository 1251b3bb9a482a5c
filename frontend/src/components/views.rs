//! The saved-views sidebar of the staff ticket lists (agent dashboard, admin tickets page):
//! the shared views and the caller's own with their live ticket counts, a click to apply one,
//! "save the current filters as a view" (shared with all staff for admins), and deleting the
//! views the caller may delete.
//!
//! Counts come from `GET /api/views/counts` and are fetched again shortly after ticket events
//! (debounced, so a burst of events costs one request).

use std::collections::HashMap;

use leptos::prelude::*;
use shared::Role;
use shared::views::{ViewDto, ViewRequest};
use shared::ws::Event;
use uuid::Uuid;

use crate::api;
use crate::components::status::FormAlert;
use crate::components::toast::use_toasts;
use crate::session::use_session;
use crate::ws::{debounce, use_live};

/// See the module documentation. `selected` is the view last applied; `current` the filters
/// "Save view" stores (the list as filtered now).
#[component]
pub fn ViewsSidebar(
    selected: RwSignal<Option<Uuid>>,
    on_select: Callback<ViewDto>,
    #[prop(into)] current: Signal<serde_json::Value>,
) -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let toasts = use_toasts();
    let is_admin = move || session.user().is_some_and(|u| u.role == Role::Admin);

    let views = LocalResource::new(move || {
        live.reloads();
        api::list_views(session)
    });
    let counts = LocalResource::new(move || {
        live.reloads();
        api::view_counts(session)
    });
    let count_of = Memo::new(move |_| {
        counts
            .get()
            .and_then(Result::ok)
            .map(|list| {
                list.into_iter()
                    .map(|c| (c.view_id, (c.count, c.capped)))
                    .collect::<HashMap<_, _>>()
            })
            .unwrap_or_default()
    });
    let refetch_counts = debounce(400, move || counts.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::NewTicket { .. }
        | Event::TicketUpdated { .. }
        | Event::TicketAssigned { .. }
        | Event::QueueUpdated { .. }
        | Event::SlaBreach { .. }
        | Event::SlaWarning { .. }
        | Event::TicketMerged { .. } => refetch_counts(),
        _ => {}
    });

    let remove = Action::new_local(move |view: &(Uuid, String)| {
        let (id, name) = view.clone();
        async move {
            match api::delete_view(session, id).await {
                Ok(()) => {
                    if selected.get_untracked() == Some(id) {
                        selected.set(None);
                    }
                    toasts.success(format!("View “{name}” deleted"), None);
                }
                Err(err) => toasts.error(format!("Could not delete “{name}”: {}", err.message())),
            }
            views.refetch();
            counts.refetch();
        }
    });

    let name = RwSignal::new(String::new());
    let shared = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let save = Action::new_local(move |req: &ViewRequest| {
        let req = req.clone();
        async move {
            match api::create_view(session, &req).await {
                Ok(v) => {
                    error.set(None);
                    name.set(String::new());
                    shared.set(false);
                    selected.set(Some(v.id));
                    toasts.success(format!("View “{}” saved", v.name), None);
                    views.refetch();
                    counts.refetch();
                }
                Err(err) => {
                    error.set(Some(
                        err.field_errors()
                            .remove("name")
                            .unwrap_or_else(|| err.message()),
                    ));
                }
            }
        }
    });
    let saving = save.pending();

    let rows = move || views.get().and_then(Result::ok).unwrap_or_default();
    view! {
        <aside class="card section views-sidebar" aria-labelledby="views-title" data-testid="views-sidebar">
            <h2 id="views-title">"Views"</h2>
            {move || match views.get() {
                None => view! { <p class="muted">"Loading views…"</p> }.into_any(),
                Some(Err(err)) => view! {
                    <div class="field-error" role="alert">
                        {err.message()}
                        " "
                        <button type="button" class="btn btn-ghost btn-small" on:click=move |_| views.refetch()>
                            "Try again"
                        </button>
                    </div>
                }
                .into_any(),
                Some(Ok(list)) if list.is_empty() => {
                    view! { <p class="muted">"No views yet. Save the current filters as one below."</p> }
                        .into_any()
                }
                Some(Ok(_)) => view! {
                    <ul class="view-list">
                        <For each=rows key=|v| (v.id, v.name.clone()) let:v>
                            <ViewItem
                                view=v
                                selected=selected
                                count_of=count_of
                                deletable=Signal::derive(is_admin)
                                on_select=on_select
                                on_delete=Callback::new(move |target| { remove.dispatch(target); })
                            />
                        </For>
                    </ul>
                }
                .into_any(),
            }}
            <form
                class="view-save"
                novalidate
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let typed = name.get_untracked();
                    if typed.trim().is_empty() {
                        error.set(Some("Give the view a name.".to_owned()));
                        return;
                    }
                    save.dispatch(ViewRequest {
                        name: typed.trim().to_owned(),
                        filters: current.get_untracked(),
                        shared: shared.get_untracked(),
                    });
                }
            >
                <label for="view-name">"Save the current filters as a view"</label>
                <input
                    type="text"
                    id="view-name"
                    placeholder="View name"
                    maxlength=shared::views::MAX_NAME_CHARS.to_string()
                    autocomplete="off"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
                {move || is_admin().then(|| view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            id="view-shared"
                            prop:checked=move || shared.get()
                            on:change=move |ev| shared.set(event_target_checked(&ev))
                        />
                        <span>"Shared with all agents"</span>
                    </label>
                })}
                <button type="submit" id="view-save" class="btn btn-secondary btn-small" disabled=move || saving.get()>
                    {move || if saving.get() { "Saving…" } else { "Save view" }}
                </button>
                <FormAlert message=Signal::derive(move || error.get())/>
            </form>
        </aside>
    }
}

#[component]
fn ViewItem(
    view: ViewDto,
    selected: RwSignal<Option<Uuid>>,
    count_of: Memo<HashMap<Uuid, (u64, bool)>>,
    /// Whether the caller is an admin (who may delete shared views too).
    deletable: Signal<bool>,
    on_select: Callback<ViewDto>,
    on_delete: Callback<(Uuid, String)>,
) -> impl IntoView {
    let id = view.id;
    let name = view.name.clone();
    let shared = view.shared;
    let count = move || {
        count_of.with(|c| {
            c.get(&id).map(|(n, capped)| {
                if *capped {
                    format!("{n}+")
                } else {
                    n.to_string()
                }
            })
        })
    };
    let is_selected = move || selected.get() == Some(id);
    let can_delete = move || !shared || deletable.get();
    let delete_name = name.clone();
    view! {
        <li class="view-item" data-testid="view" data-view-id=id.to_string() data-name=name.clone()>
            <button
                type="button"
                class="view-link"
                class:active=is_selected
                aria-pressed=move || if is_selected() { "true" } else { "false" }
                on:click={
                    let view = view.clone();
                    move |_| on_select.run(view.clone())
                }
            >
                <span class="view-name">{name.clone()}</span>
                {(!shared).then(|| view! { <span class="muted view-kind">"personal"</span> })}
                <span class="count" data-testid="view-count">{count}</span>
            </button>
            {move || can_delete().then(|| {
                let target = (id, delete_name.clone());
                view! {
                    <button
                        type="button"
                        class="btn btn-ghost btn-small view-delete"
                        data-testid="view-delete"
                        aria-label=format!("Delete view {}", target.1)
                        on:click=move |_| on_delete.run(target.clone())
                    >
                        "×"
                    </button>
                }
            })}
        </li>
    }
}
