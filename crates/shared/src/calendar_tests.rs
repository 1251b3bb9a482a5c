//! Unit and property tests of the calendar math.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid instant")
}

/// A local wall time in `tz` (unambiguous in the tests that use it).
fn local(tz: &str, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    let tz: Tz = tz.parse().expect("zone");
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

fn spec(tz: &str, week: WeekSpec, holidays: Vec<HolidaySpec>) -> CalendarSpec {
    CalendarSpec {
        time_zone: tz.to_owned(),
        week,
        holidays,
    }
}

fn cal(spec: &CalendarSpec) -> Calendar {
    spec.parse(date(2026, 1, 1)).expect("valid calendar")
}

fn office(tz: &str) -> Calendar {
    cal(&spec(
        tz,
        WeekSpec::weekdays(&[IntervalSpec::new("09:00", "17:00")]),
        vec![],
    ))
}

fn always_spec(tz: &str) -> CalendarSpec {
    spec(
        tz,
        WeekSpec::every_day(&[IntervalSpec::new("00:00", "24:00")]),
        vec![],
    )
}

fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

fn problems(err: CalendarError) -> Vec<String> {
    match err {
        CalendarError::Invalid(p) => p.into_iter().map(|p| p.field).collect(),
        CalendarError::NoWorkingTime => vec!["<no working time>".to_owned()],
    }
}

#[test]
fn friday_evening_waits_for_monday() {
    let c = office("Europe/Berlin");
    // Friday 2026-12-04 16:00 Berlin (CET, +1); 8 business hours: 1 h on Friday, 7 on Monday.
    let created = local("Europe/Berlin", 2026, 12, 4, 16, 0);
    let due = c.add(created, hours(8)).expect("deadline");
    assert_eq!(due, local("Europe/Berlin", 2026, 12, 7, 16, 0));
    assert_eq!(c.between(created, due), hours(8));
    // Opened at the weekend: the clock starts on Monday morning.
    let saturday = local("Europe/Berlin", 2026, 12, 5, 11, 0);
    assert_eq!(
        c.next_open(saturday),
        Some(local("Europe/Berlin", 2026, 12, 7, 9, 0))
    );
    assert_eq!(
        c.add(saturday, hours(1)),
        Some(local("Europe/Berlin", 2026, 12, 7, 10, 0))
    );
    assert!(!c.is_open(saturday));
    assert!(c.is_open(local("Europe/Berlin", 2026, 12, 7, 17, 0)));
    assert!(!c.is_open(local("Europe/Berlin", 2026, 12, 7, 17, 1)));
}

#[test]
fn a_deadline_lands_on_the_closing_instant_not_the_next_morning() {
    let c = office("UTC");
    let monday_nine = utc(2026, 12, 7, 9, 0);
    assert_eq!(c.add(monday_nine, hours(8)), Some(utc(2026, 12, 7, 17, 0)));
    assert_eq!(
        c.add(monday_nine, hours(8) + Duration::minutes(1)),
        Some(utc(2026, 12, 8, 9, 1))
    );
    // Zero business time from the evening is the next opening.
    assert_eq!(
        c.add(utc(2026, 12, 7, 20, 0), Duration::zero()),
        Some(utc(2026, 12, 8, 9, 0))
    );
}

#[test]
fn berlin_spring_forward_shortens_a_night_shift() {
    // Night shift 22:00–06:00 every day. On Sunday 29 March 2026 Berlin skips 02:00–03:00.
    let c = cal(&spec(
        "Europe/Berlin",
        WeekSpec::every_day(&[IntervalSpec::new("22:00", "06:00")]),
        vec![],
    ));
    let start = local("Europe/Berlin", 2026, 3, 28, 22, 0);
    let end = local("Europe/Berlin", 2026, 3, 29, 6, 0);
    assert_eq!(end - start, hours(7));
    assert_eq!(c.between(start, end), hours(7));
    // 7 business hours from 22:00 end at 06:00 local, one wall hour earlier than usual.
    assert_eq!(c.add(start, hours(7)), Some(end));
    // And the next night is back to eight hours.
    let next = local("Europe/Berlin", 2026, 3, 29, 22, 0);
    assert_eq!(
        c.add(next, hours(8)),
        Some(local("Europe/Berlin", 2026, 3, 30, 6, 0))
    );
}

#[test]
fn berlin_fall_back_lengthens_a_night_shift() {
    // On Sunday 25 October 2026 Berlin repeats 02:00–03:00: the night holds nine hours.
    let c = cal(&spec(
        "Europe/Berlin",
        WeekSpec::every_day(&[IntervalSpec::new("22:00", "06:00")]),
        vec![],
    ));
    let start = local("Europe/Berlin", 2026, 10, 24, 22, 0);
    let end = local("Europe/Berlin", 2026, 10, 25, 6, 0);
    assert_eq!(end - start, hours(9));
    assert_eq!(c.between(start, end), hours(9));
    assert_eq!(c.add(start, hours(9)), Some(end));
    assert_eq!(
        c.add(start, hours(10)),
        Some(local("Europe/Berlin", 2026, 10, 25, 23, 0))
    );
}

#[test]
fn an_interval_starting_in_the_gap_starts_when_the_gap_ends() {
    // 02:30–05:00 on the spring-forward night in New York (8 March 2026, 02:00 -> 03:00):
    // 02:30 does not exist; the interval runs 03:00–05:00 EDT, two hours.
    let c = cal(&spec(
        "America/New_York",
        WeekSpec::every_day(&[IntervalSpec::new("02:30", "05:00")]),
        vec![],
    ));
    let before = local("America/New_York", 2026, 3, 7, 12, 0);
    let opening = c.next_open(before).expect("opens");
    assert_eq!(opening, local("America/New_York", 2026, 3, 8, 3, 0));
    assert_eq!(
        c.between(opening, local("America/New_York", 2026, 3, 8, 6, 0)),
        hours(2)
    );
    // The day before holds the usual two and a half hours.
    let saturday = local("America/New_York", 2026, 3, 7, 0, 0);
    assert_eq!(
        c.between(saturday, before),
        hours(2) + Duration::minutes(30)
    );
}

#[test]
fn new_york_office_hours_keep_local_time_across_dst() {
    let c = office("America/New_York");
    // Friday 6 March 2026 16:00 EST; 2 business hours: 1 on Friday, 1 on Monday 9 March (EDT).
    let friday = local("America/New_York", 2026, 3, 6, 16, 0);
    let due = c.add(friday, hours(2)).expect("deadline");
    assert_eq!(due, local("America/New_York", 2026, 3, 9, 10, 0));
    assert_eq!(due, utc(2026, 3, 9, 14, 0));
    // And in November (fall back on Sunday 1 November 2026).
    let friday = local("America/New_York", 2026, 10, 30, 16, 30);
    let due = c.add(friday, hours(1)).expect("deadline");
    assert_eq!(due, local("America/New_York", 2026, 11, 2, 9, 30));
    assert_eq!(due, utc(2026, 11, 2, 14, 30));
}

#[test]
fn holidays_spanning_a_weekend_close_the_whole_range() {
    // Thursday 24 Dec 2026 to Monday 4 Jan 2027 off, recurring; the next opening is Tuesday.
    let c = cal(&spec(
        "Europe/Berlin",
        WeekSpec::weekdays(&[IntervalSpec::new("09:00", "17:00")]),
        vec![HolidaySpec {
            name: "Winter break".into(),
            from: date(2026, 12, 24),
            to: Some(date(2027, 1, 4)),
            yearly: true,
        }],
    ));
    let wednesday = local("Europe/Berlin", 2026, 12, 23, 16, 0);
    assert_eq!(
        c.add(wednesday, hours(2)),
        Some(local("Europe/Berlin", 2027, 1, 5, 10, 0))
    );
    // A year later the same dates are off again (24 Dec 2027 is a Friday).
    assert!(c.is_holiday(date(2027, 12, 24)));
    assert!(c.is_holiday(date(2028, 1, 3)));
    assert!(!c.is_holiday(date(2028, 1, 5)));
    let thursday = local("Europe/Berlin", 2027, 12, 23, 16, 0);
    assert_eq!(
        c.add(thursday, hours(2)),
        Some(local("Europe/Berlin", 2028, 1, 5, 10, 0))
    );
}

#[test]
fn a_one_off_holiday_does_not_recur() {
    let c = cal(&spec(
        "UTC",
        WeekSpec::weekdays(&[IntervalSpec::new("09:00", "17:00")]),
        vec![HolidaySpec {
            name: String::new(),
            from: date(2026, 12, 8),
            to: None,
            yearly: false,
        }],
    ));
    assert_eq!(
        c.add(utc(2026, 12, 7, 17, 0), hours(1)),
        Some(utc(2026, 12, 9, 10, 0))
    );
    assert!(!c.is_holiday(date(2027, 12, 8)));
}

#[test]
fn a_night_shift_starting_before_a_holiday_still_ends_in_the_morning() {
    let c = cal(&spec(
        "UTC",
        WeekSpec::every_day(&[IntervalSpec::new("22:00", "06:00")]),
        vec![HolidaySpec {
            name: "New Year".into(),
            from: date(2027, 1, 1),
            to: None,
            yearly: true,
        }],
    ));
    let eve = utc(2026, 12, 31, 22, 0);
    assert_eq!(c.add(eve, hours(8)), Some(utc(2027, 1, 1, 6, 0)));
    // The shift that would start on New Year's evening does not happen.
    assert_eq!(c.add(eve, hours(9)), Some(utc(2027, 1, 2, 23, 0)));
}

#[test]
fn zero_length_days_are_skipped_and_several_intervals_a_day_count() {
    // Tuesday and Thursday only, with a lunch break.
    let mut week = WeekSpec::default();
    week.tue = vec![
        IntervalSpec::new("08:00", "12:00"),
        IntervalSpec::new("13:00", "17:00"),
    ];
    week.thu = week.tue.clone();
    let c = cal(&spec("UTC", week, vec![]));
    let monday = utc(2026, 12, 7, 10, 0);
    assert_eq!(c.add(monday, hours(4)), Some(utc(2026, 12, 8, 12, 0)));
    assert_eq!(
        c.add(monday, hours(4) + Duration::minutes(1)),
        Some(utc(2026, 12, 8, 13, 1))
    );
    assert_eq!(c.add(monday, hours(9)), Some(utc(2026, 12, 10, 9, 0)));
    assert_eq!(c.between(monday, utc(2026, 12, 11, 0, 0)), hours(16));
}

#[test]
fn validation_reports_every_problem() {
    let mut week = WeekSpec::weekdays(&[IntervalSpec::new("09:00", "17:00")]);
    week.mon.push(IntervalSpec::new("16:00", "18:00"));
    week.tue.push(IntervalSpec::new("25:00", "26:00"));
    week.wed = vec![IntervalSpec::new("10:00", "10:00")];
    // Sunday night into Monday morning overlaps Monday's own 05:00 start.
    week.sun = vec![IntervalSpec::new("20:00", "06:00")];
    week.thu = vec![IntervalSpec::new("05:00", "9:00")];
    let bad = spec(
        "Mars/Olympus",
        week,
        vec![HolidaySpec {
            name: String::new(),
            from: date(2026, 12, 10),
            to: Some(date(2026, 12, 1)),
            yearly: false,
        }],
    );
    let fields = problems(bad.parse(date(2026, 1, 1)).expect_err("refused"));
    for expected in [
        "time_zone",
        "week.mon",
        "week.tue[1].start",
        "week.tue[1].end",
        "week.wed[0]",
        "week.thu[0].end",
        "holidays[0].to",
    ] {
        assert!(
            fields.contains(&expected.to_owned()),
            "{expected} in {fields:?}"
        );
    }
    // Sunday 20:00–06:00 runs into Monday morning: with a Monday 05:00 start it overlaps.
    let mut week = WeekSpec::weekdays(&[IntervalSpec::new("05:00", "12:00")]);
    week.sun = vec![IntervalSpec::new("20:00", "06:00")];
    let fields = problems(
        spec("UTC", week, vec![])
            .parse(date(2026, 1, 1))
            .expect_err("refused"),
    );
    assert_eq!(fields, ["week.sun"]);
    // Touching intervals are fine.
    let mut week = WeekSpec::weekdays(&[IntervalSpec::new("06:00", "12:00")]);
    week.sun = vec![IntervalSpec::new("20:00", "06:00")];
    assert!(spec("UTC", week, vec![]).parse(date(2026, 1, 1)).is_ok());
}

#[test]
fn a_calendar_without_working_time_is_refused() {
    let empty = spec("UTC", WeekSpec::default(), vec![]);
    assert_eq!(
        empty.parse(date(2026, 1, 1)).expect_err("refused"),
        CalendarError::NoWorkingTime
    );
    // Weekends only, and every weekend of the coming year is a holiday: also nothing.
    let week = WeekSpec {
        sat: vec![IntervalSpec::new("10:00", "12:00")],
        ..WeekSpec::default()
    };
    let closed = spec(
        "UTC",
        week,
        vec![
            HolidaySpec {
                name: "Closed".into(),
                from: date(2026, 1, 1),
                to: Some(date(2026, 12, 31)),
                yearly: false,
            },
            HolidaySpec {
                name: "Still closed".into(),
                from: date(2027, 1, 1),
                to: Some(date(2027, 6, 30)),
                yearly: false,
            },
        ],
    );
    let err = closed.parse(date(2026, 1, 1)).expect_err("refused");
    assert_eq!(err, CalendarError::NoWorkingTime, "{err}");
    // A whole-year yearly holiday is malformed rather than merely closed.
    let week = WeekSpec {
        sat: vec![IntervalSpec::new("10:00", "12:00")],
        ..WeekSpec::default()
    };
    let fields = problems(
        spec(
            "UTC",
            week,
            vec![HolidaySpec {
                name: String::new(),
                from: date(2026, 1, 1),
                to: Some(date(2026, 12, 31)),
                yearly: true,
            }],
        )
        .parse(date(2026, 1, 1))
        .expect_err("refused"),
    );
    assert_eq!(fields, ["holidays[0]"]);
}

#[test]
fn the_wire_form_is_strict() {
    let json = serde_json::json!({
        "time_zone": "Europe/Berlin",
        "week": {"mon": [{"start": "09:00", "end": "17:00"}]},
        "holidays": [{"from": "2026-12-25", "yearly": true}]
    });
    let spec: CalendarSpec = serde_json::from_value(json).expect("parses");
    assert_eq!(spec.week.tue, vec![]);
    assert!(spec.parse(date(2026, 1, 1)).is_ok());
    let unknown = serde_json::json!({"time_zone": "UTC", "week": {"monday": []}});
    assert!(serde_json::from_value::<CalendarSpec>(unknown).is_err());
}

#[test]
fn absurd_targets_stop_looking_after_twenty_years() {
    // One minute a week and a year of business time: 10 000 years away. The search gives up
    // (quickly) instead of walking millions of days; `Hours` then counts wall-clock time.
    let week = WeekSpec {
        wed: vec![IntervalSpec::new("10:00", "10:01")],
        ..WeekSpec::default()
    };
    let c = cal(&spec("UTC", week, vec![]));
    let start = utc(2026, 12, 7, 0, 0);
    assert_eq!(c.add(start, Duration::days(365)), None);
    assert_eq!(
        Hours::Calendar(c.clone()).add(start, Duration::days(365)),
        start + Duration::days(365)
    );
    // Within the horizon it still answers.
    assert_eq!(
        c.add(start, Duration::minutes(2)),
        Some(utc(2026, 12, 16, 10, 1))
    );
}

#[test]
fn hours_always_is_wall_clock_time() {
    let t = utc(2026, 12, 4, 16, 0);
    assert_eq!(Hours::Always.add(t, hours(8)), t + hours(8));
    assert_eq!(Hours::Always.between(t, t + hours(3)), hours(3));
    assert_eq!(Hours::Always.between(t + hours(3), t), Duration::zero());
    assert_eq!(Hours::Always.next_open(t), t);
}

// --- properties ---------------------------------------------------------------------------

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
];

/// Random valid weekly schedules: per day up to three intervals, some crossing midnight,
/// never overlapping (each day's intervals live in their own slice of the day, and a
/// crossing one only in the last slice, ending before 08:00 the next day, when no interval
/// of the next day starts before 08:00).
fn arb_week() -> impl Strategy<Value = WeekSpec> {
    let slot = |lo: u32, hi: u32| {
        (lo..hi, 1u32..(hi - lo)).prop_map(move |(s, len)| (s, (s + len).min(hi)))
    };
    let day = (
        proptest::option::of(slot(480, 720)),
        proptest::option::of(slot(720, 1080)),
        proptest::option::of((1080u32..1440, 60u32..800)),
    );
    proptest::collection::vec(day, 7).prop_map(|days| {
        let mut week = WeekSpec::default();
        for (d, (a, b, night)) in days.into_iter().enumerate() {
            let list = week.day_mut(d).expect("seven days");
            for (s, e) in [a, b].into_iter().flatten() {
                if e > s {
                    list.push(IntervalSpec::new(&format_clock(s), &format_clock(e)));
                }
            }
            if let Some((s, len)) = night {
                let end = (s + len).min(1440 + 480);
                let end = if end >= 1440 { end - 1440 } else { end };
                if end != s {
                    list.push(IntervalSpec::new(&format_clock(s), &format_clock(end)));
                }
            }
        }
        // Always some working time.
        if week.days().iter().all(|d| d.is_empty()) {
            week.wed.push(IntervalSpec::new("09:00", "10:00"));
        }
        week
    })
}

fn arb_holidays() -> impl Strategy<Value = Vec<HolidaySpec>> {
    proptest::collection::vec(
        (0i64..900, 0i64..10, any::<bool>()).prop_map(|(offset, len, yearly)| {
            let from = date(2026, 1, 1) + Duration::days(offset);
            HolidaySpec {
                name: String::new(),
                from,
                to: Some(from + Duration::days(len)),
                yearly,
            }
        }),
        0..5,
    )
}

fn arb_calendar() -> impl Strategy<Value = Calendar> {
    (
        proptest::sample::select(&ZONES[..]),
        arb_week(),
        arb_holidays(),
    )
        .prop_filter_map("a valid calendar", |(tz, week, holidays)| {
            spec(tz, week, holidays).parse(date(2026, 1, 1)).ok()
        })
}

/// Instants from 2026 to the end of 2028, to the second.
fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..3 * 365 * 86_400).prop_map(|s| utc(2026, 1, 1, 0, 0) + Duration::seconds(s))
}

/// Up to 400 business hours, to the second.
fn arb_duration() -> impl Strategy<Value = Duration> {
    (0i64..400 * 3600).prop_map(Duration::seconds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn adding_then_measuring_gives_the_duration_back(
        c in arb_calendar(), start in arb_instant(), d in arb_duration()
    ) {
        let due = c.add(start, d).expect("a deadline");
        prop_assert!(due >= start);
        prop_assert_eq!(c.between(start, due), d);
    }

    #[test]
    fn deadlines_fall_inside_business_hours(
        c in arb_calendar(), start in arb_instant(), d in arb_duration()
    ) {
        let due = c.add(start, d).expect("a deadline");
        prop_assert!(c.is_open(due), "{due} is outside business hours");
        // And no business time is skipped: the deadline is the earliest such instant.
        if d > Duration::zero() {
            prop_assert!(c.between(start, due - Duration::seconds(1)) < d);
        }
    }

    #[test]
    fn adding_is_monotonic(
        c in arb_calendar(), a in arb_instant(), b in arb_instant(),
        d in arb_duration(), e in arb_duration()
    ) {
        let (a, b) = (a.min(b), a.max(b));
        let (d, e) = (d.min(e), d.max(e));
        prop_assert!(c.add(a, d) <= c.add(a, e));
        prop_assert!(c.add(a, d) <= c.add(b, d));
        prop_assert!(c.between(a, b) <= b - a);
    }

    #[test]
    fn measuring_is_additive(
        c in arb_calendar(), a in arb_instant(), b in arb_instant(), m in arb_instant()
    ) {
        let mut v = [a, b, m];
        v.sort();
        prop_assert_eq!(c.between(v[0], v[2]), c.between(v[0], v[1]) + c.between(v[1], v[2]));
    }

    #[test]
    fn a_calendar_open_around_the_clock_is_wall_clock_time(
        tz in proptest::sample::select(&ZONES[..]), start in arb_instant(),
        d in (0i64..2000 * 3600).prop_map(Duration::seconds)
    ) {
        let c = cal(&always_spec(tz));
        prop_assert_eq!(c.add(start, d), Some(start + d));
        prop_assert_eq!(c.between(start, start + d), d);
        prop_assert_eq!(Hours::Calendar(c.clone()).add(start, d), Hours::Always.add(start, d));
    }
}
