//! What the server keeps in memory never serves a stale answer: the signed-in user (checked
//! against the database's `user_version` on every request, so a change made through one
//! instance takes effect on the next request on another) and the queue page shared by all
//! staff (with its `ETag`).

use std::collections::HashMap;

use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{Backend, Overrides, PASSWORD, TestApp, spawn_app, spawn_app_with};

crate::db_tests!(the_queue_page_is_shared_and_follows_every_change);

const QUEUE: &str = "/api/tickets?status=new&assigned_agent_id=none&sort=priority&order=desc";

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The queue page and its ETag, once a repeat with `If-None-Match` answered 304 (the ETag
/// also changes with the clock's second, so a repeat across a second boundary is retried).
async fn settled_queue(app: &TestApp, token: &str) -> (Value, String) {
    for _ in 0..5 {
        let first = app.get(QUEUE, Some(token)).await;
        first.assert_ok(200);
        let etag = first.headers["etag"].to_str().unwrap().to_owned();
        let again = app
            .raw(
                app.client
                    .get(app.url(QUEUE))
                    .bearer_auth(token)
                    .header("If-None-Match", &etag),
            )
            .await;
        if again.status == 304 {
            assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
            return (first.body, etag);
        }
        assert_eq!(again.status, 200);
    }
    panic!("the queue page never answered 304 to its own ETag");
}

async fn the_queue_page_is_shared_and_follows_every_change(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let first_agent = app.user(Role::Agent).await;
    let second_agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let one = app.ticket(&customer.token, "First in the queue").await;

    let (page, etag) = settled_queue(&app, &first_agent.token).await;
    assert_eq!(ids(&page), [one["id"].as_str().unwrap()]);
    // Every staff member gets the same page.
    for token in [&second_agent.token, &admin.token] {
        let other = app.get(QUEUE, Some(token)).await;
        assert_eq!(other.assert_ok(200), &page["data"]);
    }
    // Customers' lists are their own: no shared page, no ETag.
    let own = app.get("/api/tickets", Some(&customer.token)).await;
    own.assert_ok(200);
    assert!(own.headers.get("etag").is_none());

    // A new ticket: the old ETag no longer matches and the page shows it at once.
    let two = app.ticket(&customer.token, "Second in the queue").await;
    let after = app
        .raw(
            app.client
                .get(app.url(QUEUE))
                .bearer_auth(&second_agent.token)
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(after.status, 200);
    let mut listed = ids(&after.body);
    listed.sort();
    let mut expected = vec![
        one["id"].as_str().unwrap().to_owned(),
        two["id"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(listed, expected);

    // Taken by an agent: gone from the very next page.
    app.post(
        &format!("/api/tickets/{}/take", one["id"].as_str().unwrap()),
        Some(&first_agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let (page, _) = settled_queue(&app, &second_agent.token).await;
    assert_eq!(ids(&page), [two["id"].as_str().unwrap()]);

    // A renamed customer shows with the new name on the next page.
    app.put(
        "/api/auth/me",
        Some(&customer.token),
        &json!({"name": "Renamed Customer"}),
    )
    .await
    .assert_ok(200);
    let (page, _) = settled_queue(&app, &first_agent.token).await;
    assert_eq!(page["data"][0]["customer"]["name"], "Renamed Customer");
}

/// GET /api/tickets on `app` with `token`: its status and error code.
async fn tickets_as(app: &TestApp, token: &str) -> (u16, String) {
    let resp = app.get("/api/tickets", Some(token)).await;
    (resp.status.as_u16(), resp.code().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_changes_on_one_instance_apply_to_the_next_request_on_another_on_postgres() {
    let Some(mut a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let cleanup = a.take_cleanup();
    let overrides = Overrides {
        vars: HashMap::from([("DATABASE_URL", a.db_url.clone())]),
    };
    let mut b = spawn_app_with(Backend::Postgres, overrides).await.unwrap();
    let cleanup_b = b.take_cleanup();
    let admin = a.user(Role::Admin).await;
    let changes_password = a.user(Role::Customer).await;
    let deactivated = a.user(Role::Agent).await;
    let promoted = a.user(Role::Customer).await;
    let signs_out = a.user(Role::Customer).await;
    let renamed = a.user(Role::Customer).await;
    // Every one of them is known (cached) on instance B.
    for u in [
        &changes_password,
        &deactivated,
        &promoted,
        &signs_out,
        &renamed,
    ] {
        for _ in 0..2 {
            assert_eq!(tickets_as(&b, &u.token).await.0, 200);
        }
    }

    // Password changed through A: the old token is refused by B on the next request.
    let resp = a
        .put(
            "/api/auth/me",
            Some(&changes_password.token),
            &json!({"current_password": PASSWORD, "new_password": "n3w-password-2026"}),
        )
        .await;
    let new_token = resp.assert_ok(200)["token"].as_str().unwrap().to_owned();
    assert_eq!(
        tickets_as(&b, &changes_password.token).await,
        (401, "invalid_token".to_owned())
    );
    assert_eq!(tickets_as(&b, &new_token).await.0, 200);

    // Deactivated through A.
    a.patch(
        &format!("/api/users/{}", deactivated.id),
        Some(&admin.token),
        &json!({"active": false}),
    )
    .await
    .assert_ok(200);
    assert_eq!(
        tickets_as(&b, &deactivated.token).await,
        (401, "account_disabled".to_owned())
    );
    // And reactivated: signing in again works on B at once.
    a.patch(
        &format!("/api/users/{}", deactivated.id),
        Some(&admin.token),
        &json!({"active": true}),
    )
    .await
    .assert_ok(200);
    let back = b.login(&deactivated.email, PASSWORD).await;
    let back_token = back.assert_ok(200)["token"].as_str().unwrap().to_owned();
    assert_eq!(tickets_as(&b, &back_token).await.0, 200);

    // Role changed through A.
    a.patch(
        &format!("/api/users/{}", promoted.id),
        Some(&admin.token),
        &json!({"role": "agent"}),
    )
    .await
    .assert_ok(200);
    assert_eq!(
        tickets_as(&b, &promoted.token).await,
        (401, "invalid_token".to_owned())
    );

    // Signed out everywhere through A.
    a.post(
        "/api/auth/logout-everywhere",
        Some(&signs_out.token),
        &json!({}),
    )
    .await;
    assert_eq!(
        tickets_as(&b, &signs_out.token).await,
        (401, "invalid_token".to_owned())
    );

    // Renamed through A: a ticket opened through B carries the new name.
    a.put(
        "/api/auth/me",
        Some(&renamed.token),
        &json!({"name": "New Name"}),
    )
    .await
    .assert_ok(200);
    let t = b.ticket(&renamed.token, "After the rename").await;
    assert_eq!(t["customer"]["name"], "New Name");

    cleanup_b.run().await;
    cleanup.run().await;
}
