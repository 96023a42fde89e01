//! Drawing big tables and applying big results: what a large production
//! account costs the console per frame and per refresh.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use honban::action::{Action, Data, Resource};
use honban::config::keys::{Command, Keymap};
use honban::config::theme::load_theme;
use honban::config::{ClusterConfig, Config, EnvironmentConfig};
use honban::domain::{
    Deployment, Listing, LogEvent, MetricSeries, RolloutState, Service, Task, Timestamp,
};
use honban::logs::{LogTarget, LogsState};
use honban::metrics::MetricsData;
use honban::state::{EnvState, State};
use honban::update::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SERVICES: usize = 500;
const TASKS: usize = 5_000;

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .expect("time")
}

fn services() -> Vec<Service> {
    (0..SERVICES)
        .map(|i| {
            let td = format!("arn:aws:ecs:ap-northeast-1:1:task-definition/svc-{i}:7");
            Service {
                arn: format!("arn:aws:ecs:ap-northeast-1:1:service/big/svc-{i:04}"),
                name: format!("svc-{i:04}"),
                cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/big".into(),
                status: "ACTIVE".into(),
                desired_count: 10,
                running_count: if i % 17 == 0 { 8 } else { 10 },
                pending_count: 0,
                launch_type: Some("FARGATE".into()),
                task_definition: td.clone(),
                deployments: vec![Deployment {
                    id: format!("ecs-svc/{i}"),
                    status: "PRIMARY".into(),
                    task_definition: td,
                    desired_count: 10,
                    running_count: 10,
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
                deployment_controller: honban::domain::DeploymentController::Ecs,
                strategy: None,
                service_deployment: None,
            }
        })
        .collect()
}

fn tasks() -> Vec<Task> {
    (0..TASKS)
        .map(|i| Task {
            arn: format!("arn:aws:ecs:ap-northeast-1:1:task/big/{i:032x}"),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/big".into(),
            task_definition: format!(
                "arn:aws:ecs:ap-northeast-1:1:task-definition/svc-{}:7",
                i % SERVICES
            ),
            group: Some(format!("service:svc-{:04}", i % SERVICES)),
            last_status: if i % 50 == 0 { "STOPPED" } else { "RUNNING" }.into(),
            desired_status: "RUNNING".into(),
            health_status: "HEALTHY".into(),
            availability_zone: Some("ap-northeast-1a".into()),
            launch_type: Some("FARGATE".into()),
            cpu: Some("512".into()),
            memory: Some("1024".into()),
            created_at: Some(t0()),
            started_at: Some(t0()),
            stopped_at: None,
            stop_code: None,
            stopped_reason: None,
            stopping_at: None,
            platform_version: None,
            private_ip: None,
            eni: None,
            enable_execute_command: false,
            containers: Vec::new(),
        })
        .collect()
}

fn state() -> State {
    let config: Config = toml::from_str("").expect("config");
    let env = EnvironmentConfig {
        name: "production".into(),
        region: Some("ap-northeast-1".into()),
        clusters: vec![ClusterConfig {
            name: "big".into(),
            services: Vec::new(),
        }],
        protected: true,
        ..Default::default()
    };
    let e = EnvState::from_config(&env, &config.refresh, false);
    let keymap = Keymap::from_config(&config).expect("keys");
    State::new(vec![e], 0, keymap, t0())
}

fn load(state: &mut State, resource: Resource, data: Data) -> Vec<honban::effect::Effect> {
    let effects = update(state, Action::PollDue { env: 0, resource });
    let generation = match effects.first() {
        Some(honban::effect::Effect::Fetch { generation, .. }) => *generation,
        _ => 0,
    };
    update(
        state,
        Action::Loaded {
            env: 0,
            resource,
            generation,
            at: t0(),
            result: Ok(data),
        },
    )
}

/// Answers the console's metric request with an hour of one-minute points
/// per query (1 000 series for 500 services).
fn load_metrics(state: &mut State) {
    // The request starts once its sources (services, databases, alarms)
    // have answered.
    let mut effects = load(state, Resource::Databases, Data::Databases(Vec::new()));
    effects.extend(load(state, Resource::Alarms, Data::Alarms(Vec::new())));
    let Some((generation, range, start, end, queries)) =
        effects.into_iter().find_map(|e| match e {
            honban::effect::Effect::FetchMetrics {
                generation,
                range,
                start,
                end,
                queries,
                ..
            } => Some((generation, range, start, end, queries)),
            _ => None,
        })
    else {
        panic!("no metric request");
    };
    let series = queries
        .iter()
        .enumerate()
        .map(|(i, q)| MetricSeries {
            id: q.id.clone(),
            label: q.name.clone(),
            unit: Some("Percent".into()),
            points: (0..60)
                .map(|m| {
                    (
                        start + chrono::TimeDelta::minutes(m),
                        ((i as i64 * 7 + m * 13) % 100) as f64,
                    )
                })
                .collect(),
        })
        .collect();
    update(
        state,
        Action::Loaded {
            env: 0,
            resource: Resource::Metrics,
            generation,
            at: t0(),
            result: Ok(Data::Metrics(MetricsData {
                range,
                start,
                end,
                queries,
                series,
            })),
        },
    );
}

/// One frame of whatever `s` shows.
fn bench_draw(
    c: &mut Criterion,
    name: &str,
    terminal: &mut Terminal<TestBackend>,
    s: &State,
    theme: &honban::config::theme::Theme,
) {
    c.bench_function(name, |b| {
        b.iter(|| {
            terminal
                .draw(|f| honban::ui::draw(f, black_box(s), theme))
                .expect("draw");
        });
    });
}

fn bench(c: &mut Criterion) {
    let theme = load_theme("default", None, false).expect("theme");
    let mut s = state();
    load(
        &mut s,
        Resource::Services,
        Data::Services(Listing::complete(services())),
    );
    load(
        &mut s,
        Resource::Tasks,
        Data::Tasks(Listing::complete(tasks())),
    );

    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    for (name, cmd) in [
        ("draw overview 500 services", Command::Overview),
        ("draw services 500", Command::Services),
        ("draw tasks 5000", Command::Tasks),
    ] {
        update(&mut s, Action::Command(cmd));
        bench_draw(c, name, &mut terminal, &s, &theme);
    }

    // --- metrics: the same views with a CPU trend in every row, and the
    // service detail with its charts.
    load_metrics(&mut s);
    assert!(s.envs[0].metrics.data.is_some(), "metrics loaded");
    for (name, cmd) in [
        ("draw services 500 with CPU trends", Command::Services),
        ("draw service detail with charts", Command::Select),
    ] {
        update(&mut s, Action::Command(cmd));
        bench_draw(c, name, &mut terminal, &s, &theme);
    }
    c.bench_function("metric queries of 500 services", |b| {
        b.iter(|| {
            honban::metrics::queries(
                black_box(&s.envs[0]),
                honban::metrics::MetricRange::Hour,
                2_000,
            )
        });
    });

    // --- logs: a high-volume group, a page of 10 000 events into a full
    // 5 000-line buffer (de-duplication and eviction included).
    let events: Vec<LogEvent> = (0..10_000)
        .map(|i| LogEvent {
            id: format!("{i:020}"),
            timestamp: t0() + chrono::TimeDelta::milliseconds(i * 10),
            ingested: None,
            stream: "ecs/web/0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            message: format!("INFO GET /api/articles/{i} 200 12ms req={i:08x}"),
        })
        .collect();
    let target = LogTarget {
        env: 0,
        service: "web".into(),
        task: None,
        task_definition: "arn:aws:ecs:ap-northeast-1:1:task-definition/web:7".into(),
    };
    let mut full = LogsState::new(target, 5_000, t0());
    full.ingest(events[..5_000].to_vec());
    c.bench_function(
        "ingest 10000 log events into a full 5000-line buffer",
        |b| {
            b.iter_batched(
                || (full.clone(), events.clone()),
                |(mut logs, events)| logs.ingest(events),
                criterion::BatchSize::LargeInput,
            );
        },
    );
    // The logs view of that buffer.
    s.logs = Some(full);
    s.views.push(honban::state::View::Logs);
    bench_draw(c, "draw logs view of 5000 lines", &mut terminal, &s, &theme);

    // --- input: a burst of 1 000 queued movement keys (and the frame's
    // `Drawn`, which reads the selection's identity once), in the services
    // table of 500 and the tasks table of 5 000.
    let burst: Vec<Action> = (0..1_000)
        .map(|i| {
            let c = if i % 2 == 0 { 'j' } else { 'k' };
            Action::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            ))
        })
        .collect();
    for (name, cmd) in [
        ("apply 1000 queued keys, services 500", Command::Services),
        ("apply 1000 queued keys, tasks 5000", Command::Tasks),
    ] {
        s.views.truncate(1);
        s.logs = None;
        update(&mut s, Action::Command(cmd));
        c.bench_function(name, |b| {
            b.iter_batched(
                || (s.clone(), burst.clone()),
                |(mut s, keys)| {
                    for k in keys {
                        update(&mut s, k);
                    }
                    update(&mut s, Action::Drawn);
                    s
                },
                criterion::BatchSize::LargeInput,
            );
        });
        // The baseline: the same burst if every key read the sorted rows
        // (what a key cost before movement stopped sorting).
        c.bench_function(&format!("{name}, baseline: rows sorted per key"), |b| {
            b.iter(|| {
                for _ in 0..1_000 {
                    black_box(s.row_ids());
                }
            });
        });
    }

    let big = tasks();
    c.bench_function("apply 5000 tasks", |b| {
        b.iter_batched(
            || (state(), big.clone()),
            |(mut s, t)| {
                load(&mut s, Resource::Tasks, Data::Tasks(Listing::complete(t)));
            },
            criterion::BatchSize::LargeInput,
        );
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
