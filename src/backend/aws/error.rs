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
    err: &SdkError<E, HttpResponse>,
    creds: &CredentialContext,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(err).to_string();
    let cause = error_chain_cause(err);
    match err {
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
                no_credentials(operation, &cause, creds)
            } else if d.is_timeout() {
                BackendError::Unavailable {
                    message: format!("{operation}: timed out connecting"),
                }
            } else {
                BackendError::Unavailable {
                    message: format!("{operation}: cannot reach the endpoint ({cause})"),
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
                no_credentials(operation, &cause, creds)
            } else {
                BackendError::Other {
                    message: format!("{operation}: {cause}"),
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

fn no_credentials(operation: &str, cause: &str, creds: &CredentialContext) -> BackendError {
    BackendError::Unauthorized {
        message: format!("{operation}: no usable credentials ({cause})"),
        hint: Some(creds.hint(cause.contains("expire"))),
    }
}

/// The cause of an error in plain words: "connection refused", "DNS lookup
/// failed", "TLS handshake failed (…)", "timed out", "credential_process
/// exited with status 1: …", else the innermost message of the chain that
/// is a sentence rather than a Debug dump.
pub fn error_chain_cause(err: &(dyn std::error::Error + 'static)) -> String {
    use std::io::ErrorKind;
    let mut messages: Vec<String> = Vec::new();
    let mut io_kind = None;
    let mut current = Some(err);
    while let Some(e) = current {
        if io_kind.is_none()
            && let Some(io) = e.downcast_ref::<std::io::Error>()
        {
            io_kind = Some(io.kind());
        }
        messages.push(e.to_string());
        current = e.source();
    }
    let all = messages.join(": ").to_ascii_lowercase();
    match io_kind {
        Some(ErrorKind::ConnectionRefused) => return "connection refused".to_string(),
        Some(ErrorKind::ConnectionReset) => return "connection reset".to_string(),
        Some(ErrorKind::ConnectionAborted) => return "connection aborted".to_string(),
        Some(ErrorKind::TimedOut) => return "timed out".to_string(),
        _ => {}
    }
    // The innermost readable message.
    let innermost = messages
        .iter()
        .rev()
        .map(|m| m.trim())
        .find(|m| !m.is_empty() && !m.contains(['{', '}']))
        .unwrap_or("unknown error");
    let clip = |s: &str| -> String {
        let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > 160 {
            let cut: String = one_line.chars().take(160).collect();
            format!("{cut}…")
        } else {
            one_line
        }
    };
    if let Some(at) = all.find("external process exited with code") {
        // "…exited with code exit status: 1. Stderr: <text>"
        let original = messages.join(": ");
        let tail = original.get(at..).unwrap_or_default();
        let status = tail
            .split("status:")
            .nth(1)
            .and_then(|s| s.split('.').next())
            .map_or_else(|| "?".to_string(), |s| s.trim().to_string());
        let stderr = tail
            .split_once("Stderr:")
            .map(|(_, e)| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| format!(": {}", clip(e)))
            .unwrap_or_default();
        return format!("credential_process exited with status {status}{stderr}");
    }
    if all.contains("error retrieving credentials from external process") {
        let text = innermost
            .split_once("external process")
            .map_or(innermost, |(_, rest)| rest)
            .trim_start_matches([':', ',', ' ']);
        return format!("credential_process failed: {}", clip(text));
    }
    if all.contains("connection refused") {
        return "connection refused".to_string();
    }
    if [
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
    ]
    .iter()
    .any(|p| all.contains(p))
    {
        return "DNS lookup failed".to_string();
    }
    if ["certificate", "tls", "handshake"]
        .iter()
        .any(|p| all.contains(p))
    {
        return format!("TLS handshake failed ({})", clip(innermost));
    }
    if all.contains("timed out") || all.contains("timeout") {
        return "timed out".to_string();
    }
    clip(innermost)
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

    #[derive(Debug)]
    struct Wrap(
        &'static str,
        Option<Box<dyn std::error::Error + Send + Sync>>,
    );
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Wrap {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn causes_are_words() {
        let refused = Wrap(
            "io error",
            Some(Box::new(Wrap(
                "ConnectError { \"tcp connect error\", Os { code: 111 } }",
                Some(Box::new(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                ))),
            ))),
        );
        assert_eq!(error_chain_cause(&refused), "connection refused");
        let dns = Wrap(
            "io error",
            Some(Box::new(Wrap(
                "dns error: failed to lookup address information: Name or service not known",
                None,
            ))),
        );
        assert_eq!(error_chain_cause(&dns), "DNS lookup failed");
        let process = Wrap(
            "an error occurred while loading credentials",
            Some(Box::new(Wrap(
                "Error retrieving credentials: external process exited with code exit status: 3. Stderr: sso session expired\n",
                None,
            ))),
        );
        assert_eq!(
            error_chain_cause(&process),
            "credential_process exited with status 3: sso session expired"
        );
        let tls = Wrap(
            "io error",
            Some(Box::new(Wrap(
                "invalid peer certificate: UnknownIssuer",
                None,
            ))),
        );
        assert_eq!(
            error_chain_cause(&tls),
            "TLS handshake failed (invalid peer certificate: UnknownIssuer)"
        );
        let debug_only = Wrap("other", Some(Box::new(Wrap("Unknown } })", None))));
        assert_eq!(error_chain_cause(&debug_only), "other");
    }

    #[test]
    fn hints_name_the_fix() {
        let none = CredentialContext::default();
        assert!(none.hint(true).contains("aws sts get-caller-identity"));
    }
}
