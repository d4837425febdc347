//! `kind = "sitemap"` sources: a Google News sitemap (`<urlset>` whose `<url>` entries carry `<news:news>` with
//! `news:title`, `news:publication_date` and `news:publication/news:language`), or a sitemap index
//! (`<sitemapindex>`) that points to news sitemaps.
//!
//! quick-xml reads the document as a stream of events; elements are matched by local name, so whatever prefix a
//! site binds the news namespace to works. The body is decoded first like a feed ([`super::encoding::decode`]).
//! Which entries are kept (the last N days, the Arabic ones) is decided by [`news_items`], not here, so that the
//! parser reports what the document holds.

use chrono::{DateTime, Utc};
use quick_xml::events::Event;
use url::Url;

use super::arabic_date::machine_date;
use super::map::absolute_http;
use crate::model::ParsedItem;
use crate::text::plain_text;

/// One `<url>` of a news sitemap.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct NewsEntry {
    pub loc: String,
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub language: Option<String>,
}

/// One `<sitemap>` of a sitemap index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexEntry {
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
}

/// What a sitemap document is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sitemap {
    Urls(Vec<NewsEntry>),
    Index(Vec<IndexEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SitemapError {
    #[error("the response body is empty")]
    Empty,
    #[error("not a sitemap: the root element is <{0}>, not <urlset> or <sitemapindex>")]
    NotASitemap(String),
    #[error("ill-formed sitemap XML: {0}")]
    Malformed(String),
}

/// Reads a sitemap or sitemap index.
pub(crate) fn parse_sitemap(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Sitemap, SitemapError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(SitemapError::Empty);
    }
    let text = super::encoding::decode(body, content_type).text;
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut root: Option<String> = None;
    // The path of local names from the root to the current element.
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut urls = Vec::new();
    let mut index = Vec::new();
    let mut entry = NewsEntry::default();
    let mut lastmod: Option<DateTime<Utc>> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            SitemapError::Malformed(format!("at byte {}: {e}", reader.error_position()))
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if root.is_none() {
                    if name != "urlset" && name != "sitemapindex" {
                        return Err(SitemapError::NotASitemap(name));
                    }
                    root = Some(name.clone());
                }
                if matches!(name.as_str(), "url" | "sitemap") && path.len() == 1 {
                    entry = NewsEntry::default();
                    lastmod = None;
                }
                path.push(name);
                text_buf.clear();
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if root.is_none() {
                    return match name.as_str() {
                        "urlset" => Ok(Sitemap::Urls(Vec::new())),
                        "sitemapindex" => Ok(Sitemap::Index(Vec::new())),
                        _ => Err(SitemapError::NotASitemap(name)),
                    };
                }
            }
            Event::Text(t) => text_buf.push_str(&t.xml10_content()),
            Event::CData(t) => text_buf.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text_buf.push(c);
                } else {
                    let name: &str = r.as_ref();
                    match quick_xml::escape::resolve_predefined_entity(name) {
                        Some(resolved) => text_buf.push_str(resolved),
                        None => {
                            text_buf.push('&');
                            text_buf.push_str(name);
                            text_buf.push(';');
                        }
                    }
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else {
                    break;
                };
                let value = text_buf.trim().to_owned();
                let parent = path.last().map(String::as_str).unwrap_or("");
                match (name.as_str(), parent) {
                    ("loc", "url" | "sitemap") => entry.loc = value,
                    ("lastmod", "url" | "sitemap") => lastmod = machine_date(&value),
                    ("title", "news") => {
                        entry.title = Some(plain_text(&value)).filter(|t| !t.is_empty())
                    }
                    ("publication_date", "news") => entry.published = machine_date(&value),
                    ("language", "publication") => {
                        entry.language = Some(value.to_ascii_lowercase()).filter(|l| !l.is_empty())
                    }
                    ("url", _) if path.len() == 1 => {
                        let mut done = std::mem::take(&mut entry);
                        done.published = done.published.or(lastmod);
                        if !done.loc.is_empty() {
                            urls.push(done);
                        }
                    }
                    ("sitemap", _) if path.len() == 1 && !entry.loc.is_empty() => {
                        index.push(IndexEntry {
                            loc: std::mem::take(&mut entry.loc),
                            lastmod,
                        });
                    }
                    _ => {}
                }
                text_buf.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match root.as_deref() {
        Some("urlset") => Ok(Sitemap::Urls(urls)),
        Some(_) => Ok(Sitemap::Index(index)),
        None => Err(SitemapError::NotASitemap("(none)".into())),
    }
}

/// The entries worth publishing: with a title and an http(s) link, published at or after `since` (entries without
/// any date are left out: a news sitemap must date its entries), and — when the sitemap marks any entry Arabic —
/// only the Arabic ones (agencies often list every language edition in one sitemap).
pub(crate) fn news_items(
    entries: Vec<NewsEntry>,
    base: &Url,
    since: DateTime<Utc>,
) -> Vec<ParsedItem> {
    let is_arabic = |e: &NewsEntry| {
        e.language
            .as_deref()
            .is_some_and(|l| l == "ar" || l.starts_with("ar-"))
    };
    let any_arabic = entries.iter().any(is_arabic);
    entries
        .into_iter()
        .filter(|e| !any_arabic || is_arabic(e))
        .filter(|e| e.published.is_some_and(|p| p >= since))
        .filter_map(|e| {
            Some(ParsedItem {
                link: Some(absolute_http(&e.loc, base)?),
                title: e.title?,
                published: e.published,
                ..ParsedItem::default()
            })
        })
        .collect()
}

/// Which children of a sitemap index to read: those modified since `since` (or undated), news sitemaps first, at
/// most `max` of them, as absolute http(s) URLs.
pub(crate) fn index_children(
    entries: &[IndexEntry],
    base: &Url,
    since: DateTime<Utc>,
    max: usize,
) -> Vec<Url> {
    let mut recent: Vec<&IndexEntry> = entries
        .iter()
        .filter(|e| e.lastmod.is_none_or(|m| m >= since))
        .collect();
    // Stable: news sitemaps first, the index's own order otherwise.
    recent.sort_by_key(|e| !e.loc.to_ascii_lowercase().contains("news"));
    recent
        .into_iter()
        .filter_map(|e| absolute_http(&e.loc, base).and_then(|u| Url::parse(&u).ok()))
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:n="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://agency.example/ar/news/1</loc>
  <n:news><n:publication><n:name>الوكالة</n:name><n:language>ar</n:language></n:publication>
   <n:publication_date>2026-11-28T09:00:00+04:00</n:publication_date>
   <n:title>أستانا &amp; طشقند توقعان اتفاقية</n:title></n:news></url>
 <url><loc>https://agency.example/en/news/1</loc>
  <n:news><n:publication><n:name>Agency</n:name><n:language>en</n:language></n:publication>
   <n:publication_date>2026-11-28T09:00:00+04:00</n:publication_date><n:title>Astana and Tashkent sign</n:title></n:news></url>
 <url><loc>https://agency.example/ar/news/0</loc>
  <n:news><n:publication><n:name>الوكالة</n:name><n:language>ar</n:language></n:publication>
   <n:publication_date>2026-11-20</n:publication_date><n:title><![CDATA[خبر قديم]]></n:title></n:news></url>
</urlset>"#;

    #[test]
    fn reads_news_entries_whatever_the_prefix() {
        let Sitemap::Urls(entries) = parse_sitemap(NEWS.as_bytes(), None).unwrap() else {
            panic!("a urlset")
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[0].title.as_deref(),
            Some("أستانا & طشقند توقعان اتفاقية")
        );
        assert_eq!(entries[0].language.as_deref(), Some("ar"));
        assert_eq!(
            entries[0].published,
            Some(Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap())
        );
        assert_eq!(entries[2].title.as_deref(), Some("خبر قديم"));
        let base = Url::parse("https://agency.example/news.xml").unwrap();
        let since = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let items = news_items(entries, &base, since);
        assert_eq!(
            items.len(),
            1,
            "the English and the old entry are left out: {items:?}"
        );
        assert_eq!(
            items[0].link.as_deref(),
            Some("https://agency.example/ar/news/1")
        );
    }

    #[test]
    fn reads_an_index_and_picks_recent_news_children() {
        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <sitemap><loc>https://agency.example/sitemap-2019.xml</loc><lastmod>2019-01-01</lastmod></sitemap>
          <sitemap><loc>https://agency.example/sitemap-pages.xml</loc></sitemap>
          <sitemap><loc>/news-sitemap.xml</loc><lastmod>2026-11-28T08:00:00Z</lastmod></sitemap>
        </sitemapindex>"#;
        let Sitemap::Index(entries) = parse_sitemap(index.as_bytes(), None).unwrap() else {
            panic!("an index")
        };
        assert_eq!(entries.len(), 3);
        let base = Url::parse("https://agency.example/sitemap.xml").unwrap();
        let since = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
        let children: Vec<String> = index_children(&entries, &base, since, 5)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            children,
            [
                "https://agency.example/news-sitemap.xml",
                "https://agency.example/sitemap-pages.xml"
            ]
        );
    }

    #[test]
    fn other_documents_are_errors() {
        assert_eq!(parse_sitemap(b"", None), Err(SitemapError::Empty));
        assert_eq!(
            parse_sitemap(b"<rss version=\"2.0\"><channel/></rss>", None),
            Err(SitemapError::NotASitemap("rss".into()))
        );
        assert!(matches!(
            parse_sitemap(b"<urlset><url><loc>x</url></urlset>", None),
            Err(SitemapError::Malformed(_))
        ));
    }
}
