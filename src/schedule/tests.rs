//! The scheduling decisions, one rule of the module doc at a time. Jitter and backoff are random: each bound is
//! checked over many draws.

use std::path::Path;

use chrono::TimeZone;

use super::*;

const CONFIG: &str = r#"
feed = { title = "قافلة", description = "أخبار", link = "https://q.example/", self_url = "https://q.example/f.xml" }

[fetch]
schedule = "*/15 * * * *"
backoff_max_secs = 3600
max_cache_floor_secs = 7200

[[source]]
id = "quarterly"
name = "كل ربع ساعة"
url = "https://a.example/feed"

[[source]]
id = "hourly"
name = "كل ساعة"
url = "https://b.example/feed"
schedule = "0 * * * *"

[[source]]
id = "until-2099"
name = "حتى 2099"
url = "https://c.example/feed"
schedule = "0 0 0 1 1 * 2099"

[[source]]
id = "disabled"
name = "معطل"
url = "https://d.example/feed"
enabled = false
"#;

fn config() -> Config {
    Config::parse(CONFIG, Path::new("q.toml")).unwrap()
}

fn source<'a>(config: &'a Config, id: &str) -> &'a SourceConfig {
    config.sources.iter().find(|s| s.id() == id).unwrap()
}

fn at(h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, h, mi, s).unwrap()
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn poll(at: DateTime<Utc>) -> Poll {
    Poll {
        at,
        failed: false,
        failures_before: 0,
        floor: ServerFloor::default(),
    }
}

/// A server's floors, in seconds: `max-age`, `<ttl>`, `Retry-After`.
fn floor(fresh_for: Option<u64>, ttl: Option<u64>, retry_after: Option<u64>) -> ServerFloor {
    ServerFloor {
        fresh_for: fresh_for.map(Duration::from_secs),
        ttl: ttl.map(Duration::from_secs),
        retry_after: retry_after.map(Duration::from_secs),
    }
}

/// `next_due` drawn many times: the earliest and latest it gave.
fn range_of(config: &Config, id: &str, poll: &Poll) -> (DateTime<Utc>, DateTime<Utc>) {
    let draws: Vec<_> = (0..200)
        .map(|_| next_due(config, source(config, id), poll))
        .collect();
    (*draws.iter().min().unwrap(), *draws.iter().max().unwrap())
}

#[test]
fn a_source_schedule_overrides_the_global_one() {
    let c = config();
    assert_eq!(
        schedule_of(&c, source(&c, "quarterly")).expression(),
        "*/15 * * * *"
    );
    assert_eq!(
        schedule_of(&c, source(&c, "hourly")).expression(),
        "0 * * * *"
    );
}

#[test]
fn after_a_success_the_next_firing_plus_a_bounded_jitter() {
    let c = config();
    let (first, last) = range_of(&c, "quarterly", &poll(at(10, 7, 0)));
    assert!(first >= at(10, 15, 0), "{first}");
    assert!(
        last < at(10, 15, 30),
        "a tenth of 15 min is capped at 30 s: {last}"
    );
    assert!(
        last > first,
        "the jitter spreads sources that share a schedule"
    );
    let (first, last) = range_of(&c, "hourly", &poll(at(10, 7, 0)));
    assert!(first >= at(11, 0, 0) && last < at(11, 0, 30));
}

#[test]
fn a_poll_at_a_firing_is_due_at_the_next_one_not_again() {
    let c = config();
    let (first, _) = range_of(&c, "quarterly", &poll(at(10, 15, 0)));
    assert!(first >= at(10, 30, 0), "{first}");
}

#[test]
fn jitter_is_a_tenth_of_the_period_at_most_thirty_seconds() {
    for _ in 0..500 {
        assert!(jitter(Duration::from_secs(900)) < Duration::from_secs(30));
        assert!(jitter(Duration::from_secs(60)) < Duration::from_secs(6));
        assert!(jitter(Duration::from_secs(5)) < Duration::from_millis(500));
    }
    assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    let spread: HashSet<Duration> = (0..50).map(|_| jitter(Duration::from_secs(900))).collect();
    assert!(spread.len() > 1, "the delay is random");
}

#[test]
fn backoff_doubles_from_a_minute_within_ten_percent_and_stops_at_the_cap() {
    let cap = Duration::from_secs(4 * 3600);
    for (failures, minutes) in [(0u32, 1u64), (1, 1), (2, 2), (3, 4), (4, 8), (6, 32)] {
        let base = Duration::from_secs(60 * minutes);
        for _ in 0..200 {
            let wait = backoff(failures, cap);
            assert!(
                wait >= base * 9 / 10 && wait <= base * 11 / 10,
                "{failures}: {wait:?}"
            );
        }
    }
    // 2^8 minutes is over four hours: from there on the cap, never more (and no overflow however many failures).
    for failures in [9, 20, 21, 1_000, u32::MAX] {
        for _ in 0..50 {
            let wait = backoff(failures, cap);
            assert!(wait <= cap && wait >= cap * 9 / 10, "{failures}: {wait:?}");
        }
    }
    assert!(backoff(3, Duration::from_secs(90)) <= Duration::from_secs(90));
}

#[test]
fn a_failure_waits_for_the_backoff_and_the_schedule_alike() {
    let c = config();
    let failed = |failures_before| Poll {
        failed: true,
        failures_before,
        ..poll(at(10, 7, 0))
    };
    // The first failure's minute is shorter than the schedule: the cron decides.
    let (first, last) = range_of(&c, "quarterly", &failed(0));
    assert!(first >= at(10, 15, 0) && last < at(10, 15, 30));
    // A failing hourly source still waits for its hour.
    let (first, _) = range_of(&c, "hourly", &failed(0));
    assert!(first >= at(11, 0, 0));
    // The sixth failure in a row: 32 min ± 10 %, later than the next quarter hour.
    let (first, last) = range_of(&c, "quarterly", &failed(5));
    assert!(first >= at(10, 7, 0) + secs(32 * 54) && last <= at(10, 7, 0) + secs(32 * 66));
    // However many: at most `backoff_max_secs` (an hour here).
    let (first, last) = range_of(&c, "quarterly", &failed(40));
    assert!(
        first >= at(10, 7, 0) + secs(3240) && last <= at(11, 7, 0),
        "{first} {last}"
    );
}

#[test]
fn a_server_floor_beats_the_cron_but_never_brings_a_poll_forward() {
    let c = config();
    let with = |floor| Poll {
        floor,
        ..poll(at(10, 7, 0))
    };
    // Retry-After beats the quarter hour: due exactly then (a floor has no jitter of its own).
    let retry = floor(None, None, Some(3600));
    let exactly = |t| (t, t);
    assert_eq!(
        range_of(&c, "quarterly", &with(retry)),
        exactly(at(11, 7, 0))
    );
    // max-age and <ttl> alike: the longest counts.
    let cached = floor(Some(1800), Some(2400), None);
    assert_eq!(
        range_of(&c, "quarterly", &with(cached)),
        exactly(at(10, 47, 0))
    );
    // Capped at `max_cache_floor_secs` (two hours here): a year of max-age cannot silence a source.
    let year = floor(Some(365 * 86_400), None, None);
    assert_eq!(
        range_of(&c, "quarterly", &with(year)),
        exactly(at(12, 7, 0))
    );
    // A floor shorter than the schedule changes nothing.
    let short = floor(Some(60), None, None);
    assert!(range_of(&c, "quarterly", &with(short)).0 >= at(10, 15, 0));
    // A floor longer than the backoff wins over it too.
    let refused = Poll {
        failed: true,
        ..with(retry)
    };
    assert_eq!(range_of(&c, "quarterly", &refused), exactly(at(11, 7, 0)));
}

#[test]
fn no_cache_floor_when_the_operator_caps_it_at_zero() {
    let c = Config::parse(
        &CONFIG.replace("max_cache_floor_secs = 7200", "max_cache_floor_secs = 0"),
        Path::new("q.toml"),
    )
    .unwrap();
    let p = Poll {
        floor: floor(Some(3600), None, None),
        ..poll(at(10, 7, 0))
    };
    let (first, last) = range_of(&c, "quarterly", &p);
    assert!(first >= at(10, 15, 0) && last < at(10, 15, 30));
}

fn year_2100() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap()
}

#[test]
fn a_source_whose_schedule_is_over_is_never_due() {
    let c = config();
    let now = year_2100();
    // The stored time is a placeholder, a backoff_max away.
    let (first, last) = range_of(&c, "until-2099", &poll(now));
    assert!(first >= now + secs(3600) && last < now + secs(3630));
    let mut scheduler = Scheduler::default();
    let never_polled = HashMap::new();
    for turn in 0..3 {
        let turn_at = now + secs(60 * turn);
        let turn = scheduler.turn(&c, turn_at, &never_polled, |_| None, &HashSet::new());
        let ids: Vec<&str> = turn.due.iter().map(|s| s.id()).collect();
        assert_eq!(ids, ["quarterly", "hourly"]);
    }
    assert_eq!(scheduler.over.len(), 1, "reported once, not every turn");
}

fn stored(pairs: &[(&str, Option<DateTime<Utc>>)]) -> HashMap<String, Option<DateTime<Utc>>> {
    pairs.iter().map(|(id, t)| (id.to_string(), *t)).collect()
}

fn due_ids(turn: &Turn) -> Vec<&str> {
    turn.due.iter().map(|s| s.id()).collect()
}

#[test]
fn after_a_restart_new_and_overdue_sources_go_at_once_the_others_keep_their_time() {
    let c = config();
    let now = at(10, 7, 0);
    let none = HashSet::new();
    // A first start: nothing stored yet (or stored without a time).
    let turn = Scheduler::default().turn(&c, now, &stored(&[("hourly", None)]), |_| None, &none);
    assert_eq!(
        due_ids(&turn),
        ["quarterly", "hourly", "until-2099"],
        "disabled sources never"
    );
    assert_eq!(turn.wake_at, now + secs(30));
    // A restart: what the last process stored is kept.
    let times = stored(&[
        ("quarterly", Some(at(10, 0, 5))),
        ("hourly", Some(at(10, 7, 10))),
        ("until-2099", Some(at(10, 7, 0))),
    ]);
    let turn = Scheduler::default().turn(&c, now, &times, |_| None, &none);
    assert_eq!(
        due_ids(&turn),
        ["quarterly", "until-2099"],
        "overdue, and due this very second"
    );
    assert_eq!(turn.wake_at, at(10, 7, 10), "woken for the next one");
}

#[test]
fn a_source_being_polled_is_not_due_again() {
    let c = config();
    let busy: HashSet<String> = ["quarterly".to_string()].into();
    let turn = Scheduler::default().turn(&c, at(10, 7, 0), &HashMap::new(), |_| None, &busy);
    assert_eq!(due_ids(&turn), ["hourly", "until-2099"]);
}

#[test]
fn a_source_held_after_a_failed_write_waits_for_the_later_time() {
    let c = config();
    let now = at(10, 7, 0);
    let none = HashSet::new();
    let past = stored(&[
        ("quarterly", Some(at(10, 0, 0))),
        ("hourly", Some(at(10, 0, 0))),
        ("until-2099", Some(at(10, 0, 0))),
    ]);
    let held = |id: &str| (id == "quarterly").then_some(at(10, 7, 20));
    let turn = Scheduler::default().turn(&c, now, &past, held, &none);
    assert_eq!(due_ids(&turn), ["hourly", "until-2099"]);
    assert_eq!(turn.wake_at, at(10, 7, 20));
    // Held earlier than the stored time: the stored time counts.
    let later = stored(&[("quarterly", Some(at(10, 7, 25)))]);
    let turn = Scheduler::default().turn(&c, now, &later, |_| Some(at(10, 0, 0)), &none);
    assert!(!due_ids(&turn).contains(&"quarterly"));
    assert_eq!(turn.wake_at, at(10, 7, 25));
}

#[test]
fn a_clock_set_back_is_noticed_within_the_longest_sleep() {
    // The stored times were written by a clock a day ahead: they are waited for, but the loop looks again at least
    // every MAX_SLEEP, so setting the clock forward again is seen at once.
    let c = config();
    let now = at(10, 7, 0);
    let tomorrow = now + chrono::Duration::days(1);
    let ahead = Some(tomorrow);
    let times = stored(&[
        ("quarterly", ahead),
        ("hourly", ahead),
        ("until-2099", ahead),
    ]);
    let turn = Scheduler::default().turn(&c, now, &times, |_| None, &HashSet::new());
    assert!(turn.due.is_empty());
    assert_eq!(turn.wake_at, now + to_chrono(MAX_SLEEP));
    let turn = Scheduler::default().turn(&c, tomorrow, &times, |_| None, &HashSet::new());
    assert_eq!(due_ids(&turn), ["quarterly", "hourly", "until-2099"]);
}

#[test]
fn served_documents_may_be_cached_for_half_the_global_period() {
    let now = at(10, 7, 0);
    let with = |schedule: &str| {
        let text = CONFIG.replace(
            "schedule = \"*/15 * * * *\"",
            &format!("schedule = \"{schedule}\""),
        );
        served_max_age(&Config::parse(&text, Path::new("q.toml")).unwrap(), now)
    };
    assert_eq!(with("*/15 * * * *"), Duration::from_secs(450));
    assert_eq!(with("* * * * *"), Duration::from_secs(30), "at least 30 s");
    assert_eq!(with("@daily"), Duration::from_secs(3600), "at most an hour");
}
