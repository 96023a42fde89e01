//! Bounded concurrency and a request rate per AWS service and region, shared
//! by every poller of every environment, and request counters for the
//! diagnostics view.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::backend::OpStats;

/// Requests in flight at once to one service in one region.
const CONCURRENCY: usize = 4;
/// Sustained requests a second to one service in one region; well under
/// the account limits of the describe APIs (ECS ~20/s, RDS ~10/s, ...).
const RATE_PER_SEC: f64 = 8.0;
/// Requests that may go at once after a quiet period.
const BURST: f64 = 8.0;

/// One service in one region: a semaphore and a token bucket.
#[derive(Debug)]
struct Gate {
    semaphore: Arc<Semaphore>,
    bucket: tokio::sync::Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The limits shared by all environments (one per process).
#[derive(Debug, Default)]
pub struct Limits {
    gates: Mutex<HashMap<String, Arc<Gate>>>,
}

impl Limits {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn gate(&self, key: &str) -> Arc<Gate> {
        let mut gates = match self.gates.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        gates
            .entry(key.to_string())
            .or_insert_with(|| {
                Arc::new(Gate {
                    semaphore: Arc::new(Semaphore::new(CONCURRENCY)),
                    bucket: tokio::sync::Mutex::new(Bucket {
                        tokens: BURST,
                        updated: Instant::now(),
                    }),
                })
            })
            .clone()
    }

    /// Waits for a slot to send one request to `service` in `region`. Hold
    /// the permit until the response has arrived.
    pub async fn acquire(&self, service: &str, region: &str) -> Option<OwnedSemaphorePermit> {
        let gate = self.gate(&format!("{service}@{region}"));
        let permit = gate.semaphore.clone().acquire_owned().await.ok();
        loop {
            let wait = {
                let mut b = gate.bucket.lock().await;
                let now = Instant::now();
                let elapsed = now.duration_since(b.updated).as_secs_f64();
                b.tokens = (b.tokens + elapsed * RATE_PER_SEC).min(BURST);
                b.updated = now;
                if b.tokens >= 1.0 {
                    b.tokens -= 1.0;
                    None
                } else {
                    Some(Duration::from_secs_f64((1.0 - b.tokens) / RATE_PER_SEC))
                }
            };
            match wait {
                None => return permit,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }
}

/// Request counters of one environment, by `service:Operation`.
#[derive(Debug, Default)]
pub struct Stats {
    ops: Mutex<BTreeMap<String, OpStats>>,
}

impl Stats {
    pub fn record(&self, op: &str, ok: bool, throttled: bool, elapsed: Duration) {
        let mut ops = match self.ops.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let s = ops.entry(op.to_string()).or_default();
        s.calls += 1;
        if !ok {
            s.errors += 1;
        }
        if throttled {
            s.throttles += 1;
        }
        s.last_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    }

    pub fn snapshot(&self) -> BTreeMap<String, OpStats> {
        match self.ops.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_rate_is_bounded_after_the_burst() {
        let limits = Limits::new();
        let start = Instant::now();
        for _ in 0..(BURST as usize + 8) {
            let _p = limits.acquire("ecs", "ap-northeast-1").await;
        }
        // 8 beyond the burst at 8/s take about a second.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(900), "{took:?}");
        assert!(took <= Duration::from_millis(1200), "{took:?}");
        // Another service is not held up by the first.
        let t = Instant::now();
        let _p = limits.acquire("rds", "ap-northeast-1").await;
        assert!(t.elapsed() < Duration::from_millis(10));
    }

    #[test]
    fn stats_count_calls_errors_and_throttles() {
        let s = Stats::default();
        s.record("ecs:ListServices", true, false, Duration::from_millis(3));
        s.record("ecs:ListServices", false, true, Duration::from_millis(5));
        let snap = s.snapshot();
        assert_eq!(
            snap.get("ecs:ListServices"),
            Some(&OpStats {
                calls: 2,
                errors: 1,
                throttles: 1,
                last_ms: 5
            })
        );
    }
}
