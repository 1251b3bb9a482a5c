//! Backups and restores of a whole installation: the database and the upload directory.
//!
//! - SQLite: `VACUUM INTO` writes a consistent copy of the live database (other connections
//!   keep reading and writing meanwhile); restore puts that file back in place.
//! - PostgreSQL: `pg_dump --format=custom` (the PostgreSQL client tools must be installed);
//!   restore runs `pg_restore --clean --if-exists` into `DATABASE_URL`.
//!
//! A backup is a directory: `helpdesk.db` or `helpdesk.dump`, plus `uploads/` (a copy of
//! `UPLOAD_DIR`). The database is copied first, then the files: an attachment row is written
//! only after its file, so every attachment in the copied database has its file in the copy.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

use crate::config::Settings;

/// The database file inside a SQLite backup.
pub const SQLITE_FILE: &str = "helpdesk.db";
/// The dump inside a PostgreSQL backup.
pub const PG_DUMP_FILE: &str = "helpdesk.dump";
/// The copy of the upload directory inside a backup.
pub const UPLOADS: &str = "uploads";

/// What a backup wrote.
#[derive(Debug)]
pub struct Report {
    pub database: PathBuf,
    pub files: u64,
}

/// Writes a backup of the running installation into `dest`, which must not exist or be empty.
pub async fn backup(
    db: &DatabaseConnection,
    settings: &Settings,
    dest: &Path,
) -> anyhow::Result<Report> {
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!(
            "{} is not empty; back up into a new directory",
            dest.display()
        );
    }
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let database = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let out = dest.join(PG_DUMP_FILE);
            run(std::process::Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--no-owner")
                .arg("--file")
                .arg(&out)
                .arg(&settings.database_url))?;
            out
        }
        _ => {
            let out = dest.join(SQLITE_FILE);
            let quoted = out.to_string_lossy().replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
                .await
                .context("VACUUM INTO")?;
            out
        }
    };
    let files = copy_dir(&settings.upload_dir, &dest.join(UPLOADS))?;
    Ok(Report { database, files })
}

/// Puts a backup made by [`backup`] back: the database named by `DATABASE_URL` and the upload
/// directory. Refuses to overwrite an existing SQLite database or upload files unless `force`.
/// Stop the server first.
pub fn restore(settings: &Settings, src: &Path, force: bool) -> anyhow::Result<Report> {
    let uploads = src.join(UPLOADS);
    let database = if settings.database_url.starts_with("sqlite:") {
        let file = src.join(SQLITE_FILE);
        if !file.is_file() {
            bail!(
                "{} has no {SQLITE_FILE}: not a SQLite backup",
                src.display()
            );
        }
        let target = crate::startup::sqlite_file(&settings.database_url)
            .map(PathBuf::from)
            .context("DATABASE_URL names no SQLite file to restore into")?;
        if target.exists() && !force {
            bail!("{} exists; pass --force to replace it", target.display());
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // Copy next to the target, then rename: the database is never half written.
        let partial = target.with_extension("restoring");
        std::fs::copy(&file, &partial).with_context(|| format!("copying {}", file.display()))?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let stale = PathBuf::from(format!("{}{suffix}", target.display()));
            if stale.exists() {
                std::fs::remove_file(&stale)?;
            }
        }
        std::fs::rename(&partial, &target)?;
        target
    } else {
        let file = src.join(PG_DUMP_FILE);
        if !file.is_file() {
            bail!(
                "{} has no {PG_DUMP_FILE}: not a PostgreSQL backup",
                src.display()
            );
        }
        run(std::process::Command::new("pg_restore")
            .arg("--clean")
            .arg("--if-exists")
            .arg("--no-owner")
            .arg("--dbname")
            .arg(&settings.database_url)
            .arg(&file))?;
        file
    };
    if settings.upload_dir.exists()
        && std::fs::read_dir(&settings.upload_dir)?.next().is_some()
        && !force
    {
        bail!(
            "{} is not empty; pass --force to restore the uploads into it",
            settings.upload_dir.display()
        );
    }
    let files = if uploads.is_dir() {
        copy_dir(&uploads, &settings.upload_dir)?
    } else {
        0
    };
    Ok(Report { database, files })
}

fn run(cmd: &mut std::process::Command) -> anyhow::Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().with_context(|| {
        format!("cannot run {program} (are the PostgreSQL client tools installed?)")
    })?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Copies the files of `from` (recursively) into `to`; returns how many. A missing `from` is
/// an empty directory.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<u64> {
    std::fs::create_dir_all(to)?;
    if !from.is_dir() {
        return Ok(0);
    }
    let mut n = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            n += copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            n += 1;
        }
    }
    Ok(n)
}
