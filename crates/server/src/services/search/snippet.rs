//! Snippets: an excerpt of the text a ticket matched in, cut around the first hit, in plain
//! text parts with the query's words marked. Computed here from the stored text, so SQLite and
//! PostgreSQL give the same snippet for the same ticket.

use shared::tickets::SnippetPart;

use super::query::{Query, words_with_spans};

/// Words kept before the first hit.
const CONTEXT_WORDS: usize = 6;
/// The longest excerpt, in characters (the ellipses aside).
pub const MAX_CHARS: usize = 160;

const ELLIPSIS: &str = "…";

/// The excerpt of `text` around the first word of `query` in it (the start of the text when
/// no word is in it), whitespace runs folded into one space.
pub fn snippet(query: &Query, text: &str) -> Vec<SnippetPart> {
    let spans = words_with_spans(text);
    let words: Vec<String> = spans.iter().map(|(w, _)| w.clone()).collect();
    let mask = query.hit_mask(&words);
    let first = mask.iter().position(|&h| h).unwrap_or(0);
    let start_word = first.saturating_sub(CONTEXT_WORDS);
    let start = spans.get(start_word).map_or(0, |(_, r)| r.start);
    let mut parts: Vec<SnippetPart> = Vec::new();
    let push = |text: &str, hit: bool, parts: &mut Vec<SnippetPart>| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit && !hit => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.to_owned(),
                hit,
            }),
        }
    };
    if start > 0 {
        push(ELLIPSIS, false, &mut parts);
    }
    let mut used = 0;
    let mut at = start;
    let mut cut = false;
    for (i, (_, range)) in spans.iter().enumerate().skip(start_word) {
        let gap = fold_spaces(&text[at..range.start]);
        let word = &text[range.clone()];
        let len = gap.chars().count() + word.chars().count();
        if used + len > MAX_CHARS && used > 0 {
            cut = true;
            break;
        }
        push(&gap, false, &mut parts);
        push(word, mask[i], &mut parts);
        used += len;
        at = range.end;
    }
    if cut {
        push(ELLIPSIS, false, &mut parts);
    } else {
        // The rest of the text after the last word (a closing punctuation mark).
        let tail = fold_spaces(text[at..].trim_end());
        let tail: String = tail.chars().take(MAX_CHARS.saturating_sub(used)).collect();
        push(&tail, false, &mut parts);
    }
    parts
}

/// `text` with every run of whitespace as one space.
fn fold_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

/// The parts of a snippet that is all one hit (a ticket number, an email address).
pub fn whole(text: String) -> Vec<SnippetPart> {
    vec![SnippetPart { text, hit: true }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(parts: &[SnippetPart]) -> String {
        parts
            .iter()
            .map(|p| {
                if p.hit {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn hits_are_marked_in_plain_text() {
        let q = Query::parse("paper tr").expect("valid");
        let parts = snippet(&q, "The <b>paper</b>\n\n tray is stuck.");
        assert_eq!(render(&parts), "The <b>[paper]</b> [tray] is stuck.");
    }

    #[test]
    fn long_text_is_cut_around_the_first_hit() {
        let text = format!(
            "{} refund please {}",
            "lorem ".repeat(50),
            "ipsum ".repeat(50)
        );
        let q = Query::parse("refund").expect("valid");
        let parts = snippet(&q, &text);
        let shown = render(&parts);
        assert!(shown.starts_with("…lorem"), "{shown}");
        assert!(shown.contains("lorem [refund] please"), "{shown}");
        assert!(shown.ends_with('…'), "{shown}");
        assert!(shown.chars().count() <= MAX_CHARS + 4, "{shown}");
        assert_eq!(parts.iter().filter(|p| p.hit).count(), 1);
    }

    #[test]
    fn no_hit_shows_the_start() {
        let q = Query::parse("absent").expect("valid");
        assert_eq!(render(&snippet(&q, "Short text.")), "Short text.");
        assert!(snippet(&q, "").is_empty());
    }
}
