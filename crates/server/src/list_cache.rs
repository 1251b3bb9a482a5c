//! The rendered ticket list pages that every staff member sees alike: the queue views
//! (`assigned_agent_id=none`). Agents see unassigned tickets and their own, admins all, so with
//! that filter every staff member gets the same page; the agent dashboard asks for it all the
//! time, and rendering it costs several queries and a lot of JSON.
//!
//! A page is kept with the *stamp* it was rendered at, taken before the database was read:
//! the realtime hub's position in the event stream (every change to a ticket is an event, on
//! any instance), the number of writes committed by this process (so a change made here is
//! seen by the next request at once, before the hub has delivered it) and the database's
//! `user_version` (names shown on the page), and the current second (a page shows each
//! ticket's SLA state as of when it was rendered). A page is served only while the stamp is
//! unchanged. A change made through another instance reaches this cache when this instance's
//! hub delivers its event, as it reaches the WebSocket clients. The stamp is also the page's
//! `ETag`, so a client that has the page gets `304 Not Modified`.

use std::{collections::HashMap, sync::Mutex};

use actix_web::web::Bytes;

/// What a cached page is valid at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub position: i64,
    pub local_writes: u64,
    pub user_version: i64,
    /// Unix seconds.
    pub second: i64,
}

impl Stamp {
    /// The `ETag` of a page rendered at this stamp for `key`.
    pub fn etag(&self, key: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        format!(
            "\"q{}-{}-{}-{}-{:x}\"",
            self.position,
            self.local_writes,
            self.user_version,
            self.second,
            h.finish()
        )
    }
}

/// Pages kept at most; beyond that the cache starts over.
const MAX_PAGES: usize = 256;

/// See the module documentation.
#[derive(Default)]
pub struct ListCache {
    pages: Mutex<HashMap<String, (Stamp, Bytes)>>,
}

impl ListCache {
    /// The page for `key` rendered at `stamp`, if there is one.
    pub fn get(&self, key: &str, stamp: Stamp) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        match pages.get(key) {
            Some((at, body)) if *at == stamp => Some(body.clone()),
            _ => None,
        }
    }

    /// Keeps the page for `key` rendered at `stamp` (taken before its data was read).
    pub fn put(&self, key: String, stamp: Stamp, body: Bytes) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            pages.clear();
        }
        pages.insert(key, (stamp, body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_only_at_its_stamp() {
        let cache = ListCache::default();
        let at = Stamp {
            position: 7,
            local_writes: 2,
            user_version: 1,
            second: 100,
        };
        cache.put("q".into(), at, Bytes::from_static(b"page"));
        assert_eq!(cache.get("q", at).as_deref(), Some(&b"page"[..]));
        for later in [
            Stamp { position: 8, ..at },
            Stamp {
                local_writes: 3,
                ..at
            },
            Stamp {
                user_version: 2,
                ..at
            },
            Stamp { second: 101, ..at },
        ] {
            assert_eq!(cache.get("q", later), None);
            assert_ne!(later.etag("q"), at.etag("q"));
        }
        assert_eq!(cache.get("other", at), None);
        assert_ne!(at.etag("q"), at.etag("other"));
    }
}
