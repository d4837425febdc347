//! Discovery probes and sitemap children through the real fetcher: the SSRF guard applies to links found in a
//! public page, and the Arabic feed is preferred.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use url::Url;

use super::*;
use crate::fetch::FetchSettings;

const ARABIC: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>أخبار</title>\
    <item><title>باكو تستضيف منتدى</title><link>http://news.example/1</link></item></channel></rss>";
const ENGLISH: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
    <item><title>Baku hosts a forum</title><link>http://news.example/en/1</link></item></channel></rss>";

async fn server() -> SocketAddr {
    let rss = |body: &'static str| {
        move || async move { ([("content-type", "application/rss+xml")], body) }
    };
    let router = axum::Router::new()
        .route("/ar.xml", get(rss(ARABIC)))
        .route("/en.xml", get(rss(ENGLISH)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A fetcher for which `news.example` is a public name served by the local test server.
fn fetcher(addr: SocketAddr) -> Fetcher {
    let settings = FetchSettings {
        timeout: Duration::from_millis(1500),
        per_host_min_gap: Duration::ZERO,
        ..FetchSettings::default()
    };
    Fetcher::with_host_overrides(settings, &[("news.example", addr)]).unwrap()
}

#[tokio::test]
async fn a_public_page_cannot_lead_discovery_to_a_private_address() {
    let addr = server().await;
    let port = addr.port();
    let page = Url::parse(&format!("http://news.example:{port}/")).unwrap();
    let html = format!(
        r#"<link rel="alternate" type="application/rss+xml" hreflang="ar" href="http://127.0.0.1:{port}/ar.xml">
           <link rel="alternate" type="application/rss+xml" href="/en.xml">"#
    );
    // A source configured on the public page: no exemption.
    let allow_private = crate::fetch::private_allowed(&page, false);
    let found = discover_feeds(
        &fetcher(addr),
        &CpuSlots::new(1),
        allow_private,
        &page,
        html.as_bytes(),
        None,
        true,
    )
    .await
    .unwrap();
    let urls: Vec<String> = found.iter().map(|f| f.url.to_string()).collect();
    // The Arabic feed on the loopback address is refused; the public English one is all there is.
    assert_eq!(urls, [format!("http://news.example:{port}/en.xml")]);
    assert!(!found[0].arabic);
}

#[tokio::test]
async fn a_page_on_a_private_address_may_lead_to_its_neighbours_and_arabic_wins() {
    let addr = server().await;
    let page = Url::parse(&format!("http://{addr}/")).unwrap();
    let html = r#"<link rel="alternate" type="application/rss+xml" href="/en.xml">
                  <link rel="alternate" type="application/rss+xml" href="/ar.xml">"#;
    // A source configured on the loopback literal: exempt, and so are the links its page gives.
    let allow_private = crate::fetch::private_allowed(&page, false);
    let found = discover_feeds(
        &fetcher(addr),
        &CpuSlots::new(1),
        allow_private,
        &page,
        html.as_bytes(),
        None,
        false,
    )
    .await
    .unwrap();
    let arabic: Vec<(String, bool)> = found
        .iter()
        .map(|f| (f.url.path().to_string(), f.arabic))
        .collect();
    // Not marked by the page: both are fetched, the second is Arabic by its items and ends the search.
    assert_eq!(
        arabic,
        [
            ("/en.xml".to_string(), false),
            ("/ar.xml".to_string(), true)
        ]
    );
}
