//! `Idempotency-Key` on the writes that create something: a retry replays the first response,
//! a different request with the same key is a 422, concurrent retries create exactly one
//! ticket, and keys expire after 24 hours.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{Resp, TestApp};

crate::db_tests!(
    a_retry_replays_the_first_response,
    the_same_key_with_another_request_is_a_422,
    concurrent_retries_create_exactly_one_ticket,
    messages_and_journey_submissions_are_idempotent_too,
    keys_expire_after_a_day,
);

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Resp {
    app.raw(
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body),
    )
    .await
}

fn replayed(resp: &Resp) -> bool {
    resp.headers
        .get("idempotency-replayed")
        .is_some_and(|v| v == "true")
}

async fn ticket_count(app: &TestApp, token: &str) -> u64 {
    let list = app.get("/api/tickets", Some(token)).await;
    list.assert_ok(200);
    list.body["count"].as_u64().unwrap()
}

async fn a_retry_replays_the_first_response(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let body = json!({"subject": "Printer on fire", "description": "Smoke everywhere."});
    let first = post_with_key(&app, "/api/tickets", &customer.token, "order-1", &body).await;
    let ticket = first.assert_ok(201).clone();
    assert!(!replayed(&first));
    // Same key, same body (fields in another order): the first answer again.
    let same = json!({"description": "Smoke everywhere.", "subject": "Printer on fire"});
    let retry = post_with_key(&app, "/api/tickets", &customer.token, "order-1", &same).await;
    assert_eq!(retry.assert_ok(201), &ticket);
    assert!(replayed(&retry));
    assert_eq!(ticket_count(&app, &customer.token).await, 1);
    // Keys belong to their user: another customer's "order-1" is a request of its own.
    let other = app.user(Role::Customer).await;
    let theirs = post_with_key(&app, "/api/tickets", &other.token, "order-1", &body).await;
    assert_ne!(theirs.assert_ok(201)["id"], ticket["id"]);
    assert!(!replayed(&theirs));
    // Without a key nothing is remembered.
    app.ticket(&customer.token, "Printer on fire").await;
    assert_eq!(ticket_count(&app, &customer.token).await, 2);
    // A failed request is remembered like a success (here a 422), and replayed as such.
    let bad = json!({"subject": "", "description": "x"});
    let failed = post_with_key(&app, "/api/tickets", &customer.token, "bad-1", &bad).await;
    assert_eq!(failed.status.as_u16(), 422, "{}", failed.text);
    let again = post_with_key(&app, "/api/tickets", &customer.token, "bad-1", &bad).await;
    assert_eq!((again.status.as_u16(), &again.body), (422, &failed.body));
    assert!(replayed(&again));
    // Malformed keys are refused before anything happens.
    for key in ["x".repeat(256), "tab\there".to_owned()] {
        post_with_key(&app, "/api/tickets", &customer.token, &key, &body)
            .await
            .assert_error(400, "invalid_idempotency_key");
    }
    assert_eq!(ticket_count(&app, &customer.token).await, 2);
}

async fn the_same_key_with_another_request_is_a_422(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let body = json!({"subject": "First", "description": "One."});
    let first = post_with_key(&app, "/api/tickets", &customer.token, "k-42", &body).await;
    let ticket = first.assert_ok(201).clone();
    let changed = json!({"subject": "First", "description": "Two."});
    post_with_key(&app, "/api/tickets", &customer.token, "k-42", &changed)
        .await
        .assert_error(422, "idempotency_key_reused");
    // Another route with the same key is another request too.
    let id = ticket["id"].as_str().unwrap();
    post_with_key(
        &app,
        &format!("/api/tickets/{id}/messages"),
        &customer.token,
        "k-42",
        &json!({"body": "Hello"}),
    )
    .await
    .assert_error(422, "idempotency_key_reused");
    assert_eq!(ticket_count(&app, &customer.token).await, 1);
}

async fn concurrent_retries_create_exactly_one_ticket(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let body = json!({"subject": "Sent ten times", "description": "A flaky network."});
    let sends =
        (0..10).map(|_| post_with_key(&app, "/api/tickets", &customer.token, "burst", &body));
    let answers = futures_util::future::join_all(sends).await;
    let mut ids = Vec::new();
    for a in &answers {
        match a.status.as_u16() {
            201 => ids.push(a.body["data"]["id"].clone()),
            // Allowed when the first request is slower than a retry waits.
            409 => a.assert_error(409, "idempotency_in_progress"),
            other => panic!("unexpected {other}: {}", a.text),
        }
    }
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == 201 && !replayed(a))
            .count(),
        1
    );
    assert_eq!(ticket_count(&app, &customer.token).await, 1);
    let rows = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM tickets",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 1);
}

async fn messages_and_journey_submissions_are_idempotent_too(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let ticket = app.ticket(&customer.token, "Conversation").await;
    let path = format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap());
    let reply = json!({"body": "Any news?"});
    let first = post_with_key(&app, &path, &customer.token, "msg-1", &reply).await;
    let message = first.assert_ok(201).clone();
    let retry = post_with_key(&app, &path, &customer.token, "msg-1", &reply).await;
    assert_eq!(retry.assert_ok(201), &message);
    assert!(replayed(&retry));
    let list = app.get(&path, Some(&customer.token)).await;
    assert_eq!(list.assert_ok(200).as_array().unwrap().len(), 1);

    let admin = app.user(Role::Admin).await;
    let definition = json!({
        "startNode": "what",
        "nodes": {
            "what": {"type": "question", "questionType": "text", "title": "What is wrong?", "required": true, "next": "done"},
            "done": {"type": "end", "category": "general", "priority": "medium", "subject": "Problem: {what}"}
        }
    });
    let journey = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "general", "name": "General", "description": "Anything", "icon": "?", "definition": definition}),
        )
        .await;
    let id = journey.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/journeys/{id}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let submit = format!("/api/journeys/{id}/submit");
    let answers = json!({"answers": {"what": "The app crashes"}});
    let before = ticket_count(&app, &customer.token).await;
    let made = post_with_key(&app, &submit, &customer.token, "journey-1", &answers).await;
    let made = made.assert_ok(201).clone();
    let again = post_with_key(&app, &submit, &customer.token, "journey-1", &answers).await;
    assert_eq!(again.assert_ok(201)["id"], made["id"]);
    assert!(replayed(&again));
    assert_eq!(ticket_count(&app, &customer.token).await, before + 1);
    let other = json!({"answers": {"what": "Something else"}});
    post_with_key(&app, &submit, &customer.token, "journey-1", &other)
        .await
        .assert_error(422, "idempotency_key_reused");
}

async fn keys_expire_after_a_day(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let body = json!({"subject": "Yesterday", "description": "Old request."});
    let first = post_with_key(&app, "/api/tickets", &customer.token, "old", &body).await;
    let ticket = first.assert_ok(201).clone();
    let kept = post_with_key(&app, "/api/tickets", &customer.token, "kept", &body).await;
    kept.assert_ok(201);
    // "old" was used 25 hours ago.
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => "UPDATE idempotency_keys SET created_at = $1 WHERE key = $2",
        _ => "UPDATE idempotency_keys SET created_at = ? WHERE key = ?",
    };
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [(Utc::now() - Duration::hours(25)).into(), "old".into()],
        ))
        .await
        .unwrap();
    // An expired key is a fresh key: the request runs again.
    let later = post_with_key(&app, "/api/tickets", &customer.token, "old", &body).await;
    assert_ne!(later.assert_ok(201)["id"], ticket["id"]);
    assert!(!replayed(&later));
    assert_eq!(ticket_count(&app, &customer.token).await, 3);
    // The background jobs delete expired keys; the others stay.
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [(Utc::now() - Duration::hours(25)).into(), "old".into()],
        ))
        .await
        .unwrap();
    let pruned = server::services::idempotency::prune(
        &app.db,
        Utc::now() - server::services::idempotency::TTL,
    )
    .await
    .unwrap();
    assert_eq!(pruned, 1);
    let again = post_with_key(&app, "/api/tickets", &customer.token, "kept", &body).await;
    assert!(replayed(&again));
}
