//! Search and saved views in the browser: an agent finds a ticket by a word of the customer's
//! reply from the navbar (`/` to focus, the snippet with the word marked, arrow and Enter to
//! open it); the views sidebar's counts follow new tickets live, and a view is saved, applied
//! and deleted.

use fantoccini::{
    actions::{InputSource, KeyAction, KeyActions},
    key::Key,
};
use serde_json::json;

use crate::browser_support::*;

fn token(resp: crate::helpers::Resp) -> String {
    resp.assert_ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_finds_a_ticket_by_a_word_of_the_customers_reply() {
    let Some((app, _cleanup, driver)) = setup().await else {
        return;
    };
    let customer = token(app.login("customer1@helpdesk.local", "Customer123!").await);
    let t = app.ticket(&customer, "Printer keeps beeping").await;
    let id = t["id"].as_str().expect("id").to_owned();
    // The word is in neither subject nor description: only in the reply.
    app.post(
        &format!("/api/tickets/{id}/messages"),
        Some(&customer),
        &json!({"body": "It beeps louder since the zebrawood tray went in."}),
    )
    .await
    .assert_ok(201);
    app.ticket(&customer, "Scanner is slow").await;

    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    element(&agent, "input#nav-search").await;

    // `/` outside a field focuses the box.
    agent
        .perform_actions(
            KeyActions::new("keyboard".to_owned())
                .then(KeyAction::Down { value: '/' })
                .then(KeyAction::Up { value: '/' }),
        )
        .await
        .expect("press /");
    let focused = agent
        .execute(
            "return document.activeElement && document.activeElement.id",
            vec![],
        )
        .await
        .expect("active element");
    assert_eq!(focused, json!("nav-search"), "`/` focuses the search box");
    assert_eq!(
        agent
            .execute("return document.getElementById('nav-search').value", vec![])
            .await
            .expect("value"),
        json!(""),
        "the `/` itself is not typed"
    );

    type_into(&agent, "input#nav-search", "zebrawood").await;
    wait_for_count(&agent, "[data-testid=search-result]", 1).await;
    wait_for_contains(
        &agent,
        "[data-testid=search-result] [data-testid=snippet] mark",
        "zebrawood",
    )
    .await;
    wait_for_attr(&agent, "[data-testid=search-result]", "data-ticket-id", &id).await;
    screenshot(&agent, "search-dropdown").await;

    element(&agent, "input#nav-search")
        .await
        .send_keys(&char::from(Key::Down).to_string())
        .await
        .expect("arrow down");
    wait_for_attr(
        &agent,
        "[data-testid=search-result]",
        "aria-selected",
        "true",
    )
    .await;
    element(&agent, "input#nav-search")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .expect("Enter");
    wait_for_contains(
        &agent,
        "[data-testid=ticket-subject]",
        "Printer keeps beeping",
    )
    .await;
    assert!(
        current_url(&agent)
            .await
            .ends_with(&format!("/agent/tickets/{id}")),
        "Enter opened the ticket"
    );

    // "All results" shows the results page with the snippet.
    replace_text(&agent, "input#nav-search", "zebrawood").await;
    click(&agent, "[data-testid=search-all]").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Search").await;
    wait_for_contains(
        &agent,
        "[data-testid=search-results] [data-testid=snippet] mark",
        "zebrawood",
    )
    .await;
    // Nothing matches: the empty state.
    replace_text(&agent, "input#search-q", "nothingmatchesthisatall").await;
    wait_for_contains(&agent, "[data-testid=empty]", "No tickets match").await;
    agent.close().await.expect("close agent session");
}

/// The count shown next to the view named `name`.
async fn view_count(client: &fantoccini::Client, name: &str) -> u64 {
    let css = format!("[data-testid=view][data-name=\"{name}\"] [data-testid=view-count]");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(el) = client.find(fantoccini::Locator::Css(&css)).await
            && let Ok(text) = el.text().await
            && let Ok(n) = text.trim().parse::<u64>()
        {
            return n;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no count for the view `{name}`"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_sidebar_counts_live_and_saves_a_view() {
    let Some((app, _cleanup, driver)) = setup().await else {
        return;
    };
    let customer = token(app.login("customer1@helpdesk.local", "Customer123!").await);

    let agent = driver.session().await;
    sign_in(&agent, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&agent, "h1[data-testid=page-title]", "Agent dashboard").await;
    element(&agent, "[data-testid=views-sidebar] [data-name=Unassigned]").await;
    let before = view_count(&agent, "Unassigned").await;

    // A new ticket arrives: the count follows without a reload.
    app.ticket(&customer, "Live count in the sidebar").await;
    wait_for_text(
        &agent,
        "[data-testid=view][data-name=Unassigned] [data-testid=view-count]",
        &(before + 1).to_string(),
    )
    .await;
    screenshot(&agent, "views-sidebar").await;

    // Picking the view shows its tickets.
    click(
        &agent,
        "[data-testid=view][data-name=Unassigned] button.view-link",
    )
    .await;
    wait_for_contains(
        &agent,
        "[data-testid=view-tickets] [data-testid=ticket-row]",
        "Live count in the sidebar",
    )
    .await;

    // Save it as a personal view, which then counts the same, and delete it.
    type_into(&agent, "input#view-name", "My queue copy").await;
    click(&agent, "button#view-save").await;
    wait_for_text(
        &agent,
        "[data-testid=view][data-name=\"My queue copy\"] [data-testid=view-count]",
        &(before + 1).to_string(),
    )
    .await;
    click(
        &agent,
        "[data-testid=view][data-name=\"My queue copy\"] [data-testid=view-delete]",
    )
    .await;
    wait_for_count(&agent, "[data-testid=view][data-name=\"My queue copy\"]", 0).await;
    agent.close().await.expect("close agent session");
}
