//! CodeDeploy: the blue/green deployments of CODE_DEPLOY-controlled ECS
//! services — their deployment groups discovered by the services they
//! name, the current (else last) deployment with its ECS target — and the
//! changes, each sent once: StopDeployment, ContinueDeployment,
//! CreateDeployment.
//!
//! The batches are cut to the API's limits: BatchGetApplications and
//! BatchGetDeploymentGroups 100 names, BatchGetDeployments 25 ids,
//! BatchGetDeploymentTargets 25 target ids.

use async_trait::async_trait;
use aws_sdk_codedeploy::types::{
    self as t, AppSpecContent, ComputePlatform, DeploymentReadyAction, DeploymentStatus,
    DeploymentWaitType, RevisionLocation, RevisionLocationType, TimeRange,
};
use chrono::{TimeDelta, Utc};
use futures_util::future::try_join_all;

use super::AwsBackend;
use super::convert::{opt_string, opt_time, string};
use crate::backend::{
    BATCH_GET_DEPLOYMENTS, BackendError, BackendResult, CdCreate, CodeDeploy, CodeDeployChanges,
    LAST_DEPLOYMENT_HOURS,
};
use crate::domain::{
    ACTIVE_STATUSES, BgTaskSet, BlueGreen, CdDeployment, CdRollback, EcsTarget, LifecycleEvent,
    appspec_task_definition,
};

/// The most names one BatchGetApplications / BatchGetDeploymentGroups takes.
pub const BATCH_GET_NAMES: usize = 100;

#[async_trait]
impl CodeDeploy for AwsBackend {
    async fn blue_greens(&self, clusters: &[String]) -> BackendResult<Vec<BlueGreen>> {
        blue_greens(self, clusters).await
    }

    async fn deployment(
        &self,
        id: &str,
        target: Option<(&str, &str)>,
    ) -> BackendResult<CdDeployment> {
        let out = self
            .call(
                "codedeploy",
                "GetDeployment",
                self.clients
                    .codedeploy
                    .get_deployment()
                    .deployment_id(id)
                    .send(),
            )
            .await?;
        let mut d =
            out.deployment_info()
                .map(deployment)
                .ok_or_else(|| BackendError::NotFound {
                    resource: format!("CodeDeploy deployment {id}"),
                })?;
        if let Some((cluster, service)) = target {
            d.target = ecs_target(self, id, cluster, service, d.task_definition.as_deref()).await;
        }
        Ok(d)
    }

    async fn find_deployment(
        &self,
        application: &str,
        group: &str,
        description: &str,
        since: crate::domain::Timestamp,
    ) -> BackendResult<Option<CdDeployment>> {
        // A minute early: the intent's clock and AWS's may differ.
        let since = since - TimeDelta::minutes(1);
        let ids = list_deployments(self, application, group, None, Some(since)).await?;
        let found = get_deployments(self, &ids).await?;
        Ok(found
            .into_iter()
            .find(|d| d.description.as_deref() == Some(description)))
    }
}

#[async_trait]
impl CodeDeployChanges for AwsBackend {
    async fn stop_deployment(&self, id: &str, auto_rollback: bool) -> BackendResult<String> {
        let out = self
            .call(
                "codedeploy",
                "StopDeployment",
                self.clients
                    .codedeploy
                    .stop_deployment()
                    .deployment_id(id)
                    .auto_rollback_enabled(auto_rollback)
                    .customize()
                    .config_override(super::once!(aws_sdk_codedeploy))
                    .send(),
            )
            .await?;
        let status = out.status().map_or("", |s| s.as_str()).to_string();
        Ok(match out.status_message() {
            Some(m) if !m.is_empty() => format!("{status}: {m}"),
            _ => status,
        })
    }

    async fn continue_deployment(&self, id: &str) -> BackendResult<()> {
        self.call(
            "codedeploy",
            "ContinueDeployment",
            self.clients
                .codedeploy
                .continue_deployment()
                .deployment_id(id)
                .deployment_wait_type(DeploymentWaitType::ReadyWait)
                .customize()
                .config_override(super::once!(aws_sdk_codedeploy))
                .send(),
        )
        .await?;
        Ok(())
    }

    async fn create_deployment(&self, create: &CdCreate) -> BackendResult<String> {
        let revision = RevisionLocation::builder()
            .revision_type(RevisionLocationType::AppSpecContent)
            .app_spec_content(AppSpecContent::builder().content(&create.appspec).build())
            .build();
        let out = self
            .call(
                "codedeploy",
                "CreateDeployment",
                self.clients
                    .codedeploy
                    .create_deployment()
                    .application_name(&create.application)
                    .deployment_group_name(&create.deployment_group)
                    .revision(revision)
                    .description(&create.description)
                    .customize()
                    .config_override(super::once!(aws_sdk_codedeploy))
                    .send(),
            )
            .await?;
        out.deployment_id()
            .map(str::to_string)
            .ok_or_else(|| BackendError::Other {
                message: "CreateDeployment returned no deployment id".to_string(),
            })
    }
}

/// Every page of ListApplications.
async fn applications(b: &AwsBackend) -> BackendResult<Vec<String>> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "codedeploy",
                "ListApplications",
                b.clients
                    .codedeploy
                    .list_applications()
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        names.extend(page.applications().iter().cloned());
        // An empty token ends the listing too (moto answers one).
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(names)
}

/// The applications of the ECS compute platform among `names`.
async fn ecs_applications(b: &AwsBackend, names: &[String]) -> BackendResult<Vec<String>> {
    let batches = names.chunks(BATCH_GET_NAMES).map(|batch| {
        b.call(
            "codedeploy",
            "BatchGetApplications",
            b.clients
                .codedeploy
                .batch_get_applications()
                .set_application_names(Some(batch.to_vec()))
                .send(),
        )
    });
    let mut ecs = Vec::new();
    for out in try_join_all(batches).await? {
        ecs.extend(
            out.applications_info()
                .iter()
                .filter(|a| a.compute_platform() == Some(&ComputePlatform::Ecs))
                .filter_map(|a| a.application_name().map(str::to_string)),
        );
    }
    Ok(ecs)
}

/// The deployment groups of an application (every page, then
/// BatchGetDeploymentGroups).
async fn groups(b: &AwsBackend, application: &str) -> BackendResult<Vec<t::DeploymentGroupInfo>> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "codedeploy",
                "ListDeploymentGroups",
                b.clients
                    .codedeploy
                    .list_deployment_groups()
                    .application_name(application)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        names.extend(page.deployment_groups().iter().cloned());
        // moto answers an empty token for the last page.
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let batches = names.chunks(BATCH_GET_NAMES).map(|batch| {
        b.call(
            "codedeploy",
            "BatchGetDeploymentGroups",
            b.clients
                .codedeploy
                .batch_get_deployment_groups()
                .application_name(application)
                .set_deployment_group_names(Some(batch.to_vec()))
                .send(),
        )
    });
    let mut infos = Vec::new();
    for out in try_join_all(batches).await? {
        infos.extend(out.deployment_groups_info().iter().cloned());
    }
    Ok(infos)
}

/// Every page of ListDeployments of a group, with the statuses or the
/// creation time asked.
async fn list_deployments(
    b: &AwsBackend,
    application: &str,
    group: &str,
    statuses: Option<&[&str]>,
    since: Option<crate::domain::Timestamp>,
) -> BackendResult<Vec<String>> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let statuses: Option<Vec<DeploymentStatus>> =
        statuses.map(|s| s.iter().map(|x| DeploymentStatus::from(*x)).collect());
    let range = since.map(|t| {
        TimeRange::builder()
            .start(aws_smithy_types::DateTime::from_secs(t.timestamp()))
            .build()
    });
    loop {
        let page = b
            .call(
                "codedeploy",
                "ListDeployments",
                b.clients
                    .codedeploy
                    .list_deployments()
                    .application_name(application)
                    .deployment_group_name(group)
                    .set_include_only_statuses(statuses.clone())
                    .set_create_time_range(range.clone())
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        ids.extend(page.deployments().iter().cloned());
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(ids)
}

/// BatchGetDeployments of `ids`, 25 a call.
async fn get_deployments(b: &AwsBackend, ids: &[String]) -> BackendResult<Vec<CdDeployment>> {
    let batches = ids.chunks(BATCH_GET_DEPLOYMENTS).map(|batch| {
        b.call(
            "codedeploy",
            "BatchGetDeployments",
            b.clients
                .codedeploy
                .batch_get_deployments()
                .set_deployment_ids(Some(batch.to_vec()))
                .send(),
        )
    });
    let mut out = Vec::new();
    for page in try_join_all(batches).await? {
        out.extend(page.deployments_info().iter().map(deployment));
    }
    Ok(out)
}

pub async fn blue_greens(b: &AwsBackend, clusters: &[String]) -> BackendResult<Vec<BlueGreen>> {
    let apps = applications(b).await?;
    if apps.is_empty() {
        return Ok(Vec::new());
    }
    let apps = ecs_applications(b, &apps).await?;
    let per_app = try_join_all(apps.iter().map(|a| groups(b, a))).await?;
    let mut found = Vec::new();
    for info in per_app.into_iter().flatten() {
        for svc in info.ecs_services() {
            let cluster = svc.cluster_name().unwrap_or_default();
            let cluster = cluster.rsplit('/').next().unwrap_or(cluster).to_string();
            if !clusters.is_empty() && !clusters.contains(&cluster) {
                continue;
            }
            found.push(group(&info, cluster, string(svc.service_name())));
        }
    }
    let reads = found.into_iter().map(|mut bg| async move {
        bg.deployment = current(b, &bg).await?;
        Ok::<_, BackendError>(bg)
    });
    let mut all = try_join_all(reads).await?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// A deployment group of one ECS service, its deployment not read yet.
fn group(info: &t::DeploymentGroupInfo, cluster: String, service: String) -> BlueGreen {
    let bg = info.blue_green_deployment_configuration();
    let ready = bg.and_then(t::BlueGreenDeploymentConfiguration::deployment_ready_option);
    let ready_wait_minutes = ready
        .filter(|r| r.action_on_timeout() == Some(&DeploymentReadyAction::StopDeployment))
        .map(|r| u32::try_from(r.wait_time_in_minutes()).unwrap_or(0));
    let termination_wait_minutes = bg
        .and_then(
            t::BlueGreenDeploymentConfiguration::terminate_blue_instances_on_deployment_success,
        )
        .map(|t| u32::try_from(t.termination_wait_time_in_minutes()).unwrap_or(0));
    BlueGreen {
        id: BlueGreen::id_of(&cluster, &service),
        cluster,
        service,
        application: string(info.application_name()),
        deployment_group: string(info.deployment_group_name()),
        deployment_config: string(info.deployment_config_name()),
        ready_wait_minutes,
        termination_wait_minutes,
        auto_rollback: info
            .auto_rollback_configuration()
            .is_some_and(t::AutoRollbackConfiguration::enabled),
        deployment: None,
    }
}

/// The group's active deployment, else its newest of the past day, with
/// its ECS target.
async fn current(b: &AwsBackend, bg: &BlueGreen) -> BackendResult<Option<CdDeployment>> {
    let app = &bg.application;
    let group = &bg.deployment_group;
    let mut ids = list_deployments(b, app, group, Some(&ACTIVE_STATUSES), None).await?;
    if ids.is_empty() {
        let since = Utc::now() - TimeDelta::hours(LAST_DEPLOYMENT_HOURS);
        ids = list_deployments(b, app, group, None, Some(since)).await?;
    }
    let newest = get_deployments(b, &ids)
        .await?
        .into_iter()
        .max_by_key(|d| d.created_at);
    let Some(mut d) = newest else {
        return Ok(None);
    };
    d.target = ecs_target(
        b,
        &d.id,
        &bg.cluster,
        &bg.service,
        d.task_definition.as_deref(),
    )
    .await;
    Ok(Some(d))
}

/// BatchGetDeploymentTargets of the deployment's `<cluster>:<service>`
/// target: its task sets and lifecycle events. A failure leaves it
/// unknown (the deployment itself was read).
async fn ecs_target(
    b: &AwsBackend,
    id: &str,
    cluster: &str,
    service: &str,
    task_definition: Option<&str>,
) -> Option<EcsTarget> {
    let out = b
        .call(
            "codedeploy",
            "BatchGetDeploymentTargets",
            b.clients
                .codedeploy
                .batch_get_deployment_targets()
                .deployment_id(id)
                .target_ids(format!("{cluster}:{service}"))
                .send(),
        )
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            tracing::warn!(
                deployment = id,
                kind = e.kind(),
                "deployment target not read"
            );
            return None;
        }
    };
    let target = out
        .deployment_targets()
        .iter()
        .find_map(t::DeploymentTarget::ecs_target)?;
    Some(EcsTarget {
        status: target.status().map_or("", |s| s.as_str()).to_string(),
        task_sets: target
            .task_sets_info()
            .iter()
            .map(|s| {
                let label = s.task_set_label().map(|l| l.as_str().to_string());
                BgTaskSet {
                    id: string(s.identifer()),
                    task_definition: (label.as_deref() == Some("Green"))
                        .then(|| task_definition.map(str::to_string))
                        .flatten(),
                    label,
                    status: string(s.status()),
                    desired: u32::try_from(s.desired_count()).unwrap_or(0),
                    running: u32::try_from(s.running_count()).unwrap_or(0),
                    pending: u32::try_from(s.pending_count()).unwrap_or(0),
                    traffic_weight: s.traffic_weight(),
                    target_group: s.target_group().and_then(|g| g.name()).map(str::to_string),
                }
            })
            .collect(),
        lifecycle_events: target
            .lifecycle_events()
            .iter()
            .map(|e| LifecycleEvent {
                name: string(e.lifecycle_event_name()),
                status: e.status().map_or("", |s| s.as_str()).to_string(),
                started_at: opt_time(e.start_time()),
                ended_at: opt_time(e.end_time()),
                diagnostics: e
                    .diagnostics()
                    .and_then(|d| d.message())
                    .filter(|m| !m.is_empty())
                    .map(str::to_string),
            })
            .collect(),
    })
}

fn deployment(d: &t::DeploymentInfo) -> CdDeployment {
    let appspec = d
        .revision()
        .and_then(|r| r.app_spec_content())
        .and_then(|c| c.content())
        .or_else(|| {
            d.revision()
                .and_then(|r| r.string())
                .and_then(|s| s.content())
        });
    CdDeployment {
        id: string(d.deployment_id()),
        status: d.status().map_or("", |s| s.as_str()).to_string(),
        creator: d.creator().map(|c| c.as_str().to_string()),
        description: opt_string(d.description()).filter(|s| !s.is_empty()),
        created_at: opt_time(d.create_time()),
        completed_at: opt_time(d.complete_time()),
        error: d.error_information().and_then(|e| {
            let code = e.code().map(|c| c.as_str().to_string());
            let message = e.message().map(str::to_string);
            match (code, message) {
                (Some(c), Some(m)) if !m.is_empty() => Some(format!("{c}: {m}")),
                (Some(c), _) if !c.is_empty() => Some(c),
                (None, Some(m)) if !m.is_empty() => Some(m),
                _ => None,
            }
        }),
        rollback: d.rollback_info().and_then(|r| {
            let info = CdRollback {
                deployment_id: opt_string(r.rollback_deployment_id()).filter(|s| !s.is_empty()),
                triggering_deployment_id: opt_string(r.rollback_triggering_deployment_id())
                    .filter(|s| !s.is_empty()),
                message: opt_string(r.rollback_message()).filter(|s| !s.is_empty()),
            };
            (info.deployment_id.is_some()
                || info.triggering_deployment_id.is_some()
                || info.message.is_some())
            .then_some(info)
        }),
        status_messages: d.deployment_status_messages().to_vec(),
        task_definition: appspec.and_then(appspec_task_definition),
        target: None,
    }
}
