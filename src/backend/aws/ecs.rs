//! ECS: clusters, services, tasks, task definitions; every page, batched to
//! the API limits (ListClusters/ListServices/ListTasks 100 a page,
//! DescribeServices 10, DescribeTasks 100).

use aws_sdk_ecs::types::{self as t, DesiredStatus, TaskDefinitionField};
use futures_util::future::try_join_all;

use super::AwsBackend;
use super::convert::{count, opt_string, opt_time, port, string};
use crate::backend::{BackendError, BackendResult, ImageChange, ServiceUpdate};
use crate::backend::{Ecs, EcsChanges};
use crate::domain::{
    CircuitBreaker, Cluster, Container, ContainerDefinition, Deployment, DeploymentController,
    EcsServiceDeployment, Failure, Listing, LoadBalancerRef, RolloutState, Service, ServiceEvent,
    Task, TaskDefinition, short_id,
};
use async_trait::async_trait;

#[async_trait]
impl Ecs for AwsBackend {
    async fn clusters(&self, names: &[String]) -> BackendResult<Listing<Cluster>> {
        clusters(self, names).await
    }

    async fn list_clusters(&self) -> BackendResult<Vec<String>> {
        list_clusters(self).await
    }

    async fn services(&self, cluster: &str) -> BackendResult<Listing<Service>> {
        services(self, cluster).await
    }

    async fn tasks(&self, cluster: &str) -> BackendResult<Listing<Task>> {
        tasks(self, cluster).await
    }

    /// Cached: a revision never changes.
    async fn task_definition(&self, arn: &str) -> BackendResult<TaskDefinition> {
        if let Some(td) = self.cached_task_definition(arn) {
            return Ok(td);
        }
        let td = task_definition(self, arn).await?;
        self.cache_task_definition(arn, &td);
        Ok(td)
    }

    async fn task_definition_revisions(&self, family: &str) -> BackendResult<Vec<String>> {
        revisions(self, family).await
    }
}

#[async_trait]
impl EcsChanges for AwsBackend {
    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        update: ServiceUpdate,
    ) -> BackendResult<Service> {
        update_service(self, cluster, service, update).await
    }

    async fn register_task_definition(&self, change: ImageChange) -> BackendResult<TaskDefinition> {
        register_task_definition(self, change).await
    }

    async fn stop_task(&self, cluster: &str, task: &str, reason: &str) -> BackendResult<Task> {
        stop_task(self, cluster, task, reason).await
    }

    async fn execute_command(
        &self,
        cluster: &str,
        task: &str,
        container: &str,
        command: &str,
    ) -> BackendResult<crate::domain::ExecSession> {
        execute_command(self, cluster, task, container, command).await
    }
}

/// The most services one DescribeServices call takes.
pub const DESCRIBE_SERVICES_BATCH: usize = 10;
/// The most tasks one DescribeTasks call takes.
pub const DESCRIBE_TASKS_BATCH: usize = 100;
/// The largest page of ListClusters / ListServices / ListTasks /
/// ListTaskDefinitions.
pub const LIST_PAGE: i32 = 100;

pub async fn clusters(b: &AwsBackend, names: &[String]) -> BackendResult<Listing<Cluster>> {
    let out = b
        .call(
            "ecs",
            "DescribeClusters",
            b.clients
                .ecs
                .describe_clusters()
                .set_clusters(Some(names.to_vec()))
                .send(),
        )
        .await?;
    Ok(Listing {
        items: out
            .clusters()
            .iter()
            .map(|c| Cluster {
                arn: string(c.cluster_arn()),
                name: string(c.cluster_name()),
                status: string(c.status()),
                active_services: count(c.active_services_count()),
                running_tasks: count(c.running_tasks_count()),
                pending_tasks: count(c.pending_tasks_count()),
            })
            .collect(),
        failures: failures(out.failures()),
    })
}

pub async fn list_clusters(b: &AwsBackend) -> BackendResult<Vec<String>> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "ecs",
                "ListClusters",
                b.clients
                    .ecs
                    .list_clusters()
                    .max_results(LIST_PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        names.extend(page.cluster_arns().iter().map(|arn| cluster_name(arn)));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// A cluster's name from its ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`):
/// what the other ECS calls, the scaling resource ids and the metric
/// dimensions use.
fn cluster_name(arn: &str) -> String {
    arn.split_once(":cluster/")
        .map_or(arn, |(_, name)| name)
        .to_string()
}

fn failures(f: &[t::Failure]) -> Vec<Failure> {
    f.iter()
        .map(|f| Failure {
            arn: string(f.arn()),
            reason: string(f.reason()),
            detail: opt_string(f.detail()),
        })
        .collect()
}

pub async fn services(b: &AwsBackend, cluster: &str) -> BackendResult<Listing<Service>> {
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "ecs",
                "ListServices",
                b.clients
                    .ecs
                    .list_services()
                    .cluster(cluster)
                    .max_results(LIST_PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        arns.extend(page.service_arns().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // The batches go out together (each waits for its token), answers in
    // the order asked.
    let batches = arns.chunks(DESCRIBE_SERVICES_BATCH).map(|batch| {
        b.call(
            "ecs",
            "DescribeServices",
            b.clients
                .ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .send(),
        )
    });
    let mut listing = Listing::default();
    for out in try_join_all(batches).await? {
        listing.items.extend(out.services().iter().map(service));
        listing.failures.extend(failures(out.failures()));
    }
    blue_green_stages(b, cluster, &mut listing.items).await;
    Ok(listing)
}

fn service(s: &t::Service) -> Service {
    Service {
        arn: string(s.service_arn()),
        name: string(s.service_name()),
        cluster_arn: string(s.cluster_arn()),
        status: string(s.status()),
        desired_count: count(s.desired_count()),
        running_count: count(s.running_count()),
        pending_count: count(s.pending_count()),
        launch_type: s.launch_type().map(|l| l.as_str().to_string()),
        task_definition: string(s.task_definition()),
        deployments: s.deployments().iter().map(deployment).collect(),
        events: s
            .events()
            .iter()
            .filter_map(|e| {
                Some(ServiceEvent {
                    id: string(e.id()),
                    created_at: opt_time(e.created_at())?,
                    message: string(e.message()),
                })
            })
            .collect(),
        load_balancers: s
            .load_balancers()
            .iter()
            .map(|lb| LoadBalancerRef {
                target_group_arn: opt_string(lb.target_group_arn()),
                container_name: opt_string(lb.container_name()),
                container_port: port(lb.container_port()),
            })
            .collect(),
        created_at: opt_time(s.created_at()),
        circuit_breaker: s
            .deployment_configuration()
            .and_then(|c| c.deployment_circuit_breaker())
            .map(|cb| CircuitBreaker {
                enable: cb.enable(),
                rollback: cb.rollback(),
            }),
        deployment_controller: s
            .deployment_controller()
            .map_or(DeploymentController::Ecs, |c| {
                DeploymentController::parse(c.r#type().as_str())
            }),
        strategy: s
            .deployment_configuration()
            .and_then(|c| c.strategy())
            .map(|st| st.as_str().to_string()),
        service_deployment: None,
    }
}

/// The current service deployment of each ECS-native blue/green service
/// (ListServiceDeployments, the newest; DescribeServiceDeployments):
/// its stage. Others are left as they are; a failure leaves it unknown.
async fn blue_green_stages(b: &AwsBackend, cluster: &str, services: &mut [Service]) {
    let reads = services
        .iter_mut()
        .filter(|s| s.is_ecs_blue_green())
        .map(|s| async move {
            match service_deployment(b, cluster, &s.name).await {
                Ok(d) => s.service_deployment = d,
                Err(e) => tracing::warn!(service = %s.name, kind = e.kind(), "service deployment not read"),
            }
        });
    futures_util::future::join_all(reads).await;
}

async fn service_deployment(
    b: &AwsBackend,
    cluster: &str,
    service: &str,
) -> BackendResult<Option<EcsServiceDeployment>> {
    let page = b
        .call(
            "ecs",
            "ListServiceDeployments",
            b.clients
                .ecs
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .max_results(1)
                .send(),
        )
        .await?;
    let Some(arn) = page
        .service_deployments()
        .first()
        .and_then(|d| d.service_deployment_arn())
    else {
        return Ok(None);
    };
    let out = b
        .call(
            "ecs",
            "DescribeServiceDeployments",
            b.clients
                .ecs
                .describe_service_deployments()
                .service_deployment_arns(arn)
                .send(),
        )
        .await?;
    Ok(out
        .service_deployments()
        .first()
        .map(|d| EcsServiceDeployment {
            arn: string(d.service_deployment_arn()),
            status: d
                .status()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            lifecycle_stage: d.lifecycle_stage().map(|x| x.as_str().to_string()),
            production_traffic: d
                .target_service_revision()
                .and_then(t::ServiceRevisionSummary::requested_production_traffic_weight),
            started_at: opt_time(d.started_at()),
            status_reason: opt_string(d.status_reason()),
        }))
}

fn deployment(d: &t::Deployment) -> Deployment {
    let created = opt_time(d.created_at()).unwrap_or_default();
    Deployment {
        id: string(d.id()),
        status: string(d.status()),
        task_definition: string(d.task_definition()),
        desired_count: count(d.desired_count()),
        running_count: count(d.running_count()),
        pending_count: count(d.pending_count()),
        failed_tasks: count(d.failed_tasks()),
        rollout_state: d
            .rollout_state()
            .map_or(RolloutState::Unknown, |r| RolloutState::parse(r.as_str())),
        rollout_state_reason: opt_string(d.rollout_state_reason()),
        created_at: created,
        updated_at: opt_time(d.updated_at()).unwrap_or(created),
    }
}

/// Running tasks and the recently stopped ones (ECS keeps those about an hour).
pub async fn tasks(b: &AwsBackend, cluster: &str) -> BackendResult<Listing<Task>> {
    // Both listings at once, each page after the one before; each page's
    // tasks are described as soon as it arrives.
    let (running, stopped) = futures_util::future::try_join(
        Box::pin(task_chain(b, cluster, DesiredStatus::Running)),
        Box::pin(task_chain(b, cluster, DesiredStatus::Stopped)),
    )
    .await?;
    let mut seen = std::collections::HashSet::new();
    let mut listing = Listing::default();
    for part in running.into_iter().chain(stopped) {
        for t in part.items {
            if seen.insert(t.arn.clone()) {
                listing.items.push(t);
            }
        }
        listing.failures.extend(part.failures);
    }
    Ok(listing)
}

/// The tasks of one desired status: ListTasks page by page (100 a page,
/// what one DescribeTasks takes), each page described while the next one
/// is listed.
async fn task_chain(
    b: &AwsBackend,
    cluster: &str,
    status: DesiredStatus,
) -> BackendResult<Vec<Listing<Task>>> {
    let mut done = Vec::new();
    let mut describing = None;
    let mut token: Option<String> = None;
    loop {
        let list = b.call(
            "ecs",
            "ListTasks",
            b.clients
                .ecs
                .list_tasks()
                .cluster(cluster)
                .desired_status(status.clone())
                .max_results(LIST_PAGE)
                .set_next_token(token.clone())
                .send(),
        );
        let page = match describing.take() {
            Some(previous) => {
                let (page, described) = futures_util::future::try_join(list, previous).await?;
                done.extend(described);
                page
            }
            None => list.await?,
        };
        describing = Some(describe_page(b, cluster, page.task_arns().to_vec()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if let Some(last) = describing {
        done.extend(last.await?);
    }
    Ok(done)
}

/// The tasks of one ListTasks page, in batches of what DescribeTasks takes
/// (sent together).
async fn describe_page(
    b: &AwsBackend,
    cluster: &str,
    arns: Vec<String>,
) -> BackendResult<Vec<Listing<Task>>> {
    try_join_all(
        arns.chunks(DESCRIBE_TASKS_BATCH)
            .map(|batch| describe_tasks(b, cluster, batch.to_vec())),
    )
    .await
}

async fn describe_tasks(
    b: &AwsBackend,
    cluster: &str,
    arns: Vec<String>,
) -> BackendResult<Listing<Task>> {
    let out = b
        .call(
            "ecs",
            "DescribeTasks",
            b.clients
                .ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(arns))
                .send(),
        )
        .await?;
    Ok(Listing {
        items: out.tasks().iter().map(task).collect(),
        failures: failures(out.failures()),
    })
}

fn task(x: &t::Task) -> Task {
    Task {
        arn: string(x.task_arn()),
        cluster_arn: string(x.cluster_arn()),
        task_definition: string(x.task_definition_arn()),
        group: opt_string(x.group()),
        last_status: string(x.last_status()),
        desired_status: string(x.desired_status()),
        health_status: x
            .health_status()
            .map_or_else(|| "UNKNOWN".to_string(), |h| h.as_str().to_string()),
        availability_zone: opt_string(x.availability_zone()),
        launch_type: x.launch_type().map(|l| l.as_str().to_string()),
        cpu: opt_string(x.cpu()),
        memory: opt_string(x.memory()),
        created_at: opt_time(x.created_at()),
        started_at: opt_time(x.started_at()),
        stopped_at: opt_time(x.stopped_at()),
        stop_code: x.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: opt_string(x.stopped_reason()),
        stopping_at: opt_time(x.stopping_at()),
        platform_version: opt_string(x.platform_version()),
        private_ip: eni_detail(x, "privateIPv4Address").or_else(|| {
            x.containers()
                .iter()
                .flat_map(t::Container::network_interfaces)
                .find_map(|n| opt_string(n.private_ipv4_address()))
        }),
        eni: eni_detail(x, "networkInterfaceId"),
        enable_execute_command: x.enable_execute_command(),
        containers: x
            .containers()
            .iter()
            .map(|c| Container {
                name: string(c.name()),
                image: string(c.image()),
                image_digest: opt_string(c.image_digest()),
                last_status: string(c.last_status()),
                health_status: c.health_status().map(|h| h.as_str().to_string()),
                exit_code: c.exit_code(),
                reason: opt_string(c.reason()),
                runtime_id: opt_string(c.runtime_id()),
                exec_agent: c
                    .managed_agents()
                    .iter()
                    .find(|a| {
                        a.name().map(t::ManagedAgentName::as_str) == Some("ExecuteCommandAgent")
                    })
                    .map(|a| string(a.last_status())),
            })
            .collect(),
    }
}

/// A detail (`networkInterfaceId`, `privateIPv4Address`) of the task's
/// elastic network interface attachment.
fn eni_detail(x: &t::Task, name: &str) -> Option<String> {
    x.attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .flat_map(t::Attachment::details)
        .find(|d| d.name() == Some(name))
        .and_then(|d| opt_string(d.value()))
}

pub async fn task_definition(b: &AwsBackend, arn: &str) -> BackendResult<TaskDefinition> {
    let out = b
        .call(
            "ecs",
            "DescribeTaskDefinition",
            b.clients
                .ecs
                .describe_task_definition()
                .task_definition(arn)
                .send(),
        )
        .await?;
    out.task_definition()
        .map(task_definition_of)
        .ok_or_else(|| BackendError::NotFound {
            resource: arn.to_string(),
        })
}

fn task_definition_of(td: &t::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        arn: string(td.task_definition_arn()),
        family: string(td.family()),
        revision: count(td.revision()),
        status: td
            .status()
            .map_or_else(String::new, |s| s.as_str().to_string()),
        cpu: opt_string(td.cpu()),
        memory: opt_string(td.memory()),
        network_mode: td.network_mode().map(|m| m.as_str().to_string()),
        requires_compatibilities: td
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        task_role_arn: opt_string(td.task_role_arn()),
        execution_role_arn: opt_string(td.execution_role_arn()),
        containers: td
            .container_definitions()
            .iter()
            .map(|c| {
                let log = c.log_configuration().and_then(|l| l.options());
                ContainerDefinition {
                    name: string(c.name()),
                    image: string(c.image()),
                    essential: c.essential().unwrap_or(true),
                    cpu: u32::try_from(c.cpu()).ok().filter(|v| *v > 0),
                    memory: c.memory().and_then(|m| u32::try_from(m).ok()),
                    port_mappings: c
                        .port_mappings()
                        .iter()
                        .filter_map(|p| port(p.container_port()))
                        .collect(),
                    // References only (valueFrom ARNs); never values.
                    secrets: c
                        .secrets()
                        .iter()
                        .map(|s| (s.name().to_string(), s.value_from().to_string()))
                        .collect(),
                    log_group: log.and_then(|o| o.get("awslogs-group").cloned()),
                    log_stream_prefix: log.and_then(|o| o.get("awslogs-stream-prefix").cloned()),
                }
            })
            .collect(),
        registered_at: opt_time(td.registered_at()),
    }
}

/// ACTIVE revision ARNs of a family, newest first, every page.
pub async fn revisions(b: &AwsBackend, family: &str) -> BackendResult<Vec<String>> {
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "ecs",
                "ListTaskDefinitions",
                b.clients
                    .ecs
                    .list_task_definitions()
                    .family_prefix(family)
                    .status(t::TaskDefinitionStatus::Active)
                    .sort(t::SortOrder::Desc)
                    .max_results(LIST_PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        arns.extend(page.task_definition_arns().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // familyPrefix matches other families that start with the same name.
    arns.retain(|a| {
        crate::domain::task_definition_label(a)
            .rsplit_once(':')
            .is_some_and(|(f, _)| f == family)
    });
    // Newest first by revision number, whatever order the server used.
    arns.sort_by_key(|a| {
        std::cmp::Reverse(
            a.rsplit(':')
                .next()
                .and_then(|r| r.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    Ok(arns)
}

pub async fn update_service(
    b: &AwsBackend,
    cluster: &str,
    name: &str,
    update: ServiceUpdate,
) -> BackendResult<Service> {
    let desired = match update.desired_count {
        Some(n) => Some(i32::try_from(n).map_err(|_| BackendError::Invalid {
            message: format!("desired count {n} is too large"),
        })?),
        None => None,
    };
    let out = b
        .call(
            "ecs",
            "UpdateService",
            b.clients
                .ecs
                .update_service()
                .cluster(cluster)
                .service(name)
                .set_desired_count(desired)
                .set_task_definition(update.task_definition)
                .force_new_deployment(update.force_new_deployment)
                .customize()
                .config_override(super::once!(aws_sdk_ecs))
                .send(),
        )
        .await?;
    out.service()
        .map(service)
        .ok_or_else(|| BackendError::Other {
            message: "UpdateService returned no service".to_string(),
        })
}

/// `StopTask`, sent once (no retry: an unanswered stop is read back).
pub async fn stop_task(
    b: &AwsBackend,
    cluster: &str,
    arn: &str,
    reason: &str,
) -> BackendResult<Task> {
    let out = b
        .call(
            "ecs",
            "StopTask",
            b.clients
                .ecs
                .stop_task()
                .cluster(cluster)
                .task(arn)
                .reason(reason)
                .customize()
                .config_override(super::once!(aws_sdk_ecs))
                .send(),
        )
        .await?;
    out.task().map(task).ok_or_else(|| BackendError::Other {
        message: "StopTask returned no task".to_string(),
    })
}

/// `ExecuteCommand` (interactive), sent once, then the container's runtime
/// id from DescribeTasks (what the CLI does too: ExecuteCommand does not
/// return it, and it is part of the session's target).
pub async fn execute_command(
    b: &AwsBackend,
    cluster: &str,
    task_arn: &str,
    container: &str,
    command: &str,
) -> BackendResult<crate::domain::ExecSession> {
    let out = b
        .call(
            "ecs",
            "ExecuteCommand",
            b.clients
                .ecs
                .execute_command()
                .cluster(cluster)
                .task(task_arn)
                .container(container)
                .command(command)
                .interactive(true)
                .customize()
                .config_override(super::once!(aws_sdk_ecs))
                .send(),
        )
        .await
        .map_err(explain_exec_error)?;
    let Some(session) = out.session() else {
        return Err(BackendError::Other {
            message: "ExecuteCommand returned no session".to_string(),
        });
    };
    let cluster_arn = out
        .cluster_arn()
        .map_or_else(|| cluster.to_string(), str::to_string);
    let task = out.task_arn().unwrap_or(task_arn).to_string();
    let container = out.container_name().unwrap_or(container).to_string();
    let described = b
        .call(
            "ecs",
            "DescribeTasks",
            b.clients
                .ecs
                .describe_tasks()
                .cluster(cluster)
                .tasks(&task)
                .send(),
        )
        .await?;
    let runtime_id = described
        .tasks()
        .first()
        .and_then(|t| t.containers().iter().find(|c| c.name() == Some(&container)))
        .and_then(|c| c.runtime_id())
        .map(str::to_string)
        .ok_or_else(|| BackendError::Other {
            message: format!(
                "the session was opened but DescribeTasks gives no runtime id for container \
                 {container} of {} (the task may have stopped meanwhile)",
                short_id(&task)
            ),
        })?;
    Ok(crate::domain::ExecSession {
        cluster_arn,
        task_arn: task,
        container,
        runtime_id,
        session_id: string(session.session_id()),
        stream_url: string(session.stream_url()),
        token_value: string(session.token_value()),
        region: b.region.clone(),
        profile: b.profile.clone().unwrap_or_default(),
        ssm_endpoint: crate::domain::ssm_endpoint(&b.region, b.endpoint_url.as_deref()),
    })
}

/// ECS's refusals of an exec, in the operator's terms (what to do).
fn explain_exec_error(e: BackendError) -> BackendError {
    match e {
        BackendError::Invalid { message }
            if message.contains("execute command was not enabled") =>
        {
            BackendError::Invalid {
                message: format!(
                    "{message} — ECS Exec must be on when a task starts: enable it on the service \
                     (aws ecs update-service --enable-execute-command --force-new-deployment) \
                     and open a shell in one of the new tasks; the task role also needs the \
                     ssmmessages:* permissions"
                ),
            }
        }
        BackendError::Other { message } | BackendError::Invalid { message }
            if message.contains("TargetNotConnectedException") =>
        {
            BackendError::Invalid {
                message: format!(
                    "{message} — the ExecuteCommandAgent in the container is not connected \
                     (the task role lacks ssmmessages:* permissions, or no route to Systems \
                     Manager); amazon-ecs-exec-checker tells which"
                ),
            }
        }
        other => other,
    }
}

/// Registers a copy of `change.base` with only the images changed: every
/// other field (containers, secrets references, logging, cpu/memory, roles,
/// network mode, volumes, placement, runtime platform, tags) is carried over.
pub async fn register_task_definition(
    b: &AwsBackend,
    change: ImageChange,
) -> BackendResult<TaskDefinition> {
    let out = b
        .call(
            "ecs",
            "DescribeTaskDefinition",
            b.clients
                .ecs
                .describe_task_definition()
                .task_definition(&change.base)
                .include(TaskDefinitionField::Tags)
                .send(),
        )
        .await?;
    let Some(td) = out.task_definition() else {
        return Err(BackendError::NotFound {
            resource: change.base.clone(),
        });
    };
    let mut containers = td.container_definitions().to_vec();
    for (name, image) in &change.images {
        let Some(c) = containers
            .iter_mut()
            .find(|c| c.name() == Some(name.as_str()))
        else {
            return Err(BackendError::Invalid {
                message: format!("no container named {name} in {}", change.base),
            });
        };
        c.image = Some(image.clone());
    }
    // Keys starting with `aws:` are reserved: RegisterTaskDefinition
    // refuses them, so they are not carried over.
    let tags: Vec<_> = out
        .tags()
        .iter()
        .filter(|t| {
            !t.key()
                .is_some_and(|k| k.to_ascii_lowercase().starts_with("aws:"))
        })
        .cloned()
        .collect();
    // Elastic Inference accelerators are deprecated by the SDK (the service
    // no longer offers them); a revision that has them still carries them
    // over, as before, so that a deploy changes nothing but the image.
    #[allow(deprecated)]
    let registered = b
        .call(
            "ecs",
            "RegisterTaskDefinition",
            b.clients
                .ecs
                .register_task_definition()
                .set_family(td.family().map(str::to_string))
                .set_task_role_arn(td.task_role_arn().map(str::to_string))
                .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
                .set_network_mode(td.network_mode().cloned())
                .set_container_definitions(Some(containers))
                .set_volumes(non_empty(td.volumes().to_vec()))
                .set_placement_constraints(non_empty(td.placement_constraints().to_vec()))
                .set_requires_compatibilities(non_empty(td.requires_compatibilities().to_vec()))
                .set_cpu(td.cpu().map(str::to_string))
                .set_memory(td.memory().map(str::to_string))
                .set_pid_mode(td.pid_mode().cloned())
                .set_ipc_mode(td.ipc_mode().cloned())
                .set_proxy_configuration(td.proxy_configuration().cloned())
                .set_inference_accelerators(non_empty(td.inference_accelerators().to_vec()))
                .set_ephemeral_storage(td.ephemeral_storage().cloned())
                .set_runtime_platform(td.runtime_platform().cloned())
                .set_enable_fault_injection(td.enable_fault_injection())
                .set_tags(non_empty(tags))
                .customize()
                .config_override(super::once!(aws_sdk_ecs))
                .send(),
        )
        .await?;
    registered
        .task_definition()
        .map(task_definition_of)
        .ok_or_else(|| BackendError::Other {
            message: "RegisterTaskDefinition returned no task definition".to_string(),
        })
}

/// `None` for an empty list, so that a field the original did not have is
/// not sent as an empty list.
fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

#[cfg(test)]
mod tests {
    use super::cluster_name;

    #[test]
    fn a_cluster_is_named_by_the_end_of_its_arn() {
        assert_eq!(
            cluster_name("arn:aws:ecs:ap-northeast-1:123456789012:cluster/works-logue-prod"),
            "works-logue-prod"
        );
        assert_eq!(cluster_name("plain"), "plain");
    }
}
