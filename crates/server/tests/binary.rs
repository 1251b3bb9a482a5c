//! The real `helpdesk` binary as an operator runs it: `LOG_FORMAT=json` writes one JSON object
//! per line and the log lines of a request carry its `X-Request-Id`; a malformed `LOG_FORMAT`
//! stops the start; SIGTERM closes WebSocket clients with 1012 and exits cleanly; `config check`
//! masks secrets; SIGKILL under load loses nothing that was acknowledged; a rolling restart of
//! two instances behind one address loses no answered request and no event.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn helpdesk(dir: &std::path::Path, log_format: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helpdesk"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", "sqlite://helpdesk.db?mode=rwc")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("BACKGROUND_JOBS", "false")
        .env("STATIC_DIR", "no-such-dir")
        .env("UPLOAD_DIR", "uploads")
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", log_format);
    cmd
}

#[test]
fn json_log_lines_carry_the_request_id() {
    let dir = std::env::temp_dir().join(format!("helpdesk-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (server, port, log_rx) = serve(&dir);

    let mut conn = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    write!(
        conn,
        "GET /api/tickets HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-7\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.to_lowercase().contains("x-request-id: trace-me-7"));
    assert!(
        response.contains("\"request_id\":\"trace-me-7\""),
        "{response}"
    );

    // Every line is a JSON object; the request's access line carries its id.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = log_rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no log line with the request id; got {seen:#?}"));
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["ts"].is_string() && v["level"].is_string(), "{line}");
        if v["request_id"] == "trace-me-7"
            && v["message"].as_str().unwrap().contains("/api/tickets")
        {
            break;
        }
        seen.push(line);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_log_format_stops_the_start() {
    let dir = std::env::temp_dir().join(format!("helpdesk-logfmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = helpdesk(&dir, "xml").arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LOG_FORMAT"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `helpdesk serve` in `dir`; returns the server, its port and its log lines.
fn serve(dir: &std::path::Path) -> (Server, String, mpsc::Receiver<String>) {
    serve_with(helpdesk(dir, "json"))
}

/// Starts `cmd serve`; returns the server, its port and its log lines.
fn serve_with(mut cmd: Command) -> (Server, String, mpsc::Receiver<String>) {
    let mut child = cmd
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (port_tx, port_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line.strip_prefix("Helpdesk listening on http://127.0.0.1:") {
                let _ = port_tx.send(port.trim().to_owned());
            }
        }
    });
    let (log_tx, log_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = log_tx.send(line);
        }
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server prints its port");
    (Server(child), port, log_rx)
}

#[tokio::test]
async fn sigterm_tells_websocket_clients_to_reconnect_and_exits_cleanly() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let dir = std::env::temp_dir().join(format!("helpdesk-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    create_admin(helpdesk(&dir, "text"));
    let (mut server, port, _logs) = serve(&dir);

    let client = reqwest::Client::new();
    let token = login(&client, &port, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws?token={token}"))
            .await
            .unwrap();
    let welcome = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .unwrap();
    assert!(matches!(welcome, Some(Ok(Message::Text(ref t))) if t.contains("welcome")));

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );

    // The socket is closed with 1012 (restart): reconnect and resume.
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(15), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    let frame = close.expect("a close code");
    assert_eq!(u16::from(frame.code), 1012);

    // The process exits by itself, successfully.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
        "the port is closed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_check_prints_the_settings_with_secrets_masked() {
    let dir = std::env::temp_dir().join(format!("helpdesk-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = helpdesk(&dir, "text")
        .env(
            "DATABASE_URL",
            "postgres://helpdesk:hunter2@db.internal/helpdesk",
        )
        .env("JWT_SECRET", "do-not-print-this-secret")
        .args(["config", "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("postgres://helpdesk:***@db.internal/helpdesk"),
        "{stdout}"
    );
    assert!(stdout.contains("BCRYPT_COST"), "{stdout}");
    assert!(!stdout.contains("hunter2") && !stdout.contains("do-not-print-this-secret"));
    assert!(stdout.contains("configuration ok"));

    // A typo in the server's own namespace and a removed setting stop it, naming them.
    for (name, value) in [("MAIL_ENABLE", "true"), ("REDIS_URL", "redis://127.0.0.1")] {
        let out = helpdesk(&dir, "text")
            .env(name, value)
            .args(["config", "check"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(name), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("configuration ok"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The admin every test signs in as.
const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "Passw0rd-long";

/// Runs `cmd create-admin` for [`ADMIN_EMAIL`].
fn create_admin(mut cmd: Command) {
    let created = cmd
        .args([
            "create-admin",
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
}

/// Registers the customer `c@example.com` over HTTP; returns the answer's data.
async fn register(client: &reqwest::Client, port: &str) -> serde_json::Value {
    let registered: serde_json::Value = client
        .post(format!("http://127.0.0.1:{port}/api/auth/register"))
        .json(&serde_json::json!({"email": "c@example.com", "password": "Passw0rd-long", "name": "C"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    registered["data"].clone()
}

/// Signs in over HTTP; returns the token.
async fn login(client: &reqwest::Client, port: &str, email: &str, password: &str) -> String {
    let login: serde_json::Value = client
        .post(format!("http://127.0.0.1:{port}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["data"]["token"].as_str().expect("a token").to_owned()
}

/// Concurrent creations and replies; the server is killed with SIGKILL in the middle of
/// them and started again on the same database. Everything that was answered with a 2xx is
/// there with its history and its event, and a WebSocket client resumes without a gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged() {
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};
    use tokio_tungstenite::tungstenite::Message;

    let dir = std::env::temp_dir().join(format!("helpdesk-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    create_admin(helpdesk(&dir, "text"));
    let (mut server, port, _logs) = serve(&dir);
    let client = reqwest::Client::new();
    let admin = login(&client, &port, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let registered = register(&client, &port).await;
    let customer = registered["token"].as_str().unwrap().to_owned();

    // The admin follows everything live, remembering the newest seq it saw.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws?token={admin}"))
            .await
            .unwrap();
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let recorder = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(text) = msg {
                    seen.lock()
                        .unwrap()
                        .push(serde_json::from_str(&text).unwrap());
                }
            }
        })
    };

    // Writers: each opens tickets and replies on them until the server dies.
    // (ticket, reply) ids in the order they were acknowledged.
    type Acked = Arc<Mutex<Vec<(String, Option<String>)>>>;
    let acked: Acked = Arc::default();
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, acked, customer, port) = (
            client.clone(),
            acked.clone(),
            customer.clone(),
            port.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let base = format!("http://127.0.0.1:{port}/api/tickets");
                let Ok(resp) = client
                    .post(&base)
                    .bearer_auth(&customer)
                    .json(&serde_json::json!({"subject": format!("w{w} t{i}"), "description": "d"}))
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(body) = resp.json::<serde_json::Value>().await else {
                    return;
                };
                let ticket = body["data"]["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().push((ticket.clone(), None));
                let Ok(resp) = client
                    .post(format!("{base}/{ticket}/messages"))
                    .bearer_auth(&customer)
                    .json(&serde_json::json!({"body": format!("reply w{w} t{i}")}))
                    .send()
                    .await
                else {
                    return;
                };
                let Ok(body) = resp.json::<serde_json::Value>().await else {
                    return;
                };
                let message = body["data"]["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().push((ticket, Some(message)));
            }
        }));
    }
    // Kill once a fair amount has been acknowledged, while the writers keep going.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 60 {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    let _ = server.0.wait();
    for w in writers {
        w.await.unwrap();
    }
    recorder.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    let before: Vec<serde_json::Value> = seen.lock().unwrap().clone();
    let last_seq = before
        .iter()
        .filter_map(|v| v["seq"].as_i64())
        .max()
        .unwrap_or(0);

    // Restart on the same database.
    let (_server, port, _logs) = serve(&dir);
    let admin = login(&client, &port, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for (ticket, message) in &acked {
        let base = format!("http://127.0.0.1:{port}/api/tickets/{ticket}");
        let got = client.get(&base).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(
            got.status().as_u16(),
            200,
            "acknowledged ticket {ticket} is missing"
        );
        let history: serde_json::Value = client
            .get(format!("{base}/history"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            history["count"].as_u64().unwrap() >= 1,
            "{ticket} has no history"
        );
        if let Some(message) = message {
            let messages: serde_json::Value = client
                .get(format!("{base}/messages"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let ids: Vec<&str> = messages["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|m| m["id"].as_str())
                .collect();
            assert!(
                ids.contains(&message.as_str()),
                "acknowledged reply {message} is missing"
            );
        }
    }

    // The admin resumes from the last event it saw and gets the rest: every acknowledged
    // ticket's new-ticket event, live before the kill or replayed now, and no seq twice.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{port}/ws?token={admin}&after_seq={last_seq}"
    ))
    .await
    .unwrap();
    let mut after = Vec::new();
    let sentinel = client
        .post(format!("http://127.0.0.1:{port}/api/tickets"))
        .bearer_auth(&admin)
        .json(
            &serde_json::json!({"subject": "sentinel", "description": "d",
                                  "customer_id": registered["user"]["id"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sentinel.status().as_u16(), 201);
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("events after the restart")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = msg {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let done = v["data"]["ticket"]["subject"] == "sentinel";
            after.push(v);
            if done {
                break;
            }
        }
    }
    let events: Vec<&serde_json::Value> = before
        .iter()
        .chain(after.iter())
        .filter(|v| v["type"] == "event")
        .collect();
    let mut seqs: Vec<i64> = events.iter().filter_map(|v| v["seq"].as_i64()).collect();
    let n = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "an event came twice");
    for (ticket, message) in &acked {
        if message.is_none() {
            assert!(
                events
                    .iter()
                    .any(|v| v["event"] == "new-ticket"
                        && v["data"]["ticket"]["id"] == ticket.as_str()),
                "the new-ticket event of {ticket} never reached the admin"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TCP front door for two instances, as a load balancer would be: each new connection goes
/// to the first backend that accepts it.
async fn front_door(backends: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let ports = backends.lock().unwrap().clone();
            tokio::spawn(async move {
                for port in ports {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Two instances on one PostgreSQL database behind one address, restarted one after the other
/// (SIGTERM, start again) while tickets are being opened: every ticket whose creation got a
/// response is there, and a WebSocket client that reconnects through the same address after
/// each 1012 and resumes misses no event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_loses_no_answered_request_and_no_event() {
    use futures_util::StreamExt;
    use sea_orm::{ConnectionTrait, Database};
    use std::sync::{Arc, Mutex};
    use tokio_tungstenite::tungstenite::Message;

    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let Ok(admin_db) = Database::connect(&admin_url).await else {
        assert!(
            std::env::var("HELPDESK_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "PostgreSQL is required but unreachable"
        );
        eprintln!("SKIPPED: rolling restart (no PostgreSQL)");
        return;
    };
    let name = format!("helpdesk_rolling_{}", std::process::id());
    admin_db
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    admin_db
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..i]),
        None => unreachable!("a database URL has a path"),
    };
    let dir = std::env::temp_dir().join(format!("helpdesk-rolling-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let instance = || {
        let mut cmd = helpdesk(&dir, "text");
        cmd.env("DATABASE_URL", &url);
        cmd
    };
    create_admin(instance());
    let (a, port_a, _) = serve_with(instance());
    let (b, port_b, _) = serve_with(instance());
    let backends = Arc::new(Mutex::new(vec![port_a, port_b.clone()]));
    let front = front_door(backends.clone()).await;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let admin = login(&client, &front, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let registered = register(&client, &front).await;
    let customer = registered["token"].as_str().unwrap().to_owned();

    // The live client: reconnects through the front door and resumes after every close.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let events: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let follower = {
        let (events, stop, front, admin) =
            (events.clone(), stop.clone(), front.clone(), admin.clone());
        tokio::spawn(async move {
            let mut last = 0i64;
            let mut restarts = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let url = format!("ws://127.0.0.1:{front}/ws?token={admin}&after_seq={last}");
                let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                loop {
                    let next = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
                    match next {
                        Err(_) if stop.load(std::sync::atomic::Ordering::Relaxed) => break,
                        Err(_) => continue,
                        Ok(Some(Ok(Message::Text(text)))) => {
                            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                            if let Some(seq) = v["seq"].as_i64() {
                                last = last.max(seq);
                            }
                            events.lock().unwrap().push(v);
                        }
                        Ok(Some(Ok(Message::Close(frame)))) => {
                            if frame.is_some_and(|f| u16::from(f.code) == 1012) {
                                restarts += 1;
                            }
                            break;
                        }
                        Ok(Some(Ok(_))) => {}
                        Ok(_) => break,
                    }
                }
            }
            restarts
        })
    };

    // The writer: opens tickets through the front door all along.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let writer = {
        let (acked, stop, client, front, customer) = (
            acked.clone(),
            stop.clone(),
            client.clone(),
            front.clone(),
            customer.clone(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let sent = client
                    .post(format!("http://127.0.0.1:{front}/api/tickets"))
                    .bearer_auth(&customer)
                    .json(
                        &serde_json::json!({"subject": format!("rolling {i}"), "description": "d"}),
                    )
                    .send()
                    .await;
                if let Ok(resp) = sent
                    && resp.status().is_success()
                    && let Ok(body) = resp.json::<serde_json::Value>().await
                {
                    acked
                        .lock()
                        .unwrap()
                        .push(body["data"]["id"].as_str().unwrap().to_owned());
                }
            }
        })
    };
    let wait_for_more = |n: usize| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while acked.lock().unwrap().len() < n {
                assert!(Instant::now() < deadline, "the load stalled");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let restart = |server: Server| {
        let pid = server.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let mut server = server;
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    wait_for_more(20).await;
    eprintln!(
        "rolling: {} tickets before restarting A",
        acked.lock().unwrap().len()
    );
    // Restart A: the front door sends everyone to B meanwhile.
    restart(a);
    let (_a2, port_a2, _) = serve_with(instance());
    backends.lock().unwrap().insert(0, port_a2);
    let so_far = acked.lock().unwrap().len();
    wait_for_more(so_far + 20).await;
    // Then B.
    backends.lock().unwrap().retain(|p| p != &port_b);
    restart(b);
    let (_b2, port_b2, _) = serve_with(instance());
    backends.lock().unwrap().push(port_b2);
    let so_far = acked.lock().unwrap().len();
    wait_for_more(so_far + 20).await;

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    // Let the follower catch up with the last tickets before it stops.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restarts = follower.await.unwrap();
    assert!(
        restarts >= 1,
        "the live client was never told to reconnect (1012)"
    );

    let acked = acked.lock().unwrap().clone();
    let events = events.lock().unwrap().clone();
    let mut seqs: Vec<i64> = events.iter().filter_map(|v| v["seq"].as_i64()).collect();
    let n = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "an event came twice");
    for id in &acked {
        let got = client
            .get(format!("http://127.0.0.1:{front}/api/tickets/{id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.status().as_u16(),
            200,
            "answered ticket {id} is missing"
        );
        assert!(
            events
                .iter()
                .any(|v| v["event"] == "new-ticket" && v["data"]["ticket"]["id"] == id.as_str()),
            "the live client missed the new-ticket event of {id}"
        );
    }
    let _ = admin_db
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    let _ = std::fs::remove_dir_all(&dir);
}
