//! Hostile query strings: pages far past the end of any list, search text far longer than
//! anyone types, and an export that fails halfway. Every bound is a 400 with a
//! code, answered before any work is done, on every route that takes the parameter. The
//! routes come from the OpenAPI document, so a new list is covered without touching this file.

use sea_orm::ConnectionTrait;
use shared::{Paging, Role, validate::SearchText};

use crate::helpers::TestApp;

crate::db_tests!(
    huge_pages_are_a_bad_query_on_every_paged_list,
    overlong_search_text_is_a_bad_query_before_any_byte,
    an_export_that_fails_midway_is_not_a_clean_end,
);

/// The path of every GET operation with a query parameter called `name`, with `{id}`
/// replaced by `id`.
async fn operations_with_query_param(app: &TestApp, name: &str, id: &str) -> Vec<String> {
    let spec = app.get("/api/openapi.json", None).await;
    let mut out = Vec::new();
    for (path, item) in spec.body["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let takes_it = op["parameters"].as_array().is_some_and(|params| {
            params
                .iter()
                .any(|p| p["in"] == "query" && p["name"] == name)
        });
        if takes_it {
            out.push(path.replace("{id}", id));
        }
    }
    out.sort();
    out
}

async fn huge_pages_are_a_bad_query_on_every_paged_list(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let ticket = app.ticket(&customer.token, "Paging").await;
    let tid = ticket["id"].as_str().unwrap();
    let paths = operations_with_query_param(&app, "page", tid).await;
    for expected in [
        "/api/agents".to_owned(),
        "/api/journeys".to_owned(),
        "/api/tags".to_owned(),
        "/api/tickets".to_owned(),
        "/api/tickets/export.csv".to_owned(),
        format!("/api/tickets/{tid}/history"),
        format!("/api/tickets/{tid}/messages"),
        "/api/users".to_owned(),
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} not found in {paths:?}"
        );
    }

    for path in &paths {
        for query in [
            "page=9223372036854775807".to_owned(),
            "page=9223372036854775807&per_page=100".to_owned(),
            // (page - 1) * 25 passes 2^63.
            "page=368934881474191034&per_page=25".to_owned(),
            "page=18446744073709551615".to_owned(),
            format!("page={}", Paging::MAX_PAGE + 1),
            "page=0".to_owned(),
            "page=-1".to_owned(),
            "per_page=101".to_owned(),
        ] {
            app.get(&format!("{path}?{query}"), Some(&admin.token))
                .await
                .assert_error(400, "invalid_query");
        }
        // The last page allowed is simply empty.
        let last = app
            .get(
                &format!(
                    "{path}?page={}&per_page={}",
                    Paging::MAX_PAGE,
                    Paging::MAX_PER_PAGE
                ),
                Some(&admin.token),
            )
            .await;
        if path.ends_with(".csv") {
            // The export ignores paging: the whole list.
            assert_eq!(last.status.as_u16(), 200, "{path}: {}", last.text);
            assert!(last.text.contains("Paging"), "{path}: {}", last.text);
        } else {
            let data = last.assert_ok(200);
            assert_eq!(data.as_array().map(Vec::len), Some(0), "{path}");
            assert_eq!(last.body["page"], Paging::MAX_PAGE, "{path}");
        }
    }
}

/// Search text longer than the documented bound, or with control characters, is refused on
/// every route that takes `q`, the CSV export included: a JSON 400 before any CSV byte.
async fn overlong_search_text_is_a_bad_query_before_any_byte(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    app.ticket(&customer.token, "Printer 100% _jammed_ \\ ünïcödé")
        .await;
    let paths = operations_with_query_param(&app, "q", "-").await;
    assert_eq!(
        paths,
        [
            "/api/macros",
            "/api/tags",
            "/api/tickets",
            "/api/tickets/export.csv",
            "/api/users"
        ],
        "the routes that search"
    );
    let too_long = "a".repeat(SearchText::MAX_CHARS + 1);
    // What the fuzzing report sent: SQLite refused the LIKE pattern with a 500.
    let huge = "a".repeat(49_999);
    for path in &paths {
        for q in [too_long.as_str(), huge.as_str(), "nul%00byte", "tab%09tab"] {
            let resp = app.get(&format!("{path}?q={q}"), Some(&admin.token)).await;
            resp.assert_error(400, "invalid_query");
            assert!(
                resp.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{path}: {:?}",
                resp.headers
            );
        }
        // The longest allowed text, with LIKE's special characters and multi-byte ones,
        // is an ordinary search.
        let longest = format!("{}%_\\ü", "é".repeat(SearchText::MAX_CHARS - 4));
        let resp = app
            .get(
                &format!("{path}?q={}", encode(&longest)),
                Some(&admin.token),
            )
            .await;
        assert_eq!(resp.status.as_u16(), 200, "{path}: {}", resp.text);
    }
    // The search itself still works: LIKE's special characters are no wildcards, they
    // separate words like any other symbol.
    let found = app
        .get(
            &format!("/api/tickets?q={}", encode("100% _jammed_ \\")),
            Some(&admin.token),
        )
        .await;
    assert_eq!(found.assert_ok(200).as_array().unwrap().len(), 1);
    let none = app
        .get(
            &format!("/api/tickets?q={}", encode("_jammed_%printer")),
            Some(&admin.token),
        )
        .await;
    assert_eq!(none.assert_ok(200).as_array().unwrap().len(), 0);

    // The exact-match category filter has the bound of a stored category.
    for path in ["/api/tickets", "/api/tickets/export.csv"] {
        for category in ["c".repeat(101), "nul%00".to_owned()] {
            app.get(&format!("{path}?category={category}"), Some(&admin.token))
                .await
                .assert_error(400, "invalid_query");
        }
    }
}

/// A database failure after the CSV export started must not look like a complete file: the
/// chunked response is cut off without its final chunk, so every HTTP client reports an
/// error instead of a short CSV.
async fn an_export_that_fails_midway_is_not_a_clean_end(app: TestApp) {
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    app.ticket(&customer.token, "Exported").await;
    let complete = app
        .client
        .get(app.url("/api/tickets/export.csv"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(complete.status().as_u16(), 200);
    assert!(complete.text().await.unwrap().contains("Exported"));

    // Validation passes and the header goes out; then the rows cannot be read.
    app.db
        .execute_unprepared("ALTER TABLE tickets RENAME TO tickets_gone")
        .await
        .unwrap();
    let result = app
        .client
        .get(app.url("/api/tickets/export.csv"))
        .bearer_auth(&admin.token)
        .send()
        .await;
    match result {
        // Nothing arrived at all: just as detectable.
        Err(_) => {}
        Ok(resp) => {
            assert_eq!(resp.status().as_u16(), 200);
            let body = resp.text().await;
            assert!(
                body.is_err(),
                "a failed export ended like a complete file: {body:?}"
            );
        }
    }
}

/// Percent-encodes everything but unreserved ASCII.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
