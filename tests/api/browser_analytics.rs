//! Real-browser test of the analytics page (`/admin/analytics`): the headline numbers and the
//! priority chart match tickets opened over the API, a new ticket shows up live, the CSV
//! export downloads the tickets of the range, and the range picker changes what is counted.
//!
//! Same requirements and skipping rules as `browser.rs` (`dist/`, `chromium`, `chromedriver`;
//! `HELPDESK_REQUIRE_BROWSER=1` turns a skip into a failure). The small helpers are repeated
//! here so the two files stay independent; Chrome also gets a download directory.

use std::{
    collections::HashMap,
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use server::services::seed;

use crate::helpers::{BCRYPT_COST, Backend, Cleanup, Overrides, TestApp, spawn_app_with};

const WAIT: Duration = Duration::from_secs(30);

/// Skips (or, when required, fails) because `what` is missing.
fn skip(what: &str) {
    if std::env::var("HELPDESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("browser tests are required (HELPDESK_REQUIRE_BROWSER=1) but {what}");
    }
    eprintln!("SKIPPED: browser ({what})");
}

fn dist_dir() -> PathBuf {
    std::env::var("HELPDESK_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"))
}

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// A chromedriver child process on a free port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
}

impl Driver {
    fn start(chromedriver: &Path, chromium: PathBuf) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            chromium,
        }
    }

    /// A browser whose downloads land in `downloads` without asking.
    async fn session(&self, profile: &Path, downloads: &Path) -> Client {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                }
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("capabilities are an object"),
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("webdriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app on SQLite serving the built SPA, with the demo data, and chromedriver; or `None`
/// after skipping.
async fn setup() -> Option<(TestApp, Cleanup, Driver)> {
    let dist = dist_dir();
    if !dist.join("index.html").exists() {
        skip(&format!(
            "{} has no built SPA (run `make frontend`)",
            dist.display()
        ));
        return None;
    }
    let Some(chromium) = find_binary(
        "CHROMIUM_BIN",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    ) else {
        skip("chromium is not installed");
        return None;
    };
    let Some(chromedriver) = find_binary("CHROMEDRIVER_BIN", &["/usr/bin/chromedriver"]) else {
        skip("chromedriver is not installed");
        return None;
    };
    let vars = HashMap::from([("STATIC_DIR", dist.display().to_string())]);
    let mut app = spawn_app_with(Backend::Sqlite, Overrides { vars }).await?;
    let cleanup = app.take_cleanup();
    seed::run(&app.db, BCRYPT_COST).await.expect("demo data");
    Some((app, cleanup, Driver::start(&chromedriver, chromium)))
}

async fn sign_in(client: &Client, app: &TestApp, email: &str, password: &str) {
    client.goto(&app.url("/login")).await.expect("open /login");
    let field = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input#login-email"))
        .await
        .expect("the login form renders");
    field.send_keys(email).await.expect("type email");
    client
        .find(Locator::Css("input#login-password"))
        .await
        .expect("password field")
        .send_keys(password)
        .await
        .expect("type password");
    client
        .find(Locator::Css("button#login-submit"))
        .await
        .expect("submit button")
        .click()
        .await
        .expect("submit");
}

async fn current_url(client: &Client) -> String {
    client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default()
}

/// Polls until the element's text equals `expected`.
async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
        {
            if text.trim() == expected {
                return;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "analytics-failure").await;
    panic!(
        "`{css}` never showed `{expected}` (last: `{last}`, at {})",
        current_url(client).await
    );
}

/// Polls until an attribute has the expected value.
async fn wait_for_attr(client: &Client, css: &str, attr: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            last = el.attr(attr).await.ok().flatten();
            if last.as_deref() == Some(expected) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "analytics-failure").await;
    panic!("`{css}` [{attr}] never became `{expected}` (last: {last:?})");
}

async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

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

/// Where screenshots go: `target/browser-screenshots/` (not committed).
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn screenshot(client: &Client, name: &str) {
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(screenshot_dir().join(format!("{name}.png")), png);
    }
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

    let profile = tempfile::tempdir().expect("profile dir");
    let downloads = tempfile::tempdir().expect("download dir");
    let admin = driver.session(profile.path(), downloads.path()).await;
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
