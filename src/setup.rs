//! Turns the configuration into running environments: a backend for each,
//! and the initial state.

use std::sync::Arc;

use crate::backend::aws::{AwsBackend, ConnectOptions};
use crate::backend::sim::SimBackend;
use crate::clock::Clock;
use crate::config::keys::Keymap;
use crate::config::{
    CloudFrontConfig, ClusterConfig, Config, EnvironmentConfig, HealthCheckConfig, Source,
};
use crate::runner::EnvRuntime;
use crate::state::{EnvState, State};

/// Why the environments could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "no environments are configured: write {config} (see config.example.toml), or try `honban --demo`"
    )]
    NoEnvironments { config: String },
    #[error("environment \"{name}\": {message}")]
    Sim { name: String, message: String },
    #[error("unknown environment \"{name}\"; configured: {known}")]
    UnknownEnvironment { name: String, known: String },
    #[error("keys: {0}")]
    Keys(String),
}

impl SetupError {
    /// The process exit code: an unknown `--env` is a command-line mistake
    /// (64, `EX_USAGE`), the rest are configuration mistakes (78,
    /// `EX_CONFIG`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::UnknownEnvironment { .. } => crate::cli::EX_USAGE,
            Self::NoEnvironments { .. } | Self::Sim { .. } | Self::Keys(_) => crate::cli::EX_CONFIG,
        }
    }
}

/// Options that come from the command line.
#[derive(Clone, Default)]
pub struct Options {
    pub demo: bool,
    /// `--world NAME`: the simulated worlds `--demo` opens (none: those
    /// the description marks for the demo).
    pub worlds: Vec<String>,
    pub env: Option<String>,
    pub read_only: bool,
    /// Operations are previewed and recorded, never sent.
    pub dry_run: bool,
    pub seed: Option<u64>,
    /// How AWS environments are reached (limits shared by all of them).
    pub aws: ConnectOptions,
}

/// The environments to run: the config's, or the simulated ones for
/// `--demo` (`worlds`: those named by `--world`, else the demo's own).
pub fn environments(config: &Config, demo: bool, worlds: &[String]) -> Vec<EnvironmentConfig> {
    if !demo {
        config.environments.clone()
    } else if worlds.is_empty() {
        demo_environments()
    } else {
        let all = world_environments();
        worlds
            .iter()
            .filter_map(|name| all.iter().find(|e| &e.name == name).cloned())
            .collect()
    }
}

/// Why `--world` cannot be used as given: a name that is not a simulated
/// world (the message lists them).
pub fn unknown_world(worlds: &[String]) -> Option<String> {
    let known = crate::backend::sim::world_names();
    let bad = worlds.iter().find(|w| !known.contains(w))?;
    Some(format!(
        "--world {bad}: no such simulated world; available: {}",
        known.join(", ")
    ))
}

/// The environments the built-in simulated worlds marked for the demo
/// describe, as config entries (source = Sim).
pub fn demo_environments() -> Vec<EnvironmentConfig> {
    let demo: Vec<String> = crate::backend::sim::worlds()
        .into_iter()
        .filter(|w| w.demo)
        .map(|w| w.name)
        .collect();
    world_environments()
        .into_iter()
        .filter(|e| demo.contains(&e.name))
        .collect()
}

/// Every simulated world as a config entry.
pub fn world_environments() -> Vec<EnvironmentConfig> {
    crate::backend::sim::worlds()
        .into_iter()
        .map(|w| EnvironmentConfig {
            name: w.name.clone(),
            source: Source::Sim,
            sim_world: Some(w.name),
            region: Some(w.region),
            clusters: w
                .clusters
                .into_iter()
                .map(|name| ClusterConfig {
                    name,
                    services: Vec::new(),
                })
                .collect(),
            protected: w.protected,
            rto_minutes: w.rto_minutes,
            // The team's shared trail, as a production setup would have it.
            audit_log_group: w.protected.then(|| "/honban/audit".to_string()),
            health_checks: w
                .health_checks
                .into_iter()
                .map(|(name, url, service)| HealthCheckConfig {
                    name: Some(name),
                    service: Some(service),
                    ..HealthCheckConfig::new(&url)
                })
                .collect(),
            cloudfront_distributions: w
                .distributions
                .into_iter()
                .map(|(id, services)| CloudFrontConfig {
                    id,
                    paths: vec!["/*".to_string()],
                    services,
                })
                .collect(),
            ec2_tags: w.ec2_tags,
            elasticache_replication_groups: w.replication_groups,
            ec2_target_groups: w.ec2_target_groups,
            ..Default::default()
        })
        .collect()
}

/// Builds a backend per environment and the initial state.
pub async fn build(
    config: &Config,
    options: &Options,
    clock: Clock,
    config_path: &str,
) -> Result<(State, Vec<EnvRuntime>), SetupError> {
    let envs = environments(config, options.demo, &options.worlds);
    if envs.is_empty() {
        return Err(SetupError::NoEnvironments {
            config: config_path.to_string(),
        });
    }
    let seed = options.seed.unwrap_or_else(|| fastrand::u64(..));
    let mut runtimes = Vec::with_capacity(envs.len());
    let http_prober: Arc<dyn crate::probe::Prober> = Arc::new(crate::probe::HttpProber::new());
    for (i, env) in envs.iter().enumerate() {
        // --- probes: health checks of a simulated environment are answered
        // by its simulation, the others over HTTP.
        let mut prober: Arc<dyn crate::probe::Prober> = http_prober.clone();
        let backend: Arc<dyn crate::backend::Backend> = match env.source {
            Source::Sim => {
                let world = env.sim_world.clone().unwrap_or_else(|| env.name.clone());
                let sim = SimBackend::new(&world, seed.wrapping_add(i as u64), clock.clone())
                    .map_err(|e| SetupError::Sim {
                        name: env.name.clone(),
                        message: e.to_string(),
                    })?;
                let sim = Arc::new(sim);
                prober = Arc::new(crate::probe::SimProber::new(sim.clone()));
                sim
            }
            Source::Aws => Arc::new(AwsBackend::connect(env, options.aws.clone()).await),
        };
        // Read-only is enforced here, below every view and key.
        let read_only = options.read_only || config.read_only || env.read_only;
        // A dry run sends nothing either: the same guard, below the runner.
        let backend: Arc<dyn crate::backend::Backend> = if read_only || options.dry_run {
            Arc::new(crate::backend::guard::ReadOnly::new(backend, &env.name))
        } else {
            backend
        };
        runtimes.push(EnvRuntime {
            config: env.clone(),
            backend,
            prober,
        });
    }
    let read_only = options.read_only || config.read_only;
    let states: Vec<EnvState> = envs
        .iter()
        .map(|e| EnvState::from_config(e, &config.refresh, read_only))
        .collect();
    let wanted = options.env.clone().or_else(|| {
        config
            .default_environment
            .clone()
            .filter(|d| envs.iter().any(|e| &e.name == d))
    });
    let active = match wanted {
        Some(name) => envs.iter().position(|e| e.name == name).ok_or_else(|| {
            SetupError::UnknownEnvironment {
                name,
                known: envs
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?,
        None => 0,
    };
    let keymap = Keymap::from_config(config).map_err(SetupError::Keys)?;
    let mut state = State::new(states, active, keymap, clock.now());
    state.dry_run = options.dry_run;
    // --- logs
    state.logs_buffer_lines = config.logs_buffer_lines.max(1);
    state.recording_logs = config.recording_logs;
    state.timezone = config.timezone;
    // Operation ids are `<session>-<n>`: the start time alone could be
    // shared by two consoles writing one audit log.
    state.session = format!("{}-{}", state.session, std::process::id());
    Ok((state, runtimes))
}

/// The activity view's history from the audit records read at start: one
/// line per operation, and only those of this session's environments, each
/// of its own kind, so the demo's practice never shows as a real change in
/// a real environment, nor a real change in the demo.
pub fn set_history(state: &mut State, records: Vec<crate::audit::Record>) {
    let envs: Vec<(&str, bool)> = state
        .envs
        .iter()
        .map(|e| (e.name.as_str(), e.source == Source::Sim))
        .collect();
    let (shown, hidden) =
        crate::audit::of_environments(crate::audit::latest_per_operation(records), &envs);
    state.history = shown;
    state.history_hidden = hidden;
}

/// The tokio runtime of the console and of `honban status`: two workers
/// (the effects are I/O; the loop does the work).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_environments_are_the_simulated_worlds() {
        let envs = demo_environments();
        assert_eq!(envs.len(), 2);
        let prod = &envs[0];
        assert_eq!(prod.name, "production");
        assert_eq!(prod.source, Source::Sim);
        assert_eq!(prod.sim_world.as_deref(), Some("production"));
        assert_eq!(prod.region.as_deref(), Some("ap-northeast-1"));
        assert_eq!(prod.clusters.len(), 1);
        assert_eq!(prod.clusters[0].name, "works-logue-prod");
        assert!(prod.protected);
        assert_eq!(prod.audit_log_group.as_deref(), Some("/honban/audit"));
        assert!(prod.health_checks.iter().all(|h| h.service.is_some()));
        assert!(!envs[1].protected);
        assert_eq!(envs[1].audit_log_group, None);
        assert_eq!(envs[1].clusters[0].name, "works-logue-stg");
        assert!(envs.iter().all(|e| e.ec2_filter().is_empty()));
    }

    /// `--world NAME` opens the named worlds, in that order, those left
    /// out of the demo too; a name that is no world is said with the list.
    #[test]
    fn world_opens_the_named_worlds_and_refuses_unknown_ones() {
        let config: Config = toml::from_str("").expect("empty config");
        let envs = environments(&config, true, &["ec2-prod".to_string()]);
        assert_eq!(envs.len(), 1);
        let ec2 = &envs[0];
        assert_eq!(ec2.sim_world.as_deref(), Some("ec2-prod"));
        assert!(ec2.clusters.is_empty());
        assert!(ec2.protected);
        assert_eq!(
            ec2.ec2_tags.get("Name").map(String::as_str),
            Some("app-prod-*")
        );
        let both = environments(
            &config,
            true,
            &["staging".to_string(), "production".to_string()],
        );
        assert_eq!(
            both.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["staging", "production"]
        );
        assert_eq!(unknown_world(&["ec2-prod".to_string()]), None);
        assert_eq!(
            unknown_world(&["mars".to_string()]).as_deref(),
            Some("--world mars: no such simulated world; available: production, staging, ec2-prod")
        );
    }
}
