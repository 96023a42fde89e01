//! The simulated EC2 hosts: their state as described, their status checks
//! ok unless the incident they suffer from is under way (the instance
//! status check impaired: the host no longer answers).

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::SimBackend;
use super::world::InstanceDesc;
use crate::backend::{BackendResult, Ec2};
use crate::domain::{CheckStatus, Instance, InstanceFilter, Timestamp};

/// One simulated EC2 instance.
#[derive(Debug, Clone)]
pub(crate) struct SimInstance {
    instance: Instance,
    tags: BTreeMap<String, String>,
    impaired_during: Option<String>,
}

impl SimInstance {
    pub fn new(d: &InstanceDesc, start: Timestamp) -> Self {
        let running = d.state == "running";
        let checks = if running {
            CheckStatus::Ok
        } else {
            CheckStatus::NotApplicable
        };
        Self {
            instance: Instance {
                id: d.id.clone(),
                name: d.tags.get("Name").cloned(),
                state: d.state.clone(),
                instance_type: d.instance_type.clone(),
                availability_zone: Some(d.az.clone()),
                private_ip: Some(d.private_ip.clone()),
                // EC2 keeps a stopped instance's last launch time.
                launched_at: Some(start - d.launched_ago.delta()),
                system_status: checks,
                instance_status: checks,
            },
            tags: d.tags.clone(),
            impaired_during: d.impaired_during.clone(),
        }
    }

    /// As DescribeInstances and DescribeInstanceStatus answer it while
    /// `incident` is under way.
    fn answer(&self, incident: Option<&str>) -> Instance {
        let mut i = self.instance.clone();
        if i.state == "running" && incident.is_some() && incident == self.impaired_during.as_deref()
        {
            i.instance_status = CheckStatus::Impaired;
        }
        i
    }
}

#[async_trait]
impl Ec2 for SimBackend {
    async fn instances(&self, filter: &InstanceFilter) -> BackendResult<Vec<Instance>> {
        self.gate()?;
        Ok(self.with(|w| {
            let incident = w.incident_now();
            let mut out: Vec<Instance> = w
                .ec2
                .iter()
                .filter(|i| filter.matches(&i.instance.id, &i.tags))
                .map(|i| i.answer(incident))
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            out
        }))
    }
}
