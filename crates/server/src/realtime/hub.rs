//! The hub task: owns every connected session and its rooms, places newly committed events in
//! the stream ([`events::place`]), reads them from the log in `seq` order, and fans each one
//! out to the sessions in its rooms.
//!
//! Sessions talk to the hub through [`Realtime`], a cloneable handle sending [`Command`]s over
//! a bounded channel. Each session has a bounded queue; a session whose queue is full is
//! marked lagged and skipped (never waited for), and is told to resync once it has caught up,
//! so one slow client cannot slow the others.
//!
//! Who receives what is decided at each event's point of the stream: an agent who loses a
//! ticket leaves its room at the `ticket-assigned` entry, a user whose access is revoked is
//! dropped (and their sockets closed) at the `access-revoked` entry, and a join is admitted
//! only if no assignment between the session's permission check and the hub's position took
//! the ticket away. See [`super::access`].
//!
//! The hub also keeps who is on which ticket ([`super::presence`]): staff in a ticket's room
//! announce themselves, and whenever the set changes the staff in that room get a `presence`
//! message. Presence is not part of the stream (no `seq`, never stored, never replayed); it
//! ends with the session, with leaving the room, or when its announcements run out, and
//! reaches other instances through [`super::presence_link`].

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::{
    Role,
    ws::{Activity, ServerMsg},
};
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

use super::{
    access::{self, Change},
    bus::EventBus,
    presence::{self, PresenceBook, Refusal},
    presence_link::{Incoming, Link},
};
use crate::{
    entity::{Event, event},
    services::events::{self, AccessRevoked, Revocation},
};

/// Events queued per session before it counts as lagging.
pub const SESSION_QUEUE: usize = 256;
/// Events read from the log per query.
const READ_BATCH: u64 = 500;
/// The hub also polls the log this often, in case a wake-up was lost.
const POLL: Duration = Duration::from_millis(500);
/// Recent assignments remembered to decide joins that were checked a moment ago.
const ASSIGNMENT_LOG: usize = 65_536;

/// One event ready to send: its `seq` and the serialized `{"type":"event",…}` text. A `seq` of
/// 0 marks a message outside the stream (`presence`), sent as it comes.
#[derive(Debug)]
pub struct Outgoing {
    pub seq: i64,
    /// The frame as sent. Every socket the event goes to is handed the same buffer (cloning a
    /// `ByteString` shares it), so fan-out copies no text per connection.
    pub text: bytestring::ByteString,
}

/// The answer to a presence announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceOutcome {
    Done,
    /// Only staff announce presence.
    NotStaff,
    /// The session has not joined the ticket's room (or lost it).
    NotInRoom,
    /// The session is present on as many tickets as it may be.
    TooManyTickets,
    /// The session is no longer registered.
    Gone,
}

/// What a session gets when it registers.
pub struct Registration {
    pub id: u64,
    pub rx: mpsc::Receiver<Arc<Outgoing>>,
    /// Set by the hub when the session's queue overflowed and events were skipped.
    pub lagged: Arc<AtomicBool>,
    /// Set by the hub, before it drops the session (which ends `rx`), to say why.
    pub ended: Arc<OnceLock<EndReason>>,
}

/// Why the hub dropped a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The user's access was revoked.
    Revoked(Revocation),
    /// The server is shutting down: the client should reconnect (to another instance) and
    /// resume.
    Restarting,
}

/// The answer to a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    Joined,
    /// The ticket was assigned to someone else after the permission check.
    Lost,
    /// The check is older than the assignments the hub remembers: check again.
    Stale,
    /// The session is no longer registered.
    Gone,
}

/// A session's rooms as of the hub's position `position`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub position: i64,
    pub rooms: HashSet<String>,
}

enum Command {
    Register {
        id: u64,
        user_id: Uuid,
        role: Role,
        rooms: Vec<String>,
        tx: mpsc::Sender<Arc<Outgoing>>,
        lagged: Arc<AtomicBool>,
        ended: Arc<OnceLock<EndReason>>,
        done: oneshot::Sender<()>,
    },
    Unregister(u64),
    /// Drops every session as [`EndReason::Restarting`].
    Shutdown(oneshot::Sender<()>),
    Join(PendingJoin),
    Leave(u64, String),
    Snapshot(u64, oneshot::Sender<Option<Snapshot>>),
    Presence {
        id: u64,
        ticket: Uuid,
        activity: Activity,
        name: String,
        done: oneshot::Sender<PresenceOutcome>,
    },
}

/// A join waiting for the hub to reach the position its permission check was made at.
struct PendingJoin {
    id: u64,
    ticket: Uuid,
    /// The log was complete up to here before the ticket was read.
    checked_at: i64,
    done: oneshot::Sender<JoinOutcome>,
}

/// One assignment, remembered for deciding joins.
struct Assignment {
    seq: i64,
    ticket: Uuid,
    agent: Option<Uuid>,
}

struct SessionEntry {
    role: Role,
    rooms: HashSet<String>,
    tx: mpsc::Sender<Arc<Outgoing>>,
    lagged: Arc<AtomicBool>,
    ended: Arc<OnceLock<EndReason>>,
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
    counters: Arc<Counters>,
    /// Writes this process committed (each pokes the hub).
    local_writes: Arc<AtomicU64>,
}

/// Delivery counters since start, for the metrics.
#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    dropped: AtomicU64,
    resyncs: AtomicU64,
}

/// What [`Realtime::stats`] reports.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Connected sessions.
    pub sessions: u64,
    /// Events queued to sessions.
    pub queued: u64,
    /// Events skipped for sessions whose queue was full.
    pub dropped: u64,
    /// `resync` messages sent.
    pub resyncs: u64,
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
            counters: Arc::new(Counters::default()),
            local_writes: Arc::new(AtomicU64::new(0)),
        };
        let mut hub = Hub {
            db,
            sessions: HashMap::new(),
            rooms: HashMap::new(),
            last_seq: handle.last_seq.clone(),
            session_count: handle.sessions.clone(),
            counters: handle.counters.clone(),
            assignments: VecDeque::new(),
            assignments_from: 0,
            pending_joins: Vec::new(),
            presence: PresenceBook::default(),
            link: None,
            last_republish: Instant::now(),
        };
        let remote = Link::start(&hub.db).map(|(link, incoming)| {
            hub.link = Some(link);
            incoming
        });
        tokio::spawn(hub.run(rx, bus.subscribe(), remote));
        handle
    }

    /// Wakes the hub after events were committed in this process.
    pub fn poke(&self) {
        self.local_writes.fetch_add(1, Ordering::AcqRel);
        self.bus.announce(0);
    }

    /// How many times this process has poked the hub after a commit.
    pub fn local_writes(&self) -> u64 {
        self.local_writes.load(Ordering::Acquire)
    }

    /// The newest `seq` the hub has delivered.
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
    }

    /// Connected sessions right now.
    pub fn session_count(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed)
    }

    /// Sessions and delivery counters, for the metrics.
    pub fn stats(&self) -> Stats {
        Stats {
            sessions: self.session_count(),
            queued: self.counters.queued.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            resyncs: self.counters.resyncs.load(Ordering::Relaxed),
        }
    }

    /// Counts a `resync` sent by a session.
    pub fn count_resync(&self) {
        self.counters.resyncs.fetch_add(1, Ordering::Relaxed);
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
        let ended = Arc::new(OnceLock::new());
        let (done, registered) = oneshot::channel();
        self.commands
            .send(Command::Register {
                id,
                user_id,
                role,
                rooms,
                tx,
                lagged: lagged.clone(),
                ended: ended.clone(),
                done,
            })
            .await
            .ok()?;
        registered.await.ok()?;
        Some(Registration {
            id,
            rx,
            lagged,
            ended,
        })
    }

    /// Joins a ticket's room once the hub has reached `checked_at`, the log position before
    /// the session checked that the user may see the ticket; answers after the join is applied
    /// (or refused because the ticket changed hands since the check).
    pub async fn join(&self, id: u64, ticket: Uuid, checked_at: i64) -> JoinOutcome {
        let (done, answer) = oneshot::channel();
        let join = PendingJoin {
            id,
            ticket,
            checked_at,
            done,
        };
        if self.commands.send(Command::Join(join)).await.is_err() {
            return JoinOutcome::Gone;
        }
        answer.await.unwrap_or(JoinOutcome::Gone)
    }

    /// Records what a session announced about a ticket (see [`PresenceOutcome`]).
    pub async fn presence(
        &self,
        id: u64,
        ticket: Uuid,
        activity: Activity,
        name: String,
    ) -> PresenceOutcome {
        let (done, answer) = oneshot::channel();
        let cmd = Command::Presence {
            id,
            ticket,
            activity,
            name,
            done,
        };
        if self.commands.send(cmd).await.is_err() {
            return PresenceOutcome::Gone;
        }
        answer.await.unwrap_or(PresenceOutcome::Gone)
    }

    pub async fn leave(&self, id: u64, room: String) {
        let _ = self.commands.send(Command::Leave(id, room)).await;
    }

    /// The session's rooms as the hub has them now, with the position they are valid at;
    /// `None` once the session is no longer registered.
    pub async fn snapshot(&self, id: u64) -> Option<Snapshot> {
        let (done, answer) = oneshot::channel();
        self.commands.send(Command::Snapshot(id, done)).await.ok()?;
        answer.await.ok().flatten()
    }

    /// Ends every session with [`EndReason::Restarting`] (their sockets close with 1012) and
    /// returns once the hub has dropped them.
    pub async fn close_all(&self) {
        let (done, answer) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = answer.await;
        }
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
    /// The hub's position: every event up to it has been delivered.
    last_seq: Arc<AtomicI64>,
    session_count: Arc<AtomicU64>,
    counters: Arc<Counters>,
    /// The latest assignments, oldest first, at most [`ASSIGNMENT_LOG`].
    assignments: VecDeque<Assignment>,
    /// `assignments` holds every assignment after this `seq`.
    assignments_from: i64,
    /// Joins whose check is ahead of the hub's position.
    pending_joins: Vec<PendingJoin>,
    /// Who is on which ticket (ephemeral; never in the log).
    presence: PresenceBook,
    /// Presence to and from other instances (PostgreSQL only).
    link: Option<Link>,
    /// When this instance last published all its presence again.
    last_republish: Instant,
}

impl Hub {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut wake: broadcast::Receiver<i64>,
        mut remote: Option<mpsc::Receiver<Incoming>>,
    ) {
        // Start at the end of the log: history is replayed only on request (resume).
        match events::committed_position(&self.db).await {
            Ok(start) => {
                self.last_seq.store(start, Ordering::Release);
                self.assignments_from = start;
            }
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
                incoming = async {
                    match remote.as_mut() {
                        Some(r) => r.recv().await,
                        None => std::future::pending().await,
                    }
                } => match incoming {
                    Some(incoming) => self.remote_presence(incoming),
                    None => remote = None,
                },
                _ = poll.tick() => {
                    self.dispatch().await;
                    self.sweep_presence();
                }
            }
        }
    }

    fn position(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
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
                ended,
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
                        ended,
                        user_id,
                    },
                );
                self.session_count
                    .store(self.sessions.len() as u64, Ordering::Relaxed);
                let _ = done.send(());
            }
            Command::Unregister(id) => self.remove(id),
            Command::Shutdown(done) => {
                let ids: Vec<u64> = self.sessions.keys().copied().collect();
                self.end_sessions(ids, EndReason::Restarting);
                let _ = done.send(());
            }
            Command::Join(join) => {
                if join.checked_at > self.position() {
                    // Events up to the check are not dispatched yet: decide once they are.
                    self.pending_joins.push(join);
                } else {
                    let outcome = self.try_join(join.id, join.ticket, join.checked_at);
                    let _ = join.done.send(outcome);
                }
            }
            Command::Leave(id, room) => self.leave(id, &room),
            Command::Presence {
                id,
                ticket,
                activity,
                name,
                done,
            } => {
                let outcome = self.announce(id, ticket, activity, &name);
                let _ = done.send(outcome);
            }
            Command::Snapshot(id, done) => {
                let snapshot = self.sessions.get(&id).map(|s| Snapshot {
                    position: self.position(),
                    rooms: s.rooms.clone(),
                });
                let _ = done.send(snapshot);
            }
        }
    }

    /// Admits a session to a ticket's room unless an assignment after `checked_at` (and up to
    /// the hub's position) took the ticket away from its user. Assignments after the hub's
    /// position are applied to the room as they are dispatched.
    fn try_join(&mut self, id: u64, ticket: Uuid, checked_at: i64) -> JoinOutcome {
        let Some(s) = self.sessions.get_mut(&id) else {
            return JoinOutcome::Gone;
        };
        if checked_at < self.assignments_from {
            return JoinOutcome::Stale;
        }
        let latest = self
            .assignments
            .iter()
            .rev()
            .take_while(|a| a.seq > checked_at)
            .find(|a| a.ticket == ticket);
        if latest.is_some_and(|a| access::loses_ticket(s.role, s.user_id, a.agent)) {
            return JoinOutcome::Lost;
        }
        let room = shared::ws::rooms::ticket(ticket);
        s.rooms.insert(room.clone());
        self.rooms.entry(room).or_default().insert(id);
        JoinOutcome::Joined
    }

    /// Decides the joins whose check the hub's position has now reached.
    fn settle_pending_joins(&mut self) {
        if self.pending_joins.is_empty() {
            return;
        }
        let position = self.position();
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_joins)
            .into_iter()
            .partition(|j| j.checked_at <= position);
        self.pending_joins = waiting;
        for join in ready {
            let outcome = self.try_join(join.id, join.ticket, join.checked_at);
            let _ = join.done.send(outcome);
        }
    }

    fn leave(&mut self, id: u64, room: &str) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.rooms.remove(room);
        }
        self.drop_member(room, id);
        // Whoever leaves a ticket's room (or is taken out of it) is no longer on the ticket.
        if let Some(ticket) = ticket_of_room(room)
            && self.presence.leave(id, ticket)
        {
            self.presence_changed(ticket);
        }
    }

    /// Applies a presence announcement from a session: staff only, in the ticket's room.
    fn announce(
        &mut self,
        id: u64,
        ticket: Uuid,
        activity: Activity,
        name: &str,
    ) -> PresenceOutcome {
        let Some(s) = self.sessions.get(&id) else {
            return PresenceOutcome::Gone;
        };
        if !s.role.is_staff() {
            return PresenceOutcome::NotStaff;
        }
        let in_room = s.rooms.contains(&shared::ws::rooms::ticket(ticket));
        if activity != Activity::Left && !in_room {
            return PresenceOutcome::NotInRoom;
        }
        let user_id = s.user_id;
        let arriving = !self.presence.is_present(id, ticket);
        match self
            .presence
            .announce(id, user_id, name, ticket, activity, Instant::now())
        {
            Ok(true) => self.presence_changed(ticket),
            // Nothing changed for the others, but a newcomer (another tab of someone already
            // here) still needs to know who is here.
            Ok(false) if arriving && activity != Activity::Left => {
                self.show_presence_to(ticket, &[id]);
            }
            Ok(false) => {}
            Err(Refusal::TooManyTickets) => return PresenceOutcome::TooManyTickets,
        }
        PresenceOutcome::Done
    }

    /// The local presence on a ticket changed: tell other instances and show it.
    fn presence_changed(&mut self, ticket: Uuid) {
        if let Some(link) = &self.link {
            link.publish(ticket, self.presence.local_view(ticket));
        }
        self.show_presence(ticket);
    }

    /// Sends who is on a ticket to the staff in its room.
    fn show_presence(&mut self, ticket: Uuid) {
        let room = shared::ws::rooms::ticket(ticket);
        let Some(members) = self.rooms.get(&room) else {
            return;
        };
        let members: Vec<u64> = members.iter().copied().collect();
        self.show_presence_to(ticket, &members);
    }

    /// Sends who is on a ticket to the given sessions, staff only. A full queue skips the
    /// message without marking the session lagged: presence is not part of the stream, and
    /// the next change sends the whole list again.
    fn show_presence_to(&mut self, ticket: Uuid, ids: &[u64]) {
        let msg = ServerMsg::Presence {
            ticket_id: ticket,
            here: self.presence.view(ticket),
        };
        let Ok(text) = serde_json::to_string(&msg) else {
            return;
        };
        let out = Arc::new(Outgoing {
            seq: 0,
            text: text.into(),
        });
        for id in ids {
            let Some(s) = self.sessions.get(id) else {
                continue;
            };
            if !s.role.is_staff() {
                continue;
            }
            match s.tx.try_send(out.clone()) {
                Ok(()) => {
                    self.counters.queued.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Ends presence that ran out; republishes this instance's presence when it is time.
    fn sweep_presence(&mut self) {
        let now = Instant::now();
        let expired = self.presence.expire(now);
        for ticket in expired.local {
            self.presence_changed(ticket);
        }
        for ticket in expired.remote {
            self.show_presence(ticket);
        }
        if self.link.is_some() && now.duration_since(self.last_republish) >= presence::REPUBLISH {
            self.last_republish = now;
            self.republish();
        }
    }

    /// Publishes this instance's presence on every ticket again.
    fn republish(&self) {
        if let Some(link) = &self.link {
            for ticket in self.presence.local_tickets() {
                link.publish(ticket, self.presence.local_view(ticket));
            }
        }
    }

    /// Applies what another instance published.
    fn remote_presence(&mut self, incoming: Incoming) {
        match incoming {
            Incoming::Here { from, ticket, here } => {
                if self.presence.set_remote(from, ticket, here, Instant::now()) {
                    self.show_presence(ticket);
                }
            }
            Incoming::Sync => self.republish(),
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
        for ticket in self.presence.drop_session(id) {
            self.presence_changed(ticket);
        }
    }

    /// Places newly committed events (PostgreSQL), then reads every event after `last_seq` and
    /// delivers it.
    async fn dispatch(&mut self) {
        if let Err(e) = events::place(&self.db).await {
            log::error!("hub cannot place new events: {e}");
        }
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
                    self.settle_pending_joins();
                    return;
                }
            };
            let n = batch.len();
            for e in batch {
                let seq = e.position();
                self.deliver(e);
                self.last_seq.store(seq, Ordering::Release);
            }
            self.settle_pending_joins();
            if (n as u64) < READ_BATCH {
                return;
            }
        }
    }

    /// Applies what an entry changes about access, at its point of the stream. Returns the
    /// sessions that still get this entry although it just took them out of a room (an agent
    /// hears of the assignment that took a ticket away), or `None` for entries that are not
    /// for clients at all.
    fn apply_change(&mut self, e: &event::Model) -> Option<Vec<u64>> {
        match access::change_of(e) {
            Some(Change::Assigned { ticket, agent }) => {
                self.remember_assignment(e.position(), ticket, agent);
                Some(self.revoke_after_assignment(ticket, agent))
            }
            Some(Change::Revoked(revoked)) => {
                self.revoke_user(&revoked);
                None
            }
            None => (e.event_type != crate::services::events::ACCESS_REVOKED).then(Vec::new),
        }
    }

    fn remember_assignment(&mut self, seq: i64, ticket: Uuid, agent: Option<Uuid>) {
        if self.assignments.len() == ASSIGNMENT_LOG
            && let Some(oldest) = self.assignments.pop_front()
        {
            self.assignments_from = oldest.seq;
        }
        self.assignments
            .push_back(Assignment { seq, ticket, agent });
    }

    /// After a (re)assignment only the new agent (and admins, and the customer) may still see
    /// the ticket: other agents leave its room, so they stop receiving its events. Returns the
    /// sessions that left.
    fn revoke_after_assignment(&mut self, ticket: Uuid, assignee: Option<Uuid>) -> Vec<u64> {
        let room = shared::ws::rooms::ticket(ticket);
        let Some(members) = self.rooms.get(&room).cloned() else {
            return Vec::new();
        };
        let mut left = Vec::new();
        for id in members {
            let leaves = self
                .sessions
                .get(&id)
                .is_some_and(|s| access::loses_ticket(s.role, s.user_id, assignee));
            if leaves {
                self.leave(id, &room);
                left.push(id);
            }
        }
        left
    }

    /// Ends every session of a user whose access was revoked: nothing after this entry reaches
    /// them, and their sockets close with the reason.
    fn revoke_user(&mut self, revoked: &AccessRevoked) {
        let ids: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.user_id == revoked.user_id)
            .map(|(id, _)| *id)
            .collect();
        self.end_sessions(ids, EndReason::Revoked(revoked.reason));
    }

    /// Drops sessions, telling each why first. Dropping a queue's sender ends the session's
    /// stream after what is already queued.
    fn end_sessions(&mut self, ids: Vec<u64>, reason: EndReason) {
        for id in ids {
            if let Some(s) = self.sessions.get(&id) {
                let _ = s.ended.set(reason);
            }
            self.remove(id);
        }
    }

    fn deliver(&mut self, e: event::Model) {
        let Some(leavers) = self.apply_change(&e) else {
            return;
        };
        let rooms: Vec<String> = serde_json::from_value(e.rooms.clone()).unwrap_or_default();
        let mut targets: HashSet<u64> = leavers.into_iter().collect();
        for room in &rooms {
            if let Some(members) = self.rooms.get(room) {
                targets.extend(members);
            }
        }
        if targets.is_empty() {
            return;
        }
        let Some(text) = event_text(&e) else {
            log::error!("event {} has an unreadable payload", e.id);
            return;
        };
        let out = Arc::new(Outgoing {
            seq: e.position(),
            text: text.into(),
        });
        // Customers get the ticket without SLA internals; made once, when first needed.
        let mut customer_out: Option<Option<Arc<Outgoing>>> = None;
        let mut gone = Vec::new();
        for id in targets {
            let Some(s) = self.sessions.get(&id) else {
                continue;
            };
            if e.staff_only && !s.role.is_staff() {
                continue;
            }
            if s.lagged.load(Ordering::Acquire) {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let msg = if s.role.is_staff() {
                out.clone()
            } else {
                let made = customer_out.get_or_insert_with(|| {
                    event_text_for(&e, false).map(|text| {
                        Arc::new(Outgoing {
                            seq: e.position(),
                            text: text.into(),
                        })
                    })
                });
                match made {
                    Some(m) => m.clone(),
                    None => continue,
                }
            };
            match s.tx.try_send(msg) {
                Ok(()) => {
                    self.counters.queued.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
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

/// The ticket of a `ticket:{id}` room.
fn ticket_of_room(room: &str) -> Option<Uuid> {
    room.strip_prefix("ticket:")?.parse().ok()
}

/// `{"type":"event","seq":…,"at":…,"event":…,"data":…}` from a stored event.
pub fn event_text(e: &event::Model) -> Option<String> {
    event_text_for(e, true)
}

/// The event's text for a staff member or (`staff == false`) a customer, whose copy of a
/// ticket carries no SLA internals (see `TicketDto::for_customer`).
pub fn event_text_for(e: &event::Model, staff: bool) -> Option<String> {
    let mut obj = e.payload.as_object()?.clone();
    if !staff
        && let Some(data) = obj.get_mut("data").and_then(|d| d.as_object_mut())
        && let Some(ticket) = data.get_mut("ticket")
    {
        let dto: shared::tickets::TicketDto = serde_json::from_value(ticket.clone()).ok()?;
        *ticket = serde_json::to_value(dto.for_customer()).ok()?;
    }
    obj.insert("type".to_owned(), serde_json::json!("event"));
    obj.insert("seq".to_owned(), serde_json::json!(e.position()));
    obj.insert("at".to_owned(), serde_json::to_value(e.created_at).ok()?);
    serde_json::to_string(&obj).ok()
}
