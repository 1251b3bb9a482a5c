//! Agents: profiles (shift, capacity, active flag), live status, metrics, and the shift check
//! used by assignment.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use shared::{
    ErrorCode, Role,
    agents::{
        AgentDto, AgentMetrics, AgentStatus, CreateAgentRequest, Shift, UpdateAgentRequest, Weekday,
    },
    validate::DisplayName,
    ws::{Event, rooms},
};
use uuid::Uuid;

use crate::{
    entity::{Agent, Ticket, User, agent, ticket, user},
    error::ApiError,
    services::{
        assignment, begin_write, events,
        settings::{self, QueueSettings},
        users::{self, NewAccount},
    },
};

pub const MAX_CAPACITY: u32 = 1000;

impl From<AgentStatus> for agent::AgentStatus {
    fn from(s: AgentStatus) -> Self {
        match s {
            AgentStatus::Available => agent::AgentStatus::Available,
            AgentStatus::Busy => agent::AgentStatus::Busy,
            AgentStatus::Away => agent::AgentStatus::Away,
            AgentStatus::Offline => agent::AgentStatus::Offline,
        }
    }
}

impl From<agent::AgentStatus> for AgentStatus {
    fn from(s: agent::AgentStatus) -> Self {
        match s {
            agent::AgentStatus::Available => AgentStatus::Available,
            agent::AgentStatus::Busy => AgentStatus::Busy,
            agent::AgentStatus::Away => AgentStatus::Away,
            agent::AgentStatus::Offline => AgentStatus::Offline,
        }
    }
}

/// A shift in stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftSpec {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub time_zone: Tz,
    /// Bit 0 = Monday.
    pub days: i16,
}

impl ShiftSpec {
    pub fn parse(shift: &Shift) -> Result<Self, ApiError> {
        let time_zone: Tz = shift.time_zone.parse().map_err(|_| {
            ApiError::field(
                ErrorCode::ValidationFailed,
                "shift.time_zone",
                format!(
                    "unknown time zone `{}` (use an IANA name such as Europe/Berlin)",
                    shift.time_zone
                ),
            )
        })?;
        if shift.days.is_empty() {
            return Err(ApiError::field(
                ErrorCode::ValidationFailed,
                "shift.days",
                "a shift needs at least one working day",
            ));
        }
        Ok(Self {
            start: shift.start,
            end: shift.end,
            time_zone,
            days: Weekday::to_mask(&shift.days),
        })
    }

    /// Whether `now` falls inside the shift. A shift that ends before it starts crosses
    /// midnight and belongs to the day it started; `start == end` is a 24-hour shift.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.time_zone);
        let time = local.time();
        let works = |date: chrono::NaiveDate| {
            let bit = 1i16 << date.weekday().num_days_from_monday();
            self.days & bit != 0
        };
        let today = local.date_naive();
        if self.start == self.end {
            return works(today);
        }
        if self.start < self.end {
            works(today) && time >= self.start && time < self.end
        } else if time >= self.start {
            works(today)
        } else if time < self.end {
            works(today - Duration::days(1))
        } else {
            false
        }
    }

    fn to_dto(&self) -> Shift {
        Shift {
            start: self.start,
            end: self.end,
            time_zone: self.time_zone.name().to_owned(),
            days: Weekday::from_mask(self.days),
        }
    }
}

/// The shift stored on a profile, if any (an unparseable zone counts as no shift and is
/// logged, so a bad row cannot stop assignment).
pub fn shift_of(a: &agent::Model) -> Option<ShiftSpec> {
    let (start, end) = (a.shift_start?, a.shift_end?);
    match a.time_zone.parse::<Tz>() {
        Ok(time_zone) => Some(ShiftSpec {
            start,
            end,
            time_zone,
            days: a.working_days,
        }),
        Err(_) => {
            log::error!(
                "agent {} has an unknown time zone {}",
                a.user_id,
                a.time_zone
            );
            None
        }
    }
}

pub fn on_shift(a: &agent::Model, now: DateTime<Utc>) -> bool {
    shift_of(a).is_none_or(|s| s.contains(now))
}

/// Open (`open` + `pending`) tickets per agent.
pub async fn open_counts<C: ConnectionTrait>(db: &C) -> Result<HashMap<Uuid, i64>, ApiError> {
    Ok(Ticket::find()
        .select_only()
        .column(ticket::Column::AssignedAgentId)
        .column_as(Expr::col(ticket::Column::Id).count(), "n")
        .filter(ticket::Column::AssignedAgentId.is_not_null())
        .filter(ticket::Column::Status.is_in([ticket::Status::Open, ticket::Status::Pending]))
        .group_by(ticket::Column::AssignedAgentId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

fn to_dto(a: agent::Model, u: user::Model, open: i64, now: DateTime<Utc>) -> AgentDto {
    let avg = |total: i64, n: i32| (n > 0).then(|| total as f64 / f64::from(n));
    let judged = a.sla_met_count + a.sla_breached_count;
    AgentDto {
        id: u.id,
        email: u.email,
        name: u.name,
        status: a.status.into(),
        status_changed_at: a.status_changed_at,
        shift: shift_of(&a).map(|s| s.to_dto()),
        capacity: u32::try_from(a.capacity).unwrap_or(0),
        active: a.active,
        on_shift: on_shift(&a, now),
        metrics: AgentMetrics {
            open_tickets: u64::try_from(open).unwrap_or(0),
            tickets_resolved: u64::try_from(a.tickets_resolved).unwrap_or(0),
            avg_first_response_secs: avg(a.first_response_total_secs, a.first_response_count),
            avg_resolution_secs: avg(a.resolution_total_secs, a.resolution_count),
            sla_compliance_percent: (judged > 0)
                .then(|| f64::from(a.sla_met_count) * 100.0 / f64::from(judged)),
        },
    }
}

/// Every agent, by name.
/// Agents with their profiles, by name.
async fn profiles<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(agent::Model, Option<user::Model>)>, ApiError> {
    Ok(Agent::find()
        .find_also_related(User)
        .filter(user::Column::Role.eq(user::UserRole::Agent))
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// Id, name and status of every agent, by name: the list without the per-agent counts.
pub async fn roster<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(Uuid, String, AgentStatus)>, ApiError> {
    Ok(profiles(db)
        .await?
        .into_iter()
        .filter_map(|(a, u)| u.map(|u| (u.id, u.name, a.status.into())))
        .collect())
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<Vec<AgentDto>, ApiError> {
    let rows = profiles(db).await?;
    let open = open_counts(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, u)| {
            let u = u?;
            let n = open.get(&u.id).copied().unwrap_or(0);
            Some(to_dto(a, u, n, now))
        })
        .collect())
}

pub async fn get<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<AgentDto, ApiError> {
    let (a, u) = Agent::find_by_id(id)
        .find_also_related(User)
        .one(db)
        .await?
        .and_then(|(a, u)| Some((a, u?)))
        .filter(|(_, u)| u.role == user::UserRole::Agent)
        .ok_or(ApiError::NotFound("agent"))?;
    let open = open_counts(db).await?.get(&id).copied().unwrap_or(0);
    Ok(to_dto(a, u, open, now))
}

fn parse_capacity(capacity: u32) -> Result<i32, ApiError> {
    if capacity == 0 || capacity > MAX_CAPACITY {
        return Err(ApiError::field(
            ErrorCode::ValidationFailed,
            "capacity",
            format!("capacity must be between 1 and {MAX_CAPACITY}"),
        ));
    }
    Ok(i32::try_from(capacity).unwrap_or(i32::MAX))
}

/// Creates an agent account with its profile.
pub async fn create(
    db: &DatabaseConnection,
    bcrypt_cost: u32,
    req: CreateAgentRequest,
    now: DateTime<Utc>,
) -> Result<AgentDto, ApiError> {
    let shift = req.shift.as_ref().map(ShiftSpec::parse).transpose()?;
    let capacity = req.capacity.map(parse_capacity).transpose()?;
    let account = NewAccount::parse(&req.email, &req.password, &req.name, Role::Agent)?;
    let user = users::create_account(db, bcrypt_cost, account).await?;
    let profile = Agent::find_by_id(user.id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("agent profile missing")))?;
    let mut active = profile.into_active_model();
    if let Some(shift) = shift {
        active.shift_start = Set(Some(shift.start));
        active.shift_end = Set(Some(shift.end));
        active.time_zone = Set(shift.time_zone.name().to_owned());
        active.working_days = Set(shift.days);
    }
    if let Some(capacity) = capacity {
        active.capacity = Set(capacity);
    }
    active.update(db).await?;
    get(db, user.id, now).await
}

/// An admin edits an agent's profile.
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    req: UpdateAgentRequest,
    now: DateTime<Utc>,
) -> Result<AgentDto, ApiError> {
    let shift = match &req.shift {
        Some(Some(s)) => Some(Some(ShiftSpec::parse(s)?)),
        Some(None) => Some(None),
        None => None,
    };
    let capacity = req.capacity.map(parse_capacity).transpose()?;
    let name = req
        .name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()
        .map_err(|m| ApiError::field(ErrorCode::ValidationFailed, "name", m))?;
    let txn = begin_write(db).await?;
    let current = get(&txn, id, now).await?;
    let profile = Agent::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("agent"))?;
    let mut active = profile.into_active_model();
    match shift {
        Some(Some(s)) => {
            active.shift_start = Set(Some(s.start));
            active.shift_end = Set(Some(s.end));
            active.time_zone = Set(s.time_zone.name().to_owned());
            active.working_days = Set(s.days);
        }
        Some(None) => {
            active.shift_start = Set(None);
            active.shift_end = Set(None);
        }
        None => {}
    }
    if let Some(capacity) = capacity {
        active.capacity = Set(capacity);
    }
    if let Some(flag) = req.active {
        active.active = Set(flag);
    }
    active.updated_at = Set(now);
    active.update(&txn).await?;
    if let Some(name) = name.filter(|n| n.as_str() != current.name) {
        User::update_many()
            .col_expr(user::Column::Name, Expr::value(name.into_inner()))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    let dto = get(&txn, id, now).await?;
    txn.commit().await?;
    Ok(dto)
}

/// What a status change did.
#[derive(Debug)]
pub struct StatusChange {
    pub agent: AgentDto,
    /// Tickets put back in the queue because the agent went offline.
    pub released: usize,
}

/// Sets an agent's status (by the agent or an admin). Going offline may release the agent's
/// open tickets back to the queue (setting `release_on_offline`).
pub async fn set_status(
    db: &DatabaseConnection,
    actor: Uuid,
    agent_id: Uuid,
    status: AgentStatus,
    now: DateTime<Utc>,
) -> Result<StatusChange, ApiError> {
    let txn = begin_write(db).await?;
    let profile = Agent::find_by_id(agent_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("agent"))?;
    let previous: AgentStatus = profile.status.into();
    let mut released = 0;
    if previous != status {
        let mut active = profile.into_active_model();
        active.status = Set(status.into());
        active.status_changed_at = Set(now);
        active.updated_at = Set(now);
        active.update(&txn).await?;
        let settings: QueueSettings = settings::queue(&txn).await?;
        if status == AgentStatus::Offline && settings.release_on_offline {
            released = assignment::release_agent(&txn, actor, agent_id, now).await?;
        }
    }
    let dto = get(&txn, agent_id, now).await?;
    if previous != status {
        events::emit(
            &txn,
            &Event::AgentStatusChanged {
                agent_id,
                name: dto.name.clone(),
                status,
            },
            vec![
                rooms::ADMINS.to_owned(),
                rooms::AGENTS.to_owned(),
                rooms::agent(agent_id),
            ],
            false,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(StatusChange {
        agent: dto,
        released,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn shift(start: &str, end: &str, tz: &str, days: &[Weekday]) -> ShiftSpec {
        ShiftSpec::parse(&Shift {
            start: start.parse().expect("time"),
            end: end.parse().expect("time"),
            time_zone: tz.to_owned(),
            days: days.to_vec(),
        })
        .expect("valid shift")
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid instant")
    }

    #[test]
    fn day_shift_in_its_time_zone() {
        // 2026-11-26 is a Thursday. Berlin is UTC+1 in November.
        let s = shift("09:00", "17:00", "Europe/Berlin", &[Weekday::Thu]);
        assert!(!s.contains(utc(2026, 11, 26, 7, 59)));
        assert!(s.contains(utc(2026, 11, 26, 8, 0)));
        assert!(s.contains(utc(2026, 11, 26, 15, 59)));
        assert!(!s.contains(utc(2026, 11, 26, 16, 0)));
        // Friday is not a working day.
        assert!(!s.contains(utc(2026, 11, 27, 10, 0)));
    }

    #[test]
    fn night_shift_crosses_midnight_and_belongs_to_its_start_day() {
        let s = shift("22:00", "06:00", "UTC", &[Weekday::Thu]);
        assert!(s.contains(utc(2026, 11, 26, 23, 0))); // Thursday night
        assert!(s.contains(utc(2026, 11, 27, 5, 59))); // early Friday, still Thursday's shift
        assert!(!s.contains(utc(2026, 11, 27, 6, 0)));
        assert!(!s.contains(utc(2026, 11, 27, 23, 0))); // Friday night: no shift
        assert!(!s.contains(utc(2026, 11, 26, 5, 0))); // early Thursday = Wednesday's shift
    }

    #[test]
    fn other_time_zones_and_round_the_clock() {
        let tokyo = shift("09:00", "18:00", "Asia/Tokyo", &Weekday::ALL);
        assert!(tokyo.contains(utc(2026, 11, 26, 0, 0))); // 09:00 in Tokyo
        assert!(!tokyo.contains(utc(2026, 11, 26, 12, 0))); // 21:00 in Tokyo
        let always = shift("00:00", "00:00", "UTC", &[Weekday::Mon]);
        assert!(always.contains(utc(2026, 11, 23, 13, 0)));
        assert!(!always.contains(utc(2026, 11, 24, 13, 0)));
    }

    #[test]
    fn bad_shifts_are_rejected() {
        let bad_zone = Shift {
            start: "09:00".parse().expect("time"),
            end: "17:00".parse().expect("time"),
            time_zone: "Mars/Olympus".to_owned(),
            days: vec![Weekday::Mon],
        };
        assert!(ShiftSpec::parse(&bad_zone).is_err());
        let no_days = Shift {
            time_zone: "UTC".to_owned(),
            days: vec![],
            ..bad_zone
        };
        assert!(ShiftSpec::parse(&no_days).is_err());
    }
}
