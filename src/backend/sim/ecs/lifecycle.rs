//! The per-second life of ECS: task lifecycle timers, reconciling each
//! service towards its desired count, rolling deployments task by task, the
//! circuit breaker, spontaneous task stops and target-tracking scaling.

use chrono::TimeDelta;
use fastrand::Rng;

use super::{
    Ecs, Fate, Phase, STEADY_EVENT_EVERY_SECS, STOPPED_RETENTION_SECS, SimDeployment, SimTask,
    StopInfo, deployment_id, hex32, secs, split_image, stop_info, task_list, unhealthy_event,
};
use crate::domain::{RolloutState, TaskDefinition, Timestamp};

/// What happened to tasks during one step, to be told as service events.
#[derive(Default)]
pub(super) struct Notes {
    started: Vec<(usize, String)>,
    /// `(service, task id, drained from the load balancer)`.
    stopped: Vec<(usize, String, bool)>,
    registered: Vec<usize>,
    failed: Vec<(usize, String)>,
}

impl Ecs {
    /// Moves every task and service on by the second starting at `now`.
    pub fn step(&mut self, now: Timestamp, rng: &mut Rng, chaos: bool) {
        let mut notes = Notes::default();
        self.advance_tasks(now, rng, &mut notes);
        for (s, deployment) in std::mem::take(&mut notes.failed) {
            self.task_failed(s, &deployment, now, rng);
        }
        for s in 0..self.services.len() {
            self.reconcile(s, now, rng, chaos, &mut notes);
        }
        self.flush_notes(&notes, now, rng);
        for s in 0..self.services.len() {
            self.settle(s, now, rng);
        }
        let keep_after = now - TimeDelta::seconds(STOPPED_RETENTION_SECS);
        self.tasks.retain(|t| {
            t.phase != Phase::Stopped || t.stopped_at.is_some_and(|at| at >= keep_after)
        });
    }

    fn advance_tasks(&mut self, now: Timestamp, rng: &mut Rng, notes: &mut Notes) {
        let with_lb: Vec<bool> = self.services.iter().map(|s| s.lb.is_some()).collect();
        // The first secret of tasks about to fail fetching it.
        let secrets: Vec<Option<String>> = self
            .tasks
            .iter()
            .map(|t| {
                if t.fate != Fate::StartFails {
                    return None;
                }
                self.find_td(&t.task_definition)
                    .and_then(|td| td.containers.iter().flat_map(|c| c.secrets.iter()).next())
                    .map(|(_, arn)| arn.clone())
            })
            .collect();
        for (i, t) in self.tasks.iter_mut().enumerate() {
            let lb = with_lb.get(t.service).copied().unwrap_or(false);
            if t.phase == Phase::Running {
                if t.crash_at.is_some_and(|at| at <= now)
                    && let Fate::Crashes { container } = t.fate.clone()
                {
                    t.crash_at = None;
                    t.stopping_at = Some(now);
                    t.stop = Some(StopInfo {
                        code: "EssentialContainerExited",
                        reason: "Essential container in task exited".to_string(),
                        container: Some((container, Some(1), None)),
                        others_exit: Some(0),
                    });
                    t.phase = Phase::Stopping;
                    t.next_at = now + secs(rng, 2, 4);
                    notes.failed.push((t.service, t.deployment.clone()));
                } else if t.healthy_at.is_some_and(|at| at <= now) && t.health == "UNKNOWN" {
                    t.health = "HEALTHY";
                }
                continue;
            }
            if t.phase == Phase::Stopped || t.next_at > now {
                continue;
            }
            match t.phase {
                Phase::Provisioning => {
                    t.phase = Phase::Pending;
                    t.next_at = now + secs(rng, 8, 15);
                }
                Phase::Pending => {
                    match t.fate.clone() {
                        Fate::PullFails {
                            container,
                            image,
                            no_repo,
                        } => {
                            let why = if no_repo {
                                "pull access denied, repository does not exist or may require authorization".to_string()
                            } else {
                                format!("{image}: not found")
                            };
                            let reason = format!(
                                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {image}: {why}"
                            );
                            t.stopping_at = Some(now);
                            t.stop = Some(StopInfo {
                                code: "TaskFailedToStart",
                                reason: reason.clone(),
                                container: Some((container, None, Some(reason))),
                                others_exit: None,
                            });
                            t.phase = Phase::Deprovisioning;
                            t.next_at = now + secs(rng, 2, 4);
                            notes.failed.push((t.service, t.deployment.clone()));
                        }
                        Fate::StartFails => {
                            let reason = match secrets.get(i).cloned().flatten() {
                            Some(arn) => format!(
                                "ResourceInitializationError: unable to pull secrets or registry auth: \
                                 execution resource retrieval failed: unable to retrieve secret \
                                 from asm: service call has been retried 1 time(s): failed to \
                                 fetch secret {arn} from secrets manager: RequestCanceled: \
                                 request context canceled caused by: context deadline exceeded"
                            ),
                            None => "ResourceInitializationError: failed to validate logger args: The \
                                     task cannot find the Amazon CloudWatch log group defined in \
                                     the task definition."
                                .to_string(),
                        };
                            t.stopping_at = Some(now);
                            t.stop = Some(StopInfo {
                                code: "TaskFailedToStart",
                                reason,
                                container: None,
                                others_exit: None,
                            });
                            t.phase = Phase::Deprovisioning;
                            t.next_at = now + secs(rng, 2, 4);
                            notes.failed.push((t.service, t.deployment.clone()));
                        }
                        _ => {
                            t.phase = Phase::Activating;
                            t.next_at = now + secs(rng, 1, 3);
                        }
                    }
                }
                Phase::Activating => {
                    t.phase = Phase::Running;
                    t.started_at = Some(now);
                    if let Fate::Crashes { .. } = t.fate {
                        t.crash_at = Some(now + secs(rng, 3, 8));
                    } else {
                        t.healthy_at = Some(now + secs(rng, 5, 12));
                    }
                    if lb {
                        notes.registered.push(t.service);
                    }
                }
                Phase::Deactivating => {
                    t.phase = Phase::Stopping;
                    t.next_at = now + secs(rng, 2, 4);
                }
                Phase::Stopping => {
                    t.phase = Phase::Deprovisioning;
                    t.next_at = now + secs(rng, 2, 3);
                }
                Phase::Deprovisioning => {
                    t.phase = Phase::Stopped;
                    t.stopped_at = Some(now);
                }
                Phase::Running | Phase::Stopped => {}
            }
        }
    }

    /// A task of `deployment` failed to start or crashed at once: count it,
    /// and trip the circuit breaker if that was one too many.
    fn task_failed(&mut self, s: usize, deployment: &str, now: Timestamp, rng: &mut Rng) {
        let Some(svc) = self.services.get_mut(s) else {
            return;
        };
        let threshold = svc.desired.div_ceil(2).clamp(3, 200);
        let cb = svc.circuit_breaker;
        let name = svc.name.clone();
        let Some((idx, d)) = svc
            .deployments
            .iter_mut()
            .enumerate()
            .find(|(_, d)| d.id == deployment)
        else {
            return;
        };
        d.failed_tasks += 1;
        d.updated_at = now;
        if idx != 0
            || d.rollout != RolloutState::InProgress
            || !cb.enable
            || d.failed_tasks < threshold
        {
            return;
        }
        d.rollout = RolloutState::Failed;
        d.reason = Some("ECS deployment circuit breaker: tasks failed to start.".to_string());
        let failed_td = d.task_definition.clone();
        let previous = svc.last_completed.clone();
        let message = format!(
            "(service {name}) (deployment {deployment}) deployment failed: tasks failed to start."
        );
        self.event(s, now, rng, message);
        if !cb.rollback {
            return;
        }
        if let Some((previous_id, previous_td)) = previous
            && previous_td != failed_td
        {
            self.event(
                s,
                now,
                rng,
                format!("(service {name}) rolling back to deployment {previous_id}."),
            );
            self.new_deployment(s, previous_td, now, rng);
        }
    }

    fn reconcile(
        &mut self,
        s: usize,
        now: Timestamp,
        rng: &mut Rng,
        chaos: bool,
        notes: &mut Notes,
    ) {
        let Some(svc) = self.services.get(s) else {
            return;
        };
        let desired = svc.desired as usize;
        let Some(primary) = svc.deployments.first() else {
            return;
        };
        let primary_id = primary.id.clone();
        let launching = primary.rollout != RolloutState::Failed;
        let age = |i: usize| self.tasks.get(i).map(|t| t.created_at);
        let (mut new_live, mut old_live) = (Vec::new(), Vec::new());
        let (mut new_ready, mut old_ready) = (0, 0);
        for (i, t) in self.tasks.iter().enumerate() {
            if t.service != s || !t.phase.live() {
                continue;
            }
            let ready = t.ready(now);
            if t.deployment == primary_id {
                new_live.push((i, ready));
                new_ready += usize::from(ready);
            } else {
                old_live.push((i, ready));
                old_ready += usize::from(ready);
            }
        }
        // Fewer tasks wanted: stop the least useful (not ready, then newest).
        if new_live.len() > desired {
            let mut victims = new_live.clone();
            victims.sort_by_key(|&(i, ready)| (ready, std::cmp::Reverse(age(i))));
            let excess = new_live.len() - desired;
            for (i, _) in victims.into_iter().take(excess) {
                self.stop_by_scheduler(i, now, rng, notes);
            }
            return;
        }
        if old_live.is_empty() {
            if launching {
                for _ in new_live.len()..desired {
                    if let Some(i) = self.launch(s, now, rng, chaos)
                        && let Some(t) = self.tasks.get(i)
                    {
                        notes.started.push((s, t.id.clone()));
                    }
                }
            }
            return;
        }
        // Rolling: retire an old task that is not serving, or one more than
        // needed to keep `desired` healthy tasks; start new ones one by one.
        let rank = |i: usize| {
            let t = self.tasks.get(i);
            let dep = t.and_then(|t| {
                self.services
                    .get(s)?
                    .deployments
                    .iter()
                    .position(|d| d.id == t.deployment)
            });
            std::cmp::Reverse(dep.unwrap_or(usize::MAX))
        };
        let victim = old_live
            .iter()
            .filter(|(_, ready)| !ready)
            .map(|&(i, _)| i)
            .min_by_key(|&i| (rank(i), age(i)))
            .or_else(|| {
                (new_ready + old_ready > desired)
                    .then(|| {
                        old_live
                            .iter()
                            .map(|&(i, _)| i)
                            .min_by_key(|&i| (rank(i), age(i)))
                    })
                    .flatten()
            });
        if let Some(i) = victim {
            self.stop_by_scheduler(i, now, rng, notes);
        }
        if launching
            && new_live.len() < desired
            && new_ready == new_live.len()
            && let Some(i) = self.launch(s, now, rng, chaos)
            && let Some(t) = self.tasks.get(i)
        {
            notes.started.push((s, t.id.clone()));
        }
    }

    /// Removes drained deployments, completes the rollout, says when the
    /// service is steady.
    fn settle(&mut self, s: usize, now: Timestamp, rng: &mut Rng) {
        let Some(svc) = self.services.get(s) else {
            return;
        };
        let busy: Vec<bool> = svc
            .deployments
            .iter()
            .map(|d| {
                self.tasks
                    .iter()
                    .any(|t| t.service == s && t.deployment == d.id && t.phase != Phase::Stopped)
            })
            .collect();
        let Some(primary) = svc.deployments.first() else {
            return;
        };
        let (mut live, mut ready, mut running, mut pending, mut stopping) = (0, 0, 0, 0, 0);
        let mut all_ready = true;
        for t in self.tasks.iter().filter(|t| t.service == s) {
            if t.deployment == primary.id && t.phase.live() {
                live += 1;
                ready += u32::from(t.ready(now));
            }
            if t.phase == Phase::Running {
                all_ready &= t.ready(now);
            }
            running += u32::from(t.phase == Phase::Running);
            pending += u32::from(t.phase.pending());
            stopping += u32::from(!t.phase.live() && t.phase != Phase::Stopped);
        }
        let others_busy = busy.iter().skip(1).any(|b| *b);
        let completes = primary.rollout == RolloutState::InProgress
            && !others_busy
            && live == svc.desired
            && ready == svc.desired;
        let name = svc.name.clone();
        let Some(svc) = self.services.get_mut(s) else {
            return;
        };
        let mut index = 0;
        svc.deployments.retain(|d| {
            let keep = index == 0
                || busy.get(index).copied().unwrap_or(false)
                || d.rollout == RolloutState::Failed;
            index += 1;
            keep
        });
        let mut messages = Vec::new();
        if completes {
            svc.deployments.truncate(1);
            if let Some(d) = svc.deployments.first_mut() {
                d.rollout = RolloutState::Completed;
                d.reason = Some(format!("ECS deployment {} completed.", d.id));
                d.updated_at = now;
                svc.last_completed = Some((d.id.clone(), d.task_definition.clone()));
                messages.push(format!(
                    "(service {name}) (deployment {}) deployment completed.",
                    d.id
                ));
            }
        }
        let steady = svc.deployments.len() == 1
            && svc.deployments.first().map(|d| d.rollout) == Some(RolloutState::Completed)
            && running == svc.desired
            && all_ready
            && pending == 0
            && stopping == 0;
        let again = svc
            .last_steady_event
            .is_none_or(|t| t + TimeDelta::seconds(STEADY_EVENT_EVERY_SECS) <= now);
        if steady && (!svc.steady || again) {
            svc.last_steady_event = Some(now);
            messages.push(format!("(service {name}) has reached a steady state."));
        }
        svc.steady = steady;
        for m in messages {
            self.event(s, now, rng, m);
        }
    }

    fn flush_notes(&mut self, notes: &Notes, now: Timestamp, rng: &mut Rng) {
        for s in 0..self.services.len() {
            let Some(svc) = self.services.get(s) else {
                continue;
            };
            let name = svc.name.clone();
            let tg = svc
                .lb
                .as_ref()
                .and_then(|l| l.target_group_arn.clone())
                .unwrap_or_default();
            let stopped: Vec<String> = notes
                .stopped
                .iter()
                .filter(|n| n.0 == s)
                .map(|n| n.1.clone())
                .collect();
            let drained = notes.stopped.iter().filter(|n| n.0 == s && n.2).count();
            let started: Vec<String> = notes
                .started
                .iter()
                .filter(|n| n.0 == s)
                .map(|n| n.1.clone())
                .collect();
            let registered = notes.registered.iter().filter(|&&n| n == s).count();
            let mut messages = Vec::new();
            if drained > 0 {
                messages.push(format!(
                    "(service {name}) has begun draining connections on {drained} tasks."
                ));
                messages.push(format!(
                    "(service {name}) deregistered {drained} targets in (target-group {tg})"
                ));
            }
            if !stopped.is_empty() {
                messages.push(format!(
                    "(service {name}) has stopped {} running tasks: {}.",
                    stopped.len(),
                    task_list(&stopped)
                ));
            }
            if !started.is_empty() {
                messages.push(format!(
                    "(service {name}) has started {} tasks: {}.",
                    started.len(),
                    task_list(&started)
                ));
            }
            if registered > 0 {
                messages.push(format!(
                    "(service {name}) registered {registered} targets in (target-group {tg})"
                ));
            }
            for m in messages {
                self.event(s, now, rng, m);
            }
        }
    }

    /// Starts a task of the service's PRIMARY deployment; returns its index.
    pub(super) fn launch(
        &mut self,
        s: usize,
        now: Timestamp,
        rng: &mut Rng,
        chaos: bool,
    ) -> Option<usize> {
        let svc = self.services.get(s)?;
        let dep = svc.deployments.first()?;
        let td = self.find_td(&dep.task_definition)?;
        let checked = self.health_checked.get(&td.family);
        let containers: Vec<(String, String, bool)> = td
            .containers
            .iter()
            .map(|c| {
                let hc = checked.is_some_and(|set| set.contains(&c.name));
                (c.name.clone(), c.image.clone(), hc)
            })
            .collect();
        let mut fate = self.fate_of(td);
        if fate == Fate::Normal
            && chaos
            && dep.rollout == RolloutState::Completed
            && self.start_failure_rate > 0.0
            && rng.f64() < self.start_failure_rate
        {
            fate = Fate::StartFails;
        }
        let task = SimTask {
            id: hex32(rng),
            service: s,
            deployment: dep.id.clone(),
            task_definition: td.arn.clone(),
            az: self.pick_az(s, rng),
            cpu: td.cpu.clone(),
            memory: td.memory.clone(),
            containers,
            created_at: now,
            phase: Phase::Provisioning,
            next_at: now + secs(rng, 3, 6),
            started_at: None,
            health: "UNKNOWN",
            healthy_at: None,
            fate,
            crash_at: None,
            stop: None,
            stopping_at: None,
            stopped_at: None,
        };
        self.tasks.push(task);
        Some(self.tasks.len() - 1)
    }

    /// Whether the images of a task definition pull and run.
    fn fate_of(&self, td: &TaskDefinition) -> Fate {
        for c in &td.containers {
            let (repo, tag) = split_image(&c.image);
            let no_repo = !self.known_repositories.contains(repo);
            if no_repo || tag.contains("bad") {
                return Fate::PullFails {
                    container: c.name.clone(),
                    image: c.image.clone(),
                    no_repo,
                };
            }
        }
        td.containers
            .iter()
            .find(|c| split_image(&c.image).1.contains("broken"))
            .map_or(Fate::Normal, |c| Fate::Crashes {
                container: c.name.clone(),
            })
    }

    /// The availability zone with the fewest live tasks of the service.
    fn pick_az(&self, s: usize, rng: &mut Rng) -> String {
        let count = |az: &String| {
            self.tasks
                .iter()
                .filter(|t| t.service == s && t.phase.live() && &t.az == az)
                .count()
        };
        let usable: Vec<&String> = self
            .azs
            .iter()
            .filter(|az| !self.impaired_azs.contains(*az))
            .collect();
        let fewest = usable.iter().map(|az| count(az)).min().unwrap_or(0);
        let candidates: Vec<&String> = usable
            .into_iter()
            .filter(|az| count(az) == fewest)
            .collect();
        if candidates.is_empty() {
            return String::new();
        }
        candidates
            .get(rng.usize(..candidates.len()))
            .map(|az| (*az).clone())
            .unwrap_or_default()
    }

    fn stop_by_scheduler(&mut self, i: usize, now: Timestamp, rng: &mut Rng, notes: &mut Notes) {
        let lb = self
            .tasks
            .get(i)
            .and_then(|t| self.services.get(t.service))
            .is_some_and(|s| s.lb.is_some());
        let Some(t) = self.tasks.get_mut(i) else {
            return;
        };
        let was_running = t.phase == Phase::Running;
        t.stopping_at = Some(now);
        t.stop = Some(StopInfo {
            code: "ServiceSchedulerInitiated",
            reason: format!(
                "Scaling activity initiated by (deployment {})",
                t.deployment
            ),
            container: None,
            others_exit: t.started_at.map(|_| 0),
        });
        let drained = was_running && lb;
        if drained {
            t.phase = Phase::Deactivating;
            t.next_at = now + secs(rng, 5, 10);
        } else {
            t.phase = Phase::Stopping;
            t.next_at = now + secs(rng, 1, 4);
        }
        notes.stopped.push((t.service, t.id.clone(), drained));
    }

    /// Stops a random healthy task the way things fail in production.
    pub fn chaos_stop(&mut self, now: Timestamp, rng: &mut Rng) {
        let candidates: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| {
                self.tasks
                    .get(i)
                    .is_some_and(|t| t.phase == Phase::Running && t.health == "HEALTHY")
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let Some(&i) = candidates.get(rng.usize(..candidates.len())) else {
            return;
        };
        let Some(s) = self.tasks.get(i).map(|t| t.service) else {
            return;
        };
        let Some(svc) = self.services.get(s) else {
            return;
        };
        let lb = svc.lb.clone();
        let name = svc.name.clone();
        let tg = lb
            .as_ref()
            .and_then(|l| l.target_group_arn.clone())
            .unwrap_or_default();
        let kinds: &[&str] = if lb.is_some() {
            &["exited", "exited", "oom", "oom", "elb-health", "elb-health"]
        } else {
            &["exited", "exited", "oom"]
        };
        let kind = kinds
            .get(rng.usize(..kinds.len()))
            .copied()
            .unwrap_or("exited");
        let main = self.main_container(s);
        let (info, health) = stop_info(kind, &main, &tg);
        let Some(t) = self.tasks.get_mut(i) else {
            return;
        };
        t.stopping_at = Some(now);
        t.stop = Some(info);
        t.health = health;
        let id = t.id.clone();
        if kind == "elb-health" {
            t.phase = Phase::Deactivating;
            t.next_at = now + secs(rng, 5, 10);
            self.event(s, now, rng, unhealthy_event(&name, lb.as_ref(), &tg));
            self.event(
                s,
                now,
                rng,
                format!("(service {name}) has begun draining connections on 1 tasks."),
            );
            self.event(
                s,
                now,
                rng,
                format!("(service {name}) deregistered 1 targets in (target-group {tg})"),
            );
            self.event(
                s,
                now,
                rng,
                format!("(service {name}) has stopped 1 running tasks: (task {id})."),
            );
        } else {
            t.phase = Phase::Stopping;
            t.next_at = now + secs(rng, 2, 4);
        }
        tracing::debug!(service = %name, task = %id, kind, "sim: task stopped");
    }

    pub(crate) fn new_deployment(
        &mut self,
        s: usize,
        task_definition: String,
        now: Timestamp,
        rng: &mut Rng,
    ) {
        let id = deployment_id(rng);
        if let Some(svc) = self.services.get_mut(s) {
            svc.deployments.insert(
                0,
                SimDeployment {
                    id: id.clone(),
                    task_definition,
                    created_at: now,
                    updated_at: now,
                    failed_tasks: 0,
                    rollout: RolloutState::InProgress,
                    reason: Some(format!("ECS deployment {id} in progress.")),
                },
            );
            svc.steady = false;
        }
    }

    /// Target tracking on CPU, run once a minute with the service's recent
    /// one-minute CPU datapoints (oldest first).
    pub fn autoscale(&mut self, s: usize, cpu: &[f64], now: Timestamp) {
        let Some(svc) = self.services.get_mut(s) else {
            return;
        };
        let deploying = svc.deployments.len() > 1;
        let desired = svc.desired;
        let Some(scaling) = svc.scaling.as_mut() else {
            return;
        };
        let Some((_, target)) = scaling.policy.clone() else {
            return;
        };
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let want = |avg: f64| (f64::from(desired.max(1)) * avg / target).ceil() as u32;
        let last3 = cpu.get(cpu.len().saturating_sub(3)..).unwrap_or(&[]);
        let cooled = scaling
            .last_scale_out
            .is_none_or(|t| t + TimeDelta::minutes(3) <= now);
        if last3.len() == 3 && last3.iter().all(|v| *v > target) && cooled {
            let to = want(mean(last3)).max(desired + 1).min(scaling.max);
            if to > desired {
                scaling.last_scale_out = Some(now);
                svc.desired = to;
                svc.last_capacity_change = now;
                tracing::debug!(service = %svc.name, to, "sim: scale out");
            }
            return;
        }
        let quiet = svc.last_capacity_change + TimeDelta::minutes(15) <= now;
        let last15 = cpu.get(cpu.len().saturating_sub(15)..).unwrap_or(&[]);
        if quiet && !deploying && last15.len() == 15 && last15.iter().all(|v| *v < 0.9 * target) {
            let to = want(mean(last15)).max(scaling.min);
            if to < desired {
                svc.desired = to;
                svc.last_capacity_change = now;
                tracing::debug!(service = %svc.name, to, "sim: scale in");
            }
        }
    }

    /// Running tasks per service.
    pub fn running_per_service(&self) -> Vec<u32> {
        let mut out = vec![0; self.services.len()];
        for t in self.tasks.iter().filter(|t| t.phase == Phase::Running) {
            if let Some(n) = out.get_mut(t.service) {
                *n += 1;
            }
        }
        out
    }
}
