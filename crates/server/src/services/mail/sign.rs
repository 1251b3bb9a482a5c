//! Signed tokens of the email channel, all HMAC-SHA256 under `MAIL_SECRET`: the one-click
//! unsubscribe token (a user and a kind of mail), the reply address token (a ticket), our own
//! Message-IDs (a ticket and who the mail went to) and the satisfaction survey token (a ticket
//! and one of its resolutions).
//!
//! Each token is checked without a database lookup; a forged or altered one never verifies.
//! Every MAC is domain-separated by a purpose prefix, so one kind of token is never valid as
//! another.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use shared::mail::MailKind;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Hex digits of the reply token's MAC: 48 bits, short enough for an address's local part.
const REPLY_MAC_HEX: usize = 12;
/// Hex digits of a Message-ID's MAC: 80 bits.
const MESSAGE_ID_MAC_HEX: usize = 20;
/// The `unique` part of a ticket's root Message-ID.
const ROOT_UNIQUE: &str = "root";

/// Who received a mail of ours, as its Message-ID records it: a reply by staff to a mail
/// only staff saw becomes an internal note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Customer,
    Staff,
}

/// What one of our signed Message-IDs says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnMessageId {
    pub ticket_id: Uuid,
    /// `None` for the ticket's root id, which every mail about the ticket references.
    pub audience: Option<Audience>,
}

/// Whether `id` (`<local@host>`) is in `domain`, signed or not.
pub fn in_domain(id: &str, domain: &str) -> bool {
    id.trim()
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .and_then(|i| i.rsplit_once('@'))
        .is_some_and(|(_, host)| host.eq_ignore_ascii_case(domain))
}

/// The signing key, as an HMAC keyed once and cloned for every token.
#[derive(Clone)]
pub struct Signer {
    keyed: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

impl Signer {
    /// A signer for `secret` (HMAC takes keys of any length; an error here would be a bug of
    /// the hmac crate, reported at start).
    pub fn new(secret: &str) -> anyhow::Result<Self> {
        let keyed = HmacSha256::new_from_slice(secret.as_bytes())
            .map_err(|e| anyhow::anyhow!("MAIL_SECRET cannot key HMAC-SHA256: {e}"))?;
        Ok(Self { keyed })
    }

    fn mac(&self, purpose: &str, data: &str) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        mac
    }

    /// `{user}.{kind}.{mac}` for the unsubscribe link of `kind` mail to `user`.
    pub fn unsubscribe_token(&self, user: Uuid, kind: MailKind) -> String {
        let data = format!("{}.{}", user.simple(), kind.as_str());
        let tag = self.mac("unsubscribe", &data).finalize().into_bytes();
        format!("{data}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The user and kind an unsubscribe token names, if its signature is ours.
    pub fn verify_unsubscribe(&self, token: &str) -> Option<(Uuid, MailKind)> {
        let mut parts = token.trim().splitn(3, '.');
        let (user, kind, tag) = (parts.next()?, parts.next()?, parts.next()?);
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let user_id = Uuid::try_parse(user).ok()?;
        let kind: MailKind = kind.parse().ok()?;
        // The user part must be in the form we issue, so one token has one spelling.
        if user != user_id.simple().to_string() {
            return None;
        }
        self.mac("unsubscribe", &format!("{user}.{}", kind.as_str()))
            .verify_slice(&tag)
            .ok()?;
        Some((user_id, kind))
    }

    /// `{ticket}.{resolved_at in µs}.{mac}`: the survey link of one resolution of a ticket.
    /// It names the resolution, so a ticket reopened and resolved again needs a new link; it
    /// expires with the survey's window, which the caller checks against the resolution.
    pub fn survey_token(&self, ticket: Uuid, resolved_at: DateTime<Utc>) -> String {
        let data = format!("{}.{}", ticket.simple(), resolved_at.timestamp_micros());
        let tag = self.mac("survey", &data).finalize().into_bytes();
        format!("{data}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The ticket and resolution instant (µs since the epoch) a survey token names, if its
    /// signature is ours.
    pub fn verify_survey(&self, token: &str) -> Option<(Uuid, i64)> {
        let mut parts = token.trim().splitn(3, '.');
        let (ticket, at, tag) = (parts.next()?, parts.next()?, parts.next()?);
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let ticket_id = Uuid::try_parse(ticket).ok()?;
        let micros: i64 = at.parse().ok()?;
        // One spelling per token: the forms we issue, nothing else.
        if ticket != ticket_id.simple().to_string() || at != micros.to_string() {
            return None;
        }
        self.mac("survey", &format!("{ticket}.{at}"))
            .verify_slice(&tag)
            .ok()?;
        Some((ticket_id, micros))
    }

    /// `{number}-{mac}`: the token of ticket `number`'s reply address.
    pub fn reply_token(&self, ticket_number: i64) -> String {
        let tag = self
            .mac("reply", &ticket_number.to_string())
            .finalize()
            .into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{ticket_number}-{}", &hex[..REPLY_MAC_HEX])
    }

    /// The reply address of ticket `number` under `pattern` (which contains `{token}`).
    pub fn reply_address(&self, pattern: &str, ticket_number: i64) -> String {
        pattern.replace("{token}", &self.reply_token(ticket_number))
    }

    /// The ticket number a reply address names, if it matches `pattern` and its token is
    /// ours. Case-insensitive, since mail systems may change the case of an address.
    pub fn verify_reply_address(&self, pattern: &str, address: &str) -> Option<i64> {
        let (prefix, suffix) = pattern.split_once("{token}")?;
        let address = address.trim().to_ascii_lowercase();
        let token = address
            .strip_prefix(&prefix.to_ascii_lowercase())?
            .strip_suffix(&suffix.to_ascii_lowercase())?;
        let (number, hex) = token.split_once('-')?;
        let ticket_number: i64 = number.parse().ok()?;
        if number != ticket_number.to_string() || hex.len() != REPLY_MAC_HEX {
            return None;
        }
        let tag = decode_hex(hex)?;
        self.mac("reply", number).verify_truncated_left(&tag).ok()?;
        Some(ticket_number)
    }
}

impl Signer {
    /// `<{label}.{ticket}.{audience}.{unique}.{mac}@{domain}>`: a Message-ID of ours that
    /// names its ticket and audience and proves it, so a reply to it threads without any
    /// stored row. `label` (a kind of mail) and `unique` must be lower-case letters, digits
    /// and `-`; the caller makes `unique` unique (a fresh UUID), and the id is stored with the
    /// queued mail, so every retry sends the same one.
    pub fn message_id(
        &self,
        domain: &str,
        label: &str,
        ticket_id: Uuid,
        audience: Option<Audience>,
        unique: &str,
    ) -> String {
        let data = format!(
            "{label}.{}.{}.{unique}",
            ticket_id.simple(),
            audience_code(audience)
        );
        format!("<{data}.{}@{domain}>", self.message_id_mac(&data))
    }

    /// The root Message-ID of ticket `ticket_id`: the acknowledgement's, and referenced by
    /// every other mail about the ticket.
    pub fn root_message_id(&self, domain: &str, ticket_id: Uuid) -> String {
        self.message_id(domain, "ticket", ticket_id, None, ROOT_UNIQUE)
    }

    fn message_id_mac(&self, data: &str) -> String {
        let tag = self.mac("message-id", data).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        hex[..MESSAGE_ID_MAC_HEX].to_owned()
    }

    /// What `id` says, if it is one of ours in `domain` with a valid signature. Letter case
    /// is ignored (every part we issue is lower-case).
    pub fn verify_message_id(&self, domain: &str, id: &str) -> Option<OwnMessageId> {
        let inner = id.trim().strip_prefix('<')?.strip_suffix('>')?;
        let (local, host) = inner.rsplit_once('@')?;
        if !host.eq_ignore_ascii_case(domain) {
            return None;
        }
        let local = local.to_ascii_lowercase();
        let (data, hex) = local.rsplit_once('.')?;
        let mut parts = data.split('.');
        let (label, ticket, audience, unique) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if parts.next().is_some() || !plain(label) || !plain(unique) {
            return None;
        }
        let ticket_id = Uuid::try_parse(ticket).ok()?;
        if ticket != ticket_id.simple().to_string() || hex.len() != MESSAGE_ID_MAC_HEX {
            return None;
        }
        let audience = match audience {
            "c" => Some(Audience::Customer),
            "s" => Some(Audience::Staff),
            "a" => None,
            _ => return None,
        };
        let tag = decode_hex(hex)?;
        self.mac("message-id", data)
            .verify_truncated_left(&tag)
            .ok()?;
        Some(OwnMessageId {
            ticket_id,
            audience,
        })
    }
}

fn audience_code(audience: Option<Audience>) -> &'static str {
    match audience {
        Some(Audience::Customer) => "c",
        Some(Audience::Staff) => "s",
        None => "a",
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unwrap_used)]
    fn keyed(secret: &str) -> Signer {
        Signer::new(secret).unwrap()
    }

    const PATTERN: &str = "support+{token}@example.com";

    #[test]
    fn unsubscribe_tokens_verify_and_name_user_and_kind() {
        let signer = keyed("secret");
        let user = Uuid::new_v4();
        let token = signer.unsubscribe_token(user, MailKind::TicketResolved);
        assert_eq!(
            signer.verify_unsubscribe(&token),
            Some((user, MailKind::TicketResolved))
        );
    }

    #[test]
    fn forged_or_altered_unsubscribe_tokens_are_refused() {
        let signer = keyed("secret");
        let user = Uuid::new_v4();
        let token = signer.unsubscribe_token(user, MailKind::TicketOpened);
        // Another key, another kind, another user, a cut tag, garbage.
        assert_eq!(keyed("other").verify_unsubscribe(&token), None);
        let other_kind = token.replace("ticket_opened", "ticket_resolved");
        assert_eq!(signer.verify_unsubscribe(&other_kind), None);
        let other_user = token.replace(
            &user.simple().to_string(),
            &Uuid::new_v4().simple().to_string(),
        );
        assert_eq!(signer.verify_unsubscribe(&other_user), None);
        assert_eq!(signer.verify_unsubscribe(&token[..token.len() - 4]), None);
        for junk in ["", "a.b.c", "..", "x", &format!("{token}x")] {
            assert_eq!(signer.verify_unsubscribe(junk), None, "{junk}");
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn survey_tokens_verify_and_name_ticket_and_resolution() {
        let signer = keyed("secret");
        let ticket = Uuid::new_v4();
        let at = DateTime::<Utc>::from_timestamp_micros(1_765_000_000_123_456).unwrap();
        let token = signer.survey_token(ticket, at);
        assert_eq!(
            signer.verify_survey(&token),
            Some((ticket, at.timestamp_micros()))
        );
        // Another key, ticket or resolution, a cut tag, an unsubscribe token, garbage.
        assert_eq!(keyed("other").verify_survey(&token), None);
        let moved = token.replace("123456", "123457");
        assert_eq!(signer.verify_survey(&moved), None);
        let other = token.replace(
            &ticket.simple().to_string(),
            &Uuid::new_v4().simple().to_string(),
        );
        assert_eq!(signer.verify_survey(&other), None);
        assert_eq!(signer.verify_survey(&token[..token.len() - 3]), None);
        let unsubscribe = signer.unsubscribe_token(ticket, MailKind::TicketResolved);
        assert_eq!(signer.verify_survey(&unsubscribe), None);
        let padded = token.replacen('.', ".0", 1);
        assert_eq!(signer.verify_survey(&padded), None);
        for junk in ["", "a.b.c", "..", "x", &format!("{token}x")] {
            assert_eq!(signer.verify_survey(junk), None, "{junk}");
        }
    }

    #[test]
    fn reply_addresses_round_trip_and_ignore_case() {
        let signer = keyed("secret");
        let address = signer.reply_address(PATTERN, 1042);
        assert!(address.starts_with("support+1042-"), "{address}");
        assert!(address.ends_with("@example.com"));
        assert_eq!(signer.verify_reply_address(PATTERN, &address), Some(1042));
        assert_eq!(
            signer.verify_reply_address(PATTERN, &address.to_ascii_uppercase()),
            Some(1042)
        );
    }

    #[test]
    fn own_message_ids_name_ticket_and_audience() {
        let signer = keyed("secret");
        let ticket = Uuid::new_v4();
        let unique = Uuid::new_v4().simple().to_string();
        let id = signer.message_id(
            "help.test",
            "agent-reply",
            ticket,
            Some(Audience::Customer),
            &unique,
        );
        assert!(id.starts_with("<agent-reply."), "{id}");
        assert!(id.ends_with("@help.test>"), "{id}");
        let own = OwnMessageId {
            ticket_id: ticket,
            audience: Some(Audience::Customer),
        };
        assert_eq!(signer.verify_message_id("help.test", &id), Some(own));
        assert_eq!(
            signer.verify_message_id("HELP.test", &id.to_ascii_uppercase()),
            Some(own)
        );
        let root = signer.root_message_id("help.test", ticket);
        assert_eq!(root, signer.root_message_id("help.test", ticket));
        assert_eq!(
            signer.verify_message_id("help.test", &root),
            Some(OwnMessageId {
                ticket_id: ticket,
                audience: None
            })
        );
        assert!(in_domain(&root, "help.test"));
        assert!(!in_domain(&root, "other.test"));
    }

    #[test]
    fn forged_message_ids_are_refused() {
        let signer = keyed("secret");
        let ticket = Uuid::new_v4();
        let id = signer.message_id("help.test", "note", ticket, Some(Audience::Staff), "u1");
        let other = Uuid::new_v4().simple().to_string();
        for forged in [
            // Another ticket, another audience, another label, another domain, another key.
            id.replace(&ticket.simple().to_string(), &other),
            id.replace(".s.", ".c."),
            id.replace("<note.", "<agent-reply."),
            id.replace("@help.test", "@evil.test"),
            keyed("other").message_id("help.test", "note", ticket, Some(Audience::Staff), "u1"),
            // The unsigned form and malformed ones.
            format!("<ticket.{}@help.test>", ticket.simple()),
            format!("<ticket.{}.a.root@help.test>", ticket.simple()),
            format!(
                "<ticket.{}.a.root.0123456789abcdef0123@help.test>",
                ticket.simple()
            ),
            id.replace(">", "x>"),
            "<@help.test>".to_owned(),
            "<..a...@help.test>".to_owned(),
            "help.test".to_owned(),
        ] {
            assert_eq!(
                signer.verify_message_id("help.test", &forged),
                None,
                "{forged}"
            );
        }
    }

    #[test]
    fn forged_reply_addresses_are_refused() {
        let signer = keyed("secret");
        let address = signer.reply_address(PATTERN, 1042);
        // The token of another ticket, another key, another pattern, malformed tokens.
        let moved = address.replace("+1042-", "+1043-");
        assert_eq!(signer.verify_reply_address(PATTERN, &moved), None);
        assert_eq!(keyed("other").verify_reply_address(PATTERN, &address), None);
        assert_eq!(
            signer.verify_reply_address("help+{token}@example.com", &address),
            None
        );
        for junk in [
            "support@example.com",
            "support+1042@example.com",
            "support+1042-zz@example.com",
            "support+01042-abcdefabcdef@example.com",
            "support+-abcdefabcdef@example.com",
        ] {
            assert_eq!(signer.verify_reply_address(PATTERN, junk), None, "{junk}");
        }
    }
}
