//! The fetch stage: one polite, bounded, conditional HTTP GET of a feed URL.
//!
//! Feeds come from servers we do not control, so every way a fetch can go wrong ends as a value
//! ([`FetchOutcome::Failed`]) with a one-line reason for the operator, never as a panic or a hang:
//! - the whole fetch (every redirect hop and the body) runs under one time budget, so a slow-drip body times out;
//! - the body is counted as it streams, after gzip/brotli decompression, so a decompression bomb is cut off;
//! - redirects are followed here rather than by reqwest, to count hops, catch loops, notice whether every hop was
//!   permanent (a hint to update the stored URL) and apply the SSRF guard ([`guard`]) to every hop;
//! - requests to one host are spaced and limited ([`politeness`]), however many sources share that host.

mod guard;
mod headers;
mod politeness;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use tokio::time::Instant;
use url::Url;

/// How the fetcher behaves; one set per process.
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
    /// Turns the SSRF guard off (for deployments that poll feeds on the LAN).
    pub allow_private: bool,
    /// Requests in flight to one host at a time (at least 1).
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host.
    pub per_host_min_gap: Duration,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            user_agent: "qafila/0.1 (+https://github.com/qafila/qafila)".to_owned(),
            max_redirects: 5,
            allow_private: false,
            per_host_concurrency: 1,
            per_host_min_gap: Duration::from_secs(1),
        }
    }
}

/// The fetcher could not be built (a start-up configuration problem, not a per-feed one).
#[derive(Debug, thiserror::Error)]
pub enum FetchSetupError {
    #[error("the user agent {0:?} is not a valid HTTP header value")]
    InvalidUserAgent(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// One fetch to perform, with the validators saved from the previous successful fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRequest {
    pub url: Url,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What one fetch gave.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
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
pub struct ResponseMeta {
    pub status: u16,
    /// The URL after redirects: the base for relative links.
    pub final_url: Url,
    /// `Some(final_url)` when there was at least one redirect and every hop was 301 or 308.
    pub permanent_redirect: Option<Url>,
    /// On a 304 that does not repeat them, the request's validators are returned, so they can be stored as is.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The full `Content-Type` value, e.g. `text/xml; charset=windows-1256`.
    pub content_type: Option<String>,
    /// Freshness from `Cache-Control: max-age` or `Expires`, raw and uncapped.
    pub cache_floor: Option<Duration>,
    /// Body bytes received, after decompression.
    pub bytes: u64,
}

/// Why a fetch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
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
pub struct FetchFailure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    /// One line saying what went wrong and where.
    pub message: String,
    /// From `Retry-After` (seconds or HTTP date), when the server sent one with its error status.
    pub retry_after: Option<Duration>,
}

impl FetchFailure {
    fn new(kind: FailureKind, message: impl Into<String>) -> FetchFailure {
        FetchFailure {
            kind,
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// True when trying again later may well succeed (back off and retry); false when the source itself is wrong
    /// and needs an operator (bad URL, redirect loop, refused address, 404, oversize feed).
    pub fn is_temporary(&self) -> bool {
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

struct Inner {
    client: reqwest::Client,
    settings: FetchSettings,
    hosts: politeness::Hosts,
}

/// The HTTP fetcher; cheap to clone (shared state behind an `Arc`), one per process.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("settings", &self.inner.settings)
            .finish()
    }
}

const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
                      application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5";

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchSetupError> {
        Fetcher::with_host_overrides(settings, &[])
    }

    /// Like [`Fetcher::new`], but `overrides` pin host names to addresses (the port in the URL still wins).
    ///
    /// Pinned hosts are trusted: the SSRF guard does not check their addresses. Tests use this to make a
    /// public-looking name such as `news.example` reach a server on 127.0.0.1, so that a redirect from it to
    /// `127.0.0.1` can be shown to be refused; an operator could use it to pin a feed host.
    pub fn with_host_overrides(
        settings: FetchSettings,
        overrides: &[(&str, SocketAddr)],
    ) -> Result<Fetcher, FetchSetupError> {
        // reqwest is built without a default crypto provider; installing fails harmlessly if one is already set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let user_agent = HeaderValue::from_str(&settings.user_agent)
            .map_err(|_| FetchSetupError::InvalidUserAgent(settings.user_agent.clone()))?;
        let mut defaults = HeaderMap::new();
        defaults.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(defaults)
            .gzip(true)
            .brotli(true)
            .connect_timeout(settings.connect_timeout)
            // Redirects are followed by hand, see the module doc.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself and bypass the SSRF guard.
            .no_proxy()
            .dns_resolver(Arc::new(guard::GuardedResolver {
                allow_private: settings.allow_private,
            }));
        for (host, addr) in overrides {
            builder = builder.resolve(host, *addr);
        }
        let client = builder.build().map_err(FetchSetupError::Client)?;
        let hosts =
            politeness::Hosts::new(settings.per_host_concurrency, settings.per_host_min_gap);
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                settings,
                hosts,
            }),
        })
    }

    /// Fetches one feed. Never panics and never returns an error: failures are [`FetchOutcome::Failed`].
    pub async fn fetch(&self, req: &FetchRequest) -> FetchOutcome {
        match self.run(req).await {
            Ok(outcome) => outcome,
            Err(failure) => FetchOutcome::Failed(failure),
        }
    }

    async fn run(&self, req: &FetchRequest) -> Result<FetchOutcome, FetchFailure> {
        let settings = &self.inner.settings;
        check_url(&req.url)?;
        // A source configured on a private IP literal is the operator's explicit choice (e.g. a test server).
        let exempt = settings.allow_private || guard::is_non_public_literal(&req.url);
        let mut budget = settings.timeout;
        let mut url = req.url.clone();
        let mut seen = HashSet::from([url.clone()]);
        let mut hops = 0usize;
        let mut all_permanent = true;
        loop {
            if !exempt {
                guard::check_literal(&url).map_err(|e| {
                    FetchFailure::new(FailureKind::PrivateAddress, format!("{url}: {e}"))
                })?;
            }
            // Held until this hop's response (and body, for the last hop) is done.
            let _turn = self
                .inner
                .hosts
                .turn(url.host_str().unwrap_or_default())
                .await;
            let started = Instant::now();
            let response = tokio::time::timeout(budget, self.send(&url, req))
                .await
                .map_err(|_| timed_out(&url, settings.timeout))?
                .map_err(|e| classify(&e, &url))?;
            budget = budget.saturating_sub(started.elapsed());
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = redirect_target(&url, status, response.headers())?;
                hops += 1;
                if !seen.insert(next.clone()) {
                    let message = format!("redirect loop: {url} redirects back to {next}");
                    return Err(FetchFailure::new(FailureKind::RedirectLoop, message));
                }
                if hops > settings.max_redirects {
                    let message = format!(
                        "more than {} redirects starting at {} (last: {next})",
                        settings.max_redirects, req.url
                    );
                    return Err(FetchFailure::new(FailureKind::TooManyRedirects, message));
                }
                all_permanent &= matches!(status.as_u16(), 301 | 308);
                url = next;
                continue;
            }
            let permanent = (hops > 0 && all_permanent).then(|| url.clone());
            let meta = meta_of(&response, url.clone(), permanent);
            let validators_sent = req.etag.is_some() || req.last_modified.is_some();
            if status == StatusCode::NOT_MODIFIED && validators_sent {
                return Ok(FetchOutcome::NotModified(ResponseMeta {
                    etag: meta.etag.or_else(|| req.etag.clone()),
                    last_modified: meta.last_modified.or_else(|| req.last_modified.clone()),
                    ..meta
                }));
            }
            if !status.is_success() {
                return Err(status_failure(&url, status, response.headers()));
            }
            let body = tokio::time::timeout(budget, self.read_body(response, &url))
                .await
                .map_err(|_| timed_out(&url, settings.timeout))??;
            let bytes = body.len() as u64;
            return Ok(FetchOutcome::Fetched {
                meta: ResponseMeta { bytes, ..meta },
                body,
            });
        }
    }

    async fn send(&self, url: &Url, req: &FetchRequest) -> reqwest::Result<reqwest::Response> {
        let mut request = self.inner.client.get(url.clone());
        // Invalid stored validators (e.g. a newline) are skipped rather than failing the fetch: we then just get a
        // full 200 instead of a 304.
        if let Some(etag) = req
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = req
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            request = request.header(header::IF_MODIFIED_SINCE, lm);
        }
        request.send().await
    }

    /// Reads the (already decompressed) body, stopping as soon as it passes the size limit so memory stays bounded.
    async fn read_body(
        &self,
        response: reqwest::Response,
        url: &Url,
    ) -> Result<Vec<u8>, FetchFailure> {
        let max = self.inner.settings.max_body_bytes;
        let too_large = || {
            FetchFailure::new(
                FailureKind::BodyTooLarge,
                format!(
                    "{url}: the body is larger than the {max}-byte limit (after decompression)"
                ),
            )
        };
        // Content-Length is the compressed size when the body is compressed, so it can only reject early, not
        // replace the count below.
        if response.content_length().is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let capacity = response
            .content_length()
            .unwrap_or(64 * 1024)
            .min(max)
            .min(1 << 20);
        let mut body = Vec::with_capacity(capacity as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(&e, url))?;
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn check_url(url: &Url) -> Result<(), FetchFailure> {
    if !matches!(url.scheme(), "http" | "https") {
        let message = format!("{url}: only http and https URLs can be fetched");
        return Err(FetchFailure::new(FailureKind::InvalidUrl, message));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FetchFailure::new(
            FailureKind::InvalidUrl,
            format!("{url}: the URL has no host"),
        ));
    }
    Ok(())
}

fn timed_out(url: &Url, limit: Duration) -> FetchFailure {
    let message = format!(
        "{url}: no complete response within {} s",
        limit.as_secs_f64()
    );
    FetchFailure::new(FailureKind::Timeout, message)
}

fn redirect_target(
    url: &Url,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Url, FetchFailure> {
    let bad = |why: &str| {
        let message = format!("{url}: HTTP {} redirect {why}", status.as_u16());
        FetchFailure::new(FailureKind::BadRedirect, message)
    };
    let location = headers
        .get(header::LOCATION)
        .ok_or_else(|| bad("without a Location header"))?
        .to_str()
        .map_err(|_| bad("with a Location that is not ASCII"))?;
    let mut next = url
        .join(location.trim())
        .map_err(|e| bad(&format!("to an invalid URL {location:?} ({e})")))?;
    // The fragment is never sent, so it must not make a loop look like two different URLs.
    next.set_fragment(None);
    check_url(&next)?;
    Ok(next)
}

fn meta_of(
    response: &reqwest::Response,
    final_url: Url,
    permanent_redirect: Option<Url>,
) -> ResponseMeta {
    let headers = response.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    ResponseMeta {
        status: response.status().as_u16(),
        final_url,
        permanent_redirect,
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
        content_type: text(header::CONTENT_TYPE),
        cache_floor: headers::cache_floor(headers, SystemTime::now()),
        bytes: 0,
    }
}

fn status_failure(url: &Url, status: StatusCode, headers: &HeaderMap) -> FetchFailure {
    let reason = status.canonical_reason().unwrap_or("");
    let retry_after = headers::retry_after(headers, SystemTime::now());
    let mut message = format!("{url}: HTTP {} {reason}", status.as_u16());
    if let Some(delay) = retry_after {
        message.push_str(&format!(" (retry after {} s)", delay.as_secs()));
    }
    FetchFailure {
        kind: FailureKind::HttpStatus,
        status: Some(status.as_u16()),
        message,
        retry_after,
    }
}

/// Turns a reqwest error into a failure kind and a one-line message naming the root cause.
fn classify(err: &reqwest::Error, url: &Url) -> FetchFailure {
    let mut kind = None;
    let mut root = err.to_string();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(e) = cause {
        if kind.is_none() {
            if e.downcast_ref::<guard::Refused>().is_some() {
                kind = Some(FailureKind::PrivateAddress);
            } else if e.downcast_ref::<guard::DnsFailure>().is_some() {
                kind = Some(FailureKind::Dns);
            } else if e.downcast_ref::<rustls::Error>().is_some() {
                kind = Some(FailureKind::Tls);
            }
        }
        root = e.to_string();
        cause = e.source();
    }
    let kind = kind.unwrap_or(if err.is_timeout() {
        FailureKind::Timeout
    } else if err.is_connect() {
        FailureKind::Connect
    } else if err.is_body() || err.is_decode() {
        FailureKind::Body
    } else {
        FailureKind::Other
    });
    let what = match kind {
        FailureKind::Connect => "cannot connect",
        FailureKind::Timeout => "timed out",
        FailureKind::Body => "the body could not be read",
        FailureKind::Tls => "TLS failed",
        _ => "request failed",
    };
    let message = match kind {
        // These messages already say everything (host, address, reason).
        FailureKind::PrivateAddress | FailureKind::Dns => format!("{url}: {root}"),
        _ => format!("{url}: {what}: {root}"),
    };
    FetchFailure::new(kind, message.replace('\n', " "))
}
