//! Reducer tests: state + action → state + effects.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::backend::BackendError;
use crate::config::keys::Keymap;
use crate::config::{ClusterConfig, Config, EnvironmentConfig, RefreshIntervals, Source};
use crate::domain::{Deployment, Listing, RolloutState, Service, Timestamp};
use crate::state::{EnvState, LoadState, Mode, State, View, ViewKind};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .expect("valid time")
}

pub(super) fn env_config(name: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        name: name.to_string(),
        source: Source::Sim,
        region: Some("ap-northeast-1".into()),
        clusters: vec![ClusterConfig {
            name: "prod".into(),
            services: Vec::new(),
        }],
        protected: name == "production",
        ..Default::default()
    }
}

fn state() -> State {
    state_of(&["production", "staging"], t0())
}

/// A console state at `now` with the simulated environments `names`
/// (cluster `prod`; `production` protected) and the default keymap; the
/// fixture of the reducer tests in the submodules too.
pub(super) fn state_of(names: &[&str], now: Timestamp) -> State {
    let config: Config = toml::from_str("").expect("empty config parses");
    let keymap = Keymap::from_config(&config).expect("default keymap");
    let envs = names
        .iter()
        .map(|n| EnvState::from_config(&env_config(n), &RefreshIntervals::default(), false))
        .collect();
    State::new(envs, 0, keymap, now)
}

fn service(name: &str, rev: u32, running: u32, desired: u32) -> Service {
    let td = format!("arn:aws:ecs:ap-northeast-1:123456789012:task-definition/{name}:{rev}");
    Service {
        arn: format!("arn:aws:ecs:ap-northeast-1:123456789012:service/prod/{name}"),
        name: name.to_string(),
        cluster_arn: "arn:aws:ecs:ap-northeast-1:123456789012:cluster/prod".into(),
        status: "ACTIVE".into(),
        desired_count: desired,
        running_count: running,
        pending_count: 0,
        launch_type: Some("FARGATE".into()),
        task_definition: td.clone(),
        deployments: vec![Deployment {
            id: format!("ecs-svc/{name}"),
            status: "PRIMARY".into(),
            task_definition: td,
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            failed_tasks: 0,
            rollout_state: RolloutState::Completed,
            rollout_state_reason: None,
            created_at: t0(),
            updated_at: t0(),
        }],
        events: Vec::new(),
        load_balancers: Vec::new(),
        created_at: Some(t0()),
        circuit_breaker: None,
        deployment_controller: crate::domain::DeploymentController::Ecs,
        strategy: None,
        service_deployment: None,
    }
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A key pressed by an operator who reads the screen first: a frame is
/// drawn before it (so an open confirmation accepts it).
fn press(state: &mut State, action: Action) -> Vec<Effect> {
    update(state, Action::Drawn);
    update(state, action)
}

fn typed(state: &mut State, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(press(state, key(c)));
    }
    effects
}

/// Loads services into the active environment as a poll would.
fn load_services(state: &mut State, services: Vec<Service>) -> Vec<Effect> {
    let now = state.now;
    let effects = update(
        state,
        Action::PollDue {
            env: 0,
            resource: Resource::Services,
        },
    );
    let generation = match effects.as_slice() {
        [Effect::Fetch { generation, .. }] => *generation,
        other => panic!("expected one fetch, got {other:?}"),
    };
    update(
        state,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation,
            at: now,
            result: Ok(Data::Services(Listing::complete(services))),
        },
    )
}

#[test]
fn a_poll_starts_one_fetch_and_skips_while_in_flight() {
    let mut s = state();
    let effects = update(
        &mut s,
        Action::PollDue {
            env: 0,
            resource: Resource::Alarms,
        },
    );
    assert_eq!(
        effects,
        vec![Effect::Fetch {
            env: 0,
            resource: Resource::Alarms,
            generation: 1,
            clusters: Vec::new(),
        }]
    );
    assert!(s.envs[0].alarms.in_flight);
    assert_eq!(s.envs[0].alarms.load, LoadState::Loading);
    let again = update(
        &mut s,
        Action::PollDue {
            env: 0,
            resource: Resource::Alarms,
        },
    );
    assert!(
        again.is_empty(),
        "a tick is skipped while a request is in flight"
    );
}

#[test]
fn results_are_applied_and_stale_generations_dropped() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    assert_eq!(s.envs[0].services.load, LoadState::Loaded);
    assert_eq!(s.envs[0].services.loaded_at, Some(t0()));
    assert_eq!(s.visible_services().len(), 1);

    // A result carrying an older generation is ignored.
    let old = s.envs[0].services.generation - 1;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation: old,
            at: t0(),
            result: Ok(Data::Services(Listing::complete(vec![]))),
        },
    );
    assert_eq!(
        s.visible_services().len(),
        1,
        "stale result must be dropped"
    );
}

#[test]
fn a_failed_refresh_keeps_the_data_and_marks_it_stale() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    let effects = update(
        &mut s,
        Action::PollDue {
            env: 0,
            resource: Resource::Services,
        },
    );
    let Some(Effect::Fetch { generation, .. }) = effects.first() else {
        panic!("expected a fetch");
    };
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation: *generation,
            at: t0(),
            result: Err(BackendError::Throttled {
                message: "Rate exceeded".into(),
            }),
        },
    );
    let p = &s.envs[0].services;
    assert!(p.is_stale());
    assert!(!p.in_flight);
    assert_eq!(p.data.as_ref().map(Vec::len), Some(1));
    assert_eq!(s.envs[0].errors().len(), 1);
}

#[test]
fn target_health_is_asked_for_as_soon_as_the_services_name_their_groups() {
    let tg = "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/web/1";
    let mut web = service("web", 42, 2, 2);
    web.load_balancers = vec![crate::domain::LoadBalancerRef {
        target_group_arn: Some(tg.into()),
        container_name: Some("web".into()),
        container_port: Some(3000),
    }];
    let mut s = state();
    let targets = |effects: &[Effect]| -> Vec<Vec<String>> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::FetchTargets { arns, .. } => Some(arns.clone()),
                _ => None,
            })
            .collect()
    };
    let effects = load_services(&mut s, vec![web.clone()]);
    assert_eq!(targets(&effects), vec![vec![tg.to_string()]]);
    // Later refreshes leave target health to its own poller.
    let effects = load_services(&mut s, vec![web]);
    assert!(targets(&effects).is_empty(), "{effects:?}");
}

#[test]
fn task_definitions_are_requested_once_per_arn() {
    let mut s = state();
    let effects = load_services(
        &mut s,
        vec![service("web", 42, 2, 2), service("api", 7, 2, 2)],
    );
    let arns: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::FetchTaskDefinition { arn, .. } => Some(arn.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(arns.len(), 2);
    // A second load does not ask again while the first requests are pending.
    let effects = load_services(&mut s, vec![service("web", 42, 2, 2)]);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchTaskDefinition { .. }))
    );
}

#[test]
fn command_line_opens_views_and_completes() {
    let mut s = state();
    press(&mut s, key(':'));
    assert_eq!(
        s.mode,
        Mode::Command {
            input: String::new()
        }
    );
    typed(&mut s, "sv");
    press(&mut s, code(KeyCode::Tab));
    assert_eq!(
        s.mode,
        Mode::Command {
            input: "svc".into()
        }
    );
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.view(), &View::Services);

    press(&mut s, key(':'));
    typed(&mut s, "env s");
    press(&mut s, code(KeyCode::Tab));
    assert_eq!(
        s.mode,
        Mode::Command {
            input: "env staging".into()
        }
    );
    let effects = press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.active, 1);
    // Never-loaded panels of the new environment are fetched at once.
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            env: 1,
            resource: Resource::Services,
            ..
        }
    )));
}

#[test]
fn unknown_commands_and_environments_say_so() {
    let mut s = state();
    press(&mut s, key(':'));
    typed(&mut s, "bogus");
    press(&mut s, code(KeyCode::Enter));
    let flash = s.flash.clone().expect("a message");
    assert_eq!(flash.severity, crate::state::Severity::Error);
    assert!(
        flash.text.contains("unknown command \"bogus\""),
        "{}",
        flash.text
    );

    press(&mut s, key(':'));
    typed(&mut s, "env prod");
    press(&mut s, code(KeyCode::Enter));
    let text = s.flash.clone().expect("a message").text;
    assert!(text.contains("configured: production, staging"), "{text}");
    assert_eq!(s.active, 0);
}

#[test]
fn selection_moves_within_bounds() {
    let mut s = state();
    load_services(
        &mut s,
        vec![
            service("api", 1, 2, 2),
            service("web", 1, 2, 2),
            service("worker", 1, 2, 2),
        ],
    );
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('k'));
    assert_eq!(s.selected(ViewKind::Services), 0);
    press(&mut s, key('j'));
    press(&mut s, key('j'));
    press(&mut s, key('j'));
    assert_eq!(s.selected(ViewKind::Services), 2);
    press(&mut s, key('g'));
    assert_eq!(s.selected(ViewKind::Services), 0);
    press(&mut s, key('G'));
    assert_eq!(s.selected(ViewKind::Services), 2);
}

#[test]
fn enter_drills_into_a_service_and_esc_comes_back() {
    let mut s = state();
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    update(&mut s, Action::Command(Command::Services));
    let effects = press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.view(),
        &View::ServiceDetail {
            service: "web".into()
        }
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::FetchRevisions { family, .. } if family == "web"
    )));
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.view(), &View::Services);
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.view(), &View::Overview);
    // esc at the root stays there.
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.view(), &View::Overview);
}

#[test]
fn unhealthy_services_sort_first() {
    let mut s = state();
    load_services(
        &mut s,
        vec![service("api", 1, 2, 2), service("web", 1, 0, 2)],
    );
    let names: Vec<_> = s
        .visible_services()
        .iter()
        .map(|x| x.name.clone())
        .collect();
    assert_eq!(names, vec!["web", "api"]);
}

#[test]
fn filter_narrows_rows_live_and_esc_clears_it() {
    let mut s = state();
    load_services(
        &mut s,
        vec![service("api", 1, 2, 2), service("web", 1, 2, 2)],
    );
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('/'));
    typed(&mut s, "we");
    assert_eq!(s.visible_services().len(), 1, "filter applies while typing");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.filters.get(&ViewKind::Services).map(String::as_str),
        Some("we")
    );
    assert_eq!(s.visible_services().len(), 1);
    // esc first clears the filter, then goes back.
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.visible_services().len(), 2);
    assert_eq!(s.view(), &View::Services);
}

#[test]
fn slash_starts_a_new_filter_bang_excludes_and_an_unknown_field_names_the_fields() {
    let mut s = state();
    load_services(
        &mut s,
        vec![
            service("api", 1, 2, 2),
            service("web", 1, 2, 2),
            service("worker", 1, 2, 2),
        ],
    );
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('/'));
    typed(&mut s, "api");
    press(&mut s, code(KeyCode::Enter));
    // `/` again: typing replaces the old text rather than appending to it.
    press(&mut s, key('/'));
    assert_eq!(
        s.mode,
        Mode::Filter {
            input: "api".into()
        }
    );
    typed(&mut s, "w");
    assert_eq!(s.mode, Mode::Filter { input: "w".into() });
    typed(&mut s, "eb");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.filters.get(&ViewKind::Services).map(String::as_str),
        Some("web")
    );
    // ... but backspace edits it.
    press(&mut s, key('/'));
    press(&mut s, code(KeyCode::Backspace));
    assert_eq!(s.mode, Mode::Filter { input: "we".into() });
    press(&mut s, code(KeyCode::Esc));

    // `!term` excludes.
    press(&mut s, key('/'));
    typed(&mut s, "!api !svc:worker");
    let names: Vec<_> = s
        .visible_services()
        .iter()
        .map(|x| x.name.clone())
        .collect();
    assert_eq!(names, vec!["web"]);
    press(&mut s, code(KeyCode::Esc));

    // An unknown field says which exist, and the message goes once fixed.
    press(&mut s, key('/'));
    typed(&mut s, "colour:red");
    let text = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(text.contains("unknown filter field \"colour\""), "{text}");
    assert!(text.contains("svc") && text.contains("health"), "{text}");
    for _ in 0.."colour:red".len() {
        press(&mut s, code(KeyCode::Backspace));
    }
    typed(&mut s, "svc:web");
    assert!(s.flash.is_none(), "{:?}", s.flash);
    assert_eq!(s.visible_services().len(), 1);
}

#[test]
fn ctrl_c_quits_from_any_mode() {
    let mut s = state();
    press(&mut s, key(':'));
    let effects = update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(effects, vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut s = state();
    press(&mut s, key('?'));
    assert_eq!(s.mode, Mode::Help);
    press(&mut s, key('x'));
    assert_eq!(s.mode, Mode::Normal);
    assert!(!s.quit);
}

#[test]
fn ticks_redraw_only_when_a_visible_age_changes() {
    let mut s = state();
    s.dirty = false;
    update(&mut s, Action::Tick(t0() + chrono::TimeDelta::seconds(1)));
    assert!(!s.dirty, "nothing on screen depends on the clock yet");
    load_services(&mut s, vec![service("web", 1, 2, 2)]);
    s.dirty = false;
    update(&mut s, Action::Tick(t0() + chrono::TimeDelta::seconds(2)));
    assert!(s.dirty, "the services age moved from 1s to 2s");
    s.dirty = false;
    update(
        &mut s,
        Action::Tick(t0() + chrono::TimeDelta::milliseconds(2700)),
    );
    assert!(!s.dirty, "same second: nothing changes on screen");
}

#[test]
fn manual_refresh_supersedes_only_lost_requests() {
    let mut s = state();
    update(
        &mut s,
        Action::PollDue {
            env: 0,
            resource: Resource::Tasks,
        },
    );
    // In flight (even for a while): ctrl-r leaves it alone.
    let ctrl_r = Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    let effects = update(&mut s, ctrl_r.clone());
    assert!(!effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Tasks,
            ..
        }
    )));
    s.now = t0() + chrono::TimeDelta::seconds(20);
    let effects = update(&mut s, ctrl_r.clone());
    assert!(!effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Tasks,
            ..
        }
    )));
    // In flight beyond any call's timeout, its answer lost: a new
    // generation; the old answer is dropped.
    s.now = t0() + chrono::TimeDelta::seconds(super::STUCK_AFTER_SECS + 1);
    let effects = update(&mut s, ctrl_r);
    assert!(effects.contains(&Effect::Fetch {
        env: 0,
        resource: Resource::Tasks,
        generation: 2,
        clusters: vec!["prod".into()],
    }));
    let now = s.now;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Tasks,
            generation: 1,
            at: now,
            result: Ok(Data::Tasks(Listing::complete(vec![]))),
        },
    );
    assert!(s.envs[0].tasks.data.is_none(), "generation 1 is stale");
    assert!(s.envs[0].tasks.in_flight);
}

/// What a burst of ctrl-r sends: one request per panel (and per probe and
/// the metrics), whatever the number of presses while they are in flight.
#[test]
fn a_burst_of_manual_refreshes_sends_each_request_once() {
    let mut s = state();
    // The panels have their sources, so every kind is fetched.
    let ctrl_r = Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    let first = update(&mut s, ctrl_r.clone());
    assert!(
        first.iter().any(|e| matches!(e, Effect::Fetch { .. })),
        "{first:?}"
    );
    let mut sent = first.len();
    // 100 presses in 13 s, nothing answered yet (a slow or throttled API).
    for i in 1..100 {
        s.now = t0() + chrono::TimeDelta::milliseconds(i * 130);
        let effects = update(&mut s, ctrl_r.clone());
        sent += effects.len();
    }
    assert_eq!(
        sent,
        first.len(),
        "ctrl-r while in flight sends nothing more"
    );
}

/// Throttled: the pollers back off; failing manual refreshes in between do
/// not push the automatic retry further out.
#[test]
fn a_failed_manual_refresh_does_not_push_the_pollers_back() {
    let mut s = state();
    let throttled = || {
        Err(BackendError::Throttled {
            message: "Rate exceeded".into(),
        })
    };
    let due = Action::PollDue {
        env: 0,
        resource: Resource::Alarms,
    };
    let fetch_generation = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Fetch {
                resource: Resource::Alarms,
                generation,
                ..
            } => Some(*generation),
            _ => None,
        })
    };
    let generation = fetch_generation(&update(&mut s, due.clone())).expect("polled");
    let at = s.now;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Alarms,
            generation,
            at,
            result: throttled(),
        },
    );
    let alarms = &s.envs[0].alarms;
    assert_eq!(alarms.failures_in_row, 1);
    let retry_at = alarms.retry_at.expect("backing off");
    // The operator presses ctrl-r again and again; every one fails.
    let ctrl_r = Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    for i in 1..=10 {
        s.now = at + chrono::TimeDelta::milliseconds(i * 300);
        let generation = fetch_generation(&update(&mut s, ctrl_r.clone()))
            .expect("a manual refresh does not wait for the backoff");
        let now = s.now;
        update(
            &mut s,
            Action::Loaded {
                env: 0,
                resource: Resource::Alarms,
                generation,
                at: now,
                result: throttled(),
            },
        );
    }
    let alarms = &s.envs[0].alarms;
    assert!(alarms.error().is_some(), "the failure is shown");
    assert_eq!(alarms.failures_in_row, 1, "manual failures are not counted");
    assert_eq!(
        alarms.retry_at,
        Some(retry_at),
        "the retry is not pushed out"
    );
    // The poller comes back at its time.
    s.now = retry_at + chrono::TimeDelta::seconds(1);
    assert!(fetch_generation(&update(&mut s, due)).is_some());
}

/// An outage: a panel that cannot reach the server tries again at its own
/// interval however often it failed (the probe that sees the server come
/// back), throttling still backs off exponentially, and the first answer
/// after the outage releases the other panels' backoff, but not a
/// throttled one's.
#[test]
fn an_outage_is_retried_at_the_interval_and_an_answer_releases_the_others() {
    let mut s = state();
    let fetch = |s: &mut State, resource: Resource| {
        update(s, Action::PollDue { env: 0, resource })
            .iter()
            .find_map(|e| match e {
                Effect::Fetch {
                    resource: r,
                    generation,
                    ..
                } if *r == resource => Some(*generation),
                _ => None,
            })
    };
    let answer = |s: &mut State, resource: Resource, generation: u64, result| {
        let at = s.now;
        update(
            s,
            Action::Loaded {
                env: 0,
                resource,
                generation,
                at,
                result,
            },
        );
    };
    let refused = || {
        Err(BackendError::Unavailable {
            message: "connection refused".into(),
        })
    };
    let interval = |s: &State, r: Resource| {
        chrono::TimeDelta::from_std(crate::runner::interval_of(r, &s.envs[0].intervals))
            .expect("an interval")
    };
    // Ten failures in a row: the services are asked again after one
    // interval, not after minutes.
    for _ in 0..10 {
        let g = fetch(&mut s, Resource::Services).expect("polled");
        answer(&mut s, Resource::Services, g, refused());
        let retry = s.envs[0].services.retry_at.expect("backing off");
        assert!(retry - s.now <= interval(&s, Resource::Services));
        s.now = retry;
    }
    assert_eq!(s.envs[0].services.failures_in_row, 10);
    // Databases fail too; alarms are throttled (backed off for longer).
    let g = fetch(&mut s, Resource::Databases).expect("polled");
    answer(&mut s, Resource::Databases, g, refused());
    let start = s.now;
    for _ in 0..4 {
        s.now = s.envs[0].alarms.retry_at.unwrap_or(s.now);
        let g = fetch(&mut s, Resource::Alarms).expect("polled");
        answer(
            &mut s,
            Resource::Alarms,
            g,
            Err(BackendError::Throttled {
                message: "Rate exceeded".into(),
            }),
        );
    }
    let throttled_until = s.envs[0].alarms.retry_at;
    let gap = throttled_until.expect("backing off") - s.now;
    assert!(
        gap > interval(&s, Resource::Alarms) * 2,
        "throttling backs off exponentially: {gap}"
    );
    s.now = start;
    // The server is back: the services answer.
    let g = fetch(&mut s, Resource::Services).expect("polled");
    answer(
        &mut s,
        Resource::Services,
        g,
        Ok(Data::Services(crate::domain::Listing::default())),
    );
    assert_eq!(s.envs[0].services.retry_at, None);
    assert_eq!(
        s.envs[0].databases.retry_at, None,
        "released: polled at its next turn"
    );
    assert_eq!(
        s.envs[0].alarms.retry_at, throttled_until,
        "a throttled API stays backed off"
    );
}

#[test]
fn next_environment_cycles() {
    let mut s = state();
    press(&mut s, code(KeyCode::Tab));
    assert_eq!(s.active, 1);
    press(&mut s, code(KeyCode::Tab));
    assert_eq!(s.active, 0);
}

#[test]
fn resize_sets_page_size() {
    let mut s = state();
    update(&mut s, Action::Resize(80, 24));
    assert_eq!(s.page_rows, 16);
    update(&mut s, Action::Resize(10, 3));
    assert_eq!(s.page_rows, 1);
}

// ------------------------------------------------------------ operations

use crate::action::OpOutcome;
use crate::ops::Operation;
use crate::state::Dialog;
use crate::watch::{OpStatus, WatchStatus};

/// Services loaded and the services view open, `web` selected.
fn on_services(protected: bool) -> State {
    let mut s = state();
    s.envs[0].protected = protected;
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    update(&mut s, Action::Command(Command::Services));
    s
}

fn operations(effects: &[Effect]) -> Vec<(&Operation, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Operate { op, dry_run, .. } => Some((op.as_ref(), *dry_run)),
            _ => None,
        })
        .collect()
}

#[test]
fn scale_in_a_protected_environment_needs_the_resource_name_typed() {
    let mut s = on_services(true);
    press(&mut s, key('s'));
    match &s.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "2", "prefilled"),
        other => panic!("expected the scale prompt, got {other:?}"),
    }
    press(&mut s, code(KeyCode::Backspace));
    typed(&mut s, "4");
    assert!(press(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(matches!(s.mode, Mode::Dialog(Dialog::Confirm { .. })));
    // Enter without the name says, in the dialog, what to type.
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(
        dialog_error(&s).contains("type production/web"),
        "{}",
        dialog_error(&s)
    );
    // The name alone (the same in every environment) is a wrong entry,
    // and the dialog says so.
    typed(&mut s, "web");
    assert_eq!(dialog_error(&s), "", "typing clears the error");
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(matches!(s.mode, Mode::Dialog(Dialog::Confirm { .. })));
    assert!(
        dialog_error(&s).contains("\"web\" is not production/web"),
        "{}",
        dialog_error(&s)
    );
    // `y` is a letter of the text in a protected environment, not a yes.
    typed(&mut s, "y");
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    for _ in 0.."webby".len() {
        press(&mut s, code(KeyCode::Backspace));
    }
    typed(&mut s, "production/web");
    let effects = press(&mut s, code(KeyCode::Enter));
    let sent = operations(&effects);
    assert_eq!(sent.len(), 1, "{effects:?}");
    assert!(matches!(sent[0].0, Operation::Scale { from: 2, to: 4, .. }));
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.activity.len(), 1);
    assert_eq!(s.activity[0].status, OpStatus::Sending);
    // A second Enter (a double key press) finds no dialog: nothing more.
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
}

#[test]
fn a_count_that_is_not_a_number_keeps_the_prompt_with_the_reason() {
    let mut s = on_services(false);
    press(&mut s, key('s'));
    typed(&mut s, "x");
    press(&mut s, code(KeyCode::Enter));
    match &s.mode {
        Mode::Dialog(Dialog::Input { error: Some(e), .. }) => {
            assert!(e.contains("not a task count"));
        }
        other => panic!("expected the prompt with an error, got {other:?}"),
    }
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("nothing was sent"))
    );
}

#[test]
fn a_read_only_environment_refuses_with_the_reason_and_opens_nothing() {
    let mut s = on_services(false);
    s.envs[0].read_only = true;
    let stop = Action::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL));
    let keys = ['s', 'A', 'i', 'b', 'r'].map(|c| (c, key(c)));
    for (c, k) in keys.into_iter().chain([('^', stop)]) {
        let effects = press(&mut s, k);
        assert!(effects.is_empty(), "{c}: {effects:?}");
        assert_eq!(s.mode, Mode::Normal, "{c}");
        assert!(
            s.flash
                .as_ref()
                .is_some_and(|f| f.text.contains("read-only")),
            "{c}: {:?}",
            s.flash
        );
    }
}

#[test]
fn restart_confirms_with_y_elsewhere_and_dry_run_is_carried() {
    let mut s = on_services(false);
    s.dry_run = true;
    press(&mut s, key('r'));
    assert!(matches!(
        &s.mode,
        Mode::Dialog(Dialog::Confirm {
            op: Operation::Restart { .. },
            ..
        })
    ));
    let effects = press(&mut s, key('y'));
    let sent = operations(&effects);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].1, "dry run flag");
    // `n` cancels another one.
    press(&mut s, key('r'));
    press(&mut s, key('n'));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn an_operation_on_a_resource_still_being_sent_is_refused() {
    let mut s = on_services(false);
    press(&mut s, key('r'));
    assert_eq!(operations(&press(&mut s, key('y'))).len(), 1);
    let effects = press(&mut s, key('r'));
    assert!(effects.is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("being sent"))
    );
}

fn deployment(id: &str, status: &str, rev: u32, running: u32, state: RolloutState) -> Deployment {
    Deployment {
        id: id.to_string(),
        status: status.to_string(),
        task_definition: format!(
            "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:{rev}"
        ),
        desired_count: 2,
        running_count: running,
        pending_count: 2 - running.min(2),
        failed_tasks: 0,
        rollout_state: state,
        rollout_state_reason: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

/// A restart of `web` sent and accepted, with deployment `new` primary.
fn restarted() -> State {
    let mut s = on_services(false);
    press(&mut s, key('r'));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    let mut svc = service("web", 42, 2, 2);
    svc.deployments = vec![
        deployment("new", "PRIMARY", 42, 0, RolloutState::InProgress),
        deployment("old", "ACTIVE", 42, 2, RolloutState::Completed),
    ];
    s.now = t0() + chrono::TimeDelta::seconds(5);
    let at = s.now;
    let effects = update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Service(Box::new(svc))),
            read_back: None,
        },
    );
    // Fresh service data is asked for at once.
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Services,
            ..
        }
    )));
    s
}

fn services_loaded_later(s: &mut State, deployments: Vec<Deployment>, secs: i64) {
    s.now = t0() + chrono::TimeDelta::seconds(secs);
    let mut svc = service("web", 42, 2, 2);
    svc.running_count = deployments.iter().map(|d| d.running_count).sum();
    svc.deployments = deployments;
    let generation = s.envs[0].services.generation;
    s.envs[0].services.in_flight = true;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation,
            at: s.now,
            result: Ok(Data::Services(Listing::complete(vec![svc]))),
        },
    );
}

#[test]
fn an_accepted_restart_is_followed_until_the_rollout_completes() {
    let mut s = restarted();
    assert!(matches!(s.activity[0].status, OpStatus::Accepted { .. }));
    services_loaded_later(
        &mut s,
        vec![
            deployment("new", "PRIMARY", 42, 1, RolloutState::InProgress),
            deployment("old", "ACTIVE", 42, 2, RolloutState::Completed),
        ],
        10,
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    match &w.status {
        WatchStatus::InProgress { progress, .. } => assert_eq!(*progress, Some((1, 2))),
        other => panic!("expected progress, got {other:?}"),
    }
    services_loaded_later(
        &mut s,
        vec![deployment("new", "PRIMARY", 42, 2, RolloutState::Completed)],
        40,
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(
        matches!(w.status, WatchStatus::Completed(_)),
        "{:?}",
        w.status
    );
    assert!(!s.activity[0].is_active());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("completed"))
    );
}

#[test]
fn a_circuit_breaker_rollback_ends_the_watch_as_rolled_back() {
    let mut s = restarted();
    let mut failed = deployment("new", "ACTIVE", 42, 0, RolloutState::Failed);
    failed.rollout_state_reason =
        Some("ECS deployment circuit breaker: tasks failed to start".into());
    services_loaded_later(
        &mut s,
        vec![
            deployment("rb", "PRIMARY", 41, 1, RolloutState::InProgress),
            failed,
        ],
        30,
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(
        matches!(&w.status, WatchStatus::RolledBack(t) if t.contains("circuit breaker")),
        "{:?}",
        w.status
    );
    assert_eq!(s.flash.as_ref().map(|f| f.severity), Some(Severity::Error));
}

#[test]
fn a_failed_rollout_offers_the_rollback_key() {
    let mut s = restarted();
    let mut failed = deployment("new", "PRIMARY", 42, 0, RolloutState::Failed);
    failed.rollout_state_reason = Some("tasks failed to start".into());
    services_loaded_later(&mut s, vec![failed], 30);
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(matches!(w.status, WatchStatus::Failed(_)));
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.starts_with("b rolls back"))
    );
}

/// The runner and the read-back know no keys: the message names the
/// rollback key of the keymap (remapped: the remapped one), the audit
/// record and the activity keep the runner's words.
#[test]
fn a_half_done_deploy_names_the_rollback_key_of_the_keymap() {
    for (keys, expected) in [
        ("", "b can roll it to web:43"),
        ("[keys]\nrollback = \"B\"\n", "B can roll it to web:43"),
    ] {
        let mut s = on_services(false);
        let config: Config = toml::from_str(keys).expect("config");
        s.keymap = Keymap::from_config(&config).expect("keymap");
        press(&mut s, key('r'));
        press(&mut s, key('y'));
        let id = s.activity[0].id.clone();
        let error = "registered web:43, but UpdateService failed: boom; web still runs web:42 \
                     (a rollback can move it to web:43 once the cause is fixed)";
        update(
            &mut s,
            Action::OperationDone {
                id,
                at: t0(),
                result: Err(error.into()),
                read_back: None,
            },
        );
        let text = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(
            text.contains(&format!("({expected} once the cause is fixed)")),
            "{text}"
        );
        assert!(matches!(&s.activity[0].status, OpStatus::Failed { error: e, .. } if e == error));
    }
}

#[test]
fn a_rejected_operation_is_failed_with_the_error() {
    let mut s = on_services(false);
    press(&mut s, key('r'));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    update(
        &mut s,
        Action::OperationDone {
            id,
            at: t0(),
            result: Err("read-only: ecs:UpdateService was not sent".into()),
            read_back: None,
        },
    );
    assert!(
        matches!(&s.activity[0].status, OpStatus::Failed { error, .. } if error.contains("read-only"))
    );
    assert_eq!(s.flash.as_ref().map(|f| f.severity), Some(Severity::Error));
    // The resource is free for the next attempt.
    press(&mut s, key('r'));
    assert!(matches!(s.mode, Mode::Dialog(Dialog::Confirm { .. })));
}

#[test]
fn rollback_preselects_the_previous_revision_and_arrows_choose_another() {
    let mut s = on_services(false);
    let effects = press(&mut s, key('b'));
    let generation = effects
        .iter()
        .find_map(|e| match e {
            Effect::FetchRevisions {
                generation, family, ..
            } if family == "web" => Some(*generation),
            _ => None,
        })
        .expect("the revisions are listed");
    let arn = |r: u32| format!("arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:{r}");
    let effects = update(
        &mut s,
        Action::RevisionsLoaded {
            env: 0,
            family: "web".into(),
            generation,
            at: t0(),
            result: Ok(vec![arn(43), arn(42), arn(41), arn(40)]),
        },
    );
    // The candidates are described (image and registration time).
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchTaskDefinition { arn: a, .. } if *a == arn(41)))
    );
    // 43 is newer than the running 42; the previous one is 41.
    let sent = press(&mut s, key('y'));
    match operations(&sent).as_slice() {
        [(Operation::Rollback { to, .. }, false)] => assert_eq!(*to, arn(41)),
        other => panic!("expected a rollback to 41, got {other:?}"),
    }
    // Another time, ↓ picks 40.
    let mut s2 = on_services(false);
    press(&mut s2, key('b'));
    let generation = s2.envs[0].revisions["web"].generation;
    update(
        &mut s2,
        Action::RevisionsLoaded {
            env: 0,
            family: "web".into(),
            generation,
            at: t0(),
            result: Ok(vec![arn(43), arn(42), arn(41), arn(40)]),
        },
    );
    press(&mut s2, code(KeyCode::Down));
    // Enter does not confirm in an unprotected environment: `y` does.
    assert!(operations(&press(&mut s2, code(KeyCode::Enter))).is_empty());
    assert!(
        dialog_error(&s2).contains("press y"),
        "{}",
        dialog_error(&s2)
    );
    match operations(&press(&mut s2, key('y'))).as_slice() {
        [(Operation::Rollback { to, .. }, false)] => assert_eq!(*to, arn(40)),
        other => panic!("expected a rollback to 40, got {other:?}"),
    }
}

/// Lists revisions 43..40 of `web` (running 42) in an open rollback dialog.
fn rollback_dialog(s: &mut State) {
    update(s, key('b'));
    let generation = s.envs[0].revisions["web"].generation;
    let arn = |r: u32| format!("arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:{r}");
    update(
        s,
        Action::RevisionsLoaded {
            env: 0,
            family: "web".into(),
            generation,
            at: t0(),
            result: Ok(vec![arn(43), arn(42), arn(41), arn(40)]),
        },
    );
    assert!(matches!(s.mode, Mode::Dialog(Dialog::Rollback { .. })));
}

#[test]
fn a_protected_rollback_wants_env_slash_service_and_says_what_was_wrong() {
    let mut s = on_services(true);
    rollback_dialog(&mut s);
    // `y` is text here; the service's name alone is not enough.
    typed(&mut s, "web");
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(
        dialog_error(&s).contains("\"web\" is not production/web"),
        "{}",
        dialog_error(&s)
    );
    assert!(matches!(s.mode, Mode::Dialog(Dialog::Rollback { .. })));
    for _ in 0..3 {
        press(&mut s, code(KeyCode::Backspace));
    }
    typed(&mut s, "production/web");
    match operations(&press(&mut s, code(KeyCode::Enter))).as_slice() {
        [(Operation::Rollback { to, .. }, false)] => assert!(to.ends_with("web:41"), "{to}"),
        other => panic!("expected a rollback to 41, got {other:?}"),
    }
    assert_eq!(s.mode, Mode::Normal);
}

/// The open confirmation's error line ("" without one).
fn dialog_error(s: &State) -> String {
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { error, .. } | Dialog::Rollback { error, .. }) => {
            error.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

#[test]
fn enter_never_both_ends_the_value_step_and_confirms() {
    // `s 0 ⏎ ⏎` in an unprotected environment: the first enter opens the
    // confirmation, the second only says that y sends.
    let mut s = on_services(false);
    let mut effects = press(&mut s, key('s'));
    effects.extend(press(&mut s, code(KeyCode::Backspace)));
    effects.extend(typed(&mut s, "0"));
    effects.extend(press(&mut s, code(KeyCode::Enter)));
    assert!(matches!(
        &s.mode,
        Mode::Dialog(Dialog::Confirm {
            op: Operation::Scale { to: 0, .. },
            ..
        })
    ));
    effects.extend(press(&mut s, code(KeyCode::Enter)));
    effects.extend(press(&mut s, code(KeyCode::Enter)));
    assert!(operations(&effects).is_empty(), "{effects:?}");
    assert!(s.activity.is_empty());
    assert!(matches!(s.mode, Mode::Dialog(Dialog::Confirm { .. })));
    assert!(
        dialog_error(&s).contains("enter does not send: press y"),
        "{}",
        dialog_error(&s)
    );
    // Other keys (but n and esc, which cancel) do nothing.
    for c in ['x', 'Y', ' '] {
        assert!(press(&mut s, key(c)).is_empty());
        assert!(matches!(s.mode, Mode::Dialog(Dialog::Confirm { .. })));
    }
    // Its own key sends it, once.
    let sent = press(&mut s, key('y'));
    assert!(matches!(
        operations(&sent).as_slice(),
        [(Operation::Scale { to: 0, .. }, false)]
    ));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn q_while_a_change_is_followed_asks_once_more() {
    // Nothing followed: q quits at once.
    let mut s = on_services(false);
    assert_eq!(press(&mut s, key('q')), vec![Effect::Quit]);

    // Being sent: the first q says so, a second one quits.
    let mut s = on_services(false);
    press(&mut s, key('r'));
    press(&mut s, key('y'));
    assert!(press(&mut s, key('q')).is_empty());
    assert!(!s.quit);
    let text = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        text.starts_with("q again to quit: a change is being followed (Restart web"),
        "{text}"
    );
    assert_eq!(press(&mut s, key('q')), vec![Effect::Quit]);
    assert!(s.quit);

    // Accepted and rolling out: the same; `:q` too. Once the message is
    // gone, q asks again; `:q!` and ctrl-c quit at once.
    let mut s = restarted();
    assert!(s.activity[0].is_active());
    assert!(press(&mut s, key('q')).is_empty());
    let later = s.now + chrono::TimeDelta::seconds(30);
    update(&mut s, Action::Tick(later));
    assert!(s.flash.as_ref().is_none_or(|f| !f.text.contains("q again")));
    assert!(press(&mut s, key('q')).is_empty(), "asks again");
    assert!(!s.quit);
    typed(&mut s, ":q");
    assert_eq!(press(&mut s, code(KeyCode::Enter)), vec![Effect::Quit]);
    let mut s = restarted();
    typed(&mut s, ":q!");
    assert_eq!(press(&mut s, code(KeyCode::Enter)), vec![Effect::Quit]);
    let mut s = restarted();
    let ctrl_c = Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut s, ctrl_c), vec![Effect::Quit]);

    // Ended: q quits at once again.
    let mut s = restarted();
    services_loaded_later(
        &mut s,
        vec![deployment("new", "PRIMARY", 42, 2, RolloutState::Completed)],
        40,
    );
    assert!(!s.activity[0].is_active());
    assert_eq!(press(&mut s, key('q')), vec![Effect::Quit]);
}

#[test]
fn the_end_of_a_followed_change_is_audited_once_with_its_word() {
    let mut s = restarted();
    let mut failed = deployment("new", "ACTIVE", 42, 0, RolloutState::Failed);
    failed.rollout_state_reason =
        Some("ECS deployment circuit breaker: tasks failed to start".into());
    let now = t0() + chrono::TimeDelta::seconds(30);
    s.now = now;
    let mut svc = service("web", 41, 1, 2);
    svc.deployments = vec![
        deployment("rb", "PRIMARY", 41, 1, RolloutState::InProgress),
        failed,
    ];
    let generation = s.envs[0].services.generation;
    s.envs[0].services.in_flight = true;
    let effects = update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation,
            at: now,
            result: Ok(Data::Services(Listing::complete(vec![svc]))),
        },
    );
    let finals: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::AuditOutcome { .. }))
        .collect();
    match finals.as_slice() {
        [
            Effect::AuditOutcome {
                id,
                op,
                context,
                ended,
                detail,
                failure,
                ..
            },
        ] => {
            assert_eq!(id, &s.activity[0].id);
            assert!(matches!(op.as_ref(), Operation::Restart { .. }));
            assert_eq!(ended, "rolled back");
            assert!(detail.contains("circuit breaker"), "{detail}");
            assert!(*failure);
            assert_eq!(context.environment, "production");
            assert!(
                context.simulated,
                "the fixture's environments are simulated"
            );
        }
        other => panic!("expected one final record, got {other:?}"),
    }
    // Later loads do not record it again.
    let later = s.now + chrono::TimeDelta::seconds(10);
    let effects = update(&mut s, Action::Tick(later));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::AuditOutcome { .. }))
    );
    // A log that could not take it: the operator is told.
    let id = s.activity[0].id.clone();
    update(
        &mut s,
        Action::OutcomeAudited {
            id,
            result: Err("disk full".into()),
        },
    );
    let f = s.flash.as_ref().expect("a message");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.text.contains("disk full"), "{}", f.text);
}

#[test]
fn a_real_environments_activity_hides_the_simulated_records() {
    use crate::audit::{Outcome, Phase, Record};
    let record = |id: &str, environment: &str, simulated: bool| Record {
        time: t0(),
        phase: Phase::Result,
        id: id.to_string(),
        environment: environment.to_string(),
        simulated,
        account: Some("123456789012".into()),
        region: Some("ap-northeast-1".into()),
        caller: None,
        operation: "db-reboot".into(),
        resource: format!("{id}-db"),
        calls: Vec::new(),
        parameters: serde_json::Value::Null,
        before: None,
        after: None,
        dry_run: false,
        outcome: Some(Outcome::Success),
        result: serde_json::Value::Null,
        error: None,
        ended: None,
        detail: None,
        read_back: None,
    };
    let records = vec![
        record("real", "production", false),
        record("practice", "production", true),
        record("elsewhere", "staging", false),
    ];
    // production is real here, staging simulated.
    let mut s = state();
    s.envs[0].source = Source::Aws;
    crate::setup::set_history(&mut s, records.clone());
    let ids: Vec<&str> = s.history.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["real"]);
    assert_eq!(s.history_hidden, 2);
    update(&mut s, Action::Command(Command::Activity));
    let screen = render(&s, 100, 30);
    assert!(screen.contains("real-db"), "{screen}");
    assert!(!screen.contains("practice-db"), "{screen}");
    assert!(screen.contains("2 not shown"), "{screen}");
    assert!(
        screen.contains("accepted; how it ended was not recorded"),
        "a result without a final record says so: {screen}"
    );

    // The demo (both simulated): only the practice.
    let mut s = state();
    crate::setup::set_history(&mut s, records);
    let ids: Vec<&str> = s.history.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["practice"]);
}

/// The screen as text.
fn render(s: &State, w: u16, h: u16) -> String {
    let theme = crate::config::theme::load_theme("default", None, false).expect("theme");
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| crate::ui::draw(f, s, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_confirmation_that_takes_something_down_says_so_first() {
    let mut s = on_services(false);
    s.page_rows = 20;
    press(&mut s, key('s'));
    press(&mut s, code(KeyCode::Backspace));
    typed(&mut s, "0");
    press(&mut s, code(KeyCode::Enter));
    // Until it could be read, it offers no key but esc.
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("!! desired 0 stops every task of web"),
        "{screen}"
    );
    assert!(
        screen.contains("read it first: keys answer in a moment"),
        "{screen}"
    );
    assert!(!screen.contains("y send"), "{screen}");
    update(&mut s, Action::Drawn);
    let screen = render(&s, 80, 24);
    assert!(screen.contains("y send · n/esc cancel"), "{screen}");
    press(&mut s, code(KeyCode::Enter));
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("enter does not send: press y to send"),
        "{screen}"
    );
}

#[test]
fn operations_need_the_right_view() {
    let mut s = on_services(false);
    for c in ['n', 'F', 'm'] {
        assert!(press(&mut s, key(c)).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        assert!(
            s.flash.as_ref().is_some_and(|f| f.text.contains("select")),
            "{c}"
        );
    }
    update(&mut s, Action::Command(Command::Tasks));
    press(&mut s, key('s'));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn a_rollout_replaced_by_the_operators_next_change_is_superseded_not_failed() {
    let mut s = restarted();
    // The operator restarts again while the first one rolls out.
    press(&mut s, key('r'));
    press(&mut s, key('y'));
    assert_eq!(s.activity.len(), 2);
    services_loaded_later(
        &mut s,
        vec![
            deployment("newer", "PRIMARY", 42, 0, RolloutState::InProgress),
            deployment("new", "ACTIVE", 42, 1, RolloutState::InProgress),
        ],
        20,
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(
        matches!(w.status, WatchStatus::Superseded(_)),
        "{:?}",
        w.status
    );
    assert!(!w.status.is_failure());
    assert_eq!(s.flash.as_ref().map(|f| f.severity), Some(Severity::Info));
}

#[test]
fn a_scale_down_ends_when_the_surplus_tasks_have_stopped() {
    let mut s = on_services(false);
    press(&mut s, key('s'));
    press(&mut s, code(KeyCode::Backspace));
    typed(&mut s, "0");
    press(&mut s, code(KeyCode::Enter));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    s.now = t0() + chrono::TimeDelta::seconds(5);
    let at = s.now;
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Service(Box::new(service("web", 42, 2, 0)))),
            read_back: None,
        },
    );
    // ECS already says COMPLETED while a task still runs.
    let mut d = deployment("ecs-svc/web", "PRIMARY", 42, 1, RolloutState::Completed);
    d.desired_count = 0;
    d.pending_count = 0;
    services_loaded_later(&mut s, vec![d.clone()], 10);
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(!w.status.is_final(), "{:?}", w.status);
    d.running_count = 0;
    services_loaded_later(&mut s, vec![d], 20);
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(
        matches!(&w.status, WatchStatus::Completed(t) if t.contains("0/0 running")),
        "{:?}",
        w.status
    );
}

/// The fixture's state with one environment that names no cluster.
fn discovering() -> State {
    let config: Config = toml::from_str("").expect("empty config parses");
    let keymap = Keymap::from_config(&config).expect("default keymap");
    let cfg = EnvironmentConfig {
        clusters: Vec::new(),
        ..env_config("account")
    };
    let env = EnvState::from_config(&cfg, &RefreshIntervals::default(), false);
    State::new(vec![env], 0, keymap, t0())
}

fn poll_due(s: &mut State, resource: Resource) -> Vec<Effect> {
    update(s, Action::PollDue { env: 0, resource })
}

fn clusters_loaded(s: &mut State, result: Result<Vec<String>, BackendError>) -> Vec<Effect> {
    let generation = s.envs[0].discovered_clusters.generation;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::Clusters,
            generation,
            at,
            result: result.map(Data::Clusters),
        },
    )
}

/// The ECS fetches among `effects`: (resource, clusters).
fn ecs_fetches(effects: &[Effect]) -> Vec<(Resource, Vec<String>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Fetch {
                resource: r @ (Resource::Services | Resource::Scaling | Resource::Tasks),
                clusters,
                ..
            } => Some((*r, clusters.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn configured_clusters_are_fetched_and_never_discovered() {
    let mut s = state();
    assert!(poll_due(&mut s, Resource::Clusters).is_empty());
    assert_eq!(
        ecs_fetches(&poll_due(&mut s, Resource::Services)),
        vec![(Resource::Services, vec!["prod".to_string()])]
    );
    assert_eq!(s.envs[0].ecs_clusters(), Some(&["prod".to_string()][..]));
}

#[test]
fn without_clusters_every_cluster_is_discovered_then_read_and_refreshed() {
    let mut s = discovering();
    // Nothing to read services of until the clusters are known.
    for r in [
        Resource::Services,
        Resource::Scaling,
        Resource::Tasks,
        Resource::Targets,
    ] {
        assert!(poll_due(&mut s, r).is_empty(), "{r:?}");
    }
    assert_eq!(s.envs[0].ecs_clusters(), None);
    let effects = poll_due(&mut s, Resource::Clusters);
    assert_eq!(
        effects,
        vec![Effect::Fetch {
            env: 0,
            resource: Resource::Clusters,
            generation: 1,
            clusters: Vec::new(),
        }]
    );
    assert_eq!(s.envs[0].discovered_clusters.load, LoadState::Loading);

    // The first answer starts services, scaling and tasks of every cluster at once.
    let ab = vec!["a".to_string(), "b".to_string()];
    let effects = clusters_loaded(&mut s, Ok(ab.clone()));
    assert_eq!(
        ecs_fetches(&effects),
        vec![
            (Resource::Services, ab.clone()),
            (Resource::Scaling, ab.clone()),
            (Resource::Tasks, ab.clone()),
        ]
    );
    let generation = s.envs[0].services.generation;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation,
            at: t0(),
            result: Ok(Data::Services(Listing::complete(vec![service(
                "web", 1, 1, 1,
            )]))),
        },
    );

    // A refresh with the same list asks for nothing more.
    s.now = t0() + chrono::TimeDelta::seconds(30);
    assert_eq!(poll_due(&mut s, Resource::Clusters).len(), 1);
    assert!(ecs_fetches(&clusters_loaded(&mut s, Ok(ab.clone()))).is_empty());

    // A new cluster is read at once (tasks and scaling are still in
    // flight: their pollers' next turn takes it).
    poll_due(&mut s, Resource::Clusters);
    let abc = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    assert_eq!(
        ecs_fetches(&clusters_loaded(&mut s, Ok(abc.clone()))),
        vec![(Resource::Services, abc.clone())]
    );
    assert_eq!(s.envs[0].ecs_clusters(), Some(&abc[..]));

    // A failed refresh keeps the list it had, stale, and shows the error.
    poll_due(&mut s, Resource::Clusters);
    let denied = BackendError::Unauthorized {
        message: "ecs:ListClusters denied".into(),
        hint: None,
    };
    assert!(ecs_fetches(&clusters_loaded(&mut s, Err(denied.clone()))).is_empty());
    let e = &s.envs[0];
    assert_eq!(e.ecs_clusters(), Some(&abc[..]));
    assert!(e.discovered_clusters.is_stale());
    assert_eq!(e.errors(), vec![(Resource::Clusters, &denied)]);
}

#[test]
fn an_account_without_clusters_loads_empty_panels() {
    let mut s = discovering();
    poll_due(&mut s, Resource::Clusters);
    let effects = clusters_loaded(&mut s, Ok(Vec::new()));
    // Known to be none: the panels load (empty, no request sent), never
    // "loading" for ever.
    assert_eq!(
        ecs_fetches(&effects),
        vec![
            (Resource::Services, Vec::new()),
            (Resource::Scaling, Vec::new()),
            (Resource::Tasks, Vec::new()),
        ]
    );
    let e = &s.envs[0];
    assert_eq!(e.ecs_clusters(), Some(&[][..]));
    assert_eq!(e.discovered_clusters.load, LoadState::Loaded);
}

#[test]
fn a_failed_discovery_is_an_error_and_retried_with_backoff() {
    let mut s = discovering();
    poll_due(&mut s, Resource::Clusters);
    let down = BackendError::Unavailable {
        message: "connection refused".into(),
    };
    assert!(ecs_fetches(&clusters_loaded(&mut s, Err(down.clone()))).is_empty());
    let e = &s.envs[0];
    assert_eq!(e.ecs_clusters(), None);
    assert_eq!(e.errors(), vec![(Resource::Clusters, &down)]);
    // The services wait for the clusters; the poller backs off; ctrl-r retries.
    assert!(poll_due(&mut s, Resource::Services).is_empty());
    assert!(poll_due(&mut s, Resource::Clusters).is_empty());
    let ctrl_r = Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert!(update(&mut s, ctrl_r).iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Clusters,
            ..
        }
    )));
}

#[test]
fn an_operation_on_a_service_name_in_two_clusters_is_refused() {
    let mut s = discovering();
    poll_due(&mut s, Resource::Clusters);
    clusters_loaded(&mut s, Ok(vec!["prod".into(), "stg".into()]));
    let mut stg_web = service("web", 1, 2, 2);
    stg_web.arn = stg_web.arn.replace("/prod/", "/stg/");
    stg_web.cluster_arn = stg_web.cluster_arn.replace("/prod", "/stg");
    let generation = s.envs[0].services.generation;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation,
            at: t0(),
            result: Ok(Data::Services(Listing::complete(vec![
                service("web", 1, 2, 2),
                stg_web,
            ]))),
        },
    );
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('j'));
    assert!(press(&mut s, key('s')).is_empty());
    assert_eq!(s.mode, Mode::Normal, "no dialog");
    let flash = s
        .flash
        .as_ref()
        .map(|f| f.text.as_str())
        .unwrap_or_default();
    assert!(
        flash.contains("refused: web is in 2 clusters; name its cluster"),
        "{flash}"
    );
}

/// Credentials fixed: the first call that succeeds after the identity was
/// refused re-reads it at once, so the banner and `account ?` clear with
/// the data rather than minutes later; never more than every few seconds.
#[test]
fn a_success_after_an_auth_error_re_reads_the_identity_at_once() {
    let mut s = state();
    let loaded = |s: &mut State, resource: Resource, result: Result<Data, BackendError>| {
        let generation = match resource {
            Resource::Identity => s.envs[0].identity.generation,
            _ => s.envs[0].alarms.generation,
        };
        let at = s.now;
        update(
            s,
            Action::Loaded {
                env: 0,
                resource,
                generation,
                at,
                result,
            },
        )
    };
    let identity_fetches = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Fetch {
                        resource: Resource::Identity,
                        ..
                    }
                )
            })
            .count()
    };
    poll_due(&mut s, Resource::Identity);
    poll_due(&mut s, Resource::Alarms);
    let expired = BackendError::Unauthorized {
        message: "sts:GetCallerIdentity: no usable credentials (expired)".into(),
        hint: None,
    };
    loaded(&mut s, Resource::Identity, Err(expired.clone()));
    assert!(s.envs[0].identity.retry_at.is_some(), "backing off");
    // Fixed half a minute later: an alarms load succeeds, the identity is
    // asked for at once (despite its backoff).
    s.now += chrono::TimeDelta::seconds(30);
    let effects = loaded(&mut s, Resource::Alarms, Ok(Data::Alarms(Vec::new())));
    assert_eq!(identity_fetches(&effects), 1, "{effects:?}");
    // Still refused (say, only STS is denied): not again on every success.
    loaded(&mut s, Resource::Identity, Err(expired));
    s.now += chrono::TimeDelta::seconds(5);
    poll_due(&mut s, Resource::Alarms);
    let effects = loaded(&mut s, Resource::Alarms, Ok(Data::Alarms(Vec::new())));
    assert_eq!(identity_fetches(&effects), 0);
    // A failure that is not about credentials does not re-read it either.
    let mut s = state();
    poll_due(&mut s, Resource::Identity);
    poll_due(&mut s, Resource::Alarms);
    let down = BackendError::Unavailable {
        message: "connection refused".into(),
    };
    loaded(&mut s, Resource::Identity, Err(down));
    s.now += chrono::TimeDelta::seconds(30);
    let effects = loaded(&mut s, Resource::Alarms, Ok(Data::Alarms(Vec::new())));
    assert_eq!(identity_fetches(&effects), 0);
}

mod cloudfront;
mod codedeploy;
mod exec;
mod hosts;
mod input;
mod recovery;
mod redis;
mod sort;
mod timeline;

#[test]
fn a_stopped_task_is_followed_to_its_replacement_allowing_for_clock_skew() {
    use crate::domain::Task;
    use crate::watch::{WatchTarget, evaluate};
    let mut s = state();
    let now = s.now;
    let task = |id: &str, last: &str, created: Timestamp| Task {
        arn: format!("arn:aws:ecs:ap-northeast-1:1:task/prod/{id}"),
        cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
        task_definition: "arn:aws:ecs:ap-northeast-1:1:task-definition/web:1".into(),
        group: Some("service:web".into()),
        last_status: last.into(),
        desired_status: if last == "STOPPED" {
            "STOPPED"
        } else {
            "RUNNING"
        }
        .into(),
        health_status: "UNKNOWN".into(),
        availability_zone: None,
        launch_type: None,
        cpu: None,
        memory: None,
        created_at: Some(created),
        started_at: None,
        stopped_at: None,
        stop_code: None,
        stopped_reason: None,
        stopping_at: None,
        platform_version: None,
        private_ip: None,
        eni: None,
        enable_execute_command: false,
        containers: Vec::new(),
    };
    let old = now - chrono::TimeDelta::hours(2);
    let mut target = WatchTarget::StopTask {
        task: "arn:aws:ecs:ap-northeast-1:1:task/prod/aaaaaaaa11".into(),
        service: Some("web".into()),
        stopped: false,
    };
    let mut at = |s: &mut State, tasks: Vec<Task>| {
        s.envs[0].tasks.data = Some(tasks);
        s.envs[0].tasks.loaded_at = Some(now);
        evaluate(&mut target, &s.envs[0], now)
    };
    let status = at(
        &mut s,
        vec![
            task("aaaaaaaa11", "DEPROVISIONING", old),
            task("bbbbbbbb22", "RUNNING", old),
        ],
    );
    assert!(status.text().contains("DEPROVISIONING"), "{status:?}");
    assert!(!status.is_final());
    // Stopped; an old task of the service is not its replacement.
    let status = at(
        &mut s,
        vec![
            task("aaaaaaaa11", "STOPPED", old),
            task("bbbbbbbb22", "RUNNING", old),
        ],
    );
    assert!(status.text().contains("waiting for web"), "{status:?}");
    // AWS's clock a few seconds behind the console's: still the replacement.
    let skewed = now - chrono::TimeDelta::seconds(4);
    let status = at(
        &mut s,
        vec![
            task("aaaaaaaa11", "STOPPED", old),
            task("bbbbbbbb22", "RUNNING", old),
            task("cccccccc33", "RUNNING", skewed),
        ],
    );
    assert!(status.is_final() && !status.is_failure(), "{status:?}");
    assert!(status.text().contains("replacement cccccccc"), "{status:?}");
}
