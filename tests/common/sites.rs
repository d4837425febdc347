//! `/sites/…`: small web sites served from `tests/fixtures/sites/` for the regional-source tests — home pages,
//! listing pages, feeds and sitemaps. A path ending in `/` serves the directory's `index.html`, else its
//! `index.xml` (a feed "hidden" at `/feed/`). Text files get every `NOW-{h}H` replaced by the ISO 8601 time of h
//! hours ago (sitemaps only list the last days); `*-cp1256` pages are served as bytes, their charset only in a
//! `<meta>`.

use super::*;

pub(super) fn routes() -> axum::Router<Arc<Mutex<Shared>>> {
    axum::Router::new().route("/sites/{*path}", get(site_file))
}

async fn site_file(
    State(shared): State<Arc<Mutex<Shared>>>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    *shared
        .lock()
        .unwrap()
        .hits
        .entry(format!("/sites/{path}"))
        .or_default() += 1;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites");
    if path.split('/').any(|part| part == "..") {
        return Response::builder().status(400).body(Body::empty()).unwrap();
    }
    let file = if path.ends_with('/') {
        let html = root.join(&path).join("index.html");
        if html.exists() {
            html
        } else {
            root.join(&path).join("index.xml")
        }
    } else {
        root.join(&path)
    };
    let Ok(bytes) = std::fs::read(&file) else {
        return Response::builder()
            .status(404)
            .body(Body::from("no such page"))
            .unwrap();
    };
    let name = file.to_string_lossy().into_owned();
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") if name.contains("cp1256") => "text/html",
        Some("html") => "text/html; charset=utf-8",
        Some("xml") if name.contains("sitemap") => "application/xml",
        Some("xml") => "application/rss+xml; charset=utf-8",
        _ => "application/octet-stream",
    };
    let body = match String::from_utf8(bytes) {
        Ok(mut text) => {
            while let Some(start) = text.find("NOW-") {
                let end = start + text[start..].find('H').unwrap();
                let hours: i64 = text[start + 4..end].parse().unwrap();
                let date = (chrono::Utc::now() - chrono::Duration::hours(hours)).to_rfc3339();
                text.replace_range(start..=end, &date);
            }
            text.into_bytes()
        }
        Err(e) => e.into_bytes(),
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}
