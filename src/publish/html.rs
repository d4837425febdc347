//! The Arabic, right-to-left HTML page of the merged stories (home page and per-country pages).
//!
//! No JavaScript and no remote fonts: the page must load fast on a phone on a slow network and cannot leak
//! readers to third parties. The font stack names fonts phones and desktops ship with Arabic coverage, ending in
//! `sans-serif`. Every interpolated string goes through [`crate::text::escape_markup`]. Of an outlet's
//! description only a plain-text snippet is shown (about two lines: the page is an index, the article is one tap
//! away), so no outlet HTML reaches the page at all. The story's picture sits beside it with its `width`/`height`
//! (so nothing moves when it arrives), `loading="lazy"` and an empty `alt` (it illustrates the headline next to
//! it).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::timefmt::{absolute_ar, relative_ar};
use super::{
    clean_text, outlet_link_html, report_title, rfc3339, safe_link, FeedMeta, PageLink,
    PublishedMedia, ALSO_LABEL, AR_COMMA,
};
use crate::model::{EntityTag, StoryView};
use crate::text::escape_markup;

/// Small, phone-first styles; dark mode follows the system.
const CSS: &str = "\
:root{color-scheme:light dark}
body{margin:0 auto;max-width:46rem;padding:0 1rem 2rem;line-height:1.7;font-size:1.05rem;\
font-family:\"Noto Naskh Arabic\",\"Amiri\",\"Segoe UI\",Tahoma,\"Geeza Pro\",\"Arabic Typesetting\",sans-serif;\
color:#1b1b1b;background:#fcfcfa}
a{color:#0a58a8;text-decoration:none}
a:hover,a:focus{text-decoration:underline}
header{padding:1rem 0 .5rem;border-bottom:2px solid #8884}
.site{margin:0;font-size:.95rem}
h1{font-size:1.5rem;margin:.25rem 0 .5rem}
.search{display:flex;gap:.4rem;margin:.4rem 0 .6rem}
.search input{flex:1;min-width:0;font:inherit;padding:.25rem .6rem;border:1px solid #8888;border-radius:.4rem}
.search button{font:inherit;padding:.25rem .9rem;border:1px solid #8888;border-radius:.4rem}
.notice{margin:.8rem 0;color:#5b5b5b}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.95rem}
.stories{list-style:none;margin:0;padding:0}
.story{padding:.8rem 0;border-bottom:1px solid #8883;display:flow-root}
.pic{float:left;width:6.5rem;height:auto;margin:.3rem .8rem .2rem 0;border-radius:.3rem;object-fit:cover;\
background:#8882}
.snippet{margin:.1rem 0;font-size:.95rem;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;\
overflow:hidden}
@media (min-width:40rem){.pic{width:9rem}}
.story h2{font-size:1.15rem;font-weight:600;margin:0 0 .2rem}
.meta,.also,.tags{margin:.1rem 0;font-size:.9rem;color:#5b5b5b}
.tags a{display:inline-block;padding:0 .6rem;margin-inline-end:.3rem;border:1px solid #8886;border-radius:1rem}
.pager{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:1rem 0 0;font-size:1rem}
.pager .older{margin-inline-start:auto}
footer{margin-top:1.5rem;font-size:.9rem;color:#5b5b5b}
@media (prefers-color-scheme:dark){body{color:#e6e4e0;background:#151515}a{color:#8ab8f0}\
.meta,.also,.tags,footer{color:#aaa}}
";

/// Separator between items on one line.
const DOT: &str = " · ";

/// What only some pages carry (the search page, the day archive, the home page's link to older stories).
#[derive(Debug, Default)]
pub(crate) struct PageExtras<'a> {
    /// The search box's text.
    pub query: &'a str,
    /// A line above the stories (a hint, an error, "no results"), shown instead of "no news yet" when empty.
    pub notice: Option<&'a str>,
    /// Links to newer and older stories, below the list.
    pub pager: Option<&'a Pager>,
    /// Absolute times only: an archive page says when, and "3 hours ago" would change its bytes every minute.
    pub timeless: bool,
}

/// Where a reader goes from the end of a page: newer stories (shown first, on the right) and older ones.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Pager {
    pub newer: Option<NavLink>,
    pub older: Option<NavLink>,
}

/// A link of the pager: a path on this site and its Arabic label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NavLink {
    pub href: String,
    pub label: String,
}

/// Renders the page. `now` is only used for the relative times ("منذ ٣ ساعات").
pub fn render_html(
    meta: &FeedMeta,
    heading: &str,
    stories: &[StoryView],
    alternates: &[PageLink],
    entity_links: &[EntityTag],
    now: DateTime<Utc>,
) -> String {
    render_page(
        meta,
        heading,
        stories,
        alternates,
        entity_links,
        now,
        &PageExtras::default(),
    )
}

pub(crate) fn render_page(
    meta: &FeedMeta,
    heading: &str,
    stories: &[StoryView],
    alternates: &[PageLink],
    entity_links: &[EntityTag],
    now: DateTime<Utc>,
    extras: &PageExtras,
) -> String {
    let site = clean_text(&meta.title);
    let heading = clean_text(heading);
    let title = if heading.is_empty() || heading == site {
        site.clone()
    } else {
        format!("{heading} | {site}")
    };
    let mut x = String::with_capacity(4096 + stories.len() * 1024);
    x.push_str(
        "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">\n",
    );
    x.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(x, "<title>{}</title>", escape_markup(&title));
    let desc = clean_text(&meta.description);
    if !desc.is_empty() {
        let _ = writeln!(
            x,
            "<meta name=\"description\" content=\"{}\">",
            escape_markup(&desc)
        );
    }
    for a in alternates {
        let _ = writeln!(
            x,
            "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">",
            escape_markup(a.mime),
            escape_markup(&clean_text(&a.title)),
            escape_markup(&clean_text(&a.href))
        );
    }
    if let Some(pager) = extras.pager {
        // The same links as the pager at the end, for browsers and crawlers that follow a series.
        for (rel, link) in [("next", &pager.newer), ("prev", &pager.older)] {
            if let Some(l) = link {
                let _ = writeln!(
                    x,
                    "<link rel=\"{rel}\" href=\"{}\">",
                    escape_markup(&clean_text(&l.href))
                );
            }
        }
    }
    let _ = write!(x, "<style>\n{CSS}</style>\n</head>\n<body>\n<header>\n");
    let _ = writeln!(
        x,
        "<p class=\"site\"><a href=\"{}\">{}</a></p>",
        escape_markup(&clean_text(&meta.link)),
        escape_markup(&site)
    );
    let _ = writeln!(x, "<h1>{}</h1>", escape_markup(&heading));
    search_form(&mut x, extras.query);
    nav(&mut x, entity_links);
    x.push_str("</header>\n<main>\n");
    if let Some(notice) = extras.notice {
        let _ = writeln!(
            x,
            "<p class=\"notice\">{}</p>",
            escape_markup(&clean_text(notice))
        );
    }
    if stories.is_empty() && extras.notice.is_none() {
        x.push_str("<p class=\"empty\">لا توجد أخبار بعد.</p>\n");
    } else if !stories.is_empty() {
        x.push_str("<ol class=\"stories\">\n");
        let now = (!extras.timeless).then_some(now);
        for s in stories {
            story(&mut x, s, now);
        }
        x.push_str("</ol>\n");
    }
    if let Some(pager) = extras.pager {
        pager_nav(&mut x, pager);
    }
    x.push_str("</main>\n");
    footer(&mut x, alternates);
    x.push_str("</body>\n</html>\n");
    x
}

/// The search box (a GET form to `/search`, no JavaScript), on every page.
fn search_form(x: &mut String, query: &str) {
    let _ = writeln!(
        x,
        "<form class=\"search\" role=\"search\" action=\"/search\" method=\"get\">\n\
         <input type=\"search\" name=\"q\" value=\"{}\" maxlength=\"{}\" dir=\"auto\" \
         placeholder=\"ابحث في الأخبار\" aria-label=\"ابحث في الأخبار\">\n\
         <button type=\"submit\">بحث</button>\n</form>",
        escape_markup(&clean_text(query)),
        crate::search::query::MAX_QUERY_CHARS
    );
}

/// `/country/{id}`, with anything but ASCII letters, digits, `-` and `_` percent-encoded so an odd id cannot
/// change the path.
fn country_href(id: &str) -> String {
    let mut out = String::from("/country/");
    for b in clean_text(id).bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn country_link(e: &EntityTag) -> String {
    format!(
        "<a href=\"{}\">{}</a>",
        escape_markup(&country_href(&e.id)),
        escape_markup(&clean_text(&e.name))
    )
}

/// The list of all countries, so a reader can go to one country's page (and its feed).
fn nav(x: &mut String, entities: &[EntityTag]) {
    if entities.is_empty() {
        return;
    }
    x.push_str("<nav aria-label=\"الدول\">\n<ul>\n");
    for e in entities {
        let _ = writeln!(x, "<li>{}</li>", country_link(e));
    }
    x.push_str("</ul>\n</nav>\n");
}

/// Characters of a story's snippet: about two lines on a phone; CSS clamps it to two lines anyway.
const SNIPPET_CHARS: usize = 180;

/// The first words of a story's description as plain text, cut at a word boundary, with "…" when cut.
fn snippet(s: &StoryView) -> Option<String> {
    // A space before each tag keeps the words of two paragraphs apart ("…مبكرة.</p><p>اضغط").
    let spaced = s.lead.description.as_ref()?.as_str().replace('<', " <");
    let text = crate::text::plain_text(&spaced);
    let cut = if text.chars().count() <= SNIPPET_CHARS {
        text
    } else {
        let head: String = text.chars().take(SNIPPET_CHARS).collect();
        let at_word = head
            .rfind(' ')
            .filter(|i| *i > SNIPPET_CHARS / 2)
            .unwrap_or(head.len());
        format!("{}…", head[..at_word].trim_end())
    };
    // Cleaned after cutting, so that bidi controls the cut separated are balanced again.
    Some(clean_text(&cut)).filter(|t| !t.is_empty() && t != "…")
}

/// The story's picture: sized from its own dimensions when the feed gave them (else 4:3), so the layout is
/// fixed before it loads.
fn picture(x: &mut String, s: &StoryView) {
    let Some(p) = s.picture.as_ref().and_then(Option::<PublishedMedia>::from) else {
        return;
    };
    const WIDTH: u32 = 144;
    let height = match (p.width, p.height) {
        (Some(w), Some(h)) => {
            (u64::from(WIDTH) * u64::from(h) / u64::from(w)).clamp(48, 288) as u32
        }
        _ => WIDTH * 3 / 4,
    };
    let _ = writeln!(
        x,
        "<img class=\"pic\" src=\"{}\" width=\"{WIDTH}\" height=\"{height}\" loading=\"lazy\" decoding=\"async\" alt=\"\">",
        escape_markup(&p.url)
    );
}

/// Newer first (the start of a right-to-left line), older at the end, each arrow pointing the way it leads.
fn pager_nav(x: &mut String, pager: &Pager) {
    if pager.newer.is_none() && pager.older.is_none() {
        return;
    }
    x.push_str("<nav class=\"pager\" aria-label=\"أخبار أحدث وأقدم\">\n");
    let link = |x: &mut String, class: &str, rel: &str, l: &NavLink, text: String| {
        let _ = writeln!(
            x,
            "<a class=\"{class}\" rel=\"{rel}\" href=\"{}\">{}</a>",
            escape_markup(&clean_text(&l.href)),
            escape_markup(&text)
        );
    };
    if let Some(l) = &pager.newer {
        link(x, "newer", "next", l, format!("→ {}", clean_text(&l.label)));
    }
    if let Some(l) = &pager.older {
        link(x, "older", "prev", l, format!("{} ←", clean_text(&l.label)));
    }
    x.push_str("</nav>\n");
}

/// One story; `now` gives its relative time ("منذ ٣ ساعات"), left out when `None`.
fn story(x: &mut String, s: &StoryView, now: Option<DateTime<Utc>>) {
    let lead = &s.lead;
    let title = escape_markup(&report_title(lead));
    x.push_str("<li class=\"story\">\n");
    picture(x, s);
    // dir="auto": a Latin-script headline reads left to right inside the right-to-left page.
    match lead.link.as_deref().and_then(safe_link) {
        Some(u) => {
            let _ = writeln!(
                x,
                "<h2 dir=\"auto\"><a href=\"{}\">{title}</a></h2>",
                escape_markup(u.as_str())
            );
        }
        None => {
            let _ = writeln!(x, "<h2 dir=\"auto\">{title}</h2>");
        }
    }
    let _ = write!(
        x,
        "<p class=\"meta\"><span class=\"outlet\">{}</span>{DOT}<time datetime=\"{}\">{}</time>",
        escape_markup(&clean_text(&lead.source_name)),
        rfc3339(lead.published),
        absolute_ar(lead.published),
    );
    if let Some(now) = now {
        let _ = write!(
            x,
            "{DOT}<span class=\"ago\">{}</span>",
            relative_ar(lead.published, now)
        );
    }
    x.push_str("</p>\n");
    if let Some(text) = snippet(s) {
        let _ = writeln!(
            x,
            "<p class=\"snippet\" dir=\"auto\">{}</p>",
            escape_markup(&text)
        );
    }
    if !s.also.is_empty() {
        let links: Vec<String> = s.also.iter().map(outlet_link_html).collect();
        let _ = writeln!(
            x,
            "<p class=\"also\">{ALSO_LABEL} {}</p>",
            links.join(AR_COMMA)
        );
    }
    if !s.entities.is_empty() {
        let tags: Vec<String> = s.entities.iter().map(country_link).collect();
        let _ = writeln!(x, "<p class=\"tags\">{}</p>", tags.join(" "));
    }
    x.push_str("</li>\n");
}

/// Links to the feeds and to the OPML list of sources.
fn footer(x: &mut String, alternates: &[PageLink]) {
    let mut links: Vec<String> = alternates
        .iter()
        .map(|a| {
            format!(
                "<a href=\"{}\" type=\"{}\">{}</a>",
                escape_markup(&clean_text(&a.href)),
                escape_markup(a.mime),
                escape_markup(&clean_text(&a.title))
            )
        })
        .collect();
    links.push(
        "<a href=\"/sources.opml\" type=\"text/x-opml\">قائمة المصادر (OPML)</a>".to_string(),
    );
    let _ = writeln!(
        x,
        "<footer>\n<p>تابِع عبر: {}</p>\n</footer>",
        links.join(DOT)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::{built_at, meta, stories};

    fn page() -> String {
        let alts = [PageLink {
            title: "RSS".into(),
            href: "/feed.xml".into(),
            mime: "application/rss+xml",
        }];
        let ents = [EntityTag {
            id: "kz".into(),
            name: "كازاخستان".into(),
        }];
        render_html(&meta(), "آخر الأخبار", &stories(), &alts, &ents, built_at())
    }

    #[test]
    fn page_skeleton() {
        let p = page();
        assert!(p.starts_with(
            "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<head>\n<meta charset=\"utf-8\">"
        ));
        assert!(p.contains("<meta name=\"viewport\""));
        assert!(p.contains("<link rel=\"alternate\" type=\"application/rss+xml\" title=\"RSS\" href=\"/feed.xml\">"));
        assert!(p.contains("<title>آخر الأخبار | قافلة: آسيا الوسطى والقوقاز</title>"));
        assert!(!p.to_ascii_lowercase().contains("<script"));
        assert!(p.contains("href=\"/sources.opml\""));
        assert_eq!(p.matches("<li class=\"story\">").count(), 2);
    }

    #[test]
    fn story_line() {
        let p = page();
        assert!(p.contains(
            "<h2 dir=\"auto\"><a href=\"https://wafa.example/news/1\">أستانا &amp; بيشكيك"
        ));
        assert!(p.contains(
            "<time datetime=\"2026-11-27T11:00:00Z\">٢٧ نوفمبر ٢٠٢٦، ١١:٠٠ ت.ع.م</time>"
        ));
        assert!(p.contains("<span class=\"ago\">منذ ٣ ساعات</span>"));
        assert!(p.contains("<p class=\"also\">أيضاً في: <a href=\"https://rudaw.example/a\""));
        assert!(p.contains("<p class=\"tags\"><a href=\"/country/kz\">كازاخستان</a></p>"));
    }

    #[test]
    fn hostile_values_are_escaped() {
        let mut s = stories();
        s[0].lead.title = "<script>alert(1)</script>".into();
        s[0].lead.link = Some("javascript:alert(1)".into());
        s[0].entities[0].id = "\"><script>".into();
        let p = render_html(&meta(), "<b>", &s, &[], &[], built_at());
        assert!(
            !p.contains("<script") && !p.contains("javascript:") && !p.contains("<b>"),
            "{p}"
        );
        assert!(p.contains("/country/%22%3E%3Cscript%3E"));
    }

    #[test]
    fn empty_list_says_so() {
        let p = render_html(&meta(), "جورجيا", &[], &[], &[], built_at());
        assert!(p.contains("لا توجد أخبار بعد."));
    }
}
