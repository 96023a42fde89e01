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
use crate::backend::{Backend, BackendError, BackendResult, CALL_TIMEOUT, MUTATION_TIMEOUT};
use crate::backend::{ImageChange, ServiceUpdate, read};
use crate::clock::Clock;
use crate::config::{EnvironmentConfig, RefreshIntervals};
use crate::domain::task_definition_label;
use crate::domain::{PowerAction, Timestamp};
use crate::effect::AuditContext;
use crate::effect::Effect;
use crate::kind::{Kind, Registered, Scope, with_kind};
use crate::ops::Operation;
use crate::reconcile::{self, ReadBack, Verdict};
use crate::supervise::{contained, join_error};

/// One environment as the runner sees it: its configuration and backend.
#[derive(Clone)]
pub struct EnvRuntime {
    pub config: EnvironmentConfig,
    pub backend: Arc<dyn Backend>,
    // --- probes
    /// Answers the environment's health checks.
    pub prober: Arc<dyn crate::probe::Prober>,
}

/// Whether the backend's request counters are sent after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counters {
    Send,
    Skip,
}

/// Carries out effects; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    envs: Arc<Vec<EnvRuntime>>,
    tx: UnboundedSender<Action>,
    timeout: Duration,
    /// The one deadline of a mutating request.
    mutation_timeout: Duration,
    /// Pauses between reads back of an unanswered change that does not
    /// show yet.
    recheck: Vec<Duration>,
    /// Stamps results; a manual clock in tests makes data ages reproducible.
    clock: Clock,
    /// Where operations are recorded before they are sent.
    audit: Option<Arc<AuditLog>>,
    /// This session's stream in an environment's shared audit log group.
    audit_stream: String,
    /// This session's recording of the timeline.
    recorder: Option<Arc<crate::recording::Recorder>>,
    /// The shared timeline failed once this session (said once).
    trail_warned: Arc<std::sync::atomic::AtomicBool>,
    /// Where the session-manager-plugin is looked for (`None`: `PATH`).
    plugin_search: Option<std::ffi::OsString>,
    /// The simulation a drill runs on.
    drill: Option<Arc<crate::backend::sim::SimBackend>>,
    /// Instances restored this session, by environment: read with the
    /// configured `rds_instances` (which cannot name them yet), so that a
    /// restore is followed to its end and stays in view.
    restored: Arc<std::sync::Mutex<std::collections::BTreeMap<usize, Vec<String>>>>,
}

impl Runner {
    pub fn new(envs: Vec<EnvRuntime>, tx: UnboundedSender<Action>, clock: Clock) -> Self {
        Self {
            envs: Arc::new(envs),
            tx,
            timeout: CALL_TIMEOUT,
            mutation_timeout: MUTATION_TIMEOUT,
            recheck: vec![Duration::from_secs(2), Duration::from_secs(5)],
            clock,
            audit: None,
            audit_stream: String::new(),
            recorder: None,
            trail_warned: Arc::default(),
            plugin_search: None,
            drill: None,
            restored: Arc::default(),
        }
    }

    /// Where the session-manager-plugin is looked for instead of `PATH`
    /// (tests).
    pub fn set_plugin_search(&mut self, search: std::ffi::OsString) {
        self.plugin_search = Some(search);
    }

    /// Sets the recording timeline events are appended to.
    pub fn set_recorder(&mut self, recorder: Arc<crate::recording::Recorder>) {
        self.recorder = Some(recorder);
    }

    /// The simulation a drill runs on (answers `Effect::DrillCheck`).
    pub fn set_drill(&mut self, sim: Arc<crate::backend::sim::SimBackend>) {
        self.drill = Some(sim);
    }

    /// Sets the deadline of a mutating request (tests shorten it).
    pub fn set_mutation_timeout(&mut self, timeout: Duration) {
        self.mutation_timeout = timeout;
    }

    /// Sets the pauses between reads back of an unanswered change.
    pub fn set_read_back_pauses(&mut self, pauses: Vec<Duration>) {
        self.recheck = pauses;
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
            let put = async {
                let logs = backend.logs_changes()?;
                read::bounded(timeout, logs.put_audit_records(&group, &stream, &records)).await
            };
            let result = put.await;
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

    /// Also puts timeline events (derived events, operations, notes and
    /// marks) into their environment's shared audit log group, if it has
    /// one, so `timeline export --from-cloudwatch` tells the team one story
    /// (see [`trail`](crate::trail)). Best effort, like the audit records:
    /// the local recording is the one that must be written; the first
    /// failure of a session is shown to the operator.
    fn ship_timeline(&self, events: &[crate::timeline::Event]) {
        // The session's stream is named with the audit log (no audit, no
        // shared trail: nothing is sent without one).
        if self.audit_stream.is_empty() {
            return;
        }
        for rt in self.envs.iter() {
            let Some(group) = rt.config.audit_log_group.clone() else {
                continue;
            };
            let mut records: Vec<(Timestamp, String)> = events
                .iter()
                .filter(|e| e.env == rt.config.name)
                .filter_map(|e| crate::trail::message(e).map(|m| (e.time, m)))
                .collect();
            if records.is_empty() {
                continue;
            }
            // PutLogEvents wants a batch in time order.
            records.sort_by_key(|(time, _)| *time);
            let backend = rt.backend.clone();
            let stream = self.audit_stream.clone();
            let tx = self.tx.clone();
            let timeout = self.timeout;
            let warned = self.trail_warned.clone();
            tokio::spawn(contained(async move {
                let put = async {
                    let logs = backend.logs_changes()?;
                    read::bounded(timeout, logs.put_audit_records(&group, &stream, &records)).await
                };
                let result = put.await;
                match result {
                    // A read-only environment sends nothing, this included.
                    Ok(()) | Err(BackendError::ReadOnly { .. }) => {}
                    Err(e) => {
                        tracing::warn!(%group, error = %e, "the shared timeline was not written");
                        if !warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                            let _ = tx.send(Action::Notice {
                                text: format!(
                                    "shared timeline {group} (CloudWatch Logs) not written: {e}; the local recording has it"
                                ),
                                error: true,
                            });
                        }
                    }
                }
            }));
        }
    }

    /// Runs `work` on a task of its own and sends `answer(at, output)`, `at`
    /// read from the clock when it is done; then, with
    /// [`Counters::Send`], the backend's request counters of `env`. A panic
    /// in `work` (caught as the task's `JoinError`, see
    /// [`supervise`](crate::supervise)) is logged and its output is
    /// `on_panic(message)` instead, so every effect gets its one answer and
    /// the console goes on.
    fn run<O, W, P, A>(
        &self,
        span: tracing::Span,
        env: usize,
        counters: Counters,
        work: W,
        on_panic: P,
        answer: A,
    ) where
        O: Send + 'static,
        W: Future<Output = O> + Send + 'static,
        P: FnOnce(String) -> O + Send + 'static,
        A: FnOnce(Timestamp, O) -> Action + Send + 'static,
    {
        let runner = self.clone();
        tokio::spawn(async move {
            let task = tokio::spawn(contained(work.instrument(span.clone())));
            let output = match task.await {
                Ok(output) => output,
                Err(e) => {
                    let text = join_error(e);
                    tracing::error!(parent: &span, error = %text, "an effect failed");
                    on_panic(text)
                }
            };
            let _ = runner.tx.send(answer(runner.clock.now(), output));
            if counters == Counters::Send {
                // Reading the counters runs the backend's code too.
                let r = runner.clone();
                let _ = tokio::spawn(contained(async move { r.send_stats(env) })).await;
            }
        });
    }

    /// [`run`](Self::run) for backend calls: `work` (each call in it
    /// bounded by the timeout) answers a `BackendResult`; its failure is
    /// logged as `failure` says (`None`: the reducer says it), a panic is
    /// an internal error.
    fn call<T, W, A>(
        &self,
        span: tracing::Span,
        env: usize,
        counters: Counters,
        failure: Option<&'static str>,
        work: W,
        answer: A,
    ) where
        T: Send + 'static,
        W: Future<Output = BackendResult<T>> + Send + 'static,
        A: FnOnce(Timestamp, BackendResult<T>) -> Action + Send + 'static,
    {
        let work = async move {
            let result = work.await;
            if let (Err(e), Some(what)) = (&result, failure) {
                tracing::warn!(error = %e, "{what} failed");
            }
            result
        };
        let on_panic = |message: String| Err(BackendError::Other { message });
        self.run(span, env, counters, work, on_panic, answer);
    }

    /// Starts one effect on its own task. `Quit` is handled by the loop.
    pub fn spawn(&self, effect: Effect) {
        let runner = self.clone();
        match effect {
            Effect::Quit => {}
            // --- drills: a read of the simulation's own state (no I/O),
            // answered at once.
            Effect::DrillCheck { .. } => {
                let status = self.drill.as_ref().and_then(|d| d.drill_status());
                let _ = self.tx.send(Action::DrillChecked(status));
            }
            Effect::Record { events } => {
                self.ship_timeline(&events);
                if let Some(r) = &self.recorder {
                    r.record(events);
                }
            }
            // --- logs
            Effect::FetchLogs {
                env,
                generation,
                queries,
            } => self.call(
                tracing::info_span!("logs", env, generation),
                env,
                Counters::Send,
                Some("logs fetch"),
                async move {
                    let b = runner.backend(env)?;
                    read::log_batch(b.as_ref(), queries, runner.timeout).await
                },
                move |at, result| Action::LogsLoaded {
                    generation,
                    at,
                    result,
                },
            ),
            Effect::Fetch {
                env,
                resource,
                generation,
                clusters,
            } => self.call(
                tracing::info_span!("fetch", env, resource = resource.label(), generation),
                env,
                Counters::Send,
                Some("fetch"),
                async move { runner.fetch(env, resource, &clusters).await },
                move |at, result| Action::Loaded {
                    env,
                    resource,
                    generation,
                    at,
                    result,
                },
            ),
            Effect::FetchTargets {
                env,
                generation,
                arns,
            } => self.call(
                tracing::info_span!("targets", env, generation),
                env,
                Counters::Send,
                None,
                async move {
                    let b = runner.backend(env)?;
                    runner.bounded(b.elb()?.target_groups(&arns)).await.map(Data::Targets)
                },
                move |at, result| Action::Loaded {
                    env,
                    resource: Resource::Targets,
                    generation,
                    at,
                    result,
                },
            ),
            Effect::FetchTaskDefinition { env, arn } => self.call(
                tracing::info_span!("task_definition", env, %arn),
                env,
                Counters::Skip,
                None,
                {
                    let arn = arn.clone();
                    async move {
                        let b = runner.backend(env)?;
                        runner.bounded(b.ecs()?.task_definition(&arn)).await
                    }
                },
                move |_, result| Action::TaskDefinitionLoaded { env, arn, result },
            ),
            Effect::Operate {
                id,
                env,
                op,
                dry_run,
                context,
            } => self.run(
                tracing::info_span!("operate", env, %id, operation = op.name(), resource = op.resource()),
                env,
                Counters::Send,
                {
                    let id = id.clone();
                    async move {
                        let done = runner.operate(&id, env, &op, dry_run, &context).await;
                        if let (
                            Ok(OpOutcome::Database(_)),
                            Operation::RestoreSnapshot { target, .. }
                            | Operation::RestoreTime { target, .. },
                        ) = (&done.0, op.as_ref())
                        {
                            runner.note_restored(env, target);
                        }
                        match &done.0 {
                            Ok(_) => tracing::info!("operation accepted"),
                            Err(e) => tracing::warn!(error = %e, "operation failed"),
                        }
                        done
                    }
                },
                |text| {
                    let result = Err(format!(
                        "{text}; the change may or may not have been applied: check it \
                         before retrying"
                    ));
                    (result, None)
                },
                move |at, (result, read_back)| Action::OperationDone {
                    id,
                    at,
                    result,
                    read_back,
                },
            ),
            Effect::CheckImage { env, image, ecr } => self.call(
                tracing::info_span!("check-image", env, %image),
                env,
                Counters::Send,
                Some("image check"),
                async move {
                    let b = runner.backend(env)?;
                    runner.bounded(b.ecr()?.describe_image(&ecr)).await
                },
                move |_, result| Action::ImageChecked { env, image, result },
            ),
            Effect::Reconcile { env, record } => {
                let id = record.id.clone();
                self.run(
                    tracing::info_span!("reconcile", env, %id),
                    env,
                    Counters::Send,
                    async move { runner.reconcile_earlier(env, *record).await },
                    Err,
                    move |_, result| Action::Reconciled {
                        id,
                        result: result.map(Box::new),
                    },
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
            } => self.run(
                tracing::info_span!("audit-outcome", env, %id, ended = %ended),
                env,
                Counters::Skip,
                {
                    let id = id.clone();
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
                            Some(audit) => append(&audit, record.clone(), runner.recorder.as_ref())
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
                        result
                    }
                },
                Err,
                move |_, result| Action::OutcomeAudited { id, result },
            ),
            // --- metrics
            Effect::FetchMetrics {
                env,
                generation,
                range,
                start,
                end,
                queries,
            } => self.call(
                tracing::info_span!("metrics", env, generation, queries = queries.len()),
                env,
                Counters::Send,
                Some("metrics fetch"),
                async move {
                    let b = runner.backend(env)?;
                    let series = runner.bounded(b.cloudwatch()?.metric_data(&queries, start, end)).await?;
                    Ok(Data::Metrics(crate::metrics::MetricsData {
                        range,
                        start,
                        end,
                        queries,
                        series,
                    }))
                },
                move |at, result| Action::Loaded {
                    env,
                    resource: Resource::Metrics,
                    generation,
                    at,
                    result,
                },
            ),
            Effect::FetchAlarmHistory {
                env,
                alarm,
                generation,
            } => self.call(
                tracing::info_span!("alarm_history", env, %alarm),
                env,
                Counters::Send,
                None,
                {
                    let alarm = alarm.clone();
                    async move {
                        let b = runner.backend(env)?;
                        runner.bounded(b.cloudwatch()?.alarm_history(&alarm)).await
                    }
                },
                move |at, result| Action::AlarmHistoryLoaded {
                    env,
                    alarm,
                    generation,
                    at,
                    result,
                },
            ),
            Effect::FetchRevisions {
                env,
                family,
                generation,
            } => self.call(
                tracing::info_span!("revisions", env, %family),
                env,
                Counters::Skip,
                None,
                {
                    let family = family.clone();
                    async move {
                        let b = runner.backend(env)?;
                        runner.bounded(b.ecs()?.task_definition_revisions(&family)).await
                    }
                },
                move |at, result| Action::RevisionsLoaded {
                    env,
                    family,
                    generation,
                    at,
                    result,
                },
            ),
            // --- probes
            Effect::Probe {
                env,
                probe,
                generation,
            } => {
                let rt = self.envs.get(env);
                let check = rt.and_then(|rt| rt.config.health_checks.get(probe).cloned());
                let url = check.as_ref().map(|c| c.url.clone()).unwrap_or_default();
                let prober = rt.map(|rt| rt.prober.clone());
                let failed = |text: String| {
                    crate::probe::ProbeReport::failed(crate::probe::ProbeError::Connect(text))
                };
                self.run(
                    tracing::info_span!("probe", env, probe, %url),
                    env,
                    Counters::Skip,
                    async move {
                        // Every probe is answered, even one of a check
                        // that is not configured (the reducer ignores it).
                        let (Some(prober), Some(check)) = (prober, check) else {
                            return failed(format!("no health check #{probe} in environment #{env}"));
                        };
                        let report = crate::probe::run(prober.as_ref(), &check).await;
                        if let Err(e) = &report.outcome {
                            tracing::debug!(error = %e, "probe failed");
                        }
                        report
                    },
                    failed,
                    move |at, report| Action::ProbeDone {
                        env,
                        probe,
                        generation,
                        at,
                        report,
                    },
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
        read::bounded(self.timeout, fut).await
    }

    /// Records the intent (synced to disk), sends the operation unless this
    /// is a dry run, records the result. Nothing is sent when the intent
    /// cannot be recorded. A request that goes unanswered is never sent
    /// again: its resource is read back, and the result (and the audit
    /// record) says applied, not applied or unknown.
    async fn operate(
        &self,
        id: &str,
        env: usize,
        op: &Operation,
        dry_run: bool,
        ctx: &AuditContext,
    ) -> (Result<OpOutcome, String>, Option<ReadBack>) {
        let Some(audit) = self.audit.clone() else {
            return (
                Err("no audit log is open, so nothing was sent".to_string()),
                None,
            );
        };
        let mut record = record_of(id, op, ctx, self.clock.now());
        record.dry_run = dry_run;
        if let Err(e) = append(&audit, record.clone(), self.recorder.as_ref()).await {
            return (
                Err(format!(
                    "the audit log {} cannot be written ({e}), so nothing was sent",
                    audit.path().display()
                )),
                None,
            );
        }
        let shipped_intent = self.ship(env, &record, None);
        let since = record.time;
        let (result, read_back) = if dry_run {
            (Ok(OpOutcome::DryRun), None)
        } else {
            self.send(id, env, op, since).await
        };
        record.time = self.clock.now();
        record.phase = audit::Phase::Result;
        record.read_back.clone_from(&read_back);
        match &result {
            Ok(OpOutcome::DryRun) => record.outcome = Some(audit::Outcome::DryRun),
            Ok(outcome) => {
                record.outcome = Some(audit::Outcome::Success);
                record.result = outcome_json(outcome);
            }
            Err(e) => {
                record.outcome = Some(match &read_back {
                    Some(rb) if rb.verdict == Verdict::Unknown => audit::Outcome::Unknown,
                    _ => audit::Outcome::Error,
                });
                record.error = Some(e.clone());
            }
        }
        let appended = append(&audit, record.clone(), self.recorder.as_ref()).await;
        self.ship(env, &record, shipped_intent);
        if let Err(e) = appended {
            // The call was made: report its result, and the log's failure.
            tracing::error!(error = %e, "the result could not be recorded in the audit log");
            return match result {
                Ok(o) => (Ok(o), read_back),
                Err(err) => (
                    Err(format!(
                        "{err} (and the audit log could not record it: {e})"
                    )),
                    read_back,
                ),
            };
        }
        (result, read_back)
    }

    /// Sends one mutating request, once: on a task of its own (a panic in
    /// it is an unanswered request, not a crash) and bounded by the one
    /// deadline of a mutation. `Err(Ok(e))`: refused, not applied;
    /// `Err(Err(text))`: unanswered, it may have been applied.
    async fn mutate<T, F>(&self, call: &str, fut: F) -> Result<T, Result<BackendError, String>>
    where
        T: Send + 'static,
        F: Future<Output = BackendResult<T>> + Send + 'static,
    {
        let deadline = self.mutation_timeout;
        let task = tokio::spawn(contained(tokio::time::timeout(deadline, fut)));
        match task.await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) if reconcile::may_have_applied(&e) => Err(Err(e.to_string())),
            Ok(Ok(Err(e))) => Err(Ok(e)),
            Ok(Err(_)) => Err(Err(format!(
                "{call}: no answer within {}s",
                deadline.as_secs()
            ))),
            Err(e) => Err(Err(format!("{call}: {}", join_error(e)))),
        }
    }

    /// After an accepted CodeDeploy change: the deployment read back with
    /// GetDeployment (and its ECS target). The change was accepted, so a
    /// read that fails still reports it, with the deployment as far as
    /// the answer said.
    async fn code_deploy_read_back(
        &self,
        env: usize,
        deployment: &str,
        (cluster, service): (&str, &str),
        registered: Option<String>,
        said: &str,
    ) -> (Result<OpOutcome, String>, Option<ReadBack>) {
        let read = match self.backend(env) {
            Ok(b) => {
                let b = b.clone();
                let (id, c, s) = (
                    deployment.to_string(),
                    cluster.to_string(),
                    service.to_string(),
                );
                self.bounded(async move { b.codedeploy()?.deployment(&id, Some((&c, &s))).await })
                    .await
            }
            Err(e) => Err(e),
        };
        let d = match read {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(
                    deployment,
                    kind = e.kind(),
                    "GetDeployment after the change failed"
                );
                crate::domain::CdDeployment {
                    id: deployment.to_string(),
                    status: format!("{said} (GetDeployment failed: {e})"),
                    creator: None,
                    description: None,
                    created_at: None,
                    completed_at: None,
                    error: None,
                    rollback: None,
                    status_messages: Vec::new(),
                    task_definition: registered.clone(),
                    target: None,
                }
            }
        };
        (
            Ok(OpOutcome::CodeDeploy {
                task_definition: registered,
                deployment: Box::new(d),
            }),
            None,
        )
    }

    /// A CODE_DEPLOY service's deploy, its revision registered: CodeDeploy
    /// `CreateDeployment` with an AppSpec naming it, sent once, then read
    /// back; unanswered, the deployment is looked for by its description.
    async fn code_deploy_create(
        &self,
        id: &str,
        env: usize,
        op: &Operation,
        since: Timestamp,
        (td, registration_read_back): (crate::domain::TaskDefinition, Option<ReadBack>),
        via: &crate::ops::ViaCodeDeploy,
    ) -> (Result<OpOutcome, String>, Option<ReadBack>) {
        let Operation::DeployImage {
            cluster,
            service,
            base,
            ..
        } = op
        else {
            return (Err("not a deploy".to_string()), None);
        };
        let b = match self.backend(env) {
            Ok(b) => b.clone(),
            Err(e) => return (Err(e.to_string()), None),
        };
        let label = task_definition_label(&td.arn).to_string();
        let create = crate::backend::CdCreate {
            application: via.application.clone(),
            deployment_group: via.deployment_group.clone(),
            appspec: crate::domain::appspec(&td.arn, &via.lb_container, via.lb_port),
            description: via.description.clone(),
        };
        let created = self
            .mutate("codedeploy:CreateDeployment", async move {
                b.codedeploy_changes()?.create_deployment(&create).await
            })
            .await;
        match created {
            Ok(deployment) => {
                let (outcome, _) = self
                    .code_deploy_read_back(
                        env,
                        &deployment,
                        (cluster, service),
                        Some(td.arn.clone()),
                        "created",
                    )
                    .await;
                (outcome, registration_read_back)
            }
            Err(Ok(e)) => (
                Err(format!(
                    "registered {label}, but CreateDeployment failed: {e}; {service} still runs {} \
                     (nothing was deployed)",
                    task_definition_label(base)
                )),
                None,
            ),
            Err(Err(why)) => {
                self.unanswered(id, &why);
                let (outcome, rb) = self.check(env, op, since, Some(&td.arn), why).await;
                match outcome {
                    Some(o) if rb.verdict == Verdict::Applied => (Ok(o), Some(rb)),
                    _ => (Err(rb.summary()), Some(rb)),
                }
            }
        }
    }

    /// Says an operation went unanswered (the console shows that it is
    /// being read back).
    fn unanswered(&self, id: &str, error: &str) {
        tracing::warn!(%error, "no answer: reading the change back");
        let _ = self.tx.send(Action::OperationUnanswered {
            id: id.to_string(),
            at: self.clock.now(),
            error: error.to_string(),
        });
    }

    /// Reads `op`'s resource back after an unanswered request: at once and,
    /// while the change does not show, again after each of `recheck` (a
    /// request may reach the server after the console gave up on it).
    async fn check(
        &self,
        env: usize,
        op: &Operation,
        since: Timestamp,
        registered: Option<&str>,
        unanswered: String,
    ) -> (Option<OpOutcome>, ReadBack) {
        let mut last = None;
        let pauses = std::iter::once(Duration::ZERO).chain(self.recheck.iter().copied());
        for pause in pauses {
            tokio::time::sleep(pause).await;
            let found = match self.backend(env) {
                Ok(b) => {
                    self.bounded(reconcile::read_back(b.as_ref(), op, since, registered))
                        .await
                }
                Err(e) => Err(e),
            };
            match found {
                Ok(f) if f.verdict == Verdict::Applied => {
                    last = Some(Ok(f));
                    break;
                }
                Ok(f) if f.verdict == Verdict::Unknown => {
                    last = Some(Ok(f));
                    break;
                }
                other => last = Some(other),
            }
        }
        let found = match last {
            Some(Ok(f)) => f,
            Some(Err(e)) => reconcile::Found {
                verdict: Verdict::Unknown,
                evidence: format!("it could not be read back: {e}"),
                outcome: None,
            },
            None => reconcile::Found {
                verdict: Verdict::Unknown,
                evidence: "it was not read back".to_string(),
                outcome: None,
            },
        };
        let read_back = ReadBack {
            unanswered,
            verdict: found.verdict,
            evidence: found.evidence,
        };
        (found.outcome, read_back)
    }

    /// Sends an operation's requests; an unanswered one is read back.
    async fn send(
        &self,
        id: &str,
        env: usize,
        op: &Operation,
        since: Timestamp,
    ) -> (Result<OpOutcome, String>, Option<ReadBack>) {
        let b = match self.backend(env) {
            Ok(b) => b.clone(),
            Err(e) => return (Err(e.to_string()), None),
        };
        // The answer of the (last) request, or what reading it back showed.
        let verdict = |(outcome, rb): (Option<OpOutcome>, ReadBack)| match outcome {
            Some(o) if rb.verdict == Verdict::Applied => (Ok(o), Some(rb)),
            _ => (Err(rb.summary()), Some(rb)),
        };
        if let Operation::DeployImage {
            cluster,
            service,
            base,
            container,
            to,
            via,
            ..
        } = op
        {
            let change = ImageChange {
                base: base.clone(),
                images: vec![(container.clone(), to.clone())],
            };
            let b2 = b.clone();
            let registered = self
                .mutate("ecs:RegisterTaskDefinition", async move {
                    b2.ecs_changes()?.register_task_definition(change).await
                })
                .await;
            // A registration that went unanswered: the revision it may have
            // registered is looked for before anything else is sent.
            let (td, registration_read_back) = match registered {
                Ok(td) => (td, None),
                Err(Ok(e)) => return (Err(format!("{e}; the service was not changed")), None),
                Err(Err(why)) => {
                    self.unanswered(id, &why);
                    match self.find_registration(env, op, since).await {
                        Ok(Some(td)) => {
                            let rb = ReadBack {
                                unanswered: why,
                                verdict: Verdict::Applied,
                                evidence: format!(
                                    "{} was registered with {to} (ListTaskDefinitions); \
                                     UpdateService is sent to it",
                                    task_definition_label(&td.arn)
                                ),
                            };
                            (td, Some(rb))
                        }
                        Ok(None) => {
                            let rb = ReadBack {
                                unanswered: why,
                                verdict: Verdict::NotApplied,
                                evidence: format!(
                                    "no revision after {} has {to} (ListTaskDefinitions): \
                                     nothing was registered, the service was not changed",
                                    task_definition_label(base)
                                ),
                            };
                            return (Err(rb.summary()), Some(rb));
                        }
                        Err(e) => {
                            let rb = ReadBack {
                                unanswered: why,
                                verdict: Verdict::Unknown,
                                evidence: format!(
                                    "the revisions of the family could not be read ({e}); \
                                     UpdateService was not sent"
                                ),
                            };
                            return (Err(rb.summary()), Some(rb));
                        }
                    }
                }
            };
            let label = task_definition_label(&td.arn).to_string();
            // A CODE_DEPLOY service: CodeDeploy deploys the new revision.
            if let Some(via) = via {
                return self
                    .code_deploy_create(id, env, op, since, (td, registration_read_back), via)
                    .await;
            }
            let (c, s, arn) = (cluster.clone(), service.clone(), td.arn.clone());
            let b2 = b.clone();
            let updated = self
                .mutate("ecs:UpdateService", async move {
                    b2.ecs_changes()?
                        .update_service(
                            &c,
                            &s,
                            ServiceUpdate {
                                task_definition: Some(arn),
                                ..ServiceUpdate::default()
                            },
                        )
                        .await
                })
                .await;
            return match updated {
                Ok(s) => (
                    Ok(OpOutcome::Deployed {
                        task_definition: td.arn,
                        service: Box::new(s),
                    }),
                    registration_read_back,
                ),
                Err(Ok(e)) => (
                    Err(format!(
                        "registered {label}, but UpdateService failed: {e}; {service} still runs {} \
                         (a rollback can move it to {label} once the cause is fixed)",
                        task_definition_label(base)
                    )),
                    None,
                ),
                Err(Err(why)) => {
                    self.unanswered(id, &why);
                    verdict(self.check(env, op, since, Some(&td.arn), why).await)
                }
            };
        }
        let sent = match op.clone() {
            Operation::Scale {
                cluster,
                service,
                to,
                ..
            } => {
                self.mutate("ecs:UpdateService", async move {
                    let u = ServiceUpdate {
                        desired_count: Some(to),
                        ..ServiceUpdate::default()
                    };
                    b.ecs_changes()?
                        .update_service(&cluster, &service, u)
                        .await
                        .map(|s| OpOutcome::Service(Box::new(s)))
                })
                .await
            }
            Operation::ScalingBounds {
                cluster,
                service,
                to,
                ..
            } => {
                self.mutate(
                    "application-autoscaling:RegisterScalableTarget",
                    async move {
                        b.scaling_changes()?
                            .set_scaling_bounds(&cluster, &service, to.0, to.1)
                            .await
                            .map(OpOutcome::Scaling)
                    },
                )
                .await
            }
            Operation::Rollback {
                cluster,
                service,
                to,
                ..
            } => {
                self.mutate("ecs:UpdateService", async move {
                    let u = ServiceUpdate {
                        task_definition: Some(to),
                        ..ServiceUpdate::default()
                    };
                    b.ecs_changes()?
                        .update_service(&cluster, &service, u)
                        .await
                        .map(|s| OpOutcome::Service(Box::new(s)))
                })
                .await
            }
            Operation::Restart {
                cluster, service, ..
            } => {
                self.mutate("ecs:UpdateService", async move {
                    let u = ServiceUpdate {
                        force_new_deployment: true,
                        ..ServiceUpdate::default()
                    };
                    b.ecs_changes()?
                        .update_service(&cluster, &service, u)
                        .await
                        .map(|s| OpOutcome::Service(Box::new(s)))
                })
                .await
            }
            Operation::Host {
                instance, action, ..
            } => {
                self.mutate(action.api(), async move {
                    let ec2 = b.ec2_changes()?;
                    match action {
                        PowerAction::Reboot => ec2.reboot_instance(&instance).await,
                        PowerAction::Stop => ec2.stop_instance(&instance).await,
                        PowerAction::Start => ec2.start_instance(&instance).await,
                    }
                    .map(|i| OpOutcome::Instance(Box::new(i)))
                })
                .await
            }
            Operation::CodeDeployStop {
                cluster,
                service,
                deployment,
                ..
            } => {
                let (b2, d2) = (b.clone(), deployment.clone());
                let stopped = self
                    .mutate("codedeploy:StopDeployment", async move {
                        b2.codedeploy_changes()?.stop_deployment(&d2, true).await
                    })
                    .await;
                match stopped {
                    Ok(said) => {
                        return self
                            .code_deploy_read_back(
                                env,
                                &deployment,
                                (&cluster, &service),
                                None,
                                &said,
                            )
                            .await;
                    }
                    Err(e) => Err(e),
                }
            }
            Operation::CodeDeployContinue {
                cluster,
                service,
                deployment,
                ..
            } => {
                let (b2, d2) = (b.clone(), deployment.clone());
                let continued = self
                    .mutate("codedeploy:ContinueDeployment", async move {
                        b2.codedeploy_changes()?.continue_deployment(&d2).await
                    })
                    .await;
                match continued {
                    Ok(()) => {
                        return self
                            .code_deploy_read_back(
                                env,
                                &deployment,
                                (&cluster, &service),
                                None,
                                "accepted",
                            )
                            .await;
                    }
                    Err(e) => Err(e),
                }
            }
            Operation::Invalidate {
                distribution,
                paths,
                caller_reference,
            } => {
                self.mutate("cloudfront:CreateInvalidation", async move {
                    b.cloudfront_changes()?
                        .create_invalidation(&distribution, &paths, &caller_reference)
                        .await
                        .map(OpOutcome::Invalidation)
                })
                .await
            }
            Operation::Snapshot {
                instance,
                snapshot_id,
            } => {
                self.mutate("rds:CreateDBSnapshot", async move {
                    b.rds_changes()?
                        .create_db_snapshot(&instance, &snapshot_id)
                        .await
                        .map(OpOutcome::Snapshot)
                })
                .await
            }
            Operation::Exec {
                cluster,
                task,
                container,
                command,
                ..
            } => {
                // The plugin first, as the CLI does: no session is opened
                // that nothing here could attach to.
                let search = self.plugin_search.clone();
                match tokio::task::spawn_blocking(move || crate::exec::check_plugin(search)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return (Err(e), None),
                    Err(e) => return (Err(join_error(e)), None),
                }
                let sent = self
                    .mutate("ecs:ExecuteCommand", async move {
                        b.ecs_changes()?
                            .execute_command(&cluster, &task, &container, &command)
                            .await
                            .map(|s| OpOutcome::Exec(Box::new(s)))
                    })
                    .await;
                // An unanswered one is not read back: a session leaves
                // nothing to read, and one never attached ends by itself.
                return match sent {
                    Ok(outcome) => (Ok(outcome), None),
                    Err(Ok(e)) => (Err(e.to_string()), None),
                    Err(Err(why)) => (
                        Err(format!(
                            "{why}; no session was attached here (one opened and never attached \
                             ends by itself)"
                        )),
                        None,
                    ),
                };
            }
            Operation::StopTask {
                cluster,
                task,
                reason,
                ..
            } => {
                self.mutate("ecs:StopTask", async move {
                    b.ecs_changes()?
                        .stop_task(&cluster, &task, &reason)
                        .await
                        .map(|t| OpOutcome::Task(Box::new(t)))
                })
                .await
            }
            Operation::Reboot { instance, failover } => {
                self.mutate("rds:RebootDBInstance", async move {
                    b.rds_changes()?
                        .reboot_db_instance(&instance, failover)
                        .await
                        .map(|d| OpOutcome::Database(Box::new(d)))
                })
                .await
            }
            Operation::RestoreSnapshot {
                snapshot,
                target,
                settings,
                ..
            } => {
                let restore = crate::backend::DbRestore {
                    target,
                    from: crate::backend::RestoreFrom::Snapshot(snapshot),
                    settings: *settings,
                };
                self.mutate(restore.api(), async move {
                    b.rds_changes()?
                        .restore_db_instance(&restore)
                        .await
                        .map(|d| OpOutcome::Database(Box::new(d)))
                })
                .await
            }
            Operation::RestoreTime {
                source,
                time,
                target,
                settings,
            } => {
                let restore = crate::backend::DbRestore {
                    target,
                    from: crate::backend::RestoreFrom::PointInTime { source, time },
                    settings: *settings,
                };
                self.mutate(restore.api(), async move {
                    b.rds_changes()?
                        .restore_db_instance(&restore)
                        .await
                        .map(|d| OpOutcome::Database(Box::new(d)))
                })
                .await
            }
            Operation::Promote { instance, .. } => {
                self.mutate("rds:PromoteReadReplica", async move {
                    b.rds_changes()?
                        .promote_read_replica(&instance)
                        .await
                        .map(|d| OpOutcome::Database(Box::new(d)))
                })
                .await
            }
            Operation::AlarmActions { alarm, enable } => {
                let call = if enable {
                    "cloudwatch:EnableAlarmActions"
                } else {
                    "cloudwatch:DisableAlarmActions"
                };
                self.mutate(call, async move {
                    b.cloudwatch_changes()?
                        .set_alarm_actions(std::slice::from_ref(&alarm), enable)
                        .await
                        .map(|()| OpOutcome::AlarmActions)
                })
                .await
            }
            // Sent above.
            Operation::DeployImage { .. } => Err(Ok(BackendError::Other {
                message: "a deploy is sent in two steps".to_string(),
            })),
        };
        match sent {
            Ok(outcome) => (Ok(outcome), None),
            Err(Ok(e)) => (Err(e.to_string()), None),
            Err(Err(why)) => {
                self.unanswered(id, &why);
                verdict(self.check(env, op, since, None, why).await)
            }
        }
    }

    /// A restore created `target` in `env`: the databases read it from now
    /// on, even where `rds_instances` names the instances to read.
    fn note_restored(&self, env: usize, target: &str) {
        if let Ok(mut m) = self.restored.lock() {
            let list = m.entry(env).or_default();
            if !list.iter().any(|t| t == target) {
                list.push(target.to_string());
            }
        }
    }

    /// The revision an unanswered deploy may have registered, read back at
    /// once and after each of `recheck` while it does not show.
    async fn find_registration(
        &self,
        env: usize,
        op: &Operation,
        since: Timestamp,
    ) -> BackendResult<Option<crate::domain::TaskDefinition>> {
        let b = self.backend(env)?;
        let mut last = Ok(None);
        let pauses = std::iter::once(Duration::ZERO).chain(self.recheck.iter().copied());
        for pause in pauses {
            tokio::time::sleep(pause).await;
            last = self
                .bounded(reconcile::find_registration(b.as_ref(), op, since))
                .await;
            if matches!(last, Ok(Some(_))) {
                break;
            }
        }
        last
    }

    /// An intent of an earlier session without a result: reads its resource
    /// back, and records (and returns) the result it shows. Nothing is
    /// recorded when it cannot be read (the next start tries again).
    async fn reconcile_earlier(
        &self,
        env: usize,
        intent: audit::Record,
    ) -> Result<audit::Record, String> {
        let op = Operation::from_audit(&intent.operation, &intent.parameters).ok_or_else(|| {
            format!(
                "{} {}: the audit record does not say enough to read it back",
                intent.operation, intent.resource
            )
        })?;
        let b = self.backend(env).map_err(|e| e.to_string())?;
        let found = self
            .bounded(reconcile::read_back(b.as_ref(), &op, intent.time, None))
            .await
            .map_err(|e| format!("{} could not be read back: {e}", op.resource()))?;
        let read_back = ReadBack {
            unanswered: "the console stopped before the result was recorded".to_string(),
            verdict: found.verdict,
            evidence: found.evidence,
        };
        let mut record = intent;
        record.phase = audit::Phase::Result;
        record.time = self.clock.now();
        match (&found.outcome, found.verdict) {
            (Some(outcome), Verdict::Applied) => {
                record.outcome = Some(audit::Outcome::Success);
                record.result = outcome_json(outcome);
            }
            (_, Verdict::Unknown) => {
                record.outcome = Some(audit::Outcome::Unknown);
                record.error = Some(read_back.summary());
            }
            _ => {
                record.outcome = Some(audit::Outcome::Error);
                record.error = Some(read_back.summary());
            }
        }
        record.read_back = Some(read_back);
        let audit = self
            .audit
            .clone()
            .ok_or_else(|| "no audit log is open".to_string())?;
        append(&audit, record.clone(), self.recorder.as_ref())
            .await
            .map_err(|e| format!("{}: {e}", audit.path().display()))?;
        self.ship(env, &record, None);
        Ok(record)
    }

    /// Fetches one resource kind of an environment ([`Kind::read`]);
    /// services, scaling and tasks across `clusters` (the configured ones,
    /// else those discovered), each filtered to the services configured
    /// for its cluster.
    async fn fetch(
        &self,
        env: usize,
        resource: Resource,
        clusters: &[String],
    ) -> BackendResult<Data> {
        let rt = self.envs.get(env).ok_or_else(|| BackendError::Other {
            message: format!("no environment #{env}"),
        })?;
        let restored = self
            .restored
            .lock()
            .map(|m| m.get(&env).cloned().unwrap_or_default())
            .unwrap_or_default();
        let scope = Scope {
            config: &rt.config,
            clusters,
            restored: &restored,
            timeout: self.timeout,
        };
        with_kind!(resource, K => K::read(rt.backend.as_ref(), scope).await.map(K::wrap))
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
        parameters: {
            let mut p = op.parameters();
            if let (Some(check), Some(map)) = (&ctx.image_check, p.as_object_mut()) {
                map.insert(
                    "imageCheck".into(),
                    serde_json::Value::String(check.clone()),
                );
            }
            p
        },
        before: Some(ctx.before.clone()),
        after: Some(ctx.after.clone()),
        dry_run: false,
        outcome: None,
        result: serde_json::Value::Null,
        error: None,
        ended: None,
        detail: None,
        read_back: None,
    }
}

/// Appends a record on a blocking thread (it syncs to disk).
/// Once written it goes into this session's recording too.
async fn append(
    audit: &Arc<AuditLog>,
    record: audit::Record,
    recorder: Option<&Arc<crate::recording::Recorder>>,
) -> std::io::Result<()> {
    let audit = audit.clone();
    let copy = recorder.map(|_| record.clone());
    tokio::task::spawn_blocking(move || audit.append(&record))
        .await
        .map_err(std::io::Error::other)??;
    if let (Some(r), Some(record)) = (recorder, copy) {
        r.audit(&record);
    }
    Ok(())
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
        OpOutcome::Invalidation(i) => json!({ "Id": i.id, "Status": i.status }),
        OpOutcome::Instance(i) => json!({
            "InstanceId": i.id, "State": i.state,
            "SystemStatus": i.system_status.word(), "InstanceStatus": i.instance_status.word(),
        }),
        OpOutcome::CodeDeploy {
            task_definition,
            deployment: d,
        } => json!({
            "registered": task_definition, "deploymentId": d.id, "status": d.status,
            "trafficShifted": d.traffic_shifted(),
            "rollbackDeploymentId": d.rollback.as_ref().and_then(|r| r.deployment_id.clone()),
        }),
        OpOutcome::Task(t) => json!({
            "taskArn": t.arn, "lastStatus": t.last_status, "desiredStatus": t.desired_status,
        }),
        // Never the session's token.
        OpOutcome::Exec(s) => json!({
            "sessionId": s.session_id, "taskArn": s.task_arn, "container": s.container,
            "target": s.target(),
        }),
    }
}

/// The polling interval of a resource kind ([`Resource::interval`]).
pub fn interval_of(resource: Resource, intervals: &RefreshIntervals) -> Duration {
    resource.interval(intervals)
}

/// Starts one poller per environment and resource kind. Each sends
/// `PollDue` on its interval, the first at once: every chain of the first
/// screen starts together (the backend's per-API limits, not a stagger
/// here, keep the requests within what AWS allows); `update` skips a tick
/// while a request is in flight.
pub fn start_pollers(
    envs: &[(usize, RefreshIntervals)],
    tx: &UnboundedSender<Action>,
    cancel: &CancellationToken,
) {
    for (env, intervals) in envs {
        for resource in Resource::ALL {
            let period = interval_of(resource, intervals);
            let delay = Duration::ZERO;
            let env = *env;
            tick(tx, cancel, delay, period, move || Action::PollDue {
                env,
                resource,
            });
        }
    }
}

// --- probes
/// Starts one poller per health check of every environment: each sends
/// `ProbeDue` on its own interval (the first soon after start); `update`
/// skips a tick while that probe is in flight. Cancelled with `cancel`.
pub fn start_probes(
    state: &crate::state::State,
    tx: &UnboundedSender<Action>,
    cancel: &CancellationToken,
) {
    for (env, e) in state.envs.iter().enumerate() {
        for (probe, p) in e.probes.iter().enumerate() {
            let period = Duration::from_secs(p.interval_secs.max(1));
            // Spread the first probes out a little.
            let delay = Duration::from_millis((env * 150 + probe * 40 + 300) as u64);
            tick(tx, cancel, delay, period, move || Action::ProbeDue {
                env,
                probe,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every answered effect gets the one action that completes it, even
    /// when its environment or health check is not there (the headless
    /// driver's `settle` would otherwise wait for ever).
    #[tokio::test]
    async fn every_answered_effect_gets_its_one_answer() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = Runner::new(Vec::new(), tx, Clock::Wall);
        let effects = [
            Effect::Probe {
                env: 3,
                probe: 1,
                generation: 7,
            },
            Effect::Fetch {
                env: 3,
                resource: Resource::Alarms,
                generation: 1,
                clusters: Vec::new(),
            },
            Effect::FetchTargets {
                env: 3,
                generation: 1,
                arns: Vec::new(),
            },
            Effect::FetchTaskDefinition {
                env: 3,
                arn: "arn".into(),
            },
            Effect::FetchRevisions {
                env: 3,
                family: "web".into(),
                generation: 2,
            },
            Effect::FetchAlarmHistory {
                env: 3,
                alarm: "cpu".into(),
                generation: 2,
            },
            Effect::FetchLogs {
                env: 3,
                generation: 1,
                queries: Vec::new(),
            },
            Effect::DrillCheck { env: 3 },
        ];
        for effect in effects {
            let kind = effect.kind();
            assert!(effect.is_answered());
            runner.spawn(effect);
            let answer = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("answered in time")
                .expect("an answer");
            assert_eq!(answer.completes(), Some(kind), "{answer:?}");
        }
    }
}
