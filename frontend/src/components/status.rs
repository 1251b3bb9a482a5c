//! How waiting, failure and emptiness look: the loading indicator, the form error alert, the
//! panel shown when the session cannot be confirmed, load errors with a retry, empty lists, and
//! the document title.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api::ApiError;
use crate::components::icons::{Icon, IconName};
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

/// A failed load: the reason, and a retry button when the caller can retry.
#[component]
pub fn ErrorPanel(
    #[prop(into)] message: String,
    #[prop(optional)] on_retry: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="alert alert-error load-error" role="alert" data-testid="load-error">
            <p>{message}</p>
            {on_retry
                .map(|retry| {
                    view! {
                        <button type="button" class="btn btn-secondary btn-small" on:click=move |_| retry.run(())>
                            <Icon name=IconName::Refresh/>
                            "Try again"
                        </button>
                    }
                })}
        </div>
    }
}

/// Shown when a list has nothing in it, saying why and what will fill it.
#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    view! {
        <div class="empty" data-testid="empty">
            <Icon name=IconName::Inbox class="empty-icon"/>
            <p class="empty-title">{title}</p>
            {hint.map(|h| view! { <p class="muted">{h}</p> })}
        </div>
    }
}

/// Where a loaded list stands, for choosing between spinner, error, empty state and rows.
/// Kept in a memo so the rows are not rebuilt while the list stays `Ready`.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading,
    Failed(String),
    Empty,
    Ready,
}

/// The [`LoadState`] of a resource holding `Result<T, ApiError>`.
pub fn load_state<T: Send + Sync + 'static>(
    resource: LocalResource<Result<T, ApiError>>,
    is_empty: impl Fn(&T) -> bool + Send + Sync + 'static,
) -> Memo<LoadState> {
    Memo::new(move |_| {
        resource.with(|value| match value {
            None => LoadState::Loading,
            Some(Err(err)) => LoadState::Failed(err.message()),
            Some(Ok(v)) if is_empty(v) => LoadState::Empty,
            Some(Ok(_)) => LoadState::Ready,
        })
    })
}
