//! The backend's mutating calls: each one sent exactly once (counted and
//! decoded at the proxy) and its effect read back from moto.

use crate::prelude::*;
use honban::backend::prelude::*;

async fn service_named(b: &AwsBackend, cluster: &str, name: &str) -> Service {
    b.services(cluster)
        .await
        .expect("services")
        .items
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name} in {cluster}"))
}

/// What must not change between a revision and its copy: everything but
/// the identity of the revision.
fn comparable(raw: &Json) -> Json {
    let mut raw = raw.clone();
    let td = raw
        .get_mut("taskDefinition")
        .and_then(Json::as_object_mut)
        .expect("a task definition");
    for key in [
        "taskDefinitionArn",
        "revision",
        "registeredAt",
        "registeredBy",
    ] {
        td.remove(key);
    }
    raw
}

/// `raw` with the image of `container` replaced.
fn with_image(raw: &Json, container: &str, image: &str) -> Json {
    let mut raw = raw.clone();
    let containers = raw
        .pointer_mut("/taskDefinition/containerDefinitions")
        .and_then(Json::as_array_mut)
        .expect("containerDefinitions is a list");
    let c = containers
        .iter_mut()
        .find(|c| c.at("name").as_str() == Some(container))
        .unwrap_or_else(|| panic!("no container {container}"));
    *c.get_mut("image").expect("an image") = Json::String(image.to_string());
    raw
}

/// The paths at which two JSON values differ, for readable failures.
#[allow(
    clippy::many_single_char_names,
    reason = "the two sides of a comparison"
)]
fn json_diff(a: &Json, b: &Json, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}.{key}");
                match (x.get(key), y.get(key)) {
                    (Some(v), Some(w)) => json_diff(v, w, &p, out),
                    (v, w) => out.push(format!("{p}: {v:?} != {w:?}")),
                }
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_diff(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a:?} != {b:?}")),
        _ => {}
    }
}

/// The new revision equals the old one in every field but the image of
/// `container`.
fn assert_copied_but_image(before: &Json, after: &Json, container: &str, image: &str) {
    let expected = with_image(&comparable(before), container, image);
    let actual = comparable(after);
    let mut diff = Vec::new();
    json_diff(&expected, &actual, "", &mut diff);
    assert!(
        diff.is_empty(),
        "the new revision differs from its base beyond the image:\n{}",
        diff.join("\n")
    );
    // And the image did change.
    assert_ne!(comparable(before), actual);
}

#[tokio::test]
async fn scaling_a_service_sends_one_update_and_the_count_reads_back() {
    let moto = MotoAccount::seeded("scale", &[]);
    let b = moto.backend().await;
    let before = service_named(&b, "scale", "web").await;
    assert_eq!(before.desired_count, 2);

    moto.reset_counts();
    let updated = b
        .update_service(
            "scale",
            "web",
            ServiceUpdate {
                desired_count: Some(5),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.name, "web");
    assert_eq!(updated.desired_count, 5);
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let sent = moto.the_request("ecs:UpdateService");
    assert_eq!(sent.at("cluster").as_str(), Some("scale"));
    assert_eq!(sent.at("service").as_str(), Some("web"));
    assert_eq!(sent.at("desiredCount").as_u64(), Some(5));
    assert!(sent.get("taskDefinition").is_none(), "{sent:?}");
    assert_ne!(
        sent.get("forceNewDeployment").and_then(Json::as_bool),
        Some(true),
        "a scale is not a restart"
    );

    let services = b.services("scale").await.expect("services").items;
    let get = |name: &str| {
        services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(get("web").desired_count, 5);
    assert_eq!(get("web").running_count, 5, "moto jumps running to desired");
    assert_eq!(get("web").task_definition, before.task_definition);
    assert_eq!(get("api").desired_count, 2, "other services untouched");
    assert_eq!(get("worker").desired_count, 2);
}

#[tokio::test]
async fn scaling_bounds_are_registered_once_and_read_back() {
    let moto = MotoAccount::seeded("bounds", &[]);
    let b = moto.backend().await;

    moto.reset_counts();
    let target = b
        .set_scaling_bounds("bounds", "web", 3, 12)
        .await
        .expect("bounds");
    assert_eq!(target.resource_id, "service/bounds/web");
    assert_eq!((target.min_capacity, target.max_capacity), (3, 12));
    assert_eq!(target.policies.len(), 1, "the CPU policy stays");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("application-autoscaling:RegisterScalableTarget", 1)])
    );
    let sent = moto.the_request("application-autoscaling:RegisterScalableTarget");
    assert_eq!(sent.at("ServiceNamespace").as_str(), Some("ecs"));
    assert_eq!(sent.at("ResourceId").as_str(), Some("service/bounds/web"));
    assert_eq!(
        sent.at("ScalableDimension").as_str(),
        Some("ecs:service:DesiredCount")
    );
    assert_eq!(sent.at("MinCapacity").as_u64(), Some(3));
    assert_eq!(sent.at("MaxCapacity").as_u64(), Some(12));

    let targets = b
        .scalable_targets(&["bounds".into()])
        .await
        .expect("targets");
    let bounds = |svc: &str| {
        targets
            .iter()
            .find(|t| t.service_name() == Some(svc))
            .map(|t| (t.min_capacity, t.max_capacity, t.policies.len()))
    };
    assert_eq!(bounds("web"), Some((3, 12, 1)));
    assert_eq!(bounds("api"), Some((2, 8, 1)), "other targets untouched");
    assert_eq!(bounds("worker"), None);

    // A service without a target gets one (RegisterScalableTarget creates it).
    let worker = b
        .set_scaling_bounds("bounds", "worker", 1, 4)
        .await
        .expect("new target");
    assert_eq!((worker.min_capacity, worker.max_capacity), (1, 4));
    assert!(worker.policies.is_empty());

    // Bounds the wrong way round are refused before anything is sent.
    moto.reset_counts();
    match b.set_scaling_bounds("bounds", "web", 9, 4).await {
        Err(BackendError::Invalid { message }) => assert!(message.contains("above"), "{message}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(moto.mutating_counts().is_empty());
    let targets = b
        .scalable_targets(&["bounds".into()])
        .await
        .expect("targets");
    let web = targets
        .iter()
        .find(|t| t.service_name() == Some("web"))
        .expect("web");
    assert_eq!((web.min_capacity, web.max_capacity), (3, 12));
}

#[tokio::test]
async fn a_new_image_copies_every_other_field_and_deploys() {
    let moto = MotoAccount::seeded("img", &[]);
    let b = moto.backend().await;
    let family = "img-web";
    let seeded_revisions = moto.seeded.task_definitions[family].clone();
    let base = seeded_revisions.last().expect("revisions").clone();
    let web = service_named(&b, "img", "web").await;
    assert_eq!(web.task_definition, base);

    let before = moto.raw_task_definition(&base);
    // The base carries everything a production definition does, so that
    // the comparison below means something.
    let td = before.at("taskDefinition");
    let c = &td
        .at("containerDefinitions")
        .as_array()
        .expect("containers")[0];
    for key in [
        "secrets",
        "environment",
        "portMappings",
        "healthCheck",
        "mountPoints",
        "ulimits",
        "dockerLabels",
    ] {
        assert!(
            c.get(key).is_some_and(|v| v != &json!([])),
            "the seeded container has no {key}"
        );
    }
    assert_eq!(
        c.at("logConfiguration").at("logDriver").as_str(),
        Some("awslogs")
    );
    for key in [
        "volumes",
        "runtimePlatform",
        "ephemeralStorage",
        "taskRoleArn",
        "executionRoleArn",
        "requiresCompatibilities",
        "cpu",
        "memory",
    ] {
        assert!(td.get(key).is_some(), "the seeded definition has no {key}");
    }
    assert_eq!(td.at("networkMode").as_str(), Some("awsvpc"));
    assert_eq!(before.at("tags").as_array().map(Vec::len), Some(2), "tags");
    let old_domain = b.task_definition(&base).await.expect("base");

    moto.reset_counts();
    let image =
        "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:2026.11.24-e4d1f00";
    let new = b
        .register_task_definition(ImageChange {
            base: base.clone(),
            images: vec![("web".into(), image.into())],
        })
        .await
        .expect("register");
    assert_eq!(new.family, family);
    assert_eq!(new.revision as usize, seeded_revisions.len() + 1);
    assert_eq!(new.containers[0].image, image);
    assert_eq!(new.containers[0].secrets, old_domain.containers[0].secrets);
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:RegisterTaskDefinition", 1)])
    );
    assert_eq!(moto.count("ecs:DescribeTaskDefinition"), 1);
    let sent = moto.the_request("ecs:RegisterTaskDefinition");
    assert_eq!(sent.at("family").as_str(), Some(family));

    let after = moto.raw_task_definition(&new.arn);
    assert_copied_but_image(&before, &after, "web", image);
    // The backend reads the same back.
    let read = b.task_definition(&new.arn).await.expect("new revision");
    assert_eq!(
        read,
        honban::domain::TaskDefinition {
            arn: new.arn.clone(),
            revision: new.revision,
            containers: vec![honban::domain::ContainerDefinition {
                image: image.to_string(),
                ..old_domain.containers[0].clone()
            }],
            registered_at: read.registered_at,
            ..old_domain.clone()
        }
    );

    // Deploy it.
    moto.reset_counts();
    let updated = b
        .update_service(
            "img",
            "web",
            ServiceUpdate {
                task_definition: Some(new.arn.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("deploy");
    assert_eq!(updated.task_definition, new.arn);
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let sent = moto.the_request("ecs:UpdateService");
    assert_eq!(sent.at("taskDefinition").as_str(), Some(new.arn.as_str()));
    assert!(sent.get("desiredCount").is_none(), "{sent:?}");
    let web = service_named(&b, "img", "web").await;
    assert_eq!(web.task_definition, new.arn);
    assert_eq!(web.desired_count, 2, "the count is not touched");
    let api = service_named(&b, "img", "api").await;
    assert!(
        api.task_definition.contains("img-api:"),
        "other services untouched"
    );
}

/// A definition with everything the Fargate seed cannot have (EC2, bridge
/// networking, placement constraints, a sidecar with a proxy configuration,
/// host and Docker volumes, pid/ipc modes, ...): only the changed container's
/// image differs in the copy; the sidecar is left exactly as it was.
#[tokio::test]
async fn a_new_image_for_one_of_two_containers_leaves_the_rest_alone() {
    let moto = MotoAccount::seeded("ec2", &["--minimal"]);
    let account = &moto.account;
    let b = moto.backend().await;
    let params = format!(
        r#"{{
        "family": "ec2-mesh",
        "networkMode": "bridge",
        "requiresCompatibilities": ["EC2"],
        "taskRoleArn": "arn:aws:iam::{account}:role/ec2-mesh-task",
        "executionRoleArn": "arn:aws:iam::{account}:role/ecsTaskExecutionRole",
        "cpu": "1024",
        "memory": "2048",
        "pidMode": "task",
        "ipcMode": "task",
        "placementConstraints": [
            {{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m7g.*"}}
        ],
        "runtimePlatform": {{"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}},
        "volumes": [
            {{"name": "data", "host": {{"sourcePath": "/srv/data"}}}},
            {{"name": "cache", "dockerVolumeConfiguration": {{
                "scope": "shared", "autoprovision": true, "driver": "local",
                "labels": {{"purpose": "cache"}}}}}}
        ],
        "proxyConfiguration": {{
            "type": "APPMESH",
            "containerName": "envoy",
            "properties": [
                {{"name": "IgnoredUID", "value": "1337"}},
                {{"name": "ProxyIngressPort", "value": "15000"}},
                {{"name": "ProxyEgressPort", "value": "15001"}},
                {{"name": "AppPorts", "value": "8080"}},
                {{"name": "EgressIgnoredIPs", "value": "169.254.170.2,169.254.169.254"}}
            ]
        }},
        "tags": [{{"key": "team", "value": "platform"}}, {{"key": "cost-center", "value": "42"}}],
        "containerDefinitions": [
            {{
                "name": "app",
                "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/mesh/app:1.0.0",
                "cpu": 768,
                "memory": 1536,
                "memoryReservation": 1024,
                "essential": true,
                "command": ["node", "server.js"],
                "entryPoint": ["/usr/bin/tini", "--"],
                "links": ["envoy"],
                "dependsOn": [{{"containerName": "envoy", "condition": "HEALTHY"}}],
                "environment": [{{"name": "PORT", "value": "8080"}}],
                "environmentFiles": [{{"value": "arn:aws:s3:::mesh-config/app.env", "type": "s3"}}],
                "secrets": [
                    {{"name": "API_KEY", "valueFrom": "arn:aws:ssm:ap-northeast-1:{account}:parameter/mesh/api-key"}}
                ],
                "portMappings": [{{"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http", "appProtocol": "http"}}],
                "mountPoints": [
                    {{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}},
                    {{"sourceVolume": "cache", "containerPath": "/cache", "readOnly": false}}
                ],
                "logConfiguration": {{
                    "logDriver": "awslogs",
                    "options": {{"awslogs-group": "/ecs/ec2-mesh", "awslogs-region": "ap-northeast-1", "awslogs-stream-prefix": "app"}},
                    "secretOptions": [{{"name": "token", "valueFrom": "arn:aws:ssm:ap-northeast-1:{account}:parameter/mesh/log-token"}}]
                }},
                "healthCheck": {{"command": ["CMD", "/bin/health"], "interval": 10, "timeout": 2, "retries": 5, "startPeriod": 20}},
                "linuxParameters": {{"initProcessEnabled": true, "capabilities": {{"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}}}},
                "systemControls": [{{"namespace": "net.core.somaxconn", "value": "1024"}}],
                "extraHosts": [{{"hostname": "legacy-db", "ipAddress": "10.0.8.15"}}],
                "dockerLabels": {{"mesh": "true"}},
                "ulimits": [{{"name": "nofile", "softLimit": 4096, "hardLimit": 8192}}],
                "stopTimeout": 45,
                "startTimeout": 60
            }},
            {{
                "name": "envoy",
                "image": "840364872350.dkr.ecr.ap-northeast-1.amazonaws.com/aws-appmesh-envoy:v1.29.6.0-prod",
                "memory": 256,
                "essential": true,
                "user": "1337",
                "environment": [{{"name": "APPMESH_RESOURCE_ARN", "value": "arn:aws:appmesh:ap-northeast-1:{account}:mesh/m/virtualNode/app"}}],
                "healthCheck": {{"command": ["CMD-SHELL", "curl -s http://localhost:9901/ready | grep -q LIVE"], "interval": 5, "timeout": 2, "retries": 3, "startPeriod": 10}}
            }}
        ]
    }}"#
    );
    let registered = moto.aws("ecs", "register_task_definition", &params);
    let base = registered
        .at("taskDefinition")
        .at("taskDefinitionArn")
        .as_str()
        .expect("an ARN")
        .to_string();
    let before = moto.raw_task_definition(&base);

    // An unknown container is refused before anything is registered.
    moto.reset_counts();
    match b
        .register_task_definition(ImageChange {
            base: base.clone(),
            images: vec![("sidecar".into(), "nginx:1".into())],
        })
        .await
    {
        Err(BackendError::Invalid { message }) => assert!(message.contains("sidecar"), "{message}"),
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(moto.mutating_counts().is_empty());

    let image = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/mesh/app:1.1.0";
    let new = b
        .register_task_definition(ImageChange {
            base: base.clone(),
            images: vec![("app".into(), image.into())],
        })
        .await
        .expect("register");
    assert_eq!(new.revision, 2);
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:RegisterTaskDefinition", 1)])
    );
    let after = moto.raw_task_definition(&new.arn);
    assert_copied_but_image(&before, &after, "app", image);

    // A base that does not exist: a typed error, nothing registered.
    moto.reset_counts();
    let missing = format!("arn:aws:ecs:{REGION}:{account}:task-definition/ec2-mesh:99");
    match b
        .register_task_definition(ImageChange {
            base: missing,
            images: vec![("app".into(), image.into())],
        })
        .await
    {
        Err(BackendError::NotFound { .. } | BackendError::Invalid { .. }) => {}
        other => panic!("expected not found or invalid, got {other:?}"),
    }
    assert!(moto.mutating_counts().is_empty());
    assert_eq!(
        b.task_definition_revisions("ec2-mesh")
            .await
            .expect("revisions"),
        vec![new.arn.clone(), base.clone()]
    );
}

#[tokio::test]
async fn rollback_points_the_service_at_an_earlier_revision() {
    let moto = MotoAccount::seeded("rb", &[]);
    let b = moto.backend().await;
    let family = "rb-web";
    let mut oldest_first = moto.seeded.task_definitions[family].clone();
    let revisions = b
        .task_definition_revisions(family)
        .await
        .expect("revisions");
    oldest_first.reverse();
    assert_eq!(revisions, oldest_first, "newest first");

    // Deploy a new image, then roll back to the revision before it.
    let new = b
        .register_task_definition(ImageChange {
            base: revisions[0].clone(),
            images: vec![("web".into(), "works-logue/web:broken".into())],
        })
        .await
        .expect("register");
    b.update_service(
        "rb",
        "web",
        ServiceUpdate {
            task_definition: Some(new.arn.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("deploy");
    assert_eq!(
        service_named(&b, "rb", "web").await.task_definition,
        new.arn
    );
    let revisions = b
        .task_definition_revisions(family)
        .await
        .expect("revisions");
    assert_eq!(revisions.len(), 4);
    assert_eq!(revisions[0], new.arn, "the new revision is first");
    let numbers: Vec<u32> = revisions
        .iter()
        .map(|a| {
            a.rsplit(':')
                .next()
                .and_then(|r| r.parse().ok())
                .expect("revision")
        })
        .collect();
    assert_eq!(numbers, vec![4, 3, 2, 1]);

    for target in [&revisions[1], &revisions[3]] {
        moto.reset_counts();
        let updated = b
            .update_service(
                "rb",
                "web",
                ServiceUpdate {
                    task_definition: Some(target.clone()),
                    ..Default::default()
                },
            )
            .await
            .expect("rollback");
        assert_eq!(&updated.task_definition, target);
        assert_eq!(
            moto.mutating_counts(),
            ops(&[("ecs:UpdateService", 1)]),
            "a rollback registers nothing"
        );
        let sent = moto.the_request("ecs:UpdateService");
        assert_eq!(sent.at("taskDefinition").as_str(), Some(target.as_str()));
        let web = service_named(&b, "rb", "web").await;
        assert_eq!(&web.task_definition, target);
        assert_eq!(web.desired_count, 2);
    }
    // Rolling back deregisters nothing.
    assert_eq!(
        b.task_definition_revisions(family)
            .await
            .expect("revisions"),
        revisions
    );
}

#[tokio::test]
async fn restart_sends_one_forced_deployment() {
    let moto = MotoAccount::seeded("restart", &[]);
    let b = moto.backend().await;
    let before = service_named(&b, "restart", "api").await;
    assert_eq!(before.deployments.len(), 1);

    moto.reset_counts();
    let updated = b
        .update_service(
            "restart",
            "api",
            ServiceUpdate {
                force_new_deployment: true,
                ..Default::default()
            },
        )
        .await
        .expect("restart");
    assert_eq!(updated.name, "api");
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let sent = moto.the_request("ecs:UpdateService");
    assert_eq!(sent.at("service").as_str(), Some("api"));
    assert_eq!(
        sent.at("forceNewDeployment").as_bool(),
        Some(true),
        "{sent:?}"
    );
    assert!(sent.get("desiredCount").is_none(), "{sent:?}");
    assert!(sent.get("taskDefinition").is_none(), "{sent:?}");

    let after = service_named(&b, "restart", "api").await;
    assert_eq!(after.task_definition, before.task_definition);
    assert_eq!(after.desired_count, before.desired_count);
    // moto gives the primary deployment a new id (and nothing more).
    assert_eq!(after.deployments.len(), 1);
    assert_ne!(after.deployments[0].id, before.deployments[0].id);
    let web = service_named(&b, "restart", "web").await;
    assert_eq!(web.deployments.len(), 1, "other services untouched");
}

#[tokio::test]
async fn a_manual_snapshot_is_created_once_and_listed() {
    let moto = MotoAccount::seeded("snap", &[]);
    let b = moto.backend().await;
    let db = "snap-db".to_string();

    moto.reset_counts();
    let snap = b
        .create_db_snapshot(&db, "snap-db-before-deploy")
        .await
        .expect("snapshot");
    assert_eq!(snap.id, "snap-db-before-deploy");
    assert_eq!(snap.instance_id, db);
    assert_eq!(snap.snapshot_type, "manual");
    assert_eq!(moto.mutating_counts(), ops(&[("rds:CreateDBSnapshot", 1)]));
    let sent = moto.the_request("rds:CreateDBSnapshot");
    assert_eq!(sent.at("DBInstanceIdentifier").as_str(), Some("snap-db"));
    assert_eq!(
        sent.at("DBSnapshotIdentifier").as_str(),
        Some("snap-db-before-deploy")
    );

    let snaps = b
        .db_snapshots(std::slice::from_ref(&db))
        .await
        .expect("snapshots");
    let listed = snaps
        .iter()
        .find(|s| s.id == "snap-db-before-deploy")
        .unwrap_or_else(|| panic!("not listed: {snaps:?}"));
    assert_eq!(listed.snapshot_type, "manual");
    assert_eq!(listed.instance_id, db);
    assert_eq!(listed.status, "available");
    assert_eq!(listed.allocated_storage_gib, 100);
    for s in &moto.seeded.db_snapshots {
        assert!(snaps.iter().any(|x| x.id == *s), "{s} kept");
    }

    // The same name again, or an instance that does not exist: typed errors.
    match b.create_db_snapshot(&db, "snap-db-before-deploy").await {
        Err(BackendError::Invalid { message }) => {
            assert!(message.contains("AlreadyExists"), "{message}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    match b.create_db_snapshot("snap-nope", "snap-nope-1").await {
        Err(BackendError::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(moto.count("rds:CreateDBSnapshot"), 3);
    let again = b.db_snapshots(&[]).await.expect("snapshots");
    assert_eq!(
        again.len(),
        snaps.len(),
        "the failed requests created nothing"
    );
}

#[tokio::test]
async fn a_failover_reboot_is_sent_once_and_a_missing_instance_is_a_typed_error() {
    let moto = MotoAccount::seeded("boot", &[]);
    let b = moto.backend().await;

    moto.reset_counts();
    let db = b
        .reboot_db_instance("boot-db", true)
        .await
        .expect("reboot with failover");
    assert_eq!(db.id, "boot-db");
    assert!(db.multi_az);
    assert_eq!(db.engine, "postgres");
    assert_eq!(moto.mutating_counts(), ops(&[("rds:RebootDBInstance", 1)]));
    let sent = moto.the_request("rds:RebootDBInstance");
    assert_eq!(sent.at("DBInstanceIdentifier").as_str(), Some("boot-db"));
    assert_eq!(sent.at("ForceFailover").as_str(), Some("true"));

    // Without failover the flag is not sent at all.
    moto.reset_counts();
    let replica = b
        .reboot_db_instance("boot-db-replica", false)
        .await
        .expect("plain reboot");
    assert_eq!(replica.id, "boot-db-replica");
    let sent = moto.the_request("rds:RebootDBInstance");
    assert!(sent.get("ForceFailover").is_none(), "{sent:?}");

    moto.reset_counts();
    match b.reboot_db_instance("boot-nope", true).await {
        Err(BackendError::NotFound { resource }) => {
            assert!(resource.contains("RebootDBInstance"), "{resource}");
        }
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(moto.mutating_counts(), ops(&[("rds:RebootDBInstance", 1)]));
    // Nothing else changed (moto simulates no failover).
    let dbs = b.db_instances(&[]).await.expect("databases");
    assert_eq!(dbs.len(), 2);
    assert!(dbs.iter().all(|d| d.status == "available"), "{dbs:?}");
}

#[tokio::test]
async fn alarm_actions_are_disabled_and_enabled_again() {
    let moto = MotoAccount::seeded("mute", &[]);
    let b = moto.backend().await;
    let prefix = vec!["mute-".to_string()];
    let muted = vec!["mute-web-cpu-high".to_string(), "mute-api-5xx".to_string()];
    let enabled = |alarms: &[honban::domain::Alarm]| -> BTreeMap<String, bool> {
        alarms
            .iter()
            .map(|a| (a.name.clone(), a.actions_enabled))
            .collect()
    };
    let before = enabled(&b.alarms(&prefix).await.expect("alarms"));
    assert!(before.len() > muted.len());
    assert!(before.values().all(|e| *e), "{before:?}");

    moto.reset_counts();
    b.set_alarm_actions(&muted, false).await.expect("disable");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("cloudwatch:DisableAlarmActions", 1)])
    );
    let sent = moto.the_request("cloudwatch:DisableAlarmActions");
    assert_eq!(sent.at("AlarmNames"), &json!(muted));
    let after = enabled(&b.alarms(&prefix).await.expect("alarms"));
    for (name, on) in &after {
        assert_eq!(*on, !muted.contains(name), "{name}: {after:?}");
    }
    // moto itself agrees (read raw, past the CBOR translation).
    let raw = moto.aws(
        "cloudwatch",
        "describe_alarms",
        r#"{"AlarmNames": ["mute-web-cpu-high"]}"#,
    );
    let alarm = &raw.at("MetricAlarms").as_array().expect("alarms")[0];
    assert_eq!(alarm.at("ActionsEnabled").as_bool(), Some(false));

    moto.reset_counts();
    b.set_alarm_actions(&muted, true).await.expect("enable");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("cloudwatch:EnableAlarmActions", 1)])
    );
    let sent = moto.the_request("cloudwatch:EnableAlarmActions");
    assert_eq!(sent.at("AlarmNames"), &json!(muted));
    let again = enabled(&b.alarms(&prefix).await.expect("alarms"));
    assert_eq!(again, before);
}

#[tokio::test]
async fn updating_a_missing_service_is_a_typed_error() {
    let moto = MotoAccount::seeded("miss", &["--minimal"]);
    let b = moto.backend().await;
    let before = service_named(&b, "miss", "web").await;
    let scale = ServiceUpdate {
        desired_count: Some(3),
        ..Default::default()
    };

    moto.reset_counts();
    match b.update_service("miss", "nope", scale.clone()).await {
        Err(BackendError::NotFound { resource }) => {
            assert!(resource.contains("ServiceNotFound"), "{resource}");
        }
        other => panic!("expected not found, got {other:?}"),
    }
    match b
        .update_service("no-such-cluster", "web", scale.clone())
        .await
    {
        Err(BackendError::NotFound { resource }) => {
            assert!(resource.contains("ClusterNotFound"), "{resource}");
        }
        other => panic!("expected not found, got {other:?}"),
    }
    let missing = format!(
        "arn:aws:ecs:{REGION}:{}:task-definition/miss-web:42",
        moto.account
    );
    match b
        .update_service(
            "miss",
            "web",
            ServiceUpdate {
                task_definition: Some(missing),
                ..Default::default()
            },
        )
        .await
    {
        Err(BackendError::NotFound { .. } | BackendError::Invalid { .. }) => {}
        other => panic!("expected not found or invalid, got {other:?}"),
    }
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:UpdateService", 3)]),
        "each sent once, none retried"
    );
    let after = service_named(&b, "miss", "web").await;
    assert_eq!(after.desired_count, before.desired_count);
    assert_eq!(after.task_definition, before.task_definition);
    let stats = b.request_stats();
    assert_eq!(stats.get("ecs:UpdateService").map(|s| s.errors), Some(3));
}

#[tokio::test]
async fn a_stop_reaches_moto_once_and_the_task_reads_stopped() {
    let moto = MotoAccount::seeded("stp", &[]);
    let b = moto.backend().await;
    let tasks = b.tasks("stp").await.expect("tasks");
    let task = tasks
        .items
        .iter()
        .find(|t| t.last_status == "RUNNING" && t.service_name() == Some("web"))
        .expect("a running web task")
        .clone();
    // What the task detail shows of its network (awsvpc attachment).
    assert!(
        task.eni.as_deref().is_some_and(|e| e.starts_with("eni-")),
        "{:?}",
        task.eni
    );
    assert!(
        task.private_ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()),
        "{:?}",
        task.private_ip
    );

    moto.reset_counts();
    let reason = honban::ops::stop_reason(Some("arn:aws:sts::123456789012:assumed-role/OnCall/me"));
    let stopped = b.stop_task("stp", &task.arn, &reason).await.expect("stop");
    assert_eq!(stopped.arn, task.arn);
    assert_eq!(stopped.desired_status, "STOPPED");
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:StopTask", 1)]));
    let sent = moto.the_request("ecs:StopTask");
    assert_eq!(sent.at("cluster").as_str(), Some("stp"));
    assert_eq!(sent.at("task").as_str(), Some(task.arn.as_str()));
    assert_eq!(sent.at("reason").as_str(), Some(reason.as_str()));

    // Read back (as after an unanswered request): STOPPED, applied.
    let after = b.tasks("stp").await.expect("tasks");
    let t = after
        .items
        .iter()
        .find(|t| t.arn == task.arn)
        .expect("still listed");
    assert_eq!(t.last_status, "STOPPED");
    assert_eq!(t.stopped_reason.as_deref(), Some(reason.as_str()));
    let op = Operation::StopTask {
        cluster: "stp".into(),
        task: task.arn.clone(),
        service: Some("web".into()),
        status: "RUNNING".into(),
        running: 2,
        reason,
    };
    let found = honban::reconcile::read_back(&b, &op, chrono::Utc::now(), None)
        .await
        .expect("read back");
    assert_eq!(
        found.verdict,
        honban::reconcile::Verdict::Applied,
        "{found:?}"
    );
    // Nothing was sent again.
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:StopTask", 1)]));
}
