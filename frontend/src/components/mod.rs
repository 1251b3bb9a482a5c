//! Building blocks shared by the pages: the navbar, route guards, form fields and the
//! loading / error displays. Page-specific markup lives in `pages/`, not here.

mod field;
mod guard;
mod navbar;
mod status;

pub use field::{FieldState, TextField};
pub use guard::RequireRole;
pub use navbar::Navbar;
pub use status::{FormAlert, Loading, SessionProblem, set_title};
