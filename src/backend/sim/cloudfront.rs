//! CloudFront: the world's distributions and their invalidations, each
//! InProgress for one to three simulated minutes, then Completed.

use async_trait::async_trait;
use chrono::TimeDelta;
use fastrand::Rng;
use serde::Deserialize;

use super::SimBackend;
use crate::backend::{
    BackendError, BackendResult, CloudFront as CloudFrontReads, CloudFrontChanges,
    RECENT_INVALIDATIONS,
};
use crate::domain::{Distribution, Invalidation, Timestamp};

#[async_trait]
impl CloudFrontReads for SimBackend {
    async fn distribution(&self, id: &str) -> BackendResult<Distribution> {
        self.gate()?;
        self.with(|w| w.cloudfront.distribution(id, w.now))
    }

    async fn invalidation(&self, distribution: &str, id: &str) -> BackendResult<Invalidation> {
        self.gate()?;
        self.with(|w| {
            let d = w.cloudfront.find(distribution)?;
            d.invalidations
                .iter()
                .find(|i| i.id == id)
                .map(|i| i.to_domain(w.now))
                .ok_or_else(|| BackendError::NotFound {
                    resource: format!("invalidation {id} of {distribution}"),
                })
        })
    }

    async fn find_invalidation(
        &self,
        distribution: &str,
        caller_reference: &str,
    ) -> BackendResult<Option<Invalidation>> {
        self.gate()?;
        self.with(|w| {
            let d = w.cloudfront.find(distribution)?;
            Ok(d.invalidations
                .iter()
                .find(|i| i.caller_reference == caller_reference)
                .map(|i| i.to_domain(w.now)))
        })
    }
}

#[async_trait]
impl CloudFrontChanges for SimBackend {
    async fn create_invalidation(
        &self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> BackendResult<Invalidation> {
        self.gate()?;
        self.with(|w| {
            w.cloudfront
                .create_invalidation(distribution, paths, caller_reference, w.now)
        })
    }
}

/// A distribution of a world (`[[world.distribution]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DistributionDesc {
    pub id: String,
    pub domain_name: String,
    #[serde(default)]
    pub alias: Option<String>,
    /// The services whose deploy the demo's environment links to it.
    #[serde(default)]
    pub services: Vec<String>,
}

#[derive(Debug, Clone)]
struct SimInvalidation {
    id: String,
    paths: Vec<String>,
    caller_reference: String,
    created_at: Timestamp,
    done_at: Timestamp,
}

impl SimInvalidation {
    fn to_domain(&self, now: Timestamp) -> Invalidation {
        Invalidation {
            id: self.id.clone(),
            status: if now >= self.done_at {
                "Completed"
            } else {
                "InProgress"
            }
            .to_string(),
            created_at: Some(self.created_at),
            paths: self.paths.clone(),
            caller_reference: Some(self.caller_reference.clone()),
        }
    }
}

#[derive(Debug, Clone)]
struct SimDistribution {
    desc: DistributionDesc,
    /// Oldest first.
    invalidations: Vec<SimInvalidation>,
}

/// The CloudFront part of a world. It draws from an RNG of its own, so
/// that an invalidation does not change what the rest of the world does.
#[derive(Debug, Clone)]
pub(crate) struct CloudFront {
    distributions: Vec<SimDistribution>,
    rng: Rng,
}

impl CloudFront {
    /// The distributions, each with the invalidations of the last
    /// releases (done by hand, as the seeds' teams do).
    pub fn new(descs: &[DistributionDesc], seed: u64, start: Timestamp) -> Self {
        let mut rng = Rng::with_seed(seed ^ 0x00c1_0d0f);
        let distributions = descs
            .iter()
            .map(|d| {
                let invalidations = [4_i64, 2, 1]
                    .iter()
                    .map(|days| {
                        let created_at =
                            start - TimeDelta::days(*days) - TimeDelta::minutes(rng.i64(0..=600));
                        SimInvalidation {
                            id: invalidation_id(&mut rng),
                            paths: vec!["/*".to_string()],
                            caller_reference: format!("cli-{}", created_at.timestamp()),
                            created_at,
                            done_at: created_at + TimeDelta::seconds(rng.i64(60..=180)),
                        }
                    })
                    .collect();
                SimDistribution {
                    desc: d.clone(),
                    invalidations,
                }
            })
            .collect();
        Self { distributions, rng }
    }

    fn find(&self, id: &str) -> BackendResult<&SimDistribution> {
        self.distributions
            .iter()
            .find(|d| d.desc.id == id)
            .ok_or_else(|| not_found(id))
    }

    pub fn distribution(&self, id: &str, now: Timestamp) -> BackendResult<Distribution> {
        let d = self.find(id)?;
        let invalidations: Vec<Invalidation> = d
            .invalidations
            .iter()
            .filter(|i| i.created_at <= now)
            .rev()
            .take(RECENT_INVALIDATIONS)
            .map(|i| i.to_domain(now))
            .collect();
        let in_progress = d
            .invalidations
            .iter()
            .filter(|i| i.created_at <= now && now < i.done_at)
            .count();
        Ok(Distribution {
            id: d.desc.id.clone(),
            domain_name: d.desc.domain_name.clone(),
            status: "Deployed".to_string(),
            enabled: true,
            alias: d.desc.alias.clone(),
            in_progress: u32::try_from(in_progress).unwrap_or(u32::MAX),
            invalidations,
        })
    }

    /// CloudFront's `CreateInvalidation`: a repeated caller reference
    /// answers the invalidation it created (with other paths it is
    /// refused), as CloudFront does.
    pub fn create_invalidation(
        &mut self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
        now: Timestamp,
    ) -> BackendResult<Invalidation> {
        if paths.is_empty() {
            return Err(BackendError::Invalid {
                message: "an invalidation names at least one path".to_string(),
            });
        }
        if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
            return Err(BackendError::Invalid {
                message: format!("InvalidArgument: path {p} does not start with /"),
            });
        }
        let rng = &mut self.rng;
        let d = self
            .distributions
            .iter_mut()
            .find(|d| d.desc.id == distribution)
            .ok_or_else(|| not_found(distribution))?;
        if let Some(i) = d
            .invalidations
            .iter()
            .find(|i| i.caller_reference == caller_reference)
        {
            if i.paths == paths {
                return Ok(i.to_domain(now));
            }
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidationBatchAlreadyExists: caller reference {caller_reference} \
                     was used with other paths"
                ),
            });
        }
        let inv = SimInvalidation {
            id: invalidation_id(rng),
            paths: paths.to_vec(),
            caller_reference: caller_reference.to_string(),
            created_at: now,
            done_at: now + TimeDelta::seconds(rng.i64(60..=180)),
        };
        let answer = inv.to_domain(now);
        d.invalidations.push(inv);
        Ok(answer)
    }
}

/// An id as CloudFront gives them: `I` and 13 upper-case letters and
/// digits.
fn invalidation_id(rng: &mut Rng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut id = String::from("I");
    for _ in 0..13 {
        let c = CHARS.get(rng.usize(..CHARS.len())).copied().unwrap_or(b'A');
        id.push(char::from(c));
    }
    id
}

fn not_found(id: &str) -> BackendError {
    BackendError::NotFound {
        resource: format!("CloudFront distribution {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc() -> DistributionDesc {
        DistributionDesc {
            id: "E1WORKS".to_string(),
            domain_name: "d111.cloudfront.net".to_string(),
            alias: None,
            services: Vec::new(),
        }
    }

    #[test]
    fn an_invalidation_completes_within_one_to_three_minutes() {
        let start = chrono::DateTime::from_timestamp(1_764_600_000, 0).unwrap_or_default();
        let mut cf = CloudFront::new(&[desc()], 7, start);
        let paths = vec!["/*".to_string()];
        let inv = cf
            .create_invalidation("E1WORKS", &paths, "ref-1", start)
            .expect("created");
        assert_eq!(inv.status, "InProgress");
        let at = |s: i64| {
            cf.distribution("E1WORKS", start + TimeDelta::seconds(s))
                .expect("read")
                .invalidations[0]
                .clone()
        };
        assert_eq!(at(59).status, "InProgress");
        assert_eq!(at(59).id, inv.id, "newest first");
        assert_eq!(at(181).status, "Completed");
        // The same reference again is the same invalidation; other paths
        // with it are refused.
        let again = cf
            .create_invalidation("E1WORKS", &paths, "ref-1", start)
            .expect("repeat");
        assert_eq!(again.id, inv.id);
        assert!(
            cf.create_invalidation("E1WORKS", &["/a".to_string()], "ref-1", start)
                .is_err()
        );
        assert!(matches!(
            cf.distribution("ENOPE", start),
            Err(BackendError::NotFound { .. })
        ));
    }
}
