//! `/`: sends the visitor to their role's home once the stored token is confirmed, or to
//! `/login` when there is none.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::components::{Loading, SessionProblem};
use crate::session::{AuthState, home_for, use_session};

#[component]
pub fn RootRedirect() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();

    Effect::new(move || {
        let replace = NavigateOptions {
            replace: true,
            ..Default::default()
        };
        match session.state() {
            AuthState::SignedIn(user) => navigate(home_for(user.role), replace),
            AuthState::SignedOut => navigate("/login", replace),
            AuthState::Checking | AuthState::Unconfirmed(_) => {}
        }
    });

    move || match session.state() {
        AuthState::Unconfirmed(msg) => view! { <SessionProblem message=msg/> }.into_any(),
        AuthState::Checking => view! { <Loading label="Checking your session…"/> }.into_any(),
        AuthState::SignedIn(_) | AuthState::SignedOut => {
            view! { <Loading label="Redirecting…"/> }.into_any()
        }
    }
}
