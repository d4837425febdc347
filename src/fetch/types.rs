//! The values the fetch stage takes and returns: settings, the request, the outcome and its failure reasons.
//!
//! Kept apart from the HTTP code so that a caller can read the whole interface of the stage in one place.

use std::time::Duration;

use url::Url;

/// Total time for one fetch, redirects and body included.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time to open a connection.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest body accepted, after decompression: 10 MiB.
pub(crate) const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// Redirects followed before giving up.
pub(crate) const DEFAULT_MAX_REDIRECTS: usize = 5;
/// Requests in flight to one host.
pub(crate) const DEFAULT_PER_HOST_CONCURRENCY: usize = 1;
/// Time between the starts of two requests to one host.
pub(crate) const DEFAULT_PER_HOST_MIN_GAP: Duration = Duration::from_secs(1);
/// How qafila introduces itself to the servers it polls.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!(
    "qafila/",
    env!("CARGO_PKG_VERSION"),
    " (Arabic news aggregator; +https://github.com/qafila/qafila)"
);

/// How the fetcher behaves; one set per process, built from the `[fetch]` table
/// ([`crate::config::FetchConfig::client_settings`]).
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Total time for one fetch: every redirect hop and the whole body (a slow-drip body hits it). Time spent
    /// waiting for a per-host turn does not count.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest body accepted, counted on the decompressed stream.
    pub max_body_bytes: u64,
    pub user_agent: String,
    /// Most redirects followed; one more is [`FailureKind::TooManyRedirects`].
    pub max_redirects: usize,
    /// Turns the SSRF guard off for every source (for deployments that poll only feeds on the LAN).
    pub allow_private: bool,
    /// Requests in flight to one host at a time (at least 1).
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host.
    pub per_host_min_gap: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_redirects: DEFAULT_MAX_REDIRECTS,
            allow_private: false,
            per_host_concurrency: DEFAULT_PER_HOST_CONCURRENCY,
            per_host_min_gap: DEFAULT_PER_HOST_MIN_GAP,
        }
    }
}

/// The fetcher could not be built (a start-up configuration problem, not a per-feed one).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchSetupError {
    #[error("the user agent {0:?} is not a valid HTTP header value")]
    InvalidUserAgent(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("cannot set up TLS: {0} (are the system's CA certificates installed?)")]
    Tls(#[source] rustls::Error),
}

/// One fetch to perform, with the validators saved from the previous successful fetch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FetchRequest {
    pub url: Url,
    /// This source may reach non-public addresses ([`crate::fetch::private_allowed`] of its configured URL).
    pub allow_private: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Nothing else will be fetched from this host before the process ends (`qafila poll`, a host only one source
    /// is on): the request asks the server to close the connection after answering (`Connection: close`), rather
    /// than the connection waiting idle in the pool, its buffers held, until the end.
    pub last_to_host: bool,
}

/// What one fetch gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FetchOutcome {
    /// 304: the feed has not changed since the validators were issued; nothing to parse.
    NotModified(ResponseMeta),
    /// 2xx with the decompressed body (at most `max_body_bytes`).
    Fetched {
        meta: ResponseMeta,
        body: Vec<u8>,
    },
    Failed(FetchFailure),
}

/// What the final response said about itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResponseMeta {
    pub status: u16,
    /// The URL after redirects: the base for relative links (unless `content_location` says otherwise).
    pub final_url: Url,
    /// `Some(final_url)` when there was at least one redirect and every hop was 301 or 308.
    pub permanent_redirect: Option<Url>,
    /// On a 304 that does not repeat them, the request's validators are returned, so they can be stored as is.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The full `Content-Type` value, e.g. `text/xml; charset=windows-1256`.
    pub content_type: Option<String>,
    /// `Content-Location`, resolved against `final_url`: where the server says this body lives, the base for
    /// relative links when present (feedparser reads it so too).
    pub content_location: Option<Url>,
    /// Freshness from `Cache-Control: max-age` or `Expires`, raw and uncapped.
    pub cache_floor: Option<Duration>,
    /// Body bytes received, after decompression.
    pub bytes: u64,
}

impl ResponseMeta {
    /// The base for the body's relative links: its `Content-Location` if it is http(s), else the final URL.
    pub(crate) fn base_url(&self) -> &Url {
        self.content_location
            .as_ref()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or(&self.final_url)
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FailureKind {
    /// The host name does not resolve.
    Dns,
    /// No TCP connection (refused, unreachable, connect timeout).
    Connect,
    /// TLS handshake or certificate problem.
    Tls,
    /// The total time budget ran out.
    Timeout,
    /// A non-2xx, non-304 final status.
    HttpStatus,
    TooManyRedirects,
    RedirectLoop,
    /// A redirect without a usable `Location`.
    BadRedirect,
    BodyTooLarge,
    /// The connection broke or the body could not be decompressed.
    Body,
    /// The SSRF guard refused a loopback/private/link-local address.
    PrivateAddress,
    /// Not an http(s) URL, or one without a host.
    InvalidUrl,
    Other,
}

/// A failed fetch, ready for logs and the source's `last_error`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FetchFailure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    /// One line saying what went wrong and where.
    pub message: String,
    /// From `Retry-After` (seconds or HTTP date), when the server sent one with its error status.
    pub retry_after: Option<Duration>,
}

impl FetchFailure {
    pub(crate) fn new(kind: FailureKind, message: impl Into<String>) -> FetchFailure {
        FetchFailure {
            kind,
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// True when trying again later may well succeed (back off and retry); false when the source itself is wrong
    /// and needs an operator (bad URL, redirect loop, refused address, 404, oversize feed).
    pub(crate) fn is_temporary(&self) -> bool {
        match self.kind {
            FailureKind::Dns
            | FailureKind::Connect
            | FailureKind::Tls
            | FailureKind::Timeout
            | FailureKind::Body
            | FailureKind::Other => true,
            FailureKind::HttpStatus => matches!(self.status, Some(408 | 425 | 429 | 500..=599)),
            FailureKind::TooManyRedirects
            | FailureKind::RedirectLoop
            | FailureKind::BadRedirect
            | FailureKind::BodyTooLarge
            | FailureKind::PrivateAddress
            | FailureKind::InvalidUrl => false,
        }
    }
}

impl std::fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
