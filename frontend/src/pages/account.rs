//! `/account`: the signed-in user changes their name, password or time zone
//! (`PUT /api/auth/me`), chooses
//! which emails they get (`/api/auth/me/notifications`), or signs out on every device
//! (`POST /api/auth/logout-everywhere`); staff also manage their API tokens
//! ([`super::account_tokens`]).
//!
//! Independent forms, so a failed password change never discards an edited name and each
//! shows its own server errors next to its own fields.

use leptos::prelude::*;
use shared::ErrorCode;
use shared::mail::{NotificationPreference, UpdateNotificationsRequest};
use shared::users::UpdateMeRequest;
use shared::validate::{DisplayName, Password, TimeZoneName};

use crate::api::{self, ApiError};
use crate::components::{
    ErrorPanel, FieldState, FormAlert, Loading, RequireRole, TextField, set_title,
};
use crate::format;
use crate::session::{role_label, use_session};

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <RequireRole>
            <Account/>
        </RequireRole>
    }
}

#[component]
fn Account() -> impl IntoView {
    set_title("Account");
    let session = use_session();
    let email = move || session.user().map(|u| u.email).unwrap_or_default();
    let role = move || {
        session
            .user()
            .map(|u| role_label(u.role))
            .unwrap_or_default()
    };
    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Your account"</h1>
                <p class="muted">
                    "Signed in as " <strong>{email}</strong> " (" {role} ")."
                </p>
            </header>
            <div class="grid-2">
                <NameForm/>
                <TimeZoneForm/>
                <PasswordForm/>
                <Notifications/>
                <SignOutEverywhere/>
            </div>
            {move || {
                session
                    .user()
                    .is_some_and(|u| u.role.is_staff())
                    .then(|| view! { <super::account_tokens::ApiTokens/> })
            }}
        </section>
    }
}

/// A success line, announced politely.
#[component]
fn FormSuccess(message: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|msg| {
            view! { <div class="alert alert-success form-success" role="status">{msg}</div> }
        })
    }
}

/// Shows a failed update: field messages under their inputs, the summary in the alert.
fn show_error(err: &ApiError, fields: &[(&str, FieldState)], alert: RwSignal<Option<String>>) {
    let mut by_field = err.field_errors();
    for (key, field) in fields {
        if let Some(msg) = by_field.remove(*key) {
            field.server_error.set(Some(msg));
        }
    }
    alert.set(Some(err.message()));
}

#[component]
fn NameForm() -> impl IntoView {
    let session = use_session();
    let initial = session.user_untracked().map(|u| u.name).unwrap_or_default();
    let name = FieldState::new(initial, |v| DisplayName::parse(v).map(drop));
    let error = RwSignal::new(None::<String>);
    let success = RwSignal::new(None::<String>);

    let save = Action::new_local(move |req: &UpdateMeRequest| {
        let req = req.clone();
        async move {
            match api::update_me(session, &req).await {
                Ok(user) => {
                    name.value.set(user.name.clone());
                    session.set_user(user);
                    success.set(Some("Your name has been saved.".into()));
                }
                Err(err) => show_error(&err, &[("name", name)], error),
            }
        }
    });
    let pending = save.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        success.set(None);
        if let Some(problem) = name.check() {
            error.set(Some(problem));
            return;
        }
        error.set(None);
        let Ok(parsed) = DisplayName::parse(&name.get()) else {
            return;
        };
        save.dispatch(UpdateMeRequest {
            name: Some(parsed.into_inner()),
            ..Default::default()
        });
    };

    view! {
        <form class="card form" on:submit=on_submit novalidate>
            <h2>"Name"</h2>
            <FormAlert message=error/>
            <FormSuccess message=success/>
            <TextField id="account-name" label="Display name" autocomplete="name" field=name/>
            <button
                id="account-name-submit"
                type="submit"
                class="btn btn-primary"
                disabled=move || pending.get()
                aria-busy=move || if pending.get() { "true" } else { "false" }
            >
                {move || if pending.get() { "Saving…" } else { "Save name" }}
            </button>
        </form>
    }
}

/// The zone emails show times in (the reply ETA of an acknowledgement, deadlines): the one
/// stored on the account, else the browser's, preselected.
#[component]
fn TimeZoneForm() -> impl IntoView {
    let session = use_session();
    let stored = session.user_untracked().and_then(|u| u.time_zone);
    let zone = RwSignal::new(stored.unwrap_or_else(format::browser_time_zone));
    let error = RwSignal::new(None::<String>);
    let success = RwSignal::new(None::<String>);
    let save = Action::new_local(move |tz: &String| {
        let tz = tz.clone();
        async move {
            match api::set_time_zone(session, &tz).await {
                Ok(user) => {
                    success.set(Some(format!(
                        "Emails now show times in {}.",
                        user.time_zone.as_deref().unwrap_or("your calendar's zone")
                    )));
                    session.set_user(user);
                }
                Err(err) => error.set(Some(err.message())),
            }
        }
    });
    let pending = save.pending();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        success.set(None);
        let tz = zone.get_untracked();
        if let Err(problem) = TimeZoneName::parse(&tz) {
            error.set(Some(problem));
            return;
        }
        error.set(None);
        save.dispatch(tz);
    };
    let zones: Vec<&'static str> = shared::calendar::zone_names().collect();
    let current = move || {
        session
            .user()
            .and_then(|u| u.time_zone)
            .unwrap_or_else(|| "not set".to_owned())
    };
    view! {
        <form class="card form" on:submit=on_submit novalidate data-testid="time-zone-form">
            <h2>"Time zone"</h2>
            <FormAlert message=error/>
            <FormSuccess message=success/>
            <p class="muted">
                "Emails show times (such as when we aim to reply) in this zone. Saved: "
                <strong data-testid="saved-time-zone">{current}</strong> "."
            </p>
            <div class="field">
                <label for="account-time-zone">"Time zone"</label>
                <select
                    id="account-time-zone"
                    on:change=move |ev| zone.set(event_target_value(&ev))
                    prop:value=move || zone.get()
                >
                    {zones
                        .into_iter()
                        .map(|z| view! { <option value=z selected=move || zone.get() == z>{z}</option> })
                        .collect_view()}
                </select>
            </div>
            <button
                id="account-time-zone-submit"
                type="submit"
                class="btn btn-primary"
                disabled=move || pending.get()
                aria-busy=move || if pending.get() { "true" } else { "false" }
            >
                {move || if pending.get() { "Saving…" } else { "Save time zone" }}
            </button>
        </form>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let session = use_session();
    let current = FieldState::required("current password");
    let new = FieldState::new("", |v| Password::parse(v).map(drop));
    let new_value = new.value;
    let confirm = FieldState::new("", move |v| {
        if v.is_empty() {
            Err("please repeat the new password".into())
        } else if new_value.with(|n| n != v) {
            Err("the two new passwords differ".into())
        } else {
            Ok(())
        }
    });
    let error = RwSignal::new(None::<String>);
    let success = RwSignal::new(None::<String>);

    let save = Action::new_local(move |req: &UpdateMeRequest| {
        let req = req.clone();
        async move {
            match api::update_me(session, &req).await {
                Ok(user) => {
                    session.set_user(user);
                    for field in [current, new, confirm] {
                        field.reset();
                    }
                    success.set(Some(
                        "Your password has been changed. Other devices have been signed out."
                            .into(),
                    ));
                }
                Err(err) => {
                    // Here "wrong credentials" can only mean the current password.
                    if err.code() == Some(ErrorCode::InvalidCredentials) {
                        let msg = "Your current password is incorrect.".to_owned();
                        current.server_error.set(Some(msg.clone()));
                        error.set(Some(msg));
                        return;
                    }
                    if err.code() == Some(ErrorCode::WeakPassword) {
                        new.server_error.set(Some(err.message()));
                    }
                    show_error(
                        &err,
                        &[
                            ("current_password", current),
                            ("new_password", new),
                            ("password", new),
                        ],
                        error,
                    );
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
        success.set(None);
        let problems: Vec<String> = [current.check(), new.check(), confirm.check()]
            .into_iter()
            .flatten()
            .collect();
        if !problems.is_empty() {
            error.set(Some(problems.join(" ")));
            return;
        }
        error.set(None);
        save.dispatch(UpdateMeRequest {
            name: None,
            current_password: Some(current.get()),
            new_password: Some(new.get()),
            time_zone: None,
        });
    };

    view! {
        <form class="card form" on:submit=on_submit novalidate>
            <h2>"Password"</h2>
            <FormAlert message=error/>
            <FormSuccess message=success/>
            <TextField
                id="account-current-password"
                label="Current password"
                kind="password"
                autocomplete="current-password"
                field=current
            />
            <TextField
                id="account-new-password"
                label="New password"
                kind="password"
                autocomplete="new-password"
                hint="At least 8 characters, with a letter and a digit."
                field=new
            />
            <TextField
                id="account-confirm-password"
                label="Repeat new password"
                kind="password"
                autocomplete="new-password"
                field=confirm
            />
            <button
                id="account-password-submit"
                type="submit"
                class="btn btn-primary"
                disabled=move || pending.get()
                aria-busy=move || if pending.get() { "true" } else { "false" }
            >
                {move || if pending.get() { "Changing…" } else { "Change password" }}
            </button>
        </form>
    }
}

/// Revokes every token of the account, closing its live connections on all devices.
#[component]
fn SignOutEverywhere() -> impl IntoView {
    let session = use_session();
    let error = RwSignal::new(None::<String>);
    let run = Action::new_local(move |_: &()| async move {
        if let Err(err) = api::sign_out_everywhere(session).await {
            error.set(Some(err.message()));
        }
    });
    let pending = run.pending();
    view! {
        <div class="card form">
            <h2>"Devices"</h2>
            <FormAlert message=error/>
            <p class="muted">
                "Signs you out here and on every other device and browser, and ends their live updates."
            </p>
            <button
                id="account-sign-out-everywhere"
                type="button"
                class="btn"
                disabled=move || pending.get()
                on:click=move |_| {
                    error.set(None);
                    run.dispatch(());
                }
            >
                {move || if pending.get() { "Signing out…" } else { "Sign out everywhere" }}
            </button>
        </div>
    }
}

/// The email switches of the account: one checkbox per kind its role receives, saved on
/// change.
#[component]
fn Notifications() -> impl IntoView {
    let session = use_session();
    let prefs = LocalResource::new(move || api::my_notifications(session));
    view! {
        <div class="card form" data-testid="notifications">
            <h2>"Email notifications"</h2>
            <p class="muted">
                "Replies from the support team always reach you; these can be switched off."
            </p>
            {move || match prefs.get() {
                None => view! { <Loading label="Loading…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| prefs.refetch())/>
                }
                .into_any(),
                Some(Ok(p)) => view! { <NotificationSwitches initial=p.preferences/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn NotificationSwitches(initial: Vec<NotificationPreference>) -> impl IntoView {
    let session = use_session();
    let error = RwSignal::new(None::<String>);
    let success = RwSignal::new(None::<String>);
    let items = RwSignal::new(initial);
    let save = Action::new_local(move |req: &UpdateNotificationsRequest| {
        let req = req.clone();
        async move {
            match api::update_notifications(session, &req).await {
                Ok(p) => {
                    items.set(p.preferences);
                    error.set(None);
                    success.set(Some("Saved.".into()));
                }
                Err(err) => {
                    success.set(None);
                    error.set(Some(err.message()));
                }
            }
        }
    });
    let pending = save.pending();
    view! {
        <FormAlert message=error/>
        <FormSuccess message=success/>
        <ul class="checkbox-list">
            {move || {
                items
                    .get()
                    .into_iter()
                    .map(|p| {
                        let kind = p.kind;
                        let id = format!("notify-{kind}");
                        view! {
                            <li>
                                <label for=id.clone()>
                                    <input
                                        id=id.clone()
                                        type="checkbox"
                                        data-kind=kind.as_str()
                                        prop:checked=p.enabled
                                        disabled=move || pending.get()
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            success.set(None);
                                            save.dispatch(UpdateNotificationsRequest::one(kind, on));
                                        }
                                    />
                                    " " {p.description}
                                </label>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
