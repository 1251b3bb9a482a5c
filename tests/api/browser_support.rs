//! What every real-browser test needs: chromedriver and Chromium (or a loud skip), the app
//! serving the built SPA with the demo data, and polling helpers that wait for the page instead
//! of sleeping.
//!
//! The tests need `dist/` (built by `make frontend`), `chromium` and `chromedriver`. When one is
//! missing they print `SKIPPED: browser` and pass, unless `HELPDESK_REQUIRE_BROWSER=1` (set by
//! `make test` and CI), in which case they fail.

use std::{
    collections::HashMap,
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, key::Key};
use serde_json::json;
use server::services::seed;

use crate::helpers::{BCRYPT_COST, Backend, Cleanup, Overrides, TestApp, spawn_app_with};

/// How long any wait may take.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// Skips (or, when required, fails) because `what` is missing.
fn skip(what: &str) {
    if std::env::var("HELPDESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("browser tests are required (HELPDESK_REQUIRE_BROWSER=1) but {what}");
    }
    eprintln!("SKIPPED: browser ({what})");
}

/// The built SPA: `HELPDESK_DIST`, or `dist/` of the workspace.
pub(crate) fn dist_dir() -> PathBuf {
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
pub(crate) struct Driver {
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

    /// A new browser with a fresh profile.
    pub(crate) async fn session(&self) -> Client {
        self.connect(None).await
    }

    /// A new browser whose downloads land in `downloads` without asking.
    pub(crate) async fn session_with_downloads(&self, downloads: &Path) -> Client {
        self.connect(Some(downloads)).await
    }

    async fn connect(&self, downloads: Option<&Path>) -> Client {
        let profile = tempfile::tempdir().expect("profile dir").keep();
        let mut options = json!({
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
        });
        if let Some(dir) = downloads {
            options["prefs"] = json!({
                "download.default_directory": dir.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
            });
        }
        let caps = match json!({"browserName": "chrome", "goog:chromeOptions": options}) {
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

/// The app on SQLite serving the built SPA with the demo data, and chromedriver; or `None`
/// after skipping.
pub(crate) async fn setup() -> Option<(TestApp, Cleanup, Driver)> {
    setup_with(HashMap::new()).await
}

/// [`setup`] with extra settings (e.g. background jobs on).
pub(crate) async fn setup_with(
    extra: HashMap<&'static str, String>,
) -> Option<(TestApp, Cleanup, Driver)> {
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
    let mut vars = HashMap::from([("STATIC_DIR", dist.display().to_string())]);
    vars.extend(extra);
    let mut app = spawn_app_with(Backend::Sqlite, Overrides { vars }).await?;
    let cleanup = app.take_cleanup();
    seed::run(&app.db, BCRYPT_COST).await.expect("demo data");
    Some((app, cleanup, Driver::start(&chromedriver, chromium)))
}

/// Where screenshots go: `target/browser-screenshots/` (not committed).
pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The whole visible text of the page.
pub(crate) async fn page_text(client: &Client) -> String {
    match client.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub(crate) async fn current_url(client: &Client) -> String {
    client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default()
}

/// Saves a screenshot of the page under [`screenshot_dir`].
pub(crate) async fn screenshot(client: &Client, name: &str) {
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(screenshot_dir().join(format!("{name}.png")), png);
    }
}

/// The element matching `css`, once it exists.
pub(crate) async fn element(client: &Client, css: &str) -> Element {
    match client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(el) => el,
        Err(e) => {
            screenshot(client, "failure-missing-element").await;
            panic!(
                "`{css}` never appeared at {}: {e}",
                current_url(client).await
            )
        }
    }
}

pub(crate) async fn wait_for_text(client: &Client, css: &str, expected: &str) {
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
    panic!(
        "`{css}` never showed `{expected}` (last: `{last}`, at {})",
        current_url(client).await
    );
}

/// Polls until the form control matching `css` holds exactly `expected`.
pub(crate) async fn wait_for_value(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && let Ok(Some(value)) = el.prop("value").await
        {
            if value == expected {
                return;
            }
            last = value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "`{css}` never held `{expected}` (last: `{last}`, at {})",
        current_url(client).await
    );
}

/// Polls until an element matching `css` has text containing `needle` (case-insensitive).
pub(crate) async fn wait_for_contains(client: &Client, css: &str, needle: &str) -> Element {
    let deadline = Instant::now() + WAIT;
    let needle = needle.to_lowercase();
    while Instant::now() < deadline {
        if let Ok(elements) = client.find_all(Locator::Css(css)).await {
            for el in elements {
                if let Ok(text) = el.text().await
                    && text.to_lowercase().contains(&needle)
                {
                    return el;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "failure-missing-text").await;
    panic!(
        "no `{css}` containing `{needle}` at {}",
        current_url(client).await
    );
}

pub(crate) async fn wait_for_attr(client: &Client, css: &str, attr: &str, expected: &str) {
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
    screenshot(client, "failure-wrong-attr").await;
    panic!("`{css}` [{attr}] never became `{expected}` (last: {last:?})");
}

/// Polls until exactly `n` elements match `css`.
pub(crate) async fn wait_for_count(client: &Client, css: &str, n: usize) {
    let deadline = Instant::now() + WAIT;
    let mut last = usize::MAX;
    while Instant::now() < deadline {
        if let Ok(found) = client.find_all(Locator::Css(css)).await {
            last = found.len();
            if last == n {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "failure-wrong-count").await;
    panic!("expected {n} × `{css}`, found {last}");
}

/// Polls until the button matching `css` is (or is not) enabled.
pub(crate) async fn wait_for_enabled(client: &Client, css: &str, enabled: bool) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && el.is_enabled().await.ok() == Some(enabled)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(client, "failure-wrong-enabled").await;
    panic!(
        "`{css}` never became {}",
        if enabled { "enabled" } else { "disabled" }
    );
}

pub(crate) async fn click(client: &Client, css: &str) {
    element(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

pub(crate) async fn type_into(client: &Client, css: &str, text: &str) {
    element(client, css)
        .await
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Replaces an input's text the way a user does: select all, then type.
pub(crate) async fn replace_text(client: &Client, css: &str, text: &str) {
    let select_all = format!("{}a{}", char::from(Key::Control), char::from(Key::Null));
    let el = element(client, css).await;
    el.send_keys(&select_all)
        .await
        .unwrap_or_else(|e| panic!("select the text of {css}: {e}"));
    el.send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

pub(crate) async fn choose(client: &Client, css: &str, value: &str) {
    element(client, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
}

pub(crate) async fn sign_in(client: &Client, app: &TestApp, email: &str, password: &str) {
    client.goto(&app.url("/login")).await.expect("open /login");
    type_into(client, "input#login-email", email).await;
    type_into(client, "input#login-password", password).await;
    click(client, "button#login-submit").await;
}
