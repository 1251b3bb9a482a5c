//! Customer satisfaction surveys: one rating per resolution, changeable for 7 days, by the
//! ticket's customer in the portal or by the signed link of the "resolved" mail; the admin
//! switch; the live event; analytics per agent, category and day; the CSV columns.
//!
//! The apps here queue mail (nothing delivers it: the outbox rows are what the tests read).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde_json::{Value, json};
use server::entity::{CsatRating, MailOutbox, Ticket, csat_rating, mail_outbox, ticket};
use shared::Role;
use uuid::Uuid;

use crate::{
    helpers::{Backend, Overrides, Resp, TestApp, TestUser, spawn_app_with},
    ws_client::Ws,
};

const PUBLIC_URL: &str = "http://help.test";

/// Like `db_tests!`, for apps that queue mail.
macro_rules! csat_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Sqlite, |app| Box::pin(super::$name(app))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Postgres, |app| Box::pin(super::$name(app))).await;
                }
            )*
        }
    };
}

csat_tests!(
    one_rating_per_resolution_changeable_for_seven_days,
    a_reopened_and_resolved_again_ticket_asks_again,
    the_signed_link_rates_without_signing_in_and_forged_ones_fail,
    switched_off_surveys_refuse_and_leave_the_link_out,
    only_the_tickets_customer_rates,
    a_rating_reaches_staff_live_and_not_the_customer,
    analytics_show_csat_per_agent_category_and_day_and_the_csv_carries_it,
);

type TestFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

async fn run(backend: Backend, test: impl FnOnce(TestApp) -> TestFuture) {
    let mut o = Overrides::default();
    for (k, v) in [
        ("MAIL_ENABLED", "true"),
        ("MAIL_FROM", "Help Desk <support@help.test>"),
        ("MAIL_SECRET", "mail-secret-for-csat-tests"),
        ("PUBLIC_URL", PUBLIC_URL),
    ] {
        o.vars.insert(k, v.to_owned());
    }
    let Some(mut app) = spawn_app_with(backend, o).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    test(app).await;
    cleanup.run().await;
}

struct Resolved {
    customer: TestUser,
    agent: TestUser,
    id: String,
}

/// A new customer's ticket, taken and resolved by `agent`.
async fn resolved_ticket(app: &TestApp, agent: &TestUser) -> Resolved {
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Printer on fire").await;
    let id = t["id"].as_str().unwrap().to_owned();
    set_status(app, agent, &id, "open").await;
    set_status(app, agent, &id, "resolved").await;
    Resolved {
        customer,
        agent: agent.clone(),
        id,
    }
}

async fn set_status(app: &TestApp, who: &TestUser, id: &str, status: &str) -> Value {
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&who.token),
        &json!({"status": status}),
    )
    .await
    .assert_ok(200)
    .clone()
}

async fn rate(app: &TestApp, who: &TestUser, id: &str, body: Value) -> Resp {
    app.put(&format!("/api/tickets/{id}/csat"), Some(&who.token), &body)
        .await
}

async fn survey(app: &TestApp, who: &TestUser, id: &str) -> Value {
    app.get(&format!("/api/tickets/{id}/csat"), Some(&who.token))
        .await
        .assert_ok(200)
        .clone()
}

async fn rate_by_link(app: &TestApp, token: &str, body: Value) -> Resp {
    app.put(&format!("/api/csat?token={token}"), None, &body)
        .await
}

fn uuid(id: &str) -> Uuid {
    id.parse().unwrap()
}

async fn ratings_of(app: &TestApp, id: &str) -> u64 {
    CsatRating::find()
        .filter(csat_rating::Column::TicketId.eq(uuid(id)))
        .count(&app.db)
        .await
        .unwrap()
}

/// Moves the ticket's resolution, and the ratings of it, `days` into the past; returns the
/// new `resolved_at`.
async fn age_resolution(app: &TestApp, id: &str, days: i64) -> DateTime<Utc> {
    let t = Ticket::find_by_id(uuid(id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let old = t.resolved_at.unwrap();
    let new = old - Duration::days(days);
    let mut row: ticket::ActiveModel = t.into();
    row.resolved_at = Set(Some(new));
    row.update(&app.db).await.unwrap();
    let ratings = CsatRating::find()
        .filter(csat_rating::Column::TicketId.eq(uuid(id)))
        .all(&app.db)
        .await
        .unwrap();
    for r in ratings {
        if r.resolved_at.timestamp_micros() == old.timestamp_micros() {
            let mut r: csat_rating::ActiveModel = r.into();
            r.resolved_at = Set(new);
            r.update(&app.db).await.unwrap();
        }
    }
    new
}

/// The text of the latest "resolved" mail queued for the ticket.
async fn resolved_mail(app: &TestApp, id: &str) -> mail_outbox::Model {
    MailOutbox::find()
        .filter(mail_outbox::Column::TicketId.eq(uuid(id)))
        .filter(mail_outbox::Column::Kind.eq("ticket_resolved"))
        .order_by_desc(mail_outbox::Column::CreatedAt)
        .order_by_desc(mail_outbox::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("a resolved mail was queued")
}

/// The survey token of the link in a mail's text.
fn link_token(text: &str) -> String {
    let prefix = format!("Rate this resolution: {PUBLIC_URL}/survey/");
    let start = text.find(&prefix).expect("the mail has a survey link") + prefix.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn signer(app: &TestApp) -> server::services::mail::Signer {
    app.state.mail.context().expect("mail is on").signer.clone()
}

async fn one_rating_per_resolution_changeable_for_seven_days(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let open = app.ticket(&customer.token, "Not yet").await;
    let open_id = open["id"].as_str().unwrap();
    // Nothing to rate before the resolution.
    let s = survey(&app, &customer, open_id).await;
    assert_eq!(
        (s["enabled"].clone(), s["open"].clone()),
        (json!(true), json!(false))
    );
    assert!(s["resolved_at"].is_null() && s["rating"].is_null());
    rate(&app, &customer, open_id, json!({"score": 5}))
        .await
        .assert_error(409, "survey_not_open");

    let r = resolved_ticket(&app, &agent).await;
    let s = survey(&app, &r.customer, &r.id).await;
    assert_eq!(s["open"], true);
    assert!(s["rating"].is_null());
    let resolved_at: DateTime<Utc> = serde_json::from_value(s["resolved_at"].clone()).unwrap();
    let closes_at: DateTime<Utc> = serde_json::from_value(s["closes_at"].clone()).unwrap();
    assert_eq!(closes_at - resolved_at, Duration::days(7));

    // Bad ratings: a clear 4xx naming the field, and nothing stored.
    for (body, field) in [
        (json!({"score": 0}), "score"),
        (json!({"score": 6}), "score"),
        (json!({"score": 4, "comment": "x".repeat(1001)}), "comment"),
    ] {
        let resp = rate(&app, &r.customer, &r.id, body).await;
        resp.assert_error(422, "validation_failed");
        assert!(
            resp.body["details"]["fields"][field].is_string(),
            "{}",
            resp.text
        );
    }
    for body in [
        json!({"score": 4, "stars": 5}),
        json!({"score": "four"}),
        json!({}),
    ] {
        rate(&app, &r.customer, &r.id, body)
            .await
            .assert_error(400, "invalid_json");
    }
    assert_eq!(ratings_of(&app, &r.id).await, 0);

    let given = rate(
        &app,
        &r.customer,
        &r.id,
        json!({"score": 4, "comment": "  Quick!  "}),
    )
    .await;
    let rating = given.assert_ok(200)["rating"].clone();
    assert_eq!(rating["score"], 4);
    assert_eq!(rating["comment"], "Quick!");
    assert_eq!(rating["via"], "portal");
    let rated: DateTime<Utc> = serde_json::from_value(rating["resolved_at"].clone()).unwrap();
    assert_eq!(rated, resolved_at);

    // Changed inside the window: still one rating of this resolution.
    let changed = rate(&app, &r.customer, &r.id, json!({"score": 2, "comment": ""})).await;
    let rating = changed.assert_ok(200)["rating"].clone();
    assert_eq!(rating["score"], 2);
    assert!(rating["comment"].is_null());
    assert_eq!(ratings_of(&app, &r.id).await, 1);

    // The ticket carries the rating for staff and for its customer.
    for who in [&r.agent, &r.customer] {
        let t = app
            .get(&format!("/api/tickets/{}", r.id), Some(&who.token))
            .await;
        assert_eq!(t.assert_ok(200)["csat"]["score"], 2);
    }

    // Seven days after the resolution the rating stands.
    age_resolution(&app, &r.id, 7).await;
    let late = rate(&app, &r.customer, &r.id, json!({"score": 5})).await;
    late.assert_error(409, "survey_closed");
    assert!(late.body["details"]["closes_at"].is_string());
    let s = survey(&app, &r.customer, &r.id).await;
    assert_eq!(s["open"], false);
    assert_eq!(s["rating"]["score"], 2);
}

async fn a_reopened_and_resolved_again_ticket_asks_again(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let r = resolved_ticket(&app, &agent).await;
    rate(&app, &r.customer, &r.id, json!({"score": 5}))
        .await
        .assert_ok(200);

    // The customer reopens: no survey while it is open.
    set_status(&app, &r.customer, &r.id, "open").await;
    let s = survey(&app, &r.customer, &r.id).await;
    assert_eq!(s["open"], false);
    assert!(s["rating"].is_null());
    rate(&app, &r.customer, &r.id, json!({"score": 1}))
        .await
        .assert_error(409, "survey_not_open");

    // Resolved again: a new survey, and the first rating is kept.
    set_status(&app, &agent, &r.id, "resolved").await;
    let s = survey(&app, &r.customer, &r.id).await;
    assert_eq!(s["open"], true);
    assert!(s["rating"].is_null(), "{s}");
    let again = rate(&app, &r.customer, &r.id, json!({"score": 3})).await;
    assert_eq!(again.assert_ok(200)["rating"]["score"], 3);
    assert_eq!(ratings_of(&app, &r.id).await, 2);
    let t = app
        .get(&format!("/api/tickets/{}", r.id), Some(&agent.token))
        .await;
    assert_eq!(t.assert_ok(200)["csat"]["score"], 3);

    // Closing a resolved ticket keeps its survey open for the rest of the window.
    set_status(&app, &r.customer, &r.id, "closed").await;
    let changed = rate(&app, &r.customer, &r.id, json!({"score": 4})).await;
    assert_eq!(changed.assert_ok(200)["rating"]["score"], 4);
    assert_eq!(ratings_of(&app, &r.id).await, 2);
}

async fn the_signed_link_rates_without_signing_in_and_forged_ones_fail(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let r = resolved_ticket(&app, &agent).await;
    let mail = resolved_mail(&app, &r.id).await;
    let token = link_token(&mail.body_text);
    assert!(
        mail.body_html
            .contains(&format!("{PUBLIC_URL}/survey/{token}"))
    );

    let s = app.get(&format!("/api/csat?token={token}"), None).await;
    let s = s.assert_ok(200);
    assert_eq!(s["ticket_id"], r.id.as_str());
    assert_eq!(s["open"], true);
    let rated = rate_by_link(&app, &token, json!({"score": 5, "comment": "Thanks"})).await;
    let rating = rated.assert_ok(200)["rating"].clone();
    assert_eq!(
        (rating["score"].clone(), rating["via"].clone()),
        (json!(5), json!("link"))
    );
    // The customer sees it signed in, and can change it there.
    assert_eq!(survey(&app, &r.customer, &r.id).await["rating"]["score"], 5);

    // Forged, altered, malformed or missing tokens are refused.
    let other = Uuid::new_v4().simple().to_string();
    let moved = token.replacen(&uuid(&r.id).simple().to_string(), &other, 1);
    let mut altered = token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [moved.as_str(), altered.as_str(), "x.y.z", "nonsense"] {
        app.get(&format!("/api/csat?token={bad}"), None)
            .await
            .assert_error(400, "invalid_survey_token");
        rate_by_link(&app, bad, json!({"score": 1}))
            .await
            .assert_error(400, "invalid_survey_token");
    }
    // The body is judged first: there is no caller to refuse.
    let resp = app
        .raw(
            app.client
                .put(app.url(&format!("/api/csat?token={altered}")))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    resp.assert_error(400, "invalid_json");
    app.put("/api/csat", None, &json!({"score": 3}))
        .await
        .assert_error(400, "invalid_query");
    // A token signed with another key is a forgery too.
    let foreign = server::services::mail::Signer::new("another-secret")
        .unwrap()
        .survey_token(uuid(&r.id), Utc::now());
    rate_by_link(&app, &foreign, json!({"score": 1}))
        .await
        .assert_error(400, "invalid_survey_token");
    assert_eq!(survey(&app, &r.customer, &r.id).await["rating"]["score"], 5);

    // Reopened and resolved again: the old link is about a gone resolution, the new mail's
    // link works.
    set_status(&app, &r.customer, &r.id, "open").await;
    set_status(&app, &agent, &r.id, "resolved").await;
    rate_by_link(&app, &token, json!({"score": 1}))
        .await
        .assert_error(409, "survey_not_open");
    let fresh = link_token(&resolved_mail(&app, &r.id).await.body_text);
    assert_ne!(fresh, token);
    rate_by_link(&app, &fresh, json!({"score": 2}))
        .await
        .assert_ok(200);

    // A link expires with its window.
    let aged = age_resolution(&app, &r.id, 8).await;
    let expired = signer(&app).survey_token(uuid(&r.id), aged);
    rate_by_link(&app, &expired, json!({"score": 4}))
        .await
        .assert_error(409, "survey_closed");
    let s = app.get(&format!("/api/csat?token={expired}"), None).await;
    assert_eq!(s.assert_ok(200)["open"], false);
}

async fn switched_off_surveys_refuse_and_leave_the_link_out(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let settings = app.get("/api/settings", Some(&admin.token)).await;
    assert_eq!(settings.assert_ok(200)["csat_enabled"], true);
    let off = app
        .put(
            "/api/settings",
            Some(&admin.token),
            &json!({"csat_enabled": false}),
        )
        .await;
    assert_eq!(off.assert_ok(200)["csat_enabled"], false);
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"csat_enabled": "no"}),
    )
    .await
    .assert_error(400, "invalid_json");

    let r = resolved_ticket(&app, &agent).await;
    let mail = resolved_mail(&app, &r.id).await;
    assert!(!mail.body_text.contains("/survey/"), "{}", mail.body_text);
    assert!(!mail.body_html.contains("/survey/"));
    let s = survey(&app, &r.customer, &r.id).await;
    assert_eq!(
        (s["enabled"].clone(), s["open"].clone()),
        (json!(false), json!(false))
    );
    rate(&app, &r.customer, &r.id, json!({"score": 5}))
        .await
        .assert_error(409, "surveys_disabled");
    let resolved_at = Ticket::find_by_id(uuid(&r.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .resolved_at
        .unwrap();
    let token = signer(&app).survey_token(uuid(&r.id), resolved_at);
    rate_by_link(&app, &token, json!({"score": 5}))
        .await
        .assert_error(409, "surveys_disabled");
    assert_eq!(ratings_of(&app, &r.id).await, 0);

    // Back on: the same resolution can be rated.
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"csat_enabled": true}),
    )
    .await
    .assert_ok(200);
    rate_by_link(&app, &token, json!({"score": 5}))
        .await
        .assert_ok(200);
}

async fn only_the_tickets_customer_rates(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let stranger = app.user(Role::Customer).await;
    let r = resolved_ticket(&app, &agent).await;

    // Another customer's ticket is not found, to read or to rate.
    app.get(
        &format!("/api/tickets/{}/csat", r.id),
        Some(&stranger.token),
    )
    .await
    .assert_error(404, "not_found");
    rate(&app, &stranger, &r.id, json!({"score": 1}))
        .await
        .assert_error(404, "not_found");
    // Staff read the survey but cannot rate on the customer's behalf, whatever the body.
    for who in [&agent, &admin] {
        assert_eq!(survey(&app, who, &r.id).await["open"], true);
        rate(&app, who, &r.id, json!({"score": 5}))
            .await
            .assert_error(403, "forbidden");
        let resp = app
            .raw(
                app.client
                    .put(app.url(&format!("/api/tickets/{}/csat", r.id)))
                    .bearer_auth(&who.token)
                    .header("content-type", "application/json")
                    .body("{not json"),
            )
            .await;
        resp.assert_error(403, "forbidden");
    }
    app.put(
        &format!("/api/tickets/{}/csat", r.id),
        None,
        &json!({"score": 5}),
    )
    .await
    .assert_error(401, "unauthorized");
    assert_eq!(ratings_of(&app, &r.id).await, 0);
    rate(&app, &r.customer, &r.id, json!({"score": 4}))
        .await
        .assert_ok(200);
}

async fn a_rating_reaches_staff_live_and_not_the_customer(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let r = resolved_ticket(&app, &agent).await;
    let (mut staff_ws, _) = Ws::signed_in(&app, &admin.token).await;
    let (mut agent_ws, _) = Ws::signed_in(&app, &agent.token).await;
    let (mut customer_ws, _) = Ws::signed_in(&app, &r.customer.token).await;

    rate(
        &app,
        &r.customer,
        &r.id,
        json!({"score": 3, "comment": "Slow"}),
    )
    .await
    .assert_ok(200);
    for ws in [&mut staff_ws, &mut agent_ws] {
        let event = ws.event("csat-rated").await;
        assert_eq!(event["data"]["ticket_id"], r.id.as_str());
        assert_eq!(event["data"]["rating"]["score"], 3);
        assert_eq!(event["data"]["rating"]["comment"], "Slow");
    }
    // A change is an event too.
    rate(&app, &r.customer, &r.id, json!({"score": 4}))
        .await
        .assert_ok(200);
    let event = staff_ws
        .until("the changed rating", |v| {
            v["event"] == "csat-rated" && v["data"]["rating"]["score"] == 4
        })
        .await;
    assert!(event["data"]["ticket_number"].as_i64().is_some());

    // The customer's stream carries what came after, but not the ratings.
    app.post(
        &format!("/api/tickets/{}/messages", r.id),
        Some(&agent.token),
        &json!({"body": "Thanks for the feedback"}),
    )
    .await
    .assert_ok(201);
    customer_ws.event("new-message").await;
    assert!(customer_ws.events("csat-rated").is_empty());
    for ws in [staff_ws, agent_ws, customer_ws] {
        ws.close().await;
    }
}

async fn analytics_show_csat_per_agent_category_and_day_and_the_csv_carries_it(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let x = app.user(Role::Agent).await;
    let y = app.user(Role::Agent).await;
    let mut resolved = Vec::new();
    for (agent, category, score) in [
        (&x, Some("billing"), Some(5)),
        (&x, Some("billing"), Some(3)),
        (&y, None, Some(1)),
        (&y, Some("billing"), None),
    ] {
        let customer = app.user(Role::Customer).await;
        let t = app.ticket(&customer.token, "Rate me").await;
        let id = t["id"].as_str().unwrap().to_owned();
        set_status(&app, agent, &id, "open").await;
        if let Some(c) = category {
            app.patch(
                &format!("/api/tickets/{id}"),
                Some(&agent.token),
                &json!({"category": c}),
            )
            .await
            .assert_ok(200);
        }
        set_status(&app, agent, &id, "resolved").await;
        if let Some(score) = score {
            let comment = if score == 5 { "Great, thanks" } else { "" };
            rate(
                &app,
                &customer,
                &id,
                json!({"score": score, "comment": comment}),
            )
            .await
            .assert_ok(200);
        }
        resolved.push(id);
    }
    // Agent Y's rated ticket was resolved (and rated) two days ago.
    let earlier = age_resolution(&app, &resolved[2], 2).await;
    let today = Ticket::find_by_id(uuid(&resolved[0]))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .resolved_at
        .unwrap();

    let a = app.get("/api/analytics/csat", Some(&admin.token)).await;
    let a = a.assert_ok(200).clone();
    assert_eq!(a["overall"]["count"], 3);
    assert_eq!(a["overall"]["average"], 3.0);
    assert_eq!(a["overall"]["satisfied_percent"], 33.33);
    assert_eq!(a["overall"]["distribution"], json!([1, 0, 1, 0, 1]));

    let agents = a["per_agent"].as_array().unwrap();
    assert_eq!(agents.len(), 2, "{agents:?}");
    assert_eq!(agents[0]["agent_id"], x.id.as_str());
    assert_eq!(agents[0]["stats"]["count"], 2);
    assert_eq!(agents[0]["stats"]["average"], 4.0);
    assert_eq!(agents[0]["stats"]["satisfied_percent"], 50.0);
    assert_eq!(agents[1]["agent_id"], y.id.as_str());
    assert_eq!(agents[1]["stats"]["average"], 1.0);

    let categories = a["per_category"].as_array().unwrap();
    let by_category: Vec<(String, u64)> = categories
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap().to_owned(),
                c["stats"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_category,
        [("billing".to_owned(), 2), ("none".to_owned(), 1)]
    );

    let day = |at: DateTime<Utc>| at.date_naive().to_string();
    let days = a["per_day"].as_array().unwrap();
    let count_on = |d: &str| {
        days.iter()
            .find(|p| p["date"] == d)
            .map(|p| p["stats"]["count"].as_u64().unwrap())
    };
    assert_eq!(count_on(&day(today)), Some(2));
    assert_eq!(count_on(&day(earlier)), Some(1));
    let total: u64 = days
        .iter()
        .map(|p| p["stats"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);

    // A range that starts after the earlier resolution leaves it out.
    let from = (earlier + Duration::hours(1)).to_rfc3339();
    let later = app
        .get(
            &format!("/api/analytics/csat?from={}", urlencode(&from)),
            Some(&admin.token),
        )
        .await;
    assert_eq!(later.assert_ok(200)["overall"]["count"], 2);
    // Customers and agents have no CSAT analytics.
    app.get("/api/analytics/csat", Some(&x.token))
        .await
        .assert_error(403, "forbidden");

    // The CSV export carries the score and the comment; unrated tickets leave them empty.
    let csv = app.get("/api/tickets/export.csv", Some(&admin.token)).await;
    assert_eq!(csv.status.as_u16(), 200);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(
        lines[0].ends_with(",csat_score,csat_comment"),
        "{}",
        lines[0]
    );
    let row = |id: &str| *lines.iter().find(|l| l.contains(id)).unwrap();
    assert!(
        row(&resolved[0]).ends_with(",5,\"Great, thanks\""),
        "{}",
        row(&resolved[0])
    );
    assert!(row(&resolved[1]).ends_with(",3,"), "{}", row(&resolved[1]));
    assert!(row(&resolved[3]).ends_with(",,"), "{}", row(&resolved[3]));
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
