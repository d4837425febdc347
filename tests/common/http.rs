//! An HTTP client for the end-to-end tests that read the daemon's pages as a reader's browser would, but sees
//! the bytes as sent (no transparent decompression), and a wait for a page to show what a round should have
//! published.

use std::time::{Duration, Instant};

/// A client that leaves `Content-Encoding` to the test; its timeout only catches a server that hangs.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// GET `url` with the given request headers.
pub async fn get(c: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = c.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Polls `url` until its body satisfies `ok` (the bound only catches a daemon that never publishes).
pub async fn wait_until(c: &reqwest::Client, url: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = c.get(url).send().await {
            let body = r.text().await.unwrap_or_default();
            if ok(&body) {
                return body;
            }
        }
        assert!(Instant::now() < deadline, "{url} never satisfied the check");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
