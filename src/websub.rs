//! WebSub publisher pings: after a publish that changed a feed, tell the configured hub so that subscribers get the
//! new stories pushed instead of waiting for their next poll (the feeds advertise the hub with
//! `atom:link rel="hub"` and a `Link` header).
//!
//! A ping is a `POST` of `hub.mode=publish&hub.url=FEED` (one per changed feed). A failed ping is logged and
//! forgotten: subscribers still poll, and the next change pings again.

use std::time::Duration;

/// Pings `hub` about each of `feeds`.
pub async fn ping(hub: &str, feeds: &[String]) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => return tracing::warn!(error = %e, "WebSub: cannot build an HTTP client"),
    };
    for feed in feeds {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", feed)
            .finish();
        let result = client
            .post(hub)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => tracing::debug!(%hub, %feed, "WebSub hub notified"),
            Ok(r) => {
                tracing::warn!(%hub, %feed, status = r.status().as_u16(), "WebSub hub refused the ping")
            }
            Err(e) => tracing::warn!(%hub, %feed, error = %e, "WebSub ping failed"),
        }
    }
}
