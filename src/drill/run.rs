//! `honban drill [NAME]`: lists the scenarios, or shows one's briefing,
//! runs the console on its simulation (only: no configured environment is
//! loaded) and prints and saves the report.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use super::Drill;
use super::report::Report;
use super::scenario::{Scenario, load_all};
use crate::app::{App, Ended};
use crate::audit::AuditLog;
use crate::backend::sim::SimBackend;
use crate::cli::{Cli, EX_CONFIG, EX_USAGE};
use crate::clock::Clock;
use crate::config::keys::Keymap;
use crate::config::{Config, load_config, theme::load_theme};
use crate::paths::Paths;
use crate::runner::EnvRuntime;
use crate::setup::SetupError;
use crate::state::{EnvState, State};

/// The user's scenarios: `scenarios/` in the config directory.
pub fn user_dir(paths: &Paths) -> PathBuf {
    paths.config_dir.join("scenarios")
}

/// The list `honban drill` prints.
pub fn listing(all: &[Scenario]) -> String {
    let mut out = String::from("ID                   DIFFICULTY  TITLE\n");
    for s in all {
        out.push_str(&format!(
            "{:<20} {:<11} {}\n",
            s.id(),
            s.difficulty.word(),
            s.title
        ));
    }
    out.push_str("\nhonban drill ID shows the briefing and starts the drill.\n");
    out
}

/// The console of a drill: one simulated environment `drill-<id>` of the
/// scenario's world, its faults scheduled from `clock.now()`. Returns the
/// state, the environment and the simulation (which `App::with_drill`
/// takes).
pub fn build(
    scenario: &Scenario,
    config: &Config,
    clock: &Clock,
) -> Result<(State, Vec<EnvRuntime>, Arc<SimBackend>), SetupError> {
    let world = scenario.world().to_string();
    let name = format!("drill-{}", scenario.id());
    let sim_err = |message: String| SetupError::Sim {
        name: name.clone(),
        message,
    };
    let mut env = crate::setup::world_environments()
        .into_iter()
        .find(|e| e.sim_world.as_deref() == Some(world.as_str()))
        .ok_or_else(|| sim_err(format!("unknown simulated world {world:?}")))?;
    env.name.clone_from(&name);
    let sim = Arc::new(
        SimBackend::new(&world, scenario.seed, clock.clone())
            .map_err(|e| sim_err(e.to_string()))?,
    );
    sim.start_drill(scenario);
    let runtime = EnvRuntime {
        config: env.clone(),
        backend: sim.clone(),
        prober: Arc::new(crate::probe::SimProber::new(sim.clone())),
    };
    let keymap = Keymap::from_config(config).map_err(SetupError::Keys)?;
    let now = clock.now();
    let envs = vec![EnvState::from_config(&env, &config.refresh, false)];
    let mut state = State::new(envs, 0, keymap, now);
    state.logs_buffer_lines = config.logs_buffer_lines.max(1);
    state.recording_logs = config.recording_logs;
    // Recognisable as a drill in the audit log and the recordings.
    state.session = format!(
        "drill-{}-{}-{}",
        scenario.id(),
        now.format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    state.drill = Some(Drill::new(scenario.clone(), 0, now));
    Ok((state, vec![runtime], sim))
}

/// Saves the report as `drills/<id>-<time>.md` in the state directory.
pub fn save(report: &Report, state_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = state_dir.join("drills");
    crate::paths::create_private_dir(&dir)?;
    let path = dir.join(format!(
        "{}-{}.md",
        report.id,
        report.started.format("%Y%m%dT%H%M%S")
    ));
    let mut f = crate::paths::open_private_append(&path)?;
    f.write_all(report.markdown().as_bytes())?;
    f.sync_all()?;
    Ok(path)
}

/// `honban drill [NAME]`.
pub fn run(cli: &Cli, name: Option<&str>, paths: &Paths) -> ExitCode {
    let all = match load_all(Some(&user_dir(paths))) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let Some(name) = name else {
        print!("{}", listing(&all));
        return ExitCode::SUCCESS;
    };
    let Some(scenario) = all.iter().find(|s| s.id() == name) else {
        eprintln!(
            "honban: unknown scenario \"{name}\"; known: {}",
            all.iter().map(Scenario::id).collect::<Vec<_>>().join(", ")
        );
        return ExitCode::from(EX_USAGE);
    };
    let loaded = match load_config(cli.config.as_deref(), Some(&paths.config_file())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let mut config = loaded.config;
    if let Some(theme) = &cli.theme {
        config.theme.clone_from(theme);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match load_theme(&config.theme, Some(&paths.themes_dir()), no_color) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    // The briefing: the page the operator receives.
    println!(
        "DRILL {} ({}) — {}\n",
        scenario.id(),
        scenario.difficulty.word(),
        scenario.title
    );
    println!("{}\n", scenario.briefing.trim_end());
    println!(
        "Time limit {} · a simulated production: nothing real is touched.",
        crate::timeline::format_duration(chrono::TimeDelta::seconds(scenario.time_limit_secs()))
    );
    print!("Press enter to start (q and enter to cancel) ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => {
            println!();
            return ExitCode::SUCCESS;
        }
        Ok(_) if line.trim().eq_ignore_ascii_case("q") => return ExitCode::SUCCESS,
        Ok(_) => {}
    }
    let _log_guard = crate::logging::init(&paths.log_dir()).ok();
    tracing::info!(scenario = scenario.id(), "drill starting");
    let runtime = match crate::setup::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honban: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clock = cli.clock();
    let (state, envs, sim) = match build(scenario, &config, &clock) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("honban: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let audit = Arc::new(AuditLog::new(paths.audit_file()));
    let recordings = crate::recording::dir(&paths.state_dir);
    let cap = config.recordings_max_mb.saturating_mul(1024 * 1024);
    crate::recording::prune(&recordings, config.recordings_keep_days, cap, cap / 4);
    let header = crate::recording::Header::of(&state, chrono::Utc::now());
    let recorder = crate::recording::Recorder::start(&recordings, &header, cap)
        .map(Arc::new)
        .map_err(|e| tracing::warn!(error = %e, "cannot record the drill's timeline"))
        .ok();
    let signals = runtime
        .block_on(async { crate::app::Signals::install() })
        .ok();
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            let _ = ratatui::crossterm::terminal::disable_raw_mode();
            eprintln!("honban: cannot open the terminal ({e}): a drill is interactive");
            runtime.shutdown_background();
            return ExitCode::FAILURE;
        }
    };
    crate::supervise::contain_task_panics();
    let _ = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::EnableBracketedPaste
    );
    let mut app = App::new(state, envs, clock)
        .with_audit(audit.clone())
        .with_drill(sim);
    let recording = recorder.clone();
    if let Some(r) = recorder {
        app = app.with_recorder(r);
    }
    if let Some(s) = signals {
        app = app.with_signals(s);
    }
    let result = runtime.block_on(async {
        let r = app.run_here(&mut terminal, &theme).await;
        let _ = ratatui::crossterm::execute!(
            std::io::stdout(),
            ratatui::crossterm::event::DisableBracketedPaste
        );
        ratatui::restore();
        r
    });
    runtime.shutdown_background();
    // What the drill saw last is written before the report (and `honban
    // replay` of it) reads it.
    if let Some(r) = recording
        && !r.sync(std::time::Duration::from_secs(1))
    {
        tracing::warn!("the drill's recording may miss its last lines");
    }
    let _ = audit.sync();
    super::on_quit(&mut app.state);
    if let Some(report) = Report::of(&app.state) {
        println!("{}", report.markdown());
        match save(&report, &paths.state_dir) {
            Ok(p) => println!("Report saved to {}", p.display()),
            Err(e) => eprintln!("honban: cannot save the report: {e}"),
        }
    }
    match result {
        Ok(Ended::Quit) => ExitCode::SUCCESS,
        Ok(Ended::Signal(n)) => ExitCode::from(u8::try_from(128 + n).unwrap_or(u8::MAX)),
        Err(e) => {
            eprintln!("honban: {e:?}");
            ExitCode::FAILURE
        }
    }
}
