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

use crate::action::{Action, Data, OpOutcome, Resource};
use crate::audit::{self, AuditLog};
use crate::backend::sim::SimClock;
use crate::backend::{Backend, BackendError, BackendResult, CALL_TIMEOUT};
use crate::backend::{ImageChange, ServiceUpdate};
use crate::config::{EnvironmentConfig, RefreshIntervals};
use crate::domain::Listing;
use crate::domain::task_definition_label;
use crate::effect::AuditContext;
use crate::effect::Effect;
use crate::ops::Operation;

/// One environment as the runner sees it: its configuration and backend.
#[derive(Clone)]
pub struct EnvRuntime {
    pub config: EnvironmentConfig,
    pub backend: Arc<dyn Backend>,
    // --- probes
    /// Answers the environment's health checks.
    pub prober: Arc<dyn crate::probe::Prober>,
}

/// Carries out effects; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    envs: Arc<Vec<EnvRuntime>>,
    tx: UnboundedSender<Action>,
    timeout: Duration,
    /// Stamps results; a manual clock in tests makes data ages reproducible.
    clock: SimClock,
    /// Where operations are recorded before they are sent.
    audit: Option<Arc<AuditLog>>,
    /// This session's stream in an environment's shared audit log group.
    audit_stream: String,
    /// This session's recording of the timeline.
    recorder: Option<Arc<crate::recording::Recorder>>,
}

impl Runner {
    pub fn new(envs: Vec<EnvRuntime>, tx: UnboundedSender<Action>, clock: SimClock) -> Self {
        Self {
            envs: Arc::new(envs),
            tx,
            timeout: CALL_TIMEOUT,
            clock,
            audit: None,
            audit_stream: String::new(),
            recorder: None,
        }
    }

    /// Sets the recording timeline events are appended to.
    pub fn set_recorder(&mut self, recorder: Arc<crate::recording::Recorder>) {
        self.recorder = Some(recorder);
    }

    /// Sets the audit log operations are recorded in, and the stream name
    /// of this session in shared CloudWatch Logs groups.
    pub fn set_audit(&mut self, audit: Arc<AuditLog>, stream: String) {
        self.audit = Some(audit);
        self.audit_stream = stream;
    }

    /// Also puts a record into the environment's shared audit log group,
    /// if it has one, after `before` (so intent precedes result). Best
    /// effort: the local log is the one that must be written first; a
    /// failure is shown to the operator.
    fn ship(
        &self,
        env: usize,
        record: &audit::Record,
        before: Option<tokio::task::JoinHandle<()>>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let rt = self.envs.get(env)?;
        let group = rt.config.audit_log_group.clone()?;
        if record.dry_run {
            return None;
        }
        let message = serde_json::to_string(record).ok()?;
        let backend = rt.backend.clone();
        let stream = self.audit_stream.clone();
        let tx = self.tx.clone();
        let time = record.time;
        let timeout = self.timeout;
        Some(tokio::spawn(async move {
            if let Some(h) = before {
                let _ = h.await;
            }
            let records = [(time, message)];
            let put = backend.put_audit_records(&group, &stream, &records);
            let result = match tokio::time::timeout(timeout, put).await {
                Ok(r) => r,
                Err(_) => Err(BackendError::Unavailable {
                    message: format!("no answer within {}s", timeout.as_secs()),
                }),
            };
            match result {
                Ok(()) => {}
                // A read-only environment sends nothing, this included.
                Err(BackendError::ReadOnly { .. }) => {}
                Err(e) => {
                    tracing::warn!(%group, error = %e, "the shared audit trail was not written");
                    let _ = tx.send(Action::Notice {
                        text: format!(
                            "audit trail {group} (CloudWatch Logs) not written: {e}; the local audit log has the record"
                        ),
                        error: true,
                    });
                }
            }
        }))
    }

    /// Starts one effect on its own task. `Quit` is handled by the loop.
    pub fn spawn(&self, effect: Effect) {
        let runner = self.clone();
        match effect {
            Effect::Quit => {}
            Effect::Record { events } => {
                if let Some(r) = &self.recorder {
                    r.record(events);
                }
            }
            // --- logs
            Effect::FetchLogs {
                env,
                generation,
                queries,
            } => {
                let span = tracing::info_span!("logs", env, generation);
                tokio::spawn(
                    async move {
                        let result = runner.fetch_logs(env, queries).await;
                        if let Err(e) = &result {
                            tracing::warn!(error = %e, "logs fetch failed");
                        }
                        let _ = runner.tx.send(Action::LogsLoaded {
                            generation,
                            at: runner.clock.now(),
                            result,
                        });
                        runner.send_stats(env);
                    }
                    .instrument(span),
                );
            }
            Effect::Fetch {
                env,
                resource,
                generation,
                clusters,
            } => {
                let span =
                    tracing::info_span!("fetch", env, resource = resource.label(), generation);
                tokio::spawn(
                    async move {
                        let result = runner.fetch(env, resource, &clusters).await;
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
            Effect::Operate {
                id,
                env,
                op,
                dry_run,
                context,
            } => {
                let span = tracing::info_span!("operate", env, %id, operation = op.name(), resource = op.resource());
                tokio::spawn(
                    async move {
                        let result = runner.operate(&id, env, &op, dry_run, &context).await;
                        match &result {
                            Ok(_) => tracing::info!("operation accepted"),
                            Err(e) => tracing::warn!(error = %e, "operation failed"),
                        }
                        let _ = runner.tx.send(Action::OperationDone {
                            id,
                            at: runner.clock.now(),
                            result,
                        });
                        runner.send_stats(env);
                    }
                    .instrument(span),
                );
            }
            Effect::AuditOutcome {
                id,
                env,
                op,
                context,
                ended,
                detail,
                failure,
            } => {
                let span = tracing::info_span!("audit-outcome", env, %id, ended = %ended);
                tokio::spawn(
                    async move {
                        // Stamped like the intent and the result, so that it
                        // sorts after them.
                        let mut record = record_of(&id, &op, &context, runner.clock.now());
                        record.phase = audit::Phase::Final;
                        record.outcome = Some(if failure {
                            audit::Outcome::Error
                        } else {
                            audit::Outcome::Success
                        });
                        record.ended = Some(ended);
                        record.detail = Some(detail);
                        let result = match runner.audit.clone() {
                            Some(audit) => append(&audit, record.clone())
                                .await
                                .map_err(|e| format!("{}: {e}", audit.path().display())),
                            None => Err("no audit log is open".to_string()),
                        };
                        match &result {
                            Ok(()) => {
                                runner.ship(env, &record, None);
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "the outcome was not recorded");
                            }
                        }
                        let _ = runner.tx.send(Action::OutcomeAudited { id, result });
                    }
                    .instrument(span),
                );
            }
            // --- metrics
            Effect::FetchMetrics {
                env,
                generation,
                range,
                start,
                end,
                queries,
            } => {
                let span = tracing::info_span!("metrics", env, generation, queries = queries.len());
                tokio::spawn(
                    async move {
                        let result = match runner.backend(env) {
                            Ok(b) => runner
                                .bounded(b.metric_data(&queries, start, end))
                                .await
                                .map(|series| {
                                    Data::Metrics(crate::metrics::MetricsData {
                                        range,
                                        start,
                                        end,
                                        queries,
                                        series,
                                    })
                                }),
                            Err(e) => Err(e),
                        };
                        if let Err(e) = &result {
                            tracing::warn!(error = %e, "metrics fetch failed");
                        }
                        let _ = runner.tx.send(Action::Loaded {
                            env,
                            resource: Resource::Metrics,
                            generation,
                            at: runner.clock.now(),
                            result,
                        });
                        runner.send_stats(env);
                    }
                    .instrument(span),
                );
            }
            Effect::FetchAlarmHistory {
                env,
                alarm,
                generation,
            } => {
                let span = tracing::info_span!("alarm_history", env, %alarm);
                tokio::spawn(
                    async move {
                        let result = match runner.backend(env) {
                            Ok(b) => runner.bounded(b.alarm_history(&alarm)).await,
                            Err(e) => Err(e),
                        };
                        let _ = runner.tx.send(Action::AlarmHistoryLoaded {
                            env,
                            alarm,
                            generation,
                            at: runner.clock.now(),
                            result,
                        });
                        runner.send_stats(env);
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
            // --- probes
            Effect::Probe {
                env,
                probe,
                generation,
            } => {
                let Some(rt) = self.envs.get(env) else {
                    return;
                };
                let Some(check) = rt.config.health_checks.get(probe).cloned() else {
                    return;
                };
                let prober = rt.prober.clone();
                let span = tracing::info_span!("probe", env, probe, url = %check.url);
                tokio::spawn(
                    async move {
                        let report = crate::probe::run(prober.as_ref(), &check).await;
                        if let Err(e) = &report.outcome {
                            tracing::debug!(error = %e, "probe failed");
                        }
                        let _ = runner.tx.send(Action::ProbeDone {
                            env,
                            probe,
                            generation,
                            at: runner.clock.now(),
                            report,
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

    // --- logs
    /// One poll of the logs view: up to `MAX_PAGES_PER_POLL` pages of each
    /// query; a query cut off there keeps its token for the next poll.
    async fn fetch_logs(
        &self,
        env: usize,
        queries: Vec<crate::domain::LogQuery>,
    ) -> BackendResult<crate::logs::LogBatch> {
        let b = self.backend(env)?;
        let mut events = Vec::new();
        let mut tokens = Vec::with_capacity(queries.len());
        for mut q in queries {
            let mut left = None;
            for _ in 0..crate::logs::MAX_PAGES_PER_POLL {
                let page = self.bounded(b.log_events(&q)).await?;
                events.extend(page.events);
                match page.next_token {
                    Some(t) => {
                        left = Some((t.clone(), q.start));
                        q.next_token = Some(t);
                    }
                    None => {
                        left = None;
                        break;
                    }
                }
            }
            tokens.push(left);
        }
        Ok(crate::logs::LogBatch { events, tokens })
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

    /// Records the intent (synced to disk), sends the operation unless this
    /// is a dry run, records the result. Nothing is sent when the intent
    /// cannot be recorded.
    async fn operate(
        &self,
        id: &str,
        env: usize,
        op: &Operation,
        dry_run: bool,
        ctx: &AuditContext,
    ) -> Result<OpOutcome, String> {
        let Some(audit) = self.audit.clone() else {
            return Err("no audit log is open, so nothing was sent".to_string());
        };
        let mut record = record_of(id, op, ctx, self.clock.now());
        record.dry_run = dry_run;
        if let Err(e) = append(&audit, record.clone()).await {
            return Err(format!(
                "the audit log {} cannot be written ({e}), so nothing was sent",
                audit.path().display()
            ));
        }
        let shipped_intent = self.ship(env, &record, None);
        let result = if dry_run {
            Ok(OpOutcome::DryRun)
        } else {
            self.send(env, op).await
        };
        record.time = self.clock.now();
        record.phase = audit::Phase::Result;
        match &result {
            Ok(OpOutcome::DryRun) => record.outcome = Some(audit::Outcome::DryRun),
            Ok(outcome) => {
                record.outcome = Some(audit::Outcome::Success);
                record.result = outcome_json(outcome);
            }
            Err(e) => {
                record.outcome = Some(audit::Outcome::Error);
                record.error = Some(e.clone());
            }
        }
        let appended = append(&audit, record.clone()).await;
        self.ship(env, &record, shipped_intent);
        if let Err(e) = appended {
            // The call was made: report its result, and the log's failure.
            tracing::error!(error = %e, "the result could not be recorded in the audit log");
            return match result {
                Ok(o) => Ok(o),
                Err(err) => Err(format!(
                    "{err} (and the audit log could not record it: {e})"
                )),
            };
        }
        result
    }

    /// Sends an operation's requests.
    async fn send(&self, env: usize, op: &Operation) -> Result<OpOutcome, String> {
        let b = self.backend(env).map_err(|e| e.to_string())?;
        // A timeout on a mutating call leaves its effect unknown: say so.
        let unknown = |e: BackendError| match e {
            BackendError::Unavailable { message } if message.starts_with("no answer") => format!(
                "{message}; the change may or may not have been applied: check before retrying"
            ),
            other => other.to_string(),
        };
        let update = |cluster: &str, service: &str, u: ServiceUpdate| {
            let (c, s) = (cluster.to_string(), service.to_string());
            async move { self.bounded(b.update_service(&c, &s, u)).await }
        };
        match op {
            Operation::Scale {
                cluster,
                service,
                to,
                ..
            } => update(
                cluster,
                service,
                ServiceUpdate {
                    desired_count: Some(*to),
                    ..ServiceUpdate::default()
                },
            )
            .await
            .map(|s| OpOutcome::Service(Box::new(s)))
            .map_err(unknown),
            Operation::ScalingBounds {
                cluster,
                service,
                to,
                ..
            } => self
                .bounded(b.set_scaling_bounds(cluster, service, to.0, to.1))
                .await
                .map(OpOutcome::Scaling)
                .map_err(unknown),
            Operation::DeployImage {
                cluster,
                service,
                base,
                container,
                to,
                ..
            } => {
                let td = self
                    .bounded(b.register_task_definition(ImageChange {
                        base: base.clone(),
                        images: vec![(container.clone(), to.clone())],
                    }))
                    .await
                    .map_err(|e| format!("{}; the service was not changed", unknown(e)))?;
                let label = task_definition_label(&td.arn).to_string();
                let s = update(
                    cluster,
                    service,
                    ServiceUpdate {
                        task_definition: Some(td.arn.clone()),
                        ..ServiceUpdate::default()
                    },
                )
                .await
                .map_err(|e| {
                    format!(
                        "registered {label}, but UpdateService failed: {}; {service} still runs {} \
                         (b can roll it to {label} once the cause is fixed)",
                        unknown(e),
                        task_definition_label(base)
                    )
                })?;
                Ok(OpOutcome::Deployed {
                    task_definition: td.arn,
                    service: Box::new(s),
                })
            }
            Operation::Rollback {
                cluster,
                service,
                to,
                ..
            } => update(
                cluster,
                service,
                ServiceUpdate {
                    task_definition: Some(to.clone()),
                    ..ServiceUpdate::default()
                },
            )
            .await
            .map(|s| OpOutcome::Service(Box::new(s)))
            .map_err(unknown),
            Operation::Restart {
                cluster, service, ..
            } => update(
                cluster,
                service,
                ServiceUpdate {
                    force_new_deployment: true,
                    ..ServiceUpdate::default()
                },
            )
            .await
            .map(|s| OpOutcome::Service(Box::new(s)))
            .map_err(unknown),
            Operation::Snapshot {
                instance,
                snapshot_id,
            } => self
                .bounded(b.create_db_snapshot(instance, snapshot_id))
                .await
                .map(OpOutcome::Snapshot)
                .map_err(unknown),
            Operation::Reboot { instance, failover } => self
                .bounded(b.reboot_db_instance(instance, *failover))
                .await
                .map(|d| OpOutcome::Database(Box::new(d)))
                .map_err(unknown),
            Operation::AlarmActions { alarm, enable } => self
                .bounded(b.set_alarm_actions(std::slice::from_ref(alarm), *enable))
                .await
                .map(|()| OpOutcome::AlarmActions)
                .map_err(unknown),
        }
    }

    /// Fetches one resource kind of an environment; services, scaling and
    /// tasks across `clusters` (the configured ones, else those
    /// discovered), each filtered to the services configured for its
    /// cluster.
    async fn fetch(
        &self,
        env: usize,
        resource: Resource,
        clusters: &[String],
    ) -> BackendResult<Data> {
        let rt = self.envs.get(env).ok_or_else(|| BackendError::Other {
            message: format!("no environment #{env}"),
        })?;
        let b = &rt.backend;
        let cfg = &rt.config;
        // The services configured for a cluster; empty: all of them.
        let only = |cluster: &str| -> &[String] {
            cfg.clusters
                .iter()
                .find(|c| c.name == cluster)
                .map_or(&[], |c| c.services.as_slice())
        };
        let wanted = |only: &[String], service: Option<&str>| {
            only.is_empty() || service.is_some_and(|n| only.iter().any(|s| s == n))
        };
        // A discovered cluster deleted since it was listed has nothing left
        // to show (the next ListClusters drops it); a configured one that
        // is missing is an error the operator must see.
        let gone = |r: &BackendError| {
            cfg.clusters.is_empty() && matches!(r, BackendError::NotFound { .. })
        };
        Ok(match resource {
            Resource::Identity => Data::Identity(self.bounded(b.caller_identity()).await?),
            Resource::Clusters => Data::Clusters(self.bounded(b.list_clusters()).await?),
            Resource::Services => {
                let mut all = Listing::default();
                for c in clusters {
                    let mut l = match self.bounded(b.services(c)).await {
                        Err(e) if gone(&e) => continue,
                        r => r?,
                    };
                    let only = only(c);
                    l.items.retain(|s| wanted(only, Some(&s.name)));
                    all.items.extend(l.items);
                    all.failures.extend(l.failures);
                }
                Data::Services(all)
            }
            Resource::Scaling => {
                // One pass for every cluster (the API lists the region's).
                let mut all = self.bounded(b.scalable_targets(clusters)).await?;
                all.retain(|t| wanted(only(t.cluster_name().unwrap_or("")), t.service_name()));
                Data::Scaling(all)
            }
            Resource::Tasks => {
                let mut all = Listing::default();
                for c in clusters {
                    let mut l = match self.bounded(b.tasks(c)).await {
                        Err(e) if gone(&e) => continue,
                        r => r?,
                    };
                    let only = only(c);
                    l.items.retain(|t| wanted(only, t.service_name()));
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
            // --- metrics
            Resource::Metrics => {
                return Err(BackendError::Other {
                    message: "metrics are fetched in one batch: Effect::FetchMetrics".to_string(),
                });
            }
            Resource::Targets => {
                // Target groups are named by the services: Effect::FetchTargets.
                return Err(BackendError::Other {
                    message: "target health is fetched per target group".to_string(),
                });
            }
        })
    }
}

/// An intent record of an operation: who, where, what and the exact calls.
/// Results and final records are made from it.
fn record_of(
    id: &str,
    op: &Operation,
    ctx: &AuditContext,
    time: crate::domain::Timestamp,
) -> audit::Record {
    audit::Record {
        time,
        phase: audit::Phase::Intent,
        id: id.to_string(),
        environment: ctx.environment.clone(),
        simulated: ctx.simulated,
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        caller: ctx.caller.clone(),
        operation: op.name().to_string(),
        resource: op.resource().to_string(),
        calls: op.calls(),
        parameters: op.parameters(),
        before: Some(ctx.before.clone()),
        after: Some(ctx.after.clone()),
        dry_run: false,
        outcome: None,
        result: serde_json::Value::Null,
        error: None,
        ended: None,
        detail: None,
    }
}

/// Appends a record on a blocking thread (it syncs to disk).
async fn append(audit: &Arc<AuditLog>, record: audit::Record) -> std::io::Result<()> {
    let audit = audit.clone();
    tokio::task::spawn_blocking(move || audit.append(&record))
        .await
        .map_err(std::io::Error::other)?
}

/// What the API returned, for the audit log's result record.
fn outcome_json(outcome: &OpOutcome) -> serde_json::Value {
    use serde_json::json;
    let service = |s: &crate::domain::Service| {
        json!({
            "serviceArn": s.arn,
            "taskDefinition": s.task_definition,
            "desiredCount": s.desired_count,
            "deployment": s.primary_deployment().map(|d| d.id.clone()),
        })
    };
    match outcome {
        OpOutcome::DryRun | OpOutcome::AlarmActions => serde_json::Value::Null,
        OpOutcome::Service(s) => service(s),
        OpOutcome::Deployed {
            task_definition,
            service: s,
        } => json!({ "registered": task_definition, "service": service(s) }),
        OpOutcome::Scaling(t) => json!({
            "resourceId": t.resource_id, "minCapacity": t.min_capacity, "maxCapacity": t.max_capacity,
        }),
        OpOutcome::Snapshot(s) => json!({
            "DBSnapshotArn": s.arn, "DBSnapshotIdentifier": s.id, "status": s.status,
        }),
        OpOutcome::Database(d) => json!({ "DBInstanceArn": d.arn, "status": d.status }),
    }
}

/// The polling interval of a resource kind.
pub fn interval_of(resource: Resource, intervals: &RefreshIntervals) -> Duration {
    match resource {
        // The caller identity changes only when credentials do.
        Resource::Identity => Duration::from_secs(300),
        // Discovered clusters are refreshed as often as their services.
        Resource::Clusters => intervals.services(),
        Resource::Services | Resource::Scaling | Resource::Targets => intervals.services(),
        Resource::Tasks => intervals.tasks(),
        Resource::Databases | Resource::Snapshots => intervals.databases(),
        Resource::Alarms => intervals.alarms(),
        // --- metrics
        Resource::Metrics => intervals.metrics(),
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
            let env = *env;
            tick(tx, cancel, delay, period, move || Action::PollDue {
                env,
                resource,
            });
        }
    }
}

/// Sends `action()` every `period`, the first after `delay`, until `cancel`
/// or the receiver is gone; a late tick is delayed, never bunched.
pub fn tick(
    tx: &UnboundedSender<Action>,
    cancel: &CancellationToken,
    delay: Duration,
    period: Duration,
    action: impl Fn() -> Action + Send + 'static,
) {
    let tx = tx.clone();
    let cancel = cancel.clone();
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + delay;
        let mut ticker = tokio::time::interval_at(start, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = ticker.tick() => {
                    if tx.send(action()).is_err() {
                        break;
                    }
                }
            }
        }
    });
}
