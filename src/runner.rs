//! Runs effects on tokio tasks and sends their results back as actions, and
//! runs the per-resource pollers.
//!
//! Every backend call is bounded by a timeout and traced in its own span. The
//! event loop never awaits any of this: it only receives actions.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::action::{Action, Data, Resource};
use crate::backend::sim::SimClock;
use crate::backend::{Backend, BackendError, BackendResult, CALL_TIMEOUT};
use crate::config::{EnvironmentConfig, RefreshIntervals};
use crate::domain::Listing;
use crate::effect::Effect;

/// One environment as the runner sees it: its configuration and backend.
#[derive(Clone)]
pub struct EnvRuntime {
    pub config: EnvironmentConfig,
    pub backend: Arc<dyn Backend>,
}

/// Carries out effects; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    envs: Arc<Vec<EnvRuntime>>,
    tx: UnboundedSender<Action>,
    timeout: Duration,
    /// Stamps results; a manual clock in tests makes data ages reproducible.
    clock: SimClock,
}

impl Runner {
    pub fn new(envs: Vec<EnvRuntime>, tx: UnboundedSender<Action>, clock: SimClock) -> Self {
        Self {
            envs: Arc::new(envs),
            tx,
            timeout: CALL_TIMEOUT,
            clock,
        }
    }

    /// Starts one effect on its own task. `Quit` is handled by the loop.
    pub fn spawn(&self, effect: Effect) {
        let runner = self.clone();
        match effect {
            Effect::Quit => {}
            Effect::Fetch {
                env,
                resource,
                generation,
            } => {
                let span =
                    tracing::info_span!("fetch", env, resource = resource.label(), generation);
                tokio::spawn(
                    async move {
                        let result = runner.fetch(env, resource).await;
                        if let Err(e) = &result {
                            tracing::warn!(error = %e, "fetch failed");
                        }
                        let _ = runner.tx.send(Action::Loaded {
                            env,
                            resource,
                            generation,
                            at: runner.clock.now(),
                            result,
                        });
                        runner.send_stats(env);
                    }
                    .instrument(span),
                );
            }
            Effect::FetchTargets {
                env,
                generation,
                arns,
            } => {
                let span = tracing::info_span!("targets", env, generation);
                tokio::spawn(
                    async move {
                        let result = match runner.backend(env) {
                            Ok(b) => runner
                                .bounded(b.target_groups(&arns))
                                .await
                                .map(Data::Targets),
                            Err(e) => Err(e),
                        };
                        let _ = runner.tx.send(Action::Loaded {
                            env,
                            resource: Resource::Targets,
                            generation,
                            at: runner.clock.now(),
                            result,
                        });
                        runner.send_stats(env);
                    }
                    .instrument(span),
                );
            }
            Effect::FetchTaskDefinition { env, arn } => {
                let span = tracing::info_span!("task_definition", env, %arn);
                tokio::spawn(
                    async move {
                        let result = match runner.backend(env) {
                            Ok(b) => runner.bounded(b.task_definition(&arn)).await,
                            Err(e) => Err(e),
                        };
                        let _ = runner
                            .tx
                            .send(Action::TaskDefinitionLoaded { env, arn, result });
                    }
                    .instrument(span),
                );
            }
            Effect::FetchRevisions {
                env,
                family,
                generation,
            } => {
                let span = tracing::info_span!("revisions", env, %family);
                tokio::spawn(
                    async move {
                        let result = match runner.backend(env) {
                            Ok(b) => runner.bounded(b.task_definition_revisions(&family)).await,
                            Err(e) => Err(e),
                        };
                        let _ = runner.tx.send(Action::RevisionsLoaded {
                            env,
                            family,
                            generation,
                            at: runner.clock.now(),
                            result,
                        });
                    }
                    .instrument(span),
                );
            }
        }
    }

    /// Sends the backend's request counters (cheap: a copy of a small map).
    fn send_stats(&self, env: usize) {
        if let Ok(b) = self.backend(env) {
            let stats = b.request_stats();
            if !stats.is_empty() {
                let _ = self.tx.send(Action::Stats { env, stats });
            }
        }
    }

    fn backend(&self, env: usize) -> BackendResult<&Arc<dyn Backend>> {
        self.envs
            .get(env)
            .map(|e| &e.backend)
            .ok_or_else(|| BackendError::Other {
                message: format!("no environment #{env}"),
            })
    }

    async fn bounded<T>(&self, fut: impl Future<Output = BackendResult<T>>) -> BackendResult<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(BackendError::Unavailable {
                message: format!("no answer within {}s", self.timeout.as_secs()),
            }),
        }
    }

    /// Fetches one resource kind of an environment, across its clusters.
    async fn fetch(&self, env: usize, resource: Resource) -> BackendResult<Data> {
        let rt = self.envs.get(env).ok_or_else(|| BackendError::Other {
            message: format!("no environment #{env}"),
        })?;
        let b = &rt.backend;
        let cfg = &rt.config;
        Ok(match resource {
            Resource::Identity => Data::Identity(self.bounded(b.caller_identity()).await?),
            Resource::Services => {
                let mut all = Listing::default();
                for c in &cfg.clusters {
                    let mut l = self.bounded(b.services(&c.name)).await?;
                    if !c.services.is_empty() {
                        l.items.retain(|s| c.services.contains(&s.name));
                    }
                    all.items.extend(l.items);
                    all.failures.extend(l.failures);
                }
                Data::Services(all)
            }
            Resource::Scaling => {
                let mut all = Vec::new();
                for c in &cfg.clusters {
                    let mut v = self.bounded(b.scalable_targets(&c.name)).await?;
                    if !c.services.is_empty() {
                        v.retain(|t| {
                            t.service_name()
                                .is_some_and(|n| c.services.iter().any(|s| s == n))
                        });
                    }
                    all.extend(v);
                }
                Data::Scaling(all)
            }
            Resource::Tasks => {
                let mut all = Listing::default();
                for c in &cfg.clusters {
                    let mut l = self.bounded(b.tasks(&c.name)).await?;
                    if !c.services.is_empty() {
                        l.items.retain(|t| {
                            t.service_name()
                                .is_some_and(|n| c.services.iter().any(|s| s == n))
                        });
                    }
                    all.items.extend(l.items);
                    all.failures.extend(l.failures);
                }
                Data::Tasks(all)
            }
            Resource::Databases => {
                Data::Databases(self.bounded(b.db_instances(&cfg.rds_instances)).await?)
            }
            Resource::Snapshots => {
                Data::Snapshots(self.bounded(b.db_snapshots(&cfg.rds_instances)).await?)
            }
            Resource::Alarms => Data::Alarms(self.bounded(b.alarms(&cfg.alarm_prefixes)).await?),
            Resource::Targets => {
                // Target groups are named by the services: Effect::FetchTargets.
                return Err(BackendError::Other {
                    message: "target health is fetched per target group".to_string(),
                });
            }
        })
    }
}

/// The polling interval of a resource kind.
pub fn interval_of(resource: Resource, intervals: &RefreshIntervals) -> Duration {
    match resource {
        // The caller identity changes only when credentials do.
        Resource::Identity => Duration::from_secs(300),
        Resource::Services | Resource::Scaling | Resource::Targets => intervals.services(),
        Resource::Tasks => intervals.tasks(),
        Resource::Databases | Resource::Snapshots => intervals.databases(),
        Resource::Alarms => intervals.alarms(),
    }
}

/// Starts one poller per environment and resource kind. Each sends
/// `PollDue` on its interval (the first at once); `update` skips a tick
/// while a request is in flight. Pollers of later environments start a
/// little later so their requests are spread out.
pub fn start_pollers(
    envs: &[(usize, RefreshIntervals)],
    tx: &UnboundedSender<Action>,
    cancel: &CancellationToken,
) {
    for (i, (env, intervals)) in envs.iter().enumerate() {
        for (j, resource) in Resource::ALL.into_iter().enumerate() {
            let period = interval_of(resource, intervals);
            let delay = Duration::from_millis((i * 150 + j * 20) as u64);
            let tx = tx.clone();
            let cancel = cancel.clone();
            let env = *env;
            tokio::spawn(async move {
                let start = tokio::time::Instant::now() + delay;
                let mut ticker = tokio::time::interval_at(start, period);
                ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        _ = ticker.tick() => {
                            if tx.send(Action::PollDue { env, resource }).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    }
}
