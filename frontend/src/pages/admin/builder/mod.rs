//! The journey builder: `/admin/journeys/new` and `/admin/journeys/:id`.
//!
//! A structured editor over a [`Draft`] (see `draft`): name, slug, description and icon; the
//! start node; nodes added, removed and reordered, each edited in its card (`nodes`). Every
//! change runs `shared::journey::validate` (the server's own check) and each problem appears
//! on the node it concerns, document-wide ones in the summary at the top; Save stays disabled
//! while there is any. Beside the editor: an SVG overview of the graph (`graph`) and a live
//! preview that walks the journey with the customers' own [`JourneyForm`] in preview mode.
//!
//! Saving a new journey creates it (inactive) and opens its address; saving an existing one
//! says which version the server made (a changed document of an active journey becomes a new
//! version that customers get from then on). A 422 `invalid_journey` shows the server's
//! problems the same way as the local ones.

mod draft;
mod graph;
mod nodes;

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::journey::{Answers, JourneyDefinition, Problem, validate};
use shared::journeys::{JourneyDto, JourneyRequest};
use shared::{ErrorCode, Role};
use uuid::Uuid;

use self::draft::{Draft, Issue, Kind, slug};
use self::graph::{JourneyGraph, Layout, layout};
use self::nodes::{NodeCard, TargetSelect};
use super::{FieldErrors, clear_error, field_error, has_error};
use crate::api::{self, ApiError, JourneyAction, sentence};
use crate::components::icons::{Icon, IconName, JourneyIcon};
use crate::components::{
    ErrorPanel, FormAlert, JourneyForm, Loading, RequireRole, set_title, use_toasts,
};
use crate::session::use_session;
use shared::journey::QuestionType;

#[component]
pub fn JourneyBuilderPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <BuilderRoute/>
        </RequireRole>
    }
}

/// Loads the journey of the address (none for `/new`).
#[component]
fn BuilderRoute() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id"));
    move || match id.get() {
        None => view! { <Builder journey=None/> }.into_any(),
        Some(raw) => match Uuid::parse_str(&raw) {
            Err(_) => view! {
                <section class="page">
                    <ErrorPanel message="This journey address is not valid."/>
                </section>
            }
            .into_any(),
            Ok(id) => {
                let journey = LocalResource::new(move || api::get_journey(session, id));
                view! {
                    {move || match journey.get() {
                        None => view! { <Loading label="Loading the journey…"/> }.into_any(),
                        Some(Err(err)) => {
                            let message = if err.code() == Some(ErrorCode::NotFound) {
                                "This journey does not exist.".to_owned()
                            } else {
                                err.message()
                            };
                            view! {
                                <section class="page">
                                    <a class="back-link" href="/admin/journeys"><Icon name=IconName::Back/>"All journeys"</a>
                                    <ErrorPanel message=message on_retry=Callback::new(move |()| journey.refetch())/>
                                </section>
                            }
                            .into_any()
                        }
                        Some(Ok(j)) => view! { <Builder journey=Some(j)/> }.into_any(),
                    }}
                }
                .into_any()
            }
        },
    }
}

/// Name, slug, description and icon as typed.
#[derive(Debug, Clone, Copy)]
struct Meta {
    name: RwSignal<String>,
    slug: RwSignal<String>,
    /// The slug follows the name until the admin edits the slug (new journeys only).
    slug_follows: RwSignal<bool>,
    description: RwSignal<String>,
    icon: RwSignal<String>,
}

/// What was last saved, to tell unsaved changes apart.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    name: String,
    slug: String,
    description: String,
    icon: String,
    definition: JourneyDefinition,
}

/// Problems by where they belong. Server problems name nodes by id; local ones by key.
fn issues_from(problems: &[Problem], draft: Draft, code_prefix: &str) -> Vec<Issue> {
    problems
        .iter()
        .map(|p| {
            let key = p.node_id.as_ref().and_then(|id| {
                draft
                    .nodes
                    .with(|n| n.iter().find(|d| d.id.with(|x| x == id)).map(|d| d.key))
            });
            let message = match (&p.node_id, key) {
                (Some(id), None) if !id.is_empty() => {
                    format!("Node `{id}`: {}", sentence(&p.message))
                }
                _ => sentence(&p.message),
            };
            Issue {
                node: key,
                code: format!("{code_prefix}{}", p.code.as_str()),
                message,
            }
        })
        .collect()
}

#[component]
fn Builder(journey: Option<JourneyDto>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let is_new = journey.is_none();
    set_title(if is_new {
        "New journey"
    } else {
        "Edit journey"
    });

    let draft = Draft::new(journey.as_ref().map(|j| &j.definition));
    let meta = Meta {
        name: RwSignal::new(journey.as_ref().map(|j| j.name.clone()).unwrap_or_default()),
        slug: RwSignal::new(journey.as_ref().map(|j| j.slug.clone()).unwrap_or_default()),
        slug_follows: RwSignal::new(is_new),
        description: RwSignal::new(
            journey
                .as_ref()
                .map(|j| j.description.clone())
                .unwrap_or_default(),
        ),
        icon: RwSignal::new(journey.as_ref().map(|j| j.icon.clone()).unwrap_or_default()),
    };
    // The journey as the server last confirmed it.
    let saved = RwSignal::new(journey.clone());

    let doc = Memo::new(move |_| draft.definition());
    let definition = Memo::new(move |_| doc.with(|(d, _)| d.clone()));
    let snapshot = move || Snapshot {
        name: meta.name.get(),
        slug: meta.slug.get(),
        description: meta.description.get(),
        icon: meta.icon.get(),
        definition: definition.get(),
    };
    let last_saved = RwSignal::new(journey.as_ref().map(|j| Snapshot {
        name: j.name.clone(),
        slug: j.slug.clone(),
        description: j.description.clone(),
        icon: j.icon.clone(),
        definition: j.definition.clone(),
    }));
    let dirty = Memo::new(move |_| last_saved.with(|s| s.as_ref() != Some(&snapshot())));

    // The server's verdict on the last save attempt, until the document changes.
    let server_problems = RwSignal::new(Vec::<Problem>::new());
    Effect::new(move |previous: Option<()>| {
        definition.track();
        if previous.is_some() && server_problems.with_untracked(|p| !p.is_empty()) {
            server_problems.set(Vec::new());
        }
    });

    let issues = Memo::new(move |_| {
        let mut all = doc.with(|(_, local)| local.clone());
        if let Err(problems) = definition.with(validate) {
            all.extend(issues_from(&problems, draft, ""));
        }
        let from_server = server_problems.with(|p| issues_from(p, draft, ""));
        for issue in from_server {
            if !all
                .iter()
                .any(|i| i.node == issue.node && i.message == issue.message)
            {
                all.push(issue);
            }
        }
        all
    });
    let problem_count = Memo::new(move |_| issues.with(Vec::len));

    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let alert = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<(i32, String)>);

    let save = Action::new_local(move |req: &JourneyRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        let before = saved.get_untracked();
        let snap = snapshot_untracked(meta, definition);
        async move {
            let answer = match &before {
                Some(j) => api::update_journey(session, j.id, &req).await,
                None => api::create_journey(session, &req).await,
            };
            match answer {
                Ok(j) => {
                    alert.set(None);
                    server_problems.set(Vec::new());
                    last_saved.set(Some(snap));
                    match before {
                        None => {
                            toasts.success(
                                format!(
                                    "Journey “{}” created as version {}. Activate it to offer it to customers.",
                                    j.name, j.version
                                ),
                                None,
                            );
                            navigate(
                                &format!("/admin/journeys/{}", j.id),
                                NavigateOptions {
                                    replace: true,
                                    ..Default::default()
                                },
                            );
                        }
                        Some(old) => {
                            let text = if j.version > old.version {
                                if j.active {
                                    format!(
                                        "Saved as version {}. Customers who start this journey now get version {}; tickets opened before keep the version they were created from.",
                                        j.version, j.version
                                    )
                                } else {
                                    format!("Saved as version {}.", j.version)
                                }
                            } else {
                                format!(
                                    "Saved. The questions did not change, so this is still version {}.",
                                    j.version
                                )
                            };
                            toasts.success(
                                format!("Saved “{}” (version {}).", j.name, j.version),
                                None,
                            );
                            result.set(Some((j.version, text)));
                        }
                    }
                    saved.set(Some(j));
                }
                Err(err) => show_refusal(&err, errors, alert, server_problems),
            }
        }
    });
    let busy = save.pending();
    let can_save = move || problem_count.get() == 0 && !busy.get();

    // Not a <form>: the preview holds the customers' form, and forms cannot nest.
    let submit = move |_| {
        if !can_save() {
            return;
        }
        result.set(None);
        alert.set(None);
        let definition = match serde_json::to_value(definition.get_untracked()) {
            Ok(v) => v,
            Err(e) => {
                alert.set(Some(format!(
                    "The journey could not be prepared for saving: {e}"
                )));
                return;
            }
        };
        save.dispatch(JourneyRequest {
            slug: meta.slug.get_untracked().trim().to_owned(),
            name: meta.name.get_untracked().trim().to_owned(),
            description: meta.description.get_untracked().trim().to_owned(),
            icon: meta.icon.get_untracked().trim().to_owned(),
            definition,
        });
    };

    let problems_set = Memo::new(move |_| {
        let keys: BTreeSet<u64> = issues.with(|i| i.iter().filter_map(|i| i.node).collect());
        draft.nodes.with(|n| {
            n.iter()
                .filter(|d| keys.contains(&d.key))
                .map(|d| d.id.get())
                .collect::<BTreeSet<_>>()
        })
    });
    let graph: Memo<Layout> = Memo::new(move |_| {
        let order = draft.ids();
        definition.with(|d| problems_set.with(|p| layout(d, &order, p)))
    });
    let focus_node = Callback::new(move |id: String| {
        let key = draft.nodes.with_untracked(|n| {
            n.iter()
                .find(|d| d.id.with_untracked(|x| *x == id))
                .map(|d| d.key)
        });
        if let Some(key) = key
            && let Some(el) = document().get_element_by_id(&format!("node-{key}-id"))
        {
            el.scroll_into_view();
            if let Ok(input) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                let _ = input.focus();
            }
        }
    });

    let title = move || {
        if is_new {
            "New journey".to_owned()
        } else {
            format!(
                "Edit “{}”",
                saved.with(|j| j.as_ref().map(|j| j.name.clone()).unwrap_or_default())
            )
        }
    };

    view! {
        <section class="page page-wide builder">
            <a class="back-link" href="/admin/journeys">
                <Icon name=IconName::Back/>
                "All journeys"
            </a>
            <div class="builder-form">
                <header class="page-header page-header-row">
                    <div>
                        <h1 data-testid="page-title">{title}</h1>
                        <StateLine saved=saved/>
                    </div>
                    <StateActions saved=saved dirty=dirty/>
                </header>
                <div class="builder-bar" role="region" aria-label="Save">
                    <span
                        class="problem-count"
                        class:problem-count-ok=move || problem_count.get() == 0
                        data-testid="problem-count"
                        data-count=move || problem_count.get().to_string()
                        aria-live="polite"
                    >
                        {move || match problem_count.get() {
                            0 => "No problems".to_owned(),
                            1 => "1 problem to fix before saving".to_owned(),
                            n => format!("{n} problems to fix before saving"),
                        }}
                    </span>
                    {move || dirty.get().then(|| view! { <span class="tag" data-testid="unsaved">"Unsaved changes"</span> })}
                    <VersionNote saved=saved definition=definition/>
                    <button
                        type="button"
                        id="journey-save"
                        class="btn btn-primary"
                        disabled=move || !can_save()
                        on:click=submit
                        aria-busy=move || if busy.get() { "true" } else { "false" }
                    >
                        {move || if busy.get() { "Saving…" } else if is_new { "Create journey" } else { "Save" }}
                    </button>
                </div>
                <FormAlert message=alert/>
                {move || result.get().map(|(version, text)| view! {
                    <div class="alert alert-success" role="status" data-testid="save-result" data-version=version.to_string()>
                        {text}
                    </div>
                })}
                <div class="builder-layout">
                    <div class="builder-main">
                        <MetaCard meta=meta errors=errors draft=draft/>
                        <DocProblems issues=issues/>
                        <section class="section" aria-labelledby="nodes-title">
                            <h2 id="nodes-title">
                                "Nodes"
                                <span class="count">{move || draft.nodes.with(Vec::len)}</span>
                            </h2>
                            <ol class="node-list">
                                <For each=move || draft.nodes.get() key=|n| n.key let:node>
                                    <NodeCard draft=draft node=node issues=issues/>
                                </For>
                            </ol>
                            <div class="actions add-nodes">
                                <button type="button" id="add-question" class="btn btn-secondary" on:click=move |_| { draft.add(Kind::Question(QuestionType::SingleChoice)); }>
                                    "Add question"
                                </button>
                                <button type="button" id="add-condition" class="btn btn-secondary" on:click=move |_| { draft.add(Kind::Condition); }>
                                    "Add condition"
                                </button>
                                <button type="button" id="add-end" class="btn btn-secondary" on:click=move |_| { draft.add(Kind::End); }>
                                    "Add end"
                                </button>
                            </div>
                        </section>
                    </div>
                    <aside class="builder-side">
                        <section class="card side-card graph-card" aria-labelledby="graph-title">
                            <h2 id="graph-title">"Overview"</h2>
                            <p class="field-hint">"Choose a box to edit that node. Red: problems or a way out that leads nowhere."</p>
                            <div class="graph-scroll">
                                <JourneyGraph layout=graph on_pick=focus_node/>
                            </div>
                        </section>
                        <Preview definition=definition/>
                    </aside>
                </div>
            </div>
        </section>
    }
}

fn snapshot_untracked(meta: Meta, definition: Memo<JourneyDefinition>) -> Snapshot {
    Snapshot {
        name: meta.name.get_untracked(),
        slug: meta.slug.get_untracked(),
        description: meta.description.get_untracked(),
        icon: meta.icon.get_untracked(),
        definition: definition.get_untracked(),
    }
}

/// Shows a refused save: field messages, journey problems, or the reason.
fn show_refusal(
    err: &ApiError,
    errors: FieldErrors,
    alert: RwSignal<Option<String>>,
    server_problems: RwSignal<Vec<Problem>>,
) {
    let problems = err.journey_problems();
    if err.code() == Some(ErrorCode::InvalidJourney) || !problems.is_empty() {
        let n = problems.len();
        server_problems.set(problems);
        alert.set(Some(format!(
            "The server refused the journey: {}. They are shown next to the nodes.",
            match n {
                1 => "1 problem".to_owned(),
                n => format!("{n} problems"),
            }
        )));
        return;
    }
    let fields = err.field_errors();
    if !fields.is_empty() {
        errors.set(fields);
        alert.set(Some("Please correct the highlighted fields.".to_owned()));
        return;
    }
    if err.code() == Some(ErrorCode::Conflict) {
        errors.update(|e| {
            e.insert("slug".into(), err.message());
        });
        alert.set(Some("Please choose another slug.".to_owned()));
        return;
    }
    alert.set(Some(err.message()));
}

/// "Active · version 3", "Inactive · version 1", "Archived", or "Not saved yet".
#[component]
fn StateLine(saved: RwSignal<Option<JourneyDto>>) -> impl IntoView {
    move || match saved.get() {
        None => view! { <p class="muted">"Not saved yet."</p> }.into_any(),
        Some(j) => {
            let (state, label) = journey_state(&j);
            view! {
                <p class="journey-state-line">
                    <span class=format!("tag tag-{state}") data-testid="journey-state" data-state=state>{label}</span>
                    <span class="muted" data-testid="journey-version">{format!("version {}", j.version)}</span>
                    <code>{j.slug.clone()}</code>
                </p>
            }
            .into_any()
        }
    }
}

/// `active`, `inactive` or `archived`, and how it reads.
pub(crate) fn journey_state(j: &JourneyDto) -> (&'static str, &'static str) {
    if j.archived {
        ("archived", "Archived")
    } else if j.active {
        ("active", "Active")
    } else {
        ("inactive", "Inactive")
    }
}

/// Activate / deactivate a saved journey.
#[component]
fn StateActions(saved: RwSignal<Option<JourneyDto>>, dirty: Memo<bool>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let change = Action::new_local(move |(id, action): &(Uuid, JourneyAction)| {
        let (id, action) = (*id, *action);
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
                    saved.set(Some(j));
                }
                Err(err) => toasts.error(format!("The journey was not changed: {}", err.message())),
            }
        }
    });
    let busy = change.pending();
    move || {
        let j = saved.get()?;
        let id = j.id;
        if j.archived {
            return None;
        }
        Some(if j.active {
            view! {
                <div class="actions">
                    <button
                        type="button"
                        id="journey-deactivate"
                        class="btn btn-secondary"
                        disabled=move || busy.get()
                        on:click=move |_| { change.dispatch((id, JourneyAction::Deactivate)); }
                    >
                        "Deactivate"
                    </button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="actions">
                    {move || dirty.get().then(|| view! {
                        <p class="field-hint">"Activation offers the saved version, not unsaved changes."</p>
                    })}
                    <button
                        type="button"
                        id="journey-activate"
                        class="btn btn-primary"
                        disabled=move || busy.get()
                        on:click=move |_| { change.dispatch((id, JourneyAction::Activate)); }
                    >
                        "Activate"
                    </button>
                </div>
            }
            .into_any()
        })
    }
}

/// Says up front that saving a changed active journey makes a new version.
#[component]
fn VersionNote(
    saved: RwSignal<Option<JourneyDto>>,
    definition: Memo<JourneyDefinition>,
) -> impl IntoView {
    move || {
        let j = saved.get()?;
        let changed = definition.with(|d| *d != j.definition);
        (changed && j.active).then(|| {
            view! {
                <span class="field-hint version-note" data-testid="version-note">
                    {format!(
                        "Live journey: saving creates version {} for new requests; tickets opened so far keep version {}.",
                        j.version + 1,
                        j.version
                    )}
                </span>
            }
        })
    }
}

#[component]
fn MetaCard(meta: Meta, errors: FieldErrors, draft: Draft) -> impl IntoView {
    let text = move |id: &'static str,
                     key: &'static str,
                     label: &'static str,
                     value: RwSignal<String>,
                     hint: Option<&'static str>,
                     on_edit: fn(Meta, &str)| {
        let error_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described = match hint {
            Some(_) => format!("{hint_id} {error_id}"),
            None => error_id.clone(),
        };
        view! {
            <div class="field" class:field-invalid=move || has_error(errors, key)>
                <label for=id>{label}</label>
                <input
                    type="text"
                    id=id
                    autocomplete="off"
                    aria-invalid=move || if has_error(errors, key) { "true" } else { "false" }
                    aria-describedby=described
                    prop:value=move || value.get()
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        value.set(v.clone());
                        on_edit(meta, &v);
                        clear_error(errors, key);
                    }
                />
                {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
                {field_error(errors, key, error_id.clone())}
            </div>
        }
    };
    let description_id = "journey-description";
    view! {
        <section class="card section meta-card" aria-labelledby="meta-title">
            <h2 id="meta-title">"About this journey"</h2>
            <div class="grid-2">
                {text("journey-name", "name", "Name", meta.name, Some("Shown to customers on the topic card."), |m, v| {
                    if m.slug_follows.get_untracked() {
                        m.slug.set(slug(v));
                    }
                })}
                {text("journey-slug", "slug", "Slug", meta.slug, Some("Lower-case letters, digits and dashes; unique."), |m, _| {
                    m.slug_follows.set(false);
                })}
            </div>
            <div class="field" class:field-invalid=move || has_error(errors, "description")>
                <label for=description_id>"Description"</label>
                <textarea
                    id=description_id
                    rows="2"
                    prop:value=move || meta.description.get()
                    on:input=move |ev| {
                        meta.description.set(event_target_value(&ev));
                        clear_error(errors, "description");
                    }
                ></textarea>
                {field_error(errors, "description", "journey-description-error".to_owned())}
            </div>
            <div class="grid-2">
                <div class="icon-field">
                    {text("journey-icon", "icon", "Icon", meta.icon, Some("A name such as package, billing, account, or an emoji."), |_, _| {})}
                    <span class="journey-icon" aria-hidden="true">
                        {move || view! { <JourneyIcon icon=meta.icon.get()/> }}
                    </span>
                </div>
                <TargetSelect
                    draft=draft
                    own=0
                    value=draft.start
                    id="journey-start".to_owned()
                    label="Starts at"
                    field="start"
                />
            </div>
        </section>
    }
}

/// Problems that concern the whole document (no node, or a node the editor cannot find).
#[component]
fn DocProblems(issues: Memo<Vec<Issue>>) -> impl IntoView {
    let doc = Memo::new(move |_| {
        issues.with(|all| {
            all.iter()
                .filter(|i| i.node.is_none())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    move || {
        let list = doc.get();
        (!list.is_empty()).then(|| {
            view! {
                <section class="alert alert-error doc-problems" role="alert" data-testid="doc-problems">
                    <p><strong>"The journey as a whole:"</strong></p>
                    <ul>
                        {list
                            .into_iter()
                            .map(|i| view! { <li data-testid="doc-problem" data-code=i.code.clone()>{i.message}</li> })
                            .collect_view()}
                    </ul>
                </section>
            }
        })
    }
}

/// The customers' form, walking the draft as it is.
#[component]
fn Preview(definition: Memo<JourneyDefinition>) -> impl IntoView {
    let toasts = use_toasts();
    let on_submit = Callback::new(move |_answers: Answers| {
        toasts.info(
            "End of the preview: customers would now get a ticket as shown. Nothing was sent.",
            None,
        );
    });
    view! {
        <section class="card side-card preview-card" aria-labelledby="preview-title" data-testid="journey-preview">
            <h2 id="preview-title">"Preview"</h2>
            <p class="field-hint">"What customers see, updated as you edit. Nothing is sent; images are not uploaded."</p>
            <JourneyForm
                definition=definition
                on_submit=on_submit
                preview=true
                submit_label="Finish preview"
            />
        </section>
    }
}
