//! Tests of the simulated environment, on a manual clock and a fixed seed.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;
use crate::backend::{BackendError, ImageChange, ServiceUpdate};
use crate::domain::{Alarm, DbInstance};
use crate::domain::{AlarmState, CircuitBreaker, Deployment, Health, RolloutState, Timestamp};

const PROD: &str = "works-logue-prod";
const STG: &str = "works-logue-stg";
const SEED: u64 = 20_261_123;

fn start() -> Timestamp {
    "2026-11-23T03:00:00Z".parse().expect("a time")
}

fn sim(world: &str, seed: u64) -> (SimBackend, Clock) {
    let clock = Clock::manual(start());
    let backend = SimBackend::new(world, seed, clock.clone()).expect("the world exists");
    (backend, clock)
}

/// A quiet world: only what the test does happens.
fn quiet(world: &str) -> (SimBackend, Clock) {
    let (b, clock) = sim(world, SEED);
    b.set_chaos(false);
    (b, clock)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

async fn services(b: &SimBackend, cluster: &str) -> Vec<Service> {
    b.services(cluster).await.expect("services").items
}

async fn service(b: &SimBackend, cluster: &str, name: &str) -> Service {
    services(b, cluster)
        .await
        .into_iter()
        .find(|s| s.name == name)
        .expect("the service")
}

async fn tasks(b: &SimBackend, cluster: &str) -> Vec<Task> {
    b.tasks(cluster).await.expect("tasks").items
}

async fn tasks_of(b: &SimBackend, cluster: &str, name: &str) -> Vec<Task> {
    tasks(b, cluster)
        .await
        .into_iter()
        .filter(|t| t.service_name() == Some(name))
        .collect()
}

async fn db(b: &SimBackend, id: &str) -> DbInstance {
    b.db_instances(&[id.to_string()])
        .await
        .expect("the instance")
        .remove(0)
}

/// The counts services and deployments report agree with the task list.
fn assert_consistent(services: &[Service], tasks: &[Task]) {
    for s in services {
        let mine: Vec<&Task> = tasks
            .iter()
            .filter(|t| t.service_name() == Some(s.name.as_str()))
            .collect();
        let running = mine.iter().filter(|t| t.last_status == "RUNNING").count() as u32;
        let pending = mine
            .iter()
            .filter(|t| {
                matches!(
                    t.last_status.as_str(),
                    "PROVISIONING" | "PENDING" | "ACTIVATING"
                )
            })
            .count() as u32;
        assert_eq!(s.running_count, running, "running count of {}", s.name);
        assert_eq!(s.pending_count, pending, "pending count of {}", s.name);
        // A CODE_DEPLOY service's deployments are CodeDeploy's (ECS lists
        // none).
        if s.is_code_deploy() {
            assert!(s.deployments.is_empty(), "{}", s.name);
            continue;
        }
        let by_deployments: u32 = s.deployments.iter().map(|d| d.running_count).sum();
        assert_eq!(
            by_deployments, running,
            "deployment running counts of {}",
            s.name
        );
        let by_deployments: u32 = s.deployments.iter().map(|d| d.pending_count).sum();
        assert_eq!(
            by_deployments, pending,
            "deployment pending counts of {}",
            s.name
        );
        let primaries: Vec<&Deployment> = s
            .deployments
            .iter()
            .filter(|d| d.status == "PRIMARY")
            .collect();
        assert_eq!(primaries.len(), 1, "one PRIMARY deployment of {}", s.name);
        assert_eq!(primaries[0].desired_count, s.desired_count);
        assert_eq!(primaries[0].task_definition, s.task_definition);
        assert!(s.events.len() <= 100);
        assert!(
            s.events
                .windows(2)
                .all(|e| e[0].created_at >= e[1].created_at),
            "events of {} newest first",
            s.name
        );
        for t in &mine {
            assert_eq!(
                t.desired_status == "RUNNING",
                running_or_starting(t),
                "{t:?}"
            );
        }
    }
}

fn running_or_starting(t: &Task) -> bool {
    matches!(
        t.last_status.as_str(),
        "PROVISIONING" | "PENDING" | "ACTIVATING" | "RUNNING"
    )
}

fn is_hex32(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

// ------------------------------------------------------------------ worlds

#[test]
fn worlds_are_listed_with_what_the_console_needs() {
    assert_eq!(world_names(), vec!["production", "staging", "ec2-prod"]);
    let worlds = worlds();
    assert_eq!(worlds.len(), 3);
    // The EC2 hosts' world is opened by `--world ec2-prod` only.
    assert_eq!(
        worlds.iter().map(|w| w.demo).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert!(worlds[2].clusters.is_empty());
    assert_eq!(
        worlds[2].ec2_tags.get("Name").map(String::as_str),
        Some("app-prod-*")
    );
    let prod = &worlds[0];
    assert_eq!(prod.name, "production");
    assert_eq!(prod.region, "ap-northeast-1");
    assert_eq!(prod.clusters, vec![PROD.to_string()]);
    assert!(prod.protected);
    assert!(!prod.health_checks.is_empty());
    assert!(!worlds[1].protected);
    assert_eq!(worlds[1].clusters, vec![STG.to_string()]);
}

#[test]
fn an_unknown_world_is_an_error() {
    let err = SimBackend::new("nowhere", 1, Clock::manual(start())).expect_err("no such world");
    assert!(matches!(err, SimError::UnknownWorld { .. }));
    assert!(err.to_string().contains("production"), "{err}");
}

#[tokio::test]
#[allow(clippy::float_cmp, reason = "a target value set, not computed")]
async fn the_initial_production_world_matches_the_description() {
    let (b, _clock) = sim("production", SEED);
    assert_eq!(b.account(), "538291746102");
    assert_eq!(b.region(), "ap-northeast-1");
    let me = b.caller_identity().await.expect("identity");
    assert_eq!(me.account, "538291746102");
    assert_eq!(
        me.arn,
        "arn:aws:sts::538291746102:assumed-role/OnCallOperator/honban-demo"
    );

    let clusters = b.clusters(&[]).await.expect("clusters");
    assert_eq!(clusters.items.len(), 1);
    let c = &clusters.items[0];
    assert_eq!(
        (
            c.name.as_str(),
            c.active_services,
            c.running_tasks,
            c.pending_tasks
        ),
        (PROD, 3, 6, 0)
    );
    assert_eq!(
        b.list_clusters().await.expect("list clusters"),
        vec![PROD.to_string()]
    );

    let all = services(&b, PROD).await;
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "worker"]);
    let revisions = [
        "works-logue-prod-web:42",
        "works-logue-prod-api:27",
        "works-logue-prod-worker:17",
    ];
    for (s, rev) in all.iter().zip(revisions) {
        assert_eq!(
            (s.desired_count, s.running_count, s.pending_count),
            (2, 2, 0),
            "{}",
            s.name
        );
        assert!(s.task_definition.ends_with(rev), "{}", s.task_definition);
        assert_eq!(s.deployments.len(), 1);
        let d = &s.deployments[0];
        assert_eq!(d.rollout_state, RolloutState::Completed);
        assert!(d.id.starts_with("ecs-svc/") && d.id.len() == 27, "{}", d.id);
        assert_eq!(
            d.rollout_state_reason,
            Some(format!("ECS deployment {} completed.", d.id))
        );
        assert_eq!(s.health(), Health::Ok);
        assert_eq!(
            s.events[0].message,
            format!("(service {}) has reached a steady state.", s.name)
        );
        assert!(
            s.events
                .iter()
                .any(|e| e.message.contains("deployment completed"))
                || s.events.len() == 100
        );
        assert_eq!(
            s.circuit_breaker,
            Some(CircuitBreaker {
                enable: true,
                rollback: true
            })
        );
    }
    assert!(
        all[0].load_balancers[0]
            .target_group_arn
            .as_deref()
            .is_some_and(|a| a.ends_with(":targetgroup/works-logue-prod-web/73e2d6bc24d8a067"))
    );
    assert!(all[2].load_balancers.is_empty());

    let ts = tasks(&b, PROD).await;
    assert_consistent(&all, &ts);
    assert_eq!(ts.iter().filter(|t| t.last_status == "RUNNING").count(), 6);
    let azs: BTreeSet<&str> = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"].into();
    for t in ts.iter().filter(|t| t.last_status == "RUNNING") {
        assert!(is_hex32(t.id()), "{}", t.id());
        assert_eq!(
            t.arn,
            format!(
                "arn:aws:ecs:ap-northeast-1:538291746102:task/{PROD}/{}",
                t.id()
            )
        );
        assert!(azs.contains(t.availability_zone.as_deref().unwrap_or("")));
        assert_eq!(t.health_status, "HEALTHY");
        assert_eq!(t.launch_type.as_deref(), Some("FARGATE"));
    }
    let web: Vec<&Task> = ts
        .iter()
        .filter(|t| t.service_name() == Some("web"))
        .collect();
    assert_eq!(web[0].cpu.as_deref(), Some("512"));
    assert_eq!(web[0].memory.as_deref(), Some("1024"));
    assert_eq!(web[0].containers.len(), 2);
    assert!(
        web[0].containers[0]
            .image
            .ends_with("/works-logue/web:2026.11.21-7c1e9a2")
    );
    // The worker task that ran out of memory 23 minutes ago is still listed.
    let stopped: Vec<&Task> = ts.iter().filter(|t| t.last_status == "STOPPED").collect();
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].service_name(), Some("worker"));
    assert_eq!(
        stopped[0].stop_code.as_deref(),
        Some("EssentialContainerExited")
    );
    assert_eq!(stopped[0].containers[0].exit_code, Some(137));
    assert!(
        stopped[0].containers[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("OutOfMemoryError"))
    );

    let td = b
        .task_definition(&all[0].task_definition)
        .await
        .expect("web:42");
    assert_eq!(
        (td.family.as_str(), td.revision, td.status.as_str()),
        ("works-logue-prod-web", 42, "ACTIVE")
    );
    assert_eq!(td.requires_compatibilities, ["FARGATE"]);
    let web_container = &td.containers[0];
    assert_eq!(web_container.port_mappings, [3000]);
    assert_eq!(
        web_container.log_group.as_deref(),
        Some("/ecs/works-logue-prod-web")
    );
    assert!(web_container.secrets.iter().all(
        |(_, arn)| arn.starts_with("arn:aws:") && arn.contains(":ap-northeast-1:538291746102:")
    ));
    let revs = b
        .task_definition_revisions("works-logue-prod-web")
        .await
        .expect("revisions");
    let numbers: Vec<&str> = revs
        .iter()
        .map(|a| a.rsplit(':').next().unwrap_or(""))
        .collect();
    assert_eq!(numbers, ["42", "41", "40", "39", "38"]);

    let targets = b.scalable_targets(&[PROD.into()]).await.expect("targets");
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0].resource_id, format!("service/{PROD}/web"));
    assert_eq!((targets[0].min_capacity, targets[0].max_capacity), (2, 10));
    assert_eq!(
        targets[0].policies[0].metric,
        "ECSServiceAverageCPUUtilization"
    );
    assert_eq!(targets[0].policies[0].target_value, 70.0);
    assert_eq!((targets[1].min_capacity, targets[1].max_capacity), (2, 8));

    let dbs = b.db_instances(&[]).await.expect("instances");
    assert_eq!(dbs.len(), 2);
    let primary = &dbs[0];
    assert_eq!(primary.id, "works-logue-prod-db");
    assert_eq!(
        (primary.engine.as_str(), primary.class.as_str()),
        ("postgres", "db.r6g.large")
    );
    assert!(primary.engine_version.starts_with("16."));
    assert!(primary.multi_az);
    assert_eq!(
        primary.secondary_availability_zone.as_deref(),
        Some("ap-northeast-1c")
    );
    assert_eq!(
        (primary.allocated_storage_gib, primary.backup_retention_days),
        (100, 7)
    );
    assert_eq!(primary.replicas, ["works-logue-prod-db-replica"]);
    assert_eq!(primary.status, "available");
    assert!(
        primary
            .endpoint
            .as_deref()
            .is_some_and(|e| e.ends_with(".ap-northeast-1.rds.amazonaws.com"))
    );
    assert_eq!(
        dbs[1].replica_source.as_deref(),
        Some("works-logue-prod-db")
    );

    let snaps = b.db_snapshots(&[]).await.expect("snapshots");
    assert_eq!(
        snaps.iter().filter(|s| s.snapshot_type == "manual").count(),
        3
    );
    assert_eq!(
        snaps
            .iter()
            .filter(|s| s.snapshot_type == "automated")
            .count(),
        7
    );
    assert!(
        snaps
            .iter()
            .all(|s| s.status == "available" && s.percent_progress == Some(100))
    );
    assert!(snaps.windows(2).all(|p| p[0].created_at >= p[1].created_at));

    let alarms = b.alarms(&[]).await.expect("alarms");
    assert!(alarms.len() >= 14);
    for a in &alarms {
        assert_eq!(a.state, AlarmState::Ok, "{}: {}", a.name, a.state_reason);
        assert!(
            a.state_reason.starts_with("Threshold Crossed: "),
            "{}",
            a.state_reason
        );
        assert!(a.state_updated_at < start());
        assert!(a.name.starts_with("works-logue-prod-"));
        assert!(a.metric.is_some());
    }
    let db_alarms = b
        .alarms(&["works-logue-prod-db-".to_string()])
        .await
        .expect("alarms");
    assert_eq!(db_alarms.len(), 4);

    let cpu = b
        .metric_history(
            "AWS/ECS",
            "CPUUtilization",
            &[
                ("ServiceName".into(), "web".into()),
                ("ClusterName".into(), PROD.into()),
            ],
        )
        .expect("web CPU");
    assert_eq!(cpu.points.len(), 1440);
    assert!(cpu.points.iter().all(|(_, v)| (0.0..=100.0).contains(v)));
    assert!(b.metric_history("AWS/ECS", "CPUUtilization", &[]).is_none());
}

#[tokio::test]
async fn staging_is_smaller_and_has_an_alarm_without_data() {
    let (b, _clock) = sim("staging", SEED);
    assert_ne!(b.account(), "538291746102");
    let all = services(&b, STG).await;
    assert_eq!(all.len(), 3);
    // web and api, one task each; backend (two) is CodeDeploy's.
    assert!(
        all.iter()
            .filter(|s| s.name != "backend")
            .all(|s| s.desired_count == 1 && s.running_count == 1)
    );
    let d = db(&b, "works-logue-stg-db").await;
    assert!(!d.multi_az);
    assert_eq!(d.class, "db.t4g.medium");
    let alarms = b.alarms(&[]).await.expect("alarms");
    let no_data: Vec<&Alarm> = alarms
        .iter()
        .filter(|a| a.state == AlarmState::InsufficientData)
        .collect();
    assert_eq!(no_data.len(), 1);
    assert_eq!(no_data[0].name, "works-logue-stg-jobs-failed");
    assert!(alarms.iter().filter(|a| a.state == AlarmState::Ok).count() >= 4);
}

// ------------------------------------------------------------- determinism

#[tokio::test]
async fn the_same_seed_and_times_give_the_same_world() {
    let (a, clock_a) = sim("production", 7);
    let (b, clock_b) = sim("production", 7);
    let mut at_15_minutes = None;
    for i in 1..=40 {
        clock_a.advance(secs(45));
        clock_b.advance(secs(45));
        assert_eq!(services(&a, PROD).await, services(&b, PROD).await);
        assert_eq!(tasks(&a, PROD).await, tasks(&b, PROD).await);
        assert_eq!(a.alarms(&[]).await, b.alarms(&[]).await);
        assert_eq!(a.db_instances(&[]).await, b.db_instances(&[]).await);
        if i == 20 {
            at_15_minutes = Some((tasks(&a, PROD).await, a.alarms(&[]).await));
        }
    }
    // However often it is asked (within the 15 minutes one call catches up).
    let (c, clock_c) = sim("production", 7);
    clock_c.advance(secs(45 * 20));
    let (t, al) = at_15_minutes.expect("taken");
    assert_eq!(tasks(&c, PROD).await, t);
    assert_eq!(c.alarms(&[]).await, al);

    let (other, _) = sim("production", 8);
    assert_ne!(
        tasks(&other, PROD).await[0].arn,
        tasks(&sim("production", 7).0, PROD).await[0].arn
    );
}

// ------------------------------------------------------------------ chaos

#[tokio::test]
async fn tasks_stop_and_are_replaced_and_counts_stay_consistent() {
    let (b, clock) = sim("production", SEED);
    let initial: BTreeSet<String> = tasks(&b, PROD)
        .await
        .iter()
        .map(|t| t.arn.clone())
        .collect();
    let mut stopped: Option<Task> = None;
    let mut replaced = false;
    for _ in 0..(90 * 6) {
        clock.advance(secs(10));
        let all = services(&b, PROD).await;
        let ts = tasks(&b, PROD).await;
        assert_consistent(&all, &ts);
        if stopped.is_none() {
            stopped = ts
                .iter()
                .find(|t| t.last_status == "STOPPED" && !initial.contains(&t.arn))
                .cloned();
        } else if let Some(s) = &stopped {
            let svc = all
                .iter()
                .find(|x| Some(x.name.as_str()) == s.service_name());
            if svc.is_some_and(|x| x.running_count == x.desired_count && x.desired_count >= 2) {
                replaced = true;
                break;
            }
        }
    }
    let stopped = stopped.expect("a task stopped within 90 minutes");
    assert!(replaced, "the stopped task was replaced");
    let code = stopped.stop_code.as_deref().unwrap_or("");
    assert!(
        [
            "EssentialContainerExited",
            "ServiceSchedulerInitiated",
            "TaskFailedToStart"
        ]
        .contains(&code),
        "{code}"
    );
    assert!(stopped.stopped_reason.is_some());
    assert!(stopped.stopped_at.is_some());
    let svc = service(&b, PROD, stopped.service_name().unwrap_or("")).await;
    assert!(
        svc.events
            .iter()
            .any(|e| e.message.contains("has started 1 tasks: (task "))
    );
}

#[tokio::test]
async fn an_alarm_fires_and_clears() {
    let (b, clock) = sim("production", SEED);
    let mut fired: Option<Alarm> = None;
    let mut cleared = false;
    for _ in 0..(90 * 2) {
        clock.advance(secs(30));
        let alarms = b.alarms(&[]).await.expect("alarms");
        match &fired {
            None => fired = alarms.into_iter().find(|a| a.state == AlarmState::Alarm),
            Some(f) => {
                let now = alarms.iter().find(|a| a.name == f.name).expect("the alarm");
                if now.state == AlarmState::Ok {
                    assert!(now.state_updated_at > f.state_updated_at);
                    assert!(
                        now.state_reason.contains("not greater than")
                            || now.state_reason.contains("not less than")
                    );
                    cleared = true;
                    break;
                }
            }
        }
    }
    let fired = fired.expect("an alarm fired within 90 minutes");
    assert!(cleared, "{} cleared", fired.name);
    assert!(
        fired.state_reason.starts_with("Threshold Crossed: "),
        "{}",
        fired.state_reason
    );
    assert!(
        fired.state_reason.contains("greater than the threshold"),
        "{}",
        fired.state_reason
    );
}

#[tokio::test]
async fn the_demo_fires_its_first_alarm_within_minutes() {
    // production's first incident is the api 5XX spike, 60-90 s in; its
    // alarm (Sum > 10 over one minute) fires at the next evaluation.
    for seed in [SEED, 1, 2, 3] {
        let (b, clock) = sim("production", seed);
        let mut fired = None;
        for _ in 0..(4 * 6) {
            clock.advance(secs(10));
            let alarms = b.alarms(&[]).await.expect("alarms");
            fired = alarms
                .into_iter()
                .find(|a| a.state == AlarmState::Alarm && a.name.ends_with("api-5xx"));
            if fired.is_some() {
                break;
            }
        }
        let fired = fired.unwrap_or_else(|| panic!("seed {seed}: no api 5XX alarm in 4 minutes"));
        assert!(fired.state_reason.starts_with("Threshold Crossed: "));
    }
}

// -------------------------------------------------------------- mutations

#[tokio::test]
async fn desired_count_changes_converge() {
    let (b, clock) = quiet("production");
    let update = ServiceUpdate {
        desired_count: Some(4),
        ..Default::default()
    };
    let s = b.update_service(PROD, "web", update).await.expect("update");
    assert_eq!(s.desired_count, 4);
    assert_eq!(s.deployments.len(), 1, "no new deployment for a count");
    let mut done = false;
    for _ in 0..90 {
        clock.advance(secs(1));
        let all = services(&b, PROD).await;
        assert_consistent(&all, &tasks(&b, PROD).await);
        let web = &all[0];
        if web.running_count == 4 && web.pending_count == 0 {
            done = true;
            break;
        }
    }
    assert!(done, "web reached 4 running tasks within 90 s");
    let web = service(&b, PROD, "web").await;
    assert!(web.events.iter().any(|e| {
        e.message
            .starts_with("(service web) has started 2 tasks: (task ")
    }));

    let update = ServiceUpdate {
        desired_count: Some(1),
        ..Default::default()
    };
    b.update_service(PROD, "web", update).await.expect("update");
    for _ in 0..60 {
        clock.advance(secs(1));
        assert_consistent(&services(&b, PROD).await, &tasks(&b, PROD).await);
    }
    let web = service(&b, PROD, "web").await;
    assert_eq!(
        (web.desired_count, web.running_count, web.pending_count),
        (1, 1, 0)
    );
    assert_eq!(
        web.events[0].message,
        "(service web) has reached a steady state."
    );
    assert!(
        web.events
            .iter()
            .any(|e| e.message.contains("has stopped 3 running tasks"))
    );
    assert!(web.events.iter().any(|e| {
        e.message
            .contains("has begun draining connections on 3 tasks")
    }));
    let drained: Vec<Task> = tasks_of(&b, PROD, "web")
        .await
        .into_iter()
        .filter(|t| t.stop_code.as_deref() == Some("ServiceSchedulerInitiated"))
        .collect();
    assert_eq!(drained.len(), 3);
    assert!(drained.iter().all(|t| {
        t.stopped_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("Scaling activity initiated by (deployment ecs-svc/"))
    }));
}

#[tokio::test]
async fn a_good_image_rolls_out_task_by_task() {
    let (b, clock) = quiet("production");
    let base = service(&b, PROD, "web").await.task_definition;
    let image =
        "538291746102.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:2026.11.23-5e6f7a8";
    let td = b
        .register_task_definition(ImageChange {
            base,
            images: vec![("web".into(), image.into())],
        })
        .await
        .expect("registered");
    assert_eq!(td.revision, 43);
    let update = ServiceUpdate {
        task_definition: Some(td.arn.clone()),
        ..Default::default()
    };
    let s = b.update_service(PROD, "web", update).await.expect("update");
    assert_eq!(s.task_definition, td.arn);
    assert_eq!(s.deployments.len(), 2);
    assert_eq!(s.deployments[0].status, "PRIMARY");
    assert_eq!(s.deployments[0].rollout_state, RolloutState::InProgress);
    assert_eq!(s.deployments[1].status, "ACTIVE");
    assert_eq!(s.health(), Health::Progressing);

    let mut seconds = 0;
    loop {
        clock.advance(secs(1));
        seconds += 1;
        let all = services(&b, PROD).await;
        assert_consistent(&all, &tasks(&b, PROD).await);
        let web = &all[0];
        assert!(
            web.running_count >= 2,
            "never fewer than desired running ({seconds} s)"
        );
        if web.rollout() == RolloutState::Completed {
            break;
        }
        assert!(seconds < 300, "the rollout completes within 5 minutes");
    }
    assert!(seconds > 40, "a rollout takes a while ({seconds} s)");
    let web = service(&b, PROD, "web").await;
    assert_eq!(web.deployments.len(), 1);
    let d = &web.deployments[0];
    assert_eq!(
        d.rollout_state_reason,
        Some(format!("ECS deployment {} completed.", d.id))
    );
    assert!(
        web.events
            .iter()
            .any(|e| e.message
                == format!("(service web) (deployment {}) deployment completed.", d.id))
    );
    let running: Vec<Task> = tasks_of(&b, PROD, "web")
        .await
        .into_iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    assert_eq!(running.len(), 2);
    assert!(
        running
            .iter()
            .all(|t| t.task_definition == td.arn && t.containers[0].image == image)
    );

    // A forced deployment replaces every task of the same revision.
    let before: BTreeSet<String> = tasks_of(&b, PROD, "api")
        .await
        .iter()
        .map(|t| t.arn.clone())
        .collect();
    let update = ServiceUpdate {
        force_new_deployment: true,
        ..Default::default()
    };
    let s = b.update_service(PROD, "api", update).await.expect("update");
    assert_eq!(s.deployments.len(), 2);
    assert_eq!(
        s.deployments[0].task_definition,
        s.deployments[1].task_definition
    );
    clock.advance(secs(300));
    let api = service(&b, PROD, "api").await;
    assert_eq!(api.rollout(), RolloutState::Completed);
    let running: Vec<Task> = tasks_of(&b, PROD, "api")
        .await
        .into_iter()
        .filter(|t| t.last_status == "RUNNING")
        .collect();
    assert_eq!(running.len(), 2);
    assert!(running.iter().all(|t| !before.contains(&t.arn)));
}

#[tokio::test]
async fn a_bad_image_trips_the_circuit_breaker_and_rolls_back() {
    let (b, clock) = quiet("production");
    let good = service(&b, PROD, "web").await.task_definition;
    let td = b
        .register_task_definition(ImageChange {
            base: good.clone(),
            images: vec![(
                "web".into(),
                "538291746102.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:2026.11.23-bad"
                    .into(),
            )],
        })
        .await
        .expect("registered");
    let update = ServiceUpdate {
        task_definition: Some(td.arn.clone()),
        ..Default::default()
    };
    b.update_service(PROD, "web", update).await.expect("update");

    let mut saw_failed = false;
    let mut seconds = 0;
    loop {
        clock.advance(secs(1));
        seconds += 1;
        let all = services(&b, PROD).await;
        assert_consistent(&all, &tasks(&b, PROD).await);
        let web = &all[0];
        assert!(
            web.running_count >= 2,
            "the old tasks keep serving ({seconds} s)"
        );
        if let Some(d) = web
            .deployments
            .iter()
            .find(|d| d.rollout_state == RolloutState::Failed)
        {
            assert_eq!(d.task_definition, td.arn);
            assert!(d.failed_tasks >= 3);
            assert_eq!(
                d.rollout_state_reason.as_deref(),
                Some("ECS deployment circuit breaker: tasks failed to start.")
            );
            saw_failed = true;
        }
        if saw_failed && web.rollout() == RolloutState::Completed {
            break;
        }
        assert!(seconds < 600, "failed and rolled back within 10 minutes");
    }
    let web = service(&b, PROD, "web").await;
    assert_eq!(
        web.task_definition, good,
        "rolled back to the previous revision"
    );
    assert_eq!(web.deployments.len(), 1);
    assert!(web.events.iter().any(|e| {
        e.message
            .contains("deployment failed: tasks failed to start.")
    }));
    assert!(web.events.iter().any(|e| {
        e.message
            .starts_with("(service web) rolling back to deployment ecs-svc/")
    }));
    let ts = tasks_of(&b, PROD, "web").await;
    let failed: Vec<&Task> = ts.iter().filter(|t| t.task_definition == td.arn).collect();
    assert!(failed.len() >= 3);
    for t in failed {
        assert_eq!(t.last_status, "STOPPED");
        assert_eq!(t.stop_code.as_deref(), Some("TaskFailedToStart"));
        assert!(
            t.stopped_reason
                .as_deref()
                .is_some_and(|r| r.starts_with("CannotPullContainerError:"))
        );
        assert!(t.started_at.is_none());
    }
    assert!(
        ts.iter()
            .filter(|t| t.last_status == "RUNNING")
            .all(|t| t.task_definition == good)
    );
}

#[tokio::test]
async fn without_a_circuit_breaker_a_broken_image_keeps_failing() {
    let (b, clock) = quiet("staging");
    let good = service(&b, STG, "api").await.task_definition;
    let td = b
        .register_task_definition(ImageChange {
            base: good.clone(),
            images: vec![(
                "api".into(),
                "804615273958.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/api:broken-migration".into(),
            )],
        })
        .await
        .expect("registered");
    let update = ServiceUpdate {
        task_definition: Some(td.arn.clone()),
        ..Default::default()
    };
    b.update_service(STG, "api", update).await.expect("update");
    for _ in 0..(5 * 60 / 5) {
        clock.advance(secs(5));
        assert_consistent(&services(&b, STG).await, &tasks(&b, STG).await);
    }
    let api = service(&b, STG, "api").await;
    assert_eq!(api.rollout(), RolloutState::InProgress);
    assert!(
        api.deployments[0].failed_tasks >= 3,
        "{}",
        api.deployments[0].failed_tasks
    );
    assert_eq!(api.running_count, api.deployments[1].running_count.max(1));
    let ts = tasks_of(&b, STG, "api").await;
    assert!(
        ts.iter()
            .any(|t| t.last_status == "RUNNING" && t.task_definition == good)
    );
    let crashed: Vec<&Task> = ts
        .iter()
        .filter(|t| t.task_definition == td.arn && t.last_status == "STOPPED")
        .collect();
    assert!(crashed.len() >= 3);
    assert!(crashed.iter().all(
        |t| t.stop_code.as_deref() == Some("EssentialContainerExited")
            && t.containers[0].exit_code == Some(1)
            && t.started_at.is_some()
    ));
}

#[tokio::test]
async fn register_task_definition_copies_everything_but_the_image() {
    let (b, _clock) = quiet("production");
    let base = b
        .task_definition("works-logue-prod-web:42")
        .await
        .expect("web:42");
    let image =
        "538291746102.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:2026.11.23-5e6f7a8";
    let td = b
        .register_task_definition(ImageChange {
            base: base.arn.clone(),
            images: vec![("web".into(), image.into())],
        })
        .await
        .expect("registered");
    let mut expected = base.clone();
    expected.arn = base.arn.replace(":42", ":43");
    expected.revision = 43;
    expected.registered_at = Some(start());
    expected.containers[0].image = image.to_string();
    assert_eq!(td, expected);
    assert_eq!(
        td.containers[1], base.containers[1],
        "the log router is untouched"
    );
    assert_eq!(b.task_definition(&td.arn).await.expect("describe"), td);
    let revs = b
        .task_definition_revisions("works-logue-prod-web")
        .await
        .expect("revisions");
    assert_eq!(revs[0], td.arn);
    assert_eq!(revs.len(), 6);

    let again = b
        .register_task_definition(ImageChange {
            base: td.arn.clone(),
            images: vec![],
        })
        .await
        .expect("registered");
    assert_eq!(again.revision, 44);

    let err = b
        .register_task_definition(ImageChange {
            base: base.arn.clone(),
            images: vec![("nginx".into(), "nginx:1".into())],
        })
        .await
        .expect_err("no such container");
    assert!(matches!(err, BackendError::Invalid { .. }), "{err}");
    let err = b
        .register_task_definition(ImageChange {
            base: "works-logue-prod-web:999".into(),
            images: vec![],
        })
        .await
        .expect_err("no such revision");
    assert!(matches!(err, BackendError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn scaling_bounds_clamp_the_desired_count() {
    let (b, clock) = quiet("production");
    let t = b
        .set_scaling_bounds(PROD, "web", 3, 6)
        .await
        .expect("bounds");
    assert_eq!((t.min_capacity, t.max_capacity), (3, 6));
    assert_eq!(t.policies.len(), 1, "the policy stays");
    assert_eq!(service(&b, PROD, "web").await.desired_count, 3);
    clock.advance(secs(60));
    assert_eq!(service(&b, PROD, "web").await.running_count, 3);
    let t = b
        .set_scaling_bounds(PROD, "worker", 1, 1)
        .await
        .expect("bounds");
    assert!(t.policies.is_empty());
    assert_eq!(service(&b, PROD, "worker").await.desired_count, 1);
    assert_eq!(
        b.scalable_targets(&[PROD.into()])
            .await
            .expect("targets")
            .len(),
        3
    );
    let err = b
        .set_scaling_bounds(PROD, "web", 5, 2)
        .await
        .expect_err("min > max");
    assert!(matches!(err, BackendError::Invalid { .. }));
}

#[tokio::test]
async fn a_snapshot_progresses_to_available() {
    let (b, clock) = sim("production", SEED);
    let primary = "works-logue-prod-db";
    let s = b
        .create_db_snapshot(primary, "drill-20261123")
        .await
        .expect("snapshot");
    assert_eq!(
        (s.status.as_str(), s.snapshot_type.as_str()),
        ("creating", "manual")
    );
    assert_eq!(s.percent_progress, Some(0));
    assert_eq!(s.allocated_storage_gib, 100);
    assert_eq!(db(&b, primary).await.status, "backing-up");
    let mut last = 0;
    let mut seconds = 0;
    loop {
        clock.advance(secs(5));
        seconds += 5;
        let snaps = b
            .db_snapshots(&[primary.to_string()])
            .await
            .expect("snapshots");
        let s = snaps
            .iter()
            .find(|s| s.id == "drill-20261123")
            .expect("listed");
        let p = s.percent_progress.unwrap_or(0);
        assert!(p >= last, "progress only rises");
        last = p;
        if s.status == "available" {
            assert_eq!(p, 100);
            break;
        }
        assert!(seconds <= 95, "available within 90 s");
    }
    assert!(seconds >= 30);
    assert_eq!(db(&b, primary).await.status, "available");
    let err = b
        .create_db_snapshot(primary, "drill-20261123")
        .await
        .expect_err("duplicate");
    assert!(err.to_string().contains("DBSnapshotAlreadyExists"), "{err}");
    let err = b
        .create_db_snapshot(primary, "1-bad--id")
        .await
        .expect_err("bad id");
    assert!(matches!(err, BackendError::Invalid { .. }));
    let err = b
        .create_db_snapshot("nope", "x")
        .await
        .expect_err("no such instance");
    assert!(matches!(err, BackendError::NotFound { .. }));
}

#[tokio::test]
async fn a_reboot_with_failover_swaps_the_availability_zones() {
    let (b, clock) = sim("production", SEED);
    let primary = "works-logue-prod-db";
    let before = db(&b, primary).await;
    let during = b.reboot_db_instance(primary, true).await.expect("reboot");
    assert_eq!(during.status, "rebooting");
    assert_eq!(during.health(), Health::Progressing);
    let err = b
        .reboot_db_instance(primary, false)
        .await
        .expect_err("already rebooting");
    assert!(matches!(err, BackendError::Invalid { .. }));
    clock.advance(secs(45));
    let after = db(&b, primary).await;
    assert_eq!(after.status, "available");
    assert_eq!(after.availability_zone, before.secondary_availability_zone);
    assert_eq!(after.secondary_availability_zone, before.availability_zone);

    let err = b
        .reboot_db_instance("works-logue-prod-db-replica", true)
        .await
        .expect_err("not Multi-AZ");
    assert!(matches!(err, BackendError::Invalid { .. }), "{err}");
    let replica = b
        .reboot_db_instance("works-logue-prod-db-replica", false)
        .await
        .expect("reboot");
    assert_eq!(replica.status, "rebooting");
    clock.advance(secs(45));
    let replica = db(&b, "works-logue-prod-db-replica").await;
    assert_eq!(
        (
            replica.status.as_str(),
            replica.availability_zone.as_deref()
        ),
        ("available", Some("ap-northeast-1c"))
    );
}

#[tokio::test]
async fn unknown_names_are_errors() {
    let (b, _clock) = sim("production", SEED);
    let not_found = |r: BackendResult<()>| matches!(r, Err(BackendError::NotFound { .. }));
    assert!(not_found(b.services("nope").await.map(|_| ())));
    assert!(not_found(b.tasks("nope").await.map(|_| ())));
    assert!(not_found(
        b.scalable_targets(&["nope".into()]).await.map(|_| ())
    ));
    assert!(not_found(
        b.update_service(PROD, "nope", ServiceUpdate::default())
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        b.update_service("nope", "web", ServiceUpdate::default())
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        b.set_scaling_bounds(PROD, "nope", 1, 2).await.map(|_| ())
    ));
    assert!(not_found(
        b.db_instances(&["nope".into()]).await.map(|_| ())
    ));
    assert!(not_found(
        b.reboot_db_instance("nope", false).await.map(|_| ())
    ));
    assert!(not_found(
        b.task_definition("works-logue-prod-web:1")
            .await
            .map(|_| ())
    ));
    let update = ServiceUpdate {
        task_definition: Some("nope:1".into()),
        ..Default::default()
    };
    assert!(matches!(
        b.update_service(PROD, "web", update).await,
        Err(BackendError::Invalid { .. })
    ));
    assert!(
        b.task_definition_revisions("nope")
            .await
            .expect("empty")
            .is_empty()
    );
    assert!(
        b.db_snapshots(&["nope".into()])
            .await
            .expect("empty")
            .is_empty()
    );

    let listing = b
        .clusters(&[PROD.into(), "nope".into()])
        .await
        .expect("clusters");
    assert_eq!(listing.items.len(), 1);
    assert_eq!(listing.failures[0].reason, "MISSING");
    assert!(listing.failures[0].arn.ends_with(":cluster/nope"));

    let name = "works-logue-prod-web-5xx".to_string();
    b.set_alarm_actions(&[name.clone(), "nope".into()], false)
        .await
        .expect("ignored");
    let alarms = b.alarms(std::slice::from_ref(&name)).await.expect("alarms");
    assert_eq!(alarms.len(), 1);
    assert!(!alarms[0].actions_enabled);
    assert!(b.alarms(&["nope".into()]).await.expect("alarms").is_empty());
}

#[tokio::test]
async fn a_long_gap_is_jumped_over() {
    let (b, clock) = sim("production", SEED);
    clock.advance(Duration::from_hours(72));
    let ts = tasks(&b, PROD).await;
    let cutoff = clock.now() - chrono::TimeDelta::hours(1);
    assert!(
        ts.iter()
            .all(|t| t.stopped_at.is_none_or(|at| at >= cutoff))
    );
    assert_consistent(&services(&b, PROD).await, &ts);
    let cpu = b
        .metric_history(
            "AWS/ECS",
            "CPUUtilization",
            &[
                ("ClusterName".into(), PROD.into()),
                ("ServiceName".into(), "web".into()),
            ],
        )
        .expect("web CPU");
    assert!(cpu.points.len() <= 1440);
    assert!(
        cpu.points
            .last()
            .is_some_and(|(t, _)| *t > clock.now() - chrono::TimeDelta::minutes(2))
    );
}

#[tokio::test]
async fn images_of_the_simulated_registry_exist_except_a_bad_tag() {
    use crate::domain::{EcrImage, ImageLookup};
    let (b, _clock) = quiet("production");
    let td_arn = service(&b, PROD, "web").await.task_definition;
    let td = b.task_definition(&td_arn).await.expect("definition");
    let current = td.containers[0].image.clone();
    let parse = |image: &str| EcrImage::parse(image).expect("an ECR image");
    // The reference without its tag (the registry has no port).
    let repo = current
        .rsplit_once(':')
        .map_or(current.as_str(), |(repo, _)| repo)
        .to_string();

    // The image running now: the digest its tasks report, pushed when its
    // revision was registered.
    let found = b.describe_image(&parse(&current)).await.expect("answered");
    let ImageLookup::Found(detail) = found else {
        panic!("expected the running image: {found:?}");
    };
    let tasks = b.tasks(PROD).await.expect("tasks");
    let running = tasks
        .items
        .iter()
        .flat_map(|t| &t.containers)
        .find(|c| c.image == current && c.image_digest.is_some())
        .expect("a task running the image");
    assert_eq!(
        running.image_digest.as_deref(),
        Some(detail.digest.as_str())
    );
    assert_eq!(detail.pushed_at, td.registered_at);
    // By that digest too.
    let by_digest = b
        .describe_image(&parse(&format!("{repo}@{}", detail.digest)))
        .await
        .expect("answered");
    assert!(matches!(by_digest, ImageLookup::Found(_)), "{by_digest:?}");

    // A new tag of a known repository exists (CI pushed it); a `bad` one
    // does not (its tasks cannot pull it), nor an unknown repository.
    let new = b
        .describe_image(&parse(&format!("{repo}:2026.11.23-5e6f7a8")))
        .await
        .expect("answered");
    assert!(matches!(new, ImageLookup::Found(_)), "{new:?}");
    for missing in [
        format!("{repo}:bad-build"),
        format!("{repo}@sha256:0000"),
        current.replace("/web:", "/nope:"),
    ] {
        let answer = b.describe_image(&parse(&missing)).await.expect("answered");
        assert!(
            matches!(answer, ImageLookup::Missing { .. }),
            "{missing}: {answer:?}"
        );
    }
}

/// A restore as the console sends it: the source's settings carried.
fn restore_of(
    source: &DbInstance,
    target: &str,
    from: crate::backend::RestoreFrom,
) -> crate::backend::DbRestore {
    crate::backend::DbRestore {
        target: target.to_string(),
        from,
        settings: crate::domain::RestoreSettings::of(source),
    }
}

#[tokio::test]
async fn a_restore_from_a_snapshot_is_created_over_minutes_with_the_carried_settings() {
    let (b, clock) = quiet("production");
    let primary = db(&b, "works-logue-prod-db").await;
    let snapshots = b
        .db_snapshots(std::slice::from_ref(&primary.id))
        .await
        .expect("snapshots");
    let newest = snapshots.first().expect("a snapshot").id.clone();
    let target = "works-logue-prod-db-restored";
    let from = crate::backend::RestoreFrom::Snapshot(newest.clone());
    let created = b
        .restore_db_instance(&restore_of(&primary, target, from.clone()))
        .await
        .expect("restore");
    assert_eq!(created.status, "creating");
    assert_eq!(created.endpoint, None, "no endpoint while creating");
    assert_eq!(created.replica_source, None);
    // The same identifier again, a bad one, a snapshot that is not there:
    // refused as RDS refuses them.
    let again = b
        .restore_db_instance(&restore_of(&primary, target, from.clone()))
        .await
        .expect_err("exists");
    assert!(
        again.to_string().contains("DBInstanceAlreadyExists"),
        "{again}"
    );
    let bad = b
        .restore_db_instance(&restore_of(&primary, "1-bad--id", from))
        .await
        .expect_err("invalid identifier");
    assert!(matches!(bad, BackendError::Invalid { .. }), "{bad}");
    let missing = crate::backend::RestoreFrom::Snapshot("no-such-snapshot".into());
    let missing = b
        .restore_db_instance(&restore_of(&primary, "x-restored", missing))
        .await
        .expect_err("no snapshot");
    assert!(
        matches!(missing, BackendError::NotFound { .. }),
        "{missing}"
    );

    // Realistic minutes: still creating after five, available within
    // thirteen, with an endpoint and the settings of its source.
    clock.advance(secs(5 * 60));
    assert_eq!(db(&b, target).await.status, "creating");
    let mut minutes = 5;
    let restored = loop {
        clock.advance(secs(60));
        minutes += 1;
        let d = db(&b, target).await;
        if d.status == "available" {
            break d;
        }
        assert!(
            ["creating", "backing-up"].contains(&d.status.as_str()),
            "{}",
            d.status
        );
        assert!(minutes <= 13, "still {} after {minutes} minutes", d.status);
    };
    assert!(minutes >= 7, "available after {minutes} minutes only");
    assert!(
        restored
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("works-logue-prod-db-restored.")),
        "{:?}",
        restored.endpoint
    );
    assert_eq!(restored.port, Some(5432));
    assert_eq!(restored.class, primary.class);
    assert_eq!(restored.multi_az, primary.multi_az);
    assert_eq!(restored.storage_type, primary.storage_type);
    let (s, p) = (&restored.settings, &primary.settings);
    assert_eq!(s.subnet_group, p.subnet_group);
    assert_eq!(s.security_groups, p.security_groups);
    assert_eq!(s.parameter_group, p.parameter_group);
    assert_eq!(s.option_group, p.option_group, "the engine's default again");
    assert!(s.deletion_protection);
    assert_eq!(s.tags, p.tags);
    // The source is untouched.
    assert_eq!(db(&b, "works-logue-prod-db").await.status, "available");
}

#[tokio::test]
async fn a_point_in_time_restore_is_checked_against_the_window() {
    let (b, clock) = quiet("production");
    clock.advance(secs(600));
    let primary = db(&b, "works-logue-prod-db").await;
    let latest = primary.latest_restorable_time.expect("backups are kept");
    let at = |t| crate::backend::RestoreFrom::PointInTime {
        source: primary.id.clone(),
        time: Some(t),
    };
    let late = b
        .restore_db_instance(&restore_of(
            &primary,
            "pitr-late",
            at(latest + chrono::TimeDelta::minutes(10)),
        ))
        .await
        .expect_err("after the latest restorable time");
    assert!(late.to_string().contains("InvalidRestoreFault"), "{late}");
    let early = b
        .restore_db_instance(&restore_of(
            &primary,
            "pitr-early",
            at(latest - chrono::TimeDelta::days(8)),
        ))
        .await
        .expect_err("before the retention");
    assert!(early.to_string().contains("restorable window"), "{early}");
    let created = b
        .restore_db_instance(&restore_of(
            &primary,
            "pitr",
            at(latest - chrono::TimeDelta::hours(1)),
        ))
        .await
        .expect("within the window");
    assert_eq!(created.status, "creating");
    // A replica keeps no backups of its own.
    let replica = db(&b, "works-logue-prod-db-replica").await;
    let none = crate::backend::RestoreFrom::PointInTime {
        source: replica.id.clone(),
        time: None,
    };
    let err = b
        .restore_db_instance(&restore_of(&replica, "replica-pitr", none))
        .await
        .expect_err("no backups");
    assert!(
        err.to_string().contains("PointInTimeRestoreNotEnabled"),
        "{err}"
    );
}

#[tokio::test]
async fn a_promoted_replica_stops_replicating_after_modifying_and_rebooting() {
    let (b, clock) = quiet("production");
    let err = b
        .promote_read_replica("works-logue-prod-db")
        .await
        .expect_err("a primary");
    assert!(err.to_string().contains("not a read replica"), "{err}");
    let replica = "works-logue-prod-db-replica";
    let during = b.promote_read_replica(replica).await.expect("promote");
    assert_eq!(during.status, "modifying");
    assert_eq!(
        during.replica_source.as_deref(),
        Some("works-logue-prod-db")
    );
    let mut seen = vec![during.status.clone()];
    let promoted = loop {
        clock.advance(secs(15));
        let d = db(&b, replica).await;
        if seen.last() != Some(&d.status) {
            seen.push(d.status.clone());
        }
        if d.status == "available" {
            break d;
        }
        assert!(seen.len() < 4, "{seen:?}");
    };
    assert_eq!(seen, vec!["modifying", "rebooting", "available"]);
    assert_eq!(promoted.replica_source, None, "no source any more");
    assert!(promoted.backup_retention_days >= 1);
    assert!(db(&b, "works-logue-prod-db").await.replicas.is_empty());
}

// ------------------------------------------------------------------ EC2

/// The EC2 world's tag filter selects its two app hosts (not the
/// bastion), running with their checks ok; the first incident, 2 to 4
/// minutes in, impairs app-prod-1's instance status check, and its end
/// brings it back. A world without EC2 has none.
#[tokio::test]
async fn the_ec2_world_has_two_app_hosts_and_an_incident_impairs_one() {
    use crate::backend::Ec2 as _;
    use crate::domain::{CheckStatus, InstanceFilter};
    let (b, clock) = sim("ec2-prod", SEED);
    let filter = InstanceFilter {
        ids: Vec::new(),
        tags: [("Name".to_string(), "app-prod-*".to_string())].into(),
    };
    let hosts = b.instances(&filter).await.expect("instances");
    let names: Vec<_> = hosts.iter().filter_map(|i| i.name.clone()).collect();
    assert_eq!(names, ["app-prod-1", "app-prod-2"]);
    assert!(hosts.iter().all(|i| i.state == "running"
        && (i.system_status, i.instance_status) == (CheckStatus::Ok, CheckStatus::Ok)));
    assert_eq!(hosts[0].private_ip.as_deref(), Some("10.0.1.24"));
    assert_eq!(
        hosts[0].launched_at,
        Some(start() - chrono::TimeDelta::days(38))
    );
    let mut seen_impaired = false;
    for _ in 0..(12 * 60 / 10) {
        clock.advance(Duration::from_secs(10));
        let hosts = b.instances(&filter).await.expect("instances");
        let one = hosts[0].instance_status;
        assert_eq!(
            hosts[1].instance_status,
            CheckStatus::Ok,
            "app-prod-2 never"
        );
        if one == CheckStatus::Impaired {
            seen_impaired = true;
        } else if seen_impaired {
            assert_eq!(one, CheckStatus::Ok, "back after the incident");
            break;
        }
    }
    assert!(seen_impaired, "the first incident impaired app-prod-1");

    let (prod, _) = sim("production", SEED);
    assert!(prod.instances(&filter).await.expect("none").is_empty());
}

/// Staging's Redis after seed 003: one replication group, a primary and
/// a replica in two zones (Multi-AZ, automatic failover), with endpoints
/// as ElastiCache names them; a group not in the world is a failure of
/// the listing. Its memory-pressure incident pushes memory, evictions and
/// the replica's lag over their alarms, and they come back after it.
#[tokio::test]
async fn staging_has_redis_and_its_incident_fires_the_lag_alarm() {
    use crate::backend::ElastiCache as _;
    let (b, clock) = sim("staging", SEED);
    let ids = [
        "works-logue-stg-redis".to_string(),
        "gone-redis".to_string(),
    ];
    let listing = b.replication_groups(&ids).await.expect("groups");
    assert_eq!(listing.failures.len(), 1);
    assert_eq!(listing.failures[0].arn, "gone-redis");
    let g = &listing.items[0];
    assert_eq!(g.id, "works-logue-stg-redis");
    assert_eq!(g.node_type.as_deref(), Some("cache.t3.medium"));
    assert!(g.multi_az && g.automatic_failover == "enabled");
    assert_eq!(g.engine_label(), "redis 7.1.0");
    let roles: Vec<(&str, Option<&str>, Option<&str>)> = g
        .members
        .iter()
        .map(|m| {
            (
                m.cluster_id.as_str(),
                m.role.as_deref(),
                m.availability_zone.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (
                "works-logue-stg-redis-001",
                Some("primary"),
                Some("ap-northeast-1a")
            ),
            (
                "works-logue-stg-redis-002",
                Some("replica"),
                Some("ap-northeast-1c")
            ),
        ]
    );
    assert_eq!(
        g.primary_endpoint
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("master.works-logue-stg-redis.x7k2qd.apne1.cache.amazonaws.com:6379")
    );
    assert_eq!(g.health(), crate::domain::CacheHealth::Ok);
    // Production has none.
    let (prod, _) = sim("production", SEED);
    assert!(
        prod.replication_groups(&ids)
            .await
            .expect("none")
            .items
            .is_empty()
    );

    let state = |alarms: &[Alarm], name: &str| {
        alarms
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.state)
            .expect("the alarm")
    };
    let lag = "works-logue-stg-redis-replication-lag";
    let memory = "works-logue-stg-redis-memory-high";
    let alarms = b.alarms(&[]).await.expect("alarms");
    assert_eq!(state(&alarms, lag), AlarmState::Ok);
    let mut fired = (false, false);
    // Incidents come every 20 to 40 minutes, two kinds: within a day.
    for _ in 0..(24 * 60 * 2) {
        clock.advance(secs(30));
        let alarms = b.alarms(&[]).await.expect("alarms");
        fired.0 |= state(&alarms, lag) == AlarmState::Alarm;
        fired.1 |= state(&alarms, memory) == AlarmState::Alarm;
        if fired == (true, true) {
            break;
        }
    }
    assert_eq!(fired, (true, true), "the incident fired both alarms");
    for _ in 0..20 {
        clock.advance(secs(60));
    }
    let alarms = b.alarms(&[]).await.expect("alarms");
    assert_eq!(state(&alarms, lag), AlarmState::Ok, "back after it");
}

/// A simulated host stops (stopping, then stopped, its CPU no longer
/// reported), starts (pending, then running with its checks initializing,
/// then ok) and reboots (running, its checks run again); a start of a
/// running host changes nothing and a reboot of a stopped one is refused,
/// as EC2 answers.
#[tokio::test]
async fn an_ec2_host_stops_starts_and_reboots_over_simulated_minutes() {
    use crate::backend::{Ec2 as _, Ec2Changes as _, Elb as _};
    use crate::domain::{CheckStatus, InstanceFilter};
    const APP2: &str = "i-07c1e6b94d2a8f350";
    const TG: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:271839465024:targetgroup/app-prod-web/93c4a1e7d6b20f58";
    let (b, clock) = sim("ec2-prod", SEED);
    b.set_chaos(false);
    // app-prod-2's health in the ALB's target group.
    let target = || async {
        let groups = b.target_groups(&[TG.to_string()]).await.expect("groups");
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].targets.len(), 2, "both hosts");
        groups[0]
            .targets
            .iter()
            .find(|t| t.id == APP2)
            .map(|t| t.state.clone())
            .expect("app-prod-2 is a target")
    };
    assert_eq!(target().await, "healthy");
    let filter = InstanceFilter {
        ids: vec![APP2.to_string()],
        tags: std::collections::BTreeMap::new(),
    };
    let read = || async {
        b.instances(&filter)
            .await
            .expect("instances")
            .into_iter()
            .next()
            .expect("app-prod-2")
    };
    // Until the host reads `state` with both checks `checks`, at most
    // `limit` seconds; returns the seconds it took.
    let wait = |state: &'static str, checks: CheckStatus, limit: u64| {
        let clock = clock.clone();
        let read = &read;
        async move {
            for s in 0..=limit {
                let h = read().await;
                if h.state == state && h.system_status == checks && h.instance_status == checks {
                    return s;
                }
                clock.advance(Duration::from_secs(1));
            }
            panic!(
                "not {state} with checks {checks:?} within {limit}s: {:?}",
                read().await
            );
        }
    };
    let started = b.start_instance(APP2).await.expect("a no-op");
    assert_eq!(started.state, "running", "a running host is left running");

    let stopping = b.stop_instance(APP2).await.expect("stop");
    assert_eq!(stopping.state, "stopping");
    assert_eq!(target().await, "draining");
    let took = wait("stopped", CheckStatus::NotApplicable, 90).await;
    assert_eq!(target().await, "unused");
    assert!((25..=61).contains(&took), "stopping took {took}s");
    let refused = b.reboot_instance(APP2).await;
    assert!(
        matches!(&refused, Err(BackendError::Invalid { message }) if message.contains("IncorrectInstanceState")),
        "{refused:?}"
    );
    // No CPU datapoint while it is stopped.
    clock.advance(Duration::from_mins(3));
    let cpu = b
        .metric_history(
            "AWS/EC2",
            "CPUUtilization",
            &[("InstanceId".to_string(), APP2.to_string())],
        )
        .expect("cpu");
    let last = cpu.points.last().map(|(t, _)| *t).expect("a datapoint");
    assert!(
        clock.now() - last >= chrono::TimeDelta::seconds(120),
        "{last}"
    );

    let pending = b.start_instance(APP2).await.expect("start");
    assert_eq!(pending.state, "pending");
    wait("running", CheckStatus::Initializing, 40).await;
    assert_eq!(target().await, "initial");
    let h = read().await;
    let launched = h.launched_at.expect("a launch time");
    assert!(
        clock.now() - launched <= chrono::TimeDelta::seconds(1),
        "a new launch time: {launched}"
    );
    wait("running", CheckStatus::Ok, 130).await;
    assert_eq!(target().await, "healthy");

    let rebooting = b.reboot_instance(APP2).await.expect("reboot");
    assert_eq!(
        (rebooting.state.as_str(), rebooting.instance_status),
        ("running", CheckStatus::Initializing)
    );
    wait("running", CheckStatus::Ok, 130).await;
    let missing = b.stop_instance("i-0000000000000000f").await;
    assert!(
        matches!(missing, Err(BackendError::NotFound { .. })),
        "{missing:?}"
    );
}

/// Rebooting the host the incident impaired cures it: its checks run again
/// and come back ok while the incident still runs.
#[tokio::test]
async fn a_reboot_cures_the_host_the_incident_impaired() {
    use crate::backend::{Ec2 as _, Ec2Changes as _};
    use crate::domain::{CheckStatus, InstanceFilter};
    const APP1: &str = "i-0a3f9c27e81b4d5f6";
    let (b, clock) = sim("ec2-prod", SEED);
    let filter = InstanceFilter {
        ids: vec![APP1.to_string()],
        tags: std::collections::BTreeMap::new(),
    };
    let status = || async {
        b.instances(&filter)
            .await
            .expect("instances")
            .first()
            .map(|h| h.instance_status)
    };
    let mut impaired = false;
    for _ in 0..(6 * 60 / 5) {
        clock.advance(Duration::from_secs(5));
        if status().await == Some(CheckStatus::Impaired) {
            impaired = true;
            break;
        }
    }
    assert!(impaired, "the first incident impairs app-prod-1");
    b.reboot_instance(APP1).await.expect("reboot");
    let mut ok_at = None;
    for s in 0..150 {
        clock.advance(Duration::from_secs(1));
        let now = status().await;
        assert_ne!(now, Some(CheckStatus::Impaired), "cured at {s}s");
        if now == Some(CheckStatus::Ok) {
            ok_at = Some(s);
            break;
        }
    }
    assert!(ok_at.is_some(), "its checks passed again");
}

/// The status check metrics follow the simulated checks: while the
/// incident impairs app-prod-1's instance check, its StatusCheckFailed and
/// StatusCheckFailed_Instance read 1 (the system check's metric 0) and the
/// alarm on it goes to ALARM within two minutes; app-prod-2's stay 0; once
/// the incident is over they read 0 and the alarm returns to OK.
#[tokio::test]
async fn the_status_check_metrics_and_their_alarm_follow_the_impaired_check() {
    use crate::backend::{CloudWatch as _, Ec2 as _};
    use crate::domain::{CheckStatus, InstanceFilter};
    const APP1: &str = "i-0a3f9c27e81b4d5f6";
    let (b, clock) = sim("ec2-prod", SEED);
    let filter = InstanceFilter {
        ids: vec![APP1.to_string()],
        tags: std::collections::BTreeMap::new(),
    };
    let last = |name: &str, id: &str| {
        b.metric_history(
            "AWS/EC2",
            name,
            &[("InstanceId".to_string(), id.to_string())],
        )
        .and_then(|m| m.points.last().map(|p| p.1))
    };
    let alarm_state = || async {
        b.alarms(&["app-prod-1-status".to_string()])
            .await
            .expect("alarms")
            .first()
            .map(|a| a.state)
    };
    assert_eq!(alarm_state().await, Some(AlarmState::Ok));
    let mut impaired_at = None;
    let mut alarm_at = None;
    let mut recovered = false;
    for s in (0..20 * 60).step_by(5) {
        clock.advance(Duration::from_secs(5));
        let impaired =
            b.instances(&filter).await.expect("hosts")[0].instance_status == CheckStatus::Impaired;
        if impaired && impaired_at.is_none() {
            impaired_at = Some(s);
        }
        if alarm_state().await == Some(AlarmState::Alarm) && alarm_at.is_none() {
            alarm_at = Some(s);
            assert!(impaired, "the alarm fires while the check is impaired");
            assert_eq!(last("StatusCheckFailed", APP1), Some(1.0));
            assert_eq!(last("StatusCheckFailed_Instance", APP1), Some(1.0));
            assert_eq!(last("StatusCheckFailed_System", APP1), Some(0.0));
            assert_eq!(last("StatusCheckFailed", "i-07c1e6b94d2a8f350"), Some(0.0));
        }
        if alarm_at.is_some() && !impaired && alarm_state().await == Some(AlarmState::Ok) {
            assert_eq!(last("StatusCheckFailed", APP1), Some(0.0));
            recovered = true;
            break;
        }
    }
    let (Some(impaired_at), Some(alarm_at)) = (impaired_at, alarm_at) else {
        panic!("impaired at {impaired_at:?}, ALARM at {alarm_at:?}");
    };
    assert!(
        alarm_at - impaired_at <= 125,
        "ALARM {}s after the check failed",
        alarm_at - impaired_at
    );
    assert!(recovered, "back to OK after the incident");
}
