//! Crash safety: the real binary killed with SIGKILL in the middle of a poll of many sources loses nothing it had
//! committed, leaves a sound database, and a restart completes the work.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const SOURCES: usize = 60;

fn item_links(db: &std::path::Path) -> Vec<String> {
    // Not created yet, or killed before the schema was committed: nothing is stored, a consistent state too.
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
    else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare("SELECT link FROM items ORDER BY link") else {
        return Vec::new();
    };
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
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

    let mut killed_with = Vec::new();
    for delay_ms in [0u64, 100, 250] {
        let stored_before = item_links(&db).len();
        let mut child = Command::new(env!("CARGO_BIN_EXE_qafila"))
            .arg("--config")
            .arg(&config)
            .arg("poll")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill once this poll has committed something (plus a little): mid-poll whatever the machine's load,
        // rather than after a fixed time that a busy machine may not reach the first commit in.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while item_links(&db).len() <= stored_before
            && child.try_wait().unwrap().is_none()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let before = item_links(&db);
        assert_eq!(integrity(&db), "ok", "after SIGKILL at {delay_ms} ms");
        killed_with.push(before.len());
        // Everything committed before the kill is still there after the next kill.
        let previous = killed_with.len() >= 2 && killed_with[killed_with.len() - 2] > before.len();
        assert!(!previous, "items disappeared: {killed_with:?}");
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
