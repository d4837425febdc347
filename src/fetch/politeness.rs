//! Per-host politeness: a concurrency limit and a minimum gap between request starts, per host name.
//!
//! Several configured sources often live on one outlet's server; without this, a schedule that fires them together
//! would hit that server in a burst. The limit is keyed by host name (not host:port) because politeness is owed to
//! the server, whatever port or scheme a source uses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

struct HostSlot {
    permits: Arc<Semaphore>,
    /// The start time reserved by the most recent request to this host.
    last_start: Mutex<Option<Instant>>,
}

/// The politeness state of one [`crate::fetch::Fetcher`]: one slot per host ever fetched.
pub(crate) struct Hosts {
    slots: Mutex<HashMap<String, Arc<HostSlot>>>,
    concurrency: usize,
    min_gap: Duration,
}

/// Held while a request to a host is in flight; dropping it lets the next request to that host proceed.
pub(crate) struct HostTurn {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Hosts {
    pub(crate) fn new(concurrency: usize, min_gap: Duration) -> Hosts {
        Hosts {
            slots: Mutex::new(HashMap::new()),
            concurrency: concurrency.max(1),
            min_gap,
        }
    }

    /// Waits until this host may be sent another request, then returns the turn to hold while it runs.
    pub(crate) async fn turn(&self, host: &str) -> HostTurn {
        let slot = {
            // A poisoned lock only means another task panicked mid-insert; the map itself is still usable.
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots
                .entry(host.to_ascii_lowercase())
                .or_insert_with(|| {
                    Arc::new(HostSlot {
                        permits: Arc::new(Semaphore::new(self.concurrency)),
                        last_start: Mutex::new(None),
                    })
                })
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail; `ok()` keeps this path panic-free anyway.
        let permit = slot.permits.clone().acquire_owned().await.ok();
        // Reserve the start time under the lock so that concurrent requests get successive, gap-separated slots.
        let start = {
            let mut last = slot.last_start.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let start = match *last {
                Some(previous) => now.max(previous + self.min_gap),
                None => now,
            };
            *last = Some(start);
            start
        };
        tokio::time::sleep_until(start).await;
        HostTurn { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gap_between_starts_on_one_host() {
        let hosts = Arc::new(Hosts::new(2, Duration::from_millis(100)));
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let turn = hosts.turn("news.example").await;
            starts.push(t0.elapsed());
            drop(turn);
        }
        assert!(starts[1] >= Duration::from_millis(100), "{starts:?}");
        assert!(starts[2] >= Duration::from_millis(200), "{starts:?}");
        // Another host is not delayed by the first one.
        let t1 = Instant::now();
        drop(hosts.turn("other.example").await);
        assert!(t1.elapsed() < Duration::from_millis(95)); // under the 100 ms gap a shared queue would impose
    }

    #[tokio::test]
    async fn concurrency_limit_per_host() {
        let hosts = Arc::new(Hosts::new(1, Duration::ZERO));
        let first = hosts.turn("NEWS.example").await;
        let h = hosts.clone();
        let waiter = tokio::spawn(async move { h.turn("news.example").await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiter.is_finished(),
            "second request must wait for the first"
        );
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
