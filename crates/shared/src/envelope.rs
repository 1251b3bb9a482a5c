//! The success envelope every endpoint answers with.

use serde::{Deserialize, Serialize};

/// `{"success": true, "data": ..., "count": N, "page": P, "pages": Q}`.
///
/// `count`, `page` and `pages` are only present on list responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u64>,
    /// `true` when the list stopped counting: there are more than `count` matches, and `pages`
    /// counts only as far as `count`. Absent when `count` is exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_capped: Option<bool>,
    /// Lists with cursors: whether rows follow this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// Lists with cursors: a relative link to the next page (`…&after=<cursor>`), present when
    /// `has_more`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Envelope<T> {
    /// A single-object response.
    pub fn ok(data: T) -> Self {
        Self {
            success: true,
            data,
            count: None,
            page: None,
            pages: None,
            count_capped: None,
            has_more: None,
            next: None,
        }
    }

    /// One page of a list read after a cursor: no count, only whether more follow.
    pub fn after_cursor(data: T, has_more: bool, next: Option<String>) -> Self {
        Self {
            has_more: Some(has_more),
            next,
            ..Self::ok(data)
        }
    }

    /// Adds `has_more` and the `next` link to a page.
    pub fn with_next(self, has_more: bool, next: Option<String>) -> Self {
        Self {
            has_more: Some(has_more),
            next,
            ..self
        }
    }

    /// One page of a list: `count` is the total across all pages.
    pub fn page(data: T, paging: Paging, count: u64) -> Self {
        Self {
            success: true,
            data,
            count: Some(count),
            page: Some(paging.page),
            pages: Some(paging.pages_for(count)),
            count_capped: None,
            has_more: None,
            next: None,
        }
    }

    /// One page of a list whose total was counted only up to `count` (`capped`: there are
    /// more).
    pub fn page_counted(data: T, paging: Paging, count: u64, capped: bool) -> Self {
        Self {
            count_capped: capped.then_some(true),
            ..Self::page(data, paging, count)
        }
    }
}

/// Pagination requested by a client: `?page=1&per_page=25`.
///
/// Every list query repeats these two fields with the same `param` bounds, which must match
/// [`Paging::MAX_PAGE`] and [`Paging::MAX_PER_PAGE`] (the attribute takes literals only; a
/// black-box test compares the published document with the constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1-based page number (default 1, at most 1000000).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u64>,
    /// Items per page (default 25, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u64>,
}

/// Validated pagination: `1 <= page <= MAX_PAGE`, `1 <= per_page <= MAX_PER_PAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
}

impl Paging {
    pub const DEFAULT_PER_PAGE: u64 = 25;
    pub const MAX_PER_PAGE: u64 = 100;
    /// The last page a client may ask for. With [`Self::MAX_PER_PAGE`] the largest offset is
    /// under 10^8, far from the `i64` the databases take, and still beyond any list this
    /// system holds (a million tickets are 10,000 pages of 100).
    pub const MAX_PAGE: u64 = 1_000_000;

    /// Number of pages needed for `count` items (at least 1, so page 1 of nothing exists).
    pub fn pages_for(&self, count: u64) -> u64 {
        count.div_ceil(self.per_page).max(1)
    }

    /// Offset of the first row of this page; never above `i64::MAX`, the largest offset the
    /// databases take (validated paging stays far below it anyway).
    pub fn offset(&self) -> u64 {
        self.page
            .saturating_sub(1)
            .saturating_mul(self.per_page)
            .min(i64::MAX as u64)
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

impl TryFrom<PageQuery> for Paging {
    type Error = &'static str;

    fn try_from(q: PageQuery) -> Result<Self, Self::Error> {
        let page = q.page.unwrap_or(1);
        let per_page = q.per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if page == 0 || page > Self::MAX_PAGE {
            return Err("page must be between 1 and 1000000");
        }
        if per_page == 0 || per_page > Self::MAX_PER_PAGE {
            return Err("per_page must be between 1 and 100");
        }
        Ok(Self { page, per_page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_defaults_and_bounds() {
        let p = Paging::try_from(PageQuery {
            page: None,
            per_page: None,
        });
        assert_eq!(p, Ok(Paging::default()));
        assert!(
            Paging::try_from(PageQuery {
                page: Some(0),
                per_page: None
            })
            .is_err()
        );
        assert!(
            Paging::try_from(PageQuery {
                page: None,
                per_page: Some(101)
            })
            .is_err()
        );
        let last = Paging::try_from(PageQuery {
            page: Some(Paging::MAX_PAGE),
            per_page: Some(Paging::MAX_PER_PAGE),
        })
        .expect("the last page is valid");
        assert!(i64::try_from(last.offset()).is_ok());
        for page in [Paging::MAX_PAGE + 1, 368_934_881_474_191_034, u64::MAX] {
            assert!(
                Paging::try_from(PageQuery {
                    page: Some(page),
                    per_page: Some(25)
                })
                .is_err(),
                "page {page}"
            );
        }
        let p = Paging {
            page: 3,
            per_page: 10,
        };
        assert_eq!(p.offset(), 20);
        let unchecked = Paging {
            page: u64::MAX,
            per_page: 100,
        };
        assert_eq!(unchecked.offset(), i64::MAX as u64);
        assert_eq!(p.pages_for(0), 1);
        assert_eq!(p.pages_for(21), 3);
    }
}
