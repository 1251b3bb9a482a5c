//! The admin dashboard placeholder (the customer portal and the agent dashboard live in
//! `portal` and `agent`).
//!
//! Analytics and configuration arrive in a later milestone; until then the page greets the
//! admin and says plainly what will appear, without sample data.

use leptos::prelude::*;
use shared::Role;

use crate::components::{RequireRole, set_title};
use crate::session::use_session;

/// The page frame of a home that is not built yet.
#[component]
fn Home(
    title: &'static str,
    lead: &'static str,
    upcoming: &'static [&'static str],
) -> impl IntoView {
    set_title(title);
    let session = use_session();
    let name = move || session.user().map(|u| u.name).unwrap_or_default();
    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">{title}</h1>
                <p class="greeting" data-testid="greeting">"Welcome, " {name} "."</p>
            </header>
            <div class="card">
                <h2>"Coming soon"</h2>
                <p>{lead}</p>
                <ul class="checklist">
                    {upcoming.iter().map(|item| view! { <li>{*item}</li> }).collect_view()}
                </ul>
            </div>
        </section>
    }
}

#[component]
pub fn AdminDashboard() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Home
                title="Admin dashboard"
                lead="This is where you will run the helpdesk. Reporting and configuration are \
                      not available in this version yet."
                upcoming=&[
                    "Analytics on volume, response times and SLA breaches.",
                    "Journeys: the guided questions customers answer.",
                    "Agents, their shifts and capacity, and SLA policies.",
                ]
            />
        </RequireRole>
    }
}
