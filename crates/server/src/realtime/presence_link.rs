//! Presence across server instances on one PostgreSQL database, on its own NOTIFY channel
//! ([`CHANNEL`]) and never through the event log.
//!
//! Each instance publishes its local presence on a ticket (the whole list, so a message
//! replaces the previous one) whenever it changes, and again every
//! [`super::presence::REPUBLISH`]; other instances keep it for
//! [`super::presence::REMOTE_TTL`], so the presence of an instance that died runs out on its
//! own. An instance that (re)connects its listener asks the others to publish everything
//! again. Messages are sent one after another from one task, so they arrive in order; a full
//! outgoing queue drops a message, which the next republish makes good. On SQLite there is a
//! single instance and no link.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use shared::ws::PresentUser;
use tokio::sync::mpsc;
use uuid::Uuid;

/// The PostgreSQL channel carrying presence between instances.
pub const CHANNEL: &str = "helpdesk_presence";
/// Most users one message lists (a NOTIFY payload must stay under 8000 bytes).
const MAX_LISTED: usize = 20;
/// Outgoing messages waiting to be sent.
const QUEUE: usize = 1024;

/// One message on [`CHANNEL`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wire {
    /// `from`'s presence on `ticket` now.
    Here {
        from: Uuid,
        ticket: Uuid,
        here: Vec<PresentUser>,
    },
    /// `from` has just started listening: everyone publish what they have.
    Sync { from: Uuid },
}

/// What arrived from another instance.
#[derive(Debug)]
pub enum Incoming {
    Here {
        from: Uuid,
        ticket: Uuid,
        here: Vec<PresentUser>,
    },
    Sync,
}

/// This instance's end of the link, owned by the hub.
pub struct Link {
    /// This instance's id in the messages.
    pub instance: Uuid,
    outgoing: mpsc::Sender<String>,
}

impl Link {
    /// Starts the listener and the sender on PostgreSQL, returning the link and what arrives
    /// from other instances; `None` on SQLite.
    pub fn start(db: &DatabaseConnection) -> Option<(Self, mpsc::Receiver<Incoming>)> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        let instance = Uuid::new_v4();
        let (outgoing, to_send) = mpsc::channel(QUEUE);
        let (deliver, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(send_loop(db.clone(), to_send));
        tokio::spawn(listen_loop(db.clone(), instance, outgoing.clone(), deliver));
        Some((Self { instance, outgoing }, incoming))
    }

    /// Publishes this instance's presence on a ticket (never waits).
    pub fn publish(&self, ticket: Uuid, mut here: Vec<PresentUser>) {
        here.truncate(MAX_LISTED);
        for user in &mut here {
            if user.name.chars().count() > 60 {
                user.name = user.name.chars().take(60).collect();
            }
        }
        let wire = Wire::Here {
            from: self.instance,
            ticket,
            here,
        };
        if let Ok(text) = serde_json::to_string(&wire)
            && self.outgoing.try_send(text).is_err()
        {
            log::warn!("presence: outgoing queue full; the next republish catches up");
        }
    }
}

async fn send_loop(db: DatabaseConnection, mut to_send: mpsc::Receiver<String>) {
    while let Some(text) = to_send.recv().await {
        let sent = db
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), text.into()],
            ))
            .await;
        if let Err(e) = sent {
            log::warn!("presence: cannot notify other instances: {e}");
        }
    }
}

async fn listen_loop(
    db: DatabaseConnection,
    instance: Uuid,
    outgoing: mpsc::Sender<String>,
    deliver: mpsc::Sender<Incoming>,
) {
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    log::error!("LISTEN {CHANNEL} failed: {e}");
                } else {
                    // What others published while we were not listening: ask again.
                    if let Ok(text) = serde_json::to_string(&Wire::Sync { from: instance }) {
                        let _ = outgoing.try_send(text);
                    }
                    loop {
                        match listener.recv().await {
                            Ok(n) => {
                                let Some(msg) = read(n.payload(), instance) else {
                                    continue;
                                };
                                if deliver.send(msg).await.is_err() {
                                    // The hub is gone.
                                    return;
                                }
                            }
                            Err(e) => {
                                log::warn!("presence listener lost its connection: {e}");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => log::error!("cannot open the presence listener: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A message from another instance; `None` for our own and for unreadable ones.
fn read(payload: &str, instance: Uuid) -> Option<Incoming> {
    match serde_json::from_str::<Wire>(payload) {
        Ok(Wire::Here { from, .. } | Wire::Sync { from }) if from == instance => None,
        Ok(Wire::Here { from, ticket, here }) => Some(Incoming::Here { from, ticket, here }),
        Ok(Wire::Sync { .. }) => Some(Incoming::Sync),
        Err(e) => {
            log::warn!("presence: unreadable message from another instance: {e}");
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn own_messages_are_ignored_and_others_read() {
        let me = Uuid::new_v4();
        let other = Uuid::new_v4();
        let ticket = Uuid::new_v4();
        let here = vec![PresentUser {
            user_id: Uuid::new_v4(),
            name: "Ana".into(),
            typing: true,
        }];
        let mine = serde_json::to_string(&Wire::Here {
            from: me,
            ticket,
            here: here.clone(),
        })
        .unwrap();
        assert!(read(&mine, me).is_none());
        match read(&mine, other) {
            Some(Incoming::Here {
                from,
                ticket: t,
                here: h,
            }) => {
                assert_eq!((from, t, h), (me, ticket, here));
            }
            got => panic!("expected a list, got {got:?}"),
        }
        let sync = serde_json::to_string(&Wire::Sync { from: other }).unwrap();
        assert!(matches!(read(&sync, me), Some(Incoming::Sync)));
        assert!(read("not json", me).is_none());
    }
}
