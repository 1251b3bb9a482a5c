//! One WebSocket connection at `GET /ws`.
//!
//! Authentication: `?token=<jwt>` or a first message `{"type":"auth","token":…}` within
//! [`AUTH_TIMEOUT`]. Then the server sends `welcome`, joins the user's role rooms, and loops
//! over client commands, hub events and a heartbeat. `?after_seq=N` (or a `resume` command)
//! replays what the user missed. Live events that arrive before the client's first command are
//! held back briefly so a replay requested right after `welcome` still comes out in order.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query};
use serde::Deserialize;
use shared::{
    ErrorCode, Role,
    ws::{ClientMsg, ServerMsg, rooms},
};

use super::hub::{Outgoing, event_text};
use crate::{
    auth::{AuthUser, extract::authenticate},
    entity::{Event, EventRoom, event},
    error::ApiError,
    services::access,
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
        Some(token) => authenticate(&state, &token).await,
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
    let mut my_rooms: HashSet<String> = role_rooms(&user).into_iter().collect();
    let Some(mut reg) = state
        .realtime
        .register(user.id, user.role, my_rooms.iter().cloned().collect())
        .await
    else {
        close(session, CloseCode::Error, "server shutting down").await;
        return;
    };
    let welcome = ServerMsg::Welcome {
        user_id: user.id,
        role: user.role,
        rooms: {
            let mut r: Vec<String> = my_rooms.iter().cloned().collect();
            r.sort();
            r
        },
        last_seq: state.realtime.last_seq(),
    };
    let mut conn = Conn {
        state: state.clone(),
        user,
        last_sent: 0,
        first_live: None,
        hub_id: reg.id,
    };
    if session.text(json(&welcome)).await.is_err() {
        state.realtime.unregister(reg.id);
        return;
    }
    if let Some(after) = query.after_seq
        && conn.replay(&mut session, &my_rooms, after).await.is_err()
    {
        state.realtime.unregister(reg.id);
        return;
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
                    break Some((CloseCode::Protocol, "protocol error"));
                };
                last_heard = Instant::now();
                match msg {
                    AggregatedMessage::Text(text) => {
                        let result = conn.command(&mut session, &mut my_rooms, &text).await;
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
                let Some(out) = out else { break Some((CloseCode::Away, "server shutting down")) };
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
                    break Some((CloseCode::Away, "heartbeat timeout"));
                }
                if session.ping(b"").await.is_err() {
                    break None;
                }
            }
        }
    };
    state.realtime.unregister(conn.hub_id);
    if let Some((code, description)) = reason {
        close(session, code, description).await;
    }
}

struct Conn {
    state: Arc<AppState>,
    user: AuthUser,
    /// Highest `seq` sent on this connection; live events at or below it are not sent again.
    last_sent: i64,
    /// `seq` of the first live event sent: every later event for this session's rooms has
    /// been sent or is queued, so a replay stops below it.
    first_live: Option<i64>,
    hub_id: u64,
}

impl Conn {
    async fn send_event(&mut self, session: &mut Session, out: &Outgoing) -> Result<(), ()> {
        if out.seq <= self.last_sent {
            return Ok(());
        }
        self.last_sent = out.seq;
        session.text(out.text.clone()).await.map_err(|_| ())
    }

    async fn flush(
        &mut self,
        session: &mut Session,
        queue: VecDeque<Arc<Outgoing>>,
    ) -> Result<(), ()> {
        for out in queue {
            self.send_event(session, &out).await?;
        }
        Ok(())
    }

    async fn reply(&self, session: &mut Session, msg: ServerMsg) -> Result<(), ()> {
        session.text(json(&msg)).await.map_err(|_| ())
    }

    /// Handles one client text frame. `Err` only when the socket is gone.
    async fn command(
        &mut self,
        session: &mut Session,
        my_rooms: &mut HashSet<String>,
        text: &str,
    ) -> Result<(), ()> {
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
            ClientMsg::JoinTicketRoom { id, ticket_id } => {
                match access::visible_ticket(&self.state.db, &self.user, ticket_id, false).await {
                    Ok(_) => {
                        let room = rooms::ticket(ticket_id);
                        my_rooms.insert(room.clone());
                        self.state.realtime.join(self.hub_id, room).await;
                        self.ack(session, id).await
                    }
                    Err(err) => self.reply(session, error_from(id, &err)).await,
                }
            }
            ClientMsg::LeaveTicketRoom { id, ticket_id } => {
                let room = rooms::ticket(ticket_id);
                my_rooms.remove(&room);
                self.state.realtime.leave(self.hub_id, room).await;
                self.ack(session, id).await
            }
            ClientMsg::Resume { id, after_seq } => {
                self.replay(session, my_rooms, after_seq).await?;
                self.ack(session, id).await
            }
        }
    }

    async fn ack(&self, session: &mut Session, id: Option<String>) -> Result<(), ()> {
        match id {
            Some(id) => self.reply(session, ServerMsg::Ack { id }).await,
            None => Ok(()),
        }
    }

    /// Sends, in order, every stored event after `after_seq` for the session's rooms that
    /// this user may see; or `resync` when that is beyond what can be replayed.
    async fn replay(
        &mut self,
        session: &mut Session,
        my_rooms: &HashSet<String>,
        after_seq: i64,
    ) -> Result<(), ()> {
        let db = &self.state.db;
        let resync = |reason: &str, last: i64| ServerMsg::Resync {
            reason: reason.to_owned(),
            last_seq: last,
        };
        let oldest = Event::find()
            .select_only()
            .column_as(event::Column::Seq.min(), "min")
            .into_tuple::<Option<i64>>()
            .one(db)
            .await;
        let Ok(oldest) = oldest else {
            return self
                .reply(
                    session,
                    resync("event log unavailable", self.state.realtime.last_seq()),
                )
                .await;
        };
        if let Some(oldest) = oldest.flatten()
            && after_seq < oldest - 1
        {
            return self
                .reply(
                    session,
                    resync(
                        "beyond the retention window",
                        self.state.realtime.last_seq(),
                    ),
                )
                .await;
        }
        // Everything from the first live event on was (or will be) sent live.
        let mut query = Event::find().filter(event::Column::Seq.gt(after_seq));
        if let Some(first_live) = self.first_live {
            query = query.filter(event::Column::Seq.lt(first_live));
        }
        let mut query = query
            .filter(
                event::Column::Seq.in_subquery(
                    Query::select()
                        .column(crate::entity::event::room::Column::Seq)
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
        if !self.user.role.is_staff() {
            query = query.filter(event::Column::StaffOnly.eq(false));
        }
        let events = match query.all(db).await {
            Ok(events) => events,
            Err(e) => {
                log::error!("replay failed: {e}");
                return self
                    .reply(
                        session,
                        resync("event log unavailable", self.state.realtime.last_seq()),
                    )
                    .await;
            }
        };
        if events.len() as u64 > MAX_REPLAY {
            let last = events.last().map(|e| e.seq).unwrap_or(0);
            self.last_sent = self.last_sent.max(last);
            return self
                .reply(session, resync("too many missed events", last))
                .await;
        }
        for e in events {
            if let Some(text) = event_text(&e) {
                self.send_event(session, &Outgoing { seq: e.seq, text })
                    .await?;
            }
        }
        Ok(())
    }
}

fn error_from(id: Option<String>, err: &ApiError) -> ServerMsg {
    ServerMsg::Error {
        id,
        code: err.code(),
        message: err.to_string(),
    }
}
