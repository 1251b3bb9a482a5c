//! The published OpenAPI document as a client generator or a fuzzer reads it: every reference
//! resolves, every operation documents the errors its shape implies, the bounds are the
//! shared constants, and the server answers the documented 415s and 400s.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::{Paging, Role, validate::SearchText};

use crate::helpers::TestApp;

crate::db_tests!(
    every_reference_resolves,
    every_operation_documents_the_errors_its_shape_implies,
    query_parameters_carry_the_documented_bounds,
    json_bodies_of_another_content_type_are_415s,
    malformed_path_ids_are_400s,
);

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// Every status the API answers with (docs/api.md).
const KNOWN_STATUSES: [&str; 16] = [
    "200", "201", "204", "304", "400", "401", "403", "404", "409", "413", "415", "422", "429",
    "500", "503", "default",
];

async fn spec(app: &TestApp) -> Value {
    let resp = app.get("/api/openapi.json", None).await;
    assert_eq!(resp.status.as_u16(), 200);
    resp.body
}

/// `(method, path, operation)` for every operation of the document.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
        for key in item.as_object().unwrap().keys() {
            assert!(
                METHODS.contains(&key.as_str()),
                "{path}: `{key}` is not checked here"
            );
        }
    }
    assert!(out.len() >= 40, "only {} operations", out.len());
    out
}

/// Resolves a local reference (`#/a/b`) as a JSON pointer.
fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    spec.pointer(reference.strip_prefix('#')?)
}

/// Collects every `$ref` anywhere below `value` with where it was found.
fn references(value: &Value, at: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    out.push((
                        at.clone(),
                        child.as_str().unwrap_or("<not a string>").to_owned(),
                    ));
                } else {
                    references(child, format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                references(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

async fn every_reference_resolves(app: TestApp) {
    let spec = spec(&app).await;
    let mut refs = Vec::new();
    references(&spec, String::new(), &mut refs);
    assert!(refs.len() > 50, "only {} references", refs.len());
    let dangling: Vec<String> = refs
        .iter()
        .filter(|(_, r)| resolve(&spec, r).is_none())
        .map(|(at, r)| format!("{at}: {r}"))
        .collect();
    assert!(
        dangling.is_empty(),
        "dangling references:\n{}",
        dangling.join("\n")
    );
    // The two the fuzzing report found are schemas now.
    for name in ["TicketSort", "SortOrder"] {
        assert!(spec["components"]["schemas"][name].is_object(), "{name}");
    }
}

fn has_param(op: &Value, place: &str) -> bool {
    op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == place))
}

async fn every_operation_documents_the_errors_its_shape_implies(app: TestApp) {
    let spec = spec(&app).await;
    let mut problems = Vec::new();
    for (method, path, op) in operations(&spec) {
        let responses = op["responses"].as_object().unwrap();
        let codes: BTreeSet<&str> = responses.keys().map(String::as_str).collect();
        let mut need = |code: &str, why: &str| {
            if !codes.contains(code) {
                problems.push(format!("{method} {path}: no {code} ({why})"));
            }
        };
        if op["requestBody"]["content"]
            .get("application/json")
            .is_some()
        {
            need("400", "JSON body: invalid_json");
            need("413", "JSON body: payload_too_large");
            need("415", "JSON body: unsupported_media_type");
        }
        if has_param(&op, "path") {
            need("400", "path id: bad_request");
            need("404", "path id: not_found");
        }
        if has_param(&op, "query") {
            need("400", "query: invalid_query");
        }
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            need("401", "bearer token");
        }
        need("500", "internal_error");
        if !codes.iter().any(|c| c.starts_with('2')) {
            problems.push(format!("{method} {path}: no success response"));
        }

        for (code, response) in responses {
            if !KNOWN_STATUSES.contains(&code.as_str()) {
                problems.push(format!("{method} {path}: unexpected status {code}"));
            }
            let response = match response.get("$ref").and_then(Value::as_str) {
                Some(r) => resolve(&spec, r).cloned().unwrap_or(Value::Null),
                None => response.clone(),
            };
            if response["description"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{method} {path} {code}: no description"));
            }
            // Every error is the error envelope.
            if code.starts_with('4') || code.starts_with('5') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if schema != "#/components/schemas/ErrorBody" {
                    problems.push(format!("{method} {path} {code}: not an ErrorBody"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

async fn query_parameters_carry_the_documented_bounds(app: TestApp) {
    let spec = spec(&app).await;
    let mut seen = BTreeSet::new();
    for (method, path, op) in operations(&spec) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] != "query" {
                continue;
            }
            let name = p["name"].as_str().unwrap();
            let schema = &p["schema"];
            let at = format!("{method} {path} ?{name}");
            let is_integer = schema["type"] == "integer"
                || schema["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("integer")));
            if is_integer {
                // No number the server cannot hold: every integer has both bounds.
                assert!(schema["minimum"].is_number(), "{at}: no minimum");
                assert!(schema["maximum"].is_number(), "{at}: no maximum");
            }
            match name {
                "page" => {
                    assert_eq!(schema["minimum"], 1, "{at}");
                    assert_eq!(schema["maximum"], Paging::MAX_PAGE, "{at}");
                }
                "per_page" => {
                    assert_eq!(schema["minimum"], 1, "{at}");
                    assert_eq!(schema["maximum"], Paging::MAX_PER_PAGE, "{at}");
                }
                "q" => assert_eq!(schema["maxLength"], SearchText::MAX_CHARS, "{at}"),
                _ => continue,
            }
            seen.insert(name.to_owned());
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from(["page".to_owned(), "per_page".to_owned(), "q".to_owned()])
    );
}

/// Path templates filled in: ids from `id`.
/// The path with every parameter (`{id}`, `{macro_id}`, …) set to `id`.
fn concrete(path: &str, id: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                id
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn json_bodies_of_another_content_type_are_415s(app: TestApp) {
    let spec = spec(&app).await;
    // Callers who pass the role check (an admin; an agent for an agent's own profile; a
    // customer for a journey submission), so
    // the body is what is judged.
    let admin = app.user(Role::Admin).await;
    let agent = app.user(Role::Agent).await;
    let customer = app.user(Role::Customer).await;
    let mut checked = 0;
    for (method, path, op) in operations(&spec) {
        if op["requestBody"]["content"]
            .get("application/json")
            .is_none()
        {
            continue;
        }
        let url = app.url(&concrete(&path, &uuid::Uuid::new_v4().to_string()));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
            let mut req = app
                .client
                .request(method.clone(), &url)
                .header("Content-Type", content_type)
                .body("{}");
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                let caller = if path.starts_with("/api/agents/me") {
                    &agent
                } else if path.ends_with("/submit") || path.ends_with("/csat") {
                    // Customers submit journeys and rate tickets.
                    &customer
                } else {
                    &admin
                };
                req = req.bearer_auth(&caller.token);
            }
            let resp = app.raw(req).await;
            assert_eq!(
                (resp.status.as_u16(), resp.code()),
                (415, "unsupported_media_type"),
                "{method} {path} as {content_type}: {}",
                resp.text
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} JSON-body operations");
}

async fn malformed_path_ids_are_400s(app: TestApp) {
    let spec = spec(&app).await;
    // Callers who pass the role check (see above), so the path is what is judged.
    let admin = app.user(Role::Admin).await;
    let customer = app.user(Role::Customer).await;
    let mut checked = 0;
    for (method, path, op) in operations(&spec) {
        if !has_param(&op, "path") {
            continue;
        }
        for bad in ["not-a-uuid", "42", "00000000-0000-0000-0000-00000000000g"] {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app
                .request(
                    method.clone(),
                    &concrete(&path, bad),
                    Some(if path.ends_with("/submit") || path.ends_with("/csat") {
                        &customer.token
                    } else {
                        &admin.token
                    }),
                    Some(&json!({})),
                )
                .await;
            assert_eq!(
                (resp.status.as_u16(), resp.code()),
                (400, "bad_request"),
                "{method} {path} with id {bad}: {}",
                resp.text
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} operations with a path id");
}
