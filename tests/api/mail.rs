//! Outbound email end to end: the app queues mail in the outbox, delivers it over SMTP to a
//! real server (aiosmtpd writing a Maildir) and the tests read the Maildir.
//!
//! Every test runs on SQLite and PostgreSQL with a fresh sink; see `mail_support` for how the
//! sink is started and when the tests skip.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use mail_parser::{HeaderValue, MessageParser};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use server::{
    entity::{MailOutbox, mail_outbox},
    services::{
        mail::{deliver, digest},
        sla_monitor,
    },
};
use shared::Role;

use crate::{
    helpers::{Backend, Overrides, TestApp, TestUser, spawn_app_with},
    mail_support::{Handler, SmtpSink},
};

const DOMAIN: &str = "help.test";
const PUBLIC_URL: &str = "http://help.test";
const MARKER: &str = "##- reply above this line -##";

/// Like `db_tests!`, for apps with mail on: each test gets a fresh sink (`$handler`) and an
/// app sending to it. Background jobs are off unless the test asks (`jobs`), so most tests
/// deliver by calling the worker themselves, deterministically.
macro_rules! mail_tests {
    ($($name:ident: $handler:expr, $jobs:expr;)*) => {
        mod sqlite {
            use super::Handler;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Sqlite, $handler, $jobs, |app, sink| {
                        Box::pin(super::$name(app, sink))
                    })
                    .await;
                }
            )*
        }
        mod postgres {
            use super::Handler;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Postgres, $handler, $jobs, |app, sink| {
                        Box::pin(super::$name(app, sink))
                    })
                    .await;
                }
            )*
        }
    };
}

mail_tests! {
    opening_a_ticket_mails_an_acknowledgement: Handler::Mailbox, true;
    the_acknowledgement_promises_a_reply_in_the_customers_time: Handler::Mailbox, false;
    journey_submissions_and_staff_opened_tickets_are_acknowledged: Handler::Mailbox, false;
    public_replies_reach_the_customer_threaded_and_notes_never_do: Handler::Mailbox, false;
    preferences_switch_kinds_off: Handler::Mailbox, false;
    one_click_unsubscribe_works_and_forged_tokens_are_refused: Handler::Mailbox, false;
    permanent_failures_end_failed_and_temporary_ones_are_retried: Handler::Picky, false;
    sla_breaches_mail_the_agent_and_every_admin: Handler::Mailbox, false;
    sla_warnings_mail_the_agent_and_every_admin_once: Handler::Mailbox, false;
    the_sla_digest_mails_each_admin_once_per_period: Handler::Mailbox, false;
    two_instances_deliver_each_mail_exactly_once: Handler::Mailbox, true;
}

type TestFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

fn mail_vars(sink: &SmtpSink, jobs: bool) -> Overrides {
    let mut o = Overrides::default();
    for (k, v) in [
        ("MAIL_ENABLED", "true".to_owned()),
        ("SMTP_URL", sink.url()),
        ("MAIL_FROM", format!("Help Desk <support@{DOMAIN}>")),
        ("MAIL_MESSAGE_ID_DOMAIN", DOMAIN.to_owned()),
        ("MAIL_SECRET", "mail-secret-for-black-box-tests".to_owned()),
        ("MAIL_REPLY_ADDRESS", format!("support+{{token}}@{DOMAIN}")),
        ("PUBLIC_URL", PUBLIC_URL.to_owned()),
        ("MAIL_MAX_ATTEMPTS", "3".to_owned()),
        ("BACKGROUND_JOBS", jobs.to_string()),
    ] {
        o.vars.insert(k, v);
    }
    o
}

async fn run(
    backend: Backend,
    handler: Handler,
    jobs: bool,
    test: impl for<'a> FnOnce(TestApp, &'a SmtpSink) -> TestFuture<'a>,
) {
    let Some(sink) = SmtpSink::start(handler).await else {
        return;
    };
    let Some(mut app) = spawn_app_with(backend, mail_vars(&sink, jobs)).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    test(app, &sink).await;
    cleanup.run().await;
}

/// One delivery run of a worker of `app`, at `now`.
async fn deliver_at(app: &TestApp, now: chrono::DateTime<Utc>) -> deliver::Report {
    let ctx = app.state.mail.context().expect("mail is on");
    let worker = deliver::Worker::new(&ctx.settings).expect("worker");
    deliver::run(&app.db, &worker, now).await.expect("delivery")
}

async fn deliver_now(app: &TestApp) -> deliver::Report {
    deliver_at(app, Utc::now()).await
}

/// A delivered message, reduced to what the tests look at.
#[derive(Debug)]
struct Mail {
    to: String,
    subject: String,
    message_id: String,
    in_reply_to: Vec<String>,
    references: Vec<String>,
    content_type: String,
    text: String,
    html: String,
    raw: String,
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    if let Some(list) = v.as_text_list() {
        return list.iter().map(|s| format!("<{s}>")).collect();
    }
    v.as_text()
        .map(|s| vec![format!("<{s}>")])
        .unwrap_or_default()
}

impl Mail {
    fn parse(bytes: &[u8]) -> Mail {
        let msg = MessageParser::default()
            .parse(bytes)
            .expect("a MIME message");
        Mail {
            to: msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            subject: msg.subject().unwrap_or_default().to_owned(),
            message_id: format!("<{}>", msg.message_id().unwrap_or_default()),
            in_reply_to: ids(msg.in_reply_to()),
            references: ids(msg.references()),
            content_type: msg
                .header_raw("Content-Type")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            text: msg.body_text(0).unwrap_or_default().into_owned(),
            html: msg.body_html(0).unwrap_or_default().into_owned(),
            raw: String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        let msg = MessageParser::default().parse(self.raw.as_bytes())?;
        msg.header_raw(name).map(|v| v.trim().to_owned())
    }
}

fn mails_to<'a>(mails: &'a [Mail], who: &TestUser) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to == who.email).collect()
}

fn parse_all(raw: Vec<Vec<u8>>) -> Vec<Mail> {
    raw.iter().map(|m| Mail::parse(m)).collect()
}

fn root_id(ticket: &Value) -> String {
    crate::inbound::root_id(ticket["id"].as_str().unwrap())
}

async fn outbox(app: &TestApp, admin: &TestUser, query: &str) -> Vec<Value> {
    let resp = app
        .get(&format!("/api/mail/outbox{query}"), Some(&admin.token))
        .await;
    resp.assert_ok(200).as_array().unwrap().clone()
}

/// The URL of a `List-Unsubscribe: <…>` header, pointed at the test server.
fn unsubscribe_path(mail: &Mail) -> String {
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    let url = header.trim_start_matches('<').trim_end_matches('>');
    url.strip_prefix(PUBLIC_URL)
        .expect("a PUBLIC_URL link")
        .to_owned()
}

async fn opening_a_ticket_mails_an_acknowledgement(app: TestApp, sink: &SmtpSink) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    let ticket = app.ticket(&customer.token, "Printer <b>on fire</b>").await;
    let number = ticket["number"].as_i64().unwrap();

    // The background worker was woken by the commit; nobody delivered by hand.
    let mails = parse_all(sink.wait_for(1).await);
    assert_eq!(mails.len(), 1);
    let ack = &mails[0];
    assert_eq!(ack.to, customer.email);
    assert!(
        ack.subject.contains(&format!("[#{number}]")),
        "{}",
        ack.subject
    );
    assert!(ack.subject.contains("Printer <b>on fire</b>"));
    assert_eq!(ack.message_id, root_id(&ticket));
    assert!(ack.in_reply_to.is_empty());
    assert!(
        ack.content_type.starts_with("multipart/alternative"),
        "{}",
        ack.content_type
    );
    assert!(ack.text.contains(MARKER) && ack.html.contains(MARKER));
    let link = format!(
        "{PUBLIC_URL}/portal/tickets/{}",
        ticket["id"].as_str().unwrap()
    );
    assert!(ack.text.contains(&link), "{}", ack.text);
    assert!(ack.text.contains(&format!("#{number}")));
    // It says when the team aims to reply: the ticket's ETA, in its calendar's zone (UTC for
    // the default 24/7 policy).
    let eta: chrono::DateTime<chrono::Utc> = ticket["sla"]["eta"]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let promise = format!(
        "we aim to reply by {} (UTC time)",
        eta.format("%a %-d %b %H:%M")
    );
    assert!(ack.html.contains(&promise), "{promise} in {}", ack.html);
    // The subject is escaped in the HTML part.
    assert!(
        ack.html.contains("Printer &lt;b&gt;on fire&lt;/b&gt;"),
        "{}",
        ack.html
    );
    assert!(!ack.html.contains("<b>on fire"));
    // An acknowledgement answers the customer (RFC 3834 `auto-replied`); X-Loop lets a
    // copy that comes back be recognised as ours.
    for (name, value) in [
        ("Auto-Submitted", "auto-replied"),
        ("X-Auto-Response-Suppress", "All"),
        ("Precedence", "bulk"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Loop", DOMAIN),
    ] {
        assert_eq!(ack.header(name).as_deref(), Some(value), "{name}");
    }
    let unsubscribe = ack.header("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with(&format!("<{PUBLIC_URL}/api/mail/unsubscribe?token=")),
        "{unsubscribe}"
    );
    let reply_to = ack.header("Reply-To").unwrap();
    assert!(
        reply_to.starts_with(&format!("support+{number}-")) && reply_to.ends_with(DOMAIN),
        "{reply_to}"
    );

    // The admin's outbox shows it sent, with the server's reply.
    let rows = outbox(&app, &admin, "?status=sent").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "ticket_opened");
    assert_eq!(rows[0]["message_id"], root_id(&ticket).as_str());
    assert_eq!(rows[0]["attempts"], 1);
    assert!(rows[0]["smtp_reply"].as_str().unwrap().starts_with("250"));

    // The metrics count it: the outbox by status and the worker's deliveries (counted once
    // its run is over, so wait for that).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let metrics = app.get("/metrics", Some(&admin.token)).await.text;
        assert!(
            metrics.contains("helpdesk_mail_outbox{status=\"sent\"} 1"),
            "{metrics}"
        );
        assert!(metrics.contains("helpdesk_mail_outbox{status=\"pending\"} 0"));
        if metrics.contains("helpdesk_mail_deliveries_total{outcome=\"sent\"} 1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn the_acknowledgement_promises_a_reply_in_the_customers_time(app: TestApp, sink: &SmtpSink) {
    let admin = app.user(Role::Admin).await;
    // The default policy runs on a Berlin office calendar.
    let calendar = app
        .post(
            "/api/sla/calendars",
            Some(&admin.token),
            &json!({"name": "Berlin office", "time_zone": "Europe/Berlin",
                    "week": {"mon": [{"start": "09:00", "end": "17:00"}],
                             "tue": [{"start": "09:00", "end": "17:00"}],
                             "wed": [{"start": "09:00", "end": "17:00"}],
                             "thu": [{"start": "09:00", "end": "17:00"}],
                             "fri": [{"start": "09:00", "end": "17:00"}]}}),
        )
        .await;
    let calendar = calendar.assert_ok(201)["id"].clone();
    let settings = app.get("/api/settings", Some(&admin.token)).await;
    let mut policies = settings.assert_ok(200)["sla_policies"].clone();
    policies["calendar_id"] = calendar;
    app.put(
        "/api/settings",
        Some(&admin.token),
        &json!({"sla_policies": policies}),
    )
    .await
    .assert_ok(200);

    // One customer said where they are; the other did not.
    let abroad = app.user(Role::Customer).await;
    app.put(
        "/api/auth/me",
        Some(&abroad.token),
        &json!({"time_zone": "America/Los_Angeles"}),
    )
    .await
    .assert_ok(200);
    let unknown = app.user(Role::Customer).await;
    let t_abroad = app.ticket(&abroad.token, "From California").await;
    let t_unknown = app.ticket(&unknown.token, "From somewhere").await;
    assert_eq!(deliver_now(&app).await.sent, 2);
    let mails = parse_all(sink.wait_for(2).await);
    let eta = |t: &Value| -> chrono::DateTime<Utc> {
        t["sla"]["eta"]["at"].as_str().unwrap().parse().unwrap()
    };
    let format = "%a %-d %b %H:%M";

    let ack = mails_to(&mails, &abroad);
    assert_eq!(ack.len(), 1);
    let theirs = eta(&t_abroad).with_timezone(&chrono_tz::America::Los_Angeles);
    let promise = format!("we aim to reply by {} (your time)", theirs.format(format));
    assert!(
        ack[0].html.contains(&promise),
        "{promise} in {}",
        ack[0].html
    );
    // Los Angeles is never Berlin's local time: the check above would fail on the office's.
    let office = eta(&t_abroad).with_timezone(&chrono_tz::Europe::Berlin);
    assert_ne!(
        theirs.format(format).to_string(),
        office.format(format).to_string()
    );

    // Without a stored zone the mail names the calendar's zone instead of claiming theirs.
    let ack = mails_to(&mails, &unknown);
    assert_eq!(ack.len(), 1);
    let office = eta(&t_unknown).with_timezone(&chrono_tz::Europe::Berlin);
    let promise = format!(
        "we aim to reply by {} (Europe/Berlin time)",
        office.format(format)
    );
    assert!(
        ack[0].html.contains(&promise),
        "{promise} in {}",
        ack[0].html
    );
    assert!(!ack[0].html.contains("(your time)"), "{}", ack[0].html);
}

async fn journey_submissions_and_staff_opened_tickets_are_acknowledged(
    app: TestApp,
    sink: &SmtpSink,
) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let definition = json!({
        "startNode": "number",
        "nodes": {
            "number": {"type": "question", "questionType": "text", "title": "Order number",
                       "required": true, "minLength": 3, "maxLength": 20, "next": "end"},
            "end": {"type": "end", "category": "orders/late", "priority": "low",
                    "subject": "Late order {number}"}
        }
    });
    let j = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "late", "name": "Late order", "description": "Orders",
                    "icon": "📦", "definition": definition}),
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
    let submitted = app
        .post(
            &format!("/api/journeys/{jid}/submit"),
            Some(&customer.token),
            &json!({"answers": {"number": "A-991"}}),
        )
        .await;
    let from_journey = submitted.assert_ok(201).clone();
    // An agent opens one on the customer's behalf: the customer is told, the agent is not.
    let by_agent = app
        .post(
            "/api/tickets",
            Some(&agent.token),
            &json!({"subject": "Phoned in", "description": "Called about an invoice.",
                    "customer_id": customer.id}),
        )
        .await;
    let by_agent = by_agent.assert_ok(201).clone();
    assert_eq!(deliver_now(&app).await.sent, 2);

    let mails = parse_all(sink.wait_for(2).await);
    assert_eq!(mails.len(), 2);
    assert_eq!(mails_to(&mails, &customer).len(), 2);
    for t in [&from_journey, &by_agent] {
        let number = t["number"].as_i64().unwrap();
        let ack = mails
            .iter()
            .find(|m| m.message_id == root_id(t))
            .expect("an acknowledgement per ticket");
        assert!(
            ack.subject.starts_with(&format!("[#{number}] ")),
            "{}",
            ack.subject
        );
    }
    assert!(mails.iter().any(|m| m.subject.contains("Late order A-991")));
}

async fn public_replies_reach_the_customer_threaded_and_notes_never_do(
    app: TestApp,
    sink: &SmtpSink,
) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let ticket = app.ticket(&customer.token, "VPN drops").await;
    let tid = ticket["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{tid}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    let messages = format!("/api/tickets/{tid}/messages");
    let reply = "Please restart the client.\nThen try <again> & tell us.";
    app.post(&messages, Some(&agent.token), &json!({"body": reply}))
        .await
        .assert_ok(201);
    let note = "Internal: this customer is on the legacy plan";
    app.post(
        &messages,
        Some(&agent.token),
        &json!({"body": note, "internal": true}),
    )
    .await
    .assert_ok(201);
    app.post(
        &messages,
        Some(&customer.token),
        &json!({"body": "Still broken."}),
    )
    .await
    .assert_ok(201);
    let report = deliver_now(&app).await;
    assert_eq!(report.sent, 4, "{report:?}");

    let mails = parse_all(sink.wait_for(4).await);
    assert_eq!(mails.len(), 4);
    // Customer: the acknowledgement and the agent's reply; never their own reply.
    let to_customer = mails_to(&mails, &customer);
    assert_eq!(to_customer.len(), 2, "{to_customer:#?}");
    let answer = to_customer
        .iter()
        .find(|m| m.subject.starts_with("Re: "))
        .expect("the reply");
    assert!(
        answer.text.contains("Please restart the client."),
        "{}",
        answer.text
    );
    assert!(answer.text.contains("Then try <again> & tell us."));
    assert!(
        answer
            .html
            .contains("Then try &lt;again&gt; &amp; tell us.")
    );
    assert_eq!(answer.in_reply_to, vec![root_id(&ticket)]);
    assert_eq!(answer.references, vec![root_id(&ticket)]);
    assert_ne!(answer.message_id, root_id(&ticket));
    assert!(answer.message_id.ends_with(&format!("@{DOMAIN}>")));
    // A person's reply is not automated mail.
    assert_eq!(answer.header("Auto-Submitted"), None);
    assert_eq!(answer.header("List-Unsubscribe"), None);
    // Agent: assigned (by the admin) and the customer's reply; never their own reply.
    let to_agent = mails_to(&mails, &agent);
    assert_eq!(to_agent.len(), 2, "{to_agent:#?}");
    assert!(
        to_agent
            .iter()
            .any(|m| m.subject.contains("Assigned to you"))
    );
    let replied = to_agent
        .iter()
        .find(|m| m.subject.contains("New reply"))
        .expect("customer replied");
    assert!(replied.text.contains("Still broken."));
    assert!(
        replied
            .text
            .contains(&format!("{PUBLIC_URL}/agent/tickets/{tid}"))
    );
    assert_eq!(replied.references, vec![root_id(&ticket)]);
    // The admin acted (assigned) and is not mailed; the note is in no mail at all.
    assert!(mails_to(&mails, &admin).is_empty());
    for m in &mails {
        assert!(
            !m.raw.contains("legacy plan"),
            "note leaked into {}",
            m.subject
        );
    }
    // Nothing more is due.
    assert_eq!(deliver_now(&app).await, deliver::Report::default());
}

async fn preferences_switch_kinds_off(app: TestApp, sink: &SmtpSink) {
    let customer = app.user(Role::Customer).await;
    let path = "/api/auth/me/notifications";
    let prefs = app.get(path, Some(&customer.token)).await;
    let list = prefs.assert_ok(200)["preferences"]
        .as_array()
        .unwrap()
        .clone();
    let kinds: Vec<&str> = list.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ticket_opened", "ticket_resolved"]);
    assert!(list.iter().all(|p| p["enabled"] == true));

    // Unknown fields, wrong types and kinds of another role are refused.
    app.put(path, Some(&customer.token), &json!({"spam": false}))
        .await
        .assert_error(400, "invalid_json");
    app.put(path, Some(&customer.token), &json!({"ticket_opened": "no"}))
        .await
        .assert_error(400, "invalid_json");
    app.put(
        path,
        Some(&customer.token),
        &json!({"ticket_assigned": false}),
    )
    .await
    .assert_error(422, "validation_failed");

    let off = app
        .put(
            path,
            Some(&customer.token),
            &json!({"ticket_opened": false}),
        )
        .await;
    let list = off.assert_ok(200)["preferences"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list[0]["kind"], "ticket_opened");
    assert_eq!(list[0]["enabled"], false);
    assert_eq!(list[1]["enabled"], true);

    // No acknowledgement now; resolution mail still comes.
    let agent = app.user(Role::Agent).await;
    let ticket = app.ticket(&customer.token, "Quiet please").await;
    let tid = ticket["id"].as_str().unwrap();
    let queued = MailOutbox::find()
        .filter(mail_outbox::Column::Kind.eq("ticket_opened"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(queued, 0);
    for status in ["open", "resolved"] {
        app.patch(
            &format!("/api/tickets/{tid}"),
            Some(&agent.token),
            &json!({"status": status}),
        )
        .await
        .assert_ok(200);
    }
    assert_eq!(deliver_now(&app).await.sent, 1);
    let mails = parse_all(sink.wait_for(1).await);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, customer.email);
    assert!(
        mails[0].subject.contains("Resolved"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains("reopen"), "{}", mails[0].text);
}

async fn one_click_unsubscribe_works_and_forged_tokens_are_refused(app: TestApp, sink: &SmtpSink) {
    let customer = app.user(Role::Customer).await;
    app.ticket(&customer.token, "First").await;
    deliver_now(&app).await;
    let mails = parse_all(sink.wait_for(1).await);
    let path = unsubscribe_path(&mails[0]);

    // Forged, altered, missing: a 400 with a code, and nothing changes.
    let forged = path.replace("ticket_opened", "ticket_resolved");
    let resp = app
        .raw(
            app.client
                .post(app.url(&forged))
                .body("List-Unsubscribe=One-Click"),
        )
        .await;
    resp.assert_error(400, "invalid_unsubscribe_token");
    let resp = app
        .raw(
            app.client
                .post(app.url("/api/mail/unsubscribe?token=abc.def.ghi")),
        )
        .await;
    resp.assert_error(400, "invalid_unsubscribe_token");
    let resp = app
        .raw(app.client.post(app.url("/api/mail/unsubscribe")))
        .await;
    resp.assert_error(400, "invalid_query");

    // Opening the link only shows a confirm page.
    let page = app.raw(app.client.get(app.url(&path))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Unsubscribe"));
    let prefs = app
        .get("/api/auth/me/notifications", Some(&customer.token))
        .await;
    assert_eq!(prefs.assert_ok(200)["preferences"][0]["enabled"], true);

    // The one-click POST, as a mail client sends it, without signing in.
    let resp = app
        .raw(
            app.client
                .post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click"),
        )
        .await;
    assert_eq!(resp.assert_ok(200)["kind"], "ticket_opened");
    let prefs = app
        .get("/api/auth/me/notifications", Some(&customer.token))
        .await;
    let data = prefs.assert_ok(200);
    assert_eq!(data["preferences"][0]["kind"], "ticket_opened");
    assert_eq!(data["preferences"][0]["enabled"], false);
    assert_eq!(data["preferences"][1]["enabled"], true);

    // And no acknowledgement for the next ticket.
    app.ticket(&customer.token, "Second").await;
    assert_eq!(deliver_now(&app).await.sent, 0);
    assert_eq!(sink.messages().len(), 1);
}

async fn permanent_failures_end_failed_and_temporary_ones_are_retried(
    app: TestApp,
    sink: &SmtpSink,
) {
    let admin = app.user(Role::Admin).await;
    let refused = app
        .user_with_email(Role::Customer, "reject-me@example.com")
        .await;
    let deferred = app
        .user_with_email(Role::Customer, "tempfail-me@example.com")
        .await;
    let fine = app.user(Role::Customer).await;
    for who in [&refused, &deferred, &fine] {
        app.ticket(&who.token, "Hello").await;
    }
    let report = deliver_now(&app).await;
    assert_eq!(
        (report.sent, report.failed, report.retried),
        (1, 1, 1),
        "{report:?}"
    );

    let failed = outbox(&app, &admin, "?status=failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0]["recipient"]
            .as_str()
            .unwrap()
            .contains("reject-me")
    );
    let reply = failed[0]["smtp_reply"].as_str().unwrap();
    assert!(reply.starts_with("550"), "{reply}");
    assert!(
        failed[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("refused")
    );

    let pending = outbox(&app, &admin, "?status=pending").await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(
        pending[0]["recipient"]
            .as_str()
            .unwrap()
            .contains("tempfail-me")
    );
    assert_eq!(pending[0]["attempts"], 1);
    assert!(pending[0]["last_error"].as_str().unwrap().contains("451"));
    let next: chrono::DateTime<Utc> = pending[0]["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > Utc::now() + Duration::seconds(50), "backoff: {next}");
    // Not due yet: nothing happens now.
    assert_eq!(deliver_now(&app).await, deliver::Report::default());

    // Once due, the second attempt goes through, with the same Message-ID.
    let report = deliver_at(&app, Utc::now() + Duration::hours(2)).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let sent = outbox(&app, &admin, "?status=sent").await;
    assert_eq!(sent.len(), 2);
    let retried = sent
        .iter()
        .find(|r| r["recipient"].as_str().unwrap().contains("tempfail-me"))
        .unwrap();
    assert_eq!(retried["attempts"], 2);
    assert_eq!(retried["message_id"], pending[0]["message_id"]);
    let mails = parse_all(sink.wait_for(2).await);
    assert_eq!(mails.len(), 2);
    assert!(mails_to(&mails, &refused).is_empty());

    // Resend: a failed row is queued again with its Message-ID; a pending one cannot be.
    let id = failed[0]["id"].as_str().unwrap();
    let resend = format!("/api/mail/outbox/{id}/resend");
    app.post(&resend, Some(&fine.token), &json!({}))
        .await
        .assert_error(403, "forbidden");
    let again = app.post(&resend, Some(&admin.token), &json!({})).await;
    let again = again.assert_ok(200);
    assert_eq!(again["status"], "pending");
    assert_eq!(again["attempts"], 0);
    assert_eq!(again["message_id"], failed[0]["message_id"]);
    app.post(&resend, Some(&admin.token), &json!({}))
        .await
        .assert_error(409, "conflict");
    let unknown = format!("/api/mail/outbox/{}/resend", uuid::Uuid::new_v4());
    app.post(&unknown, Some(&admin.token), &json!({}))
        .await
        .assert_error(404, "not_found");

    // The list: admins only, a bad status is a 400.
    app.get("/api/mail/outbox", Some(&fine.token))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/mail/outbox?status=lost", Some(&admin.token))
        .await
        .assert_error(400, "invalid_query");
    let all = app
        .get("/api/mail/outbox?per_page=2", Some(&admin.token))
        .await;
    all.assert_ok(200);
    assert_eq!(all.body["count"], 3);
    assert_eq!(all.body["pages"], 2);
}

async fn sla_breaches_mail_the_agent_and_every_admin(app: TestApp, sink: &SmtpSink) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admins = [app.user(Role::Admin).await, app.user(Role::Admin).await];
    let ticket = app.ticket(&customer.token, "Slow").await;
    let tid = ticket["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{tid}/assign"),
        Some(&admins[0].token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    // The second admin turned SLA mail off.
    app.put(
        "/api/auth/me/notifications",
        Some(&admins[1].token),
        &json!({"sla_breached": false}),
    )
    .await
    .assert_ok(200);
    // The monitor runs a month later; its mail is due from then.
    let later = Utc::now() + Duration::days(30);
    let breaches = sla_monitor::run(&app.db, &app.state.mail, later)
        .await
        .unwrap();
    assert_eq!(breaches.len(), 2, "response and resolution");
    deliver_at(&app, later).await;
    // ack + assigned + 2 breaches to the agent + 2 to the first admin.
    let mails = parse_all(sink.wait_for(6).await);
    assert_eq!(mails.len(), 6);
    let to_agent = mails_to(&mails, &agent);
    assert_eq!(
        to_agent
            .iter()
            .filter(|m| m.subject.contains("SLA"))
            .count(),
        2
    );
    let to_admin = mails_to(&mails, &admins[0]);
    assert_eq!(to_admin.len(), 2);
    assert!(to_admin.iter().all(|m| m.subject.contains("breached")));
    assert!(
        to_admin[0]
            .text
            .contains(&format!("{PUBLIC_URL}/admin/tickets/{tid}"))
    );
    assert!(mails_to(&mails, &admins[1]).is_empty());
    // A second run finds nothing new to mail.
    let even_later = later + Duration::days(1);
    sla_monitor::run(&app.db, &app.state.mail, even_later)
        .await
        .unwrap();
    assert_eq!(deliver_at(&app, even_later).await.sent, 0);
}

async fn sla_warnings_mail_the_agent_and_every_admin_once(app: TestApp, sink: &SmtpSink) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let ticket = app.ticket(&customer.token, "Slowish").await;
    let tid = ticket["id"].as_str().unwrap();
    app.post(
        &format!("/api/tickets/{tid}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    // Medium: 8 h to respond; 80 % are used after 6 h 24 min.
    let later = Utc::now() + Duration::hours(7);
    let warnings = sla_monitor::warn(&app.db, &app.state.mail, later)
        .await
        .unwrap();
    assert_eq!(warnings.len(), 1);
    deliver_at(&app, later).await;
    // ack + assigned + a warning to the agent and one to the admin.
    let mails = parse_all(sink.wait_for(4).await);
    assert_eq!(mails.len(), 4);
    for person in [&agent, &admin] {
        let warned: Vec<_> = mails_to(&mails, person)
            .into_iter()
            .filter(|m| m.subject.contains("80% used"))
            .collect();
        assert_eq!(warned.len(), 1, "{:?}", mails_to(&mails, person));
        assert!(
            warned[0].text.contains("it is due by"),
            "{}",
            warned[0].text
        );
    }
    // Once per clock.
    assert!(
        sla_monitor::warn(&app.db, &app.state.mail, later + Duration::minutes(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        deliver_at(&app, later + Duration::minutes(10)).await.sent,
        0
    );
}

async fn the_sla_digest_mails_each_admin_once_per_period(app: TestApp, sink: &SmtpSink) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admins = [app.user(Role::Admin).await, app.user(Role::Admin).await];
    let t1 = app.ticket(&customer.token, "Slow one").await;
    let t2 = app.ticket(&customer.token, "Slow two").await;
    for t in [&t1, &t2] {
        let tid = t["id"].as_str().unwrap();
        app.post(
            &format!("/api/tickets/{tid}/assign"),
            Some(&admins[0].token),
            &json!({"agent_id": agent.id}),
        )
        .await
        .assert_ok(200);
    }
    // Digest mode, hourly; a bad period is refused.
    app.put(
        "/api/settings",
        Some(&admins[0].token),
        &json!({"sla_digest_hours": 0}),
    )
    .await
    .assert_error(422, "validation_failed");
    let s = app
        .put(
            "/api/settings",
            Some(&admins[0].token),
            &json!({"sla_breach_mail": "digest", "sla_digest_hours": 1}),
        )
        .await;
    assert_eq!(s.assert_ok(200)["sla_breach_mail"], "digest");
    deliver_now(&app).await;
    let before = sink.messages().len();
    // Both tickets breach both targets a month later: the agent hears of its tickets at
    // once, the admins get nothing yet.
    let later = Utc::now() + Duration::days(30);
    let breaches = sla_monitor::run(&app.db, &app.state.mail, later)
        .await
        .unwrap();
    assert_eq!(breaches.len(), 4);
    deliver_at(&app, later).await;
    let mails = parse_all(sink.wait_for(before + 4).await);
    assert!(mails_to(&mails, &admins[0]).is_empty());
    assert_eq!(
        mails_to(&mails, &agent)
            .iter()
            .filter(|m| m.subject.contains("SLA"))
            .count(),
        4
    );
    // The digest of that hour goes out once the hour is over: one mail per admin listing the
    // four breaches, however often the job runs.
    let next_hour = later + Duration::hours(1);
    for _ in 0..3 {
        digest::run(&app.db, &app.state.mail, next_hour)
            .await
            .unwrap();
    }
    deliver_at(&app, next_hour).await;
    let mails = parse_all(sink.wait_for(before + 6).await);
    for admin in &admins {
        let got = mails_to(&mails, admin);
        assert_eq!(got.len(), 1, "one digest for {}", admin.email);
        assert!(got[0].subject.contains("4 breaches"), "{}", got[0].subject);
        assert!(got[0].text.contains(&format!("#{}", t1["number"])));
        assert!(got[0].text.contains(&format!("#{}", t2["number"])));
        assert_eq!(
            got[0].header("Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
    }
    // The hour after had no breach: no digest.
    assert_eq!(
        digest::run(&app.db, &app.state.mail, next_hour + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
}

async fn two_instances_deliver_each_mail_exactly_once(app: TestApp, sink: &SmtpSink) {
    // A second server on the same database, both running the mail worker.
    let mut vars = mail_vars(sink, true);
    vars.vars.insert("DATABASE_URL", app.db_url.clone());
    let mut other = spawn_app_with(app.backend, vars)
        .await
        .expect("second instance");
    let other_cleanup = other.take_cleanup();

    const TICKETS: usize = 12;
    let mut customers = Vec::new();
    for i in 0..TICKETS {
        let customer = app.user(Role::Customer).await;
        let via = if i % 2 == 0 { &app } else { &other };
        via.ticket(&customer.token, &format!("Ticket {i}")).await;
        customers.push(customer);
    }
    // Both workers also race over the same rows by hand, from their own pools.
    let (a, b) = tokio::join!(deliver_now(&app), deliver_now(&other));
    let by_hand = a.sent + b.sent;

    sink.wait_for(TICKETS).await;
    // Wait until every row is recorded as sent, then check nothing more arrived.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let sent = MailOutbox::find()
            .filter(mail_outbox::Column::Status.eq("sent"))
            .count(&app.db)
            .await
            .unwrap();
        if sent as usize == TICKETS {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "only {sent} sent");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Every row is recorded sent, so every send has finished: count what arrived.
    let mails = parse_all(sink.messages());
    assert_eq!(mails.len(), TICKETS, "each mail exactly once");
    let unique: HashSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(unique.len(), TICKETS);
    for c in &customers {
        assert_eq!(mails_to(&mails, c).len(), 1, "{}", c.email);
    }
    assert!(by_hand <= TICKETS);
    other_cleanup.run().await;
}

/// With `MAIL_ENABLED` off (the default) nothing is queued at all.
mod off {
    use super::*;

    crate::db_tests!(mail_off_queues_nothing);

    async fn mail_off_queues_nothing(app: TestApp) {
        assert!(!app.state.mail.is_enabled());
        let customer = app.user(Role::Customer).await;
        let agent = app.user(Role::Agent).await;
        let ticket = app.ticket(&customer.token, "No mail please").await;
        let tid = ticket["id"].as_str().unwrap();
        app.post(
            &format!("/api/tickets/{tid}/messages"),
            Some(&agent.token),
            &json!({"body": "Hello"}),
        )
        .await
        .assert_ok(201);
        assert_eq!(MailOutbox::find().count(&app.db).await.unwrap(), 0);
    }
}
