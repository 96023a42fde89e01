//! The backend's reads: every view of a seeded environment, every page of a
//! large one with the fewest requests, and failures (server errors,
//! throttles, expired credentials, a dead endpoint, a hang) as typed errors.

use crate::prelude::*;
use honban::backend::prelude::*;

#[tokio::test]
async fn every_view_reads_what_was_seeded() {
    let moto = MotoAccount::seeded("works-logue-prod", &[]);
    let b = moto.backend().await;

    let me = b.caller_identity().await.expect("identity");
    assert_eq!(me.account, moto.account);

    let services = b.services("works-logue-prod").await.expect("services");
    let mut names: Vec<_> = services.items.iter().map(|s| s.name.clone()).collect();
    names.sort();
    let mut expected = moto.seeded.services.clone();
    expected.sort();
    assert_eq!(names, expected);
    assert!(services.failures.is_empty());
    let web = services
        .items
        .iter()
        .find(|s| s.name == "web")
        .expect("web");
    assert_eq!(web.desired_count, 2);
    assert_eq!(web.deployments.len(), 1);
    assert_eq!(web.deployments[0].status, "PRIMARY");
    assert!(web.task_definition.contains("works-logue-prod-web:"));
    // (moto does not echo deploymentConfiguration back, so the circuit
    // breaker is not checked here; the sim covers it.)
    let tg = web.load_balancers[0]
        .target_group_arn
        .clone()
        .expect("target group");

    let tasks = b.tasks("works-logue-prod").await.expect("tasks");
    assert_eq!(tasks.items.len() as u64, moto.seeded.tasks);
    assert_eq!(
        tasks
            .items
            .iter()
            .filter(|t| t.service_name() == Some("web"))
            .count(),
        2
    );

    let td = b
        .task_definition(&web.task_definition)
        .await
        .expect("task definition");
    assert_eq!(td.family, "works-logue-prod-web");
    assert!(
        td.containers[0].image.contains("works-logue/web:"),
        "{:?}",
        td.containers
    );
    assert!(td.containers[0].log_group.is_some());
    assert!(
        td.containers[0]
            .secrets
            .iter()
            .all(|(_, from)| from.starts_with("arn:aws:")),
        "secrets are references"
    );
    let revisions = b
        .task_definition_revisions("works-logue-prod-web")
        .await
        .expect("revisions");
    let seeded_revisions = &moto.seeded.task_definitions["works-logue-prod-web"];
    assert_eq!(revisions.len(), seeded_revisions.len());
    assert!(
        revisions[0].ends_with(&format!(":{}", seeded_revisions.len())),
        "newest first: {revisions:?}"
    );

    let targets = b
        .scalable_targets(&["works-logue-prod".into()])
        .await
        .expect("scaling");
    let bounds = |svc: &str| {
        targets
            .iter()
            .find(|t| t.service_name() == Some(svc))
            .map(|t| (t.min_capacity, t.max_capacity, t.policies.len()))
    };
    assert_eq!(bounds("web"), Some((2, 10, 1)));
    assert_eq!(bounds("api"), Some((2, 8, 1)));

    let groups = b
        .target_groups(std::slice::from_ref(&tg))
        .await
        .expect("target groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].health_check_path.as_deref(), Some("/api/health"));

    let dbs = b.db_instances(&[]).await.expect("databases");
    let mut ids: Vec<_> = dbs.iter().map(|d| d.id.clone()).collect();
    ids.sort();
    let mut seeded_dbs = moto.seeded.db_instances.clone();
    seeded_dbs.sort();
    assert_eq!(ids, seeded_dbs);
    let primary = dbs
        .iter()
        .find(|d| d.id == "works-logue-prod-db")
        .expect("primary");
    let replica = dbs
        .iter()
        .find(|d| d.id == "works-logue-prod-db-replica")
        .expect("replica");
    assert!(primary.multi_az);
    assert_eq!(primary.role(), DbRole::Primary);
    assert_eq!(replica.role(), DbRole::Replica);
    assert_eq!(
        primary.replicas,
        vec!["works-logue-prod-db-replica".to_string()]
    );
    assert_eq!(
        replica.replica_source.as_deref(),
        Some("works-logue-prod-db")
    );

    let snaps = b
        .db_snapshots(&["works-logue-prod-db".to_string()])
        .await
        .expect("snapshots");
    for s in &moto.seeded.db_snapshots {
        assert!(snaps.iter().any(|x| x.id == *s), "{s} in {snaps:?}");
    }

    let alarms = b
        .alarms(&["works-logue-prod-".to_string()])
        .await
        .expect("alarms");
    let mut alarm_names: Vec<_> = alarms.iter().map(|a| a.name.clone()).collect();
    alarm_names.sort();
    assert_eq!(alarm_names, moto.seeded.alarm_names);
    let firing: Vec<_> = alarms
        .iter()
        .filter(|a| a.state == AlarmState::Alarm)
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(firing, moto.seeded.alarms_in_alarm);
    let cpu = alarms
        .iter()
        .find(|a| {
            a.metric
                .as_ref()
                .is_some_and(|m| m.name == "CPUUtilization")
        })
        .expect("a CPU alarm");
    assert_eq!(cpu.comparison_symbol(), ">");
    assert!(cpu.threshold.is_some());
}

#[tokio::test]
async fn large_environments_take_every_page_with_the_fewest_requests() {
    let moto = MotoAccount::seeded(
        "big",
        &[
            "--extra-services",
            "120",
            "--extra-tasks",
            "150",
            "--extra-alarms",
            "120",
            "--extra-dbs",
            "101",
        ],
    );
    let b = moto.backend().await;
    moto.reset_counts();

    let services = b.services("big").await.expect("services");
    let n_services = moto.seeded.services.len();
    assert!(n_services > 100);
    assert_eq!(services.items.len(), n_services);
    let counts = moto.counts();
    assert_eq!(
        counts.get("ecs:ListServices"),
        Some(&(n_services.div_ceil(100) as u64))
    );
    assert_eq!(
        counts.get("ecs:DescribeServices"),
        Some(&(n_services.div_ceil(10) as u64))
    );

    moto.reset_counts();
    let tasks = b.tasks("big").await.expect("tasks");
    let n_tasks = moto.seeded.tasks as usize;
    assert!(n_tasks > 100);
    assert_eq!(tasks.items.len(), n_tasks);
    let counts = moto.counts();
    // RUNNING pages, plus one page for the (empty) STOPPED list.
    assert_eq!(
        counts.get("ecs:ListTasks"),
        Some(&(n_tasks.div_ceil(100) as u64 + 1))
    );
    assert_eq!(
        counts.get("ecs:DescribeTasks"),
        Some(&(n_tasks.div_ceil(100) as u64))
    );

    moto.reset_counts();
    let alarms = b.alarms(&[]).await.expect("alarms");
    // Every seeded alarm, plus the ones target tracking creates for the
    // scaling policies (as AWS does).
    for name in &moto.seeded.alarm_names {
        assert!(alarms.iter().any(|a| a.name == *name), "{name} missing");
    }
    let n_alarms = alarms.len();
    assert!(n_alarms > 100);
    assert_eq!(
        moto.count("cloudwatch:DescribeAlarms"),
        n_alarms.div_ceil(100) as u64
    );

    moto.reset_counts();
    let dbs = b.db_instances(&[]).await.expect("databases");
    let n_dbs = moto.seeded.db_instances.len();
    assert!(n_dbs > 100);
    assert_eq!(dbs.len(), n_dbs);
    assert_eq!(
        moto.count("rds:DescribeDBInstances"),
        n_dbs.div_ceil(100) as u64
    );

    // Task definitions are fetched once per ARN and then cached.
    moto.reset_counts();
    let arn = services.items[0].task_definition.clone();
    b.task_definition(&arn).await.expect("first");
    b.task_definition(&arn).await.expect("cached");
    assert_eq!(moto.count("ecs:DescribeTaskDefinition"), 1);
}

#[tokio::test]
async fn server_errors_become_typed_errors_not_crashes() {
    let moto = MotoAccount::seeded("errs", &["--minimal"]);
    let b = moto.backend().await;

    moto.inject_fault("ecs:ListServices", "throttle", 1);
    match b.services("errs").await {
        Err(BackendError::Throttled { .. }) => {}
        other => panic!("expected throttled, got {other:?}"),
    }
    moto.inject_fault("cloudwatch:DescribeAlarms", "throttle", 1);
    match b.alarms(&[]).await {
        Err(BackendError::Throttled { .. }) => {}
        other => panic!("expected throttled (CBOR), got {other:?}"),
    }
    moto.inject_fault("rds:DescribeDBInstances", "expired", 1);
    match b.db_instances(&[]).await {
        Err(BackendError::Unauthorized {
            hint: Some(hint), ..
        }) => {
            assert!(hint.contains("aws sts get-caller-identity"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    moto.inject_fault("ecs:ListTasks", "500", 1);
    match b.tasks("errs").await {
        Err(BackendError::Unavailable { .. }) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
    // And then everything works again.
    assert!(b.services("errs").await.is_ok());
    let stats = b.request_stats();
    assert_eq!(stats.get("ecs:ListServices").map(|s| s.throttles), Some(1));
    assert!(stats.get("ecs:ListTasks").is_some_and(|s| s.errors == 1));
}

#[tokio::test]
async fn a_dead_endpoint_or_a_hang_fails_fast() {
    let moto = MotoAccount::seeded("slow", &["--minimal"]);
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let b = AwsBackend::connect(&env_config("dead", &dead, "slow"), moto.options()).await;
    let started = std::time::Instant::now();
    match b.services("slow").await {
        Err(BackendError::Unavailable { .. }) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    let b = AwsBackend::connect(
        &moto.env("slow"),
        ConnectOptions {
            operation_timeout: Duration::from_secs(1),
            ..moto.options()
        },
    )
    .await;
    moto.inject_hang("ecs:ListServices", 4.0, 1);
    let started = std::time::Instant::now();
    match b.services("slow").await {
        Err(BackendError::Unavailable { message }) => {
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// The console over the AWS backend: expired credentials show as stale
/// panels with the fix, the data stays, and it recovers by itself.
#[tokio::test]
async fn expired_credentials_show_a_banner_and_recover() {
    let moto = MotoAccount::seeded("works-logue-prod", &[]);
    let cfg = moto.env("production");
    let config: Config = toml::from_str("").expect("empty config");
    let backend = AwsBackend::connect(&cfg, moto.options()).await;
    let env = EnvState::from_config(&cfg, &config.refresh, false);
    let keymap = honban::config::keys::Keymap::from_config(&config).expect("keys");
    let clock = Clock::Wall;
    let state = State::new(vec![env], 0, keymap, clock.now());
    let mut app = App::new(
        state,
        vec![EnvRuntime {
            config: cfg,
            backend: std::sync::Arc::new(backend),
            prober: std::sync::Arc::new(honban::probe::HttpProber::new()),
        }],
        clock.clone(),
    );
    let poll_all = |app: &mut App| {
        for resource in Resource::ALL {
            app.dispatch(Action::PollDue { env: 0, resource });
        }
    };
    poll_all(&mut app);
    app.settle().await;
    // Target groups are asked for once the services are known.
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Targets,
    });
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    assert_eq!(e.account(), Some(moto.account.as_str()));
    assert_eq!(e.services.data.as_ref().map(Vec::len), Some(3));
    assert!(e.targets.data.as_ref().is_some_and(|t| !t.is_empty()));
    assert!(
        !e.request_stats.is_empty(),
        "request counters reach the state"
    );

    moto.inject_fault("*", "expired", 0);
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Services,
    });
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Alarms,
    });
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(e.services.is_stale() && e.alarms.is_stale());
    assert_eq!(
        e.services.data.as_ref().map(Vec::len),
        Some(3),
        "old data kept"
    );
    let (_, err) = e.errors()[0];
    assert!(matches!(err, BackendError::Unauthorized { .. }), "{err}");
    // The next poll backs off instead of hammering the API.
    assert!(e.services.retry_at.is_some());

    moto.clear_faults();
    app.state.envs[0].services.retry_at = None;
    app.state.envs[0].alarms.retry_at = None;
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Services,
    });
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Alarms,
    });
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(
        !e.services.is_stale() && !e.alarms.is_stale(),
        "{:?}",
        e.errors()
    );
}

/// A read-only environment sends no mutating request: counted at the server.
#[tokio::test]
async fn read_only_sends_no_mutating_request() {
    let moto = MotoAccount::seeded("ro", &[]);
    let mut cfg = moto.env("ro");
    cfg.read_only = true;
    let config: Config = toml::from_str("").expect("empty config");
    // Built the way the console builds it, so the guard is the real one.
    let aws = std::sync::Arc::new(AwsBackend::connect(&cfg, moto.options()).await);
    let guarded = honban::backend::guard::ReadOnly::new(aws, "ro");
    assert!(config.environments.is_empty());
    moto.reset_counts();
    let services = guarded
        .ecs()
        .expect("capability")
        .services("ro")
        .await
        .expect("reads pass");
    let web = services
        .items
        .iter()
        .find(|s| s.name == "web")
        .expect("web");
    let refused = [
        guarded
            .ecs_changes()
            .expect("capability")
            .update_service(
                "ro",
                "web",
                honban::backend::ServiceUpdate {
                    desired_count: Some(5),
                    ..Default::default()
                },
            )
            .await
            .err(),
        guarded
            .ecs_changes()
            .expect("capability")
            .register_task_definition(honban::backend::ImageChange {
                base: web.task_definition.clone(),
                images: vec![("web".into(), "nginx:1".into())],
            })
            .await
            .err(),
        guarded
            .scaling_changes()
            .expect("capability")
            .set_scaling_bounds("ro", "web", 3, 9)
            .await
            .err(),
        guarded
            .rds_changes()
            .expect("capability")
            .create_db_snapshot("ro-db", "ro-db-snap")
            .await
            .err(),
        guarded
            .rds_changes()
            .expect("capability")
            .reboot_db_instance("ro-db", true)
            .await
            .err(),
        guarded
            .ecs_changes()
            .expect("capability")
            .stop_task("ro", "arn:aws:ecs:us-east-1:1:task/ro/0", "stopped by test")
            .await
            .err(),
        guarded
            .cloudwatch_changes()
            .expect("capability")
            .set_alarm_actions(&["ro-web-cpu-high".into()], false)
            .await
            .err(),
    ];
    for e in refused {
        assert!(matches!(e, Some(BackendError::ReadOnly { .. })), "{e:?}");
    }
    let counts = moto.counts();
    let mutating: Vec<_> = counts
        .keys()
        .filter(|op| {
            [
                "Update", "Register", "Create", "Reboot", "Enable", "Disable", "Put", "Delete",
                "Stop",
            ]
            .iter()
            .any(|verb| op.split(':').nth(1).is_some_and(|o| o.starts_with(verb)))
        })
        .collect();
    assert!(
        mutating.is_empty(),
        "mutating requests reached the server: {mutating:?}"
    );
    assert_eq!(counts.get("ecs:ListServices"), Some(&1));
}

/// The SDK's own retries are real requests: counted (the diagnostics
/// view's SENT), throttles counted per attempt, and the API's allowed rate
/// halved by them and given back by the answers that follow.
#[tokio::test]
async fn sdk_retries_are_counted_and_throttles_slow_the_api_down() {
    let moto = MotoAccount::seeded("retries", &["--minimal"]);
    let b = AwsBackend::connect(
        &moto.env("retries"),
        ConnectOptions {
            max_attempts: 3,
            ..moto.options()
        },
    )
    .await;
    moto.inject_fault("ecs:ListServices", "throttle", 2);
    b.services("retries")
        .await
        .expect("the third attempt answers");
    assert_eq!(moto.count("ecs:ListServices"), 3);
    let s = b.request_stats()["ecs:ListServices"];
    assert_eq!((s.calls, s.sent, s.throttles, s.errors), (1, 3, 2, 0));
    // Two throttles within a second are one signal: half of 20/s, and the
    // answer after them gives a twentieth back: 11/s.
    assert_eq!(s.rate_per_min, 11 * 60, "{s:?}");
    // DescribeServices shares the bucket of ListServices.
    let d = b.request_stats()["ecs:DescribeServices"];
    assert_eq!(d.sent, d.calls);
    assert!(d.rate_per_min > 11 * 60, "{d:?}");
}
