//! Ticket tags: normalisation and validation, who may set and see them, the all-of and
//! any-of list filters, history and live events, journey end nodes, the CSV column, the tag
//! analytics and the macro action that adds tags.

use serde_json::{Value, json};
use shared::Role;

use crate::{
    helpers::{Resp, TestApp, TestUser},
    ws_client::Ws,
};

crate::db_tests!(
    tags_are_normalised_and_bad_ones_refused,
    only_staff_who_see_the_ticket_tag_it_and_customers_never_see_tags,
    lists_filter_by_all_and_any_of_tags,
    tag_changes_are_history_and_live_events,
    journey_end_nodes_tag_their_tickets,
    the_export_and_analytics_carry_tags,
    a_macro_adds_its_tags,
);

async fn put_tags(app: &TestApp, user: &TestUser, ticket: &str, tags: Value) -> Resp {
    app.put(
        &format!("/api/tickets/{ticket}/tags"),
        Some(&user.token),
        &json!({ "tags": tags }),
    )
    .await
}

fn tags_of(ticket: &Value) -> Vec<String> {
    ticket["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("no tags in {ticket}"))
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// Subjects of a ticket list page, sorted.
async fn subjects(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    let resp = app
        .get(&format!("/api/tickets?{query}"), Some(&user.token))
        .await;
    let mut out: Vec<String> = resp
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

async fn tags_are_normalised_and_bad_ones_refused(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Tag me").await;
    let id = t["id"].as_str().unwrap();

    let resp = put_tags(
        &app,
        &admin,
        id,
        json!(["  Billing ", "VIP  customer", "billing"]),
    )
    .await;
    assert_eq!(tags_of(resp.assert_ok(200)), ["billing", "vip-customer"]);
    let got = app
        .get(&format!("/api/tickets/{id}"), Some(&admin.token))
        .await;
    assert_eq!(tags_of(got.assert_ok(200)), ["billing", "vip-customer"]);

    let too_long = "x".repeat(shared::tags::MAX_TAG_CHARS + 1);
    for bad in ["a,b", "<b>", "", "   ", too_long.as_str(), "smile🙂"] {
        let resp = put_tags(&app, &admin, id, json!(["ok", bad])).await;
        resp.assert_error(400, "invalid_tag");
        if !bad.trim().is_empty() {
            assert_eq!(resp.body["details"]["tag"], bad, "{bad}");
        }
    }
    let many: Vec<String> = (0..=shared::tags::MAX_TAGS_PER_TICKET)
        .map(|i| format!("t{i}"))
        .collect();
    put_tags(&app, &admin, id, json!(many))
        .await
        .assert_error(400, "invalid_tag");
    // Repeats count once: twenty distinct tags, each twice, are fine.
    let twenty: Vec<String> = (0..shared::tags::MAX_TAGS_PER_TICKET * 2)
        .map(|i| format!("T{}", i % shared::tags::MAX_TAGS_PER_TICKET))
        .collect();
    let resp = put_tags(&app, &admin, id, json!(twenty)).await;
    assert_eq!(
        tags_of(resp.assert_ok(200)).len(),
        shared::tags::MAX_TAGS_PER_TICKET
    );
    // Wrong shapes are JSON errors.
    for body in [
        json!({"tags": "billing"}),
        json!({"tags": [1]}),
        json!({"tags": [], "x": 1}),
        json!({}),
    ] {
        app.put(
            &format!("/api/tickets/{id}/tags"),
            Some(&admin.token),
            &body,
        )
        .await
        .assert_error(400, "invalid_json");
    }
    // An empty set removes them all.
    let resp = put_tags(&app, &admin, id, json!([])).await;
    assert!(tags_of(resp.assert_ok(200)).is_empty());
}

async fn only_staff_who_see_the_ticket_tag_it_and_customers_never_see_tags(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let other = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Private tags").await;
    let id = t["id"].as_str().unwrap();
    assert!(t.get("tags").is_none(), "{t}");

    // Queued: every agent sees it and may tag it.
    put_tags(&app, &other, id, json!(["queued"]))
        .await
        .assert_ok(200);
    app.post(
        &format!("/api/tickets/{id}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    // Assigned to someone else: hidden, as everywhere.
    put_tags(&app, &other, id, json!(["nope"]))
        .await
        .assert_error(404, "not_found");
    let resp = put_tags(&app, &agent, id, json!(["vip", "queued"])).await;
    assert_eq!(tags_of(resp.assert_ok(200)), ["queued", "vip"]);

    // Customers cannot tag, even with a malformed body, and never see tags.
    put_tags(&app, &customer, id, json!(["mine"]))
        .await
        .assert_error(403, "forbidden");
    let malformed = app
        .raw(
            app.client
                .put(app.url(&format!("/api/tickets/{id}/tags")))
                .bearer_auth(&customer.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    malformed.assert_error(403, "forbidden");
    let mine = app
        .get(&format!("/api/tickets/{id}"), Some(&customer.token))
        .await;
    assert!(mine.assert_ok(200).get("tags").is_none(), "{}", mine.text);
    let rows = app.get("/api/tickets", Some(&customer.token)).await;
    for row in rows.assert_ok(200).as_array().unwrap() {
        assert!(row.get("tags").is_none(), "{row}");
    }
    assert!(!rows.text.contains("vip"), "{}", rows.text);
    app.get("/api/tags", Some(&customer.token))
        .await
        .assert_error(403, "forbidden");
    for query in ["tags=vip", "any_tags=vip"] {
        app.get(&format!("/api/tickets?{query}"), Some(&customer.token))
            .await
            .assert_error(400, "invalid_query");
    }
    let csv = app
        .get("/api/tickets/export.csv", Some(&customer.token))
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert!(!csv.text.contains("vip"), "{}", csv.text);
    // Nor in the history.
    let history = app
        .get(&format!("/api/tickets/{id}/history"), Some(&customer.token))
        .await;
    let history = history.assert_ok(200).as_array().unwrap().clone();
    assert!(
        history.iter().any(|h| h["field"] == "assignee"),
        "{history:?}"
    );
    assert!(history.iter().all(|h| h["field"] != "tag"), "{history:?}");
    let staff_history = app
        .get(&format!("/api/tickets/{id}/history"), Some(&admin.token))
        .await;
    assert!(
        staff_history
            .assert_ok(200)
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["field"] == "tag")
    );
}

async fn lists_filter_by_all_and_any_of_tags(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let mut ids = Vec::new();
    for (subject, tags) in [
        ("A", json!(["billing", "vip"])),
        ("B", json!(["billing"])),
        ("C", json!(["shipping"])),
        ("D", json!([])),
    ] {
        let t = app.ticket(&customer.token, subject).await;
        let id = t["id"].as_str().unwrap().to_owned();
        put_tags(&app, &admin, &id, tags).await.assert_ok(200);
        ids.push(id);
    }
    for (query, expected) in [
        ("tags=billing", vec!["A", "B"]),
        ("tags=billing,vip", vec!["A"]),
        ("tags=BILLING,%20vip", vec!["A"]),
        ("tags=billing,shipping", vec![]),
        ("any_tags=vip,shipping", vec!["A", "C"]),
        ("any_tags=billing,,billing", vec!["A", "B"]),
        ("tags=billing&any_tags=shipping,vip", vec!["A"]),
        ("tags=unknown", vec![]),
        ("tags=", vec!["A", "B", "C", "D"]),
    ] {
        assert_eq!(subjects(&app, &admin, query).await, expected, "{query}");
    }
    // Agents filter the queue the same way.
    assert_eq!(
        subjects(&app, &agent, "tags=billing&assigned_agent_id=none").await,
        ["A", "B"]
    );
    // List rows carry their tags for staff.
    let rows = app.get("/api/tickets?tags=vip", Some(&admin.token)).await;
    assert_eq!(tags_of(&rows.assert_ok(200)[0]), ["billing", "vip"]);
    // A tag no ticket can carry is a bad filter.
    let too_many: Vec<String> = (0..=shared::tags::MAX_TAGS_PER_TICKET)
        .map(|i| format!("t{i}"))
        .collect();
    for query in [
        "tags=a%3Cb".to_owned(),
        format!("tags={}", "x".repeat(shared::tags::MAX_TAG_CHARS + 1)),
        format!("any_tags={}", too_many.join(",")),
        "tags=nul%00".to_owned(),
    ] {
        for path in ["/api/tickets", "/api/tickets/export.csv"] {
            app.get(&format!("{path}?{query}"), Some(&admin.token))
                .await
                .assert_error(400, "invalid_query");
        }
    }

    // The known tags, most used first, then by name; `q` is a prefix.
    let known = app.get("/api/tags", Some(&agent.token)).await;
    assert_eq!(
        known.assert_ok(200),
        &json!([
            {"tag": "billing", "count": 2},
            {"tag": "shipping", "count": 1},
            {"tag": "vip", "count": 1}
        ])
    );
    assert_eq!(known.body["count"], 3);
    let some = app.get("/api/tags?q=Bi", Some(&agent.token)).await;
    assert_eq!(
        some.assert_ok(200),
        &json!([{"tag": "billing", "count": 2}])
    );
    let none = app.get("/api/tags?q=%25", Some(&agent.token)).await;
    assert_eq!(none.assert_ok(200), &json!([]));
    let paged = app
        .get("/api/tags?per_page=1&page=2", Some(&agent.token))
        .await;
    assert_eq!(
        paged.assert_ok(200),
        &json!([{"tag": "shipping", "count": 1}])
    );
    assert_eq!(paged.body["pages"], 3);
}

async fn tag_changes_are_history_and_live_events(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Watched").await;
    let id = t["id"].as_str().unwrap();
    let (mut staff_ws, _) = Ws::signed_in(&app, &admin.token).await;
    let (mut customer_ws, _) = Ws::signed_in(&app, &customer.token).await;

    put_tags(&app, &admin, id, json!(["billing", "vip"]))
        .await
        .assert_ok(200);
    let e = staff_ws
        .until("ticket-updated with tags", |v| {
            v["event"] == "ticket-updated" && v["data"]["ticket"]["id"] == id
        })
        .await;
    assert_eq!(tags_of(&e["data"]["ticket"]), ["billing", "vip"]);
    let seen = customer_ws
        .until("ticket-updated", |v| {
            v["event"] == "ticket-updated" && v["data"]["ticket"]["id"] == id
        })
        .await;
    assert!(seen["data"]["ticket"].get("tags").is_none(), "{seen}");

    put_tags(&app, &admin, id, json!(["vip", "urgent-call"]))
        .await
        .assert_ok(200);
    let e = staff_ws
        .until("second ticket-updated", |v| {
            v["event"] == "ticket-updated"
                && v["data"]["ticket"]["tags"]
                    .as_array()
                    .is_some_and(|t| t.len() == 2 && t[0] == "urgent-call")
        })
        .await;
    assert_eq!(tags_of(&e["data"]["ticket"]), ["urgent-call", "vip"]);
    // The same set again (as written differently) changes nothing: no history.
    put_tags(&app, &admin, id, json!(["VIP", "urgent-call"]))
        .await
        .assert_ok(200);

    let history = app
        .get(&format!("/api/tickets/{id}/history"), Some(&admin.token))
        .await;
    let mut tag_rows: Vec<String> = history
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "tag")
        .inspect(|h| assert_eq!(h["actor"]["id"], admin.id.as_str(), "{h}"))
        .map(|h| match (h["from"].as_str(), h["to"].as_str()) {
            (None, Some(added)) => format!("+{added}"),
            (Some(removed), None) => format!("-{removed}"),
            _ => panic!("a tag row names one tag: {h}"),
        })
        .collect();
    // Rows of one change share their instant, so compare them as a set.
    tag_rows.sort();
    assert_eq!(tag_rows, ["+billing", "+urgent-call", "+vip", "-billing"]);
    staff_ws.close().await;
    customer_ws.close().await;
}

/// A journey whose end node tags the ticket.
fn journey(slug: &str, end: Value) -> Value {
    let mut end = end;
    end["type"] = json!("end");
    end["category"] = json!("orders");
    end["priority"] = json!("high");
    end["subject"] = json!("Order {what}");
    json!({"slug": slug, "name": "Orders", "description": "d", "icon": "x",
           "definition": {"startNode": "what", "nodes": {
               "what": {"type": "question", "questionType": "text", "title": "What?", "required": true, "next": "end"},
               "end": end}}})
}

async fn journey_end_nodes_tag_their_tickets(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    // Tags must be written in their stored form, each once, at most twenty.
    for tags in [
        json!(["Damaged"]),
        json!(["a,b"]),
        json!(["x", "x"]),
        json!((0..=20).map(|i| format!("t{i}")).collect::<Vec<_>>()),
    ] {
        let resp = app
            .post(
                "/api/journeys",
                Some(&admin.token),
                &journey("bad-tags", json!({ "tags": tags })),
            )
            .await;
        resp.assert_error(422, "invalid_journey");
        let problems = resp.body["details"]["problems"].as_array().unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p["code"] == "invalid_tag" && p["node_id"] == "end"),
            "{tags}: {problems:?}"
        );
    }
    let created = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &journey("orders", json!({"tags": ["orders", "damaged"]})),
        )
        .await;
    let jid = created.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/journeys/{jid}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let submitted = app
        .post(
            &format!("/api/journeys/{jid}/submit"),
            Some(&customer.token),
            &json!({"answers": {"what": "broken cup"}}),
        )
        .await;
    let t = submitted.assert_ok(201).clone();
    assert!(t.get("tags").is_none(), "{t}");
    let tid = t["id"].as_str().unwrap();
    let staff = app
        .get(&format!("/api/tickets/{tid}"), Some(&admin.token))
        .await;
    assert_eq!(tags_of(staff.assert_ok(200)), ["damaged", "orders"]);
    // Set by the journey: a system change in the history.
    let history = app
        .get(&format!("/api/tickets/{tid}/history"), Some(&admin.token))
        .await;
    let added: Vec<&Value> = history
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "tag")
        .collect();
    assert_eq!(added.len(), 2);
    assert!(added.iter().all(|h| h["actor"].is_null()));
    // The export (and a second edit) keep the tags in the document.
    let exported = app
        .get(&format!("/api/journeys/{jid}/export"), Some(&admin.token))
        .await;
    assert_eq!(exported.status.as_u16(), 200);
    assert!(exported.text.contains("\"tags\""), "{}", exported.text);

    // The original format carries document-level tags onto its end node.
    let legacy = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "legacy-tags", "name": "Legacy", "description": "d", "icon": "x",
                    "definition": {"category": "general", "tags": ["legacy"],
                                   "nodes": [{"id": "q", "question": "Tell us"}]}}),
        )
        .await;
    let legacy = legacy.assert_ok(201).clone();
    let lid = legacy["id"].as_str().unwrap();
    app.post(
        &format!("/api/journeys/{lid}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let t = app
        .post(
            &format!("/api/journeys/{lid}/submit"),
            Some(&customer.token),
            &json!({"answers": {"q": "hello"}}),
        )
        .await;
    let tid = t.assert_ok(201)["id"].as_str().unwrap().to_owned();
    let staff = app
        .get(&format!("/api/tickets/{tid}"), Some(&admin.token))
        .await;
    assert_eq!(tags_of(staff.assert_ok(200)), ["legacy"]);
}

async fn the_export_and_analytics_carry_tags(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    for (subject, tags) in [
        ("One", json!(["billing", "vip"])),
        ("Two", json!(["billing"])),
        ("Three", json!([])),
    ] {
        let t = app.ticket(&customer.token, subject).await;
        put_tags(&app, &admin, t["id"].as_str().unwrap(), tags)
            .await
            .assert_ok(200);
    }
    let csv = app.get("/api/tickets/export.csv", Some(&admin.token)).await;
    assert_eq!(csv.status.as_u16(), 200);
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    // Tags come after the SLA columns, before the satisfaction rating (empty here).
    assert!(
        lines[0].ends_with(",escalated,tags,csat_score,csat_comment"),
        "{}",
        lines[0]
    );
    let row = |subject: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!(",{subject},")))
            .unwrap_or_else(|| panic!("{subject} not in {lines:?}"))
            .to_string()
    };
    assert!(row("One").ends_with(",billing vip,,"), "{}", row("One"));
    assert!(row("Two").ends_with(",billing,,"), "{}", row("Two"));
    assert!(row("Three").ends_with(",,,"), "{}", row("Three"));
    let filtered = app
        .get("/api/tickets/export.csv?tags=vip", Some(&admin.token))
        .await;
    assert_eq!(
        filtered
            .text
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .count(),
        2
    );

    let counts = app.get("/api/analytics/tags", Some(&admin.token)).await;
    let counts = counts.assert_ok(200);
    assert_eq!(counts["tickets"], 3);
    assert_eq!(counts["tagged"], 2);
    assert_eq!(
        counts["tags"],
        json!([{"tag": "billing", "count": 2}, {"tag": "vip", "count": 1}])
    );
    // A range without those tickets counts nothing.
    let old = app
        .get(
            "/api/analytics/tags?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            Some(&admin.token),
        )
        .await;
    let old = old.assert_ok(200);
    assert_eq!(old["tickets"], 0);
    assert_eq!(old["tags"], json!([]));
    app.get("/api/analytics/tags", Some(&agent.token))
        .await
        .assert_error(403, "forbidden");
    app.get(
        "/api/analytics/tags?from=2020-02-01T00:00:00Z&to=2020-01-01T00:00:00Z",
        Some(&admin.token),
    )
    .await
    .assert_error(400, "invalid_query");
}

async fn a_macro_adds_its_tags(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Needs follow-up").await;
    let id = t["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{id}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    put_tags(&app, &agent, id, json!(["billing"]))
        .await
        .assert_ok(200);

    // Bad tags are refused when saving; good ones are stored normalised.
    app.post(
        "/api/macros",
        Some(&agent.token),
        &json!({"title": "T", "body": "x", "actions": {"add_tags": ["a,b"]}}),
    )
    .await
    .assert_error(400, "invalid_tag");
    let m = app
        .post(
            "/api/macros",
            Some(&agent.token),
            &json!({"title": "Follow up", "body": "We will get back to you.",
                    "actions": {"priority": "high", "add_tags": ["Follow up", "billing"]}}),
        )
        .await;
    let m = m.assert_ok(201).clone();
    assert_eq!(
        m["actions"],
        json!({"priority": "high", "add_tags": ["billing", "follow-up"]})
    );
    let mid = m["id"].as_str().unwrap();
    let preview = app
        .get(
            &format!("/api/tickets/{id}/macros/{mid}/preview"),
            Some(&agent.token),
        )
        .await;
    assert_eq!(
        preview.assert_ok(200)["actions"]["add_tags"],
        json!(["billing", "follow-up"])
    );

    let applied = app
        .post(
            &format!("/api/tickets/{id}/macros/{mid}/apply"),
            Some(&agent.token),
            &json!({}),
        )
        .await;
    let applied = applied.assert_ok(201).clone();
    assert_eq!(applied["ticket"]["priority"], "high");
    assert_eq!(tags_of(&applied["ticket"]), ["billing", "follow-up"]);
    let history = app
        .get(&format!("/api/tickets/{id}/history"), Some(&agent.token))
        .await;
    assert!(
        history
            .assert_ok(200)
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["field"] == "tag"
                && h["to"] == "follow-up"
                && h["actor"]["id"] == agent.id.as_str()),
        "{}",
        history.text
    );

    // A macro that would take the ticket past twenty tags sends nothing.
    let full: Vec<String> = (0..shared::tags::MAX_TAGS_PER_TICKET)
        .map(|i| format!("t{i}"))
        .collect();
    put_tags(&app, &agent, id, json!(full)).await.assert_ok(200);
    let before = app
        .get(&format!("/api/tickets/{id}/messages"), Some(&agent.token))
        .await;
    let before = before.assert_ok(200).as_array().unwrap().len();
    app.post(
        &format!("/api/tickets/{id}/macros/{mid}/apply"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_error(400, "invalid_tag");
    let after = app
        .get(&format!("/api/tickets/{id}/messages"), Some(&agent.token))
        .await;
    assert_eq!(after.assert_ok(200).as_array().unwrap().len(), before);
}
