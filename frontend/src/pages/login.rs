//! `/login`: email + password sign-in. The form is always shown, even to a signed-in user,
//! so that switching accounts is one step.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shared::users::LoginRequest;
use shared::validate::Email;

use crate::api;
use crate::components::{FieldState, FormAlert, TextField, set_title};
use crate::session::use_session;

#[component]
pub fn LoginPage() -> impl IntoView {
    set_title("Sign in");
    let session = use_session();
    let navigate = use_navigate();

    let email = FieldState::new("", |v| Email::parse(v).map(drop));
    // Only presence is checked: the password rules apply when a password is chosen, and an
    // older password must still be accepted here.
    let password = FieldState::required("password");
    let form_error = RwSignal::new(None::<String>);

    let submit = Action::new_local(move |req: &LoginRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        async move {
            match api::login(&req).await {
                Ok(auth) => {
                    let next = session.sign_in(auth);
                    navigate(&next, NavigateOptions::default());
                }
                Err(err) => {
                    form_error.set(Some(err.message()));
                    if let Some(msg) = err.field_errors().get("email") {
                        email.server_error.set(Some(msg.clone()));
                    }
                }
            }
        }
    });
    let pending = submit.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        session.clear_notice();
        let problems: Vec<String> = [email.check(), password.check()]
            .into_iter()
            .flatten()
            .collect();
        if !problems.is_empty() {
            form_error.set(Some(problems.join(" ")));
            return;
        }
        form_error.set(None);
        // The server normalises the address the same way; sending the parsed form keeps
        // what the user sees and what is stored identical.
        let address = Email::parse(&email.get()).map_or_else(|_| email.get(), Email::into_inner);
        submit.dispatch(LoginRequest {
            email: address,
            password: password.get(),
        });
    };

    view! {
        <section class="card narrow auth-card">
            <h1>"Sign in"</h1>
            <p class="muted">"Sign in to follow your requests or work the queue."</p>
            {move || {
                session
                    .notice()
                    .map(|msg| {
                        view! {
                            <div class="alert alert-warning" role="status" data-testid="session-notice">
                                {msg}
                            </div>
                        }
                    })
            }}
            <FormAlert message=form_error/>
            <form class="form" on:submit=on_submit novalidate>
                <TextField
                    id="login-email"
                    label="Email"
                    kind="email"
                    autocomplete="username"
                    field=email
                />
                <TextField
                    id="login-password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    field=password
                />
                <button
                    id="login-submit"
                    type="submit"
                    class="btn btn-primary btn-block"
                    disabled=move || pending.get()
                    aria-busy=move || if pending.get() { "true" } else { "false" }
                >
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="form-footer">
                "New here? " <a href="/register">"Create a customer account"</a>
            </p>
        </section>
    }
}
