//! `/admin/calendars`: business-hours calendars for SLA policies. A list of calendars and an
//! editor: a weekly grid of intervals (an end at or before the start runs past midnight), a
//! time zone picker with every IANA zone, a list of holidays (dates or ranges, optionally
//! yearly), and a live preview — "a ticket opened now would be due at …" — computed in the
//! browser with the same calendar math the server uses (`shared::calendar`).
//!
//! The server validates; its messages from `details.fields` (`week.mon[0].end`, `time_zone`,
//! `holidays[1].to`, …) are listed above the form. Which policy uses a calendar is set on the
//! settings page.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, NaiveDate};
use leptos::prelude::*;
use shared::Role;
use shared::calendar::{
    self, CalendarDto, CalendarError, CalendarRequest, CalendarSpec, HolidaySpec, IntervalSpec,
    WEEKDAYS, WeekSpec,
};
use uuid::Uuid;

use crate::api;
use crate::components::{ErrorPanel, FormAlert, Loading, RequireRole, set_title, use_toasts};
use crate::format;
use crate::session::use_session;

#[component]
pub fn CalendarsPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Calendars/>
        </RequireRole>
    }
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Keys for `<For>` rows.
fn next_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One interval row of the grid.
#[derive(Debug, Clone, Copy)]
struct IntervalRow {
    key: u64,
    start: RwSignal<String>,
    end: RwSignal<String>,
}

impl IntervalRow {
    fn new(start: &str, end: &str) -> Self {
        Self {
            key: next_key(),
            start: RwSignal::new(start.to_owned()),
            end: RwSignal::new(end.to_owned()),
        }
    }
}

/// One holiday row.
#[derive(Debug, Clone, Copy)]
struct HolidayRow {
    key: u64,
    name: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    yearly: RwSignal<bool>,
}

impl HolidayRow {
    fn new(h: &HolidaySpec) -> Self {
        Self {
            key: next_key(),
            name: RwSignal::new(h.name.clone()),
            from: RwSignal::new(h.from.to_string()),
            to: RwSignal::new(h.to.map(|d| d.to_string()).unwrap_or_default()),
            yearly: RwSignal::new(h.yearly),
        }
    }
}

/// The editor's state: plain signals, so typing never rebuilds the grid.
#[derive(Debug, Clone, Copy)]
struct Editor {
    id: RwSignal<Option<Uuid>>,
    name: RwSignal<String>,
    time_zone: RwSignal<String>,
    days: [RwSignal<Vec<IntervalRow>>; 7],
    holidays: RwSignal<Vec<HolidayRow>>,
}

impl Editor {
    fn new() -> Self {
        Self {
            id: RwSignal::new(None),
            name: RwSignal::new(String::new()),
            time_zone: RwSignal::new(String::new()),
            days: std::array::from_fn(|_| RwSignal::new(Vec::new())),
            holidays: RwSignal::new(Vec::new()),
        }
    }

    /// Loads a calendar, or (for `None`) a new one: 09:00–17:00 on weekdays in the browser's
    /// zone.
    fn load(&self, c: Option<&CalendarDto>) {
        let (name, tz, week, holidays) = match c {
            Some(c) => (
                c.name.clone(),
                c.time_zone.clone(),
                c.week.clone(),
                c.holidays.clone(),
            ),
            None => (
                String::new(),
                format::browser_time_zone(),
                WeekSpec::weekdays(&[IntervalSpec::new("09:00", "17:00")]),
                Vec::new(),
            ),
        };
        self.id.set(c.map(|c| c.id));
        self.name.set(name);
        self.time_zone.set(tz);
        for (d, day) in week.days().into_iter().enumerate() {
            self.days[d].set(
                day.iter()
                    .map(|iv| IntervalRow::new(&iv.start, &iv.end))
                    .collect(),
            );
        }
        self.holidays
            .set(holidays.iter().map(HolidayRow::new).collect());
    }

    /// The calendar as typed; a date that does not parse becomes a field problem.
    fn spec(&self) -> Result<CalendarSpec, String> {
        let mut week = WeekSpec::default();
        for (d, rows) in self.days.iter().enumerate() {
            if let Some(list) = week.day_mut(d) {
                *list = rows.with(|rs| {
                    rs.iter()
                        .map(|r| IntervalSpec::new(&r.start.get(), &r.end.get()))
                        .collect()
                });
            }
        }
        let mut holidays = Vec::new();
        for (i, h) in self.holidays.get().iter().enumerate() {
            let from = h
                .from
                .get()
                .parse::<NaiveDate>()
                .map_err(|_| format!("Holiday {}: enter its first day.", i + 1))?;
            let to = match h.to.get().trim() {
                "" => None,
                raw => Some(
                    raw.parse::<NaiveDate>()
                        .map_err(|_| format!("Holiday {}: the last day is not a date.", i + 1))?,
                ),
            };
            holidays.push(HolidaySpec {
                name: h.name.get().trim().to_owned(),
                from,
                to,
                yearly: h.yearly.get(),
            });
        }
        Ok(CalendarSpec {
            time_zone: self.time_zone.get(),
            week,
            holidays,
        })
    }
}

#[component]
fn Calendars() -> impl IntoView {
    set_title("Calendars");
    let session = use_session();
    let list = LocalResource::new(move || api::list_calendars(session));
    let editor = Editor::new();
    editor.load(None);
    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Business-hours calendars"</h1>
                <p class="muted">
                    "SLA clocks count only the working hours of the calendar their policy uses; holidays do not count. Assign calendars to policies on the Settings page."
                </p>
            </header>
            <div class="calendar-layout">
                <aside class="card calendar-list" aria-label="Calendars">
                    <button type="button" class="btn btn-secondary" id="calendar-new" on:click=move |_| editor.load(None)>
                        "New calendar"
                    </button>
                    {move || match list.get() {
                        None => view! { <Loading label="Loading calendars…"/> }.into_any(),
                        Some(Err(err)) => view! {
                            <ErrorPanel message=err.message() on_retry=Callback::new(move |()| list.refetch())/>
                        }
                        .into_any(),
                        Some(Ok(items)) => view! {
                            <ul data-testid="calendar-list">
                                {items.into_iter().map(|c| {
                                    let name = c.name.clone();
                                    view! {
                                        <li>
                                            <button type="button" class="link" data-calendar=name.clone() on:click=move |_| editor.load(Some(&c))>
                                                {name.clone()}
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }}
                </aside>
                <CalendarForm editor=editor on_saved=Callback::new(move |()| list.refetch())/>
            </div>
        </section>
    }
}

#[component]
fn CalendarForm(editor: Editor, on_saved: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let alert = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<(String, String)>::new());
    let preview_hours = RwSignal::new("8".to_owned());

    let save = Action::new_local(move |req: &(Option<Uuid>, CalendarRequest)| {
        let (id, req) = req.clone();
        async move {
            let result = match id {
                Some(id) => api::update_calendar(session, id, &req).await,
                None => api::create_calendar(session, &req).await,
            };
            match result {
                Ok(c) => {
                    editor.load(Some(&c));
                    toasts.success(format!("Calendar “{}” saved.", c.name), None);
                    on_saved.run(());
                }
                Err(err) => {
                    problems.set(err.field_errors().into_iter().collect());
                    alert.set(Some(err.message()));
                }
            }
        }
    });
    let remove = Action::new_local(move |id: &Uuid| {
        let id = *id;
        async move {
            match api::delete_calendar(session, id).await {
                Ok(()) => {
                    editor.load(None);
                    toasts.success("Calendar deleted.", None);
                    on_saved.run(());
                }
                Err(err) => alert.set(Some(err.message())),
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        alert.set(None);
        problems.set(Vec::new());
        match editor.spec() {
            Err(msg) => alert.set(Some(msg)),
            Ok(spec) => {
                let req = CalendarRequest {
                    name: editor.name.get_untracked(),
                    time_zone: spec.time_zone,
                    week: spec.week,
                    holidays: spec.holidays,
                };
                save.dispatch((editor.id.get_untracked(), req));
            }
        }
    };

    // The preview, from the calendar as typed, with the shared math.
    let preview = move || -> Result<String, String> {
        let spec = editor.spec()?;
        let now = format::now();
        let cal = spec.parse(now.date_naive()).map_err(|e| match e {
            CalendarError::NoWorkingTime => "This calendar has no working time at all.".to_owned(),
            CalendarError::Invalid(p) => p
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        let hours: f64 = preview_hours
            .get()
            .trim()
            .parse()
            .map_err(|_| "Enter a number of hours.".to_owned())?;
        if !(0.0..=8760.0).contains(&hours) {
            return Err("Enter between 0 and 8760 hours.".to_owned());
        }
        let target = Duration::seconds((hours * 3600.0) as i64);
        let due = cal
            .add(now, target)
            .ok_or_else(|| "No working time in sight.".to_owned())?;
        Ok(format!(
            "A ticket opened now with a {} target would be due at {} (your time).",
            format::duration_secs(hours * 3600.0),
            format::local_time(due)
        ))
    };

    let zones: Vec<&'static str> = calendar::zone_names().collect();
    let busy = save.pending();
    view! {
        <form class="card form calendar-form" novalidate on:submit=submit data-testid="calendar-form">
            <FormAlert message=alert/>
            {move || {
                let p = problems.get();
                (!p.is_empty()).then(|| view! {
                    <ul class="field-errors" data-testid="calendar-problems">
                        {p.into_iter().map(|(k, m)| view! { <li data-field-error=k.clone()>{format!("{k}: {m}")}</li> }).collect_view()}
                    </ul>
                })
            }}
            <div class="grid-2">
                <div class="field">
                    <label for="calendar-name">"Name"</label>
                    <input id="calendar-name" type="text" maxlength="100"
                        prop:value=move || editor.name.get()
                        on:input=move |ev| editor.name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="calendar-tz">"Time zone"</label>
                    <select id="calendar-tz" on:change=move |ev| editor.time_zone.set(event_target_value(&ev))
                        prop:value=move || editor.time_zone.get()>
                        {zones.into_iter().map(|z| view! {
                            <option value=z selected=move || editor.time_zone.get() == z>{z}</option>
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <fieldset class="week-grid" data-testid="week-grid">
                <legend>"Working hours (local time; an end before the start runs past midnight)"</legend>
                {(0..7).map(|d| view! { <DayRow editor=editor day=d/> }).collect_view()}
            </fieldset>
            <fieldset class="holidays" data-testid="holidays">
                <legend>"Holidays"</legend>
                <For
                    each=move || editor.holidays.get()
                    key=|h| h.key
                    children=move |h: HolidayRow| view! {
                        <div class="holiday-row" data-holiday=move || h.name.get()>
                            <input type="text" aria-label="Holiday name" placeholder="Name" class="holiday-name"
                                prop:value=move || h.name.get() on:input=move |ev| h.name.set(event_target_value(&ev))/>
                            <input type="date" aria-label="First day" class="holiday-from"
                                prop:value=move || h.from.get() on:change=move |ev| h.from.set(event_target_value(&ev))/>
                            <input type="date" aria-label="Last day" class="holiday-to"
                                prop:value=move || h.to.get() on:change=move |ev| h.to.set(event_target_value(&ev))/>
                            <label class="check">
                                <input type="checkbox" class="holiday-yearly" prop:checked=move || h.yearly.get()
                                    on:change=move |ev| h.yearly.set(event_target_checked(&ev))/>
                                <span>"Every year"</span>
                            </label>
                            <button type="button" class="btn btn-small" aria-label="Remove holiday"
                                on:click=move |_| editor.holidays.update(|l| l.retain(|x| x.key != h.key))>"Remove"</button>
                        </div>
                    }
                />
                <button type="button" class="btn btn-secondary btn-small" id="holiday-add" on:click=move |_| {
                    let today = format::now().date_naive();
                    editor.holidays.update(|l| l.push(HolidayRow::new(&HolidaySpec {
                        name: String::new(), from: today, to: None, yearly: false,
                    })));
                }>"Add holiday"</button>
            </fieldset>
            <div class="field preview">
                <label for="preview-hours">"Preview: target in business hours"</label>
                <input id="preview-hours" type="number" min="0" step="0.5"
                    prop:value=move || preview_hours.get()
                    on:input=move |ev| preview_hours.set(event_target_value(&ev))/>
                <p data-testid="calendar-preview" class=move || if preview().is_ok() { "preview-ok" } else { "preview-error" }>
                    {move || preview().unwrap_or_else(|e| e)}
                </p>
            </div>
            <div class="actions">
                <button type="submit" id="calendar-save" class="btn btn-primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { "Save calendar" }}
                </button>
                {move || editor.id.get().map(|id| view! {
                    <button type="button" id="calendar-delete" class="btn btn-danger" on:click=move |_| { remove.dispatch(id); }>
                        "Delete"
                    </button>
                })}
            </div>
        </form>
    }
}

/// One weekday: its intervals and an "add" button.
#[component]
fn DayRow(editor: Editor, day: usize) -> impl IntoView {
    let rows = editor.days[day];
    let key = WEEKDAYS[day];
    view! {
        <div class="day-row" data-day=key>
            <span class="day-name">{DAY_NAMES[day]}</span>
            <div class="intervals">
                <For
                    each=move || rows.get()
                    key=|r| r.key
                    children=move |r: IntervalRow| view! {
                        <span class="interval">
                            <input type="time" class="interval-start" aria-label=format!("{} start", DAY_NAMES[day])
                                prop:value=move || r.start.get() on:change=move |ev| r.start.set(event_target_value(&ev))/>
                            "–"
                            <input type="time" class="interval-end" aria-label=format!("{} end", DAY_NAMES[day])
                                prop:value=move || r.end.get() on:change=move |ev| r.end.set(event_target_value(&ev))/>
                            <button type="button" class="btn btn-small interval-remove" aria-label="Remove interval"
                                on:click=move |_| rows.update(|l| l.retain(|x| x.key != r.key))>"×"</button>
                        </span>
                    }
                />
                {move || rows.with(Vec::is_empty).then(|| view! { <span class="muted">"Closed"</span> })}
            </div>
            <button type="button" class="btn btn-secondary btn-small interval-add" data-testid=format!("add-interval-{key}")
                on:click=move |_| rows.update(|l| l.push(IntervalRow::new("09:00", "17:00")))>"Add interval"</button>
        </div>
    }
}
