//! What this session saw of an environment's alarms: which went into ALARM
//! and have not been seen by the operator yet, which went back to OK lately,
//! and whether anything changed (so that its metric is fetched at once).
//!
//! Pure: `update` feeds every alarms load to [`AlarmWatch::observe`] and
//! marks alarms seen when the operator looks at them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;

use crate::domain::{Alarm, AlarmState, Timestamp};

/// How long an alarm that went back to OK stays marked as resolved.
pub const RESOLVED_FOR: TimeDelta = TimeDelta::hours(1);

/// The alarm states this session has seen, per environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmWatch {
    /// The last state seen of each alarm; `None` before the first load.
    states: Option<BTreeMap<String, AlarmState>>,
    /// Alarms that went into ALARM and that the operator has not opened
    /// (the alarms view or the alarm's detail) since.
    pub unseen: BTreeSet<String>,
    /// Alarms seen going from ALARM back to OK, and when they did.
    pub resolved: BTreeMap<String, Timestamp>,
}

/// What one load changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Alarms that went into ALARM.
    pub fired: Vec<String>,
    /// Alarms whose state changed (fired ones included).
    pub changed: Vec<String>,
    /// Whether alarms were added or removed from the list.
    pub listed: bool,
}

impl Changes {
    pub fn any(&self) -> bool {
        !self.changed.is_empty() || self.listed
    }
}

impl AlarmWatch {
    /// Compares freshly loaded alarms with the states seen before. The
    /// first load only records them: an alarm already in ALARM when the
    /// console starts did not just fire.
    pub fn observe(&mut self, alarms: &[Alarm], now: Timestamp) -> Changes {
        let mut changes = Changes::default();
        let current: BTreeMap<String, AlarmState> =
            alarms.iter().map(|a| (a.name.clone(), a.state)).collect();
        if let Some(before) = &self.states {
            for a in alarms {
                let old = before.get(&a.name).copied();
                if old == Some(a.state) {
                    continue;
                }
                if old.is_none() {
                    changes.listed = true;
                } else {
                    changes.changed.push(a.name.clone());
                }
                match a.state {
                    AlarmState::Alarm => {
                        changes.fired.push(a.name.clone());
                        self.unseen.insert(a.name.clone());
                        self.resolved.remove(&a.name);
                    }
                    AlarmState::Ok => {
                        self.unseen.remove(&a.name);
                        if old == Some(AlarmState::Alarm) {
                            self.resolved
                                .insert(a.name.clone(), a.state_updated_at.min(now));
                        }
                    }
                    AlarmState::InsufficientData => {
                        self.unseen.remove(&a.name);
                    }
                }
            }
            if before.keys().any(|k| !current.contains_key(k)) {
                changes.listed = true;
            }
        }
        self.unseen
            .retain(|n| current.get(n) == Some(&AlarmState::Alarm));
        self.resolved
            .retain(|n, at| current.get(n) == Some(&AlarmState::Ok) && now - *at <= RESOLVED_FOR);
        self.states = Some(current);
        changes
    }

    /// When `alarm` went back to OK, if it did within the last hour.
    pub fn resolved_at(&self, alarm: &str, now: Timestamp) -> Option<Timestamp> {
        self.resolved
            .get(alarm)
            .copied()
            .filter(|at| now - *at <= RESOLVED_FOR)
    }

    /// Whether `alarm` fired and has not been seen.
    pub fn is_new(&self, alarm: &str) -> bool {
        self.unseen.contains(alarm)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn t(min: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("time")
            + TimeDelta::minutes(min)
    }

    fn alarm(name: &str, state: AlarmState, at: Timestamp) -> Alarm {
        Alarm {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:ap-northeast-1:1:alarm:{name}"),
            description: None,
            state,
            state_reason: String::new(),
            state_updated_at: at,
            actions_enabled: true,
            composite: false,
            metric: None,
            comparison: None,
            threshold: None,
            period_seconds: None,
            evaluation_periods: None,
        }
    }

    #[test]
    fn the_first_load_fires_nothing_then_changes_are_seen() {
        let mut w = AlarmWatch::default();
        let first = w.observe(
            &[
                alarm("cpu", AlarmState::Alarm, t(-30)),
                alarm("5xx", AlarmState::Ok, t(-30)),
            ],
            t(0),
        );
        assert_eq!(first, Changes::default(), "already firing at start");
        assert!(w.unseen.is_empty());

        let second = w.observe(
            &[
                alarm("cpu", AlarmState::Ok, t(1)),
                alarm("5xx", AlarmState::Alarm, t(1)),
            ],
            t(1),
        );
        assert_eq!(second.fired, ["5xx"]);
        assert_eq!(second.changed, ["cpu", "5xx"]);
        assert!(w.is_new("5xx"));
        assert_eq!(w.resolved_at("cpu", t(1)), Some(t(1)));

        // An hour and a bit later the resolution is old news.
        let third = w.observe(
            &[
                alarm("cpu", AlarmState::Ok, t(1)),
                alarm("5xx", AlarmState::Alarm, t(1)),
            ],
            t(62),
        );
        assert!(!third.any());
        assert_eq!(w.resolved_at("cpu", t(62)), None);
        assert!(w.is_new("5xx"), "still unseen");

        // Back to no data: no longer new; a removed alarm is a change.
        let fourth = w.observe(&[alarm("5xx", AlarmState::InsufficientData, t(63))], t(63));
        assert!(fourth.listed);
        assert!(fourth.fired.is_empty());
        assert!(!w.is_new("5xx"));
    }
}
