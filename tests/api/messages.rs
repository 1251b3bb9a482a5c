//! Conversations: public replies, internal notes and their effect on the ticket.

use serde_json::json;
use shared::Role;

use crate::helpers::TestApp;

crate::db_tests!(
    replies_and_internal_notes,
    first_staff_reply_meets_the_response_sla,
    closed_tickets_take_no_messages,
    message_pagination_boundaries,
);

async fn replies_and_internal_notes(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "Need help").await;
    let tid = t["id"].as_str().unwrap();
    let path = format!("/api/tickets/{tid}/messages");

    app.post(&path, Some(&customer.token), &json!({"body": "Hello?"}))
        .await
        .assert_ok(201);
    let note = app
        .post(
            &path,
            Some(&agent.token),
            &json!({"body": "Customer seems upset; check the order.", "internal": true}),
        )
        .await;
    assert_eq!(note.assert_ok(201)["internal"], true);
    let reply = app
        .post(
            &path,
            Some(&agent.token),
            &json!({"body": "Looking into it."}),
        )
        .await;
    let reply = reply.assert_ok(201);
    assert_eq!(reply["author"]["role"], "agent");

    // Customers cannot write notes.
    app.post(
        &path,
        Some(&customer.token),
        &json!({"body": "sneaky", "internal": true}),
    )
    .await
    .assert_error(403, "forbidden");

    let staff_view = app.get(&path, Some(&agent.token)).await;
    assert_eq!(staff_view.body["count"], 3);
    let customer_view = app.get(&path, Some(&customer.token)).await;
    let messages = customer_view.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(customer_view.body["count"], 2);
    assert!(messages.iter().all(|m| m["internal"] == false));
    assert!(!customer_view.text.contains("upset"));
    let bodies: Vec<&str> = messages
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Hello?", "Looking into it."]);

    // Counts on the ticket follow the same rule.
    let as_customer = app
        .get(&format!("/api/tickets/{tid}"), Some(&customer.token))
        .await;
    assert_eq!(as_customer.assert_ok(200)["message_count"], 2);
    let as_agent = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    assert_eq!(as_agent.assert_ok(200)["message_count"], 3);
    let listed = app.get("/api/tickets", Some(&customer.token)).await;
    assert_eq!(listed.assert_ok(200)[0]["message_count"], 2);

    for body in [json!({"body": "   "}), json!({"body": "x".repeat(10_001)})] {
        app.post(&path, Some(&customer.token), &body)
            .await
            .assert_error(422, "validation_failed");
    }
}

async fn first_staff_reply_meets_the_response_sla(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app
        .ticket(&customer.token, "Waiting for a first answer")
        .await;
    let tid = t["id"].as_str().unwrap();
    let path = format!("/api/tickets/{tid}/messages");
    let response_due = t["sla"]["response_due_at"].clone();
    assert_eq!(t["sla"]["due_at"], response_due);

    // A customer message or an internal note does not count.
    app.post(&path, Some(&customer.token), &json!({"body": "Anyone?"}))
        .await
        .assert_ok(201);
    app.post(
        &path,
        Some(&agent.token),
        &json!({"body": "note", "internal": true}),
    )
    .await
    .assert_ok(201);
    let t = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    assert!(t.assert_ok(200)["sla"]["first_response_at"].is_null());

    app.post(&path, Some(&agent.token), &json!({"body": "Hi! On it."}))
        .await
        .assert_ok(201);
    let t = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    let t = t.assert_ok(200).clone();
    let first = t["sla"]["first_response_at"].clone();
    assert!(first.is_string());
    // The running clock is now the resolution deadline.
    assert_eq!(t["sla"]["due_at"], t["sla"]["resolution_due_at"]);

    // Later replies do not move it.
    app.post(&path, Some(&agent.token), &json!({"body": "Still on it."}))
        .await
        .assert_ok(201);
    let again = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    assert_eq!(again.assert_ok(200)["sla"]["first_response_at"], first);
}

async fn closed_tickets_take_no_messages(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Done").await;
    let tid = t["id"].as_str().unwrap();
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&customer.token),
        &json!({"status": "closed"}),
    )
    .await
    .assert_ok(200);
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&customer.token),
        &json!({"body": "one more thing"}),
    )
    .await
    .assert_error(409, "ticket_closed");
}

async fn message_pagination_boundaries(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "chatty").await;
    let path = format!("/api/tickets/{}/messages", t["id"].as_str().unwrap());
    for i in 0..5 {
        app.post(
            &path,
            Some(&customer.token),
            &json!({"body": format!("message {i}")}),
        )
        .await
        .assert_ok(201);
    }
    let page = app
        .get(&format!("{path}?per_page=2&page=3"), Some(&customer.token))
        .await;
    let items = page.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["body"], "message 4");
    assert_eq!(page.body["pages"], 3);
    // Past the end is empty, up to the last page a client may ask for.
    let far = app
        .get(
            &format!("{path}?page={}", shared::Paging::MAX_PAGE),
            Some(&customer.token),
        )
        .await;
    assert_eq!(far.assert_ok(200).as_array().unwrap().len(), 0);
    for q in [
        "page=0",
        "page=4294967296",
        "per_page=101",
        "per_page=-1",
        "sort=x",
    ] {
        app.get(&format!("{path}?{q}"), Some(&customer.token))
            .await
            .assert_error(400, "invalid_query");
    }
}
