//! Arabic text folding for *matching only*.
//!
//! Outlets spell the same headline in many ways: with or without diacritics and hamza, with أ/إ/آ/ا, ة/ه, ى/ي,
//! Persian letters, Arabic-Indic or Latin digits, assorted quotes, bidi controls and presentation forms pasted
//! from PDFs. [`normalize`] folds all of that away so that two spellings of one word compare equal, and
//! [`tokens`] then cuts the folded text into comparable words (clitics and stopwords removed).
//!
//! Stored and published text is never replaced by this output: folding loses information (ة/ه, hamza) that a
//! reader needs, so it only ever feeds comparisons.
//!
//! Folding works on the NFKD decomposition, which splits presentation forms into base letters and splits
//! hamza/madda carriers (أ إ آ ؤ ئ) into a base letter plus a combining mark; every combining mark is then dropped.
//! Working on a fully decomposed, mark-free string is what makes the fold idempotent (a second pass finds nothing
//! left to decompose, drop or compose).

use std::sync::OnceLock;

use rustc_hash::FxHashSet;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Bumped whenever folding or tokenization changes, so fingerprints of derived data (gazetteer, stored relevance)
/// change with it.
pub const VERSION: u32 = 2;

/// What one (decomposed) input character becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fold {
    /// Removed without a trace (diacritics, tatweel, invisible controls): the letters around it join.
    Drop,
    /// A word boundary (punctuation, symbols, whitespace).
    Sep,
    /// A separator that may sit inside a number (`3.5`, `1,000`, `٣٫٥`); decided once the neighbours are known.
    NumSep(char),
    Keep(char),
}

/// Characters removed outright rather than turned into a word boundary: they sit *inside* words (a ZWNJ in a
/// Persian-style spelling, a tatweel stretching a letter, a bidi mark pasted from a CMS).
fn is_dropped(c: char) -> bool {
    matches!(c,
        '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}'
        | '\u{0640}' // tatweel
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{061C}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
        // Presentation-form code points NFKD leaves alone (tail fragments, unassigned, noncharacters):
        // they are glyph pieces, not letters.
        | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFE}')
}

/// Letter and digit folds that NFKD does not already perform.
fn fold_letter(c: char) -> char {
    match c {
        'ٱ' | 'ٲ' | 'ٳ' => 'ا',
        'ى' | 'ی' | 'ې' | 'ے' => 'ي',
        'ة' | 'ۃ' | 'ھ' | 'ہ' | 'ە' => 'ه',
        'ک' | 'ڪ' | 'گ' => 'ك',
        'پ' => 'ب',
        'چ' => 'ج',
        'ڤ' => 'ف',
        'ژ' => 'ز',
        'ڨ' => 'ق',
        '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
        '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
        _ => c,
    }
}

fn classify(c: char) -> Fold {
    if is_dropped(c) || is_combining_mark(c) {
        return Fold::Drop;
    }
    match c {
        '.' | ',' | '٫' | '٬' => return Fold::NumSep(c),
        _ => {}
    }
    let c = fold_letter(c);
    if c.is_alphanumeric() {
        Fold::Keep(c)
    } else {
        Fold::Sep
    }
}

/// Folds `text` for matching: see the module doc for what is folded. The result is lower-case, has single spaces
/// between words and none at either end, and is a fixed point (`normalize(normalize(x)) == normalize(x)`).
///
/// Almost every headline is Arabic letters, ASCII and a little common punctuation, whose folds are known without
/// a Unicode table: those texts take a direct path (one table-free match per character, no decomposition, no
/// case or alphabetic lookup — it was ~10 % of a poll round's CPU). Any other character sends the whole text
/// through the general path; a unit test checks that both give the very same output for every character the
/// direct path accepts.
pub fn normalize(text: &str) -> String {
    fold::<false>(text)
}

/// The word [`fold_marking_percent`] puts where a percent sign stood. [`normalize`] never emits it (a `%` is a
/// separator there), so it cannot be confused with a word of the text.
pub const PERCENT_MARK: &str = "%";

/// [`normalize`] with one difference: every percent sign (`%`, `٪`) of the text becomes a word of its own,
/// [`PERCENT_MARK`]. Dropping those words gives exactly `normalize(text)`, spelling them out as "بالمئة" gives
/// exactly what `normalize` makes of the text with its percent signs spelled out — so one fold serves both the
/// search index (which ignores percent signs) and story matching (where "12%" and "12 بالمئة" are one figure).
pub fn fold_marking_percent(text: &str) -> String {
    fold::<true>(text)
}

/// An item's texts as [`fold_marking_percent`] folds them, made once when its features are computed
/// (`dedup::item_features_folded`) and reused by the search index, which reads the same folds: the headline, and
/// the plain text of the summary or the content when it was folded whole. (A long text to match is folded only as
/// far as matching reads it, and a text matching does not read is not folded at all; the index folds those
/// itself.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldedItem {
    /// The headline, folded.
    pub title: String,
    /// The summary's plain text, folded whole, if it was.
    pub summary: Option<String>,
    /// The content's plain text, folded whole, if it was.
    pub content: Option<String>,
}

/// See [`normalize`]; `MARK`: percent signs become [`PERCENT_MARK`] words.
fn fold<const MARK: bool>(text: &str) -> String {
    if let Some(folded) = fold_common::<MARK>(text) {
        return folded;
    }
    let mut folded: Vec<Fold> = Vec::with_capacity(text.len());
    if MARK {
        // A percent sign is a starter with no decomposition, so NFKD of the pieces between them is NFKD of the
        // whole.
        for (i, piece) in text.split(['%', '٪']).enumerate() {
            if i > 0 {
                folded.extend([Fold::Sep, Fold::Keep('%'), Fold::Sep]);
            }
            fold_general(piece, &mut folded);
        }
    } else {
        fold_general(text, &mut folded);
    }
    assemble(&folded, text.len())
}

/// The folded text in one pass, if every character is one [`common_fold`] knows (`None` otherwise). Does what
/// [`assemble`] does over the folds of the general path, with the neighbours of a numeric separator read from the
/// text itself. `MARK`: see [`fold_marking_percent`].
///
/// Most characters of a news text fold to themselves (a letter without hamza or diacritics, a Latin digit), so
/// the text is read as runs of such characters, found from their bytes ([`unchanged_run`]) and each copied whole;
/// only the characters between the runs (separators, marks, letters that fold to another) are folded one by one.
/// Decoding, folding and pushing every character through `chars()` and `String::push` was most of what folding
/// cost. A test compares it with the character-by-character form it replaced (`fold_common_by_char`).
fn fold_common<const MARK: bool>(text: &str) -> Option<String> {
    let table = common_table();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut pending_sep = false;
    // Whether the last fold that was not dropped is a digit (a separator or a numeric separator clears it).
    let mut after_digit = false;
    let steps = run_table();
    let mut i = 0;
    while i < bytes.len() {
        // The run of characters that fold to themselves starting here, read in a tight loop.
        let end = unchanged_run(steps, bytes, i);
        if end > i {
            if pending_sep && !out.is_empty() {
                out.push(' ');
            }
            pending_sep = false;
            out.push_str(&text[i..end]);
            after_digit = bytes[end - 1].is_ascii_digit();
            i = end;
            if i == bytes.len() {
                break;
            }
        }
        // One character that does not fold to itself.
        let c = text[i..].chars().next().expect("a character starts here");
        i += c.len_utf8();
        if MARK && matches!(c, '%' | '٪') {
            // A separator, the mark, a separator.
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('%');
            pending_sep = true;
            after_digit = false;
            continue;
        }
        let kept = match common_at(table, c)? {
            Common::One(Fold::Drop) => continue,
            // Three full stops after NFKD: none of them lies between two digits.
            Common::Ellipsis | Common::One(Fold::Sep) => {
                pending_sep = true;
                after_digit = false;
                continue;
            }
            Common::One(Fold::Keep(k)) => {
                after_digit = k.is_ascii_digit();
                k
            }
            Common::One(Fold::NumSep(s)) => {
                let digits_before = std::mem::replace(&mut after_digit, false);
                let digits_after = leading_digits(table, text[i..].chars());
                if !digits_before || digits_after == 0 {
                    pending_sep = true;
                    continue;
                }
                // Between digits: a thousands separator (`,`/`٬` before exactly three digits) disappears so
                // "1,000" and "1000" agree; any other one is a decimal point.
                if matches!(s, ',' | '٬') && digits_after == 3 {
                    continue;
                }
                '.'
            }
        };
        if pending_sep && !out.is_empty() {
            out.push(' ');
        }
        pending_sep = false;
        out.push(kept);
    }
    Some(out)
}

/// How far a run of characters folding to themselves goes on at each pair of bytes, read as one index (the
/// first byte high): 1 for an ASCII character that folds to itself, 2 for a two-byte one, 0 where the run ends.
/// A space counts 1 when the byte after it may start such a character (see [`unchanged_run`]).
type RunTable = [u8; 1 << 16];

fn run_table() -> &'static RunTable {
    static TABLE: OnceLock<Box<RunTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let common = common_table();
        let same = |c: usize| c < TABLE_CHARS && common[c] == ENTRY_KEEP | c as u32;
        let mut table = Box::new([0; 1 << 16]);
        for (pair, step) in table.iter_mut().enumerate() {
            let (b0, b1) = ((pair >> 8) as u8, pair as u8);
            *step = if b0 == b' ' {
                u8::from((b1 < 0x80 && same(usize::from(b1))) || b1 & 0xE0 == 0xC0)
            } else if b0 < 0x80 {
                u8::from(same(usize::from(b0)))
            } else if b0 & 0xE0 == 0xC0 && b1 & 0xC0 == 0x80 {
                2 * u8::from(same((usize::from(b0 & 0x1F) << 6) | usize::from(b1 & 0x3F)))
            } else {
                0
            };
        }
        table
    })
}

/// Where the run of characters folding to themselves that starts at `bytes[start]` ends (`start` for none),
/// read two bytes at a time through the [`RunTable`]. A single space between two such characters stays in the
/// run: the fold makes it the one space between their words, so the words of a plain sentence are copied
/// together. (The table lets a space in when the byte after it may start such a character; a run that ends
/// with a space gives it back.)
#[inline]
fn unchanged_run(steps: &RunTable, bytes: &[u8], start: usize) -> usize {
    if bytes[start] == b' ' {
        return start;
    }
    let mut i = start;
    while let Some(&[b0, b1]) = bytes.get(i..i + 2) {
        let step = steps[(usize::from(b0) << 8) | usize::from(b1)];
        if step == 0 {
            break;
        }
        i += usize::from(step);
    }
    // The last byte of the text has no byte after it: only an ASCII character can stand there alone.
    if i + 1 == bytes.len() && bytes[i] != b' ' && steps[usize::from(bytes[i]) << 8] == 1 {
        i += 1;
    }
    if i > start && bytes[i - 1] == b' ' {
        i -= 1;
    }
    i
}

/// How many digits (up to four: the callers tell none, three and more apart) the text starts with, dropped
/// characters skipped.
fn leading_digits(table: &CommonTable, chars: std::str::Chars<'_>) -> usize {
    let mut n = 0;
    for c in chars {
        match common_at(table, c) {
            Some(Common::One(Fold::Drop)) => {}
            Some(Common::One(Fold::Keep(d))) if d.is_ascii_digit() => {
                n += 1;
                if n > 3 {
                    break;
                }
            }
            _ => break,
        }
    }
    n
}

/// [`common_fold`] of every character below U+0700 — ASCII and the Arabic block, nearly every character of a
/// news text — read from a table instead of matched: the match (a search through its ranges, then
/// `fold_letter`'s) was most of the time folding took. Each entry is a kind in the top byte and the character
/// it keeps (or the separator it is) below; the table is made from `common_fold` itself, so the two agree by
/// construction (and the proptests against the general path cover both).
type CommonTable = [u32; TABLE_CHARS];

/// Characters below this are read from the [`CommonTable`].
const TABLE_CHARS: usize = 0x0700;

const ENTRY_NONE: u32 = 0;
const ENTRY_DROP: u32 = 1 << 24;
const ENTRY_SEP: u32 = 2 << 24;
const ENTRY_ELLIPSIS: u32 = 3 << 24;
const ENTRY_NUM_SEP: u32 = 4 << 24;
const ENTRY_KEEP: u32 = 5 << 24;
const ENTRY_CHAR: u32 = (1 << 24) - 1;

fn common_table() -> &'static CommonTable {
    static TABLE: OnceLock<Box<CommonTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Box::new([ENTRY_NONE; TABLE_CHARS]);
        for (i, entry) in table.iter_mut().enumerate() {
            let Some(c) = char::from_u32(i as u32) else {
                continue;
            };
            *entry = match common_fold(c) {
                None => ENTRY_NONE,
                Some(Common::Ellipsis) => ENTRY_ELLIPSIS,
                Some(Common::One(Fold::Drop)) => ENTRY_DROP,
                Some(Common::One(Fold::Sep)) => ENTRY_SEP,
                Some(Common::One(Fold::NumSep(s))) => ENTRY_NUM_SEP | s as u32,
                Some(Common::One(Fold::Keep(k))) => ENTRY_KEEP | k as u32,
            };
        }
        table
    })
}

/// [`common_fold`], through the table where it holds the character.
#[inline]
fn common_at(table: &CommonTable, c: char) -> Option<Common> {
    let Some(&entry) = table.get(c as usize) else {
        return common_fold(c);
    };
    let kept = || char::from_u32(entry & ENTRY_CHAR).unwrap_or_default();
    Some(match entry & !ENTRY_CHAR {
        ENTRY_DROP => Common::One(Fold::Drop),
        ENTRY_SEP => Common::One(Fold::Sep),
        ENTRY_ELLIPSIS => Common::Ellipsis,
        ENTRY_NUM_SEP => Common::One(Fold::NumSep(kept())),
        ENTRY_KEEP => Common::One(Fold::Keep(kept())),
        _ => return None,
    })
}

/// What a common character folds to, computed without Unicode tables.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Common {
    One(Fold),
    Ellipsis,
}

/// The fold of ASCII, the Arabic letters, marks and digits news text uses, the Persian letters `fold_letter`
/// knows, and common punctuation and invisible controls; `None` for anything else (which needs NFKD, lower-casing
/// or an alphabetic lookup). Must agree with the general path: see `normalize::tests::the_direct_path_agrees`.
#[inline]
fn common_fold(c: char) -> Option<Common> {
    let fold = match c {
        'a'..='z' | '0'..='9' => Fold::Keep(c),
        'A'..='Z' => Fold::Keep(c.to_ascii_lowercase()),
        '.' | ',' | '٫' | '٬' => Fold::NumSep(c),
        '\0'..='\x7f' => Fold::Sep,
        // Hamza and madda carriers: NFKD splits off the mark, which is dropped.
        'آ' | 'أ' | 'إ' => Fold::Keep('ا'),
        'ؤ' => Fold::Keep('و'),
        'ئ' => Fold::Keep('ي'),
        '\u{0621}' | '\u{0627}'..='\u{063A}' | '\u{0641}'..='\u{064A}' => {
            Fold::Keep(fold_letter(c))
        }
        'ٱ' | 'ٲ' | 'ٳ' | 'ی' | 'ې' | 'ے' | 'ۃ' | 'ھ' | 'ہ' | 'ە' | 'ک' | 'ڪ' | 'گ' | 'پ' | 'چ'
        | 'ڤ' | 'ژ' | 'ڨ' => Fold::Keep(fold_letter(c)),
        '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}' => Fold::Keep(fold_letter(c)),
        '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06ED}'
        | '\u{0640}' => Fold::Drop,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{061C}'
        | '\u{FEFF}'
        | '\u{00AD}' => Fold::Drop,
        '،' | '؛' | '؟' | '٪' | '«' | '»' | '\u{00A0}' | '–' | '—' | '‘' | '’' | '“' | '”'
        | '•' | '·' => Fold::Sep,
        '…' => return Some(Common::Ellipsis),
        _ => return None,
    };
    Some(Common::One(fold))
}

/// The folds of any text: NFKD, then each character classified (and lower-cased, folding the result again).
fn fold_general(text: &str, folded: &mut Vec<Fold>) {
    for c in text.nfkd() {
        match classify(c) {
            Fold::Keep(k) if !k.to_lowercase().eq(std::iter::once(k)) => {
                // Lower-casing may yield a decomposable or marked letter (İ → i̇): fold the result again.
                for l in k.to_lowercase().collect::<String>().nfkd() {
                    match classify(l) {
                        Fold::Keep(x) => folded.push(Fold::Keep(x)),
                        Fold::Drop => {}
                        _ => folded.push(Fold::Sep),
                    }
                }
            }
            other => folded.push(other),
        }
    }
}

/// The folded text: kept characters, one space per run of separators, numeric separators decided by their
/// neighbours.
fn assemble(folded: &[Fold], capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    let mut pending_sep = false;
    for i in 0..folded.len() {
        let c = match folded[i] {
            Fold::Drop => continue,
            Fold::Sep => {
                pending_sep = true;
                continue;
            }
            Fold::Keep(c) => c,
            Fold::NumSep(s) => {
                if !digits_around(folded, i, pending_sep) {
                    pending_sep = true;
                    continue;
                }
                // Between digits: a thousands separator (`,`/`٬` before exactly three digits) disappears so
                // "1,000" and "1000" agree; any other one is a decimal point.
                if matches!(s, ',' | '٬') && following_digits(folded, i) == 3 {
                    continue;
                }
                '.'
            }
        };
        if pending_sep && !out.is_empty() {
            out.push(' ');
        }
        pending_sep = false;
        out.push(c);
    }
    out
}

fn prev_is_digit(folded: &[Fold], i: usize, pending_sep: bool) -> bool {
    !pending_sep
        && folded[..i]
            .iter()
            .rev()
            .find(|f| !matches!(f, Fold::Drop))
            .is_some_and(|f| matches!(f, Fold::Keep(c) if c.is_ascii_digit()))
}

fn following_digits(folded: &[Fold], i: usize) -> usize {
    folded[i + 1..]
        .iter()
        .filter(|f| !matches!(f, Fold::Drop))
        .take_while(|f| matches!(f, Fold::Keep(c) if c.is_ascii_digit()))
        .count()
}

fn digits_around(folded: &[Fold], i: usize, pending_sep: bool) -> bool {
    prev_is_digit(folded, i, pending_sep) && following_digits(folded, i) > 0
}

/// Function words that carry no news: dropped from [`tokens`]. Spelled as [`normalize`] leaves them. Negations
/// (لا، لم، لن، ليس، دون) are deliberately absent: "talks end without agreement" is another story.
const STOPWORDS: &[&str] = &[
    "في",
    "من",
    "علي",
    "الي",
    "عن",
    "مع",
    "ان",
    "التي",
    "الذي",
    "الذين",
    "اللذين",
    "اللتين",
    "اللواتي",
    "بعد",
    "قبل",
    "خلال",
    "هذا",
    "هذه",
    "ذلك",
    "تلك",
    "هناك",
    "هنا",
    "كان",
    "كانت",
    "يكون",
    "تكون",
    "قد",
    "لقد",
    "ما",
    "او",
    "ام",
    "ثم",
    "حتي",
    "اي",
    "كما",
    "كل",
    "بين",
    "عند",
    "منذ",
    "حول",
    "لدي",
    "و",
    "ف",
    "ب",
    "ل",
    "ك",
    "يا",
    "هو",
    "هي",
    "هم",
    "هن",
    "نحن",
    "انه",
    "انها",
    "الا",
    "اذا",
    "اذ",
    "وفي",
    "ومن",
    "وعلي",
    "والي",
    "وعن",
    "ومع",
    "وان",
    "وقد",
    "فيه",
    "فيها",
    "منه",
    "منها",
    "عليه",
    "عليها",
    "اليه",
    "لها",
    "له",
    "به",
    "بها",
    "وهو",
    "وهي",
    "حيث",
    "ضمن",
    "عبر",
    "نحو",
    "لكن",
    "ولكن",
    "بل",
    "ايضا",
    "اما",
    "وذلك",
    "كذلك",
    "تم",
    "وتم",
    "يتم",
    "الان",
    "فقد",
    "وكان",
    "وكانت",
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "and",
    "to",
    "for",
];

/// Words that look like article + word but are not (or whose stripped form would collide with something else).
const NO_STRIP: &[&str] = &[
    "الاف",
    "الله",
    "الف",
    // "ألفي"/"ألفين"/"ألفان" (two thousand), not "the" + في/فين.
    "الفي",
    "الفين",
    "الفان",
    "الي",
    "الا",
    "الان",
    "الذي",
    "التي",
    "الذين",
];

/// Article and preposition+article prefixes, longest first. Only stripped when at least two letters remain.
const ARTICLE_PREFIXES: [&str; 11] = [
    "وبال", "وكال", "فبال", "ولل", "فلل", "وال", "بال", "كال", "فال", "لل", "ال",
];

/// Single-letter (and doubled) proclitics: و ب ل ف ك. Stripping them blindly destroys words (وزير، بيشكيك، لبنان),
/// so they are only removed when the remainder is a word the caller knows (a gazetteer form).
pub(crate) const PROCLITICS: [&str; 10] = ["وب", "ول", "فب", "فل", "وك", "و", "ب", "ل", "ف", "ك"];

/// The letters a prefix of [`ARTICLE_PREFIXES`] or [`PROCLITICS`] can start with.
pub(crate) const CLITIC_INITIALS: [char; 6] = ['ا', 'و', 'ب', 'ك', 'ف', 'ل'];

/// [`ARTICLE_PREFIXES`], [`PROCLITICS`] and [`CLITIC_INITIALS`] as [`Prefix`]es, in the same order.
static ARTICLES: [Prefix; 11] = Prefix::all(ARTICLE_PREFIXES);
pub(crate) static PROCLITIC_PREFIXES: [Prefix; 10] = Prefix::all(PROCLITICS);
static INITIALS: [Prefix; 6] = Prefix::all(["ا", "و", "ب", "ك", "ف", "ل"]);

/// A word's first eight bytes read as one number, zeros past its end: what a [`Prefix`] is compared with.
#[inline]
pub(crate) fn head(word: &str) -> u64 {
    let bytes = word.as_bytes();
    match bytes.first_chunk::<8>() {
        Some(first) => u64::from_le_bytes(*first),
        None => bytes
            .iter()
            .rev()
            .fold(0, |head, &b| (head << 8) | u64::from(b)),
    }
}

/// A clitic (at most eight bytes: up to four Arabic letters), compared with a word's [`head`] in one step. Every
/// word starting with a clitic letter is asked for each prefix of the lists in turn, and a `strip_prefix` per
/// prefix (a `memcmp` call each) was a visible share of reading an item's words. The same test: no byte of a
/// prefix is zero, so a word shorter than the prefix never matches it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prefix {
    mask: u64,
    bytes: u64,
    len: usize,
}

impl Prefix {
    const fn new(prefix: &str) -> Prefix {
        let b = prefix.as_bytes();
        assert!(!b.is_empty() && b.len() <= 8);
        let (mut mask, mut bytes, mut k) = (0, 0, 0);
        while k < b.len() {
            assert!(b[k] != 0);
            bytes |= (b[k] as u64) << (8 * k);
            mask |= 0xFF << (8 * k);
            k += 1;
        }
        Prefix {
            mask,
            bytes,
            len: b.len(),
        }
    }

    const fn all<const N: usize>(list: [&str; N]) -> [Prefix; N] {
        let mut out = [Prefix {
            mask: 0,
            bytes: 0,
            len: 0,
        }; N];
        let mut i = 0;
        while i < N {
            out[i] = Prefix::new(list[i]);
            i += 1;
        }
        out
    }

    /// `word` without this prefix, if it starts with it (`head`: [`head`] of `word`), as `strip_prefix` gives it.
    #[inline]
    pub(crate) fn strip(self, word: &str, head: u64) -> Option<&str> {
        (head & self.mask == self.bytes).then(|| &word[self.len..])
    }
}

/// Whether the word whose [`head`] this is starts with one of the [`CLITIC_INITIALS`].
#[inline]
pub(crate) fn starts_with_clitic_initial(head: u64) -> bool {
    INITIALS.iter().any(|p| head & p.mask == p.bytes)
}

/// Whether `s` has at least `n` characters, found without counting the rest (asked for every word, several
/// times, where only "at least two/three letters" matters). A character is one to four bytes, so the length in
/// bytes settles most cases without decoding any.
#[inline]
pub(crate) fn has_chars(s: &str, n: usize) -> bool {
    if s.len() < n {
        return false;
    }
    if n == 0 || s.len() > 4 * (n - 1) {
        return true;
    }
    s.chars().nth(n - 1).is_some()
}

/// Whether `word` (already normalized) is a stopword. A hash set: this is asked for every word of every item,
/// several times, and scanning the list was a visible share of feature extraction.
pub fn is_stopword(word: &str) -> bool {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect())
        .contains(word)
}

/// The words [`strip_clitics`] never strips: stopwords, and words that only look like article + word.
pub(crate) fn kept_words() -> impl Iterator<Item = &'static str> {
    STOPWORDS.iter().chain(NO_STRIP).copied()
}

/// Whether `word` is one of [`kept_words`].
pub(crate) fn keeps_clitics(word: &str) -> bool {
    static KEEP: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    KEEP.get_or_init(|| kept_words().collect()).contains(word)
}

/// `word` without its article (or preposition + article), if one comes off: the longest prefix of
/// [`ARTICLE_PREFIXES`] that leaves at least two letters.
#[inline]
pub(crate) fn strip_article(word: &str) -> Option<&str> {
    strip_article_at(word, head(word))
}

/// [`strip_article`] of the word whose [`head`] is `head`.
#[inline]
pub(crate) fn strip_article_at(word: &str, head: u64) -> Option<&str> {
    ARTICLES
        .iter()
        .find_map(|p| p.strip(word, head).filter(|rest| has_chars(rest, 2)))
}

/// Removes clitic prefixes from one normalized word. `is_known` tells which bare words exist (typically gazetteer
/// forms), allowing a single-letter و/ب/ل/ف/ك to be stripped only in front of such a word.
pub fn strip_clitics<'a>(word: &'a str, is_known: &dyn Fn(&str) -> bool) -> &'a str {
    // Every prefix starts with one of these letters: most words need no lookup at all.
    if !word.starts_with(CLITIC_INITIALS) {
        return word;
    }
    if keeps_clitics(word) || is_known(word) {
        return word;
    }
    if let Some(rest) = strip_article(word) {
        return rest;
    }
    for p in PROCLITICS {
        if let Some(rest) = word.strip_prefix(p) {
            if has_chars(rest, 2) {
                // "وأذربيجان" → "اذربيجان"; "بالكازاخ…" is already handled above.
                let inner = strip_clitics(rest, &|_| false);
                if is_known(rest) {
                    return rest;
                }
                if inner != rest && is_known(inner) {
                    return inner;
                }
            }
        }
    }
    word
}

/// Normalized, clitic-stripped words of `text`, stopwords kept (phrase matching needs every position).
pub fn words_with(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<String> {
    normalize(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| strip_clitics(w, is_known).to_string())
        .collect()
}

/// Like [`tokens`], with single-letter proclitics also stripped in front of words `is_known` accepts.
pub fn tokens_with(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<String> {
    normalize(text)
        .split(' ')
        .filter(|w| !w.is_empty() && !is_stopword(w))
        .map(|w| strip_clitics(w, is_known))
        .filter(|w| !is_stopword(w))
        .map(str::to_string)
        .collect()
}

/// Normalized words of `text` with article/preposition clitics stripped and stopwords removed. Numbers survive
/// as tokens (`"3"`, `"2026"`, `"3.5"`).
pub fn tokens(text: &str) -> Vec<String> {
    tokens_with(text, &|_| false)
}

#[cfg(test)]
mod tests;
