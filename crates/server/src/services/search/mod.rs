//! Full-text search of tickets (`q` on the ticket list and the CSV export): one service in
//! front of two databases. The query syntax is parsed into our own [`Query`] (`query.rs`) and
//! rendered with every word quoted for PostgreSQL `tsquery` (`postgres.rs`) or SQLite FTS5
//! (`sqlite.rs`); user text never reaches either syntax raw. Snippets are cut in Rust from the
//! stored text (`snippet.rs`), so both databases answer with the same shape.
//!
//! What is searched, as separate documents: the ticket's own text (subject, description,
//! journey answers) and each message of its conversation the caller may see (customers never
//! internal notes; which tickets a caller may see is `access::visible_condition`). A ticket
//! matches when one of its documents matches the whole query, or by number (`#1042`) or its
//! customer's email address.
//!
//! Ranking (`sort=relevance`): a number or email match first, then a match in the subject,
//! then in the description or answers, then only in the conversation; within each, more
//! matching documents (the ticket's text and each matching message count one each) first;
//! then newer tickets (higher number) first.
//!
//! Indexing is synchronous: PostgreSQL computes `tickets.search_vector` and updates the GIN
//! indexes in the writing transaction; SQLite triggers write the FTS5 tables in it.

pub mod postgres;
pub mod query;
pub mod snippet;
pub mod sqlite;

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait, Select,
    sea_query::{
        Alias, Expr, ExprTrait, Func, JoinType, Order, Query as Sql, SelectStatement, UnionType,
    },
};
use shared::tickets::{SearchField, SearchHit};
use uuid::Uuid;

pub use query::Query;

use crate::{
    auth::AuthUser,
    entity::{Ticket, TicketMessage, User, ticket, ticket_message, user},
    error::ApiError,
};

/// The journey's answers as searchable text: each transcript entry's `display`,
/// space-separated (`None` when there is none).
pub fn answers_text(transcript: &serde_json::Value) -> Option<String> {
    let parts: Vec<&str> = transcript
        .as_array()?
        .iter()
        .filter_map(|entry| entry.get("display").and_then(|d| d.as_str()))
        .filter(|d| !d.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A parsed search, ready to be run on either database for one caller.
#[derive(Debug, Clone)]
pub struct Search {
    pub query: Query,
    backend: DatabaseBackend,
    /// Staff search internal notes too.
    staff: bool,
}

const RANK: &str = "search_rank";
const TICKET_ID: &str = "ticket_id";
const TIER: &str = "tier";
const HITS: &str = "hits";

impl Search {
    pub fn new(query: Query, backend: DatabaseBackend, actor: &AuthUser) -> Search {
        Search {
            query,
            backend,
            staff: actor.role.is_staff(),
        }
    }

    fn ticket_matches(&self) -> Expr {
        match self.backend {
            DatabaseBackend::Postgres => postgres::ticket_matches(postgres::tsquery(&self.query)),
            _ => sqlite::ticket_matches(sqlite::fts(&self.query)),
        }
    }

    fn subject_matches(&self) -> Expr {
        match self.backend {
            DatabaseBackend::Postgres => {
                postgres::ticket_matches(postgres::subject_tsquery(&self.query))
            }
            _ => sqlite::ticket_matches(sqlite::subject_fts(&self.query)),
        }
    }

    /// The messages the caller may see that match.
    fn message_matches(&self) -> Expr {
        let matches = match self.backend {
            DatabaseBackend::Postgres => postgres::message_matches(postgres::tsquery(&self.query)),
            _ => sqlite::message_matches(sqlite::fts(&self.query)),
        };
        if self.staff {
            matches
        } else {
            matches.and(ticket_message::Column::Internal.eq(false))
        }
    }

    /// One `SELECT ticket_id[, tier, hits]` per way to match, as a `UNION ALL`.
    fn matches(&self, ranked: bool) -> Option<SelectStatement> {
        let cols = |s: &mut SelectStatement, id: Expr, tier: Expr| {
            s.expr_as(id, Alias::new(TICKET_ID));
            if ranked {
                s.expr_as(tier, Alias::new(TIER))
                    .expr_as(Expr::cust("1"), Alias::new(HITS));
            }
        };
        let mut branches = Vec::new();
        if let Some(number) = self.query.number {
            let mut s = Sql::select();
            cols(
                &mut s,
                Expr::col((ticket::Entity, ticket::Column::Id)),
                Expr::cust("4"),
            );
            s.from(ticket::Entity)
                .and_where(ticket::Column::Number.eq(number));
            branches.push(s);
        }
        if let Some(email) = &self.query.email {
            let customers = Sql::select()
                .column(user::Column::Id)
                .from(user::Entity)
                .and_where(user::Column::Email.eq(email.as_str()))
                .to_owned();
            let mut s = Sql::select();
            cols(
                &mut s,
                Expr::col((ticket::Entity, ticket::Column::Id)),
                Expr::cust("4"),
            );
            s.from(ticket::Entity)
                .and_where(ticket::Column::CustomerId.in_subquery(customers));
            branches.push(s);
        }
        if self.query.has_text() {
            let tier = Expr::case(self.subject_matches(), Expr::cust("3")).finally(Expr::cust("2"));
            let mut s = Sql::select();
            cols(
                &mut s,
                Expr::col((ticket::Entity, ticket::Column::Id)),
                tier.into(),
            );
            s.from(ticket::Entity).and_where(self.ticket_matches());
            branches.push(s);

            let mut s = Sql::select();
            cols(
                &mut s,
                Expr::col((ticket_message::Entity, ticket_message::Column::TicketId)),
                Expr::cust("1"),
            );
            s.from(ticket_message::Entity)
                .and_where(self.message_matches());
            branches.push(s);
        }
        let mut branches = branches.into_iter();
        let mut first = branches.next()?;
        for other in branches {
            first.union(UnionType::All, other);
        }
        Some(first)
    }

    /// The tickets that match, as a condition on `tickets` (any sort order).
    pub fn condition(&self) -> Expr {
        match self.matches(false) {
            Some(ids) => Expr::col((ticket::Entity, ticket::Column::Id)).in_subquery(ids),
            None => Expr::cust("1 = 0"),
        }
    }

    /// Keeps the tickets that match and orders them best first (see the module doc); `order`
    /// `Asc` reverses it. The caller adds the ticket number as the last key.
    pub fn ranked(&self, select: Select<Ticket>, order: Order) -> Select<Ticket> {
        let Some(matches) = self.matches(true) else {
            return select.filter(Expr::cust("1 = 0"));
        };
        let rank = Sql::select()
            .column(Alias::new(TICKET_ID))
            .expr_as(Func::max(Expr::col(Alias::new(TIER))), Alias::new(TIER))
            .expr_as(Func::sum(Expr::col(Alias::new(HITS))), Alias::new(HITS))
            .from_subquery(matches, Alias::new("search_matches"))
            .group_by_col(Alias::new(TICKET_ID))
            .to_owned();
        let mut select = select;
        QueryTrait::query(&mut select).join_subquery(
            JoinType::InnerJoin,
            rank,
            Alias::new(RANK),
            Expr::col((Alias::new(RANK), Alias::new(TICKET_ID)))
                .equals((ticket::Entity, ticket::Column::Id)),
        );
        select
            .order_by(
                Expr::col((Alias::new(RANK), Alias::new(TIER))),
                order.clone(),
            )
            .order_by(Expr::col((Alias::new(RANK), Alias::new(HITS))), order)
    }

    /// Where each ticket of a page matched, with a snippet. `tickets` all matched this search.
    pub async fn hits<C: ConnectionTrait>(
        &self,
        db: &C,
        tickets: &[ticket::Model],
    ) -> Result<HashMap<Uuid, SearchHit>, ApiError> {
        let mut out = HashMap::new();
        let mut in_messages = Vec::new();
        let customers: HashMap<Uuid, String> = match &self.query.email {
            Some(email) => User::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.email))
                .collect(),
            None => HashMap::new(),
        };
        for t in tickets {
            if self.query.number == Some(t.number) {
                out.insert(
                    t.id,
                    hit(
                        SearchField::Number,
                        None,
                        snippet::whole(format!("#{}", t.number)),
                    ),
                );
                continue;
            }
            if let Some(email) = customers.get(&t.customer_id) {
                out.insert(
                    t.id,
                    hit(SearchField::Customer, None, snippet::whole(email.clone())),
                );
                continue;
            }
            let answers = t.answers_text.clone().unwrap_or_default();
            let fields = [
                // A journey's description repeats its answers: "answers" is the more precise.
                (SearchField::Subject, t.subject.as_str()),
                (SearchField::Answers, answers.as_str()),
                (SearchField::Description, t.description.as_str()),
            ];
            let words: Vec<Vec<String>> =
                fields.iter().map(|(_, text)| query::words(text)).collect();
            let slices: Vec<&[String]> = words.iter().map(Vec::as_slice).collect();
            let own = self
                .query
                .matches(&slices)
                .then(|| (0..fields.len()).find(|&i| self.query.touches(&words[i])))
                .flatten();
            match own {
                Some(i) => {
                    let (field, text) = fields[i];
                    out.insert(t.id, hit(field, None, snippet::snippet(&self.query, text)));
                }
                None => in_messages.push(t.id),
            }
        }
        if !in_messages.is_empty() {
            let messages = TicketMessage::find()
                .filter(ticket_message::Column::TicketId.is_in(in_messages.iter().copied()))
                .filter(self.message_matches())
                .order_by_asc(ticket_message::Column::CreatedAt)
                .order_by_asc(ticket_message::Column::Id)
                .all(db)
                .await?;
            for m in messages {
                if out.contains_key(&m.ticket_id) {
                    continue;
                }
                let words = query::words(&m.body);
                if self.query.matches(&[&words]) {
                    out.insert(
                        m.ticket_id,
                        hit(
                            SearchField::Message,
                            Some(m.id),
                            snippet::snippet(&self.query, &m.body),
                        ),
                    );
                }
            }
        }
        // What the database matched and Rust's words did not (a tokenizer difference, such
        // as folded accents): the subject, unmarked.
        for t in tickets {
            out.entry(t.id).or_insert_with(|| {
                hit(
                    SearchField::Subject,
                    None,
                    snippet::snippet(&self.query, &t.subject),
                )
            });
        }
        Ok(out)
    }
}

fn hit(
    field: SearchField,
    message_id: Option<Uuid>,
    snippet: Vec<shared::tickets::SnippetPart>,
) -> SearchHit {
    SearchHit {
        field,
        message_id,
        snippet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_the_displayed_texts() {
        let transcript = serde_json::json!([
            {"node_id": "a", "question": "What?", "display": "Printer"},
            {"node_id": "b", "question": "Skipped", "display": ""},
            {"node_id": "c", "question": "Details", "display": "It jams"},
        ]);
        assert_eq!(
            answers_text(&transcript).as_deref(),
            Some("Printer It jams")
        );
        assert_eq!(answers_text(&serde_json::json!([])), None);
        assert_eq!(answers_text(&serde_json::json!({"x": 1})), None);
    }
}
