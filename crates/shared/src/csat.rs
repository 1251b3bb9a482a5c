//! Customer satisfaction (CSAT) surveys: the customer rates each resolution of their ticket
//! 1–5 with an optional comment, in the portal or by the signed link of the "resolved" mail.
//!
//! The rules both ends apply live here: the score range, the comment's length and the survey
//! window (a survey is open for [`WINDOW_DAYS`] days after the resolution; inside it the
//! rating can be given and changed, after it the rating stands).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Days after a resolution during which it can be rated, and the rating changed.
pub const WINDOW_DAYS: i64 = 7;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// Lowest and highest score.
pub const MIN_SCORE: u8 = 1;
pub const MAX_SCORE: u8 = 5;
/// Scores that count as satisfied in the CSAT percentage (4 and 5).
pub const SATISFIED_FROM: u8 = 4;

/// When the survey of a resolution at `resolved_at` closes.
pub fn closes_at(resolved_at: DateTime<Utc>) -> DateTime<Utc> {
    resolved_at + Duration::days(WINDOW_DAYS)
}

/// Where a rating was (last) given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CsatVia {
    /// Signed in, on the ticket page.
    Portal,
    /// The signed link of the "resolved" mail.
    Link,
}

impl CsatVia {
    pub fn as_str(self) -> &'static str {
        match self {
            CsatVia::Portal => "portal",
            CsatVia::Link => "link",
        }
    }
}

impl std::str::FromStr for CsatVia {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "portal" => Ok(CsatVia::Portal),
            "link" => Ok(CsatVia::Link),
            other => Err(format!("unknown rating source `{other}`")),
        }
    }
}

/// A rating of one resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatRatingDto {
    /// 1 (very unhappy) … 5 (very happy).
    pub score: u8,
    pub comment: Option<String>,
    /// The resolution rated (the ticket's `resolved_at` then).
    pub resolved_at: DateTime<Utc>,
    /// When the rating was first given.
    pub rated_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    pub via: CsatVia,
}

/// The survey of a ticket's current resolution, as the customer (or the link) sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatSurveyDto {
    pub ticket_id: Uuid,
    pub ticket_number: i64,
    pub subject: String,
    /// Whether surveys are switched on (admin setting).
    pub enabled: bool,
    /// Whether a rating can be given or changed now: surveys on, the ticket resolved (or
    /// closed after its resolution) and the window not yet over.
    pub open: bool,
    /// The resolution this survey is about (none while the ticket is not resolved).
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the window ends.
    pub closes_at: Option<DateTime<Utc>>,
    /// The rating of this resolution, if given.
    pub rating: Option<CsatRatingDto>,
}

/// `PUT /api/tickets/{id}/csat` and `PUT /api/csat?token=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CsatRequest {
    /// 1 … 5.
    pub score: u8,
    /// Optional, at most 1000 characters; blank means none.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A rating that passed the rules: the score in range, the comment trimmed (none when blank)
/// and within its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRating {
    pub score: u8,
    pub comment: Option<String>,
}

impl TryFrom<CsatRequest> for ValidRating {
    /// Every problem as (field, message).
    type Error = Vec<(String, String)>;

    fn try_from(req: CsatRequest) -> Result<Self, Self::Error> {
        let mut problems = Vec::new();
        if !(MIN_SCORE..=MAX_SCORE).contains(&req.score) {
            problems.push((
                "score".to_owned(),
                format!("must be between {MIN_SCORE} and {MAX_SCORE}"),
            ));
        }
        let comment = req
            .comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if let Some(c) = &comment {
            if c.chars().count() > MAX_COMMENT_CHARS {
                problems.push((
                    "comment".to_owned(),
                    format!("at most {MAX_COMMENT_CHARS} characters"),
                ));
            } else if c
                .chars()
                .any(|ch| ch.is_control() && ch != '\n' && ch != '\t')
            {
                problems.push((
                    "comment".to_owned(),
                    "must not contain control characters".to_owned(),
                ));
            }
        }
        if problems.is_empty() {
            Ok(ValidRating {
                score: req.score,
                comment,
            })
        } else {
            Err(problems)
        }
    }
}

/// `?token=`: the signed token of a survey link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CsatTokenQuery {
    pub token: String,
}

/// Ratings summed up: how many, the average score, the share of satisfied ratings (4 or 5)
/// and how many of each score.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatStats {
    pub count: u64,
    /// Mean score (none without ratings).
    pub average: Option<f64>,
    /// Percent of ratings that are 4 or 5: the CSAT score (none without ratings).
    pub satisfied_percent: Option<f64>,
    /// Ratings of score 1, 2, 3, 4 and 5, in that order.
    pub distribution: Vec<u64>,
}

impl CsatStats {
    /// The stats of `scores` (each in 1..=5; others are ignored).
    pub fn of(scores: impl IntoIterator<Item = u8>) -> CsatStats {
        let mut distribution = vec![0u64; usize::from(MAX_SCORE)];
        for s in scores {
            if (MIN_SCORE..=MAX_SCORE).contains(&s) {
                distribution[usize::from(s - 1)] += 1;
            }
        }
        let count: u64 = distribution.iter().sum();
        let total: u64 = distribution
            .iter()
            .zip(1u64..)
            .map(|(n, score)| n * score)
            .sum();
        let satisfied: u64 = distribution[usize::from(SATISFIED_FROM - 1)..].iter().sum();
        let ratio = |n: u64| (count > 0).then(|| n as f64 / count as f64);
        CsatStats {
            count,
            average: ratio(total).map(round2),
            satisfied_percent: ratio(satisfied).map(|r| round2(r * 100.0)),
            distribution,
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// CSAT of one agent (the ticket's agent when the rating was given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatAgentRow {
    /// None: tickets that had no agent.
    pub agent_id: Option<Uuid>,
    pub name: String,
    pub stats: CsatStats,
}

/// CSAT of one category (`none` for tickets without one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatCategoryRow {
    pub category: String,
    pub stats: CsatStats,
}

/// CSAT of the resolutions of one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatDayPoint {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub stats: CsatStats,
}

/// `GET /api/analytics/csat`: the ratings of the resolutions in a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatAnalytics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub overall: CsatStats,
    /// Most ratings first, then by name.
    pub per_agent: Vec<CsatAgentRow>,
    /// Most ratings first, then by name.
    pub per_category: Vec<CsatCategoryRow>,
    /// Every UTC day of the range, oldest first (days without ratings have a count of 0).
    pub per_day: Vec<CsatDayPoint>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn req(score: u8, comment: Option<&str>) -> CsatRequest {
        CsatRequest {
            score,
            comment: comment.map(str::to_owned),
        }
    }

    #[test]
    fn scores_outside_one_to_five_are_refused() {
        for score in [0, 6, 255] {
            let problems = ValidRating::try_from(req(score, None)).unwrap_err();
            assert_eq!(problems[0].0, "score");
        }
        for score in 1..=5 {
            assert_eq!(
                ValidRating::try_from(req(score, None)),
                Ok(ValidRating {
                    score,
                    comment: None
                })
            );
        }
    }

    #[test]
    fn comments_are_trimmed_blank_is_none_and_length_is_capped() {
        let ok = ValidRating::try_from(req(4, Some("  thanks\nagain  "))).unwrap();
        assert_eq!(ok.comment.as_deref(), Some("thanks\nagain"));
        assert_eq!(
            ValidRating::try_from(req(4, Some("   "))).unwrap().comment,
            None
        );
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        let problems = ValidRating::try_from(req(4, Some(&long))).unwrap_err();
        assert_eq!(problems[0].0, "comment");
        let exact = "é".repeat(MAX_COMMENT_CHARS);
        assert!(ValidRating::try_from(req(4, Some(&exact))).is_ok());
        assert!(ValidRating::try_from(req(4, Some("a\u{7}b"))).is_err());
        // Both problems at once.
        assert_eq!(
            ValidRating::try_from(req(9, Some(&long)))
                .unwrap_err()
                .len(),
            2
        );
    }

    #[test]
    fn stats_count_average_and_satisfied_share() {
        let s = CsatStats::of([5, 4, 3, 1]);
        assert_eq!(s.count, 4);
        assert_eq!(s.average, Some(3.25));
        assert_eq!(s.satisfied_percent, Some(50.0));
        assert_eq!(s.distribution, vec![1, 0, 1, 1, 1]);
        let none = CsatStats::of([]);
        assert_eq!((none.count, none.average), (0, None));
        assert_eq!(none.satisfied_percent, None);
        assert_eq!(CsatStats::of([2, 2, 5]).average, Some(3.0));
        assert_eq!(CsatStats::of([4, 5, 5]).satisfied_percent, Some(100.0));
    }

    #[test]
    fn the_window_is_seven_days() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(closes_at(at) - at, Duration::days(7));
    }
}
