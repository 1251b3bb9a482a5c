//! The IMAP poller against a real Dovecot, with the app's mail delivered over SMTP (aiosmtpd)
//! into the customer's Dovecot mailbox: the whole loop a customer sees, exactly-once across a
//! stop between commit and flag, and one poller among two instances on PostgreSQL.

use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, PaginatorTrait};
use server::entity::{MailInbound, MailMailbox, MailOutbox, TicketMessage};
use shared::Role;

use crate::{
    helpers::{Backend, Overrides, TestApp, spawn_app_with},
    imap_support::Dovecot,
    inbound::{DOMAIN, inbound_vars},
    ws_client::Ws,
};

/// The support mailbox the poller reads, and the customer's mailbox aiosmtpd delivers to.
const SUPPORT: &str = "support";
const CUSTOMER_BOX: &str = "customer";

macro_rules! imap_tests {
    ($($name:ident: $($backend:ident),+;)*) => {
        $(
            mod $name {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $backend() {
                        super::$name(super::backend(stringify!($backend))).await;
                    }
                )+
            }
        )*
    };
}

imap_tests! {
    a_customer_reply_from_the_mailbox_lands_in_the_thread: sqlite, postgres;
    a_poller_stopped_between_commit_and_flag_imports_nothing_twice: sqlite, postgres;
    the_server_killed_between_commit_and_flag_imports_nothing_twice: sqlite, postgres;
    two_instances_poll_one_mailbox_once: postgres;
}

fn backend(name: &str) -> Backend {
    if name == "sqlite" {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

fn app_vars(dovecot: &Dovecot, extra: &[(&'static str, String)]) -> Overrides {
    let mut vars = vec![
        ("BACKGROUND_JOBS", "true".to_owned()),
        ("MAIL_TRANSPORT", "smtp".to_owned()),
        (
            "SMTP_URL",
            format!("smtp://127.0.0.1:{}", dovecot.smtp_port.unwrap_or(25)),
        ),
        ("MAIL_IMAP_URL", dovecot.url(SUPPORT)),
        ("MAIL_IMAP_POLL_SECS", "2".to_owned()),
    ];
    vars.extend(extra.iter().cloned());
    inbound_vars(&vars)
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn inbound_count(app: &TestApp) -> u64 {
    MailInbound::find().count(&app.db).await.unwrap()
}

fn header(raw: &[u8], name: &str) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.header_raw(name).map(|v| v.trim().to_owned()))
        .unwrap_or_default()
}

async fn a_customer_reply_from_the_mailbox_lands_in_the_thread(backend: Backend) {
    let Some(dovecot) = Dovecot::start(Some(CUSTOMER_BOX)).await else {
        return;
    };
    let Some(mut app) = spawn_app_with(backend, app_vars(&dovecot, &[])).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    let customer = app.user(Role::Customer).await;
    let (mut ws, _) = Ws::signed_in(&app, &customer.token).await;

    // The customer opens a ticket; the acknowledgement goes out over SMTP into their
    // mailbox, where they read it over IMAP.
    let t = app.ticket(&customer.token, "Printer on fire").await;
    let tid = t["id"].as_str().unwrap().to_owned();
    let mails = dovecot.wait_for(CUSTOMER_BOX, 1).await;
    let ack = &mails[0].2;
    let ack_id = header(ack, "Message-ID");
    let reply_to = header(ack, "Reply-To");
    assert!(reply_to.starts_with("support+"), "{reply_to}");
    assert!(ack_id.ends_with(&format!("@{DOMAIN}>")), "{ack_id}");

    // Their mail client answers: In-Reply-To the ack, to the Reply-To address, quoting it.
    let reply = format!(
        "From: {c}\r\nTo: {reply_to}\r\nSubject: Re: {subject}\r\nMessage-ID: <reply-1@client.example>\r\n\
         In-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\nDate: Tue, 2 Dec 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         It is still smoking.\r\n\r\nOn Tue, 2 Dec 2026 at 09:00, Help Desk wrote:\r\n> ##- reply above this line -##\r\n",
        c = customer.email,
        subject = header(ack, "Subject"),
    );
    dovecot.append(SUPPORT, reply.as_bytes()).await;

    // The poller threads it and the customer's browser hears about it.
    let event = ws
        .until("the reply's new-message", |v| {
            v["event"] == "new-message" && v["data"]["message"]["ticket_id"] == tid.as_str()
        })
        .await;
    assert_eq!(event["data"]["message"]["body"], "It is still smoking.");
    assert_eq!(
        event["data"]["message"]["email"]["from"],
        customer.email.as_str()
    );
    // Flagged \Seen on the server after the commit, and the position saved.
    wait_until("the \\Seen flag", || async {
        dovecot.mails(SUPPORT).await[0]
            .1
            .iter()
            .any(|f| f.contains("Seen"))
    })
    .await;
    let pos = MailMailbox::find().all(&app.db).await.unwrap();
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0].last_uid, 1);

    // An out-of-office reply from the customer's mailbox does not loop: stored, nothing sent.
    let outbox_before = MailOutbox::find().count(&app.db).await.unwrap();
    let ooo = format!(
        "From: {c}\r\nTo: {reply_to}\r\nSubject: Out of office: {subject}\r\nMessage-ID: <ooo-1@client.example>\r\n\
         In-Reply-To: {ack_id}\r\nAuto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n\
         Date: Tue, 2 Dec 2026 10:05:00 +0000\r\nContent-Type: text/plain\r\n\r\nI am away.\r\n",
        c = customer.email,
        subject = header(ack, "Subject"),
    );
    dovecot.append(SUPPORT, ooo.as_bytes()).await;
    wait_until("the out-of-office import", || async {
        inbound_count(&app).await == 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        MailOutbox::find().count(&app.db).await.unwrap(),
        outbox_before
    );
    assert_eq!(
        dovecot.mails(CUSTOMER_BOX).await.len(),
        1,
        "no mail went out"
    );
    assert_eq!(TicketMessage::find().count(&app.db).await.unwrap(), 1);
    ws.close().await;
    cleanup.run().await;
}

async fn a_poller_stopped_between_commit_and_flag_imports_nothing_twice(backend: Backend) {
    let Some(dovecot) = Dovecot::start(None).await else {
        return;
    };
    let Some(mut first) = spawn_app_with(backend, app_vars(&dovecot, &[])).await else {
        return;
    };
    let first_cleanup = first.take_cleanup();
    let new_mail = |n: u32| {
        format!(
            "From: eve{n}@example.com\r\nTo: support@{DOMAIN}\r\nSubject: Help {n}\r\nMessage-ID: <m{n}@client.example>\r\n\
             Date: Tue, 2 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nPlease help ({n}).\r\n"
        )
    };
    for n in 1..=3 {
        dovecot.append(SUPPORT, new_mail(n).as_bytes()).await;
    }
    wait_until("three imports", || async {
        inbound_count(&first).await == 3
    })
    .await;
    wait_until("three \\Seen flags", || async {
        dovecot
            .mails(SUPPORT)
            .await
            .iter()
            .all(|m| m.1.iter().any(|f| f.contains("Seen")))
    })
    .await;
    first_cleanup.stop_server().await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // What a crash right after the commit of mail 3 leaves behind: its import committed, but
    // neither its \Seen flag nor the poller's position.
    let uids: Vec<u32> = dovecot.mails(SUPPORT).await.iter().map(|m| m.0).collect();
    dovecot.unsee(SUPPORT, uids[2]).await;
    let mut pos = MailMailbox::find()
        .one(&first.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    pos.last_uid = Set(i64::from(uids[1]));
    pos.locked_by = Set(None);
    pos.locked_until = Set(None);
    pos.update(&first.db).await.unwrap();

    // Another instance starts on the same database and mailbox.
    let mut o = app_vars(&dovecot, &[]);
    o.vars.insert("DATABASE_URL", first.db_url.clone());
    let Some(mut second) = spawn_app_with(backend, o).await else {
        return;
    };
    let second_cleanup = second.take_cleanup();
    dovecot.append(SUPPORT, new_mail(4).as_bytes()).await;
    wait_until("the fourth import", || async {
        inbound_count(&second).await == 4
    })
    .await;
    wait_until("every mail \\Seen again", || async {
        dovecot
            .mails(SUPPORT)
            .await
            .iter()
            .all(|m| m.1.iter().any(|f| f.contains("Seen")))
    })
    .await;
    // Mail 3 was fetched again and skipped as a duplicate: four mails, four tickets.
    assert_eq!(inbound_count(&second).await, 4);
    let admin = second.user(Role::Admin).await;
    let tickets = second
        .get("/api/tickets?per_page=100", Some(&admin.token))
        .await;
    assert_eq!(
        tickets.assert_ok(200).as_array().unwrap().len(),
        4,
        "{}",
        dovecot.log()
    );
    let pos = MailMailbox::find().one(&second.db).await.unwrap().unwrap();
    assert_eq!(
        pos.last_uid,
        i64::from(
            *dovecot
                .mails(SUPPORT)
                .await
                .iter()
                .map(|m| &m.0)
                .max()
                .unwrap()
        )
    );
    // The database belongs to the first instance, which drops it.
    second_cleanup.run().await;
    first_cleanup.run().await;
}

/// The `helpdesk` binary cargo built next to this test binary (`target/debug/helpdesk`; the
/// workspace test run builds it). `None`, loudly, when it is missing and mail tests are not
/// required.
fn server_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/api-… → target/debug/helpdesk
    let bin = exe.parent()?.parent()?.join("helpdesk");
    if bin.exists() {
        return Some(bin);
    }
    let why = format!(
        "{} is missing: build it with `cargo build -p helpdesk-server --bin helpdesk`",
        bin.display()
    );
    if std::env::var("HELPDESK_REQUIRE_MAIL").is_ok_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// `helpdesk serve` on the test app's database, polling the support mailbox.
fn serve(
    bin: &std::path::Path,
    app: &TestApp,
    dovecot: &Dovecot,
    abort_after: Option<u32>,
) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db_url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", crate::helpers::JWT_SECRET)
        .env("BCRYPT_COST", crate::helpers::BCRYPT_COST.to_string())
        .env("STATIC_DIR", "no-such-dir")
        .env("UPLOAD_DIR", app.upload_dir.display().to_string())
        .env("RUST_LOG", "info")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    for (k, v) in app_vars(dovecot, &[]).vars {
        cmd.env(k, v);
    }
    if let Some(n) = abort_after {
        cmd.env("HELPDESK_TEST_ABORT_AFTER_INGEST", n.to_string());
    }
    cmd.spawn().expect("the helpdesk binary starts")
}

fn seen(flags: &[String]) -> bool {
    flags.iter().any(|f| f.contains("Seen"))
}

async fn the_server_killed_between_commit_and_flag_imports_nothing_twice(backend: Backend) {
    let Some(bin) = server_binary() else {
        return;
    };
    let Some(dovecot) = Dovecot::start(None).await else {
        return;
    };
    // The in-process app only provides the database and looks at it; its jobs are off.
    let mut o = app_vars(&dovecot, &[]);
    o.vars.insert("BACKGROUND_JOBS", "false".to_owned());
    o.vars.remove("MAIL_IMAP_URL");
    let Some(mut app) = spawn_app_with(backend, o).await else {
        return;
    };
    let cleanup = app.take_cleanup();
    for n in 1..=3 {
        let raw = format!(
            "From: kill{n}@example.com\r\nTo: support@{DOMAIN}\r\nSubject: Crash {n}\r\nMessage-ID: <kill{n}@client.example>\r\n\
             Date: Tue, 2 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nPlease help ({n}).\r\n"
        );
        dovecot.append(SUPPORT, raw.as_bytes()).await;
    }

    // The real server aborts right after committing the import of mail 2.
    let mut first = serve(&bin, &app, &dovecot, Some(2));
    let status = tokio::time::timeout(Duration::from_secs(60), first.wait())
        .await
        .expect("the server aborts at the hook")
        .unwrap();
    assert!(!status.success(), "{status:?}");
    // Mail 1 is imported and flagged; mail 2 imported but not flagged; mail 3 untouched.
    assert_eq!(inbound_count(&app).await, 2);
    let mails = dovecot.mails(SUPPORT).await;
    let flags: Vec<bool> = mails.iter().map(|m| seen(&m.1)).collect();
    assert_eq!(flags, vec![true, false, false], "{}", dovecot.log());
    let pos = MailMailbox::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(pos.last_uid, i64::from(mails[0].0));

    // The dead process's lease would lapse after MAIL_IMAP_POLL_SECS + 2 min; let that time
    // pass at once instead of waiting for it.
    let mut lease = pos.into_active_model();
    lease.locked_until = Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1)));
    lease.update(&app.db).await.unwrap();

    // Restarted without the hook: every mail flagged, each exactly one ticket.
    let mut second = serve(&bin, &app, &dovecot, None);
    wait_until("every mail \\Seen", || async {
        dovecot.mails(SUPPORT).await.iter().all(|m| seen(&m.1))
    })
    .await;
    wait_until("the position past the last mail", || async {
        MailMailbox::find()
            .one(&app.db)
            .await
            .unwrap()
            .is_some_and(|p| p.last_uid == i64::from(mails[2].0))
    })
    .await;
    second.kill().await.unwrap();
    let _ = second.wait().await;
    assert_eq!(inbound_count(&app).await, 3);
    let rows = MailInbound::find().all(&app.db).await.unwrap();
    let mut ids: Vec<_> = rows.iter().filter_map(|r| r.message_id.clone()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "<kill1@client.example>",
            "<kill2@client.example>",
            "<kill3@client.example>"
        ]
    );
    let mut tickets: Vec<_> = rows.iter().filter_map(|r| r.ticket_id).collect();
    tickets.sort();
    tickets.dedup();
    assert_eq!(tickets.len(), 3, "{rows:?}");
    let admin = app.user(Role::Admin).await;
    let list = app
        .get("/api/tickets?per_page=100", Some(&admin.token))
        .await;
    assert_eq!(list.assert_ok(200).as_array().unwrap().len(), 3);
    assert_eq!(TicketMessage::find().count(&app.db).await.unwrap(), 0);
    cleanup.run().await;
}

async fn two_instances_poll_one_mailbox_once(backend: Backend) {
    let Some(dovecot) = Dovecot::start(None).await else {
        return;
    };
    let Some(mut a) = spawn_app_with(backend, app_vars(&dovecot, &[])).await else {
        return;
    };
    let a_cleanup = a.take_cleanup();
    let mut o = app_vars(&dovecot, &[]);
    o.vars.insert("DATABASE_URL", a.db_url.clone());
    let Some(mut b) = spawn_app_with(backend, o).await else {
        return;
    };
    let b_cleanup = b.take_cleanup();
    let mut holders = std::collections::HashSet::new();
    for n in 0..10 {
        let raw = format!(
            "From: p{n}@example.com\r\nTo: support@{DOMAIN}\r\nSubject: Parallel {n}\r\nMessage-ID: <p{n}@client.example>\r\n\
             Content-Type: text/plain\r\n\r\nHello {n}.\r\n"
        );
        dovecot.append(SUPPORT, raw.as_bytes()).await;
        if let Some(m) = MailMailbox::find().one(&a.db).await.unwrap() {
            holders.extend(m.locked_by);
        }
    }
    wait_until("ten imports", || async { inbound_count(&a).await == 10 }).await;
    if let Some(m) = MailMailbox::find().one(&a.db).await.unwrap() {
        holders.extend(m.locked_by);
    }
    // One lease holder the whole time; every mail imported once, as one ticket.
    assert_eq!(holders.len(), 1, "{holders:?}");
    let admin = b.user(Role::Admin).await;
    let list = b.get("/api/tickets?per_page=100", Some(&admin.token)).await;
    assert_eq!(list.assert_ok(200).as_array().unwrap().len(), 10);
    b_cleanup.run().await;
    a_cleanup.run().await;
}
