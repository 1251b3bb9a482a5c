//! A small WebSocket client for the realtime tests: connects to `/ws`, records every JSON
//! message it receives, and waits for specific ones with a deadline (never a blind sleep).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

use crate::helpers::TestApp;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every JSON message received so far, in order.
    pub received: Vec<Value>,
    pub closed: bool,
    /// The server's close frame (code and reason), if it sent one.
    pub close_frame: Option<(u16, String)>,
}

impl Ws {
    pub async fn connect(app: &TestApp, query: &str) -> Ws {
        let url = format!("{}/ws?{query}", app.address.replace("http://", "ws://"));
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket handshake");
        Ws {
            stream,
            received: Vec::new(),
            closed: false,
            close_frame: None,
        }
    }

    /// Like [`Ws::signed_in`], with a tiny fixed receive buffer: a client that stops reading
    /// soon pushes back on the server instead of the kernel buffering megabytes for it.
    pub async fn signed_in_slow(app: &TestApp, token: &str) -> (Ws, Value) {
        let addr = app.address.trim_start_matches("http://").to_owned();
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("small buffer");
        let tcp = socket
            .connect(addr.parse().expect("address"))
            .await
            .expect("tcp connect");
        let url = format!("ws://{addr}/ws?token={token}");
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("websocket handshake");
        let mut ws = Ws {
            stream,
            received: Vec::new(),
            closed: false,
            close_frame: None,
        };
        let welcome = ws.next(WAIT).await.expect("welcome");
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        (ws, welcome)
    }

    /// Connects with a token and returns once `welcome` arrived.
    pub async fn signed_in(app: &TestApp, token: &str) -> (Ws, Value) {
        let mut ws = Ws::connect(app, &format!("token={token}")).await;
        let welcome = ws.next(WAIT).await.expect("welcome");
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        (ws, welcome)
    }

    pub async fn send(&mut self, msg: Value) {
        self.stream
            .send(Message::text(msg.to_string()))
            .await
            .expect("send");
    }

    /// The next JSON message, or `None` on close or timeout.
    pub async fn next(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match msg {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(&text).expect("server sends JSON");
                    self.received.push(v.clone());
                    return Some(v);
                }
                Some(Ok(Message::Close(frame))) => {
                    self.closed = true;
                    self.close_frame =
                        frame.map(|f| (u16::from(f.code), f.reason.as_str().to_owned()));
                    return None;
                }
                None | Some(Err(_)) => {
                    self.closed = true;
                    return None;
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Waits for a message matching `pred`; panics with what arrived instead.
    pub async fn until(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(v) if pred(&v) => return v,
                Some(_) => continue,
                None => panic!(
                    "never received {what}; got {} messages, the last: {:?}",
                    self.received.len(),
                    self.received
                        .iter()
                        .rev()
                        .take(5)
                        .map(|v| format!("{}:{}", v["type"], v["event"]))
                        .collect::<Vec<_>>()
                ),
            }
        }
    }

    /// Waits for an event by name (and optional extra condition).
    pub async fn event(&mut self, name: &str) -> Value {
        self.until(name, |v| v["type"] == "event" && v["event"] == name)
            .await
    }

    /// Events received so far with this name.
    pub fn events(&self, name: &str) -> Vec<&Value> {
        self.received
            .iter()
            .filter(|v| v["type"] == "event" && v["event"] == name)
            .collect()
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
