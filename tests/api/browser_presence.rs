//! Real-browser test of "who else is here": two agents open the same ticket in two browsers,
//! see each other (and each other typing), and the one still writing is warned before sending
//! when the other has already replied to the customer.
//!
//! Like the other browser tests it needs `dist/`, `chromium` and `chromedriver`, and skips
//! loudly without them unless `HELPDESK_REQUIRE_BROWSER=1`.

use fantoccini::Client;
use shared::Role;

use crate::browser_support::*;

async fn open_ticket_as(client: &Client, app: &crate::helpers::TestApp, email: &str, id: &str) {
    sign_in(client, app, email, "Agent123!").await;
    wait_for_text(client, "h1[data-testid=page-title]", "Agent dashboard").await;
    client
        .goto(&app.url(&format!("/agent/tickets/{id}")))
        .await
        .expect("open the ticket");
    element(client, "textarea#reply-body").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_see_each_other_and_are_warned_of_a_reply_while_typing() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };
    // An unassigned ticket: every agent may see it.
    let customer = app.user(Role::Customer).await;
    let ticket = app.ticket(&customer.token, "The scanner eats paper").await;
    let id = ticket["id"].as_str().unwrap().to_owned();

    let alex = driver.session().await;
    let blake = driver.session().await;
    open_ticket_as(&alex, &app, "agent1@helpdesk.local", &id).await;
    open_ticket_as(&blake, &app, "agent2@helpdesk.local", &id).await;

    // Each sees the other, not themselves.
    wait_for_contains(&alex, "[data-testid=also-here]", "Blake Agent").await;
    wait_for_contains(&blake, "[data-testid=also-here]", "Alex Agent").await;
    assert!(
        !element(&alex, "[data-testid=also-here]")
            .await
            .text()
            .await
            .unwrap()
            .contains("Alex Agent")
    );

    // Alex starts a reply: Blake sees him typing.
    type_into(&alex, "textarea#reply-body", "Could you try another tray").await;
    wait_for_attr(&blake, "[data-testid=present-user]", "data-typing", "true").await;
    wait_for_contains(&blake, "[data-testid=also-here]", "typing").await;
    screenshot(&blake, "presence-typing").await;

    // Blake answers the customer first.
    type_into(
        &blake,
        "textarea#reply-body",
        "Please send us a photo of the jam.",
    )
    .await;
    click(&blake, "button#reply-send").await;
    wait_for_count(&blake, "[data-testid=messages] > li", 1).await;

    // Alex is warned; sending waits for his decision.
    wait_for_contains(
        &alex,
        "[data-testid=reply-collision]",
        "Blake Agent replied while you were typing",
    )
    .await;
    wait_for_count(&alex, "[data-testid=messages] > li", 1).await;
    screenshot(&alex, "presence-collision").await;
    click(&alex, "button#reply-send").await;
    element(&alex, "[data-testid=reply-collision]").await;
    click(&alex, "button#collision-send").await;
    wait_for_count(&alex, "[data-testid=messages] > li", 2).await;
    wait_for_value(&alex, "textarea#reply-body", "").await;
    wait_for_count(&alex, "[data-testid=reply-collision]", 0).await;
    wait_for_count(&blake, "[data-testid=messages] > li", 2).await;

    // Alex leaves the ticket through the app: Blake is alone again.
    click(&alex, "a.back-link").await;
    wait_for_text(&alex, "h1[data-testid=page-title]", "Agent dashboard").await;
    wait_for_count(&blake, "[data-testid=present-user]", 0).await;
    // Alex comes back, then leaves the page altogether for another address: gone at once,
    // not after the server's heartbeat timeout.
    alex.goto(&app.url(&format!("/agent/tickets/{id}")))
        .await
        .expect("open the ticket again");
    wait_for_contains(&blake, "[data-testid=also-here]", "Alex Agent").await;
    alex.goto(&app.url("/agent")).await.expect("navigate away");
    wait_for_text(&alex, "h1[data-testid=page-title]", "Agent dashboard").await;
    wait_for_count(&blake, "[data-testid=present-user]", 0).await;

    alex.close().await.expect("close session");
    blake.close().await.expect("close session");
    cleanup.run().await;
}
