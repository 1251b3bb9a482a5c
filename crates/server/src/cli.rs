//! The `helpdesk` command line: `serve` (default), `migrate`, `seed`, `create-admin`, `config`,
//! `backup`, `restore`, `journeys import|export`.

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use shared::{
    Role,
    journeys::JourneyRequest,
    validate::{Email, Password},
};

use crate::{
    auth::password,
    config::{Settings, redact_url},
    entity::{Journey, User, journey, user},
    error::ApiError,
    services::{
        self,
        journeys::{self, Imported, StateChange},
        seed,
        users::{self, NewAccount},
    },
    startup::{self, Application, connect_and_migrate},
};

#[derive(Debug, Parser)]
#[command(name = "helpdesk", version, about = "Helpdesk customer support server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations, then serve the API and the web app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the demo users (idempotent) and print their logins.
    Seed,
    /// Create an admin account, or make an existing account an active admin with this password.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Move journeys between installations.
    Journeys {
        #[command(subcommand)]
        action: JourneysAction,
    },
    /// Import one mail read from standard input (for an MTA pipe, fetchmail's `mda`, or
    /// procmail). Exit 0 when it was stored (processed, a duplicate, rejected or quarantined),
    /// 75 (EX_TEMPFAIL) when the database cannot be reached so the MTA tries again, 65
    /// (EX_DATAERR) for a mail over MAIL_MAX_BYTES, 74 (EX_IOERR) when stdin cannot be read.
    MailIngest,
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Back up the database and the upload directory into a new directory (safe while the
    /// server runs).
    Backup {
        /// A directory that does not exist yet (or is empty).
        path: std::path::PathBuf,
    },
    /// Restore a backup made by `backup` into DATABASE_URL and UPLOAD_DIR (stop the server
    /// first).
    Restore {
        path: std::path::PathBuf,
        /// Replace an existing SQLite database and upload files.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JourneysAction {
    /// Create or update journeys from files, matched by slug: a file written by `export` or by
    /// `GET /api/journeys/{id}/export`, or a bare journey definition (either format) with
    /// `--slug` and `--name`. A changed definition becomes a new version.
    Import {
        files: Vec<std::path::PathBuf>,
        /// The slug of a bare definition (one file only).
        #[arg(long)]
        slug: Option<String>,
        /// The name of a bare definition (one file only).
        #[arg(long)]
        name: Option<String>,
        /// Also offer the imported journeys to customers.
        #[arg(long)]
        activate: bool,
    },
    /// Write the journey with this slug as a file `import` and `POST /api/journeys` accept.
    Export {
        slug: String,
        /// Where to write it (default: standard output).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration (secrets masked); a malformed or unknown setting
    /// stops with a message naming it before anything is printed.
    Check,
}

/// Runs a parsed command with the given settings.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            log::info!(
                "starting helpdesk ({}) on {} with {}",
                env!("CARGO_PKG_VERSION"),
                settings.bind_addr,
                redact_url(&settings.database_url)
            );
            let app = Application::build(settings).await?;
            println!("Helpdesk listening on http://127.0.0.1:{}", app.port());
            app.run_until_stopped().await?;
        }
        Command::MailIngest => {
            let code = mail_ingest(settings).await;
            std::process::exit(code);
        }
        Command::Config {
            action: ConfigAction::Check,
        } => {
            for (name, value) in settings.describe() {
                println!("{name:<24} {value}");
            }
            println!("configuration ok");
        }
        Command::Backup { path } => {
            let db = startup::connect(&settings).await?;
            let report = services::backup::backup(&db, &settings, &path).await?;
            println!(
                "backed up {} and {} upload file(s) into {}",
                report.database.display(),
                report.files,
                path.display()
            );
        }
        Command::Restore { path, force } => {
            let report = services::backup::restore(&settings, &path, force)?;
            println!(
                "restored {} and {} upload file(s) into {}",
                redact_url(&settings.database_url),
                report.files,
                settings.upload_dir.display()
            );
        }
        Command::Journeys { action } => {
            let db = connect_and_migrate(&settings).await?;
            journeys_command(&db, action).await?;
        }
        Command::Migrate => {
            connect_and_migrate(&settings).await?;
            println!(
                "migrations applied to {}",
                redact_url(&settings.database_url)
            );
        }
        Command::Seed => {
            let db = connect_and_migrate(&settings).await?;
            let report = seed::run(&db, settings.bcrypt_cost)
                .await
                .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
            println!(
                "seed: {} created, {} already present",
                report.created.len(),
                report.existing.len()
            );
            println!("demo logins:");
            for demo in seed::DEMO_USERS {
                println!(
                    "  {:<9} {:<28} {}",
                    demo.role.as_str(),
                    demo.email,
                    demo.password
                );
            }
        }
        Command::CreateAdmin {
            email,
            password: pw,
            name,
        } => {
            let db = connect_and_migrate(&settings).await?;
            let email_parsed = Email::parse(&email).map_err(|m| anyhow::anyhow!("email: {m}"))?;
            let existing = User::find()
                .filter(user::Column::Email.eq(email_parsed.as_str()))
                .one(&db)
                .await?;
            match existing {
                Some(found) => {
                    let pw = Password::parse(&pw).map_err(|m| anyhow::anyhow!("password: {m}"))?;
                    let hash = password::hash(pw.expose().to_owned(), settings.bcrypt_cost)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let version = found.token_version + 1;
                    let mut active = found.into_active_model();
                    active.role = Set(user::UserRole::Admin);
                    active.active = Set(true);
                    active.password_hash = Set(hash);
                    active.token_version = Set(version);
                    let now = Utc::now();
                    active.updated_at = Set(now);
                    // Old tokens stop working; open sockets close on every instance.
                    let txn = services::begin_write(&db).await?;
                    let updated = active.update(&txn).await?;
                    services::events::revoke_access(
                        &txn,
                        updated.id,
                        services::events::Revocation::PasswordChanged,
                        now,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    txn.commit().await?;
                    // This process has no hub: wake the servers' to place and deliver it.
                    services::events::announce(&db)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("updated {email_parsed}: now an active admin with the new password");
                }
                None => {
                    let account = NewAccount::parse(&email, &pw, &name, Role::Admin)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let created = users::create_account(&db, settings.bcrypt_cost, account)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("created admin {} ({})", created.email, created.id);
                }
            }
        }
    }
    Ok(())
}

/// Largest journey file `journeys import` reads.
const MAX_JOURNEY_FILE: u64 = 5 * 1024 * 1024;

async fn journeys_command(db: &DatabaseConnection, action: JourneysAction) -> anyhow::Result<()> {
    match action {
        JourneysAction::Import {
            files,
            slug,
            name,
            activate,
        } => {
            if files.is_empty() {
                anyhow::bail!("name at least one journey file");
            }
            if (slug.is_some() || name.is_some()) && files.len() > 1 {
                anyhow::bail!("--slug and --name apply to a single file");
            }
            for path in files {
                let req = read_journey_file(&path, slug.clone(), name.clone())
                    .with_context(|| format!("{}", path.display()))?;
                let (dto, imported) = journeys::import(db, req, Utc::now())
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe(&e)))?;
                if activate && !dto.active {
                    journeys::change_state(db, dto.id, StateChange::Activate, Utc::now())
                        .await
                        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe(&e)))?;
                }
                let what = match imported {
                    Imported::Created => "created",
                    Imported::Updated => "updated",
                };
                println!(
                    "{what} journey {} (version {}){}",
                    dto.slug,
                    dto.version,
                    if activate { ", active" } else { "" }
                );
            }
        }
        JourneysAction::Export { slug, output } => {
            let found = Journey::find()
                .filter(journey::Column::Slug.eq(slug.as_str()))
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no journey has the slug {slug:?}"))?;
            let doc = journeys::export(db, found.id)
                .await
                .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}

/// Reads an export file, or a bare definition named by `slug` and `name`.
fn read_journey_file(
    path: &std::path::Path,
    slug: Option<String>,
    name: Option<String>,
) -> anyhow::Result<JourneyRequest> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_JOURNEY_FILE + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_JOURNEY_FILE {
        anyhow::bail!("larger than {MAX_JOURNEY_FILE} bytes");
    }
    let value: serde_json::Value = serde_json::from_str(&text).context("not JSON")?;
    if value.get("definition").is_some() {
        if slug.is_some() || name.is_some() {
            anyhow::bail!("the file names its own slug and name; leave out --slug and --name");
        }
        return serde_json::from_value(value).context("not a journey document");
    }
    let (Some(slug), Some(name)) = (slug, name) else {
        anyhow::bail!("a bare journey definition needs --slug and --name");
    };
    Ok(JourneyRequest {
        slug,
        name,
        description: String::new(),
        icon: String::new(),
        definition: value,
    })
}

/// An API error as one line, with a journey's problems listed.
fn describe(e: &ApiError) -> String {
    match e {
        ApiError::Detailed {
            message, details, ..
        } => match details.get("problems") {
            Some(serde_json::Value::Array(problems)) => {
                let list: Vec<String> = problems
                    .iter()
                    .map(|p| {
                        let node = p.get("node_id").and_then(|n| n.as_str());
                        let msg = p.get("message").and_then(|m| m.as_str()).unwrap_or("");
                        match node {
                            Some(node) => format!("{node}: {msg}"),
                            None => msg.to_owned(),
                        }
                    })
                    .collect();
                format!("{message}: {}", list.join("; "))
            }
            _ => format!("{message}: {details}"),
        },
        other => other.to_string(),
    }
}

/// `sysexits.h` codes an MTA understands.
pub const EX_DATAERR: i32 = 65;
pub const EX_IOERR: i32 = 74;
pub const EX_TEMPFAIL: i32 = 75;

/// `helpdesk mail-ingest`: one mail from stdin through the ingest; returns the exit code.
async fn mail_ingest(settings: Settings) -> i32 {
    use tokio::io::AsyncReadExt;
    let max = settings.mail.inbound.max_bytes;
    let mut raw = Vec::new();
    let read = tokio::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut raw)
        .await;
    if let Err(e) = read {
        eprintln!("mail-ingest: cannot read standard input: {e}");
        return EX_IOERR;
    }
    mail_ingest_bytes(settings, &raw).await
}

/// The work of `helpdesk mail-ingest` on a mail already read; returns the exit code.
pub async fn mail_ingest_bytes(settings: Settings, raw: &[u8]) -> i32 {
    let max = settings.mail.inbound.max_bytes;
    if raw.len() > max {
        eprintln!("mail-ingest: the mail is larger than MAIL_MAX_BYTES ({max} bytes)");
        return EX_DATAERR;
    }
    let db = match startup::connect(&settings).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("mail-ingest: database unreachable, try again later: {e:#}");
            return EX_TEMPFAIL;
        }
    };
    let mailer = match services::mail::Mailer::from_settings(&settings) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mail-ingest: {e:#}");
            return EX_TEMPFAIL;
        }
    };
    let inbox = match services::mail::inbound::Inbox::new(db, mailer, std::sync::Arc::new(settings))
    {
        Ok(i) => i,
        Err(e) => {
            eprintln!("mail-ingest: {e:#}");
            return EX_TEMPFAIL;
        }
    };
    match services::mail::inbound::ingest(&inbox, raw, services::mail::inbound::Source::Cli).await {
        Ok(outcome) => {
            println!(
                "{} {}{}{}",
                outcome.inbound_id,
                outcome.status,
                if outcome.duplicate { " duplicate" } else { "" },
                outcome.reason.map(|r| format!(": {r}")).unwrap_or_default()
            );
            0
        }
        Err(e) => {
            eprintln!("mail-ingest: {e}");
            EX_TEMPFAIL
        }
    }
}
