//! The documents qafila serves and writes: rendered once per change from the stored stories, then handed out as
//! bytes from memory.
//!
//! A document's `Last-Modified` (and the feed's `lastBuildDate`) is the time of the newest report it contains, not
//! the time of rendering, and its `ETag` is a hash of its bytes: so re-rendering unchanged content — after every
//! poll round or a restart — gives the very same bytes and validators, and readers' conditional requests keep
//! answering `304`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::identity;
use crate::model::StoryView;
use crate::publish::{self, FeedMeta};

/// One rendered document.
#[derive(Debug, Clone)]
pub struct Document {
    pub body: Arc<[u8]>,
    pub content_type: &'static str,
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

impl Document {
    fn new(body: String, content_type: &'static str, last_modified: DateTime<Utc>) -> Document {
        let etag = format!("\"{}\"", identity::hash_hex(&[&body]));
        Document {
            body: Arc::from(body.into_bytes()),
            content_type,
            etag,
            last_modified,
        }
    }
}

pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";

/// The documents by URL path, swapped whole after each publish so readers never see a half-updated set.
#[derive(Default)]
pub struct Site {
    docs: RwLock<Arc<HashMap<String, Document>>>,
}

impl Site {
    pub fn get(&self, path: &str) -> Option<Document> {
        self.docs.read().expect("site lock").get(path).cloned()
    }

    fn replace(&self, docs: HashMap<String, Document>) {
        *self.docs.write().expect("site lock") = Arc::new(docs);
    }
}

/// The feed's metadata from the config.
pub fn feed_meta(config: &Config) -> FeedMeta {
    FeedMeta {
        title: config.feed.title.clone(),
        description: config.feed.description.clone(),
        link: config.feed.link.get_ref().clone(),
        self_url: config.feed.self_url.get_ref().clone(),
        language: config.feed.language.clone(),
        websub_hub: config.feed.websub_hub.as_ref().map(|h| h.get_ref().clone()),
    }
}

/// The time of the newest report among the stories (the epoch for an empty feed, which never changes either).
pub fn newest_report(stories: &[StoryView]) -> DateTime<Utc> {
    stories
        .iter()
        .flat_map(|s| std::iter::once(&s.lead).chain(&s.also))
        .map(|r| r.published)
        .max()
        .unwrap_or_default()
}

/// Renders every document from the stories, writes the RSS feed to `[feed] output` atomically, and swaps the set
/// served from memory. Returns whether the main feed changed.
pub fn publish(site: &Site, config: &Config, stories: &[StoryView]) -> Result<bool> {
    let built = newest_report(stories);
    let rss = Document::new(
        publish::render_rss(&feed_meta(config), stories, built),
        RSS_TYPE,
        built,
    );
    let changed = site.get("/feed.xml").is_none_or(|old| old.etag != rss.etag);
    let output = &config.feed.output;
    if changed || !output.exists() {
        write_atomically(output, &rss.body)?;
    }
    let mut docs = HashMap::new();
    docs.insert("/feed.xml".to_string(), rss);
    site.replace(docs);
    Ok(changed)
}

/// Writes to a temporary file beside `path`, syncs it and renames it over `path`, so that a reader of the file or
/// a crash never sees half a feed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let err = |source| Error::WriteOutput {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(err)?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
