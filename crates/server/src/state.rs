//! Shared application state handed to every handler through `web::Data<AppState>`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use shared::agents::{AgentDto, AgentStatus};
use uuid::Uuid;

use crate::{
    auth::{JwtKeys, cache::UserCache, throttle::LoginThrottle},
    clock::Clock,
    config::Settings,
    error::ApiError,
    jobs::Jobs,
    list_cache::ListCache,
    realtime::Realtime,
    services::{self, mail::Mailer},
};

#[derive(Clone)]
pub struct AppState {
    /// Connection pool to SQLite or PostgreSQL.
    pub db: DatabaseConnection,
    /// Settings the server was started with (immutable while running).
    pub settings: Arc<Settings>,
    /// Keys for issuing and verifying bearer tokens.
    pub jwt: JwtKeys,
    /// Accounts of signed-in users, checked against the database's `user_version` on every
    /// request.
    pub users: Arc<UserCache>,
    /// Validated journey versions (immutable, so never stale).
    pub journey_versions: Arc<services::journeys::VersionCache>,
    /// Rendered queue pages shared by all staff (see [`crate::list_cache`]).
    pub lists: Arc<ListCache>,
    /// Request counters per API token, user and anonymous address (see
    /// [`crate::rate_limit`]); this instance's only.
    pub rate_limits: Arc<crate::rate_limit::RateLimiter>,
    /// Failed sign-in counters (per client address and email) for brute-force protection.
    pub login_throttle: Arc<LoginThrottle>,
    /// Time source for assignment, shifts and SLA checks (a manual clock in tests).
    pub clock: Arc<dyn Clock>,
    /// Triggers for the background jobs.
    pub jobs: Jobs,
    /// The realtime hub: WebSocket sessions and event fan-out.
    pub realtime: Realtime,
    /// Queues notification mail in the transactions of ticket changes (disabled unless
    /// `MAIL_ENABLED`).
    pub mail: Mailer,
    /// Prometheus metrics of this server (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Sets an agent's status (from REST or the WebSocket) and sets off what follows: an
    /// immediate assignment run when the agent became available or released tickets, and
    /// delivery of the status event.
    pub async fn set_agent_status(
        &self,
        actor: Uuid,
        agent_id: Uuid,
        status: AgentStatus,
    ) -> Result<AgentDto, ApiError> {
        let change =
            services::agents::set_status(&self.db, actor, agent_id, status, self.clock.now())
                .await?;
        if status == AgentStatus::Available || change.released > 0 {
            self.jobs.trigger_assignment();
        }
        self.realtime.poke();
        Ok(change.agent)
    }
}
