//! The accounts of signed-in users, kept in memory so a request does not read its user's row.
//!
//! Every change to an account that a request depends on bumps the database's `user_version`
//! counter in the same transaction (triggers on `users`, see the migration). Each request reads
//! that one number (a tiny primary-key read) and compares it with the version the cache was
//! filled at: a change made through any server instance empties the cache before the next
//! request is served, so a password change, deactivation, role change or sign-out everywhere
//! takes effect on the very next request on every instance, as before.
//!
//! An entry is tagged with the version read *before* its row was read, so a change committed
//! between the two reads makes the entry look old (and re-read), never current. Deactivated
//! accounts are never cached.

use std::{collections::HashMap, sync::Mutex};

use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use uuid::Uuid;

use crate::{
    entity::{User, user},
    error::ApiError,
};

/// Accounts kept at most; beyond that the cache starts over.
const MAX_USERS: usize = 100_000;

/// See the module documentation.
#[derive(Default)]
pub struct UserCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The `user_version` every entry is valid at.
    version: i64,
    users: HashMap<Uuid, user::Model>,
}

/// The current `user_version`.
pub async fn user_version<C: ConnectionTrait>(db: &C) -> Result<i64, ApiError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT value FROM counters WHERE name = 'user_version'",
        ))
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("counter `user_version` is missing")))?;
    Ok(row.try_get::<i64>("", "value")?)
}

impl UserCache {
    /// The account `id` as it is now in the database (`None` if there is none).
    pub async fn get<C: ConnectionTrait>(
        &self,
        db: &C,
        id: Uuid,
    ) -> Result<Option<user::Model>, ApiError> {
        let version = user_version(db).await?;
        if let Some(found) = self.lookup(version, id) {
            return Ok(Some(found));
        }
        let found = User::find_by_id(id).one(db).await?;
        if let Some(u) = found.as_ref().filter(|u| u.active) {
            self.store(version, u.clone());
        }
        Ok(found)
    }

    /// The newest `user_version` a request has read.
    pub fn version(&self) -> i64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).version
    }

    fn lookup(&self, version: i64, id: Uuid) -> Option<user::Model> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if version > inner.version {
            inner.users.clear();
            inner.version = version;
            return None;
        }
        // An older version read by a slow request: neither serve nor keep anything for it.
        (version == inner.version)
            .then(|| inner.users.get(&id).cloned())
            .flatten()
    }

    /// Keeps `u`, read after `version` was: only if that is still the cache's version.
    fn store(&self, version: i64, u: user::Model) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.version != version {
            return;
        }
        if inner.users.len() >= MAX_USERS {
            inner.users.clear();
        }
        inner.users.insert(u.id, u);
    }
}
