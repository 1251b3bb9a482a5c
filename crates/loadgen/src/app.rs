//! The release server as a child process: `helpdesk migrate|seed` runs, and `helpdesk serve`
//! on a free loopback port with its output in a log file. The served child is killed when
//! [`Server`] is dropped, so every exit path (an error, Ctrl-C) stops it.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::loopback::ensure_loopback;

/// How the server is started: its binary and the environment every subcommand gets.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub binary: PathBuf,
    pub database_url: String,
    pub bcrypt_cost: u32,
    /// Where the log and the upload directory go.
    pub work_dir: PathBuf,
    /// The built SPA the server serves (it may not exist: then only the API is served).
    pub static_dir: PathBuf,
    /// Further environment for the server (the mail scenarios turn mail on), applied last.
    pub extra_env: Vec<(String, String)>,
    /// The server log's file name inside `work_dir`.
    pub log_name: String,
}

/// A JWT secret for the benchmark's own server only (development mode accepts any).
const BENCH_JWT_SECRET: &str = "helpdesk-bench-secret-for-a-loopback-server-only";

impl ServerConfig {
    fn command(&self, sub: &str, bind: &str) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg(sub)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("BIND_ADDR", bind)
            .env("BCRYPT_COST", self.bcrypt_cost.to_string())
            .env("BACKGROUND_JOBS", "true")
            .env("APP_ENV", "development")
            .env("JWT_SECRET", BENCH_JWT_SECRET)
            .env("RUST_LOG", "info")
            .env("STATIC_DIR", &self.static_dir)
            .env("UPLOAD_DIR", self.work_dir.join("uploads"))
            // The load comes from one address and a few users at full speed: the limits are
            // measured (they stay on) but never reached.
            .env("RATE_LIMIT_USER", "1000000000")
            .env("RATE_LIMIT_ANONYMOUS", "1000000000")
            .env("RATE_LIMIT_TOKEN", "1000000000")
            // A stray .env in the working directory must not change the run.
            .current_dir(&self.work_dir)
            .kill_on_drop(true);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `helpdesk <sub>` (migrate, seed) to completion.
    pub async fn run_once(&self, sub: &str) -> anyhow::Result<String> {
        let out = self
            .command(sub, "127.0.0.1:0")
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {} {sub}", self.binary.display()))?;
        if !out.status.success() {
            bail!(
                "`helpdesk {sub}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `helpdesk serve` on a free port and waits until `/api/health` answers.
    pub async fn serve(&self, http: &reqwest::Client) -> anyhow::Result<Server> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        ensure_loopback(&base)?;
        let log_path = self.work_dir.join(&self.log_name);
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let child = self
            .command("serve", &format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {} serve", self.binary.display()))?;
        let pid = child.id().context("server exited at once")?;
        let mut server = Server {
            child,
            pid,
            base,
            log_path,
        };
        server.wait_healthy(http, Duration::from_secs(120)).await?;
        Ok(server)
    }
}

/// A port the kernel says is free right now (the server binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The running server; dropping it kills the process.
pub struct Server {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub log_path: PathBuf,
}

impl Server {
    async fn wait_healthy(
        &mut self,
        http: &reqwest::Client,
        within: Duration,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let url = format!("{}/api/health", self.base);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was healthy; see {}",
                    self.log_path.display()
                );
            }
            if let Ok(resp) = http.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > within {
                bail!(
                    "the server was not healthy within {within:?}; see {}",
                    self.log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Lines of the server log at level ERROR or WARN (the first few), and their counts.
    pub fn log_problems(path: &Path) -> (usize, usize, Vec<String>) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut errors = 0;
        let mut warnings = 0;
        let mut first = Vec::new();
        for line in text.lines() {
            let is_error = line.contains(" ERROR ");
            let is_warn = line.contains(" WARN ");
            errors += usize::from(is_error);
            warnings += usize::from(is_warn);
            if (is_error || is_warn) && first.len() < 10 {
                first.push(line.chars().take(300).collect());
            }
        }
        (errors, warnings, first)
    }
}
