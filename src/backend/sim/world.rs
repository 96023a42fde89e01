//! The world description: `assets/sim/world.toml`, parsed and checked.
//!
//! Everything a simulated world contains (account, clusters, services and
//! their task-definition history, databases, snapshots, metric baselines,
//! alarms, incidents) is data; this module only gives it types and refuses a
//! description whose references do not hold together.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::SimError;

/// The embedded description of every world.
pub(crate) const WORLD_TOML: &str = include_str!("../../../assets/sim/world.toml");

/// The whole description file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Description {
    #[serde(rename = "world")]
    pub worlds: Vec<WorldDesc>,
}

/// One world: an AWS account in one region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorldDesc {
    pub name: String,
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub protected: bool,
    /// The recovery time objective the demo's environment is configured
    /// with (`rto_minutes`).
    #[serde(default)]
    pub rto_minutes: Option<u32>,
    /// ECS clusters (none: a world of EC2 hosts only).
    #[serde(default)]
    pub clusters: Vec<String>,
    pub availability_zones: Vec<String>,
    /// Whether `honban --demo` opens it without being asked
    /// (`--world NAME` opens any world).
    #[serde(default = "yes")]
    pub demo: bool,
    /// The tag filter its environment selects its EC2 hosts by
    /// (`ec2_tags` of the config).
    #[serde(default)]
    pub ec2_tags: BTreeMap<String, String>,
    #[serde(default, rename = "instance")]
    pub instances: Vec<InstanceDesc>,
    /// The IAM role the operator assumes (for `GetCallerIdentity`).
    pub operator_role: String,
    /// The role's unique id (`AROA...`).
    pub role_id: String,
    #[serde(default = "default_session")]
    pub session: String,
    /// The random part of RDS endpoints in this account and region.
    pub rds_endpoint_id: String,
    /// When the daily traffic peaks, in hours UTC.
    #[serde(default = "default_peak")]
    pub daily_peak_hour_utc: f64,
    #[serde(default)]
    pub chaos: ChaosDesc,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceDesc>,
    #[serde(default, rename = "db")]
    pub dbs: Vec<DbDesc>,
    #[serde(default, rename = "snapshot")]
    pub snapshots: Vec<SnapshotDesc>,
    #[serde(default, rename = "metric")]
    pub metrics: Vec<MetricDesc>,
    #[serde(default, rename = "alarm")]
    pub alarms: Vec<AlarmDesc>,
    #[serde(default, rename = "incident")]
    pub incidents: Vec<IncidentDesc>,
    /// Tasks that stopped shortly before the simulation starts.
    #[serde(default, rename = "stopped_task")]
    pub stopped_tasks: Vec<StoppedTaskDesc>,
    // --- probes
    /// The health endpoints of the world's services.
    #[serde(default, rename = "health_check")]
    pub health_checks: Vec<super::health::HealthCheckDesc>,
    // --- cloudfront
    /// The CloudFront distributions in front of the world's services.
    #[serde(default, rename = "distribution")]
    pub distributions: Vec<super::cloudfront::DistributionDesc>,
    // --- elasticache
    /// The Redis replication groups of the world's services.
    #[serde(default, rename = "replication_group")]
    pub replication_groups: Vec<super::elasticache::ReplicationGroupDesc>,
    // --- ELBv2 in front of EC2 hosts
    /// Target groups whose targets are EC2 hosts (instance targets).
    #[serde(default, rename = "host_target_group")]
    pub host_target_groups: Vec<HostTargetGroupDesc>,
    // --- codedeploy
    /// The CodeDeploy deployment groups of its CODE_DEPLOY services.
    #[serde(default, rename = "codedeploy")]
    pub codedeploy: Vec<super::codedeploy::GroupDesc>,
}

/// An ELBv2 target group of instance targets: the world's EC2 hosts it
/// names, each healthy while it runs with its checks ok.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostTargetGroupDesc {
    pub arn: String,
    pub port: u16,
    #[serde(default)]
    pub health_check_path: Option<String>,
    /// The load balancer in front of it (its ARN).
    #[serde(default)]
    pub load_balancer: Option<String>,
    /// The instance ids registered in it.
    pub instances: Vec<String>,
}

fn default_session() -> String {
    "honban-demo".to_string()
}

fn default_peak() -> f64 {
    12.0
}

/// How often things go wrong on their own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChaosDesc {
    /// Mean time between spontaneous task stops in the whole world.
    #[serde(default)]
    pub task_stop_every: Option<Span>,
    /// Quiet time between two incidents: `[min, max]`.
    #[serde(default)]
    pub incident_gap: Option<[Span; 2]>,
    /// Share of replacement tasks that fail to start (secrets, ENI, ...).
    #[serde(default)]
    pub start_failure_rate: f64,
    /// The first incident, sooner than `incident_gap` (so that a new user of
    /// the demo sees an alarm fire in the first minutes).
    #[serde(default)]
    pub first_incident: Option<FirstIncidentDesc>,
}

/// When the first incident starts, and which one (else one by weight).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirstIncidentDesc {
    pub after: [Span; 2],
    #[serde(default)]
    pub name: Option<String>,
}

/// An ECS service and its task-definition family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceDesc {
    pub name: String,
    pub cluster: String,
    pub family: String,
    pub desired_count: u32,
    pub cpu: String,
    pub memory: String,
    #[serde(default)]
    pub task_role: Option<String>,
    pub execution_role: String,
    pub created_ago: Span,
    #[serde(default)]
    pub load_balancer: Option<LoadBalancerDesc>,
    #[serde(default)]
    pub autoscaling: Option<AutoscalingDesc>,
    pub circuit_breaker: CircuitBreakerDesc,
    /// `CODE_DEPLOY`: deployed by the world's CodeDeploy (a
    /// `[[world.codedeploy]]` group names it); else ECS.
    #[serde(default)]
    pub deployment_controller: Option<String>,
    #[serde(rename = "container")]
    pub containers: Vec<ContainerDesc>,
    /// Oldest first; the last one is deployed.
    #[serde(rename = "revision")]
    pub revisions: Vec<RevisionDesc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoadBalancerDesc {
    /// `targetgroup/NAME/ID`, as in the ARN and in CloudWatch dimensions.
    pub target_group: String,
    pub container: String,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutoscalingDesc {
    pub min: u32,
    pub max: u32,
    pub target_cpu: f64,
    pub policy: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CircuitBreakerDesc {
    pub enable: bool,
    pub rollback: bool,
}

/// A container definition. `repository` (an ECR repository of the account)
/// takes the revision's tag; `image` is a fixed, complete image reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContainerDesc {
    pub name: String,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default = "yes")]
    pub essential: bool,
    #[serde(default)]
    pub cpu: Option<u32>,
    #[serde(default)]
    pub memory: Option<u32>,
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub health_check: bool,
    /// `[name, "service:resource"]`: the ARN without `arn:aws:` and the
    /// region and account, e.g. `secretsmanager:secret:prod/db-AbCdEf`.
    #[serde(default)]
    pub secrets: Vec<[String; 2]>,
    #[serde(default = "default_stream_prefix")]
    pub log_stream_prefix: String,
}

fn yes() -> bool {
    true
}

fn default_stream_prefix() -> String {
    "ecs".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevisionDesc {
    pub revision: u32,
    pub tag: String,
    pub registered_ago: Span,
}

/// An EC2 instance (a host running the app).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceDesc {
    pub id: String,
    pub instance_type: String,
    pub az: String,
    pub private_ip: String,
    pub launched_ago: Span,
    /// `running` (the default), `stopped`, ...
    #[serde(default = "default_instance_state")]
    pub state: String,
    /// The incident during which its instance status check is impaired
    /// (the host stops answering: memory exhausted, the OS hung).
    #[serde(default)]
    pub impaired_during: Option<String>,
    /// Tags, `{ Name = "app-1" }`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_instance_state() -> String {
    "running".to_string()
}

/// An RDS DB instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DbDesc {
    pub id: String,
    #[serde(default = "default_engine")]
    pub engine: String,
    pub engine_version: String,
    pub class: String,
    #[serde(default)]
    pub multi_az: bool,
    pub az: String,
    #[serde(default)]
    pub secondary_az: Option<String>,
    pub storage_gib: u32,
    pub storage_type: String,
    #[serde(default)]
    pub backup_retention_days: u32,
    /// Start of the daily backup window, `HH:MM` UTC.
    #[serde(default)]
    pub backup_window_utc: Option<String>,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub replica_of: Option<String>,
    pub created_ago: Span,
    #[serde(default)]
    pub subnet_group: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub parameter_group: Option<String>,
    #[serde(default)]
    pub option_group: Option<String>,
    #[serde(default)]
    pub deletion_protection: bool,
    /// Tags, `{ key = "value" }`.
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
}

fn default_engine() -> String {
    "postgres".to_string()
}

fn default_port() -> u16 {
    5432
}

/// A manual DB snapshot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotDesc {
    pub id: String,
    pub instance: String,
    pub created_ago: Span,
}

/// A metric and how it behaves: a mean-reverting walk around a daily shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricDesc {
    /// The name alarms and incidents use for it.
    pub id: String,
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub mean: f64,
    /// Standard deviation of the walk around the daily shape.
    #[serde(default)]
    pub noise: f64,
    /// Relative swing of the daily shape (0.3 = ±30 % of the mean).
    #[serde(default)]
    pub daily_amplitude: f64,
    #[serde(default)]
    pub min: f64,
    #[serde(default)]
    pub max: Option<f64>,
    /// Whole numbers only (counts).
    #[serde(default)]
    pub integer: bool,
    /// How fast the walk returns to the shape.
    #[serde(default = "default_reversion")]
    pub reversion: Span,
    /// The load is spread over the running tasks of this service: the value
    /// scales with `desired_count / running`, and is missing at zero tasks.
    #[serde(default)]
    pub spread_over_service: Option<String>,
    /// A metric nothing publishes (its alarms stay INSUFFICIENT_DATA).
    #[serde(default = "yes")]
    pub reporting: bool,
}

fn default_reversion() -> Span {
    Span(120)
}

/// A CloudWatch metric alarm on one of the world's metrics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlarmDesc {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub metric: String,
    pub statistic: String,
    pub comparison: String,
    pub threshold: f64,
    pub period: u32,
    pub evaluation_periods: u32,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default = "yes")]
    pub actions_enabled: bool,
}

/// Something that goes wrong for a while: offsets added to metrics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentDesc {
    pub name: String,
    #[serde(default = "one")]
    pub weight: u32,
    pub duration: [Span; 2],
    pub effects: Vec<EffectDesc>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EffectDesc {
    pub metric: String,
    pub add: f64,
}

/// A task of a service that stopped before the start (and was replaced).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoppedTaskDesc {
    pub service: String,
    pub ago: Span,
    /// `exited`, `oom`, `elb-health` or `failed-to-start`.
    pub kind: String,
}

/// The kinds of spontaneous task stop a description may name.
pub(crate) const STOP_KINDS: [&str; 4] = ["exited", "oom", "elb-health", "failed-to-start"];

/// A length of time written `90s`, `5m`, `3h`, `21d` or `1d6h`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct Span(pub i64);

/// The longest span a description may use (ten years).
const MAX_SPAN_SECS: i64 = 10 * 366 * 86_400;

impl TryFrom<String> for Span {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        parse_span(&s).map(Span)
    }
}

impl Span {
    pub fn delta(self) -> chrono::TimeDelta {
        chrono::TimeDelta::try_seconds(self.0).unwrap_or_default()
    }
}

fn parse_span(s: &str) -> Result<i64, String> {
    let bad = || format!("bad duration {s:?} (write e.g. 90s, 5m, 3h, 21d, 1d6h)");
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
        any = true;
    }
    if !any || !number.is_empty() || total > MAX_SPAN_SECS {
        return Err(bad());
    }
    Ok(total)
}

/// Parses the embedded description.
pub(crate) fn embedded() -> Result<Description, SimError> {
    parse(WORLD_TOML)
}

/// Parses and checks a description.
pub(crate) fn parse(text: &str) -> Result<Description, SimError> {
    let desc: Description =
        toml::from_str(text).map_err(|e| SimError::Description(e.to_string()))?;
    let mut names = BTreeSet::new();
    for w in &desc.worlds {
        if !names.insert(w.name.as_str()) {
            return Err(bad(
                &w.name,
                &format!("world {:?} is described twice", w.name),
            ));
        }
        check_world(w).map_err(|m| bad(&w.name, &m))?;
    }
    Ok(desc)
}

fn bad(world: &str, message: &str) -> SimError {
    SimError::Description(format!("world {world:?}: {message}"))
}

const STATISTICS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];
const COMPARISONS: [&str; 4] = [
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

fn check_world(w: &WorldDesc) -> Result<(), String> {
    if w.account.len() != 12 || !w.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account {:?} is not 12 digits", w.account));
    }
    if w.clusters.is_empty() && w.instances.is_empty() {
        return Err("no cluster and no EC2 instance".into());
    }
    let mut groups = BTreeSet::new();
    for g in &w.replication_groups {
        if !groups.insert(g.id.as_str()) {
            return Err(format!("replication group {:?} is described twice", g.id));
        }
        if g.nodes.is_empty() {
            return Err(format!("replication group {:?} has no node", g.id));
        }
        if let Some(az) = g.nodes.iter().find(|az| !w.availability_zones.contains(az)) {
            return Err(format!(
                "replication group {:?}: node zone {az:?} is not a zone of this world",
                g.id
            ));
        }
    }
    let mut instances = BTreeSet::new();
    for i in &w.instances {
        if !instances.insert(i.id.as_str()) {
            return Err(format!("EC2 instance {:?} is described twice", i.id));
        }
        if !matches!(i.state.as_str(), "running" | "stopped") {
            return Err(format!(
                "EC2 instance {:?}: state {:?} is not running or stopped",
                i.id, i.state
            ));
        }
        if let Some(name) = &i.impaired_during
            && !w.incidents.iter().any(|x| &x.name == name)
        {
            return Err(format!(
                "EC2 instance {:?}: impaired_during names {name:?}, which is not an incident of this world",
                i.id
            ));
        }
    }
    if w.availability_zones.is_empty() {
        return Err("no availability zone".into());
    }
    if let Some([lo, hi]) = w.chaos.incident_gap
        && (lo.0 < 1 || hi.0 < lo.0)
    {
        return Err("chaos.incident_gap must be [min, max] with 0 < min <= max".into());
    }
    if let Some(first) = &w.chaos.first_incident {
        let [lo, hi] = first.after;
        if lo.0 < 1 || hi.0 < lo.0 {
            return Err("chaos.first_incident.after must be [min, max] with 0 < min <= max".into());
        }
        if w.chaos.incident_gap.is_none() {
            return Err("chaos.first_incident needs chaos.incident_gap".into());
        }
        if let Some(name) = &first.name
            && !w.incidents.iter().any(|i| &i.name == name)
        {
            return Err(format!(
                "chaos.first_incident names {name:?}, which is not an incident of this world"
            ));
        }
    }
    if w.chaos.task_stop_every.is_some_and(|s| s.0 < 1) {
        return Err("chaos.task_stop_every must be positive".into());
    }
    if !(0.0..=1.0).contains(&w.chaos.start_failure_rate) {
        return Err("chaos.start_failure_rate must be between 0 and 1".into());
    }
    let mut services = BTreeSet::new();
    for s in &w.services {
        if !services.insert(s.name.as_str()) {
            return Err(format!("service {:?} is described twice", s.name));
        }
        check_service(w, s).map_err(|m| format!("service {:?}: {m}", s.name))?;
    }
    let mut dbs = BTreeSet::new();
    for d in &w.dbs {
        if !dbs.insert(d.id.as_str()) {
            return Err(format!("DB instance {:?} is described twice", d.id));
        }
        if d.multi_az != d.secondary_az.is_some() {
            return Err(format!(
                "DB instance {:?}: a secondary_az is needed exactly when multi_az",
                d.id
            ));
        }
        if let Some(w) = &d.backup_window_utc
            && parse_hhmm(w).is_none()
        {
            return Err(format!(
                "DB instance {:?}: bad backup_window_utc {w:?}",
                d.id
            ));
        }
    }
    for d in &w.dbs {
        if let Some(src) = &d.replica_of
            && (!dbs.contains(src.as_str()) || src == &d.id)
        {
            return Err(format!(
                "DB instance {:?}: unknown replica source {src:?}",
                d.id
            ));
        }
    }
    for s in &w.snapshots {
        if !dbs.contains(s.instance.as_str()) {
            return Err(format!(
                "snapshot {:?}: unknown instance {:?}",
                s.id, s.instance
            ));
        }
    }
    let mut metrics = BTreeSet::new();
    for m in &w.metrics {
        if !metrics.insert(m.id.as_str()) {
            return Err(format!("metric {:?} is described twice", m.id));
        }
        if m.reversion.0 < 1 || m.noise < 0.0 {
            return Err(format!(
                "metric {:?}: reversion and noise must be positive",
                m.id
            ));
        }
        if let Some(s) = &m.spread_over_service
            && !services.contains(s.as_str())
        {
            return Err(format!("metric {:?}: unknown service {s:?}", m.id));
        }
    }
    let mut alarms = BTreeSet::new();
    for a in &w.alarms {
        if !alarms.insert(a.name.as_str()) {
            return Err(format!("alarm {:?} is described twice", a.name));
        }
        if !metrics.contains(a.metric.as_str()) {
            return Err(format!("alarm {:?}: unknown metric {:?}", a.name, a.metric));
        }
        if !STATISTICS.contains(&a.statistic.as_str()) {
            return Err(format!(
                "alarm {:?}: unknown statistic {:?}",
                a.name, a.statistic
            ));
        }
        if !COMPARISONS.contains(&a.comparison.as_str()) {
            return Err(format!(
                "alarm {:?}: unknown comparison {:?}",
                a.name, a.comparison
            ));
        }
        if a.period < 60 || a.period % 60 != 0 || a.evaluation_periods == 0 {
            return Err(format!(
                "alarm {:?}: period must be a multiple of 60 s, evaluation_periods positive",
                a.name
            ));
        }
        if u64::from(a.period) * u64::from(a.evaluation_periods) > 86_400 {
            return Err(format!("alarm {:?}: evaluates more than a day", a.name));
        }
    }
    for i in &w.incidents {
        if i.duration[0].0 < 1 || i.duration[1].0 < i.duration[0].0 || i.weight == 0 {
            return Err(format!("incident {:?}: bad duration or weight", i.name));
        }
        for e in &i.effects {
            if !metrics.contains(e.metric.as_str()) {
                return Err(format!(
                    "incident {:?}: unknown metric {:?}",
                    i.name, e.metric
                ));
            }
        }
    }
    // --- codedeploy
    for g in &w.codedeploy {
        let Some(svc) = w.services.iter().find(|s| s.name == g.service) else {
            return Err(format!(
                "codedeploy {:?}: unknown service {:?}",
                g.deployment_group, g.service
            ));
        };
        if svc.deployment_controller.as_deref() != Some("CODE_DEPLOY") {
            return Err(format!(
                "codedeploy {:?}: service {:?} is not deployment_controller = \"CODE_DEPLOY\"",
                g.deployment_group, g.service
            ));
        }
        if svc.load_balancer.is_none() {
            return Err(format!(
                "codedeploy {:?}: service {:?} has no load balancer to shift",
                g.deployment_group, g.service
            ));
        }
    }
    for s in &w.services {
        if let Some(c) = &s.deployment_controller
            && !matches!(c.as_str(), "ECS" | "CODE_DEPLOY" | "EXTERNAL")
        {
            return Err(format!(
                "service {:?}: unknown deployment_controller {c:?}",
                s.name
            ));
        }
    }
    for t in &w.stopped_tasks {
        if !services.contains(t.service.as_str()) {
            return Err(format!("stopped task: unknown service {:?}", t.service));
        }
        if !STOP_KINDS.contains(&t.kind.as_str()) {
            return Err(format!("stopped task: unknown kind {:?}", t.kind));
        }
    }
    Ok(())
}

fn check_service(w: &WorldDesc, s: &ServiceDesc) -> Result<(), String> {
    if !w.clusters.contains(&s.cluster) {
        return Err(format!("unknown cluster {:?}", s.cluster));
    }
    if s.containers.is_empty() {
        return Err("no container".into());
    }
    let mut names = BTreeSet::new();
    for c in &s.containers {
        if !names.insert(c.name.as_str()) {
            return Err(format!("container {:?} is described twice", c.name));
        }
        if c.repository.is_some() == c.image.is_some() {
            return Err(format!(
                "container {:?}: give exactly one of repository and image",
                c.name
            ));
        }
    }
    if s.revisions.is_empty() {
        return Err("no revision".into());
    }
    if s.revisions
        .windows(2)
        .any(|p| p[0].revision >= p[1].revision)
    {
        return Err("revisions must be listed oldest first".into());
    }
    if let Some(lb) = &s.load_balancer
        && !names.contains(lb.container.as_str())
    {
        return Err(format!(
            "load balancer: unknown container {:?}",
            lb.container
        ));
    }
    if let Some(a) = &s.autoscaling
        && (a.min > a.max || a.target_cpu <= 0.0)
    {
        return Err("autoscaling: min must not exceed max, target_cpu positive".into());
    }
    Ok(())
}

/// `HH:MM` as (hour, minute).
pub(crate) fn parse_hhmm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse() {
        assert_eq!(parse_span("90s"), Ok(90));
        assert_eq!(parse_span("5m"), Ok(300));
        assert_eq!(parse_span("1d6h"), Ok(108_000));
        assert!(parse_span("").is_err());
        assert!(parse_span("5").is_err());
        assert!(parse_span("5w").is_err());
        assert!(parse_span("99999d").is_err());
    }

    #[test]
    fn the_embedded_description_is_valid() {
        let desc = embedded().expect("the embedded description parses");
        assert!(desc.worlds.len() >= 2);
    }

    #[test]
    fn broken_references_are_refused() {
        let text = WORLD_TOML.replacen("metric = \"web-cpu\"", "metric = \"no-such\"", 1);
        assert!(text != WORLD_TOML);
        let err = parse(&text).expect_err("a broken reference").to_string();
        assert!(err.contains("no-such"), "{err}");
        assert!(parse("[[world]]\nname = 1").is_err());
        let text = WORLD_TOML.replacen("name = \"api 5XX spike\" }", "name = \"no such\" }", 1);
        assert!(text != WORLD_TOML);
        let err = parse(&text)
            .expect_err("an unknown first incident")
            .to_string();
        assert!(
            err.contains("first_incident") && err.contains("no such"),
            "{err}"
        );
    }
}
