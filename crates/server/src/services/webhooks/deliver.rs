//! The delivery worker: claims due deliveries (a lease: `locked_by`/`locked_until`, with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL so instances never claim the same row; SQLite has
//! one writer at a time), posts each to its endpoint and records the attempt.
//!
//! - A delivery is due when it is `pending` and its next attempt has come (or `delivering`
//!   with a lapsed lease: its worker died), its endpoint is enabled, and no earlier delivery
//!   of the same ticket to the same endpoint is still `pending` or `delivering`: so each
//!   endpoint gets a ticket's events in order, a later one waiting until the earlier one is
//!   delivered or given up.
//! - An attempt resolves the host again and refuses internal addresses ([`super::ssrf`]),
//!   then connects to exactly the checked address; no redirects are followed; it may take
//!   `WEBHOOK_TIMEOUT_SECS`. A 2xx marks the delivery `delivered`; anything else schedules a
//!   retry with exponential backoff and jitter ([`backoff`]) until `WEBHOOK_MAX_ATTEMPTS`,
//!   then `failed`.
//! - Only the lease holder records an outcome. An attempt starts only while the lease has
//!   room for it, so a row is never posted by two workers at once; a worker that dies after
//!   posting but before recording leaves the row to be posted again after its lease (at
//!   least once: receivers deduplicate by `Helpdesk-Delivery`).
//! - An endpoint whose attempts have all failed for `WEBHOOK_DISABLE_AFTER_SECS` is switched
//!   off, and a `webhook-disabled` event goes to the admins (live, and shown on the webhooks
//!   page).

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend,
    DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
};
use shared::{webhooks::DeliveryStatus, ws::Event};
use uuid::Uuid;

use super::{dispatch::stmt, sign, ssrf};
use crate::{
    clock::Clock,
    config::WebhookSettings,
    entity::{
        WebhookAttempt, WebhookEndpoint,
        webhook::{attempt, delivery, endpoint},
    },
    error::ApiError,
    services::{begin_write, events, settings},
};

/// Deliveries claimed at once.
const BATCH: i64 = 16;
/// Attempts in flight at once.
const CONCURRENCY: usize = 8;
/// Batches per run (then the loop sleeps and looks again).
const MAX_BATCHES: usize = 20;
/// Longest response body excerpt kept, in bytes.
pub const EXCERPT_BYTES: usize = 1024;

/// One delivery worker (its identity is stored in `locked_by`).
#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    settings: WebhookSettings,
}

impl Worker {
    pub fn new(settings: WebhookSettings) -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "helpdesk".to_owned())
            .chars()
            .take(48)
            .collect::<String>();
        Self {
            id: format!("{host}:{}:{}", std::process::id(), Uuid::new_v4().simple()),
            settings,
        }
    }

    fn timeout(&self) -> StdDuration {
        StdDuration::from_secs(self.settings.timeout_secs.max(1))
    }

    /// How long a claim holds a row: three attempt timeouts, so every attempt started within
    /// the first two of them ends (and is recorded) before the lease does.
    pub fn lease(&self) -> StdDuration {
        3 * self.timeout()
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
    /// Endpoints switched off in this run.
    pub disabled: usize,
    /// Claimed rows left to a later claim (the lease ran short, or was lost).
    pub lost: usize,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        *self == Report::default()
    }
}

/// The wait before the next attempt after `attempts` failed ones: `base · 2^(attempts-1)`,
/// at most `max`, plus up to 20% jitter.
pub fn backoff(settings: &WebhookSettings, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 40) - 1;
    let base = settings
        .retry_base_ms
        .saturating_mul(1u64 << exp.min(40))
        .min(settings.retry_max_ms)
        .max(1);
    let jitter = (Uuid::new_v4().as_u128() % u128::from(base / 5 + 1)) as u64;
    Duration::milliseconds(i64::try_from(base + jitter).unwrap_or(i64::MAX / 2))
}

/// Claims up to [`BATCH`] due deliveries for `worker`, counting the attempt.
pub async fn claim(
    db: &DatabaseConnection,
    worker: &Worker,
    now: DateTime<Utc>,
) -> Result<Vec<delivery::Model>, ApiError> {
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    let lock = if backend == DatabaseBackend::Postgres {
        // Rows another instance is claiming right now are skipped, not waited for.
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let lease = Duration::from_std(worker.lease()).unwrap_or(Duration::seconds(30));
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'delivering', locked_by = $1, \
           locked_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d \
           WHERE ((d.status = 'pending' AND d.next_attempt_at <= $3) \
                  OR (d.status = 'delivering' AND d.locked_until < $3)) \
             AND EXISTS (SELECT 1 FROM webhook_endpoints w \
                         WHERE w.id = d.endpoint_id AND w.enabled = $4) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                         WHERE e.endpoint_id = d.endpoint_id AND e.ticket_id = d.ticket_id \
                           AND e.seq < d.seq AND e.status IN ('pending', 'delivering')) \
           ORDER BY d.seq, d.created_at LIMIT $5{lock}) \
         RETURNING *"
    );
    let rows = txn
        .query_all_raw(stmt(
            backend,
            &sql,
            vec![
                worker.id.clone().into(),
                (now + lease).into(),
                now.into(),
                true.into(),
                BATCH.into(),
            ],
        ))
        .await?;
    let mut claimed = rows
        .iter()
        .map(|r| delivery::Model::from_query_result(r, ""))
        .collect::<Result<Vec<_>, _>>()?;
    txn.commit().await?;
    claimed.sort_by_key(|d| (d.seq, d.created_at));
    Ok(claimed)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
struct Outcome {
    started_at: DateTime<Utc>,
    duration: StdDuration,
    status: Option<u16>,
    error: Option<String>,
    excerpt: Option<String>,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Delivers everything due, batch after batch (at most [`MAX_BATCHES`]).
pub async fn run(
    db: &DatabaseConnection,
    worker: &Worker,
    clock: &dyn Clock,
) -> Result<Report, ApiError> {
    let mut report = Report::default();
    for _ in 0..MAX_BATCHES {
        let batch = claim(db, worker, clock.now()).await?;
        if batch.is_empty() {
            break;
        }
        let claimed_at = Instant::now();
        let allow = settings::webhooks(db).await?.allow_private_targets;
        let ids: Vec<Uuid> = batch.iter().map(|d| d.endpoint_id).collect();
        let endpoints = WebhookEndpoint::find()
            .filter(endpoint::Column::Id.is_in(ids))
            .all(db)
            .await?;
        let results: Vec<Result<(Recorded, bool), ApiError>> = stream::iter(batch)
            .map(|d| {
                let ep = endpoints.iter().find(|e| e.id == d.endpoint_id);
                async move {
                    // Start only while the lease has room for the whole attempt.
                    if claimed_at.elapsed() + worker.timeout() * 2 >= worker.lease() {
                        return Ok((Recorded::Lost, false));
                    }
                    let outcome = match ep {
                        Some(ep) => attempt(worker, ep, &d, allow, clock).await,
                        None => return Ok((Recorded::Lost, false)),
                    };
                    record(db, worker, &d, &outcome, clock.now()).await
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for r in results {
            let (recorded, disabled) = r?;
            match recorded {
                Recorded::Delivered => report.delivered += 1,
                Recorded::Retry => report.retried += 1,
                Recorded::Failed => report.failed += 1,
                Recorded::Lost => report.lost += 1,
            }
            report.disabled += usize::from(disabled);
        }
    }
    Ok(report)
}

/// One POST of `d` to `ep`.
async fn attempt(
    worker: &Worker,
    ep: &endpoint::Model,
    d: &delivery::Model,
    allow_private: bool,
    clock: &dyn Clock,
) -> Outcome {
    let started_at = clock.now();
    let started = Instant::now();
    let fail = |error: String| Outcome {
        started_at,
        duration: started.elapsed(),
        status: None,
        error: Some(error),
        excerpt: None,
    };
    let url = match ssrf::parse(&ep.url) {
        Ok(url) => url,
        Err(e) => return fail(format!("refused: {e}")),
    };
    let target =
        match tokio::time::timeout(worker.timeout(), ssrf::resolve(&url, allow_private)).await {
            Ok(Ok(target)) => target,
            Ok(Err(e)) => return fail(format!("refused: {e}")),
            Err(_) => return fail("timed out resolving the host".to_owned()),
        };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(worker.timeout())
        .connect_timeout(worker.timeout())
        .no_proxy()
        .user_agent(concat!("Helpdesk-Webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(domain) = &target.domain {
        // Connect to the address just checked, whatever DNS says next.
        builder = builder.resolve(domain, target.addr);
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot build the HTTP client: {e}")),
    };
    let t = Utc::now().timestamp();
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Helpdesk-Event", &d.event_type)
        .header("Helpdesk-Delivery", d.id.to_string())
        .header(
            "Helpdesk-Signature",
            sign::header(&ep.secret, t, d.body.as_bytes()),
        )
        .body(d.body.clone())
        .send()
        .await;
    match sent {
        Err(e) => fail(describe(&e)),
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let mut buf: Vec<u8> = Vec::new();
            while buf.len() < EXCERPT_BYTES {
                match resp.chunk().await {
                    Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            Outcome {
                started_at,
                duration: started.elapsed(),
                status: Some(status),
                error: (!(200..300).contains(&status)).then(|| format!("HTTP {status}")),
                excerpt: excerpt(&buf),
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut msg = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg.chars().take(500).collect()
}

/// At most [`EXCERPT_BYTES`] of a body, as text.
fn excerpt(buf: &[u8]) -> Option<String> {
    if buf.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&buf[..buf.len().min(EXCERPT_BYTES)]);
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

/// What became of a claimed row.
enum Recorded {
    Delivered,
    Retry,
    Failed,
    Lost,
}

/// Records an attempt's outcome if `worker` still holds the row's lease; updates the
/// endpoint's failure record and switches it off when it has failed for too long (then the
/// second value is true).
async fn record(
    db: &DatabaseConnection,
    worker: &Worker,
    d: &delivery::Model,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<(Recorded, bool), ApiError> {
    let s = &worker.settings;
    let (status, next, result) = if outcome.ok() {
        (DeliveryStatus::Delivered, now, Recorded::Delivered)
    } else if d.attempts >= i32::try_from(s.max_attempts).unwrap_or(i32::MAX) {
        (DeliveryStatus::Failed, now, Recorded::Failed)
    } else {
        (
            DeliveryStatus::Pending,
            now + backoff(s, d.attempts),
            Recorded::Retry,
        )
    };
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    let status_code = outcome.status.map(i32::from);
    let delivered_at = outcome.ok().then_some(now);
    let updated = txn
        .execute_raw(stmt(
            backend,
            "UPDATE webhook_deliveries SET status = $1, locked_by = NULL, locked_until = NULL, \
               next_attempt_at = $2, last_status_code = $3, last_error = $4, delivered_at = $5 \
             WHERE id = $6 AND locked_by = $7 AND status = 'delivering'",
            vec![
                status.as_str().into(),
                next.into(),
                status_code.into(),
                outcome.error.clone().into(),
                delivered_at.into(),
                d.id.into(),
                worker.id.clone().into(),
            ],
        ))
        .await?;
    if updated.rows_affected() == 0 {
        // The lease passed to another worker meanwhile.
        return Ok((Recorded::Lost, false));
    }
    let number = WebhookAttempt::find()
        .filter(attempt::Column::DeliveryId.eq(d.id))
        .count(&txn)
        .await?;
    attempt::ActiveModel {
        id: Set(Uuid::new_v4()),
        delivery_id: Set(d.id),
        number: Set(i32::try_from(number + 1).unwrap_or(i32::MAX)),
        started_at: Set(outcome.started_at),
        duration_ms: Set(i32::try_from(outcome.duration.as_millis()).unwrap_or(i32::MAX)),
        status_code: Set(status_code),
        error: Set(outcome.error.clone()),
        response_excerpt: Set(outcome.excerpt.clone()),
    }
    .insert(&txn)
    .await?;
    let mut disabled = false;
    if outcome.ok() {
        txn.execute_raw(stmt(
            backend,
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1",
            vec![d.endpoint_id.into()],
        ))
        .await?;
    } else {
        txn.execute_raw(stmt(
            backend,
            "UPDATE webhook_endpoints SET failing_since = $1 \
             WHERE id = $2 AND failing_since IS NULL",
            vec![outcome.started_at.into(), d.endpoint_id.into()],
        ))
        .await?;
        if let Some(ep) = WebhookEndpoint::find_by_id(d.endpoint_id).one(&txn).await?
            && ep.enabled
            && let Some(since) = ep.failing_since
            && now - since >= Duration::seconds(i64::try_from(s.disable_after_secs).unwrap_or(0))
        {
            disable(&txn, ep, now).await?;
            disabled = true;
        }
    }
    txn.commit().await?;
    Ok((result, disabled))
}

async fn disable<C: ConnectionTrait>(
    txn: &C,
    ep: endpoint::Model,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let since = ep.failing_since.unwrap_or(now);
    let reason = format!(
        "every delivery attempt failed from {} to {}; switched off automatically",
        since.format("%Y-%m-%d %H:%M:%S UTC"),
        now.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    log::warn!("webhook {} ({}) disabled: {reason}", ep.id, ep.url);
    let (id, url) = (ep.id, ep.url.clone());
    let mut active: endpoint::ActiveModel = ep.into();
    active.enabled = Set(false);
    active.disabled_at = Set(Some(now));
    active.disabled_reason = Set(Some(reason.clone()));
    active.updated_at = Set(now);
    active.update(txn).await?;
    events::emit(
        txn,
        &Event::WebhookDisabled {
            webhook_id: id,
            url,
            reason,
        },
        vec![shared::ws::rooms::ADMINS.to_owned()],
        true,
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let s = WebhookSettings::DEFAULT;
        for (attempts, base) in [(1, 30_000), (2, 60_000), (3, 120_000), (8, 3_600_000)] {
            let d = backoff(&s, attempts).num_milliseconds();
            assert!(d >= base && d <= base + base / 5, "{attempts}: {d}");
        }
        let d = backoff(&s, 1000).num_milliseconds();
        assert!((3_600_000..=4_320_000).contains(&d), "{d}");
    }

    #[test]
    fn excerpts_stop_at_a_kilobyte_on_a_char_boundary() {
        let long = "é".repeat(1000);
        let e = excerpt(long.as_bytes()).unwrap_or_default();
        assert!(e.len() <= EXCERPT_BYTES && e.chars().all(|c| c == 'é' || c == '\u{fffd}'));
        assert_eq!(excerpt(b""), None);
    }
}
