//! The AWS SDK backend against moto on loopback, through the proxy that
//! enforces the real API page sizes and batch limits, counts requests and
//! injects faults (tests/moto/proxy.py). Each test has its own moto account.
//!
//! Every mutating call of the backend is proven here: the proxy counts and
//! decodes what was sent (exactly one request of exactly the expected
//! operation, with the expected parameters) and the effect is read back,
//! through the backend's own reads or raw from moto with boto3.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use honban::action::{Action, Resource};
use honban::app::App;
use honban::audit::{AuditLog, Outcome, Phase, Record};
use honban::backend::aws::{AwsBackend, ConnectOptions};
use honban::backend::sim::SimClock;
use honban::backend::{Backend, BackendError, ImageChange, ServiceUpdate};
use honban::config::{ClusterConfig, Config, EnvironmentConfig};
use honban::domain::{AlarmState, DbRole, Service};
use honban::ops::Operation;
use honban::runner::EnvRuntime;
use honban::setup::Options;
use honban::state::{Dialog, EnvState, Mode, State};
use honban::watch::{Activity, OpStatus};
use support::moto::{ACCOUNT_HEADER, Json, Moto, fresh_account};

const REGION: &str = "ap-northeast-1";

fn env_config(name: &str, endpoint: &str, cluster: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        name: name.to_string(),
        region: Some(REGION.to_string()),
        endpoint_url: Some(endpoint.to_string()),
        clusters: vec![ClusterConfig {
            name: cluster.to_string(),
            services: Vec::new(),
        }],
        ..Default::default()
    }
}

fn options(account: &str) -> ConnectOptions {
    ConnectOptions {
        max_attempts: 1,
        operation_timeout: Duration::from_secs(5),
        static_credentials: Some(("testing".into(), "testing".into())),
        extra_headers: vec![(ACCOUNT_HEADER.to_string(), account.to_string())],
        ..ConnectOptions::default()
    }
}

async fn backend(moto: &Moto, account: &str, cluster: &str) -> AwsBackend {
    AwsBackend::connect(
        &env_config("test", &moto.endpoint, cluster),
        options(account),
    )
    .await
}

#[tokio::test]
async fn every_view_reads_what_was_seeded() {
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(&account, &["--name", "works-logue-prod"]);
    let b = backend(moto, &account, "works-logue-prod").await;

    let me = b.caller_identity().await.expect("identity");
    assert_eq!(me.account, account);

    let services = b.services("works-logue-prod").await.expect("services");
    let mut names: Vec<_> = services.items.iter().map(|s| s.name.clone()).collect();
    names.sort();
    let mut expected = seeded.get("services").strings();
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
    assert_eq!(tasks.items.len() as u64, seeded.get("tasks").u64());
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
    let seeded_revisions = seeded
        .get("task_definitions")
        .get("works-logue-prod-web")
        .strings();
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
    let mut seeded_dbs = seeded.get("db_instances").strings();
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
    for s in seeded.get("db_snapshots").strings() {
        assert!(snaps.iter().any(|x| x.id == s), "{s} in {snaps:?}");
    }

    let alarms = b
        .alarms(&["works-logue-prod-".to_string()])
        .await
        .expect("alarms");
    let mut alarm_names: Vec<_> = alarms.iter().map(|a| a.name.clone()).collect();
    alarm_names.sort();
    assert_eq!(alarm_names, seeded.get("alarm_names").strings());
    let firing: Vec<_> = alarms
        .iter()
        .filter(|a| a.state == AlarmState::Alarm)
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(firing, seeded.get("alarms_in_alarm").strings());
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
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(
        &account,
        &[
            "--name",
            "big",
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
    let b = backend(moto, &account, "big").await;
    moto.reset_counts(&account);

    let services = b.services("big").await.expect("services");
    let n_services = seeded.get("services").strings().len();
    assert!(n_services > 100);
    assert_eq!(services.items.len(), n_services);
    let counts = moto.counts(&account);
    assert_eq!(
        counts.get("ecs:ListServices"),
        Some(&(n_services.div_ceil(100) as u64))
    );
    assert_eq!(
        counts.get("ecs:DescribeServices"),
        Some(&(n_services.div_ceil(10) as u64))
    );

    moto.reset_counts(&account);
    let tasks = b.tasks("big").await.expect("tasks");
    let n_tasks = seeded.get("tasks").u64() as usize;
    assert!(n_tasks > 100);
    assert_eq!(tasks.items.len(), n_tasks);
    let counts = moto.counts(&account);
    // RUNNING pages, plus one page for the (empty) STOPPED list.
    assert_eq!(
        counts.get("ecs:ListTasks"),
        Some(&(n_tasks.div_ceil(100) as u64 + 1))
    );
    assert_eq!(
        counts.get("ecs:DescribeTasks"),
        Some(&(n_tasks.div_ceil(100) as u64))
    );

    moto.reset_counts(&account);
    let alarms = b.alarms(&[]).await.expect("alarms");
    // Every seeded alarm, plus the ones target tracking creates for the
    // scaling policies (as AWS does).
    for name in seeded.get("alarm_names").strings() {
        assert!(alarms.iter().any(|a| a.name == name), "{name} missing");
    }
    let n_alarms = alarms.len();
    assert!(n_alarms > 100);
    assert_eq!(
        moto.count(&account, "cloudwatch:DescribeAlarms"),
        n_alarms.div_ceil(100) as u64
    );

    moto.reset_counts(&account);
    let dbs = b.db_instances(&[]).await.expect("databases");
    let n_dbs = seeded.get("db_instances").strings().len();
    assert!(n_dbs > 100);
    assert_eq!(dbs.len(), n_dbs);
    assert_eq!(
        moto.count(&account, "rds:DescribeDBInstances"),
        n_dbs.div_ceil(100) as u64
    );

    // Task definitions are fetched once per ARN and then cached.
    moto.reset_counts(&account);
    let arn = services.items[0].task_definition.clone();
    b.task_definition(&arn).await.expect("first");
    b.task_definition(&arn).await.expect("cached");
    assert_eq!(moto.count(&account, "ecs:DescribeTaskDefinition"), 1);
}

#[tokio::test]
async fn server_errors_become_typed_errors_not_crashes() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "errs", "--minimal"]);
    let b = backend(moto, &account, "errs").await;

    moto.inject_fault(&account, "ecs:ListServices", "throttle", 1);
    match b.services("errs").await {
        Err(BackendError::Throttled { .. }) => {}
        other => panic!("expected throttled, got {other:?}"),
    }
    moto.inject_fault(&account, "cloudwatch:DescribeAlarms", "throttle", 1);
    match b.alarms(&[]).await {
        Err(BackendError::Throttled { .. }) => {}
        other => panic!("expected throttled (CBOR), got {other:?}"),
    }
    moto.inject_fault(&account, "rds:DescribeDBInstances", "expired", 1);
    match b.db_instances(&[]).await {
        Err(BackendError::Unauthorized {
            hint: Some(hint), ..
        }) => {
            assert!(hint.contains("aws sts get-caller-identity"), "{hint}");
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
    moto.inject_fault(&account, "ecs:ListTasks", "500", 1);
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
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "slow", "--minimal"]);
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let b = AwsBackend::connect(&env_config("dead", &dead, "slow"), options(&account)).await;
    let started = std::time::Instant::now();
    match b.services("slow").await {
        Err(BackendError::Unavailable { .. }) => {}
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    let b = AwsBackend::connect(
        &env_config("slow", &moto.endpoint, "slow"),
        ConnectOptions {
            operation_timeout: Duration::from_secs(1),
            ..options(&account)
        },
    )
    .await;
    moto.inject_hang(&account, "ecs:ListServices", 4.0, 1);
    let started = std::time::Instant::now();
    match b.services("slow").await {
        Err(BackendError::Unavailable { message }) => {
            assert!(message.contains("timed out"), "{message}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// The console over the AWS backend: expired credentials show as stale
/// panels with the fix, the data stays, and it recovers by itself.
#[tokio::test]
async fn expired_credentials_show_a_banner_and_recover() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "works-logue-prod"]);
    let cfg = env_config("production", &moto.endpoint, "works-logue-prod");
    let config: Config = toml::from_str("").expect("empty config");
    let backend = AwsBackend::connect(&cfg, options(&account)).await;
    let env = EnvState::from_config(&cfg, &config.refresh, false);
    let keymap = honban::config::keys::Keymap::from_config(&config).expect("keys");
    let clock = SimClock::Wall;
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
    assert_eq!(e.account(), Some(account.as_str()));
    assert_eq!(e.services.data.as_ref().map(Vec::len), Some(3));
    assert!(e.targets.data.as_ref().is_some_and(|t| !t.is_empty()));
    assert!(
        !e.request_stats.is_empty(),
        "request counters reach the state"
    );

    moto.inject_fault(&account, "*", "expired", 0);
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

    moto.clear_faults(&account);
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
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "ro"]);
    let mut cfg = env_config("ro", &moto.endpoint, "ro");
    cfg.read_only = true;
    let config: Config = toml::from_str("").expect("empty config");
    // Built the way the console builds it, so the guard is the real one.
    let aws = std::sync::Arc::new(AwsBackend::connect(&cfg, options(&account)).await);
    let guarded = honban::backend::guard::ReadOnly::new(aws, "ro");
    assert!(config.environments.is_empty());
    moto.reset_counts(&account);
    let services = guarded.services("ro").await.expect("reads pass");
    let web = services
        .items
        .iter()
        .find(|s| s.name == "web")
        .expect("web");
    let refused = [
        guarded
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
            .register_task_definition(honban::backend::ImageChange {
                base: web.task_definition.clone(),
                images: vec![("web".into(), "nginx:1".into())],
            })
            .await
            .err(),
        guarded.set_scaling_bounds("ro", "web", 3, 9).await.err(),
        guarded
            .create_db_snapshot("ro-db", "ro-db-snap")
            .await
            .err(),
        guarded.reboot_db_instance("ro-db", true).await.err(),
        guarded
            .stop_task("ro", "arn:aws:ecs:us-east-1:1:task/ro/0", "stopped by test")
            .await
            .err(),
        guarded
            .set_alarm_actions(&["ro-web-cpu-high".into()], false)
            .await
            .err(),
    ];
    for e in refused {
        assert!(matches!(e, Some(BackendError::ReadOnly { .. })), "{e:?}");
    }
    let counts = moto.counts(&account);
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

// --------------------------------------------------------------------------
// Mutating calls: each one sent exactly once (counted and decoded at the
// proxy) and its effect read back from moto.

/// The mutating requests (any operation not named Describe*, List* or Get*)
/// the proxy counted for `account`.
fn mutating_counts(moto: &Moto, account: &str) -> BTreeMap<String, u64> {
    moto.counts(account)
        .into_iter()
        .filter(|(op, _)| {
            op.split(':')
                .nth(1)
                .is_some_and(|o| !["Describe", "List", "Get"].iter().any(|r| o.starts_with(r)))
        })
        .collect()
}

/// `{op: n, …}` as the proxy's counts.
fn ops(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(op, n)| ((*op).to_string(), *n))
        .collect()
}

/// The one `operation` request `account` sent since the counts were reset.
fn the_request(moto: &Moto, account: &str, operation: &str) -> Json {
    let mut sent = moto.requests(account, operation);
    assert_eq!(sent.len(), 1, "{operation} requests: {sent:?}");
    sent.remove(0)
}

async fn service_named(b: &AwsBackend, cluster: &str, name: &str) -> Service {
    b.services(cluster)
        .await
        .expect("services")
        .items
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name} in {cluster}"))
}

/// A task definition as moto stores it, with its tags (DescribeTaskDefinition
/// with `include: TAGS`, by boto3 behind the product's back).
fn raw_task_definition(moto: &Moto, account: &str, arn: &str) -> Json {
    moto.aws(
        account,
        "ecs",
        "describe_task_definition",
        &format!(r#"{{"taskDefinition": "{arn}", "include": ["TAGS"]}}"#),
    )
}

/// What must not change between a revision and its copy: everything but
/// the identity of the revision.
fn comparable(raw: &Json) -> Json {
    let mut raw = raw.clone();
    let td = raw.get_mut("taskDefinition");
    for key in [
        "taskDefinitionArn",
        "revision",
        "registeredAt",
        "registeredBy",
    ] {
        td.remove(key);
    }
    raw
}

/// `raw` with the image of `container` replaced.
fn with_image(raw: &Json, container: &str, image: &str) -> Json {
    let mut raw = raw.clone();
    let containers = raw
        .get_mut("taskDefinition")
        .get_mut("containerDefinitions")
        .as_array_mut()
        .expect("containerDefinitions is a list");
    let c = containers
        .iter_mut()
        .find(|c| c.get("name").as_str() == Some(container))
        .unwrap_or_else(|| panic!("no container {container}"));
    *c.get_mut("image") = Json::String(image.to_string());
    raw
}

/// The paths at which two JSON values differ, for readable failures.
fn json_diff(a: &Json, b: &Json, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}.{key}");
                match (x.get(key), y.get(key)) {
                    (Some(v), Some(w)) => json_diff(v, w, &p, out),
                    (v, w) => out.push(format!("{p}: {v:?} != {w:?}")),
                }
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_diff(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a:?} != {b:?}")),
        _ => {}
    }
}

/// The new revision equals the old one in every field but the image of
/// `container`.
fn assert_copied_but_image(before: &Json, after: &Json, container: &str, image: &str) {
    let expected = with_image(&comparable(before), container, image);
    let actual = comparable(after);
    let mut diff = Vec::new();
    json_diff(&expected, &actual, "", &mut diff);
    assert!(
        diff.is_empty(),
        "the new revision differs from its base beyond the image:\n{}",
        diff.join("\n")
    );
    // And the image did change.
    assert_ne!(comparable(before), actual);
}

#[tokio::test]
async fn scaling_a_service_sends_one_update_and_the_count_reads_back() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "scale"]);
    let b = backend(moto, &account, "scale").await;
    let before = service_named(&b, "scale", "web").await;
    assert_eq!(before.desired_count, 2);

    moto.reset_counts(&account);
    let updated = b
        .update_service(
            "scale",
            "web",
            ServiceUpdate {
                desired_count: Some(5),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.name, "web");
    assert_eq!(updated.desired_count, 5);
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let sent = the_request(moto, &account, "ecs:UpdateService");
    assert_eq!(sent.get("cluster").as_str(), Some("scale"));
    assert_eq!(sent.get("service").as_str(), Some("web"));
    assert_eq!(sent.get("desiredCount").as_u64(), Some(5));
    assert!(sent.field("taskDefinition").is_none(), "{sent:?}");
    assert_ne!(
        sent.field("forceNewDeployment").and_then(Json::as_bool),
        Some(true),
        "a scale is not a restart"
    );

    let services = b.services("scale").await.expect("services").items;
    let get = |name: &str| {
        services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(get("web").desired_count, 5);
    assert_eq!(get("web").running_count, 5, "moto jumps running to desired");
    assert_eq!(get("web").task_definition, before.task_definition);
    assert_eq!(get("api").desired_count, 2, "other services untouched");
    assert_eq!(get("worker").desired_count, 2);
}

#[tokio::test]
async fn scaling_bounds_are_registered_once_and_read_back() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "bounds"]);
    let b = backend(moto, &account, "bounds").await;

    moto.reset_counts(&account);
    let target = b
        .set_scaling_bounds("bounds", "web", 3, 12)
        .await
        .expect("bounds");
    assert_eq!(target.resource_id, "service/bounds/web");
    assert_eq!((target.min_capacity, target.max_capacity), (3, 12));
    assert_eq!(target.policies.len(), 1, "the CPU policy stays");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("application-autoscaling:RegisterScalableTarget", 1)])
    );
    let sent = the_request(
        moto,
        &account,
        "application-autoscaling:RegisterScalableTarget",
    );
    assert_eq!(sent.get("ServiceNamespace").as_str(), Some("ecs"));
    assert_eq!(sent.get("ResourceId").as_str(), Some("service/bounds/web"));
    assert_eq!(
        sent.get("ScalableDimension").as_str(),
        Some("ecs:service:DesiredCount")
    );
    assert_eq!(sent.get("MinCapacity").as_u64(), Some(3));
    assert_eq!(sent.get("MaxCapacity").as_u64(), Some(12));

    let targets = b
        .scalable_targets(&["bounds".into()])
        .await
        .expect("targets");
    let bounds = |svc: &str| {
        targets
            .iter()
            .find(|t| t.service_name() == Some(svc))
            .map(|t| (t.min_capacity, t.max_capacity, t.policies.len()))
    };
    assert_eq!(bounds("web"), Some((3, 12, 1)));
    assert_eq!(bounds("api"), Some((2, 8, 1)), "other targets untouched");
    assert_eq!(bounds("worker"), None);

    // A service without a target gets one (RegisterScalableTarget creates it).
    let worker = b
        .set_scaling_bounds("bounds", "worker", 1, 4)
        .await
        .expect("new target");
    assert_eq!((worker.min_capacity, worker.max_capacity), (1, 4));
    assert!(worker.policies.is_empty());

    // Bounds the wrong way round are refused before anything is sent.
    moto.reset_counts(&account);
    match b.set_scaling_bounds("bounds", "web", 9, 4).await {
        Err(BackendError::Invalid { message }) => assert!(message.contains("above"), "{message}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(mutating_counts(moto, &account).is_empty());
    let targets = b
        .scalable_targets(&["bounds".into()])
        .await
        .expect("targets");
    let web = targets
        .iter()
        .find(|t| t.service_name() == Some("web"))
        .expect("web");
    assert_eq!((web.min_capacity, web.max_capacity), (3, 12));
}

#[tokio::test]
async fn a_new_image_copies_every_other_field_and_deploys() {
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(&account, &["--name", "img"]);
    let b = backend(moto, &account, "img").await;
    let family = "img-web";
    let seeded_revisions = seeded.get("task_definitions").get(family).strings();
    let base = seeded_revisions.last().expect("revisions").clone();
    let web = service_named(&b, "img", "web").await;
    assert_eq!(web.task_definition, base);

    let before = raw_task_definition(moto, &account, &base);
    // The base carries everything a production definition does, so that
    // the comparison below means something.
    let td = before.get("taskDefinition");
    let c = &td
        .get("containerDefinitions")
        .as_array()
        .expect("containers")[0];
    for key in [
        "secrets",
        "environment",
        "portMappings",
        "healthCheck",
        "mountPoints",
        "ulimits",
        "dockerLabels",
    ] {
        assert!(
            c.get(key) != &Json::Array(Vec::new()),
            "the seeded container has no {key}"
        );
    }
    assert_eq!(
        c.get("logConfiguration").get("logDriver").as_str(),
        Some("awslogs")
    );
    for key in [
        "volumes",
        "runtimePlatform",
        "ephemeralStorage",
        "taskRoleArn",
        "executionRoleArn",
        "requiresCompatibilities",
        "cpu",
        "memory",
    ] {
        assert!(
            td.field(key).is_some(),
            "the seeded definition has no {key}"
        );
    }
    assert_eq!(td.get("networkMode").as_str(), Some("awsvpc"));
    assert_eq!(
        before.get("tags").as_array().map(<[Json]>::len),
        Some(2),
        "tags"
    );
    let old_domain = b.task_definition(&base).await.expect("base");

    moto.reset_counts(&account);
    let image =
        "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:2026.11.24-e4d1f00";
    let new = b
        .register_task_definition(ImageChange {
            base: base.clone(),
            images: vec![("web".into(), image.into())],
        })
        .await
        .expect("register");
    assert_eq!(new.family, family);
    assert_eq!(new.revision as usize, seeded_revisions.len() + 1);
    assert_eq!(new.containers[0].image, image);
    assert_eq!(new.containers[0].secrets, old_domain.containers[0].secrets);
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:RegisterTaskDefinition", 1)])
    );
    assert_eq!(moto.count(&account, "ecs:DescribeTaskDefinition"), 1);
    let sent = the_request(moto, &account, "ecs:RegisterTaskDefinition");
    assert_eq!(sent.get("family").as_str(), Some(family));

    let after = raw_task_definition(moto, &account, &new.arn);
    assert_copied_but_image(&before, &after, "web", image);
    // The backend reads the same back.
    let read = b.task_definition(&new.arn).await.expect("new revision");
    assert_eq!(
        read,
        honban::domain::TaskDefinition {
            arn: new.arn.clone(),
            revision: new.revision,
            containers: vec![honban::domain::ContainerDefinition {
                image: image.to_string(),
                ..old_domain.containers[0].clone()
            }],
            registered_at: read.registered_at,
            ..old_domain.clone()
        }
    );

    // Deploy it.
    moto.reset_counts(&account);
    let updated = b
        .update_service(
            "img",
            "web",
            ServiceUpdate {
                task_definition: Some(new.arn.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("deploy");
    assert_eq!(updated.task_definition, new.arn);
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let sent = the_request(moto, &account, "ecs:UpdateService");
    assert_eq!(sent.get("taskDefinition").as_str(), Some(new.arn.as_str()));
    assert!(sent.field("desiredCount").is_none(), "{sent:?}");
    let web = service_named(&b, "img", "web").await;
    assert_eq!(web.task_definition, new.arn);
    assert_eq!(web.desired_count, 2, "the count is not touched");
    let api = service_named(&b, "img", "api").await;
    assert!(
        api.task_definition.contains("img-api:"),
        "other services untouched"
    );
}

/// A definition with everything the Fargate seed cannot have (EC2, bridge
/// networking, placement constraints, a sidecar with a proxy configuration,
/// host and Docker volumes, pid/ipc modes, ...): only the changed container's
/// image differs in the copy; the sidecar is left exactly as it was.
#[tokio::test]
async fn a_new_image_for_one_of_two_containers_leaves_the_rest_alone() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "ec2", "--minimal"]);
    let b = backend(moto, &account, "ec2").await;
    let params = format!(
        r#"{{
        "family": "ec2-mesh",
        "networkMode": "bridge",
        "requiresCompatibilities": ["EC2"],
        "taskRoleArn": "arn:aws:iam::{account}:role/ec2-mesh-task",
        "executionRoleArn": "arn:aws:iam::{account}:role/ecsTaskExecutionRole",
        "cpu": "1024",
        "memory": "2048",
        "pidMode": "task",
        "ipcMode": "task",
        "placementConstraints": [
            {{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m7g.*"}}
        ],
        "runtimePlatform": {{"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}},
        "volumes": [
            {{"name": "data", "host": {{"sourcePath": "/srv/data"}}}},
            {{"name": "cache", "dockerVolumeConfiguration": {{
                "scope": "shared", "autoprovision": true, "driver": "local",
                "labels": {{"purpose": "cache"}}}}}}
        ],
        "proxyConfiguration": {{
            "type": "APPMESH",
            "containerName": "envoy",
            "properties": [
                {{"name": "IgnoredUID", "value": "1337"}},
                {{"name": "ProxyIngressPort", "value": "15000"}},
                {{"name": "ProxyEgressPort", "value": "15001"}},
                {{"name": "AppPorts", "value": "8080"}},
                {{"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"}}
            ]
        }},
        "tags": [{{"key": "team", "value": "platform"}}, {{"key": "cost-center", "value": "42"}}],
        "containerDefinitions": [
            {{
                "name": "app",
                "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/mesh/app:1.0.0",
                "cpu": 768,
                "memory": 1536,
                "memoryReservation": 1024,
                "essential": true,
                "command": ["node", "server.js"],
                "entryPoint": ["/usr/bin/tini", "--"],
                "links": ["envoy"],
                "dependsOn": [{{"containerName": "envoy", "condition": "HEALTHY"}}],
                "environment": [{{"name": "PORT", "value": "8080"}}],
                "environmentFiles": [{{"value": "arn:aws:s3:::mesh-config/app.env", "type": "s3"}}],
                "secrets": [
                    {{"name": "API_KEY", "valueFrom": "arn:aws:ssm:ap-northeast-1:{account}:parameter/mesh/api-key"}}
                ],
                "portMappings": [{{"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http", "appProtocol": "http"}}],
                "mountPoints": [
                    {{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}},
                    {{"sourceVolume": "cache", "containerPath": "/cache", "readOnly": false}}
                ],
                "logConfiguration": {{
                    "logDriver": "awslogs",
                    "options": {{"awslogs-group": "/ecs/ec2-mesh", "awslogs-region": "ap-northeast-1", "awslogs-stream-prefix": "app"}},
                    "secretOptions": [{{"name": "token", "valueFrom": "arn:aws:ssm:ap-northeast-1:{account}:parameter/mesh/log-token"}}]
                }},
                "healthCheck": {{"command": ["CMD", "/bin/health"], "interval": 10, "timeout": 2, "retries": 5, "startPeriod": 20}},
                "linuxParameters": {{"initProcessEnabled": true, "capabilities": {{"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}}}},
                "systemControls": [{{"namespace": "net.core.somaxconn", "value": "1024"}}],
                "extraHosts": [{{"hostname": "legacy-db", "ipAddress": "10.0.8.15"}}],
                "dockerLabels": {{"mesh": "true"}},
                "ulimits": [{{"name": "nofile", "softLimit": 4096, "hardLimit": 8192}}],
                "stopTimeout": 45,
                "startTimeout": 60
            }},
            {{
                "name": "envoy",
                "image": "840364872350.dkr.ecr.ap-northeast-1.amazonaws.com/aws-appmesh-envoy:v1.29.6.0-prod",
                "memory": 256,
                "essential": true,
                "user": "1337",
                "environment": [{{"name": "APPMESH_RESOURCE_ARN", "value": "arn:aws:appmesh:ap-northeast-1:{account}:mesh/m/virtualNode/app"}}],
                "healthCheck": {{"command": ["CMD-SHELL", "curl -s http://localhost:9901/ready | grep -q LIVE"], "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10}}
            }}
        ]
    }}"#
    );
    let registered = moto.aws(&account, "ecs", "register_task_definition", &params);
    let base = registered
        .get("taskDefinition")
        .get("taskDefinitionArn")
        .as_str()
        .expect("an ARN")
        .to_string();
    let before = raw_task_definition(moto, &account, &base);

    // An unknown container is refused before anything is registered.
    moto.reset_counts(&account);
    match b
        .register_task_definition(ImageChange {
            base: base.clone(),
            images: vec![("sidecar".into(), "nginx:1".into())],
        })
        .await
    {
        Err(BackendError::Invalid { message }) => assert!(message.contains("sidecar"), "{message}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(mutating_counts(moto, &account).is_empty());

    let image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/mesh/app:1.1.0";
    let new = b
        .register_task_definition(ImageChange {
            base: base.clone(),
            images: vec![("app".into(), image.into())],
        })
        .await
        .expect("register");
    assert_eq!(new.revision, 2);
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:RegisterTaskDefinition", 1)])
    );
    let after = raw_task_definition(moto, &account, &new.arn);
    assert_copied_but_image(&before, &after, "app", image);

    // A base that does not exist: a typed error, nothing registered.
    moto.reset_counts(&account);
    let missing = format!("arn:aws:ecs:{REGION}:{account}:task-definition/ec2-mesh:99");
    match b
        .register_task_definition(ImageChange {
            base: missing,
            images: vec![("app".into(), image.into())],
        })
        .await
    {
        Err(BackendError::NotFound { .. } | BackendError::Invalid { .. }) => {}
        other => panic!("expected not found or invalid, got {other:?}"),
    }
    assert!(mutating_counts(moto, &account).is_empty());
    assert_eq!(
        b.task_definition_revisions("ec2-mesh")
            .await
            .expect("revisions"),
        vec![new.arn.clone(), base.clone()]
    );
}

#[tokio::test]
async fn rollback_points_the_service_at_an_earlier_revision() {
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(&account, &["--name", "rb"]);
    let b = backend(moto, &account, "rb").await;
    let family = "rb-web";
    let mut oldest_first = seeded.get("task_definitions").get(family).strings();
    let revisions = b
        .task_definition_revisions(family)
        .await
        .expect("revisions");
    oldest_first.reverse();
    assert_eq!(revisions, oldest_first, "newest first");

    // Deploy a new image, then roll back to the revision before it.
    let new = b
        .register_task_definition(ImageChange {
            base: revisions[0].clone(),
            images: vec![("web".into(), "works-logue/web:broken".into())],
        })
        .await
        .expect("register");
    b.update_service(
        "rb",
        "web",
        ServiceUpdate {
            task_definition: Some(new.arn.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("deploy");
    assert_eq!(
        service_named(&b, "rb", "web").await.task_definition,
        new.arn
    );
    let revisions = b
        .task_definition_revisions(family)
        .await
        .expect("revisions");
    assert_eq!(revisions.len(), 4);
    assert_eq!(revisions[0], new.arn, "the new revision is first");
    let numbers: Vec<u32> = revisions
        .iter()
        .map(|a| {
            a.rsplit(':')
                .next()
                .and_then(|r| r.parse().ok())
                .expect("revision")
        })
        .collect();
    assert_eq!(numbers, vec![4, 3, 2, 1]);

    for target in [&revisions[1], &revisions[3]] {
        moto.reset_counts(&account);
        let updated = b
            .update_service(
                "rb",
                "web",
                ServiceUpdate {
                    task_definition: Some(target.clone()),
                    ..Default::default()
                },
            )
            .await
            .expect("rollback");
        assert_eq!(&updated.task_definition, target);
        assert_eq!(
            mutating_counts(moto, &account),
            ops(&[("ecs:UpdateService", 1)]),
            "a rollback registers nothing"
        );
        let sent = the_request(moto, &account, "ecs:UpdateService");
        assert_eq!(sent.get("taskDefinition").as_str(), Some(target.as_str()));
        let web = service_named(&b, "rb", "web").await;
        assert_eq!(&web.task_definition, target);
        assert_eq!(web.desired_count, 2);
    }
    // Rolling back deregisters nothing.
    assert_eq!(
        b.task_definition_revisions(family)
            .await
            .expect("revisions"),
        revisions
    );
}

#[tokio::test]
async fn restart_sends_one_forced_deployment() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "restart"]);
    let b = backend(moto, &account, "restart").await;
    let before = service_named(&b, "restart", "api").await;
    assert_eq!(before.deployments.len(), 1);

    moto.reset_counts(&account);
    let updated = b
        .update_service(
            "restart",
            "api",
            ServiceUpdate {
                force_new_deployment: true,
                ..Default::default()
            },
        )
        .await
        .expect("restart");
    assert_eq!(updated.name, "api");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let sent = the_request(moto, &account, "ecs:UpdateService");
    assert_eq!(sent.get("service").as_str(), Some("api"));
    assert_eq!(
        sent.get("forceNewDeployment").as_bool(),
        Some(true),
        "{sent:?}"
    );
    assert!(sent.field("desiredCount").is_none(), "{sent:?}");
    assert!(sent.field("taskDefinition").is_none(), "{sent:?}");

    let after = service_named(&b, "restart", "api").await;
    assert_eq!(after.task_definition, before.task_definition);
    assert_eq!(after.desired_count, before.desired_count);
    // moto gives the primary deployment a new id (and nothing more).
    assert_eq!(after.deployments.len(), 1);
    assert_ne!(after.deployments[0].id, before.deployments[0].id);
    let web = service_named(&b, "restart", "web").await;
    assert_eq!(web.deployments.len(), 1, "other services untouched");
}

#[tokio::test]
async fn a_manual_snapshot_is_created_once_and_listed() {
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(&account, &["--name", "snap"]);
    let b = backend(moto, &account, "snap").await;
    let db = "snap-db".to_string();

    moto.reset_counts(&account);
    let snap = b
        .create_db_snapshot(&db, "snap-db-before-deploy")
        .await
        .expect("snapshot");
    assert_eq!(snap.id, "snap-db-before-deploy");
    assert_eq!(snap.instance_id, db);
    assert_eq!(snap.snapshot_type, "manual");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:CreateDBSnapshot", 1)])
    );
    let sent = the_request(moto, &account, "rds:CreateDBSnapshot");
    assert_eq!(sent.get("DBInstanceIdentifier").as_str(), Some("snap-db"));
    assert_eq!(
        sent.get("DBSnapshotIdentifier").as_str(),
        Some("snap-db-before-deploy")
    );

    let snaps = b
        .db_snapshots(std::slice::from_ref(&db))
        .await
        .expect("snapshots");
    let listed = snaps
        .iter()
        .find(|s| s.id == "snap-db-before-deploy")
        .unwrap_or_else(|| panic!("not listed: {snaps:?}"));
    assert_eq!(listed.snapshot_type, "manual");
    assert_eq!(listed.instance_id, db);
    assert_eq!(listed.status, "available");
    assert_eq!(listed.allocated_storage_gib, 100);
    for s in seeded.get("db_snapshots").strings() {
        assert!(snaps.iter().any(|x| x.id == s), "{s} kept");
    }

    // The same name again, or an instance that does not exist: typed errors.
    match b.create_db_snapshot(&db, "snap-db-before-deploy").await {
        Err(BackendError::Invalid { message }) => {
            assert!(message.contains("AlreadyExists"), "{message}")
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    match b.create_db_snapshot("snap-nope", "snap-nope-1").await {
        Err(BackendError::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(moto.count(&account, "rds:CreateDBSnapshot"), 3);
    let again = b.db_snapshots(&[]).await.expect("snapshots");
    assert_eq!(
        again.len(),
        snaps.len(),
        "the failed requests created nothing"
    );
}

#[tokio::test]
async fn a_failover_reboot_is_sent_once_and_a_missing_instance_is_a_typed_error() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "boot"]);
    let b = backend(moto, &account, "boot").await;

    moto.reset_counts(&account);
    let db = b
        .reboot_db_instance("boot-db", true)
        .await
        .expect("reboot with failover");
    assert_eq!(db.id, "boot-db");
    assert!(db.multi_az);
    assert_eq!(db.engine, "postgres");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:RebootDBInstance", 1)])
    );
    let sent = the_request(moto, &account, "rds:RebootDBInstance");
    assert_eq!(sent.get("DBInstanceIdentifier").as_str(), Some("boot-db"));
    assert_eq!(sent.get("ForceFailover").as_str(), Some("true"));

    // Without failover the flag is not sent at all.
    moto.reset_counts(&account);
    let replica = b
        .reboot_db_instance("boot-db-replica", false)
        .await
        .expect("plain reboot");
    assert_eq!(replica.id, "boot-db-replica");
    let sent = the_request(moto, &account, "rds:RebootDBInstance");
    assert!(sent.field("ForceFailover").is_none(), "{sent:?}");

    moto.reset_counts(&account);
    match b.reboot_db_instance("boot-nope", true).await {
        Err(BackendError::NotFound { resource }) => {
            assert!(resource.contains("RebootDBInstance"), "{resource}")
        }
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:RebootDBInstance", 1)])
    );
    // Nothing else changed (moto simulates no failover).
    let dbs = b.db_instances(&[]).await.expect("databases");
    assert_eq!(dbs.len(), 2);
    assert!(dbs.iter().all(|d| d.status == "available"), "{dbs:?}");
}

#[tokio::test]
async fn alarm_actions_are_disabled_and_enabled_again() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "mute"]);
    let b = backend(moto, &account, "mute").await;
    let prefix = vec!["mute-".to_string()];
    let muted = vec!["mute-web-cpu-high".to_string(), "mute-api-5xx".to_string()];
    let enabled = |alarms: &[honban::domain::Alarm]| -> BTreeMap<String, bool> {
        alarms
            .iter()
            .map(|a| (a.name.clone(), a.actions_enabled))
            .collect()
    };
    let before = enabled(&b.alarms(&prefix).await.expect("alarms"));
    assert!(before.len() > muted.len());
    assert!(before.values().all(|e| *e), "{before:?}");

    moto.reset_counts(&account);
    b.set_alarm_actions(&muted, false).await.expect("disable");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("cloudwatch:DisableAlarmActions", 1)])
    );
    let sent = the_request(moto, &account, "cloudwatch:DisableAlarmActions");
    assert_eq!(sent.get("AlarmNames").strings(), muted);
    let after = enabled(&b.alarms(&prefix).await.expect("alarms"));
    for (name, on) in &after {
        assert_eq!(*on, !muted.contains(name), "{name}: {after:?}");
    }
    // moto itself agrees (read raw, past the CBOR translation).
    let raw = moto.aws(
        &account,
        "cloudwatch",
        "describe_alarms",
        r#"{"AlarmNames": ["mute-web-cpu-high"]}"#,
    );
    let alarm = &raw.get("MetricAlarms").as_array().expect("alarms")[0];
    assert_eq!(alarm.get("ActionsEnabled").as_bool(), Some(false));

    moto.reset_counts(&account);
    b.set_alarm_actions(&muted, true).await.expect("enable");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("cloudwatch:EnableAlarmActions", 1)])
    );
    let sent = the_request(moto, &account, "cloudwatch:EnableAlarmActions");
    assert_eq!(sent.get("AlarmNames").strings(), muted);
    let again = enabled(&b.alarms(&prefix).await.expect("alarms"));
    assert_eq!(again, before);
}

#[tokio::test]
async fn updating_a_missing_service_is_a_typed_error() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "miss", "--minimal"]);
    let b = backend(moto, &account, "miss").await;
    let before = service_named(&b, "miss", "web").await;
    let scale = ServiceUpdate {
        desired_count: Some(3),
        ..Default::default()
    };

    moto.reset_counts(&account);
    match b.update_service("miss", "nope", scale.clone()).await {
        Err(BackendError::NotFound { resource }) => {
            assert!(resource.contains("ServiceNotFound"), "{resource}")
        }
        other => panic!("expected not found, got {other:?}"),
    }
    match b
        .update_service("no-such-cluster", "web", scale.clone())
        .await
    {
        Err(BackendError::NotFound { resource }) => {
            assert!(resource.contains("ClusterNotFound"), "{resource}")
        }
        other => panic!("expected not found, got {other:?}"),
    }
    let missing = format!("arn:aws:ecs:{REGION}:{account}:task-definition/miss-web:42");
    match b
        .update_service(
            "miss",
            "web",
            ServiceUpdate {
                task_definition: Some(missing),
                ..Default::default()
            },
        )
        .await
    {
        Err(BackendError::NotFound { .. } | BackendError::Invalid { .. }) => {}
        other => panic!("expected not found or invalid, got {other:?}"),
    }
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 3)]),
        "each sent once, none retried"
    );
    let after = service_named(&b, "miss", "web").await;
    assert_eq!(after.desired_count, before.desired_count);
    assert_eq!(after.task_definition, before.task_definition);
    let stats = b.request_stats();
    assert_eq!(stats.get("ecs:UpdateService").map(|s| s.errors), Some(3));
}

// --------------------------------------------------------------------------
// Operations through the console: the real App (reducer, runner, audit log,
// AWS SDK backend), built by `setup::build` exactly as `honban` builds it (so
// the real read-only and dry-run guards apply), driven by key presses against
// moto. What reached the server is counted and decoded at the proxy, the
// effect is read back raw from moto, and the audit log is read back from disk.

/// The console against moto, with its audit log in a temporary directory.
struct Console {
    app: App,
    audit: PathBuf,
    _dir: tempfile::TempDir,
}

/// Builds the console for `env` the way `honban` does and loads every view.
/// `audit` overrides where the audit log is written.
async fn console(
    account: &str,
    env: EnvironmentConfig,
    tweak: impl FnOnce(&mut Config, &mut Options),
    audit: Option<PathBuf>,
) -> Console {
    let mut config: Config = toml::from_str("").expect("empty config");
    config.environments.push(env);
    let mut opts = Options {
        aws: options(account),
        ..Options::default()
    };
    tweak(&mut config, &mut opts);
    let clock = SimClock::Wall;
    let (state, runtimes) = honban::setup::build(&config, &opts, clock.clone(), "test.toml")
        .await
        .expect("setup");
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = audit.unwrap_or_else(|| dir.path().join("state/audit.jsonl"));
    let mut app =
        App::new(state, runtimes, clock).with_audit(Arc::new(AuditLog::new(audit.clone())));
    for resource in Resource::ALL {
        app.dispatch(Action::PollDue { env: 0, resource });
    }
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    assert!(e.services.data.is_some() && e.databases.data.is_some());
    Console {
        app,
        audit,
        _dir: dir,
    }
}

/// A key pressed by an operator who reads the screen first: a frame is
/// drawn before it (so an open confirmation accepts it).
fn press(app: &mut App, code: KeyCode) {
    app.dispatch(Action::Drawn);
    app.dispatch(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Opens a view by its key (`2` services, `4` databases, `5` alarms) and
/// moves the selection to the row named `name`, with keys.
async fn select(app: &mut App, view: char, name: &str) {
    press(app, KeyCode::Char(view));
    app.settle().await;
    let rows = |s: &State| -> Vec<String> {
        match view {
            '2' => s
                .visible_services()
                .iter()
                .map(|x| x.name.clone())
                .collect(),
            '4' => s.visible_databases().iter().map(|x| x.id.clone()).collect(),
            '5' => s.visible_alarms().iter().map(|x| x.name.clone()).collect(),
            _ => panic!("no view key {view}"),
        }
    };
    let names = rows(&app.state);
    let i = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{name} not in {names:?}"));
    press(app, KeyCode::Char('g'));
    for _ in 0..i {
        press(app, KeyCode::Char('j'));
    }
    let s = &app.state;
    assert_eq!(
        rows(s).get(s.selected(s.view().kind())).map(String::as_str),
        Some(name)
    );
}

/// Clears an input dialog's prefilled value.
fn clear_input(app: &mut App) {
    for _ in 0..32 {
        press(app, KeyCode::Backspace);
    }
}

fn is_normal(app: &App) -> bool {
    matches!(app.state.mode, Mode::Normal)
}

fn confirming(app: &App) -> Option<&Operation> {
    match &app.state.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => Some(op),
        _ => None,
    }
}

/// The error line of the open confirmation ("" without one).
fn dialog_error(app: &App) -> String {
    match &app.state.mode {
        Mode::Dialog(Dialog::Confirm { error, .. } | Dialog::Rollback { error, .. }) => {
            error.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

fn flash_text(app: &App) -> String {
    app.state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default()
}

/// The last operation of the session.
fn last_activity(app: &App) -> &Activity {
    app.state.activity.last().expect("an operation was started")
}

fn audit_records(path: &std::path::Path) -> Vec<Record> {
    let (records, skipped) = AuditLog::new(path)
        .read_recent(1000)
        .expect("read audit log");
    assert_eq!(skipped, 0, "every audit line parses");
    records
}

/// The intent and result records of operation `id`: exactly two, intent
/// first, describing the same operation by the same caller; returns them.
/// (A final record, once the change was followed to its end, is checked by
/// the tests that wait for it.) Every record of a real environment says it
/// is not simulated.
fn audited(app: &App, path: &std::path::Path, id: &str) -> (Record, Record) {
    let records: Vec<Record> = audit_records(path)
        .into_iter()
        .filter(|r| r.id == id)
        .inspect(|r| assert!(!r.simulated, "a real environment: {r:?}"))
        .filter(|r| r.phase != Phase::Final)
        .collect();
    let [intent, result] = records.as_slice() else {
        panic!("expected an intent and a result for {id}: {records:?}");
    };
    assert_eq!(intent.phase, Phase::Intent);
    assert_eq!(intent.outcome, None, "an intent has no outcome yet");
    assert_eq!(result.phase, Phase::Result);
    assert!(result.outcome.is_some());
    assert!(intent.time <= result.time);
    let e = &app.state.envs[0];
    let identity = e.identity.data.as_ref().expect("caller identity loaded");
    for r in [intent, result] {
        assert_eq!(r.environment, e.name);
        assert_eq!(r.account.as_deref(), Some(identity.account.as_str()));
        assert_eq!(r.caller.as_deref(), Some(identity.arn.as_str()));
        assert_eq!(r.region.as_deref(), Some(REGION));
        assert!(!r.calls.is_empty());
    }
    for (a, b) in [
        (&intent.operation, &result.operation),
        (&intent.resource, &result.resource),
    ] {
        assert_eq!(a, b);
    }
    assert_eq!(intent.parameters, result.parameters);
    assert_eq!(intent.calls, result.calls);
    assert_eq!(intent.dry_run, result.dry_run);
    (intent.clone(), result.clone())
}

fn accepted(a: &Activity) -> bool {
    matches!(a.status, OpStatus::Accepted { .. })
}

fn failed_with(a: &Activity) -> String {
    match &a.status {
        OpStatus::Failed { error, .. } => error.clone(),
        other => panic!("expected {} to fail, it is {other:?}", a.op.title()),
    }
}

fn raw_service(moto: &Moto, account: &str, cluster: &str, service: &str) -> Json {
    let raw = moto.aws(
        account,
        "ecs",
        "describe_services",
        &format!(r#"{{"cluster": "{cluster}", "services": ["{service}"]}}"#),
    );
    raw.get("services").as_array().expect("services")[0].clone()
}

/// Scaling in a protected environment, by keys: the typed name is required,
/// one request is sent however often the confirming key is pressed, the
/// count reads back, and the audit log pairs an intent with its result.
#[tokio::test]
async fn scaling_by_keys_in_a_protected_environment_is_typed_sent_once_and_audited() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "prot"]);
    let mut env = env_config("production", &moto.endpoint, "prot");
    env.protected = true;
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;
    assert_eq!(app.state.service("web").map(|s| s.desired_count), Some(2));

    moto.reset_counts(&account);
    select(&mut app, '2', "web").await;
    press(&mut app, KeyCode::Char('s'));
    match &app.state.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "2", "prefilled"),
        other => panic!("expected the scale prompt, got {other:?}"),
    }
    clear_input(&mut app);
    type_text(&mut app, "5");
    press(&mut app, KeyCode::Enter);
    let op = confirming(&app).expect("a confirmation").clone();
    assert!(
        matches!(op, Operation::Scale { from: 2, to: 5, .. }),
        "{op:?}"
    );

    // Enter with no name, with the service's name alone (the same in every
    // environment), then with `y` added: the dialog stays and says why in
    // the dialog, nothing is sent, and `y` is typed text here.
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some(), "still confirming");
    let error = dialog_error(&app);
    assert!(error.contains("type production/web"), "{error}");
    type_text(&mut app, "web");
    press(&mut app, KeyCode::Enter);
    let error = dialog_error(&app);
    assert!(error.contains("\"web\" is not production/web"), "{error}");
    type_text(&mut app, "y");
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some(), "still confirming");
    app.settle().await;
    assert!(app.state.activity.is_empty());
    assert_eq!(mutating_counts(moto, &account), ops(&[]), "nothing sent");
    assert!(audit_records(&audit).is_empty(), "nothing audited");

    // ENV/NAME; then Enter again and `y` (a double press).
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "production/web");
    assert_eq!(dialog_error(&app), "", "typing clears the error");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(app.state.activity.len(), 1, "one operation");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let sent = the_request(moto, &account, "ecs:UpdateService");
    assert_eq!(sent.get("cluster").as_str(), Some("prot"));
    assert_eq!(sent.get("service").as_str(), Some("web"));
    assert_eq!(sent.get("desiredCount").as_u64(), Some(5));

    // Read back: raw from moto, and in the console (refreshed after the call).
    assert_eq!(
        raw_service(moto, &account, "prot", "web")
            .get("desiredCount")
            .as_u64(),
        Some(5)
    );
    assert_eq!(app.state.service("web").map(|s| s.desired_count), Some(5));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    assert!(a.watch.is_some(), "followed to the end");

    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(audit_records(&audit).len(), 2);
    assert_eq!(intent.environment, "production");
    assert_eq!(intent.account.as_deref(), Some(account.as_str()));
    let caller = moto.aws(&account, "sts", "get_caller_identity", "{}");
    assert_eq!(intent.caller.as_deref(), caller.get("Arn").as_str());
    assert_eq!(intent.operation, "scale");
    assert_eq!(intent.resource, "web");
    assert_eq!(intent.parameters["desiredCount"], 5);
    assert_eq!(intent.parameters["before"]["desiredCount"], 2);
    assert!(!intent.dry_run);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["desiredCount"], 5);
    assert_eq!(result.error, None);
}

/// Every operation key of a read-only environment.
const OPERATION_KEYS: [(char, char, &str); 8] = [
    ('2', 's', "web"),
    ('2', 'A', "web"),
    ('2', 'i', "web"),
    ('2', 'b', "web"),
    ('2', 'r', "web"),
    ('4', 'n', "-db"),
    ('4', 'F', "-db"),
    ('5', 'm', "-web-cpu-high"),
];

/// Read-only, from the environment's config and from `--read-only`: every
/// operation key is refused with the reason, and a confirmation forced into
/// the state is refused by the guard below the runner, audited as an error.
#[tokio::test]
async fn read_only_refuses_operation_keys_and_the_guard_refuses_a_forced_confirmation() {
    let moto = Moto::shared();
    for flag in [false, true] {
        let account = fresh_account();
        let name = if flag { "roflag" } else { "roconf" };
        moto.seed(&account, &["--name", name]);
        let mut env = env_config(name, &moto.endpoint, name);
        env.read_only = !flag;
        let Console { mut app, audit, .. } =
            console(&account, env, |_, o| o.read_only = flag, None).await;
        assert!(app.state.envs[0].read_only);

        moto.reset_counts(&account);
        for (view, key, row) in OPERATION_KEYS {
            let row = if row.starts_with('-') {
                format!("{name}{row}")
            } else {
                row.to_string()
            };
            select(&mut app, view, &row).await;
            press(&mut app, KeyCode::Char(key));
            assert!(is_normal(&app), "{key}: no dialog opens");
            let text = flash_text(&app);
            assert!(text.contains("read-only"), "{key}: {text}");
            press(&mut app, KeyCode::Char('y'));
            press(&mut app, KeyCode::Enter);
            app.settle().await;
        }
        assert!(app.state.activity.is_empty());
        assert!(audit_records(&audit).is_empty());

        // Past the reducer's refusal: a confirmation put into the state.
        let forced = [
            Operation::Scale {
                cluster: name.to_string(),
                service: "web".into(),
                from: 2,
                to: 7,
                scaling: Some((2, 10)),
            },
            Operation::Snapshot {
                instance: format!("{name}-db"),
                snapshot_id: format!("{name}-db-forced"),
            },
        ];
        for op in forced {
            app.state.mode = Mode::Dialog(Dialog::Confirm {
                env: 0,
                op: op.clone(),
                typed: String::new(),
                error: None,
            });
            press(&mut app, KeyCode::Char('y'));
            app.settle().await;
            let a = last_activity(&app);
            assert_eq!(a.op, op);
            let error = failed_with(a);
            assert!(error.contains("read-only"), "{error}");
            let (intent, result) = audited(&app, &audit, &a.id);
            assert_eq!(intent.operation, op.name());
            assert_eq!(result.outcome, Some(Outcome::Error));
            assert_eq!(result.error.as_deref(), Some(error.as_str()));
            assert!(!result.dry_run);
        }
        assert_eq!(
            mutating_counts(moto, &account),
            ops(&[]),
            "read_only from {}: nothing mutating reached the server",
            if flag { "--read-only" } else { "the config" }
        );
        assert_eq!(
            raw_service(moto, &account, name, "web")
                .get("desiredCount")
                .as_u64(),
            Some(2)
        );
    }
}

/// `--dry-run`: a snapshot completed by keys is recorded, never sent.
#[tokio::test]
async fn a_dry_run_snapshot_by_keys_is_audited_and_sends_nothing() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "dry"]);
    let env = env_config("dry", &moto.endpoint, "dry");
    let Console { mut app, audit, .. } =
        console(&account, env, |_, o| o.dry_run = true, None).await;
    assert!(app.state.dry_run);
    let snapshots = |moto: &Moto| -> Vec<String> {
        let raw = moto.aws(
            &account,
            "rds",
            "describe_db_snapshots",
            r#"{"DBInstanceIdentifier": "dry-db"}"#,
        );
        raw.get("DBSnapshots")
            .as_array()
            .expect("snapshots")
            .iter()
            .filter_map(|s| s.get("DBSnapshotIdentifier").as_str().map(str::to_string))
            .collect()
    };
    let before = snapshots(moto);

    moto.reset_counts(&account);
    select(&mut app, '4', "dry-db").await;
    press(&mut app, KeyCode::Char('n'));
    let Some(Operation::Snapshot { snapshot_id, .. }) = confirming(&app).cloned() else {
        panic!("expected a snapshot confirmation: {:?}", app.state.mode);
    };
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;

    let a = last_activity(&app);
    assert!(
        matches!(a.status, OpStatus::DryRun { .. }),
        "{:?}",
        a.status
    );
    assert!(a.dry_run);
    assert!(flash_text(&app).contains("nothing was sent"));
    assert_eq!(mutating_counts(moto, &account), ops(&[]));
    let after = snapshots(moto);
    assert_eq!(after, before);
    assert!(!after.contains(&snapshot_id));

    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "db-snapshot");
    assert_eq!(intent.resource, "dry-db");
    assert_eq!(
        intent.parameters["DBSnapshotIdentifier"],
        snapshot_id.as_str()
    );
    assert!(intent.dry_run && result.dry_run);
    assert_eq!(result.outcome, Some(Outcome::DryRun));
    assert_eq!(result.error, None);
}

/// A call that fails at the server (the instance was deleted behind the
/// console's back) ends failed with the typed error, audited as an error.
#[tokio::test]
async fn a_failing_operation_ends_failed_and_is_audited_as_an_error() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "gone"]);
    let env = env_config("gone", &moto.endpoint, "gone");
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;

    moto.aws(
        &account,
        "rds",
        "modify_db_instance",
        r#"{"DBInstanceIdentifier": "gone-db-replica", "DeletionProtection": false, "ApplyImmediately": true}"#,
    );
    moto.aws(
        &account,
        "rds",
        "delete_db_instance",
        r#"{"DBInstanceIdentifier": "gone-db-replica", "SkipFinalSnapshot": true}"#,
    );
    moto.reset_counts(&account);
    select(&mut app, '4', "gone-db-replica").await;
    press(&mut app, KeyCode::Char('F'));
    let op = confirming(&app).cloned().expect("a confirmation");
    assert!(
        matches!(&op, Operation::Reboot { instance, .. } if instance == "gone-db-replica"),
        "{op:?}"
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;

    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(error.starts_with("not found:"), "{error}");
    assert!(error.contains("DBInstanceNotFound"), "{error}");
    assert!(
        flash_text(&app).contains(&error),
        "the error is shown: {}",
        flash_text(&app)
    );
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:RebootDBInstance", 1)]),
        "sent once, not retried"
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, op.name());
    assert_eq!(intent.resource, "gone-db-replica");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(result.error.as_deref(), Some(error.as_str()));
    assert!(result.result.is_null());
}

/// When the audit log cannot be written, nothing is sent.
#[tokio::test]
async fn an_unwritable_audit_log_sends_nothing() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "noaudit"]);
    let env = env_config("noaudit", &moto.endpoint, "noaudit");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    // Its "directory" is a regular file.
    let path = file.join("audit.jsonl");
    let Console { mut app, .. } = console(&account, env, |_, _| {}, Some(path.clone())).await;

    moto.reset_counts(&account);
    select(&mut app, '2', "web").await;
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, "6");
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some());
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;

    let error = failed_with(last_activity(&app));
    assert!(
        error.contains("audit log") && error.contains("cannot be written"),
        "{error}"
    );
    assert!(error.contains("nothing was sent"), "{error}");
    assert_eq!(mutating_counts(moto, &account), ops(&[]));
    assert!(!path.exists());
    assert_eq!(
        raw_service(moto, &account, "noaudit", "web")
            .get("desiredCount")
            .as_u64(),
        Some(2)
    );
}

/// Bounds, restart, deploy image and rollback, by keys, each sent once,
/// read back from moto and audited.
#[tokio::test]
async fn service_operations_by_keys_are_sent_once_read_back_and_audited() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "svcops"]);
    let env = env_config("staging", &moto.endpoint, "svcops");
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;
    select(&mut app, '2', "web").await;

    // Auto-scaling bounds.
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('A'));
    match &app.state.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "2 10"),
        other => panic!("expected the bounds prompt, got {other:?}"),
    }
    clear_input(&mut app);
    type_text(&mut app, "3 12");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::ScalingBounds { to: (3, 12), .. })
    ));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("application-autoscaling:RegisterScalableTarget", 1)])
    );
    let sent = the_request(
        moto,
        &account,
        "application-autoscaling:RegisterScalableTarget",
    );
    assert_eq!(sent.get("ResourceId").as_str(), Some("service/svcops/web"));
    assert_eq!(sent.get("MinCapacity").as_u64(), Some(3));
    assert_eq!(sent.get("MaxCapacity").as_u64(), Some(12));
    let raw = moto.aws(
        &account,
        "application-autoscaling",
        "describe_scalable_targets",
        r#"{"ServiceNamespace": "ecs", "ResourceIds": ["service/svcops/web"]}"#,
    );
    let target = &raw.get("ScalableTargets").as_array().expect("targets")[0];
    assert_eq!(target.get("MinCapacity").as_u64(), Some(3));
    assert_eq!(target.get("MaxCapacity").as_u64(), Some(12));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "scaling-bounds");
    assert_eq!(intent.parameters["minCapacity"], 3);
    assert_eq!(intent.parameters["maxCapacity"], 12);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["maxCapacity"], 12);

    // Restart: a forced new deployment.
    let before = raw_service(moto, &account, "svcops", "web");
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('r'));
    assert!(matches!(confirming(&app), Some(Operation::Restart { .. })));
    // A double press: the dialog closed with the first.
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let sent = the_request(moto, &account, "ecs:UpdateService");
    assert_eq!(sent.get("forceNewDeployment").as_bool(), Some(true));
    assert!(sent.field("desiredCount").is_none(), "{sent:?}");
    let after = raw_service(moto, &account, "svcops", "web");
    let deployment = |s: &Json| {
        s.get("deployments").as_array().expect("deployments")[0]
            .get("id")
            .as_str()
            .map(str::to_string)
    };
    assert_ne!(deployment(&after), deployment(&before), "a new deployment");
    assert_eq!(after.get("taskDefinition"), before.get("taskDefinition"));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "restart");
    assert_eq!(intent.parameters["forceNewDeployment"], true);
    assert_eq!(result.outcome, Some(Outcome::Success));

    // Deploy an image: a tag typed, a new revision registered and deployed.
    let base = app
        .state
        .service("web")
        .expect("web")
        .task_definition
        .clone();
    let old_image = raw_task_definition(moto, &account, &base)
        .get("taskDefinition")
        .get("containerDefinitions")
        .as_array()
        .expect("containers")[0]
        .get("image")
        .as_str()
        .expect("image")
        .to_string();
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('i'));
    assert!(
        matches!(
            &app.state.mode,
            Mode::Dialog(Dialog::Input { input, .. }) if input.is_empty()
        ),
        "{:?}",
        app.state.mode
    );
    type_text(&mut app, "v9.9.9");
    press(&mut app, KeyCode::Enter);
    let Some(Operation::DeployImage { to: image, .. }) = confirming(&app).cloned() else {
        panic!("expected a deploy confirmation: {:?}", app.state.mode);
    };
    assert!(image.ends_with("/works-logue/web:v9.9.9"), "{image}");
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:RegisterTaskDefinition", 1), ("ecs:UpdateService", 1)])
    );
    let deployed = raw_service(moto, &account, "svcops", "web")
        .get("taskDefinition")
        .as_str()
        .expect("task definition")
        .to_string();
    assert_ne!(deployed, base);
    assert!(
        deployed.ends_with("task-definition/svcops-web:4"),
        "{deployed}"
    );
    assert_eq!(
        the_request(moto, &account, "ecs:UpdateService")
            .get("taskDefinition")
            .as_str(),
        Some(deployed.as_str())
    );
    let raw = raw_task_definition(moto, &account, &deployed);
    let new_image = raw
        .get("taskDefinition")
        .get("containerDefinitions")
        .as_array()
        .expect("containers")[0]
        .get("image")
        .as_str()
        .expect("image")
        .to_string();
    assert_eq!(new_image, image);
    assert_eq!(
        honban::ops::image_repository(&new_image),
        honban::ops::image_repository(&old_image)
    );
    assert_eq!(
        app.state.service("web").map(|s| s.task_definition.as_str()),
        Some(deployed.as_str())
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "deploy-image");
    assert_eq!(intent.parameters["image"], image.as_str());
    assert_eq!(intent.parameters["before"]["image"], old_image.as_str());
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["registered"], deployed.as_str());

    // Roll back: the dialog preselects the revision before the current one.
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('b'));
    assert!(
        matches!(app.state.mode, Mode::Dialog(Dialog::Rollback { .. })),
        "{:?}",
        app.state.mode
    );
    app.settle().await;
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(is_normal(&app));
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let sent = the_request(moto, &account, "ecs:UpdateService");
    assert_eq!(sent.get("taskDefinition").as_str(), Some(base.as_str()));
    assert_eq!(
        raw_service(moto, &account, "svcops", "web")
            .get("taskDefinition")
            .as_str(),
        Some(base.as_str())
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "rollback");
    assert_eq!(intent.parameters["taskDefinition"], base.as_str());
    assert_eq!(
        intent.parameters["before"]["taskDefinition"],
        deployed.as_str()
    );
    assert_eq!(result.outcome, Some(Outcome::Success));

    assert_eq!(app.state.activity.len(), 4);
    assert_only_intents_results_and_finals(&app, &audit, 4);
}

/// `n` operations of this session audited: an intent and a result each,
/// and at most one final record each (for those followed to their end by
/// now), every one of a real environment.
fn assert_only_intents_results_and_finals(app: &App, path: &std::path::Path, n: usize) {
    let records = audit_records(path);
    let finals: Vec<&Record> = records.iter().filter(|r| r.phase == Phase::Final).collect();
    assert_eq!(
        records.len() - finals.len(),
        2 * n,
        "an intent and a result each: {records:#?}"
    );
    for f in &finals {
        let a = app
            .state
            .activity
            .iter()
            .find(|a| a.id == f.id)
            .expect("a final record of this session's operation");
        let w = a.watch.as_ref().expect("followed");
        assert!(w.status.is_final(), "{f:?}");
        assert_eq!(f.ended.as_deref(), Some(w.status.word()), "{f:?}");
        assert!(!f.simulated, "{f:?}");
    }
    let mut ids: Vec<&str> = finals.iter().map(|f| f.id.as_str()).collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        finals.len(),
        "one final record each: {finals:#?}"
    );
}

/// Snapshot, failover reboot and mute, by keys, each sent once, read back
/// from moto and audited.
#[tokio::test]
async fn database_and_alarm_operations_by_keys_are_sent_once_read_back_and_audited() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "dbops"]);
    let env = env_config("staging", &moto.endpoint, "dbops");
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;

    // A manual snapshot of the primary.
    moto.reset_counts(&account);
    select(&mut app, '4', "dbops-db").await;
    press(&mut app, KeyCode::Char('n'));
    let Some(Operation::Snapshot { snapshot_id, .. }) = confirming(&app).cloned() else {
        panic!("expected a snapshot confirmation: {:?}", app.state.mode);
    };
    assert!(snapshot_id.starts_with("dbops-db-honban-"), "{snapshot_id}");
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:CreateDBSnapshot", 1)])
    );
    let sent = the_request(moto, &account, "rds:CreateDBSnapshot");
    assert_eq!(sent.get("DBInstanceIdentifier").as_str(), Some("dbops-db"));
    assert_eq!(
        sent.get("DBSnapshotIdentifier").as_str(),
        Some(snapshot_id.as_str())
    );
    let raw = moto.aws(
        &account,
        "rds",
        "describe_db_snapshots",
        &format!(r#"{{"DBSnapshotIdentifier": "{snapshot_id}"}}"#),
    );
    let snap = &raw.get("DBSnapshots").as_array().expect("snapshots")[0];
    assert_eq!(snap.get("DBInstanceIdentifier").as_str(), Some("dbops-db"));
    assert_eq!(snap.get("SnapshotType").as_str(), Some("manual"));
    assert!(
        app.state.envs[0]
            .snapshots
            .data
            .as_ref()
            .is_some_and(|v| v.iter().any(|s| s.id == snapshot_id)),
        "the console lists it"
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "db-snapshot");
    assert_eq!(
        intent.parameters["DBSnapshotIdentifier"],
        snapshot_id.as_str()
    );
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["DBSnapshotIdentifier"], snapshot_id.as_str());

    // Reboot the Multi-AZ primary: with failover.
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('F'));
    assert_eq!(
        confirming(&app),
        Some(&Operation::Reboot {
            instance: "dbops-db".into(),
            failover: true,
        })
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:RebootDBInstance", 1)])
    );
    let sent = the_request(moto, &account, "rds:RebootDBInstance");
    assert_eq!(sent.get("DBInstanceIdentifier").as_str(), Some("dbops-db"));
    assert_eq!(sent.get("ForceFailover").as_str(), Some("true"));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "db-reboot-failover");
    assert_eq!(intent.parameters["ForceFailover"], true);
    assert_eq!(result.outcome, Some(Outcome::Success));

    // Mute an alarm: its actions are disabled.
    let alarm = "dbops-web-cpu-high";
    moto.reset_counts(&account);
    select(&mut app, '5', alarm).await;
    press(&mut app, KeyCode::Char('m'));
    assert_eq!(
        confirming(&app),
        Some(&Operation::AlarmActions {
            alarm: alarm.into(),
            enable: false,
        })
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("cloudwatch:DisableAlarmActions", 1)])
    );
    let sent = the_request(moto, &account, "cloudwatch:DisableAlarmActions");
    assert_eq!(sent.get("AlarmNames").strings(), vec![alarm.to_string()]);
    let raw = moto.aws(
        &account,
        "cloudwatch",
        "describe_alarms",
        &format!(r#"{{"AlarmNames": ["{alarm}"]}}"#),
    );
    let muted = &raw.get("MetricAlarms").as_array().expect("alarms")[0];
    assert_eq!(muted.get("ActionsEnabled").as_bool(), Some(false));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "alarm-mute");
    assert_eq!(intent.resource, alarm);
    assert_eq!(intent.parameters["actionsEnabled"], false);
    assert_eq!(result.outcome, Some(Outcome::Success));

    assert_only_intents_results_and_finals(&app, &audit, 3);
}

/// The server refuses: a scale fails with the typed error (throttled), and a
/// deploy whose UpdateService fails after its RegisterTaskDefinition says
/// what it left behind; each request sent once (not retried), each audited
/// as an error. (moto still updates a deleted service, so the failures are
/// injected at the proxy.)
#[tokio::test]
async fn refused_service_operations_fail_with_the_typed_error_and_are_audited() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "refuse", "--minimal"]);
    let env = env_config("refuse", &moto.endpoint, "refuse");
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;
    select(&mut app, '2', "web").await;

    moto.reset_counts(&account);
    moto.inject_fault(&account, "ecs:UpdateService", "throttle", 1);
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, "4");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(error.starts_with("throttled:"), "{error}");
    assert!(flash_text(&app).contains(&error), "{}", flash_text(&app));
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)])
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "scale");
    assert_eq!(intent.resource, "web");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(result.error.as_deref(), Some(error.as_str()));
    assert_eq!(
        raw_service(moto, &account, "refuse", "web")
            .get("desiredCount")
            .as_u64(),
        Some(2)
    );

    moto.reset_counts(&account);
    moto.inject_fault(&account, "ecs:UpdateService", "500", 1);
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "v2");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::DeployImage { .. })
    ));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    // A server error may hide an applied change: it is read back.
    let a = last_activity(&app);
    let error = match &a.status {
        OpStatus::NotApplied { detail, .. } => detail.clone(),
        other => panic!("expected the deploy read back as not applied, got {other:?}"),
    };
    assert!(
        error.starts_with("unavailable: ecs:UpdateService:"),
        "{error}"
    );
    assert!(
        error.contains(
            "read back: not applied — refuse-web:2 was registered, but web still runs \
             refuse-web:1 (DescribeServices); a rollback can move it to refuse-web:2 once the cause is fixed"
        ),
        "{error:?}"
    );
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:RegisterTaskDefinition", 1), ("ecs:UpdateService", 1)])
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "deploy-image");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(result.error.as_deref(), Some(error.as_str()));
    assert!(
        raw_service(moto, &account, "refuse", "web")
            .get("taskDefinition")
            .as_str()
            .is_some_and(|td| td.ends_with("refuse-web:1")),
        "the service was not changed"
    );
}

/// The log events of a group's streams, oldest first, read raw from moto.
fn log_events(moto: &Moto, account: &str, group: &str) -> Vec<(String, String)> {
    let streams = moto.aws(
        account,
        "logs",
        "describe_log_streams",
        &format!(r#"{{"logGroupName":"{group}"}}"#),
    );
    let mut out = Vec::new();
    for s in streams.get("logStreams").as_array().unwrap_or_default() {
        let name = s
            .get("logStreamName")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let events = moto.aws(
            account,
            "logs",
            "get_log_events",
            &format!(
                r#"{{"logGroupName":"{group}","logStreamName":"{name}","startFromHead":true}}"#
            ),
        );
        for e in events.get("events").as_array().unwrap_or_default() {
            out.push((
                name.clone(),
                e.get("message").as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}

/// The timeline (derived events, the operation, a note, marks) goes to the
/// shared group too, and reading it back (`timeline export
/// --from-cloudwatch`) tells the same story as the local recording: the
/// same events and the same postmortem.
#[tokio::test]
async fn the_shared_timeline_reads_back_as_the_local_one() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "story"]);
    moto.aws(
        &account,
        "logs",
        "create_log_group",
        r#"{"logGroupName":"/honban/audit"}"#,
    );
    let mut env = env_config("production", &moto.endpoint, "story");
    env.audit_log_group = Some("/honban/audit".into());
    let since = chrono::Utc::now() - chrono::TimeDelta::minutes(5);
    let Console { mut app, .. } = console(&account, env.clone(), |_, _| {}, None).await;
    select(&mut app, '5', "story-web-cpu-high").await;
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(accepted(last_activity(&app)));
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "note muted the CPU alarm while web scales");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let local: Vec<honban::timeline::Event> = app.state.envs[0].timeline.iter().cloned().collect();
    assert!(local.iter().any(|e| e.kind == "note"), "{local:?}");
    assert!(local.iter().any(|e| e.kind == "operation"), "{local:?}");

    let backend = AwsBackend::connect(&env, options(&account)).await;
    let mut shared = Vec::new();
    for _ in 0..100 {
        shared = honban::trail::fetch(&backend, "/honban/audit", "production", since, None)
            .await
            .expect("the shared timeline reads");
        if shared.len() >= local.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Events of one instant may come back in any order (CloudWatch Logs
    // orders by time only): compare them in one order.
    let order = |events: &mut Vec<honban::timeline::Event>| {
        events.sort_by(|a, b| {
            (a.time, &a.kind, &a.resource, &a.text).cmp(&(b.time, &b.kind, &b.resource, &b.text))
        });
    };
    let mut shared = honban::trail::merge(shared);
    order(&mut shared);
    let mut local_sorted = local.clone();
    order(&mut local_sorted);
    assert_eq!(shared, local_sorted);

    // The same postmortem from either source.
    let args = honban::cli::ExportArgs {
        session: None,
        since: None,
        until: None,
        format: honban::cli::ExportFormat::Markdown,
        from_cloudwatch: false,
    };
    let now = chrono::Utc::now();
    let from_local = honban::recording::render_export(&local_sorted, None, &args, now, "local")
        .expect("local export");
    let from_shared = honban::recording::render_export(&shared, None, &args, now, "shared")
        .expect("shared export");
    assert_eq!(from_local, from_shared);
    assert!(from_shared.contains("muted the CPU alarm"), "{from_shared}");
}

/// With `audit_log_group` the audit records also go to CloudWatch Logs: the
/// team's shared trail. A group that does not exist is reported, and the
/// operation and the local log are unaffected.
#[tokio::test]
async fn audit_records_also_go_to_the_shared_log_group() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "trail"]);
    moto.aws(
        &account,
        "logs",
        "create_log_group",
        r#"{"logGroupName":"/honban/audit"}"#,
    );
    let mut env = env_config("production", &moto.endpoint, "trail");
    env.audit_log_group = Some("/honban/audit".into());
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;
    moto.reset_counts(&account);
    select(&mut app, '5', "trail-web-cpu-high").await;
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let id = a.id.clone();

    // Shipping runs beside the operation: wait for both records. (The
    // shared timeline's events share the group: not audit records.)
    let mut events = Vec::new();
    for _ in 0..100 {
        events = log_events(moto, &account, "/honban/audit");
        events.retain(|(_, m)| !m.starts_with("{\"honban_timeline\""));
        if events.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Intent, result, and (the mute reads back at once) how it ended.
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events.iter().all(
            |(stream, _)| stream.starts_with("honban/") && stream.ends_with(&app.state.session)
        )
    );
    let shared: Vec<serde_json::Value> = events
        .iter()
        .map(|(_, m)| serde_json::from_str(m).expect("a JSON record"))
        .collect();
    assert_eq!(shared[0]["phase"], "intent");
    assert_eq!(shared[1]["phase"], "result");
    assert_eq!(shared[2]["phase"], "final");
    assert_eq!(shared[2]["ended"], "completed");
    assert!(shared.iter().all(|r| r["id"] == id.as_str()));
    assert_eq!(shared[1]["outcome"], "success");
    assert_eq!(shared[0]["operation"], "alarm-mute");
    // The same records as the local log.
    let local = audit_records(&audit);
    assert_eq!(local.len(), 3);
    assert_eq!(
        serde_json::to_value(&local[0]).expect("json"),
        shared[0].clone()
    );
    // The session's stream is created once (twice at most, when the
    // timeline's first put races the audit's; perhaps already by the first
    // load's timeline before counting started), never per record.
    let counts = moto.counts(&account);
    let created = counts.get("logs:CreateLogStream").copied().unwrap_or(0);
    assert!(created <= 2, "{counts:?}");

    // A group that does not exist: the operator is told; the operation and
    // the local log are unaffected.
    let account = fresh_account();
    moto.seed(&account, &["--name", "trail"]);
    let mut env = env_config("production", &moto.endpoint, "trail");
    env.audit_log_group = Some("/missing/group".into());
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;
    select(&mut app, '5', "trail-web-cpu-high").await;
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(accepted(last_activity(&app)));
    // Intent, result and final record, all in the local log.
    assert_eq!(audit_records(&audit).len(), 3);
    let mut told = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        app.drain();
        if flash_text(&app).contains("/missing/group") {
            told = true;
            break;
        }
    }
    assert!(told, "{}", flash_text(&app));
    assert!(flash_text(&app).contains("local audit log has the record"));
}

// --------------------------------------------------------------------------
// --- metrics: GetMetricData in one batched request, alarm triage.

/// Puts `points` (minutes before `end`, value) of the web service's CPU.
fn put_web_cpu(
    moto: &Moto,
    account: &str,
    cluster: &str,
    end: chrono::DateTime<chrono::Utc>,
    points: &[(i64, f64)],
) {
    let data: Vec<String> = points
        .iter()
        .map(|(ago, v)| {
            let t = end - chrono::TimeDelta::minutes(*ago);
            format!(
                r#"{{"MetricName": "CPUUtilization", "Dimensions": [{{"Name": "ClusterName", "Value": "{cluster}"}}, {{"Name": "ServiceName", "Value": "web"}}], "Timestamp": "{}", "Value": {v}, "Unit": "Percent"}}"#,
                t.format("%Y-%m-%dT%H:%M:%SZ")
            )
        })
        .collect();
    moto.aws(
        account,
        "cloudwatch",
        "put_metric_data",
        &format!(
            r#"{{"Namespace": "AWS/ECS", "MetricData": [{}]}}"#,
            data.join(", ")
        ),
    );
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    let theme = honban::config::theme::load_theme("default", None, false).expect("theme");
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn metric_data_is_what_was_put_and_a_gap_stays_a_gap() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "mx"]);
    let (start, end) =
        honban::update::metric_window(chrono::Utc::now(), honban::metrics::MetricRange::Hour);
    put_web_cpu(
        moto,
        &account,
        "mx",
        end,
        &[(10, 12.5), (9, 40.0), (7, 90.0)],
    );
    let b = backend(moto, &account, "mx").await;
    let q = |id: &str, name: &str| honban::domain::MetricQuery {
        id: id.to_string(),
        namespace: "AWS/ECS".to_string(),
        name: name.to_string(),
        dimensions: vec![
            ("ClusterName".to_string(), "mx".to_string()),
            ("ServiceName".to_string(), "web".to_string()),
        ],
        statistic: "Average".to_string(),
        period_seconds: 60,
    };
    moto.reset_counts(&account);
    let series = b
        .metric_data(
            &[q("m0", "CPUUtilization"), q("m1", "MemoryUtilization")],
            start,
            end,
        )
        .await
        .expect("metric data");
    assert_eq!(moto.count(&account, "cloudwatch:GetMetricData"), 1);
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].id, "m0");
    let minute = |ago: i64| end - chrono::TimeDelta::minutes(ago);
    assert_eq!(
        series[0].points,
        vec![(minute(10), 12.5), (minute(9), 40.0), (minute(7), 90.0)],
        "values and timestamps as put; the minute without data is absent"
    );
    assert!(
        series[1].points.is_empty(),
        "nothing was put: no points, not zeros"
    );
}

#[tokio::test]
async fn more_than_500_queries_are_split_into_requests_of_500() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "mx", "--minimal"]);
    let (start, end) =
        honban::update::metric_window(chrono::Utc::now(), honban::metrics::MetricRange::Hour);
    put_web_cpu(moto, &account, "mx", end, &[(10, 12.5), (5, 30.0)]);
    let b = backend(moto, &account, "mx").await;
    // 501 queries: the web CPU first and last, services without data between.
    let queries: Vec<_> = (0..501)
        .map(|i| {
            let service = if i == 0 || i == 500 {
                "web".to_string()
            } else {
                format!("svc-{i}")
            };
            honban::domain::MetricQuery {
                id: format!("m{i}"),
                namespace: "AWS/ECS".to_string(),
                name: "CPUUtilization".to_string(),
                dimensions: vec![
                    ("ClusterName".to_string(), "mx".to_string()),
                    ("ServiceName".to_string(), service),
                ],
                statistic: "Average".to_string(),
                period_seconds: 60,
            }
        })
        .collect();
    moto.reset_counts(&account);
    let series = b
        .metric_data(&queries, start, end)
        .await
        .expect("the proxy refuses more than 500 queries in one request");
    assert_eq!(
        moto.count(&account, "cloudwatch:GetMetricData"),
        2,
        "500 + 1"
    );
    assert_eq!(series.len(), 501);
    let minute = |ago: i64| end - chrono::TimeDelta::minutes(ago);
    let put = vec![(minute(10), 12.5), (minute(5), 30.0)];
    assert_eq!(series[0].id, "m0");
    assert_eq!(series[0].points, put, "from the first request");
    assert_eq!(series[500].id, "m500");
    assert_eq!(series[500].points, put, "from the second request");
    assert!(series[1..500].iter().all(|s| s.points.is_empty()));
}

#[tokio::test]
async fn the_console_charts_what_was_put_with_one_request_per_refresh_and_triages_an_alarm() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "works-logue-prod"]);
    let (_, end) =
        honban::update::metric_window(chrono::Utc::now(), honban::metrics::MetricRange::Hour);
    put_web_cpu(
        moto,
        &account,
        "works-logue-prod",
        end,
        &[(30, 20.0), (20, 35.0), (3, 91.0), (2, 93.0)],
    );
    moto.reset_counts(&account);
    let mut c = console(
        &account,
        env_config("production", &moto.endpoint, "works-logue-prod"),
        |_, _| {},
        None,
    )
    .await;
    // Every panel loaded: one GetMetricData for everything.
    assert_eq!(moto.count(&account, "cloudwatch:GetMetricData"), 1);
    let data = c.app.state.envs[0].metrics.data.clone().expect("metrics");
    let cpu = data
        .service_cpu("works-logue-prod", "web")
        .expect("web CPU queried");
    assert_eq!(cpu.points.len(), 4, "{:?}", cpu.points);
    assert_eq!(cpu.points.last().map(|p| p.1), Some(93.0));
    assert!(
        data.queries.iter().any(|q| q.namespace == "AWS/RDS"),
        "the databases are in the same request"
    );

    // A poller tick: exactly one more request, whatever is on screen.
    c.app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Metrics,
    });
    c.app.settle().await;
    assert_eq!(moto.count(&account, "cloudwatch:GetMetricData"), 2);

    // The services table draws the trend and the latest value.
    press(&mut c.app, KeyCode::Char('2'));
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("93%"), "{s}");

    // Alarm triage: the alarm, its chart, its history (moto has none: a
    // panel state), and enter to the service.
    let alarm = "works-logue-prod-web-cpu-high";
    select(&mut c.app, '5', alarm).await;
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::AlarmDetail {
            alarm: alarm.to_string()
        }
    );
    let history = &c.app.state.envs[0].alarm_history[alarm];
    assert!(history.error().is_some(), "{:?}", history.load);
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("history not available from this server"), "{s}");
    assert!(s.contains("threshold 80%"), "{s}");
    assert!(s.contains("93%"), "the chart's latest value: {s}");
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::ServiceDetail {
            service: "web".to_string()
        }
    );
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("CPU · last 1h"), "{s}");
}

// --- logs

/// Puts `(timestamp ms, message)` events into a stream with boto3.
fn put_events(moto: &Moto, account: &str, group: &str, stream: &str, events: &[(i64, String)]) {
    let list: Vec<String> = events
        .iter()
        .map(|(t, m)| format!(r#"{{"timestamp":{t},"message":{}}}"#, serde_json::json!(m)))
        .collect();
    moto.aws(
        account,
        "logs",
        "put_log_events",
        &format!(
            r#"{{"logGroupName":"{group}","logStreamName":"{stream}","logEvents":[{}]}}"#,
            list.join(",")
        ),
    );
}

/// Lets the logs view poll again (its next poll is due two seconds after
/// the last answer) and waits for the answer.
async fn next_poll(app: &mut App) {
    app.dispatch(Action::Tick(
        app.state.now.max(chrono::Utc::now()) + chrono::TimeDelta::seconds(3),
    ));
    app.settle().await;
}

fn log_lines(app: &App) -> Vec<String> {
    let logs = app.state.logs.as_ref().expect("a logs view");
    assert!(logs.error.is_none(), "{:?}", logs.error);
    logs.lines.iter().map(|e| e.message.clone()).collect()
}

/// The logs view of a service, against moto: events put with PutLogEvents
/// appear exactly once each across polls (new events between them; each
/// poll starts just before the newest event seen); the filter pattern is
/// sent to CloudWatch Logs; a burst is read page by page with nextToken,
/// and the buffer keeps only the configured number of lines.
#[tokio::test]
async fn logs_follow_each_event_once_and_send_the_pattern() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "tail"]);
    let Console { mut app, .. } = console(
        &account,
        env_config("production", &moto.endpoint, "tail"),
        |c, _| c.logs_buffer_lines = 1000,
        None,
    )
    .await;
    // Where the web service logs, from its task definition (awslogs).
    let web = app.state.service("web").expect("web").clone();
    let td = app.state.envs[0]
        .task_definitions
        .get(&web.task_definition)
        .expect("the task definition is cached")
        .clone();
    let c = td
        .containers
        .iter()
        .find(|c| c.log_group.is_some())
        .expect("an awslogs container");
    let group = c.log_group.clone().expect("group");
    let prefix = c.log_stream_prefix.clone().expect("prefix");
    let task = app.state.service_tasks("web")[0].id().to_string();
    let stream = format!("{prefix}/{}/{task}", c.name);
    moto.aws(
        &account,
        "logs",
        "create_log_group",
        &format!(r#"{{"logGroupName":"{group}"}}"#),
    );
    moto.aws(
        &account,
        "logs",
        "create_log_stream",
        &format!(r#"{{"logGroupName":"{group}","logStreamName":"{stream}"}}"#),
    );
    let now = chrono::Utc::now().timestamp_millis();
    put_events(
        moto,
        &account,
        &group,
        &stream,
        &[
            (now - 60_000, "INFO GET / 200".into()),
            (now - 50_000, "ERROR GET /api 502 upstream timeout".into()),
            (now - 40_000, "INFO GET /articles 200".into()),
        ],
    );
    moto.reset_counts(&account);

    select(&mut app, '2', "web").await;
    press(&mut app, KeyCode::Char('l'));
    app.settle().await;
    assert_eq!(app.state.view(), &honban::state::View::Logs);
    assert_eq!(log_lines(&app).len(), 3, "{:?}", log_lines(&app));

    // New events between polls: each appears once.
    let now = chrono::Utc::now().timestamp_millis();
    put_events(
        moto,
        &account,
        &group,
        &stream,
        &[
            (now - 2_000, "INFO GET /users/1 200".into()),
            (now - 1_000, "ERROR GET /users/2 500 db".into()),
        ],
    );
    next_poll(&mut app).await;
    next_poll(&mut app).await;
    let lines = log_lines(&app);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[3], "INFO GET /users/1 200");
    assert_eq!(lines[4], "ERROR GET /users/2 500 db");
    let sent = moto.requests(&account, "logs:FilterLogEvents");
    assert_eq!(sent.len(), 3, "{sent:?}");
    let start = |r: &Json| r.get("startTime").as_u64().expect("startTime");
    // The start moves: from the window's start to just before the newest.
    assert!(start(&sent[1]) > start(&sent[0]));
    assert!(start(&sent[2]) > start(&sent[1]));
    assert_eq!(sent[0].get("logGroupName").as_str(), Some(group.as_str()));
    assert_eq!(
        sent[0].get("logStreamNamePrefix").as_str(),
        Some(format!("{prefix}/{}/", c.name).as_str())
    );
    assert!(sent.iter().all(|r| r.field("filterPattern").is_none()));

    // A burst: read with nextToken, 500 a page; the buffer keeps 1000.
    moto.reset_counts(&account);
    let now = chrono::Utc::now().timestamp_millis();
    let burst: Vec<(i64, String)> = (0..1100)
        .map(|i| (now - 1_100 + i, format!("INFO burst {i}")))
        .collect();
    put_events(moto, &account, &group, &stream, &burst);
    next_poll(&mut app).await;
    let sent = moto.requests(&account, "logs:FilterLogEvents");
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent[0].field("nextToken").is_none());
    assert!(sent[1].field("nextToken").is_some() && sent[2].field("nextToken").is_some());
    let logs = app.state.logs.as_ref().expect("logs");
    assert_eq!(logs.lines.len(), 1000);
    assert_eq!(logs.evicted, 105);
    assert_eq!(
        logs.lines.back().map(|e| e.message.as_str()),
        Some("INFO burst 1099")
    );
    let mut ids: Vec<&str> = logs.lines.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "every line once");

    // The errors key: the pattern goes to the server, which filters.
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('e'));
    app.settle().await;
    let sent = moto.requests(&account, "logs:FilterLogEvents");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].get("filterPattern").as_str(), Some("ERROR"));
    assert_eq!(
        log_lines(&app),
        vec![
            "ERROR GET /api 502 upstream timeout".to_string(),
            "ERROR GET /users/2 500 db".to_string()
        ]
    );
}

// --- the seeded activity (`seed-moto.py --activity`), as in the demo

/// The 5XX alarm that the seeded spike set off, followed by keys as a new
/// user would in the demo: listed as ALARM, its chart holds the seeded
/// datapoints, `enter` leads to the web service with its targets as moto
/// reports them, `l` to its logs with the seeded error lines and `e` to
/// only those (moto applies the pattern). Deregistering a target shows on
/// the next refresh (moto drops it at once; AWS would report it draining).
#[tokio::test]
async fn the_seeded_alarm_leads_to_its_metric_the_service_targets_and_the_error_lines() {
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(&account, &["--name", "works-logue-prod", "--activity"]);
    let activity = seeded.get("activity");
    let alarm = "works-logue-prod-web-5xx";
    assert_eq!(seeded.get("alarms_in_alarm").strings(), [alarm]);
    let mut c = console(
        &account,
        env_config("production", &moto.endpoint, "works-logue-prod"),
        |_, _| {},
        None,
    )
    .await;
    // Target groups are asked for once the services are known (the
    // poller's next tick).
    c.app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Targets,
    });
    c.app.settle().await;

    // Alarms: the 5XX alarm is the one firing, listed first.
    select(&mut c.app, '5', alarm).await;
    let firing: Vec<String> = c
        .app
        .state
        .visible_alarms()
        .iter()
        .filter(|a| a.state == AlarmState::Alarm)
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(firing, [alarm]);
    assert_eq!(c.app.state.selected(c.app.state.view().kind()), 0);
    let s = screen(&c.app, 160, 48);
    assert!(s.contains(alarm) && s.contains("ALARM"), "{s}");

    // Its chart: the seeded spike, up to the last whole minute.
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::AlarmDetail {
            alarm: alarm.to_string()
        }
    );
    let spike: Vec<f64> = activity
        .get("web_5xx_spike")
        .as_array()
        .expect("the spike")
        .iter()
        .map(|v| match v {
            Json::Number(n) => *n,
            other => panic!("not a number: {other:?}"),
        })
        .collect();
    let last_minute: chrono::DateTime<chrono::Utc> = activity
        .get("last_minute")
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("last_minute");
    let e = &c.app.state.envs[0];
    let a = e
        .alarms
        .data
        .iter()
        .flatten()
        .find(|a| a.name == alarm)
        .expect("the alarm")
        .clone();
    let data = e.metrics.data.clone().expect("metrics");
    let series = data.alarm(&a).expect("the alarm's metric was queried");
    let n = series.points.len();
    assert!(n >= 55, "an hour of one-minute points: {:?}", series.points);
    let tail: Vec<f64> = series.points[n - spike.len()..]
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(tail, spike);
    assert_eq!(series.points.last().map(|p| p.0), Some(last_minute));
    assert!(
        series.points[..n - spike.len()].iter().all(|p| p.1 <= 10.0),
        "below the threshold before the spike"
    );
    assert!(
        a.state_reason
            .contains("was greater than the threshold (10.0)")
    );
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("HTTPCode_Target_5XX_Count · last 1h"), "{s}");
    assert!(s.contains("threshold 10"), "{s}");
    let latest = format!(" {} ", spike[spike.len() - 1]);
    assert!(
        s.contains(&latest),
        "the chart's latest value {latest:?}: {s}"
    );
    assert!(s.contains("→ service web"), "{s}");

    // enter: the web service, its targets as moto reports them.
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::ServiceDetail {
            service: "web".to_string()
        }
    );
    let targets = |app: &App| -> Vec<(String, String)> {
        let e = &app.state.envs[0];
        let web = app.state.service("web").expect("web");
        let groups = e.targets_for(web);
        assert_eq!(groups.len(), 1, "{groups:?}");
        let mut t: Vec<(String, String)> = groups[0]
            .targets
            .iter()
            .map(|t| (t.id.clone(), t.state.clone()))
            .collect();
        t.sort();
        t
    };
    let ips = activity.get("targets").get("web").strings();
    assert_eq!(ips.len(), 2);
    let healthy = |ips: &[String]| -> Vec<(String, String)> {
        ips.iter()
            .map(|ip| (ip.clone(), "healthy".to_string()))
            .collect()
    };
    assert_eq!(targets(&c.app), healthy(&ips));
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("targets 2/2 healthy"), "{s}");

    // l: its logs, the last 15 minutes, the seeded error lines among the
    // access lines; e: only the error lines (moto applies the pattern).
    moto.reset_counts(&account);
    press(&mut c.app, KeyCode::Char('l'));
    c.app.settle().await;
    assert_eq!(c.app.state.view(), &honban::state::View::Logs);
    let lines = log_lines(&c.app);
    let errors = lines.iter().filter(|l| l.starts_with("ERROR ")).count();
    let spike_total = spike.iter().sum::<f64>() as usize;
    assert!(errors >= spike_total, "{errors} < {spike_total}: {lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("INFO GET ")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(" 500 ")
            && l.contains("Timed out fetching a new connection from the connection pool")),
        "{lines:?}"
    );
    let streams = activity.get("log_streams").strings();
    let logs = c.app.state.logs.as_ref().expect("logs");
    assert!(
        logs.lines.iter().all(|e| streams.contains(&e.stream)),
        "every line from a seeded stream"
    );
    assert!(
        logs.lines
            .iter()
            .zip(logs.lines.iter().skip(1))
            .all(|(a, b)| a.timestamp <= b.timestamp),
        "oldest first"
    );
    let spike_start = last_minute - chrono::TimeDelta::minutes(spike.len() as i64 - 1);
    let spike_errors = |app: &App| -> Vec<String> {
        let logs = app.state.logs.as_ref().expect("logs");
        logs.lines
            .iter()
            .filter(|e| e.timestamp >= spike_start && e.message.starts_with("ERROR "))
            .map(|e| e.id.clone())
            .collect()
    };
    let in_spike = spike_errors(&c.app);
    assert_eq!(
        in_spike.len(),
        spike_total,
        "one ERROR line per 5XX counted"
    );
    press(&mut c.app, KeyCode::Char('e'));
    c.app.settle().await;
    let sent = moto.requests(&account, "logs:FilterLogEvents");
    assert_eq!(
        sent.last().and_then(|r| r.get("filterPattern").as_str()),
        Some("ERROR")
    );
    let only = log_lines(&c.app);
    assert!(only.iter().all(|l| l.starts_with("ERROR ")), "{only:?}");
    assert_eq!(spike_errors(&c.app), in_spike, "the same error lines");
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("ERROR GET /"), "{s}");

    // A target deregistered behind the console's back: gone on the next
    // refresh of the target health.
    for _ in 0..3 {
        if matches!(
            c.app.state.view(),
            honban::state::View::ServiceDetail { .. }
        ) {
            break;
        }
        press(&mut c.app, KeyCode::Esc);
    }
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::ServiceDetail {
            service: "web".to_string()
        }
    );
    let web_tg = seeded.get("target_groups").get("web").as_str().expect("tg");
    moto.aws(
        &account,
        "elbv2",
        "deregister_targets",
        &format!(
            r#"{{"TargetGroupArn": "{web_tg}", "Targets": [{{"Id": "{}", "Port": 3000}}]}}"#,
            ips[0]
        ),
    );
    c.app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Targets,
    });
    c.app.settle().await;
    assert_eq!(targets(&c.app), healthy(&ips[1..]));
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("targets 1/1 healthy"), "{s}");
}

// ------------------------------------------------ clusters discovered

/// An environment that names no cluster: it reads every one of the account.
fn account_wide(endpoint: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        clusters: Vec::new(),
        ..env_config("account", endpoint, "unused")
    }
}

/// The console for `env`, every view polled once, without asserting what
/// loaded (for the environments whose panels are expected to fail).
async fn console_as_is(account: &str, env: EnvironmentConfig) -> App {
    let mut config: Config = toml::from_str("").expect("empty config");
    config.environments.push(env);
    let opts = Options {
        aws: options(account),
        ..Options::default()
    };
    let clock = SimClock::Wall;
    let (state, runtimes) = honban::setup::build(&config, &opts, clock.clone(), "test.toml")
        .await
        .expect("setup");
    let mut app = App::new(state, runtimes, clock);
    app.dispatch(Action::Resize(80, 24));
    for resource in Resource::ALL {
        app.dispatch(Action::PollDue { env: 0, resource });
    }
    app.settle().await;
    app
}

#[tokio::test]
async fn every_cluster_of_the_account_is_listed_on_every_page() {
    let moto = Moto::shared();
    let account = fresh_account();
    let seeded = moto.seed(
        &account,
        &["--name", "pages", "--minimal", "--extra-clusters", "100"],
    );
    let mut expected = vec!["pages".to_string()];
    expected.extend(seeded.get("extra_clusters").strings());
    expected.sort();
    assert_eq!(expected.len(), 101, "more than one page of 100");
    let b = backend(moto, &account, "unused").await;
    moto.reset_counts(&account);
    // Names (from the ARNs), sorted, from two pages of ListClusters.
    assert_eq!(b.list_clusters().await.expect("clusters"), expected);
    assert_eq!(moto.count(&account, "ecs:ListClusters"), 2);
}

#[tokio::test]
async fn an_environment_without_clusters_reads_every_cluster_of_the_account() {
    let moto = Moto::shared();
    let account = fresh_account();
    let a = moto.seed(&account, &["--name", "disc-a"]);
    let b = moto.seed(&account, &["--name", "disc-b", "--minimal"]);
    let expected = ["disc-a".to_string(), "disc-b".to_string()];

    // The console: services, tasks, scaling and targets of every cluster.
    let Console { mut app, .. } =
        console(&account, account_wide(&moto.endpoint), |_, _| {}, None).await;
    let e = &app.state.envs[0];
    assert_eq!(e.ecs_clusters(), Some(&expected[..]));
    let mut services: Vec<(String, String)> = e
        .services
        .data
        .iter()
        .flatten()
        .map(|s| {
            let cluster = s.cluster_arn.rsplit('/').next().unwrap_or_default();
            (cluster.to_string(), s.name.clone())
        })
        .collect();
    services.sort();
    let mut want: Vec<(String, String)> = a
        .get("services")
        .strings()
        .into_iter()
        .map(|s| ("disc-a".to_string(), s))
        .chain(
            b.get("services")
                .strings()
                .into_iter()
                .map(|s| ("disc-b".to_string(), s)),
        )
        .collect();
    want.sort();
    assert_eq!(services, want);
    assert_eq!(
        e.tasks.data.as_ref().map(Vec::len),
        Some((a.get("tasks").u64() + b.get("tasks").u64()) as usize)
    );
    let mut scaling: Vec<String> = e
        .scaling
        .data
        .iter()
        .flatten()
        .map(|t| t.resource_id.clone())
        .collect();
    scaling.sort();
    let mut seeded_scaling = a.get("scalable_targets").strings();
    seeded_scaling.extend(b.get("scalable_targets").strings());
    seeded_scaling.sort();
    assert_eq!(scaling, seeded_scaling);
    assert!(e.targets.data.as_ref().is_some_and(|t| !t.is_empty()));
    // Counted like every other request (the diagnostics view shows it).
    assert_eq!(
        e.request_stats.get("ecs:ListClusters").map(|s| s.calls),
        Some(1)
    );

    // A cluster created later shows up at the next discovery, its
    // services read at once.
    moto.aws(
        &account,
        "ecs",
        "create_cluster",
        r#"{"clusterName": "disc-c"}"#,
    );
    moto.reset_counts(&account);
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Clusters,
    });
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(
        e.ecs_clusters()
            .is_some_and(|c| c.iter().any(|n| n == "disc-c")),
        "{:?}",
        e.ecs_clusters()
    );
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    // Every cluster's services were read again, the new one's included.
    assert_eq!(
        moto.count(&account, "ecs:ListServices"),
        expected.len() as u64 + 1
    );
    // Auto scaling of every cluster in one pass (the API lists the region's).
    assert_eq!(
        moto.count(&account, "application-autoscaling:DescribeScalableTargets"),
        1
    );

    // Configured clusters are read as configured: only the services listed
    // for a cluster (its tasks and scaling too), never a ListClusters.
    let mut cfg = env_config("configured", &moto.endpoint, "disc-a");
    cfg.clusters[0].services = vec!["api".to_string()];
    cfg.clusters.push(ClusterConfig {
        name: "disc-b".to_string(),
        services: Vec::new(),
    });
    moto.reset_counts(&account);
    let Console { app, .. } = console(&account, cfg, |_, _| {}, None).await;
    let e = &app.state.envs[0];
    let mut services: Vec<&str> = e
        .services
        .data
        .iter()
        .flatten()
        .map(|s| s.arn.rsplit(':').next().unwrap_or_default())
        .collect();
    services.sort();
    assert_eq!(services, ["service/disc-a/api", "service/disc-b/web"]);
    assert!(
        e.tasks
            .data
            .iter()
            .flatten()
            .all(|t| t.service_name() == Some("api")),
        "{:?}",
        e.tasks.data
    );
    let scaling: Vec<&str> = e
        .scaling
        .data
        .iter()
        .flatten()
        .map(|t| t.resource_id.as_str())
        .collect();
    assert_eq!(scaling, ["service/disc-a/api"]);
    assert_eq!(moto.count(&account, "ecs:ListClusters"), 0);
}

#[tokio::test]
async fn an_account_without_clusters_says_so_instead_of_loading() {
    let moto = Moto::shared();
    let account = fresh_account();
    let Console { mut app, .. } =
        console(&account, account_wide(&moto.endpoint), |_, _| {}, None).await;
    let e = &app.state.envs[0];
    assert_eq!(e.ecs_clusters(), Some(&[][..]));
    assert_eq!(e.services.data.as_deref(), Some(&[][..]));
    assert_eq!(e.tasks.data.as_deref(), Some(&[][..]));
    // One ListClusters; nothing asked of clusters that do not exist.
    assert_eq!(moto.count(&account, "ecs:ListClusters"), 1);
    assert_eq!(moto.count(&account, "ecs:ListServices"), 0);
    let overview = screen(&app, 80, 24);
    assert!(
        overview.contains("no ECS clusters in this account/region"),
        "{overview}"
    );
    assert!(!overview.contains("loading services"), "{overview}");
    press(&mut app, KeyCode::Char('3'));
    let tasks = screen(&app, 80, 24);
    assert!(
        tasks.contains("no ECS clusters in this account/region"),
        "{tasks}"
    );
}

#[tokio::test]
async fn a_failed_discovery_of_clusters_shows_its_error_not_loading() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "disc-f", "--minimal"]);
    moto.inject_fault(&account, "ecs:ListClusters", "expired", 1);
    let mut app = console_as_is(&account, account_wide(&moto.endpoint)).await;
    let e = &app.state.envs[0];
    assert_eq!(e.ecs_clusters(), None);
    assert!(
        matches!(
            e.errors().as_slice(),
            [(Resource::Clusters, BackendError::Unauthorized { .. })]
        ),
        "{:?}",
        e.errors()
    );
    let overview = screen(&app, 80, 24);
    assert!(overview.contains("cannot load ECS clusters"), "{overview}");
    assert!(!overview.contains("loading services"), "{overview}");

    // The next try (ctrl-r) finds the cluster and its services.
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )));
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    assert_eq!(e.ecs_clusters(), Some(&["disc-f".to_string()][..]));
    assert_eq!(e.services.data.as_ref().map(Vec::len), Some(1));
}

// ---- honban status ------------------------------------------------------

/// `honban status` of one environment, as the binary runs it (the same
/// `status::collect`), with the test's moto account.
async fn status_of(account: &str, env: EnvironmentConfig) -> honban::status::Report {
    let mut config: Config = toml::from_str("").expect("empty config");
    config.environments.push(env);
    let opts = Options {
        aws: options(account),
        read_only: true,
        ..Options::default()
    };
    honban::status::collect(
        &config,
        &opts,
        SimClock::Wall,
        "test.toml",
        Duration::from_secs(60),
    )
    .await
    .expect("setup")
}

fn set_alarm(moto: &Moto, account: &str, alarm: &str, state: &str) {
    moto.aws(
        account,
        "cloudwatch",
        "set_alarm_state",
        &format!(r#"{{"AlarmName": "{alarm}", "StateValue": "{state}", "StateReason": "test"}}"#),
    );
}

/// A seeded production read completely (more than one page of alarms) is
/// OK; an alarm set to ALARM makes it CRITICAL; a throttled read or
/// expired credentials make it UNKNOWN, with the errors in the JSON.
#[tokio::test]
async fn status_of_a_seeded_environment_ok_critical_and_unknown() {
    use honban::status::Level;
    let moto = Moto::shared();
    let account = fresh_account();
    let name = "status-prod";
    let seeded = moto.seed(&account, &["--name", name, "--extra-alarms", "120"]);
    // moto never starts a service's tasks; an UpdateService makes running
    // jump to desired. The seed sets api's 5xx alarm to ALARM: back to OK.
    for service in seeded.get("services").strings() {
        moto.aws(
            &account,
            "ecs",
            "update_service",
            &format!(r#"{{"cluster": "{name}", "service": "{service}", "desiredCount": 2}}"#),
        );
    }
    for alarm in seeded.get("alarms_in_alarm").strings() {
        set_alarm(moto, &account, &alarm, "OK");
    }
    let mut env = env_config("production", &moto.endpoint, name);
    env.alarm_prefixes = vec![format!("{name}-")];
    env.protected = true;

    let report = status_of(&account, env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Ok, "{:?} {:?}", e.reasons, e.errors);
    assert!(!e.partial && e.errors.is_empty(), "{:?}", e.errors);
    assert_eq!(e.account.as_deref(), Some(account.as_str()));
    let alarms = seeded.get("alarms").u64() as usize;
    assert!(alarms > 100, "more than a page of alarms: {alarms}");
    assert_eq!(e.counts.alarms, alarms, "every page of alarms");
    assert_eq!(e.counts.services, 3);
    assert_eq!((e.counts.tasks_running, e.counts.tasks_desired), (6, 6));
    assert_eq!((e.counts.databases, e.counts.databases_available), (2, 2));
    assert_eq!(e.counts.target_groups, 2, "web's and api's");
    let doc = honban::status::to_json(&report);
    support::schema::assert_valid_status(&doc);
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["environments"][0]["account"], account.as_str());

    let web_5xx = format!("{name}-web-5xx");
    set_alarm(moto, &account, &web_5xx, "ALARM");
    let report = status_of(&account, env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Critical, "{:?}", e.reasons);
    assert_eq!(report.overall.exit_code(), 2);
    // As in the console, web is degraded by the alarm on its metrics.
    assert_eq!(
        e.reasons,
        [
            "1 alarm in ALARM".to_string(),
            format!("web degraded: alarm {web_5xx} in ALARM")
        ]
    );
    assert_eq!(e.checks[0].name, web_5xx, "the worst first");
    let line = honban::status::nagios(&report);
    assert!(
        line.starts_with(&format!(
            "HONBAN CRITICAL - production: 1 alarm in ALARM, web degraded: alarm {web_5xx} in ALARM | services_ok="
        )),
        "{line}"
    );

    // Throttled alarms (no retries here): the rest is read, the verdict is
    // UNKNOWN, not OK, and says what was not read.
    set_alarm(moto, &account, &web_5xx, "OK");
    moto.inject_fault(&account, "cloudwatch:DescribeAlarms", "throttle", 0);
    let report = status_of(&account, env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Unknown, "{:?}", e.reasons);
    assert!(e.partial);
    assert_eq!(e.counts.services, 3, "the rest was read");
    assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
    assert_eq!(
        (e.errors[0].resource.as_str(), e.errors[0].kind.as_str()),
        ("alarms", "throttled")
    );
    moto.clear_faults(&account);

    // Expired credentials: nothing is read, UNKNOWN with every error.
    moto.inject_fault(&account, "*", "expired", 0);
    let report = status_of(&account, env).await;
    moto.clear_faults(&account);
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Unknown);
    assert_eq!(report.overall.exit_code(), 3);
    assert!(e.checks.is_empty(), "{:?}", e.checks);
    let doc = honban::status::to_json(&report);
    support::schema::assert_valid_status(&doc);
    let errors = doc["environments"][0]["errors"].as_array().expect("errors");
    let resources: Vec<&str> = errors
        .iter()
        .filter_map(|x| x["resource"].as_str())
        .collect();
    assert_eq!(resources, ["identity", "services", "databases", "alarms"]);
    assert!(
        errors.iter().all(|x| x["kind"] == "unauthorized"
            && x["message"].as_str().is_some_and(|m| m.contains("expired"))),
        "{errors:?}"
    );
}

/// `status` reads only what health is judged from: no tasks, snapshots,
/// auto scaling, task definitions or metrics (GetMetricData is billed).
#[tokio::test]
async fn status_reads_only_what_health_needs() {
    let moto = Moto::shared();
    let account = fresh_account();
    let name = "status-reads";
    moto.seed(&account, &["--name", name]);
    moto.reset_counts(&account);
    let report = status_of(&account, env_config("production", &moto.endpoint, name)).await;
    assert!(!report.partial(), "{:?}", report.environments[0].errors);
    let counts = moto.counts(&account);
    for op in [
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:DescribeTaskDefinition",
        "rds:DescribeDBSnapshots",
        "application-autoscaling:DescribeScalableTargets",
        "cloudwatch:GetMetricData",
    ] {
        assert_eq!(counts.get(op), None, "{op} was read: {counts:?}");
    }
    for op in [
        "sts:GetCallerIdentity",
        "ecs:ListServices",
        "ecs:DescribeServices",
        "rds:DescribeDBInstances",
        "cloudwatch:DescribeAlarms",
        "elasticloadbalancing:DescribeTargetHealth",
    ] {
        assert!(
            counts.get(op).is_some_and(|n| *n >= 1),
            "{op} not read: {counts:?}"
        );
    }
}

// --------------------------------------------------------------------------
// Unanswered changes: sent once, read back, said applied or not applied.

/// The console as `honban` builds it, with the SDK's retries on (as in
/// production: reads retry, mutations must not) and a short deadline for
/// mutations.
async fn console_with_retries(account: &str, env: EnvironmentConfig) -> Console {
    let mut c = console(
        account,
        env,
        |_, opts| {
            opts.aws.max_attempts = 3;
        },
        None,
    )
    .await;
    c.app.set_mutation_timeout(Duration::from_secs(2));
    c.app.set_read_back_pauses(vec![Duration::from_secs(1)]);
    c
}

/// The result record of operation `id`, with its read-back.
fn read_back_of(path: &std::path::Path, id: &str) -> (Record, honban::reconcile::ReadBack) {
    let result = audit_records(path)
        .into_iter()
        .find(|r| r.id == id && r.phase == Phase::Result)
        .unwrap_or_else(|| panic!("no result record for {id}"));
    let rb = result
        .read_back
        .clone()
        .unwrap_or_else(|| panic!("the result of {id} was not read back: {result:?}"));
    (result, rb)
}

fn accepted_detail(a: &Activity) -> String {
    match &a.status {
        OpStatus::Accepted { detail, .. } => detail.clone(),
        other => panic!("expected {} accepted, it is {other:?}", a.op.title()),
    }
}

/// The answers of UpdateService, RegisterTaskDefinition and CreateDBSnapshot
/// come too late (each was applied at once): exactly one request of each
/// reaches the server, and the console reads the change back and says it
/// was applied — on screen, in the activity and in the audit log — and
/// follows it as usual. A server error on UpdateService (not retried) reads
/// back as not applied.
#[tokio::test]
async fn unanswered_changes_are_sent_once_and_read_back() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "unans"]);
    let env = env_config("staging", &moto.endpoint, "unans");
    let Console { mut app, audit, .. } = console_with_retries(&account, env).await;
    select(&mut app, '2', "web").await;
    let desired = app.state.service("web").expect("web").desired_count;

    // Scale: UpdateService applied, its answer 4 s late (the deadline is 2 s).
    moto.reset_counts(&account);
    moto.inject_slow(&account, "ecs:UpdateService", 4.0, 1);
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, &(desired + 1).to_string());
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)]),
        "sent once, never retried"
    );
    assert_eq!(
        raw_service(moto, &account, "unans", "web")
            .get("desiredCount")
            .as_u64(),
        Some(u64::from(desired + 1))
    );
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    assert!(detail.contains("no answer within 2s"), "{detail}");
    let flash = flash_text(&app);
    assert!(flash.contains("applied"), "{flash}");
    assert!(
        !flash.contains("FAILED") && !flash.contains("failed"),
        "{flash}"
    );
    assert!(a.watch.is_some(), "the change is followed");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::Applied);
    assert!(
        rb.evidence
            .contains(&format!("desired count reads {}", desired + 1)),
        "{rb:?}"
    );
    assert_eq!(result.result["desiredCount"], desired + 1);

    // Deploy: RegisterTaskDefinition applied, its answer late. The revision
    // it registered is found; UpdateService goes to it, once.
    let base = app
        .state
        .service("web")
        .expect("web")
        .task_definition
        .clone();
    moto.reset_counts(&account);
    moto.inject_slow(&account, "ecs:RegisterTaskDefinition", 4.0, 1);
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "v7.7.7");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::DeployImage { .. })
    ));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:RegisterTaskDefinition", 1), ("ecs:UpdateService", 1)]),
        "one registration, one update"
    );
    let deployed = raw_service(moto, &account, "unans", "web")
        .get("taskDefinition")
        .as_str()
        .expect("task definition")
        .to_string();
    assert_ne!(deployed, base);
    assert_eq!(
        the_request(moto, &account, "ecs:UpdateService")
            .get("taskDefinition")
            .as_str(),
        Some(deployed.as_str())
    );
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::Applied);
    assert!(rb.unanswered.contains("RegisterTaskDefinition"), "{rb:?}");
    assert_eq!(result.result["registered"], deployed.as_str());

    // Scale with a server error (HTML 500): not retried, read back: not
    // applied; said so, not "FAILED".
    let desired = app.state.service("web").expect("web").desired_count;
    moto.reset_counts(&account);
    moto.inject_fault(&account, "ecs:UpdateService", "500", 1);
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, &(desired + 2).to_string());
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:UpdateService", 1)]),
        "a 500 is not retried: the change may have been applied"
    );
    let a = last_activity(&app);
    match &a.status {
        OpStatus::NotApplied { detail, .. } => {
            assert!(detail.contains("read back: not applied"), "{detail}");
        }
        other => panic!("expected not applied, got {other:?}"),
    }
    let flash = flash_text(&app);
    assert!(flash.contains("not applied"), "{flash}");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::NotApplied);
    let screen = {
        app.dispatch(Action::Command(honban::config::keys::Command::Activity));
        screen(&app, 120, 30)
    };
    assert!(screen.contains("not applied"), "{screen}");

    // Snapshot: CreateDBSnapshot applied, its answer late.
    moto.reset_counts(&account);
    moto.inject_slow(&account, "rds:CreateDBSnapshot", 4.0, 1);
    select(&mut app, '4', "unans-db").await;
    press(&mut app, KeyCode::Char('n'));
    let Some(Operation::Snapshot { snapshot_id, .. }) = confirming(&app).cloned() else {
        panic!("expected a snapshot confirmation: {:?}", app.state.mode);
    };
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:CreateDBSnapshot", 1)])
    );
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::Applied);
    assert!(rb.evidence.contains(&snapshot_id), "{rb:?}");
}

/// An intent written just before a kill -9 (no result): at the next start
/// the resource is read back — the scale that reached AWS reads *applied*,
/// the snapshot that was never sent *not applied* — and a result record
/// says so.
#[tokio::test]
async fn an_intent_without_a_result_is_read_back_at_the_next_start() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "kill9"]);
    let env = env_config("staging", &moto.endpoint, "kill9");
    let Console { mut app, audit, .. } = console(&account, env, |_, _| {}, None).await;
    let web = app.state.service("web").expect("web").clone();
    let identity = app.state.envs[0].identity.data.clone().expect("identity");
    let intent = |id: &str, op: &Operation| Record {
        time: chrono::Utc::now() - chrono::TimeDelta::minutes(3),
        phase: Phase::Intent,
        id: id.to_string(),
        environment: "staging".into(),
        simulated: false,
        account: Some(identity.account.clone()),
        region: Some(REGION.into()),
        caller: Some(identity.arn.clone()),
        operation: op.name().to_string(),
        resource: op.resource().to_string(),
        calls: op.calls(),
        parameters: op.parameters(),
        before: Some(op.before_after().0),
        after: Some(op.before_after().1),
        dry_run: false,
        outcome: None,
        result: serde_json::Value::Null,
        error: None,
        ended: None,
        detail: None,
        read_back: None,
    };
    let scale = Operation::Scale {
        cluster: "kill9".into(),
        service: "web".into(),
        from: web.desired_count,
        to: web.desired_count + 1,
        scaling: None,
    };
    let snapshot = Operation::Snapshot {
        instance: "kill9-db".into(),
        snapshot_id: "kill9-db-honban-20261124-030405".into(),
    };
    let log = AuditLog::new(&audit);
    log.append(&intent("earlier-1", &scale)).expect("append");
    log.append(&intent("earlier-2", &snapshot)).expect("append");
    // The scale reached AWS before the kill; the snapshot never left.
    moto.aws(
        &account,
        "ecs",
        "update_service",
        &format!(
            r#"{{"cluster": "kill9", "service": "web", "desiredCount": {}}}"#,
            web.desired_count + 1
        ),
    );

    // The next start: the history shows the intents; they are read back.
    let (records, _) = log.read_recent(100).expect("read");
    honban::setup::set_history(&mut app.state, records);
    moto.reset_counts(&account);
    app.dispatch(Action::Start);
    assert_eq!(app.state.history_checking.len(), 2);
    app.settle().await;
    assert!(app.state.history_checking.is_empty());
    assert_eq!(mutating_counts(moto, &account), ops(&[]), "reads only");
    let verdict = |id: &str| {
        let r = app
            .state
            .history
            .iter()
            .find(|r| r.id == id)
            .expect("in the history");
        assert_eq!(r.phase, Phase::Result, "{r:?}");
        r.read_back.clone().expect("read back").verdict
    };
    assert_eq!(verdict("earlier-1"), honban::reconcile::Verdict::Applied);
    assert_eq!(verdict("earlier-2"), honban::reconcile::Verdict::NotApplied);
    let (r1, _) = read_back_of(&audit, "earlier-1");
    assert_eq!(r1.outcome, Some(Outcome::Success));
    let (r2, rb2) = read_back_of(&audit, "earlier-2");
    assert_eq!(r2.outcome, Some(Outcome::Error));
    assert!(rb2.evidence.contains("there is no snapshot"), "{rb2:?}");
    app.dispatch(Action::Command(honban::config::keys::Command::Activity));
    let screen = screen(&app, 120, 30);
    assert!(screen.contains("applied"), "{screen}");
    assert!(screen.contains("not applied"), "{screen}");
    assert!(
        !screen
            .lines()
            .any(|l| l.trim_end_matches('│').trim_end().ends_with("no result")),
        "no status says \"no result\" any more: {screen}"
    );
    // Read back once: the next start has nothing left to check.
    let (records, _) = log.read_recent(100).expect("read");
    honban::setup::set_history(&mut app.state, records);
    app.dispatch(Action::Start);
    assert!(app.state.history_checking.is_empty());
}

#[tokio::test]
async fn a_stop_reaches_moto_once_and_the_task_reads_stopped() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "stp"]);
    let b = backend(moto, &account, "stp").await;
    let tasks = b.tasks("stp").await.expect("tasks");
    let task = tasks
        .items
        .iter()
        .find(|t| t.last_status == "RUNNING" && t.service_name() == Some("web"))
        .expect("a running web task")
        .clone();
    // What the task detail shows of its network (awsvpc attachment).
    assert!(
        task.eni.as_deref().is_some_and(|e| e.starts_with("eni-")),
        "{:?}",
        task.eni
    );
    assert!(
        task.private_ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()),
        "{:?}",
        task.private_ip
    );

    moto.reset_counts(&account);
    let reason = honban::ops::stop_reason(Some("arn:aws:sts::123456789012:assumed-role/OnCall/me"));
    let stopped = b.stop_task("stp", &task.arn, &reason).await.expect("stop");
    assert_eq!(stopped.arn, task.arn);
    assert_eq!(stopped.desired_status, "STOPPED");
    assert_eq!(mutating_counts(moto, &account), ops(&[("ecs:StopTask", 1)]));
    let sent = the_request(moto, &account, "ecs:StopTask");
    assert_eq!(sent.get("cluster").as_str(), Some("stp"));
    assert_eq!(sent.get("task").as_str(), Some(task.arn.as_str()));
    assert_eq!(sent.get("reason").as_str(), Some(reason.as_str()));

    // Read back (as after an unanswered request): STOPPED, applied.
    let after = b.tasks("stp").await.expect("tasks");
    let t = after
        .items
        .iter()
        .find(|t| t.arn == task.arn)
        .expect("still listed");
    assert_eq!(t.last_status, "STOPPED");
    assert_eq!(t.stopped_reason.as_deref(), Some(reason.as_str()));
    let op = Operation::StopTask {
        cluster: "stp".into(),
        task: task.arn.clone(),
        service: Some("web".into()),
        status: "RUNNING".into(),
        running: 2,
        reason,
    };
    let found = honban::reconcile::read_back(&b, &op, chrono::Utc::now(), None)
        .await
        .expect("read back");
    assert_eq!(
        found.verdict,
        honban::reconcile::Verdict::Applied,
        "{found:?}"
    );
    // Nothing was sent again.
    assert_eq!(mutating_counts(moto, &account), ops(&[("ecs:StopTask", 1)]));
}

// --- the image check of a deploy's preview (ecr:DescribeImages)

/// Pushes an image (a manifest; moto computes its digest) to `repo` in
/// `account`, creating the repository; returns the digest.
fn push_image(moto: &Moto, account: &str, repo: &str, tag: &str) -> String {
    let _ = moto.aws(
        account,
        "ecr",
        "create_repository",
        &format!(r#"{{"repositoryName": "{repo}"}}"#),
    );
    let manifest = format!(
        r#"{{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\", \"config\": {{\"digest\": \"sha256:{tag}\"}}, \"layers\": []}}"#
    );
    let out = moto.aws(
        account,
        "ecr",
        "put_image",
        &format!(
            r#"{{"repositoryName": "{repo}", "imageTag": "{tag}", "imageManifest": "{manifest}"}}"#
        ),
    );
    out.get("image")
        .get("imageId")
        .get("imageDigest")
        .as_str()
        .expect("a digest")
        .to_string()
}

#[tokio::test]
async fn an_image_is_checked_in_its_ecr_registry_found_missing_or_failed() {
    use honban::images::{EcrImage, ImageLookup};
    let moto = Moto::shared();
    let account = fresh_account();
    let digest = push_image(moto, &account, "works-logue/web", "v1.4.3");
    let b = backend(moto, &account, "none").await;
    let registry = format!("{account}.dkr.ecr.{REGION}.amazonaws.com");
    let image = |reference: &str| {
        EcrImage::parse(&format!("{registry}/{reference}")).expect("an ECR image")
    };
    moto.reset_counts(&account);

    // The tag exists: its digest and push time.
    let found = b
        .describe_image(&image("works-logue/web:v1.4.3"))
        .await
        .expect("checked");
    let ImageLookup::Found(detail) = found else {
        panic!("expected the image: {found:?}");
    };
    assert_eq!(detail.digest, digest);
    assert!(detail.pushed_at.is_some(), "{detail:?}");
    assert_eq!(detail.tags, vec!["v1.4.3".to_string()]);
    // By digest too.
    let by_digest = b
        .describe_image(&image(&format!("works-logue/web@{digest}")))
        .await
        .expect("checked");
    assert!(matches!(by_digest, ImageLookup::Found(_)), "{by_digest:?}");

    // A tag that was never pushed, and a repository that does not exist.
    let missing = b
        .describe_image(&image("works-logue/web:v9.9.9"))
        .await
        .expect("checked");
    match &missing {
        ImageLookup::Missing { what } => assert!(what.contains("works-logue/web:v9.9.9"), "{what}"),
        other => panic!("expected missing: {other:?}"),
    }
    let no_repo = b
        .describe_image(&image("works-logue/nope:v1"))
        .await
        .expect("checked");
    match &no_repo {
        ImageLookup::Missing { what } => {
            assert!(what.contains("repository works-logue/nope"), "{what}");
        }
        other => panic!("expected a missing repository: {other:?}"),
    }
    assert_eq!(moto.count(&account, "ecr:DescribeImages"), 4);
    // The request names the registry, the repository and the tag.
    let raw = moto.counts(&account);
    assert_eq!(raw.len(), 1, "only DescribeImages was sent: {raw:?}");

    // A failure is an error, never "missing" (nor found).
    moto.inject_fault(&account, "ecr:DescribeImages", "expired", 1);
    let failed = b.describe_image(&image("works-logue/web:v1.4.3")).await;
    assert!(
        matches!(failed, Err(BackendError::Unauthorized { .. })),
        "{failed:?}"
    );
    moto.inject_fault(&account, "ecr:DescribeImages", "throttle", 1);
    let throttled = b.describe_image(&image("works-logue/web:v1.4.3")).await;
    assert!(
        matches!(throttled, Err(BackendError::Throttled { .. })),
        "{throttled:?}"
    );
    moto.clear_faults(&account);
}

#[tokio::test]
async fn the_deploy_preview_says_whether_the_image_exists_without_waiting() {
    use honban::images::{ImageCheck, ImageLookup};
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "imgcheck"]);
    let digest = push_image(moto, &account, "works-logue/web", "v2.0.0");
    let env = env_config("staging", &moto.endpoint, "imgcheck");
    let Console { mut app, .. } = console(&account, env, |_, _| {}, None).await;
    select(&mut app, '2', "web").await;
    let registry = format!("{account}.dkr.ecr.{REGION}.amazonaws.com");
    let check =
        |app: &App, image: &str| app.state.image_checks.get(&(0, image.to_string())).cloned();

    // A pushed tag: the preview opens at once (checking), then says it exists.
    moto.reset_counts(&account);
    let pushed = format!("{registry}/works-logue/web:v2.0.0");
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &pushed);
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::DeployImage { .. })
    ));
    assert_eq!(check(&app, &pushed), Some(ImageCheck::Checking));
    app.settle().await;
    match check(&app, &pushed) {
        Some(ImageCheck::Done(ImageLookup::Found(d))) => assert_eq!(d.digest, digest),
        other => panic!("expected found: {other:?}"),
    }
    let screen = draw(&app);
    assert!(screen.contains("exists in ECR"), "{screen}");
    assert!(screen.contains(&digest[..20]), "{screen}");
    press(&mut app, KeyCode::Esc);

    // A tag never pushed: a clear warning; the operator may still confirm.
    let typo = format!("{registry}/works-logue/web:v2.0.O");
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &typo);
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert!(
        check(&app, &typo).is_some_and(|c| c.is_missing()),
        "{:?}",
        check(&app, &typo)
    );
    let screen = draw(&app);
    assert!(screen.contains("NOT FOUND in ECR"), "{screen}");
    assert!(screen.contains("still confirm"), "{screen}");
    assert!(confirming(&app).is_some(), "the preview stays open");
    press(&mut app, KeyCode::Esc);

    // A check that fails says so, never "exists".
    moto.inject_fault(&account, "ecr:DescribeImages", "500", 1);
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &pushed);
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert!(
        matches!(check(&app, &pushed), Some(ImageCheck::Failed(_))),
        "{:?}",
        check(&app, &pushed)
    );
    let screen = draw(&app);
    assert!(screen.contains("could not check"), "{screen}");
    assert!(!screen.contains("exists in ECR"), "{screen}");
    press(&mut app, KeyCode::Esc);
    moto.clear_faults(&account);

    // Not in ECR: nothing is asked, and the preview says it cannot check.
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "nginx:1.27");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert_eq!(check(&app, "nginx:1.27"), Some(ImageCheck::NotEcr));
    let screen = draw(&app);
    assert!(screen.contains("cannot check"), "{screen}");
    press(&mut app, KeyCode::Esc);

    assert_eq!(moto.count(&account, "ecr:DescribeImages"), 3);
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[]),
        "nothing was deployed"
    );
}

/// The console drawn at 100×40, as text.
fn draw(app: &App) -> String {
    let theme = honban::config::theme::Theme::default();
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 40)).expect("terminal");
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

// --- ECS Exec: ExecuteCommand (answered by the test proxy: moto has none)
// and the terminal handed to a stand-in session-manager-plugin

/// A stand-in `session-manager-plugin` in `dir`: answers `--version` with
/// `version`, records its arguments (one a line) and the session it finds
/// in `AWS_SSM_START_SESSION_RESPONSE` to `dir/calls.log`, and exits with
/// `exit`.
fn stand_in_plugin(dir: &std::path::Path, version: &str, exit: i32) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\n\
         here=$(dirname \"$0\")\n\
         if [ \"$1\" = \"--version\" ]; then echo {version}; exit 0; fi\n\
         {{ for a in \"$@\"; do printf 'ARG %s\\n' \"$a\"; done; \
         printf 'ENV %s\\n' \"$AWS_SSM_START_SESSION_RESPONSE\"; }} > \"$here/calls.log\"\n\
         exit {exit}\n"
    );
    let path = dir.join("session-manager-plugin");
    std::fs::write(&path, script).expect("write the stand-in plugin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// What the stand-in recorded: its arguments and the session from the
/// environment.
fn plugin_calls(dir: &std::path::Path) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(dir.join("calls.log")).expect("the plugin ran");
    let args = text
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .map(str::to_string)
        .collect();
    let env = text
        .lines()
        .find_map(|l| l.strip_prefix("ENV "))
        .unwrap_or_default()
        .to_string();
    (args, env)
}

/// Opens the tasks view and moves to the task `arn`.
async fn select_task(app: &mut App, arn: &str) {
    press(app, KeyCode::Char('3'));
    app.settle().await;
    let arns: Vec<String> = app
        .state
        .visible_tasks()
        .iter()
        .map(|t| t.arn.clone())
        .collect();
    let i = arns
        .iter()
        .position(|a| a == arn)
        .unwrap_or_else(|| panic!("{arn} not in {arns:?}"));
    press(app, KeyCode::Char('g'));
    for _ in 0..i {
        press(app, KeyCode::Char('j'));
    }
}

/// Seeds `name` with ECS Exec on web (one task started with it, through
/// the proxy) and opens the console on it: the console, the exec task's ARN
/// and another RUNNING web task (started before exec was enabled).
async fn exec_console(
    moto: &Moto,
    account: &str,
    name: &str,
    read_only: bool,
) -> (Console, String, String) {
    let summary = moto.seed(account, &["--name", name, "--exec-through", &moto.endpoint]);
    let exec_task = summary.get("exec_tasks").strings()[0].clone();
    let mut env = env_config(name, &moto.endpoint, name);
    env.read_only = read_only;
    let console = console(account, env, |_, _| {}, None).await;
    let other = console.app.state.envs[0]
        .tasks
        .data
        .as_ref()
        .expect("tasks")
        .iter()
        .find(|t| {
            t.service_name() == Some("web") && t.arn != exec_task && t.last_status == "RUNNING"
        })
        .expect("another running web task")
        .arn
        .clone();
    (console, exec_task, other)
}

#[tokio::test]
async fn exec_by_keys_opens_a_session_hands_the_plugin_the_cli_arguments_and_audits_it() {
    let moto = Moto::shared();
    let account = fresh_account();
    let (Console { mut app, audit, .. }, exec_task, _) =
        exec_console(moto, &account, "execok", false).await;
    let plugin = tempfile::tempdir().expect("dir");
    stand_in_plugin(plugin.path(), "1.2.707.0", 0);
    app.set_plugin_search(plugin.path().as_os_str().to_owned());

    // What DescribeTasks says of the task (through the proxy's ECS Exec
    // fields): exec on, the agent running, a runtime id.
    let task = app.state.envs[0]
        .tasks
        .data
        .as_ref()
        .and_then(|v| v.iter().find(|t| t.arn == exec_task))
        .expect("the exec task")
        .clone();
    assert!(task.enable_execute_command);
    let web = &task.containers[0];
    assert_eq!(web.exec_agent.as_deref(), Some("RUNNING"));
    let runtime_id = web.runtime_id.clone().expect("a runtime id");

    // From the task detail: x, the command (default /bin/sh), the preview.
    select_task(&mut app, &exec_task).await;
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        app.state.view(),
        honban::state::View::TaskDetail { .. }
    ));
    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('x'));
    match &app.state.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "/bin/sh"),
        other => panic!("expected the command prompt, got {other:?}"),
    }
    press(&mut app, KeyCode::Enter);
    let Some(op @ Operation::Exec { .. }) = confirming(&app).cloned() else {
        panic!("expected the exec confirmation: {:?}", app.state.mode);
    };
    let screen = draw(&app);
    assert!(screen.contains("ecs:ExecuteCommand"), "{screen}");
    assert!(screen.contains("takes over this terminal"), "{screen}");
    // Enter does not send; y does, once.
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some());
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:ExecuteCommand", 1)])
    );
    let sent = the_request(moto, &account, "ecs:ExecuteCommand");
    assert_eq!(sent.get("cluster").as_str(), Some("execok"));
    assert_eq!(sent.get("task").as_str(), Some(exec_task.as_str()));
    assert_eq!(sent.get("container").as_str(), Some("web"));
    assert_eq!(sent.get("command").as_str(), Some("/bin/sh"));
    assert_eq!(sent.get("interactive").as_bool(), Some(true));
    let a = last_activity(&app);
    assert_eq!(a.op, op);
    assert!(accepted(a), "{:?}", a.status);
    let id = a.id.clone();

    // The session waits for the terminal; the plugin runs and exits.
    assert!(app.state.handover.is_some());
    let end = app.run_handover_headless().await.expect("a session");
    assert_eq!(end.code, Some(0), "{end:?}");
    assert!(end.error.is_none());
    app.settle().await;
    assert!(
        flash_text(&app).contains("session ended"),
        "{}",
        flash_text(&app)
    );

    // The arguments the AWS CLI passes: the session (in the environment for
    // a plugin newer than 1.2.497.0), region, StartSession, profile (none),
    // the target, the endpoint.
    let (args, env) = plugin_calls(plugin.path());
    let task_id = exec_task.rsplit('/').next().expect("id");
    assert_eq!(
        args,
        vec![
            "AWS_SSM_START_SESSION_RESPONSE".to_string(),
            REGION.to_string(),
            "StartSession".to_string(),
            String::new(),
            format!(r#"{{"Target":"ecs:execok_{task_id}_{runtime_id}"}}"#),
            moto.endpoint.clone(),
        ]
    );
    let session = Json::parse(&env).expect("the session JSON");
    let session_id = session.get("sessionId").as_str().expect("id").to_string();
    let token = session
        .get("tokenValue")
        .as_str()
        .expect("token")
        .to_string();
    assert!(
        session_id.starts_with("ecs-execute-command-"),
        "{session_id}"
    );
    assert!(
        session
            .get("streamUrl")
            .as_str()
            .is_some_and(|u| u.starts_with("wss://"))
    );

    // The audit log tells the session: intent, result (the session id),
    // and its end; never the token.
    let (intent, result) = audited(&app, &audit, &id);
    assert_eq!(intent.operation, "exec");
    assert_eq!(intent.parameters["container"], "web");
    assert_eq!(intent.parameters["command"], "/bin/sh");
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["sessionId"], session_id.as_str());
    let end_record = audit_records(&audit)
        .into_iter()
        .find(|r| r.id == id && r.phase == Phase::Final)
        .expect("the session's end");
    assert_eq!(end_record.ended.as_deref(), Some("session ended"));
    assert!(
        end_record
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("exit status 0")),
        "{end_record:?}"
    );
    let text = std::fs::read_to_string(&audit).expect("audit log");
    assert!(
        !text.contains(&token),
        "the session token is never recorded"
    );
}

#[tokio::test]
async fn exec_refuses_with_the_reason_and_sends_nothing_it_should_not() {
    let moto = Moto::shared();
    let account = fresh_account();
    let (Console { mut app, audit, .. }, exec_task, other) =
        exec_console(moto, &account, "execno", false).await;
    let empty = tempfile::tempdir().expect("dir");
    app.set_plugin_search(empty.path().as_os_str().to_owned());
    moto.reset_counts(&account);

    // A task started before exec was enabled: says so, and how to enable.
    select_task(&mut app, &other).await;
    press(&mut app, KeyCode::Char('x'));
    assert!(is_normal(&app), "{:?}", app.state.mode);
    let text = flash_text(&app);
    assert!(
        text.contains("not enabled when it started — enter shows how"),
        "{text}"
    );
    // The detail says it whole.
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app);
    assert!(screen.contains("--enable-execute-command"), "{screen}");
    press(&mut app, KeyCode::Esc);

    // No plugin on PATH: nothing is sent; how to install it.
    select_task(&mut app, &exec_task).await;
    press(&mut app, KeyCode::Char('x'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(
        error.contains("session-manager-plugin is not on PATH"),
        "{error}"
    );
    assert!(error.contains("install"), "{error}");
    assert!(
        flash_text(&app).contains("session-manager-plugin"),
        "{}",
        flash_text(&app)
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "exec");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert!(app.state.handover.is_none());
    assert_eq!(mutating_counts(moto, &account), ops(&[]));

    // ECS's own refusal (the proxy answers as ECS does) reads as what to do.
    let plugin = tempfile::tempdir().expect("dir");
    stand_in_plugin(plugin.path(), "1.2.707.0", 0);
    app.set_plugin_search(plugin.path().as_os_str().to_owned());
    let task = app.state.task(&other).expect("task").clone();
    app.state.mode = Mode::Dialog(Dialog::Confirm {
        env: 0,
        op: Operation::Exec {
            cluster: "execno".into(),
            task: other.clone(),
            service: Some("web".into()),
            container: "web".into(),
            runtime_id: task.containers[0].runtime_id.clone().unwrap_or_default(),
            command: "/bin/sh".into(),
        },
        typed: String::new(),
        error: None,
    });
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let error = failed_with(last_activity(&app));
    assert!(error.contains("execute command was not enabled"), "{error}");
    assert!(error.contains("--enable-execute-command"), "{error}");
    assert!(app.state.handover.is_none());
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("ecs:ExecuteCommand", 1)]),
        "sent once, refused by ECS"
    );
    assert!(
        !plugin.path().join("calls.log").exists(),
        "no session to attach to"
    );
}

#[tokio::test]
async fn exec_in_read_only_is_refused_by_the_key_and_by_the_guard() {
    let moto = Moto::shared();
    let account = fresh_account();
    let (Console { mut app, audit, .. }, exec_task, _) =
        exec_console(moto, &account, "execro", true).await;
    let plugin = tempfile::tempdir().expect("dir");
    stand_in_plugin(plugin.path(), "1.2.707.0", 0);
    app.set_plugin_search(plugin.path().as_os_str().to_owned());
    moto.reset_counts(&account);
    select_task(&mut app, &exec_task).await;
    press(&mut app, KeyCode::Char('x'));
    assert!(is_normal(&app));
    assert!(
        flash_text(&app).contains("read-only"),
        "{}",
        flash_text(&app)
    );
    assert!(audit_records(&audit).is_empty());

    // Past the reducer: the backend's guard refuses, nothing is sent.
    let task = app.state.task(&exec_task).expect("task").clone();
    app.state.mode = Mode::Dialog(Dialog::Confirm {
        env: 0,
        op: Operation::Exec {
            cluster: "execro".into(),
            task: exec_task.clone(),
            service: Some("web".into()),
            container: "web".into(),
            runtime_id: task.containers[0].runtime_id.clone().expect("runtime id"),
            command: "/bin/sh".into(),
        },
        typed: String::new(),
        error: None,
    });
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(
        error.contains("read-only: ecs:ExecuteCommand was not sent"),
        "{error}"
    );
    let (_, result) = audited(&app, &audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert!(app.state.handover.is_none());
    assert_eq!(mutating_counts(moto, &account), ops(&[]));
    assert!(!plugin.path().join("calls.log").exists());
}

/// The SDK's own retries are real requests: counted (the diagnostics
/// view's SENT), throttles counted per attempt, and the API's allowed rate
/// halved by them and given back by the answers that follow.
#[tokio::test]
async fn sdk_retries_are_counted_and_throttles_slow_the_api_down() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "retries", "--minimal"]);
    let b = AwsBackend::connect(
        &env_config("retries", &moto.endpoint, "retries"),
        ConnectOptions {
            max_attempts: 3,
            ..options(&account)
        },
    )
    .await;
    moto.inject_fault(&account, "ecs:ListServices", "throttle", 2);
    b.services("retries")
        .await
        .expect("the third attempt answers");
    assert_eq!(moto.count(&account, "ecs:ListServices"), 3);
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
