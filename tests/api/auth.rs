//! Registration, sign-in, tokens and one's own profile.

use chrono::{Duration, Utc};
use serde_json::json;
use server::auth::JwtKeys;
use shared::Role;

use crate::helpers::{JWT_SECRET, PASSWORD, TestApp};

crate::db_tests!(
    register_login_and_me,
    duplicate_email_is_a_conflict,
    bad_email_is_rejected,
    weak_password_is_rejected,
    every_invalid_field_is_reported,
    registration_cannot_choose_a_role,
    wrong_password_and_unknown_email_look_the_same,
    repeated_failures_are_rate_limited,
    missing_or_malformed_authorization,
    tampered_and_forged_tokens_are_rejected,
    expired_token_is_rejected,
    deactivated_user_is_locked_out,
    password_change_revokes_old_tokens,
    name_change_is_validated,
    time_zone_is_an_iana_name,
);

async fn register_login_and_me(app: TestApp) {
    let resp = app
        .register(
            "  New.Customer@Example.COM ",
            "s3cure-enough",
            "  Nora New ",
        )
        .await;
    let data = resp.assert_ok(201);
    assert_eq!(data["user"]["email"], "new.customer@example.com");
    assert_eq!(data["user"]["name"], "Nora New");
    assert_eq!(data["user"]["role"], "customer");
    assert!(data.get("password_hash").is_none() && data["user"].get("password_hash").is_none());
    let token = data["token"].as_str().unwrap().to_owned();

    let me = app.get("/api/auth/me", Some(&token)).await;
    assert_eq!(me.assert_ok(200)["email"], "new.customer@example.com");

    let login = app.login("NEW.customer@example.com", "s3cure-enough").await;
    let data = login.assert_ok(200);
    assert_eq!(data["user"]["role"], "customer");
    assert!(data["user"]["last_login_at"].is_string());
    assert!(data["expires_at"].is_string());
}

async fn duplicate_email_is_a_conflict(app: TestApp) {
    app.register("dup@example.com", "s3cure-enough", "First")
        .await
        .assert_ok(201);
    app.register("DUP@example.com", "0ther-password", "Second")
        .await
        .assert_error(409, "email_taken");
}

async fn bad_email_is_rejected(app: TestApp) {
    for email in [
        "",
        "no-at-sign",
        "a@b",
        "two@@example.com",
        "sp ace@example.com",
    ] {
        let resp = app.register(email, "s3cure-enough", "Name").await;
        resp.assert_error(422, "invalid_email");
        assert!(resp.body["details"]["fields"]["email"].is_string());
    }
}

async fn weak_password_is_rejected(app: TestApp) {
    for password in [
        "short1",
        "onlyletters",
        "1234567890",
        &format!("a1{}", "x".repeat(80)),
    ] {
        let resp = app.register("weak@example.com", password, "Name").await;
        resp.assert_error(422, "weak_password");
        assert!(resp.body["details"]["fields"]["password"].is_string());
    }
    // Nothing was created by the failed attempts.
    app.register("weak@example.com", "s3cure-enough", "Name")
        .await
        .assert_ok(201);
}

async fn every_invalid_field_is_reported(app: TestApp) {
    let resp = app.register("nope", "short", "   ").await;
    resp.assert_error(422, "validation_failed");
    let fields = &resp.body["details"]["fields"];
    for field in ["email", "password", "name"] {
        assert!(fields[field].is_string(), "{field} missing in {fields}");
    }
}

async fn registration_cannot_choose_a_role(app: TestApp) {
    let resp = app
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "sneaky@example.com", "password": "s3cure-enough", "name": "S", "role": "admin"}),
        )
        .await;
    resp.assert_error(400, "invalid_json");
    app.login("sneaky@example.com", "s3cure-enough")
        .await
        .assert_error(401, "invalid_credentials");
}

async fn wrong_password_and_unknown_email_look_the_same(app: TestApp) {
    let user = app.user(Role::Customer).await;
    let wrong = app.login(&user.email, "wr0ng-password").await;
    let unknown = app.login("nobody@example.com", "wr0ng-password").await;
    let garbage = app.login("not an email", "wr0ng-password").await;
    wrong.assert_error(401, "invalid_credentials");
    unknown.assert_error(401, "invalid_credentials");
    garbage.assert_error(401, "invalid_credentials");
    // Identical but for the request id every response carries.
    let without_id = |body: &serde_json::Value| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(without_id(&wrong.body), without_id(&unknown.body));
    assert_eq!(without_id(&wrong.body), without_id(&garbage.body));
}

async fn repeated_failures_are_rate_limited(app: TestApp) {
    let user = app.user(Role::Customer).await;
    for _ in 0..10 {
        app.login(&user.email, "wr0ng-password")
            .await
            .assert_error(401, "invalid_credentials");
    }
    let limited = app.login(&user.email, "wr0ng-password").await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.headers.get("retry-after").is_some());
    // Even the right password waits until the window passes.
    app.login(&user.email, PASSWORD)
        .await
        .assert_error(429, "rate_limited");
    // Other accounts are unaffected.
    let other = app.user(Role::Customer).await;
    app.login(&other.email, PASSWORD).await.assert_ok(200);
}

async fn missing_or_malformed_authorization(app: TestApp) {
    app.get("/api/auth/me", None)
        .await
        .assert_error(401, "unauthorized");
    let user = app.user(Role::Customer).await;
    for header in [
        format!("Token {}", user.token),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        user.token.clone(),
    ] {
        let resp = app
            .raw(
                app.client
                    .get(app.url("/api/auth/me"))
                    .header("Authorization", header),
            )
            .await;
        resp.assert_error(401, "invalid_token");
    }
}

async fn tampered_and_forged_tokens_are_rejected(app: TestApp) {
    let user = app.user(Role::Customer).await;
    // Swap the payload for one claiming the admin role, keeping the original signature.
    let parts: Vec<&str> = user.token.split('.').collect();
    let forged_payload = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
        let claims = B64.decode(parts[1]).unwrap();
        let mut claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        claims["role"] = json!("admin");
        B64.encode(serde_json::to_vec(&claims).unwrap())
    };
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    app.get("/api/users", Some(&tampered))
        .await
        .assert_error(401, "invalid_token");

    let other_secret = JwtKeys::new("a-completely-different-secret-value");
    let (forged, _) = other_secret
        .issue(user.id.parse().unwrap(), Role::Admin, 0, Utc::now())
        .unwrap();
    app.get("/api/users", Some(&forged))
        .await
        .assert_error(401, "invalid_token");

    // A correctly signed token for a user that does not exist.
    let keys = JwtKeys::new(JWT_SECRET);
    let (ghost, _) = keys
        .issue(uuid::Uuid::new_v4(), Role::Admin, 0, Utc::now())
        .unwrap();
    app.get("/api/auth/me", Some(&ghost))
        .await
        .assert_error(401, "invalid_token");
}

async fn expired_token_is_rejected(app: TestApp) {
    let user = app.user(Role::Agent).await;
    let keys = JwtKeys::new(JWT_SECRET);
    let (expired, expires_at) = keys
        .issue(
            user.id.parse().unwrap(),
            Role::Agent,
            0,
            Utc::now() - Duration::days(8),
        )
        .unwrap();
    assert!(expires_at < Utc::now());
    app.get("/api/auth/me", Some(&expired))
        .await
        .assert_error(401, "token_expired");
}

async fn deactivated_user_is_locked_out(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    app.get("/api/auth/me", Some(&agent.token))
        .await
        .assert_ok(200);

    let path = format!("/api/users/{}", agent.id);
    let resp = app
        .patch(&path, Some(&admin.token), &json!({"active": false}))
        .await;
    assert_eq!(resp.assert_ok(200)["active"], false);

    app.get("/api/auth/me", Some(&agent.token))
        .await
        .assert_error(401, "account_disabled");
    app.login(&agent.email, PASSWORD)
        .await
        .assert_error(401, "account_disabled");

    app.patch(&path, Some(&admin.token), &json!({"active": true}))
        .await
        .assert_ok(200);
    // Old tokens stay revoked after reactivation; a fresh login works.
    app.get("/api/auth/me", Some(&agent.token))
        .await
        .assert_error(401, "invalid_token");
    app.login(&agent.email, PASSWORD).await.assert_ok(200);
}

async fn password_change_revokes_old_tokens(app: TestApp) {
    let user = app.user(Role::Customer).await;
    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"current_password": "wr0ng-password", "new_password": "n3w-password"}),
        )
        .await;
    resp.assert_error(422, "invalid_credentials");

    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"new_password": "n3w-password"}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert!(resp.body["details"]["fields"]["current_password"].is_string());

    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"current_password": PASSWORD, "new_password": "weak"}),
        )
        .await;
    resp.assert_error(422, "weak_password");

    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"current_password": PASSWORD, "new_password": "n3w-password"}),
        )
        .await;
    let new_token = resp.assert_ok(200)["token"].as_str().unwrap().to_owned();

    app.get("/api/auth/me", Some(&user.token))
        .await
        .assert_error(401, "invalid_token");
    app.get("/api/auth/me", Some(&new_token))
        .await
        .assert_ok(200);
    app.login(&user.email, PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    app.login(&user.email, "n3w-password").await.assert_ok(200);
}

async fn name_change_is_validated(app: TestApp) {
    let user = app.user(Role::Agent).await;
    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"name": "  Renamed Agent "}),
        )
        .await;
    assert_eq!(resp.assert_ok(200)["user"]["name"], "Renamed Agent");
    // A name change alone does not sign the user out.
    app.get("/api/auth/me", Some(&user.token))
        .await
        .assert_ok(200);
    app.put("/api/auth/me", Some(&user.token), &json!({"name": ""}))
        .await
        .assert_error(422, "validation_failed");
    app.put("/api/auth/me", Some(&user.token), &json!({"role": "admin"}))
        .await
        .assert_error(400, "invalid_json");
}

async fn time_zone_is_an_iana_name(app: TestApp) {
    let user = app.user(Role::Customer).await;
    let me = app.get("/api/auth/me", Some(&user.token)).await;
    assert!(me.assert_ok(200)["time_zone"].is_null());
    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"time_zone": " America/New_York "}),
        )
        .await;
    assert_eq!(resp.assert_ok(200)["user"]["time_zone"], "America/New_York");
    // The zone alone does not sign the user out, and the next request sees it.
    let me = app.get("/api/auth/me", Some(&user.token)).await;
    assert_eq!(me.assert_ok(200)["time_zone"], "America/New_York");
    for bad in [
        json!("Mars/Olympus"),
        json!("+02:00"),
        json!("europe/berlin"),
        json!("Europe/Ber\tlin"),
        json!("x".repeat(65)),
    ] {
        let resp = app
            .put(
                "/api/auth/me",
                Some(&user.token),
                &json!({"time_zone": bad}),
            )
            .await;
        resp.assert_error(400, "invalid_time_zone");
        assert!(
            resp.body["details"]["fields"]["time_zone"].is_string(),
            "{}",
            resp.text
        );
    }
    app.put("/api/auth/me", Some(&user.token), &json!({"time_zone": 7}))
        .await
        .assert_error(400, "invalid_json");
    // With another bad field, every problem is listed.
    let resp = app
        .put(
            "/api/auth/me",
            Some(&user.token),
            &json!({"time_zone": "Nowhere", "name": ""}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    let fields = &resp.body["details"]["fields"];
    assert!(
        fields["time_zone"].is_string() && fields["name"].is_string(),
        "{}",
        resp.text
    );
    // Nothing bad was stored; an empty string clears the zone.
    let me = app.get("/api/auth/me", Some(&user.token)).await;
    assert_eq!(me.assert_ok(200)["time_zone"], "America/New_York");
    let resp = app
        .put("/api/auth/me", Some(&user.token), &json!({"time_zone": ""}))
        .await;
    assert!(resp.assert_ok(200)["user"]["time_zone"].is_null());
}
