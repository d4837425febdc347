//! The text helpers: the XML character checks (the byte and chunked ones against the per-character rule), plain
//! text from HTML (tags, entities, whitespace of every kind, hostile input), escaping and hex.

use super::*;

proptest::proptest! {
    #[test]
    fn the_byte_check_is_the_character_check(s in proptest::prelude::any::<String>()) {
        proptest::prop_assert_eq!(all_xml_chars(&s), s.chars().all(is_xml_char));
    }

    /// Long texts with a character of every kind the check decodes at any place, so that it falls at every
    /// position of a chunk and across chunk ends.
    #[test]
    fn the_chunked_check_is_the_character_check_at_every_position(
        before in "[a-z بكوا\u{627}-\u{64A}\u{1F600}]{0,80}",
        odd in proptest::sample::select(vec![
            '\t', '\n', '\r', '\0', '\u{1F}', '\u{7F}', '\u{80}', '\u{85}', '\u{9F}', '\u{A0}',
            '\u{FDCF}', '\u{FDD0}', '\u{FEFF}', '\u{FFFD}', '\u{FFFE}', '\u{FFFF}', '\u{1FFFE}',
            '\u{1F600}', '\u{10FFFF}', 'ب',
        ]),
        after in "[a-z بكوا\u{627}-\u{64A}]{0,40}",
    ) {
        let s = format!("{before}{odd}{after}");
        proptest::prop_assert_eq!(all_xml_chars(&s), s.chars().all(is_xml_char));
    }
}

proptest::proptest! {
    #[test]
    fn words_are_the_pieces_between_whitespace(
        s in "[a-z بك\u{627}-\u{64A}\t\n\r\u{B}\u{C}\u{1C}\u{85}\u{A0}\u{A1}\u{1680}\u{2000}-\u{200D}\u{2028}\u{202F}\u{205F}\u{3000}\u{3001}\u{FEFF}]{0,60}"
    ) {
        let split: Vec<&str> = s.split(char::is_whitespace).filter(|w| !w.is_empty()).collect();
        proptest::prop_assert_eq!(words(&s).collect::<Vec<_>>(), split);
    }
}

#[test]
fn every_whitespace_character_starts_with_a_byte_words_decodes() {
    for c in (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
    {
        let first = c.to_string().as_bytes()[0];
        assert!(
            matches!(first, b' ' | b'\t'..=b'\r' | 0xC2 | 0xE1..=0xE3),
            "U+{:04X}",
            c as u32
        );
    }
}

#[test]
fn the_byte_check_refuses_every_kind_of_non_xml_character() {
    for c in [
        '\0',
        '\u{1}',
        '\u{1F}',
        '\u{7F}',
        '\u{80}',
        '\u{9F}',
        '\u{FDD0}',
        '\u{FDEF}',
        '\u{FEFF}',
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{1FFFE}',
        '\u{10FFFF}',
    ] {
        assert!(!all_xml_chars(&format!("باكو{c}ا")), "U+{:04X}", c as u32);
    }
    for c in [
        '\t',
        '\n',
        '\r',
        ' ',
        '\u{A0}',
        '\u{FDCF}',
        '\u{FDF0}',
        '\u{FEFE}',
        '\u{FFFD}',
        '\u{1F600}',
    ] {
        assert!(all_xml_chars(&format!("باكو{c}ا")), "U+{:04X}", c as u32);
    }
}

#[test]
fn plain_text_strips_tags_and_decodes_once() {
    assert_eq!(
        plain_text("<b>قمة</b> &amp;amp; <i>باكو</i>"),
        "قمة &amp; باكو"
    );
    assert_eq!(
        plain_text("أستانا&nbsp;&quot;اليوم&quot; &#1604;&#x644;"),
        "أستانا \"اليوم\" لل"
    );
    assert_eq!(plain_text("&lt;b&gt; يبقى نصاً"), "<b> يبقى نصاً");
    assert_eq!(plain_text("  سطر\n\t  ثان  "), "سطر ثان");
    assert_eq!(plain_text("5 < 6 و 7 > 3"), "5 < 6 و 7 > 3");
    assert_eq!(
        plain_text("a <script>alert(1)</script>b<!-- x > y -->c"),
        "a bc"
    );
    assert_eq!(
        plain_text("&unknown; & &#0; &#xZZ;"),
        "&unknown; & \u{FFFD} &#xZZ;"
    );
    assert_eq!(plain_text("x\u{1}y\u{FFFE}z&#1;"), "xyz");
    assert_eq!(
        plain_text("&قرغيزستان وطاجيكستان توقعان اتفاقية"),
        "&قرغيزستان وطاجيكستان توقعان اتفاقية"
    );
}

#[test]
fn hostile_text_stays_linear() {
    let many_lt = "<a".repeat(200_000);
    let start = std::time::Instant::now();
    assert_eq!(plain_text(&many_lt).len(), many_lt.len());
    let many_amp = "&".repeat(400_000) + "amp;";
    assert!(plain_text(&many_amp).ends_with("&&"));
    let open_script = "<script>".to_owned() + &"x".repeat(400_000);
    assert_eq!(plain_text(&open_script), "");
    // Linear work here takes milliseconds and quadratic work minutes: a bound between the two, far from both,
    // tells them apart however busy the machine (1 s failed under eight parallel builds).
    assert!(
        start.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn breaks_between_words_stay_spaces() {
    assert_eq!(plain_text("باكو<br>أستانا<br/>طشقند"), "باكو أستانا طشقند");
    assert_eq!(plain_text("<p>قمة</p><p>باكو</p>"), "قمة باكو");
    assert_eq!(
        plain_text("أذر<b>بيجان</b>"),
        "أذربيجان",
        "inline tags join"
    );
    assert_eq!(plain_text("<p>باكو&nbsp;&#1610;<b>x</b></p>"), "باكو يx");
}

#[test]
fn xml_names_only_where_html_names_mean_nothing() {
    assert_eq!(
        decode_entities("a&amp;b &copy; &#1604; &nbsp;", Entities::Xml),
        "a&b &copy; ل &nbsp;"
    );
    assert_eq!(
        decode_entities("a&amp;b &copy; &#1604;", Entities::Html),
        "a&b © ل"
    );
    assert!(matches!(
        decode_entities("?a=1&b=2", Entities::Xml),
        Cow::Owned(s) if s == "?a=1&b=2"
    ));
}

#[test]
fn non_xml_characters_escaping_and_hex() {
    assert!(matches!(drop_non_xml_chars("نص عادي"), Cow::Borrowed(_)));
    assert_eq!(
        drop_non_xml_chars("a\u{0}b\u{8}c\u{FFFF}\td\u{85}\u{FEFF}"),
        "abc\td"
    );
    assert!(drop_non_xml_chars("\u{200F}\u{202B}\u{200D}") == "\u{200F}\u{202B}\u{200D}");
    assert_eq!(
        escape_markup(r#"a&b<c>"d'e"#),
        "a&amp;b&lt;c&gt;&quot;d&#39;e"
    );
    assert_eq!(
        escape_markup("&amp;"),
        "&amp;amp;",
        "text is escaped, never interpreted"
    );
    assert_eq!(escape_markup("x\u{1}y\u{FFFF}"), "xy");
    assert_eq!(hex(&[0x00, 0x9f, 0xff]), "009fff");
}
