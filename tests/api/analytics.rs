//! Analytics against a hand-computed fixture, and the CSV export.

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use server::{
    entity::{Ticket, ticket},
    services::analytics::rollup,
};
use shared::Role;
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser};

crate::db_tests!(
    overview_matches_a_hand_computed_fixture,
    rollups_give_the_live_answer_and_follow_later_changes,
    csv_export_streams_the_filtered_list,
    csv_export_stops_when_access_is_revoked,
    a_reopened_ticket_resolved_again_counts_once
);

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, d, h, 0, 0).single().unwrap()
}

/// Rewrites a ticket's clock-related columns to fixed values.
#[allow(clippy::too_many_arguments)]
async fn shape(
    app: &TestApp,
    id: &str,
    status: ticket::Status,
    created: DateTime<Utc>,
    agent: Option<&TestUser>,
    first_response: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    paused_secs: i64,
    due: (DateTime<Utc>, DateTime<Utc>),
    breached: (bool, bool),
    escalated: bool,
) {
    let row = Ticket::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut t: ticket::ActiveModel = row.into();
    t.status = Set(status);
    t.created_at = Set(created);
    t.assigned_agent_id = Set(agent.map(|a| a.id.parse().unwrap()));
    t.first_response_at = Set(first_response);
    t.resolved_at = Set(resolved);
    t.sla_paused_secs = Set(paused_secs);
    t.response_due_at = Set(Some(due.0));
    t.resolution_due_at = Set(Some(due.1));
    t.response_breached = Set(breached.0);
    t.resolution_breached = Set(breached.1);
    t.escalated = Set(escalated);
    t.update(&app.db).await.unwrap();
}

async fn make(
    app: &TestApp,
    customer: &TestUser,
    priority: &str,
    category: Option<&str>,
) -> String {
    let mut body =
        json!({"subject": format!("{priority} ticket"), "description": "d", "priority": priority});
    if let Some(c) = category {
        body["category"] = json!(c);
    }
    let resp = app.post("/api/tickets", Some(&customer.token), &body).await;
    resp.assert_ok(201)["id"].as_str().unwrap().to_owned()
}

fn counts(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_owned(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

struct Fixture {
    admin: TestUser,
    customer: TestUser,
    a: TestUser,
    b: TestUser,
    t2: String,
}

/// Five tickets around 1–3 January 2026 whose numbers are worked out by hand below.
async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let a = app.user(Role::Agent).await;
    let b = app.user(Role::Agent).await;
    use ticket::Status::*;
    // T1: answered after 1 h, resolved after 5 h of which 1 h pending: 4 h; all SLAs met.
    let t1 = make(app, &customer, "high", Some("billing")).await;
    shape(
        app,
        &t1,
        Resolved,
        at(1, 10),
        Some(&a),
        Some(at(1, 11)),
        Some(at(1, 15)),
        3600,
        (at(1, 14), at(2, 10)),
        (false, false),
        false,
    )
    .await;
    // T2: answered late (3 h, due after 2 h), resolved after 24 h, past its deadline.
    let t2 = make(app, &customer, "medium", None).await;
    shape(
        app,
        &t2,
        Resolved,
        at(2, 9),
        Some(&b),
        Some(at(2, 12)),
        Some(at(3, 9)),
        0,
        (at(2, 11), at(3, 8)),
        (true, false),
        false,
    )
    .await;
    // T3: never answered, breached and escalated, still new.
    let t3 = make(app, &customer, "low", Some("billing")).await;
    shape(
        app,
        &t3,
        New,
        at(3, 8),
        None,
        None,
        None,
        0,
        (at(3, 9), at(5, 8)),
        (true, false),
        true,
    )
    .await;
    // T4: created before the range, still open (backlog only).
    let t4 = make(app, &customer, "urgent", None).await;
    shape(
        app,
        &t4,
        Open,
        Utc.with_ymd_and_hms(2025, 12, 31, 20, 0, 0)
            .single()
            .unwrap(),
        Some(&a),
        None,
        None,
        0,
        (at(1, 0), at(1, 8)),
        (false, false),
        false,
    )
    .await;
    // T5: after the range.
    let t5 = make(app, &customer, "urgent", None).await;
    shape(
        app,
        &t5,
        New,
        at(5, 12),
        None,
        None,
        None,
        0,
        (at(5, 13), at(5, 16)),
        (false, false),
        false,
    )
    .await;
    Fixture {
        admin,
        customer,
        a,
        b,
        t2,
    }
}

const FIXTURE_RANGE: &str =
    "/api/analytics/overview?from=2026-01-01T00:00:00Z&to=2026-01-04T00:00:00Z";

async fn overview_matches_a_hand_computed_fixture(app: TestApp) {
    let f = fixture(&app).await;
    // Computed live (nothing rolled up yet), then from the rollups: the same numbers.
    check_fixture_overview(&app, &f).await;
    refresh_rollups(&app).await;
    check_fixture_overview(&app, &f).await;
}

/// Folds the whole change log into the rollups, as the background job does.
async fn refresh_rollups(app: &TestApp) {
    rollup::catch_up(&app.db).await.unwrap();
    assert!(rollup::pending_days(&app.db).await.unwrap().is_empty());
}

async fn check_fixture_overview(app: &TestApp, f: &Fixture) {
    let Fixture {
        admin,
        customer,
        a,
        b,
        ..
    } = f;
    let q = FIXTURE_RANGE;
    let resp = app.get(q, Some(&admin.token)).await;
    let o = resp.assert_ok(200).clone();
    assert_eq!(o["created"], 3);
    assert_eq!(o["resolved"], 2);
    assert_eq!(o["open"], 2);
    assert_eq!(o["escalated"], 1);
    assert_eq!(
        counts(&o["by_status"]),
        [("resolved".into(), 2), ("new".into(), 1)]
    );
    assert_eq!(
        counts(&o["by_priority"]),
        [("high".into(), 1), ("low".into(), 1), ("medium".into(), 1)]
    );
    assert_eq!(
        counts(&o["by_category"]),
        [("billing".into(), 2), ("none".into(), 1)]
    );
    assert_eq!(counts(&o["by_journey"]), [("none".into(), 3)]);
    assert_eq!(
        o["first_response"],
        json!({"count": 2, "avg_secs": 7200.0, "p50_secs": 3600.0, "p90_secs": 10800.0})
    );
    // Pending time does not count: T1 took 4 h, not 5 h.
    assert_eq!(
        o["resolution"],
        json!({"count": 2, "avg_secs": 50400.0, "p50_secs": 14400.0, "p90_secs": 86400.0})
    );
    let response = o["sla"]["response_percent"].as_f64().unwrap();
    assert!((response - 100.0 / 3.0).abs() < 1e-9, "{response}");
    assert_eq!(o["sla"]["resolution_percent"], 50.0);

    let days: Vec<(String, u64, u64, u64)> = o["per_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_owned(),
                d["created"].as_u64().unwrap(),
                d["resolved"].as_u64().unwrap(),
                d["backlog"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-01-01".into(), 1, 1, 1),
            ("2026-01-02".into(), 1, 0, 2),
            ("2026-01-03".into(), 1, 1, 2),
        ]
    );
    assert_eq!(o["per_day"][0]["resolution_sla_percent"], 100.0);
    assert!(o["per_day"][1]["resolution_sla_percent"].is_null());
    assert_eq!(o["per_day"][2]["resolution_sla_percent"], 0.0);

    let row = |id: &str| {
        o["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["agent_id"] == id)
            .cloned()
            .unwrap()
    };
    let ra = row(&a.id);
    assert_eq!(
        (ra["assigned"].clone(), ra["resolved"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(ra["avg_first_response_secs"], 3600.0);
    assert_eq!(ra["avg_resolution_secs"], 14400.0);
    assert_eq!(ra["sla_compliance_percent"], 100.0);
    let rb = row(&b.id);
    assert_eq!(rb["avg_resolution_secs"], 86400.0);
    assert_eq!(rb["sla_compliance_percent"], 0.0);

    // An agent sees their own numbers only.
    let mine = app.get(q, Some(&a.token)).await;
    let mine = mine.assert_ok(200);
    assert_eq!(
        (
            mine["created"].clone(),
            mine["resolved"].clone(),
            mine["open"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(mine["agents"].as_array().unwrap().len(), 1);

    // Customers have none; bad ranges are client errors.
    app.get(q, Some(&customer.token))
        .await
        .assert_error(403, "forbidden");
    for bad in [
        "from=2026-01-04T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=yesterday",
        "colour=red",
    ] {
        app.get(
            &format!("/api/analytics/overview?{bad}"),
            Some(&admin.token),
        )
        .await
        .assert_error(400, "invalid_query");
    }
    // The default range is the last 30 days from midnight UTC, and today so far.
    let default = app.get("/api/analytics/overview", Some(&admin.token)).await;
    let default = default.assert_ok(200);
    assert_eq!(default["per_day"].as_array().unwrap().len(), 31);
    let from: DateTime<Utc> = default["from"].as_str().unwrap().parse().unwrap();
    let to: DateTime<Utc> = default["to"].as_str().unwrap().parse().unwrap();
    assert_eq!(from.time(), chrono::NaiveTime::MIN);
    assert_eq!((to.date_naive() - from.date_naive()).num_days(), 30);
}

async fn rollups_give_the_live_answer_and_follow_later_changes(app: TestApp) {
    let f = fixture(&app).await;
    // Ranges that start and end mid-day, span the fixture, or fall in between.
    let ranges = [
        "from=2026-01-01T00:00:00Z&to=2026-01-04T00:00:00Z",
        "from=2026-01-01T10:30:00Z&to=2026-01-03T09:00:00Z",
        "from=2025-12-30T00:00:00Z&to=2026-01-06T00:00:00Z",
        "from=2025-12-31T21:00:00Z&to=2026-01-02T00:00:00Z",
        "from=2026-01-02T00:00:00Z&to=2026-01-03T00:00:00Z",
    ];
    let overviews = |token: String| {
        let app = &app;
        async move {
            let mut out = Vec::new();
            for r in ranges {
                let url = format!("/api/analytics/overview?{r}");
                out.push(app.get(&url, Some(&token)).await.assert_ok(200).clone());
            }
            out
        }
    };
    let live_admin = overviews(f.admin.token.clone()).await;
    let live_agent = overviews(f.a.token.clone()).await;
    refresh_rollups(&app).await;
    assert_eq!(overviews(f.admin.token.clone()).await, live_admin);
    assert_eq!(overviews(f.a.token.clone()).await, live_agent);
    // Spot checks that the ranges mean something: the mid-day range sees T2 and T3 created but
    // not T1 (10:00), T1 resolved but not T2 (3 Jan 09:00, its end); on the evening of
    // 31 December only T4 was open.
    assert_eq!(live_admin[1]["created"], 2);
    assert_eq!(live_admin[1]["resolved"], 1);
    assert_eq!(live_admin[3]["per_day"][0]["backlog"], 1);
    assert_eq!(live_admin[3]["open"], 1);

    // Reopening T2 after it was rolled up: its resolution (3 Jan) no longer counts, at once
    // and after the next rollup (the log kept the day it was resolved on).
    let row = Ticket::find_by_id(f.t2.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut t: ticket::ActiveModel = row.into();
    t.status = Set(ticket::Status::Open);
    t.resolved_at = Set(None);
    t.update(&app.db).await.unwrap();
    for _ in 0..2 {
        let o = app.get(FIXTURE_RANGE, Some(&f.admin.token)).await;
        let o = o.assert_ok(200);
        assert_eq!(o["resolved"], 1);
        assert_eq!(o["open"], 3);
        assert_eq!(o["per_day"][2]["backlog"], 3);
        assert_eq!(
            counts(&o["by_status"]),
            [
                ("new".into(), 1),
                ("open".into(), 1),
                ("resolved".into(), 1)
            ]
        );
        refresh_rollups(&app).await;
    }
    // A new ticket today shows up before any rollup runs.
    let before = app
        .get("/api/analytics/overview", Some(&f.admin.token))
        .await
        .assert_ok(200)["created"]
        .as_u64()
        .unwrap();
    make(&app, &f.customer, "low", None).await;
    let after = app
        .get("/api/analytics/overview", Some(&f.admin.token))
        .await;
    assert_eq!(
        after.assert_ok(200)["created"].as_u64().unwrap(),
        before + 1
    );
}

async fn csv_export_streams_the_filtered_list(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    for i in 0..3 {
        make(&app, &alice, "low", None).await;
        let _ = i;
    }
    let tricky = app
        .post(
            "/api/tickets",
            Some(&alice.token),
            &json!({"subject": "=HYPERLINK(\"http://evil\"), \"quoted\"", "description": "d", "priority": "high"}),
        )
        .await;
    tricky.assert_ok(201);
    make(&app, &bob, "high", None).await;

    let csv = |token: String, query: &'static str| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/tickets/export.csv{query}"));
        async move {
            let resp = client.get(url).bearer_auth(token).send().await.unwrap();
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, content_type, resp.text().await.unwrap())
        }
    };
    let (status, content_type, body) = csv(admin.token.clone(), "").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("number,id,subject,status,priority"));
    assert_eq!(lines.len(), 1 + 5);

    let (_, _, high) = csv(admin.token.clone(), "?priority=high").await;
    let high: Vec<&str> = high
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .skip(1)
        .collect();
    assert_eq!(high.len(), 2);
    // The formula is defused and the quotes escaped.
    assert!(
        high.iter()
            .any(|l| l.contains("\"'=HYPERLINK(\"\"http://evil\"\"), \"\"quoted\"\"\"")),
        "{high:?}"
    );

    // Customers export only their own tickets.
    let (_, _, bobs) = csv(bob.token.clone(), "").await;
    assert_eq!(bobs.split("\r\n").filter(|l| !l.is_empty()).count(), 1 + 1);
    // …without internal SLA state: the deadline, breach, escalation and tags cells are empty.
    let row = bobs.split("\r\n").nth(1).unwrap();
    assert!(row.ends_with(",,,,,"), "{row}");
    let (_, _, all) = csv(admin.token.clone(), "").await;
    assert!(
        all.split("\r\n")
            .nth(1)
            .unwrap()
            // …then empty tags and, not rated, empty satisfaction cells.
            .ends_with(",false,false,false,,,")
    );
    let (status, _, _) = csv(admin.token.clone(), "?priority=extreme").await;
    assert_eq!(status, 400);
    let anonymous = app.get("/api/tickets/export.csv", None).await;
    anonymous.assert_error(401, "unauthorized");
}

/// The export checks the caller's rights before every chunk: an agent deactivated while their
/// export streams gets no further rows.
async fn csv_export_stops_when_access_is_revoked(app: TestApp) {
    use futures_util::StreamExt;
    use sea_orm::IntoActiveModel;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    app.ticket(&customer.token, "Queued").await;
    let id: Uuid = agent.id.parse().unwrap();
    let account = server::entity::User::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let actor = server::auth::AuthUser {
        id,
        role: Role::Agent,
        user: account.clone(),
    };
    let query: shared::tickets::TicketListQuery = serde_json::from_value(json!({})).unwrap();
    let stream = server::services::export::stream_csv(app.db.clone(), &actor, &query).unwrap();
    futures_util::pin_mut!(stream);
    let header = stream.next().await.unwrap().unwrap();
    assert!(header.starts_with("number,"));

    let mut deactivated = account.into_active_model();
    deactivated.active = Set(false);
    deactivated.update(&app.db).await.unwrap();
    let next = stream.next().await.expect("an error, not a clean end");
    let err = next.expect_err("no rows after the deactivation");
    assert_eq!(err.code(), shared::ErrorCode::InvalidToken);
    assert!(stream.next().await.is_none());
}

/// The agent's resolved tickets (`GET /api/agents`) and the overview's per-agent row.
async fn resolved_counts(app: &TestApp, admin: &TestUser, agent: &TestUser) -> (Value, Value) {
    let list = app.get("/api/agents", Some(&admin.token)).await;
    let metrics = list
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == agent.id.as_str())
        .unwrap()["metrics"]
        .clone();
    let o = app.get("/api/analytics/overview", Some(&admin.token)).await;
    let row = o.assert_ok(200)["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent_id"] == agent.id.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    (metrics["tickets_resolved"].clone(), row["resolved"].clone())
}

async fn a_reopened_ticket_resolved_again_counts_once(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let status = |token: &str, id: &str, to: &str| {
        let (app, token, id, to) = (&app, token.to_owned(), id.to_owned(), to.to_owned());
        async move {
            app.patch(
                &format!("/api/tickets/{id}"),
                Some(&token),
                &json!({ "status": to }),
            )
            .await
            .assert_ok(200);
        }
    };
    let t = app.ticket(&customer.token, "Keeps coming back").await;
    let id = t["id"].as_str().unwrap().to_owned();
    status(&agent.token, &id, "open").await;
    status(&agent.token, &id, "resolved").await;
    assert_eq!(
        resolved_counts(&app, &admin, &agent).await,
        (json!(1), json!(1))
    );
    let first = app
        .get("/api/agents", Some(&admin.token))
        .await
        .assert_ok(200)
        .clone();
    // The customer reopens it; the agent resolves it again: still one resolved ticket, and
    // its resolution time is that of the first resolution.
    status(&customer.token, &id, "open").await;
    status(&agent.token, &id, "resolved").await;
    assert_eq!(
        resolved_counts(&app, &admin, &agent).await,
        (json!(1), json!(1))
    );
    let again = app.get("/api/agents", Some(&admin.token)).await;
    let metrics = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == agent.id.as_str())
            .unwrap()["metrics"]
            .clone()
    };
    assert_eq!(metrics(again.assert_ok(200)), metrics(&first));
    // A customer reply reopens it too; resolving it a third time changes nothing either.
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&customer.token),
        &json!({"body": "It broke again."}),
    )
    .await
    .assert_ok(201);
    status(&agent.token, &id, "resolved").await;
    // The rollups agree with the live tally.
    refresh_rollups(&app).await;
    assert_eq!(
        resolved_counts(&app, &admin, &agent).await,
        (json!(1), json!(1))
    );
    // Another ticket resolved once counts as the second.
    let other = app.ticket(&customer.token, "Different problem").await;
    let other = other["id"].as_str().unwrap().to_owned();
    status(&agent.token, &other, "open").await;
    status(&agent.token, &other, "resolved").await;
    refresh_rollups(&app).await;
    assert_eq!(
        resolved_counts(&app, &admin, &agent).await,
        (json!(2), json!(2))
    );
}
