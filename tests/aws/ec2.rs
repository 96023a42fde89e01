//! EC2 hosts: the instances an environment selects (by tag or id) read
//! back with their state, type, zone, address, launch time and status
//! checks; every page of DescribeInstances (the proxy answers at most 25
//! instances a page) and DescribeInstanceStatus in batches of 100; a
//! stopped host in `honban status`.

use crate::prelude::*;
use honban::backend::prelude::*;
use honban::domain::{CheckStatus, InstanceFilter};

/// Launches `count` instances in `az` with these tags (moto answers at
/// once, `running`); returns their ids.
fn launch(
    moto: &MotoAccount,
    count: u32,
    instance_type: &str,
    az: &str,
    tags: &[(&str, &str)],
) -> Vec<String> {
    let tags: Vec<Json> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let params = json!({
        "ImageId": "ami-12345678",
        "MinCount": count,
        "MaxCount": count,
        "InstanceType": instance_type,
        "Placement": {"AvailabilityZone": az},
        "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}],
    });
    let out = moto.aws("ec2", "run_instances", &params.to_string());
    out.at("Instances")
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i.at("InstanceId").as_str().expect("id").to_string())
        .collect()
}

fn by_tag(key: &str, value: &str) -> InstanceFilter {
    InstanceFilter {
        ids: Vec::new(),
        tags: [(key.to_string(), value.to_string())].into(),
    }
}

#[tokio::test]
async fn ec2_hosts_read_back_by_tag_and_by_id_with_their_checks() {
    let moto = MotoAccount::empty();
    let one = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-1"), ("Role", "app")],
    );
    let two = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1c",
        &[("Name", "app-prod-2"), ("Role", "app")],
    );
    let bastion = launch(
        &moto,
        1,
        "t4g.nano",
        "ap-northeast-1a",
        &[("Name", "bastion-prod")],
    );
    let gone = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-0")],
    );
    moto.aws(
        "ec2",
        "stop_instances",
        &json!({"InstanceIds": two}).to_string(),
    );
    moto.aws(
        "ec2",
        "terminate_instances",
        &json!({"InstanceIds": gone}).to_string(),
    );
    let b = moto.backend().await;
    moto.reset_counts();

    let hosts = b
        .instances(&by_tag("Name", "app-prod-*"))
        .await
        .expect("instances");
    assert_eq!(
        moto.counts(),
        ops(&[
            ("ec2:DescribeInstances", 1),
            ("ec2:DescribeInstanceStatus", 1)
        ])
    );
    // The terminated one and the bastion are left out; sorted by name.
    let names: Vec<_> = hosts
        .iter()
        .map(|i| i.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["app-prod-1", "app-prod-2"]);

    // As moto stores them, read behind the product's back.
    let raw = moto.aws(
        "ec2",
        "describe_instances",
        &json!({"InstanceIds": [one[0], two[0]]}).to_string(),
    );
    let raw: Vec<Json> = raw
        .at("Reservations")
        .as_array()
        .expect("reservations")
        .iter()
        .flat_map(|r| r.at("Instances").as_array().expect("instances").clone())
        .collect();
    for h in &hosts {
        let r = raw
            .iter()
            .find(|r| r.at("InstanceId") == h.id.as_str())
            .expect("in moto");
        assert_eq!(h.state, r.at("State").at("Name").as_str().expect("state"));
        assert_eq!(h.instance_type, "t4g.medium");
        assert_eq!(
            h.availability_zone.as_deref(),
            r.at("Placement").at("AvailabilityZone").as_str()
        );
        assert_eq!(h.private_ip.as_deref(), r.at("PrivateIpAddress").as_str());
        assert!(h.private_ip.is_some(), "{h:?}");
        assert!(h.launched_at.is_some(), "{h:?}");
    }
    let running = &hosts[0];
    assert_eq!(running.id, one[0]);
    assert_eq!(running.state, "running");
    assert_eq!(
        running.availability_zone.as_deref(),
        Some("ap-northeast-1a")
    );
    assert_eq!(
        (running.system_status, running.instance_status),
        (CheckStatus::Ok, CheckStatus::Ok)
    );
    let stopped = &hosts[1];
    assert_eq!(stopped.state, "stopped");
    assert_eq!(
        stopped.availability_zone.as_deref(),
        Some("ap-northeast-1c")
    );
    // IncludeAllInstances: a stopped instance is reported, not checked.
    assert_eq!(
        (stopped.system_status, stopped.instance_status),
        (CheckStatus::NotApplicable, CheckStatus::NotApplicable)
    );

    // By id: exactly those (an id that does not exist is simply absent).
    let by_id = InstanceFilter {
        ids: vec![bastion[0].clone(), "i-0123456789abcdef0".to_string()],
        tags: BTreeMap::new(),
    };
    let hosts = b.instances(&by_id).await.expect("by id");
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].id, bastion[0]);
    assert_eq!(hosts[0].name.as_deref(), Some("bastion-prod"));
    assert_eq!(hosts[0].instance_type, "t4g.nano");
    // Ids and tags together: both must match.
    let both = InstanceFilter {
        ids: vec![bastion[0].clone(), one[0].clone()],
        tags: [("Role".to_string(), "app".to_string())].into(),
    };
    let hosts = b.instances(&both).await.expect("both");
    assert_eq!(hosts.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), one);

    // Nothing configured: nothing sent.
    moto.reset_counts();
    assert!(
        b.instances(&InstanceFilter::default())
            .await
            .expect("none")
            .is_empty()
    );
    assert!(moto.counts().is_empty(), "{:?}", moto.counts());
}

#[tokio::test]
async fn every_page_of_instances_and_status_checks_in_batches_of_100() {
    let moto = MotoAccount::empty();
    let mut ids = launch(
        &moto,
        120,
        "t4g.small",
        "ap-northeast-1a",
        &[("Name", "fleet-web")],
    );
    ids.extend(launch(
        &moto,
        10,
        "t4g.small",
        "ap-northeast-1c",
        &[("Name", "fleet-batch")],
    ));
    launch(
        &moto,
        3,
        "t4g.small",
        "ap-northeast-1c",
        &[("Name", "other")],
    );
    let b = moto.backend().await;
    moto.reset_counts();

    let hosts = b
        .instances(&by_tag("Name", "fleet-*"))
        .await
        .expect("instances");
    let mut read: Vec<String> = hosts.iter().map(|h| h.id.clone()).collect();
    read.sort();
    ids.sort();
    assert_eq!(read, ids, "every instance, once");
    // 130 instances: 6 pages of at most 25; 2 status calls (100 + 30).
    assert_eq!(
        moto.counts(),
        ops(&[
            ("ec2:DescribeInstances", 6),
            ("ec2:DescribeInstanceStatus", 2)
        ])
    );
    assert!(
        hosts
            .iter()
            .all(|h| (h.system_status, h.instance_status) == (CheckStatus::Ok, CheckStatus::Ok)),
        "every batch's checks merged"
    );
    assert_eq!(
        hosts
            .iter()
            .filter(|h| h.availability_zone.as_deref() == Some("ap-northeast-1c"))
            .count(),
        10
    );
}

/// An environment of EC2 hosts only (no ECS, RDS or alarms): OK while both
/// run with their checks ok, CRITICAL with one stopped, in the text and the
/// JSON (which the schema accepts).
#[tokio::test]
async fn status_judges_ec2_hosts_a_stopped_one_critical() {
    use honban::status::Level;
    let moto = MotoAccount::empty();
    launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-1")],
    );
    let two = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1c",
        &[("Name", "app-prod-2")],
    );
    let env = EnvironmentConfig {
        name: "ec2-prod".to_string(),
        region: Some(REGION.to_string()),
        endpoint_url: Some(moto.endpoint().to_string()),
        ec2_tags: [("Name".to_string(), "app-prod-*".to_string())].into(),
        ..Default::default()
    };

    let report = moto.status(env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Ok, "{:?} {:?}", e.reasons, e.errors);
    assert_eq!(
        (
            e.counts.instances,
            e.counts.instances_ok,
            e.counts.instances_not_running
        ),
        (2, 2, 0)
    );
    assert_eq!(report.summary(), "ec2-prod: 2 EC2 hosts ok");

    moto.aws(
        "ec2",
        "stop_instances",
        &json!({"InstanceIds": two}).to_string(),
    );
    let report = moto.status(env).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Critical, "{:?}", e.reasons);
    assert_eq!(e.reasons, ["host app-prod-2 stopped".to_string()]);
    assert_eq!(
        (
            e.counts.instances,
            e.counts.instances_ok,
            e.counts.instances_not_running
        ),
        (2, 1, 1)
    );
    let doc = honban::status::to_json(&report);
    crate::support::schema::assert_valid_status(&doc);
    let check = &doc["environments"][0]["checks"][0];
    assert_eq!(check["kind"], "ec2_instance");
    assert_eq!(check["name"], "app-prod-2");
    assert_eq!(check["state"], "CRITICAL");
    assert_eq!(check["instance_id"], two[0].as_str());
    assert_eq!(check["instance_status"], "not-applicable");
    assert_eq!(doc["environments"][0]["counts"]["instances_not_running"], 1);
}

/// The moto demo's seed 004 environment (`seed-moto.py --hosts`): two app
/// hosts behind an ALB, a bastion left out by its tags, RDS, the hosts'
/// alarms and a CloudFront distribution — no ECS cluster. `honban status`
/// reads it whole and OK; a host stopped behind the product's back makes
/// it CRITICAL.
#[tokio::test]
async fn status_of_the_seed_004_hosts_environment() {
    use honban::config::CloudFrontConfig;
    use honban::status::Level;
    let name = "wl-hosts";
    let moto = MotoAccount::seeded(name, &["--hosts", "--cloudfront", "hosts.example.jp"]);
    assert_eq!(moto.seeded.instances.len(), 2, "{:?}", moto.seeded);
    let mut env = moto.env("ec2-prod");
    env.clusters = Vec::new();
    env.ec2_tags = [
        ("Role".to_string(), "app".to_string()),
        ("Environment".to_string(), name.to_string()),
    ]
    .into();
    env.rds_instances = moto.seeded.db_instances.clone();
    env.alarm_prefixes = vec![format!("{name}-")];
    env.cloudfront_distributions = vec![CloudFrontConfig {
        id: moto
            .seeded
            .distribution_id
            .clone()
            .expect("the distribution"),
        paths: vec!["/*".into()],
        services: Vec::new(),
    }];

    let report = moto.status(env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Ok, "{:?} {:?}", e.reasons, e.errors);
    assert_eq!(e.counts.instances, 2, "the bastion is left out");
    assert_eq!(e.counts.instances_ok, 2);
    assert_eq!(e.counts.services, 0);
    assert_eq!(e.counts.databases, 1);
    assert_eq!(e.counts.alarms, 4);
    assert_eq!(e.counts.distributions, 1);

    let stopped = &moto.seeded.instances[1];
    moto.aws(
        "ec2",
        "stop_instances",
        &json!({"InstanceIds": [stopped]}).to_string(),
    );
    let report = moto.status(env).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Critical, "{:?}", e.reasons);
    assert_eq!(e.reasons, [format!("host {name}-app-2 stopped")]);
}

/// The state of `id` as moto stores it, read behind the product's back.
fn raw_state(moto: &MotoAccount, id: &str) -> String {
    let raw = moto.aws(
        "ec2",
        "describe_instances",
        &json!({"InstanceIds": [id]}).to_string(),
    );
    raw.at("Reservations")[0].at("Instances")[0]
        .at("State")
        .at("Name")
        .as_str()
        .expect("state")
        .to_string()
}

/// StopInstances, StartInstances and RebootInstances of one host: each
/// sent once with exactly its id, the instance read back with
/// DescribeInstances (and its checks) in the state moto now stores.
#[tokio::test]
async fn stop_start_and_reboot_are_sent_once_and_read_back() {
    let moto = MotoAccount::empty();
    let one = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-1")],
    );
    let other = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1c",
        &[("Name", "app-prod-2")],
    );
    let id = one[0].as_str();
    let b = moto.backend().await;

    moto.reset_counts();
    let stopped = b.stop_instance(id).await.expect("stop");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ec2:StopInstances", 1)]),
        "sent once"
    );
    let sent = moto.the_request("ec2:StopInstances");
    assert_eq!(sent.at("InstanceId.1").as_str(), Some(id), "{sent:?}");
    assert!(sent.get("InstanceId.2").is_none(), "one id: {sent:?}");
    assert!(moto.count("ec2:DescribeInstances") >= 1, "read back");
    assert_eq!(stopped.id, id);
    assert_eq!(stopped.state, raw_state(&moto, id));
    assert!(
        ["stopping", "stopped"].contains(&stopped.state.as_str()),
        "{stopped:?}"
    );
    assert_eq!(
        raw_state(&moto, &other[0]),
        "running",
        "the other untouched"
    );

    moto.reset_counts();
    let started = b.start_instance(id).await.expect("start");
    assert_eq!(moto.mutating_counts(), ops(&[("ec2:StartInstances", 1)]));
    assert_eq!(started.state, raw_state(&moto, id));
    assert!(
        ["pending", "running"].contains(&started.state.as_str()),
        "{started:?}"
    );

    moto.reset_counts();
    let rebooted = b.reboot_instance(id).await.expect("reboot");
    assert_eq!(moto.mutating_counts(), ops(&[("ec2:RebootInstances", 1)]));
    assert_eq!(
        moto.the_request("ec2:RebootInstances")
            .at("InstanceId.1")
            .as_str(),
        Some(id)
    );
    assert_eq!(rebooted.state, "running");
    assert_eq!(rebooted.state, raw_state(&moto, id));

    // An instance that does not exist: refused, not "applied".
    moto.reset_counts();
    let missing = b.stop_instance("i-0123456789abcdef0").await;
    assert!(
        matches!(
            missing,
            Err(BackendError::NotFound { .. } | BackendError::Invalid { .. })
        ),
        "{missing:?}"
    );
    assert_eq!(moto.mutating_counts(), ops(&[("ec2:StopInstances", 1)]));
}

/// Read-only: the guard refuses each of the three with the call named and
/// nothing reaches the server; the host still runs.
#[tokio::test]
async fn read_only_refuses_host_changes_and_nothing_reaches_the_server() {
    use std::sync::Arc;
    let moto = MotoAccount::empty();
    let one = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-1")],
    );
    let aws = Arc::new(moto.backend().await);
    let guarded = honban::backend::guard::ReadOnly::new(aws, "ro");
    moto.reset_counts();
    let changes = guarded.ec2_changes().expect("capability");
    assert_eq!(
        changes.stop_instance(&one[0]).await,
        Err(BackendError::ReadOnly {
            operation: "ec2:StopInstances".into()
        })
    );
    assert_eq!(
        changes.start_instance(&one[0]).await,
        Err(BackendError::ReadOnly {
            operation: "ec2:StartInstances".into()
        })
    );
    assert_eq!(
        changes.reboot_instance(&one[0]).await,
        Err(BackendError::ReadOnly {
            operation: "ec2:RebootInstances".into()
        })
    );
    assert!(moto.mutating_counts().is_empty(), "{:?}", moto.counts());
    assert_eq!(raw_state(&moto, &one[0]), "running");
}

/// By keys, in a protected environment of EC2 hosts: `S` on the highlighted
/// host, its name typed, sent once, audited (intent, result, final), the
/// host followed until stopped; `T` refused on the running one; then `T`
/// on the stopped one with its answer lost (4 s late, the deadline 2 s):
/// read back as applied, followed until running with checks ok.
#[tokio::test]
async fn a_host_stopped_and_started_by_keys_is_audited_and_followed_to_its_end() {
    let moto = MotoAccount::empty();
    let one = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-1")],
    );
    launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1c",
        &[("Name", "app-prod-2")],
    );
    let env = EnvironmentConfig {
        name: "ec2-prod".to_string(),
        region: Some(REGION.to_string()),
        endpoint_url: Some(moto.endpoint().to_string()),
        ec2_tags: [("Name".to_string(), "app-prod-*".to_string())].into(),
        protected: true,
        ..Default::default()
    };
    let Console { mut app, audit, .. } = moto.console(env).await;
    app.set_mutation_timeout(Duration::from_secs(2));
    app.set_read_back_pauses(vec![Duration::from_secs(1)]);
    press(&mut app, KeyCode::Char('9'));
    app.settle().await;
    let hosts: Vec<String> = app
        .state
        .visible_instances()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(hosts.first(), Some(&one[0]), "app-prod-1 first: {hosts:?}");

    // T on a running host: refused, nothing sent.
    moto.reset_counts();
    press(&mut app, KeyCode::Char('T'));
    assert!(is_normal(&app));
    assert!(
        flash_text(&app).contains("already running"),
        "{}",
        flash_text(&app)
    );

    press(&mut app, KeyCode::Char('S'));
    let op = confirming(&app).expect("a confirmation").clone();
    assert_eq!(
        op.calls(),
        vec![format!("ec2:StopInstances InstanceIds=[{}]", one[0])]
    );
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert!(moto.mutating_counts().is_empty(), "y is text here");
    clear_input(&mut app);
    type_text(&mut app, "ec2-prod/app-prod-1");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert_eq!(moto.mutating_counts(), ops(&[("ec2:StopInstances", 1)]));
    assert_eq!(raw_state(&moto, &one[0]), "stopped");
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let w = a.watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, honban::watch::WatchStatus::Completed(t) if t.contains("stopped")),
        "{:?}",
        w.status
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "ec2-stop");
    assert_eq!(intent.resource, one[0]);
    assert_eq!(
        intent.calls,
        vec![format!("ec2:StopInstances InstanceIds=[{}]", one[0])]
    );
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["State"], "stopped");

    // T with its answer lost: read back, applied, followed to running.
    moto.reset_counts();
    moto.inject_slow("ec2:StartInstances", 4.0, 1);
    press(&mut app, KeyCode::Char('T'));
    type_text(&mut app, "ec2-prod/app-prod-1");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ec2:StartInstances", 1)]),
        "sent once, never again"
    );
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    assert_eq!(raw_state(&moto, &one[0]), "running");
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Instances,
    });
    app.settle().await;
    let w = last_activity(&app).watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, honban::watch::WatchStatus::Completed(t) if t.contains("2/2 ok")),
        "{:?}",
        w.status
    );
}

/// The hosts' target group (`ec2_target_groups`): read with the other
/// target groups (DescribeTargetGroups, DescribeTargetHealth), each host
/// found there by its instance id with its health, shown in the hosts
/// view; the hosts' CPU is asked for in the one GetMetricData.
#[tokio::test]
async fn the_hosts_target_health_and_cpu_are_read_with_the_environment() {
    let moto = MotoAccount::empty();
    let one = launch(
        &moto,
        1,
        "t4g.medium",
        "ap-northeast-1a",
        &[("Name", "app-prod-1")],
    );
    let vpcs = moto.aws(
        "ec2",
        "describe_vpcs",
        r#"{"Filters": [{"Name": "isDefault", "Values": ["true"]}]}"#,
    );
    let vpc = vpcs.at("Vpcs")[0]
        .at("VpcId")
        .as_str()
        .expect("default VPC")
        .to_string();
    let tg = moto.aws(
        "elbv2",
        "create_target_group",
        &json!({
            "Name": "app-prod-web", "Protocol": "HTTP", "Port": 3000, "VpcId": vpc,
            "TargetType": "instance", "HealthCheckPath": "/health",
        })
        .to_string(),
    );
    let arn = tg.at("TargetGroups")[0]
        .at("TargetGroupArn")
        .as_str()
        .expect("arn")
        .to_string();
    moto.aws(
        "elbv2",
        "register_targets",
        &json!({"TargetGroupArn": arn, "Targets": [{"Id": one[0], "Port": 3000}]}).to_string(),
    );
    let env = EnvironmentConfig {
        name: "ec2-prod".to_string(),
        region: Some(REGION.to_string()),
        endpoint_url: Some(moto.endpoint().to_string()),
        ec2_tags: [("Name".to_string(), "app-prod-*".to_string())].into(),
        ec2_target_groups: vec![arn.clone()],
        ..Default::default()
    };
    moto.reset_counts();
    let Console { mut app, .. } = moto.console(env).await;
    assert!(
        moto.count("elasticloadbalancing:DescribeTargetHealth") >= 1,
        "{:?}",
        moto.counts()
    );
    let e = &app.state.envs[0];
    let targets = e.host_targets(&one[0]);
    assert_eq!(targets.len(), 1, "{:?}", e.targets.data);
    assert_eq!(targets[0].0.arn, arn);
    assert_eq!(targets[0].1.id, one[0]);
    let raw = moto.aws(
        "elbv2",
        "describe_target_health",
        &json!({"TargetGroupArn": arn}).to_string(),
    );
    let raw_state = raw.at("TargetHealthDescriptions")[0]
        .at("TargetHealth")
        .at("State")
        .as_str()
        .expect("state")
        .to_string();
    assert_eq!(targets[0].1.state, raw_state);
    let metrics = e.metrics.data.as_ref().expect("metrics asked");
    assert!(
        metrics.queries.iter().any(|q| q.namespace == "AWS/EC2"
            && q.name == "CPUUtilization"
            && q.dimensions == [("InstanceId".to_string(), one[0].clone())]),
        "{:?}",
        metrics.queries
    );
    press(&mut app, KeyCode::Char('9'));
    let screen = draw(&app);
    assert!(
        screen.contains(&format!("target app-prod-web {raw_state}")),
        "{screen}"
    );
}
