//! A real SMTP server for the mail tests: aiosmtpd (PyPI) writing to a Maildir, started as a
//! child process on a free 127.0.0.1 port and killed when the [`SmtpSink`] is dropped.
//!
//! Without aiosmtpd the mail tests print `SKIPPED: mail` and pass, unless
//! `HELPDESK_REQUIRE_MAIL=1` (set by CI), in which case they fail.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::TcpStream,
    process::{Child, Command},
};

/// Which handler the sink runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// `aiosmtpd.handlers.Mailbox`: accepts everything.
    Mailbox,
    /// `tests/mail/picky_sink.py`: 550 for `reject*@`, 451 once for `tempfail*@`.
    Picky,
}

pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    _child: Child,
    _dir: TempDir,
}

fn required() -> bool {
    std::env::var("HELPDESK_REQUIRE_MAIL").is_ok_and(|v| v == "1")
}

fn skip(why: &str) -> Option<SmtpSink> {
    if required() {
        panic!("aiosmtpd is required (HELPDESK_REQUIRE_MAIL=1) but unusable: {why}");
    }
    eprintln!("################################################################");
    eprintln!("SKIPPED: mail ({why}; `python3 -m pip install aiosmtpd==1.4.6`)");
    eprintln!("################################################################");
    None
}

async fn aiosmtpd_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until the server on `port` sends its `220` greeting, or `deadline`.
async fn greeted(port: u16, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        if let Ok(Ok(stream)) = tokio::time::timeout(
            Duration::from_secs(2),
            TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            let mut line = String::new();
            let mut reader = BufReader::new(stream);
            if let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line)).await
                && line.starts_with("220")
            {
                return true;
            }
        }
        // Not listening yet: the process is still importing; try again shortly.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

impl SmtpSink {
    /// Starts a sink, or `None` (after saying so) when aiosmtpd is not installed.
    pub async fn start(handler: Handler) -> Option<Self> {
        if !aiosmtpd_installed().await {
            return skip("python3 cannot import aiosmtpd");
        }
        let mut last_error = String::new();
        // A port picked free can be taken before the child binds it; try a few.
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let maildir = dir.path().join("maildir");
            let port = free_port().expect("a free port");
            let class = match handler {
                Handler::Mailbox => "aiosmtpd.handlers.Mailbox",
                Handler::Picky => "picky_sink.PickyMailbox",
            };
            let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("mail");
            let mut child = Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", class])
                .arg(&maildir)
                .env("PYTHONPATH", &scripts)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .expect("python3 runs");
            let deadline = Instant::now() + Duration::from_secs(20);
            if greeted(port, deadline).await {
                return Some(Self {
                    port,
                    maildir,
                    _child: child,
                    _dir: dir,
                });
            }
            last_error = format!("no SMTP greeting on port {port}");
            let _ = child.kill().await;
        }
        skip(&last_error)
    }

    /// `SMTP_URL` for the app.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message delivered so far.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .collect()
    }

    /// Waits until at least `n` messages arrived (or fails the test after 30 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mails, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
