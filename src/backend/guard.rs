//! Read-only enforcement where requests are made: a [`Backend`] wrapper
//! whose mutating calls return [`BackendError::ReadOnly`] without reaching
//! the wrapped backend (and so without touching the network). Reads pass
//! through. It is applied in `setup` to every environment that is read-only
//! (the `--read-only` flag, `read_only = true` at the top of the config or on
//! the environment), so no key, view or later code path can bypass it.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Backend, BackendError, BackendResult, ImageChange, OpStats, ServiceUpdate};
use crate::domain::{
    Alarm, AlarmHistoryItem, CallerIdentity, Cluster, DbInstance, DbSnapshot, Listing, MetricQuery,
    MetricSeries, ScalableTarget, Service, TargetGroup, Task, TaskDefinition, Timestamp,
};
use crate::domain::{EcrImage, ImageLookup};

/// A backend that refuses every mutating call.
pub struct ReadOnly {
    inner: Arc<dyn Backend>,
    env: String,
}

impl ReadOnly {
    pub fn new(inner: Arc<dyn Backend>, env: &str) -> Self {
        Self {
            inner,
            env: env.to_string(),
        }
    }

    fn refuse<T>(&self, operation: &str) -> BackendResult<T> {
        tracing::warn!(env = %self.env, operation, "refused: the environment is read-only");
        Err(BackendError::ReadOnly {
            operation: operation.to_string(),
        })
    }
}

#[async_trait]
impl Backend for ReadOnly {
    async fn caller_identity(&self) -> BackendResult<CallerIdentity> {
        self.inner.caller_identity().await
    }
    async fn clusters(&self, names: &[String]) -> BackendResult<Listing<Cluster>> {
        self.inner.clusters(names).await
    }

    async fn list_clusters(&self) -> BackendResult<Vec<String>> {
        self.inner.list_clusters().await
    }
    async fn services(&self, cluster: &str) -> BackendResult<Listing<Service>> {
        self.inner.services(cluster).await
    }
    async fn tasks(&self, cluster: &str) -> BackendResult<Listing<Task>> {
        self.inner.tasks(cluster).await
    }
    async fn task_definition(&self, arn: &str) -> BackendResult<TaskDefinition> {
        self.inner.task_definition(arn).await
    }
    async fn task_definition_revisions(&self, family: &str) -> BackendResult<Vec<String>> {
        self.inner.task_definition_revisions(family).await
    }
    async fn scalable_targets(&self, clusters: &[String]) -> BackendResult<Vec<ScalableTarget>> {
        self.inner.scalable_targets(clusters).await
    }
    async fn target_groups(&self, arns: &[String]) -> BackendResult<Vec<TargetGroup>> {
        self.inner.target_groups(arns).await
    }
    async fn db_instances(&self, ids: &[String]) -> BackendResult<Vec<DbInstance>> {
        self.inner.db_instances(ids).await
    }
    async fn db_snapshots(&self, instance_ids: &[String]) -> BackendResult<Vec<DbSnapshot>> {
        self.inner.db_snapshots(instance_ids).await
    }
    async fn alarms(&self, prefixes: &[String]) -> BackendResult<Vec<Alarm>> {
        self.inner.alarms(prefixes).await
    }
    // --- metrics
    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: Timestamp,
        end: Timestamp,
    ) -> BackendResult<Vec<MetricSeries>> {
        self.inner.metric_data(queries, start, end).await
    }
    async fn alarm_history(&self, name: &str) -> BackendResult<Vec<AlarmHistoryItem>> {
        self.inner.alarm_history(name).await
    }
    async fn describe_image(&self, image: &EcrImage) -> BackendResult<ImageLookup> {
        self.inner.describe_image(image).await
    }

    async fn update_service(&self, _: &str, _: &str, _: ServiceUpdate) -> BackendResult<Service> {
        self.refuse("ecs:UpdateService")
    }
    async fn register_task_definition(&self, _: ImageChange) -> BackendResult<TaskDefinition> {
        self.refuse("ecs:RegisterTaskDefinition")
    }
    async fn set_scaling_bounds(
        &self,
        _: &str,
        _: &str,
        _: u32,
        _: u32,
    ) -> BackendResult<ScalableTarget> {
        self.refuse("application-autoscaling:RegisterScalableTarget")
    }
    async fn create_db_snapshot(&self, _: &str, _: &str) -> BackendResult<DbSnapshot> {
        self.refuse("rds:CreateDBSnapshot")
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
    ) -> BackendResult<crate::domain::ExecSession> {
        self.refuse("ecs:ExecuteCommand")
    }
    async fn reboot_db_instance(&self, _: &str, _: bool) -> BackendResult<DbInstance> {
        self.refuse("rds:RebootDBInstance")
    }

    async fn restore_db_instance(
        &self,
        restore: &crate::backend::DbRestore,
    ) -> BackendResult<DbInstance> {
        self.refuse(restore.api())
    }

    async fn promote_read_replica(&self, _: &str) -> BackendResult<DbInstance> {
        self.refuse("rds:PromoteReadReplica")
    }
    async fn set_alarm_actions(&self, _: &[String], enabled: bool) -> BackendResult<()> {
        self.refuse(if enabled {
            "cloudwatch:EnableAlarmActions"
        } else {
            "cloudwatch:DisableAlarmActions"
        })
    }

    async fn put_audit_records(
        &self,
        _: &str,
        _: &str,
        _: &[(Timestamp, String)],
    ) -> BackendResult<()> {
        self.refuse("logs:PutLogEvents")
    }

    // --- logs
    async fn log_events(
        &self,
        query: &crate::domain::LogQuery,
    ) -> BackendResult<crate::domain::LogPage> {
        self.inner.log_events(query).await
    }

    fn request_stats(&self) -> BTreeMap<String, OpStats> {
        self.inner.request_stats()
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
        let before = sim.services("works-logue-prod").await.expect("services");
        let web = before.items.iter().find(|s| s.name == "web").expect("web");
        let r = guard
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
            guard.create_db_snapshot("works-logue-prod-db", "x").await,
            Err(BackendError::ReadOnly { .. })
        ));
        assert!(matches!(
            guard.set_alarm_actions(&["a".into()], false).await,
            Err(BackendError::ReadOnly { .. })
        ));
        let tasks = sim.tasks("works-logue-prod").await.expect("tasks");
        let running = tasks
            .items
            .iter()
            .find(|t| t.last_status == "RUNNING")
            .expect("a running task");
        assert!(matches!(
            guard
                .stop_task("works-logue-prod", &running.arn, "stopped by test")
                .await,
            Err(BackendError::ReadOnly { .. })
        ));
        assert!(matches!(
            guard
                .execute_command("works-logue-prod", &running.arn, "web", "/bin/sh")
                .await,
            Err(BackendError::ReadOnly { .. })
        ));
        let again = sim.tasks("works-logue-prod").await.expect("tasks");
        let same = again.items.iter().find(|t| t.arn == running.arn);
        assert_eq!(same.map(|t| t.desired_status.as_str()), Some("RUNNING"));
        // Nothing changed behind the guard; reads still work through it.
        let after = guard.services("works-logue-prod").await.expect("services");
        let web_after = after.items.iter().find(|s| s.name == "web").expect("web");
        assert_eq!(web_after.desired_count, web.desired_count);
    }
}
