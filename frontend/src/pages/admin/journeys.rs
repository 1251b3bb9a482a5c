//! `/admin/journeys`: every journey with its current version and state (active, inactive,
//! archived when "Show archived" is on), with activate / deactivate / archive and a link into
//! the builder. Archiving asks once more, because it cannot be undone here.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::Role;
use shared::journey::Node;
use shared::journeys::JourneyDto;
use uuid::Uuid;

use super::builder::journey_state;
use crate::api::{self, ApiError, JourneyAction};
use crate::components::icons::JourneyIcon;
use crate::components::{
    EmptyState, ErrorPanel, Loading, RequireRole, set_title, use_clock, use_toasts,
};
use crate::format::{ago, local_time, plural};
use crate::session::use_session;

#[component]
pub fn JourneysPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Journeys/>
        </RequireRole>
    }
}

type JourneyList = LocalResource<Result<Vec<JourneyDto>, ApiError>>;

#[component]
fn Journeys() -> impl IntoView {
    set_title("Journeys");
    let session = use_session();
    let archived = RwSignal::new(false);
    let journeys: JourneyList = LocalResource::new(move || {
        let archived = archived.get();
        async move { api::all_pages(|page| api::admin_journeys(session, archived, page)).await }
    });
    let ids = move || {
        journeys
            .get()
            .and_then(Result::ok)
            .map(|l| l.iter().map(|j| j.id).collect::<Vec<_>>())
            .unwrap_or_default()
    };

    view! {
        <section class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1 data-testid="page-title">"Journeys"</h1>
                    <p class="muted">"The guided questions customers answer to open a request."</p>
                </div>
                <A href="/admin/journeys/new" attr:class="btn btn-primary" attr:id="new-journey">
                    "New journey"
                </A>
            </header>
            <label class="check list-toggle">
                <input
                    type="checkbox"
                    id="show-archived"
                    prop:checked=move || archived.get()
                    on:change=move |ev| archived.set(event_target_checked(&ev))
                />
                <span>"Show archived journeys"</span>
            </label>
            {move || match journeys.get() {
                None => view! { <Loading label="Loading journeys…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| journeys.refetch())/>
                }
                .into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <EmptyState title="No journeys yet." hint="Create one with “New journey”."/>
                }
                .into_any(),
                Some(Ok(_)) => view! {
                    <ul class="journey-admin-list" data-testid="journeys">
                        <For each=ids key=|id| *id let:id>
                            <JourneyRow id=id journeys=journeys/>
                        </For>
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn JourneyRow(id: Uuid, journeys: JourneyList) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let clock = use_clock();
    let journey = Memo::new(move |_| {
        journeys
            .get()
            .and_then(Result::ok)
            .and_then(|l| l.into_iter().find(|j| j.id == id))
    });
    let confirming = RwSignal::new(false);
    let change = Action::new_local(move |action: &JourneyAction| {
        let action = *action;
        async move {
            match api::change_journey(session, id, action).await {
                Ok(j) => {
                    let text = match action {
                        JourneyAction::Activate => {
                            format!("“{}” is now offered to customers.", j.name)
                        }
                        JourneyAction::Deactivate => format!("“{}” is no longer offered.", j.name),
                        JourneyAction::Archive => format!("“{}” is archived.", j.name),
                    };
                    toasts.success(text, None);
                    journeys.update(|v| {
                        if let Some(Ok(list)) = v
                            && let Some(slot) = list.iter_mut().find(|x| x.id == j.id)
                        {
                            *slot = j;
                        }
                    });
                }
                Err(err) => toasts.error(format!("The journey was not changed: {}", err.message())),
            }
            confirming.set(false);
        }
    });
    let busy = change.pending();

    move || {
        journey.get().map(|j| {
            let (state, label) = journey_state(&j);
            let count = j.definition.nodes.len();
            let questions = j
                .definition
                .nodes
                .values()
                .filter(|n| matches!(n, Node::Question(_)))
                .count();
            let updated = j.updated_at;
            let name = j.name.clone();
            let actions = if j.archived {
                ().into_any()
            } else {
                let toggle = if j.active {
                    view! {
                        <button
                            type="button"
                            class="btn btn-secondary btn-small"
                            data-action="deactivate"
                            disabled=move || busy.get()
                            on:click=move |_| { change.dispatch(JourneyAction::Deactivate); }
                        >
                            "Deactivate"
                        </button>
                    }
                    .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="btn btn-primary btn-small"
                            data-action="activate"
                            disabled=move || busy.get()
                            on:click=move |_| { change.dispatch(JourneyAction::Activate); }
                        >
                            "Activate"
                        </button>
                    }
                    .into_any()
                };
                let archive_label = format!("Archive “{name}” for good");
                view! {
                    {toggle}
                    {move || if confirming.get() {
                        view! {
                            <span class="confirm" role="group" aria-label=archive_label.clone()>
                                <span class="muted">"Archive it? Customers can no longer start it."</span>
                                <button
                                    type="button"
                                    class="btn btn-danger btn-small"
                                    data-action="archive-confirm"
                                    disabled=move || busy.get()
                                    on:click=move |_| { change.dispatch(JourneyAction::Archive); }
                                >
                                    "Yes, archive"
                                </button>
                                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| confirming.set(false)>
                                    "Keep it"
                                </button>
                            </span>
                        }
                        .into_any()
                    } else {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost btn-small"
                                data-action="archive"
                                disabled=move || busy.get()
                                on:click=move |_| confirming.set(true)
                            >
                                "Archive"
                            </button>
                        }
                        .into_any()
                    }}
                }
                .into_any()
            };
            view! {
                <li
                    class="card journey-admin-row"
                    data-testid="journey-row"
                    data-journey-id=id.to_string()
                    data-slug=j.slug.clone()
                    data-active=j.active.to_string()
                    data-archived=j.archived.to_string()
                >
                    <span class="journey-icon"><JourneyIcon icon=j.icon.clone()/></span>
                    <div class="journey-admin-text">
                        <h2 class="journey-admin-name">
                            <A href=format!("/admin/journeys/{id}") attr:data-action="edit">{j.name.clone()}</A>
                        </h2>
                        <p class="muted">{j.description.clone()}</p>
                        <p class="journey-admin-meta">
                            <span class=format!("tag tag-{state}") data-testid="journey-state" data-state=state>{label}</span>
                            <span data-testid="journey-version">{format!("version {}", j.version)}</span>
                            <code>{j.slug.clone()}</code>
                            <span class="muted">
                                {format!("{}, {}", plural(count, "node", "nodes"), plural(questions, "question", "questions"))}
                            </span>
                            <span class="muted" title=local_time(updated)>"updated " {move || ago(clock.now(), updated)}</span>
                        </p>
                    </div>
                    <div class="actions journey-admin-actions">
                        <A href=format!("/admin/journeys/{id}") attr:class="btn btn-secondary btn-small">"Edit"</A>
                        {actions}
                    </div>
                </li>
            }
        })
    }
}
