//! Effects: the work `update` asks for, carried out on tokio tasks by the
//! [`runner`](crate::runner). Their results come back as actions.

use crate::action::Resource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Fetch one resource kind of an environment.
    Fetch {
        env: usize,
        resource: Resource,
        generation: u64,
    },
    /// Fetch the target groups (and their targets' health) of the services.
    FetchTargets {
        env: usize,
        generation: u64,
        arns: Vec<String>,
    },
    /// Fetch a task definition by ARN (once: they are immutable).
    FetchTaskDefinition { env: usize, arn: String },
    /// Fetch the revision list of a task-definition family.
    FetchRevisions {
        env: usize,
        family: String,
        generation: u64,
    },
    /// Leave the console.
    Quit,
}
