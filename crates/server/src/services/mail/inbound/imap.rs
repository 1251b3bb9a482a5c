//! The IMAP poller: reads one mailbox (`MAIL_IMAP_URL`) and hands every new mail to
//! [`super::ingest`].
//!
//! - UID-based: per mailbox, `(uidvalidity, last_uid)` is stored in `mail_mailboxes`; each
//!   round fetches `UID last_uid+1:*` with `BODY.PEEK[]` (never "unseen only": a mail someone
//!   read in their client is still imported). A new UIDVALIDITY starts over from UID 1; the
//!   dedupe key makes that harmless.
//! - Order after each mail: ingest (commit) → `MAIL_IMAP_AFTER` (`\Seen`, move, or delete) →
//!   `last_uid`. A crash anywhere in between fetches the mail again, which the ingest skips
//!   as a duplicate and then flags: no mail is lost, none is imported twice.
//! - A mail over `MAIL_MAX_BYTES` is recorded as rejected from its headers and left in the
//!   mailbox untouched.
//! - Waiting: IDLE when the server offers it (and `MAIL_IMAP_IDLE` is on), with
//!   `MAIL_IMAP_POLL_SECS` as its timeout; otherwise a plain poll every `MAIL_IMAP_POLL_SECS`.
//! - One poller per mailbox across instances: a lease row (`locked_by`, `locked_until`),
//!   renewed every round; another instance takes over only after it lapses.
//!
//! Test hook (debug builds only, compiled out of release builds): with
//! `HELPDESK_TEST_ABORT_AFTER_INGEST=N` in the environment the process aborts right after
//! the N-th ingest commit of the poller, before that mail is flagged or moved and before the
//! position is saved: a real crash at the worst moment, for the black-box test that
//! restarts the binary and checks nothing is imported twice (tests/api/imap.rs).

use std::{sync::Arc, time::Duration as StdDuration};

use async_imap::{Client, Session};
use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, sea_query::Expr,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::watch,
};

use super::{Inbox, Source, Temporary};
use crate::{
    config::{ImapAfter, ImapSettings},
    entity::{MailMailbox, mail_mailbox},
    error::ApiError,
};

/// Longest a network step (connect, login, one command) may take.
const STEP_TIMEOUT: StdDuration = StdDuration::from_secs(60);
/// Mails fetched per round (the rest come in the next round, right away).
const BATCH: u32 = 50;

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("IMAP connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("IMAP server did not answer in time")]
    Timeout,
    #[error("IMAP login refused: {0}")]
    Login(String),
    #[error("database: {0}")]
    Db(#[from] ApiError),
    #[error("{0}")]
    Temporary(#[from] Temporary),
    #[error("the mailbox lease was taken over by another instance")]
    LeaseLost,
    #[error("IMAP server sent no greeting")]
    NoGreeting,
}

async fn step<T, E: Into<PollError>>(
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, PollError> {
    match tokio::time::timeout(STEP_TIMEOUT, fut).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(PollError::Timeout),
    }
}

/// How long a lease lasts: a round is at most one poll interval plus a fetch.
fn lease_for(imap: &ImapSettings) -> Duration {
    Duration::seconds(imap.poll_secs as i64 + 120)
}

/// Takes or renews the lease on `imap`'s mailbox for `worker`; true if `worker` holds it.
pub async fn acquire_lease(
    db: &DatabaseConnection,
    imap: &ImapSettings,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let key = imap.key();
    let row = mail_mailbox::ActiveModel {
        name: Set(key.clone()),
        uidvalidity: Set(0),
        last_uid: Set(0),
        locked_by: Set(None),
        locked_until: Set(None),
        updated_at: Set(now),
    };
    MailMailbox::insert(row)
        .on_conflict_do_nothing_on([mail_mailbox::Column::Name])
        .exec_without_returning(db)
        .await?;
    let taken = MailMailbox::update_many()
        .col_expr(mail_mailbox::Column::LockedBy, Expr::value(worker))
        .col_expr(
            mail_mailbox::Column::LockedUntil,
            Expr::value(now + lease_for(imap)),
        )
        .filter(mail_mailbox::Column::Name.eq(key))
        .filter(
            Condition::any()
                .add(mail_mailbox::Column::LockedBy.is_null())
                .add(mail_mailbox::Column::LockedBy.eq(worker))
                .add(mail_mailbox::Column::LockedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives the lease up (on a clean stop), so another instance can take over at once.
pub async fn release_lease(
    db: &DatabaseConnection,
    imap: &ImapSettings,
    worker: &str,
) -> Result<(), ApiError> {
    MailMailbox::update_many()
        .col_expr(
            mail_mailbox::Column::LockedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            mail_mailbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(mail_mailbox::Column::Name.eq(imap.key()))
        .filter(mail_mailbox::Column::LockedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(())
}

async fn position<C: ConnectionTrait>(
    db: &C,
    imap: &ImapSettings,
) -> Result<mail_mailbox::Model, ApiError> {
    MailMailbox::find_by_id(imap.key())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("mailbox"))
}

async fn set_position(
    db: &DatabaseConnection,
    imap: &ImapSettings,
    worker: &str,
    uidvalidity: i64,
    last_uid: i64,
) -> Result<(), PollError> {
    let done = MailMailbox::update_many()
        .col_expr(mail_mailbox::Column::Uidvalidity, Expr::value(uidvalidity))
        .col_expr(mail_mailbox::Column::LastUid, Expr::value(last_uid))
        .col_expr(mail_mailbox::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(mail_mailbox::Column::Name.eq(imap.key()))
        .filter(mail_mailbox::Column::LockedBy.eq(worker))
        .exec(db)
        .await
        .map_err(ApiError::from)?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(PollError::LeaseLost)
    }
}

/// Runs the poller until `stop` turns true: one session after another, with a growing pause
/// after failures (1 s doubling to the poll interval).
///
/// `imported` is called after each mail that changed something (to wake the realtime hub and
/// the mail worker).
pub async fn run(
    inbox: Inbox,
    imap: Arc<ImapSettings>,
    worker: String,
    mut stop: watch::Receiver<bool>,
    imported: Box<dyn Fn()>,
) {
    let mut backoff = StdDuration::from_secs(1);
    let poll = StdDuration::from_secs(imap.poll_secs);
    while !*stop.borrow() {
        let wait = match acquire_lease(&inbox.db, &imap, &worker, Utc::now()).await {
            Ok(true) => match session(&inbox, &imap, &worker, &mut stop, &*imported).await {
                Ok(()) => {
                    backoff = StdDuration::from_secs(1);
                    StdDuration::ZERO
                }
                Err(e) => {
                    log::warn!("IMAP poller for {}: {e}", imap.key());
                    let wait = backoff;
                    backoff = (backoff * 2).min(poll.max(StdDuration::from_secs(1)));
                    wait
                }
            },
            // Another instance polls this mailbox; look again when its lease could lapse.
            Ok(false) => poll,
            Err(e) => {
                log::warn!("IMAP poller for {}: lease: {e}", imap.key());
                poll
            }
        };
        if wait > StdDuration::ZERO {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
    if let Err(e) = release_lease(&inbox.db, &imap, &worker).await {
        log::warn!("IMAP poller for {}: releasing the lease: {e}", imap.key());
    }
}

/// One connection: log in, then rounds of fetch + wait until stopped or an error.
async fn session(
    inbox: &Inbox,
    imap: &ImapSettings,
    worker: &str,
    stop: &mut watch::Receiver<bool>,
    imported: &dyn Fn(),
) -> Result<(), PollError> {
    let tcp = step(TcpStream::connect((imap.host.as_str(), imap.port))).await?;
    if imap.tls {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| PollError::Login(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(imap.host.clone())
            .map_err(|e| PollError::Login(format!("TLS server name: {e}")))?;
        let tls =
            step(tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp)).await?;
        logged_in(inbox, imap, worker, stop, imported, Client::new(tls)).await
    } else {
        logged_in(inbox, imap, worker, stop, imported, Client::new(tcp)).await
    }
}

async fn logged_in<T>(
    inbox: &Inbox,
    imap: &ImapSettings,
    worker: &str,
    stop: &mut watch::Receiver<bool>,
    imported: &dyn Fn(),
    mut client: Client<T>,
) -> Result<(), PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    step(async { client.read_response().await.map_err(PollError::from) })
        .await?
        .ok_or(PollError::NoGreeting)?;
    let mut session = step(async {
        client
            .login(&imap.user, &imap.password)
            .await
            .map_err(|(e, _)| PollError::Login(e.to_string()))
    })
    .await?;
    let idle = imap.idle && step(session.capabilities()).await?.has_str("IDLE");
    if let ImapAfter::Move(folder) = &imap.after {
        // Create the target folder if it is missing (an error means it exists).
        let _ = step(session.create(folder)).await;
    }
    rounds(inbox, imap, worker, stop, imported, session, idle).await
}

async fn rounds<T>(
    inbox: &Inbox,
    imap: &ImapSettings,
    worker: &str,
    stop: &mut watch::Receiver<bool>,
    imported: &dyn Fn(),
    mut session: Session<T>,
    idle: bool,
) -> Result<(), PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    loop {
        if *stop.borrow() {
            let _ = tokio::time::timeout(StdDuration::from_secs(5), session.logout()).await;
            return Ok(());
        }
        if !acquire_lease(&inbox.db, imap, worker, Utc::now()).await? {
            return Err(PollError::LeaseLost);
        }
        let mailbox = step(session.select(&imap.folder)).await?;
        let uidvalidity = i64::from(mailbox.uid_validity.unwrap_or(0));
        let mut pos = position(&inbox.db, imap).await?;
        if pos.uidvalidity != uidvalidity {
            if pos.uidvalidity != 0 {
                log::warn!(
                    "IMAP {}: UIDVALIDITY changed ({} -> {uidvalidity}); reading the mailbox again",
                    imap.key(),
                    pos.uidvalidity
                );
            }
            set_position(&inbox.db, imap, worker, uidvalidity, 0).await?;
            pos.last_uid = 0;
        }
        let fetched =
            fetch_new(inbox, imap, worker, &mut session, uidvalidity, pos.last_uid).await?;
        if fetched > 0 {
            imported();
        }
        if fetched >= BATCH as usize {
            continue;
        }
        session = wait(imap, stop, session, idle).await?;
    }
}

/// Imports the mails after `last_uid`; returns how many it looked at.
async fn fetch_new<T>(
    inbox: &Inbox,
    imap: &ImapSettings,
    worker: &str,
    session: &mut Session<T>,
    uidvalidity: i64,
    last_uid: i64,
) -> Result<usize, PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let first = u32::try_from(last_uid + 1).unwrap_or(u32::MAX);
    // Sizes first, so an oversized mail is never downloaded.
    let mut sizes: Vec<(u32, u32)> = step(async {
        session
            .uid_fetch(format!("{first}:*"), "(UID RFC822.SIZE)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?
    .into_iter()
    .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
    // `n:*` also answers with the last mail when every UID is below n.
    .filter(|(uid, _)| i64::from(*uid) > last_uid)
    .collect();
    sizes.sort_unstable();
    sizes.truncate(BATCH as usize);
    let max = inbox.settings.mail.inbound.max_bytes;
    for (uid, size) in &sizes {
        let (uid, size) = (*uid, *size as usize);
        if size > max {
            let headers = fetch_one(session, uid, "BODY.PEEK[HEADER]").await?;
            super::record_oversize(inbox, &headers, size, Source::Imap).await?;
            // Left in the mailbox as it is, for a person to look at.
        } else {
            let raw = fetch_one(session, uid, "BODY.PEEK[]").await?;
            let outcome = super::ingest(inbox, &raw, Source::Imap).await?;
            #[cfg(debug_assertions)]
            crash_hook::after_ingest_commit();
            log::info!(
                "IMAP {} uid {uid}: {}{}",
                imap.key(),
                outcome.status,
                if outcome.duplicate {
                    " (duplicate)"
                } else {
                    ""
                }
            );
            after(imap, session, uid).await?;
        }
        set_position(&inbox.db, imap, worker, uidvalidity, i64::from(uid)).await?;
    }
    Ok(sizes.len())
}

async fn fetch_one<T>(session: &mut Session<T>, uid: u32, what: &str) -> Result<Vec<u8>, PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let fetches = step(async {
        session
            .uid_fetch(uid.to_string(), format!("(UID {what})"))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    Ok(fetches
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.body())
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// The debug-only crash point described in the module doc.
#[cfg(debug_assertions)]
mod crash_hook {
    use std::sync::atomic::{AtomicU64, Ordering};

    static COMMITS: AtomicU64 = AtomicU64::new(0);

    pub fn after_ingest_commit() {
        let n = COMMITS.fetch_add(1, Ordering::SeqCst) + 1;
        let abort_at = std::env::var("HELPDESK_TEST_ABORT_AFTER_INGEST")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok());
        if abort_at == Some(n) {
            log::error!("HELPDESK_TEST_ABORT_AFTER_INGEST={n}: aborting after the ingest commit");
            std::process::abort();
        }
    }
}

/// `MAIL_IMAP_AFTER` for one imported mail.
async fn after<T>(imap: &ImapSettings, session: &mut Session<T>, uid: u32) -> Result<(), PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let uid = uid.to_string();
    match &imap.after {
        ImapAfter::Seen => {
            step(async {
                session
                    .uid_store(&uid, "+FLAGS.SILENT (\\Seen)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        }
        ImapAfter::Move(folder) => {
            step(session.uid_mv(&uid, folder)).await?;
        }
        ImapAfter::Delete => {
            step(async {
                session
                    .uid_store(&uid, "+FLAGS.SILENT (\\Deleted)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
            step(async {
                session
                    .uid_expunge(&uid)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        }
    }
    Ok(())
}

/// Waits for new mail: IDLE (until the server reports a change, the poll interval passes or
/// `stop`), or a plain sleep. IDLE takes the session and gives it back.
async fn wait<T>(
    imap: &ImapSettings,
    stop: &mut watch::Receiver<bool>,
    session: Session<T>,
    idle: bool,
) -> Result<Session<T>, PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let poll = StdDuration::from_secs(imap.poll_secs);
    if !idle {
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
        return Ok(session);
    }
    let mut handle = session.idle();
    step(handle.init()).await?;
    let result = {
        let (fut, interrupt) = handle.wait_with_timeout(poll);
        let r = tokio::select! {
            r = fut => r.map(|_| ()).map_err(PollError::from),
            _ = stop.changed() => Ok(()),
        };
        drop(interrupt);
        r
    };
    let session = step(handle.done()).await?;
    result.map(|()| session)
}
