//! The three role homes: customer portal, agent dashboard, admin dashboard.
//!
//! Tickets, journeys, queues and analytics arrive in later milestones; until then each page
//! greets the user and says plainly what will appear, without sample data.

use leptos::prelude::*;
use shared::Role;

use crate::components::{RequireRole, set_title};
use crate::session::use_session;

/// The page frame shared by the three homes.
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
pub fn CustomerPortal() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Customer]>
            <Home
                title="Customer portal"
                lead="This is where your support requests will live. Nothing is listed yet \
                      because requests cannot be opened in this version."
                upcoming=&[
                    "Open a request by answering a few guided questions.",
                    "See the status of each request and when to expect an answer.",
                    "Talk with the agent handling it, with updates as they happen.",
                ]
            />
        </RequireRole>
    }
}

#[component]
pub fn AgentDashboard() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Agent]>
            <Home
                title="Agent dashboard"
                lead="This is where you will work tickets. The queue and assignment are not \
                      available in this version yet."
                upcoming=&[
                    "Tickets assigned to you, with their response and resolution deadlines.",
                    "The queue of unassigned tickets, and taking one yourself.",
                    "Your availability, and live updates when tickets arrive or change.",
                ]
            />
        </RequireRole>
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
