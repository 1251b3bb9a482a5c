//! The one global logger: env_logger, filtered by `RUST_LOG` (default `info`), in the format
//! `LOG_FORMAT` names:
//!
//! - `text` (default): `2026-12-03T10:00:00.123Z INFO helpdesk_server::startup: message`,
//!   with ` request_id=…` appended while a request is being handled;
//! - `json`: one JSON object per line with `ts`, `level`, `target`, `message` and, while a
//!   request is handled, `request_id`.

use std::io::Write;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Parses `LOG_FORMAT` (unset or empty: text).
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!(
                "LOG_FORMAT is invalid: `{other}` (expected text or json)"
            )),
        }
    }
}

/// One log line (without the newline).
pub fn line(
    format: LogFormat,
    record: &log::Record<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let request_id = crate::request_id::current();
    match format {
        LogFormat::Json => {
            let mut obj = serde_json::json!({
                "ts": ts,
                "level": record.level().as_str(),
                "target": record.target(),
                "message": record.args().to_string(),
            });
            if let (Some(id), Some(map)) = (request_id, obj.as_object_mut()) {
                map.insert("request_id".to_owned(), serde_json::Value::String(id));
            }
            obj.to_string()
        }
        LogFormat::Text => {
            let mut out = format!(
                "{ts} {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
            if let Some(id) = request_id {
                out.push_str(" request_id=");
                out.push_str(&id);
            }
            out
        }
    }
}

/// Installs the global logger.
pub fn init(format: LogFormat) {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(move |buf, record| writeln!(buf, "{}", line(format, record, chrono::Utc::now())))
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        assert!(LogFormat::parse(Some("xml")).is_err());
    }

    #[test]
    fn json_lines_are_one_escaped_object() {
        let text = line(
            LogFormat::Json,
            &log::Record::builder()
                .args(format_args!("a \"quoted\"\nmessage"))
                .level(log::Level::Warn)
                .target("helpdesk")
                .build(),
            chrono::Utc::now(),
        );
        assert!(!text.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["message"], "a \"quoted\"\nmessage");
        assert!(v.get("request_id").is_none());
    }
}
