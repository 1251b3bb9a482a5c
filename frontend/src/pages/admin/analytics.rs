//! `/admin/analytics`: how support is doing over a range of days.
//!
//! A range picker (two local days, inclusive, or a 7 / 30 / 90 day preset; 30 days by
//! default; kept in the address as `?from=YYYY-MM-DD&to=YYYY-MM-DD`) drives
//! `GET /api/analytics/overview`. The page shows the headline numbers, charts of the daily
//! volumes, backlog and resolution SLA compliance, breakdowns by priority and category, and the
//! per-agent table; and it downloads the tickets created in the range as CSV
//! (`GET /api/tickets/export.csv`). Ticket events reload the numbers, at most once every
//! [`RELOAD_EVERY_MS`].
//!
//! What each number means is the server's business (`services::analytics`, `docs/api.md`);
//! this page only says it in words. The two calls it needs live here as private functions in
//! the manner of `crate::api`, and so does its styling (classes prefixed `an-`).

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use gloo_net::http::{Request, Response};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::analytics::{
    AgentRow, AnalyticsOverview, CountBy, DayPoint, DurationStats, SlaCompliance,
};
use shared::ws::Event;
use shared::{Envelope, ErrorBody, Priority, Role};
use wasm_bindgen::JsCast;
use web_sys::js_sys;

use super::csat::CsatSection;
use crate::api::ApiError;
use crate::components::charts::{Bar, BarChart, CHART_CSS, Category, LineChart, Series, ValueKind};
use crate::components::icons::{Icon, IconName};
use crate::components::{EmptyState, ErrorPanel, Loading, RequireRole, set_title, use_toasts};
use crate::format::{self, agent_status_label, duration_secs, priority_label};
use crate::session::{Session, use_session};
use crate::ws::use_live;

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Analytics/>
        </RequireRole>
    }
}

/// Ticket events reload the overview at most this often.
const RELOAD_EVERY_MS: f64 = 2_000.0;
/// The shortest wait before a reload, so a burst of events (a ticket and its assignment)
/// costs one request.
const RELOAD_SETTLE_MS: f64 = 300.0;
/// The longest range the server accepts.
const MAX_RANGE_DAYS: i64 = 366;
/// The presets, in days ending today.
const PRESETS: [i64; 3] = [7, 30, 90];
/// Categories drawn one by one; the rest are summed into "Other".
const TOP_CATEGORIES: usize = 10;

const PAGE_CSS: &str = r#"
.an-range { display: flex; flex-wrap: wrap; align-items: flex-end; gap: var(--space-3) var(--space-4); }
.an-range .field { flex: 0 1 180px; }
.an-range-error { flex-basis: 100%; }
.an-presets { display: flex; flex-wrap: wrap; gap: var(--space-2); margin: 0; padding: 0; border: 0; }
.an-presets legend { font-weight: 600; font-size: 0.95rem; margin-bottom: var(--space-1); padding: 0; }
.an-presets .btn[aria-pressed="true"] { background: var(--primary); border-color: var(--primary); color: var(--primary-text); }
.an-summary { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-2) var(--space-3); margin: 0 0 var(--space-4); color: var(--text-muted); }
.an-updating { display: inline-flex; align-items: center; gap: var(--space-2); font-size: 0.875rem; }
.an-updating .spinner { width: 14px; height: 14px; }
.an-kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 240px), 1fr)); gap: var(--space-3); margin: 0 0 var(--space-5); padding: 0; }
.an-kpi { display: flex; flex-direction: column; gap: 2px; min-width: 0; padding: var(--space-3) var(--space-4); background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); }
.an-kpi dt { color: var(--text-muted); font-size: 0.875rem; font-weight: 600; }
.an-kpi dd { margin: 0; }
.an-kpi-value { font-size: 1.75rem; font-weight: 700; line-height: 1.2; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.an-kpi-hint { color: var(--text-muted); font-size: 0.8rem; }
.an-charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: var(--space-4); margin-bottom: var(--space-5); }
.an-charts > .card { min-width: 0; padding: var(--space-4); }
.an-agents th:nth-child(2), .an-agents td:nth-child(2) { text-align: left; }
@media (max-width: 640px) {
  .an-range .field { flex: 1 1 140px; }
  .an-kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .an-kpi { padding: var(--space-2) var(--space-3); }
  .an-kpi-value { font-size: 1.4rem; }
}
"#;

// ---------------------------------------------------------------------------------------------
// The range

/// The chosen days (local, inclusive) and the instants they span: from the start of the first
/// day to the start of the day after the last, in the browser's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    from_day: NaiveDate,
    to_day: NaiveDate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Range {
    fn new(from_day: NaiveDate, to_day: NaiveDate) -> Result<Self, String> {
        if from_day > to_day {
            return Err("The first day must not be after the last day.".into());
        }
        let from = format::local_day_start(&day_value(from_day), false);
        let to = format::local_day_start(&day_value(to_day), true);
        let (Some(from), Some(to)) = (from, to) else {
            return Err("Those days cannot be read as dates.".into());
        };
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(format!("A range covers at most {MAX_RANGE_DAYS} days."));
        }
        Ok(Self {
            from_day,
            to_day,
            from,
            to,
        })
    }

    /// The `days` days ending today.
    fn last_days(days: i64) -> Self {
        let today = today();
        let from = today - Duration::days(days - 1);
        Self::new(from, today).unwrap_or(Self {
            from_day: from,
            to_day: today,
            from: format::now() - Duration::days(days),
            to: format::now(),
        })
    }

    /// The range in the page address, if it holds a valid one.
    fn from_address(query: &leptos_router::params::ParamsMap) -> Option<Self> {
        let from = parse_day(&query.get("from")?)?;
        let to = parse_day(&query.get("to")?)?;
        Self::new(from, to).ok()
    }

    fn address(&self) -> String {
        format!(
            "/admin/analytics?from={}&to={}",
            day_value(self.from_day),
            day_value(self.to_day)
        )
    }

    /// The number of the preset this range is (ending today), if any.
    fn preset(&self) -> Option<i64> {
        let days = (self.to_day - self.from_day).num_days() + 1;
        (self.to_day == today() && PRESETS.contains(&days)).then_some(days)
    }

    /// "3 Mar 2025 – 1 Apr 2025".
    fn describe(&self) -> String {
        if self.from_day == self.to_day {
            long_day(self.from_day)
        } else {
            format!("{} – {}", long_day(self.from_day), long_day(self.to_day))
        }
    }
}

/// Today in the browser's time zone.
fn today() -> NaiveDate {
    let now = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(
        i32::try_from(now.get_full_year()).unwrap_or(1970),
        now.get_month() + 1,
        now.get_date(),
    )
    .unwrap_or_else(|| format::now().date_naive())
}

/// `YYYY-MM-DD`, as `<input type=date>` holds it.
fn day_value(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn parse_day(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

fn long_day(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---------------------------------------------------------------------------------------------
// The two calls (in the manner of `crate::api`)

/// `GET /api/analytics/overview?from=…&to=…`.
async fn load_overview(session: Session, range: Range) -> Result<AnalyticsOverview, ApiError> {
    let params = [("from", instant(range.from)), ("to", instant(range.to))];
    let response = authed_send(session, |bearer| {
        Request::get("/api/analytics/overview")
            .query(params.iter().map(|(k, v)| (*k, v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode::<AnalyticsOverview>(status, &text)
}

/// `GET /api/tickets/export.csv?created_from=…&created_to=…`, saved by the browser as
/// `tickets.csv`: the body becomes a `blob:` URL that a temporary `<a download>` is clicked on.
async fn download_csv(session: Session, range: Range) -> Result<(), ApiError> {
    let params = [
        ("created_from", instant(range.from)),
        ("created_to", instant(range.to)),
    ];
    let response = authed_send(session, |bearer| {
        Request::get("/api/tickets/export.csv")
            .query(params.iter().map(|(k, v)| (*k, v.as_str())))
            .header("Authorization", bearer)
            .build()
    })
    .await?;
    let bytes = response
        .binary()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let failed = |what: &str| ApiError::Network(format!("could not {what}"));
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| failed("prepare the file"))?;
    let url =
        web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| failed("prepare the file"))?;
    let saved = save_as(&url, "tickets.csv");
    // The browser reads the blob when the download starts; free it a little later.
    spawn_local(async move {
        TimeoutFuture::new(60_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    saved.map_err(|_| failed("start the download"))
}

/// Clicks a temporary `<a href=url download=name>`.
fn save_as(url: &str, name: &str) -> Result<(), wasm_bindgen::JsValue> {
    let document = document();
    let body = document
        .body()
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no body"))?;
    let link = document.create_element("a")?;
    link.set_attribute("href", url)?;
    link.set_attribute("download", name)?;
    link.set_attribute("hidden", "")?;
    body.append_child(&link)?;
    if let Some(link) = link.dyn_ref::<web_sys::HtmlElement>() {
        link.click();
    }
    body.remove_child(&link)?;
    Ok(())
}

/// Sends an authenticated request built by `build` (given the `Bearer …` header value) and
/// ends the session if the server rejects the token, as `crate::api` does.
async fn authed_send(
    session: Session,
    build: impl FnOnce(&str) -> Result<Request, gloo_net::Error>,
) -> Result<Response, ApiError> {
    let Some(token) = session.token() else {
        return Err(ApiError::SignedOut);
    };
    let result = send(build(&format!("Bearer {token}"))).await;
    if let Err(err) = &result
        && err.ends_session()
    {
        session.expire(&token, err);
    }
    result
}

/// Sends the request; a non-2xx answer becomes the matching [`ApiError`].
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    // Building only fails if the request is malformed, which is a bug, but still a readable
    // error rather than a panic.
    let request = request.map_err(|e| ApiError::Network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let status_text = response.status_text();
    let text = response.text().await.unwrap_or_default();
    Err(error_from(status, &status_text, &text))
}

/// The `data` of a success envelope.
fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, ApiError> {
    serde_json::from_str::<Envelope<T>>(text)
        .map(|envelope| envelope.data)
        .map_err(|e| ApiError::Unexpected {
            status,
            detail: e.to_string(),
        })
}

/// An error body whose `code` may be newer than this build's `ErrorCode`.
#[derive(Deserialize)]
struct LooseErrorBody {
    error: String,
    code: String,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

/// The [`ApiError`] of a failed answer.
fn error_from(status: u16, status_text: &str, text: &str) -> ApiError {
    if let Ok(body) = serde_json::from_str::<ErrorBody>(text) {
        return ApiError::Server { status, body };
    }
    if let Ok(loose) = serde_json::from_str::<LooseErrorBody>(text) {
        return ApiError::UnknownCode {
            status,
            code: loose.code,
            message: loose.error,
            details: loose.details,
        };
    }
    ApiError::Unexpected {
        status,
        detail: if status_text.is_empty() {
            "no error details".into()
        } else {
            status_text.to_owned()
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Live reloads

/// Wraps `f` so that it runs at most once per [`RELOAD_EVERY_MS`], and never sooner than
/// [`RELOAD_SETTLE_MS`] after the first call of a burst. Calls while one is scheduled are
/// folded into it. Stops quietly once the page is gone.
fn throttled(f: impl Fn() + Send + Sync + 'static) -> impl Fn() + Send + Sync + 'static {
    let f = Arc::new(f);
    let scheduled = StoredValue::new(false);
    let last_run = StoredValue::new(f64::NEG_INFINITY);
    move || {
        if scheduled.try_get_value().unwrap_or(true) {
            return;
        }
        scheduled.set_value(true);
        let wait =
            (last_run.get_value() + RELOAD_EVERY_MS - js_sys::Date::now()).max(RELOAD_SETTLE_MS);
        let f = Arc::clone(&f);
        spawn_local(async move {
            TimeoutFuture::new(wait as u32).await;
            let alive = scheduled.try_update_value(|s| *s = false).is_some()
                && last_run
                    .try_update_value(|t| *t = js_sys::Date::now())
                    .is_some();
            if alive {
                f();
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The page

type Overview = LocalResource<Result<AnalyticsOverview, ApiError>>;

#[component]
fn Analytics() -> impl IntoView {
    set_title("Analytics");
    let session = use_session();
    let live = use_live();
    let toasts = use_toasts();

    let initial = Range::from_address(&use_query_map().get_untracked())
        .unwrap_or_else(|| Range::last_days(30));
    let range = RwSignal::new(initial);
    // What the date inputs hold until "Apply".
    let from_input = RwSignal::new(day_value(initial.from_day));
    let to_input = RwSignal::new(day_value(initial.to_day));
    let range_error = RwSignal::new(None::<String>);

    // Loads under way (a superseded one still runs to its end, its answer ignored).
    let in_flight = RwSignal::new(0u32);
    let loading = move || in_flight.get() > 0;
    let overview: Overview = LocalResource::new(move || {
        live.reloads();
        let range = range.get();
        async move {
            in_flight.update(|n| *n += 1);
            let result = load_overview(session, range).await;
            in_flight.update(|n| *n = n.saturating_sub(1));
            result
        }
    });

    // The last overview loaded; kept while a reload is under way or has failed.
    let latest =
        Memo::new(
            move |previous: Option<&Option<AnalyticsOverview>>| match overview.get() {
                Some(Ok(data)) => Some(data),
                _ => previous.cloned().flatten(),
            },
        );
    // ...shown only while it is the overview of the chosen range.
    let shown = Memo::new(move |_| {
        let range = range.get();
        latest
            .get()
            .filter(|o| o.from == range.from && o.to == range.to)
    });
    let failure = Memo::new(move |_| overview.get().and_then(Result::err).map(|e| e.message()));

    let reload = throttled(move || overview.refetch());
    live.on_event(move |msg| match &msg.event {
        Event::NewTicket { .. }
        | Event::TicketUpdated { .. }
        | Event::TicketAssigned { .. }
        | Event::SlaBreach { .. } => reload(),
        _ => {}
    });

    // Mirror the range into the address bar without a navigation.
    Effect::new(move |_| {
        let address = range.get().address();
        if let Ok(history) = window().history() {
            let _ =
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&address));
        }
    });

    let choose = move |next: Range| {
        from_input.set(day_value(next.from_day));
        to_input.set(day_value(next.to_day));
        range_error.set(None);
        range.set(next);
    };
    let apply = move || {
        let (Some(from), Some(to)) = (
            parse_day(&from_input.get_untracked()),
            parse_day(&to_input.get_untracked()),
        ) else {
            range_error.set(Some("Choose both days.".into()));
            return;
        };
        match Range::new(from, to) {
            Ok(next) => choose(next),
            Err(msg) => range_error.set(Some(msg)),
        }
    };

    let exporting = RwSignal::new(false);
    let export = move |_| {
        if exporting.get_untracked() {
            return;
        }
        exporting.set(true);
        let range = range.get_untracked();
        spawn_local(async move {
            let result = download_csv(session, range).await;
            exporting.set(false);
            if let Err(err) = result {
                toasts.error(format!("The export failed: {}", err.message()));
            }
        });
    };

    let invalid = move || range_error.with(Option::is_some);
    // Each part re-renders only when its own numbers change, so a live reload does not
    // close an open data table or rebuild charts that stayed the same.
    let ready = Memo::new(move |_| shown.with(Option::is_some));
    let kpis = part(shown, Kpis::of);
    let per_day = part(shown, |o| o.per_day.clone());
    let by_priority = part(shown, |o| o.by_priority.clone());
    let by_category = part(shown, |o| o.by_category.clone());
    let agents = part(shown, |o| o.agents.clone());
    let content = move || {
        if ready.get() {
            view! {
                {move || kpis.get().map(|kpis| view! { <Headline kpis=kpis/> })}
                {move || kpis.get().filter(Kpis::nothing).map(|_| view! {
                    <EmptyState
                        title="No tickets in this range."
                        hint="Numbers appear as customers open tickets; try a longer range."
                    />
                })}
                <div class="an-charts">
                    <section class="card">{move || per_day.get().map(|d| per_day_chart(&d))}</section>
                    <section class="card">{move || per_day.get().map(|d| backlog_chart(&d))}</section>
                    <section class="card">{move || by_priority.get().map(|c| priority_chart(&c))}</section>
                    <section class="card">{move || by_category.get().map(|c| category_chart(&c))}</section>
                    <section class="card">{move || per_day.get().map(|d| sla_chart(&d))}</section>
                </div>
                {move || agents.get().map(|agents| view! { <AgentTable agents=agents/> })}
                <CsatSection
                    from=Signal::derive(move || range.get().from)
                    to=Signal::derive(move || range.get().to)
                />
            }
            .into_any()
        } else if failure.with(Option::is_some) {
            ().into_any()
        } else {
            view! { <Loading label="Loading the numbers…"/> }.into_any()
        }
    };

    view! {
        <section class="page page-wide an-page">
            <style>{CHART_CSS}{PAGE_CSS}</style>
            <header class="page-header page-header-row">
                <div>
                    <h1 data-testid="page-title">"Analytics"</h1>
                    <p class="muted">
                        "Volumes, response times and SLA compliance of the tickets in a range of days."
                    </p>
                </div>
                <button
                    type="button"
                    id="export-csv"
                    class="btn btn-secondary"
                    disabled=move || exporting.get()
                    aria-describedby="export-csv-hint"
                    on:click=export
                >
                    {move || if exporting.get() { "Exporting…" } else { "Export CSV" }}
                </button>
                <span id="export-csv-hint" class="visually-hidden">
                    "Downloads the tickets created in the chosen range as tickets.csv"
                </span>
            </header>

            <form
                class="card section an-range"
                aria-label="Date range"
                novalidate
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    apply();
                }
            >
                <fieldset class="an-presets">
                    <legend>"Quick ranges"</legend>
                    {PRESETS
                        .into_iter()
                        .map(|days| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-ghost btn-small"
                                    data-preset=days
                                    aria-pressed=move || {
                                        if range.get().preset() == Some(days) { "true" } else { "false" }
                                    }
                                    on:click=move |_| choose(Range::last_days(days))
                                >
                                    {format!("Last {days} days")}
                                </button>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <div class="field" class:field-invalid=invalid>
                    <label for="analytics-from">"From"</label>
                    <input
                        type="date"
                        id="analytics-from"
                        required
                        aria-invalid=move || if invalid() { "true" } else { "false" }
                        aria-describedby="analytics-range-error"
                        max=move || to_input.get()
                        prop:value=move || from_input.get()
                        on:input=move |ev| from_input.set(event_target_value(&ev))
                    />
                </div>
                <div class="field" class:field-invalid=invalid>
                    <label for="analytics-to">"To (inclusive)"</label>
                    <input
                        type="date"
                        id="analytics-to"
                        required
                        aria-invalid=move || if invalid() { "true" } else { "false" }
                        aria-describedby="analytics-range-error"
                        min=move || from_input.get()
                        prop:value=move || to_input.get()
                        on:input=move |ev| to_input.set(event_target_value(&ev))
                    />
                </div>
                <button type="submit" id="analytics-apply" class="btn btn-primary">"Apply"</button>
                {move || range_error.get().map(|msg| view! {
                    <p id="analytics-range-error" class="field-error an-range-error" role="alert">
                        {msg}
                    </p>
                })}
            </form>

            <p class="an-summary">
                <span data-testid="analytics-range" aria-live="polite">
                    {move || range.get().describe()}
                </span>
                {move || loading().then(|| view! {
                    <span class="an-updating" aria-hidden="true">
                        <span class="spinner" aria-hidden="true"></span>
                        "Updating…"
                    </span>
                })}
            </p>

            {move || failure.get().map(|msg| view! {
                <ErrorPanel message=msg on_retry=Callback::new(move |()| overview.refetch())/>
            })}
            <div aria-busy=move || if loading() { "true" } else { "false" }>{content}</div>
        </section>
    }
}

/// One part of the shown overview, as its own memo.
fn part<T>(
    shown: Memo<Option<AnalyticsOverview>>,
    pick: fn(&AnalyticsOverview) -> T,
) -> Memo<Option<T>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Memo::new(move |_| shown.with(|o| o.as_ref().map(pick)))
}

/// The headline numbers of an overview.
#[derive(Debug, Clone, PartialEq)]
struct Kpis {
    created: u64,
    resolved: u64,
    open: u64,
    escalated: u64,
    sla: SlaCompliance,
    first_response: DurationStats,
    resolution: DurationStats,
}

impl Kpis {
    fn of(o: &AnalyticsOverview) -> Self {
        Self {
            created: o.created,
            resolved: o.resolved,
            open: o.open,
            escalated: o.escalated,
            sla: o.sla.clone(),
            first_response: o.first_response.clone(),
            resolution: o.resolution.clone(),
        }
    }

    /// Nothing happened in the range and nothing is open.
    fn nothing(&self) -> bool {
        self.created == 0 && self.resolved == 0 && self.open == 0
    }
}

/// "2 h 5 min", or a dash when nothing was measured.
fn maybe_duration(secs: Option<f64>) -> String {
    secs.map_or_else(|| "—".to_owned(), duration_secs)
}

fn maybe_percent(percent: Option<f64>) -> String {
    percent.map_or_else(|| "—".to_owned(), |p| ValueKind::Percent.format(p))
}

fn tickets(n: u64) -> String {
    format::plural(
        usize::try_from(n).unwrap_or(usize::MAX),
        "ticket",
        "tickets",
    )
}

/// The hint under a time: its average, 90th percentile and how many tickets it covers.
fn duration_hint(stats: &DurationStats, what: &str) -> String {
    match (stats.avg_secs, stats.p90_secs) {
        (Some(avg), Some(p90)) => format!(
            "avg {} · p90 {} · {} {what}",
            duration_secs(avg),
            duration_secs(p90),
            tickets(stats.count)
        ),
        _ => format!("no ticket {what} yet"),
    }
}

/// The headline numbers. `[data-testid=kpi-created|kpi-resolved|kpi-open|kpi-escalated]`
/// hold plain numbers.
#[component]
fn Headline(kpis: Kpis) -> impl IntoView {
    let kpi = |testid: &'static str, label: &'static str, value: String, hint: String| {
        view! {
            <div class="an-kpi">
                <dt>{label}</dt>
                <dd class="an-kpi-value" data-testid=testid>{value}</dd>
                <dd class="an-kpi-hint">{hint}</dd>
            </div>
        }
    };
    view! {
        <dl class="an-kpis" aria-label="Headline numbers">
            {kpi("kpi-created", "Created", kpis.created.to_string(), "opened in the range".into())}
            {kpi("kpi-resolved", "Resolved", kpis.resolved.to_string(), "resolved in the range".into())}
            {kpi("kpi-open", "Open", kpis.open.to_string(), "not resolved or closed at the end".into())}
            {kpi(
                "kpi-escalated",
                "Escalated",
                kpis.escalated.to_string(),
                "created in the range and escalated".into(),
            )}
            {kpi(
                "kpi-sla-response",
                "Response SLA met",
                maybe_percent(kpis.sla.response_percent),
                "of first-response targets decided (answered or missed)".into(),
            )}
            {kpi(
                "kpi-sla-resolution",
                "Resolution SLA met",
                maybe_percent(kpis.sla.resolution_percent),
                "of tickets resolved in the range".into(),
            )}
            {kpi(
                "kpi-first-response",
                "First response (median)",
                maybe_duration(kpis.first_response.p50_secs),
                duration_hint(&kpis.first_response, "answered"),
            )}
            {kpi(
                "kpi-resolution",
                "Resolution (median)",
                maybe_duration(kpis.resolution.p50_secs),
                duration_hint(&kpis.resolution, "resolved"),
            )}
        </dl>
    }
}

fn day_categories(days: &[DayPoint]) -> Vec<Category> {
    days.iter()
        .map(|d| Category {
            label: d.date.format("%a %-d %b %Y").to_string(),
            tick: d.date.format("%-d %b").to_string(),
        })
        .collect()
}

fn per_day_chart(days: &[DayPoint]) -> impl IntoView + use<> {
    let created: u64 = days.iter().map(|d| d.created).sum();
    let resolved: u64 = days.iter().map(|d| d.resolved).sum();
    let busiest = days
        .iter()
        .filter(|d| d.created > 0)
        .max_by_key(|d| d.created)
        .map(|d| {
            format!(
                " The busiest day was {} with {} created.",
                long_day(d.date),
                d.created
            )
        })
        .unwrap_or_default();
    let description = format!(
        "Tickets created and resolved per day over {} days: {created} created, {resolved} resolved in all.{busiest}",
        days.len()
    );
    let count = |f: fn(&DayPoint) -> u64| -> Vec<Option<f64>> {
        days.iter().map(|d| Some(f(d) as f64)).collect()
    };
    view! {
        <LineChart
            testid="chart-per-day"
            title="Tickets per day"
            description=description
            categories=day_categories(days)
            series=vec![
                Series { name: "Created".into(), values: count(|d| d.created), dashed: false },
                Series { name: "Resolved".into(), values: count(|d| d.resolved), dashed: true },
            ]
            x_label="Day (UTC)"
            y_label="Tickets"
        />
    }
}

fn backlog_chart(days: &[DayPoint]) -> impl IntoView + use<> {
    let description = match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!(
            "Tickets still open at the end of each day: {} on {}, {} on {}, at most {}.",
            first.backlog,
            long_day(first.date),
            last.backlog,
            long_day(last.date),
            days.iter().map(|d| d.backlog).max().unwrap_or(0)
        ),
        _ => "Tickets still open at the end of each day.".to_owned(),
    };
    view! {
        <LineChart
            testid="chart-backlog"
            title="Backlog"
            description=description
            categories=day_categories(days)
            series=vec![Series {
                name: "Open at the end of the day".into(),
                values: days.iter().map(|d| Some(d.backlog as f64)).collect(),
                dashed: false,
            }]
            x_label="Day (UTC)"
            y_label="Open tickets"
            area=true
        />
    }
}

fn sla_chart(days: &[DayPoint]) -> impl IntoView + use<> {
    let measured: Vec<f64> = days
        .iter()
        .filter_map(|d| d.resolution_sla_percent)
        .collect();
    let description = if measured.is_empty() {
        "No ticket was resolved in this range, so there is no resolution SLA compliance to show."
            .to_owned()
    } else {
        format!(
            "Share of the tickets resolved each day that met their resolution target, on the {} \
             days with resolutions (other days are gaps); lowest {}, highest {}.",
            measured.len(),
            ValueKind::Percent.format(measured.iter().copied().fold(f64::INFINITY, f64::min)),
            ValueKind::Percent.format(measured.iter().copied().fold(0.0, f64::max)),
        )
    };
    view! {
        <LineChart
            testid="chart-sla"
            title="Resolution SLA compliance"
            description=description
            categories=day_categories(days)
            series=vec![Series {
                name: "Resolved within target".into(),
                values: days.iter().map(|d| d.resolution_sla_percent).collect(),
                dashed: false,
            }]
            x_label="Day resolved (UTC)"
            y_label="Met (%)"
            kind=ValueKind::Percent
            note="days without resolutions are gaps"
        />
    }
}

fn count_of(counts: &[CountBy], key: &str) -> u64 {
    counts
        .iter()
        .filter(|c| c.key == key)
        .map(|c| c.count)
        .sum()
}

fn describe_bars(bars: &[Bar], what: &str) -> String {
    if bars.iter().all(|b| b.value == 0.0) {
        return format!("No tickets were created in this range, so there is nothing {what}.");
    }
    let parts: Vec<String> = bars
        .iter()
        .map(|b| format!("{} {}", b.label, b.value))
        .collect();
    format!("Tickets created in the range {what}: {}.", parts.join(", "))
}

fn priority_chart(counts: &[CountBy]) -> impl IntoView + use<> {
    // Every priority, most urgent first, zeros included.
    let bars: Vec<Bar> = Priority::ALL
        .into_iter()
        .rev()
        .map(|p| Bar {
            key: p.as_str().to_owned(),
            label: priority_label(p).to_owned(),
            value: count_of(counts, p.as_str()) as f64,
        })
        .collect();
    let description = describe_bars(&bars, "by priority");
    view! {
        <BarChart
            testid="chart-priority"
            title="By priority"
            description=description
            bars=bars
            item_label="Priority"
            value_label="Tickets created"
        />
    }
}

fn category_chart(counts: &[CountBy]) -> impl IntoView + use<> {
    // The server sends the largest first.
    let label = |key: &str| {
        if key == "none" {
            "No category".to_owned()
        } else {
            key.to_owned()
        }
    };
    let mut bars: Vec<Bar> = counts
        .iter()
        .take(TOP_CATEGORIES)
        .map(|c| Bar {
            key: c.key.clone(),
            label: label(&c.key),
            value: c.count as f64,
        })
        .collect();
    let rest = counts.get(TOP_CATEGORIES..).unwrap_or_default();
    if !rest.is_empty() {
        bars.push(Bar {
            key: "other".into(),
            label: format!("Other ({} categories)", rest.len()),
            value: rest.iter().map(|c| c.count).sum::<u64>() as f64,
        });
    }
    let description = describe_bars(&bars, "by category");
    view! {
        <BarChart
            testid="chart-category"
            title="By category"
            description=description
            bars=bars
            item_label="Category"
            value_label="Tickets created"
            empty_text="No tickets created in this range"
        />
    }
}

/// The per-agent table. `[data-testid=agent-row]` with `data-agent-id`.
#[component]
fn AgentTable(agents: Vec<AgentRow>) -> impl IntoView {
    let body = if agents.is_empty() {
        view! { <EmptyState title="No agents yet." hint="Agents added under Agents appear here."/> }
            .into_any()
    } else {
        view! {
            <div class="an-table-wrap">
                <table class="an-table an-agents">
                    <caption class="visually-hidden">
                        "Per agent: tickets assigned (created in the range) and resolved in the range, average times and resolution SLA compliance"
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col">"Agent"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Assigned"</th>
                            <th scope="col">"Resolved"</th>
                            <th scope="col">"Avg first response"</th>
                            <th scope="col">"Avg resolution"</th>
                            <th scope="col">"SLA met"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {agents
                            .into_iter()
                            .map(|a| {
                                let status = a.status.as_str();
                                view! {
                                    <tr data-testid="agent-row" data-agent-id=a.agent_id.to_string()>
                                        <th scope="row">{a.name}</th>
                                        <td>
                                            <span class=format!("agent-status agent-status-{status}") data-status=status>
                                                <span class="agent-dot" aria-hidden="true"></span>
                                                {agent_status_label(a.status)}
                                            </span>
                                        </td>
                                        <td>{a.assigned}</td>
                                        <td>{a.resolved}</td>
                                        <td>{maybe_duration(a.avg_first_response_secs)}</td>
                                        <td>{maybe_duration(a.avg_resolution_secs)}</td>
                                        <td>{maybe_percent(a.sla_compliance_percent)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card section" aria-labelledby="an-agents-title">
            <h2 id="an-agents-title">
                <Icon name=IconName::User/>
                "Agents"
            </h2>
            {body}
        </section>
    }
}
