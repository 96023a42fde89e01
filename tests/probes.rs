//! HTTP health probes against a tiny HTTP server on loopback: a healthy
//! endpoint, a failing one, one that hangs (timeout) and a closed port,
//! through the real prober and through the console (runner → update).

use std::sync::Arc;
use std::time::Duration;

use honban::action::Action;
use honban::app::App;
use honban::clock::Clock;
use honban::config::{Config, HealthCheckConfig};
use honban::probe::{self, HttpProber, ProbeError, Prober};
use honban::runner::EnvRuntime;
use honban::state::{EnvState, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `/ok` (200 after 30 ms), `/fail` (500 with a JSON body),
/// `/created` (201) and `/hang` (never answers) on 127.0.0.1.
async fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                break;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                // Read the request head.
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = match path.as_str() {
                    "/ok" => {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        ("200 OK", "ok".to_string())
                    }
                    "/fail" => (
                        "500 Internal Server Error",
                        "{\"status\":\"down\",\"db\":\"connection refused\"}".to_string(),
                    ),
                    "/created" => ("201 Created", String::new()),
                    "/hang" => {
                        tokio::time::sleep(Duration::from_hours(1)).await;
                        return;
                    }
                    _ => ("404 Not Found", "no such page".to_string()),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// A port on loopback where nothing listens.
async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/health")
}

fn check(url: &str, timeout_secs: u64) -> HealthCheckConfig {
    HealthCheckConfig {
        timeout_secs,
        ..HealthCheckConfig::new(url)
    }
}

#[tokio::test]
async fn the_http_prober_reports_status_latency_and_errors() {
    let base = server().await;
    let prober = HttpProber::new();

    let ok = probe::run(&prober, &check(&format!("{base}/ok"), 5)).await;
    assert_eq!(ok.outcome, Ok(200));
    let latency = ok.latency.expect("a latency");
    assert!(latency >= Duration::from_millis(30), "{latency:?}");
    assert!(latency < Duration::from_secs(5), "{latency:?}");
    assert_eq!(probe::judge(&ok, None), Ok(()));

    let fail = probe::run(&prober, &check(&format!("{base}/fail"), 5)).await;
    assert_eq!(fail.outcome, Ok(500));
    assert!(fail.latency.is_some());
    assert_eq!(
        probe::judge(&fail, None),
        Err(
            "unexpected status 500 Internal Server Error (expected 2xx): {\"status\":\"down\",\"db\":\"connection refused\"}"
                .to_string()
        )
    );

    let created = prober.probe(&check(&format!("{base}/created"), 5)).await;
    assert_eq!(created.outcome, Ok(201));
    assert_eq!(probe::judge(&created, None), Ok(()));
    assert!(probe::judge(&created, Some(200)).is_err());

    let started = std::time::Instant::now();
    let hang = probe::run(&prober, &check(&format!("{base}/hang"), 1)).await;
    assert_eq!(hang.outcome, Err(ProbeError::Timeout { secs: 1 }));
    assert_eq!(hang.latency, None);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        probe::judge(&hang, None),
        Err("timeout: no answer within 1s".to_string())
    );

    let refused = probe::run(&prober, &check(&closed_port().await, 5)).await;
    assert!(
        matches!(refused.outcome, Err(ProbeError::Refused(_))),
        "{refused:?}"
    );
    assert!(
        probe::judge(&refused, None)
            .expect_err("refused")
            .starts_with("connection refused: ")
    );
}

/// The console probes through the runner and keeps the history.
#[tokio::test]
async fn the_console_probes_counts_failures_and_keeps_latency() {
    let base = server().await;
    let config: Config = toml::from_str(&format!(
        r#"
[[environment]]
name = "local"
region = "ap-northeast-1"

[[environment.health_checks]]
name = "ok"
url = "{base}/ok"

[[environment.health_checks]]
name = "fail"
url = "{base}/fail"

[[environment.health_checks]]
name = "hang"
url = "{base}/hang"
timeout_secs = 1
"#
    ))
    .expect("config");
    let cfg = config.environments[0].clone();
    let env = EnvState::from_config(&cfg, &config.refresh, false);
    let keymap = honban::config::keys::Keymap::from_config(&config).expect("keys");
    let clock = Clock::Wall;
    let state = State::new(vec![env], 0, keymap, clock.now());
    // The backend is never called here: only the health checks run.
    let backend =
        honban::backend::sim::SimBackend::new("staging", 1, clock.clone()).expect("a backend");
    let mut app = App::new(
        state,
        vec![EnvRuntime {
            config: cfg,
            backend: Arc::new(backend),
            prober: Arc::new(HttpProber::new()),
        }],
        clock,
    );
    for round in 1..=2u64 {
        for probe in 0..3 {
            app.dispatch(Action::ProbeDue { env: 0, probe });
        }
        // A second tick while in flight is skipped.
        app.dispatch(Action::ProbeDue { env: 0, probe: 2 });
        app.settle().await;
        let probes = &app.state.envs[0].probes;
        assert_eq!(probes[0].healthy(), Some(true));
        assert_eq!(probes[0].total, round);
        assert_eq!(probes[0].consecutive_failures, 0);
        assert!(
            probes[0]
                .last()
                .and_then(|s| s.latency_ms)
                .is_some_and(|ms| ms >= 30),
            "{:?}",
            probes[0].last()
        );
        assert_eq!(probes[1].healthy(), Some(false));
        assert_eq!(probes[1].last().and_then(|s| s.status), Some(500));
        assert_eq!(u64::from(probes[1].consecutive_failures), round);
        assert_eq!(probes[1].total_failures, round);
        assert!(
            probes[1]
                .current_error()
                .is_some_and(|e| e.starts_with("unexpected status 500")),
            "{:?}",
            probes[1].last_error
        );
        assert_eq!(probes[2].total, round, "one probe per round");
        assert_eq!(probes[2].total_failures, round);
        assert_eq!(
            probes[2].current_error(),
            Some("timeout: no answer within 1s")
        );
        assert_eq!(probes[2].last().and_then(|s| s.latency_ms), None);
    }
    assert_eq!(honban::probe::counts(&app.state.envs[0].probes), (1, 2, 3));
}

// ------------------------------------------------------ the simulation

fn start() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .expect("valid")
}

fn render(app: &App, w: u16, h: u16) -> String {
    let theme = honban::config::theme::load_theme("default", None, false).expect("theme");
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The demo on a manual clock, every panel loaded, then `rounds` probes of
/// every health check 15 s apart.
async fn demo(seed: u64, rounds: usize) -> (App, Clock) {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = honban::setup::Options {
        demo: true,
        seed: Some(seed),
        ..honban::setup::Options::default()
    };
    let (state, envs) = honban::setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let n = state.envs.len();
    let mut app = App::new(state, envs, clock.clone());
    app.dispatch(Action::Resize(80, 24));
    app.dispatch(Action::Tick(start()));
    for env in 0..n {
        for resource in honban::action::Resource::ALL {
            app.dispatch(Action::PollDue { env, resource });
        }
        app.settle().await;
    }
    for _ in 0..rounds {
        for env in 0..n {
            for probe in 0..app.state.envs[env].probes.len() {
                app.dispatch(Action::ProbeDue { env, probe });
            }
        }
        app.settle().await;
        clock.advance(Duration::from_secs(15));
        app.dispatch(Action::Tick(clock.now()));
    }
    (app, clock)
}

#[tokio::test]
async fn the_demo_has_health_checks_answered_by_the_simulation() {
    let (app, _) = Box::pin(demo(7, 20)).await;
    let prod = &app.state.envs[0];
    assert_eq!(prod.name, "production");
    let names: Vec<&str> = prod.probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["app", "ready"]);
    assert_eq!(prod.probes[0].url, "https://works-logue.com/api/health");
    for p in &prod.probes {
        assert_eq!(p.total, 20, "{}", p.name);
        assert_eq!(p.history.len(), 20);
        // Latency varies with the simulated load, within reason.
        let ms: Vec<u32> = p.history.iter().filter_map(|s| s.latency_ms).collect();
        assert!(!ms.is_empty(), "{}", p.name);
        assert!(ms.iter().all(|&m| (1..5000).contains(&m)), "{ms:?}");
        assert!(ms.iter().any(|m| *m != ms[0]), "latency moves: {ms:?}");
    }
    let staging = app
        .state
        .envs
        .iter()
        .find(|e| e.name == "staging")
        .expect("staging");
    assert_eq!(staging.probes.len(), 1);
}

#[tokio::test]
async fn a_simulated_endpoint_fails_while_its_service_has_no_task() {
    use honban::backend::ServiceUpdate;
    use honban::backend::prelude::*;
    use honban::backend::sim::SimBackend;
    use honban::probe::SimProber;
    let clock = Clock::manual(start());
    let sim = Arc::new(SimBackend::new("production", 3, clock.clone()).expect("sim"));
    sim.set_chaos(false);
    let prober = SimProber::new(sim.clone());
    let app = check("https://works-logue.com/api/health", 5);
    let healthy = probe::run(&prober, &app).await;
    assert_eq!(healthy.outcome, Ok(200), "{healthy:?}");
    assert!(healthy.latency.is_some_and(|l| l > Duration::ZERO));
    // Another host with the same path is the same endpoint; an unknown
    // path falls back to the world's first endpoint.
    assert_eq!(
        probe::run(&prober, &check("http://127.0.0.1/api/health", 5))
            .await
            .outcome,
        Ok(200)
    );

    sim.update_service(
        "works-logue-prod",
        "web",
        ServiceUpdate {
            desired_count: Some(0),
            ..ServiceUpdate::default()
        },
    )
    .await
    .expect("scaled to 0");
    clock.advance(Duration::from_mins(3));
    let down = probe::run(&prober, &app).await;
    assert_eq!(down.outcome, Ok(503), "{down:?}");
    let text = probe::judge(&down, None).expect_err("503 fails");
    assert!(
        text.starts_with("unexpected status 503 Service Unavailable (expected 2xx)"),
        "{text}"
    );
    // The readiness endpoint is served by the api service: still fine.
    let ready = probe::run(
        &prober,
        &check("https://works-logue.com/api/health/ready", 5),
    )
    .await;
    assert_eq!(ready.outcome, Ok(200), "{ready:?}");
}

#[tokio::test]
async fn the_overview_shows_the_health_checks() {
    let (mut app, _) = Box::pin(demo(7, 24)).await;
    for (w, h) in [(80, 24), (160, 48)] {
        app.dispatch(Action::Resize(w, h));
        insta::assert_snapshot!(format!("overview_probes_{w}x{h}"), render(&app, w, h));
    }
    app.dispatch(Action::Command(honban::config::keys::Command::Fleet));
    insta::assert_snapshot!("fleet_probes_80x24", render(&app, 80, 24));
    // The minimum size draws without a panic.
    let screen = render(&app, 60, 15);
    assert!(screen.contains("Fleet"), "{screen}");
}
