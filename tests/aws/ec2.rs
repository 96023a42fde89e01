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
