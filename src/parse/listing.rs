//! `kind = "html"` sources: a site without a feed, read from its listing page with the CSS selectors the operator
//! gave in the source's `select` table.
//!
//! The page is decoded like any body ([`super::encoding::decode_html`]: HTTP charset, `<meta charset>`,
//! windows-1256) and parsed by html5ever (through `scraper`), the parser browsers' rules describe, so broken markup
//! reads as a browser would read it. Each element matching `item` is one news item; the other selectors are looked
//! up inside it:
//! - `title` (required): its text, whitespace collapsed;
//! - `link`: the matched element's `href` (or the first `a[href]` inside it); by default the first `a[href]` of the
//!   title (the title itself when it is a link), else of the item (the item itself when it is a link);
//! - `date`: a `datetime` attribute (on the element or a `<time>` inside it), else `content`, else the text read
//!   as an Arabic date ([`super::arabic_date`]); by default a `time[datetime]` inside the item;
//! - `summary`: its text; `image`: the `src` (or `data-src`, `srcset`, `content`) of the element or its first `img`.
//!
//! An item needs a title and an http(s) link other than the page itself: the link is its identity (the store keys
//! items by their canonical link), so the same article keeps its id from poll to poll whatever else changes.
//! A page that yields no item is an error naming the selector, because that is what a site redesign looks like.

use chrono::{DateTime, FixedOffset, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::arabic_date::{parse_arabic_date_in, parse_offset};
use super::map::absolute_http;
use crate::model::ParsedItem;
use crate::text::{drop_non_xml_chars, escape_markup};

/// The compiled selectors of one source.
#[derive(Debug, Clone)]
pub(crate) struct ListingSelectors {
    item: (String, Selector),
    title: (String, Selector),
    link: Option<Selector>,
    date: Option<Selector>,
    summary: Option<Selector>,
    image: Option<Selector>,
    /// The zone the page's wall-clock times are in.
    offset: FixedOffset,
}

/// The selector texts of one source, as configured (`item` and `title` required).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SelectorTexts<'a> {
    pub item: &'a str,
    pub title: &'a str,
    pub link: Option<&'a str>,
    pub date: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub image: Option<&'a str>,
    /// `+04:00`…; UTC when unset.
    pub utc_offset: Option<&'a str>,
}

/// An item read from a listing page, with the picture its card shows (for the media support to carry).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListedItem {
    pub item: ParsedItem,
    pub image: Option<String>,
}

/// Why a listing page gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ListingError {
    #[error("the response body is empty")]
    Empty,
    #[error("utc_offset = `{0}` is not a UTC offset such as \"+04:00\"")]
    BadOffset(String),
    #[error("`{key}` = `{selector}` is not a valid CSS selector ({reason})")]
    BadSelector {
        key: &'static str,
        selector: String,
        reason: String,
    },
    /// The page changed layout, or the selector never matched.
    #[error(
        "no element matches select.item = `{0}`: has the page's layout changed? (check the selectors against the page)"
    )]
    NoItems(String),
    #[error(
        "{matched} element(s) match select.item = `{item}` but none has both a title (select.title = `{title}`) and \
         a link: has the page's layout changed?"
    )]
    NoUsableItems {
        matched: usize,
        item: String,
        title: String,
    },
}

impl ListingSelectors {
    pub(crate) fn compile(texts: &SelectorTexts<'_>) -> Result<ListingSelectors, ListingError> {
        let parse = |key: &'static str, text: &str| {
            Selector::parse(text).map_err(|e| ListingError::BadSelector {
                key,
                selector: text.to_owned(),
                reason: e.to_string(),
            })
        };
        let optional = |key, text: Option<&str>| text.map(|t| parse(key, t)).transpose();
        let offset = match texts.utc_offset {
            None => FixedOffset::east_opt(0).expect("zero offset"),
            Some(text) => {
                parse_offset(text).ok_or_else(|| ListingError::BadOffset(text.to_owned()))?
            }
        };
        Ok(ListingSelectors {
            offset,
            item: (texts.item.to_owned(), parse("item", texts.item)?),
            title: (texts.title.to_owned(), parse("title", texts.title)?),
            link: optional("link", texts.link)?,
            date: optional("date", texts.date)?,
            summary: optional("summary", texts.summary)?,
            image: optional("image", texts.image)?,
        })
    }
}

/// Reads the items of a listing page. `base` is the page's final URL; `now` anchors relative dates.
pub(crate) fn parse_listing(
    body: &[u8],
    content_type: Option<&str>,
    base: &Url,
    selectors: &ListingSelectors,
    now: DateTime<Utc>,
) -> Result<Vec<ListedItem>, ListingError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ListingError::Empty);
    }
    let text = super::encoding::decode_html(body, content_type).text;
    let document = Html::parse_document(&text);
    let any_link = Selector::parse("a[href]").expect("a constant selector");
    let time = Selector::parse("time[datetime]").expect("a constant selector");
    let img = Selector::parse("img").expect("a constant selector");
    let page = without_fragment(base);
    let mut matched = 0;
    let mut items: Vec<ListedItem> = Vec::new();
    for element in document.select(&selectors.item.1) {
        matched += 1;
        let Some(title_el) = element.select(&selectors.title.1).next() else {
            continue;
        };
        let title = text_of(title_el);
        if title.is_empty() {
            continue;
        }
        let href = match &selectors.link {
            Some(link) => element
                .select(link)
                .next()
                .and_then(|el| href_of(el, &any_link)),
            None => href_of(title_el, &any_link).or_else(|| href_of(element, &any_link)),
        };
        let Some(link) = href
            .and_then(|h| absolute_http(h, base))
            .filter(|l| Url::parse(l).is_ok_and(|u| without_fragment(&u) != page))
        else {
            continue;
        };
        let key = crate::identity::canonical_url(&link);
        if items.iter().any(|i| {
            i.item
                .link
                .as_deref()
                .and_then(crate::identity::canonical_url)
                == key
        }) {
            continue;
        }
        let date_el = match &selectors.date {
            Some(date) => element.select(date).next(),
            None => element.select(&time).next(),
        };
        let published = date_el.and_then(|el| date_of(el, &time, now, selectors.offset));
        let summary = selectors
            .summary
            .as_ref()
            .and_then(|s| element.select(s).next())
            .map(text_of)
            .filter(|s| !s.is_empty())
            .map(|s| escape_markup(&s));
        let image = selectors
            .image
            .as_ref()
            .and_then(|s| element.select(s).next())
            .and_then(|el| image_of(el, &img))
            .and_then(|src| absolute_http(src, base));
        items.push(ListedItem {
            item: ParsedItem {
                link: Some(link),
                title,
                summary,
                published,
                ..ParsedItem::default()
            },
            image,
        });
    }
    if items.is_empty() {
        return Err(if matched == 0 {
            ListingError::NoItems(selectors.item.0.clone())
        } else {
            ListingError::NoUsableItems {
                matched,
                item: selectors.item.0.clone(),
                title: selectors.title.0.clone(),
            }
        });
    }
    Ok(items)
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// An element's text, whitespace runs collapsed, characters XML forbids removed.
fn text_of(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    for word in el.text().flat_map(str::split_whitespace) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&drop_non_xml_chars(word));
    }
    out
}

/// The element's own `href` when it is a link, else that of the first `a[href]` inside it.
fn href_of<'a>(el: ElementRef<'a>, any_link: &Selector) -> Option<&'a str> {
    el.value()
        .attr("href")
        .or_else(|| el.select(any_link).next()?.value().attr("href"))
        .filter(|h| !h.trim().is_empty())
}

fn date_of(
    el: ElementRef<'_>,
    time: &Selector,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> Option<DateTime<Utc>> {
    let attribute = el
        .value()
        .attr("datetime")
        .or_else(|| el.select(time).next()?.value().attr("datetime"))
        .or_else(|| el.value().attr("content"));
    attribute
        .and_then(|a| parse_arabic_date_in(a, now, offset))
        .or_else(|| parse_arabic_date_in(&text_of(el), now, offset))
}

fn image_of<'a>(el: ElementRef<'a>, img: &Selector) -> Option<&'a str> {
    let source = |e: ElementRef<'a>| {
        let v = e.value();
        v.attr("src")
            .filter(|s| !s.starts_with("data:"))
            .or_else(|| v.attr("data-src"))
            .or_else(|| v.attr("data-lazy-src"))
            .or_else(|| v.attr("srcset")?.split_whitespace().next())
            .or_else(|| v.attr("content"))
            .filter(|s| !s.trim().is_empty())
    };
    source(el).or_else(|| source(el.select(img).next()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PAGE: &str = r##"<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>أخبار</title></head>
<body><ul class="news">
  <li class="card"><a href="/ar/news/101"><img data-src="/img/101.jpg" src="data:,"></a>
      <h3 class="t"><a href="/ar/news/101?utm_source=home">  باكو تستضيف
        منتدى الطاقة </a></h3><span class="d">٢٧ نوفمبر ٢٠٢٦ - ١٤:٣٠</span><p>ملخص &amp; تفاصيل</p></li>
  <li class="card"><h3 class="t">طشقند: افتتاح خط سكة حديد</h3><a class="more" href="news/102">المزيد</a>
      <time datetime="2026-11-27T08:00:00+05:00">أمس</time></li>
  <li class="card"><h3 class="t">بلا رابط</h3></li>
  <li class="card"><h3 class="t"><a href="#top">رابط إلى الصفحة نفسها</a></h3></li>
  <li class="card"><h3 class="t"><a href="javascript:void(0)">رابط جافاسكربت</a></h3></li>
  <li class="card"><h3 class="t"><a href="/ar/news/101">مكرر</a></h3></li>
</ul></body></html>"##;

    fn selectors(item: &str, title: &str) -> ListingSelectors {
        ListingSelectors::compile(&SelectorTexts {
            item,
            title,
            date: Some("span.d, time"),
            summary: Some("p"),
            image: Some("img"),
            ..SelectorTexts::default()
        })
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    #[test]
    fn reads_items_with_links_dates_summaries_and_images() {
        let base = Url::parse("https://news.example/ar/").unwrap();
        let items = parse_listing(
            PAGE.as_bytes(),
            None,
            &base,
            &selectors("li.card", "h3.t"),
            now(),
        )
        .unwrap();
        assert_eq!(items.len(), 2, "{items:#?}");
        let first = &items[0];
        assert_eq!(first.item.title, "باكو تستضيف منتدى الطاقة");
        assert_eq!(
            first.item.link.as_deref(),
            Some("https://news.example/ar/news/101?utm_source=home")
        );
        assert_eq!(
            first.item.published,
            Some(Utc.with_ymd_and_hms(2026, 11, 27, 14, 30, 0).unwrap())
        );
        assert_eq!(first.item.summary.as_deref(), Some("ملخص &amp; تفاصيل"));
        assert_eq!(
            first.image.as_deref(),
            Some("https://news.example/img/101.jpg")
        );
        let second = &items[1];
        // No link in the title: the item's first link, relative to the page.
        assert_eq!(
            second.item.link.as_deref(),
            Some("https://news.example/ar/news/102")
        );
        // The datetime attribute wins over the text ("أمس").
        assert_eq!(
            second.item.published,
            Some(Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap())
        );
        assert_eq!(second.image, None);
    }

    #[test]
    fn a_changed_layout_is_an_error_naming_the_selector() {
        let base = Url::parse("https://news.example/ar/").unwrap();
        let err = parse_listing(
            PAGE.as_bytes(),
            None,
            &base,
            &selectors("div.news-item", "h3"),
            now(),
        )
        .unwrap_err();
        assert_eq!(err, ListingError::NoItems("div.news-item".into()));
        assert!(err.to_string().contains("layout"));
        let err = parse_listing(
            PAGE.as_bytes(),
            None,
            &base,
            &selectors("li.card", "h2"),
            now(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ListingError::NoUsableItems { matched: 6, .. }),
            "{err:?}"
        );
        assert_eq!(
            parse_listing(b"  ", None, &base, &selectors("li", "h3"), now()),
            Err(ListingError::Empty)
        );
    }

    #[test]
    fn an_explicit_link_selector_and_an_item_that_is_a_link() {
        let page = r#"<div><a class="n" href="https://news.example/a/1"><b>عنوان أول</b></a>
                      <a class="n" href="/a/2"><b>عنوان ثان</b></a></div>"#;
        let base = Url::parse("https://news.example/").unwrap();
        let s = ListingSelectors::compile(&SelectorTexts {
            item: "a.n",
            title: "b",
            ..Default::default()
        })
        .unwrap();
        let items = parse_listing(page.as_bytes(), None, &base, &s, now()).unwrap();
        let links: Vec<_> = items.iter().map(|i| i.item.link.clone().unwrap()).collect();
        assert_eq!(
            links,
            ["https://news.example/a/1", "https://news.example/a/2"]
        );
        let bad = ListingSelectors::compile(&SelectorTexts {
            item: "a[",
            title: "b",
            ..Default::default()
        });
        assert!(matches!(
            bad,
            Err(ListingError::BadSelector { key: "item", .. })
        ));
    }

    #[test]
    fn windows_1256_page_by_its_meta_charset() {
        let page = PAGE.replace("utf-8", "windows-1256");
        let bytes = encoding_rs::WINDOWS_1256.encode(&page).0.into_owned();
        let base = Url::parse("https://news.example/ar/").unwrap();
        let items = parse_listing(
            &bytes,
            Some("text/html"),
            &base,
            &selectors("li.card", "h3.t"),
            now(),
        )
        .unwrap();
        assert_eq!(items[0].item.title, "باكو تستضيف منتدى الطاقة");
        assert_eq!(items[1].item.title, "طشقند: افتتاح خط سكة حديد");
    }
}
