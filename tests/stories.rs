//! Story-level dedup end to end: reports of one event from several outlets become one story with a stable guid and
//! an "also reported by" list; different events stay apart; a general outlet's off-region items are stored but not
//! published; `stories --json` and `explain` show it.

mod common;

use common::*;
use serde_json::Value;

fn config_text(
    dir: &std::path::Path,
    server: &FixtureServer,
    with_aljazeera: bool,
) -> std::path::PathBuf {
    let mut sources = vec![
        ("sky", server.url("/now/story-sky.xml")),
        ("sputnik", server.url("/now/story-sputnik.xml")),
    ];
    if with_aljazeera {
        sources.push(("aljazeera", server.url("/now/story-aljazeera.xml")));
    }
    let path = write_config(dir, "127.0.0.1:0", &sources);
    // sky is a general outlet: only its items about the region are published.
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "id = \"sky\"\nname = \"منفذ sky\"\n",
        "id = \"sky\"\nname = \"منفذ sky\"\nregion_filter = true\n",
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn one_story_once_with_every_outlet_that_reported_it() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_text(dir.path(), &server, false);
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stdout(&out));

    let list = stories_json(&config);
    let titles: Vec<&str> = list.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(
        list.len(),
        3,
        "oil (2 reports), Tajik quake (2), Kyrgyz quake (1); Egypt filtered: {titles:#?}"
    );
    let oil = list
        .iter()
        .find(|s| s["title"] == "كازاخستان ترفع إنتاج النفط إلى 2 مليون برميل يوميا")
        .expect("the first report leads");
    assert_eq!(oil["items"].as_array().unwrap().len(), 2);
    assert_eq!(oil["items"][0]["source"], "sky");
    assert_eq!(oil["items"][1]["source"], "sputnik");
    assert_eq!(oil["entities"], serde_json::json!(["kz"]));
    let tj = list
        .iter()
        .find(|s| s["entities"] == serde_json::json!(["tj"]))
        .unwrap();
    assert_eq!(
        tj["items"].as_array().unwrap().len(),
        2,
        "5.6 and ٥٫٦: the same quake"
    );
    let kg = list
        .iter()
        .find(|s| s["entities"] == serde_json::json!(["kg"]))
        .unwrap();
    assert_eq!(
        kg["items"].as_array().unwrap().len(),
        1,
        "a quake in another country is another story"
    );

    // The feed: three stories, the first report's title and link, the other outlet linked, countries as categories.
    let feed = std::fs::read_to_string(dir.path().join("out/feed.xml")).unwrap();
    assert_eq!(feed.matches("<item>").count(), 3, "{feed}");
    assert!(
        !feed.contains("الذهب"),
        "off-region item of a filtered source is not published"
    );
    assert!(
        feed.contains("أيضاً في:") && feed.contains("https://sputnik.example/20261103/kz-crude"),
        "{feed}"
    );
    assert!(feed.contains("<category>كازاخستان</category>"), "{feed}");
    let guid = oil["id"].as_str().unwrap().to_string();
    let published = oil["published"].as_str().unwrap().to_string();

    // The filtered item is stored all the same.
    let sources: Value =
        serde_json::from_str(&stdout(&qafila(&config, &["sources", "--json"]))).unwrap();
    assert_eq!(sources[0]["id"], "sky");
    assert_eq!(sources[0]["items_stored"], 3);

    // explain: why the two oil reports are one story, and the two quakes are not.
    let out = qafila(
        &config,
        &[
            "explain",
            "https://sky.example/business/kz-oil",
            "https://sputnik.example/20261103/kz-crude",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("stored in the same story"), "{text}");
    let out = qafila(
        &config,
        &[
            "explain",
            "https://sky.example/world/tj-quake",
            "https://sputnik.example/20261107/kg-quake",
        ],
    );
    assert!(
        stdout(&out).contains("stored in different stories"),
        "{}",
        stdout(&out)
    );
    let out = qafila(
        &config,
        &[
            "explain",
            "https://sky.example/nope",
            "https://sputnik.example/20261107/kg-quake",
        ],
    );
    assert_eq!(out.status.code(), Some(2));

    // A third outlet joins later: same guid, same original date, one more outlet in the list.
    let config = config_text(dir.path(), &server, true);
    assert!(qafila(&config, &["poll"]).status.success());
    let list = stories_json(&config);
    assert_eq!(list.len(), 3);
    let oil = list
        .iter()
        .find(|s| s["id"] == guid.as_str())
        .expect("the story keeps its guid");
    assert_eq!(
        oil["published"],
        published.as_str(),
        "a story that grows does not look new"
    );
    assert_eq!(oil["items"].as_array().unwrap().len(), 3);
    let feed = std::fs::read_to_string(dir.path().join("out/feed.xml")).unwrap();
    assert!(
        feed.contains("https://aljazeera.example/ebusiness/2026/kz-oil-record"),
        "{feed}"
    );
}
