//! Email: notifications queued in a transactional outbox and delivered over SMTP, and mail
//! received (by IMAP, HTTP or a pipe) turned into tickets and replies.
//!
//! - [`notify`]: the one entry point that turns a ticket change into queued mail, in the
//!   caller's transaction (recipients, preferences, the actor rule).
//! - [`compose`]: the words; [`message`]: the MIME message; [`sign`]: signed tokens.
//! - [`outbox`]: the `mail_outbox` table (enqueue, claim with a lease, mark, list, resend).
//! - [`deliver`]: the transport and one delivery run of the worker; [`smtp`]: its SMTP
//!   connection.
//! - [`prefs`]: per-user switches and one-click unsubscribe.
//! - [`inbound`]: the ingest of received mail (classify, thread, strip quotes, store) and
//!   the IMAP poller.
//! - [`digest`]: the admins' SLA-breach digest.

pub mod compose;
pub mod deliver;
pub mod digest;
pub mod inbound;
pub mod message;
pub mod notify;
pub mod outbox;
pub mod prefs;
pub mod sign;
pub mod smtp;

use std::sync::Arc;

use crate::config::{MailSettings, Settings};

pub use notify::{Notice, notify};
pub use sign::Signer;

/// What queuing mail needs: the settings and the signing key. Cloning is cheap. A disabled
/// mailer queues nothing.
#[derive(Clone, Default)]
pub struct Mailer(Option<Arc<MailContext>>);

/// The settings of an enabled mailer.
pub struct MailContext {
    pub settings: MailSettings,
    /// `PUBLIC_URL`, for links.
    pub public_url: String,
    pub signer: Signer,
}

impl Mailer {
    /// A mailer that queues nothing (MAIL_ENABLED off).
    pub fn disabled() -> Self {
        Self(None)
    }

    /// The mailer `settings` ask for.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        if !settings.mail.enabled {
            return Ok(Self::disabled());
        }
        Ok(Self(Some(Arc::new(MailContext {
            settings: settings.mail.clone(),
            public_url: settings.public_url.clone(),
            signer: Signer::new(&settings.mail.secret)?,
        }))))
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    pub fn context(&self) -> Option<&MailContext> {
        self.0.as_deref()
    }
}
