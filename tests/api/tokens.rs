//! API tokens: creating, listing and revoking them; the scope every route needs (a matrix over
//! every operation of the OpenAPI document); revocation, expiry and the owner's state taking
//! effect on the next request; the WebSocket accepting a token with `tickets:read`.

use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use shared::Role;

use crate::{
    helpers::{TestApp, TestUser},
    ws_client::{WAIT, Ws},
};

crate::db_tests!(
    staff_create_list_and_revoke_tokens,
    every_scoped_route_needs_its_scope,
    revoked_expired_and_disabled_tokens_are_refused,
    a_token_never_outranks_its_owner,
    the_websocket_takes_a_token_with_tickets_read,
);

const ALL_SCOPES: [&str; 7] = [
    "tickets:read",
    "tickets:write",
    "messages:write",
    "journeys:read",
    "journeys:write",
    "analytics:read",
    "admin",
];

/// Creates a token as `owner` and returns (its DTO, its secret).
async fn token(app: &TestApp, owner: &TestUser, scopes: &[&str]) -> (Value, String) {
    let resp = app
        .post(
            "/api/tokens",
            Some(&owner.token),
            &json!({"name": format!("test {}", scopes.join(" ")), "scopes": scopes}),
        )
        .await;
    let data = resp.assert_ok(201);
    let secret = data["secret"].as_str().unwrap().to_owned();
    (data["token"].clone(), secret)
}

async fn staff_create_list_and_revoke_tokens(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let other_agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;

    // Created: the secret once, in the answer.
    let resp = app
        .post(
            "/api/tokens",
            Some(&admin.token),
            &json!({"name": "  CRM sync ", "scopes": ["tickets:read", "tickets:write", "tickets:read"],
                    "expires_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339()}),
        )
        .await;
    let created = resp.assert_ok(201).clone();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hdk_"), "{secret}");
    assert!(secret.len() >= 4 + 43, "{secret}");
    let dto = &created["token"];
    assert_eq!(dto["name"], "CRM sync");
    assert_eq!(dto["scopes"], json!(["tickets:read", "tickets:write"]));
    assert_eq!(dto["owner"]["id"], admin.id.as_str());
    assert!(secret.starts_with(dto["prefix"].as_str().unwrap()));
    assert!(dto["last_used_at"].is_null());
    let id = dto["id"].as_str().unwrap().to_owned();

    // It works like a login token, within its scopes, and its use is recorded.
    app.get("/api/tickets", Some(&secret)).await.assert_ok(200);
    let opened = app
        .post(
            "/api/tickets",
            Some(&secret),
            &json!({"subject": "From the CRM", "description": "Created with a token.",
                    "customer_id": customer.id}),
        )
        .await;
    opened.assert_ok(201);

    // Listed without the secret, ever.
    let list = app.get("/api/tokens", Some(&admin.token)).await;
    let items = list.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", list.text);
    assert_eq!(items[0]["id"], id.as_str());
    assert!(items[0].get("secret").is_none());
    assert!(!list.text.contains(&secret[4..]), "{}", list.text);
    assert!(items[0]["last_used_at"].is_string(), "{}", list.text);

    // Agents hold personal tokens; they see only their own.
    let (agent_dto, agent_secret) = token(&app, &agent, &["tickets:read"]).await;
    let mine = app.get("/api/tokens", Some(&agent.token)).await;
    let mine = mine.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], agent_dto["id"]);
    app.get("/api/tokens?all=true", Some(&agent.token))
        .await
        .assert_error(403, "forbidden");
    let everyone = app.get("/api/tokens?all=true", Some(&admin.token)).await;
    assert_eq!(everyone.assert_ok(200).as_array().unwrap().len(), 2);
    assert_eq!(everyone.body["count"], 2);

    // Someone else's token is not found; an admin may revoke anyone's.
    let agent_token_path = format!("/api/tokens/{}", agent_dto["id"].as_str().unwrap());
    let other = app
        .request(
            Method::DELETE,
            &agent_token_path,
            Some(&other_agent.token),
            None,
        )
        .await;
    other.assert_error(404, "not_found");
    app.get("/api/tickets", Some(&agent_secret))
        .await
        .assert_ok(200);

    // Revoked: refused on the next request; revoking again changes nothing.
    let path = format!("/api/tokens/{id}");
    let revoked = app
        .request(Method::DELETE, &path, Some(&admin.token), None)
        .await;
    assert_eq!(revoked.status.as_u16(), 204, "{}", revoked.text);
    app.get("/api/tickets", Some(&secret))
        .await
        .assert_error(401, "token_revoked");
    let again = app
        .request(Method::DELETE, &path, Some(&admin.token), None)
        .await;
    assert_eq!(again.status.as_u16(), 204, "{}", again.text);
    let listed = app.get("/api/tokens", Some(&admin.token)).await;
    assert!(listed.assert_ok(200)[0]["revoked_at"].is_string());
    let by_admin = app
        .request(Method::DELETE, &agent_token_path, Some(&admin.token), None)
        .await;
    assert_eq!(by_admin.status.as_u16(), 204, "{}", by_admin.text);
    app.get("/api/tickets", Some(&agent_secret))
        .await
        .assert_error(401, "token_revoked");

    // Customers hold none.
    app.post(
        "/api/tokens",
        Some(&customer.token),
        &json!({"name": "mine", "scopes": ["tickets:read"]}),
    )
    .await
    .assert_error(403, "forbidden");
    app.get("/api/tokens", Some(&customer.token))
        .await
        .assert_error(403, "forbidden");

    // Bad requests are 4xx with the field named.
    for (body, field) in [
        (json!({"name": "", "scopes": ["tickets:read"]}), "name"),
        (
            json!({"name": "x".repeat(101), "scopes": ["tickets:read"]}),
            "name",
        ),
        (json!({"name": "none", "scopes": []}), "scopes"),
        (
            json!({"name": "past", "scopes": ["tickets:read"], "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let resp = app.post("/api/tokens", Some(&admin.token), &body).await;
        resp.assert_error(422, "validation_failed");
        assert!(
            resp.body["details"]["fields"][field].is_string(),
            "{}",
            resp.text
        );
    }
    // Only admins grant `admin`.
    let resp = app
        .post(
            "/api/tokens",
            Some(&agent.token),
            &json!({"name": "escalate", "scopes": ["admin"]}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    app.post(
        "/api/tokens",
        Some(&admin.token),
        &json!({"name": "x", "scopes": ["tickets:delete"]}),
    )
    .await
    .assert_error(400, "invalid_json");

    // A token cannot mint, list or revoke tokens, nor act as the person.
    let (_, full) = token(&app, &admin, &ALL_SCOPES).await;
    app.post(
        "/api/tokens",
        Some(&full),
        &json!({"name": "child", "scopes": ["tickets:read"]}),
    )
    .await
    .assert_error(403, "session_required");
    app.get("/api/tokens", Some(&full))
        .await
        .assert_error(403, "session_required");
    app.get("/api/auth/me", Some(&full))
        .await
        .assert_error(403, "session_required");

    // Something that only looks like a token.
    app.get("/api/tickets", Some("hdk_not-a-real-token"))
        .await
        .assert_error(401, "invalid_token");
    let huge = format!("hdk_{}", "a".repeat(5000));
    app.get("/api/tickets", Some(&huge))
        .await
        .assert_error(401, "invalid_token");
}

/// Every `{param}` of a path as a fresh UUID: nothing is found, so nothing changes.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str(&uuid::Uuid::new_v4().to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

async fn every_scoped_route_needs_its_scope(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    // For each scope a token with every other one, and one with all.
    let mut without = std::collections::HashMap::new();
    for scope in ALL_SCOPES {
        let others: Vec<&str> = ALL_SCOPES.into_iter().filter(|s| *s != scope).collect();
        without.insert(scope, token(&app, &admin, &others).await.1);
    }
    let (_, full) = token(&app, &admin, &ALL_SCOPES).await;

    let spec = app.get("/api/openapi.json", None).await.body;
    assert!(spec["components"]["securitySchemes"]["api_token"].is_object());
    let mut scoped = 0;
    let mut session_only = 0;
    let mut wrong = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security: Vec<Value> = op["security"].as_array().cloned().unwrap_or_default();
            let scope = security
                .iter()
                .find_map(|r| r["api_token"][0].as_str().map(str::to_owned));
            let bearer = security.iter().any(|r| r.get("bearer").is_some());
            if scope.is_none() && !bearer {
                continue; // public, or a credential of its own
            }
            let http = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = concrete(path);
            let body = op["requestBody"]["content"]
                .get("application/json")
                .map(|_| json!({}));
            let with_full = app
                .request(http.clone(), &concrete, Some(&full), body.as_ref())
                .await;
            let Some(scope) = scope else {
                // Documented as taking a login session only: tokens are refused there.
                session_only += 1;
                if (with_full.status.as_u16(), with_full.code()) != (403, "session_required") {
                    wrong.push(format!(
                        "{method} {path} (session only) with a token: {} {}",
                        with_full.status,
                        with_full.code()
                    ));
                }
                continue;
            };
            scoped += 1;
            let lacking = app
                .request(
                    http.clone(),
                    &concrete,
                    Some(&without[scope.as_str()]),
                    body.as_ref(),
                )
                .await;
            if (lacking.status.as_u16(), lacking.code()) != (403, "insufficient_scope")
                || lacking.body["details"]["scope"] != scope.as_str()
            {
                wrong.push(format!(
                    "{method} {path} without {scope}: {} {}",
                    lacking.status, lacking.text
                ));
            }
            // With the scope the token does what its owner's session does.
            let session = app
                .request(http.clone(), &concrete, Some(&admin.token), body.as_ref())
                .await;
            if with_full.status != session.status
                || matches!(with_full.code(), "insufficient_scope" | "session_required")
                || with_full.status.as_u16() == 401
            {
                wrong.push(format!(
                    "{method} {path} with {scope}: {} {} (the session: {} {})",
                    with_full.status,
                    with_full.code(),
                    session.status,
                    session.code()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(scoped > 50, "only {scoped} scoped operations");
    assert!(
        session_only >= 8,
        "only {session_only} session-only operations"
    );

    // Outside the document: the metrics scrape is administration.
    app.get("/metrics", Some(&without["admin"]))
        .await
        .assert_error(403, "insufficient_scope");
    let scrape = app.get("/metrics", Some(&full)).await;
    assert_eq!(scrape.status.as_u16(), 200, "{}", scrape.text);
}

async fn revoked_expired_and_disabled_tokens_are_refused(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;

    // Expired: its expiry moved into the past in the database.
    let (dto, secret) = token(&app, &admin, &["tickets:read"]).await;
    app.get("/api/tickets", Some(&secret)).await.assert_ok(200);
    let id: uuid::Uuid = dto["id"].as_str().unwrap().parse().unwrap();
    server::entity::ApiToken::update_many()
        .col_expr(
            server::entity::api_token::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(server::entity::api_token::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    app.get("/api/tickets", Some(&secret))
        .await
        .assert_error(401, "token_expired");

    // Revoked (the other cases are in `staff_create_list_and_revoke_tokens`), also for a
    // token that was never used.
    let (dto, unused) = token(&app, &agent, &["tickets:read"]).await;
    let path = format!("/api/tokens/{}", dto["id"].as_str().unwrap());
    let resp = app
        .request(Method::DELETE, &path, Some(&agent.token), None)
        .await;
    assert_eq!(resp.status.as_u16(), 204, "{}", resp.text);
    app.get("/api/tickets", Some(&unused))
        .await
        .assert_error(401, "token_revoked");

    // The owner deactivated: refused at once; reactivated: accepted again (deactivation ends
    // its login tokens for good; its API tokens are refused only while it is deactivated).
    let (_, agent_secret) = token(&app, &agent, &["tickets:read"]).await;
    app.get("/api/tickets", Some(&agent_secret))
        .await
        .assert_ok(200);
    let user_path = format!("/api/users/{}", agent.id);
    app.patch(&user_path, Some(&admin.token), &json!({"active": false}))
        .await
        .assert_ok(200);
    app.get("/api/tickets", Some(&agent_secret))
        .await
        .assert_error(401, "account_disabled");
    app.patch(&user_path, Some(&admin.token), &json!({"active": true}))
        .await
        .assert_ok(200);
    app.get("/api/tickets", Some(&agent_secret))
        .await
        .assert_ok(200);
}

async fn a_token_never_outranks_its_owner(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let other_admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;

    let (_, secret) = token(&app, &admin, &["admin", "tickets:read"]).await;
    app.get("/api/users", Some(&secret)).await.assert_ok(200);

    // The owner demoted: the token's `admin` scope no longer reaches admin routes.
    app.patch(
        &format!("/api/users/{}", admin.id),
        Some(&other_admin.token),
        &json!({"role": "agent"}),
    )
    .await
    .assert_ok(200);
    for path in ["/api/users", "/api/settings", "/api/sla/calendars"] {
        app.get(path, Some(&secret))
            .await
            .assert_error(403, "forbidden");
    }
    // What an agent may do it still does.
    app.get("/api/tickets", Some(&secret)).await.assert_ok(200);

    // An agent's token with every scope an agent may grant is still an agent's.
    let others: Vec<&str> = ALL_SCOPES.into_iter().filter(|s| *s != "admin").collect();
    let (_, agent_secret) = token(&app, &agent, &others).await;
    app.get("/api/users", Some(&agent_secret))
        .await
        .assert_error(403, "insufficient_scope");
    app.post("/api/journeys", Some(&agent_secret), &json!({}))
        .await
        .assert_error(403, "forbidden");
    app.get("/api/analytics/sla", Some(&agent_secret))
        .await
        .assert_error(403, "forbidden");
}

async fn the_websocket_takes_a_token_with_tickets_read(app: TestApp) {
    let agent = app.user(Role::Agent).await;
    let (_, reader) = token(&app, &agent, &["tickets:read"]).await;
    let (_, writer) = token(&app, &agent, &["tickets:write"]).await;

    let (ws, welcome) = Ws::signed_in(&app, &reader).await;
    assert_eq!(welcome["user_id"], agent.id.as_str());
    ws.close().await;

    let mut ws = Ws::connect(&app, &format!("token={writer}")).await;
    let refused = ws.next(WAIT).await.expect("an error before the close");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "insufficient_scope", "{refused}");
    assert_eq!(refused["details"]["scope"], "tickets:read", "{refused}");
    assert!(ws.next(WAIT).await.is_none());
    assert!(ws.closed);
}
