//! Rate limits under `/api`: the `RateLimit-*` headers on every answer, and `429
//! rate_limited` with `Retry-After` once a caller (user, API token, anonymous address) has
//! spent its window. Limits are set low on the test app through `RATE_LIMIT_*`.

use std::collections::HashMap;

use serde_json::json;
use shared::Role;

use crate::helpers::{Backend, Overrides, Resp, TestApp, spawn_app, spawn_app_with};

fn header(resp: &Resp, name: &str) -> Option<u64> {
    resp.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn assert_limit_headers(resp: &Resp, limit: u64) -> u64 {
    assert_eq!(
        header(resp, "ratelimit-limit"),
        Some(limit),
        "{} {:?}",
        resp.status,
        resp.headers
    );
    let reset = header(resp, "ratelimit-reset").expect("RateLimit-Reset");
    assert!((1..=60).contains(&reset), "reset {reset}");
    header(resp, "ratelimit-remaining").expect("RateLimit-Remaining")
}

async fn app_with(vars: &[(&'static str, &str)]) -> (TestApp, crate::helpers::Cleanup) {
    let overrides = Overrides {
        vars: vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    };
    let mut app = spawn_app_with(Backend::Sqlite, overrides)
        .await
        .expect("SQLite is always available");
    let cleanup = app.take_cleanup();
    (app, cleanup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_answer_carries_the_headers() {
    let mut app = spawn_app(Backend::Sqlite).await.expect("app");
    let cleanup = app.take_cleanup();
    let defaults = server::rate_limit::RateLimitSettings::default();
    let anonymous = u64::from(defaults.per_address);
    let per_user = u64::from(defaults.per_user);

    let health = app.get("/api/health", None).await;
    assert_eq!(health.status.as_u16(), 200);
    let first = assert_limit_headers(&health, anonymous);
    // The same address spends the same budget, whatever the answer.
    let missing = app.get("/api/no-such-route", None).await;
    missing.assert_error(404, "route_not_found");
    assert_eq!(assert_limit_headers(&missing, anonymous), first - 1);
    let refused = app.get("/api/tickets", Some("not-a-jwt")).await;
    refused.assert_error(401, "invalid_token");
    assert_eq!(assert_limit_headers(&refused, anonymous), first - 2);

    let user = app.user(Role::Customer).await;
    let list = app.get("/api/tickets", Some(&user.token)).await;
    list.assert_ok(200);
    assert_eq!(assert_limit_headers(&list, per_user), per_user - 1);
    let bad_body = app
        .post("/api/tickets", Some(&user.token), &json!({"nope": 1}))
        .await;
    assert_eq!(bad_body.status.as_u16(), 400, "{}", bad_body.text);
    assert_eq!(assert_limit_headers(&bad_body, per_user), per_user - 2);
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_limit_gets_429_with_retry_after() {
    let (app, cleanup) = app_with(&[("RATE_LIMIT_USER", "3")]).await;
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Agent).await;
    let remaining: Vec<u64> = {
        let mut left = Vec::new();
        for _ in 0..3 {
            let r = app.get("/api/tickets", Some(&alice.token)).await;
            r.assert_ok(200);
            left.push(assert_limit_headers(&r, 3));
        }
        left
    };
    assert_eq!(remaining, vec![2, 1, 0]);
    let over = app.get("/api/tickets", Some(&alice.token)).await;
    over.assert_error(429, "rate_limited");
    let retry = header(&over, "retry-after").expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(assert_limit_headers(&over, 3), 0);
    assert_eq!(over.body["details"]["retry_after_secs"], json!(retry));
    // A second token of the same user shares the budget: the key is the user, not the token.
    let again = app.login(&alice.email, crate::helpers::PASSWORD).await;
    again.assert_ok(200);
    let token = again.body["data"]["token"].as_str().unwrap().to_owned();
    app.get("/api/auth/me", Some(&token))
        .await
        .assert_error(429, "rate_limited");
    // Others are not affected.
    app.get("/api/tickets", Some(&bob.token))
        .await
        .assert_ok(200);
    app.get("/api/health", None).await.assert_ok(200);
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_and_forged_tokens_share_the_address_budget() {
    let (app, cleanup) = app_with(&[("RATE_LIMIT_ANONYMOUS", "4")]).await;
    app.get("/api/health", None).await.assert_ok(200);
    // A token that does not verify is no identity: it spends the address's budget.
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    app.get("/api/tickets", Some(forged))
        .await
        .assert_error(401, "invalid_token");
    app.get("/api/health", None).await.assert_ok(200);
    let last = app.get("/api/health", None).await;
    last.assert_ok(200);
    assert_eq!(assert_limit_headers(&last, 4), 0);
    let over = app.get("/api/tickets", Some(forged)).await;
    over.assert_error(429, "rate_limited");
    assert!(header(&over, "retry-after").is_some());
    // Sign-in is anonymous too.
    let login = app
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "x@example.com", "password": "whatever-long"}),
        )
        .await;
    login.assert_error(429, "rate_limited");
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_api_tokens_run_out_per_address() {
    let (app, cleanup) =
        app_with(&[("RATE_LIMIT_ANONYMOUS", "3"), ("RATE_LIMIT_TOKEN", "100")]).await;
    // Every guess is a new token with a budget of its own, but refusals count per address.
    for i in 0..3 {
        let r = app
            .get("/api/tickets", Some(&format!("hdk_guess{i}")))
            .await;
        assert_eq!(r.status.as_u16(), 401, "{}", r.text);
        assert_limit_headers(&r, 100);
    }
    let r = app.get("/api/tickets", Some("hdk_guess-next")).await;
    r.assert_error(429, "rate_limited");
    assert!(header(&r, "retry-after").is_some());
    cleanup.run().await;
}

#[test]
fn limits_are_configurable_and_checked() {
    let vars: HashMap<&str, &str> = HashMap::from([("RATE_LIMIT_USER", "0")]);
    let err = server::config::Settings::from_lookup(|k| vars.get(k).map(|v| (*v).to_owned()))
        .expect_err("0 is refused");
    assert!(err.to_string().contains("RATE_LIMIT_USER"), "{err}");
    let vars: HashMap<&str, &str> = HashMap::from([("RATE_LIMIT_WINDOW_SECS", "10")]);
    let s = server::config::Settings::from_lookup(|k| vars.get(k).map(|v| (*v).to_owned()))
        .expect("valid");
    assert_eq!(s.rate_limits.window_secs, 10);
}
