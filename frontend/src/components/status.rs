//! How waiting and failure look: the loading indicator, the form error alert, the panel shown
//! when the session cannot be confirmed, and the document title.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::session::use_session;

/// A visible, announced "something is loading" line.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

/// The form-level error alert, rendered only while there is a message.
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|msg| {
            view! {
                <div class="alert alert-error form-error" role="alert">
                    {msg}
                </div>
            }
        })
    }
}

/// Shown instead of a page when the stored token could not be checked (server down, 500…):
/// the reason, a retry, and a way out.
#[component]
pub fn SessionProblem(#[prop(into)] message: String) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    view! {
        <section class="card narrow">
            <h1>"Cannot confirm your session"</h1>
            <div class="alert alert-error" role="alert">{message}</div>
            <div class="actions">
                <button type="button" class="btn btn-primary" on:click=move |_| session.retry()>
                    "Try again"
                </button>
                <button
                    type="button"
                    class="btn btn-secondary"
                    on:click=move |_| {
                        session.sign_out();
                        navigate("/login", NavigateOptions::default());
                    }
                >
                    "Sign in again"
                </button>
            </div>
        </section>
    }
}

/// Sets the tab title to "<page> · Helpdesk".
pub fn set_title(page: &str) {
    document().set_title(&format!("{page} · Helpdesk"));
}
