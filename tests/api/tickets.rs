//! The ticket lifecycle, workflow rules, visibility and listing.

use serde_json::{Value, json};
use shared::{Role, TicketStatus, tickets::allowed_transitions};

use crate::helpers::{TestApp, TestUser};

crate::db_tests!(
    full_lifecycle_with_history,
    every_forbidden_transition_is_a_conflict,
    customers_only_see_their_own_tickets,
    agents_see_the_queue_and_their_own,
    staff_open_tickets_for_customers,
    ticket_input_is_validated,
    numbers_are_unique_and_increasing,
    priority_change_moves_the_deadlines,
    pending_pauses_the_sla_clock,
    list_filters_sort_and_paginate,
    bad_list_queries_are_rejected,
);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn set_status(
    app: &TestApp,
    who: &TestUser,
    ticket: &str,
    status: &str,
) -> crate::helpers::Resp {
    app.patch(
        &format!("/api/tickets/{ticket}"),
        Some(&who.token),
        &json!({"status": status}),
    )
    .await
}

async fn full_lifecycle_with_history(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "Printer on fire").await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "medium");
    assert!(t["number"].as_i64().unwrap() > 1000);
    assert_eq!(t["customer"]["id"], customer.id.as_str());
    assert!(t["assigned_agent"].is_null());
    // The customer sees when to expect a reply, not the internal clock.
    assert_eq!(t["sla"]["eta"]["kind"], "reply");
    assert!(t["sla"]["status"].is_null());
    let tid = id(&t);
    let staff = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    let staff = staff.assert_ok(200);
    assert!(staff["sla"]["response_due_at"].is_string());
    assert_eq!(staff["sla"]["status"], "ok");

    // The agent opens it: that takes it.
    let t = set_status(&app, &agent, &tid, "open").await;
    let t = t.assert_ok(200);
    assert_eq!(t["status"], "open");
    assert_eq!(t["assigned_agent"]["id"], agent.id.as_str());

    let t = set_status(&app, &agent, &tid, "pending").await;
    assert_eq!(t.assert_ok(200)["sla"]["paused"], true);
    let t = set_status(&app, &agent, &tid, "open").await;
    assert_eq!(t.assert_ok(200)["sla"]["paused"], false);
    let t = set_status(&app, &agent, &tid, "resolved").await;
    let t = t.assert_ok(200);
    assert!(t["resolved_at"].is_string());
    assert!(t["sla"]["status"].is_null());

    // The customer is not happy: reopen, then the agent resolves again and closes.
    let t = set_status(&app, &customer, &tid, "open").await;
    assert!(t.assert_ok(200)["resolved_at"].is_null());
    set_status(&app, &agent, &tid, "resolved")
        .await
        .assert_ok(200);
    let t = set_status(&app, &agent, &tid, "closed").await;
    assert!(t.assert_ok(200)["closed_at"].is_string());

    let history = app
        .get(
            &format!("/api/tickets/{tid}/history"),
            Some(&customer.token),
        )
        .await;
    let entries = history.assert_ok(200).as_array().unwrap().clone();
    let statuses: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e["field"] == "status")
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("new", "open"),
        ("open", "pending"),
        ("pending", "open"),
        ("open", "resolved"),
        ("resolved", "open"),
        ("open", "resolved"),
        ("resolved", "closed"),
    ];
    assert_eq!(
        statuses,
        expected
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(entries[0]["field"], "created");
    let assignee = entries.iter().find(|e| e["field"] == "assignee").unwrap();
    assert_eq!(assignee["to"], agent.id.as_str());
    assert_eq!(assignee["actor"]["id"], agent.id.as_str());
    let reopen = entries
        .iter()
        .find(|e| e["field"] == "status" && e["from"] == "resolved" && e["to"] == "open")
        .unwrap();
    assert_eq!(reopen["actor"]["role"], "customer");

    // Closed is final.
    set_status(&app, &customer, &tid, "open")
        .await
        .assert_error(409, "invalid_transition");
}

/// Drives a fresh ticket to `status` along allowed steps.
async fn ticket_in(
    app: &TestApp,
    customer: &TestUser,
    agent: &TestUser,
    status: TicketStatus,
) -> String {
    let tid = id(&app.ticket(&customer.token, "state machine").await);
    let steps: &[&str] = match status {
        TicketStatus::New => &[],
        TicketStatus::Open => &["open"],
        TicketStatus::Pending => &["open", "pending"],
        TicketStatus::Resolved => &["open", "resolved"],
        TicketStatus::Closed => &["open", "resolved", "closed"],
    };
    for step in steps {
        set_status(app, agent, &tid, step).await.assert_ok(200);
    }
    tid
}

async fn every_forbidden_transition_is_a_conflict(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    for (staff, actor) in [(true, &agent), (false, &customer)] {
        for from in TicketStatus::ALL {
            let allowed = allowed_transitions(from, staff);
            for to in TicketStatus::ALL {
                if to == from || allowed.contains(&to) {
                    continue;
                }
                let tid = ticket_in(&app, &customer, &agent, from).await;
                let resp = set_status(&app, actor, &tid, to.as_str()).await;
                resp.assert_error(409, "invalid_transition");
                assert_eq!(resp.body["details"]["from"], from.as_str(), "{}", resp.text);
                assert_eq!(resp.body["details"]["to"], to.as_str());
                // Nothing changed.
                let now = app
                    .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
                    .await;
                assert_eq!(now.assert_ok(200)["status"], from.as_str());
            }
        }
    }
    // An admin cannot open an unassigned ticket without assigning it.
    let admin = app.user(Role::Admin).await;
    let tid = id(&app.ticket(&customer.token, "needs an agent").await);
    set_status(&app, &admin, &tid, "open")
        .await
        .assert_error(409, "not_assigned");
    // Customers may not touch priority or category.
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&customer.token),
        &json!({"priority": "urgent"}),
    )
    .await
    .assert_error(403, "forbidden");
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&customer.token),
        &json!({"status": "bogus"}),
    )
    .await
    .assert_error(400, "invalid_json");
}

async fn customers_only_see_their_own_tickets(app: TestApp) {
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let tid = id(&app.ticket(&alice.token, "Alice's secret").await);
    app.ticket(&bob.token, "Bob's own").await;

    let path = format!("/api/tickets/{tid}");
    app.get(&path, Some(&bob.token))
        .await
        .assert_error(404, "not_found");
    app.patch(&path, Some(&bob.token), &json!({"status": "closed"}))
        .await
        .assert_error(404, "not_found");
    app.get(&format!("{path}/messages"), Some(&bob.token))
        .await
        .assert_error(404, "not_found");
    app.post(
        &format!("{path}/messages"),
        Some(&bob.token),
        &json!({"body": "let me in"}),
    )
    .await
    .assert_error(404, "not_found");
    app.get(&format!("{path}/history"), Some(&bob.token))
        .await
        .assert_error(404, "not_found");
    // The same answer as for an id that does not exist at all.
    let missing = app
        .get(
            &format!("/api/tickets/{}", uuid::Uuid::new_v4()),
            Some(&bob.token),
        )
        .await;
    missing.assert_error(404, "not_found");
    assert_eq!(
        missing.body["error"],
        app.get(&path, Some(&bob.token)).await.body["error"]
    );

    let list = app.get("/api/tickets", Some(&bob.token)).await;
    let list = list.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["subject"], "Bob's own");
    // Filtering by another customer shows nothing either.
    let filtered = app
        .get(
            &format!("/api/tickets?customer_id={}", alice.id),
            Some(&bob.token),
        )
        .await;
    assert_eq!(filtered.body["count"], 0);
    // Alice's ticket is untouched.
    let t = app.get(&path, Some(&alice.token)).await;
    assert_eq!(t.assert_ok(200)["status"], "new");
}

async fn agents_see_the_queue_and_their_own(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent_a = app.user(Role::Agent).await;
    let agent_b = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let queued = id(&app.ticket(&customer.token, "queued").await);
    let mine = id(&app.ticket(&customer.token, "mine").await);
    set_status(&app, &agent_a, &mine, "open")
        .await
        .assert_ok(200);

    let a_list = app.get("/api/tickets", Some(&agent_a.token)).await;
    assert_eq!(a_list.body["count"], 2);
    let b_list = app.get("/api/tickets", Some(&agent_b.token)).await;
    let b_list = b_list.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(b_list.len(), 1);
    assert_eq!(b_list[0]["id"], queued.as_str());
    app.get(&format!("/api/tickets/{mine}"), Some(&agent_b.token))
        .await
        .assert_error(404, "not_found");
    // Filters narrow what an agent sees; they never widen it.
    for query in ["status=open", &format!("assigned_agent_id={}", agent_a.id)] {
        let filtered = app
            .get(&format!("/api/tickets?{query}"), Some(&agent_b.token))
            .await;
        assert_eq!(filtered.body["count"], 0, "{query}: {}", filtered.text);
    }
    app.get(&format!("/api/tickets/{mine}"), Some(&admin.token))
        .await
        .assert_ok(200);
    let all = app.get("/api/tickets", Some(&admin.token)).await;
    assert_eq!(all.body["count"], 2);

    let unassigned = app
        .get("/api/tickets?assigned_agent_id=none", Some(&admin.token))
        .await;
    assert_eq!(unassigned.body["count"], 1);
    let by_agent = app
        .get(
            &format!("/api/tickets?assigned_agent_id={}", agent_a.id),
            Some(&admin.token),
        )
        .await;
    assert_eq!(by_agent.body["count"], 1);
}

async fn staff_open_tickets_for_customers(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let other_agent = app.user(Role::Agent).await;
    let resp = app
        .post(
            "/api/tickets",
            Some(&agent.token),
            &json!({"subject": "Phoned in", "description": "Customer called.", "customer_id": customer.id, "priority": "high", "category": "phone"}),
        )
        .await;
    let t = resp.assert_ok(201);
    assert_eq!(t["customer"]["id"], customer.id.as_str());
    assert_eq!(t["priority"], "high");
    assert_eq!(t["category"], "phone");
    // The customer sees it.
    let list = app.get("/api/tickets", Some(&customer.token)).await;
    assert_eq!(list.body["count"], 1);

    for bad in [
        json!(null),
        json!(agent.id),
        json!(other_agent.id),
        json!(uuid::Uuid::new_v4()),
    ] {
        let mut body = json!({"subject": "x", "description": "y"});
        if !bad.is_null() {
            body["customer_id"] = bad;
        }
        let resp = app.post("/api/tickets", Some(&agent.token), &body).await;
        resp.assert_error(422, "validation_failed");
        assert!(resp.body["details"]["fields"]["customer_id"].is_string());
    }
    // Customers cannot open tickets for someone else.
    app.post(
        "/api/tickets",
        Some(&customer.token),
        &json!({"subject": "x", "description": "y", "customer_id": customer.id}),
    )
    .await
    .assert_error(422, "validation_failed");
}

async fn ticket_input_is_validated(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let resp = app
        .post(
            "/api/tickets",
            Some(&customer.token),
            &json!({"subject": "  ", "description": "", "category": "c".repeat(101)}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    for field in ["subject", "description", "category"] {
        assert!(resp.body["details"]["fields"][field].is_string(), "{field}");
    }
    app.post(
        "/api/tickets",
        Some(&customer.token),
        &json!({"subject": "s".repeat(201), "description": "d"}),
    )
    .await
    .assert_error(422, "validation_failed");
    app.post(
        "/api/tickets",
        Some(&customer.token),
        &json!({"subject": "ok", "description": "d", "priority": "apocalyptic"}),
    )
    .await
    .assert_error(400, "invalid_json");
    app.post(
        "/api/tickets",
        None,
        &json!({"subject": "ok", "description": "d"}),
    )
    .await
    .assert_error(401, "unauthorized");
    let list = app.get("/api/tickets", Some(&customer.token)).await;
    assert_eq!(list.body["count"], 0);
}

async fn numbers_are_unique_and_increasing(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let mut handles = Vec::new();
    for i in 0..12 {
        let client = app.client.clone();
        let url = app.url("/api/tickets");
        let token = customer.token.clone();
        handles.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"subject": format!("parallel {i}"), "description": "d"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            let body: Value = resp.json().await.unwrap();
            body["data"]["number"].as_i64().unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        numbers.push(h.await.unwrap());
    }
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 12, "numbers must be unique: {numbers:?}");
    let next = app.ticket(&customer.token, "after").await;
    assert!(next["number"].as_i64().unwrap() > *numbers.last().unwrap());
    // Searching by number finds it.
    let found = app
        .get(
            &format!("/api/tickets?q=%23{}", next["number"]),
            Some(&customer.token),
        )
        .await;
    assert_eq!(found.body["count"], 1);

    // After an import that used numbers of its own, new tickets continue above them.
    let imported_last = next["number"].as_i64().unwrap() + 500;
    server::services::skip_ticket_numbers_through(&app.db, imported_last)
        .await
        .unwrap();
    let after_import = app.ticket(&customer.token, "after the import").await;
    assert_eq!(after_import["number"].as_i64().unwrap(), imported_last + 1);
    // Skipping to a lower number never moves the numbers back.
    server::services::skip_ticket_numbers_through(&app.db, 1)
        .await
        .unwrap();
    let later = app.ticket(&customer.token, "later").await;
    assert_eq!(later["number"].as_i64().unwrap(), imported_last + 2);
}

async fn priority_change_moves_the_deadlines(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let tid = id(&app.ticket(&customer.token, "slow").await);
    // Deadlines are staff-only.
    let t = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    let t = t.assert_ok(200).clone();
    let due = |v: &Value, k: &str| {
        chrono::DateTime::parse_from_rfc3339(v["sla"][k].as_str().unwrap()).unwrap()
    };
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().unwrap()).unwrap();
    // Medium: 8 h response, 48 h resolution.
    assert_eq!((due(&t, "response_due_at") - created).num_minutes(), 8 * 60);
    assert_eq!(
        (due(&t, "resolution_due_at") - created).num_minutes(),
        48 * 60
    );

    let resp = app
        .patch(
            &format!("/api/tickets/{tid}"),
            Some(&agent.token),
            &json!({"priority": "urgent", "category": "fire"}),
        )
        .await;
    let t = resp.assert_ok(200);
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["category"], "fire");
    assert_eq!((due(t, "response_due_at") - created).num_minutes(), 60);
    assert_eq!(
        (due(t, "resolution_due_at") - created).num_minutes(),
        4 * 60
    );
    let history = app
        .get(&format!("/api/tickets/{tid}/history"), Some(&agent.token))
        .await;
    let fields: Vec<String> = history
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    for f in ["priority", "sla", "category"] {
        assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
    }
    // Clearing the category.
    let t = app
        .patch(
            &format!("/api/tickets/{tid}"),
            Some(&agent.token),
            &json!({"category": ""}),
        )
        .await;
    assert!(t.assert_ok(200)["category"].is_null());
}

async fn pending_pauses_the_sla_clock(app: TestApp) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    use server::entity::{Ticket, ticket};

    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let tid = id(&app.ticket(&customer.token, "waiting").await);
    set_status(&app, &agent, &tid, "open").await.assert_ok(200);
    let before = set_status(&app, &agent, &tid, "pending").await;
    let before = before.assert_ok(200).clone();
    assert!(before["sla"]["due_at"].is_null());

    // Pretend the ticket has been pending for two hours.
    let uuid: uuid::Uuid = tid.parse().unwrap();
    let row = Ticket::find_by_id(uuid)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: ticket::ActiveModel = row.clone().into();
    active.sla_paused_at = Set(row.sla_paused_at.map(|t| t - chrono::Duration::hours(2)));
    active.update(&app.db).await.unwrap();

    // The customer answers: back to open, deadlines pushed by the paused time.
    let resp = app
        .post(
            &format!("/api/tickets/{tid}/messages"),
            Some(&customer.token),
            &json!({"body": "Here is the info you asked for."}),
        )
        .await;
    resp.assert_ok(201);
    let after = app
        .get(&format!("/api/tickets/{tid}"), Some(&agent.token))
        .await;
    let after = after.assert_ok(200);
    assert_eq!(after["status"], "open");
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let moved =
        parse(&after["sla"]["resolution_due_at"]) - parse(&before["sla"]["resolution_due_at"]);
    assert!(
        (moved.num_minutes() - 120).abs() <= 1,
        "resolution deadline moved by {moved}"
    );
    assert!(after["sla"]["due_at"].is_string());
}

async fn list_filters_sort_and_paginate(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    for (i, priority) in ["low", "urgent", "medium", "high", "urgent"]
        .iter()
        .enumerate()
    {
        app.post(
            "/api/tickets",
            Some(&customer.token),
            &json!({"subject": format!("ticket {i}"), "description": "d", "priority": priority, "category": if i % 2 == 0 { "billing" } else { "tech" }}),
        )
        .await
        .assert_ok(201);
    }
    let first = app
        .get(
            "/api/tickets?sort=number&order=asc&per_page=1",
            Some(&admin.token),
        )
        .await;
    let first_id = id(&first.assert_ok(200)[0]);
    set_status(&app, &agent, &first_id, "open")
        .await
        .assert_ok(200);

    let urgent = app
        .get("/api/tickets?priority=urgent", Some(&admin.token))
        .await;
    assert_eq!(urgent.body["count"], 2);
    let hot = app
        .get("/api/tickets?priority=high,urgent", Some(&admin.token))
        .await;
    assert_eq!(hot.body["count"], 3);
    let billing = app
        .get("/api/tickets?category=billing", Some(&admin.token))
        .await;
    assert_eq!(billing.body["count"], 3);
    let open = app
        .get("/api/tickets?status=open", Some(&admin.token))
        .await;
    assert_eq!(open.body["count"], 1);
    let new = app
        .get("/api/tickets?status=new,pending", Some(&admin.token))
        .await;
    assert_eq!(new.body["count"], 4);
    let ok = app.get("/api/tickets?sla=ok", Some(&admin.token)).await;
    assert_eq!(ok.body["count"], 5);
    let breached = app
        .get("/api/tickets?sla=breached", Some(&admin.token))
        .await;
    assert_eq!(breached.body["count"], 0);
    let not_escalated = app
        .get("/api/tickets?escalated=false", Some(&admin.token))
        .await;
    assert_eq!(not_escalated.body["count"], 5);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let none = app
        .get(
            &format!("/api/tickets?created_from={}", urlencode(&future)),
            Some(&admin.token),
        )
        .await;
    assert_eq!(none.body["count"], 0);
    let all = app
        .get(
            &format!("/api/tickets?created_to={}", urlencode(&future)),
            Some(&admin.token),
        )
        .await;
    assert_eq!(all.body["count"], 5);
    let search = app
        .get("/api/tickets?q=TICKET%203", Some(&admin.token))
        .await;
    assert_eq!(search.body["count"], 1);

    // Priority, highest first; ties by age.
    let by_priority = app
        .get("/api/tickets?sort=priority&order=desc", Some(&admin.token))
        .await;
    let priorities: Vec<&str> = by_priority
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["priority"].as_str().unwrap())
        .collect();
    assert_eq!(priorities, ["urgent", "urgent", "high", "medium", "low"]);
    let by_sla = app
        .get("/api/tickets?sort=sla_due", Some(&admin.token))
        .await;
    let dues: Vec<String> = by_sla
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["sla"]["due_at"].as_str().unwrap_or("~").to_owned())
        .collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted);

    // Pages cover everything exactly once.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let resp = app
            .get(
                &format!("/api/tickets?per_page=2&page={page}"),
                Some(&admin.token),
            )
            .await;
        assert_eq!(resp.body["pages"], 3);
        seen.extend(resp.assert_ok(200).as_array().unwrap().iter().map(id));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let beyond = app
        .get("/api/tickets?per_page=2&page=1000000", Some(&admin.token))
        .await;
    assert_eq!(beyond.assert_ok(200).as_array().unwrap().len(), 0);
    assert_eq!(beyond.body["count"], 5);
}

async fn bad_list_queries_are_rejected(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    for query in [
        "page=0",
        "per_page=101",
        "per_page=0",
        "status=open,bogus",
        "priority=extreme",
        "sla=red",
        "sort=random",
        "order=sideways",
        "assigned_agent_id=nobody",
        "customer_id=42",
        "created_from=yesterday",
        "escalated=maybe",
        "page=99999999999999999999999",
        "colour=blue",
    ] {
        app.get(&format!("/api/tickets?{query}"), Some(&admin.token))
            .await
            .assert_error(400, "invalid_query");
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
