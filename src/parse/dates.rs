//! Item and feed dates as feed-rs reads them, without its cost on well-formed dates.
//!
//! feed-rs reads every date leniently: before trying each format it applies a series of regular-expression
//! repairs (a missing colon in an offset, "UTC", a wrong or long weekday, long month names, month and day swapped,
//! hour 24, one-digit hours), each copying the text — a fifth of the time it spends on a news feed, whose dates
//! are almost always well formed. So a date is first read strictly as RFC 2822 (RSS) or RFC 3339 (Atom, JSON
//! Feed): when that succeeds, none of the repairs would have changed its value (they only touch what a strict
//! reader refuses, or spell an offset another way). Only a date the strict readers refuse goes to feed-rs's own
//! lenient reader, reached through a one-element feed, so the repairs stay exactly feed-rs's; a unit test checks
//! both ways agree on well-formed and broken dates alike.

use chrono::{DateTime, Utc};

/// The date feed-rs's default reader gives for `text` (see the module doc).
pub(super) fn feed_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.to_utc());
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.to_utc());
    }
    lenient(text)
}

/// feed-rs's default reading of a date: the date of a feed that carries only it.
fn lenient(text: &str) -> Option<DateTime<Utc>> {
    let escaped = crate::text::escape_markup(text);
    let doc = format!("<rss version=\"2.0\"><channel><pubDate>{escaped}</pubDate></channel></rss>");
    feed_rs::parser::parse(doc.as_bytes()).ok()?.published
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn broken_dates_are_read_as_feed_rs_reads_them() {
        for text in [
            "Fri, 27 Nov 2026 10:00:00 GMT",
            "  Fri, 27 Nov 2026 10:00:00 +0300 ",
            "2026-11-27T10:00:00Z",
            "2026-11-27T10:00:00.123+03:00",
            "Thurs, 26 Nov 2026 10:00:00 GMT",
            "Wed, 27 Nov 2026 10:00:00 GMT",
            "Fri, 27 November 2026 10:00:00 GMT",
            "Fri, Nov 27 2026 10:00:00 GMT",
            "Fri, 27 Nov 2026 24:10:00 GMT",
            "Fri, 27 Nov 2026 9:05:00 GMT",
            "Fri, 27 Nov 2026 10:00:00 UTC",
            "Fri, 27 Nov 2026 10:00:00 -0000",
            "27 Nov 2026 10:00:00 Z",
            "2026-11-27T10:00:00+0300",
            "2026-11-27",
            "27/11/2026",
            "",
            "not a date & <b>",
        ] {
            assert_eq!(feed_timestamp(text), lenient(text), "{text:?}");
        }
        assert!(feed_timestamp("Fri, Nov 27 2026 10:00:00 GMT").is_some());
    }

    proptest! {
        /// Well-formed and nearly well-formed dates in both formats: the strict readers and feed-rs agree.
        #[test]
        fn the_quick_reading_is_feed_rs_reading(
            weekday in proptest::sample::select(vec!["", "Mon, ", "Fri, ", "Sat, ", "Thursday, "]),
            day in 1u32..32,
            month in proptest::sample::select(vec!["Jan", "Feb", "Nov", "November", "Dec"]),
            year in proptest::sample::select(vec!["2026", "26", "1999"]),
            hour in 0u32..25,
            minute in 0u32..60,
            zone in proptest::sample::select(vec!["GMT", "UT", "UTC", "Z", "+0300", "-0000", "-0530", "EST", "+03:00"]),
            rfc3339 in any::<bool>(),
        ) {
            let text = if rfc3339 {
                let zone = match zone { "GMT" | "UT" | "UTC" | "EST" => "Z", z => z };
                format!("{year}-11-{day:02}T{hour:02}:{minute:02}:00{zone}")
            } else {
                format!("{weekday}{day} {month} {year} {hour}:{minute:02}:00 {zone}")
            };
            prop_assert_eq!(feed_timestamp(&text), lenient(&text), "{:?}", text);
        }
    }
}
