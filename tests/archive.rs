//! The day archive end to end with the real binary: the daemon polls fixture outlets (three days of stories, one
//! outlet with pictures, two reporting the same stories, one whose off-region item stays hidden) and a source that
//! adds an item every second, and serves
//! `/day/YYYY-MM-DD`: the day's stories with picture, snippet and "أيضاً في", links to the nearest days with
//! stories, the home page's link into it, validators and `304` that survive rounds that do not touch the day,
//! the security headers, and a clear `400`/`404` for every path that is not a day of the archive.

mod common;

use chrono::Utc;
use common::http::{client, get, wait_until};
use common::*;

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_day_pages_with_links_validators_and_clear_errors() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[
            // 19 and 20 November 2026; the two outlets report one story together.
            ("asia", server.url("/feeds/outlet-a.xml")),
            ("caucasus", server.url("/feeds/outlet-b.atom")),
            ("pictures", server.url("/feeds/pictures.xml")),
            // 22 November: two outlets report two stories together; sky's Egypt item is off the region.
            ("sky", server.url("/feeds/archive-sky.xml")),
            ("sputnik", server.url("/feeds/archive-sputnik.xml")),
            // One new item every second, dated now: every round changes the store (and today's page).
            ("fresh", server.url("/fresh/1.xml")),
        ],
    );
    // sky is a general outlet: only its items about the region are published, on the day pages too.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[fetch]\n", "[fetch]\nschedule = \"* * * * * *\"\n")
        .replace(
            "id = \"sky\"\nname = \"منفذ sky\"\n",
            "id = \"sky\"\nname = \"منفذ sky\"\nregion_filter = true\n",
        );
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    let c = client();

    // The home page ends with a link to the day of its oldest story.
    let home = wait_until(&c, &format!("{base}/"), |b| {
        b.contains("href=\"/day/2026-11-19\"") && b.contains("تحديث")
    })
    .await;
    assert!(
        home.contains("<a class=\"older\" rel=\"prev\" href=\"/day/2026-11-19\">أخبار أقدم: أرشيف ١٩ نوفمبر ٢٠٢٦ ←</a>"),
        "{home}"
    );

    // A day with stories: the same story markup as the home page, newest first, with both neighbours.
    let day_url = format!("{base}/day/2026-11-20");
    let r = get(&c, &day_url, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    assert!(header(&r, "content-security-policy").contains("default-src 'none'"));
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert_eq!(header(&r, "x-frame-options"), "DENY");
    assert_eq!(header(&r, "referrer-policy"), "no-referrer");
    assert!(header(&r, "cache-control").starts_with("public, max-age="));
    let etag = header(&r, "etag").to_string();
    let last_modified = header(&r, "last-modified").to_string();
    let page = r.text().await.unwrap();
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(page.contains("<h1>أخبار ٢٠ نوفمبر ٢٠٢٦</h1>"), "{page}");
    assert!(page.contains("<img class=\"pic\""), "a picture");
    assert!(page.contains("<p class=\"snippet\""), "a snippet");
    assert!(page.contains("أذربيجان وتركمانستان تبحثان خط أنابيب عبر بحر قزوين"));
    assert!(
        !page.contains("تحديث رقم"),
        "today's items are not on the 20th"
    );
    assert!(!page.contains("class=\"ago\""), "absolute times only");
    let times: Vec<&str> = page
        .match_indices("<time datetime=\"")
        .map(|(i, _)| &page[i + 16..i + 36])
        .collect();
    assert!(times.len() >= 5, "{times:?}");
    assert!(
        times.iter().all(|t| t.starts_with("2026-11-20")),
        "{times:?}"
    );
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    assert!(page.contains("href=\"/day/2026-11-19\">اليوم السابق: ١٩ نوفمبر ٢٠٢٦ ←</a>"));
    assert!(
        page.contains("href=\"/day/2026-11-22\">→ اليوم التالي: ٢٢ نوفمبر ٢٠٢٦</a>"),
        "the next day with stories, past the empty 21st: {page}"
    );

    // Two outlets' reports of one story are one story with "أيضاً في"; the region filter holds as on the home page.
    let r = get(&c, &format!("{base}/day/2026-11-22"), &[]).await;
    assert_eq!(r.status(), 200);
    let merged = r.text().await.unwrap();
    assert_eq!(
        merged.matches("<li class=\"story\">").count(),
        3,
        "{merged}"
    );
    assert!(merged.contains("<p class=\"also\">أيضاً في:"), "{merged}");
    assert!(
        !merged.contains("الذهب"),
        "sky's Egypt item is not about the region"
    );
    assert!(home.contains("كازاخستان ترفع إنتاج النفط") && !home.contains("الذهب"));
    let today = Utc::now().date_naive();
    assert!(
        merged.contains(&format!(
            "<a class=\"newer\" rel=\"next\" href=\"/day/{today}\">"
        )),
        "the next day with stories is today (the fresh source): {merged}"
    );

    // The oldest day: no link further back; its one story.
    let oldest = get(&c, &format!("{base}/day/2026-11-19"), &[]).await;
    assert_eq!(oldest.status(), 200);
    let oldest = oldest.text().await.unwrap();
    assert_eq!(
        oldest.matches("<li class=\"story\">").count(),
        1,
        "{oldest}"
    );
    assert!(!oldest.contains("class=\"older\""));
    assert!(oldest.contains("href=\"/day/2026-11-20\">→ اليوم التالي: ٢٠ نوفمبر ٢٠٢٦</a>"));

    // An empty day inside the archive is a page that says so and leads on.
    let empty = get(&c, &format!("{base}/day/2026-11-21"), &[]).await;
    assert_eq!(empty.status(), 200);
    let empty = empty.text().await.unwrap();
    assert!(empty.contains("<p class=\"notice\">لا أخبار في هذا اليوم.</p>"));
    assert!(empty.contains("href=\"/day/2026-11-20\">اليوم السابق"));
    assert!(empty.contains("href=\"/day/2026-11-22\">→ اليوم التالي"));

    // Conditional requests: 304 by ETag (any coding's) and by date; compressed forms on request.
    let r = get(&c, &day_url, &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status(), 304);
    let r = get(&c, &day_url, &[("If-Modified-Since", &last_modified)]).await;
    assert_eq!(r.status(), 304);
    let r = get(&c, &day_url, &[("Accept-Encoding", "br")]).await;
    assert_eq!(header(&r, "content-encoding"), "br");
    let br_etag = header(&r, "etag").to_string();
    let r = get(
        &c,
        &day_url,
        &[("Accept-Encoding", "br"), ("If-None-Match", &br_etag)],
    )
    .await;
    assert_eq!(r.status(), 304);
    let r = get(&c, &day_url, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(header(&r, "content-encoding"), "gzip");

    // Rounds go by and store new items today: today's page changes, the 20th keeps its bytes and validators.
    let today_url = format!("{base}/day/{today}");
    let first_today = get(&c, &today_url, &[]).await.text().await.unwrap();
    let n = first_today.matches("<li class=\"story\">").count();
    wait_until(&c, &today_url, |b| {
        b.matches("<li class=\"story\">").count() > n
    })
    .await;
    let again = get(&c, &day_url, &[]).await;
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(header(&again, "last-modified"), last_modified);
    assert_eq!(again.text().await.unwrap(), page);
    // A query string is not part of the day.
    let r = get(&c, &format!("{day_url}?utm_source=x"), &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "etag"), etag);

    // Paths that are not a day: 400 with the form to use; days outside the archive: 404 with the reason.
    for (path, status, needle) in [
        ("/day/", 400, "give a date: /day/YYYY-MM-DD"),
        ("/day", 400, "give a date"),
        ("/day/?date=2026-11-20", 400, "give a date"),
        ("/day/yesterday", 400, "not a date: use /day/YYYY-MM-DD"),
        ("/day/2026-11-20/", 400, "not a date"),
        ("/day/20261120", 400, "not a date"),
        ("/day/2026-11-20T00:00", 400, "not a date"),
        ("/day/%32026-11-20", 400, "not a date"),
        ("/day/2026-02-30", 400, "no such date"),
        ("/day/2026-13-01", 400, "no such date"),
        ("/day/2026-11-18", 404, "the archive starts on 2026-11-19"),
        ("/day/0001-01-01", 404, "1970"),
        ("/day/1969-12-31", 404, "1970"),
        ("/day/9999-12-31", 404, "has not come yet"),
    ] {
        let r = get(&c, &format!("{base}{path}"), &[]).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        let text = r.text().await.unwrap();
        assert!(text.contains(needle), "{path}: {text}");
    }
    let long = format!("{base}/day/{}", "9".repeat(3000));
    assert_eq!(get(&c, &long, &[]).await.status(), 414);
    let post = c.post(&day_url).send().await.unwrap();
    assert_eq!(post.status(), 405);
    let head = c.head(&day_url).send().await.unwrap();
    assert_eq!(head.status(), 200);

    // Requests are counted under one route, and the daemon is still well after all of that.
    let metrics = get(&c, &format!("{base}/metrics"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("qafila_http_requests_total{path=\"/day/*\",status=\"400\"}"),
        "{metrics}"
    );
    assert_eq!(get(&c, &format!("{base}/healthz"), &[]).await.status(), 200);
    assert!(daemon.terminate().success());
}
