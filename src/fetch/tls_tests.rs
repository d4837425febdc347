//! The fetcher's TLS, made once for both clients (`tls_config`): against a real TLS server on 127.0.0.1 whose
//! certificate no system root signed (`tests/fixtures/tls`), it must refuse the server and have offered HTTP/2
//! and HTTP/1.1, as reqwest's own setup does. The platform verifier is made on the first certificate a server
//! presents, never for plain `http`, and a verifier trusting that certificate lets the fetch through.

use std::net::TcpListener;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::test_server::*;
use super::*;

const CERT: &[u8] = include_bytes!("../../tests/fixtures/tls/untrusted.crt");
const KEY: &[u8] = include_bytes!("../../tests/fixtures/tls/untrusted.key");

/// What the server saw of one handshake: the protocol it agreed to from the client's offer, and how it ended.
struct Handshake {
    alpn: Option<Vec<u8>>,
    outcome: std::result::Result<(), String>,
}

fn untrusted_certs() -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(CERT)
        .collect::<std::result::Result<_, _>>()
        .unwrap()
}

/// A TLS server config with the untrusted certificate, agreeing to the given protocols.
fn server_config(alpn: &[&[u8]]) -> rustls::ServerConfig {
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(untrusted_certs(), key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// Serves one TLS handshake on 127.0.0.1 with the untrusted certificate, on a thread of its own.
fn untrusted_server() -> (SocketAddr, std::thread::JoinHandle<Handshake>) {
    let config = server_config(&[b"h2", b"http/1.1"]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut outcome = Ok(());
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut socket) {
                outcome = Err(e.to_string());
                break;
            }
        }
        Handshake {
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            outcome,
        }
    });
    (addr, server)
}

#[tokio::test]
async fn a_server_whose_certificate_no_system_root_signed_is_refused() {
    let (addr, server) = untrusted_server();
    let fetcher = Fetcher::new(settings()).unwrap();
    let mut request = req(addr, "/feed");
    request.url = Url::parse(&format!("https://{addr}/feed")).unwrap();
    let failed = failure(fetcher.fetch(&request).await);
    assert_eq!(failed.kind, FailureKind::Tls, "{}", failed.message);
    assert!(failed.message.contains("certificate"), "{}", failed.message);
    let seen = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    // The client, not the server, ended the handshake: it would not trust the certificate.
    let ended = seen.outcome.unwrap_err();
    assert!(
        ended.contains("UnknownCA") || ended.contains("BadCertificate"),
        "{ended}"
    );
    // HTTP/2 was offered (the server, which prefers it, agreed to it).
    assert_eq!(seen.alpn.as_deref(), Some(&b"h2"[..]));
}

/// Answers one HTTPS request on 127.0.0.1 (HTTP/1.1, the untrusted certificate) with the fixture feed.
fn feed_over_tls() -> SocketAddr {
    use std::io::{Read, Write};
    let config = Arc::new(server_config(&[b"http/1.1"]));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, socket);
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tls.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before its request ended");
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            FEED.len()
        );
        tls.write_all(head.as_bytes()).unwrap();
        tls.write_all(FEED.as_bytes()).unwrap();
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    addr
}

/// A fetcher whose verifier is `make`'s, counting how many times it was made.
fn counting_fetcher(made: &Arc<std::sync::atomic::AtomicUsize>, trust_fixture: bool) -> Fetcher {
    let made = made.clone();
    let tls = tls::config_with(Box::new(move |provider| {
        made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let extra = if trust_fixture {
            untrusted_certs()
        } else {
            Vec::new()
        };
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
    }))
    .unwrap();
    Fetcher::build(settings(), Vec::new(), tls).unwrap()
}

fn https(addr: SocketAddr) -> FetchRequest {
    let mut request = req(addr, "/feed");
    request.url = Url::parse(&format!("https://{addr}/feed")).unwrap();
    request
}

#[tokio::test]
async fn the_platform_verifier_is_made_at_the_first_certificate_and_only_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let made = Arc::new(AtomicUsize::new(0));
    let fetcher = counting_fetcher(&made, false);
    // Plain http never needs it.
    let addr = serve(router(Arc::default())).await;
    fetched(fetcher.fetch(&req(addr, "/feed")).await);
    assert_eq!(made.load(Ordering::SeqCst), 0);
    // The first server to present a certificate has it made, and it refuses the untrusted one.
    for _ in 0..2 {
        let (addr, server) = untrusted_server();
        let failed = failure(fetcher.fetch(&https(addr)).await);
        assert_eq!(failed.kind, FailureKind::Tls, "{}", failed.message);
        tokio::task::spawn_blocking(move || server.join().unwrap())
            .await
            .unwrap();
    }
    assert_eq!(
        made.load(Ordering::SeqCst),
        1,
        "made once, kept for the next"
    );
    // A copy without connections shares it.
    let (addr, server) = untrusted_server();
    let fresh = fetcher.without_connections().unwrap();
    failure(fresh.fetch(&https(addr)).await);
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert_eq!(made.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_certificate_the_verifier_trusts_is_fetched_over_https() {
    let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let fetcher = counting_fetcher(&made, true);
    let (meta, body) = fetched(fetcher.fetch(&https(feed_over_tls())).await);
    assert_eq!(meta.status, 200);
    assert_eq!(body, FEED.as_bytes());
}

#[tokio::test]
async fn without_system_roots_https_fails_saying_why_and_http_goes_on() {
    // What the platform verifier answers on a machine with no CA certificates: made once, kept, and every https
    // fetch fails as a TLS failure whose message names the cause.
    let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = made.clone();
    let tls = tls::config_with(Box::new(move |_| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(rustls::Error::General("no root certificates found".into()))
    }))
    .unwrap();
    let fetcher = Fetcher::build(settings(), Vec::new(), tls).unwrap();
    for _ in 0..2 {
        let (addr, server) = untrusted_server();
        let failed = failure(fetcher.fetch(&https(addr)).await);
        assert_eq!(failed.kind, FailureKind::Tls, "{}", failed.message);
        assert!(
            failed
                .message
                .contains("cannot set up TLS: no root certificates found")
                && failed
                    .message
                    .contains("are the system's CA certificates installed?"),
            "{}",
            failed.message
        );
        tokio::task::spawn_blocking(move || server.join().unwrap())
            .await
            .unwrap();
    }
    assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
    let addr = serve(router(Arc::default())).await;
    fetched(fetcher.fetch(&req(addr, "/feed")).await);
}
