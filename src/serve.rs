//! The HTTP server: hands out the documents `site` rendered, from memory, with validators.
//!
//! `GET`/`HEAD` only. `ETag` and `Last-Modified` with `304` answers to `If-None-Match` / `If-Modified-Since`, so
//! readers polling every few minutes cost a header exchange. `/healthz` answers 200 with a short JSON status while
//! the database answers (503 when it does not). `/search…` and `/day/YYYY-MM-DD` are answered by their services on
//! read-only connections of their own. Anything else is 404.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};

use crate::metrics::{self, Metrics};

mod slow_reader;
use crate::config::SharedConfig;
use crate::pipeline::WriteHealth;
use crate::site::{Document, Site};
use crate::store::HealthReader;
pub(crate) use slow_reader::SlowReaderGuard;

/// What the request handlers share.
pub(crate) struct ServerState {
    pub site: Arc<Site>,
    /// A read-only connection of its own, so health checks never wait for the writer (and cannot write).
    pub reader: Mutex<HealthReader>,
    /// `Cache-Control: max-age` for documents, matched to the poll schedule.
    pub max_age: Duration,
    pub metrics: Arc<Metrics>,
    /// The config in force (sources come and go on reload).
    pub config: SharedConfig,
    /// Whether the engine's writes succeed, for `/healthz`.
    pub write_health: Arc<WriteHealth>,
    /// `/search` and the topic feeds, on a read-only connection of their own.
    pub search: Arc<crate::search::SearchService>,
    /// `/day/YYYY-MM-DD`, the day archive, on a read-only connection of its own.
    pub archive: Arc<crate::archive::ArchiveService>,
}

pub(crate) fn router(state: Arc<ServerState>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let metrics = state.metrics.clone();
    let mut response = respond(state, method, &uri, &headers).await;
    metrics.record_request(uri.path(), response.status().as_u16());
    harden(response.headers_mut());
    response
}

/// What every page needs and nothing more: its own inline `<style>`, pictures from the outlets (http or https),
/// and links; no script of any kind, no plugins, no framing, no forms posting elsewhere. Sent with every
/// response, not only HTML, so a feed opened in a browser is held to the same rules.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src http: https: data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every response: the CSP above, no MIME sniffing (a feed whose text looks like HTML must
/// never be run as a page), no framing for old browsers that ignore `frame-ancestors`, and no referrer leaking
/// which page a reader came from to the outlets they click through to.
fn harden(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

async fn respond(
    state: Arc<ServerState>,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are supported\n",
            Some("GET, HEAD"),
        );
    }
    if uri.to_string().len() > MAX_URL_LEN {
        return plain(StatusCode::URI_TOO_LONG, "URL too long\n", None);
    }
    if uri.path() == "/healthz" {
        return health(state).await;
    }
    if uri.path() == "/metrics" {
        return Response::builder()
            .header(header::CONTENT_TYPE, metrics::CONTENT_TYPE)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(state.metrics.render()))
            .expect("valid response");
    }
    if let Some(format) = crate::search::Format::of_path(uri.path()) {
        return search(state, format, uri, headers).await;
    }
    if let Some(day) = crate::archive::day_path(uri.path()) {
        return archive_day(state, day, headers).await;
    }
    match state.site.get(uri.path()) {
        Some(doc) => serve_document(&compressed_for(doc, headers).await, headers, state.max_age),
        // The daemon listens before its first publish: until then every document is "not yet", not "never".
        None if !state.site.is_published() => {
            let mut r = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "starting: the feed is being rendered\n",
                None,
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
        None => plain(StatusCode::NOT_FOUND, "not found\n", None),
    }
}

fn plain(status: StatusCode, text: &'static str, allow: Option<&'static str>) -> Response {
    let mut r = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
    if let Some(allow) = allow {
        r = r.header(header::ALLOW, allow);
    }
    r.body(Body::from(text)).expect("valid response")
}

/// The representations we hold, best first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

/// Picks brotli, then gzip, when `Accept-Encoding` allows it (a `q=0` refuses a coding).
fn negotiate(headers: &HeaderMap) -> Coding {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return Coding::Identity;
    };
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut fields = part.split(';').map(str::trim);
            let coding = fields.next().unwrap_or("");
            let q = fields
                .find_map(|f| f.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case(name) || coding == "*") && q > 0.0
        })
    };
    if accepts("br") {
        Coding::Brotli
    } else if accepts("gzip") {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// The document with the form this request will get made: the site compresses a document on its first request
/// in each coding (most country slices are never asked for), on a blocking thread like any CPU work.
/// A conditional request that matches gets a `304` without a body, so nothing is made for it (after a restart
/// every reader's cached country slice would otherwise cost a brotli-9 run just to be told "not modified").
async fn compressed_for(doc: Document, headers: &HeaderMap) -> Document {
    let brotli = match negotiate(headers) {
        Coding::Identity => return doc,
        coding => coding == Coding::Brotli,
    };
    if doc.has_compressed(brotli) || not_modified(&doc, headers) {
        return doc;
    }
    let made = tokio::task::spawn_blocking({
        let doc = doc.clone();
        move || match brotli {
            true => drop(doc.brotli()),
            false => drop(doc.gzip()),
        }
    })
    .await;
    if let Err(e) = made {
        // Serving still works: the form is made on this thread instead.
        tracing::error!(error = %e, "compression task failed");
    }
    doc
}

fn serve_document(doc: &Document, headers: &HeaderMap, max_age: Duration) -> Response {
    let last_modified = httpdate::fmt_http_date(doc.last_modified.into());
    let coding = negotiate(headers);
    // Each representation has its own strong validator (RFC 9110 §8.8.3).
    let (etag, encoding) = match coding {
        Coding::Brotli => (
            format!("{}-br\"", doc.etag.trim_end_matches('"')),
            Some("br"),
        ),
        Coding::Gzip => (
            format!("{}-gz\"", doc.etag.trim_end_matches('"')),
            Some("gzip"),
        ),
        Coding::Identity => (doc.etag.clone(), None),
    };
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &last_modified)
        .header(
            header::CACHE_CONTROL,
            format!("public, max-age={}", max_age.as_secs()),
        )
        .header(header::VARY, "Accept-Encoding");
    let builder = match &doc.link {
        Some(link) => builder.header(header::LINK, link),
        None => builder,
    };
    if not_modified(doc, headers) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("valid response");
    }
    // Only now the body: a `304` needs none, so a form not made yet is not made for it.
    let body = match coding {
        Coding::Brotli => doc.brotli(),
        Coding::Gzip => doc.gzip(),
        Coding::Identity => doc.body.clone(),
    };
    let mut builder = builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, doc.content_type)
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(encoding) = encoding {
        builder = builder.header(header::CONTENT_ENCODING, encoding);
    }
    builder
        .body(Body::from(axum::body::Bytes::from_owner(ArcBytes(body))))
        .expect("valid response")
}

/// Lets `Bytes` borrow the shared document without copying it per request.
struct ArcBytes(Arc<[u8]>);
impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// RFC 9110: `If-None-Match` wins over `If-Modified-Since` when both are sent.
fn not_modified(doc: &Document, headers: &HeaderMap) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        // Any representation's validator matches: they all stand for the same content.
        let base = doc.etag.trim_end_matches('"');
        return inm.split(',').map(str::trim).any(|tag| {
            let tag = tag.trim_start_matches("W/");
            tag == "*"
                || tag == doc.etag
                || tag == format!("{base}-br\"")
                || tag == format!("{base}-gz\"")
        });
    }
    if let Some(since) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
    {
        if let Ok(since) = httpdate::parse_http_date(since) {
            let since: DateTime<Utc> = since.into();
            return doc.last_modified.timestamp() <= since.timestamp();
        }
    }
    false
}

/// `/search?q=…` and its feeds: rendered (or taken from the search cache) off the async threads, then served like
/// any document; a query that cannot run is a `400` that explains why.
async fn search(
    state: Arc<ServerState>,
    format: crate::search::Format,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    use crate::search::Answer;
    let query = crate::search::query_param(uri.query());
    let (service, config) = (state.search.clone(), state.config.get());
    let answer = tokio::task::spawn_blocking(move || {
        service.answer(&config, format, query.as_deref(), Utc::now())
    })
    .await;
    match answer {
        Ok(Ok(Answer::Found(doc))) => serve_document(&doc, headers, state.max_age),
        Ok(Ok(Answer::BadQuery(doc))) => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header(header::CONTENT_TYPE, doc.content_type)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(doc.body.to_vec()))
            .expect("valid response"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "search failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "search is unavailable right now; try again shortly\n",
                None,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "search task failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "search is unavailable right now; try again shortly\n",
                None,
            )
        }
    }
}

/// `/day/YYYY-MM-DD`: the day's page (from the archive's cache or rendered off the async threads), served like
/// any document; `400` for a path that is not a date, `404` for a day outside the archive, each saying why.
async fn archive_day(
    state: Arc<ServerState>,
    day: crate::archive::DayPath,
    headers: &HeaderMap,
) -> Response {
    use crate::archive::{DayAnswer, DayPath};
    let day = match day {
        DayPath::Day(day) => day,
        DayPath::Malformed(why) => return plain(StatusCode::BAD_REQUEST, why, None),
    };
    let (archive, config) = (state.archive.clone(), state.config.get());
    let answer =
        tokio::task::spawn_blocking(move || archive.answer(&config, day, Utc::now())).await;
    match answer {
        Ok(Ok(DayAnswer::Found(doc))) => serve_document(&doc, headers, state.max_age),
        Ok(Ok(DayAnswer::NotFound(why))) => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(why))
            .expect("valid response"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "day archive failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the archive is unavailable right now; try again shortly\n",
                None,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "day archive task failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the archive is unavailable right now; try again shortly\n",
                None,
            )
        }
    }
}

async fn health(state: Arc<ServerState>) -> Response {
    let status = tokio::task::spawn_blocking(move || {
        // Reasons are short and never name a file: the answer goes to whoever asks.
        if let Some((since, reason)) = state.write_health.failing() {
            let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            return Err(format!("database writes failing since {since}: {reason}"));
        }
        let store = state
            .reader
            .lock()
            .map_err(|_| "reader lock poisoned".to_string())?;
        store.ping().map_err(|e| e.public_reason())?;
        let enabled = state.config.get().enabled_ids();
        let failing = store
            .failing_among(&enabled)
            .map_err(|e| e.public_reason())?;
        let (items, stories) = store.counts().map_err(|e| e.public_reason())?;
        Ok::<_, String>(serde_json::json!({
            "status": "ok",
            "sources": enabled.len(),
            "failing": failing,
            "items": items,
            "stories": stories,
        }))
    })
    .await
    .unwrap_or_else(|_| Err("internal error".to_string()));
    let (code, body) = match status {
        Ok(json) => (StatusCode::OK, json),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "status": "error", "error": e }),
        ),
    };
    Response::builder()
        .status(code)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body.to_string()))
        .expect("valid response")
}

/// Longest a client may take to send its request headers: a slow client (or a slowloris attack) is dropped.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Request line plus headers may not exceed this; longer requests are answered 431 by hyper.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Longest URL accepted (414 beyond).
pub(crate) const MAX_URL_LEN: usize = 2048;
/// How long open connections may finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(5);

/// Accepts connections until `stop` turns true, each served over HTTP/1.1 with header-size and header-time limits
/// (which `axum::serve` does not set), then lets open connections finish briefly.
///
/// At most `max_connections` are open at once: beyond that, new connections wait in the kernel's accept queue
/// until one closes, so a flood costs neither memory nor file descriptors. Idle keep-alive connections and slow
/// request heads are closed after [`HEADER_READ_TIMEOUT`] (hyper times the wait for every request head), and a
/// client that reads a response too slowly is dropped ([`SlowReaderGuard`]), so a few hundred slow readers cannot
/// hold every slot for long.
pub(crate) async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
    max_connections: usize,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    loop {
        // Waiting for a free slot before accepting leaves further clients in the accept queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = stopped(&mut stop) => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_buf_size(MAX_REQUEST_HEAD.max(8192));
        let stream = SlowReaderGuard::new(stream);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("closing connections still open after the drain period");
    }
    Ok(())
}

/// Resolves once `stop` is true (or its sender is gone), without holding the watch's lock across an await.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_str(v).unwrap()))
            .collect()
    }

    /// A document the site compresses only on request (a country slice, after a restart).
    fn slice() -> Document {
        Document::new(
            "<rss>خبر</rss>".repeat(50),
            crate::site::RSS_TYPE,
            Utc::now(),
        )
    }

    #[tokio::test]
    async fn a_conditional_request_that_matches_is_answered_without_compressing() {
        let doc = slice();
        let br_etag = format!("{}-br\"", doc.etag.trim_end_matches('"'));
        let headers = request(&[
            (header::ACCEPT_ENCODING, "gzip, br"),
            (header::IF_NONE_MATCH, &br_etag),
        ]);
        let served = compressed_for(doc.clone(), &headers).await;
        let r = serve_document(&served, &headers, Duration::from_secs(60));
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(r.headers()[header::ETAG], br_etag.as_str());
        assert!(
            !doc.has_compressed(true) && !doc.has_compressed(false),
            "a 304 sends no body: nothing to compress"
        );

        // A request without the validator gets the compressed body, made for it.
        let headers = request(&[(header::ACCEPT_ENCODING, "br")]);
        let served = compressed_for(doc.clone(), &headers).await;
        let r = serve_document(&served, &headers, Duration::from_secs(60));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(
            r.headers()[header::CONTENT_LENGTH],
            doc.brotli().len().to_string().as_str()
        );
        assert!(doc.has_compressed(true) && !doc.has_compressed(false));
    }
}
