//! One simulated world in motion: ECS, RDS, metrics and alarms advanced
//! together in one-second steps, with incidents and spontaneous task stops.

use chrono::{TimeDelta, Timelike};
use fastrand::Rng;

use super::alarms::SimAlarm;
use super::ecs::Ecs;
use super::metrics::Metric;
use super::rds::Rds;
use super::world::WorldDesc;
use crate::backend::{BackendResult, ServiceUpdate};
use crate::domain::{Alarm, CallerIdentity, DbInstance, DbSnapshot, Service, Task, Timestamp};

/// The most simulated seconds one call catches up; a longer gap is jumped
/// over and only its end is simulated.
const MAX_CATCHUP_SECS: i64 = 15 * 60;

/// No spontaneous task stop this soon after the start (a calm first screen).
const CALM_START_SECS: i64 = 120;

/// How long a target-tracking scale-in looks back, in one-minute datapoints.
const SCALING_LOOKBACK: usize = 15;

/// Something that goes wrong for a while.
#[derive(Debug, Clone)]
struct Incident {
    name: String,
    weight: u32,
    duration: (i64, i64),
    /// `(metric index, offset)`.
    effects: Vec<(usize, f64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct World {
    pub account: String,
    pub region: String,
    operator_role: String,
    role_id: String,
    session: String,
    pub(crate) rng: Rng,
    /// Simulated up to here.
    pub now: Timestamp,
    start: Timestamp,
    /// Spontaneous task stops, start failures and incidents.
    pub chaos: bool,
    task_stop_every: Option<f64>,
    incident_gap: Option<(i64, i64)>,
    incidents: Vec<Incident>,
    active_incident: Option<(usize, Timestamp)>,
    next_incident: Option<Timestamp>,
    /// The incident the first one must be (then they are drawn by weight).
    first_incident: Option<usize>,
    pub ecs: Ecs,
    pub rds: Rds,
    pub cloudfront: super::cloudfront::CloudFront,
    /// The blue/green deployments of CODE_DEPLOY services (`codedeploy.rs`).
    pub codedeploy: super::codedeploy::CodeDeploy,
    /// The EC2 hosts (`ec2.rs`).
    pub ec2: Vec<super::ec2::SimInstance>,
    /// The Redis replication groups (`elasticache.rs`).
    pub elasticache: Vec<super::elasticache::ReplicationGroupDesc>,
    /// The target groups the hosts are registered in.
    pub host_target_groups: Vec<super::world::HostTargetGroupDesc>,
    pub metrics: Vec<Metric>,
    pub alarms: Vec<SimAlarm>,
    /// Per metric: the service its load is spread over.
    metric_service: Vec<Option<usize>>,
    /// Per metric: the DB instance that publishes it.
    metric_db: Vec<Option<usize>>,
    /// Per metric: the EC2 host that publishes it (`AWS/EC2`, its
    /// `InstanceId`).
    metric_host: Vec<Option<usize>>,
    /// Per service: its ECS CPU metric.
    service_cpu: Vec<Option<usize>>,
    /// The drill being run in this world, if any (`faults.rs`).
    pub(crate) drill: Option<super::faults::DrillScript>,
}

impl World {
    pub fn new(desc: &WorldDesc, seed: u64, start: Timestamp) -> Self {
        let start = start.with_nanosecond(0).unwrap_or(start);
        let mut rng = Rng::with_seed(seed);
        let mut ecs = Ecs::new(desc, start, &mut rng);
        let codedeploy =
            super::codedeploy::CodeDeploy::new(&desc.codedeploy, &mut ecs, seed, start);
        let rds = Rds::new(
            &desc.account,
            &desc.region,
            &desc.rds_endpoint_id,
            &desc.dbs,
            &desc.snapshots,
            start,
            &mut rng,
        );
        let cloudfront = super::cloudfront::CloudFront::new(&desc.distributions, seed, start);
        let mut metrics: Vec<Metric> = desc
            .metrics
            .iter()
            .map(|m| Metric::new(m, desc.daily_peak_hour_utc))
            .collect();
        for m in &mut metrics {
            m.prefill(start, &mut rng);
        }
        let metric_service = desc
            .metrics
            .iter()
            .map(|m| {
                let name = m.spread_over_service.as_ref()?;
                ecs.services.iter().position(|s| &s.name == name)
            })
            .collect();
        let metric_db = metrics
            .iter()
            .map(|m| {
                let id = m.dimension("DBInstanceIdentifier")?;
                rds.instances.iter().position(|d| d.id == id)
            })
            .collect();
        let metric_host = metrics
            .iter()
            .map(|m| {
                let id = m.dimension("InstanceId")?;
                (m.namespace == "AWS/EC2")
                    .then(|| desc.instances.iter().position(|i| i.id == id))
                    .flatten()
            })
            .collect();
        let service_cpu = ecs
            .services
            .iter()
            .map(|s| {
                metrics.iter().position(|m| {
                    m.namespace == "AWS/ECS"
                        && m.name == "CPUUtilization"
                        && m.dimension("ServiceName") == Some(s.name.as_str())
                        && m.dimension("ClusterName") == Some(s.cluster.as_str())
                })
            })
            .collect();
        let metric_index = |id: &str| metrics.iter().position(|m| m.id == id);
        let created = start - TimeDelta::days(30);
        let mut alarms = Vec::new();
        for a in &desc.alarms {
            let Some(mi) = metric_index(&a.metric) else {
                continue;
            };
            let arn = format!(
                "arn:aws:cloudwatch:{}:{}:alarm:{}",
                desc.region, desc.account, a.name
            );
            let mut alarm = SimAlarm::new(a, mi, arn, created);
            if let Some(metric) = metrics.get(mi) {
                // The state as of some hours ago, then as of now.
                let since = start - TimeDelta::minutes(rng.i64(60..=23 * 60));
                alarm.evaluate(metric, since);
                alarm.evaluate(metric, start);
            }
            alarms.push(alarm);
        }
        let incidents: Vec<Incident> = desc
            .incidents
            .iter()
            .map(|i| Incident {
                name: i.name.clone(),
                weight: i.weight,
                duration: (i.duration[0].0, i.duration[1].0),
                effects: i
                    .effects
                    .iter()
                    .filter_map(|e| Some((metric_index(&e.metric)?, e.add)))
                    .collect(),
            })
            .collect();
        let incident_gap = desc.chaos.incident_gap.map(|[lo, hi]| (lo.0, hi.0));
        let first = desc.chaos.first_incident.as_ref();
        let next_incident = incident_gap.map(|(lo, hi)| {
            let (lo, hi) = first.map_or((lo, hi), |f| (f.after[0].0, f.after[1].0));
            start + TimeDelta::seconds(rng.i64(lo..=hi))
        });
        let first_incident = first
            .and_then(|f| f.name.as_ref())
            .and_then(|name| incidents.iter().position(|i| &i.name == name));
        Self {
            account: desc.account.clone(),
            region: desc.region.clone(),
            operator_role: desc.operator_role.clone(),
            role_id: desc.role_id.clone(),
            session: desc.session.clone(),
            rng,
            cloudfront,
            codedeploy,
            now: start,
            start,
            chaos: true,
            task_stop_every: desc.chaos.task_stop_every.map(|s| s.0 as f64),
            incident_gap,
            incidents,
            active_incident: None,
            next_incident,
            first_incident,
            ecs,
            rds,
            ec2: desc
                .instances
                .iter()
                .map(|i| super::ec2::SimInstance::new(i, start))
                .collect(),
            elasticache: desc.replication_groups.clone(),
            host_target_groups: desc.host_target_groups.clone(),
            metrics,
            alarms,
            metric_service,
            metric_db,
            metric_host,
            service_cpu,
            drill: None,
        }
    }

    /// Simulates every whole second up to `target`.
    pub fn advance_to(&mut self, target: Timestamp) {
        let gap = (target - self.now).num_seconds();
        if gap <= 0 {
            return;
        }
        if gap > MAX_CATCHUP_SECS {
            self.now += TimeDelta::seconds(gap - MAX_CATCHUP_SECS);
        }
        while self.now + TimeDelta::seconds(1) <= target {
            self.step();
        }
    }

    /// Simulates the second starting at `self.now`.
    fn step(&mut self) {
        let now = self.now;
        self.run_drill(now);
        self.run_incidents(now);
        if self.chaos
            && now >= self.start + TimeDelta::seconds(CALM_START_SECS)
            && let Some(every) = self.task_stop_every
            && self.rng.f64() < 1.0 / every
        {
            self.ecs.chaos_stop(now, &mut self.rng);
        }
        self.ecs.step(now, &mut self.rng, self.chaos);
        self.codedeploy.step(now, &mut self.ecs, &mut self.rng);
        self.rds.step(now, &mut self.rng);
        for host in &mut self.ec2 {
            host.step(now, &mut self.rng);
        }
        let running = self.ecs.running_per_service();
        // The hosts as DescribeInstanceStatus answers now: their status
        // check metrics follow them.
        let incident = self.incident_key();
        let hosts: Vec<crate::domain::Instance> =
            self.ec2.iter().map(|h| h.answer(incident)).collect();
        for (i, m) in self.metrics.iter_mut().enumerate() {
            let host = self.metric_host.get(i).copied().flatten();
            if let Some(h) = host.and_then(|h| hosts.get(h))
                && super::ec2::is_status_metric(&m.name)
            {
                m.record(now, super::ec2::status_metric(&m.name, h));
                continue;
            }
            let mut factor = match self.metric_service.get(i).copied().flatten() {
                Some(s) => {
                    let baseline = self.ecs.services.get(s).map_or(1, |x| x.baseline_tasks);
                    match running.get(s).copied().unwrap_or(0) {
                        0 => None,
                        n => Some(f64::from(baseline.max(1)) / f64::from(n)),
                    }
                }
                None => Some(1.0),
            };
            if let Some(db) = self.metric_db.get(i).copied().flatten()
                && self.rds.rebooting(db, now)
            {
                factor = None;
            }
            // A host that is not running publishes nothing.
            if let Some(h) = host
                && hosts.get(h).is_none_or(|h| h.state != "running")
            {
                factor = None;
            }
            m.sample(now, factor, &mut self.rng);
        }
        self.now = now + TimeDelta::seconds(1);
        if self.now.timestamp().rem_euclid(60) == 0 {
            self.end_of_minute();
        }
    }

    fn end_of_minute(&mut self) {
        let now = self.now;
        for m in &mut self.metrics {
            m.flush();
        }
        for s in 0..self.ecs.services.len() {
            if let Some(m) = self
                .service_cpu
                .get(s)
                .copied()
                .flatten()
                .and_then(|i| self.metrics.get(i))
            {
                let recent = m.last_values(SCALING_LOOKBACK);
                self.ecs.autoscale(s, &recent, now);
            }
        }
        for a in &mut self.alarms {
            if !a.due(now) {
                continue;
            }
            if let Some(m) = self.metrics.get(a.metric)
                && a.evaluate(m, now)
            {
                tracing::debug!(alarm = %a.name, state = a.state.as_str(), "sim: alarm state changed");
            }
        }
        self.note_alarms(now);
    }

    fn run_incidents(&mut self, now: Timestamp) {
        if let Some((i, until)) = self.active_incident
            && until <= now
        {
            if let Some(incident) = self.incidents.get(i) {
                for (m, _) in &incident.effects {
                    if let Some(m) = self.metrics.get_mut(*m) {
                        m.effect = 0.0;
                    }
                }
            }
            self.active_incident = None;
        }
        let due = self.next_incident.is_some_and(|at| at <= now);
        if !due || !self.chaos || self.active_incident.is_some() {
            return;
        }
        let total: u32 = self.incidents.iter().map(|i| i.weight).sum();
        let Some((lo, hi)) = self.incident_gap else {
            return;
        };
        if total == 0 {
            self.next_incident = None;
            return;
        }
        let index = if let Some(first) = self.first_incident.take() {
            Some(first)
        } else {
            let mut pick = self.rng.u32(..total);
            self.incidents.iter().position(|i| {
                if pick < i.weight {
                    true
                } else {
                    pick -= i.weight;
                    false
                }
            })
        };
        let Some(index) = index else {
            return;
        };
        let Some(incident) = self.incidents.get(index) else {
            return;
        };
        let length = self.rng.i64(incident.duration.0..=incident.duration.1);
        for (m, add) in &incident.effects {
            if let Some(m) = self.metrics.get_mut(*m) {
                m.effect += add;
            }
        }
        tracing::debug!(incident = %incident.name, seconds = length, "sim: incident");
        let until = now + TimeDelta::seconds(length);
        self.active_incident = Some((index, until));
        self.next_incident = Some(until + TimeDelta::seconds(self.rng.i64(lo..=hi)));
    }

    /// The incident under way as the EC2 hosts see it: its name and when
    /// it ends (one occurrence told from the next).
    pub fn incident_key(&self) -> super::ec2::IncidentNow<'_> {
        let (i, until) = self.active_incident?;
        self.incidents.get(i).map(|x| (x.name.as_str(), until))
    }

    // --------------------------------------------------------- queries

    pub fn caller_identity(&self) -> CallerIdentity {
        CallerIdentity {
            account: self.account.clone(),
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                self.account, self.operator_role, self.session
            ),
            user_id: format!("{}:{}", self.role_id, self.session),
        }
    }

    /// Alarms whose names start with one of the prefixes (all when none),
    /// sorted by name as CloudWatch lists them.
    pub fn alarms(&self, prefixes: &[String]) -> Vec<Alarm> {
        let mut out: Vec<Alarm> = self
            .alarms
            .iter()
            .filter(|a| prefixes.is_empty() || prefixes.iter().any(|p| a.name.starts_with(p)))
            .filter_map(|a| Some(a.to_domain(self.metrics.get(a.metric)?)))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn update_service(
        &mut self,
        cluster: &str,
        service: &str,
        update: &ServiceUpdate,
    ) -> BackendResult<Service> {
        self.ecs
            .update_service(cluster, service, update, self.now, &mut self.rng)
    }

    pub fn stop_task(&mut self, cluster: &str, task: &str, reason: &str) -> BackendResult<Task> {
        self.ecs
            .stop_task(cluster, task, reason, self.now, &mut self.rng)
    }

    pub fn create_db_snapshot(
        &mut self,
        instance_id: &str,
        snapshot_id: &str,
    ) -> BackendResult<DbSnapshot> {
        self.rds
            .create_snapshot(instance_id, snapshot_id, self.now, &mut self.rng)
    }

    pub fn reboot_db_instance(
        &mut self,
        instance_id: &str,
        force_failover: bool,
    ) -> BackendResult<DbInstance> {
        self.rds
            .reboot(instance_id, force_failover, self.now, &mut self.rng)
    }

    pub fn restore_db_instance(
        &mut self,
        restore: &crate::backend::DbRestore,
    ) -> BackendResult<DbInstance> {
        let fast = self.drill.is_some();
        self.rds.restore(restore, self.now, fast, &mut self.rng)
    }

    pub fn promote_read_replica(&mut self, instance_id: &str) -> BackendResult<DbInstance> {
        let fast = self.drill.is_some();
        self.rds.promote(instance_id, self.now, fast, &mut self.rng)
    }

    /// EC2 RebootInstances / StopInstances / StartInstances of one host,
    /// then the host as DescribeInstances reads it. A host cured of the
    /// incident under way stops adding that incident's effects to its own
    /// metrics (those with its `InstanceId`).
    pub fn power_instance(
        &mut self,
        id: &str,
        action: crate::domain::PowerAction,
    ) -> BackendResult<crate::domain::Instance> {
        let now = self.now;
        let incident = self
            .active_incident
            .and_then(|(i, until)| Some((self.incidents.get(i)?.name.clone(), until)));
        let key = incident.as_ref().map(|(n, u)| (n.as_str(), *u));
        let Some(host) = self.ec2.iter_mut().find(|h| h.id() == id) else {
            return Err(crate::backend::BackendError::NotFound {
                resource: format!("instance {id} (InvalidInstanceID.NotFound)"),
            });
        };
        let cured = host.power(action, now, key, &mut self.rng)?;
        if cured
            && let Some((i, _)) = self.active_incident
            && let Some(incident) = self.incidents.get(i)
        {
            for (m, _) in &incident.effects {
                if let Some(m) = self.metrics.get_mut(*m)
                    && m.dimension("InstanceId") == Some(id)
                {
                    m.effect = 0.0;
                }
            }
        }
        let key = self.incident_key();
        self.ec2
            .iter()
            .find(|h| h.id() == id)
            .map(|h| h.answer(key))
            .ok_or_else(|| crate::backend::BackendError::NotFound {
                resource: format!("instance {id}"),
            })
    }

    /// Unknown names are ignored, as CloudWatch does.
    pub fn set_alarm_actions(&mut self, names: &[String], enabled: bool) {
        for a in &mut self.alarms {
            if names.contains(&a.name) {
                a.actions_enabled = enabled;
            }
        }
    }
}
