//! Health endpoints of the simulated world: `[[world.health_check]]`, and
//! their answers from the simulation instead of the network
//! ([`SimBackend::probe`]; `probe::SimProber` asks it).
//!
//! The service behind a URL answers 503 while it has no healthy task
//! (all stopped, or every new task of a bad deploy crashing), sometimes
//! 502 while some of its tasks are unhealthy, and 503 from a readiness
//! endpoint while its database is not available. Latency is the service's
//! `TargetResponseTime` (or a base value) and grows with its CPU; beyond
//! the timeout the probe times out.

use std::time::Duration;

use serde::Deserialize;

use super::SimBackend;
use super::engine::World;
use crate::domain::{ProbeError, ProbeReport};

/// `[[world.health_check]]`: an endpoint and the service that answers it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthCheckDesc {
    pub name: String,
    pub url: String,
    /// The ECS service behind the URL.
    pub service: String,
    /// A DB instance the endpoint checks (a readiness endpoint).
    #[serde(default)]
    pub database: Option<String>,
    /// Latency when the service has no `TargetResponseTime` metric.
    #[serde(default = "default_base_latency")]
    pub base_latency_ms: u32,
}

fn default_base_latency() -> u32 {
    60
}

impl SimBackend {
    /// Answers a GET of `url` from the world (its endpoint of that URL, or
    /// of that path on another host, or else the first one the world has),
    /// as a probe with `timeout` would get it.
    pub fn probe(&self, url: &str, timeout: Duration) -> ProbeReport {
        let path = |u: &str| u.parse::<http::Uri>().ok().map(|u| u.path().to_string());
        let desc = self
            .health_checks
            .iter()
            .find(|h| h.url == url)
            .or_else(|| {
                self.health_checks
                    .iter()
                    .find(|h| path(&h.url).is_some() && path(&h.url) == path(url))
            })
            .or_else(|| self.health_checks.first());
        let Some(desc) = desc else {
            let host = url
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_string))
                .unwrap_or_default();
            return ProbeReport::failed(ProbeError::Dns(format!(
                "{host}: the simulated world \"{}\" has no such endpoint",
                self.world_name
            )));
        };
        self.with(|w| answer(w, desc, url, timeout))
    }
}

/// A cheap deterministic hash: the same world time and URL, the same answer
/// (the world's own RNG is not touched, so probing changes nothing).
fn noise(seed: i64, url: &str) -> f64 {
    let mut h = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in url.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    h ^= h >> 29;
    (h % 10_000) as f64 / 10_000.0
}

fn answer(w: &World, desc: &HealthCheckDesc, url: &str, timeout: Duration) -> ProbeReport {
    let now = w.now;
    let r = noise(now.timestamp(), url);
    let mut service = None;
    let mut tasks = Vec::new();
    for c in w.ecs.clusters(&[]).items {
        if let Ok(l) = w.ecs.services(&c.name)
            && let Some(s) = l.items.into_iter().find(|s| s.name == desc.service)
        {
            service = Some(s);
            if let Ok(t) = w.ecs.tasks(&c.name) {
                tasks = t
                    .items
                    .into_iter()
                    .filter(|t| t.service_name() == Some(desc.service.as_str()))
                    .collect();
            }
            break;
        }
    }
    let Some(service) = service else {
        return status(503, 2, r#"{"message":"no target group for this host"}"#);
    };
    let live: Vec<_> = tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING" && t.desired_status == "RUNNING")
        .collect();
    let healthy = live
        .iter()
        .filter(|t| t.health_status == "HEALTHY" || t.health_status == "UNKNOWN")
        .count();
    let unhealthy = live.len() - healthy;
    // The load balancer answers itself when nothing behind it is healthy.
    if healthy == 0 {
        return status(
            503,
            1,
            "<html><body><h1>503 Service Temporarily Unavailable</h1>",
        );
    }
    // A target failing its checks still gets the odd request first.
    if unhealthy > 0 && r < 0.5 * unhealthy as f64 / live.len() as f64 {
        return status(502, 3, "<html><body><h1>502 Bad Gateway</h1>");
    }
    // Latency: the target group's response time, slower under CPU load.
    let target_group = service
        .load_balancers
        .iter()
        .filter_map(|lb| lb.target_group_arn.as_deref())
        .find_map(|arn| arn.find("targetgroup/").map(|i| &arn[i..]));
    let base = w
        .metrics
        .iter()
        .find(|m| {
            m.name == "TargetResponseTime"
                && target_group.is_some()
                && m.dimension("TargetGroup") == target_group
        })
        .and_then(|m| m.last_values(1).first().copied())
        .map_or(f64::from(desc.base_latency_ms), |s| s * 1000.0);
    let cpu = w
        .metrics
        .iter()
        .find(|m| {
            m.namespace == "AWS/ECS"
                && m.name == "CPUUtilization"
                && m.dimension("ServiceName") == Some(desc.service.as_str())
        })
        .and_then(|m| m.last_values(1).first().copied())
        .unwrap_or(30.0);
    let load = ((cpu - 60.0) / 40.0).max(0.0);
    let ms = base * (1.0 + 4.0 * load * load) * (0.85 + 0.3 * r);
    let latency = Duration::from_millis(ms.max(1.0) as u64);
    if latency >= timeout {
        return ProbeReport::failed(ProbeError::Timeout {
            secs: timeout.as_secs(),
        });
    }
    if let Some(db) = &desc.database {
        let available = w
            .rds
            .instances(std::slice::from_ref(db), now)
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|d| d.status);
        if available.as_deref() != Some("available") {
            let state = available.unwrap_or_else(|| "missing".to_string());
            return ProbeReport {
                latency: Some(latency),
                outcome: Ok(503),
                body: format!(r#"{{"status":"not ready","database":"{db} is {state}"}}"#),
            };
        }
    }
    ProbeReport {
        latency: Some(latency),
        outcome: Ok(200),
        body: r#"{"status":"ok"}"#.to_string(),
    }
}

fn status(code: u16, ms: u64, body: &str) -> ProbeReport {
    ProbeReport {
        latency: Some(Duration::from_millis(ms)),
        outcome: Ok(code),
        body: body.to_string(),
    }
}
