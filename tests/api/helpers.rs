//! `spawn_app()`: the real server on a random port with a fresh database, and request helpers
//! so tests read as sentences.
//!
//! SQLite: a new file in a temporary directory per test. PostgreSQL: a new database per test,
//! cloned from a template migrated once per test process. PostgreSQL is found at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); when it is not
//! reachable the PostgreSQL variants print `SKIPPED: postgres` and pass, unless
//! `HELPDESK_REQUIRE_POSTGRES=1` (set by CI), in which case they fail.

use std::{collections::HashMap, path::PathBuf, time::Duration};

use actix_web::dev::ServerHandle;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use server::{
    config::Settings,
    services::users::{self, NewAccount},
    startup::Application,
    state::AppState,
};
use shared::Role;
use tempfile::TempDir;
use tokio::sync::OnceCell;

pub const JWT_SECRET: &str = "test-secret-for-black-box-tests-only";
/// bcrypt's minimum cost keeps the suite fast; the cost itself is covered by unit tests.
pub const BCRYPT_COST: u32 = 4;
pub const PASSWORD: &str = "Passw0rd-long";

/// The smallest byte string our sniffer accepts as PNG (magic bytes plus padding).
pub fn png(extra: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.resize(8 + extra, 0);
    bytes
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// The `DATABASE_URL` the app runs on.
    pub db_url: String,
    /// Where the app stores uploads.
    pub upload_dir: PathBuf,
    pub backend: Backend,
    /// The running app's state (settings, mailer, job triggers).
    pub state: AppState,
    cleanup: Option<Cleanup>,
}

/// What must happen after a test: stop the server, drop its PostgreSQL database.
pub struct Cleanup {
    handle: ServerHandle,
    pg_database: Option<String>,
    _dir: TempDir,
}

impl Cleanup {
    /// Stops the server at once (dropping every connection) but keeps its database.
    pub async fn stop_server(&self) {
        self.handle.stop(false).await;
    }

    pub async fn run(self) {
        self.handle.stop(false).await;
        if let Some(name) = self.pg_database
            && let Ok(admin) = Database::connect(pg_admin_url()).await
        {
            let _ = drop_database(&admin, &name).await;
        }
    }
}

/// Extra settings for one test (e.g. a static directory).
#[derive(Default)]
pub struct Overrides {
    pub vars: HashMap<&'static str, String>,
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Overrides::default()).await
}

pub async fn spawn_app_with(backend: Backend, overrides: Overrides) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg_database) = match (overrides.vars.get("DATABASE_URL"), backend) {
        // Another instance on an existing database: it belongs to whoever created it.
        (Some(url), _) => (url.clone(), None),
        (None, Backend::Sqlite) => (
            format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
            None,
        ),
        (None, Backend::Postgres) => {
            let name = pg_test_database().await?;
            (pg_url_for(&name), Some(name))
        }
    };
    let mut vars: HashMap<&'static str, String> = HashMap::from([
        ("DATABASE_URL", database_url.clone()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("BCRYPT_COST", BCRYPT_COST.to_string()),
        ("HTTP_WORKERS", "2".to_owned()),
        // Tests drive assignment and the SLA monitor themselves unless they opt in.
        ("BACKGROUND_JOBS", "false".to_owned()),
        (
            "STATIC_DIR",
            dir.path().join("no-static").display().to_string(),
        ),
        (
            "UPLOAD_DIR",
            dir.path().join("uploads").display().to_string(),
        ),
    ]);
    vars.extend(overrides.vars);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings");
    let upload_dir = settings.upload_dir.clone();
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.state().db.clone();
    let state = app.state().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            // Drop idle connections well before the server's 5 s keep-alive closes them, so a
            // request never goes out on a socket the server is closing at that moment.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("http client"),
        db,
        db_url: database_url,
        upload_dir,
        backend,
        state,
        cleanup: Some(Cleanup {
            handle,
            pg_database,
            _dir: dir,
        }),
    })
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The `code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("<no code>")
    }

    /// Asserts status and error code together, showing the body on failure.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected response: {}",
            self.text
        );
        assert_eq!(self.body["success"], false, "{}", self.text);
        assert!(self.body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    pub fn assert_ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected response: {}",
            self.text
        );
        assert_eq!(self.body["success"], true, "{}", self.text);
        &self.body["data"]
    }
}

/// A signed-in user of the test app.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        into_resp(req.send().await.expect("request sent")).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Resp {
        into_resp(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Resp {
        self.post(
            "/api/auth/register",
            None,
            &json!({"email": email, "password": password, "name": name}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/api/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Creates an account of `role` directly through the service layer and signs it in.
    pub async fn user(&self, role: Role) -> TestUser {
        let email = format!("{}-{}@example.com", role, uuid::Uuid::new_v4().simple());
        self.user_with_email(role, &email).await
    }

    /// [`TestApp::user`] with a chosen address.
    pub async fn user_with_email(&self, role: Role, email: &str) -> TestUser {
        let email = email.to_owned();
        let account = NewAccount::parse(&email, PASSWORD, &format!("Test {role}"), role)
            .expect("valid account");
        users::create_account(&self.db, BCRYPT_COST, account)
            .await
            .expect("account created");
        let resp = self.login(&email, PASSWORD).await;
        let data = resp.assert_ok(200);
        TestUser {
            id: data["user"]["id"].as_str().expect("id").to_owned(),
            email,
            token: data["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Opens a ticket as `token` (a customer) and returns its JSON.
    pub async fn ticket(&self, token: &str, subject: &str) -> Value {
        let resp = self
            .post(
                "/api/tickets",
                Some(token),
                &json!({"subject": subject, "description": "Something is wrong."}),
            )
            .await;
        resp.assert_ok(201).clone()
    }

    /// Uploads files as multipart `files` fields.
    pub async fn upload(
        &self,
        token: &str,
        files: Vec<(&str, Vec<u8>)>,
        ticket_id: Option<&str>,
    ) -> Resp {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        }
        if let Some(id) = ticket_id {
            form = form.text("ticket_id", id.to_owned());
        }
        self.raw(
            self.client
                .post(self.url("/api/upload"))
                .bearer_auth(token)
                .multipart(form),
        )
        .await
    }

    /// Takes what must run after the test; the macro calls it before handing the app over.
    pub fn take_cleanup(&mut self) -> Cleanup {
        self.cleanup.take().expect("cleanup taken once")
    }
}

async fn into_resp(resp: reqwest::Response) -> Resp {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

// ---- PostgreSQL test databases ----

fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn pg_url_for(database: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{database}", &admin[..i]),
        _ => format!("{admin}/{database}"),
    }
}

fn postgres_required() -> bool {
    std::env::var("HELPDESK_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// The migrated template of this process, created on first use; `None` if PostgreSQL is
/// unreachable and not required.
async fn pg_template() -> Option<&'static str> {
    static TEMPLATE: OnceCell<Option<String>> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            match create_template().await {
                Ok(name) => Some(name),
                Err(e) if postgres_required() => {
                    panic!("PostgreSQL is required (HELPDESK_REQUIRE_POSTGRES=1) but unusable: {e}")
                }
                Err(e) => {
                    eprintln!("SKIPPED: postgres ({e})");
                    None
                }
            }
        })
        .await
        .as_deref()
}

async fn create_template() -> Result<String, String> {
    let admin = tokio::time::timeout(Duration::from_secs(5), Database::connect(pg_admin_url()))
        .await
        .map_err(|_| "timed out connecting".to_owned())?
        .map_err(|e| e.to_string())?;
    drop_stale_databases(&admin).await;
    let name = format!("helpdesk_tpl_{}", std::process::id());
    drop_database(&admin, &name)
        .await
        .map_err(|e| e.to_string())?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .map_err(|e| e.to_string())?;
    {
        use migration::{Migrator, MigratorTrait};
        let db = Database::connect(pg_url_for(&name))
            .await
            .map_err(|e| e.to_string())?;
        Migrator::up(&db, None).await.map_err(|e| e.to_string())?;
        db.close().await.map_err(|e| e.to_string())?;
    }
    admin.close().await.map_err(|e| e.to_string())?;
    Ok(name)
}

/// Drops a test database, disconnecting whoever still uses it.
async fn drop_database(admin: &DatabaseConnection, name: &str) -> Result<(), sea_orm::DbErr> {
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .map(|_| ())
}

/// Drops test databases left behind by test processes that no longer run.
async fn drop_stale_databases(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'helpdesk_t%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let pid = name
            .trim_start_matches("helpdesk_tpl_")
            .trim_start_matches("helpdesk_t_")
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| PathBuf::from(format!("/proc/{p}")).exists());
        if !alive {
            let _ = drop_database(admin, &name).await;
        }
    }
}

/// A fresh database cloned from the template.
async fn pg_test_database() -> Option<String> {
    let template = pg_template().await?;
    let name = format!(
        "helpdesk_t_{}_{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let admin = Database::connect(pg_admin_url())
        .await
        .expect("PostgreSQL reachable after template creation");
    let mut attempt = 0;
    loop {
        // Concurrent clones of one template can collide; retry briefly.
        match admin
            .execute_unprepared(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            ))
            .await
        {
            Ok(_) => break,
            Err(e) if attempt < 20 => {
                attempt += 1;
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => panic!("cannot create test database: {e}"),
        }
    }
    let _ = admin.close().await;
    Some(name)
}

/// Generates one test per backend for each named `async fn(TestApp)` in the parent module.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let mut app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    let cleanup = app.take_cleanup();
                    super::$name(app).await;
                    cleanup.run().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(mut app) =
                        $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                    else {
                        return;
                    };
                    let cleanup = app.take_cleanup();
                    super::$name(app).await;
                    cleanup.run().await;
                }
            )*
        }
    };
}
