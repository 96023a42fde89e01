//! The bookkeeping of one kind of request (pure): a generation per request,
//! so that an answer older than the newest request is dropped; whether one
//! is in flight (and whether it has been so long that its answer is lost);
//! a newer request superseding the one in flight; and the backoff of a
//! poller after failures in a row.
//!
//! Every polled panel ([`crate::state::Panel`]), every health check
//! ([`crate::probe::ProbeState`]) and the logs view
//! ([`crate::logs::LogsState`]) keeps one; the reducer asks it whether a
//! request may start ([`Request::try_begin`]) and whether an answer is the
//! one it waits for ([`Request::accept`]).

use chrono::TimeDelta;

use crate::domain::Timestamp;

/// A request in flight this long has lost its answer (the runner bounds
/// every request well within it): a poller or a manual refresh may start
/// another.
pub const STUCK_AFTER_SECS: i64 = 60;

/// Who asks for a request, and so what it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// A poller's turn: skipped while a request is in flight (unless its
    /// answer is lost) and while backing off after failures.
    Poller,
    /// A manual refresh (ctrl-r): skipped while a request is in flight
    /// (unless its answer is lost), not for the backoff; its failure does
    /// not push the pollers' schedule back.
    Manual,
    /// Only when nothing is in flight, however long it has been (the next
    /// request of a sequence, a view that asks once when opened).
    WhenIdle,
    /// The request in flight asked for something that has changed: a new
    /// one starts at once and the old answer will be dropped.
    Supersede,
}

/// One kind of request's lifecycle: begin → answered (or superseded),
/// failures in a row → backoff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The generation of the newest request; older answers are dropped.
    pub generation: u64,
    pub in_flight: bool,
    /// When the newest request started.
    pub requested_at: Option<Timestamp>,
    /// Failed requests in a row, and when a poller may try again.
    pub failures_in_row: u32,
    pub retry_at: Option<Timestamp>,
    /// The request in flight is a manual refresh: its failure does not
    /// push the pollers' schedule back.
    pub manual: bool,
}

impl Request {
    /// Starts a request if `ask` may: its generation, else `None`.
    pub fn try_begin(&mut self, now: Timestamp, ask: Ask) -> Option<u64> {
        let waits = match ask {
            Ask::Poller => self.busy(now) || self.backing_off(now),
            Ask::Manual => self.busy(now),
            Ask::WhenIdle => self.in_flight,
            Ask::Supersede => false,
        };
        (!waits).then(|| self.begin(now, ask == Ask::Manual))
    }

    /// Starts a request whatever is in flight: a new generation.
    pub fn begin(&mut self, now: Timestamp, manual: bool) -> u64 {
        self.generation += 1;
        self.in_flight = true;
        self.manual = manual;
        self.requested_at = Some(now);
        self.generation
    }

    /// Whether an answer of `generation` would be the one waited for.
    pub fn is_current(&self, generation: u64) -> bool {
        generation == self.generation
    }

    /// Whether an answer of `generation` is the one waited for; if so the
    /// request is no longer in flight. A stale answer changes nothing.
    pub fn accept(&mut self, generation: u64) -> bool {
        if generation != self.generation {
            return false;
        }
        self.in_flight = false;
        true
    }

    /// Drops the request in flight, if any: its answer will be stale.
    pub fn supersede(&mut self) {
        self.generation += 1;
        self.in_flight = false;
    }

    /// The accepted answer succeeded: no more backoff.
    pub fn succeeded(&mut self) {
        self.failures_in_row = 0;
        self.retry_at = None;
    }

    /// The accepted answer failed at `at`: a poller backs off, longer
    /// after each failure in a row (a manual refresh's failure leaves the
    /// schedule as it was).
    pub fn failed(&mut self, at: Timestamp) {
        if !self.manual {
            self.failures_in_row = self.failures_in_row.saturating_add(1);
            self.retry_at = Some(at + backoff(self.failures_in_row, self.generation));
        }
    }

    /// Brings the next try forward to `at` + `interval` at the latest.
    pub fn cap_backoff(&mut self, at: Timestamp, interval: TimeDelta) {
        if let Some(t) = self.retry_at {
            self.retry_at = Some(t.min(at + interval));
        }
    }

    /// Ends the backoff: a poller may try at its next turn.
    pub fn release(&mut self) {
        self.retry_at = None;
    }

    /// Whether a request is in flight and its answer may still come.
    pub fn busy(&self, now: Timestamp) -> bool {
        self.in_flight && !self.is_stuck(now)
    }

    /// Whether a poller waits after failures.
    pub fn backing_off(&self, now: Timestamp) -> bool {
        self.retry_at.is_some_and(|t| now < t)
    }

    /// Whether the newest request started so long ago that its answer is
    /// lost.
    pub fn is_stuck(&self, now: Timestamp) -> bool {
        self.requested_at
            .is_some_and(|t| now - t > TimeDelta::seconds(STUCK_AFTER_SECS))
    }
}

/// How long a poller waits after `n` failures in a row: exponential from
/// 5 s to 5 min, with ±25 % jitter so that pollers (and environments) that
/// failed together do not come back together.
pub fn backoff(n: u32, salt: u64) -> TimeDelta {
    let base_ms = 5_000_i64
        .saturating_mul(1_i64 << n.saturating_sub(1).min(6))
        .min(300_000);
    // A cheap deterministic hash keeps `update` pure and tests reproducible.
    let h = salt
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(n))
        .rotate_left(17);
    let jitter = (h % 501) as i64 - 250; // -250..=250 per mille / 1000 * 25%
    TimeDelta::milliseconds(base_ms + base_ms * jitter / 1000)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid time")
    }

    fn secs(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    #[test]
    fn a_request_in_flight_holds_back_the_next_until_answered() {
        let mut r = Request::default();
        let g = r.try_begin(t0(), Ask::Poller).expect("idle");
        assert!(r.in_flight);
        assert_eq!(r.try_begin(t0() + secs(5), Ask::Poller), None);
        assert_eq!(r.try_begin(t0() + secs(5), Ask::Manual), None);
        assert_eq!(r.try_begin(t0() + secs(5), Ask::WhenIdle), None);
        assert!(r.accept(g));
        assert!(!r.in_flight);
        assert!(r.try_begin(t0() + secs(6), Ask::WhenIdle).is_some());
    }

    #[test]
    fn a_lost_answer_lets_pollers_and_refreshes_ask_again() {
        let mut r = Request::default();
        r.begin(t0(), false);
        let later = t0() + secs(STUCK_AFTER_SECS + 1);
        assert!(r.is_stuck(later));
        assert!(!r.busy(later));
        assert_eq!(
            r.try_begin(later, Ask::WhenIdle),
            None,
            "a sequence waits however long"
        );
        assert_eq!(r.try_begin(later, Ask::Manual), Some(2));
        assert!(r.manual);
    }

    #[test]
    fn a_superseded_answer_is_dropped() {
        let mut r = Request::default();
        let old = r.begin(t0(), false);
        let new = r.try_begin(t0(), Ask::Supersede).expect("supersedes");
        assert_ne!(old, new);
        assert!(!r.accept(old), "the stale answer is dropped");
        assert!(r.in_flight, "still waiting for the newer one");
        assert!(r.accept(new));
        assert!(!r.in_flight);

        let g = r.begin(t0(), false);
        r.supersede();
        assert!(!r.in_flight);
        assert!(!r.accept(g));
    }

    #[test]
    fn backoff_grows_after_failures_in_a_row_and_resets_on_success() {
        let mut r = Request::default();
        let mut waits = Vec::new();
        for i in 0..10 {
            let at = r.retry_at.unwrap_or(t0() + secs(i));
            assert!(r.backing_off(at - secs(1)) || i == 0);
            let g = r.try_begin(at, Ask::Poller).expect("backoff over");
            assert!(r.accept(g));
            r.failed(at);
            let until = r.retry_at.expect("backing off");
            assert_eq!(r.try_begin(at, Ask::Poller), None, "waits for the backoff");
            waits.push(until - at);
        }
        assert_eq!(r.failures_in_row, 10);
        // ±25 % jitter around 5 s doubling to 5 min.
        assert!(waits[0] >= TimeDelta::milliseconds(3_750) && waits[0] <= secs(7));
        assert!(waits[3] > waits[0] * 4);
        assert!(waits.iter().all(|w| *w <= TimeDelta::milliseconds(375_000)));
        assert!(waits[9] >= TimeDelta::milliseconds(225_000));

        let at = r.retry_at.unwrap_or_else(t0);
        let g = r.try_begin(at, Ask::Poller).expect("backoff over");
        assert!(r.accept(g));
        r.succeeded();
        assert_eq!((r.failures_in_row, r.retry_at), (0, None));
    }

    #[test]
    fn a_manual_refresh_ignores_the_backoff_and_its_failure_is_not_counted() {
        let mut r = Request::default();
        let g = r.begin(t0(), false);
        r.accept(g);
        r.failed(t0());
        let until = r.retry_at;
        let g = r.try_begin(t0() + secs(1), Ask::Manual).expect("no wait");
        r.accept(g);
        r.failed(t0() + secs(1));
        assert_eq!((r.failures_in_row, r.retry_at), (1, until));
        r.cap_backoff(t0(), secs(1));
        assert_eq!(r.retry_at, Some(t0() + secs(1)));
        r.release();
        assert!(!r.backing_off(t0()));
    }
}
