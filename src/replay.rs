//! `honban replay`: a recorded session played back in the same console.
//!
//! A recording ([`crate::recording`]) is read into [`Step`]s, each at the
//! moment it was seen. The [`Player`] owns a [`State`] built from the
//! recording's header and dispatches the steps through the same pure
//! `update` as the live console, on a replay clock (paused, 1× to 60×).
//! There is no backend and no runner: the effects `update` asks for are
//! dropped, so nothing can be sent; operation keys, notes and refreshes
//! are refused by `update` itself (`State::replay`).
//!
//! Seeking forward dispatches the steps in between; seeking backward
//! restores the last keyframe (a copy of the state taken every
//! [`KEYFRAME_SECS`] of recorded time as the replay passes) and plays on
//! from there. What the operator looks at (view, selection, filters) is
//! kept across a seek.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use serde::Deserialize;

use crate::action::{Action, Data, Resource};
use crate::config::keys::Keymap;
use crate::config::{ClusterConfig, EnvironmentConfig, HealthCheckConfig, Source};
use crate::domain::Timestamp;
use crate::recording::{FORMAT, Header, Line, Load, Mirror, resource_of};
use crate::state::{EnvState, ReplayRequest, ReplayStatus, State};
use crate::timeline::Event;

/// Recorded time between keyframes at first (seeking backward restores the
/// last one before the target and plays on from there).
pub const KEYFRAME_SECS: i64 = 120;
/// At most this many keyframes are kept (each is a copy of the state):
/// past it every other one goes and the interval doubles, so a long
/// recording of a large account stays within a bounded memory.
pub const KEYFRAMES_MAX: usize = 12;
/// The speeds `>` and `<` step through (recorded seconds per second).
pub const SPEEDS: [u32; 6] = [1, 2, 5, 10, 30, 60];

/// Why a recording cannot be replayed at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error(
        "{path} was recorded by honban {honban} (recording format {format}); this honban {ours} reads format {FORMAT} and older: replay it with a newer honban"
    )]
    Newer {
        path: String,
        honban: String,
        format: u32,
        ours: &'static str,
    },
    #[error(
        "{path}:1: not a recording with data ({why}); a recording from before replay existed holds only the timeline: `honban timeline export --session ID` reads it"
    )]
    NoHeader { path: String, why: String },
}

impl OpenError {
    /// The exit code: the data cannot be used (sysexits `EX_DATAERR`), or
    /// it cannot be read (`EX_NOINPUT`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Io { .. } => crate::cli::EX_NOINPUT,
            Self::Newer { .. } | Self::NoHeader { .. } => crate::cli::EX_DATAERR,
        }
    }
}

/// One thing the recording saw, at the moment it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: Timestamp,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Load {
        env: usize,
        resource: Resource,
        load: Box<Load>,
    },
    TaskDefinition {
        env: usize,
        def: Box<crate::domain::TaskDefinition>,
    },
    Probe {
        env: usize,
        probe: usize,
        report: crate::probe::ProbeReport,
    },
    Event {
        env: usize,
        event: Box<Event>,
    },
    Audit(Box<crate::audit::Record>),
}

/// A recording read back.
#[derive(Debug, Clone)]
pub struct Recording {
    pub path: PathBuf,
    pub header: Header,
    pub steps: Vec<Step>,
    /// Where it breaks (line number, why): replayed up to there.
    pub damage: Option<(usize, String)>,
    /// Lines of environments the header does not name, or of kinds this
    /// honban does not know, skipped.
    pub skipped: usize,
    /// The size cap stopped the data at this moment.
    pub capped_at: Option<Timestamp>,
    /// Alarm histories read in the session (when an alarm's detail was
    /// opened): a replay answers its alarm details from them.
    pub histories: Vec<(
        Timestamp,
        usize,
        String,
        Vec<crate::domain::AlarmHistoryItem>,
    )>,
}

impl Recording {
    /// Reads a recording. A torn or corrupt line ends it there (reported in
    /// `damage`); a newer format or a missing header is an error.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| OpenError::Io {
            path: shown.clone(),
            error,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.split_inclusive('\n').enumerate();
        let header = match lines.next() {
            None => {
                return Err(OpenError::NoHeader {
                    path: shown,
                    why: "the file is empty".into(),
                });
            }
            Some((_, first)) => match serde_json::from_str::<Line>(first.trim_end()) {
                Ok(Line::Header(h)) => h,
                Ok(_) => {
                    return Err(OpenError::NoHeader {
                        path: shown,
                        why: "the first line is not a header".into(),
                    });
                }
                Err(e) => {
                    // A header of a newer format may not parse: say so by
                    // its version if it has one.
                    #[derive(Deserialize)]
                    struct Version {
                        format: u32,
                        #[serde(default)]
                        honban: String,
                    }
                    if let Ok(v) = serde_json::from_str::<Version>(first.trim_end())
                        && v.format > FORMAT
                    {
                        return Err(OpenError::Newer {
                            path: shown,
                            honban: v.honban,
                            format: v.format,
                            ours: env!("CARGO_PKG_VERSION"),
                        });
                    }
                    return Err(OpenError::NoHeader {
                        path: shown,
                        why: e.to_string(),
                    });
                }
            },
        };
        if header.format > FORMAT {
            return Err(OpenError::Newer {
                path: shown,
                honban: header.honban,
                format: header.format,
                ours: env!("CARGO_PKG_VERSION"),
            });
        }
        let env_index: HashMap<&str, usize> = header
            .envs
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i))
            .collect();
        let mut steps = Vec::new();
        let mut damage = None;
        let mut skipped = 0;
        let mut capped_at = None;
        let mut histories = Vec::new();
        // Steps are kept in the order they were written; their moments
        // never go back (a mark set for an earlier time shows when set).
        let mut latest = header.started;
        for (i, raw) in lines {
            let number = i + 1;
            if !raw.ends_with('\n') {
                damage = Some((
                    number,
                    "the last line is cut short (torn write)".to_string(),
                ));
                break;
            }
            let line = raw.trim_end();
            if line.is_empty() {
                continue;
            }
            let parsed: Result<(Timestamp, Option<What>), String> = if line.starts_with("{\"rec\":")
            {
                match serde_json::from_str::<Line>(line) {
                    Ok(Line::Load(load)) => {
                        let t = load.t;
                        let what = match (env_index.get(load.env.as_str()), resource_of(&load.kind))
                        {
                            (Some(&env), Some(resource)) => Some(What::Load {
                                env,
                                resource,
                                load: Box::new(load),
                            }),
                            _ => None,
                        };
                        Ok((t, what))
                    }
                    Ok(Line::TaskDefinition { t, env, def }) => Ok((
                        t,
                        env_index
                            .get(env.as_str())
                            .map(|&env| What::TaskDefinition { env, def }),
                    )),
                    Ok(Line::Probe {
                        t,
                        env,
                        probe,
                        report,
                    }) => Ok((
                        t,
                        env_index
                            .get(env.as_str())
                            .map(|&env| What::Probe { env, probe, report }),
                    )),
                    Ok(Line::Audit { t, record }) => Ok((t, Some(What::Audit(record)))),
                    Ok(Line::AlarmHistory {
                        t,
                        env,
                        alarm,
                        items,
                    }) => {
                        if let Some(&env) = env_index.get(env.as_str()) {
                            histories.push((t, env, alarm, items));
                        }
                        Ok((t, None))
                    }
                    Ok(Line::Logs { t, .. }) => Ok((t, None)),
                    Ok(Line::Capped { t, .. }) => {
                        capped_at = Some(t);
                        Ok((t, None))
                    }
                    Ok(Line::Header(_)) => Err("a second header".to_string()),
                    Err(e) => Err(e.to_string()),
                }
            } else {
                match serde_json::from_str::<Event>(line) {
                    Ok(event) => {
                        let t = event.time;
                        Ok((
                            t,
                            env_index.get(event.env.as_str()).map(|&env| What::Event {
                                env,
                                event: Box::new(event),
                            }),
                        ))
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            match parsed {
                Ok((t, what)) => {
                    latest = latest.max(t);
                    match what {
                        Some(what) => steps.push(Step { at: latest, what }),
                        None => skipped += 1,
                    }
                }
                Err(why) => {
                    damage = Some((number, why));
                    break;
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            header,
            steps,
            damage,
            skipped,
            capped_at,
            histories,
        })
    }

    pub fn start(&self) -> Timestamp {
        self.header.started
    }

    /// The last recorded moment.
    pub fn end(&self) -> Timestamp {
        self.steps.last().map_or(self.header.started, |s| s.at)
    }

    /// The damage, worded for the operator.
    pub fn damage_text(&self) -> Option<String> {
        self.damage.as_ref().map(|(line, why)| {
            format!(
                "{}:{line}: damaged ({why}); replayed up to line {}",
                self.path.display(),
                line.saturating_sub(1)
            )
        })
    }

    /// The environments of the header as configuration, for the state.
    fn environments(&self) -> Vec<EnvironmentConfig> {
        self.header
            .envs
            .iter()
            .map(|e| EnvironmentConfig {
                name: e.name.clone(),
                source: if e.simulated {
                    Source::Sim
                } else {
                    Source::Aws
                },
                region: e.region.clone(),
                protected: e.protected,
                clusters: e
                    .clusters
                    .iter()
                    .map(|c| ClusterConfig {
                        name: c.clone(),
                        services: Vec::new(),
                    })
                    .collect(),
                health_checks: e
                    .checks
                    .iter()
                    .map(|c| HealthCheckConfig {
                        name: c.name.clone(),
                        url: c.url.clone(),
                        interval_secs: c.interval_secs,
                        timeout_secs: 5,
                        expect_status: c.expect_status,
                        service: c.service.clone(),
                    })
                    .collect(),
                // Nothing will be sent whatever: there is no backend.
                bell_on_alarm: Some(false),
                ..EnvironmentConfig::default()
            })
            .collect()
    }
}

/// A copy of the replay at one moment.
#[derive(Clone)]
struct Keyframe {
    next: usize,
    at: Timestamp,
    state: Box<State>,
    mirrors: HashMap<(usize, Resource), Mirror>,
}

/// Plays a recording into a [`State`].
pub struct Player {
    pub rec: Recording,
    pub state: State,
    /// The next step to dispatch.
    next: usize,
    /// The data of each environment's resource kinds, as last recorded.
    mirrors: HashMap<(usize, Resource), Mirror>,
    /// The data of each mirror as last read (an unchanged load reuses it).
    typed: HashMap<(usize, Resource), Data>,
    initial: Box<State>,
    keyframes: Vec<Keyframe>,
    /// Recorded time between keyframes (doubles when they are thinned).
    keyframe_every: TimeDelta,
}

impl Player {
    /// A player at the start of `rec` (nothing dispatched yet beyond the
    /// first moment), with the console's keymap.
    pub fn new(rec: Recording, keymap: Keymap) -> Self {
        let envs: Vec<EnvState> = rec
            .environments()
            .iter()
            .map(|e| EnvState::from_config(e, &crate::config::RefreshIntervals::default(), false))
            .collect();
        let mut state = State::new(envs, 0, keymap, rec.start());
        state.session.clone_from(&rec.header.session);
        state.recording_path = Some(rec.path.display().to_string());
        state.replay = Some(ReplayStatus {
            start: rec.start(),
            end: rec.end(),
            paused: false,
            speed: 1,
            damage: rec.damage_text(),
        });
        let initial = Box::new(state.clone());
        let mut player = Self {
            rec,
            state,
            next: 0,
            mirrors: HashMap::new(),
            typed: HashMap::new(),
            initial,
            keyframes: Vec::new(),
            keyframe_every: TimeDelta::seconds(KEYFRAME_SECS),
        };
        let start = player.rec.start();
        player.advance_to(start);
        player
    }

    /// How many keyframes are kept now.
    pub fn keyframes(&self) -> usize {
        self.keyframes.len()
    }

    /// The replayed moment.
    pub fn now(&self) -> Timestamp {
        self.state.now
    }

    /// Dispatches every step up to `t` (within the recording) and moves the
    /// clock there.
    pub fn advance_to(&mut self, t: Timestamp) {
        let t = t.clamp(self.rec.start(), self.rec.end());
        while let Some(at) = self.rec.steps.get(self.next).map(|s| s.at) {
            if at > t {
                break;
            }
            // A keyframe before the first step past each boundary.
            let due = self
                .keyframes
                .last()
                .is_none_or(|k| at - k.at >= self.keyframe_every);
            if due && self.keyframes.last().is_none_or(|k| k.next < self.next) {
                self.keyframes.push(Keyframe {
                    next: self.next,
                    at: self.state.now,
                    state: Box::new(self.state.clone()),
                    mirrors: self.mirrors.clone(),
                });
                if self.keyframes.len() > KEYFRAMES_MAX {
                    let mut i = 0;
                    self.keyframes.retain(|_| {
                        i += 1;
                        i % 2 == 1
                    });
                    self.keyframe_every = self.keyframe_every * 2;
                }
            }
            if self.state.now < at {
                self.dispatch(Action::Tick(at));
            }
            let step = self.rec.steps[self.next].clone();
            self.next += 1;
            self.apply(step);
        }
        let shown = self.state.now.format("%H:%M:%S").to_string();
        self.dispatch(Action::Tick(t));
        if self.state.now.format("%H:%M:%S").to_string() != shown {
            self.state.dirty = true;
        }
    }

    /// Goes to `t`: forward by playing on, backward from the last keyframe
    /// before it.
    pub fn seek(&mut self, t: Timestamp) {
        let t = t.clamp(self.rec.start(), self.rec.end());
        if t < self.state.now {
            let keyframe = self.keyframes.iter().rposition(|k| k.at <= t);
            let (next, state, mirrors) = if let Some(i) = keyframe {
                self.keyframes.truncate(i + 1);
                let k = &self.keyframes[i];
                (k.next, (*k.state).clone(), k.mirrors.clone())
            } else {
                self.keyframes.clear();
                (0, (*self.initial).clone(), HashMap::new())
            };
            let mut state = state;
            carry_view(&self.state, &mut state);
            self.state = state;
            self.next = next;
            self.mirrors = mirrors;
            // Read again from the mirrors at the next change or load.
            self.typed.clear();
        }
        self.advance_to(t);
        self.state.dirty = true;
    }

    /// Applies a request of a replay key; `false` when there was none.
    pub fn handle_request(&mut self) -> bool {
        let Some(request) = self.state.replay_request.take() else {
            return false;
        };
        let now = self.state.now;
        match request {
            ReplayRequest::Pause => {
                let at_end = now >= self.rec.end();
                if let Some(r) = &mut self.state.replay {
                    r.paused = !r.paused;
                    // Playing again from the end starts over.
                    if !r.paused && at_end {
                        let start = self.rec.start();
                        self.seek(start);
                    }
                }
            }
            ReplayRequest::Faster | ReplayRequest::Slower => {
                if let Some(r) = &mut self.state.replay {
                    let i = SPEEDS.iter().position(|s| *s >= r.speed).unwrap_or(0);
                    let i = if request == ReplayRequest::Faster {
                        (i + 1).min(SPEEDS.len() - 1)
                    } else {
                        i.saturating_sub(1)
                    };
                    r.speed = SPEEDS[i];
                }
            }
            ReplayRequest::Seek(t) => {
                // Past either end: to that end, and say so.
                let (start, end) = (self.rec.start(), self.rec.end());
                self.seek(t);
                if t < start || t > end {
                    let text = format!(
                        "the recording runs from {} to {} UTC: at its {}",
                        start.format("%H:%M:%S"),
                        end.format("%H:%M:%S"),
                        if t < start { "start" } else { "end" }
                    );
                    self.notice(&text, false);
                }
            }
            ReplayRequest::NextEvent
            | ReplayRequest::PreviousEvent
            | ReplayRequest::NextMark
            | ReplayRequest::PreviousMark => {
                let marks = matches!(
                    request,
                    ReplayRequest::NextMark | ReplayRequest::PreviousMark
                );
                let forward = matches!(request, ReplayRequest::NextEvent | ReplayRequest::NextMark);
                if let Some((at, text)) = self.find_event(now, forward, marks) {
                    self.seek(at);
                    self.notice(&format!("{} UTC  {text}", at.format("%H:%M:%S")), false);
                } else {
                    let what = if marks { "mark" } else { "event" };
                    let dir = if forward { "after" } else { "before" };
                    self.notice(&format!("no {what} {dir} this moment"), false);
                }
            }
        }
        self.state.dirty = true;
        true
    }

    /// The moment and text of the next (or previous) timeline event (or
    /// mark) of the environments on screen.
    pub fn find_event(
        &self,
        now: Timestamp,
        forward: bool,
        marks: bool,
    ) -> Option<(Timestamp, String)> {
        let fleet = self.state.timeline_fleet || self.state.view() == &crate::state::View::Fleet;
        let active = self.state.active;
        let mut found = self.rec.steps.iter().filter_map(|s| match &s.what {
            What::Event { env, event }
                if (fleet || *env == active) && (!marks || event.mark.is_some()) =>
            {
                Some((s.at, event))
            }
            _ => None,
        });
        let pick = if forward {
            found.find(|(at, _)| *at > now)
        } else {
            found.rfind(|(at, _)| *at < now)
        };
        pick.map(|(at, e)| {
            let resource = if e.resource.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.resource)
            };
            (at, format!("{} · {resource}{}", e.env, e.text))
        })
    }

    /// Applies one action to the state (the effects are dropped: a replay
    /// sends nothing).
    pub fn dispatch(&mut self, action: Action) {
        drop(crate::update::update(&mut self.state, action));
        // A fired alarm rang the bell then; a replay does not.
        self.state.bell = false;
        self.answer_histories();
    }

    /// An alarm detail opened in the replay asks for the alarm's history:
    /// the one the session read last (up to this moment), if it did.
    fn answer_histories(&mut self) {
        let now = self.state.now;
        let mut answers = Vec::new();
        for (env, e) in self.state.envs.iter().enumerate() {
            for (alarm, panel) in &e.alarm_history {
                if !panel.in_flight {
                    continue;
                }
                let recorded = self
                    .rec
                    .histories
                    .iter()
                    .rfind(|(t, i, a, _)| *i == env && a == alarm && *t <= now)
                    .map(|(_, _, _, items)| items.clone());
                let result = recorded.ok_or_else(|| crate::backend::BackendError::Other {
                    message:
                        "not read in the recorded session by this moment (a replay reads nothing)"
                            .to_string(),
                });
                answers.push(Action::AlarmHistoryLoaded {
                    env,
                    alarm: alarm.clone(),
                    generation: panel.generation,
                    at: now,
                    result,
                });
            }
        }
        for action in answers {
            drop(crate::update::update(&mut self.state, action));
        }
    }

    fn notice(&mut self, text: &str, error: bool) {
        self.dispatch(Action::Notice {
            text: text.to_string(),
            error,
        });
    }

    fn apply(&mut self, step: Step) {
        let at = step.at;
        match step.what {
            What::Load {
                env,
                resource,
                load,
            } => {
                let result = match &load.error {
                    Some(e) => Err(e.clone()),
                    // Nothing changed: the data read last, without reading
                    // it again.
                    None if load.is_unchanged()
                        && let Some(data) = self.typed.get(&(env, resource)) =>
                    {
                        Ok(data.clone())
                    }
                    None => {
                        let mirror = self.mirrors.entry((env, resource)).or_default();
                        mirror.apply(&load, resource);
                        match crate::recording::join(resource, &mirror.items, &mirror.rest) {
                            Ok(data) => {
                                self.typed.insert((env, resource), data.clone());
                                Ok(data)
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, kind = %load.kind, "a recorded load could not be read");
                                return;
                            }
                        }
                    }
                };
                let Some(e) = self.state.envs.get(env) else {
                    return;
                };
                let generation = e.generation_of(resource);
                self.dispatch(Action::Loaded {
                    env,
                    resource,
                    generation,
                    at,
                    result,
                });
            }
            What::TaskDefinition { env, def } => {
                let arn = def.arn.clone();
                self.dispatch(Action::TaskDefinitionLoaded {
                    env,
                    arn,
                    result: Ok(*def),
                });
            }
            What::Probe { env, probe, report } => {
                let Some(p) = self.state.envs.get(env).and_then(|e| e.probes.get(probe)) else {
                    return;
                };
                let generation = p.generation;
                self.dispatch(Action::ProbeDone {
                    env,
                    probe,
                    generation,
                    at,
                    report,
                });
            }
            What::Event { env, event } => self.dispatch(Action::TimelineReplayed { env, event }),
            What::Audit(record) => self.dispatch(Action::AuditReplayed(record)),
        }
    }

    /// The data of one recorded kind as last applied (tests).
    pub fn data(&self, env: usize, resource: Resource) -> Option<Data> {
        let m = self.mirrors.get(&(env, resource))?;
        crate::recording::join(resource, &m.items, &m.rest).ok()
    }
}

/// What the operator is looking at survives a seek.
fn carry_view(from: &State, to: &mut State) {
    to.active = from.active;
    to.views.clone_from(&from.views);
    to.mode = from.mode.clone();
    to.selected.clone_from(&from.selected);
    to.selected_id.clone_from(&from.selected_id);
    to.filters.clone_from(&from.filters);
    to.flash.clone_from(&from.flash);
    to.page_rows = from.page_rows;
    to.timeline_fleet = from.timeline_fleet;
    to.metric_range = from.metric_range;
    to.replay.clone_from(&from.replay);
    to.keymap.clone_from(&from.keymap);
    to.dirty = true;
}

/// One recording as `honban replay` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub session: String,
    pub path: PathBuf,
    pub envs: Vec<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub bytes: u64,
    /// Why it cannot be replayed, if it cannot.
    pub problem: Option<String>,
}

/// The recordings in `dir`, oldest first.
pub fn list(dir: &Path) -> std::io::Result<Vec<Listed>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let session = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let (envs, start, end, problem) = match summary(&path) {
            Ok((header, end)) => (
                header.envs.iter().map(|e| e.name.clone()).collect(),
                Some(header.started),
                Some(end),
                (header.format > FORMAT)
                    .then(|| format!("newer format {} (honban {})", header.format, header.honban)),
            ),
            Err(why) => (Vec::new(), None, None, Some(why)),
        };
        out.push(Listed {
            session,
            path,
            envs,
            start,
            end,
            bytes,
            problem,
        });
    }
    Ok(out)
}

/// A recording's header and last moment, read cheaply (the first line and
/// the last complete one).
fn summary(path: &Path) -> Result<(Header, Timestamp), String> {
    use std::io::{BufRead, Read, Seek, SeekFrom};
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(file);
    let mut first = String::new();
    reader.read_line(&mut first).map_err(|e| e.to_string())?;
    let Ok(Line::Header(header)) = serde_json::from_str::<Line>(first.trim_end()) else {
        return Err("timeline only (no header)".to_string());
    };
    let len = reader.get_ref().metadata().map_or(0, |m| m.len());
    let from = len.saturating_sub(256 * 1024);
    reader
        .seek(SeekFrom::Start(from))
        .map_err(|e| e.to_string())?;
    let mut tail = String::new();
    reader
        .read_to_string(&mut tail)
        .map_err(|e| e.to_string())?;
    #[derive(Deserialize)]
    struct When {
        t: Option<Timestamp>,
        time: Option<Timestamp>,
    }
    let end = tail
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<When>(l).ok())
        .find_map(|w| w.t.or(w.time))
        .unwrap_or(header.started);
    Ok((header, end))
}

/// The recording `SESSION|FILE` names: a file, a session id, or the one
/// session id that starts with it.
pub fn resolve(dir: &Path, target: &str) -> Result<PathBuf, String> {
    let as_path = Path::new(target);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    let exact = dir.join(format!("{target}.jsonl"));
    if exact.is_file() {
        return Ok(exact);
    }
    let listed = list(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let matching: Vec<&Listed> = listed
        .iter()
        .filter(|l| l.session.starts_with(target))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.path.clone()),
        [] => Err(format!(
            "no recording \"{target}\" in {} (`honban replay` lists them)",
            dir.display()
        )),
        many => Err(format!(
            "\"{target}\" names {} recordings: {}",
            many.len(),
            many.iter()
                .map(|l| l.session.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The listing `honban replay` prints.
pub fn list_text(listed: &[Listed], dir: &Path) -> String {
    if listed.is_empty() {
        return format!(
            "no recordings in {} (every console session is recorded there)\n",
            dir.display()
        );
    }
    let envs_of = |l: &Listed| {
        if l.envs.is_empty() {
            "-".to_string()
        } else {
            l.envs.join(",")
        }
    };
    // Columns as wide as their longest value (a drill's session id is long).
    let sw = listed
        .iter()
        .map(|l| l.session.chars().count())
        .max()
        .unwrap_or(0)
        .max("SESSION".len());
    let ew = listed
        .iter()
        .map(|l| envs_of(l).chars().count())
        .max()
        .unwrap_or(0)
        .max("ENVIRONMENTS".len());
    let mut out = format!(
        "{:<sw$} {:<ew$} {:<17} {:>9} {:>9}\n",
        "SESSION", "ENVIRONMENTS", "START (UTC)", "DURATION", "SIZE"
    );
    for l in listed {
        let duration = match (l.start, l.end) {
            (Some(s), Some(e)) => crate::timeline::format_duration(e - s),
            _ => "-".to_string(),
        };
        let start = l.start.map_or_else(
            || "-".to_string(),
            |s| s.format("%Y-%m-%d %H:%M").to_string(),
        );
        let envs = envs_of(l);
        out.push_str(&format!(
            "{:<sw$} {:<ew$} {:<17} {:>9} {:>9}",
            l.session,
            envs,
            start,
            duration,
            size(l.bytes)
        ));
        if let Some(p) = &l.problem {
            out.push_str(&format!("  ({p})"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} recording(s) in {}; `honban replay SESSION` plays one\n",
        listed.len(),
        dir.display()
    ));
    out
}

fn size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.0} kB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// How often the replay clock moves on.
const STEP: Duration = Duration::from_millis(100);
/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(33);

/// Plays `player` on a terminal until the operator quits (or a signal).
pub async fn run<B: ratatui::backend::Backend>(
    mut player: Player,
    terminal: &mut ratatui::Terminal<B>,
    theme: &crate::config::theme::Theme,
    mut signals: Option<crate::app::Signals>,
) -> color_eyre::Result<crate::app::Ended>
where
    B::Error: Send + Sync + 'static,
{
    use crossterm::event::Event as TermEvent;
    let size = terminal.size()?;
    player.dispatch(Action::Resize(size.width, size.height));
    if let Some(text) = player.rec.damage_text() {
        player.notice(&text, true);
    }
    let mut events = crate::app::spawn_input_reader(std::sync::Arc::default());
    let mut step = tokio::time::interval(STEP);
    step.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = tokio::time::Instant::now();
    // Recorded time not yet played (fractions of a second at 1×).
    let mut owed = Duration::ZERO;
    let mut last_draw = tokio::time::Instant::now() - FRAME;
    while !player.state.quit {
        let next_frame = last_draw + FRAME;
        if player.state.dirty && tokio::time::Instant::now() >= next_frame {
            terminal.draw(|frame| crate::ui::draw(frame, &player.state, theme))?;
            player.state.dirty = false;
            last_draw = tokio::time::Instant::now();
            player.dispatch(Action::Drawn);
            continue;
        }
        tokio::select! {
            biased;
            n = async {
                match signals.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            } => return Ok(crate::app::Ended::Signal(n)),
            event = events.recv() => {
                match event {
                    Some(Ok(TermEvent::Key(key))) => player.dispatch(Action::Key(key)),
                    Some(Ok(TermEvent::Paste(text))) => player.dispatch(Action::Paste(text)),
                    Some(Ok(TermEvent::Resize(w, h))) => player.dispatch(Action::Resize(w, h)),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Ok(crate::app::Ended::Quit),
                }
                if player.handle_request() {
                    owed = Duration::ZERO;
                }
            }
            _ = step.tick() => {
                let now = tokio::time::Instant::now();
                let elapsed = now - last;
                last = now;
                let (paused, speed) = player
                    .state
                    .replay
                    .as_ref()
                    .map_or((true, 1), |r| (r.paused, r.speed));
                if !paused {
                    owed += elapsed * speed;
                    let whole = Duration::from_millis(u64::try_from(owed.as_millis()).unwrap_or(u64::MAX));
                    owed = owed.saturating_sub(whole);
                    let delta = TimeDelta::from_std(whole).unwrap_or(TimeDelta::zero());
                    let target = player.now() + delta;
                    player.advance_to(target);
                    if player.now() >= player.rec.end() {
                        if let Some(r) = &mut player.state.replay {
                            r.paused = true;
                        }
                        let key = player
                            .state
            .key_for(crate::config::keys::Command::ReplayPause)
            .unwrap_or_else(|| "replay_pause".to_string());
                        let text = match &player.rec.damage {
                            Some((line, _)) => format!(
                                "the recording breaks at line {line}: replayed up to there ({key} plays it again from the start)"
                            ),
                            None => format!(
                                "the end of the recording ({key} plays it again from the start)"
                            ),
                        };
                        player.notice(&text, false);
                    }
                }
            }
            () = tokio::time::sleep_until(next_frame), if player.state.dirty => {}
        }
    }
    Ok(crate::app::Ended::Quit)
}
