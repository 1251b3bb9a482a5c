//! Received email through the ingest endpoint and the `mail-ingest` command: authorisation
//! and limits, new tickets and threading, exactly-once, loops, bounces, rate limits and
//! hostile input. The IMAP poller against a real Dovecot is in `imap.rs`.

use std::collections::HashMap;

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use server::{
    cli,
    config::Settings,
    entity::{MailInbound, MailMessageId, TicketMessage, User},
    services::mail::{Signer, sign::Audience},
};
use shared::Role;

use crate::helpers::{BCRYPT_COST, Backend, JWT_SECRET, Overrides, Resp, TestApp, spawn_app_with};

pub const DOMAIN: &str = "help.test";
pub const TOKEN: &str = "ingest-token-for-the-black-box-tests";

macro_rules! inbound_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Sqlite, &[], super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Backend::Postgres, &[], super::$name).await;
                }
            )*
        }
    };
}

inbound_tests!(
    the_endpoint_needs_the_token_and_keeps_its_limits,
    a_new_mail_opens_a_ticket_and_replies_thread_into_it_once,
    a_ticket_opened_by_mail_carries_its_origin,
    a_customer_reply_reopens_a_resolved_ticket,
    staff_mail_becomes_an_internal_note,
    auto_replies_and_our_own_mail_change_nothing,
    a_bounce_marks_the_address_and_stops_mail_to_it,
    forged_reply_addresses_and_guessed_tags_join_no_ticket,
    signed_message_ids_thread_without_a_stored_row_and_forged_ones_do_not,
    hostile_mail_is_quarantined_never_lost_and_can_be_reprocessed,
    new_tickets_by_mail_are_rate_limited_per_sender,
    the_mail_ingest_command_exits_with_sysexits_codes,
);

/// The settings every test app of this file runs with (mail on, a reply address, a token).
pub fn inbound_vars(extra: &[(&'static str, String)]) -> Overrides {
    let mut o = Overrides::default();
    for (k, v) in [
        ("MAIL_ENABLED", "true".to_owned()),
        ("MAIL_TRANSPORT", "file".to_owned()),
        ("MAIL_FROM", format!("Help Desk <support@{DOMAIN}>")),
        ("MAIL_MESSAGE_ID_DOMAIN", DOMAIN.to_owned()),
        ("MAIL_SECRET", MAIL_SECRET.to_owned()),
        ("MAIL_REPLY_ADDRESS", format!("support+{{token}}@{DOMAIN}")),
        ("MAIL_INGEST_TOKEN", TOKEN.to_owned()),
        ("MAIL_NEW_TICKETS_PER_HOUR", "3".to_owned()),
    ] {
        o.vars.insert(k, v);
    }
    for (k, v) in extra {
        o.vars.insert(k, v.clone());
    }
    o
}

async fn run<F, Fut>(backend: Backend, extra: &[(&'static str, String)], test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let mut vars = extra.to_vec();
    vars.push(("MAIL_FILE_DIR", dir.path().display().to_string()));
    let Some(mut app) = spawn_app_with(backend, inbound_vars(&vars)).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    test(app).await;
    cleanup.run().await;
}

/// Posts a raw mail to the ingest endpoint with the right token.
pub async fn ingest(app: &TestApp, raw: &[u8]) -> Resp {
    app.raw(
        app.client
            .post(app.url("/api/inbound/email"))
            .bearer_auth(TOKEN)
            .header("Content-Type", "message/rfc822")
            .body(raw.to_vec()),
    )
    .await
}

/// A plain-text mail.
pub fn mail(from: &str, to: &str, subject: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 2 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    );
    for (n, v) in headers {
        m.push_str(&format!("{n}: {v}\r\n"));
    }
    m.push_str("\r\n");
    m.push_str(&body.replace('\n', "\r\n"));
    m.into_bytes()
}

fn msg_id() -> String {
    format!("<{}@client.example>", uuid::Uuid::new_v4().simple())
}

/// The signing key of every test app of this file and of `mail.rs`.
pub const MAIL_SECRET: &str = "mail-secret-for-black-box-tests";

fn signer() -> Signer {
    Signer::new(MAIL_SECRET).unwrap()
}

/// The signed root Message-ID the server gives ticket `ticket_id`.
pub fn root_id(ticket_id: &str) -> String {
    signer().root_message_id(DOMAIN, uuid::Uuid::parse_str(ticket_id).unwrap())
}

async fn messages(app: &TestApp, token: &str, ticket_id: &str) -> Vec<Value> {
    app.get(&format!("/api/tickets/{ticket_id}/messages"), Some(token))
        .await
        .assert_ok(200)
        .as_array()
        .unwrap()
        .clone()
}

async fn ticket(app: &TestApp, token: &str, ticket_id: &str) -> Value {
    app.get(&format!("/api/tickets/{ticket_id}"), Some(token))
        .await
        .assert_ok(200)
        .clone()
}

async fn the_endpoint_needs_the_token_and_keeps_its_limits(app: TestApp) {
    let raw = mail("eve@example.com", "support@help.test", "Hi", &[], "Hello");
    let url = app.url("/api/inbound/email");
    // No token, a forged token, a user's JWT: refused, nothing stored.
    app.raw(app.client.post(&url).body(raw.clone()))
        .await
        .assert_error(401, "unauthorized");
    app.raw(
        app.client
            .post(&url)
            .bearer_auth("ingest-token-for-the-black-box-testx")
            .body(raw.clone()),
    )
    .await
    .assert_error(403, "forbidden");
    let admin = app.user(Role::Admin).await;
    app.raw(
        app.client
            .post(&url)
            .bearer_auth(&admin.token)
            .body(raw.clone()),
    )
    .await
    .assert_error(403, "forbidden");
    assert_eq!(MailInbound::find().count(&app.db).await.unwrap(), 0);
    // Not a mail's content type; an empty body; a 50 MB mail.
    app.raw(
        app.client
            .post(&url)
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/json")
            .body("{}"),
    )
    .await
    .assert_error(415, "unsupported_media_type");
    app.raw(app.client.post(&url).bearer_auth(TOKEN).body(Vec::new()))
        .await
        .assert_error(400, "bad_request");
    let mut huge = mail("eve@example.com", "support@help.test", "Big", &[], "x");
    huge.extend(std::iter::repeat_n(b'a', 50 * 1024 * 1024));
    ingest(&app, &huge)
        .await
        .assert_error(413, "payload_too_large");
    assert_eq!(MailInbound::find().count(&app.db).await.unwrap(), 0);
    // Still works afterwards.
    let ok = ingest(&app, &raw).await;
    assert_eq!(ok.assert_ok(200)["status"], "processed");
}

async fn a_new_mail_opens_a_ticket_and_replies_thread_into_it_once(app: TestApp) {
    let id = msg_id();
    let first = mail(
        "Eve Example <Eve@Example.com>",
        "support@help.test",
        "Printer on fire",
        &[("Message-ID", &id)],
        "It smokes.\n\nEve",
    );
    let out = ingest(&app, &first).await.assert_ok(200).clone();
    assert_eq!(out["status"], "processed");
    assert_eq!(out["action"], "new_ticket");
    assert_eq!(out["duplicate"], false);
    let ticket_id = out["ticket_id"].as_str().unwrap().to_owned();
    // The sender got a customer account (no password); the ticket is theirs.
    let users = User::find().all(&app.db).await.unwrap();
    let eve = users
        .iter()
        .find(|u| u.email == "eve@example.com")
        .expect("account");
    assert_eq!(eve.name, "Eve Example");
    let admin = app.user(Role::Admin).await;
    let t = ticket(&app, &admin.token, &ticket_id).await;
    assert_eq!(t["subject"], "Printer on fire");
    assert_eq!(t["description"], "It smokes.\n\nEve");
    assert_eq!(t["customer"]["id"], eve.id.to_string());

    // The same mail again (another feed, a re-fetch): skipped.
    let again = ingest(&app, &first).await.assert_ok(200).clone();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["inbound_id"], out["inbound_id"]);

    // A reply by In-Reply-To to the mail we received, quoting it.
    let reply = mail(
        "eve@example.com",
        "support@help.test",
        "Re: Printer on fire",
        &[("Message-ID", &msg_id()), ("In-Reply-To", &id)],
        "Now it is out.\n\nOn Tue, 2 Dec 2026, Eve wrote:\n> It smokes.",
    );
    let r = ingest(&app, &reply).await.assert_ok(200).clone();
    assert_eq!(r["action"], "reply", "{r}");
    assert_eq!(r["ticket_id"], ticket_id.as_str());
    for _ in 0..3 {
        assert_eq!(ingest(&app, &reply).await.assert_ok(200)["duplicate"], true);
    }
    let msgs = messages(&app, &admin.token, &ticket_id).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["body"], "Now it is out.");
    assert_eq!(msgs[0]["internal"], false);
    assert_eq!(msgs[0]["author"]["id"], eve.id.to_string());
    let email = &msgs[0]["email"];
    assert_eq!(email["from"], "eve@example.com");
    assert!(
        email["original_text"]
            .as_str()
            .unwrap()
            .contains("> It smokes.")
    );
    assert_eq!(TicketMessage::find().count(&app.db).await.unwrap(), 1);

    // The admin list shows both mails, newest first; filters by status.
    let list = app
        .get("/api/mail/inbound?status=processed", Some(&admin.token))
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(list.as_array().unwrap().len(), 2);
    app.get("/api/mail/inbound?status=nope", Some(&admin.token))
        .await
        .assert_error(400, "invalid_query");
    let customer = app.user(Role::Customer).await;
    app.get("/api/mail/inbound", Some(&customer.token))
        .await
        .assert_error(403, "forbidden");
}

async fn a_ticket_opened_by_mail_carries_its_origin(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let other = app.user(Role::Customer).await;
    let html = "<p>The <b>printer</b> smokes.<script>alert(1)</script>\
                <img src=\"https://tracker.example/p.gif\"></p>\
                <div class=\"gmail_quote\">On Mon, Bob wrote:<br>&gt; old text</div>";
    let raw = format!(
        "From: Cleo <{}>\r\nTo: support@{DOMAIN}\r\nSubject: Printer smokes\r\n\
         Message-ID: {}\r\nDate: Tue, 2 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         The printer smokes.\r\n\r\nOn Mon, Bob wrote:\r\n> old text\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b1--\r\n",
        customer.email,
        msg_id()
    );
    let out = ingest(&app, raw.as_bytes()).await.assert_ok(200).clone();
    assert_eq!(out["action"], "new_ticket", "{out}");
    let ticket_id = out["ticket_id"].as_str().unwrap().to_owned();

    // Staff and the ticket's customer see the mail the description came from.
    for token in [&admin.token, &agent.token, &customer.token] {
        let t = ticket(&app, token, &ticket_id).await;
        assert_eq!(t["description"], "The printer smokes.");
        let email = &t["email"];
        assert_eq!(email["inbound_id"], out["inbound_id"], "{t}");
        assert_eq!(email["from"], customer.email.to_ascii_lowercase());
        let text = email["original_text"].as_str().unwrap();
        assert!(text.contains("> old text"), "{text}");
        let safe = email["safe_html"].as_str().unwrap();
        assert!(safe.contains("<b>printer</b>"), "{safe}");
        assert!(
            safe.contains("old text"),
            "quotes stay in the original: {safe}"
        );
        assert!(!safe.contains("script"), "{safe}");
        assert!(!safe.contains("tracker.example"), "{safe}");
    }
    // Another customer still learns nothing about it.
    app.get(&format!("/api/tickets/{ticket_id}"), Some(&other.token))
        .await
        .assert_error(404, "not_found");
    // Lists leave the origin out with the description.
    let list = app
        .get("/api/tickets?per_page=100", Some(&admin.token))
        .await
        .assert_ok(200)
        .clone();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == ticket_id.as_str())
        .expect("listed");
    assert!(row.get("email").is_none(), "{row}");
    assert!(row.get("description").is_none(), "{row}");

    // A reply by mail has its own origin; the ticket keeps the one that opened it.
    let reply = mail(
        &customer.email,
        &format!("support@{DOMAIN}"),
        "Re: Printer smokes",
        &[
            ("Message-ID", &msg_id()),
            ("In-Reply-To", &root_id(&ticket_id)),
        ],
        "Still smoking.",
    );
    let r = ingest(&app, &reply).await.assert_ok(200).clone();
    assert_eq!(r["action"], "reply", "{r}");
    let t = ticket(&app, &admin.token, &ticket_id).await;
    assert_eq!(t["email"]["inbound_id"], out["inbound_id"]);
    let msgs = messages(&app, &admin.token, &ticket_id).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["email"]["inbound_id"], r["inbound_id"]);

    // Tickets opened in the portal, by the API or through a journey carry none, even when a
    // reply to them came by mail.
    let by_api = app.ticket(&customer.token, "Opened in the portal").await;
    let api_id = by_api["id"].as_str().unwrap().to_owned();
    assert!(by_api.get("email").is_none(), "{by_api}");
    let reply = mail(
        &customer.email,
        &format!("support@{DOMAIN}"),
        "Re: Opened in the portal",
        &[
            ("Message-ID", &msg_id()),
            ("In-Reply-To", &root_id(&api_id)),
        ],
        "More by mail.",
    );
    assert_eq!(ingest(&app, &reply).await.assert_ok(200)["action"], "reply");
    let t = ticket(&app, &admin.token, &api_id).await;
    assert!(t.get("email").is_none(), "{t}");
    let definition = json!({
        "startNode": "what",
        "nodes": {
            "what": {"type": "question", "questionType": "text", "title": "What is wrong?",
                     "required": true, "minLength": 1, "maxLength": 200, "next": "end"},
            "end": {"type": "end", "category": "general", "priority": "low",
                    "subject": "Journey: {what}"}
        }
    });
    let j = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "broken", "name": "Something broke", "definition": definition}),
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
            &json!({"answers": {"what": "The lamp"}}),
        )
        .await
        .assert_ok(201)
        .clone();
    let journey_id = submitted["id"].as_str().unwrap().to_owned();
    for token in [&admin.token, &customer.token] {
        let t = ticket(&app, token, &journey_id).await;
        assert!(t.get("email").is_none(), "{t}");
    }
}

async fn a_customer_reply_reopens_a_resolved_ticket(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "Broken chair").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&agent.token),
        &json!({"status": "resolved"}),
    )
    .await
    .assert_ok(200);
    // The customer answers the resolution mail (our root Message-ID) from their mail client.
    let reply = mail(
        &customer.email,
        "support@help.test",
        &format!("Re: [#{}] Resolved: Broken chair", t["number"]),
        &[("Message-ID", &msg_id()), ("In-Reply-To", &root_id(&tid))],
        "It broke again.",
    );
    let r = ingest(&app, &reply).await.assert_ok(200).clone();
    assert_eq!(r["action"], "reply", "{r}");
    assert_eq!(ticket(&app, &agent.token, &tid).await["status"], "open");
    // A closed ticket is not reopened: the mail opens a new one.
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&agent.token),
        &json!({"status": "resolved"}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&customer.token),
        &json!({"status": "closed"}),
    )
    .await
    .assert_ok(200);
    let late = mail(
        &customer.email,
        "support@help.test",
        "Re: Broken chair",
        &[("Message-ID", &msg_id()), ("In-Reply-To", &root_id(&tid))],
        "And again.",
    );
    let r = ingest(&app, &late).await.assert_ok(200).clone();
    assert_eq!(r["action"], "new_ticket", "{r}");
    assert_ne!(r["ticket_id"], tid.as_str());
    assert!(r["reason"].as_str().unwrap().contains("closed"));
}

async fn staff_mail_becomes_an_internal_note(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "VPN down").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    // The agent answers the "assigned to you" notification (our root id): an internal note.
    let note = mail(
        &agent.email,
        "support@help.test",
        &format!("Re: [#{}] Assigned to you: VPN down", t["number"]),
        &[("Message-ID", &msg_id()), ("References", &root_id(&tid))],
        "Checking the firewall.",
    );
    let r = ingest(&app, &note).await.assert_ok(200).clone();
    assert_eq!(r["action"], "note", "{r}");
    let msgs = messages(&app, &agent.token, &tid).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["internal"], true);
    // The customer never sees it.
    assert!(messages(&app, &customer.token, &tid).await.is_empty());
    // Staff cannot open tickets by mail.
    let fresh = mail(
        &agent.email,
        "support@help.test",
        "Hello",
        &[("Message-ID", &msg_id())],
        "x",
    );
    assert_eq!(
        ingest(&app, &fresh).await.assert_ok(200)["status"],
        "rejected"
    );
}

async fn auto_replies_and_our_own_mail_change_nothing(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "Disk full").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{tid}"),
        Some(&agent.token),
        &json!({"status": "resolved"}),
    )
    .await
    .assert_ok(200);
    let before = MailOutboxCount::of(&app).await;
    // An out-of-office from the customer, answering our mail: not a reply, no reopening, no
    // mail in return.
    for (name, value) in [
        ("Auto-Submitted", "auto-replied"),
        ("X-Autoreply", "yes"),
        ("Precedence", "bulk"),
        ("X-Auto-Response-Suppress", "OOF"),
        ("List-Id", "<x.lists.example>"),
    ] {
        let ooo = mail(
            &customer.email,
            "support@help.test",
            &format!("Out of office: [#{}] Disk full", t["number"]),
            &[
                ("Message-ID", &msg_id()),
                ("In-Reply-To", &root_id(&tid)),
                (name, value),
            ],
            "I am away.",
        );
        let r = ingest(&app, &ooo).await.assert_ok(200).clone();
        assert_eq!(r["status"], "autoreply", "{name}: {r}");
        assert_eq!(r["ticket_id"], tid.as_str());
    }
    // An OOO from a stranger opens nothing.
    let stranger = mail(
        "robot@example.org",
        "support@help.test",
        "Away",
        &[
            ("Message-ID", &msg_id()),
            ("Auto-Submitted", "auto-replied"),
        ],
        "Away.",
    );
    assert_eq!(
        ingest(&app, &stranger).await.assert_ok(200)["status"],
        "autoreply"
    );
    // Our own notification, come back through a forwarding loop.
    let own = mail(
        "Help Desk <support@help.test>",
        "support@help.test",
        &format!("[#{}] Resolved: Disk full", t["number"]),
        &[
            ("Message-ID", &format!("<ticket-resolved.abc@{DOMAIN}>")),
            ("X-Loop", DOMAIN),
        ],
        "Your request has been marked as resolved.",
    );
    assert_eq!(ingest(&app, &own).await.assert_ok(200)["status"], "own");
    assert_eq!(ticket(&app, &agent.token, &tid).await["status"], "resolved");
    assert!(messages(&app, &agent.token, &tid).await.is_empty());
    assert_eq!(
        MailOutboxCount::of(&app).await,
        before,
        "no mail was triggered"
    );
    let users = User::find().count(&app.db).await.unwrap();
    assert_eq!(users, 2, "no account for the robot");
}

struct MailOutboxCount;

impl MailOutboxCount {
    async fn of(app: &TestApp) -> u64 {
        server::entity::MailOutbox::find()
            .count(&app.db)
            .await
            .unwrap()
    }
}

async fn a_bounce_marks_the_address_and_stops_mail_to_it(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "Bouncy").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    // The acknowledgement went out; the customer's server returns it.
    let outbox = server::entity::MailOutbox::find()
        .all(&app.db)
        .await
        .unwrap();
    let ack = outbox
        .iter()
        .find(|m| m.kind == "ticket_opened")
        .expect("ack queued");
    let dsn = format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com\r\nTo: support@help.test\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-{}@mx.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {}\r\nSubject: x\r\n--b1--\r\n",
        uuid::Uuid::new_v4().simple(),
        customer.email.to_uppercase(),
        ack.message_id
    );
    let r = ingest(&app, dsn.as_bytes()).await.assert_ok(200).clone();
    assert_eq!(r["status"], "bounce", "{r}");
    assert_eq!(r["ticket_id"], tid.as_str());
    let u = User::find_by_id(uuid::Uuid::parse_str(&customer.id).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(u.email_bouncing_at.is_some());
    // The next mail to that address is recorded as suppressed, not sent.
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&agent.token),
        &json!({"body": "Can you hear me?"}),
    )
    .await
    .assert_ok(201);
    let outbox = server::entity::MailOutbox::find()
        .all(&app.db)
        .await
        .unwrap();
    let reply = outbox
        .iter()
        .find(|m| m.kind == "agent_reply")
        .expect("queued");
    assert_eq!(reply.status, "suppressed");
    assert!(reply.last_error.as_deref().unwrap().contains("bounced"));
    // The bounce created no ticket and no account.
    assert_eq!(User::find().count(&app.db).await.unwrap(), 2);
}

async fn forged_reply_addresses_and_guessed_tags_join_no_ticket(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let t = app.ticket(&customer.token, "Private matter").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let n = t["number"].as_i64().unwrap();
    // A stranger writes to a forged reply address and guesses the tag.
    let forged = mail(
        "mallory@evil.example",
        &format!("support+{n}-0123456789ab@help.test"),
        &format!("Re: [#{n}] Private matter"),
        &[("Message-ID", &msg_id())],
        "Let me in.",
    );
    let r = ingest(&app, &forged).await.assert_ok(200).clone();
    assert_eq!(r["action"], "new_ticket", "{r}");
    assert_ne!(r["ticket_id"], tid.as_str());
    let admin = app.user(Role::Admin).await;
    assert!(messages(&app, &admin.token, &tid).await.is_empty());
    // The customer's own tag works.
    let own = mail(
        &customer.email,
        "support@help.test",
        &format!("Re: [#{n}] Private matter"),
        &[("Message-ID", &msg_id())],
        "More details.",
    );
    let r = ingest(&app, &own).await.assert_ok(200).clone();
    assert_eq!(r["action"], "reply");
    assert_eq!(r["ticket_id"], tid.as_str());
    // A stranger replying with a real In-Reply-To of our mail is refused, not threaded.
    let thief = mail(
        "mallory@evil.example",
        "support@help.test",
        "Re: Private matter",
        &[("Message-ID", &msg_id()), ("In-Reply-To", &root_id(&tid))],
        "Let me in.",
    );
    let r = ingest(&app, &thief).await.assert_ok(200).clone();
    assert_eq!(r["status"], "rejected", "{r}");
    assert_eq!(messages(&app, &admin.token, &tid).await.len(), 1);
}

async fn signed_message_ids_thread_without_a_stored_row_and_forged_ones_do_not(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&customer.token, "Lost invoice").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let n = t["number"].as_i64().unwrap();
    app.post(
        &format!("/api/tickets/{tid}/take"),
        Some(&agent.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&agent.token),
        &json!({"body": "Which month?"}),
    )
    .await
    .assert_ok(201);
    let answer = server::entity::MailOutbox::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "agent_reply")
        .expect("the agent's reply is queued");
    let uuid = uuid::Uuid::parse_str(&tid).unwrap();
    // The id names the ticket and the customer as its audience, under our signature.
    assert_eq!(
        signer()
            .verify_message_id(DOMAIN, &answer.message_id)
            .map(|own| (own.ticket_id, own.audience)),
        Some((uuid, Some(Audience::Customer)))
    );
    // Without any stored Message-ID (lost, or never written), the reply still threads.
    MailMessageId::delete_many().exec(&app.db).await.unwrap();
    let reply = mail(
        &customer.email,
        "support@help.test",
        "Re: your question",
        &[
            ("Message-ID", &msg_id()),
            ("In-Reply-To", &answer.message_id),
        ],
        "March.",
    );
    let r = ingest(&app, &reply).await.assert_ok(200).clone();
    assert_eq!(r["action"], "reply", "{r}");
    assert_eq!(r["ticket_id"], tid.as_str());
    assert!(
        r["reason"].as_str().unwrap().contains("signed Message-ID"),
        "{r}"
    );

    // Ids in our domain that name the ticket but are not signed by us are ignored.
    let forged = [
        format!("<ticket.{}@{DOMAIN}>", uuid.simple()),
        format!(
            "<agent-reply.{}.c.{}.0123456789abcdef0123@{DOMAIN}>",
            uuid.simple(),
            uuid::Uuid::new_v4().simple()
        ),
        Signer::new("another-key")
            .unwrap()
            .root_message_id(DOMAIN, uuid),
    ];
    for id in &forged {
        let fake = mail(
            &customer.email,
            "support@help.test",
            "Re: Lost invoice",
            &[("Message-ID", &msg_id()), ("In-Reply-To", id)],
            "Forged.",
        );
        let r = ingest(&app, &fake).await.assert_ok(200).clone();
        assert_eq!(r["action"], "new_ticket", "{id}: {r}");
        assert_ne!(r["ticket_id"], tid.as_str());
    }
    // Threading falls through to the next rule: here the customer's own subject tag.
    let tagged = mail(
        &customer.email,
        "support@help.test",
        &format!("Re: [#{n}] Lost invoice"),
        &[
            ("Message-ID", &msg_id()),
            ("In-Reply-To", &forged[1]),
            ("References", &forged[0]),
        ],
        "Tagged.",
    );
    let r = ingest(&app, &tagged).await.assert_ok(200).clone();
    assert_eq!(r["action"], "reply", "{r}");
    assert_eq!(r["ticket_id"], tid.as_str());
    assert!(r["reason"].as_str().unwrap().contains("subject tag"), "{r}");
    let bodies: Vec<Value> = messages(&app, &agent.token, &tid)
        .await
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        vec![json!("Which month?"), json!("March."), json!("Tagged.")]
    );
}

async fn hostile_mail_is_quarantined_never_lost_and_can_be_reprocessed(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    // Huge headers, no sender, broken MIME and charsets, binary garbage: a clear outcome.
    let mut huge = b"From: eve@example.com\r\nX-Pad: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 300 * 1024));
    huge.extend(b"\r\n\r\nbody");
    let senderless = b"To: support@help.test\r\nSubject: who?\r\n\r\nhi".to_vec();
    let broken = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/mail/broken_charset.eml"
    ))
    .unwrap();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut statuses = Vec::new();
    for raw in [&huge, &senderless, &broken, &garbage] {
        let r = ingest(&app, raw).await;
        let data = r.assert_ok(200).clone();
        statuses.push(data["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses[0], "quarantined");
    assert_eq!(statuses[1], "quarantined");
    assert!(
        ["processed", "quarantined"].contains(&statuses[2].as_str()),
        "{statuses:?}"
    );
    assert_eq!(statuses[3], "quarantined");
    // Every one is stored with its raw copy.
    let stored = MailInbound::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert!(stored.iter().any(|m| m.raw == huge));
    // The admin list shows the quarantine, and a reprocess runs it again (still no sender).
    let q = app
        .get("/api/mail/inbound?status=quarantined", Some(&admin.token))
        .await
        .assert_ok(200)
        .clone();
    let id = q
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"].is_null() && m["size_bytes"] == senderless.len())
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .expect("the senderless mail is listed");
    let again = app
        .post(
            &format!("/api/mail/inbound/{id}/reprocess"),
            Some(&admin.token),
            &json!({}),
        )
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(again["status"], "quarantined");
    // Processed mail cannot be reprocessed; unknown ids are 404.
    let ok = ingest(
        &app,
        &mail("eve@example.com", "support@help.test", "Fine", &[], "ok"),
    )
    .await;
    let ok_id = ok.assert_ok(200)["inbound_id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/mail/inbound/{ok_id}/reprocess"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_error(409, "conflict");
    app.post(
        &format!("/api/mail/inbound/{}/reprocess", uuid::Uuid::new_v4()),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_error(404, "not_found");
    // A later good mail is not held up by the bad ones.
    assert_eq!(ok.assert_ok(200)["action"], "new_ticket");
}

async fn new_tickets_by_mail_are_rate_limited_per_sender(app: TestApp) {
    let mut statuses = Vec::new();
    for i in 0..5 {
        let m = mail(
            "flood@example.com",
            "support@help.test",
            &format!("Flood {i}"),
            &[("Message-ID", &msg_id())],
            "x",
        );
        statuses.push(
            ingest(&app, &m).await.assert_ok(200)["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        statuses,
        [
            "processed",
            "processed",
            "processed",
            "rate_limited",
            "rate_limited"
        ]
    );
    // Another sender is not affected.
    let other = mail(
        "calm@example.com",
        "support@help.test",
        "Hi",
        &[("Message-ID", &msg_id())],
        "x",
    );
    assert_eq!(
        ingest(&app, &other).await.assert_ok(200)["status"],
        "processed"
    );
    // Acknowledgements per address are capped too (MAIL_ACKS_PER_HOUR, 5 by default): the
    // flood got 3 tickets and 3 acknowledgements.
    let acks = server::entity::MailOutbox::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        acks.iter()
            .filter(|m| m.recipient.contains("flood@example.com"))
            .count(),
        3
    );
}

/// Settings pointing at the test app's database, as the command would read them.
fn settings_for(app: &TestApp, database_url: &str) -> Settings {
    let mut vars: HashMap<&str, String> = inbound_vars(&[]).vars.into_iter().collect();
    vars.insert("DATABASE_URL", database_url.to_owned());
    vars.insert("JWT_SECRET", JWT_SECRET.to_owned());
    vars.insert("BCRYPT_COST", BCRYPT_COST.to_string());
    vars.insert("UPLOAD_DIR", app.upload_dir.display().to_string());
    vars.insert("MAIL_MAX_BYTES", "4096".to_owned());
    Settings::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

async fn the_mail_ingest_command_exits_with_sysexits_codes(app: TestApp) {
    let raw = mail(
        "pipe@example.com",
        "support@help.test",
        "Via the MTA",
        &[("Message-ID", &msg_id())],
        "Piped.",
    );
    assert_eq!(
        cli::mail_ingest_bytes(settings_for(&app, &app.db_url), &raw).await,
        0
    );
    // A duplicate is a success too (the MTA must not retry it).
    assert_eq!(
        cli::mail_ingest_bytes(settings_for(&app, &app.db_url), &raw).await,
        0
    );
    assert_eq!(MailInbound::find().count(&app.db).await.unwrap(), 1);
    // Too large: EX_DATAERR, so the MTA bounces it to the sender.
    let big = vec![b'a'; 5000];
    assert_eq!(
        cli::mail_ingest_bytes(settings_for(&app, &app.db_url), &big).await,
        cli::EX_DATAERR
    );
    // The database is down: EX_TEMPFAIL, so the MTA keeps the mail and tries again.
    let down = match app.backend {
        Backend::Sqlite => "sqlite:///nonexistent-dir/for/sure/db.sqlite?mode=ro".to_owned(),
        Backend::Postgres => "postgres://postgres@127.0.0.1:1/helpdesk".to_owned(),
    };
    assert_eq!(
        cli::mail_ingest_bytes(settings_for(&app, &down), &raw).await,
        cli::EX_TEMPFAIL
    );
}
