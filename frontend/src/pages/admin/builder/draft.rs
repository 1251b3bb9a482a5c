//! The builder's editable copy of a journey: one signal per input, so typing in one field
//! re-renders nothing else, and lists (nodes, options, branches, rules) keyed by a number
//! that never changes, so reordering moves rows instead of rebuilding them.
//!
//! [`Draft::definition`] turns the drafts into a `JourneyDefinition` (tracked: a memo over it
//! follows every edit) together with the problems only the builder can see (two nodes with
//! one id, a limit that is not a number). Everything else is `shared::journey::validate`'s.
//! Nodes keep the order the admin gave them; the document itself is a map by id.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use leptos::prelude::*;
use shared::Priority;
use shared::journey::{
    Branch, ChoiceOption, ConditionNode, EndNode, ImageUploadQuestion, JourneyDefinition,
    MatchMode, MultipleChoiceQuestion, Node, Question, QuestionType, Rule, RuleOp, RuleValue,
    SingleChoiceOption, SingleChoiceQuestion, TextQuestion, successors,
};

/// What a node is, as the type picker shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Question(QuestionType),
    Condition,
    End,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Question(QuestionType::SingleChoice),
        Kind::Question(QuestionType::MultipleChoice),
        Kind::Question(QuestionType::Text),
        Kind::Question(QuestionType::ImageUpload),
        Kind::Condition,
        Kind::End,
    ];

    /// The picker value (and `data-node-type`).
    pub fn value(self) -> &'static str {
        match self {
            Kind::Question(q) => q.as_str(),
            Kind::Condition => "condition",
            Kind::End => "end",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Question(QuestionType::SingleChoice) => "Question: pick one",
            Kind::Question(QuestionType::MultipleChoice) => "Question: pick several",
            Kind::Question(QuestionType::Text) => "Question: text",
            Kind::Question(QuestionType::ImageUpload) => "Question: images",
            Kind::Condition => "Condition",
            Kind::End => "End: open the ticket",
        }
    }

    /// A short name for the graph.
    pub fn short(self) -> &'static str {
        match self {
            Kind::Question(QuestionType::SingleChoice) => "pick one",
            Kind::Question(QuestionType::MultipleChoice) => "pick several",
            Kind::Question(QuestionType::Text) => "text",
            Kind::Question(QuestionType::ImageUpload) => "images",
            Kind::Condition => "condition",
            Kind::End => "end",
        }
    }

    pub fn from_value(v: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.value() == v)
    }

    fn of(node: &Node) -> Kind {
        match node {
            Node::Question(q) => Kind::Question(q.question_type()),
            Node::Condition(_) => Kind::Condition,
            Node::End(_) => Kind::End,
        }
    }

    /// The id prefix of new nodes of this kind.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Question(_) => "question",
            Kind::Condition => "condition",
            Kind::End => "end",
        }
    }

    pub fn is_choice(self) -> bool {
        matches!(
            self,
            Kind::Question(QuestionType::SingleChoice | QuestionType::MultipleChoice)
        )
    }
}

/// An answer option.
#[derive(Debug, Clone, Copy)]
pub struct OptionDraft {
    pub key: u64,
    pub value: RwSignal<String>,
    pub label: RwSignal<String>,
    /// Where choosing it leads (single choice); `""`: the question's next.
    pub next: RwSignal<String>,
    /// The value follows the label until the admin edits the value itself.
    pub value_follows_label: RwSignal<bool>,
}

/// A rule of a branch.
#[derive(Debug, Clone, Copy)]
pub struct RuleDraft {
    pub key: u64,
    pub node: RwSignal<String>,
    pub op: RwSignal<RuleOp>,
    /// One value, or several separated by commas (`any_of`, and `equals` on a multiple choice).
    pub value: RwSignal<String>,
}

/// A branch of a condition.
#[derive(Debug, Clone, Copy)]
pub struct BranchDraft {
    pub key: u64,
    pub mode: RwSignal<MatchMode>,
    pub rules: RwSignal<Vec<RuleDraft>>,
    pub next: RwSignal<String>,
}

/// One node with the inputs of every kind, so switching the kind keeps what still applies.
#[derive(Debug, Clone, Copy)]
pub struct NodeDraft {
    pub key: u64,
    pub id: RwSignal<String>,
    pub kind: RwSignal<Kind>,
    /// Question title, or the condition's editor label.
    pub title: RwSignal<String>,
    pub help: RwSignal<String>,
    pub required: RwSignal<bool>,
    pub options: RwSignal<Vec<OptionDraft>>,
    /// The node's next (`""`: none).
    pub next: RwSignal<String>,
    /// minLength / minSelections, as typed.
    pub min: RwSignal<String>,
    /// maxLength / maxSelections / maxFiles, as typed.
    pub max: RwSignal<String>,
    pub multiline: RwSignal<bool>,
    pub branches: RwSignal<Vec<BranchDraft>>,
    pub default: RwSignal<String>,
    pub category: RwSignal<String>,
    pub priority: RwSignal<Priority>,
    pub subject: RwSignal<String>,
    /// An end node's tags, comma-separated as typed.
    pub tags: RwSignal<String>,
}

/// A problem to show: on a node (by key) or on the whole document.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub node: Option<u64>,
    /// A `ProblemCode` wire name, or the builder's own (`duplicate_id`, `not_a_number`).
    pub code: String,
    pub message: String,
}

/// The whole editable journey. `Copy`; every part is owned by the builder page.
#[derive(Debug, Clone, Copy)]
pub struct Draft {
    pub start: RwSignal<String>,
    pub nodes: RwSignal<Vec<NodeDraft>>,
    next_key: StoredValue<u64>,
    /// The builder's owner: signals made later (in event handlers) belong to it.
    owner: StoredValue<Owner>,
}

fn opt(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

fn num_text(n: Option<u32>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// `"A whole item"` → `"a-whole-item"`: a machine value from a label.
pub fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.chars().take(100).collect()
}

impl Draft {
    /// An editable copy of `def`, or a small valid journey to start from. Call it in the
    /// builder component, whose owner then owns every part.
    pub fn new(def: Option<&JourneyDefinition>) -> Self {
        let owner = Owner::current().unwrap_or_default();
        let draft = Draft {
            start: RwSignal::new(String::new()),
            nodes: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(1),
            owner: StoredValue::new(owner),
        };
        match def {
            Some(def) => draft.load(def),
            None => draft.load(&starter()),
        }
        draft
    }

    fn key(&self) -> u64 {
        let k = self.next_key.get_value();
        self.next_key.set_value(k + 1);
        k
    }

    /// Runs `f` with the builder's owner, so the signals it creates live as long as the page.
    fn owned<T>(&self, f: impl FnOnce() -> T) -> T {
        self.owner.with_value(|o| o.clone()).with(f)
    }

    fn load(&self, def: &JourneyDefinition) {
        let order = reading_order(def);
        let nodes = order
            .iter()
            .filter_map(|id| def.nodes.get(id).map(|n| self.node_from(id, n)))
            .collect();
        self.start.set(def.start_node.clone());
        self.nodes.set(nodes);
    }

    fn option(&self, value: &str, label: &str, next: Option<&str>) -> OptionDraft {
        self.owned(|| OptionDraft {
            key: self.key(),
            value: RwSignal::new(value.to_owned()),
            label: RwSignal::new(label.to_owned()),
            next: RwSignal::new(next.unwrap_or_default().to_owned()),
            value_follows_label: RwSignal::new(value.is_empty() || slug(label) == value),
        })
    }

    pub fn new_option(&self) -> OptionDraft {
        self.option("", "", None)
    }

    pub fn new_rule(&self, node: &str) -> RuleDraft {
        self.owned(|| RuleDraft {
            key: self.key(),
            node: RwSignal::new(node.to_owned()),
            op: RwSignal::new(RuleOp::Equals),
            value: RwSignal::new(String::new()),
        })
    }

    fn rule_from(&self, rule: &Rule) -> RuleDraft {
        let value = match &rule.value {
            Some(RuleValue::One(v)) => v.clone(),
            Some(RuleValue::Many(vs)) => vs.join(", "),
            None => String::new(),
        };
        self.owned(|| RuleDraft {
            key: self.key(),
            node: RwSignal::new(rule.node.clone()),
            op: RwSignal::new(rule.op),
            value: RwSignal::new(value),
        })
    }

    /// A branch with one rule on `node` (the first question, usually).
    pub fn new_branch(&self, node: &str) -> BranchDraft {
        let rule = self.new_rule(node);
        self.owned(|| BranchDraft {
            key: self.key(),
            mode: RwSignal::new(MatchMode::All),
            rules: RwSignal::new(vec![rule]),
            next: RwSignal::new(String::new()),
        })
    }

    fn blank(&self, id: &str, kind: Kind) -> NodeDraft {
        self.owned(|| NodeDraft {
            key: self.key(),
            id: RwSignal::new(id.to_owned()),
            kind: RwSignal::new(kind),
            title: RwSignal::new(String::new()),
            help: RwSignal::new(String::new()),
            required: RwSignal::new(true),
            options: RwSignal::new(Vec::new()),
            next: RwSignal::new(String::new()),
            min: RwSignal::new(String::new()),
            max: RwSignal::new(String::new()),
            multiline: RwSignal::new(false),
            branches: RwSignal::new(Vec::new()),
            default: RwSignal::new(String::new()),
            category: RwSignal::new(String::new()),
            priority: RwSignal::new(Priority::Medium),
            subject: RwSignal::new(String::new()),
            tags: RwSignal::new(String::new()),
        })
    }

    fn node_from(&self, id: &str, node: &Node) -> NodeDraft {
        let d = self.blank(id, Kind::of(node));
        match node {
            Node::Question(q) => {
                d.title.set(q.title().to_owned());
                d.help.set(q.help().unwrap_or_default().to_owned());
                d.required.set(q.required());
                d.next.set(q.next().unwrap_or_default().to_owned());
                match q {
                    Question::SingleChoice(sc) => d.options.set(
                        sc.options
                            .iter()
                            .map(|o| self.option(&o.value, &o.label, o.next.as_deref()))
                            .collect(),
                    ),
                    Question::MultipleChoice(mc) => {
                        d.options.set(
                            mc.options
                                .iter()
                                .map(|o| self.option(&o.value, &o.label, None))
                                .collect(),
                        );
                        d.min.set(num_text(mc.min_selections));
                        d.max.set(num_text(mc.max_selections));
                    }
                    Question::Text(t) => {
                        d.min.set(num_text(t.min_length));
                        d.max.set(num_text(t.max_length));
                        d.multiline.set(t.multiline);
                    }
                    Question::ImageUpload(i) => d.max.set(num_text(i.max_files)),
                }
            }
            Node::Condition(c) => {
                d.title.set(c.title.clone().unwrap_or_default());
                d.default.set(c.default.clone());
                let branches = c
                    .branches
                    .iter()
                    .map(|b| {
                        let rules = b.rules.iter().map(|r| self.rule_from(r)).collect();
                        self.owned(|| BranchDraft {
                            key: self.key(),
                            mode: RwSignal::new(b.match_mode),
                            rules: RwSignal::new(rules),
                            next: RwSignal::new(b.next.clone()),
                        })
                    })
                    .collect();
                d.branches.set(branches);
            }
            Node::End(e) => {
                d.category.set(e.category.clone());
                d.priority.set(e.priority);
                d.subject.set(e.subject.clone());
                d.tags.set(e.tags.join(", "));
            }
        }
        d
    }

    /// The first `prefix-N` id no node has.
    fn unique_id(&self, prefix: &str) -> String {
        let taken: BTreeSet<String> = self
            .nodes
            .with_untracked(|n| n.iter().map(|d| d.id.get_untracked()).collect());
        (1..)
            .map(|i| format!("{prefix}-{i}"))
            .find(|id| !taken.contains(id))
            .unwrap_or_else(|| prefix.to_owned())
    }

    /// Adds a node of `kind` after the others; returns it. The first node becomes the start.
    pub fn add(&self, kind: Kind) -> NodeDraft {
        let id = self.unique_id(kind.prefix());
        let node = self.blank(&id, kind);
        if kind.is_choice() {
            node.options.set(vec![self.new_option()]);
        }
        self.nodes.update(|n| n.push(node));
        if self.start.with_untracked(String::is_empty) {
            self.start.set(id);
        }
        node
    }

    /// Changes a node's kind. Limits mean something else for each question type, so they are
    /// cleared; a choice question without options gets an empty one to fill in.
    pub fn set_kind(&self, node: NodeDraft, kind: Kind) {
        let before = node.kind.get_untracked();
        if before == kind {
            return;
        }
        node.min.set(String::new());
        node.max.set(String::new());
        if kind.is_choice() && node.options.with_untracked(Vec::is_empty) {
            node.options.set(vec![self.new_option()]);
        }
        node.kind.set(kind);
    }

    pub fn remove(&self, key: u64) {
        let removed = self.nodes.with_untracked(|n| {
            n.iter()
                .find(|d| d.key == key)
                .map(|d| d.id.get_untracked())
        });
        self.nodes.update(|n| n.retain(|d| d.key != key));
        // Another node takes over as the start; references to the removed node stay and are
        // reported as unknown targets until the admin points them elsewhere.
        if removed.is_some_and(|id| self.start.with_untracked(|s| *s == id)) {
            let first = self
                .nodes
                .with_untracked(|n| n.first().map(|d| d.id.get_untracked()));
            self.start.set(first.unwrap_or_default());
        }
    }

    /// Moves a node up (`-1`) or down (`1`) in the list.
    pub fn shift(&self, key: u64, delta: isize) {
        self.nodes.update(|n| move_by(n, |d| d.key == key, delta));
    }

    /// A node's id changes from `old` to `new`: references follow, unless another node
    /// already had (or still has) either id.
    pub fn rename(&self, key: u64, old: &str, new: &str) {
        if old == new || old.is_empty() {
            return;
        }
        let others: Vec<String> = self.nodes.with_untracked(|n| {
            n.iter()
                .filter(|d| d.key != key)
                .map(|d| d.id.get_untracked())
                .collect()
        });
        if others.iter().any(|id| id == old || id == new) {
            return;
        }
        let follow = |s: RwSignal<String>| {
            if s.with_untracked(|v| v == old) {
                s.set(new.to_owned());
            }
        };
        follow(self.start);
        let placeholder_old = format!("{{{old}}}");
        let placeholder_new = format!("{{{new}}}");
        self.nodes.with_untracked(|nodes| {
            for n in nodes {
                follow(n.next);
                follow(n.default);
                n.options
                    .with_untracked(|os| os.iter().for_each(|o| follow(o.next)));
                n.branches.with_untracked(|bs| {
                    for b in bs {
                        follow(b.next);
                        b.rules
                            .with_untracked(|rs| rs.iter().for_each(|r| follow(r.node)));
                    }
                });
                if n.subject.with_untracked(|s| s.contains(&placeholder_old)) {
                    n.subject
                        .update(|s| *s = s.replace(&placeholder_old, &placeholder_new));
                }
            }
        });
    }

    /// The ids of every node in list order (tracked).
    pub fn ids(&self) -> Vec<String> {
        self.nodes.with(|n| n.iter().map(|d| d.id.get()).collect())
    }

    /// The document and the builder's own problems (tracked: reads every input).
    pub fn definition(&self) -> (JourneyDefinition, Vec<Issue>) {
        let mut issues = Vec::new();
        let drafts = self.nodes.get();
        // Question types by id, to shape rule values.
        let kinds: BTreeMap<String, Kind> =
            drafts.iter().map(|d| (d.id.get(), d.kind.get())).collect();
        let mut nodes = BTreeMap::new();
        for d in &drafts {
            let id = d.id.get();
            let node = node_of(d, &kinds, &mut issues);
            if nodes.contains_key(&id) {
                issues.push(Issue {
                    node: Some(d.key),
                    code: "duplicate_id".into(),
                    message: format!("Another node already has the id `{id}`; ids must be unique."),
                });
                continue;
            }
            nodes.insert(id, node);
        }
        (
            JourneyDefinition {
                start_node: self.start.get(),
                nodes,
            },
            issues,
        )
    }
}

/// Moves the item matching `is` by `delta` places, staying inside the list.
pub fn move_by<T>(list: &mut [T], is: impl Fn(&T) -> bool, delta: isize) {
    let Some(i) = list.iter().position(is) else {
        return;
    };
    let j = i.saturating_add_signed(delta);
    if j < list.len() && j != i {
        list.swap(i, j);
    }
}

/// A whole number or nothing; anything else is an issue on the node.
fn number(
    d: &NodeDraft,
    sig: RwSignal<String>,
    what: &str,
    issues: &mut Vec<Issue>,
) -> Option<u32> {
    let raw = sig.get();
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            issues.push(Issue {
                node: Some(d.key),
                code: "not_a_number".into(),
                message: format!("{what} must be a whole number (or empty)."),
            });
            None
        }
    }
}

fn node_of(d: &NodeDraft, kinds: &BTreeMap<String, Kind>, issues: &mut Vec<Issue>) -> Node {
    let title = d.title.get();
    let help = opt(d.help.get());
    let required = d.required.get();
    match d.kind.get() {
        Kind::Question(QuestionType::SingleChoice) => {
            Node::Question(Question::SingleChoice(SingleChoiceQuestion {
                title,
                help,
                required,
                options: d.options.with(|os| {
                    os.iter()
                        .map(|o| SingleChoiceOption {
                            value: o.value.get(),
                            label: o.label.get(),
                            next: opt(o.next.get()),
                        })
                        .collect()
                }),
                next: opt(d.next.get()),
            }))
        }
        Kind::Question(QuestionType::MultipleChoice) => {
            Node::Question(Question::MultipleChoice(MultipleChoiceQuestion {
                title,
                help,
                required,
                options: d.options.with(|os| {
                    os.iter()
                        .map(|o| ChoiceOption {
                            value: o.value.get(),
                            label: o.label.get(),
                        })
                        .collect()
                }),
                min_selections: number(d, d.min, "Fewest selections", issues),
                max_selections: number(d, d.max, "Most selections", issues),
                next: d.next.get(),
            }))
        }
        Kind::Question(QuestionType::Text) => Node::Question(Question::Text(TextQuestion {
            title,
            help,
            required,
            min_length: number(d, d.min, "Shortest answer", issues),
            max_length: number(d, d.max, "Longest answer", issues),
            multiline: d.multiline.get(),
            next: d.next.get(),
        })),
        Kind::Question(QuestionType::ImageUpload) => {
            Node::Question(Question::ImageUpload(ImageUploadQuestion {
                title,
                help,
                required,
                max_files: number(d, d.max, "Most images", issues),
                next: d.next.get(),
            }))
        }
        Kind::Condition => Node::Condition(ConditionNode {
            title: opt(title),
            branches: d.branches.with(|bs| {
                bs.iter()
                    .map(|b| Branch {
                        match_mode: b.mode.get(),
                        rules: b
                            .rules
                            .with(|rs| rs.iter().map(|r| rule_of(r, kinds)).collect()),
                        next: b.next.get(),
                    })
                    .collect()
            }),
            default: d.default.get(),
        }),
        Kind::End => Node::End(EndNode {
            category: d.category.get(),
            priority: d.priority.get(),
            subject: d.subject.get(),
            // Written as typed: validation names a tag that is not in its normalised form.
            tags: d
                .tags
                .get()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }),
    }
}

/// Whether a rule's value is a list for this operator and question type.
pub fn takes_list(op: RuleOp, kind: Option<Kind>) -> bool {
    match op {
        RuleOp::AnyOf => true,
        RuleOp::Equals | RuleOp::NotEquals => {
            kind == Some(Kind::Question(QuestionType::MultipleChoice))
        }
        _ => false,
    }
}

/// Whether a rule needs a value at all.
pub fn takes_value(op: RuleOp) -> bool {
    !matches!(op, RuleOp::IsEmpty | RuleOp::IsNotEmpty)
}

fn rule_of(r: &RuleDraft, kinds: &BTreeMap<String, Kind>) -> Rule {
    let node = r.node.get();
    let op = r.op.get();
    let raw = r.value.get();
    let value = if !takes_value(op) {
        None
    } else if takes_list(op, kinds.get(&node).copied()) {
        Some(RuleValue::Many(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    } else {
        Some(RuleValue::One(raw))
    };
    Rule { node, op, value }
}

/// Node ids in the order a reader meets them: breadth first from the start, then the rest
/// by id.
fn reading_order(def: &JourneyDefinition) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut queue = VecDeque::from([def.start_node.clone()]);
    while let Some(id) = queue.pop_front() {
        let Some(node) = def.nodes.get(&id) else {
            continue;
        };
        if !seen.insert(id.clone()) {
            continue;
        }
        out.push(id);
        for next in successors(node) {
            if !seen.contains(next) {
                queue.push_back(next.to_owned());
            }
        }
    }
    out.extend(def.nodes.keys().filter(|id| !seen.contains(*id)).cloned());
    out
}

/// What a new journey starts with: one text question and an end, valid as it is.
fn starter() -> JourneyDefinition {
    let mut nodes = BTreeMap::new();
    nodes.insert(
        "question-1".to_owned(),
        Node::Question(Question::Text(TextQuestion {
            title: "What can we help you with?".to_owned(),
            help: None,
            required: true,
            min_length: None,
            max_length: Some(2000),
            multiline: true,
            next: "end-1".to_owned(),
        })),
    );
    nodes.insert(
        "end-1".to_owned(),
        Node::End(EndNode {
            category: "general".to_owned(),
            priority: Priority::Medium,
            subject: "{question-1}".to_owned(),
            tags: Vec::new(),
        }),
    );
    JourneyDefinition {
        start_node: "question-1".to_owned(),
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_labels() {
        assert_eq!(slug("A whole item!"), "a-whole-item");
        assert_eq!(slug("  It's broken  "), "it-s-broken");
        assert_eq!(slug("---"), "");
    }

    #[test]
    fn rule_values_are_lists_only_where_the_evaluator_wants_one() {
        let multi = Some(Kind::Question(QuestionType::MultipleChoice));
        let single = Some(Kind::Question(QuestionType::SingleChoice));
        assert!(takes_list(RuleOp::AnyOf, single));
        assert!(takes_list(RuleOp::Equals, multi));
        assert!(!takes_list(RuleOp::Equals, single));
        assert!(!takes_list(RuleOp::Contains, multi));
        assert!(!takes_value(RuleOp::IsEmpty));
    }

    #[test]
    fn reading_order_starts_at_the_start() {
        let order = reading_order(&starter());
        assert_eq!(order, ["question-1", "end-1"]);
        assert!(shared::journey::validate(&starter()).is_ok());
    }

    #[test]
    fn move_by_stays_inside() {
        let mut v = vec![1, 2, 3];
        move_by(&mut v, |x| *x == 1, -1);
        assert_eq!(v, [1, 2, 3]);
        move_by(&mut v, |x| *x == 1, 1);
        assert_eq!(v, [2, 1, 3]);
        move_by(&mut v, |x| *x == 3, 1);
        assert_eq!(v, [2, 1, 3]);
    }
}
