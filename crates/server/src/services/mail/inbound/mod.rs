//! Inbound email: one [`ingest`] for every feed (the IMAP poller, `POST /api/inbound/email`,
//! `helpdesk mail-ingest`), and the admin's list and reprocess.
//!
//! - [`parse`]: bytes to a [`parse::Parsed`] mail; [`classify`]: person, auto-reply, bounce or
//!   our own mail; [`thread`]: which ticket; [`quotes`]: the new text and safe HTML;
//!   [`imap`]: the poller.
//!
//! Exactly once: the raw mail is stored in `mail_inbound` under a unique dedupe key
//! (Message-ID, else the SHA-256 of the raw bytes) in the same transaction as the ticket,
//! message, attachments, events and outbox rows it causes. A mail received again finds its
//! key taken and is skipped, whichever feed brings it and however often. A mail that cannot
//! be processed is stored as `quarantined` with its raw copy and the reason, and never holds
//! up the mails after it. Only a database that cannot be reached is a temporary failure
//! (nothing stored; the feed tries again later).

pub mod classify;
pub mod imap;
pub mod parse;
pub mod quotes;
pub mod thread;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};
use shared::{
    ErrorCode, Paging, Priority, Role,
    mail::{EmailOriginDto, InboundEntryDto, InboundStatus, IngestOutcome},
};
use uuid::Uuid;

use self::{
    classify::{Class, Ours},
    parse::Parsed,
    thread::{Audience, Keys},
};
use crate::{
    auth::AuthUser,
    config::{InboundPolicy, Settings},
    entity::{MailInbound, MailOutbox, User, attachment, mail_inbound, mail_outbox, ticket, user},
    error::ApiError,
    services::{
        access, attachments, begin_write,
        mail::{Mailer, Signer, notify::record_message_id},
        messages::{self, BODY_MAX_CHARS, NewMessage},
        tickets::{self, DESCRIPTION_MAX_CHARS, NewTicket, SUBJECT_MAX_CHARS},
    },
};

/// Which feed brought a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Imap,
    Http,
    Cli,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Imap => "imap",
            Source::Http => "http",
            Source::Cli => "cli",
        }
    }
}

/// A failure worth trying again later: nothing was stored.
#[derive(Debug, thiserror::Error)]
#[error("temporary failure, try again later: {0}")]
pub struct Temporary(pub String);

/// What the ingest needs: the database, the mailer (for acknowledgements and notifications),
/// the settings and the signing key. Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    pub settings: Arc<Settings>,
    pub signer: Signer,
}

impl Inbox {
    pub fn new(
        db: DatabaseConnection,
        mailer: Mailer,
        settings: Arc<Settings>,
    ) -> anyhow::Result<Self> {
        let signer = Signer::new(&settings.mail.secret)?;
        Ok(Self {
            db,
            mailer,
            settings,
            signer,
        })
    }

    fn our_address(&self) -> String {
        self.settings
            .mail
            .from
            .parse::<lettre::message::Mailbox>()
            .map(|m| m.email.to_string().to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// The key that makes a mail unique.
pub fn dedupe_key(message_id: Option<&str>, raw: &[u8]) -> String {
    let hex = |bytes: &[u8]| -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    match message_id {
        Some(id) => format!("mid:{}", hex(id.as_bytes())),
        None => format!("raw:{}", hex(raw)),
    }
}

/// What processing decided; written onto the `mail_inbound` row.
#[derive(Debug, Default)]
struct Done {
    status: Option<InboundStatus>,
    action: Option<&'static str>,
    reason: Option<String>,
    ticket_id: Option<Uuid>,
    message_row_id: Option<Uuid>,
    full_text: Option<String>,
    safe_html: Option<String>,
}

impl Done {
    fn status(status: InboundStatus, reason: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }
}

fn temporary(e: ApiError) -> Result<ApiError, Temporary> {
    match e {
        ApiError::Unavailable(m) => Err(Temporary(m)),
        other => Ok(other),
    }
}

fn outcome(row: &mail_inbound::Model, duplicate: bool) -> IngestOutcome {
    IngestOutcome {
        inbound_id: row.id,
        status: row.status.parse().unwrap_or(InboundStatus::Quarantined),
        duplicate,
        action: row.action.clone(),
        ticket_id: row.ticket_id,
        message_id: row.message_row_id,
        reason: row.reason.clone(),
    }
}

/// Imports one raw mail: stores it, and if it is new, processes it in the same transaction.
/// Returns what became of it; `Err` only when the database cannot be reached.
pub async fn ingest(inbox: &Inbox, raw: &[u8], source: Source) -> Result<IngestOutcome, Temporary> {
    let now = Utc::now();
    let max = inbox.settings.mail.inbound.max_bytes;
    if raw.len() > max {
        // Kept for the record (headers only); the feed leaves the mail where it is.
        let head_len = raw.len().min(64 * 1024);
        let key = dedupe_key(None, raw);
        return store_failure(
            inbox,
            &key,
            None,
            source,
            &raw[..head_len],
            raw.len(),
            InboundStatus::Rejected,
            format!(
                "the mail is {} bytes, more than MAIL_MAX_BYTES ({max})",
                raw.len()
            ),
            now,
        )
        .await;
    }
    let parsed = match parse::parse(raw) {
        Ok(p) => p,
        Err(e) => {
            let key = dedupe_key(None, raw);
            return store_failure(
                inbox,
                &key,
                None,
                source,
                raw,
                raw.len(),
                InboundStatus::Quarantined,
                e.to_string(),
                now,
            )
            .await;
        }
    };
    let key = dedupe_key(parsed.message_id.as_deref(), raw);

    let txn = begin_write(&inbox.db)
        .await
        .map_err(|e| Temporary(e.to_string()))?;
    let id = Uuid::new_v4();
    let row = mail_inbound::ActiveModel {
        id: Set(id),
        dedupe_key: Set(key.clone()),
        message_id: Set(parsed.message_id.clone()),
        source: Set(source.as_str().to_owned()),
        sender: Set(Some(parsed.from.clone())),
        subject: Set(Some(parsed.subject.clone())),
        raw: Set(raw.to_vec()),
        raw_size: Set(raw.len() as i64),
        status: Set(InboundStatus::Quarantined.as_str().to_owned()),
        action: Set(None),
        reason: Set(Some("processing".to_owned())),
        ticket_id: Set(None),
        message_row_id: Set(None),
        full_text: Set(None),
        safe_html: Set(None),
        attempts: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = MailInbound::insert(row)
        .on_conflict_do_nothing_on([mail_inbound::Column::DedupeKey])
        .exec_without_returning(&txn)
        .await
        .map_err(|e| Temporary(e.to_string()))?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        drop(txn);
        return duplicate(inbox, &key).await;
    }
    let mut written = Vec::new();
    match process(inbox, &txn, &parsed, id, now, &mut written).await {
        Ok(done) => {
            let saved = save_done(&txn, id, done, now).await;
            let committed = match saved {
                Ok(row) => txn.commit().await.map(|()| row).map_err(ApiError::from),
                Err(e) => Err(e),
            };
            match committed {
                Ok(row) => Ok(outcome(&row, false)),
                Err(e) => {
                    remove_files(&written).await;
                    let e = temporary(e)?;
                    // The commit failed for another reason (e.g. the same mail raced in
                    // through another feed): the stored row, if any, says what happened.
                    log::warn!("inbound mail {key}: {e}");
                    duplicate_or_quarantine(inbox, &key, source, raw, &parsed, e, now).await
                }
            }
        }
        Err(e) => {
            drop(txn);
            remove_files(&written).await;
            let e = temporary(e)?;
            duplicate_or_quarantine(inbox, &key, source, raw, &parsed, e, now).await
        }
    }
}

/// Records a mail too large to import, from its header section (`size` is the whole mail's).
/// The feed leaves the mail itself where it is.
pub async fn record_oversize(
    inbox: &Inbox,
    headers: &[u8],
    size: usize,
    source: Source,
) -> Result<IngestOutcome, Temporary> {
    let parsed = parse::parse(headers).ok();
    let key = dedupe_key(
        parsed.as_ref().and_then(|p| p.message_id.as_deref()),
        headers,
    );
    let max = inbox.settings.mail.inbound.max_bytes;
    store_failure(
        inbox,
        &key,
        parsed.as_ref(),
        source,
        &headers[..headers.len().min(64 * 1024)],
        size,
        InboundStatus::Rejected,
        format!("the mail is {size} bytes, more than MAIL_MAX_BYTES ({max}); left on the server"),
        Utc::now(),
    )
    .await
}

async fn duplicate_or_quarantine(
    inbox: &Inbox,
    key: &str,
    source: Source,
    raw: &[u8],
    parsed: &Parsed,
    e: ApiError,
    now: DateTime<Utc>,
) -> Result<IngestOutcome, Temporary> {
    store_failure(
        inbox,
        key,
        Some(parsed),
        source,
        raw,
        raw.len(),
        InboundStatus::Quarantined,
        describe(&e),
        now,
    )
    .await
}

/// A processing error in words for the admin (internal errors are logged in full).
fn describe(e: &ApiError) -> String {
    match e {
        ApiError::Database(_) | ApiError::Internal(_) => {
            log::error!("inbound mail could not be processed: {e:#}");
            "an internal error stopped the processing (see the server log)".to_owned()
        }
        other => other.to_string(),
    }
}

async fn duplicate(inbox: &Inbox, key: &str) -> Result<IngestOutcome, Temporary> {
    let row = MailInbound::find()
        .filter(mail_inbound::Column::DedupeKey.eq(key))
        .one(&inbox.db)
        .await
        .map_err(|e| Temporary(e.to_string()))?
        .ok_or_else(|| Temporary("the stored copy of this mail vanished".to_owned()))?;
    Ok(outcome(&row, true))
}

/// Stores a mail that will not be processed (or whose processing failed), unless a mail with
/// its key is stored already.
#[allow(clippy::too_many_arguments)]
async fn store_failure(
    inbox: &Inbox,
    key: &str,
    parsed: Option<&Parsed>,
    source: Source,
    raw: &[u8],
    size: usize,
    status: InboundStatus,
    reason: String,
    now: DateTime<Utc>,
) -> Result<IngestOutcome, Temporary> {
    let row = mail_inbound::ActiveModel {
        id: Set(Uuid::new_v4()),
        dedupe_key: Set(key.to_owned()),
        message_id: Set(parsed.and_then(|p| p.message_id.clone())),
        source: Set(source.as_str().to_owned()),
        sender: Set(parsed.map(|p| p.from.clone())),
        subject: Set(parsed.map(|p| p.subject.clone())),
        raw: Set(raw.to_vec()),
        raw_size: Set(size as i64),
        status: Set(status.as_str().to_owned()),
        action: Set(None),
        reason: Set(Some(reason)),
        ticket_id: Set(None),
        message_row_id: Set(None),
        full_text: Set(None),
        safe_html: Set(None),
        attempts: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = MailInbound::insert(row)
        .on_conflict_do_nothing_on([mail_inbound::Column::DedupeKey])
        .exec_without_returning(&inbox.db)
        .await
        .map_err(|e| Temporary(e.to_string()))?;
    let duplicate_row = !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0);
    let mut out = duplicate(inbox, key).await?;
    out.duplicate = duplicate_row;
    Ok(out)
}

async fn save_done<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    done: Done,
    now: DateTime<Utc>,
) -> Result<mail_inbound::Model, ApiError> {
    let row = MailInbound::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("inbound mail"))?;
    let mut active = row.into_active_model();
    active.status = Set(done
        .status
        .unwrap_or(InboundStatus::Processed)
        .as_str()
        .to_owned());
    active.action = Set(done.action.map(str::to_owned));
    active.reason = Set(done.reason);
    active.ticket_id = Set(done.ticket_id);
    active.message_row_id = Set(done.message_row_id);
    active.full_text = Set(done.full_text);
    active.safe_html = Set(done.safe_html);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

async fn remove_files(paths: &[PathBuf]) {
    for p in paths {
        let _ = tokio::fs::remove_file(p).await;
    }
}

/// Cuts `text` to `max` characters.
fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 40).collect();
        cut.push_str("\n\n[… cut; the full mail is kept]");
        cut
    }
}

/// The new text of the mail and its full original (text and sanitised HTML).
pub struct Bodies {
    pub new_text: String,
    pub full_text: Option<String>,
    pub safe_html: Option<String>,
}

/// Cuts quoted history and sanitises the HTML. `cid` maps Content-IDs to attachment URLs.
pub fn bodies(mail: &Parsed, cid: &HashMap<String, String>) -> Bodies {
    let html = mail.html.as_deref().map(|h| {
        let mut h = h.to_owned();
        for (id, url) in cid {
            h = h.replace(&format!("cid:{id}"), url);
        }
        h
    });
    let new_text = match (&mail.text, &html) {
        (Some(t), _) if !t.trim().is_empty() => quotes::strip_text(t),
        (_, Some(h)) => quotes::strip_text(&quotes::html_to_text(&quotes::strip_html(h))),
        _ => String::new(),
    };
    Bodies {
        new_text,
        full_text: mail.text.clone(),
        safe_html: html.as_deref().map(quotes::sanitize),
    }
}

async fn find_user<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<user::Model>, ApiError> {
    Ok(User::find()
        .filter(user::Column::Email.eq(email.to_ascii_lowercase()))
        .one(db)
        .await?)
}

/// The processing of a stored, parsed mail, in its transaction.
async fn process<C: ConnectionTrait>(
    inbox: &Inbox,
    txn: &C,
    mail: &Parsed,
    inbound_id: Uuid,
    now: DateTime<Utc>,
    written: &mut Vec<PathBuf>,
) -> Result<Done, ApiError> {
    let settings = &inbox.settings.mail;
    let from_address = inbox.our_address();
    let ours = Ours {
        message_id_domain: &settings.message_id_domain,
        from_address: &from_address,
    };
    let keys = Keys {
        signer: &inbox.signer,
        reply_pattern: settings.reply_address.as_deref(),
        message_id_domain: &settings.message_id_domain,
    };
    let sender = find_user(txn, &mail.from).await?;
    let candidates = thread::candidates(mail, &keys);
    match classify::classify(mail, &ours) {
        Class::Own(reason) => return Ok(Done::status(InboundStatus::Own, reason)),
        Class::Bounce => return bounce(txn, mail, now).await,
        Class::AutoReply(reason) => {
            let thread = thread::decide(txn, &candidates, sender.as_ref()).await?;
            let mut done = Done::status(
                InboundStatus::Autoreply,
                format!("automatic reply ({reason}): nothing done"),
            );
            done.ticket_id = thread.map(|t| t.ticket.id);
            return Ok(done);
        }
        Class::Person => {}
    }
    let thread = thread::decide(txn, &candidates, sender.as_ref()).await?;

    // A thread into a closed ticket opens a new one, as the portal asks customers to.
    let (thread, closed_note) = match thread {
        Some(t) if t.ticket.status == ticket::Status::Closed => {
            let note = format!(
                "ticket #{} is closed; a new ticket was opened",
                t.ticket.number
            );
            (None, Some(note))
        }
        other => (other, None),
    };

    match thread {
        Some(thread) => {
            let Some(author) = sender.filter(|u| thread::participant(&thread.ticket, Some(u)))
            else {
                let mut done = Done::status(
                    InboundStatus::Rejected,
                    format!(
                        "{} takes no part in ticket #{} (found by {})",
                        mail.from, thread.ticket.number, thread.via
                    ),
                );
                done.ticket_id = Some(thread.ticket.id);
                return Ok(done);
            };
            let actor = AuthUser {
                id: author.id,
                role: author.role.into(),
                user: author,
            };
            if access::visible_ticket(txn, &actor, thread.ticket.id, true)
                .await
                .is_err()
            {
                let mut done = Done::status(
                    InboundStatus::Rejected,
                    format!(
                        "{} may not work on ticket #{}",
                        mail.from, thread.ticket.number
                    ),
                );
                done.ticket_id = Some(thread.ticket.id);
                return Ok(done);
            }
            // Staff write publicly only when answering a mail the customer saw; a reply to
            // a staff notification (or found by address or tag alone) is an internal note.
            let internal = actor.role.is_staff() && thread.audience != Some(Audience::Customer);
            let (ids, cid) = store_files(inbox, txn, mail, actor.id, now, written).await?;
            let b = bodies(mail, &cid);
            let body = if b.new_text.trim().is_empty() {
                if ids.is_empty() {
                    "(empty mail)".to_owned()
                } else {
                    "(attachments)".to_owned()
                }
            } else {
                cap(&b.new_text, BODY_MAX_CHARS)
            };
            let origin = EmailOriginDto {
                inbound_id,
                from: Some(mail.from.clone()),
                original_text: b.full_text.clone(),
                safe_html: b.safe_html.clone(),
            };
            let added = messages::add(
                txn,
                &inbox.mailer,
                &actor,
                thread.ticket,
                NewMessage {
                    body: &body,
                    internal,
                    attachment_ids: &ids,
                    email: Some(origin),
                },
                now,
            )
            .await?;
            if let Some(id) = &mail.message_id {
                let audience = if actor.role.is_staff() {
                    "staff"
                } else {
                    "customer"
                };
                record_message_id(txn, id, added.ticket.id, audience, "in", now).await?;
            }
            Ok(Done {
                status: Some(InboundStatus::Processed),
                action: Some(if internal { "note" } else { "reply" }),
                reason: Some(format!("threaded by {}", thread.via)),
                ticket_id: Some(added.ticket.id),
                message_row_id: Some(added.message.id),
                full_text: b.full_text,
                safe_html: b.safe_html,
            })
        }
        None => new_ticket(inbox, txn, mail, sender, closed_note, now, written).await,
    }
}

/// A mail that threads nowhere: a new ticket from its sender, per `MAIL_INBOUND_POLICY` and
/// the hourly limit per sender.
async fn new_ticket<C: ConnectionTrait>(
    inbox: &Inbox,
    txn: &C,
    mail: &Parsed,
    sender: Option<user::Model>,
    closed_note: Option<String>,
    now: DateTime<Utc>,
    written: &mut Vec<PathBuf>,
) -> Result<Done, ApiError> {
    let settings = &inbox.settings.mail.inbound;
    let customer = match sender {
        Some(u) if u.role != user::UserRole::Customer => {
            return Ok(Done::status(
                InboundStatus::Rejected,
                "staff cannot open tickets by mail; reply to a ticket's mail instead",
            ));
        }
        Some(u) if !u.active => {
            return Ok(Done::status(
                InboundStatus::Rejected,
                "the sender's account is deactivated",
            ));
        }
        Some(u) => u,
        None if settings.policy == InboundPolicy::KnownCustomers => {
            return Ok(Done::status(
                InboundStatus::Rejected,
                "unknown sender (MAIL_INBOUND_POLICY=known accepts existing customers only)",
            ));
        }
        None => {
            let Ok(email) = shared::validate::Email::parse(&mail.from) else {
                return Ok(Done::status(
                    InboundStatus::Rejected,
                    format!("`{}` is not an address an account can have", mail.from),
                ));
            };
            let name = mail
                .from_name
                .as_deref()
                .and_then(|n| shared::validate::DisplayName::parse(n).ok())
                .map(|n| n.into_inner())
                .unwrap_or_else(|| {
                    mail.from
                        .split('@')
                        .next()
                        .unwrap_or("customer")
                        .chars()
                        .take(100)
                        .collect()
                });
            user::ActiveModel {
                id: Set(Uuid::new_v4()),
                email: Set(email.into_inner()),
                name: Set(name),
                // No password signs in to this account until one is set for it.
                password_hash: Set("!".to_owned()),
                role: Set(user::UserRole::Customer),
                active: Set(true),
                token_version: Set(0),
                last_login_at: Set(None),
                email_bouncing_at: Set(None),
                time_zone: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?
        }
    };
    let recent = MailInbound::find()
        .filter(mail_inbound::Column::Sender.eq(mail.from.clone()))
        .filter(mail_inbound::Column::Action.eq("new_ticket"))
        .filter(mail_inbound::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(txn)
        .await?;
    if recent >= u64::from(settings.new_tickets_per_hour) {
        return Ok(Done::status(
            InboundStatus::RateLimited,
            format!(
                "{} opened {recent} tickets by mail in the last hour (MAIL_NEW_TICKETS_PER_HOUR)",
                mail.from
            ),
        ));
    }
    let actor = AuthUser {
        id: customer.id,
        role: Role::Customer,
        user: customer,
    };
    let (ids, cid) = store_files(inbox, txn, mail, actor.id, now, written).await?;
    let b = bodies(mail, &cid);
    let subject: String = {
        let s: String = mail
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            "(no subject)".to_owned()
        } else {
            s.chars().take(SUBJECT_MAX_CHARS).collect()
        }
    };
    let description = if b.new_text.trim().is_empty() {
        "(empty mail)".to_owned()
    } else {
        cap(&b.new_text, DESCRIPTION_MAX_CHARS)
    };
    let (t, _) = tickets::create_in(
        txn,
        &inbox.mailer,
        &actor,
        NewTicket {
            subject,
            description,
            priority: Priority::Medium,
            category: None,
            customer_id: actor.id,
            journey: None,
            attachment_ids: ids,
            tags: Vec::new(),
        },
        now,
    )
    .await?;
    if let Some(id) = &mail.message_id {
        record_message_id(txn, id, t.id, "customer", "in", now).await?;
    }
    Ok(Done {
        status: Some(InboundStatus::Processed),
        action: Some("new_ticket"),
        reason: closed_note.or_else(|| Some("no thread: a new ticket".to_owned())),
        ticket_id: Some(t.id),
        message_row_id: None,
        full_text: b.full_text,
        safe_html: b.safe_html,
    })
}

/// Stores the mail's files as unlinked attachments of `uploader` (the caller links them).
/// Images pass the upload checks (type by magic bytes, size); other files are kept as
/// downloads (`application/octet-stream`). Returns their ids and the Content-ID → URL map
/// for inline images.
async fn store_files<C: ConnectionTrait>(
    inbox: &Inbox,
    txn: &C,
    mail: &Parsed,
    uploader: Uuid,
    now: DateTime<Utc>,
    written: &mut Vec<PathBuf>,
) -> Result<(Vec<Uuid>, HashMap<String, String>), ApiError> {
    let dir: &Path = &inbox.settings.upload_dir;
    let mut ids = Vec::new();
    let mut cid = HashMap::new();
    for file in &mail.files {
        if file.bytes.is_empty() || file.bytes.len() > attachments::MAX_FILE_BYTES {
            continue;
        }
        let (content_type, ext) = match attachments::sniff(&file.bytes) {
            Some((mime, ext)) => (mime, ext),
            // Not an image: kept, downloadable only as a file.
            None => ("application/octet-stream", "bin"),
        };
        let id = Uuid::new_v4();
        let stored_name = format!("{}.{ext}", id.simple());
        let path = dir.join(&stored_name);
        let tmp = dir.join(format!(".{}.part", id.simple()));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("upload dir: {e}")))?;
        tokio::fs::write(&tmp, &file.bytes)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing attachment: {e}")))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("storing attachment: {e}")))?;
        written.push(path);
        let fallback = if content_type.starts_with("image/") {
            "image"
        } else {
            "file"
        };
        let name = match file.name.as_deref() {
            Some(n) => attachments::sanitize_file_name(Some(n)),
            None => format!("{fallback}.{ext}"),
        };
        attachment::ActiveModel {
            id: Set(id),
            ticket_id: Set(None),
            message_id: Set(None),
            uploader_id: Set(uploader),
            original_name: Set(name),
            stored_name: Set(stored_name),
            content_type: Set(content_type.to_owned()),
            size_bytes: Set(file.bytes.len() as i64),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        if let Some(c) = &file.content_id
            && content_type.starts_with("image/")
        {
            cid.insert(c.clone(), format!("/api/attachments/{id}"));
        }
        ids.push(id);
    }
    Ok((ids, cid))
}

/// A delivery status notification: the failed recipients' addresses are marked as bouncing
/// (which stops all mail to them) and the outbox row it returns is marked.
async fn bounce<C: ConnectionTrait>(
    txn: &C,
    mail: &Parsed,
    now: DateTime<Utc>,
) -> Result<Done, ApiError> {
    let report = mail.report.clone().unwrap_or_default();
    if mail.report.is_some() && !report.failed {
        return Ok(Done::status(
            InboundStatus::Bounce,
            "a delivery report that is not a failure (delayed or delivered): nothing done",
        ));
    }
    let mut users: Vec<Uuid> = Vec::new();
    let mut ticket_id = None;
    for id in &report.original_ids {
        if let Some(row) = MailOutbox::find()
            .filter(mail_outbox::Column::MessageId.eq(id.clone()))
            .one(txn)
            .await?
        {
            ticket_id = ticket_id.or(row.ticket_id);
            if let Some(u) = row.user_id {
                users.push(u);
            }
            let mut active = row.into_active_model();
            active.last_error = Set(Some(format!("bounced: reported by {}", mail.from)));
            active.update(txn).await?;
        }
    }
    for address in &report.recipients {
        if let Some(u) = find_user(txn, address).await? {
            users.push(u.id);
        }
    }
    users.sort();
    users.dedup();
    let mut marked = Vec::new();
    for id in users {
        if let Some(u) = User::find_by_id(id).one(txn).await? {
            marked.push(u.email.clone());
            let mut active = u.into_active_model();
            active.email_bouncing_at = Set(Some(now));
            active.update(txn).await?;
        }
    }
    let mut done = Done::status(
        InboundStatus::Bounce,
        if marked.is_empty() {
            "a bounce that names none of our users".to_owned()
        } else {
            format!("marked as bouncing: {}", marked.join(", "))
        },
    );
    done.ticket_id = ticket_id;
    Ok(done)
}

/// Runs a stored mail through the processing again (admins: after fixing the cause).
pub async fn reprocess(inbox: &Inbox, id: Uuid) -> Result<IngestOutcome, ApiError> {
    let now = Utc::now();
    let txn = begin_write(&inbox.db).await?;
    let row = MailInbound::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("inbound mail"))?;
    let status: InboundStatus = row.status.parse().unwrap_or(InboundStatus::Quarantined);
    if !status.reprocessable() {
        return Err(ApiError::Conflict(
            ErrorCode::Conflict,
            format!(
                "only quarantined, rejected or rate-limited mail can be reprocessed; this one is {status}"
            ),
        ));
    }
    let attempts = row.attempts + 1;
    let raw = row.raw.clone();
    let mut written = Vec::new();
    let result = match parse::parse(&raw) {
        Err(e) => Err(ApiError::BadRequest(ErrorCode::BadRequest, e.to_string())),
        Ok(parsed) => process(inbox, &txn, &parsed, id, now, &mut written).await,
    };
    match result {
        Ok(done) => {
            save_done(&txn, id, done, now).await?;
            let mut active = MailInbound::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound("inbound mail"))?
                .into_active_model();
            active.attempts = Set(attempts);
            let row = active.update(&txn).await?;
            if let Err(e) = txn.commit().await {
                remove_files(&written).await;
                return Err(e.into());
            }
            Ok(outcome(&row, false))
        }
        Err(e) => {
            drop(txn);
            remove_files(&written).await;
            if let ApiError::Unavailable(_) = e {
                return Err(e);
            }
            let txn = inbox.db.begin().await?;
            let mut active = row.into_active_model();
            active.attempts = Set(attempts);
            active.reason = Set(Some(describe(&e)));
            active.updated_at = Set(now);
            let row = active.update(&txn).await?;
            txn.commit().await?;
            Ok(outcome(&row, false))
        }
    }
}

/// A `mail_inbound` row without its raw copy and bodies, for lists.
#[derive(Debug, FromQueryResult)]
struct InboundRow {
    id: Uuid,
    source: String,
    message_id: Option<String>,
    sender: Option<String>,
    subject: Option<String>,
    raw_size: i64,
    status: String,
    action: Option<String>,
    reason: Option<String>,
    ticket_id: Option<Uuid>,
    attempts: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Newest first, optionally of one status (the raw copies are not read).
pub async fn list(
    db: &DatabaseConnection,
    status: Option<InboundStatus>,
    paging: Paging,
) -> Result<(Vec<InboundEntryDto>, u64), ApiError> {
    use mail_inbound::Column as C;
    let mut select = MailInbound::find()
        .select_only()
        .columns([
            C::Id,
            C::Source,
            C::MessageId,
            C::Sender,
            C::Subject,
            C::RawSize,
            C::Status,
            C::Action,
            C::Reason,
            C::TicketId,
            C::Attempts,
            C::CreatedAt,
            C::UpdatedAt,
        ])
        .order_by_desc(C::CreatedAt)
        .order_by_asc(C::Id);
    if let Some(status) = status {
        select = select.filter(C::Status.eq(status.as_str()));
    }
    let count = select.clone().count(db).await?;
    let rows = select
        .offset(paging.offset())
        .limit(paging.per_page)
        .into_model::<InboundRow>()
        .all(db)
        .await?;
    Ok((rows.into_iter().map(entry).collect(), count))
}

fn entry(m: InboundRow) -> InboundEntryDto {
    InboundEntryDto {
        id: m.id,
        status: m.status.parse().unwrap_or(InboundStatus::Quarantined),
        source: m.source,
        message_id: m.message_id,
        sender: m.sender,
        subject: m.subject,
        size_bytes: m.raw_size,
        action: m.action,
        reason: m.reason,
        ticket_id: m.ticket_id,
        attempts: m.attempts,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// (inbound id, message id, sender, full text, safe HTML).
type OriginRow = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The email origin of each of `messages` that came by mail.
pub async fn origins<C: ConnectionTrait>(
    db: &C,
    messages: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, EmailOriginDto>, ApiError> {
    use mail_inbound::Column as C;
    let rows: Vec<OriginRow> = MailInbound::find()
        .select_only()
        .columns([C::Id, C::MessageRowId, C::Sender, C::FullText, C::SafeHtml])
        .filter(C::MessageRowId.is_in(messages))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, message, from, original_text, safe_html)| {
            Some((
                message?,
                EmailOriginDto {
                    inbound_id: id,
                    from,
                    original_text,
                    safe_html,
                },
            ))
        })
        .collect())
}

/// The email origin of each of `tickets` that was opened by a mail: the processed mail whose
/// action was `new_ticket` (one per ticket). One query for the whole batch.
pub async fn ticket_origins<C: ConnectionTrait>(
    db: &C,
    tickets: &[Uuid],
) -> Result<HashMap<Uuid, EmailOriginDto>, ApiError> {
    use mail_inbound::Column as C;
    if tickets.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<OriginRow> = MailInbound::find()
        .select_only()
        .columns([C::Id, C::TicketId, C::Sender, C::FullText, C::SafeHtml])
        .filter(C::TicketId.is_in(tickets.iter().copied()))
        .filter(C::Action.eq("new_ticket"))
        .filter(C::Status.eq(InboundStatus::Processed.as_str()))
        .order_by_asc(C::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = HashMap::new();
    for (id, ticket, from, original_text, safe_html) in rows {
        let Some(ticket) = ticket else { continue };
        out.entry(ticket).or_insert(EmailOriginDto {
            inbound_id: id,
            from,
            original_text,
            safe_html,
        });
    }
    Ok(out)
}

/// The fixtures in `tests/fixtures/mail/` are mails in the shape real clients send them.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fixture_tests {
    use super::{
        classify::{Class, Ours, classify},
        parse::parse,
        thread::{Candidate, Keys, candidates},
        *,
    };

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/fixtures/mail/",
                $name
            ))
        };
    }

    const OURS: Ours<'static> = Ours {
        message_id_domain: "help.test",
        from_address: "helpdesk@help.test",
    };
    const ROOT: &str = "11111111111111111111111111111111";

    fn keys(signer: &Signer) -> Keys<'_> {
        Keys {
            signer,
            reply_pattern: Some("support+{token}@help.test"),
            message_id_domain: "help.test",
        }
    }

    fn signer() -> Signer {
        Signer::new("fixture-secret").unwrap()
    }

    #[test]
    fn gmail_reply_threads_by_our_ids_and_loses_its_quote() {
        let mail = parse(fixture!("gmail_reply.eml")).unwrap();
        assert_eq!(classify(&mail, &OURS), Class::Person);
        assert_eq!(mail.from, "eve.example@gmail.com");
        assert_eq!(
            mail.message_id.as_deref(),
            Some("<CAF=xyz+abcDEF123@mail.gmail.com>")
        );
        let s = signer();
        assert_eq!(
            candidates(&mail, &keys(&s)),
            vec![
                Candidate::Own {
                    ticket_id: Uuid::try_parse(ROOT).unwrap(),
                    audience: Some(Audience::Customer),
                },
                Candidate::Own {
                    ticket_id: Uuid::try_parse(ROOT).unwrap(),
                    audience: None,
                },
                Candidate::SubjectTag(1042),
            ]
        );
        let b = bodies(&mail, &HashMap::new());
        assert_eq!(
            b.new_text,
            "Thanks, it works again after the restart.\n\nEve"
        );
        assert!(b.full_text.unwrap().contains("reply above this line"));
        let html = b.safe_html.unwrap();
        assert!(html.contains("Thanks, it works again"), "{html}");
        assert!(!quotes::strip_html(mail.html.as_deref().unwrap()).contains("gmail_quote"));
    }

    #[test]
    fn outlook_inline_image_without_disposition_is_an_inline_attachment() {
        let mail = parse(fixture!("outlook_inline.eml")).unwrap();
        assert_eq!(classify(&mail, &OURS), Class::Person);
        assert_eq!(mail.files.len(), 1, "{:?}", mail.files);
        let f = &mail.files[0];
        assert!(f.inline);
        assert_eq!(
            f.content_id.as_deref(),
            Some("image001.png@01DB4A2B.12345670")
        );
        assert_eq!(attachments::sniff(&f.bytes).map(|t| t.0), Some("image/png"));
        let mut cid = HashMap::new();
        cid.insert(
            f.content_id.clone().unwrap(),
            "/api/attachments/abc".to_owned(),
        );
        let b = bodies(&mail, &cid);
        let html = b.safe_html.unwrap();
        assert!(html.contains(r#"src="/api/attachments/abc""#), "{html}");
        assert!(!html.contains("<style"), "{html}");
        assert!(b.new_text.starts_with("Hello,"), "{}", b.new_text);
        assert!(b.new_text.ends_with("Bob"), "{}", b.new_text);
        assert!(candidates(&mail, &keys(&signer())).is_empty());
    }

    #[test]
    fn apple_mail_reply_is_cut_at_its_cite_block() {
        let mail = parse(fixture!("apple_reply.eml")).unwrap();
        assert_eq!(classify(&mail, &OURS), Class::Person);
        assert_eq!(
            candidates(&mail, &keys(&signer())).first(),
            Some(&Candidate::Own {
                ticket_id: Uuid::try_parse(ROOT).unwrap(),
                audience: None,
            })
        );
        let b = bodies(&mail, &HashMap::new());
        assert_eq!(b.new_text, "It is smoking again.");
        assert!(!quotes::strip_html(mail.html.as_deref().unwrap()).contains("type=\"cite\""));
    }

    #[test]
    fn a_dsn_is_a_bounce_naming_the_recipient_and_our_message() {
        let mail = parse(fixture!("dsn_bounce.eml")).unwrap();
        assert_eq!(classify(&mail, &OURS), Class::Bounce);
        let report = mail.report.unwrap();
        assert!(report.failed);
        assert_eq!(report.recipients, vec!["gone@nowhere.example"]);
        assert_eq!(
            report.original_ids,
            vec!["<ticket-opened.33333333333333333333333333333333@help.test>"]
        );
    }

    #[test]
    fn out_of_office_exchange_oof_and_list_mail_are_auto_replies() {
        for raw in [
            &fixture!("ooo_reply.eml")[..],
            &fixture!("exchange_oof.eml")[..],
            &fixture!("list_mail.eml")[..],
        ] {
            let mail = parse(raw).unwrap();
            assert!(
                matches!(classify(&mail, &OURS), Class::AutoReply(_)),
                "{mail:?}"
            );
        }
        // The OOO answers a signed reply address with a forged token: no candidate from it.
        let mail = parse(fixture!("ooo_reply.eml")).unwrap();
        assert!(
            !candidates(&mail, &keys(&signer()))
                .iter()
                .any(|c| matches!(c, Candidate::ReplyAddress(_)))
        );
    }

    #[test]
    fn iso_8859_1_is_decoded() {
        let mail = parse(fixture!("iso8859_new.eml")).unwrap();
        assert_eq!(mail.subject, "Drucker druckt nur Klötze");
        assert_eq!(mail.from_name.as_deref(), Some("Jürgen Müller"));
        let b = bodies(&mail, &HashMap::new());
        assert!(b.new_text.starts_with("Grüß Gott,"), "{}", b.new_text);
        assert!(b.new_text.contains("Büro"));
    }

    #[test]
    fn a_mail_without_message_id_is_keyed_by_its_bytes() {
        let raw = fixture!("no_message_id.eml");
        let mail = parse(raw).unwrap();
        assert_eq!(mail.message_id, None);
        let key = dedupe_key(mail.message_id.as_deref(), raw);
        assert!(key.starts_with("raw:"));
        assert_eq!(key, dedupe_key(None, raw));
        assert_ne!(key, dedupe_key(None, b"other"));
    }

    #[test]
    fn broken_mime_and_charsets_never_panic() {
        let raw = fixture!("broken_charset.eml");
        if let Ok(mail) = parse(raw) {
            let _ = classify(&mail, &OURS);
            let _ = bodies(&mail, &HashMap::new());
        }
        // Arbitrary garbage and truncations of every fixture are errors or mails, no panic.
        for cut in [1usize, 7, 40, 200, 1000] {
            for raw in [
                &fixture!("gmail_reply.eml")[..],
                &fixture!("outlook_inline.eml")[..],
                &fixture!("dsn_bounce.eml")[..],
            ] {
                if let Ok(mail) = parse(&raw[..raw.len().min(cut)]) {
                    let _ = bodies(&mail, &HashMap::new());
                }
            }
        }
        assert!(parse(&[0xff; 300]).is_err());
    }
}
