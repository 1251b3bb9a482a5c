//! The route table: one file per resource, every path visible here at a glance.
//!
//! All handlers are registered through `utoipa_actix_web` so each one appears in the OpenAPI
//! document served at `/api/openapi.json`. The error responses that follow from an operation's
//! shape (400, 401, 404, 413, 415, 500) are added by `openapi::add_common_responses`; each
//! route documents the rest (403, 409, 422, 429, and the causes of its own 400s).

pub mod agents;
pub mod analytics;
pub mod attachments;
pub mod auth;
pub mod csat;
pub mod events;
pub mod health;
pub mod inbound;
pub mod journeys;
pub mod links;
pub mod macros;
pub mod mail;
pub mod merge;
pub mod metrics;
pub mod settings;
pub mod sla;
pub mod tags;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod views;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api` (the caller mounts this inside the `/api` scope).
///
/// | method | path | who |
/// |---|---|---|
/// | POST | /auth/register | anyone |
/// | POST | /auth/login | anyone |
/// | GET, PUT | /auth/me | signed in |
/// | GET, POST | /users | admin |
/// | GET, PATCH | /users/{id} | admin |
/// | GET, POST | /tickets | signed in (visibility rules in `services::access`) |
/// | GET, PATCH | /tickets/{id} | who may see the ticket |
/// | GET | /tickets/{id}/history | who may see the ticket |
/// | PUT | /tickets/{id}/tags | agent, admin who may see the ticket |
/// | GET | /tags | agent, admin |
/// | GET, POST | /tickets/{id}/messages | who may see the ticket |
/// | POST | /upload | signed in |
/// | GET, DELETE | /attachments/{id} | who may see it (delete: uploader or admin) |
/// | POST | /tickets/{id}/take | agent |
/// | POST | /tickets/{id}/assign | admin |
/// | POST | /tickets/{id}/merge | agent, admin who may see both tickets |
/// | GET, POST | /tickets/{id}/links | agent, admin who may see the ticket |
/// | DELETE | /tickets/{id}/links/{other} | agent, admin who may see the ticket |
/// | GET | /agents | agent, admin |
/// | POST | /agents | admin |
/// | GET | /agents/me | agent |
/// | PUT | /agents/me/status | agent |
/// | GET | /agents/{id} | agent, admin |
/// | PATCH | /agents/{id} | admin |
/// | PUT | /agents/{id}/status | admin |
/// | GET, PUT | /settings | admin |
/// | GET, POST | /sla/calendars | admin |
/// | GET, PUT, DELETE | /sla/calendars/{id} | admin |
/// | POST | /sla/recompute | admin |
/// | GET | /tickets/export.csv | signed in (same visibility as /tickets) |
/// | GET | /analytics/overview | admin (agents: their own) |
/// | GET | /analytics/sla | admin |
/// | GET | /analytics/tags | admin |
/// | GET | /journeys, /journeys/{id} | signed in (inactive: admins) |
/// | POST | /journeys | admin |
/// | PUT | /journeys/{id} | admin |
/// | POST | /journeys/{id}/activate, /deactivate, /archive | admin |
/// | POST | /journeys/{id}/submit | customer |
/// | GET, PUT | /auth/me/notifications | signed in |
/// | GET, POST | /mail/unsubscribe?token= | anyone with a signed token (GET: a confirm page) |
/// | GET | /mail/outbox | admin |
/// | POST | /mail/outbox/{id}/resend | admin |
/// | GET, POST | /macros | agent, admin (shared macros: admins) |
/// | GET, PUT, DELETE | /macros/{id} | agent, admin (their own; shared: admins change) |
/// | GET | /tickets/{id}/macros/{macro_id}/preview | agent, admin who may see the ticket |
/// | POST | /tickets/{id}/macros/{macro_id}/apply | agent, admin who may see the ticket |
/// | GET, POST | /views | agent, admin (shared views: admins) |
/// | GET | /views/counts | agent, admin |
/// | PATCH, DELETE | /views/{id} | agent, admin (their own; shared: admins) |
/// | POST | /inbound/email | `Authorization: Bearer {MAIL_INGEST_TOKEN}` |
/// | GET | /mail/inbound?status= | admin |
/// | POST | /mail/inbound/{id}/reprocess | admin |
/// | GET | /tickets/{id}/csat | who may see the ticket |
/// | PUT | /tickets/{id}/csat | the ticket's customer |
/// | GET, PUT | /csat?token= | anyone with a signed survey link |
/// | GET | /analytics/csat | admin |
/// | GET, POST | /tokens | agent, admin, login session only (admins: `?all=true`) |
/// | DELETE | /tokens/{id} | the token's owner or an admin, login session only |
/// | GET, POST | /webhooks | admin |
/// | GET | /webhooks/events | admin |
/// | GET, PUT | /webhooks/settings | admin |
/// | GET, PATCH, DELETE | /webhooks/{id} | admin |
/// | POST | /webhooks/{id}/rotate-secret, /webhooks/{id}/test | admin |
/// | GET | /webhooks/{id}/deliveries | admin |
/// | POST | /webhooks/{id}/deliveries/{delivery_id}/redeliver | admin |
/// | GET | /health | anyone |
///
/// With an API token, each route also needs the scope `auth::scopes::ROUTES` gives it.
pub fn config(cfg: &mut ServiceConfig<'_>) {
    cfg.service(auth::register)
        .service(auth::login)
        .service(auth::me)
        .service(auth::update_me)
        .service(auth::sign_out_everywhere)
        .service(mail::get_notifications)
        .service(mail::update_notifications)
        .service(mail::unsubscribe)
        .service(mail::unsubscribe_page)
        .service(mail::list_outbox)
        .service(mail::resend)
        .service(inbound::ingest_email)
        .service(inbound::list_inbound)
        .service(inbound::reprocess)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(tickets::list)
        .service(tickets::export_csv)
        .service(tickets::create)
        .service(tickets::get)
        .service(tickets::update)
        .service(tickets::history)
        .service(tickets::list_messages)
        .service(tickets::create_message)
        .service(tickets::take)
        .service(tickets::assign)
        .service(merge::merge)
        .service(links::list)
        .service(links::create)
        .service(links::remove)
        .service(tags::set)
        .service(tags::list)
        .service(agents::list)
        .service(agents::create)
        .service(agents::me)
        .service(agents::my_status)
        .service(agents::get)
        .service(agents::update)
        .service(agents::set_status)
        .service(csat::get_for_ticket)
        .service(csat::rate_ticket)
        .service(csat::get_by_link)
        .service(csat::rate_by_link)
        .service(macros::list)
        .service(macros::create)
        .service(macros::get)
        .service(macros::update)
        .service(macros::remove)
        .service(macros::preview)
        .service(macros::apply)
        .service(views::list)
        .service(views::counts)
        .service(views::create)
        .service(views::update)
        .service(views::remove)
        .service(journeys::list)
        .service(journeys::create)
        .service(journeys::get)
        .service(journeys::update)
        .service(journeys::export)
        .service(journeys::activate)
        .service(journeys::deactivate)
        .service(journeys::archive)
        .service(journeys::submit)
        .service(analytics::overview)
        .service(analytics::sla)
        .service(tags::analytics)
        .service(analytics::csat)
        .service(settings::get)
        .service(settings::update)
        .service(sla::list_calendars)
        .service(sla::create_calendar)
        .service(sla::get_calendar)
        .service(sla::update_calendar)
        .service(sla::delete_calendar)
        .service(sla::recompute)
        .service(webhooks::list)
        .service(webhooks::create)
        .service(webhooks::event_types)
        .service(webhooks::get_settings)
        .service(webhooks::put_settings)
        .service(webhooks::get)
        .service(webhooks::update)
        .service(webhooks::remove)
        .service(webhooks::rotate_secret)
        .service(webhooks::test)
        .service(webhooks::deliveries)
        .service(webhooks::redeliver)
        .service(attachments::upload)
        .service(attachments::download)
        .service(attachments::remove)
        .service(tokens::list)
        .service(tokens::create)
        .service(tokens::revoke)
        .service(events::list)
        .service(health::health)
        .service(health::live)
        .service(health::ready);
}
