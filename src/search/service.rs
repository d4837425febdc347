//! Search over HTTP: `/search?q=…` (the Arabic page) and `/search.xml|.atom|.json?q=…` (a feed for the topic).
//!
//! The server only reads: searches run on a read-only connection of their own. Rendered answers are kept in a
//! small cache (least recently used out, bounded in entries and bytes) that is emptied as soon as the store's
//! search generation moves — a round that stored, pruned or re-tagged items — so a popular query costs one search
//! per round and readers polling its feed get the same bytes, `ETag` and `Last-Modified` (hence `304`) until an
//! item that matches arrives. Feeds depend only on the stories (their date is the newest report's), never on the
//! clock; the page shows relative times, so a cached page is re-rendered after [`PAGE_TTL`] at the latest.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::publish::{self, FeedMeta, PageLink, SanitizeCache};
use crate::regions::Gazetteer;
use crate::site::{self, Document};
use crate::store::SearchReader;

/// How long a rendered page (with its "3 hours ago") is served from the cache at most.
pub(super) const PAGE_TTL: Duration = Duration::from_secs(300);
/// Most answers cached, and most bytes (all representations) they may hold.
const CACHE_ENTRIES: usize = 256;
const CACHE_BYTES: usize = 32 << 20;

/// What `/search…` path was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    Page,
    Rss,
    Atom,
    Json,
}

impl Format {
    /// The format served at `path`, if it is a search path.
    pub(crate) fn of_path(path: &str) -> Option<Format> {
        match path {
            "/search" => Some(Format::Page),
            "/search.xml" => Some(Format::Rss),
            "/search.atom" => Some(Format::Atom),
            "/search.json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The `q` parameter of a query string (form-encoded, `+` for spaces), whitespace runs collapsed.
pub(crate) fn query_param(query_string: Option<&str>) -> Option<String> {
    let q = url::form_urlencoded::parse(query_string?.as_bytes())
        .find(|(k, _)| k == "q")?
        .1;
    let q = q.split_whitespace().collect::<Vec<_>>().join(" ");
    (!q.is_empty()).then_some(q)
}

/// What a search request gets.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// The page or the feed (`200`, or `304` by its validators).
    Found(Document),
    /// A query that cannot run: `400` with this explanation (the page with the message, or plain text).
    BadQuery(Document),
}

/// The search side of the server: a read-only connection and the cache of rendered answers.
pub(crate) struct SearchService {
    reader: Mutex<SearchReader>,
    cache: Mutex<Cache>,
    gazetteer: Arc<Gazetteer>,
    /// Descriptions sanitized for the answers (`story_views` keeps what the last two answers used).
    sanitized: SanitizeCache,
}

impl SearchService {
    /// Opens a read-only connection to the (already migrated) database.
    pub(crate) fn new(database: &Path, gazetteer: Arc<Gazetteer>) -> Result<SearchService> {
        Ok(SearchService {
            reader: Mutex::new(SearchReader::open(database)?),
            cache: Mutex::new(Cache::default()),
            gazetteer,
            sanitized: SanitizeCache::default(),
        })
    }

    /// Answers one request (blocking: run it off the async threads). `Err` only when the database fails.
    pub(crate) fn answer(
        &self,
        config: &Config,
        format: Format,
        raw: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Answer> {
        let raw = raw.unwrap_or("");
        let reader = self
            .reader
            .lock()
            .map_err(|_| Error::Internal("search reader lock poisoned".into()))?;
        let generation = reader.generation()?;
        let key = (format, raw.to_string());
        {
            let mut cache = self.cache();
            if cache.generation != generation {
                cache.reset(generation);
            }
            if let Some(doc) = cache.get(&key) {
                return Ok(Answer::Found(doc));
            }
        }
        if raw.is_empty() {
            return Ok(match format {
                Format::Page => Answer::Found(self.page(config, "", Some(HINT), &[], &[], now)),
                _ => Answer::BadQuery(text(
                    "add the words to follow: /search.xml?q=WORDS (see /search for the query language)\n",
                    now,
                )),
            });
        }
        let query = match super::parse(raw, &self.gazetteer) {
            Ok(q) => q,
            Err(e) => {
                return Ok(Answer::BadQuery(match format {
                    Format::Page => {
                        let message = e.message_ar();
                        self.page(config, raw, Some(&message), &[], &[], now)
                    }
                    _ => text(&format!("bad query: {e}\n"), now),
                }))
            }
        };
        let hits = reader.search(&query, config.feed.max_items, &config.region_filtered_ids())?;
        drop(reader);
        let stories = super::hit_views(config, &self.gazetteer, hits, &self.sanitized);
        let mut doc = match format {
            Format::Page => {
                let none = format!("لا نتائج للبحث عن «{raw}».");
                let notice = stories.is_empty().then_some(none.as_str());
                self.page(config, raw, notice, &stories, &feed_links(config, raw), now)
            }
            _ => feed(config, format, raw, &stories),
        };
        doc.compress();
        self.cache()
            .put(generation, key, doc.clone(), format == Format::Page);
        Ok(Answer::Found(doc))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the cache cannot leave it inconsistent in a way that matters: at worst an entry.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn page(
        &self,
        config: &Config,
        raw: &str,
        notice: Option<&str>,
        stories: &[crate::model::StoryView],
        alternates: &[PageLink],
        now: DateTime<Utc>,
    ) -> Document {
        let path = format!("/search{}", encoded_q(raw));
        let meta = feed_meta(config, &config.feed.title, &path, &path);
        let html = publish::render_search_page(
            &meta,
            raw,
            notice,
            stories,
            alternates,
            &self.gazetteer.entities(),
            now,
        );
        Document::new(html, site::HTML_TYPE, now)
    }
}

/// Shown on `/search` without a query: the language in one line.
const HINT: &str =
    "اكتب كلمة أو أكثر. ضع العبارة بين علامتي تنصيص \"…\" لتطابق بالترتيب، واستعمل OR لأيٍّ من \
                    كلمتين، و‎-كلمة لاستبعادها، و‎country:kz لأخبار بلد واحد.";

/// `?q=…` form-encoded, or nothing for an empty query.
fn encoded_q(raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", raw)
        .finish();
    format!("?{q}")
}

fn feed_meta(config: &Config, title: &str, self_path: &str, page_path: &str) -> FeedMeta {
    FeedMeta {
        title: title.to_string(),
        description: config.feed.description.clone(),
        link: site::public_url(config, page_path),
        self_url: site::public_url(config, self_path),
        language: config.feed.language.clone(),
        websub_hub: None,
    }
}

const FEEDS: [(Format, &str, &str, &str); 3] = [
    (Format::Rss, "xml", "application/rss+xml", "RSS"),
    (Format::Atom, "atom", "application/atom+xml", "Atom"),
    (Format::Json, "json", "application/feed+json", "JSON Feed"),
];

fn topic_title(config: &Config, raw: &str) -> String {
    format!("{} — بحث: {raw}", config.feed.title)
}

/// The page's links to the topic's feeds.
fn feed_links(config: &Config, raw: &str) -> Vec<PageLink> {
    FEEDS
        .iter()
        .map(|(_, ext, mime, label)| PageLink {
            title: format!("{} ({label})", topic_title(config, raw)),
            href: format!("/search.{ext}{}", encoded_q(raw)),
            mime,
        })
        .collect()
}

/// The topic feed in `format`, dated by its newest report so that unchanged results give unchanged bytes.
fn feed(
    config: &Config,
    format: Format,
    raw: &str,
    stories: &[crate::model::StoryView],
) -> Document {
    let (_, ext, _, _) = FEEDS
        .iter()
        .find(|(f, ..)| *f == format)
        .expect("feed formats only");
    let meta = feed_meta(
        config,
        &topic_title(config, raw),
        &format!("/search.{ext}{}", encoded_q(raw)),
        &format!("/search{}", encoded_q(raw)),
    );
    let built = site::newest_report(stories);
    let (body, content_type) = match format {
        Format::Rss => (publish::render_rss(&meta, stories, built), site::RSS_TYPE),
        Format::Atom => (publish::render_atom(&meta, stories, built), site::ATOM_TYPE),
        _ => (publish::render_json(&meta, stories, built), site::JSON_TYPE),
    };
    Document::new(body, content_type, built)
}

fn text(message: &str, now: DateTime<Utc>) -> Document {
    Document::new(message.to_string(), "text/plain; charset=utf-8", now)
}

/// Rendered answers of the current search generation, least recently used evicted first.
#[derive(Default)]
struct Cache {
    generation: i64,
    entries: HashMap<(Format, String), Entry>,
    bytes: usize,
    clock: u64,
}

struct Entry {
    doc: Document,
    used: u64,
    /// Pages expire (relative times); feeds live as long as the generation.
    expires: Option<Instant>,
}

fn size(doc: &Document) -> usize {
    doc.held_bytes()
}

impl Cache {
    /// Forgets every answer: they were rendered from another generation of the store.
    fn reset(&mut self, generation: i64) {
        self.entries.clear();
        self.bytes = 0;
        self.generation = generation;
    }

    fn get(&mut self, key: &(Format, String)) -> Option<Document> {
        self.clock += 1;
        let entry = self.entries.get_mut(key)?;
        if entry.expires.is_some_and(|t| t <= Instant::now()) {
            let gone = self.entries.remove(key).expect("present");
            self.bytes -= size(&gone.doc);
            return None;
        }
        entry.used = self.clock;
        Some(entry.doc.clone())
    }

    fn put(&mut self, generation: i64, key: (Format, String), doc: Document, expires: bool) {
        if generation != self.generation || size(&doc) > CACHE_BYTES / 4 {
            return;
        }
        self.clock += 1;
        self.bytes += size(&doc);
        let entry = Entry {
            doc,
            used: self.clock,
            expires: expires.then(|| Instant::now() + PAGE_TTL),
        };
        if let Some(old) = self.entries.insert(key, entry) {
            self.bytes -= size(&old.doc);
        }
        while self.entries.len() > CACHE_ENTRIES || self.bytes > CACHE_BYTES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
                .expect("not empty while over a bound");
            let gone = self.entries.remove(&oldest).expect("present");
            self.bytes -= size(&gone.doc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> Document {
        Document::new("x".repeat(n), "text/plain", DateTime::<Utc>::UNIX_EPOCH)
    }

    #[test]
    fn query_param_decodes_form_encoding() {
        assert_eq!(
            query_param(Some("q=%D8%BA%D8%A7%D8%B2+%20kz&x=1")).as_deref(),
            Some("غاز kz")
        );
        assert_eq!(query_param(Some("q=++")), None);
        assert_eq!(query_param(None), None);
        assert_eq!(encoded_q("غاز \"x\""), "?q=%D8%BA%D8%A7%D8%B2+%22x%22");
    }

    #[test]
    fn cache_keeps_a_generation_and_evicts_least_recently_used() {
        let mut c = Cache::default();
        c.reset(1);
        let key = |s: &str| (Format::Rss, s.to_string());
        assert!(c.get(&key("a")).is_none());
        c.put(1, key("a"), doc(10), false);
        assert!(c.get(&key("a")).is_some());
        for i in 0..CACHE_ENTRIES {
            c.get(&key("a"));
            c.put(1, key(&i.to_string()), doc(10), false);
        }
        assert_eq!(c.entries.len(), CACHE_ENTRIES);
        assert!(c.get(&key("a")).is_some(), "recently used survives");
        assert!(c.get(&key("0")).is_none(), "least recently used is evicted");
        c.reset(2);
        assert!(
            c.get(&key("a")).is_none(),
            "a new generation empties the cache"
        );
        assert_eq!((c.entries.len(), c.bytes), (0, 0));
        c.put(1, key("late"), doc(10), false);
        assert!(
            c.entries.is_empty(),
            "an answer of an older generation is not kept"
        );
        c.put(2, key("page"), doc(10), true);
        c.entries.get_mut(&key("page")).unwrap().expires = Some(Instant::now());
        assert!(c.get(&key("page")).is_none(), "a page expires");
        assert_eq!(c.bytes, 0);
    }
}
