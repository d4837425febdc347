//! The daemon's Prometheus metrics, served at `/metrics` in the text exposition format 0.0.4.
//!
//! Deliberately tiny instead of a metrics crate: a dozen series, plain atomics for the unlabelled ones and a
//! mutex-guarded map for the two labelled counters (touched once per fetch or request, so the lock is never
//! contended in practice). Label cardinality is bounded by construction: sources come from the config, outcomes
//! and request paths are closed sets (unknown paths count as `other`, so a scanner probing URLs cannot grow the
//! map), and status codes are what the server itself answers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The `Content-Type` of [`Metrics::render`]'s output.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the fetch duration histogram's buckets; `+Inf` is implied.
pub(crate) const FETCH_BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How a fetch ended, as the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum FetchOutcomeLabel {
    Ok,
    NotModified,
    Error,
}

impl FetchOutcomeLabel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FetchOutcomeLabel::Ok => "ok",
            FetchOutcomeLabel::NotModified => "not_modified",
            FetchOutcomeLabel::Error => "error",
        }
    }
}

/// All of qafila's metrics. `Default` starts every series at zero; share it via `Arc`.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    fetches: Mutex<HashMap<(String, FetchOutcomeLabel), u64>>,
    /// Per-bucket (not cumulative) counts; the last slot is the `+Inf` overflow. The histogram's `_count` is
    /// their sum, so a render racing a `record_fetch` is still self-consistent.
    fetch_buckets: [AtomicU64; FETCH_BUCKETS.len() + 1],
    fetch_nanos: AtomicU64,
    items_ingested: AtomicU64,
    items_over_cap: AtomicU64,
    stories_created: AtomicU64,
    stories_merged: AtomicU64,
    sources_failing: AtomicU64,
    last_successful_round: AtomicI64,
    database_size: AtomicU64,
    database_write_failures: AtomicU64,
    output_write_failures: AtomicU64,
    requests: Mutex<HashMap<(&'static str, u16), u64>>,
}

impl Metrics {
    /// One fetch of `source` (its config id) ended with `outcome` after `duration`.
    pub(crate) fn record_fetch(
        &self,
        source: &str,
        outcome: FetchOutcomeLabel,
        duration: Duration,
    ) {
        *lock(&self.fetches)
            .entry((source.to_string(), outcome))
            .or_default() += 1;
        let secs = duration.as_secs_f64();
        let slot = FETCH_BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(FETCH_BUCKETS.len());
        self.fetch_nanos.fetch_add(
            u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            Relaxed,
        );
        self.fetch_buckets[slot].fetch_add(1, Relaxed);
    }

    /// What one `ingest` stored: `IngestCounts::new` items, of which `merged` joined an existing story and the
    /// rest (`new - merged`) started one.
    pub(crate) fn add_ingested(&self, new_items: u64, stories_created: u64, stories_merged: u64) {
        self.items_ingested.fetch_add(new_items, Relaxed);
        self.stories_created.fetch_add(stories_created, Relaxed);
        self.stories_merged.fetch_add(stories_merged, Relaxed);
    }

    /// Items a fetch carried beyond `[limits] max_items_per_fetch` (not stored).
    pub(crate) fn add_over_cap(&self, items: u64) {
        self.items_over_cap.fetch_add(items, Relaxed);
    }

    pub(crate) fn set_sources_failing(&self, n: u64) {
        self.sources_failing.store(n, Relaxed);
    }

    pub(crate) fn set_last_successful_round(&self, at: DateTime<Utc>) {
        self.last_successful_round.store(at.timestamp(), Relaxed);
    }

    /// A poll's result could not be stored (disk full, read-only file system…).
    pub(crate) fn add_database_write_failure(&self) {
        self.database_write_failures.fetch_add(1, Relaxed);
    }

    /// The feed file could not be written (the served documents were updated anyway).
    pub(crate) fn add_output_write_failure(&self) {
        self.output_write_failures.fetch_add(1, Relaxed);
    }

    pub(crate) fn set_database_size(&self, bytes: u64) {
        self.database_size.store(bytes, Relaxed);
    }

    /// One HTTP request for `path` (the URI path, without query) answered with `status`.
    pub(crate) fn record_request(&self, path: &str, status: u16) {
        *lock(&self.requests)
            .entry((route(path), status))
            .or_default() += 1;
    }

    /// Every series in the Prometheus text format 0.0.4, families in a fixed order, labelled series sorted.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(4096);

        family(
            &mut out,
            "qafila_fetches_total",
            "counter",
            "Feed fetches, by source id and outcome.",
        );
        let mut fetches: Vec<_> = lock(&self.fetches)
            .iter()
            .map(|((s, o), n)| (s.clone(), *o, *n))
            .collect();
        fetches.sort();
        for (source, outcome, n) in fetches {
            let _ = writeln!(
                out,
                "qafila_fetches_total{{source=\"{}\",outcome=\"{}\"}} {n}",
                escape_label(&source),
                outcome.as_str()
            );
        }

        let name = "qafila_fetch_duration_seconds";
        family(
            &mut out,
            name,
            "histogram",
            "Duration of feed fetches, request to parsed body.",
        );
        let mut cumulative = 0;
        for (i, slot) in self.fetch_buckets.iter().enumerate() {
            cumulative += slot.load(Relaxed);
            let le = FETCH_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.fetch_nanos.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");

        for (name, help, value) in [
            (
                "qafila_items_ingested_total",
                "Items stored for the first time.",
                &self.items_ingested,
            ),
            (
                "qafila_items_over_cap_total",
                "Items fetched beyond [limits] max_items_per_fetch and not stored.",
                &self.items_over_cap,
            ),
            (
                "qafila_stories_created_total",
                "Stories started by a new item.",
                &self.stories_created,
            ),
            (
                "qafila_stories_merged_total",
                "New items that joined an existing story.",
                &self.stories_merged,
            ),
            (
                "qafila_database_write_failures_total",
                "Poll results that could not be stored (the source backs off; /healthz answers 503).",
                &self.database_write_failures,
            ),
            (
                "qafila_output_write_failures_total",
                "Failed writes of the feed file ([feed] output); the served feed is updated regardless.",
                &self.output_write_failures,
            ),
        ] {
            family(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
        for (name, help, value) in [
            (
                "qafila_sources_failing",
                "Enabled sources whose last fetch failed.",
                self.sources_failing.load(Relaxed) as i64,
            ),
            (
                "qafila_last_successful_round_timestamp_seconds",
                "Unix time of the end of the last poll round that stored its results (0: none yet).",
                self.last_successful_round.load(Relaxed),
            ),
            (
                "qafila_database_size_bytes",
                "Size of the SQLite database file (pages in use, without the WAL).",
                self.database_size.load(Relaxed) as i64,
            ),
        ] {
            family(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }

        family(
            &mut out,
            "qafila_http_requests_total",
            "counter",
            "HTTP requests, by route (unknown paths are \"other\") and status code.",
        );
        let mut requests: Vec<_> = lock(&self.requests).iter().map(|(k, n)| (*k, *n)).collect();
        requests.sort();
        for ((path, status), n) in requests {
            let _ = writeln!(
                out,
                "qafila_http_requests_total{{path=\"{}\",status=\"{status}\"}} {n}",
                escape_label(path)
            );
        }
        out
    }
}

/// The bounded `path` label of a request path.
pub(crate) fn route(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/feed.xml" => "/feed.xml",
        "/feed.atom" => "/feed.atom",
        "/feed.json" => "/feed.json",
        "/sources.opml" => "/sources.opml",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        p if crate::archive::day_path(p).is_some() => "/day/*",
        p => match p.strip_prefix("/country/") {
            Some(rest)
                if !rest.is_empty()
                    && rest.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                    }) =>
            {
                "/country/*"
            }
            _ => "other",
        },
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Label values escape backslash, double quote and line feed.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// HELP text escapes backslash and line feed (quotes stay).
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A panic elsewhere while holding the lock leaves counts that are still valid numbers: keep counting.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
