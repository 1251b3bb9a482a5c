//! Ticket tags: setting a ticket's tags (by hand, from a journey end node, from a macro),
//! reading them for DTOs, the list filters, the known tags with their counts, and the tag
//! analytics.
//!
//! Tags live in `ticket_tags`, one row per (ticket, tag), so a filter is an indexed lookup of
//! tag → tickets, never a text search over the ticket rows. Every tag is normalised by
//! `shared::tags` first; each change of a ticket's set records one `tag` history row per tag
//! added (`to`) or removed (`from`) and, when made on its own, a `ticket-updated` event.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr, Query},
};
use shared::{
    ErrorCode, Paging,
    analytics::AnalyticsQuery,
    tags::{
        self, MAX_TAGS_PER_TICKET, SetTagsRequest, TagAnalyticsDto, TagCountDto, TagError,
        TagListQuery,
    },
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Ticket, TicketTag, ticket, ticket_tag},
    error::ApiError,
    services::{access, analytics, begin_write, events, search_text, tickets},
};

/// Tags per analytics answer.
const ANALYTICS_TAGS: u64 = 100;

/// A [`TagError`] as the API answers it: 400 `invalid_tag`, `details.tag` naming the value.
pub fn tag_error(e: TagError) -> ApiError {
    ApiError::Detailed {
        code: ErrorCode::InvalidTag,
        message: e.to_string(),
        details: serde_json::json!({ "tag": e.tag() }),
    }
}

/// A set of tags in stored form, or 400 `invalid_tag`.
pub fn parse_set<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, ApiError> {
    tags::normalize_set(raw).map_err(tag_error)
}

/// The tags of each of `ids` (sorted); tickets without tags are absent.
pub async fn tags_of<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>, ApiError> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = TicketTag::find()
        .filter(ticket_tag::Column::TicketId.is_in(ids.iter().copied()))
        .order_by_asc(ticket_tag::Column::TicketId)
        .order_by_asc(ticket_tag::Column::Tag)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.ticket_id).or_default().push(r.tag);
    }
    Ok(out)
}

/// Makes `wanted` (already normalised) the ticket's tags and records the difference in its
/// history. Returns whether anything changed.
pub async fn write_set<C: ConnectionTrait>(
    db: &C,
    ticket_id: Uuid,
    actor: Option<Uuid>,
    wanted: &[String],
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let current: BTreeSet<String> = tags_of(db, &[ticket_id])
        .await?
        .remove(&ticket_id)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let wanted: BTreeSet<String> = wanted.iter().cloned().collect();
    let added: Vec<&String> = wanted.difference(&current).collect();
    let removed: Vec<&String> = current.difference(&wanted).collect();
    if added.is_empty() && removed.is_empty() {
        return Ok(false);
    }
    if !removed.is_empty() {
        TicketTag::delete_many()
            .filter(ticket_tag::Column::TicketId.eq(ticket_id))
            .filter(ticket_tag::Column::Tag.is_in(removed.iter().map(|t| t.as_str())))
            .exec(db)
            .await?;
    }
    if !added.is_empty() {
        TicketTag::insert_many(added.iter().map(|tag| ticket_tag::ActiveModel {
            ticket_id: sea_orm::ActiveValue::Set(ticket_id),
            tag: sea_orm::ActiveValue::Set((*tag).clone()),
            created_at: sea_orm::ActiveValue::Set(now),
        }))
        .exec_without_returning(db)
        .await?;
    }
    for tag in removed {
        tickets::record(db, ticket_id, actor, "tag", Some(tag.clone()), None, now).await?;
    }
    for tag in added {
        tickets::record(db, ticket_id, actor, "tag", None, Some(tag.clone()), now).await?;
    }
    Ok(true)
}

/// Adds `extra` (already normalised) to the ticket's tags, within the per-ticket bound.
/// Returns whether anything changed.
pub async fn add<C: ConnectionTrait>(
    db: &C,
    ticket_id: Uuid,
    actor: Option<Uuid>,
    extra: &[String],
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    if extra.is_empty() {
        return Ok(false);
    }
    let mut set = tags_of(db, &[ticket_id])
        .await?
        .remove(&ticket_id)
        .unwrap_or_default();
    set.extend(extra.iter().cloned());
    set.sort();
    set.dedup();
    if set.len() > MAX_TAGS_PER_TICKET {
        return Err(tag_error(TagError::TooMany(set.len())));
    }
    write_set(db, ticket_id, actor, &set, now).await
}

/// Marks the ticket changed and tells everyone who follows it.
pub async fn announce<C: ConnectionTrait>(
    db: &C,
    t: ticket::Model,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let mut t = t;
    t.updated_at = now;
    let t = tickets::save(db, t).await?;
    let dto = tickets::to_dto(db, false, t.clone()).await?;
    events::ticket_updated(db, &t, dto, now).await?;
    Ok(t)
}

/// `PUT /api/tickets/{id}/tags` (staff who may see the ticket): the ticket's complete set.
pub async fn set(
    db: &DatabaseConnection,
    actor: &AuthUser,
    id: Uuid,
    req: SetTagsRequest,
) -> Result<ticket::Model, ApiError> {
    let wanted = parse_set(&req.tags)?;
    let txn = begin_write(db).await?;
    let t = access::visible_ticket(&txn, actor, id, true).await?;
    let now = Utc::now();
    let t = if write_set(&txn, t.id, Some(actor.id), &wanted, now).await? {
        announce(&txn, t, now).await?
    } else {
        t
    };
    txn.commit().await?;
    Ok(t)
}

/// A list filter's comma-separated tags, normalised, each once (400 `invalid_query`).
fn filter_tags(param: &str, raw: &str) -> Result<Vec<String>, ApiError> {
    let items: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let set = tags::normalize_set(&items).map_err(|e| {
        ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            match e {
                TagError::TooMany(n) => {
                    format!("{param}: {n} tags, at most {MAX_TAGS_PER_TICKET}")
                }
                other => format!("{param}: {other}"),
            },
        )
    })?;
    Ok(set)
}

/// Tickets carrying `tag`, as a subquery over the `(tag, ticket_id)` index.
fn carrying(tags: &[String]) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(ticket_tag::Column::TicketId)
        .from(TicketTag)
        .and_where(ticket_tag::Column::Tag.is_in(tags.iter().cloned()))
        .to_owned()
}

/// The `tags` (all of) and `any_tags` (any of) filters of the ticket list, for staff.
pub fn list_condition(
    actor: &AuthUser,
    all_of: Option<&str>,
    any_of: Option<&str>,
) -> Result<Option<Condition>, ApiError> {
    if all_of.is_none() && any_of.is_none() {
        return Ok(None);
    }
    if !actor.role.is_staff() {
        return Err(ApiError::BadRequest(
            ErrorCode::InvalidQuery,
            "tags and any_tags are staff filters".to_owned(),
        ));
    }
    let mut cond = Condition::all();
    if let Some(raw) = all_of {
        for tag in filter_tags("tags", raw)? {
            cond = cond.add(ticket::Column::Id.in_subquery(carrying(&[tag])));
        }
    }
    if let Some(raw) = any_of {
        let any = filter_tags("any_tags", raw)?;
        if !any.is_empty() {
            cond = cond.add(ticket::Column::Id.in_subquery(carrying(&any)));
        }
    }
    Ok(Some(cond))
}

/// Known tags with the number of tickets carrying each, most used first, then by name;
/// `q` keeps those starting with it.
pub async fn list(
    db: &DatabaseConnection,
    query: &TagListQuery,
    paging: Paging,
) -> Result<(Vec<TagCountDto>, u64), ApiError> {
    let mut cond = Condition::all();
    if let Some(q) = search_text(query.q.as_deref())? {
        // The prefix in stored form; what can never start a tag matches nothing.
        let prefix: String = q.as_str().trim().to_lowercase();
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(if c.is_whitespace() { '-' } else { c });
        }
        pattern.push('%');
        cond =
            cond.add(Expr::col(ticket_tag::Column::Tag).like(LikeExpr::new(pattern).escape('\\')));
    }
    let total = TicketTag::find()
        .select_only()
        .column_as(Expr::col(ticket_tag::Column::Tag).count_distinct(), "n")
        .filter(cond.clone())
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    let rows = TicketTag::find()
        .select_only()
        .column(ticket_tag::Column::Tag)
        .column_as(Expr::col(ticket_tag::Column::TicketId).count(), "n")
        .filter(cond)
        .group_by(ticket_tag::Column::Tag)
        .order_by_desc(Expr::col(ticket_tag::Column::TicketId).count())
        .order_by_asc(ticket_tag::Column::Tag)
        .offset(paging.offset())
        .limit(paging.per_page)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|(tag, n)| TagCountDto {
                tag,
                count: u64::try_from(n).unwrap_or(0),
            })
            .collect(),
        u64::try_from(total).unwrap_or(0),
    ))
}

/// `GET /api/analytics/tags`: tickets created in the range, how many carry a tag, and the
/// count per tag (the 100 most used).
pub async fn counts_in_range(
    db: &DatabaseConnection,
    query: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<TagAnalyticsDto, ApiError> {
    let (from, to) = analytics::range(query, now)?;
    let in_range = Query::select()
        .column(ticket::Column::Id)
        .from(Ticket)
        .and_where(ticket::Column::CreatedAt.gte(from))
        .and_where(ticket::Column::CreatedAt.lt(to))
        .to_owned();
    let created = Ticket::find()
        .filter(ticket::Column::CreatedAt.gte(from))
        .filter(ticket::Column::CreatedAt.lt(to))
        .select_only()
        .column_as(Expr::col(ticket::Column::Id).count(), "n")
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    let tagged = TicketTag::find()
        .select_only()
        .column_as(
            Expr::col(ticket_tag::Column::TicketId).count_distinct(),
            "n",
        )
        .filter(ticket_tag::Column::TicketId.in_subquery(in_range.clone()))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    let rows = TicketTag::find()
        .select_only()
        .column(ticket_tag::Column::Tag)
        .column_as(Expr::col(ticket_tag::Column::TicketId).count(), "n")
        .filter(ticket_tag::Column::TicketId.in_subquery(in_range))
        .group_by(ticket_tag::Column::Tag)
        .order_by_desc(Expr::col(ticket_tag::Column::TicketId).count())
        .order_by_asc(ticket_tag::Column::Tag)
        .limit(ANALYTICS_TAGS)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(TagAnalyticsDto {
        from,
        to,
        tickets: n(created),
        tagged: n(tagged),
        tags: rows
            .into_iter()
            .map(|(tag, count)| TagCountDto {
                tag,
                count: n(count),
            })
            .collect(),
    })
}
