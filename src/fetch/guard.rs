//! The SSRF guard: refuses to connect to any address that is not globally reachable unicast ([`is_non_public`]).
//!
//! A feed URL comes from configuration, but every redirect target comes from a server we do not control, and so
//! does the DNS of every name: a public-looking feed could bounce the daemon to `http://127.0.0.1:…/admin`, or
//! its name could be pointed at 10/8 or 169.254.169.254, and the answer would be republished. So the exemption is
//! decided once, from the config alone ([`private_allowed`]): a source configured on a non-public IP literal, or
//! one marked `allow_private = true`. Every other fetch is checked on every poll and every hop, a stored
//! permanent-redirect target included. The guard sits in two places so that a DNS answer cannot slip past it:
//! - [`GuardedResolver`] is reqwest's DNS resolver: it checks the very addresses the connection will use (no
//!   second lookup that a rebinding DNS server could answer differently);
//! - [`check_literal`] checks hosts written as IP literals, which reqwest never hands to a resolver.
//!
//! Host overrides given to [`crate::fetch::Fetcher::with_host_overrides`] bypass the resolver (reqwest applies
//! them first) and are therefore trusted: that is how tests make `news.example` stand for a public host while it
//! actually lives on 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The resolver refused a host because it resolves to a non-public address.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    #[error(
        "{host} resolves to the non-public address {ip}; refused (set allow_private = true on the source to permit it)"
    )]
    Resolved { host: String, ip: IpAddr },
    #[error("the non-public address {0} is refused for a source not configured on one (set allow_private = true on the source to permit it)")]
    Literal(IpAddr),
}

/// The host name could not be resolved at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {host}: {reason}")]
pub(crate) struct DnsFailure {
    pub host: String,
    pub reason: String,
}

/// True for addresses a feed fetcher must not reach unless the operator allows it: everything that is not
/// globally reachable unicast (loopback, private, shared, link-local, documentation, benchmarking, reserved,
/// multicast, broadcast, unspecified), and IPv6 forms that lead to such an IPv4 address (mapped, compatible,
/// NAT64, 6to4).
pub(crate) fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => is_non_public_v6(v6),
    }
}

fn is_non_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback() // 127.0.0.0/8
        || v4.is_private() // 10/8, 172.16/12, 192.168/16
        || v4.is_link_local() // 169.254/16 (cloud metadata lives here)
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast() // 224/4
        || a == 0 // "this network" 0.0.0.0/8
        || a >= 240 // reserved 240.0.0.0/4
        || (a == 100 && (64..128).contains(&b)) // shared (carrier-grade NAT) 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1 192.0.2.0/24
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast 192.88.99.0/24
        || (a == 198 && (b & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2 198.51.100.0/24
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3 203.0.113.0/24
}

fn is_non_public_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // Forms that carry an IPv4 address reach that host: judge the IPv4 address.
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_non_public_v4(v4); // ::ffff:0:0/96
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_non_public_v4(embedded(s[6], s[7])); // NAT64 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return is_non_public_v4(embedded(s[1], s[2])); // 6to4 2002::/16
    }
    if s[..6] == [0; 6] {
        return true; // ::/96: unspecified, loopback and the deprecated IPv4-compatible form
    }
    // Only global unicast (2000::/3) can be public; inside it, the ranges that are not.
    (s[0] & 0xe000) != 0x2000
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x2001 && s[1] == 0) // Teredo 2001::/32 (tunnels to an obfuscated IPv4 host)
        || (s[0] == 0x2001 && s[1] == 2 && s[2] == 0) // benchmarking 2001:2::/48
        || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010) // ORCHID 2001:10::/28
        || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0020) // ORCHIDv2 2001:20::/28
        || (s[0] & 0xfff0) == 0x3ff0 // documentation 3fff::/20
}

/// The URL's host when it is an IP literal.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    }
}

/// True when the URL names a non-public address literally (`http://127.0.0.1:8080/feed`).
pub(crate) fn is_non_public_literal(url: &Url) -> bool {
    literal_ip(url).is_some_and(is_non_public)
}

/// Whether a source's fetches (every hop, and its stored permanent-redirect target) may reach non-public
/// addresses, decided from the config only: its configured URL is a non-public IP literal (written on purpose by
/// the operator), or the source says `allow_private = true`. What a name resolves to never decides it: whoever
/// controls that DNS would decide.
pub(crate) fn private_allowed(configured_url: &Url, source_allow_private: bool) -> bool {
    source_allow_private || is_non_public_literal(configured_url)
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
            "127.255.0.9",
            "198.18.0.1",
            "198.19.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "0.1.2.3",
            "64:ff9b::a00:1",
            "64:ff9b::127.0.0.1",
            "64:ff9b:1::808:808",
            "::127.0.0.1",
            "::10.0.0.1",
            "::8.8.8.8",
            "2002:a00:1::1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001:db8::1",
            "2001::1",
            "2001:2::1",
            "2001:10::1",
            "3fff::1",
            "ff02::1",
            "fec0::1",
            "100::1",
            "5f00::1",
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
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
            "198.20.0.1",
            "192.0.3.1",
            "203.0.114.1",
            "223.255.255.254",
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
