//! `helpdesk backup` / `restore`: a live SQLite instance backed up under write load restores
//! with everything that was acknowledged before the backup began; PostgreSQL round-trips
//! through pg_dump / pg_restore.

use std::{collections::HashMap, path::Path};

use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait, Statement};
use server::{
    config::Settings,
    entity::{Attachment, Event, Ticket, TicketHistory},
    services::backup,
};
use shared::Role;
use uuid::Uuid;

use crate::helpers::{BCRYPT_COST, Backend, JWT_SECRET, TestApp, png, spawn_app};

fn settings(database_url: &str, upload_dir: &Path) -> Settings {
    let vars = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("UPLOAD_DIR", upload_dir.display().to_string()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("BCRYPT_COST", BCRYPT_COST.to_string()),
    ]);
    Settings::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

/// Opens tickets as fast as the server takes them until `stop`; returns the ids acknowledged,
/// in order.
fn write_load(
    app: &TestApp,
    token: String,
    stop: tokio::sync::watch::Receiver<bool>,
    acked: tokio::sync::mpsc::UnboundedSender<Uuid>,
) -> tokio::task::JoinHandle<()> {
    let client = app.client.clone();
    let url = app.url("/api/tickets");
    tokio::spawn(async move {
        let mut i = 0;
        while !*stop.borrow() {
            i += 1;
            let resp = client
                .post(&url)
                .bearer_auth(&token)
                .json(&serde_json::json!({"subject": format!("Load {i}"), "description": "d"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            let body: serde_json::Value = resp.json().await.unwrap();
            let id = body["data"]["id"].as_str().unwrap().parse().unwrap();
            let _ = acked.send(id);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_sqlite_instance_backs_up_under_write_load() {
    let mut app = spawn_app(Backend::Sqlite).await.unwrap();
    let cleanup = app.take_cleanup();
    let customer = app.user(Role::Customer).await;
    let uploaded = app
        .upload(&customer.token, vec![("shot.png", png(100))], None)
        .await;
    uploaded.assert_ok(201);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let writer = write_load(&app, customer.token.clone(), stop_rx, acked_tx);
    // Let the load run, then back up in the middle of it.
    let mut before = Vec::new();
    while before.len() < 15 {
        before.push(acked_rx.recv().await.unwrap());
    }
    while let Ok(id) = acked_rx.try_recv() {
        before.push(id);
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup");
    let live = settings(&app.db_url, &app.upload_dir);
    let report = backup::backup(&app.db, &live, &dest).await.unwrap();
    assert_eq!(report.files, 1);
    // More writes after the backup, then stop.
    for _ in 0..5 {
        acked_rx.recv().await.unwrap();
    }
    stop_tx.send(true).unwrap();
    writer.await.unwrap();

    // Restore into a new place and look inside.
    let restored_db = dir.path().join("restored/helpdesk.db");
    let restored_uploads = dir.path().join("restored/uploads");
    let target = settings(
        &format!("sqlite://{}?mode=rwc", restored_db.display()),
        &restored_uploads,
    );
    backup::restore(&target, &dest, false).unwrap();
    assert_eq!(std::fs::read_dir(&restored_uploads).unwrap().count(), 1);
    let db = Database::connect(&target.database_url).await.unwrap();
    let check = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
    for id in &before {
        assert!(
            Ticket::find_by_id(*id).one(&db).await.unwrap().is_some(),
            "ticket {id} was acknowledged before the backup but is missing"
        );
    }
    // Consistent: every ticket in the copy has its history row and its new-ticket event.
    let tickets = Ticket::find().count(&db).await.unwrap();
    assert!(tickets >= before.len() as u64);
    assert_eq!(TicketHistory::find().count(&db).await.unwrap(), tickets);
    let created_events = Event::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "new-ticket")
        .count() as u64;
    assert_eq!(created_events, tickets);
    assert_eq!(Attachment::find().count(&db).await.unwrap(), 1);

    // Restoring over an existing database needs --force.
    let again = backup::restore(&target, &dest, false).unwrap_err();
    assert!(again.to_string().contains("--force"), "{again}");
    backup::restore(&target, &dest, true).unwrap();
    // A backup never writes into a directory that holds something.
    let refused = backup::backup(&app.db, &live, &dest).await.unwrap_err();
    assert!(refused.to_string().contains("not empty"), "{refused}");
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_round_trips_through_pg_dump() {
    let Some(mut app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let customer = app.user(Role::Customer).await;
    let kept = app.ticket(&customer.token, "Kept").await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup");
    let live = settings(&app.db_url, &app.upload_dir);
    let report = backup::backup(&app.db, &live, &dest).await.unwrap();
    assert!(report.database.ends_with(backup::PG_DUMP_FILE));
    let later = app.ticket(&customer.token, "After the backup").await;

    backup::restore(&live, &dest, true).unwrap();
    let db = Database::connect(&app.db_url).await.unwrap();
    let id = |t: &serde_json::Value| t["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    assert!(
        Ticket::find_by_id(id(&kept))
            .one(&db)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        Ticket::find_by_id(id(&later))
            .one(&db)
            .await
            .unwrap()
            .is_none()
    );
    db.close().await.unwrap();
    cleanup.run().await;
}
