//! The application root: session, layout and the route table.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::Navbar;
use crate::pages::{
    AccountPage, AdminDashboard, AgentDashboard, CustomerPortal, LoginPage, NotFound, RegisterPage,
    RootRedirect,
};
use crate::session::Session;

#[component]
pub fn App() -> impl IntoView {
    // Provided before the router so every page, guard and API call sees the same session.
    Session::restore();

    view! {
        <Router>
            <Navbar/>
            <main id="main" class="container">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=RootRedirect/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/register") view=RegisterPage/>
                    <Route path=path!("/portal") view=CustomerPortal/>
                    <Route path=path!("/agent") view=AgentDashboard/>
                    <Route path=path!("/admin") view=AdminDashboard/>
                    <Route path=path!("/account") view=AccountPage/>
                </Routes>
            </main>
        </Router>
    }
}
