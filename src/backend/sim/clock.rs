//! The simulation's clock.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{TimeDelta, Utc};

use crate::domain::Timestamp;

/// A clock for the simulation: the wall clock, or a manual one tests advance.
///
/// Clones of a manual clock share the same time, so a test can keep one and
/// give another to the simulation (and to the console).
#[derive(Clone, Debug)]
pub enum SimClock {
    Wall,
    Manual(Arc<Mutex<Timestamp>>),
}

impl SimClock {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Self::Wall => Utc::now(),
            Self::Manual(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// A manual clock starting at `start`.
    pub fn manual(start: Timestamp) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    /// Moves a manual clock on; does nothing to the wall clock.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(t) = self {
            let mut t = t.lock().unwrap_or_else(PoisonError::into_inner);
            let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
            *t = t.checked_add_signed(by).unwrap_or(*t);
        }
    }

    /// Sets a manual clock; does nothing to the wall clock.
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
        let clock = SimClock::manual(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + TimeDelta::seconds(90));
        clock.set(start);
        assert_eq!(shared.now(), start);
        let wall = SimClock::Wall;
        wall.advance(Duration::from_secs(3600));
        assert!(wall.now() < Utc::now() + TimeDelta::seconds(60));
    }
}
