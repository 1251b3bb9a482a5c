//! Canned responses ("macros"): shared ones that admins manage, personal ones of each agent or
//! admin, and applying one to a ticket.
//!
//! A macro is checked when it is saved: its placeholders must all be known
//! (`shared::macros::PLACEHOLDERS`), so a customer never receives `{{…}}` text. Applying posts
//! the reply through the ordinary message path and then the ticket changes through the
//! ordinary update path, so mail, events, history and SLA bookkeeping are exactly those of a
//! reply and an edit made by hand. The changes are checked against the ticket before the reply
//! is posted; only a ticket changed by someone else in between can make them fail afterwards,
//! and the error then says that the reply was sent.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use shared::{
    ErrorCode, Paging, Role,
    macros::{
        self, AppliedMacro, ApplyMacroRequest, MacroActions, MacroDto, MacroListQuery,
        MacroPreview, MacroRequest,
    },
    tickets::{CreateMessageRequest, UpdateTicketRequest},
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{CannedMacro, User, canned_macro, ticket},
    error::ApiError,
    services::{
        access, begin_write, fetch_page, like_pattern, mail::Mailer, messages, search_text, tags,
        tickets,
    },
};

/// A checked create/edit request.
struct Parsed {
    title: String,
    body: String,
    actions: serde_json::Value,
}

fn parse(req: &MacroRequest) -> Result<Parsed, ApiError> {
    let mut errors = Vec::new();
    let title = req.title.trim();
    if title.is_empty() || title.chars().count() > macros::MAX_TITLE_CHARS {
        errors.push((
            "title",
            ErrorCode::ValidationFailed,
            format!("1 to {} characters", macros::MAX_TITLE_CHARS),
        ));
    }
    let body = req.body.trim();
    if body.is_empty() || body.chars().count() > macros::MAX_BODY_CHARS {
        errors.push((
            "body",
            ErrorCode::ValidationFailed,
            format!("1 to {} characters", macros::MAX_BODY_CHARS),
        ));
    } else if let Err(e) = macros::parse(body) {
        errors.push(("body", ErrorCode::ValidationFailed, e.to_string()));
    }
    if let Some(err) = ApiError::from_fields(errors) {
        return Err(err);
    }
    let mut actions = req.actions.clone();
    actions.add_tags = tags::parse_set(&actions.add_tags)?;
    Ok(Parsed {
        title: title.to_owned(),
        body: body.to_owned(),
        actions: serde_json::to_value(&actions)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising macro actions: {e}")))?,
    })
}

fn actions_of(m: &canned_macro::Model) -> MacroActions {
    // Written by this module from `MacroActions`; an unreadable value means no actions.
    serde_json::from_value(m.actions.clone()).unwrap_or_default()
}

async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    rows: Vec<canned_macro::Model>,
) -> Result<Vec<MacroDto>, ApiError> {
    let owners = tickets::people(db, rows.iter().filter_map(|m| m.owner_id)).await?;
    Ok(rows
        .into_iter()
        .map(|m| MacroDto {
            actions: actions_of(&m),
            shared: m.owner_id.is_none(),
            owner: m.owner_id.and_then(|id| owners.get(&id).cloned()),
            id: m.id,
            title: m.title,
            body: m.body,
            usage_count: m.usage_count,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

async fn to_dto<C: ConnectionTrait>(db: &C, m: canned_macro::Model) -> Result<MacroDto, ApiError> {
    to_dtos(db, vec![m])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("macro DTO missing")))
}

/// Shared macros and the caller's own.
fn visible_to(actor: &AuthUser) -> Condition {
    Condition::any()
        .add(canned_macro::Column::OwnerId.is_null())
        .add(canned_macro::Column::OwnerId.eq(actor.id))
}

async fn visible<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    id: Uuid,
) -> Result<canned_macro::Model, ApiError> {
    CannedMacro::find_by_id(id)
        .filter(visible_to(actor))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("macro"))
}

/// A macro the caller may change: their own, or (admins) a shared one. Routes check this
/// before they read the request body.
pub async fn editable<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    id: Uuid,
) -> Result<canned_macro::Model, ApiError> {
    let m = visible(db, actor, id).await?;
    if m.owner_id.is_none() && actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins change shared macros".to_owned(),
        ));
    }
    Ok(m)
}

/// The macros the caller may use, most used first, then by title.
pub async fn list(
    db: &DatabaseConnection,
    actor: &AuthUser,
    query: &MacroListQuery,
    paging: Paging,
) -> Result<(Vec<MacroDto>, u64), ApiError> {
    let mut cond = Condition::all().add(visible_to(actor));
    if let Some(q) = search_text(query.q.as_deref())? {
        for word in q.as_str().split_whitespace() {
            let pattern = like_pattern(&word.to_lowercase());
            cond = cond.add(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(canned_macro::Column::Title)))
                            .like(LikeExpr::new(pattern.clone()).escape('\\')),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(canned_macro::Column::Body)))
                            .like(LikeExpr::new(pattern).escape('\\')),
                    ),
            );
        }
    }
    let select = CannedMacro::find()
        .filter(cond)
        .order_by_desc(canned_macro::Column::UsageCount)
        .order_by_asc(canned_macro::Column::Title)
        .order_by_asc(canned_macro::Column::Id);
    let (rows, count) = fetch_page(db, select, paging).await?;
    Ok((to_dtos(db, rows).await?, count))
}

pub async fn get(
    db: &DatabaseConnection,
    actor: &AuthUser,
    id: Uuid,
) -> Result<MacroDto, ApiError> {
    let m = visible(db, actor, id).await?;
    to_dto(db, m).await
}

/// Creates a personal macro, or (admins, `shared: true`) a shared one.
pub async fn create(
    db: &DatabaseConnection,
    actor: &AuthUser,
    req: MacroRequest,
) -> Result<MacroDto, ApiError> {
    if req.shared && actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only admins create shared macros".to_owned(),
        ));
    }
    let p = parse(&req)?;
    let now = Utc::now();
    let m = canned_macro::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set((!req.shared).then_some(actor.id)),
        title: Set(p.title),
        body: Set(p.body),
        actions: Set(p.actions),
        usage_count: Set(0),
        created_by: Set(Some(actor.id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    to_dto(db, m).await
}

/// Edits title, body and actions. Whether a macro is shared is fixed when it is created.
pub async fn update(
    db: &DatabaseConnection,
    m: canned_macro::Model,
    req: MacroRequest,
) -> Result<MacroDto, ApiError> {
    if req.shared != m.owner_id.is_none() {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "shared",
            "a macro stays shared or personal; create a new one instead",
        ));
    }
    let p = parse(&req)?;
    let mut active = m.into_active_model();
    active.title = Set(p.title);
    active.body = Set(p.body);
    active.actions = Set(p.actions);
    active.updated_at = Set(Utc::now());
    let m = active.update(db).await?;
    to_dto(db, m).await
}

pub async fn delete(db: &DatabaseConnection, actor: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    let m = editable(db, actor, id).await?;
    CannedMacro::delete_by_id(m.id).exec(db).await?;
    Ok(())
}

/// The macro's body with this ticket's values.
async fn render_for<C: ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    m: &canned_macro::Model,
    t: &ticket::Model,
) -> Result<String, ApiError> {
    let customer = User::find_by_id(t.customer_id).one(db).await?;
    let status: shared::TicketStatus = t.status.into();
    let value = |name: &str| -> String {
        match name {
            "customer.name" => customer
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            "customer.email" => customer
                .as_ref()
                .map(|c| c.email.clone())
                .unwrap_or_default(),
            "ticket.number" => t.number.to_string(),
            "ticket.subject" => t.subject.clone(),
            "ticket.status" => status.to_string(),
            "ticket.priority" => t.priority().to_string(),
            "ticket.category" => t.category.clone().unwrap_or_default(),
            "agent.name" => actor.user.name.clone(),
            "agent.email" => actor.user.email.clone(),
            _ => String::new(),
        }
    };
    // Saved macros passed the same check; one that no longer does is refused, never sent raw.
    macros::render(&m.body, value).map_err(|e| {
        ApiError::field(
            ErrorCode::ValidationFailed,
            "body",
            format!("the macro cannot be used: {e}"),
        )
    })
}

/// What applying the macro to the ticket would send and change.
pub async fn preview(
    db: &DatabaseConnection,
    actor: &AuthUser,
    ticket_id: Uuid,
    macro_id: Uuid,
) -> Result<MacroPreview, ApiError> {
    let t = access::visible_ticket(db, actor, ticket_id, false).await?;
    let m = visible(db, actor, macro_id).await?;
    Ok(MacroPreview {
        body: render_for(db, actor, &m, &t).await?,
        actions: actions_of(&m),
    })
}

/// Posts the macro's reply (as edited, or as rendered) and applies its changes.
pub async fn apply(
    db: &DatabaseConnection,
    mailer: &Mailer,
    actor: &AuthUser,
    ticket_id: Uuid,
    macro_id: Uuid,
    req: ApplyMacroRequest,
) -> Result<AppliedMacro, ApiError> {
    let t = access::visible_ticket(db, actor, ticket_id, false).await?;
    let m = visible(db, actor, macro_id).await?;
    let actions = actions_of(&m);
    let body = match req.body {
        Some(edited) => edited,
        None => render_for(db, actor, &m, &t).await?,
    };
    // Check the status change and the tags before anything is sent.
    if let Some(to) = actions.status {
        tickets::apply_status(&mut t.clone(), actor, to, Utc::now())?;
    }
    let add_tags = tags::parse_set(&actions.add_tags)?;
    if !add_tags.is_empty() {
        let mut after = tags::tags_of(db, &[t.id])
            .await?
            .remove(&t.id)
            .unwrap_or_default();
        after.extend(add_tags.iter().cloned());
        tags::parse_set(&after)?;
    }
    let message = messages::create(
        db,
        mailer,
        actor,
        ticket_id,
        CreateMessageRequest {
            body,
            internal: req.internal,
            attachment_ids: req.attachment_ids,
        },
    )
    .await?;
    let t = if actions.status.is_none() && actions.priority.is_none() {
        access::visible_ticket(db, actor, ticket_id, false).await?
    } else {
        tickets::update(
            db,
            mailer,
            actor,
            ticket_id,
            UpdateTicketRequest {
                status: actions.status,
                priority: actions.priority,
                category: None,
            },
        )
        .await
        .map_err(|e| match e {
            ApiError::Transition { from, to, .. } => ApiError::Conflict(
                ErrorCode::InvalidTransition,
                format!(
                    "the reply was sent, but the ticket changed meanwhile: it cannot go from {from} to {to}"
                ),
            ),
            other => other,
        })?
    };
    let t = if add_tags.is_empty() {
        t
    } else {
        let txn = begin_write(db).await?;
        let locked = access::visible_ticket(&txn, actor, ticket_id, true).await?;
        let now = Utc::now();
        let t = if tags::add(&txn, locked.id, Some(actor.id), &add_tags, now).await? {
            tags::announce(&txn, locked, now).await?
        } else {
            locked
        };
        txn.commit().await?;
        t
    };
    CannedMacro::update_many()
        .col_expr(
            canned_macro::Column::UsageCount,
            Expr::col(canned_macro::Column::UsageCount).add(1),
        )
        .filter(canned_macro::Column::Id.eq(m.id))
        .exec(db)
        .await?;
    Ok(AppliedMacro {
        message,
        ticket: tickets::to_dto(db, true, t).await?,
    })
}
