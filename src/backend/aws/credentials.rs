//! A guard around an environment's credential provider: expired
//! credentials are never used, and the source (a `credential_process`, SSO,
//! STS, the instance role) is asked at most once per validity window.
//!
//! The SDK's own cache asks its provider again on every request whose
//! cached credentials have expired, and passes on whatever the provider
//! returns, expired or not. A `credential_process` that hands out expired
//! keys was therefore spawned for every request (hundreds a minute) and its
//! keys sent anyway. Here:
//!
//! - credentials that are expired, or expire within [`BUFFER`], are an
//!   error that says when they expired ("credentials … expired at …"), at
//!   once, on the first request;
//! - good credentials are kept until [`BUFFER`] before they expire;
//! - a failure (including expired credentials, and a source that does not
//!   answer before the request gives up) is kept for [`RETRY_AFTER`]:
//!   requests in between get the same error without asking the source.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use chrono::{DateTime, Utc};

/// Credentials that expire within this are treated as expired.
pub const BUFFER: Duration = Duration::from_secs(10);
/// A failed source is asked again after this.
pub const RETRY_AFTER: Duration = Duration::from_secs(20);

enum Cached {
    Good(Credentials),
    Failed { message: String, until: SystemTime },
}

/// See the module documentation.
pub struct ExpiryGuard {
    inner: SharedCredentialsProvider,
    /// Where the credentials come from, for messages ("profile prod").
    source: String,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl fmt::Debug for ExpiryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpiryGuard").finish_non_exhaustive()
    }
}

impl ExpiryGuard {
    pub fn new(inner: SharedCredentialsProvider, source: impl Into<String>) -> Self {
        Self {
            inner,
            source: source.into(),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// `inner` behind a guard, shareable.
    pub fn shared(
        inner: SharedCredentialsProvider,
        source: impl Into<String>,
    ) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(Self::new(inner, source))
    }

    async fn load(&self) -> provider::Result {
        // One caller asks the source; the others wait for its answer.
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        match &*cached {
            Some(Cached::Good(c)) if fresh(c, now) => return Ok(c.clone()),
            Some(Cached::Failed { message, until }) if now < *until => {
                return Err(CredentialsError::provider_error(message.clone()));
            }
            _ => {}
        }
        // Should the request give up while the source is still being asked
        // (a credential_process that hangs), the next ones wait too.
        *cached = Some(Cached::Failed {
            message: "the credential source did not answer in time".to_string(),
            until: now + RETRY_AFTER,
        });
        let result = self.inner.provide_credentials().await;
        let now = SystemTime::now();
        let (entry, result) = match result {
            Ok(c) if fresh(&c, now) => (Cached::Good(c.clone()), Ok(c)),
            Ok(c) => {
                let message = expired_message(&c, &self.source, now);
                tracing::warn!("{message}");
                (
                    Cached::Failed {
                        message: message.clone(),
                        until: now + RETRY_AFTER,
                    },
                    Err(CredentialsError::provider_error(message)),
                )
            }
            Err(e) => {
                let message = crate::backend::aws::error::error_chain_cause(&e);
                tracing::warn!(error = %message, "no credentials");
                (
                    Cached::Failed {
                        message,
                        until: now + RETRY_AFTER,
                    },
                    Err(e),
                )
            }
        };
        *cached = Some(entry);
        result
    }
}

/// Usable for at least [`BUFFER`] more (or without an expiry).
fn fresh(c: &Credentials, now: SystemTime) -> bool {
    c.expiry().is_none_or(|at| at > now + BUFFER)
}

fn expired_message(c: &Credentials, source: &str, now: SystemTime) -> String {
    let Some(at) = c.expiry() else {
        return "the credentials have expired".to_string();
    };
    let when = DateTime::<Utc>::from(at).format("%Y-%m-%d %H:%M:%S UTC");
    match now.duration_since(at) {
        Ok(ago) => format!(
            "the credentials from {source} expired at {when} ({} ago); they were not used",
            crate::domain::format_age(chrono::TimeDelta::seconds(
                i64::try_from(ago.as_secs()).unwrap_or(i64::MAX)
            ))
        ),
        Err(_) => format!(
            "the credentials from {source} expire at {when}, within seconds; they were not used"
        ),
    }
}

impl ProvideCredentials for ExpiryGuard {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A source that counts how often it is asked and returns credentials
    /// expiring at `expiry`.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        expiry: Option<SystemTime>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let creds = Credentials::new("AKIDEXAMPLE", "secret", None, self.expiry, "test");
            future::ProvideCredentials::ready(Ok(creds))
        }
    }

    fn guarded(expiry: Option<SystemTime>) -> (ExpiryGuard, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let inner = SharedCredentialsProvider::new(Counting {
            calls: calls.clone(),
            expiry,
        });
        (ExpiryGuard::new(inner, "profile test"), calls)
    }

    #[tokio::test]
    async fn expired_credentials_are_refused_and_the_source_is_not_asked_again_at_once() {
        let past = SystemTime::now() - Duration::from_mins(10);
        let (guard, calls) = guarded(Some(past));
        for _ in 0..100 {
            let err = guard.provide_credentials().await.expect_err("expired");
            let text = error_text(&err);
            assert!(text.contains("expired at"), "{text}");
            assert!(
                text.contains("the credentials from profile test expired at"),
                "{text}"
            );
            assert!(text.contains("(10m ago); they were not used"), "{text}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn good_credentials_are_kept_until_shortly_before_they_expire() {
        let (guard, calls) = guarded(Some(SystemTime::now() + Duration::from_hours(1)));
        for _ in 0..100 {
            guard.provide_credentials().await.expect("fresh");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // About to expire: refused rather than sent.
        let (guard, _) = guard_expiring_in(Duration::from_secs(3));
        assert!(guard.provide_credentials().await.is_err());
        // No expiry at all (static keys): fine.
        let (guard, _) = guarded(None);
        assert!(guard.provide_credentials().await.is_ok());
    }

    fn guard_expiring_in(d: Duration) -> (ExpiryGuard, Arc<AtomicUsize>) {
        guarded(Some(SystemTime::now() + d))
    }

    fn error_text(e: &CredentialsError) -> String {
        crate::backend::aws::error::error_chain_cause(e)
    }
}
