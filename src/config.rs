//! The operator's configuration: one TOML file, read once at start-up (and again on reload).
//!
//! Every problem is reported as `PATH:LINE:COL: message` naming the key, so an operator can jump straight to it:
//! syntax errors and wrong types come from the TOML parser (we add the key it forgot to name), and the checks
//! serde cannot express (unique ids, URLs, cron expressions, addresses) point at the offending value through
//! `toml::Spanned`. Unknown keys are errors, never silently ignored. Relative paths are relative to the working
//! directory qafila runs in (the repository root for the shipped config; `/var/lib/qafila` under systemd).
//!
//! The `Config` value is passed down explicitly; there is no global.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::schedule::CronSchedule;

mod locate;
use locate::{key_at, located, span_of_key};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub feed: FeedConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub fetch: FetchConfig,
    #[serde(default)]
    pub dedup: crate::dedup::DedupSettings,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub regions: RegionsConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub title: String,
    pub description: String,
    /// The public site or page the feed belongs to.
    pub link: Spanned<String>,
    /// The feed's own public URL (for `atom:link rel="self"`).
    pub self_url: Spanned<String>,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    #[serde(default = "default_output")]
    pub output: PathBuf,
    /// A WebSub hub to advertise and ping after each change.
    #[serde(default)]
    pub websub_hub: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// Items and stories older than this are pruned, except those still in the published feed.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// Cron expression, Unix 5-field or 6-field with seconds. Evaluated in UTC.
    #[serde(default = "default_schedule")]
    pub schedule: Spanned<String>,
    /// How many sources are fetched at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// Allow fetching from loopback/private addresses even when a redirect leads there.
    #[serde(default)]
    pub allow_private: bool,
    #[serde(default = "default_per_host_concurrency")]
    pub per_host_concurrency: usize,
    #[serde(default = "default_per_host_min_gap_ms")]
    pub per_host_min_gap_ms: u64,
    /// Longest wait between retries of a failing source.
    #[serde(default = "default_backoff_max_secs")]
    pub backoff_max_secs: u64,
    /// Upper bound on how long a server's caching headers or `<ttl>` may postpone the next poll.
    #[serde(default = "default_max_cache_floor_secs")]
    pub max_cache_floor_secs: u64,
}

/// Caps on what one outlet can make qafila store and publish: a hostile or broken feed costs bounded memory, disk
/// and CPU. The `[limits]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Of one fetch, only the newest this-many items are read and stored; the others are counted in the poll line,
    /// the log and `/metrics`.
    pub max_items_per_fetch: usize,
    /// Titles and author names are cut to this many characters (with `…`).
    pub max_title_chars: usize,
    /// An item's summary and content are each cut to this many bytes (at a character boundary).
    pub max_content_bytes: usize,
    /// No published document (feed, page) is larger than this: the oldest stories are left out of it.
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionsConfig {
    /// A gazetteer file to use instead of the built-in copy of `data/regions.toml`.
    #[serde(default)]
    pub gazetteer: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    pub format: LogFormat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub id: Spanned<String>,
    /// Arabic display name of the outlet.
    pub name: String,
    pub url: Spanned<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    /// Publish only this source's items that mention the region (for general outlets).
    #[serde(default)]
    pub region_filter: bool,
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
    Feed,
    Html,
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
    pub summary: Option<Spanned<String>>,
    /// A picture: its `src` (or `data-src`, `srcset`, `content`).
    #[serde(default)]
    pub image: Option<Spanned<String>>,
}

/// `sitemap_days` when unset.
pub const DEFAULT_SITEMAP_DAYS: u32 = 2;

fn default_language() -> String {
    "ar".into()
}
fn default_max_items() -> usize {
    100
}
fn default_output() -> PathBuf {
    "data/feed.xml".into()
}
fn default_listen() -> Spanned<String> {
    Spanned::new(0..0, "127.0.0.1:8080".into())
}
fn default_database() -> PathBuf {
    "data/qafila.db".into()
}
fn default_retention_days() -> u32 {
    90
}
fn default_schedule() -> Spanned<String> {
    Spanned::new(0..0, "*/15 * * * *".into())
}
fn default_concurrency() -> usize {
    8
}
fn default_timeout_secs() -> u64 {
    30
}
fn default_connect_timeout_secs() -> u64 {
    10
}
fn default_max_body_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_user_agent() -> String {
    concat!(
        "qafila/",
        env!("CARGO_PKG_VERSION"),
        " (Arabic news aggregator; +https://github.com/qafila/qafila)"
    )
    .into()
}
fn default_max_redirects() -> usize {
    5
}
fn default_per_host_concurrency() -> usize {
    1
}
fn default_per_host_min_gap_ms() -> u64 {
    1000
}
fn default_backoff_max_secs() -> u64 {
    4 * 3600
}
fn default_max_cache_floor_secs() -> u64 {
    6 * 3600
}
fn default_true() -> bool {
    true
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
        }
    }
}
impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: default_database(),
            retention_days: default_retention_days(),
        }
    }
}
impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            schedule: default_schedule(),
            concurrency: default_concurrency(),
            timeout_secs: default_timeout_secs(),
            connect_timeout_secs: default_connect_timeout_secs(),
            max_body_bytes: default_max_body_bytes(),
            user_agent: default_user_agent(),
            max_redirects: default_max_redirects(),
            allow_private: false,
            per_host_concurrency: default_per_host_concurrency(),
            per_host_min_gap_ms: default_per_host_min_gap_ms(),
            backoff_max_secs: default_backoff_max_secs(),
            max_cache_floor_secs: default_max_cache_floor_secs(),
        }
    }
}

impl FetchConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
    pub fn backoff_max(&self) -> Duration {
        Duration::from_secs(self.backoff_max_secs)
    }
    pub fn max_cache_floor(&self) -> Duration {
        Duration::from_secs(self.max_cache_floor_secs)
    }
}

impl ServerConfig {
    pub fn listen_addr(&self) -> SocketAddr {
        // Validated in `Config::validate`.
        self.listen
            .get_ref()
            .parse()
            .expect("validated listen address")
    }
}

impl SourceConfig {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }
    pub fn url(&self) -> url::Url {
        url::Url::parse(self.url.get_ref()).expect("validated source url")
    }
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
        let kind_span = self.kind.as_ref().map_or(self.url.span(), |k| k.span());
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
            if *days.get_ref() == 0 {
                return Err((
                    days.span(),
                    format!("key `{at}.sitemap_days`: must be at least 1"),
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

    fn validate(&self, text: &str, path: &Path) -> Result<()> {
        let err = |span: Range<usize>, msg: String| Err(located(text, path, span, msg));
        for (key, value) in [
            ("feed.link", &self.feed.link),
            ("feed.self_url", &self.feed.self_url),
        ] {
            if let Err(e) = url::Url::parse(value.get_ref()) {
                return err(
                    value.span(),
                    format!(
                        "key `{key}`: `{}` is not an absolute URL ({e})",
                        value.get_ref()
                    ),
                );
            }
        }
        if let Some(hub) = &self.feed.websub_hub {
            if let Err(e) = url::Url::parse(hub.get_ref()) {
                return err(
                    hub.span(),
                    format!("key `feed.websub_hub`: not an absolute URL ({e})"),
                );
            }
        }
        if self.feed.max_items == 0 {
            return err(
                span_of_key(text, "max_items"),
                "key `feed.max_items`: must be at least 1".into(),
            );
        }
        if self.server.listen.get_ref().parse::<SocketAddr>().is_err() {
            return err(
                self.server.listen.span(),
                format!(
                    "key `server.listen`: `{}` is not an address with a port, such as 127.0.0.1:8080",
                    self.server.listen.get_ref()
                ),
            );
        }
        if let Err(e) = CronSchedule::parse(self.fetch.schedule.get_ref()) {
            return err(
                self.fetch.schedule.span(),
                format!("key `fetch.schedule`: {e}"),
            );
        }
        for (key, value) in [
            ("concurrency", self.fetch.concurrency as u64),
            ("timeout_secs", self.fetch.timeout_secs),
            ("max_body_bytes", self.fetch.max_body_bytes),
            (
                "per_host_concurrency",
                self.fetch.per_host_concurrency as u64,
            ),
        ] {
            if value == 0 {
                return err(
                    span_of_key(text, key),
                    format!("key `fetch.{key}`: must be at least 1"),
                );
            }
        }
        let limits = &self.limits;
        for (key, value) in [
            ("max_items_per_fetch", limits.max_items_per_fetch),
            ("max_title_chars", limits.max_title_chars),
            ("max_content_bytes", limits.max_content_bytes),
        ] {
            if value == 0 {
                return err(
                    span_of_key(text, key),
                    format!("key `limits.{key}`: must be at least 1"),
                );
            }
        }
        let floor = limits
            .max_content_bytes
            .saturating_mul(DOCUMENT_GROWTH)
            .max(65_536);
        if limits.max_document_bytes < floor {
            return err(
                span_of_key(text, "max_document_bytes"),
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
            match url::Url::parse(source.url.get_ref()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                Ok(u) => {
                    return err(
                        source.url.span(),
                        format!(
                            "key `{at}.url`: scheme `{}` is not http or https",
                            u.scheme()
                        ),
                    );
                }
                Err(e) => {
                    return err(
                        source.url.span(),
                        format!(
                            "key `{at}.url`: `{}` is not an absolute URL ({e})",
                            source.url.get_ref()
                        ),
                    );
                }
            }
            if let Some(schedule) = &source.schedule {
                if let Err(e) = CronSchedule::parse(schedule.get_ref()) {
                    return err(schedule.span(), format!("key `{at}.schedule`: {e}"));
                }
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

    pub fn enabled_sources(&self) -> impl Iterator<Item = &SourceConfig> {
        self.sources.iter().filter(|s| s.enabled)
    }

    /// The global schedule.
    pub fn schedule_of_global(&self) -> CronSchedule {
        CronSchedule::parse(self.fetch.schedule.get_ref()).expect("validated schedule")
    }

    /// The schedule of one source: its own override, else the global one.
    pub fn schedule_of(&self, source: &SourceConfig) -> CronSchedule {
        let expr = source.schedule.as_ref().unwrap_or(&self.fetch.schedule);
        CronSchedule::parse(expr.get_ref()).expect("validated schedule")
    }
}

#[cfg(test)]
mod tests;
