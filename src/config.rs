//! The operator's configuration: one TOML file, read once at start-up (and again on reload).
//!
//! Every problem is reported as `PATH:LINE:COL: message` naming the key, so an operator can jump straight to it:
//! syntax errors and wrong types come from the TOML parser (we add the key it forgot to name); each value is parsed
//! into its type while it is read (`values`: ranges, URLs, addresses, schedules), so a bad one is reported the same
//! way; checks across values (unique ids) point at the offending value through `toml::Spanned`. Unknown keys are errors, never silently ignored. Relative paths are relative to the working
//! directory qafila runs in (the repository root for the shipped config; `/var/lib/qafila` under systemd).
//!
//! The `Config` value is passed down explicitly; there is no global. Nothing reads the config text again: code
//! after [`Config::parse`] uses typed values and cannot meet an unchecked one.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::error::{Error, Result};
use crate::fetch::{self, FetchSettings};
use crate::schedule::CronSchedule;

mod locate;
mod values;
use locate::{key_at, located, span_of_key};
pub(crate) use values::{bounded, fraction, weight};
use values::{header_text, http_url, listen_addr, millis, optional_http_url, secs};

/// Items in each published feed and page (`[feed] max_items`, 1 to 10,000).
pub const DEFAULT_MAX_ITEMS: usize = 100;
/// Where the daemon listens (`[server] listen`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Days items and stories are kept (`[storage] retention_days`, 1 to 36,500).
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// When every source is polled unless it has its own schedule (`[fetch] schedule`).
pub const DEFAULT_SCHEDULE: &str = "*/15 * * * *";
/// Sources fetched at once (`[fetch] concurrency`, 1 to 256).
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Longest wait between retries of a failing source (`[fetch] backoff_max_secs`, 60 to 604,800).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(4 * 3600);
/// Longest a server's caching headers may postpone a poll (`[fetch] max_cache_floor_secs`, 0 to 604,800).
pub const DEFAULT_MAX_CACHE_FLOOR: Duration = Duration::from_secs(6 * 3600);

/// The whole configuration file, every value parsed and checked once by [`Config::parse`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[feed]`.
    pub feed: FeedConfig,
    #[serde(default)]
    /// `[server]`.
    pub server: ServerConfig,
    #[serde(default)]
    /// `[storage]`.
    pub storage: StorageConfig,
    #[serde(default)]
    /// `[fetch]`.
    pub fetch: FetchConfig,
    #[serde(default)]
    /// `[dedup]`.
    pub dedup: crate::dedup::DedupSettings,
    #[serde(default)]
    /// `[limits]`.
    pub limits: LimitsConfig,
    #[serde(default)]
    /// `[regions]`.
    pub regions: RegionsConfig,
    #[serde(default)]
    /// `[log]`.
    pub log: LogConfig,
    #[serde(default, rename = "source")]
    /// Every `[[source]]`, in file order.
    pub sources: Vec<SourceConfig>,
}

/// `[feed]`: what the merged feed says about itself and where it is written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// The merged feed's title (Arabic).
    pub title: String,
    /// The merged feed's description (Arabic).
    pub description: String,
    /// The public site or page the feed belongs to (http or https).
    #[serde(deserialize_with = "http_url")]
    pub link: Url,
    /// The feed's own public URL, for `atom:link rel="self"` (http or https).
    #[serde(deserialize_with = "http_url")]
    pub self_url: Url,
    #[serde(default = "default_language")]
    /// The feed's language tag (`ar`).
    pub language: String,
    /// 1 to 10,000.
    #[serde(
        default = "default_max_items",
        deserialize_with = "bounded::<_, _, 1, 10_000>"
    )]
    pub max_items: usize,
    #[serde(default = "default_output")]
    /// Where the RSS feed file is written after each round.
    pub output: PathBuf,
    /// A WebSub hub to advertise and ping after each change (http or https).
    #[serde(default, deserialize_with = "optional_http_url")]
    pub websub_hub: Option<Url>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen", deserialize_with = "listen_addr")]
    /// The address and port the HTTP server listens on.
    pub listen: SocketAddr,
    /// Most HTTP connections open at once, 1 to 65,536; more wait in the accept queue until one closes.
    #[serde(
        default = "default_max_connections",
        deserialize_with = "bounded::<_, _, 1, 65_536>"
    )]
    pub max_connections: usize,
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default = "default_database")]
    /// The SQLite database file.
    pub database: PathBuf,
    /// Items and stories older than this are pruned, except those still in the published feed. 1 to 36,500.
    #[serde(
        default = "default_retention_days",
        deserialize_with = "bounded::<_, _, 1, 36_500>"
    )]
    pub retention_days: u32,
    /// The database file never grows beyond this many bytes: a write that would is a failed write (the source
    /// backs off, `/healthz` answers 503), as on a full disk. Unset: no limit but the disk's.
    #[serde(default)]
    pub max_database_bytes: Option<u64>,
}

/// `[fetch]`: the schedule, and how the fetcher behaves ([`FetchConfig::client_settings`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// Cron expression, Unix 5-field or 6-field with seconds. Evaluated in UTC.
    #[serde(default = "default_schedule")]
    pub schedule: CronSchedule,
    /// How many sources are fetched and read at once (a turn ends once the result is queued for storing; see
    /// `pipeline::slots`). 1 to 256.
    #[serde(
        default = "default_concurrency",
        deserialize_with = "bounded::<_, _, 1, 256>"
    )]
    pub concurrency: usize,
    /// `timeout_secs`: 1 to 600.
    #[serde(
        rename = "timeout_secs",
        default = "default_timeout",
        deserialize_with = "secs::<_, 1, 600>"
    )]
    pub timeout: Duration,
    /// `connect_timeout_secs`: 1 to 300.
    #[serde(
        rename = "connect_timeout_secs",
        default = "default_connect_timeout",
        deserialize_with = "secs::<_, 1, 300>"
    )]
    pub connect_timeout: Duration,
    /// 1 KiB to 1 GiB.
    #[serde(
        default = "default_max_body_bytes",
        deserialize_with = "bounded::<_, _, 1024, 1_073_741_824>"
    )]
    pub max_body_bytes: u64,
    /// Printable ASCII, at most 256 characters.
    #[serde(default = "default_user_agent", deserialize_with = "header_text")]
    pub user_agent: String,
    /// 0 to 20.
    #[serde(
        default = "default_max_redirects",
        deserialize_with = "bounded::<_, _, 0, 20>"
    )]
    pub max_redirects: usize,
    /// Allow fetching from loopback/private addresses for every source, even when a redirect leads there.
    #[serde(default)]
    pub allow_private: bool,
    /// 1 to 64.
    #[serde(
        default = "default_per_host_concurrency",
        deserialize_with = "bounded::<_, _, 1, 64>"
    )]
    pub per_host_concurrency: usize,
    /// `per_host_min_gap_ms`: 0 to 3,600,000 (an hour).
    #[serde(
        rename = "per_host_min_gap_ms",
        default = "default_per_host_min_gap",
        deserialize_with = "millis::<_, 0, 3_600_000>"
    )]
    pub per_host_min_gap: Duration,
    /// `backoff_max_secs`: longest wait between retries of a failing source, 60 to 604,800 (a week).
    #[serde(
        rename = "backoff_max_secs",
        default = "default_backoff_max",
        deserialize_with = "secs::<_, 60, 604_800>"
    )]
    pub backoff_max: Duration,
    /// `max_cache_floor_secs`: upper bound on how long a server's caching headers or `<ttl>` may postpone the next
    /// poll, 0 to 604,800 (a week).
    #[serde(
        rename = "max_cache_floor_secs",
        default = "default_max_cache_floor",
        deserialize_with = "secs::<_, 0, 604_800>"
    )]
    pub max_cache_floor: Duration,
}

/// Caps on what one outlet can make qafila store and publish: a hostile or broken feed costs bounded memory, disk
/// and CPU. The `[limits]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Of one fetch, only the newest this-many items are read and stored; the others are counted in the poll line,
    /// the log and `/metrics`. 1 to 100,000.
    #[serde(deserialize_with = "bounded::<_, _, 1, 100_000>")]
    pub max_items_per_fetch: usize,
    /// Titles and author names are cut to this many characters (with `…`). 1 to 10,000.
    #[serde(deserialize_with = "bounded::<_, _, 1, 10_000>")]
    pub max_title_chars: usize,
    /// An item's summary and content are each cut to this many bytes (at a character boundary). 1 to 16 MiB.
    #[serde(deserialize_with = "bounded::<_, _, 1, 16_777_216>")]
    pub max_content_bytes: usize,
    /// No published document (feed, page) is larger than this: the oldest stories are left out of it. 64 KiB to
    /// 1 GiB, and at least `DOCUMENT_GROWTH` × `max_content_bytes`.
    #[serde(deserialize_with = "bounded::<_, _, 65_536, 1_073_741_824>")]
    pub max_document_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_items_per_fetch: 500,
            max_title_chars: 500,
            max_content_bytes: 64 * 1024,
            max_document_bytes: 4 * 1024 * 1024,
        }
    }
}

/// How many times a description may grow from stored HTML to a published document (entities escaped twice in
/// Atom, links absolutized): `max_document_bytes` must leave room for one story this large.
pub const DOCUMENT_GROWTH: usize = 16;

impl LimitsConfig {
    /// The caps the parser applies.
    pub fn parse_limits(&self) -> crate::parse::ParseLimits {
        crate::parse::ParseLimits {
            max_items: self.max_items_per_fetch,
            max_title_chars: self.max_title_chars,
            max_content_bytes: self.max_content_bytes,
        }
    }
}

/// `[regions]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionsConfig {
    /// A gazetteer file to use instead of the built-in copy of `data/regions.toml`.
    #[serde(default)]
    pub gazetteer: Option<PathBuf>,
}

/// `[log] format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    /// One line per event.
    Text,
    /// One JSON object per event.
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    /// `text` or `json`.
    pub format: LogFormat,
}

/// One `[[source]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Kept with its position: uniqueness is checked after the whole file is read.
    pub id: Spanned<String>,
    /// Arabic display name of the outlet.
    pub name: String,
    /// The feed's URL (http or https).
    #[serde(deserialize_with = "http_url")]
    pub url: Url,
    #[serde(default = "default_true")]
    /// A disabled source stays in the config and the database but is not polled or published.
    pub enabled: bool,
    /// Overrides `[fetch] schedule` for this source.
    #[serde(default)]
    pub schedule: Option<CronSchedule>,
    /// Publish only this source's items that mention the region (for general outlets).
    #[serde(default)]
    pub region_filter: bool,
    /// May reach loopback/private/link-local addresses (a feed on the LAN or on this host under a name). A source
    /// configured on such an IP literal is allowed without it.
    #[serde(default)]
    pub allow_private: bool,
    /// What the URL answers: `feed` (default; an HTML page there is searched for its feed), `html` (a listing page
    /// read with `select`) or `sitemap` (a Google News sitemap, or a sitemap index pointing to one).
    #[serde(default)]
    pub kind: Option<Spanned<SourceKind>>,
    /// CSS selectors of a `kind = "html"` source.
    #[serde(default)]
    pub select: Option<SelectConfig>,
    /// `kind = "sitemap"`: only entries published in the last this many days are taken (default 2).
    #[serde(default)]
    pub sitemap_days: Option<Spanned<u32>>,
}

/// How a source's URL is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    #[default]
    /// RSS, Atom or JSON Feed (an HTML page there is searched for its feed).
    Feed,
    /// A listing page read with `select`.
    Html,
    /// A Google News sitemap, or a sitemap index pointing to one.
    Sitemap,
}

/// Where the items of a listing page are: CSS selectors, each (but `item`) looked up inside one item element.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// required: one element per news item.
    pub item: Spanned<String>,
    /// required: the headline inside the item.
    pub title: Spanned<String>,
    /// The element whose `href` is the article (default: the first `a[href]` in the title, else in the item).
    #[serde(default)]
    pub link: Option<Spanned<String>>,
    /// The date: its `datetime` attribute when it has one, else its text (Arabic dates are understood).
    #[serde(default)]
    pub date: Option<Spanned<String>>,
    #[serde(default)]
    /// The item's summary inside the item.
    pub summary: Option<Spanned<String>>,
    /// A picture: its `src` (or `data-src`, `srcset`, `content`).
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// The zone the page writes its times in, such as `"+04:00"` (default UTC); dates that say their zone, and
    /// relative ones ("منذ ساعتين"), are not affected.
    #[serde(default)]
    pub utc_offset: Option<Spanned<String>>,
}

/// `sitemap_days` when unset.
pub const DEFAULT_SITEMAP_DAYS: u32 = 2;

fn default_language() -> String {
    "ar".into()
}
fn default_max_items() -> usize {
    DEFAULT_MAX_ITEMS
}
fn default_output() -> PathBuf {
    "data/feed.xml".into()
}
fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN
        .parse()
        .expect("DEFAULT_LISTEN is an address")
}
fn default_max_connections() -> usize {
    256
}
fn default_database() -> PathBuf {
    "data/qafila.db".into()
}
fn default_retention_days() -> u32 {
    DEFAULT_RETENTION_DAYS
}
fn default_schedule() -> CronSchedule {
    CronSchedule::parse(DEFAULT_SCHEDULE).expect("DEFAULT_SCHEDULE parses")
}
fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}
fn default_timeout() -> Duration {
    fetch::DEFAULT_TIMEOUT
}
fn default_connect_timeout() -> Duration {
    fetch::DEFAULT_CONNECT_TIMEOUT
}
fn default_max_body_bytes() -> u64 {
    fetch::DEFAULT_MAX_BODY_BYTES
}
fn default_user_agent() -> String {
    fetch::DEFAULT_USER_AGENT.into()
}
fn default_max_redirects() -> usize {
    fetch::DEFAULT_MAX_REDIRECTS
}
fn default_per_host_concurrency() -> usize {
    fetch::DEFAULT_PER_HOST_CONCURRENCY
}
fn default_per_host_min_gap() -> Duration {
    fetch::DEFAULT_PER_HOST_MIN_GAP
}
fn default_backoff_max() -> Duration {
    DEFAULT_BACKOFF_MAX
}
fn default_max_cache_floor() -> Duration {
    DEFAULT_MAX_CACHE_FLOOR
}
fn default_true() -> bool {
    true
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            max_connections: default_max_connections(),
        }
    }
}
impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: default_database(),
            retention_days: default_retention_days(),
            max_database_bytes: None,
        }
    }
}
impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            schedule: default_schedule(),
            concurrency: default_concurrency(),
            timeout: default_timeout(),
            connect_timeout: default_connect_timeout(),
            max_body_bytes: default_max_body_bytes(),
            user_agent: default_user_agent(),
            max_redirects: default_max_redirects(),
            allow_private: false,
            per_host_concurrency: default_per_host_concurrency(),
            per_host_min_gap: default_per_host_min_gap(),
            backoff_max: default_backoff_max(),
            max_cache_floor: default_max_cache_floor(),
        }
    }
}

impl FetchConfig {
    /// The fetcher's settings from this table.
    pub fn client_settings(&self) -> FetchSettings {
        FetchSettings {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            max_body_bytes: self.max_body_bytes,
            user_agent: self.user_agent.clone(),
            max_redirects: self.max_redirects,
            allow_private: self.allow_private,
            per_host_concurrency: self.per_host_concurrency,
            per_host_min_gap: self.per_host_min_gap,
        }
    }
}

impl SourceConfig {
    /// The source's id.
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }
    /// What the source's URL answers (`feed` when unset).
    pub fn kind(&self) -> SourceKind {
        self.kind
            .as_ref()
            .map_or(SourceKind::Feed, |k| *k.get_ref())
    }
    /// How many days back a sitemap source's entries are taken.
    pub fn sitemap_days(&self) -> u32 {
        self.sitemap_days
            .as_ref()
            .map_or(DEFAULT_SITEMAP_DAYS, |d| *d.get_ref())
    }
}

impl SourceConfig {
    /// The keys that depend on `kind`: `select` is required by, and only allowed with, `kind = "html"`, and each
    /// selector must parse; `sitemap_days` belongs to `kind = "sitemap"` and is at least 1.
    fn validate_kind(&self, at: &str) -> std::result::Result<(), (Range<usize>, String)> {
        let kind_span = self.kind.as_ref().map_or(self.id.span(), |k| k.span());
        match (&self.select, self.kind()) {
            (None, SourceKind::Html) => {
                return Err((
                    kind_span,
                    format!(
                        "key `{at}.select`: kind = \"html\" needs `select = {{ item = \"…\", title = \"…\" }}` \
                         (CSS selectors of the page's news items)"
                    ),
                ));
            }
            (Some(select), SourceKind::Html) => {
                if let Some(offset) = &select.utc_offset {
                    if crate::parse::arabic_date::parse_offset(offset.get_ref()).is_none() {
                        return Err((
                            offset.span(),
                            format!(
                                "key `{at}.select.utc_offset`: `{}` is not a UTC offset such as \"+04:00\"",
                                offset.get_ref()
                            ),
                        ));
                    }
                }
                for (key, selector) in select.selectors() {
                    if let Err(e) = scraper::Selector::parse(selector.get_ref()) {
                        return Err((
                            selector.span(),
                            format!(
                                "key `{at}.select.{key}`: `{}` is not a valid CSS selector ({e})",
                                selector.get_ref()
                            ),
                        ));
                    }
                }
            }
            (Some(select), _) => {
                return Err((
                    select.item.span(),
                    format!("key `{at}.select`: only used with kind = \"html\"; set `kind = \"html\"` or remove it"),
                ));
            }
            (None, _) => {}
        }
        if let Some(days) = &self.sitemap_days {
            if self.kind() != SourceKind::Sitemap {
                return Err((
                    days.span(),
                    format!("key `{at}.sitemap_days`: only used with kind = \"sitemap\""),
                ));
            }
            if !(1..=365).contains(days.get_ref()) {
                return Err((
                    days.span(),
                    format!(
                        "key `{at}.sitemap_days`: {} is out of range: use 1 to 365",
                        days.get_ref()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl SelectConfig {
    /// Each selector with its key name (`item`, `title`, …), the optional ones only when set.
    pub fn selectors(&self) -> impl Iterator<Item = (&'static str, &Spanned<String>)> {
        [
            ("item", Some(&self.item)),
            ("title", Some(&self.title)),
            ("link", self.link.as_ref()),
            ("date", self.date.as_ref()),
            ("summary", self.summary.as_ref()),
            ("image", self.image.as_ref()),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
    }
}

/// The config in force, shared by the engine (which replaces it on reload) and the HTTP server (which only reads
/// it). Cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedConfig(Arc<RwLock<Arc<Config>>>);

impl SharedConfig {
    /// Shares `config` as the config in force.
    pub fn new(config: Arc<Config>) -> SharedConfig {
        SharedConfig(Arc::new(RwLock::new(config)))
    }

    /// The config in force now; a reload replaces it whole, so a caller keeps a consistent one.
    pub fn get(&self) -> Arc<Config> {
        // A panic while the lock was held cannot leave a half-replaced `Arc`: the value is still whole.
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn replace(&self, config: Arc<Config>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = config;
    }
}

/// The config path: `--config`, else `$QAFILA_CONFIG`, else `config/qafila.toml` (clap handles the first two).
pub const DEFAULT_PATH: &str = "config/qafila.toml";

impl Config {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigUnreadable {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = match key_at(text, span.start) {
                Some(key) if !e.message().contains(&format!("`{key}`")) => {
                    format!("key `{key}`: {}", e.message().trim())
                }
                _ => e.message().trim().to_string(),
            };
            located(text, path, span, message)
        })?;
        config.validate(text, path)?;
        Ok(config)
    }

    /// The checks that need the whole file: each value was checked alone while it was read.
    fn validate(&self, text: &str, path: &Path) -> Result<()> {
        let err = |span: Range<usize>, msg: String| Err(located(text, path, span, msg));
        let limits = &self.limits;
        let floor = limits
            .max_content_bytes
            .saturating_mul(DOCUMENT_GROWTH)
            .max(65_536);
        if limits.max_document_bytes < floor {
            return err(
                Some(span_of_key(text, "max_document_bytes"))
                    .filter(|span| !span.is_empty())
                    .unwrap_or_else(|| span_of_key(text, "max_content_bytes")),
                format!(
                    "key `limits.max_document_bytes`: must be at least {floor} ({DOCUMENT_GROWTH} × max_content_bytes, \
                     and 65536), so that one story always fits"
                ),
            );
        }
        let mut seen = HashSet::new();
        for (n, source) in self.sources.iter().enumerate() {
            let id = source.id.get_ref();
            let at = format!("source[{n}]");
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return err(
                    source.id.span(),
                    format!("key `{at}.id`: `{id}` must be made of a-z, 0-9 and '-' only"),
                );
            }
            if !seen.insert(id.clone()) {
                return err(
                    source.id.span(),
                    format!(
                        "key `{at}.id`: `{id}` is used by an earlier source; ids must be unique"
                    ),
                );
            }
            source
                .validate_kind(&at)
                .map_err(|(span, message)| located(text, path, span, message))?;
        }
        Ok(())
    }

    /// The ids of the sources whose items are published only when they mention the region.
    pub fn region_filtered_ids(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| s.region_filter)
            .map(|s| s.id().to_string())
            .collect()
    }

    /// The ids of the enabled sources.
    pub fn enabled_ids(&self) -> Vec<String> {
        self.enabled_sources().map(|s| s.id().to_string()).collect()
    }

    /// The sources that are polled and published.
    pub fn enabled_sources(&self) -> impl Iterator<Item = &SourceConfig> {
        self.sources.iter().filter(|s| s.enabled)
    }
}

#[cfg(test)]
mod tests;
