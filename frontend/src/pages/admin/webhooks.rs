//! `/admin/webhooks`: the endpoints that receive signed events — register one (its secret is
//! shown once), choose its events, switch it on or off, send a test, rotate the secret,
//! delete it — and each endpoint's delivery log (status, attempts, the receiver's answer) with
//! redelivery. An endpoint switched off for failing shows a banner with the reason; the page
//! reloads when that happens live. The switch for private targets is here too.

use leptos::prelude::*;
use shared::Role;
use shared::webhooks::{
    CreateWebhookRequest, DeliveryDto, DeliveryStatus, UpdateWebhookRequest, WebhookDto,
    WebhookEventType, WebhookSettingsDto,
};
use shared::ws::Event;
use uuid::Uuid;

use crate::api;
use crate::components::{ErrorPanel, Loading, RequireRole, set_title, use_toasts};
use crate::format::local_time;
use crate::session::use_session;
use crate::ws::use_live;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Webhooks/>
        </RequireRole>
    }
}

/// The event types offered first in a new endpoint's form.
const DEFAULT_EVENTS: &[&str] = &["ticket.created", "message.created"];

#[component]
fn Webhooks() -> impl IntoView {
    set_title("Webhooks");
    let session = use_session();
    let live = use_live();
    let list = LocalResource::new(move || api::list_webhooks(session));
    let types = LocalResource::new(move || api::webhook_event_types(session));
    live.on_event(move |msg| {
        if matches!(msg.event, Event::WebhookDisabled { .. }) {
            list.refetch();
        }
    });
    let secret = RwSignal::new(None::<(String, String)>);
    let reload = Callback::new(move |()| list.refetch());
    let show_secret = Callback::new(move |s: (String, String)| secret.set(Some(s)));
    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Webhooks"</h1>
                <p class="muted">
                    "Endpoints that receive signed JSON for the events they choose, retried for about a day and in order per ticket. "
                    "They see what admins see, internal notes included."
                </p>
            </header>
            <PrivateTargets/>
            {move || secret.get().map(|(url, s)| view! {
                <div class="alert alert-success" role="status" data-testid="webhook-secret">
                    <p>{format!("Signing secret for {url} (shown only now; keep it):")}</p>
                    <p><code>{s}</code></p>
                    <button type="button" class="btn btn-small" on:click=move |_| secret.set(None)>
                        "Done"
                    </button>
                </div>
            })}
            {move || match types.get() {
                Some(Ok(types)) => view! {
                    <NewWebhook types=types on_created=show_secret on_change=reload/>
                }
                .into_any(),
                _ => ().into_any(),
            }}
            {move || match (list.get(), types.get()) {
                (None, _) | (_, None) => view! { <Loading label="Loading webhooks…"/> }.into_any(),
                (Some(Err(err)), _) | (_, Some(Err(err))) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| list.refetch())/>
                }
                .into_any(),
                (Some(Ok(items)), _) if items.is_empty() => {
                    view! { <p class="muted" data-testid="webhooks-empty">"No webhooks yet."</p> }.into_any()
                }
                (Some(Ok(items)), Some(Ok(types))) => items
                    .into_iter()
                    .map(|w| view! {
                        <WebhookCard webhook=w types=types.clone() on_change=reload on_secret=show_secret/>
                    })
                    .collect_view()
                    .into_any(),
            }}
        </section>
    }
}

/// The admin setting that lets endpoints target private addresses.
#[component]
fn PrivateTargets() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let current = LocalResource::new(move || api::webhook_settings(session));
    let save = Action::new_local(move |allow: &bool| {
        let value = WebhookSettingsDto {
            allow_private_targets: *allow,
        };
        async move {
            match api::put_webhook_settings(session, &value).await {
                Ok(_) => toasts.success("Saved.", None),
                Err(err) => toasts.error(err.message()),
            }
            current.refetch();
        }
    });
    move || {
        current.get().and_then(Result::ok).map(|s| view! {
            <p>
                <label>
                    <input type="checkbox" data-testid="webhook-private"
                        prop:checked=s.allow_private_targets
                        on:change=move |ev| { save.dispatch(event_target_checked(&ev)); }/>
                    " Allow private targets (loopback, private and link-local addresses; for receivers inside your network)"
                </label>
            </p>
        })
    }
}

/// Checkboxes over the event catalogue, bound to `chosen`.
fn event_choices(
    types: Vec<WebhookEventType>,
    chosen: RwSignal<Vec<String>>,
    prefix: String,
) -> impl IntoView {
    view! {
        <fieldset class="webhook-events">
            <legend>"Events"</legend>
            {types
                .into_iter()
                .map(|t| {
                    let name = t.name.clone();
                    let checked = {
                        let name = name.clone();
                        move || chosen.with(|c| c.contains(&name))
                    };
                    let toggle = {
                        let name = name.clone();
                        move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|x| *x != name);
                                if on {
                                    c.push(name.clone());
                                }
                            });
                        }
                    };
                    let id = format!("{prefix}-{}", name.replace(['.', '*'], "_"));
                    view! {
                        <label title=t.description.clone()>
                            <input type="checkbox" id=id value=name.clone() prop:checked=checked on:change=toggle/>
                            " " <code>{name}</code>
                        </label>
                        " "
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
fn NewWebhook(
    types: Vec<WebhookEventType>,
    on_created: Callback<(String, String)>,
    on_change: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let url = RwSignal::new(String::new());
    let chosen = RwSignal::new(
        DEFAULT_EVENTS
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>(),
    );
    let alert = RwSignal::new(None::<String>);
    let create = Action::new_local(move |req: &CreateWebhookRequest| {
        let req = req.clone();
        async move {
            match api::create_webhook(session, &req).await {
                Ok(created) => {
                    alert.set(None);
                    url.set(String::new());
                    on_created.run((created.webhook.url, created.secret));
                    on_change.run(());
                }
                Err(err) => {
                    let fields = err.field_errors();
                    alert.set(Some(
                        fields
                            .values()
                            .next()
                            .cloned()
                            .unwrap_or_else(|| err.message()),
                    ));
                }
            }
        }
    });
    let busy = create.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateWebhookRequest {
            url: url.get_untracked().trim().to_owned(),
            description: None,
            events: chosen.get_untracked(),
            enabled: None,
        });
    };
    view! {
        <section class="card section" aria-labelledby="new-webhook-title">
            <form class="form" novalidate on:submit=submit data-testid="new-webhook-form">
                <h2 id="new-webhook-title">"New webhook"</h2>
                {move || alert.get().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
                <label for="webhook-url">"URL"</label>
                <input id="webhook-url" type="url" placeholder="https://example.com/hooks/helpdesk"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                {event_choices(types, chosen, "new-webhook".to_owned())}
                <div class="actions">
                    <button type="submit" class="btn btn-primary" data-testid="webhook-create" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create webhook" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn WebhookCard(
    webhook: WebhookDto,
    types: Vec<WebhookEventType>,
    on_change: Callback<()>,
    on_secret: Callback<(String, String)>,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let id = webhook.id;
    let editing = RwSignal::new(false);
    let show_log = RwSignal::new(false);
    let chosen = RwSignal::new(webhook.events.clone());
    let update = Action::new_local(move |req: &UpdateWebhookRequest| {
        let req = req.clone();
        async move {
            match api::update_webhook(session, id, &req).await {
                Ok(_) => {
                    toasts.success("Saved.", None);
                    editing.set(false);
                    on_change.run(());
                }
                Err(err) => toasts.error(err.message()),
            }
        }
    });
    let test = Action::new_local(move |_: &()| async move {
        match api::test_webhook(session, id).await {
            Ok(_) => {
                toasts.success("Test event queued.", None);
                show_log.set(true);
            }
            Err(err) => toasts.error(err.message()),
        }
    });
    let url = webhook.url.clone();
    let rotate = Action::new_local(move |_: &()| {
        let url = url.clone();
        async move {
            match api::rotate_webhook_secret(session, id).await {
                Ok(r) => on_secret.run((url, r.secret)),
                Err(err) => toasts.error(err.message()),
            }
        }
    });
    let remove = Action::new_local(move |_: &()| async move {
        match api::delete_webhook(session, id).await {
            Ok(()) => {
                toasts.success("Webhook deleted.", None);
                on_change.run(());
            }
            Err(err) => toasts.error(err.message()),
        }
    });
    let enabled = webhook.enabled;
    let toggle = move |_| {
        update.dispatch(UpdateWebhookRequest {
            enabled: Some(!enabled),
            ..Default::default()
        });
    };
    let save_events = move |_| {
        update.dispatch(UpdateWebhookRequest {
            events: Some(chosen.get_untracked()),
            ..Default::default()
        });
    };
    view! {
        <article class="card section" data-testid="webhook" data-enabled=enabled.to_string()>
            <h2><code>{webhook.url.clone()}</code></h2>
            {(!enabled).then(|| match webhook.disabled_reason.clone() {
                Some(reason) => view! {
                    <p class="alert alert-warning" role="alert" data-testid="webhook-disabled">
                        {format!(
                            "Switched off {}: {reason}",
                            webhook.disabled_at.map(local_time).unwrap_or_default()
                        )}
                    </p>
                }
                .into_any(),
                None => view! { <p class="muted">"Disabled."</p> }.into_any(),
            })}
            {webhook.failing_since.filter(|_| enabled).map(|since| view! {
                <p class="alert alert-warning">{format!("Failing since {}", local_time(since))}</p>
            })}
            <p class="muted">{format!("Events: {}", webhook.events.join(", "))}</p>
            <div class="actions">
                <button type="button" class="btn btn-small" on:click=toggle>
                    {if enabled { "Disable" } else { "Enable" }}
                </button>
                <button type="button" class="btn btn-small" on:click=move |_| editing.update(|e| *e = !*e)>
                    "Edit events"
                </button>
                <button type="button" class="btn btn-small" disabled=!enabled
                    on:click=move |_| { test.dispatch(()); }>
                    "Send test"
                </button>
                <button type="button" class="btn btn-small" on:click=move |_| { rotate.dispatch(()); }>
                    "Rotate secret"
                </button>
                <button type="button" class="btn btn-small" on:click=move |_| show_log.update(|s| *s = !*s)>
                    {move || if show_log.get() { "Hide deliveries" } else { "Deliveries" }}
                </button>
                <button type="button" class="btn btn-small btn-danger" on:click=move |_| { remove.dispatch(()); }>
                    "Delete"
                </button>
            </div>
            {move || editing.get().then(|| view! {
                <div>
                    {event_choices(types.clone(), chosen, format!("edit-{id}"))}
                    <button type="button" class="btn btn-primary btn-small" on:click=save_events>"Save events"</button>
                </div>
            })}
            {move || show_log.get().then(|| view! { <DeliveryLog webhook=id/> })}
        </article>
    }
}

fn status_label(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "Pending",
        DeliveryStatus::Delivering => "Delivering",
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Failed => "Failed",
    }
}

#[component]
fn DeliveryLog(webhook: Uuid) -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u64);
    let log = LocalResource::new(move || api::webhook_deliveries(session, webhook, page.get()));
    let reload = Callback::new(move |()| log.refetch());
    view! {
        <div class="webhook-log" data-testid="webhook-log">
            <button type="button" class="btn btn-small" on:click=move |_| log.refetch()>"Refresh"</button>
            {move || match log.get() {
                None => view! { <Loading label="Loading deliveries…"/> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel message=err.message() on_retry=reload/> }.into_any(),
                Some(Ok(p)) if p.items.is_empty() => view! { <p class="muted">"No deliveries yet."</p> }.into_any(),
                Some(Ok(p)) => {
                    let (current, pages) = (p.page, p.pages);
                    view! {
                        <table class="an-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Queued"</th>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Last answer"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {p.items.into_iter().map(|d| view! { <DeliveryRow delivery=d on_change=reload/> }).collect_view()}
                            </tbody>
                        </table>
                        <p class="muted">
                            {format!("page {current} of {pages} ")}
                            <button type="button" class="btn btn-small" disabled=current <= 1
                                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>"Previous"</button>
                            " "
                            <button type="button" class="btn btn-small" disabled=current >= pages
                                on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
                        </p>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

#[component]
fn DeliveryRow(delivery: DeliveryDto, on_change: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let (webhook, id) = (delivery.webhook_id, delivery.id);
    let redeliver = Action::new_local(move |_: &()| async move {
        match api::redeliver_webhook(session, webhook, id).await {
            Ok(_) => {
                toasts.success("Queued to be sent again.", None);
                on_change.run(());
            }
            Err(err) => toasts.error(err.message()),
        }
    });
    let can_redeliver = matches!(
        delivery.status,
        DeliveryStatus::Delivered | DeliveryStatus::Failed
    );
    let last = delivery.attempt_log.last().cloned();
    let answer = last
        .map(|a| {
            let code = a
                .status_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "—".to_owned());
            let text = a.response_excerpt.or(a.error).unwrap_or_default();
            format!("{code} · {} ms · {text}", a.duration_ms)
        })
        .unwrap_or_default();
    view! {
        <tr data-status=delivery.status.as_str()>
            <td>{local_time(delivery.created_at)}</td>
            <td><code>{delivery.event_type.clone()}</code></td>
            <td>{status_label(delivery.status)}</td>
            <td>{delivery.attempts}</td>
            <td class="muted webhook-answer">{answer}</td>
            <td>
                {can_redeliver.then(|| view! {
                    <button type="button" class="btn btn-small" on:click=move |_| { redeliver.dispatch(()); }>
                        "Redeliver"
                    </button>
                })}
            </td>
        </tr>
    }
}
