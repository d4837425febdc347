//! Evaluation of story clustering against the labeled set in `tests/fixtures/dedup_eval.toml`.
//!
//! Every item (event reports, both sides of every hard negative, off-region items) goes through `features` and
//! `StoryIndex::place/insert` in published order, exactly as the pipeline would feed them. Pairwise precision
//! and recall are computed over all items (reports of one event are the positive pairs; each hard-negative side
//! and each off-region item is its own event). Set `QAFILA_EVAL_VERBOSE=1` to print every wrong pair with its
//! explanation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use qafila::dedup::{explain, features, DedupSettings, StoryIndex};
use qafila::regions::Gazetteer;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    #[serde(default)]
    event: Vec<Event>,
    #[serde(default)]
    hard_negative: Vec<HardNegative>,
    #[serde(default)]
    off_region: Vec<Report>,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    report: Vec<Report>,
}

#[derive(Debug, Deserialize)]
struct HardNegative {
    reason: String,
    a: Report,
    b: Report,
}

#[derive(Debug, Clone, Deserialize)]
struct Report {
    source: String,
    title: String,
    #[serde(default)]
    summary: Option<String>,
    published: toml::Value,
}

impl Report {
    fn time(&self) -> DateTime<Utc> {
        let s = match &self.published {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        DateTime::parse_from_rfc3339(s.trim_matches('"'))
            .unwrap_or_else(|e| panic!("bad published {s:?} in {:?}: {e}", self.title))
            .with_timezone(&Utc)
    }
}

struct Item {
    label: String,
    report: Report,
}

/// Indices of the two sides of a hard negative, and why they differ.
type NegativePair = (usize, usize, String);

fn load() -> (Vec<Item>, Vec<NegativePair>, Vec<usize>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dedup_eval.toml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let fx: Fixture = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut items = Vec::new();
    for e in fx.event {
        for r in e.report {
            items.push(Item {
                label: e.id.clone(),
                report: r,
            });
        }
    }
    let mut negatives = Vec::new();
    for (i, h) in fx.hard_negative.into_iter().enumerate() {
        items.push(Item {
            label: format!("hard-negative-{i}-a"),
            report: h.a,
        });
        items.push(Item {
            label: format!("hard-negative-{i}-b"),
            report: h.b,
        });
        negatives.push((items.len() - 2, items.len() - 1, h.reason));
    }
    let mut off = Vec::new();
    for (i, r) in fx.off_region.into_iter().enumerate() {
        items.push(Item {
            label: format!("off-region-{i}"),
            report: r,
        });
        off.push(items.len() - 1);
    }
    (items, negatives, off)
}

#[test]
fn clustering_meets_precision_and_recall_targets() {
    let gazetteer = Gazetteer::builtin();
    let settings = DedupSettings::default();
    let verbose = std::env::var_os("QAFILA_EVAL_VERBOSE").is_some();
    let (items, negatives, off) = load();
    let feats: Vec<_> = items
        .iter()
        .map(|it| features(&it.report.title, it.report.summary.as_deref(), &gazetteer))
        .collect();

    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].report.time());
    let mut index = StoryIndex::new(settings.clone());
    let mut story = vec![0i64; items.len()];
    for &i in &order {
        let t = items[i].report.time();
        story[i] = index.place(&feats[i], t).unwrap_or(i as i64);
        index.insert(i as i64, story[i], feats[i].clone(), t);
    }

    let (mut tp, mut fp, mut fneg) = (0u32, 0u32, 0u32);
    let mut wrong = Vec::new();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            let truth = items[i].label == items[j].label;
            let merged = story[i] == story[j];
            match (truth, merged) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    wrong.push(("WRONG MERGE", i, j));
                }
                (true, false) => {
                    fneg += 1;
                    wrong.push(("MISSED", i, j));
                }
                _ => {}
            }
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        f64::from(tp) / f64::from(tp + fp)
    };
    let recall = if tp + fneg == 0 {
        1.0
    } else {
        f64::from(tp) / f64::from(tp + fneg)
    };
    let f1 = 2.0 * precision * recall / (precision + recall).max(f64::EPSILON);
    let events: std::collections::HashSet<&str> =
        items.iter().map(|it| it.label.as_str()).collect();
    let stories: std::collections::HashSet<i64> = story.iter().copied().collect();
    println!(
        "dedup eval: {} items, {} true events, {} stories; pairs: {tp} true merges, {fp} wrong merges, {fneg} missed",
        items.len(),
        events.len(),
        stories.len()
    );
    println!("dedup eval: precision {precision:.4}, recall {recall:.4}, F1 {f1:.4}");

    let merged_negatives: Vec<_> = negatives
        .iter()
        .filter(|(a, b, _)| story[*a] == story[*b])
        .collect();
    println!(
        "dedup eval: hard negatives merged wrongly: {} / {}",
        merged_negatives.len(),
        negatives.len()
    );
    let tagged_off: Vec<_> = off
        .iter()
        .filter(|&&i| !feats[i].entities().is_empty())
        .collect();
    println!(
        "dedup eval: off-region items tagged with a region entity: {} / {}",
        tagged_off.len(),
        off.len()
    );

    let by_label: HashMap<usize, &str> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (i, it.label.as_str()))
        .collect();
    if verbose || precision < 0.98 || recall < 0.90 || !merged_negatives.is_empty() {
        for (kind, i, j) in &wrong {
            let (a, b) = (&items[*i].report, &items[*j].report);
            println!(
                "\n── {kind}: {} [{}] / {} [{}]",
                by_label[i], a.source, by_label[j], b.source
            );
            println!(
                "{}",
                explain(&feats[*i], a.time(), &feats[*j], b.time(), &settings)
            );
        }
    }
    for &&i in &tagged_off {
        println!(
            "off-region item tagged {:?}: {}",
            feats[i].entities(),
            items[i].report.title
        );
    }
    for (a, b, reason) in &merged_negatives {
        println!(
            "hard negative merged ({reason}): {} / {}",
            items[*a].report.title, items[*b].report.title
        );
    }

    assert!(
        tagged_off.is_empty(),
        "off-region items must carry no region entity"
    );
    assert!(
        merged_negatives.is_empty(),
        "hard negatives must end in different stories"
    );
    assert!(precision >= 0.98, "precision {precision:.4} < 0.98");
    assert!(recall >= 0.90, "recall {recall:.4} < 0.90");
}
