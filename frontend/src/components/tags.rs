//! Ticket tags in the SPA: read-only chips for list rows, the staff editor on the ticket page
//! (chips with ×, a field suggesting known tags from `GET /api/tags`), and the tag filter of
//! the staff ticket lists. A tag is checked with `shared::tags`, the server's own rules, before
//! anything is sent.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::tags;
use shared::tickets::TicketDto;
use uuid::Uuid;

use crate::api;
use crate::session::use_session;

/// A ticket's tags as chips (nothing when it has none).
#[component]
pub fn TagChips(tags: Vec<String>) -> impl IntoView {
    (!tags.is_empty()).then(|| {
        view! {
            <span class="tag-chips" data-testid="ticket-tags">
                {tags
                    .into_iter()
                    .map(|t| {
                        let label = t.clone();
                        view! { <span class="tag tag-chip" data-tag=t>{label}</span> }
                    })
                    .collect_view()}
            </span>
        }
    })
}

/// The ticket's tags, editable by staff: × removes one, the field adds one or several
/// (comma-separated), suggesting tags already in use.
#[component]
pub fn TagEditor(id: Uuid, ticket: RwSignal<Option<TicketDto>>) -> impl IntoView {
    let session = use_session();
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let suggestions = RwSignal::new(Vec::<String>::new());
    let list_id = format!("tag-suggestions-{id}");
    let current =
        move || ticket.with(|t| t.as_ref().and_then(|t| t.tags.clone()).unwrap_or_default());
    let current_untracked = move || {
        ticket.with_untracked(|t| t.as_ref().and_then(|t| t.tags.clone()).unwrap_or_default())
    };
    let save = Action::new_local(move |wanted: &Vec<String>| {
        let wanted = wanted.clone();
        async move {
            match api::set_tags(session, id, wanted).await {
                Ok(t) => {
                    error.set(None);
                    ticket.set(Some(t));
                }
                Err(err) => error.set(Some(err.message())),
            }
        }
    });
    let add = move || {
        let raw = typed.get_untracked();
        let mut wanted = current_untracked();
        wanted.extend(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        match tags::normalize_set(&wanted) {
            Ok(set) => {
                typed.set(String::new());
                suggestions.set(Vec::new());
                if set != current_untracked() {
                    save.dispatch(set);
                }
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let remove = move |tag: String| {
        let wanted: Vec<String> = current_untracked()
            .into_iter()
            .filter(|t| *t != tag)
            .collect();
        save.dispatch(wanted);
    };
    let suggest = move |text: String| {
        let prefix = text.rsplit(',').next().unwrap_or("").trim().to_owned();
        if prefix.is_empty() {
            suggestions.set(Vec::new());
            return;
        }
        spawn_local(async move {
            if let Ok(known) = api::known_tags(session, &prefix).await {
                let have = current_untracked();
                suggestions.set(
                    known
                        .into_iter()
                        .map(|k| k.tag)
                        .filter(|t| !have.contains(t))
                        .collect(),
                );
            }
        });
    };

    view! {
        <section class="card tag-editor" data-testid="tag-editor">
            <h2 class="card-title">"Tags"</h2>
            <ul class="tag-chips tag-chips-editable">
                {move || {
                    current()
                        .into_iter()
                        .map(|t| {
                            let label = format!("Remove tag {t}");
                            let gone = t.clone();
                            view! {
                                <li class="tag tag-chip" data-tag=t.clone()>
                                    {t.clone()}
                                    <button
                                        type="button"
                                        class="tag-remove"
                                        aria-label=label.clone()
                                        title=label
                                        data-action="tag-remove"
                                        disabled=move || save.pending().get()
                                        on:click=move |_| remove(gone.clone())
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <form
                class="tag-add"
                on:submit=move |ev| {
                    ev.prevent_default();
                    add();
                }
            >
                <label class="visually-hidden" for=format!("tag-input-{id}")>"Add a tag"</label>
                <input
                    type="text"
                    id=format!("tag-input-{id}")
                    data-testid="tag-input"
                    list=list_id.clone()
                    placeholder="Add a tag"
                    autocomplete="off"
                    maxlength="200"
                    prop:value=move || typed.get()
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        typed.set(v.clone());
                        suggest(v);
                    }
                />
                <datalist id=list_id>
                    {move || {
                        suggestions
                            .get()
                            .into_iter()
                            .map(|t| view! { <option value=t></option> })
                            .collect_view()
                    }}
                </datalist>
                <button type="submit" class="btn btn-secondary" disabled=move || save.pending().get()>
                    "Add"
                </button>
            </form>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </section>
    }
}

/// The tag filter of a staff ticket list: tickets carrying all the tags typed
/// (comma-separated).
#[component]
pub fn TagFilter(
    id: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] on_change: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>"Tags"</label>
            <input
                type="text"
                id=id
                data-testid="tag-filter"
                placeholder="e.g. billing, vip"
                autocomplete="off"
                prop:value=move || value.get()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(cb) = on_change {
                        cb.run(());
                    }
                }
            />
        </div>
    }
}
