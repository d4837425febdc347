//! Old and odd feed dialects rewritten into ones feed-rs reads, before it reads them.
//!
//! feed-rs reads RSS 0.91–2.0, RSS 1.0 and Atom 1.0, and nothing of what old CMS installs still serve: it finds
//! no entries in Atom 0.3 (`http://purl.org/atom/ns#`, `mode="escaped"`, `issued`/`modified`), Netscape RSS 0.90,
//! Microsoft CDF, or RSS 2.0 in the Userland namespace; it drops RSS 1.0 items that have only an `rdf:about`; and
//! one Atom text construct of a type it does not know (`application/xhtml+xml`, base64 `application/octet-stream`)
//! or an empty one makes the whole feed fail. Rather than fork it, this module streams the document through
//! quick-xml (feed-rs's own XML reader) and writes the modern equivalent:
//!
//! - Atom 0.3 → Atom 1.0: the namespace, `issued`→`published`, `modified`→`updated`, `tagline`→`subtitle`,
//!   `copyright`→`rights`, `url`→`uri`, and every text construct's `type`/`mode` pair → `text` or `html`
//!   ([`atom`]);
//! - RSS 0.90 and CDF → RSS 2.0, Userland RSS → plain RSS 2.0, and in RSS items the fallbacks feedparser also
//!   uses: `rdf:about` as the link, `dc:title`/`media:title` as the title, a `dcterms` date as the date ([`rss`]).
//!
//! Anything else is copied event by event, so the rest of the document reaches feed-rs as it was. Nothing here
//! parses XML by hand: when quick-xml cannot read the document, [`upgrade`] gives up and the original goes to
//! feed-rs, which then reports the error.

mod atom;
mod rss;
#[cfg(test)]
mod tests;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

const ATOM03: &str = "http://purl.org/atom/ns#";
const ATOM10: &str = "http://www.w3.org/2005/Atom";
const RSS090: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS10: &str = "http://purl.org/rss/1.0/";
const USERLAND: [&str; 2] = [
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
];
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS: &str = "http://purl.org/dc/terms/";
const MEDIA: &str = "http://search.yahoo.com/mrss/";

/// The namespace an element is in, as far as the rewrite cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    None,
    Atom03,
    Atom10,
    Rss090,
    Rss10,
    Userland,
    Dc,
    DcTerms,
    Media,
    Other,
}

fn classify(resolved: &ResolveResult) -> Ns {
    match resolved {
        ResolveResult::Unbound => Ns::None,
        ResolveResult::Unknown(_) => Ns::Other,
        ResolveResult::Bound(ns) => match ns.0 {
            "" => Ns::None,
            ATOM03 => Ns::Atom03,
            ATOM10 => Ns::Atom10,
            RSS090 => Ns::Rss090,
            RSS10 => Ns::Rss10,
            DC => Ns::Dc,
            DCTERMS => Ns::DcTerms,
            MEDIA => Ns::Media,
            u if USERLAND.contains(&u) => Ns::Userland,
            _ => Ns::Other,
        },
    }
}

/// Which rewrite a document gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// Atom 0.3; `bare` when its elements are in no namespace (`<feed version="0.3">` without `xmlns`).
    Atom03 {
        bare: bool,
    },
    /// Atom 1.0 whose text constructs feed-rs rejected.
    Atom10,
    /// Netscape RSS 0.90, rewritten as RSS 2.0.
    Rss090,
    Rss10,
    /// RSS 0.9x/2.0, possibly in the Userland namespace.
    Rss2,
    /// Microsoft's Channel Definition Format, rewritten as RSS 2.0.
    Cdf,
}

/// The document rewritten for feed-rs, or `None` when it needs no rewrite (or quick-xml cannot read it).
///
/// Old dialects are always rewritten. Modern ones only when a cheap look finds something to fix, or when `retry`
/// says feed-rs has already failed on the document as it is.
pub(crate) fn upgrade(text: &str, retry: bool) -> Option<String> {
    let dialect = dialect(text, retry)?;
    Rewriter::new(text, dialect).run()
}

/// The dialect of a document that needs rewriting.
fn dialect(text: &str, retry: bool) -> Option<Dialect> {
    let mut reader = NsReader::from_str(text);
    loop {
        match reader.read_resolved_event().ok()? {
            (ns, Event::Start(e) | Event::Empty(e)) => {
                let ns = classify(&ns);
                let local = e.local_name().as_ref().to_ascii_lowercase();
                let version = attr(&e, "version");
                return match (local.as_str(), ns) {
                    ("feed" | "entry", Ns::Atom03) => Some(Dialect::Atom03 { bare: false }),
                    ("feed", Ns::None)
                        if version.as_deref().is_some_and(|v| v.starts_with("0.")) =>
                    {
                        Some(Dialect::Atom03 { bare: true })
                    }
                    ("feed" | "entry", Ns::Atom10 | Ns::None) if retry => Some(Dialect::Atom10),
                    ("rdf", _) if text.contains(RSS090) => Some(Dialect::Rss090),
                    ("rdf", _) => Some(Dialect::Rss10),
                    ("rss", _) if retry || rss::needs_fallbacks(text) => Some(Dialect::Rss2),
                    ("channel", Ns::None) => Some(Dialect::Cdf),
                    _ => None,
                };
            }
            (_, Event::Eof) => return None,
            _ => {}
        }
    }
}

/// The value of an attribute (unescaped), by qualified name.
pub(super) fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.0 == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The same attribute looked up without regard to case (CDF writes `HREF`, `href` or `Href`).
fn attr_ci(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.0.eq_ignore_ascii_case(name))
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The inside of an element read to its end: as the source wrote it, and as the characters it stands for.
struct Captured {
    /// The inner markup re-serialized (CDATA sections as escaped text), i.e. an HTML fragment when the inside
    /// is inline XHTML.
    raw: String,
    /// The character data with every reference resolved (unknown names kept as `&name;`).
    text: String,
    has_elements: bool,
}

/// What to do with an element's tags.
enum Action {
    /// Write it (and later its end tag) under this qualified name, with these attributes.
    Write(BytesStart<'static>),
    /// Leave its tags out but keep what is inside.
    Unwrap,
    /// Leave it out with everything inside.
    Skip,
}

/// State of an open RSS `<item>`, for the fallbacks written before its end tag.
#[derive(Default)]
struct ItemState {
    depth: usize,
    /// The prefix the item's own name used (`rss:` in `<rss:item>`), for the elements we add.
    prefix: String,
    about: Option<String>,
    has_link: bool,
    has_title: bool,
    has_date: bool,
    /// Escaped text of a `dc:title` / `media:title`.
    alt_title: Option<String>,
    /// Escaped text of a `dcterms:issued` / `modified` / `created` (the first one found).
    alt_date: Option<String>,
}

struct Rewriter<'i> {
    reader: NsReader<&'i [u8]>,
    out: Writer<Vec<u8>>,
    dialect: Dialect,
    /// One entry per open element: the end tags to write when it closes (none when its tags were left out).
    open: Vec<Vec<String>>,
    item: Option<ItemState>,
    /// Set once the document element has been seen.
    seen_root: bool,
}

impl<'i> Rewriter<'i> {
    fn new(text: &'i str, dialect: Dialect) -> Self {
        Rewriter {
            reader: NsReader::from_str(text),
            out: Writer::new(Vec::with_capacity(text.len() + text.len() / 8)),
            dialect,
            open: Vec::new(),
            item: None,
            seen_root: false,
        }
    }

    fn run(mut self) -> Option<String> {
        loop {
            let (ns, event) = self.reader.read_resolved_event().ok()?;
            let ns = classify(&ns);
            match event {
                Event::Start(e) => self.start(ns, e, false)?,
                Event::Empty(e) => self.start(ns, e, true)?,
                Event::End(_) => self.end()?,
                Event::Eof => break,
                other => self.out.write_event(other).ok()?,
            }
        }
        if !self.open.is_empty() {
            return None;
        }
        String::from_utf8(self.out.into_inner()).ok()
    }

    fn start(&mut self, ns: Ns, e: BytesStart<'i>, empty: bool) -> Option<()> {
        let root = !self.seen_root;
        self.seen_root = true;
        match self.dialect {
            Dialect::Atom03 { .. } | Dialect::Atom10 => self.atom_start(ns, e, empty, root),
            Dialect::Cdf => self.cdf_start(e, empty, root),
            _ => self.rss_start(ns, e, empty, root),
        }
    }

    fn end(&mut self) -> Option<()> {
        let closes = self.open.pop()?;
        if self
            .item
            .as_ref()
            .is_some_and(|item| item.depth == self.open.len())
        {
            let item = self.item.take()?;
            self.item_fallbacks(item)?;
        }
        for name in closes {
            self.write_end(&name)?;
        }
        Some(())
    }

    /// Applies an action to a start tag (`Skip` consumes the element's content).
    fn apply(&mut self, action: Action, empty: bool, closes: Vec<String>) -> Option<()> {
        match action {
            Action::Write(tag) => {
                let name = tag.name().0.to_owned();
                if empty {
                    self.out.write_event(Event::Empty(tag)).ok()?;
                } else {
                    self.out.write_event(Event::Start(tag)).ok()?;
                    let mut closes = closes;
                    closes.insert(0, name);
                    self.open.push(closes);
                }
            }
            Action::Unwrap => {
                if !empty {
                    self.open.push(closes);
                }
            }
            Action::Skip => {
                if !empty {
                    self.capture()?;
                }
            }
        }
        Some(())
    }

    /// Reads the rest of the current element (up to and including its end tag).
    fn capture(&mut self) -> Option<Captured> {
        let mut raw = Writer::new(Vec::new());
        let mut text = String::new();
        let mut has_elements = false;
        let mut depth = 0usize;
        loop {
            match self.reader.read_event().ok()? {
                Event::Start(e) => {
                    depth += 1;
                    has_elements = true;
                    raw.write_event(Event::Start(e)).ok()?;
                }
                Event::Empty(e) => {
                    has_elements = true;
                    raw.write_event(Event::Empty(e)).ok()?;
                }
                Event::End(e) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    raw.write_event(Event::End(e)).ok()?;
                }
                Event::Text(t) => {
                    text.push_str(&t.xml10_content());
                    raw.write_event(Event::Text(t)).ok()?;
                }
                Event::CData(c) => {
                    let content = c.xml10_content();
                    text.push_str(&content);
                    raw.write_event(Event::Text(BytesText::new(&content)))
                        .ok()?;
                }
                Event::GeneralRef(r) => {
                    match r.resolve_char_ref().ok().flatten() {
                        Some(c) => text.push(c),
                        None => match &*r {
                            "lt" => text.push('<'),
                            "gt" => text.push('>'),
                            "amp" => text.push('&'),
                            "quot" => text.push('"'),
                            "apos" => text.push('\''),
                            // An HTML entity the document never declared: the HTML layer decodes it later.
                            name => {
                                text.push('&');
                                text.push_str(name);
                                text.push(';');
                            }
                        },
                    }
                    raw.write_event(Event::GeneralRef(r)).ok()?;
                }
                Event::Eof => return None,
                _ => {}
            }
        }
        Some(Captured {
            raw: String::from_utf8(raw.into_inner()).ok()?,
            text,
            has_elements,
        })
    }

    fn write_end(&mut self, name: &str) -> Option<()> {
        self.out.write_event(Event::End(BytesEnd::new(name))).ok()
    }

    /// `<name>escaped</name>`, the text already escaped.
    fn write_element(&mut self, name: &str, escaped: &str) -> Option<()> {
        self.out
            .write_event(Event::Start(BytesStart::new(name)))
            .ok()?;
        self.out
            .write_event(Event::Text(BytesText::from_escaped(escaped)))
            .ok()?;
        self.write_end(name)
    }
}

/// A copy of a start tag under another name, with the attributes `keep` accepts (it may also change a value).
fn retag(
    e: &BytesStart,
    name: &str,
    mut keep: impl FnMut(&str, &str) -> Option<String>,
) -> BytesStart<'static> {
    let mut tag = BytesStart::new(name.to_owned());
    for a in e.attributes().with_checks(false).flatten() {
        if let Some(value) = keep(a.key.0, &a.value) {
            tag.push_attribute(quick_xml::events::attributes::Attribute {
                key: quick_xml::name::QName(a.key.0),
                value: value.into(),
            });
        }
    }
    tag
}

/// `name` with the local part replaced (`atom:issued` → `atom:published`).
fn with_local(qname: &str, local: &str) -> String {
    match qname.split_once(':') {
        Some((prefix, _)) => format!("{prefix}:{local}"),
        None => local.to_owned(),
    }
}
