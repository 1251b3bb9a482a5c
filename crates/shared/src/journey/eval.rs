//! Walking a journey with a set of answers: the next question, or the finished outcome.
//!
//! The browser calls [`next`](super::next) after every change to drive the live form; the
//! server calls [`evaluate`](super::evaluate) on the submitted answers and creates the ticket
//! from the [`Outcome`]. Both share one walk, so they cannot disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::limits;
use super::model::{
    Answer, Answers, ConditionNode, JourneyDefinition, MatchMode, Node, Question, QuestionType,
    Rule, RuleOp, RuleValue,
};
use super::template::{render_template, single_line, truncate_chars};
use super::validate::{Problem, ProblemCode};
use crate::tickets::Priority;

/// Where the customer is: the next question to ask, or the end of the journey.
///
/// JSON: `{"type": "question", "node_id": "photos"}` or `{"type": "end", ...outcome fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// The first question on the path that has no entry in the answers.
    Question { node_id: String },
    /// Every question on the path is answered or skipped.
    End(Outcome),
}

/// The result of a finished journey: what the ticket becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    /// The end node's category.
    pub category: String,
    /// The end node's priority.
    pub priority: Priority,
    /// The rendered subject: at most 200 chars, one line, never empty (falls back to the
    /// category when every placeholder is empty and there is no literal text).
    pub subject: String,
    /// Node ids in walk order: questions, conditions and finally the end node.
    pub path: Vec<String>,
    /// One entry per question on the path, in path order.
    pub transcript: Vec<TranscriptEntry>,
    /// The end node's tags.
    pub tags: Vec<String>,
}

impl Outcome {
    /// The end node that was reached.
    pub fn end_node(&self) -> Option<&str> {
        self.path.last().map(String::as_str)
    }

    /// Every attachment id answered to an image upload question on the path, in order.
    pub fn attachment_ids(&self) -> Vec<Uuid> {
        self.transcript
            .iter()
            .filter(|e| e.question_type == QuestionType::ImageUpload)
            .filter_map(|e| match &e.answer {
                Some(Answer::Many(ids)) => Some(ids),
                _ => None,
            })
            .flatten()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect()
    }

    /// The normalised answers that produce exactly this outcome: one entry per question on the
    /// path, `None` for skipped ones. The SPA submits this map; `evaluate` of it gives back
    /// this outcome.
    pub fn answers(&self) -> Answers {
        self.transcript
            .iter()
            .map(|e| (e.node_id.clone(), e.answer.clone()))
            .collect()
    }
}

/// One asked question and its answer, for the ticket's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscriptEntry {
    pub node_id: String,
    pub question_type: QuestionType,
    /// The question's title.
    pub question: String,
    /// The normalised answer; `None` when skipped. Text is trimmed, multiple choice values are
    /// in the question's option order, attachment ids are lower-case hyphenated UUIDs.
    pub answer: Option<Answer>,
    /// The answer for humans: option labels (joined with ", "), the text, "N images", or "".
    pub display: String,
}

/// Why a set of answers is not one the journey would produce. The first error found is
/// returned (unknown answer keys first, then along the path, then answers off the path).
///
/// JSON: `{"code": "too_short", "node_id": "details", "min": 10}`; the code is also
/// available as [`EvalError::code`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum EvalError {
    /// The journey itself has problems (as listed by `validate`).
    InvalidDefinition {
        problems: Vec<Problem>,
    },
    /// An answer key that is not a question of this journey.
    UnknownNode {
        node_id: String,
    },
    /// An answer to a question that the walk never visits (only `evaluate` checks this).
    NotOnPath {
        node_id: String,
    },
    /// A required question skipped, blank, or left unanswered.
    MissingRequired {
        node_id: String,
    },
    /// A string where an array is expected or the reverse.
    WrongAnswerType {
        node_id: String,
        expected: AnswerShape,
    },
    /// A choice value that is not an option of the question (echoed, cut to 100 chars).
    UnknownOption {
        node_id: String,
        value: String,
    },
    /// The same option chosen twice.
    DuplicateSelection {
        node_id: String,
        value: String,
    },
    TooFewSelections {
        node_id: String,
        min: u32,
    },
    TooManySelections {
        node_id: String,
        max: u32,
    },
    /// Text shorter than `min` chars after trimming.
    TooShort {
        node_id: String,
        min: u32,
    },
    /// Text longer than `max` chars after trimming.
    TooLong {
        node_id: String,
        max: u32,
    },
    /// An attachment id that is not a UUID (echoed, cut to 100 chars).
    InvalidAttachmentId {
        node_id: String,
        value: String,
    },
    /// The same attachment twice.
    DuplicateAttachment {
        node_id: String,
        value: String,
    },
    TooManyFiles {
        node_id: String,
        max: u32,
    },
}

/// The JSON shape an answer must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AnswerShape {
    /// A JSON string.
    String,
    /// A JSON array of strings.
    Array,
}

/// The codes of [`EvalError`], for matching without the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EvalErrorCode {
    InvalidDefinition,
    UnknownNode,
    NotOnPath,
    MissingRequired,
    WrongAnswerType,
    UnknownOption,
    DuplicateSelection,
    TooFewSelections,
    TooManySelections,
    TooShort,
    TooLong,
    InvalidAttachmentId,
    DuplicateAttachment,
    TooManyFiles,
}

impl EvalErrorCode {
    /// The snake_case wire name, e.g. `"missing_required"`.
    pub fn as_str(self) -> &'static str {
        use EvalErrorCode::*;
        match self {
            InvalidDefinition => "invalid_definition",
            UnknownNode => "unknown_node",
            NotOnPath => "not_on_path",
            MissingRequired => "missing_required",
            WrongAnswerType => "wrong_answer_type",
            UnknownOption => "unknown_option",
            DuplicateSelection => "duplicate_selection",
            TooFewSelections => "too_few_selections",
            TooManySelections => "too_many_selections",
            TooShort => "too_short",
            TooLong => "too_long",
            InvalidAttachmentId => "invalid_attachment_id",
            DuplicateAttachment => "duplicate_attachment",
            TooManyFiles => "too_many_files",
        }
    }
}

impl fmt::Display for EvalErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EvalError {
    pub fn code(&self) -> EvalErrorCode {
        use EvalError as E;
        use EvalErrorCode as C;
        match self {
            E::InvalidDefinition { .. } => C::InvalidDefinition,
            E::UnknownNode { .. } => C::UnknownNode,
            E::NotOnPath { .. } => C::NotOnPath,
            E::MissingRequired { .. } => C::MissingRequired,
            E::WrongAnswerType { .. } => C::WrongAnswerType,
            E::UnknownOption { .. } => C::UnknownOption,
            E::DuplicateSelection { .. } => C::DuplicateSelection,
            E::TooFewSelections { .. } => C::TooFewSelections,
            E::TooManySelections { .. } => C::TooManySelections,
            E::TooShort { .. } => C::TooShort,
            E::TooLong { .. } => C::TooLong,
            E::InvalidAttachmentId { .. } => C::InvalidAttachmentId,
            E::DuplicateAttachment { .. } => C::DuplicateAttachment,
            E::TooManyFiles { .. } => C::TooManyFiles,
        }
    }

    /// The question (or answer key) the error is about; `None` for `invalid_definition`.
    pub fn node_id(&self) -> Option<&str> {
        use EvalError as E;
        match self {
            E::InvalidDefinition { .. } => None,
            E::UnknownNode { node_id }
            | E::NotOnPath { node_id }
            | E::MissingRequired { node_id }
            | E::WrongAnswerType { node_id, .. }
            | E::UnknownOption { node_id, .. }
            | E::DuplicateSelection { node_id, .. }
            | E::TooFewSelections { node_id, .. }
            | E::TooManySelections { node_id, .. }
            | E::TooShort { node_id, .. }
            | E::TooLong { node_id, .. }
            | E::InvalidAttachmentId { node_id, .. }
            | E::DuplicateAttachment { node_id, .. }
            | E::TooManyFiles { node_id, .. } => Some(node_id),
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EvalError as E;
        match self {
            E::InvalidDefinition { problems } => {
                write!(f, "the journey is invalid ({} problems)", problems.len())?;
                match problems.first() {
                    Some(p) => write!(f, ": {p}"),
                    None => Ok(()),
                }
            }
            E::UnknownNode { node_id } => {
                write!(f, "`{node_id}` is not a question of this journey")
            }
            E::NotOnPath { node_id } => write!(
                f,
                "`{node_id}` is not asked with these answers; remove its answer"
            ),
            E::MissingRequired { node_id } => write!(f, "`{node_id}` needs an answer"),
            E::WrongAnswerType { node_id, expected } => {
                let what = match expected {
                    AnswerShape::String => "a string",
                    AnswerShape::Array => "an array of strings",
                };
                write!(f, "the answer to `{node_id}` must be {what}")
            }
            E::UnknownOption { node_id, value } => {
                write!(f, "`{value}` is not an option of `{node_id}`")
            }
            E::DuplicateSelection { node_id, value } => {
                write!(f, "`{value}` is chosen more than once for `{node_id}`")
            }
            E::TooFewSelections { node_id, min } => {
                write!(f, "choose at least {min} options for `{node_id}`")
            }
            E::TooManySelections { node_id, max } => {
                write!(f, "choose at most {max} options for `{node_id}`")
            }
            E::TooShort { node_id, min } => {
                write!(
                    f,
                    "the answer to `{node_id}` needs at least {min} characters"
                )
            }
            E::TooLong { node_id, max } => {
                write!(
                    f,
                    "the answer to `{node_id}` may have at most {max} characters"
                )
            }
            E::InvalidAttachmentId { node_id, value } => {
                write!(f, "`{value}` is not an attachment id (for `{node_id}`)")
            }
            E::DuplicateAttachment { node_id, value } => {
                write!(f, "attachment `{value}` is given twice for `{node_id}`")
            }
            E::TooManyFiles { node_id, max } => {
                write!(f, "at most {max} images for `{node_id}`")
            }
        }
    }
}

impl std::error::Error for EvalError {}

/// An echoed input value, cut so an error never carries a huge string.
fn clip(value: &str) -> String {
    truncate_chars(value, 100)
}

impl Question {
    /// Checks one answer against this question alone (the live form calls this as the
    /// customer types) and returns it normalised: `Ok(None)` means skipped.
    ///
    /// `answer` is `None` for a skip (absent or JSON `null`). Blank answers (`""`, whitespace
    /// only, `[]`) are skips too. A skip of a required question is `missing_required`.
    pub fn check_answer(
        &self,
        node_id: &str,
        answer: Option<&Answer>,
    ) -> Result<Option<Answer>, EvalError> {
        let id = || node_id.to_owned();
        let expected = match self {
            Question::SingleChoice(_) | Question::Text(_) => AnswerShape::String,
            Question::MultipleChoice(_) | Question::ImageUpload(_) => AnswerShape::Array,
        };
        let shape_ok = match answer {
            None => true,
            Some(Answer::One(_)) => expected == AnswerShape::String,
            Some(Answer::Many(_)) => expected == AnswerShape::Array,
        };
        if !shape_ok {
            return Err(EvalError::WrongAnswerType {
                node_id: id(),
                expected,
            });
        }
        let Some(answer) = answer.filter(|a| !a.is_blank()) else {
            return if self.required() {
                Err(EvalError::MissingRequired { node_id: id() })
            } else {
                Ok(None)
            };
        };
        let normalised = match (self, answer) {
            (Question::SingleChoice(q), Answer::One(v)) => {
                if !q.options.iter().any(|o| &o.value == v) {
                    return Err(EvalError::UnknownOption {
                        node_id: id(),
                        value: clip(v),
                    });
                }
                Answer::One(v.clone())
            }
            (Question::MultipleChoice(q), Answer::Many(values)) => {
                let mut chosen = BTreeSet::new();
                for v in values {
                    if !q.options.iter().any(|o| &o.value == v) {
                        return Err(EvalError::UnknownOption {
                            node_id: id(),
                            value: clip(v),
                        });
                    }
                    if !chosen.insert(v.as_str()) {
                        return Err(EvalError::DuplicateSelection {
                            node_id: id(),
                            value: clip(v),
                        });
                    }
                }
                let count = u32::try_from(chosen.len()).unwrap_or(u32::MAX);
                if count < q.min() {
                    return Err(EvalError::TooFewSelections {
                        node_id: id(),
                        min: q.min(),
                    });
                }
                if count > q.max() {
                    return Err(EvalError::TooManySelections {
                        node_id: id(),
                        max: q.max(),
                    });
                }
                Answer::Many(
                    q.options
                        .iter()
                        .filter(|o| chosen.contains(o.value.as_str()))
                        .map(|o| o.value.clone())
                        .collect(),
                )
            }
            (Question::Text(q), Answer::One(text)) => {
                let text = text.trim();
                let len = text.chars().count();
                if len < usize::try_from(q.min()).unwrap_or(usize::MAX) {
                    return Err(EvalError::TooShort {
                        node_id: id(),
                        min: q.min(),
                    });
                }
                if len > usize::try_from(q.max()).unwrap_or(usize::MAX) {
                    return Err(EvalError::TooLong {
                        node_id: id(),
                        max: q.max(),
                    });
                }
                Answer::One(text.to_owned())
            }
            (Question::ImageUpload(q), Answer::Many(ids)) => {
                if ids.len() > usize::try_from(q.max()).unwrap_or(usize::MAX) {
                    return Err(EvalError::TooManyFiles {
                        node_id: id(),
                        max: q.max(),
                    });
                }
                let mut seen = BTreeSet::new();
                let mut out = Vec::with_capacity(ids.len());
                for raw in ids {
                    let Ok(uuid) = Uuid::parse_str(raw) else {
                        return Err(EvalError::InvalidAttachmentId {
                            node_id: id(),
                            value: clip(raw),
                        });
                    };
                    if !seen.insert(uuid) {
                        return Err(EvalError::DuplicateAttachment {
                            node_id: id(),
                            value: uuid.to_string(),
                        });
                    }
                    out.push(uuid.to_string());
                }
                Answer::Many(out)
            }
            // The shape was checked above; these cannot happen.
            _ => {
                return Err(EvalError::WrongAnswerType {
                    node_id: id(),
                    expected,
                });
            }
        };
        Ok(Some(normalised))
    }

    /// How a (normalised) answer reads: option labels joined with ", ", the text, "N images",
    /// or "" when skipped.
    pub fn display(&self, answer: Option<&Answer>) -> String {
        match (self, answer) {
            (_, None) => String::new(),
            (Question::SingleChoice(q), Some(Answer::One(v))) => q
                .options
                .iter()
                .find(|o| &o.value == v)
                .map_or_else(|| v.clone(), |o| o.label.clone()),
            (Question::MultipleChoice(q), Some(Answer::Many(values))) => values
                .iter()
                .map(|v| {
                    q.options
                        .iter()
                        .find(|o| &o.value == v)
                        .map_or(v.as_str(), |o| o.label.as_str())
                })
                .collect::<Vec<_>>()
                .join(", "),
            (Question::ImageUpload(_), Some(Answer::Many(ids))) => match ids.len() {
                0 => String::new(),
                1 => "1 image".to_owned(),
                n => format!("{n} images"),
            },
            (_, Some(Answer::One(text))) => text.trim().to_owned(),
            (_, Some(Answer::Many(values))) => values.join(", "),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Stop at the first question without an entry; ignore answers off the path.
    Next,
    /// Absent optional answers are skips; answers off the path are errors.
    Evaluate,
}

fn broken(node_id: &str, code: ProblemCode, message: &str) -> EvalError {
    EvalError::InvalidDefinition {
        problems: vec![Problem {
            node_id: Some(node_id.to_owned()),
            code,
            message: message.to_owned(),
        }],
    }
}

/// The one walk behind `next` and `evaluate`. Assumes a validated definition but stays
/// total on any input: a broken definition yields `invalid_definition`, never a panic or a
/// loop (the walk is bounded by the number of nodes).
pub(crate) fn walk(
    def: &JourneyDefinition,
    answers: &Answers,
    mode: Mode,
) -> Result<Step, EvalError> {
    if let Some(key) = answers.keys().find(|k| def.question(k).is_none()) {
        return Err(EvalError::UnknownNode { node_id: clip(key) });
    }
    let mut given: BTreeMap<&str, Given> = BTreeMap::new();
    let mut path = Vec::new();
    let mut transcript = Vec::new();
    let mut current: &str = &def.start_node;
    for _ in 0..=def.nodes.len() {
        let Some(node) = def.nodes.get(current) else {
            return Err(broken(current, ProblemCode::UnknownTarget, "no such node"));
        };
        path.push(current.to_owned());
        match node {
            Node::Question(q) => {
                let entry = answers.get(current);
                if entry.is_none() && mode == Mode::Next {
                    return Ok(Step::Question {
                        node_id: current.to_owned(),
                    });
                }
                let answer = q.check_answer(current, entry.and_then(Option::as_ref))?;
                let next = match (q, &answer) {
                    (Question::SingleChoice(sc), Some(Answer::One(v))) => sc
                        .options
                        .iter()
                        .find(|o| &o.value == v)
                        .and_then(|o| sc.target_of(o)),
                    (Question::SingleChoice(sc), _) => sc.skip_target(),
                    (q, _) => q.next(),
                };
                let Some(next) = next else {
                    return Err(broken(current, ProblemCode::DeadEnd, "no way out"));
                };
                transcript.push(TranscriptEntry {
                    node_id: current.to_owned(),
                    question_type: q.question_type(),
                    question: q.title().to_owned(),
                    display: q.display(answer.as_ref()),
                    answer: answer.clone(),
                });
                given.insert(current, Given::new(q, answer));
                current = next;
            }
            Node::Condition(c) => current = choose(c, def, &given),
            Node::End(end) => {
                if mode == Mode::Evaluate
                    && let Some(key) = answers.keys().find(|k| !given.contains_key(k.as_str()))
                {
                    return Err(EvalError::NotOnPath {
                        node_id: key.clone(),
                    });
                }
                let mut subject =
                    render_template(&end.subject, |id| match (def.question(id), given.get(id)) {
                        (Some(q), Some(g)) => q.display(g.answer.as_ref()),
                        _ => String::new(),
                    });
                if subject.is_empty() {
                    subject = truncate_chars(&single_line(&end.category), limits::MAX_SUBJECT_LEN);
                }
                return Ok(Step::End(Outcome {
                    category: end.category.clone(),
                    priority: end.priority,
                    subject,
                    path,
                    transcript,
                    tags: end.tags.clone(),
                }));
            }
        }
    }
    Err(broken(current, ProblemCode::Cycle, "the walk does not end"))
}

/// An answer recorded during the walk, with the case-folded text that text rules compare
/// against (computed once per answer, not once per rule).
struct Given {
    answer: Option<Answer>,
    folded: Option<String>,
}

impl Given {
    fn new(question: &Question, answer: Option<Answer>) -> Self {
        let folded = match (question, &answer) {
            (Question::Text(_), Some(Answer::One(text))) => Some(fold(text)),
            _ => None,
        };
        Given { answer, folded }
    }
}

/// The target of the first branch whose rules match, else the default.
fn choose<'a>(
    c: &'a ConditionNode,
    def: &JourneyDefinition,
    given: &BTreeMap<&str, Given>,
) -> &'a str {
    let matches = |r: &Rule| {
        let g = given.get(r.node.as_str());
        let answer = g.and_then(|g| g.answer.as_ref());
        let folded = g.and_then(|g| g.folded.as_deref());
        def.question(&r.node)
            .is_some_and(|q| holds(r.op, r.value.as_ref(), q, answer, folded))
    };
    c.branches
        .iter()
        .find(|b| match b.match_mode {
            MatchMode::All => b.rules.iter().all(matches),
            MatchMode::Any => b.rules.iter().any(matches),
        })
        .map_or(c.default.as_str(), |b| b.next.as_str())
}

/// Case-insensitive comparison form of text: trimmed and lower-cased.
fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Whether a rule holds for a normalised answer (`None` = unanswered / skipped). See
/// [`RuleOp`] for the semantics; a value or answer of the wrong shape never matches (so
/// `not_equals` holds).
pub fn rule_matches(
    op: RuleOp,
    value: Option<&RuleValue>,
    question: &Question,
    answer: Option<&Answer>,
) -> bool {
    let folded = match (question, answer) {
        (Question::Text(_), Some(Answer::One(text))) => Some(fold(text)),
        _ => None,
    };
    holds(op, value, question, answer, folded.as_deref())
}

/// [`rule_matches`] with the text answer already folded (`folded` is `Some` exactly for an
/// answered text question).
fn holds(
    op: RuleOp,
    value: Option<&RuleValue>,
    question: &Question,
    answer: Option<&Answer>,
    folded: Option<&str>,
) -> bool {
    use Answer as A;
    use Question as Q;
    use RuleValue as V;
    let equals = || match (question, answer, value) {
        (Q::SingleChoice(_), Some(A::One(a)), Some(V::One(v))) => a == v,
        (Q::Text(_), Some(A::One(_)), Some(V::One(v))) => folded == Some(fold(v).as_str()),
        (Q::MultipleChoice(_), Some(A::Many(a)), Some(V::Many(v))) => {
            a.iter().collect::<BTreeSet<_>>() == v.iter().collect::<BTreeSet<_>>()
        }
        _ => false,
    };
    match op {
        RuleOp::IsEmpty => answer.is_none_or(Answer::is_blank),
        RuleOp::IsNotEmpty => answer.is_some_and(|a| !a.is_blank()),
        RuleOp::Equals => equals(),
        RuleOp::NotEquals => !equals(),
        RuleOp::Contains => match (question, answer, value, folded) {
            (Q::MultipleChoice(_), Some(A::Many(a)), Some(V::One(v)), _) => a.contains(v),
            (Q::Text(_), Some(A::One(_)), Some(V::One(v)), Some(text)) => {
                text.contains(&v.to_lowercase())
            }
            _ => false,
        },
        RuleOp::AnyOf => match (question, answer, value, folded) {
            (Q::SingleChoice(_), Some(A::One(a)), Some(V::Many(v)), _) => v.contains(a),
            (Q::MultipleChoice(_), Some(A::Many(a)), Some(V::Many(v)), _) => {
                a.iter().any(|x| v.contains(x))
            }
            (Q::Text(_), Some(A::One(_)), Some(V::Many(v)), Some(text)) => {
                v.iter().any(|x| fold(x) == text)
            }
            _ => false,
        },
    }
}
