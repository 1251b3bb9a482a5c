//! Real-browser test of merging and linking on the ticket page: an agent merges a duplicate
//! and links a related ticket, an admin confirms a merge across customers, and the customer
//! follows "merged into #N" to the one thread.

use serde_json::{Value, json};

use crate::browser_support::*;
use crate::helpers::TestApp;

async fn token(app: &TestApp, email: &str, password: &str) -> String {
    let resp = app.login(email, password).await;
    resp.assert_ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn id_and_number(t: &Value) -> (String, i64) {
    (
        t["id"].as_str().expect("id").to_owned(),
        t["number"].as_i64().expect("number"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_merge_and_link_tickets_on_the_ticket_page() {
    let Some((app, _cleanup, driver)) = setup().await else {
        return;
    };
    let dana = token(&app, "customer1@helpdesk.local", "Customer123!").await;
    let other = token(&app, "customer2@helpdesk.local", "Customer123!").await;
    let (target, target_no) = id_and_number(&app.ticket(&dana, "Wi-Fi drops every hour").await);
    let (source, _) = id_and_number(&app.ticket(&dana, "Wi-Fi keeps dropping").await);
    let (related, related_no) = id_and_number(&app.ticket(&dana, "Router firmware update").await);
    let (foreign, _) = id_and_number(&app.ticket(&other, "Our Wi-Fi is down too").await);
    app.post(
        &format!("/api/tickets/{source}/messages"),
        Some(&dana),
        &json!({"body": "It dropped again at noon"}),
    )
    .await
    .assert_ok(201);

    // The agent merges the duplicate: number, confirmation, then the notice.
    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    agent
        .goto(&app.url(&format!("/agent/tickets/{source}")))
        .await
        .expect("open the duplicate");
    wait_for_contains(&agent, "[data-testid=ticket-subject]", "keeps dropping").await;
    type_into(&agent, "[data-testid=merge-target]", &target_no.to_string()).await;
    click(&agent, "[data-testid=merge-start]").await;
    wait_for_contains(
        &agent,
        "[data-testid=merge-confirm]",
        &format!("into #{target_no}"),
    )
    .await;
    click(&agent, "[data-testid=merge-confirm-button]").await;
    wait_for_contains(
        &agent,
        "[data-testid=merged-into]",
        &format!("#{target_no}"),
    )
    .await;
    wait_for_contains(&agent, "[data-testid=ticket-status]", "closed").await;
    screenshot(&agent, "merged-into").await;

    // On the target: the merged messages are marked; link the related ticket.
    click(&agent, "[data-testid=merged-into-link]").await;
    wait_for_contains(&agent, "[data-testid=ticket-subject]", "every hour").await;
    wait_for_contains(&agent, "[data-testid=message]", "dropped again at noon").await;
    wait_for_contains(&agent, "[data-testid=merged-from]", "Merged from #").await;
    choose(&agent, "[data-testid=link-relation]", "caused_by").await;
    type_into(
        &agent,
        "[data-testid=link-target]",
        &format!("#{related_no}"),
    )
    .await;
    click(&agent, "[data-testid=link-add]").await;
    wait_for_contains(&agent, "[data-testid=link]", &format!("#{related_no}")).await;
    wait_for_contains(&agent, "[data-testid=link]", "caused by").await;
    screenshot(&agent, "links-panel").await;
    let links = app
        .get(
            &format!("/api/tickets/{related}/links"),
            Some(&token(&app, "admin@helpdesk.local", "Admin123!").await),
        )
        .await;
    assert_eq!(links.assert_ok(200)[0]["relation"], "causes");
    // Removing it empties the panel.
    click(&agent, "[data-testid=link-remove]").await;
    wait_for_count(&agent, "[data-testid=link]", 0).await;

    // The customer follows the notice on the duplicate to the one thread.
    let customer = driver.session().await;
    sign_in(&customer, &app, "customer1@helpdesk.local", "Customer123!").await;
    wait_for_text(&customer, "h1[data-testid=page-title]", "Customer portal").await;
    customer
        .goto(&app.url(&format!("/portal/tickets/{source}")))
        .await
        .expect("open the merged request");
    wait_for_contains(
        &customer,
        "[data-testid=merged-into]",
        &format!("#{target_no}"),
    )
    .await;
    click(&customer, "[data-testid=merged-into-link]").await;
    wait_for_contains(&customer, "[data-testid=message]", "dropped again at noon").await;
    assert!(
        current_url(&customer)
            .await
            .ends_with(&format!("/portal/tickets/{target}"))
    );
    assert!(
        !page_text(&customer).await.contains("Linked tickets"),
        "customers never see links"
    );

    // An admin merging another customer's ticket in is asked once more.
    let admin = driver.session().await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    admin
        .goto(&app.url(&format!("/admin/tickets/{foreign}")))
        .await
        .expect("open the other customer's ticket");
    wait_for_contains(&admin, "[data-testid=ticket-subject]", "down too").await;
    type_into(&admin, "[data-testid=merge-target]", &target_no.to_string()).await;
    click(&admin, "[data-testid=merge-start]").await;
    click(&admin, "[data-testid=merge-confirm-button]").await;
    wait_for_contains(
        &admin,
        "[data-testid=merge-cross-customer]",
        "different customers",
    )
    .await;
    screenshot(&admin, "merge-cross-customer").await;
    click(&admin, "[data-testid=merge-confirm-button]").await;
    wait_for_contains(
        &admin,
        "[data-testid=merged-into]",
        &format!("#{target_no}"),
    )
    .await;
    let merged = app
        .get(&format!("/api/tickets/{foreign}"), Some(&other))
        .await;
    assert_eq!(merged.assert_ok(200)["merged_into"]["number"], target_no);
}
