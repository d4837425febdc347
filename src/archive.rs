//! The day archive over HTTP: `/day/YYYY-MM-DD` is the Arabic page of that UTC day's stories, so a reader can go
//! back past the home page, one day at a time.
//!
//! A day holds the stories *published* that day (the date every page and feed shows for a story), filtered exactly
//! as the main feed is (the region filter of `region_filter` sources), newest first. Its links lead to the nearest
//! older and newer days **that have stories**, not to the calendar's neighbours: a reader who taps "previous day"
//! wants news, and quiet days (a holiday, the daemon stopped for a week) would otherwise be dead ends to click
//! through one by one; the link names the date it leads to, so a skipped day is visible. An empty day inside the
//! archive (between its first story and today) is still a page, saying so with both links; a day before the first
//! story or after today (UTC) is `404` (tomorrow only until a story dated minutes ahead lands on it), and a path
//! that is not a date is `400` with the form to use.
//!
//! The server only reads: every day page comes from one read transaction on a read-only connection
//! ([`DayReader`]), on index ranges (a request costs its day, never the whole archive). Rendered pages are cached
//! per day (least recently used out, bounded in entries and bytes) while the store's generation and the config
//! stay the same; a page re-rendered to the same bytes keeps its `ETag`, `Last-Modified` and compressed forms, so a
//! reader's conditional request still gets its `304` after every poll round.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::publish::{self, FeedMeta, Pager, SanitizeCache};
use crate::regions::Gazetteer;
use crate::site::{self, Document};
use crate::store::DayReader;

/// The first day the archive can have (the store's times are seconds since 1970).
const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
/// Most day pages cached, and most bytes (all representations) they may hold.
const CACHE_ENTRIES: usize = 256;
const CACHE_BYTES: usize = 16 << 20;

/// What a `/day…` path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DayPath {
    /// A calendar date.
    Day(NaiveDate),
    /// Not a date: `400` with this explanation.
    Malformed(&'static str),
}

/// Reads `/day/YYYY-MM-DD` strictly (ASCII digits, a real calendar date, nothing after it); `None` for a path
/// outside `/day`. The query string is not part of the path: it is ignored like on every other page.
pub(crate) fn day_path(path: &str) -> Option<DayPath> {
    const FORM: &str = "not a date: use /day/YYYY-MM-DD, e.g. /day/2026-11-27 (UTC)\n";
    let rest = match path.strip_prefix("/day") {
        Some("" | "/") => {
            return Some(DayPath::Malformed(
                "give a date: /day/YYYY-MM-DD, e.g. /day/2026-11-27 (UTC)\n",
            ))
        }
        Some(rest) => rest.strip_prefix('/')?,
        None => return None,
    };
    let b = rest.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Some(DayPath::Malformed(FORM));
    }
    let number = |r: std::ops::Range<usize>| rest[r].parse::<u32>().expect("ASCII digits");
    match NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10)) {
        Some(day) => Some(DayPath::Day(day)),
        None => Some(DayPath::Malformed(
            "no such date: use /day/YYYY-MM-DD with a real month and day (UTC)\n",
        )),
    }
}

/// What a day request gets.
#[derive(Debug, Clone)]
pub(crate) enum DayAnswer {
    /// The page (`200`, or `304` by its validators).
    Found(Document),
    /// No such day in the archive: `404` with this explanation.
    NotFound(String),
}

/// The archive side of the server: a read-only connection and the cache of rendered day pages.
pub(crate) struct ArchiveService {
    reader: Mutex<DayReader>,
    cache: Mutex<Cache>,
    gazetteer: Arc<Gazetteer>,
    /// Descriptions sanitized for the pages (`story_views` keeps what the last two pages used).
    sanitized: SanitizeCache,
}

impl ArchiveService {
    /// Opens a read-only connection to the (already migrated) database.
    pub(crate) fn new(database: &Path, gazetteer: Arc<Gazetteer>) -> Result<ArchiveService> {
        Ok(ArchiveService {
            reader: Mutex::new(DayReader::open(database)?),
            cache: Mutex::new(Cache::default()),
            gazetteer,
            sanitized: SanitizeCache::default(),
        })
    }

    /// Answers `/day/{day}` (blocking: run it off the async threads). `Err` only when the database fails.
    pub(crate) fn answer(
        &self,
        config: &Arc<Config>,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<DayAnswer> {
        let today = now.date_naive();
        let not_yet = || {
            Ok(DayAnswer::NotFound(format!(
                "{day} has not come yet (days are UTC; today is {today})\n"
            )))
        };
        // Tomorrow is read all the same: ingest keeps a date a few minutes ahead (an outlet's fast clock), so just
        // before midnight a story can already be on tomorrow, and today's page links there.
        if day > today.succ_opt().unwrap_or(today) {
            return not_yet();
        }
        if day < FIRST_DAY {
            return Ok(DayAnswer::NotFound(format!(
                "no stories on {day}: the archive starts in 1970 at the earliest\n"
            )));
        }
        let mut reader = self
            .reader
            .lock()
            .map_err(|_| Error::Internal("archive reader lock poisoned".into()))?;
        let generation = reader.generation()?;
        let previous = {
            let mut cache = self.cache();
            cache.stamp(generation, config);
            match cache.get(day) {
                Lookup::Fresh(doc) => return Ok(DayAnswer::Found(doc)),
                Lookup::Stale(doc) => Some(doc),
                Lookup::Missing => None,
            }
        };
        let from = day.and_time(chrono::NaiveTime::MIN).and_utc();
        let to = from + chrono::Duration::days(1);
        let limit = site::stories_needed(config);
        let found = reader.day(from, to, limit, &config.region_filtered_ids())?;
        drop(reader);
        let before = found.before.map(|t| t.date_naive());
        let after = found.after.map(|t| t.date_naive());
        if found.stories.is_empty() && day > today {
            return not_yet();
        }
        if found.stories.is_empty() && before.is_none() {
            return Ok(DayAnswer::NotFound(match after {
                Some(first) => {
                    format!("no stories on {day}: the archive starts on {first} (/day/{first})\n")
                }
                None => format!("no stories on {day}: nothing is stored yet\n"),
            }));
        }
        let stories =
            crate::pipeline::story_views(config, &self.gazetteer, found.stories, &self.sanitized);
        let read = stories.len();
        let pager = Pager {
            newer: Some(after.map_or_else(publish::home_link, |d| publish::day_link(d, true))),
            older: before.map(|d| publish::day_link(d, false)),
        };
        // Counted on what is rendered: `render_within` leaves out the oldest stories when the page would pass
        // `[limits] max_document_bytes`, and the page must not claim (or hide) more than it shows.
        let notice = |shown: usize| {
            if stories.is_empty() {
                Some("لا أخبار في هذا اليوم.".to_string())
            } else {
                (found.truncated || shown < read)
                    .then(|| format!("تعرض هذه الصفحة أحدث {shown} خبراً من هذا اليوم."))
            }
        };
        let path = publish::day_path(day);
        let meta = FeedMeta {
            title: config.feed.title.clone(),
            description: config.feed.description.clone(),
            link: site::public_url(config, "/"),
            self_url: site::public_url(config, &path),
            language: config.feed.language.clone(),
            websub_hub: None,
        };
        let entities = self.gazetteer.entities();
        let html = site::render_within(config.limits.max_document_bytes, &path, &stories, |s| {
            publish::render_day_page(&meta, day, s, &pager, notice(s.len()).as_deref(), &entities)
        });
        let mut doc = Document::new(html, site::HTML_TYPE, now);
        match previous.filter(|p| p.etag == doc.etag) {
            // The same bytes as before the store moved: the same validators, no second compression.
            Some(same) => doc = same,
            None => doc.compress(),
        }
        self.cache().put(generation, config, day, doc.clone());
        Ok(DayAnswer::Found(doc))
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // A panic while holding the cache cannot leave it inconsistent in a way that matters: at worst an entry.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Rendered day pages. Each is fresh while the store's generation and the config it was rendered with are the
/// ones in force; a stale one is kept to compare with its re-rendering.
#[derive(Default)]
struct Cache {
    generation: i64,
    /// Held (not only compared by address) so that a freed config's address cannot come back as a new one.
    config: Option<Arc<Config>>,
    /// Moves whenever the generation or the config does; an entry is fresh when it carries the current one.
    epoch: u64,
    entries: HashMap<NaiveDate, Entry>,
    bytes: usize,
    clock: u64,
}

struct Entry {
    doc: Document,
    epoch: u64,
    used: u64,
}

enum Lookup {
    Fresh(Document),
    Stale(Document),
    Missing,
}

fn size(doc: &Document) -> usize {
    doc.held_bytes()
}

impl Cache {
    /// Notes the generation and config in force; any change makes every page stale.
    fn stamp(&mut self, generation: i64, config: &Arc<Config>) {
        let same_config = self.config.as_ref().is_some_and(|c| Arc::ptr_eq(c, config));
        if generation != self.generation || !same_config {
            self.generation = generation;
            self.config = Some(config.clone());
            self.epoch += 1;
        }
    }

    fn get(&mut self, day: NaiveDate) -> Lookup {
        self.clock += 1;
        let Some(entry) = self.entries.get_mut(&day) else {
            return Lookup::Missing;
        };
        entry.used = self.clock;
        if entry.epoch == self.epoch {
            Lookup::Fresh(entry.doc.clone())
        } else {
            Lookup::Stale(entry.doc.clone())
        }
    }

    /// Keeps `doc`, rendered at `generation` with `config`, unless the store or config moved on meanwhile.
    fn put(&mut self, generation: i64, config: &Arc<Config>, day: NaiveDate, doc: Document) {
        let current = generation == self.generation
            && self.config.as_ref().is_some_and(|c| Arc::ptr_eq(c, config));
        if !current || size(&doc) > CACHE_BYTES / 4 {
            return;
        }
        self.clock += 1;
        self.bytes += size(&doc);
        let entry = Entry {
            doc,
            epoch: self.epoch,
            used: self.clock,
        };
        if let Some(old) = self.entries.insert(day, entry) {
            self.bytes -= size(&old.doc);
        }
        while self.entries.len() > CACHE_ENTRIES || self.bytes > CACHE_BYTES {
            let oldest = *self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k)
                .expect("not empty while over a bound");
            let gone = self.entries.remove(&oldest).expect("present");
            self.bytes -= size(&gone.doc);
        }
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
