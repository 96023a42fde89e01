//! Request rates per AWS API after the services' documented limits, shared
//! by every poller of every environment that reaches the same account and
//! region, adapting down when AWS throttles and back up when it stops
//! (AIMD), and the request counters of the diagnostics view.
//!
//! One token bucket per *scope* (an account and region: the credentials'
//! source, the endpoint and the region, since the account id is known only
//! after the first answer) and API group. A request takes a token before it
//! is sent; the SDK's own retries of it are debited after the fact by
//! [`AttemptCounter`], an interceptor that sees every attempt, so the
//! bucket (and the diagnostics view) count every request that really went
//! out. A throttled attempt halves the group's rate and empties its bucket
//! (at most once per second: one burst answered with throttles is one
//! signal); every successful attempt gives back a twentieth of the
//! published rate, so a halved rate is whole again after ten answers.
//!
//! The bucket arithmetic ([`Bucket`]) takes the time as an argument, so it
//! is tested with a fake clock; [`Limits`] feeds it tokio's clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::backend::OpStats;

/// Requests in flight at once to one service in one scope: enough for
/// every batch of a first screen to go out together (11 DescribeServices
/// of 105 services), bounded so a large account cannot open hundreds of
/// connections.
pub const CONCURRENCY: usize = 16;

/// The lowest share of its published rate an API is slowed to.
pub const MIN_FACTOR: f64 = 1.0 / 32.0;
/// What a successful attempt gives back, as a share of the published rate.
pub const INCREASE: f64 = 1.0 / 20.0;
/// What a throttled attempt keeps of the current rate.
pub const DECREASE: f64 = 0.5;
/// Throttles closer together than this count as one signal.
pub const DECREASE_EVERY_SECS: f64 = 1.0;

/// A published limit: a bucket of `burst` tokens refilled at `rate` a
/// second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub burst: f64,
    pub rate: f64,
}

const fn q(burst: f64, rate: f64) -> Quota {
    Quota { burst, rate }
}

/// The bucket an API shares and the limit we keep to, by the service names
/// of [`AwsBackend::call`](super::AwsBackend) and the operation. Each is
/// at or below what AWS documents for an account's defaults (an account
/// with raised quotas is only used below them); where AWS publishes no
/// figure for an API we use a conservative one and say so.
///
/// - ECS, <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html>:
///   a token bucket per account, region and group of APIs; its example,
///   the cluster read actions (DescribeClusters, ListClusters), has a
///   bucket of 50 refilled at 20 a second. We keep the service, task and
///   task-definition reads to the same 50 / 20, and our changes (sent one
///   at a time anyway) to 20 / 1.
/// - CloudWatch, <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>:
///   DescribeAlarms and DescribeAlarmHistory 9 TPS, GetMetricData 50 TPS;
///   Enable/DisableAlarmActions we keep to 3 a second.
/// - CloudWatch Logs, <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html>:
///   FilterLogEvents 5 TPS per account and region; PutLogEvents (far
///   higher) we keep to 50.
/// - STS, <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>:
///   600 requests a second per account and region; we keep to 100.
/// - RDS (<https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html>),
///   ELBv2 and Application Auto Scaling throttle per account and region
///   without a per-API figure we could cite: their reads at 40 burst / 10 a
///   second, their changes at 10 / 1.
/// - CloudFront (a global service: one bucket per account, whatever the
///   environment's region; <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html>
///   publishes no request rate): its reads at 10 / 5 a second, an
///   invalidation at 3 / 1 (the console sends one at a time).
/// - CodeDeploy, <https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html>:
///   publishes deployment quotas but no request rate; its reads (List*,
///   Get*, BatchGet*) we keep to 20 burst / 5 a second, its changes
///   (StopDeployment, ContinueDeployment, CreateDeployment: one at a
///   time) to 5 / 1. ECS's ListServiceDeployments and
///   DescribeServiceDeployments (ECS-native blue/green) have no published
///   figure either: 20 / 5, a bucket of their own.
///
/// - EC2, <https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html>:
///   a token bucket per API, account and region; the non-mutating actions
///   (DescribeInstances, DescribeInstanceStatus) 100 burst refilled at 20 a
///   second, each its own bucket. Our changes we keep to 10 / 1.
/// - ElastiCache (<https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/quota-limits.html>
///   lists no request rate; it throttles per account and region like RDS,
///   whose API family it shares): its reads (DescribeReplicationGroups,
///   DescribeCacheClusters) at 40 burst / 10 a second, like RDS's, its
///   changes at 10 / 1.
///
/// An API not listed here gets 8 / 2: safe for anything.
pub fn quota(service: &str, op: &str) -> (&'static str, Quota) {
    let read = op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get");
    match (service, op) {
        ("ecs", "DescribeClusters" | "ListClusters") => ("ecs:cluster-read", q(50.0, 20.0)),
        ("ecs", "DescribeServices" | "ListServices") => ("ecs:service-read", q(50.0, 20.0)),
        ("ecs", "DescribeTasks" | "ListTasks") => ("ecs:task-read", q(50.0, 20.0)),
        ("ecs", "DescribeTaskDefinition" | "ListTaskDefinitions") => {
            ("ecs:task-definition-read", q(50.0, 20.0))
        }
        ("ecs", "ListServiceDeployments" | "DescribeServiceDeployments") => {
            ("ecs:service-deployment-read", q(20.0, 5.0))
        }
        ("ecs", _) => ("ecs:write", q(20.0, 1.0)),
        ("cloudwatch", "DescribeAlarms") => ("cloudwatch:DescribeAlarms", q(9.0, 9.0)),
        ("cloudwatch", "DescribeAlarmHistory") => ("cloudwatch:DescribeAlarmHistory", q(9.0, 9.0)),
        ("cloudwatch", "GetMetricData") => ("cloudwatch:GetMetricData", q(50.0, 50.0)),
        ("cloudwatch", _) => ("cloudwatch:write", q(3.0, 3.0)),
        ("logs", "FilterLogEvents") => ("logs:FilterLogEvents", q(5.0, 5.0)),
        ("logs", "PutLogEvents") => ("logs:PutLogEvents", q(50.0, 50.0)),
        ("sts", _) => ("sts", q(100.0, 100.0)),
        ("rds", _) if read => ("rds:read", q(40.0, 10.0)),
        ("rds", _) => ("rds:write", q(10.0, 1.0)),
        ("ec2", "DescribeInstances") => ("ec2:DescribeInstances", q(100.0, 20.0)),
        ("ec2", "DescribeInstanceStatus") => ("ec2:DescribeInstanceStatus", q(100.0, 20.0)),
        ("ec2", _) if read => ("ec2:read", q(100.0, 20.0)),
        ("ec2", _) => ("ec2:write", q(10.0, 1.0)),
        ("elasticache", _) if read => ("elasticache:read", q(40.0, 10.0)),
        ("elasticache", _) => ("elasticache:write", q(10.0, 1.0)),
        ("elbv2", _) if read => ("elbv2:read", q(40.0, 10.0)),
        ("autoscaling", _) if read => ("autoscaling:read", q(40.0, 10.0)),
        ("elbv2" | "autoscaling", _) => ("write", q(10.0, 1.0)),
        ("cloudfront", "CreateInvalidation") => ("cloudfront:write", q(3.0, 1.0)),
        ("cloudfront", _) => ("cloudfront:read", q(10.0, 5.0)),
        ("codedeploy", _) if read || op.starts_with("BatchGet") => {
            ("codedeploy:read", q(20.0, 5.0))
        }
        ("codedeploy", _) => ("codedeploy:write", q(5.0, 1.0)),
        _ => ("other", q(8.0, 2.0)),
    }
}

/// One token bucket with an adaptive share of its published rate. Times
/// are seconds on any monotonic clock.
#[derive(Debug, Clone)]
pub struct Bucket {
    quota: Quota,
    tokens: f64,
    updated: f64,
    /// The share of the published rate and burst now allowed.
    factor: f64,
    last_decrease: Option<f64>,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn new(quota: Quota, now: f64) -> Self {
        Self {
            quota,
            tokens: quota.burst,
            updated: now,
            factor: 1.0,
            last_decrease: None,
        }
    }

    /// Requests a second allowed now.
    pub fn rate(&self) -> f64 {
        self.quota.rate * self.factor
    }

    /// Tokens the bucket holds at most now.
    pub fn capacity(&self) -> f64 {
        (self.quota.burst * self.factor).max(1.0)
    }

    /// The share of the published rate allowed now.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Tokens available at `now` (negative while in debt).
    pub fn tokens(&mut self, now: f64) -> f64 {
        self.refill(now);
        self.tokens
    }

    fn refill(&mut self, now: f64) {
        let elapsed = (now - self.updated).max(0.0);
        self.tokens = (self.tokens + elapsed * self.rate()).min(self.capacity());
        self.updated = self.updated.max(now);
    }

    /// Takes a token at `now`, or says how many seconds until one is there.
    pub fn take(&mut self, now: f64) -> Result<(), f64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - self.tokens) / self.rate())
        }
    }

    /// Counts a request that went out without asking (the SDK's retry of
    /// one that had its token): the bucket may go into debt, down to one
    /// bucketful, and later requests wait for it.
    pub fn debit(&mut self, now: f64) {
        self.refill(now);
        self.tokens = (self.tokens - 1.0).max(-self.capacity());
    }

    /// AWS throttled a request answered at `now`: halve the rate (once per
    /// [`DECREASE_EVERY_SECS`]) and empty the bucket.
    pub fn throttled(&mut self, now: f64) {
        self.refill(now);
        let recent = self
            .last_decrease
            .is_some_and(|t| now - t < DECREASE_EVERY_SECS);
        if !recent {
            self.factor = (self.factor * DECREASE).max(MIN_FACTOR);
            self.last_decrease = Some(now);
        }
        self.tokens = self.tokens.min(0.0);
    }

    /// A request was answered (not throttled) at `now`: give back
    /// [`INCREASE`] of the published rate.
    pub fn succeeded(&mut self, now: f64) {
        if self.factor < 1.0 {
            self.refill(now);
            self.factor = (self.factor + INCREASE).min(1.0);
        }
    }
}

/// One service in one scope: requests in flight.
type Gate = Arc<Semaphore>;

#[derive(Debug, Default)]
struct Inner {
    gates: HashMap<String, Gate>,
    buckets: HashMap<String, Bucket>,
}

/// The limits shared by all environments (one per process).
#[derive(Debug)]
pub struct Limits {
    inner: Mutex<Inner>,
    epoch: Instant,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            epoch: Instant::now(),
        }
    }
}

/// A slot to send one request; hold it until the answer has arrived.
#[derive(Debug)]
pub struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

impl Limits {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn now(&self) -> f64 {
        Instant::now().duration_since(self.epoch).as_secs_f64()
    }

    /// Runs `f` on the bucket of `op` in `scope`, made on first use.
    fn with_bucket<T>(
        &self,
        scope: &str,
        service: &str,
        op: &str,
        f: impl FnOnce(&mut Bucket, f64) -> T,
    ) -> T {
        let (group, quota) = quota(service, op);
        let key = format!("{scope}|{group}");
        let now = self.now();
        let mut inner = self.lock();
        let bucket = inner
            .buckets
            .entry(key)
            .or_insert_with(|| Bucket::new(quota, now));
        f(bucket, now)
    }

    /// Waits for a slot and a token to send one `service:op` request in
    /// `scope`.
    pub async fn acquire(&self, scope: &str, service: &str, op: &str) -> Permit {
        let gate = {
            let mut inner = self.lock();
            inner
                .gates
                .entry(format!("{scope}|{service}"))
                .or_insert_with(|| Arc::new(Semaphore::new(CONCURRENCY)))
                .clone()
        };
        let slot = gate.acquire_owned().await.ok();
        loop {
            match self.with_bucket(scope, service, op, Bucket::take) {
                Ok(()) => return Permit { _slot: slot },
                Err(wait) => {
                    tokio::time::sleep(Duration::from_secs_f64(wait.clamp(0.001, 60.0))).await;
                }
            }
        }
    }

    /// A retry went out without a token: debit it.
    pub fn debit(&self, scope: &str, service: &str, op: &str) {
        self.with_bucket(scope, service, op, Bucket::debit);
    }

    /// An attempt was throttled: slow its API down.
    pub fn throttled(&self, scope: &str, service: &str, op: &str) {
        self.with_bucket(scope, service, op, Bucket::throttled);
    }

    /// An attempt was answered: speed its API back up.
    pub fn succeeded(&self, scope: &str, service: &str, op: &str) {
        self.with_bucket(scope, service, op, Bucket::succeeded);
    }

    /// Requests a second `service:op` may send in `scope` now.
    pub fn rate(&self, scope: &str, service: &str, op: &str) -> f64 {
        self.with_bucket(scope, service, op, |b, _| b.rate())
    }
}

/// Request counters of one environment, by `service:Operation`.
#[derive(Debug, Default)]
pub struct Stats {
    ops: Mutex<BTreeMap<String, OpStats>>,
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, OpStats>> {
        match self.ops.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// One call of the console (its attempts are counted by
    /// [`Stats::attempt`]).
    pub fn record(&self, op: &str, ok: bool, elapsed: Duration) {
        let mut ops = self.lock();
        let s = ops.entry(op.to_string()).or_default();
        s.calls += 1;
        if !ok {
            s.errors += 1;
        }
        s.last_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    }

    /// One request sent (a call's first attempt or an SDK retry).
    pub fn attempt(&self, op: &str) {
        self.lock().entry(op.to_string()).or_default().sent += 1;
    }

    /// An attempt answered with a throttling error.
    pub fn throttled(&self, op: &str) {
        self.lock().entry(op.to_string()).or_default().throttles += 1;
    }

    /// The rate `op` is allowed now, in requests a minute.
    pub fn set_rate(&self, op: &str, per_sec: f64) {
        let per_min = (per_sec * 60.0).round().max(0.0);
        // Rates are at most a few hundred a second: well inside u32.
        self.lock().entry(op.to_string()).or_default().rate_per_min = per_min as u32;
    }

    pub fn snapshot(&self) -> BTreeMap<String, OpStats> {
        self.lock().clone()
    }
}

/// Counts every attempt of every SDK request (the SDK's own retries
/// included), debits retries from the bucket of their API, and feeds
/// throttles and answers back to the limits. One per client.
#[derive(Debug, Clone)]
pub struct AttemptCounter {
    pub service: &'static str,
    pub scope: String,
    pub limits: Arc<Limits>,
    pub stats: Arc<Stats>,
}

impl AttemptCounter {
    fn operation(cfg: &ConfigBag) -> String {
        cfg.load::<Metadata>()
            .map_or_else(|| "unknown".to_string(), |m| m.name().to_string())
    }
}

/// Whether an HTTP answer is AWS saying "slow down": the error code is in
/// a header (JSON, CBOR protocols) or the body (query protocol).
pub fn is_throttle(status: u16, headers: &[&str], body: Option<&[u8]>) -> bool {
    const CODES: [&str; 5] = [
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestThrottled",
        "SlowDown",
    ];
    if status == 429 {
        return true;
    }
    if !(400..600).contains(&status) {
        return false;
    }
    let in_text = |t: &[u8]| {
        CODES
            .iter()
            .any(|c| t.windows(c.len()).any(|w| w == c.as_bytes()))
    };
    headers.iter().any(|h| in_text(h.as_bytes())) || body.is_some_and(in_text)
}

impl Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "honban-attempt-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = Self::operation(cfg);
        self.stats.attempt(&format!("{}:{op}", self.service));
        let attempt = cfg
            .load::<RequestAttempts>()
            .map_or(1, RequestAttempts::attempts);
        if attempt > 1 {
            self.limits.debit(&self.scope, self.service, &op);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(response) = context.response() else {
            // No answer (refused, timed out): neither throttled nor
            // answered; the console's backoff deals with it.
            return Ok(());
        };
        let op = Self::operation(cfg);
        let name = format!("{}:{op}", self.service);
        let status = response.status().as_u16();
        let headers: Vec<&str> = ["x-amzn-errortype", "x-amzn-query-error"]
            .iter()
            .filter_map(|h| response.headers().get(*h))
            .collect();
        if is_throttle(status, &headers, response.body().bytes()) {
            self.limits.throttled(&self.scope, self.service, &op);
            self.stats.throttled(&name);
        } else if status < 500 {
            self.limits.succeeded(&self.scope, self.service, &op);
        }
        self.stats
            .set_rate(&name, self.limits.rate(&self.scope, self.service, &op));
        Ok(())
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "expected values are exact: rates, factors and round numbers"
)]
mod tests {
    use super::*;

    const ECS: Quota = Quota {
        burst: 50.0,
        rate: 20.0,
    };

    /// Takes tokens at `now` until one is refused; how many were taken.
    fn drain(b: &mut Bucket, now: f64) -> usize {
        let mut n = 0;
        while b.take(now).is_ok() {
            n += 1;
        }
        n
    }

    #[test]
    fn a_full_bucket_lets_its_burst_go_at_once_then_the_refill_rate() {
        let mut b = Bucket::new(ECS, 0.0);
        assert_eq!(drain(&mut b, 0.0), 50);
        // The next token is 1/20 s away.
        let wait = b.take(0.0).expect_err("empty");
        assert!((wait - 0.05).abs() < 1e-9, "{wait}");
        // One second later: 20 more, not 21.
        assert_eq!(drain(&mut b, 1.0), 20);
        // A long pause refills to the burst, never beyond.
        assert_eq!(drain(&mut b, 100.0), 50);
    }

    #[test]
    fn the_first_screen_of_seed_001_goes_out_without_waiting() {
        // 2 ListServices + 11 DescribeServices share the service-read
        // bucket; ListTasks + DescribeTasks the task-read one.
        let (group, quota) = quota("ecs", "DescribeServices");
        assert_eq!(group, quota_group("ecs", "ListServices"));
        let mut b = Bucket::new(quota, 0.0);
        for _ in 0..13 {
            assert_eq!(b.take(0.0), Ok(()));
        }
        assert_ne!(group, quota_group("ecs", "DescribeTasks"));
        assert_ne!(
            quota_group("cloudwatch", "DescribeAlarms"),
            quota_group("cloudwatch", "GetMetricData")
        );
    }

    fn quota_group(service: &str, op: &str) -> &'static str {
        quota(service, op).0
    }

    /// CodeDeploy's reads (BatchGet* included) share one bucket, its
    /// changes another, slower; ECS's service-deployment reads are reads,
    /// not ECS's write bucket.
    #[test]
    fn codedeploy_reads_and_changes_have_their_own_buckets() {
        for op in [
            "ListApplications",
            "BatchGetApplications",
            "BatchGetDeploymentGroups",
            "ListDeployments",
            "GetDeployment",
            "BatchGetDeployments",
            "BatchGetDeploymentTargets",
        ] {
            assert_eq!(quota_group("codedeploy", op), "codedeploy:read", "{op}");
        }
        for op in ["StopDeployment", "ContinueDeployment", "CreateDeployment"] {
            let (group, q) = quota("codedeploy", op);
            assert_eq!(group, "codedeploy:write", "{op}");
            assert!(q.rate <= 1.0);
        }
        for op in ["ListServiceDeployments", "DescribeServiceDeployments"] {
            assert_eq!(quota_group("ecs", op), "ecs:service-deployment-read");
        }
    }

    #[test]
    fn a_throttle_halves_the_rate_and_empties_the_bucket() {
        let mut b = Bucket::new(ECS, 0.0);
        b.throttled(0.0);
        assert_eq!(b.rate(), 10.0);
        assert_eq!(b.capacity(), 25.0);
        assert!(b.take(0.0).is_err(), "emptied");
        // A second throttle within the second is the same signal.
        b.throttled(0.5);
        assert_eq!(b.rate(), 10.0);
        // Later ones halve again, down to the floor and no further.
        for i in 1..20 {
            b.throttled(f64::from(i) * 2.0);
        }
        assert_eq!(b.factor(), MIN_FACTOR);
        assert!((b.rate() - 20.0 / 32.0).abs() < 1e-9);
        assert_eq!(b.capacity(), 50.0 / 32.0);
        // While slowed, only the slowed rate goes through: 16 s at 0.625/s.
        let t = 100.0;
        drain(&mut b, t);
        let sent: usize = (1..=16).map(|s| drain(&mut b, t + f64::from(s))).sum();
        assert_eq!(sent, 10);
        // A small bucket slowed to the floor still holds one token.
        let mut logs = Bucket::new(quota("logs", "FilterLogEvents").1, 0.0);
        for i in 0..10 {
            logs.throttled(f64::from(i) * 2.0);
        }
        assert_eq!(logs.capacity(), 1.0, "one token at least");
    }

    #[test]
    fn answers_bring_the_rate_back_up_additively() {
        let mut b = Bucket::new(ECS, 0.0);
        b.throttled(0.0);
        assert_eq!(b.factor(), 0.5);
        for i in 0..5 {
            b.succeeded(1.0 + f64::from(i));
        }
        assert!((b.factor() - 0.75).abs() < 1e-9, "{}", b.factor());
        for i in 0..100 {
            b.succeeded(10.0 + f64::from(i));
        }
        assert_eq!(b.factor(), 1.0, "never beyond the published rate");
        assert_eq!(b.rate(), 20.0);
    }

    #[test]
    fn retries_are_debited_and_later_requests_wait_for_them() {
        let mut b = Bucket::new(
            Quota {
                burst: 2.0,
                rate: 1.0,
            },
            0.0,
        );
        assert_eq!(drain(&mut b, 0.0), 2);
        // Three retries went out on their own: the bucket is in debt...
        b.debit(0.0);
        b.debit(0.0);
        b.debit(0.0);
        // ...down to one bucketful at most.
        assert_eq!(b.tokens(0.0), -2.0);
        // The next request waits for the debt and its own token.
        let wait = b.take(0.0).expect_err("in debt");
        assert!((wait - 3.0).abs() < 1e-9, "{wait}");
        assert_eq!(b.take(3.0), Ok(()));
    }

    #[test]
    fn after_an_outage_no_more_than_a_bucketful_goes_at_once() {
        // Whatever the quiet lasted, the burst is the bucket, and the rate
        // after it the refill rate: no storm when the server comes back.
        let mut b = Bucket::new(ECS, 0.0);
        drain(&mut b, 0.0);
        assert_eq!(drain(&mut b, 3600.0), 50);
        let sent: usize = (1..=10).map(|s| drain(&mut b, 3600.0 + f64::from(s))).sum();
        assert_eq!(sent, 200, "20 a second for 10 s");
    }

    #[test]
    fn throttles_are_recognised_in_headers_bodies_and_429() {
        assert!(is_throttle(400, &["ThrottlingException"], None));
        assert!(is_throttle(400, &["Throttling;Sender"], None));
        assert!(is_throttle(
            400,
            &[],
            Some(b"<ErrorResponse><Error><Code>Throttling</Code>")
        ));
        assert!(is_throttle(429, &[], None));
        assert!(!is_throttle(400, &["InvalidParameterException"], None));
        assert!(!is_throttle(200, &["ThrottlingException"], None));
        assert!(!is_throttle(500, &[], Some(b"<html>Internal Server Error")));
    }

    #[tokio::test(start_paused = true)]
    async fn limits_are_per_scope_and_api_group_and_wait_for_tokens() {
        let limits = Limits::new();
        let start = Instant::now();
        // The cluster-read burst goes at once.
        for _ in 0..50 {
            let _p = limits.acquire("prod", "ecs", "DescribeClusters").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Another API group, or another account, is not held up.
        let _p = limits.acquire("prod", "ecs", "DescribeServices").await;
        let _p = limits.acquire("staging", "ecs", "DescribeClusters").await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        // 20 beyond the burst take a second at 20/s.
        for _ in 0..20 {
            let _p = limits.acquire("prod", "ecs", "ListClusters").await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(950), "{took:?}");
        assert!(took <= Duration::from_millis(1100), "{took:?}");
        // A throttle halves what the group may send.
        limits.throttled("prod", "ecs", "DescribeClusters");
        assert_eq!(limits.rate("prod", "ecs", "ListClusters"), 10.0);
        assert_eq!(limits.rate("staging", "ecs", "ListClusters"), 20.0);
    }

    #[test]
    fn stats_count_calls_attempts_errors_throttles_and_the_rate() {
        let s = Stats::default();
        s.attempt("ecs:ListServices");
        s.record("ecs:ListServices", true, Duration::from_millis(3));
        s.attempt("ecs:ListServices");
        s.throttled("ecs:ListServices");
        s.attempt("ecs:ListServices");
        s.throttled("ecs:ListServices");
        s.set_rate("ecs:ListServices", 5.0);
        s.record("ecs:ListServices", false, Duration::from_millis(5));
        let snap = s.snapshot();
        assert_eq!(
            snap.get("ecs:ListServices"),
            Some(&OpStats {
                calls: 2,
                sent: 3,
                errors: 1,
                throttles: 2,
                last_ms: 5,
                rate_per_min: 300,
            })
        );
    }
}
