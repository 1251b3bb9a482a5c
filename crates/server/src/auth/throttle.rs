//! Slows down password guessing: after too many failed sign-ins for one email from one client
//! address, further attempts are refused with 429 until the window passes.
//!
//! Kept in memory per server instance; the key includes the address so an attacker elsewhere
//! cannot lock a real user out. A successful sign-in clears the counter.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failed attempts allowed per (address, email) within [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Above this many tracked keys, expired entries are pruned.
const PRUNE_AT: usize = 10_000;

type Key = (Option<IpAddr>, String);

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, (Instant, u32)>>,
}

impl LoginThrottle {
    /// `Err(seconds to wait)` when this client has failed too often for this email.
    pub fn check(&self, ip: Option<IpAddr>, email: &str) -> Result<(), u64> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&(ip, normalise(email))) {
            Some((start, count))
                if *count >= MAX_FAILURES && now.duration_since(*start) < WINDOW =>
            {
                Err((WINDOW - now.duration_since(*start)).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: Option<IpAddr>, email: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRUNE_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = map.entry((ip, normalise(email))).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    pub fn record_success(&self, ip: Option<IpAddr>, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(ip, normalise(email)));
    }
}

fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_per_client_and_email() {
        let t = LoginThrottle::default();
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let other_ip = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..MAX_FAILURES {
            assert!(t.check(ip, "a@b.co").is_ok());
            t.record_failure(ip, "A@b.co ");
        }
        assert!(t.check(ip, "a@b.co").is_err());
        // Another client, or another email, is unaffected.
        assert!(t.check(other_ip, "a@b.co").is_ok());
        assert!(t.check(ip, "c@d.co").is_ok());
        t.record_success(ip, "a@b.co");
        assert!(t.check(ip, "a@b.co").is_ok());
    }
}
