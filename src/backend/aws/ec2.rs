//! EC2: the environment's instances (every page of DescribeInstances) with
//! their status checks (DescribeInstanceStatus, 100 ids a call, in
//! parallel).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_ec2::types::{self as t, Filter};
use futures_util::future::try_join_all;

use super::AwsBackend;
use super::convert::{opt_string, opt_time, string};
use crate::backend::{BackendResult, Ec2, Ec2Changes};
use crate::domain::{CheckStatus, Instance, InstanceFilter, PowerAction};

#[async_trait]
impl Ec2 for AwsBackend {
    async fn instances(&self, filter: &InstanceFilter) -> BackendResult<Vec<Instance>> {
        instances(self, filter).await
    }
}

#[async_trait]
impl Ec2Changes for AwsBackend {
    async fn reboot_instance(&self, id: &str) -> BackendResult<Instance> {
        power(self, id, PowerAction::Reboot).await
    }
    async fn stop_instance(&self, id: &str) -> BackendResult<Instance> {
        power(self, id, PowerAction::Stop).await
    }
    async fn start_instance(&self, id: &str) -> BackendResult<Instance> {
        power(self, id, PowerAction::Start).await
    }
}

/// RebootInstances, StopInstances or StartInstances of one instance, sent
/// once (no SDK retry), then the instance read back with DescribeInstances
/// and DescribeInstanceStatus. Once the call was accepted it is reported
/// as accepted: a read-back that fails answers the instance as the change's
/// own answer left it (`stopping`, `pending`; a reboot: `running`), its
/// checks not known, and the watch reads the rest.
pub async fn power(b: &AwsBackend, id: &str, action: PowerAction) -> BackendResult<Instance> {
    let ids = Some(vec![id.to_string()]);
    let ec2 = &b.clients.ec2;
    let state_of = |changes: &[aws_sdk_ec2::types::InstanceStateChange]| {
        changes
            .iter()
            .find(|c| c.instance_id() == Some(id))
            .and_then(|c| c.current_state())
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
    };
    let answered = match action {
        PowerAction::Reboot => {
            b.call(
                "ec2",
                "RebootInstances",
                ec2.reboot_instances()
                    .set_instance_ids(ids)
                    .customize()
                    .config_override(super::once!(aws_sdk_ec2))
                    .send(),
            )
            .await?;
            Some("running".to_string())
        }
        PowerAction::Stop => {
            let out = b
                .call(
                    "ec2",
                    "StopInstances",
                    ec2.stop_instances()
                        .set_instance_ids(ids)
                        .customize()
                        .config_override(super::once!(aws_sdk_ec2))
                        .send(),
                )
                .await?;
            state_of(out.stopping_instances())
        }
        PowerAction::Start => {
            let out = b
                .call(
                    "ec2",
                    "StartInstances",
                    ec2.start_instances()
                        .set_instance_ids(ids)
                        .customize()
                        .config_override(super::once!(aws_sdk_ec2))
                        .send(),
                )
                .await?;
            state_of(out.starting_instances())
        }
    };
    let filter = InstanceFilter {
        ids: vec![id.to_string()],
        tags: BTreeMap::new(),
    };
    let why = match instances(b, &filter).await {
        Ok(found) => match found.into_iter().find(|i| i.id == id) {
            Some(i) => return Ok(i),
            None => "DescribeInstances does not list it".to_string(),
        },
        Err(e) => e.to_string(),
    };
    tracing::warn!(
        instance = id,
        call = action.api(),
        "accepted, but the instance could not be read back: {why}"
    );
    Ok(Instance {
        id: id.to_string(),
        name: None,
        state: answered.unwrap_or_else(|| format!("{} accepted", action.api())),
        instance_type: String::new(),
        availability_zone: None,
        private_ip: None,
        launched_at: None,
        system_status: CheckStatus::InsufficientData,
        instance_status: CheckStatus::InsufficientData,
    })
}

/// The largest page of DescribeInstances.
pub const PAGE: i32 = 1000;

/// The most instance ids one DescribeInstanceStatus may name.
pub const STATUS_BATCH: usize = 100;

/// Every state but `terminated`: a terminated instance is gone (EC2 lists
/// it for about an hour), and a tag filter would show an Auto Scaling
/// group's replaced hosts as failing.
const LIVE_STATES: [&str; 5] = ["pending", "running", "shutting-down", "stopping", "stopped"];

/// The API filters of `f`: ids by the `instance-id` filter (an id that
/// does not exist is then left out, not an error for the whole call), each
/// tag by `tag:KEY`.
fn filters(f: &InstanceFilter) -> Vec<Filter> {
    let mut out = vec![
        Filter::builder()
            .name("instance-state-name")
            .set_values(Some(LIVE_STATES.iter().map(ToString::to_string).collect()))
            .build(),
    ];
    if !f.ids.is_empty() {
        out.push(
            Filter::builder()
                .name("instance-id")
                .set_values(Some(f.ids.clone()))
                .build(),
        );
    }
    for (key, value) in &f.tags {
        out.push(
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value.clone())
                .build(),
        );
    }
    out
}

pub async fn instances(b: &AwsBackend, f: &InstanceFilter) -> BackendResult<Vec<Instance>> {
    if f.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = b
            .call(
                "ec2",
                "DescribeInstances",
                b.clients
                    .ec2
                    .describe_instances()
                    .set_filters(Some(filters(f)))
                    .max_results(PAGE)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        out.extend(
            page.reservations()
                .iter()
                .flat_map(t::Reservation::instances)
                .map(instance),
        );
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // A server that ignores a filter still must not widen the scope.
    out.retain(|(i, tags)| f.matches(&i.id, tags) && i.state != "terminated");
    let mut out: Vec<Instance> = out.into_iter().map(|(i, _)| i).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));

    let ids: Vec<String> = out.iter().map(|i| i.id.clone()).collect();
    let checks = statuses(b, &ids).await?;
    for i in &mut out {
        if let Some((system, own)) = checks.get(&i.id) {
            i.system_status = *system;
            i.instance_status = *own;
        }
    }
    Ok(out)
}

/// The status checks of `ids`: DescribeInstanceStatus with
/// IncludeAllInstances (a stopped instance answers `not-applicable`), 100
/// ids a call, the calls in parallel.
async fn statuses(
    b: &AwsBackend,
    ids: &[String],
) -> BackendResult<HashMap<String, (CheckStatus, CheckStatus)>> {
    let batches = ids.chunks(STATUS_BATCH).map(|batch| async move {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = b
                .call(
                    "ec2",
                    "DescribeInstanceStatus",
                    b.clients
                        .ec2
                        .describe_instance_status()
                        .set_instance_ids(Some(batch.to_vec()))
                        .include_all_instances(true)
                        .set_next_token(token.clone())
                        .send(),
                )
                .await?;
            found.extend(page.instance_statuses().iter().map(|s| {
                (
                    string(s.instance_id()),
                    (summary(s.system_status()), summary(s.instance_status())),
                )
            }));
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        BackendResult::Ok(found)
    });
    Ok(try_join_all(batches).await?.into_iter().flatten().collect())
}

fn summary(s: Option<&t::InstanceStatusSummary>) -> CheckStatus {
    s.and_then(t::InstanceStatusSummary::status)
        .map_or(CheckStatus::InsufficientData, |v| {
            CheckStatus::parse(v.as_str())
        })
}

/// An instance and its tags (for the scope check).
fn instance(i: &t::Instance) -> (Instance, BTreeMap<String, String>) {
    let tags: BTreeMap<String, String> = i
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect();
    (
        Instance {
            id: string(i.instance_id()),
            name: tags.get("Name").cloned(),
            state: i
                .state()
                .and_then(t::InstanceState::name)
                .map_or_else(String::new, |n| n.as_str().to_string()),
            instance_type: i
                .instance_type()
                .map_or_else(String::new, |t| t.as_str().to_string()),
            availability_zone: i
                .placement()
                .and_then(|p| opt_string(p.availability_zone())),
            private_ip: opt_string(i.private_ip_address()),
            launched_at: opt_time(i.launch_time()),
            // Read by DescribeInstanceStatus next; unanswered: not known.
            system_status: CheckStatus::InsufficientData,
            instance_status: CheckStatus::InsufficientData,
        },
        tags,
    )
}
