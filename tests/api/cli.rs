//! The `helpdesk` commands that change data: `seed` and `create-admin`.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::{
    cli::{self, Cli, Command},
    config::Settings,
    entity::{User, user},
    services::seed::DEMO_USERS,
};

use crate::helpers::{BCRYPT_COST, JWT_SECRET, TestApp};

crate::db_tests!(seed_is_idempotent, create_admin_creates_or_promotes);

/// Settings pointing at the test app's database, as the CLI would read them.
fn settings_for(app: &TestApp) -> Settings {
    let url = app.db_url.clone();
    let vars = HashMap::from([
        ("DATABASE_URL", url),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("BCRYPT_COST", BCRYPT_COST.to_string()),
    ]);
    Settings::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

async fn seed_is_idempotent(app: TestApp) {
    for _ in 0..2 {
        cli::run(
            Cli {
                command: Some(Command::Seed),
            },
            settings_for(&app),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        User::find().count(&app.db).await.unwrap(),
        DEMO_USERS.len() as u64
    );
    for demo in DEMO_USERS {
        let resp = app.login(demo.email, demo.password).await;
        assert_eq!(resp.assert_ok(200)["user"]["role"], demo.role.as_str());
    }
}

async fn create_admin_creates_or_promotes(app: TestApp) {
    let run = |email: &str, password: &str| {
        cli::run(
            Cli {
                command: Some(Command::CreateAdmin {
                    email: email.to_owned(),
                    password: password.to_owned(),
                    name: "Root".to_owned(),
                }),
            },
            settings_for(&app),
        )
    };
    run("Boss@Example.com", "b0ss-password").await.unwrap();
    let login = app.login("boss@example.com", "b0ss-password").await;
    assert_eq!(login.assert_ok(200)["user"]["role"], "admin");

    // Bad input is refused without touching the database.
    assert!(run("not-an-email", "b0ss-password").await.is_err());
    assert!(run("weak@example.com", "weak").await.is_err());
    let weak = User::find()
        .filter(user::Column::Email.eq("weak@example.com"))
        .one(&app.db)
        .await
        .unwrap();
    assert!(weak.is_none());

    // An existing customer becomes an active admin with the new password.
    app.register("later@example.com", "cust0mer-pass", "Later")
        .await
        .assert_ok(201);
    run("later@example.com", "n3w-admin-pass").await.unwrap();
    app.login("later@example.com", "cust0mer-pass")
        .await
        .assert_error(401, "invalid_credentials");
    let login = app.login("later@example.com", "n3w-admin-pass").await;
    assert_eq!(login.assert_ok(200)["user"]["role"], "admin");
}
