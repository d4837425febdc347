//! Dates in Arabic for the HTML page: relative ("منذ ٣ ساعات") and absolute ("٢٧ نوفمبر ٢٠٢٦، ١٤:٠٥ ت.ع.م").
//!
//! Arabic nouns after a number take one of five forms (the CLDR plural categories): singular for 1, dual for 2,
//! plural for 3–10, accusative singular for 11–99, genitive singular for 100, 101, 102…; the categories follow
//! `n % 100`, so 103 takes the plural like 3. Digits are Arabic-Indic (٠–٩), as Arabic news sites write them.
//! Times are UTC (ت.ع.م, التوقيت العالمي المنسق): readers span many time zones and the page has no script to
//! convert them.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Arabic month names as used across the Arab press outside the Levant (يناير… rather than كانون الثاني…).
const MONTHS: [&str; 12] = [
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
];

/// The five forms of a counted noun: one, two, few (3–10), many (11–99), other (100…).
struct Noun {
    one: &'static str,
    two: &'static str,
    few: &'static str,
    many: &'static str,
    other: &'static str,
}

const MINUTE: Noun = Noun {
    one: "دقيقة",
    two: "دقيقتين",
    few: "دقائق",
    many: "دقيقة",
    other: "دقيقة",
};
const HOUR: Noun = Noun {
    one: "ساعة",
    two: "ساعتين",
    few: "ساعات",
    many: "ساعة",
    other: "ساعة",
};
const DAY: Noun = Noun {
    one: "يوم",
    two: "يومين",
    few: "أيام",
    many: "يومًا",
    other: "يوم",
};
const MONTH: Noun = Noun {
    one: "شهر",
    two: "شهرين",
    few: "أشهر",
    many: "شهرًا",
    other: "شهر",
};
const YEAR: Noun = Noun {
    one: "سنة",
    two: "سنتين",
    few: "سنوات",
    many: "سنة",
    other: "سنة",
};

/// Replaces ASCII digits with Arabic-Indic ones.
pub(crate) fn arabic_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x0660 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// "n nouns" with the right form; 1 and 2 are expressed by the noun alone ("دقيقة", "دقيقتين"), as Arabic does.
fn counted(n: i64, noun: &Noun) -> String {
    match (n, n % 100) {
        (1, _) => noun.one.to_string(),
        (2, _) => noun.two.to_string(),
        (_, 3..=10) => format!("{} {}", arabic_digits(&n.to_string()), noun.few),
        (_, 11..=99) => format!("{} {}", arabic_digits(&n.to_string()), noun.many),
        _ => format!("{} {}", arabic_digits(&n.to_string()), noun.other),
    }
}

/// How long ago `t` was, seen from `now`: "الآن", "منذ دقيقتين", "منذ ٣ ساعات", "أمس", "منذ ١١ يومًا"…
/// A time in the future (a clock ahead of ours) reads "الآن" rather than something absurd.
pub(crate) fn relative_ar(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    match () {
        _ if secs < 60 => "الآن".to_string(),
        _ if mins < 60 => format!("منذ {}", counted(mins, &MINUTE)),
        _ if hours < 24 => format!("منذ {}", counted(hours, &HOUR)),
        _ if days < 2 => "أمس".to_string(),
        _ if days < 30 => format!("منذ {}", counted(days, &DAY)),
        _ if days < 365 => format!("منذ {}", counted(days / 30, &MONTH)),
        _ => format!("منذ {}", counted(days / 365, &YEAR)),
    }
}

/// The absolute date and time in Arabic, UTC: "٢٧ نوفمبر ٢٠٢٦، ١٤:٠٥ ت.ع.م".
pub(crate) fn absolute_ar(t: DateTime<Utc>) -> String {
    let month = MONTHS[t.month0() as usize];
    let s = format!(
        "{} {month} {}، {:02}:{:02} ت.ع.م",
        t.day(),
        t.year(),
        t.hour(),
        t.minute()
    );
    arabic_digits(&s)
}

/// A calendar day in Arabic: "٢٧ نوفمبر ٢٠٢٦" (the day archive's heading and links).
pub(crate) fn day_ar(d: chrono::NaiveDate) -> String {
    arabic_digits(&format!(
        "{} {} {}",
        d.day(),
        MONTHS[d.month0() as usize],
        d.year()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 14, 5, 0).unwrap()
    }

    fn ago(d: Duration) -> String {
        relative_ar(now() - d, now())
    }

    #[test]
    fn relative_forms() {
        assert_eq!(ago(Duration::seconds(20)), "الآن");
        assert_eq!(ago(Duration::seconds(-300)), "الآن");
        assert_eq!(ago(Duration::minutes(1)), "منذ دقيقة");
        assert_eq!(ago(Duration::minutes(2)), "منذ دقيقتين");
        assert_eq!(ago(Duration::minutes(3)), "منذ ٣ دقائق");
        assert_eq!(ago(Duration::minutes(10)), "منذ ١٠ دقائق");
        assert_eq!(ago(Duration::minutes(45)), "منذ ٤٥ دقيقة");
        assert_eq!(ago(Duration::hours(1)), "منذ ساعة");
        assert_eq!(ago(Duration::hours(2)), "منذ ساعتين");
        assert_eq!(ago(Duration::hours(3)), "منذ ٣ ساعات");
        assert_eq!(ago(Duration::hours(23)), "منذ ٢٣ ساعة");
        assert_eq!(ago(Duration::hours(30)), "أمس");
        assert_eq!(ago(Duration::days(2)), "منذ يومين");
        assert_eq!(ago(Duration::days(4)), "منذ ٤ أيام");
        assert_eq!(ago(Duration::days(11)), "منذ ١١ يومًا");
        assert_eq!(ago(Duration::days(65)), "منذ شهرين");
        assert_eq!(ago(Duration::days(400)), "منذ سنة");
    }

    #[test]
    fn hundreds_follow_n_mod_100() {
        assert_eq!(counted(100, &DAY), "١٠٠ يوم");
        assert_eq!(counted(102, &DAY), "١٠٢ يوم");
        assert_eq!(counted(103, &DAY), "١٠٣ أيام");
        assert_eq!(counted(111, &DAY), "١١١ يومًا");
    }

    #[test]
    fn absolute_date() {
        assert_eq!(absolute_ar(now()), "٢٧ نوفمبر ٢٠٢٦، ١٤:٠٥ ت.ع.م");
        assert_eq!(
            absolute_ar(Utc.with_ymd_and_hms(2027, 1, 3, 9, 7, 0).unwrap()),
            "٣ يناير ٢٠٢٧، ٠٩:٠٧ ت.ع.م"
        );
        assert_eq!(
            day_ar(chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()),
            "٢٧ نوفمبر ٢٠٢٦"
        );
    }
}
