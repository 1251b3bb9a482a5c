//! Real-browser tests of the admin dashboard: the built SPA in headless Chromium, driven by
//! fantoccini over chromedriver, like `browser.rs` (whose small helpers are repeated here so
//! the two files stay independent).
//!
//! They need `dist/` (built by `make frontend`), `chromium` and `chromedriver`. When one is
//! missing the tests print `SKIPPED: browser` and pass, unless `HELPDESK_REQUIRE_BROWSER=1`,
//! in which case they fail. Every wait polls; none sleeps blindly.

use crate::browser_support::*;
use crate::helpers::TestApp;

/// A token and user id from the API.
async fn api_login(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let resp = app.login(email, password).await;
    let data = resp.assert_ok(200);
    (
        data["token"].as_str().expect("token").to_owned(),
        data["user"]["id"].as_str().expect("id").to_owned(),
    )
}

/// The node card of `id` in the builder, plus `rest`.
fn node(id: &str, rest: &str) -> String {
    format!("[data-testid=node][data-node-id={id}] {rest}")
}

/// An admin builds a branching journey in the builder (seeing a problem appear and go away),
/// saves and activates it; a customer in a second browser walks it and gets a ticket with the
/// category and priority of the end node the condition chose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_builds_a_journey_that_a_customer_completes() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let admin = driver.session().await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    click(&admin, "a[href='/admin/journeys']").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Journeys").await;
    click(&admin, "#new-journey").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "New journey").await;

    // Name it; the slug follows the name.
    type_into(&admin, "#journey-name", "Device trouble").await;
    let slug = element(&admin, "#journey-slug").await.prop("value").await;
    assert_eq!(slug.ok().flatten().as_deref(), Some("device-trouble"));
    type_into(&admin, "#journey-description", "Broken or slow devices.").await;

    // The first question becomes a single choice with two options.
    choose(
        &admin,
        &node("question-1", "select[data-field=kind]"),
        "single_choice",
    )
    .await;
    replace_text(
        &admin,
        &node("question-1", "input[data-field=title]"),
        "What is wrong with your device?",
    )
    .await;
    type_into(
        &admin,
        &node(
            "question-1",
            "[data-testid=option][data-index='0'] input[data-field=option-label]",
        ),
        "Broken",
    )
    .await;
    click(
        &admin,
        &node("question-1", "button[data-action=add-option]"),
    )
    .await;
    type_into(
        &admin,
        &node(
            "question-1",
            "[data-testid=option][data-index='1'] input[data-field=option-label]",
        ),
        "Slow",
    )
    .await;
    // The values follow the labels.
    let value = element(
        &admin,
        &node(
            "question-1",
            "[data-testid=option][data-index='1'] input[data-field=option-value]",
        ),
    )
    .await
    .prop("value")
    .await;
    assert_eq!(value.ok().flatten().as_deref(), Some("slow"));
    wait_for_attr(&admin, "[data-testid=problem-count]", "data-count", "0").await;

    // A condition with no way out: problems appear on it and Save is disabled.
    click(&admin, "#add-condition").await;
    wait_for_contains(
        &admin,
        &node("condition-1", "[data-testid=node-problem]"),
        "default",
    )
    .await;
    wait_for_enabled(&admin, "#journey-save", false).await;
    let count = element(&admin, "[data-testid=problem-count]")
        .await
        .attr("data-count")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    assert_ne!(
        count, "0",
        "the builder must report the condition's problems"
    );
    screenshot(&admin, "admin-builder-problems").await;

    // A second end for broken devices.
    click(&admin, "#add-end").await;
    type_into(
        &admin,
        &node("end-2", "input[data-field=category]"),
        "devices/broken",
    )
    .await;
    choose(
        &admin,
        &node("end-2", "select[data-field=priority]"),
        "urgent",
    )
    .await;
    type_into(
        &admin,
        &node("end-2", "input[data-field=subject]"),
        "Broken device: {question-1}",
    )
    .await;
    replace_text(
        &admin,
        &node("end-1", "input[data-field=category]"),
        "devices/other",
    )
    .await;

    // The condition: "broken" goes to end-2, anything else to end-1.
    click(
        &admin,
        &node("condition-1", "button[data-action=add-branch]"),
    )
    .await;
    choose(
        &admin,
        &node(
            "condition-1",
            "[data-testid=rule] select[data-field=rule-node]",
        ),
        "question-1",
    )
    .await;
    type_into(
        &admin,
        &node(
            "condition-1",
            "[data-testid=rule] input[data-field=rule-value]",
        ),
        "broken",
    )
    .await;
    choose(
        &admin,
        &node("condition-1", "select[data-field=branch-next]"),
        "end-2",
    )
    .await;
    choose(
        &admin,
        &node("condition-1", "select[data-field=default]"),
        "end-1",
    )
    .await;
    // Still unreachable until the question leads to it.
    wait_for_contains(
        &admin,
        &node("condition-1", "[data-testid=node-problem]"),
        "path",
    )
    .await;
    choose(
        &admin,
        &node("question-1", "select[data-field=next]"),
        "condition-1",
    )
    .await;

    // Every problem is gone, the overview shows the branch, and Save is enabled.
    wait_for_attr(&admin, "[data-testid=problem-count]", "data-count", "0").await;
    wait_for_count(&admin, "[data-testid=node-problem]", 0).await;
    element(
        &admin,
        "[data-testid=graph-edge][data-from=condition-1][data-to=end-2]",
    )
    .await;
    wait_for_enabled(&admin, "#journey-save", true).await;
    screenshot(&admin, "admin-builder-valid").await;

    // Save (it opens at its own address), then activate.
    click(&admin, "#journey-save").await;
    element(&admin, "#journey-activate").await;
    let url = current_url(&admin).await;
    assert!(
        url.contains("/admin/journeys/") && !url.ends_with("/new"),
        "after saving the builder is at the journey's address, not {url}"
    );
    wait_for_attr(
        &admin,
        "[data-testid=journey-state]",
        "data-state",
        "inactive",
    )
    .await;
    click(&admin, "#journey-activate").await;
    wait_for_attr(
        &admin,
        "[data-testid=journey-state]",
        "data-state",
        "active",
    )
    .await;
    screenshot(&admin, "admin-builder-saved").await;

    // A customer walks it in another browser.
    let customer = driver.session().await;
    sign_in(&customer, &app, "customer1@helpdesk.local", "Customer123!").await;
    wait_for_text(&customer, "h1[data-testid=page-title]", "Customer portal").await;
    click(
        &customer,
        "[data-testid=journey-card][data-slug=device-trouble]",
    )
    .await;
    wait_for_contains(
        &customer,
        "[data-testid=question-title]",
        "wrong with your device",
    )
    .await;
    click(&customer, "input[name=answer][value=broken]").await;
    click(&customer, "button#journey-next").await;
    wait_for_contains(
        &customer,
        "[data-testid=journey-summary]",
        "Broken device: Broken",
    )
    .await;
    click(&customer, "button#journey-submit").await;
    wait_for_contains(
        &customer,
        "[data-testid=ticket-subject]",
        "Broken device: Broken",
    )
    .await;
    element(&customer, ".ticket-header .priority[data-priority=urgent]").await;
    wait_for_contains(&customer, ".ticket-header", "devices/broken").await;
    screenshot(&customer, "admin-journey-ticket").await;

    // The server agrees.
    let (token, _) = api_login(&app, "admin@helpdesk.local", "Admin123!").await;
    let list = app
        .get("/api/tickets?q=Broken%20device", Some(&token))
        .await;
    let tickets = list.assert_ok(200);
    assert_eq!(tickets.as_array().map(Vec::len), Some(1), "{tickets}");
    assert_eq!(tickets[0]["category"], "devices/broken");
    assert_eq!(tickets[0]["priority"], "urgent");
    assert_eq!(tickets[0]["journey_version"], 1);

    admin.close().await.expect("close admin");
    customer.close().await.expect("close customer");
    cleanup.run().await;
}

/// The admin hands a queued ticket to an agent from the tickets page; the agent, signed in
/// elsewhere, sees it arrive among their tickets without reloading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reassigns_a_ticket_and_the_agent_sees_it_live() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let (customer_token, _) = api_login(&app, "customer2@helpdesk.local", "Customer123!").await;
    let ticket = app.ticket(&customer_token, "Printer is on fire").await;
    let ticket_id = ticket["id"].as_str().expect("ticket id").to_owned();
    let (_, agent_id) = api_login(&app, "agent2@helpdesk.local", "Agent123!").await;

    let agent = driver.session().await;
    sign_in(&agent, &app, "agent2@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    wait_for_contains(&agent, "[data-testid=queue-row]", "Printer is on fire").await;
    wait_for_attr(&agent, "[data-testid=ws-status]", "data-state", "connected").await;

    let admin = driver.session().await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    click(&admin, "a[href='/admin/tickets']").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Tickets").await;
    let row = format!("[data-testid=ticket-row][data-ticket-id='{ticket_id}']");
    element(&admin, &row).await;
    // Only unassigned tickets: the filter narrows the list to this one.
    choose(&admin, "#filter-agent", "none").await;
    wait_for_text(&admin, "[data-testid=ticket-count]", "1").await;
    element(&admin, &format!("{row} [data-testid=sla-badge]")).await;
    choose(
        &admin,
        &format!("{row} select[data-testid=assign-select]"),
        &agent_id,
    )
    .await;
    wait_for_contains(&admin, "[data-testid=toast]", "assigned to Blake Agent").await;
    screenshot(&admin, "admin-tickets-reassigned").await;

    // The agent sees it live, in their own list and no longer in the queue.
    wait_for_contains(
        &agent,
        "[data-testid=my-tickets] [data-testid=ticket-row]",
        "Printer is on fire",
    )
    .await;
    wait_for_count(
        &agent,
        &format!("[data-testid=queue-row][data-ticket-id='{ticket_id}']"),
        0,
    )
    .await;
    screenshot(&agent, "admin-agent-received").await;

    let (token, _) = api_login(&app, "admin@helpdesk.local", "Admin123!").await;
    let got = app
        .get(&format!("/api/tickets/{ticket_id}"), Some(&token))
        .await;
    assert_eq!(
        got.assert_ok(200)["assigned_agent"]["id"],
        agent_id.as_str()
    );

    agent.close().await.expect("close agent");
    admin.close().await.expect("close admin");
    cleanup.run().await;
}

/// Settings: a value the server refuses shows the server's message next to the input; a valid
/// one saves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_show_the_servers_validation_and_save() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    let admin = driver.session().await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    click(&admin, "a[href='/admin/settings']").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Settings").await;

    // Zero minutes: out of range, says the server.
    replace_text(&admin, "#sla-high-response", "0").await;
    click(&admin, "#settings-save").await;
    wait_for_contains(
        &admin,
        "[data-field-error='sla_policies.high.response_minutes']",
        "between 1 and",
    )
    .await;
    wait_for_attr(&admin, "#sla-high-response", "aria-invalid", "true").await;
    screenshot(&admin, "admin-settings-invalid").await;

    // A first response later than the resolution: a message for the whole row.
    replace_text(&admin, "#sla-high-response", "2000").await;
    click(&admin, "#settings-save").await;
    wait_for_contains(
        &admin,
        "[data-field-error='sla_policies.high']",
        "later than the resolution",
    )
    .await;

    // A valid value saves.
    replace_text(&admin, "#sla-high-response", "30").await;
    click(&admin, "#settings-save").await;
    element(&admin, "[data-testid=settings-saved]").await;
    wait_for_count(&admin, "[data-field-error]", 0).await;
    screenshot(&admin, "admin-settings-saved").await;

    let (token, _) = api_login(&app, "admin@helpdesk.local", "Admin123!").await;
    let settings = app.get("/api/settings", Some(&token)).await;
    assert_eq!(
        settings.assert_ok(200)["sla_policies"]["high"]["response_minutes"],
        30
    );

    admin.close().await.expect("close admin");
    cleanup.run().await;
}
