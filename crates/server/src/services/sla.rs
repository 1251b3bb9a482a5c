//! SLA terms: the business-hours calendars (stored in `sla_calendars`, edited by admins),
//! which policy and calendar a new ticket runs on, the terms recorded on each ticket, and the
//! explicit recompute that moves open tickets onto the terms now in force.
//!
//! The clock math itself lives in `shared::calendar` and `shared::sla`; the ticket lifecycle
//! (`services::tickets`) applies it to rows. Nothing here moves an existing ticket's deadlines
//! except [`recompute`].

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use shared::{
    ErrorCode, Paging, Priority,
    calendar::{
        Calendar, CalendarDto, CalendarError, CalendarRequest, CalendarSpec, Hours, NAME_MAX_CHARS,
        RecomputeRequest, RecomputeResult,
    },
    sla::{self, DEFAULT_WARNING_PERCENT, SlaPolicies, SlaTerms},
};
use uuid::Uuid;

use crate::{
    entity::{SlaCalendar, Ticket, sla_calendar, ticket},
    error::ApiError,
    services::{begin_write, events, settings, tickets},
};

/// Most calendars.
pub const MAX_CALENDARS: u64 = 100;

/// A calendar problem as the API reports it: 422 `invalid_calendar` naming every field, or
/// 422 `no_working_time`.
pub fn calendar_error(err: CalendarError) -> ApiError {
    match err {
        CalendarError::Invalid(problems) => ApiError::Validation {
            code: ErrorCode::InvalidCalendar,
            message: match problems.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                many => format!("{} problems in the calendar", many.len()),
            },
            fields: problems.into_iter().map(|p| (p.field, p.message)).collect(),
        },
        CalendarError::NoWorkingTime => ApiError::field(
            ErrorCode::NoWorkingTime,
            "week",
            "the calendar has no working time at all: add intervals (or fewer holidays)",
        ),
    }
}

/// A validated request: trimmed name and a spec that parses.
fn parse_request(
    req: &CalendarRequest,
    now: DateTime<Utc>,
) -> Result<(String, CalendarSpec), ApiError> {
    let name = req.name.trim();
    let spec = req.spec();
    let parsed = spec.parse(now.date_naive());
    let bad_name = name.is_empty()
        || name.chars().count() > NAME_MAX_CHARS
        || name.chars().any(char::is_control);
    match (bad_name, parsed) {
        (false, Ok(_)) => Ok((name.to_owned(), spec)),
        (true, Ok(_)) => Err(ApiError::field(
            ErrorCode::InvalidCalendar,
            "name",
            format!("1 to {NAME_MAX_CHARS} printable characters"),
        )),
        (bad_name, Err(e)) => {
            let mut err = calendar_error(e);
            if bad_name && let ApiError::Validation { fields, .. } = &mut err {
                fields.insert(
                    "name".to_owned(),
                    format!("1 to {NAME_MAX_CHARS} printable characters"),
                );
            }
            Err(err)
        }
    }
}

fn spec_of(row: &sla_calendar::Model) -> Result<CalendarSpec, ApiError> {
    serde_json::from_value(row.spec.clone()).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "stored calendar {} is unreadable: {e}",
            row.id
        ))
    })
}

pub fn to_dto(row: sla_calendar::Model) -> Result<CalendarDto, ApiError> {
    let spec = spec_of(&row)?;
    Ok(CalendarDto {
        id: row.id,
        name: row.name,
        time_zone: spec.time_zone,
        week: spec.week,
        holidays: spec.holidays,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

const NAME_TAKEN: &str = "another calendar already has this name";

pub async fn list(
    db: &DatabaseConnection,
    paging: Paging,
) -> Result<(Vec<CalendarDto>, u64), ApiError> {
    let select = SlaCalendar::find()
        .order_by_asc(sla_calendar::Column::Name)
        .order_by_asc(sla_calendar::Column::Id);
    let (rows, count) = super::fetch_page(db, select, paging).await?;
    Ok((
        rows.into_iter().map(to_dto).collect::<Result<_, _>>()?,
        count,
    ))
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<CalendarDto, ApiError> {
    SlaCalendar::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("calendar"))
        .and_then(to_dto)
}

pub async fn create(
    db: &DatabaseConnection,
    req: &CalendarRequest,
    now: DateTime<Utc>,
) -> Result<CalendarDto, ApiError> {
    let (name, spec) = parse_request(req, now)?;
    let txn = begin_write(db).await?;
    if SlaCalendar::find().count(&txn).await? >= MAX_CALENDARS {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            format!("at most {MAX_CALENDARS} calendars"),
        ));
    }
    let row = sla_calendar::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name),
        spec: Set(spec_json(&spec)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| ApiError::on_unique_violation(e, ErrorCode::Conflict, NAME_TAKEN))?;
    txn.commit().await?;
    to_dto(row)
}

/// Replaces a calendar. Tickets already running on it keep the copy they recorded; use
/// [`recompute`] to move them.
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    req: &CalendarRequest,
    now: DateTime<Utc>,
) -> Result<CalendarDto, ApiError> {
    let (name, spec) = parse_request(req, now)?;
    let txn = begin_write(db).await?;
    let row = SlaCalendar::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("calendar"))?;
    let mut active: sla_calendar::ActiveModel = row.into();
    active.name = Set(name);
    active.spec = Set(spec_json(&spec)?);
    active.updated_at = Set(now);
    let row = active
        .update(&txn)
        .await
        .map_err(|e| ApiError::on_unique_violation(e, ErrorCode::Conflict, NAME_TAKEN))?;
    txn.commit().await?;
    to_dto(row)
}

/// Deletes a calendar no policy uses (409 `calendar_in_use` otherwise). Tickets that ran on
/// it keep their recorded copy.
pub async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<(), ApiError> {
    let txn = begin_write(db).await?;
    if SlaCalendar::find_by_id(id).one(&txn).await?.is_none() {
        return Err(ApiError::NotFound("calendar"));
    }
    let default = settings::sla_policies(&txn).await?;
    let overrides = settings::sla_overrides(&txn).await?;
    let users: Vec<String> = std::iter::once((sla::DEFAULT_POLICY, &default))
        .chain(overrides.iter().map(|o| (o.name.as_str(), &o.policy)))
        .filter(|(_, p)| p.calendar_id == Some(id))
        .map(|(name, _)| name.to_owned())
        .collect();
    if !users.is_empty() {
        return Err(ApiError::Detailed {
            code: ErrorCode::CalendarInUse,
            message: format!("the calendar is used by: {}", users.join(", ")),
            details: serde_json::json!({ "policies": users }),
        });
    }
    SlaCalendar::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

fn spec_json(spec: &CalendarSpec) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(spec)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising a calendar: {e}")))
}

/// Every calendar id the policies name must exist: 422 `validation_failed` otherwise.
pub async fn check_calendars_exist<C: ConnectionTrait>(
    db: &C,
    named: impl IntoIterator<Item = (String, Uuid)>,
) -> Result<(), ApiError> {
    let mut missing = Vec::new();
    for (field, id) in named {
        if SlaCalendar::find_by_id(id).one(db).await?.is_none() {
            missing.push((field, "no calendar with this id".to_owned()));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation {
        code: ErrorCode::ValidationFailed,
        message: "an SLA policy names a calendar that does not exist".to_owned(),
        fields: missing.into_iter().collect(),
    })
}

/// The terms a ticket with this category and journey outcome gets now, and the calendar id
/// they run on.
pub async fn current_terms<C: ConnectionTrait>(
    db: &C,
    category: Option<&str>,
    outcome: Option<(Uuid, &str)>,
) -> Result<(SlaTerms, Option<Uuid>), ApiError> {
    let default = settings::sla_policies(db).await?;
    let overrides = settings::sla_overrides(db).await?;
    let warning_percent = settings::sla_warning_percent(db).await?;
    let (name, policy) = sla::select_policy(&default, &overrides, category, outcome);
    let calendar = match policy.calendar_id {
        None => None,
        Some(id) => match SlaCalendar::find_by_id(id).one(db).await? {
            Some(row) => Some(spec_of(&row)?),
            None => {
                // Settings are checked when written and calendars in use cannot be deleted;
                // should one still be missing, the policy runs 24/7 rather than failing.
                log::error!("SLA policy `{name}` names the missing calendar {id}; running 24/7");
                None
            }
        },
    };
    let calendar_id = calendar.as_ref().and(policy.calendar_id);
    Ok((
        SlaTerms {
            policy: name.to_owned(),
            targets: *policy,
            calendar,
            warning_percent,
            outcome: outcome.map(|(j, n)| sla::Outcome {
                journey_id: j,
                node_id: n.to_owned(),
            }),
            priority: None,
        },
        calendar_id,
    ))
}

/// The terms recorded on a ticket (`None` for tickets from before calendars existed).
pub fn stored_terms(t: &ticket::Model) -> Option<SlaTerms> {
    let raw = t.sla_terms.as_ref()?;
    match serde_json::from_value(raw.clone()) {
        Ok(terms) => Some(terms),
        Err(e) => {
            log::error!("ticket {} has unreadable SLA terms: {e}", t.id);
            None
        }
    }
}

/// What a ticket's clock runs on.
pub fn hours_of(terms: Option<&SlaTerms>) -> Hours {
    let Some(spec) = terms.and_then(|t| t.calendar.as_ref()) else {
        return Hours::Always;
    };
    // A recorded calendar was valid when recorded; parse it against a date long past so the
    // "some working time in the coming year" rule cannot refuse it later.
    let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    match Calendar::parse(spec, since) {
        Ok(c) => Hours::Calendar(c),
        Err(e) => {
            log::error!("a recorded SLA calendar no longer parses ({e}); running 24/7");
            Hours::Always
        }
    }
}

/// The targets a ticket runs on: its recorded terms, or (for older tickets) the default
/// policy now in force.
pub fn targets_of(t: &ticket::Model, fallback: &SlaPolicies) -> (SlaPolicies, u8) {
    match stored_terms(t) {
        Some(terms) => (terms.targets, terms.warning_percent),
        None => (*fallback, DEFAULT_WARNING_PERCENT),
    }
}

/// Records `terms` on a ticket for its current priority (deadlines are the caller's to set).
pub fn record_terms(
    t: &mut ticket::Model,
    terms: &SlaTerms,
    calendar_id: Option<Uuid>,
) -> Result<(), ApiError> {
    let terms = SlaTerms {
        priority: Some(t.priority()),
        ..terms.clone()
    };
    t.sla_policy = Some(terms.policy.clone());
    t.sla_calendar_id = calendar_id;
    t.sla_terms = Some(terms_json(&terms)?);
    Ok(())
}

fn terms_json(terms: &SlaTerms) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(terms)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising SLA terms: {e}")))
}

/// The priority a ticket's deadlines are set for (see [`SlaTerms::priority`]). Escalation
/// raises the ticket's priority, not this one. For terms recorded before the priority was, it
/// is the priority before the escalations: one step down per escalation level.
pub fn sla_priority(t: &ticket::Model) -> Priority {
    if let Some(p) = stored_terms(t).and_then(|terms| terms.priority) {
        return p;
    }
    let rank = t.priority_rank - i16::try_from(t.escalation_level).unwrap_or(i16::MAX);
    Priority::from_rank(rank.max(0)).unwrap_or(Priority::Low)
}

/// Writes the priority the deadlines are set for into terms recorded without it, so a
/// raise of the ticket's priority that follows (an escalation) cannot move them.
pub fn pin_priority(t: &mut ticket::Model) -> Result<(), ApiError> {
    if let Some(mut terms) = stored_terms(t)
        && terms.priority.is_none()
    {
        terms.priority = Some(sla_priority(t));
        t.sla_terms = Some(terms_json(&terms)?);
    }
    Ok(())
}

/// Staff set the ticket's priority by hand: its deadlines follow (the caller recomputes them
/// with `tickets::set_deadlines`), on the terms it already runs on.
pub fn set_priority(t: &mut ticket::Model, priority: Priority) -> Result<(), ApiError> {
    t.priority_rank = priority.rank();
    if let Some(mut terms) = stored_terms(t) {
        terms.priority = Some(priority);
        t.sla_terms = Some(terms_json(&terms)?);
    }
    Ok(())
}

/// Moves open tickets (new, open, pending) onto the terms now in force and recomputes their
/// deadlines from creation, keeping the time they spent paused. Breaches already escalated
/// stay escalated.
pub async fn recompute(
    db: &DatabaseConnection,
    req: &RecomputeRequest,
    now: DateTime<Utc>,
) -> Result<RecomputeResult, ApiError> {
    // Policy names are bounded printable text; anything else names no policy (and PostgreSQL
    // would refuse a NUL in a parameter).
    if let Some(p) = req.policy.as_deref()
        && (p.chars().count() > shared::settings::OVERRIDE_NAME_MAX_CHARS
            || p.chars().any(char::is_control))
    {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "policy",
            format!(
                "a policy name is at most {} printable characters",
                shared::settings::OVERRIDE_NAME_MAX_CHARS
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let fallback = settings::sla_policies(&txn).await?;
    let mut select = Ticket::find().filter(ticket::Column::Status.is_in([
        ticket::Status::New,
        ticket::Status::Open,
        ticket::Status::Pending,
    ]));
    if let Some(id) = req.calendar_id {
        select = select.filter(ticket::Column::SlaCalendarId.eq(id));
    }
    if let Some(policy) = req.policy.as_deref() {
        if policy == sla::DEFAULT_POLICY {
            select = select.filter(
                sea_orm::Condition::any()
                    .add(ticket::Column::SlaPolicy.eq(policy))
                    .add(ticket::Column::SlaPolicy.is_null()),
            );
        } else {
            select = select.filter(ticket::Column::SlaPolicy.eq(policy));
        }
    }
    let rows = select
        .order_by_asc(ticket::Column::Number)
        .all(&txn)
        .await?;
    let (mut recomputed, mut moved) = (0, 0);
    for mut t in rows {
        let outcome = stored_terms(&t).and_then(|terms| terms.outcome);
        let (terms, calendar_id) = current_terms(
            &txn,
            t.category.as_deref(),
            outcome.as_ref().map(|o| (o.journey_id, o.node_id.as_str())),
        )
        .await?;
        let before = (t.response_due_at, t.resolution_due_at);
        record_terms(&mut t, &terms, calendar_id)?;
        tickets::set_deadlines(&mut t, &fallback);
        recomputed += 1;
        if before == (t.response_due_at, t.resolution_due_at) {
            tickets::save(&txn, t).await?;
            continue;
        }
        moved += 1;
        t.updated_at = now;
        let t = tickets::save(&txn, t).await?;
        tickets::record(
            &txn,
            t.id,
            None,
            "sla",
            before.1.map(|d| d.to_rfc3339()),
            t.resolution_due_at.map(|d| d.to_rfc3339()),
            now,
        )
        .await?;
        let dto = tickets::to_dto(&txn, false, t.clone()).await?;
        events::ticket_updated(&txn, &t, dto, now).await?;
    }
    txn.commit().await?;
    Ok(RecomputeResult { recomputed, moved })
}
