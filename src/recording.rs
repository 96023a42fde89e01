//! This session's recording: the timeline events of every environment,
//! appended as JSON Lines to `recordings/<session>.jsonl` in the state
//! directory by a thread of its own (writing never blocks the console;
//! each batch is flushed as it arrives, so a crash loses at most the batch
//! being written). `honban timeline export` reads them back.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};

use crate::timeline::Event;

/// Where the recordings of a state directory are.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("recordings")
}

/// The writer of one session's recording.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    tx: Sender<Vec<Event>>,
}

impl Recorder {
    /// Opens (creates) `dir/<session>.jsonl` and starts its writer thread.
    pub fn start(dir: &Path, session: &str) -> std::io::Result<Self> {
        create_private_dir(dir)?;
        let path = dir.join(format!("{session}.jsonl"));
        let file = open_append(&path)?;
        let (tx, rx) = channel::<Vec<Event>>();
        let shown = path.display().to_string();
        std::thread::Builder::new()
            .name("honban-recorder".into())
            .spawn(move || {
                let mut file = file;
                for batch in rx {
                    let mut buf = Vec::new();
                    for e in &batch {
                        if serde_json::to_writer(&mut buf, e).is_ok() {
                            buf.push(b'\n');
                        }
                    }
                    if let Err(e) = file.write_all(&buf).and_then(|()| file.flush()) {
                        tracing::error!(path = %shown, error = %e, "cannot write the recording");
                    }
                }
            })?;
        Ok(Self { path, tx })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a batch to the writer (never blocks).
    pub fn record(&self, events: Vec<Event>) {
        if self.tx.send(events).is_err() {
            tracing::error!("the recording's writer has stopped");
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A recording read back: its events and the lines that could not be read
/// (a torn last line after a crash, a newer format) with their numbers.
#[derive(Debug, Default)]
pub struct ReadBack {
    pub events: Vec<Event>,
    pub damaged: Vec<(PathBuf, usize, String)>,
}

/// Reads every recording in `dir` (or only `session`'s), events in time
/// order.
pub fn read_all(dir: &Path, session: Option<&str>) -> std::io::Result<ReadBack> {
    let mut out = ReadBack::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter(|p| session.is_none_or(|s| p.file_stem().is_some_and(|stem| stem == s)))
        .collect();
    files.sort();
    for path in files {
        let reader = BufReader::new(File::open(&path)?);
        for (i, line) in reader.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    out.damaged.push((path.clone(), i + 1, e.to_string()));
                    break;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Event>(&line) {
                Ok(e) if e.v <= crate::timeline::FORMAT_VERSION => out.events.push(e),
                Ok(e) => out.damaged.push((
                    path.clone(),
                    i + 1,
                    format!("written by a newer honban (format {})", e.v),
                )),
                Err(e) => out.damaged.push((path.clone(), i + 1, e.to_string())),
            }
        }
    }
    out.events.sort_by_key(|e| e.time);
    Ok(out)
}

/// Removes recordings last written more than `keep_days` ago, oldest
/// first; returns how many.
pub fn prune(dir: &Path, keep_days: u64) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let limit = std::time::Duration::from_secs(keep_days.saturating_mul(86_400));
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > limit);
        if old && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A time as `--since` / `--until` take it: RFC 3339, `YYYY-MM-DD HH:MM`
/// (UTC), or an age before `now` (`90m`, `6h`, `2d`).
pub fn parse_time(
    text: &str,
    now: crate::domain::Timestamp,
) -> Result<crate::domain::Timestamp, String> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(t, format) {
            return Ok(at.and_utc());
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = digits.parse().map_err(|_| bad_time(t))?;
    let age = match unit {
        "s" => chrono::TimeDelta::seconds(n),
        "m" => chrono::TimeDelta::minutes(n),
        "h" => chrono::TimeDelta::hours(n),
        "d" => chrono::TimeDelta::days(n),
        _ => return Err(bad_time(t)),
    };
    Ok(now - age)
}

fn bad_time(t: &str) -> String {
    format!(
        "\"{t}\" is not a time: write 2026-12-01T03:00:00Z, \"2026-12-01 03:00\" (UTC) or an age like 90m, 6h, 2d"
    )
}

/// `honban timeline export`: the recordings in `dir`, filtered, printed as
/// Markdown postmortems (one per environment) or CloudEvents JSON Lines.
/// Returns the text, or a message for the operator.
pub fn export(
    dir: &Path,
    env: Option<&str>,
    args: &crate::cli::ExportArgs,
    now: crate::domain::Timestamp,
) -> Result<String, String> {
    let read = read_all(dir, args.session.as_deref())
        .map_err(|e| format!("cannot read the recordings in {}: {e}", dir.display()))?;
    for (path, line, why) in &read.damaged {
        eprintln!("honban: {}:{line}: skipped ({why})", path.display());
    }
    let shown = format!(
        "recordings: {}; sessions are recorded while the console runs",
        dir.display()
    );
    render_export(&read.events, env, args, now, &shown)
}

/// Filters `events` (by environment, `--session`, `--since`, `--until`)
/// and prints them as `honban timeline export` does; `source` says where
/// they came from when none matches.
pub fn render_export(
    events: &[Event],
    env: Option<&str>,
    args: &crate::cli::ExportArgs,
    now: crate::domain::Timestamp,
    source: &str,
) -> Result<String, String> {
    let since = args
        .since
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let events: Vec<&Event> = events
        .iter()
        .filter(|e| args.session.as_deref().is_none_or(|s| e.session == s))
        .filter(|e| env.is_none_or(|n| e.env == n))
        .filter(|e| since.is_none_or(|t| e.time >= t))
        .filter(|e| until.is_none_or(|t| e.time <= t))
        .collect();
    if events.is_empty() {
        return Err(format!("no recorded event matches ({source})"));
    }
    let mut out = String::new();
    match args.format {
        crate::cli::ExportFormat::Json => {
            for (i, e) in events.iter().enumerate() {
                out.push_str(&crate::timeline::cloud_event(e, i).to_string());
                out.push('\n');
            }
        }
        crate::cli::ExportFormat::Markdown => {
            let mut envs: Vec<&str> = events.iter().map(|e| e.env.as_str()).collect();
            envs.sort_unstable();
            envs.dedup();
            for (i, name) in envs.iter().enumerate() {
                if i > 0 {
                    out.push_str("\n---\n\n");
                }
                let of_env: Vec<&Event> =
                    events.iter().copied().filter(|e| e.env == *name).collect();
                out.push_str(&crate::timeline::markdown(name, &of_env, now));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::cli::{ExportArgs, ExportFormat};
    use crate::timeline::{Event, MarkKind, Severity};

    fn t(min: i64) -> crate::domain::Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0)
            .single()
            .expect("time")
            + chrono::TimeDelta::minutes(min)
    }

    fn event(min: i64, kind: &str, text: &str, mark: Option<MarkKind>) -> Event {
        let mut e = Event::new(
            "production",
            t(min),
            kind,
            "web",
            text.into(),
            Severity::Error,
        );
        e.session = "20261201T030000".into();
        e.mark = mark;
        e
    }

    fn args(format: ExportFormat) -> ExportArgs {
        ExportArgs {
            session: None,
            since: None,
            until: None,
            format,
            from_cloudwatch: false,
        }
    }

    #[test]
    fn a_recording_exports_a_postmortem_and_cloud_events() {
        let dir = tempfile::tempdir().expect("temp dir");
        let rec = Recorder::start(dir.path(), "20261201T030000").expect("recorder");
        rec.record(vec![
            event(
                0,
                "mark",
                "impact started: marked",
                Some(MarkKind::ImpactStarted),
            ),
            event(4, "alarm_state", "OK → ALARM: 5XX > 10", None),
            event(4, "mark", "detected: OK → ALARM", Some(MarkKind::Detected)),
        ]);
        let mut op = event(6, "operation", "sent: Roll back web", None);
        op.caller = Some("arn:aws:sts::1:assumed-role/OnCall/alice".into());
        op.calls = vec!["ecs:UpdateService service=web taskDefinition=web:41".into()];
        rec.record(vec![
            op,
            event(9, "mark", "mitigated", Some(MarkKind::Mitigated)),
            event(15, "mark", "recovered", Some(MarkKind::Recovered)),
        ]);
        let path = rec.path().to_path_buf();
        drop(rec);
        // The writer thread flushes each batch; wait for the six lines.
        let mut lines = 0;
        for _ in 0..200 {
            lines = std::fs::read_to_string(&path).map_or(0, |s| s.lines().count());
            if lines == 6 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(lines, 6);

        let md = export(dir.path(), None, &args(ExportFormat::Markdown), t(30)).expect("markdown");
        assert!(md.contains("# Postmortem: production"), "{md}");
        assert!(md.contains("TTD 4m 00s · TTM 9m 00s · TTR 15m 00s"), "{md}");
        assert!(
            md.contains("by `arn:aws:sts::1:assumed-role/OnCall/alice`"),
            "{md}"
        );
        assert!(
            md.contains("`ecs:UpdateService service=web taskDefinition=web:41`"),
            "{md}"
        );
        assert!(md.contains("## Action items"), "{md}");

        let json = export(dir.path(), None, &args(ExportFormat::Json), t(30)).expect("json");
        let first: serde_json::Value =
            serde_json::from_str(json.lines().next().expect("a line")).expect("JSON");
        for field in [
            "id",
            "source",
            "type",
            "time",
            "subject",
            "data",
            "specversion",
        ] {
            assert!(first.get(field).is_some(), "{field} in {first}");
        }
        assert_eq!(first["type"], "honban.mark");

        // --since filters; nothing left is a clear error.
        let mut late = args(ExportFormat::Json);
        late.since = Some("2026-12-01 03:10".into());
        let json = export(dir.path(), None, &late, t(30)).expect("json");
        assert_eq!(json.lines().count(), 1, "{json}");
        late.since = Some("2027-01-01".into());
        assert!(export(dir.path(), None, &late, t(30)).is_err());
    }

    #[test]
    fn a_torn_last_line_and_a_newer_format_are_reported_not_fatal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = serde_json::to_string(&event(0, "note", "hello", None)).expect("json");
        let mut newer = event(1, "note", "from the future", None);
        newer.v = crate::timeline::FORMAT_VERSION + 1;
        let newer = serde_json::to_string(&newer).expect("json");
        std::fs::write(
            dir.path().join("s.jsonl"),
            format!("{good}\n{newer}\n{{\"v\":1,\"sess"),
        )
        .expect("write");
        let read = read_all(dir.path(), None).expect("read");
        assert_eq!(read.events.len(), 1);
        assert_eq!(read.damaged.len(), 2);
        assert_eq!(read.damaged[0].1, 2);
        assert!(read.damaged[0].2.contains("newer honban"));
        assert_eq!(read.damaged[1].1, 3);
    }

    #[test]
    fn times_parse_in_every_form_or_say_how_to_write_them() {
        let now = t(60);
        assert_eq!(parse_time("2026-12-01T03:10:00Z", now), Ok(t(10)));
        assert_eq!(parse_time("2026-12-01 03:10", now), Ok(t(10)));
        assert_eq!(parse_time("30m", now), Ok(t(30)));
        assert_eq!(parse_time("1h", now), Ok(t(0)));
        assert!(parse_time("yesterday", now).is_err_and(|e| e.contains("90m")));
    }
}
