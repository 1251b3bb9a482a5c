//! The journey document: nodes, options, rules, answers, and the hard limits they must respect.
//!
//! These types only describe shape (serde rejects unknown fields, unknown node or question
//! types, wrong JSON types and duplicate node ids). Everything that needs the whole document —
//! targets that exist, no cycles, limits that agree — is checked by
//! [`validate`](super::validate).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::tickets::Priority;

/// Hard caps on a journey document. [`validate`](super::validate) reports anything above them.
pub mod limits {
    /// Most nodes a journey may have.
    pub const MAX_NODES: usize = 200;
    /// Longest node id, in chars (ids are `[A-Za-z0-9_-]`).
    pub const MAX_NODE_ID_LEN: usize = 64;
    /// Longest question or condition title, in chars.
    pub const MAX_TITLE_LEN: usize = 500;
    /// Longest help text under a question, in chars.
    pub const MAX_HELP_LEN: usize = 2000;
    /// Most options a choice question may have.
    pub const MAX_OPTIONS: usize = 50;
    /// Longest option value, in chars.
    pub const MAX_OPTION_VALUE_LEN: usize = 100;
    /// Longest option label, in chars.
    pub const MAX_OPTION_LABEL_LEN: usize = 200;
    /// Largest `minLength` / `maxLength` of a text question, and the default `maxLength`.
    pub const MAX_TEXT_LEN: u32 = 10_000;
    /// Largest `maxFiles` of an image upload question, and its default.
    pub const MAX_FILES: u32 = 10;
    /// Most branches a condition may have.
    pub const MAX_BRANCHES: usize = 50;
    /// Most rules a branch may have.
    pub const MAX_RULES: usize = 50;
    /// Most strings in an array rule value (`any_of`, `equals` on a multiple choice question).
    pub const MAX_RULE_VALUES: usize = 50;
    /// Longest string in a rule value, in chars.
    pub const MAX_RULE_VALUE_LEN: usize = 500;
    /// Longest end-node category, in chars.
    pub const MAX_CATEGORY_LEN: usize = 100;
    /// Longest subject template, and longest rendered subject, in chars.
    pub const MAX_SUBJECT_LEN: usize = 200;
}

/// A journey: `{"startNode": "...", "nodes": {"id": node, ...}}`.
///
/// Deserializing rejects unknown fields everywhere and a node id that appears twice in `nodes`.
/// A parsed document may still be inconsistent; run `validate` (or build a `ValidJourney`)
/// before using it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JourneyDefinition {
    /// The id of the first node.
    pub start_node: String,
    /// Every node by id. Ordered by id so that validation and serialization are deterministic.
    #[serde(deserialize_with = "deserialize_unique_map")]
    pub nodes: BTreeMap<String, Node>,
}

impl JourneyDefinition {
    /// The question with this id, if `id` names a question node.
    pub fn question(&self, id: &str) -> Option<&Question> {
        match self.nodes.get(id) {
            Some(Node::Question(q)) => Some(q),
            _ => None,
        }
    }
}

/// One node of the journey, tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Node {
    /// Asks the customer something (`"type": "question"`).
    Question(Question),
    /// Routes on earlier answers without asking anything (`"type": "condition"`).
    Condition(ConditionNode),
    /// Finishes the journey and describes the ticket (`"type": "end"`).
    End(EndNode),
}

/// A question, tagged by `"questionType"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "questionType", rename_all = "snake_case")]
pub enum Question {
    /// Pick exactly one option; the answer is the option's `value` (a string).
    SingleChoice(SingleChoiceQuestion),
    /// Pick one or more options; the answer is an array of option values.
    MultipleChoice(MultipleChoiceQuestion),
    /// Free text; the answer is a string.
    Text(TextQuestion),
    /// Images uploaded beforehand; the answer is an array of attachment ids (UUIDs).
    ImageUpload(ImageUploadQuestion),
}

/// The kind of a question, without its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    SingleChoice,
    MultipleChoice,
    Text,
    ImageUpload,
}

impl QuestionType {
    /// The snake_case wire name, e.g. `"single_choice"`.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::SingleChoice => "single_choice",
            QuestionType::MultipleChoice => "multiple_choice",
            QuestionType::Text => "text",
            QuestionType::ImageUpload => "image_upload",
        }
    }
}

impl fmt::Display for QuestionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Question {
    pub fn question_type(&self) -> QuestionType {
        match self {
            Question::SingleChoice(_) => QuestionType::SingleChoice,
            Question::MultipleChoice(_) => QuestionType::MultipleChoice,
            Question::Text(_) => QuestionType::Text,
            Question::ImageUpload(_) => QuestionType::ImageUpload,
        }
    }

    pub fn title(&self) -> &str {
        match self {
            Question::SingleChoice(q) => &q.title,
            Question::MultipleChoice(q) => &q.title,
            Question::Text(q) => &q.title,
            Question::ImageUpload(q) => &q.title,
        }
    }

    pub fn help(&self) -> Option<&str> {
        match self {
            Question::SingleChoice(q) => q.help.as_deref(),
            Question::MultipleChoice(q) => q.help.as_deref(),
            Question::Text(q) => q.help.as_deref(),
            Question::ImageUpload(q) => q.help.as_deref(),
        }
    }

    pub fn required(&self) -> bool {
        match self {
            Question::SingleChoice(q) => q.required,
            Question::MultipleChoice(q) => q.required,
            Question::Text(q) => q.required,
            Question::ImageUpload(q) => q.required,
        }
    }

    /// The node-level `next`. For a single choice question an option's own `next` wins.
    pub fn next(&self) -> Option<&str> {
        match self {
            Question::SingleChoice(q) => q.next.as_deref(),
            Question::MultipleChoice(q) => Some(&q.next),
            Question::Text(q) => Some(&q.next),
            Question::ImageUpload(q) => Some(&q.next),
        }
    }
}

/// `"questionType": "single_choice"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SingleChoiceQuestion {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Must the customer answer? If not, the answer may be skipped (`null` or absent).
    pub required: bool,
    /// 1 to 50 options with unique values.
    #[serde(default)]
    pub options: Vec<SingleChoiceOption>,
    /// Where options without their own `next` lead. May be omitted if every option has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl SingleChoiceQuestion {
    /// Where choosing `option` leads: its own `next`, else the question's.
    pub fn target_of<'a>(&'a self, option: &'a SingleChoiceOption) -> Option<&'a str> {
        option.next.as_deref().or(self.next.as_deref())
    }

    /// Where the walk goes when the (optional) question is skipped: the question's `next`.
    /// Without a node-level `next`, skipping is impossible and the answer becomes required.
    pub fn skip_target(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// An option of a single choice question; its `next` overrides the question's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SingleChoiceOption {
    /// The machine value stored in answers and matched by rules.
    pub value: String,
    /// What the customer sees, and what subjects and transcripts show.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `"questionType": "multiple_choice"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MultipleChoiceQuestion {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub required: bool,
    /// 1 to 50 options with unique values.
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    /// Fewest selections in a non-empty answer (default 1; an empty answer is a skip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_selections: Option<u32>,
    /// Most selections (default: the number of options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_selections: Option<u32>,
    pub next: String,
}

impl MultipleChoiceQuestion {
    /// The effective minimum for a non-empty answer: `minSelections`, at least 1.
    pub fn min(&self) -> u32 {
        self.min_selections.unwrap_or(1).max(1)
    }

    /// The effective maximum: `maxSelections`, else the number of options.
    pub fn max(&self) -> u32 {
        self.max_selections
            .unwrap_or_else(|| u32::try_from(self.options.len()).unwrap_or(u32::MAX))
    }
}

/// An option of a multiple choice question (no `next`: the question's `next` is used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

/// `"questionType": "text"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TextQuestion {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub required: bool,
    /// Fewest chars (after trimming) in a non-empty answer (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Most chars after trimming (default and cap: 10 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A UI hint: show a text area rather than a one-line input.
    #[serde(default)]
    pub multiline: bool,
    pub next: String,
}

impl TextQuestion {
    pub fn min(&self) -> u32 {
        self.min_length.unwrap_or(0)
    }

    pub fn max(&self) -> u32 {
        self.max_length.unwrap_or(limits::MAX_TEXT_LEN)
    }
}

/// `"questionType": "image_upload"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageUploadQuestion {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// If set, at least one image must be uploaded.
    pub required: bool,
    /// Most images (1 to 10, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_files: Option<u32>,
    pub next: String,
}

impl ImageUploadQuestion {
    pub fn max(&self) -> u32 {
        self.max_files.unwrap_or(limits::MAX_FILES)
    }
}

/// Routes on earlier answers: the first branch whose rules match wins, else `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionNode {
    /// A label for the editor; never shown to customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Tried in order (at most 50).
    #[serde(default)]
    pub branches: Vec<Branch>,
    /// Where to go when no branch matches.
    pub default: String,
}

/// One branch of a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Branch {
    /// `all`: every rule must match; `any`: at least one.
    #[serde(rename = "match")]
    pub match_mode: MatchMode,
    /// 1 to 50 rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
    pub next: String,
}

/// How a branch combines its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    All,
    Any,
}

/// A test on the answer to an earlier question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// The question whose answer is tested; it must come before the condition on every path.
    pub node: String,
    pub op: RuleOp,
    /// A string or an array of strings, depending on `op` and the question type; absent for
    /// `is_empty` / `is_not_empty`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<RuleValue>,
}

/// Rule operators. Which question types and values each accepts:
///
/// | op | single_choice | multiple_choice | text | image_upload |
/// |---|---|---|---|---|
/// | `equals`, `not_equals` | option value | array: exactly that set | string, case-insensitive, trimmed | – |
/// | `contains` | – | option value selected | case-insensitive substring | – |
/// | `any_of` | array: answer is one of them | array: selections overlap | array: equals one of them | – |
/// | `is_empty`, `is_not_empty` | no value | no value | no value | no value |
///
/// An unanswered (skipped) question equals nothing, contains nothing and is in no list, so
/// `not_equals` is true for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleOp {
    Equals,
    NotEquals,
    Contains,
    AnyOf,
    IsEmpty,
    IsNotEmpty,
}

impl RuleOp {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOp::Equals => "equals",
            RuleOp::NotEquals => "not_equals",
            RuleOp::Contains => "contains",
            RuleOp::AnyOf => "any_of",
            RuleOp::IsEmpty => "is_empty",
            RuleOp::IsNotEmpty => "is_not_empty",
        }
    }
}

impl fmt::Display for RuleOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's operand: a string or an array of strings (JSON: `"x"` or `["x", "y"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum RuleValue {
    One(String),
    Many(Vec<String>),
}

/// Finishes the journey: what the ticket will be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndNode {
    /// Non-empty, at most 100 chars, e.g. `orders/damaged`.
    pub category: String,
    pub priority: Priority,
    /// A template of at most 200 chars. `{node-id}` is replaced by the answer to that question
    /// (option labels, trimmed text, "N images", or "" when unanswered); `{{` and `}}` are
    /// literal braces. The rendered subject is one line of at most 200 chars.
    pub subject: String,
    /// Tags the ticket gets, in normalised form (`shared::tags`), at most 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// An answer to one question (JSON: a string or an array of strings).
///
/// - single choice: the chosen option's value, `"damaged"`;
/// - text: the text, `"It broke"`;
/// - multiple choice: the chosen option values, `["a", "b"]`;
/// - image upload: attachment ids, `["6f1c…-…"]` (each must parse as a UUID).
///
/// An explicitly skipped question is JSON `null` (`None` in `Answers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

impl Answer {
    /// True for `""`, whitespace only, and `[]`: what counts as "not answered".
    pub fn is_blank(&self) -> bool {
        match self {
            Answer::One(s) => s.trim().is_empty(),
            Answer::Many(v) => v.is_empty(),
        }
    }
}

/// Answers by question id.
///
/// - key absent: not answered yet. [`next`](super::next) stops at the first such question;
///   [`evaluate`](super::evaluate) treats an absent optional question as skipped.
/// - `None` (JSON `null`): explicitly skipped (only allowed for optional questions).
/// - `Some(answer)`: answered. A blank answer (`""`, whitespace, `[]`) to an optional question
///   is a skip too; to a required one it is `missing_required`.
pub type Answers = BTreeMap<String, Option<Answer>>;

struct StrOrSeqVisitor;

enum StrOrSeq {
    One(String),
    Many(Vec<String>),
}

impl<'de> Visitor<'de> for StrOrSeqVisitor {
    type Value = StrOrSeq;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StrOrSeq, E> {
        Ok(StrOrSeq::One(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<StrOrSeq, E> {
        Ok(StrOrSeq::One(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrOrSeq, A::Error> {
        // The size hint comes from the input; cap it so a lying hint cannot allocate much.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element::<String>()? {
            out.push(item);
        }
        Ok(StrOrSeq::Many(out))
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(StrOrSeqVisitor)? {
            StrOrSeq::One(s) => Answer::One(s),
            StrOrSeq::Many(v) => Answer::Many(v),
        })
    }
}

impl<'de> Deserialize<'de> for RuleValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(StrOrSeqVisitor)? {
            StrOrSeq::One(s) => RuleValue::One(s),
            StrOrSeq::Many(v) => RuleValue::Many(v),
        })
    }
}

/// Deserializes a JSON object into a `BTreeMap`, rejecting a key that appears twice (serde's
/// default silently keeps the last one). Used for `nodes`; use it for [`Answers`] in request
/// types too: `#[serde(deserialize_with = "helpdesk_shared::journey::deserialize_unique_map")]`.
pub fn deserialize_unique_map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueMap<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueMap<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object with unique keys")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
                let value = map.next_value::<V>()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    d.deserialize_map(UniqueMap(std::marker::PhantomData))
}
