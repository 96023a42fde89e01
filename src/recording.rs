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
