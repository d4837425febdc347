//! A misbehaving feed server for the fetch tests: axum on 127.0.0.1:0, with routes for every failure the fetcher
//! must survive (slow, dripping, oversize, compressed bombs, redirect chains and loops, error statuses).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::*;

pub(super) const FEED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>أخبار</title></channel></rss>";
pub(super) const BOMB: &[u8] = include_bytes!("../../tests/fixtures/feeds/gzip-bomb.gz");

pub(super) fn settings() -> FetchSettings {
    FetchSettings {
        timeout: Duration::from_millis(1500),
        connect_timeout: Duration::from_millis(500),
        max_body_bytes: 1024 * 1024,
        per_host_min_gap: Duration::ZERO,
        ..FetchSettings::default()
    }
}

pub(super) async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

pub(super) fn req(addr: SocketAddr, path: &str) -> FetchRequest {
    let url = Url::parse(&format!("http://{addr}{path}")).unwrap();
    FetchRequest {
        // Configured on the loopback literal: exempt, as the pipeline decides for such a source.
        allow_private: private_allowed(&url, false),
        url,
        etag: None,
        last_modified: None,
    }
}

pub(super) fn failure(outcome: FetchOutcome) -> FetchFailure {
    match outcome {
        FetchOutcome::Failed(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

pub(super) fn fetched(outcome: FetchOutcome) -> (ResponseMeta, Vec<u8>) {
    match outcome {
        FetchOutcome::Fetched { meta, body } => (meta, body),
        other => panic!("expected a body, got {other:?}"),
    }
}

pub(super) fn redirect(status: StatusCode, to: &'static str) -> impl IntoResponse {
    (status, [(header::LOCATION, to)])
}

/// Routes that behave well and badly; `seen` records the request headers of `/feed`.
pub(super) fn router(seen: Arc<Mutex<Vec<HeaderMap>>>) -> Router {
    Router::new()
        .route(
            "/feed",
            get(move |headers: HeaderMap| async move {
                seen.lock().unwrap().push(headers);
                (
                    [
                        (header::CONTENT_TYPE, "application/rss+xml; charset=utf-8"),
                        (header::ETAG, "\"v1\""),
                        (header::LAST_MODIFIED, "Sun, 01 Mar 2026 10:00:00 GMT"),
                        (header::CACHE_CONTROL, "public, max-age=300"),
                    ],
                    FEED,
                )
            }),
        )
        .route(
            "/conditional",
            get(|headers: HeaderMap| async move {
                let etag_matches = headers
                    .get(header::IF_NONE_MATCH)
                    .is_some_and(|v| v == "\"v1\"");
                let date_matches = headers
                    .get(header::IF_MODIFIED_SINCE)
                    .is_some_and(|v| v == "Sun, 01 Mar 2026 10:00:00 GMT");
                if etag_matches || date_matches {
                    StatusCode::NOT_MODIFIED.into_response()
                } else {
                    ([(header::ETAG, "\"v1\"")], FEED).into_response()
                }
            }),
        )
        .route("/500", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/404", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/429",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")]) }),
        )
        .route(
            "/503",
            get(|| async {
                let later = SystemTime::now() + Duration::from_secs(120);
                let date = httpdate::fmt_http_date(later);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, date)],
                )
            }),
        )
        .route(
            "/sleep",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                FEED
            }),
        )
        .route(
            "/drip",
            get(|| async {
                let chunks = futures_util::stream::unfold(0u32, |i| async move {
                    if i >= 50 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from_static(b"<item/>")),
                        i + 1,
                    ))
                });
                Body::from_stream(chunks)
            }),
        )
        .route(
            "/bomb",
            get(|| async {
                let headers = [
                    (header::CONTENT_ENCODING, "gzip"),
                    (header::CONTENT_TYPE, "application/xml"),
                ];
                (headers, BOMB)
            }),
        )
        .route("/big", get(|| async { vec![b'x'; 2 * 1024 * 1024] }))
        .route(
            "/big-chunked",
            get(|| async {
                // No Content-Length: only the streaming count can stop it.
                let chunks = futures_util::stream::iter(
                    (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 64 * 1024]))),
                );
                Body::from_stream(chunks)
            }),
        )
        .route(
            "/r301",
            get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/r308") }),
        )
        .route(
            "/r308",
            get(|| async { redirect(StatusCode::PERMANENT_REDIRECT, "/feed#top") }),
        )
        .route(
            "/r302",
            get(|| async { redirect(StatusCode::FOUND, "/r301") }),
        )
        .route(
            "/loop-a",
            get(|| async { redirect(StatusCode::FOUND, "/loop-b") }),
        )
        .route(
            "/loop-b",
            get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/loop-a") }),
        )
        .route(
            "/chain/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                    let to = format!("/chain/{}", n + 1);
                    (StatusCode::FOUND, [(header::LOCATION, to)])
                },
            ),
        )
        .route(
            "/no-location",
            get(|| async { StatusCode::MOVED_PERMANENTLY }),
        )
        .route(
            "/to-localhost",
            get(|headers: HeaderMap| async move {
                // Redirect to the very same server, named `localhost`.
                let host = headers
                    .get(header::HOST)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                let port = host.rsplit(':').next().unwrap().to_owned();
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://localhost:{port}/feed"))],
                )
            }),
        )
        .route(
            "/to-local",
            get(|headers: HeaderMap| async move {
                // Redirect to the very same server, but named by its loopback IP.
                let host = headers
                    .get(header::HOST)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                let port = host.rsplit(':').next().unwrap().to_owned();
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://127.0.0.1:{port}/feed"))],
                )
            }),
        )
}

pub(super) async fn server() -> (SocketAddr, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    (serve(router(seen.clone())).await, seen)
}
