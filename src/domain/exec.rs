//! An ECS Exec session as `ExecuteCommand` opened it (what the plugin
//! needs; its arguments are built in [`crate::exec`]).

use std::fmt;

/// The session `ExecuteCommand` opened, and where it was opened: what the
/// plugin needs. `Debug` leaves the token out: it lets anyone holding it
/// into the container until the session ends.
#[derive(Clone, PartialEq, Eq)]
pub struct ExecSession {
    pub cluster_arn: String,
    pub task_arn: String,
    pub container: String,
    /// The container's runtime id (from DescribeTasks): with the cluster
    /// and task ids, the session's target.
    pub runtime_id: String,
    pub session_id: String,
    pub stream_url: String,
    pub token_value: String,
    /// The region the call was made in.
    pub region: String,
    /// The AWS profile of the environment ("" for none, as the CLI passes).
    pub profile: String,
    /// The Systems Manager endpoint the plugin talks to (its own SSM calls:
    /// ending or resuming the session).
    pub ssm_endpoint: String,
}

impl fmt::Debug for ExecSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecSession")
            .field("task_arn", &self.task_arn)
            .field("container", &self.container)
            .field("session_id", &self.session_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The Systems Manager endpoint of a region (or the configured endpoint,
/// for an emulator).
pub fn ssm_endpoint(region: &str, endpoint_url: Option<&str>) -> String {
    match endpoint_url {
        Some(url) => url.to_string(),
        None if region.starts_with("cn-") => format!("https://ssm.{region}.amazonaws.com.cn"),
        None => format!("https://ssm.{region}.amazonaws.com"),
    }
}
