//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit code of a command-line mistake (sysexits `EX_USAGE`).
pub const EX_USAGE: u8 = 64;
/// Exit code of a configuration mistake (sysexits `EX_CONFIG`).
pub const EX_CONFIG: u8 = 78;

/// honban (本番): a terminal console for running a production AWS environment.
#[derive(Debug, Clone, Parser)]
#[command(name = "honban", disable_version_flag = true)]
pub struct Cli {
    /// Run against the built-in simulated environment (no AWS account needed).
    #[arg(long, global = true)]
    pub demo: bool,

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

    /// Print the version and where config, logs and state live.
    #[arg(short = 'V', long)]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<CliCommand>,
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
}

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

    /// Stop waiting after this many seconds: what has not answered by then
    /// is UNKNOWN.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// How `honban status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Nagios,
}
