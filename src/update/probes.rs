//! The health checks in the reducer: a probe is started when its interval
//! elapses unless one is in flight, and its answer is recorded in the
//! history (bounded) with the failure counts. Pure, like all of `update`.

use crate::domain::Timestamp;
use crate::effect::Effect;
use crate::probe::ProbeReport;
use crate::request::Ask;
use crate::state::{State, View};

/// Starts a probe of `probe` in environment `env`, unless one is in flight
/// (a manual refresh too waits for it, unless it has been lost).
pub(super) fn due(state: &mut State, env: usize, probe: usize, manual: bool) -> Vec<Effect> {
    let now = state.now;
    let Some(p) = state
        .envs
        .get_mut(env)
        .and_then(|e| e.probes.get_mut(probe))
    else {
        return Vec::new();
    };
    // A poller waits for the probe in flight however long; a manual
    // refresh not for one whose answer is lost.
    let ask = if manual { Ask::Manual } else { Ask::WhenIdle };
    let Some(generation) = p.request.try_begin(now, ask) else {
        return Vec::new();
    };
    vec![Effect::Probe {
        env,
        probe,
        generation,
    }]
}

/// Records a probe's answer; an answer older than the newest request is
/// dropped.
pub(super) fn done(
    state: &mut State,
    env: usize,
    probe: usize,
    generation: u64,
    at: Timestamp,
    report: &ProbeReport,
) -> Vec<Effect> {
    let Some(p) = state
        .envs
        .get_mut(env)
        .and_then(|e| e.probes.get_mut(probe))
    else {
        return Vec::new();
    };
    if !p.request.accept(generation) {
        tracing::debug!(env, probe, generation, "dropping a stale probe answer");
        return Vec::new();
    }
    p.record(at, report);
    if env == state.active || matches!(state.view(), View::Fleet) {
        state.dirty = true;
    }
    Vec::new()
}

/// Probes every health check of `env` now (ctrl-r).
pub(super) fn refresh(state: &mut State, env: usize) -> Vec<Effect> {
    let n = state.envs.get(env).map_or(0, |e| e.probes.len());
    (0..n).flat_map(|i| due(state, env, i, true)).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;
    use crate::action::Action;
    use crate::config::{Config, EnvironmentConfig, HealthCheckConfig, Keymap};
    use crate::probe::{HISTORY, ProbeError};
    use crate::state::EnvState;
    use crate::update::update;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    fn state(expect_status: Option<u16>) -> State {
        let config: Config = toml::from_str(
            "[[environment]]\nname = \"production\"\nsource = \"sim\"\n\
             [[environment.health_checks]]\nurl = \"https://works-logue.com/api/health\"\n",
        )
        .expect("config parses");
        let mut env: EnvironmentConfig = config.environments[0].clone();
        env.health_checks[0].expect_status = expect_status;
        env.health_checks.push(HealthCheckConfig {
            name: Some("ready".into()),
            ..HealthCheckConfig::new("http://127.0.0.1:9/ready")
        });
        let keymap = Keymap::from_config(&config).expect("keymap");
        let e = EnvState::from_config(&env, &config.refresh, false);
        State::new(vec![e], 0, keymap, t0())
    }

    fn ok(ms: u64, status: u16) -> ProbeReport {
        ProbeReport {
            latency: Some(Duration::from_millis(ms)),
            outcome: Ok(status),
            body: String::new(),
        }
    }

    /// Starts a probe and answers it; returns the generation used.
    fn probe_once(s: &mut State, probe: usize, at: Timestamp, report: ProbeReport) -> u64 {
        let effects = update(s, Action::ProbeDue { env: 0, probe });
        let [Effect::Probe { generation, .. }] = effects.as_slice() else {
            panic!("expected one probe effect, got {effects:?}");
        };
        let generation = *generation;
        update(
            s,
            Action::ProbeDone {
                env: 0,
                probe,
                generation,
                at,
                report,
            },
        );
        generation
    }

    #[test]
    fn names_default_to_host_and_path() {
        let s = state(None);
        assert_eq!(s.envs[0].probes[0].name, "works-logue.com/api/health");
        assert_eq!(s.envs[0].probes[1].name, "ready");
    }

    #[test]
    fn a_tick_is_skipped_while_a_probe_is_in_flight() {
        let mut s = state(None);
        let first = update(&mut s, Action::ProbeDue { env: 0, probe: 0 });
        assert_eq!(
            first,
            vec![Effect::Probe {
                env: 0,
                probe: 0,
                generation: 1
            }]
        );
        assert!(update(&mut s, Action::ProbeDue { env: 0, probe: 0 }).is_empty());
        // The other check is independent.
        assert_eq!(
            update(&mut s, Action::ProbeDue { env: 0, probe: 1 }).len(),
            1
        );
        // Unknown probes and environments are ignored.
        assert!(update(&mut s, Action::ProbeDue { env: 0, probe: 7 }).is_empty());
        assert!(update(&mut s, Action::ProbeDue { env: 3, probe: 0 }).is_empty());
    }

    #[test]
    fn failures_are_counted_in_a_row_and_in_total() {
        let mut s = state(None);
        let t = t0();
        probe_once(&mut s, 0, t, ok(40, 200));
        probe_once(&mut s, 0, t + TimeDelta::seconds(15), ok(3, 500));
        probe_once(
            &mut s,
            0,
            t + TimeDelta::seconds(30),
            ProbeReport::failed(ProbeError::Timeout { secs: 5 }),
        );
        let p = &s.envs[0].probes[0];
        assert_eq!(p.consecutive_failures, 2);
        assert_eq!(p.total_failures, 2);
        assert_eq!(p.total, 3);
        assert_eq!(p.healthy(), Some(false));
        assert_eq!(p.failing_since, Some(t + TimeDelta::seconds(15)));
        assert_eq!(p.current_error(), Some("timeout: no answer within 5s"));
        assert_eq!(p.last().and_then(|x| x.latency_ms), None);
        // Recovery resets the run but keeps the total and the last error.
        probe_once(&mut s, 0, t + TimeDelta::seconds(45), ok(42, 204));
        let p = &s.envs[0].probes[0];
        assert_eq!(p.consecutive_failures, 0);
        assert_eq!(p.total_failures, 2);
        assert_eq!(p.healthy(), Some(true));
        assert_eq!(p.failing_since, None);
        assert_eq!(p.current_error(), None);
        assert!(
            p.last_error
                .as_ref()
                .is_some_and(|(_, e)| e.contains("timeout"))
        );
        assert_eq!(p.last().and_then(|x| x.latency_ms), Some(42));
        assert_eq!(crate::probe::counts(&s.envs[0].probes), (1, 0, 2));
    }

    #[test]
    fn an_expected_status_replaces_any_2xx() {
        let mut s = state(Some(204));
        probe_once(&mut s, 0, t0(), ok(10, 200));
        let p = &s.envs[0].probes[0];
        assert_eq!(
            p.current_error(),
            Some("unexpected status 200 OK (expected 204)")
        );
        probe_once(&mut s, 0, t0(), ok(10, 204));
        assert_eq!(s.envs[0].probes[0].healthy(), Some(true));
    }

    #[test]
    fn the_history_is_bounded() {
        let mut s = state(None);
        for i in 0..(HISTORY as i64 + 30) {
            let ms = u64::try_from(i).expect("positive");
            probe_once(&mut s, 0, t0() + TimeDelta::seconds(i * 15), ok(ms, 200));
        }
        let p = &s.envs[0].probes[0];
        assert_eq!(p.history.len(), HISTORY);
        assert_eq!(p.total, HISTORY as u64 + 30);
        // The oldest were dropped, the newest kept, in order.
        assert_eq!(p.history.front().and_then(|x| x.latency_ms), Some(30));
        assert_eq!(
            p.history.back().and_then(|x| x.latency_ms),
            Some(HISTORY as u32 + 29)
        );
    }

    #[test]
    fn a_stale_answer_is_dropped() {
        let mut s = state(None);
        let g1 = match update(&mut s, Action::ProbeDue { env: 0, probe: 0 }).as_slice() {
            [Effect::Probe { generation, .. }] => *generation,
            other => panic!("{other:?}"),
        };
        // A manual refresh soon after leaves the probe in flight alone;
        // once its answer is lost, it starts another.
        s.now = t0() + TimeDelta::seconds(10);
        let soon = refresh(&mut s, 0);
        assert!(
            !soon
                .iter()
                .any(|e| matches!(e, Effect::Probe { probe: 0, .. })),
            "{soon:?}"
        );
        s.now = t0() + TimeDelta::seconds(crate::update::STUCK_AFTER_SECS + 1);
        let refreshed = refresh(&mut s, 0);
        assert!(
            refreshed
                .iter()
                .any(|e| matches!(e, Effect::Probe { probe: 0, .. })),
            "{refreshed:?}"
        );
        update(
            &mut s,
            Action::ProbeDone {
                env: 0,
                probe: 0,
                generation: g1,
                at: t0(),
                report: ok(5, 500),
            },
        );
        let p = &s.envs[0].probes[0];
        assert!(p.history.is_empty(), "the superseded answer was recorded");
        assert!(p.in_flight);
        assert_eq!(p.total, 0);
    }
}
