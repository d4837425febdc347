//! Crash safety: the real binary killed with SIGKILL in the middle of a poll of many sources loses nothing it had
//! committed, leaves a sound database, and a restart completes the work.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const SOURCES: usize = 60;

fn item_links(db: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT link FROM items ORDER BY link")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Items committed so far, read without creating the file or a schema (0 until the poll has made them).
fn committed_count(db: &std::path::Path) -> usize {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(db, flags)
        .and_then(|c| c.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n as usize)
}

fn integrity(db: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn sigkill_mid_poll_loses_nothing_committed() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<(String, String)> = (0..SOURCES)
        .map(|n| (format!("gen-{n}"), server.url(&format!("/gen/{n}.xml"))))
        .collect();
    let refs: Vec<(&str, String)> = sources
        .iter()
        .map(|(id, url)| (id.as_str(), url.clone()))
        .collect();
    let config = write_config(dir.path(), "127.0.0.1:0", &refs);
    let db = dir.path().join("state/qafila.db");

    // Each kill lands right after this run has committed something new, so it falls mid-poll however
    // loaded the machine is (fixed delays killed before the first commit on a busy machine).
    let mut killed_with: Vec<usize> = Vec::new();
    for round in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qafila"))
            .arg("--config")
            .arg(&config)
            .arg("poll")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let previous = killed_with.last().copied().unwrap_or(0);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while committed_count(&db) <= previous
            && child.try_wait().unwrap().is_none()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let before = item_links(&db);
        assert_eq!(integrity(&db), "ok", "after SIGKILL in round {round}");
        // Everything committed before the kill is still there after the next kill.
        assert!(
            before.len() >= previous,
            "items disappeared: {killed_with:?} then {}",
            before.len()
        );
        killed_with.push(before.len());
    }
    assert!(
        killed_with.iter().any(|&n| n > 0 && n < SOURCES * 50),
        "kills should land mid-poll: {killed_with:?}"
    );
    let committed = item_links(&db);

    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = item_links(&db);
    assert_eq!(
        after.len(),
        SOURCES * 50,
        "the restart completed every source"
    );
    for link in &committed {
        assert!(
            after.binary_search(link).is_ok(),
            "{link} was committed before the crash and is gone"
        );
    }
    assert_eq!(integrity(&db), "ok");
}
