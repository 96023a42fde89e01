//! STS caller identity, Application Auto Scaling targets and policies, and
//! ELBv2 target groups with target health.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use futures_util::future::try_join_all;

use super::AwsBackend;
use super::convert::{opt_count, opt_string, port, string};
use crate::backend::{BackendError, BackendResult};
use crate::backend::{Elb, Scaling, ScalingChanges, Sts};
use crate::domain::{CallerIdentity, ScalableTarget, ScalingPolicy, TargetGroup, TargetHealth};
use async_trait::async_trait;

#[async_trait]
impl Sts for AwsBackend {
    async fn caller_identity(&self) -> BackendResult<CallerIdentity> {
        caller_identity(self).await
    }
}

#[async_trait]
impl Scaling for AwsBackend {
    async fn scalable_targets(&self, clusters: &[String]) -> BackendResult<Vec<ScalableTarget>> {
        scalable_targets(self, clusters).await
    }
}

#[async_trait]
impl ScalingChanges for AwsBackend {
    async fn set_scaling_bounds(
        &self,
        cluster: &str,
        service: &str,
        min: u32,
        max: u32,
    ) -> BackendResult<ScalableTarget> {
        set_scaling_bounds(self, cluster, service, min, max).await
    }
}

#[async_trait]
impl Elb for AwsBackend {
    async fn target_groups(&self, arns: &[String]) -> BackendResult<Vec<TargetGroup>> {
        target_groups(self, arns).await
    }
}

/// The largest page of the Application Auto Scaling describes.
pub const SCALING_PAGE: i32 = 50;
/// The most target groups one DescribeTargetGroups call is asked for.
pub const TARGET_GROUPS_BATCH: usize = 20;

pub async fn caller_identity(b: &AwsBackend) -> BackendResult<CallerIdentity> {
    let out = b
        .call(
            "sts",
            "GetCallerIdentity",
            b.clients.sts.get_caller_identity().send(),
        )
        .await?;
    Ok(CallerIdentity {
        account: string(out.account()),
        arn: string(out.arn()),
        user_id: string(out.user_id()),
    })
}

pub async fn scalable_targets(
    b: &AwsBackend,
    clusters: &[String],
) -> BackendResult<Vec<ScalableTarget>> {
    if clusters.is_empty() {
        return Ok(Vec::new());
    }
    // The describes list every ECS target of the region: one pass serves
    // every cluster.
    let prefixes: Vec<String> = clusters.iter().map(|c| format!("service/{c}/")).collect();
    let mut targets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "autoscaling",
                "DescribeScalableTargets",
                b.clients
                    .autoscaling
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .max_results(SCALING_PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        for t in page.scalable_targets() {
            if prefixes.iter().any(|p| t.resource_id().starts_with(p))
                && *t.scalable_dimension() == ScalableDimension::EcsServiceDesiredCount
            {
                targets.push(ScalableTarget {
                    resource_id: t.resource_id().to_string(),
                    min_capacity: opt_count(Some(t.min_capacity())),
                    max_capacity: opt_count(Some(t.max_capacity())),
                    policies: Vec::new(),
                });
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if targets.is_empty() {
        return Ok(targets);
    }
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "autoscaling",
                "DescribeScalingPolicies",
                b.clients
                    .autoscaling
                    .describe_scaling_policies()
                    .service_namespace(ServiceNamespace::Ecs)
                    .max_results(SCALING_PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        for p in page.scaling_policies() {
            let Some(target) = targets
                .iter_mut()
                .find(|t| t.resource_id == p.resource_id())
            else {
                continue;
            };
            let Some(cfg) = p.target_tracking_scaling_policy_configuration() else {
                continue;
            };
            let metric = cfg.predefined_metric_specification().map_or_else(
                || "custom metric".to_string(),
                |m| m.predefined_metric_type().as_str().to_string(),
            );
            target.policies.push(ScalingPolicy {
                name: p.policy_name().to_string(),
                metric,
                target_value: cfg.target_value(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(targets)
}

pub async fn set_scaling_bounds(
    b: &AwsBackend,
    cluster: &str,
    service: &str,
    min: u32,
    max: u32,
) -> BackendResult<ScalableTarget> {
    if min > max {
        return Err(BackendError::Invalid {
            message: format!("minimum {min} is above maximum {max}"),
        });
    }
    let to_i32 = |v: u32| {
        i32::try_from(v).map_err(|_| BackendError::Invalid {
            message: format!("capacity {v} is too large"),
        })
    };
    let resource_id = format!("service/{cluster}/{service}");
    b.call(
        "autoscaling",
        "RegisterScalableTarget",
        b.clients
            .autoscaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(to_i32(min)?)
            .max_capacity(to_i32(max)?)
            .customize()
            .config_override(super::once!(aws_sdk_applicationautoscaling))
            .send(),
    )
    .await?;
    scalable_targets(b, &[cluster.to_string()])
        .await?
        .into_iter()
        .find(|t| t.resource_id == resource_id)
        .ok_or(BackendError::NotFound {
            resource: resource_id,
        })
}

pub async fn target_groups(b: &AwsBackend, arns: &[String]) -> BackendResult<Vec<TargetGroup>> {
    // The batches together, then every group's health together.
    let batches = arns.chunks(TARGET_GROUPS_BATCH).map(|batch| {
        b.call(
            "elbv2",
            "DescribeTargetGroups",
            b.clients
                .elb
                .describe_target_groups()
                .set_target_group_arns(Some(batch.to_vec()))
                .send(),
        )
    });
    let mut groups = Vec::new();
    for out in try_join_all(batches).await? {
        for g in out.target_groups() {
            groups.push(TargetGroup {
                arn: string(g.target_group_arn()),
                name: string(g.target_group_name()),
                protocol: g.protocol().map(|p| p.as_str().to_string()),
                port: port(g.port()),
                health_check_path: opt_string(g.health_check_path()),
                load_balancer_arns: g.load_balancer_arns().to_vec(),
                targets: Vec::new(),
            });
        }
    }
    // DescribeTargetHealth has no batch form: one call per group.
    let healths = groups.iter().map(|g| {
        b.call(
            "elbv2",
            "DescribeTargetHealth",
            b.clients
                .elb
                .describe_target_health()
                .target_group_arn(&g.arn)
                .send(),
        )
    });
    let healths = try_join_all(healths).await?;
    for (g, out) in groups.iter_mut().zip(healths) {
        g.targets = out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetHealth {
                id: d
                    .target()
                    .and_then(|t| t.id())
                    .unwrap_or_default()
                    .to_string(),
                port: d.target().and_then(|t| port(t.port())),
                availability_zone: d.target().and_then(|t| opt_string(t.availability_zone())),
                state: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map_or_else(|| "unavailable".to_string(), |s| s.as_str().to_string()),
                reason: d
                    .target_health()
                    .and_then(|h| h.reason())
                    .map(|r| r.as_str().to_string()),
                description: d.target_health().and_then(|h| opt_string(h.description())),
            })
            .collect();
    }
    Ok(groups)
}
