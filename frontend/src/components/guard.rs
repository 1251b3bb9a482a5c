//! Route guards: a page is rendered only for a confirmed session of an allowed role.
//!
//! No session sends the visitor to `/login` (remembering the page); a wrong role sends the
//! user to their own home. Redirects happen in an effect, after rendering, and replace the
//! history entry so the back button does not bounce between guard and target.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};
use shared::Role;

use crate::components::{Loading, SessionProblem};
use crate::session::{AuthState, home_for, use_session};

/// What the guard does with the current state. Kept in a memo so that a change of user data
/// (e.g. a new name) does not re-create the page and lose its form state.
#[derive(Debug, Clone, PartialEq)]
enum Access {
    Checking,
    Problem(String),
    Granted,
    ToLogin,
    ToHome(&'static str),
}

/// Renders `children` only for signed-in users whose role is in `roles` (any role if empty).
#[component]
pub fn RequireRole(
    /// Roles allowed to see the page; empty means any signed-in user.
    #[prop(optional)]
    roles: &'static [Role],
    children: ChildrenFn,
) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let location = use_location();

    let access = Memo::new(move |_| match session.state() {
        AuthState::Checking => Access::Checking,
        AuthState::Unconfirmed(msg) => Access::Problem(msg),
        AuthState::SignedOut => Access::ToLogin,
        AuthState::SignedIn(user) if roles.is_empty() || roles.contains(&user.role) => {
            Access::Granted
        }
        AuthState::SignedIn(user) => Access::ToHome(home_for(user.role)),
    });

    Effect::new(move |previous: Option<Access>| {
        let replace = NavigateOptions {
            replace: true,
            ..Default::default()
        };
        let now = access.get();
        match &now {
            Access::ToLogin => {
                // Come back here after signing in only if the page was opened without a valid
                // session (a deep link); not when the user signed out while on it.
                if matches!(previous, None | Some(Access::Checking)) {
                    session.remember(location.pathname.get_untracked());
                }
                navigate("/login", replace);
            }
            Access::ToHome(home) => navigate(home, replace),
            Access::Checking | Access::Problem(_) | Access::Granted => {}
        }
        now
    });

    move || match access.get() {
        Access::Checking => view! { <Loading label="Checking your session…"/> }.into_any(),
        Access::Problem(msg) => view! { <SessionProblem message=msg/> }.into_any(),
        Access::Granted => children().into_any(),
        Access::ToLogin | Access::ToHome(_) => view! { <Loading label="Redirecting…"/> }.into_any(),
    }
}
