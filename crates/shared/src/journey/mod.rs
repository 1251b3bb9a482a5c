//! Journeys: the admin-defined decision trees customers walk to open a ticket.
//!
//! What lives here: the document model ([`JourneyDefinition`] and its nodes), whole-document
//! validation ([`validate`] → [`Problem`]s with stable [`ProblemCode`]s), and the evaluator
//! ([`next`] for the live form, [`evaluate`] for the server) with its [`EvalError`]s. The same
//! code runs in the browser and on the server, so a form the SPA accepts is exactly a set of
//! answers the server accepts. What does not live here: storage, versioning, attachments (the
//! server checks that attachment ids exist and belong to the customer).
//!
//! # Answers and skips
//! [`Answers`] maps question ids to `Option<Answer>`:
//! - no entry: not answered yet ([`next`] stops there; [`evaluate`] skips it if optional);
//! - `null` / `None`: explicitly skipped (optional questions only);
//! - `""`, whitespace only, `[]`: also a skip (and `missing_required` on required questions).
//!
//! # Walk
//! From `startNode`: a question consumes its answer (a single choice follows the chosen
//! option's `next`, else the node's `next`; a skipped single choice follows the node's
//! `next`); a condition takes the first branch whose rules match, else `default`; an end
//! node finishes with an [`Outcome`].
//!
//! Prefer [`ValidJourney`] when walking the same journey many times: it validates once.

mod eval;
mod legacy;
mod model;
mod paths;
mod template;
mod validate;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use eval::{
    AnswerShape, EvalError, EvalErrorCode, Outcome, Step, TranscriptEntry, rule_matches,
};
pub use legacy::{DEFAULT_CATEGORY, LegacyError, LegacyJourney, LegacyNode, parse_document};
pub use model::{
    Answer, Answers, Branch, ChoiceOption, ConditionNode, EndNode, ImageUploadQuestion,
    JourneyDefinition, MatchMode, MultipleChoiceQuestion, Node, Question, QuestionType, Rule,
    RuleOp, RuleValue, SingleChoiceOption, SingleChoiceQuestion, TextQuestion,
    deserialize_unique_map, limits,
};
pub use template::{Segment, parse_template, render_template};
pub use validate::{Problem, ProblemCode, is_valid_node_id, successors, validate};

use eval::{Mode, walk};

/// A journey that passed [`validate`]: walking it cannot hit an inconsistency.
///
/// Build it with [`ValidJourney::new`] or `TryFrom<JourneyDefinition>`; the error is the full
/// problem list.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidJourney(JourneyDefinition);

impl ValidJourney {
    /// Validates `def`; on failure returns every problem.
    pub fn new(def: JourneyDefinition) -> Result<Self, Vec<Problem>> {
        validate(&def)?;
        Ok(Self(def))
    }

    pub fn definition(&self) -> &JourneyDefinition {
        &self.0
    }

    pub fn into_definition(self) -> JourneyDefinition {
        self.0
    }

    /// See [`next`].
    pub fn next(&self, answers: &Answers) -> Result<Step, EvalError> {
        walk(&self.0, answers, Mode::Next)
    }

    /// See [`evaluate`].
    pub fn evaluate(&self, answers: &Answers) -> Result<Outcome, EvalError> {
        match walk(&self.0, answers, Mode::Evaluate)? {
            Step::End(outcome) => Ok(outcome),
            // Evaluate mode never stops at a question; kept total anyway.
            Step::Question { node_id } => Err(EvalError::MissingRequired { node_id }),
        }
    }

    /// Every structural path from the start to an end node (node ids, conditions included),
    /// at most `max` of them, in depth-first order following [`successors`]. A path through a
    /// condition may be unreachable in practice if no answers satisfy its branch.
    pub fn paths(&self, max: usize) -> Vec<Vec<String>> {
        paths::enumerate(&self.0, max)
    }

    /// The ids of all end nodes (all reachable, since the journey is valid).
    pub fn end_nodes(&self) -> Vec<&str> {
        self.0
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n, Node::End(_)))
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

impl TryFrom<JourneyDefinition> for ValidJourney {
    type Error = Vec<Problem>;

    fn try_from(def: JourneyDefinition) -> Result<Self, Self::Error> {
        Self::new(def)
    }
}

impl AsRef<JourneyDefinition> for ValidJourney {
    fn as_ref(&self) -> &JourneyDefinition {
        &self.0
    }
}

/// The live form's step: validates `def`, then walks `answers` and returns the first question
/// on the path with no entry in `answers`, or the [`Outcome`] once every question on the path
/// has an entry. Condition nodes are resolved on the way.
///
/// Answers present for questions on the path are checked exactly as in [`evaluate`]; answers
/// to questions off the path (left over after the customer changed an earlier answer) are
/// ignored, so going back restores them. Submit [`Outcome::answers`], which holds only the
/// path's answers. Whenever [`evaluate`] succeeds, `next` returns the same outcome or stops
/// at an optional question that `evaluate` treated as skipped.
pub fn next(def: &JourneyDefinition, answers: &Answers) -> Result<Step, EvalError> {
    validate(def).map_err(|problems| EvalError::InvalidDefinition { problems })?;
    walk(def, answers, Mode::Next)
}

/// The server's check: validates `def`, walks it from the start with `answers` (an absent
/// answer to an optional question counts as skipped) and returns the [`Outcome`], or the first
/// reason the journey would not produce this answer set: an unknown key, a bad or missing
/// answer on the path, or an answer to a question the walk never visits (`not_on_path`).
pub fn evaluate(def: &JourneyDefinition, answers: &Answers) -> Result<Outcome, EvalError> {
    validate(def).map_err(|problems| EvalError::InvalidDefinition { problems })?;
    match walk(def, answers, Mode::Evaluate)? {
        Step::End(outcome) => Ok(outcome),
        Step::Question { node_id } => Err(EvalError::MissingRequired { node_id }),
    }
}

/// Renders a subject template for the given normalised answers, as `evaluate` does (labels,
/// trimmed text, "N images", "" when unanswered; one line, at most 200 chars) but without the
/// fallback to the category when the result is empty. For the editor's preview.
pub fn render_subject(def: &JourneyDefinition, template: &str, answers: &Answers) -> String {
    render_template(template, |id| match (def.question(id), answers.get(id)) {
        (Some(q), Some(a)) => q.display(a.as_ref()),
        _ => String::new(),
    })
}
