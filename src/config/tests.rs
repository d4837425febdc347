use super::*;

const MINIMAL: &str = r#"
[feed]
title = "قافلة"
description = "أخبار آسيا الوسطى والقوقاز"
link = "https://qafila.example/"
self_url = "https://qafila.example/feed.xml"

[[source]]
id = "rt-arabic"
name = "آر تي عربي"
url = "https://arabic.rt.com/rss/"

[[source]]
id = "asiaarabic"
name = "آسيا العربية"
url = "https://asiaarabic.com/feed"
enabled = false
schedule = "0 * * * *"
region_filter = true
"#;

fn error_of(text: &str) -> String {
    Config::parse(text, Path::new("q.toml"))
        .unwrap_err()
        .to_string()
}

#[test]
fn minimal_config_gets_the_documented_defaults() {
    let c = Config::parse(MINIMAL, Path::new("q.toml")).unwrap();
    assert_eq!(c.feed.language, "ar");
    assert_eq!(c.feed.max_items, 100);
    assert_eq!(c.feed.output, PathBuf::from("data/feed.xml"));
    assert_eq!(c.storage.database, PathBuf::from("data/qafila.db"));
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.fetch.schedule.expression(), "*/15 * * * *");
    assert_eq!(c.sources.len(), 2);
    assert_eq!(c.enabled_sources().count(), 1);
    assert!(c.sources[1].region_filter);
    assert_eq!(
        crate::schedule::schedule_of(&c, &c.sources[1]).expression(),
        "0 * * * *"
    );
}

#[test]
fn unknown_key_is_reported_with_line_column_and_name() {
    let text = MINIMAL.replace("enabled = false", "enabeld = false");
    let msg = error_of(&text);
    assert!(msg.starts_with("q.toml:17:1: "), "{msg}");
    assert!(msg.contains("enabeld"), "{msg}");
}

#[test]
fn wrong_type_names_the_key() {
    let text = MINIMAL.replace(
        "self_url = \"https://qafila.example/feed.xml\"",
        "self_url = \"https://qafila.example/feed.xml\"\nmax_items = \"many\"",
    );
    let msg = error_of(&text);
    assert!(msg.starts_with("q.toml:7:"), "{msg}");
    assert!(msg.contains("feed.max_items"), "{msg}");
}

#[test]
fn validation_errors_point_at_the_value() {
    let dup = MINIMAL.replace("id = \"asiaarabic\"", "id = \"rt-arabic\"");
    let msg = error_of(&dup);
    assert!(msg.starts_with("q.toml:14:6: "), "{msg}");
    assert!(
        msg.contains("source[1].id") && msg.contains("unique"),
        "{msg}"
    );

    let msg = error_of(&MINIMAL.replace("id = \"rt-arabic\"", "id = \"RT Arabic\""));
    assert!(
        msg.starts_with("q.toml:9:6: ") && msg.contains("source[0].id"),
        "{msg}"
    );

    let msg = error_of(&MINIMAL.replace("https://arabic.rt.com/rss/", "arabic.rt.com/rss"));
    assert!(
        msg.starts_with("q.toml:11:7: ") && msg.contains("source[0].url"),
        "{msg}"
    );

    let msg = error_of(&MINIMAL.replace("schedule = \"0 * * * *\"", "schedule = \"every hour\""));
    assert!(
        msg.starts_with("q.toml:18:12: ") && msg.contains("source[1].schedule"),
        "{msg}"
    );

    let msg = error_of(&format!("{MINIMAL}\n[server]\nlisten = \"localhost\"\n"));
    assert!(msg.contains("server.listen"), "{msg}");
}

#[test]
fn syntax_error_and_missing_table() {
    let msg = error_of(&MINIMAL.replace("title = \"قافلة\"", "title = \"قافلة"));
    assert!(msg.starts_with("q.toml:3:"), "{msg}");
    let msg = error_of("[server]\nlisten = \"127.0.0.1:1\"\n");
    assert!(msg.contains("feed"), "{msg}");
}

#[test]
fn key_at_names_tables_and_sources() {
    let text = "[fetch]\ntimeout_secs = \"x\"\n[[source]]\nid = 1\n[[source]]\nurl = 2\n";
    assert_eq!(
        key_at(text, text.find("\"x\"").unwrap()).as_deref(),
        Some("fetch.timeout_secs")
    );
    assert_eq!(
        key_at(text, text.find("url").unwrap()).as_deref(),
        Some("source[1].url")
    );
}

/// The README's table of ranges is the documentation of record: every bound it gives is accepted, and one step
/// beyond it is refused naming the key, so the table and the code cannot drift apart.
#[test]
fn the_documented_ranges_are_the_enforced_ones() {
    let readme = include_str!("../../README.md");
    let rows = readme
        .lines()
        // `[[source]]` rows are checked by the source tests: a source needs more than one key.
        .filter(|l| {
            l.starts_with("| `[") && !l.starts_with("| `[[") && l.matches('|').count() == 4
        });
    let mut checked = 0;
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (keys, range) = (cells[1], cells[2].replace(',', ""));
        if range.contains('(') {
            continue; // a bound that depends on another key: tested beside that check
        }
        let Some((min, max)) = range.split_once(" – ") else {
            continue; // another table's header
        };
        let table = &keys[keys.find('[').unwrap() + 1..keys.find(']').unwrap()];
        let names = keys.replace('`', "");
        for key in names[names.find(']').unwrap() + 1..]
            .split(',')
            .map(str::trim)
        {
            let with = |value: &str| {
                let line = format!("[{table}]\n{key} = {value}\n");
                let text = if table == "feed" {
                    MINIMAL.replacen("[feed]\n", &line, 1)
                } else {
                    format!("{line}{MINIMAL}")
                };
                Config::parse(&text, Path::new("q.toml"))
            };
            let step = |bound: &str, by: f64| {
                if bound.contains('.') {
                    format!("{:?}", bound.parse::<f64>().unwrap() + by / 2.0)
                } else {
                    (bound.parse::<i64>().unwrap() + by as i64).to_string()
                }
            };
            for bound in [min, max] {
                assert!(
                    with(bound).is_ok(),
                    "{table}.{key} = {bound}: {:?}",
                    with(bound).err()
                );
            }
            for beyond in [step(min, -1.0), step(max, 1.0)] {
                let msg = with(&beyond).unwrap_err().to_string();
                assert!(
                    msg.contains(&format!("{table}.{key}")),
                    "{table}.{key} = {beyond}: {msg}"
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} keys found in the README's table"
    );
}

#[test]
fn source_kinds_and_their_keys() {
    let text = format!(
        "{MINIMAL}\n[[source]]\nid = \"azertag\"\nname = \"أذرتاج\"\nurl = \"https://azertag.az/ar\"\nkind = \"html\"\n\
         select = {{ item = \"div.news-item\", title = \"h3\", date = \"time\" }}\n\n\
         [[source]]\nid = \"trend\"\nname = \"ترند\"\nurl = \"https://ar.trend.az/news-sitemap.xml\"\nkind = \"sitemap\"\nsitemap_days = 3\n"
    );
    let c = Config::parse(&text, Path::new("q.toml")).unwrap();
    assert_eq!(c.sources[0].kind(), SourceKind::Feed);
    assert_eq!(c.sources[2].kind(), SourceKind::Html);
    let select = c.sources[2].select.as_ref().unwrap();
    assert_eq!(select.item.get_ref(), "div.news-item");
    assert_eq!(select.selectors().count(), 3);
    assert_eq!(c.sources[3].kind(), SourceKind::Sitemap);
    assert_eq!(c.sources[3].sitemap_days(), 3);
    assert_eq!(c.sources[0].sitemap_days(), DEFAULT_SITEMAP_DAYS);
}

#[test]
fn a_selector_that_does_not_parse_is_located_and_named() {
    let text = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nkind = \"html\"\n\
         select = {{ item = \"li.news\", title = \"h3 >> a[\" }}\n"
    );
    let msg = error_of(&text);
    let line = text.lines().position(|l| l.starts_with("select")).unwrap() + 1;
    let col = text.lines().nth(line - 1).unwrap().find("\"h3").unwrap() + 1;
    assert!(
        msg.starts_with(&format!(
            "q.toml:{line}:{col}: key `source[2].select.title`: "
        )),
        "{msg}"
    );
    assert!(msg.contains("not a valid CSS selector"), "{msg}");
}

#[test]
fn kind_keys_out_of_place_are_errors() {
    let html_without_select = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nkind = \"html\"\n"
    );
    assert!(
        error_of(&html_without_select).contains("key `source[2].select`: kind = \"html\" needs")
    );
    let select_on_feed = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nselect = {{ item = \"li\", title = \"a\" }}\n"
    );
    assert!(error_of(&select_on_feed)
        .contains("key `source[2].select`: only used with kind = \"html\""));
    let days_on_html = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nsitemap_days = 2\n"
    );
    assert!(error_of(&days_on_html)
        .contains("key `source[2].sitemap_days`: only used with kind = \"sitemap\""));
    let zero = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nkind = \"sitemap\"\nsitemap_days = 0\n"
    );
    assert!(error_of(&zero).contains("out of range: use 1 to 365"));
    let offset = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nkind = \"html\"\n\
         select = {{ item = \"li\", title = \"a\", utc_offset = \"Asia/Baku\" }}\n"
    );
    assert!(error_of(&offset)
        .contains("key `source[2].select.utc_offset`: `Asia/Baku` is not a UTC offset"));
    let unknown = format!(
        "{MINIMAL}\n[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"https://x.example/\"\nkind = \"rss\"\n"
    );
    let msg = error_of(&unknown);
    assert!(
        msg.contains("source[2].kind") && msg.contains("rss"),
        "{msg}"
    );
}
