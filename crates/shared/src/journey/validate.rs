//! Whole-document checks on a [`JourneyDefinition`]: every problem, each with a stable code.
//!
//! Graph walks here are iterative (explicit stacks and queues), so a hostile document cannot
//! overflow the stack, and every check is at most quadratic in the size of the document.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::model::{
    ChoiceOption, ConditionNode, EndNode, JourneyDefinition, Node, Question, QuestionType, Rule,
    RuleOp, RuleValue, SingleChoiceOption, limits,
};
use super::template::{Segment, parse_template};

/// What is wrong, as a stable snake_case code the editor can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// More than 200 nodes.
    TooManyNodes,
    /// A node id is not 1 to 64 chars of `[A-Za-z0-9_-]`.
    InvalidNodeId,
    /// `startNode` is empty or names no node.
    MissingStart,
    /// A `next`, `default` or option target names no node.
    UnknownTarget,
    /// No path from the start leads to this node.
    UnreachableNode,
    /// Following targets can come back to this node.
    Cycle,
    /// A way out of a node is missing: a single choice option with no target, or an optional
    /// single choice question without a node-level `next` to go to when skipped.
    DeadEnd,
    /// A required text (title, option value or label, category, subject) is empty or blank,
    /// or a branch has no rules.
    EmptyField,
    /// A text is longer than its limit.
    FieldTooLong,
    /// A choice question has no options.
    NoOptions,
    /// A choice question has more than 50 options.
    TooManyOptions,
    /// Two options of one question share a value.
    DuplicateOption,
    /// Lengths, selections or file counts that are zero, above their cap, or min > max.
    InvalidLimits,
    /// A condition has more than 50 branches.
    TooManyBranches,
    /// A branch has more than 50 rules.
    TooManyRules,
    /// A rule's `node` is not a question node.
    RuleNodeNotQuestion,
    /// A rule's question does not come before the condition on every path from the start.
    RuleNodeNotBefore,
    /// The rule's `op` does not apply to that question type.
    InvalidRuleOp,
    /// The rule's `value` is missing, superfluous, of the wrong shape, or not an option value.
    InvalidRuleValue,
    /// The subject template has an unclosed `{`, a stray `}` or an empty `{}`.
    InvalidTemplate,
    /// A subject placeholder does not name a question node.
    UnknownPlaceholder,
    /// An end node's tag is not a valid tag, is not in its normalised form
    /// (`shared::tags::normalize`), repeats, or the node has more than 20 tags.
    InvalidTag,
    /// The document does not have the shape of a journey (wrong types, unknown fields,
    /// duplicate node ids); found while reading it, before any other check.
    Malformed,
}

impl ProblemCode {
    pub const ALL: [ProblemCode; 23] = [
        ProblemCode::TooManyNodes,
        ProblemCode::InvalidNodeId,
        ProblemCode::MissingStart,
        ProblemCode::UnknownTarget,
        ProblemCode::UnreachableNode,
        ProblemCode::Cycle,
        ProblemCode::DeadEnd,
        ProblemCode::EmptyField,
        ProblemCode::FieldTooLong,
        ProblemCode::NoOptions,
        ProblemCode::TooManyOptions,
        ProblemCode::DuplicateOption,
        ProblemCode::InvalidLimits,
        ProblemCode::TooManyBranches,
        ProblemCode::TooManyRules,
        ProblemCode::RuleNodeNotQuestion,
        ProblemCode::RuleNodeNotBefore,
        ProblemCode::InvalidRuleOp,
        ProblemCode::InvalidRuleValue,
        ProblemCode::InvalidTemplate,
        ProblemCode::UnknownPlaceholder,
        ProblemCode::InvalidTag,
        ProblemCode::Malformed,
    ];

    /// The snake_case wire name, e.g. `"unknown_target"`.
    pub fn as_str(self) -> &'static str {
        use ProblemCode::*;
        match self {
            TooManyNodes => "too_many_nodes",
            InvalidNodeId => "invalid_node_id",
            MissingStart => "missing_start",
            UnknownTarget => "unknown_target",
            UnreachableNode => "unreachable_node",
            Cycle => "cycle",
            DeadEnd => "dead_end",
            EmptyField => "empty_field",
            FieldTooLong => "field_too_long",
            NoOptions => "no_options",
            TooManyOptions => "too_many_options",
            DuplicateOption => "duplicate_option",
            InvalidLimits => "invalid_limits",
            TooManyBranches => "too_many_branches",
            TooManyRules => "too_many_rules",
            RuleNodeNotQuestion => "rule_node_not_question",
            RuleNodeNotBefore => "rule_node_not_before",
            InvalidRuleOp => "invalid_rule_op",
            InvalidRuleValue => "invalid_rule_value",
            InvalidTemplate => "invalid_template",
            UnknownPlaceholder => "unknown_placeholder",
            InvalidTag => "invalid_tag",
            Malformed => "malformed",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with a journey document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// The node the problem is in; `None` for document-wide problems.
    pub node_id: Option<String>,
    pub code: ProblemCode,
    /// For humans; may change between versions.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node_id {
            Some(id) => write!(f, "node `{}`: {}", shown(id), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Checks a journey document and returns **all** problems found (in a deterministic order:
/// document-wide, then node by node in id order, then graph problems).
///
/// `Ok(())` guarantees: the start exists; every target exists; every node is reachable; there
/// are no cycles, so every walk ends at an end node within `nodes.len()` steps; every option,
/// limit, rule and template is consistent; every rule's question dominates its condition.
/// [`next`](super::next) and [`evaluate`](super::evaluate) rely on exactly that.
///
/// Never panics and never recurses, whatever the input.
pub fn validate(def: &JourneyDefinition) -> Result<(), Vec<Problem>> {
    let mut v = Validator {
        def,
        problems: Vec::new(),
    };
    v.check_document();
    for (id, node) in &def.nodes {
        v.check_node(id, node);
    }
    let graph = Graph::new(def);
    v.check_graph(&graph);
    if v.problems.is_empty() {
        Ok(())
    } else {
        Err(v.problems)
    }
}

/// The node ids a node may lead to, in order, duplicates removed. Targets that do not exist
/// are included; a missing target (single choice option without `next`) is not.
///
/// For a single choice question: each option's target, then (if the question is optional) the
/// node-level `next` taken when it is skipped. A required single choice question whose options
/// all have their own `next` never uses its node-level `next`.
pub fn successors<'a>(node: &'a Node) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = Vec::new();
    let mut seen: BTreeSet<&'a str> = BTreeSet::new();
    let mut push = |t: &'a str| {
        if seen.insert(t) {
            out.push(t);
        }
    };
    match node {
        Node::Question(Question::SingleChoice(q)) => {
            for o in &q.options {
                if let Some(t) = q.target_of(o) {
                    push(t);
                }
            }
            if !q.required
                && let Some(t) = q.skip_target()
            {
                push(t);
            }
        }
        Node::Question(q) => {
            if let Some(t) = q.next() {
                push(t);
            }
        }
        Node::Condition(c) => {
            for b in &c.branches {
                push(&b.next);
            }
            push(&c.default);
        }
        Node::End(_) => {}
    }
    out
}

/// Most `cycle` problems reported for one document.
const MAX_CYCLE_REPORTS: usize = 20;

/// Node ids as indices and the successor lists between existing nodes.
pub(crate) struct Graph<'a> {
    pub ids: Vec<&'a str>,
    pub index: BTreeMap<&'a str, usize>,
    pub edges: Vec<Vec<usize>>,
}

impl<'a> Graph<'a> {
    pub fn new(def: &'a JourneyDefinition) -> Self {
        let ids: Vec<&str> = def.nodes.keys().map(String::as_str).collect();
        let index: BTreeMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let edges = def
            .nodes
            .values()
            .map(|n| {
                successors(n)
                    .into_iter()
                    .filter_map(|t| index.get(t).copied())
                    .collect()
            })
            .collect();
        Graph { ids, index, edges }
    }

    /// Nodes reachable from `from`, never entering `avoid`.
    pub fn reachable(&self, from: usize, avoid: Option<usize>) -> Vec<bool> {
        let mut seen = vec![false; self.ids.len()];
        if Some(from) == avoid || from >= seen.len() {
            return seen;
        }
        let mut queue = VecDeque::from([from]);
        if let Some(s) = seen.get_mut(from) {
            *s = true;
        }
        while let Some(n) = queue.pop_front() {
            for &m in self.edges.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                if Some(m) == avoid {
                    continue;
                }
                if let Some(s) = seen.get_mut(m)
                    && !*s
                {
                    *s = true;
                    queue.push_back(m);
                }
            }
        }
        seen
    }

    /// The back edges found by an iterative depth-first search over all nodes, each with the
    /// loop it closes (its first [`MAX_CYCLE_REPORTS`] only, so a hostile document cannot make
    /// this quadratic). Returns (node the back edge leaves, nodes of the loop in order).
    fn cycles(&self) -> Vec<(usize, Vec<usize>)> {
        const WHITE: u8 = 0;
        const GREY: u8 = 1;
        const BLACK: u8 = 2;
        let n = self.ids.len();
        let mut color = vec![WHITE; n];
        let mut found = Vec::new();
        for root in 0..n {
            if color.get(root) != Some(&WHITE) {
                continue;
            }
            // (node, index of the next edge to follow)
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            if let Some(c) = color.get_mut(root) {
                *c = GREY;
            }
            while let Some(top) = stack.last_mut() {
                let (node, next_edge) = *top;
                let Some(&target) = self.edges.get(node).and_then(|e| e.get(next_edge)) else {
                    if let Some(c) = color.get_mut(node) {
                        *c = BLACK;
                    }
                    stack.pop();
                    continue;
                };
                top.1 += 1;
                match color.get(target).copied() {
                    Some(WHITE) => {
                        if let Some(c) = color.get_mut(target) {
                            *c = GREY;
                        }
                        stack.push((target, 0));
                    }
                    Some(GREY) if found.len() < MAX_CYCLE_REPORTS => {
                        let start = stack.iter().position(|&(s, _)| s == target).unwrap_or(0);
                        let cycle = stack.get(start..).unwrap_or(&[]).iter().map(|&(s, _)| s);
                        found.push((node, cycle.collect()));
                    }
                    _ => {}
                }
            }
        }
        found
    }
}

struct Validator<'a> {
    def: &'a JourneyDefinition,
    problems: Vec<Problem>,
}

/// A node id as shown in messages: at most 64 chars, so garbage ids cannot flood a message.
fn shown(id: &str) -> String {
    match id.char_indices().nth(limits::MAX_NODE_ID_LEN) {
        Some((cut, _)) => format!("{}…", id.get(..cut).unwrap_or("")),
        None => id.to_owned(),
    }
}

/// True for 1 to 64 chars of `[A-Za-z0-9_-]`.
pub fn is_valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= limits::MAX_NODE_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Validator<'_> {
    fn push(&mut self, node: Option<&str>, code: ProblemCode, message: impl Into<String>) {
        self.problems.push(Problem {
            node_id: node.map(str::to_owned),
            code,
            message: message.into(),
        });
    }

    fn check_document(&mut self) {
        let count = self.def.nodes.len();
        if count > limits::MAX_NODES {
            self.push(
                None,
                ProblemCode::TooManyNodes,
                format!(
                    "the journey has {count} nodes; at most {} are allowed",
                    limits::MAX_NODES
                ),
            );
        }
        let start = &self.def.start_node;
        if start.is_empty() {
            self.push(None, ProblemCode::MissingStart, "startNode is empty");
        } else if !self.def.nodes.contains_key(start) {
            self.push(
                None,
                ProblemCode::MissingStart,
                format!("startNode `{}` is not a node", shown(start)),
            );
        }
    }

    /// `field` must be non-blank and at most `max` chars.
    fn text(&mut self, id: &str, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(
                Some(id),
                ProblemCode::EmptyField,
                format!("{field} is empty"),
            );
        } else {
            self.at_most(id, field, value, max);
        }
    }

    fn at_most(&mut self, id: &str, field: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len > max {
            self.push(
                Some(id),
                ProblemCode::FieldTooLong,
                format!("{field} is {len} characters long; at most {max} are allowed"),
            );
        }
    }

    fn target(&mut self, id: &str, field: &str, target: &str) {
        if !self.def.nodes.contains_key(target) {
            let message = if target.is_empty() {
                format!("{field} is empty")
            } else {
                format!("{field} `{}` is not a node", shown(target))
            };
            self.push(Some(id), ProblemCode::UnknownTarget, message);
        }
    }

    fn check_node(&mut self, id: &str, node: &Node) {
        if !is_valid_node_id(id) {
            self.push(
                Some(id),
                ProblemCode::InvalidNodeId,
                format!(
                    "node id `{}` must be 1 to {} characters of letters, digits, `_` and `-`",
                    shown(id),
                    limits::MAX_NODE_ID_LEN
                ),
            );
        }
        match node {
            Node::Question(q) => self.check_question(id, q),
            Node::Condition(c) => self.check_condition(id, c),
            Node::End(e) => self.check_end(id, e),
        }
    }

    fn check_question(&mut self, id: &str, q: &Question) {
        self.text(id, "title", q.title(), limits::MAX_TITLE_LEN);
        if let Some(help) = q.help() {
            self.at_most(id, "help", help, limits::MAX_HELP_LEN);
        }
        match q {
            Question::SingleChoice(sc) => {
                let values: Vec<(&str, &str)> = sc
                    .options
                    .iter()
                    .map(|o: &SingleChoiceOption| (o.value.as_str(), o.label.as_str()))
                    .collect();
                self.options(id, &values);
                for (i, o) in sc.options.iter().enumerate() {
                    match &o.next {
                        Some(t) => self.target(id, &format!("options[{i}].next"), t),
                        None if sc.next.is_none() => self.push(
                            Some(id),
                            ProblemCode::DeadEnd,
                            format!(
                                "option `{}` has no next and the question has no next",
                                shown(&o.value)
                            ),
                        ),
                        None => {}
                    }
                }
                match &sc.next {
                    Some(t) => self.target(id, "next", t),
                    None if !sc.required => self.push(
                        Some(id),
                        ProblemCode::DeadEnd,
                        "an optional single choice question needs a next to go to when skipped",
                    ),
                    None => {}
                }
            }
            Question::MultipleChoice(mc) => {
                let values: Vec<(&str, &str)> = mc
                    .options
                    .iter()
                    .map(|o: &ChoiceOption| (o.value.as_str(), o.label.as_str()))
                    .collect();
                self.options(id, &values);
                let count = mc.options.len();
                let max = mc.max_selections;
                let min = mc.min_selections;
                if max == Some(0) {
                    self.limits(id, "maxSelections must be at least 1".into());
                }
                if let Some(max) = max
                    && count > 0
                    && usize::try_from(max).unwrap_or(usize::MAX) > count
                {
                    self.limits(
                        id,
                        format!("maxSelections {max} is more than the {count} options"),
                    );
                }
                if let Some(min) = min
                    && count > 0
                    && usize::try_from(min).unwrap_or(usize::MAX) > count
                {
                    self.limits(
                        id,
                        format!("minSelections {min} is more than the {count} options"),
                    );
                }
                if let (Some(min), Some(max)) = (min, max)
                    && min > max
                {
                    self.limits(
                        id,
                        format!("minSelections {min} is more than maxSelections {max}"),
                    );
                }
                self.target(id, "next", &mc.next);
            }
            Question::Text(t) => {
                let cap = limits::MAX_TEXT_LEN;
                if t.max_length == Some(0) {
                    self.limits(id, "maxLength must be at least 1".into());
                }
                for (name, value) in [("minLength", t.min_length), ("maxLength", t.max_length)] {
                    if let Some(v) = value
                        && v > cap
                    {
                        self.limits(id, format!("{name} {v} is more than the cap of {cap}"));
                    }
                }
                if t.min() > t.max() {
                    self.limits(
                        id,
                        format!("minLength {} is more than maxLength {}", t.min(), t.max()),
                    );
                }
                self.target(id, "next", &t.next);
            }
            Question::ImageUpload(iu) => {
                if let Some(m) = iu.max_files
                    && (m == 0 || m > limits::MAX_FILES)
                {
                    self.limits(
                        id,
                        format!("maxFiles must be 1 to {}, not {m}", limits::MAX_FILES),
                    );
                }
                self.target(id, "next", &iu.next);
            }
        }
    }

    fn limits(&mut self, id: &str, message: String) {
        self.push(Some(id), ProblemCode::InvalidLimits, message);
    }

    /// Count, non-empty and unique values, non-empty labels, lengths.
    fn options(&mut self, id: &str, options: &[(&str, &str)]) {
        if options.is_empty() {
            self.push(
                Some(id),
                ProblemCode::NoOptions,
                "a choice question needs options",
            );
        } else if options.len() > limits::MAX_OPTIONS {
            self.push(
                Some(id),
                ProblemCode::TooManyOptions,
                format!(
                    "{} options; at most {} are allowed",
                    options.len(),
                    limits::MAX_OPTIONS
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, (value, label)) in options.iter().enumerate() {
            self.text(
                id,
                &format!("options[{i}].value"),
                value,
                limits::MAX_OPTION_VALUE_LEN,
            );
            self.text(
                id,
                &format!("options[{i}].label"),
                label,
                limits::MAX_OPTION_LABEL_LEN,
            );
            if !seen.insert(*value) {
                self.push(
                    Some(id),
                    ProblemCode::DuplicateOption,
                    format!("option value `{}` appears more than once", shown(value)),
                );
            }
        }
    }

    fn check_condition(&mut self, id: &str, c: &ConditionNode) {
        if let Some(title) = &c.title {
            self.at_most(id, "title", title, limits::MAX_TITLE_LEN);
        }
        if c.branches.len() > limits::MAX_BRANCHES {
            self.push(
                Some(id),
                ProblemCode::TooManyBranches,
                format!(
                    "{} branches; at most {} are allowed",
                    c.branches.len(),
                    limits::MAX_BRANCHES
                ),
            );
        }
        for (b, branch) in c.branches.iter().enumerate() {
            if branch.rules.is_empty() {
                self.push(
                    Some(id),
                    ProblemCode::EmptyField,
                    format!("branches[{b}] has no rules"),
                );
            } else if branch.rules.len() > limits::MAX_RULES {
                self.push(
                    Some(id),
                    ProblemCode::TooManyRules,
                    format!(
                        "branches[{b}] has {} rules; at most {} are allowed",
                        branch.rules.len(),
                        limits::MAX_RULES
                    ),
                );
            }
            for (r, rule) in branch.rules.iter().enumerate() {
                self.check_rule(id, &format!("branches[{b}].rules[{r}]"), rule);
            }
            self.target(id, &format!("branches[{b}].next"), &branch.next);
        }
        self.target(id, "default", &c.default);
    }

    fn check_rule(&mut self, id: &str, at: &str, rule: &Rule) {
        let Some(q) = self.def.question(&rule.node) else {
            let message = if self.def.nodes.contains_key(&rule.node) {
                format!("{at}: node `{}` is not a question", shown(&rule.node))
            } else {
                format!("{at}: node `{}` does not exist", shown(&rule.node))
            };
            self.push(Some(id), ProblemCode::RuleNodeNotQuestion, message);
            return;
        };
        if let Err((code, message)) = check_rule_against(rule, q) {
            self.push(Some(id), code, format!("{at}: {message}"));
        }
    }

    fn check_end(&mut self, id: &str, e: &EndNode) {
        self.text(id, "category", &e.category, limits::MAX_CATEGORY_LEN);
        self.check_tags(id, &e.tags);
        self.text(id, "subject", &e.subject, limits::MAX_SUBJECT_LEN);
        match parse_template(&e.subject) {
            Err(message) => self.push(
                Some(id),
                ProblemCode::InvalidTemplate,
                format!("subject: {message}"),
            ),
            Ok(segments) => {
                for s in segments {
                    if let Segment::Placeholder(p) = s
                        && self.def.question(p).is_none()
                    {
                        self.push(
                            Some(id),
                            ProblemCode::UnknownPlaceholder,
                            format!("subject: `{{{}}}` is not a question", shown(p)),
                        );
                    }
                }
            }
        }
    }

    /// Tags are stored as written: each must already be in normalised form, once.
    fn check_tags(&mut self, id: &str, tags: &[String]) {
        if tags.len() > crate::tags::MAX_TAGS_PER_TICKET {
            self.push(
                Some(id),
                ProblemCode::InvalidTag,
                format!(
                    "tags: {} tags; at most {} are allowed",
                    tags.len(),
                    crate::tags::MAX_TAGS_PER_TICKET
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for tag in tags {
            let message = match crate::tags::normalize(tag) {
                Err(e) => Some(format!("tags: {e}")),
                Ok(n) if n != *tag => Some(format!("tags: `{}` is written `{n}`", shown(tag))),
                Ok(_) if !seen.insert(tag.as_str()) => {
                    Some(format!("tags: `{}` is listed twice", shown(tag)))
                }
                Ok(_) => None,
            };
            if let Some(message) = message {
                self.push(Some(id), ProblemCode::InvalidTag, message);
            }
        }
    }

    fn check_graph(&mut self, graph: &Graph<'_>) {
        let start = graph.index.get(self.def.start_node.as_str()).copied();
        if let Some(start) = start {
            let seen = graph.reachable(start, None);
            for (i, id) in graph.ids.iter().enumerate() {
                if !seen.get(i).copied().unwrap_or(false) {
                    self.push(
                        Some(id),
                        ProblemCode::UnreachableNode,
                        "no path from the start leads here",
                    );
                }
            }
        }
        for (from, cycle) in graph.cycles() {
            // Name at most 20 nodes so a huge loop cannot make a huge message.
            let mut names: Vec<String> = cycle
                .iter()
                .take(20)
                .filter_map(|&i| graph.ids.get(i))
                .map(|id| shown(id))
                .collect();
            if cycle.len() > 20 {
                names.push("…".to_owned());
            }
            if let Some(first) = names.first().cloned() {
                names.push(first);
            }
            let from = graph.ids.get(from).copied().unwrap_or("");
            self.push(
                Some(from),
                ProblemCode::Cycle,
                format!("the journey loops: {}", names.join(" -> ")),
            );
        }
        // Dominance: a rule's question must be on every path from the start to its condition,
        // i.e. the condition is unreachable once the question is removed. Skipped for oversized
        // documents (already rejected) to keep the work bounded.
        let Some(start) = start else { return };
        if self.def.nodes.len() > limits::MAX_NODES {
            return;
        }
        let reachable = graph.reachable(start, None);
        let mut avoiding: BTreeMap<usize, Vec<bool>> = BTreeMap::new();
        for (cid, node) in &self.def.nodes {
            let Node::Condition(c) = node else { continue };
            let Some(&ci) = graph.index.get(cid.as_str()) else {
                continue;
            };
            if !reachable.get(ci).copied().unwrap_or(false) {
                continue;
            }
            let mut reported = BTreeSet::new();
            for (b, branch) in c.branches.iter().enumerate() {
                for (r, rule) in branch.rules.iter().enumerate() {
                    if self.def.question(&rule.node).is_none() {
                        continue;
                    }
                    let Some(&qi) = graph.index.get(rule.node.as_str()) else {
                        continue;
                    };
                    let without_q = avoiding
                        .entry(qi)
                        .or_insert_with(|| graph.reachable(start, Some(qi)));
                    if without_q.get(ci).copied().unwrap_or(false)
                        && reported.insert(rule.node.as_str())
                    {
                        self.push(
                            Some(cid),
                            ProblemCode::RuleNodeNotBefore,
                            format!(
                                "branches[{b}].rules[{r}]: question `{}` is not asked before this \
                                 condition on every path",
                                shown(&rule.node)
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Checks that `rule.op` applies to the question's type and `rule.value` fits it.
fn check_rule_against(rule: &Rule, q: &Question) -> Result<(), (ProblemCode, String)> {
    use QuestionType::*;
    use RuleOp::*;
    let qt = q.question_type();
    let op = rule.op;
    let bad_op = || {
        Err((
            ProblemCode::InvalidRuleOp,
            format!("`{op}` does not apply to a {qt} question"),
        ))
    };
    let bad_value = |m: String| Err((ProblemCode::InvalidRuleValue, m));
    // What the value must look like: None = absent, Some(false) = string, Some(true) = array.
    let want_array = match (op, qt) {
        (IsEmpty | IsNotEmpty, _) => None,
        (_, ImageUpload) => return bad_op(),
        (Contains, SingleChoice) => return bad_op(),
        (Equals | NotEquals, MultipleChoice) => Some(true),
        (Equals | NotEquals | Contains, _) => Some(false),
        (AnyOf, _) => Some(true),
    };
    let values: Vec<&String> = match (want_array, &rule.value) {
        (None, None) => return Ok(()),
        (None, Some(_)) => return bad_value(format!("`{op}` takes no value")),
        (Some(false), Some(RuleValue::One(s))) => vec![s],
        (Some(true), Some(RuleValue::Many(v))) => v.iter().collect(),
        (Some(false), _) => return bad_value(format!("`{op}` on a {qt} question needs a string")),
        (Some(true), _) => {
            return bad_value(format!(
                "`{op}` on a {qt} question needs an array of strings"
            ));
        }
    };
    if values.is_empty() {
        return bad_value("the value array is empty".into());
    }
    if values.len() > limits::MAX_RULE_VALUES {
        return bad_value(format!(
            "{} values; at most {} are allowed",
            values.len(),
            limits::MAX_RULE_VALUES
        ));
    }
    for v in &values {
        if v.trim().is_empty() {
            return bad_value("a value is empty".into());
        }
        if v.chars().count() > limits::MAX_RULE_VALUE_LEN {
            return bad_value(format!(
                "a value is longer than {} characters",
                limits::MAX_RULE_VALUE_LEN
            ));
        }
    }
    let options: Vec<&str> = match q {
        Question::SingleChoice(sc) => sc.options.iter().map(|o| o.value.as_str()).collect(),
        Question::MultipleChoice(mc) => mc.options.iter().map(|o| o.value.as_str()).collect(),
        _ => return Ok(()),
    };
    for v in values {
        if !options.contains(&v.as_str()) {
            return bad_value(format!("`{}` is not an option of the question", shown(v)));
        }
    }
    Ok(())
}
