//! Reducer tests of the timeline: derived events, operations, notes,
//! marks and the incident's TTD / TTM / TTR.

use super::*;
use crate::domain::{Alarm, AlarmState};
use crate::timeline::MarkKind;

fn alarm(name: &str, state: AlarmState, at: Timestamp) -> Alarm {
    Alarm {
        name: name.into(),
        arn: format!("arn:aws:cloudwatch:ap-northeast-1:1:alarm:{name}"),
        description: None,
        state,
        state_reason: "Threshold Crossed: 1 datapoint [14.0] > 10".into(),
        state_updated_at: at,
        actions_enabled: true,
        composite: false,
        metric: None,
        comparison: Some("GreaterThanThreshold".into()),
        threshold: Some(10.0),
        period_seconds: Some(60),
        evaluation_periods: Some(1),
    }
}

fn load_alarms(state: &mut State, alarms: Vec<Alarm>) -> Vec<Effect> {
    let now = state.now;
    let generation = match update(
        state,
        Action::PollDue {
            env: 0,
            resource: Resource::Alarms,
        },
    )
    .as_slice()
    {
        [Effect::Fetch { generation, .. }, ..] => *generation,
        other => panic!("expected a fetch, got {other:?}"),
    };
    update(
        state,
        Action::Loaded {
            env: 0,
            resource: Resource::Alarms,
            generation,
            at: now,
            result: Ok(Data::Alarms(alarms)),
        },
    )
}

fn recorded(effects: &[Effect]) -> Vec<&crate::timeline::Event> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record { events } => Some(events.iter()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn at(secs: i64) -> Timestamp {
    t0() + chrono::TimeDelta::seconds(secs)
}

#[test]
fn an_incident_is_detected_mitigated_and_recovered_with_its_durations() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    // The first load says nothing (no earlier data to compare with).
    let first = load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Ok, t0())]);
    assert!(recorded(&first).is_empty());
    assert!(s.envs[0].timeline.is_empty());

    // The alarm fires: an event, and the incident is detected.
    s.now = at(120);
    let effects = load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Alarm, at(110))]);
    let events = recorded(&effects);
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[0].kind, "alarm_state");
    assert!(
        events[0].text.starts_with("OK → ALARM"),
        "{}",
        events[0].text
    );
    assert_eq!(events[0].session, s.session);
    assert_eq!(events[1].mark, Some(MarkKind::Detected));
    assert!(s.envs[0].incident.is_open());

    // The operator marks the impact's start at 03:01 (the demo's clock is
    // 03:00): TTD is 50 s.
    s.now = at(150);
    typed_command(&mut s, "mark impact 03:01");
    let incident = &s.envs[0].incident;
    assert_eq!(incident.get(MarkKind::ImpactStarted), Some(at(60)));
    assert_eq!(incident.ttd(), Some(chrono::TimeDelta::seconds(50)));

    // The alarm clears and every service is healthy: mitigated and
    // recovered, TTM and TTR from the impact's start.
    s.now = at(600);
    let effects = load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Ok, at(590))]);
    let marks: Vec<MarkKind> = recorded(&effects).iter().filter_map(|e| e.mark).collect();
    assert_eq!(marks, vec![MarkKind::Mitigated, MarkKind::Recovered]);
    let incident = &s.envs[0].incident;
    assert!(!incident.is_open());
    assert_eq!(incident.ttr(s.now), Some(chrono::TimeDelta::seconds(540)));
}

/// Opened because of a page: an alarm already in ALARM at the first load
/// is on the timeline at the time it went there, and the incident is
/// detected then (TTD counts from it, not from the console's start).
#[test]
fn an_alarm_already_firing_at_the_first_load_opens_the_incident_when_it_fired() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    s.now = at(300);
    let effects = load_alarms(
        &mut s,
        vec![
            alarm("web-5xx", AlarmState::Alarm, at(-240)),
            alarm("db-cpu", AlarmState::Ok, at(-900)),
        ],
    );
    let events = recorded(&effects);
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[0].resource, "web-5xx");
    assert_eq!(events[0].time, at(-240));
    assert!(
        events[0]
            .text
            .starts_with("in ALARM when the console opened"),
        "{}",
        events[0].text
    );
    assert_eq!(events[1].mark, Some(MarkKind::Detected));
    let incident = &s.envs[0].incident;
    assert!(incident.is_open());
    assert_eq!(incident.get(MarkKind::Detected), Some(at(-240)));
    // The same alarm still firing at the next load is not news.
    s.now = at(330);
    let again = load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Alarm, at(-240))]);
    assert!(recorded(&again).is_empty());
}

/// The operator marks the impact before anything fires (a customer
/// report): the first alarm still marks the detection, and TTD is known.
#[test]
fn an_impact_marked_before_the_first_alarm_still_gets_its_detection() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Ok, t0())]);
    s.now = at(120);
    typed_command(&mut s, "mark impact 03:01");
    assert!(s.envs[0].incident.is_open());
    assert_eq!(s.envs[0].incident.get(MarkKind::Detected), None);
    s.now = at(200);
    let effects = load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Alarm, at(190))]);
    let marks: Vec<MarkKind> = recorded(&effects).iter().filter_map(|e| e.mark).collect();
    assert_eq!(marks, vec![MarkKind::Detected]);
    let incident = &s.envs[0].incident;
    assert_eq!(incident.get(MarkKind::Detected), Some(at(190)));
    assert_eq!(incident.ttd(), Some(chrono::TimeDelta::seconds(130)));
}

/// `:TEXT` typed on the command line and entered.
fn typed_command(s: &mut State, text: &str) -> Vec<Effect> {
    let mut effects = press(s, key(':'));
    effects.extend(typed(s, text));
    effects.extend(press(s, code(KeyCode::Enter)));
    effects
}

#[test]
fn deployments_and_desired_counts_are_derived_from_the_services() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    let mut scaled = service("web", 42, 2, 4);
    scaled.deployments[0].rollout_state = RolloutState::InProgress;
    let effects = load_services(&mut s, vec![scaled.clone()]);
    let events = recorded(&effects);
    assert!(
        events
            .iter()
            .any(|e| e.kind == "desired_changed" && e.text == "desired count 2 → 4"),
        "{events:#?}"
    );
    let mut failed = scaled;
    failed.deployments[0].rollout_state = RolloutState::Failed;
    failed.deployments[0].rollout_state_reason = Some("circuit breaker: rolled back".into());
    let effects = load_services(&mut s, vec![failed]);
    let events = recorded(&effects);
    assert!(
        events.iter().any(|e| e.kind == "deployment_failed"
            && e.severity == crate::timeline::Severity::Error
            && e.text.contains("circuit breaker: rolled back")),
        "{events:#?}"
    );
}

#[test]
fn operations_notes_and_the_first_action_are_on_the_timeline() {
    let mut s = state();
    s.envs[0].protected = false;
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Ok, t0())]);
    s.now = at(60);
    load_alarms(&mut s, vec![alarm("web-5xx", AlarmState::Alarm, at(60))]);
    update(&mut s, Action::Command(Command::Services));
    s.now = at(90);
    press(&mut s, key('r'));
    let effects = press(&mut s, key('y'));
    let events = recorded(&effects);
    assert_eq!(events[0].kind, "operation");
    assert!(
        events[0].text.starts_with("sent: Restart web"),
        "{}",
        events[0].text
    );
    assert!(!events[0].calls.is_empty(), "the exact API calls");
    assert_eq!(events[1].mark, Some(MarkKind::FirstAction));

    // N opens `:note `; the note is on the selected service.
    press(&mut s, key('N'));
    assert_eq!(
        s.mode,
        Mode::Command {
            input: "note ".into()
        }
    );
    let effects = typed(&mut s, "restarted web, 5xx from one task");
    assert!(recorded(&effects).is_empty());
    let effects = press(&mut s, code(KeyCode::Enter));
    let events = recorded(&effects);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "note");
    assert_eq!(events[0].resource, "web");
    assert_eq!(events[0].text, "restarted web, 5xx from one task");

    // The timeline view lists it first (newest), and enter goes to web.
    update(&mut s, Action::Command(Command::Timeline));
    let rows = s.visible_timeline();
    assert_eq!(rows[0].1.kind, "note");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.view(),
        &View::ServiceDetail {
            service: "web".into()
        }
    );
}

#[test]
fn a_bad_mark_says_what_to_write() {
    let mut s = state();
    let effects = typed_command(&mut s, "mark sometime");
    assert!(recorded(&effects).is_empty());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains(":mark impact"))
    );
    let effects = typed_command(&mut s, "mark impact 3pm");
    assert!(recorded(&effects).is_empty());
    assert!(s.flash.as_ref().is_some_and(|f| f.text.contains("HH:MM")));
}

#[test]
fn the_fleet_timeline_lists_every_environment_and_leads_to_the_right_one() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    update(&mut s, Action::Command(Command::Services));
    s.now = at(10);
    typed_command(&mut s, "note production first");
    update(&mut s, Action::Command(Command::NextEnvironment));
    s.now = at(20);
    typed_command(&mut s, "note staging second");
    typed_command(&mut s, "timeline");
    assert_eq!(s.visible_timeline().len(), 1, "this environment only");
    typed_command(&mut s, "timeline fleet");
    let rows: Vec<(String, String)> = s
        .visible_timeline()
        .iter()
        .map(|(_, e)| (e.env.clone(), e.text.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("staging".to_string(), "staging second".to_string()),
            ("production".to_string(), "production first".to_string()),
        ]
    );
    // enter on production's note switches to production.
    press(&mut s, key('j'));
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.env().map(|e| e.name.as_str()), Some("production"));
}

// --- replay

#[test]
fn replay_keys_outside_a_replay_say_where_they_work() {
    let mut s = state();
    for cmd in [
        Command::ReplayPause,
        Command::ReplaySeek,
        Command::ReplayNextEvent,
    ] {
        let effects = update(&mut s, Action::Command(cmd));
        assert!(effects.is_empty());
        assert_eq!(s.replay_request, None);
        let flash = s.flash.clone().expect("a hint");
        assert!(flash.text.contains("honban replay"), "{}", flash.text);
        assert_eq!(s.mode, Mode::Normal);
    }
}

#[test]
fn in_a_replay_keys_ask_the_player_and_seek_takes_a_time_or_an_offset() {
    let mut s = state();
    s.replay = Some(crate::state::ReplayStatus {
        start: t0(),
        end: t0() + chrono::TimeDelta::hours(1),
        paused: false,
        speed: 1,
        damage: None,
    });
    update(&mut s, Action::Command(Command::ReplayNextMark));
    assert_eq!(
        s.replay_request.take(),
        Some(crate::state::ReplayRequest::NextMark)
    );
    // @ opens the prompt; a time of the recorded day, or an offset.
    update(&mut s, Action::Command(Command::ReplaySeek));
    assert!(matches!(&s.mode, Mode::Command { input } if input == "seek "));
    typed(&mut s, "03:10:30");
    press(&mut s, code(KeyCode::Enter));
    let at = t0()
        .date_naive()
        .and_hms_opt(3, 10, 30)
        .expect("time")
        .and_utc();
    assert_eq!(
        s.replay_request.take(),
        Some(crate::state::ReplayRequest::Seek(at))
    );
    assert_eq!(
        super::super::parse_seek("-90s", t0()),
        Some(t0() - chrono::TimeDelta::seconds(90))
    );
    assert_eq!(
        super::super::parse_seek("+2h", t0()),
        Some(t0() + chrono::TimeDelta::hours(2))
    );
    assert_eq!(super::super::parse_seek("soon", t0()), None);
    // A bad time is said, nothing is asked.
    update(&mut s, Action::Command(Command::ReplaySeek));
    typed(&mut s, "25:99");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.replay_request, None);
    assert!(s.flash.as_ref().is_some_and(|f| f.text.contains("+5m")));
    // Notes, refreshes and operations are refused.
    for cmd in [Command::Refresh, Command::Scale] {
        assert!(update(&mut s, Action::Command(cmd)).is_empty());
    }
    update(&mut s, Action::Command(Command::Note));
    typed(&mut s, "x");
    press(&mut s, code(KeyCode::Enter));
    assert!(s.envs[0].timeline.is_empty());
}

/// The replay's keys act in a replay only: `P` pauses there, and sorts the
/// services by PEND in the console; a user's `[keys]` binding of a replay
/// key for a command a replay refuses loads.
#[test]
fn replay_keys_act_in_a_replay_only() {
    let mut s = state();
    update(&mut s, Action::Command(Command::Services));
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT)),
    );
    assert_eq!(s.replay_request, None);
    assert_eq!(
        s.sort(ViewKind::Services).map(|o| o.column),
        Some("CPU"),
        "P sorts in the console (C continues a blue/green deployment)"
    );
    press(&mut s, code(KeyCode::Char(']')));
    assert_eq!(s.replay_request, None);
    assert!(s.flash.as_ref().is_none_or(|f| !f.text.contains("replay")));

    s.replay = Some(crate::state::ReplayStatus {
        start: t0(),
        end: t0() + chrono::TimeDelta::hours(1),
        paused: false,
        speed: 1,
        damage: None,
    });
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT)),
    );
    assert_eq!(
        s.replay_request.take(),
        Some(crate::state::ReplayRequest::Pause)
    );
    press(&mut s, code(KeyCode::Char(']')));
    assert_eq!(
        s.replay_request.take(),
        Some(crate::state::ReplayRequest::NextEvent)
    );

    // restart on P: P restarts in the console, pauses in a replay.
    let config: crate::config::Config =
        toml::from_str("[keys]\nrestart = [\"r\", \"P\"]\n").expect("config");
    s.keymap = crate::config::keys::Keymap::from_config(&config).expect("keymap");
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT)),
    );
    assert_eq!(
        s.replay_request.take(),
        Some(crate::state::ReplayRequest::Pause)
    );
}
