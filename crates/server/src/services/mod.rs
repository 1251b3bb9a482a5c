//! Business operations on a database connection. No HTTP types here: handlers, jobs, the CLI
//! and tests all call these same functions.

pub mod access;
pub mod attachments;
pub mod messages;
pub mod seed;
pub mod settings;
pub mod tickets;
pub mod users;

use shared::{ErrorCode, Paging, envelope::PageQuery};

use crate::error::ApiError;

/// Validates `?page=&per_page=` into [`Paging`], or a 400 `invalid_query`.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> Result<Paging, ApiError> {
    Paging::try_from(PageQuery { page, per_page })
        .map_err(|m| ApiError::BadRequest(ErrorCode::InvalidQuery, m.to_owned()))
}

/// Escapes `%`, `_` and `\` so user input is matched literally inside a LIKE pattern.
pub fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
