//! The application root: session, live connection, app-wide services and the route table.
//!
//! | path | page | who |
//! |---|---|---|
//! | `/portal` | journey picker + my requests | customer |
//! | `/portal/new/:id` | walk journey `:id` and submit it | customer |
//! | `/portal/tickets/:id` | one request: conversation, close / reopen | customer |
//! | `/agent` | status switch, my tickets, queue | agent |
//! | `/agent/tickets/:id` | one ticket: transcript, conversation, notes, controls, history | agent, admin |
//! | `/admin` | admin dashboard: links and live figures | admin |
//! | `/admin/tickets` | every ticket: filters, sorting, paging, reassignment | admin |
//! | `/admin/tickets/:id` | as `/agent/tickets/:id` (admins can also reassign) | agent, admin |
//! | `/admin/agents` | agents: status, shift, capacity, metrics; add and edit | admin |
//! | `/admin/journeys` | journeys: versions, activate / deactivate / archive | admin |
//! | `/admin/journeys/new`, `/admin/journeys/:id` | the journey builder | admin |
//! | `/admin/mail` | outgoing mail: status, errors, resend | admin |
//! | `/admin/webhooks` | webhook endpoints, delivery log, redeliver, test | admin |
//! | `/admin/settings` | SLA policies and queue settings | admin |
//! | `/admin/calendars` | business-hours calendars for SLA policies, with a live preview | admin |
//! | `/search?q=` | ticket search results with snippets | agent, admin |
//! | `/macros` | canned responses: the shared ones and your own | agent, admin |
//! | `/admin/analytics` | volumes, times, SLA compliance, per-agent table, CSAT, CSV export | admin |
//! | `/survey/:token` | rate a resolution by the signed link of the "resolved" mail | anyone (signed out too) |

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::{
    Clock, Lightbox, LightboxHost, LiveToasts, Navbar, SurveyPage, ToastHost, Toasts,
    clear_image_cache,
};
use crate::pages::{
    AccountPage, AdminDashboard, AdminTicketsPage, AgentDashboard, AgentsPage, AnalyticsPage,
    CalendarsPage, CustomerPortal, CustomerTicketPage, JourneyBuilderPage, JourneysPage, LoginPage,
    MacrosPage, MailPage, NewRequestPage, NotFound, RegisterPage, RootRedirect, SearchPage,
    SettingsPage, StaffTicketPage, WebhooksPage,
};
use crate::session::Session;
use crate::ws::Live;

#[component]
pub fn App() -> impl IntoView {
    // Provided before the router so every page, guard and API call sees the same session.
    let session = Session::restore();
    Clock::provide();
    Toasts::provide();
    Lightbox::provide();
    Live::provide(session);

    // Images fetched for one user are never shown to the next one in this tab.
    let user_id = Memo::new(move |_| session.user().map(|u| u.id));
    Effect::new(move |previous: Option<Option<uuid::Uuid>>| {
        let now = user_id.get();
        if previous.is_some_and(|p| p != now) {
            clear_image_cache();
        }
        now
    });

    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Navbar/>
            <main id="main" class="container" tabindex="-1">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=RootRedirect/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/register") view=RegisterPage/>
                    <Route path=path!("/portal") view=CustomerPortal/>
                    <Route path=path!("/portal/new/:id") view=NewRequestPage/>
                    <Route path=path!("/portal/tickets/:id") view=CustomerTicketPage/>
                    <Route path=path!("/agent") view=AgentDashboard/>
                    <Route path=path!("/agent/tickets/:id") view=StaffTicketPage/>
                    <Route path=path!("/admin") view=AdminDashboard/>
                    <Route path=path!("/admin/tickets") view=AdminTicketsPage/>
                    <Route path=path!("/admin/tickets/:id") view=StaffTicketPage/>
                    <Route path=path!("/admin/agents") view=AgentsPage/>
                    <Route path=path!("/admin/journeys") view=JourneysPage/>
                    // Before `:id`, which would match `new` too: routes match in order.
                    <Route path=path!("/admin/journeys/new") view=JourneyBuilderPage/>
                    <Route path=path!("/admin/journeys/:id") view=JourneyBuilderPage/>
                    <Route path=path!("/admin/mail") view=MailPage/>
                    <Route path=path!("/admin/webhooks") view=WebhooksPage/>
                    <Route path=path!("/admin/settings") view=SettingsPage/>
                    <Route path=path!("/admin/calendars") view=CalendarsPage/>
                    <Route path=path!("/admin/analytics") view=AnalyticsPage/>
                    <Route path=path!("/macros") view=MacrosPage/>
                    <Route path=path!("/search") view=SearchPage/>
                    <Route path=path!("/account") view=AccountPage/>
                    <Route path=path!("/survey/:token") view=SurveyPage/>
                </Routes>
            </main>
            <LiveToasts/>
            <ToastHost/>
            <LightboxHost/>
        </Router>
    }
}
