//! Property tests.
//!
//! (a) Garbage in, no panic: random graphs (garbage ids, cycles, missing nodes, huge limits,
//!     nonsense rules) and random JSON never make `validate`, `next`, `evaluate` or the raw
//!     walk panic, and `evaluate` only reports `invalid_definition` for invalid documents.
//! (b) For generated valid journeys (random DAGs): every structural path can be answered, and
//!     `evaluate` then returns that path's end with exactly that path while `next` agrees step
//!     by step; random walks through journeys with arbitrary rules agree the same way; a
//!     corrupted answer is reported at the right question with the right code.
//!
//! Generators draw from a vector of random numbers (`Ent`), so proptest shrinks a failure
//! towards the simplest document (all draws 0).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::eval::{Mode, walk};
use super::*;
use crate::tickets::Priority;

/// A stream of random draws; exhausted streams yield 0.
struct Ent<'a> {
    data: &'a [u32],
    pos: usize,
}

impl<'a> Ent<'a> {
    fn new(data: &'a [u32]) -> Self {
        Ent { data, pos: 0 }
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        if n == 0 { 0 } else { v as usize % n }
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        let i = self.below(items.len());
        &items[i]
    }

    fn raw(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }
}

/// 256 cases each; failures are saved next to this file (`proptests.regressions`), inside the
/// journey module, and replayed first on the next run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// (a) garbage

fn id_pool() -> Vec<String> {
    let mut ids: Vec<String> = ["a", "b", "c", "d", "e", "", "bad id", "é", "{a}", "a-1"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    ids.push("x".repeat(70));
    ids
}

fn string_pool() -> Vec<String> {
    let mut s: Vec<String> = [
        "",
        " ",
        "a",
        "b",
        "x",
        "Title",
        "é",
        "{a}",
        "{",
        "}",
        "{{",
        "A {b} c",
        "{e}{a}",
        "line\nbreak",
        "a",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    s.push("L".repeat(600));
    s.push(Uuid::from_u128(1).to_string());
    s.push(Uuid::from_u128(2).to_string());
    s
}

const LIMITS: [u32; 10] = [0, 1, 2, 3, 5, 10, 50, 10_000, 10_001, u32::MAX];
const OPS: [RuleOp; 6] = [
    RuleOp::Equals,
    RuleOp::NotEquals,
    RuleOp::Contains,
    RuleOp::AnyOf,
    RuleOp::IsEmpty,
    RuleOp::IsNotEmpty,
];

fn opt<T>(ent: &mut Ent<'_>, f: impl FnOnce(&mut Ent<'_>) -> T) -> Option<T> {
    if ent.chance(2) { None } else { Some(f(ent)) }
}

fn garbage_strings(ent: &mut Ent<'_>, pool: &[String]) -> Vec<String> {
    (0..ent.below(5)).map(|_| ent.pick(pool).clone()).collect()
}

fn garbage_node(ent: &mut Ent<'_>, ids: &[String], strs: &[String]) -> Node {
    let limit = |ent: &mut Ent<'_>| *ent.pick(&LIMITS);
    match ent.below(6) {
        0 => Node::Question(Question::SingleChoice(SingleChoiceQuestion {
            title: ent.pick(strs).clone(),
            help: opt(ent, |e| e.pick(strs).clone()),
            required: ent.chance(2),
            options: (0..ent.below(5))
                .map(|_| SingleChoiceOption {
                    value: ent.pick(strs).clone(),
                    label: ent.pick(strs).clone(),
                    next: opt(ent, |e| e.pick(ids).clone()),
                })
                .collect(),
            next: opt(ent, |e| e.pick(ids).clone()),
        })),
        1 => Node::Question(Question::MultipleChoice(MultipleChoiceQuestion {
            title: ent.pick(strs).clone(),
            help: None,
            required: ent.chance(2),
            options: (0..ent.below(5))
                .map(|_| ChoiceOption {
                    value: ent.pick(strs).clone(),
                    label: ent.pick(strs).clone(),
                })
                .collect(),
            min_selections: opt(ent, limit),
            max_selections: opt(ent, limit),
            next: ent.pick(ids).clone(),
        })),
        2 => Node::Question(Question::Text(TextQuestion {
            title: ent.pick(strs).clone(),
            help: None,
            required: ent.chance(2),
            min_length: opt(ent, limit),
            max_length: opt(ent, limit),
            multiline: ent.chance(2),
            next: ent.pick(ids).clone(),
        })),
        3 => Node::Question(Question::ImageUpload(ImageUploadQuestion {
            title: ent.pick(strs).clone(),
            help: None,
            required: ent.chance(2),
            max_files: opt(ent, limit),
            next: ent.pick(ids).clone(),
        })),
        4 => Node::Condition(ConditionNode {
            title: opt(ent, |e| e.pick(strs).clone()),
            branches: (0..ent.below(4))
                .map(|_| Branch {
                    match_mode: if ent.chance(2) {
                        MatchMode::All
                    } else {
                        MatchMode::Any
                    },
                    rules: (0..ent.below(4))
                        .map(|_| Rule {
                            node: ent.pick(ids).clone(),
                            op: *ent.pick(&OPS),
                            value: match ent.below(3) {
                                0 => None,
                                1 => Some(RuleValue::One(ent.pick(strs).clone())),
                                _ => Some(RuleValue::Many(garbage_strings(ent, strs))),
                            },
                        })
                        .collect(),
                    next: ent.pick(ids).clone(),
                })
                .collect(),
            default: ent.pick(ids).clone(),
        }),
        _ => Node::End(EndNode {
            category: ent.pick(strs).clone(),
            priority: *ent.pick(&Priority::ALL),
            subject: ent.pick(strs).clone(),
            tags: Vec::new(),
        }),
    }
}

fn garbage_answer(ent: &mut Ent<'_>, strs: &[String]) -> Option<Answer> {
    match ent.below(4) {
        0 => None,
        1 => Some(Answer::One(ent.pick(strs).clone())),
        2 => Some(Answer::Many(garbage_strings(ent, strs))),
        _ => Some(Answer::Many(
            (0..ent.below(12))
                .map(|_| Uuid::from_u128(ent.below(4) as u128).to_string())
                .collect(),
        )),
    }
}

fn garbage(ent: &mut Ent<'_>) -> (JourneyDefinition, Answers) {
    let ids = id_pool();
    let strs = string_pool();
    let mut nodes = BTreeMap::new();
    for _ in 0..ent.below(12) {
        let id = ent.pick(&ids).clone();
        let node = garbage_node(ent, &ids, &strs);
        nodes.insert(id, node);
    }
    let def = JourneyDefinition {
        start_node: ent.pick(&ids).clone(),
        nodes,
    };
    // Mostly keys of existing nodes, so the walk gets past the unknown-key check.
    let keys: Vec<String> = def
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n, Node::Question(_)))
        .map(|(id, _)| id.clone())
        .collect();
    let mut answers = Answers::new();
    for _ in 0..ent.below(6) {
        let key = if keys.is_empty() || ent.chance(4) {
            ent.pick(&ids).clone()
        } else {
            ent.pick(&keys).clone()
        };
        answers.insert(key, garbage_answer(ent, &strs));
    }
    (def, answers)
}

/// Everything a caller can do with a document and answers; none of it may panic.
fn exercise(def: &JourneyDefinition, answers: &Answers) -> Result<(), TestCaseError> {
    let valid = validate(def);
    let evaluated = evaluate(def, answers);
    let stepped = next(def, answers);
    // The raw walk and path enumeration stay total even on invalid documents.
    let _ = walk(def, answers, Mode::Next);
    let _ = walk(def, answers, Mode::Evaluate);
    let raw_paths = paths::enumerate(def, 50);
    for p in &raw_paths {
        prop_assert!(p.len() <= def.nodes.len());
    }
    match valid {
        Err(problems) => {
            prop_assert!(!problems.is_empty());
            for p in &problems {
                prop_assert!(!p.message.is_empty());
                prop_assert!(p.message.chars().count() < 2000, "{}", p.message);
            }
            prop_assert_eq!(
                evaluated.map_err(|e| e.code()),
                Err(EvalErrorCode::InvalidDefinition)
            );
            prop_assert_eq!(
                stepped.map_err(|e| e.code()),
                Err(EvalErrorCode::InvalidDefinition)
            );
        }
        Ok(()) => {
            if let Err(e) = &evaluated {
                prop_assert_ne!(e.code(), EvalErrorCode::InvalidDefinition);
            }
            if let Err(e) = &stepped {
                prop_assert_ne!(e.code(), EvalErrorCode::InvalidDefinition);
            }
            let vj = ValidJourney::new(def.clone())
                .map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
            for path in vj.paths(50) {
                check_structural_path(def, &path)?;
            }
            if let Ok(o) = &evaluated {
                prop_assert_eq!(o.path.first(), Some(&def.start_node));
                prop_assert!(o.subject.chars().count() <= limits::MAX_SUBJECT_LEN);
                // next gives the same outcome, or stops at an optional question that evaluate
                // skipped because it had no entry.
                match stepped {
                    Ok(Step::End(o2)) => prop_assert_eq!(&o2, o),
                    Ok(Step::Question { node_id }) => {
                        prop_assert!(o.path.contains(&node_id));
                        prop_assert!(!answers.contains_key(&node_id));
                        prop_assert!(def.question(&node_id).is_some_and(|q| !q.required()));
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("next failed: {e}"))),
                }
            }
        }
    }
    // Documents survive a JSON round trip unchanged.
    let json = serde_json::to_string(def).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match serde_json::from_str::<JourneyDefinition>(&json) {
        Ok(back) => prop_assert_eq!(&back, def),
        Err(e) => return Err(TestCaseError::fail(format!("round trip: {e}"))),
    }
    Ok(())
}

/// Starts at the start, follows successor edges, ends at an end node.
fn check_structural_path(def: &JourneyDefinition, path: &[String]) -> Result<(), TestCaseError> {
    prop_assert_eq!(path.first(), Some(&def.start_node));
    for pair in path.windows(2) {
        let node = def
            .nodes
            .get(&pair[0])
            .ok_or_else(|| TestCaseError::fail("no node"))?;
        prop_assert!(
            successors(node).contains(&pair[1].as_str()),
            "{} -> {} is not an edge",
            pair[0],
            pair[1]
        );
    }
    let last = path.last().and_then(|id| def.nodes.get(id));
    prop_assert!(
        matches!(last, Some(Node::End(_))),
        "path does not end at an end"
    );
    Ok(())
}

/// A random JSON value: small trees of nulls, bools, numbers, short strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        "[a-e{} ]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-e]{1,3}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in `v`, found iteratively.
fn pointers(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(String::new(), v)]);
    while let Some((ptr, v)) = queue.pop_front() {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let k = k.replace('~', "~0").replace('/', "~1");
                    queue.push_back((format!("{ptr}/{k}"), child));
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    queue.push_back((format!("{ptr}/{i}"), child));
                }
            }
            _ => {}
        }
        out.push(ptr);
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u32>(), 0..400)) {
        let mut ent = Ent::new(&data);
        let (def, answers) = garbage(&mut ent);
        exercise(&def, &answers)?;
    }

    /// A valid journey with one JSON value replaced by random JSON: parsing may fail, but
    /// nothing panics and whatever parses behaves.
    #[test]
    fn mutated_json_never_panics(
        data in proptest::collection::vec(any::<u32>(), 0..400),
        replacement in json_value(),
    ) {
        let mut ent = Ent::new(&data);
        let style = if ent.chance(2) { Style::Tokens } else { Style::Arbitrary };
        let def = gen_valid(&mut ent, style);
        let mut json = serde_json::to_value(&def).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let all = pointers(&json);
        let ptr = ent.pick(&all).clone();
        if let Some(slot) = json.pointer_mut(&ptr) {
            *slot = replacement.clone();
        }
        if let Ok(def) = serde_json::from_value::<JourneyDefinition>(json) {
            let answers: Answers = serde_json::from_value(replacement).unwrap_or_default();
            exercise(&def, &answers)?;
        }
    }

    #[test]
    fn random_json_answers_never_panic(
        data in proptest::collection::vec(any::<u32>(), 0..400),
        raw in json_value(),
    ) {
        let mut ent = Ent::new(&data);
        let def = gen_valid(&mut ent, Style::Arbitrary);
        if let Ok(answers) = serde_json::from_value::<Answers>(raw) {
            exercise(&def, &answers)?;
        }
    }

    /// Self-loops and back edges are always reported as cycles.
    #[test]
    fn back_edges_are_cycles(data in proptest::collection::vec(any::<u32>(), 0..400)) {
        let mut ent = Ent::new(&data);
        let mut def = gen_valid(&mut ent, Style::Arbitrary);
        let ids: Vec<String> = def.nodes.keys().cloned().collect();
        let victim = ent.pick(&ids).clone();
        let to = def.start_node.clone();
        let changed = match def.nodes.get_mut(&victim) {
            Some(Node::Question(Question::Text(q))) => { q.next = to; true }
            Some(Node::Question(Question::MultipleChoice(q))) => { q.next = to; true }
            Some(Node::Question(Question::ImageUpload(q))) => { q.next = to; true }
            Some(Node::Condition(c)) => { c.default = to; true }
            _ => false,
        };
        let problems = validate(&def).err().unwrap_or_default();
        if changed {
            prop_assert!(problems.iter().any(|p| p.code == ProblemCode::Cycle), "{problems:?}");
        }
        exercise(&def, &Answers::new())?;
    }
}

// ---------------------------------------------------------------------------------------------
// (b) valid journeys

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Conditions only test `contains` with tokens unique to (condition, branch, rule) on a
    /// text question that dominates them, so every structural path is satisfiable.
    Tokens,
    /// Conditions use every op with random (valid) values; not every path is reachable.
    Arbitrary,
}

const PREFIXES: [&str; 4] = ["n", "Q-", "step_", "x"];
const WORDS: [&str; 5] = ["foo", "bar", "Foo Bar", "baz", "qux"];

/// Ids reachable from `start` without entering `avoid`.
fn reach(def: &JourneyDefinition, start: &str, avoid: Option<&str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    if Some(start) == avoid {
        return seen;
    }
    let mut queue = VecDeque::from([start.to_owned()]);
    seen.insert(start.to_owned());
    while let Some(id) = queue.pop_front() {
        let Some(node) = def.nodes.get(&id) else {
            continue;
        };
        for t in successors(node) {
            if Some(t) != avoid && def.nodes.contains_key(t) && seen.insert(t.to_owned()) {
                queue.push_back(t.to_owned());
            }
        }
    }
    seen
}

/// A random valid journey: a DAG in index order, pruned to what the start reaches, with rules
/// only on dominating questions and subjects only naming questions.
fn gen_valid(ent: &mut Ent<'_>, style: Style) -> JourneyDefinition {
    let n_inner = 1 + ent.below(12);
    let n_end = 1 + ent.below(3);
    let total = n_inner + n_end;
    let ids: Vec<String> = (0..total)
        .map(|i| format!("{}{i}", ent.pick(&PREFIXES)))
        .collect();
    let mut nodes = BTreeMap::new();
    for i in 0..n_inner {
        // Mostly the very next node, so that long chains survive pruning.
        let target = |ent: &mut Ent<'_>| {
            let skip = if ent.below(3) > 0 {
                0
            } else {
                ent.below(total - i - 1)
            };
            ids[i + 1 + skip].clone()
        };
        let kind = match (i, style) {
            (0, Style::Tokens) => 2,
            (0, Style::Arbitrary) => ent.below(4),
            _ => ent.below(5),
        };
        let required = ent.chance(2);
        let title = format!("Question {i}?");
        let node = match kind {
            0 => {
                let options: Vec<SingleChoiceOption> = (0..1 + ent.below(4))
                    .map(|j| SingleChoiceOption {
                        value: format!("v{j}"),
                        label: format!("Label {j}"),
                        next: opt(ent, target),
                    })
                    .collect();
                let needs_next = !required || options.iter().any(|o| o.next.is_none());
                let next = if needs_next || ent.chance(2) {
                    Some(target(ent))
                } else {
                    None
                };
                Node::Question(Question::SingleChoice(SingleChoiceQuestion {
                    title,
                    help: opt(ent, |_| "Some help".to_owned()),
                    required,
                    options,
                    next,
                }))
            }
            1 => {
                let count = 1 + ent.below(4);
                let min = 1 + ent.below(count);
                let max = min + ent.below(count - min + 1);
                Node::Question(Question::MultipleChoice(MultipleChoiceQuestion {
                    title,
                    help: None,
                    required,
                    options: (0..count)
                        .map(|j| ChoiceOption {
                            value: format!("m{j}"),
                            label: format!("Choice {j}"),
                        })
                        .collect(),
                    min_selections: opt(ent, |_| min as u32),
                    max_selections: opt(ent, |_| max as u32),
                    next: target(ent),
                }))
            }
            2 => {
                let min = ent.below(6) as u32;
                let max_length = match style {
                    Style::Tokens => None,
                    Style::Arbitrary => opt(ent, |e| min.max(1) + e.below(20) as u32),
                };
                Node::Question(Question::Text(TextQuestion {
                    title,
                    help: None,
                    required,
                    min_length: opt(ent, |_| min),
                    max_length,
                    multiline: ent.chance(2),
                    next: target(ent),
                }))
            }
            3 => Node::Question(Question::ImageUpload(ImageUploadQuestion {
                title,
                help: None,
                required,
                max_files: opt(ent, |e| 1 + e.below(10) as u32),
                next: target(ent),
            })),
            _ => Node::Condition(ConditionNode {
                title: opt(ent, |_| format!("Route {i}")),
                branches: (0..ent.below(4))
                    .map(|_| Branch {
                        match_mode: if ent.chance(2) {
                            MatchMode::All
                        } else {
                            MatchMode::Any
                        },
                        rules: Vec::new(),
                        next: target(ent),
                    })
                    .collect(),
                default: target(ent),
            }),
        };
        nodes.insert(ids[i].clone(), node);
    }
    for (i, id) in ids.iter().enumerate().skip(n_inner) {
        nodes.insert(
            id.clone(),
            Node::End(EndNode {
                category: format!("cat-{i}"),
                priority: *ent.pick(&Priority::ALL),
                subject: String::new(),
                tags: Vec::new(),
            }),
        );
    }
    let mut def = JourneyDefinition {
        start_node: ids[0].clone(),
        nodes,
    };
    // Prune what the start cannot reach.
    let reachable = reach(&def, &def.start_node, None);
    def.nodes.retain(|id, _| reachable.contains(id));
    // A required single choice whose options all have their own `next` never uses its node-level
    // `next`, so its target may have been pruned: drop it (it must still exist if present).
    for node in def.nodes.values_mut() {
        if let Node::Question(Question::SingleChoice(sc)) = node
            && sc.next.as_ref().is_some_and(|t| !reachable.contains(t))
        {
            sc.next = None;
        }
    }

    // Rules: only on questions that dominate the condition.
    let questions: Vec<String> = def
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n, Node::Question(_)))
        .map(|(id, _)| id.clone())
        .collect();
    let without: BTreeMap<String, BTreeSet<String>> = questions
        .iter()
        .map(|q| (q.clone(), reach(&def, &def.start_node, Some(q))))
        .collect();
    let conditions: Vec<String> = def
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n, Node::Condition(_)))
        .map(|(id, _)| id.clone())
        .collect();
    for cid in conditions {
        let dominators: Vec<String> = questions
            .iter()
            .filter(|q| !without[*q].contains(&cid))
            .filter(|q| {
                style == Style::Arbitrary || matches!(def.question(q), Some(Question::Text(_)))
            })
            .cloned()
            .collect();
        let branch_count = match def.nodes.get(&cid) {
            Some(Node::Condition(c)) => c.branches.len(),
            _ => 0,
        };
        let mut all_rules = Vec::new();
        for b in 0..branch_count {
            let rules: Vec<Rule> = (0..1 + ent.below(2))
                .map(|r| {
                    let q = ent.pick(&dominators).clone();
                    match style {
                        Style::Tokens => Rule {
                            node: q,
                            op: RuleOp::Contains,
                            value: Some(RuleValue::One(format!("<{cid}.{b}.{r}>"))),
                        },
                        Style::Arbitrary => {
                            let question = def.question(&q).cloned();
                            random_rule(ent, q, question.as_ref())
                        }
                    }
                })
                .collect();
            all_rules.push(rules);
        }
        if let Some(Node::Condition(c)) = def.nodes.get_mut(&cid) {
            for (branch, rules) in c.branches.iter_mut().zip(all_rules) {
                branch.rules = rules;
            }
        }
    }

    // Subjects: literals, escapes and placeholders of questions.
    let ends: Vec<String> = def
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n, Node::End(_)))
        .map(|(id, _)| id.clone())
        .collect();
    for eid in ends {
        let mut subject = String::from("Re:");
        for _ in 0..ent.below(4) {
            match ent.below(3) {
                0 if !questions.is_empty() => {
                    subject.push_str(&format!(" {{{}}}", ent.pick(&questions)));
                }
                1 => subject.push_str(" {{x}}"),
                _ => subject.push_str(" words"),
            }
        }
        if let Some(Node::End(e)) = def.nodes.get_mut(&eid) {
            e.subject = subject;
        }
    }
    def
}

fn random_rule(ent: &mut Ent<'_>, node: String, q: Option<&Question>) -> Rule {
    let one = |s: String| Some(RuleValue::One(s));
    let some_of = |ent: &mut Ent<'_>, values: &[String]| {
        let mut v: Vec<String> = values.iter().filter(|_| ent.chance(2)).cloned().collect();
        if v.is_empty() {
            v.push(ent.pick(values).clone());
        }
        Some(RuleValue::Many(v))
    };
    let (op, value) = match q {
        Some(Question::SingleChoice(sc)) => {
            let values: Vec<String> = sc.options.iter().map(|o| o.value.clone()).collect();
            match ent.below(5) {
                0 => (RuleOp::Equals, one(ent.pick(&values).clone())),
                1 => (RuleOp::NotEquals, one(ent.pick(&values).clone())),
                2 => (RuleOp::AnyOf, some_of(ent, &values)),
                3 => (RuleOp::IsEmpty, None),
                _ => (RuleOp::IsNotEmpty, None),
            }
        }
        Some(Question::MultipleChoice(mc)) => {
            let values: Vec<String> = mc.options.iter().map(|o| o.value.clone()).collect();
            match ent.below(6) {
                0 => (RuleOp::Equals, some_of(ent, &values)),
                1 => (RuleOp::NotEquals, some_of(ent, &values)),
                2 => (RuleOp::Contains, one(ent.pick(&values).clone())),
                3 => (RuleOp::AnyOf, some_of(ent, &values)),
                4 => (RuleOp::IsEmpty, None),
                _ => (RuleOp::IsNotEmpty, None),
            }
        }
        Some(Question::Text(_)) => {
            let words: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
            match ent.below(6) {
                0 => (RuleOp::Equals, one(ent.pick(&WORDS).to_string())),
                1 => (RuleOp::NotEquals, one(ent.pick(&WORDS).to_string())),
                2 => (
                    RuleOp::Contains,
                    one(ent.pick(&["o", "BAR", "z"]).to_string()),
                ),
                3 => (RuleOp::AnyOf, some_of(ent, &words)),
                4 => (RuleOp::IsEmpty, None),
                _ => (RuleOp::IsNotEmpty, None),
            }
        }
        _ => {
            if ent.chance(2) {
                (RuleOp::IsEmpty, None)
            } else {
                (RuleOp::IsNotEmpty, None)
            }
        }
    };
    Rule { node, op, value }
}

/// A skip, in one of its spellings for this question type.
fn skip(ent: &mut Ent<'_>, q: &Question) -> Option<Answer> {
    match (ent.below(3), q.question_type()) {
        (0, _) => None,
        (_, QuestionType::SingleChoice | QuestionType::Text) => {
            Some(Answer::One(["", "  ", "\n"][ent.below(3)].to_owned()))
        }
        _ => Some(Answer::Many(Vec::new())),
    }
}

/// Random text of `min..=max` chars after trimming, wrapped in random whitespace.
fn random_text(ent: &mut Ent<'_>, min: u32, max: u32, core: Option<String>) -> String {
    let mut text = core.unwrap_or_else(|| {
        (0..1 + ent.below(3))
            .map(|_| *ent.pick(&WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let len = text.chars().count() as u32;
    if len < min {
        text.push(' ');
        text.push_str(&"x".repeat((min - len) as usize));
    }
    if text.trim().chars().count() as u32 > max {
        text = "y".repeat(min.max(1) as usize);
    }
    format!(
        "{}{}{}",
        [" ", "", "\t"][ent.below(3)],
        text,
        ["", " ", "\n"][ent.below(3)]
    )
}

/// A random answer the question accepts (may be a skip when optional).
fn random_answer(ent: &mut Ent<'_>, q: &Question, text_core: Option<String>) -> Option<Answer> {
    if !q.required() && text_core.is_none() && ent.chance(4) {
        return skip(ent, q);
    }
    match q {
        Question::SingleChoice(sc) => Some(Answer::One(ent.pick(&sc.options).value.clone())),
        Question::MultipleChoice(mc) => {
            let mut values: Vec<String> = mc.options.iter().map(|o| o.value.clone()).collect();
            // Shuffle, then take a count within the limits.
            for i in (1..values.len()).rev() {
                let j = ent.below(i + 1);
                values.swap(i, j);
            }
            let (min, max) = (mc.min() as usize, (mc.max() as usize).min(values.len()));
            let count = min + ent.below(max - min + 1);
            values.truncate(count);
            Some(Answer::Many(values))
        }
        Question::Text(t) => Some(Answer::One(random_text(ent, t.min(), t.max(), text_core))),
        Question::ImageUpload(iu) => {
            let count = 1 + ent.below(iu.max() as usize);
            let base = u128::from(ent.raw()) << 32;
            Some(Answer::Many(
                (0..count)
                    .map(|j| {
                        let id = Uuid::from_u128(base + j as u128);
                        match ent.below(3) {
                            0 => id.to_string(),
                            1 => id.to_string().to_uppercase(),
                            _ => id.simple().to_string(),
                        }
                    })
                    .collect(),
            ))
        }
    }
}

/// Drives `next` from empty answers, inserting `answer_for(question)` at every question;
/// returns the answers and the outcome. Fails if `next` loops or errors.
fn drive(
    vj: &ValidJourney,
    mut answer_for: impl FnMut(&str, &Question) -> Result<Option<Answer>, TestCaseError>,
) -> Result<(Answers, Outcome, Vec<String>), TestCaseError> {
    let def = vj.definition();
    let mut answers = Answers::new();
    let mut asked = Vec::new();
    for _ in 0..=def.nodes.len() {
        match vj.next(&answers) {
            Ok(Step::Question { node_id }) => {
                prop_assert!(!answers.contains_key(&node_id), "asked {node_id} twice");
                let q = def
                    .question(&node_id)
                    .ok_or_else(|| TestCaseError::fail("asked a non-question"))?;
                let a = answer_for(&node_id, q)?;
                asked.push(node_id.clone());
                answers.insert(node_id, a);
            }
            Ok(Step::End(o)) => return Ok((answers, o, asked)),
            Err(e) => return Err(TestCaseError::fail(format!("next failed: {e}"))),
        }
    }
    Err(TestCaseError::fail("next did not finish"))
}

/// What every finished walk must satisfy.
fn check_outcome(
    vj: &ValidJourney,
    answers: &Answers,
    outcome: &Outcome,
    asked: &[String],
) -> Result<(), TestCaseError> {
    let def = vj.definition();
    check_structural_path(def, &outcome.path)?;
    let Some(Node::End(end)) = outcome.end_node().and_then(|id| def.nodes.get(id)) else {
        return Err(TestCaseError::fail("no end node"));
    };
    prop_assert_eq!(&outcome.category, &end.category);
    prop_assert_eq!(outcome.priority, end.priority);
    prop_assert!(!outcome.subject.is_empty());
    prop_assert!(outcome.subject.chars().count() <= limits::MAX_SUBJECT_LEN);
    let path_questions: Vec<&String> = outcome
        .path
        .iter()
        .filter(|id| def.question(id).is_some())
        .collect();
    let transcript: Vec<&String> = outcome.transcript.iter().map(|e| &e.node_id).collect();
    prop_assert_eq!(&path_questions, &transcript);
    prop_assert_eq!(&transcript, &asked.iter().collect::<Vec<_>>());
    // evaluate agrees with next, on the raw answers and on the normalised ones.
    prop_assert_eq!(vj.evaluate(answers), Ok(outcome.clone()));
    prop_assert_eq!(evaluate(def, answers), Ok(outcome.clone()));
    prop_assert_eq!(vj.evaluate(&outcome.answers()), Ok(outcome.clone()));
    // Explicit skips may be left out.
    let absent: Answers = answers
        .iter()
        .filter(|(_, a)| a.as_ref().is_some_and(|a| !a.is_blank()))
        .map(|(k, a)| (k.clone(), a.clone()))
        .collect();
    prop_assert_eq!(vj.evaluate(&absent), Ok(outcome.clone()));
    // An extra answer off the path: next ignores it, evaluate rejects it.
    if let Some(off) = def
        .nodes
        .iter()
        .find(|(id, n)| matches!(n, Node::Question(_)) && !outcome.path.contains(id))
        .map(|(id, _)| id.clone())
    {
        let mut extra = answers.clone();
        extra.insert(off.clone(), None);
        prop_assert_eq!(vj.next(&extra), Ok(Step::End(outcome.clone())));
        prop_assert_eq!(
            vj.evaluate(&extra),
            Err(EvalError::NotOnPath { node_id: off })
        );
    }
    Ok(())
}

/// Answers that make the walk follow `path` exactly (Tokens style only).
fn answers_for_path(
    ent: &mut Ent<'_>,
    def: &JourneyDefinition,
    path: &[String],
) -> Result<BTreeMap<String, Option<Answer>>, TestCaseError> {
    // Tokens each text question must contain for the conditions on the path to branch right.
    let mut tokens: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, id) in path.iter().enumerate() {
        let Some(Node::Condition(c)) = def.nodes.get(id) else {
            continue;
        };
        let next = &path[k + 1];
        if let Some(branch) = c.branches.iter().find(|b| &b.next == next) {
            for r in &branch.rules {
                if let Some(RuleValue::One(t)) = &r.value {
                    tokens.entry(r.node.clone()).or_default().push(t.clone());
                }
            }
        } else {
            prop_assert_eq!(&c.default, next);
        }
    }
    let mut answers = BTreeMap::new();
    for (k, id) in path.iter().enumerate() {
        let Some(Node::Question(q)) = def.nodes.get(id) else {
            continue;
        };
        let next = path[k + 1].as_str();
        let answer = match q {
            Question::SingleChoice(sc) => {
                let fits: Vec<&SingleChoiceOption> = sc
                    .options
                    .iter()
                    .filter(|o| sc.target_of(o) == Some(next))
                    .collect();
                let can_skip = !sc.required && sc.skip_target() == Some(next);
                prop_assert!(!fits.is_empty() || can_skip, "no way from {id} to {next}");
                if can_skip && (fits.is_empty() || ent.chance(2)) {
                    skip(ent, q)
                } else {
                    Some(Answer::One(ent.pick(&fits).value.clone()))
                }
            }
            _ => {
                prop_assert_eq!(q.next(), Some(next));
                let core = tokens.get(id).map(|t| t.join(" "));
                random_answer(ent, q, core)
            }
        };
        answers.insert(id.clone(), answer);
    }
    Ok(answers)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_journeys_are_valid(data in proptest::collection::vec(any::<u32>(), 0..400)) {
        let mut ent = Ent::new(&data);
        for style in [Style::Tokens, Style::Arbitrary] {
            let def = gen_valid(&mut ent, style);
            prop_assert_eq!(validate(&def), Ok(()), "{}", serde_json::to_string_pretty(&def).unwrap_or_default());
        }
    }

    /// Every structural path of a Tokens-style journey can be answered, and evaluate and next
    /// then follow exactly that path.
    #[test]
    fn every_path_can_be_answered(data in proptest::collection::vec(any::<u32>(), 0..600)) {
        let mut ent = Ent::new(&data);
        let def = gen_valid(&mut ent, Style::Tokens);
        let vj = ValidJourney::new(def.clone())
            .map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let paths = vj.paths(32);
        prop_assert!(!paths.is_empty());
        for path in paths {
            check_structural_path(&def, &path)?;
            let planned = answers_for_path(&mut ent, &def, &path)?;
            let (answers, outcome, asked) = drive(&vj, |id, _| {
                planned
                    .get(id)
                    .cloned()
                    .ok_or_else(|| TestCaseError::fail(format!("{id} is not on the planned path")))
            })?;
            prop_assert_eq!(&outcome.path, &path);
            check_outcome(&vj, &answers, &outcome, &asked)?;
        }
    }

    /// Random answers through journeys with arbitrary rules: next and evaluate agree.
    #[test]
    fn random_walks_agree(data in proptest::collection::vec(any::<u32>(), 0..600)) {
        let mut ent = Ent::new(&data);
        let def = gen_valid(&mut ent, Style::Arbitrary);
        let vj = ValidJourney::new(def.clone())
            .map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        let (answers, outcome, asked) = drive(&vj, |_, q| Ok(random_answer(&mut ent, q, None)))?;
        check_outcome(&vj, &answers, &outcome, &asked)?;

        // Corrupt one answered question on the path: the error names it, with the right code.
        let answered: Vec<&String> = answers
            .iter()
            .filter(|(_, a)| a.as_ref().is_some_and(|a| !a.is_blank()))
            .map(|(k, _)| k)
            .collect();
        if !answered.is_empty() {
            let victim = (*ent.pick(&answered)).clone();
            let q = def.question(&victim).ok_or_else(|| TestCaseError::fail("not a question"))?;
            let (bad, code) = match q {
                Question::SingleChoice(_) => (Answer::One("\u{1}nope".into()), EvalErrorCode::UnknownOption),
                Question::MultipleChoice(mc) => {
                    let v = mc.options[0].value.clone();
                    (Answer::Many(vec![v.clone(), v]), EvalErrorCode::DuplicateSelection)
                }
                Question::Text(_) => (Answer::Many(vec!["x".into()]), EvalErrorCode::WrongAnswerType),
                Question::ImageUpload(_) => (Answer::Many(vec!["nope".into()]), EvalErrorCode::InvalidAttachmentId),
            };
            let mut corrupted = answers.clone();
            corrupted.insert(victim.clone(), Some(bad));
            for result in [vj.evaluate(&corrupted).map(|_| ()), vj.next(&corrupted).map(|_| ())] {
                let err = result.err().ok_or_else(|| TestCaseError::fail("corruption accepted"))?;
                prop_assert_eq!(err.code(), code);
                prop_assert_eq!(err.node_id(), Some(victim.as_str()));
            }
            // Dropping a required answer: missing_required there (evaluate), asked again (next).
            if q.required() {
                let mut missing = answers.clone();
                missing.remove(&victim);
                prop_assert_eq!(
                    vj.evaluate(&missing),
                    Err(EvalError::MissingRequired { node_id: victim.clone() })
                );
                prop_assert_eq!(vj.next(&missing), Ok(Step::Question { node_id: victim }));
            }
        }
    }
}
