//! The email rows of the benchmark, on a server of their own with mail on:
//!
//! - **outbound**: `notifications` tickets are opened while the mail worker is off (each
//!   queues an acknowledgement in the outbox), then the server starts again with the worker
//!   on and the time until a local SMTP sink has received every mail is measured: mails/s
//!   delivered, from the server's start (included) to the last `250`.
//! - **inbound**: `inbound` raw replies, one per ticket of the outbound phase, each from the
//!   ticket's customer with `In-Reply-To` its root Message-ID, posted to
//!   `POST /api/inbound/email`; every answer is checked to be a reply threaded to the right
//!   ticket.
//!
//! The SMTP sink is a minimal SMTP server in this process on 127.0.0.1 (it accepts every mail
//! and counts it); no mail leaves the machine.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    sync::Mutex,
};

use crate::{
    app::ServerConfig,
    load::{self, Api, Bounds},
    scenarios::Row,
    seed,
    stats::ms,
};

const DOMAIN: &str = "bench.test";
const INGEST_TOKEN: &str = "bench-ingest-token-for-a-loopback-server";
/// `MAIL_SECRET` of the bench server, so the replies can name our signed root Message-IDs.
const MAIL_SECRET: &str = "bench-mail-secret-for-a-loopback-server";

/// The log of the server that delivers and ingests (the report counts its problems when
/// only the mail rows run).
pub const LOG_NAME: &str = "server-mail.log";

/// What the mail rows measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub notifications: usize,
    pub inbound: usize,
    pub clients: usize,
    pub customers: usize,
    pub time_limit: Duration,
}

/// A local SMTP server that accepts every mail and counts them.
struct Sink {
    port: u16,
    received: Arc<AtomicUsize>,
}

impl Sink {
    async fn start() -> anyhow::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(AtomicUsize::new(0));
        let count = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let _ = session(stream, count).await;
                });
            }
        });
        Ok(Sink { port, received })
    }
}

/// One SMTP conversation: greeting, EHLO, MAIL, RCPT, DATA … `.`, RSET, QUIT.
async fn session(stream: tokio::net::TcpStream, count: Arc<AtomicUsize>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 bench sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-bench sink\r\n250 8BITMIME\r\n"
        } else if verb.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
            }
            count.fetch_add(1, Ordering::Relaxed);
            b"250 2.0.0 queued\r\n"
        } else if verb.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 ok\r\n"
        };
        write.write_all(reply).await?;
    }
}

fn mail_env(sink: &Sink, jobs: bool) -> Vec<(String, String)> {
    [
        ("MAIL_ENABLED", "true".to_owned()),
        ("MAIL_TRANSPORT", "smtp".to_owned()),
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("MAIL_FROM", format!("Helpdesk <support@{DOMAIN}>")),
        ("MAIL_MESSAGE_ID_DOMAIN", DOMAIN.to_owned()),
        ("MAIL_REPLY_ADDRESS", format!("support+{{token}}@{DOMAIN}")),
        ("MAIL_INGEST_TOKEN", INGEST_TOKEN.to_owned()),
        ("MAIL_SECRET", MAIL_SECRET.to_owned()),
        ("MAIL_ACKS_PER_HOUR", "100000".to_owned()),
        ("MAIL_NEW_TICKETS_PER_HOUR", "100000".to_owned()),
        ("BACKGROUND_JOBS", jobs.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A ticket opened for the benchmark: id, and its customer's address.
type Opened = (String, String);

/// Both mail rows.
pub async fn scenarios(
    config: &ServerConfig,
    http: &reqwest::Client,
    plan: Plan,
) -> anyhow::Result<Vec<Row>> {
    let sink = Sink::start().await?;
    let mut rows = Vec::new();

    // Queue the acknowledgements with the worker off.
    eprintln!(
        "mail: opening {} tickets with the mail worker off…",
        plan.notifications
    );
    let mut quiet = config.clone();
    quiet.extra_env = mail_env(&sink, false);
    quiet.log_name = "server-mail-queue.log".to_owned();
    let server = quiet.serve(http).await?;
    let api = Api::new(http.clone(), &server.base)?;
    let clients = plan.clients.clamp(1, plan.customers.max(1));
    let mut tokens = Vec::with_capacity(clients);
    for i in 0..clients {
        tokens.push(Arc::new((
            api.login(&seed::customer_email(i), seed::BENCH_PASSWORD)
                .await?,
            seed::customer_email(i),
        )));
    }
    let opened: Arc<Mutex<Vec<Opened>>> = Arc::new(Mutex::new(Vec::new()));
    let (api2, tokens2, opened2) = (api.clone(), Arc::new(tokens), opened.clone());
    let bounds = Bounds {
        concurrency: clients,
        requests: plan.notifications,
        time_limit: plan.time_limit,
    };
    let out = load::run(bounds, move |w, i| {
        let (api, tokens, opened) = (api2.clone(), tokens2.clone(), opened2.clone());
        async move {
            let who = &tokens[w % tokens.len()];
            let body =
                json!({"subject": format!("Mail bench {i}"), "description": "Benchmark ticket."});
            let t = api
                .call(Method::POST, "/api/tickets", Some(&who.0), Some(&body))
                .await?;
            let id = t["data"]["id"]
                .as_str()
                .context("ticket without id")?
                .to_owned();
            opened.lock().await.push((id, who.1.clone()));
            Ok(())
        }
    })
    .await;
    server.stop().await?;
    let opened = std::mem::take(&mut *opened.lock().await);
    if opened.len() < plan.notifications {
        bail!(
            "only {} of {} tickets opened ({:?})",
            opened.len(),
            plan.notifications,
            out.first_error
        );
    }

    // Deliver them: the server starts with the worker on; the clock runs until the sink
    // has every mail.
    eprintln!("mail: delivering {} acknowledgements…", opened.len());
    let mut busy = config.clone();
    busy.extra_env = mail_env(&sink, true);
    busy.log_name = LOG_NAME.to_owned();
    let before = sink.received.load(Ordering::Relaxed);
    let started = Instant::now();
    let server = busy.serve(http).await?;
    let deadline = started + plan.time_limit;
    let want = before + opened.len();
    while sink.received.load(Ordering::Relaxed) < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let delivered = sink.received.load(Ordering::Relaxed) - before;
    rows.push(Row {
        scenario: "mail outbound (outbox → SMTP sink)".to_owned(),
        load: format!("{} queued acknowledgements, 1 worker", opened.len()),
        requests: format!(
            "{delivered} / {}",
            opened.len() - delivered.min(opened.len())
        ),
        rate: format!("{:.1}", delivered as f64 / took.as_secs_f64().max(1e-9)),
        per_second: Some(delivered as f64 / took.as_secs_f64().max(1e-9)),
        p50: "–".into(),
        p99: "–".into(),
        max: ms(took),
        notes: format!(
            "mails/s from the server's start (included) to the sink's last `250`; pooled SMTP to a \
             local sink in loadgen; queued by {} ticket creations at {:.1}/s with the worker off",
            out.ok(),
            out.rate()
        ),
    });

    // Inbound: one reply per ticket, threaded by In-Reply-To.
    if plan.inbound > 0 {
        eprintln!(
            "mail: posting {} replies to the ingest endpoint…",
            plan.inbound
        );
        let api = Api::new(http.clone(), &server.base)?;
        let opened = Arc::new(opened);
        let wrong = Arc::new(AtomicUsize::new(0));
        let (api2, opened2, wrong2) = (api.clone(), opened.clone(), wrong.clone());
        let bounds = Bounds {
            concurrency: clients,
            requests: plan.inbound,
            time_limit: plan.time_limit,
        };
        let out = load::run(bounds, move |_, i| {
            let (api, opened, wrong) = (api2.clone(), opened2.clone(), wrong2.clone());
            async move {
                let (ticket, from) = &opened[i % opened.len()];
                let raw = reply(ticket, from, i)?;
                let resp = api
                    .http
                    .post(format!("{}/api/inbound/email", api.base))
                    .bearer_auth(INGEST_TOKEN)
                    .header("Content-Type", "message/rfc822")
                    .body(raw)
                    .send()
                    .await?;
                let status = resp.status();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                if !status.is_success() {
                    bail!("ingest: {status} {body}");
                }
                let d = &body["data"];
                if d["action"] != "reply" || d["ticket_id"] != ticket.as_str() {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        })
        .await;
        let wrong = wrong.load(Ordering::Relaxed);
        let mut row = Row::from_outcome(
            "mail inbound (ingest endpoint)",
            format!("{} clients, {} raw replies", clients, plan.inbound),
            &out,
            format!(
                "`POST /api/inbound/email`, each a reply with In-Reply-To to a distinct ticket; \
                 threaded correctly: {}/{}",
                out.ok() - wrong.min(out.ok()),
                out.ok()
            ),
        );
        row.rate = format!("{:.1}", out.rate());
        rows.push(row);
    }
    server.stop().await?;
    Ok(rows)
}

/// A customer's plain-text reply to ticket `id`'s acknowledgement.
fn reply(id: &str, from: &str, i: usize) -> anyhow::Result<Vec<u8>> {
    let uuid: uuid::Uuid = id.parse()?;
    let root = server::services::mail::Signer::new(MAIL_SECRET)?.root_message_id(DOMAIN, uuid);
    Ok(format!(
        "From: {from}\r\nTo: support@{DOMAIN}\r\nSubject: Re: Mail bench {i}\r\n\
         Message-ID: <bench-reply-{i}-{}@client.example>\r\nIn-Reply-To: {root}\r\n\
         Date: Thu, 3 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Still broken, see below.\r\n\r\nOn Thu, 3 Dec 2026, Helpdesk wrote:\r\n> ##- reply above this line -##\r\n",
        uuid::Uuid::new_v4().simple(),
    )
    .into_bytes())
}
