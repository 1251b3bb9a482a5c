//! `idempotency_keys`: a user's `Idempotency-Key`, the fingerprint of the request that first
//! used it, and (once that request finished) the response to replay. See
//! [`crate::services::idempotency`].

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 (hex) of method, path and the parsed body.
    pub request_hash: String,
    /// The response's status; `None` while the first request still runs.
    pub status: Option<i16>,
    /// The response's JSON body.
    #[sea_orm(column_type = "Text", nullable)]
    pub response_body: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
