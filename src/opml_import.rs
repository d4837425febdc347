//! `qafila import-opml`: turns a feed reader's OPML export into `[[source]]` entries to append to the config.
//!
//! OPML files in the wild are rarely strict XML (bare `&` in URLs, unknown HTML entities, odd casing of `xmlUrl`),
//! and a strict parser would reject the very exports operators have. So this is a small tolerant scanner rather
//! than an XML parser: it walks the tags (skipping comments, CDATA, processing instructions and the doctype),
//! reads the attributes of every `<outline>`, decodes the five XML entities and numeric references, and leaves
//! anything else as written. Folders nest to any depth and are only used to label the output.
//!
//! The result is TOML *text*, not a `Config`, because the operator is meant to read it (comments say what was
//! skipped and why) before appending it to the config file.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::identity::canonical_url;
use crate::text::{decode_entities, Entities};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum OpmlError {
    #[error("not an OPML file: no <opml> element found")]
    NotOpml,
    #[error("line {line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("the OPML file lists no feeds (no <outline> has an xmlUrl)")]
    NoFeeds,
}

/// Reads an OPML 1.0/2.0 file and returns the `[[source]]` TOML for each feed it lists (an outline with an
/// `xmlUrl`, at any depth): `id` from the title or else the host (lowercase `[a-z0-9-]+`, unique among
/// `existing` ids and each other), `name` = title or text, `url` = xmlUrl. Feeds whose URL is already configured
/// (`existing` is `(id, url)`), listed twice, or not http(s) are skipped with a comment line saying so.
pub(crate) fn opml_to_toml(opml: &str, existing: &[(String, String)]) -> Result<String, OpmlError> {
    let outlines = scan(opml)?;
    if !outlines.iter().any(|o| o.xml_url.is_some()) {
        return Err(OpmlError::NoFeeds);
    }
    let mut taken_ids: HashSet<String> = existing.iter().map(|(id, _)| id.clone()).collect();
    let mut known_urls: Vec<(String, String)> = existing
        .iter()
        .filter_map(|(id, url)| Some((canonical_url(url)?, format!("configured as `{id}`"))))
        .collect();
    let mut body = String::new();
    let (mut added, mut skipped) = (0, 0);
    for o in outlines {
        let Some(raw_url) = o.xml_url.as_deref().map(str::trim) else {
            continue;
        };
        let label = o.title.clone().or(o.text.clone()).unwrap_or_default();
        let Some(canonical) = url::Url::parse(raw_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .and_then(|_| canonical_url(raw_url))
        else {
            skipped += 1;
            let _ = writeln!(
                body,
                "\n# skipped {}: `{}` is not an http(s) URL",
                comment_text(&label),
                comment_text(raw_url)
            );
            continue;
        };
        if let Some((_, why)) = known_urls.iter().find(|(u, _)| *u == canonical) {
            skipped += 1;
            let _ = writeln!(
                body,
                "\n# skipped {} <{}>: already {why}",
                comment_text(&label),
                comment_text(raw_url)
            );
            continue;
        }
        let host = url::Url::parse(raw_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let id = unique_id(&derive_id(&label, &host), &mut taken_ids);
        let name = if label.trim().is_empty() {
            host.clone()
        } else {
            label.trim().to_string()
        };
        known_urls.push((canonical, format!("imported above as `{id}`")));
        added += 1;
        body.push('\n');
        if !o.folders.is_empty() {
            let _ = writeln!(
                body,
                "# from OPML folder: {}",
                comment_text(&o.folders.join(" / "))
            );
        }
        body.push_str(&source_table(&id, &name, raw_url));
    }
    Ok(format!(
        "\n# Imported from OPML by `qafila import-opml`: {added} new source(s), {skipped} skipped.\n\
         # Review before appending; general outlets may want `region_filter = true`.\n{body}"
    ))
}

/// One `<outline>` as found, with the titles of the folders around it.
#[derive(Debug, Default, Clone, PartialEq)]
struct Outline {
    title: Option<String>,
    text: Option<String>,
    xml_url: Option<String>,
    folders: Vec<String>,
}

/// All outlines in document order. Fails only on what makes the file unreadable (an unterminated tag or quote,
/// no `<opml>` at all); unbalanced `</outline>` tags are tolerated.
fn scan(doc: &str) -> Result<Vec<Outline>, OpmlError> {
    let line_of = |pos: usize| doc[..pos].matches('\n').count() + 1;
    let malformed = |pos: usize, message: &str| OpmlError::Malformed {
        line: line_of(pos),
        message: message.to_string(),
    };
    let mut out = Vec::new();
    let mut saw_opml = false;
    // One entry per open, non-self-closing outline: its title if it is a folder, `None` for a feed.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut pos = 0;
    while let Some(off) = doc[pos..].find('<') {
        let start = pos + off;
        let rest = &doc[start..];
        let skip_to = |end: &str, what: &str| {
            rest.find(end)
                .map(|i| start + i + end.len())
                .ok_or_else(|| malformed(start, &format!("unterminated {what}")))
        };
        if rest.starts_with("<!--") {
            pos = skip_to("-->", "comment")?;
        } else if rest.starts_with("<![CDATA[") {
            pos = skip_to("]]>", "CDATA section")?;
        } else if rest.starts_with("<?") {
            pos = skip_to("?>", "processing instruction")?;
        } else if rest.starts_with("<!") {
            // A doctype, possibly with an internal subset; its entities are not expanded (no entity bombs).
            let bracket = rest.find('[').filter(|&b| b < rest.find('>').unwrap_or(0));
            pos = match bracket {
                Some(_) => skip_to("]>", "doctype")?,
                None => skip_to(">", "doctype")?,
            };
        } else if let Some(close) = rest.strip_prefix("</") {
            let name_len = close
                .find(|c: char| c == '>' || c.is_whitespace())
                .ok_or_else(|| malformed(start, "unterminated end tag"))?;
            if local_name(&close[..name_len]).eq_ignore_ascii_case("outline") {
                open.pop();
            }
            pos = skip_to(">", "end tag")?;
        } else {
            let (name, attrs, self_closing, end) =
                parse_tag(doc, start + 1).map_err(|(at, m)| malformed(at, &m))?;
            pos = end;
            let name = local_name(&name);
            if name.eq_ignore_ascii_case("opml") {
                saw_opml = true;
            } else if name.eq_ignore_ascii_case("outline") {
                let get = |key: &str| {
                    attrs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                let outline = Outline {
                    title: get("title"),
                    text: get("text"),
                    xml_url: get("xmlUrl"),
                    folders: open.iter().flatten().cloned().collect(),
                };
                if !self_closing {
                    let folder = outline.title.clone().or(outline.text.clone());
                    open.push(if outline.xml_url.is_some() {
                        None
                    } else {
                        folder
                    });
                }
                out.push(outline);
            }
        }
    }
    if !saw_opml {
        return Err(OpmlError::NotOpml);
    }
    Ok(out)
}

type Attrs = Vec<(String, String)>;

/// Parses the start tag whose name begins at `at` (just after `<`): its name, attributes (decoded), whether it
/// closes itself, and the position after its `>`. Quotes are respected, so a `>` inside a value is no end.
fn parse_tag(doc: &str, at: usize) -> Result<(String, Attrs, bool, usize), (usize, String)> {
    let bytes = doc.as_bytes();
    let is_name_end = |b: u8| b.is_ascii_whitespace() || b == b'>' || b == b'/' || b == b'=';
    let mut i = at;
    while i < bytes.len() && !is_name_end(bytes[i]) {
        i += 1;
    }
    let name = doc[at..i].to_string();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return Err((at, format!("unterminated <{name}> tag"))),
            Some(b'>') => return Ok((name, attrs, false, i + 1)),
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => return Ok((name, attrs, true, i + 2)),
            _ => {}
        }
        let key_start = i;
        while i < bytes.len() && !is_name_end(bytes[i]) {
            i += 1;
        }
        let key = doc[key_start..i].to_string();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if key.is_empty() || bytes.get(i) != Some(&b'=') {
            return Err((
                key_start,
                format!("attribute `{key}` of <{name}> has no value"),
            ));
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err((i, format!("attribute `{key}` of <{name}> is not quoted"))),
        };
        let value_start = i + 1;
        let len = doc[value_start..]
            .find(quote as char)
            .ok_or_else(|| (i, format!("unterminated value of attribute `{key}`")))?;
        attrs.push((key, decode(&doc[value_start..value_start + len])));
        i = value_start + len + 1;
    }
}

/// `opml:outline` → `outline`.
fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Decodes XML entities and character references in an attribute value; anything else starting with `&` (a bare
/// ampersand in a URL, an HTML entity) is kept as written. Whitespace characters become spaces, as XML's
/// attribute-value normalization does.
fn decode(raw: &str) -> String {
    decode_entities(raw, Entities::Xml)
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// One `[[source]]` table (also written by `qafila discover`).
pub(crate) fn source_table(id: &str, name: &str, url: &str) -> String {
    format!(
        "[[source]]\nid = {}\nname = {}\nurl = {}\n",
        toml_str(id),
        toml_str(name),
        toml_str(url)
    )
}

/// A config id from a title (ASCII words only: an Arabic title has none) else from the host name.
pub(crate) fn derive_id(title: &str, host: &str) -> String {
    let from_title = slug(title);
    let alnum = from_title.bytes().filter(u8::is_ascii_alphanumeric).count();
    // "عربي 21" would give "21", which says nothing about the outlet: the host is a better name then.
    if alnum >= 3 && from_title.bytes().any(|b| b.is_ascii_lowercase()) {
        return from_title;
    }
    let host = host.strip_prefix("www.").unwrap_or(host);
    match slug(host) {
        s if s.is_empty() => "feed".into(),
        s => s,
    }
}

/// Lowercase ASCII letters and digits, every other run of characters one `-`, at most ~40 characters.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

pub(crate) fn unique_id(base: &str, taken: &mut HashSet<String>) -> String {
    let mut id = base.to_string();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}

/// A TOML basic string.
pub(crate) fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text safe inside a one-line TOML comment (which may hold no control characters but tab).
pub(crate) fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
#[path = "opml_import_tests.rs"]
mod tests;
