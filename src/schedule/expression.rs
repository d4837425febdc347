//! Cron expressions as operators write them, evaluated in UTC: [`CronSchedule`].
//!
//! The `cron` crate is not Unix cron: it wants 6 or 7 fields (the first is seconds) and numbers the days of the
//! week 1 = Sunday … 7 = Saturday (the unit tests below pin both). Operators write Unix cron, so we accept the
//! 5-field form (a seconds field of `0` is added) and read day-of-week numbers the Unix way in every form (0 or 7 =
//! Sunday, 1 = Monday …), translating them to names, which both agree on. When both the day of the month and the
//! weekday are restricted, a day matching either fires, as in Unix cron (the crate wants both): such an expression
//! is two schedules whose firings are merged. Times are computed in UTC so that a daylight-saving change can never
//! make a schedule fire twice or go backwards.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A parsed, validated schedule.
#[derive(Clone)]
pub struct CronSchedule {
    expr: String,
    /// One schedule, or two whose firings are merged: Unix cron fires on a day that matches *either* a restricted
    /// day of the month or a restricted weekday ("the 1st, and Mondays"), the `cron` crate only on a day that
    /// matches both (a 1st that is a Monday: a few times a year).
    inner: Vec<cron::Schedule>,
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({:?})", self.expr)
    }
}

/// Where the day of the month is among the 6 or 7 fields given to the `cron` crate (seconds first).
const DOM_INDEX: usize = 3;

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronSchedule {
    /// Parses a Unix 5-field expression, a 6-field one with seconds, a 7-field one with a year, or a macro such as
    /// `@hourly`. The message of an error says what is wrong in words an operator can act on.
    pub fn parse(expr: &str) -> Result<CronSchedule, String> {
        let expr = expr.trim();
        let translated = if expr.starts_with('@') {
            match expr {
                "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly" => {
                    vec![expr.to_string()]
                }
                _ => return Err(format!("`{expr}` is not supported; use @hourly, @daily, @weekly, @monthly, @yearly or a cron expression")),
            }
        } else {
            let fields: Vec<&str> = expr.split_whitespace().collect();
            let (mut fields, dow_index) = match fields.len() {
                5 => {
                    let mut f = vec!["0"];
                    f.extend(fields);
                    (f, 5)
                }
                6 | 7 => (fields, 5),
                n => {
                    return Err(format!(
                        "`{expr}` has {n} fields; write 5 (minute hour day month weekday) or 6 (with seconds first)"
                    ))
                }
            };
            let dow = translate_day_of_week(fields[dow_index])
                .map_err(|e| format!("day-of-week field `{}`: {e}", fields[dow_index]))?;
            fields[dow_index] = &dow;
            // As in Unix cron, a field that starts with `*` does not restrict the day (`*/2` included).
            let restricts = |field: &str| !field.starts_with(['*', '?']);
            if restricts(fields[DOM_INDEX]) && restricts(fields[dow_index]) {
                let mut by_weekday = fields.clone();
                by_weekday[DOM_INDEX] = "*";
                fields[dow_index] = "*";
                vec![fields.join(" "), by_weekday.join(" ")]
            } else {
                vec![fields.join(" ")]
            }
        };
        let inner = translated
            .iter()
            .map(|t| cron::Schedule::from_str(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("`{expr}` is not a valid cron expression: {e}"))?;
        let schedule = CronSchedule {
            expr: expr.to_string(),
            inner,
        };
        // An expression that never fires (30 February) would silently stop a source.
        if schedule.next_after(Utc::now()).is_none() {
            return Err(format!("`{expr}` never fires"));
        }
        Ok(schedule)
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.inner
            .iter()
            .filter_map(|s| s.after(&after).next())
            .min()
    }

    /// The typical gap between two firings, used to size jitter and cache headers.
    pub fn period(&self, from: DateTime<Utc>) -> Duration {
        let mut upcoming: Vec<DateTime<Utc>> = self
            .inner
            .iter()
            .flat_map(|s| s.after(&from).take(2))
            .collect();
        upcoming.sort();
        upcoming.dedup();
        match upcoming[..] {
            [a, b, ..] => (b - a).to_std().unwrap_or(Duration::from_secs(900)),
            _ => Duration::from_secs(900),
        }
    }

    /// The expression as the config wrote it.
    pub fn expression(&self) -> &str {
        &self.expr
    }
}

/// Expands a Unix day-of-week field (`1-5`, `0,6`, `*/2`, `MON-FRI`, `7`) into the list of day names the cron
/// crate reads the same way. `*` and `?` pass through.
fn translate_day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_string());
    }
    let mut days = [false; 7];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<usize>()
                    .map_err(|_| format!("step `{s}` is not a number"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err("a step of 0 never advances".into());
        }
        let (start, end) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (day_number(a)?, day_number(b)?)
        } else {
            let d = day_number(range)?;
            (d, if part.contains('/') { 6 } else { d })
        };
        if start > end {
            return Err(format!("range `{range}` runs backwards"));
        }
        for d in (start..=end).step_by(step) {
            days[d % 7] = true; // 7 is Sunday too
        }
    }
    let names: Vec<&str> = (0..7).filter(|&d| days[d]).map(|d| DAY_NAMES[d]).collect();
    Ok(names.join(","))
}

fn day_number(s: &str) -> Result<usize, String> {
    if let Ok(n) = s.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("day `{n}` is not 0–7 (0 and 7 are Sunday)"))
        };
    }
    DAY_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("`{s}` is not a day (0–7 or SUN…SAT)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn five_field_every_fifteen_minutes() {
        let s = CronSchedule::parse("*/15 * * * *").unwrap();
        let next = s.next_after(at(2026, 11, 28, 10, 7)).unwrap();
        assert_eq!((next.hour(), next.minute(), next.second()), (10, 15, 0));
        assert_eq!(s.period(at(2026, 11, 28, 10, 7)), Duration::from_secs(900));
    }

    #[test]
    fn unix_weekday_numbers_mean_what_operators_think() {
        // 1-5 is Monday to Friday in Unix cron; 2026-11-28 is a Saturday.
        let s = CronSchedule::parse("0 9 * * 1-5").unwrap();
        let next = s.next_after(at(2026, 11, 28, 12, 0)).unwrap();
        assert_eq!(next.weekday(), Weekday::Mon);
        assert_eq!(next.day(), 30);
        for sunday in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
            let next = CronSchedule::parse(sunday)
                .unwrap()
                .next_after(at(2026, 11, 28, 12, 0))
                .unwrap();
            assert_eq!(next.weekday(), Weekday::Sun, "{sunday}");
        }
        let weekend = CronSchedule::parse("0 9 * * 6,0").unwrap();
        assert_eq!(
            weekend
                .next_after(at(2026, 11, 27, 12, 0))
                .unwrap()
                .weekday(),
            Weekday::Sat
        );
    }

    #[test]
    fn a_day_of_month_and_a_weekday_fire_on_either_as_in_unix_cron() {
        // Unix cron: with both fields restricted, a day matching either one fires ("the 1st, and Mondays").
        // 2026-11-28 is a Saturday: next come Monday the 30th, then Tuesday 1 December, then Monday the 7th.
        for expr in ["0 9 1 * 1", "0 0 9 1 * MON", "0 9 1 * 1-1"] {
            let s = CronSchedule::parse(expr).unwrap();
            let mut t = at(2026, 11, 28, 12, 0);
            let mut fired = Vec::new();
            for _ in 0..3 {
                t = s.next_after(t).unwrap();
                fired.push((t.month(), t.day(), t.hour()));
            }
            assert_eq!(fired, [(11, 30, 9), (12, 1, 9), (12, 7, 9)], "{expr}");
            assert_eq!(
                s.period(at(2026, 11, 28, 12, 0)),
                Duration::from_secs(24 * 3600),
                "{expr}"
            );
        }
        // Either field alone restricts as before.
        let first = CronSchedule::parse("0 9 1 * *").unwrap();
        assert_eq!(first.next_after(at(2026, 11, 28, 12, 0)).unwrap().day(), 1);
        let mondays = CronSchedule::parse("0 9 * * 1").unwrap();
        assert_eq!(
            mondays.next_after(at(2026, 11, 28, 12, 0)).unwrap().day(),
            30
        );
    }

    #[test]
    fn six_field_form_with_seconds() {
        let s = CronSchedule::parse("30 */5 * * * *").unwrap();
        let next = s.next_after(at(2026, 11, 28, 10, 1)).unwrap();
        assert_eq!((next.minute(), next.second()), (5, 30));
    }

    #[test]
    fn macros_and_errors() {
        assert!(CronSchedule::parse("@hourly").is_ok());
        assert!(CronSchedule::parse("@every 5m")
            .unwrap_err()
            .contains("not supported"));
        assert!(CronSchedule::parse("* * *")
            .unwrap_err()
            .contains("3 fields"));
        assert!(CronSchedule::parse("0 9 * * 8")
            .unwrap_err()
            .contains("0–7"));
        assert!(CronSchedule::parse("61 * * * *").is_err());
    }

    #[test]
    fn a_schedule_whose_year_is_over_is_never_due_and_does_not_panic() {
        // Valid when the config was read; a long-running daemon outlives its last firing.
        let s = CronSchedule::parse("0 0 0 1 1 * 2099").unwrap();
        let after = at(2100, 1, 1, 0, 0);
        assert_eq!(s.next_after(after), None);
        assert_eq!(s.period(after), Duration::from_secs(900));
    }
}
