//! Black-box tests of the running server: each test starts the real application on a random
//! port with a fresh database, on SQLite and on PostgreSQL, and talks to it over HTTP. The
//! browser tests drive the SPA in headless Chromium. One test binary for the whole suite.

#![allow(clippy::unwrap_used)]

mod helpers;

mod analytics;
mod attachments;
mod auth;
mod authz;
mod backup;
mod browser;
mod browser_admin;
mod browser_analytics;
mod browser_csat;
mod browser_mail;
mod browser_merge;
mod browser_presence;
mod browser_search;
mod browser_sla;
mod browser_support;
mod browser_tags;
mod caches;
mod cli;
mod csat;
mod cursors;
mod errors;
mod event_feed;
mod event_order;
mod floods;
mod health;
mod idempotency;
mod imap;
mod imap_support;
mod inbound;
mod journeys;
mod limits;
mod macros;
mod mail;
mod mail_support;
mod merge;
mod messages;
mod openapi;
mod outage;
mod presence;
mod queue;
mod rate_limits;
mod realtime;
mod search;
mod sla;
mod tags;
mod tickets;
mod tokens;
mod users;
mod views;
mod webhooks;
mod ws_client;
