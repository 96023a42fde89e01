//! ElastiCache (Redis OSS / Valkey) replication groups
//! (`DescribeReplicationGroups`) with their member cache clusters
//! (`DescribeCacheClusters` with `ShowCacheNodeInfo`), and what their
//! state amounts to for the operator.

use serde::{Deserialize, Serialize};

use super::Identified;

/// A host and port a client connects to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEndpoint {
    pub address: String,
    pub port: u16,
}

impl std::fmt::Display for CacheEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.address, self.port)
    }
}

/// One replication group: a primary and its replicas (cluster mode
/// disabled), or shards of them (cluster mode enabled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationGroup {
    /// `ReplicationGroupId`.
    pub id: String,
    pub description: String,
    /// As ElastiCache spells it: `creating`, `available`, `modifying`,
    /// `deleting`, `create-failed`, `snapshotting`.
    pub status: String,
    /// `redis`, `valkey` (from the member clusters when the group does not
    /// say).
    pub engine: String,
    /// `7.1.0`, from the member clusters.
    pub engine_version: Option<String>,
    /// `cache.t3.medium`.
    pub node_type: Option<String>,
    /// `MultiAZ` is `enabled`.
    pub multi_az: bool,
    /// `AutomaticFailover`: `enabled`, `disabled`, `enabling`, `disabling`.
    pub automatic_failover: String,
    /// Cluster mode enabled (several shards, a configuration endpoint).
    pub cluster_mode: bool,
    /// The primary endpoint (cluster mode disabled).
    pub primary_endpoint: Option<CacheEndpoint>,
    /// The reader endpoint (cluster mode disabled).
    pub reader_endpoint: Option<CacheEndpoint>,
    /// The configuration endpoint (cluster mode enabled).
    pub configuration_endpoint: Option<CacheEndpoint>,
    /// Its member cache clusters (one node each), primary first.
    pub members: Vec<CacheNode>,
}

impl Identified for ReplicationGroup {}

/// A member cache cluster of a replication group and its one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheNode {
    /// `CacheClusterId` (`works-logue-stg-redis-001`): the dimension of
    /// its CloudWatch metrics.
    pub cluster_id: String,
    /// The node's id within its cluster (`0001`).
    pub node_id: String,
    /// The shard (`NodeGroupId`, `0001` without cluster mode).
    pub node_group: Option<String>,
    /// `primary` or `replica` (`CurrentRole`); `None` where the API does
    /// not say (cluster mode enabled).
    pub role: Option<String>,
    pub availability_zone: Option<String>,
    /// `CacheClusterStatus`: `available`, `creating`, `modifying`,
    /// `rebooting cache cluster nodes`, `snapshotting`, `deleting`,
    /// `failed`, `incompatible-network`, `restore-failed`.
    pub status: String,
    /// `CacheNodeStatus` of its node.
    pub node_status: Option<String>,
    /// The node's own endpoint.
    pub endpoint: Option<CacheEndpoint>,
}

/// How a replication group or a node stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CacheHealth {
    Ok,
    /// Changing (modifying, snapshotting, a reboot, failover being
    /// switched), or a protection missing (no automatic failover with
    /// replicas).
    Degraded,
    /// Not serving or broken: `failed`, `incompatible-network`,
    /// `create-failed`, `deleting`, no available primary.
    Failing,
}

impl CacheNode {
    /// A node's health from its cluster's status (and its node's).
    pub fn health(&self) -> CacheHealth {
        let node_bad = self
            .node_status
            .as_deref()
            .is_some_and(|s| !matches!(s, "available" | "creating" | "modifying" | "rebooting"));
        match self.status.as_str() {
            "available" if !node_bad => CacheHealth::Ok,
            "available" => CacheHealth::Degraded,
            "creating" | "modifying" | "rebooting cache cluster nodes" | "snapshotting" => {
                CacheHealth::Degraded
            }
            // failed, incompatible-network, restore-failed, deleting,
            // deleted, and anything unknown.
            _ => CacheHealth::Failing,
        }
    }

    pub fn is_primary(&self) -> bool {
        self.role.as_deref() == Some("primary")
    }
}

impl ReplicationGroup {
    /// The group's health: failing when it is broken or being deleted,
    /// when no member is an available primary (writes fail), or when a
    /// member is broken (`failed`, `incompatible-network`, ...: it does not
    /// come back by itself, and the group has lost its redundancy);
    /// degraded when it or a member is changing, or Multi-AZ / replicas run
    /// without automatic failover (a primary's loss would need a person).
    pub fn health(&self) -> CacheHealth {
        match self.status.as_str() {
            "available" => {}
            "creating" | "modifying" | "snapshotting" => {
                return CacheHealth::Degraded.max(self.members_health());
            }
            _ => return CacheHealth::Failing,
        }
        let primary_ok = self.cluster_mode
            || self
                .members
                .iter()
                .any(|m| m.is_primary() && m.health() == CacheHealth::Ok);
        if !primary_ok
            || self
                .members
                .iter()
                .any(|m| m.health() == CacheHealth::Failing)
        {
            return CacheHealth::Failing;
        }
        let members = self.members_health();
        if members != CacheHealth::Ok || self.failover_missing() {
            CacheHealth::Degraded
        } else {
            CacheHealth::Ok
        }
    }

    /// Degraded when a member is not ok (a member changing: its group
    /// changes with it).
    fn members_health(&self) -> CacheHealth {
        if self.members.iter().all(|m| m.health() == CacheHealth::Ok) {
            CacheHealth::Ok
        } else {
            CacheHealth::Degraded
        }
    }

    /// Replicas (or Multi-AZ) without automatic failover: losing the
    /// primary then needs a person to promote a replica.
    pub fn failover_missing(&self) -> bool {
        (self.multi_az || self.members.len() > 1) && self.automatic_failover != "enabled"
    }

    /// The member clusters that are not available, as `id status`.
    pub fn troubled_members(&self) -> Vec<&CacheNode> {
        self.members
            .iter()
            .filter(|m| m.health() != CacheHealth::Ok)
            .collect()
    }

    /// The primary member (cluster mode disabled).
    pub fn primary(&self) -> Option<&CacheNode> {
        self.members.iter().find(|m| m.is_primary())
    }

    /// `redis 7.1.0`.
    pub fn engine_label(&self) -> String {
        match &self.engine_version {
            Some(v) => format!("{} {v}", self.engine),
            None => self.engine.clone(),
        }
    }

    /// The endpoint applications write to: the primary's, else the
    /// configuration endpoint.
    pub fn write_endpoint(&self) -> Option<&CacheEndpoint> {
        self.primary_endpoint
            .as_ref()
            .or(self.configuration_endpoint.as_ref())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn node(id: &str, role: &str, status: &str) -> CacheNode {
        CacheNode {
            cluster_id: id.to_string(),
            node_id: "0001".to_string(),
            node_group: Some("0001".to_string()),
            role: Some(role.to_string()),
            availability_zone: Some("ap-northeast-1a".to_string()),
            status: status.to_string(),
            node_status: Some(if status == "available" {
                "available".to_string()
            } else {
                status.to_string()
            }),
            endpoint: None,
        }
    }

    pub fn group(status: &str, members: Vec<CacheNode>) -> ReplicationGroup {
        ReplicationGroup {
            id: "rg".to_string(),
            description: String::new(),
            status: status.to_string(),
            engine: "redis".to_string(),
            engine_version: Some("7.1.0".to_string()),
            node_type: Some("cache.t3.medium".to_string()),
            multi_az: true,
            automatic_failover: "enabled".to_string(),
            cluster_mode: false,
            primary_endpoint: None,
            reader_endpoint: None,
            configuration_endpoint: None,
            members,
        }
    }

    #[test]
    fn a_group_is_judged_by_its_status_primary_members_and_failover() {
        use CacheHealth as H;
        let ok = || {
            vec![
                node("a", "primary", "available"),
                node("b", "replica", "available"),
            ]
        };
        assert_eq!(group("available", ok()).health(), H::Ok);
        assert_eq!(group("modifying", ok()).health(), H::Degraded);
        assert_eq!(group("create-failed", ok()).health(), H::Failing);
        assert_eq!(group("deleting", ok()).health(), H::Failing);
        // A replica broken: the primary still serves, but nothing brings
        // the replica back by itself.
        let replica_lost = vec![
            node("a", "primary", "available"),
            node("b", "replica", "incompatible-network"),
        ];
        assert_eq!(
            group("available", replica_lost.clone()).health(),
            H::Failing
        );
        assert_eq!(replica_lost[1].health(), H::Failing);
        let replica_rebooting = vec![
            node("a", "primary", "available"),
            node("b", "replica", "rebooting cache cluster nodes"),
        ];
        assert_eq!(group("available", replica_rebooting).health(), H::Degraded);
        // The primary lost: writes fail.
        let primary_lost = vec![
            node("a", "primary", "failed"),
            node("b", "replica", "available"),
        ];
        assert_eq!(group("available", primary_lost).health(), H::Failing);
        // Multi-AZ with replicas but no automatic failover.
        let mut g = group("available", ok());
        g.automatic_failover = "disabled".to_string();
        assert!(g.failover_missing());
        assert_eq!(g.health(), H::Degraded);
        // A single node without Multi-AZ needs none.
        let mut single = group("available", vec![node("a", "primary", "available")]);
        single.multi_az = false;
        single.automatic_failover = "disabled".to_string();
        assert_eq!(single.health(), H::Ok);
        assert_eq!(node("x", "replica", "modifying").health(), H::Degraded);
    }
}
