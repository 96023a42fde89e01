//! Read-only enforcement where requests are made: a [`Backend`] wrapper
//! that hands out the wrapped backend's reads whole and, for every change
//! capability the wrapped backend has, a [`Refuse`] whose calls return
//! [`BackendError::ReadOnly`] without reaching it (and so without touching
//! the network). It is applied in `setup` to every environment that is
//! read-only (the `--read-only` flag, `read_only = true` at the top of the
//! config or on the environment), so no key, view or later code path can
//! bypass it. A read added to a capability passes through with no edit
//! here; a change capability added to [`Backend`] gets its refusal here.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{
    Backend, BackendError, BackendResult, CdCreate, CloudFront, CloudFrontChanges, CloudWatch,
    CloudWatchChanges, CodeDeploy, CodeDeployChanges, DbRestore, Ec2, Ec2Changes, Ecr, Ecs,
    EcsChanges, ElastiCache, Elb, ImageChange, Logs, LogsChanges, OpStats, Rds, RdsChanges,
    Scaling, ScalingChanges, ServiceUpdate, Sts,
};
use crate::domain::{
    DbInstance, DbSnapshot, ExecSession, Instance, Invalidation, ScalableTarget, Service, Task,
};
use crate::domain::{TaskDefinition, Timestamp};

/// A backend that refuses every change.
pub struct ReadOnly {
    inner: Arc<dyn Backend>,
    refuse: Refuse,
}

impl ReadOnly {
    pub fn new(inner: Arc<dyn Backend>, env: &str) -> Self {
        Self {
            inner,
            refuse: Refuse {
                env: env.to_string(),
            },
        }
    }
}

impl Backend for ReadOnly {
    fn sts(&self) -> BackendResult<&dyn Sts> {
        self.inner.sts()
    }
    fn ecs(&self) -> BackendResult<&dyn Ecs> {
        self.inner.ecs()
    }
    fn ec2(&self) -> BackendResult<&dyn Ec2> {
        self.inner.ec2()
    }
    fn elasticache(&self) -> BackendResult<&dyn ElastiCache> {
        self.inner.elasticache()
    }
    fn ecr(&self) -> BackendResult<&dyn Ecr> {
        self.inner.ecr()
    }
    fn scaling(&self) -> BackendResult<&dyn Scaling> {
        self.inner.scaling()
    }
    fn elb(&self) -> BackendResult<&dyn Elb> {
        self.inner.elb()
    }
    fn rds(&self) -> BackendResult<&dyn Rds> {
        self.inner.rds()
    }
    fn cloudwatch(&self) -> BackendResult<&dyn CloudWatch> {
        self.inner.cloudwatch()
    }
    fn logs(&self) -> BackendResult<&dyn Logs> {
        self.inner.logs()
    }
    fn cloudfront(&self) -> BackendResult<&dyn CloudFront> {
        self.inner.cloudfront()
    }
    fn codedeploy(&self) -> BackendResult<&dyn CodeDeploy> {
        self.inner.codedeploy()
    }

    // Changes: refused, where the wrapped backend could make them (where
    // it could not, its own `Missing` says so).
    fn ecs_changes(&self) -> BackendResult<&dyn EcsChanges> {
        self.inner
            .ecs_changes()
            .map(|_| &self.refuse as &dyn EcsChanges)
    }
    fn ec2_changes(&self) -> BackendResult<&dyn Ec2Changes> {
        self.inner
            .ec2_changes()
            .map(|_| &self.refuse as &dyn Ec2Changes)
    }
    fn scaling_changes(&self) -> BackendResult<&dyn ScalingChanges> {
        self.inner
            .scaling_changes()
            .map(|_| &self.refuse as &dyn ScalingChanges)
    }
    fn rds_changes(&self) -> BackendResult<&dyn RdsChanges> {
        self.inner
            .rds_changes()
            .map(|_| &self.refuse as &dyn RdsChanges)
    }
    fn cloudwatch_changes(&self) -> BackendResult<&dyn CloudWatchChanges> {
        self.inner
            .cloudwatch_changes()
            .map(|_| &self.refuse as &dyn CloudWatchChanges)
    }
    fn logs_changes(&self) -> BackendResult<&dyn LogsChanges> {
        self.inner
            .logs_changes()
            .map(|_| &self.refuse as &dyn LogsChanges)
    }
    fn cloudfront_changes(&self) -> BackendResult<&dyn CloudFrontChanges> {
        self.inner
            .cloudfront_changes()
            .map(|_| &self.refuse as &dyn CloudFrontChanges)
    }
    fn codedeploy_changes(&self) -> BackendResult<&dyn CodeDeployChanges> {
        self.inner
            .codedeploy_changes()
            .map(|_| &self.refuse as &dyn CodeDeployChanges)
    }

    fn request_stats(&self) -> BTreeMap<String, OpStats> {
        self.inner.request_stats()
    }
}

/// Every change of a read-only environment: refused, logged, not sent.
pub struct Refuse {
    env: String,
}

impl Refuse {
    fn refuse<T>(&self, operation: &str) -> BackendResult<T> {
        tracing::warn!(env = %self.env, operation, "refused: the environment is read-only");
        Err(BackendError::ReadOnly {
            operation: operation.to_string(),
        })
    }
}

#[async_trait]
impl EcsChanges for Refuse {
    async fn update_service(&self, _: &str, _: &str, _: ServiceUpdate) -> BackendResult<Service> {
        self.refuse("ecs:UpdateService")
    }
    async fn register_task_definition(&self, _: ImageChange) -> BackendResult<TaskDefinition> {
        self.refuse("ecs:RegisterTaskDefinition")
    }
    async fn stop_task(&self, _: &str, _: &str, _: &str) -> BackendResult<Task> {
        self.refuse("ecs:StopTask")
    }
    async fn execute_command(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
    ) -> BackendResult<ExecSession> {
        self.refuse("ecs:ExecuteCommand")
    }
}

#[async_trait]
impl Ec2Changes for Refuse {
    async fn reboot_instance(&self, _: &str) -> BackendResult<Instance> {
        self.refuse("ec2:RebootInstances")
    }
    async fn stop_instance(&self, _: &str) -> BackendResult<Instance> {
        self.refuse("ec2:StopInstances")
    }
    async fn start_instance(&self, _: &str) -> BackendResult<Instance> {
        self.refuse("ec2:StartInstances")
    }
}

#[async_trait]
impl CloudFrontChanges for Refuse {
    async fn create_invalidation(
        &self,
        _: &str,
        _: &[String],
        _: &str,
    ) -> BackendResult<Invalidation> {
        self.refuse("cloudfront:CreateInvalidation")
    }
}

#[async_trait]
impl CodeDeployChanges for Refuse {
    async fn stop_deployment(&self, _: &str, _: bool) -> BackendResult<String> {
        self.refuse("codedeploy:StopDeployment")
    }
    async fn continue_deployment(&self, _: &str) -> BackendResult<()> {
        self.refuse("codedeploy:ContinueDeployment")
    }
    async fn create_deployment(&self, _: &CdCreate) -> BackendResult<String> {
        self.refuse("codedeploy:CreateDeployment")
    }
}

#[async_trait]
impl ScalingChanges for Refuse {
    async fn set_scaling_bounds(
        &self,
        _: &str,
        _: &str,
        _: u32,
        _: u32,
    ) -> BackendResult<ScalableTarget> {
        self.refuse("application-autoscaling:RegisterScalableTarget")
    }
}

#[async_trait]
impl RdsChanges for Refuse {
    async fn create_db_snapshot(&self, _: &str, _: &str) -> BackendResult<DbSnapshot> {
        self.refuse("rds:CreateDBSnapshot")
    }
    async fn reboot_db_instance(&self, _: &str, _: bool) -> BackendResult<DbInstance> {
        self.refuse("rds:RebootDBInstance")
    }
    async fn restore_db_instance(&self, restore: &DbRestore) -> BackendResult<DbInstance> {
        self.refuse(restore.api())
    }
    async fn promote_read_replica(&self, _: &str) -> BackendResult<DbInstance> {
        self.refuse("rds:PromoteReadReplica")
    }
}

#[async_trait]
impl CloudWatchChanges for Refuse {
    async fn set_alarm_actions(&self, _: &[String], enabled: bool) -> BackendResult<()> {
        self.refuse(if enabled {
            "cloudwatch:EnableAlarmActions"
        } else {
            "cloudwatch:DisableAlarmActions"
        })
    }
}

#[async_trait]
impl LogsChanges for Refuse {
    async fn put_audit_records(
        &self,
        _: &str,
        _: &str,
        _: &[(Timestamp, String)],
    ) -> BackendResult<()> {
        self.refuse("logs:PutLogEvents")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sim::SimBackend;
    use crate::clock::Clock;
    use chrono::{TimeZone, Utc};

    #[tokio::test]
    async fn mutations_are_refused_and_reads_pass() {
        let clock = Clock::manual(
            Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
                .single()
                .expect("time"),
        );
        let sim: Arc<dyn Backend> =
            Arc::new(SimBackend::new("production", 1, clock).expect("world"));
        let guard = ReadOnly::new(sim.clone(), "production");
        let before = sim
            .ecs()
            .expect("ecs")
            .services("works-logue-prod")
            .await
            .expect("services");
        let web = before.items.iter().find(|s| s.name == "web").expect("web");
        let r = guard
            .ecs_changes()
            .expect("ECS changes")
            .update_service(
                "works-logue-prod",
                "web",
                ServiceUpdate {
                    desired_count: Some(web.desired_count + 5),
                    ..ServiceUpdate::default()
                },
            )
            .await;
        assert!(matches!(r, Err(BackendError::ReadOnly { .. })), "{r:?}");
        assert!(matches!(
            guard
                .rds_changes()
                .expect("rds")
                .create_db_snapshot("works-logue-prod-db", "x")
                .await,
            Err(BackendError::ReadOnly { .. })
        ));
        assert!(matches!(
            guard
                .cloudwatch_changes()
                .expect("cw")
                .set_alarm_actions(&["a".into()], false)
                .await,
            Err(BackendError::ReadOnly { .. })
        ));
        let tasks = sim
            .ecs()
            .expect("ecs")
            .tasks("works-logue-prod")
            .await
            .expect("tasks");
        let running = tasks
            .items
            .iter()
            .find(|t| t.last_status == "RUNNING")
            .expect("a running task");
        assert!(matches!(
            guard
                .ecs_changes()
                .expect("ECS changes")
                .stop_task("works-logue-prod", &running.arn, "stopped by test")
                .await,
            Err(BackendError::ReadOnly { .. })
        ));
        assert!(matches!(
            guard
                .ecs_changes()
                .expect("ECS changes")
                .execute_command("works-logue-prod", &running.arn, "web", "/bin/sh")
                .await,
            Err(BackendError::ReadOnly { .. })
        ));
        let again = sim
            .ecs()
            .expect("ecs")
            .tasks("works-logue-prod")
            .await
            .expect("tasks");
        let same = again.items.iter().find(|t| t.arn == running.arn);
        assert_eq!(same.map(|t| t.desired_status.as_str()), Some("RUNNING"));
        // Nothing changed behind the guard; reads still work through it.
        let after = guard
            .ecs()
            .expect("ecs")
            .services("works-logue-prod")
            .await
            .expect("services");
        let web_after = after.items.iter().find(|s| s.name == "web").expect("web");
        assert_eq!(web_after.desired_count, web.desired_count);
    }

    /// CodeDeploy: its reads pass through, its changes are refused unsent
    /// (the simulated deployment still waits afterwards).
    #[tokio::test]
    async fn codedeploy_changes_are_refused_and_its_reads_pass() {
        let clock = Clock::manual(
            Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
                .single()
                .expect("time"),
        );
        let sim: Arc<dyn Backend> = Arc::new(SimBackend::new("staging", 1, clock).expect("world"));
        let guard = ReadOnly::new(sim.clone(), "staging");
        let groups = guard
            .codedeploy()
            .expect("CodeDeploy reads pass through")
            .blue_greens(&[])
            .await
            .expect("groups");
        let id = groups[0].deployment.as_ref().expect("one").id.clone();
        let changes = guard.codedeploy_changes().expect("refusals");
        for r in [
            changes.stop_deployment(&id, true).await.map(|_| ()),
            changes.continue_deployment(&id).await,
            changes
                .create_deployment(&CdCreate {
                    application: "a".into(),
                    deployment_group: "g".into(),
                    appspec: "{}".into(),
                    description: "d".into(),
                })
                .await
                .map(|_| ()),
        ] {
            assert!(matches!(r, Err(BackendError::ReadOnly { .. })), "{r:?}");
        }
        let d = sim
            .codedeploy()
            .expect("cd")
            .deployment(&id, None)
            .await
            .expect("read");
        assert_eq!(d.status, "Ready", "nothing reached the simulation");
    }

    /// A read capability added later (EC2) passes through the guard too:
    /// a read-only environment sees its hosts, not `Missing`.
    #[tokio::test]
    async fn the_ec2_read_passes_through() {
        let clock = Clock::manual(
            Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
                .single()
                .expect("time"),
        );
        let sim: Arc<dyn Backend> = Arc::new(SimBackend::new("ec2-prod", 1, clock).expect("world"));
        let guard = ReadOnly::new(sim, "ec2-prod");
        let filter = crate::domain::InstanceFilter {
            ids: Vec::new(),
            tags: [("Name".to_string(), "app-prod-*".to_string())].into(),
        };
        let hosts = guard
            .ec2()
            .expect("EC2 passes through")
            .instances(&filter)
            .await
            .expect("hosts");
        assert_eq!(hosts.len(), 2);
    }

    /// EC2's changes are refused with the call named, and the host is
    /// left as it was.
    #[tokio::test]
    async fn ec2_changes_are_refused_and_the_host_is_unchanged() {
        let clock = Clock::manual(
            Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
                .single()
                .expect("time"),
        );
        let sim: Arc<dyn Backend> = Arc::new(SimBackend::new("ec2-prod", 1, clock).expect("world"));
        let guard = ReadOnly::new(sim.clone(), "ec2-prod");
        let id = "i-0a3f9c27e81b4d5f6";
        let changes = guard.ec2_changes().expect("EC2 changes");
        for (r, call) in [
            (changes.reboot_instance(id).await, "ec2:RebootInstances"),
            (changes.stop_instance(id).await, "ec2:StopInstances"),
            (changes.start_instance(id).await, "ec2:StartInstances"),
        ] {
            assert_eq!(
                r,
                Err(BackendError::ReadOnly {
                    operation: call.to_string()
                })
            );
        }
        let filter = crate::domain::InstanceFilter {
            ids: vec![id.to_string()],
            tags: std::collections::BTreeMap::new(),
        };
        let hosts = sim
            .ec2()
            .expect("ec2")
            .instances(&filter)
            .await
            .expect("hosts");
        assert_eq!(hosts.first().map(|h| h.state.as_str()), Some("running"));
    }
}
