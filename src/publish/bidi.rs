//! Bidi controls in published text: every embedding, override and isolate an outlet opens is closed where its text
//! ends.
//!
//! Arabic text legitimately carries the explicit directional controls (U+202A–U+202E, U+2066–U+2069), but an
//! unbalanced one — a lone U+202E RIGHT-TO-LEFT OVERRIDE in a headline — keeps acting after the headline and
//! reorders whatever a reader shows next (the next title, the outlet's name, a date). Stored text keeps the
//! outlet's characters; published text is balanced here: a closer without an opener is dropped, and openers left
//! open are closed at the end, innermost first. Marks (U+200E/U+200F, U+061C) affect nothing beyond their
//! neighbours and are kept.

use std::borrow::Cow;

const LRE: char = '\u{202A}';
const RLE: char = '\u{202B}';
const PDF: char = '\u{202C}';
const LRO: char = '\u{202D}';
const RLO: char = '\u{202E}';
const LRI: char = '\u{2066}';
const RLI: char = '\u{2067}';
const FSI: char = '\u{2068}';
const PDI: char = '\u{2069}';

/// Deeper than the Unicode bidi algorithm's own limit (125) is never meaningful; extra openers are dropped.
const MAX_OPEN: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// LRE, RLE, LRO, RLO: closed by PDF.
    Embedding,
    /// LRI, RLI, FSI: closed by PDI.
    Isolate,
}

fn is_control(c: char) -> bool {
    matches!(c, LRE..=RLO | LRI..=PDI)
}

/// `s` with its explicit bidi controls balanced (see the module doc). Borrows when `s` has none, which is nearly
/// always.
pub(crate) fn balance_bidi(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut open: Vec<Open> = Vec::new();
    for c in s.chars() {
        match c {
            LRE | RLE | LRO | RLO | LRI | RLI | FSI => {
                if open.len() < MAX_OPEN {
                    open.push(if matches!(c, LRI | RLI | FSI) {
                        Open::Isolate
                    } else {
                        Open::Embedding
                    });
                    out.push(c);
                }
            }
            PDF => {
                if open.last() == Some(&Open::Embedding) {
                    open.pop();
                    out.push(c);
                }
            }
            PDI => {
                if let Some(at) = open.iter().rposition(|o| *o == Open::Isolate) {
                    // A PDI also ends the embeddings opened inside its isolate; say so explicitly.
                    for _ in open.drain(at + 1..) {
                        out.push(PDF);
                    }
                    open.pop();
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    for o in open.iter().rev() {
        out.push(match o {
            Open::Embedding => PDF,
            Open::Isolate => PDI,
        });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unbalanced_controls_are_closed_or_dropped() {
        assert_eq!(
            balance_bidi("باكو \u{202E}تعلن"),
            "باكو \u{202E}تعلن\u{202C}"
        );
        assert_eq!(balance_bidi("a\u{202C}b\u{2069}c"), "abc");
        assert_eq!(
            balance_bidi("\u{2067}x\u{202B}y\u{2069}z"),
            "\u{2067}x\u{202B}y\u{202C}\u{2069}z"
        );
        assert_eq!(
            balance_bidi("\u{2068}\u{202D}"),
            "\u{2068}\u{202D}\u{202C}\u{2069}"
        );
    }

    #[test]
    fn balanced_and_plain_text_is_untouched() {
        let s = "\u{200F}كازاخستان \u{2067}Astana\u{2069} \u{202B}نص\u{202C}";
        assert!(matches!(balance_bidi("نص عادي"), Cow::Borrowed(_)));
        assert_eq!(balance_bidi(s), s);
    }

    /// After balancing, a left-to-right count never goes below zero and ends at zero.
    fn balanced(s: &str) -> bool {
        let mut open = Vec::new();
        for c in s.chars() {
            match c {
                LRE | RLE | LRO | RLO => open.push(PDF),
                LRI | RLI | FSI => open.push(PDI),
                PDF | PDI if open.pop() != Some(c) => return false,
                _ => {}
            }
        }
        open.is_empty()
    }

    proptest! {
        #[test]
        fn output_is_always_balanced(parts in proptest::collection::vec(prop_oneof![
            Just(LRE), Just(RLE), Just(PDF), Just(LRO), Just(RLO), Just(LRI), Just(RLI), Just(FSI), Just(PDI),
            Just('ب'), Just('a'),
        ], 0..40)) {
            let s: String = parts.into_iter().collect();
            let out = balance_bidi(&s);
            prop_assert!(balanced(&out), "{:?} -> {:?}", s, out);
            prop_assert_eq!(balance_bidi(&out), out.clone());
        }
    }
}
