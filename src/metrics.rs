//! Metric history: the time ranges, the one batched query set of an
//! environment (derived from what it has: services, target groups, DB
//! instances, alarms), and looking series up for the views. Pure.

use chrono::TimeDelta;

use crate::domain::{
    Alarm, AlarmState, DbInstance, Instance, MetricQuery, MetricRef, MetricSeries,
    ReplicationGroup, Service, TargetGroup, Timestamp,
};

/// What the query set and an alarm's jump are derived from: an
/// environment's data as it stands (the state implements it; this module
/// does not depend on the state).
pub trait Sources {
    /// The environment's name (for the log).
    fn env_name(&self) -> &str;
    fn services(&self) -> &[Service];
    fn databases(&self) -> &[DbInstance];
    fn target_groups(&self) -> &[TargetGroup];
    fn alarms(&self) -> &[Alarm];
    /// The ElastiCache replication groups (their member clusters' metrics).
    fn replication_groups(&self) -> &[ReplicationGroup];
    /// The EC2 hosts (none where the environment has none).
    fn instances(&self) -> &[Instance] {
        &[]
    }
}

/// How far back the charts look; `R` switches.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum MetricRange {
    #[default]
    Hour,
    ThreeHours,
    TwelveHours,
    Day,
}

impl MetricRange {
    pub const ALL: [MetricRange; 4] = [
        MetricRange::Hour,
        MetricRange::ThreeHours,
        MetricRange::TwelveHours,
        MetricRange::Day,
    ];

    /// The next range, wrapping around.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Hour => Self::ThreeHours,
            Self::ThreeHours => Self::TwelveHours,
            Self::TwelveHours => Self::Day,
            Self::Day => Self::Hour,
        }
    }

    pub fn duration(self) -> TimeDelta {
        TimeDelta::hours(match self {
            Self::Hour => 1,
            Self::ThreeHours => 3,
            Self::TwelveHours => 12,
            Self::Day => 24,
        })
    }

    /// The period of the datapoints: one-minute detail up to 3 h, five
    /// minutes beyond (at most ~300 points a series).
    pub fn period_seconds(self) -> u32 {
        match self {
            Self::Hour | Self::ThreeHours => 60,
            Self::TwelveHours | Self::Day => 300,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::ThreeHours => "3h",
            Self::TwelveHours => "12h",
            Self::Day => "24h",
        }
    }
}

/// What the metrics panel of an environment holds: the request and its
/// answer (one series per query, in the same order).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricsData {
    pub range: MetricRange,
    pub start: Timestamp,
    pub end: Timestamp,
    pub queries: Vec<MetricQuery>,
    pub series: Vec<MetricSeries>,
}

impl MetricsData {
    /// The series of `namespace/name` with `dimensions` and `statistic`.
    pub fn find(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(String, String)],
        statistic: &str,
    ) -> Option<&MetricSeries> {
        let q = self
            .queries
            .iter()
            .find(|q| q.is(namespace, name, dimensions, statistic))?;
        self.series.iter().find(|s| s.id == q.id)
    }

    /// The period of the series of a query (for bucketing and gaps).
    pub fn period_of(&self, id: &str) -> u32 {
        self.queries
            .iter()
            .find(|q| q.id == id)
            .map_or(self.range.period_seconds(), |q| q.period_seconds)
    }

    /// The CPU of an ECS service (Average).
    pub fn service_cpu(&self, cluster: &str, service: &str) -> Option<&MetricSeries> {
        self.find(
            "AWS/ECS",
            "CPUUtilization",
            &ecs_dimensions(cluster, service),
            "Average",
        )
    }

    /// The memory of an ECS service (Average).
    pub fn service_memory(&self, cluster: &str, service: &str) -> Option<&MetricSeries> {
        self.find(
            "AWS/ECS",
            "MemoryUtilization",
            &ecs_dimensions(cluster, service),
            "Average",
        )
    }

    /// One of the load-balancer metrics of a target group (see
    /// [`ALB_METRICS`]) by its `targetgroup/NAME/ID` dimension, at the
    /// range's period (an alarm's own query may use another).
    pub fn target_group(&self, target_group: &str, name: &str) -> Option<&MetricSeries> {
        let (_, stat) = ALB_METRICS.iter().find(|(n, _)| *n == name)?;
        let period = self.range.period_seconds();
        let q = self.queries.iter().find(|q| {
            q.namespace == "AWS/ApplicationELB"
                && q.name == name
                && q.statistic == *stat
                && q.period_seconds == period
                && q.dimensions
                    .iter()
                    .any(|(k, v)| k == "TargetGroup" && v == target_group)
        })?;
        self.series.iter().find(|s| s.id == q.id)
    }

    /// The CPU of an EC2 host (Average), by instance id.
    pub fn host_cpu(&self, instance: &str) -> Option<&MetricSeries> {
        self.find(
            "AWS/EC2",
            "CPUUtilization",
            &[("InstanceId".to_string(), instance.to_string())],
            "Average",
        )
    }

    /// One of the standard metrics of a DB instance (see [`DB_METRICS`]).
    pub fn db(&self, instance: &str, name: &str) -> Option<&MetricSeries> {
        let (_, stat) = DB_METRICS.iter().find(|(n, _)| *n == name)?;
        self.find(
            "AWS/RDS",
            name,
            &[("DBInstanceIdentifier".to_string(), instance.to_string())],
            stat,
        )
    }

    /// One of the standard metrics of an ElastiCache member cluster (see
    /// [`REDIS_METRICS`]), by its `CacheClusterId`.
    pub fn redis(&self, cluster: &str, name: &str) -> Option<&MetricSeries> {
        let (_, stat) = REDIS_METRICS.iter().find(|(n, _)| *n == name)?;
        self.find(
            "AWS/ElastiCache",
            name,
            &[("CacheClusterId".to_string(), cluster.to_string())],
            stat,
        )
    }

    /// The metric an alarm watches, with its statistic and period.
    pub fn alarm(&self, a: &Alarm) -> Option<&MetricSeries> {
        let m = a.metric.as_ref()?;
        self.find(
            &m.namespace,
            &m.name,
            &m.dimensions,
            m.statistic.as_deref().unwrap_or("Average"),
        )
    }
}

pub use crate::domain::known_unit;

/// The RDS metrics queried per instance, with their statistic.
pub const DB_METRICS: [(&str, &str); 4] = [
    ("CPUUtilization", "Average"),
    ("DatabaseConnections", "Average"),
    ("FreeStorageSpace", "Minimum"),
    ("ReplicaLag", "Maximum"),
];

/// The ElastiCache metrics queried per member cluster (dimension
/// `CacheClusterId`), with their statistic; `ReplicationLag` for replicas
/// only.
pub const REDIS_METRICS: [(&str, &str); 6] = [
    ("EngineCPUUtilization", "Average"),
    ("CPUUtilization", "Average"),
    ("DatabaseMemoryUsagePercentage", "Maximum"),
    ("Evictions", "Sum"),
    ("CurrConnections", "Maximum"),
    ("ReplicationLag", "Maximum"),
];

/// The ALB metrics queried per target group, with their statistic.
pub const ALB_METRICS: [(&str, &str); 3] = [
    ("HTTPCode_Target_5XX_Count", "Sum"),
    ("TargetResponseTime", "Average"),
    ("RequestCount", "Sum"),
];

fn ecs_dimensions(cluster: &str, service: &str) -> Vec<(String, String)> {
    vec![
        ("ClusterName".to_string(), cluster.to_string()),
        ("ServiceName".to_string(), service.to_string()),
    ]
}

/// The `app/NAME/ID` dimension of a load balancer ARN.
pub fn load_balancer_dimension(arn: &str) -> Option<&str> {
    arn.split_once(":loadbalancer/").map(|(_, rest)| rest)
}

/// The `targetgroup/NAME/ID` dimension of a target group ARN.
pub fn target_group_dimension(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// Every query of an environment for `range`, in one request: the CPU and
/// memory of its services, the 5XX / latency / requests of its target
/// groups, the RDS metrics of its instances and the metric of every alarm
/// (with the alarm's statistic and period). At most `limit` queries; the
/// ones on the main views come first.
pub fn queries(env: &impl Sources, range: MetricRange, limit: usize) -> Vec<MetricQuery> {
    let period = range.period_seconds();
    let mut out: Vec<MetricQuery> = Vec::new();
    // What is already asked for (a linear search made 500 services cost 7 ms).
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut push =
        |namespace: &str, name: &str, dims: Vec<(String, String)>, stat: &str, p: u32| {
            let mut sorted: Vec<&(String, String)> = dims.iter().collect();
            sorted.sort();
            if !seen.insert(format!(
                "{namespace}\u{1f}{name}\u{1f}{sorted:?}\u{1f}{stat}\u{1f}{p}"
            )) {
                return;
            }
            out.push(MetricQuery {
                id: format!("m{}", out.len()),
                namespace: namespace.to_string(),
                name: name.to_string(),
                dimensions: dims,
                statistic: stat.to_string(),
                period_seconds: p,
            });
        };
    let mut services: Vec<_> = env.services().iter().collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    for s in &services {
        let cluster = crate::domain::short_id(&s.cluster_arn);
        for name in ["CPUUtilization", "MemoryUtilization"] {
            push(
                "AWS/ECS",
                name,
                ecs_dimensions(cluster, &s.name),
                "Average",
                period,
            );
        }
    }
    let mut dbs: Vec<_> = env.databases().iter().collect();
    dbs.sort_by(|a, b| a.id.cmp(&b.id));
    for d in &dbs {
        for (name, stat) in DB_METRICS {
            if name == "ReplicaLag" && d.replica_source.is_none() {
                continue;
            }
            let dims = vec![("DBInstanceIdentifier".to_string(), d.id.clone())];
            push("AWS/RDS", name, dims, stat, period);
        }
    }
    let mut groups: Vec<_> = env.replication_groups().iter().collect();
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    for g in &groups {
        for m in &g.members {
            for (name, stat) in REDIS_METRICS {
                // A primary has no replication lag (role unknown: asked).
                if name == "ReplicationLag" && m.is_primary() {
                    continue;
                }
                let dims = vec![("CacheClusterId".to_string(), m.cluster_id.clone())];
                push("AWS/ElastiCache", name, dims, stat, period);
            }
        }
    }
    let mut hosts: Vec<_> = env.instances().iter().collect();
    hosts.sort_by(|a, b| a.id.cmp(&b.id));
    for h in &hosts {
        let dims = vec![("InstanceId".to_string(), h.id.clone())];
        push("AWS/EC2", "CPUUtilization", dims, "Average", period);
    }
    // Target groups with their load balancer: from ELBv2, and from the
    // dimensions of the alarms on them.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for tg in env.target_groups() {
        for lb in &tg.load_balancer_arns {
            if let Some(lb) = load_balancer_dimension(lb) {
                pairs.push((lb.to_string(), target_group_dimension(&tg.arn).to_string()));
            }
        }
    }
    for a in env.alarms() {
        let Some(m) = &a.metric else { continue };
        if m.namespace != "AWS/ApplicationELB" {
            continue;
        }
        let dim = |k: &str| m.dimensions.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        if let (Some(lb), Some(tg)) = (dim("LoadBalancer"), dim("TargetGroup")) {
            pairs.push((lb.clone(), tg.clone()));
        }
    }
    pairs.sort();
    pairs.dedup();
    for (lb, tg) in &pairs {
        for (name, stat) in ALB_METRICS {
            let dims = vec![
                ("LoadBalancer".to_string(), lb.clone()),
                ("TargetGroup".to_string(), tg.clone()),
            ];
            push("AWS/ApplicationELB", name, dims, stat, period);
        }
    }
    let mut alarms: Vec<_> = env.alarms().iter().collect();
    alarms.sort_by(|a, b| a.name.cmp(&b.name));
    for a in alarms {
        let Some(m) = &a.metric else { continue };
        let stat = m.statistic.as_deref().unwrap_or("Average");
        // The alarm's own period, so the chart compares like the alarm does.
        let p = a.period_seconds.unwrap_or(period).max(60);
        push(&m.namespace, &m.name, m.dimensions.clone(), stat, p);
    }
    if out.len() > limit {
        tracing::warn!(
            env = %env.env_name(),
            queries = out.len(),
            limit,
            "more metrics than one poll asks for; the rest are not charted"
        );
        out.truncate(limit);
    }
    out
}

/// The resource an alarm watches, as the console can show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    Service(String),
    Database(String),
    /// An EC2 host, by instance id.
    Host(String),
    /// An ElastiCache replication group, by id (from its own dimension or
    /// a member cluster's).
    Redis(String),
    /// A resource the console has no view of (described for the message).
    Other(String),
}

/// What the alarm's metric dimensions point at: `ServiceName` → the
/// service; `TargetGroup` (or `LoadBalancer`) → the service behind that
/// target group; `DBInstanceIdentifier` → the instance; `InstanceId` → the
/// EC2 host.
pub fn watched(env: &impl Sources, metric: &MetricRef) -> Watched {
    let dim = |k: &str| {
        metric
            .dimensions
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    if let Some(service) = dim("ServiceName") {
        return Watched::Service(service.to_string());
    }
    if let Some(db) = dim("DBInstanceIdentifier") {
        return Watched::Database(db.to_string());
    }
    if let Some(id) = dim("InstanceId") {
        return Watched::Host(id.to_string());
    }
    if let Some(group) = redis_group_of(env, metric) {
        return Watched::Redis(group);
    }
    let services = env.services().iter();
    if let Some(tg) = dim("TargetGroup") {
        let behind = services.clone().find(|s| {
            s.load_balancers.iter().any(|lb| {
                lb.target_group_arn
                    .as_deref()
                    .is_some_and(|arn| target_group_dimension(arn) == tg)
            })
        });
        if let Some(s) = behind {
            return Watched::Service(s.name.clone());
        }
        return Watched::Other(format!("target group {tg}"));
    }
    if let Some(lb) = dim("LoadBalancer") {
        // The services behind target groups of this load balancer.
        let groups: Vec<&str> = env
            .target_groups()
            .iter()
            .filter(|g| {
                g.load_balancer_arns
                    .iter()
                    .any(|a| load_balancer_dimension(a) == Some(lb))
            })
            .map(|g| g.arn.as_str())
            .collect();
        let behind = services.clone().find(|s| {
            s.load_balancers.iter().any(|l| {
                l.target_group_arn
                    .as_deref()
                    .is_some_and(|a| groups.contains(&a))
            })
        });
        if let Some(s) = behind {
            return Watched::Service(s.name.clone());
        }
        return Watched::Other(format!("load balancer {lb}"));
    }
    Watched::Other(format!("{} {}", metric.namespace, metric.name))
}

/// The replication group an ElastiCache metric names: by its
/// `ReplicationGroupId` dimension, or by a `CacheClusterId` that is one of
/// a group's members (a member cluster of a group not read: the id up to
/// its `-NNN` suffix, as ElastiCache names members).
pub fn redis_group_of(env: &impl Sources, metric: &MetricRef) -> Option<String> {
    let dim = |k: &str| {
        metric
            .dimensions
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    if let Some(group) = dim("ReplicationGroupId") {
        return Some(group.to_string());
    }
    let cluster = dim("CacheClusterId")?;
    if let Some(g) = env
        .replication_groups()
        .iter()
        .find(|g| g.id == cluster || g.members.iter().any(|m| m.cluster_id == cluster))
    {
        return Some(g.id.clone());
    }
    let (group, suffix) = cluster.rsplit_once('-')?;
    (metric.namespace == "AWS/ElastiCache"
        && suffix.len() == 3
        && suffix.bytes().all(|b| b.is_ascii_digit()))
    .then(|| group.to_string())
}

/// The periods an alarm was in ALARM within `[start, end)`: from its
/// history when the server provides one (state changes), else the
/// datapoints that breach the threshold.
pub fn alarm_periods(
    alarm: &Alarm,
    history: Option<&[crate::domain::AlarmHistoryItem]>,
    series: Option<&MetricSeries>,
    period_seconds: u32,
    start: Timestamp,
    end: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    if let Some(items) = history.filter(|h| h.iter().any(|i| i.new_state.is_some())) {
        let mut changes: Vec<(Timestamp, AlarmState)> = items
            .iter()
            .filter_map(|i| Some((i.timestamp, i.new_state?)))
            .collect();
        changes.sort_by_key(|(t, _)| *t);
        let mut open: Option<Timestamp> = None;
        // The state before the first change in view.
        if let Some((_, first)) = changes.iter().find(|(t, _)| *t >= start) {
            let before = items
                .iter()
                .filter(|i| i.timestamp >= start)
                .min_by_key(|i| i.timestamp)
                .and_then(|i| i.old_state);
            if before == Some(AlarmState::Alarm) && *first != AlarmState::Alarm {
                open = Some(start);
            }
        } else if alarm.state == AlarmState::Alarm {
            open = Some(start);
        }
        for (t, s) in changes.iter().filter(|(t, _)| *t >= start && *t < end) {
            match (s, open) {
                (AlarmState::Alarm, None) => open = Some(*t),
                (AlarmState::Alarm, Some(_)) => {}
                (_, Some(from)) => {
                    out.push((from, *t));
                    open = None;
                }
                (_, None) => {}
            }
        }
        if let Some(from) = open {
            out.push((from, end));
        }
        return out;
    }
    let (Some(series), Some(threshold)) = (series, alarm.threshold) else {
        return out;
    };
    let breaches = |v: f64| match alarm.comparison.as_deref() {
        Some("GreaterThanThreshold") => v > threshold,
        Some("GreaterThanOrEqualToThreshold") => v >= threshold,
        Some("LessThanThreshold") => v < threshold,
        Some("LessThanOrEqualToThreshold") => v <= threshold,
        _ => false,
    };
    let step = TimeDelta::seconds(i64::from(period_seconds.max(1)));
    for (t, v) in &series.points {
        if !breaches(*v) || *t < start || *t >= end {
            continue;
        }
        match out.last_mut() {
            Some((_, to)) if *to >= *t => *to = *t + step,
            _ => out.push((*t, *t + step)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AlarmHistoryItem;
    use chrono::{TimeZone, Utc};

    fn t(min: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("time")
            + TimeDelta::minutes(min)
    }

    fn alarm(state: AlarmState) -> Alarm {
        Alarm {
            name: "cpu".into(),
            arn: "arn".into(),
            description: None,
            state,
            state_reason: String::new(),
            state_updated_at: t(0),
            actions_enabled: true,
            composite: false,
            metric: None,
            comparison: Some("GreaterThanThreshold".into()),
            threshold: Some(80.0),
            period_seconds: Some(60),
            evaluation_periods: Some(1),
        }
    }

    fn change(min: i64, old: AlarmState, new: AlarmState) -> AlarmHistoryItem {
        AlarmHistoryItem {
            timestamp: t(min),
            kind: "StateUpdate".into(),
            summary: String::new(),
            old_state: Some(old),
            new_state: Some(new),
            reason: None,
        }
    }

    #[test]
    fn ranges_cycle_with_their_periods() {
        let mut r = MetricRange::default();
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push((r.label(), r.period_seconds()));
            r = r.next();
        }
        assert_eq!(r, MetricRange::Hour);
        assert_eq!(
            seen,
            vec![("1h", 60), ("3h", 60), ("12h", 300), ("24h", 300)]
        );
    }

    #[test]
    fn alarm_periods_come_from_history_or_breaching_points() {
        use AlarmState::{Alarm as A, Ok as O};
        // History: OK → ALARM at 10, ALARM → OK at 20, OK → ALARM at 50.
        let h = vec![change(50, O, A), change(20, A, O), change(10, O, A)];
        let p = alarm_periods(&alarm(A), Some(&h), None, 60, t(0), t(60));
        assert_eq!(p, vec![(t(10), t(20)), (t(50), t(60))]);
        // Already in ALARM when the range starts.
        let h = vec![change(30, A, O)];
        let p = alarm_periods(&alarm(O), Some(&h), None, 60, t(0), t(60));
        assert_eq!(p, vec![(t(0), t(30))]);
        // No history: breaching datapoints, adjacent ones merged.
        let s = MetricSeries {
            id: "m0".into(),
            label: "CPU".into(),
            unit: None,
            points: vec![(t(1), 90.0), (t(2), 95.0), (t(3), 10.0), (t(5), 81.0)],
        };
        let p = alarm_periods(&alarm(A), None, Some(&s), 60, t(0), t(60));
        assert_eq!(p, vec![(t(1), t(3)), (t(5), t(6))]);
        let p = alarm_periods(&alarm(A), Some(&[]), Some(&s), 60, t(0), t(60));
        assert_eq!(p.len(), 2, "an empty history falls back to the data");
    }

    #[test]
    fn dimensions_of_arns() {
        assert_eq!(
            load_balancer_dimension(
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:loadbalancer/app/alb/50dc"
            ),
            Some("app/alb/50dc")
        );
        assert_eq!(
            target_group_dimension(
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/web/73e2"
            ),
            "targetgroup/web/73e2"
        );
    }
}
