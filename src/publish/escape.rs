//! Escaping for the documents we write by hand (Atom, OPML, the HTML page).
//!
//! One function serves XML text, XML attributes and HTML alike: escaping `&`, `<`, `>`, `"` and `'` everywhere is
//! valid in all three, so there is no way to pick the wrong variant. Forbidden characters are stripped here too, so
//! no caller can forget it.

use super::sanitize::is_allowed_char;

/// Escapes `s` for use as XML/HTML text or a quoted attribute value, dropping XML-forbidden characters.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_allowed_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_once_and_strips_controls() {
        assert_eq!(esc(r#"a&b<c>"d'e"#), "a&amp;b&lt;c&gt;&quot;d&#39;e");
        assert_eq!(
            esc("&amp;"),
            "&amp;amp;",
            "text is escaped, never interpreted"
        );
        assert_eq!(esc("x\u{1}y\u{FFFF}"), "xy");
        assert_eq!(esc("قازاقستان"), "قازاقستان");
    }
}
