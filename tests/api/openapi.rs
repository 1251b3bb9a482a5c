//! The published OpenAPI document as a client generator or a fuzzer reads it: every reference
//! resolves.

use serde_json::Value;

use crate::helpers::TestApp;

crate::db_tests!(every_reference_resolves);

async fn spec(app: &TestApp) -> Value {
    let resp = app.get("/api/openapi.json", None).await;
    assert_eq!(resp.status.as_u16(), 200);
    resp.body
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
