//! A cheap streaming look at an XML feed before feed-rs parses it: entity declarations are refused, and a feed
//! with more items than `[limits] max_items_per_fetch` is cut down to its newest ones.
//!
//! feed-rs builds the whole document in memory (a million empty `<item/>`, 7 MB, took 1.29 GB), so the cap must
//! act before it. quick-xml (the reader feed-rs itself uses) streams over the text once, without building
//! anything: it notes where each item starts and ends and its date, keeping only the best `max_items` in a heap.
//! When there are more, the document handed on is its head (up to the first item), the kept items in their
//! original order, and its tail (after the last item). Nothing here decides whether the feed is well formed:
//! on a reader error the scan stops and feed-rs gives the diagnosis.
//!
//! "Newest" is by the item's own date (`pubDate`, `dc:date`, `published`, `updated`); items without a readable
//! date rank after dated ones, earlier in the document first (feeds list newest first).
//!
//! A JSON Feed gets the same treatment from [`prescan_json`]: serde_json streams over its `items` one at a time,
//! keeping the newest `max_items` (by `date_published`, else `date_modified`), so feed-rs never sees the rest.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ParseError;

/// The text feed-rs should parse, and how many items were left out of it.
#[derive(Debug)]
pub(super) struct Prescanned<'a> {
    pub text: Cow<'a, str>,
    pub items_over_cap: usize,
}

/// One item's rank (newer is greater) and where it lies in the text.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked {
    date: i64,
    /// Earlier in the document ranks higher among equal dates.
    position: Reverse<usize>,
    end: usize,
}

const DATE_ELEMENTS: &[&str] = &[
    "pubDate",
    "date",
    "published",
    "updated",
    "issued",
    "modified",
];

fn parse_date(text: &str) -> Option<i64> {
    let t = text.trim();
    chrono::DateTime::parse_from_rfc2822(t)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(t))
        .ok()
        .map(|d| d.timestamp())
}

/// Looks at an XML feed as described in the module doc.
pub(super) fn prescan(text: &str, max_items: usize) -> Result<Prescanned<'_>, ParseError> {
    if nothing_to_look_for(text, max_items) {
        return Ok(Prescanned {
            text: Cow::Borrowed(text),
            items_over_cap: 0,
        });
    }
    prescan_full(text, max_items)
}

/// [`prescan`] reading the whole document.
fn prescan_full(text: &str, max_items: usize) -> Result<Prescanned<'_>, ParseError> {
    let mut reader = Reader::from_str(text);
    {
        let config = reader.config_mut();
        // Be more lenient than feed-rs: the scan must reach the items whenever feed-rs could.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
    }
    let mut kept: BinaryHeap<Reverse<Ranked>> = BinaryHeap::new();
    let (mut count, mut first_start, mut last_end) = (0usize, None, 0usize);
    let mut depth = 0usize;
    // The item being read: its start, its depth, its date, and whether the next text is its date.
    let mut item: Option<(usize, usize, Option<i64>)> = None;
    let mut in_date = false;
    let mut keep = |start: usize, end: usize, date: Option<i64>, count: &mut usize| {
        *count += 1;
        first_start.get_or_insert(start);
        last_end = end;
        kept.push(Reverse(Ranked {
            date: date.unwrap_or(i64::MIN),
            position: Reverse(start),
            end,
        }));
        if kept.len() > max_items {
            kept.pop();
        }
    };
    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        let end = reader.buffer_position() as usize;
        match event {
            Event::DocType(doctype) => {
                let declares = doctype
                    .as_bytes()
                    .windows(8)
                    .any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"));
                if declares {
                    return Err(ParseError::EntityDeclarations);
                }
            }
            Event::Start(e) => {
                depth += 1;
                let local = e.local_name();
                let name = local.as_ref();
                match item {
                    None if (depth == 2 || depth == 3) && (name == "item" || name == "entry") => {
                        item = Some((start, depth, None));
                    }
                    Some((_, d, None)) if depth == d + 1 && DATE_ELEMENTS.contains(&name) => {
                        in_date = true;
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                let local = e.local_name();
                let name = local.as_ref();
                if item.is_none()
                    && (depth == 1 || depth == 2)
                    && (name == "item" || name == "entry")
                {
                    keep(start, end, None, &mut count);
                }
            }
            Event::Text(t) if in_date => {
                if let Some((_, _, date)) = item.as_mut() {
                    *date = parse_date(&t);
                }
            }
            Event::CData(t) if in_date => {
                if let Some((_, _, date)) = item.as_mut() {
                    *date = parse_date(&t);
                }
            }
            Event::End(_) => {
                in_date = false;
                if let Some((item_start, d, date)) = item {
                    if depth == d {
                        keep(item_start, end, date, &mut count);
                        item = None;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    if count <= max_items {
        return Ok(Prescanned {
            text: Cow::Borrowed(text),
            items_over_cap: 0,
        });
    }
    let mut chosen: Vec<(usize, usize)> = kept
        .into_iter()
        .map(|Reverse(r)| (r.position.0, r.end))
        .collect();
    chosen.sort_unstable();
    let head = &text[..first_start.unwrap_or(0)];
    let mut out =
        String::with_capacity(head.len() + (text.len() - last_end) + 1024 * max_items.min(4096));
    out.push_str(head);
    for (start, end) in &chosen {
        out.push_str(&text[*start..*end]);
    }
    out.push_str(&text[last_end..]);
    Ok(Prescanned {
        text: Cow::Owned(out),
        items_over_cap: count - chosen.len(),
    })
}

/// Whether the scan can be skipped because it could find nothing: no `<!ENTITY` anywhere in the text (so no
/// DTD declares one), and at most `max_items` tags named `item` or `entry` (with any namespace prefix) — every
/// item the scan counts is one of them, so it could not cut anything either. A plain search for `<` (which the
/// standard library does with memchr) is several times cheaper than reading the XML, and most feeds, whose items
/// are far fewer than the cap, are then read once, by feed-rs.
fn nothing_to_look_for(text: &str, max_items: usize) -> bool {
    let bytes = text.as_bytes();
    let mut items = 0;
    for (at, _) in text.match_indices('<') {
        let rest = &bytes[at + 1..];
        if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"!entity") {
            return false;
        }
        let name_len = rest
            .iter()
            .position(|&b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let local = match name.iter().rposition(|&b| b == b':') {
            Some(colon) => &name[colon + 1..],
            None => name,
        };
        if local == b"item" || local == b"entry" {
            items += 1;
            if items > max_items {
                return false;
            }
        }
    }
    true
}

/// One kept JSON Feed item, ordered by its rank only.
struct JsonKept {
    rank: (i64, Reverse<usize>),
    value: serde_json::Value,
}

impl PartialEq for JsonKept {
    fn eq(&self, other: &Self) -> bool {
        self.rank == other.rank
    }
}
impl Eq for JsonKept {}
impl PartialOrd for JsonKept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for JsonKept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank.cmp(&other.rank)
    }
}

/// Reads a JSON array keeping the newest `max` elements: (kept, in array order; how many there were).
struct CappedItems {
    max: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for CappedItems {
    type Value = (Vec<serde_json::Value>, usize);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CappedItems {
    type Value = (Vec<serde_json::Value>, usize);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON Feed's items array")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut kept: BinaryHeap<Reverse<JsonKept>> = BinaryHeap::new();
        let mut count = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            let date = ["date_published", "date_modified"]
                .iter()
                .find_map(|k| value.get(*k)?.as_str().and_then(parse_date))
                .unwrap_or(i64::MIN);
            kept.push(Reverse(JsonKept {
                rank: (date, Reverse(count)),
                value,
            }));
            if kept.len() > self.max {
                kept.pop();
            }
            count += 1;
        }
        let mut kept: Vec<JsonKept> = kept.into_iter().map(|Reverse(k)| k).collect();
        kept.sort_by_key(|k| (k.rank.1).0);
        Ok((kept.into_iter().map(|k| k.value).collect(), count))
    }
}

/// Reads a JSON Feed's top-level object, its `items` through [`CappedItems`].
struct CappedFeed {
    max: usize,
}

type CappedDocument = (serde_json::Map<String, serde_json::Value>, usize);

impl<'de> serde::de::DeserializeSeed<'de> for CappedFeed {
    type Value = CappedDocument;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CappedFeed {
    type Value = CappedDocument;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON Feed object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        let mut count = 0;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                let (items, n) = map.next_value_seed(CappedItems { max: self.max })?;
                count = n;
                out.insert(key, serde_json::Value::Array(items));
            } else {
                let value = map.next_value::<serde_json::Value>()?;
                out.insert(key, value);
            }
        }
        Ok((out, count))
    }
}

/// Cuts a JSON Feed to its newest `max_items` items. Anything that does not read as a JSON object with an `items`
/// array is passed on unchanged, for feed-rs to diagnose.
pub(super) fn prescan_json(text: &str, max_items: usize) -> Prescanned<'_> {
    use serde::de::DeserializeSeed;
    let unchanged = Prescanned {
        text: Cow::Borrowed(text),
        items_over_cap: 0,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let Ok((object, count)) = (CappedFeed { max: max_items }).deserialize(&mut de) else {
        return unchanged;
    };
    if count <= max_items {
        return unchanged;
    }
    match serde_json::to_string(&object) {
        Ok(cut) => Prescanned {
            text: Cow::Owned(cut),
            items_over_cap: count - max_items,
        },
        Err(_) => unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss(items: &str) -> String {
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>")
    }

    #[test]
    fn few_items_pass_untouched() {
        let text = rss("<item><title>a</title></item><item/>");
        let p = prescan(&text, 2).unwrap();
        assert!(matches!(p.text, Cow::Borrowed(_)));
        assert_eq!(p.items_over_cap, 0);
    }

    #[test]
    fn keeps_the_newest_items_in_document_order() {
        let item =
            |t: &str, d: &str| format!("<item><title>{t}</title><pubDate>{d}</pubDate></item>");
        let text = rss(&[
            item("old", "Mon, 02 Nov 2026 10:00:00 GMT"),
            item("newest", "Fri, 27 Nov 2026 10:00:00 GMT"),
            "<item><title>undated</title></item>".into(),
            item("newer", "Thu, 26 Nov 2026 10:00:00 +0300"),
        ]
        .concat());
        let p = prescan(&text, 2).unwrap();
        assert_eq!(p.items_over_cap, 2);
        assert_eq!(
            p.text,
            rss(&[
                item("newest", "Fri, 27 Nov 2026 10:00:00 GMT"),
                item("newer", "Thu, 26 Nov 2026 10:00:00 +0300")
            ]
            .concat())
        );
    }

    #[test]
    fn undated_items_keep_the_first_ones() {
        let text = rss(&"<item/>".repeat(10));
        let p = prescan(&text, 3).unwrap();
        assert_eq!(
            (p.text.into_owned(), p.items_over_cap),
            (rss(&"<item/>".repeat(3)), 7)
        );
        let atom = format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>{}</feed>",
            "<entry><id>x</id><updated>2026-11-27T10:00:00Z</updated></entry>".repeat(5)
        );
        assert_eq!(prescan(&atom, 4).unwrap().items_over_cap, 1);
        let rdf = format!(
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">\
             <channel><title>t</title></channel>{}</rdf:RDF>",
            "<item rdf:about=\"x\"><title>x</title></item>".repeat(5)
        );
        assert_eq!(prescan(&rdf, 1).unwrap().items_over_cap, 4);
    }

    #[test]
    fn nested_items_are_not_counted() {
        // An <item> inside an item's extension element is not a feed item.
        let text = rss("<item><x:list xmlns:x=\"urn:x\"><x:item/><x:item/></x:list></item>");
        assert_eq!(prescan(&text, 1).unwrap().items_over_cap, 0);
    }

    #[test]
    fn entity_declarations_are_refused_external_dtds_are_not() {
        let bomb = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>{}",
            rss("<item><title>&lol2;</title></item>")
        );
        assert_eq!(
            prescan(&bomb, 10).unwrap_err(),
            ParseError::EntityDeclarations
        );
        let netscape = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" \
             \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">{}",
            rss("<item/>")
        );
        assert!(prescan(&netscape, 10).is_ok());
    }

    #[test]
    fn the_quick_look_finds_whatever_the_scan_would_act_on() {
        assert!(nothing_to_look_for(
            &rss("<item/><item><title>a</title></item>"),
            2
        ));
        assert!(!nothing_to_look_for(&rss("<item/><item/><item/>"), 2));
        assert!(!nothing_to_look_for(
            &rss("<item/><rss:item/><a:entry/>"),
            2
        ));
        assert!(!nothing_to_look_for(
            "<!DOCTYPE rss [<!entity lol \"lol\">]><rss/>",
            10
        ));
        // Mentions the scan would not count (nested, in text) only make it look: never the other way round.
        assert!(!nothing_to_look_for(
            &rss("<item><x:item/></item><![CDATA[<item>]]>"),
            2
        ));
    }

    proptest::proptest! {
        /// Whenever the quick look says there is nothing to do, the full scan agrees: no refusal, nothing cut.
        #[test]
        fn the_quick_look_never_skips_a_cut_or_a_refusal(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "<item>", "</item>", "<item/>", "<entry>", "</entry>", "<a:item>", "</a:item>", "<x:entry/>",
                "<title>t</title>", "<pubDate>Fri, 27 Nov 2026 10:00:00 GMT</pubDate>", "<!ENTITY a \"b\">",
                "<!DOCTYPE rss [", "]>", "<![CDATA[", "]]>", "<!-- c -->", "<channel>", "</channel>", "<rss>",
                "</rss>", "<itemx>", "< item>", "<ITEM>", "text",
            ]), 0..30),
            max in 0usize..4,
        ) {
            let text = parts.concat();
            if nothing_to_look_for(&text, max) {
                let full = prescan_full(&text, max);
                proptest::prop_assert!(
                    matches!(full, Ok(Prescanned { text: Cow::Borrowed(_), items_over_cap: 0 })),
                    "{:?}", full
                );
            }
        }
    }

    #[test]
    fn json_feeds_keep_their_newest_items() {
        let items: Vec<String> = (0..6)
            .map(|i| {
                format!(
                    r#"{{"id":"{i}","date_published":"2026-11-2{}T10:00:00Z"}}"#,
                    [3, 7, 1, 5, 2, 6][i]
                )
            })
            .collect();
        let text = format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"ت","items":[{}]}}"#,
            items.join(",")
        );
        let p = prescan_json(&text, 3);
        assert_eq!(p.items_over_cap, 3);
        let v: serde_json::Value = serde_json::from_str(&p.text).unwrap();
        let ids: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["1", "3", "5"]);
        assert_eq!(v["title"], "ت");
        assert!(matches!(prescan_json(&text, 6).text, Cow::Borrowed(_)));
        assert!(matches!(
            prescan_json("{\"items\": [", 1).text,
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_broken_document_is_left_to_feed_rs() {
        let text = rss("<item/><item/><item/>").replace("</channel>", "</chan");
        let p = prescan(&text, 1).unwrap();
        assert_eq!(p.items_over_cap, 2);
        assert!(p.text.ends_with("</chan</rss>"), "{}", p.text);
    }
}
