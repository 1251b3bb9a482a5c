//! Settings read from the environment (and a `.env` file), with the names of the design's
//! configuration table. Secrets are never printed: `Debug` redacts them.

use std::{fmt, net::SocketAddr, path::PathBuf};

/// The development-only JWT secret; `APP_ENV=production` refuses to start with it.
pub const DEV_JWT_SECRET: &str = "helpdesk-development-secret-do-not-use-in-production";
/// Shortest JWT secret accepted in production (HS256 wants at least 256 bits of key).
pub const MIN_PRODUCTION_SECRET_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Everything the server needs to start.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://…` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// `BIND_ADDR`: listen address; port 0 picks a free port.
    pub bind_addr: SocketAddr,
    /// `APP_ENV`: `production` enforces a real JWT secret and adds secure headers.
    pub app_env: AppEnv,
    /// `JWT_SECRET`: HMAC key for HS256 tokens.
    pub jwt_secret: String,
    /// `CORS_ORIGIN`: a browser origin allowed to call the API cross-site (unset = same origin only).
    pub cors_origin: Option<String>,
    /// `STATIC_DIR`: the built SPA served at `/`.
    pub static_dir: PathBuf,
    /// `UPLOAD_DIR`: where attachments are stored.
    pub upload_dir: PathBuf,
    /// `BCRYPT_COST`: bcrypt work factor (4..=31; 12 in production, lower only in tests).
    pub bcrypt_cost: u32,
    /// Worker threads for the HTTP server (`HTTP_WORKERS`, default: number of CPUs).
    pub workers: Option<usize>,
    /// Run the assignment loop and SLA monitor in this process (`BACKGROUND_JOBS`, default
    /// true). Tests that drive the jobs by hand turn them off.
    pub background_jobs: bool,
    /// `PUBLIC_URL`: the address users reach the web app at, for links in mail (no trailing
    /// slash).
    pub public_url: String,
    /// The email channel's settings (`MAIL_*`, `SMTP_URL`).
    pub mail: MailSettings,
    /// Request rate limits under `/api` (`RATE_LIMIT_*`), per server instance.
    pub rate_limits: crate::rate_limit::RateLimitSettings,
    /// Webhook delivery timing (`WEBHOOK_*`).
    pub webhooks: WebhookSettings,
}

/// Webhook delivery timing (see docs/integrations.md). The defaults are the documented
/// schedule; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `WEBHOOK_RETRY_BASE_MS` (default 30000): the wait after the first failed attempt;
    /// each further failure doubles it.
    pub retry_base_ms: u64,
    /// `WEBHOOK_RETRY_MAX_MS` (default 3600000): the longest wait between two attempts.
    pub retry_max_ms: u64,
    /// `WEBHOOK_MAX_ATTEMPTS` (default 30, about 24 hours with the default waits): attempts
    /// before a delivery is given up.
    pub max_attempts: u32,
    /// `WEBHOOK_DISABLE_AFTER_SECS` (default 86400): an endpoint whose attempts have all failed
    /// for this long is switched off.
    pub disable_after_secs: u64,
    /// `WEBHOOK_POLL_MS` (default 1000): how often the worker looks for new events and due
    /// retries.
    pub poll_ms: u64,
    /// `WEBHOOK_TIMEOUT_SECS` (default 10): the longest an attempt may take.
    pub timeout_secs: u64,
}

impl WebhookSettings {
    pub const DEFAULT: WebhookSettings = WebhookSettings {
        retry_base_ms: 30_000,
        retry_max_ms: 3_600_000,
        max_attempts: 30,
        disable_after_secs: 86_400,
        poll_ms: 1000,
        timeout_secs: 10,
    };
}

fn webhook_settings(var: &dyn Fn(&str) -> Option<String>) -> Result<WebhookSettings, ConfigError> {
    let d = WebhookSettings::DEFAULT;
    Ok(WebhookSettings {
        retry_base_ms: number(var, "WEBHOOK_RETRY_BASE_MS", d.retry_base_ms, 1, 86_400_000)?,
        retry_max_ms: number(var, "WEBHOOK_RETRY_MAX_MS", d.retry_max_ms, 1, 86_400_000)?,
        max_attempts: number(var, "WEBHOOK_MAX_ATTEMPTS", d.max_attempts, 1, 1000)?,
        disable_after_secs: number(
            var,
            "WEBHOOK_DISABLE_AFTER_SECS",
            d.disable_after_secs,
            0,
            365 * 86_400,
        )?,
        poll_ms: number(var, "WEBHOOK_POLL_MS", d.poll_ms, 50, 600_000)?,
        timeout_secs: number(var, "WEBHOOK_TIMEOUT_SECS", d.timeout_secs, 1, 60)?,
    })
}

/// The development-only mail signing key; production refuses it when mail is on.
pub const DEV_MAIL_SECRET: &str = "helpdesk-development-mail-secret-do-not-use";

/// How mail leaves the server (`MAIL_TRANSPORT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransportKind {
    /// `smtp`: a pooled SMTP connection to `SMTP_URL`.
    Smtp,
    /// `file`: one `.eml` file per mail in `MAIL_FILE_DIR` (for demos and development).
    File,
}

/// Outbound email (see docs/email.md).
#[derive(Clone)]
pub struct MailSettings {
    /// `MAIL_ENABLED` (default false): when off, nothing is queued and no worker runs.
    pub enabled: bool,
    /// `MAIL_TRANSPORT`: `smtp` (default) or `file`.
    pub transport: MailTransportKind,
    /// `SMTP_URL`: a lettre URL such as `smtp://user:pass@host:587?tls=required`.
    pub smtp_url: String,
    /// `MAIL_FILE_DIR`: where the `file` transport writes (default `data/mail`).
    pub file_dir: PathBuf,
    /// `MAIL_FROM`: the sender, `Name <address>` or a bare address.
    pub from: String,
    /// `MAIL_MESSAGE_ID_DOMAIN`: the right-hand side of our Message-IDs (default: the domain
    /// of `MAIL_FROM`).
    pub message_id_domain: String,
    /// `MAIL_SECRET`: HMAC key for unsubscribe tokens, reply addresses and survey links.
    pub secret: String,
    /// `MAIL_REPLY_ADDRESS`: a pattern with `{token}`, e.g. `support+{token}@example.com`;
    /// unset means no Reply-To.
    pub reply_address: Option<String>,
    /// `MAIL_MAX_ATTEMPTS` (default 10): delivery attempts before a mail is `failed`.
    pub max_attempts: u32,
    /// Received mail (`MAIL_INGEST_TOKEN`, `MAIL_IMAP_*`, limits).
    pub inbound: InboundSettings,
}

/// Who may open a ticket by writing to the support address (`MAIL_INBOUND_POLICY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundPolicy {
    /// `open` (default): anyone; an unknown sender gets a customer account.
    Open,
    /// `known`: only senders who already have an active customer account.
    KnownCustomers,
}

/// What the IMAP poller does with a mail after its import is committed (`MAIL_IMAP_AFTER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapAfter {
    /// `seen` (default): set `\Seen` and leave it where it is.
    Seen,
    /// `move:Folder`: move it to that folder (created if missing).
    Move(String),
    /// `delete`: flag it `\Deleted` and expunge.
    Delete,
}

/// The IMAP mailbox the poller reads (`MAIL_IMAP_URL`).
#[derive(Clone, PartialEq, Eq)]
pub struct ImapSettings {
    /// `imaps` (TLS) or `imap` (plain, for a server on this machine only).
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// The folder to read (default `INBOX`).
    pub folder: String,
    /// `MAIL_IMAP_POLL_SECS` (default 60): the longest wait between two looks (also the IDLE
    /// timeout).
    pub poll_secs: u64,
    /// `MAIL_IMAP_IDLE` (default true): wait with IDLE when the server offers it.
    pub idle: bool,
    /// `MAIL_IMAP_AFTER`.
    pub after: ImapAfter,
}

impl ImapSettings {
    /// Names the mailbox without its password (the poller's row and lease key).
    pub fn key(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.folder)
    }

    /// Parses `imap[s]://user:password@host[:port][/folder]` (user and password
    /// percent-decoded).
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("imaps://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("imap://") {
            (false, r)
        } else {
            return Err("expected imaps://user:password@host[:port][/folder]".to_owned());
        };
        let (auth, rest) = rest
            .rsplit_once('@')
            .ok_or("missing user:password@ before the host")?;
        let (user, password) = auth
            .split_once(':')
            .ok_or("missing :password after the user")?;
        let (hostport, folder) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("bad port `{p}`"))?),
            None => (hostport, if tls { 993 } else { 143 }),
        };
        if host.is_empty() || user.is_empty() {
            return Err("the host and the user must not be empty".to_owned());
        }
        let folder = percent_decode(folder)?;
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
            user: percent_decode(user)?,
            password: percent_decode(password)?,
            folder: if folder.is_empty() {
                "INBOX".to_owned()
            } else {
                folder
            },
            poll_secs: 60,
            idle: true,
            after: ImapAfter::Seen,
        })
    }
}

fn percent_decode(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in `{raw}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent escapes are not UTF-8".to_owned())
}

impl fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSettings")
            .field("mailbox", &self.key())
            .field("tls", &self.tls)
            .field("password", &"***")
            .field("poll_secs", &self.poll_secs)
            .field("idle", &self.idle)
            .field("after", &self.after)
            .finish()
    }
}

/// Received mail (see docs/email.md).
#[derive(Clone)]
pub struct InboundSettings {
    /// `MAIL_INGEST_TOKEN`: the bearer token of `POST /api/inbound/email` (unset: the endpoint
    /// refuses every call). At least 24 characters.
    pub ingest_token: Option<String>,
    /// `MAIL_MAX_BYTES` (default 25 MiB): the largest mail accepted.
    pub max_bytes: usize,
    /// `MAIL_INBOUND_POLICY`: `open` (default) or `known`.
    pub policy: InboundPolicy,
    /// `MAIL_NEW_TICKETS_PER_HOUR` (default 10): tickets one sender may open by mail per hour.
    pub new_tickets_per_hour: u32,
    /// `MAIL_ACKS_PER_HOUR` (default 5): acknowledgements one address gets per hour.
    pub acks_per_hour: u32,
    /// `MAIL_IMAP_URL` and its companions; unset means no poller.
    pub imap: Option<ImapSettings>,
}

impl fmt::Debug for InboundSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundSettings")
            .field("ingest_token", &self.ingest_token.as_ref().map(|_| "***"))
            .field("max_bytes", &self.max_bytes)
            .field("policy", &self.policy)
            .field("new_tickets_per_hour", &self.new_tickets_per_hour)
            .field("acks_per_hour", &self.acks_per_hour)
            .field("imap", &self.imap)
            .finish()
    }
}

impl Default for InboundSettings {
    /// The settings with no `MAIL_*` inbound variable set.
    fn default() -> Self {
        Self {
            ingest_token: None,
            max_bytes: 25 * 1024 * 1024,
            policy: InboundPolicy::Open,
            new_tickets_per_hour: 10,
            acks_per_hour: 5,
            imap: None,
        }
    }
}

/// The shortest ingest token accepted.
pub const MIN_INGEST_TOKEN_LEN: usize = 24;

fn number<T: std::str::FromStr + PartialOrd + Copy + fmt::Display>(
    var: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<T>()
            .ok()
            .filter(|n| *n >= min && *n <= max)
            .ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("`{v}` (expected {min}..={max})"),
            }),
    }
}

fn inbound_settings(var: &dyn Fn(&str) -> Option<String>) -> Result<InboundSettings, ConfigError> {
    let ingest_token = match var("MAIL_INGEST_TOKEN") {
        None => None,
        Some(t) => {
            let t = t.trim().to_owned();
            if t.len() < MIN_INGEST_TOKEN_LEN || t.chars().any(|c| c.is_whitespace()) {
                return Err(ConfigError::Invalid {
                    name: "MAIL_INGEST_TOKEN",
                    reason: format!(
                        "(expected at least {MIN_INGEST_TOKEN_LEN} characters without spaces)"
                    ),
                });
            }
            Some(t)
        }
    };
    let defaults = InboundSettings::default();
    let max_bytes = number(
        var,
        "MAIL_MAX_BYTES",
        defaults.max_bytes,
        1024,
        200 * 1024 * 1024,
    )?;
    let policy = match var("MAIL_INBOUND_POLICY").as_deref().map(str::trim) {
        None | Some("open") => InboundPolicy::Open,
        Some("known") => InboundPolicy::KnownCustomers,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "MAIL_INBOUND_POLICY",
                reason: format!("`{other}` (expected open or known)"),
            });
        }
    };
    let new_tickets_per_hour = number(
        var,
        "MAIL_NEW_TICKETS_PER_HOUR",
        defaults.new_tickets_per_hour,
        1,
        100_000,
    )?;
    let acks_per_hour = number(
        var,
        "MAIL_ACKS_PER_HOUR",
        defaults.acks_per_hour,
        0,
        100_000,
    )?;
    let imap = match var("MAIL_IMAP_URL") {
        None => None,
        Some(url) => {
            let mut imap =
                ImapSettings::parse(url.trim()).map_err(|reason| ConfigError::Invalid {
                    name: "MAIL_IMAP_URL",
                    reason: format!("`{}`: {reason}", redact_url(url.trim())),
                })?;
            imap.poll_secs = number(var, "MAIL_IMAP_POLL_SECS", 60, 1, 3600)?;
            imap.idle = flag("MAIL_IMAP_IDLE", var("MAIL_IMAP_IDLE").as_deref(), true)?;
            imap.after = match var("MAIL_IMAP_AFTER").as_deref().map(str::trim) {
                None | Some("seen") => ImapAfter::Seen,
                Some("delete") => ImapAfter::Delete,
                Some(m) if m.starts_with("move:") && m.len() > 5 => {
                    ImapAfter::Move(m["move:".len()..].to_owned())
                }
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "MAIL_IMAP_AFTER",
                        reason: format!("`{other}` (expected seen, move:Folder or delete)"),
                    });
                }
            };
            Some(imap)
        }
    };
    Ok(InboundSettings {
        ingest_token,
        max_bytes,
        policy,
        new_tickets_per_hour,
        acks_per_hour,
        imap,
    })
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("enabled", &self.enabled)
            .field("transport", &self.transport)
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("file_dir", &self.file_dir)
            .field("from", &self.from)
            .field("message_id_domain", &self.message_id_domain)
            .field("secret", &"***")
            .field("reply_address", &self.reply_address)
            .field("max_attempts", &self.max_attempts)
            .field("inbound", &self.inbound)
            .finish()
    }
}

fn flag(name: &'static str, value: Option<&str>, default: bool) -> Result<bool, ConfigError> {
    match value.map(str::trim) {
        None => Ok(default),
        Some("1") | Some("true") | Some("on") | Some("yes") => Ok(true),
        Some("0") | Some("false") | Some("off") | Some("no") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            name,
            reason: format!("`{other}` (expected true or false)"),
        }),
    }
}

fn mail_settings(
    var: &dyn Fn(&str) -> Option<String>,
    app_env: AppEnv,
) -> Result<MailSettings, ConfigError> {
    let enabled = flag("MAIL_ENABLED", var("MAIL_ENABLED").as_deref(), false)?;
    let transport = match var("MAIL_TRANSPORT").as_deref().map(str::trim) {
        None | Some("smtp") => MailTransportKind::Smtp,
        Some("file") => MailTransportKind::File,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "MAIL_TRANSPORT",
                reason: format!("`{other}` (expected smtp or file)"),
            });
        }
    };
    let smtp_url = var("SMTP_URL").unwrap_or_else(|| "smtp://127.0.0.1:25".to_owned());
    let smtp_url = smtp_url.trim().to_owned();
    if let Err(e) = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&smtp_url) {
        return Err(ConfigError::Invalid {
            name: "SMTP_URL",
            reason: format!("`{}`: {e}", redact_url(&smtp_url)),
        });
    }
    let from = var("MAIL_FROM").unwrap_or_else(|| "Helpdesk <helpdesk@localhost>".to_owned());
    let from = from.trim().to_owned();
    let mailbox: lettre::message::Mailbox = from.parse().map_err(|e| ConfigError::Invalid {
        name: "MAIL_FROM",
        reason: format!("`{from}`: {e}"),
    })?;
    let message_id_domain = match var("MAIL_MESSAGE_ID_DOMAIN") {
        Some(d) => {
            let d = d.trim().to_owned();
            let ok = !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                return Err(ConfigError::Invalid {
                    name: "MAIL_MESSAGE_ID_DOMAIN",
                    reason: format!("`{d}` (expected a domain name such as mail.example.com)"),
                });
            }
            d
        }
        None => mailbox.email.domain().to_owned(),
    };
    let secret = match (var("MAIL_SECRET"), app_env, enabled) {
        (Some(s), AppEnv::Production, true)
            if s.len() < MIN_PRODUCTION_SECRET_LEN || s == DEV_MAIL_SECRET =>
        {
            return Err(ConfigError::WeakMailSecret);
        }
        (Some(s), _, _) => s,
        (None, AppEnv::Production, true) => return Err(ConfigError::WeakMailSecret),
        (None, _, _) => DEV_MAIL_SECRET.to_owned(),
    };
    let reply_address = match var("MAIL_REPLY_ADDRESS") {
        None => None,
        Some(p) => {
            let p = p.trim().to_owned();
            let probe = p.replace("{token}", "x");
            if !p.contains("{token}") || probe.parse::<lettre::Address>().is_err() {
                return Err(ConfigError::Invalid {
                    name: "MAIL_REPLY_ADDRESS",
                    reason: format!(
                        "`{p}` (expected an address containing {{token}}, e.g. support+{{token}}@example.com)"
                    ),
                });
            }
            Some(p)
        }
    };
    let max_attempts = match var("MAIL_MAX_ATTEMPTS") {
        None => 10,
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ConfigError::Invalid {
                name: "MAIL_MAX_ATTEMPTS",
                reason: format!("`{v}` (expected 1..=100)"),
            })?,
    };
    Ok(MailSettings {
        enabled,
        transport,
        smtp_url,
        file_dir: var("MAIL_FILE_DIR")
            .unwrap_or_else(|| "data/mail".into())
            .into(),
        from,
        message_id_domain,
        secret,
        reply_address,
        max_attempts,
        inbound: inbound_settings(var)?,
    })
}

fn public_url(value: Option<String>) -> Result<String, ConfigError> {
    let url = value.unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let url = url.trim().trim_end_matches('/').to_owned();
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Ok(url),
        _ => Err(ConfigError::Invalid {
            name: "PUBLIC_URL",
            reason: format!("`{url}` (expected http://… or https://…)"),
        }),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{name} is not a setting (known: {known})")]
    Unknown { name: String, known: String },
    #[error(
        "JWT_SECRET must be set to a random value of at least {MIN_PRODUCTION_SECRET_LEN} characters when APP_ENV=production"
    )]
    WeakProductionSecret,
    #[error(
        "MAIL_SECRET must be set to a random value of at least {MIN_PRODUCTION_SECRET_LEN} characters when APP_ENV=production and MAIL_ENABLED=true"
    )]
    WeakMailSecret,
}

impl Settings {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the first lookup failing.
        let _ = dotenvy::dotenv();
        check_names(std::env::vars().map(|(name, _)| name))?;
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Every setting with its effective value, secrets masked (`helpdesk config check`).
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".to_owned());
        let secret = |v: &str| if v.is_empty() { "(unset)" } else { "***" }.to_owned();
        let m = &self.mail;
        vec![
            ("DATABASE_URL", redact_url(&self.database_url)),
            ("BIND_ADDR", self.bind_addr.to_string()),
            ("APP_ENV", format!("{:?}", self.app_env).to_lowercase()),
            ("JWT_SECRET", secret(&self.jwt_secret)),
            ("CORS_ORIGIN", opt(&self.cors_origin)),
            ("STATIC_DIR", self.static_dir.display().to_string()),
            ("UPLOAD_DIR", self.upload_dir.display().to_string()),
            ("BCRYPT_COST", self.bcrypt_cost.to_string()),
            (
                "HTTP_WORKERS",
                self.workers
                    .map_or_else(|| "(number of CPUs)".to_owned(), |n| n.to_string()),
            ),
            ("BACKGROUND_JOBS", self.background_jobs.to_string()),
            ("PUBLIC_URL", self.public_url.clone()),
            (
                "RATE_LIMIT_WINDOW_SECS",
                self.rate_limits.window_secs.to_string(),
            ),
            ("RATE_LIMIT_TOKEN", self.rate_limits.per_token.to_string()),
            ("RATE_LIMIT_USER", self.rate_limits.per_user.to_string()),
            (
                "RATE_LIMIT_ANONYMOUS",
                self.rate_limits.per_address.to_string(),
            ),
            ("MAIL_ENABLED", m.enabled.to_string()),
            (
                "MAIL_TRANSPORT",
                format!("{:?}", m.transport).to_lowercase(),
            ),
            ("SMTP_URL", redact_url(&m.smtp_url)),
            ("MAIL_FILE_DIR", m.file_dir.display().to_string()),
            ("MAIL_FROM", m.from.clone()),
            ("MAIL_MESSAGE_ID_DOMAIN", m.message_id_domain.clone()),
            ("MAIL_SECRET", secret(&m.secret)),
            ("MAIL_REPLY_ADDRESS", opt(&m.reply_address)),
            ("MAIL_MAX_ATTEMPTS", m.max_attempts.to_string()),
            (
                "MAIL_INGEST_TOKEN",
                m.inbound
                    .ingest_token
                    .as_deref()
                    .map_or_else(|| "(unset)".to_owned(), secret),
            ),
            ("MAIL_MAX_BYTES", m.inbound.max_bytes.to_string()),
            (
                "MAIL_INBOUND_POLICY",
                match m.inbound.policy {
                    InboundPolicy::Open => "open",
                    InboundPolicy::KnownCustomers => "known",
                }
                .to_owned(),
            ),
            (
                "MAIL_NEW_TICKETS_PER_HOUR",
                m.inbound.new_tickets_per_hour.to_string(),
            ),
            ("MAIL_ACKS_PER_HOUR", m.inbound.acks_per_hour.to_string()),
            (
                "MAIL_IMAP_URL",
                m.inbound.imap.as_ref().map_or_else(
                    || "(unset)".to_owned(),
                    |i| {
                        format!(
                            "{}://{}:***@{}:{}/{}",
                            if i.tls { "imaps" } else { "imap" },
                            i.user,
                            i.host,
                            i.port,
                            i.folder
                        )
                    },
                ),
            ),
            (
                "MAIL_IMAP_POLL_SECS",
                m.inbound
                    .imap
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |i| i.poll_secs.to_string()),
            ),
            (
                "MAIL_IMAP_IDLE",
                m.inbound
                    .imap
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |i| i.idle.to_string()),
            ),
            (
                "MAIL_IMAP_AFTER",
                m.inbound.imap.as_ref().map_or_else(
                    || "-".to_owned(),
                    |i| match &i.after {
                        ImapAfter::Seen => "seen".to_owned(),
                        ImapAfter::Delete => "delete".to_owned(),
                        ImapAfter::Move(f) => format!("move:{f}"),
                    },
                ),
            ),
            (
                "WEBHOOK_RETRY_BASE_MS",
                self.webhooks.retry_base_ms.to_string(),
            ),
            (
                "WEBHOOK_RETRY_MAX_MS",
                self.webhooks.retry_max_ms.to_string(),
            ),
            (
                "WEBHOOK_MAX_ATTEMPTS",
                self.webhooks.max_attempts.to_string(),
            ),
            (
                "WEBHOOK_DISABLE_AFTER_SECS",
                self.webhooks.disable_after_secs.to_string(),
            ),
            ("WEBHOOK_POLL_MS", self.webhooks.poll_ms.to_string()),
            (
                "WEBHOOK_TIMEOUT_SECS",
                self.webhooks.timeout_secs.to_string(),
            ),
        ]
    }

    /// Builds settings from any variable source; tests use this with a map.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if var("REDIS_URL").is_some() {
            return Err(ConfigError::Invalid {
                name: "REDIS_URL",
                reason: "is not supported: server instances sharing PostgreSQL exchange events \
                         through its event log and LISTEN/NOTIFY; unset it"
                    .to_owned(),
            });
        }

        let app_env = match var("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") | Some("test") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "APP_ENV",
                    reason: format!("`{other}` (expected development or production)"),
                });
            }
        };

        let jwt_secret = var("JWT_SECRET");
        let jwt_secret = match (app_env, jwt_secret) {
            (AppEnv::Production, Some(s))
                if s.len() >= MIN_PRODUCTION_SECRET_LEN && s != DEV_JWT_SECRET =>
            {
                s
            }
            (AppEnv::Production, _) => return Err(ConfigError::WeakProductionSecret),
            (AppEnv::Development, Some(s)) => s,
            (AppEnv::Development, None) => DEV_JWT_SECRET.to_owned(),
        };

        let bind_addr = var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind_addr = bind_addr.trim().parse().map_err(|e| ConfigError::Invalid {
            name: "BIND_ADDR",
            reason: format!("`{bind_addr}`: {e}"),
        })?;

        let bcrypt_cost = match var("BCRYPT_COST") {
            None => 12,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|c| (4..=31).contains(c))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "BCRYPT_COST",
                    reason: format!("`{v}` (expected 4..=31)"),
                })?,
        };

        let workers = match var("HTTP_WORKERS") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "HTTP_WORKERS",
                        reason: format!("`{v}` (expected a positive number)"),
                    })?,
            ),
        };

        let background_jobs = match var("BACKGROUND_JOBS").as_deref().map(str::trim) {
            None | Some("1") | Some("true") | Some("on") => true,
            Some("0") | Some("false") | Some("off") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "BACKGROUND_JOBS",
                    reason: format!("`{other}` (expected true or false)"),
                });
            }
        };

        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| "sqlite://data/helpdesk.db?mode=rwc".to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: "expected a sqlite:// or postgres:// URL".to_owned(),
            });
        }

        let public_url = public_url(var("PUBLIC_URL"))?;
        let mail = mail_settings(&var, app_env)?;
        let limits = crate::rate_limit::RateLimitSettings::default();
        let rate_limits = crate::rate_limit::RateLimitSettings {
            window_secs: number(
                &var,
                "RATE_LIMIT_WINDOW_SECS",
                limits.window_secs,
                1,
                86_400,
            )?,
            per_token: number(&var, "RATE_LIMIT_TOKEN", limits.per_token, 1, 1_000_000_000)?,
            per_user: number(&var, "RATE_LIMIT_USER", limits.per_user, 1, 1_000_000_000)?,
            per_address: number(
                &var,
                "RATE_LIMIT_ANONYMOUS",
                limits.per_address,
                1,
                1_000_000_000,
            )?,
        };
        let webhooks = webhook_settings(&var)?;

        Ok(Self {
            public_url,
            mail,
            rate_limits,
            webhooks,
            database_url,
            bind_addr,
            app_env,
            jwt_secret,
            cors_origin: var("CORS_ORIGIN"),
            static_dir: var("STATIC_DIR").unwrap_or_else(|| "dist".into()).into(),
            upload_dir: var("UPLOAD_DIR")
                .unwrap_or_else(|| "data/uploads".into())
                .into(),
            bcrypt_cost,
            workers,
            background_jobs,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// `sqlite` or `postgres`, for logs and `/api/health`.
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

/// The database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Every setting the server reads in the namespaces it owns (`MAIL_*`, `SMTP_*`); a variable
/// there that is not one of them is a typo that would otherwise be ignored silently.
pub const MAIL_NAMES: &[&str] = &[
    "MAIL_ENABLED",
    "MAIL_TRANSPORT",
    "MAIL_FILE_DIR",
    "MAIL_FROM",
    "MAIL_MESSAGE_ID_DOMAIN",
    "MAIL_SECRET",
    "MAIL_REPLY_ADDRESS",
    "MAIL_MAX_ATTEMPTS",
    "MAIL_INGEST_TOKEN",
    "MAIL_MAX_BYTES",
    "MAIL_INBOUND_POLICY",
    "MAIL_NEW_TICKETS_PER_HOUR",
    "MAIL_ACKS_PER_HOUR",
    "MAIL_IMAP_URL",
    "MAIL_IMAP_POLL_SECS",
    "MAIL_IMAP_IDLE",
    "MAIL_IMAP_AFTER",
    "SMTP_URL",
];

/// Every setting of the `WEBHOOK_*` namespace.
pub const WEBHOOK_NAMES: &[&str] = &[
    "WEBHOOK_RETRY_BASE_MS",
    "WEBHOOK_RETRY_MAX_MS",
    "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_DISABLE_AFTER_SECS",
    "WEBHOOK_POLL_MS",
    "WEBHOOK_TIMEOUT_SECS",
];

/// Refuses unknown variables in the server's own namespaces (`MAIL_*`, `SMTP_*`,
/// `WEBHOOK_*`).
pub fn check_names(names: impl IntoIterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let ours = name.starts_with("MAIL_") || name.starts_with("SMTP_");
        if ours && !MAIL_NAMES.contains(&name.as_str()) {
            return Err(ConfigError::Unknown {
                name,
                known: MAIL_NAMES.join(", "),
            });
        }
        if name.starts_with("WEBHOOK_") && !WEBHOOK_NAMES.contains(&name.as_str()) {
            return Err(ConfigError::Unknown {
                name,
                known: WEBHOOK_NAMES.join(", "),
            });
        }
    }
    Ok(())
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("app_env", &self.app_env)
            .field("jwt_secret", &"***")
            .field("cors_origin", &self.cors_origin)
            .field("static_dir", &self.static_dir)
            .field("upload_dir", &self.upload_dir)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("workers", &self.workers)
            .field("background_jobs", &self.background_jobs)
            .field("public_url", &self.public_url)
            .field("mail", &self.mail)
            .field("rate_limits", &self.rate_limits)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn unknown_names_in_our_namespaces_are_refused() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_names(names(&["MAIL_ENABLED", "SMTP_URL", "PATH", "MAILTO"])).is_ok());
        let err = check_names(names(&["MAIL_ENABLE"])).expect_err("a typo is refused");
        assert!(
            err.to_string().contains("MAIL_ENABLE is not a setting"),
            "{err}"
        );
        assert!(check_names(names(&["SMTP_HOST"])).is_err());
    }

    #[test]
    fn inbound_settings_parse_and_refuse_bad_values() {
        let s = settings(&[
            (
                "MAIL_IMAP_URL",
                "imaps://help%40example.com:p%3Ass@imap.example.com/Support",
            ),
            ("MAIL_IMAP_AFTER", "move:Done"),
            ("MAIL_IMAP_POLL_SECS", "30"),
            ("MAIL_INGEST_TOKEN", "a-long-enough-ingest-token-123"),
            ("MAIL_INBOUND_POLICY", "known"),
        ])
        .expect("valid");
        let imap = s.mail.inbound.imap.clone().expect("imap");
        assert_eq!(
            (
                imap.tls,
                imap.host.as_str(),
                imap.port,
                imap.folder.as_str()
            ),
            (true, "imap.example.com", 993, "Support")
        );
        assert_eq!(
            (imap.user.as_str(), imap.password.as_str()),
            ("help@example.com", "p:ss")
        );
        assert_eq!(imap.after, ImapAfter::Move("Done".into()));
        assert_eq!(imap.poll_secs, 30);
        assert_eq!(s.mail.inbound.policy, InboundPolicy::KnownCustomers);
        let text = format!("{:?} {:?}", s.describe(), s.mail);
        assert!(!text.contains("p:ss") && !text.contains("p%3Ass"), "{text}");
        assert!(!text.contains("a-long-enough-ingest-token-123"), "{text}");
        let plain = settings(&[("MAIL_IMAP_URL", "imap://u:p@127.0.0.1:1143")]).expect("valid");
        let plain = plain.mail.inbound.imap.expect("imap");
        assert_eq!(
            (plain.tls, plain.port, plain.folder.as_str()),
            (false, 1143, "INBOX")
        );
        for (name, value) in [
            ("MAIL_IMAP_URL", "pop3://u:p@host"),
            ("MAIL_IMAP_URL", "imaps://host"),
            ("MAIL_IMAP_URL", "imaps://u:p@host:99999"),
            ("MAIL_INGEST_TOKEN", "short"),
            ("MAIL_MAX_BYTES", "10"),
            ("MAIL_INBOUND_POLICY", "everyone"),
            ("MAIL_NEW_TICKETS_PER_HOUR", "0"),
        ] {
            let err = settings(&[(name, value)]).expect_err(name);
            assert!(err.to_string().contains(name), "{err}");
        }
        let err = settings(&[
            ("MAIL_IMAP_URL", "imap://u:p@h"),
            ("MAIL_IMAP_AFTER", "archive"),
        ])
        .expect_err("bad after");
        assert!(err.to_string().contains("MAIL_IMAP_AFTER"), "{err}");
        let d = settings(&[]).expect("defaults");
        assert_eq!(d.mail.inbound.max_bytes, 25 * 1024 * 1024);
        assert!(d.mail.inbound.imap.is_none() && d.mail.inbound.ingest_token.is_none());
    }

    #[test]
    fn redis_is_refused_with_the_reason() {
        let err = settings(&[("REDIS_URL", "redis://127.0.0.1:6379")]).expect_err("refused");
        assert!(err.to_string().contains("REDIS_URL"), "{err}");
    }

    #[test]
    fn the_description_masks_secrets() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://u:hunter2@db/helpdesk"),
            ("JWT_SECRET", "a-very-secret-value"),
        ])
        .expect("valid");
        let text = format!("{:?}", s.describe());
        assert!(
            !text.contains("hunter2") && !text.contains("a-very-secret-value"),
            "{text}"
        );
        assert!(text.contains("postgres://u:***@db/helpdesk"));
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = settings(&[]).expect("defaults are valid");
        assert_eq!(s.database_url, "sqlite://data/helpdesk.db?mode=rwc");
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.app_env, AppEnv::Development);
        assert_eq!(s.jwt_secret, DEV_JWT_SECRET);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.static_dir, PathBuf::from("dist"));
        assert_eq!(s.upload_dir, PathBuf::from("data/uploads"));
    }

    #[test]
    fn production_refuses_missing_default_or_short_secret() {
        for vars in [
            vec![("APP_ENV", "production")],
            vec![("APP_ENV", "production"), ("JWT_SECRET", "short")],
            vec![("APP_ENV", "production"), ("JWT_SECRET", DEV_JWT_SECRET)],
        ] {
            assert!(matches!(
                settings(&vars),
                Err(ConfigError::WeakProductionSecret)
            ));
        }
        let ok = settings(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .expect("a long secret is accepted");
        assert!(ok.is_production());
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let err = settings(&[("BCRYPT_COST", "99")])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("BCRYPT_COST")));
        let err = settings(&[("BIND_ADDR", "nowhere")])
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("BIND_ADDR")));
        assert!(settings(&[("DATABASE_URL", "mysql://x")]).is_err());
    }

    #[test]
    fn mail_is_off_by_default_with_usable_defaults() {
        let s = settings(&[]).expect("defaults are valid");
        assert!(!s.mail.enabled);
        assert_eq!(s.mail.transport, MailTransportKind::Smtp);
        assert_eq!(s.mail.message_id_domain, "localhost");
        assert_eq!(s.mail.max_attempts, 10);
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        let s = settings(&[
            ("MAIL_FROM", "Support <help@example.org>"),
            ("PUBLIC_URL", "https://help.example.org/"),
        ])
        .expect("valid");
        assert_eq!(s.mail.message_id_domain, "example.org");
        assert_eq!(s.public_url, "https://help.example.org");
    }

    #[test]
    fn malformed_mail_settings_name_the_variable() {
        for (name, value) in [
            ("MAIL_ENABLED", "maybe"),
            ("MAIL_TRANSPORT", "pigeon"),
            ("SMTP_URL", "ftp://x"),
            ("MAIL_FROM", "not an address"),
            ("MAIL_MESSAGE_ID_DOMAIN", "bad domain"),
            ("MAIL_REPLY_ADDRESS", "support@example.com"),
            ("MAIL_MAX_ATTEMPTS", "0"),
            ("PUBLIC_URL", "example.com"),
        ] {
            let err = settings(&[(name, value)]).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(name)),
                "{name}={value}: {err:?}"
            );
        }
        assert!(settings(&[("MAIL_REPLY_ADDRESS", "support+{token}@example.com")]).is_ok());
    }

    #[test]
    fn production_mail_needs_a_real_secret() {
        let base = [
            ("APP_ENV", "production"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("MAIL_ENABLED", "true"),
        ];
        assert!(matches!(settings(&base), Err(ConfigError::WeakMailSecret)));
        let mut ok = base.to_vec();
        ok.push(("MAIL_SECRET", "fedcba9876543210fedcba9876543210"));
        assert!(settings(&ok).is_ok());
        // Without mail there is nothing to sign.
        assert!(settings(&base[..2]).is_ok());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let s = settings(&[
            ("JWT_SECRET", "super-secret-value"),
            ("DATABASE_URL", "postgres://app:hunter2@db/helpdesk"),
            ("MAIL_SECRET", "mail-signing-key"),
            ("SMTP_URL", "smtp://mailer:smtp-pass@mx.example.com:587"),
        ])
        .expect("valid");
        let shown = format!("{s:?}");
        assert!(!shown.contains("mail-signing-key"));
        assert!(!shown.contains("smtp-pass"));
        assert!(!shown.contains("super-secret-value"));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("postgres://app:***@db/helpdesk"));
    }
}
