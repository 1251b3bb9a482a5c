//! Journeys: storing and versioning definitions, what customers may see, and turning a
//! customer's answers into a ticket with the shared evaluator.
//!
//! A definition is validated with `shared::journey::validate` before it is stored; every
//! change of the document creates a new version, so tickets keep the exact version they were
//! created from. On submit the server walks the answers again and accepts only what the
//! journey itself would produce.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use shared::{
    ErrorCode, Paging, Role,
    journey::{Answers, JourneyDefinition, Problem, ValidJourney},
    journeys::{JourneyDto, JourneyListQuery, JourneyRequest},
    validate::DisplayName,
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Journey, JourneyVersion, journey},
    error::ApiError,
    services::{
        begin_write,
        mail::Mailer,
        tickets::{self, JourneyOrigin, NewTicket},
    },
};

/// A 422 `invalid_journey` listing every problem.
fn invalid(problems: Vec<Problem>) -> ApiError {
    let n = problems.len();
    ApiError::Detailed {
        code: ErrorCode::InvalidJourney,
        message: format!(
            "the journey has {n} problem{}",
            if n == 1 { "" } else { "s" }
        ),
        details: serde_json::json!({ "problems": problems }),
    }
}

/// A validated create/edit request.
struct Parsed {
    slug: String,
    name: String,
    description: String,
    icon: String,
    definition: JourneyDefinition,
}

fn parse(req: JourneyRequest) -> Result<Parsed, ApiError> {
    let mut errors = Vec::new();
    let slug = req.slug.trim().to_owned();
    if slug.is_empty()
        || slug.len() > 100
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push((
            "slug",
            ErrorCode::ValidationFailed,
            "1 to 100 characters of a-z, 0-9 and -".to_owned(),
        ));
    }
    let name = match DisplayName::parse(&req.name) {
        Ok(n) => n.into_inner(),
        Err(m) => {
            errors.push(("name", ErrorCode::ValidationFailed, m));
            String::new()
        }
    };
    let description = req.description.trim().to_owned();
    if description.chars().count() > 2000 {
        errors.push((
            "description",
            ErrorCode::ValidationFailed,
            "at most 2000 characters".to_owned(),
        ));
    }
    let icon = req.icon.trim().to_owned();
    if icon.chars().count() > 64 {
        errors.push((
            "icon",
            ErrorCode::ValidationFailed,
            "at most 64 characters".to_owned(),
        ));
    }
    if let Some(err) = ApiError::from_fields(errors) {
        return Err(err);
    }
    // Either format: the original one (a `nodes` array) is converted here.
    let definition = shared::journey::parse_document(req.definition).map_err(|message| {
        invalid(vec![Problem {
            node_id: None,
            code: shared::journey::ProblemCode::Malformed,
            message,
        }])
    })?;
    let valid = ValidJourney::new(definition).map_err(invalid)?;
    Ok(Parsed {
        slug,
        name,
        description,
        icon,
        definition: valid.into_definition(),
    })
}

/// Validated journey versions, by (journey, version). A version never changes once written
/// (editing a journey makes a new one), so an entry never goes stale; only the journey row
/// (active, current version) is read for each submission.
#[derive(Default)]
pub struct VersionCache {
    versions: std::sync::Mutex<HashMap<(Uuid, i32), Arc<ValidJourney>>>,
}

/// Versions kept at most; beyond that the cache starts over.
const MAX_VERSIONS: usize = 1024;

impl VersionCache {
    /// Version `version` of journey `id`, validated.
    pub async fn get<C: ConnectionTrait>(
        &self,
        db: &C,
        id: Uuid,
        version: i32,
    ) -> Result<Arc<ValidJourney>, ApiError> {
        let cached = self
            .versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(id, version))
            .cloned();
        if let Some(found) = cached {
            return Ok(found);
        }
        let definition = definition_of(db, id, version).await?;
        let valid = Arc::new(ValidJourney::new(definition).map_err(|problems| {
            ApiError::Internal(anyhow::anyhow!(
                "stored journey {id} v{version} is invalid: {problems:?}"
            ))
        })?);
        let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        if versions.len() >= MAX_VERSIONS {
            versions.clear();
        }
        versions.insert((id, version), valid.clone());
        Ok(valid)
    }
}

async fn definition_of<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    version: i32,
) -> Result<JourneyDefinition, ApiError> {
    let row = JourneyVersion::find_by_id((id, version))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("journey {id} v{version} is missing")))?;
    serde_json::from_value(row.definition)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored journey {id} v{version}: {e}")))
}

async fn to_dto<C: ConnectionTrait>(db: &C, j: journey::Model) -> Result<JourneyDto, ApiError> {
    let definition = definition_of(db, j.id, j.current_version).await?;
    Ok(JourneyDto {
        id: j.id,
        slug: j.slug,
        name: j.name,
        description: j.description,
        icon: j.icon,
        version: j.current_version,
        active: j.active,
        archived: j.archived,
        definition,
        created_at: j.created_at,
        updated_at: j.updated_at,
    })
}

const SLUG_TAKEN: &str = "another journey already uses this slug";

/// Creates a journey (inactive, version 1). `actor` is the admin who did it (`None` from the
/// command line).
pub async fn create(
    db: &DatabaseConnection,
    actor: Option<Uuid>,
    req: JourneyRequest,
    now: DateTime<Utc>,
) -> Result<JourneyDto, ApiError> {
    let p = parse(req)?;
    let definition = serde_json::to_value(&p.definition)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising journey: {e}")))?;
    let txn = begin_write(db).await?;
    let j = journey::ActiveModel {
        id: Set(Uuid::new_v4()),
        slug: Set(p.slug),
        name: Set(p.name),
        description: Set(p.description),
        icon: Set(p.icon),
        current_version: Set(1),
        active: Set(false),
        archived: Set(false),
        created_by: Set(actor),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| ApiError::on_unique_violation(e, ErrorCode::Conflict, SLUG_TAKEN))?;
    journey::version::ActiveModel {
        journey_id: Set(j.id),
        version: Set(1),
        definition: Set(definition),
        created_by: Set(actor),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let dto = to_dto(&txn, j).await?;
    txn.commit().await?;
    Ok(dto)
}

/// Edits a journey. A changed document becomes a new version; tickets keep theirs.
pub async fn update(
    db: &DatabaseConnection,
    actor: Option<Uuid>,
    id: Uuid,
    req: JourneyRequest,
    now: DateTime<Utc>,
) -> Result<JourneyDto, ApiError> {
    let p = parse(req)?;
    let txn = begin_write(db).await?;
    let j = Journey::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("journey"))?;
    let current = definition_of(&txn, id, j.current_version).await?;
    let version = if current == p.definition {
        j.current_version
    } else {
        let version = j.current_version + 1;
        journey::version::ActiveModel {
            journey_id: Set(id),
            version: Set(version),
            definition: Set(serde_json::to_value(&p.definition)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising journey: {e}")))?),
            created_by: Set(actor),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        version
    };
    let mut active = j.into_active_model();
    active.slug = Set(p.slug);
    active.name = Set(p.name);
    active.description = Set(p.description);
    active.icon = Set(p.icon);
    active.current_version = Set(version);
    active.updated_at = Set(now);
    let j = active
        .update(&txn)
        .await
        .map_err(|e| ApiError::on_unique_violation(e, ErrorCode::Conflict, SLUG_TAKEN))?;
    let dto = to_dto(&txn, j).await?;
    txn.commit().await?;
    Ok(dto)
}

/// A journey as a document that `POST /api/journeys`, `PUT /api/journeys/{id}` and
/// `helpdesk journeys import` accept: its slug, name, description, icon and current definition.
pub async fn export(db: &DatabaseConnection, id: Uuid) -> Result<JourneyRequest, ApiError> {
    let j = Journey::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("journey"))?;
    let definition = definition_of(db, j.id, j.current_version).await?;
    Ok(JourneyRequest {
        slug: j.slug,
        name: j.name,
        description: j.description,
        icon: j.icon,
        definition: serde_json::to_value(&definition)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising journey: {e}")))?,
    })
}

/// What [`import`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// No journey had the slug: created as version 1, inactive.
    Created,
    /// The journey with that slug got the document; a changed definition made a new version.
    Updated,
}

/// Creates the journey named by `req.slug`, or updates the one that has it (a changed
/// definition becomes a new version; its active state is kept).
pub async fn import(
    db: &DatabaseConnection,
    req: JourneyRequest,
    now: DateTime<Utc>,
) -> Result<(JourneyDto, Imported), ApiError> {
    let existing = Journey::find()
        .filter(journey::Column::Slug.eq(req.slug.trim()))
        .one(db)
        .await?;
    match existing {
        Some(j) => Ok((update(db, None, j.id, req, now).await?, Imported::Updated)),
        None => Ok((create(db, None, req, now).await?, Imported::Created)),
    }
}

/// Journeys the caller may see: active ones for customers and agents; for admins all but the
/// archived (unless asked for).
pub async fn list(
    db: &DatabaseConnection,
    user: &AuthUser,
    query: &JourneyListQuery,
    paging: Paging,
) -> Result<(Vec<JourneyDto>, u64), ApiError> {
    let mut select = Journey::find();
    if user.role == Role::Admin {
        if query.archived != Some(true) {
            select = select.filter(journey::Column::Archived.eq(false));
        }
    } else {
        select = select
            .filter(journey::Column::Active.eq(true))
            .filter(journey::Column::Archived.eq(false));
    }
    let select = select
        .order_by_asc(journey::Column::Name)
        .order_by_asc(journey::Column::Id);
    let (rows, count) = super::fetch_page(db, select, paging).await?;
    let mut out = Vec::with_capacity(rows.len());
    for j in rows {
        out.push(to_dto(db, j).await?);
    }
    Ok((out, count))
}

/// A journey the caller may see (inactive ones only for admins).
pub async fn get(
    db: &DatabaseConnection,
    user: &AuthUser,
    id: Uuid,
) -> Result<JourneyDto, ApiError> {
    let j = visible(db, user, id).await?;
    to_dto(db, j).await
}

async fn visible<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    id: Uuid,
) -> Result<journey::Model, ApiError> {
    match Journey::find_by_id(id).one(db).await? {
        Some(j) if user.role == Role::Admin || (j.active && !j.archived) => Ok(j),
        _ => Err(ApiError::NotFound("journey")),
    }
}

/// What an admin does to a journey's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Activate,
    Deactivate,
    Archive,
}

pub async fn change_state(
    db: &DatabaseConnection,
    id: Uuid,
    change: StateChange,
    now: DateTime<Utc>,
) -> Result<JourneyDto, ApiError> {
    let j = Journey::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("journey"))?;
    if change == StateChange::Activate && j.archived {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            "an archived journey cannot be activated".to_owned(),
        ));
    }
    let mut active = j.into_active_model();
    match change {
        StateChange::Activate => active.active = Set(true),
        StateChange::Deactivate => active.active = Set(false),
        StateChange::Archive => {
            active.active = Set(false);
            active.archived = Set(true);
        }
    }
    active.updated_at = Set(now);
    let j = active.update(db).await?;
    to_dto(db, j).await
}

/// Turns a customer's answers into a ticket. The answers are walked again with the shared
/// evaluator; anything the journey would not produce is a 422 `invalid_answers`. Image answers
/// must be the customer's own, not yet attached uploads.
pub async fn submit(
    db: &DatabaseConnection,
    mailer: &Mailer,
    user: &AuthUser,
    id: Uuid,
    answers: Answers,
    versions: &VersionCache,
) -> Result<(crate::entity::ticket::Model, shared::tickets::TicketDto), ApiError> {
    if user.role != Role::Customer {
        return Err(ApiError::Forbidden(
            "journeys are submitted by customers; staff open tickets directly".to_owned(),
        ));
    }
    let j = visible(db, user, id).await?;
    let journey = versions.get(db, j.id, j.current_version).await?;
    let outcome = journey.evaluate(&answers).map_err(|e| ApiError::Detailed {
        code: ErrorCode::InvalidAnswers,
        message: e.to_string(),
        details: serde_json::json!({
            "reason": e.code().as_str(),
            "node_id": e.node_id(),
            "error": e,
        }),
    })?;
    let description = outcome
        .transcript
        .iter()
        .map(|t| {
            let answer = if t.display.is_empty() {
                "—"
            } else {
                t.display.as_str()
            };
            format!("{}\n{}", t.question, answer)
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let new = NewTicket {
        subject: outcome.subject.clone(),
        description: if description.is_empty() {
            outcome.subject.clone()
        } else {
            description
        },
        priority: outcome.priority,
        category: Some(outcome.category.clone()),
        customer_id: user.id,
        attachment_ids: outcome.attachment_ids(),
        // Checked when the journey was saved; stored journeys from before tags have none.
        tags: super::tags::parse_set(&outcome.tags)?,
        journey: Some(JourneyOrigin {
            journey_id: j.id,
            version: j.current_version,
            answers: serde_json::to_value(outcome.answers())
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("answers: {e}")))?,
            transcript: serde_json::to_value(&outcome.transcript)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("transcript: {e}")))?,
            outcome: outcome.end_node().map(str::to_owned),
        }),
    };
    tickets::create(db, mailer, user, new).await
}
