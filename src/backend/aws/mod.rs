//! The AWS backend: the [`Backend`]'s capabilities through the AWS SDK for
//! Rust, each in its service's file.
//!
//! One [`AwsBackend`] per environment, built from the default credential
//! chain (environment, shared and SSO profiles, web identity, ECS/EC2
//! instance roles) with the environment's profile, region, optional role to
//! assume and optional endpoint URL. Every request goes through
//! [`AwsBackend::call`]: a shared concurrency/rate limit per service and
//! region, request counters, and the mapping of SDK errors to
//! [`BackendError`]. Listings read every page and batch describes to the API
//! limits; task definitions are cached (they are immutable). No SDK type
//! leaves this module.

mod cloudfront;
mod codedeploy;
mod convert;
pub mod credentials;
mod ec2;
mod ecr;
mod ecs;
mod elasticache;
pub mod error;
pub mod limits;
mod logs;
mod metrics;
mod other;
mod rds;
mod watch;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use self::error::CredentialContext;
use self::limits::{AttemptCounter, Limits, Stats};
use crate::backend::{
    Backend, BackendResult, CloudFront, CloudFrontChanges, CloudWatch, CloudWatchChanges,
    CodeDeploy, CodeDeployChanges, Ec2, Ec2Changes, Ecr, Ecs, EcsChanges, ElastiCache, Elb, Logs,
    LogsChanges, OpStats, Rds, RdsChanges, Scaling, ScalingChanges, Sts,
};
use crate::config::EnvironmentConfig;
use crate::domain::TaskDefinition;

/// How an [`AwsBackend`] is built, beyond the environment's config.
#[derive(Clone)]
pub struct ConnectOptions {
    /// Limits shared by every environment of the process.
    pub limits: Arc<Limits>,
    /// SDK attempts per call (1 = no retries). Throttling and transient
    /// errors are retried with exponential backoff and jitter.
    pub max_attempts: u32,
    /// Time for one whole call, retries included.
    pub operation_timeout: Duration,
    /// Static credentials instead of the default chain (tests, emulators).
    pub static_credentials: Option<(String, String)>,
    /// Headers added to every request (tests: `x-moto-account-id`).
    pub extra_headers: Vec<(String, String)>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            limits: Limits::new(),
            max_attempts: 3,
            operation_timeout: Duration::from_secs(15),
            static_credentials: None,
            extra_headers: Vec::new(),
        }
    }
}

/// The SDK's timeouts of a mutating request: longer than the console's
/// [`MUTATION_TIMEOUT`](crate::backend::MUTATION_TIMEOUT), so that the
/// console, not the SDK, decides when a mutation has gone unanswered.
fn mutation_timeouts() -> TimeoutConfig {
    let beyond = crate::backend::MUTATION_TIMEOUT + Duration::from_secs(10);
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(beyond)
        .operation_attempt_timeout(beyond)
        .operation_timeout(beyond)
        .build()
}

/// The per-request configuration of a mutating call of the SDK crate
/// `$krate`: sent once, never retried by the SDK (a retry after a timeout
/// sends the change a second time), with [`mutation_timeouts`]. For
/// `.customize().config_override(once!(aws_sdk_ecs))`.
macro_rules! once {
    ($krate:ident) => {
        $krate::config::Builder::default()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config($crate::backend::aws::mutation_timeouts())
    };
}
pub(crate) use once;

/// Adds fixed headers to every request.
#[derive(Debug, Clone)]
struct StaticHeaders(Vec<(String, String)>);

impl Intercept for StaticHeaders {
    fn name(&self) -> &'static str {
        "honban-static-headers"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        for (k, v) in &self.0 {
            context
                .request_mut()
                .headers_mut()
                .insert(k.clone(), v.clone());
        }
        Ok(())
    }
}

/// The account and region an environment's requests count against, as
/// far as it is known before anything is sent: environments with the same
/// credentials (profile and role), endpoint and region share their limits.
/// (Test accounts picked by a header are accounts of their own.)
fn scope_of(env: &EnvironmentConfig, region: &str, headers: &[(String, String)]) -> String {
    let mut scope = format!(
        "{}|{}|{}|{region}",
        env.profile.as_deref().unwrap_or("-"),
        env.role_arn.as_deref().unwrap_or("-"),
        env.endpoint_url.as_deref().unwrap_or("-"),
    );
    for (k, v) in headers {
        scope.push_str(&format!("|{k}={v}"));
    }
    scope
}

/// The SDK clients of one environment.
#[derive(Clone, Debug)]
struct Clients {
    ec2: aws_sdk_ec2::Client,
    elasticache: aws_sdk_elasticache::Client,
    ecs: aws_sdk_ecs::Client,
    ecr: aws_sdk_ecr::Client,
    rds: aws_sdk_rds::Client,
    cloudfront: aws_sdk_cloudfront::Client,
    codedeploy: aws_sdk_codedeploy::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    sts: aws_sdk_sts::Client,
    autoscaling: aws_sdk_applicationautoscaling::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

/// One environment reached through the AWS SDK.
pub struct AwsBackend {
    name: String,
    region: String,
    /// The environment's profile and endpoint URL (for the
    /// session-manager-plugin of an ECS Exec session).
    profile: Option<String>,
    endpoint_url: Option<String>,
    clients: Clients,
    limits: Arc<Limits>,
    /// The account and region the limits are shared in.
    scope: String,
    stats: Arc<Stats>,
    creds: CredentialContext,
    task_definitions: Mutex<HashMap<String, TaskDefinition>>,
}

impl fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsBackend")
            .field("name", &self.name)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl AwsBackend {
    /// Builds the clients of an environment. Nothing is sent yet: missing or
    /// expired credentials show up as errors of the first calls.
    pub async fn connect(env: &EnvironmentConfig, options: ConnectOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .read_timeout(Duration::from_secs(10))
                    .operation_timeout(options.operation_timeout)
                    .build(),
            );
        if let Some(profile) = &env.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &env.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &env.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = &options.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                key.clone(),
                secret.clone(),
                None,
                None,
                "honban-static",
            ));
        }
        let mut sdk: SdkConfig = loader.load().await;
        // Expired credentials are never used, and their source is asked at
        // most once per window (see `credentials`): the profile's, and the
        // role's assumed with them.
        if let Some(provider) = sdk.credentials_provider() {
            sdk = sdk
                .into_builder()
                .credentials_provider(credentials::ExpiryGuard::shared(
                    provider,
                    env.profile.as_deref().map_or_else(
                        || "the default credential chain".to_string(),
                        |p| format!("profile {p}"),
                    ),
                ))
                .build();
        }
        if let Some(role) = &env.role_arn {
            let user = std::env::var("USER").unwrap_or_else(|_| "operator".to_string());
            let session: String = format!("honban-{user}")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c))
                .take(64)
                .collect();
            let provider = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                .session_name(session)
                .configure(&sdk)
                .build()
                .await;
            sdk = sdk
                .into_builder()
                .credentials_provider(credentials::ExpiryGuard::shared(
                    SharedCredentialsProvider::new(provider),
                    format!("role {role}"),
                ))
                .build();
        }
        let region = sdk
            .region()
            .map_or_else(|| "us-east-1".to_string(), ToString::to_string);
        let scope = scope_of(env, &region, &options.extra_headers);
        let stats = Arc::new(Stats::default());
        let headers = StaticHeaders(options.extra_headers.clone());
        macro_rules! client {
            ($krate:ident, $service:literal) => {{
                let mut b = $krate::config::Builder::from(&sdk);
                if !headers.0.is_empty() {
                    b = b.interceptor(headers.clone());
                }
                b = b.interceptor(AttemptCounter {
                    service: $service,
                    scope: scope.clone(),
                    limits: options.limits.clone(),
                    stats: stats.clone(),
                });
                $krate::Client::from_conf(b.build())
            }};
        }
        let clients = Clients {
            ec2: client!(aws_sdk_ec2, "ec2"),
            elasticache: client!(aws_sdk_elasticache, "elasticache"),
            ecs: client!(aws_sdk_ecs, "ecs"),
            ecr: client!(aws_sdk_ecr, "ecr"),
            rds: client!(aws_sdk_rds, "rds"),
            cloudfront: {
                // A global service: its endpoint is in us-east-1 whatever the
                // environment's region (the China partition has its own),
                // unless an endpoint URL points it elsewhere.
                let mut b = aws_sdk_cloudfront::config::Builder::from(&sdk);
                if env.endpoint_url.is_none() && !region.starts_with("cn-") {
                    b = b.region(Region::new("us-east-1"));
                }
                if !headers.0.is_empty() {
                    b = b.interceptor(headers.clone());
                }
                b = b.interceptor(AttemptCounter {
                    service: "cloudfront",
                    scope: scope.clone(),
                    limits: options.limits.clone(),
                    stats: stats.clone(),
                });
                aws_sdk_cloudfront::Client::from_conf(b.build())
            },
            codedeploy: client!(aws_sdk_codedeploy, "codedeploy"),
            cloudwatch: client!(aws_sdk_cloudwatch, "cloudwatch"),
            logs: client!(aws_sdk_cloudwatchlogs, "logs"),
            sts: client!(aws_sdk_sts, "sts"),
            autoscaling: client!(aws_sdk_applicationautoscaling, "autoscaling"),
            elb: client!(aws_sdk_elasticloadbalancingv2, "elbv2"),
        };
        tracing::info!(env = %env.name, %region, profile = ?env.profile, endpoint = ?env.endpoint_url, "AWS backend ready");
        Self {
            name: env.name.clone(),
            region,
            profile: env.profile.clone(),
            endpoint_url: env.endpoint_url.clone(),
            clients,
            limits: options.limits,
            scope,
            stats,
            creds: CredentialContext {
                profile: env.profile.clone(),
                role_arn: env.role_arn.clone(),
            },
            task_definitions: Mutex::new(HashMap::new()),
        }
    }

    /// Sends one request: waits for a slot and a token of its API's limit,
    /// counts it (its attempts are counted by the clients'
    /// [`AttemptCounter`]), and maps its error.
    async fn call<T, E, F>(
        &self,
        service: &'static str,
        op: &'static str,
        request: F,
    ) -> BackendResult<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let _permit = self.limits.acquire(&self.scope, service, op).await;
        let started = std::time::Instant::now();
        let result = request.await;
        let name = format!("{service}:{op}");
        match result {
            Ok(v) => {
                self.stats.record(&name, true, started.elapsed());
                tracing::debug!(env = %self.name, op = %name, ms = started.elapsed().as_millis(), "request done");
                Ok(v)
            }
            Err(e) => {
                let err = error::map(&name, &e, &self.creds);
                self.stats.record(&name, false, started.elapsed());
                tracing::warn!(env = %self.name, op = %name, kind = err.kind(), "request failed");
                Err(err)
            }
        }
    }
}

/// Every capability: each is implemented in its service's file
/// (`ecs.rs`: `impl Ecs for AwsBackend`, ...).
impl Backend for AwsBackend {
    fn sts(&self) -> BackendResult<&dyn Sts> {
        Ok(self)
    }
    fn ecs(&self) -> BackendResult<&dyn Ecs> {
        Ok(self)
    }
    fn ecs_changes(&self) -> BackendResult<&dyn EcsChanges> {
        Ok(self)
    }
    fn ec2_changes(&self) -> BackendResult<&dyn Ec2Changes> {
        Ok(self)
    }
    fn ec2(&self) -> BackendResult<&dyn Ec2> {
        Ok(self)
    }
    fn elasticache(&self) -> BackendResult<&dyn ElastiCache> {
        Ok(self)
    }
    fn ecr(&self) -> BackendResult<&dyn Ecr> {
        Ok(self)
    }
    fn scaling(&self) -> BackendResult<&dyn Scaling> {
        Ok(self)
    }
    fn scaling_changes(&self) -> BackendResult<&dyn ScalingChanges> {
        Ok(self)
    }
    fn elb(&self) -> BackendResult<&dyn Elb> {
        Ok(self)
    }
    fn rds(&self) -> BackendResult<&dyn Rds> {
        Ok(self)
    }
    fn rds_changes(&self) -> BackendResult<&dyn RdsChanges> {
        Ok(self)
    }
    fn cloudwatch(&self) -> BackendResult<&dyn CloudWatch> {
        Ok(self)
    }
    fn cloudwatch_changes(&self) -> BackendResult<&dyn CloudWatchChanges> {
        Ok(self)
    }
    fn logs(&self) -> BackendResult<&dyn Logs> {
        Ok(self)
    }
    fn logs_changes(&self) -> BackendResult<&dyn LogsChanges> {
        Ok(self)
    }
    fn cloudfront(&self) -> BackendResult<&dyn CloudFront> {
        Ok(self)
    }
    fn cloudfront_changes(&self) -> BackendResult<&dyn CloudFrontChanges> {
        Ok(self)
    }
    fn codedeploy(&self) -> BackendResult<&dyn CodeDeploy> {
        Ok(self)
    }
    fn codedeploy_changes(&self) -> BackendResult<&dyn CodeDeployChanges> {
        Ok(self)
    }

    fn request_stats(&self) -> BTreeMap<String, OpStats> {
        self.stats.snapshot()
    }
}

impl AwsBackend {
    fn cached_task_definition(&self, arn: &str) -> Option<TaskDefinition> {
        self.task_definitions.lock().ok()?.get(arn).cloned()
    }

    /// Keeps a revision read by `arn` (a family:revision or an ARN) under
    /// both names.
    fn cache_task_definition(&self, arn: &str, td: &TaskDefinition) {
        if let Ok(mut cache) = self.task_definitions.lock() {
            cache.insert(arn.to_string(), td.clone());
            cache.insert(td.arn.clone(), td.clone());
        }
    }
}
