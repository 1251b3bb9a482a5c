//! Admin account management and the role checks on every endpoint.

use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use server::entity::Agent;
use shared::Role;

use crate::helpers::{PASSWORD, TestApp};

crate::db_tests!(
    every_endpoint_checks_the_role,
    admin_creates_an_agent_with_a_profile,
    admin_creates_accounts_with_validation,
    listing_filters_and_paginates,
    bad_list_queries_are_rejected,
    unknown_and_malformed_ids,
    admins_cannot_lock_themselves_out,
    promotion_takes_effect_immediately,
);

/// (method, path, body) of every endpoint; `{id}` is replaced by a real user id.
fn endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/api/auth/me", None),
        (
            Method::PUT,
            "/api/auth/me",
            Some(json!({"name": "Same Name"})),
        ),
        (Method::GET, "/api/users", None),
        (
            Method::POST,
            "/api/users",
            Some(
                json!({"email": "made-{n}@example.com", "password": "s3cure-enough", "name": "Made", "role": "customer"}),
            ),
        ),
        (Method::GET, "/api/users/{id}", None),
        (
            Method::PATCH,
            "/api/users/{id}",
            Some(json!({"name": "Patched"})),
        ),
    ]
}

/// Which roles may call an endpoint: `/api/auth/me` is for everyone signed in, `/api/users`
/// for admins only.
fn allowed(path: &str, role: Option<Role>) -> bool {
    match (path.starts_with("/api/users"), role) {
        (_, None) => false,
        (false, Some(_)) => true,
        (true, Some(role)) => role == Role::Admin,
    }
}

async fn every_endpoint_checks_the_role(app: TestApp) {
    let target = app.user(Role::Customer).await;
    let mut callers = vec![(None, None)];
    for role in Role::ALL {
        callers.push((Some(role), Some(app.user(role).await.token)));
    }
    let mut n = 0;
    for (method, path, body) in endpoints() {
        let path = path.replace("{id}", &target.id);
        for (role, token) in &callers {
            n += 1;
            let body = body.as_ref().map(|b| {
                serde_json::from_str(&b.to_string().replace("{n}", &n.to_string())).unwrap()
            });
            let resp = app
                .request(method.clone(), &path, token.as_deref(), body.as_ref())
                .await;
            let label = format!("{method} {path} as {role:?}: {}", resp.text);
            match (allowed(&path, *role), role) {
                (true, _) => assert!(resp.status.is_success(), "{label}"),
                (false, None) => assert_eq!(resp.code(), "unauthorized", "{label}"),
                (false, Some(_)) => {
                    assert_eq!(
                        (resp.status.as_u16(), resp.code()),
                        (403, "forbidden"),
                        "{label}"
                    )
                }
            }
        }
    }
}

async fn admin_creates_an_agent_with_a_profile(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let resp = app
        .post(
            "/api/users",
            Some(&admin.token),
            &json!({"email": "New.Agent@Example.com", "password": "s3cure-enough", "name": "New Agent", "role": "agent"}),
        )
        .await;
    let data = resp.assert_ok(201);
    assert_eq!(data["role"], "agent");
    assert_eq!(data["email"], "new.agent@example.com");
    let id: uuid::Uuid = data["id"].as_str().unwrap().parse().unwrap();

    let profile = Agent::find_by_id(id).one(&app.db).await.unwrap();
    let profile = profile.expect("agent profile created with the account");
    assert_eq!(profile.capacity, 5);

    let login = app.login("new.agent@example.com", "s3cure-enough").await;
    assert_eq!(login.assert_ok(200)["user"]["role"], "agent");
}

async fn admin_creates_accounts_with_validation(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let resp = app
        .post(
            "/api/users",
            Some(&admin.token),
            &json!({"email": admin.email, "password": "s3cure-enough", "name": "Dup", "role": "agent"}),
        )
        .await;
    resp.assert_error(409, "email_taken");
    let resp = app
        .post(
            "/api/users",
            Some(&admin.token),
            &json!({"email": "x@example.com", "password": "s3cure-enough", "name": "X", "role": "superuser"}),
        )
        .await;
    resp.assert_error(400, "invalid_json");
    let resp = app
        .post(
            "/api/users",
            Some(&admin.token),
            &json!({"email": "x@example.com", "password": "weak", "name": "X", "role": "agent"}),
        )
        .await;
    resp.assert_error(422, "weak_password");
}

async fn listing_filters_and_paginates(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    for _ in 0..3 {
        app.user(Role::Agent).await;
    }
    app.user(Role::Customer).await;

    let resp = app.get("/api/users?per_page=2", Some(&admin.token)).await;
    let data = resp.assert_ok(200);
    assert_eq!(data.as_array().unwrap().len(), 2);
    assert_eq!(resp.body["count"], 5);
    assert_eq!(resp.body["page"], 1);
    assert_eq!(resp.body["pages"], 3);

    let page3 = app
        .get("/api/users?per_page=2&page=3", Some(&admin.token))
        .await;
    assert_eq!(page3.assert_ok(200).as_array().unwrap().len(), 1);
    // Pages do not overlap and keep a stable order.
    let page1 = app.get("/api/users?per_page=2", Some(&admin.token)).await;
    assert_eq!(page1.body["data"], resp.body["data"]);

    let agents = app.get("/api/users?role=agent", Some(&admin.token)).await;
    let agents = agents.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(agents.len(), 3);
    assert!(agents.iter().all(|u| u["role"] == "agent"));

    let found = app
        .get(
            &format!("/api/users?q={}", &admin.email[..10].to_uppercase()),
            Some(&admin.token),
        )
        .await;
    let found = found.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["email"], admin.email.as_str());

    // LIKE wildcards in the search are literal.
    let none = app.get("/api/users?q=%25", Some(&admin.token)).await;
    assert_eq!(none.assert_ok(200).as_array().unwrap().len(), 0);

    let inactive = app.get("/api/users?active=false", Some(&admin.token)).await;
    assert_eq!(inactive.body["count"], 0);
}

async fn bad_list_queries_are_rejected(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    for query in [
        "per_page=101",
        "per_page=0",
        "page=0",
        "page=-1",
        "page=abc",
        "role=superuser",
        "unknown=1",
    ] {
        app.get(&format!("/api/users?{query}"), Some(&admin.token))
            .await
            .assert_error(400, "invalid_query");
    }
    let beyond = app.get("/api/users?page=99", Some(&admin.token)).await;
    assert_eq!(beyond.assert_ok(200).as_array().unwrap().len(), 0);
}

async fn unknown_and_malformed_ids(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/api/users/{missing}"), Some(&admin.token))
        .await
        .assert_error(404, "not_found");
    app.patch(
        &format!("/api/users/{missing}"),
        Some(&admin.token),
        &json!({"active": false}),
    )
    .await
    .assert_error(404, "not_found");
    app.get("/api/users/not-a-uuid", Some(&admin.token))
        .await
        .assert_error(400, "bad_request");
}

async fn admins_cannot_lock_themselves_out(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let path = format!("/api/users/{}", admin.id);
    app.patch(&path, Some(&admin.token), &json!({"active": false}))
        .await
        .assert_error(409, "conflict");
    app.patch(&path, Some(&admin.token), &json!({"role": "agent"}))
        .await
        .assert_error(409, "conflict");
    app.get("/api/auth/me", Some(&admin.token))
        .await
        .assert_ok(200);
}

async fn promotion_takes_effect_immediately(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let path = format!("/api/users/{}", customer.id);
    let resp = app
        .patch(&path, Some(&admin.token), &json!({"role": "agent"}))
        .await;
    assert_eq!(resp.assert_ok(200)["role"], "agent");
    let id: uuid::Uuid = customer.id.parse().unwrap();
    assert!(Agent::find_by_id(id).one(&app.db).await.unwrap().is_some());
    // The role is part of the token, so the old one is revoked; signing in again shows it.
    app.get("/api/auth/me", Some(&customer.token))
        .await
        .assert_error(401, "invalid_token");
    let login = app.login(&customer.email, PASSWORD).await;
    assert_eq!(login.assert_ok(200)["user"]["role"], "agent");
}
