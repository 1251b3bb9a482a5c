//! Email notifications on the wire: the kinds of mail, per-user preferences, the unsubscribe
//! link's answer and the admin's view of the outbox.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Role;

/// What a mail is about. Every kind except [`MailKind::AgentReply`] is an automated
/// notification that its recipient can turn off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// To the customer: their ticket was received (number and link).
    TicketOpened,
    /// To the customer: a public reply by staff (the reply itself; cannot be turned off).
    AgentReply,
    /// To the customer: the ticket was resolved (and how to reopen it).
    TicketResolved,
    /// To an agent: a ticket was assigned to them.
    TicketAssigned,
    /// To an agent: the customer replied on their ticket.
    CustomerReplied,
    /// To the assigned agent and every admin: an SLA target of a ticket was breached.
    SlaBreached,
    /// To the assigned agent and every admin: an SLA clock used its warning share
    /// (`sla_warning_percent`) and is about to breach (once per clock).
    SlaWarning,
}

impl MailKind {
    pub const ALL: [MailKind; 7] = [
        MailKind::TicketOpened,
        MailKind::AgentReply,
        MailKind::TicketResolved,
        MailKind::TicketAssigned,
        MailKind::CustomerReplied,
        MailKind::SlaBreached,
        MailKind::SlaWarning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::TicketOpened => "ticket_opened",
            MailKind::AgentReply => "agent_reply",
            MailKind::TicketResolved => "ticket_resolved",
            MailKind::TicketAssigned => "ticket_assigned",
            MailKind::CustomerReplied => "customer_replied",
            MailKind::SlaBreached => "sla_breached",
            MailKind::SlaWarning => "sla_warning",
        }
    }

    /// Automated mail: carries `Auto-Submitted` and a one-click unsubscribe link, and can be
    /// turned off. A staff reply is a person writing and is neither.
    pub fn automated(self) -> bool {
        self != MailKind::AgentReply
    }

    /// The kinds a user of `role` receives and may switch on or off.
    pub fn preferences_for(role: Role) -> &'static [MailKind] {
        match role {
            Role::Customer => &[MailKind::TicketOpened, MailKind::TicketResolved],
            Role::Agent => &[
                MailKind::TicketAssigned,
                MailKind::CustomerReplied,
                MailKind::SlaBreached,
                MailKind::SlaWarning,
            ],
            Role::Admin => &[MailKind::SlaBreached, MailKind::SlaWarning],
        }
    }

    /// One line for the account page.
    pub fn describe(self) -> &'static str {
        match self {
            MailKind::TicketOpened => "Confirmation when I open a ticket",
            MailKind::AgentReply => "Replies from the support team",
            MailKind::TicketResolved => "When my ticket is resolved",
            MailKind::TicketAssigned => "A ticket is assigned to me",
            MailKind::CustomerReplied => "The customer replied on my ticket",
            MailKind::SlaBreached => "An SLA target is breached",
            MailKind::SlaWarning => "An SLA target is about to be breached",
        }
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MailKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MailKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown mail kind `{s}`"))
    }
}

/// One switch of `GET /api/auth/me/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreference {
    pub kind: MailKind,
    /// Whether mail of this kind is sent to the user.
    pub enabled: bool,
    /// What the switch is about, for humans.
    pub description: String,
}

/// The signed-in user's notification switches (only the kinds their role receives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    pub preferences: Vec<NotificationPreference>,
}

impl NotificationPreferences {
    pub fn enabled(&self, kind: MailKind) -> Option<bool> {
        self.preferences
            .iter()
            .find(|p| p.kind == kind)
            .map(|p| p.enabled)
    }
}

/// `PUT /api/auth/me/notifications`: the switches to change; absent ones stay as they are.
/// A kind the user's role does not receive is a 422.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateNotificationsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_opened: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_resolved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_assigned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_replied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_breached: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_warning: Option<bool>,
}

impl UpdateNotificationsRequest {
    /// The requested changes as (kind, enabled).
    pub fn changes(&self) -> Vec<(MailKind, bool)> {
        [
            (MailKind::TicketOpened, self.ticket_opened),
            (MailKind::TicketResolved, self.ticket_resolved),
            (MailKind::TicketAssigned, self.ticket_assigned),
            (MailKind::CustomerReplied, self.customer_replied),
            (MailKind::SlaBreached, self.sla_breached),
            (MailKind::SlaWarning, self.sla_warning),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// A request that sets one switch.
    pub fn one(kind: MailKind, enabled: bool) -> Self {
        let mut req = Self::default();
        let v = Some(enabled);
        match kind {
            MailKind::TicketOpened => req.ticket_opened = v,
            MailKind::TicketResolved => req.ticket_resolved = v,
            MailKind::TicketAssigned => req.ticket_assigned = v,
            MailKind::CustomerReplied => req.customer_replied = v,
            MailKind::SlaBreached => req.sla_breached = v,
            MailKind::SlaWarning => req.sla_warning = v,
            MailKind::AgentReply => {}
        }
        req
    }
}

/// `?token=` of the one-click unsubscribe link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeQuery {
    /// The signed token from the mail's `List-Unsubscribe` header.
    pub token: String,
}

/// The answer to a one-click unsubscribe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unsubscribed {
    /// The kind of mail that is now off for that user.
    pub kind: MailKind,
}

/// Where a mail of the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// A worker holds it and is talking to the SMTP server.
    Sending,
    /// The SMTP server accepted it.
    Sent,
    /// Refused permanently (5xx) or out of attempts.
    Failed,
    /// Not sent on purpose (the recipient has no usable address).
    Suppressed,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Suppressed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Suppressed => "suppressed",
        }
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutboxStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown outbox status `{s}`"))
    }
}

/// One mail of the outbox, as `GET /api/mail/outbox` shows it (bodies left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntryDto {
    pub id: Uuid,
    pub kind: MailKind,
    pub ticket_id: Option<Uuid>,
    pub recipient: String,
    pub subject: String,
    /// The `Message-ID`, made when the mail was queued and kept across retries and resends.
    pub message_id: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The last delivery error (SMTP reply or I/O error), if any.
    pub last_error: Option<String>,
    /// The SMTP server's final reply (e.g. `250 OK queued as …`).
    pub smtp_reply: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/mail/outbox` filters and pagination.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct OutboxListQuery {
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
    /// Only mails in this status.
    pub status: Option<OutboxStatus>,
}

/// What became of a received mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InboundStatus {
    /// It became a ticket, a reply or an internal note.
    Processed,
    /// An automatic reply (out of office, `Auto-Submitted`, a list): kept, nothing done.
    Autoreply,
    /// A delivery status notification: the address it names was marked as bouncing.
    Bounce,
    /// One of our own notifications came back: dropped.
    Own,
    /// Not accepted by a rule (unknown sender with `MAIL_INBOUND_POLICY=known`, a staff
    /// sender without a ticket, a mail over `MAIL_MAX_BYTES`).
    Rejected,
    /// The sender opened too many tickets by mail within the hour.
    RateLimited,
    /// It could not be processed; the raw copy waits for an admin to reprocess it.
    Quarantined,
}

impl InboundStatus {
    pub const ALL: [InboundStatus; 7] = [
        InboundStatus::Processed,
        InboundStatus::Autoreply,
        InboundStatus::Bounce,
        InboundStatus::Own,
        InboundStatus::Rejected,
        InboundStatus::RateLimited,
        InboundStatus::Quarantined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InboundStatus::Processed => "processed",
            InboundStatus::Autoreply => "autoreply",
            InboundStatus::Bounce => "bounce",
            InboundStatus::Own => "own",
            InboundStatus::Rejected => "rejected",
            InboundStatus::RateLimited => "rate_limited",
            InboundStatus::Quarantined => "quarantined",
        }
    }

    /// Whether an admin may run the mail through the ingest again.
    pub fn reprocessable(self) -> bool {
        matches!(
            self,
            InboundStatus::Quarantined | InboundStatus::Rejected | InboundStatus::RateLimited
        )
    }
}

impl std::fmt::Display for InboundStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InboundStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InboundStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown inbound status `{s}`"))
    }
}

/// The outcome of handing one raw mail to the ingest (`POST /api/inbound/email`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestOutcome {
    /// The stored mail (for a duplicate: the one stored first).
    pub inbound_id: Uuid,
    pub status: InboundStatus,
    /// True when this mail had been received before and nothing was done this time.
    pub duplicate: bool,
    /// `new_ticket`, `reply` or `note` for processed mail.
    pub action: Option<String>,
    pub ticket_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub reason: Option<String>,
}

/// One received mail, as `GET /api/mail/inbound` shows it (the raw copy left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundEntryDto {
    pub id: Uuid,
    /// `imap`, `http` or `cli`.
    pub source: String,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub size_bytes: i64,
    pub status: InboundStatus,
    pub action: Option<String>,
    pub reason: Option<String>,
    pub ticket_id: Option<Uuid>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /api/mail/inbound` filters and pagination.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct InboundListQuery {
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
    /// Only mails in this status.
    pub status: Option<InboundStatus>,
}

/// How a message that came by email looked when it arrived: on [`crate::tickets::MessageDto`],
/// and on [`crate::tickets::TicketDto`] for the mail that opened the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailOriginDto {
    /// The stored mail.
    pub inbound_id: Uuid,
    /// The From address.
    pub from: Option<String>,
    /// The whole text as received, quoted history included.
    pub original_text: Option<String>,
    /// The HTML part as received, sanitised (no scripts, styles, event handlers or remote
    /// content), quoted history included.
    pub safe_html: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_their_names() {
        for kind in MailKind::ALL {
            assert_eq!(kind.as_str().parse::<MailKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).expect("serialises");
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert!("nope".parse::<MailKind>().is_err());
    }

    #[test]
    fn agent_replies_are_not_a_preference() {
        for role in Role::ALL {
            assert!(!MailKind::preferences_for(role).contains(&MailKind::AgentReply));
        }
        assert!(!MailKind::AgentReply.automated());
    }

    #[test]
    fn update_requests_refuse_unknown_fields() {
        let ok: UpdateNotificationsRequest =
            serde_json::from_str(r#"{"ticket_opened": false}"#).expect("parses");
        assert_eq!(ok.changes(), vec![(MailKind::TicketOpened, false)]);
        assert!(serde_json::from_str::<UpdateNotificationsRequest>(r#"{"spam": true}"#).is_err());
        assert_eq!(
            UpdateNotificationsRequest::one(MailKind::SlaBreached, true).changes(),
            vec![(MailKind::SlaBreached, true)]
        );
    }
}
