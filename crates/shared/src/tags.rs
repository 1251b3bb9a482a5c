//! Ticket tags: the normalisation every tag goes through (the server, journey validation and
//! the SPA's tag editor all use [`normalize`] and [`normalize_set`]), and the tag DTOs.
//!
//! A tag is stored as written by [`normalize`]: trimmed, lower-case, runs of inner whitespace
//! turned into one `-`, 1 to [`MAX_TAG_CHARS`] characters of letters, digits and `-_./`. A
//! ticket holds at most [`MAX_TAGS_PER_TICKET`] tags. Commas are never part of a tag, so the
//! list filters (`tags=a,b`) can separate them.

use serde::{Deserialize, Serialize};

/// Longest tag, in characters (after normalisation).
pub const MAX_TAG_CHARS: usize = 40;
/// Most tags a ticket (or a macro's or journey end node's tag list) carries.
pub const MAX_TAGS_PER_TICKET: usize = 20;
/// Punctuation allowed in a tag besides letters and digits.
pub const TAG_PUNCTUATION: &[char] = &['-', '_', '.', '/'];

/// Why a tag, or a set of tags, is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    /// Nothing left after trimming.
    Empty,
    /// Longer than [`MAX_TAG_CHARS`] once normalised.
    TooLong(String),
    /// A character that is not a letter, a digit or one of [`TAG_PUNCTUATION`].
    BadCharacter(String, char),
    /// More than [`MAX_TAGS_PER_TICKET`] distinct tags.
    TooMany(usize),
}

impl std::fmt::Display for TagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagError::Empty => f.write_str("a tag cannot be empty"),
            TagError::TooLong(tag) => write!(
                f,
                "tag `{}` is longer than {MAX_TAG_CHARS} characters",
                shorten(tag)
            ),
            TagError::BadCharacter(tag, c) => write!(
                f,
                "tag `{}` holds {c:?}: tags are letters, digits and `-_./`",
                shorten(tag)
            ),
            TagError::TooMany(n) => write!(
                f,
                "{n} tags: a ticket carries at most {MAX_TAGS_PER_TICKET}"
            ),
        }
    }
}

impl std::error::Error for TagError {}

impl TagError {
    /// The offending tag as given, when the error is about one tag.
    pub fn tag(&self) -> Option<&str> {
        match self {
            TagError::TooLong(t) | TagError::BadCharacter(t, _) => Some(t),
            TagError::Empty | TagError::TooMany(_) => None,
        }
    }
}

/// At most 60 characters of a rejected value, for messages.
fn shorten(raw: &str) -> String {
    let mut out: String = raw.chars().take(60).collect();
    if raw.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// One tag in its stored form, or why it cannot be one.
pub fn normalize(raw: &str) -> Result<String, TagError> {
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push('-');
            space = false;
        }
        if c.is_alphanumeric() || TAG_PUNCTUATION.contains(&c) {
            out.extend(c.to_lowercase());
        } else {
            return Err(TagError::BadCharacter(raw.to_owned(), c));
        }
    }
    if out.is_empty() {
        return Err(TagError::Empty);
    }
    if out.chars().count() > MAX_TAG_CHARS {
        return Err(TagError::TooLong(raw.to_owned()));
    }
    Ok(out)
}

/// A set of tags in stored form: each normalised, duplicates (after normalisation) once,
/// sorted; at most [`MAX_TAGS_PER_TICKET`].
pub fn normalize_set<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, TagError> {
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        out.push(normalize(r.as_ref())?);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS_PER_TICKET {
        return Err(TagError::TooMany(out.len()));
    }
    Ok(out)
}

/// `PUT /api/tickets/{id}/tags`: the ticket's complete set of tags (normalised; an empty list
/// removes them all).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetTagsRequest {
    pub tags: Vec<String>,
}

/// A tag and how many tickets carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagCountDto {
    pub tag: String,
    pub count: u64,
}

/// `GET /api/tags` filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct TagListQuery {
    /// Tags starting with this text (normalised like a tag; at most 200 characters, no
    /// control characters).
    #[cfg_attr(feature = "openapi", param(max_length = 200))]
    pub q: Option<String>,
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// `GET /api/analytics/tags`: tickets created in the range, per tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagAnalyticsDto {
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
    /// Tickets created in the range.
    pub tickets: u64,
    /// Of those, how many carry at least one tag.
    pub tagged: u64,
    /// Per tag, most used first (then by name); at most 100 tags.
    pub tags: Vec<TagCountDto>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_lowercased_and_spaces_become_dashes() {
        assert_eq!(normalize("  Billing ").as_deref(), Ok("billing"));
        assert_eq!(normalize("VIP  customer").as_deref(), Ok("vip-customer"));
        assert_eq!(normalize("v2.1/beta_x").as_deref(), Ok("v2.1/beta_x"));
        assert_eq!(normalize("Straße").as_deref(), Ok("straße"));
        assert_eq!(normalize("ÉTÉ").as_deref(), Ok("été"));
    }

    #[test]
    fn bad_tags_are_refused_with_the_reason() {
        assert_eq!(normalize("   "), Err(TagError::Empty));
        assert_eq!(normalize(""), Err(TagError::Empty));
        assert!(matches!(
            normalize("a,b"),
            Err(TagError::BadCharacter(_, ','))
        ));
        assert!(matches!(
            normalize("<script>"),
            Err(TagError::BadCharacter(_, '<'))
        ));
        assert!(matches!(
            normalize("tab\there"),
            Ok(ref t) if t == "tab-here"
        ));
        assert!(matches!(
            normalize("nul\u{0}"),
            Err(TagError::BadCharacter(_, '\u{0}'))
        ));
        assert!(normalize(&"x".repeat(MAX_TAG_CHARS)).is_ok());
        assert!(matches!(
            normalize(&"x".repeat(MAX_TAG_CHARS + 1)),
            Err(TagError::TooLong(_))
        ));
        assert!(normalize("emoji🙂").is_err());
    }

    #[test]
    fn sets_are_deduplicated_sorted_and_bounded() {
        assert_eq!(
            normalize_set(&["b", "A", "a ", "B"]),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
        let many: Vec<String> = (0..=MAX_TAGS_PER_TICKET).map(|i| format!("t{i}")).collect();
        assert_eq!(
            normalize_set(&many),
            Err(TagError::TooMany(MAX_TAGS_PER_TICKET + 1))
        );
        // Repeats do not count twice.
        let repeated: Vec<String> = (0..100).map(|i| format!("t{}", i % 3)).collect();
        assert_eq!(normalize_set(&repeated).map(|s| s.len()), Ok(3));
        assert!(normalize_set::<&str>(&[]).is_ok_and(|s| s.is_empty()));
    }
}
