//! The search syntax: `q` parsed into a [`Query`], the only form the databases ever see
//! (rendered with every word quoted by `postgres.rs` and `sqlite.rs`), and the same words
//! matched in Rust to pick and mark a snippet.
//!
//! - Words are runs of letters and digits, compared in lower case; anything else separates
//!   words (so `*`, `:`, `(`, emoji and SQL punctuation are never syntax).
//! - `"a phrase"`: the words next to each other, in order. An unclosed quote runs to the end.
//!   A word with separators inside (`A-10442`, `e-mail`) is a phrase too.
//! - `-word`, `-"a phrase"`: must not appear.
//! - `AND` between words changes nothing (every word is required anyway).
//! - `a OR b`: either (binds tighter than the implicit AND: `printer jam OR paper` is
//!   `printer AND (jam OR paper)`).
//! - The last word, unquoted and not negated, of two characters or more, also matches as a
//!   prefix (`prin` finds `printer`): results update as the user types.
//! - `#1042` or `1042` alone: that ticket (and the number as a word); an email address alone:
//!   that customer's tickets.

use shared::ErrorCode;

use crate::error::ApiError;

/// At most this many words in a query; each costs an index lookup.
pub const MAX_TERMS: usize = 16;

/// The shortest last word that is also matched as a prefix.
pub const MIN_PREFIX_CHARS: usize = 2;

/// Words side by side; one word is a phrase of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub words: Vec<String>,
    /// The last word also matches as a prefix.
    pub prefix: bool,
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Every clause must match; a clause matches when any of its terms does.
    pub all: Vec<Vec<Term>>,
    /// None of these may match.
    pub none: Vec<Term>,
    /// `#1042` or a bare number: the ticket with that number.
    pub number: Option<i64>,
    /// An email address: the tickets of the customer with that address (lower case).
    pub email: Option<String>,
}

fn invalid(message: &str) -> ApiError {
    ApiError::BadRequest(ErrorCode::InvalidQuery, message.to_owned())
}

/// The words of `text`, lower-cased, with their byte ranges in `text`.
pub fn words_with_spans(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((text[s..i].to_lowercase(), s..i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((text[s..].to_lowercase(), s..text.len()));
    }
    out
}

/// The words of `text`, lower-cased.
pub fn words(text: &str) -> Vec<String> {
    words_with_spans(text).into_iter().map(|(w, _)| w).collect()
}

fn looks_like_email(q: &str) -> bool {
    let Some((local, domain)) = q.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !q.contains(char::is_whitespace)
        && !domain.contains('@')
        && !q.contains('"')
}

/// One item of the query as written.
enum Item {
    Or,
    Term {
        term: Term,
        negated: bool,
        quoted: bool,
    },
}

fn lex(q: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let negated = rest.starts_with('-') && rest.len() > 1;
        if negated {
            rest = &rest[1..];
        }
        let (raw, quoted) = if let Some(inner) = rest.strip_prefix('"') {
            let end = inner.find('"').unwrap_or(inner.len());
            let raw = &inner[..end];
            rest = inner.get(end + 1..).unwrap_or("");
            (raw, true)
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let raw = &rest[..end];
            rest = &rest[end..];
            (raw, false)
        };
        if !quoted && !negated && raw == "OR" {
            items.push(Item::Or);
            continue;
        }
        // Every word is required anyway.
        if !quoted && !negated && raw == "AND" {
            continue;
        }
        let words = words(raw);
        if !words.is_empty() {
            items.push(Item::Term {
                term: Term {
                    words,
                    prefix: false,
                },
                negated,
                quoted,
            });
        }
    }
    items
}

impl Query {
    /// Parses the trimmed, bounded text of `q` (`shared::validate::SearchText`).
    pub fn parse(q: &str) -> Result<Query, ApiError> {
        let q = q.trim();
        if looks_like_email(q) {
            return Ok(Query {
                all: Vec::new(),
                none: Vec::new(),
                number: None,
                email: Some(q.to_lowercase()),
            });
        }
        let digits = q.strip_prefix('#').unwrap_or(q);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let number = digits
                .parse::<i64>()
                .map_err(|_| invalid("that ticket number is too large"))?;
            return Ok(Query {
                all: vec![vec![Term {
                    words: vec![number.to_string()],
                    prefix: false,
                }]],
                none: Vec::new(),
                number: Some(number),
                email: None,
            });
        }

        let mut items = lex(q);
        // The word being typed: the last item, if it is a plain word (or hyphenated words).
        if let Some(Item::Term {
            term,
            negated: false,
            quoted: false,
        }) = items.last_mut()
            && term
                .words
                .last()
                .is_some_and(|w| w.chars().count() >= MIN_PREFIX_CHARS)
            && !q.ends_with('"')
        {
            term.prefix = true;
        }
        let mut all: Vec<Vec<Term>> = Vec::new();
        let mut none = Vec::new();
        let mut or_pending = false;
        let mut last_was_positive = false;
        let mut count = 0;
        for item in items {
            match item {
                Item::Or => or_pending = true,
                Item::Term { term, negated, .. } => {
                    count += term.words.len();
                    if negated {
                        none.push(term);
                        last_was_positive = false;
                    } else {
                        match all.last_mut() {
                            Some(clause) if or_pending && last_was_positive => clause.push(term),
                            _ => all.push(vec![term]),
                        }
                        last_was_positive = true;
                    }
                    or_pending = false;
                }
            }
        }
        if count > MAX_TERMS {
            return Err(invalid(&format!("q may hold at most {MAX_TERMS} words")));
        }
        if all.is_empty() {
            return Err(invalid(if none.is_empty() {
                "q holds no word to search for"
            } else {
                "q needs at least one word that must appear, not only words to leave out"
            }));
        }
        Ok(Query {
            all,
            none,
            number: None,
            email: None,
        })
    }

    /// Whether this query searches text at all (an email address does not).
    pub fn has_text(&self) -> bool {
        !self.all.is_empty()
    }

    /// Whether the text, as the fields of one document (each field's words), matches: every
    /// clause by some field, and no excluded term in any field. Terms match within a field.
    pub fn matches(&self, fields: &[&[String]]) -> bool {
        let found = |t: &Term| fields.iter().any(|f| term_at(t, f).is_some());
        self.has_text()
            && self.all.iter().all(|clause| clause.iter().any(found))
            && !self.none.iter().any(found)
    }

    /// Whether any wanted term appears in `field`.
    pub fn touches(&self, field: &[String]) -> bool {
        self.all
            .iter()
            .flatten()
            .any(|t| term_at(t, field).is_some())
    }

    /// Which words of `field` are hits: the words of every occurrence of a wanted term.
    pub fn hit_mask(&self, field: &[String]) -> Vec<bool> {
        let mut mask = vec![false; field.len()];
        for term in self.all.iter().flatten() {
            let n = term.words.len();
            let mut from = 0;
            while let Some(at) = term_at(term, &field[from..]) {
                let at = from + at;
                for m in &mut mask[at..at + n] {
                    *m = true;
                }
                from = at + 1;
            }
        }
        mask
    }
}

/// Where `term` first occurs in `words`.
fn term_at(term: &Term, words: &[String]) -> Option<usize> {
    let n = term.words.len();
    if n == 0 || words.len() < n {
        return None;
    }
    (0..=words.len() - n).find(|&i| {
        term.words.iter().enumerate().all(|(k, w)| {
            let candidate = &words[i + k];
            if term.prefix && k == n - 1 {
                candidate.starts_with(w.as_str())
            } else {
                candidate == w
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(words: &[&str], prefix: bool) -> Term {
        Term {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            prefix,
        }
    }

    fn parse(q: &str) -> Query {
        Query::parse(q).expect("a valid query")
    }

    #[test]
    fn words_phrases_negation_and_or() {
        let q = parse(r#"printer "out of ink" -paper jam OR tray"#);
        assert_eq!(
            q.all,
            vec![
                vec![t(&["printer"], false)],
                vec![t(&["out", "of", "ink"], false)],
                vec![t(&["jam"], false), t(&["tray"], true)],
            ]
        );
        assert_eq!(q.none, vec![t(&["paper"], false)]);
    }

    #[test]
    fn the_last_word_is_a_prefix() {
        assert_eq!(parse("Refund pen").all[1], vec![t(&["pen"], true)]);
        assert_eq!(parse("A-10442").all, vec![vec![t(&["a", "10442"], true)]]);
        // One letter is too short; quoted and negated words are complete.
        assert_eq!(parse("refund p").all[1], vec![t(&["p"], false)]);
        assert_eq!(parse(r#""refund""#).all, vec![vec![t(&["refund"], false)]]);
        assert!(!parse("refund -pen").none[0].prefix);
    }

    #[test]
    fn numbers_and_emails() {
        assert_eq!(parse("#1042").number, Some(1042));
        assert_eq!(parse("1042").number, Some(1042));
        assert_eq!(parse("1042").all, vec![vec![t(&["1042"], false)]]);
        assert_eq!(
            parse("Ann@Example.COM").email.as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(parse("ann@localhost").email, None);
        assert!(Query::parse("#99999999999999999999").is_err());
    }

    #[test]
    fn hostile_input_is_words_or_a_clear_error() {
        for q in [
            "\"unbalanced",
            "NEAR(a b)",
            "a:b",
            "(x",
            "* star*",
            "'; DROP TABLE tickets; --",
            "🙂 printer",
            "AND OR NOT",
            "--x y",
        ] {
            let parsed = parse(q);
            assert!(parsed.has_text(), "{q}");
            for term in parsed.all.iter().flatten().chain(&parsed.none) {
                for w in &term.words {
                    assert!(w.chars().all(char::is_alphanumeric), "{q}: {w}");
                }
            }
        }
        for q in ["\"", "*", "🙂", ":", "()", "-word", "OR", "AND", "- -", "-"] {
            assert!(Query::parse(q).is_err(), "{q}");
        }
        assert!(Query::parse(&"w ".repeat(MAX_TERMS + 1)).is_err());
    }

    #[test]
    fn matching_in_rust() {
        let q = parse(r#"printer "paper tray" -toner"#);
        let subject = words("Printer jams");
        let body = words("The paper tray is stuck");
        let toner = words("also toner");
        assert!(q.matches(&[&subject, &body]));
        assert!(!q.matches(&[&subject]));
        assert!(!q.matches(&[&subject, &body, &toner]));
        assert_eq!(q.hit_mask(&body), vec![false, true, true, false, false]);
        let typing = parse("printer ja");
        assert!(typing.matches(&[&subject]));
    }
}
