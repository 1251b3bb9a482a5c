//! Building the application: connect and migrate the database, bind the listener first (so
//! tests can ask for port 0 and read the real port), then assemble the actix `App`.

use std::{net::TcpListener, path::Path, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{
    App, HttpServer,
    dev::Server,
    http::header,
    middleware::{self, DefaultHeaders},
    web,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, service_config::ServiceConfig};
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    auth::JwtKeys,
    clock::{Clock, SystemClock},
    config::{Settings, redact_url},
    error::{self, ApiError},
    jobs::{self, Jobs},
    json_guard,
    openapi::{self, ApiDoc},
    realtime::{Realtime, bus, session},
    request_id, routes,
    services::mail::Mailer,
    spa,
    state::AppState,
};

/// Largest JSON body any endpoint accepts (journey definitions are the biggest documents).
pub const JSON_LIMIT_BYTES: usize = 1024 * 1024;

/// PostgreSQL connections per server instance.
pub const PG_POOL: u32 = 20;
/// SQLite connections (one writes at a time; the others read meanwhile). An in-memory
/// database keeps one connection, since each connection would have its own.
pub const SQLITE_POOL: u32 = 4;

/// Opens the connection pool; for SQLite, creates the database file's directory first.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    open(settings, false).await
}

/// The pool; `single`: one connection (SQLite schema changes run on one connection, since
/// another connection's prepared view of the schema can be stale while a migration runs).
async fn open(settings: &Settings, single: bool) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_file(&settings.database_url)
        && let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // No ping before every checkout: a connection that died fails its statement, and
        // sqlx drops it from the pool.
        .test_before_acquire(false)
        .sqlx_logging(false);
    if settings.database_kind() == "postgres" {
        // All opened at start (on the main runtime), none opened lazily under load.
        options.max_connections(PG_POOL).min_connections(PG_POOL);
    } else if sqlite_file(&settings.database_url).is_some() {
        // WAL: readers never block the writer nor it them, so a few connections read while
        // one writes (writers queue on `BEGIN IMMEDIATE`, waiting up to the busy timeout).
        // `synchronous=NORMAL` survives a crash of the process; a power loss may lose the
        // last commits, never the file's consistency.
        options
            .max_connections(if single { 1 } else { SQLITE_POOL })
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
            });
    }
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact_url(&settings.database_url)))?;
    Ok(db)
}

/// The file behind a `sqlite://path?…` URL, unless it is in-memory.
pub fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Connects and applies every pending migration.
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.database_kind() == "postgres" {
        let db = connect(settings).await?;
        migrate(&db).await?;
        return Ok(db);
    }
    let single = open(settings, true).await?;
    migrate(&single).await?;
    if sqlite_file(&settings.database_url).is_none() {
        // In memory: this one connection is the database.
        return Ok(single);
    }
    single.close().await?;
    connect(settings).await
}

async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
}

/// The full OpenAPI document, collected from the route table.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api").configure(routes::config))
        .split_for_parts();
    openapi::add_common_responses(&mut api);
    crate::auth::scopes::document(&mut api);
    api
}

/// How long a client may take to send a request's head (slowloris protection).
pub const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long an idle keep-alive connection stays open.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// Longest wait for in-flight requests (and a running job) when shutting down.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                log::warn!("cannot listen for SIGTERM ({e}); Ctrl-C still stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// Stops the background jobs when the server stops.
    jobs: Option<jobs::Stopper>,
}

impl Application {
    /// Connects, migrates, binds `settings.bind_addr` and builds the server (not yet running).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with a chosen time source (tests use a manual clock).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let db = connect_and_migrate(&settings).await?;
        let listener = TcpListener::bind(settings.bind_addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind_addr))?;
        let port = listener.local_addr()?.port();
        std::fs::create_dir_all(&settings.upload_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create upload directory {}: {e}",
                settings.upload_dir.display()
            )
        })?;
        let realtime = Realtime::start(db.clone(), bus::for_database(&db));
        let state = AppState {
            db,
            jwt: JwtKeys::new(&settings.jwt_secret),
            login_throttle: Default::default(),
            rate_limits: Arc::new(crate::rate_limit::RateLimiter::new(settings.rate_limits)),
            users: Default::default(),
            lists: Default::default(),
            journey_versions: Default::default(),
            clock,
            jobs: Jobs::default(),
            realtime,
            mail: Mailer::from_settings(&settings)?,
            metrics: Arc::new(
                crate::metrics::Metrics::new()
                    .map_err(|e| anyhow::anyhow!("cannot set up the metrics: {e}"))?,
            ),
            settings: Arc::new(settings),
        };
        let jobs = state
            .settings
            .background_jobs
            .then(|| jobs::start(state.clone()));
        let server = build_server(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that can stop the server once it runs.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// State shared with handlers (tests use its database handle).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is asked to stop (SIGTERM or SIGINT), then shuts down
    /// gracefully: stop accepting connections, tell WebSocket clients to reconnect (1012) so
    /// they resume on another instance, finish in-flight requests (for at most
    /// [`SHUTDOWN_GRACE`]), and stop the background jobs between two runs.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let realtime = self.state.realtime.clone();
        let stopping = tokio::spawn(async move {
            shutdown_signal().await;
            log::info!("shutting down: closing live connections, finishing requests");
            realtime.close_all().await;
            handle.stop(true).await;
        });
        let result = self.server.await;
        stopping.abort();
        if let Some(jobs) = self.jobs {
            jobs.stop_and_wait(SHUTDOWN_GRACE).await;
        }
        log::info!("stopped");
        result
    }
}

fn build_server(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let api_doc = openapi_document();
    let data = web::Data::new(state);
    let static_dir = web::Data::new(spa::StaticDir(settings.static_dir.clone()));
    if !settings.static_dir.is_dir() {
        log::warn!(
            "STATIC_DIR {} does not exist; the web app will not be served (build it with `make frontend`)",
            settings.static_dir.display()
        );
    }

    let server_settings = settings.clone();
    let mut server = HttpServer::new(move || {
        let settings = &server_settings;
        let mut security_headers = DefaultHeaders::new()
            .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .add((header::X_FRAME_OPTIONS, "DENY"))
            .add((header::REFERRER_POLICY, "strict-origin-when-cross-origin"));
        if settings.is_production() {
            security_headers = security_headers.add((
                header::STRICT_TRANSPORT_SECURITY,
                "max-age=31536000; includeSubDomains",
            ));
        }
        let cors = match &settings.cors_origin {
            Some(origin) => Cors::default()
                .allowed_origin(origin)
                .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
                .allowed_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("idempotency-key"),
                ])
                .expose_headers([
                    crate::rate_limit::LIMIT,
                    crate::rate_limit::REMAINING,
                    crate::rate_limit::RESET,
                    header::RETRY_AFTER,
                    header::HeaderName::from_static("idempotency-replayed"),
                ])
                .max_age(3600),
            // Same origin only: no CORS headers are ever sent.
            None => Cors::default(),
        };

        let app = App::new()
            .app_data(data.clone())
            .app_data(static_dir.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT_BYTES)
                    .error_handler(error::json_error),
            )
            .app_data(web::PayloadConfig::default().limit(JSON_LIMIT_BYTES))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .wrap(security_headers)
            .wrap(cors)
            .wrap(middleware::from_fn(crate::metrics::track))
            // Request ids and the access log (which never shows a query string).
            .wrap(middleware::from_fn(request_id::assign))
            // Registered before the /api scope, which would otherwise claim /api/docs.
            .route(
                "/api/docs",
                web::get().to(|| async {
                    actix_web::HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/api/docs/"))
                        .finish()
                }),
            )
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", api_doc.clone()))
            .route("/ws", web::get().to(session::route))
            .route("/metrics", web::get().to(routes::metrics::scrape))
            .service(
                web::scope("/api")
                    .wrap(middleware::from_fn(json_guard::refuse_nul_in_json))
                    // Outside the body check: a caller over the limit is refused first.
                    .wrap(middleware::from_fn(crate::rate_limit::limit))
                    .configure(|cfg| routes::config(&mut ServiceConfig::new(cfg)))
                    .default_service(web::to(api_not_found)),
            );
        app.default_service(web::to(spa::serve))
    })
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    // Signals are handled by `run_until_stopped`, which closes live connections first.
    let server = server
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        // Slow or idle clients cannot hold connections: a request head must arrive within
        // 5 s, an idle keep-alive connection is closed after 5 s.
        .client_request_timeout(REQUEST_HEAD_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .client_disconnect_timeout(std::time::Duration::from_secs(1));
    Ok(server.run())
}

async fn api_not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound(format!(
        "{} {}",
        req.method(),
        req.path()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_paths() {
        assert_eq!(
            sqlite_file("sqlite://data/helpdesk.db?mode=rwc"),
            Some("data/helpdesk.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }

    #[test]
    fn openapi_lists_every_route() {
        let doc = openapi_document();
        for path in [
            "/api/auth/register",
            "/api/auth/login",
            "/api/auth/me",
            "/api/users",
            "/api/users/{id}",
            "/api/auth/me/notifications",
            "/api/mail/unsubscribe",
            "/api/mail/outbox",
            "/api/mail/outbox/{id}/resend",
            "/api/health",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path} missing");
        }
    }
}
