//! Slow and idle clients: hundreds of sockets that trickle a request head or send nothing do
//! not stop the server from answering everyone else, and the server closes them itself.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::TestApp;

crate::db_tests!(slow_and_idle_clients_do_not_starve_others);

async fn slow_and_idle_clients_do_not_starve_others(app: TestApp) {
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    let mut slow = Vec::new();
    for i in 0..400 {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        if i % 2 == 0 {
            // Half a request head, never finished.
            s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .unwrap();
            slow.push(s);
        } else {
            idle.push(s);
        }
    }
    // Everyone else is still served.
    for _ in 0..20 {
        app.get("/api/health", None).await.assert_ok(200);
    }
    // The server closes the slow and idle sockets itself (5 s head timeout), answering the
    // unfinished heads with 408 or simply closing.
    let deadline = Instant::now() + Duration::from_secs(20);
    for mut s in slow.into_iter().chain(idle) {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut buf = Vec::new();
        let read = tokio::time::timeout(left, s.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "a slow or idle socket was never closed by the server"
        );
        let text = String::from_utf8_lossy(&buf);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "unexpected answer to a slow client: {text}"
        );
    }
    app.get("/api/health", None).await.assert_ok(200);
}
