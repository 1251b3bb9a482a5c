//! A received mail as the ingest needs it: the headers that matter, the addresses, the
//! Message-IDs it refers to, the text and HTML bodies and the attached files.
//!
//! Pure: bytes in, a [`Parsed`] out. mail-parser is lenient (malformed MIME, broken charsets
//! and bad encodings come out as best-effort text); what it cannot make sense of at all is a
//! [`ParseError`], which the ingest quarantines with the raw copy.

use std::borrow::Cow;

use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};

/// Longest header section we read (a mail with more is malformed or hostile).
pub const MAX_HEADER_BYTES: usize = 256 * 1024;
/// Most attached files taken from one mail.
pub const MAX_FILES: usize = 20;

/// Why a mail cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the mail is empty")]
    Empty,
    #[error("the header section is larger than {MAX_HEADER_BYTES} bytes")]
    HugeHeaders,
    #[error("not a mail message (no header section could be parsed)")]
    NotMail,
    #[error("the mail has no usable From address")]
    NoSender,
}

/// An attached or inline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: Option<String>,
    /// The declared type, lower-case (`image/png`); never trusted for storage.
    pub declared_type: String,
    /// `Content-ID` without the angle brackets.
    pub content_id: Option<String>,
    /// Disposition inline, or a Content-ID that the HTML refers to.
    pub inline: bool,
    pub bytes: Vec<u8>,
}

/// What a delivery status notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// `Final-Recipient` / `Original-Recipient` / `X-Failed-Recipients` addresses.
    pub recipients: Vec<String>,
    /// Message-IDs of the returned original (from its message/rfc822 or text/rfc822-headers).
    pub original_ids: Vec<String>,
    /// `Action: failed` (or no action given), as opposed to `delayed`/`delivered`.
    pub failed: bool,
}

/// A mail, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// `<id@host>` with the brackets, if the mail has one.
    pub message_id: Option<String>,
    /// The From address, lower-cased.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// To, Cc, Delivered-To, X-Original-To, Envelope-To addresses, lower-cased.
    pub recipients: Vec<String>,
    /// In-Reply-To first, then References right to left: the most specific reference first.
    pub references: Vec<String>,
    /// Lower-cased header name and raw (unfolded, trimmed) value of every header of the top
    /// part, for the classifier.
    pub headers: Vec<(String, String)>,
    /// The top part's `type/subtype` and `report-type` parameter.
    pub content_type: String,
    pub report_type: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub files: Vec<File>,
    /// Set for `multipart/report; report-type=delivery-status`.
    pub report: Option<Report>,
    /// Parts mail-parser had to guess at (broken charset or encoding).
    pub encoding_problems: bool,
}

impl Parsed {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn header_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where the header section ends (the first empty line), if it ends within `limit` bytes.
fn header_len(raw: &[u8], limit: usize) -> Option<usize> {
    let window = &raw[..raw.len().min(limit)];
    let crlf = window.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = window.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `<id>` from a header value: the first `<…>` token, or the trimmed value in brackets.
pub fn normalize_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let inner = match (raw.find('<'), raw.find('>')) {
        (Some(a), Some(b)) if a < b => &raw[a + 1..b],
        _ => raw.trim_matches(|c| c == '<' || c == '>'),
    };
    let inner = inner.trim();
    if inner.is_empty() || inner.len() > 250 || inner.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    Some(format!("<{inner}>"))
}

/// Every `<…>` id in a header value such as References.
fn ids_in(raw: &str) -> Vec<String> {
    raw.split('>')
        .filter_map(|chunk| chunk.find('<').map(|i| &chunk[i + 1..]))
        .filter_map(normalize_id)
        .collect()
}

/// The bare address in `Name <a@b>` or `a@b`, lower-cased.
pub fn bare_address(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(a), Some(b)) if a < b => &raw[a + 1..b],
        _ => raw,
    };
    let inner = inner.trim().trim_start_matches("rfc822;").trim();
    let inner = inner
        .split_once(';')
        .map(|(_, a)| a)
        .unwrap_or(inner)
        .trim();
    (inner.contains('@') && !inner.contains(char::is_whitespace) && inner.len() <= 320)
        .then(|| inner.to_ascii_lowercase())
}

fn addresses(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Address(a) => a
            .iter()
            .filter_map(|addr| addr.address.as_deref())
            .filter_map(bare_address)
            .collect(),
        HeaderValue::Text(t) => t.split(',').filter_map(bare_address).collect(),
        HeaderValue::TextList(l) => l.iter().filter_map(|t| bare_address(t)).collect(),
        _ => Vec::new(),
    }
}

/// Parses `raw`. Never panics; a mail whose headers are too large or unreadable, or that has
/// no sender, is an error.
pub fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    match header_len(raw, MAX_HEADER_BYTES + 4) {
        None if raw.len() > MAX_HEADER_BYTES => return Err(ParseError::HugeHeaders),
        Some(n) if n > MAX_HEADER_BYTES => return Err(ParseError::HugeHeaders),
        _ => {}
    }
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::NotMail)?;
    let root = msg.root_part();
    if root.headers.is_empty() {
        return Err(ParseError::NotMail);
    }

    let headers: Vec<(String, String)> = msg
        .headers_raw()
        .map(|(n, v)| {
            let unfolded: String = v
                .chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                .collect();
            (n.to_ascii_lowercase(), unfolded.trim().to_owned())
        })
        .collect();
    let raw_header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };

    let from_addr = msg.from().and_then(|a| a.first());
    let from = from_addr
        .and_then(|a| a.address.as_deref())
        .and_then(bare_address)
        .or_else(|| raw_header("from").and_then(bare_address))
        .ok_or(ParseError::NoSender)?;
    let from_name = from_addr
        .and_then(|a| a.name.as_deref())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());

    let mut recipients = Vec::new();
    for name in ["to", "cc", "delivered-to", "x-original-to", "envelope-to"] {
        for v in msg.header_values(name) {
            recipients.extend(addresses(v));
        }
    }
    recipients.dedup();

    let mut references = Vec::new();
    if let Some(v) = raw_header("in-reply-to") {
        references.extend(ids_in(v));
    }
    if let Some(v) = raw_header("references") {
        references.extend(ids_in(v).into_iter().rev());
    }
    let mut seen = std::collections::HashSet::new();
    references.retain(|id| seen.insert(id.clone()));
    references.truncate(50);

    let ctype = root.content_type();
    let content_type = ctype
        .map(|c| {
            format!(
                "{}/{}",
                c.ctype().to_ascii_lowercase(),
                c.subtype().unwrap_or("").to_ascii_lowercase()
            )
        })
        .unwrap_or_else(|| "text/plain".to_owned());
    let report_type = ctype
        .and_then(|c| c.attribute("report-type"))
        .map(|r| r.to_ascii_lowercase());

    let html = msg
        .html_body
        .first()
        .and_then(|i| msg.parts.get(*i as usize))
        .and_then(|p| match &p.body {
            PartType::Html(h) => Some(h.to_string()),
            _ => None,
        });
    let text = msg
        .text_body
        .first()
        .and_then(|i| msg.parts.get(*i as usize))
        .and_then(|p| match &p.body {
            PartType::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .or_else(|| msg.body_text(0).map(Cow::into_owned));

    let is_report =
        content_type == "multipart/report" && report_type.as_deref() == Some("delivery-status");
    let mut report = is_report.then(Report::default);
    let mut files = Vec::new();
    for i in &msg.attachments {
        let Some(part) = msg.parts.get(*i as usize) else {
            continue;
        };
        let declared_type = part
            .content_type()
            .map(|c| {
                format!(
                    "{}/{}",
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("octet-stream").to_ascii_lowercase()
                )
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        if let Some(report) = report.as_mut() {
            match (&part.body, declared_type.as_str()) {
                (PartType::Message(original), _) => {
                    if let Some(id) = original.message_id().and_then(normalize_id) {
                        report.original_ids.push(id);
                    }
                    continue;
                }
                (_, "message/delivery-status") => {
                    read_status(&String::from_utf8_lossy(part.contents()), report);
                    continue;
                }
                (_, "text/rfc822-headers") => {
                    let headers = String::from_utf8_lossy(part.contents());
                    for line in unfold(&headers) {
                        if let Some((n, v)) = line.split_once(':')
                            && n.trim().eq_ignore_ascii_case("message-id")
                            && let Some(id) = normalize_id(v)
                        {
                            report.original_ids.push(id);
                        }
                    }
                    continue;
                }
                _ => {}
            }
        }
        let bytes = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Message(m) => m.raw_message().to_vec(),
            PartType::Multipart(_) => continue,
        };
        if files.len() >= MAX_FILES {
            continue;
        }
        let content_id = part
            .content_id()
            .and_then(normalize_id)
            .map(|id| id.trim_start_matches('<').trim_end_matches('>').to_owned());
        let referenced = content_id.as_ref().is_some_and(|cid| {
            html.as_deref()
                .is_some_and(|h| h.contains(&format!("cid:{cid}")) || h.contains(cid.as_str()))
        });
        let disposition_inline = part
            .content_disposition()
            .is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline"));
        files.push(File {
            name: part.attachment_name().map(str::to_owned),
            declared_type,
            inline: referenced || (disposition_inline && content_id.is_some()),
            content_id,
            bytes,
        });
    }
    if let Some(report) = report.as_mut() {
        if let Some(v) = raw_header("x-failed-recipients") {
            report
                .recipients
                .extend(v.split(',').filter_map(bare_address));
        }
        report.recipients.sort();
        report.recipients.dedup();
    }

    let encoding_problems = msg.parts.iter().any(|p| p.is_encoding_problem);
    Ok(Parsed {
        message_id: msg.message_id().and_then(normalize_id),
        from,
        from_name,
        subject: msg.subject().unwrap_or_default().trim().to_owned(),
        recipients,
        references,
        headers,
        content_type,
        report_type,
        text,
        html,
        files,
        report,
        encoding_problems,
    })
}

/// Header lines with continuation lines joined.
fn unfold(block: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        } else if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
    }
    lines
}

/// The fields of a `message/delivery-status` part that name the recipient and the outcome.
fn read_status(body: &str, report: &mut Report) {
    let mut action_seen = false;
    for line in unfold(body) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "final-recipient" | "original-recipient" => {
                if let Some(a) = bare_address(value) {
                    report.recipients.push(a);
                }
            }
            "action" => {
                action_seen = true;
                if value.trim().eq_ignore_ascii_case("failed") {
                    report.failed = true;
                }
            }
            _ => {}
        }
    }
    if !action_seen {
        report.failed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses_are_normalised() {
        assert_eq!(normalize_id(" <a@b> ").as_deref(), Some("<a@b>"));
        assert_eq!(normalize_id("a@b").as_deref(), Some("<a@b>"));
        assert_eq!(normalize_id("<>"), None);
        assert_eq!(
            ids_in("<a@b> <c@d>\t<e@f>"),
            vec!["<a@b>", "<c@d>", "<e@f>"]
        );
        assert_eq!(
            bare_address("Eve <Eve@Example.COM>").as_deref(),
            Some("eve@example.com")
        );
        assert_eq!(bare_address("rfc822; x@y.z").as_deref(), Some("x@y.z"));
        assert_eq!(bare_address("nobody"), None);
    }

    #[test]
    fn empty_huge_and_senderless_mail_are_errors() {
        assert_eq!(parse(b"  \r\n"), Err(ParseError::Empty));
        let mut huge = b"Subject: x\r\nX-Pad: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEADER_BYTES + 10));
        huge.extend(b"\r\n\r\nbody");
        assert_eq!(parse(&huge), Err(ParseError::HugeHeaders));
        assert_eq!(
            parse(b"Subject: hi\r\nTo: a@b.c\r\n\r\nhello"),
            Err(ParseError::NoSender)
        );
    }
}
