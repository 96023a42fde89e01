//! The set-up every test repeats: a moto account of the test's own, seeded
//! (or empty), and the AWS backend, the console or `honban status` pointed
//! at it through the proxy; and the proxy's counts and moto's raw state of
//! that account, for the assertions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use honban::action::{Action, Resource};
use honban::app::App;
use honban::audit::AuditLog;
use honban::backend::aws::{AwsBackend, ConnectOptions};
use honban::clock::Clock;
use honban::config::{ClusterConfig, Config, EnvironmentConfig};
use honban::setup::Options;

use crate::support::moto::{ACCOUNT_HEADER, Json, Moto, Seeded, fresh_account};

pub const REGION: &str = "ap-northeast-1";

/// One test's own moto account: its requests counted and its faults
/// injected apart from every other test's (the tests run in parallel
/// against one shared moto).
///
/// ```ignore
/// let moto = MotoAccount::seeded("scale", &["--minimal"]);
/// let b = moto.backend().await;
/// moto.reset_counts();
/// // … a request …
/// assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
/// ```
pub struct MotoAccount {
    pub moto: &'static Moto,
    /// The 12-digit account id, sent as `x-moto-account-id`.
    pub account: String,
    /// The seed's `--name`: its cluster and its resources' prefix ("" when
    /// nothing was seeded by [`MotoAccount::seeded`]).
    pub name: String,
    /// What [`MotoAccount::seeded`] made (empty otherwise).
    pub seeded: Seeded,
}

impl MotoAccount {
    /// A fresh account with nothing in it.
    pub fn empty() -> MotoAccount {
        MotoAccount {
            moto: Moto::shared(),
            account: fresh_account(),
            name: String::new(),
            seeded: Seeded::default(),
        }
    }

    /// A fresh account seeded with `seed-moto.py --name NAME ARGS…`.
    pub fn seeded(name: &str, args: &[&str]) -> MotoAccount {
        let mut account = MotoAccount::empty();
        account.seeded = account.seed(name, args);
        account.name = name.to_string();
        account
    }

    /// Seeds one more environment (`--name NAME ARGS…`) into this account.
    pub fn seed(&self, name: &str, args: &[&str]) -> Seeded {
        let mut all = vec!["--name", name];
        all.extend_from_slice(args);
        self.moto.seed(&self.account, &all)
    }

    /// The proxy's URL, which every client of the product is pointed at.
    pub fn endpoint(&self) -> &str {
        &self.moto.endpoint
    }

    /// An environment named `name` of the seeded cluster, through the proxy.
    pub fn env(&self, name: &str) -> EnvironmentConfig {
        env_config(name, self.endpoint(), &self.name)
    }

    /// How the backend connects as this account: static keys, one attempt
    /// (so that every request counted is one the product sent), 5 s a call.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            max_attempts: 1,
            operation_timeout: Duration::from_secs(5),
            static_credentials: Some(("testing".into(), "testing".into())),
            extra_headers: vec![(ACCOUNT_HEADER.to_string(), self.account.clone())],
            ..ConnectOptions::default()
        }
    }

    /// The AWS backend of the seeded cluster.
    pub async fn backend(&self) -> AwsBackend {
        self.backend_for(&self.name).await
    }

    /// The AWS backend of `cluster`.
    pub async fn backend_for(&self, cluster: &str) -> AwsBackend {
        AwsBackend::connect(
            &env_config("test", self.endpoint(), cluster),
            self.options(),
        )
        .await
    }

    /// The console for `env` (see [`MotoAccount::console_with`]).
    pub async fn console(&self, env: EnvironmentConfig) -> Console {
        self.console_with(env, |_, _| {}, None).await
    }

    /// Builds the console for `env` the way `honban` does (so the real
    /// read-only and dry-run guards apply) and loads every view, which must
    /// load without an error. `tweak` changes the config and the options
    /// first; `audit` overrides where the audit log is written.
    pub async fn console_with(
        &self,
        env: EnvironmentConfig,
        tweak: impl FnOnce(&mut Config, &mut Options),
        audit: Option<PathBuf>,
    ) -> Console {
        let mut config: Config = toml::from_str("").expect("empty config");
        config.environments.push(env);
        let mut opts = Options {
            aws: self.options(),
            ..Options::default()
        };
        tweak(&mut config, &mut opts);
        let clock = Clock::Wall;
        let (state, runtimes) = honban::setup::build(&config, &opts, clock.clone(), "test.toml")
            .await
            .expect("setup");
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = audit.unwrap_or_else(|| dir.path().join("state/audit.jsonl"));
        let mut app =
            App::new(state, runtimes, clock).with_audit(Arc::new(AuditLog::new(audit.clone())));
        for resource in Resource::ALL {
            app.dispatch(Action::PollDue { env: 0, resource });
        }
        app.settle().await;
        let e = &app.state.envs[0];
        assert!(e.errors().is_empty(), "{:?}", e.errors());
        assert!(e.services.data.is_some() && e.databases.data.is_some());
        Console {
            app,
            audit,
            _dir: dir,
        }
    }

    /// The console for `env`, every view polled once, without asserting
    /// what loaded (for the environments whose panels are expected to fail).
    pub async fn console_as_is(&self, env: EnvironmentConfig) -> App {
        let mut config: Config = toml::from_str("").expect("empty config");
        config.environments.push(env);
        let opts = Options {
            aws: self.options(),
            ..Options::default()
        };
        let clock = Clock::Wall;
        let (state, runtimes) = honban::setup::build(&config, &opts, clock.clone(), "test.toml")
            .await
            .expect("setup");
        let mut app = App::new(state, runtimes, clock);
        app.dispatch(Action::Resize(80, 24));
        for resource in Resource::ALL {
            app.dispatch(Action::PollDue { env: 0, resource });
        }
        app.settle().await;
        app
    }

    /// `honban status` of one environment, as the binary runs it (the same
    /// `status::collect`), as this account.
    pub async fn status(&self, env: EnvironmentConfig) -> honban::status::Report {
        let mut config: Config = toml::from_str("").expect("empty config");
        config.environments.push(env);
        let opts = Options {
            aws: self.options(),
            read_only: true,
            ..Options::default()
        };
        Box::pin(honban::status::collect(
            &config,
            &opts,
            Clock::Wall,
            "test.toml",
            Duration::from_mins(1),
        ))
        .await
        .expect("setup")
    }

    // ---- the proxy: what this account sent, and faults

    /// Requests by `service:Operation` since the last reset.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.moto.counts(&self.account)
    }

    pub fn count(&self, operation: &str) -> u64 {
        self.moto.count(&self.account, operation)
    }

    pub fn reset_counts(&self) {
        self.moto.reset_counts(&self.account);
    }

    /// The mutating requests (any operation not named Describe*, List*,
    /// Get* or BatchGet*) counted since the last reset.
    pub fn mutating_counts(&self) -> BTreeMap<String, u64> {
        self.counts()
            .into_iter()
            .filter(|(op, _)| {
                op.split(':').nth(1).is_some_and(|o| {
                    !["Describe", "List", "Get", "BatchGet"]
                        .iter()
                        .any(|r| o.starts_with(r))
                })
            })
            .collect()
    }

    /// The parameters of every mutating `operation` request since the last reset.
    pub fn requests(&self, operation: &str) -> Vec<Json> {
        self.moto.requests(&self.account, operation)
    }

    /// The one `operation` request sent since the counts were reset.
    pub fn the_request(&self, operation: &str) -> Json {
        let mut sent = self.requests(operation);
        assert_eq!(sent.len(), 1, "{operation} requests: {sent:?}");
        sent.remove(0)
    }

    /// See [`Moto::inject_fault`].
    pub fn inject_fault(&self, operation: &str, kind: &str, count: u32) {
        self.moto
            .inject_fault(&self.account, operation, kind, count);
    }

    pub fn inject_hang(&self, operation: &str, seconds: f64, count: u32) {
        self.moto
            .inject_hang(&self.account, operation, seconds, count);
    }

    pub fn inject_slow(&self, operation: &str, seconds: f64, count: u32) {
        self.moto
            .inject_slow(&self.account, operation, seconds, count);
    }

    pub fn clear_faults(&self) {
        self.moto.clear_faults(&self.account);
    }

    // ---- moto itself, behind the product's back (boto3)

    /// See [`Moto::aws`].
    pub fn aws(&self, service: &str, method: &str, params: &str) -> Json {
        self.moto.aws(&self.account, service, method, params)
    }

    /// A service of the seeded cluster as moto stores it.
    /// [`MotoAccount::aws`] through the proxy.
    pub fn aws_via_proxy(&self, service: &str, method: &str, params: &str) -> Json {
        self.moto
            .aws_via_proxy(&self.account, service, method, params)
    }

    pub fn raw_service(&self, service: &str) -> Json {
        let raw = self.aws(
            "ecs",
            "describe_services",
            &format!(
                r#"{{"cluster": "{}", "services": ["{service}"]}}"#,
                self.name
            ),
        );
        raw.at("services").as_array().expect("services")[0].clone()
    }

    /// A task definition as moto stores it, with its tags
    /// (DescribeTaskDefinition with `include: TAGS`).
    pub fn raw_task_definition(&self, arn: &str) -> Json {
        self.aws(
            "ecs",
            "describe_task_definition",
            &format!(r#"{{"taskDefinition": "{arn}", "include": ["TAGS"]}}"#),
        )
    }

    pub fn set_alarm(&self, alarm: &str, state: &str) {
        self.aws(
            "cloudwatch",
            "set_alarm_state",
            &format!(
                r#"{{"AlarmName": "{alarm}", "StateValue": "{state}", "StateReason": "test"}}"#
            ),
        );
    }
}

/// An environment of `cluster` in the test region at `endpoint`.
pub fn env_config(name: &str, endpoint: &str, cluster: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        name: name.to_string(),
        region: Some(REGION.to_string()),
        endpoint_url: Some(endpoint.to_string()),
        clusters: vec![ClusterConfig {
            name: cluster.to_string(),
            services: Vec::new(),
        }],
        ..Default::default()
    }
}

/// The console against moto, with its audit log in a temporary directory.
pub struct Console {
    pub app: App,
    pub audit: PathBuf,
    _dir: tempfile::TempDir,
}

/// `{op: n, …}` as the proxy's counts.
pub fn ops(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(op, n)| ((*op).to_string(), *n))
        .collect()
}

/// Reading a JSON answer the way the assertions mean it.
pub trait JsonExt {
    /// The member `key` of an object; panics (naming the members there are)
    /// when it has none, so that a misspelt or missing field fails loudly
    /// rather than reading as `null`.
    fn at(&self, key: &str) -> &Json;
}

impl JsonExt for Json {
    fn at(&self, key: &str) -> &Json {
        match self.as_object() {
            Some(map) => map.get(key).unwrap_or_else(|| {
                let keys: Vec<&String> = map.keys().collect();
                panic!("no {key:?} among {keys:?}")
            }),
            None => panic!("not a JSON object (looking for {key:?}): {self}"),
        }
    }
}

/// Polls `probe` every 50 ms until `done` holds for what it returns, and
/// returns that; panics after `timeout` with `what` and the last value.
/// For what happens beside the call that caused it (a shipping task, a
/// background write): never a fixed sleep.
pub async fn eventually<T: std::fmt::Debug>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let value = probe().await;
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "waited {timeout:?} for {what}; the last reading: {value:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
