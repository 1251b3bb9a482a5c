//! Shared application state handed to every handler through `web::Data<AppState>`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{JwtKeys, throttle::LoginThrottle},
    clock::Clock,
    config::Settings,
    jobs::Jobs,
    realtime::Realtime,
};

#[derive(Clone)]
pub struct AppState {
    /// Connection pool to SQLite or PostgreSQL.
    pub db: DatabaseConnection,
    /// Settings the server was started with (immutable while running).
    pub settings: Arc<Settings>,
    /// Keys for issuing and verifying bearer tokens.
    pub jwt: JwtKeys,
    /// Failed sign-in counters (per client address and email) for brute-force protection.
    pub login_throttle: Arc<LoginThrottle>,
    /// Time source for assignment, shifts and SLA checks (a manual clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Triggers for the background jobs.
    pub jobs: Jobs,
    /// The realtime hub: WebSocket sessions and event fan-out.
    pub realtime: Realtime,
}
