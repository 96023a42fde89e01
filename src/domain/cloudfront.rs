//! CloudFront: a distribution linked to an environment and its recent
//! invalidations.

use serde::{Deserialize, Serialize};

use super::{Identified, Timestamp};

/// A CloudFront distribution as the console shows it (`GetDistribution`),
/// with its most recent invalidations (`ListInvalidations`, newest first;
/// those in progress read with `GetInvalidation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// `E2ABCDEF...`: its identity.
    pub id: String,
    pub domain_name: String,
    /// `Deployed` or `InProgress` (a configuration change propagating).
    pub status: String,
    pub enabled: bool,
    /// Its first alias (CNAME), when it has one: how operators know it.
    pub alias: Option<String>,
    /// Invalidations in progress (at most 3 000 paths at once, 15 with a
    /// wildcard: AWS's limits).
    pub in_progress: u32,
    /// The most recent invalidations, newest first.
    pub invalidations: Vec<Invalidation>,
}

impl Identified for Distribution {}

/// One invalidation of a distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalidation {
    pub id: String,
    /// `InProgress` or `Completed`.
    pub status: String,
    pub created_at: Option<Timestamp>,
    /// Its paths and caller reference: `GetInvalidation` gives them,
    /// `ListInvalidations` does not (empty / `None` then).
    pub paths: Vec<String>,
    pub caller_reference: Option<String>,
}

impl Invalidation {
    /// Whether it has finished (CloudFront says `Completed`; moto
    /// `COMPLETED`).
    pub fn is_completed(&self) -> bool {
        self.status.eq_ignore_ascii_case("completed")
    }
}

/// The caller reference of an invalidation honban sends: unique per
/// request (environment, time to the millisecond, a random suffix), so
/// that it can be found again when the answer was lost and so that
/// CloudFront never takes it for a repeat of an earlier one.
pub fn caller_reference(env: &str, now: Timestamp, random: u32) -> String {
    let env: String = env
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!(
        "honban-{env}-{}-{random:08x}",
        now.format("%Y%m%dT%H%M%S%3fZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_references_are_distinct_and_clean() {
        let now = chrono::DateTime::from_timestamp(1_764_600_000, 123_000_000).unwrap_or_default();
        let a = caller_reference("prod eu", now, 1);
        assert_eq!(a, "honban-prod-eu-20251201T144000123Z-00000001");
        assert_ne!(a, caller_reference("prod eu", now, 2));
    }

    #[test]
    fn completed_in_either_spelling() {
        let mut i = Invalidation {
            id: "I1".into(),
            status: "InProgress".into(),
            created_at: None,
            paths: vec![],
            caller_reference: None,
        };
        assert!(!i.is_completed());
        i.status = "COMPLETED".into();
        assert!(i.is_completed());
        i.status = "Completed".into();
        assert!(i.is_completed());
    }
}
