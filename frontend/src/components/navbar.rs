//! The top bar: product name, the links of the signed-in user's role, the live-connection
//! indicator, who is signed in, and the logout button. Signed-out visitors get the sign-in and
//! register links instead. Admins also get the API reference, which the server serves outside
//! the app (so it opens in a new tab instead of going through the router). Staff get the
//! ticket search box (`components::search`).

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::Role;

use crate::components::NavSearch;
use crate::session::{AuthState, home_for, role_label, use_session};
use crate::ws::LiveIndicator;

/// The links each role gets, besides the account page: (href, label, exact match only).
/// A home that has pages below it is marked current only on itself.
fn links_for(role: Role) -> &'static [(&'static str, &'static str, bool)] {
    match role {
        Role::Customer => &[("/portal", "My requests", false)],
        Role::Agent => &[("/agent", "Dashboard", false), ("/macros", "Macros", false)],
        Role::Admin => &[
            ("/admin", "Dashboard", true),
            ("/admin/tickets", "Tickets", false),
            ("/admin/agents", "Agents", false),
            ("/admin/journeys", "Journeys", false),
            ("/admin/analytics", "Analytics", false),
            ("/admin/mail", "Mail", false),
            ("/admin/webhooks", "Webhooks", false),
            ("/macros", "Macros", false),
            ("/admin/calendars", "Calendars", false),
            ("/admin/settings", "Settings", false),
        ],
    }
}

#[component]
pub fn Navbar() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();

    let logout = move |_| {
        session.sign_out();
        navigate("/login", NavigateOptions::default());
    };

    // Only the parts that depend on who is signed in re-render.
    let signed_in = move || {
        session.user().map(|user| {
            let role = user.role;
            view! {
                <ul class="nav-links">
                    {links_for(role)
                        .iter()
                        .map(|(href, label, exact)| {
                            view! { <li><A href=*href exact=*exact>{*label}</A></li> }
                        })
                        .collect_view()}
                    {(role == Role::Admin).then(|| view! {
                        <li>
                            <a href="/api/docs/" target="_blank" rel="noopener" data-testid="api-docs-link">
                                "API docs"
                                <span class="visually-hidden">" (opens in a new tab)"</span>
                            </a>
                        </li>
                    })}
                    <li><A href="/account">"Account"</A></li>
                </ul>
                {role.is_staff().then(|| view! { <NavSearch/> })}
                <div class="nav-user">
                    <LiveIndicator/>
                    <span class="current-user" data-testid="current-user">{user.name}</span>
                    <span class=format!("badge badge-{}", role.as_str()) data-testid="current-role">
                        {role_label(role)}
                    </span>
                    <button id="logout" type="button" class="btn btn-ghost" on:click=logout.clone()>
                        "Log out"
                    </button>
                </div>
            }
        })
    };

    let signed_out = move || {
        matches!(session.state(), AuthState::SignedOut).then(|| {
            view! {
                <ul class="nav-links nav-guest">
                    <li><A href="/login">"Sign in"</A></li>
                    <li><A href="/register">"Create account"</A></li>
                </ul>
            }
        })
    };

    // The brand leads to the user's home, or to `/` which sorts that out.
    let brand_href = move || {
        session
            .user()
            .map(|u| home_for(u.role).to_owned())
            .unwrap_or_else(|| "/".to_owned())
    };

    view! {
        <header class="navbar">
            <nav class="navbar-inner" aria-label="Main">
                <a class="brand" href=brand_href>
                    <span class="brand-mark" aria-hidden="true">"H"</span>
                    "Helpdesk"
                </a>
                {signed_in}
                {signed_out}
            </nav>
        </header>
    }
}
