//! `loadgen`: the Helpdesk load benchmark behind `make bench`.
//!
//! Seeds a fresh database to the requested size, starts the release server on a free
//! 127.0.0.1 port, runs the scenarios (each bounded in requests and time), stops the server
//! and prints a markdown report: machine, database, sizes, bcrypt cost, the command line, and
//! one table row per measurement. Progress goes to stderr, the report to stdout.
//!
//! It talks to 127.0.0.1 only; any other address is refused.

mod app;
mod ceiling;
mod lists;
mod load;
mod loopback;
mod machine;
mod mail;
mod scenarios;
mod seed;
mod spa;
mod stats;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};

use crate::{
    app::{Server, ServerConfig},
    load::{Api, Bounds},
    scenarios::{Ctx, DrainPlan, Row, WsPlan},
    seed::{Size, Target},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Db {
    Postgres,
    Sqlite,
}

/// Helpdesk load benchmark: seed, serve on 127.0.0.1, measure, report (markdown).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
struct Args {
    /// Database to benchmark.
    #[arg(long, value_enum, default_value = "postgres")]
    db: Db,
    /// PostgreSQL server (without a database name); the benchmark (re)creates
    /// `helpdesk_bench` there. Must be on 127.0.0.1.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pg_url: String,
    /// Tickets to seed.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: u64,
    /// Messages per seeded ticket.
    #[arg(long, default_value_t = 5)]
    messages_per_ticket: u32,
    /// Seeded customers (all share one password).
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Seeded agents (they get the seeded tickets and drain the queue).
    #[arg(long, default_value_t = 50)]
    agents: usize,
    /// bcrypt cost the server runs with (its production default is 12).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31))]
    bcrypt_cost: u32,

    /// Sign-in requests, and clients sending them.
    #[arg(long, default_value_t = 100)]
    login_requests: usize,
    #[arg(long, default_value_t = 8)]
    login_clients: usize,
    /// Requests of each read scenario (queue page, ticket detail, conversation), and clients.
    #[arg(long, default_value_t = 3000)]
    read_requests: usize,
    #[arg(long, default_value_t = 32)]
    read_clients: usize,
    /// Requests of each search scenario (two-word and prefix query; `--read-clients`
    /// clients; 0: skip).
    #[arg(long, default_value_t = 1000)]
    search_requests: usize,
    /// Analytics overview requests (one client: the report is heavy).
    #[arg(long, default_value_t = 20)]
    analytics_requests: usize,
    /// Ticket creation requests, and customers sending them.
    #[arg(long, default_value_t = 3000)]
    create_requests: usize,
    #[arg(long, default_value_t = 32)]
    create_clients: usize,
    /// Statements of each database ceiling loop (1-row INSERT with the creation clients,
    /// primary-key SELECT with the read clients; 0 skips both).
    #[arg(long, default_value_t = 20_000)]
    ceiling_requests: usize,
    /// WebSocket agent connections.
    #[arg(long, default_value_t = 5000)]
    ws_clients: usize,
    /// Tickets whose `new-ticket` fan-out is timed.
    #[arg(long, default_value_t = 5)]
    ws_tickets: usize,
    /// Queue length the assignment scenario drains.
    #[arg(long, default_value_t = 10_000)]
    queue: u64,
    /// Time limit of each request scenario, in seconds.
    #[arg(long, default_value_t = 120)]
    time_limit: u64,
    /// Time limit of the queue drain (and of each mail scenario), in seconds.
    #[arg(long, default_value_t = 600)]
    drain_limit: u64,
    /// Notifications the outbound mail scenario delivers to a local SMTP sink (0: skip).
    #[arg(long, default_value_t = 10_000)]
    mail_notifications: usize,
    /// Raw replies the inbound scenario posts to the ingest endpoint (at most
    /// `--mail-notifications`, whose tickets they answer; 0: skip).
    #[arg(long, default_value_t = 1_000)]
    mail_inbound: usize,
    /// Run only the mail rows (outbound and inbound), none of the HTTP and WebSocket
    /// scenarios. The seed still runs: pair it with a small `--tickets`.
    #[arg(long)]
    mail_only: bool,

    /// The release server binary (default: `helpdesk` next to this program).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Where the SQLite file, the server log and uploads go (default: `bench/` in the
    /// cargo target directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// The built SPA to serve, whose first load is measured (`make frontend` builds it).
    #[arg(long, default_value = "dist")]
    static_dir: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // Dropping `run` on Ctrl-C drops the server handle, which kills the server.
    let result = tokio::select! {
        r = run(args) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn default_dir_of_exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .context("this program has no directory")?
        .to_path_buf())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let command_line = std::env::args()
        .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
        .collect::<Vec<_>>()
        .join(" ");
    if args.db == Db::Postgres {
        loopback::ensure_loopback(&args.pg_url)?;
    }
    if args.agents == 0 || args.customers < args.create_clients.max(1) {
        bail!("need at least one agent and as many customers as creation clients");
    }
    let load_before = machine::load_average();
    let exe_dir = default_dir_of_exe()?;
    let binary = args
        .server_bin
        .clone()
        .unwrap_or_else(|| exe_dir.join("helpdesk"));
    if !binary.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p helpdesk-server`",
            binary.display()
        );
    }
    let work_dir = args.work_dir.clone().unwrap_or_else(|| {
        exe_dir
            .parent()
            .map_or_else(|| exe_dir.join("bench"), |t| t.join("bench"))
    });
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;
    let work_dir = work_dir.canonicalize()?;

    // Every connection is a file: the client side here, the server side in the child, which
    // inherits this limit.
    let nofile = machine::raise_nofile(args.ws_clients as u64 * 2 + 2048)?;
    if nofile < args.ws_clients as u64 + 1024 {
        bail!(
            "the open-file limit is {nofile}, too low for {} WebSocket clients (raise `ulimit -n`)",
            args.ws_clients
        );
    }

    let target = match args.db {
        Db::Postgres => Target::Postgres {
            base_url: args.pg_url.clone(),
        },
        Db::Sqlite => Target::Sqlite {
            path: work_dir.join("helpdesk_bench.db"),
        },
    };
    let config = ServerConfig {
        binary,
        database_url: target.database_url(),
        bcrypt_cost: args.bcrypt_cost,
        work_dir: work_dir.clone(),
        static_dir: std::path::absolute(&args.static_dir)?,
        extra_env: Vec::new(),
        log_name: "server.log".to_owned(),
    };
    let size = Size {
        tickets: args.tickets,
        messages_per_ticket: args.messages_per_ticket,
        customers: args.customers,
        agents: args.agents,
    };

    eprintln!(
        "seeding {} with {} tickets × {} messages…",
        target.name(),
        size.tickets,
        size.messages_per_ticket
    );
    let seeded = seed::run(&target, &size, &config).await?;
    for (step, d) in &seeded.timings {
        eprintln!("  {step}: {:.1} s", d.as_secs_f64());
    }

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        // Drop idle connections before the server's keep-alive (5 s) closes them.
        .pool_idle_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(256)
        .build()?;
    let (mut rows, log_path) = if args.mail_only {
        (Vec::new(), config.work_dir.join(mail::LOG_NAME))
    } else {
        eprintln!("starting {} serve…", config.binary.display());
        let server = config.serve(&http).await?;
        let log_path = server.log_path.clone();
        let rows = scenarios_on(&server, &http, &args, &seeded).await;
        server.stop().await?;
        (rows?, log_path)
    };
    if args.mail_notifications > 0 || args.mail_inbound > 0 {
        rows.extend(
            mail::scenarios(
                &config,
                &http,
                mail::Plan {
                    notifications: args.mail_notifications,
                    inbound: args.mail_inbound.min(args.mail_notifications),
                    clients: args.create_clients,
                    customers: args.customers,
                    time_limit: Duration::from_secs(args.drain_limit),
                },
            )
            .await?,
        );
    }

    let machine = machine::Machine::read();
    let (errors, warnings, first) = Server::log_problems(&log_path);
    println!("# Helpdesk benchmark\n");
    println!("- command: `{command_line}`");
    println!("- machine: {}", machine.describe());
    println!(
        "- load average (1/5/15 min) at the start: {load_before}; at the end: {}",
        machine::load_average()
    );
    println!(
        "- database: {} ({})",
        target.name(),
        redact(&seeded.database_url)
    );
    println!(
        "- data: {} tickets, {} messages, {} customers, {} bench agents (seeded capacity {}; \
         plus the demo users)",
        seeded.tickets, seeded.messages, seeded.customers, args.agents, seeded.agent_capacity
    );
    println!(
        "- seeded tickets by status: {}",
        seeded
            .by_status
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "- seed time: {:.1} s ({})",
        seeded.total_time().as_secs_f64(),
        seeded
            .timings
            .iter()
            .map(|(s, d)| format!("{s}: {:.1} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "- server: release build, BCRYPT_COST={}, BACKGROUND_JOBS=true, RUST_LOG=info, \
         HTTP_WORKERS = cores",
        args.bcrypt_cost
    );
    println!(
        "- latencies: every request timed, percentiles by nearest rank; rates are successful \
         requests per second of wall time\n"
    );
    println!("| scenario | load | ok / errors | req/s | p50 | p99 | max | notes |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario, r.load, r.requests, r.rate, r.p50, r.p99, r.max, r.notes
        );
    }
    println!(
        "\nServer log ({}): {errors} ERROR and {warnings} WARN lines.",
        log_path.display()
    );
    for line in first {
        println!("    {line}");
    }
    Ok(())
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let user_end = url[s + 3..at].find(':').map_or(at, |i| s + 3 + i);
            format!("{}:***{}", &url[..user_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

async fn scenarios_on(
    server: &Server,
    http: &reqwest::Client,
    args: &Args,
    seeded: &seed::Seeded,
) -> anyhow::Result<Vec<Row>> {
    let api = Api::new(http.clone(), &server.base)?;
    let limit = Duration::from_secs(args.time_limit);
    let mut rows = Vec::new();

    eprintln!("SPA first load…");
    rows.push(spa::first_load(http, &server.base, &args.static_dir).await);

    eprintln!("login…");
    let login_bounds = Bounds {
        concurrency: args.login_clients,
        requests: args.login_requests,
        time_limit: limit,
    };
    let (row, mut customers) = scenarios::login(
        &api,
        args.customers,
        login_bounds,
        args.create_clients,
        args.bcrypt_cost,
    )
    .await;
    rows.push(row);
    // Creation needs one signed-in customer per client.
    for i in customers.len()..args.create_clients {
        customers.push(
            api.login(&seed::customer_email(i), seed::BENCH_PASSWORD)
                .await?,
        );
    }

    eprintln!(
        "signing in the admin and {} agents…",
        seeded.agent_ids.len()
    );
    let demo_admin = server::services::seed::DEMO_USERS
        .iter()
        .find(|u| u.role == shared::Role::Admin)
        .context("the demo seed has no admin")?;
    let admin = api.login(demo_admin.email, demo_admin.password).await?;
    let mut agents = Vec::new();
    for (i, id) in seeded.agent_ids.iter().enumerate() {
        agents.push((
            *id,
            api.login(&seed::agent_email(i), seed::BENCH_PASSWORD)
                .await?,
        ));
    }
    let journeys = api.get("/api/journeys", &customers[0]).await?;
    let journey = |slug: &str| {
        journeys["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|j| j["slug"] == slug)
            .and_then(|j| j["id"].as_str()?.parse().ok())
            .with_context(|| format!("journey `{slug}` is not offered"))
    };
    let ctx = Arc::new(Ctx {
        api,
        server_pid: server.pid,
        admin,
        agents,
        customers,
        order_problem: journey("order-problem")?,
        account_billing: journey("account-billing")?,
    });
    let read = Bounds {
        concurrency: args.read_clients,
        requests: args.read_requests,
        time_limit: limit,
    };

    eprintln!("agent queue page…");
    rows.push(scenarios::queue_page(&ctx, read).await);
    if args.search_requests > 0 {
        let bounds = Bounds {
            concurrency: args.read_clients,
            requests: args.search_requests,
            time_limit: limit,
        };
        eprintln!("search…");
        rows.push(
            scenarios::search(
                &ctx,
                bounds,
                "search: two-word query",
                scenarios::TWO_WORD_QUERIES,
            )
            .await,
        );
        rows.push(
            scenarios::search(
                &ctx,
                bounds,
                "search: prefix query",
                scenarios::PREFIX_QUERIES,
            )
            .await,
        );
    }
    eprintln!("ticket detail…");
    let sample = Arc::new(scenarios::sample_tickets(&ctx, 4).await?);
    let mut ceilings = None;
    if args.ceiling_requests > 0 {
        eprintln!("database ceilings…");
        let bounds = |clients| Bounds {
            concurrency: clients,
            requests: args.ceiling_requests,
            time_limit: limit.min(ceiling::TIME_LIMIT),
        };
        let (ceiling_rows, measured) = ceiling::measure(
            &seeded.database_url,
            bounds(args.create_clients),
            bounds(args.read_clients),
            sample.iter().map(|(_, id)| *id).collect(),
        )
        .await?;
        rows.extend(ceiling_rows);
        ceilings = Some(measured);
    }
    rows.push(scenarios::ticket_detail(&ctx, &sample, read, false).await);
    rows.push(scenarios::ticket_detail(&ctx, &sample, read, true).await);
    eprintln!("admin ticket list…");
    rows.push(lists::admin_list(&ctx, read, 1).await);
    rows.push(lists::admin_list(&ctx, read, lists::deep_page(seeded.tickets)).await);
    eprintln!("analytics overview…");
    rows.push(
        scenarios::analytics(
            &ctx,
            Bounds {
                concurrency: 1,
                requests: args.analytics_requests,
                time_limit: limit,
            },
        )
        .await,
    );
    eprintln!("ticket creation…");
    let create = Bounds {
        concurrency: args.create_clients,
        requests: args.create_requests,
        time_limit: limit,
    };
    rows.push(scenarios::create_tickets(&ctx, create).await);
    rows.push(lists::create_direct(&ctx, create).await);
    if args.ws_clients > 0 {
        eprintln!("websocket: {} connections…", args.ws_clients);
        rows.extend(
            scenarios::websocket(
                &ctx,
                WsPlan {
                    clients: args.ws_clients,
                    tickets: args.ws_tickets,
                    per_ticket: Duration::from_secs(30),
                    connect_limit: limit,
                },
            )
            .await?,
        );
    }
    if args.queue > 0 {
        eprintln!("assignment: draining a queue of {}…", args.queue);
        rows.push(
            scenarios::assignment(
                &ctx,
                DrainPlan {
                    queue: args.queue,
                    create_clients: args.create_clients,
                    time_limit: Duration::from_secs(args.drain_limit),
                },
            )
            .await?,
        );
    }
    if let Some(ceilings) = ceilings {
        ceiling::annotate(&mut rows, &ceilings);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://postgres:secret@127.0.0.1:5432/db"),
            "postgres://postgres:***@127.0.0.1:5432/db"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/db"),
            "postgres://postgres@127.0.0.1:5432/db"
        );
        assert_eq!(
            redact("sqlite:///tmp/x.db?mode=rwc"),
            "sqlite:///tmp/x.db?mode=rwc"
        );
    }

    #[test]
    fn arguments_parse() {
        let a = Args::try_parse_from(["loadgen", "--tickets", "20000", "--db", "sqlite"])
            .expect("args");
        assert_eq!((a.tickets, a.db, a.bcrypt_cost), (20_000, Db::Sqlite, 12));
        assert!(Args::try_parse_from(["loadgen", "--bcrypt-cost", "3"]).is_err());
    }
}
