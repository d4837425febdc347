//! The parse stage: a fetched body (RSS 0.9x/1.0/2.0, Atom or JSON Feed) into a [`ParsedFeed`].
//!
//! feed-rs does the format work; plain RSS 2.0, the common case, is read into the same fields by a quicker
//! reader of our own ([`fastrss`]), which gives up to feed-rs on anything else. Around it this module:
//! - decodes the bytes itself ([`encoding`]) so Arabic comes out right even when the labels lie;
//! - tells the operator *why* a body is not a feed (empty, an HTML page, truncated XML, garbage);
//! - runs feed-rs behind two guards ([`feedrs`]): a later XML declaration naming another encoding is made to say
//!   UTF-8 (feed-rs would mis-decode or panic), and a panic inside it fails that body as malformed;
//! - keeps only identifiers the feed really carried: feed-rs invents an id for items without one (a hash of link
//!   and title, or a random UUID), so it is built with an id generator that returns "" and "" means "none";
//! - makes links absolute against the URL the feed was finally fetched from, and keeps only http(s) links;
//! - turns titles into plain text ([`text`]) and removes characters XML 1.0 forbids from everything;
//! - bounds what one feed can make us hold ([`ParseLimits`]): before feed-rs builds anything, a streaming pre-scan
//!   ([`prescan`]) refuses DTD entity declarations and keeps only the newest `max_items`; titles, authors,
//!   summaries and content are cut to their caps as they are mapped.
//!
//! Sources that are not feeds are read here too: listing pages with CSS selectors ([`listing`], dates by
//! [`arabic_date`]), news sitemaps ([`sitemap`]), and the feed links of an HTML page ([`discover`]).

pub(crate) mod arabic_date;
mod dates;
pub(crate) mod discover;
mod encoding;
mod fastrss;
mod feedrs;
pub(crate) mod listing;
mod map;
mod media;
mod prescan;
pub(crate) mod sitemap;
#[cfg(test)]
mod tests;
mod upgrade;

use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use url::Url;

use feedrs::{run_feed_rs, FeedRsError};

use crate::model::ParsedFeed;

/// Why a body could not be read as a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the response body is empty")]
    /// The body is empty.
    Empty,
    /// The body is something else: the text says what, e.g. "an HTML page, not a feed".
    #[error("not a feed: the body is {0}")]
    NotAFeed(String),
    /// It looks like a feed but is broken (truncated, ill-formed XML or JSON).
    #[error("malformed feed: {0}")]
    Malformed(String),
    /// The document's DTD declares entities (the "billion laughs" shape); feeds have no use for them.
    #[error(
        "refused: the feed's DOCTYPE declares its own entities (<!ENTITY …>), which no feed needs and which \
         can expand a small document enormously; ask the publisher to remove the internal DTD"
    )]
    EntityDeclarations,
}

/// Caps on what one fetched document can make qafila hold (`[limits]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Only the newest this-many items are parsed; the others are counted in `ParsedFeed::items_over_cap`.
    pub max_items: usize,
    /// Titles and author names are cut to this many characters.
    pub max_title_chars: usize,
    /// Summaries and content are each cut to this many bytes.
    pub max_content_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        crate::config::LimitsConfig::default().parse_limits()
    }
}

/// Parses a fetched body with the default [`ParseLimits`]. `content_type` is the full HTTP header value (its
/// charset is one hint among others); `base` is the final URL after redirects, against which relative links are
/// resolved.
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, ParseError> {
    parse_feed_with(body, content_type, base, &ParseLimits::default())
}

/// Cuts an item's title, author, summary and content to `limits` (what the feed parser does as it maps; for items
/// read from other kinds of sources).
pub fn cap_item(item: &mut crate::model::ParsedItem, limits: &ParseLimits) {
    item.title = crate::text::cut_chars(std::mem::take(&mut item.title), limits.max_title_chars);
    item.author = item
        .author
        .take()
        .map(|a| crate::text::cut_chars(a, limits.max_title_chars));
    item.summary = item
        .summary
        .take()
        .map(|s| crate::text::cut_bytes(s, limits.max_content_bytes));
    item.content = item
        .content
        .take()
        .map(|s| crate::text::cut_bytes(s, limits.max_content_bytes));
}

/// [`parse_feed`] with the configured limits.
pub fn parse_feed_with(
    body: &[u8],
    content_type: Option<&str>,
    base: &Url,
    limits: &ParseLimits,
) -> Result<ParsedFeed, ParseError> {
    parse_feed_reading(body, content_type, base, limits, Reading::Fast)
}

/// Whether [`fastrss`] may read a plain RSS 2.0 document instead of feed-rs (the tests compare both ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Fast,
    #[cfg(test)]
    FeedRsOnly,
}

fn parse_feed_reading(
    body: &[u8],
    content_type: Option<&str>,
    base: &Url,
    limits: &ParseLimits,
    reading: Reading,
) -> Result<ParsedFeed, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let decoded = encoding::decode(body, content_type);
    tracing::trace!(
        encoding = decoded.encoding.name(),
        bytes = body.len(),
        "decoded feed body"
    );
    let text = decoded.text;
    if text
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .is_empty()
    {
        return Err(ParseError::Empty);
    }
    let scanned = if text
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .starts_with('<')
    {
        prescan::prescan(&text, limits.max_items.max(1))?
    } else {
        prescan::prescan_json(&text, limits.max_items.max(1))
    };
    let items_over_cap = scanned.items_over_cap;
    let text = scanned.text;
    // Old dialects (Atom 0.3, RSS 0.90, CDF…) are rewritten first; see `upgrade`.
    let upgraded = upgrade::upgrade(&text, false);
    let first = upgraded.as_deref().unwrap_or(&text);
    // The common case, plain RSS 2.0, read quickly into the same fields (see `fastrss`); feed-rs otherwise.
    let fast = match reading {
        Reading::Fast => fastrss::read(first, base),
        #[cfg(test)]
        Reading::FeedRsOnly => None,
    };
    let read = fast.map_or_else(|| run_feed_rs(first, base), Ok);
    let (feed, parsed_text) = match read {
        Ok(feed) => (feed, std::borrow::Cow::Borrowed(first)),
        Err(FeedRsError::Panicked(why)) => return Err(feedrs::panicked(&why)),
        Err(FeedRsError::Failed(err)) => {
            // Then the repairs, each tried once more through the rewrite (which now also fixes what feed-rs
            // rejects in modern feeds, such as an Atom title of a type it does not know).
            let repaired = repair(first, &err);
            let retry = repaired.as_deref().unwrap_or(first);
            let attempts = [
                repaired.as_deref().and_then(|r| upgrade::upgrade(r, false)),
                repaired.clone(),
                upgrade::upgrade(retry, true),
            ];
            match attempts.into_iter().flatten().find_map(|candidate| {
                let feed = run_feed_rs(&candidate, base).ok()?;
                Some((feed, std::borrow::Cow::Owned(candidate)))
            }) {
                Some(read) => read,
                None => return Err(diagnose(&text, Some(err))),
            }
        }
    };
    // Pictures, sound and video, from the very text feed-rs read (see `media`).
    let media = if feed.feed_type == feed_rs::model::FeedType::JSON {
        media::scan_json(&parsed_text, base)
    } else {
        media::scan_xml(&parsed_text, base)
    };
    let mut parsed = map::feed(feed, base, limits, media);
    parsed.items_over_cap += items_over_cap;
    Ok(parsed)
}

/// An HTML page's text, decoded by its HTTP charset or `<meta charset>` (see [`encoding`]).
pub fn decode_html_text(body: &[u8], content_type: Option<&str>) -> String {
    encoding::decode_html(body, content_type).text.into_owned()
}

/// A repaired copy of a feed that failed for one of two common, harmless reasons, to be tried once more:
/// `<rss>` without the required version (feed-rs then finds no feed), or a bare `&` (feed-rs is all or nothing,
/// and `?id=1&lang=ar` in a link is the classic hand-written-feed mistake).
fn repair(text: &str, err: &ParseFeedError) -> Option<String> {
    match err {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)
            if root_name(text).as_deref() == Some("rss") =>
        {
            add_rss_version(text)
        }
        ParseFeedError::XmlReader(_) => {
            let escaped = escape_bare_ampersands(text);
            close_last_end_tag(escaped.as_deref().unwrap_or(text)).or(escaped)
        }
        _ => None,
    }
}

/// The document with a `>` added when it ends inside its last end tag (`…</rss`): everything is there but one
/// character, which hand-written and cut-off-by-one feeds miss. `None` otherwise.
fn close_last_end_tag(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    let open = trimmed.rfind("</")?;
    let name = &trimmed[open + 2..];
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'));
    is_name.then(|| format!("{trimmed}>"))
}

/// Replaces each `&` that does not start a reference (`&name;`, `&#123;`, `&#x1F;`) with `&amp;`, and the `&#X`
/// that HTML allows but XML does not with `&#x`; `None` when there is nothing to change. Inside CDATA this turns
/// `&` into `&amp;`, which reads the same once the HTML is decoded.
fn escape_bare_ampersands(text: &str) -> Option<String> {
    let is_reference = |after: &str| {
        let b = after.as_bytes();
        let len = b.iter().take(33).position(|c| *c == b';').unwrap_or(0);
        let name = &b[..len];
        match name {
            [b'#', b'x' | b'X', hex @ ..] => {
                !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit)
            }
            [b'#', dec @ ..] => !dec.is_empty() && dec.iter().all(u8::is_ascii_digit),
            [first, rest @ ..] => {
                first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_alphanumeric)
            }
            [] => false,
        }
    };
    let mut out = String::with_capacity(text.len() + 64);
    let mut changed = false;
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        if let Some(hex) = rest.strip_prefix("#X").filter(|_| is_reference(rest)) {
            out.push_str("&#x");
            rest = hex;
            changed = true;
        } else if is_reference(rest) {
            out.push('&');
        } else {
            out.push_str("&amp;");
            changed = true;
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The local name of the first element, lower-cased (`rdf:RDF` → `rdf`), skipping the declaration, processing
/// instructions, comments and a DOCTYPE. `Some("html")` also for an HTML doctype.
fn root_name(text: &str) -> Option<String> {
    let mut rest = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    loop {
        rest = rest.strip_prefix('<')?;
        if let Some(after) = rest.strip_prefix("!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if rest.starts_with('?') || rest.starts_with('!') {
            let end = rest.find('>')?;
            let head = rest[..end].to_ascii_lowercase();
            if head.starts_with("!doctype") && head[8..].trim_start().starts_with("html") {
                return Some("html".to_owned());
            }
            rest = &rest[end + 1..];
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '/'))
                .collect();
            let local = name.rsplit(':').next().unwrap_or_default();
            // rdf:RDF is RSS 1.0: its local name RDF is the interesting part.
            return Some(local.to_ascii_lowercase());
        }
        rest = rest.trim_start();
    }
}

/// `<rss …>` with `version="2.0"` set (added, or replacing a version feed-rs does not know).
fn add_rss_version(text: &str) -> Option<String> {
    let open = text.find("<rss")?;
    let close = open + text[open..].find('>')?;
    let attrs = &text[open + 4..close];
    let mut tag = String::from("<rss version=\"2.0\"");
    // Keep every attribute but an existing version, which would now be a duplicate.
    let mut rest = attrs;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim();
        let value = rest[eq + 1..].trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let end = value[1..].find(quote)? + 2;
        if name != "version" {
            tag.push(' ');
            tag.push_str(name);
            tag.push('=');
            tag.push_str(&value[..end]);
        }
        rest = &value[end..];
    }
    tag.push_str(rest.trim_end());
    Some(format!("{}{}{}", &text[..open], tag, &text[close..]))
}

/// Explains a failure in words an operator can act on.
fn diagnose(text: &str, err: Option<ParseFeedError>) -> ParseError {
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    let detail = err
        .as_ref()
        .map(|e| e.to_string().replace('\n', " "))
        .unwrap_or_default();
    if start.starts_with('{') || start.starts_with('[') {
        return match err {
            Some(ParseFeedError::JsonSerde(e)) if e.is_eof() => {
                ParseError::Malformed(format!("the JSON ends early (truncated download?): {e}"))
            }
            Some(ParseFeedError::JsonUnsupportedVersion(v)) => {
                ParseError::NotAFeed(format!("JSON with an unknown JSON Feed version {v:?}"))
            }
            Some(ParseFeedError::JsonSerde(e)) if e.is_data() => {
                ParseError::NotAFeed(format!("JSON but not a JSON Feed ({e})"))
            }
            _ => ParseError::Malformed(format!("invalid JSON: {detail}")),
        };
    }
    if !start.starts_with('<') {
        let snippet: String = start.chars().take(20).filter(|c| !c.is_control()).collect();
        return ParseError::NotAFeed(format!("neither XML nor JSON (it starts with {snippet:?})"));
    }
    match root_name(start).as_deref() {
        Some("html") => ParseError::NotAFeed("an HTML page, not a feed".to_owned()),
        Some("rss" | "feed" | "rdf" | "entry") => {
            // Truncated: the text stops mid-tag, or the parser hit the end before the root element was closed.
            let tail = &start.as_bytes()[start.len().saturating_sub(64)..];
            let closes_root = ["</rss", "</feed", ":RDF", "</RDF", "</entry"]
                .iter()
                .any(|close| tail.windows(close.len()).any(|w| w == close.as_bytes()));
            let hit_end = detail.contains("EOF") || detail.contains("end of input");
            let is_eof = !start.trim_end().ends_with('>') || (hit_end && !closes_root);
            if is_eof {
                ParseError::Malformed(format!(
                    "the XML ends early (truncated download?): {detail}"
                ))
            } else if detail.is_empty()
                || matches!(
                    err,
                    Some(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot))
                )
            {
                ParseError::Malformed(
                    "the feed's root element is missing its channel or version".to_owned(),
                )
            } else {
                ParseError::Malformed(format!("ill-formed XML: {detail}"))
            }
        }
        Some(other) if !other.is_empty() => ParseError::NotAFeed(format!(
            "an XML document whose root element is <{other}>, not RSS, Atom or RDF"
        )),
        _ => ParseError::Malformed(format!("unreadable XML: {detail}")),
    }
}
