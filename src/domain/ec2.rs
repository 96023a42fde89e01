//! EC2 instances (`DescribeInstances` with `DescribeInstanceStatus`) and
//! which instances an environment is made of.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Identified, Timestamp};

/// Which EC2 instances belong to an environment: by id, by tags, or both
/// (an instance must then match both, as `DescribeInstances` filters do).
/// Empty: the environment has no EC2 hosts and none are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceFilter {
    /// Instance ids (`i-0123456789abcdef0`).
    pub ids: Vec<String>,
    /// Tag key → value; the value may use EC2's wildcards `*` and `?`
    /// (`Name = "app-*"`). Every tag must match.
    pub tags: BTreeMap<String, String>,
}

impl InstanceFilter {
    /// Whether it selects nothing at all (no EC2 configured).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.tags.is_empty()
    }

    /// Whether an instance with this id and these tags is selected, as the
    /// API's filters select (ids exactly, tag values with `*` and `?`).
    pub fn matches(&self, id: &str, tags: &BTreeMap<String, String>) -> bool {
        if self.is_empty() {
            return false;
        }
        (self.ids.is_empty() || self.ids.iter().any(|i| i == id))
            && self.tags.iter().all(|(k, pattern)| {
                tags.get(k)
                    .is_some_and(|v| wildcard(pattern.as_bytes(), v.as_bytes()))
            })
    }
}

/// EC2's filter wildcards: `*` any run of characters, `?` one.
fn wildcard(pattern: &[u8], value: &[u8]) -> bool {
    match pattern.split_first() {
        None => value.is_empty(),
        Some((b'*', rest)) => (0..=value.len()).any(|i| wildcard(rest, &value[i..])),
        Some((b'?', rest)) => !value.is_empty() && wildcard(rest, &value[1..]),
        Some((c, rest)) => value.first() == Some(c) && wildcard(rest, &value[1..]),
    }
}

/// One EC2 instance with its status checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// `i-0123456789abcdef0`.
    pub id: String,
    /// Its `Name` tag.
    pub name: Option<String>,
    /// As EC2 spells it: `pending`, `running`, `stopping`, `stopped`,
    /// `shutting-down`, `terminated`.
    pub state: String,
    /// `t3.medium`, ...
    pub instance_type: String,
    pub availability_zone: Option<String>,
    pub private_ip: Option<String>,
    pub launched_at: Option<Timestamp>,
    /// The system status check (AWS's side: host, network, power).
    pub system_status: CheckStatus,
    /// The instance status check (the instance's own OS and network).
    pub instance_status: CheckStatus,
}

impl Identified for Instance {}

/// A change of an instance's power: EC2 `RebootInstances`,
/// `StopInstances` or `StartInstances` of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerAction {
    Reboot,
    Stop,
    Start,
}

impl PowerAction {
    /// The API call, `ec2:<Operation>`.
    pub fn api(self) -> &'static str {
        match self {
            Self::Reboot => "ec2:RebootInstances",
            Self::Stop => "ec2:StopInstances",
            Self::Start => "ec2:StartInstances",
        }
    }

    /// The verb, lower case: `reboot`, `stop`, `start`.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Reboot => "reboot",
            Self::Stop => "stop",
            Self::Start => "start",
        }
    }

    /// The state the instance ends in: `running` (checks ok) or `stopped`.
    pub fn end_state(self) -> &'static str {
        match self {
            Self::Reboot | Self::Start => "running",
            Self::Stop => "stopped",
        }
    }

    /// Why it makes no sense on an instance in `state`, if it does not: a
    /// running host is not started, a stopped one not stopped or
    /// rebooted, one changing state waits for the change to end.
    pub fn refusal(self, state: &str) -> Option<String> {
        match (self, state) {
            (Self::Reboot | Self::Stop, "running") | (Self::Start, "stopped") => None,
            (Self::Start, "running" | "pending") => {
                Some(format!("it is already {state}: nothing to start"))
            }
            (Self::Stop, "stopped" | "stopping") => {
                Some(format!("it is already {state}: nothing to stop"))
            }
            (Self::Reboot, "stopped" | "stopping") => Some(format!(
                "it is {state}: a stopped host is started, not rebooted"
            )),
            (_, "shutting-down" | "terminated") => {
                Some(format!("it is {state}: it is going away for good"))
            }
            (_, other) => Some(format!(
                "it is {other}: wait until it is {}",
                if self == Self::Start {
                    "stopped"
                } else {
                    "running"
                }
            )),
        }
    }
}

/// A status check's result, as `DescribeInstanceStatus` spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Ok,
    Impaired,
    Initializing,
    InsufficientData,
    /// Not checked: the instance is not running.
    #[default]
    NotApplicable,
}

impl CheckStatus {
    /// From the API's word; an unknown word is insufficient data.
    pub fn parse(s: &str) -> Self {
        match s {
            "ok" => Self::Ok,
            "impaired" => Self::Impaired,
            "initializing" => Self::Initializing,
            "not-applicable" => Self::NotApplicable,
            _ => Self::InsufficientData,
        }
    }

    /// The API's word.
    pub fn word(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Impaired => "impaired",
            Self::Initializing => "initializing",
            Self::InsufficientData => "insufficient-data",
            Self::NotApplicable => "not-applicable",
        }
    }
}

/// What an instance amounts to for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstanceHealth {
    /// Running with both checks ok.
    Ok,
    /// Starting, stopping, its checks initializing or without data.
    Degraded,
    /// A check impaired, or stopped (or going away) while it is meant to
    /// serve: every selected instance is.
    Failing,
}

impl Instance {
    /// Its health: a check impaired or the instance not running is
    /// failing (every instance of an environment is meant to run); a
    /// change of state under way or checks not yet known, degraded.
    pub fn health(&self) -> InstanceHealth {
        let impaired = self.system_status == CheckStatus::Impaired
            || self.instance_status == CheckStatus::Impaired;
        match self.state.as_str() {
            _ if impaired => InstanceHealth::Failing,
            "running"
                if self.system_status == CheckStatus::Ok
                    && self.instance_status == CheckStatus::Ok =>
            {
                InstanceHealth::Ok
            }
            "running" | "pending" | "stopping" => InstanceHealth::Degraded,
            _ => InstanceHealth::Failing,
        }
    }

    /// The two checks as the EC2 console sums them: `2/2 ok`, `1/2 ok`,
    /// `initializing`, `-` when the instance is not running.
    pub fn checks_summary(&self) -> String {
        let both = [self.system_status, self.instance_status];
        if both.iter().all(|c| *c == CheckStatus::NotApplicable) {
            return "-".to_string();
        }
        if both.contains(&CheckStatus::Initializing) {
            return "initializing".to_string();
        }
        let ok = both.iter().filter(|c| **c == CheckStatus::Ok).count();
        format!("{ok}/2 ok")
    }

    /// The Name tag, else the id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(state: &str, system: CheckStatus, own: CheckStatus) -> Instance {
        Instance {
            id: "i-1".to_string(),
            name: None,
            state: state.to_string(),
            instance_type: "t3.small".to_string(),
            availability_zone: None,
            private_ip: None,
            launched_at: None,
            system_status: system,
            instance_status: own,
        }
    }

    #[test]
    fn health_follows_state_and_checks() {
        use CheckStatus as C;
        use InstanceHealth as H;
        assert_eq!(instance("running", C::Ok, C::Ok).health(), H::Ok);
        assert_eq!(instance("running", C::Ok, C::Impaired).health(), H::Failing);
        assert_eq!(instance("running", C::Impaired, C::Ok).health(), H::Failing);
        assert_eq!(
            instance("running", C::Initializing, C::Initializing).health(),
            H::Degraded
        );
        assert_eq!(
            instance("pending", C::NotApplicable, C::NotApplicable).health(),
            H::Degraded
        );
        assert_eq!(
            instance("stopped", C::NotApplicable, C::NotApplicable).health(),
            H::Failing
        );
        assert_eq!(
            instance("running", C::Ok, C::Impaired).checks_summary(),
            "1/2 ok"
        );
        assert_eq!(
            instance("stopped", C::NotApplicable, C::NotApplicable).checks_summary(),
            "-"
        );
        assert_eq!(CheckStatus::parse("insufficient-data"), C::InsufficientData);
        assert_eq!(C::InsufficientData.word(), "insufficient-data");
    }

    #[test]
    fn a_filter_matches_ids_and_tag_wildcards() {
        let tags: BTreeMap<String, String> = [("Name".to_string(), "app-1".to_string())].into();
        let by_tag = InstanceFilter {
            ids: Vec::new(),
            tags: [("Name".to_string(), "app-*".to_string())].into(),
        };
        assert!(by_tag.matches("i-1", &tags));
        assert!(!by_tag.matches("i-1", &BTreeMap::new()));
        let by_id = InstanceFilter {
            ids: vec!["i-2".to_string()],
            tags: BTreeMap::new(),
        };
        assert!(!by_id.matches("i-1", &tags));
        assert!(by_id.matches("i-2", &BTreeMap::new()));
        assert!(!InstanceFilter::default().matches("i-1", &tags));
        assert!(wildcard(b"a?p-*", b"app-web-1"));
        assert!(!wildcard(b"app-?", b"app-10"));
    }
}
