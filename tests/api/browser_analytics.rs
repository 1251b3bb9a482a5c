//! Real-browser test of the analytics page (`/admin/analytics`): the headline numbers and the
//! priority chart match tickets opened over the API, a new ticket shows up live, the CSV
//! export downloads the tickets of the range, and the range picker changes what is counted.
//!
//! Same requirements and skipping rules as `browser.rs` (`dist/`, `chromium`, `chromedriver`;
//! `HELPDESK_REQUIRE_BROWSER=1` turns a skip into a failure). The small helpers are repeated
//! here so the two files stay independent; Chrome also gets a download directory.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser_support::*;
use crate::helpers::TestApp;

/// Sets a date input the way a date picker does (typing into one depends on the locale).
async fn set_date(client: &Client, css: &str, value: &str) {
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

/// Scrolls the first element matching `css` into the middle of the window.
async fn scroll_to(client: &Client, css: &str) {
    client
        .execute(
            "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' });",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
}

/// Polls `dir` until `name` is there and complete (Chrome writes `<name>.crdownload` first,
/// and renames it when done); returns its contents.
async fn wait_for_download(dir: &Path, name: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let path = dir.join(name);
    while Instant::now() < deadline {
        let partial = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"))
            })
            .unwrap_or(false);
        if !partial && let Ok(text) = std::fs::read_to_string(&path) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    panic!(
        "{} never appeared in {} (found {found:?})",
        name,
        dir.display()
    );
}

/// Opens a ticket as a customer with the given priority and category; returns its id.
async fn open_ticket(
    app: &TestApp,
    token: &str,
    subject: &str,
    priority: &str,
    category: &str,
) -> String {
    app.post(
        "/api/tickets",
        Some(token),
        &json!({
            "subject": subject,
            "description": "Opened by the analytics browser test.",
            "priority": priority,
            "category": category,
        }),
    )
    .await
    .assert_ok(201)["id"]
        .as_str()
        .expect("ticket id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_counts_tickets_live_and_exports_them() {
    let Some((app, cleanup, driver)) = setup().await else {
        return;
    };

    // Three tickets: two high, one low (answered and resolved).
    let customer = app.login("customer1@helpdesk.local", "Customer123!").await;
    let customer = customer.assert_ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    open_ticket(
        &app,
        &customer,
        "Parcel arrived crushed",
        "high",
        "orders/damaged",
    )
    .await;
    open_ticket(&app, &customer, "Lid is cracked", "high", "orders/damaged").await;
    let low = open_ticket(&app, &customer, "Invoice address typo", "low", "billing").await;
    // An agent answers and resolves the low one.
    let agent = app.login("agent1@helpdesk.local", "Agent123!").await;
    let agent = agent.assert_ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.post(
        &format!("/api/tickets/{low}/take"),
        Some(&agent),
        &json!({}),
    )
    .await
    .assert_ok(200);
    app.post(
        &format!("/api/tickets/{low}/messages"),
        Some(&agent),
        &json!({"body": "Fixed the address on the invoice."}),
    )
    .await
    .assert_ok(201);
    app.patch(
        &format!("/api/tickets/{low}"),
        Some(&agent),
        &json!({"status": "resolved"}),
    )
    .await
    .assert_ok(200);

    let _profile = tempfile::tempdir().expect("profile dir");
    let downloads = tempfile::tempdir().expect("download dir");
    let admin = driver.session_with_downloads(downloads.path()).await;
    sign_in(&admin, &app, "admin@helpdesk.local", "Admin123!").await;
    wait_for_text(&admin, "h1[data-testid=page-title]", "Admin dashboard").await;
    admin
        .goto(&app.url("/admin/analytics"))
        .await
        .expect("open /admin/analytics");
    wait_for_text(&admin, "h1[data-testid=page-title]", "Analytics").await;

    // The headline numbers and the breakdowns.
    wait_for_text(&admin, "[data-testid=kpi-created]", "3").await;
    wait_for_text(&admin, "[data-testid=kpi-resolved]", "1").await;
    wait_for_text(&admin, "[data-testid=kpi-open]", "2").await;
    wait_for_text(&admin, "[data-testid=kpi-escalated]", "0").await;
    let priority = "svg[data-testid=chart-priority]";
    for (key, count) in [
        ("urgent", "0"),
        ("high", "2"),
        ("medium", "0"),
        ("low", "1"),
    ] {
        wait_for_attr(
            &admin,
            &format!("{priority} g[data-key={key}]"),
            "data-value",
            count,
        )
        .await;
    }
    let svg = admin
        .find(Locator::Css(priority))
        .await
        .expect("the priority chart")
        .html(false)
        .await
        .expect("its markup");
    for text in [
        "<title>High: 2</title>",
        "<title>Low: 1</title>",
        "By priority",
    ] {
        assert!(
            svg.contains(text),
            "the priority chart lacks `{text}`: {svg}"
        );
    }
    wait_for_attr(
        &admin,
        "svg[data-testid=chart-category] g[data-key=\"orders/damaged\"]",
        "data-value",
        "2",
    )
    .await;
    for chart in ["chart-per-day", "chart-sla"] {
        admin
            .find(Locator::Css(&format!("svg[data-testid={chart}]")))
            .await
            .unwrap_or_else(|e| panic!("{chart}: {e}"));
    }
    let agents = admin
        .find_all(Locator::Css("[data-testid=agent-row]"))
        .await
        .expect("agent rows");
    assert!(!agents.is_empty(), "the demo agents are listed");
    screenshot(&admin, "analytics").await;

    // A fourth ticket arrives: the page counts it without a reload.
    open_ticket(
        &app,
        &customer,
        "Wrong colour delivered",
        "medium",
        "orders/wrong-item",
    )
    .await;
    wait_for_text(&admin, "[data-testid=kpi-created]", "4").await;
    wait_for_text(&admin, "[data-testid=kpi-open]", "3").await;
    wait_for_attr(
        &admin,
        &format!("{priority} g[data-key=medium]"),
        "data-value",
        "1",
    )
    .await;
    screenshot(&admin, "analytics-live").await;
    for (css, name) in [
        ("svg[data-testid=chart-per-day]", "analytics-charts"),
        ("svg[data-testid=chart-sla]", "analytics-charts-2"),
        ("[data-testid=agent-row]", "analytics-agents"),
    ] {
        scroll_to(&admin, css).await;
        screenshot(&admin, name).await;
    }

    // The export holds the four tickets of the range.
    click(&admin, "button#export-csv").await;
    let csv = wait_for_download(downloads.path(), "tickets.csv").await;
    let lines: Vec<&str> = csv.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 5, "a header and four rows, got:\n{csv}");
    assert!(
        lines[0].starts_with("number,id,subject"),
        "header: {}",
        lines[0]
    );
    for subject in [
        "Parcel arrived crushed",
        "Lid is cracked",
        "Invoice address typo",
        "Wrong colour delivered",
    ] {
        assert!(
            csv.contains(subject),
            "the export lacks `{subject}`:\n{csv}"
        );
    }

    // A range without tickets counts none, and is kept in the address.
    set_date(&admin, "input#analytics-from", "2020-01-01").await;
    set_date(&admin, "input#analytics-to", "2020-01-31").await;
    click(&admin, "button#analytics-apply").await;
    wait_for_text(&admin, "[data-testid=kpi-created]", "0").await;
    let url = current_url(&admin).await;
    assert!(
        url.contains("from=2020-01-01") && url.contains("to=2020-01-31"),
        "the range is in the address: {url}"
    );
    // A preset brings the tickets back.
    click(&admin, "button[data-preset=\"30\"]").await;
    wait_for_text(&admin, "[data-testid=kpi-created]", "4").await;

    // On a phone-sized window the page reflows instead of running off the side (wide charts
    // and the agent table scroll inside their own boxes).
    admin
        .set_window_size(390, 844)
        .await
        .expect("resize the window");
    let overflow = admin
        .execute(
            "const page = document.querySelector('.an-page');
             return page.scrollWidth - page.clientWidth;",
            vec![],
        )
        .await
        .expect("measure the page");
    screenshot(&admin, "analytics-phone").await;
    for (css, name) in [
        ("[data-testid=kpi-resolution]", "analytics-phone-kpis"),
        ("svg[data-testid=chart-per-day]", "analytics-phone-chart"),
        ("svg[data-testid=chart-priority]", "analytics-phone-bars"),
    ] {
        scroll_to(&admin, css).await;
        screenshot(&admin, name).await;
    }
    assert_eq!(overflow.as_i64(), Some(0), "the page is wider than a phone");

    admin.close().await.expect("close session");
    drop(driver);
    cleanup.run().await;
}
