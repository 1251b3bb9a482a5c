//! Who else is on a ticket: the staff viewing it and those typing a reply, kept in memory by the
//! hub and never written to the event log.
//!
//! [`PresenceBook`] holds, per ticket, an entry for every local session that announced itself
//! (with the expiry of its `viewing` heartbeat and of its last `typing` signal) and the latest
//! list each other server instance published for the ticket (see [`super::presence_link`]).
//! What clients are shown is [`PresenceBook::view`]: one line per user (several tabs count
//! once), ordered by name. The hub sends that view to the staff in the ticket's room whenever
//! it changes, and only then, so repeated heartbeats and keystrokes are never amplified.
//!
//! The rules on who may announce (staff in the ticket's room) live in the hub; the per-socket
//! message rate ([`RateWindow`]) in the session. This module is plain state, without I/O.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use shared::ws::{Activity, PresentUser};
use uuid::Uuid;

/// A `typing` signal counts for this long after it was received.
pub const TYPING_TTL: Duration = Duration::from_secs(5);
/// A `viewing` announcement counts for this long; clients repeat it well within.
pub const VIEWING_TTL: Duration = Duration::from_secs(60);
/// Most tickets one socket may be present on at once.
pub const MAX_TICKETS_PER_SOCKET: usize = 10;
/// Most presence messages one socket may send per second.
pub const MAX_MESSAGES_PER_SECOND: u32 = 10;
/// What another instance published counts for this long unless published again.
pub const REMOTE_TTL: Duration = Duration::from_secs(60);
/// Each instance publishes its presence on every ticket again this often (so that other
/// instances, which forget after [`REMOTE_TTL`], keep it).
pub const REPUBLISH: Duration = Duration::from_secs(20);

/// Why an announcement was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The socket is already present on [`MAX_TICKETS_PER_SOCKET`] other tickets.
    TooManyTickets,
}

/// One local session on one ticket.
#[derive(Debug, Clone)]
struct Entry {
    user_id: Uuid,
    name: String,
    viewing_until: Instant,
    typing_until: Option<Instant>,
}

/// What another instance last said about one ticket.
#[derive(Debug, Clone)]
struct Remote {
    here: Vec<PresentUser>,
    until: Instant,
}

/// Presence on every ticket, as this instance knows it.
#[derive(Debug, Default)]
pub struct PresenceBook {
    /// Local sessions, per ticket, per session id.
    local: HashMap<Uuid, HashMap<u64, Entry>>,
    /// The tickets each local session is present on.
    by_session: HashMap<u64, HashSet<Uuid>>,
    /// Other instances' lists, per ticket, per instance id.
    remote: HashMap<Uuid, HashMap<Uuid, Remote>>,
}

/// What [`PresenceBook::expire`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Tickets whose local presence changed (to publish and to show).
    pub local: Vec<Uuid>,
    /// Tickets whose view changed only because another instance's list ran out.
    pub remote: Vec<Uuid>,
}

impl PresenceBook {
    /// Records what `session` (of `user_id`, called `name`) announced about `ticket`.
    /// Returns whether this instance's local presence on the ticket changed.
    pub fn announce(
        &mut self,
        session: u64,
        user_id: Uuid,
        name: &str,
        ticket: Uuid,
        activity: Activity,
        now: Instant,
    ) -> Result<bool, Refusal> {
        if activity == Activity::Left {
            return Ok(self.leave(session, ticket));
        }
        let mine = self.by_session.entry(session).or_default();
        if !mine.contains(&ticket) && mine.len() >= MAX_TICKETS_PER_SOCKET {
            return Err(Refusal::TooManyTickets);
        }
        mine.insert(ticket);
        let before = self.local_view(ticket);
        let entry = self
            .local
            .entry(ticket)
            .or_default()
            .entry(session)
            .or_insert_with(|| Entry {
                user_id,
                name: name.to_owned(),
                viewing_until: now,
                typing_until: None,
            });
        entry.viewing_until = now + VIEWING_TTL;
        if activity == Activity::Typing {
            entry.typing_until = Some(now + TYPING_TTL);
        }
        Ok(self.local_view(ticket) != before)
    }

    /// Takes `session` off `ticket`. Returns whether the local presence changed.
    pub fn leave(&mut self, session: u64, ticket: Uuid) -> bool {
        if let Some(mine) = self.by_session.get_mut(&session) {
            mine.remove(&ticket);
            if mine.is_empty() {
                self.by_session.remove(&session);
            }
        }
        let before = self.local_view(ticket);
        if let Some(entries) = self.local.get_mut(&ticket) {
            entries.remove(&session);
            if entries.is_empty() {
                self.local.remove(&ticket);
            }
        }
        self.local_view(ticket) != before
    }

    /// Takes a session that went away off every ticket. Returns the tickets whose local
    /// presence changed.
    pub fn drop_session(&mut self, session: u64) -> Vec<Uuid> {
        let tickets = self.by_session.remove(&session).unwrap_or_default();
        tickets
            .into_iter()
            .filter(|ticket| {
                let before = self.local_view(*ticket);
                if let Some(entries) = self.local.get_mut(ticket) {
                    entries.remove(&session);
                    if entries.is_empty() {
                        self.local.remove(ticket);
                    }
                }
                self.local_view(*ticket) != before
            })
            .collect()
    }

    /// Ends typing signals and viewing announcements that ran out, and other instances' lists
    /// that were not published again in time.
    pub fn expire(&mut self, now: Instant) -> Expired {
        let mut expired = Expired::default();
        let tickets: Vec<Uuid> = self.local.keys().copied().collect();
        for ticket in tickets {
            let before = self.local_view(ticket);
            let mut gone = Vec::new();
            if let Some(entries) = self.local.get_mut(&ticket) {
                for (session, entry) in entries.iter_mut() {
                    if entry.viewing_until <= now {
                        gone.push(*session);
                    } else if entry.typing_until.is_some_and(|t| t <= now) {
                        entry.typing_until = None;
                    }
                }
            }
            for session in gone {
                self.leave(session, ticket);
            }
            if self.local_view(ticket) != before {
                expired.local.push(ticket);
            }
        }
        let tickets: Vec<Uuid> = self.remote.keys().copied().collect();
        for ticket in tickets {
            let before = self.view(ticket);
            if let Some(instances) = self.remote.get_mut(&ticket) {
                instances.retain(|_, r| r.until > now);
                if instances.is_empty() {
                    self.remote.remove(&ticket);
                }
            }
            if self.view(ticket) != before && !expired.local.contains(&ticket) {
                expired.remote.push(ticket);
            }
        }
        expired
    }

    /// Stores what another instance published about a ticket (an empty list: nobody there).
    /// Returns whether the view changed.
    pub fn set_remote(
        &mut self,
        instance: Uuid,
        ticket: Uuid,
        here: Vec<PresentUser>,
        now: Instant,
    ) -> bool {
        let before = self.view(ticket);
        let instances = self.remote.entry(ticket).or_default();
        if here.is_empty() {
            instances.remove(&instance);
            if instances.is_empty() {
                self.remote.remove(&ticket);
            }
        } else {
            instances.insert(
                instance,
                Remote {
                    here,
                    until: now + REMOTE_TTL,
                },
            );
        }
        self.view(ticket) != before
    }

    /// This instance's sessions on a ticket, one line per user, ordered by name.
    pub fn local_view(&self, ticket: Uuid) -> Vec<PresentUser> {
        let entries = self.local.get(&ticket).into_iter().flat_map(|e| e.values());
        merge(entries.map(|e| PresentUser {
            user_id: e.user_id,
            name: e.name.clone(),
            typing: e.typing_until.is_some(),
        }))
    }

    /// Everyone on a ticket, on this instance and the others, one line per user.
    pub fn view(&self, ticket: Uuid) -> Vec<PresentUser> {
        let remote = self
            .remote
            .get(&ticket)
            .into_iter()
            .flat_map(|i| i.values())
            .flat_map(|r| r.here.iter().cloned());
        merge(self.local_view(ticket).into_iter().chain(remote))
    }

    /// The tickets some local session is present on.
    pub fn local_tickets(&self) -> Vec<Uuid> {
        self.local.keys().copied().collect()
    }

    /// Whether a session is present on a ticket.
    pub fn is_present(&self, session: u64, ticket: Uuid) -> bool {
        self.by_session
            .get(&session)
            .is_some_and(|t| t.contains(&ticket))
    }

    /// How many tickets a session is present on.
    pub fn tickets_of(&self, session: u64) -> usize {
        self.by_session.get(&session).map_or(0, HashSet::len)
    }
}

/// One line per user (typing if any of their lines is), ordered by name, then id.
fn merge(lines: impl Iterator<Item = PresentUser>) -> Vec<PresentUser> {
    let mut by_user: BTreeMap<Uuid, PresentUser> = BTreeMap::new();
    for line in lines {
        by_user
            .entry(line.user_id)
            .and_modify(|u| u.typing |= line.typing)
            .or_insert(line);
    }
    let mut users: Vec<PresentUser> = by_user.into_values().collect();
    users.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    users
}

/// A fixed one-second window counting a socket's presence messages.
#[derive(Debug)]
pub struct RateWindow {
    started: Instant,
    count: u32,
}

impl RateWindow {
    pub fn new(now: Instant) -> Self {
        Self {
            started: now,
            count: 0,
        }
    }

    /// Counts one message; false when it is over [`MAX_MESSAGES_PER_SECOND`] in this window.
    pub fn allow(&mut self, now: Instant) -> bool {
        if now.duration_since(self.started) >= Duration::from_secs(1) {
            self.started = now;
            self.count = 0;
        }
        if self.count >= MAX_MESSAGES_PER_SECOND {
            return false;
        }
        self.count += 1;
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn user(name: &str) -> (Uuid, String) {
        (Uuid::new_v4(), name.to_owned())
    }

    #[test]
    fn announcements_change_the_view_only_when_something_changes() {
        let mut book = PresenceBook::default();
        let now = Instant::now();
        let ticket = Uuid::new_v4();
        let (ana, ana_name) = user("Ana");
        let (ben, ben_name) = user("Ben");
        assert_eq!(
            book.announce(1, ana, &ana_name, ticket, Activity::Viewing, now),
            Ok(true)
        );
        // A heartbeat changes nothing anyone sees.
        assert_eq!(
            book.announce(1, ana, &ana_name, ticket, Activity::Viewing, now),
            Ok(false)
        );
        assert_eq!(
            book.announce(2, ben, &ben_name, ticket, Activity::Typing, now),
            Ok(true)
        );
        assert_eq!(
            book.announce(2, ben, &ben_name, ticket, Activity::Typing, now),
            Ok(false)
        );
        let view = book.view(ticket);
        assert_eq!(
            view.iter()
                .map(|u| (u.name.as_str(), u.typing))
                .collect::<Vec<_>>(),
            vec![("Ana", false), ("Ben", true)]
        );
        // Typing ends a few seconds after the last signal; viewing goes on.
        let later = now + TYPING_TTL + Duration::from_millis(1);
        let expired = book.expire(later);
        assert_eq!(expired.local, vec![ticket]);
        assert!(book.view(ticket).iter().all(|u| !u.typing));
        assert_eq!(book.view(ticket).len(), 2);
        // Without a heartbeat, viewing ends too.
        book.expire(now + VIEWING_TTL + Duration::from_millis(1));
        assert!(book.view(ticket).is_empty());
        assert_eq!(book.tickets_of(1), 0);
    }

    #[test]
    fn one_line_per_user_and_gone_with_the_session() {
        let mut book = PresenceBook::default();
        let now = Instant::now();
        let ticket = Uuid::new_v4();
        let (ana, name) = user("Ana");
        book.announce(1, ana, &name, ticket, Activity::Viewing, now)
            .unwrap();
        // A second tab typing: still one line, now typing.
        assert_eq!(
            book.announce(2, ana, &name, ticket, Activity::Typing, now),
            Ok(true)
        );
        assert_eq!(book.view(ticket).len(), 1);
        assert!(book.view(ticket)[0].typing);
        assert_eq!(book.drop_session(2), vec![ticket]);
        assert!(!book.view(ticket)[0].typing);
        assert!(book.announce(1, ana, &name, ticket, Activity::Left, now) == Ok(true));
        assert!(book.view(ticket).is_empty());
        assert!(book.local_tickets().is_empty());
    }

    #[test]
    fn a_socket_is_present_on_a_bounded_number_of_tickets() {
        let mut book = PresenceBook::default();
        let now = Instant::now();
        let (ana, name) = user("Ana");
        let tickets: Vec<Uuid> = (0..MAX_TICKETS_PER_SOCKET)
            .map(|_| Uuid::new_v4())
            .collect();
        for t in &tickets {
            book.announce(1, ana, &name, *t, Activity::Viewing, now)
                .unwrap();
        }
        assert_eq!(
            book.announce(1, ana, &name, Uuid::new_v4(), Activity::Viewing, now),
            Err(Refusal::TooManyTickets)
        );
        // Already present: still fine; after leaving one, another is fine.
        assert!(
            book.announce(1, ana, &name, tickets[0], Activity::Typing, now)
                .is_ok()
        );
        book.leave(1, tickets[1]);
        assert!(
            book.announce(1, ana, &name, Uuid::new_v4(), Activity::Viewing, now)
                .is_ok()
        );
    }

    #[test]
    fn other_instances_lists_merge_and_run_out() {
        let mut book = PresenceBook::default();
        let now = Instant::now();
        let ticket = Uuid::new_v4();
        let other = Uuid::new_v4();
        let (ana, name) = user("Ana");
        let ben = PresentUser {
            user_id: Uuid::new_v4(),
            name: "Ben".into(),
            typing: true,
        };
        book.announce(1, ana, &name, ticket, Activity::Viewing, now)
            .unwrap();
        assert!(book.set_remote(other, ticket, vec![ben.clone()], now));
        assert!(!book.set_remote(other, ticket, vec![ben.clone()], now));
        assert_eq!(book.view(ticket).len(), 2);
        // Only the local part is published.
        assert_eq!(book.local_view(ticket).len(), 1);
        let expired = book.expire(now + REMOTE_TTL + Duration::from_millis(1));
        assert!(expired.remote.is_empty(), "the local part expired as well");
        assert!(book.view(ticket).is_empty());
        assert!(book.set_remote(other, ticket, vec![ben], now));
        assert!(book.set_remote(other, ticket, vec![], now));
        assert!(book.view(ticket).is_empty());
    }

    #[test]
    fn the_rate_window_refuses_the_excess_and_resets() {
        let now = Instant::now();
        let mut window = RateWindow::new(now);
        for _ in 0..MAX_MESSAGES_PER_SECOND {
            assert!(window.allow(now));
        }
        assert!(!window.allow(now + Duration::from_millis(999)));
        assert!(window.allow(now + Duration::from_secs(1)));
    }
}
