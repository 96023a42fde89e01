//! The AWS SDK backend against moto on loopback, through the proxy that
//! enforces the real API page sizes and batch limits, counts requests and
//! injects faults (tests/moto/proxy.py). Each test has its own moto account
//! ([`fixture::MotoAccount`]).
//!
//! Every mutating call of the backend is proven here: the proxy counts and
//! decodes what was sent (exactly one request of exactly the expected
//! operation, with the expected parameters) and the effect is read back,
//! through the backend's own reads or raw from moto with boto3.
//!
//! One test binary (`cargo test --test aws`), a module a subject.

#[path = "../support/mod.rs"]
mod support;

mod fixture;
mod ui;

mod activity;
mod changes;
mod cloudfront;
mod clusters;
mod codedeploy;
mod ec2;
mod elasticache;
mod exec;
mod images;
mod logs;
mod metrics;
mod operations;
mod reads;
mod status;
mod timeline;
mod unanswered;

/// What the modules of this binary use.
mod prelude {
    pub use std::collections::BTreeMap;
    pub use std::time::Duration;

    pub use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    pub use honban::action::{Action, Resource};
    pub use honban::app::App;
    pub use honban::audit::{AuditLog, Outcome, Phase, Record};
    pub use honban::backend::aws::{AwsBackend, ConnectOptions};
    pub use honban::backend::{Backend, BackendError, ImageChange, ServiceUpdate};
    pub use honban::clock::Clock;
    pub use honban::config::{ClusterConfig, Config, EnvironmentConfig};
    pub use honban::domain::{AlarmState, DbRole, Service};
    pub use honban::ops::Operation;
    pub use honban::runner::EnvRuntime;
    pub use honban::state::{Dialog, EnvState, Mode, State};
    pub use honban::watch::{Activity, OpStatus};
    pub use serde_json::json;

    pub use crate::fixture::*;
    pub use crate::support::moto::{Json, Moto};
    pub use crate::ui::*;
}
