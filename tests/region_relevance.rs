//! Region relevance against the labeled set in `tests/fixtures/region_relevance.toml`: what a region-filtered
//! source publishes. At least 90 % of the items about the region must be published and at most 10 % of the items
//! that only mention a region word. Each item goes through `item_features`, as ingest computes it.

use qafila::dedup::item_features;
use qafila::regions::Gazetteer;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    item: Vec<Labeled>,
}

#[derive(Debug, Deserialize)]
struct Labeled {
    about: bool,
    #[serde(default)]
    why: String,
    source: String,
    title: String,
    summary: String,
}

#[test]
fn the_region_is_published_when_it_is_the_subject() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/region_relevance.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let fx: Fixture = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let g = Gazetteer::builtin();
    let (mut region, mut region_published, mut other, mut other_published) = (0, 0, 0, 0);
    for it in &fx.item {
        let published = item_features(&it.title, Some(&it.summary), None, None, &g)
            .region_tags()
            .region_match;
        if it.about {
            region += 1;
            region_published += usize::from(published);
        } else {
            other += 1;
            other_published += usize::from(published);
        }
        if published != it.about {
            println!(
                "{} [{}] {} ({})",
                if it.about { "DROPPED" } else { "PUBLISHED" },
                it.source,
                it.title,
                it.why
            );
        }
    }
    let region_rate = region_published as f64 / region as f64;
    let other_rate = other_published as f64 / other as f64;
    println!(
        "region relevance: {region_published} / {region} items about the region published ({:.1} %), \
         {other_published} / {other} others published ({:.1} %)",
        region_rate * 100.0,
        other_rate * 100.0
    );
    assert!(
        fx.item.len() >= 120 && region * 10 >= fx.item.len() * 6,
        "the set stays large and mostly on-region"
    );
    assert!(
        region_rate >= 0.90,
        "only {:.1} % of region items published",
        region_rate * 100.0
    );
    assert!(
        other_rate <= 0.10,
        "{:.1} % of other items published",
        other_rate * 100.0
    );
}
