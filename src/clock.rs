//! The application's clock: what "now" is for the console and for the
//! simulated environment.
//!
//! The wall clock in production; a manual clock that tests advance; or,
//! for the simulated environment only (`--demo --sim-speed N`, hidden), the
//! wall clock sped up N times, so that a rollout the simulation takes
//! 75 seconds over passes in a few seconds while the console stays
//! responsive.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};

use crate::domain::Timestamp;

/// The fastest a sped-up clock may run (`--sim-speed`).
pub const MAX_SPEED: u32 = 100;

/// The application's clock: the wall clock, a manual one tests advance,
/// or the wall clock sped up.
///
/// Clones of a manual clock share the same time, so a test can keep one and
/// give another to the simulation (and to the console).
#[derive(Clone, Debug)]
pub enum Clock {
    Wall,
    Manual(Arc<Mutex<Timestamp>>),
    /// From `origin` (the wall clock's time at `since`) on, `speed` seconds
    /// pass for each second of the wall clock (monotonic: never backwards).
    Fast {
        origin: Timestamp,
        since: Instant,
        speed: u32,
    },
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Self::Wall => Utc::now(),
            Self::Manual(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
            Self::Fast {
                origin,
                since,
                speed,
            } => {
                let elapsed = since.elapsed().saturating_mul(*speed);
                let by = TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX);
                origin.checked_add_signed(by).unwrap_or(*origin)
            }
        }
    }

    /// A manual clock starting at `start`.
    pub fn manual(start: Timestamp) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    /// The wall clock run `speed` times as fast from now on (1: the wall
    /// clock itself; more than [`MAX_SPEED`] runs at that).
    pub fn sped_up(speed: u32) -> Self {
        match speed.min(MAX_SPEED) {
            0 | 1 => Self::Wall,
            speed => Self::Fast {
                origin: Utc::now(),
                since: Instant::now(),
                speed,
            },
        }
    }

    /// How many times as fast as the wall clock this clock runs (a manual
    /// clock: 1).
    pub fn speed(&self) -> u32 {
        match self {
            Self::Fast { speed, .. } => *speed,
            Self::Wall | Self::Manual(_) => 1,
        }
    }

    /// Moves a manual clock on; does nothing to the others.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(t) = self {
            let mut t = t.lock().unwrap_or_else(PoisonError::into_inner);
            let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
            *t = t.checked_add_signed(by).unwrap_or(*t);
        }
    }

    /// Sets a manual clock; does nothing to the others.
    pub fn set(&self, to: Timestamp) {
        if let Self::Manual(t) = self {
            *t.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = "2026-11-23T03:00:00Z".parse::<Timestamp>().expect("a time");
        let clock = Clock::manual(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + TimeDelta::seconds(90));
        clock.set(start);
        assert_eq!(shared.now(), start);
        let wall = Clock::Wall;
        wall.advance(Duration::from_hours(1));
        assert!(wall.now() < Utc::now() + TimeDelta::seconds(60));
    }

    #[test]
    fn a_sped_up_clock_runs_ahead_of_the_wall_clock() {
        assert!(matches!(Clock::sped_up(1), Clock::Wall));
        assert!(matches!(Clock::sped_up(0), Clock::Wall));
        assert_eq!(Clock::sped_up(1000).speed(), MAX_SPEED);
        let origin = Utc::now() - TimeDelta::seconds(1);
        let fast = Clock::Fast {
            origin,
            since: Instant::now()
                .checked_sub(Duration::from_secs(2))
                .expect("an instant two seconds ago"),
            speed: 10,
        };
        let now = fast.now();
        // Two wall seconds are twenty (and a little) of its own.
        assert!(now >= origin + TimeDelta::seconds(20), "{now}");
        assert!(now < origin + TimeDelta::seconds(60), "{now}");
        assert!(fast.now() >= now, "never backwards");
        fast.advance(Duration::from_hours(1));
        assert!(fast.now() < origin + TimeDelta::seconds(60));
        assert_eq!(fast.speed(), 10);
    }
}
