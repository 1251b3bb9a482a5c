//! Real-browser test of the email channel: a customer's mail opens a ticket through the ingest
//! endpoint and a second mail replies to it; the agent sees on the ticket page that the
//! description and the reply came by email, opens the original, and replies from the page;
//! a real SMTP server (aiosmtpd, see `mail_support`) receives the reply mail to the customer,
//! tagged and threaded.
//!
//! Needs what the browser tests need and aiosmtpd; skips (or fails, when required) without them.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use mail_parser::{HeaderValue, MessageParser};

use crate::{
    browser_support::*,
    inbound::{DOMAIN, MAIL_SECRET, TOKEN, ingest, root_id},
    mail_support::{Handler, SmtpSink},
};

const CUSTOMER: &str = "customer1@helpdesk.local";

/// The first `<id>` of a Message-ID list header.
fn first_id(v: &HeaderValue<'_>) -> Option<String> {
    v.as_text_list()
        .and_then(|l| l.first().map(|s| s.to_string()))
        .or_else(|| v.as_text().map(str::to_owned))
        .map(|s| format!("<{s}>"))
}

/// Waits until the sink holds a mail to `to` whose text contains `needle`; returns it raw.
async fn wait_for_mail(sink: &SmtpSink, to: &str, needle: &str) -> Vec<u8> {
    let deadline = Instant::now() + WAIT;
    loop {
        for raw in sink.messages() {
            let Some(msg) = MessageParser::default().parse(&raw) else {
                continue;
            };
            let to_them = msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a.eq_ignore_ascii_case(to));
            let text = msg.body_text(0).unwrap_or_default();
            if to_them && text.contains(needle) {
                return raw;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to} containing `{needle}` ({} mails in the sink)",
            sink.messages().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_mailed_request_from_the_ticket_page() {
    let Some(sink) = SmtpSink::start(Handler::Mailbox).await else {
        return;
    };
    let vars = HashMap::from([
        ("BACKGROUND_JOBS", "true".to_owned()),
        ("MAIL_ENABLED", "true".to_owned()),
        ("MAIL_TRANSPORT", "smtp".to_owned()),
        ("SMTP_URL", sink.url()),
        ("MAIL_FROM", format!("Help Desk <support@{DOMAIN}>")),
        ("MAIL_MESSAGE_ID_DOMAIN", DOMAIN.to_owned()),
        ("MAIL_SECRET", MAIL_SECRET.to_owned()),
        ("MAIL_REPLY_ADDRESS", format!("support+{{token}}@{DOMAIN}")),
        ("MAIL_INGEST_TOKEN", TOKEN.to_owned()),
    ]);
    let Some((app, _cleanup, driver)) = setup_with(vars).await else {
        return;
    };

    // The customer writes to support from their mail client: text and HTML, with a quote.
    let first_id_sent = format!("<{}@client.example>", uuid::Uuid::new_v4().simple());
    let raw = format!(
        "From: Carla Customer <{CUSTOMER}>\r\nTo: support@{DOMAIN}\r\n\
         Subject: Label printer prints blank labels\r\nMessage-ID: {first_id_sent}\r\n\
         Date: Tue, 2 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Every label comes out blank since this morning.\r\n\r\n\
         On Mon, 1 Dec 2026, Dan wrote:\r\n> Did you change the ribbon?\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Every label comes out <b>blank</b> since this morning.</p>\
         <div class=\"gmail_quote\">On Mon, 1 Dec 2026, Dan wrote:<br>\
         <blockquote>Did you change the ribbon?</blockquote></div>\r\n--b1--\r\n"
    );
    let opened = ingest(&app, raw.as_bytes()).await.assert_ok(200).clone();
    assert_eq!(opened["action"], "new_ticket", "{opened}");
    let id = opened["ticket_id"].as_str().expect("ticket id").to_owned();
    // Then answers our acknowledgement by mail.
    let reply = format!(
        "From: {CUSTOMER}\r\nTo: support@{DOMAIN}\r\nSubject: Re: Label printer\r\n\
         Message-ID: <{}@client.example>\r\nIn-Reply-To: {}\r\n\
         Date: Tue, 2 Dec 2026 10:05:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         It is the new roll of labels.\r\n\r\n\
         On Tue, 2 Dec 2026, Help Desk wrote:\r\n> ##- reply above this line -##\r\n",
        uuid::Uuid::new_v4().simple(),
        root_id(&id)
    );
    let replied = ingest(&app, reply.as_bytes()).await.assert_ok(200).clone();
    assert_eq!(replied["action"], "reply", "{replied}");

    // The agent opens it: the description and the reply are marked as mail.
    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    agent
        .goto(&app.url(&format!("/agent/tickets/{id}")))
        .await
        .expect("open the ticket");
    wait_for_contains(&agent, "[data-testid=ticket-subject]", "blank labels").await;
    wait_for_contains(
        &agent,
        "[data-testid=ticket-description] [data-testid=via-email]",
        &format!("by email from {CUSTOMER}"),
    )
    .await;
    wait_for_contains(
        &agent,
        "[data-testid=message] [data-testid=via-email]",
        &format!("by email from {CUSTOMER}"),
    )
    .await;
    wait_for_contains(&agent, "[data-testid=message]", "new roll of labels").await;
    // The description is the new text only; the original keeps the quote.
    let description = element(&agent, "[data-testid=ticket-description] p").await;
    let shown = description.text().await.expect("description text");
    assert!(
        shown.contains("blank since this morning") && !shown.contains("ribbon"),
        "{shown}"
    );
    click(
        &agent,
        "[data-testid=ticket-description] button[data-testid=toggle-original]",
    )
    .await;
    wait_for_contains(
        &agent,
        "[data-testid=ticket-description] [data-testid=original-text]",
        "> Did you change the ribbon?",
    )
    .await;
    element(
        &agent,
        "[data-testid=ticket-description] iframe[data-testid=original-html]",
    )
    .await;
    wait_for_contains(
        &agent,
        "[data-testid=ticket-description] button[data-testid=toggle-original]",
        "Hide original",
    )
    .await;
    screenshot(&agent, "mail-original").await;

    // The agent replies from the ticket page.
    let answer = "Please load the roll with the shiny side up.";
    type_into(&agent, "textarea#reply-body", answer).await;
    click(&agent, "button#reply-send").await;
    wait_for_contains(&agent, "[data-testid=message]", "shiny side up").await;
    screenshot(&agent, "mail-replied").await;

    // The customer gets it by mail: the reply itself, tagged and threaded to the ticket.
    let token = app.login("agent1@helpdesk.local", "Agent123!").await;
    let token = token.assert_ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let number = app
        .get(&format!("/api/tickets/{id}"), Some(&token))
        .await
        .assert_ok(200)["number"]
        .as_i64()
        .expect("number");
    let raw = wait_for_mail(&sink, CUSTOMER, "shiny side up").await;
    let mail = MessageParser::default().parse(&raw).expect("a MIME mail");
    let subject = mail.subject().unwrap_or_default();
    assert!(subject.contains(&format!("[#{number}]")), "{subject}");
    assert_eq!(first_id(mail.in_reply_to()), Some(root_id(&id)));
    let text = mail.body_text(0).unwrap_or_default();
    assert!(text.contains(answer), "{text}");
}
