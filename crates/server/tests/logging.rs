//! The real `helpdesk` binary: `LOG_FORMAT=json` writes one JSON object per line, and the log
//! lines of a request carry its `X-Request-Id`; a malformed `LOG_FORMAT` stops the start.

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
    let mut child = helpdesk(&dir, "json")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);

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
