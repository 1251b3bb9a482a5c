//! The WebSocket protocol at `/ws`, typed for both ends.
//!
//! Every message is a JSON object with a `type`. The server sends events as
//! `{"type":"event","seq":N,"event":"ticket-updated","data":{...},"at":"..."}`; `seq` grows
//! monotonically and a client that reconnects sends `resume` with the last `seq` it saw to get
//! what it missed. Client commands may carry an `id`, echoed in the `ack` or `error` answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    ErrorCode, Role,
    agents::AgentStatus,
    tickets::{MessageDto, TicketDto},
};

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Authenticate (when the token was not in the URL); must be the first message.
    Auth { token: String },
    /// An agent sets their own status.
    AgentStatus {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        status: AgentStatus,
    },
    /// Follow one ticket's conversation (checked like the REST API).
    JoinTicketRoom {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        ticket_id: Uuid,
    },
    LeaveTicketRoom {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        ticket_id: Uuid,
    },
    /// Replay every event after `after_seq` that this user may see, then continue live.
    Resume {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        after_seq: i64,
    },
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Staff only: "I am on this ticket" (`viewing`, repeated as a heartbeat), "I am typing a
    /// reply" (`typing`, repeated while keys are pressed) or "I left" (`left`). Needs the
    /// ticket's room (`join-ticket-room`) first. Ephemeral: never in the event log.
    Presence {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        ticket_id: Uuid,
        activity: Activity,
    },
}

/// What a staff member announces about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Viewing,
    Typing,
    Left,
}

/// One staff member present on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PresentUser {
    pub user_id: Uuid,
    pub name: String,
    /// Typing a reply right now (a few seconds after their last keystroke at most).
    pub typing: bool,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMsg {
    /// Sent once authenticated: who you are, your rooms, and the newest `seq` right now.
    Welcome {
        user_id: Uuid,
        role: Role,
        rooms: Vec<String>,
        last_seq: i64,
    },
    Event(EventMsg),
    /// A command succeeded.
    Ack {
        id: String,
    },
    /// A command failed (or the connection is about to close, without `id`).
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: ErrorCode,
        message: String,
        /// Structured context, as in the REST error body (e.g. the limit that was hit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<serde_json::Value>,
    },
    /// The client missed more than can be replayed: reload state over REST, then resume from
    /// `last_seq`.
    Resync {
        reason: String,
        last_seq: i64,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Staff only: everyone on the ticket right now (the receiver included), ordered by name.
    /// Sent to the staff in the ticket's room whenever that set changes; has no `seq`, is
    /// never replayed, and an empty `here` means nobody is left.
    Presence {
        ticket_id: Uuid,
        here: Vec<PresentUser>,
    },
}

/// One event with its place in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMsg {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened. Serialised as `"event": "<kebab-name>", "data": {...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "kebab-case")]
pub enum Event {
    NewTicket {
        ticket: Box<TicketDto>,
    },
    TicketUpdated {
        ticket: Box<TicketDto>,
    },
    TicketAssigned {
        ticket: Box<TicketDto>,
        agent_id: Option<Uuid>,
        previous_agent_id: Option<Uuid>,
    },
    QueueUpdated {
        queue_length: u64,
    },
    SlaBreach {
        ticket: Box<TicketDto>,
        target: SlaTargetKind,
    },
    /// The configured share of an SLA window is used up (staff only; once per clock).
    SlaWarning {
        ticket: Box<TicketDto>,
        target: SlaTargetKind,
        /// The share that was reached, in percent.
        percent: u8,
    },
    AgentStatusChanged {
        agent_id: Uuid,
        name: String,
        status: AgentStatus,
    },
    NewMessage {
        message: Box<MessageDto>,
    },
    /// `source` was merged into `target`: its messages are `target`'s now (refetch them).
    TicketMerged {
        source: crate::links::TicketRefDto,
        target: crate::links::TicketRefDto,
    },
    /// A link was added to `ticket_id` (staff only; each side gets its own, with the
    /// relation as seen from that side).
    TicketLinked {
        ticket_id: Uuid,
        link: Box<crate::links::TicketLinkDto>,
    },
    /// The link between `ticket_id` and `other` was removed (staff only, each side).
    TicketUnlinked {
        ticket_id: Uuid,
        other: crate::links::TicketRefDto,
    },
    /// The customer rated a resolution of the ticket, or changed the rating (staff only).
    CsatRated {
        ticket_id: Uuid,
        ticket_number: i64,
        rating: crate::csat::CsatRatingDto,
    },
    /// A webhook endpoint failed for too long and was switched off (admins only).
    WebhookDisabled {
        webhook_id: Uuid,
        url: String,
        reason: String,
    },
}

impl Event {
    /// The wire name, e.g. `ticket-updated`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::NewTicket { .. } => "new-ticket",
            Event::TicketUpdated { .. } => "ticket-updated",
            Event::TicketAssigned { .. } => "ticket-assigned",
            Event::QueueUpdated { .. } => "queue-updated",
            Event::SlaBreach { .. } => "sla-breach",
            Event::SlaWarning { .. } => "sla-warning",
            Event::AgentStatusChanged { .. } => "agent-status-changed",
            Event::NewMessage { .. } => "new-message",
            Event::TicketMerged { .. } => "ticket-merged",
            Event::TicketLinked { .. } => "ticket-linked",
            Event::TicketUnlinked { .. } => "ticket-unlinked",
            Event::CsatRated { .. } => "csat-rated",
            Event::WebhookDisabled { .. } => "webhook-disabled",
        }
    }
}

/// Which SLA target was breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTargetKind {
    Response,
    Resolution,
}

/// Room names, in one place.
pub mod rooms {
    use uuid::Uuid;

    pub const ADMINS: &str = "admins";
    pub const AGENTS: &str = "agents";

    pub fn agent(id: Uuid) -> String {
        format!("agent:{id}")
    }

    pub fn customer(id: Uuid) -> String {
        format!("customer:{id}")
    }

    pub fn ticket(id: Uuid) -> String {
        format!("ticket:{id}")
    }

    /// Internal to the server: carries the events that end a user's live sessions (their access
    /// was revoked). No client joins it and nothing in it is ever sent to a client.
    pub fn user(id: Uuid) -> String {
        format!("user:{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_the_documented_shape() {
        let msg = ServerMsg::Event(EventMsg {
            seq: 42,
            at: DateTime::<Utc>::UNIX_EPOCH,
            event: Event::QueueUpdated { queue_length: 3 },
        });
        let json = serde_json::to_value(&msg).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "type": "event",
                "seq": 42,
                "at": "1970-01-01T00:00:00Z",
                "event": "queue-updated",
                "data": {"queue_length": 3}
            })
        );
        let back: ServerMsg = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, msg);
    }

    #[test]
    fn client_commands_parse() {
        let msg: ClientMsg = serde_json::from_str(
            r#"{"type":"join-ticket-room","id":"7","ticket_id":"00000000-0000-0000-0000-000000000001"}"#,
        )
        .expect("parses");
        assert!(matches!(msg, ClientMsg::JoinTicketRoom { id: Some(ref i), .. } if i == "7"));
        let msg: ClientMsg =
            serde_json::from_str(r#"{"type":"resume","after_seq":10}"#).expect("parses");
        assert_eq!(
            msg,
            ClientMsg::Resume {
                id: None,
                after_seq: 10
            }
        );
        let status: ClientMsg =
            serde_json::from_str(r#"{"type":"agent-status","status":"away"}"#).expect("parses");
        assert!(matches!(
            status,
            ClientMsg::AgentStatus {
                status: AgentStatus::Away,
                ..
            }
        ));
        let typing: ClientMsg = serde_json::from_str(
            r#"{"type":"presence","ticket_id":"00000000-0000-0000-0000-000000000001","activity":"typing"}"#,
        )
        .expect("parses");
        assert!(matches!(
            typing,
            ClientMsg::Presence {
                activity: Activity::Typing,
                ..
            }
        ));
        assert!(
            serde_json::from_str::<ClientMsg>(
                r#"{"type":"presence","ticket_id":"00000000-0000-0000-0000-000000000001","activity":"dancing"}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"resume"}"#).is_err());
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"nuke"}"#).is_err());
    }
}
