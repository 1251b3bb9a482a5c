//! Canned responses ("macros"): a reply body with placeholders, and ticket changes applied
//! with it.
//!
//! The placeholder syntax and the list of names live here so that the admin editor in the
//! browser rejects exactly what the server rejects: `{{customer.name}}`, with optional spaces
//! inside the braces. An unknown name or an unclosed `{{` is an error when the macro is saved,
//! so a customer never receives literal placeholder text.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tickets::{MessageDto, PersonDto, Priority, TicketDto, TicketStatus};

/// Longest title, in chars.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, in chars (the longest message is 10,000; placeholders grow when filled in).
pub const MAX_BODY_CHARS: usize = 8_000;

/// Every placeholder a macro body may use, with what it becomes.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("customer.name", "the customer's name"),
    ("customer.email", "the customer's email address"),
    ("ticket.number", "the ticket number, e.g. 1042"),
    ("ticket.subject", "the ticket's subject"),
    (
        "ticket.status",
        "the ticket's status before the macro's changes",
    ),
    (
        "ticket.priority",
        "the ticket's priority before the macro's changes",
    ),
    (
        "ticket.category",
        "the ticket's category (empty when it has none)",
    ),
    (
        "agent.name",
        "the name of the agent or admin using the macro",
    ),
    ("agent.email", "their email address"),
];

/// One piece of a macro body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// A known placeholder name, e.g. `customer.name`.
    Placeholder(&'a str),
}

/// What is wrong with a macro body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderError {
    /// `{{` without a matching `}}`.
    Unclosed,
    /// Names that are not in [`PLACEHOLDERS`], in order of appearance, each once.
    Unknown(Vec<String>),
}

impl std::fmt::Display for PlaceholderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceholderError::Unclosed => f.write_str("a `{{` is never closed with `}}`"),
            PlaceholderError::Unknown(names) => {
                let list: Vec<String> = names.iter().map(|n| format!("{{{{{n}}}}}")).collect();
                write!(
                    f,
                    "unknown placeholder{} {}; known: {}",
                    if names.len() == 1 { "" } else { "s" },
                    list.join(", "),
                    PLACEHOLDERS
                        .iter()
                        .map(|(name, _)| *name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
    }
}

impl std::error::Error for PlaceholderError {}

/// Splits a body into text and placeholders, or says why it cannot be used.
pub fn parse(body: &str) -> Result<Vec<Piece<'_>>, PlaceholderError> {
    let mut pieces = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(PlaceholderError::Unclosed)?;
        let name = after[..end].trim();
        if PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
            pieces.push(Piece::Placeholder(name));
        } else if !unknown.iter().any(|u| u == name) {
            unknown.push(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    if unknown.is_empty() {
        Ok(pieces)
    } else {
        Err(PlaceholderError::Unknown(unknown))
    }
}

/// Fills the placeholders of a body with `value(name)`.
pub fn render(body: &str, value: impl Fn(&str) -> String) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(body.len());
    for piece in parse(body)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(name) => out.push_str(&value(name)),
        }
    }
    Ok(out)
}

/// Ticket changes a macro applies along with its reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MacroActions {
    /// Move the ticket to this status (within the staff workflow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Tags to add to the ticket (kept: the ticket's other tags stay). Normalised when the
    /// macro is saved (`shared::tags`), at most 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<String>,
}

impl MacroActions {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.priority.is_none() && self.add_tags.is_empty()
    }
}

/// A macro as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacroDto {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub actions: MacroActions,
    /// Shared with every agent and admin (managed by admins), or personal.
    pub shared: bool,
    /// The owner of a personal macro.
    pub owner: Option<PersonDto>,
    /// How many times it was applied.
    pub usage_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/macros` and `PUT /api/macros/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MacroRequest {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub actions: MacroActions,
    /// Shared with everyone (admins only); default personal. Fixed once created.
    #[serde(default)]
    pub shared: bool,
}

/// `GET /api/macros` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct MacroListQuery {
    /// Words that must all appear in the title or body, case-insensitive (at most 200
    /// characters, no control characters).
    #[cfg_attr(feature = "openapi", param(max_length = 200))]
    pub q: Option<String>,
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// `GET /api/tickets/{id}/macros/{macro_id}/preview`: what applying would send and change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacroPreview {
    /// The body with this ticket's values filled in.
    pub body: String,
    pub actions: MacroActions,
}

/// `POST /api/tickets/{id}/macros/{macro_id}/apply`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplyMacroRequest {
    /// The reply as edited after the preview; default: the macro's body filled in.
    #[serde(default)]
    pub body: Option<String>,
    /// Send it as an internal note instead of a public reply.
    #[serde(default)]
    pub internal: bool,
    /// Images uploaded beforehand by the caller, as for any reply.
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// What applying a macro did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedMacro {
    pub message: MessageDto,
    pub ticket: TicketDto,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> String {
        match name {
            "customer.name" => "Ada".into(),
            "ticket.number" => "1042".into(),
            other => format!("<{other}>"),
        }
    }

    #[test]
    fn placeholders_are_filled_with_or_without_spaces() {
        assert_eq!(
            render("Hi {{customer.name}}, about #{{ ticket.number }}.", values).expect("renders"),
            "Hi Ada, about #1042."
        );
        assert_eq!(
            render("no placeholders", values).expect("renders"),
            "no placeholders"
        );
        assert_eq!(render("", values).expect("renders"), "");
        assert_eq!(
            render("{{agent.name}}{{agent.email}}", values).expect("renders"),
            "<agent.name><agent.email>"
        );
        // Single braces are text.
        assert_eq!(render("{x} } {", values).expect("renders"), "{x} } {");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_errors() {
        assert_eq!(
            parse("Hi {{customer.nmae}} and {{ order.id }} and {{customer.nmae}}"),
            Err(PlaceholderError::Unknown(vec![
                "customer.nmae".into(),
                "order.id".into()
            ]))
        );
        assert_eq!(parse("Hi {{customer.name"), Err(PlaceholderError::Unclosed));
        assert_eq!(
            parse("{{}}"),
            Err(PlaceholderError::Unknown(vec![String::new()]))
        );
        let message = PlaceholderError::Unknown(vec!["x".into()]).to_string();
        assert!(
            message.contains("{{x}}") && message.contains("customer.name"),
            "{message}"
        );
    }

    #[test]
    fn every_listed_placeholder_parses() {
        for (name, _) in PLACEHOLDERS {
            let body = format!("{{{{{name}}}}}");
            assert_eq!(parse(&body).expect("renders"), [Piece::Placeholder(name)]);
        }
    }

    #[test]
    fn multibyte_text_around_placeholders_survives() {
        assert_eq!(
            render("Grüße {{customer.name}} 👋", values).expect("renders"),
            "Grüße Ada 👋"
        );
    }
}
