//! The feed server of the fetch tests: axum on 127.0.0.1:0 with a well-behaved feed, conditional answers and
//! redirects, plus every misbehaving route (slow, dripping, oversize, compressed bombs, loops, error statuses) from
//! the one misbehaving server the end-to-end tests use too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::*;

#[path = "../../tests/common/misbehaving.rs"]
mod misbehaving;
pub(super) use misbehaving::*;

pub(super) const FEED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>أخبار</title></channel></rss>";

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
        last_to_host: false,
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

/// The port this request came in on, from its `Host` header.
fn own_port(headers: &HeaderMap) -> String {
    let host = headers[header::HOST].to_str().unwrap();
    host.rsplit(':').next().unwrap().to_owned()
}

/// Routes that behave well, redirect, or point back at this server; plus every misbehaving route shared with the
/// end-to-end fixture server. `seen` records the request headers of `/feed`.
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
            "/to-localhost",
            // The very same server, named `localhost`.
            get(|headers: HeaderMap| async move {
                let to = format!("http://localhost:{}/feed", own_port(&headers));
                (StatusCode::FOUND, [(header::LOCATION, to)])
            }),
        )
        .route(
            "/to-local",
            // The very same server, named by its loopback IP.
            get(|headers: HeaderMap| async move {
                let to = format!("http://127.0.0.1:{}/feed", own_port(&headers));
                (StatusCode::FOUND, [(header::LOCATION, to)])
            }),
        )
        .merge(misbehaving::routes())
}

pub(super) async fn server() -> (SocketAddr, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    (serve(router(seen.clone())).await, seen)
}
