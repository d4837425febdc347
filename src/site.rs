//! The documents qafila serves and writes: rendered once per change from the stored stories, compressed once
//! (gzip and brotli), then handed out as bytes from memory.
//!
//! A feed's `Last-Modified` (and `lastBuildDate`) is the time of the newest report it contains, not the time of
//! rendering, and its `ETag` is a hash of its bytes: so re-rendering unchanged content — after every poll round or
//! a restart — gives the very same bytes and validators, and readers' conditional requests keep answering `304`.
//!
//! Paths: `/feed.xml`, `/feed.atom`, `/feed.json`, `/` (the Arabic page), `/country/{id}` and
//! `/country/{id}.xml|.atom|.json` for each gazetteer entity, `/sources.opml`. The day archive (`/day/…`) is
//! rendered on request instead (`archive`): the home page links to the day of its oldest story.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::identity;
use crate::model::{EntityTag, StoryView};
use crate::publish::{self, FeedMeta, OpmlSource, PageLink};
use crate::regions::Gazetteer;

pub(crate) const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub(crate) const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
pub(crate) const JSON_TYPE: &str = "application/feed+json; charset=utf-8";
pub(crate) const HTML_TYPE: &str = "text/html; charset=utf-8";
pub(crate) const OPML_TYPE: &str = "text/x-opml; charset=utf-8";

/// One rendered document, with its compressed forms made once, when first wanted.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub body: Arc<[u8]>,
    /// Shared by every clone: a form made for one request serves all later ones, and a document that did not
    /// change between publishes keeps the forms already made.
    compressed: Arc<Compressed>,
    pub content_type: &'static str,
    /// Strong validator of the uncompressed bytes (quoted); compressed forms add a suffix.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// `Link` header: the WebSub hub and the feed's own URL, for feeds when a hub is configured.
    pub link: Option<String>,
}

/// A document's gzip and brotli forms, each made at most once.
#[derive(Debug, Default)]
struct Compressed {
    gzip: OnceLock<Arc<[u8]>>,
    brotli: OnceLock<Arc<[u8]>>,
}

impl Document {
    pub(crate) fn new(
        body: String,
        content_type: &'static str,
        last_modified: DateTime<Utc>,
    ) -> Document {
        let etag = format!("\"{}\"", identity::hash_hex(&[&body]));
        Document {
            body: Arc::from(body.into_bytes()),
            compressed: Arc::default(),
            content_type,
            etag,
            last_modified,
            link: None,
        }
    }

    /// The gzip form (made now if it was not yet: CPU work, call it off the async threads).
    pub(crate) fn gzip(&self) -> Arc<[u8]> {
        let made = self.compressed.gzip.get_or_init(|| gzip(&self.body).into());
        made.clone()
    }

    /// The brotli form (made now if it was not yet: CPU work, call it off the async threads).
    pub(crate) fn brotli(&self) -> Arc<[u8]> {
        let made = self
            .compressed
            .brotli
            .get_or_init(|| brotli(&self.body).into());
        made.clone()
    }

    /// Whether the gzip (`brotli = false`) or brotli form is made already.
    pub(crate) fn has_compressed(&self, brotli: bool) -> bool {
        match brotli {
            true => self.compressed.brotli.get().is_some(),
            false => self.compressed.gzip.get().is_some(),
        }
    }

    /// The bytes it holds: the body and the compressed forms made so far.
    pub(crate) fn held_bytes(&self) -> usize {
        let made = |form: &OnceLock<Arc<[u8]>>| form.get().map_or(0, |f| f.len());
        self.body.len() + made(&self.compressed.gzip) + made(&self.compressed.brotli)
    }

    /// Makes both compressed forms now.
    pub(crate) fn compress(&mut self) {
        self.gzip();
        self.brotli();
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("writing to memory");
    out
}

/// The documents by URL path, swapped whole after each publish so readers never see a half-updated set.
#[derive(Default)]
pub(crate) struct Site {
    docs: RwLock<Arc<HashMap<String, Document>>>,
    /// The ETag of the RSS feed last written to `[feed] output`: a failed write is retried at the next publish
    /// even when the feed has not changed since.
    written: std::sync::Mutex<Option<String>>,
}

impl Site {
    pub(crate) fn get(&self, path: &str) -> Option<Document> {
        self.docs.read().expect("site lock").get(path).cloned()
    }

    /// Whether a publish has filled the site yet.
    pub(crate) fn is_published(&self) -> bool {
        !self.docs.read().expect("site lock").is_empty()
    }

    fn snapshot(&self) -> Arc<HashMap<String, Document>> {
        self.docs.read().expect("site lock").clone()
    }

    fn replace(&self, docs: HashMap<String, Document>) {
        *self.docs.write().expect("site lock") = Arc::new(docs);
    }
}

/// The feed's metadata from the config, for the feed at `path` with `title`.
fn meta(config: &Config, title: &str, path: &str) -> FeedMeta {
    FeedMeta {
        title: title.to_string(),
        description: config.feed.description.clone(),
        link: config.feed.link.to_string(),
        self_url: public_url(config, path),
        language: config.feed.language.clone(),
        websub_hub: config.feed.websub_hub.as_ref().map(|h| h.to_string()),
    }
}

/// The public URL of `path`: `[feed] self_url` is the RSS feed's URL, the other documents live beside it.
pub(crate) fn public_url(config: &Config, path: &str) -> String {
    let self_url = &config.feed.self_url;
    if path == "/feed.xml" {
        return self_url.to_string();
    }
    match self_url.join(path.trim_start_matches('/')) {
        Ok(u) => u.to_string(),
        Err(_) => path.to_string(),
    }
}

/// The time of the newest report among the stories (the epoch for an empty feed, which never changes either).
pub(crate) fn newest_report(stories: &[StoryView]) -> DateTime<Utc> {
    stories
        .iter()
        .flat_map(|s| std::iter::once(&s.lead).chain(&s.also))
        .map(|r| r.published)
        .max()
        .unwrap_or_default()
}

/// One story list published in every format: the whole feed, or one country's slice.
struct Slice<'a> {
    /// Path of the feeds without extension (`/feed`, `/country/kz`).
    feeds: String,
    /// Path of the HTML page (`/`, `/country/kz`).
    page: String,
    /// The feeds' title.
    title: String,
    /// The page's heading.
    heading: String,
    stories: &'a [StoryView],
    /// Whether the page ends with a link into the day archive (`/day/…` holds every story, not one country's).
    archive_link: bool,
}

/// Renders a slice's three feed formats and its page into `docs`.
fn render_slice(
    docs: &mut HashMap<String, Document>,
    config: &Config,
    entities: &[EntityTag],
    slice: &Slice,
    now: DateTime<Utc>,
) {
    let (title, stories) = (slice.title.as_str(), slice.stories);
    let built = newest_report(stories);
    let max_bytes = config.limits.max_document_bytes;
    let feeds = [
        (
            "xml",
            RSS_TYPE,
            "application/rss+xml",
            "RSS",
            publish::render_rss as Renderer,
        ),
        (
            "atom",
            ATOM_TYPE,
            "application/atom+xml",
            "Atom",
            publish::render_atom,
        ),
        (
            "json",
            JSON_TYPE,
            "application/feed+json",
            "JSON Feed",
            publish::render_json,
        ),
    ];
    let mut alternates = Vec::new();
    for (ext, content_type, mime, label, render) in feeds {
        let path = format!("{}.{ext}", slice.feeds);
        let feed_meta = meta(config, title, &path);
        let body = render_within(max_bytes, &path, stories, |s| render(&feed_meta, s, built));
        let mut doc = Document::new(body, content_type, built);
        if let Some(hub) = &feed_meta.websub_hub {
            doc.link = Some(format!(
                "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
                feed_meta.self_url
            ));
        }
        docs.insert(path.clone(), doc);
        alternates.push(PageLink {
            title: format!("{title} ({label})"),
            href: path,
            mime,
        });
    }
    let page_meta = meta(config, &config.feed.title, &slice.page);
    let page = render_within(max_bytes, &slice.page, stories, |s| {
        let older = slice.archive_link.then(|| publish::older_than(s)).flatten();
        let extras = publish::PageExtras {
            pager: older.as_ref(),
            ..publish::PageExtras::default()
        };
        publish::render_page(
            &page_meta,
            &slice.heading,
            s,
            &alternates,
            entities,
            now,
            &extras,
        )
    });
    docs.insert(slice.page.clone(), Document::new(page, HTML_TYPE, now));
}

type Renderer = fn(&FeedMeta, &[StoryView], DateTime<Utc>) -> String;

/// What a publish did.
#[derive(Debug)]
pub(crate) struct Published {
    /// The public URLs of the feeds whose content changed since the previous publish of this process (none on the
    /// first), for WebSub pings.
    pub changed_feeds: Vec<String>,
    /// Whether `[feed] output` could be written. The served documents are up to date either way.
    pub output: Result<()>,
}

/// The document `render` makes of the newest stories that fit in `max_bytes` (`[limits] max_document_bytes`): all
/// of them normally; when they are too large, fewer, estimated from the size of the last try (a few renders at
/// most). Readers are better served by a shorter feed than by one so large that they give up on it.
pub(crate) fn render_within(
    max_bytes: usize,
    path: &str,
    stories: &[StoryView],
    render: impl Fn(&[StoryView]) -> String,
) -> String {
    let mut n = stories.len();
    loop {
        let body = render(&stories[..n]);
        if body.len() <= max_bytes || n == 0 {
            if n < stories.len() {
                tracing::warn!(
                    path,
                    stories = n,
                    left_out = stories.len() - n,
                    bytes = body.len(),
                    "document over [limits] max_document_bytes: the oldest stories were left out"
                );
            }
            return body;
        }
        let estimate = (n as u128 * max_bytes as u128 / body.len() as u128) as usize;
        n = estimate.min(n - 1);
    }
}

/// Renders every document from the stories (newest first, at least `max_items` of them when there are so many),
/// swaps the set served from memory, then writes the RSS feed to `[feed] output` atomically.
///
/// Serving never depends on the file: an unwritable output (full disk, removed directory) is reported in
/// [`Published::output`] after the new documents are already served, and retried at the next rebuild.
pub(crate) fn rebuild(
    site: &Site,
    config: &Config,
    gazetteer: &Gazetteer,
    stories: &[StoryView],
    now: DateTime<Utc>,
) -> Result<Published> {
    let max = config.feed.max_items;
    let entities = gazetteer.entities();
    let mut docs = HashMap::new();
    let main = Slice {
        feeds: "/feed".into(),
        page: "/".into(),
        title: config.feed.title.clone(),
        heading: "آخر الأخبار".into(),
        stories: &stories[..stories.len().min(max)],
        archive_link: true,
    };
    render_slice(&mut docs, config, &entities, &main, now);
    for entity in &entities {
        let selected: Vec<StoryView> = stories
            .iter()
            .filter(|s| s.entities.iter().any(|e| e.id == entity.id))
            .take(max)
            .cloned()
            .collect();
        let path = format!("/country/{}", entity.id);
        let slice = Slice {
            feeds: path.clone(),
            page: path,
            title: format!("{} — {}", config.feed.title, entity.name),
            heading: format!("أخبار {}", entity.name),
            stories: &selected,
            archive_link: false,
        };
        render_slice(&mut docs, config, &entities, &slice, now);
    }
    let opml_time = DateTime::<Utc>::UNIX_EPOCH; // the list changes with the config, not the clock
    let opml = sources_opml(config, opml_time);
    docs.insert("/sources.opml".into(), Document::new(opml, OPML_TYPE, now));

    let old = site.snapshot();
    let mut changed_feeds = Vec::new();
    for (path, doc) in &docs {
        let is_feed = doc.content_type != HTML_TYPE && doc.content_type != OPML_TYPE;
        if is_feed && !old.is_empty() && old.get(path).is_none_or(|o| o.etag != doc.etag) {
            changed_feeds.push(public_url(config, path));
        }
    }
    changed_feeds.sort();
    // Unchanged documents keep their old compressed forms and Last-Modified (conditional requests stay cheap).
    // Of the changed ones only the main feeds and page, which nearly every reader asks for, are compressed here
    // (gzip-9 and brotli-9 of ~200 documents was a fifth of a poll round's CPU); a country slice is compressed on
    // its first request in each coding, so the many that nobody reads cost neither the time nor the memory.
    for (path, doc) in docs.iter_mut() {
        match old.get(path).filter(|p| p.etag == doc.etag) {
            Some(previous) => *doc = previous.clone(),
            None if MAIN_DOCUMENTS.contains(&path.as_str()) => doc.compress(),
            None => {}
        }
    }
    let rss = docs["/feed.xml"].clone();
    site.replace(docs);
    let output = &config.feed.output;
    let mut written = site.written.lock().unwrap_or_else(|e| e.into_inner());
    let result = if written.as_deref() != Some(rss.etag.as_str()) || !output.exists() {
        *written = None;
        write_atomically(output, &rss.body).map(|()| *written = Some(rss.etag.clone()))
    } else {
        Ok(())
    };
    Ok(Published {
        changed_feeds,
        output: result,
    })
}

/// The documents compressed as soon as they are rendered: the merged feed in each format and its page.
const MAIN_DOCUMENTS: [&str; 4] = ["/feed.xml", "/feed.atom", "/feed.json", "/"];

/// `qafila poll`: renders the merged RSS feed alone — the only document a poll keeps — and writes it to
/// `[feed] output` atomically. `stories` are the newest first (`max_items` of them are enough); the bytes are
/// those the daemon writes for the same stories.
pub(crate) fn write_feed_file(config: &Config, stories: &[StoryView]) -> Result<()> {
    let stories = &stories[..stories.len().min(config.feed.max_items)];
    let path = "/feed.xml";
    let feed_meta = meta(config, &config.feed.title, path);
    let built = newest_report(stories);
    let body = render_within(config.limits.max_document_bytes, path, stories, |s| {
        publish::render_rss(&feed_meta, s, built)
    });
    write_atomically(&config.feed.output, body.as_bytes())
}

/// The enabled sources as an OPML 2.0 subscription list: `/sources.opml` and `qafila export-opml`.
pub(crate) fn sources_opml(config: &Config, built_at: DateTime<Utc>) -> String {
    let sources: Vec<OpmlSource> = config
        .enabled_sources()
        .map(|s| OpmlSource {
            id: s.id().to_string(),
            name: s.name.clone(),
            // Credentials in a source URL stay in the config and the fetch: never published.
            url: crate::redact::redacted(&s.url).to_string(),
            site: None,
        })
        .collect();
    publish::render_opml(&config.feed.title, &sources, built_at)
}

/// The guids of every story some published document carries: the main feed's and each country slice's newest
/// `max_items`. Retention must keep these.
pub(crate) fn published_guids(
    config: &Config,
    gazetteer: &Gazetteer,
    stories: &[StoryView],
) -> Vec<String> {
    let max = config.feed.max_items;
    let mut guids: Vec<String> = stories.iter().take(max).map(|s| s.guid.clone()).collect();
    for entity in gazetteer.entities() {
        let slice = stories
            .iter()
            .filter(|s| s.entities.iter().any(|e| e.id == entity.id))
            .take(max);
        guids.extend(slice.map(|s| s.guid.clone()));
    }
    guids.sort();
    guids.dedup();
    guids
}

/// How many stories to read from the store so that every country slice can be filled.
pub(crate) fn stories_needed(config: &Config) -> usize {
    config.feed.max_items.saturating_mul(10).max(500)
}

/// Writes to a temporary file beside `path`, syncs it and renames it over `path`, so that a reader of the file or
/// a crash never sees half a feed.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| Error::WriteOutput {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    if written.is_err() {
        // A full disk must not also collect half-written temporary files.
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

#[cfg(test)]
#[path = "site_tests.rs"]
mod tests;
