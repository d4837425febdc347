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
    fn a_broken_document_is_left_to_feed_rs() {
        let text = rss("<item/><item/><item/>").replace("</channel>", "</chan");
        let p = prescan(&text, 1).unwrap();
        assert_eq!(p.items_over_cap, 2);
        assert!(p.text.ends_with("</chan</rss>"), "{}", p.text);
    }
}
