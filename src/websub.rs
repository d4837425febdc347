//! WebSub publisher pings: after a publish that changed a feed, tell the configured hub so that subscribers get the
//! new stories pushed instead of waiting for their next poll (the feeds advertise the hub with
//! `atom:link rel="hub"` and a `Link` header).
//!
//! A ping is a `POST` of `hub.mode=publish&hub.url=FEED` (one per changed feed), sent through the fetcher's
//! SSRF-guarded client and following no redirect (see [`Fetcher::post_form`]). A failed ping is logged and
//! forgotten: subscribers still poll, and the next change pings again.

use crate::fetch::Fetcher;
use crate::redact::public_url;

/// Pings `hub` about each of `feeds`.
pub(crate) async fn ping(fetcher: &Fetcher, hub: &str, feeds: &[String]) {
    let shown = public_url(hub);
    let Ok(hub_url) = url::Url::parse(hub) else {
        return tracing::warn!(hub = %shown, "WebSub: the hub is not a URL");
    };
    for feed in feeds {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", feed)
            .finish();
        match fetcher.post_form(&hub_url, body).await {
            Ok(s) if s.is_success() => tracing::debug!(hub = %shown, %feed, "WebSub hub notified"),
            Ok(s) => {
                tracing::warn!(hub = %shown, %feed, status = s.as_u16(), "WebSub hub refused the ping (redirects are not followed)")
            }
            Err(e) => tracing::warn!(hub = %shown, %feed, error = %e, "WebSub ping failed"),
        }
    }
}
