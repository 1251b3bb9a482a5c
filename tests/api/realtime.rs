//! Realtime: WebSocket authentication, room-exact delivery, resume without gaps or duplicates,
//! delivery across server instances, and slow clients that must not hold up others.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};
use server::services::events;
use shared::Role;

use crate::{
    helpers::{Backend, Overrides, TestApp, TestUser, spawn_app_with},
    ws_client::{WAIT, Ws},
};

crate::db_tests!(
    authentication_is_required,
    events_reach_exactly_the_right_rooms,
    resume_replays_missed_events_in_order,
    reassignment_removes_other_agents_from_the_ticket_room,
    slow_clients_do_not_hold_up_others,
);

async fn new_ticket(app: &TestApp, customer: &TestUser, subject: &str) -> Value {
    app.ticket(&customer.token, subject).await
}

async fn authentication_is_required(app: TestApp) {
    // A forged token: an error with its code, then the socket closes.
    let mut ws = Ws::connect(&app, "token=forged.token.value").await;
    let err = ws.next(WAIT).await.expect("an error message");
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "invalid_token");
    assert!(ws.next(WAIT).await.is_none() && ws.closed);

    // No token at all: closed within the authentication timeout.
    let mut silent = Ws::connect(&app, "").await;
    let started = std::time::Instant::now();
    let first = silent.next(Duration::from_secs(10)).await;
    assert_eq!(
        first.map(|v| v["code"].clone()),
        Some(json!("unauthorized"))
    );
    assert!(silent.next(Duration::from_secs(5)).await.is_none());
    assert!(started.elapsed() < Duration::from_secs(9));

    // Authenticating with a first message works, and pings are answered.
    let user = app.user(Role::Customer).await;
    let mut ws = Ws::connect(&app, "").await;
    ws.send(json!({"type": "auth", "token": user.token})).await;
    let welcome = ws.next(WAIT).await.unwrap();
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["user_id"], user.id.as_str());
    assert_eq!(welcome["rooms"], json!([format!("customer:{}", user.id)]));
    ws.send(json!({"type": "ping", "id": "p1"})).await;
    let pong = ws.until("pong", |v| v["type"] == "pong").await;
    assert_eq!(pong["id"], "p1");
    ws.send(json!({"type": "launch-missiles"})).await;
    let err = ws.until("error", |v| v["type"] == "error").await;
    assert_eq!(err["code"], "invalid_json");
    // A customer has no agent status.
    ws.send(json!({"type": "agent-status", "id": "s", "status": "available"}))
        .await;
    let err = ws.until("error", |v| v["type"] == "error").await;
    assert_eq!(
        (err["id"].clone(), err["code"].clone()),
        (json!("s"), json!("forbidden"))
    );
    ws.close().await;
}

async fn events_reach_exactly_the_right_rooms(app: TestApp) {
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let other_agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let (mut ws_alice, _) = Ws::signed_in(&app, &alice.token).await;
    let (mut ws_bob, _) = Ws::signed_in(&app, &bob.token).await;
    let (mut ws_agent, _) = Ws::signed_in(&app, &agent.token).await;
    let (mut ws_other, _) = Ws::signed_in(&app, &other_agent.token).await;
    let (mut ws_admin, _) = Ws::signed_in(&app, &admin.token).await;

    let t = new_ticket(&app, &alice, "Alice's problem").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    for ws in [&mut ws_alice, &mut ws_agent, &mut ws_other, &mut ws_admin] {
        let e = ws.event("new-ticket").await;
        assert_eq!(e["data"]["ticket"]["id"], tid.as_str());
        assert!(e["seq"].as_i64().unwrap() > 0);
    }
    ws_agent.event("queue-updated").await;

    // The agent takes it: now only that agent (not the other) follows it.
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let assigned = ws_agent.event("ticket-assigned").await;
    assert_eq!(assigned["data"]["agent_id"], agent.id.as_str());
    ws_alice.event("ticket-assigned").await;

    // Alice follows the conversation; Bob may not.
    ws_alice
        .send(json!({"type": "join-ticket-room", "id": "j1", "ticket_id": tid}))
        .await;
    ws_alice
        .until("ack", |v| v["type"] == "ack" && v["id"] == "j1")
        .await;
    ws_bob
        .send(json!({"type": "join-ticket-room", "id": "j2", "ticket_id": tid}))
        .await;
    let refused = ws_bob.until("error", |v| v["type"] == "error").await;
    assert_eq!(
        (refused["id"].clone(), refused["code"].clone()),
        (json!("j2"), json!("not_found"))
    );
    ws_other
        .send(json!({"type": "join-ticket-room", "id": "j3", "ticket_id": tid}))
        .await;
    let refused = ws_other.until("error", |v| v["type"] == "error").await;
    assert_eq!(refused["code"], "not_found");

    // An internal note, then a public reply.
    let path = format!("/api/tickets/{tid}/messages");
    app.post(
        &path,
        Some(&agent.token),
        &json!({"body": "secret note", "internal": true}),
    )
    .await
    .assert_ok(201);
    app.post(&path, Some(&agent.token), &json!({"body": "public reply"}))
        .await
        .assert_ok(201);
    let note = ws_agent.event("new-message").await;
    assert_eq!(note["data"]["message"]["internal"], true);
    let reply = ws_alice.event("new-message").await;
    // Events arrive in seq order, so had the note reached Alice it would have come first.
    assert_eq!(reply["data"]["message"]["body"], "public reply");
    ws_admin
        .until("note", |v| {
            v["event"] == "new-message" && v["data"]["message"]["internal"] == true
        })
        .await;

    // Sentinel: once Bob sees his own ticket's event, everything before it was dispatched.
    new_ticket(&app, &bob, "Bob's own").await;
    ws_bob.event("new-ticket").await;
    for (who, ws) in [("alice", &ws_alice), ("bob", &ws_bob)] {
        let leaked: Vec<&Value> = ws
            .received
            .iter()
            .filter(|v| v.to_string().contains("secret note"))
            .collect();
        assert!(leaked.is_empty(), "{who} received an internal note");
    }
    let bob_tickets: Vec<String> = ws_bob
        .received
        .iter()
        .filter(|v| v["type"] == "event")
        .filter_map(|v| v["data"]["ticket"]["id"].as_str().map(str::to_owned))
        .collect();
    assert!(!bob_tickets.contains(&tid), "Bob saw Alice's ticket");
    // The other agent saw the new ticket (queue) but nothing after it was taken.
    ws_other.send(json!({"type": "ping", "id": "sync"})).await;
    ws_other.until("pong", |v| v["type"] == "pong").await;
    assert!(ws_other.events("new-message").is_empty());
    for ws in [ws_alice, ws_bob, ws_agent, ws_other, ws_admin] {
        ws.close().await;
    }
}

async fn reassignment_removes_other_agents_from_the_ticket_room(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let taker = app.user(Role::Agent).await;
    let watcher = app.user(Role::Agent).await;
    let t = new_ticket(&app, &customer, "Queued").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    // While it is in the queue every agent may follow it.
    let (mut ws_watcher, _) = Ws::signed_in(&app, &watcher.token).await;
    ws_watcher
        .send(json!({"type": "join-ticket-room", "id": "j", "ticket_id": tid}))
        .await;
    ws_watcher
        .until("ack", |v| v["type"] == "ack" && v["id"] == "j")
        .await;

    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&taker.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let path = format!("/api/tickets/{tid}/messages");
    app.post(
        &path,
        Some(&taker.token),
        &json!({"body": "private plan", "internal": true}),
    )
    .await
    .assert_ok(201);
    app.post(&path, Some(&taker.token), &json!({"body": "hello"}))
        .await
        .assert_ok(201);
    // Sentinel: a new queue ticket reaches every agent after everything above.
    new_ticket(&app, &customer, "Later").await;
    ws_watcher
        .until("sentinel", |v| {
            v["event"] == "new-ticket" && v["data"]["ticket"]["subject"] == "Later"
        })
        .await;
    assert!(
        ws_watcher.events("new-message").is_empty(),
        "an agent who may no longer see the ticket still got its messages"
    );
    ws_watcher.close().await;
}

async fn resume_replays_missed_events_in_order(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let (mut ws, welcome) = Ws::signed_in(&app, &customer.token).await;
    let start = welcome["last_seq"].as_i64().unwrap();
    let t = new_ticket(&app, &customer, "Resume me").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let first = ws.event("new-ticket").await;
    let seen = first["seq"].as_i64().unwrap();
    assert!(seen > start);
    ws.close().await;

    // While the customer is away: an assignment, two replies and a status change.
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    for body in ["first answer", "second answer"] {
        app.post(
            &format!("/api/tickets/{tid}/messages"),
            Some(&agent.token),
            &json!({"body": body}),
        )
        .await
        .assert_ok(201);
    }
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&agent.token),
        &json!({"status": "pending"}),
    )
    .await
    .assert_ok(200);

    // Reconnect asking for everything after the last seen seq.
    let mut back = Ws::connect(&app, &format!("token={}&after_seq={seen}", customer.token)).await;
    assert_eq!(back.next(WAIT).await.unwrap()["type"], "welcome");
    let mut replayed = Vec::new();
    while replayed.len() < 6 {
        let v = back.next(WAIT).await.expect("replayed event");
        if v["type"] == "event" {
            replayed.push(v);
        }
    }
    let seqs: Vec<i64> = replayed
        .iter()
        .map(|v| v["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    assert!(seqs[0] > seen);
    let names: Vec<&str> = replayed
        .iter()
        .map(|v| v["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ticket-assigned",
            "new-message",
            "ticket-updated",
            "new-message",
            "ticket-updated",
            "ticket-updated"
        ],
    );
    assert_eq!(replayed[1]["data"]["message"]["body"], "first answer");

    // Live events continue after the replay, without duplicates.
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&customer.token),
        &json!({"body": "thanks"}),
    )
    .await
    .assert_ok(201);
    let live = back.event("new-message").await;
    assert!(live["seq"].as_i64().unwrap() > *seqs.last().unwrap());
    let mut all: Vec<i64> = back
        .received
        .iter()
        .filter_map(|v| v["seq"].as_i64())
        .collect();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "no duplicates");

    // The `resume` command on an open socket does the same, and acks.
    back.send(json!({"type": "resume", "id": "r", "after_seq": seen}))
        .await;
    back.until("ack", |v| v["type"] == "ack" && v["id"] == "r")
        .await;
    back.close().await;

    // Beyond the retention window: resync.
    events::prune(&app.db, chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    new_ticket(&app, &customer, "after pruning").await;
    let mut stale = Ws::connect(&app, &format!("token={}&after_seq={start}", customer.token)).await;
    stale.next(WAIT).await.unwrap();
    let resync = stale.until("resync", |v| v["type"] == "resync").await;
    assert!(resync["last_seq"].as_i64().unwrap() > seen);
    stale.close().await;
}

async fn slow_clients_do_not_hold_up_others(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    let t = new_ticket(&app, &customer, "Very chatty").await;
    let tid = t["id"].as_str().unwrap().to_owned();

    // The slow admin connects and then never reads; the fast one reads everything.
    let (slow, _) = Ws::signed_in_slow(&app, &admin.token).await;
    let (mut fast, _) = Ws::signed_in(&app, &admin.token).await;
    // About 8 MB in all: far more than the socket buffers and the session queue hold.
    let n = 700;
    // The fast client reads while the messages are written.
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < n {
            let v = fast
                .next(WAIT)
                .await
                .expect("the fast client keeps receiving");
            assert_ne!(
                v["type"], "resync",
                "the fast client must never fall behind"
            );
            if v["event"] == "new-message" {
                got += 1;
            }
        }
        fast
    });
    let body = "x".repeat(9_990);
    for i in 0..n {
        app.post(
            &format!("/api/tickets/{tid}/messages"),
            Some(&customer.token),
            &json!({"body": format!("{i} {body}")}),
        )
        .await
        .assert_ok(201);
    }
    let fast = reader.await.expect("fast reader");
    // The slow client, once it reads again, is told to resync rather than fed forever.
    let mut slow = slow;
    let resync = slow.until("resync", |v| v["type"] == "resync").await;
    assert!(resync["last_seq"].as_i64().is_some());
    let counts: HashMap<&str, usize> = slow
        .received
        .iter()
        .filter_map(|v| v["event"].as_str())
        .fold(HashMap::new(), |mut m, e| {
            *m.entry(e).or_default() += 1;
            m
        });
    assert!(
        counts.get("new-message").copied().unwrap_or(0) < n,
        "{counts:?}"
    );
    slow.close().await;
    fast.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_server_instances_on_postgres() {
    let Some(mut a) = crate::helpers::spawn_app(Backend::Postgres).await else {
        return;
    };
    let cleanup = a.take_cleanup();
    // A second instance on the same database.
    let overrides = Overrides {
        vars: HashMap::from([("DATABASE_URL", a.db_url.clone())]),
    };
    let mut b = spawn_app_with(Backend::Postgres, overrides).await.unwrap();
    let cleanup_b = b.take_cleanup();
    let customer = a.user(Role::Customer).await;
    let admin = a.user(Role::Admin).await;
    let (mut on_b, _) = Ws::signed_in(&b, &admin.token).await;
    let t = new_ticket(&a, &customer, "Made on instance A").await;
    let e = on_b.event("new-ticket").await;
    assert_eq!(e["data"]["ticket"]["id"], t["id"]);
    on_b.close().await;
    cleanup_b.run().await;
    cleanup.run().await;
}
