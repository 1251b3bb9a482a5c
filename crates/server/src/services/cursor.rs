//! Opaque list cursors (`?after=`): the sort key of the last row a page showed, signed so a
//! client can only hand back what the server gave out.
//!
//! A cursor is `base64url(JSON).base64url(MAC)`: the JSON names the list and its order (a
//! cursor of the ticket list by number is not one of the list by creation time) and holds the
//! row's key — its timestamp and the list's unique tiebreaker (ticket number, message id). The
//! MAC is HMAC-SHA256 under the server's `JWT_SECRET`, domain-separated from its other uses.
//! Keyset pages ask for the rows strictly after that key in the list's order, so rows created
//! meanwhile never shift a page: nothing is skipped, nothing is shown twice.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shared::ErrorCode;
use uuid::Uuid;

use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in a cursor (128 bits).
const MAC_BYTES: usize = 16;
/// Longest cursor accepted before decoding anything.
const MAX_LEN: usize = 512;
const PURPOSE: &[u8] = b"helpdesk list cursor\0";

/// The key of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Which list and order (e.g. `tickets:created_at:desc`).
    #[serde(rename = "l")]
    pub list: String,
    /// The row's timestamp, when the order has one.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// A ticket number.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    /// A row id.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
}

/// The 400 `invalid_cursor` answer.
pub fn invalid() -> ApiError {
    ApiError::BadRequest(
        ErrorCode::InvalidCursor,
        "the cursor is not one this list handed out (use `next` as it came)".to_owned(),
    )
}

/// The relative link to the page after `cursor`: `path` with the request's query string,
/// minus `page` and `after`, plus `after=<cursor>` (cursors need no escaping).
pub fn next_link(path: &str, query_string: &str, cursor: &str) -> String {
    let mut parts: Vec<&str> = query_string
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split('=').next().unwrap_or_default();
            name != "page" && name != "after"
        })
        .collect();
    let after = format!("after={cursor}");
    parts.push(&after);
    format!("{path}?{}", parts.join("&"))
}

/// Encodes and checks cursors under one key.
#[derive(Clone)]
pub struct Codec {
    keyed: HmacSha256,
}

impl Codec {
    pub fn new(secret: &str) -> Result<Self, ApiError> {
        let keyed = HmacSha256::new_from_slice(secret.as_bytes())
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("cursor key: {e}")))?;
        Ok(Self { keyed })
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(PURPOSE);
        mac.update(payload);
        mac
    }

    /// The opaque cursor for `position`.
    pub fn encode(&self, position: &Position) -> String {
        let json = serde_json::to_vec(position).unwrap_or_default();
        let tag = self.mac(&json).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(&tag[..MAC_BYTES])
        )
    }

    /// The position of a cursor handed out for `list`, or 400 `invalid_cursor`.
    pub fn decode(&self, cursor: &str, list: &str) -> Result<Position, ApiError> {
        if cursor.len() > MAX_LEN {
            return Err(invalid());
        }
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if tag.len() != MAC_BYTES {
            return Err(invalid());
        }
        self.mac(&json)
            .verify_truncated_left(&tag)
            .map_err(|_| invalid())?;
        let position: Position = serde_json::from_slice(&json).map_err(|_| invalid())?;
        if position.list != list {
            return Err(invalid());
        }
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> Codec {
        Codec::new("cursor-test-secret").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn next_links_replace_page_and_after() {
        assert_eq!(
            next_link(
                "/api/tickets",
                "page=2&per_page=5&status=open&after=old",
                "c.d"
            ),
            "/api/tickets?per_page=5&status=open&after=c.d"
        );
        assert_eq!(
            next_link("/api/tickets", "", "c.d"),
            "/api/tickets?after=c.d"
        );
    }

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let c = codec();
        let p = Position {
            list: "tickets:created_at:desc".into(),
            at: Some(Utc::now()),
            number: Some(42),
            id: None,
        };
        let cursor = c.encode(&p);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
        assert_eq!(c.decode(&cursor, &p.list).ok(), Some(p.clone()));
        // Another list or order.
        assert!(c.decode(&cursor, "tickets:created_at:asc").is_err());
        // Another key.
        let other = Codec::new("another-secret").unwrap_or_else(|_| unreachable!());
        assert!(other.decode(&cursor, &p.list).is_err());
        // An altered payload with the old MAC.
        let forged = Position {
            number: Some(1),
            ..p.clone()
        };
        let forged_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap_or_default());
        let tag = cursor.split_once('.').map(|(_, t)| t).unwrap_or_default();
        assert!(
            c.decode(&format!("{forged_payload}.{tag}"), &p.list)
                .is_err()
        );
        for junk in ["", ".", "abc", "abc.def", &"a".repeat(600)] {
            assert!(c.decode(junk, &p.list).is_err(), "{junk}");
        }
    }
}
