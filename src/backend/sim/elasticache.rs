//! ElastiCache: the world's Redis replication groups, as
//! DescribeReplicationGroups and DescribeCacheClusters describe them (a
//! primary and its replicas, one node each, in the zones described). Their
//! metrics (`AWS/ElastiCache`, by `CacheClusterId`) are ordinary metrics
//! of the world, which its incidents push (memory, evictions, replication
//! lag).

use async_trait::async_trait;
use serde::Deserialize;

use super::SimBackend;
use crate::backend::{BackendResult, ElastiCache};
use crate::domain::{CacheEndpoint, CacheNode, Failure, Listing, ReplicationGroup};

/// A replication group of a world (`[[world.replication_group]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplicationGroupDesc {
    pub id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_engine")]
    pub engine: String,
    pub engine_version: String,
    pub node_type: String,
    #[serde(default)]
    pub multi_az: bool,
    #[serde(default)]
    pub automatic_failover: bool,
    /// The random part of its endpoints (`abc123` in
    /// `master.ID.abc123.apne1.cache.amazonaws.com`).
    pub endpoint_id: String,
    /// Its nodes' zones, the primary's first: one member cluster each,
    /// `ID-001`, `ID-002`, ...
    pub nodes: Vec<String>,
}

fn default_engine() -> String {
    "redis".to_string()
}

/// The short region in ElastiCache's host names: `ap-northeast-1` →
/// `apne1`, `us-east-1` → `use1`.
fn short_region(region: &str) -> String {
    let mut parts = region.split('-');
    let mut out = parts.next().unwrap_or_default().to_string();
    for p in parts {
        if p.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(p);
        } else {
            for word in ["north", "south", "east", "west", "central"] {
                if let Some(rest) = p.strip_prefix(word) {
                    out.push(word.chars().next().unwrap_or('x'));
                    if let Some(c) = rest.chars().next() {
                        out.push(c);
                    }
                    break;
                }
            }
        }
    }
    out
}

impl ReplicationGroupDesc {
    /// The member cluster ids, the primary's first.
    pub fn member_ids(&self) -> Vec<String> {
        (1..=self.nodes.len())
            .map(|n| format!("{}-{n:03}", self.id))
            .collect()
    }

    /// As the API describes it in `region`.
    pub fn to_domain(&self, region: &str) -> ReplicationGroup {
        let host = |prefix: &str| CacheEndpoint {
            address: format!(
                "{prefix}.{}.{}.{}.cache.amazonaws.com",
                self.id,
                self.endpoint_id,
                short_region(region)
            ),
            port: 6379,
        };
        let members = self
            .member_ids()
            .into_iter()
            .zip(&self.nodes)
            .enumerate()
            .map(|(i, (cluster_id, az))| CacheNode {
                endpoint: Some(host(&cluster_id)),
                cluster_id,
                node_id: "0001".to_string(),
                node_group: Some("0001".to_string()),
                role: Some(if i == 0 { "primary" } else { "replica" }.to_string()),
                availability_zone: Some(az.clone()),
                status: "available".to_string(),
                node_status: Some("available".to_string()),
            })
            .collect();
        ReplicationGroup {
            id: self.id.clone(),
            description: self.description.clone(),
            status: "available".to_string(),
            engine: self.engine.clone(),
            engine_version: Some(self.engine_version.clone()),
            node_type: Some(self.node_type.clone()),
            multi_az: self.multi_az,
            automatic_failover: if self.automatic_failover {
                "enabled"
            } else {
                "disabled"
            }
            .to_string(),
            cluster_mode: false,
            primary_endpoint: Some(host("master")),
            reader_endpoint: Some(host("replica")),
            configuration_endpoint: None,
            members,
        }
    }
}

#[async_trait]
impl ElastiCache for SimBackend {
    async fn replication_groups(&self, ids: &[String]) -> BackendResult<Listing<ReplicationGroup>> {
        self.gate()?;
        Ok(self.with(|w| {
            let mut items: Vec<ReplicationGroup> = w
                .elasticache
                .iter()
                .filter(|g| ids.contains(&g.id))
                .map(|g| g.to_domain(&w.region))
                .collect();
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
            Listing { items, failures }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::short_region;

    #[test]
    fn regions_shorten_as_in_elasticache_host_names() {
        assert_eq!(short_region("ap-northeast-1"), "apne1");
        assert_eq!(short_region("us-east-1"), "use1");
        assert_eq!(short_region("eu-central-1"), "euc1");
        assert_eq!(short_region("ap-southeast-2"), "apse2");
    }
}
