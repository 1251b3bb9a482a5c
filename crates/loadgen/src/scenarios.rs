//! The measured scenarios, each bounded in requests and time, each producing rows of the
//! result table: sign-in, the agent queue page, ticket detail and conversation, the
//! analytics overview, ticket creation through a journey, WebSocket fan-out of `new-ticket`,
//! and draining a large queue through the assignment run.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::{
    load::{self, Api, Bounds, Outcome},
    machine,
    seed::{self, generate::Rng},
    stats::ms,
};

/// One line of the result table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub scenario: String,
    pub load: String,
    /// "ok / errors".
    pub requests: String,
    pub rate: String,
    pub p50: String,
    pub p99: String,
    pub max: String,
    pub notes: String,
    /// Successful requests per second, for comparing rows (absent where a row is no rate).
    pub per_second: Option<f64>,
}

impl Row {
    pub fn from_outcome(scenario: &str, load: String, out: &Outcome, notes: String) -> Row {
        let s = out.summary();
        let pick = |f: fn(&crate::stats::Summary) -> Duration| s.as_ref().map(|s| ms(f(s)));
        let mut notes = notes;
        if out.timed_out {
            notes.push_str(" · stopped by the time limit");
        }
        if let Some(e) = &out.first_error {
            notes.push_str(&format!(" · first error: {}", e.replace('|', "/")));
        }
        Row {
            scenario: scenario.to_owned(),
            load,
            requests: format!("{} / {}", out.ok(), out.errors),
            rate: format!("{:.1}", out.rate()),
            p50: pick(|s| s.p50).unwrap_or_else(|| "–".into()),
            p99: pick(|s| s.p99).unwrap_or_else(|| "–".into()),
            max: pick(|s| s.max).unwrap_or_else(|| "–".into()),
            notes: notes.trim_start_matches(" · ").to_owned(),
            per_second: (out.ok() > 0).then(|| out.rate()),
        }
    }
}

/// Signed-in users and what the scenarios need to know about the server.
pub struct Ctx {
    pub api: Api,
    pub server_pid: u32,
    pub admin: String,
    /// Bench agents: (user id, token).
    pub agents: Vec<(Uuid, String)>,
    /// Tokens of signed-in bench customers.
    pub customers: Vec<String>,
    pub order_problem: Uuid,
    pub account_billing: Uuid,
}

fn bounds(concurrency: usize, requests: usize, time_limit: Duration) -> Bounds {
    Bounds {
        concurrency,
        requests,
        time_limit,
    }
}

pub(crate) fn load_text(b: &Bounds) -> String {
    format!(
        "{} clients, ≤ {} req, ≤ {} s",
        b.concurrency,
        b.requests,
        b.time_limit.as_secs()
    )
}

/// Customers sign in (bcrypt-bound); the first `keep` tokens are kept for later scenarios.
pub async fn login(
    api: &Api,
    customers: usize,
    b: Bounds,
    keep: usize,
    bcrypt_cost: u32,
) -> (Row, Vec<String>) {
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let out = {
        let (api, tokens) = (api.clone(), tokens.clone());
        load::run(b, move |_, i| {
            let (api, tokens) = (api.clone(), tokens.clone());
            async move {
                let token = api
                    .login(&seed::customer_email(i % customers), seed::BENCH_PASSWORD)
                    .await?;
                if let Ok(mut t) = tokens.lock()
                    && t.len() < keep
                {
                    t.push(token);
                }
                Ok(())
            }
        })
        .await
    };
    let tokens = tokens.lock().map(|t| t.clone()).unwrap_or_default();
    let row = Row::from_outcome(
        "login (`POST /api/auth/login`)",
        load_text(&b),
        &out,
        format!("BCRYPT_COST={bcrypt_cost}; distinct customers"),
    );
    (row, tokens)
}

/// The path of the agent queue page (what the agent dashboard asks for).
const QUEUE_PAGE: &str =
    "/api/tickets?status=new&assigned_agent_id=none&sort=priority&order=desc&per_page=100";

/// Agents load their queue page.
pub async fn queue_page(ctx: &Arc<Ctx>, b: Bounds) -> Row {
    // The page shows at most 100 tickets: how full it is matters as much as the table size.
    let queued = queue_length(ctx)
        .await
        .map_or_else(|e| format!("unknown ({e})"), |n| n.to_string());
    let c = ctx.clone();
    let out = load::run(b, move |_, i| {
        let c = c.clone();
        async move {
            let token = &c.agents[i % c.agents.len()].1;
            c.api.get(QUEUE_PAGE, token).await.map(drop)
        }
    })
    .await;
    Row::from_outcome(
        "agent queue page",
        load_text(&b),
        &out,
        format!(
            "`GET /api/tickets?status=new&assigned_agent_id=none&sort=priority&order=desc&per_page=100`, \
             {} agents; {queued} tickets in the queue",
            ctx.agents.len()
        ),
    )
}

/// Searches agents run as they type, over the seeded conversation (`seed::generate` words).
pub const TWO_WORD_QUERIES: &[&str] = &[
    "kettle replacement",
    "warehouse tomorrow",
    "printer delivery",
    "order address",
    "camera trouble",
    "helmet details",
];
pub const PREFIX_QUERIES: &[&str] = &["kett", "wareh", "repla", "headph", "deliv", "micro"];

/// Agents search the tickets they may see (`q`, sorted by relevance, 25 a page).
pub async fn search(
    ctx: &Arc<Ctx>,
    b: Bounds,
    name: &str,
    queries: &'static [&'static str],
) -> Row {
    let c = ctx.clone();
    let out = load::run(b, move |_, i| {
        let c = c.clone();
        async move {
            let token = &c.agents[i % c.agents.len()].1;
            let q = queries[i % queries.len()].replace(' ', "%20");
            c.api
                .get(&format!("/api/tickets?q={q}&per_page=25"), token)
                .await
                .map(drop)
        }
    })
    .await;
    Row::from_outcome(
        name,
        load_text(&b),
        &out,
        format!(
            "`GET /api/tickets?q=…&per_page=25` (relevance, snippets), {} agents; q in {}",
            ctx.agents.len(),
            queries
                .iter()
                .map(|q| format!("`{q}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// Tickets each agent may open: their own, sampled across the whole year.
pub async fn sample_tickets(
    ctx: &Ctx,
    per_agent_pages: usize,
) -> anyhow::Result<Vec<(usize, Uuid)>> {
    let mut rng = Rng::new(99);
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for (a, (id, token)) in ctx.agents.iter().enumerate() {
        for _ in 0..per_agent_pages {
            let before = now - chrono::Duration::seconds((rng.unit() * 365.0 * 86_400.0) as i64);
            let path = format!(
                "/api/tickets?assigned_agent_id={id}&created_to={}&per_page=25",
                before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            let body = ctx.api.get(&path, token).await?;
            for t in body["data"].as_array().into_iter().flatten() {
                if let Some(tid) = t["id"].as_str().and_then(|s| s.parse().ok()) {
                    out.push((a, tid));
                }
            }
        }
    }
    if out.is_empty() {
        bail!("the bench agents see no tickets of their own");
    }
    Ok(out)
}

/// An agent opens one of their tickets: the ticket itself, or its conversation.
pub async fn ticket_detail(
    ctx: &Arc<Ctx>,
    tickets: &Arc<Vec<(usize, Uuid)>>,
    b: Bounds,
    messages: bool,
) -> Row {
    let (c, t) = (ctx.clone(), tickets.clone());
    let out = load::run(b, move |_, i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            // A stride that is prime to the sample size walks it in a scattered order.
            let (agent, id) = t[(i * 7919) % t.len()];
            let path = if messages {
                format!("/api/tickets/{id}/messages")
            } else {
                format!("/api/tickets/{id}")
            };
            c.api.get(&path, &c.agents[agent].1).await.map(drop)
        }
    })
    .await;
    let (name, what) = if messages {
        (
            "ticket conversation",
            "`GET /api/tickets/{id}/messages` (first page)",
        )
    } else {
        ("ticket detail", "`GET /api/tickets/{id}`")
    };
    Row::from_outcome(
        name,
        load_text(&b),
        &out,
        format!(
            "{what}, {} of the agents' own tickets across the year",
            tickets.len()
        ),
    )
}

/// The admin analytics overview over its default range (the last 30 days).
pub async fn analytics(ctx: &Arc<Ctx>, b: Bounds) -> Row {
    let c = ctx.clone();
    let out = load::run(b, move |_, _| {
        let c = c.clone();
        async move {
            c.api
                .get("/api/analytics/overview", &c.admin)
                .await
                .map(drop)
        }
    })
    .await;
    Row::from_outcome(
        "analytics overview",
        load_text(&b),
        &out,
        "`GET /api/analytics/overview` as admin, default range (last 30 days)".to_owned(),
    )
}

/// Answers of a valid journey submit; alternates between the two demo journeys.
fn submission(ctx: &Ctx, i: usize) -> (String, Value) {
    if i.is_multiple_of(2) {
        (
            format!("/api/journeys/{}/submit", ctx.account_billing),
            json!({"answers": {
                "topic": "login",
                "plan": "pro",
                "describe": format!("I cannot sign in since this morning (bench request {i}).")
            }}),
        )
    } else {
        (
            format!("/api/journeys/{}/submit", ctx.order_problem),
            json!({"answers": {
                "order-issue": "late",
                "order-number": format!("B-{i:06}"),
                "details": "Tracking has not moved for a week."
            }}),
        )
    }
}

/// Submits one journey as customer `who`; returns the new ticket's id.
async fn submit(ctx: &Ctx, who: usize, i: usize) -> anyhow::Result<Uuid> {
    let (path, body) = submission(ctx, i);
    let token = &ctx.customers[who % ctx.customers.len()];
    let data = ctx
        .api
        .call(Method::POST, &path, Some(token), Some(&body))
        .await?;
    data["data"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .context("submit answered without a ticket id")
}

/// Customers create tickets by submitting journeys, one customer per client.
pub async fn create_tickets(ctx: &Arc<Ctx>, b: Bounds) -> Row {
    let c = ctx.clone();
    let out = load::run(b, move |w, i| {
        let c = c.clone();
        async move { submit(&c, w, i).await.map(drop) }
    })
    .await;
    Row::from_outcome(
        "ticket creation (journey submit)",
        load_text(&b),
        &out,
        format!(
            "`POST /api/journeys/{{id}}/submit`, {} distinct customers, agents offline (tickets queue up)",
            b.concurrency.min(ctx.customers.len())
        ),
    )
}

/// Settings of the WebSocket scenario.
#[derive(Debug, Clone, Copy)]
pub struct WsPlan {
    pub clients: usize,
    pub tickets: usize,
    /// Longest wait for one ticket's deliveries.
    pub per_ticket: Duration,
    /// Longest time to connect every client.
    pub connect_limit: Duration,
}

/// `clients` agent connections; for each of `tickets` new tickets, the time from the submit
/// request to `new-ticket` arriving on every connection. Also the server's memory per
/// connection.
pub async fn websocket(ctx: &Arc<Ctx>, plan: WsPlan) -> anyhow::Result<Vec<Row>> {
    let rss_before = machine::rss_kib(ctx.server_pid).unwrap_or(0);
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<(Uuid, Instant)>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready) = mpsc::unbounded_channel::<Result<(), String>>();
    // Connecting in parallel, but not all at once: the listen backlog is finite.
    let gate = Arc::new(Semaphore::new(64));
    let ws_base = ctx.api.base.replacen("http://", "ws://", 1);
    let mut conns = tokio::task::JoinSet::new();
    let connect_started = Instant::now();
    for i in 0..plan.clients {
        let url = format!("{ws_base}/ws?token={}", ctx.agents[i % ctx.agents.len()].1);
        let (gate, arrivals_tx, ready_tx, mut stop_rx) = (
            gate.clone(),
            arrivals_tx.clone(),
            ready_tx.clone(),
            stop_rx.clone(),
        );
        conns.spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return;
            };
            let mut ws = match tokio::time::timeout(
                Duration::from_secs(30),
                tokio_tungstenite::connect_async(url),
            )
            .await
            {
                Ok(Ok((ws, _))) => ws,
                Ok(Err(e)) => {
                    let _ = ready_tx.send(Err(format!("connect: {e}")));
                    return;
                }
                Err(_) => {
                    let _ = ready_tx.send(Err("connect: timed out".to_owned()));
                    return;
                }
            };
            let welcome = tokio::time::timeout(Duration::from_secs(30), async {
                while let Some(msg) = ws.next().await {
                    if let Ok(Message::Text(t)) = msg
                        && t.as_str().contains("\"welcome\"")
                    {
                        return true;
                    }
                }
                false
            })
            .await;
            drop(permit);
            if !matches!(welcome, Ok(true)) {
                let _ = ready_tx.send(Err("no welcome".to_owned()));
                return;
            }
            let _ = ready_tx.send(Ok(()));
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            let at = Instant::now();
                            if t.as_str().contains("new-ticket")
                                && let Ok(v) = serde_json::from_str::<Value>(t.as_str())
                                && v["event"] == "new-ticket"
                                && let Some(id) = v["data"]["ticket"]["id"]
                                    .as_str()
                                    .and_then(|s| s.parse().ok())
                            {
                                let _ = arrivals_tx.send((id, at));
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    }
                }
            }
            let _ = ws.close(None).await;
        });
    }
    drop(ready_tx);
    let mut connected = 0;
    let mut failed = 0;
    let mut first_failure = None;
    let deadline = connect_started + plan.connect_limit;
    while connected + failed < plan.clients {
        match tokio::time::timeout_at(deadline.into(), ready.recv()).await {
            Ok(Some(Ok(()))) => connected += 1,
            Ok(Some(Err(e))) => {
                failed += 1;
                first_failure.get_or_insert(e);
            }
            Ok(None) | Err(_) => break,
        }
    }
    let connect_time = connect_started.elapsed();
    // Let the sessions settle (the server holds live events for a second after welcome).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = machine::rss_kib(ctx.server_pid).unwrap_or(0);

    let mut latencies = Vec::new();
    let mut missing = 0usize;
    let mut early: HashMap<Uuid, Vec<Instant>> = HashMap::new();
    let mut submit_errors = 0;
    for k in 0..plan.tickets {
        let t0 = Instant::now();
        let id = match submit(ctx, k, 1_000_000 + k).await {
            Ok(id) => id,
            Err(e) => {
                submit_errors += 1;
                eprintln!("  websocket: submit failed: {e:#}");
                continue;
            }
        };
        let deadline = t0 + plan.per_ticket;
        let mut got = early.remove(&id).unwrap_or_default();
        while got.len() < connected {
            match tokio::time::timeout_at(deadline.into(), arrivals.recv()).await {
                Ok(Some((tid, at))) if tid == id => got.push(at),
                Ok(Some((tid, at))) => early.entry(tid).or_default().push(at),
                Ok(None) | Err(_) => break,
            }
        }
        missing += connected - got.len();
        latencies.extend(got.into_iter().map(|at| at.saturating_duration_since(t0)));
        // Spread the tickets out a little so each is measured on a quiet server.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = stop_tx.send(true);
    let closing = tokio::time::timeout(Duration::from_secs(30), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if closing.is_err() {
        conns.abort_all();
    }

    let s = crate::stats::summarize(&latencies);
    let pick = |f: fn(&crate::stats::Summary) -> Duration| {
        s.as_ref().map_or_else(|| "–".to_owned(), |s| ms(f(s)))
    };
    let mut notes = format!(
        "{connected} agent connections (over {} agents), {} tickets: {} deliveries, {missing} missing",
        ctx.agents.len().min(plan.clients),
        plan.tickets,
        latencies.len()
    );
    if submit_errors > 0 {
        notes.push_str(&format!(", {submit_errors} submits failed"));
    }
    if failed > 0 {
        notes.push_str(&format!(
            ", {failed} connections failed (first: {})",
            first_failure.unwrap_or_default()
        ));
    }
    let per_conn = if connected > 0 && rss_after >= rss_before {
        format!(
            "{:.1} KiB",
            (rss_after - rss_before) as f64 / connected as f64
        )
    } else {
        "–".to_owned()
    };
    Ok(vec![
        Row {
            scenario: "WebSocket `new-ticket` fan-out".to_owned(),
            load: format!("{} connections", plan.clients),
            requests: format!("{} / {}", latencies.len(), missing),
            rate: "–".to_owned(),
            per_second: None,
            p50: pick(|s| s.p50),
            p99: pick(|s| s.p99),
            max: pick(|s| s.max),
            notes: format!("{notes}; time from the submit request to the event on each connection"),
        },
        Row {
            scenario: "WebSocket memory".to_owned(),
            load: format!("{connected} connections"),
            requests: "–".to_owned(),
            rate: "–".to_owned(),
            per_second: None,
            p50: "–".to_owned(),
            p99: "–".to_owned(),
            max: "–".to_owned(),
            notes: format!(
                "server VmRSS {:.1} MiB → {:.1} MiB: **{per_conn} per connection**; all connected in {:.1} s",
                rss_before as f64 / 1024.0,
                rss_after as f64 / 1024.0,
                connect_time.as_secs_f64()
            ),
        },
    ])
}

/// Tickets waiting in the queue (unassigned, status new).
async fn queue_length(ctx: &Ctx) -> anyhow::Result<u64> {
    let body = ctx
        .api
        .get(
            "/api/tickets?status=new&assigned_agent_id=none&per_page=1",
            &ctx.admin,
        )
        .await?;
    body["count"].as_u64().context("list without count")
}

/// Settings of the assignment scenario.
#[derive(Debug, Clone, Copy)]
pub struct DrainPlan {
    /// Tickets in the queue when the agents come online.
    pub queue: u64,
    pub create_clients: usize,
    /// Bounds filling the queue, and again the drain.
    pub time_limit: Duration,
}

/// Fills the queue to `queue` tickets while every agent is offline, raises the agents'
/// capacity so the queue fits, sets them available and measures until the queue is empty.
pub async fn assignment(ctx: &Arc<Ctx>, plan: DrainPlan) -> anyhow::Result<Row> {
    let before = queue_length(ctx).await?;
    let missing = plan.queue.saturating_sub(before) as usize;
    if missing > 0 {
        eprintln!("  queue holds {before}; creating {missing} more tickets");
        let c = ctx.clone();
        let offset = Arc::new(AtomicUsize::new(2_000_000));
        let fill = load::run(
            bounds(plan.create_clients, missing, plan.time_limit),
            move |w, _| {
                let (c, offset) = (c.clone(), offset.clone());
                async move {
                    let i = offset.fetch_add(1, Ordering::Relaxed);
                    submit(&c, w, i).await.map(drop)
                }
            },
        )
        .await;
        if fill.errors > 0 {
            eprintln!(
                "  {} submits failed while filling the queue: {}",
                fill.errors,
                fill.first_error.unwrap_or_default()
            );
        }
    }
    let queued = queue_length(ctx).await?;

    // Room: capacity minus open (+ pending) tickets; the queue must fit.
    let agents = ctx.api.get("/api/agents?per_page=100", &ctx.admin).await?;
    let open: HashMap<String, u64> = agents["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                a["id"].as_str()?.to_owned(),
                a["metrics"]["open_tickets"].as_u64()?,
            ))
        })
        .collect();
    let n = ctx.agents.len() as u64;
    let max_open = ctx
        .agents
        .iter()
        .map(|(id, _)| open.get(&id.to_string()).copied().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let capacity = max_open + queued.div_ceil(n) + 10;
    const MAX_CAPACITY: u64 = 1000;
    if capacity > MAX_CAPACITY {
        bail!(
            "{queued} queued tickets do not fit {n} agents with at most {max_open} open each \
             under the API's maximum capacity of {MAX_CAPACITY}"
        );
    }
    for (id, _) in &ctx.agents {
        ctx.api
            .call(
                Method::PATCH,
                &format!("/api/agents/{id}"),
                Some(&ctx.admin),
                Some(&json!({"capacity": capacity})),
            )
            .await?;
    }

    let started = Instant::now();
    for (id, _) in &ctx.agents {
        ctx.api
            .call(
                Method::PUT,
                &format!("/api/agents/{id}/status"),
                Some(&ctx.admin),
                Some(&json!({"status": "available"})),
            )
            .await?;
    }
    let all_available = started.elapsed();
    let mut left = queued;
    let mut polls = 0;
    while left > 0 && started.elapsed() < plan.time_limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = queue_length(ctx).await?;
        polls += 1;
    }
    let drained = started.elapsed();
    let assigned = queued - left.min(queued);
    Ok(Row {
        scenario: "assignment: drain the queue".to_owned(),
        load: format!("{queued} queued tickets, {n} agents"),
        requests: format!("{assigned} assigned / {left} left"),
        rate: format!("{:.0} tickets/s", assigned as f64 / drained.as_secs_f64()),
        per_second: Some(assigned as f64 / drained.as_secs_f64()),
        p50: "–".to_owned(),
        p99: "–".to_owned(),
        max: "–".to_owned(),
        notes: format!(
            "**{:.1} s** from the first `PUT /api/agents/{{id}}/status` (available) until no unassigned \
             ticket was left{}; all {n} set available after {:.1} s; capacity raised from the seeded \
             value to {capacity} per agent via `PATCH /api/agents/{{id}}` so the queue fits \
             (busiest agent already held {max_open} open tickets); queue length polled {polls} times",
            drained.as_secs_f64(),
            if left > 0 {
                " (time limit reached)"
            } else {
                ""
            },
            all_available.as_secs_f64(),
        ),
    })
}
