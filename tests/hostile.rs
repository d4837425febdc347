//! Hostile feeds through the real binary (issue 10, the input side): each case of `tests/common/hostile_feeds.rs`
//! served on loopback, polled or run, with its outcome and its bound checked — peak memory through
//! `/usr/bin/time` where it is installed, sizes of the database and of published documents.
//!
//! Time is not asserted (the machine may be busy); a case that went quadratic again would show up as a test that
//! does not finish, and `bench/hostile_cases.py` measures the time of each case on the release binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::hostile_feeds::*;
use common::*;

/// Peak memory every case must stay under (the shipped unit's MemoryMax is 512M).
const PEAK_KIB: u64 = 150 * 1024;

fn line_of<'a>(text: &'a str, id: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .unwrap_or_else(|| panic!("no line for {id} in {text}"))
}

fn assert_peak(case: &str, kib: Option<u64>) {
    if let Some(kib) = kib {
        assert!(kib < PEAK_KIB, "{case}: peak memory {kib} KiB");
    }
}

/// A config polling `/hostile/{case}` (and the healthy fixture outlet), with more lines after `[fetch]`. The body
/// is generated here first, so that the fetch (1 s timeout) only transfers it.
fn config_for(dir: &Path, server: &FixtureServer, case: &str, extra: &str) -> PathBuf {
    warm(server, case);
    write_config_with(
        dir,
        "127.0.0.1:0",
        &[
            (case, server.url(&format!("/hostile/{case}"))),
            ("healthy", server.url("/feeds/outlet-a.xml")),
        ],
        extra,
    )
}

fn warm(server: &FixtureServer, case: &str) {
    let (status, _) = get(server.addr.port(), &format!("/hostile/{case}")).unwrap();
    assert_eq!(status, 200, "{case}");
}

fn database_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("state"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn feed_xml(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("out/feed.xml")).unwrap()
}

#[test]
fn item_count_caps_bound_memory_and_disk() {
    let server = FixtureServer::start();
    for (case, items) in [
        ("items", EMPTY_ITEMS),
        ("guids", GUID_ITEMS),
        ("json-items", EMPTY_ITEMS),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = config_for(dir.path(), &server, case, "max_body_bytes = 20000000");
        let (out, kib) = qafila_measured(&config, &["poll"]);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        let over = items - 500;
        let line = line_of(&text, case);
        assert!(
            line.contains(&format!("over the item cap {over} (not stored)")),
            "{line}"
        );
        assert!(line_of(&text, "healthy").contains("new 3"), "{text}");
        assert_peak(case, kib);
        if case == "guids" {
            assert!(line.contains("new 500 / seen 0"), "{line}");
            let bytes = database_bytes(dir.path());
            assert!(bytes < 8 << 20, "database grew to {bytes} bytes");
        }
    }
}

#[test]
fn entity_declarations_fail_that_source_only() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &server, "laughs", "");
    let out = qafila(&config, &["poll"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let line = line_of(&text, "laughs");
    assert!(
        line.contains(
            "error: not a usable feed: refused: the feed's DOCTYPE declares its own entities"
        ),
        "{line}"
    );
    assert!(line_of(&text, "healthy").contains("new 3"), "{text}");
    assert!(!feed_xml(dir.path()).contains("lol"));
}

#[test]
fn nested_markup_is_flattened_and_sanitized_once() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &server, "nested", "");
    let (out, kib) = qafila_measured(&config, &["poll"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(line_of(&text, "nested").contains("new 1"), "{text}");
    assert_peak("nested", kib);
    let xml = feed_xml(dir.path());
    let item = xml
        .split("<item>")
        .find(|i| i.contains("hostile.test/nested"))
        .expect("the nested item is published");
    let divs = item.matches("<div").count();
    assert!(
        (2..=50).contains(&divs),
        "{divs} <div> published; the text stays: {}",
        item.contains('x')
    );
}

#[test]
fn published_documents_stay_under_their_cap() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(
        dir.path(),
        &server,
        "wide",
        "\n[limits]\nmax_content_bytes = 4096\nmax_document_bytes = 65536",
    );
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = feed_xml(dir.path());
    let items = xml.matches("<item>").count();
    assert!(xml.len() <= 65536, "feed.xml is {} bytes", xml.len());
    // Similar headlines may have joined one story: compare with the stories stored.
    let stories = stories_json(&config).len();
    assert!(
        items >= 1 && items < stories,
        "{items} of {stories} stories published"
    );
    assert!(
        xml.contains("hostile.test/wide/0<"),
        "the newest story stays"
    );
}

#[test]
fn limits_are_checked_like_any_config_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config_with(
        dir.path(),
        "127.0.0.1:0",
        &[],
        "\n[limits]\nmax_content_bytes = 65536\nmax_document_bytes = 100000",
    );
    let out = qafila(&config, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:", config.display()))
            && err.contains("key `limits.max_document_bytes`: must be at least 1048576"),
        "{err}"
    );
}

/// `qafila run` under `/usr/bin/time` (when installed); `pid()` is the daemon's own process.
struct MeasuredDaemon {
    child: std::process::Child,
    report: tempfile::NamedTempFile,
    timed: bool,
}

impl MeasuredDaemon {
    fn start(config: &Path) -> MeasuredDaemon {
        let report = tempfile::NamedTempFile::new().unwrap();
        let timed = Path::new("/usr/bin/time").exists();
        let mut cmd = if timed {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "%M", "-o"])
                .arg(report.path())
                .arg(env!("CARGO_BIN_EXE_qafila"));
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_qafila"))
        };
        let child = cmd
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        MeasuredDaemon {
            child,
            report,
            timed,
        }
    }

    /// The qafila process: time's child when measured.
    fn pid(&self) -> u32 {
        if !self.timed {
            return self.child.id();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new("pgrep")
                .args(["-P", &self.child.id().to_string()])
                .output()
                .unwrap();
            if let Some(pid) = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
            {
                return pid.parse().unwrap();
            }
            assert!(Instant::now() < deadline, "the daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, wait, and the peak memory in KiB.
    fn stop(mut self) -> Option<u64> {
        let pid = self.pid();
        Command::new("kill").arg(pid.to_string()).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the daemon exited with {status}");
        std::fs::read_to_string(self.report.path())
            .ok()
            .and_then(|s| s.trim().lines().last()?.parse().ok())
    }
}

impl Drop for MeasuredDaemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").arg(self.pid().to_string()).status();
            let _ = self.child.wait();
        }
    }
}

/// A GET on 127.0.0.1:port: status and body, `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

/// Waits (as a hang detector, not a timing assertion) until `ready` holds.
fn wait_for<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_daemon_serves_whatever_is_stored_within_bounds() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    for case in ["nested", "title", "bidi"] {
        warm(&server, case);
    }
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[
            ("nested", server.url("/hostile/nested")),
            ("title", server.url("/hostile/title")),
            ("bidi", server.url("/hostile/bidi")),
        ],
    );
    // The hostile items are stored first, as they were when the daemon could not start on them.
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = stories_json(&config);
    let title = stored
        .iter()
        .flat_map(|s| s["items"].as_array().into_iter().flatten())
        .filter_map(|i| i["title"].as_str())
        .find(|t| t.starts_with(COUNTRIES[0]))
        .expect("the long title is stored")
        .to_string();
    assert!(
        title.chars().count() <= 500,
        "stored title {} chars",
        title.chars().count()
    );
    let bidi_stored = stored
        .iter()
        .flat_map(|s| s["items"].as_array().into_iter().flatten())
        .filter_map(|i| i["title"].as_str())
        .find(|t| t.contains('\u{202E}'))
        .expect("the bidi title is stored as sent");
    assert!(
        !bidi_stored.contains('\u{202C}'),
        "stored text is untouched"
    );

    let daemon = MeasuredDaemon::start(&config);
    wait_for("/healthz", || {
        get(port, "/healthz").filter(|(s, _)| *s == 200)
    });
    let atom = wait_for("/feed.atom with entries", || {
        get(port, "/feed.atom").filter(|(s, b)| *s == 200 && b.contains("<entry"))
    })
    .1;
    assert!(atom.len() < 200_000, "/feed.atom is {} bytes", atom.len());
    let page = get(port, "/country/kz").unwrap().1;
    assert!(page.len() < 200_000, "/country/kz is {} bytes", page.len());
    let home = get(port, "/").unwrap().1;
    let bidi_title = home
        .split("<h2")
        .find(|h| h.contains('\u{202E}'))
        .expect("the bidi story is on the page");
    let title_end = bidi_title.find("</h2>").unwrap();
    assert!(
        bidi_title[..title_end].contains('\u{202C}'),
        "the override is closed inside its heading: {:?}",
        &bidi_title[..title_end]
    );
    for doc in ["/feed.xml", "/feed.json"] {
        let body = get(port, doc).unwrap().1;
        let opened = body
            .matches(['\u{202A}', '\u{202B}', '\u{202D}', '\u{202E}'])
            .count();
        let closed = body.matches('\u{202C}').count();
        assert_eq!(opened, closed, "{doc}: embeddings and overrides balanced");
    }
    let peak = daemon.stop();
    assert_peak("run", peak);
}
