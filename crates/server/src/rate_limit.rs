//! Request rate limits for everything under `/api`: a fixed window per caller, counted in this
//! server instance's memory (N instances behind a load balancer allow up to N times the limit).
//!
//! Who the caller is comes from the `Authorization` header, without touching the database:
//!
//! - an API token (`Bearer hdk_…`): the SHA-256 of the token, so each token has its own budget
//!   (`RATE_LIMIT_TOKEN`);
//! - a login token (a JWT): its verified `sub`, so all of a user's sessions share one budget
//!   (`RATE_LIMIT_USER`); a token whose signature does not verify counts as anonymous;
//! - anything else: the client's address as the socket sees it (`RATE_LIMIT_ANONYMOUS`), IPv6
//!   by its /64 network. Forwarded headers are not trusted: behind a reverse proxy every
//!   anonymous caller shares the proxy's address (raise the limit or limit at the proxy).
//!
//! Each API token request that turns out to be refused (401: unknown, revoked, expired) also
//! counts against a budget of failed token requests per address (as large as the anonymous
//! one), and an address that spent it gets no token requests until its window ends: made-up
//! tokens cannot buy fresh budgets.
//!
//! Every response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
//! (seconds until the window ends); over the limit the answer is `429 rate_limited` with
//! `Retry-After`. Sign-in throttling ([`crate::auth::throttle`]) is separate and unchanged.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::{
    Error, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
    web,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// `RateLimit-Limit`: requests allowed per window.
pub const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
/// `RateLimit-Remaining`: requests left in the current window.
pub const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
/// `RateLimit-Reset`: seconds until the current window ends.
pub const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Prefix of API tokens (`Authorization: Bearer hdk_…`).
pub const API_TOKEN_PREFIX: &str = "hdk_";

/// Above this many tracked callers, windows that have ended are dropped (at most once a
/// second).
const PRUNE_AT: usize = 10_000;

/// The limits (`RATE_LIMIT_*`, see docs/configuration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `RATE_LIMIT_WINDOW_SECS` (default 60): the length of a window.
    pub window_secs: u64,
    /// `RATE_LIMIT_TOKEN` (default 6000): requests per window per API token.
    pub per_token: u32,
    /// `RATE_LIMIT_USER` (default 6000): requests per window per signed-in user.
    pub per_user: u32,
    /// `RATE_LIMIT_ANONYMOUS` (default 1200): requests per window per client address without
    /// valid credentials.
    pub per_address: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            window_secs: 60,
            per_token: 6000,
            per_user: 6000,
            per_address: 1200,
        }
    }
}

/// Whose budget a request spends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// An API token, by the SHA-256 of its text.
    Token([u8; 32]),
    /// A signed-in user (verified login token).
    User(Uuid),
    /// An anonymous client, by address (IPv6: its /64).
    Address(Option<IpAddr>),
    /// Refused API token requests from an address.
    FailedTokens(Option<IpAddr>),
}

/// The state of one caller's window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    used: u32,
}

/// The verdict for one request, with what the headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window ends (at least 1).
    pub reset_secs: u64,
}

/// Fixed-window counters of this instance.
pub struct RateLimiter {
    settings: RateLimitSettings,
    windows: Mutex<(HashMap<Caller, Window>, Instant)>,
}

impl RateLimiter {
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            settings,
            windows: Mutex::new((HashMap::new(), Instant::now())),
        }
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.settings.window_secs.max(1))
    }

    /// The limit of a kind of caller.
    pub fn limit_of(&self, caller: &Caller) -> u32 {
        match caller {
            Caller::Token(_) => self.settings.per_token,
            Caller::User(_) => self.settings.per_user,
            Caller::Address(_) | Caller::FailedTokens(_) => self.settings.per_address,
        }
    }

    /// Counts one request of `caller` at `now` (refused requests count too, so hammering
    /// does not help).
    pub fn hit(&self, caller: &Caller, now: Instant) -> Decision {
        self.apply(caller, now, 1)
    }

    /// Where `caller` stands at `now`, without counting anything.
    pub fn peek(&self, caller: &Caller, now: Instant) -> Decision {
        self.apply(caller, now, 0)
    }

    fn apply(&self, caller: &Caller, now: Instant, cost: u32) -> Decision {
        let window = self.window();
        let limit = self.limit_of(caller);
        let mut guard = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (map, last_prune) = &mut *guard;
        if map.len() >= PRUNE_AT
            && now.saturating_duration_since(*last_prune) >= Duration::from_secs(1)
        {
            map.retain(|_, w| now.saturating_duration_since(w.started) < window);
            *last_prune = now;
        }
        let w = if cost == 0 {
            map.get(caller).copied().unwrap_or(Window {
                started: now,
                used: 0,
            })
        } else {
            let w = map.entry(caller.clone()).or_insert(Window {
                started: now,
                used: 0,
            });
            if now.saturating_duration_since(w.started) >= window {
                *w = Window {
                    started: now,
                    used: 0,
                };
            }
            w.used = w.used.saturating_add(cost);
            *w
        };
        let elapsed = now.saturating_duration_since(w.started);
        let (used, left) = if elapsed >= window {
            (0, window)
        } else {
            (w.used, window - elapsed)
        };
        Decision {
            allowed: used <= limit,
            limit,
            remaining: limit.saturating_sub(used),
            reset_secs: left.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

/// The caller's address as the limiter keys it: IPv6 by its /64 network (one host usually
/// holds a whole /64), IPv4-mapped IPv6 as IPv4.
pub fn address_key(ip: Option<IpAddr>) -> Option<IpAddr> {
    match ip? {
        IpAddr::V4(v4) => Some(IpAddr::V4(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                Some(IpAddr::V6(std::net::Ipv6Addr::new(
                    s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                )))
            }
        },
    }
}

/// Who a request's budget belongs to, from its `Authorization` header.
pub fn caller_of(state: &AppState, req: &ServiceRequest) -> Caller {
    let address = Caller::Address(address_key(req.peer_addr().map(|a| a.ip())));
    let Some(token) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
    else {
        return address;
    };
    if token.starts_with(API_TOKEN_PREFIX) {
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&Sha256::digest(token.as_bytes()));
        return Caller::Token(digest);
    }
    match state.jwt.verify(token) {
        Ok(claims) => Caller::User(claims.sub),
        Err(_) => address,
    }
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, d: &Decision) {
    for (name, value) in [
        (LIMIT, u64::from(d.limit)),
        (REMAINING, u64::from(d.remaining)),
        (RESET, d.reset_secs),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

fn refuse<B>(req: ServiceRequest, d: &Decision) -> ServiceResponse<EitherBody<B>> {
    let mut resp = ApiError::RateLimited(d.reset_secs).error_response();
    set_headers(resp.headers_mut(), d);
    req.into_response(resp).map_into_right_body()
}

/// Middleware for the `/api` scope: counts the request against its caller's window, answers
/// 429 when it is over, and puts the `RateLimit-*` headers on every response.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let limiter = &state.rate_limits;
    let caller = caller_of(&state, &req);
    let now = Instant::now();
    let failures = Caller::FailedTokens(address_key(req.peer_addr().map(|a| a.ip())));
    if matches!(caller, Caller::Token(_)) {
        let standing = limiter.peek(&failures, now);
        if standing.remaining == 0 {
            return Ok(refuse(req, &standing));
        }
    }
    let decision = limiter.hit(&caller, now);
    if !decision.allowed {
        return Ok(refuse(req, &decision));
    }
    let mut resp = next.call(req).await?;
    if matches!(caller, Caller::Token(_)) && resp.status() == StatusCode::UNAUTHORIZED {
        limiter.hit(&failures, now);
    }
    set_headers(resp.headers_mut(), &decision);
    Ok(resp.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limit: u32) -> RateLimiter {
        RateLimiter::new(RateLimitSettings {
            window_secs: 60,
            per_token: limit,
            per_user: limit,
            per_address: limit,
        })
    }

    #[test]
    fn a_window_allows_its_limit_then_refuses_until_it_ends() {
        let l = limiter(3);
        let me = Caller::User(Uuid::new_v4());
        let t0 = Instant::now();
        let remaining: Vec<u32> = (0..3).map(|_| l.hit(&me, t0).remaining).collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        let over = l.hit(&me, t0 + Duration::from_secs(10));
        assert!(!over.allowed);
        assert_eq!((over.remaining, over.reset_secs), (0, 50));
        // Someone else has their own budget.
        assert!(l.hit(&Caller::User(Uuid::new_v4()), t0).allowed);
        // A new window starts fresh.
        let later = l.hit(&me, t0 + Duration::from_secs(61));
        assert!(later.allowed);
        assert_eq!((later.remaining, later.reset_secs), (2, 60));
    }

    #[test]
    fn peeking_counts_nothing() {
        let l = limiter(1);
        let a = Caller::Address(None);
        let t0 = Instant::now();
        assert_eq!(l.peek(&a, t0).remaining, 1);
        assert_eq!(l.peek(&a, t0).remaining, 1);
        assert!(l.hit(&a, t0).allowed);
        assert_eq!(l.peek(&a, t0).remaining, 0);
        assert!(!l.hit(&a, t0).allowed);
    }

    #[test]
    fn ipv6_hosts_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(address_key(Some(a)), address_key(Some(b)));
        assert_ne!(address_key(Some(a)), address_key(Some(c)));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(address_key(Some(mapped)), Some(IpAddr::from([10, 0, 0, 1])));
    }
}
