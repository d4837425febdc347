//! Shared by the end-to-end tests: a real HTTP server on 127.0.0.1 serving `tests/fixtures/e2e/` and misbehaving
//! routes, config files pointing at it, and a way to run the real `qafila` binary.
#![allow(dead_code)] // each test binary uses a different part of it

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

#[derive(Default)]
struct Shared {
    /// Requests per path.
    hits: HashMap<String, usize>,
    /// Conditional requests answered 304, per path.
    not_modified: HashMap<String, usize>,
    /// Paths switched to answering 500.
    broken: Vec<String>,
    /// Bodies POSTed to `/hub` (WebSub pings).
    hub_pings: Vec<String>,
}

/// The fixture server; it runs on its own thread and runtime so that tests can also run the binary beside it.
pub struct FixtureServer {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl FixtureServer {
    pub fn start() -> FixtureServer {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let state = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new()
                    .route("/feeds/{name}", get(feed))
                    .route("/status/{code}", get(status))
                    .route("/slow", get(slow))
                    .route("/gen/{name}", get(generated))
                    .route("/fresh/{name}", get(fresh))
                    .route("/now/{name}", get(dated_now))
                    .route("/fx/{name}", get(hostile_fixture))
                    .route("/drip", get(drip))
                    .route("/r429", get(too_many))
                    .route("/r503", get(unavailable))
                    .route("/moved/{n}", get(moved))
                    .route("/loop/{side}", get(redirect_loop))
                    .route("/bomb", get(gzip_bomb))
                    .route("/big", get(big))
                    .route("/hub", axum::routing::post(hub))
                    .with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("fixture server started");
        FixtureServer { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn not_modified(&self, path: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .not_modified
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn hub_pings(&self) -> Vec<String> {
        self.shared.lock().unwrap().hub_pings.clone()
    }

    /// From now on `path` answers 500.
    pub fn break_path(&self, path: &str) {
        self.shared.lock().unwrap().broken.push(path.to_string());
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("atom") => "application/atom+xml; charset=utf-8",
        Some("json") => "application/feed+json",
        // The encoded fixtures say their encoding only in the XML declaration; no HTTP charset.
        _ if name.starts_with("cp1256") || name.starts_with("iso-") => "text/xml",
        _ => "application/rss+xml; charset=utf-8",
    }
}

async fn feed(
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

/// `/gen/{n}.xml`: a generated RSS feed of 50 Arabic items unique to feed n, answered after 30 ms so that a poll
/// of many such feeds takes a while.
async fn generated(UrlPath(name): UrlPath<String>) -> Response {
    let n: usize = name.trim_end_matches(".xml").parse().unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(30)).await;
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")
        .body(Body::from(generated_feed(n, 50)))
        .unwrap()
}

/// `/now/{name}`: the fixture `tests/fixtures/e2e/{name}` with every `NOW-{h}H` replaced by the RFC 822 date of
/// h hours ago, so that story windows (counted back from now) hold whenever the tests run.
async fn dated_now(UrlPath(name): UrlPath<String>) -> Response {
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
async fn fresh(UrlPath(name): UrlPath<String>) -> Response {
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
async fn hostile_fixture(UrlPath(name): UrlPath<String>) -> Response {
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

/// A valid start of a feed, then a byte every 700 ms: only the total timeout ends it.
async fn drip() -> Response {
    let stream = futures_util::stream::unfold(0u32, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        let chunk = if n == 0 {
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>".to_string()
        } else {
            " ".to_string()
        };
        (n < 100).then(|| (Ok::<_, std::io::Error>(chunk), n + 1))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml")
        .body(Body::from_stream(stream))
        .unwrap()
}

async fn too_many() -> Response {
    Response::builder()
        .status(429)
        .header(header::RETRY_AFTER, "120")
        .body(Body::from("slow down"))
        .unwrap()
}

async fn unavailable() -> Response {
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(600));
    Response::builder()
        .status(503)
        .header(header::RETRY_AFTER, later)
        .body(Body::from("maintenance"))
        .unwrap()
}

/// `/moved/2` → 301 → `/moved/1` → 308 → `/feeds/no-guid.xml`.
async fn moved(UrlPath(n): UrlPath<u32>) -> Response {
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

async fn redirect_loop(UrlPath(side): UrlPath<String>) -> Response {
    let to = if side == "a" { "/loop/b" } else { "/loop/a" };
    Response::builder()
        .status(302)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap()
}

/// 16 KB on the wire, 16 MiB once gunzipped.
async fn gzip_bomb() -> Response {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds/gzip-bomb.gz"),
    )
    .unwrap();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(bytes))
        .unwrap()
}

/// 3 MiB of a feed that never ends.
async fn big() -> Response {
    let mut body =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>كبير</title>");
    while body.len() < 3 * 1024 * 1024 {
        body.push_str("<item><title>عنوان طويل جدا جدا</title></item>");
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml")
        .body(Body::from(body))
        .unwrap()
}

async fn hub(State(shared): State<Arc<Mutex<Shared>>>, body: String) -> Response {
    shared.lock().unwrap().hub_pings.push(body);
    Response::builder().status(204).body(Body::empty()).unwrap()
}

async fn status(UrlPath(code): UrlPath<u16>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .body(Body::from("error page"))
        .unwrap()
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Response::builder()
        .body(Body::from("<rss version=\"2.0\"><channel></channel></rss>"))
        .unwrap()
}

/// A config file in `dir` with the given `(id, url)` sources, a 1-second timeout and no per-host gap (every test
/// source is on 127.0.0.1).
pub fn write_config(dir: &Path, listen: &str, sources: &[(&str, String)]) -> PathBuf {
    write_config_with(dir, listen, sources, "")
}

/// `write_config` with more `[fetch]` lines.
pub fn write_config_with(
    dir: &Path,
    listen: &str,
    sources: &[(&str, String)],
    fetch: &str,
) -> PathBuf {
    let mut text = format!(
        r#"[feed]
title = "قافلة"
description = "أخبار آسيا الوسطى والقوقاز"
link = "http://qafila.test/"
self_url = "http://qafila.test/feed.xml"
output = "{out}"

[server]
listen = "{listen}"

[storage]
database = "{db}"

[fetch]
timeout_secs = 1
connect_timeout_secs = 1
per_host_min_gap_ms = 0
per_host_concurrency = 8
{fetch}
"#,
        out = dir.join("out/feed.xml").display(),
        db = dir.join("state/qafila.db").display(),
    );
    for (id, url) in sources {
        text.push_str(&format!(
            "\n[[source]]\nid = \"{id}\"\nname = \"منفذ {id}\"\nurl = \"{url}\"\n"
        ));
    }
    let path = dir.join("qafila.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the real binary with a config.
pub fn qafila(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qafila"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("qafila runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `qafila stories --json --limit 0`, parsed.
pub fn stories_json(config: &Path) -> Vec<serde_json::Value> {
    let out = qafila(config, &["stories", "--json", "--limit", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A free port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary running `qafila run`; killed when dropped.
pub struct Daemon(pub Child);

impl Daemon {
    pub fn start(config: &std::path::Path) -> Daemon {
        Daemon::start_with(config, &[])
    }

    pub fn start_with(config: &std::path::Path, env: &[(&str, &str)]) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_qafila"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .envs(env.iter().copied())
            .spawn()
            .unwrap();
        Daemon(child)
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc_kill(self.0.id() as i32, sig) };
    }

    pub fn terminate(mut self) -> std::process::ExitStatus {
        unsafe { libc_kill(self.0.id() as i32, 15) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
