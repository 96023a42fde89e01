//! Reads that take more than one call, each call bounded by a timeout: the
//! ECS clusters of an environment (every cluster at once, merged, each
//! kept to the services its configuration names) and one poll of the logs
//! view (a few pages of each query, the token kept where it stopped).
//!
//! What to read is decided by the reducer (the clusters, the queries);
//! how it is read from the backend is decided here, never in the runner.

use std::time::Duration;

use futures_util::future::join_all;

use super::{Backend, BackendError, BackendResult};
use crate::config::EnvironmentConfig;
use crate::domain::{Listing, ScalableTarget, Service, Task};
use crate::logs::{LogBatch, MAX_PAGES_PER_POLL};

/// `fut`, or `Unavailable` if it has not answered within `timeout`.
pub async fn bounded<T>(
    timeout: Duration,
    fut: impl Future<Output = BackendResult<T>>,
) -> BackendResult<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(BackendError::Unavailable {
            message: format!("no answer within {}s", timeout.as_secs()),
        }),
    }
}

/// The services the configuration names for `cluster`; empty: all of them.
fn only<'a>(cfg: &'a EnvironmentConfig, cluster: &str) -> &'a [String] {
    cfg.clusters
        .iter()
        .find(|c| c.name == cluster)
        .map_or(&[], |c| c.services.as_slice())
}

fn wanted(only: &[String], service: Option<&str>) -> bool {
    only.is_empty() || service.is_some_and(|n| only.iter().any(|s| s == n))
}

/// A discovered cluster deleted since it was listed has nothing left to
/// show (the next ListClusters drops it); a configured one that is missing
/// is an error the operator must see.
fn gone(cfg: &EnvironmentConfig, e: &BackendError) -> bool {
    cfg.clusters.is_empty() && matches!(e, BackendError::NotFound { .. })
}

/// The services of every cluster, read at once.
pub async fn services(
    b: &dyn Backend,
    cfg: &EnvironmentConfig,
    clusters: &[String],
    timeout: Duration,
) -> BackendResult<Listing<Service>> {
    let ecs = b.ecs()?;
    let reads = clusters.iter().map(|c| bounded(timeout, ecs.services(c)));
    merged(cfg, clusters, join_all(reads).await, |s| Some(&s.name))
}

/// The tasks of every cluster, read at once.
pub async fn tasks(
    b: &dyn Backend,
    cfg: &EnvironmentConfig,
    clusters: &[String],
    timeout: Duration,
) -> BackendResult<Listing<Task>> {
    let ecs = b.ecs()?;
    let reads = clusters.iter().map(|c| bounded(timeout, ecs.tasks(c)));
    merged(cfg, clusters, join_all(reads).await, Task::service_name)
}

/// The listings of `clusters` (in their order) as one, each kept to the
/// services its configuration names (`service` of an item); a discovered
/// cluster gone since it was listed is skipped.
fn merged<T>(
    cfg: &EnvironmentConfig,
    clusters: &[String],
    answers: Vec<BackendResult<Listing<T>>>,
    service: impl Fn(&T) -> Option<&str>,
) -> BackendResult<Listing<T>> {
    let mut all = Listing::default();
    for (c, r) in clusters.iter().zip(answers) {
        let mut l = match r {
            Err(e) if gone(cfg, &e) => continue,
            r => r?,
        };
        let only = only(cfg, c);
        l.items.retain(|i| wanted(only, service(i)));
        all.items.extend(l.items);
        all.failures.extend(l.failures);
    }
    Ok(all)
}

/// The scalable targets of every cluster, in one pass (the API lists the
/// region's).
pub async fn scalable_targets(
    b: &dyn Backend,
    cfg: &EnvironmentConfig,
    clusters: &[String],
    timeout: Duration,
) -> BackendResult<Vec<ScalableTarget>> {
    let mut all = bounded(timeout, b.scaling()?.scalable_targets(clusters)).await?;
    all.retain(|t| wanted(only(cfg, t.cluster_name().unwrap_or("")), t.service_name()));
    Ok(all)
}

/// One poll of the logs view: up to [`MAX_PAGES_PER_POLL`] pages of each
/// query; a query cut off there keeps its token for the next poll.
pub async fn log_batch(
    b: &dyn Backend,
    queries: Vec<crate::domain::LogQuery>,
    timeout: Duration,
) -> BackendResult<LogBatch> {
    let mut events = Vec::new();
    let mut tokens = Vec::with_capacity(queries.len());
    for mut q in queries {
        let mut left = None;
        for _ in 0..MAX_PAGES_PER_POLL {
            let page = bounded(timeout, b.logs()?.log_events(&q)).await?;
            events.extend(page.events);
            if let Some(t) = page.next_token {
                left = Some((t.clone(), q.start));
                q.next_token = Some(t);
            } else {
                left = None;
                break;
            }
        }
        tokens.push(left);
    }
    Ok(LogBatch { events, tokens })
}

/// Every configured CloudFront distribution, read together: one that does
/// not exist (or is not this account's) is a failure of the listing, any
/// other error the read's.
pub async fn distributions(
    b: &dyn Backend,
    config: &EnvironmentConfig,
    timeout: Duration,
) -> BackendResult<Listing<crate::domain::Distribution>> {
    let cf = b.cloudfront()?;
    let answers = join_all(
        config
            .cloudfront_distributions
            .iter()
            .map(|d| bounded(timeout, cf.distribution(&d.id))),
    )
    .await;
    let mut listing = Listing::default();
    for (d, answer) in config.cloudfront_distributions.iter().zip(answers) {
        match answer {
            Ok(dist) => listing.items.push(dist),
            Err(BackendError::NotFound { resource }) => {
                listing.failures.push(crate::domain::Failure {
                    arn: d.id.clone(),
                    reason: "MISSING".to_string(),
                    detail: Some(format!("{resource} not found")),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(listing)
}
