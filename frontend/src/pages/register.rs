//! `/register`: a customer creates an account, is signed in and lands on the portal.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shared::ErrorCode;
use shared::users::RegisterRequest;
use shared::validate::{DisplayName, Email, Password};

use crate::api;
use crate::components::{FieldState, FormAlert, TextField, set_title};
use crate::session::use_session;

#[component]
pub fn RegisterPage() -> impl IntoView {
    set_title("Create account");
    let session = use_session();
    let navigate = use_navigate();

    let name = FieldState::new("", |v| DisplayName::parse(v).map(drop));
    let email = FieldState::new("", |v| Email::parse(v).map(drop));
    let password = FieldState::new("", |v| Password::parse(v).map(drop));
    let form_error = RwSignal::new(None::<String>);

    let submit = Action::new_local(move |req: &RegisterRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        async move {
            match api::register(&req).await {
                Ok(auth) => {
                    session.sign_in(auth);
                    // A new account is always a customer's, whose home is the portal.
                    navigate("/portal", NavigateOptions::default());
                }
                Err(err) => {
                    let mut fields = err.field_errors();
                    // These codes are about one field even when the server names none.
                    match err.code() {
                        Some(ErrorCode::EmailTaken | ErrorCode::InvalidEmail) => {
                            fields
                                .entry("email".into())
                                .or_insert_with(|| err.message());
                        }
                        Some(ErrorCode::WeakPassword) => {
                            fields
                                .entry("password".into())
                                .or_insert_with(|| err.message());
                        }
                        _ => {}
                    }
                    for (key, field) in [("name", name), ("email", email), ("password", password)] {
                        if let Some(msg) = fields.remove(key) {
                            field.server_error.set(Some(msg));
                        }
                    }
                    form_error.set(Some(err.message()));
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
        let problems: Vec<String> = [name.check(), email.check(), password.check()]
            .into_iter()
            .flatten()
            .collect();
        if !problems.is_empty() {
            form_error.set(Some(problems.join(" ")));
            return;
        }
        form_error.set(None);
        let (Ok(n), Ok(e), Ok(p)) = (
            DisplayName::parse(&name.get()),
            Email::parse(&email.get()),
            Password::parse(&password.get()),
        ) else {
            return; // unreachable: the checks above passed
        };
        submit.dispatch(RegisterRequest {
            name: n.into_inner(),
            email: e.into_inner(),
            password: p.expose().to_owned(),
        });
    };

    view! {
        <section class="card narrow auth-card">
            <h1>"Create your account"</h1>
            <p class="muted">"Customers can open and follow support requests."</p>
            <FormAlert message=form_error/>
            <form class="form" on:submit=on_submit novalidate>
                <TextField
                    id="register-name"
                    label="Name"
                    autocomplete="name"
                    field=name
                />
                <TextField
                    id="register-email"
                    label="Email"
                    kind="email"
                    autocomplete="email"
                    field=email
                />
                <TextField
                    id="register-password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters, with a letter and a digit."
                    field=password
                />
                <button
                    id="register-submit"
                    type="submit"
                    class="btn btn-primary btn-block"
                    disabled=move || pending.get()
                    aria-busy=move || if pending.get() { "true" } else { "false" }
                >
                    {move || if pending.get() { "Creating account…" } else { "Create account" }}
                </button>
            </form>
            <p class="form-footer">
                "Already have an account? " <a href="/login">"Sign in"</a>
            </p>
        </section>
    }
}
