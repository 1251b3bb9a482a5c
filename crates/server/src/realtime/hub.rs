//! The hub task: owns every connected session and its rooms, reads newly committed events
//! from the log in `seq` order, and fans each one out to the sessions in its rooms.
//!
//! Sessions talk to the hub through [`Realtime`], a cloneable handle sending [`Command`]s over
//! a bounded channel. Each session has a bounded queue; a session whose queue is full is
//! marked lagged and skipped (never waited for), and is told to resync once it has caught up,
//! so one slow client cannot slow the others.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::Role;
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

use super::bus::EventBus;
use crate::entity::{Event, event};

/// Events queued per session before it counts as lagging.
pub const SESSION_QUEUE: usize = 256;
/// Events read from the log per query.
const READ_BATCH: u64 = 500;
/// The hub also polls the log this often, in case a wake-up was lost.
const POLL: Duration = Duration::from_millis(500);

/// One event ready to send: its `seq` and the serialized `{"type":"event",…}` text.
#[derive(Debug)]
pub struct Outgoing {
    pub seq: i64,
    pub text: String,
}

/// What a session gets when it registers.
pub struct Registration {
    pub id: u64,
    pub rx: mpsc::Receiver<Arc<Outgoing>>,
    /// Set by the hub when the session's queue overflowed and events were skipped.
    pub lagged: Arc<AtomicBool>,
}

enum Command {
    Register {
        id: u64,
        user_id: Uuid,
        role: Role,
        rooms: Vec<String>,
        tx: mpsc::Sender<Arc<Outgoing>>,
        lagged: Arc<AtomicBool>,
        done: oneshot::Sender<()>,
    },
    Unregister(u64),
    Join(u64, String),
    Leave(u64, String),
}

struct SessionEntry {
    role: Role,
    rooms: HashSet<String>,
    tx: mpsc::Sender<Arc<Outgoing>>,
    lagged: Arc<AtomicBool>,
    user_id: Uuid,
}

/// Handle to the hub, kept in `AppState`.
#[derive(Clone)]
pub struct Realtime {
    commands: mpsc::Sender<Command>,
    bus: Arc<dyn EventBus>,
    last_seq: Arc<AtomicI64>,
    next_id: Arc<AtomicU64>,
    sessions: Arc<AtomicU64>,
}

impl Realtime {
    /// Starts the hub task on the current runtime.
    pub fn start(db: DatabaseConnection, bus: Box<dyn EventBus>) -> Self {
        let (commands, rx) = mpsc::channel(4096);
        let bus: Arc<dyn EventBus> = Arc::from(bus);
        let handle = Self {
            commands,
            bus: bus.clone(),
            last_seq: Arc::new(AtomicI64::new(0)),
            next_id: Arc::new(AtomicU64::new(1)),
            sessions: Arc::new(AtomicU64::new(0)),
        };
        let hub = Hub {
            db,
            sessions: HashMap::new(),
            rooms: HashMap::new(),
            last_seq: handle.last_seq.clone(),
            session_count: handle.sessions.clone(),
        };
        tokio::spawn(hub.run(rx, bus.subscribe()));
        handle
    }

    /// Wakes the hub after events were committed in this process.
    pub fn poke(&self) {
        self.bus.announce(0);
    }

    /// The newest `seq` the hub has delivered.
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
    }

    /// Connected sessions right now.
    pub fn session_count(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed)
    }

    pub async fn register(
        &self,
        user_id: Uuid,
        role: Role,
        rooms: Vec<String>,
    ) -> Option<Registration> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SESSION_QUEUE);
        let lagged = Arc::new(AtomicBool::new(false));
        let (done, registered) = oneshot::channel();
        self.commands
            .send(Command::Register {
                id,
                user_id,
                role,
                rooms,
                tx,
                lagged: lagged.clone(),
                done,
            })
            .await
            .ok()?;
        registered.await.ok()?;
        Some(Registration { id, rx, lagged })
    }

    pub async fn join(&self, id: u64, room: String) {
        let _ = self.commands.send(Command::Join(id, room)).await;
    }

    pub async fn leave(&self, id: u64, room: String) {
        let _ = self.commands.send(Command::Leave(id, room)).await;
    }

    /// Never blocks: used from a session that is going away.
    pub fn unregister(&self, id: u64) {
        let commands = self.commands.clone();
        tokio::spawn(async move {
            let _ = commands.send(Command::Unregister(id)).await;
        });
    }
}

struct Hub {
    db: DatabaseConnection,
    sessions: HashMap<u64, SessionEntry>,
    rooms: HashMap<String, HashSet<u64>>,
    last_seq: Arc<AtomicI64>,
    session_count: Arc<AtomicU64>,
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut wake: broadcast::Receiver<i64>,
    ) {
        // Start at the end of the log: history is replayed only on request (resume).
        match Event::find()
            .select_only()
            .column_as(event::Column::Seq.max(), "max")
            .into_tuple::<Option<i64>>()
            .one(&self.db)
            .await
        {
            Ok(max) => self
                .last_seq
                .store(max.flatten().unwrap_or(0), Ordering::Release),
            Err(e) => log::error!("hub cannot read the event log: {e}"),
        }
        let mut poll = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                woke = wake.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = woke {
                        break;
                    }
                    // Coalesce a burst of wake-ups into one read.
                    while wake.try_recv().is_ok() {}
                    self.dispatch().await;
                }
                _ = poll.tick() => self.dispatch().await,
            }
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Register {
                id,
                user_id,
                role,
                rooms,
                tx,
                lagged,
                done,
            } => {
                for room in &rooms {
                    self.rooms.entry(room.clone()).or_default().insert(id);
                }
                self.sessions.insert(
                    id,
                    SessionEntry {
                        role,
                        rooms: rooms.into_iter().collect(),
                        tx,
                        lagged,
                        user_id,
                    },
                );
                self.session_count
                    .store(self.sessions.len() as u64, Ordering::Relaxed);
                let _ = done.send(());
            }
            Command::Unregister(id) => self.remove(id),
            Command::Join(id, room) => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.rooms.insert(room.clone());
                    self.rooms.entry(room).or_default().insert(id);
                }
            }
            Command::Leave(id, room) => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.rooms.remove(&room);
                }
                self.drop_member(&room, id);
            }
        }
    }

    /// Takes a session out of a room's member list (and forgets the room once empty).
    fn drop_member(&mut self, room: &str, id: u64) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(&id);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(s) = self.sessions.remove(&id) {
            for room in s.rooms {
                self.drop_member(&room, id);
            }
        }
        self.session_count
            .store(self.sessions.len() as u64, Ordering::Relaxed);
    }

    /// Reads every event after `last_seq` and delivers it.
    async fn dispatch(&mut self) {
        loop {
            let after = self.last_seq.load(Ordering::Acquire);
            let batch = match Event::find()
                .filter(event::Column::Seq.gt(after))
                .order_by_asc(event::Column::Seq)
                .limit(READ_BATCH)
                .all(&self.db)
                .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    log::error!("hub cannot read new events: {e}");
                    return;
                }
            };
            let n = batch.len();
            for e in batch {
                let seq = e.seq;
                self.deliver(e);
                self.last_seq.store(seq, Ordering::Release);
            }
            if (n as u64) < READ_BATCH {
                return;
            }
        }
    }

    /// After a (re)assignment only the new agent (and admins, and the customer) may still see
    /// the ticket: other agents leave its room, so they stop receiving its events.
    fn revoke_after_assignment(&mut self, e: &event::Model) {
        if e.event_type != "ticket-assigned" {
            return;
        }
        let data = &e.payload["data"];
        let Some(ticket_id) = data["ticket"]["id"].as_str() else {
            return;
        };
        let assignee: Option<Uuid> = data["agent_id"].as_str().and_then(|a| a.parse().ok());
        if assignee.is_none() {
            // Back in the queue: every agent may see it again.
            return;
        }
        let room = format!("ticket:{ticket_id}");
        let Some(members) = self.rooms.get(&room).cloned() else {
            return;
        };
        for id in members {
            let leaves = self
                .sessions
                .get(&id)
                .is_some_and(|s| s.role == Role::Agent && Some(s.user_id) != assignee);
            if leaves {
                self.handle(Command::Leave(id, room.clone()));
            }
        }
    }

    fn deliver(&mut self, e: event::Model) {
        self.revoke_after_assignment(&e);
        let rooms: Vec<String> = serde_json::from_value(e.rooms.clone()).unwrap_or_default();
        let mut targets: HashSet<u64> = HashSet::new();
        for room in &rooms {
            if let Some(members) = self.rooms.get(room) {
                targets.extend(members);
            }
        }
        if targets.is_empty() {
            return;
        }
        let Some(text) = event_text(&e) else {
            log::error!("event {} has an unreadable payload", e.seq);
            return;
        };
        let out = Arc::new(Outgoing { seq: e.seq, text });
        let mut gone = Vec::new();
        for id in targets {
            let Some(s) = self.sessions.get(&id) else {
                continue;
            };
            if e.staff_only && !s.role.is_staff() {
                continue;
            }
            if s.lagged.load(Ordering::Acquire) {
                continue;
            }
            match s.tx.try_send(out.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.lagged.store(true, Ordering::Release);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(id),
            }
        }
        for id in gone {
            self.remove(id);
        }
    }
}

/// `{"type":"event","seq":…,"at":…,"event":…,"data":…}` from a stored event.
pub fn event_text(e: &event::Model) -> Option<String> {
    let mut obj = e.payload.as_object()?.clone();
    obj.insert("type".to_owned(), serde_json::json!("event"));
    obj.insert("seq".to_owned(), serde_json::json!(e.seq));
    obj.insert("at".to_owned(), serde_json::to_value(e.created_at).ok()?);
    serde_json::to_string(&obj).ok()
}
