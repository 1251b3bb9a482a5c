//! Server-side request forgery guard for webhook URLs: only `http`/`https`, and (unless the
//! admin setting `allow_private_targets` is on) no host that is or resolves to a loopback,
//! private, link-local, CGNAT, multicast, broadcast, documentation, unspecified or IPv6
//! unique-local address.
//!
//! The check runs when an endpoint is registered or its URL changed, and again before every
//! attempt: [`resolve`] looks the host up, refuses the URL if any address is forbidden, and
//! returns the address the request must connect to, so a DNS answer that changes between
//! the check and the connection (rebinding) cannot redirect it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use url::{Host, Url};

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an absolute `http(s)` URL with a host (a validation error of the field).
    #[error("{0}")]
    Invalid(String),
    /// The host is or resolves to an address that is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The host could not be resolved.
    #[error("{0}")]
    Unresolvable(String),
}

/// Parses an endpoint URL: absolute, `http` or `https`, with a host and no credentials.
pub fn parse(raw: &str) -> Result<Url, Refusal> {
    let raw = raw.trim();
    if raw.len() > shared::webhooks::MAX_URL_LEN {
        return Err(Refusal::Invalid(format!(
            "a URL has at most {} bytes",
            shared::webhooks::MAX_URL_LEN
        )));
    }
    let url = Url::parse(raw).map_err(|e| Refusal::Invalid(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Invalid(
            "only http:// and https:// URLs".to_owned(),
        ));
    }
    if url.host().is_none() {
        return Err(Refusal::Invalid("the URL has no host".to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Invalid(
            "credentials in the URL are not allowed; use the signature to authenticate".to_owned(),
        ));
    }
    Ok(url)
}

/// Whether a request to `ip` must be refused when private targets are not allowed.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local
                || (seg[0] & 0xfe00) == 0xfc00
                // fe80::/10 link-local
                || (seg[0] & 0xffc0) == 0xfe80
                // fec0::/10 site-local (deprecated)
                || (seg[0] & 0xffc0) == 0xfec0
                // 64:ff9b::/96 NAT64 and ::/96 IPv4-compatible: judge the embedded address
                || ((seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0; 4])
                    || seg[0..6] == [0; 6])
                    && forbidden_v4(Ipv4Addr::new(
                        (seg[6] >> 8) as u8,
                        seg[6] as u8,
                        (seg[7] >> 8) as u8,
                        seg[7] as u8,
                    ))
                // 2001:db8::/32 documentation
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        // 0.0.0.0/8 "this network"
        || o[0] == 0
        // 100.64.0.0/10 CGNAT
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        // 192.0.0.0/24 protocol assignments, 198.18.0.0/15 benchmarking, 240.0.0.0/4 reserved
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240
}

/// Where a request to `url` connects: the host name (for TLS and `Host`) and the checked
/// address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host as written, when it is a name (not an IP literal).
    pub domain: Option<String>,
    pub addr: SocketAddr,
}

/// Resolves `url`'s host and checks every address; returns the one to connect to.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Target, Refusal> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Refusal::Invalid("the URL has no port".to_owned()))?;
    let (domain, addrs): (Option<String>, Vec<IpAddr>) = match url.host() {
        Some(Host::Ipv4(ip)) => (None, vec![IpAddr::V4(ip)]),
        Some(Host::Ipv6(ip)) => (None, vec![IpAddr::V6(ip)]),
        Some(Host::Domain(name)) => {
            let found = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| Refusal::Unresolvable(format!("cannot resolve {name}: {e}")))?;
            let ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            if ips.is_empty() {
                return Err(Refusal::Unresolvable(format!("{name} has no address")));
            }
            (Some(name.to_owned()), ips)
        }
        None => return Err(Refusal::Invalid("the URL has no host".to_owned())),
    };
    if !allow_private && let Some(bad) = addrs.iter().find(|ip| is_forbidden(**ip)) {
        let host = url.host_str().unwrap_or_default();
        let what = if domain.is_some() {
            format!("{host} resolves to {bad}, ")
        } else {
            format!("{bad} is ")
        };
        return Err(Refusal::Forbidden(format!(
            "{what}a loopback, private, link-local or otherwise internal address; \
             an admin can allow private targets in the webhook settings"
        )));
    }
    Ok(Target {
        domain,
        addr: SocketAddr::new(addrs[0], port),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_forbidden_public_ones_are_not() {
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "64:ff9b::a00:1",
        ] {
            assert!(is_forbidden(bad.parse().unwrap()), "{bad} allowed");
        }
        for good in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(!is_forbidden(good.parse().unwrap()), "{good} refused");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_parse() {
        assert!(parse("https://example.com/hook").is_ok());
        assert!(parse("http://example.com:8080/").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com",
            "https://user:pw@example.com/",
            "gopher://x",
        ] {
            assert!(matches!(parse(bad), Err(Refusal::Invalid(_))), "{bad}");
        }
    }

    #[tokio::test]
    async fn literal_and_resolved_loopback_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/",
            "http://[::1]:9/",
            "http://10.0.0.1/",
            "http://localhost:9/",
        ] {
            let u = parse(url).unwrap();
            assert!(
                matches!(resolve(&u, false).await, Err(Refusal::Forbidden(_))),
                "{url}"
            );
        }
        let u = parse("http://127.0.0.1:9/").unwrap();
        let t = resolve(&u, true).await.unwrap();
        assert_eq!(t.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(t.domain, None);
    }
}
