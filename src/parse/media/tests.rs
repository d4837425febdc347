//! Media found per item: every element kind, URLs resolved and filtered, and JSON Feed.

use url::Url;

use crate::model::Media;
use crate::parse::parse_feed;

fn media_of(name: &str) -> Vec<Vec<Media>> {
    let path = format!("{}/tests/fixtures/feeds/{name}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap();
    let base = Url::parse("https://media.example/feed.xml").unwrap();
    let feed = parse_feed(&body, Some("application/rss+xml"), &base).unwrap();
    feed.items.into_iter().map(|i| i.media).collect()
}

#[test]
fn every_kind_of_rss_media_is_kept() {
    let items = media_of("media.xml");
    assert_eq!(items.len(), 5);
    // feed-rs would drop the enclosure beside media:content; both are kept, the enclosure resolved (xml:base).
    let urls: Vec<&str> = items[0].iter().map(|m| m.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://media.example/ar/img/1.jpg",
            "https://cdn.media.example/1-large.jpg"
        ]
    );
    assert_eq!(items[0][0].size, Some(48213));
    assert_eq!(items[0][0].mime.as_deref(), Some("image/jpeg"));
    assert_eq!(
        (items[0][1].width, items[0][1].height),
        (Some(1200), Some(675))
    );
    assert!(items[0].iter().all(Media::is_image));
    // A thumbnail alone in a media:group (feed-rs drops it).
    assert_eq!(items[1].len(), 1);
    assert!(items[1][0].is_image());
    assert_eq!(items[1][0].width, Some(320));
    // Podcast: sound, cover, and the Atom enclosure link.
    assert_eq!(items[2].len(), 3);
    assert!(items[2][0].is_audio_or_video());
    assert_eq!(items[2][1].url, "https://media.example/cover.png");
    assert!(items[2][1].is_image());
    assert_eq!(items[2][2].mime.as_deref(), Some("audio/ogg"));
    // The first <img> of the text, resolved against the feed's base.
    assert_eq!(items[3].len(), 1);
    assert_eq!(items[3][0].url, "https://media.example/pics/4.gif");
    assert_eq!(
        (items[3][0].width, items[3][0].height),
        (Some(640), Some(480))
    );
    // javascript: and data: URLs never get through.
    assert!(items[4].is_empty(), "{:?}", items[4]);
}

#[test]
fn json_feed_image_and_attachments() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[
        {"id":"1","url":"https://j.example/1","title":"أ","content_text":"x","image":"/i/1.jpg",
         "attachments":[{"url":"https://j.example/a.mp3","mime_type":"audio/mpeg","size_in_bytes":99}]},
        {"id":"2","url":"https://j.example/2","title":"ب","content_text":"y"}]}"#;
    let base = Url::parse("https://j.example/feed.json").unwrap();
    let feed = parse_feed(json.as_bytes(), Some("application/feed+json"), &base).unwrap();
    let first = &feed.items[0].media;
    assert_eq!(first[0].url, "https://j.example/i/1.jpg");
    assert!(first[0].is_image());
    assert_eq!(first[1].size, Some(99));
    assert!(first[1].is_audio_or_video());
    assert!(feed.items[1].media.is_empty());
}

#[test]
fn media_survives_the_store_round_trip_as_json() {
    let m = Media {
        url: "https://a.example/x.jpg".into(),
        width: Some(10),
        picture: true,
        ..Media::default()
    };
    let text = serde_json::to_string(&vec![m.clone()]).unwrap();
    assert_eq!(
        text,
        r#"[{"url":"https://a.example/x.jpg","width":10,"picture":true}]"#
    );
    assert_eq!(serde_json::from_str::<Vec<Media>>(&text).unwrap(), vec![m]);
}

#[test]
fn media_urls_never_carry_credentials() {
    let base = Url::parse("http://reader:secret@feeds.example/a/feed.xml").unwrap();
    assert_eq!(
        super::http_url("img/1.jpg", &base).as_deref(),
        Some("http://feeds.example/a/img/1.jpg")
    );
    assert_eq!(super::http_url("javascript:alert(1)", &base), None);
    assert_eq!(super::http_url("data:image/png;base64,AAAA", &base), None);
}

#[test]
fn the_quick_look_lets_every_kind_of_media_through() {
    let base = Url::parse("https://media.example/feed.xml").unwrap();
    for element in [
        "<enclosure url=\"https://m.example/a.jpg\" type=\"image/jpeg\"/>",
        "<media:content xmlns:media=\"http://search.yahoo.com/mrss/\" url=\"https://m.example/b.jpg\"/>",
        "<itunes:image xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" href=\"https://m.example/d.jpg\"/>",
        "<link xmlns=\"http://www.w3.org/2005/Atom\" rel=\"&#101;nclosure\" href=\"https://m.example/f.mp3\"/>",
    ] {
        let text = format!("<rss version=\"2.0\"><channel><item>{element}</item></channel></rss>");
        let scanned = super::scan_xml(&text, &base);
        assert_eq!(scanned.len(), 1, "{element}");
        assert_eq!(scanned[0].media.len(), 1, "{element}");
    }
    assert!(super::scan_xml(
        "<rss><channel><item><title>t</title></item></channel></rss>",
        &base
    )
    .is_empty());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    /// Whenever the quick look says a document names no media, the full scan finds none either.
    #[test]
    fn a_document_the_quick_look_skips_has_no_media(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            "<rss version=\"2.0\"><channel>", "</channel></rss>", "<item>", "</item>", "<guid>g1</guid>",
            "<title>ت</title>", "<enclosure url=\"https://m.example/a.jpg\" type=\"image/jpeg\"/>",
            "<media:content url=\"https://m.example/b.jpg\"/>", "<m:thumbnail url=\"https://m.example/c.jpg\"/>",
            " xmlns:media=\"http://search.yahoo.com/mrss/\"", "<x xmlns:m=\"http://search.yahoo.com/mrss\">",
            "</x>", "<itunes:image href=\"https://m.example/d.jpg\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"/>",
            "<link rel=\"enclosure\" href=\"https://m.example/e.mp3\" xmlns=\"http://www.w3.org/2005/Atom\"/>",
            "<link rel=\"&#101;nclosure\" href=\"https://m.example/f.mp3\" xmlns=\"http://www.w3.org/2005/Atom\"/>",
            "<entry xmlns=\"http://www.w3.org/2005/Atom\">", "</entry>", ">", "text",
        ]), 0..16),
    ) {
        let text = parts.concat();
        let base = Url::parse("https://media.example/feed.xml").unwrap();
        if !super::may_name_media(&text) {
            let mut forced = text.clone();
            // The same document with a harmless character reference: the full scan runs on it.
            forced.push_str("<!-- &#32; -->");
            let scanned = super::scan_xml(&forced, &base);
            proptest::prop_assert!(scanned.iter().all(|s| s.media.is_empty()), "{:?}", scanned);
        }
    }
}
