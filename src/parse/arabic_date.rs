//! Dates as Arabic news sites write them on their pages, for `kind = "html"` sources.
//!
//! What turns up on listing pages:
//! - machine dates: `2026-11-27T10:30:00+04:00`, `2026-11-27 10:30`, `27.11.2026`, `27/11/2026` (day first, as
//!   Arabic sites write it);
//! - Arabic and Arabic-Indic digits (`٢٧`, `۲۷`) anywhere a digit can be;
//! - month names of both series — the Egyptian/Gulf one (يناير … ديسمبر, with spellings such as إبريل/أبريل,
//!   يونيه/يونيو, يوليه/يوليو, أغسطس/اغسطس), the Levantine/Iraqi one (كانون الثاني … كانون الأول, with the
//!   two-word names), and the Maghreb one (جانفي, فيفري, أفريل, جوان, جويلية, أوت…) — as `27 نوفمبر 2026`,
//!   `الجمعة 27 تشرين الثاني/نوفمبر 2026 - 14:30`, `نوفمبر 27، 2026` or, without a year, `1 مارس`;
//! - relative times: `منذ 5 دقائق`, `منذ ساعتين`, `قبل 3 ساعات`, `منذ يوم`, `أمس`, `اليوم 10:15`, `الآن`;
//! - a `ص`/`م` (صباحاً/مساءً) after a time.
//!
//! A date without a zone is read in the page's zone (`select.utc_offset`, e.g. `"+04:00"` for Baku), UTC when
//! none is given: a listing page rarely says its zone. A date without a year takes the current one (the previous one if that
//! would put it more than a day in the future, as on the first days of January).
//!
//! Parsing never fails loudly: a text that holds no date gives `None` and the item is dated when first seen.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Reads the date in `text` (see the module doc); `now` anchors relative times and year-less dates. The tests
/// read in UTC through it; pages go through [`parse_arabic_date_in`] with their own zone.
#[cfg(test)]
pub(crate) fn parse_arabic_date(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    parse_arabic_date_in(text, now, FixedOffset::east_opt(0).expect("zero offset"))
}

/// Reads the date in `text` (see the module doc) for a page that writes its times in the zone `offset` (a date
/// that names its own zone, or a relative one, is not affected); `now` anchors relative times and year-less dates.
pub(crate) fn parse_arabic_date_in(
    text: &str,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> Option<DateTime<Utc>> {
    let text = normalize(text);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(t) = zoned_machine_date(text) {
        return Some(t);
    }
    // Everything below reads wall-clock time: work in the page's zone, then go back to UTC. A relative time comes
    // out unchanged ((now + offset − 2 h) − offset).
    let shift = Duration::seconds(i64::from(offset.local_minus_utc()));
    let local_now = now + shift;
    let tokens = tokenize(text);
    let local = naive_machine_date(text)
        .or_else(|| relative(&tokens, local_now))
        .or_else(|| named_month(&tokens, local_now))
        .or_else(|| numeric(&tokens))?;
    Some(local - shift)
}

/// A `utc_offset` value such as `+04:00`, `-03:30` or `+05`.
pub(crate) fn parse_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    let full = if text.len() == 3 {
        format!("{text}:00")
    } else {
        text.to_owned()
    };
    full.parse::<FixedOffset>().ok()
}

/// Western digits for Arabic-Indic and extended Arabic-Indic ones; letters folded so month spellings meet
/// (أ إ آ ٱ → ا, ى → ي, ة → ه), diacritics and tatweel dropped, the Arabic comma a comma.
fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
            '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ى' => Some('ي'),
            'ة' => Some('ه'),
            '\u{064B}'..='\u{065F}' | '\u{0670}' | 'ـ' => None,
            '،' | '\u{066C}' => Some(','),
            c => Some(c),
        })
        .collect()
}

/// RFC 3339 / ISO 8601 forms, as in a `datetime` attribute or a sitemap.
pub(crate) fn machine_date(text: &str) -> Option<DateTime<Utc>> {
    zoned_machine_date(text).or_else(|| naive_machine_date(text))
}

/// Machine dates that say their zone.
fn zoned_machine_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Machine dates without a zone, as wall-clock time.
fn naive_machine_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(u32, usize),
    Word(String),
    /// `HH:MM` or `HH:MM:SS`.
    Time(u32, u32, u32),
    Sep(char),
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            // A time: 14:30 or 14:30:05.
            if chars.get(i) == Some(&':') {
                let mut parts = vec![digits.parse().unwrap_or(99)];
                while chars.get(i) == Some(&':')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                {
                    let s = i + 1;
                    i = s;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    parts.push(chars[s..i].iter().collect::<String>().parse().unwrap_or(99));
                }
                if parts.len() >= 2 {
                    tokens.push(Token::Time(
                        parts[0],
                        parts[1],
                        parts.get(2).copied().unwrap_or(0),
                    ));
                    continue;
                }
            }
            tokens.push(Token::Number(
                digits.parse().unwrap_or(u32::MAX),
                digits.len(),
            ));
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            tokens.push(Token::Word(
                chars[start..i].iter().collect::<String>().to_lowercase(),
            ));
        } else {
            if !c.is_whitespace() {
                tokens.push(Token::Sep(c));
            }
            i += 1;
        }
    }
    tokens
}

/// The month a word names (after `normalize`), and how many words the name takes (`كانون الثاني` takes two).
fn month_at(tokens: &[Token], i: usize) -> Option<(u32, usize)> {
    let Token::Word(w) = &tokens[i] else {
        return None;
    };
    let w = w.as_str();
    let next = match tokens.get(i + 1) {
        Some(Token::Word(n)) => n.as_str(),
        _ => "",
    };
    let ordinal = |n: &str| match n {
        "الاول" | "اول" => Some(1),
        "الثاني" | "ثاني" => Some(2),
        _ => None,
    };
    match w {
        "كانون" => match ordinal(next) {
            Some(1) => Some((12, 2)),
            Some(_) => Some((1, 2)),
            None => None,
        },
        "تشرين" => match ordinal(next) {
            Some(1) => Some((10, 2)),
            Some(_) => Some((11, 2)),
            None => None,
        },
        _ => single_month(w).map(|m| (m, 1)),
    }
}

fn single_month(w: &str) -> Option<u32> {
    Some(match w {
        "يناير" | "جانفي" | "january" | "jan" => 1,
        "فبراير" | "فيفري" | "شباط" | "february" | "feb" => 2,
        "مارس" | "اذار" | "march" | "mar" => 3,
        "ابريل" | "افريل" | "نيسان" | "april" | "apr" => 4,
        "مايو" | "ماي" | "ايار" | "may" => 5,
        "يونيو" | "يونيه" | "جوان" | "حزيران" | "june" | "jun" => 6,
        "يوليو" | "يوليه" | "جويليه" | "يوليوز" | "تموز" | "july" | "jul" => {
            7
        }
        "اغسطس" | "اوت" | "غشت" | "اب" | "august" | "aug" => 8,
        "سبتمبر" | "شتنبر" | "ايلول" | "september" | "sep" | "sept" => 9,
        "اكتوبر" | "october" | "oct" => 10,
        "نوفمبر" | "نونبر" | "november" | "nov" => 11,
        "ديسمبر" | "دجنبر" | "december" | "dec" => 12,
        _ => {
            // A glued conjunction or preposition: "وفبراير", "بمارس".
            let rest = w.strip_prefix('و').or_else(|| w.strip_prefix('ب'))?;
            return (rest.chars().count() > 2)
                .then(|| single_month(rest))
                .flatten();
        }
    })
}

/// The time of day in the tokens, with a following `م` (evening) or `ص` (morning).
fn time_of_day(tokens: &[Token]) -> (u32, u32, u32) {
    for (i, t) in tokens.iter().enumerate() {
        if let Token::Time(h, m, s) = *t {
            let evening = matches!(tokens.get(i + 1), Some(Token::Word(w)) if w == "م" || w.starts_with("مساء"));
            let morning = matches!(tokens.get(i + 1), Some(Token::Word(w)) if w == "ص" || w.starts_with("صباح"));
            let h = match (evening, morning) {
                (true, _) if h < 12 => h + 12,
                (_, true) if h == 12 => 0,
                _ => h,
            };
            return (h, m, s);
        }
    }
    (0, 0, 0)
}

fn at(date: NaiveDate, (h, m, s): (u32, u32, u32)) -> Option<DateTime<Utc>> {
    date.and_hms_opt(h, m, s).map(|t| Utc.from_utc_datetime(&t))
}

/// `منذ 5 دقائق`, `قبل ساعتين`, `منذ يوم`, `أمس`, `اليوم 10:15`, `الآن`.
fn relative(tokens: &[Token], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let has = |w: &str| words.contains(&w);
    if has("الان") || (has("قبل") && has("قليل")) || has("لحظات") {
        return Some(now);
    }
    let today_at = |date: NaiveDate| {
        let time = time_of_day(tokens);
        if tokens.iter().any(|t| matches!(t, Token::Time(..))) {
            at(date, time)
        } else {
            // "أمس" alone: a day ago is as close as it gets.
            Some(Utc.from_utc_datetime(&date.and_time(now.time())))
        }
    };
    if has("امس") || has("البارحه") {
        return today_at(now.date_naive() - Duration::days(1));
    }
    if !(has("منذ") || has("قبل")) {
        if has("اليوم") && tokens.iter().any(|t| matches!(t, Token::Time(..))) {
            return today_at(now.date_naive());
        }
        return None;
    }
    let count = tokens.iter().find_map(|t| match t {
        Token::Number(n, _) => Some(i64::from(*n)),
        _ => None,
    });
    for w in &words {
        let (unit, dual) = match *w {
            "ثانيه" | "ثوان" | "ثواني" => (Duration::seconds(1), false),
            "ثانيتين" | "ثانيتان" => (Duration::seconds(1), true),
            "دقيقه" | "دقائق" | "دقايق" => (Duration::minutes(1), false),
            "دقيقتين" | "دقيقتان" => (Duration::minutes(1), true),
            "ساعه" | "ساعات" => (Duration::hours(1), false),
            "ساعتين" | "ساعتان" => (Duration::hours(1), true),
            "يوم" | "ايام" => (Duration::days(1), false),
            "يومين" | "يومان" => (Duration::days(1), true),
            "اسبوع" | "اسابيع" => (Duration::weeks(1), false),
            "اسبوعين" | "اسبوعان" => (Duration::weeks(1), true),
            "شهر" | "اشهر" | "شهور" => (Duration::days(30), false),
            "شهرين" | "شهران" => (Duration::days(30), true),
            _ => continue,
        };
        let n = if dual { 2 } else { count.unwrap_or(1) };
        return Some(now - unit * i32::try_from(n).ok()?);
    }
    None
}

/// A day, a month name and maybe a year, in either order: `27 نوفمبر 2026`, `نوفمبر 27, 2026`, `1 مارس`.
fn named_month(tokens: &[Token], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (i, (month, len)) = (0..tokens.len()).find_map(|i| month_at(tokens, i).map(|m| (i, m)))?;
    let number = |t: Option<&Token>| match t {
        Some(Token::Number(n, _)) => Some(*n),
        _ => None,
    };
    let day_before = i.checked_sub(1).and_then(|j| number(tokens.get(j)));
    // After the name, skip a second name of the same month ("تشرين الثاني/نوفمبر") and separators.
    let mut j = i + len;
    while let Some(t) = tokens.get(j) {
        match t {
            Token::Sep(_) => j += 1,
            Token::Word(_) if month_at(tokens, j).is_some() => j += month_at(tokens, j)?.1,
            _ => break,
        }
    }
    let after = number(tokens.get(j));
    let (day, year) = match (day_before, after) {
        (Some(d), y) if (1..=31).contains(&d) => (d, y.filter(|y| *y >= 1000)),
        (_, Some(d)) if (1..=31).contains(&d) => {
            // "نوفمبر 27, 2026": the year follows the day.
            let mut k = j + 1;
            while matches!(tokens.get(k), Some(Token::Sep(_))) {
                k += 1;
            }
            (d, number(tokens.get(k)).filter(|y| *y >= 1000))
        }
        _ => return None,
    };
    let time = time_of_day(tokens);
    match year {
        Some(y) => at(NaiveDate::from_ymd_opt(y as i32, month, day)?, time),
        None => {
            let this_year = at(NaiveDate::from_ymd_opt(now.year(), month, day)?, time)?;
            if this_year > now + Duration::days(1) {
                at(NaiveDate::from_ymd_opt(now.year() - 1, month, day)?, time)
            } else {
                Some(this_year)
            }
        }
    }
}

/// `27/11/2026`, `27.11.2026`, `27-11-2026`, `2026/11/27`, each maybe with a time.
fn numeric(tokens: &[Token]) -> Option<DateTime<Utc>> {
    let nums: Vec<(usize, u32, usize)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t {
            Token::Number(n, len) => Some((i, *n, *len)),
            _ => None,
        })
        .collect();
    for w in nums.windows(3) {
        let [(i0, a, la), (i1, b, _), (i2, c, lc)] = [w[0], w[1], w[2]];
        let joined = |x: usize, y: usize| {
            y == x + 2 && matches!(tokens.get(x + 1), Some(Token::Sep('/' | '.' | '-')))
        };
        if !(joined(i0, i1) && joined(i1, i2)) {
            continue;
        }
        let date = if la == 4 {
            NaiveDate::from_ymd_opt(a as i32, b, c)
        } else if lc == 4 || lc == 2 {
            let year = if lc == 2 { 2000 + c } else { c };
            NaiveDate::from_ymd_opt(year as i32, b, a)
        } else {
            None
        };
        if let Some(date) = date {
            return at(date, time_of_day(tokens));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap())
    }

    #[test]
    fn both_month_series_with_spelling_variants_and_digits() {
        let p = |s: &str| parse_arabic_date(s, now());
        assert_eq!(p("27 نوفمبر 2026"), utc(2026, 11, 27, 0, 0));
        assert_eq!(p("٢٧ تشرين الثاني ٢٠٢٦ - ١٤:٣٠"), utc(2026, 11, 27, 14, 30));
        assert_eq!(p("۲۷ تشرين الثاني ۲۰۲۶"), utc(2026, 11, 27, 0, 0));
        assert_eq!(p("الجمعة 3 كانون الثاني/يناير 2026"), utc(2026, 1, 3, 0, 0));
        assert_eq!(p("15 كانون الأول 2025 09:05"), utc(2025, 12, 15, 9, 5));
        assert_eq!(p("1 تشرين الأول 2026"), utc(2026, 10, 1, 0, 0));
        for april in ["إبريل", "أبريل", "ابريل", "نيسان", "أفريل"] {
            assert_eq!(
                p(&format!("9 {april} 2026")),
                utc(2026, 4, 9, 0, 0),
                "{april}"
            );
        }
        for july in ["يوليه", "يوليو", "تموز", "جويلية"] {
            assert_eq!(
                p(&format!("4 {july} 2026")),
                utc(2026, 7, 4, 0, 0),
                "{july}"
            );
        }
        for may in ["مايو", "أيار", "ماي"] {
            assert_eq!(p(&format!("5 {may} 2026")), utc(2026, 5, 5, 0, 0), "{may}");
        }
        assert_eq!(p("20 آب 2026"), utc(2026, 8, 20, 0, 0));
        assert_eq!(p("20 أغسطس 2026"), utc(2026, 8, 20, 0, 0));
        assert_eq!(p("2 شباط 2026"), utc(2026, 2, 2, 0, 0));
        assert_eq!(p("2 آذار 2026"), utc(2026, 3, 2, 0, 0));
        assert_eq!(p("نوفمبر 27، 2026"), utc(2026, 11, 27, 0, 0));
        assert_eq!(p("27 نوفمبر 2026 08:15 م"), utc(2026, 11, 27, 20, 15));
    }

    #[test]
    fn a_date_without_a_year_is_the_latest_such_day() {
        assert_eq!(
            parse_arabic_date("باكو، 1 مارس، أذرتاج", now()),
            utc(2026, 3, 1, 0, 0)
        );
        assert_eq!(
            parse_arabic_date("31 ديسمبر", now()),
            utc(2025, 12, 31, 0, 0)
        );
    }

    #[test]
    fn relative_times() {
        let p = |s: &str| parse_arabic_date(s, now());
        assert_eq!(p("منذ ساعتين"), Some(now() - Duration::hours(2)));
        assert_eq!(p("منذ 5 دقائق"), Some(now() - Duration::minutes(5)));
        assert_eq!(p("منذ ٣ ساعات"), Some(now() - Duration::hours(3)));
        assert_eq!(p("قبل دقيقة"), Some(now() - Duration::minutes(1)));
        assert_eq!(p("منذ يوم"), Some(now() - Duration::days(1)));
        assert_eq!(p("منذ يومين"), Some(now() - Duration::days(2)));
        assert_eq!(p("منذ 3 أيام"), Some(now() - Duration::days(3)));
        assert_eq!(p("أمس"), Some(now() - Duration::days(1)));
        assert_eq!(p("أمس 18:40"), utc(2026, 11, 27, 18, 40));
        assert_eq!(p("اليوم 10:15"), utc(2026, 11, 28, 10, 15));
        assert_eq!(p("الآن"), Some(now()));
    }

    #[test]
    fn machine_and_numeric_dates() {
        let p = |s: &str| parse_arabic_date(s, now());
        assert_eq!(p("2026-11-27T10:30:00+04:00"), utc(2026, 11, 27, 6, 30));
        assert_eq!(p("2026-11-27 10:30"), utc(2026, 11, 27, 10, 30));
        assert_eq!(p("2026-11-27"), utc(2026, 11, 27, 0, 0));
        assert_eq!(p("27/11/2026 14:05"), utc(2026, 11, 27, 14, 5));
        assert_eq!(p("٢٧.١١.٢٠٢٦"), utc(2026, 11, 27, 0, 0));
        assert_eq!(p("2026/11/27"), utc(2026, 11, 27, 0, 0));
    }

    #[test]
    fn a_page_zone_moves_wall_clock_dates_only() {
        let baku = parse_offset("+04:00").unwrap();
        let p = |s: &str| parse_arabic_date_in(s, now(), baku);
        assert_eq!(p("27 نوفمبر 2026 - 14:30"), utc(2026, 11, 27, 10, 30));
        assert_eq!(p("2026-11-27 14:30"), utc(2026, 11, 27, 10, 30));
        assert_eq!(p("اليوم 10:15"), utc(2026, 11, 28, 6, 15));
        // Already absolute: a zone of its own, or a time relative to now.
        assert_eq!(p("2026-11-27T14:30:00+05:00"), utc(2026, 11, 27, 9, 30));
        assert_eq!(p("منذ ساعتين"), Some(now() - Duration::hours(2)));
        assert_eq!(parse_offset("+05"), FixedOffset::east_opt(5 * 3600));
        assert_eq!(
            parse_offset("-03:30"),
            FixedOffset::east_opt(-(3 * 3600 + 1800))
        );
        assert_eq!(parse_offset("Asia/Baku"), None);
    }

    #[test]
    fn no_date_is_none() {
        for s in [
            "",
            "أخبار",
            "رقم 5",
            "منذ",
            "32 نوفمبر 2026",
            "2026",
            "اقرأ المزيد",
        ] {
            assert_eq!(parse_arabic_date(s, now()), None, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse_arabic_date(&s, now());
        }

        #[test]
        fn any_day_in_either_digit_set_round_trips(d in 1u32..=28, m in 1u32..=12, y in 1990i32..2100) {
            let names = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"];
            let indic = |n: String| n.chars().map(|c| char::from_u32(c.to_digit(10).unwrap() + 0x0660).unwrap()).collect::<String>();
            let text = format!("{} {} {}", indic(d.to_string()), names[m as usize - 1], indic(y.to_string()));
            proptest::prop_assert_eq!(parse_arabic_date(&text, now()), utc(y, m, d, 0, 0));
        }
    }
}
