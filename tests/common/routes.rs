//! The fixture server's own routes: fixture feeds with validators, generated and time-stamped feeds, a moving feed
//! and a WebSub hub. The misbehaving routes live in `misbehaving.rs`, shared with the fetch unit tests.

use super::*;

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("atom") => "application/atom+xml; charset=utf-8",
        Some("json") => "application/feed+json",
        // The encoded fixtures say their encoding only in the XML declaration; no HTTP charset.
        _ if name.starts_with("cp1256") || name.starts_with("iso-") => "text/xml",
        _ => "application/rss+xml; charset=utf-8",
    }
}

pub(super) async fn feed(
    State(shared): State<Arc<Mutex<Shared>>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/feeds/{name}");
    let etag = format!("\"v1-{name}\"");
    {
        let mut s = shared.lock().unwrap();
        *s.hits.entry(path.clone()).or_default() += 1;
        if s.broken.contains(&path) {
            return Response::builder()
                .status(500)
                .body(Body::from("broken"))
                .unwrap();
        }
        if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            == Some(etag.as_str())
        {
            *s.not_modified.entry(path).or_default() += 1;
            return Response::builder()
                .status(304)
                .header(header::ETAG, etag)
                .body(Body::empty())
                .unwrap();
        }
    }
    match std::fs::read(fixture(&name)) {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, content_type(&name))
            .header(header::ETAG, etag)
            .body(Body::from(bytes))
            .unwrap(),
        Err(_) => Response::builder()
            .status(404)
            .body(Body::from("no such fixture"))
            .unwrap(),
    }
}

/// `/gen/{n}.xml`: a generated RSS feed of 50 Arabic items unique to feed n (`/gen/{n}-{items}.xml`: that many),
/// answered after 30 ms so that a poll of many such feeds takes a while.
pub(super) async fn generated(UrlPath(name): UrlPath<String>) -> Response {
    let name = name.trim_end_matches(".xml");
    let (n, items) = name.split_once('-').unwrap_or((name, "50"));
    let (n, items): (usize, usize) = (n.parse().unwrap_or(0), items.parse().unwrap_or(50));
    tokio::time::sleep(Duration::from_millis(30)).await;
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")
        .body(Body::from(generated_feed(n, items)))
        .unwrap()
}

/// `/now/{name}`: the fixture `tests/fixtures/e2e/{name}` with every `NOW-{h}H` replaced by the RFC 822 date of
/// h hours ago, so that story windows (counted back from now) hold whenever the tests run.
pub(super) async fn dated_now(UrlPath(name): UrlPath<String>) -> Response {
    let Ok(mut text) = std::fs::read_to_string(fixture(&name)) else {
        return Response::builder().status(404).body(Body::empty()).unwrap();
    };
    while let Some(start) = text.find("NOW-") {
        let end = start + text[start..].find('H').unwrap();
        let hours: i64 = text[start + 4..end].parse().unwrap();
        let date = (chrono::Utc::now() - chrono::Duration::hours(hours)).to_rfc2822();
        text.replace_range(start..=end, &date);
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")
        .body(Body::from(text))
        .unwrap()
}

/// `/fresh/{n}.xml`: 20 items, one new every second, so a daemon polling it keeps writing.
pub(super) async fn fresh(UrlPath(name): UrlPath<String>) -> Response {
    let n: u64 = name.trim_end_matches(".xml").parse().unwrap_or(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut out = format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>منفذ {n}</title><link>https://fresh{n}.example/</link><description>-</description>");
    for t in (now - 19)..=now {
        out.push_str(&format!(
            "<item><title>باكو: تحديث رقم {t} من المنفذ {n}</title><link>https://fresh{n}.example/{t}</link><guid>fresh-{n}-{t}</guid><description>تحديث {t}</description></item>"
        ));
    }
    out.push_str("</channel></rss>");
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml")
        .body(Body::from(out))
        .unwrap()
}

pub fn generated_feed(n: usize, items: usize) -> String {
    let places = [
        "كازاخستان",
        "قرغيزستان",
        "طاجيكستان",
        "أوزبكستان",
        "أذربيجان",
        "أرمينيا",
        "جورجيا",
    ];
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>منفذ {n}</title>\
         <link>https://gen{n}.example/</link><description>أخبار</description>"
    );
    for i in 0..items {
        let place = places[(n + i) % places.len()];
        out.push_str(&format!(
            "<item><title>{place}: خبر رقم {i} من المنفذ {n} عن مشروع بقيمة {} مليون دولار</title>\
             <link>https://gen{n}.example/news/{i}</link><guid>gen-{n}-{i}</guid>\
             <pubDate>Fri, 20 Nov 2026 {:02}:{:02}:00 GMT</pubDate>\
             <description>تفاصيل الخبر رقم {i} من {place}.</description></item>",
            (n * 7 + i) % 90 + 1,
            i % 24,
            (n + i) % 60
        ));
    }
    out.push_str("</channel></rss>");
    out
}

/// The parse-stage fixtures of `tests/fixtures/feeds/`, with the HTTP charset a careless server would send.
pub(super) async fn hostile_fixture(UrlPath(name): UrlPath<String>) -> Response {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/feeds")
        .join(&name);
    let content_type = match name.as_str() {
        "no-encoding-decl-1256.xml" => "text/xml; charset=windows-1256",
        // The mislabelled feed's bytes are UTF-8, its declaration (and this header) say windows-1256.
        "mislabelled-utf8-as-1256.xml" => "text/xml; charset=windows-1256",
        "page.html" => "text/html; charset=utf-8",
        _ => "text/xml",
    };
    match std::fs::read(path) {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes))
            .unwrap(),
        Err(_) => Response::builder().status(404).body(Body::empty()).unwrap(),
    }
}

/// `/moved/2` → 301 → `/moved/1` → 308 → `/feeds/no-guid.xml`.
pub(super) async fn moved(UrlPath(n): UrlPath<u32>) -> Response {
    let (status, to) = match n {
        0 => return Response::builder().status(404).body(Body::empty()).unwrap(),
        1 => (308, "/feeds/no-guid.xml".to_string()),
        n => (301, format!("/moved/{}", n - 1)),
    };
    Response::builder()
        .status(status)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap()
}

pub(super) async fn hub(State(shared): State<Arc<Mutex<Shared>>>, body: String) -> Response {
    shared.lock().unwrap().hub_pings.push(body);
    Response::builder().status(204).body(Body::empty()).unwrap()
}
