//! Hostile query strings: pages far past the end of any list. Every bound is a 400 with a
//! code, answered before any work is done, on every route that takes the parameter. The
//! routes come from the OpenAPI document, so a new list is covered without touching this file.

use shared::{Paging, Role};

use crate::helpers::TestApp;

crate::db_tests!(huge_pages_are_a_bad_query_on_every_paged_list);

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
