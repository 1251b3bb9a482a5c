//! Health, API documentation and the SPA hosting rules.

use std::collections::HashMap;

use crate::helpers::{Backend, Overrides, TestApp, spawn_app_with};

crate::db_tests!(
    health_reports_the_database,
    api_docs_are_served_offline,
    every_documented_endpoint_requires_a_token,
    liveness_and_readiness,
    every_request_has_an_id_that_errors_quote,
    metrics_are_for_admins_and_count_what_happens,
);

/// Endpoints anyone may call without signing in.
const PUBLIC: &[(&str, &str)] = &[
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("get", "/api/health"),
    // The signed token in the link is the credential (see tests/api/mail.rs).
    ("get", "/api/mail/unsubscribe"),
    ("post", "/api/mail/unsubscribe"),
    // So is the satisfaction survey link's (see tests/api/csat.rs).
    ("get", "/api/csat"),
    ("put", "/api/csat"),
    ("get", "/api/health/live"),
    ("get", "/api/health/ready"),
];

async fn every_documented_endpoint_requires_a_token(app: TestApp) {
    let spec = app.get("/api/openapi.json", None).await;
    let paths = spec.body["paths"].as_object().unwrap().clone();
    let mut checked = 0;
    for (path, item) in &paths {
        let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        for method in item.as_object().unwrap().keys() {
            if PUBLIC.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = serde_json::json!({});
            let resp = app
                .request(method.clone(), &concrete, None, Some(&body))
                .await;
            assert_eq!(
                (resp.status.as_u16(), resp.code()),
                (401, "unauthorized"),
                "{method} {path}: {}",
                resp.text
            );
            let forged = app
                .request(
                    method.clone(),
                    &concrete,
                    Some("forged.token.value"),
                    Some(&body),
                )
                .await;
            if path == "/api/inbound/email" {
                // Its credential is the ingest token, which no user token is.
                forged.assert_error(403, "forbidden");
            } else {
                assert_eq!(forged.code(), "invalid_token", "{method} {path}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} endpoints checked");
}

async fn health_reports_the_database(app: TestApp) {
    let resp = app.get("/api/health", None).await;
    let data = resp.assert_ok(200);
    assert_eq!(data["status"], "ok");
    let expected = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(data["database"], expected);
    assert_eq!(
        resp.headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
}

async fn api_docs_are_served_offline(app: TestApp) {
    let spec = app.get("/api/openapi.json", None).await;
    assert_eq!(spec.status.as_u16(), 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec.body["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/auth/register", &["post"][..]),
        ("/api/auth/login", &["post"]),
        ("/api/auth/me", &["get", "put"]),
        ("/api/users", &["get", "post"]),
        ("/api/users/{id}", &["get", "patch"]),
        ("/api/health", &["get"]),
    ] {
        for method in methods {
            let op = &paths[path][*method];
            assert!(op.is_object(), "{method} {path} missing from the spec");
            assert!(
                op["responses"].as_object().unwrap().len() >= 2,
                "{method} {path} documents its errors"
            );
        }
    }
    assert!(spec.body["components"]["schemas"]["ErrorBody"].is_object());

    let redirect = app.get("/api/docs", None).await;
    assert_eq!(redirect.status.as_u16(), 308);
    let page = app.get("/api/docs/", None).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.text.contains("swagger"), "{}", page.text);
    // The UI's assets are embedded (vendored), not fetched from a CDN.
    let bundle = app.get("/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status.as_u16(), 200);
    assert!(!page.text.contains("unpkg.com") && !page.text.contains("cdn."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_fallback_serves_index_but_never_for_api() {
    let dir = tempfile::tempdir().unwrap();
    let static_dir = dir.path().join("dist");
    std::fs::create_dir(&static_dir).unwrap();
    std::fs::write(
        static_dir.join("index.html"),
        "<html><body>spa-index</body></html>",
    )
    .unwrap();
    std::fs::write(static_dir.join("app.css"), "body{}").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "top-secret").unwrap();
    let overrides = Overrides {
        vars: HashMap::from([("STATIC_DIR", static_dir.display().to_string())]),
    };
    let mut app = spawn_app_with(Backend::Sqlite, overrides).await.unwrap();
    let cleanup = app.take_cleanup();

    // A client route may hold dots (a signed survey link), and is still the SPA.
    for path in [
        "/",
        "/login",
        "/agent",
        "/portal/tickets/123",
        "/survey/0b5e.1796313324.WjAZwQ2nnUL1AE-VxoxbJITO0urbe8EDSyfoJEZOZIA",
    ] {
        let resp = app.get(path, None).await;
        assert_eq!(resp.status.as_u16(), 200, "{path}");
        assert!(resp.text.contains("spa-index"), "{path}: {}", resp.text);
    }
    let css = app.get("/app.css", None).await;
    assert_eq!(css.text, "body{}");
    app.get("/missing.js", None)
        .await
        .assert_error(404, "route_not_found");
    app.get("/api/missing", None)
        .await
        .assert_error(404, "route_not_found");
    // `/ws` is the WebSocket endpoint: a plain GET is refused, never answered with the SPA.
    app.get("/ws", None).await.assert_error(400, "bad_request");
    // Files outside STATIC_DIR are unreachable, however the path is spelled.
    for path in [
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
    ] {
        let resp = app.get(path, None).await;
        assert!(!resp.text.contains("top-secret"), "{path} leaked a file");
    }
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_assets_are_sent_precompressed_and_cached_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let static_dir = dir.path().join("dist");
    std::fs::create_dir(&static_dir).unwrap();
    std::fs::write(static_dir.join("index.html"), "<html>spa-index</html>").unwrap();
    let app_js = "app-0123456789abcdef.js";
    // Distinct contents, so the test sees which representation was sent.
    std::fs::write(static_dir.join(app_js), "plain-js").unwrap();
    std::fs::write(static_dir.join(format!("{app_js}.br")), "brotli-js").unwrap();
    std::fs::write(static_dir.join(format!("{app_js}.gz")), "gzip-js").unwrap();
    std::fs::write(static_dir.join("notes.txt"), "unhashed").unwrap();
    let overrides = Overrides {
        vars: HashMap::from([("STATIC_DIR", static_dir.display().to_string())]),
    };
    let mut app = spawn_app_with(Backend::Sqlite, overrides).await.unwrap();
    let cleanup = app.take_cleanup();

    let fetch = |path: String, accept: Option<&'static str>| {
        let mut req = app.client.get(app.url(&path));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap();
            let header = move |name: &str| {
                headers
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default()
            };
            (status, String::from_utf8_lossy(&body).into_owned(), header)
        }
    };
    let asset = format!("/{app_js}");
    for (accept, body, encoding) in [
        (Some("gzip, deflate, br"), "brotli-js", "br"),
        (Some("br;q=0.5, gzip"), "gzip-js", "gzip"),
        (Some("gzip"), "gzip-js", "gzip"),
        (Some("br;q=0, gzip;q=0"), "plain-js", ""),
        (Some("deflate"), "plain-js", ""),
        (None, "plain-js", ""),
    ] {
        let (status, text, header) = fetch(asset.clone(), accept).await;
        assert_eq!(status, 200, "{accept:?}");
        assert_eq!(text, body, "{accept:?}");
        assert_eq!(header("content-encoding"), encoding, "{accept:?}");
        assert!(header("content-type").contains("javascript"), "{accept:?}");
        assert!(
            header("vary").to_lowercase().contains("accept-encoding"),
            "{accept:?}"
        );
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable",
            "{accept:?}"
        );
        assert_eq!(header("content-disposition"), "", "{accept:?}");
    }

    // The page itself is revalidated every time, answered 304 while it is unchanged.
    for path in ["/", "/agent", "/index.html"] {
        let (status, text, header) = fetch(path.to_owned(), Some("br, gzip")).await;
        assert_eq!(status, 200, "{path}");
        assert!(text.contains("spa-index"), "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        let etag = header("etag");
        assert!(!etag.is_empty(), "{path} has an ETag");
        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
    }

    // A file without a hash in its name is cached briefly; nothing to negotiate.
    let (status, text, header) = fetch("/notes.txt".to_owned(), Some("br")).await;
    assert_eq!((status, text.as_str()), (200, "unhashed"));
    assert_eq!(header("cache-control"), "public, max-age=3600");
    assert_eq!(header("content-encoding"), "");
    assert!(!header("vary").to_lowercase().contains("accept-encoding"));

    // Dot-files and odd spellings name no file.
    std::fs::write(static_dir.join(".hidden"), "hidden").unwrap();
    for path in ["/.hidden", "/app-0123456789abcdef.js%00", "/a//notes.txt"] {
        let (status, text, _) = fetch(path.to_owned(), None).await;
        assert!(
            status == 404 || text.contains("spa-index"),
            "{path}: {status}"
        );
        assert!(
            !text.contains("hidden") && !text.contains("unhashed"),
            "{path}"
        );
    }
    cleanup.run().await;
}

async fn liveness_and_readiness(app: TestApp) {
    let live = app.get("/api/health/live", None).await;
    assert_eq!(live.assert_ok(200)["status"], "ok");
    let ready = app.get("/api/health/ready", None).await;
    let data = ready.assert_ok(200);
    assert_eq!(data["status"], "ok", "{}", ready.text);
    assert_eq!(data["database"], "ok");
    assert_eq!(data["migrations"], "ok");
    // The test servers run without background jobs.
    assert_eq!(data["jobs"], "disabled");

    // A migration rolled back: not ready, and the check says why.
    use migration::MigratorTrait;
    migration::Migrator::down(&app.db, Some(1)).await.unwrap();
    let not_ready = app.get("/api/health/ready", None).await;
    not_ready.assert_error(503, "service_unavailable");
    assert_eq!(not_ready.body["details"]["migrations"], "1 pending");
    assert_eq!(not_ready.body["details"]["database"], "ok");
    // Liveness does not depend on it.
    app.get("/api/health/live", None).await.assert_ok(200);
    migration::Migrator::up(&app.db, None).await.unwrap();
    app.get("/api/health/ready", None).await.assert_ok(200);
}

async fn every_request_has_an_id_that_errors_quote(app: TestApp) {
    let id_of = |resp: &crate::helpers::Resp| {
        resp.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("an X-Request-Id header")
    };
    // Generated when the client sends none, different each time.
    let a = app.get("/api/health", None).await;
    let b = app.get("/api/health", None).await;
    assert_ne!(id_of(&a), id_of(&b));

    // A client's id is kept and quoted by the error body.
    let resp = app
        .raw(
            app.client
                .get(app.url("/api/tickets"))
                .header("X-Request-Id", "support-case-42"),
        )
        .await;
    resp.assert_error(401, "unauthorized");
    assert_eq!(id_of(&resp), "support-case-42");
    assert_eq!(resp.body["request_id"], "support-case-42");

    // Errors from the JSON layer and unknown routes carry it too.
    let resp = app
        .raw(
            app.client
                .post(app.url("/api/auth/login"))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    resp.assert_error(400, "invalid_json");
    assert_eq!(
        resp.body["request_id"].as_str(),
        Some(id_of(&resp).as_str())
    );
    let resp = app.get("/api/no-such-route", None).await;
    assert_eq!(
        resp.body["request_id"].as_str(),
        Some(id_of(&resp).as_str())
    );

    // An id that is unsafe to log is replaced.
    let resp = app
        .raw(
            app.client
                .get(app.url("/api/health"))
                .header("X-Request-Id", "x".repeat(500)),
        )
        .await;
    assert_ne!(id_of(&resp), "x".repeat(500));
    assert!(id_of(&resp).len() <= 128);
}

/// The value of one sample line of the text format, e.g. `helpdesk_queue_length 2`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_are_for_admins_and_count_what_happens(app: TestApp) {
    use shared::Role;
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    app.get("/metrics", None)
        .await
        .assert_error(401, "unauthorized");
    app.get("/metrics", Some(&customer.token))
        .await
        .assert_error(403, "forbidden");

    let t = app.ticket(&customer.token, "Counted").await;
    let id = t["id"].as_str().unwrap();
    for _ in 0..3 {
        app.get(&format!("/api/tickets/{id}"), Some(&customer.token))
            .await
            .assert_ok(200);
    }
    let (ws, _) = crate::ws_client::Ws::signed_in(&app, &admin.token).await;
    let resp = app.get("/metrics", Some(&admin.token)).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text);
    let content_type = resp.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = &resp.text;
    // Labelled by route template, not by the concrete path.
    assert_eq!(
        sample(
            text,
            "helpdesk_http_requests_total{method=\"GET\",route=\"/api/tickets/{id}\",status=\"200\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert!(!text.contains(id), "no concrete ids in labels");
    assert_eq!(sample(text, "helpdesk_queue_length"), Some(1.0));
    assert_eq!(sample(text, "helpdesk_tickets{status=\"new\"}"), Some(1.0));
    assert_eq!(sample(text, "helpdesk_websocket_connections"), Some(1.0));
    assert!(sample(text, "helpdesk_db_pool_connections").is_some_and(|n| n >= 1.0));
    assert!(text.contains("# TYPE helpdesk_http_request_duration_seconds histogram"));
    ws.close().await;
}
