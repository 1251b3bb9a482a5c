//! Malformed requests get a clear 4xx with a code, never a 500.

use shared::Role;

use crate::helpers::TestApp;

crate::db_tests!(
    malformed_json_bodies,
    wrong_content_type_and_oversized_bodies,
    unknown_routes_are_json_404s,
    nul_characters_in_json_text_are_refused,
);

async fn malformed_json_bodies(app: TestApp) {
    for body in [
        "{",
        "not json",
        "[]",
        "null",
        r#"{"email": 1, "password": "x"}"#,
        r#"{"email": "a@b.co"}"#,
        r#"{"email": "a@b.co", "password": "s3cure-enough", "extra": true}"#,
        "",
    ] {
        let resp = app
            .raw(
                app.client
                    .post(app.url("/api/auth/login"))
                    .header("Content-Type", "application/json")
                    .body(body),
            )
            .await;
        resp.assert_error(400, "invalid_json");
    }
}

async fn wrong_content_type_and_oversized_bodies(app: TestApp) {
    let resp = app
        .raw(
            app.client
                .post(app.url("/api/auth/register"))
                .header("Content-Type", "text/plain")
                .body(r#"{"email":"a@b.co","password":"s3cure-enough","name":"A"}"#),
        )
        .await;
    resp.assert_error(415, "unsupported_media_type");

    let huge = format!(
        r#"{{"email":"a@b.co","password":"s3cure-enough","name":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let resp = app
        .raw(
            app.client
                .post(app.url("/api/auth/register"))
                .header("Content-Type", "application/json")
                .body(huge),
        )
        .await;
    resp.assert_error(413, "payload_too_large");
    // Nothing was created.
    app.login("a@b.co", "s3cure-enough")
        .await
        .assert_error(401, "invalid_credentials");
}

async fn unknown_routes_are_json_404s(app: TestApp) {
    for path in ["/api/nope", "/api", "/api/users/x/y/z", "/ws/unknown"] {
        app.get(path, None)
            .await
            .assert_error(404, "route_not_found");
    }
    // A known path with a method it does not serve.
    app.raw(app.client.delete(app.url("/api/auth/login")))
        .await
        .assert_error(404, "route_not_found");
}

/// PostgreSQL stores no text or `jsonb` with a NUL character: such input is a 400 on both
/// databases, wherever it hides in the body, while the six characters `\u0000` as text are
/// fine.
async fn nul_characters_in_json_text_are_refused(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    let send = |path: &'static str, token: Option<String>, body: &'static str| {
        let mut req = app
            .client
            .post(app.url(path))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        app.raw(req)
    };
    for (path, token, body) in [
        (
            "/api/tickets",
            Some(customer.token.clone()),
            r#"{"subject": "a\u0000b", "description": "x"}"#,
        ),
        (
            "/api/tickets",
            Some(customer.token.clone()),
            r#"{"subject": "ok", "description": "tail\u0000"}"#,
        ),
        (
            "/api/auth/register",
            None,
            r#"{"email": "nul@example.com", "password": "s3cure-enough", "name": "\u0000"}"#,
        ),
        (
            "/api/journeys",
            Some(admin.token.clone()),
            r#"{"slug": "nul", "name": "N", "definition": {"startNode": "\u0000", "nodes": {}}}"#,
        ),
    ] {
        send(path, token, body)
            .await
            .assert_error(400, "invalid_json");
    }
    let tickets = app.get("/api/tickets", Some(&customer.token)).await;
    assert_eq!(tickets.body["count"], 0, "{}", tickets.text);

    // An escaped backslash: the text `\u0000`, an ordinary subject.
    let ticket = send(
        "/api/tickets",
        Some(customer.token.clone()),
        r#"{"subject": "a\\u0000b", "description": "x"}"#,
    )
    .await;
    assert_eq!(ticket.assert_ok(201)["subject"], "a\\u0000b");
}
