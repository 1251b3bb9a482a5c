//! Business-hours calendars: when an SLA clock runs.
//!
//! A calendar is a weekly schedule (per weekday zero or more intervals of local time; an
//! interval whose end is not after its start runs past midnight into the next day), an IANA
//! time zone, and holidays (single dates or ranges, optionally recurring every year). The
//! wire form is [`CalendarSpec`]; [`Calendar`] is the parsed, validated value the math runs
//! on, and [`Hours`] is what an SLA policy runs on: a calendar or around the clock.
//!
//! The same functions run in the server (deadlines, thresholds, analytics) and in the SPA
//! (the editor's preview), so both always agree.
//!
//! Rules the math follows:
//! - An interval belongs to the day it starts on: a holiday removes the intervals that start
//!   on it (a night shift that starts the evening before a holiday still ends in the morning).
//! - Local times are turned into instants with the zone's rules. A local time skipped by a
//!   daylight-saving change (spring forward) means the first instant after the gap; a local
//!   time that occurs twice (fall back) means its first occurrence for a start and its second
//!   for an end, so an interval spanning the repeated hour contains it entirely.
//! - Intervals that touch or overlap once converted are merged.
//! - A deadline is always inside business hours: within `[start, end]` of one interval (a
//!   deadline may fall exactly on the closing instant, "due at 17:00").

use std::{collections::VecDeque, str::FromStr};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Minutes in a day.
const DAY_MINUTES: u32 = 24 * 60;
/// Minutes in a week.
const WEEK_MINUTES: u32 = 7 * DAY_MINUTES;
/// Most intervals per weekday.
pub const MAX_INTERVALS_PER_DAY: usize = 12;
/// Most holidays per calendar.
pub const MAX_HOLIDAYS: usize = 500;
/// Longest holiday range, in days.
pub const MAX_HOLIDAY_DAYS: i64 = 366;
/// Longest calendar name, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// After this many consecutive days without any working time the search for business time
/// gives up (see [`Hours::add`] for what happens then). Validation makes this unreachable
/// for the next year; holidays can only close a calendar for so long.
const HORIZON_DAYS: u32 = 3700;
/// Furthest any one computation looks ahead, in days (twenty years): bounds the work of an
/// absurd combination such as one minute a week and a target of a year.
const MAX_SCAN_DAYS: u32 = 20 * 366;
/// Longest span handed out at once (see [`Spans`]).
const MAX_SPAN_DAYS: i64 = 7;

/// Weekday keys in schedule order, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One interval of working time, local to the calendar's zone: `"09:00"`–`"17:00"`. The end
/// may be `"24:00"`; an end at or before the start runs into the next day (`"22:00"`–`"06:00"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntervalSpec {
    /// `HH:MM`, 00:00–23:59.
    pub start: String,
    /// `HH:MM`, 00:00–24:00.
    pub end: String,
}

impl IntervalSpec {
    pub fn new(start: &str, end: &str) -> Self {
        Self {
            start: start.to_owned(),
            end: end.to_owned(),
        }
    }
}

/// The weekly schedule: intervals per weekday. A day without intervals has no working time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WeekSpec {
    #[serde(default)]
    pub mon: Vec<IntervalSpec>,
    #[serde(default)]
    pub tue: Vec<IntervalSpec>,
    #[serde(default)]
    pub wed: Vec<IntervalSpec>,
    #[serde(default)]
    pub thu: Vec<IntervalSpec>,
    #[serde(default)]
    pub fri: Vec<IntervalSpec>,
    #[serde(default)]
    pub sat: Vec<IntervalSpec>,
    #[serde(default)]
    pub sun: Vec<IntervalSpec>,
}

impl WeekSpec {
    /// The days in schedule order, Monday first.
    pub fn days(&self) -> [&Vec<IntervalSpec>; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }

    /// The day at `index` (0 = Monday), for editing.
    pub fn day_mut(&mut self, index: usize) -> Option<&mut Vec<IntervalSpec>> {
        match index {
            0 => Some(&mut self.mon),
            1 => Some(&mut self.tue),
            2 => Some(&mut self.wed),
            3 => Some(&mut self.thu),
            4 => Some(&mut self.fri),
            5 => Some(&mut self.sat),
            6 => Some(&mut self.sun),
            _ => None,
        }
    }

    /// The same intervals on Monday to Friday, nothing at the weekend.
    pub fn weekdays(intervals: &[IntervalSpec]) -> Self {
        let v = intervals.to_vec();
        Self {
            mon: v.clone(),
            tue: v.clone(),
            wed: v.clone(),
            thu: v.clone(),
            fri: v,
            sat: Vec::new(),
            sun: Vec::new(),
        }
    }

    /// The same intervals every day of the week.
    pub fn every_day(intervals: &[IntervalSpec]) -> Self {
        let mut w = Self::weekdays(intervals);
        w.sat = intervals.to_vec();
        w.sun = intervals.to_vec();
        w
    }
}

/// A day or a range of days without working time. `to` is inclusive and defaults to `from`.
/// A `yearly` holiday recurs on the same month and day every year (the year of `from` and
/// `to` is then ignored; a range may wrap the new year, e.g. 24 Dec–1 Jan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HolidaySpec {
    #[serde(default)]
    pub name: String,
    pub from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub yearly: bool,
}

/// A calendar on the wire (and as stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub week: WeekSpec,
    #[serde(default)]
    pub holidays: Vec<HolidaySpec>,
}

/// A problem with a calendar: the field it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarProblem {
    /// `time_zone`, `week.mon[0].end`, `holidays[2].to`, or `week` for a calendar without
    /// any working time.
    pub field: String,
    pub message: String,
}

/// Why a calendar was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// Malformed fields: every problem found.
    Invalid(Vec<CalendarProblem>),
    /// Well-formed, but there is no working time at all (no intervals, or holidays cover
    /// every working day).
    NoWorkingTime,
}

impl std::fmt::Display for CalendarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalendarError::Invalid(p) => match p.as_slice() {
                [one] => write!(f, "{}: {}", one.field, one.message),
                many => write!(f, "{} problems in the calendar", many.len()),
            },
            CalendarError::NoWorkingTime => f.write_str("the calendar has no working time at all"),
        }
    }
}

/// A holiday as the math sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holiday {
    Once {
        from: NaiveDate,
        to: NaiveDate,
    },
    /// Month and day (`month * 100 + day`), inclusive; `from > to` wraps the new year.
    Yearly {
        from: u32,
        to: u32,
    },
}

impl Holiday {
    fn covers(&self, date: NaiveDate) -> bool {
        match *self {
            Holiday::Once { from, to } => from <= date && date <= to,
            Holiday::Yearly { from, to } => {
                let md = date.month() * 100 + date.day();
                if from <= to {
                    from <= md && md <= to
                } else {
                    md >= from || md <= to
                }
            }
        }
    }
}

/// A validated calendar. Intervals are minutes after local midnight of the day they start on;
/// an end beyond 1440 runs into the next day.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    week: [Vec<(u32, u32)>; 7],
    holidays: Vec<Holiday>,
}

/// `HH:MM` as minutes after midnight; `24:00` only where `allow_24` is set.
fn parse_clock(raw: &str, allow_24: bool) -> Option<u32> {
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if allow_24 => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// `HH:MM` from minutes after midnight (1440 is `24:00`).
pub fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl CalendarSpec {
    /// Parses and validates; see [`Calendar::parse`].
    pub fn parse(&self, today: NaiveDate) -> Result<Calendar, CalendarError> {
        Calendar::parse(self, today)
    }
}

impl Calendar {
    /// Parses a calendar. Every malformed field is reported at once; a well-formed calendar
    /// without any working time in the year from `today` is refused as [`NoWorkingTime`].
    ///
    /// [`NoWorkingTime`]: CalendarError::NoWorkingTime
    pub fn parse(spec: &CalendarSpec, today: NaiveDate) -> Result<Calendar, CalendarError> {
        let mut problems = Vec::new();
        let mut problem = |field: String, message: &str| {
            problems.push(CalendarProblem {
                field,
                message: message.to_owned(),
            })
        };
        let tz = match Tz::from_str(spec.time_zone.trim()) {
            Ok(tz) => Some(tz),
            Err(_) => {
                problem(
                    "time_zone".to_owned(),
                    "not a known IANA time zone (e.g. Europe/Berlin)",
                );
                None
            }
        };
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for (d, day) in spec.week.days().into_iter().enumerate() {
            let name = WEEKDAYS[d];
            if day.len() > MAX_INTERVALS_PER_DAY {
                problem(
                    format!("week.{name}"),
                    &format!("at most {MAX_INTERVALS_PER_DAY} intervals a day"),
                );
                continue;
            }
            for (i, iv) in day.iter().enumerate() {
                let start = parse_clock(&iv.start, false);
                let end = parse_clock(&iv.end, true);
                if start.is_none() {
                    problem(
                        format!("week.{name}[{i}].start"),
                        "must be a time HH:MM between 00:00 and 23:59",
                    );
                }
                if end.is_none() {
                    problem(
                        format!("week.{name}[{i}].end"),
                        "must be a time HH:MM between 00:00 and 24:00",
                    );
                }
                let (Some(start), Some(end)) = (start, end) else {
                    continue;
                };
                if start == end {
                    problem(
                        format!("week.{name}[{i}]"),
                        "an interval must not be empty (use 00:00–24:00 for the whole day)",
                    );
                    continue;
                }
                // An end at or before the start runs into the next day.
                let end = if end <= start { end + DAY_MINUTES } else { end };
                week[d].push((start, end));
            }
            week[d].sort_unstable();
        }
        // Overlaps, on the circular week (Sunday night runs into Monday).
        let mut segments: Vec<(u32, u32, usize)> = Vec::new();
        for (d, day) in week.iter().enumerate() {
            for &(s, e) in day {
                let (s, e) = (d as u32 * DAY_MINUTES + s, d as u32 * DAY_MINUTES + e);
                if e > WEEK_MINUTES {
                    segments.push((s, WEEK_MINUTES, d));
                    segments.push((0, e - WEEK_MINUTES, d));
                } else {
                    segments.push((s, e, d));
                }
            }
        }
        segments.sort_unstable();
        let mut reported = [false; 7];
        for pair in segments.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if b.0 < a.1 {
                let d = a.2.max(b.2);
                if !reported[d] {
                    reported[d] = true;
                    problem(
                        format!("week.{}", WEEKDAYS[d]),
                        "intervals overlap (also check intervals running past midnight)",
                    );
                }
            }
        }
        if spec.holidays.len() > MAX_HOLIDAYS {
            problem(
                "holidays".to_owned(),
                &format!("at most {MAX_HOLIDAYS} holidays"),
            );
        }
        let mut holidays = Vec::new();
        for (i, h) in spec.holidays.iter().enumerate().take(MAX_HOLIDAYS) {
            let to = h.to.unwrap_or(h.from);
            if h.name.chars().count() > NAME_MAX_CHARS || h.name.chars().any(char::is_control) {
                problem(
                    format!("holidays[{i}].name"),
                    &format!("at most {NAME_MAX_CHARS} printable characters"),
                );
            }
            if to < h.from {
                problem(
                    format!("holidays[{i}].to"),
                    "the last day cannot be before the first",
                );
                continue;
            }
            if h.yearly {
                let (from, to_md) = (
                    h.from.month() * 100 + h.from.day(),
                    to.month() * 100 + to.day(),
                );
                if (to - h.from).num_days() >= 364 {
                    problem(
                        format!("holidays[{i}]"),
                        "a yearly holiday must leave some days of the year",
                    );
                    continue;
                }
                holidays.push(Holiday::Yearly { from, to: to_md });
            } else {
                if (to - h.from).num_days() >= MAX_HOLIDAY_DAYS {
                    problem(
                        format!("holidays[{i}]"),
                        &format!("a holiday range is at most {MAX_HOLIDAY_DAYS} days"),
                    );
                    continue;
                }
                holidays.push(Holiday::Once { from: h.from, to });
            }
        }
        let Some(tz) = tz else {
            return Err(CalendarError::Invalid(problems));
        };
        if !problems.is_empty() {
            return Err(CalendarError::Invalid(problems));
        }
        let cal = Calendar { tz, week, holidays };
        // Some working day within a year from today (holidays may close everything else).
        let has_work = (0..=366).any(|offset| {
            today
                .checked_add_signed(Duration::days(offset))
                .is_some_and(|d| !cal.day_intervals(d).is_empty())
        });
        if !has_work {
            return Err(CalendarError::NoWorkingTime);
        }
        Ok(cal)
    }

    /// The calendar's zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// True when `date` is a holiday.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.iter().any(|h| h.covers(date))
    }

    /// The local intervals starting on `date` (empty on holidays), in minutes after its
    /// midnight.
    fn day_intervals(&self, date: NaiveDate) -> &[(u32, u32)] {
        if self.is_holiday(date) {
            return &[];
        }
        &self.week[date.weekday().num_days_from_monday() as usize]
    }

    /// A local wall time as an instant (see the module doc for gaps and repeats).
    fn instant(&self, local: NaiveDateTime, is_end: bool) -> DateTime<Utc> {
        use chrono::LocalResult;
        let mut t = local;
        // A gap is at most a day long (the longest ever skipped); step to its end.
        for _ in 0..=DAY_MINUTES {
            match self.tz.from_local_datetime(&t) {
                LocalResult::Single(x) => return x.with_timezone(&Utc),
                LocalResult::Ambiguous(first, second) => {
                    return if is_end { second } else { first }.with_timezone(&Utc);
                }
                LocalResult::None => t += Duration::minutes(1),
            }
        }
        // Unreachable for real zones; read the local time as UTC rather than loop.
        Utc.from_utc_datetime(&local)
    }

    /// The local date of `t`.
    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The merged business intervals that end after `from`, in order, each clipped to start
    /// no earlier than `from`.
    pub fn spans_from(&self, from: DateTime<Utc>) -> Spans<'_> {
        let start_day = self.local_date(from).pred_opt().unwrap_or(NaiveDate::MIN);
        Spans {
            cal: self,
            from,
            day: Some(start_day),
            raw: VecDeque::new(),
            empty_days: 0,
            scanned_days: 0,
            pending: None,
            watermark: DateTime::<Utc>::MIN_UTC,
        }
    }

    /// The instant `d` of business time after `from`; `None` when the calendar has no
    /// working time for [`HORIZON_DAYS`] days in a row, or the instant lies more than twenty
    /// years ahead. A zero duration gives the next business instant.
    pub fn add(&self, from: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
        let mut left = d.max(Duration::zero());
        for (s, e) in self.spans_from(from) {
            let len = e - s;
            if left <= len {
                return Some(s + left);
            }
            left -= len;
        }
        None
    }

    /// Business time between `a` and `b` (zero when `b` is not after `a`).
    pub fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if b <= a {
            return total;
        }
        for (s, e) in self.spans_from(a) {
            if s >= b {
                break;
            }
            total += e.min(b) - s;
        }
        total
    }

    /// The first business instant at or after `t`.
    pub fn next_open(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.spans_from(t).next().map(|(s, _)| s)
    }

    /// True when `t` is within business hours (an interval's closing instant included).
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        // Spans from just before `t`: one that ends exactly at `t` still counts.
        self.spans_from(t - Duration::milliseconds(1))
            .next()
            .is_some_and(|(s, e)| s <= t && t <= e)
    }
}

/// Iterator over merged business intervals; see [`Calendar::spans_from`].
pub struct Spans<'a> {
    cal: &'a Calendar,
    from: DateTime<Utc>,
    /// The next local date to expand; `None` past the end of the representable range.
    day: Option<NaiveDate>,
    raw: VecDeque<(DateTime<Utc>, DateTime<Utc>)>,
    empty_days: u32,
    /// Days expanded so far.
    scanned_days: u32,
    /// The merged span being built.
    pending: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// End of the last span handed out.
    watermark: DateTime<Utc>,
}

impl Spans<'_> {
    /// The next converted, non-empty interval in start order, before merging.
    fn next_raw(&mut self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        while self.raw.is_empty() {
            let day = self.day?;
            if self.empty_days > HORIZON_DAYS || self.scanned_days > MAX_SCAN_DAYS {
                return None;
            }
            self.scanned_days += 1;
            self.day = day.succ_opt();
            let midnight = day.and_time(NaiveTime::MIN);
            let mut found = false;
            for &(s, e) in self.cal.day_intervals(day) {
                let start = self
                    .cal
                    .instant(midnight + Duration::minutes(i64::from(s)), false);
                let end = self
                    .cal
                    .instant(midnight + Duration::minutes(i64::from(e)), true);
                if end > start {
                    self.raw.push_back((start, end));
                    found = true;
                }
            }
            if found {
                self.empty_days = 0;
            } else {
                self.empty_days += 1;
            }
        }
        self.raw.pop_front()
    }
}

impl Spans<'_> {
    /// Hands out a merged span (clipped to `from`), or nothing if it ends before `from`.
    fn emit(
        &mut self,
        p: (DateTime<Utc>, DateTime<Utc>),
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.watermark = p.1;
        (p.1 > self.from).then(|| (p.0.max(self.from), p.1))
    }
}

impl Iterator for Spans<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(mut r) = self.next_raw() else {
                let p = self.pending.take()?;
                return self.emit(p);
            };
            // Never hand out time twice (a repeated hour can make intervals overlap).
            r.0 = r.0.max(self.watermark);
            if r.1 <= r.0 {
                continue;
            }
            match self.pending {
                None => self.pending = Some(r),
                Some(p) if r.0 <= p.1 => self.pending = Some((p.0, p.1.max(r.1))),
                Some(p) => {
                    self.pending = Some(r);
                    if let Some(out) = self.emit(p) {
                        return Some(out);
                    }
                }
            }
            // A calendar open around the clock would merge forever: hand out long spans in
            // pieces (adjacent spans are equivalent to one for every function here).
            if let Some(p) = self.pending
                && p.1 - p.0 >= Duration::days(MAX_SPAN_DAYS)
            {
                self.pending = None;
                if let Some(out) = self.emit(p) {
                    return Some(out);
                }
            }
        }
    }
}

/// What an SLA clock runs on: business hours of a calendar, or around the clock.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Hours {
    #[default]
    Always,
    Calendar(Calendar),
}

impl Hours {
    /// `d` of business time after `from`. Around the clock this is `from + d`; for a calendar
    /// that has no working time for about ten years in a row (validation refuses calendars
    /// closed for the coming year), or whose deadline would lie more than twenty years ahead,
    /// it falls back to wall-clock time rather than no deadline.
    pub fn add(&self, from: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
        match self {
            Hours::Always => from + d.max(Duration::zero()),
            Hours::Calendar(c) => c
                .add(from, d)
                .unwrap_or_else(|| from + d.max(Duration::zero())),
        }
    }

    /// Business time between `a` and `b`.
    pub fn between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        match self {
            Hours::Always => (b - a).max(Duration::zero()),
            Hours::Calendar(c) => c.between(a, b),
        }
    }

    /// The first business instant at or after `t`.
    pub fn next_open(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Hours::Always => t,
            Hours::Calendar(c) => c.next_open(t).unwrap_or(t),
        }
    }

    /// The zone to show times in: the calendar's, or UTC around the clock.
    pub fn time_zone(&self) -> Tz {
        match self {
            Hours::Always => Tz::UTC,
            Hours::Calendar(c) => c.time_zone(),
        }
    }
}

/// A stored calendar, as `/api/sla/calendars` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDto {
    pub id: uuid::Uuid,
    pub name: String,
    pub time_zone: String,
    pub week: WeekSpec,
    pub holidays: Vec<HolidaySpec>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CalendarDto {
    pub fn spec(&self) -> CalendarSpec {
        CalendarSpec {
            time_zone: self.time_zone.clone(),
            week: self.week.clone(),
            holidays: self.holidays.clone(),
        }
    }
}

/// `POST /api/sla/calendars` and `PUT /api/sla/calendars/{id}` (a full replacement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CalendarRequest {
    /// Unique, 1–100 printable characters.
    pub name: String,
    pub time_zone: String,
    pub week: WeekSpec,
    #[serde(default)]
    pub holidays: Vec<HolidaySpec>,
}

impl CalendarRequest {
    pub fn spec(&self) -> CalendarSpec {
        CalendarSpec {
            time_zone: self.time_zone.trim().to_owned(),
            week: self.week.clone(),
            holidays: self.holidays.clone(),
        }
    }
}

/// `POST /api/sla/recompute`: move the deadlines of open tickets onto the policies and
/// calendars now in force. Without filters every open ticket is recomputed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecomputeRequest {
    /// Only tickets that run on this calendar.
    #[serde(default)]
    pub calendar_id: Option<uuid::Uuid>,
    /// Only tickets that run on this policy (`default` or an override's name).
    #[serde(default)]
    pub policy: Option<String>,
}

/// What `POST /api/sla/recompute` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecomputeResult {
    /// Open tickets whose terms were recomputed.
    pub recomputed: u64,
    /// Of those, how many got different deadlines.
    pub moved: u64,
}

/// Every IANA zone name, for pickers.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
