//! ElastiCache Redis: replication groups seeded through the SDK (through
//! the proxy, as the product's calls go), read back by the backend as the
//! domain's groups with their member clusters: every page of
//! DescribeReplicationGroups and DescribeCacheClusters (the proxy answers
//! at most 20 a page and refuses MaxRecords outside 20 to 100); a group not
//! found is a failure of the listing; a member in `incompatible-network`
//! read back and judged CRITICAL by `honban status`.

use aws_sdk_elasticache as ec;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::prelude::*;
use honban::backend::prelude::*;
use honban::domain::{CacheHealth, ReplicationGroup};

/// Sends the test's moto account with every request.
#[derive(Debug)]
struct AccountHeader(String);

impl Intercept for AccountHeader {
    fn name(&self) -> &'static str {
        "moto-account"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

/// An ElastiCache client of the account, through the proxy.
fn client(moto: &MotoAccount) -> ec::Client {
    let conf = ec::Config::builder()
        .behavior_version(ec::config::BehaviorVersion::latest())
        .region(ec::config::Region::new(REGION))
        .endpoint_url(moto.endpoint())
        .credentials_provider(ec::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .interceptor(AccountHeader(moto.account.clone()))
        .build();
    ec::Client::from_conf(conf)
}

/// A group without cluster mode: `nodes` cache clusters in `zones`.
async fn create(
    c: &ec::Client,
    id: &str,
    nodes: i32,
    zones: &[&str],
    multi_az: bool,
) -> ec::operation::create_replication_group::CreateReplicationGroupOutput {
    c.create_replication_group()
        .replication_group_id(id)
        .replication_group_description(format!("{id} (test)"))
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t3.medium")
        .num_cache_clusters(nodes)
        .set_preferred_cache_cluster_azs(Some(zones.iter().map(ToString::to_string).collect()))
        .automatic_failover_enabled(multi_az)
        .multi_az_enabled(multi_az)
        .send()
        .await
        .expect("CreateReplicationGroup")
}

fn redis_env(moto: &MotoAccount, groups: &[&str]) -> EnvironmentConfig {
    EnvironmentConfig {
        elasticache_replication_groups: groups.iter().map(ToString::to_string).collect(),
        // No ECS cluster named: the (empty) account's clusters are listed.
        clusters: Vec::new(),
        ..moto.env("redis")
    }
}

fn the_group<'a>(groups: &'a [ReplicationGroup], id: &str) -> &'a ReplicationGroup {
    groups.iter().find(|g| g.id == id).expect("the group")
}

/// Seed 003's cache (cache.t3.medium, Redis, two nodes, Multi-AZ with
/// automatic failover) among 21 others, so that both describes read two
/// pages: read back whole, the group not found named.
#[tokio::test]
async fn replication_groups_read_back_with_their_members_from_every_page() {
    let moto = MotoAccount::empty();
    let c = client(&moto);
    create(
        &c,
        "stg-redis",
        2,
        &["ap-northeast-1a", "ap-northeast-1c"],
        true,
    )
    .await;
    for i in 0..21 {
        create(&c, &format!("other-{i:02}"), 1, &["ap-northeast-1a"], false).await;
    }
    // The proxy refuses a page size ElastiCache refuses.
    let err = c
        .describe_replication_groups()
        .max_records(10)
        .send()
        .await
        .expect_err("MaxRecords 10");
    assert!(
        format!("{:?}", err.into_service_error()).contains("InvalidParameterValue"),
        "MaxRecords below 20 is refused"
    );

    let b = moto.backend().await;
    moto.reset_counts();
    let ids = ["stg-redis".to_string(), "gone-redis".to_string()];
    let listing = b
        .replication_groups(&ids)
        .await
        .expect("replication groups");
    // 22 groups and 23 member clusters: two pages of each.
    assert_eq!(
        moto.counts(),
        ops(&[
            ("elasticache:DescribeCacheClusters", 2),
            ("elasticache:DescribeReplicationGroups", 2),
        ])
    );
    assert_eq!(listing.items.len(), 1, "only the configured group");
    assert_eq!(listing.failures.len(), 1);
    assert_eq!(listing.failures[0].arn, "gone-redis");
    let g = the_group(&listing.items, "stg-redis");
    assert_eq!(g.status, "available");
    assert_eq!(g.engine_label(), "redis 7.1");
    assert_eq!(g.node_type.as_deref(), Some("cache.t3.medium"));
    assert!(g.multi_az);
    assert_eq!(g.automatic_failover, "enabled");
    assert!(!g.cluster_mode);
    let primary = g.primary_endpoint.as_ref().expect("a primary endpoint");
    assert!(
        primary.address.starts_with("master.stg-redis."),
        "{primary}"
    );
    assert_eq!(primary.port, 6379);
    assert!(
        g.reader_endpoint
            .as_ref()
            .is_some_and(|r| r.address.starts_with("replica.stg-redis.")),
        "{:?}",
        g.reader_endpoint
    );
    let members: Vec<(&str, Option<&str>, Option<&str>, &str)> = g
        .members
        .iter()
        .map(|m| {
            (
                m.cluster_id.as_str(),
                m.role.as_deref(),
                m.availability_zone.as_deref(),
                m.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            (
                "stg-redis-001",
                Some("primary"),
                Some("ap-northeast-1a"),
                "available"
            ),
            (
                "stg-redis-002",
                Some("replica"),
                Some("ap-northeast-1c"),
                "available"
            ),
        ]
    );
    assert!(g.members.iter().all(|m| {
        m.node_status.as_deref() == Some("available")
            && m.endpoint
                .as_ref()
                .is_some_and(|e| e.address.starts_with(&m.cluster_id))
    }));
    assert_eq!(g.health(), CacheHealth::Ok);

    // Nothing configured: nothing read.
    moto.reset_counts();
    assert!(
        b.replication_groups(&[])
            .await
            .expect("none")
            .items
            .is_empty()
    );
    assert!(moto.counts().is_empty(), "{:?}", moto.counts());
}

/// A replica the API reports `incompatible-network` (the proxy sets what
/// moto never reaches): read back as such, the group failing, and `honban
/// status` CRITICAL for it with the node named; a replica without
/// automatic failover is a WARNING.
#[tokio::test]
async fn a_broken_member_is_read_back_and_judged_critical() {
    let moto = MotoAccount::empty();
    let c = client(&moto);
    create(
        &c,
        "prod-redis",
        2,
        &["ap-northeast-1a", "ap-northeast-1c"],
        true,
    )
    .await;
    let report = moto.status(redis_env(&moto, &["prod-redis"])).await;
    let env = &report.environments[0];
    let check = env
        .checks
        .iter()
        .find(|c| c.name == "prod-redis")
        .expect("the group judged");
    assert_eq!(check.state, honban::status::Level::Ok, "{:?}", env.reasons);
    assert_eq!(check.status, "2/2 nodes available");

    moto.moto
        .set_cache_status(&moto.account, "prod-redis-002", "incompatible-network");
    let b = moto.backend().await;
    let listing = b
        .replication_groups(&["prod-redis".to_string()])
        .await
        .expect("groups");
    let g = the_group(&listing.items, "prod-redis");
    let replica = g
        .members
        .iter()
        .find(|m| m.cluster_id == "prod-redis-002")
        .expect("the replica");
    assert_eq!(replica.status, "incompatible-network");
    assert_eq!(replica.node_status.as_deref(), Some("incompatible-network"));
    assert_eq!(g.health(), CacheHealth::Failing);

    let report = moto.status(redis_env(&moto, &["prod-redis"])).await;
    let env = &report.environments[0];
    assert_eq!(
        env.state,
        honban::status::Level::Critical,
        "{:?}",
        env.reasons
    );
    assert!(
        env.reasons
            .iter()
            .any(|r| r == "redis prod-redis 1/2 nodes available"),
        "{:?}",
        env.reasons
    );
    let check = env
        .checks
        .iter()
        .find(|c| c.name == "prod-redis")
        .expect("the group judged");
    assert_eq!(
        check.detail.as_deref(),
        Some("node prod-redis-002 incompatible-network")
    );

    // A replica without automatic failover (ElastiCache refuses Multi-AZ
    // without it): losing the primary would need a person, a WARNING.
    create(
        &c,
        "manual-redis",
        2,
        &["ap-northeast-1a", "ap-northeast-1a"],
        false,
    )
    .await;
    let report = moto.status(redis_env(&moto, &["manual-redis"])).await;
    let env = &report.environments[0];
    let check = env
        .checks
        .iter()
        .find(|c| c.name == "manual-redis")
        .expect("the group judged");
    assert_eq!(check.state, honban::status::Level::Warning);
    assert_eq!(check.detail.as_deref(), Some("automatic failover disabled"));
}

/// Puts one `name` datapoint a minute for the last `values.len()` minutes
/// of `cluster` (moto directly: CloudWatch is not the subject here).
fn put_cache_metric(moto: &MotoAccount, cluster: &str, name: &str, unit: &str, values: &[f64]) {
    let end = chrono::Utc::now();
    let data: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = end - chrono::TimeDelta::minutes((values.len() - i) as i64);
            format!(
                r#"{{"MetricName": "{name}", "Dimensions": [{{"Name": "CacheClusterId", "Value": "{cluster}"}}], "Timestamp": "{}", "Value": {v}, "Unit": "{unit}"}}"#,
                t.format("%Y-%m-%dT%H:%M:%SZ")
            )
        })
        .collect();
    moto.aws(
        "cloudwatch",
        "put_metric_data",
        &format!(
            r#"{{"Namespace": "AWS/ElastiCache", "MetricData": [{}]}}"#,
            data.join(", ")
        ),
    );
}

/// The console on moto, as a new user would see seed 003's cache: the
/// Redis view (`E`) lists the group with its nodes and their memory, CPU
/// and lag from GetMetricData; the replica 12 s behind is shown, and the
/// lag alarm on its cache cluster (in ALARM) leads from the alarms view to
/// the group.
#[tokio::test]
async fn the_console_shows_the_group_its_metrics_and_the_alarm_on_it() {
    let moto = MotoAccount::empty();
    let c = client(&moto);
    create(
        &c,
        "stg-redis",
        2,
        &["ap-northeast-1a", "ap-northeast-1c"],
        true,
    )
    .await;
    for cluster in ["stg-redis-001", "stg-redis-002"] {
        put_cache_metric(
            &moto,
            cluster,
            "DatabaseMemoryUsagePercentage",
            "Percent",
            &[40.0, 41.0, 42.0, 43.0],
        );
        put_cache_metric(
            &moto,
            cluster,
            "EngineCPUUtilization",
            "Percent",
            &[5.0, 6.0, 7.0, 8.0],
        );
    }
    put_cache_metric(
        &moto,
        "stg-redis-002",
        "ReplicationLag",
        "Seconds",
        &[0.1, 0.2, 6.0, 12.0],
    );
    moto.aws(
        "cloudwatch",
        "put_metric_alarm",
        r#"{"AlarmName": "stg-redis-replication-lag", "Namespace": "AWS/ElastiCache",
            "MetricName": "ReplicationLag", "Statistic": "Maximum", "Period": 60,
            "EvaluationPeriods": 2, "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "Dimensions": [{"Name": "CacheClusterId", "Value": "stg-redis-002"}]}"#,
    );
    moto.set_alarm("stg-redis-replication-lag", "ALARM");

    let mut app = moto.console_as_is(redis_env(&moto, &["stg-redis"])).await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    // The metrics are asked once their sources answered: poll them again.
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Metrics,
    });
    app.settle().await;
    press(&mut app, KeyCode::Char('E'));
    assert_eq!(app.state.view(), &honban::state::View::Redis);
    let text = screen(&app, 80, 24);
    assert!(text.contains("stg-redis"), "{text}");
    assert!(text.contains("redis 7.1"), "{text}");
    assert!(text.contains("2/2"), "{text}");
    assert!(text.contains("43%"), "the memory trend:\n{text}");
    assert!(text.contains("12.0s"), "the replica's lag:\n{text}");
    assert!(text.contains("002 12.0 s behind"), "{text}");
    let e = &app.state.envs[0];
    let g = &e.replication_groups.data.as_ref().expect("groups")[0];
    assert_eq!(e.redis_health(g), CacheHealth::Degraded);

    // From the alarm to the group it watches.
    select(&mut app, '5', "stg-redis-replication-lag").await;
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.state.view(), &honban::state::View::Redis);
    assert_eq!(
        app.state.selection(),
        honban::state::Selection::Id("stg-redis".into())
    );
}
