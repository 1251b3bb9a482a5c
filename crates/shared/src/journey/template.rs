//! Subject templates: `"Damaged order: {details}"`.
//!
//! `{id}` is a placeholder for the answer to question `id`; `{{` and `}}` are literal braces.
//! Validation and rendering share [`parse_template`], so they cannot disagree.

use super::model::limits;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Text copied as is (escapes already resolved).
    Literal(String),
    /// `{id}`: the answer to question `id`.
    Placeholder(&'a str),
}

/// Splits a template into literal text and placeholders.
///
/// Errors (with a message for humans) on an unclosed `{`, a stray `}`, an empty `{}`, or a
/// `{` inside a placeholder. Placeholder ids are not checked here; see
/// [`validate`](super::validate).
pub fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        match c {
            '{' if rest.starts_with("{{") => {
                literal.push('{');
                rest = rest.get(2..).unwrap_or("");
            }
            '}' if rest.starts_with("}}") => {
                literal.push('}');
                rest = rest.get(2..).unwrap_or("");
            }
            '{' => {
                let inner = rest.get(1..).unwrap_or("");
                let Some(end) = inner.find('}') else {
                    return Err("a `{` is never closed (write `{{` for a literal brace)".into());
                };
                let id = inner.get(..end).unwrap_or("");
                if id.is_empty() {
                    return Err("`{}` names no question".into());
                }
                if id.contains('{') {
                    return Err("a `{` is never closed (write `{{` for a literal brace)".into());
                }
                if !literal.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Placeholder(id));
                rest = inner.get(end + 1..).unwrap_or("");
            }
            '}' => return Err("a `}` has no matching `{` (write `}}` for a literal brace)".into()),
            _ => {
                literal.push(c);
                rest = rest.get(c.len_utf8()..).unwrap_or("");
            }
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

/// Renders a subject: placeholders replaced through `lookup` (which returns `""` for unanswered
/// questions), whitespace runs (newlines included) collapsed to one space, control characters
/// dropped, trimmed, and cut to 200 chars on a char boundary. An unparsable template renders
/// as itself, normalised the same way (validation rejects such templates anyway).
pub fn render_template(template: &str, mut lookup: impl FnMut(&str) -> String) -> String {
    let raw = match parse_template(template) {
        Ok(segments) => segments
            .into_iter()
            .map(|s| match s {
                Segment::Literal(text) => text,
                Segment::Placeholder(id) => lookup(id),
            })
            .collect::<String>(),
        Err(_) => template.to_owned(),
    };
    truncate_chars(&single_line(&raw), limits::MAX_SUBJECT_LEN)
}

/// Collapses every whitespace run to one space, drops other control chars, and trims.
pub(crate) fn single_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for word in text.split_whitespace() {
        let word: String = word.chars().filter(|c| !c.is_control()).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The first `max` chars of `text`, with trailing whitespace removed.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text.get(..cut).unwrap_or(text).trim_end().to_owned(),
        None => text.to_owned(),
    }
}
