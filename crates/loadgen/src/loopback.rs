//! The benchmark talks to this machine only: every address it is given (the PostgreSQL server,
//! the HTTP and WebSocket target) must be 127.0.0.1, and anything else is refused before a
//! single packet is sent.

use anyhow::{Context, bail};

/// The host part of a URL such as `postgres://user:pw@127.0.0.1:5432/db` or
/// `http://127.0.0.1:8080/api`.
fn host_of(url: &str) -> anyhow::Result<&str> {
    let (_, rest) = url
        .split_once("://")
        .with_context(|| format!("`{url}` is not a URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    Ok(host)
}

/// Refuses any URL whose host is not 127.0.0.1 (`localhost` is refused too: it may resolve
/// elsewhere).
pub fn ensure_loopback(url: &str) -> anyhow::Result<()> {
    let host = host_of(url)?;
    if host != "127.0.0.1" {
        bail!("refusing `{host}`: the benchmark only talks to 127.0.0.1");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_127_0_0_1() {
        for ok in [
            "postgres://postgres@127.0.0.1:5432",
            "postgres://postgres:secret@127.0.0.1:5432/helpdesk_bench",
            "http://127.0.0.1:8080/api/health",
            "ws://127.0.0.1:1234/ws?token=a.b.c",
            "postgres://127.0.0.1/db",
        ] {
            assert!(ensure_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "postgres://postgres@10.0.0.5:5432",
            "postgres://postgres@db.example.com/helpdesk",
            "http://localhost:8080",
            "http://127.0.0.1.example.com/",
            "http://user@192.168.1.1@127.0.0.2/",
            "postgres://[::1]:5432/db",
            "127.0.0.1:5432",
        ] {
            assert!(ensure_loopback(bad).is_err(), "{bad}");
        }
    }
}
