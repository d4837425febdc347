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
//! a DOCTYPE, an encoding declaration other than UTF-8, a leading byte-order mark (or NUL), any `xml:base`, a
//! namespace declared below the root (the root's declarations are resolved once, with quick-xml's own
//! resolver), an undeclared prefix, any element in the MediaRSS, iTunes or Podcast namespaces (feed-rs builds
//! media objects from them), a named entity other than the five XML ones, an attribute it cannot read, an
//! element inside one whose text it reads, nesting a thousand deep, an author with an e-mail address (feed-rs
//! splits those with a regular expression), and any reader error. Feed-rs reads nothing after `</channel>`, and
//! neither does this. A differential test runs both ways over every fixture, the bench feeds and generated
//! documents (`fastrss/tests.rs`).

use std::sync::LazyLock;

use feed_rs::model::{Content, Entry, Feed, FeedType, Link, LinkTarget, Person, Text};
use mediatype::{names, MediaTypeBuf};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{NamespaceResolver, ResolveResult};
use quick_xml::Reader;
use url::Url;

// Built once: `MediaTypeBuf::new` formats and parses its text every time.
static PLAIN: LazyLock<MediaTypeBuf> =
    LazyLock::new(|| MediaTypeBuf::new(names::TEXT, names::PLAIN));
static HTML: LazyLock<MediaTypeBuf> = LazyLock::new(|| MediaTypeBuf::new(names::TEXT, names::HTML));

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
    /// Text, CDATA and references up to the next tag, coalesced (in [`Events::text`]); it may be "".
    Text,
    Eof,
}

/// The document's events, coalesced as feed-rs coalesces them; `None` from [`Events::next`] means "give up".
struct Events<'i> {
    reader: Reader<&'i [u8]>,
    /// The root's namespace declarations, the only ones there are (see [`Events::next`]): quick-xml's own
    /// resolver, as feed-rs's `NsReader` would hold them below the root.
    namespaces: NamespaceResolver,
    /// The namespace of an element without a prefix (resolved once).
    unprefixed: Option<Ns>,
    /// The tag that ended a run of text, handed out after the text.
    pending: Option<Ev<'i>>,
    /// The text of the last [`Ev::Text`] (one buffer, reused).
    text: String,
}

impl<'i> Events<'i> {
    fn new(text: &'i str) -> Self {
        let mut reader = Reader::from_str(text);
        // feed-rs's reader configuration (`xml::ElementSource::new`).
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.trim_markup_names_in_closing_tags = true;
        config.trim_text(false);
        Events {
            reader,
            namespaces: NamespaceResolver::default(),
            unprefixed: Some(Ns::Rss),
            pending: None,
            text: String::new(),
        }
    }

    /// Takes the root's namespace declarations.
    fn declare(&mut self, root: &BytesStart) -> Option<()> {
        self.namespaces.push(root).ok()?;
        self.unprefixed = ns_of(&self.namespaces.resolve_prefix(None, true));
        Some(())
    }

    /// The next event. Namespaces are resolved with the root's declarations alone, so any element below it
    /// that might declare one (an attribute text with `xmlns` in it) makes the reader give up.
    fn next(&mut self) -> Option<Ev<'i>> {
        if let Some(ev) = self.pending.take() {
            return Some(ev);
        }
        self.text.clear();
        let mut has_text = false;
        let ev = loop {
            match self.reader.read_event().ok()? {
                Event::Start(e) => {
                    if e.attributes_raw().contains("xmlns") {
                        return None;
                    }
                    let ns = match e.name().prefix() {
                        None => self.unprefixed?,
                        prefix => ns_of(&self.namespaces.resolve_prefix(prefix, true))?,
                    };
                    break Ev::Start(ns, e);
                }
                Event::End(_) => break Ev::End,
                Event::Eof => break Ev::Eof,
                Event::Text(t) if !t.is_empty() => {
                    has_text = true;
                    self.text.push_str(&t);
                }
                Event::CData(t) if !t.is_empty() => {
                    has_text = true;
                    self.text.push_str(&t);
                }
                Event::GeneralRef(r) => {
                    has_text = true;
                    match r.resolve_char_ref().ok()? {
                        Some(c) => self.text.push(c),
                        None => self
                            .text
                            .push_str(quick_xml::escape::resolve_predefined_entity(&r)?),
                    }
                }
                // feed-rs would switch its decoder to another declared encoding.
                Event::Decl(d) if d.encoder().is_some_and(|e| e != encoding_rs::UTF_8) => {
                    return None
                }
                Event::DocType(_) => return None,
                // Comments, processing instructions, the declaration, empty text.
                _ => {}
            }
        };
        if has_text {
            self.pending = Some(ev);
            Some(Ev::Text)
        } else {
            Some(ev)
        }
    }

    /// `f` of the text of an element whose start was just read, up to its end (feed-rs's `child_as_text`),
    /// `None` inside when it has none; gives up when the element has elements inside.
    fn leaf<T>(&mut self, f: impl FnOnce(&str) -> T) -> Option<Option<T>> {
        match self.next()? {
            Ev::End => Some(None),
            Ev::Text => matches!(self.next()?, Ev::End).then(|| Some(f(&self.text))),
            Ev::Start(..) | Ev::Eof => None,
        }
    }

    /// Skips the rest of an element whose start was just read. Gives up deep inside: feed-rs's namespace
    /// reader refuses 65 535 levels, and no feed nests anything a thousand deep.
    fn skip(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Ev::Start(..) if depth < 1000 => depth += 1,
                Ev::Start(..) => return None,
                Ev::End => depth -= 1,
                Ev::Text => {}
                Ev::Eof => return None,
            }
        }
        Some(())
    }
}

/// An element's name without its prefix, as feed-rs takes it (the part after the last colon).
fn local<'a>(e: &'a BytesStart) -> &'a str {
    let name: &str = e.name().0;
    name.rfind(':').map_or(name, |colon| &name[colon + 1..])
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
    // feed-rs's decoder would strip a byte-order mark, or take NULs near the start for UTF-16.
    let head = &text.as_bytes()[..text.len().min(4)];
    if text.starts_with('\u{FEFF}') || head.contains(&0) || text.contains("xml:base") {
        return None;
    }
    let mut events = Events::new(text);
    let root = loop {
        match events.reader.read_event().ok()? {
            Event::Start(e) => break e,
            Event::Text(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Decl(d) if d.encoder().is_none_or(|e| e == encoding_rs::UTF_8) => {}
            _ => return None,
        }
    };
    let version = attributes(&root)?
        .into_iter()
        .find(|(name, _)| *name == "version")?
        .1;
    if root.name().0 != "rss" || !matches!(version.as_str(), "2.0" | "") {
        return None;
    }
    events.declare(&root)?;
    loop {
        match events.next()? {
            Ev::Start(_, e) if e.name().0 == "channel" => break,
            Ev::Text => {}
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
        // Most feeds have fewer; growing a vector of entries one doubling at a time copies them all.
        entries: Vec::with_capacity(64),
    };
    loop {
        let (ns, e) = match events.next()? {
            Ev::Start(ns, e) => (ns, e),
            Ev::Text => continue,
            Ev::End => return Some(feed),
            Ev::Eof => return None,
        };
        match (ns, local(&e)) {
            (Ns::Rss, "title") => feed.title = events.leaf(plain)?,
            (Ns::Rss, "link") => feed.links.extend(events.leaf(|t| link(t, base))?),
            (Ns::Atom, "link") => {
                feed.links.extend(atom_link(&e, base)?);
                events.skip()?;
            }
            (Ns::Rss, "ttl") => {
                if let Some(ttl) = events.leaf(|t| t.parse::<u32>().ok())?.flatten() {
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
            Ev::Text => continue,
            Ev::End => break,
            Ev::Eof => return None,
        };
        match (ns, local(&e)) {
            (Ns::Rss, "title") => entry.title = events.leaf(plain)?,
            (Ns::Rss, "link") => links.extend(events.leaf(|t| (link(t, base), false))?),
            (Ns::Rss, "description") => entry.summary = events.leaf(html)?,
            (Ns::Rss, "author") => {
                if let Some(person) = events.leaf(|t| person(t, "author"))? {
                    entry.authors.push(person?);
                }
            }
            (Ns::Dc, "creator") => {
                if let Some(person) = events.leaf(|t| person(t, "creator"))? {
                    entry.authors.push(person?);
                }
            }
            (Ns::Rss, "guid") => {
                if let Some(id) = events.leaf(|t| t.trim().to_owned())? {
                    entry.id = id;
                }
            }
            (Ns::Rss, "pubDate") | (Ns::Dc, "date") => {
                entry.published = events.leaf(super::dates::feed_timestamp)?.flatten();
            }
            (Ns::Rss | Ns::Atom, "updated") => {
                entry.updated = events.leaf(super::dates::feed_timestamp)?.flatten();
            }
            (Ns::Content, "encoded") => {
                let body = events.leaf(str::to_owned)?.filter(|t| !t.is_empty());
                entry.content = body.map(|body| Content {
                    body: Some(body),
                    content_type: HTML.clone(),
                    // feed-rs sets it from the xml:base (here the document's base); `map` does not read it.
                    src: None,
                    length: None,
                });
            }
            (Ns::Wfw, "commentRss" | "commentRSS") => {
                links.extend(events.leaf(|t| {
                    let mut l = link(t, base);
                    l.target = Some(LinkTarget::CommentsFeed);
                    (l, false)
                })?);
            }
            (Ns::Rss, "comments") => {
                links.extend(events.leaf(|t| {
                    let mut l = link(t, base);
                    l.target = Some(LinkTarget::Comments);
                    (l, true)
                })?);
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

/// feed-rs's `Text::new`.
fn plain(content: &str) -> Text {
    Text {
        content_type: PLAIN.clone(),
        src: None,
        content: content.trim().to_owned(),
    }
}

/// feed-rs's `Text::html`.
fn html(content: &str) -> Text {
    Text {
        content_type: HTML.clone(),
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

#[cfg(test)]
mod generated_tests;
