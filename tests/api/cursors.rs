//! Cursor pagination (`after`, `has_more`, `next`) on the ticket list and a conversation: the
//! pages never skip or repeat a row while rows are created between them, and a cursor the
//! server did not hand out is a 400 `invalid_cursor`.

use std::collections::HashSet;

use serde_json::{Value, json};
use shared::Role;

use crate::helpers::{Resp, TestApp};

crate::db_tests!(
    ticket_pages_never_skip_or_repeat_while_tickets_are_created,
    message_pages_continue_where_they_stopped,
    forged_and_foreign_cursors_are_400s,
);

fn ids(resp: &Resp) -> Vec<String> {
    resp.assert_ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `next` links from `first` to the end, running `between` before each next page.
async fn walk(
    app: &TestApp,
    token: &str,
    first: &str,
    mut between: impl AsyncFnMut(usize),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = first.to_owned();
    for round in 0.. {
        let page = app.get(&path, Some(token)).await;
        seen.extend(ids(&page));
        let has_more = page.body["has_more"].as_bool().expect("has_more");
        match page.body["next"].as_str() {
            Some(next) => {
                assert!(has_more, "{}", page.text);
                assert!(next.starts_with("/api/"), "{next}");
                path = next.to_owned();
            }
            None => {
                assert!(!has_more, "{}", page.text);
                break;
            }
        }
        between(round).await;
        assert!(round < 100, "the pages never end");
    }
    seen
}

async fn ticket_pages_never_skip_or_repeat_while_tickets_are_created(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let other = app.user(Role::Customer).await;
    let mut existing = Vec::new();
    for i in 0..7 {
        let t = app.ticket(&customer.token, &format!("Existing {i}")).await;
        existing.push(t["id"].as_str().unwrap().to_owned());
    }
    app.ticket(&other.token, "Not yours").await;

    // Newest first (the default): tickets created meanwhile are above the cursor.
    let mut created = Vec::new();
    let seen = walk(
        &app,
        &customer.token,
        "/api/tickets?per_page=3",
        async |round| {
            let t = app
                .ticket(&customer.token, &format!("Meanwhile {round}"))
                .await;
            created.push(t["id"].as_str().unwrap().to_owned());
        },
    )
    .await;
    let mut expected = existing.clone();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, each once");

    // Oldest first: those created meanwhile come at the end, and are seen exactly once too.
    let before: HashSet<String> = existing.iter().chain(&created).cloned().collect();
    let mut later = Vec::new();
    let seen = walk(
        &app,
        &customer.token,
        "/api/tickets?per_page=4&order=asc&status=new",
        async |round| {
            let t = app.ticket(&customer.token, &format!("Later {round}")).await;
            later.push(t["id"].as_str().unwrap().to_owned());
        },
    )
    .await;
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a ticket came twice: {seen:?}");
    assert!(
        before.iter().all(|id| seen.contains(id)),
        "a ticket was skipped"
    );
    let expected: Vec<String> = existing
        .iter()
        .chain(&created)
        .chain(&later)
        .cloned()
        .collect();
    assert_eq!(
        seen, expected,
        "oldest first, each once, the new ones at the end"
    );

    // By number, descending, with a filter kept in the link.
    let page = app
        .get(
            "/api/tickets?sort=number&per_page=2&status=new",
            Some(&customer.token),
        )
        .await;
    let next = page.body["next"].as_str().unwrap().to_owned();
    assert!(
        next.contains("status=new") && next.contains("sort=number"),
        "{next}"
    );
    assert!(
        !next.contains("page=") || next.contains("per_page=2"),
        "{next}"
    );
    let numbers = |r: &Resp| -> Vec<i64> {
        r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_i64().unwrap())
            .collect()
    };
    let first = numbers(&page);
    let second = app.get(&next, Some(&customer.token)).await;
    let second_numbers = numbers(&second);
    assert!(
        first[1] > second_numbers[0],
        "{first:?} then {second_numbers:?}"
    );
    // A cursor page has no count; a numbered page says whether more follow.
    assert!(second.body.get("count").is_none(), "{}", second.text);
    assert_eq!(page.body["has_more"], true);
    let last_page = app
        .get("/api/tickets?per_page=100", Some(&customer.token))
        .await;
    assert_eq!(last_page.body["has_more"], false);
    assert!(last_page.body.get("next").is_none());
}

async fn message_pages_continue_where_they_stopped(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    let agent = app.user(Role::Agent).await;
    let ticket = app.ticket(&customer.token, "A long conversation").await;
    let path = format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap());
    let mut written = Vec::new();
    for i in 0..5 {
        let m = app
            .post(
                &path,
                Some(&customer.token),
                &json!({"body": format!("message {i}")}),
            )
            .await;
        written.push(m.assert_ok(201)["id"].as_str().unwrap().to_owned());
    }
    app.post(
        &path,
        Some(&agent.token),
        &json!({"body": "note", "internal": true}),
    )
    .await;
    let mut more = Vec::new();
    let seen = walk(
        &app,
        &customer.token,
        &format!("{path}?per_page=2"),
        async |round| {
            let m = app
                .post(
                    &path,
                    Some(&customer.token),
                    &json!({"body": format!("meanwhile {round}")}),
                )
                .await;
            more.push(m.assert_ok(201)["id"].as_str().unwrap().to_owned());
        },
    )
    .await;
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");
    let expected: Vec<String> = written.iter().chain(&more).cloned().collect();
    assert_eq!(
        seen, expected,
        "in order, each once, those written meanwhile at the end"
    );
    // Staff also get the internal note.
    let staff = walk(
        &app,
        &agent.token,
        &format!("{path}?per_page=3"),
        async |_| {},
    )
    .await;
    assert_eq!(staff.len(), seen.len() + 1);
}

async fn forged_and_foreign_cursors_are_400s(app: TestApp) {
    let customer = app.user(Role::Customer).await;
    for i in 0..3 {
        app.ticket(&customer.token, &format!("T{i}")).await;
    }
    let page = app
        .get("/api/tickets?per_page=1", Some(&customer.token))
        .await;
    let next = page.body["next"].as_str().unwrap().to_owned();
    let cursor = next.split("after=").nth(1).unwrap().to_owned();
    let (payload, tag) = cursor.split_once('.').unwrap();
    // A payload with one character changed, the MAC kept.
    let mut bytes = payload.as_bytes().to_vec();
    bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{tag}", String::from_utf8(bytes).unwrap());
    let ticket = app.ticket(&customer.token, "With messages").await;
    let messages = format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap());
    for bad in [
        tampered.as_str(),
        "garbage",
        "eyJsIjoidGlja2V0cyJ9.AAAA",
        &"x".repeat(600),
    ] {
        app.get(&format!("/api/tickets?after={bad}"), Some(&customer.token))
            .await
            .assert_error(400, "invalid_cursor");
        app.get(&format!("{messages}?after={bad}"), Some(&customer.token))
            .await
            .assert_error(400, "invalid_cursor");
    }
    // A cursor of one order is not one of another, nor of another list.
    app.get(
        &format!("/api/tickets?order=asc&after={cursor}"),
        Some(&customer.token),
    )
    .await
    .assert_error(400, "invalid_cursor");
    app.get(&format!("{messages}?after={cursor}"), Some(&customer.token))
        .await
        .assert_error(400, "invalid_cursor");
    // Orders whose keys change have no cursors; page and after do not mix.
    app.get(
        &format!("/api/tickets?sort=updated_at&after={cursor}"),
        Some(&customer.token),
    )
    .await
    .assert_error(400, "invalid_query");
    app.get(
        &format!("/api/tickets?page=2&after={cursor}"),
        Some(&customer.token),
    )
    .await
    .assert_error(400, "invalid_query");
    let updated = app
        .get(
            "/api/tickets?sort=updated_at&per_page=1",
            Some(&customer.token),
        )
        .await;
    assert_eq!(updated.body["has_more"], true);
    assert!(updated.body.get("next").is_none());
    // The real cursor still works.
    let _: Value = app
        .get(&next, Some(&customer.token))
        .await
        .assert_ok(200)
        .clone();
}
