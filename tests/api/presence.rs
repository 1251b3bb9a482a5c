//! Presence over the WebSocket: staff on a ticket see who else is viewing it and who is typing,
//! live; it ends with the socket; customers never get it and cannot send it; only staff who may
//! see the ticket take part; floods are refused; and it reaches other server instances on
//! PostgreSQL.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};
use shared::Role;

use crate::{
    helpers::{Backend, Overrides, TestApp, TestUser, spawn_app_with},
    ws_client::Ws,
};

crate::db_tests!(
    two_agents_see_each_other_viewing_and_typing,
    presence_ends_when_a_socket_drops_or_leaves,
    customers_neither_receive_nor_send_presence,
    only_staff_who_may_see_the_ticket_take_part,
    floods_are_refused_and_never_amplified,
);

/// An unassigned ticket (visible to every agent) and its id.
async fn open_ticket(app: &TestApp) -> (TestUser, String) {
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Printer on fire").await;
    (customer, t["id"].as_str().unwrap().to_owned())
}

/// Sends a command with `id` and returns its `ack` or `error`.
async fn command(ws: &mut Ws, id: &str, mut msg: Value) -> Value {
    msg["id"] = json!(id);
    ws.send(msg).await;
    ws.until(&format!("the answer to {id}"), |v| {
        (v["type"] == "ack" || v["type"] == "error") && v["id"] == id
    })
    .await
}

async fn join(ws: &mut Ws, id: &str, ticket: &str) -> Value {
    command(
        ws,
        id,
        json!({"type": "join-ticket-room", "ticket_id": ticket}),
    )
    .await
}

async fn announce(ws: &mut Ws, id: &str, ticket: &str, activity: &str) -> Value {
    command(
        ws,
        id,
        json!({"type": "presence", "ticket_id": ticket, "activity": activity}),
    )
    .await
}

/// Who a presence message lists: `(user_id, typing)`, in its order.
fn listed(msg: &Value) -> Vec<(String, bool)> {
    msg["here"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["user_id"].as_str().unwrap().to_owned(),
                u["typing"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Waits for a presence message about `ticket` for which `pred` holds.
async fn presence_until(
    ws: &mut Ws,
    ticket: &str,
    what: &str,
    pred: impl Fn(&[(String, bool)]) -> bool,
) -> Value {
    ws.until(what, |v| {
        v["type"] == "presence" && v["ticket_id"] == ticket && pred(&listed(v))
    })
    .await
}

/// The next presence message about `ticket`, whatever it says.
async fn next_presence(ws: &mut Ws, ticket: &str) -> Value {
    presence_until(ws, ticket, "a presence message", |_| true).await
}

fn has(list: &[(String, bool)], user: &TestUser, typing: bool) -> bool {
    list.iter().any(|(id, t)| *id == user.id && *t == typing)
}

fn lacks(list: &[(String, bool)], user: &TestUser) -> bool {
    list.iter().all(|(id, _)| *id != user.id)
}

async fn two_agents_see_each_other_viewing_and_typing(app: TestApp) {
    let (_, ticket) = open_ticket(&app).await;
    let ana = app.user(Role::Agent).await;
    let ben = app.user(Role::Agent).await;
    let (mut ws_ana, _) = Ws::signed_in(&app, &ana.token).await;
    let (mut ws_ben, _) = Ws::signed_in(&app, &ben.token).await;
    assert_eq!(join(&mut ws_ana, "j", &ticket).await["type"], "ack");
    assert_eq!(join(&mut ws_ben, "j", &ticket).await["type"], "ack");

    assert_eq!(
        announce(&mut ws_ana, "a1", &ticket, "viewing").await["type"],
        "ack"
    );
    let first = next_presence(&mut ws_ana, &ticket).await;
    assert_eq!(listed(&first), vec![(ana.id.clone(), false)]);
    assert!(
        first["here"][0]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    announce(&mut ws_ben, "b1", &ticket, "viewing").await;
    for ws in [&mut ws_ana, &mut ws_ben] {
        presence_until(ws, &ticket, "both viewing", |l| {
            l.len() == 2 && has(l, &ana, false) && has(l, &ben, false)
        })
        .await;
    }

    // A heartbeat changes nothing, so nobody hears of it: the next message Ana gets is Ben
    // starting to type.
    announce(&mut ws_ben, "b2", &ticket, "viewing").await;
    announce(&mut ws_ben, "b3", &ticket, "typing").await;
    let typing = next_presence(&mut ws_ana, &ticket).await;
    assert!(has(&listed(&typing), &ben, true), "{typing}");
    assert!(has(&listed(&typing), &ana, false), "{typing}");
    // More keystrokes while typing are not repeated either; typing ends a few seconds after
    // the last one, while viewing goes on.
    announce(&mut ws_ben, "b4", &ticket, "typing").await;
    let stopped = next_presence(&mut ws_ana, &ticket).await;
    assert_eq!(listed(&stopped).len(), 2, "{stopped}");
    assert!(has(&listed(&stopped), &ben, false), "{stopped}");
    presence_until(&mut ws_ben, &ticket, "Ben's typing ended", |l| {
        has(l, &ben, false)
    })
    .await;

    ws_ana.close().await;
    ws_ben.close().await;
}

async fn presence_ends_when_a_socket_drops_or_leaves(app: TestApp) {
    let (_, ticket) = open_ticket(&app).await;
    let ana = app.user(Role::Agent).await;
    let ben = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let (mut ws_ana, _) = Ws::signed_in(&app, &ana.token).await;
    let (mut ws_ben, _) = Ws::signed_in(&app, &ben.token).await;
    let (mut ws_admin, _) = Ws::signed_in(&app, &admin.token).await;
    for ws in [&mut ws_ana, &mut ws_ben, &mut ws_admin] {
        join(ws, "j", &ticket).await;
    }
    announce(&mut ws_ana, "a", &ticket, "viewing").await;
    announce(&mut ws_ben, "b", &ticket, "typing").await;
    announce(&mut ws_admin, "c", &ticket, "viewing").await;
    presence_until(&mut ws_ana, &ticket, "all three", |l| l.len() == 3).await;

    // Ben's connection drops while he types: gone at once, not after his typing runs out.
    drop(ws_ben);
    let after_drop = presence_until(&mut ws_ana, &ticket, "Ben gone", |l| lacks(l, &ben)).await;
    assert_eq!(listed(&after_drop).len(), 2, "{after_drop}");

    // The admin leaves the room: gone as well.
    assert_eq!(
        command(
            &mut ws_admin,
            "l",
            json!({"type": "leave-ticket-room", "ticket_id": ticket})
        )
        .await["type"],
        "ack"
    );
    presence_until(&mut ws_ana, &ticket, "the admin gone", |l| {
        lacks(l, &admin) && l.len() == 1
    })
    .await;

    // Saying so works too; the admin comes back, then Ana says she left.
    join(&mut ws_admin, "j2", &ticket).await;
    announce(&mut ws_admin, "c2", &ticket, "viewing").await;
    presence_until(&mut ws_admin, &ticket, "Ana and the admin", |l| {
        l.len() == 2
    })
    .await;
    announce(&mut ws_ana, "a2", &ticket, "left").await;
    let alone = presence_until(&mut ws_admin, &ticket, "Ana gone", |l| lacks(l, &ana)).await;
    assert_eq!(listed(&alone), vec![(admin.id.clone(), false)]);
    ws_ana.close().await;

    // A clean close ends it too: the admin's socket closes, a new agent finds nobody else.
    ws_admin.close().await;
    let cara = app.user(Role::Agent).await;
    let (mut ws_cara, _) = Ws::signed_in(&app, &cara.token).await;
    join(&mut ws_cara, "j", &ticket).await;
    announce(&mut ws_cara, "x", &ticket, "viewing").await;
    // Cara hears of changes only: if the admin were never cleared she would see them listed
    // and then nothing more.
    presence_until(&mut ws_cara, &ticket, "Cara alone", |l| {
        l == [(cara.id.clone(), false)]
    })
    .await;
    ws_cara.close().await;
}

async fn customers_neither_receive_nor_send_presence(app: TestApp) {
    let (customer, ticket) = open_ticket(&app).await;
    let ana = app.user(Role::Agent).await;
    let (mut ws_customer, _) = Ws::signed_in(&app, &customer.token).await;
    let (mut ws_ana, _) = Ws::signed_in(&app, &ana.token).await;
    assert_eq!(join(&mut ws_customer, "j", &ticket).await["type"], "ack");
    join(&mut ws_ana, "j", &ticket).await;

    // The customer cannot announce anything, not even on their own ticket.
    for activity in ["viewing", "typing", "left"] {
        let refused = announce(&mut ws_customer, activity, &ticket, activity).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["code"], "forbidden", "{refused}");
    }

    announce(&mut ws_ana, "a", &ticket, "viewing").await;
    announce(&mut ws_ana, "b", &ticket, "typing").await;
    next_presence(&mut ws_ana, &ticket).await;
    // Ana replies: the message reaches the customer through the same queue after anything
    // the hub would have sent them about Ana's presence.
    app.post(
        &format!("/api/tickets/{ticket}/messages"),
        Some(&ana.token),
        &json!({"body": "Looking into it."}),
    )
    .await
    .assert_ok(201);
    ws_customer.event("new-message").await;
    assert!(
        ws_customer.received.iter().all(|v| v["type"] != "presence"),
        "{:?}",
        ws_customer.received
    );
    // And the customer is never listed to staff.
    assert!(
        ws_ana
            .received
            .iter()
            .filter(|v| v["type"] == "presence")
            .all(|v| lacks(&listed(v), &customer))
    );
    ws_customer.close().await;
    ws_ana.close().await;
}

async fn only_staff_who_may_see_the_ticket_take_part(app: TestApp) {
    let (_, ticket) = open_ticket(&app).await;
    let ana = app.user(Role::Agent).await;
    let ben = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let (mut ws_ana, _) = Ws::signed_in(&app, &ana.token).await;
    let (mut ws_ben, _) = Ws::signed_in(&app, &ben.token).await;
    let (mut ws_admin, _) = Ws::signed_in(&app, &admin.token).await;

    // Without joining the room (the access check) nobody announces.
    let refused = announce(&mut ws_ana, "a0", &ticket, "viewing").await;
    assert_eq!(
        (refused["type"].clone(), refused["code"].clone()),
        (json!("error"), json!("not_found"))
    );
    // A ticket that does not exist: the same.
    let nowhere = uuid::Uuid::new_v4().to_string();
    assert_eq!(join(&mut ws_ana, "j0", &nowhere).await["code"], "not_found");
    assert_eq!(
        announce(&mut ws_ana, "a00", &nowhere, "typing").await["code"],
        "not_found"
    );

    for ws in [&mut ws_ana, &mut ws_ben, &mut ws_admin] {
        join(ws, "j", &ticket).await;
    }
    announce(&mut ws_ana, "a", &ticket, "viewing").await;
    announce(&mut ws_ben, "b", &ticket, "typing").await;
    announce(&mut ws_admin, "c", &ticket, "viewing").await;
    for ws in [&mut ws_ana, &mut ws_admin] {
        presence_until(ws, &ticket, "all three", |l| l.len() == 3).await;
    }

    // Ana takes the ticket: Ben may no longer see it, so he is off it at once and can
    // neither announce nor hear anything more about it.
    app.post(
        &format!("/api/tickets/{ticket}/take"),
        Some(&ana.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let after = presence_until(&mut ws_admin, &ticket, "Ben gone", |l| lacks(l, &ben)).await;
    assert_eq!(listed(&after).len(), 2, "{after}");
    ws_ben.event("ticket-assigned").await;
    let refused = announce(&mut ws_ben, "b2", &ticket, "typing").await;
    assert_eq!(refused["code"], "not_found", "{refused}");
    assert_eq!(join(&mut ws_ben, "j2", &ticket).await["code"], "not_found");
    // Ana types; the admin hears of it. Then a new ticket reaches Ben through the same queue
    // after anything the hub would have sent him about Ana typing: there was nothing.
    announce(&mut ws_ana, "a2", &ticket, "typing").await;
    presence_until(&mut ws_admin, &ticket, "Ana typing", |l| has(l, &ana, true)).await;
    let (_, second) = open_ticket(&app).await;
    ws_ben
        .until("the new ticket", |v| {
            v["type"] == "event" && v["data"]["ticket"]["id"] == second.as_str()
        })
        .await;
    assert!(
        ws_ben
            .received
            .iter()
            .filter(|v| v["type"] == "presence")
            .all(|v| !has(&listed(v), &ana, true)),
        "Ben heard of a ticket he may not see"
    );
    ws_ana.close().await;
    ws_ben.close().await;
    ws_admin.close().await;
}

/// Sends presence messages until one is not refused for the message rate (the one-second
/// window has passed), and returns that answer.
async fn announce_past_the_rate(ws: &mut Ws, id: &str, ticket: &str, activity: &str) -> Value {
    for attempt in 0..50 {
        let answer = announce(ws, &format!("{id}-{attempt}"), ticket, activity).await;
        if answer["code"] != "rate_limited" || answer["details"]["limit"].is_null() {
            return answer;
        }
        // The limit is per second: wait for the window to pass.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the message rate never allowed another message");
}

async fn floods_are_refused_and_never_amplified(app: TestApp) {
    let (_, ticket) = open_ticket(&app).await;
    let ana = app.user(Role::Agent).await;
    let ben = app.user(Role::Agent).await;
    let (mut ws_ana, _) = Ws::signed_in(&app, &ana.token).await;
    let (mut ws_ben, _) = Ws::signed_in(&app, &ben.token).await;
    join(&mut ws_ana, "j", &ticket).await;
    join(&mut ws_ben, "j", &ticket).await;
    announce_past_the_rate(&mut ws_ben, "b", &ticket, "viewing").await;
    next_presence(&mut ws_ben, &ticket).await;

    // Ana fires 40 typing signals at once: each gets exactly one answer, some are refused
    // for the rate, and Ben hears once that she is here typing.
    let n = 40;
    for i in 0..n {
        ws_ana
            .send(json!({"type": "presence", "id": format!("f{i}"), "ticket_id": ticket, "activity": "typing"}))
            .await;
    }
    let mut answers = HashMap::new();
    while answers.len() < n {
        let v = ws_ana
            .until("answers to the burst", |v| {
                (v["type"] == "ack" || v["type"] == "error")
                    && v["id"].as_str().is_some_and(|id| id.starts_with('f'))
            })
            .await;
        let previous = answers.insert(v["id"].as_str().unwrap().to_owned(), v.clone());
        assert!(previous.is_none(), "answered twice: {v}");
    }
    let refused: Vec<&Value> = answers.values().filter(|v| v["type"] == "error").collect();
    assert!(!refused.is_empty(), "a burst of {n} was never limited");
    assert!(refused.iter().all(|v| v["code"] == "rate_limited"));
    let accepted = n - refused.len();
    assert!(accepted >= 1);
    // Ben: one message for Ana arriving and typing; the next one is her typing ending (a
    // heartbeat of Ben's own arriving first would change nothing and send nothing).
    let arrived = next_presence(&mut ws_ben, &ticket).await;
    assert!(has(&listed(&arrived), &ana, true), "{arrived}");
    let next = next_presence(&mut ws_ben, &ticket).await;
    assert!(has(&listed(&next), &ana, false), "{next}");

    // One socket is present on at most 10 tickets at once.
    let mut tickets = vec![ticket.clone()];
    for i in 0..10 {
        let (_, t) = open_ticket(&app).await;
        assert_eq!(
            join(&mut ws_ana, &format!("jt{i}"), &t).await["type"],
            "ack"
        );
        tickets.push(t);
    }
    for (i, t) in tickets.iter().take(10).enumerate() {
        let ok = announce_past_the_rate(&mut ws_ana, &format!("v{i}"), t, "viewing").await;
        assert_eq!(ok["type"], "ack", "{ok}");
    }
    let eleventh = announce_past_the_rate(&mut ws_ana, "v10", &tickets[10], "viewing").await;
    assert_eq!(eleventh["code"], "rate_limited", "{eleventh}");
    assert_eq!(eleventh["details"]["max_tickets"], 10, "{eleventh}");
    // Leaving one makes room.
    announce_past_the_rate(&mut ws_ana, "l", &tickets[0], "left").await;
    let ok = announce_past_the_rate(&mut ws_ana, "v11", &tickets[10], "viewing").await;
    assert_eq!(ok["type"], "ack", "{ok}");
    ws_ana.close().await;
    ws_ben.close().await;
}

/// Two server instances on one PostgreSQL database: agents connected to different instances
/// see each other, typing included, and a dropped socket on one instance ends its presence on
/// the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_server_instances_on_postgres() {
    let Some(mut a) = crate::helpers::spawn_app(Backend::Postgres).await else {
        return;
    };
    let cleanup = a.take_cleanup();
    let overrides = Overrides {
        vars: HashMap::from([("DATABASE_URL", a.db_url.clone())]),
    };
    let mut b = spawn_app_with(Backend::Postgres, overrides).await.unwrap();
    let cleanup_b = b.take_cleanup();
    let (_, ticket) = open_ticket(&a).await;
    let ana = a.user(Role::Agent).await;
    let ben = a.user(Role::Agent).await;
    let (mut on_a, _) = Ws::signed_in(&a, &ana.token).await;
    let (mut on_b, _) = Ws::signed_in(&b, &ben.token).await;
    join(&mut on_a, "j", &ticket).await;
    join(&mut on_b, "j", &ticket).await;
    announce(&mut on_a, "a", &ticket, "viewing").await;
    announce(&mut on_b, "b", &ticket, "viewing").await;
    for ws in [&mut on_a, &mut on_b] {
        presence_until(ws, &ticket, "both, across instances", |l| {
            has(l, &ana, false) && has(l, &ben, false)
        })
        .await;
    }
    announce(&mut on_b, "b2", &ticket, "typing").await;
    presence_until(
        &mut on_a,
        &ticket,
        "Ben typing on the other instance",
        |l| has(l, &ben, true),
    )
    .await;
    drop(on_b);
    let alone = presence_until(&mut on_a, &ticket, "Ben gone", |l| lacks(l, &ben)).await;
    assert_eq!(listed(&alone), vec![(ana.id.clone(), false)]);
    on_a.close().await;
    cleanup_b.run().await;
    cleanup.run().await;
}
