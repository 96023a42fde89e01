//! honban: errors → logging → CLI → config → app.

use std::process::ExitCode;

use clap::Parser;
use honban::app::{App, Ended};
use honban::audit::AuditLog;
use honban::cli::{Cli, CliCommand, ConfigCommand, EX_CONFIG, EX_USAGE, TimelineCommand};
use honban::config::{load_config, theme::load_theme};
use honban::paths::Paths;
use honban::setup::{self, Options};

/// Audit records read at start for the activity view.
const HISTORY_RECORDS: usize = 400;

/// jemalloc instead of glibc's malloc: with one arena and freed pages
/// returned at once (`.cargo/config.toml`), a console refreshing a large
/// environment every 10 s holds ~12 MB less (BENCHMARKS.md, issue 16):
/// glibc keeps an arena per thread and the freed middle of its heaps.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        eprintln!("honban: {e}");
    }
    // A command-line mistake exits 64 (sysexits EX_USAGE); --help 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EX_USAGE } else { 0 });
        }
    };
    if let Some(why) = cli.sim_speed_refused() {
        eprintln!("honban: {why}");
        return ExitCode::from(EX_USAGE);
    }
    let paths = Paths::discover();
    let config_file = paths.config_file();

    if cli.version {
        println!("honban {}", env!("CARGO_PKG_VERSION"));
        println!("config: {}", config_file.display());
        println!("themes: {}", paths.themes_dir().display());
        println!("logs:   {}", paths.log_dir().display());
        println!("state:  {}", paths.state_dir.display());
        println!("audit:  {}", paths.audit_file().display());
        return ExitCode::SUCCESS;
    }

    // Completions and the man page come from the same clap definition.
    match &cli.command {
        Some(CliCommand::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "honban", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(CliCommand::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            return match clap_mangen::Man::new(cmd).render(&mut out) {
                Ok(()) => {
                    use std::io::Write;
                    let _ = std::io::stdout().write_all(&out);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("honban: cannot render the man page: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(CliCommand::Config(ConfigCommand::Schema)) => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(honban::cli::CONFIG_SCHEMA.as_bytes());
            return ExitCode::SUCCESS;
        }
        // `honban config check [FILE]`: 0, or 78 with the positioned message.
        Some(CliCommand::Config(ConfigCommand::Check { file })) => {
            let path = file.as_deref().or(cli.config.as_deref());
            return match load_config(path, Some(&config_file)) {
                Ok(loaded) => match (&loaded.path, loaded.require_environments()) {
                    (None, _) => {
                        eprintln!(
                            "honban: no config file at {} (pass FILE or --config PATH)",
                            config_file.display()
                        );
                        ExitCode::from(EX_CONFIG)
                    }
                    (Some(_), Err(e)) => config_error(&e),
                    (Some(p), Ok(())) => {
                        println!(
                            "{}: ok ({} environments)",
                            p.display(),
                            loaded.config.environments.len()
                        );
                        ExitCode::SUCCESS
                    }
                },
                Err(e) => config_error(&e),
            };
        }
        _ => {}
    }

    // `honban drill [NAME]`: the simulation only, never a configured environment.
    if let Some(CliCommand::Drill { name }) = &cli.command {
        return honban::drill::run::run(&cli, name.as_deref(), &paths);
    }

    // `honban timeline export`: the recordings, no config needed.
    if let Some(CliCommand::Timeline(TimelineCommand::Export(args))) = &cli.command
        && !args.from_cloudwatch
    {
        let dir = honban::recording::dir(&paths.state_dir);
        return match honban::recording::export(&dir, cli.env.as_deref(), args, chrono::Utc::now()) {
            Ok(text) => {
                use std::io::Write;
                // A closed pipe (`| head`) is not an error worth a panic.
                let _ = std::io::stdout().write_all(text.as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("honban: {e}");
                ExitCode::FAILURE
            }
        };
    }

    let loaded = match load_config(cli.config.as_deref(), Some(&config_file)) {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    // `honban replay [SESSION|FILE]`: the config gives keys and theme only.
    if let Some(CliCommand::Replay { target }) = &cli.command {
        return replay(&cli, target.as_deref(), &loaded.config, &paths);
    }
    if let Some(message) = setup::unknown_world(&cli.worlds) {
        eprintln!("honban: {message}");
        return ExitCode::from(EX_USAGE);
    }
    if !cli.demo
        && let Err(e) = loaded.require_environments()
    {
        return config_error(&e);
    }
    let mut config = loaded.config;
    // Without --demo a config file is needed: the compiled-in one only
    // documents the options.
    if !cli.demo && loaded.path.is_none() {
        eprintln!(
            "honban: no config file at {}\n  write one (see config.example.toml), pass --config PATH, or try `honban --demo`",
            config_file.display()
        );
        return ExitCode::from(EX_CONFIG);
    }
    let shown_path = loaded.path.as_ref().map_or_else(
        || config_file.display().to_string(),
        |p| p.display().to_string(),
    );
    // `honban status`: read once, print, exit with the verdict.
    if let Some(CliCommand::Status(args)) = &cli.command {
        return ExitCode::from(honban::status::run(
            &cli,
            args,
            &config,
            &shown_path,
            &paths.log_dir(),
        ));
    }
    // `honban timeline export --from-cloudwatch`: the team's shared trail.
    if let Some(CliCommand::Timeline(TimelineCommand::Export(args))) = &cli.command {
        return ExitCode::from(honban::trail::export(&cli, args, &config, &shown_path));
    }
    if let Some(theme) = &cli.theme {
        config.theme.clone_from(theme);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match load_theme(&config.theme, Some(&paths.themes_dir()), no_color) {
        Ok(t) => t,
        Err(e) => return config_error(&e),
    };
    let options = Options {
        demo: cli.demo,
        worlds: cli.worlds.clone(),
        env: cli.env.clone(),
        read_only: cli.read_only,
        dry_run: cli.dry_run,
        seed: cli.seed,
        ..Options::default()
    };
    let _log_guard = match honban::logging::init(&paths.log_dir()) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!(
                "honban: cannot write logs to {}: {e} (continuing without a log)",
                paths.log_dir().display()
            );
            None
        }
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        demo = cli.demo,
        "starting"
    );

    let runtime = match setup::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honban: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clock = cli.clock();
    let (mut state, runtimes) =
        match runtime.block_on(setup::build(&config, &options, clock.clone(), &shown_path)) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("honban: {e}");
                return ExitCode::from(e.exit_code());
            }
        };

    // Earlier operations, for the activity view. A log that cannot be read
    // is reported there; operations still need it to be writable.
    let audit = std::sync::Arc::new(AuditLog::new(paths.audit_file()));
    match audit.read_recent(HISTORY_RECORDS) {
        Ok((records, skipped)) => {
            if skipped > 0 {
                tracing::warn!(skipped, "unreadable lines in the audit log");
            }
            setup::set_history(&mut state, records);
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the audit log"),
    }

    // From here on SIGTERM, SIGHUP and SIGINT end the console through the
    // same path as quitting: the terminal is restored, the audit log synced
    // and the exit code is 128 + the signal.
    let signals = match runtime.block_on(async { honban::app::Signals::install() }) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot handle signals");
            None
        }
    };
    // Without a terminal (a pipe, cron, ssh without a tty) say so and leave:
    // ratatui::init would panic.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            let _ = ratatui::crossterm::terminal::disable_raw_mode();
            tracing::error!(error = %e, "no terminal");
            eprintln!(
                "honban: cannot open the terminal ({e}): honban is interactive, run it in a terminal (ssh -t for a remote one)"
            );
            runtime.shutdown_background();
            return ExitCode::FAILURE;
        }
    };
    // A panic inside an effect's task is shown in the console; only one
    // that brings the process down restores the terminal (ratatui's hook).
    honban::supervise::contain_task_panics();
    // A paste arrives as one event (inserted into a prompt), not as a flood
    // of keys that could reach a confirmation.
    let _ = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::EnableBracketedPaste
    );
    // This session's recording of the timeline (older ones pruned first).
    let recordings = honban::recording::dir(&paths.state_dir);
    let cap = config.recordings_max_mb.saturating_mul(1024 * 1024);
    let pruned = honban::recording::prune(&recordings, config.recordings_keep_days, cap, cap / 4);
    if pruned > 0 {
        tracing::info!(pruned, "old recordings removed");
    }
    let header = honban::recording::Header::of(&state, chrono::Utc::now());
    let recorder = match honban::recording::Recorder::start(&recordings, &header, cap) {
        Ok(r) => Some(std::sync::Arc::new(r)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot record this session's timeline");
            None
        }
    };
    let recording = recorder.clone();
    let result = runtime.block_on(async {
        let mut app = App::new(state, runtimes, clock).with_audit(audit.clone());
        if let Some(r) = recorder {
            app = app.with_recorder(r);
        }
        if let Some(signals) = signals {
            app = app.with_signals(signals);
        }
        let r = app.run(&mut terminal, &theme).await;
        let _ = ratatui::crossterm::execute!(
            std::io::stdout(),
            ratatui::crossterm::event::DisableBracketedPaste
        );
        ratatui::restore();
        r
    });
    // Do not wait for requests still in flight.
    runtime.shutdown_background();
    // What the console saw last is written before the process ends.
    if let Some(r) = recording
        && !r.sync(std::time::Duration::from_secs(1))
    {
        tracing::warn!("the recording's last lines may not have been written");
    }
    if let Err(e) = audit.sync() {
        tracing::warn!(error = %e, "cannot sync the audit log");
    }
    match result {
        Ok(Ended::Quit) => {
            tracing::info!("bye");
            ExitCode::SUCCESS
        }
        Ok(Ended::Signal(n)) => ExitCode::from(u8::try_from(128 + n).unwrap_or(u8::MAX)),
        Err(e) => {
            tracing::error!(error = %e, "console failed");
            eprintln!("honban: {e:?}");
            ExitCode::FAILURE
        }
    }
}

/// A configuration mistake exits 78 (sysexits EX_CONFIG).
fn config_error(e: &honban::config::ConfigError) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(EX_CONFIG)
}

/// `honban replay`: the list of recordings, or one played back.
fn replay(
    cli: &Cli,
    target: Option<&str>,
    config: &honban::config::Config,
    paths: &Paths,
) -> ExitCode {
    use std::io::Write;
    let dir = honban::recording::dir(&paths.state_dir);
    let Some(target) = target else {
        return match honban::replay::list(&dir) {
            Ok(listed) => {
                let _ = std::io::stdout()
                    .write_all(honban::replay::list_text(&listed, &dir).as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("honban: cannot read {}: {e}", dir.display());
                ExitCode::from(honban::cli::EX_NOINPUT)
            }
        };
    };
    let path = match honban::replay::resolve(&dir, target) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("honban: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let recording = match honban::replay::Recording::open(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honban: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let damage = recording.damage_text();
    if let Some(d) = &damage {
        eprintln!("honban: {d}");
    }
    let mut config = config.clone();
    if let Some(theme) = &cli.theme {
        config.theme.clone_from(theme);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match load_theme(&config.theme, Some(&paths.themes_dir()), no_color) {
        Ok(t) => t,
        Err(e) => return config_error(&e),
    };
    let keymap = match honban::config::keys::Keymap::from_config(&config) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("honban: keys: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let _log_guard = honban::logging::init(&paths.log_dir()).ok();
    tracing::info!(path = %path.display(), steps = recording.steps.len(), "replay");
    let mut player = honban::replay::Player::new(recording, keymap);
    if let Some(name) = &cli.env {
        if let Some(i) = player.state.envs.iter().position(|e| &e.name == name) {
            player.state.active = i;
        } else {
            let known: Vec<&str> = player.state.envs.iter().map(|e| e.name.as_str()).collect();
            eprintln!(
                "honban: the recording has no environment \"{name}\"; it has: {}",
                known.join(", ")
            );
            return ExitCode::from(EX_USAGE);
        }
    }
    let runtime = match setup::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honban: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let signals = runtime
        .block_on(async { honban::app::Signals::install() })
        .ok();
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            let _ = ratatui::crossterm::terminal::disable_raw_mode();
            eprintln!(
                "honban: cannot open the terminal ({e}): honban replay is interactive, run it in a terminal"
            );
            runtime.shutdown_background();
            return ExitCode::FAILURE;
        }
    };
    let _ = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::EnableBracketedPaste
    );
    let result = runtime.block_on(honban::replay::run(player, &mut terminal, &theme, signals));
    let _ = ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::event::DisableBracketedPaste
    );
    ratatui::restore();
    runtime.shutdown_background();
    if let Some(d) = damage {
        eprintln!("honban: {d}");
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
