//! The Helpdesk schema: one ordered migration set that runs unchanged on SQLite and PostgreSQL.
//!
//! Migrations are timestamped files registered in [`Migrator`]; a migration that has shipped is
//! never edited, a change is a new migration.

// `MigrationTrait` is an async_trait whose signatures name `SchemaManager` without its lifetime.
#![allow(elided_lifetimes_in_paths)]

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_core_tables;
mod m20261126_000002_ticket_history_and_counters;
mod m20261126_000003_event_sequence;
mod m20261126_000004_analytics_indexes;
mod m20261126_000005_analytics_rollups;
mod m20261126_000006_ticket_number_sequence;
mod m20261203_000001_mail_outbox;
mod m20261204_000001_mail_inbound;
mod m20261205_000001_event_placement;
mod m20261205_000002_user_version;
mod m20261205_000003_list_indexes;
mod m20261206_000001_sla_calendars;
mod m20261207_000001_macros;
mod m20261209_000001_user_time_zone;
mod m20261210_000001_ticket_tags;
mod m20261212_000001_merges_and_links;
mod m20261213_000001_csat;
mod m20261214_100001_mail_inbound_ticket;
mod m20261214_200001_full_text_search;
mod m20261215_000001_saved_views;
mod m20261216_000001_api_tokens;
mod m20261217_000001_webhooks;
mod m20261218_000001_idempotency_keys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_core_tables::Migration),
            Box::new(m20261126_000002_ticket_history_and_counters::Migration),
            Box::new(m20261126_000003_event_sequence::Migration),
            Box::new(m20261126_000004_analytics_indexes::Migration),
            Box::new(m20261126_000005_analytics_rollups::Migration),
            Box::new(m20261126_000006_ticket_number_sequence::Migration),
            Box::new(m20261203_000001_mail_outbox::Migration),
            Box::new(m20261204_000001_mail_inbound::Migration),
            Box::new(m20261205_000001_event_placement::Migration),
            Box::new(m20261205_000002_user_version::Migration),
            Box::new(m20261205_000003_list_indexes::Migration),
            Box::new(m20261206_000001_sla_calendars::Migration),
            Box::new(m20261207_000001_macros::Migration),
            Box::new(m20261209_000001_user_time_zone::Migration),
            Box::new(m20261210_000001_ticket_tags::Migration),
            Box::new(m20261212_000001_merges_and_links::Migration),
            Box::new(m20261213_000001_csat::Migration),
            Box::new(m20261214_100001_mail_inbound_ticket::Migration),
            Box::new(m20261214_200001_full_text_search::Migration),
            Box::new(m20261215_000001_saved_views::Migration),
            Box::new(m20261216_000001_api_tokens::Migration),
            Box::new(m20261217_000001_webhooks::Migration),
            Box::new(m20261218_000001_idempotency_keys::Migration),
        ]
    }
}
