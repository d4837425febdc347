//! A first poll meeting a month of backlog: six low-volume outlets whose feeds span 30 days
//! (`tests/fixtures/e2e/backlog-*.xml`, written by `make_backlog.py`). Whether two reports are compared depends
//! only on their own dates, so every event must come out as exactly one story — after one poll, after a restart
//! and a second poll, and when the outlets are polled one at a time in the reverse order.
//!
//! The true event of every report is in its link (`/news/<event>-<n>`). The test prints pairwise precision and
//! recall of the clustering against it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;

const OUTLETS: [&str; 6] = ["rt", "aa", "sputnik", "skynews", "trt", "asia"];

fn config(dir: &Path, server: &FixtureServer, outlets: &[&str]) -> PathBuf {
    let sources: Vec<(&str, String)> = outlets
        .iter()
        .map(|o| (*o, server.url(&format!("/now/backlog-{o}.xml"))))
        .collect();
    write_config(dir, "127.0.0.1:0", &sources)
}

fn event_of(link: &str) -> String {
    let slug = link.rsplit('/').next().unwrap();
    slug[..slug.rfind('-').unwrap()].to_string()
}

/// Every story as the sorted links of its items, and the story guid of each link.
fn clustering(config: &Path) -> (BTreeSet<Vec<String>>, BTreeMap<String, String>) {
    let mut groups = BTreeSet::new();
    let mut guid_of = BTreeMap::new();
    for story in stories_json(config) {
        let mut links: Vec<String> = story["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["link"].as_str().unwrap().to_string())
            .collect();
        links.sort();
        for l in &links {
            guid_of.insert(l.clone(), story["id"].as_str().unwrap().to_string());
        }
        groups.insert(links);
    }
    (groups, guid_of)
}

/// Pairwise precision and recall of `groups` against the events in the links.
fn precision_recall(groups: &BTreeSet<Vec<String>>) -> (f64, f64) {
    let items: Vec<(String, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, links)| links.iter().map(move |l| (event_of(l), g)))
        .collect();
    let (mut tp, mut fp, mut fneg) = (0u32, 0u32, 0u32);
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            match (items[i].0 == items[j].0, items[i].1 == items[j].1) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
                _ => {}
            }
        }
    }
    let ratio = |a: u32, b: u32| {
        if a + b == 0 {
            1.0
        } else {
            f64::from(a) / f64::from(a + b)
        }
    };
    (ratio(tp, fp), ratio(tp, fneg))
}

/// Each event in exactly one story, each story of one event.
fn assert_one_story_per_event(groups: &BTreeSet<Vec<String>>, when: &str) {
    let mut stories_of: BTreeMap<String, usize> = BTreeMap::new();
    for links in groups {
        let events: BTreeSet<String> = links.iter().map(|l| event_of(l)).collect();
        assert_eq!(
            events.len(),
            1,
            "{when}: one story holds several events: {links:#?}"
        );
        *stories_of
            .entry(events.into_iter().next().unwrap())
            .or_default() += 1;
    }
    let split: Vec<_> = stories_of.iter().filter(|(_, &n)| n != 1).collect();
    assert!(
        split.is_empty(),
        "{when}: events shown as several stories: {split:?}\n{groups:#?}"
    );
}

#[test]
fn a_month_of_backlog_gives_every_event_once_whatever_the_order() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server, &OUTLETS);
    let out = qafila(&cfg, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (groups, guids) = clustering(&cfg);
    let items: usize = groups.iter().map(Vec::len).sum();
    let (precision, recall) = precision_recall(&groups);
    println!(
        "backlog: {items} reports, {} stories; pairwise precision {precision:.2}, recall {recall:.2}",
        groups.len()
    );
    assert!(items >= 50, "the whole backlog is stored: {items}");
    assert_one_story_per_event(&groups, "first poll");

    // A restart and a second poll: nothing new, nothing regrouped, the same guids.
    let out = qafila(&cfg, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).lines().all(|l| l.contains("new 0 /")),
        "{}",
        stdout(&out)
    );
    let (again, guids_again) = clustering(&cfg);
    assert_eq!(again, groups, "a second poll changes nothing");
    assert_eq!(guids_again, guids, "story guids are stable");

    // Another database, the outlets polled one at a time in the reverse order, each by a fresh process.
    let reverse_dir = tempfile::tempdir().unwrap();
    for outlet in OUTLETS.iter().rev() {
        let cfg = config(reverse_dir.path(), &server, &[outlet]);
        let out = qafila(&cfg, &["poll"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (reverse, _) = clustering(&config(reverse_dir.path(), &server, &OUTLETS));
    assert_one_story_per_event(&reverse, "reverse order, one outlet at a time");
    assert_eq!(reverse, groups, "the order of polling does not matter");
}
