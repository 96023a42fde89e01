//! Blue/green deployments: an ECS service's deployment controller, the
//! strategy and stage of an ECS-native blue/green deployment, and for a
//! CODE_DEPLOY-controlled service its CodeDeploy deployment group with the
//! current (else last) deployment: status, traffic shifted, the original
//! and replacement task sets, lifecycle events.

use serde::{Deserialize, Serialize};

use super::{Identified, Timestamp};

/// Who deploys a service (`deploymentController.type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeploymentController {
    /// ECS itself (rolling, or ECS-native blue/green): UpdateService.
    #[default]
    Ecs,
    /// AWS CodeDeploy blue/green: a new task definition goes through
    /// CreateDeployment; UpdateService cannot change it.
    CodeDeploy,
    /// A third-party controller (task sets managed by it).
    External,
}

impl DeploymentController {
    pub fn parse(s: &str) -> Self {
        match s {
            "CODE_DEPLOY" => Self::CodeDeploy,
            "EXTERNAL" => Self::External,
            _ => Self::Ecs,
        }
    }

    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ecs => "ECS",
            Self::CodeDeploy => "CODE_DEPLOY",
            Self::External => "EXTERNAL",
        }
    }
}

/// The current ECS service deployment of an ECS-native blue/green service
/// (ListServiceDeployments, DescribeServiceDeployments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EcsServiceDeployment {
    pub arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOPPED`, `STOP_REQUESTED`,
    /// `ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`,
    /// `ROLLBACK_FAILED`.
    pub status: String,
    /// The blue/green stage (`lifecycleStage`): `RECONCILE_SERVICE`,
    /// `PRE_SCALE_UP`, `SCALE_UP`, `POST_SCALE_UP`, `TEST_TRAFFIC_SHIFT`,
    /// `POST_TEST_TRAFFIC_SHIFT`, `PRODUCTION_TRAFFIC_SHIFT`,
    /// `POST_PRODUCTION_TRAFFIC_SHIFT`, `BAKE_TIME`, `CLEAN_UP`.
    pub lifecycle_stage: Option<String>,
    /// The production traffic the target revision asks for, in percent
    /// (`requestedProductionTrafficWeight`).
    pub production_traffic: Option<f64>,
    pub started_at: Option<Timestamp>,
    pub status_reason: Option<String>,
}

impl EcsServiceDeployment {
    /// Whether it has not ended.
    pub fn is_active(&self) -> bool {
        matches!(
            self.status.as_str(),
            "PENDING"
                | "IN_PROGRESS"
                | "STOP_REQUESTED"
                | "ROLLBACK_REQUESTED"
                | "ROLLBACK_IN_PROGRESS"
        )
    }
}

/// The CodeDeploy deployment group of one CODE_DEPLOY-controlled service
/// (found by its `ecsServices`), with its current deployment, else the
/// last one of the past day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueGreen {
    /// `<cluster>/<service>`: its identity (a recording keys it so).
    pub id: String,
    pub cluster: String,
    pub service: String,
    pub application: String,
    pub deployment_group: String,
    /// The deployment configuration (`CodeDeployDefault.ECSAllAtOnce`,
    /// `…ECSLinear10PercentEvery1Minutes`, …).
    pub deployment_config: String,
    /// Minutes the replacement waits for a continue before it is stopped
    /// (`deploymentReadyOption` `STOP_DEPLOYMENT`); `None`: traffic is
    /// rerouted at once.
    pub ready_wait_minutes: Option<u32>,
    /// Minutes the original task set is kept after traffic moved.
    pub termination_wait_minutes: Option<u32>,
    /// The group's automatic rollback is on (for failures, stops).
    pub auto_rollback: bool,
    /// The active deployment, else the newest of the past day.
    pub deployment: Option<CdDeployment>,
}

impl Identified for BlueGreen {}

impl BlueGreen {
    pub fn id_of(cluster: &str, service: &str) -> String {
        format!("{cluster}/{service}")
    }

    /// Its deployment, while one is under way.
    pub fn active(&self) -> Option<&CdDeployment> {
        self.deployment.as_ref().filter(|d| d.is_active())
    }
}

/// The statuses of a deployment under way (ListDeployments'
/// `includeOnlyStatuses` for the current one).
pub const ACTIVE_STATUSES: [&str; 5] = ["Created", "Queued", "InProgress", "Baking", "Ready"];

/// One CodeDeploy deployment (GetDeployment / BatchGetDeployments) with
/// its ECS target (BatchGetDeploymentTargets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdDeployment {
    /// `d-XXXXXXXXX`.
    pub id: String,
    /// `Created`, `Queued`, `InProgress`, `Baking`, `Ready` (waiting for a
    /// continue), `Succeeded`, `Failed`, `Stopped`.
    pub status: String,
    /// `user`, `autoscaling`, `codeDeployRollback`, `CodeDeploy`, …
    pub creator: Option<String>,
    pub description: Option<String>,
    pub created_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// `errorInformation`: `code: message`.
    pub error: Option<String>,
    /// `rollbackInfo`.
    pub rollback: Option<CdRollback>,
    /// `deploymentStatusMessages`.
    pub status_messages: Vec<String>,
    /// The task definition its revision (AppSpec) names.
    pub task_definition: Option<String>,
    /// The ECS target: task sets and lifecycle events.
    pub target: Option<EcsTarget>,
}

impl CdDeployment {
    /// Whether it is under way.
    pub fn is_active(&self) -> bool {
        ACTIVE_STATUSES.contains(&self.status.as_str())
    }

    /// Whether it waits for a continue (`Ready`): the replacement runs,
    /// production traffic has not moved.
    pub fn waits(&self) -> bool {
        self.status == "Ready"
    }

    /// Whether it ended without succeeding.
    pub fn is_failed(&self) -> bool {
        matches!(self.status.as_str(), "Failed" | "Stopped")
    }

    /// Whether it is itself CodeDeploy's rollback of another deployment
    /// (traffic returning to the original).
    pub fn is_rollback(&self) -> bool {
        self.creator.as_deref() == Some("codeDeployRollback")
            || self
                .rollback
                .as_ref()
                .is_some_and(|r| r.triggering_deployment_id.is_some())
    }

    /// Whether it was rolled back (or a rollback of it was started).
    pub fn rolled_back(&self) -> bool {
        self.rollback
            .as_ref()
            .is_some_and(|r| r.deployment_id.is_some())
    }

    /// The replacement (green) task set's share of production traffic, in
    /// percent, when the target is known.
    pub fn traffic_shifted(&self) -> Option<f64> {
        let t = self.target.as_ref()?;
        t.replacement().map(|s| s.traffic_weight)
    }
}

/// `rollbackInfo` of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdRollback {
    /// The deployment that rolls this one back.
    pub deployment_id: Option<String>,
    /// For a rollback deployment: the one it rolls back.
    pub triggering_deployment_id: Option<String>,
    pub message: Option<String>,
}

/// An ECS deployment target (`ecsTarget`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EcsTarget {
    /// `Pending`, `InProgress`, `Succeeded`, `Failed`, `Skipped`, `Unknown`,
    /// `Ready`.
    pub status: String,
    pub task_sets: Vec<BgTaskSet>,
    pub lifecycle_events: Vec<LifecycleEvent>,
}

impl EcsTarget {
    /// The original (blue) task set.
    pub fn original(&self) -> Option<&BgTaskSet> {
        self.task_sets
            .iter()
            .find(|s| s.label.as_deref() == Some("Blue"))
    }

    /// The replacement (green) task set.
    pub fn replacement(&self) -> Option<&BgTaskSet> {
        self.task_sets
            .iter()
            .find(|s| s.label.as_deref() == Some("Green"))
    }
}

/// One task set of a blue/green deployment (`ECSTaskSet`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgTaskSet {
    /// The ECS task set id.
    pub id: String,
    /// `Blue` (original) or `Green` (replacement).
    pub label: Option<String>,
    /// `PRIMARY`, `ACTIVE`, `DRAINING`, …
    pub status: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    /// Percent of production traffic (0–100).
    pub traffic_weight: f64,
    /// Its target group's name.
    pub target_group: Option<String>,
    /// Its task definition, when known (the replacement's from the
    /// revision; the original's from the service).
    pub task_definition: Option<String>,
}

/// One lifecycle event of an ECS target (`BeforeInstall`, `Install`,
/// `AfterInstall`, `AllowTestTraffic`, `AfterAllowTestTraffic`,
/// `BeforeAllowTraffic`, `AllowTraffic`, `AfterAllowTraffic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    pub name: String,
    /// `Pending`, `InProgress`, `Succeeded`, `Failed`, `Skipped`, `Unknown`.
    pub status: String,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// The diagnostics' message, when it failed.
    pub diagnostics: Option<String>,
}

/// The lifecycle events of an ECS blue/green deployment, in order.
pub const ECS_LIFECYCLE: [&str; 8] = [
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
];

/// The AppSpec of an ECS deployment naming `task_definition` (its ARN),
/// the container and port the load balancer sends to: JSON, as
/// `AppSpecContent.content`.
pub fn appspec(task_definition: &str, container: &str, port: u16) -> String {
    serde_json::json!({
        "version": 0.0,
        "Resources": [{
            "TargetService": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "TaskDefinition": task_definition,
                    "LoadBalancerInfo": {
                        "ContainerName": container,
                        "ContainerPort": port,
                    },
                },
            },
        }],
    })
    .to_string()
}

/// The task definition an AppSpec (JSON or YAML) names, if it names one.
pub fn appspec_task_definition(content: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(content) {
        return v["Resources"]
            .as_array()?
            .iter()
            .find_map(|r| {
                r.as_object()?
                    .values()
                    .find_map(|t| t["Properties"]["TaskDefinition"].as_str())
            })
            .map(str::to_string);
    }
    // YAML: the `TaskDefinition:` line.
    content.lines().find_map(|l| {
        let v = l.trim().strip_prefix("TaskDefinition:")?.trim();
        let v = v.trim_matches(|c| c == '"' || c == '\'');
        (!v.is_empty()).then(|| v.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appspec_names_the_task_definition_and_reads_back() {
        let arn = "arn:aws:ecs:ap-northeast-1:1:task-definition/web:7";
        let content = appspec(arn, "web", 3000);
        assert_eq!(appspec_task_definition(&content).as_deref(), Some(arn));
        assert!(content.contains("\"ContainerPort\":3000"), "{content}");
        let yaml = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"arn:x:7\"\n";
        assert_eq!(appspec_task_definition(yaml).as_deref(), Some("arn:x:7"));
    }

    #[test]
    fn controller_round_trips() {
        for c in [
            DeploymentController::Ecs,
            DeploymentController::CodeDeploy,
            DeploymentController::External,
        ] {
            assert_eq!(DeploymentController::parse(c.as_str()), c);
        }
    }
}
