//! What makes two feed entries the *same item* (exact dedup), and the stable ids qafila publishes.
//!
//! Within one source an entry is known by its guid, else its link, else a hash of its title and content. Across
//! sources and URLs, an article is known by its canonical URL: scheme, `www.`, default ports, fragments, a trailing
//! slash, the order of query parameters and tracking parameters (`utm_*`, `fbclid`, `ref`…) do not make another
//! article. Story-level dedup (different articles about one event) is `dedup`'s job, not this module's.
//!
//! Keys are SHA-256 based, not `DefaultHasher`, because they are stored and published and must never change
//! between Rust versions.

use sha2::{Digest, Sha256};
use url::Url;

/// Query parameters that only say where a reader came from.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref",
    "ref_src",
    "ref_url",
    "referrer",
    "source",
    "cmpid",
    "ocid",
    "_ga",
    "_gl",
    "at_medium",
    "at_campaign",
    "xtor",
    "ito",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "spm",
    "share",
    "s_cid",
];

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The form of an article URL under which equal articles compare equal, or `None` for a non-http(s) link.
pub(crate) fn canonical_url(link: &str) -> Option<String> {
    let link = link.trim();
    if let Some(canonical) = plain_canonical_url(link) {
        return Some(canonical);
    }
    parsed_canonical_url(link)
}

/// [`canonical_url`] through the URL parser: every link it does not read directly.
fn parsed_canonical_url(link: &str) -> Option<String> {
    let url = Url::parse(link).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    let path = url.path().trim_end_matches('/');
    let mut out = format!("//{host}");
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(path);
    if !params.is_empty() {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push('?');
        out.push_str(&query.join("&"));
    }
    Some(out)
}

/// [`canonical_url`] of a link the URL parser would leave exactly as it is, read off the text: `http://` or
/// `https://`, a lower-case host name of plain labels, then nothing or a path of plain ASCII without a dot segment
/// — no port, user, query, fragment or escaped dot. Nearly every item link is one (the parse stage made it
/// absolute through the parser already), and parsing each again was most of keying an item. `None` for any other
/// link, which the parser then reads; a proptest checks that the two agree wherever this one answers.
fn plain_canonical_url(link: &str) -> Option<String> {
    let (host, path) = plain_url_parts(link)?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    let path = path.trim_end_matches('/');
    let mut out = String::with_capacity(2 + host.len() + path.len());
    out.push_str("//");
    out.push_str(host);
    out.push_str(path);
    Some(out)
}

/// Whether the URL parser would give `link` back exactly as it is (see [`plain_url_parts`]; the path must not be
/// empty, since the parser writes an empty one as `/`): then an absolute link needs no parsing to be checked and
/// made absolute. A proptest checks it against the parser.
pub(crate) fn is_plain_url(link: &str) -> bool {
    plain_url_parts(link).is_some_and(|(_, path)| !path.is_empty())
}

/// The host and path of a link the URL parser would leave exactly as it is: `http://` or `https://`, a lower-case
/// host name of plain labels, then nothing or a path of plain ASCII without a dot segment — no port, user,
/// query, fragment or escaped dot. `None` for any other link.
fn plain_url_parts(link: &str) -> Option<(&str, &str)> {
    let rest = link
        .strip_prefix("https://")
        .or_else(|| link.strip_prefix("http://"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (is_plain_host(host) && is_plain_path(path)).then_some((host, path))
}

/// A host name the parser keeps as written: labels of lower-case ASCII letters, digits and inner hyphens, none
/// empty or an IDNA (`xn--`) label, and a last label that is not a number (the parser reads those as an IPv4
/// address and rewrites them).
fn is_plain_host(host: &str) -> bool {
    let plain_label = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && !label.starts_with("xn--")
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let last = host.rsplit('.').next().unwrap_or_default();
    host.len() <= 253
        && host.split('.').all(plain_label)
        && !last.bytes().all(|b| b.is_ascii_digit())
        && !last.starts_with("0x")
}

/// A path the parser keeps as written: ASCII letters, digits and the punctuation it never escapes, and no `.`
/// or `..` segment (which it removes), written plainly or escaped.
fn is_plain_path(path: &str) -> bool {
    (path.is_empty() || path.starts_with('/'))
        && path.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                        | b'/'
                        | b'%'
                )
        })
        && !path.contains("/.")
        && !path.contains("%2e")
        && !path.contains("%2E")
}

/// The link as readers should get it: the outlet's own URL without tracking parameters or fragment noise
/// (`utm_*`, `fbclid`…); scheme, host and the other parameters untouched. Anything unparsable is returned as is.
pub(crate) fn clean_link(link: &str) -> String {
    let Ok(mut url) = Url::parse(link.trim()) else {
        return link.to_string();
    };
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

/// 128 bits of SHA-256 as hex: short enough to index cheaply, long enough never to collide in practice.
pub(crate) fn hash_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]); // so ("ab","c") and ("a","bc") differ
    }
    crate::text::hex(&hasher.finalize()[..16])
}

/// The key of an entry within its source: guid, else canonical link, else title + content.
pub(crate) fn source_key(
    guid: Option<&str>,
    link: Option<&str>,
    title: &str,
    content: Option<&str>,
) -> String {
    if let Some(guid) = guid.map(str::trim).filter(|g| !g.is_empty()) {
        return hash_hex(&["guid", guid]);
    }
    if let Some(link) = link.and_then(canonical_url) {
        return hash_hex(&["link", &link]);
    }
    hash_hex(&["text", title.trim(), content.unwrap_or("").trim()])
}

/// The key under which an article is one item across sources: its canonical URL.
pub(crate) fn url_key(link: Option<&str>) -> Option<String> {
    link.and_then(canonical_url).map(|c| hash_hex(&["url", &c]))
}

/// The published guid of a story, derived from the key of the item that started it; it never changes when
/// later reports join. It is a URN so that it is also a valid Atom id.
pub(crate) fn story_guid(first_item_key: &str) -> String {
    format!("urn:qafila:story:{}", hash_hex(&["story", first_item_key]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_scheme_www_and_slash_do_not_make_another_article() {
        let a = canonical_url(
            "https://www.example.com/news/kz-1/?utm_source=rss&utm_medium=feed&id=7#top",
        );
        let b = canonical_url("http://example.com/news/kz-1?id=7&fbclid=abc&ref=home");
        assert_eq!(a, b);
        assert_eq!(a.as_deref(), Some("//example.com/news/kz-1?id=7"));
    }

    #[test]
    fn published_links_lose_only_tracking_parameters() {
        assert_eq!(
            clean_link("http://www.e.com/a/?fbclid=1&utm_source=rss"),
            "http://www.e.com/a/"
        );
        assert_eq!(
            clean_link("https://e.com/a?id=7&utm_medium=x#top"),
            "https://e.com/a?id=7#top"
        );
        assert_eq!(clean_link("https://e.com/a?id=7"), "https://e.com/a?id=7");
        assert_eq!(clean_link("not a url"), "not a url");
    }

    /// Links of every shape near the plain one: schemes, cases, ports, users, IPv4 and IDNA hosts, dot segments
    /// plain and escaped, queries, fragments, backslashes, Arabic.
    fn link_near_plain() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let label = prop::sample::select(vec![
            "e", "news", "a1", "sub-x", "com", "example", "www", "0", "17", "0x1f", "xn--p1ai",
            "-a", "a-", "E", "", "a_b",
        ]);
        (
            prop::sample::select(vec![
                "http://",
                "https://",
                "https://",
                "HTTPS://",
                "ftp://",
                "https:/",
                "https:///",
            ]),
            proptest::collection::vec(label, 1..4),
            prop::sample::select(vec!["", "", "", ".com", ":80", ":8080", "@e.com", "."]),
            proptest::collection::vec(
                prop::sample::select(vec![
                    "/", "/a", "/news", "/17", "/.", "/..", "/.x", "/%2e", "/%2E%2e", "/a%2",
                    "/%41", "?", "?id=1", "#top", "\\", "/a b", "/أ", "/~u", "/a;b=c", "/@", "/:",
                    "/[x]", "/a'b", "/(1)", "//", "/*+,!$&", "/x.html", "/a%2e",
                ]),
                0..5,
            ),
            prop::sample::select(vec!["", "", " ", "\t"]),
        )
            .prop_map(|(scheme, labels, end, path, pad)| {
                format!(
                    "{pad}{scheme}{}{end}{}{pad}",
                    labels.join("."),
                    path.concat()
                )
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn a_link_read_directly_is_canonical_as_the_parser_reads_it(link in link_near_plain()) {
            let link = link.trim();
            if let Some(direct) = plain_canonical_url(link) {
                proptest::prop_assert_eq!(Some(direct), parsed_canonical_url(link), "{:?}", link);
            }
            if is_plain_url(link) {
                for base in ["https://outlet.example/feed.xml", "http://127.0.0.2:8000/a/b/"] {
                    let joined = Url::parse(base).unwrap().join(link).map(String::from);
                    proptest::prop_assert_eq!(joined.as_deref(), Ok(link), "{:?} on {}", link, base);
                }
            }
        }
    }

    #[test]
    fn item_links_are_read_directly() {
        for link in [
            "https://outlet7.example/news/7001",
            "http://www.e.com",
            "https://e.com/a/b-c_d.html/",
            "https://sub.e.co.uk/2026/11/28/%D8%A3/",
        ] {
            let direct = plain_canonical_url(link);
            assert!(direct.is_some(), "{link}");
            assert_eq!(is_plain_url(link), link != "http://www.e.com", "{link}");
            assert_eq!(direct, parsed_canonical_url(link), "{link}");
        }
        for link in [
            "https://e.com/a?id=1",
            "https://e.com:8080/a",
            "https://127.0.0.1/a",
            "https://e.com/a/../b",
            "https://xn--mgbh0fb.example/",
            "https://E.com/a",
        ] {
            assert_eq!(plain_canonical_url(link), None, "{link}");
        }
    }

    #[test]
    fn other_paths_and_parameters_do() {
        assert_ne!(
            canonical_url("https://example.com/a?id=1"),
            canonical_url("https://example.com/a?id=2")
        );
        assert_ne!(
            canonical_url("https://example.com/a"),
            canonical_url("https://example.org/a")
        );
        assert_eq!(canonical_url("mailto:x@example.com"), None);
    }

    #[test]
    fn arabic_paths_compare_by_their_percent_encoding() {
        let a = canonical_url("https://example.com/أخبار/كازاخستان");
        let b = canonical_url("https://example.com/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D9%83%D8%A7%D8%B2%D8%A7%D8%AE%D8%B3%D8%AA%D8%A7%D9%86/");
        assert_eq!(a, b);
    }

    #[test]
    fn source_key_prefers_guid_then_link_then_text() {
        let with_guid = source_key(Some("g1"), Some("https://e.com/1"), "t", None);
        assert_eq!(
            with_guid,
            source_key(Some("g1"), Some("https://e.com/2"), "other", None)
        );
        let by_link = source_key(None, Some("https://e.com/1?utm_source=x"), "t", None);
        assert_eq!(
            by_link,
            source_key(None, Some("https://www.e.com/1"), "changed title", None)
        );
        let by_text = source_key(None, None, "عنوان", Some("نص"));
        assert_eq!(by_text, source_key(Some("  "), None, "عنوان", Some("نص")));
        assert_ne!(by_text, source_key(None, None, "عنوان", Some("نص آخر")));
        assert_eq!(by_text.len(), 32);
    }

    #[test]
    fn story_guid_is_stable_and_a_urn() {
        let g = story_guid("abc");
        assert_eq!(g, story_guid("abc"));
        assert!(g.starts_with("urn:qafila:story:"));
        assert_eq!(
            g,
            "urn:qafila:story:".to_string() + &hash_hex(&["story", "abc"])
        );
    }
}
