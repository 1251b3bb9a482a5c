//! The live connection to `/ws`: one reconnecting, resuming WebSocket per signed-in tab.
//!
//! [`Live`] is provided as context by the app root. While someone is signed in it keeps a
//! socket open to `/ws?token=…` (same origin, `wss:` on an `https:` page). The server greets
//! with `welcome`; from then on every `event` carries a growing `seq`, and the client remembers
//! the last one. When the socket drops (or goes silent for [`DEAD_AFTER_MS`]) it reconnects with
//! exponential backoff plus jitter (at most [`MAX_BACKOFF_MS`]) and sends
//! `{"type":"resume","after_seq":N}` after the next `welcome`, so the server replays what was
//! missed. A `resync` answer (too much missed), or a welcome without anything to resume from,
//! bumps [`Live::reloads`]: every page that loads data over REST tracks it and loads again.
//!
//! Pages do not see frames: they register handlers with [`Live::on_event`] (called for every
//! event, in order, exactly once even when a replay overlaps live delivery) and follow one
//! ticket's room with [`Live::follow_ticket`]. Staff announce themselves on a ticket with
//! [`Live::announce`] (repeated after every reconnect) and read who else is there with
//! [`Live::here`]. What is not here: toasts (see `components::toast`), the presence heartbeat
//! and display (see `components::presence`) and any REST calls.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ws::{Activity, ClientMsg, EventMsg, PresentUser, ServerMsg};
use shared::{ErrorBody, ErrorCode};
use uuid::Uuid;
use web_sys::js_sys;

use crate::api::ApiError;
use crate::session::Session;

/// Longest wait between two connection attempts.
pub const MAX_BACKOFF_MS: f64 = 30_000.0;
/// Wait before the first retry (doubled per failed attempt).
const FIRST_BACKOFF_MS: f64 = 500.0;
/// A quiet connection sends a `ping` this often.
const PING_EVERY_MS: u32 = 25_000;
/// A connection that has heard nothing (not even a `pong`) for this long is treated as dead.
pub const DEAD_AFTER_MS: f64 = 60_000.0;
/// How many recent `seq`s are remembered to drop duplicates from an overlapping replay.
const SEEN_WINDOW: usize = 1024;

/// How the live link is doing, for the navbar indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Nobody is signed in: no socket.
    Idle,
    /// The first connection of this session is being opened.
    Connecting,
    /// The server has welcomed us; events flow.
    Connected,
    /// The link dropped; waiting to retry (or retrying).
    Reconnecting,
}

type Handler = Arc<dyn Fn(&EventMsg) + Send + Sync>;

/// The live-events handle shared through context. `Copy`, like the session.
#[derive(Clone, Copy)]
pub struct Live {
    state: RwSignal<LinkState>,
    /// Bumped whenever what is on screen must be reloaded over REST.
    reloads: RwSignal<u64>,
    /// Registered event handlers by registration number.
    handlers: StoredValue<BTreeMap<u64, Handler>>,
    next_handler: StoredValue<u64>,
    /// Ticket rooms the pages on screen follow; joined again after every reconnect.
    rooms: StoredValue<BTreeMap<Uuid, usize>>,
    /// The open socket's raw handle, used to send (sending is synchronous in the browser).
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    /// The last `seq` received; `None` before the first event or `welcome` of a session.
    last_seq: StoredValue<Option<i64>>,
    /// Recently received `seq`s, oldest first, for de-duplication.
    seen: StoredValue<(VecDeque<i64>, HashSet<i64>)>,
    /// Bumped on every start and stop; a connection loop from an older generation ends.
    generation: StoredValue<u64>,
    /// Who is on each ticket, as the server last said (staff only; never stored).
    presence: RwSignal<BTreeMap<Uuid, Vec<PresentUser>>>,
    /// Tickets this tab has announced itself on; announced again after every welcome.
    announced: StoredValue<BTreeSet<Uuid>>,
}

/// The handle provided by the app root.
pub fn use_live() -> Live {
    expect_context::<Live>()
}

impl Live {
    /// Creates the handle, provides it as context, and keeps it connected while `session` has
    /// a signed-in user (reconnecting from scratch when the user changes).
    pub fn provide(session: Session) -> Self {
        let live = Live {
            state: RwSignal::new(LinkState::Idle),
            reloads: RwSignal::new(0),
            handlers: StoredValue::new(BTreeMap::new()),
            next_handler: StoredValue::new(0),
            rooms: StoredValue::new(BTreeMap::new()),
            socket: StoredValue::new_local(None),
            last_seq: StoredValue::new(None),
            seen: StoredValue::new((VecDeque::new(), HashSet::new())),
            generation: StoredValue::new(0),
            presence: RwSignal::new(BTreeMap::new()),
            announced: StoredValue::new(BTreeSet::new()),
        };
        provide_context(live);

        let user_id = Memo::new(move |_| session.user().map(|u| u.id));
        Effect::new(move |_| match user_id.get() {
            Some(_) => live.start(session),
            None => live.stop(),
        });
        live
    }

    /// The link state (tracked).
    pub fn state(&self) -> LinkState {
        self.state.get()
    }

    /// A counter that grows whenever data on screen may be stale and must be reloaded over
    /// REST (tracked; read it inside a resource's fetcher).
    pub fn reloads(&self) -> u64 {
        self.reloads.get()
    }

    /// Calls `handler` for every event received from now until the current reactive owner
    /// (the component calling this) is cleaned up.
    pub fn on_event(&self, handler: impl Fn(&EventMsg) + Send + Sync + 'static) {
        let id = self.next_handler.get_value();
        self.next_handler.set_value(id + 1);
        self.handlers.update_value(|h| {
            h.insert(id, Arc::new(handler));
        });
        let handlers = self.handlers;
        on_cleanup(move || {
            handlers.try_update_value(|h| h.remove(&id));
        });
    }

    /// Joins the ticket's room (to get its `new-message` events) until the current reactive
    /// owner is cleaned up; rejoined automatically after a reconnect.
    pub fn follow_ticket(&self, ticket_id: Uuid) {
        let mut first = false;
        self.rooms.update_value(|rooms| {
            let n = rooms.entry(ticket_id).or_insert(0);
            first = *n == 0;
            *n += 1;
        });
        if first {
            self.send(&ClientMsg::JoinTicketRoom {
                id: None,
                ticket_id,
            });
        }
        let live = *self;
        on_cleanup(move || {
            let mut last = false;
            live.rooms.try_update_value(|rooms| {
                if let Some(n) = rooms.get_mut(&ticket_id) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        rooms.remove(&ticket_id);
                        last = true;
                    }
                }
            });
            if last {
                live.send(&ClientMsg::LeaveTicketRoom {
                    id: None,
                    ticket_id,
                });
            }
        });
    }

    /// Tells the server what this tab does on a ticket it follows (staff only): `viewing` (a
    /// heartbeat), `typing`, or `left`. Sent again as `viewing` after a reconnect.
    pub fn announce(&self, ticket_id: Uuid, activity: Activity) {
        self.announced.update_value(|a| {
            if activity == Activity::Left {
                a.remove(&ticket_id);
            } else {
                a.insert(ticket_id);
            }
        });
        if activity == Activity::Left {
            self.presence.update(|p| {
                p.remove(&ticket_id);
            });
        }
        self.send(&ClientMsg::Presence {
            id: None,
            ticket_id,
            activity,
        });
    }

    /// Everyone on a ticket (this user included) as the server last said (tracked).
    pub fn here(&self, ticket_id: Uuid) -> Vec<PresentUser> {
        self.presence
            .with(|p| p.get(&ticket_id).cloned().unwrap_or_default())
    }

    /// True while a page on screen follows this ticket (e.g. to skip a toast about it).
    pub fn follows_ticket(&self, ticket_id: Uuid) -> bool {
        self.rooms
            .try_with_value(|rooms| rooms.contains_key(&ticket_id))
            .unwrap_or(false)
    }

    /// Sends a command if the socket is open; otherwise drops it (room joins are repeated
    /// after every welcome, so nothing is lost).
    fn send(&self, msg: &ClientMsg) {
        let Ok(text) = serde_json::to_string(msg) else {
            return;
        };
        self.socket.with_value(|socket| {
            if let Some(ws) = socket
                && ws.ready_state() == web_sys::WebSocket::OPEN
                && ws.send_with_str(&text).is_err()
            {
                leptos::logging::warn!("live: could not send a command");
            }
        });
    }

    fn start(&self, session: Session) {
        let generation = self.restart();
        self.state.set(LinkState::Connecting);
        spawn_local(self.run(session, generation));
    }

    fn stop(&self) {
        self.restart();
        self.state.set(LinkState::Idle);
    }

    /// Ends any running loop (closing its socket) and forgets the event position, because a
    /// new session is a new event stream. Returns the new generation.
    fn restart(&self) -> u64 {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.close_socket();
        self.last_seq.set_value(None);
        self.seen.set_value((VecDeque::new(), HashSet::new()));
        generation
    }

    fn close_socket(&self) {
        let socket = self.socket.try_update_value(Option::take).flatten();
        if let Some(ws) = socket {
            let _ = ws.close();
        }
    }

    fn is_current(&self, generation: u64) -> bool {
        self.generation.try_get_value() == Some(generation)
    }

    /// Connects, pumps, and reconnects with backoff until the generation changes.
    async fn run(self, session: Session, generation: u64) {
        let mut failures: u32 = 0;
        while self.is_current(generation) {
            let Some(token) = session.token() else {
                break;
            };
            let welcomed = match open(&token) {
                Ok((raw, stream)) => self.pump(session, &token, raw, stream, generation).await,
                Err(err) => {
                    leptos::logging::warn!("live: cannot open the socket: {err}");
                    false
                }
            };
            if !self.is_current(generation) {
                break;
            }
            self.state.set(LinkState::Reconnecting);
            // A connection that got as far as `welcome` starts the backoff over.
            failures = if welcomed {
                0
            } else {
                failures.saturating_add(1)
            };
            TimeoutFuture::new(backoff_ms(failures)).await;
        }
    }

    /// Reads one connection until it ends. Returns whether the server welcomed us.
    async fn pump(
        &self,
        session: Session,
        token: &str,
        raw: web_sys::WebSocket,
        mut stream: WebSocket,
        generation: u64,
    ) -> bool {
        self.socket.set_value(Some(raw));
        let mut welcomed = false;
        let mut last_heard = now_ms();
        loop {
            let tick = TimeoutFuture::new(PING_EVERY_MS);
            match select(stream.next(), tick).await {
                Either::Left((Some(Ok(Message::Text(text))), _)) => {
                    last_heard = now_ms();
                    match serde_json::from_str::<ServerMsg>(&text) {
                        Ok(msg) => {
                            if !self.handle(session, token, msg, &mut welcomed) {
                                break;
                            }
                        }
                        Err(err) => leptos::logging::warn!("live: unreadable frame: {err}"),
                    }
                }
                Either::Left((Some(Ok(Message::Bytes(_))), _)) => last_heard = now_ms(),
                // An error or close event: the stream ends right after; reconnect.
                Either::Left((Some(Err(_)) | None, _)) => break,
                Either::Right(((), _)) => {
                    if !self.is_current(generation) || now_ms() - last_heard > DEAD_AFTER_MS {
                        break;
                    }
                    self.send(&ClientMsg::Ping { id: None });
                }
            }
            if !self.is_current(generation) {
                break;
            }
        }
        if self.is_current(generation) {
            self.close_socket();
        }
        // Dropping `stream` closes the socket if it is still open.
        drop(stream);
        welcomed
    }

    /// Acts on one server message. Returns false when the connection must be given up.
    fn handle(&self, session: Session, token: &str, msg: ServerMsg, welcomed: &mut bool) -> bool {
        match msg {
            ServerMsg::Welcome { last_seq, .. } => {
                *welcomed = true;
                self.state.set(LinkState::Connected);
                match self.last_seq.get_value() {
                    Some(after_seq) => self.send(&ClientMsg::Resume {
                        id: None,
                        after_seq,
                    }),
                    None => {
                        // Nothing to resume from: what is on screen was loaded before this
                        // point, so load it again and follow events from here.
                        self.last_seq.set_value(Some(last_seq));
                        self.reloads.update(|n| *n += 1);
                    }
                }
                let rooms: Vec<Uuid> = self.rooms.with_value(|r| r.keys().copied().collect());
                for ticket_id in rooms {
                    self.send(&ClientMsg::JoinTicketRoom {
                        id: None,
                        ticket_id,
                    });
                }
                // Presence died with the old connection: announce again (after the joins,
                // which the server applies first) and take the lists the server sends back.
                self.presence.set(BTreeMap::new());
                let announced: Vec<Uuid> =
                    self.announced.with_value(|a| a.iter().copied().collect());
                for ticket_id in announced {
                    self.send(&ClientMsg::Presence {
                        id: None,
                        ticket_id,
                        activity: Activity::Viewing,
                    });
                }
            }
            ServerMsg::Presence { ticket_id, here } => {
                self.presence.update(|p| {
                    if here.is_empty() {
                        p.remove(&ticket_id);
                    } else {
                        p.insert(ticket_id, here);
                    }
                });
            }
            ServerMsg::Event(event) => self.dispatch(event),
            ServerMsg::Resync { reason, last_seq } => {
                leptos::logging::log!("live: resync ({reason})");
                self.last_seq.set_value(Some(last_seq));
                self.seen.set_value((VecDeque::new(), HashSet::new()));
                self.reloads.update(|n| *n += 1);
            }
            ServerMsg::Error {
                id: None,
                code,
                message,
                ..
            } if matches!(
                code,
                ErrorCode::TokenExpired
                    | ErrorCode::InvalidToken
                    | ErrorCode::AccountDisabled
                    | ErrorCode::Unauthorized
            ) =>
            {
                // The token is no good: end the session like a REST call would.
                let err = ApiError::Server {
                    status: 401,
                    body: ErrorBody::new(code, message),
                };
                session.expire(token, &err);
                return false;
            }
            ServerMsg::Error {
                id: None,
                code: ErrorCode::AccessRevoked,
                message,
                ..
            } => {
                // The server closes this socket. Reconnecting with the current token tells
                // whether it was revoked too (then the session ends as above) or is a fresh one
                // (this tab just changed the password).
                leptos::logging::log!("live: access revoked ({message}); reconnecting");
                return false;
            }
            ServerMsg::Error { code, message, .. } => {
                leptos::logging::warn!("live: server error {code}: {message}");
            }
            ServerMsg::Ack { .. } | ServerMsg::Pong { .. } => {}
        }
        true
    }

    /// Passes a new event to every handler, once.
    fn dispatch(&self, event: EventMsg) {
        let seq = event.seq;
        let fresh = self
            .seen
            .try_update_value(|(order, set)| {
                if !set.insert(seq) {
                    return false;
                }
                order.push_back(seq);
                if order.len() > SEEN_WINDOW
                    && let Some(old) = order.pop_front()
                {
                    set.remove(&old);
                }
                true
            })
            .unwrap_or(false);
        if !fresh {
            return;
        }
        self.last_seq
            .update_value(|last| *last = Some(last.map_or(seq, |l| l.max(seq))));
        // Handlers may register or drop handlers; call a snapshot.
        let handlers: Vec<Handler> = self.handlers.with_value(|h| h.values().cloned().collect());
        for handler in handlers {
            handler(&event);
        }
    }
}

/// Opens a socket to `/ws?token=…` on the page's origin. The raw handle is kept for sending;
/// gloo-net's wrapper around the same socket delivers the frames as a stream.
fn open(token: &str) -> Result<(web_sys::WebSocket, WebSocket), String> {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location
        .host()
        .map_err(|_| "the page has no host".to_owned())?;
    let token = String::from(js_sys::encode_uri_component(token));
    let url = format!("{scheme}//{host}/ws?token={token}");
    let raw = web_sys::WebSocket::new(&url).map_err(|_| "invalid WebSocket URL".to_owned())?;
    let stream = WebSocket::try_from(raw.clone()).map_err(|e| e.to_string())?;
    Ok((raw, stream))
}

/// Exponential backoff with "equal jitter": half the step fixed, half random, capped.
fn backoff_ms(failures: u32) -> u32 {
    let step = (FIRST_BACKOFF_MS * 2f64.powi(failures.min(16) as i32)).min(MAX_BACKOFF_MS);
    let jittered = step / 2.0 + js_sys::Math::random() * step / 2.0;
    jittered as u32
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Renders the navbar's link indicator: `[data-testid=ws-status]` with
/// `data-state="connected|reconnecting"` (anything but connected counts as reconnecting).
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let live = use_live();
    let connected = move || live.state() == LinkState::Connected;
    let label = move || match live.state() {
        LinkState::Connected => "Live",
        LinkState::Connecting => "Connecting…",
        LinkState::Idle | LinkState::Reconnecting => "Reconnecting…",
    };
    let title = move || {
        if connected() {
            "Live updates are on"
        } else {
            "Live updates are paused; reconnecting"
        }
    };
    view! {
        <span
            class="ws-status"
            class:ws-connected=connected
            data-testid="ws-status"
            data-state=move || if connected() { "connected" } else { "reconnecting" }
            role="status"
            aria-live="polite"
            title=title
        >
            <span class="ws-dot" aria-hidden="true"></span>
            <span class="ws-label">{label}</span>
        </span>
    }
}

/// Wraps `f` so that a burst of calls (e.g. a replay of many events) runs it once, `ms` after
/// the last call.
pub fn debounce(
    ms: u32,
    f: impl Fn() + Send + Sync + 'static,
) -> impl Fn() + Clone + Send + Sync + 'static {
    use std::sync::atomic::{AtomicU64, Ordering};
    let f = Arc::new(f);
    let calls = Arc::new(AtomicU64::new(0));
    move || {
        let mine = calls.fetch_add(1, Ordering::Relaxed) + 1;
        let (f, calls) = (Arc::clone(&f), Arc::clone(&calls));
        spawn_local(async move {
            TimeoutFuture::new(ms).await;
            if calls.load(Ordering::Relaxed) == mine {
                f();
            }
        });
    }
}
