//! Feed discovery, the reading half: which feeds an HTML page advertises, and where sites usually hide one.
//!
//! A page advertises its feeds with `<link rel="alternate" type="application/rss+xml|atom+xml|feed+json" href>`
//! (RSS 1.0's `application/rdf+xml` and the loose `application/json`, `text/xml` also occur). Relative `href`s are
//! resolved against the page (or its `<base href>`). When a page advertises nothing, the usual places are tried:
//! `/feed/`, `/rss`, `/feed.xml`, `/index.xml`, `/rss.xml`, `/atom.xml`…, under the page's own directory first (an
//! Arabic edition at `/ar/` usually has its feed at `/ar/feed/`) and then at the site's root.
//!
//! Fetching and checking the candidates is the pipeline's job (it goes through the same fetcher as every poll).

use scraper::{Html, Selector};
use url::Url;

use super::map::absolute_http;

/// A feed a page advertises, with what the page says about its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeedLink {
    pub url: Url,
    pub title: Option<String>,
    /// `hreflang` of the link, else `lang` of the link.
    pub lang: Option<String>,
}

impl FeedLink {
    /// True when the page marks this feed as Arabic: its `hreflang`/`lang` is `ar…`, or its title is in Arabic.
    pub(crate) fn looks_arabic(&self) -> bool {
        self.lang.as_deref().is_some_and(is_arabic_tag)
            || self.title.as_deref().is_some_and(is_mostly_arabic)
    }
}

const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
    "application/json",
    "application/xml",
    "text/xml",
];

/// The feeds a page advertises, in document order, each once.
pub(crate) fn advertised_feeds(html: &str, page: &Url) -> Vec<FeedLink> {
    let document = Html::parse_document(html);
    let base_sel = Selector::parse("base[href]").expect("a constant selector");
    let base = document
        .select(&base_sel)
        .next()
        .and_then(|b| page.join(b.value().attr("href")?.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let links = Selector::parse("link[href]").expect("a constant selector");
    let mut found: Vec<FeedLink> = Vec::new();
    for link in document.select(&links) {
        let el = link.value();
        let alternate = el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let feed_type = el.attr("type").map(|t| {
            let t = t
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            FEED_TYPES.contains(&t.as_str())
        });
        if !alternate || feed_type != Some(true) {
            continue;
        }
        let Some(url) = el
            .attr("href")
            .and_then(|h| absolute_http(h, &base))
            .and_then(|u| Url::parse(&u).ok())
        else {
            continue;
        };
        if found.iter().any(|f| f.url == url) {
            continue;
        }
        found.push(FeedLink {
            url,
            title: el
                .attr("title")
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            lang: el
                .attr("hreflang")
                .or_else(|| el.attr("lang"))
                .map(|l| l.trim().to_owned()),
        });
    }
    found
}

/// Paths where sites commonly serve a feed without advertising it.
const USUAL_PATHS: &[&str] = &[
    "feed/",
    "rss",
    "feed.xml",
    "index.xml",
    "rss.xml",
    "atom.xml",
    "feed",
    "rss/",
    "feed.json",
];

/// The usual feed URLs for a page: under the page's directory (when it is not the root), then at the root.
pub(crate) fn usual_feed_urls(page: &Url) -> Vec<Url> {
    let mut dirs = Vec::new();
    let path = page.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    if dir.len() > 1 {
        dirs.push(dir.to_owned());
    }
    // A page such as /ar (no trailing slash) is a directory too.
    if !path.ends_with('/')
        && !path.rsplit('/').next().unwrap_or("").contains('.')
        && path.len() > 1
    {
        dirs.insert(0, format!("{path}/"));
    }
    dirs.push("/".to_owned());
    let mut urls: Vec<Url> = Vec::new();
    for dir in dirs {
        for p in USUAL_PATHS {
            if let Ok(u) = page.join(&format!("{dir}{p}")) {
                if !urls.contains(&u) && u != *page {
                    urls.push(u);
                }
            }
        }
    }
    urls
}

/// `ar`, `ar-SA`, `ar_EG`…
pub(crate) fn is_arabic_tag(tag: &str) -> bool {
    let tag = tag.trim().to_ascii_lowercase();
    tag == "ar" || tag.starts_with("ar-") || tag.starts_with("ar_")
}

/// More than half of the letters are Arabic script.
pub(crate) fn is_mostly_arabic(text: &str) -> bool {
    let (mut arabic, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
        {
            arabic += 1;
        }
    }
    letters > 0 && arabic * 2 > letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_advertised_feeds_resolved_against_base() {
        let page = r#"<html><head>
            <link rel="stylesheet" href="/style.css">
            <link rel="alternate" type="application/rss+xml" title="English news" hreflang="en" href="/en/rss">
            <link rel="alternate" type="application/atom+xml" title="أخبار بالعربية" href="rss.xml?lang=ar">
            <link rel="alternate" type="application/feed+json" href="https://cdn.example/feed.json">
            <link rel="alternate" hreflang="ru" href="/ru/">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            <link rel="ALTERNATE home" type="application/rss+xml; charset=utf-8" href="/en/rss">
        </head></html>"#;
        let base = Url::parse("https://agency.example/ar/index.html").unwrap();
        let feeds = advertised_feeds(page, &base);
        let urls: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://agency.example/en/rss",
                "https://agency.example/ar/rss.xml?lang=ar",
                "https://cdn.example/feed.json"
            ]
        );
        assert!(!feeds[0].looks_arabic());
        assert!(feeds[1].looks_arabic());
        let with_base = r#"<head><base href="https://other.example/x/"><link rel=alternate type=application/rss+xml href=feed></head>"#;
        assert_eq!(
            advertised_feeds(with_base, &base)[0].url.as_str(),
            "https://other.example/x/feed"
        );
    }

    #[test]
    fn usual_places_under_the_page_then_the_root() {
        let urls = usual_feed_urls(&Url::parse("https://agency.example/ar").unwrap());
        assert_eq!(urls[0].as_str(), "https://agency.example/ar/feed/");
        assert!(urls
            .iter()
            .any(|u| u.as_str() == "https://agency.example/feed/"));
        let root = usual_feed_urls(&Url::parse("https://site.example/").unwrap());
        assert_eq!(root[0].as_str(), "https://site.example/feed/");
        assert_eq!(root.len(), USUAL_PATHS.len());
    }

    #[test]
    fn language_hints() {
        assert!(is_arabic_tag("ar-SA") && is_arabic_tag("AR") && !is_arabic_tag("arn"));
        assert!(is_mostly_arabic("وكالة أذرتاج - RSS") && !is_mostly_arabic("AzerTAc news"));
    }
}
