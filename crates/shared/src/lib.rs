//! Wire types shared by the Helpdesk server and the browser SPA.
//!
//! Everything here is plain data plus pure functions (serde, uuid, chrono only) so that it
//! compiles both natively and for `wasm32-unknown-unknown`. Database rows live in the server;
//! they are converted into these DTOs at the boundary.

pub mod agents;
pub mod analytics;
pub mod calendar;
pub mod csat;
pub mod envelope;
pub mod error;
pub mod feed;
pub mod journey;
pub mod journeys;
pub mod links;
pub mod macros;
pub mod mail;
pub mod settings;
pub mod sla;
pub mod tags;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod views;
pub mod webhooks;
pub mod ws;

pub use envelope::{Envelope, Paging};
pub use error::{ErrorBody, ErrorCode};
pub use tickets::{Priority, TicketStatus};
pub use users::Role;

/// The crate's schema derive, enabled only by the server for its OpenAPI document.
#[cfg(feature = "openapi")]
pub use utoipa;
