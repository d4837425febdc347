//! The misbehaving publisher: axum routes for every way a feed server goes wrong — error statuses, rate limits
//! with `Retry-After`, a server that never answers, a body that drips, oversize bodies with and without a length,
//! a gzip bomb, redirect loops, endless chains and redirects without a target.
//!
//! One file serves two test suites: the fetch unit tests include it with `#[path]` (src/fetch/tests.rs) and the
//! end-to-end fixture server merges it into its router (tests/common/mod.rs), so both exercise the same behaviour
//! and a new fault is written once.

use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Seconds `/r429` asks the client to wait.
pub(crate) const RATE_LIMIT_RETRY_SECS: u64 = 120;
/// Seconds until the HTTP date that `/r503` gives as `Retry-After`.
pub(crate) const UNAVAILABLE_RETRY_SECS: u64 = 600;
/// Size of the `/big` and `/big-chunked` bodies: above the 1 MiB cap both suites configure.
pub(crate) const BIG_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Size of the `/bomb` body once gunzipped (16 KB on the wire).
pub(crate) const BOMB_INFLATED_BYTES: u64 = 16 * 1024 * 1024;

const BOMB: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/feeds/gzip-bomb.gz"
));
const EMPTY_FEED: &str = "<rss version=\"2.0\"><channel></channel></rss>";

/// Every misbehaving route; it needs no state, so it merges into a router of any state type.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/status/{code}", get(status))
        .route("/slow", get(slow))
        .route("/drip", get(drip))
        .route("/r429", get(too_many))
        .route("/r503", get(unavailable))
        .route("/bomb", get(gzip_bomb))
        .route("/big", get(big))
        .route("/big-chunked", get(big_chunked))
        .route("/loop/{side}", get(redirect_loop))
        .route("/chain/{n}", get(endless_chain))
        .route(
            "/no-location",
            get(|| async { StatusCode::MOVED_PERMANENTLY }),
        )
}

/// `/status/{code}`: that status with a small error page.
async fn status(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, "error page").into_response()
}

/// Seconds `/slow` takes to answer: far beyond any test's timeout, so that a bound on a test's duration tells a
/// timeout that works (about a second) from one that does not (a minute), however busy the machine.
pub(crate) const SLOW_ANSWER_SECS: u64 = 60;

/// Answers after [`SLOW_ANSWER_SECS`].
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(SLOW_ANSWER_SECS)).await;
    EMPTY_FEED
}

/// A valid start of a feed, then a byte every 700 ms: only the total timeout ends it.
async fn drip() -> Response {
    let stream = futures_util::stream::unfold(0u32, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        let chunk = if n == 0 {
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
        } else {
            " "
        };
        (n < 100).then(|| {
            (
                Ok::<_, std::io::Error>(Bytes::from_static(chunk.as_bytes())),
                n + 1,
            )
        })
    });
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn too_many() -> Response {
    let wait = RATE_LIMIT_RETRY_SECS.to_string();
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, wait)],
        "slow down",
    )
        .into_response()
}

/// 503 with `Retry-After` as an HTTP date, the other form the header takes.
async fn unavailable() -> Response {
    let later = SystemTime::now() + Duration::from_secs(UNAVAILABLE_RETRY_SECS);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, httpdate::fmt_http_date(later))],
        "maintenance",
    )
        .into_response()
}

/// 16 KB on the wire, 16 MiB of zeros once gunzipped.
async fn gzip_bomb() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "application/rss+xml"),
        (header::CONTENT_ENCODING, "gzip"),
    ];
    (headers, BOMB).into_response()
}

fn big_feed() -> String {
    let mut body =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>كبير</title>");
    while body.len() < BIG_BODY_BYTES {
        body.push_str("<item><title>عنوان طويل جدا جدا</title></item>");
    }
    body
}

/// A feed that never ends, sent with its `Content-Length`.
async fn big() -> Response {
    ([(header::CONTENT_TYPE, "application/rss+xml")], big_feed()).into_response()
}

/// The same feed streamed without a length: only counting the bytes as they arrive can stop it.
async fn big_chunked() -> Response {
    let body = Bytes::from(big_feed());
    let chunks =
        futures_util::stream::iter((0..body.len()).step_by(64 * 1024).map(move |at| {
            Ok::<_, std::io::Error>(body.slice(at..(at + 64 * 1024).min(body.len())))
        }));
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// `/loop/a` → 302 → `/loop/b` → 301 → `/loop/a`: a loop through both kinds of redirect.
async fn redirect_loop(Path(side): Path<String>) -> Response {
    let (code, to) = if side == "a" {
        (StatusCode::FOUND, "/loop/b")
    } else {
        (StatusCode::MOVED_PERMANENTLY, "/loop/a")
    };
    (code, [(header::LOCATION, to)]).into_response()
}

/// `/chain/n` → `/chain/n+1` → …: no loop, just more hops than any client should follow.
async fn endless_chain(Path(n): Path<u32>) -> Response {
    let to = format!("/chain/{}", n + 1);
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}
