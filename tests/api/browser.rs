//! Real-browser tests: the built SPA in headless Chromium, driven by fantoccini over
//! chromedriver.
//!
//! They need `dist/` (built by `make frontend`), `chromium` and `chromedriver`. When one is
//! missing the tests print `SKIPPED: browser` and pass, unless `HELPDESK_REQUIRE_BROWSER=1`
//! (set by `make test` and CI), in which case they fail.

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

use crate::helpers::{BCRYPT_COST, Backend, Overrides, TestApp, spawn_app_with};

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
    _profile: tempfile::TempDir,
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
            _profile: tempfile::tempdir().expect("profile dir"),
            chromium,
        }
    }

    async fn session(&self) -> Client {
        let profile = tempfile::tempdir().expect("profile dir").keep();
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
                ]
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

/// Everything a browser test needs, or `None` after skipping.
async fn setup() -> Option<(TestApp, crate::helpers::Cleanup, Driver)> {
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
    let overrides = Overrides {
        vars: HashMap::from([("STATIC_DIR", dist.display().to_string())]),
    };
    let mut app = spawn_app_with(Backend::Sqlite, overrides).await?;
    let cleanup = app.take_cleanup();
    seed::run(&app.db, BCRYPT_COST).await.expect("demo data");
    Some((app, cleanup, Driver::start(&chromedriver, chromium)))
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
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    panic!("`{css}` never showed `{expected}` (last: `{last}`, at {url})");
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
