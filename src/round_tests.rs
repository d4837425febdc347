//! A round of real polls against a feed server on 127.0.0.1, with a real SQLite file.

use std::path::Path;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;

use super::*;

const FEED: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>أخبار</title>\
    <item><title>كازاخستان توقع اتفاقية غاز</title><link>https://a.example/1</link></item>\
    <item><title>أوزبكستان تفتتح خط سكة حديد</title><link>https://a.example/2</link></item>\
    </channel></rss>";

const PAGE: &str = "<html><body><div class=\"n\"><h3>خبر</h3></div></body></html>";

fn config(dir: &Path, port: u16) -> Config {
    let d = dir.display();
    let text = format!(
        "[feed]\ntitle = \"قافلة\"\ndescription = \"test\"\nlink = \"http://127.0.0.1/\"\n\
         self_url = \"http://127.0.0.1/feed.xml\"\noutput = \"{d}/feed.xml\"\n\
         [fetch]\nschedule = \"* * * * *\"\n\
         [storage]\ndatabase = \"{d}/q.db\"\n\
         [[source]]\nid = \"a\"\nname = \"أ\"\nurl = \"http://127.0.0.1:{port}/a.xml\"\n\
         [[source]]\nid = \"b\"\nname = \"ب\"\nurl = \"http://127.0.0.1:{port}/b\"\nkind = \"html\"\n\
         select = {{ item = \"div.n\", title = \"h3\" }}\n"
    );
    Config::parse(&text, Path::new("qafila.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_failing_inside_qafila_leaves_the_other_reports_and_the_round_whole() {
    let app = axum::Router::new()
        .route(
            "/a.xml",
            get(|| async { ([(CONTENT_TYPE, "application/rss+xml")], FEED) }),
        )
        .route(
            "/b",
            get(|| async { ([(CONTENT_TYPE, "text/html")], PAGE) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), port);
    // What `check` refuses, so that `b`'s poll fails inside qafila (an internal error, as a parser task's panic
    // would be) rather than at the outlet.
    config.sources[1].select = None;
    let sources = config.sources.clone();
    let engine = startup::engine(Arc::new(config)).unwrap();

    let polled = poll_sources(&engine, sources.clone()).await;
    // Stored as `b`'s failed fetch (below), so not a poll of which nothing was stored.
    assert_eq!(polled.internal_failures, 0);
    let reports = polled.reports;
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0].source_id, "a");
    assert_eq!((reports[0].error.as_deref(), reports[0].new), (None, 2));
    assert_eq!(reports[1].source_id, "b");
    let error = reports[1].error.as_deref().expect("b failed");
    assert!(error.contains("select"), "{error}");
    // The outlet answered; qafila failed reading it.
    assert!(
        reports[1]
            .summary_line()
            .starts_with("b\t200\terror: internal error: "),
        "{}",
        reports[1].summary_line()
    );
}

/// A source's failures in a row, stored reason and next due time, read by the engine's writer.
async fn state_of(
    engine: &Arc<Engine>,
    id: &'static str,
) -> (u32, Option<String>, Option<DateTime<Utc>>) {
    let state = engine
        .with_writer(move |w| w.store.source_state(id))
        .await
        .unwrap()
        .expect("the source has a row");
    (state.consecutive_failures, state.last_error, state.next_due)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_failing_inside_qafila_backs_off_like_any_failing_source() {
    let app = axum::Router::new().route(
        "/b",
        get(|| async { ([(CONTENT_TYPE, "text/html")], PAGE) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), port);
    // An internal failure of `b`'s poll, as a parser task's panic would be (see the test above).
    config.sources[1].select = None;
    config.sources.remove(0);
    let sources = config.sources.clone();
    let config = Arc::new(config);
    let engine = startup::engine(config.clone()).unwrap();

    let before = Utc::now();
    poll_sources(&engine, sources.clone()).await;
    let (failures, reason, due) = state_of(&engine, "b").await;
    assert_eq!(failures, 1);
    let reason = reason.expect("the reason is stored");
    assert!(
        reason.starts_with("internal error: ") && reason.contains("select"),
        "{reason}"
    );
    // Not due again at once: the scheduler's next turn leaves it alone (before, nothing was stored and the daemon
    // fetched it again on every turn).
    let due = due.expect("a next due time is stored");
    assert!(
        due > before + chrono::Duration::seconds(50),
        "{due} vs {before}"
    );
    let stored = engine
        .with_writer(|w| w.store.next_due_times())
        .await
        .unwrap();
    let turn = crate::schedule::Scheduler::default().turn(
        &config,
        Utc::now(),
        &stored,
        |_| None,
        &Default::default(),
    );
    assert!(turn.due.is_empty(), "{:?}", turn.due);

    // The second failure in a row waits longer than the every-minute schedule: 2 minutes, ±10 %.
    let before = Utc::now();
    poll_sources(&engine, sources).await;
    let (failures, _, due) = state_of(&engine, "b").await;
    assert_eq!(failures, 2);
    let due = due.unwrap();
    assert!(
        due > before + chrono::Duration::seconds(100),
        "{due} vs {before}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_whose_state_cannot_be_read_is_not_fetched_and_backs_off() {
    let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/a.xml",
        get({
            let requests = requests.clone();
            move || async move {
                requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                ([(CONTENT_TYPE, "application/rss+xml")], FEED)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), port);
    config.sources.truncate(1);
    let sources = config.sources.clone();
    let engine = startup::engine(Arc::new(config)).unwrap();
    // The state read (which names `discovered`) fails from now on; recording a failed fetch does not need it.
    rusqlite::Connection::open(dir.path().join("q.db"))
        .unwrap()
        .execute_batch("ALTER TABLE sources RENAME COLUMN discovered TO discovered_gone")
        .unwrap();

    let before = Utc::now();
    let polled = poll_sources(&engine, sources).await;
    let error = polled.reports[0].error.as_deref().expect("a failed");
    assert!(error.contains("cannot read the source's state"), "{error}");
    // Without its etag or moved URL the fetch would not be the right one.
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 0);
    let (failures, reason, due): (u32, String, i64) =
        rusqlite::Connection::open(dir.path().join("q.db"))
            .unwrap()
            .query_row(
                "SELECT consecutive_failures, last_error, next_due FROM sources WHERE id = 'a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
    assert_eq!(failures, 1);
    assert!(
        reason.contains("cannot read the source's state"),
        "{reason}"
    );
    assert!(due > before.timestamp() + 50, "{due} vs {before}");
}

/// A feed of one item named after `name`.
fn feed_of(name: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>أخبار</title>\
         <item><title>كازاخستان خبر {name}</title><link>https://{name}.example/1</link></item></channel></rss>"
    )
}

/// An engine over `count` sources `s0…` at `http://127.0.0.1:{port}/s{i}.xml`, fetched two at a time (so the
/// write backlog holds two results), with no per-host gap.
fn engine_with_sources(dir: &Path, port: u16, count: usize) -> (Arc<Engine>, Vec<SourceConfig>) {
    let d = dir.display();
    let mut text = format!(
        "[feed]\ntitle = \"قافلة\"\ndescription = \"test\"\nlink = \"http://127.0.0.1/\"\n\
         self_url = \"http://127.0.0.1/feed.xml\"\noutput = \"{d}/feed.xml\"\n\
         [fetch]\nconcurrency = 2\nper_host_concurrency = 10\nper_host_min_gap_ms = 0\n\
         [storage]\ndatabase = \"{d}/q.db\"\n"
    );
    for i in 0..count {
        text += &format!(
            "[[source]]\nid = \"s{i}\"\nname = \"s{i}\"\nurl = \"http://127.0.0.1:{port}/s{i}.xml\"\n"
        );
    }
    let config = Config::parse(&text, Path::new("qafila.toml")).unwrap();
    let sources = config.sources.clone();
    (startup::engine(Arc::new(config)).unwrap(), sources)
}

/// The writer's lock, held by a thread of its own until [`BusyWriter::release`]: the writer is busy.
struct BusyWriter {
    release: std::sync::mpsc::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl BusyWriter {
    /// Returns once the lock is held.
    fn hold(engine: &Engine) -> BusyWriter {
        let (held, is_held) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let writer = engine.writer.clone();
        let holder = std::thread::spawn(move || {
            let _busy = writer.lock().unwrap();
            held.send(()).unwrap();
            released.recv().unwrap();
        });
        is_held.recv().unwrap();
        BusyWriter { release, holder }
    }

    fn release(self) {
        self.release.send(()).unwrap();
        self.holder.join().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_writer_lets_fetching_go_on_until_the_backlog_is_full() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let requests = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/{name}",
        get({
            let requests = requests.clone();
            move |axum::extract::Path(name): axum::extract::Path<String>| async move {
                requests.fetch_add(1, SeqCst);
                if name == "s3.xml" {
                    return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new());
                }
                (axum::http::StatusCode::OK, feed_of(&name))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let (engine, sources) = engine_with_sources(dir.path(), port, 10);
    let states = engine.source_states(&sources).await;

    // The writer is busy (its lock held here) from before the first fetch until released below.
    let busy = BusyWriter::hold(&engine);
    let round = tokio::spawn({
        let engine = engine.clone();
        async move { poll_with_states(&engine, sources, states).await }
    });
    // Two fetch slots, and room for two results: two results wait for the writer, and two more sources are
    // fetched and wait for room in their slots. (Holding a slot until its result was stored, only two were.)
    let waited = std::time::Instant::now();
    while requests.load(SeqCst) < 4 || engine.queued_for_writer() < 2 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "{} fetched, {} queued",
            requests.load(SeqCst),
            engine.queued_for_writer()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // And no more while the backlog is full.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(requests.load(SeqCst), 4);
    assert_eq!(engine.queued_for_writer(), 2);

    busy.release();
    let polled = round.await.unwrap();
    assert_eq!(requests.load(SeqCst), 10);
    let ids: Vec<&str> = polled
        .reports
        .iter()
        .map(|r| r.source_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"]
    );
    for report in &polled.reports {
        if report.source_id == "s3" {
            assert_eq!(report.status, Some(500));
            assert!(report.failed(), "{report:?}");
        } else {
            assert_eq!(
                (report.error.as_deref(), report.new),
                (None, 1),
                "{report:?}"
            );
        }
    }
    let (failures, _, _) = state_of(&engine, "s3").await;
    assert_eq!(failures, 1, "the failure was stored");
    assert_eq!(engine.queued_for_writer(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_queued_by_cancelled_polls_are_stored_before_the_writes_settle() {
    let app = axum::Router::new().route(
        "/{name}",
        get(|axum::extract::Path(name): axum::extract::Path<String>| async move { feed_of(&name) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let (engine, sources) = engine_with_sources(dir.path(), port, 4);
    let states = engine.source_states(&sources).await;

    // The writer is busy while two results are queued; then the round is cancelled, as the daemon cancels
    // polls that outlast its grace period when it stops.
    let busy = BusyWriter::hold(&engine);
    let round = tokio::spawn({
        let engine = engine.clone();
        async move { poll_with_states(&engine, sources, states).await }
    });
    let waited = std::time::Instant::now();
    while engine.queued_for_writer() < 2 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    round.abort();
    assert!(matches!(round.await, Err(e) if e.is_cancelled()));
    assert!(
        !engine
            .writes_settled(std::time::Duration::from_millis(100))
            .await,
        "two results wait for a busy writer"
    );

    busy.release();
    assert!(
        engine
            .writes_settled(std::time::Duration::from_secs(30))
            .await
    );
    let db = rusqlite::Connection::open(dir.path().join("q.db")).unwrap();
    let stored: Vec<String> = db
        .prepare("SELECT source_id FROM items ORDER BY source_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Which two: s0 and s1 start first, but a slot freed by the first queued result lets s2 start, and on a
    // loaded machine it can be queued before s1.
    assert_eq!(
        stored.len(),
        2,
        "what the cancelled polls queued is stored: {stored:?}"
    );
    assert_ne!(stored[0], stored[1], "{stored:?}");
}
