//! The SLA monitor: finds tickets whose response or resolution deadline has passed and
//! escalates each breach exactly once: flag it, raise the escalation level and the priority
//! one step, record it in the history, and tell admins and the assigned agent (`sla-breach`).
//!
//! Paused (`pending`) and finished tickets are never breached. On PostgreSQL the run holds an
//! advisory lock and the breach flag is set with a conditional update, so two instances never
//! escalate the same breach twice.
//!
//! [`warn`] does the same for warnings before a breach: once the configured share of a running
//! clock is used (`sla_alert_at`), `sla-warning` goes to admins and the assigned agent, once
//! per clock, claimed by flipping `response_warned` / `resolution_warned` the same way.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use shared::{
    Priority,
    ws::{Event, SlaTargetKind, rooms},
};
use uuid::Uuid;

use crate::{
    entity::{Ticket, ticket},
    error::ApiError,
    services::{
        assignment::{SLA_MONITOR_LOCK, try_job_lock},
        begin_write, events,
        mail::{self, Mailer, Notice},
        tickets,
    },
};

/// One escalated breach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub ticket_id: Uuid,
    pub target: SlaTargetKind,
}

/// Most breaches handled per run; the rest wait for the next run.
const MAX_PER_RUN: u64 = 1000;

pub async fn run(
    db: &DatabaseConnection,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<Vec<Breach>, ApiError> {
    let txn = begin_write(db).await?;
    if !try_job_lock(&txn, SLA_MONITOR_LOCK).await? {
        return Ok(Vec::new());
    }
    let running = [ticket::Status::New, ticket::Status::Open];
    let due = Ticket::find()
        .filter(ticket::Column::Status.is_in(running))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(ticket::Column::FirstResponseAt.is_null())
                        .add(ticket::Column::ResponseBreached.eq(false))
                        .add(ticket::Column::ResponseDueAt.lt(now)),
                )
                .add(
                    Condition::all()
                        .add(ticket::Column::ResolutionBreached.eq(false))
                        .add(ticket::Column::ResolutionDueAt.lt(now)),
                ),
        )
        .order_by_asc(ticket::Column::Number)
        .limit(MAX_PER_RUN)
        .all(&txn)
        .await?;

    let mut breaches = Vec::new();
    for t in due {
        let mut kinds = Vec::new();
        if t.first_response_at.is_none()
            && !t.response_breached
            && t.response_due_at.is_some_and(|d| d < now)
        {
            kinds.push(SlaTargetKind::Response);
        }
        if !t.resolution_breached && t.resolution_due_at.is_some_and(|d| d < now) {
            kinds.push(SlaTargetKind::Resolution);
        }
        for kind in kinds {
            // Claim the breach: only the update that flips the flag escalates.
            let (flag, guard) = match kind {
                SlaTargetKind::Response => (
                    ticket::Column::ResponseBreached,
                    ticket::Column::ResponseBreached.eq(false),
                ),
                SlaTargetKind::Resolution => (
                    ticket::Column::ResolutionBreached,
                    ticket::Column::ResolutionBreached.eq(false),
                ),
            };
            let claimed = Ticket::update_many()
                .col_expr(flag, Expr::value(true))
                .filter(ticket::Column::Id.eq(t.id))
                .filter(guard)
                .exec(&txn)
                .await?;
            if claimed.rows_affected == 0 {
                continue;
            }
            let Some(mut current) = Ticket::find_by_id(t.id).one(&txn).await? else {
                continue;
            };
            // Escalation raises the priority the queue sees, not the one the deadlines were
            // set for: they stay where they are until staff change the priority by hand or
            // an admin recomputes.
            crate::services::sla::pin_priority(&mut current)?;
            let before = current.priority();
            let raised: Priority = before.raised();
            current.priority_rank = raised.rank();
            current.escalated = true;
            current.escalated_at.get_or_insert(now);
            current.escalation_level += 1;
            current.updated_at = now;
            // The breach flag is set: the customer's ETA moves to the raised priority's target.
            tickets::refresh_clock(&mut current);
            let current = tickets::save(&txn, current).await?;
            let what = match kind {
                SlaTargetKind::Response => "response",
                SlaTargetKind::Resolution => "resolution",
            };
            tickets::record(
                &txn,
                t.id,
                None,
                "sla",
                None,
                Some(format!("{what} breached")),
                now,
            )
            .await?;
            tickets::record(
                &txn,
                t.id,
                None,
                "escalation",
                Some((current.escalation_level - 1).to_string()),
                Some(current.escalation_level.to_string()),
                now,
            )
            .await?;
            if raised != before {
                tickets::record(
                    &txn,
                    t.id,
                    None,
                    "priority",
                    Some(before.to_string()),
                    Some(raised.to_string()),
                    now,
                )
                .await?;
            }
            let dto = tickets::to_dto(&txn, false, current.clone()).await?;
            let mut targets = vec![rooms::ADMINS.to_owned()];
            if let Some(agent) = current.assigned_agent_id {
                targets.push(rooms::agent(agent));
            }
            events::emit(
                &txn,
                &Event::SlaBreach {
                    ticket: Box::new(dto.clone()),
                    target: kind,
                },
                targets,
                false,
                now,
            )
            .await?;
            events::ticket_updated(&txn, &current, dto, now).await?;
            let breached = Notice::SlaBreached {
                ticket: &current,
                target: kind,
            };
            mail::notify(&txn, mailer, breached, None, now).await?;
            breaches.push(Breach {
                ticket_id: t.id,
                target: kind,
            });
        }
    }
    txn.commit().await?;
    Ok(breaches)
}

/// One warning sent before a breach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub ticket_id: Uuid,
    pub target: SlaTargetKind,
}

/// Sends `sla-warning` for every running clock whose warning instant has passed, exactly once
/// per clock. A clock already past its deadline gets no warning (the breach is escalated
/// instead), but is marked so it is not looked at again.
pub async fn warn(
    db: &DatabaseConnection,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<Vec<Warning>, ApiError> {
    let txn = begin_write(db).await?;
    if !try_job_lock(&txn, SLA_MONITOR_LOCK).await? {
        return Ok(Vec::new());
    }
    let running = [ticket::Status::New, ticket::Status::Open];
    let due = Ticket::find()
        .filter(ticket::Column::Status.is_in(running))
        .filter(ticket::Column::SlaAlertAt.lte(now))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(ticket::Column::FirstResponseAt.is_null())
                        .add(ticket::Column::ResponseWarned.eq(false)),
                )
                .add(
                    Condition::all()
                        .add(ticket::Column::FirstResponseAt.is_not_null())
                        .add(ticket::Column::ResolutionWarned.eq(false)),
                ),
        )
        .order_by_asc(ticket::Column::Number)
        .limit(MAX_PER_RUN)
        .all(&txn)
        .await?;
    let percent = crate::services::settings::sla_warning_percent(&txn).await?;
    let mut warnings = Vec::new();
    for t in due {
        let (kind, flag) = if t.first_response_at.is_none() {
            (SlaTargetKind::Response, ticket::Column::ResponseWarned)
        } else {
            (SlaTargetKind::Resolution, ticket::Column::ResolutionWarned)
        };
        let claimed = Ticket::update_many()
            .col_expr(flag, Expr::value(true))
            .filter(ticket::Column::Id.eq(t.id))
            .filter(flag.eq(false))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 || t.sla_due_at.is_none_or(|d| d < now) {
            continue;
        }
        let percent =
            crate::services::sla::stored_terms(&t).map_or(percent, |terms| terms.warning_percent);
        let dto = tickets::to_dto(&txn, false, t.clone()).await?;
        let mut targets = vec![rooms::ADMINS.to_owned()];
        if let Some(agent) = t.assigned_agent_id {
            targets.push(rooms::agent(agent));
        }
        events::emit(
            &txn,
            &Event::SlaWarning {
                ticket: Box::new(dto),
                target: kind,
                percent,
            },
            targets,
            true,
            now,
        )
        .await?;
        let notice = Notice::SlaWarning {
            ticket: &t,
            target: kind,
            percent,
        };
        mail::notify(&txn, mailer, notice, None, now).await?;
        warnings.push(Warning {
            ticket_id: t.id,
            target: kind,
        });
    }
    txn.commit().await?;
    Ok(warnings)
}
