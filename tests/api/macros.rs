//! Canned responses: placeholders checked on save, shared and personal visibility, preview,
//! and applying one (the reply plus its ticket changes).

use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{TestApp, TestUser};

crate::db_tests!(
    unknown_placeholders_are_refused_when_saving,
    shared_and_personal_macros_are_seen_by_the_right_people,
    applying_fills_in_the_ticket_and_applies_the_actions,
    a_change_the_ticket_cannot_take_sends_nothing,
);

async fn create(app: &TestApp, user: &TestUser, body: Value) -> crate::helpers::Resp {
    app.post("/api/macros", Some(&user.token), &body).await
}

/// A ticket of a new customer, assigned to `agent` (who then works it: `open`).
async fn assigned_ticket(app: &TestApp, admin: &TestUser, agent: &TestUser) -> (TestUser, Value) {
    let customer = app
        .user_with_email(
            Role::Customer,
            &format!("ada-{}@example.com", uuid::Uuid::new_v4().simple()),
        )
        .await;
    let t = app.ticket(&customer.token, "Printer on fire").await;
    let id = t["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{id}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    (customer, t)
}

async fn unknown_placeholders_are_refused_when_saving(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    for (body, needle) in [
        ("Hi {{customer.nmae}}", "{{customer.nmae}}"),
        ("Hi {{ order.id }} and {{customer.name}}", "{{order.id}}"),
        ("Hi {{customer.name", "never closed"),
        ("{{}}", "unknown placeholder"),
    ] {
        let resp = create(&app, &agent, json!({"title": "T", "body": body})).await;
        resp.assert_error(422, "validation_failed");
        let message = resp.body["details"]["fields"]["body"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let resp = create(&app, &agent, json!({"title": "  ", "body": "x"})).await;
    resp.assert_error(422, "validation_failed");
    assert!(resp.body["details"]["fields"]["title"].is_string());
    let long = "x".repeat(shared::macros::MAX_BODY_CHARS + 1);
    create(&app, &agent, json!({"title": "T", "body": long}))
        .await
        .assert_error(422, "validation_failed");
    create(
        &app,
        &agent,
        json!({"title": "T", "body": "x", "actions": {"status": "gone"}}),
    )
    .await
    .assert_error(400, "invalid_json");
    create(
        &app,
        &agent,
        json!({"title": "T", "body": "x", "colour": "red"}),
    )
    .await
    .assert_error(400, "invalid_json");

    // Editing is checked the same way, and nothing is stored.
    let m = create(
        &app,
        &agent,
        json!({"title": "Hello", "body": "Hi {{customer.name}}"}),
    )
    .await;
    let id = m.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.put(
        &format!("/api/macros/{id}"),
        Some(&agent.token),
        &json!({"title": "Hello", "body": "Hi {{customer.surname}}"}),
    )
    .await
    .assert_error(422, "validation_failed");
    let kept = app
        .get(&format!("/api/macros/{id}"), Some(&agent.token))
        .await;
    assert_eq!(kept.assert_ok(200)["body"], "Hi {{customer.name}}");
}

async fn shared_and_personal_macros_are_seen_by_the_right_people(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let x = app.user(Role::Agent).await;
    let y = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;

    let shared = create(
        &app,
        &admin,
        json!({"title": "Refund policy", "body": "Refunds take 5 days.", "shared": true}),
    )
    .await;
    let shared = shared.assert_ok(201).clone();
    assert_eq!(shared["shared"], true);
    assert!(shared["owner"].is_null());
    let mine = create(
        &app,
        &x,
        json!({"title": "My greeting", "body": "Hello from X"}),
    )
    .await;
    let mine = mine.assert_ok(201).clone();
    assert_eq!(mine["shared"], false);
    assert_eq!(mine["owner"]["id"], x.id.as_str());
    let mine_id = mine["id"].as_str().unwrap();
    let shared_id = shared["id"].as_str().unwrap();

    // Agents cannot make shared macros or change the shared ones.
    create(&app, &x, json!({"title": "S", "body": "s", "shared": true}))
        .await
        .assert_error(403, "forbidden");
    app.put(
        &format!("/api/macros/{shared_id}"),
        Some(&x.token),
        &json!({"title": "Mine now", "body": "x", "shared": true}),
    )
    .await
    .assert_error(403, "forbidden");
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/macros/{shared_id}"),
        Some(&x.token),
        None,
    )
    .await
    .assert_error(403, "forbidden");
    // A macro stays shared or personal.
    app.put(
        &format!("/api/macros/{mine_id}"),
        Some(&x.token),
        &json!({"title": "Mine", "body": "x", "shared": true}),
    )
    .await
    .assert_error(422, "validation_failed");

    let titles = |resp: crate::helpers::Resp| -> Vec<String> {
        resp.assert_ok(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        titles(app.get("/api/macros", Some(&x.token)).await),
        ["My greeting", "Refund policy"]
    );
    // Another agent's personal macro does not exist for Y, nor for an admin.
    assert_eq!(
        titles(app.get("/api/macros", Some(&y.token)).await),
        ["Refund policy"]
    );
    assert_eq!(
        titles(app.get("/api/macros", Some(&admin.token)).await),
        ["Refund policy"]
    );
    for user in [&y, &admin] {
        app.get(&format!("/api/macros/{mine_id}"), Some(&user.token))
            .await
            .assert_error(404, "not_found");
        app.put(
            &format!("/api/macros/{mine_id}"),
            Some(&user.token),
            &json!({"title": "Taken", "body": "x"}),
        )
        .await
        .assert_error(404, "not_found");
    }
    app.get("/api/macros", Some(&customer.token))
        .await
        .assert_error(403, "forbidden");

    // Search: every word, in the title or the body, case-insensitive; `%` is literal.
    assert_eq!(
        titles(app.get("/api/macros?q=REFUND%20days", Some(&x.token)).await),
        ["Refund policy"]
    );
    assert!(
        titles(
            app.get("/api/macros?q=refund%20nothing", Some(&x.token))
                .await
        )
        .is_empty()
    );
    assert!(titles(app.get("/api/macros?q=%25", Some(&x.token)).await).is_empty());
    app.get(
        &format!("/api/macros?q={}", "x".repeat(201)),
        Some(&x.token),
    )
    .await
    .assert_error(400, "invalid_query");

    // Owners edit and delete their own.
    let edited = app
        .put(
            &format!("/api/macros/{mine_id}"),
            Some(&x.token),
            &json!({"title": "Greeting", "body": "Hello {{customer.name}}", "actions": {"priority": "low"}}),
        )
        .await;
    let edited = edited.assert_ok(200);
    assert_eq!(edited["title"], "Greeting");
    assert_eq!(edited["actions"], json!({"priority": "low"}));
    let gone = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/macros/{mine_id}"),
            Some(&x.token),
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    app.get(&format!("/api/macros/{mine_id}"), Some(&x.token))
        .await
        .assert_error(404, "not_found");
}

async fn applying_fills_in_the_ticket_and_applies_the_actions(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let other = app.user(Role::Agent).await;
    let (customer, t) = assigned_ticket(&app, &admin, &agent).await;
    let id = t["id"].as_str().unwrap();
    let number = t["number"].as_i64().unwrap();
    let m = create(
        &app,
        &admin,
        json!({
            "title": "Solved",
            "body": "Hello {{customer.name}} ({{ customer.email }}), ticket #{{ticket.number}} \"{{ticket.subject}}\" is solved. {{agent.name}}",
            "actions": {"status": "resolved", "priority": "high"},
            "shared": true
        }),
    )
    .await;
    let m = m.assert_ok(201)["id"].as_str().unwrap().to_owned();
    // The agent opens the ticket first (resolving needs `open`).
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&agent.token),
        &json!({"status": "open"}),
    )
    .await
    .assert_ok(200);

    let preview = app
        .get(
            &format!("/api/tickets/{id}/macros/{m}/preview"),
            Some(&agent.token),
        )
        .await;
    let preview = preview.assert_ok(200).clone();
    let expected = format!(
        "Hello Test customer ({}), ticket #{number} \"Printer on fire\" is solved. Test agent",
        customer.email
    );
    assert_eq!(preview["body"], expected.as_str());
    assert_eq!(
        preview["actions"],
        json!({"status": "resolved", "priority": "high"})
    );
    // An agent who may not see the ticket learns nothing.
    app.get(
        &format!("/api/tickets/{id}/macros/{m}/preview"),
        Some(&other.token),
    )
    .await
    .assert_error(404, "not_found");
    app.post(
        &format!("/api/tickets/{id}/macros/{m}/apply"),
        Some(&other.token),
        &json!({}),
    )
    .await
    .assert_error(404, "not_found");

    let applied = app
        .post(
            &format!("/api/tickets/{id}/macros/{m}/apply"),
            Some(&agent.token),
            &json!({}),
        )
        .await;
    let applied = applied.assert_ok(201).clone();
    assert_eq!(applied["message"]["body"], expected.as_str());
    assert_eq!(applied["message"]["internal"], false);
    assert_eq!(applied["ticket"]["status"], "resolved");
    assert_eq!(applied["ticket"]["priority"], "high");

    // The customer sees the reply; the history shows the changes by the agent.
    let messages = app
        .get(
            &format!("/api/tickets/{id}/messages"),
            Some(&customer.token),
        )
        .await;
    let messages = messages.assert_ok(200).as_array().unwrap().clone();
    assert!(messages.iter().any(|msg| msg["body"] == expected.as_str()));
    let history = app
        .get(&format!("/api/tickets/{id}/history"), Some(&agent.token))
        .await;
    let history = history.assert_ok(200).as_array().unwrap().clone();
    for field in ["status", "priority"] {
        assert!(
            history
                .iter()
                .any(|h| h["field"] == field && h["actor"]["id"] == agent.id.as_str()),
            "{field}: {history:?}"
        );
    }
    let used = app
        .get(&format!("/api/macros/{m}"), Some(&agent.token))
        .await;
    assert_eq!(used.assert_ok(200)["usage_count"], 1);

    // An edited body as an internal note: staff see it, the customer does not.
    let (customer2, t2) = assigned_ticket(&app, &admin, &agent).await;
    let id2 = t2["id"].as_str().unwrap();
    let note = create(
        &app,
        &agent,
        json!({"title": "Note", "body": "Checked {{ticket.status}}"}),
    )
    .await;
    let note = note.assert_ok(201)["id"].as_str().unwrap().to_owned();
    let applied = app
        .post(
            &format!("/api/tickets/{id2}/macros/{note}/apply"),
            Some(&agent.token),
            &json!({"body": "Checked the logs myself", "internal": true}),
        )
        .await;
    let applied = applied.assert_ok(201).clone();
    assert_eq!(applied["message"]["body"], "Checked the logs myself");
    assert_eq!(applied["message"]["internal"], true);
    let seen = app
        .get(
            &format!("/api/tickets/{id2}/messages"),
            Some(&customer2.token),
        )
        .await;
    assert!(
        seen.assert_ok(200)
            .as_array()
            .unwrap()
            .iter()
            .all(|msg| msg["internal"] == false)
    );
    // Most used first: a second use of the first macro (the ticket already is as it says).
    app.post(
        &format!("/api/tickets/{id}/macros/{m}/apply"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(201);
    let list = app.get("/api/macros", Some(&agent.token)).await;
    let list = list.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(list[0]["id"], m.as_str());
    assert_eq!(list[0]["usage_count"], 2);
    assert_eq!(list[1]["id"], note.as_str());
}

async fn a_change_the_ticket_cannot_take_sends_nothing(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let (customer, t) = assigned_ticket(&app, &admin, &agent).await;
    let id = t["id"].as_str().unwrap();
    let close = create(
        &app,
        &agent,
        json!({"title": "Close", "body": "Closing this.", "actions": {"status": "closed"}}),
    )
    .await;
    let close = close.assert_ok(201)["id"].as_str().unwrap().to_owned();
    // An assigned ticket is not resolved yet, so it cannot be closed.
    let resp = app
        .post(
            &format!("/api/tickets/{id}/macros/{close}/apply"),
            Some(&agent.token),
            &json!({}),
        )
        .await;
    resp.assert_error(409, "invalid_transition");
    let messages = app
        .get(
            &format!("/api/tickets/{id}/messages"),
            Some(&customer.token),
        )
        .await;
    assert_eq!(messages.assert_ok(200).as_array().unwrap().len(), 0);
    let unused = app
        .get(&format!("/api/macros/{close}"), Some(&agent.token))
        .await;
    assert_eq!(unused.assert_ok(200)["usage_count"], 0);
    // An empty edited body is refused like any empty message.
    let hello = create(&app, &agent, json!({"title": "Hi", "body": "Hi"})).await;
    let hello = hello.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/tickets/{id}/macros/{hello}/apply"),
        Some(&agent.token),
        &json!({"body": "   "}),
    )
    .await
    .assert_error(422, "validation_failed");
    app.post(
        &format!("/api/tickets/{id}/macros/{}/apply", uuid::Uuid::new_v4()),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_error(404, "not_found");
}
