//! Running feed-rs on the decoded text: our builder settings, and two guards around it.
//!
//! - feed-rs obeys every XML declaration it meets, not only the leading one [`super::encoding`] rewrote to say
//!   UTF-8: at `<?xml … encoding="windows-1256"?>` further on it switches its decoder (quick-xml's
//!   `DecodingReader`) to that encoding, which mis-decodes the UTF-8 text we hand it while the reader is still in
//!   its first 64 bytes, and after them trips an assertion in `DecodingReader::set_encoding`: a panic. Such a
//!   declaration appears in real bodies (a PHP notice printed before a legacy feed's declaration, a page or a
//!   script quoting one), so each is rewritten to say UTF-8 first ([`later_declarations_as_utf8`]).
//! - Whatever else makes feed-rs panic is caught here and becomes [`FeedRsError::Panicked`], a parse failure of
//!   this body ([`panicked`]): the fetch keeps its HTTP answer's bookkeeping and the source backs off as after
//!   any unreadable body, instead of failing as an internal error.

use encoding_rs::{Encoding, UTF_8};
use feed_rs::model::Feed;
use feed_rs::parser::ParseFeedError;
use quick_xml::events::Event;
use url::Url;

use super::{dates, encoding, ParseError};

/// Why feed-rs gave no feed.
#[derive(Debug, thiserror::Error)]
pub(super) enum FeedRsError {
    /// It reported an error.
    #[error("{0}")]
    Failed(ParseFeedError),
    /// It panicked (its message): a bug of feed-rs or quick-xml on some input, which must fail this body only.
    #[error("it panicked: {0}")]
    Panicked(String),
}

/// feed-rs's reading of `text`, a feed fetched from `base` (see the module doc).
pub(super) fn run_feed_rs(text: &str, base: &Url) -> Result<Feed, FeedRsError> {
    let fixed = later_declarations_as_utf8(text);
    let text = fixed.as_deref().unwrap_or(text);
    contain_panic(|| {
        feed_rs::parser::Builder::new()
            // "" marks "the feed carried no id"; see the parse module's doc.
            .id_generator(|_links, _title, _base| String::new())
            .base_uri(Some(base.as_str()))
            // Sanitizing happens when publishing (see `model::ParsedItem`); the feature is off anyway.
            .sanitize_content(false)
            // The same dates, read quickly when they are well formed (see `dates`).
            .timestamp_parser(dates::feed_timestamp)
            .build()
            .parse(text.as_bytes())
    })
}

/// `read`'s result, with a panic inside it turned into [`FeedRsError::Panicked`].
fn contain_panic(
    read: impl FnOnce() -> Result<Feed, ParseFeedError> + std::panic::UnwindSafe,
) -> Result<Feed, FeedRsError> {
    match std::panic::catch_unwind(read) {
        Ok(read) => read.map_err(FeedRsError::Failed),
        Err(panic) => Err(FeedRsError::Panicked(
            crate::error::panic_message(panic.as_ref()).to_owned(),
        )),
    }
}

/// The error for a body feed-rs panicked on: as unreadable as a malformed one, with the panic's message as the
/// cause (where it panicked went to stderr, by the panic hook).
pub(super) fn panicked(why: &str) -> ParseError {
    let why = why.replace('\n', " ");
    ParseError::Malformed(format!(
        "the feed parser (feed-rs) failed on this body: {why}"
    ))
}

/// The text with every XML declaration that names an encoding other than UTF-8 rewritten to say UTF-8; `None`
/// when there is none. Nearly always one search of the text after the leading declaration decides it.
///
/// Only what quick-xml reads as a declaration is rewritten, reading as feed-rs does up to its first error; the
/// same characters in a CDATA section, a comment or an attribute value are content and stay as they are.
pub(super) fn later_declarations_as_utf8(text: &str) -> Option<String> {
    let lead = encoding::xml_declaration(text).map_or(0, |d| d.end);
    if !text[lead..].contains("<?xml") {
        return None;
    }
    let mut reader = quick_xml::Reader::from_str(text);
    {
        // As feed-rs configures its reader (`feed_rs::xml::ElementSource::new`).
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.trim_markup_names_in_closing_tags = true;
    }
    let mut foreign = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Decl(decl)) => {
                // One feed-rs would not act on (an unknown label) is harmless to rewrite too.
                let says_utf8 = match decl.encoding() {
                    None => true,
                    Some(Ok(label)) => Encoding::for_label(label.as_bytes()) == Some(UTF_8),
                    Some(Err(_)) => false,
                };
                if !says_utf8 {
                    foreign.push(start..reader.buffer_position() as usize);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if foreign.is_empty() {
        return None;
    }
    let mut fixed = String::with_capacity(text.len());
    let mut done = 0;
    for range in foreign {
        fixed.push_str(&text[done..range.start]);
        fixed.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        done = range.end;
    }
    fixed.push_str(&text[done..]);
    Some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_feed;

    const ARABIC: &str = "قرغيزستان وطاجيكستان توقعان اتفاقية لترسيم الحدود";

    fn base() -> Url {
        Url::parse("https://example.com/feed.xml").unwrap()
    }

    fn rss(title: &str) -> String {
        format!(
            "<rss version=\"2.0\"><channel><title>قناة</title><link>https://example.com/</link>\
             <item><title>{title}</title><link>https://example.com/a</link></item></channel></rss>"
        )
    }

    #[test]
    fn only_declarations_outside_content_are_rewritten() {
        let lead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        assert_eq!(
            later_declarations_as_utf8(&format!("{lead}{}", rss("x"))),
            None
        );
        let quoted = format!(
            "{lead}<rss version=\"2.0\"><channel><title a=\"<?xml version='1.0' encoding='cp1256'?>\">t</title>\
             <description><![CDATA[<?xml version=\"1.0\" encoding=\"windows-1256\"?>]]></description>\
             <!-- <?xml version=\"1.0\" encoding=\"windows-1256\"?> --></channel></rss>"
        );
        assert_eq!(later_declarations_as_utf8(&quoted), None);
        let stray = format!(
            "{quoted}\n<?xml version=\"1.0\" encoding=\"windows-1256\" standalone=\"yes\"?><?xml version=\"1.0\"?>"
        );
        let fixed = later_declarations_as_utf8(&stray).unwrap();
        assert_eq!(
            fixed,
            format!("{quoted}\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><?xml version=\"1.0\"?>")
        );
    }

    #[test]
    fn a_later_declaration_neither_garbles_nor_panics() {
        // Within feed-rs's first 64 bytes it switched the decoder: the Arabic after them came out as mojibake.
        let early = format!(
            "<?xml version=\"1.0\"?><?xml version='1.0' encoding='cp1256'?>{}",
            rss(ARABIC)
        );
        let feed = parse_feed(early.as_bytes(), None, &base()).unwrap();
        assert_eq!(feed.items[0].title, ARABIC);
        // A PHP notice printed before a legacy feed: the declaration comes after 64 bytes (feed-rs panicked).
        let notice = "\nNotice: Undefined index: lang in /var/www/html/rss.php on line 12\n";
        let legacy = format!(
            "{notice}<?xml version=\"1.0\" encoding=\"windows-1256\"?>{}",
            rss(ARABIC)
        );
        let bytes = encoding_rs::WINDOWS_1256.encode(&legacy).0;
        let feed = parse_feed(&bytes, Some("text/xml"), &base()).unwrap();
        assert_eq!(feed.items[0].title, ARABIC);
        // Not a feed at all (a script quoting one): the usual diagnosis, as for its UTF-8 twin.
        let script = "#!/bin/sh\n# writes the legacy sample\ncat > sample.xml <<'EOF'\n\
                      <?xml version=\"1.0\" encoding=\"windows-1256\"?>\n<note>نص</note>\nEOF\n";
        let twin = script.replace("windows-1256", "UTF-8");
        let err = parse_feed(script.as_bytes(), None, &base()).unwrap_err();
        assert_eq!(Err(err.clone()), parse_feed(twin.as_bytes(), None, &base()));
        assert!(
            matches!(&err, ParseError::NotAFeed(what) if what.contains("neither XML nor JSON")),
            "{err}"
        );
    }

    #[test]
    fn a_panic_in_feed_rs_fails_the_body_only() {
        let caught = contain_panic(|| panic!("assertion failed: prefix\nstill active"));
        let Err(FeedRsError::Panicked(why)) = caught else {
            panic!("not contained: {caught:?}")
        };
        assert_eq!(
            panicked(&why).to_string(),
            "malformed feed: the feed parser (feed-rs) failed on this body: assertion failed: prefix still active"
        );
        let message = format!("{} items", 3);
        let caught = contain_panic(move || panic!("{message}"));
        assert!(matches!(caught, Err(FeedRsError::Panicked(why)) if why == "3 items"));
        assert!(matches!(
            contain_panic(|| Err(ParseFeedError::ParseError(
                feed_rs::parser::ParseErrorKind::NoFeedRoot
            ))),
            Err(FeedRsError::Failed(_))
        ));
    }
}
