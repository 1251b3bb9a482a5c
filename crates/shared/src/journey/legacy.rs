//! The original journey format, accepted on input and converted to [`JourneyDefinition`].
//!
//! Journeys written for the first design of this product are a list of question nodes:
//!
//! ```json
//! {
//!   "nodes": [
//!     { "id": "kind", "question": "What is it about?", "options": ["Billing", "Delivery"],
//!       "nextNodeMap": { "Billing": "invoice" }, "nextNode": "details" },
//!     { "id": "invoice", "question": "Which invoice number?", "nextNode": "details" },
//!     { "id": "details", "question": "Tell us more" }
//!   ]
//! }
//! ```
//!
//! - The first node is the start, unless `startNode` names another.
//! - A node with `options` is a single choice question: the answer is the option text, and
//!   `nextNodeMap` (option → node id) routes it; options that are not in the map follow
//!   `nextNode`. A node without options is a free-text question following `nextNode`.
//! - Where no next node is given (or it is `null`), the journey ends: every such place leads
//!   to one end node. The ticket gets the document's `category` and `priority` (defaults
//!   `general` and `medium`), its `tags` (default none), and the first answer as its subject.
//! - Every question is required.
//!
//! [`parse_document`] takes either format: a `nodes` array means this one, anything else is
//! parsed as a native document. The converted document is validated like any other, so a
//! reference to a missing node or a cycle is reported with the usual problem codes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{
    EndNode, JourneyDefinition, Node, Question, SingleChoiceOption, SingleChoiceQuestion,
    TextQuestion, deserialize_unique_map,
};
use crate::tickets::Priority;

/// A journey in the original format (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacyJourney {
    /// The first node's id; defaults to the first node in `nodes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_node: Option<String>,
    pub nodes: Vec<LegacyNode>,
    /// The category of the tickets this journey opens (default `general`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Their priority (default `medium`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Their tags (normalised, at most 20), carried over to the end node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// One question of the original format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacyNode {
    pub id: String,
    pub question: String,
    /// The choices; absent or empty makes a free-text question.
    #[serde(default)]
    pub options: Vec<String>,
    /// Option text → the node it leads to.
    #[serde(default, deserialize_with = "deserialize_unique_map")]
    pub next_node_map: BTreeMap<String, String>,
    /// Where the node leads otherwise; absent or `null` ends the journey.
    #[serde(default)]
    pub next_node: Option<String>,
}

/// Why a document in the original format cannot be converted. Everything else (unknown
/// targets, limits, cycles) is left to [`validate`](super::validate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyError {
    /// `nodes` is empty.
    NoNodes,
    /// Two nodes share an id.
    DuplicateId(String),
    /// A `nextNodeMap` key is not one of the node's options.
    UnknownOption { node_id: String, option: String },
    /// The same option text appears twice in one node.
    DuplicateOption { node_id: String, option: String },
}

impl std::fmt::Display for LegacyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LegacyError::NoNodes => f.write_str("`nodes` is empty"),
            LegacyError::DuplicateId(id) => write!(f, "two nodes have the id `{id}`"),
            LegacyError::UnknownOption { node_id, option } => write!(
                f,
                "node `{node_id}`: `nextNodeMap` names `{option}`, which is not one of its options"
            ),
            LegacyError::DuplicateOption { node_id, option } => {
                write!(f, "node `{node_id}`: the option `{option}` appears twice")
            }
        }
    }
}

impl std::error::Error for LegacyError {}

/// The category converted journeys give their tickets when the document names none.
pub const DEFAULT_CATEGORY: &str = "general";

impl LegacyJourney {
    /// Converts to the native document (not validated yet).
    pub fn convert(&self) -> Result<JourneyDefinition, LegacyError> {
        let first = self.nodes.first().ok_or(LegacyError::NoNodes)?;
        let mut ids = BTreeSet::new();
        for node in &self.nodes {
            if !ids.insert(node.id.as_str()) {
                return Err(LegacyError::DuplicateId(node.id.clone()));
            }
        }
        let end_id = (1..)
            .map(|n| {
                if n == 1 {
                    "end".to_owned()
                } else {
                    format!("end-{n}")
                }
            })
            .find(|id| !ids.contains(id.as_str()))
            .unwrap_or_else(|| "end".to_owned());
        let start = self.start_node.clone().unwrap_or_else(|| first.id.clone());

        let mut nodes = BTreeMap::new();
        for node in &self.nodes {
            nodes.insert(node.id.clone(), convert_node(node, &end_id)?);
        }
        nodes.insert(
            end_id,
            Node::End(EndNode {
                category: self
                    .category
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CATEGORY.to_owned()),
                priority: self.priority.unwrap_or(Priority::Medium),
                // The answer to the first question (ids are `[A-Za-z0-9_-]`, so no escaping;
                // an invalid id is reported by validation).
                subject: format!("{{{start}}}"),
                tags: self.tags.clone(),
            }),
        );
        Ok(JourneyDefinition {
            start_node: start,
            nodes,
        })
    }
}

fn convert_node(node: &LegacyNode, end_id: &str) -> Result<Node, LegacyError> {
    let next = node.next_node.clone().unwrap_or_else(|| end_id.to_owned());
    if node.options.is_empty() {
        if let Some(option) = node.next_node_map.keys().next() {
            return Err(LegacyError::UnknownOption {
                node_id: node.id.clone(),
                option: option.clone(),
            });
        }
        return Ok(Node::Question(Question::Text(TextQuestion {
            title: node.question.clone(),
            help: None,
            required: true,
            min_length: None,
            max_length: None,
            multiline: true,
            next,
        })));
    }
    let mut seen = BTreeSet::new();
    for option in &node.options {
        if !seen.insert(option.as_str()) {
            return Err(LegacyError::DuplicateOption {
                node_id: node.id.clone(),
                option: option.clone(),
            });
        }
    }
    if let Some(option) = node
        .next_node_map
        .keys()
        .find(|k| !seen.contains(k.as_str()))
    {
        return Err(LegacyError::UnknownOption {
            node_id: node.id.clone(),
            option: option.clone(),
        });
    }
    Ok(Node::Question(Question::SingleChoice(
        SingleChoiceQuestion {
            title: node.question.clone(),
            help: None,
            required: true,
            options: node
                .options
                .iter()
                .map(|option| SingleChoiceOption {
                    value: option.clone(),
                    label: option.clone(),
                    next: node.next_node_map.get(option).cloned(),
                })
                .collect(),
            next: Some(next),
        },
    )))
}

/// Parses a journey document in either format: a `nodes` array is the original format
/// (converted), anything else the native one. The result is not validated yet. The error is a
/// message for humans.
pub fn parse_document(value: serde_json::Value) -> Result<JourneyDefinition, String> {
    let legacy = value.get("nodes").is_some_and(serde_json::Value::is_array);
    if legacy {
        let doc: LegacyJourney = serde_json::from_value(value).map_err(|e| {
            format!("the definition is not a journey document (original format): {e}")
        })?;
        doc.convert().map_err(|e| e.to_string())
    } else {
        serde_json::from_value(value)
            .map_err(|e| format!("the definition is not a journey document: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::journey::{Answer, Answers, ProblemCode, ValidJourney, validate};

    fn example() -> serde_json::Value {
        json!({
            "nodes": [
                { "id": "kind", "question": "What is it about?", "options": ["Billing", "Delivery"],
                  "nextNodeMap": { "Billing": "invoice" }, "nextNode": "details" },
                { "id": "invoice", "question": "Which invoice number?", "nextNode": "details" },
                { "id": "details", "question": "Tell us more" }
            ]
        })
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some(Answer::One((*v).to_owned()))))
            .collect()
    }

    fn valid(doc: serde_json::Value) -> ValidJourney {
        ValidJourney::new(parse_document(doc).expect("converts")).expect("valid")
    }

    #[test]
    fn options_route_through_the_map_and_fall_back_to_next_node() {
        let journey = valid(example());
        let billing = journey
            .evaluate(&answers(&[
                ("kind", "Billing"),
                ("invoice", "42"),
                ("details", "twice"),
            ]))
            .expect("billing path");
        assert_eq!(billing.path, ["kind", "invoice", "details", "end"]);
        assert_eq!(billing.category, "general");
        assert_eq!(billing.priority, Priority::Medium);
        assert_eq!(billing.subject, "Billing");

        let delivery = journey
            .evaluate(&answers(&[("kind", "Delivery"), ("details", "late")]))
            .expect("delivery path");
        assert_eq!(delivery.path, ["kind", "details", "end"]);
        // The invoice question is not on the delivery path.
        assert!(
            journey
                .evaluate(&answers(&[
                    ("kind", "Delivery"),
                    ("invoice", "1"),
                    ("details", "x")
                ]))
                .is_err()
        );
    }

    #[test]
    fn every_question_is_required() {
        let journey = valid(example());
        assert!(journey.evaluate(&answers(&[("kind", "Billing")])).is_err());
        assert!(journey.evaluate(&answers(&[("kind", "Other")])).is_err());
    }

    #[test]
    fn start_category_and_priority_can_be_given() {
        let mut doc = example();
        doc["startNode"] = json!("details");
        doc["category"] = json!("orders");
        doc["priority"] = json!("high");
        // `kind` and `invoice` become unreachable from `details`: validation says so.
        let def = parse_document(doc).expect("converts");
        let problems = validate(&def).expect_err("unreachable nodes");
        assert!(
            problems
                .iter()
                .all(|p| p.code == ProblemCode::UnreachableNode)
        );

        let journey = valid(json!({
            "startNode": "b",
            "category": "orders",
            "priority": "high",
            "nodes": [
                { "id": "a", "question": "Never asked first" },
                { "id": "b", "question": "Asked first", "nextNode": "a" }
            ]
        }));
        let outcome = journey
            .evaluate(&answers(&[("b", "first"), ("a", "second")]))
            .expect("walks");
        assert_eq!(outcome.path, ["b", "a", "end"]);
        assert_eq!(outcome.category, "orders");
        assert_eq!(outcome.priority, Priority::High);
        assert_eq!(outcome.subject, "first");
    }

    #[test]
    fn the_end_node_never_takes_an_existing_id() {
        let journey = valid(json!({
            "nodes": [
                { "id": "end", "question": "Anything else?", "nextNode": "end-2" },
                { "id": "end-2", "question": "Really?", "nextNode": null }
            ]
        }));
        assert_eq!(journey.end_nodes(), ["end-3"]);
    }

    #[test]
    fn structural_mistakes_are_reported() {
        assert_eq!(
            parse_document(json!({ "nodes": [] })),
            Err(LegacyError::NoNodes.to_string())
        );
        let dup = json!({ "nodes": [
            { "id": "a", "question": "?" }, { "id": "a", "question": "?" }
        ]});
        assert_eq!(
            parse_document(dup),
            Err(LegacyError::DuplicateId("a".into()).to_string())
        );
        let stray = json!({ "nodes": [
            { "id": "a", "question": "?", "options": ["x"], "nextNodeMap": { "y": "a" } }
        ]});
        assert!(
            parse_document(stray)
                .expect_err("stray option")
                .contains("`y`")
        );
        let text_with_map = json!({ "nodes": [
            { "id": "a", "question": "?", "nextNodeMap": { "y": "a" } }
        ]});
        assert!(parse_document(text_with_map).is_err());
        let twice = json!({ "nodes": [
            { "id": "a", "question": "?", "options": ["x", "x"] }
        ]});
        assert!(
            parse_document(twice)
                .expect_err("repeated option")
                .contains("twice")
        );
        let unknown_field = json!({ "nodes": [
            { "id": "a", "question": "?", "colour": "red" }
        ]});
        assert!(
            parse_document(unknown_field)
                .expect_err("unknown field")
                .contains("colour")
        );
    }

    #[test]
    fn references_and_cycles_are_left_to_validation() {
        let missing = parse_document(json!({ "nodes": [
            { "id": "a", "question": "?", "nextNode": "nowhere" }
        ]}))
        .expect("converts");
        let problems = validate(&missing).expect_err("unknown target");
        assert!(
            problems
                .iter()
                .any(|p| p.code == ProblemCode::UnknownTarget)
        );

        let cycle = parse_document(json!({ "nodes": [
            { "id": "a", "question": "?", "options": ["again", "stop"],
              "nextNodeMap": { "again": "b" } },
            { "id": "b", "question": "?", "nextNode": "a" }
        ]}))
        .expect("converts");
        let problems = validate(&cycle).expect_err("cycle");
        assert!(problems.iter().any(|p| p.code == ProblemCode::Cycle));
    }

    #[test]
    fn native_documents_pass_through() {
        let native = json!({
            "startNode": "q",
            "nodes": {
                "q": { "type": "question", "questionType": "text", "title": "?", "required": true,
                       "next": "done" },
                "done": { "type": "end", "category": "c", "priority": "low", "subject": "{q}" }
            }
        });
        let def = parse_document(native).expect("native");
        assert_eq!(def.start_node, "q");
        assert!(parse_document(json!({ "startNode": 3 })).is_err());
        assert!(parse_document(json!("nodes")).is_err());
    }
}
