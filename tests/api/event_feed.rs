//! `GET /api/events`: the WebSocket's events as a feed to poll — the same frames a socket of
//! the caller receives, only what the caller may see, in `seq` order, paged by
//! `next_after_seq`, and `reset` for positions the log no longer keeps.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use shared::Role;

use crate::{
    helpers::{TestApp, TestUser},
    ws_client::Ws,
};

crate::db_tests!(
    customers_see_only_their_public_events,
    the_feed_is_what_a_websocket_receives,
    pages_follow_the_stream_in_order,
    pruned_positions_answer_reset,
);

async fn feed(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let resp = app
        .get(&format!("/api/events?{query}"), Some(&user.token))
        .await;
    resp.assert_ok(200).clone()
}

fn events(page: &Value) -> Vec<Value> {
    page["events"].as_array().unwrap().clone()
}

/// The ticket an event is about, if any.
fn ticket_of(e: &Value) -> Option<String> {
    let data = &e["data"];
    data["ticket"]["id"]
        .as_str()
        .or_else(|| data["message"]["ticket_id"].as_str())
        .map(str::to_owned)
}

async fn customers_see_only_their_public_events(app: TestApp) {
    let a = app.user(Role::Customer).await;
    let b = app.user(Role::Customer).await;
    let x = app.user(Role::Agent).await;
    let y = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let mine = app.ticket(&a.token, "A's problem").await;
    let theirs = app.ticket(&b.token, "B's problem").await;
    let mine_id = mine["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/tickets/{mine_id}/assign"),
        Some(&admin.token),
        &json!({"agent_id": x.id}),
    )
    .await
    .assert_ok(200);
    let path = format!("/api/tickets/{mine_id}/messages");
    app.post(
        &path,
        Some(&x.token),
        &json!({"body": "internal: refund?", "internal": true}),
    )
    .await
    .assert_ok(201);
    app.post(&path, Some(&x.token), &json!({"body": "We are on it."}))
        .await
        .assert_ok(201);

    let for_a = events(&feed(&app, &a, "").await);
    assert!(!for_a.is_empty());
    for e in &for_a {
        assert_eq!(e["type"], "event");
        assert_eq!(ticket_of(e).as_deref(), Some(mine_id.as_str()), "{e}");
        assert_ne!(e["data"]["message"]["internal"], json!(true), "{e}");
        // The customer's copy of a ticket carries no SLA internals.
        assert!(e["data"]["ticket"].get("sla_alert_at").is_none(), "{e}");
    }
    assert!(
        for_a
            .iter()
            .any(|e| e["data"]["message"]["body"] == "We are on it.")
    );
    let for_b = events(&feed(&app, &b, "").await);
    assert!(
        for_b
            .iter()
            .all(|e| ticket_of(e).as_deref() == theirs["id"].as_str()),
        "{for_b:?}"
    );

    // Admins see everything, the internal note included.
    let for_admin = events(&feed(&app, &admin, "").await);
    assert!(
        for_admin
            .iter()
            .any(|e| e["data"]["message"]["internal"] == true)
    );
    assert!(
        for_admin
            .iter()
            .any(|e| ticket_of(e).as_deref() == theirs["id"].as_str())
    );
    // The assignee sees the note; another agent sees nothing more of the ticket than the
    // assignment that took it out of the queue.
    let for_x = events(&feed(&app, &x, "").await);
    assert!(
        for_x
            .iter()
            .any(|e| e["data"]["message"]["internal"] == true)
    );
    let for_y = events(&feed(&app, &y, "").await);
    for e in &for_y {
        if ticket_of(e).as_deref() == Some(mine_id.as_str()) {
            assert_eq!(e["event"], "ticket-assigned", "{e}");
        }
    }
    assert!(
        for_y
            .iter()
            .any(|e| ticket_of(e).as_deref() == theirs["id"].as_str())
    );

    // Bad parameters are 400s.
    for q in [
        "limit=0",
        "limit=1001",
        "after_seq=-1",
        "after_seq=x",
        "nope=1",
    ] {
        app.get(&format!("/api/events?{q}"), Some(&a.token))
            .await
            .assert_error(400, "invalid_query");
    }
    app.get("/api/events", None)
        .await
        .assert_error(401, "unauthorized");
}

async fn the_feed_is_what_a_websocket_receives(app: TestApp) {
    let a = app.user(Role::Customer).await;
    let b = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let (mut ws_a, welcome_a) = Ws::signed_in(&app, &a.token).await;
    let (mut ws_admin, welcome_admin) = Ws::signed_in(&app, &admin.token).await;

    let mine = app.ticket(&a.token, "Live one").await;
    app.ticket(&b.token, "Someone else's").await;
    let id = mine["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{id}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    let path = format!("/api/tickets/{id}/messages");
    app.post(
        &path,
        Some(&agent.token),
        &json!({"body": "note", "internal": true}),
    )
    .await
    .assert_ok(201);
    app.post(&path, Some(&a.token), &json!({"body": "the last one"}))
        .await
        .assert_ok(201);

    for (ws, welcome, user) in [
        (&mut ws_a, &welcome_a, &a),
        (&mut ws_admin, &welcome_admin, &admin),
    ] {
        let marker = ws
            .until("the last message", |v| {
                v["event"] == "new-message" && v["data"]["message"]["body"] == "the last one"
            })
            .await;
        let upto = marker["seq"].as_i64().unwrap();
        let until_marker = |v: &Value| v["seq"].as_i64().is_some_and(|s| s <= upto);
        let live: Vec<Value> = ws
            .received
            .iter()
            .filter(|v| v["type"] == "event" && until_marker(v))
            .cloned()
            .collect();
        let since = welcome["last_seq"].as_i64().unwrap();
        let page = feed(&app, user, &format!("after_seq={since}&limit=1000")).await;
        let listed: Vec<Value> = events(&page).into_iter().filter(until_marker).collect();
        assert_eq!(listed, live, "feed and socket differ");
        assert!(live.len() >= 3, "{live:?}");
        assert_eq!(page["reset"], false);
    }
    ws_a.close().await;
    ws_admin.close().await;
}

async fn pages_follow_the_stream_in_order(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    for i in 0..4 {
        let t = app.ticket(&customer.token, &format!("Ticket {i}")).await;
        app.post(
            &format!("/api/tickets/{}/messages", t["id"].as_str().unwrap()),
            Some(&customer.token),
            &json!({"body": format!("more about {i}")}),
        )
        .await
        .assert_ok(201);
    }
    for user in [&customer, &admin] {
        let all = events(&feed(&app, user, "limit=1000").await);
        let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert!(seqs.len() >= 8, "{seqs:?}");
        // Paged by three, the same events, each once.
        let mut paged = Vec::new();
        let mut after = 0;
        loop {
            let page = feed(&app, user, &format!("after_seq={after}&limit=3")).await;
            let got = events(&page);
            assert!(got.len() <= 3);
            paged.extend(got);
            let next = page["next_after_seq"].as_i64().unwrap();
            assert!(next >= after);
            after = next;
            if page["has_more"] == false {
                break;
            }
        }
        assert_eq!(paged, all);
        let unique: HashSet<i64> = paged.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(unique.len(), paged.len());
        // Caught up: nothing new, and the position stays.
        let page = feed(&app, user, &format!("after_seq={after}")).await;
        assert!(events(&page).is_empty());
        assert_eq!(page["next_after_seq"], json!(after));
    }
}

async fn pruned_positions_answer_reset(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    for i in 0..3 {
        app.ticket(&customer.token, &format!("Old {i}")).await;
    }
    // Everything so far falls out of the retention window.
    server::services::events::prune(&app.db, Utc::now() + Duration::minutes(1))
        .await
        .unwrap();
    let fresh = app.ticket(&customer.token, "New").await;
    let page = feed(&app, &customer, "after_seq=1").await;
    assert_eq!(page["reset"], true, "{page}");
    assert!(events(&page).is_empty());
    assert!(page["reason"].as_str().is_some());
    let end = page["next_after_seq"].as_i64().unwrap();
    // From the start of what is kept, the new ticket is there.
    let from_start = events(&feed(&app, &customer, "after_seq=0").await);
    assert!(
        from_start
            .iter()
            .any(|e| ticket_of(e).as_deref() == fresh["id"].as_str())
    );
    assert!(from_start.last().unwrap()["seq"].as_i64().unwrap() <= end);
    // Continuing from the end given is no reset.
    let continued = feed(&app, &customer, &format!("after_seq={end}")).await;
    assert_eq!(continued["reset"], false);
    assert!(events(&continued).is_empty());
    // A position past the end of the stream cannot be continued either.
    let ahead = feed(&app, &customer, &format!("after_seq={}", end + 100)).await;
    assert_eq!(ahead["reset"], true);
    assert_eq!(ahead["next_after_seq"], json!(end));
}
