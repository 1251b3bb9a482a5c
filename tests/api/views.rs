//! Saved views: the shared defaults, personal and shared views and who may see and change
//! them, filters checked when saved, `assigned_agent_id=me`, and counts that follow the
//! tickets.

use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{Resp, TestApp, TestUser};

crate::db_tests!(
    the_default_views_are_shared_with_all_staff,
    counts_follow_the_tickets,
    personal_views_are_their_owners_and_shared_ones_admins,
    bad_filters_are_refused_when_saving,
    me_means_whoever_asks,
);

const DEFAULTS: [&str; 4] = [
    "My open",
    "Unassigned",
    "Breaching soon",
    "Pending on customer",
];

async fn create(app: &TestApp, user: &TestUser, body: Value) -> Resp {
    app.post("/api/views", Some(&user.token), &body).await
}

async fn delete(app: &TestApp, user: &TestUser, id: &str) -> Resp {
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/views/{id}"),
        Some(&user.token),
        None,
    )
    .await
}

async fn views(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let resp = app.get("/api/views", Some(&user.token)).await;
    resp.assert_ok(200).as_array().unwrap().clone()
}

fn names(views: &[Value]) -> Vec<String> {
    views
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

fn id_named<'a>(views: &'a [Value], name: &str) -> &'a str {
    views
        .iter()
        .find(|v| v["name"] == name)
        .and_then(|v| v["id"].as_str())
        .unwrap_or_else(|| panic!("no view `{name}` in {views:?}"))
}

/// The caller's count of the view with this name.
async fn count(app: &TestApp, user: &TestUser, name: &str) -> u64 {
    let all = views(app, user).await;
    let id = id_named(&all, name).to_owned();
    let resp = app.get("/api/views/counts", Some(&user.token)).await;
    let counts = resp.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(
        counts
            .iter()
            .map(|c| c["view_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        all.iter()
            .map(|v| v["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        "one count per view, in the list's order"
    );
    let c = counts.iter().find(|c| c["view_id"] == id.as_str()).unwrap();
    assert_eq!(c["capped"], false);
    c["count"].as_u64().unwrap()
}

async fn set_status(app: &TestApp, user: &TestUser, ticket: &str, status: &str) {
    app.patch(
        &format!("/api/tickets/{ticket}"),
        Some(&user.token),
        &json!({"status": status}),
    )
    .await
    .assert_ok(200);
}

async fn the_default_views_are_shared_with_all_staff(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    for user in [&agent, &admin] {
        let all = views(&app, user).await;
        assert_eq!(names(&all), DEFAULTS);
        assert!(
            all.iter()
                .all(|v| v["shared"] == true && v["owner"].is_null())
        );
    }
    let all = views(&app, &agent).await;
    assert_eq!(all[0]["filters"]["assigned_agent_id"], "me");
    assert_eq!(all[0]["filters"]["status"], "new,open");
    assert_eq!(all[2]["filters"]["breaching_soon"], true);
    assert_eq!(all[3]["filters"]["status"], "pending");
    // The filters are list parameters: the list takes each view's as they are.
    for v in &all {
        let params: Vec<String> = v["filters"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        app.get(
            &format!("/api/tickets?{}", params.join("&")),
            Some(&agent.token),
        )
        .await
        .assert_ok(200);
    }
    // Customers have none.
    for path in ["/api/views", "/api/views/counts"] {
        app.get(path, Some(&customer.token))
            .await
            .assert_error(403, "forbidden");
    }
    create(&app, &customer, json!({"name": "Mine", "filters": {}}))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/views", None)
        .await
        .assert_error(401, "unauthorized");

    // Admins may rename and delete the defaults; agents may not.
    let mine = id_named(&all, "My open").to_owned();
    app.patch(
        &format!("/api/views/{mine}"),
        Some(&agent.token),
        &json!({"name": "Mine"}),
    )
    .await
    .assert_error(403, "forbidden");
    delete(&app, &agent, &mine)
        .await
        .assert_error(403, "forbidden");
    let renamed = app
        .patch(
            &format!("/api/views/{mine}"),
            Some(&admin.token),
            &json!({"name": "  Assigned to me  "}),
        )
        .await;
    let renamed = renamed.assert_ok(200);
    assert_eq!(renamed["name"], "Assigned to me");
    assert_eq!(renamed["filters"]["assigned_agent_id"], "me");
    let pending = id_named(&all, "Pending on customer").to_owned();
    assert_eq!(delete(&app, &admin, &pending).await.status, 204);
    assert_eq!(
        names(&views(&app, &agent).await),
        ["Assigned to me", "Unassigned", "Breaching soon"]
    );
    delete(&app, &admin, &pending)
        .await
        .assert_error(404, "not_found");
}

async fn counts_follow_the_tickets(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let other = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    assert_eq!(count(&app, &agent, "Unassigned").await, 0);
    assert_eq!(count(&app, &agent, "My open").await, 0);

    let first = app.ticket(&customer.token, "Printer on fire").await;
    let first = first["id"].as_str().unwrap().to_owned();
    app.ticket(&customer.token, "Scanner jammed").await;
    assert_eq!(count(&app, &agent, "Unassigned").await, 2);
    assert_eq!(count(&app, &admin, "Unassigned").await, 2);

    // The agent opens one: it is theirs, and no longer in the queue.
    set_status(&app, &agent, &first, "open").await;
    assert_eq!(count(&app, &agent, "Unassigned").await, 1);
    assert_eq!(count(&app, &agent, "My open").await, 1);
    assert_eq!(count(&app, &other, "My open").await, 0);
    assert_eq!(count(&app, &agent, "Pending on customer").await, 0);

    // Waiting on the customer: out of "My open", into "Pending on customer".
    set_status(&app, &agent, &first, "pending").await;
    assert_eq!(count(&app, &agent, "My open").await, 0);
    assert_eq!(count(&app, &agent, "Pending on customer").await, 1);
    assert_eq!(count(&app, &admin, "Pending on customer").await, 1);
    // The other agent may not see a ticket assigned to someone else.
    assert_eq!(count(&app, &other, "Pending on customer").await, 0);

    // A personal view counts too.
    create(
        &app,
        &agent,
        json!({"name": "Scanners", "filters": {"q": "scanner"}}),
    )
    .await
    .assert_ok(201);
    assert_eq!(count(&app, &agent, "Scanners").await, 1);
    app.ticket(&customer.token, "Second scanner broken").await;
    assert_eq!(count(&app, &agent, "Scanners").await, 2);
}

async fn personal_views_are_their_owners_and_shared_ones_admins(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let other = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;

    let created = create(
        &app,
        &agent,
        json!({"name": "Urgent ones", "filters": {"priority": "high,urgent", "sort": "sla_due"}}),
    )
    .await;
    let v = created.assert_ok(201).clone();
    assert_eq!(v["shared"], false);
    assert_eq!(v["owner"]["id"], agent.id.as_str());
    assert_eq!(
        v["filters"],
        json!({"priority": "high,urgent", "sort": "sla_due"})
    );
    let id = v["id"].as_str().unwrap().to_owned();

    // Personal views come after the shared ones, and only for their owner.
    let mine = views(&app, &agent).await;
    assert_eq!(names(&mine).last().map(String::as_str), Some("Urgent ones"));
    for user in [&other, &admin] {
        assert!(!names(&views(&app, user).await).contains(&"Urgent ones".to_owned()));
        app.patch(
            &format!("/api/views/{id}"),
            Some(&user.token),
            &json!({"name": "Taken over"}),
        )
        .await
        .assert_error(404, "not_found");
        delete(&app, user, &id).await.assert_error(404, "not_found");
    }

    // The owner edits it; what is left out stays, what is given replaces.
    let edited = app
        .patch(
            &format!("/api/views/{id}"),
            Some(&agent.token),
            &json!({"filters": {"priority": "urgent"}}),
        )
        .await;
    let edited = edited.assert_ok(200);
    assert_eq!(edited["name"], "Urgent ones");
    assert_eq!(edited["filters"], json!({"priority": "urgent"}));
    // Whether it is shared is fixed.
    app.patch(
        &format!("/api/views/{id}"),
        Some(&agent.token),
        &json!({"shared": true}),
    )
    .await
    .assert_error(400, "invalid_json");

    // Only admins share.
    create(
        &app,
        &agent,
        json!({"name": "Team", "filters": {}, "shared": true}),
    )
    .await
    .assert_error(403, "forbidden");
    let team = create(
        &app,
        &admin,
        json!({"name": "Escalated", "filters": {"escalated": true}, "shared": true}),
    )
    .await;
    let team = team.assert_ok(201).clone();
    assert_eq!(team["shared"], true);
    assert!(team["owner"].is_null());
    let team_id = team["id"].as_str().unwrap().to_owned();
    for user in [&agent, &other] {
        let seen = views(&app, user).await;
        assert!(names(&seen).contains(&"Escalated".to_owned()));
        app.patch(
            &format!("/api/views/{team_id}"),
            Some(&user.token),
            &json!({"name": "Mine now"}),
        )
        .await
        .assert_error(403, "forbidden");
        delete(&app, user, &team_id)
            .await
            .assert_error(403, "forbidden");
    }
    // Shared views are listed before personal ones.
    let seen = names(&views(&app, &agent).await);
    assert_eq!(
        seen,
        [&DEFAULTS[..], &["Escalated", "Urgent ones"]].concat()
    );

    assert_eq!(delete(&app, &agent, &id).await.status, 204);
    assert!(!names(&views(&app, &agent).await).contains(&"Urgent ones".to_owned()));
    assert_eq!(delete(&app, &admin, &team_id).await.status, 204);
    assert_eq!(names(&views(&app, &other).await), DEFAULTS);
}

async fn bad_filters_are_refused_when_saving(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    for filters in [
        json!({"status": "lost"}),
        json!({"priority": "high,extreme"}),
        json!({"assigned_agent_id": "someone"}),
        json!({"sla": "late"}),
        json!({"escalated": "maybe"}),
        json!({"created_from": "yesterday"}),
        json!({"q": "a".repeat(shared::validate::SearchText::MAX_CHARS + 1)}),
        json!({"q": "tab\there"}),
        json!({"category": "x".repeat(101)}),
        json!({"page": 2}),
        json!({"per_page": 10}),
        json!({"colour": "red"}),
        json!(["status", "new"]),
        json!("status=new"),
    ] {
        let resp = create(&app, &agent, json!({"name": "Bad", "filters": filters})).await;
        resp.assert_error(400, "invalid_query");
    }
    for name in ["", "   ", "tab\there", &"n".repeat(101)] {
        create(&app, &agent, json!({"name": name, "filters": {}}))
            .await
            .assert_error(422, "validation_failed");
    }
    create(&app, &agent, json!({"filters": {}}))
        .await
        .assert_error(400, "invalid_json");

    // Editing is checked the same way, and nothing is stored.
    let v = create(
        &app,
        &agent,
        json!({"name": "Open", "filters": {"status": "open", "escalated": null}}),
    )
    .await;
    let v = v.assert_ok(201).clone();
    // Unset fields are not stored.
    assert_eq!(v["filters"], json!({"status": "open"}));
    let id = v["id"].as_str().unwrap();
    app.patch(
        &format!("/api/views/{id}"),
        Some(&agent.token),
        &json!({"filters": {"status": "gone"}}),
    )
    .await
    .assert_error(400, "invalid_query");
    app.patch(
        &format!("/api/views/{id}"),
        Some(&agent.token),
        &json!({"name": ""}),
    )
    .await
    .assert_error(422, "validation_failed");
    let all = views(&app, &agent).await;
    let stored = all.iter().find(|v| v["id"] == id).unwrap();
    assert_eq!(stored["name"], "Open");
    assert_eq!(stored["filters"], json!({"status": "open"}));
    app.patch(
        "/api/views/not-a-uuid",
        Some(&agent.token),
        &json!({"name": "x"}),
    )
    .await
    .assert_error(400, "bad_request");
}

async fn me_means_whoever_asks(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let a = app.user(Role::Agent).await;
    let b = app.user(Role::Agent).await;
    let t1 = app.ticket(&customer.token, "One").await;
    let t2 = app.ticket(&customer.token, "Two").await;
    app.ticket(&customer.token, "Three").await;
    set_status(&app, &a, t1["id"].as_str().unwrap(), "open").await;
    set_status(&app, &b, t2["id"].as_str().unwrap(), "open").await;
    for (agent, subject) in [(&a, "One"), (&b, "Two")] {
        let resp = app
            .get("/api/tickets?assigned_agent_id=me", Some(&agent.token))
            .await;
        let rows = resp.assert_ok(200).as_array().unwrap().clone();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["subject"], subject);
        assert_eq!(rows[0]["assigned_agent"]["id"], agent.id.as_str());
    }
    // A personal view with `me` is its owner's; the shared "My open" is each caller's.
    create(
        &app,
        &a,
        json!({"name": "All of mine", "filters": {"assigned_agent_id": "me"}}),
    )
    .await
    .assert_ok(201);
    assert_eq!(count(&app, &a, "All of mine").await, 1);
    assert_eq!(count(&app, &a, "My open").await, 1);
    assert_eq!(count(&app, &b, "My open").await, 1);
    // A customer has no assigned tickets of their own.
    let resp = app
        .get("/api/tickets?assigned_agent_id=me", Some(&customer.token))
        .await;
    assert_eq!(resp.assert_ok(200).as_array().map(Vec::len), Some(0));
}
