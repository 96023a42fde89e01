//! SDK errors → [`BackendError`], in the terms an operator acts on.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::backend::BackendError;

/// Error codes AWS uses for throttling across services.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
];

/// Error codes that mean the credentials are missing, expired or not allowed.
const UNAUTHORIZED: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "MissingAuthenticationToken",
];

/// Where the credentials of an environment come from, to say how to fix them.
#[derive(Debug, Clone, Default)]
pub struct CredentialContext {
    pub profile: Option<String>,
    pub role_arn: Option<String>,
}

impl CredentialContext {
    /// The command or step that fixes expired or missing credentials.
    pub fn hint(&self, expired: bool) -> String {
        match (&self.profile, expired) {
            (Some(p), true) => format!("run `aws sso login --profile {p}` or refresh profile {p}'s keys"),
            (Some(p), false) => format!("check profile {p}: `aws sts get-caller-identity --profile {p}`"),
            (None, _) => "check AWS_PROFILE / AWS_ACCESS_KEY_ID or the instance role: `aws sts get-caller-identity`".to_string(),
        }
    }
}

/// Maps an SDK error of any service into a [`BackendError`].
pub fn map<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    creds: &CredentialContext,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("");
            let message = se.err().message().unwrap_or("").to_string();
            let text = if message.is_empty() {
                format!("{operation}: {code} (HTTP {status})")
            } else {
                format!("{operation}: {code}: {message}")
            };
            classify(code, status, text, &detail, creds)
        }
        SdkError::TimeoutError(_) => BackendError::Unavailable {
            message: format!("{operation}: timed out"),
        },
        SdkError::DispatchFailure(d) => {
            if looks_like_credentials(&detail) {
                BackendError::Unauthorized {
                    message: format!(
                        "{operation}: no usable credentials ({})",
                        last_cause(&detail)
                    ),
                    hint: Some(creds.hint(false)),
                }
            } else if d.is_timeout() {
                BackendError::Unavailable {
                    message: format!("{operation}: timed out connecting"),
                }
            } else {
                BackendError::Unavailable {
                    message: format!(
                        "{operation}: cannot reach the endpoint ({})",
                        last_cause(&detail)
                    ),
                }
            }
        }
        SdkError::ResponseError(r) => {
            let status = r.raw().status().as_u16();
            if status >= 500 {
                BackendError::Unavailable {
                    message: format!("{operation}: server error (HTTP {status})"),
                }
            } else {
                BackendError::Other {
                    message: format!("{operation}: unreadable response (HTTP {status})"),
                }
            }
        }
        _ => {
            if looks_like_credentials(&detail) {
                BackendError::Unauthorized {
                    message: format!(
                        "{operation}: no usable credentials ({})",
                        last_cause(&detail)
                    ),
                    hint: Some(creds.hint(false)),
                }
            } else {
                BackendError::Other {
                    message: format!("{operation}: {}", last_cause(&detail)),
                }
            }
        }
    }
}

fn classify(
    code: &str,
    status: u16,
    text: String,
    detail: &str,
    creds: &CredentialContext,
) -> BackendError {
    if THROTTLING.contains(&code) || status == 429 {
        return BackendError::Throttled { message: text };
    }
    if UNAUTHORIZED.contains(&code) || status == 401 {
        let expired = code.starts_with("Expired") || detail.contains("expired");
        return BackendError::Unauthorized {
            message: text,
            hint: Some(creds.hint(expired)),
        };
    }
    if code.ends_with("NotFoundException")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundFault")
        || code == "ResourceNotFoundException"
        || status == 404
    {
        return BackendError::NotFound { resource: text };
    }
    if status >= 500 || code == "ServiceUnavailable" || code == "InternalFailure" {
        return BackendError::Unavailable { message: text };
    }
    if status == 400 || status == 409 || status == 403 {
        return BackendError::Invalid { message: text };
    }
    BackendError::Other { message: text }
}

fn looks_like_credentials(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("credentials") || d.contains("identity") || d.contains("sso") || d.contains("token")
}

/// The innermost cause of an error chain printed by `DisplayErrorContext`.
fn last_cause(detail: &str) -> String {
    let cause = detail.rsplit(": ").next().unwrap_or(detail).trim();
    let cause = cause.trim_end_matches(')').trim();
    cause.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        let c = CredentialContext {
            profile: Some("prod".into()),
            role_arn: None,
        };
        assert!(matches!(
            classify("ThrottlingException", 400, "x".into(), "", &c),
            BackendError::Throttled { .. }
        ));
        match classify("ExpiredTokenException", 400, "x".into(), "", &c) {
            BackendError::Unauthorized { hint, .. } => {
                assert!(
                    hint.unwrap_or_default()
                        .contains("aws sso login --profile prod")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("ClusterNotFoundException", 400, "x".into(), "", &c),
            BackendError::NotFound { .. }
        ));
        assert!(matches!(
            classify("DBInstanceNotFound", 404, "x".into(), "", &c),
            BackendError::NotFound { .. }
        ));
        assert!(matches!(
            classify("", 500, "x".into(), "", &c),
            BackendError::Unavailable { .. }
        ));
        assert!(matches!(
            classify("InvalidParameterException", 400, "x".into(), "", &c),
            BackendError::Invalid { .. }
        ));
    }

    #[test]
    fn hints_name_the_fix() {
        let none = CredentialContext::default();
        assert!(none.hint(true).contains("aws sts get-caller-identity"));
    }
}
