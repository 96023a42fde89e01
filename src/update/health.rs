//! The reducer's part for alarms reaching the operator: every alarms load
//! is compared with the states seen before (a newly fired alarm is marked
//! until seen and may ring the bell; any state change fetches the metrics
//! at once), and an alarm on screen counts as seen. Services loads record
//! since when a service has been short of tasks (its health needs it).

use super::metrics::{self, Trigger};
use crate::action::Resource;
use crate::domain::Timestamp;
use crate::effect::Effect;
use crate::state::{State, View};

/// After a load of `resource` in `env` (data stamped `at`).
pub(super) fn after_load(
    state: &mut State,
    env: usize,
    resource: Resource,
    at: Timestamp,
) -> Vec<Effect> {
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    match resource {
        Resource::Services => {
            e.track_shortfalls(at);
            Vec::new()
        }
        Resource::Alarms => {
            let Some(alarms) = &e.panels.alarms.data else {
                return Vec::new();
            };
            let changes = e.alarm_watch.observe(alarms, at);
            if !changes.fired.is_empty() {
                tracing::info!(env = %e.name, fired = ?changes.fired, "alarms went into ALARM");
                if e.bell_on_alarm {
                    state.bell = true;
                }
            }
            // The header counts the whole fleet's alarms.
            if changes.any() {
                state.dirty = true;
            }
            if changes.changed.is_empty() {
                Vec::new()
            } else {
                metrics::poll(state, env, Trigger::AlarmChanged)
            }
        }
        _ => Vec::new(),
    }
}

/// The alarms view marks every alarm of its environment seen, an alarm's
/// detail that alarm.
pub(super) fn mark_seen(state: &mut State) {
    let active = state.active;
    let view = state.view().clone();
    let Some(e) = state.envs.get_mut(active) else {
        return;
    };
    let unseen = &mut e.alarm_watch.unseen;
    let seen = match view {
        View::Alarms if !unseen.is_empty() => {
            unseen.clear();
            true
        }
        View::AlarmDetail { alarm } => unseen.remove(&alarm),
        _ => false,
    };
    if seen {
        state.dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;
    use crate::action::{Action, Data};
    use crate::config::keys::Command;
    use crate::domain::{
        Alarm, AlarmState, Deployment, Listing, LoadBalancerRef, MetricRef, RolloutState, Service,
        TargetGroup, TargetHealth,
    };
    use crate::probe::ProbeReport;
    use crate::state::{Filter, ServiceHealth, ViewKind};
    use crate::update::update;

    const TG: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/prod-web/73e2";

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid time")
    }

    /// Production (protected) and staging, at `t0`.
    fn state() -> State {
        crate::update::tests::state_of(&["production", "staging"], t0())
    }

    fn deployment(status: &str, rollout: RolloutState, failed: u32) -> Deployment {
        Deployment {
            id: format!("ecs-svc/{status}"),
            status: status.into(),
            task_definition: "arn:aws:ecs:ap-northeast-1:1:task-definition/web:7".into(),
            desired_count: 2,
            running_count: 1,
            pending_count: 0,
            failed_tasks: failed,
            rollout_state: rollout,
            rollout_state_reason: None,
            created_at: t0() - TimeDelta::minutes(14),
            updated_at: t0(),
        }
    }

    fn service(name: &str, running: u32, desired: u32) -> Service {
        Service {
            arn: format!("arn:aws:ecs:ap-northeast-1:1:service/prod/{name}"),
            name: name.into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            launch_type: None,
            task_definition: format!("arn:aws:ecs:ap-northeast-1:1:task-definition/{name}:7"),
            deployments: vec![Deployment {
                running_count: running,
                desired_count: desired,
                ..deployment("PRIMARY", RolloutState::Completed, 0)
            }],
            events: Vec::new(),
            load_balancers: Vec::new(),
            created_at: None,
            circuit_breaker: None,
            deployment_controller: crate::domain::DeploymentController::Ecs,
            strategy: None,
            service_deployment: None,
        }
    }

    fn alarm(name: &str, state: AlarmState, muted: bool) -> Alarm {
        Alarm {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:ap-northeast-1:1:alarm:{name}"),
            description: None,
            state,
            state_reason: "Threshold Crossed".into(),
            state_updated_at: t0(),
            actions_enabled: !muted,
            composite: false,
            metric: Some(MetricRef {
                namespace: "AWS/ECS".into(),
                name: "CPUUtilization".into(),
                dimensions: vec![
                    ("ClusterName".into(), "prod".into()),
                    ("ServiceName".into(), "web".into()),
                ],
                statistic: Some("Average".into()),
                unit: Some("Percent".into()),
            }),
            comparison: Some("GreaterThanThreshold".into()),
            threshold: Some(80.0),
            period_seconds: Some(60),
            evaluation_periods: Some(1),
        }
    }

    /// A poll of `resource` in `env` answered with `data` at `state.now`.
    fn load(state: &mut State, env: usize, resource: Resource, data: Data) -> Vec<Effect> {
        let mut effects = update(state, Action::PollDue { env, resource });
        // Target health may be in flight already (asked for with the
        // services): its answer is the one for the current generation.
        let generation = match resource {
            Resource::Targets => state.envs[env].targets.generation,
            _ => effects
                .iter()
                .find_map(|e| match e {
                    Effect::Fetch {
                        resource: r,
                        generation,
                        ..
                    } if *r == resource => Some(*generation),
                    _ => None,
                })
                .expect("a fetch"),
        };
        effects.extend(update(
            state,
            Action::Loaded {
                env,
                resource,
                generation,
                at: state.now,
                result: Ok(data),
            },
        ));
        effects
    }

    fn services(state: &mut State, list: Vec<Service>) {
        load(
            state,
            0,
            Resource::Services,
            Data::Services(Listing::complete(list)),
        );
    }

    fn alarms(state: &mut State, env: usize, list: Vec<Alarm>) -> Vec<Effect> {
        load(state, env, Resource::Alarms, Data::Alarms(list))
    }

    fn health_of(state: &State, name: &str) -> ServiceHealth {
        let env = &state.envs[0];
        let s = state.service(name).expect("listed");
        env.service_health(s, state.now)
    }

    fn tick(state: &mut State, by: TimeDelta) {
        let now = state.now + by;
        update(state, Action::Tick(now));
    }

    #[test]
    fn failed_tasks_of_the_current_rollout_make_a_service_failing() {
        // Staging's api after 28 failed tasks in 14 minutes (no breaker).
        let mut s = state();
        let mut api = service("api", 1, 2);
        api.deployments = vec![
            deployment("PRIMARY", RolloutState::InProgress, 28),
            deployment("ACTIVE", RolloutState::Completed, 0),
        ];
        services(&mut s, vec![service("web", 2, 2), api]);
        assert_eq!(health_of(&s, "api"), ServiceHealth::Failing);
        let verdict = s.envs[0].service_verdict(s.service("api").expect("api"), s.now);
        assert_eq!(
            verdict.why.as_deref(),
            Some("28 tasks failed in the current rollout")
        );
        let summary = s.envs[0].summary(s.now);
        assert_eq!(
            (
                summary.services_healthy,
                summary.services_failing,
                summary.services_deploying
            ),
            (1, 1, 0),
            "not `1/2 ok +1 deploying`"
        );
        // Worst first, and the `health:` filter term knows the word.
        let names: Vec<&str> = s
            .visible_services()
            .iter()
            .map(|x| x.name.as_str())
            .collect();
        assert_eq!(names, ["api", "web"]);
        let api = s.service("api").expect("api");
        assert!(Filter::parse("health:failing").matches_service(api, ServiceHealth::Failing));
        assert!(!Filter::parse("health:ok").matches_service(api, ServiceHealth::Failing));
        // A rollout without failures is deploying.
        let mut web = service("web", 2, 2);
        web.deployments[0].rollout_state = RolloutState::InProgress;
        services(&mut s, vec![web]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Deploying);
    }

    #[test]
    fn a_tripped_circuit_breaker_makes_a_service_failing_while_it_rolls_back() {
        let mut s = state();
        let mut web = service("web", 2, 2);
        web.deployments = vec![
            deployment("PRIMARY", RolloutState::InProgress, 0),
            Deployment {
                rollout_state_reason: Some(
                    "ECS deployment circuit breaker: tasks failed to start.".into(),
                ),
                ..deployment("ACTIVE", RolloutState::Failed, 3)
            },
        ];
        services(&mut s, vec![web]);
        let env = &s.envs[0];
        let verdict = env.service_verdict(s.service("web").expect("web"), s.now);
        assert_eq!(verdict.health, ServiceHealth::Failing);
        assert_eq!(
            verdict.why.as_deref(),
            Some("ECS deployment circuit breaker: tasks failed to start. (rolling back)")
        );
    }

    #[test]
    fn a_shortfall_beyond_the_grace_period_is_failing() {
        let mut s = state();
        services(&mut s, vec![service("web", 1, 2)]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Degraded);
        tick(&mut s, TimeDelta::minutes(3));
        services(&mut s, vec![service("web", 1, 2)]);
        assert_eq!(
            health_of(&s, "web"),
            ServiceHealth::Degraded,
            "within the grace"
        );
        tick(&mut s, TimeDelta::minutes(2));
        assert_eq!(
            health_of(&s, "web"),
            ServiceHealth::Failing,
            "5 minutes since the data first showed it"
        );
        // Back to full strength, then short again: a new grace.
        services(&mut s, vec![service("web", 2, 2)]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Ok);
        services(&mut s, vec![service("web", 1, 2)]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Degraded);
        // Nothing running at all is failing at once.
        services(&mut s, vec![service("web", 0, 2)]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Failing);
    }

    #[test]
    fn unhealthy_targets_make_a_service_degraded() {
        let mut s = state();
        let mut web = service("web", 2, 2);
        web.load_balancers = vec![LoadBalancerRef {
            target_group_arn: Some(TG.into()),
            container_name: None,
            container_port: None,
        }];
        services(&mut s, vec![web]);
        let target = |id: &str, state: &str| TargetHealth {
            id: id.into(),
            port: Some(3000),
            availability_zone: None,
            state: state.into(),
            reason: None,
            description: None,
        };
        let group = |states: [&str; 2]| TargetGroup {
            arn: TG.into(),
            name: "prod-web".into(),
            protocol: None,
            port: None,
            health_check_path: Some("/api/health".into()),
            load_balancer_arns: Vec::new(),
            targets: vec![target("10.0.1.1", states[0]), target("10.0.2.1", states[1])],
        };
        load(
            &mut s,
            0,
            Resource::Targets,
            Data::Targets(vec![group(["healthy", "healthy"])]),
        );
        assert_eq!(health_of(&s, "web"), ServiceHealth::Ok);
        load(
            &mut s,
            0,
            Resource::Targets,
            Data::Targets(vec![group(["healthy", "unhealthy"])]),
        );
        let verdict = s.envs[0].service_verdict(s.service("web").expect("web"), s.now);
        assert_eq!(verdict.health, ServiceHealth::Degraded);
        assert_eq!(verdict.why.as_deref(), Some("1/2 targets unhealthy"));
        assert_eq!(s.envs[0].summary(s.now).services_degraded, 1);
    }

    #[test]
    fn an_alarm_on_a_services_metric_makes_it_degraded() {
        let mut s = state();
        services(&mut s, vec![service("web", 2, 2), service("api", 2, 2)]);
        alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Ok, false)]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Ok);
        // Muted or not, it is in ALARM.
        alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Alarm, true)]);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Degraded);
        assert_eq!(health_of(&s, "api"), ServiceHealth::Ok);
        let why = s.envs[0]
            .service_verdict(s.service("web").expect("web"), s.now)
            .why;
        assert_eq!(why.as_deref(), Some("alarm web-cpu in ALARM"));
    }

    /// A state whose production has an HTTP check of service `web`.
    fn with_probe() -> State {
        let mut s = state();
        let cfg = crate::config::EnvironmentConfig {
            health_checks: vec![crate::config::HealthCheckConfig {
                service: Some("web".into()),
                ..crate::config::HealthCheckConfig::new("https://works-logue.com/api/health")
            }],
            ..crate::update::tests::env_config("production")
        };
        s.envs[0] = crate::state::EnvState::from_config(
            &cfg,
            &crate::config::RefreshIntervals::default(),
            false,
        );
        s
    }

    fn probe(s: &mut State, status: u16) {
        let effects = update(s, Action::ProbeDue { env: 0, probe: 0 });
        let generation = effects
            .iter()
            .find_map(|e| match e {
                Effect::Probe { generation, .. } => Some(*generation),
                _ => None,
            })
            .expect("a probe");
        update(
            s,
            Action::ProbeDone {
                env: 0,
                probe: 0,
                generation,
                at: s.now,
                report: ProbeReport {
                    latency: Some(std::time::Duration::from_millis(30)),
                    outcome: Ok(status),
                    body: String::new(),
                },
            },
        );
    }

    #[test]
    fn a_failing_http_check_makes_its_service_degraded() {
        let mut s = with_probe();
        services(&mut s, vec![service("web", 2, 2), service("api", 2, 2)]);
        probe(&mut s, 200);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Ok);
        probe(&mut s, 503);
        assert_eq!(health_of(&s, "web"), ServiceHealth::Degraded);
        assert_eq!(health_of(&s, "api"), ServiceHealth::Ok, "not its check");
        let why = s.envs[0]
            .service_verdict(s.service("web").expect("web"), s.now)
            .why
            .unwrap_or_default();
        assert!(why.contains("503"), "{why}");
    }

    #[test]
    fn a_service_scaled_to_zero_is_not_ok() {
        let mut s = with_probe();
        services(&mut s, vec![service("web", 0, 0), service("api", 2, 2)]);
        probe(&mut s, 503);
        assert_eq!(health_of(&s, "web"), ServiceHealth::ScaledToZero);
        let summary = s.envs[0].summary(s.now);
        assert_eq!(summary.services_healthy, 1);
        assert_eq!(summary.services_scaled_to_zero, 1);
        assert_eq!(ServiceHealth::ScaledToZero.word(), "scaled to 0");
    }

    #[test]
    fn muted_alarms_in_alarm_are_counted() {
        let mut s = state();
        alarms(
            &mut s,
            0,
            vec![
                alarm("web-cpu", AlarmState::Alarm, true),
                alarm("web-5xx", AlarmState::Ok, false),
                alarm("jobs", AlarmState::InsufficientData, false),
            ],
        );
        let summary = s.envs[0].summary(s.now);
        assert_eq!(summary.alarms_firing, 1, "muted, still in ALARM");
        assert_eq!(summary.alarms_muted, 1);
        assert_eq!(summary.alarms_insufficient, 1);
        // A filter of the alarms view hides nothing from the counts.
        s.filters.insert(ViewKind::Alarms, "5xx".into());
        assert_eq!(s.envs[0].summary(s.now).alarms_firing, 1);
    }

    #[test]
    fn a_fired_alarm_is_new_until_seen_and_rings_the_bell_where_configured() {
        let mut s = state();
        // Already firing at start: not new, no bell.
        alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Alarm, false)]);
        alarms(&mut s, 1, vec![alarm("stg-cpu", AlarmState::Ok, false)]);
        assert!(!s.bell);
        assert!(s.envs[0].alarm_watch.unseen.is_empty());

        // Staging (not protected: no bell by default) fires.
        alarms(&mut s, 1, vec![alarm("stg-cpu", AlarmState::Alarm, false)]);
        assert!(!s.bell, "staging does not ring by default");
        assert!(s.envs[1].alarm_watch.is_new("stg-cpu"));
        assert!(s.dirty, "the header counts the fleet");

        // Production (protected) fires while the operator is elsewhere.
        alarms(
            &mut s,
            0,
            vec![
                alarm("web-cpu", AlarmState::Alarm, false),
                alarm("web-5xx", AlarmState::Alarm, false),
            ],
        );
        assert!(s.bell, "a protected environment rings");
        assert!(s.envs[0].alarm_watch.is_new("web-5xx"));
        assert!(!s.envs[0].alarm_watch.is_new("web-cpu"));

        // Opening the alarms view sees production's, not staging's.
        update(&mut s, Action::Command(Command::Alarms));
        assert!(s.envs[0].alarm_watch.unseen.is_empty());
        assert!(s.envs[1].alarm_watch.is_new("stg-cpu"));

        // The alarms view, now of staging, sees staging's.
        update(&mut s, Action::Command(Command::NextEnvironment));
        assert!(!s.envs[1].alarm_watch.is_new("stg-cpu"));
        // An alarm's detail sees that alarm.
        update(&mut s, Action::Command(Command::Overview));
        alarms(
            &mut s,
            1,
            vec![
                alarm("stg-cpu", AlarmState::Ok, false),
                alarm("stg-5xx", AlarmState::Ok, false),
            ],
        );
        alarms(
            &mut s,
            1,
            vec![
                alarm("stg-cpu", AlarmState::Alarm, false),
                alarm("stg-5xx", AlarmState::Alarm, false),
            ],
        );
        assert_eq!(s.envs[1].summary(s.now).alarms_new, 2);
        s.views.push(crate::state::View::AlarmDetail {
            alarm: "stg-cpu".into(),
        });
        let now = s.now;
        update(&mut s, Action::Tick(now));
        assert!(!s.envs[1].alarm_watch.is_new("stg-cpu"));
        assert!(s.envs[1].alarm_watch.is_new("stg-5xx"));
    }

    #[test]
    fn the_bell_follows_bell_on_alarm() {
        let mut s = state();
        s.envs[0].bell_on_alarm = false;
        s.envs[1].bell_on_alarm = true;
        alarms(&mut s, 0, vec![alarm("a", AlarmState::Ok, false)]);
        alarms(&mut s, 1, vec![alarm("b", AlarmState::Ok, false)]);
        alarms(&mut s, 0, vec![alarm("a", AlarmState::Alarm, false)]);
        assert!(!s.bell);
        alarms(&mut s, 1, vec![alarm("b", AlarmState::Alarm, false)]);
        assert!(s.bell);
    }

    #[test]
    fn resolved_alarms_are_kept_for_an_hour() {
        let mut s = state();
        alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Alarm, false)]);
        tick(&mut s, TimeDelta::minutes(5));
        let mut ok = alarm("web-cpu", AlarmState::Ok, false);
        ok.state_updated_at = s.now;
        alarms(&mut s, 0, vec![ok.clone()]);
        let resolved_at = s.now;
        assert_eq!(
            s.envs[0].alarm_watch.resolved_at("web-cpu", s.now),
            Some(resolved_at)
        );
        tick(&mut s, TimeDelta::minutes(61));
        alarms(&mut s, 0, vec![ok]);
        assert_eq!(s.envs[0].alarm_watch.resolved_at("web-cpu", s.now), None);
    }

    #[test]
    fn an_alarm_state_change_fetches_the_metrics_at_once() {
        let mut s = state();
        services(&mut s, vec![service("web", 2, 2)]);
        load(&mut s, 0, Resource::Databases, Data::Databases(Vec::new()));
        let first = alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Ok, false)]);
        let fetches = |effects: &[Effect]| {
            effects
                .iter()
                .filter(|e| matches!(e, Effect::FetchMetrics { env: 0, .. }))
                .count()
        };
        assert_eq!(fetches(&first), 1, "the first metrics request");
        // Answered; then an alarms poll without a change asks for nothing.
        let (generation, now, range) = (s.envs[0].metrics.generation, s.now, s.metric_range);
        update(
            &mut s,
            Action::Loaded {
                env: 0,
                resource: Resource::Metrics,
                generation,
                at: now,
                result: Ok(Data::Metrics(crate::metrics::MetricsData {
                    range,
                    start: now - TimeDelta::hours(1),
                    end: now,
                    queries: Vec::new(),
                    series: Vec::new(),
                })),
            },
        );
        tick(&mut s, TimeDelta::seconds(15));
        let same = alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Ok, false)]);
        assert_eq!(fetches(&same), 0);
        // It goes into ALARM: the chart's data is fetched now, not in 60 s.
        tick(&mut s, TimeDelta::seconds(15));
        let fired = alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Alarm, false)]);
        assert_eq!(fetches(&fired), 1, "{fired:?}");
        assert!(s.envs[0].metrics.in_flight);
        // Even with a request in flight (it may predate the change).
        tick(&mut s, TimeDelta::seconds(15));
        let back = alarms(&mut s, 0, vec![alarm("web-cpu", AlarmState::Ok, false)]);
        assert_eq!(fetches(&back), 1);
    }
}
