//! One WebSocket connection at `GET /ws`.
//!
//! Authentication: `?token=<jwt>` or a first message `{"type":"auth","token":…}` within
//! [`AUTH_TIMEOUT`]; the token may be an API token with the scope `tickets:read` (checked when
//! the socket opens; the owner's revocation closes it like any session). Then the server sends `welcome`, joins the user's role rooms, and loops
//! over client commands, hub events and a heartbeat. `?after_seq=N` (or a `resume` command)
//! replays what the user missed. Live events that arrive before the client's first command are
//! held back briefly so a replay requested right after `welcome` still comes out in order.
//!
//! The hub owns the session's rooms. A replay starts from the hub's snapshot of them and walks
//! the log forward with the same rules the hub applies live ([`super::access`]), so a replay on
//! an open connection can never show more than a fresh connection would. When the user's access
//! is revoked the hub drops the session and the socket closes with 1008 (policy); when the
//! server shuts down, with 1012 (restart), so clients reconnect and resume elsewhere.
//!
//! Staff announce `presence` on tickets whose room they joined; the hub keeps it (see
//! [`super::presence`]). A socket may send at most
//! [`super::presence::MAX_MESSAGES_PER_SECOND`] presence messages a second: the excess is
//! answered with `rate_limited` and goes no further.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, OnceLock, atomic::Ordering},
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query};
use serde::Deserialize;
use shared::{
    ErrorCode, Role,
    ws::{Activity, ClientMsg, ServerMsg, rooms},
};

use super::{
    access::{self as stream, Change},
    hub::{EndReason, JoinOutcome, Outgoing, PresenceOutcome, event_text_for},
    presence::{self, RateWindow},
};
use crate::{
    auth::{AuthUser, extract::authenticate, scopes},
    entity::{Event, EventRoom, event},
    error::ApiError,
    services::{access, events, events::Revocation},
    state::AppState,
};

/// How long an unauthenticated socket may stay open.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Server heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(25);
/// A client silent for this long is dropped.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Most events one `resume` replays; beyond that the client must resync.
pub const MAX_REPLAY: u64 = 1000;
/// How long live events wait for the client's first command (usually `resume`).
const HOLD_LIVE: Duration = Duration::from_secs(1);
/// Most live events held meanwhile (shared pointers, so cheap); beyond that: resync.
const HOLD_CAPACITY: usize = 4096;
/// Largest accepted client frame.
const MAX_FRAME: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    token: Option<String>,
    after_seq: Option<i64>,
}

/// `GET /ws`: upgrades to a WebSocket.
pub async fn route(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<WsQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::BadRequest(
            ErrorCode::BadRequest,
            format!("expected a WebSocket upgrade: {e}"),
        )
    })?;
    let stream = stream
        .max_frame_size(MAX_FRAME)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME);
    let query = query.into_inner();
    actix_web::rt::spawn(run(state.into_inner(), session, stream, query));
    Ok(response)
}

fn json(msg: &ServerMsg) -> String {
    serde_json::to_string(msg).unwrap_or_else(|_| "{\"type\":\"error\"}".to_owned())
}

fn error_msg(id: Option<String>, err: &ApiError) -> String {
    json(&error_from(id, err))
}

async fn close(mut session: Session, code: CloseCode, description: &str) {
    let _ = session
        .clone()
        .close(Some(CloseReason {
            code,
            description: Some(description.to_owned()),
        }))
        .await;
    let _ = session.text("").await;
}

/// Why a connection ends from the server's side.
enum Ended {
    /// The socket is gone (or cannot be written to).
    Socket,
    /// The user's access was revoked.
    Revoked(Revocation),
    /// The server is shutting down.
    Restarting,
}

/// What ended the session: the reason the hub recorded, or else the socket.
fn ended(flag: &OnceLock<EndReason>) -> Ended {
    match flag.get() {
        Some(EndReason::Revoked(r)) => Ended::Revoked(*r),
        Some(EndReason::Restarting) => Ended::Restarting,
        None => Ended::Socket,
    }
}

/// Tells the client to reconnect (to another instance, after a restart) and resume.
const RESTARTING: &str = "server restarting; reconnect and resume";

/// Tells the client that its access ended (`access_revoked`), then closes with 1008. A client
/// whose current token is still good (it just changed its own password) reconnects; one whose
/// token was revoked is refused on reconnecting, as the REST API would refuse it.
async fn close_revoked(mut session: Session, reason: Revocation) {
    let err = ApiError::Unauthorized(ErrorCode::AccessRevoked, reason.message().to_owned());
    let _ = session.text(error_msg(None, &err)).await;
    close(session, CloseCode::Policy, reason.message()).await;
}

/// The role rooms a user joins automatically.
pub fn role_rooms(user: &AuthUser) -> Vec<String> {
    match user.role {
        Role::Admin => vec![rooms::ADMINS.to_owned()],
        Role::Agent => vec![rooms::AGENTS.to_owned(), rooms::agent(user.id)],
        Role::Customer => vec![rooms::customer(user.id)],
    }
}

async fn run(
    state: Arc<AppState>,
    mut session: Session,
    mut stream: actix_ws::AggregatedMessageStream,
    query: WsQuery,
) {
    // --- authenticate ---
    let token = match query.token {
        Some(t) => Some(t),
        None => match tokio::time::timeout(AUTH_TIMEOUT, stream.recv()).await {
            Ok(Some(Ok(AggregatedMessage::Text(text)))) => match serde_json::from_str(&text) {
                Ok(ClientMsg::Auth { token }) => Some(token),
                _ => None,
            },
            _ => None,
        },
    };
    let user = match token {
        None => Err(ApiError::unauthorized(
            "authenticate with ?token= or a first {\"type\":\"auth\"} message",
        )),
        Some(token) => {
            let need = scopes::need(&actix_web::http::Method::GET, "/ws");
            authenticate(&state, &token, need).await
        }
    };
    let user = match user {
        Ok(user) => user,
        Err(err) => {
            let _ = session.text(error_msg(None, &err)).await;
            close(session, CloseCode::Policy, "authentication failed").await;
            return;
        }
    };

    // --- join ---
    let my_rooms = role_rooms(&user);
    let Some(mut reg) = state
        .realtime
        .register(user.id, user.role, my_rooms.clone())
        .await
    else {
        close(session, CloseCode::Error, "server shutting down").await;
        return;
    };
    let welcome = ServerMsg::Welcome {
        user_id: user.id,
        role: user.role,
        rooms: {
            let mut r = my_rooms;
            r.sort();
            r
        },
        last_seq: state.realtime.last_seq(),
    };
    let mut conn = Conn {
        state: state.clone(),
        user,
        last_sent: 0,
        hub_id: reg.id,
        ended: reg.ended.clone(),
        presence_rate: RateWindow::new(Instant::now()),
    };
    if session.text(json(&welcome)).await.is_err() {
        state.realtime.unregister(reg.id);
        return;
    }
    if let Some(after) = query.after_seq {
        match conn.replay(&mut session, after).await {
            Ok(()) => {}
            Err(Ended::Socket) => {
                state.realtime.unregister(reg.id);
                return;
            }
            Err(Ended::Revoked(reason)) => {
                state.realtime.unregister(reg.id);
                close_revoked(session, reason).await;
                return;
            }
            Err(Ended::Restarting) => {
                close(session, CloseCode::Restart, RESTARTING).await;
                return;
            }
        }
    }

    // --- loop ---
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let mut held: Option<VecDeque<Arc<Outgoing>>> = query.after_seq.is_none().then(VecDeque::new);
    let hold_until = tokio::time::Instant::now() + HOLD_LIVE;
    let reason = loop {
        tokio::select! {
            msg = stream.recv() => {
                let Some(msg) = msg else { break None };
                let Ok(msg) = msg else {
                    break Some(End::Close(CloseCode::Protocol, "protocol error"));
                };
                last_heard = Instant::now();
                match msg {
                    AggregatedMessage::Text(text) => {
                        let result = conn.command(&mut session, &text).await;
                        match result {
                            Err(Ended::Revoked(reason)) => break Some(End::Revoked(reason)),
                            Err(Ended::Restarting) => {
                                break Some(End::Close(CloseCode::Restart, RESTARTING));
                            }
                            _ => {}
                        }
                        // The first command releases held live events (after any replay).
                        if let Some(queue) = held.take()
                            && conn.flush(&mut session, queue).await.is_err()
                        {
                            break None;
                        }
                        if result.is_err() {
                            break None;
                        }
                    }
                    AggregatedMessage::Binary(_) => {
                        let err = ApiError::BadRequest(ErrorCode::BadRequest, "send JSON text frames".into());
                        if session.text(error_msg(None, &err)).await.is_err() {
                            break None;
                        }
                    }
                    AggregatedMessage::Ping(bytes) => {
                        if session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    AggregatedMessage::Pong(_) => {}
                    AggregatedMessage::Close(_) => break None,
                }
            }
            out = reg.rx.recv() => {
                let Some(out) = out else {
                    // The hub dropped this session: revoked, or the server is going away.
                    break Some(match ended(&reg.ended) {
                        Ended::Revoked(reason) => End::Revoked(reason),
                        Ended::Restarting => End::Close(CloseCode::Restart, RESTARTING),
                        Ended::Socket => End::Close(CloseCode::Away, "server shutting down"),
                    });
                };
                match held.as_mut() {
                    Some(queue) if queue.len() < HOLD_CAPACITY => queue.push_back(out),
                    Some(_) => {
                        held = None;
                        reg.lagged.store(true, Ordering::Release);
                    }
                    None => {
                        if conn.send_event(&mut session, &out).await.is_err() {
                            break None;
                        }
                    }
                }
                if reg.lagged.load(Ordering::Acquire) && reg.rx.is_empty() {
                    // Skipped events cannot be recovered from the queue: tell the client.
                    let resync = ServerMsg::Resync {
                        reason: "too far behind".to_owned(),
                        last_seq: state.realtime.last_seq(),
                    };
                    conn.last_sent = conn.last_sent.max(state.realtime.last_seq());
                    state.realtime.count_resync();
                    held = None;
                    reg.lagged.store(false, Ordering::Release);
                    if session.text(json(&resync)).await.is_err() {
                        break None;
                    }
                }
            }
            _ = tokio::time::sleep_until(hold_until), if held.is_some() => {
                if let Some(queue) = held.take()
                    && conn.flush(&mut session, queue).await.is_err()
                {
                    break None;
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    break Some(End::Close(CloseCode::Away, "heartbeat timeout"));
                }
                if session.ping(b"").await.is_err() {
                    break None;
                }
            }
        }
    };
    state.realtime.unregister(conn.hub_id);
    match reason {
        Some(End::Close(code, description)) => close(session, code, description).await,
        Some(End::Revoked(reason)) => close_revoked(session, reason).await,
        None => {}
    }
}

/// How the loop ends when the server closes the socket.
enum End {
    Close(CloseCode, &'static str),
    Revoked(Revocation),
}

struct Conn {
    state: Arc<AppState>,
    user: AuthUser,
    /// Highest `seq` sent on this connection; live events at or below it are not sent again.
    last_sent: i64,
    hub_id: u64,
    /// Set by the hub when it drops the session (revoked access, shutdown).
    ended: Arc<OnceLock<EndReason>>,
    /// This socket's presence messages in the current second.
    presence_rate: RateWindow,
}

impl Conn {
    async fn send_event(&mut self, session: &mut Session, out: &Outgoing) -> Result<(), Ended> {
        if out.seq == 0 {
            // Outside the stream (presence): nothing to order or de-duplicate.
            return session
                .text(out.text.clone())
                .await
                .map_err(|_| Ended::Socket);
        }
        if out.seq <= self.last_sent {
            return Ok(());
        }
        self.last_sent = out.seq;
        session
            .text(out.text.clone())
            .await
            .map_err(|_| Ended::Socket)
    }

    async fn flush(
        &mut self,
        session: &mut Session,
        queue: VecDeque<Arc<Outgoing>>,
    ) -> Result<(), Ended> {
        for out in queue {
            self.send_event(session, &out).await?;
        }
        Ok(())
    }

    async fn reply(&self, session: &mut Session, msg: ServerMsg) -> Result<(), Ended> {
        session.text(json(&msg)).await.map_err(|_| Ended::Socket)
    }

    /// Handles one client text frame. `Err` when the socket is gone or access was revoked.
    async fn command(&mut self, session: &mut Session, text: &str) -> Result<(), Ended> {
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(msg) => msg,
            Err(e) => {
                let err = ApiError::BadRequest(
                    ErrorCode::InvalidJson,
                    format!("unknown or malformed command: {e}"),
                );
                return self.reply(session, error_from(None, &err)).await;
            }
        };
        match msg {
            ClientMsg::Auth { .. } => {
                let err =
                    ApiError::BadRequest(ErrorCode::BadRequest, "already authenticated".into());
                self.reply(session, error_from(None, &err)).await
            }
            ClientMsg::Ping { id } => self.reply(session, ServerMsg::Pong { id }).await,
            ClientMsg::AgentStatus { id, status } => {
                let result = if self.user.role != Role::Agent {
                    Err(ApiError::Forbidden("only agents have a status".into()))
                } else {
                    self.state
                        .set_agent_status(self.user.id, self.user.id, status)
                        .await
                };
                match result {
                    Ok(_) => self.ack(session, id).await,
                    Err(err) => self.reply(session, error_from(id, &err)).await,
                }
            }
            ClientMsg::JoinTicketRoom { id, ticket_id } => match self.join(ticket_id).await {
                Ok(()) => self.ack(session, id).await,
                Err(err) => self.reply(session, error_from(id, &err)).await,
            },
            ClientMsg::LeaveTicketRoom { id, ticket_id } => {
                self.state
                    .realtime
                    .leave(self.hub_id, rooms::ticket(ticket_id))
                    .await;
                self.ack(session, id).await
            }
            ClientMsg::Resume { id, after_seq } => {
                self.replay(session, after_seq).await?;
                self.ack(session, id).await
            }
            ClientMsg::Presence {
                id,
                ticket_id,
                activity,
            } => match self.presence(ticket_id, activity).await {
                Ok(()) => self.ack(session, id).await,
                Err(err) => self.reply(session, error_from(id, &err)).await,
            },
        }
    }

    /// Passes a presence announcement to the hub, within this socket's limits.
    async fn presence(
        &mut self,
        ticket_id: uuid::Uuid,
        activity: Activity,
    ) -> Result<(), ApiError> {
        if !self.user.role.is_staff() {
            return Err(ApiError::Forbidden(
                "only agents and admins announce presence".into(),
            ));
        }
        if !self.presence_rate.allow(Instant::now()) {
            return Err(ApiError::Detailed {
                code: ErrorCode::RateLimited,
                message: format!(
                    "at most {} presence messages a second",
                    presence::MAX_MESSAGES_PER_SECOND
                ),
                details: serde_json::json!({"limit": presence::MAX_MESSAGES_PER_SECOND}),
            });
        }
        let outcome = self
            .state
            .realtime
            .presence(
                self.hub_id,
                ticket_id,
                activity,
                self.user.user.name.clone(),
            )
            .await;
        match outcome {
            PresenceOutcome::Done => Ok(()),
            PresenceOutcome::NotStaff => Err(ApiError::Forbidden(
                "only agents and admins announce presence".into(),
            )),
            // The room is joined only after the same check as `GET /api/tickets/{id}`.
            PresenceOutcome::NotInRoom => Err(ApiError::Detailed {
                code: ErrorCode::NotFound,
                message: "not in this ticket's room: join it first (join-ticket-room)".into(),
                details: serde_json::json!({"ticket_id": ticket_id}),
            }),
            PresenceOutcome::TooManyTickets => Err(ApiError::Detailed {
                code: ErrorCode::RateLimited,
                message: format!(
                    "present on at most {} tickets at once; leave one first",
                    presence::MAX_TICKETS_PER_SOCKET
                ),
                details: serde_json::json!({"max_tickets": presence::MAX_TICKETS_PER_SOCKET}),
            }),
            PresenceOutcome::Gone => Err(ApiError::Unauthorized(
                ErrorCode::InvalidToken,
                "this connection has ended".into(),
            )),
        }
    }

    /// Checks the user may see the ticket, then has the hub join its room at a point of the
    /// stream no older than the check; answers only once the join is applied.
    async fn join(&self, ticket_id: uuid::Uuid) -> Result<(), ApiError> {
        // A check older than what the hub remembers is simply made again.
        for _ in 0..3 {
            let checked_at = events::committed_position(&self.state.db).await?;
            access::visible_ticket(&self.state.db, &self.user, ticket_id, false).await?;
            match self
                .state
                .realtime
                .join(self.hub_id, ticket_id, checked_at)
                .await
            {
                JoinOutcome::Joined => return Ok(()),
                JoinOutcome::Lost => return Err(ApiError::NotFound("ticket")),
                JoinOutcome::Gone => {
                    return Err(ApiError::Unauthorized(
                        ErrorCode::InvalidToken,
                        "this connection has ended".into(),
                    ));
                }
                JoinOutcome::Stale => continue,
            }
        }
        Err(ApiError::Conflict(
            ErrorCode::Conflict,
            "the ticket keeps changing hands; try again".into(),
        ))
    }

    async fn ack(&self, session: &mut Session, id: Option<String>) -> Result<(), Ended> {
        match id {
            Some(id) => self.reply(session, ServerMsg::Ack { id }).await,
            None => Ok(()),
        }
    }

    /// Sends, in order, every stored event after `after_seq` that this user may see now; or
    /// `resync` when that is beyond what can be replayed.
    ///
    /// The rooms are the hub's, as of its position; entries after that position that change
    /// access (an assignment taking a ticket away, a revocation) are applied in order, exactly
    /// as the hub applies them live. Agents also get nothing about a ticket that is now
    /// someone else's, except the assignment that took it from them.
    async fn replay(&mut self, session: &mut Session, after_seq: i64) -> Result<(), Ended> {
        let Some(snapshot) = self.state.realtime.snapshot(self.hub_id).await else {
            return Err(ended(&self.ended));
        };
        let last = self.state.realtime.last_seq();
        let realtime = &self.state.realtime;
        let resync = |reason: &str, last_seq: i64| {
            realtime.count_resync();
            ServerMsg::Resync {
                reason: reason.to_owned(),
                last_seq,
            }
        };
        let db = &self.state.db;
        let oldest = Event::find()
            .select_only()
            .column_as(event::Column::Seq.min(), "min")
            .into_tuple::<Option<i64>>()
            .one(db)
            .await;
        let Ok(oldest) = oldest else {
            return self
                .reply(session, resync("event log unavailable", last))
                .await;
        };
        if let Some(oldest) = oldest.flatten()
            && after_seq < oldest - 1
        {
            return self
                .reply(session, resync("beyond the retention window", last))
                .await;
        }
        let me = self.user.id;
        let role = self.user.role;
        let mut my_rooms = snapshot.rooms;
        my_rooms.insert(rooms::user(me));
        // From the hub's position on, access changes must be read even where they precede
        // `after_seq`; events the client gets are those after `after_seq`.
        let from = after_seq.min(snapshot.position);
        let mut query = Event::find()
            .filter(event::Column::Seq.gt(from))
            .filter(
                sea_orm::Condition::any()
                    .add(event::Column::Seq.gt(after_seq))
                    .add(event::Column::EventType.is_in(stream::CHANGE_TYPES)),
            )
            .filter(
                event::Column::Id.in_subquery(
                    Query::select()
                        .column(crate::entity::event::room::Column::EventId)
                        .from(EventRoom)
                        .and_where(
                            crate::entity::event::room::Column::Room
                                .is_in(my_rooms.iter().cloned()),
                        )
                        .to_owned(),
                ),
            )
            .order_by_asc(event::Column::Seq)
            .limit(MAX_REPLAY + 1);
        if !role.is_staff() {
            query = query.filter(event::Column::StaffOnly.eq(false));
        }
        let events = match query.all(db).await {
            Ok(events) => events,
            Err(e) => {
                log::error!("replay failed: {e}");
                return self
                    .reply(session, resync("event log unavailable", last))
                    .await;
            }
        };
        if events.len() as u64 > MAX_REPLAY {
            let last = events.last().map(|e| e.position()).unwrap_or(0);
            self.last_sent = self.last_sent.max(last);
            return self
                .reply(session, resync("too many missed events", last))
                .await;
        }
        let owners = match role {
            Role::Agent => match stream::current_assignees(db, &events).await {
                Ok(owners) => owners,
                Err(e) => {
                    log::error!("replay failed: {e}");
                    return self
                        .reply(session, resync("event log unavailable", last))
                        .await;
                }
            },
            _ => HashMap::new(),
        };
        for e in events {
            let change = stream::change_of(&e);
            if let Some(Change::Revoked(r)) = &change {
                if r.user_id == me {
                    return Err(Ended::Revoked(r.reason));
                }
                continue;
            }
            let seq = e.position();
            let send = seq > after_seq && self.may_receive(&e, &my_rooms, &owners);
            // As live: the assignment that takes a ticket away still reaches its room's
            // members, who leave the room with it.
            if let Some(Change::Assigned { ticket, agent }) = change
                && seq > snapshot.position
                && stream::loses_ticket(role, me, agent)
            {
                my_rooms.remove(&rooms::ticket(ticket));
            }
            if send && let Some(text) = event_text_for(&e, role.is_staff()) {
                self.send_event(
                    session,
                    &Outgoing {
                        seq,
                        text: text.into(),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Whether a replayed event reaches this user (see [`stream::may_receive`]).
    fn may_receive(
        &self,
        e: &event::Model,
        my_rooms: &HashSet<String>,
        owners: &HashMap<uuid::Uuid, Option<uuid::Uuid>>,
    ) -> bool {
        stream::may_receive(e, self.user.role, self.user.id, my_rooms, owners)
    }
}

fn error_from(id: Option<String>, err: &ApiError) -> ServerMsg {
    let body = err.body();
    ServerMsg::Error {
        id,
        code: body.code,
        message: body.error,
        details: body.details,
    }
}
