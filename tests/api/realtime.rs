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
    resume_on_an_open_socket_shows_nothing_of_a_lost_ticket,
    revoking_access_closes_open_sockets,
    joining_a_room_never_outlasts_losing_the_ticket,
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

/// The admin reassigns, then the agent who lost the ticket asks for a replay on the same
/// connection: nothing of the ticket after the loss may come back that way.
async fn resume_on_an_open_socket_shows_nothing_of_a_lost_ticket(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let watcher = app.user(Role::Agent).await;
    let owner = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let t = new_ticket(&app, &customer, "Queued for a while").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let (mut ws, welcome) = Ws::signed_in(&app, &watcher.token).await;
    let before = welcome["last_seq"].as_i64().unwrap();
    ws.send(json!({"type": "join-ticket-room", "id": "j", "ticket_id": tid}))
        .await;
    ws.until("ack", |v| v["type"] == "ack" && v["id"] == "j")
        .await;

    app.post(
        &format!("/api/tickets/{tid}/assign"),
        Some(&admin.token),
        &json!({"agent_id": owner.id}),
    )
    .await
    .assert_ok(200);
    let path = format!("/api/tickets/{tid}/messages");
    app.post(
        &path,
        Some(&owner.token),
        &json!({"body": "internal plan", "internal": true}),
    )
    .await
    .assert_ok(201);
    app.post(&path, Some(&owner.token), &json!({"body": "public answer"}))
        .await
        .assert_ok(201);
    // The watcher hears of the loss itself (it was theirs to see until then).
    let lost = ws.event("ticket-assigned").await;
    assert_eq!(lost["data"]["agent_id"], owner.id.as_str());

    // Replays on the open socket, from before the join and from right before the loss.
    let at_loss = lost["seq"].as_i64().unwrap() - 1;
    for (id, after) in [("r1", before), ("r2", at_loss)] {
        ws.send(json!({"type": "resume", "id": id, "after_seq": after}))
            .await;
        ws.until("ack", |v| v["type"] == "ack" && v["id"] == id)
            .await;
    }
    // Sentinel: a queue ticket after everything above.
    new_ticket(&app, &customer, "Sentinel").await;
    ws.until("sentinel", |v| {
        v["event"] == "new-ticket" && v["data"]["ticket"]["subject"] == "Sentinel"
    })
    .await;
    let leaked: Vec<&Value> = ws
        .received
        .iter()
        .filter(|v| v["type"] == "event")
        .filter(|v| {
            v["data"]["message"]["ticket_id"] == tid.as_str()
                || (v["data"]["ticket"]["id"] == tid.as_str()
                    && v["event"] != "ticket-assigned"
                    && v["event"] != "new-ticket")
        })
        .collect();
    assert!(leaked.is_empty(), "the lost ticket leaked: {leaked:?}");
    ws.close().await;

    // A fresh connection resuming from the same point gets the same: nothing of the ticket.
    let mut fresh = Ws::connect(&app, &format!("token={}&after_seq={before}", watcher.token)).await;
    fresh.next(WAIT).await.unwrap();
    fresh.send(json!({"type": "ping", "id": "sync"})).await;
    fresh.until("pong", |v| v["type"] == "pong").await;
    assert!(fresh.events("new-message").is_empty());
    fresh.close().await;
}

/// Waits until the server closes `ws` for a revocation; returns what it sent before.
async fn closed_for_revocation(ws: &mut Ws, reason: &str) {
    let err = ws.until("access_revoked", |v| v["type"] == "error").await;
    assert_eq!(err["code"], "access_revoked", "{err}");
    assert!(ws.next(Duration::from_secs(5)).await.is_none(), "closes");
    let (code, text) = ws.close_frame.clone().expect("a close frame");
    assert_eq!(code, 1008);
    assert!(text.contains(reason), "{text}");
}

/// Deactivation, a role change, a password change and signing out everywhere each close the
/// user's open sockets at that point of the stream, and the old token cannot reconnect.
async fn revoking_access_closes_open_sockets(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let deactivated = app.user(Role::Agent).await;
    let demoted = app.user(Role::Agent).await;
    let changer = app.user(Role::Agent).await;
    let leaver = app.user(Role::Agent).await;
    let bystander = app.user(Role::Agent).await;
    let (mut ws_deactivated, _) = Ws::signed_in(&app, &deactivated.token).await;
    let (mut ws_demoted, _) = Ws::signed_in(&app, &demoted.token).await;
    let (mut ws_changer, _) = Ws::signed_in(&app, &changer.token).await;
    let (mut ws_changer_2, _) = Ws::signed_in(&app, &changer.token).await;
    let (mut ws_leaver, _) = Ws::signed_in(&app, &leaver.token).await;
    let (mut ws_bystander, _) = Ws::signed_in(&app, &bystander.token).await;

    app.patch(
        &format!("/api/users/{}", deactivated.id),
        Some(&admin.token),
        &json!({"active": false}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/users/{}", demoted.id),
        Some(&admin.token),
        &json!({"role": "customer"}),
    )
    .await
    .assert_ok(200);
    let changed = app
        .put(
            "/api/auth/me",
            Some(&changer.token),
            &json!({"current_password": crate::helpers::PASSWORD,
                    "new_password": "An0ther-long-password"}),
        )
        .await;
    let new_token = changed.assert_ok(200)["token"].as_str().unwrap().to_owned();
    let out = app
        .post(
            "/api/auth/logout-everywhere",
            Some(&leaver.token),
            &json!({}),
        )
        .await;
    assert_eq!(out.status.as_u16(), 204, "{}", out.text);
    // An event every agent would see, after all four revocations.
    new_ticket(&app, &customer, "After the revocations").await;

    closed_for_revocation(&mut ws_deactivated, "deactivated").await;
    closed_for_revocation(&mut ws_demoted, "role").await;
    closed_for_revocation(&mut ws_changer, "password").await;
    closed_for_revocation(&mut ws_changer_2, "password").await;
    closed_for_revocation(&mut ws_leaver, "signed out").await;
    for ws in [&ws_deactivated, &ws_demoted, &ws_changer, &ws_leaver] {
        assert!(
            ws.events("new-ticket").is_empty(),
            "delivered after revocation"
        );
    }
    // Others are untouched and get the event.
    ws_bystander.event("new-ticket").await;
    ws_bystander.close().await;

    // Old tokens cannot reconnect; the new password's token can.
    for (token, code) in [
        (&deactivated.token, "account_disabled"),
        (&demoted.token, "invalid_token"),
        (&changer.token, "invalid_token"),
        (&leaver.token, "invalid_token"),
    ] {
        let mut again = Ws::connect(&app, &format!("token={token}")).await;
        let err = again.next(WAIT).await.expect("an error");
        assert_eq!(err["code"], code, "{err}");
    }
    let (ws, welcome) = Ws::signed_in(&app, &new_token).await;
    assert_eq!(welcome["user_id"], changer.id.as_str());
    ws.close().await;
    app.get("/api/auth/me", Some(&leaver.token))
        .await
        .assert_error(401, "invalid_token");
}

/// Agents join a queue ticket's room while an admin assigns it to someone else at the same
/// moment. Whatever the interleaving, no agent but the assignee hears its internal notes.
async fn joining_a_room_never_outlasts_losing_the_ticket(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    let owner = app.user(Role::Agent).await;
    let racers = [app.user(Role::Agent).await, app.user(Role::Agent).await];
    let mut sockets = Vec::new();
    for racer in &racers {
        sockets.push(Ws::signed_in(&app, &racer.token).await.0);
    }
    for round in 0..12 {
        let t = new_ticket(&app, &customer, &format!("Race {round}")).await;
        let tid = t["id"].as_str().unwrap().to_owned();
        let assign_path = format!("/api/tickets/{tid}/assign");
        let assign_body = json!({"agent_id": owner.id});
        let assign = app.post(&assign_path, Some(&admin.token), &assign_body);
        let joins = futures_util::future::join_all(sockets.iter_mut().map(|ws| {
            let tid = tid.clone();
            async move {
                ws.send(json!({"type": "join-ticket-room", "id": "race", "ticket_id": tid}))
                    .await;
                ws.until("join answer", |v| {
                    (v["type"] == "ack" || v["type"] == "error") && v["id"] == "race"
                })
                .await
            }
        }));
        let (assigned, _answers) = tokio::join!(assign, joins);
        assigned.assert_ok(200);
        app.post(
            &format!("/api/tickets/{tid}/messages"),
            Some(&owner.token),
            &json!({"body": format!("note {round}"), "internal": true}),
        )
        .await
        .assert_ok(201);
    }
    // Sentinel: a queue ticket reaches both racers after every note.
    new_ticket(&app, &customer, "Race over").await;
    for ws in sockets.iter_mut() {
        ws.until("sentinel", |v| {
            v["event"] == "new-ticket" && v["data"]["ticket"]["subject"] == "Race over"
        })
        .await;
        assert!(
            ws.events("new-message").is_empty(),
            "an agent kept a lost ticket's room"
        );
    }
    for ws in sockets {
        ws.close().await;
    }
}

/// A revocation made through one instance closes the user's socket on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_closes_sockets_on_other_instances_on_postgres() {
    let Some(mut a) = crate::helpers::spawn_app(Backend::Postgres).await else {
        return;
    };
    let cleanup = a.take_cleanup();
    let overrides = Overrides {
        vars: HashMap::from([("DATABASE_URL", a.db_url.clone())]),
    };
    let mut b = spawn_app_with(Backend::Postgres, overrides).await.unwrap();
    let cleanup_b = b.take_cleanup();
    let admin = a.user(Role::Admin).await;
    let agent = a.user(Role::Agent).await;
    let (mut on_b, _) = Ws::signed_in(&b, &agent.token).await;
    a.patch(
        &format!("/api/users/{}", agent.id),
        Some(&admin.token),
        &json!({"active": false}),
    )
    .await
    .assert_ok(200);
    closed_for_revocation(&mut on_b, "deactivated").await;
    cleanup_b.run().await;
    cleanup.run().await;
}
