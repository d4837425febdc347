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
pub(crate) use guard::private_allowed;
mod headers;
mod interpret;
mod politeness;
#[cfg(test)]
mod pool_tests;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
mod tls;
#[cfg(test)]
mod tls_tests;
mod types;

pub(crate) use types::{
    FailureKind, FetchFailure, FetchOutcome, FetchRequest, FetchSettings, FetchSetupError,
    ResponseMeta, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_REDIRECTS,
    DEFAULT_PER_HOST_CONCURRENCY, DEFAULT_PER_HOST_MIN_GAP, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
};

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use tokio::time::Instant;
use url::Url;

use interpret::{check_url, classify, meta_of, redirect_target, status_failure, timed_out};

struct Inner {
    /// Refuses non-public addresses (the SSRF guard), unless `allow_private`.
    client: reqwest::Client,
    /// Accepts them: for sources the operator configured on a non-public address.
    open_client: reqwest::Client,
    settings: FetchSettings,
    hosts: politeness::Hosts,
    /// Kept to build the clients again without their connections ([`Fetcher::without_connections`]).
    tls: rustls::ClientConfig,
    overrides: Vec<(String, SocketAddr)>,
}

/// The HTTP fetcher; cheap to clone (shared state behind an `Arc`), one per process.
#[derive(Clone)]
pub(crate) struct Fetcher {
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
    pub(crate) fn new(settings: FetchSettings) -> Result<Fetcher, FetchSetupError> {
        Fetcher::with_host_overrides(settings, &[])
    }

    /// Like [`Fetcher::new`], but `overrides` pin host names to addresses (the port in the URL still wins).
    ///
    /// A pinned name skips the guarded resolver (reqwest connects to the given address directly), but every URL
    /// and redirect hop is still checked like any other. No config key reaches this: the tests use it to make a
    /// public-looking name such as `news.example` reach a server on 127.0.0.1, so that a redirect from it to
    /// `127.0.0.1` can be shown to be refused.
    pub(crate) fn with_host_overrides(
        settings: FetchSettings,
        overrides: &[(&str, SocketAddr)],
    ) -> Result<Fetcher, FetchSetupError> {
        // reqwest is built without a default crypto provider; installing fails harmlessly if one is already set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let overrides = overrides.iter().map(|(h, a)| (h.to_string(), *a)).collect();
        Fetcher::build(settings, overrides, tls::tls_config()?)
    }

    /// A fetcher like this one — the same settings and TLS setup, so nothing is read again — without its idle
    /// connections. Dropping this one then closes them (on the runtime's threads, once its last clone is gone).
    pub(crate) fn without_connections(&self) -> Result<Fetcher, FetchSetupError> {
        let inner = &self.inner;
        Fetcher::build(
            inner.settings.clone(),
            inner.overrides.clone(),
            inner.tls.clone(),
        )
    }

    fn build(
        settings: FetchSettings,
        overrides: Vec<(String, SocketAddr)>,
        tls: rustls::ClientConfig,
    ) -> Result<Fetcher, FetchSetupError> {
        let user_agent = HeaderValue::from_str(&settings.user_agent)
            .map_err(|_| FetchSetupError::InvalidUserAgent(settings.user_agent.clone()))?;
        let mut defaults = HeaderMap::new();
        defaults.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
        let build = |allow_private: bool| {
            let mut builder = reqwest::Client::builder()
                .tls_backend_preconfigured(tls.clone())
                .user_agent(user_agent.clone())
                .default_headers(defaults.clone())
                .gzip(true)
                .brotli(true)
                .connect_timeout(settings.connect_timeout)
                // Redirects are followed by hand, see the module doc.
                .redirect(reqwest::redirect::Policy::none())
                // A proxy would resolve names itself and bypass the SSRF guard.
                .no_proxy()
                .dns_resolver(Arc::new(guard::GuardedResolver { allow_private }));
            for (host, addr) in &overrides {
                builder = builder.resolve(host, *addr);
            }
            builder.build().map_err(FetchSetupError::Client)
        };
        let client = build(settings.allow_private)?;
        let open_client = build(true)?;
        let hosts =
            politeness::Hosts::new(settings.per_host_concurrency, settings.per_host_min_gap);
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                open_client,
                settings,
                hosts,
                tls,
                overrides,
            }),
        })
    }

    /// Fetches one feed. Never panics and never returns an error: failures are [`FetchOutcome::Failed`].
    pub(crate) async fn fetch(&self, req: &FetchRequest) -> FetchOutcome {
        match self.run(req).await {
            Ok(outcome) => outcome,
            // The message is logged and stored (and shown by `qafila sources`): no credentials in it.
            Err(failure) => FetchOutcome::Failed(FetchFailure {
                message: crate::redact::public_text(&failure.message),
                ..failure
            }),
        }
    }

    async fn run(&self, req: &FetchRequest) -> Result<FetchOutcome, FetchFailure> {
        let settings = &self.inner.settings;
        check_url(&req.url)?;
        // Decided from the config by the caller (see `guard::private_allowed`), never from what a name resolves to
        // now nor from the URL being fetched, which may be a stored redirect target or a link found on a page.
        let exempt = settings.allow_private || req.allow_private;
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
            let response = tokio::time::timeout(budget, self.send(&url, req, exempt))
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

    /// POSTs a form (a WebSub ping) through the same SSRF guard as fetches, following no redirect: a hub that
    /// answers 3xx is a failed ping. The hub counts as configured on a non-public address only when its URL is
    /// such an IP literal (or `[fetch] allow_private` is set). Returns the status of a response.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: String,
    ) -> Result<StatusCode, FetchFailure> {
        check_url(url)?;
        let exempt = self.inner.settings.allow_private || private_allowed(url, false);
        if !exempt {
            guard::check_literal(url).map_err(|e| {
                let message = crate::redact::public_text(&format!("{url}: {e}"));
                FetchFailure::new(FailureKind::PrivateAddress, message)
            })?;
        }
        let client = if exempt {
            &self.inner.open_client
        } else {
            &self.inner.client
        };
        let send = client
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send();
        let timeout = self.inner.settings.timeout;
        match tokio::time::timeout(timeout, send).await {
            Ok(Ok(response)) => Ok(response.status()),
            Ok(Err(e)) => {
                let failure = classify(&e, url);
                Err(FetchFailure {
                    message: crate::redact::public_text(&failure.message),
                    ..failure
                })
            }
            Err(_) => Err(timed_out(url, timeout)),
        }
    }

    async fn send(
        &self,
        url: &Url,
        req: &FetchRequest,
        exempt: bool,
    ) -> reqwest::Result<reqwest::Response> {
        let client = if exempt {
            &self.inner.open_client
        } else {
            &self.inner.client
        };
        let mut request = client.get(url.clone());
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
        if req.last_to_host {
            request = request.header(header::CONNECTION, HeaderValue::from_static("close"));
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
