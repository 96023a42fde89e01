//! What an HTTP health check got back: the prober's answer (over the
//! network, or from the simulated world).

use std::time::Duration;

/// Why a probe got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProbeError {
    /// No answer within the timeout.
    Timeout { secs: u64 },
    /// The host name did not resolve.
    Dns(String),
    /// The connection was refused (nothing listens there).
    Refused(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// Any other connection or protocol failure.
    Connect(String),
    /// The URL cannot be requested.
    BadUrl(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout { secs } => write!(f, "timeout: no answer within {secs}s"),
            Self::Dns(m) => write!(f, "DNS: {m}"),
            Self::Refused(m) => write!(f, "connection refused: {m}"),
            Self::Tls(m) => write!(f, "TLS: {m}"),
            Self::Connect(m) => write!(f, "connection failed: {m}"),
            Self::BadUrl(m) => write!(f, "bad URL: {m}"),
        }
    }
}

impl ProbeError {
    /// A short word for a narrow status column.
    pub fn short(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::Dns(_) => "dns",
            Self::Refused(_) => "refused",
            Self::Tls(_) => "tls",
            Self::Connect(_) => "conn",
            Self::BadUrl(_) => "url",
        }
    }
}

/// What one probe got back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProbeReport {
    /// Time to the response's headers.
    pub latency: Option<Duration>,
    /// The HTTP status, or why there was none.
    pub outcome: Result<u16, ProbeError>,
    /// The start of the body (for the error text of an unexpected status).
    pub body: String,
}

impl ProbeReport {
    pub fn failed(e: ProbeError) -> Self {
        Self {
            latency: None,
            outcome: Err(e),
            body: String::new(),
        }
    }
}
