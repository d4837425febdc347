//! Fetch tests against a real axum server on 127.0.0.1 ([`super::test_server`]) and the real reqwest client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use tokio::time::Instant;

use super::test_server::*;
use super::*;

#[test]
fn fetcher_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Fetcher>();
}

#[tokio::test]
async fn fetches_body_and_meta_with_proper_headers() {
    let (addr, seen) = server().await;
    let fetcher = Fetcher::new(settings()).unwrap();
    let (meta, body) = fetched(fetcher.fetch(&req(addr, "/feed")).await);
    assert_eq!(body, FEED.as_bytes());
    assert_eq!(meta.status, 200);
    assert_eq!(meta.bytes, FEED.len() as u64);
    assert_eq!(meta.final_url.path(), "/feed");
    assert_eq!(meta.permanent_redirect, None);
    assert_eq!(meta.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        meta.last_modified.as_deref(),
        Some("Sun, 01 Mar 2026 10:00:00 GMT")
    );
    assert_eq!(
        meta.content_type.as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    assert_eq!(meta.cache_floor, Some(Duration::from_secs(300)));
    let headers = seen.lock().unwrap()[0].clone();
    assert!(headers[header::USER_AGENT]
        .to_str()
        .unwrap()
        .starts_with("qafila/"));
    assert!(headers[header::ACCEPT]
        .to_str()
        .unwrap()
        .starts_with("application/rss+xml"));
    let encodings = headers[header::ACCEPT_ENCODING].to_str().unwrap();
    assert!(
        encodings.contains("gzip") && encodings.contains("br"),
        "{encodings}"
    );
}

#[tokio::test]
async fn conditional_get_gives_not_modified() {
    let (addr, _) = server().await;
    let fetcher = Fetcher::new(settings()).unwrap();
    let mut request = req(addr, "/conditional");
    let (meta, _) = fetched(fetcher.fetch(&request).await);
    request.etag = meta.etag;
    match fetcher.fetch(&request).await {
        FetchOutcome::NotModified(meta) => {
            assert_eq!(meta.status, 304);
            // The 304 did not repeat the ETag: the request's is kept so it can be stored as is.
            assert_eq!(meta.etag.as_deref(), Some("\"v1\""));
        }
        other => panic!("expected 304, got {other:?}"),
    }
    let by_date = FetchRequest {
        last_modified: Some("Sun, 01 Mar 2026 10:00:00 GMT".into()),
        last_to_host: false,
        ..req(addr, "/conditional")
    };
    assert!(matches!(
        fetcher.fetch(&by_date).await,
        FetchOutcome::NotModified(_)
    ));
}

#[tokio::test]
async fn error_statuses_are_failures() {
    let (addr, _) = server().await;
    let fetcher = Fetcher::new(settings()).unwrap();
    let f = failure(fetcher.fetch(&req(addr, "/status/500")).await);
    assert_eq!((f.kind, f.status), (FailureKind::HttpStatus, Some(500)));
    assert!(f.is_temporary());
    assert!(f.message.contains("HTTP 500"), "{}", f.message);
    let f = failure(fetcher.fetch(&req(addr, "/status/404")).await);
    assert_eq!(f.status, Some(404));
    assert!(!f.is_temporary());
    let f = failure(fetcher.fetch(&req(addr, "/r429")).await);
    assert_eq!(
        (f.status, f.retry_after),
        (Some(429), Some(Duration::from_secs(RATE_LIMIT_RETRY_SECS)))
    );
    let f = failure(fetcher.fetch(&req(addr, "/r503")).await);
    let delay = f.retry_after.unwrap();
    let promised = Duration::from_secs(UNAVAILABLE_RETRY_SECS);
    assert!(
        delay > promised - Duration::from_secs(20) && delay <= promised,
        "{delay:?}"
    );
}

#[tokio::test]
async fn slow_server_and_slow_body_time_out() {
    let (addr, _) = server().await;
    let fetcher = Fetcher::new(FetchSettings {
        timeout: Duration::from_millis(400),
        ..settings()
    })
    .unwrap();
    for path in ["/slow", "/drip"] {
        let start = Instant::now();
        let f = failure(fetcher.fetch(&req(addr, path)).await);
        assert_eq!(f.kind, FailureKind::Timeout, "{path}: {}", f.message);
        assert!(f.is_temporary());
        // Both would take a minute or more without the timeout; the margin is for a busy machine.
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{path}: {:?}",
            start.elapsed()
        );
    }
}

#[tokio::test]
async fn bodies_are_capped_after_decompression() {
    let (addr, _) = server().await;
    let fetcher = Fetcher::new(settings()).unwrap();
    for path in ["/bomb", "/big", "/big-chunked"] {
        let f = failure(fetcher.fetch(&req(addr, path)).await);
        assert_eq!(f.kind, FailureKind::BodyTooLarge, "{path}: {}", f.message);
        assert!(!f.is_temporary());
    }
    // The same bomb under a larger limit decompresses completely: the count is of decompressed bytes.
    let roomy = Fetcher::new(FetchSettings {
        max_body_bytes: 32 * 1024 * 1024,
        ..settings()
    })
    .unwrap();
    let (meta, body) = fetched(roomy.fetch(&req(addr, "/bomb")).await);
    assert_eq!(meta.bytes, BOMB_INFLATED_BYTES);
    assert!(body.iter().all(|b| *b == 0));
}

#[tokio::test]
async fn redirects_are_followed_and_classified() {
    let (addr, _) = server().await;
    let fetcher = Fetcher::new(settings()).unwrap();
    let (meta, body) = fetched(fetcher.fetch(&req(addr, "/r301")).await);
    assert_eq!(body, FEED.as_bytes());
    assert_eq!(meta.final_url.as_str(), format!("http://{addr}/feed"));
    assert_eq!(meta.permanent_redirect.as_ref(), Some(&meta.final_url));
    // One temporary hop in the chain: the stored URL must not be updated.
    let (meta, _) = fetched(fetcher.fetch(&req(addr, "/r302")).await);
    assert_eq!(meta.final_url.path(), "/feed");
    assert_eq!(meta.permanent_redirect, None);

    let f = failure(fetcher.fetch(&req(addr, "/loop/a")).await);
    assert_eq!(f.kind, FailureKind::RedirectLoop, "{}", f.message);
    let f = failure(fetcher.fetch(&req(addr, "/chain/0")).await);
    assert_eq!(f.kind, FailureKind::TooManyRedirects, "{}", f.message);
    let f = failure(fetcher.fetch(&req(addr, "/no-location")).await);
    assert_eq!(f.kind, FailureKind::BadRedirect, "{}", f.message);
}

#[tokio::test]
async fn ssrf_guard_refuses_redirect_from_public_host_to_loopback() {
    let (addr, _) = server().await;
    let overrides = [("news.example", addr)];
    let fetcher = Fetcher::with_host_overrides(settings(), &overrides).unwrap();
    let public = |path: &str| FetchRequest {
        url: Url::parse(&format!("http://news.example:{}{path}", addr.port())).unwrap(),
        allow_private: false,
        etag: None,
        last_modified: None,
        last_to_host: false,
    };
    // The pinned name itself works...
    let (meta, _) = fetched(fetcher.fetch(&public("/feed")).await);
    assert_eq!(meta.final_url.host_str(), Some("news.example"));
    // ...but it may not bounce us to a loopback address.
    let f = failure(fetcher.fetch(&public("/to-local")).await);
    assert_eq!(f.kind, FailureKind::PrivateAddress, "{}", f.message);
    assert!(!f.is_temporary());
    // ...nor to a name that resolves to one.
    let f = failure(fetcher.fetch(&public("/to-localhost")).await);
    assert_eq!(f.kind, FailureKind::PrivateAddress, "{}", f.message);
    assert!(f.message.contains("localhost"), "{}", f.message);
    // A source configured on a name that resolves to loopback is refused: the name's DNS, not the operator,
    // would decide. Only `allow_private` on the source permits it.
    let local_url = Url::parse(&format!("http://localhost:{}/feed", addr.port())).unwrap();
    let mut local_name = FetchRequest {
        allow_private: private_allowed(&local_url, false),
        url: local_url.clone(),
        etag: None,
        last_modified: None,
        last_to_host: false,
    };
    let f = failure(fetcher.fetch(&local_name).await);
    assert_eq!(f.kind, FailureKind::PrivateAddress, "{}", f.message);
    local_name.allow_private = private_allowed(&local_url, true);
    fetched(fetcher.fetch(&local_name).await);
    local_name.allow_private = false;
    // A stored permanent-redirect target is fetched as the source's URL, but the exemption comes from the
    // configured URL: a public source's `moved_to` on a loopback literal is refused like any hop.
    let configured = Url::parse("http://news.example/feed").unwrap();
    let moved_to = FetchRequest {
        allow_private: private_allowed(&configured, false),
        ..req(addr, "/feed")
    };
    let f = failure(fetcher.fetch(&moved_to).await);
    assert_eq!(f.kind, FailureKind::PrivateAddress, "{}", f.message);

    let open = FetchSettings {
        allow_private: true,
        ..settings()
    };
    let fetcher = Fetcher::with_host_overrides(open, &overrides).unwrap();
    fetched(fetcher.fetch(&public("/to-local")).await);
    fetched(fetcher.fetch(&local_name).await);
}

#[tokio::test]
async fn per_host_gap_and_concurrency() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let in_flight = Arc::new(Mutex::new((0u32, 0u32))); // (now, max)
    let (s, f) = (starts.clone(), in_flight.clone());
    let router = Router::new().route(
        "/slow",
        get(move || {
            let (s, f) = (s.clone(), f.clone());
            async move {
                s.lock().unwrap().push(Instant::now());
                {
                    let mut g = f.lock().unwrap();
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                f.lock().unwrap().0 -= 1;
                FEED
            }
        }),
    );
    let addr = serve(router).await;
    let fetcher = Fetcher::new(FetchSettings {
        per_host_min_gap: Duration::from_millis(150),
        ..settings()
    })
    .unwrap();
    let started = Instant::now();
    let jobs = (0..3).map(|_| {
        let fetcher = fetcher.clone();
        tokio::spawn(async move { fetcher.fetch(&req(addr, "/slow")).await })
    });
    for job in jobs.collect::<Vec<_>>() {
        fetched(job.await.unwrap());
    }
    // Three starts need two gaps. Only a lower bound on the whole is asserted: the time the server sees each
    // request arrive varies with the machine's load, but no load makes the fetcher wait less.
    assert_eq!(starts.lock().unwrap().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(in_flight.lock().unwrap().1, 1);
}

#[tokio::test]
async fn bad_urls_and_dead_ports() {
    let fetcher = Fetcher::new(settings()).unwrap();
    let ftp = FetchRequest {
        url: Url::parse("ftp://news.example/feed").unwrap(),
        allow_private: false,
        etag: None,
        last_modified: None,
        last_to_host: false,
    };
    assert_eq!(
        failure(fetcher.fetch(&ftp).await).kind,
        FailureKind::InvalidUrl
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let f = failure(fetcher.fetch(&req(addr, "/feed")).await);
    assert_eq!(f.kind, FailureKind::Connect, "{}", f.message);
    assert!(f.is_temporary());
    assert!(!f.message.contains('\n'));
}

#[tokio::test]
async fn fetched_fixtures_parse_as_arabic() {
    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/feeds/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }
    let legacy = fixture("no-encoding-decl-1256.xml");
    let rss2 = fixture("rss2.xml");
    let router = Router::new()
        .route(
            "/old/legacy.xml",
            get(|| async { redirect(axum::http::StatusCode::MOVED_PERMANENTLY, "/ar/legacy.xml") }),
        )
        .route(
            "/ar/legacy.xml",
            // The charset is only in the HTTP header: the body has no XML declaration.
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "text/xml; charset=windows-1256")],
                    legacy,
                )
            }),
        )
        .route("/ar/rss2.xml", get(move || async move { rss2 }));
    let addr = serve(router).await;
    let fetcher = Fetcher::new(settings()).unwrap();
    let (meta, body) = fetched(fetcher.fetch(&req(addr, "/old/legacy.xml")).await);
    assert!(meta.permanent_redirect.is_some());
    let feed =
        crate::parse::parse_feed(&body, meta.content_type.as_deref(), &meta.final_url).unwrap();
    assert_eq!(
        feed.items[0].title,
        "رئيس كازاخستان يستقبل وزير الخارجية الأذربيجاني في أستانا"
    );

    let (meta, body) = fetched(fetcher.fetch(&req(addr, "/ar/rss2.xml")).await);
    let feed =
        crate::parse::parse_feed(&body, meta.content_type.as_deref(), &meta.final_url).unwrap();
    // The relative item link resolves against the URL the feed was fetched from.
    let expected = format!("http://{addr}/ar/news/2026/03/01/kyrgyz-tajik-border");
    assert_eq!(feed.items[1].link.as_deref(), Some(expected.as_str()));
}
