//! ElastiCache: the environment's replication groups (every page of
//! DescribeReplicationGroups) with their member clusters (every page of
//! DescribeCacheClusters with ShowCacheNodeInfo).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_elasticache::types as t;

use super::AwsBackend;
use super::convert::{opt_string, string};
use crate::backend::{BackendResult, ElastiCache};
use crate::domain::{CacheEndpoint, CacheNode, Failure, Listing, ReplicationGroup};

/// The largest page of DescribeReplicationGroups / DescribeCacheClusters
/// (`MaxRecords`: 20 to 100).
pub const PAGE: i32 = 100;

#[async_trait]
impl ElastiCache for AwsBackend {
    async fn replication_groups(&self, ids: &[String]) -> BackendResult<Listing<ReplicationGroup>> {
        replication_groups(self, ids).await
    }
}

pub async fn replication_groups(
    b: &AwsBackend,
    ids: &[String],
) -> BackendResult<Listing<ReplicationGroup>> {
    if ids.is_empty() {
        return Ok(Listing::default());
    }
    let mut groups: Vec<t::ReplicationGroup> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = b
            .call(
                "elasticache",
                "DescribeReplicationGroups",
                b.clients
                    .elasticache
                    .describe_replication_groups()
                    .max_records(PAGE)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        groups.extend(
            page.replication_groups()
                .iter()
                .filter(|g| {
                    g.replication_group_id()
                        .is_some_and(|id| ids.iter().any(|i| i == id))
                })
                .cloned(),
        );
        marker = page.marker().filter(|m| !m.is_empty()).map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    let clusters = if groups.is_empty() {
        HashMap::new()
    } else {
        cache_clusters(b).await?
    };
    let mut items: Vec<ReplicationGroup> = groups.iter().map(|g| group(g, &clusters)).collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    let failures = ids
        .iter()
        .filter(|id| !items.iter().any(|g| &g.id == *id))
        .map(|id| Failure {
            arn: id.clone(),
            reason: "ReplicationGroupNotFound".to_string(),
            detail: Some(format!("replication group {id} not found")),
        })
        .collect();
    Ok(Listing { items, failures })
}

/// Every cache cluster of the account and region with its nodes, by id.
async fn cache_clusters(b: &AwsBackend) -> BackendResult<HashMap<String, t::CacheCluster>> {
    let mut out = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = b
            .call(
                "elasticache",
                "DescribeCacheClusters",
                b.clients
                    .elasticache
                    .describe_cache_clusters()
                    .show_cache_node_info(true)
                    .max_records(PAGE)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        for c in page.cache_clusters() {
            if let Some(id) = c.cache_cluster_id() {
                out.insert(id.to_string(), c.clone());
            }
        }
        marker = page.marker().filter(|m| !m.is_empty()).map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    Ok(out)
}

fn endpoint(e: Option<&t::Endpoint>) -> Option<CacheEndpoint> {
    let e = e?;
    Some(CacheEndpoint {
        address: e.address()?.to_string(),
        port: e.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(6379),
    })
}

/// A group with its members: each node group's members (role, zone, read
/// endpoint) completed by its cache cluster (status, node, version); a
/// member cluster no node group names is added without a role.
fn group(g: &t::ReplicationGroup, clusters: &HashMap<String, t::CacheCluster>) -> ReplicationGroup {
    let mut members: Vec<CacheNode> = Vec::new();
    for ng in g.node_groups() {
        for m in ng.node_group_members() {
            let id = string(m.cache_cluster_id());
            let cluster = clusters.get(&id);
            members.push(member(
                id,
                opt_string(m.cache_node_id()),
                opt_string(ng.node_group_id()),
                opt_string(m.current_role()),
                opt_string(m.preferred_availability_zone()),
                endpoint(m.read_endpoint()),
                cluster,
            ));
        }
    }
    for id in g.member_clusters() {
        if !members.iter().any(|m| &m.cluster_id == id) {
            members.push(member(
                id.clone(),
                None,
                None,
                None,
                None,
                None,
                clusters.get(id),
            ));
        }
    }
    members.sort_by(|a, b| {
        b.is_primary()
            .cmp(&a.is_primary())
            .then_with(|| a.node_group.cmp(&b.node_group))
            .then_with(|| a.cluster_id.cmp(&b.cluster_id))
    });
    let first_cluster = g.member_clusters().iter().find_map(|id| clusters.get(id));
    let first_group = g.node_groups().first();
    ReplicationGroup {
        id: string(g.replication_group_id()),
        description: string(g.description()),
        status: string(g.status()),
        engine: opt_string(g.engine())
            .or_else(|| first_cluster.and_then(|c| opt_string(c.engine())))
            .unwrap_or_else(|| "redis".to_string()),
        engine_version: first_cluster.and_then(|c| opt_string(c.engine_version())),
        node_type: opt_string(g.cache_node_type())
            .or_else(|| first_cluster.and_then(|c| opt_string(c.cache_node_type()))),
        multi_az: g.multi_az() == Some(&t::MultiAzStatus::Enabled),
        automatic_failover: g
            .automatic_failover()
            .map_or_else(|| "disabled".to_string(), |a| a.as_str().to_string()),
        cluster_mode: g.cluster_enabled().unwrap_or(false),
        primary_endpoint: endpoint(first_group.and_then(t::NodeGroup::primary_endpoint)),
        reader_endpoint: endpoint(first_group.and_then(t::NodeGroup::reader_endpoint)),
        configuration_endpoint: endpoint(g.configuration_endpoint()),
        members,
    }
}

fn member(
    cluster_id: String,
    node_id: Option<String>,
    node_group: Option<String>,
    role: Option<String>,
    az: Option<String>,
    read_endpoint: Option<CacheEndpoint>,
    cluster: Option<&t::CacheCluster>,
) -> CacheNode {
    let node = cluster.and_then(|c| {
        c.cache_nodes()
            .iter()
            .find(|n| node_id.is_none() || n.cache_node_id() == node_id.as_deref())
    });
    CacheNode {
        node_id: node_id
            .or_else(|| node.and_then(|n| opt_string(n.cache_node_id())))
            .unwrap_or_else(|| "0001".to_string()),
        node_group,
        role,
        availability_zone: az.or_else(|| {
            node.and_then(|n| opt_string(n.customer_availability_zone()))
                .or_else(|| cluster.and_then(|c| opt_string(c.preferred_availability_zone())))
        }),
        // A member DescribeCacheClusters did not list is not known to be
        // available.
        status: cluster
            .and_then(|c| opt_string(c.cache_cluster_status()))
            .unwrap_or_else(|| "unknown".to_string()),
        node_status: node.and_then(|n| opt_string(n.cache_node_status())),
        endpoint: read_endpoint.or_else(|| endpoint(node.and_then(t::CacheNode::endpoint))),
        cluster_id,
    }
}
