//! The `helpdesk` command line: `serve` (default), `migrate`, `seed`, `create-admin`.

use chrono::Utc;
use clap::{Parser, Subcommand};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use shared::{
    Role,
    validate::{Email, Password},
};

use crate::{
    auth::password,
    config::{Settings, redact_url},
    entity::{User, user},
    services::{
        self, seed,
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
