//! The authorization matrix: every operation of the OpenAPI document (and `/metrics`) is tried
//! by an anonymous caller, customer A (who owns the ticket), customer B, agent X (its
//! assignee), agent Y and an admin, on resources that belong to A and X. Each cell must give
//! the documented outcome: allowed (anything but 401/403/404), 401, 403 or 404 ("not found"
//! for what the caller may not see). An operation without a rule here fails the test, so a new
//! route cannot ship without one. Callers who are refused get the same refusal with a malformed
//! body: authorization is decided before anything is said about the body.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{TestApp, TestUser, png};

crate::db_tests!(every_route_gives_each_role_its_documented_outcome);

/// Who tries: the five signed-in actors, in the order of a rule's letters.
const ACTORS: [&str; 5] = ["customer A", "customer B", "agent X", "agent Y", "admin"];

/// One rule: for each actor of [`ACTORS`], `a` allowed, `f` 403 forbidden, `h` 404 hidden.
/// Anonymous callers get 401 unless the operation is public (`public`).
struct Rule {
    method: &'static str,
    path: &'static str,
    outcomes: &'static str,
    public: bool,
    body: fn(&Fixture) -> Option<Value>,
}

const fn rule(
    method: &'static str,
    path: &'static str,
    outcomes: &'static str,
    body: fn(&Fixture) -> Option<Value>,
) -> Rule {
    Rule {
        method,
        path,
        outcomes,
        public: false,
        body,
    }
}

const fn public(
    method: &'static str,
    path: &'static str,
    body: fn(&Fixture) -> Option<Value>,
) -> Rule {
    Rule {
        method,
        path,
        outcomes: "aaaaa",
        public: true,
        body,
    }
}

fn none(_: &Fixture) -> Option<Value> {
    None
}
fn empty(_: &Fixture) -> Option<Value> {
    Some(json!({}))
}

/// The rules, in the order they run: operations that change who may do what (archiving,
/// revoking tokens) come last.
const RULES: &[Rule] = &[
    public("post", "/api/auth/register", |_| {
        Some(json!({"email": "not-an-email", "password": "x", "name": ""}))
    }),
    public("post", "/api/auth/login", |f| {
        Some(json!({"email": f.customer_a.email, "password": crate::helpers::PASSWORD}))
    }),
    public("get", "/api/health", none),
    public("get", "/api/health/live", none),
    public("get", "/api/health/ready", none),
    rule("get", "/api/auth/me", "aaaaa", none),
    rule("put", "/api/auth/me", "aaaaa", empty),
    rule("get", "/api/users", "ffffa", none),
    rule("post", "/api/users", "ffffa", |_| {
        Some(json!({"email": "bad", "password": "x", "name": "", "role": "agent"}))
    }),
    rule("get", "/api/users/{id}", "ffffa", none),
    rule("patch", "/api/users/{id}", "ffffa", empty),
    rule("get", "/api/tickets", "aaaaa", none),
    rule("get", "/api/tickets/export.csv", "aaaaa", none),
    rule("post", "/api/tickets", "aaaaa", |_| {
        Some(json!({"subject": "Matrix", "description": "d"}))
    }),
    rule("get", "/api/tickets/{id}", "ahaha", none),
    rule("patch", "/api/tickets/{id}", "ahaha", empty),
    rule("get", "/api/tickets/{id}/history", "ahaha", none),
    rule("get", "/api/tickets/{id}/messages", "ahaha", none),
    rule("get", "/api/events", "aaaaa", none),
    rule("post", "/api/tickets/{id}/messages", "ahaha", |_| {
        Some(json!({"body": "matrix"}))
    }),
    rule("put", "/api/tickets/{id}/tags", "ffaha", |_| {
        Some(json!({"tags": ["matrix"]}))
    }),
    rule("get", "/api/tags", "ffaaa", none),
    rule("post", "/api/tickets/{id}/take", "ffaaf", empty),
    rule("post", "/api/tickets/{id}/assign", "ffffa", |f| {
        Some(json!({"agent_id": f.agent_x.id}))
    }),
    // The ticket itself as the other one: a 422 for those who may see it.
    rule("post", "/api/tickets/{id}/merge", "ffaha", |f| {
        Some(json!({"target_id": f.ticket}))
    }),
    rule("get", "/api/tickets/{id}/links", "ffaha", none),
    rule("post", "/api/tickets/{id}/links", "ffaha", |f| {
        Some(json!({"target_id": f.ticket, "relation": "related"}))
    }),
    rule("delete", "/api/tickets/{id}/links/{other}", "ffaha", none),
    rule("post", "/api/upload", "aaaaa", empty),
    rule("get", "/api/attachments/{id}", "ahaha", none),
    rule("get", "/api/agents", "ffaaa", none),
    rule("post", "/api/agents", "ffffa", |_| {
        Some(
            json!({"email": format!("new-{}@example.com", uuid::Uuid::new_v4().simple()),
                    "password": "Passw0rd-long", "name": "New agent"}),
        )
    }),
    rule("get", "/api/agents/me", "ffaaf", none),
    rule("put", "/api/agents/me/status", "ffaaf", |_| {
        Some(json!({"status": "away"}))
    }),
    rule("get", "/api/agents/{id}", "ffaaa", none),
    rule("patch", "/api/agents/{id}", "ffffa", empty),
    rule("put", "/api/agents/{id}/status", "ffffa", |_| {
        Some(json!({"status": "away"}))
    }),
    rule("get", "/api/analytics/overview", "ffaaa", none),
    rule("get", "/api/settings", "ffffa", none),
    rule("put", "/api/settings", "ffffa", empty),
    rule("get", "/api/analytics/sla", "ffffa", none),
    rule("get", "/api/analytics/tags", "ffffa", none),
    rule("get", "/api/analytics/csat", "ffffa", none),
    rule("get", "/api/tickets/{id}/csat", "ahaha", none),
    // Only the ticket's customer rates (the open ticket answers `survey_not_open`); staff are
    // refused, another customer finds nothing.
    rule("put", "/api/tickets/{id}/csat", "ahfff", |_| {
        Some(json!({"score": 5}))
    }),
    // The signed token is the credential (here: none, a 400).
    public("get", "/api/csat", none),
    public("put", "/api/csat", |_| Some(json!({"score": 5}))),
    rule("get", "/api/sla/calendars", "ffffa", none),
    rule("post", "/api/sla/calendars", "ffffa", empty),
    // The path names no calendar (the fixture's ticket id): admins pass and find nothing.
    rule("get", "/api/sla/calendars/{id}", "ffffh", none),
    rule("put", "/api/sla/calendars/{id}", "ffffh", |_| {
        Some(json!({"name": "Matrix", "time_zone": "UTC",
                    "week": {"mon": [{"start": "09:00", "end": "17:00"}]}}))
    }),
    rule("delete", "/api/sla/calendars/{id}", "ffffh", none),
    rule("post", "/api/sla/recompute", "ffffa", empty),
    rule("get", "/api/journeys", "aaaaa", none),
    rule(
        "post",
        "/api/journeys",
        "ffffa",
        |_| Some(journey_request()),
    ),
    rule("get", "/api/journeys/{id}", "aaaaa", none),
    rule("post", "/api/journeys/{id}/submit", "aafff", |_| {
        Some(json!({"answers": {"what": "x"}}))
    }),
    rule("put", "/api/journeys/{id}", "ffffa", |_| {
        Some(journey_request())
    }),
    rule("get", "/api/journeys/{id}/export", "ffffa", none),
    rule("post", "/api/journeys/{id}/activate", "ffffa", empty),
    rule("post", "/api/journeys/{id}/deactivate", "ffffa", empty),
    rule("post", "/api/journeys/{id}/archive", "ffffa", empty),
    rule("get", "/api/macros", "ffaaa", none),
    rule("post", "/api/macros", "ffaaa", |_| {
        Some(json!({"title": "Matrix", "body": "Hello {{customer.name}}"}))
    }),
    // The fixture's macro is a shared one: agents use it, only admins change it.
    rule("get", "/api/macros/{id}", "ffaaa", none),
    rule("put", "/api/macros/{id}", "ffffa", |_| {
        Some(json!({"title": "Matrix", "body": "Changed", "shared": true}))
    }),
    rule(
        "get",
        "/api/tickets/{id}/macros/{macro_id}/preview",
        "ffaha",
        none,
    ),
    rule(
        "post",
        "/api/tickets/{id}/macros/{macro_id}/apply",
        "ffaha",
        empty,
    ),
    rule("get", "/api/views", "ffaaa", none),
    rule("get", "/api/views/counts", "ffaaa", none),
    rule("post", "/api/views", "ffaaa", |_| {
        Some(json!({"name": "Matrix", "filters": {"status": "new"}}))
    }),
    // The fixture's view is a shared one: agents use it, only admins change it.
    rule("patch", "/api/views/{id}", "ffffa", |_| {
        Some(json!({"name": "Matrix"}))
    }),
    rule("get", "/metrics", "ffffa", none),
    rule("get", "/api/auth/me/notifications", "aaaaa", none),
    rule("put", "/api/auth/me/notifications", "aaaaa", empty),
    // The signed token in the link is the credential: a missing one is refused as such.
    public("get", "/api/mail/unsubscribe", none),
    public("post", "/api/mail/unsubscribe", none),
    rule("get", "/api/mail/outbox", "ffffa", none),
    // Mail is off in these servers, so there is no outbox row: admins pass and find nothing.
    rule("post", "/api/mail/outbox/{id}/resend", "ffffh", none),
    // The ingest token is the credential: no user's token is one.
    rule("post", "/api/inbound/email", "fffff", none),
    rule("get", "/api/mail/inbound", "ffffa", none),
    // No mail was received, so admins pass and find nothing.
    rule("post", "/api/mail/inbound/{id}/reprocess", "ffffh", none),
    // Each actor's attempt gets a fresh attachment of A's: a successful delete removes it.
    rule("delete", "/api/attachments/{id}", "ahfha", none),
    // Deletes the fixture's macro (admins).
    rule("delete", "/api/macros/{id}", "ffffa", none),
    rule("get", "/api/tokens", "ffaaa", none),
    rule("post", "/api/tokens", "ffaaa", |_| {
        Some(json!({"name": "", "scopes": []}))
    }),
    // The path names no token (the fixture's ticket id): staff pass and find nothing.
    rule("delete", "/api/tokens/{id}", "ffhhh", none),
    // Webhooks are admin-only. The paths name no webhook (the fixture's ticket id): admins
    // pass and find nothing; the create body is invalid (admins get a 422).
    rule("get", "/api/webhooks", "ffffa", none),
    rule("post", "/api/webhooks", "ffffa", |_| {
        Some(json!({"url": "ftp://example.com/", "events": []}))
    }),
    rule("get", "/api/webhooks/events", "ffffa", none),
    rule("get", "/api/webhooks/settings", "ffffa", none),
    rule("put", "/api/webhooks/settings", "ffffa", |_| {
        Some(json!({"allow_private_targets": false}))
    }),
    rule("get", "/api/webhooks/{id}", "ffffh", none),
    rule("patch", "/api/webhooks/{id}", "ffffh", empty),
    rule("delete", "/api/webhooks/{id}", "ffffh", none),
    rule("post", "/api/webhooks/{id}/rotate-secret", "ffffh", none),
    rule("post", "/api/webhooks/{id}/test", "ffffh", none),
    rule("get", "/api/webhooks/{id}/deliveries", "ffffa", none),
    rule(
        "post",
        "/api/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        "ffffh",
        none,
    ),
    // Deletes the fixture's view (admins).
    rule("delete", "/api/views/{id}", "ffffa", none),
    // Last: it revokes the caller's own tokens.
    rule("post", "/api/auth/logout-everywhere", "aaaaa", empty),
];

/// A valid journey (a fresh slug each time).
fn journey_request() -> Value {
    json!({"slug": format!("matrix-{}", uuid::Uuid::new_v4().simple()), "name": "Matrix",
           "description": "d", "icon": "x",
           "definition": {"startNode": "what", "nodes": {
               "what": {"type": "question", "questionType": "text", "title": "What?", "required": true, "next": "end"},
               "end": {"type": "end", "category": "c", "priority": "low", "subject": "S {what}"}}}})
}

struct Fixture {
    customer_a: TestUser,
    agent_x: TestUser,
    ticket: String,
    attachment: String,
    journey: String,
    shared_macro: String,
    shared_view: String,
}

fn concrete(path: &str, f: &Fixture) -> String {
    let id = if path.starts_with("/api/users/") {
        &f.customer_a.id
    } else if path.starts_with("/api/agents/") {
        &f.agent_x.id
    } else if path.starts_with("/api/attachments/") {
        &f.attachment
    } else if path.starts_with("/api/journeys/") {
        &f.journey
    } else if path.starts_with("/api/macros/") {
        &f.shared_macro
    } else if path.starts_with("/api/views/") {
        &f.shared_view
    } else {
        &f.ticket
    };
    path.replace("{id}", id)
        .replace("{macro_id}", &f.shared_macro)
        .replace("{other}", &f.ticket)
        .replace("{delivery_id}", &f.ticket)
}

async fn fresh_attachment(app: &TestApp, a: &TestUser, ticket: &str) -> String {
    let up = app
        .upload(&a.token, vec![("a.png", png(10))], Some(ticket))
        .await;
    up.assert_ok(201)[0]["id"].as_str().unwrap().to_owned()
}

async fn every_route_gives_each_role_its_documented_outcome(app: TestApp) {
    let customer_a = app.user(Role::Customer).await;
    let customer_b = app.user(Role::Customer).await;
    let agent_x = app.user(Role::Agent).await;
    let agent_y = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let t = app.ticket(&customer_a.token, "A's problem").await;
    let ticket = t["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/tickets/{ticket}/assign"),
        Some(&admin.token),
        &json!({"agent_id": agent_x.id}),
    )
    .await
    .assert_ok(200);
    let attachment = fresh_attachment(&app, &customer_a, &ticket).await;
    let journey = app
        .post("/api/journeys", Some(&admin.token), &journey_request())
        .await;
    let journey = journey.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/journeys/{journey}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let shared_macro = app
        .post(
            "/api/macros",
            Some(&admin.token),
            &json!({"title": "Thanks", "body": "Thanks, {{customer.name}}", "shared": true}),
        )
        .await;
    let shared_macro = shared_macro.assert_ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared_view = app
        .post(
            "/api/views",
            Some(&admin.token),
            &json!({"name": "Everything", "filters": {}, "shared": true}),
        )
        .await;
    let shared_view = shared_view.assert_ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut fixture = Fixture {
        customer_a: customer_a.clone(),
        agent_x: agent_x.clone(),
        ticket,
        attachment,
        journey,
        shared_macro,
        shared_view,
    };
    let actors = [&customer_a, &customer_b, &agent_x, &agent_y, &admin];

    // Every documented operation has a rule, and every rule a documented operation.
    let spec = app.get("/api/openapi.json", None).await.body;
    let mut documented: BTreeMap<(String, String), ()> = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()), ());
        }
    }
    for key in documented.keys() {
        assert!(
            RULES
                .iter()
                .any(|r| (r.method, r.path) == (key.0.as_str(), key.1.as_str())),
            "{} {} has no rule in the authorization matrix",
            key.0,
            key.1
        );
    }

    let mut wrong = Vec::new();
    for r in RULES {
        assert!(
            r.path == "/metrics"
                || documented.contains_key(&(r.method.to_owned(), r.path.to_owned())),
            "{} {} is not documented",
            r.method,
            r.path
        );
        let method = reqwest::Method::from_bytes(r.method.to_uppercase().as_bytes()).unwrap();
        // Anonymous.
        let path = concrete(r.path, &fixture);
        let body = (r.body)(&fixture);
        let anon = app
            .request(method.clone(), &path, None, body.as_ref())
            .await;
        if !r.public && body.is_some() {
            let malformed = app
                .raw(
                    app.client
                        .request(method.clone(), app.url(&path))
                        .header("content-type", "application/json")
                        .body("{not json"),
                )
                .await;
            if malformed.status.as_u16() != 401 {
                wrong.push(format!(
                    "{} {} anonymous with a malformed body: {} {}",
                    r.method,
                    r.path,
                    malformed.status,
                    malformed.code()
                ));
            }
        }
        let denied = matches!(anon.status.as_u16(), 401 | 403 | 404);
        if r.public == denied {
            wrong.push(format!(
                "{} {} anonymous: {} {}",
                r.method,
                r.path,
                anon.status,
                anon.code()
            ));
        }
        for (actor, (name, expected)) in actors.iter().zip(ACTORS.iter().zip(r.outcomes.chars())) {
            if r.method == "delete" && r.path == "/api/attachments/{id}" {
                fixture.attachment = fresh_attachment(&app, &customer_a, &fixture.ticket).await;
            }
            let path = concrete(r.path, &fixture);
            let body = (r.body)(&fixture);
            let resp = app
                .request(method.clone(), &path, Some(&actor.token), body.as_ref())
                .await;
            let got = match resp.status.as_u16() {
                401 => 'u',
                403 => 'f',
                404 => 'h',
                _ => 'a',
            };
            // Whoever may not call the route learns nothing about the body: a malformed one
            // gets the same refusal.
            // (A 404 for what the caller may not see is decided by the resource; a
            // malformed body says nothing about that, since an unknown id answers the same.)
            if expected == 'f' && body.is_some() {
                let malformed = app
                    .raw(
                        app.client
                            .request(method.clone(), app.url(&path))
                            .bearer_auth(&actor.token)
                            .header("content-type", "application/json")
                            .body("{not json"),
                    )
                    .await;
                if malformed.status != resp.status {
                    wrong.push(format!(
                        "{} {} as {name} with a malformed body: {} {} (a well-formed one: {})",
                        r.method,
                        r.path,
                        malformed.status,
                        malformed.code(),
                        resp.status
                    ));
                }
            }
            if got != expected {
                wrong.push(format!(
                    "{} {} as {name}: expected {expected}, got {} {}",
                    r.method,
                    r.path,
                    resp.status,
                    resp.code()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "authorization matrix:\n{}",
        wrong.join("\n")
    );
}
