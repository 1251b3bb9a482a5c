//! Tags in the browser: an agent tags a ticket on its page (chips, the add field, ×) and sees
//! the chip in the dashboard's queue row.

use serde_json::json;

use crate::browser_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_tags_a_ticket_and_removes_a_tag() {
    let Some((app, _cleanup, driver)) = setup().await else {
        return;
    };
    let token = |resp: crate::helpers::Resp| {
        resp.assert_ok(200)["token"]
            .as_str()
            .expect("token")
            .to_owned()
    };
    let customer = token(app.login("customer1@helpdesk.local", "Customer123!").await);
    let agent_token = token(app.login("agent1@helpdesk.local", "Agent123!").await);
    let t = app.ticket(&customer, "Tag me in the browser").await;
    let id = t["id"].as_str().expect("id").to_owned();
    // Another ticket already uses a tag, so it is suggested.
    let other = app.ticket(&customer, "Already tagged").await;
    app.put(
        &format!("/api/tickets/{}/tags", other["id"].as_str().expect("id")),
        Some(&agent_token),
        &json!({"tags": ["billing"]}),
    )
    .await
    .assert_ok(200);

    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    agent
        .goto(&app.url(&format!("/agent/tickets/{id}")))
        .await
        .expect("open the ticket");
    wait_for_contains(&agent, "[data-testid=ticket-subject]", "Tag me").await;
    type_into(&agent, "[data-testid=tag-input]", "Billing, VIP customer").await;
    click(&agent, ".tag-add button[type=submit]").await;
    wait_for_contains(&agent, "[data-testid=tag-editor]", "vip-customer").await;
    wait_for_count(&agent, "[data-testid=tag-editor] li.tag-chip", 2).await;
    screenshot(&agent, "tags-editor").await;
    let tagged = app
        .get(&format!("/api/tickets/{id}"), Some(&agent_token))
        .await;
    assert_eq!(
        tagged.assert_ok(200)["tags"],
        json!(["billing", "vip-customer"])
    );

    // × removes one.
    click(
        &agent,
        "[data-testid=tag-editor] li[data-tag=billing] button[data-action=tag-remove]",
    )
    .await;
    wait_for_count(&agent, "[data-testid=tag-editor] li.tag-chip", 1).await;
    let after = app
        .get(&format!("/api/tickets/{id}"), Some(&agent_token))
        .await;
    assert_eq!(after.assert_ok(200)["tags"], json!(["vip-customer"]));

    // The queue row on the dashboard shows the chip.
    agent.goto(&app.url("/agent")).await.expect("dashboard");
    wait_for_contains(&agent, "[data-testid=queue-row]", "vip-customer").await;
    agent.close().await.expect("close agent session");
}
