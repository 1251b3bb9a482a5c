//! PostgreSQL: the query as `tsquery` text, every word quoted, and the expressions that match
//! it. The `'simple'` configuration is named in the index definitions (migration
//! `m20261214_200001_full_text_search`) and in every query here: an expression without it
//! would not be the indexed one.

use sea_orm::sea_query::Expr;

use super::query::{Query, Term};

/// `tickets.search_vector` (subject `A`, description `B`, answers `C`) matches the text.
pub fn ticket_matches(tsquery: String) -> Expr {
    Expr::cust_with_values(
        "\"tickets\".\"search_vector\" @@ to_tsquery('simple'::regconfig, $1)",
        [tsquery],
    )
}

/// The message's body matches the text (the expression of `idx_ticket_messages_search`).
pub fn message_matches(tsquery: String) -> Expr {
    Expr::cust_with_values(
        "to_tsvector('simple'::regconfig, \"ticket_messages\".\"body\") @@ \
         to_tsquery('simple'::regconfig, $1)",
        [tsquery],
    )
}

fn quote(word: &str) -> String {
    // Words hold only letters and digits; quoting still escapes what the syntax treats
    // specially, so no word can ever be read as an operator.
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

fn term(t: &Term, weight: &str) -> String {
    let last = t.words.len().saturating_sub(1);
    let parts: Vec<String> = t
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let star = if t.prefix && i == last { "*" } else { "" };
            let label = if star.is_empty() && weight.is_empty() {
                String::new()
            } else {
                format!(":{star}{weight}")
            };
            format!("{}{label}", quote(w))
        })
        .collect();
    format!("({})", parts.join(" <-> "))
}

fn clauses(q: &Query, weight: &str) -> Vec<String> {
    q.all
        .iter()
        .map(|clause| {
            let any: Vec<String> = clause.iter().map(|t| term(t, weight)).collect();
            format!("({})", any.join(" | "))
        })
        .collect()
}

/// The whole query: every clause, none of the excluded terms.
pub fn tsquery(q: &Query) -> String {
    let mut parts = clauses(q, "");
    parts.extend(q.none.iter().map(|t| format!("!{}", term(t, ""))));
    parts.join(" & ")
}

/// The wanted terms in the subject only (weight `A`).
pub fn subject_tsquery(q: &Query) -> String {
    clauses(q, "A").join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_quoted() {
        let q = Query::parse(r#"printer "out of ink" -paper jam OR tr"#).expect("valid");
        assert_eq!(
            tsquery(&q),
            "(('printer')) & (('out' <-> 'of' <-> 'ink')) & (('jam') | ('tr':*)) & !('paper')"
        );
        assert_eq!(
            subject_tsquery(&q),
            "(('printer':A)) & (('out':A <-> 'of':A <-> 'ink':A)) & (('jam':A) | ('tr':*A))"
        );
        assert_eq!(quote("it's\\"), "'it''s\\\\'");
    }
}
