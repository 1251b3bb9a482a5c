//! Charts drawn as plain inline SVG: a line chart over categories (several series, gaps where a
//! value is missing) and a horizontal bar chart. No chart library, nothing loaded from outside.
//!
//! Each chart is a `<figure>` with a visible caption, an HTML legend, the `<svg>` (which has
//! `role="img"`, a `<title>`, a `<desc>`, axis labels and a `<title>` per point or bar for
//! pointer users) and a collapsible table holding the same numbers as the text alternative.
//! The charts take plain values; a page re-renders one when its data changes.
//!
//! The look lives in [`CHART_CSS`] (classes prefixed `an-`, colours from the stylesheet's
//! variables so dark mode follows); a page showing charts renders it once in a `<style>`.
//! What is not here: fetching data, or deciding what a number means.

use std::fmt::Write as _;

use leptos::prelude::*;

/// Styles of the charts; render once per page that shows charts.
pub const CHART_CSS: &str = r#"
.an-chart { margin: 0; display: flex; flex-direction: column; gap: var(--space-2); min-width: 0; }
.an-caption { font-weight: 600; }
.an-caption-note { font-weight: 400; color: var(--text-muted); font-size: 0.875rem; }
.an-scroll { overflow-x: auto; }
.an-svg { display: block; width: 100%; height: auto; font-family: var(--font); font-size: 12px; }
.an-svg-line { min-width: 420px; }
.an-svg text { fill: var(--text-muted); }
.an-svg .an-axis-title { fill: var(--text); font-weight: 600; }
.an-axis { stroke: var(--text-muted); stroke-width: 1; }
.an-grid { stroke: var(--border); stroke-width: 1; stroke-dasharray: 3 3; }
.an-s0 { --an-color: var(--primary); }
.an-s1 { --an-color: var(--success); }
.an-s2 { --an-color: var(--warning); }
.an-s3 { --an-color: var(--danger); }
.an-s4 { --an-color: var(--role-agent); }
.an-line { fill: none; stroke: var(--an-color); stroke-width: 2.5; stroke-linejoin: round; stroke-linecap: round; }
.an-dashed .an-line { stroke-dasharray: 7 4; }
.an-area { fill: var(--an-color); opacity: 0.14; stroke: none; }
.an-dot { fill: var(--an-color); stroke: var(--surface); stroke-width: 1; }
.an-bar rect { fill: var(--primary); }
.an-svg .an-bar-value { fill: var(--text); font-weight: 600; }
.an-svg .an-empty-text { fill: var(--text-muted); font-size: 14px; }
.an-legend { display: flex; flex-wrap: wrap; gap: var(--space-2) var(--space-4); margin: 0; padding: 0; list-style: none; font-size: 0.875rem; }
.an-legend li { display: inline-flex; align-items: center; gap: var(--space-2); }
.an-swatch { display: inline-block; width: 22px; height: 0; border-top: 3px solid var(--an-color); }
.an-swatch.an-dashed { border-top-style: dashed; }
.an-data summary { cursor: pointer; color: var(--primary); font-size: 0.875rem; width: fit-content; }
.an-data[open] summary { margin-bottom: var(--space-2); }
.an-table-wrap { overflow-x: auto; max-height: 320px; overflow-y: auto; }
.an-table { border-collapse: collapse; width: 100%; font-size: 0.875rem; font-variant-numeric: tabular-nums; }
.an-table th, .an-table td { padding: var(--space-1) var(--space-3); border-bottom: 1px solid var(--border); text-align: right; white-space: nowrap; }
.an-table th:first-child, .an-table td:first-child { text-align: left; }
.an-table thead th { position: sticky; top: 0; background: var(--surface); }
"#;

/// How values read: a count of things, or a percentage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValueKind {
    #[default]
    Count,
    Percent,
}

impl ValueKind {
    /// "12", or "87.5 %".
    pub fn format(self, value: f64) -> String {
        match self {
            ValueKind::Count => format!("{}", value.round() as i64),
            ValueKind::Percent if (value - value.round()).abs() < 0.05 => {
                format!("{:.0} %", value)
            }
            ValueKind::Percent => format!("{value:.1} %"),
        }
    }
}

/// One position on the horizontal axis of a line chart (a day, say).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Shown in tooltips and the data table, e.g. "Mon 3 Mar 2025".
    pub label: String,
    /// Shown under the axis, e.g. "3 Mar".
    pub tick: String,
}

/// One line of a line chart: a value per category, `None` where there is none (drawn as a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// Drawn dashed, so series differ by more than colour.
    pub dashed: bool,
}

/// One bar of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// A stable key, rendered as `data-key` (e.g. `high`).
    pub key: String,
    /// What the bar is called on screen.
    pub label: String,
    pub value: f64,
}

// Geometry of a line chart, in viewBox units.
const LINE_W: f64 = 640.0;
const LINE_H: f64 = 270.0;
const LINE_LEFT: f64 = 58.0;
const LINE_RIGHT: f64 = 16.0;
const LINE_TOP: f64 = 14.0;
const LINE_BOTTOM: f64 = 52.0;

// Geometry of a bar chart.
const BAR_W: f64 = 640.0;
const BAR_LEFT: f64 = 170.0;
const BAR_RIGHT: f64 = 56.0;
const BAR_TOP: f64 = 8.0;
const BAR_BOTTOM: f64 = 48.0;
const BAR_ROW: f64 = 30.0;
/// Longest bar label drawn in full; longer ones are shortened (the table has them whole).
const BAR_LABEL_CHARS: usize = 24;

/// A rounded axis maximum and the step between gridlines, for values up to `max`.
fn scale(max: f64, kind: ValueKind) -> (f64, f64) {
    if kind == ValueKind::Percent {
        return (100.0, 25.0);
    }
    if max.is_nan() || max <= 0.0 {
        return (4.0, 1.0);
    }
    // About five intervals.
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    } * magnitude;
    // Counts are whole numbers: no gridline at 0.5.
    let step = step.max(1.0);
    ((max / step).ceil().max(1.0) * step, step)
}

/// The gridline values from 0 to `top`.
fn ticks(top: f64, step: f64) -> Vec<f64> {
    let n = (top / step).round() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// A path through the points, lifting the pen at every `None`.
fn line_path(points: &[Option<(f64, f64)>]) -> String {
    let mut d = String::new();
    let mut down = false;
    for point in points {
        match point {
            Some((x, y)) => {
                let _ = write!(d, "{}{x:.1},{y:.1} ", if down { 'L' } else { 'M' });
                down = true;
            }
            None => down = false,
        }
    }
    d
}

/// Closed areas under each unbroken run of points, down to `base`.
fn area_path(points: &[Option<(f64, f64)>], base: f64) -> String {
    let mut d = String::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let close = |run: &mut Vec<(f64, f64)>, d: &mut String| {
        if let (Some(first), Some(last)) = (run.first(), run.last()) {
            let _ = write!(d, "M{:.1},{base:.1} ", first.0);
            for (x, y) in run.iter() {
                let _ = write!(d, "L{x:.1},{y:.1} ");
            }
            let _ = write!(d, "L{:.1},{base:.1} Z ", last.0);
        }
        run.clear();
    };
    for point in points {
        match point {
            Some(p) => run.push(*p),
            None => close(&mut run, &mut d),
        }
    }
    close(&mut run, &mut d);
    d
}

/// `text` cut to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The collapsible table under a chart: the same numbers, for screen readers and for anyone
/// who wants exact values.
fn data_table(
    caption: String,
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
) -> impl IntoView {
    view! {
        <details class="an-data">
            <summary>"Show the numbers"</summary>
            <div class="an-table-wrap">
                <table class="an-table">
                    <caption class="visually-hidden">{caption}</caption>
                    <thead>
                        <tr>
                            {head.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|(label, cells)| {
                                view! {
                                    <tr>
                                        <th scope="row">{label}</th>
                                        {cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
}

/// A line chart: one line per series over the categories, with gridlines, axis titles, a
/// legend, a dot per value and gaps where a value is missing.
/// `svg[data-testid=<testid>]`; each dot `circle[data-series=<i>][data-index=<j>]`.
#[component]
pub fn LineChart(
    /// `data-testid` of the `<svg>`; also the prefix of its element ids.
    testid: &'static str,
    #[prop(into)] title: String,
    /// A sentence or two saying what the chart shows (the `<desc>`).
    #[prop(into)]
    description: String,
    categories: Vec<Category>,
    series: Vec<Series>,
    #[prop(into)] x_label: String,
    #[prop(into)] y_label: String,
    #[prop(optional)] kind: ValueKind,
    /// Fill the area under each line (best with one series).
    #[prop(optional)]
    area: bool,
    /// A short note after the caption, e.g. "UTC days".
    #[prop(optional, into)]
    note: Option<String>,
) -> impl IntoView {
    let n = categories.len();
    let plot_w = LINE_W - LINE_LEFT - LINE_RIGHT;
    let plot_h = LINE_H - LINE_TOP - LINE_BOTTOM;
    let base = LINE_TOP + plot_h;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(0.0, f64::max);
    let (top, step) = scale(max, kind);
    let x_at = move |i: usize| LINE_LEFT + (i as f64 + 0.5) * plot_w / n.max(1) as f64;
    let y_at = move |v: f64| base - (v / top).clamp(0.0, 1.0) * plot_h;
    let has_values = series.iter().any(|s| s.values.iter().any(Option::is_some));

    let title_id = format!("{testid}-title");
    let desc_id = format!("{testid}-desc");
    let labelledby = format!("{title_id} {desc_id}");

    let grid = ticks(top, step)
        .into_iter()
        .map(|v| {
            let y = y_at(v);
            view! {
                <g>
                    <line class="an-grid" x1=LINE_LEFT x2=LINE_W - LINE_RIGHT y1=y y2=y></line>
                    <text x=LINE_LEFT - 8.0 y=y + 4.0 text-anchor="end">{kind.format(v)}</text>
                </g>
            }
        })
        .collect_view();

    // About eight labels along the axis, whatever the number of categories.
    let every = n.div_ceil(8).max(1);
    let x_ticks = categories
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, c)| {
            let x = x_at(i);
            view! {
                <g>
                    <line class="an-axis" x1=x x2=x y1=base y2=base + 5.0></line>
                    <text x=x y=base + 18.0 text-anchor="middle">{c.tick.clone()}</text>
                </g>
            }
        })
        .collect_view();

    let dot_r = if n > 45 { 2.0 } else { 3.5 };
    let lines = series
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let points: Vec<Option<(f64, f64)>> = (0..n)
                .map(|i| {
                    s.values
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|v| (x_at(i), y_at(v)))
                })
                .collect();
            let d = line_path(&points);
            let fill = area.then(|| {
                let d = area_path(&points, base);
                view! { <path class="an-area" d=d></path> }
            });
            let dots = points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.map(|(x, y)| (i, x, y)))
                .map(|(i, x, y)| {
                    let value = s.values.get(i).copied().flatten().unwrap_or_default();
                    let label = categories
                        .get(i)
                        .map(|c| c.label.clone())
                        .unwrap_or_default();
                    let tip = format!("{label}: {} {}", s.name, kind.format(value));
                    view! {
                        <circle class="an-dot" cx=x cy=y r=dot_r data-series=si data-index=i>
                            <title>{tip}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <g class=format!("an-s{} {}", si % 5, if s.dashed { "an-dashed" } else { "" })
                    data-series-name=s.name.clone()>
                    {fill}
                    <path class="an-line" d=d></path>
                    {dots}
                </g>
            }
        })
        .collect_view();

    let empty = (!has_values).then(|| {
        view! {
            <text class="an-empty-text" x=LINE_LEFT + plot_w / 2.0 y=LINE_TOP + plot_h / 2.0 text-anchor="middle">
                "No data in this range"
            </text>
        }
    });

    let legend = series
        .iter()
        .enumerate()
        .map(|(si, s)| {
            view! {
                <li>
                    <span
                        class=format!("an-swatch an-s{} {}", si % 5, if s.dashed { "an-dashed" } else { "" })
                        aria-hidden="true"
                    ></span>
                    {s.name.clone()}
                </li>
            }
        })
        .collect_view();

    let mut head = vec![x_label.clone()];
    head.extend(series.iter().map(|s| s.name.clone()));
    let rows = categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cells = series
                .iter()
                .map(|s| {
                    s.values
                        .get(i)
                        .copied()
                        .flatten()
                        .map_or_else(|| "—".to_owned(), |v| kind.format(v))
                })
                .collect();
            (c.label.clone(), cells)
        })
        .collect();

    view! {
        <figure class="an-chart">
            <figcaption class="an-caption">
                {title.clone()}
                {note.map(|note| view! { <span class="an-caption-note">" · " {note}</span> })}
            </figcaption>
            <ul class="an-legend">{legend}</ul>
            <div class="an-scroll">
                <svg
                    class="an-svg an-svg-line"
                    data-testid=testid
                    viewBox=format!("0 0 {LINE_W} {LINE_H}")
                    preserveAspectRatio="xMidYMid meet"
                    role="img"
                    aria-labelledby=labelledby
                >
                    <title id=title_id>{title.clone()}</title>
                    <desc id=desc_id>{description}</desc>
                    {grid}
                    <line class="an-axis" x1=LINE_LEFT x2=LINE_W - LINE_RIGHT y1=base y2=base></line>
                    <line class="an-axis" x1=LINE_LEFT x2=LINE_LEFT y1=LINE_TOP y2=base></line>
                    {x_ticks}
                    {lines}
                    {empty}
                    <text
                        class="an-axis-title"
                        x=LINE_LEFT + plot_w / 2.0
                        y=LINE_H - 8.0
                        text-anchor="middle"
                    >
                        {x_label}
                    </text>
                    <text
                        class="an-axis-title"
                        transform=format!("rotate(-90) translate({} {})", -(LINE_TOP + plot_h / 2.0), 14.0)
                        text-anchor="middle"
                    >
                        {y_label}
                    </text>
                </svg>
            </div>
            {data_table(title, head, rows)}
        </figure>
    }
}

/// A horizontal bar chart, one bar per item in the given order, each with its value written
/// next to it. `svg[data-testid=<testid>]`; each bar `g.an-bar[data-key][data-value]` with a
/// `<title>` "<label>: <value>".
#[component]
pub fn BarChart(
    /// `data-testid` of the `<svg>`; also the prefix of its element ids.
    testid: &'static str,
    #[prop(into)] title: String,
    /// A sentence or two saying what the chart shows (the `<desc>`).
    #[prop(into)]
    description: String,
    bars: Vec<Bar>,
    /// What the values are, e.g. "Tickets" (the axis title and the table's column).
    #[prop(into)]
    value_label: String,
    /// What the bars are, e.g. "Priority" (the table's first column).
    #[prop(into)]
    item_label: String,
    #[prop(optional)] kind: ValueKind,
    /// Shown inside the chart when there are no bars.
    #[prop(optional, into)]
    empty_text: Option<String>,
) -> impl IntoView {
    let n = bars.len();
    let plot_w = BAR_W - BAR_LEFT - BAR_RIGHT;
    let rows_h = BAR_ROW * n.max(2) as f64;
    let height = BAR_TOP + rows_h + BAR_BOTTOM;
    let base = BAR_TOP + rows_h;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let (top, step) = scale(max, kind);
    let x_at = move |v: f64| BAR_LEFT + (v / top).clamp(0.0, 1.0) * plot_w;

    let title_id = format!("{testid}-title");
    let desc_id = format!("{testid}-desc");
    let labelledby = format!("{title_id} {desc_id}");

    let grid = ticks(top, step)
        .into_iter()
        .map(|v| {
            let x = x_at(v);
            view! {
                <g>
                    <line class="an-grid" x1=x x2=x y1=BAR_TOP y2=base></line>
                    <text x=x y=base + 16.0 text-anchor="middle">{kind.format(v)}</text>
                </g>
            }
        })
        .collect_view();

    let bar_views = bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let y = BAR_TOP + i as f64 * BAR_ROW;
            let width = (x_at(b.value) - BAR_LEFT).max(if b.value > 0.0 { 2.0 } else { 0.0 });
            let shown = kind.format(b.value);
            let tip = format!("{}: {shown}", b.label);
            let data_value = if kind == ValueKind::Count {
                format!("{}", b.value.round() as i64)
            } else {
                format!("{}", b.value)
            };
            view! {
                <g class="an-bar" data-key=b.key.clone() data-value=data_value>
                    <title>{tip}</title>
                    <text x=BAR_LEFT - 8.0 y=y + BAR_ROW / 2.0 + 4.0 text-anchor="end">
                        {shorten(&b.label, BAR_LABEL_CHARS)}
                    </text>
                    <rect x=BAR_LEFT y=y + 6.0 width=width height=BAR_ROW - 12.0 rx="3"></rect>
                    <text class="an-bar-value" x=BAR_LEFT + width + 6.0 y=y + BAR_ROW / 2.0 + 4.0>
                        {shown}
                    </text>
                </g>
            }
        })
        .collect_view();

    let empty = (n == 0).then(|| {
        let text = empty_text.unwrap_or_else(|| "No data in this range".to_owned());
        view! {
            <text class="an-empty-text" x=BAR_LEFT + plot_w / 2.0 y=BAR_TOP + rows_h / 2.0 + 4.0 text-anchor="middle">
                {text}
            </text>
        }
    });

    let head = vec![item_label, value_label.clone()];
    let rows = bars
        .iter()
        .map(|b| (b.label.clone(), vec![kind.format(b.value)]))
        .collect();

    view! {
        <figure class="an-chart">
            <figcaption class="an-caption">{title.clone()}</figcaption>
            <div class="an-scroll">
                <svg
                    class="an-svg"
                    data-testid=testid
                    viewBox=format!("0 0 {BAR_W} {height}")
                    preserveAspectRatio="xMidYMid meet"
                    role="img"
                    aria-labelledby=labelledby
                >
                    <title id=title_id>{title.clone()}</title>
                    <desc id=desc_id>{description}</desc>
                    {grid}
                    <line class="an-axis" x1=BAR_LEFT x2=BAR_LEFT y1=BAR_TOP y2=base></line>
                    {bar_views}
                    {empty}
                    <text
                        class="an-axis-title"
                        x=BAR_LEFT + plot_w / 2.0
                        y=height - 8.0
                        text-anchor="middle"
                    >
                        {value_label}
                    </text>
                </svg>
            </div>
            {data_table(title, head, rows)}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_up_to_whole_steps() {
        assert_eq!(scale(0.0, ValueKind::Count), (4.0, 1.0));
        assert_eq!(scale(3.0, ValueKind::Count), (3.0, 1.0));
        assert_eq!(scale(7.0, ValueKind::Count), (8.0, 2.0));
        assert_eq!(scale(42.0, ValueKind::Count), (50.0, 10.0));
        assert_eq!(scale(12.0, ValueKind::Percent), (100.0, 25.0));
        assert_eq!(ticks(8.0, 2.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn gaps_lift_the_pen() {
        let d = line_path(&[Some((0.0, 1.0)), Some((1.0, 2.0)), None, Some((3.0, 4.0))]);
        assert_eq!(d, "M0.0,1.0 L1.0,2.0 M3.0,4.0 ");
    }

    #[test]
    fn values_read_naturally() {
        assert_eq!(ValueKind::Count.format(3.0), "3");
        assert_eq!(ValueKind::Percent.format(87.5), "87.5 %");
        assert_eq!(ValueKind::Percent.format(100.0), "100 %");
        assert_eq!(shorten("orders/damaged", 24), "orders/damaged");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
