//! `honban status`: the verdict of a seeded environment, and only the
//! reads health needs.

use crate::prelude::*;

/// A seeded production read completely (more than one page of alarms) is
/// OK; an alarm set to ALARM makes it CRITICAL; a throttled read or
/// expired credentials make it UNKNOWN, with the errors in the JSON.
#[tokio::test]
async fn status_of_a_seeded_environment_ok_critical_and_unknown() {
    use honban::status::Level;
    let name = "status-prod";
    let moto = MotoAccount::seeded(name, &["--extra-alarms", "120"]);
    // moto never starts a service's tasks; an UpdateService makes running
    // jump to desired. The seed sets api's 5xx alarm to ALARM: back to OK.
    for service in &moto.seeded.services {
        moto.aws(
            "ecs",
            "update_service",
            &format!(r#"{{"cluster": "{name}", "service": "{service}", "desiredCount": 2}}"#),
        );
    }
    for alarm in &moto.seeded.alarms_in_alarm {
        moto.set_alarm(alarm, "OK");
    }
    let mut env = moto.env("production");
    env.alarm_prefixes = vec![format!("{name}-")];
    env.protected = true;

    let report = moto.status(env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Ok, "{:?} {:?}", e.reasons, e.errors);
    assert!(!e.partial && e.errors.is_empty(), "{:?}", e.errors);
    assert_eq!(e.account.as_deref(), Some(moto.account.as_str()));
    let alarms = moto.seeded.alarms as usize;
    assert!(alarms > 100, "more than a page of alarms: {alarms}");
    assert_eq!(e.counts.alarms, alarms, "every page of alarms");
    assert_eq!(e.counts.services, 3);
    assert_eq!((e.counts.tasks_running, e.counts.tasks_desired), (6, 6));
    assert_eq!((e.counts.databases, e.counts.databases_available), (2, 2));
    assert_eq!(e.counts.target_groups, 2, "web's and api's");
    let doc = honban::status::to_json(&report);
    crate::support::schema::assert_valid_status(&doc);
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["environments"][0]["account"], moto.account.as_str());

    let web_5xx = format!("{name}-web-5xx");
    moto.set_alarm(&web_5xx, "ALARM");
    let report = moto.status(env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Critical, "{:?}", e.reasons);
    assert_eq!(report.overall.exit_code(), 2);
    // As in the console, web is degraded by the alarm on its metrics.
    assert_eq!(
        e.reasons,
        [
            "1 alarm in ALARM".to_string(),
            format!("web degraded: alarm {web_5xx} in ALARM")
        ]
    );
    assert_eq!(e.checks[0].name, web_5xx, "the worst first");
    let line = honban::status::nagios(&report);
    assert!(
        line.starts_with(&format!(
            "HONBAN CRITICAL - production: 1 alarm in ALARM, web degraded: alarm {web_5xx} in ALARM | services_ok="
        )),
        "{line}"
    );

    // Throttled alarms (no retries here): the rest is read, the verdict is
    // UNKNOWN, not OK, and says what was not read.
    moto.set_alarm(&web_5xx, "OK");
    moto.inject_fault("cloudwatch:DescribeAlarms", "throttle", 0);
    let report = moto.status(env.clone()).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Unknown, "{:?}", e.reasons);
    assert!(e.partial);
    assert_eq!(e.counts.services, 3, "the rest was read");
    assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
    assert_eq!(
        (e.errors[0].resource.as_str(), e.errors[0].kind.as_str()),
        ("alarms", "throttled")
    );
    moto.clear_faults();

    // Expired credentials: nothing is read, UNKNOWN with every error.
    moto.inject_fault("*", "expired", 0);
    let report = moto.status(env).await;
    moto.clear_faults();
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Unknown);
    assert_eq!(report.overall.exit_code(), 3);
    assert!(e.checks.is_empty(), "{:?}", e.checks);
    let doc = honban::status::to_json(&report);
    crate::support::schema::assert_valid_status(&doc);
    let errors = doc["environments"][0]["errors"].as_array().expect("errors");
    let resources: Vec<&str> = errors
        .iter()
        .filter_map(|x| x["resource"].as_str())
        .collect();
    assert_eq!(resources, ["identity", "services", "databases", "alarms"]);
    assert!(
        errors.iter().all(|x| x["kind"] == "unauthorized"
            && x["message"].as_str().is_some_and(|m| m.contains("expired"))),
        "{errors:?}"
    );
}

/// `status` reads only what health is judged from: no tasks, snapshots,
/// auto scaling, task definitions or metrics (GetMetricData is billed).
#[tokio::test]
async fn status_reads_only_what_health_needs() {
    let moto = MotoAccount::seeded("status-reads", &[]);
    moto.reset_counts();
    let report = moto.status(moto.env("production")).await;
    assert!(!report.partial(), "{:?}", report.environments[0].errors);
    let counts = moto.counts();
    for op in [
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "ecs:DescribeTaskDefinition",
        "rds:DescribeDBSnapshots",
        "application-autoscaling:DescribeScalableTargets",
        "cloudwatch:GetMetricData",
    ] {
        assert_eq!(counts.get(op), None, "{op} was read: {counts:?}");
    }
    for op in [
        "sts:GetCallerIdentity",
        "ecs:ListServices",
        "ecs:DescribeServices",
        "rds:DescribeDBInstances",
        "cloudwatch:DescribeAlarms",
        "elasticloadbalancing:DescribeTargetHealth",
    ] {
        assert!(
            counts.get(op).is_some_and(|n| *n >= 1),
            "{op} not read: {counts:?}"
        );
    }
}
