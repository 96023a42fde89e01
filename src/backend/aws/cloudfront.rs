//! CloudFront: a distribution with its recent invalidations; an
//! invalidation sent once.

use async_trait::async_trait;
use aws_sdk_cloudfront::types::{self as t, InvalidationBatch, Paths};

use super::AwsBackend;
use super::convert::time;
use crate::backend::RECENT_INVALIDATIONS;
use crate::backend::{BackendError, BackendResult, CloudFront, CloudFrontChanges};
use crate::domain::{Distribution, Invalidation};

#[async_trait]
impl CloudFront for AwsBackend {
    async fn distribution(&self, id: &str) -> BackendResult<Distribution> {
        distribution(self, id).await
    }

    async fn invalidation(&self, distribution: &str, id: &str) -> BackendResult<Invalidation> {
        get_invalidation(self, distribution, id).await
    }

    async fn find_invalidation(
        &self,
        distribution: &str,
        caller_reference: &str,
    ) -> BackendResult<Option<Invalidation>> {
        for summary in recent(self, distribution).await? {
            let full = get_invalidation(self, distribution, &summary.id).await?;
            if full.caller_reference.as_deref() == Some(caller_reference) {
                return Ok(Some(full));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl CloudFrontChanges for AwsBackend {
    async fn create_invalidation(
        &self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> BackendResult<Invalidation> {
        let invalid = |e: aws_smithy_types::error::operation::BuildError| BackendError::Invalid {
            message: e.to_string(),
        };
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder()
                    .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(invalid)?,
            )
            .caller_reference(caller_reference)
            .build()
            .map_err(invalid)?;
        let out = self
            .call(
                "cloudfront",
                "CreateInvalidation",
                self.clients
                    .cloudfront
                    .create_invalidation()
                    .distribution_id(distribution)
                    .invalidation_batch(batch)
                    .customize()
                    .config_override(super::once!(aws_sdk_cloudfront))
                    .send(),
            )
            .await?;
        out.invalidation()
            .map(invalidation)
            .ok_or_else(|| BackendError::Other {
                message: format!("CreateInvalidation on {distribution} returned no invalidation"),
            })
    }
}

/// `GetDistribution`, the newest invalidations, and the paths and
/// reference of those in progress.
async fn distribution(b: &AwsBackend, id: &str) -> BackendResult<Distribution> {
    let out = b
        .call(
            "cloudfront",
            "GetDistribution",
            b.clients.cloudfront.get_distribution().id(id).send(),
        )
        .await?;
    let d = out.distribution().ok_or_else(|| BackendError::NotFound {
        resource: format!("CloudFront distribution {id}"),
    })?;
    let mut invalidations = recent(b, id).await?;
    let in_progress: Vec<usize> = invalidations
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.is_completed())
        .map(|(n, _)| n)
        .collect();
    let details = futures_util::future::try_join_all(
        in_progress
            .iter()
            .filter_map(|&n| invalidations.get(n).map(|i| i.id.clone()))
            .map(|inv| async move { get_invalidation(b, id, &inv).await }),
    )
    .await?;
    for (n, full) in in_progress.into_iter().zip(details) {
        if let Some(slot) = invalidations.get_mut(n) {
            *slot = full;
        }
    }
    let config = d.distribution_config();
    Ok(Distribution {
        id: d.id().to_string(),
        domain_name: d.domain_name().to_string(),
        status: d.status().to_string(),
        enabled: config.is_some_and(t::DistributionConfig::enabled),
        alias: config
            .and_then(t::DistributionConfig::aliases)
            .and_then(|a| a.items().first().cloned()),
        in_progress: u32::try_from(d.in_progress_invalidation_batches()).unwrap_or(0),
        invalidations,
    })
}

/// The [`RECENT_INVALIDATIONS`] newest invalidations (one page, newest
/// first as CloudFront lists them; sorted again, as a server that lists
/// oldest first would not be).
async fn recent(b: &AwsBackend, id: &str) -> BackendResult<Vec<Invalidation>> {
    let max = i32::try_from(RECENT_INVALIDATIONS).unwrap_or(i32::MAX);
    let out = b
        .call(
            "cloudfront",
            "ListInvalidations",
            b.clients
                .cloudfront
                .list_invalidations()
                .distribution_id(id)
                .max_items(max)
                .send(),
        )
        .await?;
    let mut items: Vec<Invalidation> = out
        .invalidation_list()
        .map(|l| {
            l.items()
                .iter()
                .map(|s| Invalidation {
                    id: s.id().to_string(),
                    status: s.status().to_string(),
                    created_at: time(s.create_time()),
                    paths: Vec::new(),
                    caller_reference: None,
                })
                .collect()
        })
        .unwrap_or_default();
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    items.truncate(RECENT_INVALIDATIONS);
    Ok(items)
}

async fn get_invalidation(
    b: &AwsBackend,
    distribution: &str,
    id: &str,
) -> BackendResult<Invalidation> {
    let out = b
        .call(
            "cloudfront",
            "GetInvalidation",
            b.clients
                .cloudfront
                .get_invalidation()
                .distribution_id(distribution)
                .id(id)
                .send(),
        )
        .await?;
    out.invalidation()
        .map(invalidation)
        .ok_or_else(|| BackendError::NotFound {
            resource: format!("invalidation {id} of {distribution}"),
        })
}

fn invalidation(i: &t::Invalidation) -> Invalidation {
    let batch = i.invalidation_batch();
    Invalidation {
        id: i.id().to_string(),
        status: i.status().to_string(),
        created_at: time(i.create_time()),
        paths: batch
            .and_then(InvalidationBatch::paths)
            .map(|p| p.items().to_vec())
            .unwrap_or_default(),
        caller_reference: batch.map(|b| b.caller_reference().to_string()),
    }
}
