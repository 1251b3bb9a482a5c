//! Real-browser tests of business-hours SLAs: an admin builds a calendar in the editor (the
//! preview computed in the browser reacts, the server's validation errors show), puts the
//! default policy on it, picks override rules (journey outcome, category) from dropdowns, and a
//! customer sees an honest "we aim to reply by …" on their ticket; signing in records the
//! browser's time zone, which the account page changes.
//!
//! Like the other browser tests they need `dist/`, `chromium` and `chromedriver`, and skip
//! loudly without them unless `HELPDESK_REQUIRE_BROWSER=1`.

use chrono::Duration;
use fantoccini::{Client, Locator};
use serde_json::json;
use server::services::sla_monitor;

use crate::browser_support::*;

/// Sets an input the way a picker does (typing into time inputs depends on the locale).
async fn set_value(client: &Client, css: &str, value: &str) {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    client
        .execute(
            "const el = document.querySelector(arguments[0]);
             el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));
             el.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap_or_else(|e| panic!("set {css}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_builds_a_calendar_and_the_customer_sees_an_eta() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let admin = driver.session().await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    click(&admin, "a[href='/admin/calendars']").await;
    wait_for_text(
        &admin,
        "h1[data-testid=page-title]",
        "Business-hours calendars",
    )
    .await;

    // A new calendar starts as 09:00–17:00 on weekdays; the preview already answers.
    type_into(&admin, "#calendar-name", "Berlin office").await;
    choose(&admin, "#calendar-tz", "Europe/Berlin").await;
    wait_for_count(&admin, "[data-day=mon] .interval", 1).await;
    wait_for_count(&admin, "[data-day=sat] .interval", 0).await;
    wait_for_contains(&admin, "[data-testid=calendar-preview]", "would be due at").await;
    replace_text(&admin, "#preview-hours", "abc").await;
    wait_for_contains(
        &admin,
        "[data-testid=calendar-preview]",
        "Enter a number of hours",
    )
    .await;
    replace_text(&admin, "#preview-hours", "8").await;
    wait_for_contains(&admin, "[data-testid=calendar-preview]", "would be due at").await;

    // An empty Saturday interval: the browser's own check says so at once, and the server
    // refuses it with the field named.
    click(&admin, "[data-testid=add-interval-sat]").await;
    wait_for_count(&admin, "[data-day=sat] .interval", 1).await;
    set_value(&admin, "[data-day=sat] .interval-start", "10:00").await;
    set_value(&admin, "[data-day=sat] .interval-end", "10:00").await;
    wait_for_contains(&admin, "[data-testid=calendar-preview]", "week.sat[0]").await;
    click(&admin, "#calendar-save").await;
    wait_for_contains(&admin, "[data-testid=calendar-problems]", "week.sat[0]").await;
    screenshot(&admin, "calendar-invalid").await;

    // A night shift on Saturday instead (it runs past midnight), and a holiday.
    set_value(&admin, "[data-day=sat] .interval-start", "22:00").await;
    set_value(&admin, "[data-day=sat] .interval-end", "06:00").await;
    click(&admin, "#holiday-add").await;
    wait_for_count(&admin, "[data-testid=holidays] .holiday-row", 1).await;
    type_into(&admin, ".holiday-row .holiday-name", "New Year").await;
    set_value(&admin, ".holiday-row .holiday-from", "2027-01-01").await;
    click(&admin, ".holiday-row .holiday-yearly").await;
    wait_for_contains(&admin, "[data-testid=calendar-preview]", "would be due at").await;
    click(&admin, "#calendar-save").await;
    wait_for_contains(&admin, "[data-testid=calendar-list]", "Berlin office").await;
    screenshot(&admin, "calendar-saved").await;

    // The server has it as typed.
    let (token, _) = {
        let resp = app.login("admin@helpdesk.local", "Admin123!").await;
        let data = resp.assert_ok(200);
        (
            data["token"].as_str().unwrap().to_owned(),
            data["user"]["id"].as_str().unwrap().to_owned(),
        )
    };
    let list = app.get("/api/sla/calendars", Some(&token)).await;
    let cal = list.assert_ok(200)[0].clone();
    assert_eq!(cal["name"], "Berlin office");
    assert_eq!(cal["time_zone"], "Europe/Berlin");
    assert_eq!(
        cal["week"]["sat"],
        json!([{"start": "22:00", "end": "06:00"}])
    );
    assert_eq!(cal["holidays"][0]["name"], "New Year");
    assert_eq!(cal["holidays"][0]["yearly"], true);
    let cal_id = cal["id"].as_str().unwrap().to_owned();

    // The default policy counts on it from now on.
    click(&admin, "a[href='/admin/settings']").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Settings").await;
    wait_for_count(
        &admin,
        &format!("#sla-calendar option[value='{cal_id}']"),
        1,
    )
    .await;
    choose(&admin, "#sla-calendar", &cal_id).await;
    click(&admin, "#settings-save").await;
    wait_for_contains(&admin, "[data-testid=settings-saved]", "Settings saved").await;
    let settings = app.get("/api/settings", Some(&token)).await;
    assert_eq!(
        settings.assert_ok(200)["sla_policies"]["calendar_id"],
        cal_id.as_str()
    );

    // Override rules are picked, not typed: a journey and one of its outcomes, and a
    // category the journeys give tickets, from dropdowns.
    let journeys = app.get("/api/journeys?archived=true", Some(&token)).await;
    let journey = journeys
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|j| {
            j["definition"]["nodes"]
                .as_object()
                .is_some_and(|n| n.values().any(|n| n["type"] == "end"))
        })
        .expect("a seeded journey with an outcome")
        .clone();
    let journey_id = journey["id"].as_str().unwrap().to_owned();
    let (end_id, end) = journey["definition"]["nodes"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, n)| n["type"] == "end")
        .map(|(id, n)| (id.clone(), n.clone()))
        .unwrap();
    let category = end["category"].as_str().unwrap().to_owned();
    let fresh_row = "[data-testid=sla-overrides] .override-row[data-override='']";
    click(&admin, "#override-add").await;
    wait_for_count(&admin, "[data-testid=sla-overrides] .override-row", 1).await;
    choose(
        &admin,
        &format!("{fresh_row} .override-kind"),
        "journey_outcome",
    )
    .await;
    let journey_option = format!("{fresh_row} .override-value option[value='{journey_id}']");
    wait_for_count(&admin, &journey_option, 1).await;
    choose(&admin, &format!("{fresh_row} .override-value"), &journey_id).await;
    let end_option = format!("{fresh_row} .override-node option[value='{end_id}']");
    wait_for_count(&admin, &end_option, 1).await;
    choose(&admin, &format!("{fresh_row} .override-node"), &end_id).await;
    type_into(
        &admin,
        &format!("{fresh_row} .override-name"),
        "From the journey",
    )
    .await;
    click(&admin, "#override-add").await;
    wait_for_count(&admin, "[data-testid=sla-overrides] .override-row", 2).await;
    let category_option = format!("{fresh_row} .override-value option[value='{category}']");
    wait_for_count(&admin, &category_option, 1).await;
    choose(&admin, &format!("{fresh_row} .override-value"), &category).await;
    type_into(
        &admin,
        &format!("{fresh_row} .override-name"),
        "By category",
    )
    .await;
    screenshot(&admin, "override-rules").await;
    click(&admin, "#settings-save").await;
    wait_for_contains(&admin, "[data-testid=settings-saved]", "Settings saved").await;
    let settings = app.get("/api/settings", Some(&token)).await;
    let rules = settings.assert_ok(200)["sla_overrides"].clone();
    assert_eq!(rules[0]["name"], "From the journey");
    assert_eq!(
        rules[0]["when"],
        json!({"kind": "journey_outcome", "journey_id": journey_id, "node_id": end_id})
    );
    assert_eq!(rules[1]["name"], "By category");
    assert_eq!(
        rules[1]["when"],
        json!({"kind": "category", "category": category})
    );

    // A customer opens a request and is told when to expect a reply, in their time.
    let customer = driver.session().await;
    sign_in(&customer, &app, "customer2@helpdesk.local", "Customer123!").await;
    wait_for_text(&customer, "h1[data-testid=page-title]", "Customer portal").await;
    let login = app.login("customer2@helpdesk.local", "Customer123!").await;
    let customer_token = login.assert_ok(200)["token"].as_str().unwrap().to_owned();
    let t = app
        .post(
            "/api/tickets",
            Some(&customer_token),
            &json!({"subject": "Invoice question", "description": "Why twice?", "priority": "high"}),
        )
        .await;
    let id = t.assert_ok(201)["id"].as_str().unwrap().to_owned();
    customer
        .goto(&app.url(&format!("/portal/tickets/{id}")))
        .await
        .expect("open the ticket");
    let eta = wait_for_contains(&customer, "[data-testid=ticket-eta]", "We aim to reply by").await;
    let text = eta.text().await.unwrap_or_default();
    assert!(text.contains("(your time)"), "{text}");
    // No internal clock for the customer.
    let badges = customer
        .find_all(Locator::Css("[data-testid=sla-badge]"))
        .await
        .expect("query");
    assert!(badges.is_empty(), "the customer sees an SLA badge");
    screenshot(&customer, "customer-eta").await;

    // Signing in recorded the browser's time zone on the account, since none was stored…
    let deadline = std::time::Instant::now() + WAIT;
    let recorded = loop {
        let me = app.get("/api/auth/me", Some(&customer_token)).await;
        if let Some(tz) = me.assert_ok(200)["time_zone"].as_str() {
            break tz.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no time zone recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let browser_zone: String = customer
        .execute(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone;",
            vec![],
        )
        .await
        .expect("the browser's zone")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(recorded, browser_zone);
    // …and the account page changes it with a picker.
    customer
        .goto(&app.url("/account"))
        .await
        .expect("open the account page");
    wait_for_text(&customer, "[data-testid=saved-time-zone]", &recorded).await;
    choose(&customer, "#account-time-zone", "Pacific/Auckland").await;
    click(&customer, "#account-time-zone-submit").await;
    wait_for_text(
        &customer,
        "[data-testid=saved-time-zone]",
        "Pacific/Auckland",
    )
    .await;
    let me = app.get("/api/auth/me", Some(&customer_token)).await;
    assert_eq!(me.assert_ok(200)["time_zone"], "Pacific/Auckland");

    customer.close().await.ok();
    admin.close().await.ok();
    drop(driver);
    cleanup.run().await;
}

/// A warning before a breach reaches a signed-in admin live, as a toast linking the ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_before_a_breach_shows_as_a_toast() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let admin = driver.session().await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    wait_for_contains(&admin, "body", "Live").await;

    let login = app.login("customer2@helpdesk.local", "Customer123!").await;
    let token = login.assert_ok(200)["token"].as_str().unwrap().to_owned();
    let t = app
        .post(
            "/api/tickets",
            Some(&token),
            &json!({"subject": "Server room flooded", "description": "Water", "priority": "urgent"}),
        )
        .await;
    let t = t.assert_ok(201).clone();
    let number = t["number"].as_i64().unwrap();
    let created: chrono::DateTime<chrono::Utc> = t["created_at"].as_str().unwrap().parse().unwrap();
    // 50 of the urgent response's 60 minutes later (the default warning share is 80 %).
    let warnings = sla_monitor::warn(&app.db, &app.state.mail, created + Duration::minutes(50))
        .await
        .unwrap();
    assert_eq!(warnings.len(), 1);
    app.state.realtime.poke();
    wait_for_contains(
        &admin,
        "[data-testid=toast]",
        &format!("Ticket #{number} has used 80% of its response SLA: breaching soon"),
    )
    .await;
    screenshot(&admin, "sla-warning-toast").await;
    admin.close().await.ok();
    drop(driver);
    cleanup.run().await;
}
