//! One module per screen. Each page owns its own form state and talks to the server only
//! through `crate::api` (and to live events only through `crate::ws`).

mod account;
mod account_tokens;
mod admin;
mod agent;
mod login;
mod macros;
mod not_found;
mod portal;
mod register;
mod root;
mod search;
mod ticket;
mod ticket_related;

pub use account::AccountPage;
pub use admin::{
    AdminDashboard, AdminTicketsPage, AgentsPage, AnalyticsPage, CalendarsPage, JourneyBuilderPage,
    JourneysPage, MailPage, SettingsPage, WebhooksPage,
};
pub use agent::AgentDashboard;
pub use login::LoginPage;
pub use macros::MacrosPage;
pub use not_found::NotFound;
pub use portal::{CustomerPortal, NewRequestPage};
pub use register::RegisterPage;
pub use root::RootRedirect;
pub use search::SearchPage;
pub use ticket::{CustomerTicketPage, StaffTicketPage};
