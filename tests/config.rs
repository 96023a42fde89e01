//! The config file: the compiled-in example, layering, and one fixture per
//! kind of mistake in `tests/invalid_configs/`, each checked for its message
//! (file, line:column, what was expected).

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use honban::config::keys::{Command, KeyBinding, KeyContext, Keymap};
use honban::config::load::{
    BUILTIN_CONFIG_NAME, ConfigError, load_config, parse_config, validate_environment_name,
};
use honban::config::theme::{Theme, load_theme, theme_names};
use honban::config::{Config, DEFAULT_CONFIG, HealthCheckConfig, RefreshIntervals, Source};
use honban::state::ViewKind;
use ratatui::style::{Color, Modifier};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/invalid_configs")
        .join(name)
}

/// Loads a broken fixture through `--config` and returns its error and the
/// file name as it appears in the message.
fn fixture_error(name: &str) -> (String, ConfigError) {
    let path = fixture(name);
    let Err(err) = load_config(Some(&path), None) else {
        panic!("{name} should not load");
    };
    (path.display().to_string(), err)
}

/// Asserts the first line of the report, and that the report shows the
/// offending source line with a caret.
fn assert_reported(name: &str, position: &str, message: &str) {
    let (file, err) = fixture_error(name);
    let report = err.to_string();
    let expected = format!("error: {file}:{position}: {message}");
    assert_eq!(
        report.lines().next(),
        Some(expected.as_str()),
        "{name}:\n{report}"
    );
    assert_eq!(err.file(), Some(file.as_str()));
    let (line, column) = position.split_once(':').expect("line:col");
    assert_eq!(err.line().map(|l| l.to_string()).as_deref(), Some(line));
    assert_eq!(err.column().map(|c| c.to_string()).as_deref(), Some(column));
    let mut lines = report.lines().skip(1);
    let source_line = lines.next().expect("source line");
    assert!(
        source_line.trim_start().starts_with(&format!("{line} | ")),
        "{report}"
    );
    let caret_line = lines.next().expect("caret line");
    assert!(caret_line.trim_end().ends_with('^'), "{report}");
    // The caret sits under the column.
    let bar = caret_line.find('|').expect("gutter");
    let caret = caret_line.find('^').expect("caret");
    let column: usize = column.parse().expect("column");
    assert_eq!(caret - bar - 2, column - 1, "{report}");
}

// ------------------------------------------------------------ the example

#[test]
fn the_example_config_parses() {
    let config = parse_config(DEFAULT_CONFIG, BUILTIN_CONFIG_NAME).expect("example parses");
    assert_eq!(config.theme, "default");
    assert_eq!(config.default_environment, None);
    assert!(!config.read_only);
    assert_eq!(
        config.refresh,
        RefreshIntervals {
            services_secs: 5,
            tasks_secs: 10,
            databases_secs: 30,
            alarms_secs: 15,
            metrics_secs: 60,
        }
    );
    assert_eq!(
        config.keys.commands.len(),
        Command::ALL.len(),
        "every command is listed"
    );

    let names: Vec<&str> = config
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["production", "staging"]);
    let prod = &config.environments[0];
    assert_eq!(prod.source, Source::Aws);
    assert_eq!(prod.profile.as_deref(), Some("prod"));
    assert_eq!(prod.region.as_deref(), Some("ap-northeast-1"));
    assert_eq!(prod.role_arn, None);
    assert_eq!(prod.endpoint_url, None);
    assert_eq!(prod.clusters.len(), 1);
    assert_eq!(prod.clusters[0].name, "works-logue-prod");
    assert!(prod.clusters[0].services.is_empty());
    assert_eq!(prod.alarm_prefixes, ["works-logue-prod-"]);
    assert!(prod.protected);
    assert!(!prod.read_only);
    // [environment.refresh] sets two intervals; the others come from [refresh].
    assert_eq!(
        prod.intervals(&config.refresh),
        RefreshIntervals {
            services_secs: 5,
            tasks_secs: 10,
            databases_secs: 30,
            alarms_secs: 10,
            metrics_secs: 60,
        }
    );
    // --- probes
    assert_eq!(
        prod.health_checks,
        [
            HealthCheckConfig {
                name: Some("app".into()),
                service: Some("works-logue-web".into()),
                ..HealthCheckConfig::new("https://works-logue.com/api/health")
            },
            HealthCheckConfig {
                name: Some("ready".into()),
                interval_secs: 30,
                ..HealthCheckConfig::new("https://works-logue.com/api/health/ready")
            },
        ]
    );
    assert_eq!(prod.health_checks[0].interval_secs, 15);
    assert_eq!(prod.health_checks[0].timeout_secs, 5);
    assert_eq!(prod.health_checks[0].expect_status, None);
    // The bell: on by default in the protected environment only.
    assert_eq!(prod.bell_on_alarm, None);
    assert!(prod.bell_on_alarm());
    let stg = &config.environments[1];
    assert!(!stg.bell_on_alarm());
    assert!(stg.health_checks.is_empty());
    assert_eq!(stg.profile.as_deref(), Some("stg"));
    assert!(!stg.protected);
    assert_eq!(stg.intervals(&config.refresh), config.refresh);
}

#[test]
fn serde_defaults_equal_the_example() {
    let example = parse_config(DEFAULT_CONFIG, BUILTIN_CONFIG_NAME).expect("example");
    let empty = parse_config("", "empty.toml").expect("empty");
    assert_eq!(example.theme, empty.theme);
    assert_eq!(example.refresh, empty.refresh);
    assert_eq!(example.read_only, empty.read_only);
    assert_eq!(example.default_environment, empty.default_environment);
    assert_eq!(
        Keymap::from_config(&example),
        Keymap::from_config(&empty),
        "the [keys] of the example are the defaults"
    );
    assert_eq!(Keymap::from_config(&empty), Ok(Keymap::defaults()));
    // And the example's keys are exactly Command::default_keys.
    for cmd in Command::ALL {
        let listed: Vec<&str> = example.keys.commands[cmd.name()]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(listed, cmd.default_keys(), "{cmd}");
    }
    assert!(empty.environments.is_empty());
}

#[test]
fn a_user_file_gets_every_default_it_leaves_out() {
    let config = parse_config("theme = \"light\"\n", "user.toml").expect("user");
    let empty = parse_config("", "empty.toml").expect("empty");
    assert_eq!(
        config,
        Config {
            theme: "light".to_string(),
            ..empty
        }
    );
}

#[test]
fn environment_refresh_inherits_the_top_level_refresh() {
    let config = parse_config(
        "[refresh]\nservices_secs = 7\ntasks_secs = 8\n\n\
         [[environment]]\nname = \"a\"\nregion = \"r\"\n[environment.refresh]\ntasks_secs = 2\n\n\
         [[environment]]\nname = \"b\"\nregion = \"r\"\n",
        "user.toml",
    )
    .expect("parses");
    let a = config.environments[0].intervals(&config.refresh);
    assert_eq!(
        (
            a.services_secs,
            a.tasks_secs,
            a.databases_secs,
            a.alarms_secs
        ),
        (7, 2, 30, 15)
    );
    let b = config.environments[1].intervals(&config.refresh);
    assert_eq!(b, config.refresh);
}

#[test]
fn keys_may_be_a_single_string() {
    let config = parse_config("[keys]\nrefresh = \"L\"\nquit = []\n", "user.toml").expect("parses");
    let map = Keymap::from_config(&config).expect("keymap");
    let ctx = KeyContext::live(ViewKind::Overview);
    assert_eq!(
        map.keys_for(Command::Refresh, ctx),
        [KeyBinding::parse("L").expect("L")]
    );
    let r = KeyEvent::new(KeyCode::Char('L'), KeyModifiers::NONE);
    assert_eq!(map.command_for(&r, ctx), Some(Command::Refresh));
    // `quit = []` still leaves ctrl-c.
    assert_eq!(map.help_rows()[0], ("ctrl-c".to_string(), "Quit"));
    let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(map.command_for(&q, ctx), None);
}

/// `[keys.view.VIEW]` binds a command in one view, on top of its global keys;
/// the flat `[keys]` entries keep working (the logs view's and the
/// replay's keys are bound where they act).
#[test]
fn keys_of_a_view() {
    let config = parse_config(
        "[keys]\nrestart = [\"r\", \"P\"]\nlogs_wrap = \"W\"\n\n\
         [keys.view.services]\nexec = \"e\"\n\n\
         [keys.view.tasks]\ncopy = [\"e\", \"y\"]\n\n\
         [keys.view.logs]\nlogs_follow = \"L\"\nfleet = \"f\"\n\n\
         [keys.replay]\nreplay_pause = \"space\"\n",
        "user.toml",
    )
    .expect("parses");
    let map = Keymap::from_config(&config).expect("keymap");
    let ev = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let services = KeyContext::live(ViewKind::Services);
    let tasks = KeyContext::live(ViewKind::Tasks);
    let logs = KeyContext::live(ViewKind::Logs);
    let replay = KeyContext {
        view: ViewKind::Services,
        replay: true,
    };
    assert_eq!(map.command_for(&ev('e'), services), Some(Command::Exec));
    assert_eq!(map.command_for(&ev('e'), tasks), Some(Command::Copy));
    assert_eq!(map.command_for(&ev('e'), logs), Some(Command::LogsErrors));
    assert_eq!(map.command_for(&ev('f'), logs), Some(Command::Fleet));
    assert_eq!(map.command_for(&ev('L'), logs), Some(Command::LogsFollow));
    assert_eq!(map.command_for(&ev('W'), logs), Some(Command::LogsWrap));
    // Outside the logs view its keys do nothing.
    assert_eq!(map.command_for(&ev('L'), services), None);
    // P restarts in the console; a replay pauses on space.
    assert_eq!(map.command_for(&ev('P'), services), Some(Command::Restart));
    assert_eq!(
        map.command_for(&ev(' '), replay),
        Some(Command::ReplayPause)
    );
    // (P is then the restart there too, which a replay refuses.)
    assert_eq!(map.command_for(&ev('P'), replay), Some(Command::Restart));
}

#[test]
fn a_conflict_inside_a_view_names_both_commands_and_the_place() {
    assert_reported(
        "key_conflict_in_view.toml",
        "3:14",
        "in the services view, key \"s\" is bound to both scale (by default) and exec in [keys.view.services]; give one of them other keys in [keys] or [keys.view.services]",
    );
}

#[test]
fn a_conflict_with_a_replay_key() {
    assert_reported(
        "key_conflict_with_replay.toml",
        "3:18",
        "in a replay, key \"P\" is bound to both timeline and replay_pause (by default); give one of them other keys in [keys] or [keys.replay]",
    );
}

#[test]
fn an_unknown_view_in_keys() {
    assert_reported(
        "unknown_key_view.toml",
        "5:12",
        "unknown table [keys.view.servcies]; the tables of [keys] are [keys.replay] and [keys.view.VIEW] for one of the views: overview, services, service_detail, tasks, task_detail, databases, hosts, alarms, alarm_detail, activity, timeline, cloudfront, redis, redis_group, fleet, diagnostics, logs",
    );
}

#[test]
fn a_key_in_a_view_where_its_command_does_nothing() {
    assert_reported(
        "key_in_wrong_view.toml",
        "3:1",
        "logs_follow acts in the logs view only, so [keys.view.services] cannot bind it; bind it in [keys] or [keys.view.logs]",
    );
}

#[test]
fn a_sim_environment_needs_no_region() {
    let config = parse_config(
        "[[environment]]\nname = \"drill\"\nsource = \"sim\"\nsim_world = \"production\"\nprotected = true\n",
        "user.toml",
    )
    .expect("parses");
    assert_eq!(config.environments[0].source, Source::Sim);
    assert_eq!(
        config.environments[0].sim_world.as_deref(),
        Some("production")
    );
}

// ------------------------------------------------------------ loading

#[test]
fn config_path_must_exist() {
    let path = Path::new("/nonexistent/honban/config.toml");
    let err = load_config(Some(path), None).expect_err("missing --config");
    assert_eq!(
        err.to_string(),
        "error: /nonexistent/honban/config.toml: cannot read the config file: no such file"
    );
}

#[test]
fn without_a_user_file_the_built_in_config_is_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let default_path = dir.path().join("config.toml");
    let loaded = load_config(None, Some(&default_path)).expect("built-in");
    assert_eq!(loaded.path, None);
    assert_eq!(
        loaded.config,
        parse_config(DEFAULT_CONFIG, BUILTIN_CONFIG_NAME).expect("example")
    );
    assert_eq!(loaded.theme_dir, Some(dir.path().join("themes")));

    let loaded = load_config(None, None).expect("built-in");
    assert_eq!(loaded.path, None);
    assert_eq!(loaded.theme_dir, None);
}

#[test]
fn the_default_path_is_read_when_it_exists_and_config_wins_over_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let default_path = dir.path().join("config.toml");
    std::fs::write(&default_path, "theme = \"light\"\n").expect("write");
    let loaded = load_config(None, Some(&default_path)).expect("default path");
    assert_eq!(loaded.path.as_deref(), Some(default_path.as_path()));
    assert_eq!(loaded.config.theme, "light");
    assert!(
        loaded.config.environments.is_empty(),
        "no example environments"
    );

    let other = dir.path().join("other.toml");
    std::fs::write(&other, "theme = \"high-contrast\"\n").expect("write");
    let loaded = load_config(Some(&other), Some(&default_path)).expect("--config");
    assert_eq!(loaded.path.as_deref(), Some(other.as_path()));
    assert_eq!(loaded.config.theme, "high-contrast");
}

#[test]
fn env_on_the_command_line_must_be_configured() {
    let config = parse_config(DEFAULT_CONFIG, BUILTIN_CONFIG_NAME).expect("example");
    assert!(validate_environment_name(&config, "staging").is_ok());
    let err = validate_environment_name(&config, "x").expect_err("x");
    assert_eq!(
        err.to_string(),
        "error: unknown environment \"x\"; configured: production, staging"
    );
    assert_eq!(err.line(), None);

    let empty = parse_config("", "empty.toml").expect("empty");
    let err = validate_environment_name(&empty, "x").expect_err("x");
    assert_eq!(
        err.to_string(),
        "error: unknown environment \"x\"; no environments are configured"
    );
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        String::new(),
        "\0\0\0".to_string(),
        "[[[".to_string(),
        "a = [1, 2".to_string(),
        "=".to_string(),
        "\u{feff}theme = 1".to_string(),
        "[keys]\n\"\" = [\"\"]\n".to_string(),
        "[keys]\nquit = [\"\u{1}\"]\n".to_string(),
        "[keys]\nquit = [\"ctrl-\u{e9}\"]\n".to_string(),
        "[[environment]]\n[[environment]]\n".to_string(),
        "environment = 3\n".to_string(),
        "environment = [1, \"x\"]\n".to_string(),
        "refresh = []\n".to_string(),
        "[refresh]\nservices_secs = 99999999999999999999999\n".to_string(),
        "theme = \"../../etc/passwd\"\n".to_string(),
        "theme = \"日本語\"\ndefault_environment = \"本番\"\n".to_string(),
        format!("theme = \"{}", "x".repeat(10_000)),
        format!("a = {}", "[".repeat(10_000)),
        "x\r\ny = \"\r\n".to_string(),
        String::from_utf8_lossy(&[0xff, 0xfe, b'=', 0x80, b'\n', b'[']).into_owned(),
    ];
    for input in inputs {
        // Errors are fine; panics are not. Every error renders.
        if let Err(e) = parse_config(&input, "garbage.toml") {
            assert!(e.to_string().starts_with("error: garbage.toml"), "{e}");
        }
    }
    // Every prefix of the example, cut anywhere (including inside a
    // character), parses or fails cleanly.
    for end in (0..DEFAULT_CONFIG.len()).step_by(7) {
        let cut = String::from_utf8_lossy(&DEFAULT_CONFIG.as_bytes()[..end]);
        if let Err(e) = parse_config(&cut, "cut.toml") {
            assert!(e.to_string().starts_with("error: cut.toml"), "{e}");
        }
    }
}

// ------------------------------------------------------------ mistakes

#[test]
fn bad_toml_syntax() {
    assert_reported(
        "syntax_error.toml",
        "2:17",
        "TOML syntax error: invalid basic string, expected `\"`",
    );
}

#[test]
fn duplicate_key() {
    assert_reported(
        "duplicate_key.toml",
        "3:1",
        "duplicate key \"theme\": a key may be set only once per table",
    );
}

#[test]
fn unknown_key() {
    assert_reported(
        "unknown_key.toml",
        "5:1",
        "unknown key \"servcies_secs\" in [refresh]; allowed keys: services_secs, tasks_secs, databases_secs, alarms_secs, metrics_secs",
    );
}

#[test]
fn unknown_key_in_an_array_of_tables() {
    assert_reported(
        "unknown_cluster_key.toml",
        "7:1",
        "unknown key \"service\" in [[environment.clusters]]; allowed keys: name, services",
    );
}

#[test]
fn unknown_top_level_key() {
    let err = parse_config("theme = \"light\"\nthem = \"dark\"\n", "c.toml").expect_err("typo");
    assert_eq!(
        err.headline(),
        "c.toml:2:1: unknown key \"them\" at the top level; allowed keys: theme, default_environment, read_only, refresh, keys, environment, logs_buffer_lines, recordings_keep_days, recordings_max_mb, recording_logs, timezone"
    );
}

#[test]
fn wrong_type() {
    assert_reported(
        "wrong_type.toml",
        "7:17",
        "invalid type: found string \"five\", expected an integer (refresh.services_secs)",
    );
}

#[test]
fn wrong_types_elsewhere() {
    let cases = [
        (
            "read_only = \"yes\"\n",
            "c.toml:1:13: invalid type: found string \"yes\", expected a boolean (read_only)",
        ),
        (
            "refresh = 5\n",
            "c.toml:1:11: invalid type: found integer `5`, expected a table (refresh)",
        ),
        (
            "[keys]\nquit = [\"q\", 3]\n",
            "c.toml:2:14: invalid type: found integer `3`, expected a string (keys.quit)",
        ),
        (
            "[keys]\nquit = 3\n",
            "c.toml:2:8: invalid type: found integer `3`, expected a key name or a list of key names (keys.quit)",
        ),
    ];
    for (source, expected) in cases {
        let err = parse_config(source, "c.toml").expect_err(source);
        assert_eq!(err.headline(), expected);
    }
}

#[test]
fn negative_interval() {
    assert_reported(
        "negative_refresh.toml",
        "2:14",
        "invalid value: found integer `-10`, expected a non-negative integer (refresh.tasks_secs)",
    );
}

#[test]
fn unknown_source() {
    assert_reported(
        "unknown_source.toml",
        "3:10",
        "unknown value \"gcp\", expected \"aws\" or \"sim\" (environment.source)",
    );
}

#[test]
fn unknown_default_environment() {
    assert_reported(
        "unknown_environment.toml",
        "1:23",
        "unknown environment \"prod\" in default_environment; configured: production, staging",
    );
}

#[test]
fn bad_key_names() {
    let hint = "keys look like \"q\", \"G\", \"?\", \"ctrl-r\", \"alt-x\", \"shift-up\", \"enter\", \"esc\", \"tab\", \"space\", \"pageup\", \"home\", \"f5\"";
    assert_reported(
        "bad_key_ctrl_plus.toml",
        "2:14",
        &format!(
            "invalid key \"ctrl+\" for quit: unknown key name \"ctrl+\" (join modifiers with \"-\", e.g. \"ctrl-r\"); {hint}"
        ),
    );
    assert_reported(
        "bad_key_hyper.toml",
        "2:11",
        &format!(
            "invalid key \"hyper-x\" for refresh: unknown modifier \"hyper\" (use ctrl-, alt- or shift-); {hint}"
        ),
    );
    assert_reported(
        "bad_key_f99.toml",
        "2:14",
        &format!(
            "invalid key \"f99\" for help: there is no function key \"f99\" (f1 to f12); {hint}"
        ),
    );
}

#[test]
fn unknown_command() {
    assert_reported(
        "unknown_command.toml",
        "3:1",
        "unknown command \"reload\" in [keys]; commands: quit, back, up, down, top, bottom, page_up, page_down, select, filter, command, help, refresh, next_environment, overview, services, tasks, databases, hosts, alarms, fleet, activity, timeline, cloudfront, redis, note, scale, scaling_bounds, deploy_image, rollback, restart, snapshot, reboot, restore, promote, mute_alarm, stop_task, invalidate, stop_host, start_host, continue_deployment, exec, copy, sort, metric_range, logs, logs_pause, logs_follow, logs_errors, logs_jump, logs_wrap, replay_pause, replay_faster, replay_slower, replay_seek, replay_next_event, replay_previous_event, replay_next_mark, replay_previous_mark",
    );
}

#[test]
fn key_bound_twice() {
    assert_reported(
        "key_conflict.toml",
        "3:18",
        "key \"g\" is bound to both top (by default) and overview; give one of them other keys in [keys]",
    );
}

#[test]
fn ctrl_c_cannot_be_rebound() {
    assert_reported(
        "ctrl_c_rebound.toml",
        "2:22",
        "\"ctrl-c\" always quits and cannot be bound to refresh",
    );
}

#[test]
fn unknown_theme() {
    assert_reported(
        "unknown_theme.toml",
        "2:9",
        "unknown theme \"solarized\"; available: default, light, high-contrast",
    );
}

#[test]
fn duplicate_environment_names() {
    assert_reported(
        "duplicate_environment.toml",
        "10:8",
        "duplicate environment name \"production\" (first defined on line 2); environment names must be unique",
    );
}

#[test]
fn missing_environment_name() {
    assert_reported(
        "missing_environment_name.toml",
        "5:1",
        "missing required key \"name\" in [[environment]]",
    );
}

#[test]
fn aws_environment_without_region() {
    assert_reported(
        "aws_without_region.toml",
        "3:10",
        "environment \"production\" has source = \"aws\" but no region; add e.g. region = \"ap-northeast-1\"",
    );
    // Without `source` (aws is the default) the environment's header is shown.
    let err = parse_config("\n[[environment]]\nname = \"p\"\n", "c.toml").expect_err("region");
    assert_eq!(
        err.headline(),
        "c.toml:2:1: environment \"p\" has source = \"aws\" but no region; add e.g. region = \"ap-northeast-1\""
    );
}

#[test]
fn a_logs_buffer_out_of_range() {
    for (value, col) in [("0", 21), ("50", 21), ("5000000", 21)] {
        let err = parse_config(&format!("logs_buffer_lines = {value}\n"), "c.toml")
            .expect_err("out of range");
        assert_eq!(
            err.headline(),
            format!(
                "c.toml:1:{col}: logs_buffer_lines must be between 100 and 1000000, found {value}"
            )
        );
    }
    let ok = parse_config("logs_buffer_lines = 100\n", "c.toml").expect("the smallest");
    assert_eq!(ok.logs_buffer_lines, 100);
}

#[test]
fn zero_refresh_interval() {
    assert_reported(
        "zero_refresh.toml",
        "3:15",
        "a refresh interval must be at least 1 second, found 0 (refresh.alarms_secs)",
    );
    assert_reported(
        "zero_environment_refresh.toml",
        "6:18",
        "a refresh interval must be at least 1 second, found 0 (environment.refresh.databases_secs)",
    );
}

#[test]
fn every_fixture_is_tested_and_fails() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    let this_file = include_str!("config.rs");
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(
            this_file.contains(&format!("\"{name}\"")),
            "{name} has no test"
        );
        let err = load_config(Some(&path), None).expect_err(name);
        assert!(err.line().is_some(), "{name}: {err}");
    }
}

// ------------------------------------------------------------ themes

#[test]
fn built_in_themes_load() {
    assert_eq!(theme_names(None), ["default", "light", "high-contrast"]);
    for name in theme_names(None) {
        let theme = load_theme(&name, None, false).expect(&name);
        assert_eq!(theme.name, name);
        assert!(
            theme
                .production
                .add_modifier
                .contains(Modifier::REVERSED | Modifier::BOLD)
        );
    }
    assert_eq!(
        load_theme("default", None, false).ok(),
        Some(Theme::default())
    );
}

#[test]
fn no_color_drops_colours_but_keeps_the_markers() {
    let theme = load_theme("default", None, true).expect("default");
    assert_eq!(theme.production.fg, None);
    assert_eq!(theme.production.bg, None);
    assert!(
        theme
            .production
            .add_modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
    assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
}

#[test]
fn user_themes_add_and_override() {
    let dir = tempfile::tempdir().expect("tempdir");
    let themes = dir.path().join("themes");
    std::fs::create_dir(&themes).expect("mkdir");
    std::fs::write(
        themes.join("mine.toml"),
        "extends = \"light\"\nok = { fg = \"#00ff00\" }\n",
    )
    .expect("write");
    std::fs::write(themes.join("light.toml"), "ok = { fg = \"lightgreen\" }\n").expect("write");
    std::fs::write(themes.join("broken.toml"), "[ok]\nfg = \"greenish\"\n").expect("write");
    std::fs::write(themes.join("notes.txt"), "not a theme").expect("write");

    assert_eq!(
        theme_names(Some(&themes)),
        ["default", "light", "high-contrast", "broken", "mine"]
    );
    let mine = load_theme("mine", Some(&themes), false).expect("mine");
    assert_eq!(mine.ok.fg, Some(Color::Rgb(0, 255, 0)));
    assert_eq!(
        mine.critical,
        Theme::builtin("light").expect("light").critical
    );
    let light = load_theme("light", Some(&themes), false).expect("light");
    assert_eq!(light.ok.fg, Some(Color::LightGreen));

    let err = load_theme("broken", Some(&themes), false).expect_err("broken");
    let file = themes.join("broken.toml").display().to_string();
    assert!(
        err.headline().starts_with(&format!(
            "{file}:2:6: unknown colour \"greenish\", expected one of black, red,"
        )),
        "{err}"
    );
    assert!(err.message().ends_with("(ok.fg)"), "{err}");

    let err = load_theme("nope", Some(&themes), false).expect_err("nope");
    assert_eq!(
        err.to_string(),
        "error: unknown theme \"nope\"; available: default, light, high-contrast, broken, mine"
    );

    // A config next to the themes directory may name a user theme.
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, "theme = \"mine\"\n").expect("write");
    let loaded = load_config(None, Some(&config_path)).expect("user theme");
    assert_eq!(
        loaded.theme(false).expect("theme").ok.fg,
        Some(Color::Rgb(0, 255, 0))
    );
    std::fs::write(&config_path, "theme = \"yours\"\n").expect("write");
    let err = load_config(None, Some(&config_path)).expect_err("unknown");
    assert_eq!(
        err.headline(),
        format!(
            "{}:1:9: unknown theme \"yours\"; available: default, light, high-contrast, broken, mine",
            config_path.display()
        )
    );
}

// --------------------------------------------------------------- probes

#[test]
fn health_check_urls_must_be_http_or_https() {
    assert_reported(
        "health_check_bad_scheme.toml",
        "7:7",
        "environment \"production\", health check 1: \"ftp://works-logue.com/api/health\": the scheme must be http or https, found \"ftp\" (health_checks.url)",
    );
    assert_reported(
        "health_check_no_scheme.toml",
        "6:7",
        "environment \"production\", health check 1: \"works-logue.com/api/health\" has no scheme; write e.g. \"https://works-logue.com/api/health\" (health_checks.url)",
    );
    assert_reported(
        "health_check_missing_url.toml",
        "5:1",
        "missing required key \"url\" in [[environment.health_checks]]",
    );
}

#[test]
fn health_check_intervals_and_timeouts_are_at_least_a_second() {
    assert_reported(
        "health_check_zero_interval.toml",
        "10:17",
        "environment \"staging\", health check 2: must be at least 1 second, found 0 (health_checks.interval_secs)",
    );
    assert_reported(
        "health_check_zero_timeout.toml",
        "7:16",
        "environment \"production\", health check 1: must be at least 1 second, found 0 (health_checks.timeout_secs)",
    );
}

#[test]
fn health_check_expected_status_is_an_http_status() {
    assert_reported(
        "health_check_bad_status.toml",
        "8:17",
        "environment \"production\", health check 1: an HTTP status is 100 to 599, found 2000 (health_checks.expect_status)",
    );
}

#[test]
fn a_health_check_names_a_service_the_environment_shows() {
    assert_reported(
        "health_check_unknown_service.toml",
        "11:11",
        "environment \"production\", health check 1: \"works-logue-wbe\" is not a service this environment shows; its clusters list works-logue-web, works-logue-api (health_checks.service)",
    );
    // A cluster without a service list may have any service.
    let config = parse_config(
        "[[environment]]\nname = \"p\"\nregion = \"r\"\n[[environment.clusters]]\nname = \"c\"\n\
         [[environment.health_checks]]\nurl = \"https://x/health\"\nservice = \"web\"\n",
        "c.toml",
    )
    .expect("parses");
    assert_eq!(
        config.environments[0].health_checks[0].service.as_deref(),
        Some("web")
    );
    let err = parse_config(
        "[[environment]]\nname = \"p\"\nregion = \"r\"\n\
         [[environment.health_checks]]\nurl = \"https://x/health\"\nservice = \" \"\n",
        "c.toml",
    )
    .expect_err("blank service");
    assert_eq!(
        err.headline(),
        "c.toml:6:11: environment \"p\", health check 1: the service name is empty (health_checks.service)"
    );
}

// ------------------------------------------------------------------ bell

#[test]
fn bell_on_alarm_is_a_boolean_defaulting_to_protected() {
    assert_reported(
        "bell_on_alarm_wrong_type.toml",
        "6:17",
        "invalid type: found string \"loud\", expected a boolean (environment.bell_on_alarm)",
    );
    let config = parse_config(
        "[[environment]]\nname = \"a\"\nregion = \"r\"\nprotected = true\nbell_on_alarm = false\n\
         [[environment]]\nname = \"b\"\nregion = \"r\"\nbell_on_alarm = true\n\
         [[environment]]\nname = \"c\"\nregion = \"r\"\n",
        "c.toml",
    )
    .expect("parses");
    let bells: Vec<bool> = config
        .environments
        .iter()
        .map(honban::config::EnvironmentConfig::bell_on_alarm)
        .collect();
    assert_eq!(bells, [false, true, false]);
}

// ------------------------------------------------------------ connections

#[test]
fn endpoint_urls_regions_and_role_arns_are_checked_where_they_are_written() {
    let env = |line: &str| {
        format!("[[environment]]\nname = \"prod\"\nregion = \"ap-northeast-1\"\n{line}\n")
    };
    for (line, message) in [
        ("endpoint_url = \"\"", "the endpoint URL is empty"),
        ("endpoint_url = \"not a url\"", "is not a URL"),
        (
            "endpoint_url = \"file:///etc/passwd\"",
            "the scheme must be http or https",
        ),
        ("endpoint_url = \"http://[\"", "is not a URL"),
        ("endpoint_url = \"http://\"", "is not a URL"),
        (
            "endpoint_url = \"https://user:pw@example.com\"",
            "user name or password",
        ),
        (
            "endpoint_url = \"http://127.0.0.1:99999\"",
            "the port must be 1 to 65535",
        ),
        (
            "endpoint_url = \"http://moto.internal:5000\"",
            "plain http to another machine",
        ),
        ("role_arn = \"admin\"", "is not an IAM role ARN"),
        (
            "role_arn = \"arn:aws:iam::12345:role/x\"",
            "is not an IAM role ARN",
        ),
        (
            "role_arn = \"arn:aws:s3:::bucket\"",
            "is not an IAM role ARN",
        ),
        ("profile = \"\"", "is not a profile name"),
    ] {
        let source = env(line);
        let err = parse_config(&source, "c.toml").expect_err(line);
        assert_eq!(err.line(), Some(4), "{line}: {err}");
        assert_eq!(
            err.column(),
            Some(line.find('"').expect("a value") + 1),
            "{err}"
        );
        assert!(err.message().contains(message), "{line}: {err}");
        assert!(err.message().starts_with("environment \"prod\": "), "{err}");
    }
    for region in [
        "../../",
        "",
        "AP-NORTHEAST-1",
        "ap_northeast_1",
        "us-east-1-",
        "a b",
    ] {
        let source =
            format!("[[environment]]\nname = \"prod\"\nsource = \"sim\"\nregion = {region:?}\n");
        let err = parse_config(&source, "c.toml").expect_err(region);
        assert_eq!((err.line(), err.column()), (Some(4), Some(10)), "{err}");
        assert!(err.message().contains("region"), "{err}");
    }
    // What is accepted: https anywhere, http to this machine, http elsewhere
    // when allowed, role ARNs of every partition, with a path.
    for line in [
        "endpoint_url = \"https://ecs.example.com\"",
        "endpoint_url = \"http://127.0.0.1:5000\"",
        "endpoint_url = \"http://localhost:4566/\"",
        "endpoint_url = \"http://[::1]:5000\"",
        "endpoint_url = \"http://moto.internal:5000\"\nallow_insecure_endpoint = true",
        "role_arn = \"arn:aws:iam::123456789012:role/honban-operator\"",
        "role_arn = \"arn:aws-cn:iam::123456789012:role/ops/honban.reader\"",
        "profile = \"prod\"",
    ] {
        let config = parse_config(&env(line), "c.toml").unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(config.environments.len(), 1);
    }
    let config = parse_config(
        &env("endpoint_url = \"http://10.0.0.5:5000\"\nallow_insecure_endpoint = true"),
        "c.toml",
    )
    .expect("allowed");
    assert!(config.environments[0].allow_insecure_endpoint);
}

#[test]
fn connection_fixtures() {
    assert_reported(
        "endpoint_url_empty.toml",
        "5:16",
        "environment \"moto\": the endpoint URL is empty; write e.g. \"http://127.0.0.1:5000\" for an emulator, or remove endpoint_url to use AWS (endpoint_url)",
    );
    assert_reported(
        "endpoint_url_plain_http.toml",
        "5:16",
        "environment \"prod\": \"http://ecs.internal.example:8080\" is plain http to another machine: requests and the data they return would cross the network unencrypted; use https, or set allow_insecure_endpoint = true in this environment if that is really meant (endpoint_url)",
    );
    assert_reported(
        "region_not_a_region.toml",
        "3:10",
        "environment \"prod\": \"../../\" is not a region: a region is lowercase letters, digits and hyphens; write e.g. \"ap-northeast-1\" (region)",
    );
    assert_reported(
        "role_arn_not_an_arn.toml",
        "4:12",
        "environment \"prod\": \"honban-operator\" is not an IAM role ARN; expected arn:aws:iam::123456789012:role/NAME (role_arn)",
    );
    assert_reported(
        "ec2_instance_not_an_id.toml",
        "4:17",
        "environment \"prod\": \"app-prod-1\" is not an EC2 instance id; write e.g. \"i-0123456789abcdef0\" (ec2_instances)",
    );
    assert_reported(
        "ec2_tag_empty_value.toml",
        "4:12",
        "environment \"prod\": tag \"Name\" = \"\": a tag filter needs a key and a value (\"*\" for any); write e.g. ec2_tags = { Name = \"app-*\" } (ec2_tags)",
    );
    assert_reported(
        "elasticache_not_a_group_id.toml",
        "4:34",
        "environment \"prod\": \"1st-redis\" is not an ElastiCache replication group id (1 to 40 letters, digits and single hyphens, starting with a letter); write e.g. \"app-prod-redis\" (elasticache_replication_groups)",
    );
    assert_reported(
        "ec2_target_group_not_an_arn.toml",
        "4:21",
        "environment \"prod\": \"app-prod-web\" is not a target group ARN; write e.g. \"arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/app-web/93c4a1e7d6b20f58\" (ec2_target_groups)",
    );
    assert_reported(
        "unknown_sim_world.toml",
        "4:13",
        "environment \"drill\": unknown simulated world \"mars\"; available: production, staging, ec2-prod (sim_world)",
    );
}

#[test]
fn an_unknown_simulated_world_lists_the_worlds() {
    let err = parse_config(
        "[[environment]]\nname = \"drill\"\nsource = \"sim\"\nsim_world = \"mars\"\n",
        "c.toml",
    )
    .expect_err("unknown world");
    assert_eq!((err.line(), err.column()), (Some(4), Some(13)), "{err}");
    assert!(
        err.message()
            .contains("unknown simulated world \"mars\"; available: production, staging, ec2-prod"),
        "{err}"
    );
    // Without sim_world the name is the world: the name is pointed at.
    let err = parse_config(
        "[[environment]]\nname = \"drill\"\nsource = \"sim\"\n",
        "c.toml",
    )
    .expect_err("unknown world");
    assert_eq!((err.line(), err.column()), (Some(2), Some(8)), "{err}");
    assert!(
        err.message().contains("sim_world defaults to the name"),
        "{err}"
    );
}

#[test]
fn a_config_that_is_not_utf8_says_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, b"theme = \"default\"\n# caf\xe9 au lait\n").expect("write");
    let err = load_config(Some(&path), None).expect_err("not UTF-8");
    assert_eq!((err.line(), err.column()), (Some(2), Some(6)), "{err}");
    assert!(
        err.message().contains("not valid UTF-8 (byte 0xE9)"),
        "{err}"
    );
    assert!(err.to_string().contains("2 | # caf"), "{err}");
}

#[test]
fn a_config_without_environments_points_at_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "theme = \"default\"\nread_only = true\n").expect("write");
    let loaded = load_config(Some(&path), None).expect("loads: --demo needs no environments");
    let err = loaded.require_environments().expect_err("none");
    assert_eq!(err.file(), Some(path.display().to_string().as_str()));
    assert_eq!((err.line(), err.column()), (Some(3), Some(1)), "{err}");
    assert!(
        err.message().starts_with("no environments are configured"),
        "{err}"
    );
    std::fs::write(&path, "theme = \"default\"\nenvironment = []\n").expect("write");
    let err = load_config(Some(&path), None)
        .expect("loads")
        .require_environments()
        .expect_err("none");
    assert_eq!((err.line(), err.column()), (Some(2), Some(1)), "{err}");
    let example = load_config(None, None).expect("built in");
    assert_eq!(example.require_environments(), Ok(()));
}

/// Tiny mutations of valid and broken configs, generated from a fixed
/// seed: the loader never panics, and every rejection names the file, a
/// line and a column.
#[test]
fn mutated_configs_never_panic_and_every_rejection_is_positioned() {
    const CASES: usize = 3000;
    let mut seeds: Vec<Vec<u8>> = vec![
        DEFAULT_CONFIG.as_bytes().to_vec(),
        b"[[environment]]\nname = \"drill\"\nsource = \"sim\"\nsim_world = \"production\"\n".to_vec(),
        b"[[environment]]\nname = \"moto\"\nregion = \"us-east-1\"\nendpoint_url = \"http://127.0.0.1:5000\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n[[environment.clusters]]\nname = \"c\"\nservices = [\"web\"]\n[[environment.health_checks]]\nurl = \"https://x.example/health\"\nservice = \"web\"\n".to_vec(),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        seeds.push(std::fs::read(entry.expect("entry").path()).expect("fixture"));
    }
    const TOKENS: &[&[u8]] = &[
        b"\"\"",
        b"\"not a url\"",
        b"\"file:///etc/passwd\"",
        b"\"http://[\"",
        b"\"../../\"",
        b"\"http://10.1.2.3\"",
        b"-1",
        b"0",
        b"99999999999999999999",
        b"true",
        b"[]",
        b"{}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"{a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a={a=",
        b"[[environment]]\n",
        b"[environment]\n",
        b"name = \"x\"\n",
        b"sim_world = \"mars\"\n",
        b"source = \"sim\"\n",
        b"endpoint_url = ",
        b"region = ",
        b"\xff",
        b"\xe3\x81",
        b"\xc0\x80",
        b"\x00",
        b"\r\n",
        b"\"",
        b"'''",
        b"=",
        b"#",
        b"\t",
        "日本語".as_bytes(),
        b"\xef\xbb\xbf",
    ];
    // Deep nesting, balanced (valid TOML, a deserializer's recursion
    // limit) and not.
    let deep: Vec<Vec<u8>> = [30, 200, 1000]
        .iter()
        .flat_map(|n| {
            [
                format!("{}1{}", "[".repeat(*n), "]".repeat(*n)).into_bytes(),
                format!("{}1{}", "{a=".repeat(*n), "}".repeat(*n)).into_bytes(),
                format!("x = {}1{}\n", "[".repeat(*n), "]".repeat(*n)).into_bytes(),
                "[".repeat(*n).into_bytes(),
            ]
        })
        .collect();
    let tokens: Vec<&[u8]> = TOKENS
        .iter()
        .copied()
        .chain(deep.iter().map(Vec::as_slice))
        .collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("fuzz.toml");
    let name = path.display().to_string();
    let mut rng = fastrand::Rng::with_seed(0x686f_6e62_616e);
    let (mut accepted, mut rejected) = (0, 0);
    for case in 0..CASES {
        // Mostly the valid seeds (the first three), so that mutations
        // reach the checks behind the syntax.
        let seed = if rng.u8(..10) < 7 {
            rng.usize(..3)
        } else {
            rng.usize(..seeds.len())
        };
        let mut bytes = seeds[seed].clone();
        for _ in 0..rng.usize(1..3) {
            let at = rng.usize(..=bytes.len());
            match rng.u8(..5) {
                0 => {
                    let end = (at + rng.usize(..20)).min(bytes.len());
                    bytes.drain(at..end);
                }
                1 | 2 => {
                    let token = tokens[rng.usize(..tokens.len())];
                    bytes.splice(at..at, token.iter().copied());
                }
                3 => {
                    let end = (at + rng.usize(..8)).min(bytes.len());
                    let token = tokens[rng.usize(..tokens.len())];
                    bytes.splice(at..end, token.iter().copied());
                }
                _ => {
                    if at < bytes.len() {
                        bytes[at] = rng.u8(..);
                    }
                }
            }
        }
        std::fs::write(&path, &bytes).expect("write");
        let result = load_config(Some(&path), None).and_then(|l| l.require_environments());
        match result {
            Ok(()) => accepted += 1,
            Err(e) => {
                rejected += 1;
                let shown = String::from_utf8_lossy(&bytes);
                assert_eq!(e.file(), Some(name.as_str()), "case {case}: {e}\n{shown}");
                assert!(
                    e.line().is_some() && e.column().is_some(),
                    "case {case}: no position: {e}\n--- input ---\n{shown}"
                );
                assert!(e.to_string().starts_with(&format!("error: {name}:")), "{e}");
            }
        }
    }
    // The corpus exercises both sides.
    assert!(
        accepted > 100 && rejected > 1000,
        "{accepted} accepted, {rejected} rejected"
    );
}

// ---- the JSON Schema of the config (`honban config schema`) -------------

fn config_schema() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config.schema.json");
    let text = std::fs::read_to_string(&path).expect("read the schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The property names of `schema` at a JSON pointer, sorted.
fn schema_keys(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
    let mut keys: Vec<String> = schema
        .pointer(pointer)
        .and_then(serde_json::Value::as_object)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The keys the loader allows where `source` puts an unknown one.
fn allowed_keys(source: &str) -> Vec<String> {
    let err = parse_config(source, "c.toml").expect_err("an unknown key");
    let headline = err.headline();
    let list = headline
        .split("allowed keys: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no allowed keys in {headline}"));
    let mut keys: Vec<String> = list.split(", ").map(str::to_string).collect();
    keys.sort();
    keys
}

/// The shipped schema names exactly the keys the loader accepts, at every
/// level, and every command of the keymap: it cannot drift from the code.
#[test]
fn the_config_schema_matches_what_the_loader_accepts() {
    let schema = config_schema();
    let env = "[[environment]]\nname = \"p\"\nsource = \"sim\"\n";
    for (pointer, source) in [
        ("/properties", "zzz = 1\n".to_string()),
        (
            "/definitions/refresh/properties",
            "[refresh]\nzzz = 1\n".to_string(),
        ),
        (
            "/definitions/environment/properties",
            format!("{env}zzz = 1\n"),
        ),
        (
            "/definitions/cluster/properties",
            format!("{env}[[environment.clusters]]\nname = \"c\"\nzzz = 1\n"),
        ),
        (
            "/definitions/health_check/properties",
            format!("{env}[[environment.health_checks]]\nurl = \"http://127.0.0.1/\"\nzzz = 1\n"),
        ),
    ] {
        assert_eq!(
            schema_keys(&schema, pointer),
            allowed_keys(&source),
            "{pointer}"
        );
    }
    let mut commands: Vec<String> = Command::ALL.iter().map(|c| c.name().to_string()).collect();
    commands.sort();
    assert_eq!(
        schema_keys(&schema, "/definitions/key_section/properties"),
        commands
    );
    // `[keys]`: the commands, `[keys.replay]` and `[keys.view.VIEW]`.
    let mut keys = commands.clone();
    keys.extend(["replay".to_string(), "view".to_string()]);
    keys.sort();
    assert_eq!(schema_keys(&schema, "/properties/keys/properties"), keys);
    let mut views: Vec<String> = honban::config::keys::SECTIONS
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("view.").map(str::to_string))
        .collect();
    views.sort();
    assert_eq!(
        schema_keys(&schema, "/properties/keys/properties/view/properties"),
        views
    );
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
}

/// The example config, as JSON, has only keys and types the schema allows.
#[test]
fn the_example_config_fits_the_schema() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
        .expect("read the example");
    let value: toml::Value = toml::from_str(&text).expect("TOML");
    let json = serde_json::to_value(&value).expect("as JSON");
    fn check(
        schema: &serde_json::Value,
        root: &serde_json::Value,
        x: &serde_json::Value,
        path: &str,
    ) {
        let schema = match schema.get("$ref").and_then(serde_json::Value::as_str) {
            Some(r) => root
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{path}: unresolvable {r}")),
            None => schema,
        };
        if let Some(t) = schema.get("type").and_then(serde_json::Value::as_str) {
            let ok = match t {
                "object" => x.is_object(),
                "array" => x.is_array(),
                "string" => x.is_string(),
                "integer" => x.is_i64() || x.is_u64(),
                "boolean" => x.is_boolean(),
                _ => true,
            };
            assert!(ok, "{path}: {x} is not {t}");
        }
        if let Some(obj) = x.as_object() {
            let props = schema.get("properties");
            for (k, v) in obj {
                let sub = props
                    .and_then(|p| p.get(k))
                    .unwrap_or_else(|| panic!("{path}.{k}: not in the schema"));
                check(sub, root, v, &format!("{path}.{k}"));
            }
        }
        if let (Some(items), Some(list)) = (schema.get("items"), x.as_array()) {
            for (i, v) in list.iter().enumerate() {
                check(items, root, v, &format!("{path}[{i}]"));
            }
        }
    }
    let schema = config_schema();
    check(&schema, &schema, &json, "$");
}

#[test]
fn timezone_is_utc_or_local_and_anything_else_says_which() {
    let default = parse_config("", "c.toml").expect("empty config");
    assert_eq!(default.timezone, honban::config::TimeZone::Utc);
    let utc = parse_config("timezone = \"UTC\"\n", "c.toml").expect("UTC");
    assert_eq!(utc.timezone, honban::config::TimeZone::Utc);
    let local = parse_config("timezone = \"local\"\n", "c.toml").expect("local");
    assert_eq!(local.timezone, honban::config::TimeZone::Local);
    let err = parse_config("timezone = \"Asia/Tokyo\"\n", "c.toml").expect_err("a zone name");
    assert_eq!(
        err.headline(),
        "c.toml:1:12: unknown value \"Asia/Tokyo\", expected \"UTC\" or \"local\" (timezone)"
    );
}

/// Every AWS API call the SDK backend makes is allowed by one of the IAM
/// policies the README hands out (read by the console in read-only, or the
/// operator's on top): a call missing from them is an AccessDenied that an
/// operator meets only in production.
#[test]
#[allow(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "`.call` ends a method call in Rust source, not a file name"
)]
fn the_iam_policies_allow_every_call_the_backend_makes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut allowed = std::collections::BTreeSet::new();
    for file in ["iam-readonly-policy.json", "iam-operator-policy.json"] {
        let text = std::fs::read_to_string(root.join("assets").join(file)).expect("policy");
        let policy: serde_json::Value = serde_json::from_str(&text).expect("policy JSON");
        for statement in policy["Statement"].as_array().expect("statements") {
            match &statement["Action"] {
                serde_json::Value::String(a) => {
                    allowed.insert(a.clone());
                }
                serde_json::Value::Array(list) => {
                    allowed.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)));
                }
                other => panic!("{file}: Action {other}"),
            }
        }
    }
    // The backend names each call `b.call("<service>", "<Operation>", …)`.
    let prefix = |service: &str| {
        match service {
            "autoscaling" => "application-autoscaling",
            "elbv2" => "elasticloadbalancing",
            other => other,
        }
        .to_string()
    };
    let mut called = std::collections::BTreeSet::new();
    let dir = root.join("src/backend/aws");
    for entry in std::fs::read_dir(&dir).expect("src/backend/aws") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == '(')
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(3) {
            if pair[0].ends_with(".call")
                && let (Some(service), Some(op)) = (
                    pair[1]
                        .strip_prefix('"')
                        .and_then(|s| s.strip_suffix("\",")),
                    pair[2]
                        .strip_prefix('"')
                        .and_then(|s| s.strip_suffix("\",")),
                )
            {
                called.insert(format!("{}:{op}", prefix(service)));
            }
        }
    }
    assert!(
        called.len() >= 25,
        "the call sites were not found: {called:?}"
    );
    let missing: Vec<&String> = called.difference(&allowed).collect();
    assert!(
        missing.is_empty(),
        "not in assets/iam-*-policy.json: {missing:?}"
    );
}

#[test]
fn cloudfront_distributions_are_checked_where_they_are_written() {
    assert_reported(
        "cloudfront_bad_path.toml",
        "7:9",
        "environment \"production\", CloudFront distribution 1: a path starts with /, found \"assets/*\" (cloudfront_distributions.paths)",
    );
    assert_reported(
        "cloudfront_bad_id.toml",
        "6:6",
        "environment \"production\", CloudFront distribution 1: a distribution id is upper-case letters and digits (E2ABCDEF123456), found \"e2wl7prdx4k9qz\" (cloudfront_distributions.id)",
    );
    let ok = parse_config(
        "[[environment]]\nname = \"staging\"\nsource = \"sim\"\n\
         [[environment.cloudfront_distributions]]\nid = \"E2WL7PRDX4K9QZ\"\n",
        "c.toml",
    )
    .expect("a distribution with the default paths");
    assert_eq!(
        ok.environments[0].cloudfront_distributions[0].paths,
        vec!["/*".to_string()]
    );
}
