//! The overview of a journey as an inline SVG: nodes as boxes in rows by depth from the start
//! (the longest way there, so every forward arrow points down), arrows for every way out of a
//! node (options, the node's next, branches, the default) labelled with what takes it, and
//! red stubs for targets that name no node. Nodes no path reaches sit in a last, dashed row.
//! Boxes are keyboard-focusable; choosing one jumps to its editor.
//!
//! [`layout`] is pure (positions and paths from the document), so the view only draws.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use leptos::prelude::*;
use shared::journey::{JourneyDefinition, Node, Question};

use super::draft::Kind;

const W: f64 = 172.0;
const H: f64 = 54.0;
const HGAP: f64 = 28.0;
const VGAP: f64 = 64.0;
const MARGIN: f64 = 20.0;
/// Room on the right for arrows that go back up (loops) or sideways.
const SIDE: f64 = 70.0;

#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub x: f64,
    pub y: f64,
    pub start: bool,
    pub reachable: bool,
    pub problem: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub label: String,
    /// SVG path data.
    pub path: String,
    pub label_x: f64,
    pub label_y: f64,
    /// The target names no node.
    pub missing: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    pub width: f64,
    pub height: f64,
}

/// The ways out of a node: (target, what takes it), one entry per target.
fn exits(node: &Node) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |to: &str, label: String| match out.iter_mut().find(|(t, _)| t == to) {
        Some((_, l)) if !label.is_empty() => {
            if !l.is_empty() {
                l.push_str(", ");
            }
            l.push_str(&label);
        }
        Some(_) => {}
        None => out.push((to.to_owned(), label)),
    };
    match node {
        Node::Question(Question::SingleChoice(q)) => {
            for o in &q.options {
                let label = if o.label.trim().is_empty() {
                    &o.value
                } else {
                    &o.label
                };
                match q.target_of(o) {
                    Some(t) => add(t, label.clone()),
                    None => add("", label.clone()),
                }
            }
            if !q.required
                && let Some(t) = q.skip_target()
            {
                add(t, "skipped".to_owned());
            }
        }
        Node::Question(q) => add(q.next().unwrap_or_default(), String::new()),
        Node::Condition(c) => {
            for (i, b) in c.branches.iter().enumerate() {
                add(&b.next, format!("branch {}", i + 1));
            }
            add(&c.default, "otherwise".to_owned());
        }
        Node::End(_) => {}
    }
    out
}

fn kind_of(node: &Node) -> Kind {
    match node {
        Node::Question(q) => Kind::Question(q.question_type()),
        Node::Condition(_) => Kind::Condition,
        Node::End(_) => Kind::End,
    }
}

fn title_of(node: &Node) -> String {
    match node {
        Node::Question(q) => q.title().to_owned(),
        Node::Condition(c) => c.title.clone().unwrap_or_default(),
        Node::End(e) => format!("{} · {}", e.category, e.priority),
    }
}

/// Cuts `s` to `max` characters with an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Rows by depth: the longest path from the start, or the shortest one when there is a loop
/// (a longest path does not exist then). `None`: not reachable.
fn depths(def: &JourneyDefinition, edges: &BTreeMap<&str, Vec<&str>>) -> BTreeMap<String, usize> {
    let start = def.start_node.as_str();
    let mut shortest: BTreeMap<String, usize> = BTreeMap::new();
    if def.nodes.contains_key(start) {
        let mut queue = VecDeque::from([(start, 0usize)]);
        shortest.insert(start.to_owned(), 0);
        while let Some((id, d)) = queue.pop_front() {
            for &t in edges.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                if !shortest.contains_key(t) {
                    shortest.insert(t.to_owned(), d + 1);
                    queue.push_back((t, d + 1));
                }
            }
        }
    }
    let n = def.nodes.len();
    let mut longest = shortest.clone();
    for _ in 0..n {
        let mut changed = false;
        for (from, tos) in edges {
            let Some(&d) = longest.get(*from) else {
                continue;
            };
            for &t in tos {
                if longest.get(t).is_some_and(|&old| old < d + 1) {
                    longest.insert(t.to_owned(), d + 1);
                    changed = true;
                }
            }
        }
        if !changed {
            return longest;
        }
    }
    // Still changing after n rounds: there is a loop.
    shortest
}

/// Positions every node and routes every arrow. `order` is the editor's node order (used
/// within a row); `problems` the ids of nodes with problems.
pub fn layout(def: &JourneyDefinition, order: &[String], problems: &BTreeSet<String>) -> Layout {
    let exits: BTreeMap<&str, Vec<(String, String)>> = def
        .nodes
        .iter()
        .map(|(id, n)| (id.as_str(), exits(n)))
        .collect();
    let edges: BTreeMap<&str, Vec<&str>> = exits
        .iter()
        .map(|(id, xs)| {
            let targets = xs
                .iter()
                .map(|(t, _)| t.as_str())
                .filter(|t| def.nodes.contains_key(*t))
                .collect();
            (*id, targets)
        })
        .collect();
    let depth = depths(def, &edges);
    let last = depth.values().copied().max().map_or(0, |d| d + 1);
    let rank = |id: &str| order.iter().position(|o| o == id).unwrap_or(usize::MAX);

    // Rows, each ordered by where the node's parents sit (then by the editor's order).
    let mut rows: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for id in def.nodes.keys() {
        rows.entry(depth.get(id).copied().unwrap_or(last))
            .or_default()
            .push(id.as_str());
    }
    let mut column: BTreeMap<&str, f64> = BTreeMap::new();
    for row in rows.values_mut() {
        let centre = |id: &str| -> f64 {
            let parents: Vec<f64> = edges
                .iter()
                .filter(|(_, ts)| ts.contains(&id))
                .filter_map(|(from, _)| column.get(*from).copied())
                .collect();
            if parents.is_empty() {
                f64::MAX
            } else {
                parents.iter().sum::<f64>() / parents.len() as f64
            }
        };
        row.sort_by(|a, b| {
            centre(a)
                .partial_cmp(&centre(b))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(rank(a).cmp(&rank(b)))
        });
        let width = row.len() as f64;
        for (i, id) in row.iter().enumerate() {
            column.insert(id, i as f64 - (width - 1.0) / 2.0);
        }
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1).max(1) as f64;
    let inner = widest * W + (widest - 1.0) * HGAP;
    let width = MARGIN * 2.0 + inner + SIDE;
    let rows_count = rows.keys().max().map_or(1, |m| m + 1) as f64;
    let height = MARGIN * 2.0 + rows_count * H + (rows_count - 1.0) * VGAP + 28.0;
    let centre_x = MARGIN + inner / 2.0;

    let mut nodes = Vec::new();
    let mut pos: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (d, row) in &rows {
        for id in row {
            let col = column.get(id).copied().unwrap_or(0.0);
            let x = centre_x + col * (W + HGAP) - W / 2.0;
            let y = MARGIN + *d as f64 * (H + VGAP);
            pos.insert(id, (x, y));
            if let Some(node) = def.nodes.get(*id) {
                nodes.push(GraphNode {
                    id: (*id).to_owned(),
                    kind: kind_of(node),
                    title: title_of(node),
                    x,
                    y,
                    start: *id == def.start_node,
                    reachable: depth.contains_key(*id),
                    problem: problems.contains(*id),
                });
            }
        }
    }

    let mut out_edges = Vec::new();
    for (from, xs) in &exits {
        let Some(&(x, y)) = pos.get(from) else {
            continue;
        };
        let count = xs.len() as f64;
        for (i, (to, label)) in xs.iter().enumerate() {
            // Spread the arrows leaving one box along its bottom edge.
            let sx = x + W * (i as f64 + 1.0) / (count + 1.0);
            let sy = y + H;
            let edge = match pos.get(to.as_str()) {
                Some(&(tx, ty)) if ty > y => {
                    let ex = tx + W / 2.0;
                    let mid = (sy + ty) / 2.0;
                    GraphEdge {
                        from: (*from).to_owned(),
                        to: to.clone(),
                        label: label.clone(),
                        path: format!(
                            "M {sx:.1} {sy:.1} C {sx:.1} {mid:.1}, {ex:.1} {mid:.1}, {ex:.1} {ty:.1}"
                        ),
                        label_x: (sx + ex) / 2.0,
                        label_y: mid,
                        missing: false,
                    }
                }
                Some(&(tx, ty)) => {
                    // Back up or sideways: around the right-hand side.
                    let (x1, y1) = (x + W, y + H / 2.0);
                    let (x2, y2) = (tx + W, ty + H / 2.0);
                    let bend = x1.max(x2) + SIDE - 10.0;
                    GraphEdge {
                        from: (*from).to_owned(),
                        to: to.clone(),
                        label: label.clone(),
                        path: format!(
                            "M {x1:.1} {y1:.1} C {bend:.1} {y1:.1}, {bend:.1} {y2:.1}, {x2:.1} {y2:.1}"
                        ),
                        label_x: bend - 8.0,
                        label_y: (y1 + y2) / 2.0,
                        missing: false,
                    }
                }
                None => GraphEdge {
                    from: (*from).to_owned(),
                    to: to.clone(),
                    label: if to.is_empty() {
                        format!("{label} → nowhere")
                    } else {
                        format!("{label} → {to}?")
                    }
                    .trim_start_matches(' ')
                    .to_owned(),
                    path: format!("M {sx:.1} {sy:.1} L {sx:.1} {:.1}", sy + 26.0),
                    label_x: sx,
                    label_y: sy + 40.0,
                    missing: true,
                },
            };
            out_edges.push(edge);
        }
    }

    Layout {
        nodes,
        edges: out_edges,
        width,
        height,
    }
}

/// The drawing. `on_pick` gets the id of a box chosen by click or Enter / Space.
#[component]
pub fn JourneyGraph(layout: Memo<Layout>, on_pick: Callback<String>) -> impl IntoView {
    move || {
        let l = layout.get();
        if l.nodes.is_empty() {
            return view! { <p class="muted">"Add a node to see the journey here."</p> }.into_any();
        }
        let (w, h) = (l.width, l.height);
        let edges = l
            .edges
            .into_iter()
            .map(|e| {
                let marker = if e.missing { "url(#graph-arrow-missing)" } else { "url(#graph-arrow)" };
                let label = clip(&e.label, 16);
                let has_label = !label.is_empty();
                view! {
                    <g class="graph-edge" class:graph-edge-missing=e.missing>
                        <path
                            d=e.path
                            marker-end=marker
                            data-testid="graph-edge"
                            data-from=e.from.clone()
                            data-to=e.to.clone()
                        ></path>
                        {has_label.then(|| view! {
                            <text class="graph-edge-label" x=format!("{:.1}", e.label_x) y=format!("{:.1}", e.label_y) text-anchor="middle">
                                {label}
                            </text>
                        })}
                    </g>
                }
            })
            .collect_view();
        let nodes = l
            .nodes
            .into_iter()
            .map(|n| {
                let id = n.id.clone();
                let pick = id.clone();
                let pick_key = id.clone();
                let label = format!(
                    "{}{} ({}){}{}",
                    if n.start { "Start: " } else { "" },
                    n.id,
                    n.kind.short(),
                    if n.title.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", n.title)
                    },
                    if n.problem { ". Has problems" } else { "" }
                );
                let title = label.clone();
                let sub = clip(
                    &if n.title.is_empty() {
                        n.kind.short().to_owned()
                    } else {
                        format!("{} · {}", n.kind.short(), n.title)
                    },
                    26,
                );
                view! {
                    <g
                        class=format!("graph-node graph-{}", n.kind.short().replace(' ', "-"))
                        class:graph-start=n.start
                        class:graph-unreachable=!n.reachable
                        class:graph-problem=n.problem
                        transform=format!("translate({:.1} {:.1})", n.x, n.y)
                        tabindex="0"
                        role="button"
                        aria-label=label
                        data-testid="graph-node"
                        data-node-id=id
                        on:click=move |_| on_pick.run(pick.clone())
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" || ev.key() == " " {
                                ev.prevent_default();
                                on_pick.run(pick_key.clone());
                            }
                        }
                    >
                        <title>{title}</title>
                        <rect width=W.to_string() height=H.to_string() rx="8" ry="8"></rect>
                        <text x="12" y="22" class="graph-id">{clip(&n.id, 20)}</text>
                        <text x="12" y="41" class="graph-sub">{sub}</text>
                    </g>
                }
            })
            .collect_view();
        view! {
            <svg
                class="journey-graph"
                data-testid="journey-graph"
                viewBox=format!("0 0 {w:.0} {h:.0}")
                width=format!("{w:.0}")
                height=format!("{h:.0}")
                role="group"
                aria-label="Journey overview: nodes and where each leads"
            >
                <defs>
                    <marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="graph-arrowhead"></path>
                    </marker>
                    <marker id="graph-arrow-missing" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="graph-arrowhead-missing"></path>
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
        }
        .into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: serde_json::Value) -> JourneyDefinition {
        serde_json::from_value(json).expect("a journey document")
    }

    fn node<'a>(l: &'a Layout, id: &str) -> &'a GraphNode {
        l.nodes.iter().find(|n| n.id == id).expect("node laid out")
    }

    #[test]
    fn rows_follow_the_longest_way_from_the_start() {
        let def = doc(serde_json::json!({
            "startNode": "q",
            "nodes": {
                "q": {"type": "question", "questionType": "single_choice", "title": "Q", "required": true,
                      "options": [{"value": "a", "label": "A", "next": "c"}, {"value": "b", "label": "B", "next": "e2"}]},
                "c": {"type": "condition", "branches": [], "default": "e1"},
                "e1": {"type": "end", "category": "x", "priority": "low", "subject": "S"},
                "e2": {"type": "end", "category": "y", "priority": "low", "subject": "S"},
                "lost": {"type": "end", "category": "z", "priority": "low", "subject": "S"}
            }
        }));
        let order: Vec<String> = ["q", "c", "e1", "e2", "lost"].map(String::from).to_vec();
        let l = layout(&def, &order, &BTreeSet::new());
        assert!(node(&l, "q").y < node(&l, "c").y);
        assert!(node(&l, "c").y < node(&l, "e1").y);
        // e2 is one step from the start, e1 two: every arrow points down.
        assert!(node(&l, "e2").y < node(&l, "e1").y);
        assert!(node(&l, "q").start && !node(&l, "lost").reachable);
        assert!(node(&l, "lost").y > node(&l, "e1").y);
        let edge = l
            .edges
            .iter()
            .find(|e| e.from == "q" && e.to == "c")
            .expect("edge");
        assert_eq!(edge.label, "A");
        assert!(!edge.missing);
    }

    #[test]
    fn missing_targets_and_loops_are_drawn() {
        let def = doc(serde_json::json!({
            "startNode": "a",
            "nodes": {
                "a": {"type": "question", "questionType": "text", "title": "A", "required": true, "next": "b"},
                "b": {"type": "condition", "branches": [{"match": "all", "rules": [], "next": "a"}], "default": "nowhere"}
            }
        }));
        let l = layout(
            &def,
            &["a".to_owned(), "b".to_owned()],
            &BTreeSet::from(["b".to_owned()]),
        );
        assert!(
            l.edges
                .iter()
                .any(|e| e.from == "b" && e.to == "nowhere" && e.missing)
        );
        assert!(
            l.edges
                .iter()
                .any(|e| e.from == "b" && e.to == "a" && !e.missing)
        );
        assert!(node(&l, "b").problem);
    }

    #[test]
    fn clipping_counts_characters() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("a longer title", 6), "a lon…");
    }
}
