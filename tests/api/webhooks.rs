//! Webhooks against a real HTTP receiver started by the test on 127.0.0.1: signatures verify
//! (the HMAC is recomputed here), the payload follows the documented schema, failed attempts
//! are retried and a ticket's events arrive in order, a server restart loses nothing, internal
//! targets are refused unless the admin setting allows them, an endpoint failing for too long
//! is switched off (and the admins told), and only admins manage webhooks.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use shared::Role;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::{
    helpers::{Backend, Overrides, TestApp, TestUser, spawn_app_with},
    ws_client::Ws,
};

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::helpers::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}

both_backends!(
    deliveries_are_signed_and_follow_the_schema,
    failed_attempts_are_retried_and_a_tickets_events_stay_in_order,
    a_restart_during_delivery_loses_nothing,
    internal_targets_are_refused_unless_allowed,
    an_endpoint_failing_for_too_long_is_disabled_and_the_admins_told,
    only_admins_manage_webhooks,
);

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    /// 500 for the first `n` attempts of each delivery, then 200.
    FailFirst(u32),
    AlwaysFail,
}

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Hit {
    event: String,
    delivery: String,
    signature: String,
    content_type: String,
    body: String,
    status: u16,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 that records every request.
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    mode: Arc<Mutex<Mode>>,
    tries: Arc<Mutex<HashMap<String, u32>>>,
}

impl Receiver {
    async fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let rx = Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/helpdesk"),
            hits: Arc::default(),
            mode: Arc::new(Mutex::new(mode)),
            tries: Arc::default(),
        };
        let server = rx.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        rx
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    async fn serve(self, mut stream: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let headers: HashMap<String, String> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
        let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
        let delivery = header("helpdesk-delivery");
        let status = {
            let mut tries = self.tries.lock().unwrap();
            let n = tries.entry(delivery.clone()).or_insert(0);
            *n += 1;
            match *self.mode.lock().unwrap() {
                Mode::Ok => 200,
                Mode::FailFirst(k) if *n <= k => 500,
                Mode::FailFirst(_) => 200,
                Mode::AlwaysFail => 500,
            }
        };
        // Recorded before answering: a request that arrives later was sent after this answer.
        self.hits.lock().unwrap().push(Hit {
            event: header("helpdesk-event"),
            delivery,
            signature: header("helpdesk-signature"),
            content_type: header("content-type"),
            body,
            status,
        });
        let reply = if status == 200 { "ok" } else { "nope" };
        let response = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            if status == 200 {
                "OK"
            } else {
                "Internal Server Error"
            },
            reply.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }
}

/// What a receiver does with `Helpdesk-Signature`: recompute the HMAC of `"<t>.<body>"`.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

async fn spawn(backend: Backend, extra: &[(&'static str, &str)]) -> Option<TestApp> {
    let mut o = Overrides::default();
    for (k, v) in [
        ("BACKGROUND_JOBS", "true"),
        ("WEBHOOK_POLL_MS", "100"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
        ("WEBHOOK_RETRY_MAX_MS", "400"),
        ("WEBHOOK_TIMEOUT_SECS", "5"),
    ] {
        o.vars.insert(k, v.to_owned());
    }
    for (k, v) in extra {
        o.vars.insert(k, (*v).to_owned());
    }
    spawn_app_with(backend, o).await
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(40);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn allow_private(app: &TestApp, admin: &TestUser, allow: bool) {
    app.put(
        "/api/webhooks/settings",
        Some(&admin.token),
        &json!({"allow_private_targets": allow}),
    )
    .await
    .assert_ok(200);
}

/// Registers `url` for `events`; returns (id, secret).
async fn register(app: &TestApp, admin: &TestUser, url: &str, events: &[&str]) -> (String, String) {
    let resp = app
        .post(
            "/api/webhooks",
            Some(&admin.token),
            &json!({"url": url, "events": events, "description": "test receiver"}),
        )
        .await;
    let data = resp.assert_ok(201);
    (
        data["webhook"]["id"].as_str().unwrap().to_owned(),
        data["secret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(app: &TestApp, admin: &TestUser, id: &str) -> Vec<Value> {
    app.get(
        &format!("/api/webhooks/{id}/deliveries?per_page=100"),
        Some(&admin.token),
    )
    .await
    .assert_ok(200)
    .as_array()
    .unwrap()
    .clone()
}

fn ticket_of(payload: &Value) -> String {
    let d = &payload["data"];
    d["ticket"]["id"]
        .as_str()
        .or(d["message"]["ticket_id"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn deliveries_are_signed_and_follow_the_schema(backend: Backend) {
    let Some(mut app) = spawn(backend, &[]).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let admin = app.user(Role::Admin).await;
    allow_private(&app, &admin, true).await;
    let rx = Receiver::start(Mode::Ok).await;
    let (id, secret) = register(
        &app,
        &admin,
        &rx.url,
        &["ticket.created", "message.created"],
    )
    .await;
    assert!(secret.len() >= 32);
    let listed = app.get("/api/webhooks", Some(&admin.token)).await;
    assert_eq!(listed.assert_ok(200)[0]["id"], id.as_str());
    assert!(!listed.text.contains(&secret), "the secret is never listed");

    let customer = app.user(Role::Customer).await;
    let ticket = app.ticket(&customer.token, "Webhook me").await;
    let tid = ticket["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&customer.token),
        &json!({"body": "More detail"}),
    )
    .await
    .assert_ok(201);
    wait_until("both events delivered", || async { rx.hits().len() >= 2 }).await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(
        hits.iter().map(|h| h.event.as_str()).collect::<Vec<_>>(),
        ["ticket.created", "message.created"]
    );
    for hit in &hits {
        assert!(verify(&secret, &hit.signature, &hit.body), "{hit:?}");
        assert!(!verify(&secret, &hit.signature, &format!("{} ", hit.body)));
        assert!(!verify("whsec_other", &hit.signature, &hit.body));
        assert_eq!(hit.content_type, "application/json");
        let p = hit.json();
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "data", "id", "seq", "type"]);
        assert_eq!(p["type"], hit.event.as_str());
        assert_eq!(p["id"], hit.delivery.as_str());
        assert!(p["seq"].as_i64().unwrap() > 0);
        assert_eq!(ticket_of(&p), tid);
    }
    assert!(hits[0].json()["seq"].as_i64() < hits[1].json()["seq"].as_i64());
    assert_eq!(hits[1].json()["data"]["message"]["body"], "More detail");

    // The delivery log: delivered on the first attempt, with the receiver's answer.
    let log = deliveries(&app, &admin, &id).await;
    assert_eq!(log.len(), 2);
    for d in &log {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["attempt_log"][0]["status_code"], 200);
        assert_eq!(d["attempt_log"][0]["response_excerpt"], "ok");
    }

    // A test ping, then a redelivery with the same id and body.
    app.post(
        &format!("/api/webhooks/{id}/test"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    wait_until("the ping", || async {
        rx.hits().iter().any(|h| h.event == "ping")
    })
    .await;
    let first = hits[0].clone();
    let again = app
        .post(
            &format!("/api/webhooks/{id}/deliveries/{}/redeliver", first.delivery),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(again.assert_ok(200)["status"], "pending");
    wait_until("the redelivery", || async {
        rx.hits()
            .iter()
            .filter(|h| h.delivery == first.delivery)
            .count()
            == 2
    })
    .await;
    let redelivered = rx
        .hits()
        .into_iter()
        .filter(|h| h.delivery == first.delivery)
        .nth(1)
        .unwrap();
    assert_eq!(redelivered.body, first.body);
    assert!(verify(&secret, &redelivered.signature, &redelivered.body));
    let missing = app
        .post(
            &format!(
                "/api/webhooks/{id}/deliveries/{}/redeliver",
                uuid::Uuid::new_v4()
            ),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    missing.assert_error(404, "not_found");

    // A rotated secret signs from now on; the old one no longer verifies.
    let rotated = app
        .post(
            &format!("/api/webhooks/{id}/rotate-secret"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    let new_secret = rotated.assert_ok(200)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    app.post(
        &format!("/api/webhooks/{id}/test"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    wait_until("the second ping", || async {
        rx.hits().iter().filter(|h| h.event == "ping").count() == 2
    })
    .await;
    let ping = rx
        .hits()
        .into_iter()
        .filter(|h| h.event == "ping")
        .nth(1)
        .unwrap();
    assert!(verify(&new_secret, &ping.signature, &ping.body));
    assert!(!verify(&secret, &ping.signature, &ping.body));
    cleanup.run().await;
}

async fn failed_attempts_are_retried_and_a_tickets_events_stay_in_order(backend: Backend) {
    let Some(mut app) = spawn(backend, &[]).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let admin = app.user(Role::Admin).await;
    allow_private(&app, &admin, true).await;
    let rx = Receiver::start(Mode::FailFirst(2)).await;
    let (id, _) = register(
        &app,
        &admin,
        &rx.url,
        &["ticket.created", "message.created"],
    )
    .await;
    let customer = app.user(Role::Customer).await;
    let ticket = app.ticket(&customer.token, "Retry me").await;
    let tid = ticket["id"].as_str().unwrap().to_owned();
    for n in 1..=3 {
        app.post(
            &format!("/api/tickets/{tid}/messages"),
            Some(&customer.token),
            &json!({"body": format!("Message {n}")}),
        )
        .await
        .assert_ok(201);
    }
    wait_until("four deliveries accepted", || async {
        rx.hits().iter().filter(|h| h.status == 200).count() == 4
    })
    .await;
    let hits = rx.hits();
    // Each request arrives only after every earlier event of the ticket was accepted.
    let mut accepted: Vec<i64> = Vec::new();
    for hit in &hits {
        let seq = hit.json()["seq"].as_i64().unwrap();
        assert!(
            accepted.iter().all(|s| *s < seq),
            "seq {seq} sent after {accepted:?} were accepted: out of order"
        );
        let earlier_pending = hits
            .iter()
            .map(|h| h.json()["seq"].as_i64().unwrap())
            .filter(|s| *s < seq && !accepted.contains(s))
            .count();
        assert_eq!(
            earlier_pending, 0,
            "seq {seq} sent before an earlier event was accepted"
        );
        if hit.status == 200 {
            accepted.push(seq);
        }
    }
    let bodies: Vec<String> = hits
        .iter()
        .filter(|h| h.status == 200 && h.event == "message.created")
        .map(|h| {
            h.json()["data"]["message"]["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(bodies, ["Message 1", "Message 2", "Message 3"]);
    // Three tries per delivery, the same id each time; the log records them.
    let mut per_delivery: HashMap<&str, Vec<u16>> = HashMap::new();
    for h in &hits {
        per_delivery.entry(&h.delivery).or_default().push(h.status);
    }
    assert_eq!(per_delivery.len(), 4);
    assert!(
        per_delivery.values().all(|s| s == &[500, 500, 200]),
        "{per_delivery:?}"
    );
    let log = deliveries(&app, &admin, &id).await;
    assert_eq!(log.len(), 4);
    for d in &log {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 3);
        let codes: Vec<i64> = d["attempt_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].as_i64().unwrap())
            .collect();
        assert_eq!(codes, [500, 500, 200]);
        assert_eq!(d["attempt_log"][0]["response_excerpt"], "nope");
        assert_eq!(d["attempt_log"][0]["error"], "HTTP 500");
        assert_eq!(ticket_of(&d["payload"]), tid);
    }
    let webhook = app
        .get(&format!("/api/webhooks/{id}"), Some(&admin.token))
        .await;
    assert_eq!(webhook.assert_ok(200)["failing_since"], Value::Null);
    cleanup.run().await;
}

async fn a_restart_during_delivery_loses_nothing(backend: Backend) {
    let Some(mut first) = spawn(backend, &[]).await else {
        return;
    };
    let first_cleanup = first.take_cleanup();
    let admin = first.user(Role::Admin).await;
    allow_private(&first, &admin, true).await;
    let rx = Receiver::start(Mode::AlwaysFail).await;
    let (id, secret) = register(&first, &admin, &rx.url, &["ticket.created"]).await;
    let customer = first.user(Role::Customer).await;
    let mut tickets = Vec::new();
    for n in 1..=3 {
        let t = first
            .ticket(&customer.token, &format!("Before restart {n}"))
            .await;
        tickets.push(t["id"].as_str().unwrap().to_owned());
    }
    wait_until("attempts under way", || async { !rx.hits().is_empty() }).await;
    first_cleanup.stop_server().await;
    wait_until("the first instance's jobs to stop", || async {
        !first.state.jobs.running()
    })
    .await;

    // The receiver recovers while no server runs; another instance takes over the database.
    rx.set_mode(Mode::Ok);
    let url = first.db_url.clone();
    let Some(mut second) = spawn(backend, &[("DATABASE_URL", url.as_str())]).await else {
        return;
    };
    let second_cleanup = second.take_cleanup();
    let customer = second
        .login(&customer.email, crate::helpers::PASSWORD)
        .await;
    let token = customer.assert_ok(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = second.ticket(&token, "After restart").await;
    tickets.push(t["id"].as_str().unwrap().to_owned());

    wait_until("every ticket delivered", || async {
        let ok: Vec<String> = rx
            .hits()
            .iter()
            .filter(|h| h.status == 200)
            .map(|h| ticket_of(&h.json()))
            .collect();
        tickets.iter().all(|t| ok.contains(t))
    })
    .await;
    let hits = rx.hits();
    for h in &hits {
        assert!(verify(&secret, &h.signature, &h.body));
    }
    // One delivery per event: the restart neither lost nor queued anything twice.
    let log = deliveries(&second, &admin, &id).await;
    assert_eq!(log.len(), 4, "{log:?}");
    let mut seen: Vec<String> = log.iter().map(|d| ticket_of(&d["payload"])).collect();
    seen.sort();
    let mut want = tickets.clone();
    want.sort();
    assert_eq!(seen, want);
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    second_cleanup.run().await;
    first_cleanup.run().await;
}

async fn internal_targets_are_refused_unless_allowed(backend: Backend) {
    let Some(mut app) = spawn(backend, &[]).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let admin = app.user(Role::Admin).await;
    let rx = Receiver::start(Mode::Ok).await;
    let settings = app.get("/api/webhooks/settings", Some(&admin.token)).await;
    assert_eq!(settings.assert_ok(200)["allow_private_targets"], false);
    let port = rx
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for url in [
        rx.url.clone(),
        "http://10.0.0.1/hook".to_owned(),
        format!("http://[::1]:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::ffff:127.0.0.1]/".to_owned(),
        "http://0.0.0.0/".to_owned(),
    ] {
        let resp = app
            .post(
                "/api/webhooks",
                Some(&admin.token),
                &json!({"url": url, "events": ["ticket.created"]}),
            )
            .await;
        resp.assert_error(422, "webhook_url_refused");
        assert!(
            resp.body["details"]["fields"]["url"].is_string(),
            "{}",
            resp.text
        );
    }
    for (url, events) in [
        ("ftp://example.com/hook", json!(["ticket.created"])),
        ("not a url", json!(["ticket.created"])),
        ("https://user:pw@example.com/", json!(["ticket.created"])),
        ("https://example.com/hook", json!([])),
        ("https://example.com/hook", json!(["ticket.exploded"])),
    ] {
        app.post(
            "/api/webhooks",
            Some(&admin.token),
            &json!({"url": url, "events": events}),
        )
        .await
        .assert_error(422, "validation_failed");
    }
    assert!(
        app.get("/api/webhooks", Some(&admin.token))
            .await
            .assert_ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Allowed, registered; then forbidden again: the delivery is refused before connecting.
    allow_private(&app, &admin, true).await;
    let (id, _) = register(&app, &admin, &rx.url, &["ticket.created"]).await;
    allow_private(&app, &admin, false).await;
    app.patch(
        &format!("/api/webhooks/{id}"),
        Some(&admin.token),
        &json!({"url": format!("http://localhost:{port}/other")}),
    )
    .await
    .assert_error(422, "webhook_url_refused");
    app.post(
        &format!("/api/webhooks/{id}/test"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    wait_until("the refused attempt", || async {
        deliveries(&app, &admin, &id).await[0]["attempt_log"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;
    let d = &deliveries(&app, &admin, &id).await[0];
    let attempt = &d["attempt_log"][0];
    assert_eq!(attempt["status_code"], Value::Null);
    assert!(
        attempt["error"].as_str().unwrap().contains("refused"),
        "{attempt}"
    );
    assert!(
        rx.hits().is_empty(),
        "the receiver was reached: {:?}",
        rx.hits()
    );
    cleanup.run().await;
}

async fn an_endpoint_failing_for_too_long_is_disabled_and_the_admins_told(backend: Backend) {
    let Some(mut app) = spawn(
        backend,
        &[
            ("WEBHOOK_DISABLE_AFTER_SECS", "1"),
            ("WEBHOOK_RETRY_MAX_MS", "200"),
        ],
    )
    .await
    else {
        return;
    };
    let cleanup = app.take_cleanup();
    let admin = app.user(Role::Admin).await;
    allow_private(&app, &admin, true).await;
    let (mut ws, _) = Ws::signed_in(&app, &admin.token).await;
    let rx = Receiver::start(Mode::AlwaysFail).await;
    let (id, _) = register(&app, &admin, &rx.url, &["ticket.created"]).await;
    app.post(
        &format!("/api/webhooks/{id}/test"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    wait_until("the endpoint switched off", || async {
        app.get(&format!("/api/webhooks/{id}"), Some(&admin.token))
            .await
            .assert_ok(200)["enabled"]
            == false
    })
    .await;
    let w = app
        .get(&format!("/api/webhooks/{id}"), Some(&admin.token))
        .await;
    let w = w.assert_ok(200);
    assert!(w["disabled_at"].is_string());
    assert!(w["failing_since"].is_string());
    assert!(w["disabled_reason"].as_str().unwrap().contains("failed"));
    assert!(rx.hits().len() >= 2, "several attempts failed first");
    let event = ws.event("webhook-disabled").await;
    assert_eq!(event["data"]["webhook_id"], id.as_str());
    assert_eq!(event["data"]["url"], rx.url.as_str());
    ws.close().await;

    // Nothing more goes out while it is off; a ping is refused.
    app.post(
        &format!("/api/webhooks/{id}/test"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_error(409, "conflict");
    // Enabling it again clears the failure record.
    let on = app
        .patch(
            &format!("/api/webhooks/{id}"),
            Some(&admin.token),
            &json!({"enabled": true}),
        )
        .await;
    let on = on.assert_ok(200);
    assert_eq!(on["enabled"], true);
    assert_eq!(on["failing_since"], Value::Null);
    assert_eq!(on["disabled_reason"], Value::Null);
    cleanup.run().await;
}

async fn only_admins_manage_webhooks(backend: Backend) {
    let Some(mut app) = spawn(backend, &[]).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    allow_private(&app, &admin, true).await;
    let (id, _) = register(&app, &admin, "http://127.0.0.1:9/hook", &["*"]).await;
    let body = json!({"url": "http://127.0.0.1:9/x", "events": ["*"]});
    for user in [&agent, &customer] {
        let t = Some(user.token.as_str());
        app.get("/api/webhooks", t)
            .await
            .assert_error(403, "forbidden");
        app.post("/api/webhooks", t, &body)
            .await
            .assert_error(403, "forbidden");
        app.get(&format!("/api/webhooks/{id}"), t)
            .await
            .assert_error(403, "forbidden");
        app.get(&format!("/api/webhooks/{id}/deliveries"), t)
            .await
            .assert_error(403, "forbidden");
        app.put(
            "/api/webhooks/settings",
            t,
            &json!({"allow_private_targets": true}),
        )
        .await
        .assert_error(403, "forbidden");
        app.request(
            reqwest::Method::DELETE,
            &format!("/api/webhooks/{id}"),
            t,
            None,
        )
        .await
        .assert_error(403, "forbidden");
    }
    app.get("/api/webhooks", None)
        .await
        .assert_error(401, "unauthorized");
    let events = app.get("/api/webhooks/events", Some(&admin.token)).await;
    let names: Vec<&str> = events
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for stable in [
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.assigned",
        "message.created",
    ] {
        assert!(names.contains(&stable), "{names:?}");
    }
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/webhooks/{id}"),
        Some(&admin.token),
        None,
    )
    .await;
    app.get(&format!("/api/webhooks/{id}"), Some(&admin.token))
        .await
        .assert_error(404, "not_found");
    cleanup.run().await;
}
