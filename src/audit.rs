//! The append-only audit log: one JSON object per line, an *intent* record
//! written, flushed and synced to disk before a mutating call is sent, and a
//! *result* record after it (success with the ids returned, or the error).
//! A crash mid-operation still leaves the intent.
//!
//! The file is `audit.jsonl` in the state directory. Records carry names,
//! counts and image references, never secret values.

use std::fs::{File, OpenOptions};
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
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Success,
    Error,
    /// `--dry-run`: previewed and recorded, nothing sent.
    DryRun,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub time: Timestamp,
    pub phase: Phase,
    /// Pairs an intent with its result.
    pub id: String,
    pub environment: String,
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
                std::fs::create_dir_all(dir)?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            *guard = Some(file);
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

/// One line per operation, newest first: the result record where there is
/// one, else the intent (an operation whose result was never recorded: the
/// console stopped while it was being sent).
pub fn latest_per_operation(records: Vec<Record>) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::with_capacity(records.len() / 2 + 1);
    for r in records {
        match out.iter_mut().find(|o| o.id == r.id) {
            Some(o) => {
                if r.phase == Phase::Result || o.phase == Phase::Intent {
                    *o = r;
                }
            }
            None => out.push(r),
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.time));
    out
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
