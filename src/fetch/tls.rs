//! The fetcher's TLS setup: the platform verifier (the system's root certificates), made only when a server first
//! presents a certificate.
//!
//! Reading and parsing the system's roots (a file per certificate, ~150 of them) is most of the CPU a fetcher costs
//! to build, and it was paid at every start, and again at every config reload, even when every source is plain
//! `http`. [`LazyPlatformVerifier`] builds the very same verifier (`rustls_platform_verifier::Verifier::new`) on
//! its first use instead, once per fetcher, so a round of `https` sources verifies exactly as before, and one
//! without them never reads the roots.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::FetchSetupError;

/// Builds the verifier that checks certificates; called at most once per [`LazyPlatformVerifier`].
type MakeVerifier = Box<
    dyn Fn(Arc<CryptoProvider>) -> Result<rustls_platform_verifier::Verifier, rustls::Error>
        + Send
        + Sync,
>;

/// The TLS setup both clients share, as reqwest would make it for each: the system's root certificates behind the
/// platform verifier (built on first use, see the module doc), TLS 1.2 and 1.3, HTTP/2 or 1.1 offered.
pub(super) fn tls_config() -> Result<rustls::ClientConfig, FetchSetupError> {
    config_with(Box::new(|provider| {
        rustls_platform_verifier::Verifier::new(provider)
    }))
}

/// [`tls_config`] with the verifier `make` builds (the tests trust a certificate of their own this way).
pub(super) fn config_with(make: MakeVerifier) -> Result<rustls::ClientConfig, FetchSetupError> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = LazyPlatformVerifier {
        provider: provider.clone(),
        make,
        verifier: OnceLock::new(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(FetchSetupError::Tls)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// The platform verifier, made when a server first presents its certificate. Every check is the platform
/// verifier's own; only the signature schemes offered in the hello are answered without it, from the crypto
/// provider, which is where the platform verifier (through rustls' WebPKI verifier) takes them from too.
pub(crate) struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    make: MakeVerifier,
    /// The verifier, or why it could not be made (no system roots): then every `https` fetch fails with that
    /// reason, as a TLS failure of its own, and plain `http` ones go on.
    verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl std::fmt::Debug for LazyPlatformVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyPlatformVerifier")
            .field("made", &self.verifier.get().is_some())
            .finish()
    }
}

impl LazyPlatformVerifier {
    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                (self.make)(self.provider.clone()).map_err(|e| {
                    // `General` displays as "unexpected error: …": say it once, around the whole message.
                    let cause = match e {
                        rustls::Error::General(cause) => cause,
                        other => other.to_string(),
                    };
                    rustls::Error::General(format!(
                        "cannot set up TLS: {cause} (are the system's CA certificates installed?)"
                    ))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
