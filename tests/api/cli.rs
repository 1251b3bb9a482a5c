//! The `helpdesk` commands that change data: `seed`, `create-admin` and `journeys import`.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::{
    cli::{self, Cli, Command, JourneysAction},
    config::Settings,
    entity::{User, user},
    services::seed::DEMO_USERS,
};

use crate::helpers::{BCRYPT_COST, JWT_SECRET, TestApp};

crate::db_tests!(
    seed_is_idempotent,
    create_admin_creates_or_promotes,
    journeys_move_between_installations,
);

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

async fn journeys_move_between_installations(app: TestApp) {
    let journeys = |action: JourneysAction| {
        cli::run(
            Cli {
                command: Some(Command::Journeys { action }),
            },
            settings_for(&app),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.json");
    std::fs::write(
        &original,
        serde_json::json!({
            "nodes": [
                {"id": "what", "question": "What happened?", "options": ["Broken", "Lost"],
                 "nextNodeMap": {"Broken": "how"}},
                {"id": "how", "question": "How did it break?"}
            ]
        })
        .to_string(),
    )
    .unwrap();

    // A bare definition needs a slug and a name.
    let import = |files: Vec<std::path::PathBuf>, slug: Option<&str>, name: Option<&str>| {
        JourneysAction::Import {
            files,
            slug: slug.map(str::to_owned),
            name: name.map(str::to_owned),
            activate: true,
        }
    };
    assert!(
        journeys(import(vec![original.clone()], None, None))
            .await
            .is_err()
    );
    journeys(import(
        vec![original.clone()],
        Some("broken-things"),
        Some("Broken things"),
    ))
    .await
    .unwrap();

    let admin = app.user(shared::Role::Admin).await;
    let customer = app.user(shared::Role::Customer).await;
    let listed = app.get("/api/journeys", Some(&customer.token)).await;
    let listed = listed.assert_ok(200).as_array().unwrap().clone();
    let journey = listed
        .iter()
        .find(|j| j["slug"] == "broken-things")
        .expect("imported and active");
    assert_eq!(journey["version"], 1);
    let id = journey["id"].as_str().unwrap().to_owned();

    // Export, edit the file, import again: the same journey gets a new version.
    let exported = dir.path().join("exported.json");
    journeys(JourneysAction::Export {
        slug: "broken-things".into(),
        output: Some(exported.clone()),
    })
    .await
    .unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(doc["name"], "Broken things");
    assert_eq!(doc["definition"], journey["definition"]);
    doc["definition"]["nodes"]["how"]["title"] = "How exactly?".into();
    std::fs::write(&exported, doc.to_string()).unwrap();
    journeys(import(vec![exported.clone()], None, None))
        .await
        .unwrap();
    let after = app
        .get(&format!("/api/journeys/{id}"), Some(&admin.token))
        .await;
    let after = after.assert_ok(200);
    assert_eq!(after["version"], 2);
    assert_eq!(after["definition"]["nodes"]["how"]["title"], "How exactly?");

    // An export file carries its own slug, so `--slug` is refused; a broken file changes nothing.
    assert!(
        journeys(import(vec![exported.clone()], Some("x"), Some("X")))
            .await
            .is_err()
    );
    doc["definition"]["nodes"]["how"]["next"] = "nowhere".into();
    std::fs::write(&exported, doc.to_string()).unwrap();
    let err = journeys(import(vec![exported.clone()], None, None))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("nowhere"), "{err}");
    std::fs::write(&exported, "not json").unwrap();
    assert!(journeys(import(vec![exported], None, None)).await.is_err());
    let unchanged = app
        .get(&format!("/api/journeys/{id}"), Some(&admin.token))
        .await;
    assert_eq!(unchanged.assert_ok(200)["version"], 2);

    assert!(
        journeys(JourneysAction::Export {
            slug: "no-such-journey".into(),
            output: None,
        })
        .await
        .is_err()
    );
}
