//! Real-browser test of customer satisfaction: the customer rates their resolved ticket in
//! the portal and changes the rating, the agent sees it on the ticket page live, and the
//! signed link of the "resolved" mail rates without signing in.

use serde_json::json;

use crate::browser_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_rates_in_the_portal_and_by_the_signed_link() {
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
    let agent = token(app.login("agent1@helpdesk.local", "Agent123!").await);
    let t = app.ticket(&customer, "Scanner jams on every page").await;
    let id = t["id"].as_str().expect("id").to_owned();
    for status in ["open", "resolved"] {
        app.patch(
            &format!("/api/tickets/{id}"),
            Some(&agent),
            &json!({"status": status}),
        )
        .await
        .assert_ok(200);
    }

    // The agent keeps the ticket open; nothing is rated yet.
    let staff = driver.session().await;
    sign_in(&staff, &app, "agent1@helpdesk.local", "Agent123!").await;
    wait_for_text(&staff, "h1[data-testid=page-title]", "Agent dashboard").await;
    staff
        .goto(&app.url(&format!("/agent/tickets/{id}")))
        .await
        .expect("open the ticket");
    wait_for_contains(&staff, "[data-testid=ticket-subject]", "Scanner jams").await;

    // The customer rates on their resolved ticket.
    let browser = driver.session().await;
    sign_in(&browser, &app, "customer1@helpdesk.local", "Customer123!").await;
    wait_for_text(&browser, "h1[data-testid=page-title]", "Customer portal").await;
    browser
        .goto(&app.url(&format!("/portal/tickets/{id}")))
        .await
        .expect("open the request");
    element(&browser, "[data-testid=csat-form]").await;
    click(&browser, "button.csat-star[data-score='4']").await;
    type_into(&browser, "textarea#csat-comment", "Fixed quickly").await;
    click(&browser, "button[data-testid=csat-submit]").await;
    wait_for_contains(&browser, ".csat-saved", "Thank you").await;
    screenshot(&browser, "csat-portal").await;
    let survey = app
        .get(&format!("/api/tickets/{id}/csat"), Some(&customer))
        .await;
    assert_eq!(survey.assert_ok(200)["rating"]["score"], 4);

    // The agent's page shows it live, and the change too.
    wait_for_attr(&staff, "[data-testid=csat-rating]", "data-score", "4").await;
    wait_for_contains(&staff, "[data-testid=csat-rating]", "Fixed quickly").await;
    click(&browser, "button.csat-star[data-score='2']").await;
    click(&browser, "button[data-testid=csat-submit]").await;
    wait_for_attr(&staff, "[data-testid=csat-rating]", "data-score", "2").await;
    screenshot(&staff, "csat-staff").await;

    // The signed link works signed out.
    let resolved_at = app
        .get(&format!("/api/tickets/{id}"), Some(&customer))
        .await
        .assert_ok(200)["resolved_at"]
        .clone();
    let resolved_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(resolved_at).expect("resolved_at");
    let link = server::services::mail::Signer::new(&app.state.settings.mail.secret)
        .expect("signer")
        .survey_token(id.parse().expect("uuid"), resolved_at);
    let anonymous = driver.session().await;
    anonymous
        .goto(&app.url(&format!("/survey/{link}")))
        .await
        .expect("open the survey link");
    wait_for_contains(&anonymous, ".csat-ticket", "Scanner jams").await;
    wait_for_attr(
        &anonymous,
        "button.csat-star[data-score='2']",
        "aria-pressed",
        "true",
    )
    .await;
    click(&anonymous, "button.csat-star[data-score='5']").await;
    click(&anonymous, "button[data-testid=csat-submit]").await;
    wait_for_contains(&anonymous, ".csat-saved", "Thank you").await;
    screenshot(&anonymous, "csat-link").await;
    let survey = app
        .get(&format!("/api/tickets/{id}/csat"), Some(&customer))
        .await;
    let rating = survey.assert_ok(200)["rating"].clone();
    assert_eq!(
        (rating["score"].clone(), rating["via"].clone()),
        (json!(5), json!("link"))
    );
}
