//! The event bus: a wake-up signal meaning "new events may be in the log". It carries no data
//! the hub relies on: the hub always reads the log itself.
//!
//! [`LocalBus`] serves a single process (SQLite or one PostgreSQL instance); [`PgBus`] also
//! listens for `NOTIFY helpdesk_events`, which every placement of events sends after it
//! commits (never a writing transaction: a NOTIFY inside it would serialize commits), so an
//! event caused on one instance reaches WebSocket clients connected to another.

use std::time::Duration;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::broadcast;

use crate::services::events::NOTIFY_CHANNEL;

pub trait EventBus: Send + Sync + 'static {
    /// Announces locally committed events (`seq` may be 0 when unknown).
    fn announce(&self, seq: i64);
    /// Wake-ups for the hub.
    fn subscribe(&self) -> broadcast::Receiver<i64>;
}

/// In-process bus on a tokio broadcast channel.
#[derive(Clone)]
pub struct LocalBus {
    tx: broadcast::Sender<i64>,
}

impl LocalBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus for LocalBus {
    fn announce(&self, seq: i64) {
        // No receiver yet is fine: the hub polls the log when it starts.
        let _ = self.tx.send(seq);
    }

    fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.tx.subscribe()
    }
}

/// PostgreSQL bus: local announcements plus `LISTEN helpdesk_events` from every instance.
pub struct PgBus {
    local: LocalBus,
}

impl PgBus {
    /// Starts the listener task; it reconnects on its own if the connection drops.
    pub fn start(db: &DatabaseConnection) -> Self {
        let local = LocalBus::new();
        let pool = db.get_postgres_connection_pool().clone();
        let tx = local.tx.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(NOTIFY_CHANNEL).await {
                            log::error!("LISTEN {NOTIFY_CHANNEL} failed: {e}");
                        } else {
                            log::info!("listening for events from other instances");
                            // A reconnect may have missed notifications: wake the hub.
                            let _ = tx.send(0);
                            loop {
                                match listener.recv().await {
                                    Ok(n) => {
                                        let _ = tx.send(n.payload().parse().unwrap_or(0));
                                    }
                                    Err(e) => {
                                        log::warn!("event listener lost its connection: {e}");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => log::error!("cannot open the event listener: {e}"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Self { local }
    }
}

impl EventBus for PgBus {
    fn announce(&self, seq: i64) {
        self.local.announce(seq);
    }

    fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.local.subscribe()
    }
}

/// The right bus for the database.
pub fn for_database(db: &DatabaseConnection) -> Box<dyn EventBus> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => Box::new(PgBus::start(db)),
        _ => Box::new(LocalBus::new()),
    }
}
