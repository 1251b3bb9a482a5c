//! Delivery: the transport (SMTP, or `.eml` files for demos) and one run of the worker, which
//! claims due mail a batch at a time, sends it over one reused SMTP connection
//! ([`super::smtp`]) and records the outcomes of a batch in one transaction.
//!
//! Outcomes: a 2xx marks the row `sent` (only if this worker still holds its lease); a
//! permanent 5xx marks it `failed` with the SMTP reply; a 4xx, an I/O error or a timeout
//! schedules another attempt with exponential backoff and jitter, until `MAIL_MAX_ATTEMPTS`.
//!
//! Outcomes are recorded at the end of each batch and at least every [`FLUSH_EVERY`], so a
//! worker that dies mid-batch leaves at most that much sent-but-unrecorded mail, which is
//! sent again after its lease (with the same Message-ID, so clients can tell). A mail is
//! only sent while its lease has at least two SMTP timeouts left, so its outcome is always
//! recorded before another worker may claim it.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor, message::Mailbox};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    config::{MailSettings, MailTransportKind},
    error::ApiError,
    services::mail::{message, outbox, smtp},
};

/// Longest an SMTP command may take.
const SMTP_TIMEOUT: StdDuration = StdDuration::from_secs(30);
/// [`outbox::LEASE`] as a std duration.
const LEASE_STD: StdDuration = StdDuration::from_secs(outbox::LEASE.num_seconds() as u64);

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    Smtp(smtp::Target),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// What a send attempt came to.
enum Outcome {
    Sent(String),
    Permanent {
        error: String,
        reply: Option<String>,
    },
    Temporary {
        error: String,
        reply: Option<String>,
    },
}

impl Transport {
    /// Builds the transport `settings` ask for (no connection is opened yet).
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(match settings.transport {
            MailTransportKind::Smtp => Transport::Smtp(
                smtp::Target::parse(&settings.smtp_url, SMTP_TIMEOUT)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?,
            ),
            MailTransportKind::File => {
                std::fs::create_dir_all(&settings.file_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create MAIL_FILE_DIR {}: {e}",
                        settings.file_dir.display()
                    )
                })?;
                Transport::File(AsyncFileTransport::new(&settings.file_dir))
            }
        })
    }
}

/// A run's connection: the SMTP session, or the file transport.
enum Link<'a> {
    Smtp(Box<smtp::Session>),
    File(&'a AsyncFileTransport<Tokio1Executor>),
}

impl Link<'_> {
    fn open(transport: &Transport) -> Link<'_> {
        match transport {
            Transport::Smtp(target) => Link::Smtp(Box::new(smtp::Session::new(target.clone()))),
            Transport::File(file) => Link::File(file),
        }
    }

    async fn send(&mut self, msg: lettre::Message) -> Outcome {
        match self {
            Link::Smtp(session) => match session.send(msg.envelope(), &msg.formatted()).await {
                Ok(response) => {
                    let text: Vec<&str> = response.message().collect();
                    Outcome::Sent(format!("{} {}", response.code(), text.join(" ")))
                }
                Err(smtp::SendError::Smtp(e)) => {
                    let reply = e.status().map(|code| format!("{code} {e}"));
                    if e.is_permanent() {
                        Outcome::Permanent {
                            error: e.to_string(),
                            reply,
                        }
                    } else {
                        Outcome::Temporary {
                            error: e.to_string(),
                            reply,
                        }
                    }
                }
                Err(e @ smtp::SendError::Connection(_)) => Outcome::Temporary {
                    error: e.to_string(),
                    reply: None,
                },
            },
            Link::File(file) => match file.send(msg).await {
                Ok(id) => Outcome::Sent(format!("written as {id}.eml")),
                Err(e) => Outcome::Temporary {
                    error: e.to_string(),
                    reply: None,
                },
            },
        }
    }

    async fn close(self) {
        if let Link::Smtp(mut session) = self {
            session.close().await;
        }
    }
}

/// One delivery worker: its transport, sender and identity (for leases).
#[derive(Clone)]
pub struct Worker {
    /// Unique per process and worker, stored in `locked_by`.
    pub id: String,
    transport: Transport,
    from: Mailbox,
    max_attempts: u32,
}

impl Worker {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?;
        let host = hostname();
        Ok(Self {
            id: format!("{host}:{}:{}", std::process::id(), Uuid::new_v4().simple()),
            transport: Transport::from_settings(settings)?,
            from,
            max_attempts: settings.max_attempts,
        })
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "helpdesk".to_owned())
        .chars()
        .take(48)
        .collect()
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub failed: usize,
    pub retried: usize,
    /// Rows left unfinished: the lease could run out before the send, or had already
    /// passed to another worker when the outcome was recorded.
    pub lost: usize,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        *self == Report::default()
    }
}

/// Delay before attempt `attempts + 1`: 1, 2, 4, … minutes, at most an hour, plus up to 20%
/// jitter so retries of many mails spread out.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 7) - 1;
    let base = (60i64 << exp).min(3600);
    let jitter = (Uuid::new_v4().as_u128() % (base as u128 / 5 + 1)) as i64;
    Duration::seconds(base + jitter)
}

/// Longest a sent mail waits for its outcome to be recorded.
pub const FLUSH_EVERY: StdDuration = StdDuration::from_secs(1);

/// Sends every due mail, batch after batch, until none is left, over one connection.
pub async fn run(
    db: &DatabaseConnection,
    worker: &Worker,
    now: DateTime<Utc>,
) -> Result<Report, ApiError> {
    let mut link = Link::open(&worker.transport);
    let result = batches(db, worker, now, &mut link).await;
    link.close().await;
    result
}

async fn batches(
    db: &DatabaseConnection,
    worker: &Worker,
    start: DateTime<Utc>,
    link: &mut Link<'_>,
) -> Result<Report, ApiError> {
    let mut report = Report::default();
    let started = std::time::Instant::now();
    loop {
        // The clock moves on during a long run: each batch's lease (and a retry's next
        // attempt) counts from when it is claimed, not from when the run began, or a run longer
        // than the lease would claim rows whose lease has already run out for other workers.
        let now = start + Duration::from_std(started.elapsed()).unwrap_or_default();
        let batch = outbox::claim(db, &worker.id, now).await?;
        let claimed_at = std::time::Instant::now();
        if batch.is_empty() {
            return Ok(report);
        }
        let mut pending: Vec<outbox::Attempt> = Vec::with_capacity(batch.len());
        let mut oldest = std::time::Instant::now();
        for row in batch {
            // A slow server can eat the lease. A row whose lease could run out during its
            // send is left alone: after the lease it is claimed again (by any worker), and
            // sending it here as well could deliver it twice.
            if claimed_at.elapsed() + 2 * SMTP_TIMEOUT >= LEASE_STD {
                report.lost += 1;
                continue;
            }
            let outcome = match message::build(&row, &worker.from) {
                Ok(msg) => link.send(msg).await,
                Err(e) => Outcome::Permanent {
                    error: e.to_string(),
                    reply: None,
                },
            };
            let end = match outcome {
                Outcome::Sent(reply) => {
                    report.sent += 1;
                    outbox::End::Sent {
                        reply,
                        at: Utc::now(),
                    }
                }
                Outcome::Permanent { error, reply } => {
                    log::warn!("mail {} to {} refused: {error}", row.id, row.recipient);
                    report.failed += 1;
                    outbox::End::Failed { error, reply }
                }
                Outcome::Temporary { error, reply } => {
                    if row.attempts >= worker.max_attempts as i32 {
                        log::warn!(
                            "mail {} to {} failed after {} attempts: {error}",
                            row.id,
                            row.recipient,
                            row.attempts
                        );
                        report.failed += 1;
                        outbox::End::Failed { error, reply }
                    } else {
                        report.retried += 1;
                        outbox::End::Retry {
                            error,
                            reply,
                            at: now + backoff(row.attempts),
                        }
                    }
                }
            };
            if pending.is_empty() {
                oldest = std::time::Instant::now();
            }
            pending.push(outbox::Attempt { id: row.id, end });
            if oldest.elapsed() >= FLUSH_EVERY {
                flush(db, worker, &mut pending, &mut report).await?;
            }
        }
        flush(db, worker, &mut pending, &mut report).await?;
    }
}

/// Records `pending` and counts the rows whose lease was lost meanwhile.
async fn flush(
    db: &DatabaseConnection,
    worker: &Worker,
    pending: &mut Vec<outbox::Attempt>,
    report: &mut Report,
) -> Result<(), ApiError> {
    if pending.is_empty() {
        return Ok(());
    }
    let recorded = outbox::record(db, &worker.id, pending).await?;
    let lost = pending.len().saturating_sub(recorded);
    if lost > 0 {
        report.lost += lost;
        log::warn!("{lost} mails: lease lost before their outcome was recorded");
    }
    pending.clear();
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_transport_writes_eml_files() {
        let dir = std::env::temp_dir().join(format!("helpdesk-mail-{}", Uuid::new_v4().simple()));
        let settings = MailSettings {
            enabled: true,
            transport: MailTransportKind::File,
            smtp_url: "smtp://127.0.0.1:25".into(),
            file_dir: dir.clone(),
            from: "Helpdesk <helpdesk@localhost>".into(),
            message_id_domain: "localhost".into(),
            secret: "s".into(),
            reply_address: None,
            max_attempts: 3,
            inbound: Default::default(),
        };
        let transport = Transport::from_settings(&settings).unwrap();
        let mut link = Link::open(&transport);
        let msg = lettre::Message::builder()
            .from(settings.from.parse().unwrap())
            .to("eve@example.com".parse().unwrap())
            .subject("[#1] hi")
            .body("hello".to_owned())
            .unwrap();
        let Outcome::Sent(reply) = link.send(msg).await else {
            panic!("the file transport failed");
        };
        assert!(reply.ends_with(".eml"), "{reply}");
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for (attempts, base) in [(1, 60), (2, 120), (3, 240), (7, 3600), (50, 3600)] {
            let d = backoff(attempts).num_seconds();
            assert!(d >= base && d <= base + base / 5, "{attempts}: {d}");
        }
    }
}
