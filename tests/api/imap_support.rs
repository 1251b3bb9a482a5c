//! A real IMAP server for the inbound mail tests: Dovecot (Debian's `dovecot-imapd`) started
//! by the test as a process (`dovecot -F -c <tempdir>/dovecot.conf`) on a free 127.0.0.1 port,
//! with plain-text logins (a static password), no TLS, and mail processes running as the
//! unprivileged user `helpdesk-mailtest` (Dovecot refuses root for them). An aiosmtpd SMTP
//! server delivers into one of its Maildirs, so mail the app sends can be read over IMAP.
//!
//! Without Dovecot (or the test user) the tests print `SKIPPED: imap` and pass, unless
//! `HELPDESK_REQUIRE_MAIL=1` (CI), in which case they fail.

use std::{
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tempfile::TempDir;
use tokio::{
    net::TcpStream,
    process::{Child, Command},
};

/// The unprivileged user Dovecot's mail processes run as (created by `make mail-tools`).
pub const TEST_USER: &str = "helpdesk-mailtest";
/// Every IMAP user's password (a static passdb).
pub const PASSWORD: &str = "secret";

pub struct Dovecot {
    pub port: u16,
    _child: Child,
    _smtp: Option<Child>,
    /// The SMTP port of the aiosmtpd that delivers into [`Dovecot::inbox_of`]'s Maildir.
    pub smtp_port: Option<u16>,
    dir: TempDir,
}

fn required() -> bool {
    std::env::var("HELPDESK_REQUIRE_MAIL").is_ok_and(|v| v == "1")
}

fn skip(why: &str) -> Option<Dovecot> {
    if required() {
        panic!("Dovecot is required (HELPDESK_REQUIRE_MAIL=1) but unusable: {why}");
    }
    eprintln!("################################################################");
    eprintln!("SKIPPED: imap ({why}; `make mail-tools` installs dovecot-imapd and the test user)");
    eprintln!("################################################################");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "base_dir = {d}/run\n\
         state_dir = {d}/state\n\
         log_path = {d}/dovecot.log\n\
         listen = 127.0.0.1\n\
         protocols = imap\n\
         ssl = no\n\
         disable_plaintext_auth = no\n\
         auth_mechanisms = plain login\n\
         mail_location = maildir:{d}/mail/%n\n\
         first_valid_uid = 1\n\
         passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
         userdb {{\n  driver = static\n  args = uid={TEST_USER} gid={TEST_USER} home={d}/home/%n\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
         service stats {{\n  unix_listener stats-reader {{\n    mode = 0666\n  }}\n  unix_listener stats-writer {{\n    mode = 0666\n  }}\n}}\n"
    )
}

async fn greeted(port: u16, prefix: &str, deadline: Instant) -> bool {
    use tokio::io::{AsyncBufReadExt, BufReader};
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
                && line.starts_with(prefix)
            {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A Maildir both root (aiosmtpd) and the test user (Dovecot) can write.
fn shared_maildir(path: &Path) {
    for sub in ["", "new", "cur", "tmp"] {
        let p = path.join(sub);
        std::fs::create_dir_all(&p).expect("maildir");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    }
}

impl Dovecot {
    /// Starts Dovecot, and with `smtp_into = Some(user)` an aiosmtpd that delivers every mail
    /// into that user's INBOX. `None` (after saying so) when either cannot run here.
    pub async fn start(smtp_into: Option<&str>) -> Option<Self> {
        if !succeeds("dovecot", &["--version"]).await {
            return skip("`dovecot` is not installed");
        }
        if !succeeds("id", &[TEST_USER]).await {
            return skip(&format!("the user {TEST_USER} does not exist"));
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("dir");
        }
        for sub in ["mail", "home"] {
            std::fs::set_permissions(dir.path().join(sub), std::fs::Permissions::from_mode(0o777))
                .expect("chmod");
        }
        let port = free_port();
        let conf = dir.path().join("dovecot.conf");
        std::fs::write(&conf, config(dir.path(), port)).expect("config");
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("dovecot runs");
        if !greeted(port, "* OK", Instant::now() + Duration::from_secs(20)).await {
            let log = std::fs::read_to_string(dir.path().join("dovecot.log")).unwrap_or_default();
            return skip(&format!("no IMAP greeting on port {port}: {log}"));
        }
        let mail_root = dir.path().join("mail");
        let (smtp, smtp_port) = match smtp_into {
            None => (None, None),
            Some(user) => {
                let maildir = mail_root.join(user);
                shared_maildir(&maildir);
                let smtp_port = free_port();
                let smtp = Command::new("python3")
                    .args(["-m", "aiosmtpd", "-n", "-l"])
                    .arg(format!("127.0.0.1:{smtp_port}"))
                    .args(["-c", "aiosmtpd.handlers.Mailbox"])
                    .arg(&maildir)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("python3 runs");
                if !greeted(smtp_port, "220", Instant::now() + Duration::from_secs(20)).await {
                    return skip("aiosmtpd did not start (python3 -m pip install aiosmtpd==1.4.6)");
                }
                (Some(smtp), Some(smtp_port))
            }
        };
        Some(Self {
            port,
            _child: child,
            _smtp: smtp,
            smtp_port,
            dir,
        })
    }

    /// `MAIL_IMAP_URL` for `user`'s INBOX.
    pub fn url(&self, user: &str) -> String {
        format!("imap://{user}:{PASSWORD}@127.0.0.1:{}/INBOX", self.port)
    }

    /// A logged-in session of `user` with INBOX selected.
    pub async fn session(&self, user: &str) -> Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("IMAP connect");
        let mut client = Client::new(tcp);
        client
            .read_response()
            .await
            .expect("greeting")
            .expect("greeting");
        let mut s = client
            .login(user, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("IMAP login");
        s.select("INBOX").await.expect("select INBOX");
        s
    }

    /// Appends `raw` to `user`'s INBOX (as a mail client or an MTA would deliver it).
    pub async fn append(&self, user: &str, raw: &[u8]) {
        let mut s = self.session(user).await;
        s.append("INBOX", None, None, raw).await.expect("APPEND");
        let _ = s.logout().await;
    }

    /// Every mail in `user`'s INBOX: (uid, flags, raw).
    pub async fn mails(&self, user: &str) -> Vec<(u32, Vec<String>, Vec<u8>)> {
        let mut s = self.session(user).await;
        let fetched: Vec<_> = s
            .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[])")
            .await
            .expect("UID FETCH")
            .try_collect()
            .await
            .expect("fetch results");
        let out = fetched
            .iter()
            .filter_map(|f| {
                Some((
                    f.uid?,
                    f.flags().map(|fl| format!("{fl:?}")).collect(),
                    f.body()?.to_vec(),
                ))
            })
            .collect();
        let _ = s.logout().await;
        out
    }

    /// Waits until `user`'s INBOX holds at least `n` mails (fails after 30 s).
    pub async fn wait_for(&self, user: &str, n: usize) -> Vec<(u32, Vec<String>, Vec<u8>)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails = self.mails(user).await;
            if mails.len() >= n {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mails for {user}, got {}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Clears `\Seen` on `uid` in `user`'s INBOX.
    pub async fn unsee(&self, user: &str, uid: u32) {
        let mut s = self.session(user).await;
        let _: Vec<_> = s
            .uid_store(uid.to_string(), "-FLAGS.SILENT (\\Seen)")
            .await
            .expect("UID STORE")
            .try_collect()
            .await
            .expect("store results");
        let _ = s.logout().await;
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}
