//! Realtime delivery over WebSockets.
//!
//! - [`bus`]: tells the hub that new events were committed (in-process broadcast, or
//!   PostgreSQL LISTEN/NOTIFY across server instances);
//! - [`hub`]: the task that owns the sessions and their rooms, reads new events from the
//!   durable log in `seq` order and fans them out through bounded per-session queues;
//! - [`session`]: one WebSocket connection: authentication, commands, heartbeat, resume;
//! - [`feed`]: the same events read back for `GET /api/events` (polling clients);
//! - [`presence`]: who is viewing a ticket or typing a reply (ephemeral, kept by the hub), and
//!   [`presence_link`], which carries it between instances on PostgreSQL.
//!
//! The `events` table is the source of truth; the bus only carries wake-ups, so a lost
//! notification delays delivery until the hub's next poll but never loses an event.

pub mod access;
pub mod bus;
pub mod feed;
pub mod hub;
pub mod presence;
pub mod presence_link;
pub mod session;

pub use hub::Realtime;
