//! sea-orm entities: one module per table. These are database rows, not wire types; they are
//! converted into `shared` DTOs at the API boundary (see the `From` impls next to each entity
//! and `services::tickets::to_dto`).

pub mod agent;
pub mod analytics;
pub mod attachment;
pub mod canned_macro;
pub mod csat_rating;
pub mod event;
pub mod journey;
pub mod mail_inbound;
pub mod mail_mailbox;
pub mod mail_message_id;
pub mod mail_outbox;
pub mod notification_pref;
pub mod saved_view;
pub mod setting;
pub mod sla_calendar;
pub mod ticket;
pub mod ticket_history;
pub mod ticket_link;
pub mod ticket_merge;
pub mod ticket_message;
pub mod ticket_tag;
pub mod user;

pub use agent::Entity as Agent;
pub use analytics::change::Entity as AnalyticsChange;
pub use analytics::daily::Entity as AnalyticsDaily;
pub use attachment::Entity as Attachment;
pub use canned_macro::Entity as CannedMacro;
pub use csat_rating::Entity as CsatRating;
pub use event::Entity as Event;
pub use event::room::Entity as EventRoom;
pub use journey::Entity as Journey;
pub use journey::version::Entity as JourneyVersion;
pub use mail_inbound::Entity as MailInbound;
pub use mail_mailbox::Entity as MailMailbox;
pub use mail_message_id::Entity as MailMessageId;
pub use mail_outbox::Entity as MailOutbox;
pub use notification_pref::Entity as NotificationPref;
pub use saved_view::Entity as SavedView;
pub use setting::Entity as Setting;
pub use sla_calendar::Entity as SlaCalendar;
pub use ticket::Entity as Ticket;
pub use ticket_history::Entity as TicketHistory;
pub use ticket_link::Entity as TicketLink;
pub use ticket_merge::Entity as TicketMerge;
pub use ticket_merge::message::Entity as TicketMergedMessage;
pub use ticket_message::Entity as TicketMessage;
pub use ticket_tag::Entity as TicketTag;
pub use user::Entity as User;
