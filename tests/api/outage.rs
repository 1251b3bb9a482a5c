//! A database outage: the test runs a PostgreSQL server of its own (its own data directory
//! and port), stops it under load and starts it again. Meanwhile the API answers 503
//! `service_unavailable` with `Retry-After` (never a hang, never a 500), recovers by itself
//! once the database is back, and loses nothing it acknowledged.

use std::{path::PathBuf, process::Command, time::Duration};

use serde_json::json;
use shared::Role;

use crate::helpers::{Backend, Overrides, spawn_app_with};

/// A throwaway PostgreSQL cluster run as the `postgres` system user (it refuses root).
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn pg_ctl(&self, args: &[&str]) {
        let status = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(args)
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl {args:?} failed");
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        self.pg_ctl(&["-o", &opts, "-l", "/dev/null", "-w", "start"]);
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .status();
    }
}

fn as_postgres(program: &std::path::Path) -> Command {
    if nix_is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The newest installed PostgreSQL's binaries, if any.
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn cluster() -> Option<Cluster> {
    let Some(bin) = pg_bin() else {
        assert!(
            std::env::var("HELPDESK_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "PostgreSQL is required but its server binaries are not installed"
        );
        eprintln!("SKIPPED: database outage (no PostgreSQL server binaries)");
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    if nix_is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let init = as_postgres(&bin.join("initdb"))
        .args(["-A", "trust", "-U", "postgres", "-D"])
        .arg(&data)
        .output()
        .expect("initdb runs");
    assert!(init.status.success(), "initdb: {init:?}");
    let cluster = Cluster {
        bin,
        data,
        port: free_port(),
        _dir: dir,
    };
    cluster.start();
    Some(cluster)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_a_503_and_heals_by_itself() {
    let Some(pg) = cluster() else {
        return;
    };
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let overrides = Overrides {
        vars: [("DATABASE_URL", url)].into_iter().collect(),
    };
    let mut app = spawn_app_with(Backend::Postgres, overrides).await.unwrap();
    let cleanup = app.take_cleanup();
    let customer = app.user(Role::Customer).await;
    let before = app.ticket(&customer.token, "Before the outage").await;

    pg.stop();
    // While it is down: clear 503s within the pool's 10 s acquire timeout, for reads and
    // writes alike.
    {
        let started = std::time::Instant::now();
        let read = app.get("/api/tickets", Some(&customer.token)).await;
        read.assert_error(503, "service_unavailable");
        assert_eq!(read.headers["retry-after"], "5");
        let write = app
            .post(
                "/api/tickets",
                Some(&customer.token),
                &json!({"subject": "During the outage", "description": "d"}),
            )
            .await;
        write.assert_error(503, "service_unavailable");
        assert!(started.elapsed() < Duration::from_secs(25), "requests hang");
    }
    let ready = app.get("/api/health/ready", None).await;
    ready.assert_error(503, "service_unavailable");

    pg.start();
    // Back by itself: the pool reconnects.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let resp = app.get("/api/tickets", Some(&customer.token)).await;
        if resp.status.as_u16() == 200 {
            let subjects: Vec<&str> = resp.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["subject"].as_str())
                .collect();
            assert_eq!(
                subjects,
                ["Before the outage"],
                "nothing lost, nothing half-written"
            );
            break;
        }
        resp.assert_error(503, "service_unavailable");
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.get(
        &format!("/api/tickets/{}", before["id"].as_str().unwrap()),
        Some(&customer.token),
    )
    .await
    .assert_ok(200);
    app.ticket(&customer.token, "After the outage").await;
    cleanup.run().await;
}
