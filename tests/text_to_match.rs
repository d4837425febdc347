//! One text to match: an item's features come from its title and its summary, else its content, on every path.
//! A content-only item (no `<description>`, only `<content:encoded>`) must be matched the same way after a
//! restart (the story index rebuilt from the store) and tagged the same way after a gazetteer change (stored items
//! re-tagged), through the real binary and a real SQLite file.

mod common;

use common::*;

fn set_region_filter(config: &std::path::Path, id: &str) {
    let text = std::fs::read_to_string(config).unwrap().replacen(
        &format!("id = \"{id}\"\nname = \"منفذ {id}\"\n"),
        &format!("id = \"{id}\"\nname = \"منفذ {id}\"\nregion_filter = true\n"),
        1,
    );
    std::fs::write(config, text).unwrap();
}

#[test]
fn a_content_only_item_keeps_its_features_across_a_restart() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let fulltext = ("fulltext", server.url("/now/content-only.xml"));
    // First process: only the outlet that publishes full text without a summary.
    let config = write_config(dir.path(), "127.0.0.1:0", std::slice::from_ref(&fulltext));
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(stories_json(&config).len(), 1);

    // Second process: the index is rebuilt from the store, then another outlet's rewrite arrives. Their
    // headlines share little; only the content-only item's text says it is the same fire in Bishkek.
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[
            fulltext,
            ("other", server.url("/now/content-only-rewrite.xml")),
        ],
    );
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let list = stories_json(&config);
    let titles: Vec<&str> = list.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(list.len(), 1, "one fire, one story: {titles:#?}");
    assert_eq!(list[0]["items"].as_array().unwrap().len(), 2);
    assert_eq!(list[0]["entities"], serde_json::json!(["kg"]));

    // explain computes the same features, so it agrees with what was stored.
    let out = qafila(
        &config,
        &[
            "explain",
            "https://fulltext.example/2026/market-fire",
            "https://other.example/kg/dordoi-fire",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("stored in the same story"), "{text}");
    assert!(text.contains("verdict: SAME story"), "{text}");
}

#[test]
fn a_content_only_item_of_a_filtered_source_survives_a_gazetteer_change() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let sources = [("fulltext", server.url("/now/content-only.xml"))];
    let config = write_config(dir.path(), "127.0.0.1:0", &sources);
    set_region_filter(&config, "fulltext");
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        stories_json(&config).len(),
        1,
        "its content names Bishkek: published"
    );

    // The operator switches to an edited gazetteer: every stored item is re-tagged on the next start.
    let gazetteer = dir.path().join("regions.toml");
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/regions.toml")).unwrap();
    std::fs::write(&gazetteer, format!("{shipped}\n# local edit\n")).unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "[regions]\ngazetteer = \"{}\"\n\n{text}",
            gazetteer.display()
        ),
    )
    .unwrap();
    let out = qafila(&config, &["check"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let list = stories_json(&config);
    assert_eq!(list.len(), 1, "re-tagging reads the content too");
    assert_eq!(list[0]["entities"], serde_json::json!(["kg"]));
}
