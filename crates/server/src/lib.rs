//! The Helpdesk server: HTTP API, static SPA hosting, and (in later modules) realtime hub and
//! background jobs. `main.rs` is only the CLI; everything is reachable from here so the
//! black-box tests can start the real application in-process.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod entity;
pub mod error;
pub mod idempotent;
pub mod jobs;
pub mod json_guard;
pub mod list_cache;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod realtime;
pub mod request_id;
pub mod routes;
pub mod services;
pub mod spa;
pub mod startup;
pub mod state;
