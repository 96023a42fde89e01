//! The logs view's model: where a service's (or a task's) logs are, the
//! follow loop's bookkeeping (moving start time, de-duplication by event
//! id, paging tokens), a bounded ring buffer of lines, and the two small
//! languages an operator types: CloudWatch Logs filter patterns (sent to the
//! server; parsed here only to highlight the terms and for the simulation)
//! and "jump to a time" (`15m`, `2h`, `HH:MM` UTC).
//!
//! Everything here is pure: `update/logs.rs` drives it, `ui/logs.rs` draws it.

use std::collections::{HashMap, VecDeque};

use chrono::{NaiveTime, TimeDelta};

use crate::backend::BackendError;
use crate::domain::{LogEvent, LogQuery, Task, TaskDefinition, Timestamp};

/// The filter pattern is the simulation's as much as the view's.
pub use crate::domain::Pattern;

/// The default size of the ring buffer (config `logs_buffer_lines`).
pub const DEFAULT_BUFFER_LINES: usize = 5000;
/// What `logs_buffer_lines` may be (a screenful; about 200 MB of lines).
pub const BUFFER_LINES_RANGE: std::ops::RangeInclusive<usize> = 100..=1_000_000;
/// How far back a new logs view starts.
pub const DEFAULT_LOOKBACK_MINS: i64 = 15;
/// Seconds between two polls while following.
pub const POLL_SECS: i64 = 2;
/// Each poll asks again from this long before the newest event seen, for
/// events ingested late; ids already seen are dropped.
pub const OVERLAP_SECS: i64 = 10;
/// Events per page asked of the server.
pub const PAGE_LIMIT: u32 = 500;
/// At most this many pages per source in one poll: a high-volume group is
/// read on over several polls (each continuing with the page token) and
/// never floods the loop.
pub const MAX_PAGES_PER_POLL: usize = 4;
/// The filter pattern of the "errors only" key.
pub const ERROR_PATTERN: &str = "ERROR";

/// One place logs are read from: a group and a stream-name prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    pub group: String,
    pub stream_prefix: Option<String>,
}

/// The awslogs sources of a task definition's containers: one per container
/// with an `awslogs-group`, the streams being `<prefix>/<container>/<task>`.
/// With `task`, only that task's streams.
pub fn sources_of(td: &TaskDefinition, task: Option<&str>) -> Vec<LogSource> {
    let mut out: Vec<LogSource> = Vec::new();
    for c in &td.containers {
        let Some(group) = c.log_group.clone() else {
            continue;
        };
        // Without a stream prefix awslogs names streams by task id alone
        // (EC2 only): read the whole group, or that task's stream.
        let stream_prefix = match (c.log_stream_prefix.as_deref(), task) {
            (Some(p), Some(t)) => Some(format!("{p}/{}/{t}", c.name)),
            (Some(p), None) => Some(format!("{p}/{}/", c.name)),
            (None, Some(t)) => Some(t.to_string()),
            (None, None) => None,
        };
        let source = LogSource {
            group,
            stream_prefix,
        };
        if !out.contains(&source) {
            out.push(source);
        }
    }
    out
}

/// Whose logs a view shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub env: usize,
    pub service: String,
    /// A task id: only its streams.
    pub task: Option<String>,
    /// The task definition whose awslogs configuration says where.
    pub task_definition: String,
}

impl LogTarget {
    /// The target of one task (its service, its own task definition).
    pub fn of_task(env: usize, task: &Task) -> Option<Self> {
        Some(Self {
            env,
            service: task.service_name()?.to_string(),
            task: Some(task.id().to_string()),
            task_definition: task.task_definition.clone(),
        })
    }

    /// `web`, or `web task 0f1e2d3c` (the task id shortened as the tasks
    /// view shows it, so that the title leaves room for the status).
    pub fn label(&self) -> String {
        match &self.task {
            Some(t) => format!("{} task {}", self.service, t.get(..8).unwrap_or(t)),
            None => self.service.clone(),
        }
    }
}

/// A line being typed in the logs view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The filter pattern.
    Pattern(String),
    /// A time to jump to.
    Time(String),
}

/// The logs view: a ring buffer of events and the follow loop.
#[derive(Debug, Clone, PartialEq)]
pub struct LogsState {
    pub target: LogTarget,
    /// Resolved from the task definition (empty until it is known).
    pub sources: Vec<LogSource>,
    /// Per source: the token to continue with (the last poll was capped)
    /// and the start time of the query it belongs to.
    pub tokens: Vec<Option<(String, Timestamp)>>,
    /// Oldest first, sorted by time; at most `capacity`.
    pub lines: VecDeque<LogEvent>,
    pub capacity: usize,
    /// Ids of the events at or after `newest - OVERLAP_SECS`.
    seen: HashMap<String, Timestamp>,
    /// The newest event time seen.
    pub newest: Option<Timestamp>,
    /// Where the window starts (a jump moves it).
    pub start: Timestamp,
    /// The filter pattern sent to CloudWatch Logs (empty: none).
    pub pattern: String,
    /// No polling while paused.
    pub paused: bool,
    /// The view sticks to the newest line.
    pub follow: bool,
    /// The polls' generation and the one in flight (read as the view's
    /// own fields through `Deref`).
    pub request: crate::request::Request,
    /// When the next poll is due.
    pub next_poll: Option<Timestamp>,
    pub loaded_at: Option<Timestamp>,
    pub error: Option<BackendError>,
    /// Lines dropped from the front of the buffer so far.
    pub evicted: u64,
    pub prompt: Option<Prompt>,
    /// The first line shown (the view scrolls by itself around the cursor).
    pub cursor: usize,
    /// Long lines wrapped onto further rows (`w`), else cut at the width.
    pub wrap: bool,
}

impl std::ops::Deref for LogsState {
    type Target = crate::request::Request;
    fn deref(&self) -> &crate::request::Request {
        &self.request
    }
}

impl std::ops::DerefMut for LogsState {
    fn deref_mut(&mut self) -> &mut crate::request::Request {
        &mut self.request
    }
}

impl LogsState {
    pub fn new(target: LogTarget, capacity: usize, now: Timestamp) -> Self {
        Self {
            target,
            sources: Vec::new(),
            tokens: Vec::new(),
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            seen: HashMap::new(),
            newest: None,
            start: now - TimeDelta::minutes(DEFAULT_LOOKBACK_MINS),
            pattern: String::new(),
            paused: false,
            follow: true,
            request: crate::request::Request::default(),
            next_poll: Some(now),
            loaded_at: None,
            error: None,
            evicted: 0,
            prompt: None,
            cursor: 0,
            wrap: false,
        }
    }

    /// Forgets every line and reads again from `start` (a new pattern or
    /// time); a result in flight is dropped by its generation.
    pub fn restart(&mut self, now: Timestamp) {
        self.lines.clear();
        self.seen.clear();
        self.newest = None;
        self.tokens = vec![None; self.sources.len()];
        self.request.supersede();
        self.next_poll = Some(now);
        self.error = None;
        self.cursor = 0;
    }

    /// Whether the last poll stopped at its cap with more to read.
    pub fn behind(&self) -> bool {
        self.tokens.iter().any(Option::is_some)
    }

    /// The queries of the next poll: per source, the page token if the
    /// last poll was capped, else from just before the newest event seen.
    pub fn queries(&self) -> Vec<LogQuery> {
        let from = match self.newest {
            Some(t) => (t - TimeDelta::seconds(OVERLAP_SECS)).max(self.start),
            None => self.start,
        };
        let pattern = Some(self.pattern.trim().to_string()).filter(|p| !p.is_empty());
        self.sources
            .iter()
            .enumerate()
            .map(|(i, s)| LogQuery {
                group: s.group.clone(),
                stream_prefix: s.stream_prefix.clone(),
                filter_pattern: pattern.clone(),
                // A token belongs to the query it came from.
                start: match self.tokens.get(i) {
                    Some(Some((_, start))) => *start,
                    _ => from,
                },
                end: None,
                limit: PAGE_LIMIT,
                next_token: match self.tokens.get(i) {
                    Some(Some((token, _))) => Some(token.clone()),
                    _ => None,
                },
            })
            .collect()
    }

    /// Adds the events of a poll: each id once, in time order, the oldest
    /// dropped beyond the capacity. Returns how many lines were added.
    pub fn ingest(&mut self, mut events: Vec<LogEvent>) -> usize {
        events.sort_by(|a, b| a.timestamp.cmp(&b.timestamp).then_with(|| a.id.cmp(&b.id)));
        let mut added = 0;
        let mut evicted = 0_usize;
        for e in events {
            if self.seen.contains_key(&e.id) {
                continue;
            }
            self.seen.insert(e.id.clone(), e.timestamp);
            self.newest = Some(self.newest.map_or(e.timestamp, |n| n.max(e.timestamp)));
            // Usually the newest: appended; a late one is inserted in order.
            let at = if self.lines.back().is_none_or(|l| l.timestamp <= e.timestamp) {
                self.lines.len()
            } else {
                self.lines.partition_point(|l| l.timestamp <= e.timestamp)
            };
            self.lines.insert(at, e);
            added += 1;
            while self.lines.len() > self.capacity {
                self.lines.pop_front();
                evicted += 1;
            }
        }
        self.evicted += evicted as u64;
        // Ids older than the overlap can no longer come back.
        if let Some(newest) = self.newest {
            let horizon = newest - TimeDelta::seconds(OVERLAP_SECS + 1);
            self.seen.retain(|_, t| *t >= horizon);
        }
        if self.follow {
            self.cursor = self.lines.len().saturating_sub(1);
        } else {
            self.cursor = self.cursor.saturating_sub(evicted);
        }
        added
    }

    /// How many event ids are remembered for de-duplication.
    pub fn seen_len(&self) -> usize {
        self.seen.len()
    }
}

/// Splits `line` into `(text, highlighted)` pieces where any of `terms`
/// occurs (case-sensitive, leftmost-longest).
pub fn highlight<'a>(line: &'a str, terms: &[&str]) -> Vec<(&'a str, bool)> {
    let terms: Vec<&str> = terms.iter().copied().filter(|t| !t.is_empty()).collect();
    if terms.is_empty() {
        return vec![(line, false)];
    }
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        // The earliest match, the longest term at that place.
        let hit = terms
            .iter()
            .filter_map(|t| rest.find(t).map(|i| (i, t.len())))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        if let Some((i, len)) = hit {
            if i > 0 {
                out.push((&rest[..i], false));
            }
            out.push((&rest[i..i + len], true));
            rest = &rest[i + len..];
        } else {
            if !rest.is_empty() {
                out.push((rest, false));
            }
            break;
        }
    }
    out
}

/// Parses a time to jump to: a duration back from now (`90s`, `15m`,
/// `2h`, `1d`) or a UTC time of day (`HH:MM`, `HH:MM:SS`; the last such
/// moment, so `23:50` shortly after midnight means yesterday).
pub fn parse_jump(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("type a time: 15m, 2h, 1d or HH:MM (UTC)".to_string());
    }
    if text.contains(':') {
        let time = NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
            .map_err(|_| format!("\"{text}\" is not a time of day (HH:MM, UTC)"))?;
        let today = now.date_naive().and_time(time).and_utc();
        return Ok(if today > now {
            today - TimeDelta::days(1)
        } else {
            today
        });
    }
    let split = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("\"{text}\": expected a number and s, m, h or d (15m)"))?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("unknown unit \"{other}\": use s, m, h or d")),
    };
    let back = n
        .checked_mul(secs)
        .filter(|s| *s <= 30 * 86_400)
        .ok_or_else(|| format!("\"{text}\" is too far back (30 days at most)"))?;
    Ok(now - TimeDelta::seconds(back))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("time")
    }

    fn event(id: &str, secs: i64) -> LogEvent {
        LogEvent {
            id: id.to_string(),
            timestamp: t0() + TimeDelta::seconds(secs),
            ingested: None,
            stream: "ecs/web/abc".into(),
            message: format!("line {id}"),
        }
    }

    fn logs(capacity: usize) -> LogsState {
        let target = LogTarget {
            env: 0,
            service: "web".into(),
            task: None,
            task_definition: "web:1".into(),
        };
        let mut s = LogsState::new(target, capacity, t0());
        s.sources = vec![LogSource {
            group: "/ecs/web".into(),
            stream_prefix: Some("ecs/web/".into()),
        }];
        s.tokens = vec![None];
        s
    }

    #[test]
    fn highlights_split_the_line() {
        assert_eq!(
            highlight("GET /a 502 ERROR x ERROR", &["ERROR", "502"]),
            vec![
                ("GET /a ", false),
                ("502", true),
                (" ", false),
                ("ERROR", true),
                (" x ", false),
                ("ERROR", true)
            ]
        );
        assert_eq!(highlight("plain", &[]), vec![("plain", false)]);
    }

    #[test]
    fn jumps_parse_durations_and_times_of_day() {
        let now = t0() + TimeDelta::minutes(30); // 03:30 UTC
        assert_eq!(parse_jump("15m", now), Ok(now - TimeDelta::minutes(15)));
        assert_eq!(parse_jump("2h", now), Ok(now - TimeDelta::hours(2)));
        assert_eq!(parse_jump("03:10", now), Ok(t0() + TimeDelta::minutes(10)));
        // Later than now today: yesterday.
        assert_eq!(parse_jump("23:50", now), Ok(t0() - TimeDelta::minutes(190)));
        assert!(parse_jump("soon", now).is_err());
        assert!(parse_jump("5y", now).is_err());
        assert!(parse_jump("99999999999d", now).is_err());
        assert!(parse_jump("25:00", now).is_err());
    }

    #[test]
    fn sources_come_from_the_awslogs_configuration() {
        let c = |name: &str, group: Option<&str>, prefix: Option<&str>| {
            crate::domain::ContainerDefinition {
                name: name.into(),
                image: "img".into(),
                essential: true,
                cpu: None,
                memory: None,
                port_mappings: Vec::new(),
                secrets: Vec::new(),
                log_group: group.map(str::to_string),
                log_stream_prefix: prefix.map(str::to_string),
            }
        };
        let td = TaskDefinition {
            arn: "arn:td/web:1".into(),
            family: "web".into(),
            revision: 1,
            status: "ACTIVE".into(),
            cpu: None,
            memory: None,
            network_mode: None,
            requires_compatibilities: Vec::new(),
            task_role_arn: None,
            execution_role_arn: None,
            containers: vec![
                c("web", Some("/ecs/web"), Some("ecs")),
                c("router", Some("/ecs/web"), Some("firelens")),
                c("no-logs", None, None),
            ],
            registered_at: None,
        };
        let all = sources_of(&td, None);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].stream_prefix.as_deref(), Some("ecs/web/"));
        let one = sources_of(&td, Some("abc123"));
        assert_eq!(
            one[1].stream_prefix.as_deref(),
            Some("firelens/router/abc123")
        );
    }

    #[test]
    fn ingest_dedupes_orders_and_stays_bounded() {
        let mut s = logs(3);
        assert_eq!(s.ingest(vec![event("b", 2), event("a", 1)]), 2);
        assert_eq!(s.ingest(vec![event("b", 2), event("c", 3)]), 1);
        let ids: Vec<&str> = s.lines.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b", "c"]);
        assert_eq!(s.ingest(vec![event("d", 4), event("e", 5)]), 2);
        assert_eq!(s.lines.len(), 3);
        assert_eq!(s.evicted, 2);
        let ids: Vec<&str> = s.lines.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["c", "d", "e"]);
        // Following: the cursor is on the newest line.
        assert_eq!(s.cursor, 2);
        // Ids beyond the overlap are forgotten: memory stays bounded too.
        s.ingest(vec![event("z", 100)]);
        assert_eq!(s.seen_len(), 1);
    }

    #[test]
    fn queries_move_their_start_and_keep_page_tokens() {
        let mut s = logs(10);
        s.pattern = "ERROR".into();
        let q = s.queries();
        assert_eq!(q[0].start, s.start);
        assert_eq!(q[0].filter_pattern.as_deref(), Some("ERROR"));
        s.ingest(vec![event("a", 60)]);
        let q = s.queries();
        assert_eq!(q[0].start, t0() + TimeDelta::seconds(60 - OVERLAP_SECS));
        assert_eq!(q[0].next_token, None);
        s.tokens[0] = Some(("tok".into(), s.start));
        let q = s.queries();
        assert_eq!(q[0].next_token.as_deref(), Some("tok"));
        assert_eq!(q[0].start, s.start);
        assert!(s.behind());
    }
}

/// What one poll brought: the events of every source, and per source the
/// token to continue with when the poll stopped at its cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBatch {
    pub events: Vec<LogEvent>,
    pub tokens: Vec<Option<(String, Timestamp)>>,
}
