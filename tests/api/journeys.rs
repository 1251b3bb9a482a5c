//! Journeys: definitions, versions, visibility and turning answers into tickets.

use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{TestApp, TestUser, png};

crate::db_tests!(
    admins_manage_and_customers_see_active_journeys,
    invalid_definitions_list_every_problem,
    submission_creates_the_ticket_from_the_outcome,
    tampered_answers_are_rejected,
    image_answers_must_be_the_customers_own_uploads,
    editing_creates_versions_and_tickets_keep_theirs,
    seeded_journeys_are_valid_and_active,
    original_format_journeys_are_converted_and_submitted,
    export_is_a_document_create_accepts,
);

/// A journey in the original format: a list of questions with `nextNodeMap` / `nextNode`.
fn original_journey() -> Value {
    json!({
        "category": "orders",
        "priority": "high",
        "nodes": [
            {"id": "kind", "question": "What is it about?", "options": ["Damaged", "Late"],
             "nextNodeMap": {"Damaged": "photo-text"}, "nextNode": "number"},
            {"id": "photo-text", "question": "Describe the damage", "nextNode": "number"},
            {"id": "number", "question": "Order number", "nextNode": null}
        ]
    })
}

fn order_journey() -> Value {
    json!({
        "startNode": "issue",
        "nodes": {
            "issue": {"type": "question", "questionType": "single_choice", "title": "What happened?", "required": true,
                      "options": [{"value": "damaged", "label": "Damaged", "next": "photos"},
                                  {"value": "late", "label": "Late", "next": "number"}]},
            "photos": {"type": "question", "questionType": "image_upload", "title": "Photos", "required": false, "maxFiles": 2, "next": "number"},
            "number": {"type": "question", "questionType": "text", "title": "Order number", "required": true, "minLength": 3, "maxLength": 20, "next": "route"},
            "route": {"type": "condition",
                      "branches": [{"match": "all", "rules": [{"node": "issue", "op": "equals", "value": "damaged"}], "next": "end-damaged"}],
                      "default": "end-late"},
            "end-damaged": {"type": "end", "category": "orders/damaged", "priority": "high", "subject": "Damaged order {number}"},
            "end-late": {"type": "end", "category": "orders/late", "priority": "low", "subject": "Late order {number}"}
        }
    })
}

async fn create_journey(app: &TestApp, admin: &TestUser, slug: &str, definition: Value) -> Value {
    let resp = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": slug, "name": "Order problem", "description": "Orders", "icon": "📦", "definition": definition}),
        )
        .await;
    resp.assert_ok(201).clone()
}

async fn activate(app: &TestApp, admin: &TestUser, id: &str) {
    app.post(
        &format!("/api/journeys/{id}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
}

async fn admins_manage_and_customers_see_active_journeys(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let j = create_journey(&app, &admin, "orders", order_journey()).await;
    assert_eq!(j["version"], 1);
    assert_eq!(j["active"], false);
    assert_eq!(j["definition"]["startNode"], "issue");
    let id = j["id"].as_str().unwrap().to_owned();

    // Inactive: invisible to customers.
    let list = app.get("/api/journeys", Some(&customer.token)).await;
    assert_eq!(list.body["count"], 0);
    app.get(&format!("/api/journeys/{id}"), Some(&customer.token))
        .await
        .assert_error(404, "not_found");
    app.post(
        &format!("/api/journeys/{id}/submit"),
        Some(&customer.token),
        &json!({"answers": {"issue": "late", "number": "A-123"}}),
    )
    .await
    .assert_error(404, "not_found");

    activate(&app, &admin, &id).await;
    let list = app.get("/api/journeys", Some(&customer.token)).await;
    assert_eq!(list.assert_ok(200)[0]["slug"], "orders");
    app.get(&format!("/api/journeys/{id}"), Some(&customer.token))
        .await
        .assert_ok(200);

    // Customers cannot manage journeys.
    app.post(
        "/api/journeys",
        Some(&customer.token),
        &json!({"slug": "x", "name": "X", "definition": order_journey()}),
    )
    .await
    .assert_error(403, "forbidden");
    app.post(
        &format!("/api/journeys/{id}/deactivate"),
        Some(&customer.token),
        &json!({}),
    )
    .await
    .assert_error(403, "forbidden");

    // A second active journey, then archive the first.
    let second = create_journey(&app, &admin, "orders-2", order_journey()).await;
    activate(&app, &admin, second["id"].as_str().unwrap()).await;
    assert_eq!(
        app.get("/api/journeys", Some(&customer.token)).await.body["count"],
        2
    );
    app.post(
        &format!("/api/journeys/{id}/archive"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    assert_eq!(
        app.get("/api/journeys", Some(&customer.token)).await.body["count"],
        1
    );
    assert_eq!(
        app.get("/api/journeys", Some(&admin.token)).await.body["count"],
        1
    );
    assert_eq!(
        app.get("/api/journeys?archived=true", Some(&admin.token))
            .await
            .body["count"],
        2
    );
    app.post(
        &format!("/api/journeys/{id}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_error(409, "conflict");

    // Slugs are unique and well-formed.
    app.post(
        "/api/journeys",
        Some(&admin.token),
        &json!({"slug": "orders-2", "name": "Dup", "definition": order_journey()}),
    )
    .await
    .assert_error(409, "conflict");
    app.post(
        "/api/journeys",
        Some(&admin.token),
        &json!({"slug": "Not A Slug", "name": "Bad", "definition": order_journey()}),
    )
    .await
    .assert_error(422, "validation_failed");
}

async fn invalid_definitions_list_every_problem(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let broken = json!({
        "startNode": "nowhere",
        "nodes": {
            "q": {"type": "question", "questionType": "single_choice", "title": "Q", "required": true,
                  "options": [{"value": "a", "label": "A", "next": "missing"}, {"value": "a", "label": "A again", "next": "e"}]},
            "lonely": {"type": "end", "category": "x", "priority": "low", "subject": "Lonely {ghost}"},
            "e": {"type": "end", "category": "x", "priority": "low", "subject": "ok"}
        }
    });
    let resp = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "broken", "name": "Broken", "definition": broken}),
        )
        .await;
    resp.assert_error(422, "invalid_journey");
    let problems = resp.body["details"]["problems"].as_array().unwrap().clone();
    let codes: Vec<&str> = problems
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    for code in [
        "missing_start",
        "unknown_target",
        "duplicate_option",
        "unknown_placeholder",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(problems.iter().any(|p| p["node_id"] == "q"));

    // Not even a journey document.
    let resp = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "junk", "name": "Junk", "definition": {"start": 1}}),
        )
        .await;
    resp.assert_error(422, "invalid_journey");
    assert_eq!(resp.body["details"]["problems"][0]["code"], "malformed");
    // Nothing was stored.
    assert_eq!(
        app.get("/api/journeys", Some(&admin.token)).await.body["count"],
        0
    );
}

async fn submission_creates_the_ticket_from_the_outcome(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let j = create_journey(&app, &admin, "orders", order_journey()).await;
    let id = j["id"].as_str().unwrap();
    activate(&app, &admin, id).await;

    let resp = app
        .post(
            &format!("/api/journeys/{id}/submit"),
            Some(&customer.token),
            &json!({"answers": {"issue": "late", "number": "  A-991 "}}),
        )
        .await;
    let t = resp.assert_ok(201).clone();
    assert_eq!(t["subject"], "Late order A-991");
    assert_eq!(t["category"], "orders/late");
    assert_eq!(t["priority"], "low");
    assert_eq!(t["journey_id"], id);
    assert_eq!(t["journey_version"], 1);
    assert_eq!(t["customer"]["id"], customer.id.as_str());
    // The customer is told when to expect a reply; the deadlines themselves are staff-only.
    assert_eq!(t["sla"]["eta"]["kind"], "reply");
    assert!(t["sla"]["resolution_due_at"].is_null());
    let transcript = t["transcript"].as_array().unwrap();
    let questions: Vec<&str> = transcript
        .iter()
        .map(|e| e["question"].as_str().unwrap())
        .collect();
    assert_eq!(questions, ["What happened?", "Order number"]);
    assert_eq!(transcript[0]["display"], "Late");
    assert_eq!(transcript[1]["display"], "A-991");
    assert!(t["description"].as_str().unwrap().contains("Order number"));

    // Staff do not submit journeys.
    app.post(
        &format!("/api/journeys/{id}/submit"),
        Some(&agent.token),
        &json!({"answers": {"issue": "late", "number": "A-991"}}),
    )
    .await
    .assert_error(403, "forbidden");
}

async fn tampered_answers_are_rejected(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let j = create_journey(&app, &admin, "orders", order_journey()).await;
    let id = j["id"].as_str().unwrap();
    activate(&app, &admin, id).await;
    let path = format!("/api/journeys/{id}/submit");
    for (answers, reason, node) in [
        (
            json!({"issue": "refund", "number": "A-1"}),
            "unknown_option",
            "issue",
        ),
        (json!({"issue": "late"}), "missing_required", "number"),
        (
            json!({"issue": "late", "number": "A-1", "photos": []}),
            "not_on_path",
            "photos",
        ),
        (
            json!({"issue": "late", "number": "A"}),
            "too_short",
            "number",
        ),
        (
            json!({"issue": "late", "number": "A-1", "ghost": "boo"}),
            "unknown_node",
            "ghost",
        ),
        (
            json!({"issue": ["late"], "number": "A-1"}),
            "wrong_answer_type",
            "issue",
        ),
        (
            json!({"issue": "damaged", "number": "A-1", "photos": ["not-a-uuid"]}),
            "invalid_attachment_id",
            "photos",
        ),
    ] {
        let resp = app
            .post(&path, Some(&customer.token), &json!({"answers": answers}))
            .await;
        resp.assert_error(422, "invalid_answers");
        assert_eq!(resp.body["details"]["reason"], reason, "{}", resp.text);
        assert_eq!(resp.body["details"]["node_id"], node, "{}", resp.text);
    }
    app.post(
        &path,
        Some(&customer.token),
        &json!({"answers": {}, "extra": 1}),
    )
    .await
    .assert_error(400, "invalid_json");
    assert_eq!(
        app.get("/api/tickets", Some(&customer.token)).await.body["count"],
        0
    );
}

async fn image_answers_must_be_the_customers_own_uploads(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let j = create_journey(&app, &admin, "orders", order_journey()).await;
    let id = j["id"].as_str().unwrap();
    activate(&app, &admin, id).await;
    let path = format!("/api/journeys/{id}/submit");

    let alice_upload = app
        .upload(&alice.token, vec![("a.png", png(10))], None)
        .await;
    let alice_id = alice_upload.assert_ok(201)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answers = json!({"issue": "damaged", "photos": [alice_id], "number": "A-77"});
    app.post(&path, Some(&bob.token), &json!({"answers": answers}))
        .await
        .assert_error(422, "invalid_attachment");
    assert_eq!(
        app.get("/api/tickets", Some(&bob.token)).await.body["count"],
        0
    );

    let t = app
        .post(&path, Some(&alice.token), &json!({"answers": answers}))
        .await;
    let t = t.assert_ok(201).clone();
    assert_eq!(t["priority"], "high");
    assert_eq!(t["attachments"][0]["id"], alice_id.as_str());
    assert_eq!(t["transcript"][1]["display"], "1 image");
    // The upload now belongs to the ticket: it cannot be reused.
    app.post(&path, Some(&alice.token), &json!({"answers": answers}))
        .await
        .assert_error(422, "invalid_attachment");
}

async fn editing_creates_versions_and_tickets_keep_theirs(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let j = create_journey(&app, &admin, "orders", order_journey()).await;
    let id = j["id"].as_str().unwrap();
    activate(&app, &admin, id).await;
    let path = format!("/api/journeys/{id}/submit");
    let old = app
        .post(
            &path,
            Some(&customer.token),
            &json!({"answers": {"issue": "late", "number": "A-1"}}),
        )
        .await;
    let old = old.assert_ok(201).clone();

    // Rename only: same version.
    let mut body =
        json!({"slug": "orders", "name": "Orders (renamed)", "definition": order_journey()});
    let same = app
        .put(&format!("/api/journeys/{id}"), Some(&admin.token), &body)
        .await;
    assert_eq!(same.assert_ok(200)["version"], 1);

    // Change the document: version 2, still active.
    let mut def = order_journey();
    def["nodes"]["end-late"]["priority"] = json!("urgent");
    def["nodes"]["end-late"]["subject"] = json!("Very late order {number}");
    body["definition"] = def;
    let v2 = app
        .put(&format!("/api/journeys/{id}"), Some(&admin.token), &body)
        .await;
    let v2 = v2.assert_ok(200).clone();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["active"], true);

    let new = app
        .post(
            &path,
            Some(&customer.token),
            &json!({"answers": {"issue": "late", "number": "A-2"}}),
        )
        .await;
    let new = new.assert_ok(201).clone();
    assert_eq!(new["journey_version"], 2);
    assert_eq!(new["priority"], "urgent");
    assert_eq!(new["subject"], "Very late order A-2");
    let old_again = app
        .get(
            &format!("/api/tickets/{}", old["id"].as_str().unwrap()),
            Some(&customer.token),
        )
        .await;
    let old_again = old_again.assert_ok(200);
    assert_eq!(old_again["journey_version"], 1);
    assert_eq!(old_again["priority"], "low");

    // An invalid edit changes nothing.
    body["definition"]["startNode"] = json!("missing");
    app.put(&format!("/api/journeys/{id}"), Some(&admin.token), &body)
        .await
        .assert_error(422, "invalid_journey");
    let still = app
        .get(&format!("/api/journeys/{id}"), Some(&admin.token))
        .await;
    assert_eq!(still.assert_ok(200)["version"], 2);
}

async fn seeded_journeys_are_valid_and_active(app: TestApp) {
    server::services::seed::run(&app.db, crate::helpers::BCRYPT_COST)
        .await
        .unwrap();
    let customer = app.login("customer1@helpdesk.local", "Customer123!").await;
    let token = customer.assert_ok(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = app.get("/api/journeys", Some(&token)).await;
    let journeys = list.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(journeys.len(), 2);
    let billing = journeys
        .iter()
        .find(|j| j["slug"] == "account-billing")
        .unwrap();
    // The condition node routes a disputed charge on a paid plan to urgent.
    let resp = app
        .post(
            &format!("/api/journeys/{}/submit", billing["id"].as_str().unwrap()),
            Some(&token),
            &json!({"answers": {"topic": "charge", "plan": "business", "describe": "I was charged twice this month."}}),
        )
        .await;
    let t = resp.assert_ok(201);
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["category"], "billing/disputed-charge");
}

async fn original_format_journeys_are_converted_and_submitted(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let j = create_journey(&app, &admin, "original", original_journey()).await;
    let id = j["id"].as_str().unwrap();
    // Stored (and served) in the native format.
    let def = &j["definition"];
    assert_eq!(def["startNode"], "kind");
    assert_eq!(def["nodes"]["kind"]["questionType"], "single_choice");
    assert_eq!(def["nodes"]["kind"]["options"][0]["next"], "photo-text");
    assert_eq!(def["nodes"]["number"]["questionType"], "text");
    assert_eq!(def["nodes"]["end"]["type"], "end");
    activate(&app, &admin, id).await;

    let t = app
        .post(
            &format!("/api/journeys/{id}/submit"),
            Some(&customer.token),
            &json!({"answers": {"kind": "Damaged", "photo-text": "Crushed box", "number": "A-1"}}),
        )
        .await
        .assert_ok(201)
        .clone();
    assert_eq!(t["subject"], "Damaged");
    assert_eq!(t["category"], "orders");
    assert_eq!(t["priority"], "high");
    let questions: Vec<&str> = t["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["question"].as_str().unwrap())
        .collect();
    assert_eq!(
        questions,
        ["What is it about?", "Describe the damage", "Order number"]
    );
    // `Late` skips the damage question, so answering it is tampering.
    app.post(
        &format!("/api/journeys/{id}/submit"),
        Some(&customer.token),
        &json!({"answers": {"kind": "Late", "photo-text": "x", "number": "A-2"}}),
    )
    .await
    .assert_error(422, "invalid_answers");

    // Updating with the original format works too; an unchanged document keeps the version.
    let same = app
        .put(
            &format!("/api/journeys/{id}"),
            Some(&admin.token),
            &json!({"slug": "original", "name": "Order problem", "definition": original_journey()}),
        )
        .await;
    assert_eq!(same.assert_ok(200)["version"], 1);

    // Mistakes in the original format are `invalid_journey` problems, never a 500.
    for (definition, expect) in [
        (json!({"nodes": []}), "malformed"),
        (
            json!({"nodes": [{"id": "a", "question": "?", "nextNode": "gone"}]}),
            "unknown_target",
        ),
        (
            json!({"nodes": [{"id": "a", "question": "?", "options": ["x"], "nextNodeMap": {"y": "a"}}]}),
            "malformed",
        ),
        (
            json!({"nodes": [{"id": "a", "question": "?", "extra": 1}]}),
            "malformed",
        ),
        (
            json!({"nodes": [{"id": "a b", "question": "?"}]}),
            "invalid_node_id",
        ),
        (
            json!({"nodes": [{"id": "a", "question": "?", "nextNode": "a"}]}),
            "cycle",
        ),
        (
            json!({"nodes": [{"id": "a", "question": "?"}], "priority": "extreme"}),
            "malformed",
        ),
    ] {
        let resp = app
            .post(
                "/api/journeys",
                Some(&admin.token),
                &json!({"slug": "broken", "name": "Broken", "definition": definition}),
            )
            .await;
        resp.assert_error(422, "invalid_journey");
        let codes: Vec<&str> = resp.body["details"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&expect), "{definition}: {codes:?}");
    }
}

async fn export_is_a_document_create_accepts(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let j = create_journey(&app, &admin, "orders", order_journey()).await;
    let id = j["id"].as_str().unwrap();

    let resp = app
        .get(&format!("/api/journeys/{id}/export"), Some(&admin.token))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        resp.headers["content-disposition"],
        "attachment; filename=\"orders.journey.json\""
    );
    let mut doc = resp.body.clone();
    assert_eq!(doc["slug"], "orders");
    assert_eq!(doc["name"], "Order problem");
    assert_eq!(doc["icon"], "📦");
    assert_eq!(doc["definition"], j["definition"]);

    // Posting the file creates the same journey (under another slug here, as the original
    // still holds this one).
    doc["slug"] = json!("orders-copy");
    let copy = app
        .post("/api/journeys", Some(&admin.token), &doc)
        .await
        .assert_ok(201)
        .clone();
    assert_eq!(copy["definition"], j["definition"]);
    assert_eq!(copy["description"], "Orders");

    for user in [&agent, &customer] {
        app.get(&format!("/api/journeys/{id}/export"), Some(&user.token))
            .await
            .assert_error(403, "forbidden");
    }
    app.get(&format!("/api/journeys/{id}/export"), None)
        .await
        .assert_error(401, "unauthorized");
    app.get(
        &format!("/api/journeys/{}/export", uuid::Uuid::new_v4()),
        Some(&admin.token),
    )
    .await
    .assert_error(404, "not_found");
}
