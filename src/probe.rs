//! HTTP health probes: the app's own health endpoints, probed with a GET on
//! their own intervals.
//!
//! A [`Prober`] answers one probe: the real one ([`HttpProber`], hyper with
//! rustls and the system's CA certificates) for AWS environments, the
//! simulation's ([`SimProber`]) for simulated ones. The
//! runner bounds every probe by its timeout; `update` keeps the history
//! ([`ProbeState`]) and decides what counts as a failure ([`judge`]).

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::HealthCheckConfig;
use crate::domain::Timestamp;
/// What a probe got back, shared with the simulation that answers probes.
pub use crate::domain::{ProbeError, ProbeReport};

/// Samples of latency kept per probe (30 minutes at the default 15 s).
pub const HISTORY: usize = 120;

/// Body bytes read (for the error text of an unexpected status).
const BODY_LIMIT: usize = 64 * 1024;

/// Answers probes of health endpoints.
#[async_trait]
pub trait Prober: Send + Sync {
    /// GETs the check's URL once. The caller bounds it by the timeout.
    async fn probe(&self, check: &HealthCheckConfig) -> ProbeReport;
}

/// Answers probes of a simulated environment from its world instead of
/// the network.
pub struct SimProber {
    sim: std::sync::Arc<crate::backend::sim::SimBackend>,
}

impl SimProber {
    pub fn new(sim: std::sync::Arc<crate::backend::sim::SimBackend>) -> Self {
        Self { sim }
    }
}

#[async_trait]
impl Prober for SimProber {
    async fn probe(&self, check: &HealthCheckConfig) -> ProbeReport {
        self.sim.probe(&check.url, check.timeout())
    }
}

/// Whether a report is healthy, and if not, the error text to show.
pub fn judge(report: &ProbeReport, expect: Option<u16>) -> Result<(), String> {
    match &report.outcome {
        Err(e) => Err(e.to_string()),
        Ok(status) => {
            let good = match expect {
                Some(want) => *status == want,
                None => (200..300).contains(status),
            };
            if good {
                return Ok(());
            }
            let reason = http::StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            let wanted = match expect {
                Some(want) => format!("{want}"),
                None => "2xx".to_string(),
            };
            let body = report.body.trim();
            let body = if body.is_empty() {
                String::new()
            } else {
                format!(": {body}")
            };
            Err(format!(
                "unexpected status {status}{reason} (expected {wanted}){body}"
            ))
        }
    }
}

/// The real prober: HTTP/1.1 over hyper, HTTPS with rustls and the
/// system's CA certificates. Redirects are not followed (a 3xx is an
/// unexpected status unless `expect_status` says so).
#[derive(Default)]
pub struct HttpProber {
    /// Built at the first probe (it reads the system's CA certificates).
    inner: std::sync::OnceLock<HttpClient>,
}

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

struct HttpClient {
    client: Client<Connector, Empty<Bytes>>,
    /// Set when the system's CA certificates could not be loaded: HTTPS
    /// probes report it, plain HTTP ones still work.
    roots_error: Option<String>,
}

impl HttpProber {
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self) -> &HttpClient {
        self.inner.get_or_init(HttpClient::new)
    }
}

impl HttpClient {
    fn new() -> Self {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let (builder, roots_error) = match builder.with_native_roots() {
            Ok(b) => (b, None),
            Err(e) => {
                // No CA certificates: keep plain HTTP working.
                let config = rustls_config_without_roots();
                (
                    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config),
                    Some(format!("no CA certificates could be loaded: {e}")),
                )
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self {
            client,
            roots_error,
        }
    }
}

fn rustls_config_without_roots() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_or_else(
        |_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        },
        |b| {
            b.with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        },
    )
}

#[async_trait]
impl Prober for HttpProber {
    async fn probe(&self, check: &HealthCheckConfig) -> ProbeReport {
        let uri: http::Uri = match check.url.parse() {
            Ok(u) => u,
            Err(e) => return ProbeReport::failed(ProbeError::BadUrl(e.to_string())),
        };
        let HttpClient {
            client,
            roots_error,
        } = self.client();
        if uri.scheme_str() == Some("https")
            && let Some(e) = roots_error
        {
            return ProbeReport::failed(ProbeError::Tls(e.clone()));
        }
        let request = match http::Request::get(uri)
            .header(
                http::header::USER_AGENT,
                concat!("honban/", env!("CARGO_PKG_VERSION"), " health-check"),
            )
            .header(http::header::ACCEPT, "*/*")
            .body(Empty::<Bytes>::new())
        {
            Ok(r) => r,
            Err(e) => return ProbeReport::failed(ProbeError::BadUrl(e.to_string())),
        };
        let started = tokio::time::Instant::now();
        let response = match client.request(request).await {
            Ok(r) => r,
            Err(e) => return ProbeReport::failed(classify(&e)),
        };
        let latency = started.elapsed();
        let status = response.status().as_u16();
        // Read (a bounded part of) the body so that the connection can be
        // reused and an unhealthy answer can say why.
        let body = match Limited::new(response.into_body(), BODY_LIMIT)
            .collect()
            .await
        {
            Ok(b) => excerpt(&b.to_bytes()),
            Err(_) => String::new(),
        };
        ProbeReport {
            latency: Some(latency),
            outcome: Ok(status),
            body,
        }
    }
}

/// The first line-ish of a body, printable, at most 120 characters.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    if text.chars().count() > 120 {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Names what went wrong with a request by walking the error's sources.
fn classify(e: &hyper_util::client::legacy::Error) -> ProbeError {
    let mut messages = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut found: Option<ProbeError> = None;
    while let Some(err) = source {
        let text = err.to_string();
        if found.is_none() {
            if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                found = Some(ProbeError::Tls(tls.to_string()));
            } else if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    found = Some(ProbeError::Refused(io.to_string()));
                } else if let Some(inner) = io.get_ref()
                    && let Some(tls) = inner.downcast_ref::<rustls::Error>()
                {
                    found = Some(ProbeError::Tls(tls.to_string()));
                }
            } else if text.starts_with("dns error") {
                let detail = err
                    .source()
                    .map_or_else(|| text.clone(), ToString::to_string);
                found = Some(ProbeError::Dns(detail));
            }
        }
        if !messages.contains(&text) {
            messages.push(text);
        }
        source = err.source();
    }
    found.unwrap_or_else(|| ProbeError::Connect(messages.join(": ")))
}

// ------------------------------------------------------------------ state

/// One probe's answer as kept in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub at: Timestamp,
    /// Time to the response headers; `None` when there was no response.
    pub latency_ms: Option<u32>,
    /// The HTTP status, if any.
    pub status: Option<u16>,
    pub ok: bool,
}

/// One configured health check and what its probes found.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeState {
    pub name: String,
    pub url: String,
    pub interval_secs: u64,
    pub expect_status: Option<u16>,
    /// The ECS service behind the endpoint (config `service`).
    pub service: Option<String>,
    /// The newest [`HISTORY`] answers, oldest first.
    pub history: VecDeque<Sample>,
    /// The probes' generation and the one in flight (read as the check's
    /// own fields through `Deref`).
    pub request: crate::request::Request,
    /// Failed probes in a row (0 when the last one succeeded).
    pub consecutive_failures: u32,
    pub total_failures: u64,
    pub total: u64,
    /// The newest failure's text and time (kept after recovery).
    pub last_error: Option<(Timestamp, String)>,
    /// When the current run of failures began.
    pub failing_since: Option<Timestamp>,
}

impl std::ops::Deref for ProbeState {
    type Target = crate::request::Request;
    fn deref(&self) -> &crate::request::Request {
        &self.request
    }
}

impl std::ops::DerefMut for ProbeState {
    fn deref_mut(&mut self) -> &mut crate::request::Request {
        &mut self.request
    }
}

impl ProbeState {
    pub fn from_config(c: &HealthCheckConfig) -> Self {
        Self {
            name: c.display_name(),
            url: c.url.clone(),
            interval_secs: c.interval_secs,
            expect_status: c.expect_status,
            service: c.service.clone(),
            history: VecDeque::with_capacity(HISTORY),
            request: crate::request::Request::default(),
            consecutive_failures: 0,
            total_failures: 0,
            total: 0,
            last_error: None,
            failing_since: None,
        }
    }

    pub fn last(&self) -> Option<&Sample> {
        self.history.back()
    }

    /// `Some(true)` healthy, `Some(false)` failing, `None` not probed yet.
    pub fn healthy(&self) -> Option<bool> {
        self.last().map(|s| s.ok)
    }

    /// The error of the current failure, if failing.
    pub fn current_error(&self) -> Option<&str> {
        if self.healthy() == Some(false) {
            self.last_error.as_ref().map(|(_, e)| e.as_str())
        } else {
            None
        }
    }

    /// Records an answer (pure; `update` calls it).
    pub fn record(&mut self, at: Timestamp, report: &ProbeReport) {
        let verdict = judge(report, self.expect_status);
        let ok = verdict.is_ok();
        let latency_ms = report
            .latency
            .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX));
        self.history.push_back(Sample {
            at,
            latency_ms,
            status: report.outcome.as_ref().ok().copied(),
            ok,
        });
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        self.total += 1;
        match verdict {
            Ok(()) => {
                self.consecutive_failures = 0;
                self.failing_since = None;
            }
            Err(text) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.total_failures += 1;
                self.failing_since.get_or_insert(at);
                self.last_error = Some((at, text));
            }
        }
    }
}

/// `(healthy, failing, total)` of an environment's probes (not yet probed
/// ones count in the total only).
pub fn counts(probes: &[ProbeState]) -> (usize, usize, usize) {
    let ok = probes.iter().filter(|p| p.healthy() == Some(true)).count();
    let bad = probes.iter().filter(|p| p.healthy() == Some(false)).count();
    (ok, bad, probes.len())
}

/// `45ms`, `1.2s`.
pub fn format_latency(ms: u32) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", f64::from(ms) / 1000.0)
    }
}

/// Runs one probe bounded by the check's timeout (the runner calls it).
pub async fn run(prober: &dyn Prober, check: &HealthCheckConfig) -> ProbeReport {
    match tokio::time::timeout(check.timeout(), prober.probe(check)).await {
        Ok(r) => r,
        Err(_) => ProbeReport::failed(ProbeError::Timeout {
            secs: check.timeout().as_secs(),
        }),
    }
}
