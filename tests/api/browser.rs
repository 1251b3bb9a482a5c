//! Real-browser tests: the built SPA in headless Chromium, driven by fantoccini over
//! chromedriver.
//!
//! They need `dist/` (built by `make frontend`), `chromium` and `chromedriver`. When one is
//! missing the tests print `SKIPPED: browser` and pass, unless `HELPDESK_REQUIRE_BROWSER=1`
//! (set by `make test` and CI), in which case they fail.

use std::collections::HashMap;

use fantoccini::Locator;
use serde_json::json;

use crate::browser_support::*;
use crate::helpers::{Backend, Overrides, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_signs_in_and_sees_its_page() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let client = driver.session().await;
    for (email, password, title, name) in [
        (
            "admin@helpdesk.local",
            "Admin123!",
            "Admin dashboard",
            "Ada Admin",
        ),
        (
            "agent1@helpdesk.local",
            "Agent123!",
            "Agent dashboard",
            "Alex Agent",
        ),
        (
            "customer1@helpdesk.local",
            "Customer123!",
            "Customer portal",
            "Dana Customer",
        ),
    ] {
        sign_in(&client, &app, email, password).await;
        wait_for_text(&client, "h1[data-testid=page-title]", title).await;
        let user = client
            .find(Locator::Css("[data-testid=current-user]"))
            .await
            .expect("the navbar names the user")
            .text()
            .await
            .expect("text");
        assert!(
            user.contains(name),
            "navbar shows `{user}`, expected {name}"
        );
        client
            .find(Locator::Css("#logout"))
            .await
            .expect("logout button")
            .click()
            .await
            .expect("logout");
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("input#login-email"))
            .await
            .expect("back at the login form after logout");
    }

    // A wrong password shows the server's message, and no dashboard.
    sign_in(&client, &app, "agent1@helpdesk.local", "wr0ng-password").await;
    let alert = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".form-error"))
        .await
        .expect("an error alert");
    assert!(!alert.text().await.expect("text").trim().is_empty());

    // A role's page is not reachable by another role: a customer sent to /admin lands home.
    sign_in(&client, &app, "customer2@helpdesk.local", "Customer123!").await;
    wait_for_text(&client, "h1[data-testid=page-title]", "Customer portal").await;
    client.goto(&app.url("/admin")).await.expect("open /admin");
    wait_for_text(&client, "h1[data-testid=page-title]", "Customer portal").await;

    client.close().await.expect("close session");
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_registers_through_the_spa() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let client = driver.session().await;
    client
        .goto(&app.url("/register"))
        .await
        .expect("open /register");
    let name = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input#register-name"))
        .await
        .expect("the register form renders");
    name.send_keys("Robin Browser").await.expect("type name");
    for (css, value) in [
        ("input#register-email", "robin@example.com"),
        ("input#register-password", "br0wser-pass"),
    ] {
        client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .send_keys(value)
            .await
            .expect("type");
    }
    client
        .find(Locator::Css("button#register-submit"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    wait_for_text(&client, "h1[data-testid=page-title]", "Customer portal").await;

    let login = app.login("robin@example.com", "br0wser-pass").await;
    assert_eq!(login.assert_ok(200)["user"]["role"], "customer");
    client.close().await.expect("close session");
    cleanup.run().await;
}

/// The whole story of one ticket, in two browsers: a customer walks a branching journey with
/// an image, an agent receives the ticket live, replies and writes an internal note, the
/// customer sees the reply (never the note) and the resolution live; then the server drops
/// every connection and the customer's page recovers the event it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_travels_from_journey_to_resolution_live() {
    let Some((app, cleanup, driver)) =
        setup_with(HashMap::from([("BACKGROUND_JOBS", "true".to_owned())])).await
    else {
        return;
    };

    // The agent signs in and becomes available.
    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    agent
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("select#agent-status"))
        .await
        .expect("status switch")
        .select_by_value("available")
        .await
        .expect("choose available");
    wait_for_attr(
        &agent,
        "[data-testid=agent-status-current]",
        "data-status",
        "available",
    )
    .await;
    screenshot(&agent, "agent-dashboard").await;

    // A new customer registers and walks the "Order problem" journey.
    let customer = driver.session().await;
    customer
        .goto(&app.url("/register"))
        .await
        .expect("open /register");
    type_into(&customer, "input#register-name", "Robin Story").await;
    type_into(&customer, "input#register-email", "robin.story@example.com").await;
    type_into(&customer, "input#register-password", "st0ry-password").await;
    click(&customer, "button#register-submit").await;
    wait_for_text(&customer, "h1[data-testid=page-title]", "Customer portal").await;
    screenshot(&customer, "portal").await;
    click(
        &customer,
        "[data-testid=journey-card][data-slug=order-problem]",
    )
    .await;
    wait_for_contains(&customer, "[data-testid=question-title]", "What went wrong").await;
    click(&customer, "input[name=answer][value=damaged]").await;
    click(&customer, "button#journey-next").await;
    wait_for_contains(
        &customer,
        "[data-testid=question-title]",
        "photos of the damage",
    )
    .await;
    let image = tempfile::Builder::new()
        .suffix(".png")
        .tempfile()
        .expect("temp image");
    // A real 1×1 PNG, so the preview and thumbnails render.
    let png = {
        use base64::{Engine, engine::general_purpose::STANDARD};
        STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
            .expect("valid base64")
    };
    std::fs::write(image.path(), &png).expect("write image");
    customer
        .find(Locator::Css("input#answer-files"))
        .await
        .expect("file input")
        .send_keys(&image.path().display().to_string())
        .await
        .expect("choose file");
    wait_for_attr(
        &customer,
        "[data-testid=picked-image]",
        "data-state",
        "done",
    )
    .await;
    screenshot(&customer, "journey-upload").await;
    click(&customer, "button#journey-next").await;
    wait_for_contains(&customer, "[data-testid=question-title]", "order number").await;
    type_into(&customer, "#answer-text", "A-10442").await;
    click(&customer, "button#journey-next").await;
    wait_for_contains(&customer, "[data-testid=question-title]", "anything else").await;
    click(&customer, "button#journey-next").await;
    wait_for_contains(
        &customer,
        "[data-testid=journey-summary]",
        "Damaged item in order A-10442",
    )
    .await;
    screenshot(&customer, "journey-summary").await;
    click(&customer, "button#journey-submit").await;

    // The customer lands on the ticket with the time the team aims to reply by (and no
    // internal SLA clock).
    wait_for_contains(
        &customer,
        "[data-testid=ticket-subject]",
        "Damaged item in order A-10442",
    )
    .await;
    customer
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("[data-testid=ticket-eta]"))
        .await
        .expect("an ETA");
    wait_for_contains(&customer, "[data-testid=ticket-eta]", "We aim to reply by").await;
    screenshot(&customer, "customer-ticket").await;

    // The agent gets it live (assigned by the queue) and opens it.
    wait_for_contains(&agent, "[data-testid=ticket-row]", "A-10442").await;
    screenshot(&agent, "agent-assigned").await;
    click(&agent, "[data-testid=ticket-row]").await;
    wait_for_contains(&agent, "[data-testid=ticket-subject]", "A-10442").await;
    type_into(
        &agent,
        "textarea#reply-body",
        "We are sending a replacement today.",
    )
    .await;
    click(&agent, "button#reply-send").await;
    wait_for_contains(&agent, "[data-testid=message]", "replacement").await;
    type_into(
        &agent,
        "textarea#reply-body",
        "Internal: customer is a VIP, expedite.",
    )
    .await;
    click(&agent, "button#note-send").await;
    wait_for_contains(&agent, "[data-testid=message][data-internal=true]", "VIP").await;
    screenshot(&agent, "agent-ticket").await;

    // The customer sees the reply live.
    wait_for_contains(&customer, "[data-testid=message]", "replacement").await;

    // The agent resolves; the customer sees it live, and never the note.
    click(&agent, "button[data-status-to=resolved]").await;
    wait_for_contains(&customer, "[data-testid=ticket-status]", "resolved").await;
    assert!(
        !page_text(&customer).await.contains("VIP"),
        "the customer must never see an internal note"
    );
    screenshot(&customer, "customer-resolved").await;

    // The server goes away, taking every WebSocket with it.
    let port = app.address.rsplit(':').next().expect("port").to_owned();
    cleanup.stop_server().await;
    // Meanwhile another instance on the same database records a reply.
    let mut other = spawn_app_with(
        Backend::Sqlite,
        Overrides {
            vars: HashMap::from([("DATABASE_URL", app.db_url.clone())]),
        },
    )
    .await
    .expect("second instance");
    let other_cleanup = other.take_cleanup();
    let agent_token = other.login("agent1@helpdesk.local", "Agent123!").await;
    let agent_token = agent_token.assert_ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let tickets = other
        .get("/api/tickets?q=A-10442", Some(&agent_token))
        .await;
    let ticket_id = tickets.assert_ok(200)[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    other
        .post(
            &format!("/api/tickets/{ticket_id}/messages"),
            Some(&agent_token),
            &json!({"body": "Sent while you were away."}),
        )
        .await
        .assert_ok(201);
    other_cleanup.stop_server().await;
    // The server comes back on the same address; the page reconnects and catches up.
    let dist = dist_dir();
    let mut back = spawn_app_with(
        Backend::Sqlite,
        Overrides {
            vars: HashMap::from([
                ("DATABASE_URL", app.db_url.clone()),
                ("BIND_ADDR", format!("127.0.0.1:{port}")),
                ("STATIC_DIR", dist.display().to_string()),
            ]),
        },
    )
    .await
    .expect("restarted server");
    let back_cleanup = back.take_cleanup();
    wait_for_contains(&customer, "[data-testid=message]", "while you were away").await;
    wait_for_attr(
        &customer,
        "[data-testid=ws-status]",
        "data-state",
        "connected",
    )
    .await;
    screenshot(&customer, "customer-recovered").await;

    agent.close().await.expect("close agent session");
    customer.close().await.expect("close customer session");
    back_cleanup.run().await;
    other_cleanup.run().await;
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_with_a_macro_that_resolves_the_ticket() {
    use fantoccini::key::Key;
    let Some((app, _cleanup, driver)) = setup().await else {
        return;
    };
    // A customer's ticket, assigned to the demo agent, who has opened it.
    let token = |resp: crate::helpers::Resp| {
        resp.assert_ok(200)["token"]
            .as_str()
            .expect("token")
            .to_owned()
    };
    let customer = token(app.login("customer1@helpdesk.local", "Customer123!").await);
    let admin = token(app.login("admin@helpdesk.local", "Admin123!").await);
    let agent_login = app.login("agent1@helpdesk.local", "Agent123!").await;
    let agent_id = agent_login.assert_ok(200)["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let agent_token = token(agent_login);
    let t = app
        .ticket(&customer, "Invoice shows the wrong address")
        .await;
    let (id, number) = (
        t["id"].as_str().expect("id"),
        t["number"].as_i64().expect("n"),
    );
    app.post(
        &format!("/api/tickets/{id}/assign"),
        Some(&admin),
        &json!({"agent_id": agent_id}),
    )
    .await
    .assert_ok(200);
    app.patch(
        &format!("/api/tickets/{id}"),
        Some(&agent_token),
        &json!({"status": "open"}),
    )
    .await
    .assert_ok(200);

    // The agent writes a macro on the Macros page; a mistyped placeholder is caught as typed.
    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    agent.goto(&app.url("/macros")).await.expect("open /macros");
    wait_for_text(&agent, "h1[data-testid=page-title]", "Macros").await;
    type_into(&agent, "input#macro-title", "Address fixed").await;
    type_into(&agent, "textarea#macro-body", "Hi {{customer.nam}}").await;
    wait_for_contains(&agent, "[data-testid=macro-body-error]", "{{customer.nam}}").await;
    replace_text(
        &agent,
        "textarea#macro-body",
        "Hi {{customer.name}}, the address on #{{ticket.number}} is fixed.",
    )
    .await;
    choose(&agent, "select#macro-status", "resolved").await;
    click(&agent, "button#macro-save").await;
    wait_for_contains(&agent, "[data-testid=macro-item]", "Address fixed").await;
    screenshot(&agent, "macros-page").await;

    // On the ticket: Alt+M opens the picker, typing filters it, Enter inserts the reply.
    agent
        .goto(&app.url(&format!("/agent/tickets/{id}")))
        .await
        .expect("open the ticket");
    wait_for_contains(&agent, "[data-testid=ticket-subject]", "wrong address").await;
    element(&agent, "textarea#reply-body")
        .await
        .send_keys(&format!(
            "{}m{}",
            char::from(Key::Alt),
            char::from(Key::Null)
        ))
        .await
        .expect("Alt+M");
    type_into(&agent, "input#macro-search", "address").await;
    wait_for_count(&agent, "[data-testid=macro-option]", 1).await;
    element(&agent, "input#macro-search")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .expect("Enter");
    wait_for_contains(&agent, "[data-testid=macro-chosen]", "Resolved").await;
    let expected = format!("Hi Dana Customer, the address on #{number} is fixed.");
    wait_for_value(&agent, "textarea#reply-body", &expected).await;
    screenshot(&agent, "macro-picked").await;
    click(&agent, "button#reply-send").await;

    // The reply is in the conversation and the ticket is resolved, on screen and on the server.
    wait_for_contains(&agent, "[data-testid=message]", "is fixed").await;
    wait_for_contains(&agent, "[data-testid=ticket-status]", "resolved").await;
    let after = app
        .get(&format!("/api/tickets/{id}"), Some(&customer))
        .await;
    assert_eq!(after.assert_ok(200)["status"], "resolved");
    let macros = app.get("/api/macros", Some(&agent_token)).await;
    assert_eq!(macros.assert_ok(200)[0]["usage_count"], 1);
}
