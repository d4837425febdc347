//! `qafila check`: the shipped config is valid, and every kind of mistake is reported as `PATH:LINE:COL: message`
//! naming the key, with exit code 2.

mod common;

use common::*;

#[test]
fn the_shipped_config_is_valid() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/qafila.toml");
    let out = qafila(&shipped, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("OK 20 sources (12 enabled)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn qafila_config_env_is_the_default_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[("a", "http://127.0.0.1:9/feed".into())],
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qafila"))
        .arg("check")
        .env("QAFILA_CONFIG", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("OK 1 sources"));
}

#[test]
fn each_mistake_is_reported_with_file_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(write_config(
        dir.path(),
        "127.0.0.1:0",
        &[("a", "http://127.0.0.1:9/feed".into())],
    ))
    .unwrap();
    let cases: &[(&str, &str, &str)] = &[
        // (replace, with, expected fragments separated by |)
        (
            "timeout_secs = 1",
            "timeout_secs = \"soon\"",
            "fetch.timeout_secs",
        ),
        ("timeout_secs = 1", "timeout_sec = 1", "timeout_sec"),
        ("id = \"a\"", "id = \"Bad Id\"", "source[0].id"),
        (
            "url = \"http://127.0.0.1:9/feed\"",
            "url = \"not a url\"",
            "source[0].url",
        ),
        (
            "per_host_concurrency = 8",
            "per_host_concurrency = 8\nschedule = \"* * *\"",
            "fetch.schedule",
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"nowhere\"",
            "server.listen",
        ),
        (
            "self_url = \"http://qafila.test/feed.xml\"",
            "self_url = \"feed.xml\"",
            "feed.self_url",
        ),
    ];
    for (from, to, key) in cases {
        assert_refused(dir.path(), &good, from, to, key);
    }
}

/// Values that `check` once accepted and that later panicked (`window_hours`, `retention_days`), hung `poll`
/// (`per_host_min_gap_ms`), broke every request (a CR/LF in a header or URL), published a script link, or panicked
/// the scheduler (a schedule whose year is over): each is now a `check` error at its line, naming the key.
#[test]
fn values_that_once_panicked_or_hung_are_refused_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(write_config(
        dir.path(),
        "127.0.0.1:0",
        &[("a", "http://127.0.0.1:9/feed".into())],
    ))
    .unwrap();
    let fetch = "per_host_concurrency = 8";
    let cases: &[(&str, &str, &str)] = &[
        (
            fetch,
            "per_host_concurrency = 8\n[dedup]\nwindow_hours = 4294967295",
            "dedup.window_hours|out of range|8760",
        ),
        (
            "[storage]",
            "[storage]\nretention_days = 4294967295",
            "storage.retention_days|out of range|36500",
        ),
        (
            "per_host_min_gap_ms = 0",
            "per_host_min_gap_ms = 9223372036854775807",
            "fetch.per_host_min_gap_ms|out of range",
        ),
        (
            "per_host_min_gap_ms = 0",
            "per_host_min_gap_ms = 18446744073709551615",
            "fetch.per_host_min_gap_ms",
        ),
        ("timeout_secs = 1", "timeout_secs = 0", "fetch.timeout_secs|out of range"),
        (fetch, "per_host_concurrency = 0", "fetch.per_host_concurrency|out of range"),
        (
            fetch,
            "per_host_concurrency = 8\nmax_body_bytes = -1",
            "fetch.max_body_bytes|out of range",
        ),
        (
            fetch,
            "per_host_concurrency = 8\nuser_agent = \"qafila\\r\\nX-Injected: 1\"",
            "fetch.user_agent|printable ASCII",
        ),
        (
            "self_url = \"http://qafila.test/feed.xml\"",
            "self_url = \"http://qafila.test/feed.xml\"\nwebsub_hub = \"http://hub.test/\\r\\nX-Injected: 1\"",
            "feed.websub_hub|control character",
        ),
        (
            "link = \"http://qafila.test/\"",
            "link = \"javascript:alert(1)\"",
            "feed.link|javascript",
        ),
        (
            "url = \"http://127.0.0.1:9/feed\"",
            "url = \"file:///etc/passwd\"",
            "source[0].url|scheme `file`",
        ),
        (
            "url = \"http://127.0.0.1:9/feed\"",
            "url = \"http://127.0.0.1:9/feed\"\nschedule = \"0 0 0 1 1 * 2020\"",
            "source[0].schedule|never fires",
        ),
    ];
    for (from, to, expected) in cases {
        assert_refused(dir.path(), &good, from, to, expected);
    }
}

/// `check` on `good` with `from` replaced by `to` exits 2 with `PATH:LINE:` (the line of `to`'s last line) and every
/// `|`-separated fragment of `expected` in its message.
fn assert_refused(dir: &std::path::Path, good: &str, from: &str, to: &str, expected: &str) {
    assert!(good.contains(from), "the test config has no `{from}`");
    let text = good.replacen(from, to, 1);
    let path = dir.join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    let out = qafila(&path, &["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{to}: {err}");
    assert!(!err.contains("panicked"), "{to}: {err}");
    let expected_line = text
        .lines()
        .position(|l| l.contains(to.lines().last().unwrap()))
        .unwrap()
        + 1;
    let prefix = format!("{}:{expected_line}:", path.display());
    assert!(
        err.starts_with(&prefix),
        "{to}: expected {prefix}…, got {err}"
    );
    for fragment in expected.split('|') {
        assert!(
            err.contains(fragment),
            "{to}: the message should say `{fragment}`: {err}"
        );
    }
}

#[test]
fn a_missing_config_is_a_clear_error() {
    let out = qafila(std::path::Path::new("/nonexistent/qafila.toml"), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/qafila.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn start_up_refuses_an_unwritable_database_path_and_a_newer_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[("a", "http://127.0.0.1:9/feed".into())],
    );
    let text = std::fs::read_to_string(&config).unwrap();

    // The database's directory cannot be created: a file stands where it should be.
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let blocked = dir.path().join("blocked.toml");
    let db = dir.path().join("state/qafila.db");
    std::fs::write(
        &blocked,
        text.replace(
            db.to_str().unwrap(),
            dir.path().join("blocker/q.db").to_str().unwrap(),
        ),
    )
    .unwrap();
    let out = qafila(&blocked, &["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("blocker"), "{}", stderr(&out));

    // A database written by a newer qafila.
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let out = qafila(&config, &["poll"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("newer qafila"), "{}", stderr(&out));
}
