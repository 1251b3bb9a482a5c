//! How values read on screen: times, statuses, priorities, sizes. Pure functions, no DOM
//! except the browser clock and its locale.

use chrono::{DateTime, Datelike, Utc};
use shared::agents::{AgentStatus, Shift, Weekday};
use shared::{Priority, TicketStatus};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::js_sys;

/// The browser's clock. (`chrono::Utc::now` is not available on `wasm32-unknown-unknown`.)
pub fn now() -> DateTime<Utc> {
    let ms = js_sys::Date::now() as i64;
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// "12 Mar 2025, 14:05" in the user's locale and time zone.
pub fn local_time(at: DateTime<Utc>) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    String::from(date.to_locale_string("default", &options))
}

/// "Tue 8 Dec, 10:00" in the user's locale and time zone: short enough for a promise.
pub fn eta_time(at: DateTime<Utc>) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let options = js_sys::Object::new();
    for (key, value) in [
        ("weekday", "short"),
        ("day", "numeric"),
        ("month", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    String::from(date.to_locale_string("default", &options))
}

/// "just now", "5 min ago", "3 h ago", "2 d ago".
pub fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// "#1042".
pub fn ticket_number(number: i64) -> String {
    format!("#{number}")
}

pub fn status_label(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::New => "New",
        TicketStatus::Open => "Open",
        TicketStatus::Pending => "Pending",
        TicketStatus::Resolved => "Resolved",
        TicketStatus::Closed => "Closed",
    }
}

pub fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "Low",
        Priority::Medium => "Medium",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}

pub fn agent_status_label(status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::Available => "Available",
        AgentStatus::Busy => "Busy",
        AgentStatus::Away => "Away",
        AgentStatus::Offline => "Offline",
    }
}

/// The label of a button moving a ticket from `from` to `to`.
pub fn transition_label(from: TicketStatus, to: TicketStatus, staff: bool) -> &'static str {
    use TicketStatus::*;
    match (from, to) {
        (New, Open) => "Mark open",
        (Pending, Open) => "Back to open",
        (Resolved, Open) => "Reopen",
        (_, Pending) => "Wait for customer",
        (_, Resolved) => "Resolve",
        (_, Closed) if staff => "Close",
        (_, Closed) => "Close request",
        (_, Open) | (_, New) => "Open",
    }
}

/// "1.2 MB", "340 KB".
pub fn file_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    } else if bytes >= 1024.0 {
        format!("{:.0} KB", bytes / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// "1 image", "3 images" and the like.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A duration in seconds as "45 s", "12 min", "3 h 5 min" or "2 d 4 h".
pub fn duration_secs(secs: f64) -> String {
    let secs = secs.max(0.0).round() as i64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => match (secs % 3600) / 60 {
            0 => format!("{} h", secs / 3600),
            m => format!("{} h {m} min", secs / 3600),
        },
        _ => match (secs % 86_400) / 3600 {
            0 => format!("{} d", secs / 86_400),
            h => format!("{} d {h} h", secs / 86_400),
        },
    }
}

/// A number of minutes as "45 min", "4 h", "1 h 30 min" or "3 d".
pub fn minutes(minutes: u32) -> String {
    duration_secs(f64::from(minutes) * 60.0)
}

pub fn weekday_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// Working days as "every day", "Mon–Fri" (a run of days) or "Mon, Wed, Fri".
pub fn weekdays(days: &[Weekday]) -> String {
    let mut idx: Vec<usize> = days.iter().map(|d| *d as usize).collect();
    idx.sort_unstable();
    idx.dedup();
    let label = |i: usize| Weekday::ALL.get(i).map_or("?", |d| weekday_label(*d));
    match idx.as_slice() {
        [] => "no days".to_owned(),
        all if all.len() == 7 => "every day".to_owned(),
        [first, .., last] if last - first + 1 == idx.len() && idx.len() > 2 => {
            format!("{}–{}", label(*first), label(*last))
        }
        _ => idx.iter().map(|i| label(*i)).collect::<Vec<_>>().join(", "),
    }
}

/// "09:00–17:00 Europe/Berlin, Mon–Fri".
pub fn shift(shift: &Shift) -> String {
    let span = if shift.start == shift.end {
        "around the clock".to_owned()
    } else {
        format!(
            "{}–{}",
            shift.start.format("%H:%M"),
            shift.end.format("%H:%M")
        )
    };
    format!("{span} {}, {}", shift.time_zone, weekdays(&shift.days))
}

/// The browser's IANA time zone, e.g. `Europe/Berlin` (`UTC` if it cannot tell).
pub fn browser_time_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "UTC".to_owned())
}

/// Every IANA time zone the browser knows (`Intl.supportedValuesOf("timeZone")`), or a short
/// list of common ones where that is not available.
pub fn time_zones() -> Vec<String> {
    let from_browser = || -> Option<Vec<String>> {
        let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let f = js_sys::Reflect::get(&intl, &"supportedValuesOf".into()).ok()?;
        let f = f.dyn_into::<js_sys::Function>().ok()?;
        let list = f.call1(&intl, &"timeZone".into()).ok()?;
        let list = list.dyn_into::<js_sys::Array>().ok()?;
        Some(list.iter().filter_map(|v| v.as_string()).collect())
    };
    let mut zones = from_browser().unwrap_or_else(|| {
        [
            "Europe/London",
            "Europe/Berlin",
            "Europe/Paris",
            "America/New_York",
            "America/Chicago",
            "America/Los_Angeles",
            "Asia/Tokyo",
            "Asia/Kolkata",
            "Australia/Sydney",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    });
    if !zones.iter().any(|z| z == "UTC") {
        zones.insert(0, "UTC".to_owned());
    }
    zones
}

/// The instant a local calendar day (`YYYY-MM-DD`, as from `<input type=date>`) starts in the
/// browser's time zone; `next_day` gives the start of the following day instead.
pub fn local_day_start(date: &str, next_day: bool) -> Option<DateTime<Utc>> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let day = if next_day { day.succ_opt()? } else { day };
    let year = u32::try_from(day.year()).ok()?;
    let month = i32::try_from(day.month0()).ok()?;
    let dom = i32::try_from(day.day()).ok()?;
    let js = js_sys::Date::new_with_year_month_day(year, month, dom);
    let ms = js.get_time();
    if ms.is_nan() {
        return None;
    }
    DateTime::from_timestamp_millis(ms as i64)
}
