//! Building blocks shared by the pages: the navbar, route guards, form fields, loading / error /
//! empty displays, toasts, SLA timers, ticket badges and rows, who else is on a ticket, images
//! (authenticated thumbnails, the lightbox, the upload picker), the journey renderer, the
//! satisfaction survey, ticket search (the navbar box, snippets) and the saved-views sidebar.
//! Page-specific markup lives in `pages/`, not here.

mod attachments;
pub mod charts;
mod csat;
mod field;
mod guard;
pub mod icons;
mod journey_form;
mod navbar;
mod presence;
mod search;
mod sla;
mod status;
mod tags;
mod tickets;
mod toast;
mod upload;
mod views;

pub use attachments::{AttachmentList, Lightbox, LightboxHost, clear_image_cache};
pub use csat::{CsatPanel, SurveyPage};
pub use field::{FieldState, TextField};
pub use guard::RequireRole;
pub use journey_form::JourneyForm;
pub use navbar::Navbar;
pub use presence::{AlsoHere, CollisionWarning, TicketPresence};
pub use search::{NavSearch, SearchRow, ticket_href};
pub use sla::{Clock, EtaNote, SlaBadge, urgency_key, use_clock};
pub use status::{
    EmptyState, ErrorPanel, FormAlert, LoadState, Loading, SessionProblem, load_state, set_title,
};
pub use tags::{TagChips, TagEditor, TagFilter};
pub use tickets::{PriorityBadge, RowFor, StatusBadge, TicketRow, replace_in, row_key};
pub use toast::{LiveToasts, ToastHost, Toasts, use_toasts};
pub use upload::{ImagePicker, ImageUploads};
pub use views::ViewsSidebar;
