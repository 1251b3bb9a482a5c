//! Business-hours SLAs end to end: calendars (CRUD and validation), deadlines counted in
//! business time, pauses that keep counting in business time, warnings before a breach (once,
//! with two monitors racing), escalation once on a calendar, policy and calendar edits that
//! leave existing tickets alone until an admin recomputes, overrides by category, the
//! customer's ETA without internal SLA state, and analytics per policy and calendar.
//!
//! Time is injected where the services take it (`sla_monitor`); where the server uses its own
//! clock, expectations are computed from the instants it reports with the same shared
//! calendar function, plus shape checks that a 24/7 clock would fail.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, Database, EntityTrait};
use serde_json::{Value, json};
use server::{
    entity::{Event, Ticket, event, ticket},
    services::{mail::Mailer, sla_monitor},
};
use shared::{
    Role,
    calendar::{Calendar, CalendarSpec},
};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser};
use crate::ws_client::Ws;

crate::db_tests!(
    calendars_are_validated_with_codes,
    deadlines_count_business_time_and_pauses_keep_counting_it,
    a_warning_goes_out_once_and_breaching_soon_lists_it,
    a_calendar_breach_escalates_once_with_two_monitors_racing,
    policy_and_calendar_edits_do_not_move_old_tickets_until_recompute,
    customers_see_an_eta_and_no_internal_state,
    a_journey_outcome_selects_its_policy_before_the_category,
    analytics_split_compliance_by_policy_and_calendar,
    an_escalation_raises_the_priority_but_keeps_the_deadlines,
);

/// Wednesdays 10:00–11:00 UTC only: a clock on it can only ever end inside that hour.
fn wednesday_hour() -> Value {
    json!({"time_zone": "UTC", "week": {"wed": [{"start": "10:00", "end": "11:00"}]}})
}

async fn calendar(app: &TestApp, admin: &TestUser, name: &str, body: Value) -> String {
    let mut req = body;
    req["name"] = json!(name);
    let resp = app
        .post("/api/sla/calendars", Some(&admin.token), &req)
        .await;
    resp.assert_ok(201)["id"].as_str().unwrap().to_owned()
}

fn spec_of(body: &Value) -> Calendar {
    let spec: CalendarSpec = serde_json::from_value(json!({
        "time_zone": body["time_zone"], "week": body["week"],
        "holidays": body.get("holidays").cloned().unwrap_or(json!([]))
    }))
    .unwrap();
    spec.parse(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
        .unwrap()
}

/// Makes the default policy use `calendar` (or 24/7 for `None`), other targets as default.
async fn default_policy_on(app: &TestApp, admin: &TestUser, calendar: Option<&str>) {
    let current = app.get("/api/settings", Some(&admin.token)).await;
    let mut policies = current.assert_ok(200)["sla_policies"].clone();
    policies["calendar_id"] = json!(calendar);
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_policies": policies}),
    )
    .await
    .assert_ok(200);
}

async fn new_ticket(app: &TestApp, customer: &TestUser, priority: &str, category: Value) -> Value {
    let resp = app
        .post(
            "/api/tickets",
            Some(&customer.token),
            &json!({"subject": "SLA", "description": "d", "priority": priority,
                    "category": category}),
        )
        .await;
    resp.assert_ok(201).clone()
}

async fn row(app: &TestApp, id: &str) -> ticket::Model {
    Ticket::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn staff_view(app: &TestApp, admin: &TestUser, id: &str) -> Value {
    let t = app
        .get(&format!("/api/tickets/{id}"), Some(&admin.token))
        .await;
    t.assert_ok(200).clone()
}

async fn calendars_are_validated_with_codes(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let url = "/api/sla/calendars";

    let office = json!({"name": "Office", "time_zone": "Europe/Berlin",
        "week": {"mon": [{"start": "09:00", "end": "17:00"}],
                 "fri": [{"start": "22:00", "end": "06:00"}]},
        "holidays": [{"name": "Christmas", "from": "2026-12-24", "to": "2026-12-26", "yearly": true}]});
    let created = app.post(url, Some(&admin.token), &office).await;
    let created = created.assert_ok(201).clone();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["time_zone"], "Europe/Berlin");
    assert_eq!(created["holidays"][0]["yearly"], true);
    app.post(url, Some(&agent.token), &office)
        .await
        .assert_error(403, "forbidden");

    // Every malformed field at once, with a code.
    let bad = json!({"name": "Bad", "time_zone": "Mars/Olympus",
        "week": {"mon": [{"start": "09:00", "end": "17:00"}, {"start": "16:00", "end": "18:00"}],
                 "tue": [{"start": "25:00", "end": "10:00"}],
                 "wed": [{"start": "10:00", "end": "10:00"}]},
        "holidays": [{"from": "2026-12-10", "to": "2026-12-01"}]});
    let resp = app.post(url, Some(&admin.token), &bad).await;
    resp.assert_error(422, "invalid_calendar");
    let fields = resp.body["details"]["fields"].as_object().unwrap();
    for f in [
        "time_zone",
        "week.mon",
        "week.tue[0].start",
        "week.wed[0]",
        "holidays[0].to",
    ] {
        assert!(fields.contains_key(f), "{f} missing in {fields:?}");
    }
    // No working time at all.
    let closed = json!({"name": "Closed", "time_zone": "UTC", "week": {}});
    app.post(url, Some(&admin.token), &closed)
        .await
        .assert_error(422, "no_working_time");
    // Malformed JSON shapes are 400s, never 500s.
    for body in [
        json!({"name": "X", "time_zone": "UTC", "week": {"monday": []}}),
        json!({"name": "X", "time_zone": "UTC", "week": {"mon": "09-17"}}),
        json!({"name": "X", "time_zone": "UTC", "week": {}, "holidays": [{"from": "soon"}]}),
    ] {
        app.post(url, Some(&admin.token), &body)
            .await
            .assert_error(400, "invalid_json");
    }
    // Names are unique.
    let mut again = office.clone();
    again["name"] = json!("Office");
    app.post(url, Some(&admin.token), &again)
        .await
        .assert_error(409, "conflict");
    let mut blank = office.clone();
    blank["name"] = json!("  ");
    app.post(url, Some(&admin.token), &blank)
        .await
        .assert_error(422, "invalid_calendar");

    // Read, list, replace.
    let got = app.get(&format!("{url}/{id}"), Some(&admin.token)).await;
    assert_eq!(got.assert_ok(200)["name"], "Office");
    let list = app.get(url, Some(&admin.token)).await;
    assert_eq!(list.assert_ok(200).as_array().unwrap().len(), 1);
    let mut renamed = office.clone();
    renamed["name"] = json!("Office hours");
    let put = app
        .put(&format!("{url}/{id}"), Some(&admin.token), &renamed)
        .await;
    assert_eq!(put.assert_ok(200)["name"], "Office hours");
    app.put(
        &format!("{url}/{}", Uuid::new_v4()),
        Some(&admin.token),
        &renamed,
    )
    .await
    .assert_error(404, "not_found");

    // A policy may only name a calendar that exists; one in use cannot be deleted.
    let settings = app.get("/api/settings", Some(&admin.token)).await;
    let mut policies = settings.assert_ok(200)["sla_policies"].clone();
    policies["calendar_id"] = json!(Uuid::new_v4());
    let resp = app
        .put(
            "/api/settings",
            Some(&admin.token),
            &json!({"sla_policies": policies}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert!(
        resp.text.contains("sla_policies.calendar_id"),
        "{}",
        resp.text
    );
    default_policy_on(&app, &admin, Some(&id)).await;
    let resp = app
        .raw(
            app.client
                .delete(app.url(&format!("{url}/{id}")))
                .bearer_auth(&admin.token),
        )
        .await;
    resp.assert_error(409, "calendar_in_use");
    assert_eq!(resp.body["details"]["policies"][0], "default");
    default_policy_on(&app, &admin, None).await;
    let resp = app
        .raw(
            app.client
                .delete(app.url(&format!("{url}/{id}")))
                .bearer_auth(&admin.token),
        )
        .await;
    assert_eq!(resp.status.as_u16(), 204);
    app.get(&format!("{url}/{id}"), Some(&admin.token))
        .await
        .assert_error(404, "not_found");

    // Override rules are checked too.
    let resp = app
        .put(
            "/api/settings",
            Some(&admin.token),
            &json!({"sla_warning_percent": 100, "sla_overrides": [
                {"name": "default", "when": {"kind": "category", "category": "x"},
                 "policy": policies}
            ]}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    let fields = resp.body["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("sla_warning_percent"), "{fields:?}");
    assert!(fields.contains_key("sla_overrides[0].name"), "{fields:?}");
}

async fn deadlines_count_business_time_and_pauses_keep_counting_it(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let body = wednesday_hour();
    let cal_id = calendar(&app, &admin, "Wednesday hour", body.clone()).await;
    let cal = spec_of(&body);
    default_policy_on(&app, &admin, Some(&cal_id)).await;

    // Urgent: 60 min to respond, 240 to resolve — one and four Wednesday hours.
    let t = new_ticket(&app, &customer, "urgent", Value::Null).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let staff = staff_view(&app, &admin, &id).await;
    let created = at(&staff["created_at"]);
    let response = at(&staff["sla"]["response_due_at"]);
    let resolution = at(&staff["sla"]["resolution_due_at"]);
    assert_eq!(staff["sla"]["policy"], "default");
    assert_eq!(staff["sla"]["calendar_id"], cal_id.as_str());
    // Inside business hours: a Wednesday between 10:00 and 11:00 UTC.
    for due in [response, resolution] {
        assert_eq!(due.weekday(), Weekday::Wed, "{due}");
        assert!(
            due.hour() == 10 || (due.hour() == 11 && due.minute() == 0),
            "{due}"
        );
    }
    // Exactly one and four business hours after creation (not wall-clock hours: the
    // resolution is three weeks after the response).
    assert_eq!(cal.between(created, response), Duration::hours(1));
    assert_eq!(cal.between(created, resolution), Duration::hours(4));
    assert!(
        resolution - response >= Duration::days(20),
        "{response} {resolution}"
    );
    let r = row(&app, &id).await;
    assert_eq!(r.sla_policy.as_deref(), Some("default"));
    assert_eq!(
        r.sla_calendar_id.map(|c| c.to_string()),
        Some(cal_id.clone())
    );
    // The warning, warning and critical instants are shares of business time too.
    let critical = at(&staff["sla"]["critical_at"]);
    assert_eq!(cal.between(created, critical), Duration::minutes(48));

    // Waiting on the customer for two weeks of wall-clock time holds exactly two business
    // hours (the calendar repeats weekly): the deadlines move by those, not by two weeks.
    app.post(
        &format!("/api/tickets/{id}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&agent.token),
        &json!({"status": "pending"}),
    )
    .await
    .assert_ok(200);
    let paused = staff_view(&app, &admin, &id).await;
    assert_eq!(paused["sla"]["paused"], true);
    assert!(paused["sla"]["due_at"].is_null());
    let mut m: ticket::ActiveModel = row(&app, &id).await.into();
    let began = Utc::now() - Duration::days(14);
    m.sla_paused_at = Set(Some(began));
    m.update(&app.db).await.unwrap();
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&agent.token),
        &json!({"status": "open"}),
    )
    .await
    .assert_ok(200);
    let r = row(&app, &id).await;
    assert!(r.sla_paused_secs >= 14 * 86_400, "{}", r.sla_paused_secs);
    assert!(
        (7200..7200 + 120).contains(&r.sla_paused_business_secs),
        "business pause {}",
        r.sla_paused_business_secs
    );
    let paused_b = Duration::seconds(r.sla_paused_business_secs);
    assert_eq!(
        r.response_due_at,
        cal.add(created, paused_b + Duration::hours(1))
    );
    assert_eq!(
        r.resolution_due_at,
        cal.add(created, paused_b + Duration::hours(4))
    );
    let after = staff_view(&app, &admin, &id).await;
    assert_eq!(at(&after["sla"]["due_at"]), r.response_due_at.unwrap());
}

async fn a_warning_goes_out_once_and_breaching_soon_lists_it(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_warning_percent": 75}),
    )
    .await
    .assert_ok(200);
    let (mut admin_ws, _) = Ws::signed_in(&app, &admin.token).await;
    let (mut customer_ws, _) = Ws::signed_in(&app, &customer.token).await;
    // Urgent on 24/7: the response is due in 60 minutes; 75 % are used after 45.
    let t = new_ticket(&app, &customer, "urgent", Value::Null).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let r = row(&app, &id).await;
    let created = r.created_at;
    assert_eq!(r.sla_alert_at, Some(created + Duration::minutes(45)));

    assert!(
        sla_monitor::warn(
            &app.db,
            &Mailer::disabled(),
            created + Duration::minutes(44)
        )
        .await
        .unwrap()
        .is_empty()
    );
    // Two monitors racing at 46 minutes: exactly one warning.
    let other = Database::connect(app.db_url.as_str()).await.unwrap();
    let now = created + Duration::minutes(46);
    let off = Mailer::disabled();
    let (x, y) = tokio::join!(
        sla_monitor::warn(&app.db, &off, now),
        sla_monitor::warn(&other, &off, now)
    );
    let warnings: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].ticket_id.to_string(), id);
    assert!(
        sla_monitor::warn(&other, &Mailer::disabled(), now)
            .await
            .unwrap()
            .is_empty()
    );
    other.close().await.unwrap();
    app.state.realtime.poke();
    let live = admin_ws.event("sla-warning").await;
    assert_eq!(live["data"]["ticket"]["id"], id.as_str());
    assert_eq!(live["data"]["target"], "response");
    assert_eq!(live["data"]["percent"], 75);
    let stored = Event::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e: &event::Model| e.event_type == "sla-warning")
        .count();
    assert_eq!(stored, 1);

    // After the first response the resolution clock warns separately, once.
    let agent = app.user(Role::Agent).await;
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&agent.token),
        &json!({"body": "On it"}),
    )
    .await
    .assert_ok(201);
    let r = row(&app, &id).await;
    let alert = r.sla_alert_at.unwrap();
    assert_eq!(alert, created + Duration::minutes(180));
    let w = sla_monitor::warn(&app.db, &Mailer::disabled(), alert + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(w.len(), 1);
    assert!(
        sla_monitor::warn(&app.db, &Mailer::disabled(), alert + Duration::minutes(5))
            .await
            .unwrap()
            .is_empty()
    );
    app.state.realtime.poke();
    admin_ws.event("sla-warning").await;
    // Customers never get warnings: everything before their next ticket's event has arrived
    // by then, and none of it is a warning.
    let other_ticket = new_ticket(&app, &customer, "low", Value::Null).await;
    let other_id = other_ticket["id"].as_str().unwrap().to_owned();
    customer_ws
        .until("the second ticket", |v| {
            v["event"] == "new-ticket" && v["data"]["ticket"]["id"] == other_id.as_str()
        })
        .await;
    assert!(customer_ws.events("sla-warning").is_empty());
    assert!(!customer_ws.events("new-ticket").is_empty());

    // "Breaching soon" lists running clocks past their warning instant (the list uses the
    // server's clock, so the instant is moved into the past here).
    let mut m: ticket::ActiveModel = row(&app, &id).await.into();
    m.sla_alert_at = Set(Some(Utc::now() - Duration::minutes(1)));
    m.update(&app.db).await.unwrap();
    let soon = app
        .get("/api/tickets?breaching_soon=true", Some(&admin.token))
        .await;
    let ids: Vec<&str> = soon
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    let later = app
        .get("/api/tickets?breaching_soon=false", Some(&admin.token))
        .await;
    let ids: Vec<&str> = later
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other_ticket["id"].as_str().unwrap()]);
    app.get("/api/tickets?breaching_soon=true", Some(&customer.token))
        .await
        .assert_error(400, "invalid_query");
    app.get("/api/tickets?breaching_soon=maybe", Some(&admin.token))
        .await
        .assert_error(400, "invalid_query");
    admin_ws.close().await;
    customer_ws.close().await;
}

async fn a_calendar_breach_escalates_once_with_two_monitors_racing(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let body = wednesday_hour();
    let cal_id = calendar(&app, &admin, "Wednesday hour", body.clone()).await;
    let cal = spec_of(&body);
    default_policy_on(&app, &admin, Some(&cal_id)).await;
    let t = new_ticket(&app, &customer, "high", Value::Null).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let r = row(&app, &id).await;
    let due = r.response_due_at.unwrap();
    // High: 4 business hours to respond — four Wednesdays away, whatever the wall clock says.
    assert_eq!(cal.between(r.created_at, due), Duration::hours(4));
    let off = Mailer::disabled();
    // A 24/7 clock would have breached after four wall-clock hours: this one has not.
    assert!(
        sla_monitor::run(&app.db, &off, r.created_at + Duration::hours(5))
            .await
            .unwrap()
            .is_empty()
    );
    let other = Database::connect(app.db_url.as_str()).await.unwrap();
    let later = due + Duration::minutes(1);
    let (x, y) = tokio::join!(
        sla_monitor::run(&app.db, &off, later),
        sla_monitor::run(&other, &off, later)
    );
    let breaches: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert!(
        sla_monitor::run(&other, &off, later)
            .await
            .unwrap()
            .is_empty()
    );
    other.close().await.unwrap();
    let staff = staff_view(&app, &admin, &id).await;
    assert_eq!(staff["escalation_level"], 1);
    assert_eq!(staff["priority"], "urgent");
    // The customer's ETA moved on: the urgent response target (1 business hour) after the
    // missed deadline, inside business hours again.
    let eta = at(&staff["sla"]["eta"]["at"]);
    assert_eq!(eta, cal.add(due, Duration::hours(1)).unwrap());
    assert_eq!(eta.weekday(), Weekday::Wed);
}

async fn policy_and_calendar_edits_do_not_move_old_tickets_until_recompute(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let old = new_ticket(&app, &customer, "urgent", json!("billing")).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let before = row(&app, &old_id).await;
    assert_eq!(
        before.response_due_at,
        Some(before.created_at + Duration::minutes(60))
    );

    // New targets, a calendar, and an override for billing.
    let body = wednesday_hour();
    let cal_id = calendar(&app, &admin, "Wednesday hour", body.clone()).await;
    let cal = spec_of(&body);
    let settings = app.get("/api/settings", Some(&admin.token)).await;
    let mut fast = settings.assert_ok(200)["sla_policies"].clone();
    fast["urgent"] = json!({"response_minutes": 10, "resolution_minutes": 20});
    let mut billing = fast.clone();
    billing["calendar_id"] = json!(cal_id);
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_policies": fast, "sla_overrides": [
            {"name": "Billing", "when": {"kind": "category", "category": "billing"},
             "policy": billing}
        ]}),
    )
    .await
    .assert_ok(200);
    // The old ticket keeps its deadlines — also through a priority change and back, which
    // stays on its recorded terms.
    for p in ["high", "urgent"] {
        app.patch(
            &format!("/api/tickets/{old_id}"),
            Some(&agent.token),
            &json!({"priority": p}),
        )
        .await
        .assert_ok(200);
    }
    let same = row(&app, &old_id).await;
    assert_eq!(same.response_due_at, before.response_due_at);
    assert_eq!(same.resolution_due_at, before.resolution_due_at);
    assert_eq!(same.sla_policy.as_deref(), Some("default"));

    // New tickets run on the new terms: billing on the override's calendar.
    let new_billing = new_ticket(&app, &customer, "urgent", json!("billing")).await;
    let nb = row(&app, new_billing["id"].as_str().unwrap()).await;
    assert_eq!(nb.sla_policy.as_deref(), Some("Billing"));
    assert_eq!(
        nb.sla_calendar_id.map(|c| c.to_string()),
        Some(cal_id.clone())
    );
    assert_eq!(
        cal.between(nb.created_at, nb.response_due_at.unwrap()),
        Duration::minutes(10)
    );
    let plain = new_ticket(&app, &customer, "urgent", Value::Null).await;
    let p = row(&app, plain["id"].as_str().unwrap()).await;
    assert_eq!(p.sla_policy.as_deref(), Some("default"));
    assert_eq!(
        p.response_due_at,
        Some(p.created_at + Duration::minutes(10))
    );

    // Editing the calendar does not move the billing ticket either.
    let mut wider = body.clone();
    wider["name"] = json!("Wednesday hour");
    wider["week"] = json!({"wed": [{"start": "08:00", "end": "18:00"}]});
    app.put(
        &format!("/api/sla/calendars/{cal_id}"),
        Some(&admin.token),
        &wider,
    )
    .await
    .assert_ok(200);
    let nb2 = row(&app, &nb.id.to_string()).await;
    assert_eq!(nb2.response_due_at, nb.response_due_at);

    // Until the admin asks: recompute the billing policy's tickets only…
    let resp = app
        .post(
            "/api/sla/recompute",
            Some(&admin.token),
            &json!({"policy": "Billing"}),
        )
        .await;
    assert_eq!(resp.assert_ok(200)["recomputed"], 1);
    let nb3 = row(&app, &nb.id.to_string()).await;
    let wide = spec_of(&wider);
    assert_eq!(
        nb3.response_due_at,
        wide.add(nb3.created_at, Duration::minutes(10))
    );
    assert_eq!(
        row(&app, &old_id).await.response_due_at,
        before.response_due_at
    );
    // …then everything: the old billing ticket moves onto the override and its calendar.
    let resp = app
        .post("/api/sla/recompute", Some(&admin.token), &json!({}))
        .await;
    assert!(resp.assert_ok(200)["moved"].as_u64().unwrap() >= 1);
    let moved = row(&app, &old_id).await;
    assert_eq!(moved.sla_policy.as_deref(), Some("Billing"));
    assert_eq!(
        moved.response_due_at,
        wide.add(moved.created_at, Duration::minutes(10))
    );
    let history = app
        .get(
            &format!("/api/tickets/{old_id}/history"),
            Some(&admin.token),
        )
        .await;
    assert!(history.text.contains("\"sla\""), "{}", history.text);
    app.post(
        "/api/sla/recompute",
        Some(&admin.token),
        &json!({"policy": "x", "extra": 1}),
    )
    .await
    .assert_error(400, "invalid_json");
    for bad in ["bell\u{7}name", &"x".repeat(101)] {
        app.post(
            "/api/sla/recompute",
            Some(&admin.token),
            &json!({"policy": bad}),
        )
        .await
        .assert_error(422, "validation_failed");
    }
}

async fn customers_see_an_eta_and_no_internal_state(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let (mut ws, _) = Ws::signed_in(&app, &customer.token).await;
    let t = new_ticket(&app, &customer, "urgent", Value::Null).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let staff = staff_view(&app, &admin, &id).await;
    // The customer's copy: the ETA (the response deadline), nothing internal.
    for seen in [
        t.clone(),
        app.get(&format!("/api/tickets/{id}"), Some(&customer.token))
            .await
            .assert_ok(200)
            .clone(),
        app.get("/api/tickets", Some(&customer.token))
            .await
            .assert_ok(200)[0]
            .clone(),
        ws.event("new-ticket").await["data"]["ticket"].clone(),
    ] {
        let sla = &seen["sla"];
        assert_eq!(sla["eta"]["kind"], "reply", "{seen}");
        assert_eq!(sla["eta"]["at"], staff["sla"]["response_due_at"]);
        for internal in [
            "due_at",
            "response_due_at",
            "resolution_due_at",
            "status",
            "warning_at",
            "critical_at",
            "policy",
            "calendar_id",
            "started_at",
        ] {
            assert!(sla[internal].is_null(), "{internal} shown: {seen}");
        }
        assert_eq!(sla["response_breached"], false);
    }
    assert!(staff["sla"]["status"].is_string());

    // Paused: no ETA, but the customer sees that it waits on them.
    app.post(
        &format!("/api/tickets/{id}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&agent.token),
        &json!({"status": "pending"}),
    )
    .await
    .assert_ok(200);
    let mine = app
        .get(&format!("/api/tickets/{id}"), Some(&customer.token))
        .await;
    let mine = mine.assert_ok(200);
    assert_eq!(mine["sla"]["paused"], true);
    assert!(mine["sla"]["eta"].is_null());
    let live = ws
        .until("pending ticket-updated", |v| {
            v["event"] == "ticket-updated" && v["data"]["ticket"]["status"] == "pending"
        })
        .await;
    assert!(live["data"]["ticket"]["sla"]["due_at"].is_null());
    assert_eq!(live["data"]["ticket"]["sla"]["paused"], true);

    // After a breach the customer sees neither escalation nor breach.
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&agent.token),
        &json!({"status": "open"}),
    )
    .await
    .assert_ok(200);
    sla_monitor::run(
        &app.db,
        &Mailer::disabled(),
        Utc::now() + Duration::hours(2),
    )
    .await
    .unwrap();
    let staff = staff_view(&app, &admin, &id).await;
    assert_eq!(staff["escalated"], true);
    let mine = app
        .get(&format!("/api/tickets/{id}"), Some(&customer.token))
        .await;
    let mine = mine.assert_ok(200);
    assert_eq!(mine["escalated"], false);
    assert_eq!(mine["escalation_level"], 0);
    assert_eq!(mine["sla"]["response_breached"], false);
    // Its ETA is the escalated aim: an hour (urgent response) after the missed deadline.
    assert_eq!(
        at(&mine["sla"]["eta"]["at"]),
        at(&staff["sla"]["response_due_at"]) + Duration::hours(1)
    );
    ws.close().await;
}

async fn analytics_split_compliance_by_policy_and_calendar(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let body = wednesday_hour();
    let cal_id = calendar(&app, &admin, "Wednesday hour", body.clone()).await;
    let settings = app.get("/api/settings", Some(&admin.token)).await;
    let mut on_cal = settings.assert_ok(200)["sla_policies"].clone();
    on_cal["calendar_id"] = json!(cal_id);
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_overrides": [
            {"name": "Billing", "when": {"kind": "category", "category": "billing"},
             "policy": on_cal}
        ]}),
    )
    .await
    .assert_ok(200);
    let plain = new_ticket(&app, &customer, "urgent", Value::Null).await;
    let billed = new_ticket(&app, &customer, "urgent", json!("billing")).await;
    for t in [&plain, &billed] {
        let id = t["id"].as_str().unwrap();
        app.post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent.token),
            &json!({"body": "Hello"}),
        )
        .await
        .assert_ok(201);
    }
    let resp = app.get("/api/analytics/sla", Some(&admin.token)).await;
    let data = resp.assert_ok(200);
    let policies: Vec<&str> = data["by_policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["Billing", "default"]);
    for g in data["by_policy"].as_array().unwrap() {
        assert_eq!(g["tickets"], 1);
        assert_eq!(g["sla"]["response_percent"], 100.0);
        assert_eq!(g["first_response"]["count"], 1);
        assert_eq!(g["first_response_business"]["count"], 1);
    }
    let by_calendar = data["by_calendar"].as_array().unwrap();
    let cal = by_calendar
        .iter()
        .find(|g| g["key"] == cal_id.as_str())
        .unwrap();
    assert_eq!(cal["name"], "Wednesday hour");
    let always = by_calendar.iter().find(|g| g["key"] == "always").unwrap();
    assert_eq!(always["name"], "24/7");
    // Wall-clock and business time differ on the calendar unless the reply came inside its
    // one weekly hour; around the clock they agree.
    let wall = always["first_response"]["avg_secs"].as_f64().unwrap();
    let business = always["first_response_business"]["avg_secs"]
        .as_f64()
        .unwrap();
    assert!((wall - business).abs() < 1.0, "{wall} vs {business}");
    let r = row(&app, billed["id"].as_str().unwrap()).await;
    let expected = spec_of(&body)
        .between(r.created_at, r.first_response_at.unwrap())
        .num_seconds();
    assert_eq!(r.response_business_secs, Some(expected));
    assert_eq!(
        cal["first_response_business"]["avg_secs"].as_f64().unwrap(),
        expected as f64
    );
    app.get("/api/analytics/sla", Some(&agent.token))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/analytics/sla?from=2026-13-01", Some(&admin.token))
        .await
        .assert_error(400, "invalid_query");
}

async fn a_journey_outcome_selects_its_policy_before_the_category(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    // Two outcomes with the same category; only "outage" has its own policy.
    let definition = json!({
        "startNode": "what",
        "nodes": {
            "what": {"type": "question", "questionType": "single_choice", "title": "What?",
                     "required": true, "options": [
                        {"value": "down", "label": "Everything is down", "next": "outage"},
                        {"value": "slow", "label": "It is slow", "next": "slow"}]},
            "outage": {"type": "end", "category": "service", "priority": "low",
                       "subject": "Outage"},
            "slow": {"type": "end", "category": "service", "priority": "low",
                     "subject": "Slow"}
        }
    });
    let j = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "service", "name": "Service", "description": "d",
                    "icon": "x", "definition": definition}),
        )
        .await;
    let jid = j.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/journeys/{jid}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let settings = app.get("/api/settings", Some(&admin.token)).await;
    let base = settings.assert_ok(200)["sla_policies"].clone();
    let mut outage = base.clone();
    outage["low"] = json!({"response_minutes": 5, "resolution_minutes": 30});
    let mut service = base.clone();
    service["low"] = json!({"response_minutes": 120, "resolution_minutes": 600});
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_overrides": [
            {"name": "Service", "when": {"kind": "category", "category": "service"},
             "policy": service},
            {"name": "Outage", "when": {"kind": "journey_outcome", "journey_id": jid,
                                         "node_id": "outage"}, "policy": outage}
        ]}),
    )
    .await
    .assert_ok(200);
    let submit = |answer: &'static str| {
        let (app, token, jid) = (&app, customer.token.clone(), jid.clone());
        async move {
            let resp = app
                .post(
                    &format!("/api/journeys/{jid}/submit"),
                    Some(&token),
                    &json!({"answers": {"what": answer}}),
                )
                .await;
            resp.assert_ok(201)["id"].as_str().unwrap().to_owned()
        }
    };
    let down = row(&app, &submit("down").await).await;
    assert_eq!(down.sla_policy.as_deref(), Some("Outage"));
    assert_eq!(
        down.response_due_at,
        Some(down.created_at + Duration::minutes(5))
    );
    let slow = row(&app, &submit("slow").await).await;
    assert_eq!(slow.sla_policy.as_deref(), Some("Service"));
    assert_eq!(
        slow.response_due_at,
        Some(slow.created_at + Duration::minutes(120))
    );
}

async fn an_escalation_raises_the_priority_but_keeps_the_deadlines(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let off = Mailer::disabled();
    let patch = |id: &str, body: Value| {
        let (app, token, id) = (&app, agent.token.clone(), id.to_owned());
        async move {
            app.patch(&format!("/api/tickets/{id}"), Some(&token), &body)
                .await
                .assert_ok(200);
        }
    };
    // Medium on the default 24/7 policy: 8 h to respond, 48 h to resolve.
    let t = new_ticket(&app, &customer, "medium", Value::Null).await;
    let id = t["id"].as_str().unwrap().to_owned();
    patch(&id, json!({"status": "open"})).await;
    let before = row(&app, &id).await;
    assert_eq!(
        before.resolution_due_at,
        Some(before.created_at + Duration::hours(48))
    );
    let missed = before.response_due_at.unwrap() + Duration::minutes(1);
    assert_eq!(
        sla_monitor::run(&app.db, &off, missed).await.unwrap().len(),
        1
    );
    let escalated = row(&app, &id).await;
    assert_eq!(escalated.priority(), shared::Priority::High);
    assert_eq!(escalated.escalation_level, 1);
    assert_eq!(
        (escalated.response_due_at, escalated.resolution_due_at),
        (before.response_due_at, before.resolution_due_at)
    );

    // The next status changes keep the deadlines the ticket started with: only the time it
    // spent paused moves them, not the raised priority's shorter targets.
    patch(&id, json!({"status": "pending"})).await;
    patch(&id, json!({"status": "open"})).await;
    let after = row(&app, &id).await;
    let paused = Duration::seconds(after.sla_paused_business_secs);
    assert_eq!(after.priority(), shared::Priority::High);
    assert_eq!(
        after.resolution_due_at,
        Some(before.resolution_due_at.unwrap() + paused)
    );
    assert_eq!(
        after.response_due_at,
        Some(before.response_due_at.unwrap() + paused)
    );
    assert!(after.resolution_due_at > Some(after.created_at + Duration::hours(24) + paused));

    // Staff setting the priority by hand decide the SLA: the deadlines follow it, on the
    // ticket's recorded terms, and the history says so.
    patch(&id, json!({"priority": "urgent"})).await;
    let manual = row(&app, &id).await;
    assert_eq!(
        manual.resolution_due_at,
        Some(manual.created_at + Duration::hours(4) + paused)
    );
    let history = app
        .get(&format!("/api/tickets/{id}/history"), Some(&admin.token))
        .await;
    assert!(history.text.contains("\"sla\""), "{}", history.text);

    // An admin's recompute moves an escalated ticket onto the priority it has now.
    let t2 = new_ticket(&app, &customer, "medium", Value::Null).await;
    let id2 = t2["id"].as_str().unwrap().to_owned();
    patch(&id2, json!({"status": "open"})).await;
    let second = row(&app, &id2).await;
    let missed = second.response_due_at.unwrap() + Duration::minutes(1);
    // (By then the first ticket's urgent resolution target is missed too.)
    let breaches = sla_monitor::run(&app.db, &off, missed).await.unwrap();
    assert_eq!(
        breaches.iter().filter(|b| b.ticket_id == second.id).count(),
        1,
        "{breaches:?}"
    );
    assert_eq!(row(&app, &id2).await.priority(), shared::Priority::High);
    assert_eq!(
        row(&app, &id2).await.resolution_due_at,
        second.resolution_due_at
    );
    app.post("/api/sla/recompute", Some(&admin.token), &json!({}))
        .await
        .assert_ok(200);
    let recomputed = row(&app, &id2).await;
    assert_eq!(
        recomputed.resolution_due_at,
        Some(recomputed.created_at + Duration::hours(24))
    );
    // The first ticket stays where the hand-set priority put it.
    assert_eq!(
        row(&app, &id).await.resolution_due_at,
        manual.resolution_due_at
    );
}
