//! A fast reader for the common case, a plain RSS 2.0 document, giving the same [`Feed`] fields feed-rs gives.
//!
//! Why: feed-rs is most of the parse stage's cost (in the 10 000-item bench round about a sixth of all
//! instructions, on the CPU-slot thread that feeds the writer). Its generic element tree allocates a `String`
//! for every element name, text and attribute, clones the base URL into every element and parses every link
//! twice. Most feeds are plain RSS 2.0 (WordPress, simple news CMSs), and for those one streaming quick-xml pass
//! (the same reader, version and configuration feed-rs uses) can build the few fields [`super::map`] reads.
//!
//! What it reads, exactly as feed-rs's RSS 2.0 parser does (`feed_rs::parser::rss2`): the channel's `title`,
//! `link`, `atom:link` and `ttl`; each item's `title`, `link`, `description`, `author`, `guid`, `pubDate` /
//! `dc:date`, `updated` / `atom:updated`, `content:encoded`, `dc:creator`, `comments` and `wfw:commentRss`
//! (feed-rs keeps those last two as links, and they can be the first link an item has). Text is coalesced the
//! way feed-rs coalesces it (text, CDATA and references up to the next tag, comments skipped), dates go through
//! the same [`super::dates::feed_timestamp`], links are resolved as feed-rs's `Link::new` resolves them. Every
//! other element is skipped whole, as feed-rs skips it: the result is not feed-rs's whole model (no
//! categories, enclosures, language…) but exactly the part `map` turns into a `ParsedFeed`.
//!
//! It gives up (returns `None`, and feed-rs reads the document as before) whenever it cannot be sure to read as
//! feed-rs would: another root than `<rss version="2.0">` (or `version=""`), anything before the `<channel>`,
//! a DOCTYPE, an encoding declaration other than UTF-8, a leading byte-order mark, any `xml:base`, an undeclared
//! prefix, any element in the MediaRSS, iTunes or Podcast namespaces (feed-rs builds media objects from them), a
//! named entity other than the five XML ones, an attribute it cannot read, an element inside one whose text it
//! reads, an author with an e-mail address (feed-rs splits those with a regular expression), and any reader
//! error. Feed-rs reads nothing after `</channel>`, and neither does this. A differential test runs both ways
//! over every fixture, the bench feeds and generated documents (`fastrss/tests.rs`).

use feed_rs::model::{Content, Entry, Feed, FeedType, Link, LinkTarget, Person, Text};
use mediatype::{names, MediaTypeBuf};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

/// The namespace of an element, as feed-rs's `xml::NS` classifies it.
#[derive(Clone, Copy, PartialEq)]
enum Ns {
    /// No namespace (feed-rs then applies the document's default, RSS) or RSS 1.0's.
    Rss,
    Atom,
    Content,
    Dc,
    Wfw,
    /// Any other namespace: feed-rs ignores such elements.
    Unknown,
}

/// An element's namespace; `None` for the namespaces this reader refuses (see the module doc).
fn ns_of(resolved: &ResolveResult) -> Option<Ns> {
    match resolved {
        ResolveResult::Unbound => Some(Ns::Rss),
        ResolveResult::Unknown(_) => None,
        ResolveResult::Bound(ns) => match ns.as_ref() {
            "http://purl.org/rss/1.0/" => Some(Ns::Rss),
            "http://www.w3.org/2005/Atom" => Some(Ns::Atom),
            "http://purl.org/rss/1.0/modules/content/" => Some(Ns::Content),
            "http://purl.org/dc/elements/1.1/" => Some(Ns::Dc),
            "http://wellformedweb.org/CommentAPI/" => Some(Ns::Wfw),
            "http://search.yahoo.com/mrss/"
            | "http://www.itunes.com/dtds/podcast-1.0.dtd"
            | "https://podcastindex.org/namespace/1.0" => None,
            _ => Some(Ns::Unknown),
        },
    }
}

/// What feed-rs's event source (`xml::SourceState`) hands its parsers.
enum Ev<'i> {
    Start(Ns, BytesStart<'i>),
    End,
    /// Text, CDATA and references up to the next tag, coalesced; never empty of events (it may be "").
    Text(String),
    Eof,
}

/// The document's events, coalesced as feed-rs coalesces them; `None` from [`Events::next`] means "give up".
struct Events<'i> {
    reader: NsReader<&'i [u8]>,
    /// The tag that ended a run of text, handed out after the text.
    pending: Option<Ev<'i>>,
}

impl<'i> Events<'i> {
    fn new(text: &'i str) -> Self {
        let mut reader = NsReader::from_str(text);
        // feed-rs's reader configuration (`xml::ElementSource::new`).
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.trim_markup_names_in_closing_tags = true;
        config.trim_text(false);
        Events {
            reader,
            pending: None,
        }
    }

    fn next(&mut self) -> Option<Ev<'i>> {
        if let Some(ev) = self.pending.take() {
            return Some(ev);
        }
        let mut text: Option<String> = None;
        let ev = loop {
            let (resolved, event) = self.reader.read_resolved_event().ok()?;
            match event {
                Event::Start(e) => break Ev::Start(ns_of(&resolved)?, e),
                Event::End(_) => break Ev::End,
                Event::Eof => break Ev::Eof,
                Event::Text(t) if !t.is_empty() => text.get_or_insert_default().push_str(&t),
                Event::CData(t) if !t.is_empty() => text.get_or_insert_default().push_str(&t),
                Event::GeneralRef(r) => {
                    let buffer = text.get_or_insert_default();
                    match r.resolve_char_ref().ok()? {
                        Some(c) => buffer.push(c),
                        None => buffer.push_str(quick_xml::escape::resolve_predefined_entity(&r)?),
                    }
                }
                // feed-rs would switch its decoder to another declared encoding.
                Event::Decl(d) if d.encoder().is_some_and(|e| e != encoding_rs::UTF_8) => return None,
                Event::DocType(_) => return None,
                // Comments, processing instructions, the declaration, empty text.
                _ => {}
            }
        };
        match text {
            Some(t) => {
                self.pending = Some(ev);
                Some(Ev::Text(t))
            }
            None => Some(ev),
        }
    }

    /// The text of an element whose start was just read, up to its end (feed-rs's `child_as_text`); gives up
    /// when the element has elements inside.
    fn leaf_text(&mut self) -> Option<Option<String>> {
        match self.next()? {
            Ev::End => Some(None),
            Ev::Text(t) => matches!(self.next()?, Ev::End).then_some(Some(t)),
            Ev::Start(..) | Ev::Eof => None,
        }
    }

    /// Skips the rest of an element whose start was just read.
    fn skip(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Ev::Start(..) => depth += 1,
                Ev::End => depth -= 1,
                Ev::Text(_) => {}
                Ev::Eof => return None,
            }
        }
        Some(())
    }
}

/// An element's name without its prefix, as feed-rs takes it (the part after the last colon).
fn local<'a>(e: &'a BytesStart) -> &'a str {
    let name: &str = e.name().0;
    name.rsplit(':').next().unwrap_or(name)
}

/// An element's attributes with their values unescaped (as feed-rs keeps them); `None` if one is unreadable.
fn attributes<'a>(e: &'a BytesStart) -> Option<Vec<(&'a str, String)>> {
    e.attributes()
        .map(|a| {
            let a = a.ok()?;
            let value = quick_xml::escape::unescape(&a.value).ok()?.into_owned();
            Some((a.key.0, value))
        })
        .collect()
}

/// The feed-rs model of a plain RSS 2.0 document, or `None` when feed-rs must read it (see the module doc).
pub(super) fn read(text: &str, base: &Url) -> Option<Feed> {
    if text.starts_with('\u{FEFF}') || text.contains("xml:base") {
        return None;
    }
    let mut events = Events::new(text);
    let root = loop {
        match events.next()? {
            Ev::Start(_, e) => break e,
            Ev::Text(_) => {}
            Ev::End | Ev::Eof => return None,
        }
    };
    let version = attributes(&root)?
        .into_iter()
        .find(|(name, _)| *name == "version")?
        .1;
    if root.name().0 != "rss" || !matches!(version.as_str(), "2.0" | "") {
        return None;
    }
    loop {
        match events.next()? {
            Ev::Start(_, e) if e.name().0 == "channel" => break,
            Ev::Text(_) => {}
            _ => return None,
        }
    }
    channel(&mut events, base)
}

fn channel(events: &mut Events, base: &Url) -> Option<Feed> {
    let mut feed = Feed {
        feed_type: FeedType::RSS2,
        id: String::new(),
        title: None,
        updated: None,
        authors: Vec::new(),
        description: None,
        links: Vec::new(),
        categories: Vec::new(),
        contributors: Vec::new(),
        generator: None,
        icon: None,
        language: None,
        logo: None,
        published: None,
        rating: None,
        rights: None,
        ttl: None,
        people: Vec::new(),
        entries: Vec::new(),
    };
    loop {
        let (ns, e) = match events.next()? {
            Ev::Start(ns, e) => (ns, e),
            Ev::Text(_) => continue,
            Ev::End => return Some(feed),
            Ev::Eof => return None,
        };
        match (ns, local(&e)) {
            (Ns::Rss, "title") => feed.title = events.leaf_text()?.map(plain),
            (Ns::Rss, "link") => feed.links.extend(events.leaf_text()?.map(|t| link(&t, base))),
            (Ns::Atom, "link") => {
                feed.links.extend(atom_link(&e, base)?);
                events.skip()?;
            }
            (Ns::Rss, "ttl") => {
                if let Some(ttl) = events.leaf_text()?.and_then(|t| t.parse::<u32>().ok()) {
                    feed.ttl = Some(ttl);
                }
            }
            (Ns::Rss, "item") => feed.entries.push(item(events, base)?),
            _ => events.skip()?,
        }
    }
}

/// One `<item>`, as feed-rs's `rss2::handle_item` reads it (less the media objects, which `map` does not read
/// from an RSS enclosure).
fn item(events: &mut Events, base: &Url) -> Option<Entry> {
    let mut entry = Entry::default();
    // Each link and whether it is an RSS `<comments>` link (see `clean_links`).
    let mut links: Vec<(Link, bool)> = Vec::new();
    loop {
        let (ns, e) = match events.next()? {
            Ev::Start(ns, e) => (ns, e),
            Ev::Text(_) => continue,
            Ev::End => break,
            Ev::Eof => return None,
        };
        match (ns, local(&e)) {
            (Ns::Rss, "title") => entry.title = events.leaf_text()?.map(plain),
            (Ns::Rss, "link") => links.extend(events.leaf_text()?.map(|t| (link(&t, base), false))),
            (Ns::Rss, "description") => entry.summary = events.leaf_text()?.map(html),
            (Ns::Rss, "author") => {
                if let Some(t) = events.leaf_text()? {
                    entry.authors.push(person(&t, "author")?);
                }
            }
            (Ns::Dc, "creator") => {
                if let Some(t) = events.leaf_text()? {
                    entry.authors.push(person(&t, "creator")?);
                }
            }
            (Ns::Rss, "guid") => {
                if let Some(t) = events.leaf_text()? {
                    entry.id = t.trim().to_owned();
                }
            }
            (Ns::Rss, "pubDate") | (Ns::Dc, "date") => {
                entry.published = events.leaf_text()?.and_then(|t| super::dates::feed_timestamp(&t));
            }
            (Ns::Rss | Ns::Atom, "updated") => {
                entry.updated = events.leaf_text()?.and_then(|t| super::dates::feed_timestamp(&t));
            }
            (Ns::Content, "encoded") => {
                entry.content = events.leaf_text()?.filter(|t| !t.is_empty()).map(|body| Content {
                    body: Some(body),
                    content_type: MediaTypeBuf::new(names::TEXT, names::HTML),
                    // feed-rs sets it from the xml:base (here the document's base); `map` does not read it.
                    src: None,
                    length: None,
                });
            }
            (Ns::Wfw, "commentRss" | "commentRSS") => {
                links.extend(events.leaf_text()?.map(|t| {
                    let mut l = link(&t, base);
                    l.target = Some(LinkTarget::CommentsFeed);
                    (l, false)
                }));
            }
            (Ns::Rss, "comments") => {
                links.extend(events.leaf_text()?.map(|t| {
                    let mut l = link(&t, base);
                    l.target = Some(LinkTarget::Comments);
                    (l, true)
                }));
            }
            _ => events.skip()?,
        }
    }
    if entry.updated.is_none() && entry.published.is_some() {
        entry.updated = entry.published;
    }
    entry.links = clean_links(links);
    Some(entry)
}

/// feed-rs's `clean_links`: a `<comments>` link to a page another link already names is dropped.
fn clean_links(links: Vec<(Link, bool)>) -> Vec<Link> {
    let others: Vec<String> = links
        .iter()
        .filter(|(_, comments)| !comments)
        .map(|(l, _)| l.href.clone())
        .collect();
    links
        .into_iter()
        .filter(|(l, comments)| !comments || !others.contains(&l.href))
        .map(|(l, _)| l)
        .collect()
}

fn plain(content: String) -> Text {
    Text {
        content_type: MediaTypeBuf::new(names::TEXT, names::PLAIN),
        src: None,
        content: content.trim().to_owned(),
    }
}

fn html(content: String) -> Text {
    Text {
        content_type: MediaTypeBuf::new(names::TEXT, names::HTML),
        src: None,
        content: content.trim().to_owned(),
    }
}

/// feed-rs's `Person::parse` for a text without an e-mail address (its pattern needs an `@`): all of it is the
/// name. `None` (give up) for a text with an `@`.
fn person(text: &str, role: &str) -> Option<Person> {
    (!text.contains('@')).then(|| Person {
        name: Some(text.trim().to_owned()),
        uri: None,
        email: None,
        role: Some(role.to_owned()),
    })
}

/// feed-rs's `Link::new` with the document's base: an absolute URL as the URL parser writes it, a relative one
/// resolved against `base`, anything unparseable kept as it is; then trimmed.
fn link(href: &str, base: &Url) -> Link {
    let href = if crate::identity::is_plain_url(href) {
        // The parser would write it exactly so (see `is_plain_url`); most links are like this.
        href.to_owned()
    } else {
        match Url::parse(href) {
            Ok(url) => Some(url),
            Err(url::ParseError::RelativeUrlWithoutBase) => base.join(href).ok(),
            Err(_) => None,
        }
        .map_or_else(|| href.to_owned(), |url| url.to_string())
        .trim()
        .to_owned()
    };
    Link {
        href,
        target: None,
        rel: None,
        media_type: None,
        href_lang: None,
        title: None,
        length: None,
    }
}

/// feed-rs's `atom::handle_link`: a link when there is an `href`, `rel` "alternate" unless given.
fn atom_link(e: &BytesStart, base: &Url) -> Option<Option<Link>> {
    let attributes = attributes(e)?;
    let Some((_, href)) = attributes.iter().find(|(name, _)| *name == "href") else {
        return Some(None);
    };
    let mut link = link(href, base);
    for (name, value) in &attributes {
        match *name {
            "rel" => link.rel = Some(value.clone()),
            "type" => link.media_type = Some(value.clone()),
            "hreflang" => link.href_lang = Some(value.clone()),
            "title" => link.title = Some(value.clone()),
            "length" => link.length = value.parse::<u64>().ok(),
            _ => {}
        }
    }
    link.rel.get_or_insert_with(|| "alternate".to_owned());
    Some(Some(link))
}

#[cfg(test)]
mod tests;
