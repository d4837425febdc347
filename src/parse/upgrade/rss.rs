//! RSS 0.90 and CDF → RSS 2.0, Userland RSS → plain RSS 2.0, and the item fallbacks feedparser uses.
//!
//! - RSS 0.90 (`http://my.netscape.com/rdf/simple/0.9/`) is RSS 1.0's ancestor: items beside the channel, no
//!   `rdf:about`. It becomes `<rss version="2.0"><channel>` with the items inside.
//! - RSS 2.0 in the Userland namespace (`http://backend.userland.com/rss2`, default or prefixed): the namespace is
//!   dropped, since feed-rs reads RSS 2.0 elements only in no namespace.
//! - CDF (`<CHANNEL HREF LASTMOD>` with `<ITEM>`, `<TITLE>`, `<ABSTRACT>`): rewritten as RSS 2.0, attributes
//!   becoming `<link>` and `<pubDate>`, `BASE` becoming `xml:base`.
//! - In every RSS item: no `<link>` but an `rdf:about` → that is the link (feed-rs drops RSS 1.0 items without a
//!   link); no `<title>` but a `dc:title` or `media:title` → the title; no `pubDate`/`dc:date` but a `dcterms`
//!   date → the date.

use quick_xml::events::BytesStart;

use super::{attr_ci, retag, Action, Dialect, ItemState, Ns, Rewriter, DC, RSS090, USERLAND};

/// Whether an RSS 2.0 document has something the fallbacks fix (a cheap look before a full rewrite).
pub(super) fn needs_fallbacks(text: &str) -> bool {
    USERLAND.iter().any(|ns| text.contains(ns))
        || text.contains(super::DCTERMS)
        || text.contains("dc:title>")
        || text.contains("media:title")
}

impl Rewriter<'_> {
    pub(super) fn rss_start(
        &mut self,
        ns: Ns,
        e: BytesStart,
        empty: bool,
        root: bool,
    ) -> Option<()> {
        let qname = e.name().0.to_owned();
        let local = e.local_name().as_ref().to_owned();
        let rss090 = self.dialect == Dialect::Rss090;
        let is_rss = match self.dialect {
            Dialect::Rss090 => ns == Ns::Rss090,
            Dialect::Rss10 => ns == Ns::Rss10,
            _ => matches!(ns, Ns::None | Ns::Userland),
        };
        let drop_decl = |key: &str, value: &str| {
            let decl = key == "xmlns" || key.starts_with("xmlns:");
            let obsolete = value == RSS090 || USERLAND.contains(&value);
            (!(decl && obsolete)).then(|| value.to_owned())
        };
        if root && rss090 {
            // <rdf:RDF> → <rss version="2.0"><channel>, closed together at the end.
            let mut tag = retag(&e, "rss", |k, v| {
                (k.starts_with("xmlns:") && v != RSS090).then(|| v.to_owned())
            });
            tag.push_attribute(("version", "2.0"));
            self.out
                .write_event(quick_xml::events::Event::Start(tag))
                .ok()?;
            self.out
                .write_event(quick_xml::events::Event::Start(BytesStart::new("channel")))
                .ok()?;
            self.open.push(vec!["channel".into(), "rss".into()]);
            return Some(());
        }
        if rss090 && is_rss && local == "channel" {
            return self.apply(Action::Unwrap, empty, Vec::new());
        }
        if self.note_item_child(ns, &local, &e, empty)? {
            return Some(());
        }
        if self.item.is_none() && is_rss && local == "item" && !empty {
            self.item = Some(ItemState {
                depth: self.open.len(),
                prefix: qname
                    .split_once(':')
                    .filter(|_| !rss090 && ns != Ns::Userland)
                    .map(|(p, _)| format!("{p}:"))
                    .unwrap_or_default(),
                about: super::attr(&e, "rdf:about"),
                ..ItemState::default()
            });
        }
        // Obsolete namespaces are dropped, so their prefixed names lose the prefix.
        let name = if is_rss && (rss090 || ns == Ns::Userland) {
            local.clone()
        } else {
            qname.clone()
        };
        let tag = retag(&e, &name, drop_decl);
        self.apply(Action::Write(tag), empty, Vec::new())
    }

    /// Notes what a child of the open item provides. The ones kept for fallbacks are read and written back
    /// here: then the answer is `true` (nothing more to write for this element).
    fn note_item_child(
        &mut self,
        ns: Ns,
        local: &str,
        e: &BytesStart,
        empty: bool,
    ) -> Option<bool> {
        let Some(item) = self.item.as_mut() else {
            return Some(false);
        };
        let direct = self.open.len() == item.depth + 1;
        let rss_ns = matches!(ns, Ns::None | Ns::Rss090 | Ns::Rss10 | Ns::Userland);
        match (ns, local) {
            (_, "link") if direct && rss_ns => item.has_link = true,
            (_, "title") if direct && rss_ns => item.has_title = true,
            (_, "pubDate") if direct && rss_ns => item.has_date = true,
            (Ns::Dc, "date") => item.has_date = true,
            (Ns::Dc | Ns::Media, "title") | (Ns::DcTerms, "issued" | "modified" | "created")
                if !empty =>
            {
                let wants = if local == "title" {
                    item.alt_title.is_none()
                } else {
                    item.alt_date.is_none()
                };
                if wants {
                    // Read it to keep its text; write it back unchanged (as escaped text, CDATA included).
                    let name = e.name().0.to_owned();
                    let tag = retag(e, &name, |_, v| Some(v.to_owned()));
                    let inside = self.capture()?;
                    let escaped = quick_xml::escape::escape(inside.text.as_str()).into_owned();
                    self.out
                        .write_event(quick_xml::events::Event::Start(tag))
                        .ok()?;
                    self.out
                        .write_event(quick_xml::events::Event::Text(
                            quick_xml::events::BytesText::from_escaped(escaped.clone()),
                        ))
                        .ok()?;
                    self.write_end(&name)?;
                    let item = self.item.as_mut()?;
                    if !inside.text.trim().is_empty() {
                        if local == "title" {
                            item.alt_title = Some(escaped);
                        } else {
                            item.alt_date = Some(escaped);
                        }
                    }
                    return Some(true);
                }
            }
            _ => {}
        }
        Some(false)
    }

    /// Writes an item's missing link, title and date before its end tag.
    pub(super) fn item_fallbacks(&mut self, item: ItemState) -> Option<()> {
        let p = item.prefix.clone();
        if !item.has_title {
            if let Some(title) = &item.alt_title {
                self.write_element(&format!("{p}title"), title)?;
            }
        }
        if !item.has_link {
            if let Some(about) = item.about.as_deref().filter(|a| !a.trim().is_empty()) {
                let escaped = quick_xml::escape::escape(about).into_owned();
                self.write_element(&format!("{p}link"), &escaped)?;
            }
        }
        if !item.has_date {
            if let Some(date) = &item.alt_date {
                let mut tag = BytesStart::new("dc:date");
                tag.push_attribute(("xmlns:dc", DC));
                self.out
                    .write_event(quick_xml::events::Event::Start(tag))
                    .ok()?;
                self.out
                    .write_event(quick_xml::events::Event::Text(
                        quick_xml::events::BytesText::from_escaped(date.as_str()),
                    ))
                    .ok()?;
                self.write_end("dc:date")?;
            }
        }
        Some(())
    }

    pub(super) fn cdf_start(&mut self, e: BytesStart, empty: bool, root: bool) -> Option<()> {
        let local = e.local_name().as_ref().to_ascii_lowercase();
        let in_item = self.item.is_some();
        match local.as_str() {
            "channel" if root => {
                let mut rss = BytesStart::new("rss");
                rss.push_attribute(("version", "2.0"));
                self.out
                    .write_event(quick_xml::events::Event::Start(rss))
                    .ok()?;
                let mut channel = BytesStart::new("channel");
                if let Some(base) = attr_ci(&e, "base") {
                    channel.push_attribute(("xml:base", base.as_str()));
                }
                self.out
                    .write_event(quick_xml::events::Event::Start(channel))
                    .ok()?;
                self.cdf_link_and_date(&e)?;
                if empty {
                    self.write_end("channel")?;
                    return self.write_end("rss");
                }
                self.open.push(vec!["channel".into(), "rss".into()]);
                Some(())
            }
            // A channel inside the channel: its items count, its own title does not.
            "channel" => self.apply(Action::Unwrap, empty, Vec::new()),
            "item" if !in_item => {
                self.out
                    .write_event(quick_xml::events::Event::Start(BytesStart::new("item")))
                    .ok()?;
                self.cdf_link_and_date(&e)?;
                if empty {
                    return self.write_end("item");
                }
                self.item = Some(ItemState {
                    depth: self.open.len(),
                    has_link: true,
                    has_title: true,
                    has_date: true,
                    ..ItemState::default()
                });
                self.open.push(vec!["item".into()]);
                Some(())
            }
            "title" | "abstract" if self.open.len() == 1 || in_item => {
                let name = if local == "title" {
                    "title"
                } else {
                    "description"
                };
                self.apply(Action::Write(BytesStart::new(name)), empty, Vec::new())
            }
            _ => self.apply(Action::Skip, empty, Vec::new()),
        }
    }

    fn cdf_link_and_date(&mut self, e: &BytesStart) -> Option<()> {
        if let Some(href) = attr_ci(e, "href") {
            let escaped = quick_xml::escape::escape(href.as_str()).into_owned();
            self.write_element("link", &escaped)?;
        }
        if let Some(lastmod) = attr_ci(e, "lastmod") {
            let escaped = quick_xml::escape::escape(lastmod.as_str()).into_owned();
            self.write_element("pubDate", &escaped)?;
        }
        Some(())
    }
}
