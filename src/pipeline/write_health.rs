//! Whether the database accepts writes, kept in memory because the database is what failed.
//!
//! A full disk or a read-only file system makes a source's `ingest` fail, and with it the saving of that source's
//! next poll time: read back from the database, the source would look due at once and be fetched again and again.
//! So a failed write is that source's failure, with the usual backoff held here until a write succeeds, and the
//! daemon reports itself unhealthy (`/healthz` 503, a `/metrics` counter) meanwhile.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// The state of database writes, shared by the pipeline (which records) and the server (which reports).
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Since when writes fail, and the last short reason (no file paths: it is shown to HTTP clients).
    failing: Option<(DateTime<Utc>, String)>,
    /// Per source whose result could not be stored: failures in a row and when it may be fetched again.
    held: HashMap<String, (u32, DateTime<Utc>)>,
}

impl WriteHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is plain data that is always consistent: a panic elsewhere must not hide it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Consecutive write failures already held for `source` (0 when its last write succeeded).
    pub(crate) fn failures_of(&self, source: &str) -> u32 {
        self.lock().held.get(source).map_or(0, |(n, _)| *n)
    }

    /// A write for `source` failed: it is not fetched again before `next_due`.
    pub(crate) fn failed(
        &self,
        source: &str,
        reason: String,
        next_due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let mut inner = self.lock();
        let failures = inner.held.get(source).map_or(0, |(n, _)| *n) + 1;
        inner.held.insert(source.to_string(), (failures, next_due));
        let since = inner.failing.as_ref().map_or(now, |(since, _)| *since);
        inner.failing = Some((since, reason));
    }

    /// A write for `source` succeeded: the database accepts writes again.
    pub(crate) fn succeeded(&self, source: &str) {
        let mut inner = self.lock();
        inner.held.remove(source);
        inner.failing = None;
    }

    /// The operator reloaded the config (perhaps after freeing space or raising `max_database_bytes`): sources
    /// held back by a failed write are due again at once. Their failure counts stay, so a write that still fails
    /// backs off further.
    pub(crate) fn release_held(&self) {
        let now = Utc::now();
        for (_, due) in self.lock().held.values_mut() {
            *due = now;
        }
    }

    /// When `source` may be fetched next because of a failed write, if it is held back.
    pub(crate) fn held_until(&self, source: &str) -> Option<DateTime<Utc>> {
        self.lock().held.get(source).map(|(_, due)| *due)
    }

    /// Since when and why writes fail, while they do.
    pub(crate) fn failing(&self) -> Option<(DateTime<Utc>, String)> {
        self.lock().failing.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_holds_the_source_until_a_write_succeeds() {
        let health = WriteHealth::default();
        let now = Utc::now();
        assert!(health.failing().is_none());
        let later = now + chrono::Duration::minutes(1);
        health.failed("a", "database error: disk full".into(), later, now);
        health.failed(
            "a",
            "database error: disk full".into(),
            later,
            now + chrono::Duration::seconds(5),
        );
        assert_eq!(health.failures_of("a"), 2);
        assert_eq!(health.held_until("a"), Some(later));
        let (since, reason) = health.failing().unwrap();
        assert_eq!(since, now, "the first failure's time is kept");
        assert!(reason.contains("disk full"));
        health.release_held();
        assert!(health.held_until("a").unwrap() < later);
        assert_eq!(health.failures_of("a"), 2);
        health.succeeded("a");
        assert!(health.failing().is_none());
        assert_eq!(health.held_until("a"), None);
        assert_eq!(health.failures_of("a"), 0);
    }
}
