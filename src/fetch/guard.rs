//! The SSRF guard: refuses to connect to loopback, private, link-local, unique-local and unspecified addresses.
//!
//! A feed URL comes from configuration, but every redirect target comes from a server we do not control, so a
//! public-looking feed could bounce the daemon to `http://127.0.0.1:…/admin` or into the LAN. The guard sits in two
//! places so that a DNS answer cannot slip past it:
//! - [`GuardedResolver`] is reqwest's DNS resolver: it checks the very addresses the connection will use (no
//!   second lookup that a rebinding DNS server could answer differently);
//! - [`check_literal`] checks hosts written as IP literals, which reqwest never hands to a resolver.
//!
//! Host overrides given to [`crate::fetch::Fetcher::with_host_overrides`] bypass the resolver (reqwest applies
//! them first) and are therefore trusted: that is how tests make `news.example` stand for a public host while it
//! actually lives on 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The resolver refused a host because it resolves to a non-public address.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    #[error(
        "{host} resolves to the non-public address {ip}; refused (set allow_private to permit it)"
    )]
    Resolved { host: String, ip: IpAddr },
    #[error("the non-public address {0} is refused for a source not configured on one (set allow_private to permit it)")]
    Literal(IpAddr),
}

/// The host name could not be resolved at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {host}: {reason}")]
pub(crate) struct DnsFailure {
    pub host: String,
    pub reason: String,
}

/// True for addresses a feed fetcher must not reach unless the operator allows it.
pub(crate) fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => {
            // An IPv4-mapped address (::ffff:10.0.0.1) reaches the IPv4 host: judge that one.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link local fe80::/10
        }
    }
}

fn is_non_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || a == 0 // "this network" 0.0.0.0/8
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
}

/// The URL's host when it is an IP literal.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    }
}

/// True when the URL names a non-public address literally (`http://127.0.0.1:8080/feed`). Such a configured
/// source URL is the operator's explicit choice, so its fetches (including redirects) are exempt from the guard.
pub(crate) fn is_non_public_literal(url: &Url) -> bool {
    literal_ip(url).is_some_and(is_non_public)
}

/// True when the URL's host is a name that resolves only to non-public addresses (`localhost`, an intranet
/// name): the operator configured the source there on purpose. A name that fails to resolve is not exempt.
pub(crate) async fn resolves_non_public(url: &Url) -> bool {
    let Some(url::Host::Domain(host)) = url.host() else {
        return false;
    };
    let lookup = tokio::net::lookup_host((host, url.port_or_known_default().unwrap_or(80)));
    // A resolver that hangs must not hold the fetch up: then the source is simply not exempt.
    match tokio::time::timeout(std::time::Duration::from_secs(5), lookup).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| is_non_public(a.ip()))
        }
        _ => false,
    }
}

/// Refuses an IP-literal host that is not public. Domain names are checked by [`GuardedResolver`].
pub(crate) fn check_literal(url: &Url) -> Result<(), Refused> {
    match literal_ip(url) {
        Some(ip) if is_non_public(ip) => Err(Refused::Literal(ip)),
        _ => Ok(()),
    }
}

/// reqwest DNS resolver that resolves with the system resolver and refuses non-public answers.
pub(crate) struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let lookup = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|found| found.collect::<Vec<SocketAddr>>());
            let addrs = match lookup {
                Ok(addrs) => addrs,
                Err(e) => {
                    return Err(Box::new(DnsFailure {
                        host,
                        reason: e.to_string(),
                    }) as _)
                }
            };
            if addrs.is_empty() {
                let reason = "no addresses".to_owned();
                return Err(Box::new(DnsFailure { host, reason }) as _);
            }
            if !allow_private {
                // Refuse when ANY answer is non-public rather than filtering: a name that mixes public and
                // private addresses is either misconfigured or an attack, and silently picking one hides both.
                if let Some(bad) = addrs.iter().find(|a| is_non_public(a.ip())) {
                    return Err(Box::new(Refused::Resolved { host, ip: bad.ip() }) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classifies_addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(is_non_public(ip(bad)), "{bad} must be refused");
        }
        for good in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450::1",
            "::ffff:1.1.1.1",
        ] {
            assert!(!is_non_public(ip(good)), "{good} must be allowed");
        }
    }

    #[test]
    fn literal_hosts() {
        let local = Url::parse("http://127.0.0.1:8080/feed").unwrap();
        let v6 = Url::parse("http://[::1]/feed").unwrap();
        let public = Url::parse("https://example.com/feed").unwrap();
        assert!(check_literal(&local).is_err());
        assert!(check_literal(&v6).is_err());
        assert!(check_literal(&public).is_ok());
        assert!(is_non_public_literal(&local));
        assert!(!is_non_public_literal(&public));
    }

    #[tokio::test]
    async fn resolver_refuses_localhost_unless_allowed() {
        let name: Name = "localhost".parse().unwrap();
        let err = GuardedResolver {
            allow_private: false,
        }
        .resolve(name)
        .await
        .err()
        .unwrap();
        assert!(err.downcast_ref::<Refused>().is_some(), "{err}");
        let name: Name = "localhost".parse().unwrap();
        assert!(GuardedResolver {
            allow_private: true
        }
        .resolve(name)
        .await
        .is_ok());
    }
}
