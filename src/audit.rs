//! The append-only audit log: one JSON object per line, an *intent* record
//! written, flushed and synced to disk before a mutating call is sent, a
//! *result* record after it (success with the ids returned, or the error),
//! and, for a change the console followed, a *final* record of how it ended
//! (completed, failed, rolled back by the circuit breaker, superseded, not
//! finished). A crash mid-operation still leaves the intent.
//!
//! Every record says whether its environment is simulated, so the demo's
//! practice never passes for a real change: the activity view shows only
//! the records of this session's environments, each of its own kind.
//!
//! The file is `audit.jsonl` in the state directory. Records carry names,
//! counts and image references, never secret values.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Timestamp;

/// Which half of an operation a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Intent,
    Result,
    /// How a followed change ended (written when its watch ends).
    Final,
}

impl Phase {
    /// Later phases replace earlier ones in [`latest_per_operation`].
    fn rank(self) -> u8 {
        match self {
            Self::Intent => 0,
            Self::Result => 1,
            Self::Final => 2,
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Success,
    Error,
    /// `--dry-run`: previewed and recorded, nothing sent.
    DryRun,
    /// The request went unanswered and reading the resource back could
    /// not tell whether it was applied (see [`Record::read_back`]).
    Unknown,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub time: Timestamp,
    pub phase: Phase,
    /// Pairs an intent with its result (and its final record).
    pub id: String,
    pub environment: String,
    /// The environment is simulated (`--demo`, `source = "sim"`): nothing
    /// real was touched. Lines written before this field existed are real
    /// unless their caller is the simulation's (see [`Record::is_simulated`]).
    #[serde(default)]
    pub simulated: bool,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The caller identity ARN the request is (or was to be) signed as.
    pub caller: Option<String>,
    pub operation: String,
    pub resource: String,
    /// The API calls, as the confirmation dialog showed them.
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub parameters: Value,
    /// The state before, as the operator saw it.
    pub before: Option<String>,
    /// The state asked for.
    pub after: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    pub outcome: Option<Outcome>,
    /// Ids and values the API returned.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub result: Value,
    pub error: Option<String>,
    /// Final records: how the change ended, as the console words it
    /// ("completed", "failed", "rolled back", "superseded", "not finished").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// Final records: what was seen at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Result records of a request that went unanswered (or of an intent
    /// found without a result at start-up): what reading the resource back
    /// showed. The outcome is then success (applied), error (not applied)
    /// or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_back: Option<crate::reconcile::ReadBack>,
}

/// The caller session name of the simulated environments' identity.
const SIM_CALLER_SESSION: &str = "/honban-demo";

impl Record {
    /// Whether the record is of a simulated environment: its flag, or for a
    /// line written before the flag existed, the simulation's caller.
    pub fn is_simulated(&self) -> bool {
        self.simulated
            || self
                .caller
                .as_deref()
                .is_some_and(|c| c.ends_with(SIM_CALLER_SESSION))
    }
}

/// The audit log file. Appends are serialised by a mutex and synced.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl AuditLog {
    /// The log at `path`; the file and its directory are created on the
    /// first append.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: Mutex::new(None),
        }
    }

    /// `audit.jsonl` in the state directory.
    pub fn in_dir(state_dir: &Path) -> Self {
        Self::new(state_dir.join("audit.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and syncs it to disk. Blocking: call it from
    /// `spawn_blocking`.
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the audit log lock is poisoned"))?;
        if guard.is_none() {
            if let Some(dir) = self.path.parent()
                && !dir.as_os_str().is_empty()
            {
                crate::paths::create_private_dir(dir)?;
            }
            *guard = Some(crate::paths::open_private_append(&self.path)?);
        }
        let Some(file) = guard.as_mut() else {
            return Err(std::io::Error::other("the audit log is not open"));
        };
        let written = file
            .write_all(line.as_bytes())
            .and_then(|()| file.sync_data());
        if written.is_err() {
            // Reopen next time (the file may have been moved or the disk freed).
            *guard = None;
        }
        written
    }

    /// Waits for an append in progress and syncs the file to disk (before
    /// the process ends on a signal).
    pub fn sync(&self) -> std::io::Result<()> {
        let guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the audit log lock is poisoned"))?;
        match guard.as_ref() {
            Some(file) => file.sync_all(),
            None => Ok(()),
        }
    }

    /// The last `limit` records of the file, oldest first. Lines that do not
    /// parse (a torn write, another version) are skipped and counted.
    pub fn read_recent(&self, limit: usize) -> std::io::Result<(Vec<Record>, usize)> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e),
        };
        let mut records = std::collections::VecDeque::with_capacity(limit.min(1024));
        let mut skipped = 0;
        for line in BufReader::new(file).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(&line) {
                Ok(r) => {
                    if records.len() == limit {
                        records.pop_front();
                    }
                    records.push_back(r);
                }
                Err(_) => skipped += 1,
            }
        }
        Ok((records.into(), skipped))
    }
}

/// One line per operation, newest first: the final record where there is
/// one (how a followed change ended, keeping what the API returned), else
/// the result, else the intent (an operation whose result was never
/// recorded: the console stopped while it was being sent).
pub fn latest_per_operation(records: Vec<Record>) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::with_capacity(records.len() / 2 + 1);
    for mut r in records {
        match out.iter_mut().find(|o| o.id == r.id) {
            Some(o) => {
                if r.phase.rank() >= o.phase.rank() {
                    if r.result.is_null() {
                        r.result = std::mem::take(&mut o.result);
                    }
                    if r.read_back.is_none() {
                        r.read_back = o.read_back.take();
                    }
                    *o = r;
                } else {
                    if o.result.is_null() {
                        o.result = r.result;
                    }
                    if o.read_back.is_none() {
                        o.read_back = r.read_back;
                    }
                }
            }
            None => out.push(r),
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.time));
    out
}

/// The records of this session's environments, each of its own kind:
/// those whose environment is open under the same name and is simulated
/// exactly when the record is. So the demo never lists a real change, a
/// real environment never lists the demo's practice, and environments no
/// longer configured are left out. Also returns how many were left out.
pub fn of_environments(records: Vec<Record>, envs: &[(&str, bool)]) -> (Vec<Record>, usize) {
    let total = records.len();
    let kept: Vec<Record> = records
        .into_iter()
        .filter(|r| {
            envs.iter()
                .any(|(name, simulated)| *name == r.environment && *simulated == r.is_simulated())
        })
        .collect();
    let left_out = total - kept.len();
    (kept, left_out)
}

/// The CloudWatch Logs stream of this session in a shared trail group:
/// `honban/<user>@<host>/<session>` (no `:` or `*`, which streams refuse).
pub fn stream_name(session: &str) -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("honban/{user}@{host}/{session}")
        .chars()
        .map(|c| if c == ':' || c == '*' { '-' } else { c })
        .take(512)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn record(id: &str, phase: Phase) -> Record {
        Record {
            time: Utc::now(),
            phase,
            id: id.to_string(),
            environment: "production".into(),
            account: Some("123456789012".into()),
            region: Some("ap-northeast-1".into()),
            caller: Some("arn:aws:iam::123456789012:user/oncall".into()),
            operation: "scale".into(),
            resource: "web".into(),
            calls: vec!["ecs:UpdateService cluster=c service=web desiredCount=4".into()],
            parameters: serde_json::json!({"desiredCount": 4}),
            before: Some("desired count 2".into()),
            after: Some("desired count 4".into()),
            dry_run: false,
            outcome: None,
            result: Value::Null,
            error: None,
            simulated: false,
            ended: None,
            detail: None,
            read_back: None,
        }
    }

    #[test]
    fn appends_lines_and_reads_the_last_ones_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::in_dir(&dir.path().join("state"));
        for i in 0..5 {
            log.append(&record(&format!("op-{i}"), Phase::Intent))
                .expect("append");
        }
        let text = std::fs::read_to_string(log.path()).expect("read");
        assert_eq!(text.lines().count(), 5);
        // A torn last line is skipped, not fatal.
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .and_then(|mut f| f.write_all(b"{\"time\":"))
            .expect("tear");
        let (recent, skipped) = log.read_recent(3).expect("read");
        assert_eq!(skipped, 1);
        let ids: Vec<&str> = recent.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["op-2", "op-3", "op-4"]);
        assert_eq!(recent[0].parameters["desiredCount"], 4);
    }

    #[test]
    fn results_replace_their_intents() {
        let mut r1 = record("a", Phase::Intent);
        let mut r2 = record("a", Phase::Result);
        r2.outcome = Some(Outcome::Success);
        let r3 = record("b", Phase::Intent);
        r1.time -= chrono::TimeDelta::seconds(10);
        r2.time -= chrono::TimeDelta::seconds(9);
        let merged = latest_per_operation(vec![r1, r2, r3]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].id, "b");
        assert_eq!(merged[0].phase, Phase::Intent);
        assert_eq!(merged[1].outcome, Some(Outcome::Success));
    }

    #[test]
    fn a_final_record_tells_how_the_change_ended_and_keeps_the_result() {
        let mut intent = record("a", Phase::Intent);
        let mut result = record("a", Phase::Result);
        let mut end = record("a", Phase::Final);
        intent.time -= chrono::TimeDelta::seconds(100);
        result.time -= chrono::TimeDelta::seconds(99);
        result.outcome = Some(Outcome::Success);
        result.result = serde_json::json!({"deployment": "ecs-svc/1"});
        end.outcome = Some(Outcome::Error);
        end.ended = Some("rolled back".into());
        end.detail = Some("web:43 did not finish: circuit breaker".into());
        // However the lines are ordered, the final record wins.
        for order in [
            vec![intent.clone(), result.clone(), end.clone()],
            vec![intent.clone(), end.clone(), result.clone()],
        ] {
            let merged = latest_per_operation(order);
            assert_eq!(merged.len(), 1);
            assert_eq!(merged[0].phase, Phase::Final);
            assert_eq!(merged[0].ended.as_deref(), Some("rolled back"));
            assert_eq!(merged[0].outcome, Some(Outcome::Error));
            assert_eq!(merged[0].result["deployment"], "ecs-svc/1");
        }
        // It round-trips; an old line without the new fields still reads.
        let line = serde_json::to_string(&end).expect("json");
        assert!(line.contains("\"phase\":\"final\""), "{line}");
        assert!(line.contains("\"ended\":\"rolled back\""), "{line}");
        let back: Record = serde_json::from_str(&line).expect("parse");
        assert_eq!(back, end);
        let mut old = serde_json::to_value(&intent).expect("value");
        if let Some(o) = old.as_object_mut() {
            o.remove("simulated");
        }
        let old: Record = serde_json::from_value(old).expect("an old line parses");
        assert!(!old.simulated && old.ended.is_none());
    }

    #[test]
    fn simulated_and_real_records_stay_apart() {
        let real = record("real", Phase::Result);
        let mut sim = record("sim", Phase::Result);
        sim.simulated = true;
        // A demo line written before the flag: known by its caller.
        let mut old_demo = record("old-demo", Phase::Result);
        old_demo.caller =
            Some("arn:aws:sts::538291746102:assumed-role/OnCallOperator/honban-demo".into());
        let mut gone = record("gone", Phase::Result);
        gone.environment = "legacy".into();
        let all = vec![real, sim, old_demo, gone];

        let (shown, left_out) = of_environments(all.clone(), &[("production", false)]);
        let ids: Vec<&str> = shown.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["real"]);
        assert_eq!(left_out, 3);

        let (shown, _) = of_environments(all, &[("production", true), ("staging", true)]);
        let ids: Vec<&str> = shown.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["sim", "old-demo"]);
    }

    #[test]
    fn a_missing_file_is_an_empty_history() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::in_dir(dir.path());
        assert_eq!(log.read_recent(10).expect("read").0, Vec::new());
    }

    #[test]
    fn an_unwritable_path_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("write");
        // The "directory" is a file: creating the log fails.
        let log = AuditLog::new(file.join("audit.jsonl"));
        assert!(log.append(&record("x", Phase::Intent)).is_err());
    }
}
