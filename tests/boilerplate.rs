//! A dense day from four outlets that each wrap every item in their own boilerplate — a fixed lead-in, a closing
//! sentence, «اقرأ أيضا», a tagline in the headline (`tests/fixtures/e2e/dense-day-*.xml`, written by
//! `make_dense_day.py` from the dense-week labeled set's Monday). What an outlet repeats in nearly every item
//! must count nothing: two of its items about one country on one day are not one story because they share its
//! template. And which items are compared and merged must not depend on the order the outlets are fetched in:
//! polled all at once, one at a time in config order, in reverse and in a shuffled order, each into a fresh
//! database, every event comes out as exactly one story and the groupings are identical.
//!
//! The true event of every report is in its link (`/news/<event>-<n>`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;

const OUTLETS: [&str; 4] = ["wasat", "qafqaz", "turan", "sahra"];

fn config(dir: &Path, server: &FixtureServer, outlets: &[&str]) -> PathBuf {
    let sources: Vec<(&str, String)> = outlets
        .iter()
        .map(|o| (*o, server.url(&format!("/now/dense-day-{o}.xml"))))
        .collect();
    write_config(dir, "127.0.0.1:0", &sources)
}

fn event_of(link: &str) -> String {
    let slug = link.rsplit('/').next().unwrap();
    slug[..slug.rfind('-').unwrap()].to_string()
}

/// Every story as the sorted links of its items.
fn groups(config: &Path) -> BTreeSet<Vec<String>> {
    stories_json(config)
        .iter()
        .map(|story| {
            let mut links: Vec<String> = story["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["link"].as_str().unwrap().to_string())
                .collect();
            links.sort();
            links
        })
        .collect()
}

/// Polls `order`, one outlet at a time (each by a fresh process), into a fresh database.
fn one_at_a_time(server: &FixtureServer, order: &[&str]) -> BTreeSet<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    for outlet in order {
        let out = qafila(&config(dir.path(), server, &[outlet]), &["poll"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    groups(&config(dir.path(), server, &OUTLETS))
}

/// The stories that hold several events, and the events shown as several stories.
fn errors(groups: &BTreeSet<Vec<String>>) -> (Vec<&Vec<String>>, Vec<String>) {
    let mut stories_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut merged = Vec::new();
    for links in groups {
        let events: BTreeSet<String> = links.iter().map(|l| event_of(l)).collect();
        if events.len() > 1 {
            merged.push(links);
        }
        for e in events {
            *stories_of.entry(e).or_default() += 1;
        }
    }
    let split = stories_of
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(e, _)| e)
        .collect();
    (merged, split)
}

#[test]
fn each_outlets_boilerplate_counts_nothing_and_the_order_of_fetches_does_not_matter() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server, &OUTLETS);
    let out = qafila(&cfg, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all_at_once = groups(&cfg);
    let items: usize = all_at_once.iter().map(Vec::len).sum();
    let events: BTreeSet<String> = all_at_once.iter().flatten().map(|l| event_of(l)).collect();
    println!(
        "dense day: {items} reports of {} events, {} stories",
        events.len(),
        all_at_once.len()
    );
    assert!(items >= 35, "every report is stored: {items}");

    // `explain` recomputes two stored items' features from the store: the words dropped at ingest are stored with
    // them, so it judges as ingest did. Two of one outlet's items, one Kazakh story each, two hours apart: its
    // closing line ("اقرأ أيضا: أبرز عناوين القوقاز وآسيا الوسطى…") made them "shared weight 8.25, SAME story".
    let out = qafila(
        &cfg,
        &[
            "explain",
            "https://qafqaz.example/news/negative0-a-27",
            "https://qafqaz.example/news/negative4-a-35",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let explained = stdout(&out);
    assert!(
        explained.contains("A's boilerplate (not counted):")
            && explained.contains("stored in different stories")
            && explained.contains("verdict: different stories"),
        "{explained}"
    );

    let orders: [(&str, Vec<&str>); 3] = [
        ("config order", OUTLETS.to_vec()),
        ("reverse order", OUTLETS.iter().rev().copied().collect()),
        ("shuffled order", vec!["turan", "wasat", "sahra", "qafqaz"]),
    ];
    let mut results = vec![("all at once", all_at_once)];
    for (name, order) in orders {
        results.push((name, one_at_a_time(&server, &order)));
    }
    for (name, groups) in &results {
        let (merged, split) = errors(groups);
        assert!(
            merged.is_empty(),
            "{name}: stories holding several events (merged on boilerplate?): {merged:#?}"
        );
        assert!(
            split.is_empty(),
            "{name}: events shown as several stories: {split:?}"
        );
    }
    for (name, groups) in &results[1..] {
        assert_eq!(
            groups, &results[0].1,
            "{name} groups as the poll of all at once"
        );
    }
}
