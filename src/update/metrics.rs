//! The reducer's part for metric history and alarm triage: the batched
//! metrics poll (one request per environment per interval), the range key,
//! the alarm detail view with its history, and the jump from an alarm to
//! the resource it watches.

use chrono::{DurationRound, TimeDelta};

use super::{flash, open_service};
use crate::action::Resource;
use crate::backend::{BackendError, METRIC_QUERIES_PER_POLL};
use crate::domain::{AlarmHistoryItem, Timestamp};
use crate::effect::Effect;
use crate::metrics::{Watched, queries, watched};
use crate::request::Ask;
use crate::state::{EnvState, LoadState, Severity, State, View, ViewKind};

/// Who asks for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    /// The poller's interval (skipped while a request is in flight or the
    /// panel backs off after failures).
    Poller,
    /// `ctrl-r`: skipped while a request is in flight; its failure does
    /// not push the poller's backoff.
    Manual,
    /// The range changed: the data in flight is for the old range.
    Range,
    /// An alarm changed state: its metric is wanted now, not at the next
    /// interval (a request in flight may predate the change).
    AlarmChanged,
}

/// Whether what the query set is derived from has been answered (or has
/// failed), so that the first request asks for everything at once.
fn sources_settled(e: &EnvState) -> bool {
    let settled = |r: Resource| {
        let m = e.panel_meta(r);
        m.loaded_at.is_some() || matches!(m.load, LoadState::Failed(_))
    };
    // The services name most charts: wait for them, unless there is no
    // cluster to read them from or finding the clusters failed.
    let ecs = match e.ecs_clusters() {
        Some([]) => true,
        Some(_) => settled(Resource::Services),
        None => settled(Resource::Clusters),
    };
    // The hosts name their CPU charts, where the environment has some;
    // the Redis groups their nodes' charts.
    let hosts = !e.reads(Resource::Instances) || settled(Resource::Instances);
    let redis = !e.reads(Resource::ReplicationGroups) || settled(Resource::ReplicationGroups);
    ecs && hosts && redis && settled(Resource::Databases) && settled(Resource::Alarms)
}

/// Starts the one `GetMetricData` of an environment for everything it
/// charts, unless there is nothing to ask for.
pub(super) fn poll(state: &mut State, env: usize, trigger: Trigger) -> Vec<Effect> {
    if !state.polls(Resource::Metrics) {
        return Vec::new();
    }
    let now = state.now;
    let range = state.metric_range;
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    if trigger == Trigger::Poller && !sources_settled(e) {
        return Vec::new();
    }
    let queries = queries(e, range, METRIC_QUERIES_PER_POLL);
    if queries.is_empty() {
        return Vec::new();
    }
    let ask = match trigger {
        Trigger::Range | Trigger::AlarmChanged => Ask::Supersede,
        // ctrl-r does nothing more while a request is in flight.
        Trigger::Manual => Ask::Manual,
        Trigger::Poller => Ask::Poller,
    };
    let Some(generation) = e.metrics.try_begin(now, ask) else {
        return Vec::new();
    };
    let (start, end) = window(now, range);
    if env == state.active {
        state.dirty = true;
    }
    vec![Effect::FetchMetrics {
        env,
        generation,
        range,
        start,
        end,
        queries,
    }]
}

/// `[start, end)` of a range ending at the last whole minute.
pub fn window(now: Timestamp, range: crate::metrics::MetricRange) -> (Timestamp, Timestamp) {
    let end = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
    (end - range.duration(), end)
}

/// After a source of the query set loaded: the first metrics request, once
/// every source has answered.
pub(super) fn after_load(state: &mut State, env: usize, resource: Resource) -> Vec<Effect> {
    if !matches!(
        resource,
        Resource::Clusters
            | Resource::Services
            | Resource::Databases
            | Resource::Alarms
            | Resource::Instances
            | Resource::ReplicationGroups
    ) {
        return Vec::new();
    }
    let Some(e) = state.envs.get(env) else {
        return Vec::new();
    };
    if e.metrics.requested_at.is_some() || !sources_settled(e) {
        return Vec::new();
    }
    poll(state, env, Trigger::Poller)
}

/// `R`: the next range, fetched at once for every environment.
pub(super) fn switch_range(state: &mut State) -> Vec<Effect> {
    state.metric_range = state.metric_range.next();
    let text = format!("charts: the last {}", state.metric_range.label());
    flash(state, &text, Severity::Info);
    let mut effects = Vec::new();
    for env in 0..state.envs.len() {
        effects.extend(poll(state, env, Trigger::Range));
    }
    effects
}

/// `enter` on an alarm: its detail view, with its history fetched.
pub(super) fn open_alarm(state: &mut State) -> Vec<Effect> {
    let crate::state::Selection::Id(name) = state.selection() else {
        return Vec::new();
    };
    if !state.visible_alarms().iter().any(|a| a.name == name) {
        return Vec::new();
    }
    state.views.push(View::AlarmDetail {
        alarm: name.clone(),
    });
    fetch_history(state, state.active, &name)
}

fn fetch_history(state: &mut State, env: usize, alarm: &str) -> Vec<Effect> {
    let now = state.now;
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    let panel = e.alarm_history.entry(alarm.to_string()).or_default();
    let Some(generation) = panel.try_begin(now, Ask::WhenIdle) else {
        return Vec::new();
    };
    vec![Effect::FetchAlarmHistory {
        env,
        alarm: alarm.to_string(),
        generation,
    }]
}

pub(super) fn on_history(
    state: &mut State,
    env: usize,
    alarm: &str,
    generation: u64,
    at: Timestamp,
    result: Result<Vec<AlarmHistoryItem>, BackendError>,
) -> Vec<Effect> {
    let Some(panel) = state
        .envs
        .get_mut(env)
        .and_then(|e| e.alarm_history.get_mut(alarm))
    else {
        return Vec::new();
    };
    if !panel.request.is_current(generation) {
        return Vec::new();
    }
    if let Err(err) = &result {
        tracing::warn!(env, alarm, error = %err, "alarm history fetch failed");
    }
    panel.apply(generation, at, result.map(|v| (v, Vec::new())));
    if env == state.active {
        state.dirty = true;
    }
    Vec::new()
}

/// `enter` in the alarm detail: to the resource the alarm watches.
pub(super) fn jump(state: &mut State, alarm: &str) -> Vec<Effect> {
    let Some(env) = state.env() else {
        return Vec::new();
    };
    let Some(a) = env.alarms.data.iter().flatten().find(|a| a.name == alarm) else {
        flash(
            state,
            &format!("alarm {alarm} is no longer listed"),
            Severity::Error,
        );
        return Vec::new();
    };
    let Some(metric) = &a.metric else {
        flash(
            state,
            "a composite alarm watches other alarms, not a resource",
            Severity::Info,
        );
        return Vec::new();
    };
    match watched(env, metric) {
        Watched::Service(name) if state.service(&name).is_some() => open_service(state, &name),
        Watched::Service(name) => {
            flash(
                state,
                &format!("service {name} is not listed in this environment"),
                Severity::Error,
            );
            Vec::new()
        }
        Watched::Database(id) => {
            state.filters.remove(&ViewKind::Databases);
            state.views.push(View::Databases);
            match state.visible_databases().iter().position(|d| d.id == id) {
                Some(i) => state.select_row(i),
                None => flash(
                    state,
                    &format!("database {id} is not listed in this environment"),
                    Severity::Error,
                ),
            }
            Vec::new()
        }
        Watched::Host(id) => {
            state.filters.remove(&ViewKind::Hosts);
            state.views.push(View::Hosts);
            match state.visible_instances().iter().position(|i| i.id == id) {
                Some(i) => state.select_row(i),
                None => flash(
                    state,
                    &format!("EC2 host {id} is not listed in this environment"),
                    Severity::Error,
                ),
            }
            Vec::new()
        }
        Watched::Redis(id) => {
            state.filters.remove(&ViewKind::Redis);
            state.views.push(View::Redis);
            match state
                .visible_replication_groups()
                .iter()
                .position(|g| g.id == id)
            {
                Some(i) => state.select_row(i),
                None => flash(
                    state,
                    &format!("replication group {id} is not listed in this environment"),
                    Severity::Error,
                ),
            }
            Vec::new()
        }
        Watched::Other(what) => {
            flash(
                state,
                &format!("this alarm watches {what}, which the console has no view of"),
                Severity::Info,
            );
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::action::{Action, Data};
    use crate::domain::{
        Alarm, AlarmState, DbInstance, LoadBalancerRef, MetricRef, MetricSeries, Service,
    };
    use crate::metrics::MetricRange;
    use crate::update::update;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 30)
            .single()
            .expect("valid time")
    }

    const TG: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/prod-web/73e2";

    fn state() -> State {
        crate::update::tests::state_of(&["production"], t0())
    }

    fn service(name: &str, tg: Option<&str>) -> Service {
        Service {
            arn: format!("arn:aws:ecs:ap-northeast-1:1:service/prod/{name}"),
            name: name.into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            desired_count: 2,
            running_count: 2,
            pending_count: 0,
            launch_type: None,
            task_definition: format!("arn:aws:ecs:ap-northeast-1:1:task-definition/{name}:1"),
            deployments: Vec::new(),
            events: Vec::new(),
            load_balancers: tg
                .map(|arn| LoadBalancerRef {
                    target_group_arn: Some(arn.into()),
                    container_name: None,
                    container_port: None,
                })
                .into_iter()
                .collect(),
            created_at: None,
            circuit_breaker: None,
            deployment_controller: crate::domain::DeploymentController::Ecs,
            strategy: None,
            service_deployment: None,
        }
    }

    fn db(id: &str) -> DbInstance {
        DbInstance {
            id: id.into(),
            arn: format!("arn:aws:rds:ap-northeast-1:1:db:{id}"),
            engine: "postgres".into(),
            engine_version: "16".into(),
            class: "db.t4g.medium".into(),
            status: "available".into(),
            multi_az: false,
            availability_zone: None,
            secondary_availability_zone: None,
            allocated_storage_gib: 20,
            storage_type: None,
            backup_retention_days: 1,
            endpoint: None,
            port: None,
            replica_source: None,
            replicas: Vec::new(),
            pending_modifications: Vec::new(),
            latest_restorable_time: None,
            created_at: None,
            settings: crate::domain::DbSettings::default(),
        }
    }

    fn alarm(name: &str, state: AlarmState, namespace: &str, dims: &[(&str, &str)]) -> Alarm {
        Alarm {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:ap-northeast-1:1:alarm:{name}"),
            description: None,
            state,
            state_reason: "Threshold Crossed".into(),
            state_updated_at: t0(),
            actions_enabled: true,
            composite: false,
            metric: Some(MetricRef {
                namespace: namespace.into(),
                name: "M".into(),
                dimensions: dims
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                    .collect(),
                statistic: Some("Sum".into()),
                unit: None,
            }),
            comparison: Some("GreaterThanThreshold".into()),
            threshold: Some(10.0),
            period_seconds: Some(60),
            evaluation_periods: Some(1),
        }
    }

    fn load(state: &mut State, resource: Resource, data: Data) -> Vec<Effect> {
        let mut effects = update(state, Action::PollDue { env: 0, resource });
        let generation = match resource {
            Resource::Services => state.envs[0].services.generation,
            Resource::Databases => state.envs[0].databases.generation,
            _ => state.envs[0].alarms.generation,
        };
        effects.extend(update(
            state,
            Action::Loaded {
                env: 0,
                resource,
                generation,
                at: t0(),
                result: Ok(data),
            },
        ));
        effects
    }

    fn metric_fetches(effects: &[Effect]) -> Vec<(MetricRange, Timestamp, Timestamp, usize)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::FetchMetrics {
                    range,
                    start,
                    end,
                    queries,
                    ..
                } => Some((*range, *start, *end, queries.len())),
                _ => None,
            })
            .collect()
    }

    /// Services, a database and alarms on a target group and on the DB.
    fn loaded() -> (State, Vec<Effect>) {
        let mut s = state();
        let mut effects = Vec::new();
        effects.extend(update(
            &mut s,
            Action::PollDue {
                env: 0,
                resource: Resource::Metrics,
            },
        ));
        assert!(
            metric_fetches(&effects).is_empty(),
            "nothing to ask for before the sources answered"
        );
        effects.extend(load(
            &mut s,
            Resource::Services,
            Data::Services(crate::domain::Listing::complete(vec![
                service("api", None),
                service("web", Some(TG)),
            ])),
        ));
        effects.extend(load(
            &mut s,
            Resource::Databases,
            Data::Databases(vec![db("prod-db")]),
        ));
        effects.extend(load(
            &mut s,
            Resource::Alarms,
            Data::Alarms(vec![
                alarm(
                    "web-5xx",
                    AlarmState::Alarm,
                    "AWS/ApplicationELB",
                    &[
                        ("LoadBalancer", "app/alb/50dc"),
                        ("TargetGroup", "targetgroup/prod-web/73e2"),
                    ],
                ),
                alarm(
                    "db-connections",
                    AlarmState::Ok,
                    "AWS/RDS",
                    &[("DBInstanceIdentifier", "prod-db")],
                ),
            ]),
        ));
        (s, effects)
    }

    #[test]
    fn one_batched_request_once_the_sources_answered_and_the_range_key_refetches() {
        let (mut s, effects) = loaded();
        let fetches = metric_fetches(&effects);
        // 2 services × 2 + 1 DB × 3 + 1 target group × 3 + 2 alarms.
        assert_eq!(fetches.len(), 1, "{effects:?}");
        let (range, start, end, n) = fetches[0];
        assert_eq!(range, MetricRange::Hour);
        assert_eq!(n, 4 + 3 + 3 + 2);
        assert_eq!(end, t0() - TimeDelta::seconds(30), "the last whole minute");
        assert_eq!(end - start, TimeDelta::hours(1));
        // A poller tick while in flight asks for nothing more.
        let again = update(
            &mut s,
            Action::PollDue {
                env: 0,
                resource: Resource::Metrics,
            },
        );
        assert!(metric_fetches(&again).is_empty());

        // R: the next range at once, superseding the request in flight.
        let before = s.envs[0].metrics.generation;
        let effects = update(
            &mut s,
            Action::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)),
        );
        assert_eq!(s.metric_range, MetricRange::ThreeHours);
        let fetches = metric_fetches(&effects);
        assert_eq!(fetches.len(), 1);
        assert_eq!(fetches[0].0, MetricRange::ThreeHours);
        assert_eq!(fetches[0].2 - fetches[0].1, TimeDelta::hours(3));
        assert_eq!(s.envs[0].metrics.generation, before + 1);
        for _ in 0..3 {
            update(
                &mut s,
                Action::Command(crate::config::keys::Command::MetricRange),
            );
        }
        assert_eq!(s.metric_range, MetricRange::Hour, "wraps around");
    }

    #[test]
    fn a_target_groups_series_are_found_by_its_dimension() {
        let (s, _) = loaded();
        let queries = crate::metrics::queries(&s.envs[0], MetricRange::Hour, 2000);
        let series: Vec<MetricSeries> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| MetricSeries {
                id: q.id.clone(),
                label: q.name.clone(),
                unit: None,
                points: vec![(t0(), i as f64)],
            })
            .collect();
        let data = crate::metrics::MetricsData {
            range: MetricRange::Hour,
            start: t0() - TimeDelta::hours(1),
            end: t0(),
            queries: queries.clone(),
            series,
        };
        let dim = crate::metrics::target_group_dimension(TG);
        for (name, stat) in crate::metrics::ALB_METRICS {
            let found = data.target_group(dim, name).expect(name);
            let q = queries.iter().find(|q| q.id == found.id).expect("query");
            assert_eq!((q.name.as_str(), q.statistic.as_str()), (name, stat));
            assert_eq!(q.period_seconds, 60);
            assert!(
                q.dimensions
                    .contains(&("TargetGroup".to_string(), dim.to_string()))
            );
        }
        assert!(
            data.target_group("targetgroup/other/1", "RequestCount")
                .is_none()
        );
        assert!(data.target_group(dim, "CPUUtilization").is_none());
    }

    #[test]
    fn mute_from_the_alarm_detail_confirms_that_alarm() {
        let (mut s, _) = loaded();
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::Alarms),
        );
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::Select),
        );
        assert_eq!(
            s.view(),
            &View::AlarmDetail {
                alarm: "web-5xx".into()
            }
        );
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::MuteAlarm),
        );
        match &s.mode {
            crate::state::Mode::Dialog(crate::state::Dialog::Confirm {
                op: crate::ops::Operation::AlarmActions { alarm, enable },
                ..
            }) => {
                assert_eq!(alarm, "web-5xx");
                assert!(!enable, "actions are enabled: m disables them");
            }
            other => panic!("expected the mute confirmation, got {other:?}"),
        }
    }

    #[test]
    fn an_alarm_opens_its_detail_and_enter_jumps_to_what_it_watches() {
        let (mut s, _) = loaded();
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::Alarms),
        );
        // ALARM first: web-5xx.
        let effects = update(
            &mut s,
            Action::Command(crate::config::keys::Command::Select),
        );
        assert_eq!(
            s.view(),
            &View::AlarmDetail {
                alarm: "web-5xx".into()
            }
        );
        let generation = match effects.as_slice() {
            [
                Effect::FetchAlarmHistory {
                    alarm, generation, ..
                },
            ] if alarm == "web-5xx" => *generation,
            other => panic!("expected one history fetch, got {other:?}"),
        };
        // moto answers DescribeAlarmHistory with a 500: a panel state.
        update(
            &mut s,
            Action::AlarmHistoryLoaded {
                env: 0,
                alarm: "web-5xx".into(),
                generation,
                at: t0(),
                result: Err(BackendError::Unavailable {
                    message: "HTTP 500".into(),
                }),
            },
        );
        assert!(matches!(
            s.envs[0].alarm_history["web-5xx"].load,
            LoadState::Failed(_)
        ));
        assert_eq!(
            s.view(),
            &View::AlarmDetail {
                alarm: "web-5xx".into()
            }
        );

        // The target group's service.
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::Select),
        );
        assert_eq!(
            s.view(),
            &View::ServiceDetail {
                service: "web".into()
            }
        );
        // esc: back to the alarm, back to the list.
        update(&mut s, Action::Command(crate::config::keys::Command::Back));
        assert_eq!(
            s.view(),
            &View::AlarmDetail {
                alarm: "web-5xx".into()
            }
        );
        update(&mut s, Action::Command(crate::config::keys::Command::Back));
        assert_eq!(s.view(), &View::Alarms);

        // The DB alarm leads to the databases with the instance selected.
        update(&mut s, Action::Command(crate::config::keys::Command::Down));
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::Select),
        );
        assert_eq!(
            s.view(),
            &View::AlarmDetail {
                alarm: "db-connections".into()
            }
        );
        update(
            &mut s,
            Action::Command(crate::config::keys::Command::Select),
        );
        assert_eq!(s.view(), &View::Databases);
        let selected = s.visible_databases()[s.selected(ViewKind::Databases)]
            .id
            .clone();
        assert_eq!(selected, "prod-db");
    }
}
