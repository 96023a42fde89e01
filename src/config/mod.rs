//! Configuration: the TOML file, its compiled-in default, keys and themes.
//!
//! `config.example.toml` at the repository root documents every option and
//! is compiled in as the default. A user file (XDG config path or
//! `--config PATH`) is read over it. Every mistake is reported with the file,
//! line, column and what was expected.

pub mod keys;
pub mod load;
pub mod theme;

use std::time::Duration;

use serde::Deserialize;

pub use keys::{Command, KeyBinding, KeyContext, Keymap, KeysConfig, Scope};
pub use load::{ConfigError, LoadedConfig, load_config, parse_config, validate_environment_name};
pub use theme::{Theme, load_theme, theme_names};

/// The compiled-in default configuration (the documented example).
pub const DEFAULT_CONFIG: &str = include_str!("../../config.example.toml");

/// The whole configuration after loading.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name: `default`, `light`, `high-contrast` or a user theme.
    #[serde(default = "default_theme")]
    pub theme: String,
    /// The environment opened at start (the first one when unset).
    #[serde(default)]
    pub default_environment: Option<String>,
    /// Start every environment read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Default polling intervals, overridable per environment.
    #[serde(default)]
    pub refresh: RefreshIntervals,
    /// Key bindings: command name → list of keys (replaces the default keys
    /// of that command), and `[keys.VIEW]` tables of a view's own bindings.
    /// A single key may be written without the list.
    #[serde(default, deserialize_with = "load::key_tables")]
    pub keys: keys::KeysConfig,
    #[serde(default, rename = "environment")]
    pub environments: Vec<EnvironmentConfig>,
    // --- logs
    /// Lines the logs view keeps (a ring buffer).
    #[serde(default = "default_logs_buffer_lines")]
    pub logs_buffer_lines: usize,
    // --- timeline
    /// Recordings older than this many days are removed at start.
    #[serde(default = "default_recordings_keep_days")]
    pub recordings_keep_days: u64,
    /// The recordings together take at most this many megabytes: the
    /// oldest are removed first at start, and a session stops recording
    /// data (not its timeline) when it alone reaches it.
    #[serde(default = "default_recordings_max_mb")]
    pub recordings_max_mb: u64,
    /// What a recording keeps of the log lines the logs view reads:
    /// `counts`, the `errors` among them (the default), or `all`.
    #[serde(default)]
    pub recording_logs: RecordingLogs,
    /// Times on screen: `UTC` (the default) or the machine's `local` zone.
    #[serde(default)]
    pub timezone: TimeZone,
}

fn default_recordings_max_mb() -> u64 {
    1024
}

/// What a recording keeps of the log lines read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingLogs {
    /// How many were read, nothing of their text.
    Counts,
    /// The counts, and the lines that match the logs view's error filter
    /// (`ERROR`).
    #[default]
    Errors,
    /// Every line read (what the applications log, secrets included if
    /// they log any: choose it knowingly).
    All,
}

impl RecordingLogs {
    pub fn word(self) -> &'static str {
        match self {
            Self::Counts => "counts",
            Self::Errors => "errors",
            Self::All => "all",
        }
    }

    /// Whether a line of this text is kept.
    pub fn keeps(self, message: &str) -> bool {
        match self {
            Self::Counts => false,
            Self::Errors => message.contains(crate::logs::ERROR_PATTERN),
            Self::All => true,
        }
    }
}

/// The zone times are shown in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum TimeZone {
    #[default]
    #[serde(rename = "UTC")]
    Utc,
    /// The zone of the machine the console runs on (`TZ`, else
    /// `/etc/localtime`).
    #[serde(rename = "local")]
    Local,
}

fn default_recordings_keep_days() -> u64 {
    30
}

fn default_logs_buffer_lines() -> usize {
    crate::logs::DEFAULT_BUFFER_LINES
}

fn default_theme() -> String {
    "default".to_string()
}

/// One environment: where it is and how careful to be with it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    pub name: String,
    /// `sim` for the built-in simulated environment, `aws` for AWS.
    #[serde(default)]
    pub source: Source,
    /// For `source = "sim"`: which world of the simulation (defaults to name).
    #[serde(default)]
    pub sim_world: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Lets `endpoint_url` be plain `http://` on a host other than this
    /// machine (requests, signatures and data then cross the network
    /// unencrypted).
    #[serde(default)]
    pub allow_insecure_endpoint: bool,
    #[serde(default)]
    pub clusters: Vec<ClusterConfig>,
    /// RDS instance identifiers; empty means all.
    #[serde(default)]
    pub rds_instances: Vec<String>,
    /// Alarm name prefixes; empty means all alarms.
    #[serde(default)]
    pub alarm_prefixes: Vec<String>,
    /// EC2 instance ids of the environment's hosts.
    #[serde(default)]
    pub ec2_instances: Vec<String>,
    /// EC2 tag filters, tag key → value (`*` and `?` wildcards): the
    /// instances carrying every one. With `ec2_instances` too, an
    /// instance must match both. Neither: no EC2 hosts are read.
    #[serde(default)]
    pub ec2_tags: std::collections::BTreeMap<String, String>,
    /// ElastiCache replication group ids of the environment (its Redis);
    /// empty: none are read.
    #[serde(default)]
    pub elasticache_replication_groups: Vec<String>,
    /// ELBv2 target group ARNs the EC2 hosts are registered in: each
    /// host's target health there is read and shown (a target group an
    /// ECS service names is read anyway).
    #[serde(default)]
    pub ec2_target_groups: Vec<String>,
    /// Shows the PRODUCTION marker and requires typed confirmations.
    #[serde(default)]
    pub protected: bool,
    /// No mutating request is ever sent for this environment.
    #[serde(default)]
    pub read_only: bool,
    /// A CloudWatch Logs group (in this environment's account) that also
    /// receives the audit records of operations on it: one trail for the
    /// whole on-call team.
    #[serde(default)]
    pub audit_log_group: Option<String>,
    #[serde(default)]
    pub refresh: Option<RefreshIntervals>,
    /// Ring the terminal bell when an alarm of this environment goes into
    /// ALARM. Unset: on for a protected environment, off otherwise.
    #[serde(default)]
    pub bell_on_alarm: Option<bool>,
    /// The recovery time objective, in minutes: a restore or a promotion
    /// is timed against it (and says whether it made it).
    #[serde(default)]
    pub rto_minutes: Option<u32>,
    // --- probes
    /// HTTP health endpoints probed on their own intervals.
    #[serde(default)]
    pub health_checks: Vec<HealthCheckConfig>,
    // --- cloudfront
    /// CloudFront distributions in front of this environment: their
    /// recent invalidations are shown and an invalidation can be sent.
    #[serde(default)]
    pub cloudfront_distributions: Vec<CloudFrontConfig>,
}

/// A CloudFront distribution linked to an environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudFrontConfig {
    /// The distribution's id (`E2ABCDEF123456`).
    pub id: String,
    /// The paths an invalidation names (each starting with `/`; `*` only
    /// at the end).
    #[serde(default = "d_cloudfront_paths")]
    pub paths: Vec<String>,
    /// ECS services whose completed deploy offers this invalidation.
    #[serde(default)]
    pub services: Vec<String>,
}

fn d_cloudfront_paths() -> Vec<String> {
    vec!["/*".to_string()]
}

/// What is wrong with an invalidation path, if anything (CloudFront:
/// starts with `/`, at most 4 000 characters, a `*` only as the last
/// character).
pub fn cloudfront_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some(format!("a path starts with /, found \"{path}\""));
    }
    if path.len() > 4000 {
        return Some("a path has at most 4000 characters".to_string());
    }
    if path.chars().any(char::is_control) || path.contains(' ') {
        return Some(format!(
            "a path has no spaces or control characters (URL-encode them), found \"{path}\""
        ));
    }
    if path.find('*').is_some_and(|i| i + 1 != path.len()) {
        return Some(format!(
            "a * is allowed only at the end of a path, found \"{path}\""
        ));
    }
    None
}

/// Whether `id` looks like a CloudFront distribution id (upper-case
/// letters and digits, as `GetDistribution` takes it).
pub fn is_distribution_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl EnvironmentConfig {
    /// The EC2 instances of the environment (empty: it has none).
    pub fn ec2_filter(&self) -> crate::domain::InstanceFilter {
        crate::domain::InstanceFilter {
            ids: self.ec2_instances.clone(),
            tags: self.ec2_tags.clone(),
        }
    }
}

/// Where an environment's data comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    #[default]
    Aws,
    Sim,
}

/// An ECS cluster and an optional filter of its services.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub name: String,
    /// Service names to show; empty means all.
    #[serde(default)]
    pub services: Vec<String>,
}

/// Polling intervals per resource kind, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshIntervals {
    #[serde(default = "d_services")]
    pub services_secs: u64,
    #[serde(default = "d_tasks")]
    pub tasks_secs: u64,
    #[serde(default = "d_databases")]
    pub databases_secs: u64,
    #[serde(default = "d_alarms")]
    pub alarms_secs: u64,
    // --- metrics
    /// Metric history for the charts: one batched request per interval.
    #[serde(default = "d_metrics")]
    pub metrics_secs: u64,
}

fn d_services() -> u64 {
    5
}
fn d_tasks() -> u64 {
    10
}
fn d_databases() -> u64 {
    30
}
fn d_alarms() -> u64 {
    15
}
fn d_metrics() -> u64 {
    60
}

impl Default for RefreshIntervals {
    fn default() -> Self {
        Self {
            services_secs: d_services(),
            tasks_secs: d_tasks(),
            databases_secs: d_databases(),
            alarms_secs: d_alarms(),
            metrics_secs: d_metrics(),
        }
    }
}

impl RefreshIntervals {
    pub fn services(&self) -> Duration {
        Duration::from_secs(self.services_secs.max(1))
    }
    pub fn tasks(&self) -> Duration {
        Duration::from_secs(self.tasks_secs.max(1))
    }
    pub fn databases(&self) -> Duration {
        Duration::from_secs(self.databases_secs.max(1))
    }
    pub fn alarms(&self) -> Duration {
        Duration::from_secs(self.alarms_secs.max(1))
    }
    pub fn metrics(&self) -> Duration {
        Duration::from_secs(self.metrics_secs.max(1))
    }
}

impl EnvironmentConfig {
    /// The refresh intervals in force for this environment.
    pub fn intervals(&self, defaults: &RefreshIntervals) -> RefreshIntervals {
        self.refresh.unwrap_or(*defaults)
    }

    /// Whether a newly fired alarm rings the bell: `bell_on_alarm`, or by
    /// default only in a protected environment.
    pub fn bell_on_alarm(&self) -> bool {
        self.bell_on_alarm.unwrap_or(self.protected)
    }
}

// --- probes

/// One HTTP health endpoint of an environment, probed with a GET.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Shown on screen; defaults to the URL's host and path.
    #[serde(default)]
    pub name: Option<String>,
    /// An `http://` or `https://` URL.
    pub url: String,
    #[serde(default = "d_probe_interval")]
    pub interval_secs: u64,
    #[serde(default = "d_probe_timeout")]
    pub timeout_secs: u64,
    /// The status that means healthy; any 2xx when unset.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// The ECS service that answers this endpoint: while the check fails,
    /// that service counts as degraded.
    #[serde(default)]
    pub service: Option<String>,
}

fn d_probe_interval() -> u64 {
    15
}
fn d_probe_timeout() -> u64 {
    5
}

impl HealthCheckConfig {
    /// A check of `url` with the default interval and timeout.
    pub fn new(url: &str) -> Self {
        Self {
            name: None,
            url: url.to_string(),
            interval_secs: d_probe_interval(),
            timeout_secs: d_probe_timeout(),
            expect_status: None,
            service: None,
        }
    }

    /// The name shown: the configured one, else the URL's host and path.
    pub fn display_name(&self) -> String {
        if let Some(n) = self.name.as_deref().filter(|n| !n.trim().is_empty()) {
            return n.to_string();
        }
        match self.url.parse::<http::Uri>() {
            Ok(uri) => format!(
                "{}{}",
                uri.host().unwrap_or(""),
                uri.path().trim_end_matches('/')
            ),
            Err(_) => self.url.clone(),
        }
    }

    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs.max(1))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// Why the URL cannot be probed, if it cannot.
    pub fn url_problem(&self) -> Option<String> {
        if !self.url.contains("://") {
            return Some(format!(
                "\"{}\" has no scheme; write e.g. \"https://{}\"",
                self.url,
                self.url.trim_start_matches('/')
            ));
        }
        let uri = match self.url.parse::<http::Uri>() {
            Ok(u) => u,
            Err(e) => return Some(format!("\"{}\" is not a URL ({e})", self.url)),
        };
        match uri.scheme_str() {
            Some("http" | "https") => {}
            Some(other) => {
                return Some(format!(
                    "\"{}\": the scheme must be http or https, found \"{other}\"",
                    self.url
                ));
            }
            None => return Some(format!("\"{}\" has no scheme", self.url)),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Some(format!("\"{}\" has no host", self.url));
        }
        None
    }
}
