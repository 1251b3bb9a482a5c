//! Customer satisfaction surveys: a ticket's customer rates each resolution 1–5 with an
//! optional comment, signed in (the portal) or by the signed link of the "resolved" mail.
//!
//! The rules, all applied here:
//! - one rating per resolution (`csat_ratings` is unique per ticket and `resolved_at`); a
//!   ticket reopened and resolved again asks again;
//! - a survey is open for [`shared::csat::WINDOW_DAYS`] days after its resolution: inside the
//!   window the rating can be given and changed, after it the answer is `survey_closed`;
//! - only the ticket's customer rates (staff cannot rate on their behalf); a link is valid for
//!   the resolution it was issued for only;
//! - with surveys switched off (admin setting) nothing can be rated (`surveys_disabled`) and
//!   the "resolved" mail carries no link;
//! - every rating and change emits `csat-rated` to staff in the same transaction.
//!
//! Analytics over ratings live in `services::analytics::csat`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use shared::{
    ErrorCode,
    csat::{CsatRatingDto, CsatSurveyDto, CsatVia, ValidRating, closes_at},
    ws::Event,
};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{CsatRating, Ticket, csat_rating, ticket},
    error::ApiError,
    services::{
        access, begin_write, events,
        mail::{MailContext, Signer},
        settings,
    },
};

impl From<csat_rating::Model> for CsatRatingDto {
    fn from(r: csat_rating::Model) -> Self {
        CsatRatingDto {
            score: u8::try_from(r.score).unwrap_or(0),
            comment: r.comment,
            resolved_at: r.resolved_at,
            rated_at: r.created_at,
            updated_at: r.updated_at,
            via: r.via.parse().unwrap_or(CsatVia::Portal),
        }
    }
}

/// The resolution a survey of `t` is about: its `resolved_at` while it is resolved, or closed
/// after being resolved.
fn current_resolution(t: &ticket::Model) -> Option<DateTime<Utc>> {
    match t.status {
        ticket::Status::Resolved | ticket::Status::Closed => t.resolved_at,
        _ => None,
    }
}

/// Two instants naming the same resolution. Compared in microseconds, the precision both
/// databases keep and the survey token carries.
fn same_resolution(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    a.timestamp_micros() == b.timestamp_micros()
}

/// The rating of `t`'s resolution at `at`, if given.
async fn rating_of<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    at: DateTime<Utc>,
) -> Result<Option<csat_rating::Model>, ApiError> {
    Ok(CsatRating::find()
        .filter(csat_rating::Column::TicketId.eq(t.id))
        .all(db)
        .await?
        .into_iter()
        .find(|r| same_resolution(r.resolved_at, at)))
}

/// The survey of `t`'s current resolution at `now`.
async fn survey<C: ConnectionTrait>(
    db: &C,
    t: &ticket::Model,
    now: DateTime<Utc>,
) -> Result<CsatSurveyDto, ApiError> {
    let enabled = settings::csat(db).await?.enabled;
    let resolution = current_resolution(t);
    let rating = match resolution {
        Some(at) => rating_of(db, t, at).await?,
        None => None,
    };
    let closes = resolution.map(closes_at);
    Ok(CsatSurveyDto {
        ticket_id: t.id,
        ticket_number: t.number,
        subject: t.subject.clone(),
        enabled,
        open: enabled && closes.is_some_and(|c| now < c),
        resolved_at: resolution,
        closes_at: closes,
        rating: rating.map(Into::into),
    })
}

/// `GET /api/tickets/{id}/csat`: the survey of a ticket the caller may see.
pub async fn survey_for_ticket(
    db: &DatabaseConnection,
    actor: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<CsatSurveyDto, ApiError> {
    let t = access::visible_ticket(db, actor, id, false).await?;
    survey(db, &t, now).await
}

/// The ticket and resolution a survey link names: 400 `invalid_survey_token` unless it is
/// ours, 404 when the ticket is gone.
async fn linked_ticket<C: ConnectionTrait>(
    db: &C,
    signer: &Signer,
    token: &str,
    lock: bool,
) -> Result<(ticket::Model, i64), ApiError> {
    let (id, micros) = verify_token(signer, token)?;
    let mut query = Ticket::find_by_id(id);
    if lock {
        query = query.lock_exclusive();
    }
    let t = query.one(db).await?.ok_or(ApiError::NotFound("ticket"))?;
    Ok((t, micros))
}

/// Checks a survey token's signature (400 `invalid_survey_token` when it is not ours).
pub fn verify_token(signer: &Signer, token: &str) -> Result<(Uuid, i64), ApiError> {
    signer.verify_survey(token).ok_or_else(|| {
        ApiError::BadRequest(
            ErrorCode::InvalidSurveyToken,
            "this survey link is not valid".to_owned(),
        )
    })
}

/// The link's resolution must still be the ticket's current one.
fn check_link_resolution(t: &ticket::Model, micros: i64) -> Result<(), ApiError> {
    match current_resolution(t) {
        Some(at) if at.timestamp_micros() == micros => Ok(()),
        _ => Err(ApiError::Conflict(
            ErrorCode::SurveyNotOpen,
            "this link is about a resolution that was reopened since; there is nothing to rate"
                .to_owned(),
        )),
    }
}

/// `GET /api/csat?token=`: the survey a link is about, without signing in.
pub async fn survey_for_token(
    db: &DatabaseConnection,
    signer: &Signer,
    token: &str,
    now: DateTime<Utc>,
) -> Result<CsatSurveyDto, ApiError> {
    let (t, micros) = linked_ticket(db, signer, token, false).await?;
    check_link_resolution(&t, micros)?;
    survey(db, &t, now).await
}

/// 409 `surveys_disabled` when an admin switched surveys off.
pub async fn ensure_enabled<C: ConnectionTrait>(db: &C) -> Result<(), ApiError> {
    if settings::csat(db).await?.enabled {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            ErrorCode::SurveysDisabled,
            "satisfaction surveys are switched off".to_owned(),
        ))
    }
}

/// Who is rating: the signed-in customer (checked to be the ticket's), or a valid link.
pub enum Rater<'a> {
    Customer {
        actor: &'a AuthUser,
        ticket_id: Uuid,
    },
    Link {
        signer: &'a Signer,
        token: &'a str,
    },
}

/// Gives or changes the rating of the ticket's current resolution; returns the survey after
/// it. Emits `csat-rated` to staff in the same transaction.
pub async fn rate(
    db: &DatabaseConnection,
    rater: Rater<'_>,
    rating: ValidRating,
    now: DateTime<Utc>,
) -> Result<CsatSurveyDto, ApiError> {
    let txn = begin_write(db).await?;
    ensure_enabled(&txn).await?;
    let (t, via) = match rater {
        Rater::Customer { actor, ticket_id } => {
            let t = access::visible_ticket(&txn, actor, ticket_id, true).await?;
            // Visibility already hides other customers' tickets; only the ticket's own
            // customer rates it.
            if t.customer_id != actor.id {
                return Err(ApiError::Forbidden(
                    "only the ticket's customer rates it".to_owned(),
                ));
            }
            (t, CsatVia::Portal)
        }
        Rater::Link { signer, token } => {
            let (t, micros) = linked_ticket(&txn, signer, token, true).await?;
            check_link_resolution(&t, micros)?;
            (t, CsatVia::Link)
        }
    };
    let Some(resolved_at) = current_resolution(&t) else {
        return Err(ApiError::Conflict(
            ErrorCode::SurveyNotOpen,
            "the ticket is not resolved; there is nothing to rate yet".to_owned(),
        ));
    };
    let closes = closes_at(resolved_at);
    if now >= closes {
        return Err(ApiError::Detailed {
            code: ErrorCode::SurveyClosed,
            message: format!(
                "ratings of this resolution could be given or changed until {}",
                closes.to_rfc3339()
            ),
            details: serde_json::json!({ "closes_at": closes }),
        });
    }
    let saved = match rating_of(&txn, &t, resolved_at).await? {
        Some(existing) => {
            let mut row: csat_rating::ActiveModel = existing.into();
            row.score = Set(i16::from(rating.score));
            row.comment = Set(rating.comment);
            row.via = Set(via.as_str().to_owned());
            row.updated_at = Set(now);
            row.update(&txn).await?
        }
        None => {
            csat_rating::ActiveModel {
                id: Set(Uuid::new_v4()),
                ticket_id: Set(t.id),
                resolved_at: Set(resolved_at),
                customer_id: Set(t.customer_id),
                agent_id: Set(t.assigned_agent_id),
                category: Set(t.category.clone()),
                score: Set(i16::from(rating.score)),
                comment: Set(rating.comment),
                via: Set(via.as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    events::emit(
        &txn,
        &Event::CsatRated {
            ticket_id: t.id,
            ticket_number: t.number,
            rating: saved.into(),
        },
        events::staff_rooms(&t, None),
        true,
        now,
    )
    .await?;
    let answer = survey(&txn, &t, now).await?;
    txn.commit().await?;
    Ok(answer)
}

/// The latest rating (by resolution) of each of `ids` that has one.
pub async fn latest_for<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, CsatRatingDto>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = CsatRating::find()
        .filter(csat_rating::Column::TicketId.is_in(ids.iter().copied()))
        .order_by_asc(csat_rating::Column::ResolvedAt)
        .all(db)
        .await?;
    // Later resolutions overwrite earlier ones.
    Ok(rows.into_iter().map(|r| (r.ticket_id, r.into())).collect())
}

/// The survey link of the resolution of ticket `t` at `resolved_at`: the SPA page that rates
/// it without signing in.
pub fn survey_url(ctx: &MailContext, ticket: Uuid, resolved_at: DateTime<Utc>) -> String {
    format!(
        "{}/survey/{}",
        ctx.public_url,
        ctx.signer.survey_token(ticket, resolved_at)
    )
}
