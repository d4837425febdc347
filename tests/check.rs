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
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, good.replacen(from, to, 1)).unwrap();
        let out = qafila(&path, &["check"]);
        assert_eq!(out.status.code(), Some(2), "{to}: {}", stderr(&out));
        let err = stderr(&out);
        let expected_line = good
            .replacen(from, to, 1)
            .lines()
            .position(|l| l.contains(to.lines().last().unwrap()))
            .unwrap()
            + 1;
        let prefix = format!("{}:{expected_line}:", path.display());
        assert!(
            err.starts_with(&prefix),
            "{to}: expected {prefix}…, got {err}"
        );
        assert!(
            err.contains(key),
            "{to}: the message should name `{key}`: {err}"
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
