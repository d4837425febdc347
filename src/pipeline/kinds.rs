//! Reading a fetched body by the source's `kind`, and the extra fetches some kinds need: the feeds an HTML page
//! leads to (discovery, for `kind = "feed"`) and the news sitemaps a sitemap index points to (`kind = "sitemap"`).
//!
//! Every extra fetch goes through the engine's one [`Fetcher`], so politeness per host, the body and time limits
//! and the SSRF guard apply to probes exactly as to polls. A source's failure here is a value (the `Err(String)`
//! of [`BodyRead`]) recorded against that source; only an internal error (a panicked parser task) is `Err`.

use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::config::{SelectConfig, SourceConfig, SourceKind};
use crate::error::{Error, Result};
use crate::fetch::{FetchOutcome, FetchRequest, Fetcher, ResponseMeta};
use crate::model::{ParsedFeed, ParsedItem};
use crate::parse::discover::{advertised_feeds, is_mostly_arabic, usual_feed_urls, FeedLink};
use crate::parse::listing::{parse_listing, ListingSelectors, SelectorTexts};
use crate::parse::sitemap::{index_children, news_items, parse_sitemap, Sitemap};
use crate::parse::{self, ParseError, ParseLimits};
use crate::store::Discovery;

use super::{CpuSlots, Prepared, Preparer};

/// At most this many advertised feeds, and this many usual paths, are tried on one page.
const MAX_ADVERTISED_PROBES: usize = 6;
const MAX_USUAL_PROBES: usize = 18;
/// At most this many children of a sitemap index are read per poll.
const MAX_SITEMAP_CHILDREN: usize = 4;

/// What a body gave.
pub(super) struct BodyRead {
    pub entries: Entries,
    /// Items beyond `[limits] max_items_per_fetch`, left out.
    pub items_over_cap: usize,
    pub ttl_minutes: Option<u32>,
    /// The response whose validators and caching headers describe what was read (the discovered feed's, after
    /// discovery); `None` when no validators should be kept (a sitemap index, whose children change without it).
    pub meta: Option<ResponseMeta>,
    pub discovered: Discovery,
}

/// A body's entries: parsed, or parsed and prepared already.
pub(super) enum Entries {
    /// Parsed and capped, still to be prepared (a listing, a sitemap, a feed found by discovery).
    Parsed(Vec<ParsedItem>),
    /// Prepared in the task that parsed them (a feed, the usual case: see [`read_feed`]).
    Prepared(Prepared),
}

impl BodyRead {
    fn of_feed(feed: ParsedFeed, meta: ResponseMeta, discovered: Discovery) -> BodyRead {
        BodyRead {
            entries: Entries::Parsed(feed.items),
            items_over_cap: feed.items_over_cap,
            ttl_minutes: feed.ttl_minutes,
            meta: Some(meta),
            discovered,
        }
    }
}

/// What reading a body uses: the fetcher for the extra fetches, the CPU slots parsing takes, and what prepares a
/// feed's entries in the task that parses them.
pub(super) struct BodyReader<'a> {
    pub fetcher: &'a Fetcher,
    pub cpu: &'a CpuSlots,
    pub preparer: Preparer,
}

/// Reads `body` as the source's kind says. `using_discovered`: the body came from the feed discovered earlier
/// (not from the configured page), so a body that is no longer a feed forgets it.
pub(super) async fn read_body(
    reader: BodyReader<'_>,
    source: &SourceConfig,
    meta: ResponseMeta,
    body: Vec<u8>,
    using_discovered: bool,
    now: DateTime<Utc>,
    limits: ParseLimits,
) -> Result<std::result::Result<BodyRead, (String, Discovery)>> {
    let (fetcher, cpu) = (reader.fetcher, reader.cpu);
    // Pages and sitemaps lead to further fetches; they get the source's SSRF exemption, decided from its config.
    let allow_private = crate::fetch::private_allowed(&source.url, source.allow_private);
    let read = match source.kind() {
        SourceKind::Feed => {
            read_feed(reader, allow_private, meta, body, using_discovered, limits).await
        }
        SourceKind::Html => {
            let select = source.select.clone().ok_or_else(|| {
                Error::Internal(
                    "an html source without select (config validation missed it)".into(),
                )
            })?;
            read_listing(cpu, select, meta, body, now).await
        }
        SourceKind::Sitemap => {
            let since = now - Duration::days(i64::from(source.sitemap_days()));
            read_sitemap(fetcher, cpu, allow_private, meta, body, since).await
        }
    }?;
    Ok(read.map(|mut read| {
        // Listings, sitemaps and a feed found by discovery are capped here (a feed read at once was capped in the
        // task that parsed it).
        if let Entries::Parsed(items) = &mut read.entries {
            read.items_over_cap += cap_items_and_texts(items, &limits);
        }
        read
    }))
}

/// [`cap_items`], then each item's texts to the limits; returns how many items were left out.
fn cap_items_and_texts(items: &mut Vec<ParsedItem>, limits: &ParseLimits) -> usize {
    let over = cap_items(items, limits.max_items);
    for item in items {
        parse::cap_item(item, limits);
    }
    over
}

/// Keeps the newest `max` items (by their date; undated ones after, in page order), in their original order;
/// returns how many were left out.
fn cap_items(items: &mut Vec<ParsedItem>, max: usize) -> usize {
    let over = items.len().saturating_sub(max);
    if over > 0 {
        let mut ranked: Vec<(usize, ParsedItem)> = items.drain(..).enumerate().collect();
        ranked.sort_by_key(|(i, item)| (std::cmp::Reverse(item.published.or(item.updated)), *i));
        ranked.truncate(max);
        ranked.sort_by_key(|(i, _)| *i);
        items.extend(ranked.into_iter().map(|(_, item)| item));
    }
    over
}

async fn parse_feed_body(
    cpu: &CpuSlots,
    body: Vec<u8>,
    meta: &ResponseMeta,
    limits: ParseLimits,
) -> Result<(std::result::Result<ParsedFeed, ParseError>, Vec<u8>)> {
    let content_type = meta.content_type.clone();
    let base = meta.base_url().clone();
    cpu.run("parser", move || {
        let parsed = parse::parse_feed_with(&body, content_type.as_deref(), &base, &limits);
        (parsed, body)
    })
    .await
}

/// A feed's body parsed, capped and its entries prepared, all in one CPU task: one hand-off to a CPU slot's thread
/// and back per fetch instead of two (each a wake-up of a sleeping thread), and the body freed where it was read.
/// A body that is not a feed comes back with the error, for discovery.
async fn parse_and_prepare(
    cpu: &CpuSlots,
    body: Vec<u8>,
    meta: &ResponseMeta,
    limits: ParseLimits,
    preparer: Preparer,
) -> Result<std::result::Result<(ParsedFeed, Prepared), (ParseError, Vec<u8>)>> {
    let content_type = meta.content_type.clone();
    let base = meta.base_url().clone();
    cpu.run("parser", move || {
        match parse::parse_feed_with(&body, content_type.as_deref(), &base, &limits) {
            Ok(mut feed) => {
                drop(body);
                let mut items = std::mem::take(&mut feed.items);
                feed.items_over_cap += cap_items_and_texts(&mut items, &limits);
                Ok((feed, preparer.prepare(items)))
            }
            Err(e) => Err((e, body)),
        }
    })
    .await
}

async fn read_feed(
    reader: BodyReader<'_>,
    allow_private: bool,
    meta: ResponseMeta,
    body: Vec<u8>,
    using_discovered: bool,
    limits: ParseLimits,
) -> Result<std::result::Result<BodyRead, (String, Discovery)>> {
    let BodyReader {
        fetcher,
        cpu,
        preparer,
    } = reader;
    let (error, body) = match parse_and_prepare(cpu, body, &meta, limits, preparer).await? {
        Ok((feed, prepared)) => {
            return Ok(Ok(BodyRead {
                entries: Entries::Prepared(prepared),
                items_over_cap: feed.items_over_cap,
                ttl_minutes: feed.ttl_minutes,
                meta: Some(meta),
                discovered: Discovery::Unchanged,
            }))
        }
        Err(failed) => failed,
    };
    if using_discovered {
        // The discovered feed stopped being one: look on the page again next time.
        return Ok(Err((
            format!("the discovered feed is not a usable feed any more: {error}"),
            Discovery::Forget,
        )));
    }
    let is_html = matches!(&error, ParseError::NotAFeed(what) if what.contains("HTML"))
        || meta
            .content_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if !is_html {
        return Ok(Err((
            format!("not a usable feed: {error}"),
            Discovery::Unchanged,
        )));
    }
    let page = meta.final_url.clone();
    match discover(
        fetcher,
        cpu,
        allow_private,
        &page,
        &body,
        meta.content_type.as_deref(),
    )
    .await?
    {
        Some(found) => {
            tracing::info!(page = %crate::redact::redacted(&page), feed = %crate::redact::redacted(&found.url), "found the page's feed; polling it from now on");
            let url = found.url.to_string();
            Ok(Ok(BodyRead::of_feed(found.feed, found.meta, Discovery::Found(url))))
        }
        None => Ok(Err((
            format!(
                "{page} is an HTML page that advertises no feed (<link rel=\"alternate\">) and has none at the usual \
                 paths (/feed/, /rss, /feed.xml, /index.xml…); give the feed's URL, or read the page with \
                 kind = \"html\" and select = {{ … }}"
            ),
            Discovery::Unchanged,
        ))),
    }
}

/// A feed found by discovery.
pub(crate) struct FoundFeed {
    pub url: Url,
    pub feed: ParsedFeed,
    pub meta: ResponseMeta,
    pub arabic: bool,
}

/// The feeds of an HTML page, by the module's rules: advertised ones first (those the page marks as Arabic
/// first), then the usual paths; every candidate is fetched and must parse as a feed. `all`: keep going after the
/// preferred one (for `qafila discover`); otherwise stop at the first Arabic feed.
pub(crate) async fn discover_feeds(
    fetcher: &Fetcher,
    cpu: &CpuSlots,
    allow_private: bool,
    page: &Url,
    html: &[u8],
    content_type: Option<&str>,
    all: bool,
) -> Result<Vec<FoundFeed>> {
    let text = parse::decode_html_text(html, content_type);
    let mut advertised = {
        let page = page.clone();
        cpu.run("parser", move || advertised_feeds(&text, &page))
            .await?
    };
    // Stable: those the page marks Arabic first, the page's order otherwise.
    advertised.sort_by_key(|f| !f.looks_arabic());
    let mut found: Vec<FoundFeed> = Vec::new();
    for link in advertised.iter().take(MAX_ADVERTISED_PROBES) {
        if let Some(feed) = probe(fetcher, cpu, allow_private, link).await? {
            let arabic = feed.arabic;
            found.push(feed);
            if arabic && !all {
                return Ok(found);
            }
        }
    }
    if found.is_empty() {
        for url in usual_feed_urls(page).into_iter().take(MAX_USUAL_PROBES) {
            let link = FeedLink {
                url,
                title: None,
                lang: None,
            };
            if let Some(feed) = probe(fetcher, cpu, allow_private, &link).await? {
                // The usual paths are guesses: the first Arabic feed there is the site's Arabic feed; a feed in
                // another language is kept as the fallback while the remaining places are tried.
                let arabic = feed.arabic;
                if arabic || found.is_empty() {
                    found.push(feed);
                }
                if arabic {
                    break;
                }
            }
        }
    }
    Ok(found)
}

async fn discover(
    fetcher: &Fetcher,
    cpu: &CpuSlots,
    allow_private: bool,
    page: &Url,
    html: &[u8],
    content_type: Option<&str>,
) -> Result<Option<FoundFeed>> {
    let mut found =
        discover_feeds(fetcher, cpu, allow_private, page, html, content_type, false).await?;
    let preferred = found.iter().position(|f| f.arabic).unwrap_or(0);
    Ok((!found.is_empty()).then(|| found.swap_remove(preferred)))
}

/// Fetches one candidate found on a page (with the source's SSRF exemption: a public page's link to a private
/// address is refused); `Some` when it is a feed. A feed is Arabic when the page said so or most of
/// its item titles (or its title) are in Arabic.
async fn probe(
    fetcher: &Fetcher,
    cpu: &CpuSlots,
    allow_private: bool,
    link: &FeedLink,
) -> Result<Option<FoundFeed>> {
    let request = FetchRequest {
        url: link.url.clone(),
        allow_private,
        etag: None,
        last_modified: None,
        last_to_host: false,
    };
    let FetchOutcome::Fetched { meta, body } = fetcher.fetch(&request).await else {
        return Ok(None);
    };
    // A probe only tells whether a URL is a feed; the read that follows caps its items by the config.
    let (parsed, _) = parse_feed_body(cpu, body, &meta, ParseLimits::default()).await?;
    let Ok(feed) = parsed else {
        return Ok(None);
    };
    let titles = feed
        .items
        .iter()
        .filter(|i| is_mostly_arabic(&i.title))
        .count();
    let arabic = link.looks_arabic()
        || (feed.items.is_empty() && feed.title.as_deref().is_some_and(is_mostly_arabic))
        || titles * 2 > feed.items.len();
    Ok(Some(FoundFeed {
        url: meta.final_url.clone(),
        feed,
        meta,
        arabic,
    }))
}

async fn read_listing(
    cpu: &CpuSlots,
    select: SelectConfig,
    meta: ResponseMeta,
    body: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<BodyRead, (String, Discovery)>> {
    let content_type = meta.content_type.clone();
    let base = meta.final_url.clone();
    let listed = cpu
        .run("parser", move || {
            let texts = SelectorTexts {
                item: select.item.get_ref(),
                title: select.title.get_ref(),
                link: select.link.as_ref().map(|s| s.get_ref().as_str()),
                date: select.date.as_ref().map(|s| s.get_ref().as_str()),
                summary: select.summary.as_ref().map(|s| s.get_ref().as_str()),
                image: select.image.as_ref().map(|s| s.get_ref().as_str()),
                utc_offset: select.utc_offset.as_ref().map(|s| s.get_ref().as_str()),
            };
            let selectors = ListingSelectors::compile(&texts)?;
            parse_listing(&body, content_type.as_deref(), &base, &selectors, now)
        })
        .await?;
    Ok(match listed {
        Ok(items) => Ok(BodyRead {
            // The card's picture becomes the item's picture.
            entries: Entries::Parsed(
                items
                    .into_iter()
                    .map(|l| {
                        let mut item = l.item;
                        item.media.extend(l.image.map(|url| crate::model::Media {
                            url,
                            picture: true,
                            ..Default::default()
                        }));
                        item
                    })
                    .collect(),
            ),
            items_over_cap: 0,
            ttl_minutes: None,
            meta: Some(meta),
            discovered: Discovery::Unchanged,
        }),
        Err(e) => Err((
            format!("not a usable listing page: {e}"),
            Discovery::Unchanged,
        )),
    })
}

async fn parse_sitemap_body(
    cpu: &CpuSlots,
    body: Vec<u8>,
    meta: &ResponseMeta,
) -> Result<std::result::Result<Sitemap, String>> {
    let content_type = meta.content_type.clone();
    cpu.run("parser", move || {
        parse_sitemap(&body, content_type.as_deref()).map_err(|e| e.to_string())
    })
    .await
}

async fn read_sitemap(
    fetcher: &Fetcher,
    cpu: &CpuSlots,
    allow_private: bool,
    meta: ResponseMeta,
    body: Vec<u8>,
    since: DateTime<Utc>,
) -> Result<std::result::Result<BodyRead, (String, Discovery)>> {
    let fail = |message: String| Ok(Err((message, Discovery::Unchanged)));
    let base = meta.final_url.clone();
    let (entries, keep_meta) = match parse_sitemap_body(cpu, body, &meta).await? {
        Err(e) => return fail(format!("not a usable sitemap: {e}")),
        Ok(Sitemap::Urls(entries)) => (entries, true),
        Ok(Sitemap::Index(children)) => {
            let children = index_children(&children, &base, since, MAX_SITEMAP_CHILDREN);
            if children.is_empty() {
                return fail(format!(
                    "the sitemap index {base} lists no sitemap modified since {}",
                    since.date_naive()
                ));
            }
            let mut entries = Vec::new();
            let mut errors = Vec::new();
            for child in &children {
                let request = FetchRequest {
                    url: child.clone(),
                    allow_private,
                    etag: None,
                    last_modified: None,
                    last_to_host: false,
                };
                match fetcher.fetch(&request).await {
                    FetchOutcome::Fetched { meta, body } => {
                        match parse_sitemap_body(cpu, body, &meta).await? {
                            Ok(Sitemap::Urls(more)) => entries.extend(more),
                            Ok(Sitemap::Index(_)) => errors
                                .push(format!("{child}: a nested sitemap index (not followed)")),
                            Err(e) => errors.push(format!("{child}: {e}")),
                        }
                    }
                    FetchOutcome::Failed(f) => errors.push(f.message),
                    FetchOutcome::NotModified(_) => {}
                }
            }
            if entries.is_empty() && !errors.is_empty() {
                return fail(format!(
                    "no sitemap of the index {base} could be read: {}",
                    errors.join("; ")
                ));
            }
            (entries, false)
        }
    };
    if !entries.iter().any(|e| e.title.is_some()) {
        return fail(format!(
            "{base}: the sitemap has no news entries (<news:news> with <news:title>): is it a Google News sitemap?"
        ));
    }
    Ok(Ok(BodyRead {
        entries: Entries::Parsed(news_items(entries, &base, since)),
        items_over_cap: 0,
        ttl_minutes: None,
        meta: keep_meta.then_some(meta),
        discovered: Discovery::Unchanged,
    }))
}

#[cfg(test)]
#[path = "kinds_tests.rs"]
mod tests;
