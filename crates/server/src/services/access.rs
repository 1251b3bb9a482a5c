//! Who may see which ticket: the one permission rule behind every ticket, message and
//! attachment route (and, later, WebSocket ticket rooms).
//!
//! Customers see their own tickets; agents see the queue (unassigned tickets) and the tickets
//! assigned to them; admins see everything. A ticket the caller may not see is reported as
//! "not found" so ids cannot be probed.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QuerySelect};
use shared::Role;
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    entity::{Ticket, User, ticket},
    error::ApiError,
};

/// Whether `user` may see `ticket`.
pub fn can_see(user: &AuthUser, ticket: &ticket::Model) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Agent => ticket
            .assigned_agent_id
            .is_none_or(|agent| agent == user.id),
        Role::Customer => ticket.customer_id == user.id,
    }
}

/// The SQL form of [`can_see`], for lists.
pub fn visible_condition(user: &AuthUser) -> Condition {
    match user.role {
        Role::Admin => Condition::all(),
        Role::Agent => Condition::any()
            .add(ticket::Column::AssignedAgentId.is_null())
            .add(ticket::Column::AssignedAgentId.eq(user.id)),
        Role::Customer => Condition::all().add(ticket::Column::CustomerId.eq(user.id)),
    }
}

/// Loads a ticket the caller may see, or 404. With `lock`, the row is locked for update
/// (PostgreSQL) until the surrounding transaction ends.
pub async fn visible_ticket<C: ConnectionTrait>(
    db: &C,
    user: &AuthUser,
    id: Uuid,
    lock: bool,
) -> Result<ticket::Model, ApiError> {
    let mut query = Ticket::find_by_id(id);
    if lock {
        query = query.lock_exclusive();
    }
    match query.one(db).await? {
        Some(t) if can_see(user, &t) => Ok(t),
        _ => Err(ApiError::NotFound("ticket")),
    }
}

/// Whether the account behind a request still has the rights it was authenticated with: the
/// same role and token version, still active. Long-running responses (the streamed CSV export)
/// check it again as they go, so a revocation cuts them off too.
pub async fn still_authorized<C: ConnectionTrait>(db: &C, user: &AuthUser) -> Result<(), ApiError> {
    let current = User::find_by_id(user.id).one(db).await?;
    match current {
        Some(u)
            if u.active
                && u.token_version == user.user.token_version
                && Role::from(u.role) == user.role =>
        {
            Ok(())
        }
        _ => Err(ApiError::Unauthorized(
            shared::ErrorCode::InvalidToken,
            "access was revoked".into(),
        )),
    }
}
