//! Made-up but plausible history: one ticket (and its conversation) per index, computed from
//! the index alone so that any chunk can be generated independently and the same size always
//! gives the same data.
//!
//! Tickets are spread evenly over the last 365 days, numbered in creation order. Old tickets
//! are resolved or closed with first-response and resolution times drawn around their SLA
//! targets (so some breach and are escalated); the last days hold open, pending and a few
//! unassigned ones. Journey tickets are evaluated with the real journey, so category,
//! priority, subject, answers and transcript are exactly what a submit would have stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::prelude::Json;
use server::{
    entity::{ticket, ticket_message},
    services::tickets::set_deadlines,
};
use shared::{
    Priority,
    journey::{Answer, Answers, ValidJourney},
    sla::SlaPolicies,
};
use uuid::Uuid;

/// SplitMix64: small, fast and good enough for made-up data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform whole seconds in lo..hi.
    pub fn secs(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::seconds(lo + (self.unit() * (hi - lo) as f64) as i64)
    }
}

/// A UUID in the layout of version 7 (milliseconds first, then random bits): rows inserted in
/// time order append to the primary-key index instead of writing all over it.
pub fn time_ordered_id(at: DateTime<Utc>, rng: &mut Rng) -> Uuid {
    let ms = u128::from(at.timestamp_millis().max(0) as u64) & 0xFFFF_FFFF_FFFF;
    let rand = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
    let rand_a = (rand >> 64) & 0xFFF;
    let rand_b = rand & 0x3FFF_FFFF_FFFF_FFFF;
    Uuid::from_u128(ms << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)
}

/// A demo journey as stored: id, current version and its validated document.
#[derive(Debug, Clone)]
pub struct JourneyRef {
    pub id: Uuid,
    pub version: i32,
    pub journey: ValidJourney,
}

/// The accounts tickets are spread over.
#[derive(Debug, Clone)]
pub struct People {
    pub customers: Vec<Uuid>,
    pub agents: Vec<Uuid>,
}

/// Everything ticket generation depends on.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tickets: u64,
    pub messages_per_ticket: u32,
    /// Number of the first ticket; the rest follow in creation order.
    pub first_number: i64,
    pub now: DateTime<Utc>,
    pub policies: SlaPolicies,
    pub order_problem: JourneyRef,
    pub account_billing: JourneyRef,
    pub people: People,
}

/// Per-agent totals for the running metric columns of `agents`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentTally {
    pub open: i32,
    pub resolved: i32,
    pub first_response_total_secs: i64,
    pub first_response_count: i32,
    pub resolution_total_secs: i64,
    pub resolution_count: i32,
    pub sla_met: i32,
    pub sla_breached: i32,
}

impl AgentTally {
    pub fn add(&mut self, other: &AgentTally) {
        self.open += other.open;
        self.resolved += other.resolved;
        self.first_response_total_secs += other.first_response_total_secs;
        self.first_response_count += other.first_response_count;
        self.resolution_total_secs += other.resolution_total_secs;
        self.resolution_count += other.resolution_count;
        self.sla_met += other.sla_met;
        self.sla_breached += other.sla_breached;
    }
}

/// One generated ticket with its conversation and what it adds to its agent's metrics.
#[derive(Debug, Clone)]
pub struct Generated {
    pub ticket: ticket::Model,
    pub messages: Vec<ticket_message::Model>,
    /// Index into [`People::agents`] and the tally, for assigned tickets.
    pub agent: Option<(usize, AgentTally)>,
}

const SPAN_DAYS: i64 = 365;

/// Where a ticket ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    Open,
    Pending,
    Resolved,
    Closed,
}

/// What a ticket is about: (weight, kind).
const TEMPLATES: &[(u32, Kind)] = &[
    (12, Kind::Order("damaged")),
    (15, Kind::Order("missing")),
    (20, Kind::Order("late")),
    (15, Kind::Billing("login", "free")),
    (6, Kind::Billing("charge", "business")),
    (4, Kind::Billing("charge", "free")),
    (10, Kind::Billing("invoice", "pro")),
    (
        12,
        Kind::Staff("general", Priority::Low, "Question about my account"),
    ),
    (
        4,
        Kind::Staff(
            "general",
            Priority::Medium,
            "Follow-up on an earlier request",
        ),
    ),
    (
        2,
        Kind::Staff("outage", Priority::Urgent, "The shop does not load"),
    ),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Order problem journey with this first answer.
    Order(&'static str),
    /// Account & billing journey with (topic, plan).
    Billing(&'static str, &'static str),
    /// Opened by staff without a journey: (category, priority, subject).
    Staff(&'static str, Priority, &'static str),
}

const BODIES: &[&str] = &[
    "Hello, I am still waiting for an answer on this. Could you have a look?",
    "Thanks for getting back to me. Here are the details you asked for.",
    "We are looking into it and will update you as soon as we know more.",
    "Could you confirm the order number and the delivery address, please?",
    "That worked, thank you! One more question though.",
    "I have passed this on to our warehouse team; expect an update tomorrow.",
    "Sorry for the trouble. A replacement is on its way.",
    "Is there anything else I can help you with?",
];

/// What a seeded message is about: each names one of these, so a word of this list is in about
/// one message in 48 (the bodies' own words are in one in eight), and searches have a realistic
/// spread of selectivity.
pub const PRODUCTS: &[&str] = &[
    "kettle",
    "toaster",
    "blender",
    "headphones",
    "charger",
    "keyboard",
    "monitor",
    "printer",
    "router",
    "camera",
    "tripod",
    "backpack",
    "jacket",
    "sneakers",
    "umbrella",
    "lamp",
    "mattress",
    "pillow",
    "blanket",
    "suitcase",
    "watch",
    "bracelet",
    "necklace",
    "wallet",
    "sunglasses",
    "thermos",
    "skillet",
    "saucepan",
    "teapot",
    "grinder",
    "scale",
    "speaker",
    "microphone",
    "tablet",
    "stylus",
    "mouse",
    "webcam",
    "drone",
    "scooter",
    "helmet",
    "bicycle",
    "tent",
    "lantern",
    "compass",
    "binoculars",
    "telescope",
    "easel",
    "guitar",
];

fn one(v: &str) -> Option<Answer> {
    Some(Answer::One(v.to_owned()))
}

impl Plan {
    /// The ticket at `index` (0-based, in creation order) with its messages.
    pub fn ticket(&self, index: u64) -> Generated {
        let mut rng = Rng::new(index.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
        let number = self.first_number + index as i64;
        let span_us = SPAN_DAYS * 86_400 * 1_000_000;
        let start = self.now - Duration::days(SPAN_DAYS);
        let offset =
            ((index as f64 + rng.unit()) / self.tickets.max(1) as f64 * span_us as f64) as i64;
        let created = std::cmp::min(start + Duration::microseconds(offset), self.now);
        let customer = self.people.customers[rng.below(self.people.customers.len())];

        let (journey, answers, transcript, subject, description, category, priority) =
            self.topic(&mut rng, number);

        let age = self.now - created;
        let r = rng.unit();
        let mut state = if age > Duration::days(7) {
            if r < 0.75 {
                State::Closed
            } else {
                State::Resolved
            }
        } else if age > Duration::days(3) {
            match r {
                r if r < 0.25 => State::Closed,
                r if r < 0.85 => State::Resolved,
                r if r < 0.95 => State::Open,
                _ => State::Pending,
            }
        } else {
            match r {
                r if r < 0.10 => State::Closed,
                r if r < 0.35 => State::Resolved,
                r if r < 0.80 => State::Open,
                r if r < 0.95 => State::Pending,
                _ => State::New,
            }
        };

        let target = self.policies.target(priority);
        let response = Duration::minutes(i64::from(target.response_minutes));
        let resolution = Duration::minutes(i64::from(target.resolution_minutes));
        let at_most_now = |t: DateTime<Utc>| std::cmp::min(t, self.now);

        let agent_index = (state != State::New).then(|| rng.below(self.people.agents.len()));
        let assigned_at = agent_index.map(|_| at_most_now(created + rng.secs(10, 1800)));
        let first_response_at = {
            let t = std::cmp::max(
                created + scale(response, 0.05 + 1.25 * rng.unit()),
                assigned_at.unwrap_or(created),
            );
            match state {
                State::New => None,
                State::Open if t > self.now || rng.unit() < 0.4 => None,
                _ if t > self.now => None,
                _ => Some(t),
            }
        };
        if first_response_at.is_none() && state != State::New {
            // Nobody answered yet: it can only be open.
            state = State::Open;
        }
        let paused_secs = match state {
            State::Resolved | State::Closed if rng.unit() < 0.2 => rng.secs(3600, 86_400),
            _ => Duration::zero(),
        };
        let mut resolved_at = match (state, first_response_at) {
            (State::Resolved | State::Closed, Some(fr)) => Some(std::cmp::max(
                fr + Duration::seconds(60),
                created + paused_secs + scale(resolution, 0.1 + rng.unit()),
            )),
            _ => None,
        };
        if resolved_at.is_some_and(|t| t > self.now) {
            resolved_at = None;
            state = State::Open;
        }
        let mut closed_at = resolved_at
            .filter(|_| state == State::Closed)
            .map(|t| t + rng.secs(3600, 72 * 3600));
        if closed_at.is_some_and(|t| t > self.now) {
            closed_at = None;
            state = State::Resolved;
        }
        let paused_at = match (state, first_response_at) {
            (State::Pending, Some(fr)) => Some(fr + scale(self.now - fr, rng.unit())),
            _ => None,
        };
        let paused_secs = if resolved_at.is_some() {
            paused_secs
        } else {
            Duration::zero()
        };

        let id = time_ordered_id(created, &mut rng);
        let mut t = ticket::Model {
            id,
            number,
            subject,
            description,
            status: match state {
                State::New => ticket::Status::New,
                State::Open => ticket::Status::Open,
                State::Pending => ticket::Status::Pending,
                State::Resolved => ticket::Status::Resolved,
                State::Closed => ticket::Status::Closed,
            },
            priority_rank: priority.rank(),
            category: Some(category),
            customer_id: customer,
            assigned_agent_id: agent_index.map(|i| self.people.agents[i]),
            assigned_at,
            journey_id: journey.map(|j| j.id),
            journey_version: journey.map(|j| j.version),
            answers,
            answers_text: transcript
                .as_ref()
                .and_then(server::services::search::answers_text),
            transcript,
            response_due_at: None,
            resolution_due_at: None,
            first_response_at,
            resolved_at,
            closed_at,
            sla_paused_at: paused_at,
            sla_paused_secs: paused_secs.num_seconds(),
            response_breached: false,
            resolution_breached: false,
            escalated: false,
            escalated_at: None,
            escalation_level: 0,
            created_at: created,
            updated_at: created,
            sla_due_at: None,
            sla_warning_at: None,
            sla_critical_at: None,
            sla_policy: None,
            sla_calendar_id: None,
            sla_terms: None,
            // Generated tickets run 24/7: business time is wall-clock time.
            sla_paused_business_secs: paused_secs.num_seconds(),
            sla_alert_at: None,
            response_warned: false,
            resolution_warned: false,
            sla_eta_at: None,
            response_business_secs: first_response_at.map(|at| (at - created).num_seconds()),
            resolution_business_secs: resolved_at
                .map(|at| (at - created).num_seconds() - paused_secs.num_seconds()),
        };
        // The server's own deadline and running-clock rules.
        set_deadlines(&mut t, &self.policies);
        // Warnings as the monitor would have sent them by now.
        let warned = t.sla_alert_at.is_some_and(|at| at <= self.now);
        t.response_warned = warned;
        t.resolution_warned = warned;

        // Breaches as the SLA monitor would have flagged them by now, so it finds nothing
        // left to escalate when the server starts.
        let response_due = t.response_due_at.unwrap_or(created);
        let resolution_due = t.resolution_due_at.unwrap_or(created);
        let clock_end = paused_at.unwrap_or(self.now);
        let response_breached = first_response_at.unwrap_or(clock_end) > response_due;
        let resolution_breached = resolved_at.unwrap_or(clock_end) > resolution_due;
        let mut breaches = Vec::new();
        if response_breached {
            breaches.push(response_due);
        }
        if resolution_breached {
            breaches.push(resolution_due);
        }
        t.response_breached = response_breached;
        t.resolution_breached = resolution_breached;
        t.escalated = !breaches.is_empty();
        t.escalated_at = breaches.iter().min().copied();
        t.escalation_level = breaches.len() as i32;

        let messages = self.messages(&mut rng, &t, at_most_now);
        t.updated_at = [
            Some(created),
            assigned_at,
            first_response_at,
            paused_at,
            resolved_at,
            closed_at,
            messages.last().map(|m| m.created_at),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created);

        let agent = agent_index.map(|i| {
            let mut tally = AgentTally::default();
            if let Some(fr) = first_response_at {
                tally.first_response_total_secs = (fr - created).num_seconds();
                tally.first_response_count = 1;
            }
            match resolved_at {
                Some(done) => {
                    tally.resolved = 1;
                    tally.resolution_total_secs = (done - created - paused_secs).num_seconds();
                    tally.resolution_count = 1;
                    if response_breached || resolution_breached {
                        tally.sla_breached = 1;
                    } else {
                        tally.sla_met = 1;
                    }
                }
                None => tally.open = 1,
            }
            (i, tally)
        });
        Generated {
            ticket: t,
            messages,
            agent,
        }
    }

    /// Journey (if any), answers, transcript, subject, description, category and priority.
    #[allow(clippy::type_complexity)]
    fn topic(
        &self,
        rng: &mut Rng,
        number: i64,
    ) -> (
        Option<&JourneyRef>,
        Option<Json>,
        Option<Json>,
        String,
        String,
        String,
        Priority,
    ) {
        let total: u32 = TEMPLATES.iter().map(|(w, _)| w).sum();
        let mut pick = rng.below(total as usize) as u32;
        let kind = TEMPLATES
            .iter()
            .find(|(w, _)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map_or(TEMPLATES[0].1, |(_, k)| *k);
        let (journey, answers): (&JourneyRef, Answers) = match kind {
            Kind::Staff(category, priority, subject) => {
                return (
                    None,
                    None,
                    None,
                    subject.to_owned(),
                    format!("{subject} (reported by phone, ticket #{number})."),
                    category.to_owned(),
                    priority,
                );
            }
            Kind::Order(issue) => {
                let mut a: Answers = BTreeMap::new();
                a.insert("order-issue".into(), one(issue));
                match issue {
                    "damaged" => {
                        a.insert("damage-photos".into(), None);
                    }
                    "missing" => {
                        a.insert(
                            "missing-items".into(),
                            Some(Answer::Many(vec!["item".to_owned()])),
                        );
                    }
                    _ => {}
                }
                a.insert("order-number".into(), one(&format!("A-{number}")));
                a.insert(
                    "details".into(),
                    one("The parcel was left at the door, the box was open."),
                );
                (&self.order_problem, a)
            }
            Kind::Billing(topic, plan) => {
                let mut a: Answers = BTreeMap::new();
                a.insert("topic".into(), one(topic));
                a.insert("plan".into(), one(plan));
                a.insert(
                    "describe".into(),
                    one(&format!(
                        "Please help with my {topic} problem, reference {number}."
                    )),
                );
                (&self.account_billing, a)
            }
        };
        match journey.journey.evaluate(&answers) {
            Ok(outcome) => {
                let description = outcome
                    .transcript
                    .iter()
                    .map(|e| {
                        let answer = if e.display.is_empty() {
                            "—"
                        } else {
                            &e.display
                        };
                        format!("{}\n{answer}", e.question)
                    })
                    .collect::<Vec<_>>()
                    .join("\n\n");
                (
                    Some(journey),
                    serde_json::to_value(outcome.answers()).ok(),
                    serde_json::to_value(&outcome.transcript).ok(),
                    outcome.subject,
                    description,
                    outcome.category,
                    outcome.priority,
                )
            }
            // The demo journeys were edited so that these answers no longer fit: still a
            // plausible ticket, just not a journey one.
            Err(_) => (
                None,
                None,
                None,
                format!("Request #{number}"),
                "Opened by staff.".to_owned(),
                "general".to_owned(),
                Priority::Medium,
            ),
        }
    }

    /// The conversation: the customer first, then agent and customer in turn once an agent
    /// has answered (the first agent message is the first response).
    fn messages(
        &self,
        rng: &mut Rng,
        t: &ticket::Model,
        at_most_now: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
    ) -> Vec<ticket_message::Model> {
        let n = self.messages_per_ticket as usize;
        let mut out = Vec::with_capacity(n);
        let first = at_most_now(t.created_at + Duration::seconds(30));
        let end = t
            .resolved_at
            .or(t.sla_paused_at)
            .unwrap_or_else(|| at_most_now(t.created_at + Duration::days(1)));
        for j in 0..n {
            let (author, at) = match (j, t.first_response_at, t.assigned_agent_id) {
                (0, _, _) => (t.customer_id, first),
                (1, Some(fr), Some(agent)) => (agent, fr),
                (_, Some(fr), Some(agent)) => {
                    // After the first response: evenly up to the end, alternating.
                    let step = scale(end - fr, (j - 1) as f64 / n.max(2) as f64);
                    let who = if j % 2 == 1 { agent } else { t.customer_id };
                    (who, fr + step)
                }
                _ => (
                    t.customer_id,
                    first + scale(end - first, j as f64 / n as f64),
                ),
            };
            let at = at_most_now(std::cmp::max(at, first));
            out.push(ticket_message::Model {
                id: time_ordered_id(at, rng),
                ticket_id: t.id,
                author_id: author,
                body: format!(
                    "{} It is about the {}.",
                    BODIES[rng.below(BODIES.len())],
                    PRODUCTS[rng.below(PRODUCTS.len())]
                ),
                internal: false,
                created_at: at,
                updated_at: at,
            });
        }
        out
    }
}

/// `d` times `f`, to the microsecond.
fn scale(d: Duration, f: f64) -> Duration {
    Duration::microseconds((d.num_microseconds().unwrap_or(i64::MAX) as f64 * f) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ordered_ids_are_version_7_and_sort_by_time() {
        let mut rng = Rng::new(1);
        let t0 = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("instant");
        let a = time_ordered_id(t0, &mut rng);
        let b = time_ordered_id(t0 + Duration::milliseconds(1), &mut rng);
        assert_eq!(a.get_version_num(), 7);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert!(a < b);
    }

    #[test]
    fn rng_stays_in_range() {
        let mut rng = Rng::new(42);
        for _ in 0..10_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(rng.below(7) < 7);
            let s = rng.secs(10, 20).num_seconds();
            assert!((10..20).contains(&s));
        }
    }
}
