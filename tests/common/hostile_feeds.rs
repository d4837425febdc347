//! Hostile feeds, generated: `/hostile/{case}` serves a well-formed feed built to make the reader do too much work
//! or hold too much (issue 10). Bodies are generated once per test process and served from memory.
//!
//! | case | body |
//! | --- | --- |
//! | `nested` | one item whose description is `<div>` × 100,000 + `x` + `</div>` × 100,000 (1.1 MB, in CDATA) |
//! | `items` | 1,000,000 empty `<item/>` (7 MB) |
//! | `json-items` | a JSON Feed of 1,000,000 items `{"id":"n"}` (16 MB; the test raises the body cap) |
//! | `title` | one item whose 9 MB title names every country of the region, over and over |
//! | `guids` | 331,141 items with only a `<guid>` (10 MB) |
//! | `laughs` | a DOCTYPE declaring nested entities (billion laughs), an item titled `&lol9;` |
//! | `bidi` | an item whose title and author open a U+202E / U+202B override and never close it |
//! | `wide` | 60 dated items with no word in common, each with a 4 KB description (for the published-document cap) |

use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::header;
use axum::response::Response;

/// The region's countries as outlets write them: a title naming them all lands on every country page.
pub const COUNTRIES: [&str; 14] = [
    "كازاخستان",
    "قرغيزستان",
    "طاجيكستان",
    "تركمانستان",
    "أوزبكستان",
    "أذربيجان",
    "أرمينيا",
    "جورجيا",
    "أبخازيا",
    "أوسيتيا الجنوبية",
    "الشيشان",
    "داغستان",
    "إنغوشيا",
    "ناغورنو كاراباخ",
];

/// How deep the `nested` description goes, how many items `items` and `guids` carry.
pub const NESTED_DEPTH: usize = 100_000;
pub const EMPTY_ITEMS: usize = 1_000_000;
pub const GUID_ITEMS: usize = 331_141;
pub const TITLE_BYTES: usize = 9_000_000;
pub const WIDE_ITEMS: usize = 60;

fn rss(prolog: &str, items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{prolog}<rss version=\"2.0\"><channel><title>hostile</title>\
         <link>http://hostile.test/</link><description>d</description>{items}</channel></rss>\n"
    )
}

fn now_rfc822(minutes_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)).to_rfc2822()
}

fn generate(case: &str) -> Option<String> {
    let now = now_rfc822(5);
    Some(match case {
        "nested" => {
            let desc = "<div>".repeat(NESTED_DEPTH) + "x" + &"</div>".repeat(NESTED_DEPTH);
            rss(
                "",
                &format!(
                    "<item><title>طاجيكستان تعلن خطة للطاقة</title><link>http://hostile.test/nested</link>\
                     <pubDate>{now}</pubDate><description><![CDATA[{desc}]]></description></item>"
                ),
            )
        }
        "items" => rss("", &"<item/>".repeat(EMPTY_ITEMS)),
        "json-items" => format!(
            "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{}]}}",
            (0..EMPTY_ITEMS)
                .map(|i| format!("{{\"id\":\"{i}\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
        "title" => {
            let words = COUNTRIES.join(" ") + " ";
            let title = words.repeat(TITLE_BYTES / words.len() + 1);
            rss(
                "",
                &format!(
                    "<item><title>{title}</title><link>http://hostile.test/title</link><pubDate>{now}</pubDate>\
                     </item>"
                ),
            )
        }
        "guids" => rss(
            "",
            &(0..GUID_ITEMS)
                .map(|i| format!("<item><guid>{i}</guid></item>"))
                .collect::<String>(),
        ),
        "laughs" => {
            let mut dtd = String::from("<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
            for i in 1..10 {
                let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
                dtd.push_str(&format!(
                    "<!ENTITY lol{i} \"{}\">\n",
                    format!("&{prev};").repeat(10)
                ));
            }
            dtd.push_str("]>\n");
            rss(
                &dtd,
                "<item><title>&lol9;</title><link>http://hostile.test/laughs</link></item>",
            )
        }
        "bidi" => rss(
            "",
            &format!(
                "<item><title>باكو \u{202E}تعلن خطة</title><author>desk@hostile.test (\u{202B}مراسل)</author>\
                 <link>http://hostile.test/bidi</link><pubDate>{now}</pubDate></item>"
            ),
        ),
        "wide" => rss(
            "",
            &(0..WIDE_ITEMS)
                .map(|i| {
                    // Words of its own in every item, so that no two of them are one story.
                    let words = |n: usize| (0..n).map(|k| format!("w{i}x{k} ")).collect::<String>();
                    format!(
                        "<item><title>{}</title><link>http://hostile.test/wide/{i}</link>\
                         <pubDate>{}</pubDate><description><![CDATA[<p>{}</p>]]></description></item>",
                        words(6),
                        now_rfc822(i as i64 * 7),
                        words(600)
                    )
                })
                .collect::<String>(),
        ),
        _ => return None,
    })
}

/// `/hostile/{case}`: see the module doc.
pub(super) async fn hostile(Path(case): Path<String>) -> Response {
    static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, Bytes>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let cached = cache.lock().unwrap().get(&case).cloned();
    let body = match cached {
        Some(body) => body,
        None => {
            let Some(text) = tokio::task::spawn_blocking({
                let case = case.clone();
                move || generate(&case)
            })
            .await
            .unwrap() else {
                return Response::builder().status(404).body(Body::empty()).unwrap();
            };
            let body = Bytes::from(text);
            // Cached: repeated fetches in one test process see the same document.
            cache.lock().unwrap().insert(case.clone(), body.clone());
            body
        }
    };
    let content_type = if case.starts_with("json") {
        "application/feed+json"
    } else {
        "application/rss+xml; charset=utf-8"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}
