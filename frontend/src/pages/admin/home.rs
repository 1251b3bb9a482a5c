//! `/admin`: where the admin starts. Links to every admin page, each with a live figure read
//! from the API (the queue, SLA breaches, available agents, active journeys). Reporting over
//! time lives on the analytics page.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::agents::AgentStatus;
use shared::sla::SlaStatus;
use shared::ws::Event;
use shared::{Role, TicketStatus};

use crate::api::{self, ApiError, Assignee, TicketQuery};
use crate::components::icons::{Icon, IconName};
use crate::components::{RequireRole, set_title};
use crate::session::{Session, use_session};
use crate::ws::{debounce, use_live};

#[component]
pub fn AdminDashboard() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Home/>
        </RequireRole>
    }
}

/// The figures on the cards, read together.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    queued: u64,
    breached: u64,
    available: usize,
    agents: usize,
    active_journeys: usize,
}

async fn figures(session: Session) -> Result<Figures, ApiError> {
    let count = |query: TicketQuery| async move {
        api::list_tickets(session, &query).await.map(|p| p.count)
    };
    let queued = count(TicketQuery {
        status: vec![TicketStatus::New],
        assignee: Some(Assignee::Nobody),
        per_page: Some(1),
        ..Default::default()
    })
    .await?;
    let breached = count(TicketQuery {
        status: vec![TicketStatus::New, TicketStatus::Open],
        sla: Some(SlaStatus::Breached),
        per_page: Some(1),
        ..Default::default()
    })
    .await?;
    let agents = api::list_agents(session).await?;
    let journeys = api::all_pages(|page| api::admin_journeys(session, false, page)).await?;
    Ok(Figures {
        queued,
        breached,
        available: agents
            .iter()
            .filter(|a| a.active && a.status == AgentStatus::Available)
            .count(),
        agents: agents.iter().filter(|a| a.active).count(),
        active_journeys: journeys.iter().filter(|j| j.active).count(),
    })
}

#[component]
fn Home() -> impl IntoView {
    set_title("Admin dashboard");
    let session = use_session();
    let live = use_live();
    let name = move || session.user().map(|u| u.name).unwrap_or_default();
    let data = LocalResource::new(move || {
        live.reloads();
        figures(session)
    });
    let refetch = debounce(1_000, move || data.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::NewMessage { .. } => {}
        _ => refetch(),
    });

    // A figure, or a placeholder while loading / after a failure (never a made-up number).
    let figure = move |pick: fn(&Figures) -> String| {
        move || match data.get() {
            Some(Ok(f)) => pick(&f),
            Some(Err(_)) => "unavailable".to_owned(),
            None => "…".to_owned(),
        }
    };
    let failed = move || {
        data.get().and_then(Result::err).map(|err| {
            view! {
                <p class="alert alert-warning" role="status">
                    "The live figures could not be loaded: " {err.message()}
                </p>
            }
        })
    };

    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Admin dashboard"</h1>
                <p class="greeting" data-testid="greeting">"Welcome, " {name} "."</p>
            </header>
            {failed}
            <ul class="admin-grid">
                <li>
                    <A href="/admin/tickets" attr:class="admin-card" attr:data-section="tickets">
                        <span class="admin-card-icon"><Icon name=IconName::Inbox/></span>
                        <span class="admin-card-text">
                            <span class="admin-card-title">"Tickets"</span>
                            <span class="muted">"Every ticket with filters, SLA timers and reassignment."</span>
                            <span class="admin-figure" data-testid="figure-queued">
                                {figure(|f| format!("{} waiting in the queue", f.queued))}
                            </span>
                            <span class="admin-figure" data-testid="figure-breached">
                                {figure(|f| format!("{} past an SLA deadline", f.breached))}
                            </span>
                        </span>
                    </A>
                </li>
                <li>
                    <A href="/admin/agents" attr:class="admin-card" attr:data-section="agents">
                        <span class="admin-card-icon"><Icon name=IconName::User/></span>
                        <span class="admin-card-text">
                            <span class="admin-card-title">"Agents"</span>
                            <span class="muted">"Status, shifts, capacity and performance; add agents."</span>
                            <span class="admin-figure" data-testid="figure-available">
                                {figure(|f| format!("{} of {} active agents available", f.available, f.agents))}
                            </span>
                        </span>
                    </A>
                </li>
                <li>
                    <A href="/admin/journeys" attr:class="admin-card" attr:data-section="journeys">
                        <span class="admin-card-icon"><Icon name=IconName::Note/></span>
                        <span class="admin-card-text">
                            <span class="admin-card-title">"Journeys"</span>
                            <span class="muted">"The guided questions customers answer to open a request."</span>
                            <span class="admin-figure" data-testid="figure-journeys">
                                {figure(|f| format!("{} active", f.active_journeys))}
                            </span>
                        </span>
                    </A>
                </li>
                <li>
                    <A href="/admin/settings" attr:class="admin-card" attr:data-section="settings">
                        <span class="admin-card-icon"><Icon name=IconName::Settings/></span>
                        <span class="admin-card-text">
                            <span class="admin-card-title">"Settings"</span>
                            <span class="muted">"SLA targets per priority and how the queue assigns tickets."</span>
                        </span>
                    </A>
                </li>
            </ul>
            <p class="muted admin-note">
                "Volumes, response times and SLA compliance over time: "
                <a href="/admin/analytics">"Analytics"</a>
                "."
            </p>
        </section>
    }
}
