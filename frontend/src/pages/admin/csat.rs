//! The customer satisfaction part of `/admin/analytics`: the CSAT score, average and count of
//! the ratings of the resolutions in the page's range, and the breakdowns per agent, per
//! category and per day (`GET /api/analytics/csat`). A `csat-rated` event reloads it.
//!
//! What the numbers mean is the server's business (`services::analytics::csat`, docs/api.md).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use shared::csat::{CsatAnalytics, CsatStats};
use shared::ws::Event;

use crate::api;
use crate::components::EmptyState;
use crate::session::use_session;
use crate::ws::use_live;

fn average(stats: &CsatStats) -> String {
    stats
        .average
        .map_or_else(|| "—".to_owned(), |a| format!("{a:.2} / 5"))
}

fn satisfied(stats: &CsatStats) -> String {
    stats
        .satisfied_percent
        .map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%"))
}

/// One row of a breakdown table.
fn row(label: String, stats: &CsatStats, testid: &'static str) -> impl IntoView {
    view! {
        <tr data-testid=testid>
            <th scope="row">{label}</th>
            <td>{stats.count}</td>
            <td>{average(stats)}</td>
            <td>{satisfied(stats)}</td>
        </tr>
    }
}

fn table(caption: &'static str, first: &'static str, rows: Vec<AnyView>) -> impl IntoView {
    view! {
        <div class="an-table-wrap">
            <table class="an-table">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">{first}</th>
                        <th scope="col">"Ratings"</th>
                        <th scope="col">"Average"</th>
                        <th scope="col">"CSAT (4–5)"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn breakdowns(data: CsatAnalytics) -> AnyView {
    if data.overall.count == 0 {
        return view! {
            <EmptyState
                title="No ratings in this range."
                hint="Customers rate a ticket after it is resolved; ratings of resolutions in the range appear here."
            />
        }
        .into_any();
    }
    let agents: Vec<AnyView> = data
        .per_agent
        .iter()
        .map(|a| row(a.name.clone(), &a.stats, "csat-agent-row").into_any())
        .collect();
    let categories: Vec<AnyView> = data
        .per_category
        .iter()
        .map(|c| row(c.category.clone(), &c.stats, "csat-category-row").into_any())
        .collect();
    let days: Vec<AnyView> = data
        .per_day
        .iter()
        .filter(|d| d.stats.count > 0)
        .map(|d| row(d.date.to_string(), &d.stats, "csat-day-row").into_any())
        .collect();
    view! {
        <dl class="an-kpis">
            <div class="an-kpi">
                <dt>"CSAT"</dt>
                <dd class="an-kpi-value" data-testid="csat-score">{satisfied(&data.overall)}</dd>
                <dd class="an-kpi-hint">"Ratings of 4 or 5 stars"</dd>
            </div>
            <div class="an-kpi">
                <dt>"Average rating"</dt>
                <dd class="an-kpi-value">{average(&data.overall)}</dd>
            </div>
            <div class="an-kpi">
                <dt>"Ratings"</dt>
                <dd class="an-kpi-value" data-testid="csat-count">{data.overall.count}</dd>
            </div>
        </dl>
        {table("Per agent (the ticket's agent when it was rated)", "Agent", agents)}
        {table("Per category", "Category", categories)}
        {table("Per day of the resolution", "Day", days)}
    }
    .into_any()
}

/// CSAT of the resolutions in `[from, to)`.
#[component]
pub fn CsatSection(
    #[prop(into)] from: Signal<DateTime<Utc>>,
    #[prop(into)] to: Signal<DateTime<Utc>>,
) -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let loaded = LocalResource::new(move || {
        live.reloads();
        let (from, to) = (from.get(), to.get());
        async move { api::csat_analytics(session, from, to).await }
    });
    live.on_event(move |msg| {
        if matches!(msg.event, Event::CsatRated { .. }) {
            loaded.refetch();
        }
    });
    view! {
        <section class="card section" aria-labelledby="an-csat-title" data-testid="csat-analytics">
            <h2 id="an-csat-title">"Customer satisfaction"</h2>
            {move || match loaded.get() {
                None => view! { <p class="muted">"Loading the ratings…"</p> }.into_any(),
                Some(Err(err)) => view! { <p class="alert alert-error">{err.message()}</p> }.into_any(),
                Some(Ok(data)) => breakdowns(data),
            }}
        </section>
    }
}
