//! The delivery worker's SMTP client: one connection to `SMTP_URL`, opened on the first mail
//! of a run, reused for every mail after it (checked with `NOOP` first, as lettre's pool
//! does) and closed with `QUIT` when the run has nothing left to send.
//!
//! The SMTP conversation itself is lettre's ([`AsyncSmtpConnection`]); only the socket is
//! ours, because lettre's own transport (and its pool) cannot set `TCP_NODELAY`. lettre
//! writes a message and its terminating `.` in two writes; with Nagle's algorithm on, the
//! second one waits for the server's delayed ACK (40 ms on Linux), which capped delivery at
//! about 20 mails per second on one connection.
//!
//! `SMTP_URL` is read as lettre reads it: `smtp://host:25` (plain), `smtp://host:587?tls=required`
//! or `?tls=opportunistic` (STARTTLS), `smtps://host:465` (implicit TLS); `user:password@`
//! (percent-encoded) logs in with PLAIN or LOGIN; a path names the EHLO host.

use std::{
    fmt, io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use lettre::{
    address::Envelope,
    transport::smtp::{
        authentication::{Credentials, Mechanism},
        client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters},
        extension::ClientId,
        response::Response,
    },
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::client::TlsStream;

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    None,
    /// STARTTLS, refusing to go on without it.
    Required,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// TLS from the first byte (`smtps://`).
    Wrapper,
}

/// Where and how to connect, parsed from `SMTP_URL`.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("login", &self.credentials.is_some())
            .finish()
    }
}

/// Why a mail could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server answered with an error (or the conversation broke down); lettre knows
    /// whether it is permanent.
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// No answer in time, or the connection could not be opened: always temporary.
    #[error("{0}")]
    Connection(String),
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "a bad %-escape in the user or password".to_owned())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user or password is not UTF-8".to_owned())
}

impl Target {
    /// Parses `SMTP_URL`; `timeout` bounds connecting and every mail.
    pub fn parse(smtp_url: &str, timeout: Duration) -> Result<Self, String> {
        let url = url::Url::parse(smtp_url).map_err(|e| e.to_string())?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None) => (Tls::None, 25),
            ("smtp", Some("required")) => (Tls::Required, 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic, 587),
            ("smtps", _) => (Tls::Wrapper, 465),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme `{scheme}` or tls parameter {tls:?} (smtp://, smtps://, ?tls=required|opportunistic)"
                ));
            }
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(
                percent_decode(url.username())?,
                percent_decode(password)?,
            )),
            None => None,
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            tls,
            credentials,
            hello,
            timeout,
        })
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SendError> {
        Ok(TlsParameters::new(self.host.clone())?)
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let tcp = within(self.timeout, async {
            TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| SendError::Connection(format!("connecting: {e}")))
        })
        .await?;
        tcp.set_nodelay(true)
            .map_err(|e| SendError::Connection(format!("TCP_NODELAY: {e}")))?;
        let mut conn = within(self.timeout, async {
            let stream: Box<dyn AsyncTokioStream> = if self.tls == Tls::Wrapper {
                Box::new(wrap_tls(&self.host, tcp).await?)
            } else {
                Box::new(tcp)
            };
            Ok(AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?)
        })
        .await?;
        let starttls = match self.tls {
            Tls::Required => true,
            Tls::Opportunistic => conn.can_starttls(),
            Tls::None | Tls::Wrapper => false,
        };
        within(self.timeout, async {
            if starttls {
                conn.starttls(self.tls_parameters()?, &self.hello).await?;
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await?;
            }
            Ok(())
        })
        .await?;
        Ok(conn)
    }
}

async fn within<T>(
    limit: Duration,
    f: impl Future<Output = Result<T, SendError>>,
) -> Result<T, SendError> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| SendError::Connection(format!("no answer within {} s", limit.as_secs())))?
}

async fn wrap_tls(host: &str, tcp: TcpStream) -> Result<TlsTcp, SendError> {
    let tls_error = |e: String| SendError::Connection(format!("TLS: {e}"));
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls_error(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| tls_error(e.to_string()))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| tls_error(e.to_string()))?;
    Ok(TlsTcp(stream))
}

/// A TLS stream lettre can talk over.
struct TlsTcp(TlsStream<TcpStream>);

impl fmt::Debug for TlsTcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTcp")
    }
}

impl AsyncRead for TlsTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// One worker's connection, opened when first needed.
pub struct Session {
    target: Target,
    conn: Option<AsyncSmtpConnection>,
}

impl Session {
    pub fn new(target: Target) -> Self {
        Self { target, conn: None }
    }

    /// Sends one message over the open connection (checked with `NOOP`), or a new one, all
    /// within the timeout. After any failure the connection is dropped, and the next mail
    /// opens another.
    pub async fn send(&mut self, envelope: &Envelope, raw: &[u8]) -> Result<Response, SendError> {
        let limit = self.target.timeout;
        match tokio::time::timeout(limit, self.send_within(envelope, raw)).await {
            Ok(sent) => sent,
            Err(_) => {
                self.conn = None;
                Err(SendError::Connection(format!(
                    "no answer within {} s",
                    limit.as_secs()
                )))
            }
        }
    }

    async fn send_within(
        &mut self,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<Response, SendError> {
        let limit = self.target.timeout;
        let reused = match self.conn.take() {
            Some(mut conn) => {
                let alive = within(limit, async { Ok(conn.test_connected().await) })
                    .await
                    .unwrap_or(false);
                if alive {
                    Some(conn)
                } else {
                    conn.abort().await;
                    None
                }
            }
            None => None,
        };
        let mut conn = match reused {
            Some(conn) => conn,
            None => self.target.connect().await?,
        };
        let sent = within(limit, async { Ok(conn.send(envelope, raw).await?) }).await;
        match &sent {
            Ok(_) if !conn.has_broken() => self.conn = Some(conn),
            _ => conn.abort().await,
        }
        sent
    }

    /// Says `QUIT` and closes the connection, if one is open.
    pub async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let limit = self.target.timeout;
            if within(limit, async { Ok(conn.quit().await?) })
                .await
                .is_err()
            {
                conn.abort().await;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn urls_are_read_as_lettre_reads_them() {
        let t = Target::parse("smtp://127.0.0.1:2525", T).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.tls),
            ("127.0.0.1", 2525, Tls::None)
        );
        assert!(t.credentials.is_none());
        let t = Target::parse("smtp://u%40x:p%3Aw@mail.example.com?tls=required", T).unwrap();
        assert_eq!((t.port, t.tls), (587, Tls::Required));
        assert!(t.credentials == Some(Credentials::new("u@x".into(), "p:w".into())));
        let t = Target::parse("smtp://mail.example.com?tls=opportunistic", T).unwrap();
        assert_eq!(t.tls, Tls::Opportunistic);
        let t = Target::parse("smtps://mail.example.com/helpdesk.example.com", T).unwrap();
        assert_eq!((t.port, t.tls), (465, Tls::Wrapper));
        assert_eq!(t.hello, ClientId::Domain("helpdesk.example.com".into()));
        for bad in [
            "http://x",
            "smtp://x?tls=maybe",
            "smtp://",
            "nonsense",
            "smtp://u:%zz@x",
        ] {
            assert!(Target::parse(bad, T).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_connection_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut session =
            Session::new(Target::parse(&format!("smtp://127.0.0.1:{port}"), T).unwrap());
        let envelope = Envelope::new(
            Some("a@example.com".parse().unwrap()),
            vec!["b@example.com".parse().unwrap()],
        )
        .unwrap();
        assert!(matches!(
            session.send(&envelope, b"Subject: x\r\n\r\nx").await,
            Err(SendError::Connection(_))
        ));
    }
}
