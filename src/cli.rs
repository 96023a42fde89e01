//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit code of a command-line mistake (sysexits `EX_USAGE`).
pub const EX_USAGE: u8 = 64;
/// Exit code of data that cannot be used, e.g. a recording of a newer
/// format (sysexits `EX_DATAERR`).
pub const EX_DATAERR: u8 = 65;
/// Exit code of an input file that cannot be read (sysexits `EX_NOINPUT`).
pub const EX_NOINPUT: u8 = 66;
/// Exit code of a configuration mistake (sysexits `EX_CONFIG`).
pub const EX_CONFIG: u8 = 78;

/// honban (本番): a terminal console for running a production AWS environment.
#[derive(Debug, Clone, Parser)]
#[command(name = "honban", disable_version_flag = true)]
#[allow(clippy::struct_excessive_bools, reason = "command-line switches")]
pub struct Cli {
    /// Run against the built-in simulated environment (no AWS account needed).
    #[arg(long, global = true)]
    pub demo: bool,

    /// With `--demo`: open this simulated world (repeat for several)
    /// instead of the usual ones; `ec2-prod` is the EC2 hosts' world.
    #[arg(long = "world", value_name = "NAME", global = true, requires = "demo")]
    pub worlds: Vec<String>,

    /// The environment to open (a name from the config); with `status`, the
    /// only one judged.
    #[arg(long, value_name = "NAME", global = true)]
    pub env: Option<String>,

    /// Read this config file instead of the one in the config directory.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,

    /// Colour theme (default, light, high-contrast, or one of yours).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,

    /// Never send a mutating request, whatever the config says.
    #[arg(long)]
    pub read_only: bool,

    /// Preview and record operations in the audit log, but send none.
    #[arg(long)]
    pub dry_run: bool,

    /// Seed of the simulated environment (for reproducible drills and tests).
    #[arg(long, value_name = "N", hide = true, global = true)]
    pub seed: Option<u64>,

    /// Run the simulated world N times as fast as the wall clock (1 to
    /// 100; `--demo` and `drill` only): rollouts, alarms and task starts
    /// come N times sooner, the console's own clock with them. For tests.
    #[arg(long, value_name = "N", hide = true, global = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::clock::MAX_SPEED)))]
    pub sim_speed: Option<u32>,

    /// Print the version and where config, logs and state live.
    #[arg(short = 'V', long)]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

impl Cli {
    /// The application's clock: the wall clock, or under `--sim-speed N`
    /// the wall clock sped up N times.
    pub fn clock(&self) -> crate::clock::Clock {
        crate::clock::Clock::sped_up(self.sim_speed.unwrap_or(1))
    }

    /// Why `--sim-speed` cannot be used here, if it cannot: it speeds up
    /// the simulated world, so it needs one (the console or `status` with
    /// `--demo`, or a drill).
    pub fn sim_speed_refused(&self) -> Option<String> {
        self.sim_speed?;
        let simulated = match &self.command {
            None | Some(CliCommand::Status(_)) => self.demo,
            Some(CliCommand::Drill { name }) => name.is_some(),
            Some(_) => false,
        };
        (!simulated).then(|| {
            "--sim-speed speeds up the simulated world: use it with --demo (the console or `status`) or `drill NAME`".to_string()
        })
    }
}

/// What to do instead of opening the console.
#[derive(Debug, Clone, Subcommand)]
pub enum CliCommand {
    /// Read every environment once, print its health and exit with it:
    /// 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (for scripts, chat-ops and
    /// monitoring; no terminal needed).
    Status(StatusArgs),
    /// The recorded timelines of earlier sessions.
    #[command(subcommand)]
    Timeline(TimelineCommand),
    /// Play a recorded session back in the console (no argument: list the
    /// recordings). Nothing is sent: a replay has no backend.
    Replay {
        /// A session id (or the start of one) from the list, or a
        /// recording's path.
        #[arg(value_name = "SESSION|FILE")]
        target: Option<String>,
    },
    /// The configuration file: check it.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print shell completions (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff; `honban man > honban.1`).
    Man,
    /// Practise on a scripted incident in the simulated environment:
    /// without NAME list the scenarios; with it, show the briefing, run
    /// the console on the simulation and print (and save) the report.
    Drill {
        /// The scenario's id (as `honban drill` lists them).
        name: Option<String>,
    },
}

/// `honban config …`.
#[derive(Debug, Clone, Subcommand)]
pub enum ConfigCommand {
    /// Check a config file (the one honban would read, or FILE): exit 0
    /// when it is good, 78 with the positioned message when not.
    Check {
        /// The file to check (default: --config, else the config directory's).
        file: Option<PathBuf>,
    },
    /// Print the JSON Schema (draft 7) of config.toml, for editors (taplo,
    /// the VS Code "Even Better TOML" extension) to complete and check it.
    Schema,
}

/// The JSON Schema of the config file (`assets/config.schema.json`; a test
/// keeps it equal to what the loader accepts).
pub const CONFIG_SCHEMA: &str = include_str!("../assets/config.schema.json");

/// `honban timeline …`.
#[derive(Debug, Clone, Subcommand)]
pub enum TimelineCommand {
    /// Print the recorded timeline: a postmortem skeleton (markdown, after
    /// the Google SRE template, with TTD/TTM/TTR) or CloudEvents JSON Lines.
    Export(ExportArgs),
}

/// `honban timeline export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Only this session (its id, as the recording's file name says).
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,

    /// From this time: RFC 3339 (`2026-12-01T03:00:00Z`), `YYYY-MM-DD HH:MM`
    /// (UTC), or an age (`90m`, `6h`, `2d`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Up to this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// `markdown` (a postmortem per environment) or `json` (CloudEvents,
    /// one a line).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ExportFormat::Markdown)]
    pub format: ExportFormat,

    /// Read the team's shared timeline from each environment's
    /// `audit_log_group` in CloudWatch Logs (every console's events and
    /// notes, one story) instead of this machine's recordings. Needs the
    /// config and credentials; --since defaults to 24 hours ago.
    #[arg(long)]
    pub from_cloudwatch: bool,
}

/// How `honban timeline export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    Json,
}

/// `honban status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Every configured environment (the default; `--env NAME` judges one).
    #[arg(long, conflicts_with = "env")]
    pub all: bool,

    /// `text` (80 columns, the worst first), `json` (schema
    /// honban.status/v1) or `nagios` (a monitoring-plugin line with
    /// performance data).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// How long to wait: for the reads (what has not answered by then is
    /// UNKNOWN), or with --wait for the environment to get there. Seconds,
    /// or with a unit: 90s, 10m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,

    /// Poll until the environments are `healthy` (OK) or `stable` (OK with
    /// no rollout in progress), then exit 0; at --timeout exit with the
    /// status then (for deploy pipelines).
    #[arg(long, value_enum, value_name = "UNTIL")]
    pub wait: Option<WaitFor>,

    /// With --wait: wait for this service only (healthy, or stable: its
    /// rollout finished), whatever the rest of the environment does.
    #[arg(long, value_name = "NAME", requires = "wait")]
    pub service: Option<String>,
}

/// What `honban status --wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitFor {
    /// Every judged environment OK.
    Healthy,
    /// OK, and no rollout in progress.
    Stable,
}

/// `30`, `90s`, `10m`, `1h` (1 s to 24 h).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("\"{t}\" is not a duration: write 30, 90s, 10m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => {
            return Err(format!(
                "\"{t}\" is not a duration: write 30, 90s, 10m or 1h"
            ));
        }
    };
    if !(1..=86_400).contains(&secs) {
        return Err(format!("\"{t}\" is out of range: 1 s to 24 h"));
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// How `honban status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Nagios,
}
