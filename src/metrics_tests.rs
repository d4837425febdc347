use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::TimeZone;

use super::*;

/// One sample: name, labels in order, value.
type Sample = (String, Vec<(String, String)>, f64);

/// A strict reader of the subset of the text format `render` writes: every non-comment line is
/// `name{labels} value` or `name value`, every family's HELP comes before its TYPE, which comes before its
/// samples, and each family is declared once. Returns the samples and each family's type.
fn parse(text: &str) -> (Vec<Sample>, HashMap<String, String>) {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').expect("HELP has a text");
            assert!(!helped.contains(&name.to_string()), "HELP twice: {name}");
            helped.push(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(
                helped.contains(&name.to_string()),
                "TYPE before HELP: {name}"
            );
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{kind}");
            assert!(
                types.insert(name.into(), kind.into()).is_none(),
                "TYPE twice: {name}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let name_end = line.find(['{', ' ']).expect("sample has a value");
        let name = &line[..name_end];
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "bad name {name}"
        );
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            loop {
                let (start, _) = chars.next().expect("label");
                let eq = inner[start..].find("=\"").expect("label=\"") + start;
                let key = inner[start..eq].to_string();
                for _ in start..eq + 1 {
                    chars.next();
                }
                let mut value = String::new();
                loop {
                    match chars.next().expect("closing quote") {
                        (_, '"') => break,
                        (_, '\\') => match chars.next().expect("escape").1 {
                            'n' => value.push('\n'),
                            c @ ('\\' | '"') => value.push(c),
                            c => panic!("bad escape \\{c}"),
                        },
                        (_, c) => value.push(c),
                    }
                }
                labels.push((key, value));
                match chars.next().expect("after label") {
                    (_, ',') => continue,
                    (i, '}') => {
                        rest = &inner[i + 1..];
                        break;
                    }
                    (_, c) => panic!("unexpected {c:?} in {line}"),
                }
            }
        }
        let value: f64 = rest
            .strip_prefix(' ')
            .expect("one space before the value")
            .parse()
            .expect("numeric value");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its TYPE: {line}");
        samples.push((name.to_string(), labels, value));
    }
    (samples, types)
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && l.iter().zip(labels).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
        })
        .map(|s| s.2)
}

#[test]
fn render_parses_back_with_consistent_histogram() {
    let m = Metrics::default();
    let ms = Duration::from_millis;
    m.record_fetch("rt-arabic", FetchOutcomeLabel::Ok, ms(40));
    m.record_fetch("rt-arabic", FetchOutcomeLabel::Ok, ms(100));
    m.record_fetch("rt-arabic", FetchOutcomeLabel::NotModified, ms(700));
    m.record_fetch(
        "bbc-arabic",
        FetchOutcomeLabel::Error,
        Duration::from_secs(45),
    );
    m.record_fetch("a\"b\\c\nd", FetchOutcomeLabel::Error, ms(3000));
    m.add_ingested(12, 9, 3);
    m.add_ingested(1, 1, 0);
    m.set_sources_failing(2);
    m.set_last_successful_round(Utc.with_ymd_and_hms(2026, 11, 27, 14, 5, 0).unwrap());
    m.set_database_size(1 << 20);
    for (path, status) in [
        ("/feed.xml", 200),
        ("/feed.xml", 304),
        ("/feed.xml", 200),
        ("/country/kz.xml", 200),
        ("/wp-login.php", 404),
        ("/country/../etc", 404),
        ("/metrics", 200),
    ] {
        m.record_request(path, status);
    }

    let text = m.render();
    let (samples, types) = parse(&text);
    for (family, kind) in [
        ("qafila_fetches_total", "counter"),
        ("qafila_fetch_duration_seconds", "histogram"),
        ("qafila_items_ingested_total", "counter"),
        ("qafila_stories_created_total", "counter"),
        ("qafila_stories_merged_total", "counter"),
        ("qafila_database_write_failures_total", "counter"),
        ("qafila_output_write_failures_total", "counter"),
        ("qafila_sources_failing", "gauge"),
        ("qafila_last_successful_round_timestamp_seconds", "gauge"),
        ("qafila_database_size_bytes", "gauge"),
        ("qafila_http_requests_total", "counter"),
    ] {
        assert_eq!(
            types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }

    let fetches = "qafila_fetches_total";
    let ok = [("source", "rt-arabic"), ("outcome", "ok")];
    assert_eq!(value(&samples, fetches, &ok), Some(2.0));
    let odd = [("source", "a\"b\\c\nd"), ("outcome", "error")];
    assert_eq!(
        value(&samples, fetches, &odd),
        Some(1.0),
        "escaping round-trips"
    );

    let buckets: Vec<(String, f64)> = samples
        .iter()
        .filter(|(n, _, _)| n == "qafila_fetch_duration_seconds_bucket")
        .map(|(_, l, v)| (l[0].1.clone(), *v))
        .collect();
    let les: Vec<&str> = buckets.iter().map(|(le, _)| le.as_str()).collect();
    assert_eq!(
        les,
        ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"]
    );
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative");
    let count = value(&samples, "qafila_fetch_duration_seconds_count", &[]).unwrap();
    assert_eq!(buckets.last().unwrap().1, count);
    assert_eq!(count, 5.0);
    let per_le: BTreeMap<&str, f64> = buckets.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    assert_eq!(per_le["0.05"], 1.0);
    assert_eq!(per_le["0.1"], 2.0, "le is inclusive");
    assert_eq!(per_le["1"], 3.0);
    assert_eq!(per_le["30"], 4.0);
    let sum = value(&samples, "qafila_fetch_duration_seconds_sum", &[]).unwrap();
    assert!((sum - 48.84).abs() < 1e-9, "{sum}");

    assert_eq!(
        value(&samples, "qafila_items_ingested_total", &[]),
        Some(13.0)
    );
    assert_eq!(
        value(&samples, "qafila_stories_created_total", &[]),
        Some(10.0)
    );
    assert_eq!(
        value(&samples, "qafila_stories_merged_total", &[]),
        Some(3.0)
    );
    assert_eq!(value(&samples, "qafila_sources_failing", &[]), Some(2.0));
    assert_eq!(
        value(
            &samples,
            "qafila_last_successful_round_timestamp_seconds",
            &[]
        ),
        Some(1_795_788_300.0)
    );
    assert_eq!(
        value(&samples, "qafila_database_size_bytes", &[]),
        Some(1048576.0)
    );

    let req = "qafila_http_requests_total";
    let feed_ok = [("path", "/feed.xml"), ("status", "200")];
    assert_eq!(value(&samples, req, &feed_ok), Some(2.0));
    let country = [("path", "/country/*"), ("status", "200")];
    assert_eq!(value(&samples, req, &country), Some(1.0));
    let other = [("path", "other"), ("status", "404")];
    assert_eq!(value(&samples, req, &other), Some(2.0));
}

#[test]
fn an_empty_registry_renders_valid_output() {
    let (samples, types) = parse(&Metrics::default().render());
    assert_eq!(types.len(), 12);
    assert_eq!(
        value(
            &samples,
            "qafila_fetch_duration_seconds_bucket",
            &[("le", "+Inf")]
        ),
        Some(0.0)
    );
}

#[test]
fn routes_are_a_closed_set() {
    for (path, label) in [
        ("/", "/"),
        ("/feed.json", "/feed.json"),
        ("/feed.atom", "/feed.atom"),
        ("/sources.opml", "/sources.opml"),
        ("/healthz", "/healthz"),
        ("/country/kz.xml", "/country/*"),
        ("/country/", "other"),
        ("/country/kz/x", "other"),
        ("/feed.xml/", "other"),
        ("/FEED.XML", "other"),
    ] {
        assert_eq!(route(path), label, "{path}");
    }
}

#[test]
fn concurrent_recording_loses_nothing() {
    let m = Arc::new(Metrics::default());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..1000 {
                    m.record_fetch(
                        &format!("s{t}"),
                        FetchOutcomeLabel::Ok,
                        Duration::from_millis(i),
                    );
                    m.record_request("/feed.xml", 200);
                    let _ = m.render();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (samples, _) = parse(&m.render());
    assert_eq!(
        value(&samples, "qafila_fetch_duration_seconds_count", &[]),
        Some(4000.0)
    );
    let feed = [("path", "/feed.xml"), ("status", "200")];
    assert_eq!(
        value(&samples, "qafila_http_requests_total", &feed),
        Some(4000.0)
    );
}

#[test]
fn metrics_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Metrics>();
}
