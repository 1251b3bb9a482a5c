//! How values read on screen: times, statuses, priorities, sizes. Pure functions, no DOM
//! except the browser clock and its locale.

use chrono::{DateTime, Utc};
use shared::agents::AgentStatus;
use shared::{Priority, TicketStatus};
use wasm_bindgen::JsValue;
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
