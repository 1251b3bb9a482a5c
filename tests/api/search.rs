//! Full-text search (`q` on `GET /api/tickets` and the CSV export) on both databases:
//! visibility, ranking, the syntax, numbers and emails, hostile input, snippets.

use sea_orm::{
    ConnectionTrait, DatabaseBackend, Statement, TransactionTrait,
    sea_query::{Alias, Expr, PostgresQueryBuilder, Query as Sql, SqliteQueryBuilder},
};
use serde_json::{Value, json};
use server::services::search::{self as fts, Query};
use shared::Role;

use crate::{
    helpers::{Backend, TestApp, TestUser},
    limits::encode,
};

crate::db_tests!(
    customers_and_agents_find_only_what_they_may_see,
    subject_matches_rank_before_messages_and_more_hits_first,
    phrases_negation_or_and_prefixes,
    numbers_and_email_addresses,
    journey_answers_are_searched,
    hostile_input_is_results_or_a_clear_400,
    the_csv_export_searches_too,
    snippets_mark_the_hits,
    the_indexes_serve_the_search,
);

async fn search(app: &TestApp, user: &TestUser, q: &str) -> Vec<Value> {
    let resp = app
        .get(&format!("/api/tickets?q={}", encode(q)), Some(&user.token))
        .await;
    resp.assert_ok(200).as_array().unwrap().clone()
}

fn numbers(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|t| t["number"].as_i64().unwrap()).collect()
}

async fn ticket(app: &TestApp, who: &TestUser, subject: &str, description: &str) -> Value {
    app.post(
        "/api/tickets",
        Some(&who.token),
        &json!({"subject": subject, "description": description}),
    )
    .await
    .assert_ok(201)
    .clone()
}

async fn message(
    app: &TestApp,
    who: &TestUser,
    ticket: &Value,
    body: &str,
    internal: bool,
) -> Value {
    app.post(
        &format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap()),
        Some(&who.token),
        &json!({"body": body, "internal": internal}),
    )
    .await
    .assert_ok(201)
    .clone()
}

async fn customers_and_agents_find_only_what_they_may_see(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let other_agent = app.user(Role::Agent).await;

    let t = ticket(
        &app,
        &alice,
        "Marmalade shipment",
        "The crate of marmalade is missing",
    )
    .await;
    message(&app, &alice, &t, "Also the invoice mentions quince", false).await;
    message(
        &app,
        &agent,
        &t,
        "Internal: customer is a wombat fancier",
        true,
    )
    .await;

    // Alice finds her ticket by every public word, never by the internal note.
    for q in ["marmalade", "shipment", "crate missing", "quince"] {
        assert_eq!(
            numbers(&search(&app, &alice, q).await),
            [t["number"].as_i64().unwrap()],
            "{q}"
        );
    }
    for q in [
        "wombat",
        "fancier",
        "wombat fancier",
        "\"customer is a wombat\"",
    ] {
        assert!(search(&app, &alice, q).await.is_empty(), "{q}");
    }
    // Bob finds nothing of Alice's, whatever the word.
    let by_number = format!("#{}", t["number"]);
    for q in ["marmalade", "quince", "wombat", "crate", by_number.as_str()] {
        assert!(search(&app, &bob, q).await.is_empty(), "{q}");
    }
    assert!(search(&app, &bob, &alice.email).await.is_empty());

    // Staff find the internal note, and say it is where the ticket matched.
    let found = search(&app, &agent, "wombat").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["search"]["field"], "message");
    assert!(found[0]["search"]["message_id"].is_string());

    // Once the ticket is assigned to one agent, another agent no longer finds it.
    app.post(
        &format!("/api/tickets/{}/assign", t["id"].as_str().unwrap()),
        Some(&admin.token),
        &json!({"agent_id": agent.id}),
    )
    .await
    .assert_ok(200);
    assert_eq!(search(&app, &agent, "marmalade").await.len(), 1);
    for q in ["marmalade", "wombat", "quince"] {
        assert!(search(&app, &other_agent, q).await.is_empty(), "{q}");
    }
    assert_eq!(search(&app, &admin, "wombat").await.len(), 1);
}

/// Ranking: subject before description before only the conversation; among equals, more
/// matching documents first; then newer first.
async fn subject_matches_rank_before_messages_and_more_hits_first(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let one_message = ticket(&app, &customer, "Order one", "Nothing here").await;
    message(&app, &customer, &one_message, "my quokka arrived", false).await;
    let two_messages = ticket(&app, &customer, "Order two", "Nothing here").await;
    message(&app, &customer, &two_messages, "the quokka is sad", false).await;
    message(&app, &agent, &two_messages, "sorry about the quokka", false).await;
    let in_description = ticket(&app, &customer, "Order three", "A quokka question").await;
    let in_subject = ticket(&app, &customer, "Quokka missing", "Nothing here").await;
    let newer_subject = ticket(&app, &customer, "Quokka late", "Nothing here").await;
    let _unrelated = ticket(&app, &customer, "Kangaroo", "Nothing here").await;

    let n = |t: &Value| t["number"].as_i64().unwrap();
    let expected = [
        n(&newer_subject),
        n(&in_subject),
        n(&in_description),
        n(&two_messages),
        n(&one_message),
    ];
    let found = search(&app, &agent, "quokka").await;
    assert_eq!(numbers(&found), expected);
    let fields: Vec<&str> = found
        .iter()
        .map(|t| t["search"]["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["subject", "subject", "description", "message", "message"]
    );
    // The same explicitly, for the customer too, and reversed in ascending order.
    let explicit = app
        .get(
            "/api/tickets?q=quokka&sort=relevance",
            Some(&customer.token),
        )
        .await;
    assert_eq!(
        numbers(explicit.assert_ok(200).as_array().unwrap()),
        expected
    );
    let reversed = app
        .get(
            "/api/tickets?q=quokka&sort=relevance&order=asc",
            Some(&agent.token),
        )
        .await;
    let mut backwards = expected.to_vec();
    backwards.reverse();
    assert_eq!(
        numbers(reversed.assert_ok(200).as_array().unwrap()),
        backwards
    );
    // Other sorts still apply to the matches.
    let by_number = app
        .get(
            "/api/tickets?q=quokka&sort=number&order=asc",
            Some(&agent.token),
        )
        .await;
    let mut ascending = expected.to_vec();
    ascending.sort_unstable();
    let rows = by_number.assert_ok(200).as_array().unwrap().clone();
    assert_eq!(numbers(&rows), ascending);
    assert!(rows.iter().all(|t| t["search"].is_object()));
    // Relevance without a search is a mistake.
    app.get("/api/tickets?sort=relevance", Some(&agent.token))
        .await
        .assert_error(400, "invalid_query");
}

async fn phrases_negation_or_and_prefixes(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let admin = app.user(Role::Admin).await;
    let a = ticket(&app, &customer, "Printer paper tray jammed", "Help").await;
    let b = ticket(&app, &customer, "Paper jam in the printer", "The tray too").await;
    let c = ticket(&app, &customer, "Toner empty", "Help").await;
    let (a, b, c) = (
        a["number"].as_i64().unwrap(),
        b["number"].as_i64().unwrap(),
        c["number"].as_i64().unwrap(),
    );
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let q = |s: &'static str| {
        let app = &app;
        let admin = &admin;
        async move { sorted(numbers(&search(app, admin, s).await)) }
    };
    assert_eq!(q("\"paper tray\"").await, [a]);
    assert_eq!(q("paper tray").await, [a, b]);
    assert_eq!(q("printer -jammed").await, [b]);
    assert_eq!(q("printer -\"paper tray\"").await, [b]);
    assert_eq!(q("toner OR jammed").await, [a, c]);
    assert_eq!(q("paper toner OR jammed").await, [a]);
    // The last word is a prefix as it is typed; the others are whole words.
    assert_eq!(q("prin").await, [a, b]);
    assert_eq!(q("jamm").await, [a]);
    assert_eq!(q("jam").await, [a, b]);
    assert!(q("jam tr prin").await.is_empty());
    assert!(q("\"jamm\"").await.is_empty());
    // Case does not matter.
    assert_eq!(q("TONER").await, [c]);
}

async fn numbers_and_email_addresses(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let alice = app.user(Role::Customer).await;
    let bob = app.user(Role::Customer).await;
    let first = ticket(&app, &alice, "First", "Help").await;
    let second = ticket(&app, &alice, "Second", "Help").await;
    let _bobs = ticket(&app, &bob, "Third", "Help").await;
    let n = first["number"].as_i64().unwrap();

    for q in [format!("#{n}"), n.to_string()] {
        let found = search(&app, &admin, &q).await;
        assert_eq!(numbers(&found)[0], n, "{q}");
        assert_eq!(found[0]["search"]["field"], "number");
        assert_eq!(found[0]["search"]["snippet"][0]["text"], format!("#{n}"));
        assert_eq!(found[0]["search"]["snippet"][0]["hit"], true);
    }
    // The customer finds her own ticket by number too.
    assert_eq!(numbers(&search(&app, &alice, &format!("#{n}")).await), [n]);

    let found = search(&app, &admin, &alice.email.to_uppercase()).await;
    let mut got = numbers(&found);
    got.sort_unstable();
    assert_eq!(got, [n, second["number"].as_i64().unwrap()]);
    assert!(found.iter().all(|t| t["search"]["field"] == "customer"));
    assert!(search(&app, &admin, "nobody@example.com").await.is_empty());
}

async fn journey_answers_are_searched(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let definition = json!({
        "startNode": "details",
        "nodes": {
            "details": {"type": "question", "questionType": "text", "title": "Details",
                        "required": true, "minLength": 3, "maxLength": 200, "next": "end"},
            "end": {"type": "end", "category": "general", "priority": "low", "subject": "Something broke"}
        }
    });
    let j = app
        .post(
            "/api/journeys",
            Some(&admin.token),
            &json!({"slug": "broke", "name": "Broke", "description": "d", "icon": "x", "definition": definition}),
        )
        .await;
    let id = j.assert_ok(201)["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/journeys/{id}/activate"),
        Some(&admin.token),
        &json!({}),
    )
    .await
    .assert_ok(200);
    let t = app
        .post(
            &format!("/api/journeys/{id}/submit"),
            Some(&customer.token),
            &json!({"answers": {"details": "the flux capacitor sparks"}}),
        )
        .await;
    let number = t.assert_ok(201)["number"].as_i64().unwrap();
    let found = search(&app, &customer, "capacitor sparks").await;
    assert_eq!(numbers(&found), [number]);
    assert_eq!(found[0]["search"]["field"], "answers");
}

async fn hostile_input_is_results_or_a_clear_400(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let t = ticket(&app, &customer, "Printer on fire", "Smoke everywhere").await;
    let number = t["number"].as_i64().unwrap();
    // Each finds the ticket: the syntax around the words is not syntax to the database.
    for q in [
        "\"printer on",
        "printer\"",
        "printer*",
        "*printer",
        "(printer",
        "printer)",
        "printer 🔥",
        "printer' OR '1'='1",
        "printer & fire | !smoke",
        "printer AND fire",
        "printer <-> fire",
        "{printer} fire",
        "printer \\",
        "printer -",
        "printer OR",
        "OR printer",
        "-smok OR printer",
    ] {
        let found = search(&app, &admin, q).await;
        assert_eq!(numbers(&found), [number], "{q}");
    }
    // Words joined by symbols are a phrase; these are searches like any other (here nothing
    // has those words side by side).
    for q in [
        "NEAR(printer fire)",
        "NEAR(",
        "printer:fire",
        "subject:printer",
        "printer^2 fire~",
        "printer\"; DROP TABLE tickets; --",
        "'; SELECT * FROM users; --",
        "\\x00 %s %n {{7*7}}",
    ] {
        search(&app, &admin, q).await;
    }
    assert_eq!(
        search(&app, &admin, "Printer").await.len(),
        1,
        "the table is still there"
    );
    // No word to search for: a clear 400.
    for q in [
        "\"", "*", "🔥", ":", "()", "-printer", "OR", "AND", "- -", "\"\"", "&|!",
    ] {
        app.get(&format!("/api/tickets?q={}", encode(q)), Some(&admin.token))
            .await
            .assert_error(400, "invalid_query");
    }
    // Over the bound (10 KB of text included): 400, for lists and the export alike.
    for path in ["/api/tickets", "/api/tickets/export.csv"] {
        for q in ["printer ".repeat(1280), "w ".repeat(17)] {
            app.get(&format!("{path}?q={}", encode(&q)), Some(&admin.token))
                .await
                .assert_error(400, "invalid_query");
        }
    }
    // A ticket number too large for any ticket.
    app.get("/api/tickets?q=%2399999999999999999999", Some(&admin.token))
        .await
        .assert_error(400, "invalid_query");
}

async fn the_csv_export_searches_too(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let wanted = ticket(&app, &customer, "Broken kettle", "It leaks").await;
    message(&app, &agent, &wanted, "spare gasket ordered", true).await;
    let _other = ticket(&app, &customer, "Broken toaster", "It burns").await;
    let csv = |token: String, q: &'static str| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/tickets/export.csv?q={}", encode(q)));
        async move {
            let resp = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            resp.text().await.unwrap()
        }
    };
    for (token, q, rows) in [
        (admin.token.clone(), "kettle", 1),
        (admin.token.clone(), "broken", 2),
        (admin.token.clone(), "gasket", 1),
        (customer.token.clone(), "leaks", 1),
        // Internal notes stay internal in the export too.
        (customer.token.clone(), "gasket", 0),
    ] {
        let body = csv(token, q).await;
        let lines: Vec<&str> = body.lines().skip(1).collect();
        assert_eq!(lines.len(), rows, "{q}: {body}");
        if rows == 1 && q != "broken" {
            assert!(
                lines[0].starts_with(&format!("{},", wanted["number"])),
                "{body}"
            );
        }
    }
}

async fn snippets_mark_the_hits(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let long = format!(
        "{} The Refund has not arrived yet. {}",
        "Some words first. ".repeat(20),
        "More words after. ".repeat(20)
    );
    let t = ticket(&app, &customer, "Question", "Nothing").await;
    let m = message(&app, &customer, &t, &long, false).await;
    let found = search(&app, &agent, "refund arrived").await;
    assert_eq!(found.len(), 1);
    let hit = &found[0]["search"];
    assert_eq!(hit["field"], "message");
    assert_eq!(hit["message_id"], m["id"]);
    let parts = hit["snippet"].as_array().unwrap();
    let hits: Vec<&str> = parts
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    // The words as written, marked; the text around them plain.
    assert_eq!(hits, ["Refund", "arrived"]);
    let text: String = parts.iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert!(text.starts_with('…'), "{text}");
    assert!(text.ends_with('…'), "{text}");
    assert!(text.contains("The Refund has not arrived yet."), "{text}");
    assert!(text.chars().count() < long.chars().count());
    // Without q there is no search field at all.
    let all = app.get("/api/tickets", Some(&agent.token)).await;
    assert!(all.assert_ok(200)[0].get("search").is_none());
}

/// The plans of the match expressions the service renders use the full-text indexes (with
/// sequential scans priced out, as they would be at any real size: a test database is tiny).
async fn the_indexes_serve_the_search(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let t = ticket(&app, &customer, "Indexed words", "Somewhere").await;
    message(&app, &customer, &t, "a reply", false).await;
    let q = Query::parse("indexed wor").unwrap();
    let (tickets, messages) = match app.backend {
        Backend::Postgres => (
            fts::postgres::ticket_matches(fts::postgres::tsquery(&q)),
            fts::postgres::message_matches(fts::postgres::tsquery(&q)),
        ),
        Backend::Sqlite => (
            fts::sqlite::ticket_matches(fts::sqlite::fts(&q)),
            fts::sqlite::message_matches(fts::sqlite::fts(&q)),
        ),
    };
    let plan = |table: &str, cond: Expr| {
        let stmt = Sql::select()
            .expr(Expr::cust("1"))
            .from(Alias::new(table))
            .and_where(cond)
            .to_owned();
        match app.backend {
            Backend::Postgres => stmt.to_string(PostgresQueryBuilder),
            Backend::Sqlite => stmt.to_string(SqliteQueryBuilder),
        }
    };
    for (sql, index) in [
        (plan("tickets", tickets), "idx_tickets_search"),
        (
            plan("ticket_messages", messages),
            "idx_ticket_messages_search",
        ),
    ] {
        let text = match app.backend {
            Backend::Postgres => {
                let txn = app.db.begin().await.unwrap();
                txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                    .await
                    .unwrap();
                let rows = txn
                    .query_all_raw(Statement::from_string(
                        DatabaseBackend::Postgres,
                        format!("EXPLAIN {sql}"),
                    ))
                    .await
                    .unwrap();
                let lines: Vec<String> = rows
                    .iter()
                    .map(|r| r.try_get::<String>("", "QUERY PLAN").unwrap())
                    .collect();
                txn.rollback().await.unwrap();
                lines.join("\n")
            }
            Backend::Sqlite => {
                let rows = app
                    .db
                    .query_all_raw(Statement::from_string(
                        DatabaseBackend::Sqlite,
                        format!("EXPLAIN QUERY PLAN {sql}"),
                    ))
                    .await
                    .unwrap();
                rows.iter()
                    .map(|r| r.try_get::<String>("", "detail").unwrap())
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        match app.backend {
            Backend::Postgres => assert!(text.contains(index), "{sql}\n{text}"),
            Backend::Sqlite => assert!(text.contains("VIRTUAL TABLE INDEX"), "{sql}\n{text}"),
        }
    }
    assert_eq!(search(&app, &customer, "indexed wor").await.len(), 1);
}
