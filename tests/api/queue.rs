//! Agents, round-robin assignment, manual assignment, settings and the SLA monitor.
//!
//! Time is injected: the assignment and SLA services take `now`, so nothing here sleeps.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use server::{
    entity::{Event, EventRoom, Ticket, TicketHistory, event, ticket, ticket_history},
    services::{assignment, mail::Mailer, sla_monitor},
};
use shared::Role;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, TestUser};

crate::db_tests!(
    round_robin_is_fair_and_follows_priority,
    capacity_is_respected,
    shifts_filter_agents_by_local_time,
    the_rotation_survives_a_restart,
    going_offline_releases_open_tickets,
    exactly_one_agent_wins_a_take_race,
    take_and_assign_rules,
    concurrent_assignment_runs_assign_each_ticket_once,
    a_long_queue_drains_in_batches_without_breaking_the_rotation,
    sla_breaches_escalate_exactly_once,
    settings_are_validated_and_applied,
    agents_api_and_metrics,
);

/// An agent created through the API, set available, with a signed-in token.
async fn agent(app: &TestApp, admin: &TestUser, body: Value) -> TestUser {
    let email = format!("agent-{}@example.com", Uuid::new_v4().simple());
    let mut req = json!({"email": email, "password": "Agent-pass-1", "name": "Agent"});
    if let (Some(req), Some(extra)) = (req.as_object_mut(), body.as_object()) {
        req.extend(extra.clone());
    }
    let resp = app.post("/api/agents", Some(&admin.token), &req).await;
    let id = resp.assert_ok(201)["id"].as_str().unwrap().to_owned();
    let login = app.login(&email, "Agent-pass-1").await;
    let token = login.assert_ok(200)["token"].as_str().unwrap().to_owned();
    app.put(
        "/api/agents/me/status",
        Some(&token),
        &json!({"status": "available"}),
    )
    .await
    .assert_ok(200);
    TestUser { id, email, token }
}

async fn ticket_with(app: &TestApp, customer: &TestUser, subject: &str, priority: &str) -> String {
    let resp = app
        .post(
            "/api/tickets",
            Some(&customer.token),
            &json!({"subject": subject, "description": "d", "priority": priority}),
        )
        .await;
    resp.assert_ok(201)["id"].as_str().unwrap().to_owned()
}

fn ids(report: &assignment::Report) -> Vec<(String, String)> {
    report
        .assigned
        .iter()
        .map(|(t, a)| (t.to_string(), a.to_string()))
        .collect()
}

async fn round_robin_is_fair_and_follows_priority(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let mut agents = Vec::new();
    for _ in 0..3 {
        agents.push(agent(&app, &admin, json!({"capacity": 10})).await);
    }
    let mut subjects = HashMap::new();
    for (i, p) in [
        "low", "urgent", "medium", "high", "urgent", "low", "medium", "high", "medium",
    ]
    .iter()
    .enumerate()
    {
        let id = ticket_with(&app, &customer, &format!("t{i}"), p).await;
        subjects.insert(id, (i, *p));
    }
    let report = assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    let assigned = ids(&report);
    assert_eq!(assigned.len(), 9);

    // Priority first, then age.
    let order: Vec<(usize, &str)> = assigned.iter().map(|(t, _)| subjects[t]).collect();
    assert_eq!(
        order.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        [
            "urgent", "urgent", "high", "high", "medium", "medium", "medium", "low", "low"
        ]
    );
    assert!(order[0].0 < order[1].0 && order[2].0 < order[3].0);

    // Strict rotation over the agents in id order: 3 tickets each.
    let mut rotation: Vec<String> = agents.iter().map(|a| a.id.clone()).collect();
    rotation.sort();
    let got: Vec<&str> = assigned.iter().map(|(_, a)| a.as_str()).collect();
    for (i, agent_id) in got.iter().enumerate() {
        assert_eq!(*agent_id, rotation[i % 3], "position {i}");
    }
    // Assigned tickets are open and visible to their agent.
    let (ticket_id, agent_id) = &assigned[0];
    let owner = agents.iter().find(|a| &a.id == agent_id).unwrap();
    let t = app
        .get(&format!("/api/tickets/{ticket_id}"), Some(&owner.token))
        .await;
    let t = t.assert_ok(200);
    assert_eq!(t["status"], "open");
    assert_eq!(t["assigned_agent"]["id"], agent_id.as_str());
    // An empty queue is a no-op.
    assert!(
        assignment::run(&app.db, &Mailer::disabled(), Utc::now())
            .await
            .unwrap()
            .assigned
            .is_empty()
    );
}

async fn capacity_is_respected(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let a = agent(&app, &admin, json!({"capacity": 2})).await;
    let b = agent(&app, &admin, json!({"capacity": 1})).await;
    for i in 0..5 {
        ticket_with(&app, &customer, &format!("t{i}"), "medium").await;
    }
    let report = assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    assert_eq!(report.assigned.len(), 3);
    let count = |id: &str| {
        report
            .assigned
            .iter()
            .filter(|(_, x)| x.to_string() == id)
            .count()
    };
    assert_eq!((count(&a.id), count(&b.id)), (2, 1));
    let queue = app
        .get(
            "/api/tickets?status=new&assigned_agent_id=none",
            Some(&admin.token),
        )
        .await;
    assert_eq!(queue.body["count"], 2);

    // Resolving one frees a slot for the next run.
    let mine = app
        .get(
            &format!("/api/tickets?assigned_agent_id={}", b.id),
            Some(&b.token),
        )
        .await;
    assert_eq!(mine.body["count"], 1, "{}", mine.text);
    let mine = mine.assert_ok(200)[0]["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/tickets/{mine}"),
        Some(&b.token),
        &json!({"status": "resolved"}),
    )
    .await
    .assert_ok(200);
    let report = assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        ids(&report)
            .iter()
            .map(|(_, a)| a.clone())
            .collect::<Vec<_>>(),
        vec![b.id.clone()]
    );
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
}

async fn shifts_filter_agents_by_local_time(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    // 2026-11-26 is a Thursday; Berlin is UTC+1.
    let berlin = agent(
        &app,
        &admin,
        json!({"capacity": 50, "shift": {"start": "09:00", "end": "17:00", "time_zone": "Europe/Berlin", "days": ["mon","tue","wed","thu","fri"]}}),
    )
    .await;
    let night = agent(
        &app,
        &admin,
        json!({"capacity": 50, "shift": {"start": "22:00", "end": "06:00", "time_zone": "UTC", "days": ["thu"]}}),
    )
    .await;
    let who_gets_it = |report: &assignment::Report| -> Vec<String> {
        report.assigned.iter().map(|(_, a)| a.to_string()).collect()
    };

    ticket_with(&app, &customer, "morning", "medium").await;
    let at_10_berlin = assignment::run(&app.db, &Mailer::disabled(), utc(2026, 11, 26, 9))
        .await
        .unwrap();
    assert_eq!(who_gets_it(&at_10_berlin), vec![berlin.id.clone()]);

    ticket_with(&app, &customer, "evening", "medium").await;
    let at_20_utc = assignment::run(&app.db, &Mailer::disabled(), utc(2026, 11, 26, 20))
        .await
        .unwrap();
    assert!(
        at_20_utc.assigned.is_empty(),
        "nobody is on shift at 20:00 UTC"
    );

    // Thursday's night shift still runs at 03:00 on Friday.
    let friday_3am = assignment::run(&app.db, &Mailer::disabled(), utc(2026, 11, 27, 3))
        .await
        .unwrap();
    assert_eq!(who_gets_it(&friday_3am), vec![night.id.clone()]);

    // Saturday: Berlin's Mon–Fri shift is off.
    ticket_with(&app, &customer, "weekend", "medium").await;
    let saturday = assignment::run(&app.db, &Mailer::disabled(), utc(2026, 11, 28, 10))
        .await
        .unwrap();
    assert!(saturday.assigned.is_empty());

    // The API reports who is on shift now, and refuses unknown time zones.
    let resp = app
        .patch(
            &format!("/api/agents/{}", berlin.id),
            Some(&admin.token),
            &json!({"shift": {"start": "09:00", "end": "17:00", "time_zone": "Mars/Olympus", "days": ["mon"]}}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    let cleared = app
        .patch(
            &format!("/api/agents/{}", berlin.id),
            Some(&admin.token),
            &json!({"shift": null}),
        )
        .await;
    let cleared = cleared.assert_ok(200);
    assert!(cleared["shift"].is_null());
    assert_eq!(cleared["on_shift"], true);
}

async fn the_rotation_survives_a_restart(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let mut rotation = Vec::new();
    for _ in 0..3 {
        rotation.push(agent(&app, &admin, json!({"capacity": 10})).await.id);
    }
    rotation.sort();
    ticket_with(&app, &customer, "first", "medium").await;
    let first = assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    assert_eq!(first.assigned[0].1.to_string(), rotation[0]);

    // A new process: a fresh connection pool on the same database continues the rotation.
    let restarted = Database::connect(app.db_url.as_str()).await.unwrap();
    ticket_with(&app, &customer, "second", "medium").await;
    let second = assignment::run(&restarted, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    assert_eq!(second.assigned[0].1.to_string(), rotation[1]);
    ticket_with(&app, &customer, "third", "medium").await;
    ticket_with(&app, &customer, "fourth", "medium").await;
    let more = assignment::run(&restarted, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    let got: Vec<String> = more.assigned.iter().map(|(_, a)| a.to_string()).collect();
    assert_eq!(got, [rotation[2].clone(), rotation[0].clone()]);
    restarted.close().await.unwrap();
}

async fn going_offline_releases_open_tickets(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let a = agent(&app, &admin, json!({"capacity": 10})).await;
    for i in 0..2 {
        ticket_with(&app, &customer, &format!("t{i}"), "medium").await;
    }
    assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    let mine = app
        .get(
            &format!("/api/tickets?assigned_agent_id={}", a.id),
            Some(&admin.token),
        )
        .await;
    assert_eq!(mine.body["count"], 2);
    // One of them waits on the customer: pending tickets stay with the agent.
    let pending_id = mine.body["data"][0]["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/tickets/{pending_id}"),
        Some(&a.token),
        &json!({"status": "pending"}),
    )
    .await
    .assert_ok(200);

    let off = app
        .put(
            "/api/agents/me/status",
            Some(&a.token),
            &json!({"status": "offline"}),
        )
        .await;
    assert_eq!(off.assert_ok(200)["status"], "offline");
    let queue = app
        .get(
            "/api/tickets?status=new&assigned_agent_id=none",
            Some(&admin.token),
        )
        .await;
    assert_eq!(queue.body["count"], 1);
    let released = queue.body["data"][0]["id"].as_str().unwrap().to_owned();
    let history = app
        .get(
            &format!("/api/tickets/{released}/history"),
            Some(&admin.token),
        )
        .await;
    assert!(history.text.contains("\"field\":\"assignee\""));
    let still = app
        .get(&format!("/api/tickets/{pending_id}"), Some(&admin.token))
        .await;
    assert_eq!(still.assert_ok(200)["assigned_agent"]["id"], a.id.as_str());

    // With the setting off, going offline keeps the tickets.
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"release_on_offline": false}),
    )
    .await
    .assert_ok(200);
    app.put(
        "/api/agents/me/status",
        Some(&a.token),
        &json!({"status": "available"}),
    )
    .await
    .assert_ok(200);
    assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    app.put(
        "/api/agents/me/status",
        Some(&a.token),
        &json!({"status": "offline"}),
    )
    .await
    .assert_ok(200);
    let queue = app
        .get(
            "/api/tickets?status=new&assigned_agent_id=none",
            Some(&admin.token),
        )
        .await;
    assert_eq!(queue.body["count"], 0);
}

async fn exactly_one_agent_wins_a_take_race(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let mut agents = Vec::new();
    for _ in 0..8 {
        agents.push(agent(&app, &admin, json!({"capacity": 5})).await);
    }
    for round in 0..3 {
        let tid = ticket_with(&app, &customer, &format!("race {round}"), "high").await;
        let mut handles = Vec::new();
        for a in &agents {
            let client = app.client.clone();
            let url = app.url(&format!("/api/tickets/{tid}/take"));
            let token = a.token.clone();
            handles.push(tokio::spawn(async move {
                let resp = client.post(url).bearer_auth(token).send().await.unwrap();
                let status = resp.status().as_u16();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                (status, body["code"].as_str().unwrap_or("").to_owned())
            }));
        }
        let mut results = Vec::new();
        for h in handles {
            results.push(h.await.unwrap());
        }
        let winners = results.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .filter(|(s, _)| *s != 200)
                .all(|(s, c)| *s == 409 && c == "already_assigned"),
            "{results:?}"
        );
        let uuid: Uuid = tid.parse().unwrap();
        let assignments = TicketHistory::find()
            .filter(ticket_history::Column::TicketId.eq(uuid))
            .filter(ticket_history::Column::Field.eq("assignee"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(assignments, 1);
    }
}

async fn take_and_assign_rules(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let a = agent(&app, &admin, json!({"capacity": 1})).await;
    let b = agent(&app, &admin, json!({"capacity": 5})).await;
    let t1 = ticket_with(&app, &customer, "one", "low").await;
    let t2 = ticket_with(&app, &customer, "two", "low").await;

    let took = app
        .post(
            &format!("/api/tickets/{t1}/take"),
            Some(&a.token),
            &json!({}),
        )
        .await;
    assert_eq!(took.assert_ok(200)["assigned_agent"]["id"], a.id.as_str());
    app.post(
        &format!("/api/tickets/{t1}/take"),
        Some(&a.token),
        &json!({}),
    )
    .await
    .assert_error(409, "already_assigned");
    app.post(
        &format!("/api/tickets/{t2}/take"),
        Some(&a.token),
        &json!({}),
    )
    .await
    .assert_error(409, "over_capacity");
    app.post(
        &format!("/api/tickets/{t2}/take"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_error(403, "forbidden");
    app.post(
        &format!("/api/tickets/{t2}/take"),
        Some(&customer.token),
        &json!({}),
    )
    .await
    .assert_error(403, "forbidden");
    app.post(
        &format!("/api/tickets/{}/take", Uuid::new_v4()),
        Some(&b.token),
        &json!({}),
    )
    .await
    .assert_error(404, "not_found");

    // Admins reassign (ignoring capacity), and the old agent loses sight of it.
    let moved = app
        .post(
            &format!("/api/tickets/{t1}/assign"),
            Some(&admin.token),
            &json!({"agent_id": b.id}),
        )
        .await;
    assert_eq!(moved.assert_ok(200)["assigned_agent"]["id"], b.id.as_str());
    app.get(&format!("/api/tickets/{t1}"), Some(&a.token))
        .await
        .assert_error(404, "not_found");
    let unassigned = app
        .post(
            &format!("/api/tickets/{t1}/assign"),
            Some(&admin.token),
            &json!({"agent_id": null}),
        )
        .await;
    let unassigned = unassigned.assert_ok(200);
    assert_eq!(unassigned["status"], "new");
    assert!(unassigned["assigned_agent"].is_null());
    app.post(
        &format!("/api/tickets/{t1}/assign"),
        Some(&admin.token),
        &json!({"agent_id": customer.id}),
    )
    .await
    .assert_error(422, "validation_failed");
    app.post(
        &format!("/api/tickets/{t1}/assign"),
        Some(&b.token),
        &json!({"agent_id": b.id}),
    )
    .await
    .assert_error(403, "forbidden");
}

async fn concurrent_assignment_runs_assign_each_ticket_once(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    for _ in 0..4 {
        agent(&app, &admin, json!({"capacity": 100})).await;
    }
    for i in 0..60 {
        ticket_with(
            &app,
            &customer,
            &format!("bulk {i}"),
            if i % 3 == 0 { "high" } else { "low" },
        )
        .await;
    }
    // Two independent pools, as two server instances would have.
    let first = Database::connect(app.db_url.as_str()).await.unwrap();
    let second = Database::connect(app.db_url.as_str()).await.unwrap();
    let (a, b) = tokio::join!(
        async {
            let mut all = Vec::new();
            for _ in 0..5 {
                all.extend(
                    assignment::run(&first, &Mailer::disabled(), Utc::now())
                        .await
                        .unwrap()
                        .assigned,
                );
            }
            all
        },
        async {
            let mut all = Vec::new();
            for _ in 0..5 {
                all.extend(
                    assignment::run(&second, &Mailer::disabled(), Utc::now())
                        .await
                        .unwrap()
                        .assigned,
                );
            }
            all
        }
    );
    let mut tickets: Vec<Uuid> = a.iter().chain(b.iter()).map(|(t, _)| *t).collect();
    assert_eq!(tickets.len(), 60, "every ticket assigned");
    tickets.sort();
    tickets.dedup();
    assert_eq!(tickets.len(), 60, "no ticket assigned twice");
    let assignee_rows = TicketHistory::find()
        .filter(ticket_history::Column::Field.eq("assignee"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(assignee_rows, 60);
    if app.backend == Backend::Postgres {
        // Both instances did work or waited their turn; neither failed.
        assert!(!a.is_empty() || !b.is_empty());
    }
    first.close().await.unwrap();
    second.close().await.unwrap();
}

/// More tickets than one assignment transaction takes: the run continues batch after batch
/// and the rotation carries over from one batch to the next.
async fn a_long_queue_drains_in_batches_without_breaking_the_rotation(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let mut rotation = Vec::new();
    for _ in 0..3 {
        rotation.push(agent(&app, &admin, json!({"capacity": 1000})).await.id);
    }
    rotation.sort();
    // More than two batches.
    let n = (assignment::BATCH * 2 + 50) as usize;
    for i in 0..n {
        ticket_with(&app, &customer, &format!("queued {i}"), "medium").await;
    }
    let report = assignment::run(&app.db, &Mailer::disabled(), Utc::now())
        .await
        .unwrap();
    let assigned = ids(&report);
    assert_eq!(assigned.len(), n);
    for (i, (_, agent_id)) in assigned.iter().enumerate() {
        assert_eq!(*agent_id, rotation[i % 3], "position {i}");
    }
    let mut tickets: Vec<&String> = assigned.iter().map(|(t, _)| t).collect();
    tickets.sort();
    tickets.dedup();
    assert_eq!(tickets.len(), n);
    let queued = Ticket::find()
        .filter(ticket::Column::AssignedAgentId.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(queued, 0);
    // Each ticket as the batch wrote it: its agent and status, two history rows, one event.
    let rows: HashMap<Uuid, ticket::Model> = Ticket::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    for (t, agent_id) in &assigned {
        let row = &rows[&t.parse::<Uuid>().unwrap()];
        assert_eq!(
            row.assigned_agent_id.map(|a| a.to_string()),
            Some(agent_id.clone())
        );
        assert_eq!(row.status, ticket::Status::Open);
        assert!(row.assigned_at.is_some());
    }
    for field in ["assignee", "status"] {
        let written = TicketHistory::find()
            .filter(ticket_history::Column::Field.eq(field))
            .filter(ticket_history::Column::ActorId.is_null())
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(written, n as u64, "{field} history rows");
    }
    let events = Event::find()
        .filter(event::Column::EventType.eq("ticket-assigned"))
        .all(&app.db)
        .await
        .unwrap();
    let mut about: Vec<String> = events
        .iter()
        .map(|e| {
            e.payload["data"]["ticket"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    about.sort();
    about.dedup();
    assert_eq!(about.len(), n, "one ticket-assigned event per ticket");
    let rooms = EventRoom::find()
        .filter(event::room::Column::EventId.is_in(events.iter().map(|e| e.id)))
        .count(&app.db)
        .await
        .unwrap();
    // Admins, the customer, the ticket and its agent.
    assert_eq!(rooms, 4 * n as u64);
}

async fn sla_breaches_escalate_exactly_once(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    let urgent = ticket_with(&app, &customer, "on fire", "urgent").await;
    let waiting = ticket_with(&app, &customer, "waiting", "medium").await;
    let a = agent(&app, &admin, json!({"capacity": 10})).await;
    app.post(
        &format!("/api/tickets/{waiting}/take"),
        Some(&a.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{waiting}"),
        Some(&a.token),
        &json!({"status": "pending"}),
    )
    .await
    .assert_ok(200);

    let start = Utc::now();
    assert!(
        sla_monitor::run(&app.db, &Mailer::disabled(), start)
            .await
            .unwrap()
            .is_empty()
    );

    // Two hours later the urgent ticket's 1-hour response target is breached, once, even with
    // two monitors racing.
    let later = start + Duration::hours(2);
    let other = Database::connect(app.db_url.as_str()).await.unwrap();
    let off = Mailer::disabled();
    let (x, y) = tokio::join!(
        sla_monitor::run(&app.db, &off, later),
        sla_monitor::run(&other, &off, later)
    );
    let breaches: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0].ticket_id.to_string(), urgent);
    assert!(
        sla_monitor::run(&app.db, &Mailer::disabled(), later)
            .await
            .unwrap()
            .is_empty()
    );

    let t = app
        .get(&format!("/api/tickets/{urgent}"), Some(&admin.token))
        .await;
    let t = t.assert_ok(200);
    assert_eq!(t["escalated"], true);
    assert_eq!(t["escalation_level"], 1);
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["sla"]["response_breached"], true);
    assert_eq!(t["sla"]["resolution_breached"], false);
    let history = app
        .get(
            &format!("/api/tickets/{urgent}/history"),
            Some(&admin.token),
        )
        .await;
    assert!(history.text.contains("response breached"));

    // Five hours in, the resolution target (4 h) breaks too: a second, separate escalation.
    let much_later = start + Duration::hours(5);
    let breaches = sla_monitor::run(&app.db, &Mailer::disabled(), much_later)
        .await
        .unwrap();
    assert_eq!(breaches.len(), 1);
    let t = app
        .get(&format!("/api/tickets/{urgent}"), Some(&admin.token))
        .await;
    assert_eq!(t.assert_ok(200)["escalation_level"], 2);
    // The pending ticket's clock is paused: never breached, even days later.
    assert!(
        sla_monitor::run(&app.db, &Mailer::disabled(), start + Duration::days(30))
            .await
            .unwrap()
            .is_empty()
    );
    let w = Ticket::find_by_id(waiting.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!w.response_breached && !w.resolution_breached);
    assert_eq!(w.status, ticket::Status::Pending);
    other.close().await.unwrap();

    // A lower priority is raised one step on breach.
    let low = ticket_with(&app, &customer, "slow", "low").await;
    sla_monitor::run(
        &app.db,
        &Mailer::disabled(),
        Utc::now() + Duration::hours(25),
    )
    .await
    .unwrap();
    let t = app
        .get(&format!("/api/tickets/{low}"), Some(&admin.token))
        .await;
    assert_eq!(t.assert_ok(200)["priority"], "medium");
}

async fn settings_are_validated_and_applied(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent_user = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let current = app.get("/api/settings", Some(&admin.token)).await;
    let current = current.assert_ok(200).clone();
    assert_eq!(current["assignment_interval_secs"], 10);
    assert_eq!(current["sla_check_interval_secs"], 60);
    assert_eq!(current["sla_policies"]["urgent"]["response_minutes"], 60);
    for token in [&agent_user.token, &customer.token] {
        app.get("/api/settings", Some(token))
            .await
            .assert_error(403, "forbidden");
        app.put(
            "/api/settings",
            Some(token),
            &json!({"release_on_offline": false}),
        )
        .await
        .assert_error(403, "forbidden");
    }

    let mut policies = current["sla_policies"].clone();
    policies["high"]["response_minutes"] = json!(0);
    let resp = app
        .put(
            "/api/settings",
            Some(&admin.token),
            &json!({"sla_policies": policies, "assignment_interval_secs": 0}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert!(resp.body["details"]["fields"]["sla_policies.high.response_minutes"].is_string());
    assert!(resp.body["details"]["fields"]["assignment_interval_secs"].is_string());
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_check_interval_secs": -5}),
    )
    .await
    .assert_error(400, "invalid_json");

    let mut policies = current["sla_policies"].clone();
    policies["medium"] = json!({"response_minutes": 30, "resolution_minutes": 90});
    let saved = app
        .put(
            "/api/settings",
            Some(&admin.token),
            &json!({"sla_policies": policies, "assignment_interval_secs": 5}),
        )
        .await;
    let saved = saved.assert_ok(200);
    assert_eq!(saved["assignment_interval_secs"], 5);
    assert_eq!(saved["sla_check_interval_secs"], 60);
    let t = app
        .post(
            "/api/tickets",
            Some(&customer.token),
            &json!({"subject": "s", "description": "d"}),
        )
        .await;
    let tid = t.assert_ok(201)["id"].as_str().unwrap().to_owned();
    // Deadlines are staff-only.
    let t = app
        .get(&format!("/api/tickets/{tid}"), Some(&admin.token))
        .await;
    let t = t.assert_ok(200);
    let parse = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let created = parse(&t["created_at"]);
    assert_eq!(
        (parse(&t["sla"]["response_due_at"]) - created).num_minutes(),
        30
    );
    assert_eq!(
        (parse(&t["sla"]["resolution_due_at"]) - created).num_minutes(),
        90
    );
}

async fn agents_api_and_metrics(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let a = agent(&app, &admin, json!({"capacity": 3, "name": "Alexis"})).await;
    let me = app.get("/api/agents/me", Some(&a.token)).await;
    let me = me.assert_ok(200).clone();
    assert_eq!(me["name"], "Alexis");
    assert_eq!(me["status"], "available");
    assert_eq!(me["capacity"], 3);
    assert_eq!(me["metrics"]["open_tickets"], 0);

    for bad in [
        json!({"status": "sleeping"}),
        json!({"status": "away", "x": 1}),
    ] {
        app.put("/api/agents/me/status", Some(&a.token), &bad)
            .await
            .assert_error(400, "invalid_json");
    }
    app.get("/api/agents", Some(&customer.token))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/agents/me", Some(&admin.token))
        .await
        .assert_error(403, "forbidden");
    app.post(
        "/api/agents",
        Some(&admin.token),
        &json!({"email": "x@example.com", "password": "Agent-pass-1", "name": "X", "capacity": 0}),
    )
    .await
    .assert_error(422, "validation_failed");
    app.patch(
        &format!("/api/agents/{}", customer.id),
        Some(&admin.token),
        &json!({"capacity": 2}),
    )
    .await
    .assert_error(404, "not_found");

    // Work a ticket: first response and resolution show up in the metrics.
    let tid = ticket_with(&app, &customer, "metrics", "medium").await;
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&a.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&a.token),
        &json!({"body": "On it"}),
    )
    .await
    .assert_ok(201);
    let busy = app.get("/api/agents/me", Some(&a.token)).await;
    assert_eq!(busy.assert_ok(200)["metrics"]["open_tickets"], 1);
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&a.token),
        &json!({"status": "resolved"}),
    )
    .await
    .assert_ok(200);
    let list = app.get("/api/agents", Some(&admin.token)).await;
    let row = list
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == a.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["metrics"]["tickets_resolved"], 1);
    assert_eq!(row["metrics"]["open_tickets"], 0);
    assert!(row["metrics"]["avg_first_response_secs"].is_number());
    assert_eq!(row["metrics"]["sla_compliance_percent"], 100.0);

    // Admins may set anyone's status and deactivate an agent's profile.
    let set = app
        .put(
            &format!("/api/agents/{}/status", a.id),
            Some(&admin.token),
            &json!({"status": "away"}),
        )
        .await;
    assert_eq!(set.assert_ok(200)["status"], "away");
    let off = app
        .patch(
            &format!("/api/agents/{}", a.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(off.assert_ok(200)["active"], false);
    let t2 = ticket_with(&app, &customer, "inactive agent", "medium").await;
    app.post(
        &format!("/api/tickets/{t2}/take"),
        Some(&a.token),
        &json!({}),
    )
    .await
    .assert_error(403, "forbidden");
}
