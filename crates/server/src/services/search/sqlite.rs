//! SQLite: the query as an FTS5 `MATCH` expression, every word a quoted string, and the
//! expressions that match it against the FTS5 tables of migration
//! `m20261214_200001_full_text_search` (`ticket_search` keyed by ticket number,
//! `message_search` keyed by `message_search_keys.key`).

use sea_orm::sea_query::Expr;

use super::query::{Query, Term};

/// The ticket's subject, description or answers match `fts` (a `MATCH` expression).
pub fn ticket_matches(fts: String) -> Expr {
    Expr::cust_with_values(
        "\"tickets\".\"number\" IN \
         (SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)",
        [fts],
    )
}

/// The message's body matches `fts`.
pub fn message_matches(fts: String) -> Expr {
    Expr::cust_with_values(
        "\"ticket_messages\".\"id\" IN (SELECT k.message_id FROM message_search s \
         JOIN message_search_keys k ON k.key = s.rowid WHERE message_search MATCH ?)",
        [fts],
    )
}

fn term(t: &Term) -> String {
    // An FTS5 string: `"` doubled; inside it nothing is syntax.
    let words = t.words.join(" ").replace('"', "\"\"");
    if t.prefix {
        format!("\"{words}\" *")
    } else {
        format!("\"{words}\"")
    }
}

fn positive(q: &Query) -> String {
    let clauses: Vec<String> = q
        .all
        .iter()
        .map(|clause| {
            let any: Vec<String> = clause.iter().map(term).collect();
            format!("({})", any.join(" OR "))
        })
        .collect();
    clauses.join(" AND ")
}

/// The whole query: every clause, none of the excluded terms (FTS5's `NOT` is binary).
pub fn fts(q: &Query) -> String {
    let wanted = positive(q);
    if q.none.is_empty() {
        return wanted;
    }
    let none: Vec<String> = q.none.iter().map(term).collect();
    format!("({wanted}) NOT ({})", none.join(" OR "))
}

/// The wanted terms in the subject column only.
pub fn subject_fts(q: &Query) -> String {
    format!("subject : ({})", positive(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_a_string() {
        let q = Query::parse(r#"printer "out of ink" -paper jam OR tr"#).expect("valid");
        assert_eq!(
            fts(&q),
            r#"(("printer") AND ("out of ink") AND ("jam" OR "tr" *)) NOT ("paper")"#
        );
        assert_eq!(
            subject_fts(&q),
            r#"subject : (("printer") AND ("out of ink") AND ("jam" OR "tr" *))"#
        );
    }
}
