//! The real `helpdesk` binary as an operator runs it: `LOG_FORMAT=json` writes one JSON object
//! per line and the log lines of a request carry its `X-Request-Id`; a malformed `LOG_FORMAT`
//! stops the start; SIGTERM closes WebSocket clients with 1012 and exits cleanly.

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
    let mut child = helpdesk(dir, "json")
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
    let created = helpdesk(&dir, "text")
        .args([
            "create-admin",
            "--email",
            "ops@example.com",
            "--password",
            "Passw0rd-long",
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let (mut server, port, _logs) = serve(&dir);

    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("http://127.0.0.1:{port}/api/auth/login"))
        .json(&serde_json::json!({"email": "ops@example.com", "password": "Passw0rd-long"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["token"].as_str().expect("a token").to_owned();
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
