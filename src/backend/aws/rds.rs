//! RDS: instances with their replica links, snapshots; every page.

use aws_sdk_rds::types::{self as t, Filter};

use super::AwsBackend;
use super::convert::{count, opt_count, opt_string, opt_time, port, string};
use crate::backend::{BackendError, BackendResult, DbRestore, RestoreFrom};
use crate::backend::{Rds, RdsChanges};
use crate::domain::{DbInstance, DbSettings, DbSnapshot, RestoreSettings};
use async_trait::async_trait;

#[async_trait]
impl Rds for AwsBackend {
    async fn db_instances(&self, ids: &[String]) -> BackendResult<Vec<DbInstance>> {
        instances(self, ids).await
    }

    async fn db_snapshots(&self, instance_ids: &[String]) -> BackendResult<Vec<DbSnapshot>> {
        snapshots(self, instance_ids).await
    }
}

#[async_trait]
impl RdsChanges for AwsBackend {
    async fn create_db_snapshot(
        &self,
        instance_id: &str,
        snapshot_id: &str,
    ) -> BackendResult<DbSnapshot> {
        create_snapshot(self, instance_id, snapshot_id).await
    }

    async fn reboot_db_instance(
        &self,
        instance_id: &str,
        force_failover: bool,
    ) -> BackendResult<DbInstance> {
        reboot(self, instance_id, force_failover).await
    }

    async fn restore_db_instance(&self, r: &DbRestore) -> BackendResult<DbInstance> {
        restore(self, r).await
    }

    async fn promote_read_replica(&self, instance_id: &str) -> BackendResult<DbInstance> {
        promote(self, instance_id).await
    }
}

/// The largest page of DescribeDBInstances / DescribeDBSnapshots.
pub const PAGE: i32 = 100;

fn id_filter(ids: &[String]) -> Option<Vec<Filter>> {
    if ids.is_empty() {
        None
    } else {
        Some(vec![
            Filter::builder()
                .name("db-instance-id")
                .set_values(Some(ids.to_vec()))
                .build(),
        ])
    }
}

pub async fn instances(b: &AwsBackend, ids: &[String]) -> BackendResult<Vec<DbInstance>> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = b
            .call(
                "rds",
                "DescribeDBInstances",
                b.clients
                    .rds
                    .describe_db_instances()
                    .set_filters(id_filter(ids))
                    .max_records(PAGE)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        out.extend(page.db_instances().iter().map(instance));
        marker = page.marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    if !ids.is_empty() {
        // Servers that ignore the filter still must not widen the scope.
        out.retain(|d| ids.contains(&d.id));
    }
    link_replicas(&mut out);
    Ok(out)
}

/// Makes replica links go both ways, whichever side the API reported.
fn link_replicas(dbs: &mut [DbInstance]) {
    let pairs: Vec<(String, String)> = dbs
        .iter()
        .filter_map(|d| {
            d.replica_source
                .as_ref()
                .map(|s| (source_id(s), d.id.clone()))
        })
        .collect();
    for (primary, replica) in pairs {
        if let Some(p) = dbs.iter_mut().find(|d| d.id == primary)
            && !p.replicas.iter().any(|r| source_id(r) == replica)
        {
            p.replicas.push(replica);
        }
    }
    let reverse: Vec<(String, String)> = dbs
        .iter()
        .flat_map(|p| p.replicas.iter().map(|r| (source_id(r), p.id.clone())))
        .collect();
    for (replica, primary) in reverse {
        if let Some(r) = dbs.iter_mut().find(|d| d.id == replica)
            && r.replica_source.is_none()
        {
            r.replica_source = Some(primary);
        }
    }
}

/// `arn:aws:rds:...:db:name` or `name` → `name`.
fn source_id(s: &str) -> String {
    s.rsplit(':').next().unwrap_or(s).to_string()
}

fn instance(d: &t::DbInstance) -> DbInstance {
    DbInstance {
        id: string(d.db_instance_identifier()),
        arn: string(d.db_instance_arn()),
        engine: string(d.engine()),
        engine_version: string(d.engine_version()),
        class: string(d.db_instance_class()),
        status: string(d.db_instance_status()),
        multi_az: d.multi_az().unwrap_or(false),
        availability_zone: opt_string(d.availability_zone()),
        secondary_availability_zone: opt_string(d.secondary_availability_zone()),
        allocated_storage_gib: opt_count(d.allocated_storage()),
        storage_type: opt_string(d.storage_type()),
        backup_retention_days: opt_count(d.backup_retention_period()),
        endpoint: d.endpoint().and_then(|e| opt_string(e.address())),
        port: d.endpoint().and_then(|e| port(e.port())),
        replica_source: d
            .read_replica_source_db_instance_identifier()
            .map(source_id),
        replicas: d
            .read_replica_db_instance_identifiers()
            .iter()
            .map(|r| source_id(r))
            .collect(),
        pending_modifications: d.pending_modified_values().map(pending).unwrap_or_default(),
        latest_restorable_time: opt_time(d.latest_restorable_time()),
        created_at: opt_time(d.instance_create_time()),
        settings: DbSettings {
            subnet_group: d
                .db_subnet_group()
                .and_then(|g| opt_string(g.db_subnet_group_name())),
            security_groups: d
                .vpc_security_groups()
                .iter()
                .filter_map(|g| opt_string(g.vpc_security_group_id()))
                .collect(),
            parameter_group: d
                .db_parameter_groups()
                .iter()
                .find_map(|g| opt_string(g.db_parameter_group_name())),
            option_group: d
                .option_group_memberships()
                .iter()
                .find_map(|g| opt_string(g.option_group_name())),
            deletion_protection: d.deletion_protection().unwrap_or(false),
            tags: d
                .tag_list()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect(),
        },
    }
}

/// The pending modifications as `what → value` (never the master password).
fn pending(p: &t::PendingModifiedValues) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(c) = p.db_instance_class() {
        v.push(format!("class → {c}"));
    }
    if let Some(s) = p.allocated_storage() {
        v.push(format!("storage → {s} GiB"));
    }
    if let Some(m) = p.multi_az() {
        v.push(format!("multi-az → {m}"));
    }
    if let Some(e) = p.engine_version() {
        v.push(format!("engine → {e}"));
    }
    if let Some(r) = p.backup_retention_period() {
        v.push(format!("backup retention → {r}d"));
    }
    if let Some(t) = p.storage_type() {
        v.push(format!("storage type → {t}"));
    }
    if p.master_user_password().is_some() {
        v.push("master password".to_string());
    }
    v
}

pub async fn snapshots(b: &AwsBackend, instance_ids: &[String]) -> BackendResult<Vec<DbSnapshot>> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = b
            .call(
                "rds",
                "DescribeDBSnapshots",
                b.clients
                    .rds
                    .describe_db_snapshots()
                    .set_filters(id_filter(instance_ids))
                    .max_records(PAGE)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        out.extend(page.db_snapshots().iter().map(snapshot));
        marker = page.marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    if !instance_ids.is_empty() {
        out.retain(|s| instance_ids.contains(&s.instance_id));
    }
    Ok(out)
}

fn snapshot(s: &t::DbSnapshot) -> DbSnapshot {
    DbSnapshot {
        id: string(s.db_snapshot_identifier()),
        arn: string(s.db_snapshot_arn()),
        instance_id: string(s.db_instance_identifier()),
        snapshot_type: string(s.snapshot_type()),
        status: string(s.status()),
        percent_progress: s
            .percent_progress()
            .and_then(|p| u8::try_from(p.clamp(0, 100)).ok()),
        allocated_storage_gib: count(s.allocated_storage().unwrap_or(0)),
        created_at: opt_time(s.snapshot_create_time()),
    }
}

pub async fn create_snapshot(
    b: &AwsBackend,
    instance_id: &str,
    snapshot_id: &str,
) -> BackendResult<DbSnapshot> {
    let out = b
        .call(
            "rds",
            "CreateDBSnapshot",
            b.clients
                .rds
                .create_db_snapshot()
                .db_instance_identifier(instance_id)
                .db_snapshot_identifier(snapshot_id)
                .customize()
                .config_override(super::once!(aws_sdk_rds))
                .send(),
        )
        .await?;
    out.db_snapshot()
        .map(snapshot)
        .ok_or_else(|| BackendError::Other {
            message: "CreateDBSnapshot returned no snapshot".to_string(),
        })
}

pub async fn reboot(
    b: &AwsBackend,
    instance_id: &str,
    force_failover: bool,
) -> BackendResult<DbInstance> {
    let out = b
        .call(
            "rds",
            "RebootDBInstance",
            b.clients
                .rds
                .reboot_db_instance()
                .db_instance_identifier(instance_id)
                .set_force_failover(force_failover.then_some(true))
                .customize()
                .config_override(super::once!(aws_sdk_rds))
                .send(),
        )
        .await?;
    out.db_instance()
        .map(instance)
        .ok_or_else(|| BackendError::Other {
            message: "RebootDBInstance returned no instance".to_string(),
        })
}

/// The settings a restore sends, as the SDK's tags.
fn tags(settings: &RestoreSettings) -> Option<Vec<t::Tag>> {
    (!settings.tags.is_empty()).then(|| {
        settings
            .tags
            .iter()
            .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
            .collect()
    })
}

/// RestoreDBInstanceFromDBSnapshot or RestoreDBInstanceToPointInTime,
/// sent once, with every carried setting.
pub async fn restore(b: &AwsBackend, restore: &DbRestore) -> BackendResult<DbInstance> {
    let st = &restore.settings;
    let groups = (!st.security_groups.is_empty()).then(|| st.security_groups.clone());
    let created =
        match &restore.from {
            RestoreFrom::Snapshot(snapshot) => {
                let out = b
                    .call(
                        "rds",
                        "RestoreDBInstanceFromDBSnapshot",
                        b.clients
                            .rds
                            .restore_db_instance_from_db_snapshot()
                            .db_instance_identifier(&restore.target)
                            .db_snapshot_identifier(snapshot)
                            .db_instance_class(&st.class)
                            .multi_az(st.multi_az)
                            .set_storage_type(st.storage_type.clone())
                            .set_db_subnet_group_name(st.subnet_group.clone())
                            .set_vpc_security_group_ids(groups)
                            .set_db_parameter_group_name(st.parameter_group.clone())
                            .set_option_group_name(st.option_group.clone())
                            .deletion_protection(st.deletion_protection)
                            .set_tags(tags(st))
                            .customize()
                            .config_override(super::once!(aws_sdk_rds))
                            .send(),
                    )
                    .await?;
                out.db_instance().map(instance)
            }
            RestoreFrom::PointInTime { source, time } => {
                let out = b
                    .call(
                        "rds",
                        "RestoreDBInstanceToPointInTime",
                        b.clients
                            .rds
                            .restore_db_instance_to_point_in_time()
                            .source_db_instance_identifier(source)
                            .target_db_instance_identifier(&restore.target)
                            .set_restore_time(time.map(|t| {
                                aws_sdk_rds::primitives::DateTime::from_secs(t.timestamp())
                            }))
                            .set_use_latest_restorable_time(time.is_none().then_some(true))
                            .db_instance_class(&st.class)
                            .multi_az(st.multi_az)
                            .set_storage_type(st.storage_type.clone())
                            .set_db_subnet_group_name(st.subnet_group.clone())
                            .set_vpc_security_group_ids(groups)
                            .set_db_parameter_group_name(st.parameter_group.clone())
                            .set_option_group_name(st.option_group.clone())
                            .deletion_protection(st.deletion_protection)
                            .set_tags(tags(st))
                            .customize()
                            .config_override(super::once!(aws_sdk_rds))
                            .send(),
                    )
                    .await?;
                out.db_instance().map(instance)
            }
        };
    created.ok_or_else(|| BackendError::Other {
        message: format!("{} returned no instance", restore.api()),
    })
}

pub async fn promote(b: &AwsBackend, instance_id: &str) -> BackendResult<DbInstance> {
    let out = b
        .call(
            "rds",
            "PromoteReadReplica",
            b.clients
                .rds
                .promote_read_replica()
                .db_instance_identifier(instance_id)
                .customize()
                .config_override(super::once!(aws_sdk_rds))
                .send(),
        )
        .await?;
    out.db_instance()
        .map(instance)
        .ok_or_else(|| BackendError::Other {
            message: "PromoteReadReplica returned no instance".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(id: &str, source: Option<&str>, replicas: &[&str]) -> DbInstance {
        DbInstance {
            id: id.into(),
            arn: format!("arn:aws:rds:ap-northeast-1:1:db:{id}"),
            engine: "postgres".into(),
            engine_version: "16".into(),
            class: "db.t4g.medium".into(),
            status: "available".into(),
            multi_az: false,
            availability_zone: None,
            secondary_availability_zone: None,
            allocated_storage_gib: 20,
            storage_type: None,
            backup_retention_days: 7,
            endpoint: None,
            port: None,
            replica_source: source.map(str::to_string),
            replicas: replicas.iter().map(|s| (*s).to_string()).collect(),
            pending_modifications: Vec::new(),
            latest_restorable_time: None,
            created_at: None,
            settings: crate::domain::DbSettings::default(),
        }
    }

    #[test]
    fn replica_links_go_both_ways() {
        let mut v = vec![
            db("main", None, &[]),
            db("rep", Some("arn:aws:rds:x:1:db:main"), &[]),
        ];
        link_replicas(&mut v);
        assert_eq!(v[0].replicas, vec!["rep".to_string()]);
        let mut v = vec![db("main", None, &["rep"]), db("rep", None, &[])];
        link_replicas(&mut v);
        assert_eq!(v[1].replica_source.as_deref(), Some("main"));
    }
}
