//! EC2 hosts' reboot, stop and start in the reducer: the hosts view's keys
//! acting on the highlighted host by its id, the preview naming the exact
//! call, the typed confirmation of a protected environment (the host's
//! Name, else its id), the read-only refusal, a state that makes no sense
//! refused, a double key press sending once, keys typed ahead never
//! answering the confirmation, the watch to the end state with timeline
//! events, and a lost answer read back.

use super::*;
use crate::action::OpOutcome;
use crate::domain::{CheckStatus, Instance, PowerAction};
use crate::ops::Operation;
use crate::state::{Dialog, Selection};
use crate::watch::{WatchStatus, WatchTarget};

const APP1: &str = "i-0a3f9c27e81b4d5f6";
const APP2: &str = "i-07c1e6b94d2a8f350";

fn host(id: &str, name: Option<&str>, state: &str, checks: CheckStatus) -> Instance {
    Instance {
        id: id.into(),
        name: name.map(str::to_string),
        state: state.into(),
        instance_type: "t4g.medium".into(),
        availability_zone: Some("ap-northeast-1a".into()),
        private_ip: Some("10.0.1.24".into()),
        launched_at: Some(t0() - chrono::TimeDelta::days(38)),
        system_status: checks,
        instance_status: checks,
    }
}

fn two_hosts(app1_state: &str) -> Vec<Instance> {
    let checks = if app1_state == "running" {
        CheckStatus::Ok
    } else {
        CheckStatus::NotApplicable
    };
    vec![
        host(APP1, Some("app-prod-1"), app1_state, checks),
        host(APP2, Some("app-prod-2"), "running", CheckStatus::Ok),
    ]
}

fn load_hosts(s: &mut State, hosts: Vec<Instance>, secs: i64) -> Vec<Effect> {
    s.now = t0() + chrono::TimeDelta::seconds(secs);
    let generation = s.envs[0].instances.generation;
    s.envs[0].instances.in_flight = true;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::Instances,
            generation,
            at,
            result: Ok(Data::Instances(hosts)),
        },
    )
}

/// `name` with two EC2 hosts, on the hosts view, app-prod-1 highlighted.
fn on_hosts(name: &str, app1_state: &str) -> State {
    let mut s = state_of(&[name], t0());
    s.envs[0].ec2_hosts = crate::domain::InstanceFilter {
        ids: Vec::new(),
        tags: [("Name".to_string(), "app-prod-*".to_string())].into(),
    };
    load_hosts(&mut s, two_hosts(app1_state), 0);
    update(&mut s, Action::Command(Command::Hosts));
    assert_eq!(s.view(), &View::Hosts);
    assert_eq!(s.selection(), Selection::Id(APP1.into()));
    s
}

fn confirm_op(s: &State) -> &Operation {
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => op,
        other => panic!("expected the confirmation, got {other:?}"),
    }
}

fn flash_text(s: &State) -> String {
    s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
}

fn done(s: &mut State, outcome: Instance) -> Vec<Effect> {
    let id = s.activity[0].id.clone();
    let at = s.now;
    update(
        s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Instance(Box::new(outcome))),
            read_back: None,
        },
    )
}

#[test]
fn stop_in_a_protected_environment_previews_the_call_and_wants_the_host_name_typed() {
    let mut s = on_hosts("production", "running");
    assert!(press(&mut s, key('S')).is_empty());
    let op = confirm_op(&s).clone();
    assert_eq!(
        op,
        Operation::Host {
            instance: APP1.into(),
            name: Some("app-prod-1".into()),
            action: PowerAction::Stop,
            state: "running".into(),
        }
    );
    assert_eq!(
        op.calls(),
        vec![format!("ec2:StopInstances InstanceIds=[{APP1}]")]
    );
    assert!(op.is_dangerous());
    assert!(op.outage().is_some_and(|o| o.contains("app-prod-1")));
    // y is text here; enter without the name says what to type.
    assert!(operations(&press(&mut s, key('y'))).is_empty());
    press(&mut s, code(KeyCode::Backspace));
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(matches!(
        &s.mode,
        Mode::Dialog(Dialog::Confirm { error: Some(e), .. }) if e.contains("production/app-prod-1")
    ));
    // The id is not the name asked for.
    typed(&mut s, &format!("production/{APP1}"));
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(s.mode.is_confirmation());
    for _ in 0..format!("production/{APP1}").len() {
        press(&mut s, code(KeyCode::Backspace));
    }
    typed(&mut s, "production/app-prod-1");
    let effects = press(&mut s, code(KeyCode::Enter));
    let sent = operations(&effects);
    assert_eq!(sent.len(), 1, "sent once: {effects:?}");
    assert_eq!(sent[0].0, &op, "what was previewed is what is sent");
    assert_eq!(s.mode, Mode::Normal);
    // A second S while it is being sent is refused: nothing more is sent.
    assert!(press(&mut s, key('S')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(flash_text(&s).contains("being sent"), "{}", flash_text(&s));
}

#[test]
fn a_host_whose_name_is_shared_is_confirmed_by_its_id() {
    let mut s = state_of(&["production"], t0());
    s.envs[0].ec2_hosts = crate::domain::InstanceFilter {
        ids: Vec::new(),
        tags: [("Role".to_string(), "app".to_string())].into(),
    };
    load_hosts(
        &mut s,
        vec![
            host(APP1, Some("app"), "running", CheckStatus::Ok),
            host(APP2, Some("app"), "running", CheckStatus::Ok),
        ],
        0,
    );
    update(&mut s, Action::Command(Command::Hosts));
    let selected = match s.selection() {
        Selection::Id(id) => id,
        other => panic!("{other:?}"),
    };
    press(&mut s, key('F'));
    let op = confirm_op(&s).clone();
    assert_eq!(op.confirmed_name(), selected);
    assert_eq!(
        op.calls(),
        vec![format!("ec2:RebootInstances InstanceIds=[{selected}]")]
    );
}

#[test]
fn reboot_and_start_act_on_the_highlighted_host_by_its_id() {
    let mut s = on_hosts("staging", "stopped");
    // The second row: app-prod-2, running.
    press(&mut s, key('j'));
    press(&mut s, key('F'));
    assert!(matches!(
        confirm_op(&s),
        Operation::Host { instance, action: PowerAction::Reboot, .. } if instance == APP2
    ));
    press(&mut s, code(KeyCode::Esc));
    // Back to app-prod-1, stopped: T starts it.
    press(&mut s, key('k'));
    press(&mut s, key('T'));
    let op = confirm_op(&s).clone();
    assert_eq!(
        op.calls(),
        vec![format!("ec2:StartInstances InstanceIds=[{APP1}]")]
    );
    assert!(!op.is_dangerous(), "a start takes nothing down");
    let effects = press(&mut s, key('y'));
    assert_eq!(operations(&effects).len(), 1);
}

#[test]
fn a_state_that_makes_no_sense_is_refused_with_the_reason() {
    let mut s = on_hosts("staging", "running");
    assert!(press(&mut s, key('T')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        flash_text(&s).contains("already running: nothing to start"),
        "{}",
        flash_text(&s)
    );
    let mut s = on_hosts("staging", "stopped");
    assert!(press(&mut s, key('S')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        flash_text(&s).contains("already stopped: nothing to stop"),
        "{}",
        flash_text(&s)
    );
    assert!(press(&mut s, key('F')).is_empty());
    assert!(
        flash_text(&s).contains("started, not rebooted"),
        "{}",
        flash_text(&s)
    );
    let mut s = on_hosts("staging", "stopping");
    assert!(press(&mut s, key('T')).is_empty());
    assert!(
        flash_text(&s).contains("wait until it is stopped"),
        "{}",
        flash_text(&s)
    );
    assert!(s.activity.is_empty());
}

#[test]
fn a_read_only_environment_refuses_every_host_operation_with_the_reason() {
    let mut s = on_hosts("staging", "running");
    s.envs[0].read_only = true;
    for k in ['F', 'S', 'T'] {
        assert!(press(&mut s, key(k)).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        assert!(
            flash_text(&s).contains("read-only"),
            "{k}: {}",
            flash_text(&s)
        );
    }
    assert!(s.activity.is_empty());
}

#[test]
fn stop_and_start_keys_mean_nothing_outside_the_hosts_view() {
    let mut s = on_hosts("staging", "running");
    update(&mut s, Action::Command(Command::Databases));
    assert!(press(&mut s, key('S')).is_empty());
    assert!(press(&mut s, key('T')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.activity.is_empty());
}

#[test]
fn keys_typed_ahead_never_answer_the_host_confirmation() {
    let mut s = on_hosts("staging", "running");
    // `S y` in one burst: the y arrives before the dialog was drawn.
    let mut effects = update(&mut s, key('S'));
    effects.extend(update(&mut s, key('y')));
    effects.extend(update(&mut s, code(KeyCode::Enter)));
    assert!(operations(&effects).is_empty(), "{effects:?}");
    assert!(s.mode.is_confirmation());
    // Once drawn, y sends it, once; a second y finds no dialog.
    update(&mut s, Action::Drawn);
    let mut effects = update(&mut s, key('y'));
    effects.extend(press(&mut s, key('y')));
    assert_eq!(operations(&effects).len(), 1, "{effects:?}");
}

#[test]
fn a_stop_is_followed_until_stopped_with_timeline_events() {
    let mut s = on_hosts("staging", "running");
    press(&mut s, key('S'));
    press(&mut s, key('y'));
    let effects = done(
        &mut s,
        host(APP1, Some("app-prod-1"), "stopping", CheckStatus::Ok),
    );
    // The hosts are read again at once.
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Instances,
            ..
        }
    )));
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert_eq!(
        w.target,
        WatchTarget::Host {
            instance: APP1.into(),
            action: PowerAction::Stop,
            seen_busy: false
        }
    );
    let mut stopping = two_hosts("running");
    stopping[0].state = "stopping".into();
    load_hosts(&mut s, stopping, 20);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::InProgress { text, .. } if text.contains("stopping")),
        "{:?}",
        w.status
    );
    load_hosts(&mut s, two_hosts("stopped"), 60);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::Completed(t) if t.contains("stopped")),
        "{:?}",
        w.status
    );
    assert!(!s.activity[0].is_active());
    let kinds: Vec<(&str, &str)> = s.envs[0]
        .timeline
        .iter()
        .filter(|e| e.kind == "host_state")
        .map(|e| (e.resource.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (APP1, "app-prod-1 running → stopping"),
            (APP1, "app-prod-1 stopping → stopped, checks -"),
        ]
    );
    assert!(
        s.envs[0]
            .timeline
            .iter()
            .any(|e| e.kind == "operation" && e.calls.iter().any(|c| c.contains("StopInstances")))
    );
}

#[test]
fn a_start_is_followed_until_running_with_both_checks_ok() {
    let mut s = on_hosts("staging", "stopped");
    press(&mut s, key('T'));
    press(&mut s, key('y'));
    done(
        &mut s,
        host(
            APP1,
            Some("app-prod-1"),
            "pending",
            CheckStatus::NotApplicable,
        ),
    );
    let mut hosts = two_hosts("running");
    hosts[0].system_status = CheckStatus::Initializing;
    hosts[0].instance_status = CheckStatus::Initializing;
    load_hosts(&mut s, hosts, 40);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::InProgress { text, .. } if text.contains("initializing")),
        "{:?}",
        w.status
    );
    load_hosts(&mut s, two_hosts("running"), 160);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::Completed(t) if t.contains("2/2 ok")),
        "{:?}",
        w.status
    );
}

#[test]
fn a_reboot_whose_checks_fail_again_is_said_to_have_failed() {
    let mut s = on_hosts("staging", "running");
    press(&mut s, key('F'));
    press(&mut s, key('y'));
    done(
        &mut s,
        host(
            APP1,
            Some("app-prod-1"),
            "running",
            CheckStatus::Initializing,
        ),
    );
    let mut hosts = two_hosts("running");
    hosts[0].system_status = CheckStatus::Initializing;
    hosts[0].instance_status = CheckStatus::Initializing;
    load_hosts(&mut s, hosts, 20);
    let mut hosts = two_hosts("running");
    hosts[0].instance_status = CheckStatus::Impaired;
    load_hosts(&mut s, hosts, 120);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::Failed(t) if t.contains("impaired")),
        "{:?}",
        w.status
    );
}

/// A reboot leaves the host running with its checks read ok until EC2
/// runs them again: that old reading does not complete the watch; ok
/// read REBOOT_SETTLE after the reboot does.
#[test]
fn a_reboot_is_not_complete_on_the_checks_of_before_it() {
    let mut s = on_hosts("staging", "running");
    press(&mut s, key('F'));
    press(&mut s, key('y'));
    done(
        &mut s,
        host(APP1, Some("app-prod-1"), "running", CheckStatus::Ok),
    );
    load_hosts(&mut s, two_hosts("running"), 20);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::InProgress { text, .. } if text.contains("not yet run again")),
        "{:?}",
        w.status
    );
    load_hosts(&mut s, two_hosts("running"), 150);
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::Completed(t) if t.contains("2/2 ok")),
        "{:?}",
        w.status
    );
}

#[test]
fn a_lost_answer_read_back_as_applied_is_followed_like_an_answer() {
    let mut s = on_hosts("staging", "running");
    press(&mut s, key('S'));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    let at = s.now;
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Instance(Box::new(host(
                APP1,
                Some("app-prod-1"),
                "stopping",
                CheckStatus::Ok,
            )))),
            read_back: Some(crate::reconcile::ReadBack {
                unanswered: "ec2:StopInstances: no answer within 30s".into(),
                verdict: crate::reconcile::Verdict::Applied,
                evidence: format!("{APP1} is stopping"),
            }),
        },
    );
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(matches!(
        w.target,
        WatchTarget::Host {
            action: PowerAction::Stop,
            ..
        }
    ));
}

const TG: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:271839465024:targetgroup/app-prod-web/93c4a1e7d6b20f58";

fn target_group(states: &[(&str, &str)]) -> crate::domain::TargetGroup {
    crate::domain::TargetGroup {
        arn: TG.into(),
        name: "app-prod-web".into(),
        protocol: Some("HTTP".into()),
        port: Some(3000),
        health_check_path: Some("/health".into()),
        load_balancer_arns: Vec::new(),
        targets: states
            .iter()
            .map(|(id, state)| crate::domain::TargetHealth {
                id: (*id).into(),
                port: Some(3000),
                availability_zone: None,
                state: (*state).into(),
                reason: None,
                description: None,
            })
            .collect(),
    }
}

fn load_targets(s: &mut State, groups: Vec<crate::domain::TargetGroup>) {
    let generation = s.envs[0].targets.generation;
    s.envs[0].targets.in_flight = true;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::Targets,
            generation,
            at,
            result: Ok(Data::Targets(groups)),
        },
    );
}

/// A host that runs with both checks ok but is unhealthy in its target
/// group does not look healthy: failing, listed first, not counted ok by
/// the overview and the fleet; draining is degraded; healthy is ok.
#[test]
fn a_running_host_unhealthy_in_its_target_group_does_not_look_healthy() {
    let mut s = on_hosts("staging", "running");
    s.envs[0].ec2_target_groups = vec![TG.into()];
    assert_eq!(s.envs[0].target_group_arns(), vec![TG.to_string()]);
    assert!(s.envs[0].reads(Resource::Targets));
    load_targets(
        &mut s,
        vec![target_group(&[(APP1, "healthy"), (APP2, "unhealthy")])],
    );
    let e = &s.envs[0];
    let hosts = e.instances.data.clone().unwrap_or_default();
    let app2 = hosts.iter().find(|i| i.id == APP2).expect("app-prod-2");
    assert_eq!(
        app2.health(),
        crate::domain::InstanceHealth::Ok,
        "its checks"
    );
    assert_eq!(
        e.host_health(app2),
        crate::domain::InstanceHealth::Failing,
        "its target"
    );
    let summary = e.summary(s.now);
    assert_eq!((summary.hosts_ok, summary.hosts_total), (1, 2));
    let first = s.visible_instances().first().map(|i| i.id.clone());
    assert_eq!(first.as_deref(), Some(APP2), "failing first");
    let report = crate::status::judge_env(&s.envs[0], s.now, std::time::Duration::from_secs(20));
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r == "host app-prod-2 unhealthy in app-prod-web"),
        "{:?}",
        report.reasons
    );
    assert_eq!(report.state, crate::status::Level::Critical);
    let where_ = s.envs[0].host_targets(APP2);
    assert_eq!(where_.len(), 1);
    assert_eq!(where_[0].0.name, "app-prod-web");

    load_targets(
        &mut s,
        vec![target_group(&[(APP1, "healthy"), (APP2, "draining")])],
    );
    let app2 = hosts.iter().find(|i| i.id == APP2).expect("app-prod-2");
    assert_eq!(
        s.envs[0].host_health(app2),
        crate::domain::InstanceHealth::Degraded
    );
    load_targets(
        &mut s,
        vec![target_group(&[(APP1, "healthy"), (APP2, "healthy")])],
    );
    assert_eq!(s.envs[0].summary(s.now).hosts_ok, 2);
}

/// The one GetMetricData of the environment asks for each host's CPU, once
/// the hosts have answered.
#[test]
fn the_metrics_poll_asks_for_each_hosts_cpu() {
    let mut s = on_hosts("staging", "running");
    let queries = crate::metrics::queries(
        &s.envs[0],
        crate::metrics::MetricRange::Hour,
        crate::backend::METRIC_QUERIES_PER_POLL,
    );
    for id in [APP1, APP2] {
        assert!(
            queries.iter().any(|q| q.is(
                "AWS/EC2",
                "CPUUtilization",
                &[("InstanceId".to_string(), id.to_string())],
                "Average"
            )),
            "{id}: {queries:?}"
        );
    }
    // Not before the hosts answered, in an environment that has hosts.
    s.envs[0].instances = crate::panel::Panel::default();
    load_services(&mut s, Vec::new());
    let generation = s.envs[0].databases.generation;
    s.envs[0].databases.in_flight = true;
    let at = s.now;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Databases,
            generation,
            at,
            result: Ok(Data::Databases(Vec::new())),
        },
    );
    let generation = s.envs[0].alarms.generation;
    s.envs[0].alarms.in_flight = true;
    let effects = update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Alarms,
            generation,
            at,
            result: Ok(Data::Alarms(Vec::new())),
        },
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchMetrics { .. })),
        "waits for the hosts: {effects:?}"
    );
    let effects = load_hosts(&mut s, two_hosts("running"), 5);
    let asked = effects.iter().find_map(|e| match e {
        Effect::FetchMetrics { queries, .. } => Some(queries.clone()),
        _ => None,
    });
    let asked = asked.expect("asked once the hosts answered");
    assert!(asked.iter().any(|q| q.namespace == "AWS/EC2"), "{asked:?}");
}
