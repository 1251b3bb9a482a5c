//! One module per screen. Each page owns its own form state and talks to the server only
//! through `crate::api`.

mod account;
mod dashboards;
mod login;
mod not_found;
mod register;
mod root;

pub use account::AccountPage;
pub use dashboards::{AdminDashboard, AgentDashboard, CustomerPortal};
pub use login::LoginPage;
pub use not_found::NotFound;
pub use register::RegisterPage;
pub use root::RootRedirect;
