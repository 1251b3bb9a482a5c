//! Merging a duplicate into another ticket and linking related tickets: what moves, who sees
//! what afterwards (the target's customer, the other customer, staff), what a merged ticket
//! refuses, where replies to it land (portal and email), and links on both sides.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use server::entity::{Event, event};
use shared::Role;

use crate::helpers::{Backend, TestApp, TestUser, png, spawn_app_with};
use crate::inbound::{inbound_vars, ingest, mail, root_id};

crate::db_tests!(
    merging_a_duplicate_of_the_same_customer_moves_its_conversation,
    a_merged_ticket_cannot_be_reopened_or_merged_again,
    merging_across_customers_needs_an_admin_who_confirms,
    a_portal_reply_to_a_merged_ticket_lands_in_the_target,
    links_join_two_tickets_both_ways_with_the_inverse_relation,
);

async fn messages(app: &TestApp, token: &str, ticket_id: &str) -> Vec<Value> {
    app.get(
        &format!("/api/tickets/{ticket_id}/messages?per_page=100"),
        Some(token),
    )
    .await
    .assert_ok(200)
    .as_array()
    .unwrap()
    .clone()
}

async fn ticket(app: &TestApp, token: &str, ticket_id: &str) -> Value {
    app.get(&format!("/api/tickets/{ticket_id}"), Some(token))
        .await
        .assert_ok(200)
        .clone()
}

async fn history_fields(app: &TestApp, token: &str, ticket_id: &str) -> Vec<(String, Value)> {
    app.get(
        &format!("/api/tickets/{ticket_id}/history?per_page=100"),
        Some(token),
    )
    .await
    .assert_ok(200)
    .as_array()
    .unwrap()
    .iter()
    .map(|h| (h["field"].as_str().unwrap().to_owned(), h["to"].clone()))
    .collect()
}

async fn say(app: &TestApp, user: &TestUser, ticket_id: &str, body: Value) -> Value {
    app.post(
        &format!("/api/tickets/{ticket_id}/messages"),
        Some(&user.token),
        &body,
    )
    .await
    .assert_ok(201)
    .clone()
}

async fn merge(app: &TestApp, user: &TestUser, source: &str, body: Value) -> crate::helpers::Resp {
    app.post(
        &format!("/api/tickets/{source}/merge"),
        Some(&user.token),
        &body,
    )
    .await
}

/// Stored events of `kind`, oldest first.
async fn events_of(app: &TestApp, kind: &str) -> Vec<event::Model> {
    Event::find()
        .filter(event::Column::EventType.eq(kind))
        .order_by_asc(event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

async fn merging_a_duplicate_of_the_same_customer_moves_its_conversation(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let target = app.ticket(&customer.token, "Printer on fire").await;
    let source = app.ticket(&customer.token, "Printer still burning").await;
    let (t_id, s_id) = (str_of(&target, "id"), str_of(&source, "id"));
    let up = app
        .upload(&customer.token, vec![("smoke.png", png(10))], None)
        .await;
    let file = up.assert_ok(201)[0]["id"].as_str().unwrap().to_owned();
    say(
        &app,
        &customer,
        s_id,
        json!({"body": "Here is a photo", "attachment_ids": [file]}),
    )
    .await;
    say(
        &app,
        &agent,
        s_id,
        json!({"body": "Staff only: same as the other one", "internal": true}),
    )
    .await;
    say(&app, &agent, t_id, json!({"body": "Looking into it"})).await;

    let result = merge(
        &app,
        &agent,
        s_id,
        json!({"target_number": target["number"]}),
    )
    .await;
    let result = result.assert_ok(200);
    assert_eq!(result["source"]["id"], source["id"]);
    assert_eq!(result["target"]["number"], target["number"]);
    assert_eq!(
        result["moved_messages"], 3,
        "two messages and the description"
    );
    assert_eq!(result["moved_attachments"], 1);
    assert_eq!(result["cross_customer"], false);

    // The source: closed, pointing at the target, out of the queue, its clock stopped.
    for token in [&agent.token, &customer.token] {
        let s = ticket(&app, token, s_id).await;
        assert_eq!(s["status"], "closed");
        assert_eq!(s["merged_into"]["id"], target["id"]);
        assert_eq!(s["merged_into"]["number"], target["number"]);
        assert!(s["sla"]["due_at"].is_null());
    }
    assert!(ticket(&app, &agent.token, t_id).await["merged_into"].is_null());
    let queue = app
        .get(
            "/api/tickets?assigned_agent_id=none&status=new",
            Some(&agent.token),
        )
        .await;
    let queued: Vec<&str> = queue
        .assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_of(t, "id"))
        .collect();
    assert!(
        queued.contains(&t_id) && !queued.contains(&s_id),
        "{queued:?}"
    );
    assert!(messages(&app, &agent.token, s_id).await.is_empty());

    // The customer sees one thread: the description and the reply, marked as merged, with
    // the photo; never the internal note.
    let seen = messages(&app, &customer.token, t_id).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    let from_source: Vec<&Value> = seen
        .iter()
        .filter(|m| m["merged_from"]["id"] == source["id"])
        .collect();
    assert_eq!(from_source.len(), 2, "{seen:?}");
    assert!(
        from_source
            .iter()
            .any(|m| str_of(m, "body").starts_with("Printer still burning")
                && m["author"]["id"] == customer.id.as_str())
    );
    assert_eq!(from_source[0]["merged_from"]["number"], source["number"]);
    let photo = seen
        .iter()
        .find(|m| m["body"] == "Here is a photo")
        .expect("the reply came over");
    assert_eq!(photo["ticket_id"], target["id"]);
    assert_eq!(photo["attachments"][0]["id"], file.as_str());
    assert!(seen.iter().all(|m| m["internal"] == false));
    assert!(
        !seen
            .iter()
            .any(|m| str_of(m, "body").contains("Staff only"))
    );
    assert!(
        seen.iter()
            .any(|m| m["body"] == "Looking into it" && m["merged_from"].is_null())
    );
    let download = app
        .raw(
            app.client
                .get(app.url(&format!("/api/attachments/{file}")))
                .bearer_auth(&customer.token),
        )
        .await;
    assert_eq!(download.status.as_u16(), 200);
    assert_eq!(
        ticket(&app, &customer.token, t_id).await["message_count"],
        3
    );

    // Staff see the note too, marked as merged.
    let staff_view = messages(&app, &agent.token, t_id).await;
    assert_eq!(staff_view.len(), 4);
    let note = staff_view.iter().find(|m| m["internal"] == true).unwrap();
    assert_eq!(note["merged_from"]["number"], source["number"]);

    // History on both, events on both.
    let s_hist = history_fields(&app, &agent.token, s_id).await;
    assert!(s_hist.contains(&(
        "merged_into".to_owned(),
        json!(format!("#{}", target["number"]))
    )));
    assert!(s_hist.contains(&("status".to_owned(), json!("closed"))));
    let t_hist = history_fields(&app, &agent.token, t_id).await;
    assert!(t_hist.contains(&(
        "merged_from".to_owned(),
        json!(format!("#{}", source["number"]))
    )));
    let merged = events_of(&app, "ticket-merged").await;
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].payload["data"]["source"]["id"], source["id"]);
    assert_eq!(merged[0].payload["data"]["target"]["id"], target["id"]);
    let rooms = merged[0].rooms.as_array().unwrap();
    for room in [
        format!("ticket:{s_id}"),
        format!("ticket:{t_id}"),
        format!("customer:{}", customer.id),
    ] {
        assert!(rooms.contains(&json!(room)), "{rooms:?}");
    }
    let updated: Vec<Value> = events_of(&app, "ticket-updated")
        .await
        .into_iter()
        .map(|e| e.payload["data"]["ticket"].clone())
        .collect();
    assert!(updated.iter().any(|t| t["id"] == source["id"]
        && t["status"] == "closed"
        && t["merged_into"]["id"] == target["id"]));
    assert!(updated.iter().any(|t| t["id"] == target["id"]));
}

async fn a_merged_ticket_cannot_be_reopened_or_merged_again(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let other_agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let target = app.ticket(&customer.token, "Target").await;
    let source = app.ticket(&customer.token, "Source").await;
    let third = app.ticket(&customer.token, "Third").await;
    let (t_id, s_id, x_id) = (
        str_of(&target, "id"),
        str_of(&source, "id"),
        str_of(&third, "id"),
    );

    // Refusals before anything happens: customers, bad bodies, the ticket itself, unknown
    // and invisible targets.
    merge(&app, &customer, s_id, json!({"target_id": t_id}))
        .await
        .assert_error(403, "forbidden");
    let malformed = app
        .raw(
            app.client
                .post(app.url(&format!("/api/tickets/{s_id}/merge")))
                .bearer_auth(&customer.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    malformed.assert_error(403, "forbidden");
    merge(&app, &agent, s_id, json!({"target_id": s_id}))
        .await
        .assert_error(422, "validation_failed");
    merge(&app, &agent, s_id, json!({}))
        .await
        .assert_error(422, "validation_failed");
    merge(
        &app,
        &agent,
        s_id,
        json!({"target_id": t_id, "target_number": target["number"]}),
    )
    .await
    .assert_error(422, "validation_failed");
    merge(&app, &agent, s_id, json!({"target_number": 987_654_321}))
        .await
        .assert_error(404, "not_found");
    merge(&app, &agent, s_id, json!({"target_id": t_id, "extra": 1}))
        .await
        .assert_error(400, "invalid_json");
    // Assigned to the other agent: invisible to this one, as source and as target.
    app.post(
        &format!("/api/tickets/{x_id}/assign"),
        Some(&admin.token),
        &json!({"agent_id": other_agent.id}),
    )
    .await
    .assert_ok(200);
    merge(&app, &agent, s_id, json!({"target_id": x_id}))
        .await
        .assert_error(404, "not_found");
    merge(&app, &agent, x_id, json!({"target_id": t_id}))
        .await
        .assert_error(404, "not_found");
    assert_eq!(ticket(&app, &agent.token, s_id).await["status"], "new");

    merge(&app, &agent, s_id, json!({"target_id": t_id}))
        .await
        .assert_ok(200);
    // Merged: not again, not into it, not reopened (by staff or its customer).
    let again = merge(&app, &admin, s_id, json!({"target_id": x_id})).await;
    again.assert_error(409, "ticket_merged");
    assert_eq!(again.body["details"]["merged_into"]["id"], target["id"]);
    merge(&app, &admin, x_id, json!({"target_id": s_id}))
        .await
        .assert_error(409, "ticket_merged");
    for (user, status) in [
        (&admin, "open"),
        (&customer, "open"),
        (&customer, "resolved"),
    ] {
        let resp = app
            .patch(
                &format!("/api/tickets/{s_id}"),
                Some(&user.token),
                &json!({"status": status}),
            )
            .await;
        resp.assert_error(409, "ticket_merged");
    }
    assert_eq!(ticket(&app, &admin.token, s_id).await["status"], "closed");

    // A closed ticket takes no merge either.
    app.patch(
        &format!("/api/tickets/{t_id}"),
        Some(&customer.token),
        &json!({"status": "closed"}),
    )
    .await
    .assert_ok(200);
    merge(&app, &admin, x_id, json!({"target_id": t_id}))
        .await
        .assert_error(409, "ticket_closed");
}

async fn merging_across_customers_needs_an_admin_who_confirms(app: TestApp) {
    let ada = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let admin = app.user(Role::Admin).await;
    let ada_t = app.ticket(&ada.token, "Ada's outage").await;
    let bob_t = app.ticket(&bob.token, "Bob's outage").await;
    let (a_id, b_id) = (str_of(&ada_t, "id"), str_of(&bob_t, "id"));
    say(&app, &ada, a_id, json!({"body": "Ada: it is down again"})).await;
    say(
        &app,
        &agent,
        a_id,
        json!({"body": "Note: Ada's contract is expiring", "internal": true}),
    )
    .await;

    // Before any merge, Bob sees nothing of Ada's.
    assert!(
        !messages(&app, &bob.token, b_id)
            .await
            .iter()
            .any(|m| str_of(m, "body").contains("Ada"))
    );
    let refused = merge(&app, &agent, a_id, json!({"target_id": b_id})).await;
    refused.assert_error(409, "cross_customer_merge");
    merge(
        &app,
        &agent,
        a_id,
        json!({"target_id": b_id, "confirm_cross_customer": true}),
    )
    .await
    .assert_error(409, "cross_customer_merge");
    let unconfirmed = merge(&app, &admin, a_id, json!({"target_id": b_id})).await;
    unconfirmed.assert_error(409, "cross_customer_merge");
    assert_eq!(unconfirmed.body["details"]["admin_may_confirm"], true);
    assert_eq!(ticket(&app, &admin.token, a_id).await["status"], "new");
    assert_eq!(messages(&app, &bob.token, b_id).await.len(), 0);

    let done = merge(
        &app,
        &admin,
        a_id,
        json!({"target_id": b_id, "confirm_cross_customer": true}),
    )
    .await;
    assert_eq!(done.assert_ok(200)["cross_customer"], true);

    // On purpose: Bob now sees Ada's public messages, never the internal note.
    let bob_sees = messages(&app, &bob.token, b_id).await;
    assert!(
        bob_sees
            .iter()
            .any(|m| m["body"] == "Ada: it is down again")
    );
    assert!(bob_sees.iter().all(|m| m["internal"] == false));
    assert!(
        !bob_sees
            .iter()
            .any(|m| str_of(m, "body").contains("contract"))
    );
    let staff_sees = messages(&app, &admin.token, b_id).await;
    assert!(
        staff_sees
            .iter()
            .any(|m| str_of(m, "body").contains("contract"))
    );
    // Ada cannot open Bob's ticket, and her reply to the merged ticket is refused.
    app.get(&format!("/api/tickets/{b_id}"), Some(&ada.token))
        .await
        .assert_error(404, "not_found");
    let reply = app
        .post(
            &format!("/api/tickets/{a_id}/messages"),
            Some(&ada.token),
            &json!({"body": "Hello?"}),
        )
        .await;
    reply.assert_error(409, "ticket_merged");
    assert!(
        !messages(&app, &admin.token, b_id)
            .await
            .iter()
            .any(|m| m["body"] == "Hello?")
    );
}

async fn a_portal_reply_to_a_merged_ticket_lands_in_the_target(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let target = app.ticket(&customer.token, "Target").await;
    let source = app.ticket(&customer.token, "Source").await;
    let (t_id, s_id) = (str_of(&target, "id"), str_of(&source, "id"));
    merge(
        &app,
        &agent,
        s_id,
        json!({"target_number": target["number"]}),
    )
    .await
    .assert_ok(200);

    let posted = say(&app, &customer, s_id, json!({"body": "Any news?"})).await;
    assert_eq!(posted["ticket_id"], target["id"]);
    let staff_reply = say(&app, &agent, s_id, json!({"body": "On it"})).await;
    assert_eq!(staff_reply["ticket_id"], target["id"]);
    let thread = messages(&app, &customer.token, t_id).await;
    assert!(
        thread
            .iter()
            .any(|m| m["body"] == "Any news?" && m["merged_from"].is_null())
    );
    assert!(thread.iter().any(|m| m["body"] == "On it"));
    assert!(messages(&app, &agent.token, s_id).await.is_empty());
    assert_eq!(ticket(&app, &agent.token, s_id).await["status"], "closed");
    // The live event of the reply names the target.
    let news = events_of(&app, "new-message").await;
    let last = news.last().unwrap();
    assert_eq!(last.payload["data"]["message"]["ticket_id"], target["id"]);
}

async fn links_join_two_tickets_both_ways_with_the_inverse_relation(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let one = app.ticket(&customer.token, "One").await;
    let two = app.ticket(&customer.token, "Two").await;
    let three = app.ticket(&customer.token, "Three").await;
    let (one_id, two_id, three_id) = (str_of(&one, "id"), str_of(&two, "id"), str_of(&three, "id"));
    let links = |id: &str| format!("/api/tickets/{id}/links");

    // Customers neither see nor change links (refused before the body is read).
    app.get(&links(one_id), Some(&customer.token))
        .await
        .assert_error(403, "forbidden");
    app.post(
        &links(one_id),
        Some(&customer.token),
        &json!({"target_id": two_id, "relation": "related"}),
    )
    .await
    .assert_error(403, "forbidden");
    let malformed = app
        .raw(
            app.client
                .post(app.url(&links(one_id)))
                .bearer_auth(&customer.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    malformed.assert_error(403, "forbidden");

    let made = app
        .post(
            &links(one_id),
            Some(&agent.token),
            &json!({"target_number": two["number"], "relation": "duplicate_of"}),
        )
        .await;
    let made = made.assert_ok(201);
    assert_eq!(made["ticket"]["id"], two["id"]);
    assert_eq!(made["relation"], "duplicate_of");
    assert_eq!(made["subject"], "Two");
    app.post(
        &links(three_id),
        Some(&agent.token),
        &json!({"target_id": one_id, "relation": "caused_by"}),
    )
    .await
    .assert_ok(201);

    let of_one = app.get(&links(one_id), Some(&agent.token)).await;
    let of_one = of_one.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(of_one.len(), 2);
    assert_eq!(of_one[0]["ticket"]["id"], two["id"]);
    assert_eq!(of_one[0]["relation"], "duplicate_of");
    assert_eq!(of_one[1]["ticket"]["id"], three["id"]);
    assert_eq!(of_one[1]["relation"], "causes");
    let of_two = app.get(&links(two_id), Some(&agent.token)).await;
    let of_two = of_two.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(of_two.len(), 1);
    assert_eq!(of_two[0]["ticket"]["id"], one["id"]);
    assert_eq!(of_two[0]["relation"], "duplicated_by");
    assert_eq!(of_two[0]["status"], "new");

    // One link per pair, whichever side asks; not to itself; only known relations.
    let twice = app
        .post(
            &links(two_id),
            Some(&agent.token),
            &json!({"target_id": one_id, "relation": "related"}),
        )
        .await;
    twice.assert_error(409, "already_linked");
    assert_eq!(twice.body["details"]["relation"], "duplicated_by");
    app.post(
        &links(one_id),
        Some(&agent.token),
        &json!({"target_id": one_id, "relation": "related"}),
    )
    .await
    .assert_error(422, "validation_failed");
    app.post(
        &links(one_id),
        Some(&agent.token),
        &json!({"target_id": two_id, "relation": "sibling"}),
    )
    .await
    .assert_error(400, "invalid_json");

    // History on both sides; staff-only events on both sides.
    assert!(history_fields(&app, &agent.token, one_id).await.contains(&(
        "link".to_owned(),
        json!(format!("duplicate_of #{}", two["number"]))
    )));
    assert!(history_fields(&app, &agent.token, two_id).await.contains(&(
        "link".to_owned(),
        json!(format!("duplicated_by #{}", one["number"]))
    )));
    let linked = events_of(&app, "ticket-linked").await;
    assert_eq!(linked.len(), 4);
    assert!(linked.iter().all(|e| e.staff_only));
    assert!(linked.iter().all(|e| {
        !e.rooms
            .as_array()
            .unwrap()
            .contains(&json!(format!("customer:{}", customer.id)))
    }));
    assert!(
        linked
            .iter()
            .any(|e| e.payload["data"]["ticket_id"] == two["id"]
                && e.payload["data"]["link"]["relation"] == "duplicated_by")
    );

    // Customers cannot remove one either; staff remove it from either side.
    let remove = |id: &str, other: &str| format!("/api/tickets/{id}/links/{other}");
    app.request(
        reqwest::Method::DELETE,
        &remove(two_id, one_id),
        Some(&customer.token),
        None,
    )
    .await
    .assert_error(403, "forbidden");
    let gone = app
        .request(
            reqwest::Method::DELETE,
            &remove(two_id, one_id),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(gone.status.as_u16(), 204, "{}", gone.text);
    let of_one = app.get(&links(one_id), Some(&agent.token)).await;
    let of_one = of_one.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(of_one.len(), 1);
    assert_eq!(of_one[0]["ticket"]["id"], three["id"]);
    assert_eq!(
        app.get(&links(two_id), Some(&agent.token))
            .await
            .assert_ok(200)
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.request(
        reqwest::Method::DELETE,
        &remove(one_id, two_id),
        Some(&agent.token),
        None,
    )
    .await
    .assert_error(404, "not_found");
    let unlinked = events_of(&app, "ticket-unlinked").await;
    assert_eq!(unlinked.len(), 2);
    assert!(unlinked.iter().all(|e| e.staff_only));
    assert!(
        history_fields(&app, &agent.token, one_id)
            .await
            .iter()
            .any(|(f, to)| f == "link" && to.is_null())
    );
    // The customer's ticket shows nothing of it.
    let seen = ticket(&app, &customer.token, one_id).await;
    assert!(seen.get("links").is_none());
}

/// An email reply threaded to a merged ticket (by its Message-ID or its `[#N]` tag) lands in
/// the ticket it was merged into.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_replies_to_a_merged_ticket_land_in_the_target_sqlite() {
    email_reply(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_replies_to_a_merged_ticket_land_in_the_target_postgres() {
    email_reply(Backend::Postgres).await;
}

async fn email_reply(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("MAIL_FILE_DIR", dir.path().display().to_string())];
    let Some(mut app) = spawn_app_with(backend, inbound_vars(&vars)).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let email = format!("eve-{}@example.com", uuid::Uuid::new_v4().simple());
    let customer = app.user_with_email(Role::Customer, &email).await;
    let agent = app.user(Role::Agent).await;
    let target = app.ticket(&customer.token, "Router blinking").await;
    let source = app.ticket(&customer.token, "Router still blinking").await;
    let (t_id, s_id) = (str_of(&target, "id"), str_of(&source, "id"));
    merge(&app, &agent, s_id, json!({"target_id": t_id}))
        .await
        .assert_ok(200);

    let by_tag = mail(
        &email,
        "support@help.test",
        &format!("Re: [#{}] Router still blinking", source["number"]),
        &[],
        "It blinks red now.",
    );
    let done = ingest(&app, &by_tag).await;
    let done = done.assert_ok(200);
    assert_eq!(done["status"], "processed", "{done}");
    assert_eq!(done["ticket_id"], target["id"]);
    let by_id = mail(
        &email,
        "support@help.test",
        "Re: Router still blinking",
        &[("In-Reply-To", &root_id(s_id))],
        "And now green.",
    );
    let done = ingest(&app, &by_id).await;
    assert_eq!(done.assert_ok(200)["ticket_id"], target["id"]);

    let thread = messages(&app, &customer.token, t_id).await;
    assert!(thread.iter().any(|m| m["body"] == "It blinks red now."));
    assert!(thread.iter().any(|m| m["body"] == "And now green."));
    assert!(messages(&app, &agent.token, s_id).await.is_empty());
    assert_eq!(ticket(&app, &agent.token, s_id).await["status"], "closed");
    cleanup.run().await;
}
