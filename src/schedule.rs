//! When each source is due: the one place that decides it.
//!
//! The rules, in the order they apply:
//!
//! 1. **Which schedule.** A source's own `schedule` wins over `[fetch] schedule` ([`schedule_of`]). Schedules are
//!    cron expressions written the Unix way and evaluated in UTC ([`CronSchedule`], in `expression`), so a
//!    daylight-saving change never makes a source fire twice or skip.
//! 2. **After a poll** ([`next_due`]) the source is due at the schedule's next firing after the poll, plus a random
//!    *jitter* of up to a tenth of the schedule's period and at most 30 s ([`jitter`]): sources that share a
//!    schedule would otherwise all hit the network, and often the same host, in the same second.
//! 3. **The server's word is a floor.** `Cache-Control: max-age` (else `Expires`), an RSS `<ttl>` and a failed
//!    request's `Retry-After` each say "not before": the source is not due before the poll time plus the largest of
//!    them ([`ServerFloor`]). A floor only ever postpones, it never brings a poll forward, and it is capped at
//!    `[fetch] max_cache_floor_secs` so that a server sending `max-age` of a year cannot silence a source.
//! 4. **A failure backs off.** After the n-th failure in a row (a fetch, a body that cannot be read, a failure
//!    inside qafila, or a result the database could not store) the source is not due before 1, 2, 4 … minutes,
//!    ±10 % so that sources failing together do not retry together, never more than `[fetch] backoff_max_secs`
//!    ([`backoff`]). The cron and the floors still apply: the latest of the three wins, so a failing hourly source
//!    still waits for its hour.
//! 5. **A schedule that is over is never due.** A valid expression can run out of firings (`… 2027` once 2027 is
//!    past). Such a source is skipped and the operator warned once ([`Scheduler`]); the stored time
//!    (`now + backoff_max`) only matters if a reload gives it a schedule again.
//! 6. **Each turn of the daemon** ([`Scheduler::turn`]) polls every enabled source whose time has come and is not
//!    already being polled. Its time is the `next_due` stored with its last result, or, when that result could not
//!    be stored, the later time held in memory (`WriteHealth`): otherwise a full disk would make a source look due
//!    at once, again and again (a reload releases those, since the operator may have freed space). A source never
//!    polled (or with no stored time) is due at once, so after a restart new and overdue sources go first and the
//!    others keep the times the last process stored; a reload wakes the loop, so added sources start at once. The
//!    daemon then sleeps until the earliest time, but never longer than [`MAX_SLEEP`], so that a changed system
//!    clock, in either direction, is noticed within that.
//! 7. **What readers are told** ([`served_max_age`]): served documents may be cached for half the global period,
//!    between 30 s and an hour, so a reader sees a round's result soon after it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, SourceConfig};

mod expression;

pub(crate) use expression::CronSchedule;

/// The scheduler looks at the clock at least this often, so a changed system clock is noticed.
pub(crate) const MAX_SLEEP: Duration = Duration::from_secs(30);

/// The schedule of one source: its own, else the global `[fetch] schedule`.
pub(crate) fn schedule_of<'a>(config: &'a Config, source: &'a SourceConfig) -> &'a CronSchedule {
    source.schedule.as_ref().unwrap_or(&config.fetch.schedule)
}

/// What a server asked of the next poll; each is a "not before" delay counted from the poll.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerFloor {
    /// `Cache-Control: max-age`, else `Expires`, of a 200 or a 304.
    pub(crate) fresh_for: Option<Duration>,
    /// An RSS feed's `<ttl>`.
    pub(crate) ttl: Option<Duration>,
    /// `Retry-After` of a refused request (429, 503).
    pub(crate) retry_after: Option<Duration>,
}

impl ServerFloor {
    /// The longest delay asked for, if any (uncapped).
    fn longest(&self) -> Option<Duration> {
        self.fresh_for.max(self.ttl).max(self.retry_after)
    }
}

/// One poll of one source, as far as its next time is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poll {
    /// When it started.
    pub(crate) at: DateTime<Utc>,
    /// Whether it failed: fetching, reading, or storing the result.
    pub(crate) failed: bool,
    /// Failures in a row before this poll (stored ones plus results the database could not store).
    pub(crate) failures_before: u32,
    /// What the server asked for.
    pub(crate) floor: ServerFloor,
}

/// When `source` is due after `poll` (rules 2 to 5 above): the latest of the schedule's next firing plus jitter,
/// the capped server floor, and after a failure the capped backoff.
pub(crate) fn next_due(config: &Config, source: &SourceConfig, poll: &Poll) -> DateTime<Utc> {
    let now = poll.at;
    let schedule = schedule_of(config, source);
    // A schedule that is over: the scheduler skips the source; this time only matters after a reload.
    let scheduled = schedule
        .next_after(now)
        .unwrap_or(now + to_chrono(config.fetch.backoff_max));
    let mut due = scheduled + to_chrono(jitter(schedule.period(now)));
    if let Some(floor) = poll.floor.longest() {
        due = due.max(now + to_chrono(floor.min(config.fetch.max_cache_floor)));
    }
    if poll.failed {
        let wait = backoff(poll.failures_before + 1, config.fetch.backoff_max);
        due = due.max(now + to_chrono(wait));
    }
    due
}

/// A random delay added to each due time so that sources sharing a schedule do not all fire in the same second:
/// up to a tenth of the period, at most 30 seconds.
pub(crate) fn jitter(period: Duration) -> Duration {
    let max = (period / 10).min(Duration::from_secs(30));
    if max.is_zero() {
        return Duration::ZERO;
    }
    Duration::from_millis(fastrand::u64(0..max.as_millis() as u64))
}

/// Exponential backoff with jitter: 1, 2, 4 … minutes after the 1st, 2nd, 3rd failure, capped at `cap`.
pub(crate) fn backoff(failures: u32, cap: Duration) -> Duration {
    let base = Duration::from_secs(60).saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let capped = base.min(cap);
    // ±10 % so that sources failing together do not retry together.
    let spread = capped.as_millis() as u64 / 10;
    let jittered = capped.as_millis() as u64 - spread + fastrand::u64(0..=spread * 2);
    Duration::from_millis(jittered).min(cap)
}

/// `max-age` of served documents (rule 7): half the global poll period, 30 s to an hour.
pub(crate) fn served_max_age(config: &Config, now: DateTime<Utc>) -> Duration {
    let period = config.fetch.schedule.period(now);
    (period / 2).clamp(Duration::from_secs(30), Duration::from_secs(3600))
}

/// What one turn of the daemon's loop decided.
#[derive(Debug)]
pub(crate) struct Turn {
    /// The sources to poll now, in config order.
    pub(crate) due: Vec<SourceConfig>,
    /// When to look again if nothing else happens first (at most [`MAX_SLEEP`] ahead).
    pub(crate) wake_at: DateTime<Utc>,
}

/// The daemon's view of the schedule across turns (rule 6): which sources' schedules are over, so each is
/// reported once.
#[derive(Debug, Default)]
pub(crate) struct Scheduler {
    over: HashSet<String>,
}

impl Scheduler {
    /// The sources due at `now`. `stored` is each source's `next_due` as the database has it, `held` the time a
    /// source is held back in memory after its result could not be stored, `busy` the sources being polled.
    pub(crate) fn turn(
        &mut self,
        config: &Config,
        now: DateTime<Utc>,
        stored: &HashMap<String, Option<DateTime<Utc>>>,
        held: impl Fn(&str) -> Option<DateTime<Utc>>,
        busy: &HashSet<String>,
    ) -> Turn {
        let mut due = Vec::new();
        let mut wake_at = now + to_chrono(MAX_SLEEP);
        for source in config.enabled_sources() {
            if busy.contains(source.id()) {
                continue;
            }
            let schedule = schedule_of(config, source);
            if schedule.next_after(now).is_none() {
                if self.over.insert(source.id().to_string()) {
                    tracing::warn!(source = source.id(), schedule = schedule.expression(), "the schedule has no firing left; the source is not polled until the config gives it one");
                }
                continue;
            }
            let stored = stored.get(source.id()).copied().flatten();
            match stored.max(held(source.id())) {
                Some(t) if t > now => wake_at = wake_at.min(t),
                _ => due.push(source.clone()),
            }
        }
        Turn { due, wake_at }
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365))
}

#[cfg(test)]
mod tests;
