//! Simulated CloudWatch Logs: the awslogs streams of the simulated tasks
//! (`<prefix>/<container>/<task id>` in `/ecs/<family>`), produced
//! deterministically from the world. An app container writes a sample of
//! its access log (one line per 50 requests of its target group's
//! `RequestCount`) and an `ERROR` line per 5XX of its `HTTPCode_Target_5XX_Count`
//! (capped), a worker writes its jobs, a sidecar a flush line now and then.
//! The events of a minute follow from the metrics of the minute before, so
//! they are fixed from the moment they exist: follow mode sees each once.
//!
//! Queries answer like `FilterLogEvents`: stream prefix, term filter
//! pattern, start/end, limit and a next token.

use chrono::{DateTime, TimeDelta, Utc};
use fastrand::Rng;

use super::SimBackend;
use super::engine::World;
use crate::backend::{BackendError, BackendResult};
use crate::backend::{Logs, LogsChanges};
use crate::domain::Pattern;
use crate::domain::{LogEvent, LogPage, LogQuery, Task, Timestamp};
use async_trait::async_trait;

#[async_trait]
impl Logs for SimBackend {
    async fn log_events(
        &self,
        query: &crate::domain::LogQuery,
    ) -> BackendResult<crate::domain::LogPage> {
        self.gate()?;
        self.with(|w| filter_events(w, query))
    }
}

#[async_trait]
impl LogsChanges for SimBackend {
    async fn put_audit_records(
        &self,
        group: &str,
        stream: &str,
        records: &[(Timestamp, String)],
    ) -> BackendResult<()> {
        self.gate()?;
        let mut trail = self.trail.lock().map_err(|_| BackendError::Other {
            message: "the simulated log store is poisoned".to_string(),
        })?;
        trail.extend(
            records
                .iter()
                .map(|(_, m)| (group.to_string(), stream.to_string(), m.clone())),
        );
        Ok(())
    }
}

/// Access-log lines are a sample: one per this many requests.
const SAMPLE: f64 = 50.0;
/// At most this many error lines per task and minute.
const MAX_ERRORS: u32 = 120;

/// One stream of a simulated task.
struct Stream {
    name: String,
    kind: Kind,
    from: Timestamp,
    to: Option<Timestamp>,
    /// The service's requests and 5XX per minute (start of minute → value).
    service: usize,
    /// A drill's bad task: its peers' errors are all its own.
    bad: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Web,
    Worker,
    Sidecar,
}

/// Per service: `(requests, 5xx, latency)` datapoints by minute.
type Rates = Vec<(Timestamp, f64, f64, f64)>;

pub(crate) fn filter_events(w: &World, q: &LogQuery) -> BackendResult<LogPage> {
    let pattern = Pattern::parse(q.filter_pattern.as_deref().unwrap_or(""));
    if matches!(pattern, Pattern::Structured(_)) {
        return Err(BackendError::Invalid {
            message: "the simulation evaluates term patterns only (ERROR, \"a phrase\", ?A ?B, -x)"
                .to_string(),
        });
    }
    let after = match q.next_token.as_deref() {
        None => None,
        Some(t) => Some(parse_token(t).ok_or_else(|| BackendError::Invalid {
            message: "The specified nextToken is invalid.".to_string(),
        })?),
    };
    let mut streams = Vec::new();
    let bad = w.bad_tasks();
    let mut rates: Vec<Rates> = Vec::new();
    let mut group_exists = false;
    let day_ago = w.now - TimeDelta::days(1);
    let from = q.start.max(day_ago);
    let to = q.end.unwrap_or(w.now).min(w.now);
    for (si, s) in w.ecs.services.iter().enumerate() {
        let tasks: Vec<Task> = w
            .ecs
            .tasks(&s.cluster)
            .map(|l| l.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.service_name() == Some(s.name.as_str()))
            .collect();
        let mut has_streams = None;
        for t in &tasks {
            let Ok(td) = w.ecs.task_definition(&t.task_definition) else {
                continue;
            };
            for c in &td.containers {
                if c.log_group.as_deref() != Some(q.group.as_str()) {
                    continue;
                }
                group_exists = true;
                let name = format!(
                    "{}/{}/{}",
                    c.log_stream_prefix.as_deref().unwrap_or("ecs"),
                    c.name,
                    t.id()
                );
                if q.stream_prefix
                    .as_deref()
                    .is_some_and(|p| !name.starts_with(p))
                {
                    continue;
                }
                let kind = if !c.port_mappings.is_empty() {
                    Kind::Web
                } else if c.essential {
                    Kind::Worker
                } else {
                    Kind::Sidecar
                };
                let Some(started) = t.started_at else {
                    continue;
                };
                streams.push(Stream {
                    name,
                    kind,
                    from: started,
                    to: t.stopped_at,
                    service: si,
                    bad: bad.iter().any(|b| b == t.id()),
                });
                has_streams = Some(si);
            }
        }
        rates.push(if has_streams.is_some() {
            service_rates(w, &s.name, from - TimeDelta::minutes(1), to)
        } else {
            Vec::new()
        });
    }
    // A group of a service that has no task now still exists.
    group_exists |= w.ecs.services.iter().any(|s| {
        s.deployments.iter().any(|d| {
            w.ecs.task_definition(&d.task_definition).is_ok_and(|td| {
                td.containers
                    .iter()
                    .any(|c| c.log_group.as_deref() == Some(q.group.as_str()))
            })
        })
    });
    if !group_exists {
        return Err(BackendError::NotFound {
            resource: format!("log group {}", q.group),
        });
    }
    streams.sort_by(|a, b| a.name.cmp(&b.name));
    let limit = q.limit.clamp(1, 10_000) as usize;
    let mut out: Vec<LogEvent> = Vec::new();
    let mut minute = floor_minute(match after {
        Some((t, _)) => t.max(from),
        None => from,
    });
    while minute <= to {
        let mut batch: Vec<LogEvent> = Vec::new();
        for s in &streams {
            let r = rates.get(s.service).map(Vec::as_slice).unwrap_or_default();
            minute_events(s, minute, r, &streams, &mut batch);
        }
        batch.retain(|e| {
            e.timestamp >= from
                && e.timestamp < to
                && after
                    .as_ref()
                    .is_none_or(|(t, id)| (e.timestamp, &e.id) > (*t, id))
                && pattern.matches(&e.message).unwrap_or(true)
        });
        batch.sort_by(|a, b| a.timestamp.cmp(&b.timestamp).then_with(|| a.id.cmp(&b.id)));
        for e in batch {
            if out.len() == limit {
                let next_token = out
                    .last()
                    .map(|l| format!("sim:{}:{}", l.timestamp.timestamp_millis(), l.id));
                return Ok(LogPage {
                    events: out,
                    next_token,
                });
            }
            out.push(e);
        }
        minute += TimeDelta::minutes(1);
    }
    Ok(LogPage {
        events: out,
        next_token: None,
    })
}

fn parse_token(t: &str) -> Option<(Timestamp, String)> {
    let rest = t.strip_prefix("sim:")?;
    let (ms, id) = rest.split_once(':')?;
    Some((
        DateTime::<Utc>::from_timestamp_millis(ms.parse().ok()?)?,
        id.to_string(),
    ))
}

fn floor_minute(t: Timestamp) -> Timestamp {
    let s = t.timestamp();
    DateTime::<Utc>::from_timestamp(s - s.rem_euclid(60), 0).unwrap_or(t)
}

/// The service's target-group metrics by minute.
fn service_rates(w: &World, service: &str, from: Timestamp, to: Timestamp) -> Rates {
    let Ok(listing) = w
        .ecs
        .services
        .iter()
        .find(|s| s.name == service)
        .map_or(Ok(Vec::new()), |s| {
            w.ecs.services(&s.cluster).map(|l| l.items)
        })
    else {
        return Vec::new();
    };
    let Some(svc) = listing.into_iter().find(|s| s.name == service) else {
        return Vec::new();
    };
    let Some(tg) = svc
        .load_balancers
        .iter()
        .find_map(|lb| lb.target_group_arn.clone())
    else {
        return Vec::new();
    };
    let metric = |name: &str| {
        w.metrics.iter().find(|m| {
            m.namespace == "AWS/ApplicationELB"
                && m.name == name
                && m.dimension("TargetGroup").is_some_and(|d| tg.ends_with(d))
        })
    };
    let series = |name: &str| {
        metric(name)
            .map(|m| m.between(from, to))
            .unwrap_or_default()
    };
    let requests = series("RequestCount");
    let errors = series("HTTPCode_Target_5XX_Count");
    let latency = series("TargetResponseTime");
    requests
        .iter()
        .map(|(t, r)| {
            let at =
                |v: &[(Timestamp, f64)]| v.iter().find(|(x, _)| x == t).map_or(0.0, |(_, v)| *v);
            (*t, *r, at(&errors), at(&latency))
        })
        .collect()
}

/// FNV-1a: a stable hash for seeding and ids.
fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const PATHS: &[&str] = &[
    "/",
    "/articles",
    "/articles/{}",
    "/api/articles/{}",
    "/api/auth/session",
    "/users/{}",
    "/api/health",
    "/search?q=rust",
];

const JOBS: &[&str] = &[
    "mail.send",
    "thumbnail.render",
    "search.index",
    "digest.weekly",
];

const FAILURES: &[&str] = &[
    "upstream request timeout after 3000ms (api.internal:8080)",
    "connect ECONNREFUSED 10.0.2.41:5432 (database)",
    "remaining connection slots are reserved (database)",
    "Unhandled Exception: TypeError: Cannot read properties of undefined",
];

/// The events of one stream in the minute starting at `minute`.
fn minute_events(
    s: &Stream,
    minute: Timestamp,
    rates: &[(Timestamp, f64, f64, f64)],
    all: &[Stream],
    out: &mut Vec<LogEvent>,
) {
    let end = minute + TimeDelta::minutes(1);
    if s.from >= end || s.to.is_some_and(|t| t <= minute) {
        return;
    }
    let prev = minute - TimeDelta::minutes(1);
    let minute_s = minute.timestamp().to_be_bytes();
    let mut rng = Rng::with_seed(hash(&[s.name.as_bytes(), &minute_s]));
    let mut lines: Vec<String> = Vec::new();
    match s.kind {
        Kind::Web => {
            let (requests, errors, latency) = rates
                .iter()
                .find(|(t, ..)| *t == prev)
                .map_or((0.0, 0.0, 0.2), |(_, r, e, l)| (*r, *e, *l));
            // The load and the errors are spread over the tasks running.
            let peers: Vec<&Stream> = all
                .iter()
                .filter(|o| {
                    o.service == s.service
                        && o.kind == Kind::Web
                        && o.from < end
                        && o.to.is_none_or(|t| t > minute)
                })
                .collect();
            let n = peers.len().max(1);
            let me = peers.iter().position(|o| o.name == s.name).unwrap_or(0);
            let access = (requests / SAMPLE / n as f64).round() as u32;
            let total_errors = errors.max(0.0).round() as u32;
            let mut my_errors = total_errors / n as u32;
            if (me as u32) < total_errors % n as u32 {
                my_errors += 1;
            }
            // One bad task serves the failing requests (a drill's fault).
            if peers.iter().any(|o| o.bad) {
                my_errors = if s.bad { total_errors } else { 0 };
            }
            for _ in 0..access {
                let path =
                    PATHS[rng.usize(..PATHS.len())].replace("{}", &rng.u32(1..5000).to_string());
                let ms = (latency * 1000.0 * (0.5 + rng.f64())).round() as u64;
                let method = if rng.u8(..10) == 0 { "POST" } else { "GET" };
                let status = if rng.u8(..20) == 0 { 304 } else { 200 };
                lines.push(format!(
                    "INFO  {method} {path} {status} {ms}ms req={:08x}",
                    rng.u32(..)
                ));
            }
            for _ in 0..my_errors.min(MAX_ERRORS) {
                let path =
                    PATHS[rng.usize(..PATHS.len())].replace("{}", &rng.u32(1..5000).to_string());
                let status = [500, 502, 503, 504][rng.usize(..4)];
                let why = FAILURES[rng.usize(..FAILURES.len())];
                lines.push(format!(
                    "ERROR GET {path} {status} {why} req={:08x}",
                    rng.u32(..)
                ));
            }
        }
        Kind::Worker => {
            for _ in 0..rng.u32(4..9) {
                let job = JOBS[rng.usize(..JOBS.len())];
                if rng.u8(..40) == 0 {
                    lines.push(format!(
                        "WARN  job {job} retrying (attempt 2/5): deadline exceeded"
                    ));
                } else {
                    lines.push(format!("INFO  job {job} done in {}ms", rng.u32(40..900)));
                }
            }
        }
        Kind::Sidecar => {
            if minute.timestamp().rem_euclid(300) == 0 {
                lines.push(format!(
                    "[ info] [output:cloudwatch_logs:cloudwatch_logs.0] flushed {} records",
                    rng.u32(100..2000)
                ));
            }
        }
    }
    for (i, message) in lines.into_iter().enumerate() {
        let ts = minute + TimeDelta::milliseconds(i64::from(rng.u32(..60_000)));
        if ts < s.from || s.to.is_some_and(|t| ts >= t) {
            continue;
        }
        let id = format!(
            "{:013}{:016x}{:04}",
            ts.timestamp_millis(),
            hash(&[s.name.as_bytes()]),
            i
        );
        out.push(LogEvent {
            id,
            timestamp: ts,
            ingested: Some(ts),
            stream: s.name.clone(),
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::prelude::*;

    use crate::backend::sim::SimBackend;
    use crate::clock::Clock;
    use chrono::TimeZone;

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("time")
    }

    fn query(start: Timestamp) -> LogQuery {
        LogQuery {
            group: "/ecs/works-logue-prod-web".into(),
            stream_prefix: None,
            filter_pattern: None,
            start,
            end: None,
            limit: 10_000,
            next_token: None,
        }
    }

    #[tokio::test]
    async fn streams_follow_the_tasks_and_pages_chain() {
        let clock = Clock::manual(t0());
        let sim = SimBackend::new("production", 7, clock.clone()).expect("world");
        clock.advance(std::time::Duration::from_mins(10));
        let all = sim.log_events(&query(t0())).await.expect("events");
        assert!(all.events.len() > 50, "{}", all.events.len());
        assert!(all.next_token.is_none());
        let tasks = sim.tasks("works-logue-prod").await.expect("tasks").items;
        for e in &all.events {
            let task = e.stream.rsplit('/').next().expect("task id");
            assert!(tasks.iter().any(|t| t.id() == task), "{}", e.stream);
            assert!(e.stream.starts_with("ecs/web/") || e.stream.starts_with("firelens/"));
        }
        // The same query again: the same events (deterministic).
        assert_eq!(sim.log_events(&query(t0())).await.expect("again"), all);
        // Paged: the same events, in pages of 7.
        let mut q = query(t0());
        q.limit = 7;
        let mut paged = Vec::new();
        loop {
            let page = sim.log_events(&q).await.expect("page");
            assert!(page.events.len() <= 7);
            paged.extend(page.events);
            match page.next_token {
                Some(t) => q.next_token = Some(t),
                None => break,
            }
        }
        assert_eq!(paged, all.events);
        // A prefix and a pattern narrow it.
        let first = &all.events[0].stream;
        let mut q = query(t0());
        q.stream_prefix = Some(first.clone());
        q.filter_pattern = Some("INFO -POST".into());
        let some = sim.log_events(&q).await.expect("narrowed");
        assert!(!some.events.is_empty());
        assert!(some.events.iter().all(|e| &e.stream == first
            && e.message.contains("INFO")
            && !e.message.contains("POST")));
        // A group nobody writes to.
        let mut q = query(t0());
        q.group = "/ecs/nothing".into();
        assert!(matches!(
            sim.log_events(&q).await,
            Err(BackendError::NotFound { .. })
        ));
    }
}
