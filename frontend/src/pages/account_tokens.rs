//! The "API tokens" section of `/account` for staff: create a token (name, scopes, optional
//! expiry), see its secret once with a copy button, list one's tokens with their last use and
//! revoke them. Admins also get every user's tokens (`GET /api/tokens?all=true`) with the same
//! revoke button. The scope names and their wording come from `shared::tokens::Scope`, so the
//! form offers exactly what the server accepts.

use chrono::NaiveDate;
use leptos::prelude::*;
use shared::Role;
use shared::tokens::{CreateTokenRequest, CreatedToken, Scope, TokenDto};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::js_sys;

use crate::api;
use crate::components::{EmptyState, ErrorPanel, FormAlert, Loading, use_toasts};
use crate::format::local_time;
use crate::session::use_session;

/// Own tokens and, for admins, everyone's.
#[component]
pub fn ApiTokens() -> impl IntoView {
    let session = use_session();
    let is_admin = move || session.user().is_some_and(|u| u.role == Role::Admin);
    // Bumped after a create or revoke so both lists reload.
    let version = RwSignal::new(0u32);
    view! {
        <div class="card form" data-testid="api-tokens">
            <h2>"API tokens"</h2>
            <p class="muted">
                "Tokens let scripts and integrations call the API with your rights, limited to the scopes you choose. "
                "Send one as " <code>"Authorization: Bearer hdk_…"</code> "."
            </p>
            <CreateToken version=version/>
            <h3>"Your tokens"</h3>
            <TokenList all=false version=version/>
            {move || is_admin().then(|| view! {
                <h3>"Every user's tokens"</h3>
                <TokenList all=true version=version/>
            })}
        </div>
    }
}

/// `navigator.clipboard.writeText(text)`, where the browser offers it.
fn copy_to_clipboard(text: &str) -> bool {
    let call = || -> Result<(), JsValue> {
        let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())?;
        let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())?;
        let write = js_sys::Reflect::get(&clipboard, &"writeText".into())?;
        let write: js_sys::Function = write.dyn_into()?;
        write.call1(&clipboard, &JsValue::from_str(text))?;
        Ok(())
    };
    call().is_ok()
}

#[component]
fn CreateToken(version: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let is_admin = move || session.user().is_some_and(|u| u.role == Role::Admin);
    let name = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let chosen = RwSignal::new(vec![Scope::TicketsRead]);
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<CreatedToken>);
    let copied = RwSignal::new(false);

    let save = Action::new_local(move |req: &CreateTokenRequest| {
        let req = req.clone();
        async move {
            match api::create_token(session, &req).await {
                Ok(token) => {
                    created.set(Some(token));
                    copied.set(false);
                    name.set(String::new());
                    expires.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(err) => {
                    let fields = err.field_errors();
                    error.set(Some(if fields.is_empty() {
                        err.message()
                    } else {
                        fields
                            .iter()
                            .map(|(field, msg)| format!("{field}: {msg}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    }));
                }
            }
        }
    });
    let pending = save.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        created.set(None);
        let title = name.get_untracked().trim().to_owned();
        if title.is_empty() {
            error.set(Some("Give the token a name.".into()));
            return;
        }
        let scopes = chosen.get_untracked();
        if scopes.is_empty() {
            error.set(Some("Choose at least one scope.".into()));
            return;
        }
        let expires_at = match expires.get_untracked().trim() {
            "" => None,
            day => match NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(23, 59, 59))
            {
                Some(end) => Some(end.and_utc()),
                None => {
                    error.set(Some("The expiry is not a date.".into()));
                    return;
                }
            },
        };
        error.set(None);
        save.dispatch(CreateTokenRequest {
            name: title,
            scopes,
            expires_at,
        });
    };

    let secret_panel = move || {
        created.get().map(|c| {
            let secret = c.secret.clone();
            view! {
                <div class="alert alert-success" role="status" data-testid="token-secret-panel">
                    <p>
                        "Token \u{201c}" {c.token.name.clone()} "\u{201d} created. Copy it now: it is shown only once."
                    </p>
                    <p><code data-testid="token-secret">{c.secret.clone()}</code></p>
                    <button
                        type="button"
                        class="btn"
                        data-testid="token-copy"
                        on:click=move |_| copied.set(copy_to_clipboard(&secret))
                    >
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
                    " "
                    <button type="button" class="btn" on:click=move |_| created.set(None)>
                        "Done"
                    </button>
                </div>
            }
        })
    };

    view! {
        <form class="form" on:submit=on_submit novalidate data-testid="token-form">
            <FormAlert message=error/>
            {secret_panel}
            <div class="field">
                <label for="token-name">"Name"</label>
                <input
                    id="token-name"
                    type="text"
                    maxlength="100"
                    placeholder="e.g. CRM sync"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </div>
            <fieldset class="field">
                <legend>"Scopes"</legend>
                <ul class="checkbox-list">
                    {move || {
                        Scope::ALL
                            .into_iter()
                            .filter(|s| !s.admins_only() || is_admin())
                            .map(|scope| {
                                let id = format!("token-scope-{}", scope.as_str().replace(':', "-"));
                                view! {
                                    <li>
                                        <label for=id.clone()>
                                            <input
                                                id=id.clone()
                                                type="checkbox"
                                                data-scope=scope.as_str()
                                                prop:checked=move || chosen.with(|c| c.contains(&scope))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    chosen.update(|c| {
                                                        c.retain(|s| *s != scope);
                                                        if on {
                                                            c.push(scope);
                                                        }
                                                    });
                                                }
                                            />
                                            " " <code>{scope.as_str()}</code> " — " {scope.description()}
                                        </label>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </fieldset>
            <div class="field">
                <label for="token-expires">"Expires (optional; at the end of that day, UTC)"</label>
                <input
                    id="token-expires"
                    type="date"
                    prop:value=move || expires.get()
                    on:input=move |ev| expires.set(event_target_value(&ev))
                />
            </div>
            <button
                id="token-create"
                type="submit"
                class="btn btn-primary"
                disabled=move || pending.get()
                aria-busy=move || if pending.get() { "true" } else { "false" }
            >
                {move || if pending.get() { "Creating…" } else { "Create token" }}
            </button>
        </form>
    }
}

fn state_of(t: &TokenDto) -> String {
    if let Some(at) = t.revoked_at {
        return format!("revoked {}", local_time(at));
    }
    match t.expires_at {
        Some(at) if at <= chrono::Utc::now() => format!("expired {}", local_time(at)),
        Some(at) => format!("expires {}", local_time(at)),
        None => "does not expire".to_owned(),
    }
}

/// A table of tokens (one's own, or with `all` everyone's) with a revoke button each.
#[component]
fn TokenList(all: bool, version: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let list = LocalResource::new(move || {
        version.track();
        api::list_tokens(session, all, 1)
    });
    let revoke = Action::new_local(move |id: &Uuid| {
        let id = *id;
        async move {
            match api::revoke_token(session, id).await {
                Ok(()) => {
                    toasts.success("Token revoked.", None);
                    version.update(|v| *v += 1);
                }
                Err(err) => toasts.error(err.message()),
            }
        }
    });
    let revoking = revoke.pending();
    let testid = if all { "all-tokens" } else { "my-tokens" };
    view! {
        <div data-testid=testid>
            {move || match list.get() {
                None => view! { <Loading label="Loading tokens…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| list.refetch())/>
                }
                .into_any(),
                Some(Ok(page)) if page.items.is_empty() => {
                    view! { <EmptyState title="No tokens yet"/> }.into_any()
                }
                Some(Ok(page)) => view! {
                    <table class="an-table">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                {all.then(|| view! { <th scope="col">"Owner"</th> })}
                                <th scope="col">"Token"</th>
                                <th scope="col">"Scopes"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">"State"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .items
                                .into_iter()
                                .map(|t| {
                                    let id = t.id;
                                    let live = t.revoked_at.is_none();
                                    let scopes = t
                                        .scopes
                                        .iter()
                                        .map(|s| s.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ");
                                    view! {
                                        <tr data-token-id=id.to_string()>
                                            <td>{t.name.clone()}</td>
                                            {all.then(|| view! { <td>{t.owner.name.clone()}</td> })}
                                            <td><code>{format!("{}…", t.prefix)}</code></td>
                                            <td>{scopes}</td>
                                            <td>{t.last_used_at.map(local_time).unwrap_or_else(|| "never".to_owned())}</td>
                                            <td>{state_of(&t)}</td>
                                            <td>
                                                {live.then(|| view! {
                                                    <button
                                                        type="button"
                                                        class="btn btn-danger"
                                                        data-testid="token-revoke"
                                                        disabled=move || revoking.get()
                                                        on:click=move |_| {
                                                            revoke.dispatch(id);
                                                        }
                                                    >
                                                        "Revoke"
                                                    </button>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                .into_any(),
            }}
        </div>
    }
}
