//! RDS: DB instances, reboots (with failover), manual and automated
//! snapshots.

use chrono::{DateTime, TimeDelta, Timelike};
use fastrand::Rng;

use super::SimBackend;
use super::world::{DbDesc, SnapshotDesc, parse_hhmm};
use crate::backend::RdsChanges;
use crate::backend::{BackendError, BackendResult, DbRestore, RestoreFrom};
use crate::domain::{DbInstance, DbSettings, DbSnapshot, Timestamp};
use async_trait::async_trait;

#[async_trait]
impl crate::backend::Rds for SimBackend {
    async fn db_instances(&self, ids: &[String]) -> BackendResult<Vec<DbInstance>> {
        self.gate()?;
        self.with(|w| w.rds.instances(ids, w.now))
    }

    async fn db_snapshots(&self, instance_ids: &[String]) -> BackendResult<Vec<DbSnapshot>> {
        self.gate()?;
        Ok(self.with(|w| w.rds.snapshots(instance_ids, w.now)))
    }
}

#[async_trait]
impl RdsChanges for SimBackend {
    async fn create_db_snapshot(
        &self,
        instance_id: &str,
        snapshot_id: &str,
    ) -> BackendResult<DbSnapshot> {
        self.gate()?;
        self.with(|w| w.create_db_snapshot(instance_id, snapshot_id))
    }

    async fn reboot_db_instance(
        &self,
        instance_id: &str,
        force_failover: bool,
    ) -> BackendResult<DbInstance> {
        self.gate()?;
        self.with(|w| w.reboot_db_instance(instance_id, force_failover))
    }

    async fn restore_db_instance(
        &self,
        restore: &crate::backend::DbRestore,
    ) -> BackendResult<DbInstance> {
        self.gate()?;
        self.with(|w| w.restore_db_instance(restore))
    }

    async fn promote_read_replica(&self, instance_id: &str) -> BackendResult<DbInstance> {
        self.gate()?;
        self.with(|w| w.promote_read_replica(instance_id))
    }
}

/// One simulated DB instance.
#[derive(Debug, Clone)]
pub(crate) struct SimDb {
    pub id: String,
    engine: String,
    engine_version: String,
    class: String,
    pub multi_az: bool,
    pub az: String,
    pub secondary_az: Option<String>,
    storage_gib: u32,
    storage_type: String,
    retention_days: u32,
    backup_window: Option<(u32, u32)>,
    port: u16,
    replica_of: Option<String>,
    created_at: Timestamp,
    /// A reboot in progress: when it ends and whether it fails over.
    reboot: Option<(Timestamp, bool)>,
    settings: DbSettings,
    /// A restore or a promotion under way: each status until its time.
    phases: Vec<(&'static str, Timestamp)>,
    /// No endpoint before this (a restore still creating the instance).
    endpoint_at: Option<Timestamp>,
    /// A promotion: replication from `replica_of` ends at this time.
    promoted_at: Option<Timestamp>,
}

/// One simulated DB snapshot; its progress follows from the time.
#[derive(Debug, Clone)]
pub(crate) struct SimSnapshot {
    pub id: String,
    pub instance: String,
    automated: bool,
    storage_gib: u32,
    started_at: Timestamp,
    done_at: Timestamp,
}

/// The RDS part of a world.
#[derive(Debug, Clone)]
pub(crate) struct Rds {
    account: String,
    region: String,
    endpoint_id: String,
    pub instances: Vec<SimDb>,
    pub snapshots: Vec<SimSnapshot>,
}

impl Rds {
    pub fn new(
        account: &str,
        region: &str,
        endpoint_id: &str,
        dbs: &[DbDesc],
        manual: &[SnapshotDesc],
        start: Timestamp,
        rng: &mut Rng,
    ) -> Self {
        let instances: Vec<SimDb> = dbs
            .iter()
            .map(|d| SimDb {
                id: d.id.clone(),
                engine: d.engine.clone(),
                engine_version: d.engine_version.clone(),
                class: d.class.clone(),
                multi_az: d.multi_az,
                az: d.az.clone(),
                secondary_az: d.secondary_az.clone(),
                storage_gib: d.storage_gib,
                storage_type: d.storage_type.clone(),
                retention_days: d.backup_retention_days,
                backup_window: d.backup_window_utc.as_deref().and_then(parse_hhmm),
                port: d.port,
                replica_of: d.replica_of.clone(),
                created_at: start - d.created_ago.delta(),
                reboot: None,
                settings: DbSettings {
                    subnet_group: d.subnet_group.clone(),
                    security_groups: d.security_groups.clone(),
                    parameter_group: d.parameter_group.clone(),
                    option_group: d.option_group.clone(),
                    deletion_protection: d.deletion_protection,
                    tags: d.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                },
                phases: Vec::new(),
                endpoint_at: None,
                promoted_at: None,
            })
            .collect();
        let mut snapshots = Vec::new();
        for s in manual {
            let storage_gib = instances
                .iter()
                .find(|i| i.id == s.instance)
                .map_or(0, |i| i.storage_gib);
            let started_at = start - s.created_ago.delta();
            snapshots.push(SimSnapshot {
                id: s.id.clone(),
                instance: s.instance.clone(),
                automated: false,
                storage_gib,
                started_at,
                done_at: started_at + TimeDelta::seconds(rng.i64(120..600)),
            });
        }
        // The automated snapshots of the retention period.
        for db in &instances {
            let Some((h, m)) = db.backup_window else {
                continue;
            };
            let Some(mut at) = start
                .with_hour(h)
                .and_then(|t| t.with_minute(m))
                .and_then(|t| t.with_second(0))
            else {
                continue;
            };
            if at > start {
                at -= TimeDelta::days(1);
            }
            for _ in 0..db.retention_days {
                let started_at = at + TimeDelta::seconds(rng.i64(60..600));
                if started_at < start {
                    snapshots.push(automated(db, started_at, rng));
                }
                at -= TimeDelta::days(1);
            }
        }
        Self {
            account: account.to_string(),
            region: region.to_string(),
            endpoint_id: endpoint_id.to_string(),
            instances,
            snapshots,
        }
    }

    /// Moves reboots, restores, promotions and the daily backup on to
    /// `now`.
    pub fn step(&mut self, now: Timestamp, rng: &mut Rng) {
        for db in &mut self.instances {
            db.phases.retain(|(_, until)| *until > now);
            if db.promoted_at.is_some_and(|t| t <= now) {
                db.promoted_at = None;
                db.replica_of = None;
            }
            if let Some((until, failover)) = db.reboot
                && until <= now
            {
                db.reboot = None;
                if failover && let Some(secondary) = db.secondary_az.take() {
                    db.secondary_az = Some(std::mem::replace(&mut db.az, secondary));
                }
            }
            let Some((h, m)) = db.backup_window else {
                continue;
            };
            if db.retention_days > 0 && now.hour() == h && now.minute() == m && now.second() == 0 {
                let keep_from = now - TimeDelta::days(i64::from(db.retention_days));
                self.snapshots
                    .retain(|s| !(s.automated && s.instance == db.id && s.started_at < keep_from));
                self.snapshots.push(automated(db, now, rng));
            }
        }
    }

    /// Whether the instance at `index` is rebooting (it publishes nothing).
    pub fn rebooting(&self, index: usize, now: Timestamp) -> bool {
        self.instances
            .get(index)
            .and_then(|d| d.reboot)
            .is_some_and(|(until, _)| until > now)
    }

    /// The status RDS would report.
    pub(crate) fn status(&self, db: &SimDb, now: Timestamp) -> &'static str {
        if let Some((status, _)) = db.phases.iter().find(|(_, until)| *until > now) {
            status
        } else if db.reboot.is_some_and(|(until, _)| until > now) {
            "rebooting"
        } else if self
            .snapshots
            .iter()
            .any(|s| s.instance == db.id && s.done_at > now)
        {
            "backing-up"
        } else {
            "available"
        }
    }

    pub fn instances(&self, ids: &[String], now: Timestamp) -> BackendResult<Vec<DbInstance>> {
        for id in ids {
            self.find(id)?;
        }
        Ok(self
            .instances
            .iter()
            .filter(|d| ids.is_empty() || ids.contains(&d.id))
            .map(|d| self.instance_to_domain(d, now))
            .collect())
    }

    /// Snapshots of the given instances (all when empty), newest first.
    pub fn snapshots(&self, instance_ids: &[String], now: Timestamp) -> Vec<DbSnapshot> {
        let mut out: Vec<&SimSnapshot> = self
            .snapshots
            .iter()
            .filter(|s| s.started_at <= now)
            .filter(|s| instance_ids.is_empty() || instance_ids.contains(&s.instance))
            .collect();
        out.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.id.cmp(&b.id)));
        out.into_iter()
            .map(|s| self.snapshot_to_domain(s, now))
            .collect()
    }

    pub fn create_snapshot(
        &mut self,
        instance_id: &str,
        snapshot_id: &str,
        now: Timestamp,
        rng: &mut Rng,
    ) -> BackendResult<DbSnapshot> {
        let db = self.find(instance_id)?;
        check_snapshot_id(snapshot_id)?;
        if self.snapshots.iter().any(|s| s.id == snapshot_id) {
            return Err(BackendError::Invalid {
                message: format!(
                    "DBSnapshotAlreadyExists: Cannot create the snapshot because a snapshot \
                     with the identifier {snapshot_id} already exists."
                ),
            });
        }
        if self.status(db, now) != "available" {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidDBInstanceState: Cannot create a snapshot because the database \
                     instance {instance_id} is not currently in the available state."
                ),
            });
        }
        let snapshot = SimSnapshot {
            id: snapshot_id.to_string(),
            instance: instance_id.to_string(),
            automated: false,
            storage_gib: db.storage_gib,
            started_at: now,
            done_at: now + TimeDelta::seconds(rng.i64(30..=90)),
        };
        let out = self.snapshot_to_domain(&snapshot, now);
        self.snapshots.push(snapshot);
        Ok(out)
    }

    pub fn reboot(
        &mut self,
        instance_id: &str,
        force_failover: bool,
        now: Timestamp,
        rng: &mut Rng,
    ) -> BackendResult<DbInstance> {
        let db = self.find(instance_id)?;
        if force_failover && !db.multi_az {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidParameterCombination: Cannot reboot with failover: DB instance \
                     {instance_id} is not a Multi-AZ deployment."
                ),
            });
        }
        if self.status(db, now) != "available" {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidDBInstanceState: DB instance {instance_id} is not in the available \
                     state."
                ),
            });
        }
        let until = now + TimeDelta::seconds(rng.i64(20..=40));
        let Some(db) = self.instances.iter_mut().find(|d| d.id == instance_id) else {
            return Err(not_found(instance_id));
        };
        db.reboot = Some((until, force_failover));
        let db = db.clone();
        Ok(self.instance_to_domain(&db, now))
    }

    /// RestoreDBInstanceFromDBSnapshot / RestoreDBInstanceToPointInTime:
    /// a new instance, `creating` for realistic minutes (a fifth of them in
    /// a drill), then `backing-up`, then available with its endpoint.
    pub fn restore(
        &mut self,
        restore: &DbRestore,
        now: Timestamp,
        fast: bool,
        rng: &mut Rng,
    ) -> BackendResult<DbInstance> {
        let target = restore.target.as_str();
        check_instance_id(target)?;
        if self.instances.iter().any(|d| d.id == target) {
            return Err(BackendError::Invalid {
                message: "DBInstanceAlreadyExists: DB instance already exists".to_string(),
            });
        }
        let (source, storage_gib, minutes) = match &restore.from {
            RestoreFrom::Snapshot(id) => {
                let snap = self
                    .snapshots
                    .iter()
                    .find(|s| &s.id == id && s.started_at <= now)
                    .ok_or_else(|| BackendError::NotFound {
                        resource: format!("DB snapshot {id}"),
                    })?;
                if snap.done_at > now {
                    return Err(BackendError::Invalid {
                        message: format!(
                            "InvalidDBSnapshotState: Snapshot {id} is not in the available state."
                        ),
                    });
                }
                (self.find(&snap.instance)?, snap.storage_gib, (6, 10))
            }
            RestoreFrom::PointInTime { source, time } => {
                let db = self.find(source)?;
                if db.retention_days == 0 {
                    return Err(BackendError::Invalid {
                        message: format!(
                            "PointInTimeRestoreNotEnabled: Point-in-time restore is not enabled                              for DB instance {source} (backup retention is 0)."
                        ),
                    });
                }
                if let Some(t) = time {
                    let latest = latest_restorable(now);
                    let earliest = now - TimeDelta::days(i64::from(db.retention_days));
                    if *t > latest || *t < earliest {
                        return Err(BackendError::Invalid {
                            message: format!(
                                "InvalidRestoreFault: The restore time {} is not within the                                  restorable window of {source} ({} to {}).",
                                t.format("%Y-%m-%dT%H:%M:%SZ"),
                                earliest.format("%Y-%m-%dT%H:%M:%SZ"),
                                latest.format("%Y-%m-%dT%H:%M:%SZ")
                            ),
                        });
                    }
                }
                (db, db.storage_gib, (8, 12))
            }
        };
        let scale = |secs: i64| if fast { (secs / 5).max(10) } else { secs };
        let creating = now + TimeDelta::seconds(scale(rng.i64(minutes.0 * 60..=minutes.1 * 60)));
        let backing_up = creating + TimeDelta::seconds(scale(rng.i64(60..=180)));
        let st = &restore.settings;
        let secondary_az = st.multi_az.then(|| {
            source
                .secondary_az
                .clone()
                .unwrap_or_else(|| source.az.clone())
        });
        let db = SimDb {
            id: target.to_string(),
            engine: source.engine.clone(),
            engine_version: source.engine_version.clone(),
            class: st.class.clone(),
            multi_az: st.multi_az,
            az: source.az.clone(),
            secondary_az,
            storage_gib,
            storage_type: st
                .storage_type
                .clone()
                .unwrap_or_else(|| source.storage_type.clone()),
            retention_days: source.retention_days.max(1),
            backup_window: source.backup_window,
            port: source.port,
            replica_of: None,
            created_at: now,
            reboot: None,
            settings: DbSettings {
                subnet_group: st.subnet_group.clone(),
                security_groups: st.security_groups.clone(),
                parameter_group: st
                    .parameter_group
                    .clone()
                    .or_else(|| Some(format!("default.{}{}", source.engine, major(source)))),
                option_group: st
                    .option_group
                    .clone()
                    .or_else(|| Some(format!("default:{}-{}", source.engine, major(source)))),
                deletion_protection: st.deletion_protection,
                tags: st.tags.clone(),
            },
            phases: vec![("creating", creating), ("backing-up", backing_up)],
            endpoint_at: Some(creating),
            promoted_at: None,
        };
        let out = self.instance_to_domain(&db, now);
        self.instances.push(db);
        Ok(out)
    }

    /// PromoteReadReplica: `modifying`, then `rebooting`, then a standalone
    /// instance (replication from its source ends with the reboot).
    pub fn promote(
        &mut self,
        instance_id: &str,
        now: Timestamp,
        fast: bool,
        rng: &mut Rng,
    ) -> BackendResult<DbInstance> {
        let db = self.find(instance_id)?;
        if db.replica_of.is_none() {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidDBInstanceState: DB instance {instance_id} is not a read replica."
                ),
            });
        }
        if self.status(db, now) != "available" {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidDBInstanceState: DB instance {instance_id} is not in the available                      state."
                ),
            });
        }
        let scale = |secs: i64| if fast { (secs / 3).max(10) } else { secs };
        let modifying = now + TimeDelta::seconds(scale(rng.i64(60..=120)));
        let rebooting = modifying + TimeDelta::seconds(scale(rng.i64(30..=60)));
        let Some(db) = self.instances.iter_mut().find(|d| d.id == instance_id) else {
            return Err(not_found(instance_id));
        };
        db.phases = vec![("modifying", modifying), ("rebooting", rebooting)];
        db.promoted_at = Some(rebooting);
        // AWS turns automated backups on for a promoted replica (1 day by
        // default).
        db.retention_days = db.retention_days.max(1);
        let db = db.clone();
        Ok(self.instance_to_domain(&db, now))
    }

    fn find(&self, id: &str) -> BackendResult<&SimDb> {
        self.instances
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| not_found(id))
    }

    fn instance_to_domain(&self, d: &SimDb, now: Timestamp) -> DbInstance {
        let restorable = (d.retention_days > 0 && d.phases.is_empty())
            .then(|| latest_restorable(now).max(d.created_at));
        DbInstance {
            id: d.id.clone(),
            arn: format!("arn:aws:rds:{}:{}:db:{}", self.region, self.account, d.id),
            engine: d.engine.clone(),
            engine_version: d.engine_version.clone(),
            class: d.class.clone(),
            status: self.status(d, now).to_string(),
            multi_az: d.multi_az,
            availability_zone: Some(d.az.clone()),
            secondary_availability_zone: d.secondary_az.clone(),
            allocated_storage_gib: d.storage_gib,
            storage_type: Some(d.storage_type.clone()),
            backup_retention_days: d.retention_days,
            endpoint: d.endpoint_at.is_none_or(|t| t <= now).then(|| {
                format!(
                    "{}.{}.{}.rds.amazonaws.com",
                    d.id, self.endpoint_id, self.region
                )
            }),
            port: d.endpoint_at.is_none_or(|t| t <= now).then_some(d.port),
            replica_source: d.replica_of.clone(),
            replicas: self
                .instances
                .iter()
                .filter(|r| r.replica_of.as_deref() == Some(d.id.as_str()))
                .map(|r| r.id.clone())
                .collect(),
            pending_modifications: Vec::new(),
            latest_restorable_time: restorable,
            created_at: Some(d.created_at),
            settings: d.settings.clone(),
        }
    }

    fn snapshot_to_domain(&self, s: &SimSnapshot, now: Timestamp) -> DbSnapshot {
        let (status, progress) = if now >= s.done_at {
            ("available", 100)
        } else {
            let total = (s.done_at - s.started_at).num_milliseconds().max(1);
            let done = (now - s.started_at).num_milliseconds().max(0);
            ("creating", (done * 100 / total).clamp(0, 99) as u8)
        };
        DbSnapshot {
            id: s.id.clone(),
            arn: format!(
                "arn:aws:rds:{}:{}:snapshot:{}",
                self.region, self.account, s.id
            ),
            instance_id: s.instance.clone(),
            snapshot_type: if s.automated { "automated" } else { "manual" }.to_string(),
            status: status.to_string(),
            percent_progress: Some(progress),
            allocated_storage_gib: s.storage_gib,
            created_at: Some(s.started_at),
        }
    }
}

fn automated(db: &SimDb, started_at: Timestamp, rng: &mut Rng) -> SimSnapshot {
    SimSnapshot {
        id: format!("rds:{}-{}", db.id, started_at.format("%Y-%m-%d-%H-%M")),
        instance: db.id.clone(),
        automated: true,
        storage_gib: db.storage_gib,
        started_at,
        done_at: started_at + TimeDelta::seconds(rng.i64(60..=180)),
    }
}

/// The latest restorable time: RDS uploads transaction logs every five
/// minutes.
fn latest_restorable(now: Timestamp) -> Timestamp {
    let t = now.timestamp();
    DateTime::from_timestamp(t - t.rem_euclid(300), 0).unwrap_or(now)
}

/// The major version of an instance's engine, as default group names
/// spell it (`16.4` → `16`).
fn major(db: &SimDb) -> &str {
    db.engine_version
        .split('.')
        .next()
        .unwrap_or(&db.engine_version)
}

/// RDS DB instance identifier rules: 1 to 63 letters, digits and hyphens,
/// starting with a letter, no two hyphens in a row, not ending with one.
fn check_instance_id(id: &str) -> BackendResult<()> {
    if crate::ops::valid_instance_identifier(id) {
        Ok(())
    } else {
        Err(BackendError::Invalid {
            message: format!(
                "InvalidParameterValue: The parameter DBInstanceIdentifier is not a valid \
                 identifier ({id:?}). Identifiers must begin with a letter; must contain only \
                 ASCII letters, digits, and hyphens; and must not end with a hyphen or contain \
                 two consecutive hyphens (at most 63 characters)."
            ),
        })
    }
}

fn not_found(id: &str) -> BackendError {
    BackendError::NotFound {
        resource: format!("DB instance {id}"),
    }
}

/// RDS identifier rules: 1 to 255 letters, digits and hyphens, starting with
/// a letter, no two hyphens in a row, not ending with a hyphen.
fn check_snapshot_id(id: &str) -> BackendResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    if ok {
        Ok(())
    } else {
        Err(BackendError::Invalid {
            message: format!(
                "InvalidParameterValue: The parameter DBSnapshotIdentifier is not a valid \
                 identifier ({id:?}). Identifiers must begin with a letter; must contain only \
                 ASCII letters, digits, and hyphens; and must not end with a hyphen or contain \
                 two consecutive hyphens."
            ),
        })
    }
}
