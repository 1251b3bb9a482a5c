//! Uploads: type checks by content, limits, storage, visibility and deletion.

use serde_json::json;
use shared::Role;

use crate::helpers::{TestApp, png};

crate::db_tests!(
    upload_attach_download_delete,
    uploads_are_checked_by_content_and_size,
    attachments_follow_ticket_visibility,
    attachment_ids_must_be_your_own_unlinked_uploads,
);

fn stored_files(app: &TestApp) -> Vec<String> {
    std::fs::read_dir(&app.upload_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn upload_attach_download_delete(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let resp = app
        .upload(
            &customer.token,
            vec![
                ("../../etc/passwd.png", png(100)),
                ("photo.gif", b"GIF89a-rest".to_vec()),
            ],
            None,
        )
        .await;
    let uploaded = resp.assert_ok(201).as_array().unwrap().clone();
    assert_eq!(uploaded.len(), 2);
    assert_eq!(uploaded[0]["file_name"], "passwd.png");
    assert_eq!(uploaded[0]["content_type"], "image/png");
    assert_eq!(uploaded[0]["size_bytes"], 108);
    assert_eq!(uploaded[1]["content_type"], "image/gif");
    let files = stored_files(&app);
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| !f.contains("passwd")), "{files:?}");

    let ids: Vec<&str> = uploaded.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let t = app
        .post(
            "/api/tickets",
            Some(&customer.token),
            &json!({"subject": "With pictures", "description": "see attached", "attachment_ids": ids}),
        )
        .await;
    let t = t.assert_ok(201).clone();
    assert_eq!(t["attachments"].as_array().unwrap().len(), 2);

    let url = uploaded[0]["url"].as_str().unwrap();
    let download = app
        .client
        .get(app.url(url))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("passwd.png")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), png(100));

    // Deleting removes the row and the file.
    let del = app
        .client
        .delete(app.url(url))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    assert_eq!(stored_files(&app).len(), 1);
    app.get(url, Some(&customer.token))
        .await
        .assert_error(404, "not_found");
    let t = app
        .get(
            &format!("/api/tickets/{}", t["id"].as_str().unwrap()),
            Some(&customer.token),
        )
        .await;
    assert_eq!(t.assert_ok(200)["attachments"].as_array().unwrap().len(), 1);

    // Uploading straight to a ticket.
    let direct = app
        .upload(
            &customer.token,
            vec![("x.webp", b"RIFF\0\0\0\0WEBPVP8 ".to_vec())],
            t.body["data"]["id"].as_str(),
        )
        .await;
    assert_eq!(direct.assert_ok(201)[0]["ticket_id"], t.body["data"]["id"]);
}

async fn uploads_are_checked_by_content_and_size(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let script = b"#!/bin/sh\nrm -rf /\n".to_vec();
    app.upload(&customer.token, vec![("innocent.png", script)], None)
        .await
        .assert_error(415, "unsupported_media_type");
    app.upload(&customer.token, vec![("empty.png", Vec::new())], None)
        .await
        .assert_error(415, "unsupported_media_type");
    app.upload(
        &customer.token,
        vec![("drawing.svg", b"<svg onload=alert(1)/>".to_vec())],
        None,
    )
    .await
    .assert_error(415, "unsupported_media_type");
    // One bad file rejects the whole upload.
    app.upload(
        &customer.token,
        vec![("good.png", png(10)), ("bad.png", b"nope".to_vec())],
        None,
    )
    .await
    .assert_error(415, "unsupported_media_type");

    let big = app
        .upload(
            &customer.token,
            vec![("big.png", png(5 * 1024 * 1024))],
            None,
        )
        .await;
    big.assert_error(413, "payload_too_large");
    let exactly = app
        .upload(
            &customer.token,
            vec![("max.png", png(5 * 1024 * 1024 - 8))],
            None,
        )
        .await;
    exactly.assert_ok(201);

    let zero = app.upload(&customer.token, vec![], None).await;
    zero.assert_error(422, "validation_failed");
    let many: Vec<(&str, Vec<u8>)> = (0..11).map(|_| ("p.png", png(10))).collect();
    app.upload(&customer.token, many, None)
        .await
        .assert_error(422, "validation_failed");
    let ten: Vec<(&str, Vec<u8>)> = (0..10).map(|_| ("p.png", png(10))).collect();
    let ok = app.upload(&customer.token, ten, None).await;
    assert_eq!(ok.assert_ok(201).as_array().unwrap().len(), 10);
    // Only the accepted uploads are on disk (1 max-size + 10).
    assert_eq!(stored_files(&app).len(), 11);

    let not_multipart = app
        .post("/api/upload", Some(&customer.token), &json!({"files": []}))
        .await;
    not_multipart.assert_error(415, "unsupported_media_type");
    app.upload(&customer.token, vec![("p.png", png(1))], Some("not-a-uuid"))
        .await
        .assert_error(422, "validation_failed");
    let anonymous = app
        .raw(app.client.post(app.url("/api/upload")).multipart(
            reqwest::multipart::Form::new().part(
                "files",
                reqwest::multipart::Part::bytes(png(1)).file_name("a.png"),
            ),
        ))
        .await;
    anonymous.assert_error(401, "unauthorized");
}

async fn attachments_follow_ticket_visibility(app: TestApp) {
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let t = app.ticket(&alice.token, "Alice's").await;
    let tid = t["id"].as_str().unwrap();
    let up = app
        .upload(&alice.token, vec![("a.png", png(5))], Some(tid))
        .await;
    let url = up.assert_ok(201)[0]["url"].as_str().unwrap().to_owned();

    app.get(&url, Some(&bob.token))
        .await
        .assert_error(404, "not_found");
    let bob_del = app
        .raw(app.client.delete(app.url(&url)).bearer_auth(&bob.token))
        .await;
    bob_del.assert_error(404, "not_found");
    // Bob cannot upload into Alice's ticket either.
    app.upload(&bob.token, vec![("b.png", png(5))], Some(tid))
        .await
        .assert_error(404, "not_found");
    let agent_view = app
        .client
        .get(app.url(&url))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(agent_view.status().as_u16(), 200);
    // The agent may see it but not delete someone else's upload.
    app.raw(app.client.delete(app.url(&url)).bearer_auth(&agent.token))
        .await
        .assert_error(403, "forbidden");

    // An image on an internal note stays with staff.
    let note_upload = app
        .upload(&agent.token, vec![("n.png", png(5))], None)
        .await;
    let note_id = note_upload.assert_ok(201)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/tickets/{tid}/messages"),
        Some(&agent.token),
        &json!({"body": "internal screenshot", "internal": true, "attachment_ids": [note_id]}),
    )
    .await
    .assert_ok(201);
    app.get(&format!("/api/attachments/{note_id}"), Some(&alice.token))
        .await
        .assert_error(404, "not_found");
    let staff = app
        .client
        .get(app.url(&format!("/api/attachments/{note_id}")))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status().as_u16(), 200);

    // An unlinked upload is private to its uploader.
    let private = app
        .upload(&alice.token, vec![("p.png", png(5))], None)
        .await;
    let private_url = private.assert_ok(201)[0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&private_url, Some(&agent.token))
        .await
        .assert_error(404, "not_found");
}

async fn attachment_ids_must_be_your_own_unlinked_uploads(app: TestApp) {
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let up = app
        .upload(&alice.token, vec![("a.png", png(5))], None)
        .await;
    let alice_upload = up.assert_ok(201)[0]["id"].as_str().unwrap().to_owned();

    for ids in [json!([alice_upload]), json!([uuid::Uuid::new_v4()])] {
        let resp = app
            .post(
                "/api/tickets",
                Some(&bob.token),
                &json!({"subject": "steal", "description": "d", "attachment_ids": ids}),
            )
            .await;
        resp.assert_error(422, "invalid_attachment");
    }
    // The failed attempts created no ticket.
    assert_eq!(
        app.get("/api/tickets", Some(&bob.token)).await.body["count"],
        0
    );

    // Alice uses it once; a second use is refused.
    let first = app
        .post(
            "/api/tickets",
            Some(&alice.token),
            &json!({"subject": "mine", "description": "d", "attachment_ids": [alice_upload, alice_upload]}),
        )
        .await;
    first.assert_ok(201);
    let second = app
        .post(
            "/api/tickets",
            Some(&alice.token),
            &json!({"subject": "again", "description": "d", "attachment_ids": [alice_upload]}),
        )
        .await;
    second.assert_error(422, "invalid_attachment");
}
