//! Unit tests: parsing, every validation problem, every node type, rule op and eval error.

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::tickets::Priority;

/// The example document from the design brief. Note that `items` is unreachable in it.
const EXAMPLE: &str = r#"{
  "startNode": "what",
  "nodes": {
    "what": {"type": "question", "questionType": "single_choice", "title": "What went wrong?", "help": "optional text",
             "required": true,
             "options": [{"value": "damaged", "label": "Item arrived damaged", "next": "photos"},
                         {"value": "late", "label": "It is late"}],
             "next": "details"},
    "photos": {"type": "question", "questionType": "image_upload", "title": "Photos of the damage", "required": false, "maxFiles": 3, "next": "details"},
    "details": {"type": "question", "questionType": "text", "title": "Tell us more", "required": true, "minLength": 10, "maxLength": 2000, "multiline": true, "next": "route"},
    "items": {"type": "question", "questionType": "multiple_choice", "title": "Which items?", "required": true, "minSelections": 1, "maxSelections": 3,
              "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}], "next": "route"},
    "route": {"type": "condition", "title": "optional label",
              "branches": [{"match": "all", "rules": [{"node": "what", "op": "equals", "value": "damaged"}], "next": "end-damaged"}],
              "default": "end-other"},
    "end-damaged": {"type": "end", "category": "orders/damaged", "priority": "high", "subject": "Damaged order: {details}"},
    "end-other": {"type": "end", "category": "orders", "priority": "medium", "subject": "Order problem: {what}"}
  }
}"#;

fn example_value() -> Value {
    serde_json::from_str(EXAMPLE).expect("example is JSON")
}

/// The example made valid: "late" now asks which items (so `items` is reachable), and
/// `items` allows at most its 2 options rather than 3.
fn example_fixed() -> JourneyDefinition {
    let mut v = example_value();
    v["nodes"]["what"]["options"][1]["next"] = json!("items");
    v["nodes"]["items"]["maxSelections"] = json!(2);
    def(v)
}

fn def(v: Value) -> JourneyDefinition {
    serde_json::from_value(v).expect("definition parses")
}

fn answers(v: Value) -> Answers {
    serde_json::from_value(v).expect("answers parse")
}

fn problems(v: Value) -> Vec<Problem> {
    match validate(&def(v)) {
        Ok(()) => Vec::new(),
        Err(p) => p,
    }
}

fn codes(v: Value) -> Vec<ProblemCode> {
    problems(v).into_iter().map(|p| p.code).collect()
}

/// Asserts that `v` has exactly one problem, with this code and node.
fn only(v: Value, code: ProblemCode, node: Option<&str>) {
    let p = problems(v);
    assert_eq!(p.len(), 1, "expected exactly one problem, got {p:#?}");
    assert_eq!(p[0].code, code, "{p:#?}");
    assert_eq!(p[0].node_id.as_deref(), node, "{p:#?}");
    assert!(!p[0].message.is_empty());
}

fn end(category: &str) -> Value {
    json!({"type": "end", "category": category, "priority": "low", "subject": "About {q}"})
}

/// A minimal valid journey: one required text question, one end.
fn base() -> Value {
    json!({
        "startNode": "q",
        "nodes": {
            "q": {"type": "question", "questionType": "text", "title": "Describe it", "required": true, "next": "e"},
            "e": end("general")
        }
    })
}

fn eval_err(d: &JourneyDefinition, a: Value) -> EvalError {
    evaluate(d, &answers(a)).expect_err("evaluation fails")
}

fn eval_ok(d: &JourneyDefinition, a: Value) -> Outcome {
    evaluate(d, &answers(a)).expect("evaluation succeeds")
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn example_parses_and_round_trips() {
    let d = def(example_value());
    assert_eq!(d.start_node, "what");
    assert_eq!(d.nodes.len(), 7);
    let Some(Node::Question(Question::Text(t))) = d.nodes.get("details") else {
        panic!("details is a text question");
    };
    assert_eq!((t.min(), t.max(), t.multiline), (10, 2000, true));
    let json = serde_json::to_value(&d).expect("serializes");
    assert_eq!(json["nodes"]["what"]["questionType"], "single_choice");
    assert_eq!(json["nodes"]["what"]["type"], "question");
    assert_eq!(json["nodes"]["route"]["branches"][0]["match"], "all");
    assert_eq!(json["nodes"]["photos"]["maxFiles"], 3);
    let back: JourneyDefinition = serde_json::from_value(json).expect("round trips");
    assert_eq!(back, d);
}

#[test]
fn the_brief_example_has_two_problems_in_items() {
    // `items` has 2 options but maxSelections 3, and nothing leads to it.
    let p = problems(example_value());
    let got: Vec<_> = p.iter().map(|p| (p.code, p.node_id.as_deref())).collect();
    assert_eq!(
        got,
        [
            (ProblemCode::InvalidLimits, Some("items")),
            (ProblemCode::UnreachableNode, Some("items")),
        ]
    );
    assert_eq!(validate(&example_fixed()), Ok(()));
}

#[test]
fn unknown_fields_are_rejected_everywhere() {
    let cases = [
        ("/extra", json!(1)),
        ("/nodes/what/colour", json!("red")),
        ("/nodes/what/options/0/colour", json!("red")),
        ("/nodes/photos/minFiles", json!(1)),
        ("/nodes/details/maxSelections", json!(1)),
        ("/nodes/route/branches/0/colour", json!(1)),
        ("/nodes/route/branches/0/rules/0/colour", json!(1)),
        ("/nodes/route/colour", json!(1)),
        ("/nodes/end-other/colour", json!(1)),
        // An option of a multiple choice question has no `next`.
        ("/nodes/items/options/0/next", json!("route")),
    ];
    for (pointer, extra) in cases {
        let mut v = example_value();
        let (parent, field) = pointer.rsplit_once('/').expect("pointer has a slash");
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("parent exists")
            .insert(field.to_owned(), extra);
        let err = serde_json::from_value::<JourneyDefinition>(v);
        assert!(err.is_err(), "{pointer} should be rejected");
    }
}

#[test]
fn unknown_types_wrong_types_and_missing_fields_are_rejected() {
    let mutations: [(&str, Value); 8] = [
        ("/nodes/what/type", json!("questionnaire")),
        ("/nodes/what/questionType", json!("dropdown")),
        ("/nodes/what/required", json!("yes")),
        ("/nodes/details/maxLength", json!(-1)),
        ("/nodes/details/maxLength", json!(5_000_000_000u64)),
        ("/nodes/end-other/priority", json!("critical")),
        ("/nodes/route/branches/0/match", json!("some")),
        ("/nodes/route/branches/0/rules/0/op", json!("greater_than")),
    ];
    for (pointer, value) in mutations {
        let mut v = example_value();
        *v.pointer_mut(pointer).expect("pointer exists") = value;
        assert!(
            serde_json::from_value::<JourneyDefinition>(v).is_err(),
            "{pointer}"
        );
    }
    for pointer in [
        "/nodes/details/next",
        "/nodes/route/default",
        "/nodes/what/required",
    ] {
        let mut v = example_value();
        let (parent, field) = pointer.rsplit_once('/').expect("pointer has a slash");
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("parent exists")
            .remove(field);
        assert!(
            serde_json::from_value::<JourneyDefinition>(v).is_err(),
            "missing {pointer}"
        );
    }
    let mut v = example_value();
    v["nodes"]["route"]["branches"][0]["rules"][0]["value"] = json!(3);
    assert!(serde_json::from_value::<JourneyDefinition>(v).is_err());
}

#[test]
fn duplicate_node_ids_in_json_are_rejected() {
    let text = r#"{"startNode": "q", "nodes": {
        "q": {"type": "end", "category": "a", "priority": "low", "subject": "s"},
        "q": {"type": "end", "category": "b", "priority": "low", "subject": "s"}}}"#;
    let err = serde_json::from_str::<JourneyDefinition>(text).expect_err("duplicate key");
    assert!(err.to_string().contains("duplicate key `q`"), "{err}");
}

#[test]
fn answers_parse_strings_arrays_and_null() {
    let a = answers(json!({"a": "x", "b": ["y", "z"], "c": null, "d": []}));
    assert_eq!(a["a"], Some(Answer::One("x".into())));
    assert_eq!(a["b"], Some(Answer::Many(vec!["y".into(), "z".into()])));
    assert_eq!(a["c"], None);
    assert_eq!(a["d"], Some(Answer::Many(vec![])));
    assert_eq!(
        serde_json::to_value(&a).expect("serializes"),
        json!({"a": "x", "b": ["y", "z"], "c": null, "d": []})
    );
    for bad in [
        json!({"a": 1}),
        json!({"a": true}),
        json!({"a": [1]}),
        json!({"a": {}}),
    ] {
        assert!(serde_json::from_value::<Answers>(bad).is_err());
    }
    let err = serde_json::from_value::<Answers>(json!({"a": 1})).expect_err("number");
    assert!(
        err.to_string().contains("a string or an array of strings"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Validation: one test per problem code

#[test]
fn base_journey_is_valid() {
    assert_eq!(codes(base()), vec![]);
}

#[test]
fn problem_codes_serialize_as_their_wire_names() {
    for code in ProblemCode::ALL {
        let json = serde_json::to_value(code).expect("serializes");
        assert_eq!(json, json!(code.as_str()));
        assert_eq!(code.to_string(), code.as_str());
    }
    let p = Problem {
        node_id: Some("q".into()),
        code: ProblemCode::Cycle,
        message: "m".into(),
    };
    assert_eq!(
        serde_json::to_value(&p).expect("serializes"),
        json!({"node_id": "q", "code": "cycle", "message": "m"})
    );
}

#[test]
fn too_many_nodes() {
    let mut v = base();
    // A valid chain q -> c0 -> c1 -> ... -> e of 201 nodes.
    let nodes = v["nodes"].as_object_mut().expect("object");
    nodes["q"]["next"] = json!("c0");
    for i in 0..199 {
        let next = if i == 198 {
            "e".to_owned()
        } else {
            format!("c{}", i + 1)
        };
        nodes.insert(
            format!("c{i}"),
            json!({"type": "condition", "branches": [], "default": next}),
        );
    }
    only(v, ProblemCode::TooManyNodes, None);
}

#[test]
fn two_hundred_nodes_are_fine_and_walk() {
    let mut v = base();
    let nodes = v["nodes"].as_object_mut().expect("object");
    nodes["q"]["next"] = json!("c0");
    for i in 0..198 {
        let next = if i == 197 {
            "e".to_owned()
        } else {
            format!("c{}", i + 1)
        };
        nodes.insert(
            format!("c{i}"),
            json!({"type": "condition",
                   "branches": [{"match": "any", "rules": [{"node": "q", "op": "is_empty"}], "next": "e"}],
                   "default": next}),
        );
    }
    let d = def(v);
    assert_eq!(validate(&d), Ok(()));
    let o = eval_ok(&d, json!({"q": "hello"}));
    assert_eq!(o.path.len(), 200);
}

#[test]
fn huge_documents_do_not_blow_the_stack() {
    // 20 000 nodes in one long cycle: iterative walks only.
    let n = 20_000;
    let mut nodes = serde_json::Map::new();
    for i in 0..n {
        nodes.insert(
            format!("c{i}"),
            json!({"type": "condition", "branches": [], "default": format!("c{}", (i + 1) % n)}),
        );
    }
    let d = def(json!({"startNode": "c0", "nodes": nodes}));
    let p = validate(&d).expect_err("invalid");
    assert!(p.iter().any(|p| p.code == ProblemCode::TooManyNodes));
    assert!(p.iter().any(|p| p.code == ProblemCode::Cycle));
    assert_eq!(
        evaluate(&d, &Answers::new()).map_err(|e| e.code()),
        Err(EvalErrorCode::InvalidDefinition)
    );
}

#[test]
fn invalid_node_id() {
    let long = "x".repeat(65);
    for bad in [
        "has space",
        "dots.not.allowed",
        "ünïcode",
        long.as_str(),
        "{q}",
    ] {
        let mut v = base();
        v["nodes"]["q"]["next"] = json!(bad);
        v["nodes"][bad] = json!({"type": "question", "questionType": "text", "title": "T", "required": true, "next": "e"});
        // The bad id is reachable and leads on, so the only problem is its name.
        only(v, ProblemCode::InvalidNodeId, Some(bad));
    }
    let mut v = base();
    v["nodes"]["q"]["next"] = json!("");
    v["nodes"][""] = json!({"type": "question", "questionType": "text", "title": "T", "required": true, "next": "e"});
    only(v, ProblemCode::InvalidNodeId, Some(""));
    let long = "x".repeat(64);
    for good in ["a", "A-b_9", long.as_str()] {
        assert!(is_valid_node_id(good), "{good}");
    }
}

#[test]
fn missing_start() {
    let mut v = base();
    v["startNode"] = json!("nope");
    only(v, ProblemCode::MissingStart, None);
    let mut v = base();
    v["startNode"] = json!("");
    only(v, ProblemCode::MissingStart, None);
}

#[test]
fn unknown_target() {
    let mut v = base();
    v["nodes"]["q"]["next"] = json!("nowhere");
    let p = problems(v);
    assert!(
        p.iter()
            .any(|p| p.code == ProblemCode::UnknownTarget && p.node_id.as_deref() == Some("q"))
    );
    // `e` is now unreachable too.
    assert!(p.iter().any(|p| p.code == ProblemCode::UnreachableNode));

    let mut v = example_value();
    v["nodes"]["what"]["options"][0]["next"] = json!("nowhere");
    let c = codes(v);
    assert!(c.contains(&ProblemCode::UnknownTarget), "{c:?}");

    let mut v = example_value();
    v["nodes"]["route"]["default"] = json!("nowhere");
    v["nodes"]["route"]["branches"][0]["next"] = json!("");
    let p = problems(v);
    let targets: Vec<_> = p
        .iter()
        .filter(|p| p.code == ProblemCode::UnknownTarget)
        .collect();
    assert_eq!(targets.len(), 2, "{p:#?}");
}

#[test]
fn unreachable_node() {
    let mut v = base();
    v["nodes"]["orphan"] = end("other");
    only(v, ProblemCode::UnreachableNode, Some("orphan"));
}

#[test]
fn cycle() {
    let v = json!({
        "startNode": "a",
        "nodes": {
            "a": {"type": "question", "questionType": "text", "title": "A", "required": false, "next": "b"},
            "b": {"type": "condition", "branches": [{"match": "any", "rules": [{"node": "a", "op": "is_empty"}], "next": "a"}], "default": "e"},
            "e": {"type": "end", "category": "x", "priority": "low", "subject": "{a}"}
        }
    });
    let p = problems(v);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].code, ProblemCode::Cycle);
    assert!(p[0].message.contains("a -> b -> a"), "{}", p[0].message);
    // A node that leads to itself.
    let mut v = base();
    v["nodes"]["q"]["next"] = json!("q");
    let c = codes(v);
    assert!(c.contains(&ProblemCode::Cycle), "{c:?}");
}

#[test]
fn dead_end() {
    // An option without `next` on a question without `next`.
    let mut v = example_fixed_value();
    v["nodes"]["what"]
        .as_object_mut()
        .expect("object")
        .remove("next");
    v["nodes"]["what"]["options"]
        .as_array_mut()
        .expect("array")
        .push(json!({"value": "other", "label": "Other"}));
    only(v, ProblemCode::DeadEnd, Some("what"));
    // An optional single choice question needs a `next` for when it is skipped.
    let mut v = example_fixed_value();
    v["nodes"]["what"]
        .as_object_mut()
        .expect("object")
        .remove("next");
    v["nodes"]["what"]["options"][1]["next"] = json!("items");
    assert_eq!(codes(v.clone()), vec![]);
    v["nodes"]["what"]["required"] = json!(false);
    only(v, ProblemCode::DeadEnd, Some("what"));
}

fn example_fixed_value() -> Value {
    serde_json::to_value(example_fixed()).expect("serializes")
}

#[test]
fn empty_field() {
    let cases: [(&str, Value, &str); 6] = [
        ("/nodes/what/title", json!("   "), "what"),
        ("/nodes/what/options/0/value", json!(""), "what"),
        ("/nodes/items/options/0/label", json!(" "), "items"),
        ("/nodes/end-other/category", json!(""), "end-other"),
        ("/nodes/end-other/subject", json!(" "), "end-other"),
        ("/nodes/route/branches/0/rules", json!([]), "route"),
    ];
    for (pointer, value, node) in cases {
        let mut v = example_fixed_value();
        *v.pointer_mut(pointer).expect("pointer exists") = value;
        let p = problems(v);
        assert!(
            p.iter()
                .any(|p| p.code == ProblemCode::EmptyField && p.node_id.as_deref() == Some(node)),
            "{pointer}: {p:#?}"
        );
    }
}

#[test]
fn field_too_long() {
    let cases: [(&str, Value); 7] = [
        ("/nodes/what/title", json!("t".repeat(501))),
        ("/nodes/what/help", json!("h".repeat(2001))),
        ("/nodes/what/options/0/label", json!("l".repeat(201))),
        ("/nodes/items/options/0/value", json!("v".repeat(101))),
        ("/nodes/route/title", json!("t".repeat(501))),
        ("/nodes/end-other/category", json!("c".repeat(101))),
        ("/nodes/end-other/subject", json!("s".repeat(201))),
    ];
    for (pointer, value) in cases {
        let mut v = example_fixed_value();
        *v.pointer_mut(pointer).expect("pointer exists") = value;
        let c = codes(v);
        assert!(c.contains(&ProblemCode::FieldTooLong), "{pointer}: {c:?}");
    }
    // Limits count chars, not bytes.
    let mut v = example_fixed_value();
    v["nodes"]["end-other"]["subject"] = json!("é".repeat(200));
    assert_eq!(codes(v), vec![]);
}

#[test]
fn no_options_and_too_many_options() {
    let mut v = example_fixed_value();
    v["nodes"]["items"]["options"] = json!([]);
    v["nodes"]["items"]
        .as_object_mut()
        .expect("object")
        .remove("maxSelections");
    only(v, ProblemCode::NoOptions, Some("items"));

    let mut v = example_fixed_value();
    let options: Vec<Value> = (0..51)
        .map(|i| json!({"value": format!("v{i}"), "label": format!("L{i}")}))
        .collect();
    v["nodes"]["items"]["options"] = json!(options);
    only(v, ProblemCode::TooManyOptions, Some("items"));
}

#[test]
fn duplicate_option() {
    let mut v = example_fixed_value();
    v["nodes"]["items"]["options"][1]["value"] = json!("a");
    only(v, ProblemCode::DuplicateOption, Some("items"));
}

#[test]
fn invalid_limits() {
    let cases: [(&str, Value); 11] = [
        ("/nodes/details/minLength", json!(2001)),
        ("/nodes/details/maxLength", json!(0)),
        ("/nodes/details/maxLength", json!(10_001)),
        ("/nodes/details/minLength", json!(10_001)),
        ("/nodes/items/maxSelections", json!(0)),
        ("/nodes/items/maxSelections", json!(3)),
        ("/nodes/items/minSelections", json!(3)),
        ("/nodes/photos/maxFiles", json!(0)),
        ("/nodes/photos/maxFiles", json!(11)),
        ("/nodes/items/maxSelections", json!(u32::MAX)),
        ("/nodes/details/maxLength", json!(u32::MAX)),
    ];
    for (pointer, value) in cases {
        let mut v = example_fixed_value();
        if pointer.starts_with("/nodes/items/") {
            // Two options, so the brief's maxSelections 3 is itself too many: fix it first.
            v["nodes"]["items"]["maxSelections"] = json!(2);
        }
        let (parent, field) = pointer.rsplit_once('/').expect("pointer has a slash");
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("parent exists")
            .insert(field.to_owned(), value);
        let p = problems(v);
        assert!(!p.is_empty(), "{pointer}");
        assert!(
            p.iter().all(|p| p.code == ProblemCode::InvalidLimits),
            "{pointer}: {p:#?}"
        );
    }
    // min > max on selections and lengths.
    let mut v = example_fixed_value();
    v["nodes"]["items"]["minSelections"] = json!(2);
    v["nodes"]["items"]["maxSelections"] = json!(1);
    only(v, ProblemCode::InvalidLimits, Some("items"));
    let mut v = example_fixed_value();
    v["nodes"]["details"]["minLength"] = json!(20);
    v["nodes"]["details"]["maxLength"] = json!(19);
    only(v, ProblemCode::InvalidLimits, Some("details"));
}

#[test]
fn too_many_branches_and_rules() {
    let rule = json!({"node": "what", "op": "is_empty"});
    let mut v = example_fixed_value();
    let branches: Vec<Value> = (0..51)
        .map(|_| json!({"match": "all", "rules": [rule], "next": "end-damaged"}))
        .collect();
    v["nodes"]["route"]["branches"] = json!(branches);
    only(v, ProblemCode::TooManyBranches, Some("route"));

    let mut v = example_fixed_value();
    v["nodes"]["route"]["branches"][0]["rules"] = json!(vec![rule; 51]);
    only(v, ProblemCode::TooManyRules, Some("route"));
}

#[test]
fn rule_node_not_question() {
    for node in ["nowhere", "end-other", "route"] {
        let mut v = example_fixed_value();
        v["nodes"]["route"]["branches"][0]["rules"][0] = json!({"node": node, "op": "is_empty"});
        only(v, ProblemCode::RuleNodeNotQuestion, Some("route"));
    }
}

#[test]
fn rule_node_not_before() {
    // `photos` is only asked on the "damaged" path, so it does not dominate `route`.
    let mut v = example_fixed_value();
    v["nodes"]["route"]["branches"][0]["rules"][0] = json!({"node": "photos", "op": "is_empty"});
    only(v, ProblemCode::RuleNodeNotBefore, Some("route"));
    // Nor is `details`, which the "late" path skips.
    let mut v = example_fixed_value();
    v["nodes"]["route"]["branches"][0]["rules"][0] = json!({"node": "details", "op": "is_empty"});
    only(v, ProblemCode::RuleNodeNotBefore, Some("route"));
    // Once `items` leads to `details`, `details` is on every path to `route`.
    let mut v = example_fixed_value();
    v["nodes"]["items"]["next"] = json!("details");
    v["nodes"]["route"]["branches"][0]["rules"][0] = json!({"node": "details", "op": "is_empty"});
    assert_eq!(codes(v), vec![]);
    // A question after the condition is not before it.
    let v = json!({
        "startNode": "c",
        "nodes": {
            "c": {"type": "condition", "branches": [{"match": "all", "rules": [{"node": "q", "op": "is_empty"}], "next": "q"}], "default": "q"},
            "q": {"type": "question", "questionType": "text", "title": "Q", "required": false, "next": "e"},
            "e": end("x")
        }
    });
    only(v, ProblemCode::RuleNodeNotBefore, Some("c"));
}

#[test]
fn invalid_rule_op() {
    let cases = [
        ("what", "contains", json!("damaged")),
        ("photos", "equals", json!("x")),
        ("photos", "any_of", json!(["x"])),
        ("photos", "contains", json!("x")),
        ("photos", "not_equals", json!("x")),
    ];
    for (node, op, value) in cases {
        let v = single_rule_journey(json!({"node": node, "op": op, "value": value}));
        only(v, ProblemCode::InvalidRuleOp, Some("route"));
    }
}

/// The fixed example with `photos` asked on every path and `route` holding one rule.
fn single_rule_journey(rule: Value) -> Value {
    let mut v = example_fixed_value();
    v["nodes"]["what"]["next"] = json!("photos");
    v["nodes"]["what"]["options"][0]["next"] = json!("photos");
    v["nodes"]["what"]["options"][1]["next"] = json!("photos");
    v["nodes"]["photos"]["next"] = json!("items");
    v["nodes"]["items"]["next"] = json!("details");
    v["nodes"]["items"]["maxSelections"] = json!(2);
    v["nodes"]["route"]["branches"][0]["rules"] = json!([rule]);
    v
}

#[test]
fn invalid_rule_value() {
    let cases = [
        // Missing, superfluous, wrong shape.
        json!({"node": "what", "op": "equals"}),
        json!({"node": "what", "op": "is_empty", "value": "damaged"}),
        json!({"node": "what", "op": "equals", "value": ["damaged"]}),
        json!({"node": "what", "op": "any_of", "value": "damaged"}),
        json!({"node": "items", "op": "equals", "value": "a"}),
        json!({"node": "items", "op": "contains", "value": ["a"]}),
        json!({"node": "details", "op": "contains", "value": ["x"]}),
        json!({"node": "details", "op": "is_not_empty", "value": []}),
        // Not an option.
        json!({"node": "what", "op": "equals", "value": "broken"}),
        json!({"node": "what", "op": "any_of", "value": ["damaged", "broken"]}),
        json!({"node": "items", "op": "contains", "value": "c"}),
        json!({"node": "items", "op": "equals", "value": ["a", "c"]}),
        // Empty, blank, too many, too long.
        json!({"node": "what", "op": "any_of", "value": []}),
        json!({"node": "details", "op": "equals", "value": "  "}),
        json!({"node": "details", "op": "any_of", "value": vec!["x"; 51]}),
        json!({"node": "details", "op": "contains", "value": "x".repeat(501)}),
    ];
    for rule in cases {
        let v = single_rule_journey(rule.clone());
        let p = problems(v);
        assert_eq!(p.len(), 1, "{rule}: {p:#?}");
        assert_eq!(p[0].code, ProblemCode::InvalidRuleValue, "{rule}: {p:#?}");
    }
}

#[test]
fn invalid_template_and_unknown_placeholder() {
    for bad in [
        "Open {details",
        "Close }",
        "Empty {}",
        "Nested {a{b}",
        "x } {details}",
    ] {
        let mut v = example_fixed_value();
        v["nodes"]["end-other"]["subject"] = json!(bad);
        only(v, ProblemCode::InvalidTemplate, Some("end-other"));
    }
    for bad in ["{nowhere}", "{route}", "{end-other}", "{has space}"] {
        let mut v = example_fixed_value();
        v["nodes"]["end-other"]["subject"] = json!(format!("x {bad}"));
        only(v, ProblemCode::UnknownPlaceholder, Some("end-other"));
    }
    let mut v = example_fixed_value();
    v["nodes"]["end-other"]["subject"] = json!("{{literal}} {what}{details}");
    assert_eq!(codes(v), vec![]);
}

#[test]
fn all_problems_are_reported_at_once() {
    let v = json!({
        "startNode": "missing",
        "nodes": {
            "bad id": {"type": "question", "questionType": "single_choice", "title": "", "required": true,
                       "options": [{"value": "a", "label": "A"}, {"value": "a", "label": ""}]},
            "e": {"type": "end", "category": "", "priority": "low", "subject": "{nope"}
        }
    });
    let c = codes(v);
    for code in [
        ProblemCode::MissingStart,
        ProblemCode::InvalidNodeId,
        ProblemCode::EmptyField,
        ProblemCode::DuplicateOption,
        ProblemCode::DeadEnd,
        ProblemCode::InvalidTemplate,
    ] {
        assert!(c.contains(&code), "{code:?} missing from {c:?}");
    }
}

#[test]
fn valid_journey_type_checks_once() {
    let vj = ValidJourney::new(example_fixed()).expect("valid");
    assert_eq!(vj.definition().start_node, "what");
    assert_eq!(vj.end_nodes(), vec!["end-damaged", "end-other"]);
    let err = ValidJourney::try_from(def(example_value())).expect_err("invalid");
    assert_eq!(err.len(), 2);
    assert_eq!(vj.clone().into_definition(), example_fixed());
}

#[test]
fn paths_enumerates_every_structural_path() {
    let vj = ValidJourney::new(example_fixed()).expect("valid");
    let paths = vj.paths(100);
    let want: Vec<Vec<&str>> = vec![
        vec!["what", "photos", "details", "route", "end-damaged"],
        vec!["what", "photos", "details", "route", "end-other"],
        vec!["what", "items", "route", "end-damaged"],
        vec!["what", "items", "route", "end-other"],
    ];
    assert_eq!(paths, want);
    assert_eq!(vj.paths(1).len(), 1);
    assert!(vj.paths(0).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Evaluation of the example

#[test]
fn example_damaged_path() {
    let d = example_fixed();
    let id = Uuid::new_v4();
    let o = eval_ok(
        &d,
        json!({"what": "damaged", "photos": [id.to_string()], "details": "  The box\nwas crushed  "}),
    );
    assert_eq!(o.category, "orders/damaged");
    assert_eq!(o.priority, Priority::High);
    assert_eq!(o.subject, "Damaged order: The box was crushed");
    assert_eq!(
        o.path,
        ["what", "photos", "details", "route", "end-damaged"]
    );
    assert_eq!(o.end_node(), Some("end-damaged"));
    let t: Vec<(&str, &str, &str)> = o
        .transcript
        .iter()
        .map(|e| (e.node_id.as_str(), e.question.as_str(), e.display.as_str()))
        .collect();
    assert_eq!(
        t,
        [
            ("what", "What went wrong?", "Item arrived damaged"),
            ("photos", "Photos of the damage", "1 image"),
            ("details", "Tell us more", "The box\nwas crushed"),
        ]
    );
    assert_eq!(
        o.transcript[2].answer,
        Some(Answer::One("The box\nwas crushed".into()))
    );
    assert_eq!(o.transcript[1].question_type, QuestionType::ImageUpload);
    assert_eq!(o.attachment_ids(), vec![id]);
    // The normalised answers give back the same outcome.
    assert_eq!(evaluate(&d, &o.answers()), Ok(o.clone()));
    // next agrees.
    assert_eq!(next(&d, &o.answers()), Ok(Step::End(o)));
}

#[test]
fn example_late_path_and_subject_labels() {
    let d = example_fixed();
    let o = eval_ok(&d, json!({"what": "late", "items": ["b", "a"]}));
    assert_eq!(o.path, ["what", "items", "route", "end-other"]);
    assert_eq!(o.category, "orders");
    assert_eq!(o.priority, Priority::Medium);
    assert_eq!(o.subject, "Order problem: It is late");
    // Multiple choice answers are normalised to option order and shown as labels.
    assert_eq!(
        o.transcript[1].answer,
        Some(Answer::Many(vec!["a".into(), "b".into()]))
    );
    assert_eq!(o.transcript[1].display, "A, B");
    assert!(o.attachment_ids().is_empty());
}

#[test]
fn next_walks_the_example_step_by_step() {
    let d = example_fixed();
    let step = |a: Value| next(&d, &answers(a)).expect("next");
    let q = |id: &str| Step::Question {
        node_id: id.to_owned(),
    };
    assert_eq!(step(json!({})), q("what"));
    assert_eq!(step(json!({"what": "damaged"})), q("photos"));
    assert_eq!(
        step(json!({"what": "damaged", "photos": null})),
        q("details")
    );
    let Step::End(o) = step(json!({"what": "damaged", "photos": null, "details": "0123456789"}))
    else {
        panic!("ends");
    };
    assert_eq!(o.end_node(), Some("end-damaged"));
    assert_eq!(o.transcript[1].answer, None);
    assert_eq!(o.transcript[1].display, "");
    // Changing an earlier answer: the stale `photos` and `details` answers are ignored until
    // the path reaches them again.
    assert_eq!(
        step(json!({"what": "late", "photos": null, "details": "0123456789"})),
        q("items")
    );
    let Step::End(o) =
        step(json!({"what": "late", "photos": null, "items": ["a"], "details": "x"}))
    else {
        panic!("ends");
    };
    assert_eq!(o.path, ["what", "items", "route", "end-other"]);
    // ... but evaluate rejects them.
    assert_eq!(
        eval_err(&d, json!({"what": "late", "photos": null, "items": ["a"]})),
        EvalError::NotOnPath {
            node_id: "photos".into()
        }
    );
    // Step JSON.
    assert_eq!(
        serde_json::to_value(q("what")).expect("serializes"),
        json!({"type": "question", "node_id": "what"})
    );
    let end = serde_json::to_value(step(json!({"what": "late", "items": ["a"]}))).expect("json");
    assert_eq!(end["type"], "end");
    assert_eq!(end["category"], "orders");
    assert_eq!(end["transcript"][0]["question_type"], "single_choice");
}

#[test]
fn next_checks_answers_on_the_path() {
    let d = example_fixed();
    assert_eq!(
        next(&d, &answers(json!({"what": "nope"}))),
        Err(EvalError::UnknownOption {
            node_id: "what".into(),
            value: "nope".into()
        })
    );
    assert_eq!(
        next(&d, &answers(json!({"ghost": "x"}))).map_err(|e| e.code()),
        Err(EvalErrorCode::UnknownNode)
    );
}

// ---------------------------------------------------------------------------------------------
// Skip semantics

#[test]
fn skips() {
    let d = example_fixed();
    // Optional question absent: evaluate skips it, next stops at it.
    let o = eval_ok(
        &d,
        json!({"what": "damaged", "details": "long enough text"}),
    );
    assert_eq!(
        o.path,
        ["what", "photos", "details", "route", "end-damaged"]
    );
    assert_eq!(o.transcript[1].answer, None);
    assert_eq!(
        next(
            &d,
            &answers(json!({"what": "damaged", "details": "long enough text"}))
        ),
        Ok(Step::Question {
            node_id: "photos".into()
        })
    );
    // Explicit null and empty array are skips too.
    for photos in [json!(null), json!([])] {
        let o = eval_ok(
            &d,
            json!({"what": "damaged", "photos": photos, "details": "long enough text"}),
        );
        assert_eq!(o.transcript[1].answer, None);
    }
    // Required questions cannot be skipped in any way.
    for what in [json!(null), json!(""), json!("   ")] {
        assert_eq!(
            eval_err(&d, json!({"what": what})),
            EvalError::MissingRequired {
                node_id: "what".into()
            }
        );
    }
    assert_eq!(
        eval_err(&d, json!({})),
        EvalError::MissingRequired {
            node_id: "what".into()
        }
    );
    assert_eq!(
        eval_err(&d, json!({"what": "damaged", "details": " \n\t "})),
        EvalError::MissingRequired {
            node_id: "details".into()
        }
    );
    assert_eq!(
        eval_err(&d, json!({"what": "late", "items": []})),
        EvalError::MissingRequired {
            node_id: "items".into()
        }
    );
}

#[test]
fn optional_text_blank_is_a_skip_even_with_min_length() {
    let mut v = base();
    v["nodes"]["q"]["required"] = json!(false);
    v["nodes"]["q"]["minLength"] = json!(5);
    let d = def(v);
    for blank in [json!(""), json!("   "), json!(null)] {
        let o = eval_ok(&d, json!({"q": blank}));
        assert_eq!(o.transcript[0].answer, None);
    }
    assert_eq!(
        eval_err(&d, json!({"q": "abc"})),
        EvalError::TooShort {
            node_id: "q".into(),
            min: 5
        }
    );
}

#[test]
fn skipping_a_single_choice_follows_the_node_next() {
    let mut v = example_fixed_value();
    v["nodes"]["what"]["required"] = json!(false);
    let d = def(v);
    let o = eval_ok(&d, json!({"what": null, "details": "0123456789"}));
    assert_eq!(o.path, ["what", "details", "route", "end-other"]);
    // The default subject shows "" for the skipped answer; the trailing space is trimmed.
    assert_eq!(o.subject, "Order problem:");
}

// ---------------------------------------------------------------------------------------------
// Every EvalError

#[test]
fn eval_errors() {
    let d = example_fixed();
    let uuid = Uuid::new_v4().to_string();
    let e = |a: Value| eval_err(&d, a);
    assert_eq!(
        e(json!({"ghost": "x"})),
        EvalError::UnknownNode {
            node_id: "ghost".into()
        }
    );
    assert_eq!(
        e(json!({"route": "x"})),
        EvalError::UnknownNode {
            node_id: "route".into()
        }
    );
    assert_eq!(
        e(json!({"what": ["damaged"]})),
        EvalError::WrongAnswerType {
            node_id: "what".into(),
            expected: AnswerShape::String
        }
    );
    assert_eq!(
        e(json!({"what": "late", "items": "a"})),
        EvalError::WrongAnswerType {
            node_id: "items".into(),
            expected: AnswerShape::Array
        }
    );
    assert_eq!(
        e(json!({"what": "damaged", "photos": uuid})),
        EvalError::WrongAnswerType {
            node_id: "photos".into(),
            expected: AnswerShape::Array
        }
    );
    assert_eq!(
        e(json!({"what": "damaged", "photos": [], "details": ["x"]})),
        EvalError::WrongAnswerType {
            node_id: "details".into(),
            expected: AnswerShape::String
        }
    );
    // Text may not be an empty array either (shape first, then blankness).
    assert_eq!(
        e(json!({"what": "damaged", "details": []})).code(),
        EvalErrorCode::WrongAnswerType
    );
    assert_eq!(
        e(json!({"what": "Damaged"})),
        EvalError::UnknownOption {
            node_id: "what".into(),
            value: "Damaged".into()
        }
    );
    assert_eq!(
        e(json!({"what": "late", "items": ["a", "z"]})),
        EvalError::UnknownOption {
            node_id: "items".into(),
            value: "z".into()
        }
    );
    assert_eq!(
        e(json!({"what": "late", "items": ["a", "a"]})),
        EvalError::DuplicateSelection {
            node_id: "items".into(),
            value: "a".into()
        }
    );
    assert_eq!(
        e(json!({"what": "damaged", "details": "too short"})),
        EvalError::TooShort {
            node_id: "details".into(),
            min: 10
        }
    );
    // Length is counted in chars after trimming.
    assert_eq!(
        e(json!({"what": "damaged", "details": "   éééééééé   "})).code(),
        EvalErrorCode::TooShort
    );
    assert!(
        evaluate(
            &d,
            &answers(json!({"what": "damaged", "details": "éééééééééé"}))
        )
        .is_ok()
    );
    assert_eq!(
        e(json!({"what": "damaged", "details": "x".repeat(2001)})),
        EvalError::TooLong {
            node_id: "details".into(),
            max: 2000
        }
    );
    assert!(
        evaluate(
            &d,
            &answers(json!({"what": "damaged", "details": format!("  {}  ", "x".repeat(2000))}))
        )
        .is_ok()
    );
    assert_eq!(
        e(json!({"what": "damaged", "photos": ["not-a-uuid"]})),
        EvalError::InvalidAttachmentId {
            node_id: "photos".into(),
            value: "not-a-uuid".into()
        }
    );
    assert_eq!(
        e(json!({"what": "damaged", "photos": [uuid, uuid.to_uppercase()]})),
        EvalError::DuplicateAttachment {
            node_id: "photos".into(),
            value: uuid.clone()
        }
    );
    let four: Vec<String> = (0..4).map(|_| Uuid::new_v4().to_string()).collect();
    assert_eq!(
        e(json!({"what": "damaged", "photos": four})),
        EvalError::TooManyFiles {
            node_id: "photos".into(),
            max: 3
        }
    );
    assert_eq!(
        e(json!({"what": "late", "items": ["a"], "details": "0123456789"})),
        EvalError::NotOnPath {
            node_id: "details".into()
        }
    );
    assert_eq!(
        e(json!({"what": "damaged", "details": "0123456789", "items": null})),
        EvalError::NotOnPath {
            node_id: "items".into()
        }
    );
    // invalid_definition
    let err = evaluate(&def(example_value()), &Answers::new()).expect_err("invalid");
    let EvalError::InvalidDefinition { problems } = &err else {
        panic!("{err:?}");
    };
    assert!(
        problems
            .iter()
            .any(|p| p.code == ProblemCode::UnreachableNode)
    );
    assert_eq!(err.node_id(), None);
    assert!(err.to_string().contains("items"), "{err}");
    assert_eq!(
        next(&def(example_value()), &Answers::new()).map_err(|e| e.code()),
        Err(EvalErrorCode::InvalidDefinition)
    );
}

#[test]
fn too_few_and_too_many_selections() {
    let mut v = example_fixed_value();
    v["nodes"]["items"]["options"] = json!([
        {"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "c", "label": "C"}
    ]);
    v["nodes"]["items"]["minSelections"] = json!(2);
    v["nodes"]["items"]["maxSelections"] = json!(2);
    let d = def(v);
    assert_eq!(
        eval_err(&d, json!({"what": "late", "items": ["a"]})),
        EvalError::TooFewSelections {
            node_id: "items".into(),
            min: 2
        }
    );
    assert_eq!(
        eval_err(&d, json!({"what": "late", "items": ["a", "b", "c"]})),
        EvalError::TooManySelections {
            node_id: "items".into(),
            max: 2
        }
    );
    assert!(evaluate(&d, &answers(json!({"what": "late", "items": ["c", "a"]}))).is_ok());
}

#[test]
fn eval_error_json_and_codes_agree() {
    let errors = [
        EvalError::InvalidDefinition { problems: vec![] },
        EvalError::UnknownNode {
            node_id: "n".into(),
        },
        EvalError::NotOnPath {
            node_id: "n".into(),
        },
        EvalError::MissingRequired {
            node_id: "n".into(),
        },
        EvalError::WrongAnswerType {
            node_id: "n".into(),
            expected: AnswerShape::Array,
        },
        EvalError::UnknownOption {
            node_id: "n".into(),
            value: "v".into(),
        },
        EvalError::DuplicateSelection {
            node_id: "n".into(),
            value: "v".into(),
        },
        EvalError::TooFewSelections {
            node_id: "n".into(),
            min: 1,
        },
        EvalError::TooManySelections {
            node_id: "n".into(),
            max: 1,
        },
        EvalError::TooShort {
            node_id: "n".into(),
            min: 1,
        },
        EvalError::TooLong {
            node_id: "n".into(),
            max: 1,
        },
        EvalError::InvalidAttachmentId {
            node_id: "n".into(),
            value: "v".into(),
        },
        EvalError::DuplicateAttachment {
            node_id: "n".into(),
            value: "v".into(),
        },
        EvalError::TooManyFiles {
            node_id: "n".into(),
            max: 1,
        },
    ];
    for err in errors {
        let json = serde_json::to_value(&err).expect("serializes");
        assert_eq!(json["code"], err.code().as_str());
        assert_eq!(
            serde_json::to_value(err.code()).expect("serializes"),
            json!(err.code().as_str())
        );
        if err.code() != EvalErrorCode::InvalidDefinition {
            assert_eq!(json["node_id"], "n");
            assert_eq!(err.node_id(), Some("n"));
        }
        assert!(!err.to_string().is_empty());
        let back: EvalError = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, err);
    }
    assert_eq!(
        serde_json::to_value(EvalError::TooShort {
            node_id: "details".into(),
            min: 10
        })
        .expect("serializes"),
        json!({"code": "too_short", "node_id": "details", "min": 10})
    );
}

#[test]
fn echoed_values_are_clipped() {
    let d = example_fixed();
    let err = eval_err(&d, json!({"what": "x".repeat(10_000)}));
    let EvalError::UnknownOption { value, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(value.chars().count(), 100);
}

#[test]
fn attachment_ids_are_canonicalised() {
    let d = example_fixed();
    let id = Uuid::new_v4();
    let o = eval_ok(
        &d,
        json!({"what": "damaged", "photos": [id.simple().to_string().to_uppercase()], "details": "0123456789"}),
    );
    assert_eq!(
        o.transcript[1].answer,
        Some(Answer::Many(vec![id.to_string()]))
    );
    assert_eq!(o.attachment_ids(), vec![id]);
}

// ---------------------------------------------------------------------------------------------
// Rules

/// Optional questions of every type, then a condition with one branch to `yes`, else `no`.
fn rule_journey(rules: Value, mode: &str) -> JourneyDefinition {
    let v = json!({
        "startNode": "single",
        "nodes": {
            "single": {"type": "question", "questionType": "single_choice", "title": "S", "required": false,
                       "options": [{"value": "a", "label": "Alpha"}, {"value": "b", "label": "Beta"}, {"value": "c", "label": "Gamma"}],
                       "next": "multi"},
            "multi": {"type": "question", "questionType": "multiple_choice", "title": "M", "required": false,
                      "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}, {"value": "z", "label": "Z"}],
                      "next": "text"},
            "text": {"type": "question", "questionType": "text", "title": "T", "required": false, "next": "images"},
            "images": {"type": "question", "questionType": "image_upload", "title": "I", "required": false, "next": "cond"},
            "cond": {"type": "condition", "branches": [{"match": mode, "rules": rules, "next": "yes"}], "default": "no"},
            "yes": {"type": "end", "category": "yes", "priority": "low", "subject": "yes"},
            "no": {"type": "end", "category": "no", "priority": "low", "subject": "no"}
        }
    });
    let d = def(v);
    assert_eq!(validate(&d), Ok(()));
    d
}

/// Does the branch match for these answers?
fn takes(rules: Value, mode: &str, a: Value) -> bool {
    let d = rule_journey(rules, mode);
    let o = eval_ok(&d, a);
    match o.end_node() {
        Some("yes") => true,
        Some("no") => false,
        other => panic!("ended at {other:?}"),
    }
}

fn one(node: &str, op: &str, value: Value) -> Value {
    if value.is_null() {
        json!([{"node": node, "op": op}])
    } else {
        json!([{"node": node, "op": op, "value": value}])
    }
}

#[test]
fn rule_equals_and_not_equals() {
    let img = Uuid::new_v4().to_string();
    let eq = |node: &str, value: Value, a: Value| takes(one(node, "equals", value), "all", a);
    let ne = |node: &str, value: Value, a: Value| takes(one(node, "not_equals", value), "all", a);
    assert!(eq("single", json!("a"), json!({"single": "a"})));
    assert!(!eq("single", json!("a"), json!({"single": "b"})));
    assert!(!eq("single", json!("a"), json!({})));
    assert!(ne("single", json!("a"), json!({"single": "b"})));
    assert!(!ne("single", json!("a"), json!({"single": "a"})));
    assert!(ne("single", json!("a"), json!({"single": null})));
    // Text: trimmed and case-insensitive.
    assert!(eq("text", json!("Hello"), json!({"text": "  hELLO "})));
    assert!(!eq("text", json!("Hello"), json!({"text": "Hello there"})));
    assert!(ne("text", json!("Hello"), json!({"text": ""})));
    // Multiple choice: the same set.
    assert!(eq("multi", json!(["x", "y"]), json!({"multi": ["y", "x"]})));
    assert!(!eq("multi", json!(["x", "y"]), json!({"multi": ["x"]})));
    assert!(!eq("multi", json!(["x"]), json!({"multi": ["x", "z"]})));
    assert!(ne(
        "multi",
        json!(["x"]),
        json!({"multi": ["x", "z"], "images": [img]})
    ));
}

#[test]
fn rule_contains() {
    let c =
        |node: &str, value: &str, a: Value| takes(one(node, "contains", json!(value)), "all", a);
    assert!(c("multi", "y", json!({"multi": ["x", "y"]})));
    assert!(!c("multi", "z", json!({"multi": ["x", "y"]})));
    assert!(!c("multi", "z", json!({})));
    assert!(c("text", "BROKEN", json!({"text": "It arrived broken."})));
    assert!(c("text", "ké", json!({"text": "CAFÉ KÉBAB"})));
    assert!(!c("text", "broken", json!({"text": "fine"})));
    assert!(!c("text", "broken", json!({"text": null})));
}

#[test]
fn rule_any_of() {
    let a = |node: &str, value: Value, ans: Value| takes(one(node, "any_of", value), "all", ans);
    assert!(a("single", json!(["a", "c"]), json!({"single": "c"})));
    assert!(!a("single", json!(["a", "c"]), json!({"single": "b"})));
    assert!(!a("single", json!(["a", "c"]), json!({})));
    assert!(a("multi", json!(["x", "z"]), json!({"multi": ["y", "z"]})));
    assert!(!a("multi", json!(["x"]), json!({"multi": ["y", "z"]})));
    assert!(a("text", json!(["yes", "ok"]), json!({"text": " OK "})));
    assert!(!a("text", json!(["yes", "ok"]), json!({"text": "okay"})));
}

#[test]
fn rule_is_empty_and_is_not_empty() {
    let img = Uuid::new_v4().to_string();
    let empty = |node: &str, ans: Value| takes(one(node, "is_empty", Value::Null), "all", ans);
    let full = |node: &str, ans: Value| takes(one(node, "is_not_empty", Value::Null), "all", ans);
    for node in ["single", "multi", "text", "images"] {
        assert!(empty(node, json!({})), "{node} absent");
        assert!(empty(node, json!({node: null})), "{node} null");
        assert!(!full(node, json!({})), "{node} absent");
    }
    assert!(empty("text", json!({"text": "   "})));
    assert!(empty("multi", json!({"multi": []})));
    assert!(empty("images", json!({"images": []})));
    assert!(full("single", json!({"single": "a"})));
    assert!(full("multi", json!({"multi": ["x"]})));
    assert!(full("text", json!({"text": "x"})));
    assert!(full("images", json!({"images": [img]})));
    assert!(!empty("images", json!({"images": [img]})));
}

#[test]
fn match_all_and_any() {
    let rules = json!([
        {"node": "single", "op": "equals", "value": "a"},
        {"node": "text", "op": "is_not_empty"}
    ]);
    assert!(takes(
        rules.clone(),
        "all",
        json!({"single": "a", "text": "t"})
    ));
    assert!(!takes(rules.clone(), "all", json!({"single": "a"})));
    assert!(!takes(rules.clone(), "all", json!({"text": "t"})));
    assert!(takes(rules.clone(), "any", json!({"single": "a"})));
    assert!(takes(rules.clone(), "any", json!({"text": "t"})));
    assert!(!takes(rules, "any", json!({"single": "b"})));
}

#[test]
fn first_matching_branch_wins_else_default() {
    let mut v = serde_json::to_value(rule_journey(one("single", "is_empty", Value::Null), "all"))
        .expect("serializes");
    v["nodes"]["cond"]["branches"] = json!([
        {"match": "all", "rules": [{"node": "single", "op": "equals", "value": "a"}], "next": "first"},
        {"match": "any", "rules": [{"node": "single", "op": "any_of", "value": ["a", "b"]}], "next": "second"}
    ]);
    v["nodes"]["first"] =
        json!({"type": "end", "category": "first", "priority": "urgent", "subject": "1"});
    v["nodes"]["second"] =
        json!({"type": "end", "category": "second", "priority": "low", "subject": "2"});
    v["nodes"].as_object_mut().expect("object").remove("yes");
    let d = def(v);
    assert_eq!(validate(&d), Ok(()));
    let end = |a: Value| eval_ok(&d, a).category;
    assert_eq!(end(json!({"single": "a"})), "first");
    assert_eq!(end(json!({"single": "b"})), "second");
    assert_eq!(end(json!({"single": "c"})), "no");
    assert_eq!(end(json!({})), "no");
    // A condition without branches always takes its default.
    let mut v = base();
    v["nodes"]["q"]["next"] = json!("c");
    v["nodes"]["c"] = json!({"type": "condition", "branches": [], "default": "e"});
    let o = eval_ok(&def(v), json!({"q": "x"}));
    assert_eq!(o.path, ["q", "c", "e"]);
}

// ---------------------------------------------------------------------------------------------
// Subjects

fn subject_journey(subject: &str) -> JourneyDefinition {
    let mut v = serde_json::to_value(rule_journey(one("single", "is_empty", Value::Null), "all"))
        .expect("serializes");
    v["nodes"]["yes"]["subject"] = json!(subject);
    v["nodes"]["no"]["subject"] = json!(subject);
    def(v)
}

#[test]
fn subject_rendering() {
    let ids: Vec<String> = (0..3).map(|_| Uuid::new_v4().to_string()).collect();
    let d = subject_journey("[{single}] [{multi}] [{text}] [{images}]");
    let o = eval_ok(
        &d,
        json!({"single": "b", "multi": ["z", "x"], "text": "  line one\r\n\tline two  ", "images": ids}),
    );
    assert_eq!(o.subject, "[Beta] [X, Z] [line one line two] [3 images]");
    let o = eval_ok(&d, json!({"images": [ids[0]]}));
    assert_eq!(o.subject, "[] [] [] [1 image]");
    let d = subject_journey("{{literal}} {text}");
    assert_eq!(eval_ok(&d, json!({"text": "x"})).subject, "{literal} x");
}

#[test]
fn subject_is_cut_to_200_chars_on_a_char_boundary() {
    let d = subject_journey("Problem: {text}");
    let o = eval_ok(&d, json!({"text": "é".repeat(500)}));
    assert_eq!(o.subject.chars().count(), 200);
    assert!(o.subject.starts_with("Problem: éé"));
    let o = eval_ok(&d, json!({"text": "🎉".repeat(300)}));
    assert_eq!(o.subject.chars().count(), 200);
}

#[test]
fn subject_falls_back_to_category_when_empty() {
    let d = subject_journey("{text}");
    // `single` is unanswered, so the branch to `yes` is taken.
    assert_eq!(eval_ok(&d, json!({})).subject, "yes");
    assert_eq!(eval_ok(&d, json!({"text": "hi"})).subject, "hi");
}

#[test]
fn subject_drops_control_characters() {
    let d = subject_journey("S: {text}");
    assert_eq!(
        eval_ok(&d, json!({"text": "a\u{0}b\u{7} c\u{1b}[31m"})).subject,
        "S: ab c[31m"
    );
}

#[test]
fn template_parsing() {
    assert_eq!(
        parse_template("a {b} {{c}}"),
        Ok(vec![
            Segment::Literal("a ".into()),
            Segment::Placeholder("b"),
            Segment::Literal(" {c}".into()),
        ])
    );
    assert_eq!(parse_template(""), Ok(vec![]));
    assert!(parse_template("{").is_err());
    assert!(parse_template("}").is_err());
    assert!(parse_template("{}").is_err());
    assert!(parse_template("é{").is_err());
    let rendered = render_subject(
        &example_fixed(),
        "{what}: {details}",
        &answers(json!({"what": "late", "details": "x\ny"})),
    );
    assert_eq!(rendered, "It is late: x y");
}

// ---------------------------------------------------------------------------------------------
// Single questions, as the live form checks them

#[test]
fn check_answer_per_question() {
    let d = example_fixed();
    let details = d.question("details").expect("question");
    assert_eq!(details.question_type(), QuestionType::Text);
    assert_eq!(details.title(), "Tell us more");
    assert!(details.required());
    assert_eq!(details.next(), Some("route"));
    assert_eq!(
        d.question("what").and_then(Question::help),
        Some("optional text")
    );
    assert!(d.question("route").is_none());
    assert_eq!(
        details.check_answer("details", Some(&Answer::One(" 0123456789 ".into()))),
        Ok(Some(Answer::One("0123456789".into())))
    );
    assert_eq!(
        details
            .check_answer("details", Some(&Answer::One("short".into())))
            .map_err(|e| e.code()),
        Err(EvalErrorCode::TooShort)
    );
    let photos = d.question("photos").expect("question");
    assert_eq!(photos.check_answer("photos", None), Ok(None));
    assert_eq!(QuestionType::ImageUpload.to_string(), "image_upload");
    assert_eq!(RuleOp::AnyOf.to_string(), "any_of");
}

#[test]
fn hostile_documents_stay_cheap() {
    // Many back edges: at most 20 cycle problems are reported.
    let mut nodes = serde_json::Map::new();
    for i in 0..300 {
        let branches: Vec<Value> = (0..60)
            .map(|b| json!({"match": "any", "rules": [], "next": format!("c{}", (i + b) % 300)}))
            .collect();
        nodes.insert(
            format!("c{i}"),
            json!({"type": "condition", "branches": branches, "default": "c0"}),
        );
    }
    let p = validate(&def(json!({"startNode": "c0", "nodes": nodes}))).expect_err("invalid");
    let cycles = p.iter().filter(|p| p.code == ProblemCode::Cycle).count();
    assert_eq!(cycles, 20);
    // 20 000 options on one question.
    let options: Vec<Value> = (0..20_000)
        .map(|i| json!({"value": format!("v{i}"), "label": "L", "next": format!("t{}", i % 7)}))
        .collect();
    let d = def(json!({"startNode": "q", "nodes": {
        "q": {"type": "question", "questionType": "single_choice", "title": "Q", "required": true, "options": options}
    }}));
    let p = validate(&d).expect_err("invalid");
    assert!(p.iter().any(|p| p.code == ProblemCode::TooManyOptions));
    assert_eq!(
        successors(d.nodes.get("q").expect("node")).len(),
        7,
        "successors are deduplicated"
    );
}

#[test]
fn rule_matches_is_usable_on_its_own() {
    let d = example_fixed();
    let details = d.question("details").expect("question");
    let text = Answer::One("  The Parcel was CRUSHED ".into());
    let one = RuleValue::One("crushed".into());
    assert!(rule_matches(
        RuleOp::Contains,
        Some(&one),
        details,
        Some(&text)
    ));
    assert!(!rule_matches(
        RuleOp::Equals,
        Some(&one),
        details,
        Some(&text)
    ));
    assert!(rule_matches(
        RuleOp::NotEquals,
        Some(&one),
        details,
        Some(&text)
    ));
    assert!(rule_matches(RuleOp::IsEmpty, None, details, None));
    // Wrong shapes never match.
    let many = RuleValue::Many(vec!["crushed".into()]);
    assert!(!rule_matches(
        RuleOp::Contains,
        Some(&many),
        details,
        Some(&text)
    ));
}

#[test]
fn steps_round_trip_through_json() {
    let d = example_fixed();
    for a in [json!({}), json!({"what": "late", "items": ["a"]})] {
        let step = next(&d, &answers(a)).expect("next");
        let json = serde_json::to_string(&step).expect("serializes");
        let back: Step = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, step);
    }
}

#[test]
fn end_node_tags_are_checked_and_reach_the_outcome() {
    let mut v = base();
    v["nodes"]["e"]["tags"] = json!(["orders", "damaged"]);
    assert_eq!(codes(v.clone()), vec![]);
    let o = eval_ok(&def(v), json!({"q": "it broke"}));
    assert_eq!(o.tags, ["orders", "damaged"]);
    for bad in [
        json!(["Orders"]),
        json!(["a b"]),
        json!(["x", "x"]),
        json!([""]),
        json!(
            (0..=crate::tags::MAX_TAGS_PER_TICKET)
                .map(|i| format!("t{i}"))
                .collect::<Vec<_>>()
        ),
    ] {
        let mut v = base();
        v["nodes"]["e"]["tags"] = bad.clone();
        only(v, ProblemCode::InvalidTag, Some("e"));
    }
    // Without tags the document is written as before.
    let plain = serde_json::to_value(def(base())).expect("serializes");
    assert!(plain["nodes"]["e"].get("tags").is_none(), "{plain}");
}

#[test]
fn legacy_documents_carry_their_tags_to_the_end_node() {
    let d = parse_document(json!({
        "category": "orders", "tags": ["legacy"],
        "nodes": [{"id": "q", "question": "Tell us"}]
    }))
    .expect("converts");
    let Some(Node::End(e)) = d.nodes.get("end") else {
        panic!("no end node in {d:?}");
    };
    assert_eq!(e.tags, ["legacy"]);
}
