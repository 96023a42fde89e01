//! Clusters discovered: an environment that names none reads every cluster
//! of the account, on every page.

use crate::prelude::*;
use honban::backend::prelude::*;

/// An environment that names no cluster: it reads every one of the account.
fn account_wide(endpoint: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        clusters: Vec::new(),
        ..env_config("account", endpoint, "unused")
    }
}

#[tokio::test]
async fn every_cluster_of_the_account_is_listed_on_every_page() {
    let moto = MotoAccount::seeded("pages", &["--minimal", "--extra-clusters", "100"]);
    let mut expected = vec!["pages".to_string()];
    expected.extend_from_slice(&moto.seeded.extra_clusters);
    expected.sort();
    assert_eq!(expected.len(), 101, "more than one page of 100");
    let b = moto.backend_for("unused").await;
    moto.reset_counts();
    // Names (from the ARNs), sorted, from two pages of ListClusters.
    assert_eq!(b.list_clusters().await.expect("clusters"), expected);
    assert_eq!(moto.count("ecs:ListClusters"), 2);
}

#[tokio::test]
async fn an_environment_without_clusters_reads_every_cluster_of_the_account() {
    let moto = MotoAccount::seeded("disc-a", &[]);
    let a = &moto.seeded;
    let b = moto.seed("disc-b", &["--minimal"]);
    let expected = ["disc-a".to_string(), "disc-b".to_string()];

    // The console: services, tasks, scaling and targets of every cluster.
    let Console { mut app, .. } = moto.console(account_wide(moto.endpoint())).await;
    let e = &app.state.envs[0];
    assert_eq!(e.ecs_clusters(), Some(&expected[..]));
    let mut services: Vec<(String, String)> = e
        .services
        .data
        .iter()
        .flatten()
        .map(|s| {
            let cluster = s.cluster_arn.rsplit('/').next().unwrap_or_default();
            (cluster.to_string(), s.name.clone())
        })
        .collect();
    services.sort();
    let mut want: Vec<(String, String)> = a
        .services
        .clone()
        .into_iter()
        .map(|s| ("disc-a".to_string(), s))
        .chain(
            b.services
                .clone()
                .into_iter()
                .map(|s| ("disc-b".to_string(), s)),
        )
        .collect();
    want.sort();
    assert_eq!(services, want);
    assert_eq!(
        e.tasks.data.as_ref().map(Vec::len),
        Some((a.tasks + b.tasks) as usize)
    );
    let mut scaling: Vec<String> = e
        .scaling
        .data
        .iter()
        .flatten()
        .map(|t| t.resource_id.clone())
        .collect();
    scaling.sort();
    let mut seeded_scaling = a.scalable_targets.clone();
    seeded_scaling.extend(b.scalable_targets.clone());
    seeded_scaling.sort();
    assert_eq!(scaling, seeded_scaling);
    assert!(e.targets.data.as_ref().is_some_and(|t| !t.is_empty()));
    // Counted like every other request (the diagnostics view shows it).
    assert_eq!(
        e.request_stats.get("ecs:ListClusters").map(|s| s.calls),
        Some(1)
    );

    // A cluster created later shows up at the next discovery, its
    // services read at once.
    moto.aws("ecs", "create_cluster", r#"{"clusterName": "disc-c"}"#);
    moto.reset_counts();
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Clusters,
    });
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(
        e.ecs_clusters()
            .is_some_and(|c| c.iter().any(|n| n == "disc-c")),
        "{:?}",
        e.ecs_clusters()
    );
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    // Every cluster's services were read again, the new one's included.
    assert_eq!(moto.count("ecs:ListServices"), expected.len() as u64 + 1);
    // Auto scaling of every cluster in one pass (the API lists the region's).
    assert_eq!(
        moto.count("application-autoscaling:DescribeScalableTargets"),
        1
    );

    // Configured clusters are read as configured: only the services listed
    // for a cluster (its tasks and scaling too), never a ListClusters.
    let mut cfg = moto.env("configured");
    cfg.clusters[0].services = vec!["api".to_string()];
    cfg.clusters.push(ClusterConfig {
        name: "disc-b".to_string(),
        services: Vec::new(),
    });
    moto.reset_counts();
    let Console { app, .. } = moto.console(cfg).await;
    let e = &app.state.envs[0];
    let mut services: Vec<&str> = e
        .services
        .data
        .iter()
        .flatten()
        .map(|s| s.arn.rsplit(':').next().unwrap_or_default())
        .collect();
    services.sort_unstable();
    assert_eq!(services, ["service/disc-a/api", "service/disc-b/web"]);
    assert!(
        e.tasks
            .data
            .iter()
            .flatten()
            .all(|t| t.service_name() == Some("api")),
        "{:?}",
        e.tasks.data
    );
    let scaling: Vec<&str> = e
        .scaling
        .data
        .iter()
        .flatten()
        .map(|t| t.resource_id.as_str())
        .collect();
    assert_eq!(scaling, ["service/disc-a/api"]);
    assert_eq!(moto.count("ecs:ListClusters"), 0);
}

#[tokio::test]
async fn an_account_without_clusters_says_so_instead_of_loading() {
    let moto = MotoAccount::empty();
    let Console { mut app, .. } = moto.console(account_wide(moto.endpoint())).await;
    let e = &app.state.envs[0];
    assert_eq!(e.ecs_clusters(), Some(&[][..]));
    assert_eq!(e.services.data.as_deref(), Some(&[][..]));
    assert_eq!(e.tasks.data.as_deref(), Some(&[][..]));
    // One ListClusters; nothing asked of clusters that do not exist.
    assert_eq!(moto.count("ecs:ListClusters"), 1);
    assert_eq!(moto.count("ecs:ListServices"), 0);
    let overview = screen(&app, 80, 24);
    assert!(
        overview.contains("no ECS clusters in this account/region"),
        "{overview}"
    );
    assert!(!overview.contains("loading services"), "{overview}");
    press(&mut app, KeyCode::Char('3'));
    let tasks = screen(&app, 80, 24);
    assert!(
        tasks.contains("no ECS clusters in this account/region"),
        "{tasks}"
    );
}

#[tokio::test]
async fn a_failed_discovery_of_clusters_shows_its_error_not_loading() {
    let moto = MotoAccount::seeded("disc-f", &["--minimal"]);
    moto.inject_fault("ecs:ListClusters", "expired", 1);
    let mut app = moto.console_as_is(account_wide(moto.endpoint())).await;
    let e = &app.state.envs[0];
    assert_eq!(e.ecs_clusters(), None);
    assert!(
        matches!(
            e.errors().as_slice(),
            [(Resource::Clusters, BackendError::Unauthorized { .. })]
        ),
        "{:?}",
        e.errors()
    );
    let overview = screen(&app, 80, 24);
    assert!(overview.contains("cannot load ECS clusters"), "{overview}");
    assert!(!overview.contains("loading services"), "{overview}");

    // The next try (ctrl-r) finds the cluster and its services.
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )));
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    assert_eq!(e.ecs_clusters(), Some(&["disc-f".to_string()][..]));
    assert_eq!(e.services.data.as_ref().map(Vec::len), Some(1));
}
