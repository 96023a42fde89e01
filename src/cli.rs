//! Command-line arguments.

use std::path::PathBuf;

use clap::Parser;

/// honban (本番): a terminal console for running a production AWS environment.
#[derive(Debug, Clone, Parser)]
#[command(name = "honban", disable_version_flag = true)]
pub struct Cli {
    /// Run against the built-in simulated environment (no AWS account needed).
    #[arg(long)]
    pub demo: bool,

    /// The environment to open (a name from the config).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,

    /// Read this config file instead of the one in the config directory.
    #[arg(long, value_name = "PATH")]
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
    #[arg(long, value_name = "N", hide = true)]
    pub seed: Option<u64>,

    /// Print the version and where config, logs and state live.
    #[arg(short = 'V', long)]
    pub version: bool,
}
