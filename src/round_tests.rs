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

    let polled = poll_sources(&engine, sources).await;
    assert_eq!(polled.internal_failures, 1);
    let reports = polled.reports;
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0].source_id, "a");
    assert_eq!((reports[0].error.as_deref(), reports[0].new), (None, 2));
    assert_eq!(reports[1].source_id, "b");
    let error = reports[1].error.as_deref().expect("b failed");
    assert!(error.contains("select"), "{error}");
    assert!(reports[1].summary_line().starts_with("b\t-\terror: "));
}
