//! Saved views: named ticket-list views (filters, sort and search text of `GET /api/tickets`),
//! personal to their owner or shared by an admin with all staff, and their ticket counts.
//!
//! A view's filters are checked when it is saved exactly as the list checks a request: they
//! must parse into `TicketListQuery` and pass `services::tickets::filtered`, so a view can
//! never hold a filter the list would refuse. They are stored in that parsed form.
//!
//! Counts are capped at `shared::views::COUNT_CAP`: each count reads at most that many
//! matching rows (`SELECT COUNT(*) FROM (SELECT 1 … LIMIT cap + 1)`), through the same
//! indexes the list uses, so refreshing a dashboard's counts stays cheap however large the
//! ticket table grows.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use shared::{
    ErrorCode, Role,
    tickets::TicketListQuery,
    views::{
        COUNT_CAP, MAX_NAME_CHARS, MAX_VIEWS, UpdateViewRequest, ViewCountDto, ViewDto, ViewRequest,
    },
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{SavedView, Ticket, saved_view},
    error::ApiError,
    services::tickets,
};

fn parse_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "name",
            format!("1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Checks filters as the ticket list would for `actor` and returns them in stored form: the
/// parsed query, without the fields that are not set.
pub fn parse_filters(
    actor: &AuthUser,
    raw: &serde_json::Value,
    backend: DatabaseBackend,
) -> Result<serde_json::Value, ApiError> {
    let bad = |message: String| ApiError::BadRequest(ErrorCode::InvalidQuery, message);
    let Some(fields) = raw.as_object() else {
        return Err(bad("filters must be a JSON object".to_owned()));
    };
    for paging in ["page", "per_page"] {
        if fields.contains_key(paging) {
            return Err(bad(format!("a view does not store `{paging}`")));
        }
    }
    let query: TicketListQuery =
        serde_json::from_value(raw.clone()).map_err(|e| bad(format!("filters: {e}")))?;
    tickets::filtered(actor, &query, backend)?;
    stored_form(&query)
}

fn stored_form(query: &TicketListQuery) -> Result<serde_json::Value, ApiError> {
    let mut value = serde_json::to_value(query)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising view filters: {e}")))?;
    if let Some(fields) = value.as_object_mut() {
        fields.retain(|_, v| !serde_json::Value::is_null(v));
    }
    Ok(value)
}

fn filters_of(v: &saved_view::Model) -> TicketListQuery {
    // Written by this module from a checked `TicketListQuery`; an unreadable value filters
    // nothing rather than failing the whole list.
    serde_json::from_value(v.filters.clone()).unwrap_or_default()
}

async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    rows: Vec<saved_view::Model>,
) -> Result<Vec<ViewDto>, ApiError> {
    let owners = tickets::people(db, rows.iter().filter_map(|v| v.owner_id)).await?;
    Ok(rows
        .into_iter()
        .map(|v| ViewDto {
            filters: filters_of(&v),
            shared: v.owner_id.is_none(),
            owner: v.owner_id.and_then(|id| owners.get(&id).cloned()),
            id: v.id,
            name: v.name,
            created_at: v.created_at,
            updated_at: v.updated_at,
        })
        .collect())
}

async fn to_dto<C: ConnectionTrait>(db: &C, v: saved_view::Model) -> Result<ViewDto, ApiError> {
    to_dtos(db, vec![v])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("view DTO missing")))
}

/// Shared views and the caller's own.
fn visible_to(actor: &AuthUser) -> Condition {
    Condition::any()
        .add(saved_view::Column::OwnerId.is_null())
        .add(saved_view::Column::OwnerId.eq(actor.id))
}

/// The views the caller sees: shared ones first, then their own; each kind in its order.
async fn visible_rows<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
) -> Result<Vec<saved_view::Model>, ApiError> {
    Ok(SavedView::find()
        .filter(visible_to(actor))
        .order_by_desc(Expr::col(saved_view::Column::OwnerId).is_null())
        .order_by_asc(saved_view::Column::Position)
        .order_by_asc(saved_view::Column::CreatedAt)
        .order_by_asc(saved_view::Column::Id)
        .all(db)
        .await?)
}

/// A view the caller may change: their own, or (admins) a shared one. Another user's
/// personal view is a 404, as if it did not exist. Routes check this before they read the
/// request body.
pub async fn editable<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    id: Uuid,
) -> Result<saved_view::Model, ApiError> {
    let v = SavedView::find_by_id(id)
        .filter(visible_to(actor))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("view"))?;
    if v.owner_id.is_none() && actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins change shared views".to_owned(),
        ));
    }
    Ok(v)
}

pub async fn list(db: &DatabaseConnection, actor: &AuthUser) -> Result<Vec<ViewDto>, ApiError> {
    let rows = visible_rows(db, actor).await?;
    to_dtos(db, rows).await
}

/// Creates a personal view, or (admins, `shared: true`) a shared one.
pub async fn create(
    db: &DatabaseConnection,
    actor: &AuthUser,
    req: ViewRequest,
) -> Result<ViewDto, ApiError> {
    if req.shared && actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins create shared views".to_owned(),
        ));
    }
    let name = parse_name(&req.name)?;
    let filters = parse_filters(actor, &req.filters, db.get_database_backend())?;
    let owner = (!req.shared).then_some(actor.id);
    let existing = SavedView::find()
        .filter(match owner {
            Some(id) => saved_view::Column::OwnerId.eq(id),
            None => saved_view::Column::OwnerId.is_null(),
        })
        .count(db)
        .await?;
    if existing >= MAX_VIEWS {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            format!(
                "there are already {MAX_VIEWS} {} views; delete one first",
                if req.shared { "shared" } else { "personal" }
            ),
        ));
    }
    let now = Utc::now();
    let v = saved_view::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner),
        name: Set(name),
        filters: Set(filters),
        position: Set(100),
        created_by: Set(Some(actor.id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    to_dto(db, v).await
}

/// Renames a view or replaces its filters. Whether it is shared is fixed at creation.
pub async fn update(
    db: &DatabaseConnection,
    actor: &AuthUser,
    v: saved_view::Model,
    req: UpdateViewRequest,
) -> Result<ViewDto, ApiError> {
    let name = req.name.as_deref().map(parse_name).transpose()?;
    let filters = req
        .filters
        .as_ref()
        .map(|f| parse_filters(actor, f, db.get_database_backend()))
        .transpose()?;
    let mut active = v.into_active_model();
    if let Some(name) = name {
        active.name = Set(name);
    }
    if let Some(filters) = filters {
        active.filters = Set(filters);
    }
    active.updated_at = Set(Utc::now());
    let v = active.update(db).await?;
    to_dto(db, v).await
}

pub async fn delete(db: &DatabaseConnection, actor: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    let v = editable(db, actor, id).await?;
    SavedView::delete_by_id(v.id).exec(db).await?;
    Ok(())
}

/// How many tickets each view the caller sees holds for them, capped at [`COUNT_CAP`], in the
/// order of [`list`].
pub async fn counts(
    db: &DatabaseConnection,
    actor: &AuthUser,
) -> Result<Vec<ViewCountDto>, ApiError> {
    let mut out = Vec::new();
    for v in visible_rows(db, actor).await? {
        let cond = tickets::condition(actor, &filters_of(&v), db.get_database_backend())?;
        let mut matches = Ticket::find()
            .filter(cond)
            .select_only()
            .column_as(Expr::val(1), "one")
            .into_query();
        matches.limit(COUNT_CAP + 1);
        let stmt = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(matches, Alias::new("capped"))
            .to_owned();
        let row = db
            .query_one_raw(db.get_database_backend().build(&stmt))
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("COUNT returned no row")))?;
        let n = <u64 as TryFrom<i64>>::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0);
        out.push(ViewCountDto {
            view_id: v.id,
            count: Ord::min(n, COUNT_CAP),
            capped: n > COUNT_CAP,
        });
    }
    Ok(out)
}
