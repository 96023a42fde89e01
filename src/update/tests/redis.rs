//! The Redis view in the reducer: its key and commands, the groups ordered
//! unhealthy first with the selection kept on its group by id across a
//! reload, a group's detail by `enter` (its nodes selected by cache
//! cluster id), `y` copying the endpoint, and an alarm on a member cluster
//! leading to its group.

use super::*;
use crate::domain::elasticache_tests::{group, node};
use crate::domain::{CacheEndpoint, MetricRef, ReplicationGroup};
use crate::state::Selection;

fn named(id: &str, primary_status: &str) -> ReplicationGroup {
    let mut g = group(
        "available",
        vec![
            node(&format!("{id}-001"), "primary", primary_status),
            node(&format!("{id}-002"), "replica", "available"),
        ],
    );
    g.id = id.to_string();
    g.primary_endpoint = Some(CacheEndpoint {
        address: format!("master.{id}.abc123.apne1.cache.amazonaws.com"),
        port: 6379,
    });
    g
}

fn load_groups(s: &mut State, groups: Vec<ReplicationGroup>) {
    let generation = s.envs[0].replication_groups.generation;
    s.envs[0].replication_groups.in_flight = true;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::ReplicationGroups,
            generation,
            at,
            result: Ok(Data::ReplicationGroups(Listing::complete(groups))),
        },
    );
}

/// Staging with `a-redis` and `b-redis` configured and read.
fn with_redis(groups: Vec<ReplicationGroup>) -> State {
    let mut s = state_of(&["staging"], t0());
    s.envs[0].replication_group_ids = vec!["a-redis".into(), "b-redis".into()];
    load_groups(&mut s, groups);
    s
}

#[test]
fn the_view_opens_by_key_and_command_and_keeps_its_group_by_id() {
    let mut s = with_redis(vec![
        named("a-redis", "available"),
        named("b-redis", "failed"),
    ]);
    assert!(s.envs[0].reads(Resource::ReplicationGroups));
    assert!(!state_of(&["other"], t0()).envs[0].reads(Resource::ReplicationGroups));
    press(&mut s, key('E'));
    assert_eq!(s.view(), &View::Redis);
    // The failing group first.
    assert_eq!(
        s.row_ids(),
        Some(vec!["b-redis".to_string(), "a-redis".to_string()])
    );
    press(&mut s, key('j'));
    s.settle_selection();
    assert_eq!(s.selection(), Selection::Id("a-redis".into()));
    // b-redis recovers: the order changes, the selection stays on a-redis.
    load_groups(
        &mut s,
        vec![named("a-redis", "available"), named("b-redis", "available")],
    );
    assert_eq!(s.selected(ViewKind::Redis), 0);
    assert_eq!(s.selection(), Selection::Id("a-redis".into()));
    // y: the primary endpoint, as redis-cli takes it.
    press(&mut s, key('y'));
    assert_eq!(
        s.clipboard.as_deref(),
        Some("master.a-redis.abc123.apne1.cache.amazonaws.com:6379")
    );
    // enter: the group's nodes, selected by cache cluster id.
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.view(),
        &View::RedisGroup {
            group: "a-redis".into()
        }
    );
    assert_eq!(
        s.row_ids(),
        Some(vec!["a-redis-001".to_string(), "a-redis-002".to_string()])
    );
    for command in ["elasticache", "redis"] {
        update(&mut s, Action::Command(Command::Overview));
        press(&mut s, key(':'));
        typed(&mut s, command);
        press(&mut s, code(KeyCode::Enter));
        assert_eq!(s.view(), &View::Redis, ":{command}");
    }
}

#[test]
fn an_alarm_on_a_member_cluster_leads_to_its_group() {
    let s = with_redis(vec![named("a-redis", "available")]);
    let on = |dims: &[(&str, &str)]| MetricRef {
        namespace: "AWS/ElastiCache".into(),
        name: "ReplicationLag".into(),
        dimensions: dims
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        statistic: Some("Maximum".into()),
        unit: None,
    };
    use crate::metrics::{Watched, watched};
    let env = &s.envs[0];
    assert_eq!(
        watched(env, &on(&[("CacheClusterId", "a-redis-002")])),
        Watched::Redis("a-redis".into())
    );
    assert_eq!(
        watched(env, &on(&[("ReplicationGroupId", "a-redis")])),
        Watched::Redis("a-redis".into())
    );
    // A member of a group not read: named after ElastiCache's `-NNN`.
    assert_eq!(
        watched(env, &on(&[("CacheClusterId", "z-redis-003")])),
        Watched::Redis("z-redis".into())
    );
    // Its metrics are in the one query set: lag for the replica only.
    let queries = crate::metrics::queries(env, crate::metrics::MetricRange::Hour, 500);
    let lag: Vec<&str> = queries
        .iter()
        .filter(|q| q.namespace == "AWS/ElastiCache" && q.name == "ReplicationLag")
        .flat_map(|q| q.dimensions.iter().map(|(_, v)| v.as_str()))
        .collect();
    assert_eq!(lag, ["a-redis-002"]);
    assert_eq!(
        queries
            .iter()
            .filter(|q| q.namespace == "AWS/ElastiCache")
            .count(),
        11
    );
}

/// A member's status and a failover land on the timeline, and `enter` on
/// such an event opens the Redis view on its group.
#[test]
fn a_failover_and_a_broken_node_are_timeline_events_leading_to_the_group() {
    let mut s = with_redis(vec![named("a-redis", "available")]);
    let mut failed_over = named("a-redis", "available");
    failed_over.members[0].role = Some("replica".into());
    failed_over.members[0].status = "incompatible-network".into();
    failed_over.members[1].role = Some("primary".into());
    load_groups(&mut s, vec![failed_over]);
    let texts: Vec<String> = s.envs[0]
        .timeline
        .iter()
        .filter(|e| e.kind == "redis_status")
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(
        texts,
        [
            "node a-redis-001 available → incompatible-network",
            "primary a-redis-001 → a-redis-002 (failover)",
        ]
    );
    update(&mut s, Action::Command(Command::Timeline));
    let Some(ids) = s.row_ids() else {
        panic!("the timeline has rows")
    };
    let at = s
        .visible_timeline()
        .iter()
        .position(|(_, e)| e.kind == "redis_status")
        .expect("a redis event listed");
    assert!(at < ids.len());
    s.select_row(at);
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(s.view(), &View::Redis);
    assert_eq!(s.selection(), Selection::Id("a-redis".into()));
}
