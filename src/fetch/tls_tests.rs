//! The fetcher's TLS, made once for both clients (`tls_config`): against a real TLS server on 127.0.0.1 whose
//! certificate no system root signed (`tests/fixtures/tls`), it must refuse the server and have offered HTTP/2
//! and HTTP/1.1, as reqwest's own setup does.

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

/// Serves one TLS handshake on 127.0.0.1 with the untrusted certificate, on a thread of its own.
fn untrusted_server() -> (SocketAddr, std::thread::JoinHandle<Handshake>) {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT)
        .collect::<std::result::Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
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
